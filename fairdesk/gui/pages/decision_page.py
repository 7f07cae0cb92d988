"""The Decision table: every scenario on the same data and the same measures, side by side.

Scenario zero is always the baseline, the group-agnostic thresholds in force; the others
are the analyst's scenarios (``state.scenarios``), added with "Add as scenario" on the
Tiers, Audit and engine pages. The page shows measures as rows and scenarios as columns,
tints each difference from the baseline (blue = better, vermillion = worse, yellow = a rate
that moved, which is neither), charts a fairness measure against accuracy (or against the
share of decisions changed), and keeps the analyst's notes per scenario. Its tables are the
meeting workbook (``reports.meeting_report.meeting_tables``).

The comparison (``scenarios.compare``) is O(n) per scenario: up to ``SYNC_ROWS`` rows it runs
on the GUI thread whenever scenarios, thresholds or data change; above, and always with a
bootstrap, it runs in the worker. Renaming, reordering and deleting never recompute: the
page selects columns of the last comparison (bootstrap included), since each column depends
only on its own rule, the baseline, the data and the cost ratio.
"""

from __future__ import annotations

import dataclasses
import html
import importlib
import json
import logging
import math
import textwrap

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QDoubleSpinBox,
                               QGroupBox, QHBoxLayout, QHeaderView, QLabel, QPlainTextEdit,
                               QPushButton, QSpinBox, QSplitter, QTableWidget,
                               QTableWidgetItem, QTabWidget, QToolButton, QVBoxLayout,
                               QWidget)

from ...audit import default_threshold
from ...errors import FairDeskError
from ...metrics.fairness import DEFINITIONS, THRESHOLD_DEFINITIONS, Reliability
from ...metrics.intervals import format_interval
from ...metrics.rates import RATES, undefined_reason
from ...metrics.thresholds import ThresholdRule
from ...scenarios import KINDS, Comparison, Scenario, baseline, compare
from ..palette import group_color
from ..plots import PlotPanel
from .base import Page

log = logging.getLogger("fairdesk.gui.decision")

SYNC_ROWS = 200_000  # up to this many rows the comparison runs on the GUI thread
BASELINE_NAME = "Baseline"
# Okabe–Ito: blue = better than the baseline, vermillion = worse, yellow = a rate moved
BETTER, WORSE, MOVED = QColor("#0072B2"), QColor("#D55E00"), QColor("#F0E442")
SECTION_BG = QColor("#E6ECF2")
GREY = QColor("#6E6E6E")
TEXT = QBrush(QColor("#000000"))
MIN_ALPHA, MAX_ALPHA = 40, 150
MAX_ALPHA_MOVED = 100  # a moved rate is neither better nor worse: a lighter tint
# differences that give the strongest tint: 10 percentage points, 0.2 of a ratio, 50% of cost
FULL_TINT = {"rate": 0.10, "changed": 0.10, "fairness": 0.20, "cost": 0.50}
DIRECTION = {"rate": 0, "fairness": 1, "changed": -1, "cost": -1}  # +1: higher is better

SHORT_RATE = {"selection_rate": "Selection rate", "tpr": "TPR (recall)", "fpr": "FPR",
              "fnr": "FNR", "ppv": "PPV (precision)", "npv": "NPV", "accuracy": "Accuracy"}
SECTION_TIPS = {
    "rate": "Rates per group and overall. They are expected values: a randomised rule counts "
            "each row with its probability of a positive decision; nothing is drawn at random. "
            "A change of a rate is neither better nor worse in itself: it is tinted yellow.",
    "fairness": "The fairness measures: the smallest ratio (smaller ÷ larger) between two "
                "groups of the rate(s) each asks to be equal. 1 = balanced; higher is better.",
    "changed": "The share of people whose decision differs from the baseline's (for a "
               "randomised rule, the expected share). Lower = closer to the baseline.",
    "cost": "Expected cost per person: (FN cost × false negatives + FP cost × false "
            "positives) ÷ people. Lower is better.",
}
SHORT_DEFINITION = {"CUAE": "Cond. use accuracy equality"}
X_AXES = {"accuracy": "Accuracy (overall)", "changed": "Decisions changed vs baseline"}


def row_type(section: str) -> str:
    """The kind of a decision-table row, from its section title."""
    s = section.lower()
    if s.startswith("fairness"):
        return "fairness"
    if s.startswith("decisions changed"):
        return "changed"
    if s.startswith("expected cost"):
        return "cost"
    return "rate"


def _nan(x) -> bool:
    try:
        return x is None or math.isnan(float(x))
    except (TypeError, ValueError):
        return True


def _cost_decimals(v: float) -> int:
    return 4 if abs(v) < 10 else 2


def fmt_value(v: float, rtype: str, kind: str) -> str:
    if _nan(v):
        return "undefined"
    if kind == "percent":
        return f"{100 * v:.1f}%"
    if rtype == "cost":
        return f"{v:,.{_cost_decimals(v)}f}"
    return f"{v:.3f}"


def fmt_diff(d: float, rtype: str, kind: str, base: float = 0.0) -> str:
    """A signed difference; one that rounds to zero is written ±0 (never "-0.0")."""
    if _nan(d):
        return "undefined"
    if kind == "percent":
        text, unit = f"{100 * d:+.1f}", " pts"
    elif rtype == "cost":
        text, unit = f"{d:+,.{_cost_decimals(base)}f}", ""
    else:
        text, unit = f"{d:+.3f}", ""
    if text.lstrip("+-").strip("0.,") == "":
        text = "±" + text.lstrip("+-")
    return text + unit


def fmt_sd(s: float, kind: str) -> str:
    if _nan(s):
        return "?"
    return f"{100 * s:.1f}" if kind == "percent" else f"{s:.3g}"


def tint(base: float, value: float, rtype: str) -> QColor | None:
    """The cell background for ``value`` against the baseline's (None: no difference)."""
    if _nan(base) or _nan(value):
        return None
    d = float(value) - float(base)
    if abs(d) < 1e-9:
        return None
    if rtype == "cost":
        size = abs(d) / max(abs(float(base)), 1e-12) / FULL_TINT["cost"]
    else:
        size = abs(d) / FULL_TINT.get(rtype, 0.1)
    size = min(size, 1.0)
    direction = DIRECTION.get(rtype, 0)
    color = QColor(MOVED if direction == 0 else BETTER if direction * d > 0 else WORSE)
    top = MAX_ALPHA_MOVED if direction == 0 else MAX_ALPHA
    color.setAlpha(int(MIN_ALPHA + (top - MIN_ALPHA) * size))
    return color


def verdict(base: float, value: float, rtype: str) -> str:
    if _nan(base) or _nan(value) or abs(value - base) < 1e-9:
        return "same as the baseline" if not (_nan(base) or _nan(value)) else ""
    direction = DIRECTION.get(rtype, 0)
    if direction == 0:
        return "a change of a rate: neither better nor worse in itself"
    return "better than the baseline" if direction * (value - base) > 0 else \
        "worse than the baseline"


def _jsonable(o):
    if hasattr(o, "tolist"):
        return o.tolist()
    return str(o)


def rule_key(s: Scenario) -> tuple:
    """What a scenario's numbers depend on (not its name or notes)."""
    return s.kind, json.dumps(s.params, sort_keys=True, default=_jsonable)


def scenario_problem(s: Scenario, data) -> str | None:
    """Why ``s`` cannot be compared on ``data`` (None when it can). Cheap checks only."""
    try:
        p = s.params
        if s.kind not in KINDS:
            return f"its kind '{s.kind}' is unknown to this version of FairDesk"
        if s.kind == "thresholds":
            v = np.asarray(p["values"], dtype=float)
            if v.size == 0 or not np.all(np.isfinite(v)):
                return "it has no usable threshold"
        elif s.kind in ("group_thresholds", "randomized"):
            table = p["values"] if s.kind == "group_thresholds" else p["groups"]
            missing = [g for g in data.group_names if g not in table]
            if missing:
                return ("it has no rule for group(s) " + ", ".join(missing)
                        + " (the groups changed since it was added)")
            if s.kind == "group_thresholds":
                if len({len(table[g]) for g in data.group_names}) != 1:
                    return "its groups have different numbers of thresholds"
                v = np.asarray([table[g] for g in data.group_names], dtype=float)
                if v.size == 0 or not np.all(np.isfinite(v)):
                    return "it has no usable threshold"
        elif s.kind == "selection":
            np.asarray(p["rows"], dtype=np.int64)
        elif s.kind == "probabilities":
            module, func = p["engine"].split(":")
            if not callable(getattr(importlib.import_module(module), func, None)):
                return f"the engine function {p['engine']} is not available"
    except ImportError:
        return f"the engine {s.params.get('engine')} is not available in this version"
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        return f"its rule is incomplete ({type(err).__name__}: {err})"
    return None


def wrap_title(name: str, width: int = 14) -> str:
    """A column title on at most two lines (the full name is in the tooltip)."""
    lines = textwrap.wrap(name, width, break_long_words=True) or [name]
    if len(lines) > 2:
        lines = [lines[0], textwrap.shorten(" ".join(lines[1:]), width, placeholder="…")]
    return "\n".join(lines)


class DecisionPage(Page):
    key = "decision"
    title = "Decision table"

    def __init__(self, state, worker, parent=None):
        super().__init__(state, worker, parent)
        self.comp: Comparison | None = None  # what the page shows (columns = list order)
        self.excluded: dict[str, str] = {}  # scenario name -> why it is not compared
        self.value_rows: list[dict] = []  # comp.table_rows()
        self.row_of: dict[int, int] = {}  # value row -> table row
        self.baseline_notes = ""
        self._full: Comparison | None = None  # the last computed comparison
        self._full_keys: list[tuple] = []
        self._full_ctx = None  # (data, baseline key, cost ratio)
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
        self._chart_items: list = []
        self._notes_timer = QTimer(self)
        self._notes_timer.setSingleShot(True)
        self._notes_timer.setInterval(400)
        self._notes_timer.timeout.connect(self._flush_notes)
        self._build()
        state.dataChanged.connect(self._on_data_changed)
        state.thresholdsChanged.connect(self._on_thresholds_changed)
        state.scenariosChanged.connect(self._on_scenarios_changed)
        self._on_data_changed()

    def toolTip(self) -> str:  # the navigation entry's tooltip
        return ("Compare the decision options (scenarios) side by side on the same measures, "
                "with notes, and export the meeting workbook")

    # ================================================================ layout
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        lay = self.add_empty_stack(outer)

        title = QLabel(f"<b style='font-size:15px'>{self.title}</b>")
        intro = QLabel("Every option on the same data and the same measures. The baseline "
                       "(the group-agnostic thresholds in force) is always first; add options "
                       "with <b>Add as scenario…</b> on the Tiers, Audit and engine pages. "
                       "Differences from the baseline are tinted.")
        intro.setWordWrap(True)
        intro.setStyleSheet("color:#444")
        lay.addWidget(title)
        lay.addWidget(intro)

        # --- settings -------------------------------------------------------------------
        box = QGroupBox("Comparison")
        bl = QHBoxLayout(box)
        bl.setContentsMargins(6, 2, 6, 4)
        bl.setSpacing(6)
        self.cost_fn = self._cost_spin("Cost of a false negative (someone with the outcome "
                                       "who is not flagged), relative to a false positive")
        self.cost_fp = self._cost_spin("Cost of a false positive (someone flagged who does "
                                       "not have the outcome), relative to a false negative")
        bl.addWidget(QLabel("Cost FN"))
        bl.addWidget(self.cost_fn)
        bl.addWidget(QLabel(": FP"))
        bl.addWidget(self.cost_fp)
        bl.addSpacing(12)
        self.boot_b = QSpinBox()
        self.boot_b.setRange(0, 100_000)
        self.boot_b.setSingleStep(100)
        self.boot_b.setValue(0)
        self.boot_b.setSpecialValueText("off")
        self.boot_b.setGroupSeparatorShown(True)
        self.boot_b.setToolTip("Bootstrap resamples B (0 = off). With B > 0, Compare "
                               "resamples the rows B times and shows mean ± SD of every cell.")
        self.boot_seed = QSpinBox()
        self.boot_seed.setRange(0, 2_147_483_647)
        self.boot_seed.setValue(self.state.seed("decision"))
        self.boot_seed.setToolTip("Random seed of the bootstrap: the same seed, data and "
                                  "scenarios give the same results. Saved in the project and "
                                  "the workbook.")
        bl.addWidget(QLabel("Bootstrap"))
        bl.addWidget(self.boot_b)
        bl.addWidget(QLabel("Seed"))
        bl.addWidget(self.boot_seed)
        self.compare_button = QPushButton("Compare")
        self.compare_button.setShortcut(QKeySequence("F5"))
        self.compare_button.setToolTip("Compare every scenario now, with the bootstrap when B > "
                                       "0 (F5). Without a bootstrap the table updates by itself.")
        self.compare_button.clicked.connect(self.compare_now)
        bl.addWidget(self.compare_button)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color:#404040")
        bl.addWidget(self.status, 1)
        lay.addWidget(box)
        self.cost_fn.valueChanged.connect(lambda _v: self._update())
        self.cost_fp.valueChanged.connect(lambda _v: self._update())

        # --- body: scenarios and notes | table, chart, tiers ----------------------------
        self.splitter = QSplitter(Qt.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        lay.addWidget(self.splitter, 1)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 4, 0)
        sbox = QGroupBox("Scenarios")
        sl = QVBoxLayout(sbox)
        sl.setContentsMargins(4, 4, 4, 4)
        self.list = QTableWidget(0, 2)
        self.list.setHorizontalHeaderLabels(["Scenario", "Rule"])
        self.list.horizontalHeaderItem(0).setToolTip("The scenario's name: double-click (or "
                                                     "Rename) to change it")
        self.list.horizontalHeaderItem(1).setToolTip("The decision rule; hover for where it "
                                                     "came from")
        self.list.verticalHeader().hide()
        self.list.verticalHeader().setDefaultSectionSize(26)
        self.list.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.list.setSelectionMode(QAbstractItemView.SingleSelection)
        self.list.setEditTriggers(QAbstractItemView.DoubleClicked | QAbstractItemView.EditKeyPressed)
        self.list.setWordWrap(False)
        lh = self.list.horizontalHeader()
        lh.setSectionResizeMode(0, QHeaderView.Interactive)
        lh.setStretchLastSection(True)
        self.list.setColumnWidth(0, 128)
        self.list.itemChanged.connect(self._list_item_changed)
        self.list.itemSelectionChanged.connect(self._selection_changed)
        sl.addWidget(self.list, 1)
        tools = QHBoxLayout()
        tools.setSpacing(4)
        self.up_button = self._tool_button("▲ Up")
        self.up_button.setToolTip("Move the selected scenario one column to the left")
        self.up_button.clicked.connect(lambda: self.move(self.selected_row(), -1))
        self.down_button = self._tool_button("▼ Down")
        self.down_button.setToolTip("Move the selected scenario one column to the right")
        self.down_button.clicked.connect(lambda: self.move(self.selected_row(), 1))
        self.rename_button = self._tool_button("Rename")
        self.rename_button.setToolTip("Rename the selected scenario (F2)")
        self.rename_button.clicked.connect(self._rename_clicked)
        self.delete_button = self._tool_button("Delete")
        self.delete_button.setToolTip("Remove the selected scenario (Delete). The baseline "
                                      "cannot be removed.")
        self.delete_button.clicked.connect(lambda: self.delete(self.selected_row()))
        QShortcut(QKeySequence.Delete, self.list, activated=lambda: self.delete(self.selected_row()),
                  context=Qt.WidgetShortcut)
        self.proposed_button = self._tool_button("Proposed")
        self.proposed_button.setCheckable(True)
        self.proposed_button.setToolTip("Mark the selected scenario as the option proposed to the "
                                        "meeting: the workbook's Summary names it and says what it "
                                        "changes for each group")
        self.proposed_button.clicked.connect(lambda on: self.mark_proposed(self.selected_row(), on))
        for b in (self.up_button, self.down_button, self.rename_button, self.delete_button,
                  self.proposed_button):
            tools.addWidget(b)
        tools.addStretch(1)
        sl.addLayout(tools)
        self.hint = QLabel("Only the baseline so far. Add options with <b>Add as scenario…</b> "
                           "on the Tiers &amp; thresholds page (rules you define), the Audit "
                           "page (the thresholds in force) or an engine's page.")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color:#6b4e00; background:#fff6db; border:1px solid #f0dc9c; "
                                "padding:5px")
        sl.addWidget(self.hint)
        ll.addWidget(sbox, 3)
        nbox = QGroupBox("Notes")
        nl = QVBoxLayout(nbox)
        nl.setContentsMargins(4, 4, 4, 4)
        self.notes_label = QLabel()
        self.notes_label.setStyleSheet("color:#404040")
        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText("Your notes on this option: why it is on the table, what "
                                      "the meeting should know. They go to the Summary sheet.")
        self.notes.setToolTip("Notes on the selected scenario, saved in the project and printed "
                              "on the workbook's Summary sheet")
        self.notes.textChanged.connect(self._notes_edited)
        nl.addWidget(self.notes_label)
        nl.addWidget(self.notes, 1)
        ll.addWidget(nbox, 2)
        self.splitter.addWidget(left)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([285, 765])
        self._build_table_tab()
        self._build_chart_tab()
        self._build_tiers_tab()

    @staticmethod
    def _tool_button(text: str) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setToolButtonStyle(Qt.ToolButtonTextOnly)
        b.setMinimumHeight(26)
        return b

    def _cost_spin(self, tip: str) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(0.0, 1_000_000.0)
        spin.setDecimals(2)
        spin.setValue(1.0)
        spin.setToolTip(tip + ". The expected cost row uses FN cost × FN + FP cost × FP per "
                              "person.")
        return spin

    def _build_table_tab(self) -> None:
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(2, 4, 2, 2)
        self.table = QTableWidget()
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(23)
        self.table.horizontalHeader().setDefaultAlignment(Qt.AlignCenter)
        self.table.horizontalHeader().setHighlightSections(False)
        self.table.setToolTip("Measures as rows, scenarios as columns. Hover a cell for the "
                              "baseline's value and the difference.")
        v.addWidget(self.table, 1)
        row = QHBoxLayout()
        row.setSpacing(6)
        self.by_group = QCheckBox("Rates by group")
        self.by_group.setChecked(True)
        self.by_group.setToolTip("Show every group's rates, or only the overall rates")
        self.by_group.toggled.connect(lambda _on: self._fill_table())
        self.show_diff = QCheckBox("Show differences")
        self.show_diff.setToolTip("Show each scenario's difference from the baseline instead "
                                  "of its value (the value stays in the tooltip)")
        self.show_diff.toggled.connect(lambda _on: self._fill_table())
        self.show_sd = QCheckBox("± SD")
        self.show_sd.setChecked(True)
        self.show_sd.setEnabled(False)
        self.show_sd.setToolTip("Show the bootstrap standard deviation next to each value")
        self.show_sd.toggled.connect(lambda _on: self._fill_table())
        self.show_ci = QCheckBox("95 % intervals")
        self.show_ci.setChecked(True)
        self.show_ci.setToolTip("Show each rate's and fairness measure's 95 % interval: exact "
                                "binomial (Clopper–Pearson) for rates; bootstrap percentile for "
                                "fairness measures after Compare with B > 0 (else “not "
                                "estimated”)")
        self.show_ci.toggled.connect(lambda _on: self._fill_table())
        row.addWidget(self.by_group)
        row.addWidget(self.show_ci)
        row.addWidget(self.show_diff)
        row.addWidget(self.show_sd)
        row.addStretch(1)
        for text, color, tip in (("better", BETTER, "Better than the baseline: a fairness "
                                  "measure higher, fewer changed decisions, a lower cost"),
                                 ("worse", WORSE, "Worse than the baseline"),
                                 ("rate moved", MOVED, "A rate differs from the baseline's: "
                                  "neither better nor worse in itself")):
            c = QColor(color)
            c.setAlpha(MAX_ALPHA)
            swatch = QLabel(text)
            swatch.setToolTip(tip + ". The stronger the tint, the larger the difference.")
            swatch.setStyleSheet(f"background: rgba({c.red()},{c.green()},{c.blue()},{c.alpha()});"
                                 "border:1px solid #bbb; padding:1px 6px; color:#000")
            row.addWidget(swatch)
        v.addLayout(row)
        self.tabs.addTab(w, "Decision table")
        self.tabs.setTabToolTip(0, "Every measure, scenario by scenario")

    def _build_chart_tab(self) -> None:
        self.chart = PlotPanel("ERB against accuracy", X_AXES["accuracy"] + " (%)",
                               "ERB (1 = balanced)", name="decision_options",
                               on_error=self._show_error)
        self.fair_combo = QComboBox()
        self.fair_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.fair_combo.setMinimumContentsLength(22)
        for k in THRESHOLD_DEFINITIONS:
            self.fair_combo.addItem(f"{k} — {DEFINITIONS[k].name}", k)
            self.fair_combo.setItemData(self.fair_combo.count() - 1, DEFINITIONS[k].meaning,
                                        Qt.ToolTipRole)
        self.fair_combo.setToolTip("The fairness measure on the vertical axis (1 = balanced)")
        self.fair_combo.currentIndexChanged.connect(lambda _i: self._draw_chart())
        self.x_combo = QComboBox()
        self.x_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.x_combo.setMinimumContentsLength(20)
        for k, label in X_AXES.items():
            self.x_combo.addItem(label, k)
        self.x_combo.setToolTip("The horizontal axis: overall accuracy, or the share of "
                                "decisions that differ from the baseline")
        self.x_combo.currentIndexChanged.connect(lambda _i: self._draw_chart())
        self.chart.add_control(QLabel("Fairness"))
        self.chart.add_control(self.fair_combo)
        self.chart.add_control(QLabel("against"))
        self.chart.add_control(self.x_combo)
        self.chart.widget.setToolTip("One point per scenario; the baseline is the black star. "
                                     "Up = fairer, right = more accurate (or more decisions "
                                     "changed). Bars: ± 1 bootstrap SD.")
        self.chart.plot.setMouseEnabled(x=False, y=False)
        self.chart.plot.hideButtons()
        self.tabs.addTab(self.chart, "Chart")
        self.tabs.setTabToolTip(1, "Fairness against accuracy or changed decisions, one point "
                                   "per scenario")

    def _build_tiers_tab(self) -> None:
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(2, 4, 2, 2)
        self.tiers_label = QLabel()
        self.tiers_label.setWordWrap(True)
        v.addWidget(self.tiers_label)
        self.tiers = QTableWidget(0, 6)
        for i, (h, tip) in enumerate((
                ("Tier", "S1 is the lowest-risk tier (for a list: S1 not selected, S2 "
                         "selected; for a randomised rule: S2 is the band decided at random)"),
                ("Group", "The protected group"),
                ("Rows", "Rows of the group in the tier (unweighted)"),
                ("People", "People of the group in the tier (sum of the weights)"),
                ("% of group", "Share of the group's people who fall in the tier"),
                ("CAL (tier)", "Calibration within the tier: the smallest ratio, smaller ÷ "
                               "larger, of two groups' outcome rates in the tier (1 = the tier "
                               "means the same risk for every group)"))):
            item = QTableWidgetItem(h)
            item.setToolTip(tip)
            self.tiers.setHorizontalHeaderItem(i, item)
        self.tiers.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.tiers.verticalHeader().hide()
        self.tiers.verticalHeader().setDefaultSectionSize(23)
        self.tiers.horizontalHeader().setSectionResizeMode(QHeaderView.Fixed)
        for c, width in enumerate((60, 130, 80, 90, 90, 90)):
            self.tiers.setColumnWidth(c, width)
        v.addWidget(self.tiers, 1)
        self.tabs.addTab(w, "Tiers (selected)")
        self.tabs.setTabToolTip(2, "Rows and people per tier and group, and calibration per "
                                   "tier, of the scenario selected on the left")

    # ================================================================ the scenarios
    def cost_ratio(self) -> tuple[float, float]:
        return float(self.cost_fn.value()), float(self.cost_fp.value())

    def baseline_values(self) -> list[float]:
        """The group-agnostic thresholds in force. With group-specific thresholds: the
        group-agnostic rules they came with (when the rules were set with them), else the
        last group-agnostic thresholds in force, else the default threshold."""
        st, d = self.state, self.state.data
        if not st.group_specific:
            return [float(v) for v in np.sort(np.ravel(st.thresholds))]
        if d is None:
            return [0.5]
        last = self._last_agnostic if self._last_agnostic and self._last_agnostic[0] is d else None
        rules_now = json.dumps(st.threshold_rules or [], sort_keys=True, default=_jsonable)
        if last is None or rules_now != last[2]:  # the rules came with these thresholds
            try:
                rules = [ThresholdRule.from_dict(r) for r in st.threshold_rules or []]
                values = sorted(float(r.resolve(d)) for r in rules)
                if values and all(math.isfinite(v) for v in values):
                    return values
            except (FairDeskError, KeyError, TypeError, ValueError):
                pass
        if last is not None:
            return list(last[1])
        return [float(default_threshold(d)[0])]

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
        d = self.state.data
        base = self.baseline_scenario()
        cols, keys, excluded, col_of_row = [base], [rule_key(base)], {}, {0: 0}
        for i, s in enumerate(self.state.scenarios):
            problem = scenario_problem(s, d)
            if problem:
                excluded[s.name] = problem
                continue
            col_of_row[i + 1] = len(cols)
            cols.append(s)
            keys.append(rule_key(s))
        return cols, keys, (d, keys[0], self.cost_ratio()), excluded, col_of_row

    @staticmethod
    def _same_ctx(a, b) -> bool:
        return a is not None and b is not None and a[0] is b[0] and a[1:] == b[1:]

    def _view(self, cols, keys, ctx) -> Comparison | None:
        """Columns of the last comparison for these scenarios (None: compute again)."""
        full = self._full
        if full is None or not self._same_ctx(ctx, self._full_ctx):
            return None
        try:
            idx = [self._full_keys.index(k) for k in keys]
        except ValueError:
            return None
        metrics = [dataclasses.replace(full.metrics[i], name=c.name) for i, c in zip(idx, cols)]
        boot = None
        if full.bootstrap is not None:
            boot = {k: full.bootstrap[k][:, idx] for k in ("mean", "sd", "lo", "hi", "defined")}
            boot["resamples"] = full.bootstrap["resamples"]
        return Comparison(list(cols), metrics, list(full.group_names), full.cost_ratio, boot,
                          full.seed, full.reliability)

    def _store(self, comp: Comparison, keys, ctx) -> None:
        if self._full is not None and self._full.bootstrap is not None and comp.bootstrap is None:
            self._note = ("Bootstrap cleared: the scenarios, thresholds or cost changed. Press "
                          "Compare to run it again.")
        self._full, self._full_keys, self._full_ctx = comp, list(keys), ctx

    # ================================================================ updating
    def _on_data_changed(self) -> None:
        self._full = self._full_ctx = None
        self._full_keys = []
        self._note = ""
        d = self.state.data
        if d is not None and "decision" in self.state.seeds:
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
                                   json.dumps(self.state.threshold_rules or [], sort_keys=True,
                                              default=_jsonable))

    def _on_scenarios_changed(self) -> None:
        if self._notes_emit:  # our own notes edit: nothing to recompute or redraw
            return
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
        view = None if force else self._view(cols, keys, ctx)
        if view is not None:
            self._dirty = False
            self._show(view)
            return
        if self._job is not None:  # the running job's result will call _update again
            self._dirty = True
            self._set_status()
            return
        if d.n <= SYNC_ROWS:
            part_cols, part_keys, base = self._part(cols, keys, ctx, force)
            try:
                comp = compare(d, part_cols, cost_ratio=ctx[2], reliability=self._reliability())
            except FairDeskError as err:
                self._note = f"Could not compare: {err}"
                self._dirty = False
                self._show(None)
                return
            self._store(*self._merged(base, comp, part_keys, keys), ctx)
            self._dirty = False
            self._show(self._view(cols, keys, ctx))
        elif self.isVisible() or force:
            self._start_job(0)
        else:  # large data: compare when the page is shown (or exported)
            self._dirty = True
            self._set_status()

    def _part(self, cols, keys, ctx, force: bool = False):
        """What to compute: the baseline and the scenarios the last comparison lacks (every
        scenario when forced or when the data, baseline or cost changed), and the
        comparison to merge the result into (None: nothing)."""
        full = self._full
        if force or full is None or not self._same_ctx(ctx, self._full_ctx):
            return cols, keys, None
        part_cols, part_keys, seen = [cols[0]], [keys[0]], set(self._full_keys)
        for c, k in zip(cols[1:], keys[1:]):
            if k not in seen:
                seen.add(k)
                part_cols.append(c)
                part_keys.append(k)
        return part_cols, part_keys, (full, list(self._full_keys))

    @staticmethod
    def _merged(base, part: Comparison, part_keys, wanted):
        """``part`` (baseline first) added to the comparison ``base`` = (comparison, keys);
        columns no longer wanted are dropped. A bootstrap cannot be merged: it is left out."""
        if base is None:
            return part, list(part_keys)
        full, full_keys = base
        keep = set(wanted)
        idx = [i for i, k in enumerate(full_keys) if i == 0 or k in keep]
        scen = [full.scenarios[i] for i in idx] + part.scenarios[1:]
        metrics = [full.metrics[i] for i in idx] + part.metrics[1:]
        keys = [full_keys[i] for i in idx] + list(part_keys[1:])
        return Comparison(scen, metrics, list(full.group_names), full.cost_ratio,
                          reliability=full.reliability), keys

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
        part_cols, part_keys, base = self._part(cols, keys, ctx, force=bool(B))
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
        if base is not None and (self._full is not base[0] or not self._same_ctx(ctx,
                                                                                  self._full_ctx)):
            base = None  # the comparison it completes was replaced meanwhile: keep it alone
        comp, keys = self._merged(base, comp, keys, wanted)
        self._full, self._full_keys, self._full_ctx = comp, list(keys), ctx
        cols, wanted, now, _e, _c = self._wanted()
        covered = self._same_ctx(now, ctx) and all(k in keys for k in wanted)
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
        self._job = None
        self.compare_button.setEnabled(True)
        self._note = "The comparison failed; see the message."
        self._set_status()
        self.worker.failed.emit(message, details)

    def _job_cancelled(self) -> None:
        self._job = None
        self.compare_button.setEnabled(True)
        self._note = "Cancelled: press Compare to run it again."
        self._set_status()

    def _ensure_current(self) -> Comparison | None:
        """The comparison for the current scenarios, computed now if needed (export)."""
        d = self.state.data
        if d is None or d.label is None:
            return None
        cols, keys, ctx, _e, _c = self._wanted()
        view = self._view(cols, keys, ctx)
        if view is None:
            part_cols, part_keys, base = self._part(cols, keys, ctx)
            comp = compare(d, part_cols, cost_ratio=ctx[2], reliability=self._reliability())
            self._store(*self._merged(base, comp, part_keys, keys), ctx)
            view = self._view(cols, keys, ctx)
            self._show(view)
        return view

    # ================================================================ showing
    def _show(self, comp: Comparison | None) -> None:
        self.comp = comp
        boot = comp is not None and comp.bootstrap is not None
        self.show_sd.setEnabled(boot)
        self._fill_table()
        self._draw_chart()
        self._fill_tiers()
        self._update_header_tips()
        self._set_status()

    def _set_status(self) -> None:
        d, comp = self.state.data, self.comp
        parts = []
        if comp is not None and d is not None:
            n = len(comp.scenarios)
            people = float(d.weight.sum())
            who = f"{d.n:,} rows" + (f" ({people:,.0f} people)" if d.weighted else "")
            parts.append(f"{n} scenario{'s' * (n != 1)} on {who}.")
        if self._dirty and self._job is None:
            parts.append("Out of date: press Compare (F5).")
        elif self._job is not None and not self._job_boot:
            parts.append("Updating…")
        if self.excluded:
            parts.append("Not compared: " + "; ".join(
                f"{html.escape(k)} ({html.escape(v)})" for k, v in self.excluded.items()) + ".")
        if self._note:
            parts.append(html.escape(self._note))
        self.status.setText(" ".join(parts))

    # --- the scenario list
    def _fill_list(self) -> None:
        scen = self.list_scenarios()
        sel = self.selected_row()
        with QSignalBlocker(self.list):
            self.list.setRowCount(len(scen))
            for r, s in enumerate(scen):
                name = self.list.item(r, 0)
                if name is None:
                    name = QTableWidgetItem()
                    self.list.setItem(r, 0, name)
                rule = self.list.item(r, 1)
                if rule is None:
                    rule = QTableWidgetItem()
                    self.list.setItem(r, 1, rule)
                name.setText(s.name)
                rule_text = self._describe(s)
                origin = ", ".join(f"{k}: {v}" for k, v in s.origin.items()
                                   if k not in ("rules", "proposed") and not isinstance(v, (dict, list)))
                font = name.font()
                font.setBold(r == 0)
                font.setItalic(s.name in self.excluded and r > 0)
                name.setFont(font)
                if r == 0:
                    name.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable)
                    name.setToolTip("The baseline: the group-agnostic thresholds in force. It is "
                                    "always the first column and cannot be renamed or removed.")
                else:
                    name.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsEditable)
                    name.setToolTip(f"{s.name} — double-click to rename")
                rule.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable)
                problem = self.excluded.get(s.name) if r > 0 else None
                if problem:
                    rule.setText("⚠ not compared: " + problem)
                    rule.setForeground(QBrush(QColor("#a40000")))
                    name.setForeground(QBrush(GREY))
                else:
                    # the proposed option says so where the analyst looks (not in its name,
                    # which stays editable)
                    rule.setText(("Proposed · " if s.origin.get("proposed") else "") + rule_text)
                    rule.setForeground(TEXT)
                    name.setForeground(TEXT)
                tip = f"<b>{html.escape(s.name)}</b><br>{html.escape(s.describe())}"
                if origin:
                    tip += f"<br>From: {html.escape(origin)}"
                if problem:
                    tip += f"<br><span style='color:#a40000'>Not compared: {html.escape(problem)}</span>"
                rule.setToolTip(tip)
        self.hint.setVisible(len(scen) == 1)
        if self.list.rowCount():
            target = min(max(sel, 0), self.list.rowCount() - 1)
            if self.list.currentRow() != target or not self.list.selectedItems():
                self.list.selectRow(target)
        self._update_buttons()
        current = self._target(self.selected_row())
        if current is not self._notes_for and not (current == "baseline" == self._notes_for):
            self._flush_notes()
            self._load_notes()

    def _describe(self, s: Scenario) -> str:
        try:
            if s.kind == "thresholds":
                return "thresholds " + ", ".join(f"{v:.4g}" for v in s.params["values"])
            if s.kind == "group_thresholds":
                vals = s.params["values"]
                return "per group: " + "; ".join(
                    f"{g} " + ", ".join(f"{v:.3g}" for v in vs) for g, vs in vals.items())
            return s.describe()
        except (KeyError, TypeError, ValueError):
            return s.kind

    def selected_row(self) -> int:
        rows = self.list.selectionModel().selectedRows() if self.list.selectionModel() else []
        if rows:
            return rows[0].row()
        return max(self.list.currentRow(), 0)

    def select(self, row: int) -> None:
        self.list.selectRow(row)

    def _update_buttons(self) -> None:
        r = self.selected_row()
        n = len(self.state.scenarios)
        self.up_button.setEnabled(r > 1)
        self.down_button.setEnabled(1 <= r < n)
        self.rename_button.setEnabled(r >= 1)
        self.delete_button.setEnabled(r >= 1)
        target = self._target(r)
        self.proposed_button.setEnabled(r >= 1)
        self.proposed_button.setChecked(bool(r >= 1 and target not in (None, "baseline")
                                             and target.origin.get("proposed")))

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
        r = self.selected_row()
        target = self._target(r)
        self._notes_for = target
        self._loading_notes = True
        try:
            if target is None:
                self.notes.setPlainText("")
            else:
                self.notes.setPlainText(self.baseline_notes if target == "baseline"
                                        else target.notes)
        finally:
            self._loading_notes = False
        self.notes.setEnabled(target is not None)
        name = BASELINE_NAME if target == "baseline" else getattr(target, "name", "")
        self.notes_label.setText(f"On <b>{html.escape(name)}</b>:")

    # --- editing (through state.set_scenarios, so projects save it)
    def rename(self, row: int, name: str) -> str | None:
        """Rename the scenario of list row ``row`` (≥ 1); a name in use gets a number.
        Returns the name given, or None (the baseline, or an empty name)."""
        name = " ".join(str(name).split())
        if row < 1 or row > len(self.state.scenarios) or not name:
            self._fill_list()
            return None
        scen = list(self.state.scenarios)
        s = scen[row - 1]
        used = {o.name for o in scen if o is not s} | {BASELINE_NAME}
        base, n = name, 2
        while name in used:
            name = f"{base} ({n})"
            n += 1
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
            self._update_header_tips()

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

    def _rename_clicked(self) -> None:
        r = self.selected_row()
        if r >= 1:
            self.list.editItem(self.list.item(r, 0))

    def _list_item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() != 0:
            return
        row, text = item.row(), item.text()
        # after the editor has closed: renaming rebuilds the list
        QTimer.singleShot(0, lambda: self.rename(row, text))

    # --- the decision table
    def _measure_label(self, r: dict) -> tuple[str, str]:
        m, rtype = r["measure"], row_type(r["section"])
        if rtype == "rate" and m in RATES:
            info = RATES[m]
            return SHORT_RATE.get(m, info.name), (f"<b>{info.name}</b><br>{info.definition}<br>"
                                                  f"Formula: {info.formula}")
        if rtype == "fairness" and m in DEFINITIONS:
            d = DEFINITIONS[m]
            name = SHORT_DEFINITION.get(m, d.name)
            return f"{m} — {name}", (f"<b>{d.name} ({m})</b><br>{d.meaning}<br>Measured as "
                                       "the smallest ratio between two groups; 1 = balanced.")
        if rtype == "changed":
            return "Decisions changed", SECTION_TIPS["changed"]
        if rtype == "cost":
            fn, fp = self.comp.cost_ratio
            return f"Cost per person ({fn:g}:{fp:g})", SECTION_TIPS["cost"]
        return str(m), ""

    def _undefined_reason(self, r: dict) -> str:
        rtype, g = row_type(r["section"]), r["group"]
        if rtype == "rate" and r["measure"] in RATES:
            if g == "Overall":
                return undefined_reason(r["measure"]).replace("the group", "all groups together")
            return undefined_reason(r["measure"], g)
        if rtype == "fairness":
            return ("fewer than two groups have the rate(s) defined, so there is nothing to "
                    "compare")
        if rtype == "changed":
            return f"group '{g}' has no people (weight 0)"
        return "0/0"

    def _fill_table(self) -> None:
        tbl, comp = self.table, self.comp
        tbl.clearSpans()
        if comp is None:
            tbl.setRowCount(0)
            tbl.setColumnCount(0)
            self.value_rows, self.row_of = [], {}
            return
        rows = comp.table_rows()
        self.value_rows = rows
        boot = comp.bootstrap
        by_group = self.by_group.isChecked()
        diff_mode = self.show_diff.isChecked()
        sd_mode = boot is not None and self.show_sd.isChecked()
        ci_rows = {i: True for i, r in enumerate(rows)
                   if self.show_ci.isChecked() and (boot is not None or
                                                    row_type(r["section"]) in ("rate", "fairness"))}
        S = len(comp.scenarios)
        groups = {n: g for g, n in enumerate(comp.group_names)}
        visual: list[tuple[str, object]] = []
        prev = None
        for i, r in enumerate(rows):
            if not by_group and r["group"] in groups:
                continue
            if r["section"] != prev:
                visual.append(("section", r["section"]))
                prev = r["section"]
            visual.append(("value", i))
        tbl.setRowCount(len(visual))
        tbl.setColumnCount(2 + S)
        for c, text in enumerate(["Measure", "Group"]):
            tbl.setHorizontalHeaderItem(c, QTableWidgetItem(text))
        for j, s in enumerate(comp.scenarios):
            h = QTableWidgetItem(wrap_title(s.name))
            if j == 0:
                f = h.font()
                f.setBold(True)
                h.setFont(f)
            tbl.setHorizontalHeaderItem(2 + j, h)
        self._update_header_tips()
        self.row_of = {}
        span_start, span_key = None, None
        bold = QFont(tbl.font())
        bold.setBold(True)

        def close_span(end_row):
            if span_start is not None and end_row - span_start > 1:
                tbl.setSpan(span_start, 0, end_row - span_start, 1)

        for t, (what, payload) in enumerate(visual):
            if what == "section":
                close_span(t)
                span_start, span_key = None, None
                rtype = row_type(payload)
                item = QTableWidgetItem(payload)
                item.setFont(bold)
                item.setBackground(QBrush(SECTION_BG))
                item.setToolTip(SECTION_TIPS.get(rtype, ""))
                item.setFlags(Qt.ItemIsEnabled)
                tbl.setItem(t, 0, item)
                tbl.setSpan(t, 0, 1, 2 + S)
                continue
            i = payload
            r = rows[i]
            self.row_of[i] = t
            rtype = row_type(r["section"])
            label, tip = self._measure_label(r)
            key = (r["section"], r["measure"])
            if key != span_key:
                close_span(t)
                span_start, span_key = t, key
                m_item = QTableWidgetItem(label)
                m_item.setToolTip(tip)
                m_item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable)
                m_item.setTextAlignment(Qt.AlignLeft | Qt.AlignVCenter)
                tbl.setItem(t, 0, m_item)
            g_item = QTableWidgetItem(r["group"])
            g_item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable)
            if r["group"] in groups:
                g_item.setData(Qt.DecorationRole, group_color(groups[r["group"]]))
                g_item.setToolTip(f"Group {r['group']}")
            elif r["group"] == "Overall":
                g_item.setFont(bold)
                g_item.setToolTip("All groups together")
            tbl.setItem(t, 1, g_item)
            if not r["group"]:
                tbl.setSpan(t, 0, 1, 2)  # a measure without groups: its label may be long
            vals = r["values"]
            base = vals[0]
            for j, v in enumerate(vals):
                item = QTableWidgetItem()
                item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable)
                item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                item.setData(Qt.UserRole, float(v))
                s = comp.scenarios[j]
                where = f"{label}" + (f", {r['group']}" if r["group"] else "")
                lines = [f"<b>{html.escape(s.name)}</b> — {html.escape(where)}"]
                if _nan(v):
                    reason = self._undefined_reason(r)
                    item.setText("undefined")
                    f = item.font()
                    f.setItalic(True)
                    item.setFont(f)
                    item.setForeground(QBrush(GREY))
                    lines.append(f"Undefined: {html.escape(reason)}.")
                else:
                    text = fmt_value(v, rtype, r["kind"])
                    if diff_mode and j > 0:
                        text = fmt_diff(v - base, rtype, r["kind"], base) if not _nan(base) \
                            else text
                    if sd_mode:
                        text += f" ± {fmt_sd(boot['sd'][i, j], r['kind'])}"
                    if ci_rows.get(i) is not None:
                        lo, hi, how = comp.interval(i, j)
                        if _nan(lo):
                            if rtype in ("rate", "fairness"):
                                text += "  [not estimated]"
                            lines.append(html.escape(how[0].upper() + how[1:]))
                        else:
                            text += "  [" + format_interval(lo, hi, pct=r["kind"] == "percent").replace(
                                " %", "") + "]"
                            lines.append(f"95 % interval: {format_interval(lo, hi, pct=r['kind'] == 'percent')}"
                                         f" ({html.escape(how)})")
                    item.setText(text)
                    item.setForeground(TEXT)
                    lines.append(f"Value: {fmt_value(v, rtype, r['kind'])}")
                det = (comp.metrics[j].details or {}).get(r["measure"]) if rtype == "fairness" else None
                if det is not None:
                    lines.append(html.escape(det.pair_text(comp.group_names) or det.undefined_reason))
                    if det.excluded:
                        lines.append("Left out: " + html.escape(det.excluded_text(comp.group_names)))
                if j > 0:
                    lines.append(f"Baseline: {fmt_value(base, rtype, r['kind'])}")
                    if not (_nan(v) or _nan(base)):
                        lines.append(f"Difference: {fmt_diff(v - base, rtype, r['kind'], base)} "
                                     f"({verdict(base, v, rtype)})")
                    color = tint(base, v, rtype)
                    if color is not None:
                        item.setBackground(QBrush(color))
                if boot is not None:
                    m, sd = boot["mean"][i, j], boot["sd"][i, j]
                    if _nan(m):
                        lines.append(f"Bootstrap: undefined in every one of {boot['resamples']:,} "
                                     "resamples")
                    else:
                        lines.append(f"Bootstrap mean ± SD: {fmt_value(m, rtype, r['kind'])} ± "
                                     f"{fmt_sd(sd, r['kind'])}"
                                     f"{' pts' if r['kind'] == 'percent' else ''} over "
                                     f"{boot['resamples']:,} resamples (seed {comp.seed})")
                item.setToolTip("<br>".join(lines))
                tbl.setItem(t, 2 + j, item)
        close_span(len(visual))
        hh = tbl.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.Interactive)
        tbl.setColumnWidth(0, 128)
        fm = tbl.fontMetrics()
        # the group column fits the longest group name (icon and padding included), within reason
        longest = max([fm.horizontalAdvance(str(n)) for n in comp.group_names] + [40])
        tbl.setColumnWidth(1, min(max(86, longest + 36), 220))
        for j in range(S):
            tbl.resizeColumnToContents(2 + j)
            title = wrap_title(comp.scenarios[j].name).split("\n")
            width = max(tbl.columnWidth(2 + j), max(fm.horizontalAdvance(x) for x in title) + 18,
                        78)
            tbl.setColumnWidth(2 + j, width)

    def _reliability(self) -> Reliability:
        """The groups the fairness measures compare (the Data page's minimum group size)."""
        return Reliability(min_group_size=int(getattr(self.state, "min_group_size", 30)))

    def _update_header_tips(self) -> None:
        comp = self.comp
        if comp is None:
            return
        for j, s in enumerate(comp.scenarios):
            h = self.table.horizontalHeaderItem(2 + j)
            if h is None:
                continue
            tip = f"<b>{html.escape(s.name)}</b><br>{html.escape(s.describe(comp.group_names))}"
            if j == 0:
                tip += "<br>The baseline: every difference is measured from this column."
            if s.origin.get("engine"):
                tip += f"<br>From: {html.escape(str(s.origin['engine']))}"
            if s.notes:
                tip += f"<br><i>{html.escape(s.notes)}</i>"
            h.setToolTip(tip)

    # --- the chart
    def _row_index(self, section_type: str, measure: str, group: str) -> int | None:
        for i, r in enumerate(self.value_rows):
            if row_type(r["section"]) == section_type and r["measure"] == measure \
                    and r["group"] == group:
                return i
        return None

    def chart_points(self) -> list[dict]:
        """The chart's points: name, x (%), y, and their bootstrap SDs (NaN without)."""
        comp = self.comp
        if comp is None:
            return []
        key = self.fair_combo.currentData() or "ERB"
        x_key = self.x_combo.currentData() or "accuracy"
        boot = comp.bootstrap
        ix = (self._row_index("rate", "accuracy", "Overall") if x_key == "accuracy"
              else self._row_index("changed", "changed", "Overall"))
        iy = self._row_index("fairness", key, "")
        out = []
        for j, (s, m) in enumerate(zip(comp.scenarios, comp.metrics)):
            x = m.overall["accuracy"] if x_key == "accuracy" else m.changed_overall
            y = m.fairness[key]
            sx = sy = math.nan
            if boot is not None and ix is not None and iy is not None:
                sx, sy = float(boot["sd"][ix, j]), float(boot["sd"][iy, j])
            out.append({"name": s.name, "x": 100 * float(x), "y": float(y), "sx": 100 * sx,
                        "sy": sy, "baseline": j == 0})
        return out

    def _draw_chart(self) -> None:
        plot = self.chart.plot
        for item in self._chart_items:
            plot.removeItem(item)
        self._chart_items = []
        key = self.fair_combo.currentData() or "ERB"
        x_key = self.x_combo.currentData() or "accuracy"
        plot.setTitle(f"{key} against {'accuracy' if x_key == 'accuracy' else 'changed decisions'}",
                      color="k", size="12pt")
        plot.setLabel("bottom", X_AXES[x_key] + " (%)", color="k", **{"font-size": "11pt"})
        plot.setLabel("left", f"{key} (1 = balanced)", color="k", **{"font-size": "11pt"})
        points = self.chart_points()
        good = [p for p in points if not (_nan(p["x"]) or _nan(p["y"]))]
        missing = [p["name"] for p in points if p not in good]
        sel = self.selected_row()
        sel_col = self._col_of_row.get(sel)
        sel_name = self.comp.scenarios[sel_col].name if self.comp is not None and \
            sel_col is not None and sel_col < len(self.comp.scenarios) else None
        if good:
            xs = np.array([p["x"] for p in good])
            ys = np.array([p["y"] for p in good])
            sx = np.nan_to_num(np.array([p["sx"] for p in good]))
            sy = np.nan_to_num(np.array([p["sy"] for p in good]))
            if np.any(sx > 0) or np.any(sy > 0):
                bars = pg.ErrorBarItem(x=xs, y=ys, left=sx, right=sx, top=sy, bottom=sy,
                                       beam=0.0, pen=pg.mkPen("#8a8a8a", width=1.2))
                plot.addItem(bars)
                self._chart_items.append(bars)
            spots = []
            for p in good:
                if p["baseline"]:
                    spots.append({"pos": (p["x"], p["y"]), "symbol": "star", "size": 20,
                                  "brush": pg.mkBrush("#000000"), "pen": pg.mkPen("w", width=1)})
                else:
                    chosen = p["name"] == sel_name
                    spots.append({"pos": (p["x"], p["y"]), "symbol": "o",
                                  "size": 15 if chosen else 12,
                                  "brush": pg.mkBrush(BETTER),
                                  "pen": pg.mkPen("#D55E00" if chosen else "w",
                                                  width=2.5 if chosen else 1.2)})
            scatter = pg.ScatterPlotItem(spots=spots)
            scatter.setZValue(10)
            plot.addItem(scatter)
            self._chart_items.append(scatter)
            for p in good:
                label = pg.TextItem(p["name"], color="#000000" if p["baseline"] else "#1a1a1a",
                                    anchor=(0, 1.0))
                f = QFont()
                f.setPointSize(10)
                f.setBold(p["baseline"] or p["name"] == sel_name)
                label.setFont(f)
                label.setPos(p["x"], p["y"])
                label.setZValue(11)
                plot.addItem(label)
                self._chart_items.append(label)
            # ranges with room for the labels (to the right and above each point)
            x_lo, x_hi = float(np.min(xs - sx)), float(np.max(xs + sx))
            y_lo, y_hi = float(np.min(ys - sy)), float(np.max(ys + sy))
            xw = max(x_hi - x_lo, 2.0)
            yw = max(y_hi - y_lo, 0.08)
            plot.setXRange(x_lo - 0.08 * xw, x_hi + 0.30 * xw, padding=0)
            y_bottom, y_top = max(0.0, y_lo - 0.12 * yw), y_hi + 0.22 * yw
            plot.setYRange(y_bottom, y_top, padding=0)
            if y_bottom <= 0.8 <= y_top:
                line = pg.InfiniteLine(pos=0.8, angle=0, pen=pg.mkPen("#7a7a7a", width=1,
                                                                      style=Qt.DashLine),
                                       label="0.8 (four-fifths rule of thumb)",
                                       labelOpts={"position": 0.02, "color": "#555555",
                                                  "anchors": [(0, 1), (0, 1)]})
                plot.addItem(line, ignoreBounds=True)
                self._chart_items.append(line)
        note = []
        if missing:
            note.append(f"Not drawn ({key} or the x value is undefined): " + ", ".join(missing)
                        + ".")
        if good and self.comp is not None and self.comp.bootstrap is not None:
            note.append("Bars: ± 1 bootstrap SD.")
        self.chart.set_note(" ".join(note))

    def save_plot(self, path):
        return self.chart.save(path)

    # --- tiers of the selected scenario
    def _fill_tiers(self) -> None:
        tbl = self.tiers
        tbl.clearSpans()
        comp = self.comp
        r = self.selected_row()
        col = self._col_of_row.get(r)
        if comp is None or col is None or col >= len(comp.scenarios):
            tbl.setRowCount(0)
            scen = self.list_scenarios()
            name = scen[r].name if 0 <= r < len(scen) else ""
            self.tiers_label.setText(f"{html.escape(name)} is not compared: "
                                     f"{html.escape(self.excluded.get(name, ''))}"
                                     if name in self.excluded else "")
            return
        s, m = comp.scenarios[col], comp.metrics[col]
        self.tiers_label.setText(f"<b>{html.escape(s.name)}</b>: {html.escape(self._describe(s))}."
                                 f"<br>{m.n_tiers} tiers, S1 the lowest risk. "
                                 f"{html.escape(self._flagged_tiers(s, m.n_tiers))}")
        G = len(comp.group_names)
        cal = np.atleast_1d(m.fairness["CAL"])
        tbl.setRowCount(G * m.n_tiers)
        band = QBrush(QColor("#F1F5F9"))
        for t in range(m.n_tiers):
            for g, gname in enumerate(comp.group_names):
                row = t * G + g
                total = float(m.people[g].sum())
                share = float(m.people[g, t]) / total if total > 0 else math.nan
                cells = [f"S{t + 1}", gname, f"{m.rows[g, t]:,.0f}",
                         f"{m.people[g, t]:,.0f}" if float(m.people[g, t]).is_integer()
                         else f"{m.people[g, t]:,.2f}",
                         "undefined" if _nan(share) else f"{100 * share:.1f}%"]
                for c, text in enumerate(cells):
                    item = QTableWidgetItem(text)
                    item.setTextAlignment((Qt.AlignLeft if c == 1 else Qt.AlignRight)
                                          | Qt.AlignVCenter)
                    if c == 1:
                        item.setData(Qt.DecorationRole, group_color(g))
                    if t % 2:
                        item.setBackground(band)
                    tbl.setItem(row, c, item)
                if g == 0:
                    v = float(cal[t]) if t < cal.size else math.nan
                    item = QTableWidgetItem("undefined" if _nan(v) else f"{v:.3f}")
                    item.setTextAlignment(Qt.AlignCenter)
                    if _nan(v):
                        item.setForeground(QBrush(GREY))
                        item.setToolTip("Undefined: fewer than two groups have people in this "
                                        "tier")
                    else:
                        item.setToolTip(f"In tier S{t + 1}, the lowest outcome rate of a group "
                                        f"is {v:.1%} of the highest")
                    if t % 2:
                        item.setBackground(band)
                    tbl.setItem(row, 5, item)
                    if G > 1:
                        tbl.setSpan(row, 0, G, 1)
                        tbl.setSpan(row, 5, G, 1)

    @staticmethod
    def _flagged_tiers(s: Scenario, n_tiers: int) -> str:
        if s.kind in ("thresholds", "group_thresholds"):
            j = int(s.params.get("decision", n_tiers - 2)) + 2
            return (f"Flagged: S{j}." if j == n_tiers else f"Flagged: S{j} to S{n_tiers}.")
        if s.kind == "selection":
            return "S1: not on the list; S2: on the list."
        if s.kind == "randomized":
            return "S3 flagged; S2 flagged at random with the group's probability p."
        return ""

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
        fn, fp = self.cost_ratio()
        out = {"Cost ratio (FN:FP)": f"{fn:g}:{fp:g}",
               "Baseline": "thresholds " + ", ".join(f"{v:.6g}" for v in self.baseline_values()),
               "Chart": f"{self.fair_combo.currentData()} against "
                        f"{X_AXES[self.x_combo.currentData()].lower()}"}
        comp = self.comp
        if comp is not None and comp.bootstrap is not None:
            out["Bootstrap"] = f"{comp.bootstrap['resamples']:,} resamples, seed {comp.seed}"
        else:
            out["Bootstrap"] = "off"
        for s in self.state.scenarios:
            origin = s.origin.get("engine", "")
            seed = s.origin.get("seed")
            out[f"Scenario {s.name}"] = (self._describe(s) + (f" (from {origin})" if origin else "")
                                         + (f", seed {seed}" if seed is not None else ""))
        if self.excluded:
            out["Not compared"] = "; ".join(f"{k}: {v}" for k, v in self.excluded.items())
        return out

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
