"""A page's notes and warnings in one collapsible panel: one line when closed, all of them
when opened, so many groups' warnings never push a result table off the screen."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from .palette import message_colour, muted_css

OPEN_AT_MOST = 2  # this many notes or fewer are shown open; more start closed


class NotesPanel(QWidget):
    """``set_notes(notes, warnings)``: plain-text notes (shown muted) and warnings (shown in
    the warning colour with ⚠). Closed, the panel shows its count and the first item on one
    line, elided, with every item in the tooltip; the analyst's open/closed choice is kept
    when the notes change."""

    def __init__(self, title: str = "Notes", parent=None):
        super().__init__(parent)
        self.title = title
        self._chosen: bool | None = None  # the analyst's choice, once they click
        self.toggle = QToolButton()
        self.toggle.setCheckable(True)
        self.toggle.setAutoRaise(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.RightArrow)
        self.toggle.setAccessibleName(f"Show or hide the {title.lower()}")
        self.toggle.toggled.connect(self._toggled)
        self.first = QLabel()  # the first item, on one line, while closed
        self.first.setStyleSheet(muted_css())
        self.first.setTextFormat(Qt.PlainText)
        self.first.setMinimumWidth(40)
        self.body = QLabel()
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.RichText)
        self.body.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.body.setAccessibleName(title)
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.toggle, 0, Qt.AlignLeft)
        head.addWidget(self.first, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addLayout(head)
        lay.addWidget(self.body)
        self.items: list[tuple[str, bool]] = []
        self.set_notes([])

    def set_notes(self, notes=(), warnings=()) -> None:
        self.items = [(w, True) for w in warnings if w] + [(n, False) for n in notes if n]
        self.setVisible(bool(self.items))
        if not self.items:
            return
        n_warn = sum(1 for _, w in self.items if w)
        count = f"{self.title} ({len(self.items)}" + (f", {n_warn} ⚠)" if n_warn else ")")
        self.toggle.setText(count)
        colour = message_colour("warning")
        self.body.setText("".join(
            f"<p style='margin:2px 0 2px 18px'>"
            + (f"<span style='color:{colour}'>⚠ {html.escape(t)}</span>" if w else
               f"<span style='{muted_css()}'>{html.escape(t)}</span>") + "</p>"
            for t, w in self.items))
        first, is_warning = self.items[0]
        self._first_text = ("⚠ " if is_warning else "") + first
        self._tip = "\n".join(("⚠ " if w else "• ") + t for t, w in self.items)
        self.first.setToolTip(self._tip)
        opened = self._chosen if self._chosen is not None else len(self.items) <= OPEN_AT_MOST
        self.toggle.blockSignals(True)
        self.toggle.setChecked(opened)
        self.toggle.blockSignals(False)
        self._show(opened)

    def text(self) -> str:
        """Every item, one per line (for tests and for copying)."""
        return "\n".join(t for t, _ in self.items)

    def _toggled(self, on: bool) -> None:
        self._chosen = on
        self._show(on)

    def _show(self, opened: bool) -> None:
        self.toggle.setArrowType(Qt.DownArrow if opened else Qt.RightArrow)
        self.toggle.setToolTip(f"Click to {'hide' if opened else 'show'} the "
                               f"{self.title.lower()}.\n{getattr(self, '_tip', '')}")
        self.body.setVisible(opened)
        self.first.setVisible(not opened)
        if not opened:
            self._elide_first()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        if self.first.isVisible():
            self._elide_first()

    def _elide_first(self) -> None:
        width = max(40, self.width() - self.toggle.sizeHint().width() - 12)
        self.first.setText(self.first.fontMetrics().elidedText(
            getattr(self, "_first_text", ""), Qt.ElideRight, width))
