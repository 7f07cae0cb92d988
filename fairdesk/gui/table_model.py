"""The one way the window shows a result table: a :class:`TableModel` over a
:class:`fairdesk.present.table.Table` and a :class:`ResultTable` view.

The cells read exactly as in the workbook and the command line (the text comes from
:mod:`fairdesk.present.formats`); an undefined cell reads "undefined", greyed, with its reason
as tooltip; a long group name is elided in the middle with the full name as tooltip; sorting
uses the full-precision value; Ctrl+C copies the selection as tab-separated text at full
precision (rates as fractions), ready for a spreadsheet.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import (QAction, QBrush, QColor, QFont, QFontMetrics, QGuiApplication,
                           QKeySequence, QPalette)
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QMenu, QStyle,
                               QStyleOptionHeader, QTableView)

from ..present.formats import UNDEFINED_TEXT, is_missing
from ..present.table import Cell, Column, Table, plain_value
from .palette import app_palette, group_color, muted_color, swatch_icon

SORT_ROLE = Qt.UserRole + 1  # full-precision value for sorting
VALUE_ROLE = Qt.UserRole + 2  # the plain value (tests, copy)
HIGHLIGHT = QColor("#fff3c4")
MAX_COLUMN_PX = 280


def _reason(value, column: Column) -> str:
    v = plain_value(value)
    reason = getattr(v, "reason", None) or column.undefined_reason
    return reason or "Not computable for this row."


def copy_text(value) -> str:
    """A cell's value for the clipboard: numbers at full precision, undefined as text."""
    v = plain_value(value)
    if is_missing(v):
        return UNDEFINED_TEXT if v is not None else ""
    if isinstance(v, float):
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, tuple):  # an interval stays one cell: "0.412 to 0.479"
        return " to ".join(copy_text(x) for x in v)
    return str(v).replace("\t", " ").replace("\n", " ")


class TableModel(QAbstractTableModel):
    """Read-only model of one :class:`Table` (set again with :meth:`set_table`)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.table: Table | None = None
        self._rows: list[dict] = []
        self._texts: dict[tuple[int, int], str] = {}
        self._icons: dict[int, object] = {}

    # ------------------------------------------------------------------ content
    def set_table(self, table: Table | None) -> None:
        self.beginResetModel()
        self.table = table
        self._rows = table.row_dicts() if table is not None else []
        self._texts: dict[tuple[int, int], str] = {}  # formatted once, shown many times
        self.endResetModel()

    def column(self, c: int) -> Column:
        return self.table.columns[c]

    def raw(self, r: int, c: int):
        """The stored value (a :class:`Cell` or a plain value)."""
        return self._rows[r].get(self.table.columns[c].key)

    def value(self, r: int, c: int):
        return plain_value(self.raw(r, c))

    def text(self, r: int, c: int) -> str:
        cached = self._texts.get((r, c))
        if cached is not None:
            return cached
        col = self.table.columns[c]
        v = self.raw(r, c)
        text = "" if v is None and col.kind == "text" else col.text(v)
        self._texts[(r, c)] = text
        return text

    def column_index(self, key: str) -> int:
        return [c.key for c in self.table.columns].index(key)

    # ------------------------------------------------------------------ Qt model
    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt's name)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() or self.table is None else len(self.table.columns)

    def data(self, index: QModelIndex, role=Qt.DisplayRole):
        if not index.isValid() or self.table is None:
            return None
        r, c = index.row(), index.column()
        col = self.table.columns[c]
        raw = self.raw(r, c)
        cell = raw if isinstance(raw, Cell) else None
        v = plain_value(raw)
        missing = is_missing(v) and not (v is None and col.kind == "text")
        if role == Qt.DisplayRole:
            return self.text(r, c)
        if role == Qt.ToolTipRole:
            tip = cell.tip if cell is not None and cell.tip else ""
            if missing:
                why = f"Undefined: {_reason(raw, col)}"
                return f"{tip}\n{why}" if tip else why
            if not tip and col.kind == "text":
                return self.text(r, c) or None  # the full name when elided
            return tip or None
        if role == SORT_ROLE:
            if missing:
                return math.inf  # undefined values sort last
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return float(v)
            if isinstance(v, tuple) and v and isinstance(v[0], (int, float)):
                return float(v[0])
            return str(v).lower() if v is not None else ""
        if role == VALUE_ROLE:
            return v
        if role == Qt.TextAlignmentRole:
            if col.numeric:
                return int(Qt.AlignRight | Qt.AlignVCenter)
            return int(Qt.AlignLeft | Qt.AlignVCenter)
        if role == Qt.FontRole:
            if missing or (cell is not None and (cell.bold or cell.muted)):
                f = QFont()
                f.setItalic(missing or bool(cell and cell.muted))
                f.setBold(bool(cell and cell.bold))
                return f
            return None
        if role == Qt.ForegroundRole:
            muted = missing or (cell is not None and cell.muted)
            if cell is not None and (cell.tint or cell.highlight):  # a light shade: dark text
                return QBrush(QColor("#505050" if muted else "black"))
            if muted:  # grey that stays readable on the theme's table background
                return QBrush(muted_color(app_palette().color(QPalette.Base)))
            return None
        if role == Qt.BackgroundRole:
            if cell is not None and cell.tint:
                return QBrush(QColor(cell.tint))
            if cell is not None and cell.highlight:
                return QBrush(HIGHLIGHT)
            return None
        if role == Qt.DecorationRole:
            g = cell.swatch if cell is not None else None
            if g is None and self.table.swatch_key and c == self._label_column():
                g = self._rows[r].get(self.table.swatch_key)
            if g is not None and not is_missing(g):
                icon = self._icons.get(int(g))
                if icon is None:  # painted once per group, not at every repaint
                    icon = self._icons[int(g)] = swatch_icon(group_color(int(g)))
                return icon
            return None
        if role == Qt.AccessibleTextRole:
            return f"{col.header.replace(chr(10), ' ')}: {self.text(r, c)}"
        return None

    def has_swatch(self, c: int) -> bool:
        """Whether any cell of column ``c`` shows a group's colour square."""
        if self.table.swatch_key and c == self._label_column():
            return True
        return any(isinstance(raw, Cell) and raw.swatch is not None
                   for raw in (self.raw(r, c) for r in range(len(self._rows))))

    def _label_column(self) -> int:
        if self.table.label_key:
            return self.column_index(self.table.label_key)
        return 0

    def headerData(self, section: int, orientation, role=Qt.DisplayRole):  # noqa: N802
        if self.table is None:
            return None
        if orientation == Qt.Horizontal:
            if section >= len(self.table.columns):
                return None
            col = self.table.columns[section]
            if role == Qt.DisplayRole:  # whole: the header view elides it when it paints
                return col.header
            if role == Qt.ToolTipRole:
                return col.note or col.header.replace("\n", " ")
            if role == Qt.TextAlignmentRole:
                return int(Qt.AlignCenter)
            if role == Qt.DecorationRole and col.swatch is not None:
                return swatch_icon(group_color(col.swatch))
            return None
        if role == Qt.DisplayRole:
            return str(section + 1)
        return None

    # ------------------------------------------------------------------ export
    def tsv(self, rows: list[int] | None = None, columns: list[int] | None = None,
            header: bool = True) -> str:
        """Tab-separated text of the given rows and columns (all by default), full precision."""
        rows = list(range(self.rowCount())) if rows is None else rows
        columns = list(range(self.columnCount())) if columns is None else columns
        lines = []
        if header:
            lines.append("\t".join(self.table.columns[c].header.replace("\n", " ")
                                   for c in columns))
        for r in rows:
            lines.append("\t".join(copy_text(self.raw(r, c)) for c in columns))
        return "\n".join(lines) + "\n"


class _SortProxy(QSortFilterProxyModel):
    def lessThan(self, left, right) -> bool:  # noqa: N802
        a = left.data(SORT_ROLE)
        b = right.data(SORT_ROLE)
        if type(a) is not type(b):
            return isinstance(a, float)  # numbers before words
        return a < b


class ElidingHeader(QHeaderView):
    """Column headers elided in the middle, line by line, when a column is narrower than its
    words ("Selec… rate", never cut at both ends); the model keeps the whole text (size hints,
    copies and screen readers read it) and the tooltip shows it."""

    def paintSection(self, painter, rect, logical: int) -> None:  # noqa: N802 (Qt's name)
        if not rect.isValid():
            return
        opt = QStyleOptionHeader()
        self.initStyleOptionForIndex(opt, logical)
        opt.rect = rect
        if self.isEnabled():  # as Qt's own paintSection: else the swatch icon is drawn greyed
            opt.state |= QStyle.State_Enabled
        if self.window().isActiveWindow():
            opt.state |= QStyle.State_Active
        view = self.parent()  # sorting moves rows, never columns: logical = the table's column
        if isinstance(view, ResultTable) and view.table is not None and \
                logical < len(view.table.columns):
            opt.text = view.elided_header(logical, opt.text)
        painter.save()
        self.style().drawControl(QStyle.CE_Header, opt, painter, self)
        painter.restore()


class ResultTable(QTableView):
    """A read-only result table as every page shows them: set a :class:`Table` and it is
    shown, sortable by clicking a header, copyable with Ctrl+C."""

    copied = Signal(str)

    def __init__(self, title: str = "", tip: str = "", *, sortable: bool = True, parent=None):
        super().__init__(parent)
        self.setHorizontalHeader(ElidingHeader(Qt.Horizontal, self))
        self.source = TableModel(self)
        self.proxy = _SortProxy(self)
        self.proxy.setSourceModel(self.source)
        self.proxy.setSortRole(SORT_ROLE)
        self.setModel(self.proxy)
        self.setSortingEnabled(sortable)
        if sortable:
            self.horizontalHeader().setSortIndicator(-1, Qt.AscendingOrder)  # file order first
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectItems)
        self.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.setAlternatingRowColors(True)
        self.setTabKeyNavigation(False)  # Tab leaves the table (arrows move between cells)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.ElideMiddle)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(24)
        hh = self.horizontalHeader()
        hh.setDefaultAlignment(Qt.AlignCenter)
        hh.setHighlightSections(False)
        hh.setSectionsMovable(False)
        hh.setStretchLastSection(False)
        self.setToolTip(tip)
        self.setAccessibleName(title or "Results table")
        self.setAccessibleDescription(tip)
        self.setContextMenuPolicy(Qt.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)
        self._copy = QAction("Copy", self)
        self._copy.setShortcut(QKeySequence.Copy)
        self._copy.setShortcutContext(Qt.WidgetShortcut)
        self._copy.triggered.connect(self.copy_selection)
        self.addAction(self._copy)

    # ------------------------------------------------------------------ content
    @property
    def table(self) -> Table | None:
        return self.source.table

    def set_table(self, table: Table | None) -> None:
        self.source.set_table(table)
        self._fit_columns()
        self._fit_header()

    def _fit_columns(self) -> None:
        hh = self.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.Interactive)
        fm = hh.fontMetrics()
        self._content_widths = []
        for c in range(self.source.columnCount()):
            # the widest cell or header line, not Qt's content size (which keeps room for a
            # sort arrow in every column: ~40 px too wide for short numbers)
            column = self.source.table.columns[c]
            words = max((fm.horizontalAdvance(line) for line in column.header.split("\n")),
                        default=0) + self._header_extra(c)
            width = min(max(self._content_width(c), words), MAX_COLUMN_PX)
            hh.resizeSection(c, width)  # longer text elided in the middle, full as tooltip
            self._content_widths.append(width)
        self._share_spare_width()

    def _content_width(self, c: int) -> int:
        """The widest cell text of column ``c`` (measured bold, as some cells are), its
        margins and a colour square: from the model's cached texts, not Qt's size hint,
        which asks every cell for every role (0.4 s when a file opens)."""
        n = self.source.rowCount()
        if n == 0:
            return 0
        font = QFont(self.font())
        font.setBold(True)
        fm = QFontMetrics(font)
        widest = max(fm.horizontalAdvance(t) for t in {self.source.text(r, c) for r in range(n)})
        icon = self.iconSize().width() if self.iconSize().width() > 0 else 16
        return widest + 12 + (icon + 4 if self.source.has_swatch(c) else 0)

    def _header_extra(self, c: int) -> int:
        """Room a header needs beside its words: margins, and the group's swatch."""
        return 14 + (self.iconSize().width() if self.iconSize().width() > 0 else 16) + 4 \
            if self.source.table.columns[c].swatch is not None else 14

    def elided_header(self, c: int, text: str) -> str:
        """Each header line that is wider than its column elided in the middle (the full
        name is the header's tooltip), never cut at both ends."""
        # the header's own margins are ~8 px: the 6 px more that fitting keeps are slack for
        # the text's fractional width, not room that elision must leave
        room = self.horizontalHeader().sectionSize(c) - self._header_extra(c) + 6
        fm = self.horizontalHeader().fontMetrics()
        return "\n".join(fm.elidedText(line, Qt.ElideMiddle, max(room, 12))
                         for line in text.split("\n"))

    def _share_spare_width(self) -> None:
        """Columns at least as wide as their content; spare width shared by the value
        columns (the analyst may still narrow or widen any column by hand)."""
        widths = getattr(self, "_content_widths", [])
        if not widths or self.source.table is None:
            return
        spare = self.viewport().width() - sum(widths)
        value_cols = [c for c, col in enumerate(self.source.table.columns) if col.numeric]
        if spare <= 0 or not value_cols:
            return
        extra = min(spare // len(value_cols), 160)
        hh = self.horizontalHeader()
        for c in value_cols:
            hh.resizeSection(c, widths[c] + extra)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._share_spare_width()

    def _fit_header(self) -> None:
        if self.source.table is None:
            return
        lines = max((c.header.count("\n") + 1 for c in self.source.table.columns), default=1)
        fm = self.horizontalHeader().fontMetrics()
        self.horizontalHeader().setMinimumHeight(lines * fm.height() + 10)

    def fit_height(self, max_rows: int = 12, min_rows: int = 2) -> None:
        """At most as tall as its rows (``max_rows`` at most; a scroll bar beyond), and never
        taller than needed; it may shrink to ``min_rows`` when the page is short of room."""
        header = max(self.horizontalHeader().sizeHint().height(), self.horizontalHeader().height())
        row = self.verticalHeader().defaultSectionSize()
        frame = 2 * self.frameWidth() + self.horizontalScrollBar().sizeHint().height()
        n = min(max(self.source.rowCount(), min_rows), max_rows)
        self.setMinimumHeight(header + min(n, min_rows) * row + frame)
        self.setMaximumHeight(header + n * row + frame)

    # ------------------------------------------------------------------ reading (tests, copy)
    def source_row(self, view_row: int) -> int:
        return self.proxy.mapToSource(self.proxy.index(view_row, 0)).row()

    def text_at(self, view_row: int, column: int | str) -> str:
        c = self.source.column_index(column) if isinstance(column, str) else column
        return self.source.text(self.source_row(view_row), c)

    def value_at(self, view_row: int, column: int | str):
        c = self.source.column_index(column) if isinstance(column, str) else column
        return self.source.value(self.source_row(view_row), c)

    def copy_selection(self) -> str:
        sel = self.selectionModel().selectedIndexes() if self.selectionModel() else []
        if not sel:
            text = self.source.tsv()
        else:
            src = [self.proxy.mapToSource(i) for i in sel]
            rows = sorted({i.row() for i in src}, key=lambda r: self.proxy.mapFromSource(
                self.source.index(r, 0)).row())
            cols = sorted({i.column() for i in src})
            text = self.source.tsv(rows, cols, header=len(rows) > 1 or len(cols) > 1)
        QGuiApplication.clipboard().setText(text)
        self.copied.emit(text)
        return text

    def _menu(self, pos) -> None:
        menu = QMenu(self)
        menu.addAction(self._copy)
        every = menu.addAction("Copy the whole table")
        every.triggered.connect(lambda: (self.clearSelection(), self.copy_selection()))
        menu.exec(self.viewport().mapToGlobal(pos))
