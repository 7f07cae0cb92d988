"""Over time: does the decision hold? Each group's rates per period under every score column
(the score and its versions) and every Decision-table scenario, with exact 95 % intervals and
the changes between consecutive periods larger than their uncertainty (issue 20).

A thin view over :mod:`fairdesk.engines.over_time`: settings on top (what is shown, each score
column's threshold, the rate, the bands; a rule chosen on one period and added to the Decision
table), tables on the left (the shown series as lines, all rates, fairness, changes, versions)
with the flags in a notes panel, the plot on the right. The engine runs in the worker when the
page is shown and again (debounced) when a threshold or the scenario list changes; what is
shown (series, rate, bands) is only a view of the cached result.
"""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
from PySide6.QtCore import QEvent, QSignalBlocker, Qt, QTimer
from PySide6.QtWidgets import QDoubleSpinBox, QGridLayout, QLabel, QVBoxLayout, QWidget

from ...engines.chosen_rules import RULE_WORDS, choose_rule
from ...engines.over_time import over_time
from ...errors import FairDeskError
from ...jobs import NO_JOB
from ...present.formats import format_score, score_decimals, score_places
from ...reports.over_time_report import (RATE_TITLES, comparison_of_versions, fairness_table,
                                         flags_table, lines_table, over_time_tables, rates_table,
                                         versions_table)
from ..controls import (button, check, combo, message_label, set_available, settings_box,
                        side_by_side, spin, tabs)
from ..notes_panel import NotesPanel
from ..palette import muted_css
from ..plots import PlotPanel
from ..table_model import ResultTable
from .base import Page
from .over_time_plots import draw_rates, flags_for

DEBOUNCE_MS = 350
RATE_CHOICES = ("selection_rate", "tpr", "fpr", "fnr", "ppv", "auc")
RULE_SHORT = {"equal-fpr": "Equal FPR", "equal-tpr": "Equal TPR", "equal-fnr": "Equal FNR",
              "equal-selection": "Equal selection rate", "erb": "Error-rate balance",
              "eodds": "Equalized odds", "recall": "Equal recall, list of K"}
EMPTY_NO_DATA = ("Open a data file and map its columns (score, outcome, group, period) to see "
                 "how each group's rates move over time.")
EMPTY_NO_PERIOD = ("Rates over time need a period column: on the Data page, give a date or an "
                   "ordered label (W1, W2 …) the role “Period (date or order)”, then Apply.")
EMPTY_NO_LABEL = ("Rates over time compare decisions with outcomes: map an outcome (label) "
                  "column on the Data page.")
TAB_TIPS = (("Lines", "The shown score or rule: one row per period, each rate per group"),
            ("All rates", "Every score column and rule, period and group: people, rates with "
                          "95 % intervals, AUC"),
            ("Fairness", "Each fairness measure per period (1 = balanced) with the pair of "
                         "groups behind it"),
            ("Changes", "Changes between consecutive periods larger than their uncertainty"),
            ("Versions", "The score against its first version on the same rows, group by "
                         "group (paired AUC, matched thresholds, who changes)"))


def compute(data, thresholds, scenarios, chosen_on, with_versions, *, job):
    """Worker function: the series over time and (with versions) the versions compared."""
    res = over_time(data, thresholds, scenarios, chosen_on=chosen_on, job=job)
    versions = comparison_of_versions(data, thresholds) if with_versions else None
    return res, versions


def choose(data, name, rule, period, threshold, seed, *, job):
    """Worker function: a rule chosen on one period, as a Decision-table scenario."""
    return choose_rule(data, name, rule, choose_on=period, threshold=threshold, seed=seed,
                       job=job)


def _chosen_on(scenarios) -> dict[str, str]:
    """The period each chosen-on-a-period scenario was chosen on (kept in its origin, so it
    survives projects)."""
    out = {}
    for s in scenarios:
        where = (s.origin or {}).get("chosen_on", "")
        if (s.origin or {}).get("engine") == "chosen on a period" and where != "all periods":
            out[s.name] = where
    return out


class OverTimePage(Page):
    key = "over_time"
    title = "Over time"
    nav_tip = ("Does the decision hold? Each group's rates per period under the score, its "
               "versions and the Decision table's rules, with 95 % intervals and flagged changes")
    split_fraction = 0.5

    def __init__(self, state, worker, parent=None):
        super().__init__(state, worker, parent)
        self.result = None
        self.versions = None  # VersionComparison when the data has versions
        self._result_for = None
        self._generation = 0
        self._job = None
        self._job_key = None
        self._choose_job = None
        self._thresholds: dict[str, float] = {}
        self._edited: set[str] = set()  # columns whose threshold the analyst set here
        self._pending_show = None
        self._debounce = self.debounce(DEBOUNCE_MS, lambda: self.when_shown(self.compute))
        self._build_ui()
        state.dataChanged.connect(self._on_data_changed)
        state.thresholdsChanged.connect(self._on_state_thresholds)
        state.scenariosChanged.connect(self._on_scenarios_changed)
        self._on_data_changed()

    # ------------------------------------------------------------------------------ UI
    def _build_ui(self) -> None:
        outer = self.page_layout()
        lay = self.add_empty_stack(outer, EMPTY_NO_DATA)
        self.top = QGridLayout()  # the two boxes side by side, one above the other when narrow
        self.top.setSpacing(4)
        self.view_box, self.choose_box = self._build_settings(), self._build_choose()
        self._stacked = None
        self._place_boxes(False)
        lay.addLayout(self.top)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet(f"{muted_css()}; padding: 0 4px;")
        lay.addWidget(self.summary)
        self.warn = message_label("error")
        lay.addWidget(self.warn)

        self.splitter = side_by_side()
        lay.addWidget(self.splitter, 1)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.setSpacing(2)
        self.table_tabs = tabs()
        self.lines_view = ResultTable("Lines", TAB_TIPS[0][1])
        self.rates_view = ResultTable("All rates", TAB_TIPS[1][1])
        self.fairness_view = ResultTable("Fairness", TAB_TIPS[2][1])
        self.flags_view = ResultTable("Changes", TAB_TIPS[3][1])
        self.versions_view = ResultTable("Versions", TAB_TIPS[4][1])
        views = (self.lines_view, self.rates_view, self.fairness_view, self.flags_view,
                 self.versions_view)
        for i, (view, (name, tip)) in enumerate(zip(views, TAB_TIPS)):
            self.table_tabs.addTab(view, name)
            self.table_tabs.setTabToolTip(i, tip)
        self.table_tabs.setAccessibleName("Tables over time")
        lv.addWidget(self.table_tabs, 1)
        self.notes = NotesPanel("Changes and warnings")
        lv.addWidget(self.notes)
        self.panel = PlotPanel("Rate over time", "Period", "Rate (%)", name="rate_over_time",
                               on_error=self._show_error)
        self.panel.widget.setToolTip(
            "Each group's rate per period (one line per group, a marker at each period); with "
            "“95 % intervals” a translucent band per group; a ring marks a change from the "
            "previous period larger than its uncertainty")
        self.fill_split(left, self.panel)

    def _place_boxes(self, stacked: bool) -> None:
        if stacked == self._stacked:
            return
        self._stacked = stacked
        self.top.removeWidget(self.view_box)
        self.top.removeWidget(self.choose_box)
        self.top.addWidget(self.view_box, 0, 0)
        self.top.addWidget(self.choose_box, 1 if stacked else 0, 0 if stacked else 1)
        self.top.setColumnStretch(0, 3)
        self.top.setColumnStretch(1, 0 if stacked else 2)

    def _fit_boxes(self) -> None:
        """Side by side when the room the page is given (its scroll area's viewport) holds
        both, else one above the other (the page then needs no horizontal scrolling)."""
        room = self.parentWidget().width() if self.parentWidget() is not None else self.width()
        need = (self.view_box.minimumSizeHint().width() + self.choose_box.minimumSizeHint().width()
                + 24)
        self._place_boxes(room < need)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        parent = self.parentWidget()
        if parent is not None and not getattr(self, "_watching", None) is parent:
            self._watching = parent
            parent.installEventFilter(self)
        self._fit_boxes()
        super().showEvent(event)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt's name)
        if obj is getattr(self, "_watching", None) and event.type() == QEvent.Resize:
            self._fit_boxes()
        return False

    def _build_settings(self):
        box, grid = settings_box("View", "What the tables and the plot show")
        self.show_combo = combo([], "The score column (the score, then its versions) or the "
                                "Decision table's scenario whose rates are shown", "Show",
                                min_chars=11)
        self.threshold_spin = QDoubleSpinBox()
        self.threshold_spin.setKeyboardTracking(False)
        self.threshold_spin.setMinimumWidth(80)
        self.threshold_spin.setToolTip("The threshold of the shown score column, in its own "
                                       "units (each score column keeps its own)")
        self.threshold_spin.setAccessibleName("Threshold of the shown score column")
        self.threshold_label = QLabel("Threshold")
        self.rate_combo = combo([(RATE_TITLES[r], r) for r in RATE_CHOICES],
                                "The rate plotted per period and group (AUC only for score "
                                "columns: a rule ranks nobody)", "Rate", min_chars=9)
        self.bands_box = check("95 % intervals", "Draw each group's exact (Clopper–Pearson) "
                               "95 % interval as a translucent band", self._redraw)
        grid.addWidget(QLabel("Show"), 0, 0)
        grid.addWidget(self.show_combo, 0, 1)
        grid.addWidget(self.threshold_label, 0, 2)
        grid.addWidget(self.threshold_spin, 0, 3)
        grid.addWidget(QLabel("Rate"), 0, 4)
        grid.addWidget(self.rate_combo, 0, 5)
        grid.addWidget(self.bands_box, 0, 6)
        grid.setColumnStretch(1, 1)
        self.show_combo.currentIndexChanged.connect(self._show_changed)
        self.rate_combo.currentIndexChanged.connect(lambda _i: self._redraw())
        self.threshold_spin.valueChanged.connect(self._threshold_edited)
        return box

    def _build_choose(self):
        box, grid = settings_box("Choose a rule on a period",
                                 "A rule chosen on one period's rows, then applied to every "
                                 "period: does it hold?")
        rules = [k for k in RULE_SHORT if k in RULE_WORDS]
        self.rule_combo = combo([(RULE_SHORT[k], k) for k in rules],
                                "The rule: per-group thresholds that equalise a rate, Oregon's "
                                "error-rate balance, equalized odds, or equal recall in a list "
                                "of K people", "Rule", min_chars=9)
        for i, k in enumerate(rules):
            self.rule_combo.setItemData(i, RULE_WORDS[k], Qt.ToolTipRole)
        self.period_combo = combo([], "The period whose rows the rule is chosen on", "Period",
                                  min_chars=5)
        self.choose_button = button("Choose and add as scenario",
                                    "Choose the rule on the period's rows (at the score's "
                                    "threshold) and add it to the Decision table; it then "
                                    "shows here for every period", self.choose_and_add)
        grid.addWidget(self.rule_combo, 0, 0)
        grid.addWidget(QLabel("on"), 0, 1)
        grid.addWidget(self.period_combo, 0, 2)
        self.k_spin = spin(1, 10_000_000, 150, "K: the list size in people, on the chosen "
                           "period", "List size K", suffix=" people")
        self.rule_combo.currentIndexChanged.connect(
            lambda _i: self.k_spin.setVisible(self.rule_combo.currentData() == "recall"))
        self.k_spin.hide()
        grid.addWidget(self.k_spin, 0, 3)
        grid.addWidget(self.choose_button, 0, 4)
        grid.setColumnStretch(0, 1)
        return box

    # ------------------------------------------------------------------------ settings
    def _columns(self) -> list[str]:
        data = self.state.data
        return [] if data is None else [data.mapping.score] + list(data.mapping.versions)

    def _values(self, column: str) -> np.ndarray:
        data = self.state.data
        return data.score if column == data.mapping.score else data.versions[column]

    def _state_threshold(self) -> float:
        t = np.asarray(self.state.thresholds, dtype=float)
        if self.state.group_specific and t.size:
            return float(np.median(t[..., 0]))
        return float(np.ravel(t)[0]) if t.size else 0.5

    def _default_threshold(self, column: str) -> float:
        from ...audit import default_threshold

        data = self.state.data
        if column == data.mapping.score:
            return self._state_threshold()
        view = replace(data, score=data.versions[column], mapping=replace(
            data.mapping, higher_is_positive=data.mapping.version_higher.get(column, True)))
        return float(default_threshold(view)[0])

    def thresholds(self) -> dict[str, float]:
        """Each score column's threshold in its own units (what the engine is given)."""
        return {c: self._thresholds[c] for c in self._columns()}

    def shown(self) -> tuple[str, str] | None:
        """("score", column) or ("scenario", name) shown, None while there is nothing."""
        key = self.show_combo.currentData()
        return tuple(key.split(":", 1)) if key else None

    def show_series(self, kind: str, name: str) -> bool:
        """Show the score column or scenario ``name``; False when there is none."""
        i = self.show_combo.findData(f"{kind}:{name}")
        if i >= 0:
            self.show_combo.setCurrentIndex(i)
        return i >= 0

    @property
    def rate(self) -> str:
        return self.rate_combo.currentData() or "selection_rate"

    def _fill_show(self, keep=None) -> None:
        keep = keep or self.shown()
        with QSignalBlocker(self.show_combo):
            self.show_combo.clear()
            for c in self._columns():
                self.show_combo.addItem(c, f"score:{c}")
            for s in self.state.scenarios:
                self.show_combo.addItem(s.name, f"scenario:{s.name}")
                self.show_combo.setItemData(self.show_combo.count() - 1, "A Decision-table "
                                            "scenario: " + s.describe(self.state.data.group_names),
                                            Qt.ToolTipRole)
            i = self.show_combo.findData(":".join(keep)) if keep else -1
            self.show_combo.setCurrentIndex(max(i, 0))
        self._sync_threshold_spin()

    def _sync_threshold_spin(self) -> None:
        shown = self.shown()
        is_score = bool(shown) and shown[0] == "score"
        self.threshold_spin.setEnabled(is_score)
        self.threshold_label.setEnabled(is_score)
        # AUC belongs to a score: greyed for a rule
        item = self.rate_combo.model().item(RATE_CHOICES.index("auc"))
        item.setEnabled(is_score)
        if not is_score and self.rate == "auc":
            self.rate_combo.setCurrentIndex(0)
        if not is_score or self.state.data is None:
            return
        column = shown[1]
        values = self._values(column)
        value = self._thresholds[column]
        lo, hi = float(np.min(values)), float(np.max(values))
        pad = max(hi - lo, 1e-9)
        with QSignalBlocker(self.threshold_spin):
            self.threshold_spin.setDecimals(score_places(value, score_decimals(values)))
            self.threshold_spin.setRange(min(lo - pad, value), max(hi + pad, value))
            self.threshold_spin.setSingleStep(10.0 ** -score_decimals(values)
                                              if score_decimals(values) else 1.0)
            self.threshold_spin.setValue(value)

    def _threshold_edited(self, value: float) -> None:
        shown = self.shown()
        if not shown or shown[0] != "score" or self.state.data is None:
            return
        self._thresholds[shown[1]] = float(value)
        self._edited.add(shown[1])
        self._debounce.start()

    def _on_state_thresholds(self) -> None:
        data = self.state.data
        if data is None or data.mapping.score in self._edited:
            return
        t = self._state_threshold()
        if self._thresholds.get(data.mapping.score) != t:
            self._thresholds[data.mapping.score] = t
            self._sync_threshold_spin()
            if self._usable():
                self._debounce.start()

    def _on_scenarios_changed(self) -> None:
        if self.state.data is None:
            return
        self._fill_show(self._pending_show)
        self._pending_show = None
        if self._usable():
            self._debounce.start()

    def _show_changed(self, _i=None) -> None:
        self._sync_threshold_spin()
        self._redraw()

    # ------------------------------------------------------------------------- compute
    def _usable(self) -> bool:
        data = self.state.data
        return data is not None and data.period is not None and data.label is not None

    def _on_data_changed(self) -> None:
        data = self.state.data
        self.result = self.versions = self._result_for = None
        self._generation += 1
        if self._job is not None:
            self._job.cancel()
            self._job = None
        self._debounce.stop()
        if data is None or data.period is None or data.label is None:
            self.empty.setText(EMPTY_NO_DATA if data is None else
                               EMPTY_NO_PERIOD if data.period is None else EMPTY_NO_LABEL)
            self.stack.setCurrentIndex(0)
            self._when_shown = None
            return
        self._edited = {c for c in self._edited if c in self._columns()}
        self._thresholds = {c: self._thresholds[c] if c in self._edited and c in
                            self._thresholds else self._default_threshold(c)
                            for c in self._columns()}
        self._fill_show()
        with QSignalBlocker(self.period_combo):
            keep = self.period_combo.currentData()
            self.period_combo.clear()
            for p in data.period_names:
                self.period_combo.addItem(p, p)
            i = self.period_combo.findData(keep)
            self.period_combo.setCurrentIndex(max(i, 0))
        self.table_tabs.setTabVisible(4, bool(data.mapping.versions))
        self.stack.setCurrentIndex(1)
        if not self._split_done:
            QTimer.singleShot(0, self._initial_split)
        self._clear("Computing the rates per period…")
        self.when_shown(self.compute)  # computed when the page is first shown

    def _key(self):
        data = self.state.data
        return (id(data), tuple(sorted(self.thresholds().items())),
                repr([s.to_dict() for s in self.state.scenarios]))

    def compute(self) -> None:
        self._debounce.stop()
        if not self._usable():
            return
        data, key = self.state.data, self._key()
        if self.result is not None and self._result_for == key:
            return  # cached: nothing changed since
        if self._job is not None and self._job_key == key:
            return  # already on its way
        self._generation += 1
        gen = self._generation
        if self._job is not None:
            self._job.cancel()
        scenarios = copy.deepcopy(list(self.state.scenarios))  # the worker's own copy
        self._job_key = key
        self._job = self.worker.start(
            compute, data, self.thresholds(), scenarios, _chosen_on(scenarios),
            bool(data.mapping.versions), title="Rates over time",
            on_result=lambda out, gen=gen, key=key: self._done(gen, key, out),
            on_error=lambda msg, details, gen=gen: self._failed(gen, msg, details),
            on_cancel=lambda gen=gen: self._cancelled(gen))

    def _done(self, gen, key, out) -> None:
        if gen != self._generation:
            return  # a newer computation is on its way
        self._job = None
        self.result, self.versions = out
        self._result_for = key
        self.warn.hide()
        self._refresh()

    def _failed(self, gen, message: str, details: str) -> None:
        if gen != self._generation:
            return
        self._job = None
        self.result = None
        self._clear("")
        self.warn.setText(message)
        self.warn.show()
        self.panel.show_message("Nothing to draw: see the message above.")

    def _cancelled(self, gen) -> None:
        if gen == self._generation:
            self._job = None

    def busy(self) -> bool:
        return self._job is not None or self._choose_job is not None

    def _ensure_result(self) -> None:
        """Compute now (export) unless the result belongs to the current data and settings."""
        if not self._usable() or (self.result is not None and self._result_for == self._key()):
            return
        self._generation += 1  # a result still on its way is now stale
        scenarios = list(self.state.scenarios)
        data = self.state.data
        self.result, self.versions = compute(data, self.thresholds(), scenarios,
                                             _chosen_on(scenarios), bool(data.mapping.versions),
                                             job=NO_JOB)
        self._result_for = self._key()
        self._refresh()

    # --------------------------------------------------------------------------- views
    def _clear(self, text: str) -> None:
        for view in (self.lines_view, self.rates_view, self.fairness_view, self.flags_view,
                     self.versions_view):
            view.set_table(None)
        self.notes.set_notes([])
        self.panel.plot.clear()
        self.panel.legend.set_entries([])
        self.panel.set_note("")
        self.summary.setText(text)
        self.warn.hide()
        set_available(self.choose_button, False, "the rates over time are not computed yet.")

    def series(self):
        """The shown series of the result (None before a result)."""
        res, shown = self.result, self.shown()
        if res is None or not shown:
            return None
        for s in res.series:
            if s.kind == shown[0] and s.name == shown[1]:
                return s
        return res.series[0] if res.series else None

    def _refresh(self) -> None:
        res, data = self.result, self.state.data
        if res is None or data is None:
            return
        self.rates_view.set_table(rates_table(res, data))
        self.fairness_view.set_table(fairness_table(res))
        self.flags_view.set_table(flags_table(res))
        self.versions_view.set_table(versions_table(self.versions, data)
                                     if self.versions is not None else None)
        n = len(res.flags)
        rules = [s.name for s in res.series if s.kind == "scenario"]
        self.summary.setText(
            f"{len(res.period_names)} periods ({data.period_how}, column "
            f"'{data.mapping.period}'); scores: "
            + ", ".join(s.name for s in res.series if s.kind == "score")
            + (f"; rules: {', '.join(rules)}" if rules else "") + "; "
            + (f"{n} change{'s' if n != 1 else ''} larger than {'their' if n != 1 else 'its'} "
               "uncertainty (Changes tab)." if n else "no change larger than its uncertainty."))
        set_available(self.choose_button, True)
        self._redraw()

    def _redraw(self, *_args) -> None:
        res, data, s = self.result, self.state.data, self.series()
        if res is None or data is None or s is None:
            return
        rate = self.rate if (s.kind == "score" or self.rate != "auc") else "selection_rate"
        self.lines_view.set_table(lines_table(res, data, s, charts=False))
        flagged = [f.text() for f in res.flags if f.series == s.name]
        self.notes.set_notes([] if flagged else
                             [f"No change under {s.name} exceeds its uncertainty."],
                             flagged + list(res.warnings))
        draw_rates(self.panel, res, s, rate, self.bands_box.isChecked())

    def flagged_shown(self) -> list:
        """The flags drawn on the plot (tests)."""
        s = self.series()
        return [] if s is None else flags_for(self.result, s, self.rate)

    # ------------------------------------------------------------------ choose a rule
    def choose_and_add(self) -> None:
        data = self.state.data
        if not self._usable() or self._choose_job is not None:
            return
        rule, period = self.rule_combo.currentData(), self.period_combo.currentData()
        name = f"{RULE_SHORT[rule]} on {period}"
        if rule == "recall":
            k = self.k_spin.value()
            rule, name = f"recall:{k}", f"Equal recall, K = {k:,}, on {period}"
        threshold = self._thresholds[data.mapping.score]
        set_available(self.choose_button, False, "a rule is being chosen.")
        self._choose_job = self.worker.start(
            choose, data, name, rule, period, threshold, self.state.seed("over time rules", 0),
            title=f"Choosing {name}",
            on_result=lambda out, data=data: self._chosen(data, out),
            on_error=self._choose_failed, on_cancel=self._choose_cancelled)

    def _chosen(self, data, out) -> None:
        self._choose_job = None
        set_available(self.choose_button, self.result is not None,
                      "the rates over time are not computed yet.")
        if data is not self.state.data:
            return
        scenario, _where = out
        self._pending_show = ("scenario", scenario.name)
        name = self.state.add_scenario(scenario)  # scenariosChanged: shown, recomputed
        if self.shown() != ("scenario", name):
            self.show_series("scenario", name)
        win = self.window()
        if hasattr(win, "statusBar"):
            win.statusBar().showMessage(f"Added the scenario '{name}' to the Decision table",
                                        8000)

    def _choose_failed(self, message: str, details: str) -> None:
        self._choose_job = None
        set_available(self.choose_button, self.result is not None, "")
        self._show_error(message, details)

    def _choose_cancelled(self) -> None:
        self._choose_job = None
        set_available(self.choose_button, self.result is not None, "")

    # --------------------------------------------------------------------------- export
    def settings(self) -> dict:
        shown = self.shown()
        return {"show": list(shown) if shown else None,
                "thresholds": {c: self._thresholds[c] for c in sorted(self._edited)
                               if c in self._thresholds},
                "rate": self.rate, "intervals": bool(self.bands_box.isChecked()),
                "rule": self.rule_combo.currentData(), "period": self.period_combo.currentData(),
                "table_tab": self.table_tabs.currentIndex()}

    def apply_settings(self, settings: dict) -> None:
        s = settings or {}
        for c, v in (s.get("thresholds") or {}).items():
            if c in self._columns():
                self._thresholds[c] = float(v)
                self._edited.add(c)
        for widget, key in ((self.rate_combo, "rate"), (self.rule_combo, "rule"),
                            (self.period_combo, "period")):
            i = widget.findData(s.get(key)) if s.get(key) is not None else -1
            if i >= 0:
                widget.setCurrentIndex(i)
        if s.get("show"):
            self.show_series(*s["show"])
        self._sync_threshold_spin()
        if "intervals" in s:
            self.bands_box.setChecked(bool(s["intervals"]))
        if "table_tab" in s:
            self.table_tabs.setCurrentIndex(int(s["table_tab"]))
        if self._usable():
            self._debounce.start()

    def export_settings(self) -> dict:
        if not self._usable():
            return {}
        data = self.state.data

        def rule(c, t):
            higher = data.mapping.higher_is_positive if c == data.mapping.score else \
                data.mapping.version_higher.get(c, True)
            return f"{c} {'≥' if higher else '≤'} {format_score(t, score_decimals(self._values(c)))}"

        out = {"Thresholds": "; ".join(rule(c, t) for c, t in self.thresholds().items()),
               "Period column": f"{data.mapping.period} ({data.period_how})",
               "Shown": self.show_combo.currentText(), "Rate plotted": RATE_TITLES[self.rate],
               "95 % intervals drawn": "yes" if self.bands_box.isChecked() else "no"}
        chosen = _chosen_on(self.state.scenarios)
        if chosen:
            out["Rules chosen on a period"] = "; ".join(f"{n} (on {p})"
                                                       for n, p in chosen.items())
        return out

    def export_tables(self) -> list:
        if not self._usable():
            return []
        try:
            self._ensure_result()
        except FairDeskError:
            return []
        return over_time_tables(self.result, self.state.data, self.versions)

