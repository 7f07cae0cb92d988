"""Where FairDesk keeps its own files: the log, the autosaved project."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths


def data_folder() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.AppDataLocation) or str(Path.home() / ".fairdesk")
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path


def autosave_path() -> Path:
    return data_folder() / "autosave.fairdesk"
