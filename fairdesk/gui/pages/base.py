"""What every page is: a view of one engine's settings and results over the shared state."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QAbstractItemView, QLabel, QStackedWidget, QTableWidget,
                               QVBoxLayout, QWidget)

from ..palette import font_css, muted_css, note_style

log = logging.getLogger("fairdesk.gui")



def readonly_table(tip: str, *, select_rows: bool = True, alternate: bool = True,
                   row_header: bool = True, row_height: int = 24) -> QTableWidget:
    """A read-only results table as every page shows them (values set by the page)."""
    t = QTableWidget()
    t.setEditTriggers(QAbstractItemView.NoEditTriggers)
    if select_rows:
        t.setSelectionBehavior(QAbstractItemView.SelectRows)
        t.setSelectionMode(QAbstractItemView.SingleSelection)
    else:
        t.setSelectionMode(QAbstractItemView.NoSelection)
    t.setAlternatingRowColors(alternate)
    t.setWordWrap(False)
    t.setToolTip(tip)
    t.verticalHeader().setVisible(row_header)
    t.verticalHeader().setDefaultSectionSize(row_height)
    t.horizontalHeader().setDefaultAlignment(Qt.AlignCenter)
    t.horizontalHeader().setHighlightSections(False)
    t.verticalHeader().setHighlightSections(False)
    return t


def note_label(text: str = "") -> QLabel:
    """A wrapped grey explanatory line."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet(note_style())
    return label


class Page(QWidget):
    key = "page"  # settings key in projects
    title = "Page"
    nav_tip = ""  # the navigation entry's tooltip: what the page is for, in one sentence
    needs_data = True  # greyed out in the navigation until data is validated

    def __init__(self, state, worker, parent=None):
        super().__init__(parent)
        self.state = state
        self.worker = worker

    split_fraction = 0.5  # share of ``self.splitter``'s width given to its first pane

    def toolTip(self) -> str:  # noqa: N802 (the navigation entry's tooltip)
        return self.nav_tip or self.title

    def page_layout(self, margin: int = 6) -> QVBoxLayout:
        """The page's outer layout (margins and spacing as on every page)."""
        outer = QVBoxLayout(self)
        outer.setContentsMargins(margin, margin, margin, margin)
        outer.setSpacing(4)
        return outer

    def fill_split(self, first: QWidget, second: QWidget) -> None:
        """Put the two panes (tables, plots) in ``self.splitter``; they share its width as
        ``split_fraction`` says once the page is first shown."""
        self.splitter.addWidget(first)
        self.splitter.addWidget(second)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self._split_done = False

    def debounce(self, ms: int, slot) -> QTimer:
        """A single-shot timer owned by the page: several quick changes make one run."""
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(ms)
        timer.timeout.connect(slot)
        return timer

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if hasattr(self, "splitter") and not getattr(self, "_split_done", False):
            QTimer.singleShot(0, self._initial_split)
        pending, self._when_shown = getattr(self, "_when_shown", None), None
        if pending is not None:  # after the page is drawn; a timer of the page's own, so
            timer = QTimer(self)  # tests and the window can see that work is about to start
            timer.setSingleShot(True)
            timer.timeout.connect(pending)
            timer.timeout.connect(timer.deleteLater)
            timer.start(0)

    def when_shown(self, compute) -> None:
        """Compute on demand: run ``compute`` now if the page is on screen, else when it is
        next shown (a page nobody visits computes nothing; a later request replaces an
        earlier one)."""
        if self.isVisible():
            self._when_shown = None
            compute()
        else:
            self._when_shown = compute

    def _initial_split(self) -> None:
        """Once, when the page is first shown at its real size (later the analyst decides)."""
        total = sum(self.splitter.sizes())
        if getattr(self, "_split_done", False) or total < 400 or not self.splitter.isVisible():
            return
        self._split_done = True
        self.apply_initial_split(total)

    def apply_initial_split(self, total: int) -> None:
        left = int(total * self.split_fraction)
        self.splitter.setSizes([left, total - left])

    def _show_error(self, message: str, details: str = "") -> None:
        """The main window's error dialog (the log gets no message: it may hold data)."""
        win = self.window()
        if win is not self and hasattr(win, "show_error"):
            win.show_error(message, details)
        else:
            log.error("page %s: an error could not be shown", self.key)

    def add_empty_stack(self, layout, text: str = "") -> QVBoxLayout:
        """Add to ``layout`` the page's two states: a centred message (``self.empty``) while
        there is nothing to show, and the content, whose zero-margin layout is returned.
        ``self.stack.setCurrentIndex(0 or 1)`` switches between them."""
        self.stack = QStackedWidget()
        layout.addWidget(self.stack, 1)
        self.empty = QLabel(text)
        self.empty.setAlignment(Qt.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet(f"{muted_css()}; {font_css(1.3)}")
        self.stack.addWidget(self.empty)
        content = QWidget()
        self.stack.addWidget(content)
        lay = QVBoxLayout(content)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        return lay

    def settings(self) -> dict:
        """This page's settings, saved in projects (JSON-able)."""
        return {}

    def apply_settings(self, settings: dict) -> None:
        """Restore settings from a project (after the data is loaded)."""

    def export_tables(self) -> list:
        """fairdesk.reports.workbook.Table objects for the Excel decision tables."""
        return []

    def export_settings(self) -> dict:
        """Settings to list on the workbook's About sheet."""
        return self.settings()
