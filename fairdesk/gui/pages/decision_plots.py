"""The Decision page's chart: a fairness measure against accuracy (or against the share of
decisions changed), one labelled point per scenario, the baseline a black star, ± 1 bootstrap
SD as bars. It draws the points of :func:`fairdesk.reports.decision_tables.chart_points`."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QComboBox, QLabel

from ...metrics.fairness import DEFINITIONS, THRESHOLD_DEFINITIONS
from ...reports.decision_tables import X_AXES, chart_points, missing_points
from ..plots import PlotPanel

POINT = "#0072B2"  # Okabe–Ito blue
CHOSEN = "#D55E00"  # the scenario selected in the list


class DecisionChart(PlotPanel):
    """The chart tab: the measure and x axis chosen above the plot."""

    choiceChanged = Signal()

    def __init__(self, on_error=None):
        super().__init__("ERB against accuracy", X_AXES["accuracy"] + " (%)",
                         "ERB (1 = balanced)", name="decision_options", on_error=on_error)
        self.items: list = []
        self.fair_combo = QComboBox()
        self.fair_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.fair_combo.setMinimumContentsLength(22)
        for k in THRESHOLD_DEFINITIONS:
            self.fair_combo.addItem(f"{k} — {DEFINITIONS[k].name}", k)
            self.fair_combo.setItemData(self.fair_combo.count() - 1, DEFINITIONS[k].meaning,
                                        Qt.ToolTipRole)
        self.fair_combo.setToolTip("The fairness measure on the vertical axis (1 = balanced)")
        self.fair_combo.setAccessibleName("Fairness measure on the vertical axis")
        self.x_combo = QComboBox()
        self.x_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.x_combo.setMinimumContentsLength(20)
        for k, label in X_AXES.items():
            self.x_combo.addItem(label, k)
        self.x_combo.setToolTip("The horizontal axis: overall accuracy, or the share of "
                                "decisions that differ from the baseline")
        self.x_combo.setAccessibleName("Horizontal axis")
        for combo in (self.fair_combo, self.x_combo):
            combo.currentIndexChanged.connect(lambda _i: self.choiceChanged.emit())
        self.add_control(QLabel("Fairness"))
        self.add_control(self.fair_combo)
        self.add_control(QLabel("against"))
        self.add_control(self.x_combo)
        self.widget.setToolTip("One point per scenario; the baseline is the black star. Up = "
                               "fairer, right = more accurate (or more decisions changed). "
                               "Bars: ± 1 bootstrap SD.")
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()

    @property
    def key(self) -> str:
        return self.fair_combo.currentData() or "ERB"

    @property
    def x_key(self) -> str:
        return self.x_combo.currentData() or "accuracy"

    def points(self, comp) -> list[dict]:
        return chart_points(comp, self.key, self.x_key)

    def draw(self, comp, selected: str | None = None) -> None:
        """One point per scenario of ``comp``; ``selected`` (a scenario's name) stands out."""
        plot = self.plot
        for item in self.items:
            plot.removeItem(item)
        self.items = []
        key, x_key = self.key, self.x_key
        plot.setTitle(f"{key} against {'accuracy' if x_key == 'accuracy' else 'changed decisions'}",
                      color="k", size="12pt")
        plot.setLabel("bottom", X_AXES[x_key] + " (%)", color="k", **{"font-size": "11pt"})
        plot.setLabel("left", f"{key} (1 = balanced)", color="k", **{"font-size": "11pt"})
        points = self.points(comp)
        missing = missing_points(points)
        good = [p for p in points if p["name"] not in missing]
        if good:
            self._draw_points(good, selected)
        note = []
        if missing:
            note.append(f"Not drawn ({key} or the x value is undefined): " + ", ".join(missing)
                        + ".")
        if good and comp is not None and comp.bootstrap is not None:
            note.append("Bars: ± 1 bootstrap SD.")
        self.set_note(" ".join(note))

    def _add(self, item, **kw) -> None:
        self.plot.addItem(item, **kw)
        self.items.append(item)

    def _draw_points(self, good: list[dict], selected: str | None) -> None:
        xs = np.array([p["x"] for p in good])
        ys = np.array([p["y"] for p in good])
        sx = np.nan_to_num(np.array([p["sx"] for p in good]))
        sy = np.nan_to_num(np.array([p["sy"] for p in good]))
        if np.any(sx > 0) or np.any(sy > 0):
            self._add(pg.ErrorBarItem(x=xs, y=ys, left=sx, right=sx, top=sy, bottom=sy,
                                      beam=0.0, pen=pg.mkPen("#8a8a8a", width=1.2)))
        spots = []
        for p in good:
            if p["baseline"]:
                spots.append({"pos": (p["x"], p["y"]), "symbol": "star", "size": 20,
                              "brush": pg.mkBrush("#000000"), "pen": pg.mkPen("w", width=1)})
            else:
                chosen = p["name"] == selected
                spots.append({"pos": (p["x"], p["y"]), "symbol": "o", "size": 15 if chosen else 12,
                              "brush": pg.mkBrush(POINT),
                              "pen": pg.mkPen(CHOSEN if chosen else "w",
                                              width=2.5 if chosen else 1.2)})
        scatter = pg.ScatterPlotItem(spots=spots)
        scatter.setZValue(10)
        self._add(scatter)
        for p in good:  # each point named beside it (no legend to cover the data)
            label = pg.TextItem(p["name"], color="#000000" if p["baseline"] else "#1a1a1a",
                                anchor=(0, 1.0))
            f = QFont()
            f.setPointSize(10)
            f.setBold(p["baseline"] or p["name"] == selected)
            label.setFont(f)
            label.setPos(p["x"], p["y"])
            label.setZValue(11)
            self._add(label)
        # ranges with room for the labels (to the right and above each point)
        x_lo, x_hi = float(np.min(xs - sx)), float(np.max(xs + sx))
        y_lo, y_hi = float(np.min(ys - sy)), float(np.max(ys + sy))
        xw, yw = max(x_hi - x_lo, 2.0), max(y_hi - y_lo, 0.08)
        self.plot.setXRange(x_lo - 0.08 * xw, x_hi + 0.30 * xw, padding=0)
        y_bottom, y_top = max(0.0, y_lo - 0.12 * yw), y_hi + 0.22 * yw
        self.plot.setYRange(y_bottom, y_top, padding=0)
        if y_bottom <= 0.8 <= y_top:
            line = pg.InfiniteLine(pos=0.8, angle=0,
                                   pen=pg.mkPen("#7a7a7a", width=1, style=Qt.DashLine),
                                   label="0.8 (four-fifths rule of thumb)",
                                   labelOpts={"position": 0.02, "color": "#555555",
                                              "anchors": [(0, 1), (0, 1)]})
            self._add(line, ignoreBounds=True)
