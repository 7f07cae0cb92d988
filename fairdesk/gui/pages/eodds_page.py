"""ROC & equalized odds: each group's ROC region, their intersection, the chosen common point
and the randomisation that realises it — fixed (Hardt et al.) or a continuous probability
curve (Small et al.) — with each row's probability of a positive decision.

A thin view over :mod:`fairdesk.engines.equalized_odds`: settings on top, tables on the left
(the chosen randomisation per group; all randomisations compared), plots on the right (the ROC
regions with the point and iso-cost lines; the probability curves φ_a(score)). The engine runs
in the worker whenever the data or a setting changes (settings are debounced); the curve
family only changes what is shown.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QIcon, QKeySequence, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox,
                               QFileDialog, QGraphicsPolygonItem, QGridLayout, QGroupBox,
                               QHBoxLayout, QHeaderView, QLabel, QPushButton, QSpinBox,
                               QSplitter, QTableWidget, QTableWidgetItem,
                               QTabWidget, QVBoxLayout, QWidget)

from ...engines.equalized_odds import (CONSTRAINT_TITLES, OBJECTIVE_TITLES, EOddsResult,
                                       EOddsSettings, run_equalized_odds)
from ...engines.preferential import ALL_FAMILIES, FAMILY_TITLES, phi
from ...errors import FairDeskError
from ..palette import group_color
from ..plots import PlotPanel, add_legend, decimate, group_pen
from .base import Page, readonly_table

log = logging.getLogger("fairdesk.gui.eodds")

DEBOUNCE_MS = 350
CURVE_GRID = 600
INTERSECTION = QColor("#202020")
HATCH = QColor(32, 32, 32, 110)
WARN_STYLE = "QLabel {color:#6b4e00; background:#fff6db; border:1px solid #f0dc9c; padding:4px}"

GROUP_COLUMNS = [
    ("group", "Group", "The protected group (the combination of the group columns)."),
    ("t0", "t0", "Looser threshold: below it the decision is negative (probability 0)."),
    ("t1", "t1", "Stricter threshold: at or above it the decision is positive (probability 1)."),
    ("p", "p", "Fixed randomisation: the probability of a positive decision between t0 and t1. "
               "For a curve: its shape parameter; the curve gives out the same amount of chance "
               "as a step with this p. “—”: a single threshold."),
    ("lipschitz", "Lipschitz\nL", "Largest slope of the probability curve, in probability per "
                                   "score unit: two people whose scores differ by d have odds "
                                   "differing by at most L × d. A step jumps: infinite (∞)."),
    ("rates", "FPR / TPR", "False positive rate: the expected share of the group's people "
                           "without the outcome who get a positive decision. True positive rate: "
                           "the expected share of those with the outcome who get one."),
    ("accuracy", "Accuracy", "Expected share of the group's people whose decision matches "
                             "their outcome."),
    ("eo_gap", "EO\ngap", "Equalized-odds gap: the largest difference in FPR or TPR between "
                           "this group and any other group (0 = equalized odds hold exactly)."),
    ("monotone", "Mono-\ntone", "Whether the probability never decreases as the score rises "
                                 "(the 4th-order curve only for 0.4 ≤ p ≤ 0.6)."),
]
SUMMARY_COLUMNS = [
    ("what", "Rule", "What was compared."),
    ("accuracy", "Accuracy", "Expected share of correct decisions over all groups."),
    ("cost", "Expected\ncost", "Expected cost per person: false positives × their cost plus false "
                              "negatives × theirs, divided by the number of people (1:1 = error "
                              "rate)."),
    ("gap", "EO gap", "Largest difference in FPR or TPR between any two groups."),
    ("odds", "Equal indi-\nvidual odds", "Whether every group can reach the same range of "
                                      "probabilities of a positive decision (Small et al.)."),
    ("lipschitz", "Largest\nL", "The largest Lipschitz constant over the groups (∞ for a step or "
                               "a single threshold)."),
]


def color_icon(color: QColor, size: int = 12) -> QIcon:
    pm = QPixmap(size, size)
    pm.fill(color)
    return QIcon(pm)


def fmt_num(x, digits: int = 4) -> str:
    if x is None:
        return "—"
    x = float(x)
    if math.isnan(x):
        return "undefined"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x != 0 and abs(x) < 1e-3:
        return f"{x:.1e}"
    if abs(x) >= 10 ** digits:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def fmt_pct(x) -> str:
    return f"{100 * float(x):.2f}%"


def _key(settings: EOddsSettings) -> dict:
    """The settings a result depends on (the family shown is only a view)."""
    d = settings.to_dict()
    d.pop("family")
    return d


def compute(data, settings, scores, *, job):
    """Worker function."""
    return run_equalized_odds(data, settings, scores=scores, job=job)


class EqualizedOddsPage(Page):
    key = "eodds"
    title = "ROC & equalized odds"

    def __init__(self, state, worker, parent=None):
        super().__init__(state, worker, parent)
        self.result: EOddsResult | None = None
        self._result_for = None  # (data, settings dict) the result belongs to
        self._generation = 0
        self._job = None
        self._split_done = False
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self.compute)
        self._build_ui()
        state.dataChanged.connect(self._on_data_changed)
        self._on_data_changed()

    def toolTip(self) -> str:  # the navigation entry's tooltip
        return ("Equalized odds: each group's ROC region, the common operating point, and the "
                "thresholds and probabilities (fixed or smooth curves) that reach it")

    # ------------------------------------------------------------------------------ UI
    def _build_ui(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        lay = self.add_empty_stack(outer, "Open a data file and map its columns (score, outcome, group) to "
                            "see the ROC regions and equalized odds.")
        lay.addWidget(self._build_settings())
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.RichText)
        self.summary.setStyleSheet("color: #202020; padding: 2px 4px;")
        lay.addWidget(self.summary)
        self.warn = QLabel()
        self.warn.setWordWrap(True)
        self.warn.setStyleSheet(WARN_STYLE)
        self.warn.hide()
        lay.addWidget(self.warn)

        self.splitter = QSplitter(Qt.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        lay.addWidget(self.splitter, 1)
        left = QSplitter(Qt.Vertical)
        left.setChildrenCollapsible(False)
        self.left_splitter = left
        self.plot_tabs = QTabWidget()
        self.plot_tabs.setDocumentMode(True)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.plot_tabs)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)

        self.group_title = QLabel()
        self.group_title.setStyleSheet("font-weight: bold; padding: 2px;")
        self.group_table = self._table("The chosen randomisation for each group: thresholds, "
                                       "probability and expected rates")
        left.addWidget(self._titled(self.group_title, self.group_table))
        self.summary_title = QLabel("All randomisations compared")
        self.summary_title.setStyleSheet("font-weight: bold; padding: 2px;")
        self.summary_table = self._table("Every randomisation compared with the target point and "
                                         "the best group-blind threshold")
        left.addWidget(self._titled(self.summary_title, self.summary_table))
        left.setStretchFactor(0, 3)
        left.setStretchFactor(1, 2)

        err = self._show_error
        self.roc_panel = PlotPanel("ROC regions", "False positive rate", "True positive rate",
                                   name="roc_regions", on_error=err)
        self.roc_panel.widget.setToolTip(
            "Each group's ROC curve (thin) and upper hull (thick); the shaded area under the hull "
            "and above the diagonal is what the group can reach by mixing thresholds. The hatched "
            "area is reachable by every group; the star is the chosen common point; dashed lines "
            "join points of equal cost.")
        self.roc_panel.plot.setAspectLocked(False)
        self.roc_legend = add_legend(self.roc_panel.plot, offset=(-10, -10))
        self.plot_tabs.addTab(self.roc_panel, "ROC regions")
        self.plot_tabs.setTabToolTip(0, "ROC curves, hulls and feasible regions per group, their "
                                        "intersection and the chosen point")
        self.curve_panel = PlotPanel("Probability curves", "Score",
                                     "Probability of a positive decision",
                                     name="probability_curves", on_error=err)
        self.curve_panel.widget.setToolTip(
            "Each group's probability of a positive decision as a function of the score, for "
            "the randomisation chosen above (Small et al., Figures 1, 3 and 4)")
        self.curve_legend = add_legend(self.curve_panel.plot, offset=(10, 4))  # above the curves
        self.plot_tabs.addTab(self.curve_panel, "Probability curves")
        self.plot_tabs.setTabToolTip(1, "φ(score) per group: the step (fixed randomisation) or a "
                                        "continuous curve")

        bottom = QHBoxLayout()
        bottom.setSpacing(6)
        self.scenario_button = QPushButton("Add as scenario")
        self.scenario_button.setToolTip("Add the chosen randomisation (its per-group t0, t1, p) to the "
                                        "Decision table, compared on expected counts")
        self.scenario_button.clicked.connect(self.add_as_scenario)
        bottom.addWidget(self.scenario_button)
        self.export_rows_button = QPushButton("Export row probabilities…")
        self.export_rows_button.setToolTip(
            "Write every row's probability of a positive decision under the chosen "
            "randomisation (CSV or Excel). Decisions are drawn only if you tick the box.")
        self.export_rows_button.clicked.connect(self.export_rows_dialog)
        self.draw_box = QCheckBox("Also draw decisions with seed")
        self.draw_box.setToolTip("Draw a 0/1 decision for every row from its probability. The "
                                 "seed is written in the export: the same seed gives the same "
                                 "decisions. Many agencies do not decide by chance: leave this "
                                 "off to export probabilities only.")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2_147_483_647)
        self.seed_spin.setValue(self.state.seed("eodds decisions"))
        self.seed_spin.setToolTip("Random seed of the drawn decisions")
        self.seed_spin.setEnabled(False)
        self.draw_box.toggled.connect(self.seed_spin.setEnabled)
        bottom.addWidget(self.export_rows_button)
        bottom.addWidget(self.draw_box)
        bottom.addWidget(self.seed_spin)
        bottom.addStretch(1)
        lay.addLayout(bottom)

    def _build_settings(self) -> QGroupBox:
        box = QGroupBox("Settings")
        grid = QGridLayout(box)
        grid.setContentsMargins(8, 4, 8, 6)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(4)
        self.constraint_combo = QComboBox()
        for key, text in (("equalized_odds", "Equalized odds"), ("equal_opportunity", "Equal opportunity")):
            self.constraint_combo.addItem(text, key)
            self.constraint_combo.setItemData(self.constraint_combo.count() - 1,
                                              CONSTRAINT_TITLES[key], Qt.ToolTipRole)
        self.constraint_combo.setToolTip(
            "Equalized odds: every group gets the same true and false positive rates. Equal "
            "opportunity: the same true positive rate only; each group then has its smallest "
            "reachable false positive rate.")
        self.objective_combo = QComboBox()
        for key, text in (("cost", "Expected cost"), ("accuracy", "Error rate"),
                          ("distance", "Distance to (0, 1)")):
            self.objective_combo.addItem(text, key)
            self.objective_combo.setItemData(self.objective_combo.count() - 1,
                                             OBJECTIVE_TITLES[key], Qt.ToolTipRole)
        self.objective_combo.setCurrentIndex(1)
        self.objective_combo.setToolTip(
            "What the common point minimises: the expected cost with the costs on the right, the "
            "error rate (both costs 1), or the distance to the perfect rule (FPR 0, TPR 1).")
        self.cost_fp = self._spin(0.001, 1e6, 1.0, 3, "Cost of a false positive: a positive "
                                  "decision for someone without the positive outcome")
        self.cost_fn = self._spin(0.001, 1e6, 1.0, 3, "Cost of a false negative: a negative "
                                  "decision for someone with the positive outcome")
        self.break_even = QLabel()
        self.break_even.setStyleSheet("color: #404040;")
        self.break_even.setToolTip("A positive decision pays off when the chance of the positive "
                                   "outcome is above FP cost ÷ (FP cost + FN cost)")
        self.tolerance = self._spin(0.0, 0.5, 0.0, 3, "Relaxed equalized odds: the largest "
                                    "difference in TPR (and FPR) allowed between any two groups. "
                                    "0 = exact.")
        self.tolerance.setSingleStep(0.005)
        self.family_combo = QComboBox()
        for f in ALL_FAMILIES:
            self.family_combo.addItem(FAMILY_TITLES[f], f)
        self.family_combo.setCurrentIndex(self.family_combo.findData("cubic"))
        self.family_combo.setToolTip(
            "How the randomisation between the two thresholds is shown and exported: the step "
            "(everyone between t0 and t1 gets the same probability p) or a continuous curve "
            "rising from 0 at t0 to 1 at t1 (people with close scores get close odds).")
        self.smooth_box = QCheckBox("Prefer gentlest curve within")
        self.smooth_box.setToolTip("Among curves whose rates are within this distance of the "
                                   "target, take the one with the smallest Lipschitz constant "
                                   "(a small equalized-odds gap for smoother odds)")
        self.smooth_tol = self._spin(0.0001, 0.1, 0.005, 4, "Largest gap to the target accepted "
                                     "for a gentler curve")
        self.smooth_tol.setSingleStep(0.001)
        self.smooth_tol.setEnabled(False)
        self.smooth_box.toggled.connect(self.smooth_tol.setEnabled)
        self.run_button = QPushButton("Recompute")
        self.run_button.setShortcut(QKeySequence("Ctrl+R"))
        self.run_button.setToolTip("Compute again now (Ctrl+R); it also runs by itself whenever "
                                   "the data or a setting changes")
        self.run_button.clicked.connect(self.compute)

        for combo, n in ((self.constraint_combo, 16), (self.objective_combo, 16), (self.family_combo, 16)):
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(n)
        for spin in (self.cost_fp, self.cost_fn, self.tolerance, self.smooth_tol):
            spin.setMaximumWidth(90)
        grid.addWidget(QLabel("Constraint"), 0, 0)
        grid.addWidget(self.constraint_combo, 0, 1)
        grid.addWidget(QLabel("Minimise"), 0, 2)
        grid.addWidget(self.objective_combo, 0, 3)
        costs = QHBoxLayout()
        costs.setSpacing(4)
        self.cost_label = QLabel("Cost FP")
        costs.addWidget(self.cost_label)
        costs.addWidget(self.cost_fp)
        self.cost_sep = QLabel(": FN")
        costs.addWidget(self.cost_sep)
        costs.addWidget(self.cost_fn)
        costs.addWidget(self.break_even)
        costs.addStretch(1)
        grid.addLayout(costs, 0, 4, 1, 3)
        grid.addWidget(QLabel("Tolerance ε"), 1, 0)
        grid.addWidget(self.tolerance, 1, 1)
        grid.addWidget(QLabel("Show"), 1, 2)
        grid.addWidget(self.family_combo, 1, 3)
        sm = QHBoxLayout()
        sm.setSpacing(4)
        sm.addWidget(self.smooth_box)
        sm.addWidget(self.smooth_tol)
        sm.addStretch(1)
        grid.addLayout(sm, 1, 4, 1, 2)
        grid.addWidget(self.run_button, 1, 6)
        grid.setColumnStretch(3, 1)
        grid.setColumnStretch(5, 1)

        for w in (self.constraint_combo, self.objective_combo):
            w.currentIndexChanged.connect(self._settings_changed)
        for w in (self.cost_fp, self.cost_fn, self.tolerance, self.smooth_tol):
            w.valueChanged.connect(self._settings_changed)
        self.smooth_box.toggled.connect(self._settings_changed)
        self.family_combo.currentIndexChanged.connect(lambda _i: self._refresh())
        self._update_cost_widgets()
        return box

    @staticmethod
    def _spin(lo, hi, value, decimals, tip) -> QDoubleSpinBox:
        s = QDoubleSpinBox()
        s.setRange(lo, hi)
        s.setDecimals(decimals)
        s.setValue(value)
        s.setToolTip(tip)
        s.setKeyboardTracking(False)
        return s

    @staticmethod
    def _titled(title: QLabel, table: QTableWidget) -> QWidget:
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(2)
        v.addWidget(title)
        v.addWidget(table, 1)
        return w

    def _table(self, tip: str) -> QTableWidget:
        return readonly_table(tip, row_header=False)

    def apply_initial_split(self, total: int) -> None:
        left = int(total * 0.58)
        self.splitter.setSizes([left, total - left])
        self._fit_split()

    def _fit_split(self) -> None:
        """The per-group table gets the height of its rows (up to 60 %), the rest goes to the
        comparison table."""
        total = sum(self.left_splitter.sizes())
        if total < 200:
            return
        t = self.group_table
        need = (t.horizontalHeader().height() + t.rowCount() * t.verticalHeader().defaultSectionSize()
                + t.horizontalScrollBar().sizeHint().height() + self.group_title.sizeHint().height() + 10)
        top = int(min(max(need, 0.3 * total), 0.6 * total))
        self.left_splitter.setSizes([top, total - top])

    # ------------------------------------------------------------------------ settings
    @property
    def family(self) -> str:
        return self.family_combo.currentData() or "cubic"

    def current_settings(self) -> EOddsSettings:
        return EOddsSettings(
            constraint=self.constraint_combo.currentData(),
            objective=self.objective_combo.currentData(),
            cost_fp=float(self.cost_fp.value()), cost_fn=float(self.cost_fn.value()),
            tolerance=float(self.tolerance.value()), family=self.family,
            prefer_smooth=bool(self.smooth_box.isChecked()),
            curve_tolerance=float(self.smooth_tol.value()))

    def _update_cost_widgets(self) -> None:
        on = self.objective_combo.currentData() == "cost"
        for w in (self.cost_fp, self.cost_fn, self.cost_label, self.cost_sep, self.break_even):
            w.setEnabled(on)
        a, b = self.cost_fp.value(), self.cost_fn.value()
        self.break_even.setText(f"break-even {a / (a + b):.0%}" if on else "")

    def _settings_changed(self, *_):
        self._update_cost_widgets()
        if self.state.data is not None and self.state.data.label is not None:
            self._debounce.start()

    # ------------------------------------------------------------------------- compute
    def _on_data_changed(self) -> None:
        data = self.state.data
        self.result = None
        self._result_for = None
        if data is None:
            self.empty.setText("Open a data file and map its columns (score, outcome, group) to "
                               "see the ROC regions and equalized odds.")
            self.stack.setCurrentIndex(0)
            return
        if data.label is None:
            self.empty.setText("Equalized odds compares decisions with outcomes: map an outcome "
                               "(label) column on the Data page.")
            self.stack.setCurrentIndex(0)
            return
        if "eodds decisions" in self.state.seeds:
            self.seed_spin.setValue(int(self.state.seeds["eodds decisions"]))
        self.stack.setCurrentIndex(1)
        if not self._split_done:
            QTimer.singleShot(0, self._initial_split)
        self._clear()
        self.summary.setText("Computing the ROC regions and the common point…")
        self.compute()

    def compute(self) -> None:
        data = self.state.data
        self._debounce.stop()
        if data is None or data.label is None:
            return
        settings = self.current_settings()
        self._generation += 1
        gen = self._generation
        if self._job is not None:
            self._job.cancel()
        self._job = self.worker.start(
            compute, data, settings, self.state.scores, title="Equalized odds",
            on_result=lambda res, gen=gen, data=data, s=_key(settings): self._done(gen, data, s, res),
            on_error=lambda msg, details, gen=gen: self._failed(gen, msg, details),
            on_cancel=lambda gen=gen: self._cancelled(gen))

    def _done(self, gen, data, settings_dict, result) -> None:
        if gen != self._generation or data is not self.state.data:
            return  # a newer computation is on its way
        self._job = None
        self.result = result
        self._result_for = (data, settings_dict)
        self._refresh()

    def _failed(self, gen, message: str, details: str) -> None:
        if gen != self._generation:
            return
        self._job = None
        self.result = None
        self._clear()
        self.summary.setText("")
        self.warn.setText(message)
        self.warn.show()

    def _cancelled(self, gen) -> None:
        if gen != self._generation:
            return
        self._job = None
        self.summary.setText("Cancelled. Press Recompute (Ctrl+R) to compute again.")

    def busy(self) -> bool:
        return self._job is not None

    def wait(self, msecs: int = 60000) -> bool:
        """Tests: block until the running computation is done."""
        return self.worker.wait(msecs)

    # --------------------------------------------------------------------------- views
    def _clear(self) -> None:
        self.group_table.setRowCount(0)
        self.summary_table.setRowCount(0)
        self.roc_panel.plot.clear()
        self.roc_legend.clear()
        self.curve_panel.plot.clear()
        self.curve_legend.clear()
        self.warn.hide()

    def _refresh(self) -> None:
        res = self.result
        if res is None or self.state.data is None:
            return
        self._fill_summary_text()
        self._fill_group_table()
        self._fill_summary_table()
        self._fit_split()
        self._draw_roc()
        self._draw_curves()

    def _shown_family(self):
        res = self.result
        fam = res.family(self.family)
        return fam if fam is not None else res.fixed

    def _fill_summary_text(self) -> None:
        res = self.result
        s = res.settings
        fam = self._shown_family()
        opp = s.constraint == "equal_opportunity"
        gap = fam.tpr_gap(res.rocs) if opp else fam.eo_gap(res.rocs)
        x, y = res.point
        if s.constraint == "equalized_odds" and not s.tolerance:
            head = f"<b>Common point</b>: FPR {x:.4f}, TPR {y:.4f}"
        elif s.constraint == "equalized_odds":
            head = f"<b>Relaxed equalized odds</b> (gaps ≤ {s.tolerance:g}): pooled FPR {x:.4f}, TPR {y:.4f}"
        elif not s.tolerance:
            head = (f"<b>Equal opportunity</b>: common TPR {float(res.targets[0, 1]):.4f}, each "
                    f"group at its smallest FPR (pooled FPR {x:.4f})")
        else:
            head = (f"<b>Relaxed equal opportunity</b>: TPRs from {res.targets[:, 1].min():.4f} to "
                    f"{res.targets[:, 1].max():.4f} (within {s.tolerance:g}); pooled FPR {x:.4f}")
        goal = {"cost": f"expected cost with FP : FN = {s.cost_fp:g} : {s.cost_fn:g}",
                "accuracy": "error rate", "distance": "distance to (0, 1)"}[s.objective]
        b = res.baseline
        base = (f"; the best group-blind threshold ({fmt_num(b['threshold'])}) has accuracy "
                f"{fmt_pct(b['accuracy'])} and {'a TPR' if opp else 'an EO'} gap of "
                f"{b['tpr_gap' if opp else 'eo_gap']:.3f}") if b else ""
        self.summary.setText(
            f"{head}, minimising the {goal}. {FAMILY_TITLES[fam.family]}: accuracy "
            f"{fmt_pct(fam.accuracy(res.rocs))}, largest {'TPR' if opp else 'EO'} gap "
            f"{fmt_num(float(gap.max()), 3)}, "
            f"equal individual odds: {'yes' if fam.individual_odds() else 'no'}{base}.")
        notes = [w for w in res.warnings if "cannot reach the target" in w or "Only one group" in w]
        self.warn.setText("\n".join(notes))
        self.warn.setVisible(bool(notes))

    def _item(self, text: str, tip: str = "", align=Qt.AlignRight | Qt.AlignVCenter,
              grey: bool = False) -> QTableWidgetItem:
        it = QTableWidgetItem(text)
        it.setTextAlignment(align)
        if tip:
            it.setToolTip(tip)
        if grey:
            it.setForeground(QBrush(QColor("#707070")))
        return it

    def _headers(self, table: QTableWidget, columns) -> None:
        table.setColumnCount(len(columns))
        for c, (_, label, tip) in enumerate(columns):
            it = QTableWidgetItem(label)
            it.setToolTip(tip)
            table.setHorizontalHeaderItem(c, it)

    def _fill_group_table(self) -> None:
        res = self.result
        fam = self._shown_family()
        t = self.group_table
        self._headers(t, GROUP_COLUMNS)
        names = res.group_names
        t.setRowCount(len(names))
        fpr, tpr, acc = fam.rates(res.rocs)
        opp = res.settings.constraint == "equal_opportunity"
        gap = fam.tpr_gap(res.rocs) if opp else fam.eo_gap(res.rocs)
        head = t.horizontalHeaderItem(7)
        head.setText("TPR\ngap" if opp else "EO\ngap")
        if opp:
            head.setToolTip("Equal-opportunity gap: the largest difference in TPR between this "
                            "group and any other group.")
        single = fam.single()
        for g, name in enumerate(names):
            item = QTableWidgetItem(color_icon(group_color(g)), name)
            item.setToolTip(f"{name}: {res.rocs[g].weight:,.0f} people, "
                            f"{res.rocs[g].positives:,.0f} with the outcome")
            t.setItem(g, 0, item)
            t0, t1 = res.user(fam.t0[g]), res.user(fam.t1[g])
            if single[g]:
                thr = res.user(next(v for v in (fam.t0[g], fam.t1[g]) if math.isfinite(v)))
                t.setItem(g, 1, self._item(fmt_num(thr), f"single threshold, exact value {thr!r}"))
                t.setItem(g, 2, self._item("(single)", "One threshold: no randomisation", grey=True))
                t.setItem(g, 3, self._item("—", "A single threshold: no randomisation", grey=True))
            else:
                t.setItem(g, 1, self._item(fmt_num(t0), f"exact value {t0!r}"))
                t.setItem(g, 2, self._item("above all" if math.isinf(t1) else fmt_num(t1),
                                           "above every score: nobody is positive for sure"
                                           if math.isinf(t1) else f"exact value {t1!r}",
                                           grey=math.isinf(t1)))
                t.setItem(g, 3, self._item(f"{fam.p[g]:.4f}"))
            L = float(fam.lipschitz[g])
            t.setItem(g, 4, self._item(fmt_num(L), "a jump: infinite" if math.isinf(L) else
                                       f"{L:.6g} per score unit", grey=math.isinf(L)))
            t.setItem(g, 5, self._item(f"{fpr[g]:.4f} / {tpr[g]:.4f}",
                                       f"FPR {fpr[g]:.6f}, TPR {tpr[g]:.6f}; target FPR "
                                       f"{res.targets[g, 0]:.6f}, TPR {res.targets[g, 1]:.6f}"))
            t.setItem(g, 6, self._item(fmt_pct(acc[g])))
            t.setItem(g, 7, self._item(fmt_num(float(gap[g]), 2),
                                       f"Gap to the group's target point: "
                                       f"{fmt_num(float(fam.target_gap[g]), 3)}"))
            t.setItem(g, 8, self._item("yes" if fam.monotone[g] else "no", align=Qt.AlignCenter))
        t.setColumnHidden(8, bool(fam.monotone.all()))
        rule = ("Fixed randomisation: score ≥ t1 → positive; t0 ≤ score < t1 → positive with "
                "probability p" if fam.family == "fixed" else
                f"{FAMILY_TITLES[fam.family]} curve: probability rises from 0 at t0 to 1 at t1")
        if self.state.data is not None and self.state.data.sign < 0:
            rule += " (lower scores are riskier: read ≥ as ≤)"
        self.group_title.setText(rule)
        self._fit(t)

    def _fill_summary_table(self) -> None:
        res = self.result
        t = self.summary_table
        self._headers(t, SUMMARY_COLUMNS)
        rows = []
        ideal = res.ideal_loss()
        exact = res.settings.constraint == "equalized_odds" and not res.settings.tolerance
        rows.append(("Target point (ideal)", ideal["accuracy"], ideal["expected_cost"],
                     0.0 if exact else None, "—", None, None))
        opp = res.settings.constraint == "equal_opportunity"
        for f in ALL_FAMILIES:
            fam = res.family(f)
            if fam is None:
                continue
            g = fam.tpr_gap(res.rocs) if opp else fam.eo_gap(res.rocs)
            L = float(np.max(fam.lipschitz)) if fam.lipschitz.size else math.inf
            rows.append((FAMILY_TITLES[f], fam.accuracy(res.rocs), res.realised_cost(fam),
                         float(g.max()) if g.size else 0.0,
                         "yes" if fam.individual_odds() else "no", L, f))
        b = res.baseline
        if b:
            rows.append((f"Best group-blind threshold ({fmt_num(b['threshold'])})", b["accuracy"],
                         b["expected_cost"], b["tpr_gap"] if opp else b["eo_gap"], "yes", math.inf, None))
        t.setRowCount(len(rows))
        head = t.horizontalHeaderItem(3)
        head.setText("TPR gap" if opp else "EO gap")
        for r, (what, acc, cost, gap, odds, L, f) in enumerate(rows):
            it = QTableWidgetItem(what)
            it.setToolTip(what)
            if f == self.family:
                font = it.font()
                font.setBold(True)
                it.setFont(font)
            t.setItem(r, 0, it)
            t.setItem(r, 1, self._item(fmt_pct(acc)))
            t.setItem(r, 2, self._item(f"{cost:.4f}"))
            t.setItem(r, 3, self._item("—" if gap is None else fmt_num(gap, 3),
                                       "each group has its own target" if gap is None else ""))
            t.setItem(r, 4, self._item(odds, align=Qt.AlignCenter))
            t.setItem(r, 5, self._item("—" if L is None else fmt_num(L), grey=L is None or math.isinf(L)))
        self._fit(t, first_max=215)

    @staticmethod
    def _fit(t: QTableWidget, first_max: int = 135) -> None:
        """Columns fit their contents; the first (names) at most ``first_max`` pixels, long
        names elided (the full name is in the tooltip)."""
        h = t.horizontalHeader()
        h.setSectionResizeMode(QHeaderView.ResizeToContents)
        t.resizeColumnsToContents()
        h.setSectionResizeMode(QHeaderView.Interactive)
        h.setStretchLastSection(True)
        if t.columnWidth(0) > first_max:
            t.setColumnWidth(0, first_max)

    # --- plots ---
    @staticmethod
    def _polygon(points, fill: QColor, outline: QColor | None = None, width: float = 0.0,
                 pattern=Qt.SolidPattern) -> QGraphicsPolygonItem:
        poly = QGraphicsPolygonItem(QPolygonF([QPointF(float(x), float(y)) for x, y in points]))
        poly.setBrush(QBrush(fill, pattern))
        if outline is None:
            poly.setPen(QPen(Qt.NoPen))
        else:
            pen = QPen(outline)
            pen.setCosmetic(True)
            pen.setWidthF(width)
            poly.setPen(pen)
        return poly

    def _draw_roc(self) -> None:
        res = self.result
        plot = self.roc_panel.plot
        plot.clear()
        self.roc_legend.clear()
        plot.addItem(pg.PlotDataItem([0, 1], [0, 1], pen=pg.mkPen("#888888", width=1,
                                                                   style=Qt.DashLine)))
        for g, roc in enumerate(res.rocs):
            fill = QColor(group_color(g))
            fill.setAlpha(38)
            region = self._polygon(roc.region(), fill)
            region.setZValue(-10)
            plot.addItem(region)
        for g, roc in enumerate(res.rocs):
            x, y = decimate(roc.fpr, roc.tpr)
            thin = QColor(group_color(g))
            thin.setAlpha(150)
            plot.addItem(pg.PlotDataItem(x, y, pen=pg.mkPen(thin, width=1), antialias=True))
            plot.addItem(pg.PlotDataItem(roc.hx, roc.hy, pen=group_pen(g, 2.2),
                                         name=res.group_names[g], antialias=True))
        inter = res.intersection.polygon()
        hatch = self._polygon(inter, HATCH, INTERSECTION, 2.0, Qt.BDiagPattern)
        hatch.setZValue(5)
        plot.addItem(hatch)
        outline = np.vstack([inter, inter[:1]])
        plot.addItem(pg.PlotDataItem(outline[:, 0], outline[:, 1], pen=pg.mkPen(INTERSECTION, width=2),
                                     ))
        self._draw_iso_lines(plot)
        fam = self._shown_family()
        fpr, tpr, _ = fam.rates(res.rocs)
        own = not (res.settings.constraint == "equalized_odds" and not res.settings.tolerance)
        if own:  # each group has its own target
            spots = [{"pos": (float(res.targets[g, 0]), float(res.targets[g, 1])), "size": 13,
                      "brush": pg.mkBrush(group_color(g)), "pen": pg.mkPen("k", width=1.2),
                      "symbol": "d"} for g in range(res.n_groups)]
            tg = pg.ScatterPlotItem(spots=spots)
            tg.setZValue(30)
            plot.addItem(tg)
        real = pg.ScatterPlotItem(
            spots=[{"pos": (float(fpr[g]), float(tpr[g])), "size": 8,
                    "brush": pg.mkBrush(group_color(g)), "pen": pg.mkPen("w", width=1)}
                   for g in range(res.n_groups)])
        real.setZValue(31)
        plot.addItem(real)
        star = pg.ScatterPlotItem([res.point[0]], [res.point[1]], symbol="star", size=20,
                                  brush=pg.mkBrush("#FFD700"), pen=pg.mkPen("k", width=1.5),
                                  name="Chosen point" if not own else "Pooled point")
        star.setZValue(32)
        plot.addItem(star)
        self._legend_columns(self.roc_legend, res.n_groups + 1)
        plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.04)
        self.roc_panel.set_note(  # the legend lists the groups and the point; the rest is here
            "Shaded: what each group can reach; hatched with a black outline: reachable by every "
            "group; star: the " + ("chosen common point" if not own else "pooled point")
            + ("; diamonds: each group's target" if own else "") + "; small dots: the rates the "
            "chosen randomisation reaches; dashed: " + ("equal distance to (0, 1)."
                                                       if res.settings.objective == "distance"
                                                       else "equal cost (the darker line through "
                                                            "the point)."))

    def _draw_iso_lines(self, plot) -> None:
        res = self.result
        s = res.settings
        x0, y0 = res.point
        pen = pg.mkPen("#555555", width=1, style=Qt.DashLine)
        if s.objective == "distance":
            r = math.hypot(x0, 1 - y0)
            ang = np.linspace(-math.pi / 2, 0, 200)
            for k, rad in enumerate((r, r * 1.5, r * 2.0)):
                x = rad * np.cos(ang)
                y = 1 + rad * np.sin(ang)
                ok = (x <= 1) & (y >= 0)
                plot.addItem(pg.PlotDataItem(x[ok], y[ok], pen=pen if k else pg.mkPen(
                    "#333333", width=1.3, style=Qt.DashLine)))
            return
        c_fp, c_fn = s.costs
        N = sum(r.negatives for r in res.rocs)
        P = sum(r.positives for r in res.rocs)
        m = c_fp * N / (c_fn * P)  # along a line of equal cost, TPR rises m per unit of FPR
        for k, off in enumerate((0.0, -0.15, 0.15, -0.3, 0.3)):
            b = y0 + off - m * x0  # y = b + m x
            xa, xb = max(0.0, (0.0 - b) / m), min(1.0, (1.0 - b) / m)
            if xb <= xa:
                continue
            xs = np.array([xa, xb])
            plot.addItem(pg.PlotDataItem(
                xs, b + m * xs, pen=pen if k else pg.mkPen("#333333", width=1.3, style=Qt.DashLine)))

    def _legend_columns(self, legend, n_items: int) -> None:
        """One column (bottom right, under the diagonal, where no region is); a smaller font
        when there are many entries."""
        legend.setColumnCount(1)
        size = "10pt" if n_items <= 6 else "9pt"
        for _sample, label in legend.items:
            label.setText(label.text, size=size, color="k")

    def _draw_curves(self) -> None:
        res = self.result
        data = self.state.data
        fam = self._shown_family()
        plot = self.curve_panel.plot
        plot.clear()
        self.curve_legend.clear()
        lo, hi = float(np.min(data.score)), float(np.max(data.score))
        span = hi - lo if hi > lo else 1.0
        x = np.linspace(lo - 0.02 * span, hi + 0.02 * span, CURVE_GRID)
        for g, name in enumerate(res.group_names):
            t0, t1, p = float(fam.t0[g]), float(fam.t1[g]), float(fam.p[g])
            extra = [v for t in (t0, t1) if math.isfinite(t)
                     for v in (res.user(t), res.user(t) - 1e-7 * span * res.sign)]
            xs = np.unique(np.concatenate([x, extra]))
            ys = phi(fam.family, t0, t1, p, xs * res.sign)
            plot.addItem(pg.PlotDataItem(xs, ys, pen=group_pen(g, 2.2), name=name, antialias=True))
        self.curve_panel.plot.setTitle(FAMILY_TITLES[fam.family], color="k", size="12pt")
        self.curve_panel.plot.setLabel("bottom", data.mapping.score or "Score", color="k",
                                       **{"font-size": "11pt"})
        # the legend sits in a band above probability 1, so it never hides a curve
        cols = 1 if res.n_groups <= 2 else 2
        self.curve_legend.setColumnCount(cols)
        size = "10pt" if res.n_groups <= 4 else "8pt"
        for _sample, label in self.curve_legend.items:
            label.setText(label.text, size=size, color="k")
        rows = math.ceil(res.n_groups / cols)
        top = 1.0 + (0.085 if res.n_groups <= 4 else 0.075) * rows + 0.06
        self.curve_panel.plot.getAxis("left").setTicks([[(v, f"{v:g}") for v in np.linspace(0, 1, 6)]])
        plot.setRange(xRange=(lo, hi), yRange=(0, top), padding=0.03)
        note = ""
        if fam.family == "quartic" and not fam.monotone.all():
            note = "Some 4th-order curves are not monotone (p outside 0.4–0.6): clipped to [0, 1]."
        self.curve_panel.set_note(note)

    # --------------------------------------------------------------------------- export
    def export_rows_dialog(self) -> None:
        if self.result is None or self.state.table is None:
            self._show_error("Compute the equalized-odds solution first.", "")
            return
        src = Path(self.state.table.source.path)
        path, _ = QFileDialog.getSaveFileName(
            self, "Export row probabilities", str(src.with_name(src.stem + " probabilities.csv")),
            "CSV file (*.csv);;Excel workbook (*.xlsx)")
        if path:
            from ...io.outputs import confirm_replace
            confirm_replace(path)  # the save dialog asked before replacing an existing file
            self.export_rows(path)

    def export_rows(self, path: str):
        from ...reports.eodds_report import write_row_probabilities

        seed = int(self.seed_spin.value()) if self.draw_box.isChecked() else None
        if seed is not None:
            self.state.seeds["eodds decisions"] = seed
        win = self.window()

        def done(p):
            if hasattr(win, "statusBar"):
                win.statusBar().showMessage(f"Saved {p}", 8000)
        return self.worker.start(write_row_probabilities, path, self.state.table.source,
                                 self.state.data, self.result, self.family, seed,
                                 title="Writing row probabilities", on_result=done)

    def settings(self) -> dict:
        d = self.current_settings().to_dict()
        d.update({"draw_decisions": bool(self.draw_box.isChecked()),
                  "decision_seed": int(self.seed_spin.value()),
                  "plot_tab": self.plot_tabs.currentIndex()})
        return d

    def apply_settings(self, settings: dict) -> None:
        s = settings or {}
        widgets = (self.constraint_combo, self.objective_combo, self.cost_fp, self.cost_fn,
                   self.tolerance, self.smooth_box, self.smooth_tol, self.family_combo)
        for w in widgets:
            w.blockSignals(True)
        try:
            for combo, key in ((self.constraint_combo, "constraint"), (self.objective_combo, "objective"),
                               (self.family_combo, "family")):
                if key in s:
                    i = combo.findData(s[key])
                    if i >= 0:
                        combo.setCurrentIndex(i)
            for spin, key in ((self.cost_fp, "cost_fp"), (self.cost_fn, "cost_fn"),
                              (self.tolerance, "tolerance"), (self.smooth_tol, "curve_tolerance")):
                if key in s:
                    spin.setValue(float(s[key]))
            if "prefer_smooth" in s:
                self.smooth_box.setChecked(bool(s["prefer_smooth"]))
                self.smooth_tol.setEnabled(bool(s["prefer_smooth"]))
        finally:
            for w in widgets:
                w.blockSignals(False)
        if "draw_decisions" in s:
            self.draw_box.setChecked(bool(s["draw_decisions"]))
        if "decision_seed" in s:
            self.seed_spin.setValue(int(s["decision_seed"]))
        if "plot_tab" in s:
            self.plot_tabs.setCurrentIndex(int(s["plot_tab"]))
        self._update_cost_widgets()
        if self.state.data is not None and self.state.data.label is not None:
            self.compute()

    def export_settings(self) -> dict:
        s = self.current_settings()
        out = {"Constraint": CONSTRAINT_TITLES[s.constraint]
               + (f", relaxed to gaps of {s.tolerance:g}" if s.tolerance else ""),
               "Objective": OBJECTIVE_TITLES[s.objective]}
        if s.objective == "cost":
            out["Cost ratio (FP : FN)"] = f"{s.cost_fp:g} : {s.cost_fn:g}"
        out["Randomisation shown"] = FAMILY_TITLES[s.family]
        out["Curve search"] = (f"smallest Lipschitz constant within {s.curve_tolerance:g} of the target"
                               if s.prefer_smooth else "meet the target; then the smallest Lipschitz constant")
        return out

    def _ensure_result(self) -> None:
        """Compute now if the worker has not delivered a result for the current data and
        settings (export)."""
        data = self.state.data
        if data is None or data.label is None:
            return
        settings = self.current_settings()
        if self.result is None or self._result_for is None or self._result_for[0] is not data \
                or self._result_for[1] != _key(settings):
            self._generation += 1  # a result still on its way is now stale
            self.result = run_equalized_odds(data, settings, scores=self.state.scores)
            self._result_for = (data, _key(settings))
            self._refresh()

    def export_tables(self) -> list:
        data = self.state.data
        if data is None or data.label is None:
            return []
        from ...reports.eodds_report import eodds_tables

        try:
            self._ensure_result()
        except FairDeskError:
            return []
        return eodds_tables(self.result, data, self.family)

    def add_as_scenario(self) -> str | None:
        """The chosen family's per-group parameters as a Decision-table scenario."""
        from ...scenarios import Scenario

        res, data = self.result, self.state.data
        family = self.family_combo.currentData()
        fam = res.family(family) if res is not None else None
        if fam is None or data is None:
            return None
        params = {}
        for g, name in enumerate(data.group_names):
            t0, t1 = float(fam.t0[g]) * data.sign, float(fam.t1[g]) * data.sign
            if data.sign < 0:
                t0, t1 = t1, t0
            params[name] = {"t0": t0 if np.isfinite(t0) else None, "t1": t1 if np.isfinite(t1) else None,
                            "p": float(fam.p[g])}
        scenario = Scenario(f"Equalized odds ({family})", "probabilities",
                            {"engine": "fairdesk.engines.equalized_odds:scenario_probabilities",
                             "settings": {"family": family, "params": params}},
                            {"engine": "ROC & equalized odds", "settings": res.settings.to_dict()})
        return self.state.add_scenario(scenario)
