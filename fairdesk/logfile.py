"""FairDesk's log file, without Qt: where it is, how lines are written, and how Python and
library warnings are kept off the analyst's screen.

Log lines carry shapes, counts, column names, source lines and exception types, never data
values (a cell's text may be confidential). The window and the command line write to the
same folder: the window's ``fairdesk.log``, the command line's ``fairdesk-cli.log``.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
import warnings
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger("fairdesk")
_warnings_log = logging.getLogger("fairdesk.warnings")


def user_folder() -> Path:
    """FairDesk's folder in the user's profile (not created here): the log files and the
    autosaved project.

    Windows: ``%LOCALAPPDATA%\\FairDesk\\FairDesk`` -- the local, not the roaming, profile: a
    roaming profile is copied to a server at logoff, and the autosave holds the analyst's
    data. Elsewhere the same place as Qt's AppDataLocation for the organisation and
    application "FairDesk".
    """
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "FairDesk" / "FairDesk"


def log_folder() -> Path:
    """The folder of the log files (not created here): :func:`user_folder`;
    ``FAIRDESK_LOG_DIR`` overrides it (tests, locked-down machines).
    """
    override = os.environ.get("FAIRDESK_LOG_DIR")
    if override:
        return Path(override)
    return user_folder()


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


class _FolderMakingHandler(logging.FileHandler):
    """A file handler that creates its folder and file only when a line is written."""

    def __init__(self, path: Path):
        super().__init__(path, encoding="utf-8", delay=True)

    def _open(self):
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()

    def handleError(self, record):  # a log that cannot be written must not print to stderr
        pass


def file_handler(name: str) -> logging.Handler:
    handler = _FolderMakingHandler(log_folder() / name)
    handler.setFormatter(SafeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    return handler


def log_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """``warnings.showwarning`` replacement: the warning's kind and source line go to the
    log, never to stderr. The message is left out: numpy's and pandas' messages are about
    arithmetic and parsing, but some quote the values involved."""
    where = f"{os.path.basename(str(filename))} line {int(lineno or 0)}"
    kind = getattr(category, "__name__", "Warning")
    # preformatted: the safe formatter would hide text arguments, and these hold no data
    _warnings_log.warning(f"{kind} at {where} (a library warning, kept out of the output)")


class _Logged:
    def __init__(self, handler: logging.Handler):
        self.handler = handler

    @property
    def path(self) -> str:
        return self.handler.baseFilename

    def exception(self, err: BaseException) -> str:
        log.error("command failed", exc_info=(type(err), err, err.__traceback__))
        self.handler.flush()
        return self.path


@contextmanager
def cli_logging():
    """For one run of the command line: warnings and errors go to ``fairdesk-cli.log``
    (created only when something is written); everything is restored afterwards."""
    handler = file_handler("fairdesk-cli.log")
    handler.setLevel(logging.WARNING)
    previous_level = log.level
    log.addHandler(handler)
    if log.getEffectiveLevel() > logging.WARNING or log.level == logging.NOTSET:
        log.setLevel(logging.WARNING)
    previous_show = warnings.showwarning
    warnings.showwarning = log_warning
    try:
        yield _Logged(handler)
    finally:
        warnings.showwarning = previous_show
        log.removeHandler(handler)
        log.setLevel(previous_level)
        handler.close()
