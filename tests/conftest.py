import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"
SAMPLE = ROOT / "resources" / "sample" / "sample_scores.csv"
SAMPLE_MAPPING = dict(score="score", label="outcome", groups=["race"], weight="weight")

# Window tests wait for the signal or state that means "done", never for a fixed time. The
# limit only catches a real hang: a busy machine makes a job slower, not wrong, and a
# 2-core machine with a load average of 6 still finishes the slowest window job well inside it.
HANG_MS = 180_000

try:  # GUI tests keep their settings, logs and autosaves out of the user's real folders
    from PySide6.QtCore import QStandardPaths

    QStandardPaths.setTestModeEnabled(True)
except ImportError:  # the numeric core is usable without Qt
    pass


def wait_until(qtbot, condition, timeout=HANG_MS):
    """Process events until ``condition()`` holds (a result shown, a file written)."""
    qtbot.waitUntil(condition, timeout=timeout)


def wait_idle(qtbot, window, timeout=HANG_MS):
    """Wait for the window's worker to finish every job, including jobs that a finished job's
    result starts: each wait is for the worker's ``finished`` signal, not for a time."""
    while window.worker.busy:
        # the signal reaches this (GUI) thread through the event loop, so it cannot slip
        # past between the check above and the connection made here
        with qtbot.waitSignal(window.worker.finished, timeout=timeout):
            pass


def open_and_wait(qtbot, window, path, timeout=HANG_MS):
    """Open a data file the way File ▸ Open does and wait until it is validated (the window's
    ``dataReady``) and every job it started is done."""
    with qtbot.waitSignal(window.dataReady, timeout=timeout):
        window.open_path(str(path))
    wait_idle(qtbot, window, timeout)


@pytest.fixture(scope="module")
def sample_frame():
    """The sample file as read by pandas (read-only: tests must copy before changing it)."""
    import pandas as pd

    return pd.read_csv(SAMPLE)


@pytest.fixture(scope="module")
def sample_data(sample_frame):
    """The sample prepared with its usual mapping, built once per module; pages only read it."""
    from fairdesk.schema import ColumnMapping
    from fairdesk.validation import prepare

    return prepare(sample_frame, ColumnMapping(**SAMPLE_MAPPING))


@pytest.fixture
def make_window(qtbot, tmp_path, monkeypatch):
    """Build main windows with their own settings file; errors are collected in
    ``window.errors`` as (message, details) instead of a modal dialog. At the end every
    window's jobs are cancelled and waited for, so no job outlives its test."""
    made = []

    def make(page_classes=None, settings_name="settings.ini", data=None, show=True):
        from PySide6.QtCore import QSettings

        from fairdesk.gui.main_window import MainWindow

        w = MainWindow(page_classes=page_classes,
                       settings=QSettings(str(tmp_path / settings_name), QSettings.IniFormat))
        w.errors = []
        monkeypatch.setattr(w, "show_error",
                            lambda message, details="": w.errors.append((message, details)))
        qtbot.addWidget(w)
        w.resize(1280, 800)
        if data is not None:
            w.state.set_data(data)
        if show:
            w.show()
            qtbot.waitExposed(w)
        made.append(w)
        return w

    yield make
    for w in made:
        w.worker.cancel_all()
    for w in made:
        assert w.worker.wait(HANG_MS), "a job was still running long after its test ended"


@pytest.fixture
def loaded_window(make_window, qtbot):
    """The full window with the sample opened through File ▸ Open and every job done."""
    w = make_window()
    open_and_wait(qtbot, w, SAMPLE)
    assert w.state.data is not None and w.state.data.n == 6000
    return w


def page_timers_idle(window) -> bool:
    """No page has a debounced computation waiting to start (pages coalesce changes with
    single-shot timers, then start a job)."""
    from PySide6.QtCore import QTimer

    return not any(t.isActive() and t.isSingleShot()
                   for page in window.pages for t in page.findChildren(QTimer))


def wait_settled(qtbot, window, timeout=HANG_MS):
    """Wait until no job runs and none is about to start: what a page shows is final."""
    wait_until(qtbot, lambda: not window.worker.busy and page_timers_idle(window), timeout)


SCREENS = ROOT / "artifacts" / "screens"


def grab_to(qtbot, window, name: str):
    """Save a screenshot of ``window`` as ``artifacts/screens/<name>`` once what it shows is
    final (no job running or about to start, events processed) — never after a fixed time."""
    from PySide6.QtWidgets import QApplication

    wait_settled(qtbot, window)
    QApplication.processEvents()
    SCREENS.mkdir(parents=True, exist_ok=True)
    img = window.grab()
    assert img.save(str(SCREENS / name))
    return img


def shoot_tabs(qtbot, window, page, shots, prefix: str) -> None:
    """One screenshot per (table tab, plot tab, name) of ``page``, each at the window's size."""
    for i, (table_tab, plot_tab, name) in enumerate(shots):
        page.table_tabs.setCurrentIndex(table_tab)
        page.plot_tabs.setCurrentIndex(plot_tab)
        img = grab_to(qtbot, window, f"{prefix}_{i + 1}_{name}.png")
        assert (img.width(), img.height()) == (window.width(), window.height())


def export_and_read(qtbot, window, path):
    """Export the window's workbook to ``path`` (in the worker, waited for) and return the
    workbook and the values of its About sheet."""
    import openpyxl

    with qtbot.waitSignal(window.worker.finished, timeout=HANG_MS):
        window.export_workbook(str(path))
    wb = openpyxl.load_workbook(path)
    about = [c.value for row in wb["About this workbook"].iter_rows() for c in row]
    return wb, about
