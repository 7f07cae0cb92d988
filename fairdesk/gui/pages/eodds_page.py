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

import html

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QGridLayout, QGroupBox,
                               QHBoxLayout, QLabel, QPushButton, QSpinBox, QSplitter, QVBoxLayout,
                               QWidget)

from ..palette import muted_css
from ...engines.equalized_odds import (CONSTRAINT_TITLES, OBJECTIVE_TITLES, EOddsResult,
                                       EOddsSettings, run_equalized_odds)
from ...engines.preferential import ALL_FAMILIES, FAMILY_TITLES
from ...errors import FairDeskError
from ...present.formats import format_rate
from ...reports.eodds_report import group_table, summary_sentence, summary_table
from ..plots import PlotPanel
from ..table_model import ResultTable
from ..controls import check, message_label, set_available, side_by_side, tabs
from ..dialogs import ask_output_path
from .base import Page
from .eodds_plots import draw_curves, draw_roc

DEBOUNCE_MS = 350
FIRST_COLUMN_MAX = 135  # group names beyond are elided in the middle (full name as tooltip)


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
    nav_tip = ("Equalized odds: each group's ROC region, the common operating point, and the "
               "thresholds and probabilities (fixed or smooth curves) that reach it")

    def __init__(self, state, worker, parent=None):
        super().__init__(state, worker, parent)
        self.result: EOddsResult | None = None
        self._result_for = None  # (data, settings dict) the result belongs to
        self._generation = 0
        self._job = None
        self._split_done = False
        self._debounce = self.debounce(DEBOUNCE_MS, lambda: self.when_shown(self.compute))
        self._build_ui()
        state.dataChanged.connect(self._on_data_changed)
        self._on_data_changed()


    # ------------------------------------------------------------------------------ UI
    def _build_ui(self) -> None:
        outer = self.page_layout()
        lay = self.add_empty_stack(outer, "Open a data file and map its columns (score, outcome, group) to "
                            "see the ROC regions and equalized odds.")
        lay.addWidget(self._build_settings())
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.RichText)
        self.summary.setStyleSheet("padding: 2px 4px;")
        lay.addWidget(self.summary)
        self.warn = message_label("warning")
        lay.addWidget(self.warn)

        self.splitter = side_by_side()
        lay.addWidget(self.splitter, 1)
        left = QSplitter(Qt.Vertical)
        left.setChildrenCollapsible(False)
        self.left_splitter = left
        self.plot_tabs = tabs()
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.plot_tabs)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)

        self.group_title = QLabel()
        self.group_title.setStyleSheet("font-weight: bold; padding: 2px;")
        self.group_table = ResultTable("Randomisation per group", "The chosen randomisation "
                                       "for each group: thresholds, probability and expected "
                                       "rates")
        left.addWidget(self._titled(self.group_title, self.group_table))
        self.summary_title = QLabel("All randomisations compared")
        self.summary_title.setStyleSheet("font-weight: bold; padding: 2px;")
        self.summary_table = ResultTable("All randomisations compared", "Every randomisation "
                                         "compared with the target point and the best "
                                         "group-blind threshold")
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
        self.plot_tabs.addTab(self.roc_panel, "ROC regions")
        self.plot_tabs.setTabToolTip(0, "ROC curves, hulls and feasible regions per group, their "
                                        "intersection and the chosen point")
        self.curve_panel = PlotPanel("Probability curves", "Score",
                                     "Probability of a positive decision",
                                     name="probability_curves", on_error=err)
        self.curve_panel.widget.setToolTip(
            "Each group's probability of a positive decision as a function of the score, for "
            "the randomisation chosen above (Small et al., Figures 1, 3 and 4)")
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
        self.draw_box = check("Also draw decisions with seed",
                              "Draw a 0/1 decision for every row from its probability. The seed "
                              "is written in the export: the same seed gives the same decisions. "
                              "Many agencies do not decide by chance: leave this off to export "
                              "probabilities only.")
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
        self.break_even.setStyleSheet(muted_css())
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
    def _titled(title: QLabel, table: ResultTable) -> QWidget:
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(2)
        v.addWidget(title)
        v.addWidget(table, 1)
        return w

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
        need = (t.horizontalHeader().height() + t.source.rowCount() * t.verticalHeader().defaultSectionSize()
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
        self.break_even.setText(f"break-even {format_rate(a / (a + b), 0)}" if on else "")

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
        self.when_shown(self.compute)  # computed when the page is first shown

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
        self._update_actions()

    def _update_actions(self, why: str = "") -> None:
        """The result's actions only while there is a result, else greyed with the reason."""
        have = self.result is not None
        why = why or "the equalized-odds solution has not been computed (yet)."
        for button in (self.scenario_button, self.export_rows_button):
            set_available(button, have, why)

    def _failed(self, gen, message: str, details: str) -> None:
        if gen != self._generation:
            return
        self._job = None
        self.result = None
        self._clear()
        self.summary.setText("")
        self.warn.setText(message)
        self.warn.show()
        for panel in (self.roc_panel, self.curve_panel):
            panel.show_message("No solution to draw: see the message above the table.")
        self._update_actions("no solution: " + message.split(". ")[0].rstrip(".") + ".")

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
        self._update_actions()
        self.group_table.set_table(None)
        self.summary_table.set_table(None)
        for panel in (self.roc_panel, self.curve_panel):
            panel.plot.clear()
            panel.legend.set_entries([])
        self.warn.hide()

    def _refresh(self) -> None:
        res, data = self.result, self.state.data
        if res is None or data is None:
            return
        fam = self._shown_family()
        head, rest = summary_sentence(res, fam, data.score_decimals)
        self.summary.setText(f"<b>{html.escape(head)}</b>{html.escape(rest)}")
        notes = [w for w in res.warnings if "cannot reach the target" in w or "Only one group" in w]
        self.warn.setText("\n".join(notes))
        self.warn.setVisible(bool(notes))
        table = group_table(res, fam, data.score_decimals, data.people_decimals)
        self.group_title.setText(table.title)
        self._show(self.group_table, table)
        self._show(self.summary_table, summary_table(res, self.family, data.score_decimals))
        self._fit_split()
        draw_roc(self.roc_panel, res, fam)
        draw_curves(self.curve_panel, res, fam, data)

    def _shown_family(self):
        res = self.result
        fam = res.family(self.family)
        return fam if fam is not None else res.fixed

    @staticmethod
    def _show(view: ResultTable, table) -> None:
        """Show ``table``; the names column at most FIRST_COLUMN_MAX (or 215 for the rules)
        wide, the last column stretched."""
        view.set_table(table)
        fm = view.horizontalHeader().fontMetrics()
        for c, col in enumerate(table.columns):  # as wide as the cells and the header's words
            words = max(fm.horizontalAdvance(w) for w in col.header.split("\n"))
            view.setColumnWidth(c, max(view.sizeHintForColumn(c), words + 16))
        first = FIRST_COLUMN_MAX if table.label_key == "group" else 215
        if view.columnWidth(0) > first:
            view.setColumnWidth(0, first)
        view.horizontalHeader().setStretchLastSection(True)

    # --------------------------------------------------------------------------- export
    def export_rows_dialog(self) -> None:
        if self.result is None or self.state.table is None:
            self._show_error("Compute the equalized-odds solution first.", "")
            return
        path = ask_output_path(self, "Export row probabilities", self.state.table,
                               "probabilities.csv")
        if path:
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
        from ...engines.equalized_odds import eodds_scenario

        res, data = self.result, self.state.data
        if res is None or data is None:
            return None
        scenario = eodds_scenario(res, data, self.family_combo.currentData())
        return None if scenario is None else self.state.add_scenario(scenario)
