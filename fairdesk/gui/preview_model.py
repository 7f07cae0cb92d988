"""The Data page's preview of the file: its first rows as written, with spreadsheet row
numbers, empty cells greyed and mapped columns in bold."""

from __future__ import annotations

import numpy as np
import pandas as pd
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from ..present.data_tables import cell_text, is_blank
from ..schema import ROLE_TITLES

PREVIEW_ROWS = 200
EMPTY_CELL = QColor(0, 0, 0, 18)


class PreviewModel(QAbstractTableModel):
    """The first rows of the table; the row header shows the spreadsheet row numbers."""

    def __init__(self, frame: pd.DataFrame | None = None, parent=None):
        super().__init__(parent)
        self.set_frame(frame)

    def set_frame(self, frame: pd.DataFrame | None, roles: dict[str, str] | None = None) -> None:
        self.beginResetModel()
        head = frame.head(PREVIEW_ROWS) if frame is not None else pd.DataFrame()
        self._columns = [str(c) for c in head.columns]
        self._rows = list(head.index)
        self._values = head.to_numpy(dtype=object) if len(head.columns) else np.empty((0, 0))
        self._roles = roles or {}
        self.endResetModel()

    def set_roles(self, roles: dict[str, str]) -> None:
        self._roles = roles
        if self._columns:
            self.headerDataChanged.emit(Qt.Horizontal, 0, len(self._columns) - 1)

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._columns)

    def row_of(self, spreadsheet_row: int) -> int | None:
        try:
            return self._rows.index(spreadsheet_row)
        except ValueError:
            return None

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        value = self._values[index.row(), index.column()]
        if role == Qt.DisplayRole:
            return cell_text(value)
        if role == Qt.BackgroundRole and is_blank(value):
            return QBrush(EMPTY_CELL)
        if role == Qt.ToolTipRole:
            where = f"Row {self._rows[index.row()]}, column '{self._columns[index.column()]}'"
            return f"{where}: empty cell" if is_blank(value) else where
        if role == Qt.TextAlignmentRole:
            if isinstance(value, (int, float, np.integer, np.floating)) and not is_blank(value):
                return int(Qt.AlignRight | Qt.AlignVCenter)
        return None

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if orientation == Qt.Vertical:
            if role == Qt.DisplayRole and section < len(self._rows):
                return cell_text(self._rows[section])
            if role == Qt.ToolTipRole:
                return "Row number as in the spreadsheet (the header is row 1)"
            return None
        if section >= len(self._columns):
            return None
        name = self._columns[section]
        role_key = self._roles.get(name, "ignore")
        if role == Qt.DisplayRole:
            return name
        if role == Qt.ToolTipRole:
            return f"Column '{name}': {ROLE_TITLES[role_key]}"
        if role == Qt.FontRole and role_key != "ignore":
            f = QFont()
            f.setBold(True)
            return f
        return None
