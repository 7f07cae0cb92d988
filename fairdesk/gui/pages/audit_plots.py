"""What the Audit page draws from its result: the result tables (left half, four tabs, each
table built by :mod:`fairdesk.reports.audit_tables` and shown with ``ResultTable``: the
fairness values as balance bars, each measure's explanation on the row below) and the plots
(right half): ROC curves with each group's operating point, a metric against the threshold
with the draggable threshold line, score distributions and calibration by tier.

The curves do not depend on the threshold: they are drawn once per data change and cached
as pixmaps, so a dragged line only moves the line and the markers.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFontMetrics, QPainter
from PySide6.QtWidgets import (QComboBox, QGraphicsItem, QHBoxLayout, QHeaderView, QLabel,
                               QStyle, QStyledItemDelegate, QStyleOptionViewItem, QVBoxLayout,
                               QWidget)

from ...metrics.rates import RATES
from ...present.formats import format_count, format_fixed, format_score, is_missing
from ...reports.audit_tables import (COMPARED_RATES, COUNT_TIPS, DERIVED, FAIR_AT, FOCUS,
                                     GOOD_AT, RATIO_KEYS, SHORT, XAUC_TIP, auc_table,
                                     fairness_table, group_specs, group_table, groups_note,
                                     metric_label, metric_tip, reference_note, reference_table,
                                     xauc_table)
from ...reports.transport_tables import hist_edges
from ..palette import group_color, swatch_icon
from ..plot_parts import ThresholdLine
from ..plots import PlotPanel, decimate, group_pen, label_font, title_font
from ..controls import ElidingCombo, button, check, combo, tabs
from ..table_model import VALUE_ROLE, ResultTable
from .base import note_label

HIST_BINS = 60  # at most
# Balance bar colours (Okabe–Ito): blue, orange, vermillion; the bar length carries the value
# too, so colour is never the only cue.
GOOD, FAIR, POOR = QColor("#0072B2"), QColor("#E69F00"), QColor("#D55E00")
FAIR_WIDTHS = {"measure": 138, "value": 52, "interval": 102, "boot": 100, "balance": 70}


def cached(item: pg.PlotDataItem) -> pg.PlotDataItem:
    """A curve that stays while the threshold line moves: painted once into a pixmap (again
    when the view is zoomed or resized), so that a moving line or marker repaints by copying
    it instead of drawing the curve again."""
    for part in (item.curve, item.scatter):
        part.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    return item


class BalanceDelegate(QStyledItemDelegate):
    """A bar of length value ∈ [0, 1] (1 = balanced) with a tick at the 0.8 rule of thumb,
    drawn instead of the number (which stays in the tooltip and the copy)."""

    def paint(self, painter: QPainter, option, index) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        value = index.data(VALUE_ROLE)
        if is_missing(value) or isinstance(value, str):
            super().paint(painter, option, index)  # "undefined" or blank
            return
        opt.text = ""
        style = opt.widget.style() if opt.widget is not None else None
        if style is not None:
            style.drawControl(QStyle.CE_ItemViewItem, opt, painter, opt.widget)
        v = min(max(float(value), 0.0), 1.0)
        full = option.rect.adjusted(6, 0, -6, 0)
        height = min(14, max(full.height() - 8, 4))
        r = QRectF(full.x(), full.center().y() - height / 2 + 1, full.width(), height)
        painter.save()
        painter.setRenderHint(QPainter.Antialiasing, True)
        painter.setPen(Qt.NoPen)
        painter.setBrush(QColor("#EDEDED"))
        painter.drawRect(r)
        painter.setBrush(GOOD if v >= GOOD_AT else FAIR if v >= FAIR_AT else POOR)
        painter.drawRect(QRectF(r.x(), r.y(), r.width() * v, r.height()))
        painter.setPen(QColor("#404040"))
        x = r.x() + r.width() * GOOD_AT
        painter.drawLine(int(x), int(r.top()) - 3, int(x), int(r.bottom()) + 3)
        painter.restore()


def fill_group_combo(combo: QComboBox, names) -> None:
    """The groups with their colour swatches, keeping the chosen one (silently)."""
    old = combo.currentText()
    combo.blockSignals(True)
    combo.clear()
    for g, name in enumerate(names):
        combo.addItem(swatch_icon(group_color(g)), name)
    i = combo.findText(old)
    combo.setCurrentIndex(i if i >= 0 else 0)
    combo.blockSignals(False)


class FairnessTable(ResultTable):
    """The fairness table as the page draws it: the value as a balance bar, each measure's
    explanation spanning the row below it (so it is not sortable), the pair wrapped."""

    def __init__(self, title: str, tip: str):
        super().__init__(title, tip, sortable=False)
        self.setWordWrap(True)
        self.setTextElideMode(Qt.ElideRight)
        self.setAlternatingRowColors(False)
        self.setShowGrid(False)
        self.horizontalHeader().setMinimumSectionSize(40)
        self._balance = BalanceDelegate(self)
        self._plain = QStyledItemDelegate(self)
        # the wrapped texts take more or fewer lines when a column or the view is resized:
        # measured again once those resizes are over
        self._refit = QTimer(self)
        self._refit.setSingleShot(True)
        self._refit.timeout.connect(self.fit_rows)
        self.horizontalHeader().sectionResized.connect(lambda *_: self._refit.start(0))

    def _fit_columns(self) -> None:  # fixed widths and a stretching pair: nothing to measure
        self.horizontalHeader().setSectionResizeMode(QHeaderView.Interactive)

    def set_table(self, table) -> None:
        super().set_table(table)
        self.clearSpans()
        keys = [c.key for c in table.columns]
        for r, row in enumerate(table.row_dicts()):
            if row["row_kind"] == "meaning":
                self.setSpan(r, 0, 1, len(keys))
        head = self.horizontalHeader()
        for c, key in enumerate(keys):
            self.setItemDelegateForColumn(c, self._balance if key == "balance" else self._plain)
            if key in FAIR_WIDTHS:
                head.setSectionResizeMode(c, QHeaderView.Fixed)
                self.setColumnWidth(c, FAIR_WIDTHS[key])
        head.setSectionResizeMode(keys.index("pair"), QHeaderView.Stretch)
        self._refit.stop()
        self.fit_rows()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._refit.start(0)

    def fit_rows(self) -> None:
        """Value rows fit their text; explanation rows are measured on the full width they
        span (Qt would measure them on the first column only)."""
        if self.table is None:
            return
        width = max(self.viewport().width() - 10, 100)
        fm = QFontMetrics(self.font())
        for r, row in enumerate(self.table.row_dicts()):
            if row["row_kind"] == "meaning":
                rect = fm.boundingRect(0, 0, width, 10_000, int(Qt.TextWordWrap),
                                       self.source.text(r, 0))
                self.setRowHeight(r, rect.height() + 8)
            else:
                self.resizeRowToContents(r)
                if self.rowHeight(r) < 28:
                    self.setRowHeight(r, 28)


class AuditTables:
    """The page's left half: the result tables in four tabs (by group, fairness, vs
    reference, AUC and cross-AUC) with their display options, drawn from the page's result
    with the builders of :mod:`fairdesk.reports.audit_tables`."""

    def __init__(self, refresh, on_all_groups, retry):
        """``refresh()`` when a display option changes, ``on_all_groups(on)`` for the
        toggle, ``retry()`` to compute AUC again after a cancel."""
        self.tabs = tabs()
        self.group_specs: list[tuple[str, str]] = []
        # per group
        v = self._tab("By group", "Rates and confusion counts per group")
        self.group_table = ResultTable("Rates by group", "Rates and confusion counts per group "
                                       "at the selected threshold; hover a title for its "
                                       "definition")
        v.addWidget(self.group_table, 1)
        row = QHBoxLayout()
        v.addLayout(row)
        self.counts_note = note_label()
        row.addWidget(self.counts_note, 1)
        self.ci_show = check("95 % intervals", "Show each rate's 95 % interval: exact binomial "
                             "(Clopper–Pearson) from the counts; FN/FP and FP/FN from the "
                             "bootstrap when it has run", lambda _on: refresh(), checked=True)
        self.orientation = check("Groups as columns", "Show the groups side by side (columns) "
                                 "or one per row", lambda _on: refresh(), checked=True)
        row.addWidget(self.ci_show, 0, Qt.AlignTop)
        row.addWidget(self.orientation, 0, Qt.AlignTop)
        # fairness: value rows with the measure's meaning spanning the row below
        v = self._tab("Fairness", "The nine fairness measures with an explanation each")
        row = QHBoxLayout()
        v.addLayout(row)
        self.fair_groups_note = note_label("")
        row.addWidget(self.fair_groups_note, 1)
        self.all_groups_check = check(
            "Compare all groups", "Off (default): each measure compares only groups with at "
            "least the minimum group size (Data page) and at least 10 people in the denominator "
            "of each rate it uses; the groups left out are named. On: every group whose rate is "
            "defined is compared.", on_all_groups)
        row.addWidget(self.all_groups_check, 0, Qt.AlignTop)
        self.fair_table = FairnessTable(
            "Fairness measures", "The nine fairness definitions, each measured as the smallest "
            "ratio (smaller ÷ larger) between any two groups of the rate(s) it asks to be "
            "equal: 1 = balanced")
        v.addWidget(self.fair_table, 1)
        v.addWidget(note_label(
            "Value = smallest ratio between two groups (1 = equal). Bar: blue ≥ 0.8, orange "
            "0.6–0.8, vermillion < 0.6; the tick marks 0.8, the “four-fifths” rule of thumb "
            "(not a legal test). The definitions conflict: when base rates differ, not all can "
            "be met at once."))
        # reference comparison
        v = self._tab("vs reference", "Difference (group − reference) and ratio (group ÷ "
                                      "reference) of every rate")
        row = QHBoxLayout()
        v.addLayout(row)
        row.addWidget(QLabel("Show"))
        self.ref_show = combo([("differences and ratios", ("diff", "ratio")),
                               ("differences only", ("diff",)), ("ratios only", ("ratio",))],
                              "Which comparisons with the reference group to show",
                              "Comparisons shown")
        self.ref_show.currentIndexChanged.connect(lambda _i: refresh())
        row.addWidget(self.ref_show)
        row.addStretch(1)
        self.ref_table = ResultTable("Compared with the reference group", "Each rate of each "
                                     "group compared with the reference group")
        v.addWidget(self.ref_table, 1)
        self.ref_note = note_label("")
        v.addWidget(self.ref_note)
        # AUC and cross-AUC
        v = self._tab("AUC && cross-AUC", "Ranking quality within and across groups")
        v.addWidget(note_label("<b>AUC per group</b> — how well the score ranks people with the "
                               "outcome above people without it, within each group (0.5 = "
                               "chance, 1 = perfect). It does not depend on the threshold."))
        self.auc_table = ResultTable("AUC per group", COUNT_TIPS["auc"])
        v.addWidget(self.auc_table, 1)
        v.addWidget(note_label("<b>Cross-AUC</b> — rows: group of the people with the outcome; "
                               "columns: group of the people without it; the diagonal (bold) "
                               "is each group's AUC. Hover for details."))
        self.xauc_table = ResultTable("Cross-AUC", XAUC_TIP)
        v.addWidget(self.xauc_table, 1)
        self.ranking_retry = button("Compute AUC and cross-AUC", "The AUC computation was "
                                    "cancelled: run it again", retry)
        self.ranking_retry.hide()
        v.addWidget(self.ranking_retry, 0, Qt.AlignLeft)
        v.addStretch()  # only what the tables, at their full height, leave

    def _tab(self, title: str, tip: str) -> QVBoxLayout:
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(2, 4, 2, 2)
        self.tabs.setTabToolTip(self.tabs.addTab(w, title), tip)
        return v

    def show(self, res, j: int, *, bootstrap, pending, reference: int, people_decimals: int,
             focus: str | None = None, auc_only: bool = False, weighted: bool = False) -> None:
        """The tables of ``res`` at threshold ``j`` (``bootstrap``: mean ± SD shown;
        ``pending``: what AUC cells say while it is not computed; ``focus``: a rate whose
        rows are highlighted)."""
        if not auc_only:
            show_ci = self.ci_show.isChecked()
            self.group_specs = group_specs(show_ci, bootstrap is not None)
            self.group_table.set_table(group_table(
                res, j, across=self.orientation.isChecked(), show_ci=show_ci,
                bootstrap=bootstrap, people_decimals=people_decimals, pending=pending))
            # weighting is mentioned only where there are weights
            self.counts_note.setText(("Counts are people (weighted rows). " if weighted
                                      else "") + "“undefined” means 0/0: hover it to see why. "
                                     "Hover a title for its definition.")
            self.fair_table.set_table(fairness_table(res, j, bootstrap=bootstrap,
                                                     highlight=FOCUS.get(focus)))
            note, tip = groups_note(res, j)
            self.fair_groups_note.setText(note)
            self.fair_groups_note.setToolTip(tip)
            self.ref_table.set_table(reference_table(
                res, j, reference, self.ref_show.currentData() or ("diff", "ratio"),
                highlight=focus if focus in COMPARED_RATES else None))
            self.ref_note.setText(reference_note(res.group_names[reference]))
        self.auc_table.set_table(auc_table(res, bootstrap=bootstrap, pending=pending,
                                           people_decimals=people_decimals))
        self.xauc_table.set_table(xauc_table(res, bootstrap=bootstrap, pending=pending))
        for view in (self.auc_table, self.xauc_table):
            view.fit_height(view.source.rowCount())  # as tall as its rows when there is room

    def focus_row(self, view: ResultTable, focus: str | None) -> int | None:
        """The view row of the focused rate (reference table) or its measure (fairness)."""
        if focus is None or view.table is None:
            return None
        measure = FOCUS.get(focus)
        for r, row in enumerate(view.table.row_dicts()):
            if (view is self.ref_table and row.get("key") == focus) or (
                    view is self.fair_table and row.get("row_kind") == "value"
                    and measure is not None and row.get("measure_key") == measure):
                return view.proxy.mapFromSource(view.source.index(r, 0)).row()
        return None


class AuditPlots:
    """The four plot tabs and what they draw (the page says what and when)."""

    def __init__(self, on_error=None):
        self.tabs = tabs()
        # ROC
        self.roc_panel = PlotPanel("ROC curve by group", "False positive rate",
                                   "True positive rate", name="roc", on_error=on_error)
        self.roc_panel.widget.setToolTip("Each group's ROC curve; the dot is the group's "
                                         "operating point at the current threshold")
        self.roc_panel.plot.setLimits(xMin=-0.05, xMax=1.05, yMin=-0.05, yMax=1.05)
        self.roc_panel.plot.addItem(pg.PlotDataItem(
            [0, 1], [0, 1], pen=pg.mkPen("#888888", width=1, style=Qt.DashLine)))
        self.roc_curves: list[pg.PlotDataItem] = []
        self.roc_points = pg.ScatterPlotItem(size=11, pen=pg.mkPen("w", width=1.5))
        self.roc_points.setZValue(10)
        self.roc_panel.plot.addItem(self.roc_points)
        self.roc_panel.plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.04)
        self.tabs.addTab(self.roc_panel, "ROC")
        self.tabs.setTabToolTip(0, "ROC curves per group with the operating points")

        # metric versus threshold
        self.metric_panel = PlotPanel("FPR versus threshold", "Threshold (score)", "",
                                      name="metric_vs_threshold", on_error=on_error)
        self.metric_combo = QComboBox()
        self.metric_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.metric_combo.setMinimumContentsLength(18)
        for key in tuple(RATES) + tuple(DERIVED):
            self.metric_combo.addItem(metric_label(key), key)
            self.metric_combo.setItemData(self.metric_combo.count() - 1, metric_tip(key),
                                          Qt.ToolTipRole)
        self.metric_combo.setCurrentIndex(self.metric_combo.findData("fpr"))
        self.metric_combo.setToolTip("The metric drawn against the threshold, per group")
        self.metric_panel.add_control(QLabel("Metric"))
        self.metric_panel.add_control(self.metric_combo)
        self.line_group_label = QLabel("Line moves")
        self.line_group_combo = ElidingCombo()
        self.line_group_combo.setSizeAdjustPolicy(
            QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.line_group_combo.setMinimumContentsLength(8)
        self.line_group_combo.setToolTip("The thresholds are group-specific: choose whose "
                                         "threshold the line moves")
        self.metric_panel.add_control(self.line_group_label)
        self.metric_panel.add_control(self.line_group_combo)
        self.line_group_label.hide()  # only for group-specific thresholds
        self.line_group_combo.hide()
        self.metric_panel.widget.setToolTip("Drag the black line to try another threshold: the "
                                            "points and the threshold follow live; on release "
                                            "the tables and the other pages follow")
        self.threshold = ThresholdLine(self.metric_panel.plot, pen=pg.mkPen("k", width=2.5),
                                       parent=self.metric_panel)  # its frame timer: the page's
        self.drag_line = self.threshold.line
        self.score_decimals = 4
        self.drag_label = pg.InfLineLabel(self.drag_line, "", position=0.96, color="k",
                                          fill=pg.mkBrush(255, 255, 255, 220), movable=False)
        self.metric_points = pg.ScatterPlotItem(size=10, pen=pg.mkPen("w", width=1.5))
        self.metric_points.setZValue(25)
        self.metric_panel.plot.addItem(self.metric_points)
        self.metric_static_lines: list[pg.InfiniteLine] = []
        self.metric_curves: list[pg.PlotDataItem] = []
        self.tabs.addTab(self.metric_panel, "Metric vs threshold")
        self.tabs.setTabToolTip(1, "A metric against the threshold per group, with a "
                                   "draggable threshold line")

        # distributions
        self.dist_panel = PlotPanel("Score distribution by group", "Score", "Density",
                                    name="score_distributions", on_error=on_error)
        self.dist_tip = ("Histogram of the scores of each group (weighted, each scaled to area "
                         "1); vertical lines: thresholds")
        self.dist_panel.widget.setToolTip(self.dist_tip)
        self.dist_curves: list[pg.PlotDataItem] = []
        self.dist_lines: list[pg.InfiniteLine] = []
        self.tabs.addTab(self.dist_panel, "Distributions")
        self.tabs.setTabToolTip(2, "Score distributions by group with the threshold(s)")

        # calibration by tier
        self.cal_panel = PlotPanel("Outcome rate by risk tier", "Risk tier",
                                   "Observed outcome rate", name="calibration_by_tier",
                                   on_error=on_error)
        self.cal_panel.widget.setToolTip("Within each tier (between consecutive thresholds), the "
                                         "share of people with the outcome in each group. "
                                         "Calibration within tiers asks these to be equal.")
        self.cal_curves: list[pg.PlotDataItem] = []
        self.tabs.addTab(self.cal_panel, "Calibration")
        self.tabs.setTabToolTip(3, "Observed outcome rate per risk tier and group")
        self.panels = (self.roc_panel, self.metric_panel, self.dist_panel, self.cal_panel)

    # ------------------------------------------------------------------ static (per data)
    def set_data(self, data, scores) -> None:
        """Per data: the line snaps to the scores when they are few, and its label shows as
        many decimals as they have."""
        self.threshold.set_scores(data.score)
        self.score_decimals = data.score_decimals

    def draw_roc(self, data, scores, auc, roc_curve) -> None:
        plot = self.roc_panel.plot
        for item in self.roc_curves:
            plot.removeItem(item)
        self.roc_curves = []
        notes, entries = [], []
        for g, name in enumerate(data.group_names):
            if scores.positives[g] <= 0 or scores.negatives[g] <= 0:
                notes.append(f"{name}: no ROC curve (the group needs people with and without "
                             "the outcome)")
                continue
            fpr, tpr, _thr = roc_curve(scores, g)
            x, y = decimate(fpr, tpr)
            label = (name if auc is None or is_missing(auc[g]) or data.n_groups > 4
                     else f"{name} (AUC {format_fixed(auc[g], 3)})")
            item = cached(pg.PlotDataItem(x, y, pen=group_pen(g), antialias=True))
            plot.addItem(item)
            self.roc_curves.append(item)
            entries.append((label, group_color(g), Qt.SolidLine))
        self.roc_panel.legend.set_entries(entries)
        self.roc_panel.set_note("; ".join(notes))
        plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.04)

    def draw_metric(self, names, grid_x, values, key: str, score_range) -> None:
        plot = self.metric_panel.plot
        for c in self.metric_curves:
            plot.removeItem(c)
        self.metric_curves = []
        for g in range(len(names)):
            curve = cached(pg.PlotDataItem(grid_x, values[g], pen=group_pen(g),
                                           connect="finite", antialias=True))
            plot.addItem(curve)
            self.metric_curves.append(curve)
        self.metric_panel.legend.set_groups(names)
        short = SHORT.get(key, metric_label(key))  # the plot is narrow beside its legend
        plot.setTitle(f"{short} versus threshold", color="k", size=title_font())
        plot.setLabel("left", short, color="k", **{"font-size": label_font()})
        if key in RATIO_KEYS:
            plot.enableAutoRange(axis="y")
        else:
            plot.setYRange(0, 1, padding=0.03)
        plot.setXRange(*score_range, padding=0.02)
        self.metric_combo.setToolTip("The metric drawn against the threshold, per group.\n\n"
                                     + metric_tip(key))

    def draw_distributions(self, data, scores, score_range) -> None:
        plot = self.dist_panel.plot
        for c in self.dist_curves:
            plot.removeItem(c)
        self.dist_curves = []
        lo, hi = score_range
        # fewer bins when a group is small, so its histogram is not mostly noise
        n = scores.n_rows
        smallest = int(max(np.min(n[n > 0]), 1)) if np.any(n > 0) else 1
        bins = int(np.clip(2.5 * smallest ** (1 / 3), 15, HIST_BINS))
        # one bin per score on deciles, whole-width bins on whole-number scores
        edges = hist_edges(data.score, max_bins=bins)
        rows = []
        for g, name in enumerate(data.group_names):
            s, e = scores.start[g], scores.end[g]
            w = scores.sorted_weight[s:e]
            if e <= s or w.sum() <= 0:
                continue
            x = scores.sorted_score[s:e] * data.sign
            dens, _ = np.histogram(x, bins=edges, weights=w, density=True)
            item = cached(pg.PlotDataItem(edges, dens, stepMode="center", pen=group_pen(g, 2)))
            plot.addItem(item)
            self.dist_curves.append(item)
            rows.append(f"{name}: {format_count(n[g])}")
        self.dist_panel.legend.set_groups(data.group_names)  # the rows behind each: tooltip
        self.dist_panel.widget.setToolTip(self.dist_tip + "\nRows: " + "; ".join(rows))
        plot.setXRange(lo, hi, padding=0.02)
        plot.enableAutoRange(axis="y")

    def draw_calibration_axes(self, names) -> None:
        plot = self.cal_panel.plot
        for c in self.cal_curves:
            plot.removeItem(c)
        self.cal_curves = []
        for g in range(len(names)):
            curve = pg.PlotDataItem([], [], pen=group_pen(g), symbol="o", symbolSize=9,
                                    symbolBrush=group_color(g), symbolPen=pg.mkPen("w"),
                                    connect="finite")
            plot.addItem(curve)
            self.cal_curves.append(curve)
        self.cal_panel.legend.set_groups(names)
        plot.setYRange(0, 1, padding=0.03)

    # ------------------------------------------------------------------ dynamic (per frame)
    def update_markers(self, result, j: int, metric_points) -> None:
        """Operating points on the ROC plot, the metric's values at the line, calibration."""
        spots = []
        for g in range(len(result.group_names)):
            for i in range(result.k):
                x, y = result.rates["fpr"][g, i], result.rates["tpr"][g, i]
                if is_missing(x) or is_missing(y):
                    continue
                spots.append({"pos": (float(x), float(y)), "brush": pg.mkBrush(group_color(g)),
                              "size": 13 if i == j else 8, "symbol": "o" if i == j else "s"})
        self.roc_points.setData(spots)
        self.set_metric_points(metric_points)
        rate = result.tier_outcome_rate
        x = np.arange(1, rate.shape[1] + 1, dtype=float)
        for g, curve in enumerate(self.cal_curves):
            curve.setData(x, rate[g])
        ticks = [(i + 1.0, f"S{i + 1}") for i in range(rate.shape[1])]
        if len(ticks) > 1:
            ticks[0] = (1.0, "S1 (lowest)")
            ticks[-1] = (float(len(ticks)), f"S{len(ticks)} (highest)")
        self.cal_panel.plot.getAxis("bottom").setTicks([ticks])
        self.cal_panel.plot.setXRange(0.7, rate.shape[1] + 0.3, padding=0)

    def set_metric_points(self, points) -> None:
        """``points``: (group, x, y) of each group at the line."""
        self.metric_points.setData([{"pos": (float(x), float(y)),
                                     "brush": pg.mkBrush(group_color(g))}
                                    for g, x, y in points if not is_missing(y)])

    def sync_lines(self, t: np.ndarray, j: int, group_specific: bool, line_group: int,
                   score_range) -> None:
        """The threshold line where the live threshold is (silently), the other thresholds
        as dashed lines, every threshold on the distributions (the selected one solid)."""
        lo, hi = score_range
        pad = 0.02 * (hi - lo)
        self.drag_line.setBounds((min(lo, float(np.min(t))) - pad,
                                  max(hi, float(np.max(t))) + pad))
        value = float(t[line_group, j] if group_specific else t[j])
        if self.threshold.value() != value:
            self.threshold.set_value(value)
        self.drag_label.setFormat(format_score(value, self.score_decimals))
        self.drag_line.setPen(pg.mkPen(group_color(line_group) if group_specific
                                       else QColor("black"), width=2.5))
        if group_specific:
            others = [(t[g, i], group_color(g)) for g in range(t.shape[0])
                      for i in range(t.shape[1]) if not (g == line_group and i == j)]
            lines = [(t[g, i], group_color(g), i == j) for g in range(t.shape[0])
                     for i in range(t.shape[1])]
        else:
            others = [(t[i], QColor("#555555")) for i in range(t.shape[0]) if i != j]
            lines = [(t[i], QColor("black"), i == j) for i in range(t.shape[0])]
        self._lines(self.metric_panel.plot, self.metric_static_lines,
                    [(pos, color, False) for pos, color in others], z=12)
        self._lines(self.dist_panel.plot, self.dist_lines, lines, z=15)

    @staticmethod
    def _lines(plot, store: list, specs, z: int) -> None:
        while len(store) > len(specs):
            plot.removeItem(store.pop())
        while len(store) < len(specs):
            line = pg.InfiniteLine(angle=90, movable=False)
            line.setZValue(z)
            plot.addItem(line, ignoreBounds=True)
            store.append(line)
        for line, (pos, color, selected) in zip(store, specs):
            line.setPen(pg.mkPen(color, width=2 if selected else 1.5,
                                 style=Qt.SolidLine if selected else Qt.DashLine))
            line.setValue(float(pos))
