"""The Decision page's views: the table view (each difference from the baseline tinted,
section headings across the table, a measure named beside all its rows), the chart — a
fairness measure against accuracy (or against the share of decisions changed), one labelled
point per scenario, the
baseline a black star, ± 1 bootstrap SD as bars, drawn from
:func:`fairdesk.reports.decision_tables.chart_points` — and the list of scenarios (names
edited in place, their rules in the scores' decimals)."""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDoubleSpinBox, QGroupBox,
                               QHBoxLayout, QHeaderView, QLabel, QPlainTextEdit, QPushButton,
                               QSpinBox, QTableWidget, QTableWidgetItem, QToolButton, QVBoxLayout)

from ...metrics.fairness import DEFINITIONS, THRESHOLD_DEFINITIONS
from ...reports.decision_tables import X_AXES, chart_points, missing_points, rule_text
from ..palette import (app_palette, font_points, message_colour, message_style, muted_color,
                       muted_css)
from ..plots import PlotPanel, label_font, title_font
from ..table_model import ResultTable, TableModel

# Okabe–Ito: blue = better than the baseline, vermillion = worse, yellow = a rate moved
BETTER, WORSE, MOVED = QColor("#0072B2"), QColor("#D55E00"), QColor("#F0E442")
TINTS = {"better": BETTER, "worse": WORSE, "moved": MOVED}
SECTION_BG = QColor("#E6ECF2")
MIN_ALPHA, MAX_ALPHA = 40, 150
MAX_ALPHA_MOVED = 100  # a moved rate is neither better nor worse: a lighter tint
LEGEND = (("better", BETTER, "Better than the baseline: a fairness measure higher, fewer "
           "changed decisions, a lower cost"), ("worse", WORSE, "Worse than the baseline"),
          ("rate moved", MOVED, "A rate differs from the baseline's: neither better nor worse "
           "in itself"))


def tint_legend() -> list[QLabel]:
    """The tints' meanings, one coloured label each (beside the table, never over it)."""
    out = []
    for text, color, tip in LEGEND:
        c = QColor(color)
        label = QLabel(text)
        label.setToolTip(tip + ". The stronger the tint, the larger the difference.")
        label.setStyleSheet(f"background: {over_white(c, MAX_ALPHA / 255).name()}; "
                            "border:1px solid #bbb; padding:1px 6px; color:#000")
        out.append(label)
    return out


def tint_color(word: str, size: float) -> QColor:
    """The background of a difference from the baseline (see decision_tables.tint)."""
    color = QColor(TINTS[word])
    top = MAX_ALPHA_MOVED if word == "moved" else MAX_ALPHA
    return over_white(color, (MIN_ALPHA + (top - MIN_ALPHA) * size) / 255)


def over_white(color: QColor, alpha: float) -> QColor:
    """``color`` at ``alpha`` laid on white, opaque: a light shade whose dark text stays
    readable on a dark theme too (a translucent shade would take the theme's background)."""
    return QColor.fromRgbF(*(alpha * v + (1 - alpha) for v in color.getRgbF()[:3]))


class _TintedModel(TableModel):
    """The table model, with each difference from the baseline tinted and section headings
    shaded (from the rows' ``tints`` and ``heading``)."""

    def data(self, index, role=Qt.DisplayRole):
        if role == Qt.BackgroundRole and index.isValid() and self.table is not None:
            row = self._rows[index.row()]
            if row.get("heading"):
                return QBrush(SECTION_BG)
            shade = row.get("tints", {}).get(self.table.columns[index.column()].key)
            if shade is not None:
                return QBrush(tint_color(*shade))
        if role == Qt.ForegroundRole and index.isValid() and self.table is not None:
            row = self._rows[index.row()]  # dark text on a light shade, whatever the theme
            if row.get("heading") or row.get("tints", {}).get(
                    self.table.columns[index.column()].key) is not None:
                return QBrush(QColor("black"))
        return super().data(index, role)


class DecisionView(ResultTable):
    """The decision table: not sortable (rows are grouped by measure), headings across the
    table, a measure's name beside all its rows, scenario names in full in wrapping headers."""

    def __init__(self, title: str, tip: str):
        super().__init__(title, tip, sortable=False)
        self.source = _TintedModel(self)
        self.proxy.setSourceModel(self.source)
        self.verticalHeader().setDefaultSectionSize(23)

    def set_table(self, table) -> None:
        self.clearSpans()
        super().set_table(table)
        if table is None:
            return
        rows, n = self.source._rows, len(table.columns)
        start = None
        for r, row in enumerate(rows + [{"heading": True}]):
            label = row.get("measure")
            if row.get("heading") or (label is not None and label.value):
                if start is not None and r - start > 1:
                    self.setSpan(start, 0, r - start, 1)
                start = None if row.get("heading") else r
            if r < len(rows) and row.get("heading"):
                self.setSpan(r, 0, 1, n)
            elif r < len(rows) and row.get("group") is not None and not row["group"].value:
                self.setSpan(r, 0, 1, 2)  # a measure without groups: its name may be long
        self.setColumnWidth(0, 120)  # a rate's name; longer ones span the group column


POINT = "#0072B2"  # Okabe–Ito blue
CHOSEN = "#D55E00"  # the scenario selected in the list


class DecisionChart(PlotPanel):
    """The chart tab: the measure and x axis chosen above the plot."""

    choiceChanged = Signal()

    def __init__(self, on_error=None):
        super().__init__("ERB against accuracy", X_AXES["accuracy"] + " (%)",
                         "ERB (1 = balanced)", name="decision_options", on_error=on_error)
        self.items: list = []
        self.fair_combo = QComboBox()
        self.fair_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.fair_combo.setMinimumContentsLength(22)
        for k in THRESHOLD_DEFINITIONS:
            self.fair_combo.addItem(f"{k} — {DEFINITIONS[k].name}", k)
            self.fair_combo.setItemData(self.fair_combo.count() - 1, DEFINITIONS[k].meaning,
                                        Qt.ToolTipRole)
        self.fair_combo.setToolTip("The fairness measure on the vertical axis (1 = balanced)")
        self.fair_combo.setAccessibleName("Fairness measure on the vertical axis")
        self.x_combo = QComboBox()
        self.x_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.x_combo.setMinimumContentsLength(20)
        for k, label in X_AXES.items():
            self.x_combo.addItem(label, k)
        self.x_combo.setToolTip("The horizontal axis: overall accuracy, or the share of "
                                "decisions that differ from the baseline")
        self.x_combo.setAccessibleName("Horizontal axis")
        for combo in (self.fair_combo, self.x_combo):
            combo.currentIndexChanged.connect(lambda _i: self.choiceChanged.emit())
        self.add_control(QLabel("Fairness"))
        self.add_control(self.fair_combo)
        self.add_control(QLabel("against"))
        self.add_control(self.x_combo)
        self.widget.setToolTip("One point per scenario; the baseline is the black star. Up = "
                               "fairer, right = more accurate (or more decisions changed). "
                               "Bars: ± 1 bootstrap SD.")
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()

    @property
    def key(self) -> str:
        return self.fair_combo.currentData() or "ERB"

    @property
    def x_key(self) -> str:
        return self.x_combo.currentData() or "accuracy"

    def points(self, comp) -> list[dict]:
        return chart_points(comp, self.key, self.x_key)

    def draw(self, comp, selected: str | None = None) -> None:
        """One point per scenario of ``comp``; ``selected`` (a scenario's name) stands out."""
        plot = self.plot
        for item in self.items:
            plot.removeItem(item)
        self.items = []
        key, x_key = self.key, self.x_key
        plot.setTitle(f"{key} against {'accuracy' if x_key == 'accuracy' else 'changed decisions'}",
                      color="k", size=title_font())
        plot.setLabel("bottom", X_AXES[x_key] + " (%)", color="k", **{"font-size": label_font()})
        plot.setLabel("left", f"{key} (1 = balanced)", color="k", **{"font-size": label_font()})
        points = self.points(comp)
        missing = missing_points(points)
        good = [p for p in points if p["name"] not in missing]
        if good:
            self._draw_points(good, selected)
        note = []
        if missing:
            note.append(f"Not drawn ({key} or the x value is undefined): " + ", ".join(missing)
                        + ".")
        if good and comp is not None and comp.bootstrap is not None:
            note.append("Bars: ± 1 bootstrap SD.")
        self.set_note(" ".join(note))

    def _add(self, item, **kw) -> None:
        self.plot.addItem(item, **kw)
        self.items.append(item)

    def _draw_points(self, good: list[dict], selected: str | None) -> None:
        xs = np.array([p["x"] for p in good])
        ys = np.array([p["y"] for p in good])
        sx = np.nan_to_num(np.array([p["sx"] for p in good]))
        sy = np.nan_to_num(np.array([p["sy"] for p in good]))
        if np.any(sx > 0) or np.any(sy > 0):
            self._add(pg.ErrorBarItem(x=xs, y=ys, left=sx, right=sx, top=sy, bottom=sy,
                                      beam=0.0, pen=pg.mkPen("#8a8a8a", width=1.2)))
        spots = []
        for p in good:
            if p["baseline"]:
                spots.append({"pos": (p["x"], p["y"]), "symbol": "star", "size": 20,
                              "brush": pg.mkBrush("#000000"), "pen": pg.mkPen("w", width=1)})
            else:
                chosen = p["name"] == selected
                spots.append({"pos": (p["x"], p["y"]), "symbol": "o", "size": 15 if chosen else 12,
                              "brush": pg.mkBrush(POINT),
                              "pen": pg.mkPen(CHOSEN if chosen else "w",
                                              width=2.5 if chosen else 1.2)})
        scatter = pg.ScatterPlotItem(spots=spots)
        scatter.setZValue(10)
        self._add(scatter)
        for p in good:  # each point named beside it (no legend to cover the data)
            label = pg.TextItem(p["name"], color="#000000" if p["baseline"] else "#1a1a1a",
                                anchor=(0, 1.0))
            f = QFont()
            f.setPointSizeF(font_points())
            f.setBold(p["baseline"] or p["name"] == selected)
            label.setFont(f)
            label.setPos(p["x"], p["y"])
            label.setZValue(11)
            self._add(label)
        # ranges with room for the labels (to the right and above each point)
        x_lo, x_hi = float(np.min(xs - sx)), float(np.max(xs + sx))
        y_lo, y_hi = float(np.min(ys - sy)), float(np.max(ys + sy))
        xw, yw = max(x_hi - x_lo, 2.0), max(y_hi - y_lo, 0.08)
        self.plot.setXRange(x_lo - 0.08 * xw, x_hi + 0.30 * xw, padding=0)
        y_bottom, y_top = max(0.0, y_lo - 0.12 * yw), y_hi + 0.22 * yw
        self.plot.setYRange(y_bottom, y_top, padding=0)
        if y_bottom <= 0.8 <= y_top:
            line = pg.InfiniteLine(pos=0.8, angle=0,
                                   pen=pg.mkPen("#7a7a7a", width=1, style=Qt.DashLine),
                                   label="0.8 (four-fifths rule of thumb)",
                                   labelOpts={"position": 0.02, "color": "#555555",
                                              "anchors": [(0, 1), (0, 1)]})
            self._add(line, ignoreBounds=True)


BUTTONS = (("▲ Up", "Move the selected scenario one column to the left"),
           ("▼ Down", "Move the selected scenario one column to the right"),
           ("Rename", "Rename the selected scenario (F2)"),
           ("Delete", "Remove the selected scenario (Delete). The baseline cannot be removed."),
           ("Proposed", "Mark the selected scenario as the option proposed to the meeting: the "
                        "workbook's Summary names it and says what it changes for each group"))


class NotesBox(QGroupBox):
    """The analyst's notes on the selected scenario: ``label`` says which, ``edit`` holds them."""

    def __init__(self, parent=None):
        super().__init__("Notes", parent)
        nl = QVBoxLayout(self)
        nl.setContentsMargins(4, 4, 4, 4)
        self.label = QLabel()
        self.label.setStyleSheet(muted_css())
        self.edit = QPlainTextEdit()
        self.edit.setPlaceholderText("Your notes on this option: why it is on the table, what "
                                     "the meeting should know. They go to the Summary sheet.")
        self.edit.setToolTip("Notes on the selected scenario, saved in the project and printed "
                             "on the workbook's Summary sheet")
        self.edit.setAccessibleName("Notes on the selected scenario")
        nl.addWidget(self.label)
        nl.addWidget(self.edit, 1)


class ScenarioList(QGroupBox):
    """The scenarios, baseline first: names edited in place (``renamed(row, text)`` once the
    editor has closed), rules in words, the tools under them (``up_button`` …), and a hint
    while there is only the baseline. ``deleteRequested`` on the Delete key."""

    renamed = Signal(int, str)
    deleteRequested = Signal()

    def __init__(self, parent=None):
        super().__init__("Scenarios", parent)
        sl = QVBoxLayout(self)
        sl.setContentsMargins(4, 4, 4, 4)
        self.list = t = QTableWidget(0, 2)  # an editor (names are edited in place)
        t.setHorizontalHeaderLabels(["Scenario", "Rule"])
        t.horizontalHeaderItem(0).setToolTip("The scenario's name: double-click (or Rename) to "
                                             "change it")
        t.horizontalHeaderItem(1).setToolTip("The decision rule; hover for where it came from")
        t.setAccessibleName("Scenarios")
        t.verticalHeader().hide()
        t.verticalHeader().setDefaultSectionSize(26)
        t.setSelectionBehavior(QAbstractItemView.SelectRows)
        t.setSelectionMode(QAbstractItemView.SingleSelection)
        t.setEditTriggers(QAbstractItemView.DoubleClicked | QAbstractItemView.EditKeyPressed)
        t.setWordWrap(False)
        t.setTextElideMode(Qt.ElideMiddle)
        t.horizontalHeader().setSectionResizeMode(0, QHeaderView.Interactive)
        t.horizontalHeader().setStretchLastSection(True)
        t.setColumnWidth(0, 128)
        t.itemChanged.connect(self._item_changed)
        QShortcut(QKeySequence.Delete, t, activated=self.deleteRequested.emit,
                  context=Qt.WidgetShortcut)
        sl.addWidget(t, 1)
        tools = QHBoxLayout()
        tools.setSpacing(4)
        self.buttons = []
        for text, tip in BUTTONS:
            b = QToolButton()
            b.setText(text)
            b.setToolButtonStyle(Qt.ToolButtonTextOnly)
            b.setMinimumHeight(26)
            b.setToolTip(tip)
            tools.addWidget(b)
            self.buttons.append(b)
        self.buttons[-1].setCheckable(True)
        self.buttons[2].clicked.connect(self.edit_name)
        tools.addStretch(1)
        sl.addLayout(tools)
        self.hint = QLabel("Only the baseline so far. Add options with <b>Add as scenario…</b> "
                           "on the Tiers &amp; thresholds page (rules you define), the Audit "
                           "page (the thresholds in force) or an engine's page.")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet(message_style("warning", padding=5))
        sl.addWidget(self.hint)

    def fill(self, scenarios, excluded: dict, score_decimals=None) -> None:
        """One row per scenario (the first the baseline); a scenario in ``excluded`` says why
        it is not compared. The selected row stays selected."""
        sel = self.selected_row()
        t = self.list
        with QSignalBlocker(t):
            t.setRowCount(len(scenarios))
            for r, s in enumerate(scenarios):
                for c in (0, 1):
                    if t.item(r, c) is None:
                        t.setItem(r, c, QTableWidgetItem())
                name, rule = t.item(r, 0), t.item(r, 1)
                name.setText(s.name)
                font = name.font()
                font.setBold(r == 0)
                font.setItalic(s.name in excluded and r > 0)
                name.setFont(font)
                editable = Qt.ItemIsEditable if r else Qt.NoItemFlags
                name.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable | editable)
                name.setToolTip("The baseline: the group-agnostic thresholds in force. It is "
                                "always the first column and cannot be renamed or removed."
                                if r == 0 else f"{s.name} — double-click to rename")
                rule.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable)
                problem = excluded.get(s.name) if r > 0 else None
                # the proposed option says so where the analyst looks (not in its name)
                rule.setText("⚠ not compared: " + problem if problem else
                             ("Proposed · " if s.origin.get("proposed") else "")
                             + rule_text(s, score_decimals))
                text = app_palette().color(QPalette.Text)
                rule.setForeground(QBrush(QColor(message_colour("error")) if problem else text))
                name.setForeground(QBrush(muted_color(app_palette().color(QPalette.Base))
                                          if problem else text))
                origin = ", ".join(f"{k}: {v}" for k, v in s.origin.items() if k not in
                                   ("rules", "proposed") and not isinstance(v, (dict, list)))
                tip = f"<b>{html.escape(s.name)}</b><br>{html.escape(s.describe())}"
                if origin:
                    tip += f"<br>From: {html.escape(origin)}"
                if problem:
                    tip += (f"<br><span style='color:{message_colour('error')}'>Not compared: "
                            f"{html.escape(problem)}</span>")
                rule.setToolTip(tip)
        self.hint.setVisible(len(scenarios) == 1)
        if t.rowCount():
            target = min(max(sel, 0), t.rowCount() - 1)
            if t.currentRow() != target or not t.selectedItems():
                t.selectRow(target)

    def selected_row(self) -> int:
        rows = self.list.selectionModel().selectedRows() if self.list.selectionModel() else []
        return rows[0].row() if rows else max(self.list.currentRow(), 0)

    def update_buttons(self, n_scenarios: int, proposed: bool) -> None:
        r = self.selected_row()
        up, down, *rest = self.buttons
        up.setEnabled(r > 1)
        down.setEnabled(1 <= r < n_scenarios)
        for b in rest:
            b.setEnabled(r >= 1)
        rest[-1].setChecked(bool(r >= 1 and proposed))

    def edit_name(self) -> None:
        r = self.selected_row()
        if r >= 1:
            self.list.editItem(self.list.item(r, 0))

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() == 0:  # after the editor has closed: renaming rebuilds the list
            row, text = item.row(), item.text()
            QTimer.singleShot(0, lambda: self.renamed.emit(row, text))


class SettingsBox(QGroupBox):
    """The comparison's settings: the cost ratio, the bootstrap (B and seed), Compare (F5)
    and a status line."""

    def __init__(self, seed: int, parent=None):
        super().__init__("Comparison", parent)
        bl = QHBoxLayout(self)
        bl.setContentsMargins(6, 2, 6, 4)
        bl.setSpacing(6)
        self.cost_fn = self._cost_spin("Cost of a false negative (someone with the outcome "
                                       "who is not flagged), relative to a false positive")
        self.cost_fp = self._cost_spin("Cost of a false positive (someone flagged who does "
                                       "not have the outcome), relative to a false negative")
        self.boot_b = QSpinBox()
        self.boot_b.setRange(0, 100_000)
        self.boot_b.setSingleStep(100)
        self.boot_b.setSpecialValueText("off")
        self.boot_b.setGroupSeparatorShown(True)
        self.boot_b.setToolTip("Bootstrap resamples B (0 = off). With B > 0, Compare "
                               "resamples the rows B times and shows the SD of every cell.")
        self.boot_b.setAccessibleName("Bootstrap resamples")
        self.boot_seed = QSpinBox()
        self.boot_seed.setRange(0, 2_147_483_647)
        self.boot_seed.setValue(seed)
        self.boot_seed.setToolTip("Random seed of the bootstrap: the same seed, data and "
                                  "scenarios give the same results. Saved in the project and "
                                  "the workbook.")
        self.boot_seed.setAccessibleName("Bootstrap seed")
        self.compare_button = QPushButton("Compare")
        self.compare_button.setShortcut(QKeySequence("F5"))
        self.compare_button.setToolTip("Compare every scenario now, with the bootstrap when B > "
                                       "0 (F5). Without a bootstrap the table updates by itself.")
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setStyleSheet(muted_css())
        for w in (QLabel("Cost FN"), self.cost_fn, QLabel(": FP"), self.cost_fp, 12,
                  QLabel("Bootstrap"), self.boot_b, QLabel("Seed"), self.boot_seed,
                  self.compare_button):
            bl.addSpacing(w) if isinstance(w, int) else bl.addWidget(w)
        bl.addWidget(self.status, 1)

    @staticmethod
    def _cost_spin(tip: str) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(0.0, 1_000_000.0)
        spin.setDecimals(2)
        spin.setValue(1.0)
        spin.setToolTip(tip + ". The expected cost row uses FN cost × FN + FP cost × FP per "
                              "person.")
        return spin
