"""The Data page's "Checks" box: what validation found, errors first, each with its
severity in shape and colour; activating one asks to show its first row."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QGroupBox, QLabel, QListWidget,
                               QListWidgetItem, QVBoxLayout)

from ..present.data_tables import rows_phrase
from .palette import OKABE_ITO, severity_icon

SEVERITY_TEXT = {"error": "Error: this blocks the analysis until it is fixed.",
                 "warning": "Warning: the analysis runs, but read this.",
                 "info": "Information."}


class ChecksPanel(QGroupBox):
    rowRequested = Signal(int, str)  # spreadsheet row, column ("" when none)

    def __init__(self, state, parent=None):
        super().__init__("Checks", parent)
        self.state = state
        self._problems: list = []
        self.setToolTip("What FairDesk found when it checked the data with the applied mapping")
        cl = QVBoxLayout(self)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setMinimumHeight(2 * self.fontMetrics().lineSpacing() + 4)
        self.status.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        cl.addWidget(self.status)
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setResizeMode(QListWidget.Adjust)
        self.list.setIconSize(QSize(16, 16))
        self.list.setSpacing(2)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollPerPixel)
        self.list.setToolTip("Errors (red circle) block the analysis; warnings (orange "
                             "triangle) do not. Double-click one to see its first row in the "
                             "preview.")
        self.list.itemActivated.connect(self._activated)
        cl.addWidget(self.list, 1)

    def show_problems(self, problems) -> None:
        """List validation problems (errors first, then warnings)."""
        self._problems = list(problems or [])
        self.list.clear()
        order = {"error": 0, "warning": 1}
        for p in sorted(self._problems, key=lambda p: order.get(p.severity, 2)):
            item = QListWidgetItem(severity_icon(p.severity), p.message)
            tip = [SEVERITY_TEXT.get(p.severity, p.severity)]
            if p.column:
                tip.append(f"Column: {p.column}")
            if p.rows:
                tip.append(f"Spreadsheet {rows_phrase(p)}")
            item.setToolTip("\n".join(tip))
            item.setData(Qt.UserRole, p)
            self.list.addItem(item)
        self.update_status()

    def update_status(self) -> None:
        errors = sum(p.severity == "error" for p in self._problems)
        warnings = sum(p.severity == "warning" for p in self._problems)
        data = self.state.data
        if self.state.table is None:
            text = ""
        elif errors:
            text = (f"<b style='color:{OKABE_ITO[5]}'>{errors} error"
                    f"{'s block' if errors != 1 else ' blocks'} the analysis.</b> Fix the file or "
                    "the mapping, then apply it again.")
        elif data is not None:
            text = (f"<b>The data can be analysed:</b> {data.n:,} of {data.n_input_rows:,} rows "
                    f"used, {data.n_excluded:,} left out.")
            if warnings:
                text += f" Read the {warnings} warning{'s' if warnings != 1 else ''} below."
        else:
            text = ("The data has not passed the checks. Check the roles and press "
                    "<b>Apply mapping</b>.")
        self.status.setText(text)
        if not self._problems and self.list.count() == 0 and self.state.data is not None:
            item = QListWidgetItem(severity_icon("info"), "No problems found with the applied "
                                   "mapping.")
            item.setToolTip("The checks passed without errors or warnings")
            self.list.addItem(item)
        elif self._problems or self.state.data is None:
            for i in reversed(range(self.list.count())):
                if self.list.item(i).data(Qt.UserRole) is None:
                    self.list.takeItem(i)

    def _activated(self, item: QListWidgetItem) -> None:
        p = item.data(Qt.UserRole)
        if p is not None and p.rows:
            self.rowRequested.emit(int(p.rows[0]), p.column or "")
