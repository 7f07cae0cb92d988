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

import numpy as np
from PySide6.QtCore import QSignalBlocker, QTimer
from PySide6.QtWidgets import QCheckBox, QGroupBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ..palette import muted_css, title_html
from ...errors import FairDeskError
from ...metrics.fairness import Reliability
from ...reports.decision_tables import (X_AXES, ComparisonCache, baseline_thresholds,
                                        compared_columns, decision_table, export_settings,
                                        flagged_tiers, rule_text, same_context, settings_key,
                                        status_text, tier_table, unique_name)
from ...reports.over_time_report import decisions_over_time_table
from ...scenarios import Comparison, Scenario, baseline, compare
from ..table_model import ResultTable
from ..controls import side_by_side, tab_pane, tabs, wrapped
from .base import Page
# BETTER, WORSE, MOVED: the tints' colours (for tests)
from .decision_plots import (BETTER, MOVED, WORSE, DecisionChart, DecisionView,  # noqa: F401
                             NotesBox, ScenarioList, SettingsBox, tint_legend)

log = logging.getLogger("fairdesk.gui.decision")

SYNC_ROWS = 200_000  # up to this many rows the comparison runs on the GUI thread
BASELINE_NAME = "Baseline"


class DecisionPage(Page):
    key = "decision"
    title = "Decision table"
    nav_tip = ("Compare the decision options (scenarios) side by side on the same measures, "
               "with notes, and export the meeting workbook")
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
        self._notes_timer = self.debounce(400, self._flush_notes)
        self._build()
        state.dataChanged.connect(self._on_data_changed)
        state.thresholdsChanged.connect(self._on_thresholds_changed)
        state.scenariosChanged.connect(self._on_scenarios_changed)
        self._on_data_changed()


    # ================================================================ layout
    def _build(self) -> None:
        outer = self.page_layout()
        lay = self.add_empty_stack(outer)
        intro = QLabel("Every option on the same data and the same measures. The baseline "
                       "(the group-agnostic thresholds in force) is always first; add options "
                       "with <b>Add as scenario…</b> on the Tiers, Audit and engine pages. "
                       "Differences from the baseline are tinted.")
        intro.setWordWrap(True)
        intro.setStyleSheet(muted_css())
        lay.addWidget(QLabel(title_html(self.title)))
        lay.addWidget(intro)
        lay.addWidget(self._build_settings())
        self.splitter = side_by_side()
        lay.addWidget(self.splitter, 1)
        self.splitter.addWidget(self._build_scenarios())
        self.tabs = tabs()
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
        box = SettingsBox(self.state.seed("decision"))
        self.cost_fn, self.cost_fp, self.boot_b, self.boot_seed = (box.cost_fn, box.cost_fp,
                                                                   box.boot_b, box.boot_seed)
        self.compare_button, self.status = box.compare_button, box.status
        self.compare_button.clicked.connect(self.compare_now)
        self.cost_fn.valueChanged.connect(lambda _v: self._update())
        self.cost_fp.valueChanged.connect(lambda _v: self._update())
        return box

    def _build_scenarios(self) -> QWidget:
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 4, 0)
        self.scenario_list = sl = ScenarioList()
        self.list, self.hint = sl.list, sl.hint
        (self.up_button, self.down_button, self.rename_button, self.delete_button,
         self.proposed_button) = sl.buttons
        self.up_button.clicked.connect(lambda: self.move(self.selected_row(), -1))
        self.down_button.clicked.connect(lambda: self.move(self.selected_row(), 1))
        self.delete_button.clicked.connect(lambda: self.delete(self.selected_row()))
        sl.deleteRequested.connect(lambda: self.delete(self.selected_row()))
        self.proposed_button.clicked.connect(lambda on: self.mark_proposed(self.selected_row(), on))
        sl.renamed.connect(self.rename)
        self.list.itemSelectionChanged.connect(self._selection_changed)
        ll.addWidget(sl, 3)
        nbox = NotesBox()
        self.notes_label, self.notes = nbox.label, nbox.edit
        self.notes.textChanged.connect(self._notes_edited)
        ll.addWidget(nbox, 2)
        return left

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
        for label in tint_legend():
            row.addWidget(label)
        v.addLayout(row)
        self.tabs.addTab(w, "Decision table")
        self.tabs.setTabToolTip(0, "Every measure, scenario by scenario")

    def _build_tiers_tab(self) -> None:
        w, v = tab_pane()
        self.tiers_label = wrapped()
        v.addWidget(self.tiers_label)
        self.tiers = ResultTable("Tiers of the selected scenario", "Rows and people per tier "
                                 "and group, and calibration per tier", sortable=False)
        v.addWidget(self.tiers, 1)
        self.tabs.addTab(w, "Tiers (selected)")
        self.tabs.setTabToolTip(2, "Rows and people per tier and group, and calibration per "
                                   "tier, of the scenario selected on the left")
        self.periods_table = ResultTable("Each option in every period", "With a period column: "
                                         "every option applied to each period; the period a "
                                         "rule was chosen on is marked", sortable=False)
        self.tabs.addTab(self.periods_table, "Over periods")
        self.tabs.setTabToolTip(3, "Does the decision hold? Every option applied to each "
                                   "period (needs a period column on the Data page)")

    # ================================================================ the scenarios
    def cost_ratio(self) -> tuple[float, float]:
        return float(self.cost_fn.value()), float(self.cost_fp.value())

    def baseline_values(self) -> list[float]:
        """The group-agnostic thresholds in force (see decision_tables.baseline_thresholds)."""
        st = self.state
        return baseline_thresholds(st.data, st.thresholds, st.group_specific, st.threshold_rules,
                                   self._last_agnostic)

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
        cols, keys, excluded, col_of_row = compared_columns(
            self.baseline_scenario(), self.state.scenarios, self.state.data)
        return cols, keys, (self.state.data, keys[0], self.cost_ratio()), excluded, col_of_row

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
        elif d.n <= SYNC_ROWS and (self.isVisible() or force or not self.window().isVisible()):
            # small data compare at once, but not for a page nobody is looking at in a window
            # on screen: it compares when shown (a window not shown, a script, compares now)
            self._dirty = False
            try:
                self._compare_here(cols, keys, ctx, force)
            except FairDeskError as err:
                self._note = f"Could not compare: {err}"
                self._show(None)
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
        return self.cache.view(cols, keys, ctx) or self._compare_here(cols, keys, ctx)

    def _compare_here(self, cols, keys, ctx, force: bool = False) -> Comparison:
        """Compare what the last comparison lacks on the GUI thread, and show it."""
        part_cols, part_keys, base = self.cache.part(cols, keys, ctx, force)
        comp = compare(ctx[0], part_cols, cost_ratio=ctx[2], reliability=self._reliability())
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
        self._fill_periods()
        self._set_status()

    def _fill_periods(self) -> None:
        d = self.state.data
        have = self.comp is not None and d is not None and d.period is not None
        self.tabs.setTabEnabled(3, have)
        self.periods_table.set_table(decisions_over_time_table(self.comp.scenarios, d)
                                     if have else None)

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
        self.scenario_list.fill(self.list_scenarios(), self.excluded,
                                getattr(self.state.data, "score_decimals", None))
        self._update_buttons()
        current = self._target(self.selected_row())
        if current is not self._notes_for and not (current == "baseline" == self._notes_for):
            self._flush_notes()
            self._load_notes()

    def selected_row(self) -> int:
        return self.scenario_list.selected_row()

    def select(self, row: int) -> None:
        self.list.selectRow(row)

    def _update_buttons(self) -> None:
        target = self._target(self.selected_row())
        self.scenario_list.update_buttons(len(self.state.scenarios), target not in (
            None, "baseline") and bool(target.origin.get("proposed")))

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
        scen = list(self.state.scenarios)
        if row < 1 or row > len(scen) or not str(name).strip():
            self._fill_list()
            return None
        s = scen[row - 1]
        name = unique_name(name, {o.name for o in scen if o is not s} | {BASELINE_NAME})
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
        chart = f"{self.chart.key} against {X_AXES[self.chart.x_key].lower()}"
        return export_settings(self.state.data, self.comp, self.state.scenarios,
                               baseline(self.baseline_values()), self.cost_ratio(), chart,
                               self.excluded)

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
