"""Time from File ▸ Open to the first plot on the Audit page, with a 1,000,000-row file.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_gui_open.py [--rows 1000000]

Target: under 5 s. Also prints the time of a dragged-threshold update on the Audit page.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_audit import make_csv  # noqa: E402
from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def spin(ms=10):
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    app = QApplication([])  # noqa: F841
    from fairdesk.gui.main_window import MainWindow

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.csv"
        make_csv(path, args.rows)
        w = MainWindow(settings=QSettings(str(Path(tmp) / "s.ini"), QSettings.IniFormat))
        w.resize(1280, 800)
        w.show()
        spin(100)
        t0 = time.perf_counter()
        w.open_path(str(path))
        while w.state.data is None:
            spin()
        t_data = time.perf_counter()
        w.show_page("audit")
        page = w.page("audit")
        app.processEvents()
        w.grab()  # forces the page and its plots to paint
        t_plot = time.perf_counter()
        w.worker.wait(60000)
        spin(50)
        print(f"rows: {args.rows:,}")
        print(f"open -> data validated: {t_data - t0:.2f} s")
        print(f"open -> first plot painted on the Audit page: {t_plot - t0:.2f} s (target < 5 s)")
        line = getattr(page, "drag_line", None)
        if line is not None:
            times = []
            for v in (0.2, 0.25, 0.3, 0.35, 0.4):
                s = time.perf_counter()
                line.setValue(v)
                app.processEvents()
                times.append(time.perf_counter() - s)
            print(f"threshold drag update: median {1000 * sorted(times)[len(times) // 2]:.1f} ms")
        w.close()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
