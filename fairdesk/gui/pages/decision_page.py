"""The Decision table: every scenario on the same data and the same measures, side by side.

Scenario zero is always the baseline, the group-agnostic thresholds in force; the others
are the analyst's scenarios (``state.scenarios``), added with "Add as scenario" on the
Tiers, Audit and engine pages. The page shows measures as rows and scenarios as columns,
tints each difference from the baseline (blue = better, vermillion = worse, yellow = a rate
that moved, which is neither), charts a fairness measure against accuracy (or against the
share of decisions changed), and keeps the analyst's notes per scenario. The table is
described once (``reports.decision_tables.decision_table``): the window shows it compact,
the meeting workbook (``reports.meeting_report.meeting_tables``) in full.

The comparison (``scenarios.compare``) is O(n) per scenario: up to ``SYNC_ROWS`` rows it runs
on the GUI thread whenever scenarios, thresholds or data change; above, and always with a
bootstrap, it runs in the worker. Renaming, reordering and deleting never recompute: the
page selects columns of the last comparison (bootstrap included), since each column depends
only on its own rule, the baseline, the data and the cost ratio.
"""

from __future__ import annotations

import html
import logging
import math

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QDoubleSpinBox, QGroupBox,
                               QHBoxLayout, QHeaderView, QLabel, QPlainTextEdit, QPushButton,
                               QSpinBox, QSplitter, QTableWidget, QTableWidgetItem, QTabWidget,
                               QToolButton, QVBoxLayout, QWidget)

from ...audit import default_threshold
from ...errors import FairDeskError
from ...metrics.fairness import Reliability
from ...metrics.thresholds import ThresholdRule
from ...reports.decision_tables import (X_AXES, ComparisonCache, decision_table, flagged_tiers,
                                        rule_key, rule_text, same_context, scenario_problem,
                                        settings_key, status_text, tier_table)
from ...scenarios import Comparison, Scenario, baseline, compare
from ..table_model import ResultTable, TableModel
from .base import Page
from .decision_plots import DecisionChart

log = logging.getLogger("fairdesk.gui.decision")

SYNC_ROWS = 200_000  # up to this many rows the comparison runs on the GUI thread
BASELINE_NAME = "Baseline"
# Okabe–Ito: blue = better than the baseline, vermillion = worse, yellow = a rate moved
BETTER, WORSE, MOVED = QColor("#0072B2"), QColor("#D55E00"), QColor("#F0E442")
TINTS = {"better": BETTER, "worse": WORSE, "moved": MOVED}
SECTION_BG = QColor("#E6ECF2")
GREY, TEXT = QColor("#6E6E6E"), QBrush(QColor("#000000"))
MIN_ALPHA, MAX_ALPHA = 40, 150
MAX_ALPHA_MOVED = 100  # a moved rate is neither better nor worse: a lighter tint
LEGEND = (("better", BETTER, "Better than the baseline: a fairness measure higher, fewer "
           "changed decisions, a lower cost"), ("worse", WORSE, "Worse than the baseline"),
          ("rate moved", MOVED, "A rate differs from the baseline's: neither better nor worse "
           "in itself"))


def tint_color(word: str, size: float) -> QColor:
    """The background of a difference from the baseline (see decision_tables.tint)."""
    color = QColor(TINTS[word])
    top = MAX_ALPHA_MOVED if word == "moved" else MAX_ALPHA
    color.setAlpha(int(MIN_ALPHA + (top - MIN_ALPHA) * size))
    return color


class _TintedModel(TableModel):
    """The table model, with each difference from the baseline tinted and section headings
    shaded (from the rows' ``tints`` and ``heading``)."""

    def data(self, index, role=Qt.DisplayRole):
        if role == Qt.BackgroundRole and index.isValid() and self.table is not None:
            row = self._rows[index.row()]
            if row.get("heading"):
                return QBrush(SECTION_BG)
            shade = row.get("tints", {}).get(self.table.columns[index.column()].key)
            if shade is not None:
                return QBrush(tint_color(*shade))
        return super().data(index, role)


class DecisionView(ResultTable):
    """The decision table: not sortable (rows are grouped by measure), headings across the
    table, a measure's name beside all its rows, scenario names in full in wrapping headers."""

    def __init__(self, title: str, tip: str):
        super().__init__(title, tip, sortable=False)
        self.source = _TintedModel(self)
        self.proxy.setSourceModel(self.source)
        self.verticalHeader().setDefaultSectionSize(23)

    def set_table(self, table) -> None:
        self.clearSpans()
        super().set_table(table)
        if table is None:
            return
        rows, n = self.source._rows, len(table.columns)
        start = None
        for r, row in enumerate(rows + [{"heading": True}]):
            label = row.get("measure")
            if row.get("heading") or (label is not None and label.value):
                if start is not None and r - start > 1:
                    self.setSpan(start, 0, r - start, 1)
                start = None if row.get("heading") else r
            if r < len(rows) and row.get("heading"):
                self.setSpan(r, 0, 1, n)
            elif r < len(rows) and row.get("group") is not None and not row["group"].value:
                self.setSpan(r, 0, 1, 2)  # a measure without groups: its name may be long
        self.setColumnWidth(0, min(max(self.columnWidth(0), 110), 150))


class DecisionPage(Page):
    key = "decision"
    title = "Decision table"
    split_fraction = 0.32

    def __init__(self, state, worker, parent=None):
        super().__init__(state, worker, parent)
        self.comp: Comparison | None = None  # what the page shows (columns = list order)
        self.excluded: dict[str, str] = {}  # scenario name -> why it is not compared
        self.value_rows: list[dict] = []  # comp.table_rows()
        self.row_of: dict[int, int] = {}  # value row -> table row
        self.baseline_notes = ""
        self.cache = ComparisonCache()  # the last computed comparison
        self._job = None
        self._job_boot = False
        self._dirty = False
        self._note = ""
        self._last_agnostic = None  # (data, values, rules): last group-agnostic thresholds seen
        self._col_of_row: dict[int, int] = {}  # list row -> comparison column
        self._notes_emit = False
        self._loading_notes = False
        self._notes_for = None  # what the notes editor edits: "baseline" or a Scenario
        self._pending_notes = None
        self._notes_timer = QTimer(self)
        self._notes_timer.setSingleShot(True)
        self._notes_timer.setInterval(400)
        self._notes_timer.timeout.connect(self._flush_notes)
        self._build()
        state.dataChanged.connect(self._on_data_changed)
        state.thresholdsChanged.connect(self._on_thresholds_changed)
        state.scenariosChanged.connect(self._on_scenarios_changed)
        self._on_data_changed()

    def toolTip(self) -> str:  # the navigation entry's tooltip
        return ("Compare the decision options (scenarios) side by side on the same measures, "
                "with notes, and export the meeting workbook")

    # ================================================================ layout
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        lay = self.add_empty_stack(outer)
        intro = QLabel("Every option on the same data and the same measures. The baseline "
                       "(the group-agnostic thresholds in force) is always first; add options "
                       "with <b>Add as scenario…</b> on the Tiers, Audit and engine pages. "
                       "Differences from the baseline are tinted.")
        intro.setWordWrap(True)
        intro.setStyleSheet("color:#444")
        lay.addWidget(QLabel(f"<b style='font-size:15px'>{self.title}</b>"))
        lay.addWidget(intro)
        lay.addWidget(self._build_settings())
        self.splitter = QSplitter(Qt.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        lay.addWidget(self.splitter, 1)
        self.splitter.addWidget(self._build_scenarios())
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([285, 765])
        self._build_table_tab()
        self.chart = DecisionChart(on_error=self._show_error)
        self.chart.choiceChanged.connect(self._draw_chart)
        self.fair_combo, self.x_combo = self.chart.fair_combo, self.chart.x_combo
        self.tabs.addTab(self.chart, "Chart")
        self.tabs.setTabToolTip(1, "Fairness against accuracy or changed decisions, one point "
                                   "per scenario")
        self._build_tiers_tab()

    def _build_settings(self) -> QGroupBox:
        box = QGroupBox("Comparison")
        bl = QHBoxLayout(box)
        bl.setContentsMargins(6, 2, 6, 4)
        bl.setSpacing(6)
        self.cost_fn = self._cost_spin("Cost of a false negative (someone with the outcome "
                                       "who is not flagged), relative to a false positive")
        self.cost_fp = self._cost_spin("Cost of a false positive (someone flagged who does "
                                       "not have the outcome), relative to a false negative")
        self.boot_b = QSpinBox()
        self.boot_b.setRange(0, 100_000)
        self.boot_b.setSingleStep(100)
        self.boot_b.setSpecialValueText("off")
        self.boot_b.setGroupSeparatorShown(True)
        self.boot_b.setToolTip("Bootstrap resamples B (0 = off). With B > 0, Compare "
                               "resamples the rows B times and shows the SD of every cell.")
        self.boot_seed = QSpinBox()
        self.boot_seed.setRange(0, 2_147_483_647)
        self.boot_seed.setValue(self.state.seed("decision"))
        self.boot_seed.setToolTip("Random seed of the bootstrap: the same seed, data and "
                                  "scenarios give the same results. Saved in the project and "
                                  "the workbook.")
        self.compare_button = QPushButton("Compare")
        self.compare_button.setShortcut(QKeySequence("F5"))
        self.compare_button.setToolTip("Compare every scenario now, with the bootstrap when B > "
                                       "0 (F5). Without a bootstrap the table updates by itself.")
        self.compare_button.clicked.connect(self.compare_now)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color:#404040")
        for w in (QLabel("Cost FN"), self.cost_fn, QLabel(": FP"), self.cost_fp, 12,
                  QLabel("Bootstrap"), self.boot_b, QLabel("Seed"), self.boot_seed,
                  self.compare_button):
            bl.addSpacing(w) if isinstance(w, int) else bl.addWidget(w)
        bl.addWidget(self.status, 1)
        self.cost_fn.valueChanged.connect(lambda _v: self._update())
        self.cost_fp.valueChanged.connect(lambda _v: self._update())
        return box

    def _build_scenarios(self) -> QWidget:
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 4, 0)
        sbox = QGroupBox("Scenarios")
        sl = QVBoxLayout(sbox)
        sl.setContentsMargins(4, 4, 4, 4)
        self.list = QTableWidget(0, 2)  # an editor (names are edited in place)
        self.list.setHorizontalHeaderLabels(["Scenario", "Rule"])
        self.list.horizontalHeaderItem(0).setToolTip("The scenario's name: double-click (or "
                                                     "Rename) to change it")
        self.list.horizontalHeaderItem(1).setToolTip("The decision rule; hover for where it "
                                                     "came from")
        self.list.setAccessibleName("Scenarios")
        self.list.verticalHeader().hide()
        self.list.verticalHeader().setDefaultSectionSize(26)
        self.list.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.list.setSelectionMode(QAbstractItemView.SingleSelection)
        self.list.setEditTriggers(QAbstractItemView.DoubleClicked | QAbstractItemView.EditKeyPressed)
        self.list.setWordWrap(False)
        self.list.setTextElideMode(Qt.ElideMiddle)
        lh = self.list.horizontalHeader()
        lh.setSectionResizeMode(0, QHeaderView.Interactive)
        lh.setStretchLastSection(True)
        self.list.setColumnWidth(0, 128)
        self.list.itemChanged.connect(self._list_item_changed)
        self.list.itemSelectionChanged.connect(self._selection_changed)
        sl.addWidget(self.list, 1)
        tools = QHBoxLayout()
        tools.setSpacing(4)
        buttons = []
        for text, tip, action in (
                ("▲ Up", "Move the selected scenario one column to the left",
                 lambda: self.move(self.selected_row(), -1)),
                ("▼ Down", "Move the selected scenario one column to the right",
                 lambda: self.move(self.selected_row(), 1)),
                ("Rename", "Rename the selected scenario (F2)", self._rename_clicked),
                ("Delete", "Remove the selected scenario (Delete). The baseline cannot be "
                           "removed.", lambda: self.delete(self.selected_row())),
                ("Proposed", "Mark the selected scenario as the option proposed to the meeting: "
                             "the workbook's Summary names it and says what it changes for each "
                             "group", None)):
            b = QToolButton()
            b.setText(text)
            b.setToolButtonStyle(Qt.ToolButtonTextOnly)
            b.setMinimumHeight(26)
            b.setToolTip(tip)
            if action is not None:
                b.clicked.connect(action)
            tools.addWidget(b)
            buttons.append(b)
        (self.up_button, self.down_button, self.rename_button, self.delete_button,
         self.proposed_button) = buttons
        self.proposed_button.setCheckable(True)
        self.proposed_button.clicked.connect(lambda on: self.mark_proposed(self.selected_row(), on))
        QShortcut(QKeySequence.Delete, self.list, activated=lambda: self.delete(self.selected_row()),
                  context=Qt.WidgetShortcut)
        tools.addStretch(1)
        sl.addLayout(tools)
        self.hint = QLabel("Only the baseline so far. Add options with <b>Add as scenario…</b> "
                           "on the Tiers &amp; thresholds page (rules you define), the Audit "
                           "page (the thresholds in force) or an engine's page.")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color:#6b4e00; background:#fff6db; border:1px solid #f0dc9c; "
                                "padding:5px")
        sl.addWidget(self.hint)
        ll.addWidget(sbox, 3)
        nbox = QGroupBox("Notes")
        nl = QVBoxLayout(nbox)
        nl.setContentsMargins(4, 4, 4, 4)
        self.notes_label = QLabel()
        self.notes_label.setStyleSheet("color:#404040")
        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText("Your notes on this option: why it is on the table, what "
                                      "the meeting should know. They go to the Summary sheet.")
        self.notes.setToolTip("Notes on the selected scenario, saved in the project and printed "
                              "on the workbook's Summary sheet")
        self.notes.setAccessibleName("Notes on the selected scenario")
        self.notes.textChanged.connect(self._notes_edited)
        nl.addWidget(self.notes_label)
        nl.addWidget(self.notes, 1)
        ll.addWidget(nbox, 2)
        return left

    def _cost_spin(self, tip: str) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(0.0, 1_000_000.0)
        spin.setDecimals(2)
        spin.setValue(1.0)
        spin.setToolTip(tip + ". The expected cost row uses FN cost × FN + FP cost × FP per "
                              "person.")
        return spin

    def _check(self, text: str, tip: str, on: bool) -> QCheckBox:
        box = QCheckBox(text)
        box.setChecked(on)
        box.setToolTip(tip)
        box.toggled.connect(lambda _on: self._fill_table())
        return box

    def _build_table_tab(self) -> None:
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(2, 4, 2, 2)
        self.table = DecisionView("Decision table", "Measures as rows, scenarios as columns. "
                                  "Hover a cell for the baseline's value and the difference.")
        v.addWidget(self.table, 1)
        row = QHBoxLayout()
        row.setSpacing(6)
        self.by_group = self._check("Rates by group", "Show every group's rates, or only the "
                                    "overall rates", True)
        self.show_ci = self._check("95 % intervals", "Show each rate's and fairness measure's 95 "
                                   "% interval: exact binomial (Clopper–Pearson) for rates; "
                                   "bootstrap percentile for fairness measures after Compare "
                                   "with B > 0 (else “not estimated”)", True)
        self.show_diff = self._check("Show differences", "Show each scenario's difference from "
                                     "the baseline instead of its value (the value stays in the "
                                     "tooltip)", False)
        self.show_sd = self._check("SD", "Show the bootstrap standard deviation next to each "
                                   "value", True)
        self.show_sd.setEnabled(False)
        for b in (self.by_group, self.show_ci, self.show_diff, self.show_sd):
            row.addWidget(b)
        row.addStretch(1)
        for text, color, tip in LEGEND:
            c = QColor(color)
            swatch = QLabel(text)
            swatch.setToolTip(tip + ". The stronger the tint, the larger the difference.")
            swatch.setStyleSheet(f"background: rgba({c.red()},{c.green()},{c.blue()},"
                                 f"{MAX_ALPHA}); border:1px solid #bbb; padding:1px 6px; "
                                 "color:#000")
            row.addWidget(swatch)
        v.addLayout(row)
        self.tabs.addTab(w, "Decision table")
        self.tabs.setTabToolTip(0, "Every measure, scenario by scenario")

    def _build_tiers_tab(self) -> None:
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(2, 4, 2, 2)
        self.tiers_label = QLabel()
        self.tiers_label.setWordWrap(True)
        v.addWidget(self.tiers_label)
        self.tiers = ResultTable("Tiers of the selected scenario", "Rows and people per tier "
                                 "and group, and calibration per tier", sortable=False)
        v.addWidget(self.tiers, 1)
        self.tabs.addTab(w, "Tiers (selected)")
        self.tabs.setTabToolTip(2, "Rows and people per tier and group, and calibration per "
                                   "tier, of the scenario selected on the left")

    # ================================================================ the scenarios
    def cost_ratio(self) -> tuple[float, float]:
        return float(self.cost_fn.value()), float(self.cost_fp.value())

    def baseline_values(self) -> list[float]:
        """The group-agnostic thresholds in force. With group-specific thresholds: the
        group-agnostic rules they came with (when the rules were set with them), else the
        last group-agnostic thresholds in force, else the default threshold."""
        st, d = self.state, self.state.data
        if not st.group_specific:
            return [float(v) for v in np.sort(np.ravel(st.thresholds))]
        if d is None:
            return [0.5]
        last = self._last_agnostic if self._last_agnostic and self._last_agnostic[0] is d else None
        if last is None or settings_key(st.threshold_rules or []) != last[2]:
            try:  # the rules came with these thresholds
                rules = [ThresholdRule.from_dict(r) for r in st.threshold_rules or []]
                values = sorted(float(r.resolve(d)) for r in rules)
                if values and all(math.isfinite(v) for v in values):
                    return values
            except (FairDeskError, KeyError, TypeError, ValueError):
                pass
        if last is not None:
            return list(last[1])
        return [float(default_threshold(d)[0])]

    def baseline_scenario(self) -> Scenario:
        s = baseline(self.baseline_values(), BASELINE_NAME)
        if self.state.group_specific:
            s.origin["note"] = ("the thresholds in force are group-specific; the baseline is "
                                "the group-agnostic rule they started from")
        s.notes = self.baseline_notes
        return s

    def list_scenarios(self) -> list[Scenario]:
        """The rows of the scenario list: the baseline, then the state's scenarios."""
        return [self.baseline_scenario()] + list(self.state.scenarios)

    def _wanted(self):
        d = self.state.data
        base = self.baseline_scenario()
        cols, keys, excluded, col_of_row = [base], [rule_key(base)], {}, {0: 0}
        for i, s in enumerate(self.state.scenarios):
            problem = scenario_problem(s, d)
            if problem:
                excluded[s.name] = problem
                continue
            col_of_row[i + 1] = len(cols)
            cols.append(s)
            keys.append(rule_key(s))
        return cols, keys, (d, keys[0], self.cost_ratio()), excluded, col_of_row

    def _store(self, comp: Comparison, keys, ctx) -> None:
        if self.cache.store(comp, keys, ctx):
            self._note = ("Bootstrap cleared: the scenarios, thresholds or cost changed. Press "
                          "Compare to run it again.")

    # ================================================================ updating
    def _on_data_changed(self) -> None:
        self.cache.clear()
        self._note = ""
        if self.state.data is not None and "decision" in self.state.seeds:
            with QSignalBlocker(self.boot_seed):
                self.boot_seed.setValue(int(self.state.seeds["decision"]))
        self._remember_agnostic()
        self._update()

    def _on_thresholds_changed(self) -> None:
        self._remember_agnostic()
        self._update()

    def _remember_agnostic(self) -> None:
        d = self.state.data
        if d is not None and not self.state.group_specific:
            self._last_agnostic = (d, [float(v) for v in np.sort(np.ravel(self.state.thresholds))],
                                   settings_key(self.state.threshold_rules or []))

    def _on_scenarios_changed(self) -> None:
        if not self._notes_emit:  # our own notes edit: nothing to recompute or redraw
            self._update()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._dirty:
            QTimer.singleShot(0, self._update)

    def _update(self, force: bool = False) -> None:
        """Show the comparison for the current scenarios, computing what is missing."""
        d = self.state.data
        if d is None or d.label is None:
            self.comp = None
            self.excluded, self._col_of_row = {}, {0: 0}
            self.empty.setText("Open a data file and map its columns (score, outcome, group) to "
                               "compare decision options." if d is None else
                               "Comparing options needs outcomes: map an outcome (label) column "
                               "on the Data page.")
            self.stack.setCurrentIndex(0)
            return
        self.stack.setCurrentIndex(1)
        cols, keys, ctx, excluded, col_of_row = self._wanted()
        self.excluded, self._col_of_row = excluded, col_of_row
        self._fill_list()
        view = None if force else self.cache.view(cols, keys, ctx)
        if view is not None:
            self._dirty = False
            self._show(view)
        elif self._job is not None:  # the running job's result will call _update again
            self._dirty = True
            self._set_status()
        elif d.n <= SYNC_ROWS:
            part_cols, part_keys, base = self.cache.part(cols, keys, ctx, force)
            try:
                comp = compare(d, part_cols, cost_ratio=ctx[2], reliability=self._reliability())
            except FairDeskError as err:
                self._note = f"Could not compare: {err}"
                self._dirty = False
                self._show(None)
                return
            self._store(*self.cache.merged(base, comp, part_keys, keys), ctx)
            self._dirty = False
            self._show(self.cache.view(cols, keys, ctx))
        elif self.isVisible() or force:
            self._start_job(0)
        else:  # large data: compare when the page is shown (or exported)
            self._dirty = True
            self._set_status()

    def compare_now(self) -> None:
        """The Compare button: compare again, with the bootstrap when B > 0."""
        d = self.state.data
        if d is None or d.label is None or self._job is not None:
            return
        B = int(self.boot_b.value())
        if B >= 2:
            self._start_job(B)
        elif B == 1:
            self._note = "Use at least 2 bootstrap resamples (0 = off)."
            self._set_status()
        elif d.n > SYNC_ROWS:
            self._start_job(0)
        else:
            self._update(force=True)

    def _start_job(self, B: int) -> None:
        cols, keys, ctx, _excluded, _cols = self._wanted()
        part_cols, part_keys, base = self.cache.part(cols, keys, ctx, force=bool(B))
        seed = int(self.boot_seed.value())
        if B:
            self.state.seeds["decision"] = seed
        self._job_boot = bool(B)
        self.compare_button.setEnabled(False)
        self._note = (f"Bootstrap of {B:,} resamples (seed {seed}) running… Cancel in the status "
                      "bar (Esc)." if B else "Comparing the scenarios…")
        self._set_status()
        self._job = self.worker.start(
            compare, ctx[0], part_cols, cost_ratio=ctx[2], bootstrap=B, seed=seed,
            reliability=self._reliability(),
            title="Bootstrap of the decision table" if B else "Comparing the scenarios",
            on_result=lambda comp, k=part_keys, c=ctx, b=base, w=keys: self._job_done(comp, k, c,
                                                                                      b, w),
            on_error=self._job_failed, on_cancel=self._job_cancelled)

    def _job_done(self, comp: Comparison, keys, ctx, base=None, wanted=()) -> None:
        self._job = None
        self.compare_button.setEnabled(True)
        if ctx[0] is not self.state.data:
            self._note = "Results discarded: the data changed while they were computed."
            self._update()
            return
        boot = comp.bootstrap is not None
        if base is not None and (self.cache.full is not base[0]
                                 or not same_context(ctx, self.cache.ctx)):
            base = None  # the comparison it completes was replaced meanwhile: keep it alone
        comp, keys = self.cache.merged(base, comp, keys, wanted)
        self.cache.store(comp, keys, ctx)
        cols, wanted, now, _e, _c = self._wanted()
        covered = same_context(now, ctx) and all(k in keys for k in wanted)
        if boot and covered:
            self._note = (f"Bootstrap: {comp.bootstrap['resamples']:,} resamples, seed "
                          f"{comp.seed}.")
        elif boot:
            self._note = ("Bootstrap results discarded: the scenarios, thresholds or cost changed "
                          "while it ran. Press Compare to run it again.")
        else:
            self._note = ""
        self._update()

    def _job_failed(self, message: str, details: str) -> None:
        self._job_ended("The comparison failed; see the message.")
        self.worker.failed.emit(message, details)

    def _job_cancelled(self) -> None:
        self._job_ended("Cancelled: press Compare to run it again.")

    def _job_ended(self, note: str) -> None:
        self._job = None
        self.compare_button.setEnabled(True)
        self._note = note
        self._set_status()

    def _ensure_current(self) -> Comparison | None:
        """The comparison for the current scenarios, computed now if needed (export)."""
        d = self.state.data
        if d is None or d.label is None:
            return None
        cols, keys, ctx, _e, _c = self._wanted()
        view = self.cache.view(cols, keys, ctx)
        if view is None:
            part_cols, part_keys, base = self.cache.part(cols, keys, ctx)
            comp = compare(d, part_cols, cost_ratio=ctx[2], reliability=self._reliability())
            self._store(*self.cache.merged(base, comp, part_keys, keys), ctx)
            view = self.cache.view(cols, keys, ctx)
            self._show(view)
        return view

    def _reliability(self) -> Reliability:
        """The groups the fairness measures compare (the Data page's minimum group size)."""
        return Reliability(min_group_size=int(getattr(self.state, "min_group_size", 30)))

    # ================================================================ showing
    def _show(self, comp: Comparison | None) -> None:
        self.comp = comp
        self.show_sd.setEnabled(comp is not None and comp.bootstrap is not None)
        self._fill_table()
        self._draw_chart()
        self._fill_tiers()
        self._set_status()

    def _set_status(self) -> None:
        parts = [status_text(self.comp, self.state.data)]
        if self._dirty and self._job is None:
            parts.append("Out of date: press Compare (F5).")
        elif self._job is not None and not self._job_boot:
            parts.append("Updating…")
        if self.excluded:
            parts.append("Not compared: " + "; ".join(
                f"{html.escape(k)} ({html.escape(v)})" for k, v in self.excluded.items()) + ".")
        if self._note:
            parts.append(html.escape(self._note))
        self.status.setText(" ".join(p for p in parts if p))

    def _fill_table(self) -> None:
        comp = self.comp
        if comp is None:
            self.table.set_table(None)
            self.value_rows, self.row_of = [], {}
            return
        self.value_rows = comp.table_rows()
        table = decision_table(comp, compact=True, by_group=self.by_group.isChecked(),
                               intervals=self.show_ci.isChecked(),
                               sd=self.show_sd.isChecked(),
                               differences=self.show_diff.isChecked())
        self.table.set_table(table)
        self.row_of = {row["index"]: r for r, row in enumerate(table.rows) if "index" in row}

    # --- the scenario list
    def _fill_list(self) -> None:
        scen = self.list_scenarios()
        sel = self.selected_row()
        dec = getattr(self.state.data, "score_decimals", None)
        with QSignalBlocker(self.list):
            self.list.setRowCount(len(scen))
            for r, s in enumerate(scen):
                for c in (0, 1):
                    if self.list.item(r, c) is None:
                        self.list.setItem(r, c, QTableWidgetItem())
                name, rule = self.list.item(r, 0), self.list.item(r, 1)
                name.setText(s.name)
                origin = ", ".join(f"{k}: {v}" for k, v in s.origin.items()
                                   if k not in ("rules", "proposed") and not isinstance(v, (dict, list)))
                font = name.font()
                font.setBold(r == 0)
                font.setItalic(s.name in self.excluded and r > 0)
                name.setFont(font)
                editable = Qt.ItemIsEditable if r else Qt.NoItemFlags
                name.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable | editable)
                name.setToolTip("The baseline: the group-agnostic thresholds in force. It is "
                                "always the first column and cannot be renamed or removed."
                                if r == 0 else f"{s.name} — double-click to rename")
                rule.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable)
                problem = self.excluded.get(s.name) if r > 0 else None
                if problem:
                    rule.setText("⚠ not compared: " + problem)
                    rule.setForeground(QBrush(QColor("#a40000")))
                    name.setForeground(QBrush(GREY))
                else:
                    # the proposed option says so where the analyst looks (not in its name,
                    # which stays editable)
                    rule.setText(("Proposed · " if s.origin.get("proposed") else "")
                                 + rule_text(s, dec))
                    rule.setForeground(TEXT)
                    name.setForeground(TEXT)
                tip = f"<b>{html.escape(s.name)}</b><br>{html.escape(s.describe())}"
                if origin:
                    tip += f"<br>From: {html.escape(origin)}"
                if problem:
                    tip += f"<br><span style='color:#a40000'>Not compared: {html.escape(problem)}</span>"
                rule.setToolTip(tip)
        self.hint.setVisible(len(scen) == 1)
        if self.list.rowCount():
            target = min(max(sel, 0), self.list.rowCount() - 1)
            if self.list.currentRow() != target or not self.list.selectedItems():
                self.list.selectRow(target)
        self._update_buttons()
        current = self._target(self.selected_row())
        if current is not self._notes_for and not (current == "baseline" == self._notes_for):
            self._flush_notes()
            self._load_notes()

    def selected_row(self) -> int:
        rows = self.list.selectionModel().selectedRows() if self.list.selectionModel() else []
        if rows:
            return rows[0].row()
        return max(self.list.currentRow(), 0)

    def select(self, row: int) -> None:
        self.list.selectRow(row)

    def _update_buttons(self) -> None:
        r = self.selected_row()
        n = len(self.state.scenarios)
        self.up_button.setEnabled(r > 1)
        self.down_button.setEnabled(1 <= r < n)
        for b in (self.rename_button, self.delete_button, self.proposed_button):
            b.setEnabled(r >= 1)
        target = self._target(r)
        self.proposed_button.setChecked(bool(r >= 1 and target not in (None, "baseline")
                                             and target.origin.get("proposed")))

    def _selection_changed(self) -> None:
        self._flush_notes()
        self._update_buttons()
        self._load_notes()
        self._fill_tiers()
        self._draw_chart()

    def _target(self, row: int):
        """What list row ``row`` is: "baseline", a Scenario of the state, or None."""
        if row == 0:
            return "baseline"
        if 1 <= row <= len(self.state.scenarios):
            return self.state.scenarios[row - 1]
        return None

    def _load_notes(self) -> None:
        """Show the selected scenario's notes in the editor."""
        target = self._target(self.selected_row())
        self._notes_for = target
        self._loading_notes = True
        try:
            self.notes.setPlainText("" if target is None else self.baseline_notes
                                    if target == "baseline" else target.notes)
        finally:
            self._loading_notes = False
        self.notes.setEnabled(target is not None)
        name = BASELINE_NAME if target == "baseline" else getattr(target, "name", "")
        self.notes_label.setText(f"On <b>{html.escape(name)}</b>:")

    # --- editing (through state.set_scenarios, so projects save it)
    def rename(self, row: int, name: str) -> str | None:
        """Rename the scenario of list row ``row`` (≥ 1); a name in use gets a number.
        Returns the name given, or None (the baseline, or an empty name)."""
        name = " ".join(str(name).split())
        if row < 1 or row > len(self.state.scenarios) or not name:
            self._fill_list()
            return None
        scen = list(self.state.scenarios)
        s = scen[row - 1]
        used = {o.name for o in scen if o is not s} | {BASELINE_NAME}
        base, n = name, 2
        while name in used:
            name = f"{base} ({n})"
            n += 1
        if name == s.name:
            self._fill_list()
            return name
        s.name = name
        self.state.set_scenarios(scen)
        return name

    def mark_proposed(self, row: int, on: bool = True) -> None:
        """Mark the scenario of list row ``row`` as the proposed option (at most one is);
        saved with the project, named on the workbook's Summary."""
        scen = list(self.state.scenarios)
        if row < 1 or row > len(scen):
            return
        for i, s in enumerate(scen):
            if i == row - 1 and on:
                s.origin["proposed"] = True
            else:
                s.origin.pop("proposed", None)
        self.state.set_scenarios(scen)
        self.list.selectRow(row)
        self._update_buttons()

    def move(self, row: int, delta: int) -> bool:
        scen = list(self.state.scenarios)
        new = row + delta
        if row < 1 or row > len(scen) or new < 1 or new > len(scen):
            return False
        scen[row - 1], scen[new - 1] = scen[new - 1], scen[row - 1]
        self.list.selectRow(new)  # keep the moved scenario selected
        self.state.set_scenarios(scen)
        self.list.selectRow(new)
        return True

    def delete(self, row: int) -> bool:
        scen = list(self.state.scenarios)
        if row < 1 or row > len(scen):
            return False
        self._flush_notes()
        removed = scen.pop(row - 1)
        self.state.set_scenarios(scen)
        self.list.selectRow(min(row, len(scen)))
        win = self.window()
        if hasattr(win, "statusBar"):
            win.statusBar().showMessage(f"Scenario “{removed.name}” removed", 5000)
        return True

    def set_notes(self, row: int, text: str) -> None:
        """Notes of list row ``row`` (0 = the baseline, saved with the page's settings)."""
        self._set_notes(self._target(row), text)
        if row == self.selected_row():
            self._load_notes()

    def _set_notes(self, target, text: str) -> None:
        if target == "baseline":
            self.baseline_notes = text
        elif target is not None and any(target is s for s in self.state.scenarios):
            target.notes = text
            self._notes_emit = True
            try:
                self.state.set_scenarios(self.state.scenarios)
            finally:
                self._notes_emit = False
        if self.comp is not None:
            for s in self.comp.scenarios[1:]:
                if s is target:
                    s.notes = text
            if target == "baseline":
                self.comp.scenarios[0].notes = text
            self._fill_table()  # the scenario's header tooltip shows its notes

    def _notes_edited(self) -> None:
        if self._loading_notes or self._notes_for is None:
            return
        text = self.notes.toPlainText()
        if self._notes_for == "baseline":
            self.baseline_notes = text
        else:
            self._notes_for.notes = text  # at once, so a project saved now has it
        self._pending_notes = (self._notes_for, text)
        self._notes_timer.start()

    def _flush_notes(self) -> None:
        pending, self._pending_notes = self._pending_notes, None
        self._notes_timer.stop()
        if pending is not None:
            self._set_notes(*pending)

    def _rename_clicked(self) -> None:
        r = self.selected_row()
        if r >= 1:
            self.list.editItem(self.list.item(r, 0))

    def _list_item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() != 0:
            return
        row, text = item.row(), item.text()
        # after the editor has closed: renaming rebuilds the list
        QTimer.singleShot(0, lambda: self.rename(row, text))

    # --- the chart
    def chart_points(self) -> list[dict]:
        """The chart's points: name, x (%), y, and their bootstrap SDs (NaN without)."""
        return self.chart.points(self.comp)

    @property
    def _chart_items(self) -> list:
        return self.chart.items

    def _selected_column(self) -> int | None:
        col = self._col_of_row.get(self.selected_row())
        return col if self.comp is not None and col is not None and \
            col < len(self.comp.scenarios) else None

    def _draw_chart(self) -> None:
        col = self._selected_column()
        self.chart.draw(self.comp, self.comp.scenarios[col].name if col is not None else None)

    def save_plot(self, path):
        return self.chart.save(path)

    # --- tiers of the selected scenario
    def _fill_tiers(self) -> None:
        comp, col, r = self.comp, self._selected_column(), self.selected_row()
        if col is None:
            self.tiers.set_table(None)
            scen = self.list_scenarios()
            name = scen[r].name if 0 <= r < len(scen) else ""
            self.tiers_label.setText(f"{html.escape(name)} is not compared: "
                                     f"{html.escape(self.excluded.get(name, ''))}"
                                     if name in self.excluded else "")
            return
        s, m, d = comp.scenarios[col], comp.metrics[col], self.state.data
        self.tiers_label.setText(f"<b>{html.escape(s.name)}</b>: "
                                 f"{html.escape(rule_text(s, d.score_decimals))}.<br>"
                                 f"{m.n_tiers} tiers, S1 the lowest risk. "
                                 f"{html.escape(flagged_tiers(s, m.n_tiers))}")
        self.tiers.set_table(tier_table(comp, col, weighted=d.weighted,
                                        people_decimals=d.people_decimals))

    # ================================================================ settings and export
    def settings(self) -> dict:
        return {"cost_ratio": list(self.cost_ratio()),
                "fairness": self.fair_combo.currentData(),
                "x_axis": self.x_combo.currentData(),
                "bootstrap": int(self.boot_b.value()),
                "seed": int(self.boot_seed.value()),
                "rates_by_group": bool(self.by_group.isChecked()),
                "show_differences": bool(self.show_diff.isChecked()),
                "baseline_notes": self.baseline_notes,
                "tab": self.tabs.currentIndex()}

    def apply_settings(self, settings: dict) -> None:
        s = settings or {}
        widgets = (self.cost_fn, self.cost_fp, self.fair_combo, self.x_combo, self.boot_b,
                   self.boot_seed, self.by_group, self.show_diff)
        blockers = [QSignalBlocker(w) for w in widgets]
        try:
            if "cost_ratio" in s:
                fn, fp = (float(x) for x in s["cost_ratio"])
                self.cost_fn.setValue(fn)
                self.cost_fp.setValue(fp)
            for combo, k in ((self.fair_combo, "fairness"), (self.x_combo, "x_axis")):
                i = combo.findData(s.get(k))
                if i >= 0:
                    combo.setCurrentIndex(i)
            if "bootstrap" in s:
                self.boot_b.setValue(int(s["bootstrap"]))
            if "seed" in s:
                self.boot_seed.setValue(int(s["seed"]))
                self.state.seeds["decision"] = int(s["seed"])
            if "rates_by_group" in s:
                self.by_group.setChecked(bool(s["rates_by_group"]))
            if "show_differences" in s:
                self.show_diff.setChecked(bool(s["show_differences"]))
        finally:
            for b in blockers:
                b.unblock()
        if "baseline_notes" in s:
            self.baseline_notes = str(s["baseline_notes"] or "")
        if "tab" in s:
            self.tabs.setCurrentIndex(int(s["tab"]))
        self._update()
        self._selection_changed()

    def export_settings(self) -> dict:
        if self.state.data is None:
            return {}
        fn, fp = self.cost_ratio()
        dec = self.state.data.score_decimals
        out = {"Cost ratio (FN:FP)": f"{fn:g}:{fp:g}",
               "Baseline": rule_text(baseline(self.baseline_values()), dec),
               "Chart": f"{self.fair_combo.currentData()} against "
                        f"{X_AXES[self.x_combo.currentData()].lower()}"}
        comp = self.comp
        if comp is not None and comp.bootstrap is not None:
            out["Bootstrap"] = f"{comp.bootstrap['resamples']:,} resamples, seed {comp.seed}"
        else:
            out["Bootstrap"] = "off"
        for s in self.state.scenarios:
            origin = s.origin.get("engine", "")
            seed = s.origin.get("seed")
            out[f"Scenario {s.name}"] = (rule_text(s, dec) + (f" (from {origin})" if origin else "")
                                         + (f", seed {seed}" if seed is not None else ""))
        if self.excluded:
            out["Not compared"] = "; ".join(f"{k}: {v}" for k, v in self.excluded.items())
        return out

    def export_tables(self) -> list:
        """The meeting workbook's tables (Summary, Comparison with its chart, Decision table,
        two sheets per scenario); [] until at least one scenario is added."""
        from ...reports.meeting_report import meeting_tables

        if self.state.data is None or self.state.data.label is None or not self.state.scenarios:
            return []
        self._flush_notes()
        try:
            comp = self._ensure_current()
        except FairDeskError as err:
            self._note = f"Could not compare: {err}"
            self._set_status()
            return []
        if comp is None:
            return []
        return meeting_tables(comp, engine_tables=[], data=self.state.data,
                              source=self.state.table.source if self.state.table else None)
