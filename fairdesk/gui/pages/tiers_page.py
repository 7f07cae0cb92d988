"""Tiers & thresholds: make thresholds by rule (or per group), and read the risk tiers they
define: counts and observed outcome rates by group, and calibration (CAL) per tier.

The editor on the left is a draft; "Apply" (Ctrl+Return) puts the thresholds in the shared
state, which every page reads. The table and chart on the right always show the applied
thresholds — including a threshold dragged on the Audit page.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRegularExpression, QSignalBlocker, Qt
from PySide6.QtGui import (QBrush, QColor, QFont, QKeySequence, QRegularExpressionValidator,
                           QShortcut)
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QFileDialog, QGroupBox,
                               QHBoxLayout, QHeaderView, QInputDialog, QLabel, QLineEdit, QMenu,
                               QMessageBox,
                               QPushButton, QSpinBox, QSplitter,
                               QStyledItemDelegate, QTableWidget, QTableWidgetItem, QToolButton,
                               QVBoxLayout, QWidget)

from ...errors import FairDeskError
from ...metrics.fairness import measure
from ...metrics.thresholds import ThresholdRule, bin_edges, tier_counts
from .. import help_dialogs
from ..help_dialogs import RULE_KINDS
from ..palette import group_color
from .base import Page

FLOAT_RE = QRegularExpression(r"^\s*[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?\s*$")
PRESETS = ("Single threshold 0.5", "Oregon three tiers (low, mean, high)",
           "Ventiles (19 edges → 20 tiers)", "Top K")
UNDEFINED_COLOR = QColor("#777777")
ERROR_STYLE = "QLabel {color:#a40000; background:#fdecea; border:1px solid #f5c2c0; padding:6px}"
WARN_STYLE = "QLabel {color:#6b4e00; background:#fff6db; border:1px solid #f0dc9c; padding:6px}"
BAND_COLOR = QColor("#f1f5f9")

# results table columns
C_TIER, C_RANGE, C_GROUP, C_ROWS, C_SHARE, C_WEIGHT, C_RATE, C_CAL = range(8)
HEADERS = [
    ("Tier", "S1 is the lowest-risk tier; the last tier holds the highest scores."),
    ("Score range", "The scores that fall in the tier. A score equal to a threshold goes to "
                    "the higher tier."),
    ("Group", "The protected group (the combination of the group columns)."),
    ("Rows", "Number of rows of the group in this tier (unweighted)."),
    ("% of group", "Share of the group's people who fall in this tier (weights count as "
                       "people; without a weight column, the share of the group's rows)."),
    ("Weight", "Sum of the frequency weights of the group's rows in this tier: the number of "
               "people they stand for."),
    ("Outcome rate", "Observed outcome rate: the share of the group's people in this tier who "
                     "had the outcome. Undefined (0/0) when no one of the group is in the tier."),
    ("CAL", "Calibration within the tier: the smallest ratio, smaller ÷ larger, of the outcome "
            "rates of any two groups in this tier. 1 = every group has the same outcome rate "
            "(the tier means the same risk for everyone)."),
]


def fmt_score(v: float, digits: int = 4) -> str:
    """A threshold for reading: ``digits`` significant digits, never scientific notation for
    large scores (the exact value is in the tooltips and exports)."""
    if not math.isfinite(v):
        return "undefined"
    if abs(v) >= 10 ** digits:
        return f"{v:,.0f}" if v == round(v) else f"{v:,.1f}"
    return f"{v:.{digits}g}"


def fmt_percent(v: float, decimals: int = 1) -> str:
    return f"{100 * v:.{decimals}f}%"


def fmt_weight(v: float) -> str:
    return f"{v:,.0f}" if abs(v - round(v)) < 1e-9 else f"{v:,.2f}"


def parse_float(text: str) -> float:
    return float(text.strip().replace(",", "."))


def _short_list(values, limit: int = 6) -> str:
    v = [fmt_score(x) for x in np.ravel(values)]
    return ", ".join(v) if len(v) <= limit else ", ".join(v[:3]) + ", …, " + v[-1]


def describe_rules(rules: list[dict]) -> str:
    """The rules in a few words ("" when they are all fixed values)."""
    try:
        rules = [ThresholdRule.from_dict(r) for r in rules]
    except (KeyError, TypeError, ValueError):
        return ""
    if not rules or all(r.kind == "fixed" for r in rules):
        return ""
    if all(r.kind == "ventile" for r in rules) and len({r.n_bins for r in rules}) == 1:
        js = sorted(int(r.value) for r in rules)
        n = rules[0].n_bins
        if js == list(range(js[0], js[-1] + 1)) and len(js) > 2:
            return f"bin edges {js[0]}–{js[-1]} of {n}"
    if len(rules) > 4:
        return f"{len(rules)} rules"
    return "; ".join(r.describe() for r in rules)


class _NumberDelegate(QStyledItemDelegate):
    """A plain text editor accepting numbers only (no spin box rounding)."""

    def createEditor(self, parent, option, index):
        editor = QLineEdit(parent)
        editor.setValidator(QRegularExpressionValidator(FLOAT_RE, editor))
        return editor


class RuleRow:
    """The widgets of one rule row: kind, value, number of bins; results shown beside."""

    def __init__(self, page: "TiersPage"):
        self.page = page
        self.resolved = math.nan  # the threshold this row gave last time
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
        self.threshold = QLabel()
        self.threshold.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self.threshold.setContentsMargins(4, 0, 6, 0)
        self.flagged = QLabel()
        self.flagged.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self.flagged.setContentsMargins(4, 0, 6, 0)
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
        info = RULE_KINDS[k]
        self.value.setEnabled(bool(info.value_label))
        self.bins.setEnabled(k == "ventile")
        self.bins.setVisible(k == "ventile")
        placeholder = {"fixed": "e.g. 0.5", "quantile": "% e.g. 80", "top_k": "K e.g. 100",
                       "ventile": "j e.g. 16"}.get(k, "—")
        self.value.setPlaceholderText(placeholder)
        tips = {"fixed": "The threshold, in the units of the score column",
                "quantile": "A percentage from 0 to 100: the threshold is the score below which "
                            "this share of people fall",
                "top_k": "How many of the highest-risk people to flag (a whole number)",
                "ventile": "Which bin edge: a whole number from 1 to n − 1, n being the number "
                           "of bins"}
        self.value.setToolTip(tips.get(k, "This rule needs no value"))
        if not info.value_label:
            self.value.clear()

    def _default_value(self, *_):
        """A sensible starting value when the user picks another kind of rule."""
        k = self.kind_key
        d = self.page.state.data
        if k == "fixed" and math.isfinite(self.resolved):
            self.value.setText(f"{self.resolved:.6g}")
        elif k == "fixed":
            self.value.setText("0.5")
        elif k == "quantile":
            self.value.setText("50")
        elif k == "top_k":
            total = float(d.weight.sum()) if d is not None else 1000.0
            self.value.setText(str(max(1, round(0.1 * total))))
        elif k == "ventile":
            self.value.setText(str(self.bins.value() // 2))

    def set_rule(self, rule: ThresholdRule) -> None:
        blockers = [QSignalBlocker(w) for w in (self.kind, self.value, self.bins)]
        self.kind.setCurrentIndex(max(0, self.kind.findData(rule.kind)))
        self._kind_changed()
        v = rule.value
        if rule.kind == "fixed" and v is not None:
            self.value.setText(f"{v:.10g}")
        elif rule.kind == "quantile" and v is not None:
            self.value.setText(f"{100 * v:.10g}")
        elif rule.kind in ("top_k", "ventile") and v is not None:
            self.value.setText(f"{int(v)}")
        else:
            self.value.clear()
        self.bins.setValue(int(rule.n_bins))
        for b in blockers:
            b.unblock()

    def rule(self, number: int) -> ThresholdRule:
        """The rule this row describes; FairDeskError with a message when the input is bad."""
        k = self.kind_key
        text = self.value.text().strip()
        where = f"Rule {number}"
        if k in ("mean", "oregon_low", "oregon_high"):
            return ThresholdRule(k, None, self.bins.value())
        try:
            v = parse_float(text)
        except ValueError:
            what = {"fixed": "a threshold value", "quantile": "a percentage from 0 to 100",
                    "top_k": "K, a whole number of at least 1",
                    "ventile": f"the bin edge, a whole number from 1 to {self.bins.value() - 1}"}[k]
            raise FairDeskError(f"{where}: type {what}.") from None
        if not math.isfinite(v):
            raise FairDeskError(f"{where}: the value must be a finite number.")
        if k == "fixed":
            return ThresholdRule("fixed", v)
        if k == "quantile":
            if not 0 <= v <= 100:
                raise FairDeskError(f"{where}: a quantile must be between 0% and 100% "
                                    f"(you typed {text}%).")
            return ThresholdRule("quantile", v / 100)
        if k == "top_k":
            if v < 1 or v != int(v):
                raise FairDeskError(f"{where}: K must be a whole number of at least 1 "
                                    f"(you typed {text}).")
            return ThresholdRule("top_k", float(int(v)))
        n = self.bins.value()
        if v != int(v) or not 1 <= v <= n - 1:
            raise FairDeskError(f"{where}: the bin edge must be a whole number from 1 to {n - 1} "
                                f"for {n} bins (you typed {text}).")
        return ThresholdRule("ventile", float(int(v)), n)


class TiersPage(Page):
    key = "tiers"
    title = "Tiers & thresholds"

    def __init__(self, state, worker, parent=None):
        super().__init__(state, worker, parent)
        self.setToolTip("Make thresholds by rule, and see the risk tiers they define: counts, "
                        "outcome rates and calibration by group")
        self.rows: list[RuleRow] = []
        self._cache: dict = {}
        self._draft_rules: list[ThresholdRule] = []
        self._draft_values: np.ndarray | None = None
        self._errors: list[str] = []
        self._group_edited = False
        self.result_rows: list[dict] = []  # the calibration table, as exported
        self.tier_rate = np.zeros((0, 0))
        self.cal = np.zeros(0)
        self._build()
        self.state.dataChanged.connect(self._data_changed)
        self.state.thresholdsChanged.connect(self._thresholds_changed)
        self._data_changed()

    # ================================================================ layout
    def _build(self) -> None:
        title = QLabel(f"<b style='font-size:15px'>{self.title}</b>")
        intro = QLabel("k thresholds split the scores into k + 1 risk tiers, S1 (lowest risk) … "
                       "S<sub>k+1</sub> (highest). A score equal to a threshold goes to the higher "
                       "tier. Define the thresholds on the left, press <b>Apply</b>, and check "
                       "whether each tier means the same risk in every group.")
        intro.setWordWrap(True)
        intro.setStyleSheet("color:#444")
        glossary = QPushButton("Glossary…")
        glossary.setToolTip("Definitions of tiers, outcome rates and calibration (F1)")
        glossary.clicked.connect(lambda: help_dialogs.GlossaryDialog(self, select="tiers").exec())
        head = QHBoxLayout()
        texts = QVBoxLayout()
        texts.addWidget(title)
        texts.addWidget(intro)
        head.addLayout(texts, 1)
        head.addWidget(glossary, 0, Qt.AlignTop)

        # --- rules editor ---------------------------------------------------------------
        rules_box = QGroupBox("Threshold rules (the same for every group)")
        rules_box.setToolTip("Each rule gives one threshold, computed on all rows in the units "
                             "of your score")
        self.preset_button = QToolButton()
        self.preset_button.setText("Presets")
        self.preset_button.setPopupMode(QToolButton.InstantPopup)
        self.preset_button.setToolButtonStyle(Qt.ToolButtonTextOnly)
        self.preset_button.setToolTip("Replace the rules with a common set")
        menu = QMenu(self.preset_button)
        preset_tips = {
            PRESETS[0]: "One threshold at 0.5: two tiers, not flagged and flagged",
            PRESETS[1]: "The Oregon study's three thresholds: median of the scores below the "
                        "mean, the mean, and the 75th percentile of the scores above the mean "
                        "(four tiers)",
            PRESETS[2]: "19 edges of 20 equal-size bins: 20 tiers of about 5% of people each",
            PRESETS[3]: "Flag the K highest-risk people (K = 10% of people to start; edit it)",
        }
        for name in PRESETS:
            act = menu.addAction(name)
            act.setToolTip(preset_tips[name])
            act.triggered.connect(lambda _=False, n=name: self.apply_preset(n))
        menu.setToolTipsVisible(True)
        self.preset_button.setMenu(menu)
        add = QPushButton("Add rule")
        add.setToolTip("Add a threshold rule (one more tier)")
        add.clicked.connect(self._add_clicked)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Remove the selected rules (or the last one)")
        self.remove_button.clicked.connect(self._remove_clicked)
        tools = QHBoxLayout()
        tools.addWidget(self.preset_button)
        tools.addStretch(1)
        tools.addWidget(add)
        tools.addWidget(self.remove_button)

        self.rules_table = QTableWidget(0, 5)
        self.rules_table.setHorizontalHeaderLabels(["Rule", "Value", "Bins", "Threshold",
                                                    "Flagged"])
        for i, tip in enumerate([
                "How the threshold is computed; hover over a choice for its meaning",
                "The rule's number: the value, the percentage (quantile), K (top-K) or the "
                "edge j (bin edge)",
                "Number of bins (bin-edge rules only): 20 = ventiles, 10 = deciles",
                "The threshold the rule gives on your data, in the units of your score",
                "Share of all people at or above this threshold (on the risk side): the people "
                "flagged if it were the only threshold"]):
            self.rules_table.horizontalHeaderItem(i).setToolTip(tip)
        hh = self.rules_table.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.Stretch)
        for col, width in ((1, 68), (2, 50), (3, 70), (4, 60)):
            hh.setSectionResizeMode(col, QHeaderView.Fixed)
            self.rules_table.setColumnWidth(col, width)
        self.rules_table.verticalHeader().setDefaultSectionSize(30)
        self.rules_table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.rules_table.setMinimumHeight(120)
        self.rules_table.setMinimumWidth(380)

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.RichText)
        self.message.hide()
        rl = QVBoxLayout(rules_box)
        rl.addLayout(tools)
        rl.addWidget(self.rules_table, 1)
        rl.addWidget(self.message)

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
        self.copy_button = QPushButton("Copy from rules")
        self.copy_button.setToolTip("Reset every group's thresholds to the thresholds of the "
                                    "rules above")
        self.copy_button.clicked.connect(lambda: self._init_group_table(force=True))
        self.group_box = QWidget()
        gl = QVBoxLayout(self.group_box)
        gl.setContentsMargins(0, 0, 0, 0)
        gl.addWidget(self.group_table, 1)
        gcl = QHBoxLayout()
        gcl.addStretch(1)
        gcl.addWidget(self.copy_button)
        gl.addLayout(gcl)
        self.group_box.hide()
        self.group_outer = group_outer = QGroupBox("Group-specific thresholds")
        go = QVBoxLayout(group_outer)
        go.addWidget(self.group_check)
        go.addWidget(self.group_box, 1)

        # --- apply ------------------------------------------------------------------------
        self.apply_button = QPushButton("Apply")
        self.apply_button.setToolTip("Use these thresholds everywhere in FairDesk (Ctrl+Return)")
        self.apply_button.setShortcut(QKeySequence("Ctrl+Return"))
        self.apply_button.setMinimumWidth(110)
        self.apply_button.clicked.connect(self.apply)
        QShortcut(QKeySequence("Ctrl+Enter"), self, activated=self.apply)
        self.pending_label = QLabel()
        self.pending_label.setStyleSheet("color:#6b4e00")
        self.scenario_button = QPushButton("Add as scenario…")
        self.scenario_button.setToolTip("Add these thresholds (as edited here, applied or not) "
                                        "to the Decision table as a scenario, to compare with "
                                        "the baseline")
        self.scenario_button.clicked.connect(self.add_as_scenario)
        al = QHBoxLayout()
        al.addWidget(self.pending_label, 1)
        al.addWidget(self.scenario_button)
        al.addWidget(self.apply_button)

        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 6, 0)
        ll.addWidget(rules_box, 3)
        ll.addWidget(group_outer, 0)
        ll.addLayout(al)
        self.left_layout = ll

        # --- results table ----------------------------------------------------------------
        self.applied_label = QLabel()
        self.applied_label.setWordWrap(True)
        self.applied_label.setToolTip("The thresholds every page uses now")
        self.table = QTableWidget(0, len(HEADERS))
        for i, (h, tip) in enumerate(HEADERS):
            item = QTableWidgetItem(h)
            item.setToolTip(tip)
            self.table.setHorizontalHeaderItem(i, item)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        th = self.table.horizontalHeader()
        th.setSectionResizeMode(QHeaderView.ResizeToContents)
        th.setStretchLastSection(True)
        self.table.setMinimumHeight(160)
        self.table.setToolTip("Risk tiers by group: counts, observed outcome rate and "
                              "calibration (CAL). Hover over a header for its meaning.")
        table_box = QGroupBox("Tiers by group (calibration table)")
        tl = QVBoxLayout(table_box)
        tl.addWidget(self.applied_label)
        tl.addWidget(self.table, 1)

        # --- chart ------------------------------------------------------------------------
        self.plot = pg.PlotWidget(background="w")
        self.plot.setToolTip("Observed outcome rate in each tier, one bar per group. Equal bars "
                             "within a tier mean the tier is calibrated across groups.")
        pi = self.plot.getPlotItem()
        pi.setMenuEnabled(False)
        pi.showGrid(y=True, alpha=0.25)
        pi.setMouseEnabled(x=False, y=False)
        pi.hideButtons()
        for name in ("left", "bottom"):
            ax = pi.getAxis(name)
            ax.setPen(pg.mkPen("#444"))
            ax.setTextPen(pg.mkPen("#222"))
        pi.setLabel("left", "Observed outcome rate (%)")
        pi.setLabel("bottom", "Risk tier")
        pi.setTitle("<span style='color:#222'>Observed outcome rate by tier and group</span>")
        self.legend = pi.addLegend(offset=(10, 5), labelTextColor="#222",
                                   brush=pg.mkBrush(255, 255, 255, 220), pen=pg.mkPen("#ccc"))
        self.plot.setMinimumHeight(220)
        self.save_button = QPushButton("Save plot…")
        self.save_button.setToolTip("Save the chart as a PNG image or an SVG drawing")
        self.save_button.clicked.connect(self._save_plot_dialog)
        self.chart_note = QLabel()
        self.chart_note.setStyleSheet("color:#666")
        self.chart_note.setWordWrap(True)
        chart_box = QGroupBox("Chart")
        cl = QVBoxLayout(chart_box)
        cl.addWidget(self.plot, 1)
        cbl = QHBoxLayout()
        cbl.addWidget(self.chart_note, 1)
        cbl.addWidget(self.save_button)
        cl.addLayout(cbl)

        right = QSplitter(Qt.Vertical)
        right.addWidget(table_box)
        right.addWidget(chart_box)
        right.setStretchFactor(0, 1)
        right.setStretchFactor(1, 1)
        right.setChildrenCollapsible(False)
        right.setSizes([340, 320])

        body = QSplitter()
        body.addWidget(left)
        body.addWidget(right)
        body.setStretchFactor(1, 1)
        body.setChildrenCollapsible(False)
        body.setSizes([425, 675])

        lay = QVBoxLayout(self)
        lay.addLayout(head)
        lay.addWidget(body, 1)

    # ================================================================ rules editor
    def _add_row(self, rule: ThresholdRule | None = None) -> RuleRow:
        row = RuleRow(self)
        if rule is not None:
            row.set_rule(rule)
        r = self.rules_table.rowCount()
        self.rules_table.insertRow(r)
        for col, w in enumerate((row.kind, row.value, row.bins_cell, row.threshold,
                                 row.flagged)):
            self.rules_table.setCellWidget(r, col, w)
        self.rows.append(row)
        return row

    def set_rules(self, rules) -> None:
        """Replace the editor's rules (ThresholdRule objects or dicts)."""
        rules = [r if isinstance(r, ThresholdRule) else ThresholdRule.from_dict(r) for r in rules]
        self.rules_table.setRowCount(0)
        self.rows = []
        for rule in rules:
            self._add_row(rule)
        self._rules_edited()

    def rules(self) -> list[ThresholdRule]:
        """The editor's rules (raises FairDeskError on bad input)."""
        return [row.rule(i + 1) for i, row in enumerate(self.rows)]

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
        d = self.state.data
        if name == PRESETS[0]:
            rules = [ThresholdRule("fixed", 0.5)]
        elif name == PRESETS[1]:
            rules = [ThresholdRule("oregon_low"), ThresholdRule("mean"),
                     ThresholdRule("oregon_high")]
        elif name == PRESETS[2]:
            rules = [ThresholdRule("ventile", float(j), 20) for j in range(1, 20)]
        elif name == PRESETS[3]:
            total = float(d.weight.sum()) if d is not None else 1000.0
            rules = [ThresholdRule("top_k", float(max(1, round(0.1 * total))))]
        else:
            raise ValueError(f"unknown preset {name!r}")
        self.set_rules(rules)

    def _resolve(self, rule: ThresholdRule) -> float:
        """ThresholdRule.resolve on the state's data, cached (bin edges once per n)."""
        d = self.state.data
        key = (rule.kind, rule.value, rule.n_bins if rule.kind == "ventile" else None)
        if key in self._cache:
            return self._cache[key]
        if rule.kind == "ventile" and 1 <= int(rule.value) < rule.n_bins:
            ekey = ("edges", rule.n_bins)
            if ekey not in self._cache:  # the same computation as ThresholdRule.resolve
                self._cache[ekey] = bin_edges(d.score * d.sign, rule.n_bins, d.weight)
            value = float(self._cache[ekey][int(rule.value) - 1]) * d.sign
        else:
            value = float(rule.resolve(d))
        self._cache[key] = value
        return value

    def _flagged_share(self, user_threshold: float) -> float:
        gs, d = self.state.scores, self.state.data
        c = gs.counts(np.array([d.to_oriented(user_threshold)]), shared=True).total()
        total = float(gs.weight_total.sum())
        return float((c.tp + c.fp)[0, 0]) / total if total > 0 else math.nan

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
                row.threshold.setText("—")
                row.threshold.setStyleSheet("color:#a40000")
                row.threshold.setToolTip(str(err))
                row.flagged.setText("")
                row.value.setStyleSheet("QLineEdit {border:1px solid #d9534f}")
                continue
            row.value.setStyleSheet("")
            row.resolved = value
            rules.append(rule)
            values.append(value)
            row.threshold.setStyleSheet("")
            if math.isfinite(value):
                row.threshold.setText(fmt_score(value, 5))
                row.threshold.setToolTip(f"{rule.describe()} = {value:.10g}")
            else:
                row.threshold.setText("…")
                row.threshold.setToolTip("Open a data file to compute this threshold")
            if have_data and math.isfinite(value):
                share = self._flagged_share(value)
                row.flagged.setText(fmt_percent(share))
                tip = f"{share:.1%} of people score at or above {fmt_score(value)} (risk side)"
                if rule.kind == "top_k":
                    d = self.state.data
                    n_sel = int(np.sum(d.oriented >= d.to_oriented(value)))
                    tip += f"; {n_sel:,} rows selected for K = {int(rule.value):,}"
                    if n_sel > rule.value and not d.weighted:
                        tip += " (ties on the threshold score are all selected)"
                row.flagged.setToolTip(tip)
            else:
                row.flagged.setText("")
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
        if errors:
            self.message.setStyleSheet(ERROR_STYLE)
            self.message.setText("<br>".join(html.escape(e) for e in errors))
            self.message.show()
        elif warnings:
            self.message.setStyleSheet(WARN_STYLE)
            self.message.setText("<br>".join(html.escape(w) for w in warnings))
            self.message.show()
        else:
            self.message.hide()
        if self.group_check.isChecked() and self._draft_values is not None:
            if self.group_table.columnCount() != len(self._draft_values) or not self._group_edited:
                self._init_group_table(force=True)
        self._update_pending()

    # ================================================================ group-specific table
    def _show_group_box(self, on: bool) -> None:
        self.group_box.setVisible(on)
        self.left_layout.setStretchFactor(self.group_outer, 2 if on else 0)

    def _group_toggled(self, on: bool) -> None:
        self._show_group_box(on)
        if on and (self.group_table.rowCount() == 0 or not self._group_edited):
            self._init_group_table(force=True)
        self._update_pending()

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
                    item = QTableWidgetItem(f"{values[g, j]:.10g}")
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                    item.setToolTip(f"Threshold T{j + 1} for group {d.group_names[g]}")
                    self.group_table.setItem(g, j, item)
        self._group_edited = False
        self._update_pending()

    def _group_cell_changed(self, item: QTableWidgetItem) -> None:
        self._group_edited = True
        self._update_pending()

    def group_values(self) -> np.ndarray:
        """The group table as an (n_groups, k) array (FairDeskError when a cell is bad)."""
        d = self.state.data
        out = np.empty((self.group_table.rowCount(), self.group_table.columnCount()))
        for g in range(out.shape[0]):
            for j in range(out.shape[1]):
                item = self.group_table.item(g, j)
                text = item.text() if item is not None else ""
                try:
                    out[g, j] = parse_float(text)
                except ValueError:
                    name = d.group_names[g] if d is not None else g + 1
                    raise FairDeskError(f"Group {name}, threshold T{j + 1}: type a number.") \
                        from None
                if not math.isfinite(out[g, j]):
                    raise FairDeskError(f"Group {d.group_names[g]}, threshold T{j + 1}: the "
                                        "value must be a finite number.")
        return out

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
            self.message.setStyleSheet(ERROR_STYLE)
            self.message.setText(html.escape(str(err)))
            self.message.show()
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
            self.message.setStyleSheet(ERROR_STYLE)
            self.message.setText(html.escape(str(err)))
            self.message.show()
            return None
        names = self.state.data.group_names
        if group_specific:
            kind = "group_thresholds"
            params = {"values": {n: [float(v) for v in values[g]] for g, n in enumerate(names)}}
            default = "Tiers per group"
        else:
            kind, params = "thresholds", {"values": [float(v) for v in values]}
            default = "Tiers: " + _short_list(values, 4)
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
        self._cache = {}
        d = self.state.data
        with QSignalBlocker(self.group_check):
            self.group_check.setChecked(False)
        self._show_group_box(False)
        self.group_table.setRowCount(0)
        self._group_edited = False
        self.weight_visible = bool(d is not None and d.weighted)
        self.table.setColumnHidden(C_WEIGHT, not self.weight_visible)
        self._sync_from_state(force=True)
        self._refresh_results()

    def _thresholds_changed(self) -> None:
        self._sync_from_state()
        self._refresh_results()

    def _sync_from_state(self, force: bool = False) -> None:
        """Show the state's thresholds in the editor (the Audit page may have moved them)."""
        st = self.state
        d = st.data
        if d is None:
            if force or not self.rows:
                self.set_rules([ThresholdRule("fixed", float(v))
                                for v in np.ravel(st.thresholds)[:1]] or
                               [ThresholdRule("fixed", 0.5)])
            return
        t = np.asarray(st.thresholds, dtype=float)
        k = t.shape[-1]
        try:
            rules = [ThresholdRule.from_dict(r) for r in (st.threshold_rules or [])]
            resolved = np.sort([self._resolve(r) for r in rules])
        except (FairDeskError, KeyError, TypeError, ValueError):
            rules, resolved = [], np.zeros(0)
        if st.group_specific:
            ok = len(rules) == k
            if not ok:
                rules = [ThresholdRule("fixed", float(v))
                         for v in np.median(t.reshape(d.n_groups, -1), axis=0)]
        else:
            ok = len(rules) == k and np.allclose(resolved, np.sort(t), rtol=0, atol=1e-12)
            if not ok:
                rules = [ThresholdRule("fixed", float(v)) for v in np.sort(t)]
        current = [r.to_dict() for r in self._draft_rules] if not self._errors else None
        if force or current != [r.to_dict() for r in rules]:
            self.set_rules(rules)
        if st.group_specific:
            with QSignalBlocker(self.group_check):
                self.group_check.setChecked(True)
            self._show_group_box(True)
            try:
                same = np.allclose(self.group_values(), t, rtol=0, atol=1e-12)
            except (FairDeskError, ValueError):
                same = False
            if force or not same:
                self._init_group_table(values=t.reshape(d.n_groups, -1))
                self._group_edited = True
        elif self.group_check.isChecked():
            with QSignalBlocker(self.group_check):
                self.group_check.setChecked(False)
            self._show_group_box(False)
        self._update_pending()

    # ================================================================ results
    def _tier_ranges(self, oriented_sorted: np.ndarray) -> list[tuple[str, str]]:
        """(short, long) score range of each tier, in user units."""
        d = self.state.data
        o = oriented_sorted
        k = o.size
        out = []
        for j in range(k + 1):
            lo_o = o[j - 1] if j > 0 else None  # oriented bounds: [lo_o, hi_o)
            hi_o = o[j] if j < k else None
            if k == 0:
                out.append(("all scores", "all scores"))
            elif lo_o is not None and hi_o is not None and lo_o == hi_o:
                out.append(("empty", "empty: two thresholds are equal"))
            elif d.sign > 0:
                if lo_o is None:
                    out.append((f"< {fmt_score(hi_o)}", f"score < {fmt_score(hi_o, 6)}"))
                elif hi_o is None:
                    out.append((f"≥ {fmt_score(lo_o)}", f"score ≥ {fmt_score(lo_o, 6)}"))
                else:
                    out.append((f"{fmt_score(lo_o)} – {fmt_score(hi_o)}",
                                f"{fmt_score(lo_o, 6)} ≤ score < {fmt_score(hi_o, 6)}"))
            else:  # lower score = higher risk: user units are the negated oriented ones
                if lo_o is None:
                    out.append((f"> {fmt_score(-hi_o)}", f"score > {fmt_score(-hi_o, 6)}"))
                elif hi_o is None:
                    out.append((f"≤ {fmt_score(-lo_o)}", f"score ≤ {fmt_score(-lo_o, 6)}"))
                else:
                    out.append((f"{fmt_score(-hi_o)} – {fmt_score(-lo_o)}",
                                f"{fmt_score(-hi_o, 6)} < score ≤ {fmt_score(-lo_o, 6)}"))
        return out

    def compute_results(self) -> list[dict]:
        """The calibration table at the applied thresholds: one dict per tier × group."""
        st, d = self.state, self.state.data
        if d is None or st.scores is None:
            return []
        t = np.asarray(st.thresholds, dtype=float)
        if st.group_specific:
            t = t.reshape(d.n_groups, -1)
        ot = np.sort(d.to_oriented(t), axis=-1)
        weight, positives, rows = tier_counts(st.scores, ot)
        has_label = st.scores.has_label
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(weight > 0, positives / weight, np.nan) if has_label else \
                np.full(weight.shape, np.nan)
            share = np.where(st.scores.weight_total[:, None] > 0,
                             weight / st.scores.weight_total[:, None], np.nan)
        cal = measure("CAL", {}, rate)
        self.tier_rate, self.cal = rate, cal
        n_tiers = weight.shape[1]
        ranges = ([self._tier_ranges(ot[g]) for g in range(d.n_groups)] if st.group_specific
                  else [self._tier_ranges(ot)] * d.n_groups)
        out = []
        for j in range(n_tiers):
            tier = f"S{j + 1}"
            defined = [d.group_names[g] for g in range(d.n_groups) if not np.isnan(rate[g, j])]
            left_out = [d.group_names[g] for g in range(d.n_groups) if np.isnan(rate[g, j])]
            if not has_label:
                cal_reason = "No outcome column is mapped, so outcome rates cannot be computed."
            elif d.n_groups < 2:
                cal_reason = "There is only one group: calibration compares groups."
            else:
                cal_reason = (f"Fewer than two groups have people in tier {tier} "
                              f"({len(defined)} of {d.n_groups}), so there is nothing to compare.")
            for g, name in enumerate(d.group_names):
                if not has_label:
                    rate_reason = "No outcome column is mapped, so there is no outcome rate."
                else:
                    rate_reason = (f"Undefined (0/0): no one in group '{name}' falls in tier "
                                   f"{tier}, so its outcome rate has no denominator.")
                out.append({
                    "tier": tier, "tier_index": j, "range": ranges[g][j][0],
                    "range_long": ranges[g][j][1], "group": name,
                    "group_index": g, "rows": int(rows[g, j]), "weight": float(weight[g, j]),
                    "positives": float(positives[g, j]),
                    "share": float(share[g, j]), "outcome_rate": float(rate[g, j]),
                    "rate_reason": rate_reason, "cal": float(cal[j]),
                    "cal_reason": cal_reason,
                    "cal_left_out": left_out if len(defined) >= 2 else [],
                })
        return out

    def _refresh_results(self) -> None:
        st, d = self.state, self.state.data
        self.result_rows = self.compute_results() if d is not None else []
        self._fill_table()
        self._refresh_chart()
        if d is None:
            self.applied_label.setText("Open and map a data file to see the tiers.")
            return
        t = np.asarray(st.thresholds, dtype=float)
        k = t.shape[-1]
        if st.group_specific:
            t = t.reshape(d.n_groups, -1)
            parts = "; ".join(f"{html.escape(n)} {_short_list(t[g])}"
                              for g, n in enumerate(d.group_names))
            text = f"Applied, per group: {parts}"
        else:
            text = (f"Applied: {k} threshold{'s' * (k > 1)} for every group — "
                    + _short_list(np.sort(t)))
            described = describe_rules(st.threshold_rules or [])
            if described and len(st.threshold_rules) == k:
                text += f" ({html.escape(described)})"
        self.applied_label.setText(f"{text}. {k + 1} tiers.")

    def _cell(self, text: str, tip: str = "", align=Qt.AlignRight, undefined: bool = False,
              band: bool = False) -> QTableWidgetItem:
        item = QTableWidgetItem(text)
        item.setTextAlignment(align | Qt.AlignVCenter)
        if tip:
            item.setToolTip(tip)
        if undefined:
            f = item.font()
            f.setItalic(True)
            item.setFont(f)
            item.setForeground(QBrush(UNDEFINED_COLOR))
        if band:
            item.setBackground(QBrush(BAND_COLOR))
        return item

    def _fill_table(self) -> None:
        tbl = self.table
        tbl.clearSpans()
        tbl.setRowCount(len(self.result_rows))
        d = self.state.data
        if d is None:
            return
        n_g = d.n_groups
        for r, row in enumerate(self.result_rows):
            band = row["tier_index"] % 2 == 1
            first = row["group_index"] == 0
            tier_tip = (f"Tier {row['tier']}: {row['range_long']}. A score equal to a threshold "
                        "goes to the higher tier.")
            tier_item = self._cell(row["tier"], tier_tip, Qt.AlignCenter, band=band)
            f = QFont(tier_item.font())
            f.setBold(True)
            tier_item.setFont(f)
            tbl.setItem(r, C_TIER, tier_item)
            tbl.setItem(r, C_RANGE, self._cell(row["range"], tier_tip, Qt.AlignLeft, band=band))
            swatch = self._cell(row["group"], f"Group {row['group']}", Qt.AlignLeft, band=band)
            swatch.setForeground(QBrush(QColor("#111")))
            swatch.setData(Qt.DecorationRole, group_color(row["group_index"]))
            tbl.setItem(r, C_GROUP, swatch)
            tbl.setItem(r, C_ROWS, self._cell(f"{row['rows']:,}", HEADERS[C_ROWS][1], band=band))
            share = row["share"]
            tbl.setItem(r, C_SHARE, self._cell(
                fmt_percent(share) if math.isfinite(share) else "undefined",
                f"{share:.2%} of group {row['group']} is in tier {row['tier']}"
                if math.isfinite(share) else "Undefined (0/0): the group has no rows",
                undefined=not math.isfinite(share), band=band))
            tbl.setItem(r, C_WEIGHT, self._cell(fmt_weight(row["weight"]), HEADERS[C_WEIGHT][1],
                                                band=band))
            rate = row["outcome_rate"]
            if math.isfinite(rate):
                tip = (f"{fmt_weight(row['positives'])} of {fmt_weight(row['weight'])} people of "
                       f"group {row['group']} in tier {row['tier']} had the outcome")
                tbl.setItem(r, C_RATE, self._cell(fmt_percent(rate), tip, band=band))
            else:
                tbl.setItem(r, C_RATE, self._cell("undefined", row["rate_reason"],
                                                  undefined=True, band=band))
            if first:
                cal = row["cal"]
                if math.isfinite(cal):
                    tip = (f"Calibration in tier {row['tier']}: the lowest outcome rate is "
                           f"{cal:.1%} of the highest. 1 = every group has the same rate.")
                    if row["cal_left_out"]:
                        tip += (" Left out (no one in the tier): "
                                + ", ".join(row["cal_left_out"]) + ".")
                    tbl.setItem(r, C_CAL, self._cell(f"{cal:.3f}", tip, Qt.AlignCenter,
                                                     band=band))
                else:
                    tbl.setItem(r, C_CAL, self._cell("undefined", row["cal_reason"],
                                                     Qt.AlignCenter, undefined=True, band=band))
                if n_g > 1:
                    tbl.setSpan(r, C_TIER, n_g, 1)
                    tbl.setSpan(r, C_CAL, n_g, 1)
                    if not self.state.group_specific:
                        tbl.setSpan(r, C_RANGE, n_g, 1)

    def _refresh_chart(self) -> None:
        pi = self.plot.getPlotItem()
        pi.clear()
        self.legend.clear()
        d = self.state.data
        self.bar_items = []
        self.plot.setVisible(d is not None)
        self.save_button.setEnabled(d is not None)
        if d is None or not self.result_rows or self.tier_rate.size == 0:
            self.chart_note.setText("Open and map a data file to see the chart."
                                    if d is None else "")
            return
        rate = self.tier_rate  # (G, T)
        n_g, n_t = rate.shape
        width = 0.8 / n_g
        top = 0.0
        for g in range(n_g):
            x = np.arange(n_t) + (g - (n_g - 1) / 2) * width
            h = rate[g] * 100
            ok = np.isfinite(h)
            color = group_color(g)
            item = pg.BarGraphItem(x=x[ok], height=h[ok], width=width * 0.92,
                                   brush=pg.mkBrush(color), pen=pg.mkPen(color.darker(130)))
            pi.addItem(item)
            self.legend.addItem(item, d.group_names[g])
            self.bar_items.append(item)
            if ok.any():
                top = max(top, float(h[ok].max()))
        self.legend.setColumnCount(min(n_g, 4))
        ax = pi.getAxis("bottom")
        step = 1 if n_t <= 12 else 2
        ax.setTicks([[(j, f"S{j + 1}") for j in range(0, n_t, step)],
                     [(j, f"S{j + 1}") for j in range(n_t)]])
        rows_legend = math.ceil(n_g / 4)
        pi.setXRange(-0.6, n_t - 0.4, padding=0)
        pi.setYRange(0, max(top, 1.0) * (1.18 + 0.1 * rows_legend), padding=0)
        missing = int(np.sum(~np.isfinite(rate)))
        if not self.state.scores.has_label:
            self.chart_note.setText("No outcome column is mapped: outcome rates are undefined.")
        elif missing:
            self.chart_note.setText(f"{missing} bar{'s' * (missing > 1)} missing: the group has "
                                    "no one in that tier, so its rate is undefined (0/0).")
        else:
            self.chart_note.setText("Equal bars within a tier = calibrated across groups.")

    # ================================================================ saving the plot
    def save_plot(self, path) -> Path:
        """Save the chart: SVG when the name ends in .svg, PNG otherwise."""
        from pyqtgraph.exporters import ImageExporter, SVGExporter

        path = Path(path)
        if path.suffix.lower() not in (".png", ".svg"):
            path = path.with_suffix(".png")
        item = self.plot.getPlotItem()
        if path.suffix.lower() == ".svg":
            try:
                SVGExporter(item).export(str(path))
            except ValueError:
                # pyqtgraph's SVGExporter cannot parse the closed paths ("… Z") that recent
                # Qt versions write (pyqtgraph issue #3495); Qt's own SVG generator can.
                self._render_svg(path)
        else:
            exporter = ImageExporter(item)
            width = max(1200, int(self.plot.width()))
            exporter.parameters()["width"] = width
            exporter.export(str(path))
        if not path.exists():
            raise FairDeskError(f"Could not write the plot to “{path}”.")
        return path

    def _render_svg(self, path: Path) -> None:
        from PySide6.QtCore import QRect, QSize
        from PySide6.QtGui import QPainter
        from PySide6.QtSvg import QSvgGenerator

        size = self.plot.size()
        gen = QSvgGenerator()
        gen.setFileName(str(path))
        gen.setSize(QSize(size.width(), size.height()))
        gen.setViewBox(QRect(0, 0, size.width(), size.height()))
        gen.setTitle("Observed outcome rate by tier and group")
        gen.setDescription("FairDesk")
        painter = QPainter(gen)
        try:
            self.plot.render(painter)
        finally:
            painter.end()

    def _save_plot_dialog(self) -> None:
        start = "tier outcome rates.png"
        t = self.state.table
        if t is not None:
            src = Path(t.source.path)
            start = str(src.with_name(src.stem + " tier outcome rates.png"))
        path, chosen = QFileDialog.getSaveFileName(self, "Save plot", start,
                                                   "PNG image (*.png);;SVG drawing (*.svg)")
        if not path:
            return
        if not Path(path).suffix:
            path += ".svg" if "svg" in chosen.lower() else ".png"
        try:
            saved = self.save_plot(path)
        except (OSError, FairDeskError) as err:
            QMessageBox.warning(self, "Save plot", f"Could not save the plot: {err}")
            return
        win = self.window()
        if hasattr(win, "statusBar"):
            win.statusBar().showMessage(f"Saved {saved}", 5000)

    # ================================================================ settings and export
    def settings(self) -> dict:
        rows = []
        for row in self.rows:  # keep even an invalid row's text, as typed
            rows.append({"kind": row.kind_key, "value": row.value.text(),
                         "n_bins": row.bins.value()})
        out = {"rules": rows, "group_specific": self.group_check.isChecked()}
        if self.group_check.isChecked() and self.state.data is not None:
            table = {}
            for g, name in enumerate(self.state.data.group_names):
                table[name] = [self.group_table.item(g, j).text() if self.group_table.item(g, j)
                               else "" for j in range(self.group_table.columnCount())]
            out["group_thresholds"] = table
        return out

    def apply_settings(self, settings: dict) -> None:
        rules = settings.get("rules")
        if rules:
            self.rules_table.setRowCount(0)
            self.rows = []
            for r in rules:
                row = self._add_row()
                with QSignalBlocker(row.kind), QSignalBlocker(row.value), \
                        QSignalBlocker(row.bins):
                    row.kind.setCurrentIndex(max(0, row.kind.findData(r.get("kind", "fixed"))))
                    row._kind_changed()
                    v = r.get("value")
                    row.value.setText("" if v is None else str(v))
                    row.bins.setValue(int(r.get("n_bins", 20)))
            self._rules_edited()
        d = self.state.data
        if settings.get("group_specific") and d is not None:
            with QSignalBlocker(self.group_check):
                self.group_check.setChecked(True)
            self._show_group_box(True)
            self._init_group_table(force=True)
            saved = settings.get("group_thresholds") or {}
            with QSignalBlocker(self.group_table):
                for g, name in enumerate(d.group_names):
                    for j, text in enumerate(saved.get(name, [])[:self.group_table.columnCount()]):
                        self.group_table.item(g, j).setText(str(text))
            self._group_edited = bool(saved)
        else:
            self.group_check.setChecked(False)
        if d is not None:
            self.apply()
        self._update_pending()

    def export_settings(self) -> dict:
        d = self.state.data
        if d is None:
            return {}
        t = np.asarray(self.state.thresholds, dtype=float)
        out = {"Group-specific thresholds": "Yes" if self.state.group_specific else "No"}
        if self.state.group_specific:
            t = t.reshape(d.n_groups, -1)
            for g, name in enumerate(d.group_names):
                out[f"Thresholds, {name}"] = ", ".join(fmt_score(v) for v in t[g])
        else:
            out["Thresholds"] = ", ".join(fmt_score(v) for v in t)
        try:
            out["Threshold rules"] = "; ".join(ThresholdRule.from_dict(r).describe()
                                               for r in self.state.threshold_rules)
        except (KeyError, TypeError, ValueError):
            pass
        out["Tiers"] = "A score equal to a threshold goes to the higher tier."
        return out

    def export_tables(self) -> list:
        from ...reports.workbook import ChartSpec, Column, Table
        from ...undefined import Undefined

        d = self.state.data
        if d is None or not self.result_rows:
            return []
        notes = ["S1 is the lowest-risk tier. A score equal to a threshold goes to the higher "
                 "tier.",
                 "Outcome rate: share of the group's people in the tier who had the outcome. "
                 "CAL: smallest ratio (smaller ÷ larger) of the outcome rates of two groups in "
                 "the tier; 1 = calibrated."]
        rows = []
        for r in self.result_rows:
            rows.append({
                "tier": r["tier"], "range": r["range_long"], "group": r["group"],
                "rows": r["rows"],
                "share": r["share"] if math.isfinite(r["share"]) else
                Undefined("The group has no rows."),
                "weight": r["weight"],
                "outcome_rate": r["outcome_rate"] if math.isfinite(r["outcome_rate"]) else
                Undefined(r["rate_reason"]),
                "cal": r["cal"] if math.isfinite(r["cal"]) else Undefined(r["cal_reason"]),
            })
        columns = [Column("tier", "Tier", note=HEADERS[C_TIER][1]),
                   Column("range", "Score range", note=HEADERS[C_RANGE][1]),
                   Column("group", "Group", note=HEADERS[C_GROUP][1]),
                   Column("rows", "Rows", "int", note=HEADERS[C_ROWS][1]),
                   Column("share", "Share of group", "percent", 1, note=HEADERS[C_SHARE][1]),
                   Column("weight", "Weight", "float", 2, note=HEADERS[C_WEIGHT][1]),
                   Column("outcome_rate", "Outcome rate", "percent", 1,
                          note=HEADERS[C_RATE][1]),
                   Column("cal", "CAL (tier)", "float", 3, note=HEADERS[C_CAL][1])]
        if not d.weighted:
            columns = [c for c in columns if c.key != "weight"]
        calibration = Table(sheet="Tiers", title="Risk tiers by group (calibration)",
                            columns=columns, rows=rows, notes=notes)

        # wide layout: one row per tier, one column per group -> a clustered bar chart
        rate, cal = self.tier_rate, self.cal
        wide, keys = [], [f"rate_{g}" for g in range(d.n_groups)]
        ranges = {r["tier"]: r["range_long"] for r in self.result_rows if r["group_index"] == 0}
        for j in range(rate.shape[1]):
            item = {"tier": f"S{j + 1}",
                    "range": ranges[f"S{j + 1}"] if not self.state.group_specific
                    else "group-specific"}
            for g, name in enumerate(d.group_names):
                v = float(rate[g, j])
                item[keys[g]] = v if math.isfinite(v) else Undefined(
                    f"No one in group '{name}' falls in tier S{j + 1} (0/0).")
            item["cal"] = float(cal[j]) if math.isfinite(cal[j]) else Undefined(
                "Fewer than two groups have people in this tier.")
            wide.append(item)
        wide_cols = ([Column("tier", "Tier"), Column("range", "Score range")]
                     + [Column(keys[g], name, "percent", 1,
                               note=f"Observed outcome rate of group {name} in each tier")
                        for g, name in enumerate(d.group_names)]
                     + [Column("cal", "CAL (tier)", "float", 3, note=HEADERS[C_CAL][1])])
        chart = ChartSpec("bar", "Observed outcome rate by tier and group", "tier", keys,
                          x_title="Risk tier (S1 = lowest risk)",
                          y_title="Observed outcome rate", percent_axis=True)
        rates_table = Table(sheet="Tier outcome rates",
                            title="Observed outcome rate by tier and group",
                            columns=wide_cols, rows=wide, notes=notes[:1], charts=[chart])
        return [calibration, rates_table]
