"""The Data page's options for a period column and score versions: how dates become periods,
and which versions run the other way (a lower score = more likely positive)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QFormLayout, QHBoxLayout, QLabel, QWidget

from ..periods import BUCKET_TITLES
from .controls import combo


class PeriodOptions(QWidget):
    """Shown only when a period or a version column is mapped; ``changed`` when the analyst
    edits an option (``apply_to`` then writes them into a mapping)."""

    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.bucket = combo([(title, key) for key, title in BUCKET_TITLES.items()],
                            "How the period column becomes periods: dates grouped by month, "
                            "quarter or year (automatic: months over up to two years, quarters "
                            "up to six, years beyond), or the values as written, in natural "
                            "order (wave 2 before wave 10)", "Periods by")
        self.bucket.currentIndexChanged.connect(lambda _i: self._edited())
        self.versions_label = QLabel("Lower = more likely positive:")
        self.versions_label.setToolTip("Score versions whose low scores mean the positive "
                                       "outcome is more likely (like a credit score for default)")
        self.version_row = QHBoxLayout()
        self.version_row.setContentsMargins(0, 0, 0, 0)
        self.checks: dict[str, QCheckBox] = {}
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Periods by:", self.bucket)
        holder = QWidget()
        holder.setLayout(self.version_row)
        form.addRow(self.versions_label, holder)
        self._form = form
        self._quiet = False
        self.hide()

    def show_for(self, mapping) -> None:
        """Show the options of ``mapping`` (kept in step with the role combos)."""
        self._quiet = True
        try:
            i = self.bucket.findData(mapping.period_bucket or "auto")
            self.bucket.setCurrentIndex(max(i, 0))
            self._form.setRowVisible(0, bool(mapping.period))
            if list(self.checks) != list(mapping.versions):
                for box in self.checks.values():
                    box.deleteLater()
                self.checks = {}
                for v in mapping.versions:
                    box = QCheckBox(v)
                    box.setToolTip(f"Tick when a lower '{v}' means the positive outcome is more "
                                   "likely")
                    box.setAccessibleName(f"Lower {v} = more likely positive")
                    box.toggled.connect(lambda _on: self._edited())
                    self.version_row.addWidget(box)
                    self.checks[v] = box
            for v, box in self.checks.items():
                box.setChecked(not mapping.version_higher.get(v, True))
            self._form.setRowVisible(1, bool(mapping.versions))
            self.setVisible(bool(mapping.period or mapping.versions))
        finally:
            self._quiet = False

    def apply_to(self, mapping) -> None:
        mapping.period_bucket = self.bucket.currentData() or "auto"
        mapping.version_higher = {v: not box.isChecked() for v, box in self.checks.items()}

    def _edited(self) -> None:
        if not self._quiet:
            self.changed.emit()
