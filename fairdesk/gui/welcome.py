"""The first screen, before any file is open: what FairDesk does in two lines, and the ways
to start — open a file, open the sample, or one of the recent files."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QVBoxLayout,
                               QWidget)

from .palette import muted_css
from ..resources import sample_data
from .controls import button

INTRO = ("<h2>FairDesk</h2><p>Load a spreadsheet of risk scores and outcomes, see how the score's "
         "decisions differ between protected groups, and compare fair ways to turn the score "
         "into decisions.</p><p>Every number stays on this computer; results export to Excel "
         "decision tables for the meeting.</p>")
NEEDS = ("The file needs one row per person or case, a score column, the observed outcome and "
         "one or more protected-group columns (CSV, Excel or OpenDocument). You can also drop "
         "a file on this window.")


class WelcomePanel(QWidget):
    openRequested = Signal()  # the File ▸ Open dialog
    pathRequested = Signal(str)  # a file to open now

    def __init__(self, recent=lambda: [], parent=None):
        super().__init__(parent)
        self._recent = recent
        lay = QVBoxLayout(self)
        lay.setContentsMargins(40, 30, 40, 30)
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        lay.addWidget(intro)
        row = QHBoxLayout()
        self.open_button = button("Open a file…", "Choose a data file or a saved project "
                                  "(Ctrl+O)", self.openRequested.emit)
        self.sample_button = button("Open the sample", "A 6,000-row sample of scores, outcomes "
                                    "and groups that ships with FairDesk, to try every page",
                                    lambda: self.pathRequested.emit(str(sample_data())))
        self.open_button.setDefault(True)
        row.addWidget(self.open_button)
        row.addWidget(self.sample_button)
        row.addStretch(1)
        lay.addLayout(row)
        needs = QLabel(NEEDS)
        needs.setWordWrap(True)
        needs.setStyleSheet(muted_css())
        lay.addWidget(needs)
        self.recent_title = QLabel("<b>Recent files</b>")
        lay.addWidget(self.recent_title)
        self.recent_list = QListWidget()
        self.recent_list.setAccessibleName("Recent files")
        self.recent_list.setToolTip("Press Enter or double-click to open")
        self.recent_list.itemActivated.connect(
            lambda item: self.pathRequested.emit(item.data(Qt.UserRole)))
        self.recent_list.setMaximumHeight(180)
        lay.addWidget(self.recent_list)
        lay.addStretch(1)
        self.refresh()

    def refresh(self) -> None:
        self.recent_list.clear()
        for path in self._recent():
            item = QListWidgetItem(f"{Path(path).name}   —   {Path(path).parent}")
            item.setData(Qt.UserRole, path)
            item.setToolTip(path)
            self.recent_list.addItem(item)
        has = self.recent_list.count() > 0
        self.recent_title.setVisible(has)
        self.recent_list.setVisible(has)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self.refresh()
