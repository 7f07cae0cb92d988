"""Small dialogs: the readable error dialog and the sheet chooser."""

from __future__ import annotations

from PySide6.QtWidgets import (QApplication, QDialog, QDialogButtonBox, QInputDialog, QLabel,
                               QPlainTextEdit, QPushButton, QVBoxLayout)


class ErrorDialog(QDialog):
    """What failed and what to try, in words; the technical details one click away."""

    def __init__(self, parent, message: str, details: str = ""):
        super().__init__(parent)
        self.setWindowTitle("FairDesk")
        self.setMinimumWidth(520)
        lay = QVBoxLayout(self)
        label = QLabel(message)
        label.setWordWrap(True)
        label.setTextInteractionFlags(label.textInteractionFlags() | label.textInteractionFlags().TextSelectableByMouse)
        lay.addWidget(label)
        self.details = QPlainTextEdit(details)
        self.details.setReadOnly(True)
        self.details.setVisible(False)
        self.details.setMinimumHeight(220)
        lay.addWidget(self.details)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok)
        if details:
            toggle = QPushButton("Show details")
            toggle.setCheckable(True)
            toggle.toggled.connect(self.details.setVisible)
            toggle.toggled.connect(lambda on: toggle.setText("Hide details" if on else "Show details"))
            copy = QPushButton("Copy details")
            copy.clicked.connect(lambda: QApplication.clipboard().setText(details))
            buttons.addButton(toggle, QDialogButtonBox.ActionRole)
            buttons.addButton(copy, QDialogButtonBox.ActionRole)
        buttons.accepted.connect(self.accept)
        lay.addWidget(buttons)
        self.message = message


def choose_sheet(parent, filename: str, sheets: list[str]) -> str | None:
    name, ok = QInputDialog.getItem(parent, "Choose a sheet", f"{filename} has several sheets. "
                                    "Which one holds the data?", sheets, 0, False)
    return name if ok else None
