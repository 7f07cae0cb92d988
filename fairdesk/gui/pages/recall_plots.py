"""The Recall balancing page's plots: recall and counts by group per scenario (the paper's
Figures 3 and 4), recall@k and precision@k with a draggable K line. It draws a
:class:`~fairdesk.engines.recall_balance.RecallResult`; the page decides when."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QCheckBox, QTabWidget

from ...present.formats import format_people
from ...reports.recall_report import SHORT
from ..palette import group_color
from ..plot_parts import ThresholdLine
from ..plots import PlotPanel, group_pen

BAND = QColor(255, 214, 102, 70)
TICKS = {"top_k": "Top\nK", "expanded_equal": "Exp.\nequal", "expanded_proportional": "Exp.\nprop.",
         "current_equal": "Cur.\nequal", "current_proportional": "Cur.\nprop."}


class RecallPlots(QTabWidget):
    kReleased = Signal(int)  # the K line was dropped at this list size

    def __init__(self, on_error=None, parent=None):
        super().__init__(parent)
        self.setDocumentMode(True)
        self.result = None
        self._people_text = format_people
        err = on_error
        self.recall_panel = PlotPanel("Recall by group", "", "Recall (%)", name="recall_by_group",
                                      on_error=err)
        self.recall_panel.widget.setToolTip("Recall of each group (bars, in group colours) under "
                                            "each scenario; the shaded scenario is the policy to "
                                            "examine. Recall = share of the group's people with "
                                            "the outcome who are on the list.")
        self.addTab(self.recall_panel, "Recall by group")
        self.counts_panel = PlotPanel("People on the list by group", "", "People",
                                      name="counts_by_group", on_error=err)
        self.counts_panel.widget.setToolTip("How many people of each group are on each "
                                            "scenario's list; the shaded scenario is the policy "
                                            "to examine")
        self.addTab(self.counts_panel, "Counts by group")

        self.log_check = QCheckBox("Log scale")
        self.log_check.setToolTip("A logarithmic k axis shows small lists (K much smaller than "
                                  "the number of people) in detail")
        self.log_check.toggled.connect(lambda _on: self.draw_curves())
        self.at_k_panel = PlotPanel("Recall@k by group", "k: people on the plain top list",
                                    "Recall (%)", name="recall_at_k", on_error=err)
        self.at_k_panel.widget.setToolTip("Recall of each group in the plain top-k list as k "
                                          "grows; the black line marks K. Drag it to try "
                                          "another K.")
        self.at_k_panel.add_control(self.log_check)
        self.addTab(self.at_k_panel, "Recall@k")
        self.prec_panel = PlotPanel("Precision@k by group", "k: people on the plain top list",
                                    "Precision (%)", name="precision_at_k", on_error=err)
        self.prec_panel.widget.setToolTip("Precision of each group's part of the plain top-k "
                                          "list as k grows (dashed: all groups); the black line "
                                          "marks K. Drag it to try another K.")
        self.addTab(self.prec_panel, "Precision@k")
        self.setTabToolTip(0, "The paper's Figure 3: recall by group per scenario")
        self.setTabToolTip(1, "The paper's Figure 4: counts by group per scenario")
        self.setTabToolTip(2, "Recall of each group as the plain top list grows")
        self.setTabToolTip(3, "Precision of each group as the plain top list grows")
        self.k_lines = []
        for panel, where in ((self.at_k_panel, 0.55), (self.prec_panel, 0.06)):
            line = ThresholdLine(panel.plot, "list size K", parent=self)
            line.line.label = pg.InfLineLabel(line.line, "K", position=where, color="k",
                                              fill=pg.mkBrush(255, 255, 255, 220))
            line.moved.connect(lambda _v, l=line: self._k_line_moved(l))
            line.released.connect(lambda _v, l=line: self._k_line_released(l))
            self.k_lines.append(line)


    def _bar_chart(self, panel: PlotPanel, values: np.ndarray, percent: bool) -> None:
        res = self.result
        plot = panel.plot
        plot.clear()
        keys = res.keys
        S, G = len(keys), len(res.group_names)
        width = 0.84 / max(G, 1)
        top = 0.0
        for g in range(G):
            x = np.arange(S) + (g - (G - 1) / 2) * width
            h = values[:, g] * (100 if percent else 1)
            ok = np.isfinite(h)
            color = group_color(g)
            plot.addItem(pg.BarGraphItem(x=x[ok], height=h[ok], width=width * 0.9,
                                         brush=pg.mkBrush(color), pen=pg.mkPen(color.darker(130))))
            if ok.any():
                top = max(top, float(h[ok].max()))
        panel.legend.set_entries([(n, group_color(g), "bar") for g, n in enumerate(res.group_names)])
        ymax = (100.0 if percent and top > 60 else max(top, 1e-9)) * 1.08  # the axis fits the data
        band = pg.BarGraphItem(x=[0], height=[ymax], width=0.96, brush=pg.mkBrush(BAND),
                               pen=pg.mkPen(None))
        band.setZValue(-10)
        plot.addItem(band)
        panel._band = band
        ax = plot.getAxis("bottom")
        ax.setTicks([[(i, TICKS.get(k, SHORT[k])) for i, k in enumerate(keys)]])  # never overlap
        ax.setHeight(44)
        plot.setXRange(-0.6, S - 0.4, padding=0)
        plot.setYRange(0, ymax, padding=0)
        missing = [res.group_names[g] for g in range(G) if not np.all(np.isfinite(values[:, g]))]
        panel.set_note("No bar for " + ", ".join(missing) + ": recall is undefined there (no one "
                       "with the outcome)." if missing and percent else "")

    def draw_bars(self, res) -> None:
        self.result = res
        keys = res.keys
        self._bar_chart(self.recall_panel, np.array([res.scenarios[k].recall for k in keys]), True)
        self._bar_chart(self.counts_panel, np.array([res.scenarios[k].people for k in keys]), False)

    def draw_band(self, i: int) -> None:
        for panel in (self.recall_panel, self.counts_panel):
            band = getattr(panel, "_band", None)
            if band is not None:
                band.setOpts(x=[i])

    def draw_curves(self, res=None, people_text=None) -> None:
        if res is not None:
            self.result = res
        if people_text is not None:
            self._people_text = people_text
        res = self.result
        if res is None:
            return
        c = res.curves
        ok = c["size"] > 0
        x = c["size"][ok]
        log = self.log_check.isChecked()
        for panel, key in ((self.at_k_panel, "recall"), (self.prec_panel, "precision")):
            plot = panel.plot
            for line in self.k_lines:  # kept across redraws: taken off before clearing
                if line.line.scene() is not None and line.line in plot.items:
                    plot.removeItem(line.line)
            plot.clear()
            plot.setLogMode(x=log, y=False)
            entries = []
            for g, name in enumerate(res.group_names):
                y = c[key][g][ok] * 100
                if not np.any(np.isfinite(y)):
                    continue
                plot.addItem(pg.PlotDataItem(x, y, pen=group_pen(g), connect="finite",
                                             antialias=True))
                entries.append((name, group_color(g), Qt.SolidLine))
            if key == "precision":
                plot.addItem(pg.PlotDataItem(x, c["precision_all"][ok] * 100,
                                             pen=pg.mkPen("#333333", width=2, style=Qt.DashLine),
                                             antialias=True))
                entries.append(("All groups", QColor("#333333"), Qt.DashLine))
            panel.legend.set_entries(entries)
            plot.setYRange(0, 100, padding=0.03)
            lo, hi = float(x.min()) if x.size else 1.0, float(x.max()) if x.size else 1.0
            if log:
                plot.setXRange(math.log10(max(lo, 1e-9)), math.log10(max(hi, 1e-9)), padding=0.02)
            else:
                plot.setXRange(0, hi, padding=0.02)
        for panel, line in zip((self.at_k_panel, self.prec_panel), self.k_lines):
            panel.plot.addItem(line.line, ignoreBounds=True)
        self._place_k_lines()

    def _place_k_lines(self) -> None:
        res = self.result
        if res is None:
            return
        k = max(res.k, 1e-9)
        log = self.log_check.isChecked()
        for line in self.k_lines:
            line.set_value(math.log10(k) if log else k)
            line.line.label.setFormat(f"K = {self._people_text(res.k)}")
            line.line.setMovable(res.mode == "k")

    def _k_from_line(self, line) -> float:
        v = line.value()
        return 10 ** v if self.log_check.isChecked() else v

    def _k_line_moved(self, line) -> None:
        k = max(1, int(round(self._k_from_line(line))))
        for other in self.k_lines:
            if other is not line:
                other.set_value(line.value())
            other.line.label.setFormat(f"K = {k:,}")

    def _k_line_released(self, line) -> None:
        self.kReleased.emit(max(1, int(round(self._k_from_line(line)))))

