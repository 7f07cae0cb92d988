"""The Data page: open a file, map its columns to roles, read the validation report,
and look at (and merge) the groups.

A thin view over :class:`~fairdesk.gui.state.AppState`: edits change a *working copy* of
the column mapping; "Apply mapping" copies it into the state and asks the main window to
validate again (in the worker). Validation, group summaries and merge suggestions all come
from the core (:mod:`fairdesk.validation`, :mod:`fairdesk.dataset`); this page only formats.
"""

from __future__ import annotations

import copy

import pandas as pd
from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFormLayout, QGridLayout, QGroupBox,
                               QHBoxLayout, QHeaderView, QInputDialog, QLabel, QMessageBox,
                               QSplitter, QStackedWidget, QTableView, QTableWidget,
                               QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget)

from ...merges import merge_components, merge_names, merges_text
from ...present.data_tables import (cell_text, column_type, group_table, is_blank, plain,
                                    same_value, sample_values, source_parts)
from ...schema import ROLE_HELP, ROLE_TITLES, ColumnMapping, infer_positive_label
from ...validation import suggest_merges
from ..checks_panel import ChecksPanel
from ..controls import button, combo, radios, spin, wrapped
from ..period_options import PeriodOptions
from ..palette import OKABE_ITO
from ..preview_model import PREVIEW_ROWS, PreviewModel
from ..table_model import ResultTable
from ..welcome import WelcomePanel
from .base import Page

SAMPLE_ROWS = 200  # rows looked at for the sample values and the type of each column
MAX_LABEL_VALUES = 20
MERGE_JOIN = " + "



# ----------------------------------------------------------------------------- the page

class DataPage(Page):
    key = "data"
    title = "Data"
    needs_data = False

    COL_NAME, COL_ROLE, COL_SAMPLE, COL_TYPE = range(4)

    def __init__(self, state, worker, parent=None):
        super().__init__(state, worker, parent)
        self.setToolTip("Open a data file, say which column is which, and check the data")
        self.working = ColumnMapping()  # the mapping being edited (not yet applied)
        self._label_values: list = []
        self._combos: dict[str, QComboBox] = {}
        self._building = False
        self._build()
        state.tableChanged.connect(self._table_changed)
        state.dataChanged.connect(self._data_changed)
        state.problemsChanged.connect(lambda: self.show_problems(self.state.problems))
        self._table_changed()

    # --- construction -------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 8, 8, 8)

        top = QHBoxLayout()
        self.open_button = button("Open…", "Open a CSV, Excel (.xlsx) or OpenDocument (.ods) "
                                  "file with one row per person (Ctrl+O). You can also drop a "
                                  "file on the window.", self.state.openRequested.emit)
        self.file_label = QLabel()
        self.file_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.file_label.setToolTip("The file being analysed and how it was read")
        top.addWidget(self.open_button)
        top.addWidget(self.file_label, 1)
        outer.addLayout(top)

        self.body = QStackedWidget()
        outer.addWidget(self.body, 1)
        self.empty_label = WelcomePanel(lambda: self.state.recent_files())
        self.empty_label.openRequested.connect(self.state.openRequested.emit)
        self.empty_label.pathRequested.connect(self.state.openPathRequested.emit)
        self.body.addWidget(self.empty_label)

        split = QSplitter(Qt.Horizontal)
        split.setChildrenCollapsible(False)
        split.addWidget(self._build_left())
        split.addWidget(self._build_right())
        split.setStretchFactor(0, 5)
        split.setStretchFactor(1, 5)
        split.setSizes([540, 520])
        self.main_split = split
        self.body.addWidget(split)

    def _build_left(self) -> QWidget:
        left = QWidget()
        lay = QVBoxLayout(left)
        lay.setContentsMargins(0, 0, 0, 0)

        box = QGroupBox("Column roles")
        box.setToolTip("What each column of the file holds. FairDesk proposed these from the "
                       "column names and values; check them.")
        bl = QVBoxLayout(box)
        self.mapping_table = QTableWidget(0, 4)
        self.mapping_table.setHorizontalHeaderLabels(["Column", "Role", "Sample values", "Type"])
        self.mapping_table.verticalHeader().setVisible(False)
        self.mapping_table.setSelectionMode(QAbstractItemView.NoSelection)
        self.mapping_table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.mapping_table.setWordWrap(False)
        hh = self.mapping_table.horizontalHeader()
        hh.setSectionResizeMode(self.COL_NAME, QHeaderView.Interactive)
        hh.setSectionResizeMode(self.COL_ROLE, QHeaderView.ResizeToContents)
        hh.setSectionResizeMode(self.COL_SAMPLE, QHeaderView.Stretch)
        hh.setSectionResizeMode(self.COL_TYPE, QHeaderView.ResizeToContents)
        for col, tip in ((self.COL_NAME, "The column's name in the file"),
                         (self.COL_ROLE, "What the column holds; choose from the list"),
                         (self.COL_SAMPLE, "A few values from the first rows"),
                         (self.COL_TYPE, "The kind of values, guessed from the first rows")):
            self.mapping_table.horizontalHeaderItem(col).setToolTip(tip)
        self.mapping_table.setToolTip("One row per column of the file. Score and outcome are "
                                      "required; map at least one protected-group column.")
        bl.addWidget(self.mapping_table)
        order = QHBoxLayout()
        self.group_order_label = QLabel()
        self.group_order_label.setToolTip(
            "Several group columns are combined into one intersection, named in this order "
            "(race × sex gives 'African-American, Female'). Move a column to change the order.")
        self.group_up = button("◀ Earlier", "Move the selected group column earlier in the "
                               "intersection's name", lambda: self._move_group(-1))
        self.group_down = button("Later ▶", "Move the selected group column later in the "
                                 "intersection's name", lambda: self._move_group(+1))
        self.group_combo = combo([], "The group column to move", "Group column to move")
        order.addWidget(self.group_order_label, 1)
        order.addWidget(self.group_combo)
        order.addWidget(self.group_up)
        order.addWidget(self.group_down)
        bl.addLayout(order)
        lay.addWidget(box, 1)

        opts = QGroupBox("Outcome and rules")
        opts.setToolTip("How to read the outcome and the score, and what to do with bad rows")
        form = QFormLayout(opts)
        form.setFieldGrowthPolicy(QFormLayout.FieldsStayAtSizeHint)
        form.setLabelAlignment(Qt.AlignLeft | Qt.AlignVCenter)
        form.setRowWrapPolicy(QFormLayout.DontWrapRows)

        self.positive_combo = combo([], "Which value of the outcome column is the event the "
                                    "score predicts (for example 1 = re-offended, yes = "
                                    "defaulted). Error rates are computed for this value.",
                                    "Positive outcome")
        self.positive_combo.setMinimumWidth(200)
        self.positive_combo.setSizeAdjustPolicy(QComboBox.AdjustToContents)
        self.positive_combo.currentIndexChanged.connect(self._positive_changed)
        self.positive_note = QLabel()
        self.positive_note.setWordWrap(True)
        self.positive_note.setStyleSheet(f"color: {OKABE_ITO[5]};")
        form.addRow("Positive outcome is:", self.positive_combo)
        form.addRow(self.positive_note)

        self.orient_group, (self.higher_radio, self.lower_radio) = radios(self, [
            ("Higher score = more likely positive", "The usual case: a high score means the "
             "positive outcome is more likely (e.g. a risk score)."),
            ("Lower score = more likely positive", "A low score means the positive outcome is "
             "more likely (e.g. a credit score when the positive outcome is default).")])
        self.higher_radio.toggled.connect(self._orientation_changed)
        orient = QWidget()
        ol = QVBoxLayout(orient)
        ol.setContentsMargins(0, 0, 0, 0)
        ol.setSpacing(2)
        ol.addWidget(self.higher_radio)
        ol.addWidget(self.lower_radio)
        form.addRow("Score direction:", orient)

        self.invalid_group, (self.auto_radio, self.exclude_radio, self.refuse_radio) = radios(
            self, [("Leave out the odd one; stop if many",
                    "Recommended. A few rows with a missing, non-numeric or infinite score or "
                    "outcome are left out and listed under Checks. FairDesk stops and asks "
                    "instead when they are more than 1 % of the rows, when leaving them out "
                    "would remove a whole group, or when they do not look like a random share "
                    "(numbers it could not read, or an outcome rate clearly different from the "
                    "rest)."),
                   ("Leave them out", "Rows with a missing, non-numeric or infinite score or "
                    "outcome are left out of the analysis, however many, and listed under Checks "
                    "with their row numbers."),
                   ("Refuse the data", "Any row with a missing, non-numeric or infinite score "
                    "or outcome is an error: fix the file before analysing it.")])
        self.invalid_group.buttonToggled.connect(lambda *_: self._invalid_changed())
        invalid = QWidget()
        il = QGridLayout(invalid)  # two rows: three options side by side would widen the page
        il.setContentsMargins(0, 0, 0, 0)
        il.setVerticalSpacing(2)
        il.addWidget(self.auto_radio, 0, 0, 1, 2)
        il.addWidget(self.exclude_radio, 1, 0)
        il.addWidget(self.refuse_radio, 1, 1)
        il.setColumnStretch(2, 1)
        invalid_label = QLabel("Rows with a missing, non-numeric\nor infinite score or outcome:")
        invalid_label.setToolTip(self.auto_radio.toolTip())
        form.addRow(invalid_label, invalid)

        self.min_spin = spin(1, 1_000_000, 30, "Groups with fewer rows than this are flagged: "
                             "their rates are too unreliable to compare. Merge them with a "
                             "similar group.", "Minimum group size", suffix=" rows", min_width=120)
        self.min_spin.valueChanged.connect(self._min_changed)
        form.addRow("Minimum group size:", self.min_spin)
        self.period_options = PeriodOptions()  # shown when a period or version is mapped
        self.period_options.changed.connect(self._period_options_changed)
        form.addRow(self.period_options)
        lay.addWidget(opts)

        bar = QHBoxLayout()
        self.apply_button = button("Apply mapping", "Use these roles and rules, and check the "
                                   "data again (Ctrl+Return)", self.apply,
                                   QKeySequence("Ctrl+Return"))
        enter = QShortcut(QKeySequence("Ctrl+Enter"), self)
        enter.setContext(Qt.WidgetWithChildrenShortcut)
        enter.activated.connect(self.apply)
        self.revert_button = button("Revert", "Undo the changes made since the mapping was "
                                    "last applied", self.revert)
        self.dirty_label = QLabel("● Unapplied changes")
        self.dirty_label.setStyleSheet(f"color: {OKABE_ITO[5]}; font-weight: bold;")
        self.dirty_label.setToolTip("The roles or rules above differ from those the checks and "
                                    "results use. Press Apply mapping (Ctrl+Return) or Revert.")
        bar.addWidget(self.apply_button)
        bar.addWidget(self.revert_button)
        bar.addWidget(self.dirty_label)
        bar.addStretch(1)
        lay.addLayout(bar)
        return left

    def _build_right(self) -> QWidget:
        right = QSplitter(Qt.Vertical)
        right.setChildrenCollapsible(False)

        self.tabs = QTabWidget()
        # Preview
        self.preview_model = PreviewModel(parent=self)
        self.preview = QTableView()
        self.preview.setModel(self.preview_model)
        self.preview.setToolTip(f"The first {PREVIEW_ROWS} rows as read from the file. Row "
                                "numbers are those of the spreadsheet; empty cells are grey.")
        self.preview.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.preview.setWordWrap(False)
        # column widths from the first 40 rows: measuring all of them took 0.3 s on opening
        self.preview.horizontalHeader().setResizeContentsPrecision(40)
        self.preview.verticalHeader().setDefaultSectionSize(22)
        self.preview.horizontalHeader().setDefaultSectionSize(90)
        self.tabs.addTab(self.preview, "Preview")
        self.tabs.setTabToolTip(0, f"The first {PREVIEW_ROWS} rows of the file")

        # Groups
        groups = QWidget()
        gl = QVBoxLayout(groups)
        gl.setContentsMargins(4, 4, 4, 4)
        self.groups_note = QLabel()
        self.groups_note.setWordWrap(True)
        self.groups_note.setMinimumHeight(2 * self.fontMetrics().lineSpacing() + 4)
        self.groups_note.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        gl.addWidget(self.groups_note)
        self.group_table = ResultTable(
            "Groups", "Groups as the analysis sees them. Select two or more rows (Ctrl+click) "
            "to merge them.")
        self.group_table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.group_table.selectionModel().selectionChanged.connect(self._update_buttons)
        gl.addWidget(self.group_table, 1)
        self.merges_label = wrapped(tip="Groups merged for the analysis (saved with the project)")
        gl.addWidget(self.merges_label)
        gb = QHBoxLayout()
        self.merge_button = button(
            "Merge selected groups…", "Combine the selected groups into one group, for example "
            "several small groups. You choose the new group's name.", self._merge_selected_clicked)
        self.suggest_button = button(
            "Apply suggested merges…", "FairDesk proposes, for each group below the minimum size, "
            "the group with the most similar prevalence; you confirm before anything is merged.",
            self._suggest_clicked)
        self.clear_merges_button = button("Clear merges", "Undo every merge: analyse the groups "
                                          "as they are in the file", self.clear_merges)
        gb.addWidget(self.merge_button)
        gb.addWidget(self.suggest_button)
        gb.addWidget(self.clear_merges_button)
        gb.addStretch(1)
        gl.addLayout(gb)
        self.tabs.addTab(groups, "Groups")
        self.tabs.setTabToolTip(1, "The groups found with the applied mapping, their sizes and "
                                   "prevalence")
        right.addWidget(self.tabs)

        checks = ChecksPanel(self.state)
        checks.rowRequested.connect(self._show_row)
        self.checks_status, self.problem_list = checks.status, checks.list
        self.checks = checks
        right.addWidget(checks)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)
        right.setSizes([460, 230])
        return right

    # --- state → view -------------------------------------------------------------------------
    def _table_changed(self) -> None:
        table = self.state.table
        self.body.setCurrentIndex(0 if table is None else 1)
        self._describe_source()
        frame = table.frame if table is not None else None
        self.working = copy.deepcopy(self.state.mapping)
        self.preview_model.set_frame(frame, self._roles())
        self.preview.resizeColumnsToContents()
        for c in range(self.preview_model.columnCount()):
            self.preview.setColumnWidth(c, min(self.preview.columnWidth(c), 180))
        self._fill_mapping_table()
        self._show_rules()
        self._data_changed()
        self.show_problems(self.state.problems)

    def _describe_source(self) -> None:
        table = self.state.table
        if table is None:
            self.file_label.setText("No file open")
            self.file_label.setToolTip("The file being analysed and how it was read")
            return
        s = table.source
        parts = source_parts(s)
        parts[0] = f"<b>{parts[0]}</b>"
        self.file_label.setText(" · ".join(parts))
        self.file_label.setToolTip(f"{s.path}\nSHA-256 {s.sha256}\nRead with {s.engine}")

    def _roles(self) -> dict[str, str]:
        table = self.state.table
        if table is None:
            return {}
        return {str(c): self.working.role_of(c) for c in table.frame.columns}

    def _fill_mapping_table(self) -> None:
        table = self.state.table
        self._building = True
        self.mapping_table.setRowCount(0)
        self._combos = {}
        if table is None:
            self._building = False
            return
        frame = table.frame
        head = frame.head(SAMPLE_ROWS)
        self.mapping_table.setRowCount(len(frame.columns))
        for row, col in enumerate(frame.columns):
            name = QTableWidgetItem(str(col))
            name.setToolTip(f"Column '{col}'")
            self.mapping_table.setItem(row, self.COL_NAME, name)
            combo = QComboBox()
            for i, (key, title) in enumerate(ROLE_TITLES.items()):
                combo.addItem(title, key)
                combo.setItemData(i, ROLE_HELP[key], Qt.ToolTipRole)
            combo.setToolTip(f"What column '{col}' holds")
            combo.currentIndexChanged.connect(lambda _i, c=col, cb=combo: self._role_changed(c, cb))
            self._combos[col] = combo
            self.mapping_table.setCellWidget(row, self.COL_ROLE, combo)
            samples = sample_values(head[col])
            s_item = QTableWidgetItem(samples)
            s_item.setToolTip(samples or "No values in the first rows")
            if not samples:
                s_item.setText("(empty)")
                s_item.setForeground(QBrush(QColor("gray")))
            self.mapping_table.setItem(row, self.COL_SAMPLE, s_item)
            kind = column_type(head[col])
            t_item = QTableWidgetItem(kind)
            t_item.setToolTip("Guessed from the first rows of the column")
            self.mapping_table.setItem(row, self.COL_TYPE, t_item)
        self._building = False
        self._refresh_combos()
        self.mapping_table.resizeColumnToContents(self.COL_NAME)
        self.mapping_table.setColumnWidth(
            self.COL_NAME, min(max(self.mapping_table.columnWidth(self.COL_NAME) + 8, 90), 200))

    def _refresh_combos(self) -> None:
        self._building = True
        keys = list(ROLE_TITLES)
        for col, combo in self._combos.items():
            role = self.working.role_of(col)
            combo.setCurrentIndex(keys.index(role))
            row = list(self._combos).index(col)
            item = self.mapping_table.item(row, self.COL_NAME)
            if item is not None:
                f = item.font()
                f.setBold(role != "ignore")
                item.setFont(f)
        self._building = False
        self.preview_model.set_roles(self._roles())
        self._show_group_order()

    def _show_rules(self) -> None:
        """Show the working copy's label and rules (and the state's size and policy)."""
        self._building = True
        (self.higher_radio if self.working.higher_is_positive else self.lower_radio).setChecked(True)
        self._working_invalid = self.state.invalid_scores
        self._working_min = int(self.state.min_group_size)
        {"exclude": self.exclude_radio, "refuse": self.refuse_radio}.get(
            self._working_invalid, self.auto_radio).setChecked(True)
        self.min_spin.setValue(self._working_min)
        self._building = False
        self._fill_positive_combo()
        self._update_dirty()

    def _fill_positive_combo(self) -> None:
        self._building = True
        self.positive_combo.clear()
        self._label_values = []
        table = self.state.table
        label = self.working.label
        note = ""
        if table is None or not label or label not in table.frame.columns:
            self.positive_combo.setEnabled(False)
            note = "Map a column as the outcome (label) first."
        else:
            values = pd.unique(table.frame[label].dropna())
            values = [v for v in values if not is_blank(v)]
            if len(values) > MAX_LABEL_VALUES:
                self.positive_combo.setEnabled(False)
                note = (f"Column '{label}' has more than {MAX_LABEL_VALUES} different values: too "
                        "many for an outcome, which needs two. Choose the right outcome column.")
            else:
                try:
                    values = sorted(values)
                except TypeError:
                    values = sorted(values, key=cell_text)
                self._label_values = [plain(v) for v in values]
                self.positive_combo.setEnabled(True)
                self.positive_combo.addItem("(let FairDesk decide)")
                for v in self._label_values:
                    self.positive_combo.addItem(cell_text(v))
                current = 0
                for i, v in enumerate(self._label_values):
                    if same_value(v, self.working.positive_label):
                        current = i + 1
                self.positive_combo.setCurrentIndex(current)
                if len(values) != 2:
                    note = (f"Column '{label}' has {len(values)} different value"
                            f"{'s' if len(values) != 1 else ''}; an outcome needs exactly two.")
        self.positive_note.setText(note)
        self.positive_note.setVisible(bool(note))
        self._building = False

    def _data_changed(self) -> None:
        data = self.state.data
        self.group_table.set_table(None)
        if data is None:
            self.groups_note.setText("The groups appear here once the data passes the checks."
                                     if self.state.table is not None else "")
            self._show_merges()
            self._update_checks_status()
            self._update_buttons()
            self._sync_working_if_clean()
            return
        minimum = int(self.state.min_group_size)
        self.group_table.set_table(group_table(data, minimum))
        small = sum(item["n"] < minimum for item in data.group_summary())
        weighted = " (weighted)" if data.weighted else ""
        note = (f"{data.n_groups} group{'s' if data.n_groups != 1 else ''} in "
                f"{data.n:,} rows{weighted}; positive outcome = {cell_text(data.positive_label)}.")
        if small:
            note += (f" {small} group{'s are' if small != 1 else ' is'} smaller than {minimum} "
                     "rows (marked ⚠ small).")
        self.groups_note.setText(note)
        self._show_merges()
        self._update_checks_status()
        self._update_buttons()
        self._sync_working_if_clean()

    def _sync_working_if_clean(self) -> None:
        """Pick up mapping changes made elsewhere (a project opened) unless the analyst is
        in the middle of editing."""
        if self.state.table is None or self.is_dirty():
            return
        if self.working.to_dict() != self.state.mapping.to_dict():
            self.working = copy.deepcopy(self.state.mapping)
            self._refresh_combos()
            self._show_rules()

    def _show_merges(self) -> None:
        self.merges_label.setText(merges_text(self.state.mapping.group_merges))

    def show_problems(self, problems) -> None:
        self.checks.show_problems(problems)

    def _update_checks_status(self) -> None:
        self.checks.update_status()

    # --- editing (working copy) ---------------------------------------------------------------
    def _role_changed(self, column: str, combo: QComboBox) -> None:
        if self._building:
            return
        old_label = self.working.label
        self.working.set_role(column, combo.currentData())
        self._refresh_combos()
        if self.working.label != old_label:
            self.working.positive_label = None
            table = self.state.table
            if self.working.label and table is not None:
                values = pd.unique(table.frame[self.working.label].dropna())
                if len(values) <= MAX_LABEL_VALUES:
                    self.working.positive_label = plain(infer_positive_label(values))
            self._fill_positive_combo()
        self._update_dirty()

    def _show_group_order(self) -> None:
        groups = list(self.working.groups)
        self.group_order_label.setText(
            "Groups: " + (" × ".join(f"<b>{g}</b>" for g in groups) if groups else "none mapped"))
        current = self.group_combo.currentData()
        with QSignalBlocker(self.group_combo):
            self.group_combo.clear()
            for g in groups:
                self.group_combo.addItem(g, g)
            if current in groups:
                self.group_combo.setCurrentIndex(groups.index(current))
        several = len(groups) > 1
        for w in (self.group_combo, self.group_up, self.group_down):
            w.setEnabled(several)
        why = "" if several else " (only with two or more group columns)"
        self.group_up.setToolTip(self.group_up.toolTip().split(" (only")[0] + why)
        self.group_down.setToolTip(self.group_down.toolTip().split(" (only")[0] + why)

    def move_group_column(self, column: str, step: int) -> None:
        """Move a group column earlier (-1) or later (+1) in the intersection's name."""
        groups = list(self.working.groups)
        i = groups.index(column)
        j = min(max(i + step, 0), len(groups) - 1)
        groups.insert(j, groups.pop(i))
        self.working.groups = groups
        self._show_group_order()
        self.group_combo.setCurrentIndex(j)
        self._update_dirty()

    def _move_group(self, step: int) -> None:
        column = self.group_combo.currentData()
        if column is not None:
            self.move_group_column(column, step)

    def set_role(self, column: str, role: str) -> None:
        """Give a column a role in the working copy, as if chosen in its combo box."""
        combo = self._combos[column]
        combo.setCurrentIndex(list(ROLE_TITLES).index(role))

    def _positive_changed(self, index: int) -> None:
        if self._building or index < 0:
            return
        self.working.positive_label = None if index == 0 else self._label_values[index - 1]
        self._update_dirty()

    def set_positive_label(self, value) -> None:
        for i, v in enumerate(self._label_values):
            if same_value(v, value):
                self.positive_combo.setCurrentIndex(i + 1)
                return
        raise ValueError(f"{value!r} is not a value of the outcome column")

    def _orientation_changed(self) -> None:
        if self._building:
            return
        self.working.higher_is_positive = self.higher_radio.isChecked()
        self._update_dirty()

    def _invalid_changed(self) -> None:
        if self._building:
            return
        self._working_invalid = ("exclude" if self.exclude_radio.isChecked() else
                                 "refuse" if self.refuse_radio.isChecked() else "auto")
        self._update_dirty()

    def _min_changed(self, value: int) -> None:
        if self._building:
            return
        self._working_min = int(value)
        self._update_dirty()

    def is_dirty(self) -> bool:
        if self.state.table is None:
            return False
        return (self.working.to_dict() != self.state.mapping.to_dict()
                or getattr(self, "_working_invalid", self.state.invalid_scores) != self.state.invalid_scores
                or getattr(self, "_working_min", self.state.min_group_size) != self.state.min_group_size)

    def _period_options_changed(self) -> None:
        self.period_options.apply_to(self.working)
        self._update_dirty()

    def _update_dirty(self) -> None:
        self.period_options.show_for(self.working)
        dirty = self.is_dirty()
        self.dirty_label.setVisible(dirty)
        self.revert_button.setEnabled(dirty)
        self.apply_button.setEnabled(self.state.table is not None)

    def _update_buttons(self) -> None:
        has_data = self.state.data is not None
        selected = len(self._selected_groups())
        self.merge_button.setEnabled(has_data and selected >= 2)
        self.suggest_button.setEnabled(has_data)
        self.clear_merges_button.setEnabled(bool(self.state.mapping.group_merges))

    def apply(self) -> None:
        """Copy the working mapping and rules into the state and validate again."""
        if self.state.table is None:
            return
        self.state.mapping = copy.deepcopy(self.working)
        self.state.invalid_scores = self._working_invalid
        self.state.min_group_size = self._working_min
        self._update_dirty()
        self.state.validationRequested.emit()

    def revert(self) -> None:
        """Back to the mapping last applied."""
        self.working = copy.deepcopy(self.state.mapping)
        self._refresh_combos()
        self._show_rules()

    # --- groups -------------------------------------------------------------------------------
    def _selected_groups(self) -> list[str]:
        view = self.group_table
        rows = sorted({i.row() for i in view.selectionModel().selectedRows()})
        return [view.value_at(r, "group") for r in rows]

    def merge_groups(self, names: list[str], merged: str) -> None:
        """Merge the groups now called ``names`` into ``merged`` and validate again."""
        merged = merged.strip()
        if len(names) < 2 or not merged:
            return
        data = self.state.data
        new = merge_names(self.state.mapping.group_merges, names, merged,
                          data.source_group_names if data is not None else None)
        self._set_merges(new)

    def apply_merge_suggestions(self, suggestions) -> None:
        """Merge each small group with its suggested partner, as (small, partner, reason)."""
        order = self.state.data.group_names if self.state.data is not None else []
        comps = merge_components([(s, p) for s, p, _ in suggestions], order)
        new = dict(self.state.mapping.group_merges)
        originals = self.state.data.source_group_names if self.state.data is not None else None
        for comp in comps:
            new = merge_names(new, comp, MERGE_JOIN.join(comp), originals)
        self._set_merges(new)

    def clear_merges(self) -> None:
        self._set_merges({})

    def _set_merges(self, merges: dict) -> None:
        self.state.mapping.group_merges = dict(merges)
        self.working.group_merges = dict(merges)
        self._show_merges()
        self._update_buttons()
        self._update_dirty()
        self.state.validationRequested.emit()

    def _merge_selected_clicked(self) -> None:
        names = self._selected_groups()
        if len(names) < 2:
            return
        merged, ok = QInputDialog.getText(
            self, "Merge groups", "Name of the merged group:\n(" + ", ".join(names) + ")",
            text=MERGE_JOIN.join(names))
        if ok and merged.strip():
            self.merge_groups(names, merged)

    def _suggest_clicked(self) -> None:
        if self.state.data is None:
            return
        suggestions = suggest_merges(self.state.data, self.state.min_group_size)
        if not suggestions:
            QMessageBox.information(self, "Suggested merges",
                                    f"Every group has at least {self.state.min_group_size} rows: "
                                    "there is nothing to merge.")
            return
        lines = "".join(f"<li>'{s}' with '{p}' ({reason})</li>" for s, p, reason in suggestions)
        answer = QMessageBox.question(
            self, "Suggested merges",
            f"<p>These groups have fewer than {self.state.min_group_size} rows. FairDesk suggests "
            f"these merges, each with its reason (an intersection such as race × sex is merged "
            f"within its first attribute when it can be):</p><ul>{lines}</ul>"
            "<p>Merge them?</p>", QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        if answer == QMessageBox.Yes:
            self.apply_merge_suggestions(suggestions)

    # --- problems → preview -------------------------------------------------------------------
    def _show_row(self, spreadsheet_row: int, column: str) -> None:
        row = self.preview_model.row_of(spreadsheet_row)
        if row is None:
            return
        col = self.preview_model._columns.index(column) if column in self.preview_model._columns \
            else 0
        index = self.preview_model.index(row, col)
        self.tabs.setCurrentWidget(self.preview)
        self.preview.setCurrentIndex(index)
        self.preview.scrollTo(index, QAbstractItemView.PositionAtCenter)

    # --- for tests and scripting --------------------------------------------------------------
    def column_type_text(self, column: str) -> str:
        row = list(self._combos).index(column)
        return self.mapping_table.item(row, self.COL_TYPE).text()
