"""Recall balancing: a program that can take only K people (Rodolfa et al., LA City Attorney).

The harm to avoid is leaving out people with need, so the page balances recall — the share
of each group's people with the outcome who are on the list — equally, or in proportion to
each group's prevalence relative to a reference group, either within K people (current
scale) or by adding people to the top K (expanded scale). The five scenarios of the paper's
Figure 4 are computed together; the "policy to examine" choices pick the one shown by group
and highlighted in the table and charts. The engine is fairdesk.engines.recall_balance; this
page only asks for settings and shows its results.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QSignalBlocker, Qt, QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLabel, QTextBrowser, QVBoxLayout, QWidget

from ...engines.recall_balance import DESCRIPTIONS, RecallResult, RecallSettings, run_recall
from ...errors import FairDeskError
from ...present.formats import format_difference, format_people, format_rate, is_missing
from ...reports.recall_report import detail_table, scenario_matrix
from ..palette import group_color, muted_css, swatch_html, swatch_icon
from ..table_model import ResultTable
from ..controls import (button, check, combo, message_label, page_header, settings_box,
                        side_by_side, spin, tab_pane, tabs, wrapped)
from ..dialogs import ask_output_path
from .base import Page, note_label
from .recall_plots import RecallPlots



def default_k(total_people: float) -> int:
    """150 as in the LA program when there are enough people; else a tenth of them."""
    if total_people >= 1500:
        return 150
    return max(1, int(round(total_people / 10)))


class RecallPage(Page):
    split_fraction = 0.57
    key = "recall"
    title = "Recall balancing"
    nav_tip = ("Recall balancing for a program that can take only K people: equal recall or "
               "recall proportional to prevalence, at the current or an expanded list size")

    def __init__(self, state, worker, parent=None):
        super().__init__(state, worker, parent)
        self.result: RecallResult | None = None
        self._result_data = None  # the AnalysisData the result belongs to
        self._ranked = None  # RankedGroups reused while the data and seed stay the same
        self._job = None
        self._rerun = False
        self._dirty = True
        self._error = ""
        self._timer = self.debounce(300, self.run)
        self._build_ui()
        state.dataChanged.connect(self._on_data_changed)
        self._on_data_changed()


    # ================================================================ layout
    def _build_ui(self) -> None:
        outer = self.page_layout()
        page_header(outer, self.title,
                    "A program can take only K people. To avoid leaving out people with need in "
                    "some groups more than in others, balance <b>recall</b> — the share of each "
                    "group's people with the outcome who are on the list — equally or in "
                    "proportion to prevalence (Rodolfa et al., LA City Attorney).")
        controls = QHBoxLayout()
        controls.setSpacing(6)
        outer.addLayout(controls)

        prog, pl = settings_box("Program", "How many people the program can take, and the group "
                                           "proportional recall is measured against")
        self.target_combo = combo(
            [("List size K", "k"), ("Recall target", "recall")],
            "List size K: the program takes K people (the five scenarios of the paper).\nRecall "
            "target: each group's list takes the fewest of its top-ranked people whose recall "
            "reaches the target (the same rule as the expanded scale).", "Target")
        self.k_spin = spin(1, 2_000_000_000, 150, "K: how many people the program can take "
                           "(frequency weights count as people). The LA program took 150.",
                           "List size K", min_width=96)
        self.recall_spin = spin(0.1, 100.0, 30.0, "Recall target: the share of each group's "
                                "people with the outcome to reach (each group takes the fewest "
                                "people whose recall is at least the target)", "Recall target",
                                step=5.0, suffix=" %", decimals=1, min_width=96)
        self.ref_combo = combo([], "Reference group for recall proportional to prevalence: each "
                               "group's recall target is its prevalence ÷ this group's prevalence "
                               "times this group's recall", "Reference group", min_chars=14)
        pl.addWidget(QLabel("Target"), 0, 0)
        pl.addWidget(self.target_combo, 0, 1)
        pl.addWidget(self.k_spin, 0, 2)
        pl.addWidget(self.recall_spin, 0, 2)
        pl.addWidget(QLabel("Reference group"), 1, 0)
        pl.addWidget(self.ref_combo, 1, 1, 1, 2)
        self.small_sets_target = check(
            "Small groups may set the target",
            "Off (default): a group below the minimum group size (Data page) does not set the "
            "expanded-scale target (the highest recall in the top K) and cannot be the reference "
            "group; a note names it. On: it may, with a warning (its recall is noisy).",
            self._settings_edited)
        pl.addWidget(self.small_sets_target, 2, 0, 1, 3)
        controls.addWidget(prog, 3)

        pol, gl = settings_box("Policy to examine", "Every scenario is computed; these choose the "
                                                    "one shown by group and highlighted in the "
                                                    "table and charts")
        self.balance_combo = combo(
            [("Equal recall", "equal"), ("Proportional to prevalence", "proportional")],
            "Equal: every group reaches the same recall.\nProportional: each group's recall is "
            "its prevalence ratio (to the reference group) times the reference's recall.",
            "Balance")
        self.scale_combo = combo(
            [("Current (K people)", "current"), ("Expanded (top K + more)", "expanded")],
            "Current: K people in all, shared between the groups.\nExpanded: keep the top K and "
            "add the fewest people needed for every group to reach its target recall.", "Scale")
        gl.addWidget(QLabel("Balance"), 0, 0)
        gl.addWidget(self.balance_combo, 0, 1)
        gl.addWidget(QLabel("Scale"), 1, 0)
        gl.addWidget(self.scale_combo, 1, 1)
        controls.addWidget(pol, 3)

        ties, tl = settings_box("Ties", "People with the same score are ranked in a random "
                                        "order; the seed fixes it, so the same seed always gives "
                                        "the same lists")
        self.seed_spin = spin(0, 2_147_483_647, self.state.seed("recall", 0),
                              "Random seed of the order of tied scores. It is saved in the "
                              "project and written on the workbook's About sheet.", "Seed")
        self.run_button = button("Balance", "Compute every scenario now (Ctrl+Return). The page "
                                 "also recomputes by itself when you change a setting.", self.run,
                                 QKeySequence("Ctrl+Return"))
        tl.addWidget(QLabel("Seed"), 0, 0)
        tl.addWidget(self.seed_spin, 0, 1)
        tl.addWidget(self.run_button, 1, 0, 1, 2)
        controls.addWidget(ties, 1)

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.RichText)
        self.summary.setToolTip("The policy to examine in a sentence: list size, precision and "
                                "what it costs against the plain top K")
        outer.addWidget(self.summary)
        self.error_label = message_label()
        outer.addWidget(self.error_label)

        cl = self.add_empty_stack(outer, "Open a data file and map its columns (score, outcome, "
                                         "group) to balance recall.")
        self.splitter = side_by_side()
        cl.addWidget(self.splitter)
        self.table_tabs = tabs()
        self.plot_tabs = RecallPlots(self._show_error)
        self.plot_tabs.kReleased.connect(self._k_released)
        # the plots' parts, by the names the page's tests and settings use
        p = self.plot_tabs
        self.recall_panel, self.counts_panel = p.recall_panel, p.counts_panel
        self.at_k_panel, self.prec_panel = p.at_k_panel, p.prec_panel
        self.log_check, self.k_lines = p.log_check, p.k_lines
        self.fill_split(self.table_tabs, self.plot_tabs)
        self._build_tables()

        self.k_spin.valueChanged.connect(lambda _v: self.k_spin.setProperty("user_set", True))
        for w in (self.k_spin, self.seed_spin):
            w.valueChanged.connect(self._settings_edited)
        self.recall_spin.valueChanged.connect(self._settings_edited)
        self.ref_combo.currentIndexChanged.connect(self._settings_edited)
        self.target_combo.currentIndexChanged.connect(self._target_changed)
        self.balance_combo.currentIndexChanged.connect(lambda _i: self._refresh_chosen())
        self.scale_combo.currentIndexChanged.connect(lambda _i: self._refresh_chosen())
        self._target_changed(emit=False)

    def _build_tables(self) -> None:
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(2, 4, 2, 2)
        self.scen_table = ResultTable(
            "Recall scenarios", "The scenarios of the paper's Figure 4 side by side: list size, "
            "precision, and people and recall by group. Hover a title for its definition.",
            sortable=False)
        v.addWidget(self.scen_table, 1)
        self.scen_note = note_label()
        v.addWidget(self.scen_note)
        buttons = QHBoxLayout()
        self.csv_button = button(
            "Export lists (CSV)…", "Save who is on each scenario's list (id or spreadsheet row, "
            "group, score, outcome, one 1/0 column per scenario) as CSV. The Excel workbook "
            "(File ▸ Export) holds the same lists and the scenario table.", self._export_csv_dialog)
        self.xlsx_button = button(
            "Export workbook…", "Write the Excel decision tables of every page, with the scenario "
            "table, the charts' data and the lists of people", self._export_workbook_dialog)
        self.scenario_button = button(
            "Add as scenario", "Add the list of the policy examined (the highlighted column) to "
            "the Decision table, to compare it with other options", self.add_as_scenario)
        buttons.addWidget(self.scenario_button)
        buttons.addStretch(1)
        buttons.addWidget(self.csv_button)
        buttons.addWidget(self.xlsx_button)
        v.addLayout(buttons)
        self.table_tabs.addTab(w, "Scenarios")
        self.table_tabs.setTabToolTip(0, "The five scenarios (Top K, Expanded and Current, Equal "
                                         "and Proportional) in one table")

        w, v = tab_pane()
        self.detail_title = wrapped()
        v.addWidget(self.detail_title)
        self.detail_table = ResultTable("Policy by group", "The policy to examine, group by group")
        v.addWidget(self.detail_table, 1)
        self.table_tabs.addTab(w, "Policy by group")
        self.table_tabs.setTabToolTip(1, "Targets, recall, precision and the implied score "
                                         "threshold of each group under the chosen policy")

        self.notes = QTextBrowser()
        self.notes.setOpenLinks(False)
        self.notes.setToolTip("What to know about these results: groups left out, targets, "
                              "ties and edge cases")
        self.table_tabs.addTab(self.notes, "Notes")
        self.table_tabs.setTabToolTip(2, "Edge cases and how each scenario was reached")

    def showEvent(self, event) -> None:
        super().showEvent(event)  # the first split, in Page
        if self._dirty and self.state.data is not None:
            self._timer.start(0)

    # ================================================================ state
    @property
    def mode(self) -> str:
        return self.target_combo.currentData()

    @property
    def chosen_key(self) -> str:
        if self.result is None:
            return ""
        bal = self.balance_combo.currentData()
        if self.result.mode == "recall":
            return f"recall_{bal}"
        return f"{self.scale_combo.currentData()}_{bal}"

    def current_settings(self) -> RecallSettings:
        ref = self.ref_combo.currentData()
        small = dict(min_group_size=int(getattr(self.state, "min_group_size", 30)),
                     small_groups_set_target=self.small_sets_target.isChecked())
        if self.mode == "k":
            return RecallSettings(k=float(self.k_spin.value()), recall=None, reference=ref,
                                  seed=int(self.seed_spin.value()), **small)
        return RecallSettings(k=None, recall=self.recall_spin.value() / 100, reference=ref,
                              seed=int(self.seed_spin.value()), **small)

    def _target_changed(self, *_args, emit: bool = True) -> None:
        k = self.mode == "k"
        self.k_spin.setVisible(k)
        self.recall_spin.setVisible(not k)
        self.scale_combo.setEnabled(k)
        self.scale_combo.setToolTip(self.scale_combo.toolTip().split("\n\n")[0] + (
            "" if k else "\n\nWith a recall target there is no K to keep or expand."))
        if emit:
            self._settings_edited()

    def _settings_edited(self, *_args) -> None:
        self.state.seeds["recall"] = int(self.seed_spin.value())
        self._dirty = True
        if self.state.data is not None and self.isVisible():
            self._timer.start()

    def _on_data_changed(self) -> None:
        d = self.state.data
        self._ranked = None
        self.result = None
        self._result_data = None
        self._dirty = True
        self._set_error("")
        if d is None:
            self.empty.setText("Open a data file and map its columns (score, outcome, group) to "
                               "balance recall.")
            self.stack.setCurrentIndex(0)
            self.summary.setText("")
            return
        if d.label is None:
            self.empty.setText("Recall balancing needs an outcome (label) column: map one on "
                               "the Data page.")
            self.stack.setCurrentIndex(0)
            self.summary.setText("")
            return
        summary = d.group_summary()
        with QSignalBlocker(self.ref_combo):
            previous = self.ref_combo.currentData()
            self.ref_combo.clear()
            best, best_people = None, -1.0
            for g, item in enumerate(summary):
                self.ref_combo.addItem(swatch_icon(group_color(g)), item["group"], item["group"])
                i = self.ref_combo.count() - 1
                if item.get("positives", 0) <= 0:
                    self.ref_combo.model().item(i).setEnabled(False)
                    self.ref_combo.setItemData(i, "No one in this group has the outcome: its "
                                                  "prevalence is 0", Qt.ToolTipRole)
                elif item["weight"] > best_people:
                    best, best_people = item["group"], item["weight"]
            i = self.ref_combo.findData(previous) if previous is not None else -1
            if i < 0 or not self.ref_combo.model().item(i).isEnabled():
                i = self.ref_combo.findData(best)
            self.ref_combo.setCurrentIndex(max(i, 0))
        total = float(d.weight.sum())
        with QSignalBlocker(self.k_spin):
            if self.k_spin.property("user_set") is not True:
                self.k_spin.setValue(default_k(total))
        with QSignalBlocker(self.log_check):
            self.log_check.setChecked(self.k_spin.value() < total / 20)
        self.empty.setText("Balancing recall…")
        self.stack.setCurrentIndex(0)
        if self.isVisible():
            self._timer.start(0)

    def _set_error(self, text: str) -> None:
        self._error = text
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    # ================================================================ running
    def run(self) -> None:
        data = self.state.data
        if data is None or data.label is None:
            return
        if self._job is not None:
            self._rerun = True
            return
        self._timer.stop()
        self._dirty = False
        settings = self.current_settings()
        ranked = self._ranked if (self._ranked is not None and self._ranked[0] is data
                                  and self._ranked[1] == settings.seed) else None
        self._job = self.worker.start(run_recall, data, settings,
                                      ranked=None if ranked is None else ranked[2],
                                      title="Balancing recall",
                                      on_result=lambda res, d=data: self._done(res, d),
                                      on_error=self._failed, on_cancel=self._cancelled)

    def _finish_job(self) -> None:
        self._job = None
        if self._rerun:
            self._rerun = False
            self._timer.start(0)

    def _done(self, res: RecallResult, data) -> None:
        self._finish_job()
        self._apply_result(res, data)

    def _apply_result(self, res: RecallResult, data) -> None:
        if data is not self.state.data:
            return
        self._ranked = (data, res.settings.seed, res.ranked)
        self.result = res
        self._result_data = data
        self._set_error("")
        self.stack.setCurrentIndex(1)
        if not self._split_done:
            QTimer.singleShot(0, self._initial_split)
        self._refresh_all()

    def _failed(self, message: str, details: str) -> None:
        self._finish_job()
        if details:  # a bug, not a message for the analyst: the main window shows it
            self._show_error(message, details)
            return
        self._set_error(message)

    def _cancelled(self) -> None:
        self._finish_job()
        self._dirty = True
        self._set_error("Cancelled: press Balance to compute the scenarios again.")

    def ensure_result(self) -> RecallResult | None:
        """The result for the current data and settings, computed now if needed (export)."""
        data = self.state.data
        if data is None or data.label is None:
            return None
        if self.result is None or self._result_data is not data or self._dirty:
            ranked = self._ranked[2] if (self._ranked is not None and self._ranked[0] is data
                                         and self._ranked[1] == self.seed_spin.value()) else None
            try:
                res = run_recall(data, self.current_settings(), ranked=ranked)
            except FairDeskError as err:
                self._set_error(str(err))
                return None
            self._apply_result(res, data)
            self._dirty = False
        return self.result

    # ================================================================ showing results
    def _refresh_all(self) -> None:
        self._fill_scenarios()
        self._draw_bars()
        self._draw_curves()
        self._fill_notes()
        self._refresh_chosen()

    def _refresh_chosen(self) -> None:
        if self.result is None:
            return
        self._highlight_scenario()
        self._fill_detail()
        self._draw_bands()
        self._fill_summary()

    def _fill_summary(self) -> None:
        res = self.result
        s = res.scenarios[self.chosen_key]
        top = res.scenarios["top_k"]
        people = self._people_text
        parts = [f"<b>{html.escape(s.title)}</b>: {people(s.size)} people on the list"]
        if not is_missing(s.precision_all):
            parts.append(f"precision {format_rate(s.precision_all)}")
        if s.key != "top_k" and not is_missing(s.precision_cost):
            top_text = f"the plain top {people(top.size)} ({format_rate(top.precision_all)})"
            points = format_difference(abs(s.precision_cost)).lstrip("+")
            parts.append(f"as precise as {top_text}" if points.startswith("0.0 ") else
                         f"{points} {'below' if s.precision_cost > 0 else 'above'} {top_text}")
        recalls = [f"{swatch_html(g)} "
                   f"{html.escape(n)} {format_rate(s.recall[g])}"
                   for g, n in enumerate(res.group_names)]
        self.summary.setText(" · ".join(parts) + f"<br><span style='{muted_css()}'>Recall: "
                             + ", ".join(recalls) + "</span>")

    def _people_text(self, x: float) -> str:
        data = self.state.data
        return format_people(x, data.people_decimals if data is not None else 0)

    def _fill_scenarios(self) -> None:
        self.scen_table.set_table(scenario_matrix(self.result, self.chosen_key))
        self.scen_note.setText("prop. = recall proportional to prevalence. Cost vs top K: "
                               "precision points given up against the plain top K. Hover a value "
                               "for how it was reached; “undefined” means 0/0.")

    def _highlight_scenario(self) -> None:
        self._fill_scenarios()

    def _fill_detail(self) -> None:
        res = self.result
        s = res.scenarios[self.chosen_key]
        ref = res.group_names[res.reference]
        self.detail_title.setText(f"<b>{html.escape(s.title)}</b> — {html.escape(DESCRIPTIONS[s.key])}"
                                  f" Reference group for proportional recall: "
                                  f"<b>{html.escape(ref)}</b>.")
        data = self.state.data
        table = detail_table(res, [self.chosen_key], with_total=True,
                             score_decimals=data.score_decimals if data is not None else 4)
        table.columns = [c for c in table.columns if c.key != "scenario"]
        self.detail_table.set_table(table)

    def _fill_notes(self) -> None:
        res = self.result
        items = [f"<li>{html.escape(n)}</li>" for n in res.notes]
        for s in res.scenarios.values():
            for n in s.notes:
                items.append(f"<li><b>{html.escape(s.title)}</b>: {html.escape(n)}</li>")
        items.append("<li>Ties: people with the same score are ranked in a random order fixed by "
                     f"seed {res.settings.seed}; the same seed always gives the same lists.</li>")
        self.notes.setHtml("<ul style='margin-left:-20px'>" + "".join(items) + "</ul>")
        n_notes = sum(len(s.notes) for s in res.scenarios.values()) + len(res.notes)
        self.table_tabs.setTabText(2, f"Notes ({n_notes})")

    # ---------------------------------------------------------------- charts
    def _draw_bars(self) -> None:
        self.plot_tabs.draw_bars(self.result)

    def _draw_bands(self) -> None:
        if self.result is not None:
            self.plot_tabs.draw_band(self.result.keys.index(self.chosen_key))

    def _draw_curves(self) -> None:
        self.plot_tabs.draw_curves(self.result, self._people_text)

    def _k_released(self, k: int) -> None:
        if self.result is None or self.result.mode != "k":
            return
        self.k_spin.setProperty("user_set", True)
        self.k_spin.setValue(k)  # recomputes

    # ================================================================ export
    def _export_csv_dialog(self) -> None:
        res = self.ensure_result()
        if res is None or self.state.table is None:
            return
        path = ask_output_path(self, "Export the lists of people", self.state.table,
                               "recall lists.csv", "CSV (*.csv)")
        if path:
            self.export_lists_csv(path)

    def export_lists_csv(self, path: str):
        from ...reports.recall_report import write_selection_csv

        res = self.ensure_result()
        if res is None:
            return None
        source = self.state.table.source.path if self.state.table is not None else None
        return self.worker.start(write_selection_csv, path, res, self.state.data, source,
                                 title="Writing the lists",
                                 on_result=lambda p: self._status(f"Saved {p}"))

    def _export_workbook_dialog(self) -> None:
        win = self.window()
        if hasattr(win, "export_dialog"):
            win.export_dialog()

    def _status(self, text: str) -> None:
        win = self.window()
        if hasattr(win, "statusBar"):
            win.statusBar().showMessage(text, 8000)

    # ================================================================ settings
    def settings(self) -> dict:
        return {"target": self.mode, "k": int(self.k_spin.value()),
                "recall": float(self.recall_spin.value()) / 100,
                "reference": self.ref_combo.currentData(),
                "balance": self.balance_combo.currentData(),
                "scale": self.scale_combo.currentData(), "seed": int(self.seed_spin.value()),
                "log_k": bool(self.log_check.isChecked()),
                "table_tab": self.table_tabs.currentIndex(),
                "plot_tab": self.plot_tabs.currentIndex()}

    def apply_settings(self, settings: dict) -> None:
        s = settings or {}
        widgets = (self.target_combo, self.k_spin, self.recall_spin, self.ref_combo,
                   self.balance_combo, self.scale_combo, self.seed_spin, self.log_check)
        blockers = [QSignalBlocker(w) for w in widgets]
        if "target" in s:
            self.target_combo.setCurrentIndex(max(0, self.target_combo.findData(s["target"])))
        if s.get("k") is not None:
            self.k_spin.setValue(int(s["k"]))
            self.k_spin.setProperty("user_set", True)
        if s.get("recall") is not None:
            self.recall_spin.setValue(100 * float(s["recall"]))
        if s.get("reference") is not None:
            i = self.ref_combo.findData(s["reference"])
            if i >= 0:
                self.ref_combo.setCurrentIndex(i)
        for combo, key in ((self.balance_combo, "balance"), (self.scale_combo, "scale")):
            if key in s:
                combo.setCurrentIndex(max(0, combo.findData(s[key])))
        if "seed" in s:
            self.seed_spin.setValue(int(s["seed"]))
        if "log_k" in s:
            self.log_check.setChecked(bool(s["log_k"]))
        for b in blockers:
            b.unblock()
        if "table_tab" in s:
            self.table_tabs.setCurrentIndex(int(s["table_tab"]))
        if "plot_tab" in s:
            self.plot_tabs.setCurrentIndex(int(s["plot_tab"]))
        self._target_changed(emit=False)
        self.state.seeds["recall"] = int(self.seed_spin.value())
        self._dirty = True
        if self.state.data is not None and self.isVisible():
            self._timer.start(0)
        elif self.result is not None:
            self._refresh_chosen()

    def export_settings(self) -> dict:
        res = self.ensure_result() if self.state.data is not None else None
        if res is None:
            return {}
        from ...reports.recall_report import settings_text

        out = settings_text(res)
        out["Policy examined"] = res.scenarios[self.chosen_key].title
        return out

    def export_tables(self) -> list:
        res = self.ensure_result() if self.state.data is not None else None
        if res is None:
            return []
        from ...reports.recall_report import recall_tables

        return recall_tables(res, self.state.data)

    def add_as_scenario(self) -> str | None:
        """The examined policy's list as a Decision-table scenario (a selection of rows)."""
        from ...scenarios import Scenario

        res, data = self.result, self.state.data
        if res is None or data is None:
            return None
        key = self.chosen_key
        s = res.scenarios[key]
        rows = data.row_numbers[res.selected_rows(key)]
        scenario = Scenario(f"Recall: {s.title}", "selection", {"rows": [int(r) for r in rows]},
                            {"engine": "Recall balancing", "scenario": key,
                             "settings": res.settings.to_dict(), "seed": res.settings.seed})
        return self.state.add_scenario(scenario)
