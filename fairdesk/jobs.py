"""Progress and cancellation for long computations, without Qt.

An engine takes a ``job`` argument and calls ``job.progress(fraction, message)`` between
steps; that call raises :class:`~fairdesk.errors.Cancelled` once the user has pressed
Cancel. The GUI's worker owns the Job and forwards progress to a progress bar; scripts
pass nothing and get :data:`NO_JOB`.
"""

from __future__ import annotations

import threading
from typing import Callable

from .errors import Cancelled


class Job:
    def __init__(self, on_progress: Callable[[float, str], None] | None = None):
        self._cancelled = threading.Event()
        self._on_progress = on_progress

    def cancel(self) -> None:
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def check(self) -> None:
        """Raise Cancelled if the user asked to stop."""
        if self._cancelled.is_set():
            raise Cancelled()

    def progress(self, fraction: float, message: str = "") -> None:
        """Report progress in [0, 1]; also the point where a cancel takes effect."""
        self.check()
        if self._on_progress is not None:
            self._on_progress(min(max(float(fraction), 0.0), 1.0), message)


NO_JOB = Job()
