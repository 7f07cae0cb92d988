"""The "Error-rate balance" page's plots: fairness against w and against the share of people
moved (Figure 2), the corrected thresholds against w (Figure 1), the per-subsample
distribution (Figure 3) and the scores by group coloured by corrected tier (Figure 8).

:class:`CorrectionPlots` is the page's plot tab widget; it draws a
:class:`~fairdesk.engines.threshold_correction.CorrectionResult` at the chosen penalty
weights (numbers from :mod:`fairdesk.reports.correction_figures`). Legends are side legends
beside each plot; the w line on the Fairness and Thresholds plots is a
:class:`~fairdesk.gui.plot_parts.ThresholdLine` snapping to the computed weights.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QComboBox, QLabel, QTabWidget

from ...present.formats import format_ratio
from ...reports import correction_figures as cf
from ...reports.correction_tables import w_text
from ..palette import group_color
from ..plot_parts import ThresholdLine, category_ticks
from ..plots import PlotPanel, group_pen

# thresholds (not groups) in Figure 2: Paul Tol's "muted" set, so that no threshold looks
# like a group's colour
THRESHOLD_COLORS = ["#332288", "#CC6677", "#117733", "#882255", "#44AA99", "#999933", "#AA4499",
                    "#DDCC77", "#88CCEE"]
THRESHOLD_STYLES = [Qt.SolidLine, Qt.DashLine, Qt.DashDotLine, Qt.DotLine]
MARKERS = ("o", "s", "x")


def tier_colors(n: int) -> list[QColor]:
    """Lowest to highest risk: viridis from dark purple to green (no pale yellow on white)."""
    cmap = pg.colormap.get("viridis")
    return [cmap.map(0.05 + 0.8 * i / max(n - 1, 1), mode="qcolor") for i in range(n)]


def marker_icon(color, symbol: str, filled: bool = True, size: int = 12) -> QIcon:
    """A legend swatch for a scatter series: a dot, a square or a cross in its colour."""
    pix = QPixmap(22, size)
    pix.fill(Qt.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.Antialiasing)
    color = QColor(color)
    p.setPen(QPen(color, 2))
    p.setBrush(color if filled else Qt.white)
    c, r = QPointF(11, size / 2), size / 2 - 2
    if symbol == "o":
        p.drawEllipse(c, r, r)
    elif symbol == "s":
        p.drawRect(int(11 - r), 2, int(2 * r), int(2 * r))
    else:
        p.drawLine(QPointF(11 - r, 2), QPointF(11 + r, size - 2))
        p.drawLine(QPointF(11 - r, size - 2), QPointF(11 + r, 2))
    p.end()
    return QIcon(pix)


def set_legend(panel: PlotPanel, entries) -> None:
    """``entries``: (name, colour, style) with style a pen style, "bar", or a marker ("o",
    "s" hollow square, "x") drawn as such."""
    panel.legend.set_entries([(n, c, Qt.SolidLine if s in MARKERS else s) for n, c, s in entries])
    for i, (_n, c, s) in enumerate(entries):
        if s in MARKERS:
            panel.legend.item(i).setIcon(marker_icon(c, s, filled=s != "s"))


class CorrectionPlots(QTabWidget):
    """The five plots; ``w_moved(w)`` while the analyst drags a w line (once per frame)."""

    w_moved = Signal(float)

    def __init__(self, on_error=None, parent=None):
        super().__init__(parent)
        self.setDocumentMode(True)
        self.result = None
        self.short: list[str] = []
        self.fair_markers: list = []
        self.trade_markers: list = []
        self._strip = None  # (rows, x, y) of the scores-by-group plot
        self._strip_items = None
        self._strip_post = None
        self._strip_masks = None
        specs = [
            ("fair_panel", "Fairness after correction vs w", "Penalty weight w",
             "Fairness (1 = balanced)", "fairness_vs_w", "Fairness",
             "Fairness against the penalty weight (Figure 2)",
             "Mean fairness over the assessment subsamples after correction, per threshold, with "
             "a ±1 SD band; dotted: before correction. Drag the black line to choose w."),
            ("trade_panel", "Fairness vs people moved", "People moved across it (%)",
             "Fairness (1 = balanced)", "fairness_vs_changed", "Trade-off",
             "Fairness against the share of people moved (Figure 2)",
             "Each point is one w: the share of people whose side of the threshold changes (x) "
             "and the mean fairness (y), with ±1 SD bars. Squares: before correction (no one "
             "moved). Ringed: the chosen w."),
            ("thr_panel", "Corrected thresholds vs w", "Penalty weight w", "Threshold (score)",
             "thresholds_vs_w", "Thresholds", "Corrected thresholds per group against w (Figure 1)",
             "Each group's corrected threshold (averaged over the subsamples) against w; dashed "
             "black: the group-agnostic threshold. Drag the black line to choose w."),
            ("gain_panel", "Per subsample: before and after", "Value (1 = best)", "Subsamples",
             "subsample_gain", "Subsamples", "Distribution over the subsamples (Figure 3)",
             "Histogram over the correction subsamples of what the optimizer saw: the fairness at "
             "the group-agnostic threshold, and 1 − objective at the corrected thresholds "
             "(in-sample; the tables show the out-of-sample assessment)"),
            ("strip_panel", "Scores by corrected tier", "Group", "Score",
             "scores_by_group", "Scores", "Every person's score by group and corrected tier "
             "(Figure 8)", "One dot per person (a random sample when there are many), jittered "
             "sideways within its group; colour: tier after correction. Dashed: the "
             "group-agnostic thresholds; short solid lines: each group's corrected thresholds.")]
        for i, (attr, title, x, y, name, tab, tab_tip, tip) in enumerate(specs):
            panel = PlotPanel(title, x, y, name=name, on_error=on_error)
            panel.widget.setToolTip(tip)
            panel.plot.titleLabel.setMinimumWidth(0)  # a narrow pane clips the title, not the plot
            setattr(self, attr, panel)
            self.addTab(panel, tab)
            self.setTabToolTip(i, tab_tip)
        self.thr_show = QComboBox()
        self.thr_show.setToolTip("Which thresholds to draw")
        self.thr_show.currentIndexChanged.connect(lambda _i: self.draw_thresholds_vs_w())
        self.thr_panel.add_control(QLabel("Show"))
        self.thr_panel.add_control(self.thr_show)
        self.w_lines = []
        for panel in (self.fair_panel, self.thr_panel):
            line = ThresholdLine(panel.plot, label="penalty weight w", parent=self)
            line.label = pg.InfLineLabel(line.line, "", position=0.06, color="k",
                                         fill=pg.mkBrush(255, 255, 255, 220))
            line.moved.connect(self.w_moved)
            line.released.connect(self.w_moved)
            self.w_lines.append(line)

    # ------------------------------------------------------------------ result
    def set_result(self, res, short: list[str]) -> None:
        self.result = res
        self.short = short
        self._strip = None
        for line in self.w_lines:
            line.set_scores(res.weights)
        self.thr_show.blockSignals(True)
        self.thr_show.clear()
        self.thr_show.addItem("All thresholds", -1)
        for t in range(res.k):
            self.thr_show.addItem(f"{t + 1} · {short[t]}", t)
        self.thr_show.blockSignals(False)
        self.draw_static()

    def refresh(self, chosen: dict, t: int, data) -> None:
        """The markers, and the plot of the current tab when it depends on the choice."""
        if self.result is None:
            return
        self.update_markers(chosen)
        if self.currentIndex() == 3:
            t = 0 if self.result.settings.definition == "CAL" else t
            self.draw_gain(t, chosen[t])
        elif self.currentIndex() == 4:
            self.draw_strip(data, chosen)

    def set_w(self, w: float) -> None:
        """Place the w lines (silently)."""
        for line in self.w_lines:
            line.set_value(w)
            line.label.setFormat(f"w = {w_text(w)}")

    def draw_static(self) -> None:
        """What depends only on the result (curves against w); markers follow the choice."""
        res = self.result
        a = res.assessment
        w = res.weights
        cal = res.settings.definition == "CAL"
        ts = [0] if cal else list(range(res.k))
        names = ["Mean CAL over tiers"] if cal else [f"{t + 1} · {self.short[t]}" for t in ts]
        # --- fairness vs w
        p = self.fair_panel.plot
        p.clear()
        self.fair_markers = []
        entries, fair_bad = [], False
        for n, t in enumerate(ts):
            color = QColor(THRESHOLD_COLORS[n % len(THRESHOLD_COLORS)])
            style = THRESHOLD_STYLES[n % len(THRESHOLD_STYLES)]
            m = a["fairness_post_mean"][:, t]
            s = np.nan_to_num(a["fairness_post_sd"][:, t])
            ok = np.isfinite(m)
            lo = pg.PlotCurveItem(w[ok], np.clip(m - s, 0, 1)[ok], pen=pg.mkPen(None))
            hi = pg.PlotCurveItem(w[ok], np.clip(m + s, 0, 1)[ok], pen=pg.mkPen(None))
            band = QColor(color)
            band.setAlpha(45)
            for item in (lo, hi, pg.FillBetweenItem(lo, hi, brush=pg.mkBrush(band))):
                p.addItem(item)
            pen = pg.mkPen(color, width=2.2)
            pen.setStyle(style)
            p.plot(w[ok], m[ok], pen=pen).setZValue(10)
            entries.append((f"{names[n]}: after", color, style))
            bad = cf.degenerate_mask(res, t) & ok
            if bad.any():
                p.plot(w[bad], m[bad], pen=None, symbol="x", symbolSize=9, symbolBrush=pg.mkBrush(color),
                       symbolPen=pg.mkPen(color, width=1.5)).setZValue(11)
                fair_bad = True
            pre = float(a["fairness_pre_mean"][t])
            if math.isfinite(pre):
                p.addItem(pg.InfiniteLine(pre, angle=0, pen=pg.mkPen(color, width=1.4, style=Qt.DotLine)))
            marker = pg.ScatterPlotItem(size=11, brush=pg.mkBrush(color), pen=pg.mkPen("w", width=1.5))
            marker.setZValue(20)
            p.addItem(marker)
            self.fair_markers.append((t, marker))
        entries.append(("before (dotted)", "#555555", Qt.DotLine))
        if fair_bad:
            entries.append(("degenerate (never suggested)", "#555555", "x"))
        set_legend(self.fair_panel, entries)
        p.addItem(self.w_lines[0].line, ignoreBounds=True)
        p.setXRange(float(w.min()), float(w.max()), padding=0.02)
        p.setYRange(0, 1.03, padding=0)
        p.getAxis("left").setTicks([[(v, f"{v:.1f}") for v in np.arange(0, 1.01, 0.2)],
                                    [(v, "") for v in np.arange(0, 1.01, 0.1)]])
        # --- fairness vs share moved
        p = self.trade_panel.plot
        p.clear()
        self.trade_markers = []
        entries, any_bad = [], False
        for n, t in enumerate(ts):
            color = QColor(THRESHOLD_COLORS[n % len(THRESHOLD_COLORS)])
            x = 100 * (a["changed_tiers:mean"] if cal else a["changed_mean"][:, t])
            xs = 100 * (a["changed_tiers:sd"] if cal else a["changed_sd"][:, t])
            y = a["fairness_post_mean"][:, t]
            ys = a["fairness_post_sd"][:, t]
            ok = np.isfinite(x) & np.isfinite(y)
            bad = cf.degenerate_mask(res, t)
            faint = QColor(color)
            faint.setAlpha(70)
            p.addItem(pg.ErrorBarItem(x=x[ok], y=y[ok], height=2 * np.nan_to_num(ys[ok]),
                                      width=2 * np.nan_to_num(xs[ok]), pen=pg.mkPen(faint, width=1)))
            p.plot(x[ok & ~bad], y[ok & ~bad], pen=None, symbol="o", symbolSize=5,
                   symbolBrush=pg.mkBrush(color), symbolPen=pg.mkPen(color))
            entries.append((names[n], color, "o"))
            if np.any(ok & bad):
                p.plot(x[ok & bad], y[ok & bad], pen=None, symbol="x", symbolSize=9,
                       symbolBrush=pg.mkBrush(color), symbolPen=pg.mkPen(color, width=1.5))
                any_bad = True
            pre = float(a["fairness_pre_mean"][t])
            if math.isfinite(pre):
                p.plot([0.0], [pre], pen=None, symbol="s", symbolSize=10, symbolBrush=pg.mkBrush("w"),
                       symbolPen=pg.mkPen(color, width=2))
            marker = pg.ScatterPlotItem(size=16, brush=pg.mkBrush(None), pen=pg.mkPen("k", width=2))
            marker.setZValue(20)
            p.addItem(marker)
            self.trade_markers.append((t, marker))
        entries.append(("before correction", "#555555", "s"))
        if any_bad:
            entries.append(("degenerate (never suggested)", "#555555", "x"))
        set_legend(self.trade_panel, entries)
        p.enableAutoRange()
        self.draw_thresholds_vs_w()
        self.strip_panel.plot.clear()
        self._strip_items = None

    def draw_thresholds_vs_w(self) -> None:
        res = self.result
        if res is None:
            return
        p = self.thr_panel.plot
        p.clear()
        w = res.weights
        post = res.post_thresholds()  # (W, k, G)
        pre = res.pre_thresholds()
        sel = self.thr_show.currentData()
        ts = list(range(res.k)) if sel is None or sel < 0 else [sel]
        for t in ts:
            for g in range(len(res.group_names)):
                p.plot(w, post[:, t, g], pen=group_pen(g, 2.0))
            p.addItem(pg.InfiniteLine(float(pre[t]), angle=0,
                                      pen=pg.mkPen("k", width=1.6, style=Qt.DashLine)))
            label = pg.TextItem(f"{t + 1} · {self.short[t]}", color="k", anchor=(0, 1),
                                fill=pg.mkBrush(255, 255, 255, 200))
            label.setPos(float(w.min()), float(pre[t]))
            p.addItem(label)
        set_legend(self.thr_panel, [(n, group_color(g), Qt.SolidLine)
                                    for g, n in enumerate(res.group_names)]
                   + [("before (every group)", "k", Qt.DashLine)])
        p.addItem(self.w_lines[1].line, ignoreBounds=True)
        p.setXRange(float(w.min()), float(w.max()), padding=0.02)
        shown = np.concatenate([post[:, ts, :].ravel(), pre[ts]])
        shown = shown[np.isfinite(shown)]
        if shown.size:
            lo, hi = float(shown.min()), float(shown.max())
            span = max(hi - lo, 1e-9)
            p.setYRange(lo - 0.04 * span, hi + 0.08 * span, padding=0)

    def update_markers(self, chosen: dict) -> None:
        """The chosen w's points on the fairness and trade-off plots."""
        res = self.result
        a = res.assessment
        cal = res.settings.definition == "CAL"
        for t, marker in self.fair_markers:
            wi = chosen[t]
            marker.setData([float(res.weights[wi])], [float(a["fairness_post_mean"][wi, t])])
        for t, marker in self.trade_markers:
            wi = chosen[t]
            x = a["changed_tiers:mean"][wi] if cal else a["changed_mean"][wi, t]
            marker.setData([100 * float(x)], [float(a["fairness_post_mean"][wi, t])])

    def draw_gain(self, t: int, wi: int) -> None:
        res = self.result
        gain = cf.subsample_gain(res, t, wi)
        p = self.gain_panel.plot
        p.clear()
        pre = gain.pre[np.isfinite(gain.pre)]
        post = gain.post[np.isfinite(gain.post)]
        both = np.concatenate([pre, post])
        if both.size == 0:
            self.gain_panel.legend.set_entries([])
            self.gain_panel.set_note("No defined values to show.")
            return
        lo, hi = float(both.min()), float(both.max())
        if hi - lo < 1e-9:
            lo, hi = lo - 0.01, hi + 0.01
        edges = np.linspace(lo, hi, min(30, max(8, int(np.sqrt(both.size)) * 2)) + 1)
        entries, top = [], 1
        for values, color, name in ((pre, QColor("#7F7F7F"), "before"),
                                    (post, QColor("#D55E00"), "after")):
            counts, _ = np.histogram(values, bins=edges)
            top = max(top, int(counts.max()) if values.size else 1)
            fill = QColor(color)
            fill.setAlpha(90)
            p.plot(edges, counts, stepMode="center", fillLevel=0, brush=pg.mkBrush(fill),
                   pen=pg.mkPen(color, width=2))
            entries.append((f"{name}: mean {format_ratio(values.mean())}", fill, "bar"))
            p.addItem(pg.InfiniteLine(float(values.mean()), angle=90,
                                      pen=pg.mkPen(color, width=1.5, style=Qt.DashLine)))
        self.gain_panel.legend.set_entries(entries)
        p.setXRange(lo, hi, padding=0.03)
        p.setYRange(0, top * 1.1, padding=0)
        if top <= 12:  # whole numbers of subsamples
            p.getAxis("left").setTickSpacing(2 if top > 6 else 1, 1)
        else:
            p.getAxis("left").setTickSpacing()
        g = float(np.nanmean(gain.post - gain.at_phi))
        n_missing = int(gain.pre.size - pre.size)
        note = (f"<b>Threshold {t + 1} ({self.short[t]}), w = {w_text(res.weights[wi])}, "
                f"{gain.pre.size:,} correction subsamples.</b> Grey: {gain.pre_label}; orange: "
                f"{gain.post_label}. " + gain.note + " Mean gain of "
                f"1 − objective over the uncorrected thresholds: {'+' if g > 0 else ''}{format_ratio(g)}.")
        if n_missing:
            note += f" {n_missing} subsample(s) with an undefined value before are left out."
        self.gain_panel.set_note(note)

    def strip_points(self, data):
        """The sampled rows, their jittered x and their scores (computed once per result)."""
        if self._strip is None:
            rows = cf.strip_sample(data.group, data.n_groups)
            self._strip = (rows, data.group[rows] + cf.jitter(rows.size), data.score[rows])
        return self._strip

    def draw_strip(self, data, chosen: dict) -> None:
        res = self.result
        rows, x, y = self.strip_points(data)
        k1 = res.k + 1
        p = self.strip_panel.plot
        if self._strip_items is None:
            p.clear()
            colors = tier_colors(k1)
            self._strip_items, self._strip_masks = [], None
            entries = []
            for j in range(k1):
                item = pg.ScatterPlotItem(size=4, pen=None, brush=pg.mkBrush(colors[j]))
                p.addItem(item)
                self._strip_items.append(item)
                entries.append((f"S{j + 1}" + (" (lowest risk)" if j == 0 else " (highest)"
                                               if j == k1 - 1 else ""), colors[j], "o"))
            for v in res.pre_thresholds():
                line = pg.InfiniteLine(float(v), angle=0,
                                       pen=pg.mkPen("#222222", width=1.6, style=Qt.DashLine))
                line.setZValue(5)
                p.addItem(line)
            self._strip_post = pg.PlotDataItem(pen=pg.mkPen("#D55E00", width=3), connect="pairs")
            self._strip_post.setZValue(10)
            p.addItem(self._strip_post)
            set_legend(self.strip_panel, entries + [("before: every group", "#222222", Qt.DashLine),
                                                    ("after: per group", "#D55E00", Qt.SolidLine)])
            category_ticks(p, data.group_names)  # wrapped and elided: never overlapping
            p.setXRange(-0.6, data.n_groups - 0.4, padding=0)
            lo, hi = (float(np.min(y)), float(np.max(y))) if y.size else (0.0, 1.0)
            span = max(hi - lo, 1e-9)
            p.setYRange(lo - 0.03 * span, hi + 0.05 * span, padding=0)
        tiers = cf.post_tiers(data.subset(rows), res, chosen)
        masks = [tiers == j for j in range(k1)]
        for j, item in enumerate(self._strip_items):  # only the tiers whose people changed
            if self._strip_masks is None or not np.array_equal(masks[j], self._strip_masks[j]):
                item.setData(x[masks[j]], y[masks[j]])
        self._strip_masks = masks
        post = cf.chosen_thresholds(res, chosen)  # (G, k)
        xs = np.repeat(np.arange(post.shape[0]), res.k)
        self._strip_post.setData(np.stack([xs - 0.44, xs + 0.44], axis=1).ravel(),
                                 np.repeat(post.ravel(), 2))
        sample = (f"a random sample of {rows.size:,} of {data.n:,} rows" if rows.size < data.n
                  else f"all {data.n:,} rows")
        ws = sorted({float(res.weights[wi]) for wi in chosen.values()})
        self.strip_panel.set_note(f"Showing {sample}; tiers after correction at w = "
                                  + ", ".join(w_text(w) for w in ws) + ". Dashed: group-agnostic "
                                  "thresholds; vermillion: each group's corrected thresholds.")
