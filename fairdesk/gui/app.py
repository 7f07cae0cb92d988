"""Start the application: logging to the user's data folder, crash dialog, main window."""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox

from .. import __version__
from .paths import autosave_path, data_folder

log = logging.getLogger("fairdesk")


class SafeFormatter(logging.Formatter):
    """Log lines without data values: text arguments become <text> (numbers — shapes,
    counts — are kept), and a traceback keeps its frames and the exception's type but not
    its message, which may quote a cell."""

    def format(self, record):
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(a if isinstance(a, (int, float)) else "<text>" for a in args)
        return super().format(record)

    def formatException(self, ei):
        exc_type, _, tb = ei
        frames = traceback.extract_tb(tb)
        lines = [f'  File "{f.filename}", line {f.lineno}, in {f.name}' for f in frames]
        return "Traceback (most recent call last):\n" + "\n".join(lines) + \
            f"\n{exc_type.__name__} (message not logged: it may contain data)"


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
    return app.exec()


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
