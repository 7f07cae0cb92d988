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

# Process start to the sample opened, validated, audited and every job finished (the window
# idle, polled every 10 ms); a job still running after 120 s fails the run.
SAMPLE_IDLE = """
import sys
from PySide6.QtCore import QSettings, QTimer
from fairdesk.gui.app import make_app
app = make_app([sys.argv[0]])
from fairdesk.gui.main_window import MainWindow
w = MainWindow(settings=QSettings(sys.argv[1], QSettings.IniFormat))
w.show()
done = []
def check():  # loaded, no job running and no page's debounce timer still pending
    pending = [t for p in w.pages for t in p.findChildren(QTimer)
               if t.isActive() and t.isSingleShot()]
    if w.state.data is not None and not w.worker.busy and not pending:
        done.append(1)
        app.quit()
poll = QTimer()
poll.timeout.connect(check)
poll.start(10)
QTimer.singleShot(0, lambda: w.open_path(sys.argv[2]))
QTimer.singleShot(120_000, app.quit)
app.exec()
if not done:
    raise SystemExit("the window was still busy after 120 s")
print("idle", flush=True)
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
    # as an installed copy starts: with compiled bytecode (the warm-up run writes it, outside
    # the source tree), even where the shell sets PYTHONDONTWRITEBYTECODE
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
           "PYTHONPYCACHEPREFIX": str(Path(tempfile.gettempdir()) / "fairdesk-bench-pycache")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        runs = {
            "help": [py, "main.py", "--help"],
            "eodds_help": [py, "main.py", "eodds", "--help"],
            "window": [py, "-c", SHOW, str(Path(tmp) / "s.ini")],
            "sample_idle": [py, "-c", SAMPLE_IDLE, str(Path(tmp) / "s2.ini"),
                            str(ROOT / "resources" / "sample" / "sample_scores.csv")],
        }
        for key, cmd in runs.items():
            timed_process(cmd, env)  # warm the file cache
            out[key] = statistics.median(timed_process(cmd, env) for _ in range(args.repeat))
    out["load"] = os.getloadavg()[0]
    print(f"Start-up (median of {args.repeat}; load average {out['load']:.2f}):")
    print(f"  python main.py --help        {out['help']:.2f} s (target < 0.5 s)")
    print(f"  python main.py eodds --help  {out['eodds_help']:.2f} s")
    print(f"  window shown                 {out['window']:.2f} s (target < 1.5 s on a quiet machine)")
    print(f"  sample opened, window idle   {out['sample_idle']:.2f} s from the process start "
          "(target < 2 s after opening, quiet)")
    return out


if __name__ == "__main__":
    main()
