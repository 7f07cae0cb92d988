"""Dragging the threshold on the Audit page: 1,000,000 rows in 12 groups.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_audit_drag.py [--rows 1000000] [--groups 12]

One drag step is measured from the line's move to the end of the repaint that shows it: the
coalesced frame update (the audit at the line, markers, lines) and the paint of the window.
The tables are filled once, when the line is released (timed separately). Target: median
under 50 ms on a loaded machine. The machine load (1-minute load average) is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from fairdesk.dataset import AnalysisData  # noqa: E402
from fairdesk.schema import ColumnMapping  # noqa: E402


def rows(n: int, groups: int, seed: int = 0) -> AnalysisData:
    rng = np.random.default_rng(seed)
    g = rng.integers(0, groups, n).astype(np.int32)
    y = (rng.random(n) < 0.25 + 0.02 * g).astype(np.int8)
    s = np.clip(rng.normal(0.35 + 0.25 * y + 0.01 * g, 0.15), 0, 1)
    return AnalysisData(score=s, label=y, group=g, group_names=[f"Group {i + 1}" for i in range(groups)],
                        weight=np.ones(n), row_numbers=np.arange(n, dtype=np.int64) + 2,
                        mapping=ColumnMapping(score="s", label="y", groups=["g"]), n_input_rows=n)


def wait_for(signal, limit_ms=600_000):
    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(limit_ms, loop.quit)
    loop.exec()
    signal.disconnect(loop.quit)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--groups", type=int, default=12)
    ap.add_argument("--steps", type=int, default=30)
    args = ap.parse_args(argv)
    app = QApplication.instance() or QApplication([])
    import tempfile

    from fairdesk.gui.main_window import MainWindow
    from fairdesk.gui.pages.audit_page import AuditPage

    with tempfile.TemporaryDirectory() as tmp:
        w = MainWindow(page_classes=[AuditPage],
                       settings=QSettings(str(Path(tmp) / "s.ini"), QSettings.IniFormat))
        w.resize(1280, 800)
        w.show()
        data = rows(args.rows, args.groups)
        w.state.set_data(data)
        page = w.page("audit")
        while w.worker.busy:  # AUC and cross-AUC in the worker
            wait_for(w.worker.finished)
        app.processEvents()
        line = page.drag_line
        steps = []
        for v in np.linspace(0.3, 0.6, args.steps):
            t0 = time.perf_counter()
            line.setValue(float(v))  # what a mouse move does
            wait_for(page.dragUpdated)
            app.processEvents()  # the repaint
            steps.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        line.sigPositionChangeFinished.emit(line)  # release: tables and the other pages
        app.processEvents()
        release = time.perf_counter() - t0
        w.close()
    load = os.getloadavg()[0]
    out = {"rows": args.rows, "groups": args.groups, "median_ms": 1000 * statistics.median(steps),
           "max_ms": 1000 * max(steps), "release_ms": 1000 * release, "load": load}
    print(f"Audit page drag, {args.rows:,} rows, {args.groups} groups (load average {load:.2f}):")
    print(f"  drag step (move -> markers repainted): median {out['median_ms']:.1f} ms, "
          f"max {out['max_ms']:.1f} ms over {len(steps)} steps (target < 50 ms)")
    print(f"  release (tables and state): {out['release_ms']:.1f} ms")
    return out


if __name__ == "__main__":
    main()
