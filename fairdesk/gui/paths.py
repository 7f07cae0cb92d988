"""Where FairDesk keeps its own files: the log, the autosaved project."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QStandardPaths

from ..logfile import user_folder


def data_folder() -> Path:
    """The user's FairDesk folder, created if missing. Windows: %LOCALAPPDATA%\\FairDesk\\FairDesk
    (fairdesk.logfile.user_folder: the local profile, never the roaming one, because the
    autosave holds data); elsewhere Qt's AppDataLocation (which tests redirect)."""
    if sys.platform == "win32":
        path = user_folder()
    else:
        base = QStandardPaths.writableLocation(QStandardPaths.AppDataLocation) or str(Path.home() / ".fairdesk")
        path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path


def autosave_path() -> Path:
    return data_folder() / "autosave.fairdesk"
