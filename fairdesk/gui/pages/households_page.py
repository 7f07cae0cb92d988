"""The Households page: how grouping the scores by household changes what a tool does.

A view over :mod:`fairdesk.engines.households` (Gerchick et al., FAccT 2023, the audit of
the Allegheny Family Screening Tool): bin scores of a reference set, the six aggregation
policies (own score, household maximum, maximum over flagged members, protocol; outcomes
per person or per household), and per group the AUC, xAUC, false positive rate and
screen-in rate of each policy, with the score distribution by policy and the screen-in
disparity by household size. Every setting change re-runs the engine in the worker
(about 2 s for a million people); binary attribute disparities are computed on the spot.
"""

from __future__ import annotations

import dataclasses
import html
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QGridLayout, QGroupBox,
                               QHBoxLayout, QHeaderView, QLabel, QPushButton, QSpinBox,
                               QSplitter, QTableWidget, QTableWidgetItem,
                               QTabWidget, QVBoxLayout, QWidget)

from ...engines.households import (EDGE_CONVENTION, MEMBERSHIP, OUTCOME_LEVELS,
                                   SCORE_POLICIES, SCORE_SHORT,
                                   HouseholdResult, HouseholdSettings, ProtocolRules,
                                   audit_households, feature_disparity, is_binary, split_text)
from ...errors import FairDeskError
from ..palette import group_color
from ..plots import PlotPanel, add_legend
from .base import Page, note_label, readonly_table

UNDEFINED = "undefined"
GREY = QColor("#777777")
ERROR_STYLE = "QLabel {color:#a40000; background:#fdecea; border:1px solid #f5c2c0; padding:4px}"
MEMBERSHIP_TEXT = {"footnote5": "any member is; vs the rest",
                   "any": "any member is; in each group", "all": "all members are",
                   "majority": "most members are"}
# footnote 5: each group is compared with the rest (the units not in it)
REST_MEASURES = (
    ("fpr_rest", "FPR of the rest", True, False,
     "False positive rate of the units NOT in the group (the audit's footnote 5 compares a "
     "group's households with the rest)."),
    ("screen_in_rest", "Screen-in of the rest", True, False,
     "Screen-in rate of the units NOT in the group (the audit's footnote 5)."),
)
PROTOCOL_TICKS = ("Low-risk", "No protocol", "High-risk")  # PROTOCOL_LABELS, shorter
POLICY_SHORT = {"individual": "Individual", "household_max": "HH max",
                "flagged_max": "Flagged", "protocol": "Protocol"}

# measures of the policy table: key, label, per-group?, overall?, definition
MEASURES = (
    ("auc", "AUC", True, True,
     "Chance that a unit WITH the outcome is ranked above a unit WITHOUT it, both from the "
     "group (0.5 = chance, 1 = perfect). The shown score ranks; the underlying probability "
     "breaks its ties, as the audit does; remaining ties count half."),
    ("xauc", "xAUC", True, False,
     "Cross-AUC: chance that a unit of the group WITH the outcome is ranked above a unit "
     "OUTSIDE the group WITHOUT it. Much lower than the group's AUC: the group's true cases "
     "are ranked below other people's non-cases."),
    ("fpr", "FPR", True, True,
     "False positive rate at the cutoff: share of the units WITHOUT the outcome that are "
     "screened in (shown score at or above the cutoff, or High-risk protocol)."),
    ("screen_in", "Screen-in", True, True,
     "Share of all the group's units screened in at the cutoff (shown score at or above the "
     "cutoff, or High-risk protocol)."),
    ("n", "Units", False, True,
     "How many units the policy counts: people for person-level outcomes, households for "
     "household-level outcomes."),
)


def fmt_value(key: str, x) -> str:
    if key == "n":
        return f"{int(x):,}"
    if key in ("fpr", "screen_in", "tpr"):
        return f"{100 * x:.1f}%"
    return f"{x:.3f}"


def policy_label(p) -> str:
    """'3 · HH max · household': the policy's number, shown score and unit."""
    return f"{p.number} · {POLICY_SHORT[p.score]} · {p.unit}"


def _nan(x) -> bool:
    try:
        return math.isnan(float(x))
    except (TypeError, ValueError):
        return True


class HouseholdsPage(Page):
    key = "households"
    title = "Households"

    def __init__(self, state, worker, parent=None):
        super().__init__(state, worker, parent)
        self.setToolTip("Household aggregation: per-person scores, household maximum, flagged "
                        "maximum and protocols, and what each does to AUC, false positives and "
                        "disparities (the Allegheny audit)")
        self.result: HouseholdResult | None = None
        self.features: list = []
        self.feature_groups: tuple = ()
        self.skipped_features: list = []
        self._generation = 0
        self._job = None
        self._message = ""
        self._saved: dict | None = None  # settings waiting for data
        self._last_bins = 20
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(150)
        self._timer.timeout.connect(self.run)
        self._split_done = False
        self._fitted = False
        self._build()
        self.state.dataChanged.connect(self._data_changed)
        self._data_changed()

    # ================================================================== layout
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        lay = self.add_empty_stack(outer)

        head = QLabel(f"<b style='font-size:15px'>{self.title}</b> &nbsp; "
                      "<span style='color:#444'>A tool that scores each person may show the "
                      "screener one score or protocol per household. Compare the policies: "
                      "whose score is shown, and whether outcomes count per person or per "
                      "household.</span>")
        head.setWordWrap(True)
        lay.addWidget(head)

        row = QHBoxLayout()
        row.setSpacing(6)
        lay.addLayout(row)
        row.addWidget(self._build_score_box(), 1)
        row.addWidget(self._build_protocol_box(), 0)

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
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self._build_tables()
        self._build_plots()

    def _spin(self, lo, hi, value, tip, width=58) -> QSpinBox:
        s = QSpinBox()
        s.setRange(lo, hi)
        s.setValue(value)
        s.setToolTip(tip)
        s.setMinimumWidth(width)
        s.valueChanged.connect(self._changed)
        return s

    def _combo(self, tip, chars=12) -> QComboBox:
        c = QComboBox()
        c.setToolTip(tip)
        c.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        c.setMinimumContentsLength(chars)
        return c

    def _build_score_box(self) -> QGroupBox:
        box = QGroupBox("Scores and households")
        box.setToolTip("How the scores become bin scores, who is flagged, and when a household "
                       "belongs to a group")
        g = QGridLayout(box)
        g.setContentsMargins(6, 2, 6, 4)
        g.setHorizontalSpacing(6)
        g.setVerticalSpacing(3)
        self.bins_spin = self._spin(2, 100, 20, "Number of equal-share bins (20 = ventiles, as "
                                    "the Allegheny tool). Bin 1 = lowest risk.")
        self.bins_spin.valueChanged.disconnect(self._changed)
        self.bins_spin.valueChanged.connect(self._bins_changed)
        self.ref_combo = self._combo("Whose scores define the bin edges: every row, or the rows "
                                     "of one split value (e.g. the training set). " + EDGE_CONVENTION)
        self.ref_combo.currentIndexChanged.connect(self._changed)
        self.cutoff_spin = self._spin(1, 20, 16, "Screened in when the shown bin score is at "
                                      "least this (the audit uses 16 of 20). Protocol policies: "
                                      "screened in with the High-risk protocol.")
        self.flag_combo = self._combo("A 0/1 column marking flagged members (e.g. alleged "
                                      "victims): the flagged maximum uses their scores. Map it "
                                      "as an extra attribute on the Data page.")
        self.flag_combo.currentIndexChanged.connect(self._changed)
        self.age_combo = self._combo("The members' ages, for the protocol rules. Map it as an "
                                     "extra attribute on the Data page.")
        self.age_combo.currentIndexChanged.connect(self._changed)
        self.member_combo = self._combo("When a household counts as a group's household for "
                                        "the household-level policies (the audit: a household "
                                        "is Black if any member is)", 12)
        for k, text in MEMBERSHIP_TEXT.items():
            self.member_combo.addItem(text, k)
            self.member_combo.setItemData(self.member_combo.count() - 1, MEMBERSHIP[k],
                                          Qt.ToolTipRole)
        self.member_combo.currentIndexChanged.connect(self._changed)
        self.tie_check = QCheckBox("Ties by probability")
        self.tie_check.setChecked(True)
        self.tie_check.setToolTip("AUC as the audit computes it: rank by the shown score and "
                                  "break its ties by the underlying probability (aggregated "
                                  "the same way). Untick to rank by the shown score alone "
                                  "(ties count half).")
        self.tie_check.toggled.connect(self._changed)
        self.prebinned_check = QCheckBox("Scores are bins")
        self.prebinned_check.setToolTip("The score column already holds bin scores 1 … bins "
                                        "(e.g. the tool's published ventile scores): no edges "
                                        "are computed")
        self.prebinned_check.toggled.connect(self._changed)
        rows = ([(QLabel("Bins"), self.bins_spin), (QLabel("Edges from"), self.ref_combo),
                 (QLabel("Screen in at ≥"), self.cutoff_spin)],
                [(QLabel("Flag"), self.flag_combo), (QLabel("Age"), self.age_combo),
                 (QLabel("Group if"), self.member_combo)])
        for r, items in enumerate(rows):
            for i, (label, w) in enumerate(items):
                label.setToolTip(w.toolTip())
                g.addWidget(label, r, 2 * i)
                g.addWidget(w, r, 2 * i + 1)
        checks = QHBoxLayout()
        checks.setContentsMargins(0, 0, 0, 0)
        checks.addWidget(self.tie_check)
        checks.addSpacing(16)
        checks.addWidget(self.prebinned_check)
        checks.addStretch(1)
        g.addLayout(checks, 2, 0, 1, 6)
        for c in (1, 3, 5):
            g.setColumnStretch(c, 1)
        return box

    def _build_protocol_box(self) -> QGroupBox:
        box = QGroupBox("Protocol rules")
        box.setToolTip("The protocol a household gets from its maximum bin score and its "
                       "members' ages (policies 4 and 5). High-risk wins when both rules hold.")
        g = QGridLayout(box)
        g.setContentsMargins(6, 2, 6, 4)
        g.setHorizontalSpacing(4)
        g.setVerticalSpacing(3)
        self.high_score = self._spin(1, 1000, 18, "High-risk when the household's maximum bin "
                                     "score is at least this …", 50)
        self.high_age = self._spin(0, 150, 16, "… and some member is younger than this (years)",
                                   50)
        self.low_score = self._spin(0, 1000, 12, "Low-risk when every member's bin score is at "
                                    "most this …", 50)
        self.low_age = self._spin(0, 150, 7, "… and every member is at least this old (years); "
                                  "a missing age blocks Low-risk", 50)

        def text(t):
            label = QLabel(t)
            label.setStyleSheet("color:#222")
            return label

        for r, (name, score, age, s_text, a_text) in enumerate((
                ("High-risk", self.high_score, self.high_age, "max ≥", "any age <"),
                ("Low-risk", self.low_score, self.low_age, "max ≤", "all ages ≥"))):
            label = text(f"<b>{name}</b>: {s_text}")
            label.setToolTip(score.toolTip() + " " + age.toolTip())
            g.addWidget(label, r, 0)
            g.addWidget(score, r, 1)
            label = text(a_text)
            label.setToolTip(age.toolTip())
            g.addWidget(label, r, 2)
            g.addWidget(age, r, 3)
        self.preset_button = QPushButton("Allegheny rules")
        self.preset_button.setToolTip("Restore Allegheny County's rules: High-risk if the "
                                      "maximum is ≥ 18 and any child is under 16; Low-risk if "
                                      "all scores are ≤ 12 and all children are at least 7")
        self.preset_button.clicked.connect(self.allegheny_preset)
        g.addWidget(self.preset_button, 2, 0, 1, 4, Qt.AlignLeft)
        g.setColumnStretch(4, 1)
        return box

    def _table(self, tip: str) -> QTableWidget:
        return readonly_table(tip, alternate=False, row_header=False, row_height=23)

    @staticmethod
    def _note(text: str = "") -> QLabel:
        return note_label(text)

    def _build_tables(self) -> None:
        # policy table
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(2, 4, 2, 2)
        self.policy_table = self._table("Each policy (columns) measured per group (rows); hover "
                                        "a cell or a title for its definition")
        self.policy_table.setSelectionMode(QAbstractItemView.NoSelection)
        v.addWidget(self.policy_table, 1)
        self.summary = self._note()
        self.summary.setTextFormat(Qt.RichText)
        v.addWidget(self.summary)
        row = QHBoxLayout()
        self.scenario_policy = QComboBox()
        for key, title in (("household_max", "household maximum"), ("flagged_max", "maximum over flagged"),
                           ("individual", "each person's own score"), ("protocol", "protocol (High-risk)")):
            self.scenario_policy.addItem(title, key)
        self.scenario_policy.setToolTip("The score shown to screeners in the scenario: people are "
                                        "screened in at the cutoff, or under the High-risk protocol")
        self.scenario_button = QPushButton("Add as scenario")
        self.scenario_button.setToolTip("Add 'screen in when the shown score reaches the cutoff' "
                                        "(or the High-risk protocol) to the Decision table")
        self.scenario_button.clicked.connect(self.add_as_scenario)
        row.addWidget(QLabel("Scenario shows:"))
        row.addWidget(self.scenario_policy)
        row.addWidget(self.scenario_button)
        row.addStretch(1)
        v.addLayout(row)
        self.table_tabs.addTab(w, "Policies")
        self.table_tabs.setTabToolTip(0, "The audit's Tables 4 and 5: AUC, cross-AUC, false "
                                         "positive rate and screen-in rate of every policy")

        # bin edges
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(2, 4, 2, 2)
        self.edges_note = self._note()
        v.addWidget(self.edges_note)
        self.edges_table = self._table("The bin scores: the scores each bin holds and its share "
                                       "of the reference set and of all rows")
        v.addWidget(self.edges_table, 1)
        self.table_tabs.addTab(w, "Bin edges")
        self.table_tabs.setTabToolTip(1, "The edges of the bin scores and how many people each "
                                         "bin holds")

        # feature disparity
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(2, 4, 2, 2)
        row = QHBoxLayout()
        row.addWidget(QLabel("Compare"))
        self.fa_combo = self._combo("Group A: the share of this group with each attribute is "
                                    "divided by the share of group B", 12)
        self.fb_combo = self._combo("Group B: a group, or everyone outside group A", 12)
        self.fa_combo.currentIndexChanged.connect(self._refresh_features)
        self.fb_combo.currentIndexChanged.connect(self._refresh_features)
        row.addWidget(self.fa_combo)
        row.addWidget(QLabel("with"))
        row.addWidget(self.fb_combo)
        row.addStretch(1)
        v.addLayout(row)
        self.feature_table = self._table("Binary attributes (0/1 extra columns): the share of "
                                         "each group with the attribute and their ratio")
        v.addWidget(self.feature_table, 1)
        self.feature_note = self._note()
        v.addWidget(self.feature_note)
        self.table_tabs.addTab(w, "Feature disparity")
        self.table_tabs.setTabToolTip(2, "The audit's Appendix A.2.2: which attributes one group "
                                         "has more often than another (risk ratio)")

    def _build_plots(self) -> None:
        err = self._plot_error
        self.score_panel = PlotPanel("Scores shown, by group", "Score shown",
                                     "Share of the group (%)", name="household_scores",
                                     on_error=err)
        self.score_policy = self._combo("The policy whose shown scores are drawn", 20)
        self.score_policy.currentIndexChanged.connect(lambda _i: self._draw_scores())
        self.score_panel.add_control(QLabel("Policy"))
        self.score_panel.add_control(self.score_policy)
        self.score_panel.widget.setToolTip("The audit's Figure 1: for each group, the share of "
                                           "its units (people or households) at each shown "
                                           "score or protocol; the dashed line marks the "
                                           "screen-in cutoff")
        self.score_legend = add_legend(self.score_panel.plot, offset=(10, 8))
        self._score_levels: list = []
        self.score_panel.plot.getViewBox().sigResized.connect(self._set_score_ticks)
        self.plot_tabs.addTab(self.score_panel, "Scores by policy")
        self.plot_tabs.setTabToolTip(0, "Distribution of the shown score by group, per policy")

        self.size_panel = PlotPanel("Screen-in by household size", "Household size (people)",
                                    "Screen-in rate (%)", name="household_size", on_error=err)
        self.size_score = self._combo("Whose score is shown to the screener", 10)
        self.size_score.currentIndexChanged.connect(lambda _i: self._draw_sizes())
        self.size_mode = self._combo("Draw each group's screen-in rate, or its ratio to the "
                                     "rate of the other households of the same size", 10)
        self.size_mode.addItem("Screen-in rate", "rate")
        self.size_mode.addItem("Ratio to others", "ratio")
        self.size_mode.currentIndexChanged.connect(lambda _i: self._draw_sizes())
        self.size_panel.add_control(QLabel("Score"))
        self.size_panel.add_control(self.size_score)
        self.size_panel.add_control(self.size_mode)
        self.size_panel.widget.setToolTip("The audit's Figure 8: the share of households "
                                          "screened in by household size and group; the ratio "
                                          "divides a group's rate by that of the other "
                                          "households of the same size (1 = equal)")
        self.size_legend = add_legend(self.size_panel.plot, offset=(10, 8))
        self.plot_tabs.addTab(self.size_panel, "Household size")
        self.plot_tabs.setTabToolTip(1, "Screen-in rate and disparity by household size")

    def apply_initial_split(self, total: int) -> None:
        """The policy table gets the width it needs (50–65%), the plots the rest."""
        self._fit_split()

    def _fit_split(self) -> None:
        total = sum(self.splitter.sizes())
        t = self.policy_table
        need = sum(t.columnWidth(c) for c in range(t.columnCount())) + 2 * t.frameWidth() + 12
        left = int(min(max(need, total * 0.5), total * 0.65)) if t.columnCount() else \
            int(total * 0.57)
        self.splitter.setSizes([left, total - left])

    # ================================================================== data and settings
    def _data_ok(self) -> str:
        """'' when the data can be analysed, else what to do."""
        d = self.state.data
        if d is None:
            return "Open a data file and map its columns to compare household policies."
        if d.households is None:
            return ("Household policies need a household id column. On the Data page, give a "
                    "column the role “Household id” (and map a flag column, such as alleged "
                    "victim, and an age column as extra attributes for policies 4–7).")
        if d.label is None:
            return "Household policies need an outcome column: map one on the Data page."
        return ""

    def _data_changed(self) -> None:
        self._generation += 1  # results of a run on the old data are stale
        self.result = None
        problem = self._data_ok()
        if problem:
            self.empty.setText(problem)
            self.stack.setCurrentWidget(self.empty)
            return
        self.stack.setCurrentIndex(1)
        self._fill_combos()
        if self._saved is not None:
            saved, self._saved = self._saved, None
            self._apply(saved)
        self.schedule()

    def _fill_combos(self) -> None:
        d = self.state.data
        extras = list(d.extras)

        def refill(combo, items, keep, guess=None):
            current = combo.currentData() if keep else None
            with QSignalBlocker(combo):
                combo.clear()
                for text, data in items:
                    combo.addItem(text, data)
                i = combo.findData(current) if current is not None else -1
                if i < 0 and guess is not None:
                    i = combo.findData(guess)
                combo.setCurrentIndex(max(i, 0))

        splits = []
        if d.split is not None:
            splits = sorted(set(split_text(d.split).tolist()) - {""}, key=str)
        refill(self.ref_combo, [("all rows", None)] + [(f"split = {s}", s) for s in splits],
               True, "train" if "train" in splits else None)
        binary = [c for c in extras if is_binary(d.extras[c])]
        flag_guess = next((c for c in binary if any(k in c.lower() for k in
                                                    ("victim", "flag", "alleged"))), None)
        refill(self.flag_combo, [("(none)", None)] + [(c, c) for c in binary], True, flag_guess)
        age_guess = next((c for c in extras if "age" in c.lower().replace("_", " ").split()
                          or c.lower().startswith("age")), None)
        refill(self.age_combo, [("(none)", None)] + [(c, c) for c in extras], True, age_guess)
        names = list(d.group_names)
        refill(self.fa_combo, [(n, n) for n in names], True, names[0] if names else None)
        refill(self.fb_combo, [("all other groups", None)] + [(n, n) for n in names], True)

    def current_settings(self) -> HouseholdSettings:
        return HouseholdSettings(
            bins=int(self.bins_spin.value()), reference_split=self.ref_combo.currentData(),
            prebinned=self.prebinned_check.isChecked(), flag=self.flag_combo.currentData(),
            age=self.age_combo.currentData(), membership=self.member_combo.currentData(),
            cutoff=int(self.cutoff_spin.value()),
            protocol=ProtocolRules(self.high_score.value(), self.high_age.value(),
                                   self.low_score.value(), self.low_age.value()),
            tie_break=self.tie_check.isChecked(), features=())

    def _bins_changed(self, bins: int) -> None:
        old = self._last_bins
        self._last_bins = bins
        was_default = self.cutoff_spin.value() == HouseholdSettings(bins=old).cutoff_value()
        with QSignalBlocker(self.cutoff_spin):
            self.cutoff_spin.setMaximum(bins)
            if was_default:
                self.cutoff_spin.setValue(HouseholdSettings(bins=bins).cutoff_value())
        self._changed()

    def allegheny_preset(self) -> None:
        rules = ProtocolRules()
        for spin, v in ((self.high_score, rules.high_min_score), (self.high_age, rules.high_any_age_below),
                        (self.low_score, rules.low_max_score), (self.low_age, rules.low_all_age_at_least)):
            with QSignalBlocker(spin):
                spin.setValue(int(v))
        self._changed()

    def _changed(self, *_args) -> None:
        self.schedule()

    def schedule(self) -> None:
        """Run again shortly (several quick changes make one run)."""
        if not self._data_ok():
            self._timer.start()

    # ================================================================== running
    def run(self) -> None:
        if self._data_ok():
            return
        settings = self.current_settings()
        self._generation += 1
        gen = self._generation
        if self._job is not None:
            self._job.cancel()
        self.summary.setText("<i>Computing…</i>")
        self._job = self.worker.start(
            audit_households, self.state.data, settings, title="Household policies",
            on_result=lambda r, g=gen: self._done(g, r),
            on_error=lambda m, d, g=gen: self._failed(g, m, d),
            on_cancel=lambda g=gen: self._cancelled(g))

    def _done(self, gen: int, result: HouseholdResult) -> None:
        if gen != self._generation:
            return
        self._job = None
        first = self.result is None and not self._fitted
        self.result = result
        self._show_message("")
        self._refresh()
        if first and self._split_done:  # the first table decides the split, once
            self._fitted = True
            self._fit_split()

    def _failed(self, gen: int, message: str, details: str) -> None:
        if gen != self._generation:
            return
        self._job = None
        self.result = None
        if details:  # a bug, not a data problem: the main window shows the dialog
            self.worker.failed.emit(message, details)
        self._show_message(message)
        self._refresh()

    def _cancelled(self, gen: int) -> None:
        if gen == self._generation:
            self._job = None
            self.summary.setText("Cancelled: change a setting to compute again.")

    def _show_message(self, text: str) -> None:
        self._message = text
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def _plot_error(self, message: str, details: str = "") -> None:
        self.worker.failed.emit(message, details)

    # ================================================================== showing results
    def _refresh(self) -> None:
        self._refresh_policy_table()
        self._refresh_edges()
        self._refresh_plot_combos()
        self._draw_scores()
        self._draw_sizes()
        self._refresh_features()

    def _item(self, text: str, tip: str = "", align=Qt.AlignRight | Qt.AlignVCenter,
              undefined: bool = False, bold: bool = False) -> QTableWidgetItem:
        it = QTableWidgetItem(text)
        it.setTextAlignment(align)
        if tip:
            it.setToolTip(tip)
        if undefined:
            it.setForeground(QBrush(GREY))
            f = QFont(it.font())
            f.setItalic(True)
            it.setFont(f)
        if bold:
            f = QFont(it.font())
            f.setBold(True)
            it.setFont(f)
        return it

    def _refresh_policy_table(self) -> None:
        t = self.policy_table
        t.clearSpans()
        res = self.result
        if res is None:
            t.setRowCount(0)
            t.setColumnCount(0)
            self.summary.setText(self._message and "No results: see the message above." or "")
            return
        names = res.group_names
        t.setColumnCount(2 + len(res.policies))
        headers = ["Measure", "Group"]
        tips = ["Hover a measure for its definition",
                "Person-level policies: the person's own group. Household-level policies: "
                f"{MEMBERSHIP[res.settings.membership]}."]
        for p in res.policies:
            headers.append(f"{p.number}\n{POLICY_SHORT[p.score]}\n{p.unit}")
            tip = (f"Policy {p.number}. Score shown: {SCORE_POLICIES[p.score]}. Outcome: "
                   f"{OUTCOME_LEVELS[p.outcome]}. Units: {p.unit_word}.")
            if not p.available:
                tip += f" Not computed: it {p.reason}."
            tips.append(tip)
        for c, (h, tip) in enumerate(zip(headers, tips)):
            item = QTableWidgetItem(h)
            item.setToolTip(tip)
            t.setHorizontalHeaderItem(c, item)
        rows = []
        measures = MEASURES + (REST_MEASURES if res.settings.membership == "footnote5" else ())
        for key, label, per_group, overall, definition in measures:
            targets = ([("overall", None)] if overall else []) + \
                ([(n, i) for i, n in enumerate(names)] if per_group else [])
            rows.append((key, label, definition, targets))
        n_rows = sum(len(r[3]) for r in rows)
        t.setRowCount(n_rows)
        r = 0
        band = QBrush(QColor("#f4f6f9"))
        for m, (key, label, definition, targets) in enumerate(rows):
            first = r
            for gname, gi in targets:
                shade = m % 2 == 1
                t.setItem(r, 0, self._item(label, definition, Qt.AlignLeft | Qt.AlignVCenter,
                                           bold=True))
                git = self._item(gname, "", Qt.AlignLeft | Qt.AlignVCenter)
                if gi is not None:
                    git.setData(Qt.DecorationRole, group_color(gi))
                    git.setToolTip(f"Group {gname}")
                else:
                    git.setToolTip("All units together")
                t.setItem(r, 1, git)
                for c, p in enumerate(res.policies, start=2):
                    t.setItem(r, c, self._policy_cell(p, key, label, gname, gi))
                if shade:
                    for c in range(t.columnCount()):
                        t.item(r, c).setBackground(band)
                r += 1
            if r - first > 1:
                t.setSpan(first, 0, r - first, 1)
        hh = t.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.Interactive)
        t.resizeColumnsToContents()
        for c in range(2, t.columnCount()):
            t.setColumnWidth(c, max(t.columnWidth(c), 64))
        hh.setStretchLastSection(False)
        s = res.settings
        unavailable = [p for p in res.policies if not p.available]
        lines = [f"{res.n_people:,} people in {res.n_households:,} households; "
                 f"{s.bins} bins (edges from {res.reference}"
                 + (", scores read as bins" if s.prebinned else "") + f"); screened in at bin ≥ "
                 f"{s.cutoff_value()} or High-risk protocol."]
        for p in unavailable:
            lines.append(f"<span style='color:#6b4e00'>Policy {p.number} not computed: it "
                         f"{html.escape(p.reason)}.</span>")
        other = [w for w in res.warnings if not w.startswith("Policy ")
                 and not w.startswith("Feature disparity")]
        if other:
            lines.append("<span style='color:#6b4e00'>" + html.escape(other[0])
                         + (f" (+{len(other) - 1} more notes: hover)" if len(other) > 1 else "")
                         + "</span>")
        self.summary.setText("<br>".join(lines))
        self.summary.setToolTip("\n".join(res.warnings) or "No warnings")

    def _policy_cell(self, p, key, label, gname, gi) -> QTableWidgetItem:
        if not p.available:
            return self._item("—", f"Policy {p.number} is not computed: it {p.reason}.",
                              Qt.AlignCenter, undefined=True)
        if key == "n":
            return self._item(fmt_value("n", p.n_units), f"{p.n_units:,} {p.unit_word}")
        if key == "auc" and p.auc_note:
            return self._item("not reported", f"AUC {p.auc_note}.", Qt.AlignCenter, undefined=True)
        if key.endswith("_rest"):
            value = getattr(p, key)[gi]
            if _nan(value):
                return self._item(UNDEFINED, f"Undefined (0/0): the {p.unit_word} not in {gname} "
                                  "have none in the denominator.", undefined=True)
            return self._item(fmt_value(key[:-5], value),
                              f"{label} (the {p.unit_word} not in {gname}) under policy "
                              f"{p.number}: {100 * value:.2f}%; {gname}: "
                              f"{100 * getattr(p, key[:-5])[gi]:.2f}%")
        value = getattr(p, f"{key}_overall") if gi is None else getattr(p, key)[gi]
        who = "all units" if gi is None else f"group {gname}"
        if _nan(value):
            reason = {
                "auc": f"AUC needs {p.unit_word} with and without the outcome in {who}",
                "xauc": f"{who} has no {p.unit_word} with the outcome, or no {p.unit_word} "
                        "outside it lack the outcome",
                "fpr": f"0/0: {who} has no {p.unit_word} without the outcome",
                "screen_in": f"{who} has no {p.unit_word}",
            }[key]
            return self._item(UNDEFINED, f"Undefined: {reason}.", undefined=True)
        n = p.n_units if gi is None else int(p.n[gi])
        tip = f"{label} of {who} under policy {p.number}: {value:.4f} ({n:,} {p.unit_word})"
        if key == "xauc":
            tip += f"; its AUC is {p.auc[gi]:.3f}" if not _nan(p.auc[gi]) else ""
            tip += f".\nDirection: {p.xauc_direction(gname)}."
        if key in ("fpr", "screen_in"):
            tip = f"{label} of {who} under policy {p.number}: {100 * value:.2f}% ({n:,} {p.unit_word})"
        return self._item(fmt_value(key, value), tip)

    def _refresh_edges(self) -> None:
        t = self.edges_table
        res = self.result
        if res is None:
            t.setRowCount(0)
            self.edges_note.setText("")
            return
        s = res.settings
        self.edges_note.setText(
            f"{s.bins} bins from {res.reference} ({res.n_reference:,} rows). {EDGE_CONVENTION}"
            if not s.prebinned else "The score column is read as bin scores: no edges.")
        t.setColumnCount(5)
        heads = [("Bin", "The bin score (1 = lowest risk)"),
                 ("From", "Lowest score of the bin: its lower edge (a score equal to it is in "
                          "this bin)"),
                 ("To (excl.)", "The next edge: scores from it on are in the next bin"),
                 ("Reference", "Share of the reference set in the bin (each ≈ 1/bins)"),
                 ("All rows", "Share of all rows in the bin")]
        for c, (h, tip) in enumerate(heads):
            it = QTableWidgetItem(h)
            it.setToolTip(tip)
            t.setHorizontalHeaderItem(c, it)
        t.setRowCount(s.bins)
        e = list(res.edges)
        for j in range(s.bins):
            t.setItem(j, 0, self._item(str(j + 1), "", Qt.AlignCenter))
            for c, v in ((1, e[j - 1] if 0 < j <= len(e) else None),
                         (2, e[j] if j < len(e) else None)):
                if v is None or not math.isfinite(v):
                    t.setItem(j, c, self._item("—", "No edge here" if v is None else
                                               "No reference score reaches this edge (ties)",
                                               undefined=True))
                else:
                    t.setItem(j, c, self._item(f"{v:.6g}", f"{v!r}"))
            t.setItem(j, 3, self._item(f"{100 * res.bin_share_reference[j]:.2f}%"))
            t.setItem(j, 4, self._item(f"{100 * res.bin_share_all[j]:.2f}%"))
        hh = t.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.Stretch)
        hh.setSectionResizeMode(0, QHeaderView.ResizeToContents)

    def _refresh_plot_combos(self) -> None:
        res = self.result
        for combo, items, default in (
                (self.score_policy,
                 [] if res is None else [(policy_label(p), p.number)
                                         for p in res.policies if p.available], 3),
                (self.size_score,
                 [] if res is None else [(SCORE_SHORT[k], k) for k in res.sizes],
                 "household_max")):
            current = combo.currentData()
            with QSignalBlocker(combo):
                combo.clear()
                for text, data in items:
                    combo.addItem(text, data)
                i = combo.findData(current)
                if i < 0:
                    i = combo.findData(default)
                combo.setCurrentIndex(max(i, 0))

    def _draw_scores(self) -> None:
        panel = self.score_panel
        pi = panel.plot
        pi.clear()
        self.score_legend.clear()
        res = self.result
        number = self.score_policy.currentData()
        p = None if res is None or number is None else res.policy(number)
        if p is None or not p.available:
            panel.set_note("")
            return
        names = res.group_names
        G, L = len(names), len(p.levels)
        totals = p.distribution.sum(axis=1)
        width = 0.84 / max(G, 1)
        top = 0.0
        for g in range(G):
            if totals[g] <= 0:
                continue
            h = 100 * p.distribution[g] / totals[g]
            x = np.arange(L) + (g - (G - 1) / 2) * width
            color = group_color(g)
            item = pg.BarGraphItem(x=x, height=h, width=width * 0.9, brush=pg.mkBrush(color),
                                   pen=pg.mkPen(color.darker(130)))
            pi.addItem(item)
            self.score_legend.addItem(item, names[g])
            top = max(top, float(h.max()))
        self.score_legend.setColumnCount(2 if G > 2 else 1)
        protocol = p.score == "protocol"
        cut_x = 1.5 if protocol else res.settings.cutoff_value() - 1.5
        line = pg.InfiniteLine(pos=cut_x, angle=90, pen=pg.mkPen("#333333", width=1.5,
                                                                  style=Qt.DashLine),
                               label="screened in →", labelOpts={
                                   "position": 0.93, "color": "#333333", "anchors": [(0, 0.5), (0, 0.5)]})
        pi.addItem(line, ignoreBounds=True)
        self._score_levels = list(PROTOCOL_TICKS) if protocol else list(p.levels)
        self._set_score_ticks()
        pi.setXRange(-0.6, L - 0.4, padding=0)
        rows_legend = math.ceil(G / 2) if G > 2 else G
        pi.setYRange(0, max(top, 1.0) * (1.12 + 0.09 * rows_legend), padding=0)
        # a short title: a long one widens the plot beyond its widget (pyqtgraph)
        pi.setTitle(f"{p.unit_word.capitalize()} by {'protocol' if protocol else 'score shown'}",
                    color="k", size="11pt")
        pi.setLabel("left", f"Share of the group's {p.unit_word} (%)", color="k",
                    **{"font-size": "11pt"})
        pi.setLabel("bottom", "Protocol" if protocol else "Score shown (bin)", color="k",
                    **{"font-size": "11pt"})
        note = ""
        if p.unit == "household":
            note = f"Households: {MEMBERSHIP[res.settings.membership]}."
        panel.set_note(note)

    def _set_score_ticks(self, *_args) -> None:
        """Label every bin when there is room, else every other (even) bin."""
        levels = self._score_levels
        L = len(levels)
        if not L:
            return
        width = self.score_panel.plot.getViewBox().width()
        room = width / L if width > 0 else 0
        step = 1 if L <= 12 or room >= 26 else 2 if L <= 40 else max(2, L // 20)
        major = [(j, levels[j]) for j in range(L) if step == 1 or (j + 1) % step == 0]
        self.score_panel.plot.getAxis("bottom").setTicks([major, [(j, "") for j in range(L)]])

    def _draw_sizes(self) -> None:
        panel = self.size_panel
        pi = panel.plot
        pi.clear()
        self.size_legend.clear()
        res = self.result
        score = self.size_score.currentData()
        if res is None or score not in (res.sizes if res else {}):
            panel.set_note("")
            return
        s = res.sizes[score]
        mode = self.size_mode.currentData()
        names = res.group_names
        x = np.arange(1, len(s.sizes) + 1, dtype=float)
        values = s.ratio if mode == "ratio" else 100 * s.rate
        top = 0.0
        for g, name in enumerate(names):
            y = np.asarray(values[g], dtype=float)
            ok = np.isfinite(y)
            if not ok.any():
                continue
            color = group_color(g)
            item = pg.PlotDataItem(x[ok], y[ok], pen=pg.mkPen(color, width=2.2), symbol="o",
                                   symbolSize=8, symbolBrush=pg.mkBrush(color),
                                   symbolPen=pg.mkPen("w", width=1))
            pi.addItem(item)
            self.size_legend.addItem(item, name)
            top = max(top, float(y[ok].max()))
        if mode == "ratio":
            pi.addItem(pg.InfiniteLine(pos=1.0, angle=0, pen=pg.mkPen("#333333", width=1.2,
                                                                      style=Qt.DashLine)),
                       ignoreBounds=True)
            top = max(top, 1.0)
            pi.setLabel("left", "Screen-in rate ÷ other households'", color="k",
                        **{"font-size": "11pt"})
        else:
            all_rate = 100 * np.asarray(s.rate_all, dtype=float)
            ok = np.isfinite(all_rate)
            item = pg.PlotDataItem(x[ok], all_rate[ok], pen=pg.mkPen("#333333", width=1.5,
                                                                      style=Qt.DashLine))
            pi.addItem(item)
            self.size_legend.addItem(item, "all households")
            if ok.any():
                top = max(top, float(all_rate[ok].max()))
            pi.setLabel("left", "Households screened in (%)", color="k", **{"font-size": "11pt"})
        self.size_legend.setColumnCount(2 if len(names) > 2 else 1)
        pi.getAxis("bottom").setTicks([[(float(i + 1), lbl) for i, lbl in enumerate(s.sizes)]])
        pi.setXRange(0.6, len(s.sizes) + 0.4, padding=0)
        rows_legend = math.ceil((len(names) + 1) / 2)
        if mode == "ratio":  # legend top left, above the lines
            self.size_legend.anchor((0, 0), (0, 0), offset=(10, 8))
            pi.setYRange(0, max(top, 1e-9) * (1.15 + 0.1 * rows_legend), padding=0)
        else:  # rates grow with household size: the bottom right is the emptiest corner
            self.size_legend.anchor((1, 1), (1, 1), offset=(-10, -10))
            pi.setYRange(0, min(max(top, 1e-9) * 1.08, 102.0), padding=0)
        pi.setTitle("Households screened in, by size" if mode != "ratio" else
                    "Screen-in ratio to other households", color="k", size="11pt")
        hidden = int(sum(1 for g in range(len(names)) for b in range(len(s.sizes))
                         if not np.isfinite(values[g][b])))
        note = f"Households: {MEMBERSHIP[res.settings.membership]}."
        if hidden:
            note += (f" {hidden} point{'s' * (hidden > 1)} missing: no household of that size "
                     "in the group" + (" or outside it, or no one outside it screened in"
                                       if mode == "ratio" else "") + " (undefined).")
        panel.set_note(note)

    def _refresh_features(self, *_args) -> None:
        t = self.feature_table
        d = self.state.data
        self.features, self.feature_groups, self.skipped_features = [], (), []
        if d is None or self._data_ok():
            t.setRowCount(0)
            return
        binary = [c for c in d.extras if is_binary(d.extras[c])]
        self.skipped_features = [c for c in d.extras if c not in binary]
        if not binary:
            t.setRowCount(0)
            t.setColumnCount(0)
            self.feature_note.setText("No binary (0/1) extra attribute is mapped. On the Data "
                                      "page, give 0/1 columns such as prior involvement the "
                                      "role “Extra attribute” to compare how often groups "
                                      "have them.")
            return
        try:
            rows, groups, _ = feature_disparity(d, binary, self.fa_combo.currentData(),
                                                self.fb_combo.currentData())
        except FairDeskError as err:
            t.setRowCount(0)
            self.feature_note.setText(str(err))
            return
        self.features, self.feature_groups = rows, groups
        a, b = groups
        heads = [("Attribute", "The 0/1 extra column"),
                 (f"Share {a}", f"Share of {a} with the attribute (weighted)"),
                 (f"Share {b}", f"Share of {b} with the attribute (weighted)"),
                 ("Risk ratio", f"Share of {a} ÷ share of {b}: 2 = twice as common in {a}")]
        t.setColumnCount(len(heads))
        for c, (h, tip) in enumerate(heads):
            it = QTableWidgetItem(h)
            it.setToolTip(tip)
            t.setHorizontalHeaderItem(c, it)
        t.setRowCount(len(rows))
        for r, f in enumerate(rows):
            t.setItem(r, 0, self._item(f["feature"], "", Qt.AlignLeft | Qt.AlignVCenter))
            for c, k in ((1, "share_a"), (2, "share_b")):
                v = f[k]
                t.setItem(r, c, self._item(f"{100 * v:.1f}%" if not _nan(v) else UNDEFINED,
                                           "" if not _nan(v) else "The group is empty",
                                           undefined=_nan(v)))
            ratio = f["ratio"]
            if ratio == math.inf:
                t.setItem(r, 3, self._item("∞", f"No one in {b} has the attribute", undefined=True))
            elif _nan(ratio):
                t.setItem(r, 3, self._item(UNDEFINED, "0/0: neither group has the attribute",
                                           undefined=True))
            else:
                t.setItem(r, 3, self._item(f"{ratio:.2f}", f"{f['with_a']:,.0f} of "
                                           f"{f['n_a']:,} in {a}; {f['with_b']:,.0f} of "
                                           f"{f['n_b']:,} in {b}"))
        t.resizeColumnsToContents()
        t.horizontalHeader().setStretchLastSection(True)
        note = "Sorted from the largest ratio."
        if self.skipped_features:
            note += " Not 0/1, left out: " + ", ".join(self.skipped_features) + "."
        self.feature_note.setText(note)

    # ================================================================== settings and export
    def add_as_scenario(self) -> str | None:
        """The chosen score policy at the cutoff as a Decision-table scenario."""
        from ...engines.households import scenario_probabilities
        from ...errors import FairDeskError
        from ...scenarios import Scenario

        if self.state.data is None:
            return None
        hs = self.current_settings()
        policy = self.scenario_policy.currentData()
        settings = {"household": hs.to_dict(), "score": policy}
        try:
            scenario_probabilities(self.state.data, settings)  # refuse now, not in the table
        except FairDeskError as err:
            self.window().show_error(str(err), "")
            return None
        title = self.scenario_policy.currentText()
        name = (f"Households: {title}" if policy == "protocol"
                else f"Households: {title} ≥ {hs.cutoff_value()}")
        scenario = Scenario(name, "probabilities",
                            {"engine": "fairdesk.engines.households:scenario_probabilities",
                             "settings": settings}, {"engine": "Households"})
        return self.state.add_scenario(scenario)

    def settings(self) -> dict:
        s = self.current_settings().to_dict()
        s.pop("features", None)
        s.update({"plot_tab": self.plot_tabs.currentIndex(),
                  "table_tab": self.table_tabs.currentIndex(),
                  "chart_policy": self.score_policy.currentData(),
                  "size_score": self.size_score.currentData(),
                  "size_mode": self.size_mode.currentData(),
                  "feature_group_a": self.fa_combo.currentData(),
                  "feature_group_b": self.fb_combo.currentData()})
        return s

    def apply_settings(self, settings: dict) -> None:
        if self._data_ok():
            self._saved = dict(settings or {})
            return
        self._apply(settings or {})
        self.schedule()

    def _apply(self, s: dict) -> None:
        hs = HouseholdSettings.from_dict({k: v for k, v in s.items()
                                          if k in HouseholdSettings.__dataclass_fields__})

        def choose(combo, value):
            i = combo.findData(value)
            if i >= 0:
                combo.setCurrentIndex(i)

        widgets = [self.bins_spin, self.cutoff_spin, self.ref_combo, self.flag_combo,
                   self.age_combo, self.member_combo, self.tie_check, self.prebinned_check,
                   self.high_score, self.high_age, self.low_score, self.low_age, self.fa_combo,
                   self.fb_combo]
        blockers = [QSignalBlocker(w) for w in widgets]
        try:
            self.bins_spin.setValue(int(hs.bins))
            self._last_bins = int(hs.bins)
            self.cutoff_spin.setMaximum(int(hs.bins))
            self.cutoff_spin.setValue(int(hs.cutoff_value()))
            if "reference_split" in s:
                choose(self.ref_combo, hs.reference_split)
            for combo, value in ((self.flag_combo, hs.flag), (self.age_combo, hs.age),
                                 (self.member_combo, hs.membership)):
                choose(combo, value)
            self.tie_check.setChecked(bool(hs.tie_break))
            self.prebinned_check.setChecked(bool(hs.prebinned))
            r = hs.protocol
            self.high_score.setValue(int(r.high_min_score))
            self.high_age.setValue(int(r.high_any_age_below))
            self.low_score.setValue(int(r.low_max_score))
            self.low_age.setValue(int(r.low_all_age_at_least))
            if "feature_group_a" in s:
                choose(self.fa_combo, s["feature_group_a"])
            if "feature_group_b" in s:
                choose(self.fb_combo, s["feature_group_b"])
        finally:
            for b in blockers:
                b.unblock()
        if "plot_tab" in s:
            self.plot_tabs.setCurrentIndex(int(s["plot_tab"]))
        if "table_tab" in s:
            self.table_tabs.setCurrentIndex(int(s["table_tab"]))
        if "size_mode" in s:
            choose(self.size_mode, s["size_mode"])
        for combo, value in ((self.score_policy, s.get("chart_policy")),
                             (self.size_score, s.get("size_score"))):
            if value is not None:
                with QSignalBlocker(combo):
                    if combo.findData(value) < 0:
                        combo.addItem(str(value), value)  # kept until the results arrive
                    choose(combo, value)
        self._refresh_features()

    def export_settings(self) -> dict:
        if self.result is None:
            return {}
        from ...reports.households_report import settings_summary

        out = settings_summary(self.result)
        if self.feature_groups:
            out["Feature disparity"] = f"{self.feature_groups[0]} vs {self.feature_groups[1]}"
        return out

    def export_tables(self) -> list:
        if self.result is None or self.state.data is None:
            return []
        from ...reports.households_report import households_tables

        res = dataclasses.replace(self.result, features=list(self.features),
                                  feature_groups=tuple(self.feature_groups))
        return households_tables(res, chart_policy=self.score_policy.currentData(),
                                 chart_size_score=self.size_score.currentData())
