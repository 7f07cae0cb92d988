"""The Audit page: how the current thresholds treat each group, in tables and plots.

Tables (left): rates and confusion counts per group, the nine fairness measures with a
balance bar, differences and ratios to a reference group, AUC and cross-AUC — each described
once in :mod:`fairdesk.reports.audit_tables` and shown with ``ResultTable``. Plots (right,
:mod:`fairdesk.gui.pages.audit_plots`): ROC curves with each group's operating point, a metric
against the threshold with a draggable threshold line, score distributions and calibration by
tier. A bootstrap adds mean ± SD to the tables.

Everything that depends on the threshold is O(G·k·log n) thanks to the prepared
``state.scores`` (sorted scores and cumulative weights). While the line is dragged, one
update per frame moves the line and the markers; the tables follow when it is released.
Ranking measures (AUC, cross-AUC, ROC curves), the metric-versus-threshold curves and the
histograms do not depend on the threshold and are computed once per data change.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QCheckBox, QHBoxLayout, QLabel, QSpinBox

from ...audit import AuditResult, run_audit
from ...bootstrap import BootstrapResult, bootstrap_audit
from ...errors import FairDeskError
from ...metrics.fairness import DEFINITIONS, Reliability
from ...metrics.ranking import roc_curve
from ...present.formats import format_count
from ...reports.audit_tables import (FOCUS, GROUP_TABLE_KEYS, compute_ranking, group_value,
                                     metric_grid, scenario_of, threshold_texts)
from ..controls import button, check, combo, settings_box, side_by_side, spin
from .audit_plots import AuditPlots, AuditTables, fill_group_combo
from .base import Page, note_label

__all__ = ["AuditPage", "GROUP_TABLE_KEYS", "compute_ranking"]

SYNC_RANKING_ROWS = 300_000  # above this, AUC and cross-AUC are computed in the worker
COMPUTING = ("computing…", "AUC and cross-AUC are being computed (see the status bar)")
NOT_COMPUTED = ("not computed", "The AUC computation was cancelled; use “Compute AUC and "
                "cross-AUC” on the AUC tab")


class AuditPage(Page):
    split_fraction = 0.56
    dragUpdated = Signal()  # a dragged line's markers were redrawn (tests wait for it)
    key = "audit"
    title = "Audit"
    nav_tip = ("Audit the current thresholds: rates and errors per group, the nine fairness "
               "measures, AUC and cross-AUC, plots, and bootstrap uncertainty")

    def __init__(self, state, worker, parent=None):
        super().__init__(state, worker, parent)
        self.result: AuditResult | None = None
        self.bootstrap: BootstrapResult | None = None
        self._boot_meta = None  # (data, thresholds, group_specific) the bootstrap was run at
        self._boot_pending = None
        self._boot_job = None
        self._ranking = None  # (data, auc, xauc, auc_overall)
        self._ranking_pending = None
        self._ranking_job = None
        self._live: np.ndarray | None = None  # thresholds shown (user units), moved by dragging
        self._grid_x = None
        self._grid_rates: dict[str, np.ndarray] = {}
        self._score_range = (0.0, 1.0)
        self._group_cols: list[tuple[str, str]] = []  # the group table's metrics
        self._focus: str | None = None  # the rate focus_rate highlights
        self._build_ui()
        state.dataChanged.connect(self._on_data_changed)
        state.thresholdsChanged.connect(self._on_thresholds_changed)
        self._on_data_changed()

    # ------------------------------------------------------------------------------ UI
    def _build_ui(self) -> None:
        lay = self.add_empty_stack(self.page_layout(), "Open a data file and map its columns (score, "
                                   "outcome, group) to see the audit.")
        top = QHBoxLayout()
        top.setSpacing(6)
        lay.addLayout(top)
        box, grid = settings_box("Threshold", "The decision rule being audited. Change it on the "
                                 "Tiers page, or drag the line in the “Metric vs threshold” plot.")
        self.thr_combo = combo([], "Several thresholds define tiers: choose which threshold's "
                               "flag/no-flag confusion the tables show and the line moves",
                               "Threshold shown", min_chars=10)
        self.thr_combo.currentIndexChanged.connect(lambda _i: self._refresh())
        self.thr_label = QLabel()
        self.thr_label.setMinimumWidth(170)
        grid.addWidget(self.thr_combo, 0, 0)
        grid.addWidget(self.thr_label, 0, 1)
        grid.setColumnStretch(1, 1)
        top.addWidget(box, 2)
        box, grid = settings_box("Reference group", "Differences and ratios in the “vs reference” "
                                 "table compare every group with this one")
        self.ref_combo = combo([], "The group the others are compared with (difference = group "
                               "− reference, ratio = group ÷ reference)", "Reference group",
                               min_chars=22)
        self.ref_combo.currentIndexChanged.connect(lambda _i: self._refresh())
        grid.addWidget(self.ref_combo, 0, 0)
        top.addWidget(box, 1)
        box, grid = settings_box("Bootstrap uncertainty", "Resample the rows with replacement B "
                                 "times and report the mean ± standard deviation of every measure")
        grid.setHorizontalSpacing(6)
        self.boot_b = spin(2, 100_000, 200, "Number of bootstrap resamples B (200 is usually "
                           "enough for a standard deviation; more takes longer)", "Resamples",
                           step=100)
        self.boot_seed = spin(0, 2_147_483_647, self.state.seed("bootstrap"), "Random seed: the "
                              "same seed, data and thresholds give the same results. It is saved "
                              "in the project and the workbook.", "Seed")
        self.boot_seed.setGroupSeparatorShown(False)  # a name, not a quantity
        self.boot_run = button("Run bootstrap", "Run the bootstrap at the current thresholds "
                               "(Ctrl+B). Progress and Cancel are in the status bar.",
                               self.run_bootstrap, QKeySequence("Ctrl+B"))
        self.boot_show = check("Show mean ± SD", "Show the bootstrap mean ± standard deviation "
                               "next to each value", lambda _on: self._refresh())
        self.boot_show.setEnabled(False)
        self.boot_note = note_label("Not run yet.")
        for c, w in enumerate((QLabel("Resamples"), self.boot_b, QLabel("Seed"), self.boot_seed,
                               self.boot_run, self.boot_show)):
            grid.addWidget(w, 0, c)
        grid.addWidget(self.boot_note, 1, 0, 1, 6)
        top.addWidget(box, 4)

        self.splitter = side_by_side()
        lay.addWidget(self.splitter, 1)
        self.tables = AuditTables(refresh=self._refresh, on_all_groups=self._on_all_groups,
                                  retry=lambda: self._start_ranking(force_async=True))
        self.table_tabs = self.tables.tabs
        for name in ("group_table", "fair_table", "ref_table", "auc_table", "xauc_table",
                     "ci_show", "orientation", "all_groups_check", "ref_show",
                     "fair_groups_note", "ref_note", "ranking_retry"):
            setattr(self, name, getattr(self.tables, name))
        self.scenario_button = button("Add as scenario…", "Add the thresholds in force to the "
                                      "Decision table as a scenario, to compare with other "
                                      "options", self.add_as_scenario)
        self.table_tabs.setCornerWidget(self.scenario_button, Qt.TopRightCorner)
        self.plots = AuditPlots(on_error=self._show_error)
        self.plot_tabs = self.plots.tabs
        self.fill_split(self.table_tabs, self.plot_tabs)
        self._build_plots()

    def _build_plots(self) -> None:
        p = self.plots
        for name in ("roc_panel", "metric_panel", "dist_panel", "cal_panel", "metric_combo",
                     "line_group_label", "line_group_combo", "drag_line"):
            setattr(self, name, getattr(p, name))
        self.metric_combo.currentIndexChanged.connect(lambda _i: self._draw_metric_curves())
        self.line_group_combo.currentIndexChanged.connect(lambda _i: self._sync_lines())
        p.threshold.moved.connect(self._drag_frame)
        p.threshold.released.connect(self._on_line_released)

    # ------------------------------------------------------------------------- helpers
    @property
    def reference_index(self) -> int:
        return max(self.ref_combo.currentIndex(), 0)

    @property
    def threshold_index(self) -> int:
        return max(self.thr_combo.currentIndex(), 0)

    @property
    def groups_as_columns(self) -> bool:
        return self.orientation.isChecked()

    @property
    def metric(self) -> str:
        return self.metric_combo.currentData() or "fpr"

    def _line_group(self) -> int:
        return max(self.line_group_combo.currentIndex(), 0)

    def _group_names(self) -> list[str]:
        return list(self.state.data.group_names) if self.state.data is not None else []

    def _boot_visible(self) -> bool:
        return self.bootstrap is not None and self.boot_show.isChecked()

    def _ranking_ready(self) -> bool:
        return self._ranking is not None and self._ranking[0] is self.state.data

    def _pending(self):
        """None when AUC and cross-AUC are known, else what their cells say."""
        if self._ranking_ready():
            return None
        return COMPUTING if self._ranking_job is not None else NOT_COMPUTED

    # -------------------------------------------------------------------------- state
    def _on_data_changed(self) -> None:
        data = self.state.data
        self._focus = None
        if self.bootstrap is not None:
            self._clear_bootstrap("Bootstrap results cleared: the data changed. Run it again "
                                  "(Ctrl+B).")
        if data is None or self.state.scores is None or data.label is None:
            self.result = None
            if data is None or self.state.scores is None:
                self._ranking = None
                self.empty.setText("Open a data file and map its columns (score, outcome, "
                                   "group) to see the audit.")
            else:
                self.empty.setText("The audit compares decisions with outcomes: map an outcome "
                                   "(label) column on the Data page.")
            self.stack.setCurrentIndex(0)
            return
        if "bootstrap" in self.state.seeds:
            self.boot_seed.setValue(int(self.state.seeds["bootstrap"]))
        for combo in (self.ref_combo, self.line_group_combo):
            fill_group_combo(combo, data.group_names)
        self._compute_static()
        self._live = None
        self._on_thresholds_changed()
        self.stack.setCurrentIndex(1)
        if not self._split_done:
            QTimer.singleShot(0, self._initial_split)

    def _on_thresholds_changed(self) -> None:
        if self.state.data is None or self.state.data.label is None or self.state.scores is None:
            return
        self._live = np.array(self.state.thresholds, dtype=float, copy=True)
        k = int(self._live.shape[-1])
        if self.thr_combo.count() != k:
            j = self.threshold_index
            self.thr_combo.blockSignals(True)
            self.thr_combo.clear()
            self.thr_combo.addItems([str(i + 1) for i in range(k)])
            self.thr_combo.setCurrentIndex(min(j, k - 1))
            self.thr_combo.blockSignals(False)
        self.thr_combo.setVisible(k > 1)
        gs = bool(self.state.group_specific)
        self.line_group_label.setVisible(gs)
        self.line_group_combo.setVisible(gs)
        self._refresh()

    # ----------------------------------------------------------------- static parts
    def _compute_static(self) -> None:
        """Everything that does not depend on the threshold (once per data change)."""
        data, scores = self.state.data, self.state.scores
        self._ranking = None
        self._start_ranking()
        self._grid_x, self._grid_rates, self._score_range = metric_grid(data, scores)
        self.plots.set_data(data, scores)
        self._draw_roc()
        self._draw_metric_curves()
        self.plots.draw_distributions(data, scores, self._score_range)
        self.plots.draw_calibration_axes(data.group_names)

    def _start_ranking(self, force_async: bool = False) -> None:
        data, scores = self.state.data, self.state.scores
        self.ranking_retry.hide()
        if data.n <= SYNC_RANKING_ROWS and not force_async:
            self._ranking = (data,) + tuple(compute_ranking(data, scores))
            return
        self._ranking_pending = data
        self._ranking_job = self.worker.start(
            compute_ranking, data, scores, title="Computing AUC and cross-AUC",
            on_result=self._ranking_done, on_error=self._ranking_failed,
            on_cancel=self._ranking_cancelled)

    def _ranking_done(self, result) -> None:
        data = self._ranking_pending
        self._ranking_job = None
        if data is None or data is not self.state.data:
            return
        self._ranking = (data,) + tuple(result)
        self._ranking_pending = None
        self._draw_roc()
        self._refresh()

    def _ranking_failed(self, message: str, details: str) -> None:
        self._ranking_cancelled()
        self.worker.failed.emit(message, details)

    def _ranking_cancelled(self) -> None:
        self._ranking_job = None
        self._ranking_pending = None
        self.ranking_retry.show()
        self._fill_tables(auc_only=True)

    def _ensure_ranking(self) -> None:
        """Compute AUC/xAUC now if the worker has not delivered them yet (export)."""
        data = self.state.data
        if data is None or data.label is None:
            return
        if not self._ranking_ready():
            self._ranking = (data,) + tuple(compute_ranking(data, self.state.scores))
            self._refresh()

    def _draw_roc(self) -> None:
        auc = self._ranking[1] if self._ranking_ready() else None
        self.plots.draw_roc(self.state.data, self.state.scores, auc, roc_curve)

    def _draw_metric_curves(self) -> None:
        if self._grid_x is None or self.state.data is None:
            return
        self.plots.draw_metric(self.state.data.group_names, self._grid_x,
                               self._grid_rates[self.metric], self.metric, self._score_range)
        self._update_plot_markers(metric_only=True)

    # ---------------------------------------------------------------- dynamic parts
    def _audit_live(self):
        """The audit at the live thresholds (ranking measures kept from the data's), made the
        page's result; None (and the message shown) when it cannot be computed."""
        data = self.state.data
        if data is None or data.label is None or self._live is None:
            return None
        try:
            res = run_audit(data, self._live, group_specific=self.state.group_specific,
                            scores=self.state.scores, with_ranking=False,
                            reliability=self.reliability())
        except (FairDeskError, ValueError) as err:
            self.result = None
            self.empty.setText(str(err))
            self.stack.setCurrentIndex(0)
            return None
        if self._ranking_ready():
            # ranking measures do not depend on the threshold: computed once per data
            res.auc, res.xauc, res.auc_overall = self._ranking[1:4]
        self.result = res
        self.stack.setCurrentIndex(1)
        return res

    def _refresh(self) -> None:
        """Audit at the live thresholds; tables, threshold text, lines and markers."""
        res = self._audit_live()
        if res is None:
            return
        self._check_bootstrap()
        res.intervals = self.bootstrap
        self._fill_tables()
        self._update_threshold_text()
        self._sync_lines()
        self._update_plot_markers()

    def _update_threshold_text(self) -> None:
        data = self.state.data
        label, tip, items = threshold_texts(
            self._live, self.threshold_index, group_names=data.group_names,
            group_specific=bool(self.state.group_specific),
            higher_is_positive=data.mapping.higher_is_positive, decimals=data.score_decimals)
        self.thr_label.setText(label)
        self.thr_label.setToolTip(tip)
        if self.thr_combo.count() == len(items):
            for i, text in enumerate(items):
                if self.thr_combo.itemText(i) != text:
                    self.thr_combo.setItemText(i, text)

    # --- tables ---
    def _fill_tables(self, auc_only: bool = False) -> None:
        if self.result is None:
            return
        boot = self.bootstrap if self._boot_visible() else None
        focus = self._focus
        self.tables.show(self.result, self.threshold_index, bootstrap=boot,
                         pending=self._pending(), reference=self.reference_index,
                         people_decimals=self.state.data.people_decimals, focus=focus,
                         weighted=self.state.data.weighted,
                         auc_only=auc_only)
        self._group_cols = self.tables.group_specs

    def reliability(self) -> Reliability:
        """The groups the fairness measures compare (the page's toggle and the minimum size)."""
        return Reliability(min_group_size=int(getattr(self.state, "min_group_size", 30)),
                           all_groups=self.all_groups_check.isChecked())

    def _on_all_groups(self, _on: bool) -> None:
        if self.bootstrap is not None:  # its resamples compared the other set of groups
            self._clear_bootstrap("Bootstrap results cleared: the groups compared changed. Run it "
                                  "again (Ctrl+B).")
        self._refresh()

    # --- plots ---
    def _sync_lines(self) -> None:
        """Put the threshold lines where the live thresholds are (no feedback loop)."""
        if self._live is None or self.state.data is None:
            return
        self.plots.sync_lines(self._live, self.threshold_index, bool(self.state.group_specific),
                              self._line_group(), self._score_range)

    def _update_plot_markers(self, metric_only: bool = False) -> None:
        if self.result is None or self._live is None:
            return
        if metric_only:
            self.plots.set_metric_points(self._metric_points())
        else:
            self.plots.update_markers(self.result, self.threshold_index, self._metric_points())

    def _metric_points(self) -> list:
        res, key, j = self.result, self.metric, self.threshold_index
        gs = self.state.group_specific
        return [(g, self._live[g, j] if gs else self._live[j],
                 group_value(res, key, g, j, ranking=self._ranking_ready())[0])
                for g in range(len(res.group_names))]

    # --- dragging ---
    def _set_live_from_line(self, value: float) -> bool:
        if self._live is None:
            return False
        j = self.threshold_index
        index = (self._line_group(), j) if self.state.group_specific else (j,)
        if self._live[index] == value:
            return False
        self._live = self._live.copy()
        self._live[index] = value
        return True

    def _drag_frame(self, value: float) -> None:
        """One drag update (at most one per frame): the audit at the line, the threshold text,
        the lines and the markers. The curves do not change and are not redrawn (they are
        cached as pixmaps); the tables are filled when the line rests (released)."""
        if not self._set_live_from_line(value) or self._audit_live() is None:
            return
        self._update_threshold_text()
        self._sync_lines()
        self._update_plot_markers()
        self.dragUpdated.emit()

    def _on_line_released(self, value: float) -> None:
        if self._live is None:
            return
        self._set_live_from_line(value)
        live = self._live.copy()
        rules = None
        if not self.state.group_specific:
            rules = [{"kind": "fixed", "value": float(v), "n_bins": 20} for v in live]
        self.state.set_thresholds(live, group_specific=self.state.group_specific, rules=rules)

    # ------------------------------------------------------------------------ bootstrap
    def run_bootstrap(self) -> None:
        data = self.state.data
        if data is None or data.label is None or self._boot_job is not None:
            return
        B, seed = int(self.boot_b.value()), int(self.boot_seed.value())
        self.state.seeds["bootstrap"] = seed
        thresholds = np.array(self.state.thresholds, dtype=float, copy=True)
        gs = bool(self.state.group_specific)
        self._boot_pending = (data, thresholds, gs)
        self.boot_run.setEnabled(False)
        self.boot_note.setText(f"Running {format_count(B)} resamples (seed {seed})… Cancel in "
                               "the status bar (Esc).")
        self._boot_job = self.worker.start(
            bootstrap_audit, data, thresholds, resamples=B, seed=seed, group_specific=gs,
            reliability=self.reliability(), title="Bootstrap", on_result=self._boot_done,
            on_error=self._boot_failed, on_cancel=self._boot_cancelled)

    def _boot_matches(self, meta) -> bool:
        if meta is None or self._live is None:
            return False
        data, thresholds, gs = meta
        return (data is self.state.data and gs == bool(self.state.group_specific)
                and thresholds.shape == self._live.shape and np.array_equal(thresholds, self._live))

    def _boot_done(self, result: BootstrapResult) -> None:
        meta, self._boot_pending, self._boot_job = self._boot_pending, None, None
        self.boot_run.setEnabled(True)
        if not self._boot_matches(meta):
            self._clear_bootstrap("Bootstrap results discarded: the data or the thresholds "
                                  "changed while it ran. Run it again (Ctrl+B).")
            return
        self.bootstrap, self._boot_meta = result, meta
        self.boot_show.setEnabled(True)
        self.boot_note.setText(f"{format_count(result.resamples)} resamples, seed {result.seed}: "
                               "mean ± SD shown next to the values.")
        self.boot_show.blockSignals(True)
        self.boot_show.setChecked(True)
        self.boot_show.blockSignals(False)
        self._refresh()

    def _boot_failed(self, message: str, details: str) -> None:
        self._boot_cancelled("The bootstrap failed; see the message.")
        self.worker.failed.emit(message, details)

    def _boot_cancelled(self, note: str = "Bootstrap cancelled: no results.") -> None:
        self._boot_pending = self._boot_job = None
        self.boot_run.setEnabled(True)
        self.boot_note.setText(note)

    def _clear_bootstrap(self, note: str) -> None:
        self.bootstrap = None
        self._boot_meta = None
        self.boot_show.setEnabled(False)
        if note:
            self.boot_note.setText(note)

    def _check_bootstrap(self) -> None:
        if self.bootstrap is None:
            return
        if not self._boot_matches(self._boot_meta):
            data_changed = self._boot_meta[0] is not self.state.data
            self._clear_bootstrap("Bootstrap results cleared: the "
                                  + ("data" if data_changed else "thresholds")
                                  + " changed. Run it again (Ctrl+B).")

    def add_as_scenario(self) -> str | None:
        """Add the thresholds in force to the Decision table as a scenario (asks for a
        name); returns the name used, or None."""
        from PySide6.QtWidgets import QInputDialog, QLineEdit

        from ...scenarios import Scenario

        data = self.state.data
        if data is None:
            return None
        kind, params, default = scenario_of(data, self.state.thresholds,
                                            bool(self.state.group_specific))
        name, ok = QInputDialog.getText(self, "Add as scenario", "Name of the scenario:",
                                        QLineEdit.Normal, default)
        name = " ".join(str(name).split())
        if not ok or not name:
            return None
        used = self.state.add_scenario(Scenario(name, kind, params, {"engine": "Audit page"}))
        win = self.window()
        if hasattr(win, "statusBar"):
            win.statusBar().showMessage(f"Scenario “{used}” added: see the Decision table", 6000)
        return used

    # --------------------------------------------------------------------- public API
    def focus_rate(self, rate_key: str) -> None:
        """Show ``rate_key`` (fpr, fdr, fp_group_size, fnr, for, fn_group_size): select it in
        the metric-versus-threshold plot and highlight its fairness/reference rows."""
        i = self.metric_combo.findData(rate_key)
        if i < 0:
            return
        self.metric_combo.setCurrentIndex(i)
        self.plot_tabs.setCurrentWidget(self.metric_panel)
        self._focus = rate_key
        if self.result is not None:
            self._fill_tables()
        measure = FOCUS.get(rate_key)
        exact = measure is not None and DEFINITIONS[measure].rates == (rate_key,)
        target = self.fair_table if exact else self.ref_table
        self.table_tabs.setCurrentIndex(1 if exact else 2)
        row = self.tables.focus_row(target, rate_key)
        if row is not None:
            target.selectRow(row)
            target.scrollTo(target.model().index(row, 0), QAbstractItemView.PositionAtCenter)

    def _setting_widgets(self) -> dict:
        return {"bootstrap_resamples": self.boot_b, "bootstrap_seed": self.boot_seed,
                "threshold_index": self.thr_combo, "plot_tab": self.plot_tabs,
                "table_tab": self.table_tabs, "show_bootstrap": self.boot_show,
                "all_groups": self.all_groups_check, "show_intervals": self.ci_show}

    def settings(self) -> dict:
        names = self._group_names()
        out = {"metric": self.metric,
               "reference_group": names[self.reference_index] if names else None}
        for key, w in self._setting_widgets().items():
            out[key] = (bool(w.isChecked()) if isinstance(w, QCheckBox) else
                        int(w.value()) if isinstance(w, QSpinBox) else max(w.currentIndex(), 0))
        return out

    def apply_settings(self, settings: dict) -> None:
        s = settings or {}
        i = self.metric_combo.findData(s.get("metric"))
        if i >= 0:
            self.metric_combo.setCurrentIndex(i)
        i = self.ref_combo.findText(str(s.get("reference_group")))
        if s.get("reference_group") is not None and i >= 0:
            self.ref_combo.setCurrentIndex(i)
        for key, w in self._setting_widgets().items():
            if key not in s:
                continue
            if isinstance(w, QCheckBox):
                w.setChecked(bool(s[key]))
            elif isinstance(w, QSpinBox):
                w.setValue(int(s[key]))
            elif w.count():
                w.setCurrentIndex(min(int(s[key]), w.count() - 1))

    def export_settings(self) -> dict:
        names = self._group_names()
        out = {"Reference group": names[self.reference_index] if names else "",
               "Groups compared by the fairness measures": self.reliability().describe()}
        if self.bootstrap is not None:
            out["Bootstrap resamples"] = self.bootstrap.resamples
            out["Bootstrap seed"] = self.bootstrap.seed
        return out

    def export_tables(self) -> list:
        if self.state.data is None or self.state.data.label is None or self.result is None:
            return []
        from ...reports.audit_report import audit_tables

        self._ensure_ranking()
        return audit_tables(self.result, self.state.data, self.bootstrap, self.reference_index)
