"""Transport & conformal: treat every group as if it were the reference group (Berk,
Kuchibhotla & Tchetgen Tchetgen 2021).

Scores tab — the settings row on top (reference group, threshold, ties, coverage, p̂(1),
seed); tables on the left (selection and error rates before and after transport, the
conformal prediction sets with the coverage on the reference group's test split, Berk-style
confusion tables at the threshold and at a target cost ratio); plots on the right (each
group's score distribution against the reference group's before and after transport with
the overlap shaded, and the transport maps). The analysis re-runs by itself in the worker
when the data or a setting changes (it is fast).

Features tab — choose extra numeric columns as features, run the paper's Algorithm 2 (batch
assignment problems, averaged, extended by nearest neighbours), see each feature's
histograms (reference, original, transported) and the correlation matrices side by side,
and export the transported rows to rescore them with the agency's model.

The numbers come from fairdesk.engines.transport / conformal / confusion_tables; this page
only shows them.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRegularExpression, QSignalBlocker, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QKeySequence, QRegularExpressionValidator
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox,
                               QFileDialog, QFormLayout, QFrame, QGridLayout, QGroupBox,
                               QHBoxLayout, QHeaderView, QLabel, QLineEdit, QListWidget,
                               QListWidgetItem, QPushButton, QScrollArea, QSpinBox,
                               QSplitter, QStackedWidget, QTableWidget, QTableWidgetItem,
                               QTabWidget, QVBoxLayout, QWidget)

from ...engines.conformal import DEFAULT_SPLIT_VALUES, SET_KEYS, SET_LABELS
from ...engines.confusion_tables import TABLE_RATES
from ...engines.transport import (FeatureResult, FeatureSettings, TransportResult,
                                  TransportSettings, run_feature_transport, run_transport,
                                  weighted_stats)
from ...errors import FairDeskError
from ...metrics.rates import RATES, undefined_reason
from ..palette import group_color
from ..plots import PlotPanel, add_legend, decimate, group_pen
from .base import Page, note_label, readonly_table

log = logging.getLogger("fairdesk.gui.transport")

FLOAT_RE = QRegularExpression(r"^\s*[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?\s*$")
ERROR_STYLE = "QLabel {color:#a40000; background:#fdecea; border:1px solid #f5c2c0; padding:4px}"
GREY = QColor("#7F7F7F")
OVERLAP_BRUSH = QColor(120, 120, 120, 90)
MAX_BINS = 40
DEBOUNCE_MS = 250

RATE_ROWS = (  # key, short label
    ("selection_rate", "Selection rate"), ("gap", "Largest gap"),
    ("tpr", "TPR"), ("fpr", "FPR"), ("fnr", "FNR"), ("ppv", "PPV"), ("accuracy", "Accuracy"),
    ("cost_ratio", "FP / FN"))
GAP_TIP = ("<b>Largest gap vs reference</b><br>The largest difference between the group's "
           "selection rate and the reference group's over every possible threshold (0 = the "
           "same share flagged at any threshold: prediction parity).")
TIES_TIPS = {
    "together": "Equal scores stay equal after transport (deterministic). With few distinct "
                "scores (deciles) parity then holds only approximately.",
    "random": "Ties are broken in a seeded random order first, as the optimal coupling splits "
              "a block of equal scores: parity holds at every threshold, but two people with "
              "the same score may get different transported scores."}
PROB_TIPS = {
    "auto": "The score itself when every score is between 0 and 1 (a probability); otherwise a "
            "logistic calibration",
    "score": "The score is the probability p(1) of the positive outcome",
    "logistic": "p(1) = 1 / (1 + exp(−(a + b·score))), a and b fitted on the reference "
                "group's training split",
    "isotonic": "A non-decreasing step function of the score fitted on the reference group's "
                "training split"}
SET_TIPS = {
    "{0}": "The set holds only outcome 0: the tool is confident the outcome will not happen.",
    "{1}": "The set holds only outcome 1: the tool is confident the outcome will happen.",
    "{0,1}": "The set holds both outcomes: at this coverage the tool cannot tell.",
    "{}": "The set is empty: neither outcome is plausible enough (happens for small q)."}


def _nan(x) -> bool:
    try:
        return x is None or math.isnan(float(x))
    except (TypeError, ValueError):
        return True


def fmt_pct(x) -> str:
    return f"{100 * float(x):.1f}%"


def fmt_num(x) -> str:
    x = float(x)
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:,.0f}" if x == round(x) else f"{x:,.2f}"


def fmt_score(x) -> str:
    return f"{float(x):.4g}"


def parse_float(text: str) -> float:
    return float(text.strip().replace(",", "."))


def hist_edges(values: np.ndarray, max_bins: int = MAX_BINS) -> np.ndarray:
    """Bin edges for a score: one bin per value when there are few distinct values
    (deciles), otherwise ``max_bins`` equal bins over the range."""
    v = np.asarray(values, dtype=float)
    u = np.unique(v)
    if u.size == 0:
        return np.array([0.0, 1.0])
    if u.size == 1:
        return np.array([u[0] - 0.5, u[0] + 0.5])
    if u.size <= max_bins:
        mid = (u[1:] + u[:-1]) / 2
        return np.concatenate(([u[0] - (mid[0] - u[0])], mid, [u[-1] + (u[-1] - mid[-1])]))
    if np.all(u == np.round(u)):  # whole numbers (ages, counts): bins of whole widths
        width = max(1.0, math.ceil((u[-1] - u[0] + 1) / max_bins))
        return np.arange(u[0] - 0.5, u[-1] + 0.5 + width, width)
    return np.linspace(u[0], u[-1], max_bins + 1)


def shares(values, weight, edges) -> np.ndarray:
    h, _ = np.histogram(values, bins=edges, weights=weight)
    total = h.sum()
    return h / total if total > 0 else h


def corr_color(v: float) -> QColor:
    """White for 0, blue for +1, vermillion for −1 (Okabe–Ito)."""
    if _nan(v):
        return QColor("#EEEEEE")
    a = min(abs(float(v)), 1.0)
    base = QColor("#0072B2") if v >= 0 else QColor("#D55E00")
    r = int(255 + (base.red() - 255) * a * 0.75)
    g = int(255 + (base.green() - 255) * a * 0.75)
    b = int(255 + (base.blue() - 255) * a * 0.75)
    return QColor(r, g, b)


class TransportPage(Page):
    split_fraction = 0.54
    key = "transport"
    title = "Transport & conformal"

    def __init__(self, state, worker, parent=None):
        super().__init__(state, worker, parent)
        self.result: TransportResult | None = None
        self.features: FeatureResult | None = None
        self._generation = 0
        self._pending = None  # (generation, data) of the running score job
        self._job = None
        self._feature_job = None
        self._feature_pending = None
        self._threshold_edited = False
        self._applying = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.run)
        self._build()
        self.state.dataChanged.connect(self._data_changed)
        self.state.thresholdsChanged.connect(self._thresholds_changed)
        self._data_changed()

    def toolTip(self) -> str:
        return ("Treat every group as if it were the reference group: transport the scores "
                "and features onto the reference group's, conformal prediction sets, and "
                "Berk-style confusion tables")

    # ================================================================ layout
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.setSpacing(4)
        lay = self.add_empty_stack(outer, "Open a data file and map its columns (score, group) to transport "
                            "the scores onto a reference group.")
        self.tabs = QTabWidget()
        lay.addWidget(self.tabs)
        self.tabs.addTab(self._build_scores_tab(), "Scores, prediction sets && confusion tables")
        self.tabs.setTabToolTip(0, "Transport the scores onto the reference group and judge the "
                                   "result")
        self.tabs.addTab(self._build_features_tab(), "Features")
        self.tabs.setTabToolTip(1, "Transport extra numeric columns (features) onto the "
                                   "reference group's joint distribution (Algorithm 2)")

    def _note(self, text: str = "") -> QLabel:
        return note_label(text)

    def _table(self, tip: str) -> QTableWidget:
        return readonly_table(tip, select_rows=False)

    def _build_scores_tab(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        lay.setContentsMargins(2, 4, 2, 2)
        lay.setSpacing(4)
        top = QHBoxLayout()
        top.setSpacing(6)
        lay.addLayout(top)

        box = QGroupBox("Score transport")
        box.setToolTip("Each group's scores are mapped onto the reference group's distribution "
                       "by the monotone (quantile–quantile) optimal transport map: a person at "
                       "the p-th percentile of their group gets the reference group's p-th "
                       "percentile score. The order within a group never changes.")
        g = QGridLayout(box)
        g.setContentsMargins(6, 2, 6, 4)
        g.setHorizontalSpacing(6)
        g.setVerticalSpacing(3)
        self.ref_combo = QComboBox()
        self.ref_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.ref_combo.setMinimumContentsLength(12)
        self.ref_combo.setToolTip("The reference (more privileged) group: the others are "
                                  "treated as if they were members of it")
        self.ref_combo.currentIndexChanged.connect(self._settings_edited)
        self.threshold_edit = QLineEdit()
        self.threshold_edit.setValidator(QRegularExpressionValidator(FLOAT_RE, self.threshold_edit))
        self.threshold_edit.setMaximumWidth(90)
        self.threshold_edit.setToolTip("Threshold for the selection rates and the confusion "
                                       "tables, in the units of the score. It follows the "
                                       "application's threshold (Tiers page) until you type "
                                       "another.")
        self.threshold_edit.textEdited.connect(self._threshold_typed)
        self.ties_combo = QComboBox()
        self.ties_combo.addItem("move together", "together")
        self.ties_combo.addItem("random order (seeded)", "random")
        for i, k in enumerate(("together", "random")):
            self.ties_combo.setItemData(i, TIES_TIPS[k], Qt.ToolTipRole)
        self.ties_combo.setToolTip("What happens to equal scores.\n\nMove together: "
                                   + TIES_TIPS["together"] + "\n\nRandom order: "
                                   + TIES_TIPS["random"])
        self.ties_combo.currentIndexChanged.connect(self._settings_edited)
        g.addWidget(QLabel("Reference"), 0, 0)
        g.addWidget(self.ref_combo, 0, 1)
        g.addWidget(QLabel("Threshold"), 0, 2)
        g.addWidget(self.threshold_edit, 0, 3)
        g.addWidget(QLabel("Ties"), 1, 0)
        g.addWidget(self.ties_combo, 1, 1)
        top.addWidget(box, 3)

        box = QGroupBox("Conformal prediction sets")
        box.setToolTip("For each person, the set of outcomes ({0}, {1}, both, or none) that "
                       "contains the true outcome with the chosen probability — guaranteed for "
                       "the reference group, on whose data the sets are built")
        g = QGridLayout(box)
        g.setContentsMargins(6, 2, 6, 4)
        g.setHorizontalSpacing(6)
        g.setVerticalSpacing(3)
        self.coverage_spin = QDoubleSpinBox()
        self.coverage_spin.setRange(50.0, 99.9)
        self.coverage_spin.setDecimals(1)
        self.coverage_spin.setSingleStep(5.0)
        self.coverage_spin.setSuffix(" %")
        self.coverage_spin.setValue(90.0)
        self.coverage_spin.setToolTip("Coverage 1 − α: the share of the reference group's people "
                                      "whose true outcome must be in their prediction set "
                                      "(90% is α = 0.1, as in the paper)")
        self.coverage_spin.valueChanged.connect(self._settings_edited)
        self.prob_combo = QComboBox()
        for key, label in (("auto", "automatic"), ("score", "the score"),
                           ("logistic", "logistic fit"), ("isotonic", "isotonic fit")):
            self.prob_combo.addItem(label, key)
            self.prob_combo.setItemData(self.prob_combo.count() - 1, PROB_TIPS[key], Qt.ToolTipRole)
        self.prob_combo.setToolTip("Where the probability p(1) of the positive outcome comes "
                                   "from. Automatic: " + PROB_TIPS["auto"])
        self.prob_combo.currentIndexChanged.connect(self._settings_edited)
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2_147_483_647)
        self.seed_spin.setToolTip("Random seed of the random split and the random tie order: the "
                                  "same seed, data and settings give the same results. Saved in "
                                  "the project and the workbook.")
        self.seed_spin.valueChanged.connect(self._settings_edited)
        g.addWidget(QLabel("Coverage"), 0, 0)
        g.addWidget(self.coverage_spin, 0, 1)
        g.addWidget(QLabel("Seed"), 0, 2)
        g.addWidget(self.seed_spin, 0, 3)
        g.addWidget(QLabel("Probability"), 1, 0)
        g.addWidget(self.prob_combo, 1, 1, 1, 3)
        top.addWidget(box, 3)

        run_box = QVBoxLayout()
        self.run_button = QPushButton("Run again")
        self.run_button.setShortcut(QKeySequence("Ctrl+R"))
        self.run_button.setToolTip("The analysis re-runs by itself when a setting changes; run "
                                   "it again now (Ctrl+R)")
        self.run_button.clicked.connect(self.run)
        self.status = self._note("")
        self.status.setMinimumWidth(150)
        self.scenario_button = QPushButton("Add as scenario")
        self.scenario_button.setToolTip("Add 'flag when the transported score is at or above the "
                                        "threshold' to the Decision table")
        self.scenario_button.clicked.connect(self.add_as_scenario)
        run_box.addWidget(self.run_button)
        run_box.addWidget(self.scenario_button)
        run_box.addWidget(self.status, 1)
        top.addLayout(run_box, 2)

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.hide()
        lay.addWidget(self.message)

        self.splitter = QSplitter(Qt.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        lay.addWidget(self.splitter, 1)
        self.table_tabs = QTabWidget()
        self.table_tabs.setDocumentMode(True)
        self.plot_tabs = QTabWidget()
        self.plot_tabs.setDocumentMode(True)
        self.splitter.addWidget(self.table_tabs)
        self.splitter.addWidget(self.plot_tabs)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self._split_done = False
        self._build_rate_tab()
        self._build_conformal_tab()
        self._build_confusion_tab()
        self._build_plots()
        return w

    def _build_rate_tab(self) -> None:
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(2, 4, 2, 2)
        self.rate_table = self._table("Rates at the threshold per group, with the original "
                                      "scores (before) and the transported scores (after)")
        v.addWidget(self.rate_table, 10)
        self.rate_note = self._note()
        v.addWidget(self.rate_note)
        v.addWidget(self._note(
            "<b>Reading it.</b> Transport gives every group the reference group's score "
            "distribution, so after it every group is flagged at the reference group's rate at "
            "any threshold (prediction parity; the largest gap shows how exactly). Error rates "
            "then differ where the groups' outcomes differ at the same transported score."))
        v.addStretch(1)
        self.table_tabs.addTab(w, "Rates before/after")
        self.table_tabs.setTabToolTip(0, "Selection and error rates before and after transport")

    def _build_conformal_tab(self) -> None:
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(2, 4, 2, 2)
        self.coverage_label = QLabel()
        self.coverage_label.setWordWrap(True)
        self.coverage_label.setToolTip("Coverage: the share of the reference group's test rows "
                                       "whose observed outcome is in their prediction set, with "
                                       "its exact 95% (Clopper–Pearson) interval. Split "
                                       "conformal guarantees at least 1 − α on average.")
        v.addWidget(self.coverage_label)
        self.conf_table = self._table("Share of each kind of prediction set on each group's test "
                                      "rows (Berk et al., Table 3), with the original and the "
                                      "transported scores")
        v.addWidget(self.conf_table, 10)
        v.addWidget(self._note("Each group's first row uses its original scores; “↳ transported” "
                               "its scores transported onto the reference group. Shares are of "
                               "the group's test rows. Coverage: share whose true outcome is in "
                               "the set (95% interval in brackets)."))
        v.addStretch(1)
        splits = QGroupBox("Splits of the data")
        splits.setToolTip("Train: fits p(1) on the reference group when the score is not a "
                          "probability. Calibration: the reference group's rows that set the "
                          "conformity threshold q. Test: where coverage and the shares of sets "
                          "are measured (every group).")
        sl = QVBoxLayout(splits)
        sl.setContentsMargins(6, 2, 6, 4)
        sl.setSpacing(3)
        self.split_stack = QStackedWidget()
        col = QWidget()
        cl = QGridLayout(col)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.setHorizontalSpacing(6)
        self.split_edits = {}
        for i, name in enumerate(("train", "calibration", "test")):
            e = QLineEdit(", ".join(DEFAULT_SPLIT_VALUES[name]))
            e.setToolTip(f"Values of the split column meaning {name} (comma-separated, any case)")
            e.editingFinished.connect(self._settings_edited)
            self.split_edits[name] = e
            e.setMinimumWidth(60)
            cl.addWidget(QLabel(f"{name.capitalize()} values"), 0, i)
            cl.addWidget(e, 1, i)
        self.split_stack.addWidget(col)
        prop = QWidget()
        pl = QGridLayout(prop)
        pl.setContentsMargins(0, 0, 0, 0)
        pl.setHorizontalSpacing(6)
        self.prop_spins = {}
        for i, (name, value) in enumerate((("train", 40), ("calibration", 30), ("test", 30))):
            s = QSpinBox()
            s.setRange(0, 100)
            s.setSuffix(" %")
            s.setValue(value)
            s.setToolTip(f"Share of each group's rows drawn at random (seeded) into the {name} "
                         "split. Ignored while 'automatic' is ticked.")
            s.valueChanged.connect(self._settings_edited)
            self.prop_spins[name] = s
            pl.addWidget(QLabel(name.capitalize()), 0, i)
            pl.addWidget(s, 1, i)
        self.prop_auto = QCheckBox("automatic")
        self.prop_auto.setChecked(True)
        self.prop_auto.setToolTip("Automatic: 40% / 30% / 30% when p(1) must be fitted, 0% / 50% "
                                  "/ 50% when the score is already a probability")
        self.prop_auto.toggled.connect(self._settings_edited)
        self.prop_auto.toggled.connect(self._auto_toggled)
        pl.addWidget(self.prop_auto, 1, 3)
        pl.setColumnStretch(4, 1)
        self.split_stack.addWidget(prop)
        sl.addWidget(self.split_stack)
        self.split_note = self._note()
        sl.addWidget(self.split_note)
        v.addWidget(splits)
        self.table_tabs.addTab(w, "Prediction sets")
        self.table_tabs.setTabToolTip(1, "Conformal prediction sets per group and the coverage")

    def _build_confusion_tab(self) -> None:
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(2, 4, 2, 2)
        row = QHBoxLayout()
        row.addWidget(QLabel("At"))
        self.conf_at = QComboBox()
        self.conf_at.addItem("the threshold", "threshold")
        self.conf_at.addItem("the target cost ratio", "cost")
        self.conf_at.setToolTip("Show the tables at the page's threshold, or at the threshold "
                                "that gives the reference group the target cost ratio")
        self.conf_at.currentIndexChanged.connect(lambda _i: self._fill_confusion())
        row.addWidget(self.conf_at)
        row.addWidget(QLabel("Scores"))
        self.conf_scores = QComboBox()
        self.conf_scores.addItem("original", "original")
        self.conf_scores.addItem("transported", "transported")
        self.conf_scores.setToolTip("The groups' original scores, or their scores transported "
                                    "onto the reference group")
        self.conf_scores.currentIndexChanged.connect(lambda _i: self._fill_confusion())
        row.addWidget(self.conf_scores)
        row.addStretch(1)
        v.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(QLabel("Target cost ratio FP : FN"))
        self.cost_spin = QDoubleSpinBox()
        self.cost_spin.setRange(0.01, 1000.0)
        self.cost_spin.setDecimals(2)
        self.cost_spin.setValue(8.0)
        self.cost_spin.setSuffix(" : 1")
        self.cost_spin.setToolTip("Target cost ratio: false positives per false negative (8 : 1 = "
                                  "the rule accepts eight false alarms to avoid one miss, as if a "
                                  "miss cost eight times as much). Searched on the reference group.")
        self.cost_spin.valueChanged.connect(self._settings_edited)
        row.addWidget(self.cost_spin)
        self.use_cost = QPushButton("Use as threshold")
        self.use_cost.setToolTip("Put the cost-ratio threshold in the page's threshold box")
        self.use_cost.clicked.connect(self._use_cost_threshold)
        row.addWidget(self.use_cost)
        row.addStretch(1)
        v.addLayout(row)
        self.cost_label = self._note()
        v.addWidget(self.cost_label)
        self.conf_scroll = QScrollArea()
        self.conf_scroll.setWidgetResizable(True)
        self.conf_scroll.setFrameShape(QFrame.NoFrame)
        self.conf_grid_host = QWidget()
        self.conf_grid = QGridLayout(self.conf_grid_host)
        self.conf_grid.setContentsMargins(0, 0, 0, 0)
        self.conf_grid.setSpacing(8)
        self.conf_scroll.setWidget(self.conf_grid_host)
        v.addWidget(self.conf_scroll, 1)
        v.addWidget(self._note("Rows: the truth; columns: the forecast. Classification error is "
                               "conditioned on the truth (FPR, FNR); forecasting error on the "
                               "forecast (FOR, FDR). Hover a cell for its definition."))
        self.confusion_widgets: list[QTableWidget] = []
        self.table_tabs.addTab(w, "Confusion tables")
        self.table_tabs.setTabToolTip(2, "Berk-style confusion tables per group and the "
                                         "threshold for a target cost ratio")

    def _build_plots(self) -> None:
        err = self._show_error
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(2)
        row = QHBoxLayout()
        row.setContentsMargins(4, 2, 4, 0)
        row.addWidget(QLabel("Group"))
        self.dist_group = QComboBox()
        self.dist_group.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.dist_group.setMinimumContentsLength(14)
        self.dist_group.setToolTip("The group whose scores are compared with the reference "
                                   "group's")
        self.dist_group.currentIndexChanged.connect(lambda _i: self._draw_distributions())
        row.addWidget(self.dist_group)
        row.addStretch(1)
        v.addLayout(row)
        self.before_panel = PlotPanel("Before transport", "", "Share of the group",
                                      name="transport_before", on_error=err)
        self.after_panel = PlotPanel("After transport", "Score", "Share of the group",
                                     name="transport_after", on_error=err)
        for p in (self.before_panel, self.after_panel):
            p.widget.setToolTip("Share of each group's people per score bin: the reference group "
                                "and the chosen group; grey = the overlap (the share the two "
                                "distributions have in common). Vertical line: the threshold.")
            p.legend = add_legend(p.plot)
        v.addWidget(self.before_panel, 1)
        v.addWidget(self.after_panel, 1)
        self.plot_tabs.addTab(w, "Distributions")
        self.plot_tabs.setTabToolTip(0, "Score distributions of a group and of the reference "
                                        "group, before and after transport (Berk et al., "
                                        "Figures 3–5)")

        self.sel_panel = PlotPanel("Selection rate at every threshold", "Threshold (score)",
                                   "Selection rate", name="selection_vs_threshold", on_error=err)
        self.sel_panel.widget.setToolTip("Share of each group flagged at every threshold: dashed "
                                         "with the original scores, solid with the transported "
                                         "scores. After transport the solid curves lie on the "
                                         "reference group's (prediction parity).")
        self.sel_legend = add_legend(self.sel_panel.plot)
        self.plot_tabs.addTab(self.sel_panel, "Selection rate")
        self.plot_tabs.setTabToolTip(1, "Selection rate against the threshold per group, before "
                                        "(dashed) and after (solid) transport")

        self.map_panel = PlotPanel("Transport maps", "Original score", "Transported score",
                                   name="transport_maps", on_error=err)
        self.map_panel.widget.setToolTip("Where each group's scores go: original score (x) → "
                                         "transported score (y). The reference group stays on "
                                         "the diagonal. Lines: the threshold.")
        self.map_legend = add_legend(self.map_panel.plot, offset=(10, 10))
        self.plot_tabs.addTab(self.map_panel, "Transport maps")
        self.plot_tabs.setTabToolTip(2, "The monotone maps from each group's scores to the "
                                        "reference group's")

    def _build_features_tab(self) -> QWidget:
        w = QWidget()
        lay = QHBoxLayout(w)
        lay.setContentsMargins(2, 4, 2, 2)
        split = QSplitter(Qt.Horizontal)
        split.setChildrenCollapsible(False)
        lay.addWidget(split)
        left = QWidget()
        left.setMinimumWidth(250)
        left.setMaximumWidth(340)
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 4, 0)
        lv.addWidget(QLabel("<b>Features to transport</b>"))
        self.feature_list = QListWidget()
        self.feature_list.setToolTip("Extra numeric columns (mapped as “Extra attribute” on the "
                                     "Data page). Tick the predictors to transport onto the "
                                     "reference group's joint distribution.")
        self.feature_list.setMaximumHeight(160)
        lv.addWidget(self.feature_list)
        self.no_features = self._note("No extra numeric column is mapped. Map the predictors as "
                                      "“Extra attribute” on the Data page to transport them.")
        lv.addWidget(self.no_features)
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.setVerticalSpacing(3)
        self.f_standardize = QCheckBox("Standardize before the cost")
        self.f_standardize.setToolTip("Divide each feature by its standard deviation (over all "
                                      "rows) before computing distances, so that a feature in "
                                      "large units does not dominate. Off = the raw features, as "
                                      "in the paper.")
        form.addRow(self.f_standardize)
        self.f_batch = QSpinBox()
        self.f_batch.setRange(10, 20000)
        self.f_batch.setValue(2000)
        self.f_batch.setSingleStep(500)
        self.f_batch.setGroupSeparatorShown(True)
        self.f_batch.setToolTip("Rows per batch: each batch of a group is matched exactly to a "
                                "batch of the reference group of the same size (an assignment "
                                "problem; time grows about with the cube of the size)")
        form.addRow("Batch size", self.f_batch)
        self.f_rounds = QSpinBox()
        self.f_rounds.setRange(1, 100)
        self.f_rounds.setValue(3)
        self.f_rounds.setToolTip("Rounds: each row is in one batch per round; its transported "
                                 "features are averaged over the rounds")
        form.addRow("Rounds", self.f_rounds)
        self.f_k = QSpinBox()
        self.f_k.setRange(1, 100)
        self.f_k.setValue(1)
        self.f_k.setToolTip("Nearest neighbours: a row's transported features are the average "
                            "over the k matched rows nearest to it in the original features "
                            "(this extends the map to every row, and to new rows). 1 keeps each "
                            "matched row's own result; more smooths the map but narrows the "
                            "spread of the transported features.")
        form.addRow("Neighbours k", self.f_k)
        self.f_seed = QSpinBox()
        self.f_seed.setRange(0, 2_147_483_647)
        self.f_seed.setToolTip("Random seed of the batches: the same seed, data and settings give "
                               "the same result")
        form.addRow("Seed", self.f_seed)
        lv.addLayout(form)
        self.f_run = QPushButton("Transport features")
        self.f_run.setToolTip("Run Algorithm 2 for every group except the reference (progress and "
                              "Cancel in the status bar)")
        self.f_run.clicked.connect(self.run_features)
        lv.addWidget(self.f_run)
        self.f_export = QPushButton("Export transported rows…")
        self.f_export.setToolTip("Write every row with its transported score, prediction sets and "
                                 "transported features (CSV or Excel), to rescore them with the "
                                 "agency's model")
        self.f_export.clicked.connect(self.export_rows_dialog)
        lv.addWidget(self.f_export)
        self.f_note = self._note("Not run yet.")
        lv.addWidget(self.f_note)
        lv.addStretch(1)
        split.addWidget(left)

        right = QTabWidget()
        right.setDocumentMode(True)
        self.feature_tabs = right
        mw = QWidget()
        mv = QVBoxLayout(mw)
        mv.setContentsMargins(0, 0, 0, 0)
        self.marg_panel = PlotPanel("Feature distribution", "Feature value", "Share of the group",
                                    name="feature_marginals", on_error=self._show_error)
        self.marg_feature = QComboBox()
        self.marg_feature.setToolTip("The feature shown")
        self.marg_feature.setMinimumContentsLength(10)
        self.marg_feature.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.marg_group = QComboBox()
        self.marg_group.setToolTip("The group compared with the reference group")
        self.marg_group.setMinimumContentsLength(12)
        self.marg_group.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.marg_panel.add_control(QLabel("Feature"))
        self.marg_panel.add_control(self.marg_feature)
        self.marg_panel.add_control(QLabel("Group"))
        self.marg_panel.add_control(self.marg_group)
        self.marg_feature.currentIndexChanged.connect(lambda _i: self._draw_feature())
        self.marg_group.currentIndexChanged.connect(lambda _i: self._draw_feature_views())
        self.marg_panel.widget.setToolTip("Share of people per bin of the feature: the reference "
                                          "group (filled), the group's original values (dashed) "
                                          "and its transported values (solid)")
        self.marg_legend = add_legend(self.marg_panel.plot)
        mv.addWidget(self.marg_panel)
        right.addTab(mw, "Marginal histograms")
        cw = QWidget()
        cv = QVBoxLayout(cw)
        cv.setContentsMargins(2, 4, 2, 2)
        cv.addWidget(self._note("Correlations between the features (weighted Pearson): the "
                                "reference group, the group's original features and its "
                                "transported features. Transport should bring the last close "
                                "to the first. Blue = positive, vermillion = negative."))
        grid = QHBoxLayout()
        self.corr_tables = []
        self.corr_titles = []
        for title in ("Reference", "Original", "Transported"):
            box = QVBoxLayout()
            lab = QLabel(f"<b>{title}</b>")
            box.addWidget(lab)
            t = self._table("Correlation matrix: hover a cell for the pair of features")
            t.setAlternatingRowColors(False)
            t.horizontalHeader().setDefaultSectionSize(48)
            t.horizontalHeader().setMinimumSectionSize(36)
            box.addWidget(t, 10)
            box.addStretch(1)
            grid.addLayout(box, 1)
            self.corr_tables.append(t)
            self.corr_titles.append(lab)
        cv.addLayout(grid)
        self.summary_table = self._table("Mean and standard deviation of each feature: reference "
                                         "group, the group's original and transported values")
        cv.addWidget(QLabel("<b>Means and standard deviations</b>"))
        cv.addWidget(self.summary_table, 10)
        cv.addStretch(1)
        right.addTab(cw, "Correlations && summary")
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        return w

    # ================================================================ state
    def _group_names(self) -> list[str]:
        return list(self.state.data.group_names) if self.state.data is not None else []

    @property
    def reference_name(self) -> str | None:
        names = self._group_names()
        i = self.ref_combo.currentIndex()
        return names[i] if 0 <= i < len(names) else None

    def _data_changed(self) -> None:
        data = self.state.data
        self._generation += 1
        self.result = None
        self.features = None
        if data is None:
            self.empty.setText("Open a data file and map its columns (score, group) to transport "
                               "the scores onto a reference group.")
            self.stack.setCurrentIndex(0)
            return
        if data.n_groups < 2:
            self.empty.setText("Transport needs at least two groups: map a protected-group column "
                               "on the Data page.")
            self.stack.setCurrentIndex(0)
            return
        self._applying = True
        try:
            names = self._group_names()
            old = self.ref_combo.currentText()
            with QSignalBlocker(self.ref_combo):
                self.ref_combo.clear()
                for g, name in enumerate(names):
                    self.ref_combo.addItem(_icon(group_color(g)), name)
                if old in names:
                    self.ref_combo.setCurrentIndex(names.index(old))
                else:  # the largest group (by weight) to start
                    weight = np.bincount(data.group, weights=data.weight, minlength=data.n_groups)
                    self.ref_combo.setCurrentIndex(int(np.argmax(weight)))
            if "transport" in self.state.seeds:
                with QSignalBlocker(self.seed_spin):
                    self.seed_spin.setValue(int(self.state.seeds["transport"]))
            if "feature transport" in self.state.seeds:
                self.f_seed.setValue(int(self.state.seeds["feature transport"]))
            self.split_stack.setCurrentIndex(0 if data.split is not None else 1)
            self._auto_toggled(self.prop_auto.isChecked())
            self._threshold_edited = False
            self._sync_threshold()
            self._fill_feature_list()
        finally:
            self._applying = False
        self.stack.setCurrentIndex(1)
        self._clear_results("Computing…")
        self._clear_feature_views()
        self.f_note.setText("Not run yet.")
        self.run()

    def _thresholds_changed(self) -> None:
        if self.state.data is None or self._threshold_edited:
            return
        before = self.threshold_edit.text()
        self._sync_threshold()
        if self.threshold_edit.text() != before:
            self._settings_edited()

    def _sync_threshold(self) -> None:
        t = np.asarray(self.state.thresholds, dtype=float)
        value = float(np.ravel(t)[0]) if t.size else 0.5
        if self.state.group_specific:
            value = float(np.median(t[..., 0]))
        with QSignalBlocker(self.threshold_edit):
            self.threshold_edit.setText(f"{value:.6g}")

    def _threshold_typed(self, _text: str) -> None:
        self._threshold_edited = True
        self._settings_edited()

    def _settings_edited(self, *_) -> None:
        if self._applying or self.state.data is None:
            return
        self._timer.start()

    def current_settings(self) -> TransportSettings:
        """The settings the widgets describe; FairDeskError with a message when one is bad."""
        text = self.threshold_edit.text().strip()
        try:
            threshold = parse_float(text)
        except ValueError:
            raise FairDeskError("Type a threshold (a number in the units of the score).") from None
        split_values = {name: [v.strip() for v in e.text().split(",") if v.strip()]
                        for name, e in self.split_edits.items()}
        proportions = None
        if not self.prop_auto.isChecked():
            proportions = tuple(float(self.prop_spins[n].value()) for n in
                                ("train", "calibration", "test"))
            if sum(proportions) <= 0:
                raise FairDeskError("The split proportions add up to 0%: give the calibration and "
                                    "test splits a share.")
        return TransportSettings(
            reference=self.reference_name, threshold=threshold,
            ties=self.ties_combo.currentData(), alpha=round(1 - self.coverage_spin.value() / 100, 6),
            probability=self.prob_combo.currentData(), split_values=split_values,
            split_proportions=proportions, seed=int(self.seed_spin.value()),
            target_cost_ratio=float(self.cost_spin.value()))

    def feature_settings(self) -> FeatureSettings:
        return FeatureSettings(features=tuple(self.checked_features()), reference=self.reference_name,
                               batch_size=int(self.f_batch.value()), rounds=int(self.f_rounds.value()),
                               neighbours=int(self.f_k.value()),
                               standardize=self.f_standardize.isChecked(),
                               seed=int(self.f_seed.value()))

    # ================================================================ running
    def run(self) -> None:
        """Run the score analysis in the worker (results replace the tables when they come)."""
        self._timer.stop()
        data = self.state.data
        if data is None or data.n_groups < 2:
            return
        try:
            settings = self.current_settings()
        except FairDeskError as err:
            self._set_message(str(err))
            return
        self._set_message("")
        if self._job is not None:
            self._job.cancel()
        self._generation += 1
        gen = self._generation
        self._pending = (gen, data)
        self.state.seeds["transport"] = settings.seed
        self.status.setText("Computing…")
        self._job = self.worker.start(
            run_transport, data, settings, title="Transport & conformal",
            on_result=lambda r, gen=gen: self._done(gen, data, r),
            on_error=lambda m, d, gen=gen: self._failed(gen, m, d),
            on_cancel=lambda gen=gen: self._cancelled(gen))

    @property
    def busy(self) -> bool:
        return self._job is not None or self._timer.isActive()

    def _done(self, gen, data, result: TransportResult) -> None:
        if gen != self._generation:
            return
        self._job = None
        if data is not self.state.data:
            return
        self.result = result
        self.status.setText(f"Reference: {result.reference_name}; threshold "
                            f"{fmt_score(result.threshold)}.")
        self._fill_all()

    def _failed(self, gen, message: str, details: str) -> None:
        if gen != self._generation:
            return
        self._job = None
        self.result = None
        if details:  # a bug: the dialog with details
            self._show_error(message, details)
        self._set_message(message)
        self._clear_results("See the message above.")

    def _cancelled(self, gen) -> None:
        if gen != self._generation:
            return
        self._job = None
        self.status.setText("Cancelled: press “Run again” (Ctrl+R).")

    def _auto_toggled(self, on: bool) -> None:
        for spin in self.prop_spins.values():
            spin.setEnabled(not on)

    @staticmethod
    def _fit_height(table: QTableWidget) -> None:
        """As tall as its rows (plus a scroll bar), so a short table leaves no empty block."""
        head = max(table.horizontalHeader().height(), table.horizontalHeader().sizeHint().height())
        rows = sum(table.rowHeight(r) for r in range(table.rowCount()))
        bar = table.horizontalScrollBar().sizeHint().height()
        table.setMaximumHeight(head + rows + bar + 2 * table.frameWidth() + 4)

    def _set_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    # ================================================================ filling
    def _clear_results(self, note: str) -> None:
        self.status.setText(note)
        for t in (self.rate_table, self.conf_table):
            t.clear()
            t.setRowCount(0)
            t.setColumnCount(0)
        self.coverage_label.setText("")
        self.cost_label.setText("")
        self._clear_confusion_grid()
        for p in (self.before_panel, self.after_panel, self.map_panel, self.sel_panel):
            p.plot.clear()
            p.set_note("")
        self.before_panel.legend.clear()
        self.after_panel.legend.clear()
        self.map_legend.clear()
        self.sel_legend.clear()

    def _fill_all(self) -> None:
        res = self.result
        if res is None:
            return
        names = res.group_names
        with QSignalBlocker(self.dist_group):
            old = self.dist_group.currentText()
            self.dist_group.clear()
            for g, name in enumerate(names):
                if g != res.reference:
                    self.dist_group.addItem(_icon(group_color(g)), name, g)
            i = self.dist_group.findText(old)
            self.dist_group.setCurrentIndex(i if i >= 0 else 0)
        self._fill_rates()
        self._fill_conformal()
        self._fill_confusion()
        self._draw_distributions()
        self._draw_selection()
        self._draw_maps()
        if self.features is not None and self.features.reference != res.reference:
            self.f_note.setText("The reference group changed: run the feature transport again.")

    @staticmethod
    def _item(table, r, c) -> QTableWidgetItem:
        it = table.item(r, c)
        if it is None:
            it = QTableWidgetItem()
            it.setFlags(Qt.ItemIsEnabled)
            it.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
            table.setItem(r, c, it)
        return it

    def _set(self, table, r, c, value, fmt=fmt_pct, reason: str = "", tip: str = ""):
        it = self._item(table, r, c)
        font = it.font()
        if _nan(value):
            it.setText("undefined")
            font.setItalic(True)
            it.setForeground(QBrush(GREY))
            it.setToolTip(f"Undefined: {reason}" if reason else "Undefined")
        else:
            it.setText(fmt(value))
            font.setItalic(False)
            it.setForeground(QBrush(QColor("#000000")))
            it.setToolTip(tip)
        it.setFont(font)
        return it

    def _header(self, text: str, tip: str, g: int | None = None) -> QTableWidgetItem:
        item = QTableWidgetItem(text)
        item.setToolTip(tip)
        if g is not None:
            item.setIcon(_icon(group_color(g)))
        return item

    def _fill_rates(self) -> None:
        res, t = self.result, self.rate_table
        names = res.group_names
        rows = [r for r in RATE_ROWS if res.has_label or r[0] in ("selection_rate", "gap")]
        t.clear()
        t.setRowCount(len(rows))
        t.setColumnCount(2 * len(names))
        for g, name in enumerate(names):
            ref = " (ref.)" if g == res.reference else ""
            t.setHorizontalHeaderItem(2 * g, self._header(
                f"{name}{ref}\nbefore", f"{name}: original scores", g))
            t.setHorizontalHeaderItem(2 * g + 1, self._header(
                f"{name}{ref}\nafter", f"{name}: scores transported onto {res.reference_name}"))
        for r, (key, label) in enumerate(rows):
            tip = GAP_TIP if key == "gap" else (f"<b>{RATES[key].name}</b><br>"
                                                f"{RATES[key].definition}<br>Formula: "
                                                f"{RATES[key].formula}")
            t.setVerticalHeaderItem(r, self._header(label, tip))
            for g, name in enumerate(names):
                for j, (rates, gap) in enumerate(((res.rates_before, res.gap_before),
                                                  (res.rates_after, res.gap_after))):
                    c = 2 * g + j
                    if key == "gap":
                        self._set(t, r, c, gap[g], fmt_pct, f"group '{name}' has no rows",
                                  tip=GAP_TIP.replace("<b>", "").replace("</b>", "")
                                  .replace("<br>", "\n"))
                    else:
                        fmt = (lambda x: f"{x:.3f}") if key == "cost_ratio" else fmt_pct
                        self._set(t, r, c, rates[key][g], fmt, undefined_reason(key, name))
                    if j == 1:
                        self._item(t, r, c).setBackground(QBrush(QColor("#F3F7FB")))
        h = t.horizontalHeader()
        h.setSectionResizeMode(QHeaderView.Interactive)
        t.resizeColumnsToContents()
        for c in range(t.columnCount()):
            t.setColumnWidth(c, max(t.columnWidth(c), 60))
        t.resizeRowsToContents()
        self._fit_height(t)
        notes = [f"Threshold {fmt_score(res.threshold)}: flagged when the score is "
                 + ("at or above" if res.sign > 0 else "at or below") + " it. “After” = the "
                 f"scores transported onto {res.reference_name}."]
        if self.state.group_specific and not self._threshold_edited:
            notes.append("The application's thresholds are group-specific; this page applies "
                         "one threshold to everyone (the median of the groups' thresholds). "
                         "Type another in the Threshold box.")
        notes += [w for w in res.warnings if "differs" in w or "label" in w.lower()]
        self.rate_note.setText(" ".join(notes))

    def _fill_conformal(self) -> None:
        res, t = self.result, self.conf_table
        c = res.conformal
        if c is None:
            t.clear()
            t.setRowCount(0)
            t.setColumnCount(0)
            self.coverage_label.setText("Prediction sets need the observed outcome: map an outcome "
                                        "(label) column on the Data page.")
            self.split_note.setText("")
            return
        cov = c.coverage
        ok = cov["low"] <= 1 - c.alpha <= cov["high"] or cov["value"] >= 1 - c.alpha
        self.coverage_label.setText(
            f"<b>Coverage on {res.reference_name}'s test split: {fmt_pct(cov['value'])}</b> "
            f"(95% interval {fmt_pct(cov['low'])}–{fmt_pct(cov['high'])}, "
            f"{cov['n']:,.0f} people; target {fmt_pct(1 - c.alpha)})"
            + ("" if ok else " — <span style='color:#a40000'>below the target: check that the "
               "splits are random samples of the same population</span>")
            + f".<br>Conformity threshold q = {c.qhat:.4g} (quantile level {c.level:.4f}); "
            + _plain(f"p̂(1): {c.calibrator.describe()}."))
        names = res.group_names
        cols = ["Test\nrows"] + list(SET_KEYS) + ["Coverage"]
        tips = ["Rows of the group in the test split"] + \
            [SET_LABELS[k] + ". " + SET_TIPS[k] for k in SET_KEYS] + \
            ["Share of the group's test rows whose true outcome is in their set, with its exact "
             "95% interval. Guaranteed (≥ 1 − α) only for the reference group."]
        t.clear()
        t.setColumnCount(len(cols))
        t.setRowCount(2 * len(names))
        for i, (name, tip) in enumerate(zip(cols, tips)):
            t.setHorizontalHeaderItem(i, self._header(name, tip))
        for g, name in enumerate(names):
            for j, (key, arr) in enumerate((("original", c.shares_original),
                                            ("transported", c.shares_transported))):
                r = 2 * g + j
                ref = " (ref.)" if g == res.reference else ""
                t.setVerticalHeaderItem(r, self._header(
                    f"{name}{ref}" if j == 0 else "   ↳ transported",
                    f"{name} with its {key} scores", g if j == 0 else None))
                self._set(t, r, 0, c.n_eval[g], lambda x: f"{int(x):,}")
                for i, k in enumerate(SET_KEYS):
                    self._set(t, r, 1 + i, arr[g, i], fmt_pct, f"group '{name}' has no test rows",
                              tip=f"{name}, {key} scores: {SET_LABELS[k]}")
                v, lo, hi = c.coverage_by_group[key][g]
                self._set(t, r, 5, v, lambda x, lo=lo, hi=hi: f"{fmt_pct(x)} "
                          f"({100 * lo:.1f}–{100 * hi:.1f})", f"group '{name}' has no test rows",
                          tip=f"{name}, {key} scores: coverage with its exact 95% interval")
                if j == 1:
                    for cc in range(len(cols)):
                        self._item(t, r, cc).setBackground(QBrush(QColor("#F3F7FB")))
        h = t.horizontalHeader()
        h.setSectionResizeMode(QHeaderView.Interactive)
        t.resizeColumnsToContents()
        for i in range(1, 5):
            t.setColumnWidth(i, max(t.columnWidth(i), 50))
        self._fit_height(t)
        if (self.state.data is not None and self.state.data.split is None
                and self.prop_auto.isChecked()):  # show the proportions used
            used = (0, 50, 50) if c.method == "score" else (40, 30, 30)
            for name, value in zip(("train", "calibration", "test"), used):
                with QSignalBlocker(self.prop_spins[name]):
                    self.prop_spins[name].setValue(value)
        notes = [n for n in c.split_notes if not n.startswith("Splits from column")]
        if self.state.data is not None and self.state.data.split is not None:
            notes.insert(0, f"Splits from column '{self.state.data.mapping.split}'.")
        self.split_note.setText(_plain(" ".join(notes + c.warnings))
                                + f" Rows per split (train / calibration / test) of "
                                f"{res.reference_name}: "
                                + " / ".join(f"{int(x):,}" for x in c.n_split[res.reference]) + ".")

    def _clear_confusion_grid(self) -> None:
        while self.conf_grid.count():
            item = self.conf_grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.confusion_widgets = []

    def _fill_confusion(self) -> None:
        res = self.result
        self._clear_confusion_grid()
        if res is None:
            return
        if res.tables_before is None:
            self.cost_label.setText("Confusion tables need the observed outcome: map an outcome "
                                    "(label) column on the Data page.")
            self.use_cost.setEnabled(False)
            return
        cr = res.cost_ratio
        have_cost = res.tables_cost_before is not None
        self.use_cost.setEnabled(have_cost)
        if have_cost:
            self.cost_label.setText(
                f"Target {cr.target:g} : 1 on {res.reference_name}: threshold "
                f"<b>{fmt_score(cr.threshold * res.sign)}</b> gives {cr.achieved:.2f} : 1 "
                f"({fmt_num(cr.fp)} false positives, {fmt_num(cr.fn)} false negatives) — the "
                f"closest among {cr.candidates:,} thresholds on a log scale.")
        else:
            self.cost_label.setText(f"No threshold gives {res.reference_name} both false positives "
                                    "and false negatives, so no cost ratio can be targeted.")
        at = self.conf_at.currentData()
        scores = self.conf_scores.currentData()
        if at == "cost" and not have_cost:
            at = "threshold"
        tables = {("threshold", "original"): res.tables_before,
                  ("threshold", "transported"): res.tables_after,
                  ("cost", "original"): res.tables_cost_before,
                  ("cost", "transported"): res.tables_cost_after}[(at, scores)]
        rates = tables.rates()
        cols = 2
        for g, name in enumerate(tables.group_names):
            box = QWidget()
            bl = QVBoxLayout(box)
            bl.setContentsMargins(0, 0, 0, 0)
            bl.setSpacing(1)
            n = tables.tp[g] + tables.fp[g] + tables.fn[g] + tables.tn[g]
            ref = " (reference)" if g == res.reference else ""
            title = QLabel(f"<b><span style='color:{group_color(g).name()}'>■</span> {name}{ref}</b>"
                           f" — {fmt_num(n)} people")
            bl.addWidget(title)
            t = self._table(f"Confusion table of {name}")
            t.setAlternatingRowColors(False)
            t.setRowCount(3)
            t.setColumnCount(3)
            heads = [("Not\nflagged", "Forecast: below the threshold"),
                     ("Flagged", "Forecast: at or beyond the threshold"),
                     ("Class.\nerror", "Classification error, conditioned on the truth: "
                                      "FPR for outcome 0, FNR for outcome 1; last row: the "
                                      "overall error")]
            for c, (hname, tip) in enumerate(heads):
                t.setHorizontalHeaderItem(c, self._header(hname, tip))
            for r, (hname, tip) in enumerate((("Outcome 0", "People without the outcome"),
                                              ("Outcome 1", "People with the outcome"),
                                              ("Forecast error", "Forecasting error, conditioned "
                                               "on the forecast: FOR (not flagged), FDR "
                                               "(flagged)"))):
                t.setVerticalHeaderItem(r, self._header(hname, tip))

            def rate(r, c, key):
                info = TABLE_RATES[key]
                self._set(t, r, c, rates[key][g], fmt_pct, tables.undefined_reason(key, name),
                          tip=f"{info[0]}: {info[1]}. {info[2]}")
                self._item(t, r, c).setBackground(QBrush(QColor("#F3F7FB")))
            self._set(t, 0, 0, tables.tn[g], fmt_num, tip="True negatives (TN)")
            self._set(t, 0, 1, tables.fp[g], fmt_num, tip="False positives (FP)")
            self._set(t, 1, 0, tables.fn[g], fmt_num, tip="False negatives (FN)")
            self._set(t, 1, 1, tables.tp[g], fmt_num, tip="True positives (TP)")
            rate(0, 2, "fpr")
            rate(1, 2, "fnr")
            rate(2, 0, "for")
            rate(2, 1, "fdr")
            rate(2, 2, "error")
            h = t.horizontalHeader()
            h.setSectionResizeMode(QHeaderView.Stretch)
            t.verticalHeader().setSectionResizeMode(QHeaderView.Fixed)
            height = (h.sizeHint().height() + 3 * t.verticalHeader().defaultSectionSize()
                      + 2 * t.frameWidth() + 2)
            t.setFixedHeight(height)
            t.setMinimumWidth(240)
            t.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
            t.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
            bl.addWidget(t)
            ratio = rates["cost_ratio"][g]
            bl.addWidget(self._note(
                "Cost ratio FP : FN = " + (f"{ratio:.2f} : 1" if not _nan(ratio) else
                                           "undefined (no false negatives)")))
            self.conf_grid.addWidget(box, g // cols, g % cols)
            self.confusion_widgets.append(t)
        self.conf_grid.setRowStretch(len(tables.group_names) // cols + 1, 1)

    def _use_cost_threshold(self) -> None:
        res = self.result
        if res is None or res.cost_ratio is None or _nan(res.cost_ratio.threshold):
            return
        self.threshold_edit.setText(f"{res.cost_ratio.threshold * res.sign:.10g}")
        self._threshold_edited = True
        self.run()

    # ================================================================ plots
    def _draw_distributions(self) -> None:
        res, data = self.result, self.state.data
        for p in (self.before_panel, self.after_panel):
            p.plot.clear()
            p.legend.clear()
        if res is None or data is None or self.dist_group.count() == 0:
            return
        g = int(self.dist_group.currentData())
        ref = res.reference
        mg, mr = data.group == g, data.group == ref
        w = data.weight
        # bins from the scores as they are (the transported ones are reference scores or
        # between them), so that decile scores keep one bin per value
        edges = hist_edges(np.concatenate([data.score[mr], data.score[mg]]))
        h_ref = shares(data.score[mr], w[mr], edges)
        for panel, values, when in ((self.before_panel, data.score[mg], "before"),
                                    (self.after_panel, res.transported[mg], "after")):
            h_g = shares(values, w[mg], edges)
            overlap = float(np.minimum(h_ref, h_g).sum())
            plot = panel.plot
            plot.addItem(pg.PlotDataItem(edges, np.minimum(h_ref, h_g), stepMode="center",
                                         fillLevel=0, brush=pg.mkBrush(OVERLAP_BRUSH),
                                         pen=pg.mkPen(None), name=f"overlap {overlap:.0%}"))
            plot.addItem(pg.PlotDataItem(
                edges, h_ref, stepMode="center", pen=group_pen(ref, 2),
                name=f"{res.reference_name} (ref., "
                     f"{fmt_pct(res.rates_before['selection_rate'][ref])} flagged)"))
            sel = (res.rates_before if when == "before" else res.rates_after)["selection_rate"][g]
            label = (res.group_names[g] + (" transported" if when == "after" else "")
                     + f" ({fmt_pct(sel)} flagged)")
            plot.addItem(pg.PlotDataItem(edges, h_g, stepMode="center", pen=group_pen(g, 2.5),
                                         name=label))
            line = pg.InfiniteLine(res.threshold, angle=90, pen=pg.mkPen("k", width=1.5,
                                                                         style=Qt.DashLine))
            plot.addItem(line, ignoreBounds=True)
            plot.setTitle(f"{'Before' if when == 'before' else 'After'} transport "
                          f"(overlap {overlap:.0%})", color="k", size="11pt")
            plot.setXRange(edges[0], edges[-1], padding=0.02)
            plot.enableAutoRange(axis="y")

    def _draw_selection(self) -> None:
        res = self.result
        plot = self.sel_panel.plot
        plot.clear()
        self.sel_legend.clear()
        if res is None or res.selection_curve is None:
            return
        x, before, after = res.selection_curve
        for g, name in enumerate(res.group_names):
            if g == res.reference:
                plot.addItem(pg.PlotDataItem(x, before[g], pen=pg.mkPen(group_color(g), width=5),
                                             name=f"{name} (reference)", connect="finite"))
                continue
            plot.addItem(pg.PlotDataItem(x, before[g], pen=group_pen(g, 1.5, Qt.DashLine),
                                         connect="finite"))
            plot.addItem(pg.PlotDataItem(x, after[g], pen=group_pen(g, 2), connect="finite",
                                         name=f"{name} (dashed: before)"))
        plot.addItem(pg.InfiniteLine(res.threshold, angle=90,
                                     pen=pg.mkPen("k", width=1.5, style=Qt.DashLine)),
                     ignoreBounds=True)
        self.sel_legend.setColumnCount(2 if len(res.group_names) > 5 else 1)
        plot.setXRange(float(x[0]), float(x[-1]), padding=0.02)
        plot.setYRange(0, 1, padding=0.03)
        self.sel_panel.set_note("Wide line: the reference group. Solid: transported scores; "
                                "dashed: original scores.")

    def _draw_maps(self) -> None:
        res = self.result
        plot = self.map_panel.plot
        plot.clear()
        self.map_legend.clear()
        if res is None:
            return
        data = self.state.data
        lo, hi = float(np.min(data.score)), float(np.max(data.score))
        plot.addItem(pg.PlotDataItem([lo, hi], [lo, hi], pen=pg.mkPen("#888888", width=1,
                                                                      style=Qt.DashLine)))
        for g, name in enumerate(res.group_names):
            kx, ky = res.score_map.knots_x[g], res.score_map.knots_y[g]
            if kx.size == 0:
                continue
            x, y = decimate(kx, ky)
            ref = " (reference)" if g == res.reference else ""
            plot.addItem(pg.PlotDataItem(x, y, pen=group_pen(g, 2.5 if g != res.reference else 1.5),
                                         name=name + ref, symbol="o" if kx.size <= 30 else None,
                                         symbolSize=6, symbolBrush=group_color(g),
                                         symbolPen=pg.mkPen("w")))
        for angle in (90, 0):
            plot.addItem(pg.InfiniteLine(res.threshold, angle=angle,
                                         pen=pg.mkPen("#555555", width=1, style=Qt.DotLine)),
                         ignoreBounds=True)
        plot.setXRange(lo, hi, padding=0.03)
        plot.setYRange(lo, hi, padding=0.03)
        self.map_panel.set_note("The map is linear between the fitted scores and constant beyond "
                                "them, so new rows can be mapped too.")

    # ================================================================ features
    def _fill_feature_list(self) -> None:
        data = self.state.data
        old = set(self.checked_features())
        self.feature_list.clear()
        numeric = []
        for name, values in (data.extras.items() if data is not None else []):
            try:
                arr = np.asarray(values, dtype=float)
                ok = bool(np.isfinite(arr).any())
            except (TypeError, ValueError):
                ok = False
            item = QListWidgetItem(name)
            if ok:
                item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsUserCheckable)
                item.setCheckState(Qt.Checked if (name in old or not old) else Qt.Unchecked)
                item.setToolTip(f"Column '{name}': tick it to transport it")
                numeric.append(name)
            else:
                item.setFlags(Qt.NoItemFlags)
                item.setToolTip(f"Column '{name}' is not numeric, so it cannot be transported")
            self.feature_list.addItem(item)
        rows = max(self.feature_list.count(), 1)
        self.feature_list.setFixedHeight(min(160, 6 + rows * self.feature_list.sizeHintForRow(0)
                                             if self.feature_list.count() else 30))
        has = bool(numeric)
        self.no_features.setVisible(not has)
        self.feature_list.setVisible(self.feature_list.count() > 0)
        for wdg in (self.f_run,):
            wdg.setEnabled(has)

    def checked_features(self) -> list[str]:
        out = []
        for i in range(self.feature_list.count()):
            it = self.feature_list.item(i)
            if it.flags() & Qt.ItemIsUserCheckable and it.checkState() == Qt.Checked:
                out.append(it.text())
        return out

    def set_checked_features(self, names) -> None:
        names = set(names)
        for i in range(self.feature_list.count()):
            it = self.feature_list.item(i)
            if it.flags() & Qt.ItemIsUserCheckable:
                it.setCheckState(Qt.Checked if it.text() in names else Qt.Unchecked)

    def run_features(self) -> None:
        data = self.state.data
        if data is None or self._feature_job is not None:
            return
        settings = self.feature_settings()
        if not settings.features:
            self._show_error("Tick at least one feature to transport.")
            return
        self.state.seeds["feature transport"] = settings.seed
        self._feature_pending = data
        self.f_run.setEnabled(False)
        self.f_note.setText("Running… progress and Cancel in the status bar.")
        self._feature_job = self.worker.start(
            run_feature_transport, data, settings, title="Feature transport",
            on_result=self._features_done, on_error=self._features_failed,
            on_cancel=self._features_cancelled)

    def _features_done(self, fres: FeatureResult) -> None:
        data, self._feature_pending, self._feature_job = self._feature_pending, None, None
        self.f_run.setEnabled(True)
        if data is not self.state.data:
            self.f_note.setText("The data changed while it ran: run it again.")
            return
        self.features = fres
        n_batches = sum(fres.batches.values())
        self.f_note.setText(f"{n_batches:,} assignment problems solved (seed {fres.settings.seed}); "
                            f"reference {fres.reference_name}. "
                            + " ".join(fres.warnings))
        with QSignalBlocker(self.marg_feature), QSignalBlocker(self.marg_group):
            self.marg_feature.clear()
            self.marg_feature.addItems(fres.features)
            self.marg_group.clear()
            for g, name in enumerate(fres.group_names):
                if g != fres.reference:
                    self.marg_group.addItem(_icon(group_color(g)), name, g)
        self._draw_feature_views()

    def _features_failed(self, message: str, details: str) -> None:
        self._feature_pending = self._feature_job = None
        self.f_run.setEnabled(True)
        self.f_note.setText("The feature transport failed; see the message.")
        self._show_error(message, details)

    def _features_cancelled(self) -> None:
        self._feature_pending = self._feature_job = None
        self.f_run.setEnabled(True)
        self.f_note.setText("Cancelled: no results.")

    def _clear_feature_views(self) -> None:
        self.marg_panel.plot.clear()
        self.marg_legend.clear()
        for t in self.corr_tables + [self.summary_table]:
            t.clear()
            t.setRowCount(0)
            t.setColumnCount(0)
        with QSignalBlocker(self.marg_feature), QSignalBlocker(self.marg_group):
            self.marg_feature.clear()
            self.marg_group.clear()

    def _draw_feature_views(self) -> None:
        self._draw_feature()
        self._fill_correlations()

    def _draw_feature(self) -> None:
        fres, data = self.features, self.state.data
        plot = self.marg_panel.plot
        plot.clear()
        self.marg_legend.clear()
        if fres is None or data is None or self.marg_group.count() == 0:
            return
        j = max(self.marg_feature.currentIndex(), 0)
        g = int(self.marg_group.currentData())
        ref = fres.reference
        mg, mr = data.group == g, data.group == ref
        w = data.weight
        x_ref, x_o, x_t = fres.original[mr, j], fres.original[mg, j], fres.transported[mg, j]
        # bins from the values as recorded; transported values (averages of reference rows)
        # fall into the bin of the nearest recorded value
        edges = hist_edges(np.concatenate([x_ref, x_o]))
        h_ref, h_o, h_t = (shares(x, ww, edges) for x, ww in ((x_ref, w[mr]), (x_o, w[mg]),
                                                              (x_t, w[mg])))
        col = QColor(group_color(ref))
        col.setAlpha(70)
        plot.addItem(pg.PlotDataItem(edges, h_ref, stepMode="center", fillLevel=0,
                                     brush=pg.mkBrush(col), pen=group_pen(ref, 1.5),
                                     name=f"{fres.reference_name} (reference)"))
        plot.addItem(pg.PlotDataItem(edges, h_o, stepMode="center",
                                     pen=group_pen(g, 2, Qt.DashLine),
                                     name=f"{fres.group_names[g]} original"))
        plot.addItem(pg.PlotDataItem(edges, h_t, stepMode="center", pen=group_pen(g, 2.5),
                                     name=f"{fres.group_names[g]} transported"))
        ov_o = float(np.minimum(h_ref, h_o).sum())
        ov_t = float(np.minimum(h_ref, h_t).sum())
        feature = fres.features[j]
        plot.setTitle(f"{feature}: overlap {ov_o:.0%} → {ov_t:.0%}", color="k", size="11pt")
        plot.setLabel("bottom", feature, color="k", **{"font-size": "11pt"})
        plot.setXRange(edges[0], edges[-1], padding=0.02)
        plot.enableAutoRange(axis="y")

    def _fill_correlations(self) -> None:
        fres, data = self.features, self.state.data
        if fres is None or data is None or self.marg_group.count() == 0:
            return
        g = int(self.marg_group.currentData())
        ref = fres.reference
        w = data.weight
        mg, mr = data.group == g, data.group == ref
        blocks = [(f"{fres.reference_name} (reference)", fres.original[mr], w[mr]),
                  (f"{fres.group_names[g]} original", fres.original[mg], w[mg]),
                  (f"{fres.group_names[g]} transported", fres.transported[mg], w[mg])]
        d = len(fres.features)
        short = [f if len(f) <= 10 else f[:9] + "…" for f in fres.features]
        stats = []
        for (title, X, ww), table, lab in zip(blocks, self.corr_tables, self.corr_titles):
            mean, sd, corr = weighted_stats(X, ww)
            stats.append((mean, sd))
            lab.setText(f"<b>{title}</b>")
            table.clear()
            table.setRowCount(d)
            table.setColumnCount(d)
            for i in range(d):
                table.setHorizontalHeaderItem(i, self._header(short[i], fres.features[i]))
                table.setVerticalHeaderItem(i, self._header(short[i], fres.features[i]))
                for k in range(d):
                    it = self._set(table, i, k, corr[i, k], lambda x: f"{x:+.2f}",
                                   "a constant feature has no correlation (0/0)",
                                   tip=f"{title}: correlation of {fres.features[i]} and "
                                       f"{fres.features[k]}")
                    it.setBackground(QBrush(corr_color(corr[i, k])))
                    it.setTextAlignment(Qt.AlignCenter)
            table.resizeColumnsToContents()
            self._fit_height(table)
        t = self.summary_table
        cols = ["Reference mean", "Original mean", "Transported mean", "Reference SD",
                "Original SD", "Transported SD"]
        t.clear()
        t.setRowCount(d)
        t.setColumnCount(len(cols))
        for c, name in enumerate(cols):
            t.setHorizontalHeaderItem(c, self._header(name.replace(" ", "\n", 1),
                                                      name + " of the feature (weighted)"))
        for i, f in enumerate(fres.features):
            t.setVerticalHeaderItem(i, self._header(f, f))
            for c, (which, k) in enumerate(((0, 0), (1, 0), (2, 0), (0, 1), (1, 1), (2, 1))):
                self._set(t, i, c, stats[which][k][i], lambda x: f"{x:,.3f}",
                          "no rows in this group")
        t.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self._fit_height(t)

    # ================================================================ export
    def export_rows_dialog(self) -> None:
        if self.state.data is None or (self.result is None and self.features is None):
            self._show_error("Nothing to export yet: wait for the score transport, or run the "
                             "feature transport.")
            return
        src = Path(self.state.table.source.path) if self.state.table is not None else Path.home() / "data"
        path, _ = QFileDialog.getSaveFileName(
            self, "Export transported rows", str(src.with_name(src.stem + " transported.csv")),
            "CSV (*.csv);;Excel workbook (*.xlsx)")
        if path:
            from ...io.outputs import confirm_replace
            confirm_replace(path)  # the save dialog asked before replacing an existing file
            self.export_rows(path)

    def export_rows(self, path: str):
        from ...reports.transport_report import write_transported_rows

        if self.state.table is None or self.state.data is None:
            self._show_error("Open and map a data file before exporting.")
            return None
        source = self.state.table.source
        return self.worker.start(write_transported_rows, path, source, self.state.data,
                                 self.result, self.features, title="Writing transported rows",
                                 on_result=lambda p: self.f_note.setText(f"Saved {p}"))

    # ================================================================ settings
    def settings(self) -> dict:
        try:
            s = self.current_settings().to_dict()
        except FairDeskError:
            s = {}
        s["threshold_edited"] = bool(self._threshold_edited)
        s["split_proportions_auto"] = self.prop_auto.isChecked()
        s["features"] = self.feature_settings().to_dict()
        s["tab"] = self.tabs.currentIndex()
        s["table_tab"] = self.table_tabs.currentIndex()
        s["plot_tab"] = self.plot_tabs.currentIndex()
        return s

    def apply_settings(self, settings: dict) -> None:
        s = settings or {}
        self._applying = True
        try:
            if s.get("reference") is not None:
                i = self.ref_combo.findText(str(s["reference"]))
                if i >= 0:
                    self.ref_combo.setCurrentIndex(i)
            if s.get("threshold") is not None and s.get("threshold_edited"):
                self.threshold_edit.setText(f"{float(s['threshold']):.10g}")
                self._threshold_edited = True
            for combo, key in ((self.ties_combo, "ties"), (self.prob_combo, "probability")):
                if key in s:
                    i = combo.findData(s[key])
                    if i >= 0:
                        combo.setCurrentIndex(i)
            if "alpha" in s:
                self.coverage_spin.setValue(100 * (1 - float(s["alpha"])))
            if "seed" in s:
                self.seed_spin.setValue(int(s["seed"]))
            if "target_cost_ratio" in s:
                self.cost_spin.setValue(float(s["target_cost_ratio"]))
            for name, values in (s.get("split_values") or {}).items():
                if name in self.split_edits:
                    self.split_edits[name].setText(", ".join(str(v) for v in values))
            props = s.get("split_proportions")
            self.prop_auto.setChecked(bool(s.get("split_proportions_auto", props is None)))
            if props:
                for name, v in zip(("train", "calibration", "test"), props):
                    self.prop_spins[name].setValue(int(round(float(v))))
            f = s.get("features") or {}
            if f:
                fs = FeatureSettings.from_dict(f)
                self.f_standardize.setChecked(bool(fs.standardize))
                self.f_batch.setValue(int(fs.batch_size))
                self.f_rounds.setValue(int(fs.rounds))
                self.f_k.setValue(int(fs.neighbours))
                self.f_seed.setValue(int(fs.seed))
                if fs.features:
                    self.set_checked_features(fs.features)
            for tabs, key in ((self.tabs, "tab"), (self.table_tabs, "table_tab"),
                              (self.plot_tabs, "plot_tab")):
                if key in s:
                    tabs.setCurrentIndex(int(s[key]))
        finally:
            self._applying = False
        if self.state.data is not None:
            self.run()

    def export_settings(self) -> dict:
        if self.result is None:
            return {}
        s = self.result.settings
        out = {"Reference group": self.result.reference_name,
               "Threshold": self.result.threshold, "Ties": s.ties,
               "Coverage (1 − α)": 1 - s.alpha, "p̂(1)": s.probability,
               "Target cost ratio FP:FN": s.target_cost_ratio, "Seed": s.seed}
        if self.features is not None:
            fs = self.features.settings
            out.update({"Features": ", ".join(fs.features), "Batch size": fs.batch_size,
                        "Rounds": fs.rounds, "Neighbours": fs.neighbours,
                        "Standardized": "yes" if fs.standardize else "no (raw features)",
                        "Feature seed": fs.seed})
        return out

    def export_tables(self) -> list:
        data = self.state.data
        if data is None or self.result is None:
            return []
        from ...reports.transport_report import feature_tables, transport_tables

        tables = transport_tables(self.result, data)
        if self.features is not None:
            tables += feature_tables(self.features, data)
        return tables

    def add_as_scenario(self) -> str | None:
        """Transported scores at the threshold, as a Decision-table scenario."""
        from ...scenarios import Scenario

        res = self.result
        if res is None or self.state.data is None:
            return None
        settings = res.settings.to_dict()
        settings["threshold"] = float(res.threshold)
        scenario = Scenario(f"Transported onto {res.reference_name} ≥ {res.threshold:g}", "probabilities",
                            {"engine": "fairdesk.engines.transport:scenario_probabilities",
                             "settings": settings},
                            {"engine": "Transport & conformal", "seed": res.settings.seed})
        return self.state.add_scenario(scenario)


def _plain(text: str) -> str:
    """p̂ and q̂ as p and q: the combining hat is drawn misplaced in Qt's rich text."""
    return text.replace("p̂", "p").replace("q̂", "q")


def _icon(color: QColor):
    from PySide6.QtGui import QIcon, QPixmap

    pm = QPixmap(12, 12)
    pm.fill(color)
    return QIcon(pm)
