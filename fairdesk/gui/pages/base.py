"""What every page is: a view of one engine's settings and results over the shared state."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget


class Page(QWidget):
    key = "page"  # settings key in projects
    title = "Page"
    needs_data = True  # greyed out in the navigation until data is validated

    def __init__(self, state, worker, parent=None):
        super().__init__(parent)
        self.state = state
        self.worker = worker

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
