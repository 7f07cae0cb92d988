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

from PySide6.QtCore import QSignalBlocker, Qt, QTimer
from PySide6.QtWidgets import (QCheckBox, QComboBox, QGridLayout, QGroupBox, QHBoxLayout, QLabel,
                               QPushButton, QSpinBox, QVBoxLayout, QWidget)

from ..notes_panel import NotesPanel
from ..palette import muted_css, title_html, warn_html
from ...engines.households import (EDGE_CONVENTION, MEMBERSHIP, SCORE_SHORT, HouseholdResult,
                                   HouseholdSettings, ProtocolRules, audit_households,
                                   feature_disparity)
from ...errors import FairDeskError
from ...present.formats import format_count
from ...reports.households_report import (column_choices, data_problem, edges_table,
                                          features_table, policy_label, policy_table,
                                          summary_lines)
from ..plots import PlotPanel
from ..table_model import ResultTable
from ..controls import check, message_label, side_by_side, tabs
from .base import Page, note_label
from .households_plots import draw_scores, draw_sizes, set_score_ticks

PLOT_MIN_PX = 540  # the plot and its side legend
MEMBERSHIP_TEXT = {"footnote5": "any member is; vs the rest",
                   "any": "any member is; in each group", "all": "all members are",
                   "majority": "most members are"}


def fit_columns(view: ResultTable, minimum: int = 0) -> None:
    """Columns as narrow as their cells and their header's words (no room for a sort mark)."""
    fm = view.horizontalHeader().fontMetrics()
    for c, col in enumerate(view.table.columns):
        words = max(fm.horizontalAdvance(w) for w in col.header.split("\n"))
        view.setColumnWidth(c, max(view.sizeHintForColumn(c), words + 16, minimum))


def refill(combo: QComboBox, items, keep: bool = True, guess=None) -> None:
    """Fill ``combo`` with (text, data) items silently, keeping its choice (else ``guess``)."""
    current = combo.currentData() if keep else None
    with QSignalBlocker(combo):
        combo.clear()
        for text, data in items:
            combo.addItem(text, data)
        i = combo.findData(current) if current is not None else -1
        if i < 0 and guess is not None:
            i = combo.findData(guess)
        combo.setCurrentIndex(max(i, 0))


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
        self._timer.timeout.connect(lambda: self.when_shown(self.run))  # on demand
        self._split_done = False
        self._fitted = False
        self._build()
        self.state.dataChanged.connect(self._data_changed)
        self._data_changed()

    # ================================================================== layout
    def _build(self) -> None:
        outer = self.page_layout()
        lay = self.add_empty_stack(outer)

        head = QLabel(f"{title_html(self.title)} &nbsp; "
                      f"<span style='{muted_css()}'>A tool that scores each person may show the "
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

        self.message = message_label("error")
        lay.addWidget(self.message)

        self.splitter = side_by_side()
        lay.addWidget(self.splitter, 1)
        self.table_tabs = tabs()
        self.plot_tabs = tabs()
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
        self.prebinned_check = check("Scores are bins", "The score column already holds bin "
                                     "scores 1 … bins (e.g. the tool's published ventile "
                                     "scores): no edges are computed", self._changed)
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
            return QLabel(t)

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

    def _tab(self, title: str, tip: str, *parts) -> None:
        """A tab of the table side: rows of controls, notes and a table (which stretches)."""
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(2, 4, 2, 2)
        for part in parts:
            if isinstance(part, QHBoxLayout):
                v.addLayout(part)
            else:
                v.addWidget(part, int(isinstance(part, ResultTable)))
        self.table_tabs.addTab(w, title)
        self.table_tabs.setTabToolTip(self.table_tabs.count() - 1, tip)

    def _build_tables(self) -> None:
        self.policy_table = ResultTable("Household policies", "Each policy (columns) measured "
                                        "per group (rows); hover a cell or a title for its "
                                        "definition")
        self.summary = note_label()
        self.summary.setTextFormat(Qt.RichText)
        self.notes_panel = NotesPanel()
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
        for widget in (QLabel("Scenario shows:"), self.scenario_policy, self.scenario_button):
            row.addWidget(widget)
        row.addStretch(1)
        self._tab("Policies", "The audit's Tables 4 and 5: AUC, cross-AUC, false positive rate "
                  "and screen-in rate of every policy", self.policy_table, self.summary,
                  self.notes_panel, row)

        self.edges_note = note_label()
        self.edges_table = ResultTable("Bin edges", "The bin scores: the scores each bin holds "
                                       "and its share of the reference set and of all rows")
        self._tab("Bin edges", "The edges of the bin scores and how many people each bin holds",
                  self.edges_note, self.edges_table)

        row = QHBoxLayout()
        self.fa_combo = self._combo("Group A: the share of this group with each attribute is "
                                    "divided by the share of group B", 12)
        self.fb_combo = self._combo("Group B: a group, or everyone outside group A", 12)
        for widget in (QLabel("Compare"), self.fa_combo, QLabel("with"), self.fb_combo):
            row.addWidget(widget)
        row.addStretch(1)
        self.fa_combo.currentIndexChanged.connect(self._refresh_features)
        self.fb_combo.currentIndexChanged.connect(self._refresh_features)
        self.feature_table = ResultTable("Feature disparity", "Binary attributes (0/1 extra "
                                         "columns): the share of each group with the attribute "
                                         "and their ratio")
        self.feature_note = note_label()
        self._tab("Feature disparity", "The audit's Appendix A.2.2: which attributes one group "
                  "has more often than another (risk ratio)", row, self.feature_table,
                  self.feature_note)

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
        self.plot_tabs.addTab(self.size_panel, "Household size")
        self.plot_tabs.setTabToolTip(1, "Screen-in rate and disparity by household size")

    def apply_initial_split(self, total: int) -> None:
        """The policy table gets the width it needs (50–65%, leaving the plot and its side
        legend PLOT_MIN_PX), the plots the rest."""
        self._fit_split()

    def _fit_split(self) -> None:
        total = sum(self.splitter.sizes())
        t = self.policy_table
        cols = t.model().columnCount()
        need = sum(t.columnWidth(c) for c in range(cols)) + 2 * t.frameWidth() + 12
        left = int(min(max(need, total * 0.5), total * 0.65, max(total - PLOT_MIN_PX,
                                                                  total * 0.5)) if cols else total * 0.55)
        self.splitter.setSizes([left, total - left])

    # ================================================================== data and settings
    def _data_ok(self) -> str:
        """'' when the data can be analysed, else what to do."""
        return data_problem(self.state.data)

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
        splits, binary, guess = column_choices(d)
        refill(self.ref_combo, [("all rows", None)] + [(f"split = {s}", s) for s in splits],
               True, guess["split"])
        refill(self.flag_combo, [("(none)", None)] + [(c, c) for c in binary], True, guess["flag"])
        refill(self.age_combo, [("(none)", None)] + [(c, c) for c in d.extras], True, guess["age"])
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

    def _refresh_policy_table(self) -> None:
        res = self.result
        if res is None:
            self.policy_table.set_table(None)
            self.summary.setText(self._message and "No results: see the message above." or "")
            self.notes_panel.set_notes()
            return
        self.policy_table.set_table(policy_table(res))
        fit_columns(self.policy_table, 64)
        head, missing, other = summary_lines(res)
        lines = [html.escape(head)] + [warn_html(html.escape(m)) for m in missing]
        self.summary.setText("<br>".join(lines))
        self.notes_panel.set_notes(warnings=other)

    def _refresh_edges(self) -> None:
        res = self.result
        if res is None:
            self.edges_table.set_table(None)
            self.edges_note.setText("")
            return
        s = res.settings
        self.edges_note.setText(
            f"{s.bins} bins from {res.reference} ({format_count(res.n_reference)} rows). "
            f"{EDGE_CONVENTION}" if not s.prebinned else
            "The score column is read as bin scores: no edges.")
        self.edges_table.set_table(edges_table(res, self.state.data.score_decimals))

    def _refresh_plot_combos(self) -> None:
        res = self.result
        refill(self.score_policy, [] if res is None else
               [(policy_label(p), p.number) for p in res.policies if p.available], guess=3)
        refill(self.size_score, [] if res is None else [(SCORE_SHORT[k], k) for k in res.sizes],
               guess="household_max")

    def _draw_scores(self) -> None:
        self._score_levels = draw_scores(self.score_panel, self.result,
                                         self.score_policy.currentData())
        self._set_score_ticks()

    def _set_score_ticks(self, *_args) -> None:
        set_score_ticks(self.score_panel, self._score_levels)

    def _draw_sizes(self) -> None:
        draw_sizes(self.size_panel, self.result, self.size_score.currentData(),
                   self.size_mode.currentData())

    def _refresh_features(self, *_args) -> None:
        t = self.feature_table
        d = self.state.data
        self.features, self.feature_groups, self.skipped_features = [], (), []
        t.set_table(None)
        if d is None or self._data_ok():
            return
        _splits, binary, _guess = column_choices(d)
        self.skipped_features = [c for c in d.extras if c not in binary]
        if not binary:
            self.feature_note.setText("No binary (0/1) extra attribute is mapped. On the Data "
                                      "page, give 0/1 columns such as prior involvement the "
                                      "role “Extra attribute” to compare how often groups "
                                      "have them.")
            return
        try:
            rows, groups, _ = feature_disparity(d, binary, self.fa_combo.currentData(),
                                                self.fb_combo.currentData())
        except FairDeskError as err:
            self.feature_note.setText(str(err))
            return
        self.features, self.feature_groups = rows, groups
        t.set_table(features_table(rows, groups))
        fit_columns(t)
        note = "Sorted from the largest ratio."
        if self.skipped_features:
            note += " Not 0/1, left out: " + ", ".join(self.skipped_features) + "."
        self.feature_note.setText(note)

    # ================================================================== settings and export
    def add_as_scenario(self) -> str | None:
        """The chosen score policy at the cutoff as a Decision-table scenario."""
        from ...engines.households import scenario_probabilities
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
                                 chart_size_score=self.size_score.currentData(),
                                 score_decimals=self.state.data.score_decimals)
