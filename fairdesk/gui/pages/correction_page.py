"""Error-rate balance: the Oregon study's group-specific threshold correction.

Settings on top (fairness definition, the group-agnostic thresholds, the penalty-weight
grid, subsamples, seed); "Run" hands :func:`run_correction` to the worker. The result holds
everything for every penalty weight w, so choosing another w (per threshold, or one for
all) updates every table and plot without recomputing. "Apply corrected thresholds" puts
the group-specific thresholds in the shared state for the Audit and Tiers pages.

Tables: corrected thresholds per threshold (the study's Table 3), rates per group before
and after (Tables 2 and 4), the nine measures before and after (Table 9), and the tier
transitions per group. Plots: fairness against w and against the share of people moved
(Figure 2), thresholds against w (Figure 1), the per-subsample distribution (Figure 3) and
the scores by group coloured by corrected tier (Figure 8).
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QIcon, QKeySequence, QPixmap
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox,
                               QGroupBox, QHBoxLayout, QHeaderView, QLabel,
                               QProgressBar, QPushButton, QSlider, QSpinBox, QSplitter,
                               QTableWidget, QTableWidgetItem, QTabWidget,
                               QVBoxLayout, QWidget)

from ...engines.threshold_correction import (ASSESS_RATES, CorrectionSettings, run_correction,
                                             subsample_mode, summarize_reasons)
from ...errors import FairDeskError
from ...metrics.fairness import DEFINITIONS
from ...metrics.rates import RATES
from ...metrics.thresholds import ThresholdRule
from ...reports import correction_figures as cf
from ..palette import group_color
from ..plots import PlotPanel, add_legend, group_pen
from .base import Page, note_label, readonly_table

log = logging.getLogger("fairdesk.gui.correction")

GREY = QColor("#6E6E6E")
TEXT = QBrush(QColor("#000000"))
STAYED = QColor("#EEF3F8")
# thresholds (not groups) in Figure 2: Paul Tol's "muted" set, so that no threshold looks
# like a group's colour
THRESHOLD_COLORS = ["#332288", "#CC6677", "#117733", "#882255", "#44AA99", "#999933", "#AA4499",
                    "#DDCC77", "#88CCEE"]
THRESHOLD_STYLES = [Qt.SolidLine, Qt.DashLine, Qt.DashDotLine, Qt.DotLine]
SUBSAMPLING = (("auto", "Automatic"), ("unit", "One random row per id"),
               ("bootstrap", "Bootstrap (rows with replacement)"))
SUBSAMPLING_TIPS = {
    "auto": "One random row per id when an id column is mapped and some id has several rows "
            "(the study's one record per child); bootstrap otherwise",
    "unit": "Each subsample takes one random row of every id (person, child, case): needs an "
            "id column on the Data page",
    "bootstrap": "Each subsample draws as many rows as the data has, with replacement",
}
MODE_TEXT = {"unit": "one random row per id", "bootstrap": "bootstrap"}
RATE_SHORT = {"fnr": "FNR", "tpr": "TPR", "fpr": "FPR", "tnr": "TNR", "ppv": "PPV",
              "fdr": "FDR", "npv": "NPV", "for": "FOR", "accuracy": "Accuracy"}
W_TIP = ("Penalty weight w: the optimizer minimises (1 − w)·(1 − fairness) + w·Δ, Δ being "
         "the share of people whose tier changes. w = 0 seeks fairness at any cost; w = 1 keeps "
         "the group-agnostic thresholds.")


def fmt(x: float, digits: int = 3) -> str:
    return "undefined" if not math.isfinite(x) else f"{x:.{digits}f}"


def fmt_score(v: float) -> str:
    if not math.isfinite(v):
        return "undefined"
    return f"{v:,.1f}" if abs(v) >= 10_000 else f"{v:.4g}"


def fmt_w(w: float) -> str:
    return f"{w:.3f}".rstrip("0").rstrip(".") if w not in (0, 1) else f"{w:.0f}"


def fmt_count(v: float) -> str:
    return f"{v:,.0f}" if abs(v - round(v)) < 1e-9 else f"{v:,.1f}"


def mean_sd(m: float, s: float) -> str:
    if not math.isfinite(m):
        return "undefined"
    return f"{m:.3f} ± {s:.3f}" if math.isfinite(s) else f"{m:.3f}"


def color_icon(color: QColor, size: int = 12) -> QIcon:
    pm = QPixmap(size, size)
    pm.fill(color)
    return QIcon(pm)


def legend_columns(labels, width: float) -> int:
    """How many legend columns fit across ``width`` pixels (1 to 3)."""
    longest = max((len(x) for x in labels), default=10)
    return int(max(1, min(3, (width - 40) // (46 + 7 * longest))))


def tier_colors(n: int) -> list[QColor]:
    """Lowest to highest risk: viridis from dark purple to green (no pale yellow on white)."""
    cmap = pg.colormap.get("viridis")
    return [cmap.map(0.05 + 0.8 * i / max(n - 1, 1), mode="qcolor") for i in range(n)]


class CorrectionPage(Page):
    split_fraction = 0.5
    key = "correction"
    title = "Error-rate balance"

    def __init__(self, state, worker, parent=None):
        super().__init__(state, worker, parent)
        self.workers: int | None = None  # optimizer processes; None = one per core
        self.result = None
        self.chosen: dict[int, int] = {}  # threshold index -> w index
        self._run_data = None  # the AnalysisData the result was computed on
        self._run_settings: dict | None = None  # settings() of the run, for "changed since"
        self._run_seconds = 0.0
        self._pending_chosen: list | None = None  # w values from a project, for the next run
        self._job = None
        self._run_id = 0
        self._cancelling: int | None = None  # run id of a cancelled job not yet stopped
        self._started = 0.0
        self._transitions: tuple | None = None  # (chosen key, matrix)
        self._strip = None  # (rows, x, y) of the scores-by-group plot
        self._strip_items = None
        self._strip_post = None
        self._short: list[str] = []
        self.fair_markers: list = []
        self.trade_markers: list = []
        self._syncing = False
        self._idle_message = ""  # "Cancelled. " before "Run to see results."
        self._strip_masks: list | None = None
        self._heavy_timer = QTimer(self)
        self._heavy_timer.setSingleShot(True)
        self._heavy_timer.setInterval(60)
        self._heavy_timer.timeout.connect(self.refresh_now)
        self._build()
        self.worker.progress.connect(self._on_progress)
        state.dataChanged.connect(self._on_data_changed)
        state.thresholdsChanged.connect(self._refresh_threshold_choice)
        self._on_data_changed()

    def toolTip(self) -> str:  # the navigation entry's tooltip
        return ("Group-specific thresholds that balance error rates (or another fairness "
                "definition) against the number of people whose tier changes — the Oregon "
                "study's correction")

    # ================================================================== layout
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.setSpacing(4)
        self.settings_box = QGroupBox("Correction settings")
        self.settings_box.setToolTip("How the group-specific thresholds are searched for. The "
                                     "results keep every penalty weight, so w is chosen after "
                                     "the run.")
        outer.addWidget(self.settings_box)
        rows = QVBoxLayout(self.settings_box)
        rows.setContentsMargins(8, 4, 8, 6)
        rows.setSpacing(4)
        row0, row1, row2 = QHBoxLayout(), QHBoxLayout(), QHBoxLayout()
        for r in (row0, row1, row2):
            r.setSpacing(6)
            rows.addLayout(r)

        # row 0: the definition and its meaning
        self.definition = QComboBox()
        for key, d in DEFINITIONS.items():
            self.definition.addItem(f"{key} — {d.name}", key)
            self.definition.setItemData(self.definition.count() - 1, d.meaning, Qt.ToolTipRole)
        self.definition.setCurrentIndex(self.definition.findData("ERB"))
        self.definition.setToolTip("The fairness definition the thresholds are corrected for "
                                   "(the study's default: error rate balance)")
        self.definition.currentIndexChanged.connect(self._definition_changed)
        self.meaning = QLabel()
        self.meaning.setStyleSheet("color:#404040")
        self.meaning.setWordWrap(True)
        row0.addWidget(self._label("Definition", self.definition.toolTip()))
        row0.addWidget(self.definition)
        row0.addWidget(self.meaning, 1)

        # row 1: thresholds, subsampling, seed
        self.thresholds = QComboBox()
        self.thresholds.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.thresholds.setMinimumContentsLength(22)
        self.thresholds.addItem("The study's three: Oregon low, mean, Oregon high", "oregon")
        self.thresholds.setItemData(0, "Oregon low = median of the scores below the mean; mean; "
                                       "Oregon high = 75th percentile of the scores above the "
                                       "mean (computed again on every subsample)", Qt.ToolTipRole)
        self.thresholds.addItem("The thresholds of the Tiers page", "tiers")
        self.thresholds.setToolTip("The group-agnostic thresholds Φ to correct; each is "
                                   "computed again on every subsample by its rule")
        self.thresholds.currentIndexChanged.connect(self._settings_edited)
        self.subsampling = QComboBox()
        for key, text in SUBSAMPLING:
            self.subsampling.addItem(text, key)
            self.subsampling.setItemData(self.subsampling.count() - 1, SUBSAMPLING_TIPS[key],
                                         Qt.ToolTipRole)
        self.subsampling.setToolTip("How each subsample is drawn")
        self.subsampling.currentIndexChanged.connect(self._settings_edited)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2_147_483_647)
        self.seed.setValue(self.state.seed("threshold_correction"))
        self.seed.setToolTip("Random seed of the subsamples: the same seed, data and settings "
                             "give the same results on any computer. Saved in the project and "
                             "the workbook.")
        self.seed.valueChanged.connect(self._settings_edited)
        row1.addWidget(self._label("Thresholds", self.thresholds.toolTip()))
        row1.addWidget(self.thresholds, 1)
        row1.addSpacing(8)
        row1.addWidget(self._label("Subsampling", self.subsampling.toolTip()))
        row1.addWidget(self.subsampling)
        row1.addSpacing(8)
        row1.addWidget(self._label("Seed", self.seed.toolTip()))
        row1.addWidget(self.seed)

        # row 2: weights, subsamples, run
        def dspin(value, tip):
            s = QDoubleSpinBox()
            s.setDecimals(3)
            s.setRange(0.0, 1.0)
            s.setSingleStep(0.01)
            s.setValue(value)
            s.setToolTip(tip)
            s.valueChanged.connect(self._settings_edited)
            return s
        self.w_start = dspin(0.0, "Smallest penalty weight w (0 = fairness at any cost)")
        self.w_stop = dspin(1.0, "Largest penalty weight w (1 = keep the group-agnostic "
                                 "thresholds)")
        self.w_step = dspin(0.01, "Step between penalty weights (0.01 gives 101 weights, the "
                                  "study's grid)")
        self.w_step.setMinimum(0.001)
        self.w_count = QLabel()
        self.w_count.setStyleSheet("color:#404040")
        self.w_count.setMinimumWidth(QFontMetrics(self.w_count.font()).horizontalAdvance(
            "= 1,001 values") + 6)
        row2.addWidget(self._label("Penalty weights w", W_TIP))
        for widget in (QLabel("from"), self.w_start, QLabel("to"), self.w_stop,
                       QLabel("step"), self.w_step, self.w_count):
            row2.addWidget(widget)
        self.subsamples = QSpinBox()
        self.subsamples.setRange(1, 100_000)
        self.subsamples.setValue(200)
        self.subsamples.setGroupSeparatorShown(True)
        self.subsamples.setToolTip("I: subsamples on which the thresholds are optimised; the "
                                   "corrected thresholds are their averages (bagging). The "
                                   "study uses 200.")
        self.subsamples.valueChanged.connect(self._settings_edited)
        self.audit_subsamples = QSpinBox()
        self.audit_subsamples.setRange(2, 100_000)
        self.audit_subsamples.setValue(200)
        self.audit_subsamples.setGroupSeparatorShown(True)
        self.audit_subsamples.setToolTip("J: fresh subsamples on which the averaged thresholds "
                                         "are assessed (mean and SD of every measure). The "
                                         "study uses 200.")
        self.audit_subsamples.valueChanged.connect(self._settings_edited)
        row2.addSpacing(8)
        row2.addWidget(self._label("Subsamples I", self.subsamples.toolTip()))
        row2.addWidget(self.subsamples)
        row2.addSpacing(8)
        row2.addWidget(self._label("Assessment J", self.audit_subsamples.toolTip()))
        row2.addWidget(self.audit_subsamples)
        row2.addStretch(1)
        self.run_button = QPushButton("Run")
        self.run_button.setShortcut(QKeySequence("Ctrl+R"))
        self.run_button.setToolTip("Run the correction (Ctrl+R). It can take minutes; progress "
                                   "and Cancel are here and in the status bar.")
        self.run_button.setStyleSheet("QPushButton { font-weight: bold; padding: 3px 18px; }")
        self.run_button.clicked.connect(self.run)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the running correction")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        row2.addWidget(self.run_button)
        row2.addWidget(self.cancel_button)

        status_row = QHBoxLayout()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color:#303030")
        status_row.addWidget(self.status, 1)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setMinimumWidth(300)
        self.progress.hide()
        status_row.addWidget(self.progress)
        outer.addLayout(status_row)

        rl = self.add_empty_stack(outer)
        self.placeholder = self.empty
        rl.addLayout(self._build_choice_row())
        self.splitter = QSplitter(Qt.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        rl.addWidget(self.splitter, 1)
        self.table_tabs = QTabWidget()
        self.table_tabs.setDocumentMode(True)
        self.plot_tabs = QTabWidget()
        self.plot_tabs.setDocumentMode(True)
        self.splitter.addWidget(self.table_tabs)
        self.splitter.addWidget(self.plot_tabs)
        self._split_done = False
        self._build_tables()
        self._build_plots()
        self.table_tabs.currentChanged.connect(lambda _i: self._refresh_transitions())
        self.plot_tabs.currentChanged.connect(lambda _i: self._refresh_plots())
        self._definition_changed()

    def _build_choice_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(6)
        box = QGroupBox()
        box.setToolTip(W_TIP)
        bl = QHBoxLayout(box)
        bl.setContentsMargins(8, 3, 8, 3)
        bl.addWidget(QLabel("<b>Threshold</b>"))
        self.threshold_combo = QComboBox()
        self.threshold_combo.setToolTip("The threshold whose w the slider sets, and whose rates "
                                        "and measures the tables show")
        self.threshold_combo.setSizeAdjustPolicy(QComboBox.AdjustToContents)
        self.threshold_combo.currentIndexChanged.connect(self._threshold_selected)
        bl.addWidget(self.threshold_combo)
        bl.addSpacing(8)
        self.w_label = QLabel("<b>w</b>")
        self.w_label.setToolTip(W_TIP)
        bl.addWidget(self.w_label)
        self.w_slider = QSlider(Qt.Horizontal)
        self.w_slider.setMinimumWidth(90)
        self.w_slider.setToolTip("Choose the penalty weight w among those computed. Every table "
                                 "and plot follows (nothing is recomputed).")
        self.w_slider.valueChanged.connect(self._slider_moved)
        bl.addWidget(self.w_slider, 1)
        self.w_value = QLabel()
        self.w_value.setMinimumWidth(120)
        bl.addWidget(self.w_value)
        self.same_w = QCheckBox("Same w for all")
        self.same_w.setToolTip("Move every threshold's w together (calibration always uses one "
                               "w: its thresholds are optimised jointly)")
        self.same_w.toggled.connect(self._same_w_toggled)
        bl.addWidget(self.same_w)
        self.suggest_button = QPushButton("Suggested w")
        self.suggest_button.setToolTip("Back to the suggested w of every threshold: the highest "
                                       "mean fairness on the assessment subsamples (ties: the "
                                       "smallest SD, then the largest w)")
        self.suggest_button.clicked.connect(self.use_suggested)
        bl.addWidget(self.suggest_button)
        row.addWidget(box, 1)
        self.apply_button = QPushButton("Apply corrected thresholds")
        self.apply_button.setToolTip("Use the corrected group-specific thresholds at the chosen "
                                     "w's as the current thresholds: the Audit and Tiers pages "
                                     "show them")
        self.apply_button.setStyleSheet("QPushButton { font-weight: bold; padding: 5px 12px; }")
        self.apply_button.clicked.connect(self.apply_corrected)
        row.addWidget(self.apply_button)
        self.scenario_button = QPushButton("Add as scenario")
        self.scenario_button.setToolTip("Add the corrected thresholds at the chosen w's to the "
                                        "Decision table, to compare them with other options")
        self.scenario_button.clicked.connect(self.add_as_scenario)
        row.addWidget(self.scenario_button)
        return row

    @staticmethod
    def _label(text: str, tip: str) -> QLabel:
        label = QLabel(text)
        label.setToolTip(tip)
        return label

    @staticmethod
    def _table(tip: str) -> QTableWidget:
        return readonly_table(tip, alternate=False)

    @staticmethod
    def _note(text: str = "") -> QLabel:
        return note_label(text)

    def _tab(self, table: QTableWidget, note: QLabel, title: QLabel | None = None) -> QWidget:
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(2, 4, 2, 2)
        if title is not None:
            v.addWidget(title)
        v.addWidget(table, 1)
        v.addWidget(note)
        return w

    def _build_tables(self) -> None:
        self.summary_table = self._table("The corrected thresholds per group at the chosen w, "
                                         "and fairness before and after on the assessment "
                                         "subsamples; hover a row title for its meaning")
        self.summary_note = self._note()
        self.summary_help = self._note(
            "<b>How to read this.</b> For each threshold the optimizer searched, on each of the "
            "I subsamples and for every penalty weight w, the group-specific thresholds that "
            "minimise (1 − w)·(1 − fairness) + w·(share of people moved); the thresholds shown "
            "are the averages over the subsamples. These averaged thresholds were then applied "
            "to J fresh subsamples: the fairness before and after is their mean ± SD. The "
            "suggested w has the highest mean fairness there. A larger w moves fewer people; a "
            "smaller one may balance the groups more but moves more people between tiers.<br>"
            "Choose w with the slider (or drag the line in the Fairness and Thresholds plots), "
            "then press <b>Apply corrected thresholds</b> to audit them on the Audit page.")
        self.summary_help.setStyleSheet("color:#303030; background:#F7F9FB; "
                                        "border:1px solid #DDE3EA; padding:8px")
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(2, 4, 2, 2)
        v.addWidget(self.summary_table)
        v.addSpacing(6)
        v.addWidget(self.summary_help)
        v.addStretch(1)
        v.addWidget(self.summary_note)
        self.table_tabs.addTab(w, "Thresholds")
        self.table_tabs.setTabToolTip(0, "Corrected thresholds and fairness before and after "
                                         "(the study's Table 3)")
        self.rates_title = self._note()
        self.rates_table = self._table("Rates per group before → after the correction at the "
                                       "selected threshold: means over the assessment "
                                       "subsamples; hover a cell for the SDs")
        self.rates_note = self._note("Means over the assessment subsamples. Hover a value for "
                                     "its standard deviation, a rate for its definition.")
        self.table_tabs.addTab(self._tab(self.rates_table, self.rates_note, self.rates_title),
                               "Rates by group")
        self.table_tabs.setTabToolTip(1, "Error rates and predictive values per group before "
                                         "and after (Tables 2 and 4)")
        self.measures_title = self._note()
        self.measures_table = self._table("The nine fairness measures before and after the "
                                          "correction: the smallest ratio between two groups, "
                                          "1 = balanced")
        self.measures_note = self._note()
        self.table_tabs.addTab(self._tab(self.measures_table, self.measures_note,
                                         self.measures_title), "Fairness measures")
        self.table_tabs.setTabToolTip(2, "All nine measures before and after (Table 9)")
        self.transitions_table = self._table("People by tier before (rows) and after (columns) "
                                             "the correction, per group")
        self.transitions_note = self._note()
        self.table_tabs.addTab(self._tab(self.transitions_table, self.transitions_note),
                               "Transitions")
        self.table_tabs.setTabToolTip(3, "Who moves between tiers, per group")

    def _build_plots(self) -> None:
        err = self._show_error
        self.fair_panel = PlotPanel("Fairness after correction vs w", "Penalty weight w",
                                    "Fairness (1 = balanced)", name="fairness_vs_w",
                                    on_error=err)
        self.fair_panel.widget.setToolTip(
            "Mean fairness over the assessment subsamples after correction, per threshold, "
            "with a ±1 SD band; dashed: before correction. Drag the black line to choose w.")
        self.fair_legend = add_legend(self.fair_panel.plot, offset=(10, 10))
        self.plot_tabs.addTab(self.fair_panel, "Fairness")
        self.plot_tabs.setTabToolTip(0, "Fairness against the penalty weight (Figure 2)")

        self.trade_panel = PlotPanel("Fairness vs people moved", "People on the other side of "
                                     "the threshold (%)", "Fairness (1 = balanced)",
                                     name="fairness_vs_changed", on_error=err)
        self.trade_panel.widget.setToolTip(
            "Each point is one w: the share of people whose side of the threshold changes (x) "
            "and the mean fairness (y), with ±1 SD bars. Squares: before correction (no one "
            "moved). Ringed: the chosen w.")
        self.trade_legend = add_legend(self.trade_panel.plot, offset=(-10, -10))
        self.plot_tabs.addTab(self.trade_panel, "Trade-off")
        self.plot_tabs.setTabToolTip(1, "Fairness against the share of people moved (Figure 2)")

        self.thr_panel = PlotPanel("Corrected thresholds vs w", "Penalty weight w",
                                   "Threshold (score)", name="thresholds_vs_w", on_error=err)
        self.thr_panel.widget.setToolTip(
            "Each group's corrected threshold (averaged over the subsamples) against w; dashed "
            "black: the group-agnostic threshold. Drag the black line to choose w.")
        self.thr_show = QComboBox()
        self.thr_show.setToolTip("Which thresholds to draw")
        self.thr_show.currentIndexChanged.connect(lambda _i: self._draw_thresholds_vs_w())
        self.thr_panel.add_control(QLabel("Show"))
        self.thr_panel.add_control(self.thr_show)
        self.thr_legend = add_legend(self.thr_panel.plot, offset=(10, 10))
        self.plot_tabs.addTab(self.thr_panel, "Thresholds")
        self.plot_tabs.setTabToolTip(2, "Corrected thresholds per group against w (Figure 1)")

        self.gain_panel = PlotPanel("Per subsample: before and after", "Value (1 = best)",
                                    "Subsamples", name="subsample_gain", on_error=err)
        self.gain_panel.widget.setToolTip(
            "Histogram over the correction subsamples of what the optimizer saw: the fairness "
            "at the group-agnostic threshold, and 1 − objective at the corrected thresholds "
            "(in-sample; the tables show the out-of-sample assessment)")
        self.gain_legend = add_legend(self.gain_panel.plot, offset=(10, 10))
        self.plot_tabs.addTab(self.gain_panel, "Subsamples")
        self.plot_tabs.setTabToolTip(3, "Distribution over the subsamples (Figure 3)")

        self.strip_panel = PlotPanel("Scores by group, coloured by corrected tier", "Group",
                                     "Score", name="scores_by_group", on_error=err)
        self.strip_panel.widget.setToolTip(
            "One dot per person (a random sample when there are many), jittered sideways within "
            "its group; colour: tier after correction. Dashed: the group-agnostic thresholds; "
            "short solid lines: each group's corrected thresholds.")
        self.strip_legend = add_legend(self.strip_panel.plot, offset=(10, 10))
        self.plot_tabs.addTab(self.strip_panel, "Scores")
        self.plot_tabs.setTabToolTip(4, "Every person's score by group and corrected tier "
                                        "(Figure 8)")

        self.w_lines = []
        for panel in (self.fair_panel, self.thr_panel):
            line = pg.InfiniteLine(angle=90, movable=True, pen=pg.mkPen("k", width=2),
                                   hoverPen=pg.mkPen("#D55E00", width=4), label="w = {value:.2f}",
                                   labelOpts={"position": 0.06, "color": "k",
                                              "fill": pg.mkBrush(255, 255, 255, 220)})
            line.setZValue(30)
            line.sigPositionChanged.connect(self._line_moved)
            self.w_lines.append(line)

    # ================================================================== helpers
    def _status_message(self, text: str) -> None:
        win = self.window()
        if hasattr(win, "statusBar"):
            win.statusBar().showMessage(text, 8000)

    @staticmethod
    def _plot_width(panel) -> float:
        """The plot's width, or a typical one while its tab has not been shown yet."""
        return panel.widget.width() if panel.widget.isVisible() else 450.0

    @property
    def threshold_index(self) -> int:
        return max(self.threshold_combo.currentIndex(), 0)

    @property
    def running(self) -> bool:
        return self._job is not None

    def _item(self, table, r, c, text, value=None, tip="", align=Qt.AlignRight | Qt.AlignVCenter,
              bold=False, grey=False, icon=None) -> QTableWidgetItem:
        it = QTableWidgetItem(text)
        it.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable)
        it.setTextAlignment(align)
        it.setToolTip(tip)
        if value is not None:
            it.setData(Qt.UserRole, value)
        undefined = text.startswith("undefined")
        if bold or undefined or grey:
            f = QFont(it.font())
            f.setBold(bold)
            f.setItalic(undefined)
            it.setFont(f)
        it.setForeground(QBrush(GREY) if (undefined or grey) else TEXT)
        if icon is not None:
            it.setIcon(icon)
        table.setItem(r, c, it)
        return it

    def _weights_setting(self) -> tuple:
        return cf.weight_grid(round(self.w_start.value(), 6), round(self.w_stop.value(), 6),
                              round(self.w_step.value(), 6))

    def _rules_for_run(self, data) -> list[dict]:
        if self.thresholds.currentData() == "tiers":
            rules = cf.usable_rules(self.state.threshold_rules)
            if rules is None:
                raise FairDeskError("The Tiers page's thresholds are not made by rules the "
                                    "correction can recompute on each subsample (for example "
                                    "thresholds typed per group). Choose rules on the Tiers "
                                    "page and press Apply, or use the study's three thresholds.")
        else:
            from ...engines.threshold_correction import OREGON_RULES
            rules = [dict(r) for r in OREGON_RULES]
        return cf.order_rules(data, rules)

    # ================================================================== state
    def _on_data_changed(self) -> None:
        d = self.state.data
        if self.running:
            self.cancel()
        if self.result is not None:
            self._clear_result()
        self._strip = None
        if "threshold_correction" in self.state.seeds:
            with QSignalBlocker(self.seed):
                self.seed.setValue(int(self.state.seeds["threshold_correction"]))
        unit = self.subsampling.model().item(self.subsampling.findData("unit"))
        has_ids = d is not None and d.ids is not None
        unit.setEnabled(has_ids)
        unit.setToolTip(SUBSAMPLING_TIPS["unit"] if has_ids else
                        "Needs an id column: map one on the Data page")
        if not has_ids and self.subsampling.currentData() == "unit":
            self.subsampling.setCurrentIndex(self.subsampling.findData("auto"))
        self._refresh_threshold_choice()
        self._update_idle()

    def _refresh_threshold_choice(self) -> None:
        """The Tiers-page option names those thresholds (or says why they cannot be used)."""
        rules = cf.usable_rules(self.state.threshold_rules)
        item = self.thresholds.model().item(1)
        if rules is None:
            item.setEnabled(False)
            item.setText("The thresholds of the Tiers page (not made by rules)")
            item.setToolTip("The current thresholds were typed per group or are not rules the "
                            "correction can recompute on a subsample")
            if self.thresholds.currentIndex() == 1:
                self.thresholds.setCurrentIndex(0)
        else:
            item.setEnabled(True)
            names = ", ".join(cf.short_rule_name(r) for r in rules)
            item.setText(f"Tiers page: {names}" if len(names) < 60 else
                         f"Tiers page: {len(rules)} thresholds")
            item.setToolTip("; ".join(ThresholdRule.from_dict(r).describe() for r in rules))
        self._update_idle()

    def _definition_changed(self, *_args) -> None:
        key = self.definition.currentData() or "ERB"
        d = DEFINITIONS[key]
        self.meaning.setText(d.meaning)
        self.meaning.setToolTip(f"{d.name} ({key}): {d.meaning}")
        self._settings_edited()

    def _settings_edited(self, *_args) -> None:
        try:
            n = len(self._weights_setting())
            self.w_count.setText(f"= {n:,} values")
            self.w_count.setStyleSheet("color:#404040")
            self.w_count.setToolTip("")
        except FairDeskError as err:
            self.w_count.setText("invalid")
            self.w_count.setStyleSheet("color:#a40000")
            self.w_count.setToolTip(str(err))
        self._update_idle()

    def _update_idle(self) -> None:
        """Enable controls and write the status line and the placeholder."""
        d = self.state.data
        usable = d is not None and d.label is not None and d.n_groups >= 2
        self.settings_box.setEnabled(d is not None)
        self.run_button.setEnabled(usable and not self.running and self._cancelling is None)
        self.cancel_button.setEnabled(self.running)
        if self.running:
            return
        if d is None:
            self.placeholder.setText("Open a data file and map its columns (score, outcome, "
                                     "group) to correct the thresholds.")
        elif d.label is None:
            self.placeholder.setText("The correction compares decisions with outcomes: map an "
                                     "outcome (label) column on the Data page.")
        elif d.n_groups < 2:
            self.placeholder.setText("The correction compares groups: map a group column with "
                                     "at least two groups on the Data page.")
        elif self.result is None:
            self.placeholder.setText(
                f"{self._idle_message}Run to see results.\n\nThe correction finds, for every "
                "penalty weight w, group-specific thresholds that balance the chosen fairness "
                "definition against the number of people whose tier changes; you then choose w "
                "and apply the thresholds.")
        if self.result is None:
            self.stack.setCurrentIndex(0)
            if self.status.text().startswith("Results"):
                self.status.setText("")
            return
        self.stack.setCurrentIndex(1)
        if not self._split_done:
            QTimer.singleShot(0, self._initial_split)
        self.status.setText(self._result_status())

    def _result_status(self) -> str:
        res = self.result
        s = res.settings
        text = (f"Results: {s.definition} ({DEFINITIONS[s.definition].name}), "
                f"{len(res.weights):,} weights, {res.theta.shape[0]:,} subsamples "
                f"({MODE_TEXT.get(res.mode, res.mode)}), {s.audit_subsamples:,} for the "
                f"assessment, seed {s.seed}; {self._run_seconds:.0f} s.")
        if self._run_settings is not None and self._comparable(self.settings()) != \
                self._comparable(self._run_settings):
            text += " <b>The settings changed since this run: Run again to update.</b>"
        return text

    @staticmethod
    def _comparable(s: dict) -> dict:
        return {k: v for k, v in s.items() if k not in ("chosen_w", "same_w")}

    # ================================================================== running
    def settings_for_run(self) -> CorrectionSettings:
        """The CorrectionSettings the Run button uses (FairDeskError when invalid)."""
        d = self.state.data
        if d is None:
            raise FairDeskError("Open and map a data file first.")
        mode = self.subsampling.currentData()
        subsample_mode(d, mode)  # a clear message if "one row per id" has no id column
        return CorrectionSettings(
            definition=self.definition.currentData(), weights=self._weights_setting(),
            subsamples=self.subsamples.value(), audit_subsamples=self.audit_subsamples.value(),
            seed=self.seed.value(), subsampling=mode, rules=tuple(self._rules_for_run(d)),
            workers=self.workers)

    def run(self) -> None:
        if self.running or self._cancelling is not None:
            return
        d = self.state.data
        try:
            settings = self.settings_for_run()
        except FairDeskError as err:
            self._show_error(str(err))
            return
        self.state.seeds["threshold_correction"] = settings.seed
        run_settings = self.settings()
        if self.result is not None:
            self._pending_chosen = run_settings.get("chosen_w")  # keep the analyst's w's
        self._clear_result()
        self._run_id += 1
        rid = self._run_id
        self._started = time.perf_counter()
        self._idle_message = ""
        self.progress.setValue(0)
        self.progress.setFormat("Starting…")
        self.progress.show()
        self.status.setText(f"Running: {settings.subsamples:,} subsamples × "
                            f"{len(settings.weights):,} weights, then {settings.audit_subsamples:,} "
                            "assessment subsamples. You can keep working on other pages.")
        self.placeholder.setText("Running… the results appear here when the correction is done.")
        self._job = self.worker.start(
            run_correction, d, settings, title="Correcting thresholds",
            on_result=lambda res, rid=rid, data=d, rs=run_settings: self._on_result(rid, data, rs, res),
            on_error=lambda msg, details, rid=rid: self._on_failed(rid, msg, details),
            on_cancel=lambda rid=rid: self._on_cancelled(rid))
        self._update_idle()

    def cancel(self) -> None:
        """Stop the running correction. Its result, should it still arrive, is dropped; Run is
        available again once the job has really stopped (with several processes, a batch of
        subsamples already under way finishes first)."""
        if self._job is None:
            return
        self._job.cancel()
        self._job = None
        self._cancelling = self._run_id
        self._run_id += 1  # whatever the cancelled job still sends is ignored
        self.progress.hide()
        self.status.setText("Cancelling… (subsamples already under way finish first)")
        self._idle_message = "Cancelled. "
        self._update_idle()

    def _on_progress(self, fraction: float, message: str) -> None:
        if self._job is None:
            return
        self.progress.setValue(int(fraction * 1000))
        self.progress.setFormat(f"{message} (%p%)" if message else "%p%")

    def _end_job(self) -> None:
        self._job = None
        self.progress.hide()

    def _job_over(self, rid: int) -> bool:
        """True when ``rid`` is the running job; a cancelled job's end only frees Run."""
        if rid == self._cancelling:
            self._cancelling = None
            self.status.setText("Cancelled.")
            self._update_idle()
            return False
        return rid == self._run_id and self._job is not None

    def _on_result(self, rid: int, data, run_settings: dict, res) -> None:
        if not self._job_over(rid):
            return  # cancelled or replaced by a newer run
        self._end_job()
        if data is not self.state.data:
            self._update_idle()
            return  # the data changed meanwhile
        self._run_seconds = time.perf_counter() - self._started
        self._run_data = data
        self._run_settings = run_settings
        self.set_result(res)

    def _on_failed(self, rid: int, message: str, details: str) -> None:
        if not self._job_over(rid):
            return
        self._end_job()
        self.status.setText("The correction stopped: " + message)
        self._idle_message = "The correction stopped. "
        self._update_idle()
        self._show_error(message, details)

    def _on_cancelled(self, rid: int) -> None:
        if not self._job_over(rid):
            return
        self._end_job()  # cancelled from the status bar
        self.status.setText("Cancelled.")
        self._idle_message = "Cancelled. "
        self._update_idle()

    def _clear_result(self) -> None:
        self.result = None
        self.chosen = {}
        self._transitions = None
        self._run_settings = None
        self._update_idle()

    # ================================================================== results
    def set_result(self, res, data=None) -> None:
        """Show ``res`` (computed on ``data``, default the current data)."""
        if data is not None:
            self._run_data = data
        if self._run_data is None:
            self._run_data = self.state.data
        self.result = res
        self._transitions = None
        self.chosen = cf.suggested(res)
        if self._pending_chosen:
            for t, w in enumerate(self._pending_chosen[:res.k]):
                hits = np.flatnonzero(np.abs(res.weights - float(w)) < 1e-9)
                if w is not None and hits.size:
                    self.chosen[t] = int(hits[0])
        self._pending_chosen = None
        names = res.threshold_names()
        self._short = [cf.short_rule_name(r) for r in res.settings.rules]
        with QSignalBlocker(self.threshold_combo):
            self.threshold_combo.clear()
            for t, name in enumerate(names):
                self.threshold_combo.addItem(f"{t + 1} · {self._short[t]}")
                self.threshold_combo.setItemData(t, name, Qt.ToolTipRole)
            self.threshold_combo.setCurrentIndex(0)
        cal = res.settings.definition == "CAL"
        self.threshold_combo.setEnabled(not cal)
        with QSignalBlocker(self.same_w):
            self.same_w.setChecked(cal or len(set(self.chosen.values())) == 1 and res.k > 1
                                   and self.same_w.isChecked())
        self.same_w.setEnabled(not cal and res.k > 1)
        with QSignalBlocker(self.w_slider):
            self.w_slider.setRange(0, len(res.weights) - 1)
            self.w_slider.setPageStep(max(1, len(res.weights) // 10))
        with QSignalBlocker(self.thr_show):
            self.thr_show.clear()
            self.thr_show.addItem("All thresholds", -1)
            for t in range(res.k):
                self.thr_show.addItem(f"{t + 1} · {self._short[t]}", t)
        self._strip = None
        self._update_idle()
        self._draw_static()
        self._refresh()

    def _threshold_selected(self, _i: int) -> None:
        self._refresh()

    def _slider_moved(self, value: int) -> None:
        if self.result is None or self._syncing:
            return
        self._set_w_index(value)

    def _line_moved(self, line) -> None:
        if self.result is None or self._syncing:
            return
        w = self.result.weights
        wi = int(np.argmin(np.abs(w - line.value())))
        self._set_w_index(wi)

    def _set_w_index(self, wi: int) -> None:
        res = self.result
        targets = range(res.k) if self.same_w.isChecked() else [self.threshold_index]
        new = dict(self.chosen)
        for t in targets:
            new[t] = int(wi)
        if new != self.chosen:
            self.set_chosen(new)
        else:
            self._sync_w_controls()

    def set_chosen(self, chosen: dict) -> None:
        """Choose the w (index into the weights) of each threshold; every view follows."""
        self.chosen = cf.full_choice(self.result, chosen)
        self._refresh()

    def choose_w(self, w: float, threshold: int | None = None) -> None:
        """Choose w by value (the nearest computed weight) for one threshold or all (None)."""
        wi = int(np.argmin(np.abs(self.result.weights - float(w))))
        targets = range(self.result.k) if threshold is None else [threshold]
        self.set_chosen({**self.chosen, **{t: wi for t in targets}})

    def _same_w_toggled(self, on: bool) -> None:
        if on and self.result is not None:
            wi = self.chosen[self.threshold_index]
            self.set_chosen({t: wi for t in range(self.result.k)})

    def use_suggested(self) -> None:
        if self.result is None:
            return
        best = cf.suggested(self.result)
        if self.same_w.isChecked() and len(set(best.values())) > 1 and self.same_w.isEnabled():
            with QSignalBlocker(self.same_w):
                self.same_w.setChecked(False)
        self.set_chosen(best)

    def _sync_w_controls(self) -> None:
        res = self.result
        t = self.threshold_index
        wi = self.chosen[t]
        best = cf.suggested(res)[t]
        self._syncing = True
        try:
            self.w_slider.setValue(wi)
            for line in self.w_lines:
                line.setValue(float(res.weights[wi]))
        finally:
            self._syncing = False
        w = float(res.weights[wi])
        tag = "suggested" if wi == best else f"suggested {fmt_w(float(res.weights[best]))}"
        if not next((b.get("usable", True) for b in res.best if b["threshold"] == t), True):
            tag = "no suggestion: every w is degenerate"
        elif res.is_degenerate(wi, t):
            tag = f"degenerate; {tag}"
        self.w_value.setText(f"<b>w = {fmt_w(w)}</b> ({tag})")
        self.w_value.setToolTip(W_TIP)

    def _refresh(self) -> None:
        if self.result is None:
            return
        self._sync_w_controls()
        self._fill_summary()
        self._fill_rates()
        self._fill_measures()
        self._update_markers()
        self._update_idle()
        # the transitions (a pass over the sorted scores) and the scores plot (20,000 points)
        # follow once the slider rests, so that dragging it stays smooth
        self._heavy_timer.start()

    def refresh_now(self) -> None:
        """Bring the transitions and the plots up to date at once (tests, exports)."""
        self._heavy_timer.stop()
        self._refresh_transitions()
        self._refresh_plots()

    # ------------------------------------------------------------------ tables
    def _fill_summary(self) -> None:
        res = self.result
        rows = cf.summary_rows(res, self.chosen)
        groups = res.group_names
        d = res.settings.definition
        t = self.summary_table
        t.clear()
        labels = ([("w", "Penalty weight w (chosen)", W_TIP),
                   ("best_w", "Suggested w", "The w with the highest mean fairness over the "
                                             "assessment subsamples among the non-degenerate "
                                             "solutions (ties: smallest SD, then largest w)"),
                   ("degenerate", "Degenerate?", "Degenerate: some group has everyone or nobody "
                    "at or above its threshold (full data, chosen w), or the accuracy is below "
                    "that of both flagging everyone and flagging no one. Never suggested."),
                   ("pre", "Before: every group", "The group-agnostic threshold (averaged over "
                                                  "the subsamples), in score units")]
                  + [(f"post{g}", f"After: {name}", f"Corrected threshold of group {name} at "
                      "the chosen w (averaged over the subsamples)") for g, name in enumerate(groups)]
                  + [("fair_pre", f"{d} before", f"{DEFINITIONS[d].name} with the group-agnostic "
                                                 "thresholds: mean ± SD over the assessment "
                                                 "subsamples (1 = balanced)"),
                     ("fair_post", f"{d} after", f"{DEFINITIONS[d].name} with the corrected "
                                                 "thresholds: mean ± SD over the assessment "
                                                 "subsamples (1 = balanced)"),
                     ("changed", "People moved across it", "Share of people on the other side of "
                                                           "this threshold after correction "
                                                           "(mean over the assessment subsamples)"),
                     ("changed_tiers", "Tier changes at this w", "Share of people whose tier "
                      "changes when every threshold takes this w")])
        t.setRowCount(len(labels))
        t.setColumnCount(len(rows))
        for c, row in enumerate(rows):
            head = QTableWidgetItem(f"{c + 1} · {self._short[c]}")
            head.setToolTip(row["name"])
            t.setHorizontalHeaderItem(c, head)
        for r, (key, label, tip) in enumerate(labels):
            head = QTableWidgetItem(label)
            head.setToolTip(tip)
            if key.startswith("post"):
                head.setIcon(color_icon(group_color(int(key[4:]))))
            t.setVerticalHeaderItem(r, head)
            for c, row in enumerate(rows):
                if key == "w":
                    self._item(t, r, c, fmt_w(row["w"]), row["w"], W_TIP, bold=True)
                elif key == "best_w":
                    if row["best_usable"]:
                        self._item(t, r, c, fmt_w(row["best_w"]), row["best_w"],
                                   tip + (" — chosen" if row["is_best"] else " — not chosen"),
                                   grey=not row["is_best"])
                    else:
                        self._item(t, r, c, "none", None, "Every w gives a degenerate solution "
                                   f"here; w = {fmt_w(row['best_w'])} (the fairest) is shown "
                                   "but not suggested", bold=True)
                elif key == "degenerate":
                    reasons = row["degenerate"]
                    item = self._item(t, r, c, "yes" if reasons else "no", None,
                                      ("Degenerate: " + "; ".join(reasons)) if reasons else tip,
                                      bold=bool(reasons))
                    if reasons and item is not None:
                        item.setForeground(QBrush(QColor("#B00020")))
                elif key == "pre":
                    self._item(t, r, c, fmt_score(row["pre"]), row["pre"], f"{row['pre']:.10g}")
                elif key.startswith("post"):
                    g = int(key[4:])
                    v = row["post"][g]
                    moved = v - row["pre"]
                    mark = row["bounds"].get(g)
                    text = fmt_score(v) + {"lowest": " (min)", "highest": " (max)"}.get(mark, " (none)" if mark else "")
                    self._item(t, r, c, text, v, f"{v:.10g} ({moved:+.4g} from the "
                               "group-agnostic threshold)" + (f"; {cf.BOUND_WORDS[mark]}" if mark else ""),
                               bold=bool(mark))
                elif key in ("fair_pre", "fair_post"):
                    m, s = row[key], row[key + "_sd"]
                    self._item(t, r, c, mean_sd(m, s), m, tip if math.isfinite(m) else
                               "Undefined in every assessment subsample (fewer than two groups "
                               "with a defined rate)", bold=key == "fair_post")
                else:
                    v = row[key]
                    self._item(t, r, c, f"{100 * v:.1f}%" if math.isfinite(v) else "undefined", v, tip)
        t.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        t.verticalHeader().setSectionResizeMode(QHeaderView.Fixed)
        t.verticalHeader().setDefaultSectionSize(22)
        height = (max(t.horizontalHeader().sizeHint().height(), 22) + 2 * t.frameWidth()
                  + 22 * t.rowCount() + 6)
        t.setFixedHeight(min(height, 360))  # the help text below takes the rest
        crossing = cf.crossing_groups(res, self.chosen)
        note = ("Means over the assessment subsamples (fresh subsamples, not those used to "
                "optimise). Thresholds in score units; a score equal to a threshold goes to "
                "the higher tier.")
        if crossing:
            note += (" <b>With these w's the thresholds of " + ", ".join(crossing) + " are out "
                     "of order; their tiers use them sorted. Choosing one w for all avoids it.</b>")
        at_bounds = []
        for row in rows:
            by_mark: dict = {}
            for g, m in row["bounds"].items():
                by_mark.setdefault(m, []).append(groups[g])
            at_bounds += [f"{self._short[row['threshold']]}: {cf.BOUND_WORDS[m]} for {', '.join(gs)}"
                          for m, gs in by_mark.items()]
        if at_bounds:
            lo, hi = res.score_range
            note += (f" <b>Thresholds at the lowest ({lo:g}) or highest ({hi:g}) score</b>"
                     + (" (integer scores)" if res.integer_scores else "") + " — "
                     + "; ".join(at_bounds) + ".")
        chosen_bad = [row for row in rows if row["degenerate"]]
        if chosen_bad:
            note += ("<br><span style='color:#B00020'><b>Degenerate at the chosen w — "
                     + "; ".join(f"{self._short[row['threshold']]}: " + summarize_reasons(row["degenerate"])
                                 for row in chosen_bad) + ".</b></span>")
        warnings = res.warnings()
        if warnings:
            note += ("<br><span style='color:#B00020'>" + "<br>".join(warnings) + "</span>")
        self.summary_note.setText(note)

    def _fill_rates(self) -> None:
        """Two rows per rate (before, after), a column per group and one for all groups."""
        res = self.result
        t = self.threshold_index
        wi = self.chosen[t]
        data = cf.rate_rows(res, self.chosen, t)
        groups = list(res.group_names) + ["All"]
        tb = self.rates_table
        tb.clear()
        tb.clearSpans()
        tb.setRowCount(2 * len(ASSESS_RATES))
        tb.setColumnCount(2 + len(groups))
        tb.verticalHeader().hide()
        for c, name in enumerate(["Rate", ""] + groups):
            head = QTableWidgetItem(name.replace(", ", ",\n"))
            if 2 <= c < 2 + len(res.group_names):
                head.setIcon(color_icon(group_color(c - 2)))
                head.setToolTip(f"Group {name}")
            elif c == 2 + len(res.group_names):
                f = QFont(head.font())
                f.setBold(True)
                head.setFont(f)
                head.setToolTip("All groups together")
            else:
                head.setToolTip("Hover a rate for its definition" if c == 0 else
                                "Before: the group-agnostic thresholds; after: the corrected "
                                "ones at the chosen w")
            tb.setHorizontalHeaderItem(c, head)
        self.rate_table_rows = {}  # (rate, "before" | "after") -> row
        for n, key in enumerate(ASSESS_RATES):
            info = RATES[key]
            rtip = f"{info.name}: {info.definition} ({info.formula})"
            band = QColor("#F5F7FA") if n % 2 else None
            for p, phase in enumerate(("before", "after")):
                r = 2 * n + p
                self.rate_table_rows[(key, phase)] = r
                if p == 0:
                    self._item(tb, r, 0, RATE_SHORT[key], None, rtip,
                               Qt.AlignLeft | Qt.AlignVCenter, bold=True)
                    tb.setSpan(r, 0, 2, 1)
                self._item(tb, r, 1, phase, None, "With the group-agnostic thresholds" if p == 0
                           else "With the corrected thresholds at the chosen w",
                           Qt.AlignLeft | Qt.AlignVCenter, grey=p == 0)
                for c, v in enumerate(data[key]):
                    m, sd = (v.pre, v.pre_sd) if p == 0 else (v.post, v.post_sd)
                    tip = (f"{info.name}, {groups[c]}, {phase}: {mean_sd(m, sd)} (mean ± SD over "
                           "the assessment subsamples)")
                    if p == 1 and math.isfinite(v.pre) and math.isfinite(v.post):
                        tip += f"; change {v.post - v.pre:+.3f}"
                    if not math.isfinite(m):
                        tip = (f"Undefined: {info.undefined_when} in every assessment "
                               "subsample.")
                    self._item(tb, r, 2 + c, fmt(m), m, tip, bold=p == 1)
                if band is not None:
                    for c in range(tb.columnCount()):
                        if tb.item(r, c) is not None:
                            tb.item(r, c).setBackground(band)
        hh = tb.horizontalHeader()
        hh.setMinimumSectionSize(40)
        hh.setSectionResizeMode(QHeaderView.Stretch)
        bold = QFont(tb.font())
        bold.setBold(True)
        widest = max(QFontMetrics(bold).horizontalAdvance(x) for x in RATE_SHORT.values())
        hh.setSectionResizeMode(0, QHeaderView.Fixed)
        tb.setColumnWidth(0, widest + 16)  # spanned cells do not count for ResizeToContents
        hh.setSectionResizeMode(1, QHeaderView.ResizeToContents)
        tb.verticalHeader().setDefaultSectionSize(22)
        self.rates_title.setText(f"<b>Threshold {t + 1} ({self._short[t]})</b> at w = "
                                 f"{fmt_w(float(res.weights[wi]))}: each rate before and after "
                                 "the correction")

    def _fill_measures(self) -> None:
        res = self.result
        t = self.threshold_index
        wi = self.chosen[t]
        rows = cf.measure_rows(res, self.chosen, t)
        d = res.settings.definition
        tb = self.measures_table
        tb.clear()
        cols = ["Measure", "Before", "After", "Change"]
        tips = ["The fairness definition; hover for what it asks",
                "With the group-agnostic thresholds: mean ± SD over the assessment subsamples",
                "With the corrected thresholds at the chosen w: mean ± SD over the assessment "
                "subsamples", "After minus before (positive = more balanced)"]
        tb.setColumnCount(len(cols))
        tb.setRowCount(len(rows))
        tb.setHorizontalHeaderLabels(cols)
        tb.verticalHeader().hide()
        for c, tip in enumerate(tips):
            tb.horizontalHeaderItem(c).setToolTip(tip)
        reason = ("Undefined in every assessment subsample: fewer than two groups have a defined "
                  "value")
        for r, (key, tier, v) in enumerate(rows):
            info = DEFINITIONS[key]
            label = f"{key} · {info.name}" if tier < 0 else f"CAL · tier S{tier + 1}"
            tip = (f"{info.name} ({key}): {info.meaning} Value: the smallest ratio between two "
                   "groups, 1 = balanced.")
            self._item(tb, r, 0, label, None, tip, Qt.AlignLeft | Qt.AlignVCenter, bold=key == d)
            self._item(tb, r, 1, mean_sd(v.pre, v.pre_sd), v.pre,
                       tip if math.isfinite(v.pre) else reason, bold=key == d)
            self._item(tb, r, 2, mean_sd(v.post, v.post_sd), v.post,
                       tip if math.isfinite(v.post) else reason, bold=key == d)
            change = v.post - v.pre
            self._item(tb, r, 3, f"{change:+.3f}" if math.isfinite(change) else "undefined",
                       change, "After minus before" if math.isfinite(change) else reason)
        hh = tb.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.Stretch)
        for c in (1, 2, 3):
            hh.setSectionResizeMode(c, QHeaderView.ResizeToContents)
        self.measures_title.setText(f"<b>Threshold {t + 1} ({self._short[t]})</b> at w = "
                                    f"{fmt_w(float(res.weights[wi]))}. Bold: the definition "
                                    "corrected for.")
        self.measures_note.setText(
            "Smallest ratio between two groups of the rate(s) each definition compares (1 = "
            f"balanced); mean ± SD over {res.settings.audit_subsamples:,} assessment subsamples. "
            "CAL per tier is assessed with this w for every threshold. The definitions "
            "conflict: correcting one can worsen another.")

    def _transition_matrix(self) -> np.ndarray:
        key = tuple(sorted(self.chosen.items()))
        if self._transitions is None or self._transitions[0] != key:
            res = self.result
            ws = set(self.chosen.values())
            if len(ws) == 1 and next(iter(ws)) in res.transitions:
                m = res.transitions[next(iter(ws))]
            else:
                m = cf.transitions_from_scores(self._run_scores(), res, self.chosen)
            self._transitions = (key, m)
        return self._transitions[1]

    def _run_scores(self):
        """Per-group sorted scores of the data the result was computed on (the state's own
        when the data has not changed)."""
        if self.state.data is self._run_data and self.state.scores is not None:
            return self.state.scores
        if getattr(self, "_own_scores", (None, None))[0] is not self._run_data:
            from ...metrics.confusion import GroupScores
            self._own_scores = (self._run_data, GroupScores.from_data(self._run_data))
        return self._own_scores[1]

    def _refresh_transitions(self) -> None:
        if self.result is None or self.table_tabs.currentIndex() != 3:
            return
        res = self.result
        m = self._transition_matrix()
        G, k1 = m.shape[0], m.shape[1]
        tb = self.transitions_table
        tb.clear()
        tb.clearSpans()
        cols = ["Tier before"] + [f"→ S{j + 1}" for j in range(k1)] + ["Total", "Moved"]
        tb.setColumnCount(len(cols))
        tb.setRowCount(G * (k1 + 1))
        tb.setHorizontalHeaderLabels(cols)
        tb.verticalHeader().hide()
        for c, tip in enumerate(["Tier with the group-agnostic thresholds (S1 = lowest risk)"]
                                + [f"People now in tier S{j + 1}" for j in range(k1)]
                                + ["People in the tier before", "Share of the tier's people "
                                   "who change tier"]):
            tb.horizontalHeaderItem(c).setToolTip(tip)
        self.transition_rows = {}  # (group, tier before) -> table row
        r = 0
        for g, name in enumerate(res.group_names):
            total_g = float(m[g].sum())
            moved_g = (total_g - float(np.trace(m[g]))) / total_g if total_g > 0 else float("nan")
            head = (f"{name}: {fmt_count(total_g)} people, "
                    + (f"{moved_g:.1%} change tier" if math.isfinite(moved_g) else "none"))
            it = self._item(tb, r, 0, head, None, f"Group {name}", Qt.AlignLeft | Qt.AlignVCenter,
                            bold=True, icon=color_icon(group_color(g)))
            it.setBackground(QColor("#F4F4F4"))
            tb.setSpan(r, 0, 1, len(cols))
            r += 1
            for i in range(k1):
                self.transition_rows[(g, i)] = r
                self._item(tb, r, 0, f"S{i + 1}", None, f"Tier S{i + 1} before correction",
                           Qt.AlignCenter)
                row_total = float(m[g, i].sum())
                for j in range(k1):
                    v = float(m[g, i, j])
                    share = v / row_total if row_total > 0 else float("nan")
                    tip = (f"{fmt_count(v)} people of {name} were in S{i + 1} and are in S{j + 1} "
                           "after correction" + (f" ({share:.1%} of the row)" if row_total > 0 else ""))
                    it = self._item(tb, r, 1 + j, fmt_count(v), v, tip, bold=i == j)
                    if i == j:
                        it.setBackground(STAYED)
                self._item(tb, r, 1 + k1, fmt_count(row_total), row_total,
                           "People of the group in this tier before correction")
                moved = (row_total - float(m[g, i, i])) / row_total if row_total > 0 else float("nan")
                self._item(tb, r, 2 + k1, f"{moved:.1%}" if math.isfinite(moved) else "undefined",
                           moved, "No one of the group is in this tier (0/0)"
                           if not math.isfinite(moved) else "Share of these people whose tier changes")
                r += 1
        hh = tb.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.Stretch)
        tb.verticalHeader().setDefaultSectionSize(22)
        ws = [fmt_w(w) for w in sorted({float(res.weights[wi]) for wi in self.chosen.values()})]
        self.transitions_note.setText(
            f"All {len(self._run_data.score):,} rows (weighted counts). Rows: tier with the "
            "group-agnostic thresholds; columns: tier with the corrected thresholds at w = "
            + ", ".join(ws) + ". Shaded diagonal: people who keep their tier.")

    # ------------------------------------------------------------------ plots
    def _draw_static(self) -> None:
        """What depends only on the result (curves against w); markers follow the choice."""
        res = self.result
        a = res.assessment
        w = res.weights
        d = res.settings.definition
        cal = d == "CAL"
        ts = [0] if cal else list(range(res.k))
        names = ["Mean CAL over tiers"] if cal else [f"{t + 1} · {self._short[t]}" for t in ts]
        # --- fairness vs w
        p = self.fair_panel.plot
        p.clear()
        self.fair_legend.clear()
        self.fair_markers = []
        fair_bad = False
        for n, t in enumerate(ts):
            color = QColor(THRESHOLD_COLORS[n % len(THRESHOLD_COLORS)])
            m = a["fairness_post_mean"][:, t]
            s = np.nan_to_num(a["fairness_post_sd"][:, t])
            ok = np.isfinite(m)
            lo = pg.PlotCurveItem(w[ok], np.clip(m - s, 0, 1)[ok], pen=pg.mkPen(None))
            hi = pg.PlotCurveItem(w[ok], np.clip(m + s, 0, 1)[ok], pen=pg.mkPen(None))
            band = QColor(color)
            band.setAlpha(45)
            p.addItem(lo)
            p.addItem(hi)
            p.addItem(pg.FillBetweenItem(lo, hi, brush=pg.mkBrush(band)))
            pen = pg.mkPen(color, width=2.2)
            pen.setStyle(THRESHOLD_STYLES[n % len(THRESHOLD_STYLES)])
            curve = p.plot(w[ok], m[ok], pen=pen, name=f"{names[n]}: after")
            curve.setZValue(10)
            bad = cf.degenerate_mask(res, t) & ok
            if bad.any():
                cross = p.plot(w[bad], m[bad], pen=None, symbol="x", symbolSize=9,
                               symbolBrush=pg.mkBrush(color), symbolPen=pg.mkPen(color, width=1.5))
                cross.setZValue(11)
                fair_bad = True
            pre = float(a["fairness_pre_mean"][t])
            if math.isfinite(pre):
                pre_line = pg.InfiniteLine(pre, angle=0, pen=pg.mkPen(color, width=1.4,
                                                                      style=Qt.DotLine))
                p.addItem(pre_line)
            marker = pg.ScatterPlotItem(size=11, brush=pg.mkBrush(color), pen=pg.mkPen("w", width=1.5))
            marker.setZValue(20)
            p.addItem(marker)
            self.fair_markers.append((t, marker))
        p.plot([], [], pen=pg.mkPen("#555555", width=1.4, style=Qt.DotLine),
               name="before (dotted)")
        if fair_bad:
            p.plot([], [], pen=None, symbol="x", symbolSize=9, symbolBrush=pg.mkBrush("#555555"),
                   symbolPen=pg.mkPen("#555555", width=1.5), name="degenerate (never suggested)")
        p.addItem(self.w_lines[0], ignoreBounds=True)
        p.setXRange(float(w.min()), float(w.max()), padding=0.02)
        p.setYRange(0, 1.0 + 0.07 * (1 + (len(ts) + 1) // 2), padding=0)  # room for the legend
        p.getAxis("left").setTicks([[(v, f"{v:.1f}") for v in np.arange(0, 1.01, 0.2)],
                                    [(v, "") for v in np.arange(0, 1.01, 0.1)]])
        self.fair_legend.setColumnCount(2)
        # --- fairness vs share moved
        p = self.trade_panel.plot
        p.clear()
        self.trade_legend.clear()
        self.trade_markers = []
        any_bad = False
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
                   symbolBrush=pg.mkBrush(color), symbolPen=pg.mkPen(color), name=names[n])
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
        p.plot([], [], pen=None, symbol="s", symbolSize=9, symbolBrush=pg.mkBrush("w"),
               symbolPen=pg.mkPen("#555555", width=2), name="before (no one moved)")
        if any_bad:
            p.plot([], [], pen=None, symbol="x", symbolSize=9, symbolBrush=pg.mkBrush("#555555"),
                   symbolPen=pg.mkPen("#555555", width=1.5), name="degenerate (never suggested)")
        p.enableAutoRange()
        # --- thresholds vs w: drawn with the selection
        self._draw_thresholds_vs_w()
        self.strip_panel.plot.clear()
        self._strip_items = None

    def _draw_thresholds_vs_w(self) -> None:
        res = self.result
        if res is None:
            return
        p = self.thr_panel.plot
        p.clear()
        self.thr_legend.clear()
        w = res.weights
        post = res.post_thresholds()  # (W, k, G)
        pre = res.pre_thresholds()
        sel = self.thr_show.currentData()
        ts = range(res.k) if sel is None or sel < 0 else [sel]
        for t in ts:
            for g, name in enumerate(res.group_names):
                p.plot(w, post[:, t, g], pen=group_pen(g, 2.0), name=name if t == ts[0] else None)
            p.addItem(pg.InfiniteLine(float(pre[t]), angle=0,
                                      pen=pg.mkPen("k", width=1.6, style=Qt.DashLine)))
            label = pg.TextItem(f"{t + 1} · {self._short[t]}", color="k", anchor=(0, 1),
                                fill=pg.mkBrush(255, 255, 255, 200))
            label.setPos(float(w.min()), float(pre[t]))
            p.addItem(label)
        p.plot([], [], pen=pg.mkPen("k", width=1.6, style=Qt.DashLine),
               name="before (every group)")
        p.addItem(self.w_lines[1], ignoreBounds=True)
        p.setXRange(float(w.min()), float(w.max()), padding=0.02)
        shown = np.concatenate([post[:, list(ts), :].ravel(), pre[list(ts)]])
        shown = shown[np.isfinite(shown)]
        cols = legend_columns(list(res.group_names) + ["before (every group)"],
                              self._plot_width(self.thr_panel))
        self.thr_legend.setColumnCount(cols)
        n_rows = math.ceil((len(res.group_names) + 1) / cols)
        if shown.size:
            lo, hi = float(shown.min()), float(shown.max())
            span = max(hi - lo, 1e-9)
            p.setYRange(lo - 0.04 * span, hi + span * (0.06 + 0.09 * n_rows), padding=0)
        if self.chosen:
            self._sync_w_controls()

    def _refresh_plots(self) -> None:
        if self.result is None:
            return
        self._update_markers()
        i = self.plot_tabs.currentIndex()
        if i == 3:
            self._draw_gain()
        elif i == 4:
            self._draw_strip()

    def _update_markers(self) -> None:
        """The chosen w's points on the fairness and trade-off plots."""
        res = self.result
        a = res.assessment
        cal = res.settings.definition == "CAL"
        for t, marker in self.fair_markers:
            wi = self.chosen[t]
            marker.setData([float(res.weights[wi])], [float(a["fairness_post_mean"][wi, t])])
        for t, marker in self.trade_markers:
            wi = self.chosen[t]
            x = a["changed_tiers:mean"][wi] if cal else a["changed_mean"][wi, t]
            marker.setData([100 * float(x)], [float(a["fairness_post_mean"][wi, t])])

    def _draw_gain(self) -> None:
        res = self.result
        t = 0 if res.settings.definition == "CAL" else self.threshold_index
        wi = self.chosen[t]
        gain = cf.subsample_gain(res, t, wi)
        p = self.gain_panel.plot
        p.clear()
        self.gain_legend.clear()
        pre = gain.pre[np.isfinite(gain.pre)]
        post = gain.post[np.isfinite(gain.post)]
        both = np.concatenate([pre, post])
        if both.size == 0:
            self.gain_panel.set_note("No defined values to show.")
            return
        lo, hi = float(both.min()), float(both.max())
        if hi - lo < 1e-9:
            lo, hi = lo - 0.01, hi + 0.01
        edges = np.linspace(lo, hi, min(30, max(8, int(np.sqrt(both.size)) * 2)) + 1)
        colors = (QColor("#7F7F7F"), QColor("#D55E00"))
        for values, color, name in ((pre, colors[0], gain.pre_label),
                                    (post, colors[1], gain.post_label)):
            counts, _ = np.histogram(values, bins=edges)
            fill = QColor(color)
            fill.setAlpha(90)
            p.plot(edges, counts, stepMode="center", fillLevel=0, brush=pg.mkBrush(fill),
                   pen=pg.mkPen(color, width=2), name=f"{name}: mean {values.mean():.3f}")
            p.addItem(pg.InfiniteLine(float(values.mean()), angle=90,
                                      pen=pg.mkPen(color, width=1.5, style=Qt.DashLine)))
        top = 1
        for values in (pre, post):
            top = max(top, int(np.histogram(values, bins=edges)[0].max()) if values.size else 1)
        p.setXRange(lo, hi, padding=0.03)
        p.setYRange(0, top * 1.45, padding=0)  # room for the legend above the bars
        if top <= 12:  # whole numbers of subsamples
            p.getAxis("left").setTickSpacing(2 if top > 6 else 1, 1)
        else:
            p.getAxis("left").setTickSpacing()
        gain_mean = float(np.nanmean(gain.post - gain.at_phi))
        n_missing = int(gain.pre.size - pre.size)
        note = (f"<b>Threshold {t + 1} ({self._short[t]}), w = {fmt_w(float(res.weights[wi]))}, "
                f"{gain.pre.size:,} correction subsamples.</b> " + gain.note
                + f" Mean gain of 1 − objective over the uncorrected thresholds: {gain_mean:+.3f}.")
        if n_missing:
            note += f" {n_missing} subsample(s) with an undefined value before are left out."
        self.gain_panel.set_note(note)

    def _strip_points(self):
        """The sampled rows, their jittered x and their scores (computed once per result)."""
        if self._strip is None:
            d = self._run_data
            rows = cf.strip_sample(d.group, d.n_groups)
            x = d.group[rows] + cf.jitter(rows.size)
            self._strip = (rows, x, d.score[rows])
        return self._strip

    def _draw_strip(self) -> None:
        res = self.result
        d = self._run_data
        rows, x, y = self._strip_points()
        k1 = res.k + 1
        p = self.strip_panel.plot
        if self._strip_items is None:
            p.clear()
            self.strip_legend.clear()
            colors = tier_colors(k1)
            self._strip_items = []
            self._strip_masks = None
            for j in range(k1):
                label = f"S{j + 1}" + (" (lowest risk)" if j == 0 else " (highest)" if j == k1 - 1 else "")
                item = pg.ScatterPlotItem(size=4, pen=None, brush=pg.mkBrush(colors[j]))
                p.addItem(item)
                key = pg.ScatterPlotItem(size=10, pen=pg.mkPen(colors[j]), brush=pg.mkBrush(colors[j]))
                self.strip_legend.addItem(key, label)
                self._strip_items.append(item)
            for v in res.pre_thresholds():
                line = pg.InfiniteLine(float(v), angle=0,
                                       pen=pg.mkPen("#222222", width=1.6, style=Qt.DashLine))
                line.setZValue(5)
                p.addItem(line)
            self._strip_post = pg.PlotDataItem(pen=pg.mkPen("#D55E00", width=3), connect="pairs")
            self._strip_post.setZValue(10)
            p.addItem(self._strip_post)
            dash = p.plot([], [], pen=pg.mkPen("#222222", width=1.6, style=Qt.DashLine))
            self.strip_legend.addItem(dash, "before: every group")
            self.strip_legend.addItem(self._strip_post, "after: per group")
            ax = p.getAxis("bottom")
            ax.setTicks([[(g, n) for g, n in enumerate(d.group_names)]])
            p.setXRange(-0.6, d.n_groups - 0.4, padding=0)
            cols = legend_columns(["S1 (lowest risk)", "before: every group"],
                                  self._plot_width(self.strip_panel))
            self.strip_legend.setColumnCount(cols)
            lo, hi = float(np.min(y)) if y.size else 0.0, float(np.max(y)) if y.size else 1.0
            span = max(hi - lo, 1e-9)
            n_rows = math.ceil((k1 + 2) / cols)
            p.setYRange(lo - 0.03 * span, hi + span * (0.08 + 0.1 * n_rows), padding=0)
        tiers = cf.post_tiers(d.subset(rows), res, self.chosen)
        masks = [tiers == j for j in range(k1)]
        for j, item in enumerate(self._strip_items):  # only the tiers whose people changed
            if self._strip_masks is None or not np.array_equal(masks[j], self._strip_masks[j]):
                item.setData(x[masks[j]], y[masks[j]])
        self._strip_masks = masks
        post = cf.chosen_thresholds(res, self.chosen)  # (G, k)
        G = post.shape[0]
        xs = np.repeat(np.arange(G), res.k)
        seg_x = np.stack([xs - 0.44, xs + 0.44], axis=1).ravel()
        seg_y = np.repeat(post.ravel(), 2)
        self._strip_post.setData(seg_x, seg_y)
        sample = (f"a random sample of {rows.size:,} of {d.n:,} rows" if rows.size < d.n
                  else f"all {d.n:,} rows")
        ws = [fmt_w(w) for w in sorted({float(res.weights[wi]) for wi in self.chosen.values()})]
        self.strip_panel.set_note(f"Showing {sample}; tiers after correction at w = "
                                  + ", ".join(ws) + ". Dashed: group-agnostic thresholds; "
                                  "vermillion: each group's corrected thresholds.")

    # ================================================================== apply
    def apply_corrected(self) -> None:
        res = self.result
        if res is None:
            self._show_error("Run the correction first.")
            return
        d = self.state.data
        if d is None or self._run_data is not d:
            self._show_error("The data changed since the correction ran: Run it again.")
            return
        values = cf.chosen_thresholds(res, self.chosen)
        c = cf.full_choice(res, self.chosen)
        s = res.settings
        rule = {"kind": "correction", "definition": s.definition,
                "w": [float(res.weights[c[t]]) for t in range(res.k)],
                "thresholds": res.threshold_names(), "rules": [dict(r) for r in s.rules],
                "weights": [self._run_settings["weights"][k] for k in ("start", "stop", "step")]
                if self._run_settings else None,
                "subsamples": int(res.theta.shape[0]), "audit_subsamples": s.audit_subsamples,
                "subsampling": res.mode, "seed": s.seed}
        self.state.set_thresholds(values, group_specific=True, rules=[rule])
        ws = ", ".join(fmt_w(w) for w in rule["w"])
        self._status_message(f"Corrected thresholds applied (w = {ws}): the Audit page shows them.")

    def add_as_scenario(self) -> str | None:
        """The corrected thresholds at the chosen w's as a Decision-table scenario."""
        from ...scenarios import Scenario

        res, d = self.result, self.state.data
        if res is None or d is None or self._run_data is not d:
            self._show_error("Run the correction on the current data first.")
            return None
        values = np.asarray(cf.chosen_thresholds(res, self.chosen), dtype=float).reshape(d.n_groups, -1)
        c = cf.full_choice(res, self.chosen)
        ws = [float(res.weights[c[t]]) for t in range(res.k)]
        scenario = Scenario(
            f"{res.settings.definition} correction (w = {', '.join(fmt_w(w) for w in ws)})", "group_thresholds",
            {"values": {g: sorted(float(v) for v in values[i]) for i, g in enumerate(d.group_names)}},
            {"engine": "Error-rate balance", "definition": res.settings.definition, "w": ws,
             "subsamples": int(res.theta.shape[0]), "seed": res.settings.seed})
        return self.state.add_scenario(scenario)

    # ================================================================== settings and export
    def settings(self) -> dict:
        out = {"definition": self.definition.currentData(),
               "thresholds": self.thresholds.currentData(),
               "weights": {"start": round(self.w_start.value(), 6),
                           "stop": round(self.w_stop.value(), 6),
                           "step": round(self.w_step.value(), 6)},
               "subsamples": self.subsamples.value(),
               "audit_subsamples": self.audit_subsamples.value(),
               "subsampling": self.subsampling.currentData(),
               "seed": self.seed.value(),
               "same_w": self.same_w.isChecked()}
        if self.result is not None:
            c = cf.full_choice(self.result, self.chosen)
            out["chosen_w"] = [float(self.result.weights[c[t]]) for t in range(self.result.k)]
        elif self._pending_chosen:
            out["chosen_w"] = list(self._pending_chosen)
        else:
            out["chosen_w"] = None
        return out

    def apply_settings(self, settings: dict) -> None:
        s = settings or {}
        widgets = (self.definition, self.thresholds, self.w_start, self.w_stop, self.w_step,
                   self.subsamples, self.audit_subsamples, self.subsampling, self.seed, self.same_w)
        blockers = [QSignalBlocker(w) for w in widgets]
        try:
            i = self.definition.findData(s.get("definition", "ERB"))
            self.definition.setCurrentIndex(max(i, 0))
            i = self.thresholds.findData(s.get("thresholds", "oregon"))
            if i >= 0 and self.thresholds.model().item(i).isEnabled():
                self.thresholds.setCurrentIndex(i)
            w = s.get("weights") or {}
            self.w_start.setValue(float(w.get("start", 0.0)))
            self.w_stop.setValue(float(w.get("stop", 1.0)))
            self.w_step.setValue(float(w.get("step", 0.01)))
            self.subsamples.setValue(int(s.get("subsamples", 200)))
            self.audit_subsamples.setValue(int(s.get("audit_subsamples", 200)))
            i = self.subsampling.findData(s.get("subsampling", "auto"))
            if i >= 0 and self.subsampling.model().item(i).isEnabled():
                self.subsampling.setCurrentIndex(i)
            if "seed" in s:
                self.seed.setValue(int(s["seed"]))
            self.same_w.setChecked(bool(s.get("same_w", False)))
        finally:
            for b in blockers:
                b.unblock()
        chosen = s.get("chosen_w")
        self._pending_chosen = list(chosen) if chosen else None
        self._definition_changed()
        if self.result is not None and self._pending_chosen:  # results are not saved: rare
            self._pending_chosen = None
            for t, wv in enumerate(chosen[:self.result.k]):
                self.choose_w(wv, t)

    def export_settings(self) -> dict:
        res = self.result
        if res is None:
            return {}
        s = res.settings
        c = cf.full_choice(res, self.chosen)
        best = cf.suggested(res)
        rs = self._run_settings or {}
        w = rs.get("weights") or {}
        out = {"Fairness definition": f"{s.definition} ({DEFINITIONS[s.definition].name})",
               "Group-agnostic thresholds": "; ".join(res.threshold_names()),
               "Penalty weights w": (f"{w['start']:g} to {w['stop']:g}, step {w['step']:g} "
                                     f"({len(res.weights):,} values)") if w else
               f"{len(res.weights):,} values from {res.weights.min():g} to {res.weights.max():g}",
               "Correction subsamples (I)": int(res.theta.shape[0]),
               "Assessment subsamples (J)": int(s.audit_subsamples),
               "Subsampling": MODE_TEXT.get(res.mode, res.mode),
               "Seed": int(s.seed)}
        for t, name in enumerate(res.threshold_names()):
            w_t = float(res.weights[c[t]])
            out[f"Chosen w, {name}"] = (f"{w_t:g} (suggested)" if c[t] == best[t] else
                                        f"{w_t:g} (suggested {float(res.weights[best[t]]):g})")
        return out

    def export_tables(self) -> list:
        from ...reports.correction_report import correction_tables

        res = self.result
        if res is None:
            return []
        c = cf.full_choice(res, self.chosen)
        for wi in set(c.values()):  # transitions at every chosen w (the engine keeps the best)
            if wi not in res.transitions and self._run_data is not None:
                res.transitions[wi] = cf.transitions_from_scores(
                    self._run_scores(), res, {t: wi for t in range(res.k)})
        return correction_tables(res, c)
