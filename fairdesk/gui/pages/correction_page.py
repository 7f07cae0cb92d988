"""Error-rate balance: the Oregon study's group-specific threshold correction.

Settings on top (fairness definition, the group-agnostic thresholds, the penalty-weight
grid, subsamples, seed); "Run" hands :func:`run_correction` to the worker. The result holds
everything for every penalty weight w, so choosing another w (per threshold, or one for
all) updates every table and plot without recomputing. "Apply corrected thresholds" puts
the group-specific thresholds in the shared state for the Audit and Tiers pages.

Tables (built by :mod:`fairdesk.reports.correction_tables`): corrected thresholds per
threshold (the study's Table 3), rates per group before and after (Tables 2 and 4), the
nine measures before and after (Table 9), and the tier transitions per group. Plots
(:mod:`.correction_plots`): fairness against w and against the share of people moved
(Figure 2), thresholds against w (Figure 1), the per-subsample distribution (Figure 3) and
the scores by group coloured by corrected tier (Figure 8).
"""

from __future__ import annotations

import logging
import time

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt, QTimer
from PySide6.QtGui import QFontMetrics, QKeySequence
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QGroupBox, QHBoxLayout,
                               QLabel, QProgressBar, QPushButton, QSlider, QSpinBox, QSplitter,
                               QTabWidget, QVBoxLayout, QWidget)

from ...engines.threshold_correction import CorrectionSettings, run_correction, subsample_mode
from ...errors import FairDeskError
from ...metrics.fairness import DEFINITIONS
from ...metrics.thresholds import ThresholdRule
from ...reports import correction_figures as cf
from ...reports import correction_tables as ct
from ..table_model import ResultTable
from .base import Page, note_label
from .correction_plots import CorrectionPlots

log = logging.getLogger("fairdesk.gui.correction")

SUBSAMPLING = (("auto", "Automatic"), ("unit", "One random row per id"),
               ("bootstrap", "Bootstrap (rows with replacement)"))
SUBSAMPLING_TIPS = {
    "auto": "One random row per id when an id column is mapped and some id has several rows "
            "(the study's one record per child); bootstrap otherwise",
    "unit": "Each subsample takes one random row of every id (person, child, case): needs an "
            "id column on the Data page",
    "bootstrap": "Each subsample draws as many rows as the data has, with replacement",
}
W_TIP = ct.W_TIP
SUMMARY_HELP = (
    "<b>How to read this.</b> For each threshold the optimizer searched, on each of the "
    "I subsamples and for every penalty weight w, the group-specific thresholds that "
    "minimise (1 − w)·(1 − fairness) + w·(share of people moved); the thresholds shown "
    "are the averages over the subsamples. These averaged thresholds were then applied "
    "to J fresh subsamples: the fairness before and after is their mean ± SD. The "
    "suggested w has the highest mean fairness there. A larger w moves fewer people; a "
    "smaller one may balance the groups more but moves more people between tiers.<br>"
    "Choose w with the slider (or drag the line in the Fairness and Thresholds plots), "
    "then press <b>Apply corrected thresholds</b> to audit them on the Audit page.")
TRANSITIONS_TAB = 3


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
        self._own_scores = (None, None)  # (data, GroupScores) when the state's data changed
        self._short: list[str] = []
        self._syncing = False
        self._idle_message = ""  # "Cancelled. " before "Run to see results."
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
    def _tip(self, widget, key: str, signal=None, slot=None):
        """``widget`` with its tooltip from :data:`ct.TIPS`, ``signal`` connected to ``slot``
        (default: settings edited)."""
        widget.setToolTip(ct.TIPS[key])
        if signal is not None:
            getattr(widget, signal).connect(slot or self._settings_edited)
        return widget

    @staticmethod
    def _add(layout, *items) -> None:
        """Add "label text", widgets, (widget, stretch) and ints (spacing) to ``layout``; a
        label takes the tooltip of the widget after it."""
        for n, item in enumerate(items):
            if isinstance(item, int):
                layout.addSpacing(item)
            elif isinstance(item, str):
                label = QLabel(item)
                nxt = items[n + 1] if n + 1 < len(items) else None
                label.setToolTip(nxt.toolTip() if isinstance(nxt, QWidget) else "")
                layout.addWidget(label)
            elif isinstance(item, tuple):
                layout.addWidget(*item)
            else:
                layout.addWidget(item)

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.setSpacing(4)
        self.settings_box = self._tip(QGroupBox("Correction settings"), "settings")
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
        self._tip(self.definition, "definition", "currentIndexChanged", self._definition_changed)
        self.meaning = QLabel()
        self.meaning.setStyleSheet("color:#404040")
        self.meaning.setWordWrap(True)
        self._add(row0, "Definition", self.definition, (self.meaning, 1))
        # row 1: thresholds, subsampling, seed
        self.thresholds = QComboBox()
        self.thresholds.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.thresholds.setMinimumContentsLength(22)
        self.thresholds.addItem("The study's three: Oregon low, mean, Oregon high", "oregon")
        self.thresholds.setItemData(0, ct.TIPS["oregon"], Qt.ToolTipRole)
        self.thresholds.addItem("The thresholds of the Tiers page", "tiers")
        self._tip(self.thresholds, "thresholds", "currentIndexChanged")
        self.subsampling = QComboBox()
        for key, text in SUBSAMPLING:
            self.subsampling.addItem(text, key)
            self.subsampling.setItemData(self.subsampling.count() - 1, SUBSAMPLING_TIPS[key],
                                         Qt.ToolTipRole)
        self._tip(self.subsampling, "subsampling", "currentIndexChanged")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2_147_483_647)
        self.seed.setValue(self.state.seed("threshold_correction"))
        self._tip(self.seed, "seed", "valueChanged")
        self._add(row1, "Thresholds", (self.thresholds, 1), 8, "Subsampling", self.subsampling, 8,
                  "Seed", self.seed)
        # row 2: weights, subsamples, run
        for name, value in (("w_start", 0.0), ("w_stop", 1.0), ("w_step", 0.01)):
            spin = self._tip(QDoubleSpinBox(), name)
            spin.setDecimals(3)
            spin.setRange(0.001 if name == "w_step" else 0.0, 1.0)
            spin.setSingleStep(0.01)
            spin.setValue(value)
            spin.valueChanged.connect(self._settings_edited)
            setattr(self, name, spin)
        self.w_count = QLabel()
        self.w_count.setStyleSheet("color:#404040")
        self.w_count.setMinimumWidth(QFontMetrics(self.w_count.font()).horizontalAdvance(
            "= 1,001 values") + 6)
        for name, low in (("subsamples", 1), ("audit_subsamples", 2)):
            spin = self._tip(QSpinBox(), name)
            spin.setRange(low, 100_000)
            spin.setValue(200)
            spin.setGroupSeparatorShown(True)
            spin.valueChanged.connect(self._settings_edited)
            setattr(self, name, spin)
        self.run_button = self._tip(QPushButton("Run"), "run", "clicked", self.run)
        self.run_button.setShortcut(QKeySequence("Ctrl+R"))
        self.run_button.setStyleSheet("QPushButton { font-weight: bold; padding: 3px 18px; }")
        self.cancel_button = self._tip(QPushButton("Cancel"), "cancel", "clicked", self.cancel)
        self.cancel_button.setEnabled(False)
        weights = QLabel("Penalty weights w")
        weights.setToolTip(W_TIP)
        self._add(row2, weights, QLabel("from"), self.w_start, QLabel("to"), self.w_stop,
                  QLabel("step"), self.w_step, self.w_count, 8, "Subsamples I", self.subsamples,
                  8, "Assessment J", self.audit_subsamples)
        row2.addStretch(1)
        self._add(row2, self.run_button, self.cancel_button)

        status_row = QHBoxLayout()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color:#303030")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setMinimumWidth(300)
        self.progress.hide()
        self._add(status_row, (self.status, 1), self.progress)
        outer.addLayout(status_row)

        rl = self.add_empty_stack(outer)
        self.placeholder = self.empty
        rl.addLayout(self._build_choice_row())
        self.splitter = QSplitter(Qt.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        rl.addWidget(self.splitter, 1)
        self.table_tabs = QTabWidget()
        self.table_tabs.setDocumentMode(True)
        self.plots = self.plot_tabs = CorrectionPlots(on_error=self._show_error)
        self.plots.w_moved.connect(self._line_moved)
        self.splitter.addWidget(self.table_tabs)
        self.splitter.addWidget(self.plot_tabs)
        self._split_done = False
        self._build_tables()
        self.table_tabs.currentChanged.connect(lambda _i: self._refresh_transitions())
        self.plot_tabs.currentChanged.connect(lambda _i: self._refresh_plots())
        self._definition_changed()

    def _build_choice_row(self) -> QHBoxLayout:
        box = QGroupBox()
        box.setToolTip(W_TIP)
        bl = QHBoxLayout(box)
        bl.setContentsMargins(8, 3, 8, 3)
        self.threshold_combo = self._tip(QComboBox(), "threshold_combo", "currentIndexChanged",
                                         self._threshold_selected)
        self.threshold_combo.setSizeAdjustPolicy(QComboBox.AdjustToContents)
        self.w_label = QLabel("<b>w</b>")
        self.w_label.setToolTip(W_TIP)
        self.w_slider = self._tip(QSlider(Qt.Horizontal), "w_slider", "valueChanged",
                                  self._slider_moved)
        self.w_slider.setMinimumWidth(90)
        self.w_value = QLabel()
        self.w_value.setMinimumWidth(120)
        self.same_w = self._tip(QCheckBox("Same w for all"), "same_w", "toggled",
                                self._same_w_toggled)
        self.suggest_button = self._tip(QPushButton("Suggested w"), "suggest", "clicked",
                                        self.use_suggested)
        self._add(bl, QLabel("<b>Threshold</b>"), self.threshold_combo, 8, self.w_label,
                  (self.w_slider, 1), self.w_value, self.same_w, self.suggest_button)
        self.apply_button = self._tip(QPushButton("Apply corrected thresholds"), "apply",
                                      "clicked", self.apply_corrected)
        self.apply_button.setStyleSheet("QPushButton { font-weight: bold; padding: 5px 12px; }")
        self.scenario_button = self._tip(QPushButton("Add as scenario"), "scenario", "clicked",
                                         self.add_as_scenario)
        row = QHBoxLayout()
        row.setSpacing(6)
        self._add(row, (box, 1), self.apply_button, self.scenario_button)
        return row

    def _tab(self, name: str, label: str, tip: str, table_tip: str, note: str = "") -> None:
        """A table tab: a title line, the table and a note under it."""
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(2, 4, 2, 2)
        title, view, note_w = note_label(), ResultTable(label, table_tip), note_label(note)
        v.addWidget(title)
        v.addWidget(view, 1)
        v.addWidget(note_w)
        setattr(self, f"{name}_title", title)
        setattr(self, f"{name}_table", view)
        setattr(self, f"{name}_note", note_w)
        self.table_tabs.addTab(w, label)
        self.table_tabs.setTabToolTip(self.table_tabs.count() - 1, tip)
        return v

    def _build_tables(self) -> None:
        v = self._tab("summary", "Thresholds", "Corrected thresholds and fairness before and "
                      "after (the study's Table 3)", "The corrected thresholds per group at the "
                      "chosen w, and fairness before and after on the assessment subsamples; "
                      "hover a row title for its meaning")
        self.summary_title.hide()
        self.summary_help = note_label(SUMMARY_HELP)
        self.summary_help.setStyleSheet("color:#303030; background:#F7F9FB; "
                                        "border:1px solid #DDE3EA; padding:8px")
        v.insertWidget(2, self.summary_help)
        v.insertStretch(3, 1)
        v.setStretch(1, 0)
        self._tab("rates", "Rates by group", "Error rates and predictive values per group before "
                  "and after (Tables 2 and 4)", "Rates per group before → after the correction at "
                  "the selected threshold: means over the assessment subsamples; hover a cell for "
                  "the SDs", "Means over the assessment subsamples. Hover a value for its "
                  "standard deviation, a rate for its definition.")
        self._tab("measures", "Fairness measures", "All nine measures before and after (Table 9)",
                  "The nine fairness measures before and after the correction: the smallest "
                  "ratio between two groups, 1 = balanced")
        self._tab("transitions", "Transitions", "Who moves between tiers, per group", "People by "
                  "tier before (rows) and after (columns) the correction, per group")
        self.transitions_title.hide()

    # ================================================================== helpers
    def _status_message(self, text: str) -> None:
        win = self.window()
        if hasattr(win, "statusBar"):
            win.statusBar().showMessage(text, 8000)

    @property
    def threshold_index(self) -> int:
        return max(self.threshold_combo.currentIndex(), 0)

    @property
    def running(self) -> bool:
        return self._job is not None

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
        text = cf.result_status(self.result, self._run_seconds)
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
        self._update_idle()
        self.plots.set_result(res, self._short)
        self._refresh()

    def _threshold_selected(self, _i: int) -> None:
        self._refresh()

    def _slider_moved(self, value: int) -> None:
        if self.result is None or self._syncing:
            return
        self._set_w_index(value)

    def _line_moved(self, value: float) -> None:
        """A w line dragged on the Fairness or Thresholds plot: the nearest computed w."""
        if self.result is None or self._syncing:
            return
        self._set_w_index(int(np.argmin(np.abs(self.result.weights - value))))

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
            self.plots.set_w(float(res.weights[wi]))
        finally:
            self._syncing = False
        w = float(res.weights[wi])
        tag = "suggested" if wi == best else f"suggested {ct.w_text(res.weights[best])}"
        if not next((b.get("usable", True) for b in res.best if b["threshold"] == t), True):
            tag = "no suggestion: every w is degenerate"
        elif res.is_degenerate(wi, t):
            tag = f"degenerate; {tag}"
        self.w_value.setText(f"<b>w = {ct.w_text(w)}</b> ({tag})")
        self.w_value.setToolTip(W_TIP)

    def _refresh(self) -> None:
        if self.result is None:
            return
        self._sync_w_controls()
        self._fill_tables()
        self.plots.update_markers(self.chosen)
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
    def _fill_tables(self) -> None:
        res, t = self.result, self.threshold_index
        dec = self._run_data.score_decimals if self._run_data is not None else None
        self.summary_table.set_table(ct.summary_table(res, self.chosen, dec))
        self.summary_table.fit_height(max_rows=16)
        self.summary_note.setText(ct.summary_note(res, self.chosen))
        at = f"<b>Threshold {t + 1} ({self._short[t]})</b> at w = {ct.w_text(res.weights[self.chosen[t]])}"
        self.rates_table.set_table(ct.rates_table(res, self.chosen, t))
        self.rates_title.setText(f"{at}: each rate before and after the correction")
        self.measures_table.set_table(ct.measures_table(res, self.chosen, t))
        self.measures_title.setText(f"{at}. Bold: the definition corrected for.")
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
        if self._own_scores[0] is not self._run_data:
            from ...metrics.confusion import GroupScores
            self._own_scores = (self._run_data, GroupScores.from_data(self._run_data))
        return self._own_scores[1]

    def _refresh_transitions(self) -> None:
        if self.result is None or self.table_tabs.currentIndex() != TRANSITIONS_TAB:
            return
        d = self._run_data
        self.transitions_table.set_table(ct.transitions_table(
            self._transition_matrix(), self.result.group_names, d.people_decimals))
        self.transitions_note.setText(ct.transitions_note(len(d.score), self.result, self.chosen))

    # ------------------------------------------------------------------ plots
    def _refresh_plots(self) -> None:
        if self.result is None:
            return
        self.plots.update_markers(self.chosen)
        i = self.plot_tabs.currentIndex()
        if i == 3:
            t = 0 if self.result.settings.definition == "CAL" else self.threshold_index
            self.plots.draw_gain(t, self.chosen[t])
        elif i == 4:
            self.plots.draw_strip(self._run_data, self.chosen)

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
        rule = cf.applied_rule(res, self.chosen, self._run_settings)
        self.state.set_thresholds(cf.chosen_thresholds(res, self.chosen), group_specific=True,
                                  rules=[rule])
        ws = ", ".join(ct.w_text(w) for w in rule["w"])
        self._status_message(f"Corrected thresholds applied (w = {ws}): the Audit page shows them.")

    def add_as_scenario(self) -> str | None:
        """The corrected thresholds at the chosen w's as a Decision-table scenario."""
        from ...scenarios import Scenario

        res, d = self.result, self.state.data
        if res is None or d is None or self._run_data is not d:
            self._show_error("Run the correction on the current data first.")
            return None
        values = np.asarray(cf.chosen_thresholds(res, self.chosen), dtype=float).reshape(d.n_groups, -1)
        ws = cf.chosen_ws(res, self.chosen)
        scenario = Scenario(
            f"{res.settings.definition} correction (w = {', '.join(ct.w_text(w) for w in ws)})",
            "group_thresholds",
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
            out["chosen_w"] = cf.chosen_ws(self.result, self.chosen)
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
        if self.result is None:
            return {}
        return cf.export_settings(self.result, self.chosen, self._run_settings)

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
        d = self._run_data
        return correction_tables(res, c, score_decimals=d.score_decimals if d else None,
                                 people_decimals=d.people_decimals if d else None)
