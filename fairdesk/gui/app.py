"""Start the application: logging to the user's data folder, crash dialog, main window."""

from __future__ import annotations

import logging
import os
import sys
import traceback
import warnings
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox

from .. import __version__
from ..logfile import SafeFormatter, log_warning
from .paths import autosave_path, data_folder

log = logging.getLogger("fairdesk")


def setup_logging() -> Path:
    """Log to fairdesk.log in the user's data folder. Log lines carry shapes and column
    names, never data values."""
    path = data_folder() / "fairdesk.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(SafeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("fairdesk")
    if not any(isinstance(h, logging.FileHandler) for h in root.handlers):
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    # numpy and pandas warnings (RuntimeWarning, ParserWarning, FutureWarning) never reach a
    # console: their kind and source line go to this log
    warnings.showwarning = log_warning
    return path


def install_excepthook(window_getter) -> None:
    """An unhandled exception in a slot shows the error dialog and is logged; the app lives on."""
    def hook(exc_type, exc, tb):
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        log.error("unhandled exception", exc_info=(exc_type, exc, tb))
        window = window_getter()
        if window is not None:
            from .dialogs import ErrorDialog
            ErrorDialog(window, f"Something went wrong ({exc_type.__name__}). The application "
                        "is still usable; the details were written to the log file.", details).exec()
    sys.excepthook = hook


def make_app(argv=None) -> QApplication:
    app = QApplication.instance() or QApplication(list(argv or sys.argv[:1]))
    app.setApplicationName("FairDesk")
    app.setOrganizationName("FairDesk")
    app.setApplicationVersion(__version__)
    from PySide6.QtGui import QIcon

    from ..resources import resource_path
    app.setWindowIcon(QIcon(str(resource_path("icons", "fairdesk.png"))))
    return app


def run_app(argv) -> int:
    app = make_app([sys.argv[0]])
    setup_logging()
    from .main_window import MainWindow

    window = MainWindow()
    install_excepthook(lambda: window)
    window.show()
    if not offer_recovery(window) and argv:
        window.open_path(argv[0])
    code = app.exec()
    if window.worker.busy:
        # a job did not stop within the close's grace period (a read stuck on a network
        # drive, a library call that cannot be interrupted): the window is closed, so the
        # process ends now instead of waiting for that thread
        log.warning("exiting with a job still running")
        logging.shutdown()
        os._exit(code)
    return code


def offer_recovery(window, ask=None) -> bool:
    """After a crash the autosaved project is still there: offer to reopen it.

    Returns True when the analysis was reopened. ``ask`` (for tests) replaces the question.
    """
    path = autosave_path()
    if not path.exists():
        return False
    if ask is None:
        def ask():
            return QMessageBox.question(
                window, "Reopen the last analysis?",
                "FairDesk did not close properly last time. Reopen the analysis it saved "
                "automatically?") == QMessageBox.Yes
    if ask():
        window.open_project(str(path))
        window.state.project_path = None  # "Save" asks where, rather than overwriting the autosave
        return True
    path.unlink(missing_ok=True)
    return False
