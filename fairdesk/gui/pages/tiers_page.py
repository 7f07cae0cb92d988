"""Tiers & thresholds: make thresholds by rule (or per group), and read the risk tiers they
define: counts and observed outcome rates by group, and calibration (CAL) per tier.

The editor on the left is a draft; "Apply" (Ctrl+Return) puts the thresholds in the shared
state, which every page reads. The table and chart on the right always show the applied
thresholds — including a threshold dragged on the Audit page. The tables themselves are
described in :mod:`fairdesk.reports.tiers_tables` (the same in the window and the workbook).

A threshold in the editor reads with the score's decimals; the exact value stays behind it
(tooltips, the applied thresholds, project files) until the analyst types another.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import numpy as np
from PySide6.QtCore import QRegularExpression, QSignalBlocker, Qt
from PySide6.QtGui import QKeySequence, QRegularExpressionValidator, QShortcut
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QGroupBox, QHBoxLayout,
                               QHeaderView, QInputDialog, QLabel, QLineEdit, QMenu, QSpinBox,
                               QSplitter, QStyledItemDelegate, QTableWidget, QTableWidgetItem,
                               QToolButton, QVBoxLayout, QWidget)

from ..palette import message_colour, message_style, muted_css, title_html
from ...errors import FairDeskError
from ...metrics.thresholds import ThresholdRule
from ...present.formats import format_score, parse_number
from ...reports.tiers_tables import (PLACEHOLDERS, PRESET_TIPS, PRESETS, RULE_COLUMNS, VALUE_TIPS,
                                     RuleResolver, TierResult, applied_text, calibration_table,
                                     compute_tiers, describe_rule, flagged, group_thresholds,
                                     parse_rule, preset_rules, rule_value_text, scenario_spec,
                                     settings_summary, state_rules, ten_percent, tier_tables)
from .. import help_dialogs
from ..help_dialogs import RULE_KINDS
from ..table_model import ResultTable
from ..controls import button
from .base import Page
from .tiers_plots import TierChart

FLOAT_RE = QRegularExpression(r"^\s*[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?\s*$")
EXACT_ROLE = Qt.UserRole + 1  # a group cell's full-precision threshold
SHOWN_ROLE = Qt.UserRole + 2  # the text it was shown as (an edit replaces both)


class _NumberDelegate(QStyledItemDelegate):
    """A plain text editor accepting numbers only (no spin box rounding)."""

    def createEditor(self, parent, option, index):
        editor = QLineEdit(parent)
        editor.setValidator(QRegularExpressionValidator(FLOAT_RE, editor))
        return editor



def _box(title: str, *parts, stretch=None) -> QGroupBox:
    """A titled box of widgets and layouts, one under the other (``stretch`` takes the room)."""
    box = QGroupBox(title)
    lay = QVBoxLayout(box)
    for part in parts:
        if isinstance(part, QWidget):
            lay.addWidget(part, 1 if part is stretch else 0)
        else:
            lay.addLayout(part)
    return box


def _right_label() -> QLabel:
    label = QLabel()
    label.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
    label.setContentsMargins(4, 0, 6, 0)
    return label


class RuleRow:
    """The widgets of one rule row: kind, value, number of bins; results shown beside.

    A fixed threshold set by the program (a preset, the Audit page's line, a project) is
    shown with the score's decimals and keeps its exact value while its text is unchanged,
    so showing it never changes it."""

    def __init__(self, page: "TiersPage"):
        self.page = page
        self.resolved = math.nan  # the threshold this row gave last time
        self.exact: tuple[str, float] | None = None  # (text shown, exact fixed value)
        self.kind = QComboBox()
        for k in RULE_KINDS.values():
            self.kind.addItem(k.label, k.key)
            self.kind.setItemData(self.kind.count() - 1, k.help, Qt.ToolTipRole)
        self.kind.setToolTip("How this threshold is computed from the scores")
        self.value = QLineEdit()
        self.value.setValidator(QRegularExpressionValidator(FLOAT_RE, self.value))
        self.bins = QSpinBox()
        self.bins.setRange(2, 1000)
        self.bins.setValue(20)
        self.bins.setToolTip("Number of bins of equal size for a bin-edge rule (20 = ventiles, "
                             "10 = deciles)")
        self.bins_cell = QWidget()  # the table shows its cell widgets; the spin box can hide
        bl = QHBoxLayout(self.bins_cell)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.addWidget(self.bins)
        self.threshold = _right_label()
        self.flagged = _right_label()
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.kind.currentIndexChanged.connect(self._default_value)
        self.kind.currentIndexChanged.connect(page._rules_edited)
        self.value.textEdited.connect(page._rules_edited)
        self.bins.valueChanged.connect(page._rules_edited)
        self._kind_changed()

    @property
    def kind_key(self) -> str:
        return self.kind.currentData()

    def _kind_changed(self, *_):
        k = self.kind_key
        self.value.setEnabled(bool(RULE_KINDS[k].value_label))
        self.bins.setEnabled(k == "ventile")
        self.bins.setVisible(k == "ventile")
        self.value.setPlaceholderText(PLACEHOLDERS.get(k, "—"))
        self.value.setToolTip(VALUE_TIPS.get(k, "This rule needs no value"))
        if not RULE_KINDS[k].value_label:
            self.value.clear()

    def _default_value(self, *_):
        """A sensible starting value when the user picks another kind of rule."""
        k = self.kind_key
        if k == "fixed":  # the threshold the row gave: switching to a fixed value keeps it
            self.set_fixed(self.resolved if math.isfinite(self.resolved) else 0.5)
        elif k in ("quantile", "top_k", "ventile"):
            self.value.setText({"quantile": "50", "ventile": str(self.bins.value() // 2),
                                "top_k": str(ten_percent(self.page.state.data))}[k])

    def set_fixed(self, value: float) -> None:
        """Show a fixed threshold with the score's decimals, keeping its exact value."""
        text = format_score(value, self.page.decimals)
        self.value.setText(text)
        self.exact = (text, float(value))

    def exact_value(self) -> float | None:
        """The exact fixed threshold behind the text, while the text is as it was shown."""
        if self.kind_key == "fixed" and self.exact and self.value.text().strip() == self.exact[0]:
            return self.exact[1]
        return None

    def set_rule(self, rule: ThresholdRule) -> None:
        self.set_saved({"kind": rule.kind, "n_bins": rule.n_bins, "value": repr(rule.value)
                        if rule.kind == "fixed" and rule.value is not None
                        else rule_value_text(rule)})

    def set_saved(self, saved: dict) -> None:
        """A rule as a project saves it (the value as text, even an invalid one); a fixed
        threshold is shown with the score's decimals, its exact value kept."""
        with QSignalBlocker(self.kind), QSignalBlocker(self.value), QSignalBlocker(self.bins):
            self.kind.setCurrentIndex(max(0, self.kind.findData(saved.get("kind", "fixed"))))
            self._kind_changed()
            text = "" if saved.get("value") is None else str(saved["value"])
            v = parse_number(text) if text else math.nan
            if self.kind_key == "fixed" and math.isfinite(v):
                self.set_fixed(v)
            else:
                self.value.setText(text)
            self.bins.setValue(int(saved.get("n_bins", 20)))

    def saved(self) -> dict:
        """The row for a project file: the exact threshold, or the text as typed."""
        exact = self.exact_value()
        return {"kind": self.kind_key, "value": repr(exact) if exact is not None
                else self.value.text(), "n_bins": self.bins.value()}

    def rule(self, number: int) -> ThresholdRule:
        """The rule this row describes; FairDeskError with a message when the input is bad."""
        return parse_rule(self.kind_key, self.value.text(), self.bins.value(), number,
                          exact=self.exact_value())


class TiersPage(Page):
    key = "tiers"
    title = "Tiers & thresholds"

    def __init__(self, state, worker, parent=None):
        super().__init__(state, worker, parent)
        self.setToolTip("Make thresholds by rule, and see the risk tiers they define: counts, "
                        "outcome rates and calibration by group")
        self.rows: list[RuleRow] = []
        self._resolve = RuleResolver(None)
        self._draft_rules: list[ThresholdRule] = []
        self._draft_values: np.ndarray | None = None
        self._errors: list[str] = []
        self._group_edited = False
        self.result: TierResult | None = None
        self.result_rows: list[dict] = []  # the calibration table's rows, one per tier × group
        self.cal = np.zeros(0)  # CAL per tier
        self._build()
        self.state.dataChanged.connect(self._data_changed)
        self.state.thresholdsChanged.connect(self._thresholds_changed)
        self._data_changed()

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt's name)
        """Its minimum height: in a scroll area the page fills the window (not its preferred
        height, which its word-wrapped labels report), scrolling only below the minimum."""
        return self.minimumSizeHint().height()

    @property
    def decimals(self) -> int | None:
        """Decimals of a threshold on this data (None without data: up to 4)."""
        return self.state.data.score_decimals if self.state.data is not None else None

    # ================================================================ layout
    def _build(self) -> None:
        intro = QLabel(f"{title_html(self.title)}<br><span style='{muted_css()}'>"
                       "k thresholds split the scores into k + 1 risk tiers, S1 (lowest risk) … "
                       "S<sub>k+1</sub> (highest). A score equal to a threshold goes to the higher "
                       "tier. Define the thresholds on the left, press <b>Apply</b>, and check "
                       "whether each tier means the same risk in every group.</span>")
        intro.setWordWrap(True)
        glossary = button("Glossary…", "Definitions of tiers, outcome rates and calibration (F1)",
                           lambda: help_dialogs.GlossaryDialog(self, select="tiers").exec())
        head = QHBoxLayout()
        head.addWidget(intro, 1)
        head.addWidget(glossary, 0, Qt.AlignTop)

        # --- rules editor ---------------------------------------------------------------
        self.preset_button = QToolButton()
        self.preset_button.setText("Presets")
        self.preset_button.setPopupMode(QToolButton.InstantPopup)
        self.preset_button.setToolTip("Replace the rules with a common set")
        menu = QMenu(self.preset_button)
        for name in PRESETS:
            act = menu.addAction(name)
            act.setToolTip(PRESET_TIPS[name])
            act.triggered.connect(lambda _=False, n=name: self.apply_preset(n))
        menu.setToolTipsVisible(True)
        self.preset_button.setMenu(menu)
        self.remove_button = button("Remove", "Remove the selected rules (or the last one)",
                                     self._remove_clicked)
        tools = QHBoxLayout()
        tools.addWidget(self.preset_button)
        tools.addStretch(1)
        tools.addWidget(button("Add rule", "Add a threshold rule (one more tier)",
                                self._add_clicked))
        tools.addWidget(self.remove_button)
        self.rules_table = t = QTableWidget(0, len(RULE_COLUMNS))
        t.setHorizontalHeaderLabels([h for h, _ in RULE_COLUMNS])
        for i, (_, tip) in enumerate(RULE_COLUMNS):
            t.horizontalHeaderItem(i).setToolTip(tip)
        t.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        for col, width in ((1, 78), (2, 50), (3, 70), (4, 60)):
            t.horizontalHeader().setSectionResizeMode(col, QHeaderView.Fixed)
            t.setColumnWidth(col, width)
        t.verticalHeader().setDefaultSectionSize(30)
        t.setSelectionBehavior(QAbstractItemView.SelectRows)
        t.setMinimumSize(380, 120)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.RichText)
        self.message.hide()
        rules_box = _box("Threshold rules (the same for every group)", tools, t, self.message,
                         stretch=t)
        rules_box.setToolTip("Each rule gives one threshold, computed on all rows in the units "
                             "of your score")

        # --- group-specific -------------------------------------------------------------
        self.group_check = QCheckBox("Different thresholds per group")
        self.group_check.setToolTip("Give each group its own thresholds (for example to balance "
                                    "an error rate). They start from the rules above; edit any "
                                    "cell.")
        self.group_check.toggled.connect(self._group_toggled)
        self.group_table = QTableWidget(0, 0)
        self.group_table.setItemDelegate(_NumberDelegate(self.group_table))
        self.group_table.setToolTip("Thresholds per group, in the units of your score; "
                                    "double-click a cell to edit")
        self.group_table.itemChanged.connect(self._group_cell_changed)
        self.group_table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.group_table.setMinimumHeight(90)
        self.copy_button = button("Copy from rules", "Reset every group's thresholds to the "
                                   "thresholds of the rules above",
                                   lambda: self._init_group_table(force=True))
        self.group_box = QWidget()
        gl = QVBoxLayout(self.group_box)
        gl.setContentsMargins(0, 0, 0, 0)
        gl.addWidget(self.group_table, 1)
        gl.addWidget(self.copy_button, 0, Qt.AlignRight)
        self.group_box.hide()
        self.group_outer = _box("Group-specific thresholds", self.group_check, self.group_box,
                                stretch=self.group_box)

        # --- apply ------------------------------------------------------------------------
        self.apply_button = button("Apply", "Use these thresholds everywhere in FairDesk "
                                    "(Ctrl+Return)", self.apply)
        self.apply_button.setShortcut(QKeySequence("Ctrl+Return"))
        self.apply_button.setMinimumWidth(110)
        QShortcut(QKeySequence("Ctrl+Enter"), self, activated=self.apply)
        self.pending_label = QLabel()
        self.pending_label.setStyleSheet(f"color:{message_colour('warning')}")
        self.scenario_button = button(
            "Add as scenario…", "Add these thresholds (as edited here, applied or not) to the "
            "Decision table as a scenario, to compare with the baseline", self.add_as_scenario)
        al = QHBoxLayout()
        al.addWidget(self.pending_label, 1)
        al.addWidget(self.scenario_button)
        al.addWidget(self.apply_button)
        left = QWidget()
        self.left_layout = ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 6, 0)
        ll.addWidget(rules_box, 3)
        ll.addWidget(self.group_outer, 0)
        ll.addLayout(al)

        # --- results: the calibration table and the chart ---------------------------------
        self.applied_label = QLabel()
        self.applied_label.setWordWrap(True)
        self.applied_label.setToolTip("The thresholds every page uses now")
        self.table = ResultTable("Tiers by group", "Risk tiers by group: counts, observed "
                                 "outcome rate and calibration (CAL). Hover over a header for "
                                 "its meaning.")
        self.table.setMinimumHeight(160)
        self.chart = TierChart(on_error=self._show_error)
        self.chart.start_path = self._plot_start_path
        self.chart_note, self.save_button = self.chart.note, self.chart.save_button
        right = QSplitter(Qt.Vertical)
        right.addWidget(_box("Tiers by group (calibration table)", self.applied_label,
                             self.table, stretch=self.table))
        right.addWidget(self.chart)
        right.setChildrenCollapsible(False)
        right.setSizes([340, 320])
        body = QSplitter()
        body.addWidget(left)
        body.addWidget(right)
        body.setStretchFactor(1, 1)
        body.setChildrenCollapsible(False)
        body.setSizes([400, 700])
        lay = QVBoxLayout(self)
        lay.addLayout(head)
        lay.addWidget(body, 1)

    # ================================================================ rules editor
    def _add_row(self, rule: ThresholdRule | None = None) -> RuleRow:
        row = RuleRow(self)
        if rule is not None:
            row.set_rule(rule if isinstance(rule, ThresholdRule) else ThresholdRule.from_dict(rule))
        r = self.rules_table.rowCount()
        self.rules_table.insertRow(r)
        for col, w in enumerate((row.kind, row.value, row.bins_cell, row.threshold,
                                 row.flagged)):
            self.rules_table.setCellWidget(r, col, w)
        self.rows.append(row)
        return row

    def set_rules(self, rules, saved: bool = False) -> None:
        """Replace the editor's rules: ThresholdRule objects or dicts (``saved``: dicts as a
        project saves them, the values as typed)."""
        self.rules_table.setRowCount(0)
        self.rows = []
        for rule in rules:
            if saved:
                self._add_row().set_saved(rule)
            else:
                self._add_row(rule)
        self._rules_edited()

    def _add_clicked(self) -> None:
        last = self.rows[-1].rule(1) if self.rows and not self._errors else None
        if last is not None and last.kind == "fixed":
            self._add_row(ThresholdRule("fixed", last.value))
        else:
            self._add_row(ThresholdRule("quantile", 0.5))
        self._rules_edited()
        self.rows[-1].value.setFocus()

    def _remove_clicked(self) -> None:
        selected = sorted({i.row() for i in self.rules_table.selectionModel().selectedRows()},
                          reverse=True) or [len(self.rows) - 1]
        for r in selected:
            if 0 <= r < len(self.rows) and len(self.rows) > 1:
                self.rules_table.removeRow(r)
                del self.rows[r]
        self._rules_edited()

    def apply_preset(self, name: str) -> None:
        self.set_rules(preset_rules(name, self.state.data))

    def _show_row(self, row: RuleRow, rule, value: float, error: str = "") -> None:
        row.value.setStyleSheet("QLineEdit {border:1px solid #d9534f}" if error else "")
        row.threshold.setStyleSheet(f"color:{message_colour('error')}" if error else "")
        row.flagged.setText("")
        if error:
            row.threshold.setText("—")
            row.threshold.setToolTip(error)
            return
        row.resolved = value
        if not math.isfinite(value):
            row.threshold.setText("…")
            row.threshold.setToolTip("Open a data file to compute this threshold")
            return
        row.threshold.setText(format_score(value, self.decimals))
        row.threshold.setToolTip(f"{describe_rule(rule, self.decimals)}: exactly {value!r}")
        if self.state.data is not None:
            text, tip = flagged(self.state.data, self.state.scores, value, rule)
            row.flagged.setText(text)
            row.flagged.setToolTip(tip)

    def _rules_edited(self, *_) -> None:
        """Parse and resolve every rule; show the thresholds or what is wrong."""
        errors, warnings, rules, values = [], [], [], []
        have_data = self.state.data is not None
        for i, row in enumerate(self.rows):
            try:
                rule = row.rule(i + 1)
                value = self._resolve(rule) if have_data else (
                    rule.value if rule.kind == "fixed" else math.nan)
            except FairDeskError as err:
                errors.append(str(err))
                self._show_row(row, None, math.nan, str(err))
                continue
            rules.append(rule)
            values.append(value)
            self._show_row(row, rule, value)
        if not self.rows:
            errors.append("Add at least one rule.")
        finite = [v for v in values if math.isfinite(v)]
        if len(set(finite)) < len(finite):
            warnings.append("Two rules give the same threshold, so a tier between them is "
                            "empty.")
        self._errors = errors
        self._draft_rules = rules if not errors else []
        self._draft_values = np.array(values) if not errors and have_data else None
        self.remove_button.setEnabled(len(self.rows) > 1)
        self._message(errors or warnings, "error" if errors else "warning")
        if self.group_check.isChecked() and self._draft_values is not None:
            if self.group_table.columnCount() != len(self._draft_values) or not self._group_edited:
                self._init_group_table(force=True)
        self._update_pending()

    def _message(self, lines: list[str], kind: str = "error") -> None:
        self.message.setStyleSheet(message_style(kind, padding=6))
        self.message.setText("<br>".join(html.escape(e) for e in lines))
        self.message.setVisible(bool(lines))

    # ================================================================ group-specific table
    def _show_group_box(self, on: bool, check: bool = False) -> None:
        if check:  # the box follows the state, not the analyst's click
            with QSignalBlocker(self.group_check):
                self.group_check.setChecked(on)
        self.group_box.setVisible(on)
        self.left_layout.setStretchFactor(self.group_outer, 2 if on else 0)

    def _group_toggled(self, on: bool) -> None:
        self._show_group_box(on)
        if on and (self.group_table.rowCount() == 0 or not self._group_edited):
            self._init_group_table(force=True)
        self._update_pending()

    def _set_group_cell(self, g: int, j: int, value: float) -> None:
        """A group threshold shown with the score's decimals, its exact value kept."""
        text = format_score(value, self.decimals)
        item = QTableWidgetItem(text)
        item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
        item.setToolTip(f"Threshold T{j + 1} for group {self.state.data.group_names[g]}")
        item.setData(EXACT_ROLE, float(value))
        item.setData(SHOWN_ROLE, text)
        self.group_table.setItem(g, j, item)

    def _init_group_table(self, force: bool = False, values=None) -> None:
        d = self.state.data
        if d is None:
            return
        if values is None:
            if self._draft_values is None:
                return
            values = np.broadcast_to(np.sort(self._draft_values), (d.n_groups,
                                                                    len(self._draft_values)))
        values = np.asarray(values, dtype=float)
        with QSignalBlocker(self.group_table):
            self.group_table.clear()
            self.group_table.setRowCount(d.n_groups)
            self.group_table.setColumnCount(values.shape[1])
            self.group_table.setHorizontalHeaderLabels(
                [f"T{j + 1}" for j in range(values.shape[1])])
            self.group_table.setVerticalHeaderLabels(list(d.group_names))
            for g in range(d.n_groups):
                for j in range(values.shape[1]):
                    self._set_group_cell(g, j, values[g, j])
        self._group_edited = False
        self._update_pending()

    def _group_cell_changed(self, item: QTableWidgetItem) -> None:
        self._group_edited = True
        self._update_pending()

    def _group_cell(self, g: int, j: int) -> tuple[str, float | None]:
        """(text, exact value while the text is as shown)."""
        item = self.group_table.item(g, j)
        if item is None:
            return "", None
        text = item.text()
        return text, item.data(EXACT_ROLE) if text.strip() == item.data(SHOWN_ROLE) else None

    def group_values(self) -> np.ndarray:
        """The group table as an (n_groups, k) array (FairDeskError when a cell is bad)."""
        d = self.state.data
        cells = [[self._group_cell(g, j) for j in range(self.group_table.columnCount())]
                 for g in range(self.group_table.rowCount())]
        return group_thresholds(cells, d.group_names if d is not None else None)

    def set_group_value(self, g: int, j: int, value: float) -> None:
        """Edit one cell of the group table (as a user would)."""
        self.group_table.item(g, j).setText(f"{value:.10g}")

    # ================================================================ apply and sync
    def _draft_thresholds(self):
        """(values, group_specific, rules) the editor would apply; FairDeskError if invalid."""
        if self.state.data is None:
            raise FairDeskError("Open and map a data file first.")
        if self._errors:
            raise FairDeskError(" ".join(self._errors))
        order = np.argsort(self._draft_values, kind="stable")
        rules = [self._draft_rules[i] for i in order]
        if self.group_check.isChecked():
            values = np.sort(self.group_values(), axis=1)
            if values.shape != (self.state.data.n_groups, len(rules)):
                raise FairDeskError("The group table does not match the rules; press "
                                    "“Copy from rules”.")
            return values, True, rules
        return self._draft_values[order], False, rules

    def apply(self) -> bool:
        """Put the editor's thresholds in the shared state; False (with a message) if invalid."""
        try:
            values, group_specific, rules = self._draft_thresholds()
        except FairDeskError as err:
            self._message([str(err)])
            return False
        self.state.set_thresholds(values, group_specific, rules=[r.to_dict() for r in rules])
        return True

    def add_as_scenario(self) -> str | None:
        """Add the editor's thresholds to the Decision table as a scenario (asks for a
        name); returns the name used, or None."""
        from ...scenarios import Scenario

        try:
            values, group_specific, rules = self._draft_thresholds()
        except FairDeskError as err:
            self._message([str(err)])
            return None
        kind, params, default = scenario_spec(values, group_specific,
                                              self.state.data.group_names)
        name, ok = QInputDialog.getText(self, "Add as scenario", "Name of the scenario:",
                                        QLineEdit.Normal, default)
        name = " ".join(str(name).split())
        if not ok or not name:
            return None
        used = self.state.add_scenario(Scenario(
            name, kind, params, {"engine": "Tiers page", "rules": [r.to_dict() for r in rules]}))
        win = self.window()
        if hasattr(win, "statusBar"):
            win.statusBar().showMessage(f"Scenario “{used}” added: see the Decision table", 6000)
        return used

    def _update_pending(self) -> None:
        """"● Changes not applied yet" only when the draft differs from the thresholds in
        force (showing a threshold never changes it: the exact values stay behind)."""
        try:
            values, gs, rules = self._draft_thresholds()
        except FairDeskError:
            self.pending_label.setText("Fix the rules to apply them." if self._errors else "")
            self.apply_button.setEnabled(False)
            return
        self.apply_button.setEnabled(True)
        same = (gs == self.state.group_specific and
                np.shape(values) == np.shape(self.state.thresholds) and
                np.allclose(values, self.state.thresholds, rtol=0, atol=1e-12))
        self.pending_label.setText("" if same else "● Changes not applied yet")

    def _data_changed(self) -> None:
        self._resolve = RuleResolver(self.state.data)
        self._show_group_box(False, check=True)
        self.group_table.setRowCount(0)
        self._group_edited = False
        self._sync_from_state(force=True)
        self._refresh_results()

    def _thresholds_changed(self) -> None:
        self._sync_from_state()
        self._refresh_results()

    def _sync_from_state(self, force: bool = False) -> None:
        """Show the state's thresholds in the editor (the Audit page may have moved them)."""
        st, d = self.state, self.state.data
        if d is None:
            if force or not self.rows:
                t = np.ravel(st.thresholds)
                self.set_rules([ThresholdRule("fixed", float(t[0]) if t.size else 0.5)])
            return
        t = np.asarray(st.thresholds, dtype=float)
        rules = state_rules(d, t, st.group_specific, st.threshold_rules, self._resolve)
        current = [r.to_dict() for r in self._draft_rules] if not self._errors else None
        if force or current != [r.to_dict() for r in rules]:
            self.set_rules(rules)
        if st.group_specific:
            self._show_group_box(True, check=True)
            try:
                same = np.allclose(self.group_values(), t, rtol=0, atol=1e-12)
            except (FairDeskError, ValueError):
                same = False
            if force or not same:
                self._init_group_table(values=t.reshape(d.n_groups, -1))
                self._group_edited = True
        elif self.group_check.isChecked():
            self._show_group_box(False, check=True)
        self._update_pending()

    # ================================================================ results
    def _refresh_results(self) -> None:
        """The tiers at the applied thresholds: the table, the chart, the line above them."""
        st, d = self.state, self.state.data
        self.result = res = None if d is None or st.scores is None else \
            compute_tiers(d, st.scores, st.thresholds, st.group_specific)
        self.result_rows = res.rows if res is not None else []
        self.cal = res.cal if res is not None else np.zeros(0)
        self.table.set_table(calibration_table(res) if res is not None else None)
        self.chart.widget.setVisible(res is not None)
        self.save_button.setEnabled(res is not None)
        if res is None:
            self.chart.clear("Open and map a data file to see the chart.")
            self.applied_label.setText("Open and map a data file to see the tiers.")
            return
        self.chart.draw(res)
        self.applied_label.setText(applied_text(d, st.thresholds, st.group_specific,
                                                st.threshold_rules))

    # ================================================================ saving the plot
    def save_plot(self, path) -> Path:
        """Save the chart (with its legend): SVG when the name ends in .svg, PNG otherwise."""
        return self.chart.save(path)

    def _plot_start_path(self) -> Path:
        t = self.state.table
        if t is None:
            return Path.home() / "tier outcome rates.png"
        src = Path(t.source.path)
        return src.with_name(src.stem + " tier outcome rates.png")

    # ================================================================ settings and export
    def settings(self) -> dict:
        out = {"rules": [row.saved() for row in self.rows],  # an invalid row as typed
               "group_specific": self.group_check.isChecked()}
        if self.group_check.isChecked() and self.state.data is not None:
            table = {}
            for g, name in enumerate(self.state.data.group_names):
                cells = [self._group_cell(g, j) for j in range(self.group_table.columnCount())]
                table[name] = [repr(exact) if exact is not None else text
                               for text, exact in cells]
            out["group_thresholds"] = table
        return out

    def apply_settings(self, settings: dict) -> None:
        if settings.get("rules"):
            self.set_rules(settings["rules"], saved=True)
        d = self.state.data
        if settings.get("group_specific") and d is not None:
            self._show_group_box(True, check=True)
            self._init_group_table(force=True)
            saved = settings.get("group_thresholds") or {}
            with QSignalBlocker(self.group_table):
                for g, name in enumerate(d.group_names):
                    for j, text in enumerate(saved.get(name, [])[:self.group_table.columnCount()]):
                        v = parse_number(str(text))  # a number shown as the page shows them
                        if math.isfinite(v):
                            self._set_group_cell(g, j, v)
                        else:  # anything else as it was typed
                            self.group_table.item(g, j).setText(str(text))
            self._group_edited = bool(saved)
        else:
            self.group_check.setChecked(False)
        if d is not None:
            self.apply()
        self._update_pending()

    def export_settings(self) -> dict:
        st = self.state
        if st.data is None:
            return {}
        return settings_summary(st.data, st.thresholds, st.group_specific, st.threshold_rules)

    def export_tables(self) -> list:
        """The calibration table and the outcome rates by tier (with their bar chart), as
        the window shows them."""
        return tier_tables(self.result) if self.result is not None else []
