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

import time

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt, QTimer
from PySide6.QtGui import QFontMetrics, QKeySequence
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QGroupBox, QHBoxLayout,
                               QHeaderView, QLabel, QProgressBar, QPushButton, QSlider, QSpinBox,
                               QSplitter, QTabWidget, QVBoxLayout, QWidget)

from ..palette import message_colour, message_style, muted_color, muted_css
from ...engines.threshold_correction import CorrectionSettings, run_correction, subsample_mode
from ...errors import FairDeskError
from ...metrics.confusion import GroupScores
from ...metrics.fairness import DEFINITIONS
from ...reports import correction_figures as cf
from ...reports import correction_tables as ct
from ..table_model import ResultTable
from .base import Page, note_label
from .correction_plots import CorrectionPlots


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
        self._heavy_timer = QTimer(self, singleShot=True, interval=60)
        self._heavy_timer.timeout.connect(self.refresh_now)
        self._build()
        self.worker.progress.connect(self._on_progress)
        state.dataChanged.connect(self._on_data_changed)
        state.thresholdsChanged.connect(self._refresh_threshold_choice)
        self._on_data_changed()

    def toolTip(self) -> str:  # the navigation entry's tooltip
        return ct.TIPS["page"]

    # ================================================================== layout
    def _tip(self, widget, key: str, signal=None, slot=None):
        """``widget`` with its tooltip from :data:`ct.TIPS`, ``signal`` connected to ``slot``
        (default: settings edited)."""
        widget.setToolTip(ct.TIPS[key])
        if signal is not None:
            getattr(widget, signal).connect(slot or self._settings_edited)
        return widget

    def _combo(self, items, key: str, slot=None) -> QComboBox:
        """A combo of (text, data, tooltip) items; its tooltip from :data:`ct.TIPS`."""
        combo = QComboBox()
        for text, data, tip in items:
            combo.addItem(text, data)
            combo.setItemData(combo.count() - 1, tip, Qt.ToolTipRole)
        return self._tip(combo, key, "currentIndexChanged", slot)

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
                nxt = nxt[0] if isinstance(nxt, tuple) else nxt
                label.setToolTip(nxt.toolTip() if isinstance(nxt, QWidget) else "")
                layout.addWidget(label)
            else:  # a widget, or (widget, stretch)
                layout.addWidget(*(item if isinstance(item, tuple) else (item,)))

    def _build(self) -> None:
        outer = QVBoxLayout(self, spacing=4)
        outer.setContentsMargins(6, 6, 6, 6)
        self.settings_box = self._tip(QGroupBox("Correction settings"), "settings")
        outer.addWidget(self.settings_box)
        rows = QVBoxLayout(self.settings_box, spacing=4)
        rows.setContentsMargins(8, 4, 8, 6)
        row0, row1, row2 = (QHBoxLayout(spacing=6) for _ in range(3))
        for r in (row0, row1, row2):
            rows.addLayout(r)
        # row 0: the definition, its meaning, the seed; row 1: thresholds, subsamples;
        # row 2: the weights, Run
        self.definition = self._combo([(f"{key} — {d.name}", key, d.meaning)
                                       for key, d in DEFINITIONS.items()], "definition")
        self.definition.setCurrentIndex(self.definition.findData("ERB"))
        self.definition.currentIndexChanged.connect(self._definition_changed)
        self.meaning = QLabel(styleSheet=muted_css(), wordWrap=True)
        self.thresholds = self._combo([
            ("The study's three: Oregon low, mean, Oregon high", "oregon", ct.TIPS["oregon"]),
            ("The thresholds of the Tiers page", "tiers", "")], "thresholds")
        self.thresholds.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.thresholds.setMinimumContentsLength(16)
        self.subsampling = self._combo([(text, key, ct.SUBSAMPLING_TIPS[key])
                                        for key, text in ct.SUBSAMPLING], "subsampling")
        self.seed = QSpinBox(maximum=2_147_483_647)
        self.seed.setValue(self.state.seed("threshold_correction"))
        self._tip(self.seed, "seed", "valueChanged")
        for name, value in (("w_start", 0.0), ("w_stop", 1.0), ("w_step", 0.01)):
            spin = self._tip(QDoubleSpinBox(decimals=3, maximum=1.0, singleStep=0.01), name)
            spin.setMinimum(0.001 if name == "w_step" else 0.0)
            spin.setValue(value)
            spin.valueChanged.connect(self._settings_edited)
            setattr(self, name, spin)
        self.w_count = QLabel(styleSheet=muted_css())
        self.w_count.setMinimumWidth(QFontMetrics(self.w_count.font()).horizontalAdvance(
            "= 1,001 values") + 6)
        for name, low in (("subsamples", 1), ("audit_subsamples", 2)):
            spin = self._tip(QSpinBox(minimum=low, maximum=100_000, groupSeparatorShown=True), name)
            spin.setValue(200)
            spin.valueChanged.connect(self._settings_edited)
            setattr(self, name, spin)
        self.run_button = self._tip(QPushButton("Run", styleSheet=(
            "QPushButton { font-weight: bold; padding: 3px 18px; }")), "run", "clicked", self.run)
        self.run_button.setShortcut(QKeySequence("Ctrl+R"))
        self.cancel_button = self._tip(QPushButton("Cancel", enabled=False), "cancel", "clicked",
                                       self.cancel)
        self._add(row0, "Definition", self.definition, (self.meaning, 1), 8, "Seed", self.seed)
        self._add(row1, "Thresholds", (self.thresholds, 1), 8, "Subsampling", self.subsampling, 8,
                  "Subsamples I", self.subsamples, 8, "Assessment J", self.audit_subsamples)
        self._add(row2, QLabel("Penalty weights w", toolTip=ct.W_TIP), QLabel("from"),
                  self.w_start, QLabel("to"), self.w_stop, QLabel("step"), self.w_step, self.w_count)
        row2.addStretch(1)
        self._add(row2, self.run_button, self.cancel_button)

        status_row = QHBoxLayout()
        self.status = QLabel(wordWrap=True)
        self.progress = QProgressBar(minimum=0, maximum=1000, textVisible=True, minimumWidth=300)
        self.progress.hide()
        self._add(status_row, (self.status, 1), self.progress)
        outer.addLayout(status_row)

        rl = self.add_empty_stack(outer)
        self.placeholder = self.empty
        rl.addLayout(self._build_choice_row())
        self.splitter = QSplitter(Qt.Horizontal, childrenCollapsible=False)
        rl.addWidget(self.splitter, 1)
        self.table_tabs = QTabWidget(documentMode=True)
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
        box = QGroupBox(toolTip=ct.W_TIP)
        bl = QHBoxLayout(box)
        bl.setContentsMargins(8, 3, 8, 3)
        self.threshold_combo = self._tip(QComboBox(), "threshold_combo", "currentIndexChanged",
                                         lambda _i: self._refresh())
        self.threshold_combo.setSizeAdjustPolicy(QComboBox.AdjustToContents)
        self.w_label = QLabel("<b>w</b>", toolTip=ct.W_TIP)
        self.w_slider = self._tip(QSlider(Qt.Horizontal, minimumWidth=60), "w_slider",
                                  "valueChanged", self._slider_moved)
        self.w_value = QLabel(minimumWidth=135)
        self.same_w = self._tip(QCheckBox("Same w for all"), "same_w", "toggled",
                                self._same_w_toggled)
        self.suggest_button = self._tip(QPushButton("Suggested w"), "suggest", "clicked",
                                        self.use_suggested)
        self._add(bl, QLabel("<b>Threshold</b>"), self.threshold_combo, 4, self.w_label,
                  (self.w_slider, 1), self.w_value, self.same_w, self.suggest_button)
        self.apply_button = self._tip(QPushButton("Apply corrected thresholds", styleSheet=(
            "QPushButton { font-weight: bold; padding: 5px 12px; }")), "apply", "clicked",
            self.apply_corrected)
        self.scenario_button = self._tip(QPushButton("Add as scenario"), "scenario", "clicked",
                                         self.add_as_scenario)
        row = QHBoxLayout(spacing=6)
        self._add(row, (box, 1), self.apply_button, self.scenario_button)
        return row

    def _tab(self, name: str, label: str, note: str = "") -> QVBoxLayout:
        """A table tab: a title line, the table and a note under it."""
        tab_tip, table_tip = ct.TIPS[f"tab_{name}"]
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(2, 4, 2, 2)
        title, view, note_w = note_label(), ResultTable(label, table_tip), note_label(note)
        for widget, stretch in ((title, 0), (view, 1), (note_w, 0)):
            v.addWidget(widget, stretch)
        for part, widget in (("title", title), ("table", view), ("note", note_w)):
            setattr(self, f"{name}_{part}", widget)
        self.table_tabs.addTab(w, label)
        self.table_tabs.setTabToolTip(self.table_tabs.count() - 1, tab_tip)
        return v

    def _build_tables(self) -> None:
        v = self._tab("summary", "Thresholds")
        self.summary_title.hide()
        self.summary_help = note_label(ct.SUMMARY_HELP)
        self.summary_help.setStyleSheet(message_style("info", padding=8))
        v.insertWidget(2, self.summary_help)
        v.setStretch(1, 1)  # the table grows to its rows' height, then the help and note
        self._tab("rates", "Rates by group", ct.RATES_NOTE)
        self._tab("measures", "Fairness measures")
        self._tab("transitions", "Transitions")
        self.transitions_title.hide()

    # ================================================================== helpers
    @property
    def threshold_index(self) -> int:
        return max(self.threshold_combo.currentIndex(), 0)

    @property
    def running(self) -> bool:
        return self._job is not None

    def _weights_setting(self) -> tuple:
        return cf.weight_grid(round(self.w_start.value(), 6), round(self.w_stop.value(), 6),
                              round(self.w_step.value(), 6))

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
        unit.setToolTip(ct.SUBSAMPLING_TIPS["unit"] if has_ids else
                        "Needs an id column: map one on the Data page")
        if not has_ids and self.subsampling.currentData() == "unit":
            self.subsampling.setCurrentIndex(self.subsampling.findData("auto"))
        self._refresh_threshold_choice()
        self._update_idle()

    def _refresh_threshold_choice(self) -> None:
        """The Tiers-page option names those thresholds (or says why they cannot be used)."""
        usable, text, tip = ct.tiers_option(cf.usable_rules(self.state.threshold_rules))
        item = self.thresholds.model().item(1)
        item.setEnabled(usable)
        item.setText(text)
        item.setToolTip(tip)
        if not usable and self.thresholds.currentIndex() == 1:
            self.thresholds.setCurrentIndex(0)
        self._update_idle()

    def _definition_changed(self, *_args) -> None:
        d = DEFINITIONS[key := self.definition.currentData() or "ERB"]
        self.meaning.setText(d.meaning)
        self.meaning.setToolTip(f"{d.name} ({key}): {d.meaning}")
        self._settings_edited()

    def _settings_edited(self, *_args) -> None:
        try:
            text, color, tip = f"= {len(self._weights_setting()):,} values", muted_color().name(), ""
        except FairDeskError as err:
            text, color, tip = "invalid", message_colour("error"), str(err)
        self.w_count.setText(text)
        self.w_count.setStyleSheet(f"color:{color}")
        self.w_count.setToolTip(tip)
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
        text = ct.idle_text(d, self.result is not None, self._idle_message)
        if text is not None:
            self.placeholder.setText(text)
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
        if cf.settings_changed(self.settings(), self._run_settings):
            text += " <b>The settings changed since this run: Run again to update.</b>"
        return text

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
            seed=self.seed.value(), subsampling=mode, rules=tuple(cf.rules_for_run(
                d, self.thresholds.currentData(), self.state.threshold_rules)),
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
        self.status.setText(ct.running_text(settings))
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
        self._stopped("The correction stopped: " + message, "The correction stopped. ")
        self._show_error(message, details)

    def _on_cancelled(self, rid: int) -> None:
        if self._job_over(rid):  # cancelled from the status bar
            self._stopped("Cancelled.", "Cancelled. ")

    def _stopped(self, status: str, idle_message: str) -> None:
        self._end_job()
        self.status.setText(status)
        self._idle_message = idle_message
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
        if data is not None or self._run_data is None:
            self._run_data = data if data is not None else self.state.data
        self.result = res
        self._transitions = None
        self.chosen = cf.choice_from_ws(res, self._pending_chosen)
        self._pending_chosen = None
        self._short = [cf.short_rule_name(r) for r in res.settings.rules]
        with QSignalBlocker(self.threshold_combo):
            self.threshold_combo.clear()
            for t, (head, name) in enumerate(zip(ct.threshold_headers(res), res.threshold_names())):
                self.threshold_combo.addItem(head)
                self.threshold_combo.setItemData(t, name, Qt.ToolTipRole)
        self.threshold_combo.setMinimumWidth(self.threshold_combo.sizeHint().width())
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

    def _slider_moved(self, value: int) -> None:
        if self.result is None or self._syncing:
            return
        self._set_w_index(value)

    def _line_moved(self, value: float) -> None:
        """A w line dragged on the Fairness or Thresholds plot: the nearest computed w."""
        if self.result is None or self._syncing:
            return
        self._set_w_index(cf.nearest_w(self.result, value))

    def _set_w_index(self, wi: int) -> None:
        targets = range(self.result.k) if self.same_w.isChecked() else [self.threshold_index]
        new = {**self.chosen, **{t: int(wi) for t in targets}}
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
        wi = cf.nearest_w(self.result, w)
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
        self._syncing = True
        try:
            self.w_slider.setValue(wi)
            self.plots.set_w(float(res.weights[wi]))
        finally:
            self._syncing = False
        tag = cf.w_tag(res, t, wi, ct.w_text)
        self.w_value.setText(f"<b>w = {ct.w_text(res.weights[wi])}</b> ({tag})")
        self.w_value.setToolTip(ct.W_TIP)

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
        wi = self.chosen[t]
        dec = self._run_data.score_decimals if self._run_data is not None else None
        view = self.summary_table
        view.set_table(ct.summary_table(res, self.chosen, dec))
        self._fit(view, range(1, res.k + 1))  # the thresholds share the width
        view.fit_height(max_rows=view.source.rowCount(), min_rows=6)
        self.summary_note.setText(ct.summary_note(res, self.chosen, dec))
        at = f"<b>Threshold {t + 1} ({self._short[t]})</b> at w = {ct.w_text(res.weights[wi])}"
        self.rates_table.set_table(ct.rates_table(res, self.chosen, t))
        self.rates_title.setText(f"{at}: each rate before and after the correction")
        self.measures_table.set_table(ct.measures_table(res, self.chosen, t))
        self._fit(self.measures_table, [0])
        self.measures_title.setText(f"{at}. Bold: the definition corrected for.")
        self.measures_note.setText(ct.measures_note(res))

    @staticmethod
    def _fit(view: ResultTable, stretch) -> None:
        """Columns as wide as their contents; those in ``stretch`` share what is left."""
        for c in range(view.source.columnCount()):
            view.horizontalHeader().setSectionResizeMode(
                c, QHeaderView.Stretch if c in stretch else QHeaderView.ResizeToContents)

    def _transition_matrix(self) -> np.ndarray:
        key = tuple(sorted(self.chosen.items()))
        if self._transitions is None or self._transitions[0] != key:
            self._transitions = (key, cf.chosen_transitions(self.result, self.chosen,
                                                            self._run_scores))
        return self._transitions[1]

    def _run_scores(self):
        """Per-group sorted scores of the data the result was computed on (the state's own
        when the data has not changed)."""
        if self.state.data is self._run_data and self.state.scores is not None:
            return self.state.scores
        if self._own_scores[0] is not self._run_data:
            self._own_scores = (self._run_data, GroupScores.from_data(self._run_data))
        return self._own_scores[1]

    def _refresh_transitions(self) -> None:
        if self.result is None or self.table_tabs.currentIndex() != TRANSITIONS_TAB:
            return
        d = self._run_data
        view = self.transitions_table
        view.set_table(ct.transitions_table(self._transition_matrix(), self.result.group_names,
                                            d.people_decimals))
        self._fit(view, range(1, view.source.columnCount()))
        self.transitions_note.setText(ct.transitions_note(len(d.score), self.result, self.chosen))

    # ------------------------------------------------------------------ plots
    def _refresh_plots(self) -> None:
        self.plots.refresh(self.chosen, self.threshold_index, self._run_data)

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
        if hasattr(self.window(), "statusBar"):
            self.window().statusBar().showMessage(
                f"Corrected thresholds applied (w = {ws}): the Audit page shows them.", 8000)

    def add_as_scenario(self) -> str | None:
        """The corrected thresholds at the chosen w's as a Decision-table scenario."""
        res, d = self.result, self.state.data
        if res is None or d is None or self._run_data is not d:
            self._show_error("Run the correction on the current data first.")
            return None
        return self.state.add_scenario(cf.scenario(res, self.chosen, d.group_names, ct.w_text))

    # ================================================================== settings and export
    def settings(self) -> dict:
        out = {"definition": self.definition.currentData(),
               "thresholds": self.thresholds.currentData(),
               "weights": {k: round(getattr(self, f"w_{k}").value(), 6)
                           for k in ("start", "stop", "step")},
               "subsamples": self.subsamples.value(),
               "audit_subsamples": self.audit_subsamples.value(),
               "subsampling": self.subsampling.currentData(),
               "seed": self.seed.value(),
               "same_w": self.same_w.isChecked()}
        out["chosen_w"] = (cf.chosen_ws(self.result, self.chosen) if self.result is not None
                           else list(self._pending_chosen) if self._pending_chosen else None)
        return out

    def apply_settings(self, settings: dict) -> None:
        s = settings or {}
        widgets = (self.definition, self.thresholds, self.w_start, self.w_stop, self.w_step,
                   self.subsamples, self.audit_subsamples, self.subsampling, self.seed, self.same_w)
        blockers = [QSignalBlocker(w) for w in widgets]
        try:
            i = self.definition.findData(s.get("definition", "ERB"))
            self.definition.setCurrentIndex(max(i, 0))
            for combo, key, default in ((self.thresholds, "thresholds", "oregon"),
                                        (self.subsampling, "subsampling", "auto")):
                i = combo.findData(s.get(key, default))
                if i >= 0 and combo.model().item(i).isEnabled():
                    combo.setCurrentIndex(i)
            w = s.get("weights") or {}
            for k, default in (("start", 0.0), ("stop", 1.0), ("step", 0.01)):
                getattr(self, f"w_{k}").setValue(float(w.get(k, default)))
            self.subsamples.setValue(int(s.get("subsamples", 200)))
            self.audit_subsamples.setValue(int(s.get("audit_subsamples", 200)))
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
        d = self._run_data
        if d is not None:
            cf.add_transitions(res, self.chosen, self._run_scores)
        return correction_tables(res, cf.full_choice(res, self.chosen),
                                 score_decimals=d.score_decimals if d else None,
                                 people_decimals=d.people_decimals if d else None)
