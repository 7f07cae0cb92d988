"""Start-up times, each a fresh Python process as the analyst starts it.

    python benchmarks/bench_startup.py [--repeat 5]

1. ``python main.py --help``: targets under 0.5 s (no subcommand module is imported).
2. ``python main.py eodds --help``: one command's module only.
3. The window shown: from the process start to the main window's first event-loop turn after
   ``show()`` (offscreen; the same steps as ``run_app``). Target: under 1.5 s on a quiet
   machine.
Medians of ``--repeat`` runs; the machine load (1-minute load average) is printed with them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SHOW = """
import sys
from PySide6.QtCore import QSettings, QTimer
from fairdesk.gui.app import make_app
app = make_app([sys.argv[0]])
from fairdesk.gui.main_window import MainWindow
w = MainWindow(settings=QSettings(sys.argv[1], QSettings.IniFormat))
w.show()
QTimer.singleShot(0, app.quit)  # runs once the shown window's first events are processed
app.exec()
print("shown", flush=True)
"""


def timed_process(args, env=None) -> float:
    t0 = time.perf_counter()
    r = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    elapsed = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"{args} failed: {r.stderr[-2000:]}")
    return elapsed


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    py = sys.executable
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        runs = {
            "help": [py, "main.py", "--help"],
            "eodds_help": [py, "main.py", "eodds", "--help"],
            "window": [py, "-c", SHOW, str(Path(tmp) / "s.ini")],
        }
        for key, cmd in runs.items():
            timed_process(cmd, env)  # warm the file cache
            out[key] = statistics.median(timed_process(cmd, env) for _ in range(args.repeat))
    out["load"] = os.getloadavg()[0]
    print(f"Start-up (median of {args.repeat}; load average {out['load']:.2f}):")
    print(f"  python main.py --help        {out['help']:.2f} s (target < 0.5 s)")
    print(f"  python main.py eodds --help  {out['eodds_help']:.2f} s")
    print(f"  window shown                 {out['window']:.2f} s (target < 1.5 s on a quiet machine)")
    return out


if __name__ == "__main__":
    main()
