"""The Audit page: how the current thresholds treat each group, in tables and plots.

Tables (left): rates and confusion counts per group, the nine fairness measures with a
balance bar, differences and ratios to a reference group, AUC and cross-AUC. Plots (right):
ROC curves with each group's operating point, a metric against the threshold with a
draggable threshold line, score distributions and calibration by tier. A bootstrap adds
mean ± SD to the tables.

Everything that depends on the threshold is O(G·k·log n) thanks to the prepared
``state.scores`` (sorted scores and cumulative weights), so dragging the threshold line
updates the tables live; ranking measures (AUC, cross-AUC, ROC curves), the
metric-versus-threshold curves and the histograms do not depend on the threshold and are
computed once per data change.
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (QBrush, QColor, QFont, QFontMetrics, QIcon, QKeySequence, QPainter,
                           QPixmap)
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QGraphicsItem, QGridLayout,
                               QGroupBox,
                               QHBoxLayout, QHeaderView, QLabel, QPushButton, QSpinBox,
                               QSplitter, QStyledItemDelegate, QTableWidget,
                               QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget)

from ...audit import AuditResult, run_audit
from ...bootstrap import BootstrapResult, bootstrap_audit
from ...errors import FairDeskError
from ...metrics.fairness import DEFINITIONS, Reliability, reference_comparison
from ...metrics.intervals import PROPORTIONS, format_interval
from ...metrics.rates import RATES, compute_rates, undefined_reason
from ...metrics.ranking import group_auc, overall_auc, roc_curve, xauc_matrix
from ..palette import group_color
from ..plots import PlotPanel, add_legend, decimate, group_pen
from .base import Page, note_label, readonly_table

log = logging.getLogger("fairdesk.gui.audit")

GRID_POINTS = 400  # thresholds in the metric-versus-threshold curves
def cached(item: pg.PlotDataItem) -> pg.PlotDataItem:
    """A curve that stays while the threshold line moves: painted once into a pixmap (again
    when the view is zoomed or resized), so that a moving line or marker repaints by copying
    it instead of drawing the curve again."""
    for part in (item.curve, item.scatter):
        part.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    return item


DRAG_FRAME_MS = 16  # coalesce a dragged line's moves to one update per (60 Hz) frame
HIST_BINS = 60  # at most
SYNC_RANKING_ROWS = 300_000  # above this, AUC and cross-AUC are computed in the worker
UNDEFINED = "undefined"
GREY = QColor("#7F7F7F")
# Roles are reset with explicit brushes, never setData(role, None): PySide6 6.12.0 on Python
# 3.11 lost a reference to None on each such call (see tests/test_qt_runtime.py).
TEXT_BRUSH = QBrush(QColor("#000000"))
NO_BRUSH = QBrush()
HIGHLIGHT = QColor("#FFF1C1")
# Balance bar colours (Okabe–Ito): blue, orange, vermillion; the bar length carries the value
# too, so colour is never the only cue.
GOOD, FAIR, POOR = QColor("#0072B2"), QColor("#E69F00"), QColor("#D55E00")
GOOD_AT, FAIR_AT = 0.8, 0.6

# Two derived metrics: errors as a share of the whole group ("Which fairness measure?").
DERIVED = {
    "fp_group_size": ("FP / group size", "FP / (TP + FP + FN + TN)",
                      "False positives as a share of the whole group: how many of the group's "
                      "members are flagged without having the outcome."),
    "fn_group_size": ("FN / group size", "FN / (TP + FP + FN + TN)",
                      "False negatives as a share of the whole group: how many of the group's "
                      "members have the outcome but are not flagged."),
}
SHORT = {"selection_rate": "Selection rate", "prevalence": "Prevalence", "tpr": "TPR",
         "fnr": "FNR", "fpr": "FPR", "tnr": "TNR", "ppv": "PPV", "fdr": "FDR", "npv": "NPV",
         "for": "FOR", "accuracy": "Accuracy", "fn_fp": "FN/FP", "cost_ratio": "FP/FN",
         "fp_group_size": "FP / group size", "fn_group_size": "FN / group size"}
# rate key -> (fairness definition it is compared by, or None)
FOCUS = {"fpr": "PE", "fnr": "EO", "fdr": "PP", "for": "CUAE", "fp_group_size": None,
         "fn_group_size": None}
COMPARED_RATES = ("selection_rate", "prevalence", "tpr", "fnr", "fpr", "tnr", "ppv", "fdr", "npv",
                  "for", "accuracy", "fn_fp", "cost_ratio", "fp_group_size", "fn_group_size")
RATIO_KEYS = ("fn_fp", "cost_ratio")

GROUP_TABLE_KEYS = ("rows", "weight", "positives", "prevalence", "selection_rate", "tp", "fp",
                    "fn", "tn", "tpr", "fnr", "fpr", "tnr", "ppv", "fdr", "npv", "for",
                    "accuracy", "fn_fp", "cost_ratio", "auc")
COUNT_LABELS = {"rows": "Rows", "weight": "Weight", "positives": "Positives", "tp": "TP",
                "fp": "FP", "fn": "FN", "tn": "TN", "auc": "AUC"}
COUNT_TIPS = {
    "rows": "Rows: the number of rows (people) of the group used in the analysis.",
    "weight": "Weight: the sum of the frequency weights (people counted). Equals the rows when "
              "the data are unweighted. All counts below are weighted.",
    "positives": "Positives: the weighted number of people with the positive outcome.",
    "tp": "TP, true positives: flagged (at or above the threshold) and had the outcome.",
    "fp": "FP, false positives: flagged but did not have the outcome.",
    "fn": "FN, false negatives: not flagged but had the outcome.",
    "tn": "TN, true negatives: not flagged and did not have the outcome.",
    "auc": "AUC, area under the ROC curve within the group: the chance that a random person "
           "with the outcome scores higher than a random person without it (ties count half). "
           "It does not depend on the threshold.",
}


def metric_label(key: str) -> str:
    return DERIVED[key][0] if key in DERIVED else RATES[key].name


def metric_tip(key: str) -> str:
    if key in DERIVED:
        name, formula, definition = DERIVED[key]
    elif key in RATES:
        info = RATES[key]
        name, formula, definition = info.name, info.formula, info.definition
    else:
        return COUNT_TIPS.get(key, key)
    return f"<b>{name}</b><br>{definition}<br>Formula: {formula}"


def _nan(x) -> bool:
    try:
        return x is None or math.isnan(float(x))
    except (TypeError, ValueError):
        return True


def fmt_rate(x: float) -> str:
    return f"{x:.3f}"


def fmt_ratio(x: float) -> str:
    return f"{x:,.2f}" if abs(x) >= 10 else f"{x:.3f}"


def fmt_diff(x: float) -> str:
    return f"{x:+.3f}"


def color_icon(color: QColor, size: int = 12) -> QIcon:
    pm = QPixmap(size, size)
    pm.fill(color)
    return QIcon(pm)


def compute_ranking(data, scores, *, job=None):
    """AUC per group, the cross-AUC matrix and the overall AUC (worker function)."""
    if job is not None:
        job.progress(0.05, "AUC per group")
    auc = group_auc(scores)
    if job is not None:
        job.progress(0.3, "Cross-AUC between groups")
    xm = xauc_matrix(scores)
    if job is not None:
        job.progress(0.6, "Overall AUC")
    overall = overall_auc(data.oriented, data.label, data.weight)
    return auc, xm, overall


class BalanceDelegate(QStyledItemDelegate):
    """A bar of length value ∈ [0, 1] (1 = balanced) with a tick at the 0.8 rule of thumb."""

    def paint(self, painter: QPainter, option, index) -> None:
        super().paint(painter, option, index)
        value = index.data(Qt.UserRole)
        if _nan(value):
            return
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


class AuditPage(Page):
    split_fraction = 0.56
    dragUpdated = Signal()  # a dragged line's markers were redrawn (tests wait for it)
    key = "audit"
    title = "Audit"

    def __init__(self, state, worker, parent=None):
        super().__init__(state, worker, parent)
        self.result: AuditResult | None = None
        self.bootstrap: BootstrapResult | None = None
        self._boot_meta = None  # (data, thresholds, group_specific) the bootstrap was run at
        self._boot_pending = None
        self._boot_job = None
        self._ranking = None  # (data, auc, xauc, auc_overall)
        self._ranking_pending = None
        self._ranking_job = None
        self._live: np.ndarray | None = None  # thresholds shown (user units), moved by dragging
        self._grid_x = None
        self._grid_rates: dict[str, np.ndarray] = {}
        self._int_counts = True
        self._syncing = False
        self._group_cols: list[tuple[str, str]] = []
        self._fair_rows: list[tuple[str, int]] = []  # (measure, tier) of each value row
        self._fair_table_row: list[int] = []  # its row in the table
        self._fair_meaning_row: dict[int, int] = {}  # value row -> row of its explanation
        self._ref_cols: list[tuple[int, str]] = []
        self._built_for = None
        self._highlight: dict[QTableWidget, int] = {}
        # while the line is dragged, one update per screen frame however many move events
        # arrive: the newest position wins, the ones in between are never computed
        self._drag_timer = QTimer(self)
        self._drag_timer.setSingleShot(True)
        self._last_drag_frame = 0.0
        self._drag_timer.timeout.connect(self._drag_frame)
        self._build_ui()
        state.dataChanged.connect(self._on_data_changed)
        state.thresholdsChanged.connect(self._on_thresholds_changed)
        self._on_data_changed()

    def toolTip(self) -> str:  # the navigation entry's tooltip
        return ("Audit the current thresholds: rates and errors per group, the nine fairness "
                "measures, AUC and cross-AUC, plots, and bootstrap uncertainty")

    # ------------------------------------------------------------------------------ UI
    def _build_ui(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        lay = self.add_empty_stack(outer, "Open a data file and map its columns (score, outcome, group) to "
                            "see the audit.")
        top = QHBoxLayout()
        top.setSpacing(6)
        lay.addLayout(top)

        # threshold
        thr_box = QGroupBox("Threshold")
        thr_box.setToolTip("The decision rule being audited. Change it on the Tiers page, or "
                           "drag the line in the “Metric vs threshold” plot.")
        tl = QHBoxLayout(thr_box)
        tl.setContentsMargins(6, 2, 6, 4)
        self.thr_combo = QComboBox()
        self.thr_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.thr_combo.setMinimumContentsLength(10)
        self.thr_combo.setToolTip("Several thresholds define tiers: choose which threshold's "
                                  "flag/no-flag confusion the tables show and the line moves")
        self.thr_combo.currentIndexChanged.connect(self._on_threshold_index)
        self.thr_label = QLabel()
        self.thr_label.setMinimumWidth(170)
        tl.addWidget(self.thr_combo)
        tl.addWidget(self.thr_label, 1)
        top.addWidget(thr_box, 2)

        # reference group
        ref_box = QGroupBox("Reference group")
        ref_box.setToolTip("Differences and ratios in the “vs reference” table compare every "
                           "group with this one")
        rl = QHBoxLayout(ref_box)
        rl.setContentsMargins(6, 2, 6, 4)
        self.ref_combo = QComboBox()
        self.ref_combo.setToolTip("The group the others are compared with (difference = group − "
                                  "reference, ratio = group ÷ reference)")
        self.ref_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.ref_combo.setMinimumContentsLength(15)
        self.ref_combo.currentIndexChanged.connect(self._on_reference_changed)
        rl.addWidget(self.ref_combo)
        top.addWidget(ref_box, 1)

        # bootstrap
        boot = QGroupBox("Bootstrap uncertainty")
        boot.setToolTip("Resample the rows with replacement B times and report the mean ± "
                        "standard deviation of every measure")
        bl = QGridLayout(boot)
        bl.setContentsMargins(6, 2, 6, 4)
        bl.setHorizontalSpacing(6)
        bl.setVerticalSpacing(2)
        self.boot_b = QSpinBox()
        self.boot_b.setRange(2, 100_000)
        self.boot_b.setValue(200)
        self.boot_b.setSingleStep(100)
        self.boot_b.setGroupSeparatorShown(True)
        self.boot_b.setToolTip("Number of bootstrap resamples B (200 is usually enough for a "
                               "standard deviation; more takes longer)")
        self.boot_seed = QSpinBox()
        self.boot_seed.setRange(0, 2_147_483_647)
        self.boot_seed.setValue(self.state.seed("bootstrap"))
        self.boot_seed.setToolTip("Random seed: the same seed, data and thresholds give the same "
                                  "results. It is saved in the project and the workbook.")
        self.boot_run = QPushButton("Run bootstrap")
        self.boot_run.setShortcut(QKeySequence("Ctrl+B"))
        self.boot_run.setToolTip("Run the bootstrap at the current thresholds (Ctrl+B). Progress "
                                 "and Cancel are in the status bar.")
        self.boot_run.clicked.connect(self.run_bootstrap)
        self.boot_show = QCheckBox("Show mean ± SD")
        self.boot_show.setToolTip("Show the bootstrap mean ± standard deviation next to each value")
        self.boot_show.setEnabled(False)
        self.boot_show.toggled.connect(lambda _on: self._refresh_dynamic(rebuild=True))
        self.boot_note = QLabel("Not run yet.")
        self.boot_note.setStyleSheet("color: #404040;")
        self.boot_note.setWordWrap(True)
        bl.addWidget(QLabel("Resamples"), 0, 0)
        bl.addWidget(self.boot_b, 0, 1)
        bl.addWidget(QLabel("Seed"), 0, 2)
        bl.addWidget(self.boot_seed, 0, 3)
        bl.addWidget(self.boot_run, 0, 4)
        bl.addWidget(self.boot_show, 0, 5)
        bl.addWidget(self.boot_note, 1, 0, 1, 6)
        top.addWidget(boot, 4)

        self.splitter = QSplitter(Qt.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        lay.addWidget(self.splitter, 1)
        self.table_tabs = QTabWidget()
        self.table_tabs.setDocumentMode(True)
        self.scenario_button = QPushButton("Add as scenario…")
        self.scenario_button.setToolTip("Add the thresholds in force to the Decision table as a "
                                        "scenario, to compare with other options")
        self.scenario_button.clicked.connect(self.add_as_scenario)
        self.table_tabs.setCornerWidget(self.scenario_button, Qt.TopRightCorner)
        self.plot_tabs = QTabWidget()
        self.plot_tabs.setDocumentMode(True)
        self.splitter.addWidget(self.table_tabs)
        self.splitter.addWidget(self.plot_tabs)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self._split_done = False
        self._build_tables()
        self._build_plots()

    def _table(self, tip: str) -> QTableWidget:
        return readonly_table(tip)

    @staticmethod
    def _note(text: str) -> QLabel:
        return note_label(text)

    def _build_tables(self) -> None:
        # per group
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(2, 4, 2, 2)
        self.group_table = self._table("Rates and confusion counts per group at the selected "
                                       "threshold; hover a title for its definition")
        v.addWidget(self.group_table, 1)
        row = QHBoxLayout()
        row.addWidget(self._note("Counts are weighted. “undefined” means 0/0: hover it to see "
                                 "why. Hover a title for its definition."), 1)
        self.orientation = QCheckBox("Groups as columns")
        self.orientation.setChecked(True)
        self.orientation.setToolTip("Show the groups side by side (columns) or one per row")
        self.orientation.toggled.connect(lambda _on: self._refresh_dynamic(rebuild=True))
        self.ci_show = QCheckBox("95 % intervals")
        self.ci_show.setChecked(True)
        self.ci_show.setToolTip("Show each rate's 95 % interval: exact binomial (Clopper–Pearson) "
                                "from the counts; FN/FP and FP/FN from the bootstrap when it has run")
        self.ci_show.toggled.connect(lambda _on: self._refresh_dynamic(rebuild=True))
        row.addWidget(self.ci_show, 0, Qt.AlignTop)
        row.addWidget(self.orientation, 0, Qt.AlignTop)
        v.addLayout(row)
        self.table_tabs.addTab(w, "By group")
        self.table_tabs.setTabToolTip(0, "Rates and confusion counts per group")

        # fairness
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(2, 4, 2, 2)
        self.fair_table = self._table("The nine fairness definitions, each measured as the "
                                      "smallest ratio (smaller ÷ larger) between any two groups "
                                      "of the rate(s) it asks to be equal: 1 = balanced")
        self.fair_table.setWordWrap(True)
        self.fair_table.horizontalHeader().setMinimumSectionSize(40)
        self.fair_table.horizontalHeader().sectionResized.connect(
            lambda *_: self._fit_fair_rows())
        self._balance_delegate = BalanceDelegate(self.fair_table)
        self._plain_delegate = QStyledItemDelegate(self.fair_table)
        self.fair_table.setAlternatingRowColors(False)
        self.fair_table.setShowGrid(False)
        row = QHBoxLayout()
        self.fair_groups_note = self._note("")
        row.addWidget(self.fair_groups_note, 1)
        self.all_groups_check = QCheckBox("Compare all groups")
        self.all_groups_check.setToolTip(
            "Off (default): each measure compares only groups with at least the minimum group size "
            "(Data page) and at least 10 people in the denominator of each rate it uses; the groups "
            "left out are named. On: every group whose rate is defined is compared.")
        self.all_groups_check.toggled.connect(self._on_all_groups)
        row.addWidget(self.all_groups_check, 0, Qt.AlignTop)
        v.addLayout(row)
        v.addWidget(self.fair_table, 1)
        v.addWidget(self._note(
            "Value = smallest ratio between two groups (1 = equal). Bar: blue ≥ 0.8, orange "
            "0.6–0.8, vermillion < 0.6; the tick marks 0.8, the “four-fifths” rule of thumb "
            "(not a legal test). The definitions conflict: when base rates differ, not all can "
            "be met at once."))
        self.table_tabs.addTab(w, "Fairness")
        self.table_tabs.setTabToolTip(1, "The nine fairness measures with an explanation each")

        # reference comparison
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(2, 4, 2, 2)
        self.ref_table = self._table("Each rate of each group compared with the reference group")
        row = QHBoxLayout()
        row.addWidget(QLabel("Show"))
        self.ref_show = QComboBox()
        self.ref_show.addItem("differences and ratios", ("diff", "ratio"))
        self.ref_show.addItem("differences only", ("diff",))
        self.ref_show.addItem("ratios only", ("ratio",))
        self.ref_show.setToolTip("Which comparisons with the reference group to show")
        self.ref_show.currentIndexChanged.connect(lambda _i: self._refresh_dynamic(rebuild=True))
        row.addWidget(self.ref_show)
        row.addStretch(1)
        v.addLayout(row)
        v.addWidget(self.ref_table, 1)
        self.ref_note = self._note("")
        v.addWidget(self.ref_note)
        self.table_tabs.addTab(w, "vs reference")
        self.table_tabs.setTabToolTip(2, "Difference (group − reference) and ratio (group ÷ "
                                         "reference) of every rate")

        # AUC and cross-AUC
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(2, 4, 2, 2)
        v.addWidget(self._note("<b>AUC per group</b> — how well the score ranks people with the "
                               "outcome above people without it, within each group (0.5 = "
                               "chance, 1 = perfect). It does not depend on the threshold."))
        self.auc_table = self._table(COUNT_TIPS["auc"])
        v.addWidget(self.auc_table)
        xauc_tip = ("Cross-AUC (xAUC, Kallus & Zhou 2019): the chance that a random person WITH "
                    "the outcome from the row's group scores higher than a random person WITHOUT "
                    "it from the column's group (ties count half). The diagonal is each group's "
                    "AUC. If xAUC(A, B) is much lower than xAUC(B, A), people of group A with the "
                    "outcome tend to be ranked below people of group B without it.")
        v.addWidget(self._note("<b>Cross-AUC</b> — rows: group of the people with the outcome; "
                               "columns: group of the people without it. Hover for details."))
        self.xauc_table = self._table(xauc_tip)
        v.addWidget(self.xauc_table)
        self.ranking_retry = QPushButton("Compute AUC and cross-AUC")
        self.ranking_retry.setToolTip("The AUC computation was cancelled: run it again")
        self.ranking_retry.clicked.connect(lambda: self._start_ranking(force_async=True))
        self.ranking_retry.hide()
        v.addWidget(self.ranking_retry, 0, Qt.AlignLeft)
        v.addStretch(1)
        self.table_tabs.addTab(w, "AUC && cross-AUC")
        self.table_tabs.setTabToolTip(3, "Ranking quality within and across groups")

    def _build_plots(self) -> None:
        err = self._show_error
        # ROC
        self.roc_panel = PlotPanel("ROC curve by group", "False positive rate",
                                   "True positive rate", name="roc", on_error=err)
        self.roc_panel.widget.setToolTip("Each group's ROC curve; the dot is the group's "
                                         "operating point at the current threshold")
        self.roc_panel.plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.04)
        self.roc_panel.plot.setLimits(xMin=-0.05, xMax=1.05, yMin=-0.05, yMax=1.05)
        self.roc_legend = add_legend(self.roc_panel.plot, offset=(-10, -10))
        self.plot_tabs.addTab(self.roc_panel, "ROC")
        self.plot_tabs.setTabToolTip(0, "ROC curves per group with the operating points")

        # metric versus threshold
        self.metric_panel = PlotPanel("FPR versus threshold", "Threshold (score)", "",
                                      name="metric_vs_threshold", on_error=err)
        self.metric_combo = QComboBox()
        self.metric_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.metric_combo.setMinimumContentsLength(18)
        for key in tuple(RATES) + tuple(DERIVED):
            self.metric_combo.addItem(metric_label(key), key)
            self.metric_combo.setItemData(self.metric_combo.count() - 1,
                                          metric_tip(key).replace("<br>", "\n")
                                          .replace("<b>", "").replace("</b>", ""),
                                          Qt.ToolTipRole)
        self.metric_combo.setCurrentIndex(self.metric_combo.findData("fpr"))
        self.metric_combo.setToolTip("The metric drawn against the threshold, per group")
        self.metric_combo.currentIndexChanged.connect(lambda _i: self._draw_metric_curves())
        self.metric_panel.add_control(QLabel("Metric"))
        self.metric_panel.add_control(self.metric_combo)
        self.line_group_label = QLabel("Line moves")
        self.line_group_combo = QComboBox()
        self.line_group_combo.setSizeAdjustPolicy(
            QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.line_group_combo.setMinimumContentsLength(8)
        self.line_group_combo.setToolTip("The thresholds are group-specific: choose whose "
                                         "threshold the line moves")
        self.line_group_combo.currentIndexChanged.connect(lambda _i: self._sync_lines())
        self.metric_panel.add_control(self.line_group_label)
        self.metric_panel.add_control(self.line_group_combo)
        self.line_group_label.hide()  # only for group-specific thresholds
        self.line_group_combo.hide()
        self.metric_panel.widget.setToolTip("Drag the black line to try another threshold: the "
                                            "points and the threshold follow live; on release "
                                            "the tables and the other pages follow")
        self.metric_legend = add_legend(self.metric_panel.plot)
        self.drag_line = pg.InfiniteLine(
            angle=90, movable=True, pen=pg.mkPen("k", width=2.5),
            hoverPen=pg.mkPen("#D55E00", width=4), label="{value:.3f}",
            labelOpts={"position": 0.96, "color": "k", "fill": pg.mkBrush(255, 255, 255, 220),
                       "movable": False})
        self.drag_line.setZValue(20)
        self.drag_line.sigPositionChanged.connect(self._on_line_moved)
        self.drag_line.sigPositionChangeFinished.connect(self._on_line_released)
        self.metric_panel.plot.addItem(self.drag_line, ignoreBounds=True)
        self.metric_points = pg.ScatterPlotItem(size=10, pen=pg.mkPen("w", width=1.5))
        self.metric_points.setZValue(25)
        self.metric_panel.plot.addItem(self.metric_points)
        self.metric_static_lines: list[pg.InfiniteLine] = []
        self.metric_curves: list[pg.PlotDataItem] = []
        self.plot_tabs.addTab(self.metric_panel, "Metric vs threshold")
        self.plot_tabs.setTabToolTip(1, "A metric against the threshold per group, with a "
                                        "draggable threshold line")

        # distributions
        self.dist_panel = PlotPanel("Score distribution by group", "Score", "Density",
                                    name="score_distributions", on_error=err)
        self.dist_panel.widget.setToolTip("Histogram of the scores of each group (weighted, "
                                          "each scaled to area 1); vertical lines: thresholds")
        self.dist_legend = add_legend(self.dist_panel.plot)
        self.dist_lines: list[pg.InfiniteLine] = []
        self.plot_tabs.addTab(self.dist_panel, "Distributions")
        self.plot_tabs.setTabToolTip(2, "Score distributions by group with the threshold(s)")

        # calibration by tier
        self.cal_panel = PlotPanel("Observed outcome rate by risk tier", "Risk tier",
                                   "Observed outcome rate", name="calibration_by_tier",
                                   on_error=err)
        self.cal_panel.widget.setToolTip("Within each tier (between consecutive thresholds), the "
                                         "share of people with the outcome in each group. "
                                         "Calibration within tiers asks these to be equal.")
        self.cal_legend = add_legend(self.cal_panel.plot, offset=(10, 10))
        self.cal_curves: list[pg.PlotDataItem] = []
        self.plot_tabs.addTab(self.cal_panel, "Calibration")
        self.plot_tabs.setTabToolTip(3, "Observed outcome rate per risk tier and group")

    # ------------------------------------------------------------------------- helpers
    @property
    def reference_index(self) -> int:
        return max(self.ref_combo.currentIndex(), 0)

    @property
    def threshold_index(self) -> int:
        return max(self.thr_combo.currentIndex(), 0)

    @property
    def groups_as_columns(self) -> bool:
        return self.orientation.isChecked()

    @property
    def metric(self) -> str:
        return self.metric_combo.currentData() or "fpr"

    def _line_group(self) -> int:
        return max(self.line_group_combo.currentIndex(), 0)

    def _group_names(self) -> list[str]:
        return list(self.state.data.group_names) if self.state.data is not None else []

    @staticmethod
    def _item(table: QTableWidget, r: int, c: int) -> QTableWidgetItem:
        it = table.item(r, c)
        if it is None:
            it = QTableWidgetItem()
            it.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable)
            it.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
            table.setItem(r, c, it)
        return it

    def _set(self, table, r, c, value, fmt=fmt_rate, reason: str = "", tip: str = ""):
        """Show ``value`` (NaN → “undefined” in grey italics with ``reason`` as tooltip)."""
        it = self._item(table, r, c)
        font = it.font()
        if _nan(value):
            it.setText(UNDEFINED)
            it.setData(Qt.UserRole, float("nan"))
            font.setItalic(True)
            it.setFont(font)
            it.setForeground(QBrush(GREY))
            it.setToolTip(f"Undefined: {reason}" if reason else "Undefined")
        else:
            it.setText(fmt(value))
            it.setData(Qt.UserRole, float(value))
            if font.italic():
                font.setItalic(False)
                it.setFont(font)
            it.setForeground(TEXT_BRUSH)
            it.setToolTip(tip)
        return it

    def _set_text(self, table, r, c, text: str, tip: str = "", grey: bool = False,
                  align=Qt.AlignRight | Qt.AlignVCenter):
        it = self._item(table, r, c)
        it.setText(text)
        it.setTextAlignment(align)
        it.setToolTip(tip)
        it.setData(Qt.UserRole, float("nan"))
        font = it.font()
        font.setItalic(grey)
        it.setFont(font)
        if grey:
            it.setForeground(QBrush(GREY))
        else:
            it.setForeground(TEXT_BRUSH)
        return it

    def _mean_sd(self, table, r, c, key: str, index, what: str):
        """Bootstrap “mean ± SD” of ``key`` at ``index`` (or not available)."""
        b = self.bootstrap
        if b is None or key not in b.mean:
            return self._set_text(table, r, c, "n/a", "The bootstrap does not summarise this "
                                  "value", grey=True)
        m, s = b.mean[key][index], b.sd[key][index]
        if _nan(m):
            return self._set(table, r, c, m, reason=f"{what} was undefined in every resample")
        text = f"{float(m):.3f} ± {float(s):.3f}" if not _nan(s) else f"{float(m):.3f} ± ?"
        it = self._set_text(table, r, c, text,
                            f"Bootstrap mean ± SD over {b.resamples:,} resamples (seed {b.seed}); "
                            f"defined in {int(b.defined[key][index]):,} of them")
        it.setData(Qt.UserRole, float(m))
        return it

    def _count_fmt(self, x: float) -> str:
        return f"{x:,.0f}" if self._int_counts else f"{x:,.1f}"

    def _boot_visible(self) -> bool:
        return self.bootstrap is not None and self.boot_show.isChecked()

    # -------------------------------------------------------------------------- state
    def _on_data_changed(self) -> None:
        data = self.state.data
        self._highlight.clear()
        if self.bootstrap is not None:
            self._clear_bootstrap("Bootstrap results cleared: the data changed. Run it again "
                                  "(Ctrl+B).")
        if data is None or self.state.scores is None:
            self.result = None
            self._ranking = None
            self.empty.setText("Open a data file and map its columns (score, outcome, group) to "
                               "see the audit.")
            self.stack.setCurrentIndex(0)
            return
        if data.label is None:
            self.result = None
            self.empty.setText("The audit compares decisions with outcomes: map an outcome "
                               "(label) column on the Data page.")
            self.stack.setCurrentIndex(0)
            return
        if "bootstrap" in self.state.seeds:
            self.boot_seed.setValue(int(self.state.seeds["bootstrap"]))
        w = data.weight
        self._int_counts = bool(np.all(np.mod(w, 1.0) == 0.0))
        names = self._group_names()
        for combo in (self.ref_combo, self.line_group_combo):
            old = combo.currentText()
            combo.blockSignals(True)
            combo.clear()
            for g, name in enumerate(names):
                combo.addItem(color_icon(group_color(g)), name)
            i = combo.findText(old)
            combo.setCurrentIndex(i if i >= 0 else 0)
            combo.blockSignals(False)
        self._built_for = None
        self._compute_static()
        self._live = None
        self._on_thresholds_changed()
        self.stack.setCurrentIndex(1)
        if not self._split_done:
            QTimer.singleShot(0, self._initial_split)

    def _on_thresholds_changed(self) -> None:
        if self.state.data is None or self.state.data.label is None or self.state.scores is None:
            return
        self._live = np.array(self.state.thresholds, dtype=float, copy=True)
        k = int(self._live.shape[-1])
        if self.thr_combo.count() != k:
            j = self.threshold_index
            self.thr_combo.blockSignals(True)
            self.thr_combo.clear()
            self.thr_combo.addItems([str(i + 1) for i in range(k)])
            self.thr_combo.setCurrentIndex(min(j, k - 1))
            self.thr_combo.blockSignals(False)
        self.thr_combo.setVisible(k > 1)
        gs = bool(self.state.group_specific)
        self.line_group_label.setVisible(gs)
        self.line_group_combo.setVisible(gs)
        self._refresh_dynamic()

    def _on_threshold_index(self, _i: int) -> None:
        self._refresh_dynamic()

    def _on_reference_changed(self, _i: int) -> None:
        if self.result is not None:
            self._built_for = None
            self._refresh_dynamic()

    # ----------------------------------------------------------------- static parts
    def _compute_static(self) -> None:
        """Everything that does not depend on the threshold (once per data change)."""
        data, gs = self.state.data, self.state.scores
        self._ranking = None
        self._start_ranking()
        lo, hi = float(np.min(data.score)), float(np.max(data.score))
        if hi <= lo:
            hi = lo + 1.0
        self._score_range = (lo, hi)
        # metric versus threshold: one vectorised counts call on the grid
        x = np.linspace(lo, hi, GRID_POINTS)
        c = gs.counts(data.to_oriented(x), shared=True)
        rates = compute_rates(c)
        with np.errstate(divide="ignore", invalid="ignore"):
            size = gs.weight_total[:, None]
            rates["fp_group_size"] = np.where(size > 0, c.fp / size, np.nan)
            rates["fn_group_size"] = np.where(size > 0, c.fn / size, np.nan)
        self._grid_x, self._grid_rates = x, rates
        self._draw_roc()
        self._draw_metric_curves()
        self._draw_distributions()
        self._draw_calibration_axes()

    def _start_ranking(self, force_async: bool = False) -> None:
        data, gs = self.state.data, self.state.scores
        self.ranking_retry.hide()
        if data.n <= SYNC_RANKING_ROWS and not force_async:
            auc, xm, overall = compute_ranking(data, gs)
            self._ranking = (data, auc, xm, overall)
            return
        self._ranking_pending = data
        self._ranking_job = self.worker.start(
            compute_ranking, data, gs, title="Computing AUC and cross-AUC",
            on_result=self._ranking_done, on_error=self._ranking_failed,
            on_cancel=self._ranking_cancelled)

    def _ranking_done(self, result) -> None:
        data = self._ranking_pending
        self._ranking_job = None
        if data is None or data is not self.state.data:
            return
        self._ranking = (data,) + tuple(result)
        self._ranking_pending = None
        self._draw_roc()
        self._refresh_dynamic(rebuild=True)

    def _ranking_failed(self, message: str, details: str) -> None:
        self._ranking_job = None
        self._ranking_pending = None
        self.ranking_retry.show()
        self.worker.failed.emit(message, details)

    def _ranking_cancelled(self) -> None:
        self._ranking_job = None
        self._ranking_pending = None
        self.ranking_retry.show()
        self._fill_auc_tables()

    def _ensure_ranking(self) -> None:
        """Compute AUC/xAUC now if the worker has not delivered them yet (export)."""
        data = self.state.data
        if data is None or data.label is None:
            return
        if self._ranking is None or self._ranking[0] is not data:
            auc, xm, overall = compute_ranking(data, self.state.scores)
            self._ranking = (data, auc, xm, overall)
            self._refresh_dynamic(rebuild=True)

    def _draw_roc(self) -> None:
        plot = self.roc_panel.plot
        plot.clear()
        self.roc_legend.clear()
        data, gs = self.state.data, self.state.scores
        diag = pg.PlotDataItem([0, 1], [0, 1], pen=pg.mkPen("#888888", width=1, style=Qt.DashLine))
        plot.addItem(diag)
        notes = []
        auc = self._ranking[1] if self._ranking is not None else None
        for g, name in enumerate(data.group_names):
            fpr, tpr, _thr = roc_curve(gs, g)
            if gs.positives[g] <= 0 or gs.negatives[g] <= 0:
                notes.append(f"{name}: no ROC curve (the group needs people with and without "
                             "the outcome)")
                continue
            x, y = decimate(fpr, tpr)
            label = (name if auc is None or _nan(auc[g]) or data.n_groups > 4
                     else f"{name} (AUC {auc[g]:.3f})")
            plot.addItem(cached(pg.PlotDataItem(x, y, pen=group_pen(g), name=label, antialias=True)))
        self.roc_points = pg.ScatterPlotItem(size=11, pen=pg.mkPen("w", width=1.5))
        self.roc_points.setZValue(10)
        plot.addItem(self.roc_points)
        self._legend_columns(self.roc_legend)
        self.roc_panel.set_note("; ".join(notes))
        plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.04)

    def _draw_metric_curves(self) -> None:
        if self._grid_x is None or self.state.data is None:
            return
        plot = self.metric_panel.plot
        key = self.metric
        for c in self.metric_curves:
            plot.removeItem(c)
        self.metric_curves = []
        self.metric_legend.clear()
        values = self._grid_rates[key]
        for g, name in enumerate(self.state.data.group_names):
            curve = cached(pg.PlotDataItem(self._grid_x, values[g], pen=group_pen(g), name=name,
                                           connect="finite", antialias=True))
            plot.addItem(curve)
            self.metric_curves.append(curve)
        self._legend_columns(self.metric_legend)
        short = SHORT.get(key, metric_label(key))
        plot.setTitle(f"{metric_label(key)} versus threshold", color="k", size="12pt")
        plot.setLabel("left", short, color="k", **{"font-size": "11pt"})
        lo, hi = self._score_range
        if key in RATIO_KEYS:
            plot.enableAutoRange(axis="y")
        else:
            plot.setYRange(0, 1, padding=0.03)
        plot.setXRange(lo, hi, padding=0.02)
        tip = metric_tip(key).replace("<br>", "\n").replace("<b>", "").replace("</b>", "")
        self.metric_combo.setToolTip("The metric drawn against the threshold, per group.\n\n" + tip)
        self._update_metric_points()

    def _draw_distributions(self) -> None:
        plot = self.dist_panel.plot
        plot.clear()
        self.dist_legend.clear()
        self.dist_lines = []
        data, gs = self.state.data, self.state.scores
        lo, hi = self._score_range
        # fewer bins when a group is small, so its histogram is not mostly noise
        smallest = int(max(np.min(gs.n_rows[gs.n_rows > 0]), 1)) if np.any(gs.n_rows > 0) else 1
        bins = int(np.clip(2.5 * smallest ** (1 / 3), 15, HIST_BINS))
        edges = np.linspace(lo, hi, bins + 1)
        for g, name in enumerate(data.group_names):
            s, e = gs.start[g], gs.end[g]
            w = gs.sorted_weight[s:e]
            if e <= s or w.sum() <= 0:
                continue
            x = gs.sorted_score[s:e] * data.sign
            dens, _ = np.histogram(x, bins=edges, weights=w, density=True)
            plot.addItem(cached(pg.PlotDataItem(edges, dens, stepMode="center", pen=group_pen(g, 2),
                                                name=f"{name} (n = {int(gs.n_rows[g]):,})")))
        self._legend_columns(self.dist_legend)
        plot.setXRange(lo, hi, padding=0.02)
        plot.enableAutoRange(axis="y")

    def _legend_columns(self, legend) -> None:
        """Two columns when there are many groups, so the legend hides less of the plot."""
        n = self.state.data.n_groups if self.state.data is not None else 0
        legend.setColumnCount(2 if n > 5 else 1)

    def _draw_calibration_axes(self) -> None:
        plot = self.cal_panel.plot
        for c in self.cal_curves:
            plot.removeItem(c)
        self.cal_curves = []
        self.cal_legend.clear()
        for g, name in enumerate(self.state.data.group_names):
            curve = pg.PlotDataItem([], [], pen=group_pen(g), symbol="o", symbolSize=9,
                                    symbolBrush=group_color(g), symbolPen=pg.mkPen("w"),
                                    name=name, connect="finite")
            plot.addItem(curve)
            self.cal_curves.append(curve)
        self._legend_columns(self.cal_legend)
        plot.setYRange(0, 1, padding=0.03)

    # ---------------------------------------------------------------- dynamic parts
    def _audit_live(self):
        """The audit at the live thresholds (ranking measures kept from the data's), made the
        page's result; None (and the message shown) when it cannot be computed."""
        data = self.state.data
        if data is None or data.label is None or self._live is None:
            return None
        try:
            res = run_audit(data, self._live, group_specific=self.state.group_specific,
                            scores=self.state.scores, with_ranking=False,
                            reliability=self.reliability())
        except (FairDeskError, ValueError) as err:
            self.result = None
            self.empty.setText(str(err))
            self.stack.setCurrentIndex(0)
            return None
        if self._ranking is not None and self._ranking[0] is data:
            # ranking measures do not depend on the threshold: computed once per data
            res.auc, res.xauc, res.auc_overall = self._ranking[1:4]
        self.result = res
        self.stack.setCurrentIndex(1)
        return res

    def _refresh_dynamic(self, rebuild: bool = False) -> None:
        """Audit at the live thresholds and update tables and plot markers (cheap)."""
        self._drag_timer.stop()  # this refresh includes what a pending drag frame would draw
        res = self._audit_live()
        if res is None:
            return
        data = self.state.data
        self._check_bootstrap()
        res.intervals = self.bootstrap
        key = (res.k, data.n_groups, self.reference_index, self._boot_visible(), id(data),
               self.ci_show.isChecked())
        if rebuild or key != self._built_for:
            self._build_tables_structure()
            self._built_for = key
            self._fill_auc_tables()
        self._fill_group_table()
        self._fill_fairness_table()
        self._fill_reference_table()
        self._update_threshold_text()
        self._sync_lines()
        self._update_plot_markers()

    def _update_threshold_text(self) -> None:
        data, t, j = self.state.data, self._live, self.threshold_index
        sign = "≥" if data.mapping.higher_is_positive else "≤"
        if self.state.group_specific:
            parts = [f"{name} {sign} {t[g, j]:.3g}" for g, name in enumerate(data.group_names)]
            self.thr_label.setText("Group-specific: " + ", ".join(parts[:3])
                                   + (" …" if len(parts) > 3 else ""))
            self.thr_label.setToolTip("Flagged when the score is " + "; ".join(parts))
        else:
            self.thr_label.setText(f"Flagged when score {sign} {t[j]:.4g}")
            self.thr_label.setToolTip("A person is flagged (predicted positive) when the score is "
                                      f"{'at or above' if sign == '≥' else 'at or below'} "
                                      f"{t[j]:.6g}")
        if self.thr_combo.count() == t.shape[-1]:
            for i in range(t.shape[-1]):
                text = (f"#{i + 1} (per group)" if self.state.group_specific
                        else f"#{i + 1} = {t[i]:.4g}")
                if self.thr_combo.itemText(i) != text:
                    self.thr_combo.setItemText(i, text)

    # --- tables ---
    def _build_tables_structure(self) -> None:
        names = self._group_names()
        boot = self._boot_visible()
        res = self.result
        # per group: one axis has the groups (and All), the other the metrics
        cols = [("value", k) for k in GROUP_TABLE_KEYS]
        if self.ci_show.isChecked():
            with_ci = []
            for kind, k in cols:
                with_ci.append((kind, k))
                if k in PROPORTIONS or k in RATIO_KEYS:
                    with_ci.append(("ci", k))
            cols = with_ci
        if boot:
            with_boot = []
            for kind, k in cols:
                with_boot.append((kind, k))
                if kind == "value" and (k in RATES or k == "auc"):
                    with_boot.append(("boot", k))
            cols = with_boot
        self._group_cols = cols
        across = self.groups_as_columns
        t = self.group_table
        t.clear()
        n_groups = len(names) + 1
        t.setRowCount(len(cols) if across else n_groups)
        t.setColumnCount(n_groups if across else len(cols))
        for c, (kind, k) in enumerate(cols):
            label = SHORT.get(k, COUNT_LABELS.get(k, k))
            if kind == "boot":
                item = QTableWidgetItem("   mean ± SD" if across else f"{label}\nmean ± SD")
                item.setToolTip(f"Bootstrap mean ± standard deviation of {label}")
                item.setForeground(QBrush(QColor("#404040")))
            elif kind == "ci":
                item = QTableWidgetItem("   95 % interval" if across else f"{label}\n95 % interval")
                item.setToolTip(f"95 % interval of {label}: exact binomial (Clopper–Pearson) from the "
                                "counts" + ("" if k in PROPORTIONS else "; for this ratio, the bootstrap "
                                           "percentile interval (run the bootstrap)"))
                item.setForeground(QBrush(QColor("#404040")))
            else:
                item = QTableWidgetItem(label)
                item.setToolTip(metric_tip(k))
            if across:
                t.setVerticalHeaderItem(c, item)
            else:
                t.setHorizontalHeaderItem(c, item)
        title_width = self._set_group_headers(t, names + ["All"], horizontal=across)
        t.horizontalHeader().setSectionResizeMode(QHeaderView.Interactive)
        if across:  # share the width; scroll only when the groups do not fit
            # columns share the width but never clip a group's name (scroll instead)
            t.horizontalHeader().setMinimumSectionSize(max(100 if boot else 72, title_width))
            t.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        else:
            for c, (kind, k) in enumerate(cols):
                t.setColumnWidth(c, 112 if kind in ("boot", "ci") else 74 if k not in (
                    "selection_rate", "prevalence") else 92)
        # fairness: a row of values per measure (per tier for CAL), its meaning below it
        k = res.k
        layout = []  # ("value", key, tier) or ("meaning", key, 0)
        for key in DEFINITIONS:
            if key == "CAL":
                layout += [("value", "CAL", i) for i in range(k + 1)]
            else:
                layout.append(("value", key, 0))
            layout.append(("meaning", key, 0))
        self._fair_rows = [(key, tier) for kind, key, tier in layout if kind == "value"]
        self._fair_table_row = [r for r, (kind, _k, _t) in enumerate(layout) if kind == "value"]
        self._fair_meaning_row = {}
        for r, (kind, key, tier) in enumerate(layout):
            if kind == "value":
                self._fair_meaning_row[r] = next(m for m in range(r, len(layout))
                                                 if layout[m][0] == "meaning")
        ft = self.fair_table
        ft.clear()
        ft.clearSpans()
        fcols = ["Measure", "Value", "95 % interval", "Balance", "Pair behind it"]
        if boot:
            fcols.insert(3, "Bootstrap\nmean ± SD")
        ft.setColumnCount(len(fcols))
        ft.setRowCount(len(layout))
        ft.setHorizontalHeaderLabels(fcols)
        self._fair_col = {name: i for i, name in enumerate(fcols)}
        for c in range(len(fcols)):
            ft.setItemDelegateForColumn(c, self._balance_delegate if c == self._fair_col["Balance"]
                                        else self._plain_delegate)
        tips = {"Measure": "The fairness definition (Verma & Rubin), its short name and, below "
                           "it, what it asks for",
                "Value": "Smallest ratio (smaller ÷ larger) between any two groups of the rate(s) "
                         "the definition asks to be equal: 1 = balanced, 0 = one group is at 0",
                "Balance": "The value as a bar; the tick marks 0.8 (“four-fifths” rule of thumb)",
                "Bootstrap\nmean ± SD": "Bootstrap mean ± standard deviation of the value",
                "95 % interval": "Bootstrap percentile 95 % interval of the value (run the bootstrap: "
                                 "the resamples and the seed are recorded); “not estimated” says why",
                "Pair behind it": "The rate and the two groups whose ratio is the value; below it, the "
                                  "groups left out of this measure (hover for the reasons)"}
        for c, name in enumerate(fcols):
            ft.horizontalHeaderItem(c).setToolTip(tips[name])
        ft.verticalHeader().hide()
        bold = QFont()
        bold.setBold(True)
        for r, (kind, key, tier) in enumerate(layout):
            d = DEFINITIONS[key]
            rates = ", ".join(SHORT.get(x, x) for x in d.rates) if key != "CAL" else \
                "observed outcome rate in the tier"
            tip = (f"<b>{d.name} ({key})</b><br>{d.meaning}<br>Compares: {rates}. Value: the "
                   "smallest ratio between two groups (1 = balanced).")
            if kind == "meaning":
                ft.setSpan(r, 0, 1, len(fcols))
                it = self._set_text(ft, r, 0, d.meaning, tip, grey=True,
                                    align=Qt.AlignLeft | Qt.AlignTop)
                it.setFlags(Qt.ItemIsEnabled)
                for c in range(1, len(fcols)):
                    self._set_text(ft, r, c, "", tip)
                continue
            label = (f"{d.name} ({key})" if key != "CAL"
                     else f"Calibration within tier S{tier + 1} (CAL)")
            it = self._set_text(ft, r, 0, label, tip, align=Qt.AlignLeft | Qt.AlignVCenter)
            it.setFont(bold)
        fh = ft.horizontalHeader()
        fh.setSectionResizeMode(0, QHeaderView.Fixed)
        ft.setColumnWidth(0, 150)
        fh.setSectionResizeMode(self._fair_col["Pair behind it"], QHeaderView.Stretch)
        for name, width in (("Value", 58), ("95 % interval", 98), ("Bootstrap\nmean ± SD", 108),
                            ("Balance", 84)):
            if name in self._fair_col:
                fh.setSectionResizeMode(self._fair_col[name], QHeaderView.Fixed)
                ft.setColumnWidth(self._fair_col[name], width)
        fh.setStretchLastSection(False)
        self._fit_fair_rows()
        # reference comparison
        ref = self.reference_index
        others = [g for g in range(len(names)) if g != ref]
        show = self.ref_show.currentData() or ("diff", "ratio")
        self._ref_cols = [(ref, "value")] + [(g, kind) for g in others for kind in show]
        rt = self.ref_table
        rt.clear()
        rt.setRowCount(len(COMPARED_RATES))
        rt.setColumnCount(len(self._ref_cols))
        ref_name = names[ref] if names else ""
        for c, (g, kind) in enumerate(self._ref_cols):
            if kind == "value":
                item = QTableWidgetItem(f"{ref_name}\n(reference)")
                item.setToolTip(f"The rate of the reference group, {ref_name}")
            elif kind == "diff":
                item = QTableWidgetItem(f"{names[g]}\n− ref.")
                item.setToolTip(f"Difference: rate of {names[g]} minus rate of {ref_name} "
                                "(positive = higher than the reference)")
            else:
                item = QTableWidgetItem(f"{names[g]}\n÷ ref.")
                item.setToolTip(f"Ratio: rate of {names[g]} divided by rate of {ref_name} "
                                "(1 = equal)")
            if kind == show[0] or kind == "value":
                item.setIcon(color_icon(group_color(g)))
            rt.setHorizontalHeaderItem(c, item)
            rt.setColumnWidth(c, 88 if kind == "value" else 80 if kind == show[0] else 64)
        for r, key in enumerate(COMPARED_RATES):
            item = QTableWidgetItem(SHORT[key])
            item.setToolTip(metric_tip(key))
            rt.setVerticalHeaderItem(r, item)
        self.ref_note.setText(f"Compared with <b>{ref_name}</b> (choose the reference group at "
                              "the top). Difference = group − reference; ratio = group ÷ "
                              "reference (undefined when the reference rate is 0).")
        self._apply_highlight()

    def _set_row_headers(self, table: QTableWidget, labels: list[str]) -> None:
        self._set_group_headers(table, labels, horizontal=False)

    def _set_group_headers(self, table: QTableWidget, labels: list[str],
                           horizontal: bool) -> int:
        """Group names (with their plot colour) and a bold “All” as row or column titles;
        returns the width the widest column title needs."""
        bold = QFont()
        bold.setBold(True)
        widest = 0
        for r, name in enumerate(labels):
            # combined groups ("Group A, Female") go on two lines in column titles
            item = QTableWidgetItem(name.replace(", ", ",\n") if horizontal else name)
            if horizontal:
                fm = QFontMetrics(table.horizontalHeader().font())
                widest = max(widest, max(fm.horizontalAdvance(x)
                                         for x in item.text().split("\n")) + 34)
            if r < len(labels) - 1 or name != "All":
                item.setIcon(color_icon(group_color(r)))
                item.setToolTip(f"Group {name}")
            else:
                item.setFont(bold)
                item.setToolTip("All groups together")
            if horizontal:
                table.setHorizontalHeaderItem(r, item)
            else:
                table.setVerticalHeaderItem(r, item)
        return min(widest, 160)

    def _group_value(self, key: str, g: int | None, j: int):
        """Value and undefined reason of ``key`` for group g (None = All) at threshold j."""
        res = self.result
        names = res.group_names
        name = names[g] if g is not None else None
        if key == "rows":
            return (float(res.rows[g]) if g is not None else float(res.rows.sum())), ""
        if key == "weight":
            return (float(res.weight[g]) if g is not None else float(res.weight.sum())), ""
        if key == "positives":
            return (float(res.positives[g]) if g is not None else float(res.positives.sum())), ""
        if key in ("tp", "fp", "fn", "tn"):
            arr = getattr(res.counts if g is not None else res.overall_counts, key)
            return float(arr[g if g is not None else 0, j]), ""
        if key == "auc":
            if self._ranking is None:
                return None, "pending"
            v = res.auc[g] if g is not None else res.auc_overall
            who = f"group '{name}'" if name else "the data"
            return float(v), f"{who} needs people with and without the outcome for an AUC"
        if key in DERIVED:
            c = res.counts if g is not None else res.overall_counts
            arr = c.fp if key == "fp_group_size" else c.fn
            size = res.weight[g] if g is not None else res.weight.sum()
            v = arr[g if g is not None else 0, j] / size if size > 0 else float("nan")
            who = f"group '{name}'" if name else "the data"
            return float(v), f"{who} has no rows (total weight zero)"
        rates = res.rates if g is not None else res.overall_rates
        return float(rates[key][g if g is not None else 0, j]), undefined_reason(key, name)

    def _fill_group_table(self) -> None:
        res, t, j = self.result, self.group_table, self.threshold_index
        G = len(res.group_names)
        across = self.groups_as_columns
        for gi in range(G + 1):
            g = gi if gi < G else None
            for mi, (kind, key) in enumerate(self._group_cols):
                r, c = (mi, gi) if across else (gi, mi)
                if kind == "boot":
                    if g is None:
                        self._set_text(t, r, c, "n/a", "The bootstrap summarises the groups, "
                                       "not all rows together", grey=True)
                    else:
                        bkey = "auc" if key == "auc" else f"rate:{key}"
                        index = g if key == "auc" else (g, j)
                        self._mean_sd(t, r, c, bkey, index, f"{SHORT.get(key, key)} of "
                                      f"{res.group_names[g]}")
                    continue
                if kind == "ci":
                    lo, hi, how = res.rate_interval(key, g, j)
                    if _nan(lo):
                        self._set_text(t, r, c, "not estimated" if "undefined" not in how and
                                       not _nan(self._group_value(key, g, j)[0]) else "undefined",
                                       how[0].upper() + how[1:], grey=True)
                    else:
                        it = self._set_text(t, r, c, format_interval(lo, hi), f"95 % interval: {how}")
                        it.setData(Qt.UserRole, float("nan"))
                    continue
                value, reason = self._group_value(key, g, j)
                if reason == "pending":
                    self._auc_pending(t, r, c)
                    continue
                fmt = (lambda x: f"{int(x):,}") if key == "rows" else \
                    self._count_fmt if key in ("weight", "positives", "tp", "fp", "fn", "tn") \
                    else fmt_ratio if key in RATIO_KEYS else fmt_rate
                self._set(t, r, c, value, fmt, reason)

    def _auc_pending(self, table, r, c) -> None:
        if self._ranking_job is not None:
            self._set_text(table, r, c, "computing…", "AUC and cross-AUC are being computed "
                           "(see the status bar)", grey=True)
        else:
            self._set_text(table, r, c, "not computed", "The AUC computation was cancelled; "
                           "use “Compute AUC and cross-AUC” on the AUC tab", grey=True)

    def _fill_fairness_table(self) -> None:
        res, t, j = self.result, self.fair_table, self.threshold_index
        boot = self._boot_visible()
        for r, (key, tier) in zip(self._fair_table_row, self._fair_rows):
            d = DEFINITIONS[key]
            if key == "CAL":
                value = res.fairness["CAL"][tier]
                reason = "fewer than two groups have rows in this tier"
                index = tier
            else:
                value = res.fairness[key][j]
                reason = ("fewer than two groups have a defined "
                          + " and ".join(SHORT.get(x, x) for x in d.rates))
                index = j
            self._set(t, r, self._fair_col["Value"], value, fmt_rate, reason,
                      tip=f"{d.name}: smallest ratio between two groups = {float(value):.4f}"
                      if not _nan(value) else "")
            bar = self._item(t, r, self._fair_col["Balance"])
            bar.setData(Qt.UserRole, float(value) if not _nan(value) else float("nan"))
            bar.setToolTip(self._band_text(value, reason))
            det = res.details(key, index)
            if _nan(value):
                self._item(t, r, self._fair_col["Value"]).setToolTip(
                    f"Undefined: {det.undefined_reason}")
            lo, hi, how = res.fairness_interval(key, index)
            if _nan(lo):
                self._set_text(t, r, self._fair_col["95 % interval"], "not estimated",
                               how[0].upper() + how[1:], grey=True)
            else:
                self._set_text(t, r, self._fair_col["95 % interval"], format_interval(lo, hi),
                               f"95 % interval: {how}, {self.bootstrap.resamples:,} resamples, "
                               f"seed {self.bootstrap.seed}")
            pair = det.pair_text(res.group_names)
            left = [res.group_names[g] for g, _ in det.excluded]
            text = (pair or "—") + (("\nLeft out: " + "; ".join(left)) if left else "")
            tip = (pair or det.undefined_reason) + (
                "\n\nLeft out of this measure:\n" + "\n".join(
                    f"• {res.group_names[g]}: {why}" for g, why in det.excluded) if det.excluded else "")
            self._set_text(t, r, self._fair_col["Pair behind it"], text, tip,
                           align=Qt.AlignLeft | Qt.AlignVCenter)
            if boot:
                self._mean_sd(t, r, self._fair_col["Bootstrap\nmean ± SD"], f"fairness:{key}",
                              index, d.name)
        self._update_groups_note()

    def reliability(self) -> Reliability:
        """The groups the fairness measures compare (the page's toggle and the minimum size)."""
        return Reliability(min_group_size=int(getattr(self.state, "min_group_size", 30)),
                           all_groups=self.all_groups_check.isChecked())

    def _on_all_groups(self, _on: bool) -> None:
        if self.bootstrap is not None:  # its resamples compared the other set of groups
            self._clear_bootstrap("Bootstrap results cleared: the groups compared changed. Run it "
                                  "again (Ctrl+B).")
        self._refresh_dynamic(rebuild=True)

    def _update_groups_note(self) -> None:
        res = self.result
        if res is None:
            return
        rule = res.reliability
        left = {}
        for key in DEFINITIONS:
            tiers = range(len(res.fairness["CAL"])) if key == "CAL" else [self.threshold_index]
            for i in tiers:
                for g, why in res.details(key, i).excluded:
                    left.setdefault(res.group_names[g], why)
        small = [n for n, rows in zip(res.group_names, res.rows) if rows < rule.min_group_size]
        if rule.all_groups:
            text = ("Every group is compared (only a 0/0 rate leaves a group out)."
                    + (f" <b>Below the minimum size ({rule.min_group_size} rows):</b> "
                       + "; ".join(small) + " — their figures can decide a measure." if small else ""))
        else:
            text = (f"Compared: {rule.describe()}."
                    + (" <b>Left out of at least one measure:</b> " + "; ".join(left) if left else
                       " No group is left out."))
        self.fair_groups_note.setText(text)
        self.fair_groups_note.setToolTip("\n".join(f"{n}: {why}" for n, why in left.items()))

    @staticmethod
    def _band_text(value, reason: str) -> str:
        if _nan(value):
            return f"Undefined: {reason}"
        v = float(value)
        band = ("at or above 0.8 (blue)" if v >= GOOD_AT else "between 0.6 and 0.8 (orange)"
                if v >= FAIR_AT else "below 0.6 (vermillion)")
        return f"{v:.3f}: {band}. 1 = the groups are equal on this measure."

    def _fill_reference_table(self) -> None:
        res, t, j = self.result, self.ref_table, self.threshold_index
        names = res.group_names
        ref = self.reference_index
        for r, key in enumerate(COMPARED_RATES):
            vals = np.array([self._group_value(key, g, j)[0] for g in range(len(names))])
            reasons = [self._group_value(key, g, j)[1] for g in range(len(names))]
            diff, ratio = reference_comparison(vals, ref)
            for c, (g, kind) in enumerate(self._ref_cols):
                if kind == "value":
                    self._set(t, r, c, vals[g], fmt_ratio if key in RATIO_KEYS else fmt_rate,
                              reasons[g])
                    continue
                if _nan(vals[g]):
                    reason = reasons[g]
                elif _nan(vals[ref]):
                    reason = f"the reference group's value is undefined: {reasons[ref]}"
                else:
                    reason = (f"the reference group '{names[ref]}' has {SHORT[key]} = 0, so a "
                              "ratio is not defined")
                if kind == "diff":
                    self._set(t, r, c, diff[g], fmt_diff, reason,
                              tip=f"{SHORT[key]}: {names[g]} − {names[ref]}")
                else:
                    self._set(t, r, c, ratio[g], fmt_ratio, reason,
                              tip=f"{SHORT[key]}: {names[g]} ÷ {names[ref]}")

    def _fill_auc_tables(self) -> None:
        res = self.result
        if res is None:
            return
        names = res.group_names
        G = len(names)
        boot = self._boot_visible()
        at = self.auc_table
        cols = ["AUC", "Positives", "Negatives"] + (["Bootstrap\nmean ± SD"] if boot else [])
        at.clear()
        at.setRowCount(G + 1)
        at.setColumnCount(len(cols))
        at.setHorizontalHeaderLabels(cols)
        at.horizontalHeaderItem(0).setToolTip(COUNT_TIPS["auc"])
        at.horizontalHeaderItem(1).setToolTip("Weighted number of people with the outcome")
        at.horizontalHeaderItem(2).setToolTip("Weighted number of people without the outcome")
        if boot:
            at.horizontalHeaderItem(3).setToolTip("Bootstrap mean ± standard deviation of the AUC")
        self._set_row_headers(at, names + ["All"])
        neg = res.weight - res.positives
        for r in range(G + 1):
            g = r if r < G else None
            value, reason = self._group_value("auc", g, 0)
            if reason == "pending":
                self._auc_pending(at, r, 0)
            else:
                self._set(at, r, 0, value, fmt_rate, reason)
            self._set(at, r, 1, res.positives[g] if g is not None else res.positives.sum(),
                      self._count_fmt)
            self._set(at, r, 2, neg[g] if g is not None else neg.sum(), self._count_fmt)
            if boot:
                if g is None:
                    self._set_text(at, r, 3, "n/a", "The bootstrap summarises the groups",
                                   grey=True)
                else:
                    self._mean_sd(at, r, 3, "auc", g, f"AUC of {names[g]}")
        for c, w in enumerate([80, 96, 96, 120][:len(cols)]):
            at.setColumnWidth(c, w)
        self._fit_height(at)
        xt = self.xauc_table
        xt.clear()
        xt.setRowCount(G)
        xt.setColumnCount(G)
        for b, name in enumerate(names):
            item = QTableWidgetItem(f"{name}\n(without)")
            item.setIcon(color_icon(group_color(b)))
            item.setToolTip(f"Negatives (people without the outcome) of group {name}")
            xt.setHorizontalHeaderItem(b, item)
            item = QTableWidgetItem(f"{name} (with)")
            item.setIcon(color_icon(group_color(b)))
            item.setToolTip(f"Positives (people with the outcome) of group {name}")
            xt.setVerticalHeaderItem(b, item)
            xt.setColumnWidth(b, 120 if boot else 96)
        diag_bg = QBrush(QColor("#EEF3F8"))
        for a in range(G):
            for b in range(G):
                if self._ranking is None:
                    self._auc_pending(xt, a, b)
                    continue
                reason = (f"group '{names[a]}' has no one with the outcome or group "
                          f"'{names[b]}' no one without it")
                v = res.xauc[a, b]
                tip = (f"xAUC({names[a]}, {names[b]}) = {float(v):.4f}: the chance that a "
                       f"person of {names[a]} with the outcome scores higher than a person of "
                       f"{names[b]} without it" if not _nan(v) else "")
                it = self._set(xt, r=a, c=b, value=v, fmt=fmt_rate, reason=reason, tip=tip)
                if boot and self.bootstrap is not None and not _nan(v):
                    m, s = self.bootstrap.mean["xauc"][a, b], self.bootstrap.sd["xauc"][a, b]
                    if not _nan(m):
                        it.setText(f"{float(v):.3f}\n({float(m):.3f} ± {float(s):.3f})")
                        it.setToolTip(tip + f"\nBootstrap mean ± SD: {float(m):.4f} ± "
                                      f"{float(s):.4f}")
                if a == b:
                    it.setBackground(diag_bg)
        xt.resizeRowsToContents()
        self._fit_height(xt)

    def _fit_fair_rows(self) -> None:
        """Value rows fit their text; explanation rows are measured on the full width they
        span (Qt would measure them on the first column only)."""
        ft = self.fair_table
        meaning_rows = set(self._fair_meaning_row.values())
        width = max(ft.viewport().width() - 10, 100)
        for r in range(ft.rowCount()):
            it = ft.item(r, 0)
            if it is None:
                continue
            if r in meaning_rows:
                fm = QFontMetrics(it.font())
                rect = fm.boundingRect(0, 0, width, 10_000, int(Qt.TextWordWrap), it.text())
                ft.setRowHeight(r, rect.height() + 8)
            else:
                ft.resizeRowToContents(r)
                if ft.rowHeight(r) < 28:
                    ft.setRowHeight(r, 28)

    @staticmethod
    def _fit_rows(table: QTableWidget, minimum: int = 28) -> None:
        table.resizeRowsToContents()
        for r in range(table.rowCount()):
            if table.rowHeight(r) < minimum:
                table.setRowHeight(r, minimum)

    @staticmethod
    def _fit_height(table: QTableWidget) -> None:
        """As tall as its rows (plus a scroll bar), so short tables leave no empty block."""
        h = table.horizontalHeader().height() if table.horizontalHeader().isVisible() else 0
        h = max(h, table.horizontalHeader().sizeHint().height())
        rows = sum(table.rowHeight(r) for r in range(table.rowCount()))
        bar = table.horizontalScrollBar().sizeHint().height()
        table.setMaximumHeight(h + rows + bar + 2 * table.frameWidth() + 2)

    # --- plots ---
    def _sync_lines(self) -> None:
        """Put the threshold lines where the live thresholds are (no feedback loop)."""
        if self._live is None or self.state.data is None:
            return
        data = self.state.data
        t, j = self._live, self.threshold_index
        gs = bool(self.state.group_specific)
        lg = self._line_group()
        lo, hi = self._score_range
        pad = 0.02 * (hi - lo)
        self.drag_line.setBounds((min(lo, float(np.min(t))) - pad, max(hi, float(np.max(t))) + pad))
        self._syncing = True
        try:
            value = t[lg, j] if gs else t[j]
            if abs(self.drag_line.value() - value) > 0:
                self.drag_line.setValue(float(value))
            color = group_color(lg) if gs else QColor("black")
            self.drag_line.setPen(pg.mkPen(color, width=2.5))
        finally:
            self._syncing = False
        # other thresholds: static dashed lines (metric plot)
        others = []
        if gs:
            others = [(t[g, i], group_color(g)) for g in range(data.n_groups)
                      for i in range(t.shape[1]) if not (g == lg and i == j)]
        else:
            others = [(t[i], QColor("#555555")) for i in range(t.shape[0]) if i != j]
        self._set_static_lines(self.metric_panel.plot, self.metric_static_lines, others)
        # distributions: every threshold, the selected one solid
        if gs:
            lines = [(t[g, i], group_color(g), i == j) for g in range(data.n_groups)
                     for i in range(t.shape[1])]
        else:
            lines = [(t[i], QColor("black"), i == j) for i in range(t.shape[0])]
        plot = self.dist_panel.plot
        while len(self.dist_lines) > len(lines):
            plot.removeItem(self.dist_lines.pop())
        while len(self.dist_lines) < len(lines):
            line = pg.InfiniteLine(angle=90, movable=False)
            line.setZValue(15)
            plot.addItem(line, ignoreBounds=True)
            self.dist_lines.append(line)
        for line, (pos, color, selected) in zip(self.dist_lines, lines):
            line.setPen(pg.mkPen(color, width=2 if selected else 1.5,
                                 style=Qt.SolidLine if selected else Qt.DashLine))
            line.setValue(float(pos))

    @staticmethod
    def _set_static_lines(plot, store: list, specs) -> None:
        while len(store) > len(specs):
            plot.removeItem(store.pop())
        while len(store) < len(specs):
            line = pg.InfiniteLine(angle=90, movable=False)
            line.setZValue(12)
            plot.addItem(line, ignoreBounds=True)
            store.append(line)
        for line, (pos, color) in zip(store, specs):
            line.setPen(pg.mkPen(color, width=1.5, style=Qt.DashLine))
            line.setValue(float(pos))

    def _update_plot_markers(self) -> None:
        res = self.result
        if res is None:
            return
        j = self.threshold_index
        k = res.k
        spots = []
        for g in range(len(res.group_names)):
            for i in range(k):
                x, y = res.rates["fpr"][g, i], res.rates["tpr"][g, i]
                if _nan(x) or _nan(y):
                    continue
                spots.append({"pos": (float(x), float(y)), "brush": pg.mkBrush(group_color(g)),
                              "size": 13 if i == j else 8, "symbol": "o" if i == j else "s"})
        self.roc_points.setData(spots)
        self._update_metric_points()
        # calibration by tier
        rate = res.tier_outcome_rate
        x = np.arange(1, rate.shape[1] + 1, dtype=float)
        for g, curve in enumerate(self.cal_curves):
            curve.setData(x, rate[g])
        axis = self.cal_panel.plot.getAxis("bottom")
        ticks = [(i + 1.0, f"S{i + 1}") for i in range(rate.shape[1])]
        if len(ticks) > 1:
            ticks[0] = (1.0, "S1 (lowest)")
            ticks[-1] = (float(len(ticks)), f"S{len(ticks)} (highest)")
        axis.setTicks([ticks])
        self.cal_panel.plot.setXRange(0.7, rate.shape[1] + 0.3, padding=0)

    def _update_metric_points(self) -> None:
        res = self.result
        if res is None or self._live is None:
            return
        key, j = self.metric, self.threshold_index
        spots = []
        for g in range(len(res.group_names)):
            value, _ = self._group_value(key, g, j)
            if _nan(value):
                continue
            x = self._live[g, j] if self.state.group_specific else self._live[j]
            spots.append({"pos": (float(x), float(value)), "brush": pg.mkBrush(group_color(g))})
        self.metric_points.setData(spots)

    # --- dragging ---
    def _set_live_from_line(self, value: float) -> bool:
        if self._live is None:
            return False
        j = self.threshold_index
        if self.state.group_specific:
            index = (self._line_group(), j)
        else:
            index = (j,)
        if self._live[index] == value:
            return False
        self._live = self._live.copy()
        self._live[index] = value
        return True

    def _on_line_moved(self, line=None) -> None:
        if self._syncing or self._live is None:
            return
        if self._set_live_from_line(float(self.drag_line.value())) \
                and not self._drag_timer.isActive():
            # at once when the last frame is a frame ago, else when it will be
            since = 1000 * (time.perf_counter() - self._last_drag_frame)
            self._drag_timer.start(int(max(0.0, DRAG_FRAME_MS - since)))

    def _drag_frame(self) -> None:
        """One drag update: the audit at the line, the threshold text, the lines and the
        markers. The curves do not change and are not redrawn (they are cached as pixmaps);
        the tables are filled when the line rests (released), not on every frame."""
        self._last_drag_frame = time.perf_counter()
        if self._audit_live() is None:
            return
        self._update_threshold_text()
        self._sync_lines()
        self._update_plot_markers()
        self.dragUpdated.emit()

    def _on_line_released(self, line=None) -> None:
        if self._syncing or self._live is None:
            return
        self._drag_timer.stop()  # the release refreshes everything
        self._set_live_from_line(float(self.drag_line.value()))
        live = self._live.copy()
        rules = None
        if not self.state.group_specific:
            rules = [{"kind": "fixed", "value": float(v), "n_bins": 20} for v in live]
        self.state.set_thresholds(live, group_specific=self.state.group_specific, rules=rules)

    # ------------------------------------------------------------------------ bootstrap
    def run_bootstrap(self) -> None:
        data = self.state.data
        if data is None or data.label is None or self._boot_job is not None:
            return
        B, seed = int(self.boot_b.value()), int(self.boot_seed.value())
        self.state.seeds["bootstrap"] = seed
        thresholds = np.array(self.state.thresholds, dtype=float, copy=True)
        gs = bool(self.state.group_specific)
        self._boot_pending = (data, thresholds, gs)
        self.boot_run.setEnabled(False)
        self.boot_note.setText(f"Running {B:,} resamples (seed {seed})… Cancel in the status bar "
                               "(Esc).")
        self._boot_job = self.worker.start(
            bootstrap_audit, data, thresholds, resamples=B, seed=seed, group_specific=gs,
            reliability=self.reliability(), title="Bootstrap", on_result=self._boot_done,
            on_error=self._boot_failed, on_cancel=self._boot_cancelled)

    def _boot_matches(self, meta) -> bool:
        if meta is None or self._live is None:
            return False
        data, thresholds, gs = meta
        return (data is self.state.data and gs == bool(self.state.group_specific)
                and thresholds.shape == self._live.shape and np.array_equal(thresholds, self._live))

    def _boot_done(self, result: BootstrapResult) -> None:
        meta, self._boot_pending, self._boot_job = self._boot_pending, None, None
        self.boot_run.setEnabled(True)
        if not self._boot_matches(meta):
            self._clear_bootstrap("Bootstrap results discarded: the data or the thresholds "
                                  "changed while it ran. Run it again (Ctrl+B).")
            return
        self.bootstrap, self._boot_meta = result, meta
        self.boot_show.setEnabled(True)
        self.boot_note.setText(f"{result.resamples:,} resamples, seed {result.seed}: mean ± SD "
                               "shown next to the values.")
        self.boot_show.blockSignals(True)
        self.boot_show.setChecked(True)
        self.boot_show.blockSignals(False)
        self._refresh_dynamic(rebuild=True)

    def _boot_failed(self, message: str, details: str) -> None:
        self._boot_pending = self._boot_job = None
        self.boot_run.setEnabled(True)
        self.boot_note.setText("The bootstrap failed; see the message.")
        self.worker.failed.emit(message, details)

    def _boot_cancelled(self) -> None:
        self._boot_pending = self._boot_job = None
        self.boot_run.setEnabled(True)
        self.boot_note.setText("Bootstrap cancelled: no results.")

    def _clear_bootstrap(self, note: str) -> None:
        had = self.bootstrap is not None
        self.bootstrap = None
        self._boot_meta = None
        self.boot_show.setEnabled(False)
        if note:
            self.boot_note.setText(note)
        if had:
            self._built_for = None

    def _check_bootstrap(self) -> None:
        if self.bootstrap is None:
            return
        if not self._boot_matches(self._boot_meta):
            data_changed = self._boot_meta[0] is not self.state.data
            self._clear_bootstrap("Bootstrap results cleared: the "
                                  + ("data" if data_changed else "thresholds")
                                  + " changed. Run it again (Ctrl+B).")

    def add_as_scenario(self) -> str | None:
        """Add the thresholds in force to the Decision table as a scenario (asks for a
        name); returns the name used, or None."""
        from PySide6.QtWidgets import QInputDialog, QLineEdit

        from ...scenarios import Scenario

        data = self.state.data
        if data is None:
            return None
        t = np.asarray(self.state.thresholds, dtype=float)
        if self.state.group_specific:
            t = np.sort(t.reshape(data.n_groups, -1), axis=1)
            kind = "group_thresholds"
            params = {"values": {n: [float(v) for v in t[g]]
                                 for g, n in enumerate(data.group_names)}}
            default = "Audit: per group"
        else:
            t = np.sort(np.ravel(t))
            kind, params = "thresholds", {"values": [float(v) for v in t]}
            default = "Audit: " + ", ".join(f"{v:.4g}" for v in t[:4]) + (" …" if t.size > 4 else "")
        name, ok = QInputDialog.getText(self, "Add as scenario", "Name of the scenario:",
                                        QLineEdit.Normal, default)
        name = " ".join(str(name).split())
        if not ok or not name:
            return None
        used = self.state.add_scenario(Scenario(name, kind, params, {"engine": "Audit page"}))
        win = self.window()
        if hasattr(win, "statusBar"):
            win.statusBar().showMessage(f"Scenario “{used}” added: see the Decision table", 6000)
        return used

    # --------------------------------------------------------------------- public API
    def focus_rate(self, rate_key: str) -> None:
        """Show ``rate_key`` (fpr, fdr, fp_group_size, fnr, for, fn_group_size): select it in
        the metric-versus-threshold plot and highlight its fairness/reference rows."""
        i = self.metric_combo.findData(rate_key)
        if i < 0:
            return
        self.metric_combo.setCurrentIndex(i)
        self.plot_tabs.setCurrentWidget(self.metric_panel)
        self._highlight.clear()
        if rate_key in COMPARED_RATES:
            self._highlight[self.ref_table] = COMPARED_RATES.index(rate_key)
        measure = FOCUS.get(rate_key)
        if measure is not None and self._fair_rows:
            i = [k for k, _ in self._fair_rows].index(measure)
            self._highlight[self.fair_table] = self._fair_table_row[i]
        self._apply_highlight()
        exact = measure is not None and DEFINITIONS[measure].rates == (rate_key,)
        target = self.fair_table if exact else self.ref_table
        self.table_tabs.setCurrentIndex(1 if exact else 2)
        row = self._highlight.get(target)
        if row is not None:
            target.selectRow(row)
            target.scrollToItem(target.item(row, 0) or target.item(row, 1),
                                QAbstractItemView.PositionAtCenter)

    def _apply_highlight(self) -> None:
        for table in (self.fair_table, self.ref_table):
            row = self._highlight.get(table)
            rows = {row}
            if table is self.fair_table and row is not None:
                rows.add(self._fair_meaning_row.get(row))
            for r in range(table.rowCount()):
                for c in range(table.columnCount()):
                    it = table.item(r, c)
                    if it is None:
                        it = self._item(table, r, c)
                    if r in rows:
                        it.setBackground(QBrush(HIGHLIGHT))
                    else:
                        it.setBackground(NO_BRUSH)

    def settings(self) -> dict:
        names = self._group_names()
        ref = names[self.reference_index] if names else None
        return {"metric": self.metric, "reference_group": ref,
                "bootstrap_resamples": int(self.boot_b.value()),
                "bootstrap_seed": int(self.boot_seed.value()),
                "threshold_index": self.threshold_index,
                "plot_tab": self.plot_tabs.currentIndex(),
                "table_tab": self.table_tabs.currentIndex(),
                "show_bootstrap": bool(self.boot_show.isChecked()),
                "all_groups": bool(self.all_groups_check.isChecked()),
                "show_intervals": bool(self.ci_show.isChecked())}

    def apply_settings(self, settings: dict) -> None:
        s = settings or {}
        if "metric" in s:
            i = self.metric_combo.findData(s["metric"])
            if i >= 0:
                self.metric_combo.setCurrentIndex(i)
        if s.get("reference_group") is not None:
            i = self.ref_combo.findText(str(s["reference_group"]))
            if i >= 0:
                self.ref_combo.setCurrentIndex(i)
        if "bootstrap_resamples" in s:
            self.boot_b.setValue(int(s["bootstrap_resamples"]))
        if "bootstrap_seed" in s:
            self.boot_seed.setValue(int(s["bootstrap_seed"]))
        if "threshold_index" in s and self.thr_combo.count():
            self.thr_combo.setCurrentIndex(min(int(s["threshold_index"]),
                                               self.thr_combo.count() - 1))
        if "plot_tab" in s:
            self.plot_tabs.setCurrentIndex(int(s["plot_tab"]))
        if "table_tab" in s:
            self.table_tabs.setCurrentIndex(int(s["table_tab"]))
        if "show_bootstrap" in s:
            self.boot_show.setChecked(bool(s["show_bootstrap"]))
        if "all_groups" in s:
            self.all_groups_check.setChecked(bool(s["all_groups"]))
        if "show_intervals" in s:
            self.ci_show.setChecked(bool(s["show_intervals"]))

    def export_settings(self) -> dict:
        names = self._group_names()
        out = {"Reference group": names[self.reference_index] if names else "",
               "Groups compared by the fairness measures": self.reliability().describe()}
        if self.bootstrap is not None:
            out["Bootstrap resamples"] = self.bootstrap.resamples
            out["Bootstrap seed"] = self.bootstrap.seed
        return out

    def export_tables(self) -> list:
        if self.state.data is None or self.state.data.label is None or self.result is None:
            return []
        from ...reports.audit_report import audit_tables

        self._ensure_ranking()
        return audit_tables(self.result, self.state.data, self.bootstrap, self.reference_index)
