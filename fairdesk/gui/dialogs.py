"""Small dialogs: the readable error dialog and the sheet chooser."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (QApplication, QDialog, QDialogButtonBox, QFileDialog, QInputDialog,
                               QLabel, QMessageBox, QPlainTextEdit, QPushButton, QVBoxLayout)


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


def choose_sheet(parent, filename: str, sheets: list[str], hidden=()) -> str | None:
    """The sheet to read; the first is preselected, hidden sheets are marked "(hidden)"."""
    shown = [f"{n} (hidden)" if n in hidden else n for n in sheets]
    name, ok = QInputDialog.getItem(parent, "Choose a sheet", f"{filename} has several sheets. "
                                    "Which one holds the data?", shown, 0, False)
    return sheets[shown.index(name)] if ok and name in shown else None


def choose_sections(parent, sections: list[tuple[str, str]]) -> list[str] | None:
    """Which pages' sheets go into the workbook: (key, title) pairs, all ticked at first.
    Returns the keys ticked, or None when cancelled."""
    from PySide6.QtWidgets import QCheckBox

    if not sections:
        return []
    dialog = QDialog(parent)
    dialog.setWindowTitle("What goes into the workbook")
    lay = QVBoxLayout(dialog)
    lay.addWidget(QLabel("Sheets to write (the About, Contents and Glossary sheets are always "
                         "included):"))
    boxes = []
    for key, title in sections:
        box = QCheckBox(title)
        box.setChecked(True)
        box.setProperty("section", key)
        lay.addWidget(box)
        boxes.append(box)
    buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    lay.addWidget(buttons)
    if dialog.exec() != QDialog.Accepted:
        return None
    return [b.property("section") for b in boxes if b.isChecked()]


def ask_decimal(parent, message: str, example: str) -> str | None:
    """Which mark is the decimal one, for numbers that read two ways; None = cancel."""
    box, as_point, as_comma = decimal_question(parent, message, example)
    box.exec()
    clicked = box.clickedButton()
    return "." if clicked is as_point else "," if clicked is as_comma else None


def decimal_question(parent, message: str, example: str):
    """The question box (not yet shown) and its two answer buttons."""
    point = float(example.replace(",", "").replace(" ", ""))
    comma = float(example.replace(".", "").replace(",", "."))
    box = QMessageBox(parent)
    box.setWindowTitle("Which decimal mark?")
    box.setIcon(QMessageBox.Question)
    box.setText(message.split(" Say which mark")[0])
    box.setInformativeText(f"How should '{example}' be read?")
    as_point = box.addButton(f"'.' is decimal: {point:g}", QMessageBox.AcceptRole)
    as_comma = box.addButton(f"',' is decimal: {comma:g}", QMessageBox.AcceptRole)
    box.addButton(QMessageBox.Cancel)
    return box, as_point, as_comma


ROWS_FILTER = "CSV (*.csv);;Excel workbook (*.xlsx)"


def ask_output_path(parent, title: str, table, suffix: str, filters: str = ROWS_FILTER):
    """Where to write an export: a save dialog starting beside the data file with the
    file's name plus ``suffix`` ("decisions.csv"). The dialog asks before replacing a file;
    the answer is recorded so the writer may replace it. None when cancelled."""
    from ..io.outputs import confirm_replace

    src = Path(table.source.path) if table is not None else Path.home() / "data"
    path, _ = QFileDialog.getSaveFileName(parent, title,
                                          str(src.with_name(f"{src.stem} {suffix}")), filters)
    if not path:
        return None
    confirm_replace(path)
    return path
