"""The one mechanism that runs long work off the GUI thread.

``Worker.start(fn, *args, on_result=…, title=…)`` runs ``fn(*args, job=job)`` on a
QThreadPool thread; ``job`` is a :class:`fairdesk.jobs.Job` whose progress reaches the
progress bar through queued signals and whose cancel flag the engine checks. Results and
errors come back as signals on the GUI thread. No ``processEvents`` loops anywhere.
"""

from __future__ import annotations

import logging
import traceback

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from ..errors import Cancelled, FairDeskError
from ..jobs import Job

log = logging.getLogger("fairdesk.worker")


class _Signals(QObject):
    progress = Signal(float, str)
    result = Signal(object)
    error = Signal(str, str)  # message, details
    cancelled = Signal()
    finished = Signal()


class _Task(QRunnable):
    def __init__(self, fn, args, kwargs, job: Job, signals: _Signals):
        super().__init__()
        self.fn, self.args, self.kwargs, self.job, self.signals = fn, args, kwargs, job, signals
        self.setAutoDelete(True)

    def run(self):
        try:
            result = self.fn(*self.args, job=self.job, **self.kwargs)
        except Cancelled:
            self.signals.cancelled.emit()
        except FairDeskError as err:  # an expected, explained problem
            self.signals.error.emit(str(err), "")
        except MemoryError:
            self.signals.error.emit("This computer ran out of memory for that job. Close other "
                                    "programs, or use a smaller file or fewer resamples.", "")
        except Exception as err:  # a bug: keep the app alive, log the traceback (no data)
            details = traceback.format_exc()  # shown in the dialog; the log gets no message
            log.error("job failed", exc_info=True)
            self.signals.error.emit(f"Something went wrong ({type(err).__name__}). The application "
                                    "is still usable; the details were written to the log file.",
                                    details)
        else:
            self.signals.result.emit(result)
        finally:
            self.signals.finished.emit()


class Worker(QObject):
    """Runs one job at a time per caller; the status bar shows its progress and Cancel."""

    started = Signal(str)  # title
    progress = Signal(float, str)
    finished = Signal()
    failed = Signal(str, str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.pool = QThreadPool.globalInstance()
        self._jobs: list[tuple[Job, _Signals]] = []

    @property
    def busy(self) -> bool:
        return bool(self._jobs)

    def start(self, fn, *args, title: str = "Working…", on_result=None, on_error=None,
              on_cancel=None, **kwargs) -> Job:
        signals = _Signals()
        job = Job(lambda f, m: signals.progress.emit(f, m))
        entry = (job, signals)
        self._jobs.append(entry)
        signals.progress.connect(self.progress)
        if on_result is not None:
            signals.result.connect(on_result)
        signals.error.connect(on_error if on_error is not None else self.failed.emit)
        if on_cancel is not None:
            signals.cancelled.connect(on_cancel)

        def done():
            if entry in self._jobs:
                self._jobs.remove(entry)
            self.finished.emit()
        signals.finished.connect(done)
        self.started.emit(title)
        self.pool.start(_Task(fn, args, kwargs, job, signals))
        return job

    @Slot()
    def cancel_all(self) -> None:
        for job, _ in list(self._jobs):
            job.cancel()

    def wait(self, msecs: int = -1) -> bool:
        """Block until every job is done (tests and shutdown only)."""
        return self.pool.waitForDone(msecs)
