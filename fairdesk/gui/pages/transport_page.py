"""Transport & conformal: treat every group as if it were the reference group (Berk,
Kuchibhotla & Tchetgen Tchetgen 2021).

Scores tab — the settings row on top (reference group, threshold, ties, coverage, p̂(1),
seed); tables on the left (selection and error rates before and after transport, the
conformal prediction sets with the coverage on the reference group's test split, Berk-style
confusion tables at the threshold and at a target cost ratio); plots on the right (each
group's score distribution against the reference group's before and after transport with
the overlap shaded, the selection rate at every threshold and the transport maps). The analysis
re-runs by itself in the worker when the data or a setting changes (it is fast).

Features tab — choose extra numeric columns as features, run the paper's Algorithm 2 (batch
assignment problems, averaged, extended by nearest neighbours), see each feature's
histograms (reference, original, transported) and the correlation matrices side by side,
and export the transported rows to rescore them with the agency's model.

The numbers come from fairdesk.engines.transport / conformal / confusion_tables; the tables
and sentences from fairdesk.reports.transport_tables (the workbook writes the same tables);
the plots are drawn by transport_plots. This page holds the settings and the layout.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRegularExpression, QSignalBlocker, Qt, QTimer
from PySide6.QtGui import QKeySequence, QRegularExpressionValidator
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFrame, QGridLayout, QGroupBox, QHBoxLayout,
                               QHeaderView, QLabel, QLineEdit, QScrollArea, QStackedWidget,
                               QTabWidget, QVBoxLayout, QWidget)

from ...engines.conformal import DEFAULT_SPLIT_VALUES
from ...engines.transport import FeatureResult, TransportResult, TransportSettings, run_transport
from ...errors import FairDeskError
from ...present.formats import parse_number
from ...reports.transport_tables import (PROB_LABELS, PROB_TIPS, TIES_TIPS, berk_caption,
                                         berk_table, conformal_table, confusion_choice,
                                         cost_html, cost_sentence, coverage_html, rate_page_notes,
                                         rates_table, split_sentence, threshold_text)
from ..notes_panel import NotesPanel
from ..palette import group_color, swatch_html, swatch_icon
from ..table_model import ResultTable
from ..controls import message_label, side_by_side, tabs
from ..dialogs import ask_output_path
from .base import Page, note_label
from .transport_plots import FeatureTab, ScorePlots, button, combo_box, fit_rows, spin_box

FLOAT_RE = QRegularExpression(r"^\s*[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?\s*$")
DEBOUNCE_MS = 250



def _grid_box(layout, title: str, tip: str) -> QGridLayout:
    box = QGroupBox(title)
    box.setToolTip(tip)
    layout.addWidget(box, 3)
    g = QGridLayout(box)
    g.setContentsMargins(6, 2, 6, 4)
    g.setHorizontalSpacing(6)
    g.setVerticalSpacing(3)
    return g


def _place(grid: QGridLayout, rows) -> None:
    """Rows of (label, widget, column span) triples."""
    for r, row in enumerate(rows):
        for i, (label, widget, span) in enumerate(row):
            grid.addWidget(QLabel(label), r, 2 * i)
            grid.addWidget(widget, r, 2 * i + 1, 1, span)


class TransportPage(Page):
    split_fraction = 0.52
    key = "transport"
    title = "Transport & conformal"
    nav_tip = ("Treat every group as if it were the reference group: transport the scores "
               "and features onto the reference group's, conformal prediction sets, and "
               "Berk-style confusion tables")

    def __init__(self, state, worker, parent=None):
        super().__init__(state, worker, parent)
        self.result: TransportResult | None = None
        self._generation = 0
        self._job = None
        self._threshold_edited = False
        self._applying = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(lambda: self.when_shown(self.run))  # on demand
        self._build()
        self.state.dataChanged.connect(self._data_changed)
        self.state.thresholdsChanged.connect(self._thresholds_changed)
        self._data_changed()


    # ================================================================ layout
    def _build(self) -> None:
        outer = self.page_layout()
        lay = self.add_empty_stack(outer, "Open a data file and map its columns (score, group) to transport "
                            "the scores onto a reference group.")
        self.tabs = QTabWidget()
        lay.addWidget(self.tabs)
        self.tabs.addTab(self._build_scores_tab(), "Scores, prediction sets && confusion tables")
        self.tabs.setTabToolTip(0, "Transport the scores onto the reference group and judge the "
                                   "result")
        self.feature_tab = FeatureTab(self)
        self.tabs.addTab(self.feature_tab, "Features")
        self.tabs.setTabToolTip(1, "Transport extra numeric columns (features) onto the "
                                   "reference group's joint distribution (Algorithm 2)")

    def _build_scores_tab(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        lay.setContentsMargins(2, 4, 2, 2)
        lay.setSpacing(4)
        top = QHBoxLayout()
        top.setSpacing(6)
        lay.addLayout(top)
        g = _grid_box(top, "Score transport",
                      "Each group's scores are mapped onto the reference group's distribution by "
                      "the monotone (quantile–quantile) optimal transport map: a person at the "
                      "p-th percentile of their group gets the reference group's p-th percentile "
                      "score. The order within a group never changes.")
        self.ref_combo = combo_box([], "The reference (more privileged) group: the others are "
                                "treated as if they were members of it", self._settings_edited)
        self.ref_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.ref_combo.setMinimumContentsLength(12)
        self.threshold_edit = QLineEdit()
        self.threshold_edit.setValidator(QRegularExpressionValidator(FLOAT_RE, self.threshold_edit))
        self.threshold_edit.setMaximumWidth(90)
        self.threshold_edit.setToolTip("Threshold for the selection rates and the confusion "
                                       "tables, in the units of the score. It follows the "
                                       "application's threshold (Tiers page) until you type "
                                       "another.")
        self.threshold_edit.textEdited.connect(self._threshold_typed)
        self.ties_combo = combo_box(
            [("move together", "together", TIES_TIPS["together"]),
             ("random order (seeded)", "random", TIES_TIPS["random"])],
            "What happens to equal scores.\n\nMove together: " + TIES_TIPS["together"]
            + "\n\nRandom order: " + TIES_TIPS["random"], self._settings_edited)
        _place(g, [[("Reference", self.ref_combo, 1), ("Threshold", self.threshold_edit, 1)],
                   [("Ties", self.ties_combo, 1)]])
        g = _grid_box(top, "Conformal prediction sets",
                      "For each person, the set of outcomes ({0}, {1}, both, or none) that "
                      "contains the true outcome with the chosen probability — guaranteed for "
                      "the reference group, on whose data the sets are built")
        self.coverage_spin = spin_box(50.0, 99.9, 90.0, "Coverage 1 − α: the share of the "
                                      "reference group's people whose true outcome must be in "
                                      "their prediction set (90% is α = 0.1, as in the paper)",
                                      self._settings_edited, suffix=" %", step=5.0, decimals=1)
        self.prob_combo = combo_box([(label, key, PROB_TIPS[key]) for key, label in PROB_LABELS],
                                 "Where the probability p(1) of the positive outcome comes from. "
                                 "Automatic: " + PROB_TIPS["auto"], self._settings_edited)
        self.seed_spin = spin_box(0, 2_147_483_647, 0, "Random seed of the random split and the "
                               "random tie order: the same seed, data and settings give the same "
                               "results. Saved in the project and the workbook.",
                               self._settings_edited)
        _place(g, [[("Coverage", self.coverage_spin, 1), ("Seed", self.seed_spin, 1)],
                   [("Probability", self.prob_combo, 3)]])
        run_box = QVBoxLayout()
        self.run_button = button("Run again", "The analysis re-runs by itself when a setting "
                                  "changes; run it again now (Ctrl+R)", self.run)
        self.run_button.setShortcut(QKeySequence("Ctrl+R"))
        self.status = note_label("")
        self.status.setMinimumWidth(150)
        self.scenario_button = button("Add as scenario", "Add 'flag when the transported score "
                                       "is at or above the threshold' to the Decision table",
                                       self.add_as_scenario)
        for wdg, stretch in ((self.run_button, 0), (self.scenario_button, 0), (self.status, 1)):
            run_box.addWidget(wdg, stretch)
        top.addLayout(run_box, 2)
        self.message = message_label("error")
        lay.addWidget(self.message)

        self.splitter = side_by_side()
        lay.addWidget(self.splitter, 1)
        self.table_tabs = tabs()
        self.plots = self.plot_tabs = ScorePlots(on_error=self._show_error)
        self.dist_group = self.plots.group
        self.before_panel, self.after_panel = self.plots.before, self.plots.after
        self.sel_panel, self.map_panel = self.plots.selection, self.plots.maps
        self.fill_split(self.table_tabs, self.plots)
        self._build_rate_tab()
        self._build_conformal_tab()
        self._build_confusion_tab()
        return w

    def _tab(self, title: str, tip: str) -> QVBoxLayout:
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(2, 4, 2, 2)
        scroll = QScrollArea()  # long notes (many groups' warnings) scroll, never overlap
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setWidget(w)
        self.table_tabs.addTab(scroll, title)
        self.table_tabs.setTabToolTip(self.table_tabs.count() - 1, tip)
        return v

    def _build_rate_tab(self) -> None:
        v = self._tab("Rates before/after", "Selection and error rates before and after transport")
        self.rate_table = ResultTable("Rates before and after transport",
                                      "Rates at the threshold per group, with the original "
                                      "scores (before) and the transported scores (after)")
        self.rate_note = NotesPanel()
        for wdg, stretch in ((self.rate_table, 10), (self.rate_note, 0), (note_label(
                "<b>Reading it.</b> Transport gives every group the reference group's score "
                "distribution, so after it every group is flagged at the reference group's rate "
                "at any threshold (prediction parity; the largest gap shows how exactly). Error "
                "rates then differ where the groups' outcomes differ at the same transported "
                "score."), 0)):
            v.addWidget(wdg, stretch)
        v.addStretch(1)

    def _build_conformal_tab(self) -> None:
        v = self._tab("Prediction sets", "Conformal prediction sets per group and the coverage")
        self.coverage_label = note_label()
        self.coverage_label.setStyleSheet("")
        self.coverage_label.setToolTip("Coverage: the share of the reference group's test rows "
                                       "whose observed outcome is in their prediction set, with "
                                       "its exact 95% (Clopper–Pearson) interval. Split "
                                       "conformal guarantees at least 1 − α on average.")
        self.conf_table = ResultTable("Prediction sets",
                                      "Share of each kind of prediction set on each group's "
                                      "test rows (Berk et al., Table 3), with the original and "
                                      "the transported scores")
        for wdg, stretch in ((self.coverage_label, 0), (self.conf_table, 10), (note_label(
                "Each group has a row with its original scores and one with its scores "
                "transported onto the reference group. Shares are of the group's test rows. "
                "Coverage: share whose true outcome is in the set, with its exact 95% "
                "interval."), 0)):
            v.addWidget(wdg, stretch)
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
        self.split_edits, self.prop_spins = {}, {}
        columns, proportions = QWidget(), QWidget()
        cl, pl = QGridLayout(columns), QGridLayout(proportions)
        for i, (name, share) in enumerate((("train", 40), ("calibration", 30), ("test", 30))):
            e = self.split_edits[name] = QLineEdit(", ".join(DEFAULT_SPLIT_VALUES[name]))
            e.setToolTip(f"Values of the split column meaning {name} (comma-separated, any case)")
            e.editingFinished.connect(self._settings_edited)
            e.setMinimumWidth(60)
            cl.addWidget(QLabel(f"{name.capitalize()} values"), 0, i)
            cl.addWidget(e, 1, i)
            self.prop_spins[name] = spin_box(0, 100, share, "Share of each group's rows drawn at "
                                          f"random (seeded) into the {name} split. Ignored "
                                          "while 'automatic' is ticked.", self._settings_edited,
                                          suffix=" %")
            pl.addWidget(QLabel(name.capitalize()), 0, i)
            pl.addWidget(self.prop_spins[name], 1, i)
        self.prop_auto = QCheckBox("automatic")
        self.prop_auto.setChecked(True)
        self.prop_auto.setToolTip("Automatic: 40% / 30% / 30% when p(1) must be fitted, 0% / 50% "
                                  "/ 50% when the score is already a probability")
        self.prop_auto.toggled.connect(self._settings_edited)
        self.prop_auto.toggled.connect(self._auto_toggled)
        pl.addWidget(self.prop_auto, 1, 3)
        pl.setColumnStretch(4, 1)
        for page, grid in ((columns, cl), (proportions, pl)):
            grid.setContentsMargins(0, 0, 0, 0)
            grid.setHorizontalSpacing(6)
            self.split_stack.addWidget(page)
        sl.addWidget(self.split_stack)
        self.split_note = note_label()
        sl.addWidget(self.split_note)
        v.addWidget(splits)

    def _build_confusion_tab(self) -> None:
        v = self._tab("Confusion tables", "Berk-style confusion tables per group and the "
                                          "threshold for a target cost ratio")
        refill = lambda _i: self._fill_confusion()  # noqa: E731
        self.conf_at = combo_box([("the threshold", "threshold", ""),
                               ("the target cost ratio", "cost", "")],
                              "Show the tables at the page's threshold, or at the threshold "
                              "that gives the reference group the target cost ratio", refill)
        self.conf_scores = combo_box([("original", "original", ""),
                                   ("transported", "transported", "")],
                                  "The groups' original scores, or their scores transported "
                                  "onto the reference group", refill)
        self.cost_spin = spin_box(0.01, 1000.0, 8.0, "Target cost ratio: false positives per false "
                               "negative (8 : 1 = the rule accepts eight false alarms to avoid "
                               "one miss, as if a miss cost eight times as much). Searched on "
                               "the reference group.", self._settings_edited, suffix=" : 1",
                               decimals=2)
        self.use_cost = button("Use as threshold", "Put the cost-ratio threshold in the page's "
                                "threshold box", self._use_cost_threshold)
        for items in (("At", self.conf_at, "Scores", self.conf_scores),
                      ("Target cost ratio FP : FN", self.cost_spin, self.use_cost)):
            row = QHBoxLayout()
            for item in items:
                row.addWidget(QLabel(item) if isinstance(item, str) else item)
            row.addStretch(1)
            v.addLayout(row)
        self.cost_label = note_label()
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
        v.addWidget(note_label("Rows: the truth; columns: the forecast. Classification error is "
                               "conditioned on the truth (FPR, FNR); forecasting error on the "
                               "forecast (FOR, FDR). Hover a cell for its definition."))
        self.confusion_widgets: list[ResultTable] = []

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
                    self.ref_combo.addItem(swatch_icon(group_color(g)), name)
                if old in names:
                    self.ref_combo.setCurrentIndex(names.index(old))
                else:  # the largest group (by weight) to start
                    weight = np.bincount(data.group, weights=data.weight, minlength=data.n_groups)
                    self.ref_combo.setCurrentIndex(int(np.argmax(weight)))
            if "transport" in self.state.seeds:
                with QSignalBlocker(self.seed_spin):
                    self.seed_spin.setValue(int(self.state.seeds["transport"]))
            if "feature transport" in self.state.seeds:
                self.feature_tab.seed.setValue(int(self.state.seeds["feature transport"]))
            self.split_stack.setCurrentIndex(0 if data.split is not None else 1)
            self._auto_toggled(self.prop_auto.isChecked())
            self._threshold_edited = False
            self._sync_threshold()
            self.feature_tab.reset(data)
        finally:
            self._applying = False
        self.stack.setCurrentIndex(1)
        self._clear_results("Computing…")
        self.when_shown(self.run)  # computed when the page is first shown

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
        threshold = parse_number(text.replace(",", "."))  # the box takes 0,5 as 0.5
        if not math.isfinite(threshold):
            raise FairDeskError("Type a threshold (a number in the units of the score).")
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

    @property
    def features(self) -> FeatureResult | None:
        """The feature transport's result (Features tab), None before it runs."""
        return self.feature_tab.result

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
                            f"{threshold_text(result.threshold, data)}.")
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

    def _set_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    # ================================================================ filling
    def _clear_results(self, note: str) -> None:
        self.status.setText(note)
        for t in (self.rate_table, self.conf_table):
            t.set_table(None)
        self.coverage_label.setText("")
        self.cost_label.setText("")
        self._clear_confusion_grid()
        self.plots.show_result(None, None)

    def _fill_all(self) -> None:
        res, data = self.result, self.state.data
        if res is None or data is None:
            return
        self.rate_table.set_table(rates_table(res, data))
        fit_rows(self.rate_table, 14)
        self.rate_note.set_notes(*rate_page_notes(res, data, self.state.group_specific
                                                  and not self._threshold_edited))
        self._fill_conformal()
        self._fill_confusion()
        self.plots.show_result(res, data)
        if self.features is not None and self.features.reference != res.reference:
            self.feature_tab.note.setText("The reference group changed: run the feature transport again.")

    def _fill_conformal(self) -> None:
        res, data = self.result, self.state.data
        self.conf_table.set_table(conformal_table(res))
        fit_rows(self.conf_table, 16)
        self.coverage_label.setText(coverage_html(res))
        self.split_note.setText(split_sentence(res, data))
        c = res.conformal
        if c is not None and data.split is None and self.prop_auto.isChecked():
            used = (0, 50, 50) if c.method == "score" else (40, 30, 30)  # the proportions used
            for name, value in zip(("train", "calibration", "test"), used):
                with QSignalBlocker(self.prop_spins[name]):
                    self.prop_spins[name].setValue(value)

    def _clear_confusion_grid(self) -> None:
        while self.conf_grid.count():
            item = self.conf_grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.confusion_widgets = []

    def _fill_confusion(self) -> None:
        res, data = self.result, self.state.data
        self._clear_confusion_grid()
        if res is None or data is None:
            return
        self.cost_label.setText(cost_html(res, data))
        self.use_cost.setEnabled(res.tables_cost_before is not None)
        tables = confusion_choice(res, self.conf_at.currentData(), self.conf_scores.currentData())
        if tables is None:
            return
        cols = 2
        for g, name in enumerate(tables.group_names):
            box = QWidget()
            bl = QVBoxLayout(box)
            bl.setContentsMargins(0, 0, 0, 0)
            bl.setSpacing(1)
            bl.addWidget(QLabel(f"<b>{swatch_html(g)} "
                                f"{berk_caption(tables, g, data, res.reference)}</b>"))
            t = ResultTable(f"Confusion table of {name}", f"Confusion table of {name}",
                            sortable=False)
            t.set_table(berk_table(tables, g, data))
            t.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
            t.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeToContents)
            t.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
            t.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
            t.fit_height(3, 3)
            t.setFixedHeight(t.minimumHeight())
            t.setMinimumWidth(250)
            bl.addWidget(t)
            bl.addWidget(note_label(cost_sentence(tables, g)))
            self.conf_grid.addWidget(box, g // cols, g % cols)
            self.confusion_widgets.append(t)
        self.conf_grid.setRowStretch(len(tables.group_names) // cols + 1, 1)

    def _use_cost_threshold(self) -> None:
        res = self.result
        if res is None or res.cost_ratio is None or math.isnan(res.cost_ratio.threshold):
            return
        self.threshold_edit.setText(f"{res.cost_ratio.threshold * res.sign:.10g}")
        self._threshold_edited = True
        self.run()


    # ================================================================ export
    def export_rows_dialog(self) -> None:
        if self.state.data is None or (self.result is None and self.features is None):
            self._show_error("Nothing to export yet: wait for the score transport, or run the "
                             "feature transport.")
            return
        path = ask_output_path(self, "Export transported rows", self.state.table,
                               "transported.csv")
        if path:
            self.export_rows(path)

    def export_rows(self, path: str):
        from ...reports.transport_report import write_transported_rows

        if self.state.table is None or self.state.data is None:
            self._show_error("Open and map a data file before exporting.")
            return None
        source = self.state.table.source
        return self.worker.start(write_transported_rows, path, source, self.state.data,
                                 self.result, self.features, title="Writing transported rows",
                                 on_result=lambda p: self.feature_tab.note.setText(f"Saved {p}"))

    # ================================================================ settings
    def settings(self) -> dict:
        try:
            s = self.current_settings().to_dict()
        except FairDeskError:
            s = {}
        s["threshold_edited"] = bool(self._threshold_edited)
        s["split_proportions_auto"] = self.prop_auto.isChecked()
        s["features"] = self.feature_tab.settings().to_dict()
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
            if s.get("features"):
                self.feature_tab.apply(s["features"])
            for tabs, key in ((self.tabs, "tab"), (self.table_tabs, "table_tab"),
                              (self.plot_tabs, "plot_tab")):
                if key in s:
                    tabs.setCurrentIndex(int(s[key]))
        finally:
            self._applying = False
        if self.state.data is not None:
            self.run()

    def export_settings(self) -> dict:
        from ...reports.transport_report import recorded_settings

        return recorded_settings(self.result, self.features)

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
        scenario = Scenario(f"Transported onto {res.reference_name} ≥ "
                            f"{threshold_text(res.threshold, self.state.data)}", "probabilities",
                            {"engine": "fairdesk.engines.transport:scenario_probabilities",
                             "settings": settings},
                            {"engine": "Transport & conformal", "seed": res.settings.seed})
        return self.state.add_scenario(scenario)
