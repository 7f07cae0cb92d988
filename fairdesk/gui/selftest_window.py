"""The self-test's window check: the main window, offscreen, on the bundled sample."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path


def window_check() -> str:
    """Open the bundled sample in the main window offscreen and show every page."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # headless, also on a desktop
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from ..resources import sample_data
    from .main_window import MainWindow
    app = QApplication.instance() or QApplication([])
    settings = QSettings(str(Path(tempfile.gettempdir()) / "fairdesk-selftest.ini"), QSettings.IniFormat)
    w = MainWindow(settings=settings)
    errors = []
    w.show_error = lambda msg, details="": errors.append(msg)
    w.open_path(str(sample_data()))
    deadline = time.monotonic() + 60
    while w.state.data is None and not errors and time.monotonic() < deadline:
        loop = QEventLoop()
        QTimer.singleShot(50, loop.quit)
        loop.exec()
    if errors:
        raise RuntimeError(errors[0])
    if w.state.data is None:
        raise RuntimeError("the sample did not open within 60 s")
    for i in range(w.nav.count()):
        w.nav.setCurrentRow(i)
    pages = w.nav.count()
    w.worker.wait(10000)
    w.close()
    return f"{pages} pages shown"
