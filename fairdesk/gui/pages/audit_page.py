"""The Audit page: how the current thresholds treat each group, in tables and plots.

Tables (left): rates and confusion counts per group, the nine fairness measures with a
balance bar, differences and ratios to a reference group, AUC and cross-AUC — each described
once in :mod:`fairdesk.reports.audit_tables` and shown with ``ResultTable``. Plots (right,
:mod:`fairdesk.gui.pages.audit_plots`): ROC curves with each group's operating point, a metric
against the threshold with a draggable threshold line, score distributions and calibration by
tier. A bootstrap adds mean ± SD to the tables.

Everything that depends on the threshold is O(G·k·log n) thanks to the prepared
``state.scores`` (sorted scores and cumulative weights). While the line is dragged, one
update per frame moves the line and the markers; the tables follow when it is released.
Ranking measures (AUC, cross-AUC, ROC curves), the metric-versus-threshold curves and the
histograms do not depend on the threshold and are computed once per data change.
"""

from __future__ import annotations

import logging

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontMetrics, QKeySequence
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QGridLayout, QGroupBox,
                               QHBoxLayout, QHeaderView, QLabel, QPushButton, QSpinBox,
                               QSplitter, QStyledItemDelegate, QTabWidget, QVBoxLayout, QWidget)

from ...audit import AuditResult, run_audit
from ...bootstrap import BootstrapResult, bootstrap_audit
from ...errors import FairDeskError
from ...metrics.fairness import DEFINITIONS, Reliability
from ...metrics.rates import compute_rates
from ...metrics.ranking import group_auc, overall_auc, roc_curve, xauc_matrix
from ...present.formats import format_count, format_score
from ...reports.audit_tables import (COMPARED_RATES, COUNT_TIPS, FOCUS, GROUP_TABLE_KEYS,
                                     XAUC_TIP, auc_table, fairness_table, group_specs,
                                     group_table, group_value, groups_note, reference_note,
                                     reference_table, threshold_texts, xauc_table)
from ..palette import group_color, swatch_icon
from ..table_model import ResultTable
from .audit_plots import AuditPlots, BalanceDelegate
from .base import Page, note_label

__all__ = ["AuditPage", "GROUP_TABLE_KEYS", "compute_ranking"]

log = logging.getLogger("fairdesk.gui.audit")

GRID_POINTS = 400  # thresholds in the metric-versus-threshold curves
SYNC_RANKING_ROWS = 300_000  # above this, AUC and cross-AUC are computed in the worker
FAIR_WIDTHS = {"measure": 150, "value": 58, "interval": 112, "boot": 120, "balance": 84}
COMPUTING = ("computing…", "AUC and cross-AUC are being computed (see the status bar)")
NOT_COMPUTED = ("not computed", "The AUC computation was cancelled; use “Compute AUC and "
                "cross-AUC” on the AUC tab")


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


def metric_grid(data, scores, points: int = GRID_POINTS):
    """Every metric of each group on ``points`` thresholds across the scores' range, from one
    vectorised counts call: (thresholds, {metric: (G, points)}, (low, high))."""
    lo, hi = float(np.min(data.score)), float(np.max(data.score))
    if hi <= lo:
        hi = lo + 1.0
    x = np.linspace(lo, hi, points)
    c = scores.counts(data.to_oriented(x), shared=True)
    rates = compute_rates(c)
    with np.errstate(divide="ignore", invalid="ignore"):
        size = scores.weight_total[:, None]
        rates["fp_group_size"] = np.where(size > 0, c.fp / size, np.nan)
        rates["fn_group_size"] = np.where(size > 0, c.fn / size, np.nan)
    return x, rates, (lo, hi)


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
        self._score_range = (0.0, 1.0)
        self._group_cols: list[tuple[str, str]] = []  # the group table's metrics
        self._focus: str | None = None  # the rate focus_rate highlights
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
        lay = self.add_empty_stack(outer, "Open a data file and map its columns (score, "
                                   "outcome, group) to see the audit.")
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
        self.boot_show.toggled.connect(lambda _on: self._refresh())
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
        self.plots = AuditPlots(on_error=self._show_error)
        self.plot_tabs = self.plots.tabs
        self.splitter.addWidget(self.table_tabs)
        self.splitter.addWidget(self.plot_tabs)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self._split_done = False
        self._build_tables()
        self._build_plots()

    def _build_tables(self) -> None:
        # per group
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(2, 4, 2, 2)
        self.group_table = ResultTable("Rates by group", "Rates and confusion counts per group "
                                       "at the selected threshold; hover a title for its "
                                       "definition")
        v.addWidget(self.group_table, 1)
        row = QHBoxLayout()
        row.addWidget(note_label("Counts are weighted. “undefined” means 0/0: hover it to see "
                                 "why. Hover a title for its definition."), 1)
        self.orientation = QCheckBox("Groups as columns")
        self.orientation.setChecked(True)
        self.orientation.setToolTip("Show the groups side by side (columns) or one per row")
        self.orientation.toggled.connect(lambda _on: self._refresh())
        self.ci_show = QCheckBox("95 % intervals")
        self.ci_show.setChecked(True)
        self.ci_show.setToolTip("Show each rate's 95 % interval: exact binomial (Clopper–Pearson) "
                                "from the counts; FN/FP and FP/FN from the bootstrap when it has run")
        self.ci_show.toggled.connect(lambda _on: self._refresh())
        row.addWidget(self.ci_show, 0, Qt.AlignTop)
        row.addWidget(self.orientation, 0, Qt.AlignTop)
        v.addLayout(row)
        self.table_tabs.addTab(w, "By group")
        self.table_tabs.setTabToolTip(0, "Rates and confusion counts per group")

        # fairness: value rows with the measure's meaning spanning the row below
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(2, 4, 2, 2)
        self.fair_table = ResultTable(
            "Fairness measures", "The nine fairness definitions, each measured as the smallest "
            "ratio (smaller ÷ larger) between any two groups of the rate(s) it asks to be "
            "equal: 1 = balanced", sortable=False)
        self.fair_table.setWordWrap(True)
        self.fair_table.setTextElideMode(Qt.ElideRight)
        self.fair_table.setAlternatingRowColors(False)
        self.fair_table.setShowGrid(False)
        self.fair_table.horizontalHeader().setMinimumSectionSize(40)
        self.fair_table.horizontalHeader().sectionResized.connect(lambda *_: self._fit_fair_rows())
        self._balance_delegate = BalanceDelegate(self.fair_table)
        self._plain_delegate = QStyledItemDelegate(self.fair_table)
        row = QHBoxLayout()
        self.fair_groups_note = note_label("")
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
        v.addWidget(note_label(
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
        self.ref_table = ResultTable("Compared with the reference group", "Each rate of each "
                                     "group compared with the reference group")
        row = QHBoxLayout()
        row.addWidget(QLabel("Show"))
        self.ref_show = QComboBox()
        self.ref_show.addItem("differences and ratios", ("diff", "ratio"))
        self.ref_show.addItem("differences only", ("diff",))
        self.ref_show.addItem("ratios only", ("ratio",))
        self.ref_show.setToolTip("Which comparisons with the reference group to show")
        self.ref_show.currentIndexChanged.connect(lambda _i: self._refresh())
        row.addWidget(self.ref_show)
        row.addStretch(1)
        v.addLayout(row)
        v.addWidget(self.ref_table, 1)
        self.ref_note = note_label("")
        v.addWidget(self.ref_note)
        self.table_tabs.addTab(w, "vs reference")
        self.table_tabs.setTabToolTip(2, "Difference (group − reference) and ratio (group ÷ "
                                         "reference) of every rate")

        # AUC and cross-AUC
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(2, 4, 2, 2)
        v.addWidget(note_label("<b>AUC per group</b> — how well the score ranks people with the "
                               "outcome above people without it, within each group (0.5 = "
                               "chance, 1 = perfect). It does not depend on the threshold."))
        self.auc_table = ResultTable("AUC per group", COUNT_TIPS["auc"])
        v.addWidget(self.auc_table)
        v.addWidget(note_label("<b>Cross-AUC</b> — rows: group of the people with the outcome; "
                               "columns: group of the people without it; the diagonal (bold) "
                               "is each group's AUC. Hover for details."))
        self.xauc_table = ResultTable("Cross-AUC", XAUC_TIP)
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
        p = self.plots
        for name in ("roc_panel", "metric_panel", "dist_panel", "cal_panel", "metric_combo",
                     "line_group_label", "line_group_combo", "drag_line"):
            setattr(self, name, getattr(p, name))
        self.metric_combo.currentIndexChanged.connect(lambda _i: self._draw_metric_curves())
        self.line_group_combo.currentIndexChanged.connect(lambda _i: self._sync_lines())
        p.threshold.moved.connect(self._drag_frame)
        p.threshold.released.connect(self._on_line_released)

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

    def _boot_visible(self) -> bool:
        return self.bootstrap is not None and self.boot_show.isChecked()

    def _ranking_ready(self) -> bool:
        return self._ranking is not None and self._ranking[0] is self.state.data

    def _pending(self):
        """None when AUC and cross-AUC are known, else what their cells say."""
        if self._ranking_ready():
            return None
        return COMPUTING if self._ranking_job is not None else NOT_COMPUTED

    # -------------------------------------------------------------------------- state
    def _on_data_changed(self) -> None:
        data = self.state.data
        self._focus = None
        if self.bootstrap is not None:
            self._clear_bootstrap("Bootstrap results cleared: the data changed. Run it again "
                                  "(Ctrl+B).")
        if data is None or self.state.scores is None or data.label is None:
            self.result = None
            if data is None or self.state.scores is None:
                self._ranking = None
                self.empty.setText("Open a data file and map its columns (score, outcome, "
                                   "group) to see the audit.")
            else:
                self.empty.setText("The audit compares decisions with outcomes: map an outcome "
                                   "(label) column on the Data page.")
            self.stack.setCurrentIndex(0)
            return
        if "bootstrap" in self.state.seeds:
            self.boot_seed.setValue(int(self.state.seeds["bootstrap"]))
        for combo in (self.ref_combo, self.line_group_combo):
            old = combo.currentText()
            combo.blockSignals(True)
            combo.clear()
            for g, name in enumerate(self._group_names()):
                combo.addItem(swatch_icon(group_color(g)), name)
            i = combo.findText(old)
            combo.setCurrentIndex(i if i >= 0 else 0)
            combo.blockSignals(False)
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
        self._refresh()

    def _on_threshold_index(self, _i: int) -> None:
        self._refresh()

    def _on_reference_changed(self, _i: int) -> None:
        if self.result is not None:
            self._refresh()

    # ----------------------------------------------------------------- static parts
    def _compute_static(self) -> None:
        """Everything that does not depend on the threshold (once per data change)."""
        data, scores = self.state.data, self.state.scores
        self._ranking = None
        self._start_ranking()
        self._grid_x, self._grid_rates, self._score_range = metric_grid(data, scores)
        self.plots.set_data(data, scores)
        self._draw_roc()
        self._draw_metric_curves()
        self.plots.draw_distributions(data, scores, self._score_range)
        self.plots.draw_calibration_axes(data.group_names)

    def _start_ranking(self, force_async: bool = False) -> None:
        data, scores = self.state.data, self.state.scores
        self.ranking_retry.hide()
        if data.n <= SYNC_RANKING_ROWS and not force_async:
            self._ranking = (data,) + tuple(compute_ranking(data, scores))
            return
        self._ranking_pending = data
        self._ranking_job = self.worker.start(
            compute_ranking, data, scores, title="Computing AUC and cross-AUC",
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
        self._refresh()

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
        if not self._ranking_ready():
            self._ranking = (data,) + tuple(compute_ranking(data, self.state.scores))
            self._refresh()

    def _draw_roc(self) -> None:
        auc = self._ranking[1] if self._ranking_ready() else None
        self.plots.draw_roc(self.state.data, self.state.scores, auc, roc_curve)

    def _draw_metric_curves(self) -> None:
        if self._grid_x is None or self.state.data is None:
            return
        self.plots.draw_metric(self.state.data.group_names, self._grid_x,
                               self._grid_rates[self.metric], self.metric, self._score_range)
        self._update_metric_points()

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
        if self._ranking_ready():
            # ranking measures do not depend on the threshold: computed once per data
            res.auc, res.xauc, res.auc_overall = self._ranking[1:4]
        self.result = res
        self.stack.setCurrentIndex(1)
        return res

    def _refresh(self) -> None:
        """Audit at the live thresholds; tables, threshold text, lines and markers."""
        res = self._audit_live()
        if res is None:
            return
        self._check_bootstrap()
        res.intervals = self.bootstrap
        self._fill_tables()
        self._update_threshold_text()
        self._sync_lines()
        self._update_plot_markers()

    def _update_threshold_text(self) -> None:
        data = self.state.data
        label, tip, items = threshold_texts(
            self._live, self.threshold_index, group_names=data.group_names,
            group_specific=bool(self.state.group_specific),
            higher_is_positive=data.mapping.higher_is_positive, decimals=data.score_decimals)
        self.thr_label.setText(label)
        self.thr_label.setToolTip(tip)
        if self.thr_combo.count() == len(items):
            for i, text in enumerate(items):
                if self.thr_combo.itemText(i) != text:
                    self.thr_combo.setItemText(i, text)

    # --- tables ---
    def _fill_tables(self) -> None:
        res, j, data = self.result, self.threshold_index, self.state.data
        boot = self.bootstrap if self._boot_visible() else None
        self._group_cols = group_specs(self.ci_show.isChecked(), boot is not None)
        gt = self.group_table
        hh = gt.horizontalHeader()
        hh.setMinimumSectionSize(40)  # the columns fit their text first
        gt.set_table(group_table(res, j, across=self.groups_as_columns,
                                 show_ci=self.ci_show.isChecked(), bootstrap=boot,
                                 people_decimals=data.people_decimals, pending=self._pending()))
        if self.groups_as_columns:  # groups share the width, never narrower than their text
            hh.setMinimumSectionSize(min(max(hh.sectionSize(c) for c in
                                             range(1, gt.source.columnCount())), 170))
            hh.setSectionResizeMode(QHeaderView.Stretch)
            hh.setSectionResizeMode(0, QHeaderView.ResizeToContents)
        self._fill_fairness_table(boot)
        show = self.ref_show.currentData() or ("diff", "ratio")
        self.ref_table.set_table(reference_table(
            res, j, self.reference_index, show,
            highlight=self._focus if self._focus in COMPARED_RATES else None))
        self.ref_note.setText(reference_note(res.group_names[self.reference_index]))
        self._fill_auc_tables()

    def _fill_fairness_table(self, boot) -> None:
        ft = self.fair_table
        table = fairness_table(self.result, self.threshold_index, bootstrap=boot,
                               highlight=FOCUS.get(self._focus))
        ft.set_table(table)
        ft.clearSpans()
        keys = [c.key for c in table.columns]
        for r, row in enumerate(table.row_dicts()):
            if row["row_kind"] == "meaning":
                ft.setSpan(r, 0, 1, len(keys))
        fh = ft.horizontalHeader()
        for c, key in enumerate(keys):
            ft.setItemDelegateForColumn(c, self._balance_delegate if key == "balance"
                                        else self._plain_delegate)
            if key in FAIR_WIDTHS:
                fh.setSectionResizeMode(c, QHeaderView.Fixed)
                ft.setColumnWidth(c, FAIR_WIDTHS[key])
        fh.setSectionResizeMode(keys.index("pair"), QHeaderView.Stretch)
        self._fit_fair_rows()
        text, tip = groups_note(self.result, self.threshold_index)
        self.fair_groups_note.setText(text)
        self.fair_groups_note.setToolTip(tip)

    def _fit_fair_rows(self) -> None:
        """Value rows fit their text; explanation rows are measured on the full width they
        span (Qt would measure them on the first column only)."""
        ft = self.fair_table
        if ft.table is None:
            return
        width = max(ft.viewport().width() - 10, 100)
        fm = QFontMetrics(ft.font())
        for r, row in enumerate(ft.table.row_dicts()):
            if row["row_kind"] == "meaning":
                text = ft.source.text(r, 0)
                rect = fm.boundingRect(0, 0, width, 10_000, int(Qt.TextWordWrap), text)
                ft.setRowHeight(r, rect.height() + 8)
            else:
                ft.resizeRowToContents(r)
                if ft.rowHeight(r) < 28:
                    ft.setRowHeight(r, 28)

    def _fill_auc_tables(self) -> None:
        res = self.result
        if res is None:
            return
        boot = self.bootstrap if self._boot_visible() else None
        pending = self._pending()
        self.auc_table.set_table(auc_table(res, bootstrap=boot, pending=pending,
                                           people_decimals=self.state.data.people_decimals))
        self.auc_table.fit_height(len(res.group_names) + 1)
        self.xauc_table.set_table(xauc_table(res, bootstrap=boot, pending=pending))
        self.xauc_table.fit_height(len(res.group_names))

    def reliability(self) -> Reliability:
        """The groups the fairness measures compare (the page's toggle and the minimum size)."""
        return Reliability(min_group_size=int(getattr(self.state, "min_group_size", 30)),
                           all_groups=self.all_groups_check.isChecked())

    def _on_all_groups(self, _on: bool) -> None:
        if self.bootstrap is not None:  # its resamples compared the other set of groups
            self._clear_bootstrap("Bootstrap results cleared: the groups compared changed. Run it "
                                  "again (Ctrl+B).")
        self._refresh()

    # --- plots ---
    def _sync_lines(self) -> None:
        """Put the threshold lines where the live thresholds are (no feedback loop)."""
        if self._live is None or self.state.data is None:
            return
        self.plots.sync_lines(self._live, self.threshold_index, bool(self.state.group_specific),
                              self._line_group(), self._score_range)

    def _update_plot_markers(self) -> None:
        if self.result is not None and self._live is not None:
            self.plots.update_markers(self.result, self.threshold_index, self._metric_points())

    def _update_metric_points(self) -> None:
        if self.result is not None and self._live is not None:
            self.plots.set_metric_points(self._metric_points())

    def _metric_points(self) -> list:
        res, key, j = self.result, self.metric, self.threshold_index
        gs = self.state.group_specific
        return [(g, self._live[g, j] if gs else self._live[j],
                 group_value(res, key, g, j, ranking=self._ranking_ready())[0])
                for g in range(len(res.group_names))]

    # --- dragging ---
    def _set_live_from_line(self, value: float) -> bool:
        if self._live is None:
            return False
        j = self.threshold_index
        index = (self._line_group(), j) if self.state.group_specific else (j,)
        if self._live[index] == value:
            return False
        self._live = self._live.copy()
        self._live[index] = value
        return True

    def _drag_frame(self, value: float) -> None:
        """One drag update (at most one per frame): the audit at the line, the threshold text,
        the lines and the markers. The curves do not change and are not redrawn (they are
        cached as pixmaps); the tables are filled when the line rests (released)."""
        if not self._set_live_from_line(value) or self._audit_live() is None:
            return
        self._update_threshold_text()
        self._sync_lines()
        self._update_plot_markers()
        self.dragUpdated.emit()

    def _on_line_released(self, value: float) -> None:
        if self._live is None:
            return
        self._set_live_from_line(value)
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
        self.boot_note.setText(f"Running {format_count(B)} resamples (seed {seed})… Cancel in "
                               "the status bar (Esc).")
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
        self.boot_note.setText(f"{format_count(result.resamples)} resamples, seed {result.seed}: "
                               "mean ± SD "
                               "shown next to the values.")
        self.boot_show.blockSignals(True)
        self.boot_show.setChecked(True)
        self.boot_show.blockSignals(False)
        self._refresh()

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
        self.bootstrap = None
        self._boot_meta = None
        self.boot_show.setEnabled(False)
        if note:
            self.boot_note.setText(note)

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
            default = "Audit: " + ", ".join(format_score(v, data.score_decimals) for v in t[:4]) \
                + (" …" if t.size > 4 else "")
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
        self._focus = rate_key
        if self.result is not None:
            self._fill_tables()
        measure = FOCUS.get(rate_key)
        exact = measure is not None and DEFINITIONS[measure].rates == (rate_key,)
        target = self.fair_table if exact else self.ref_table
        self.table_tabs.setCurrentIndex(1 if exact else 2)
        row = self.focus_row(target)
        if row is not None:
            target.selectRow(row)
            target.scrollTo(target.model().index(row, 0), QAbstractItemView.PositionAtCenter)

    def focus_row(self, view: ResultTable) -> int | None:
        """The view row of the focused rate (reference table) or its measure (fairness)."""
        if self._focus is None or view.table is None:
            return None
        measure = FOCUS.get(self._focus)
        for r, row in enumerate(view.table.row_dicts()):
            if (view is self.ref_table and row.get("key") == self._focus) or (
                    view is self.fair_table and row.get("row_kind") == "value"
                    and measure is not None and row.get("measure_key") == measure):
                return view.proxy.mapFromSource(view.source.index(r, 0)).row()
        return None

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
