"""``make bench``: every benchmark, then one table of their headline figures.

    QT_QPA_PLATFORM=offscreen python benchmarks/summary.py [--large] [--quick]

The benchmarks that return their figures (start-up, Audit-page drag, the baselines side by
side: audit with and without AUC, the per-group sort, the curve-family search, score
transport against a numpy quantile map and recall balancing against a plain numpy top K)
run in this process; the older ones (audit, households, recall balancing, transport,
equalized odds, window open, threshold correction) run as they are, in their own process,
and their printed output is kept in the log above the table. The machine load (1-minute load
average) is noted before and after: on a loaded machine every figure is slower. ``--quick``
skips the older benchmarks.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

SEPARATE = ["bench_audit.py", "bench_households.py", "bench_recall_balance.py",
            "bench_transport.py", "bench_equalized_odds.py", "bench_gui_open.py",
            "bench_threshold_correction.py"]


def load() -> float:
    return os.getloadavg()[0]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--large", action="store_true", help="also 10,000,000-row baselines")
    ap.add_argument("--quick", action="store_true", help="skip the older, separate benchmarks")
    args = ap.parse_args(argv)
    start_load = load()
    rows = []  # (benchmark, figure, target, verdict)
    separate = []
    if not args.quick:
        for name in SEPARATE:
            print(f"\n=== {name} (load average {load():.2f})", flush=True)
            t0 = time.perf_counter()
            r = subprocess.run([sys.executable, str(HERE / name)], cwd=HERE.parent)
            separate.append((name, time.perf_counter() - t0, r.returncode))

    import bench_audit_drag
    import bench_baselines
    import bench_startup

    print(f"\n=== bench_startup.py (load average {load():.2f})", flush=True)
    st = bench_startup.main([])
    rows.append(("python main.py --help", f"{st['help']:.2f} s", "< 0.5 s", _verdict(st["help"] < 0.5)))
    rows.append(("window shown (process start)", f"{st['window']:.2f} s", "< 1.5 s quiet",
                 _verdict(st["window"] < 1.5, st["load"])))
    after_open = st["sample_idle"] - st["window"]
    rows.append(("sample opened, window idle", f"{after_open:.2f} s after the window shows "
                 f"({st['sample_idle']:.2f} s from the start)", "< 2 s quiet",
                 _verdict(after_open < 2, st["load"])))
    print(f"\n=== bench_audit_drag.py (load average {load():.2f})", flush=True)
    dr = bench_audit_drag.main([])
    rows.append((f"drag step, {dr['rows'] / 1e6:g}M rows, {dr['groups']} groups",
                 f"median {dr['median_ms']:.0f} ms (max {dr['max_ms']:.0f})", "< 50 ms loaded",
                 _verdict(dr["median_ms"] < 50)))
    rows.append(("  tables on release", f"{dr['release_ms']:.0f} ms", "-", "-"))
    print(f"\n=== bench_baselines.py (load average {load():.2f})", flush=True)
    for r in bench_baselines.main(["--large"] if args.large else []):
        a, b = r["labels"]
        fig = f"{a} {r['ours']:.3f} s, {b} {r['base']:.3f} s: {r['ratio']:.2f}×"
        if r["target"] is None:
            rows.append((r["name"], fig, "-", "-"))
        elif a == "old":  # a speed-up: old / new at least the target
            rows.append((r["name"], fig, f"≥ {r['target']:g}×, new < 0.5 s",
                         _verdict(r["ratio"] >= r["target"] and r["base"] < 0.5)))
        else:  # FairDesk within the target of the baseline
            rows.append((r["name"], fig, f"≤ {r['target']:g}×", _verdict(r["ratio"] <= r["target"])))
    import bench_over_time
    import bench_versions

    print(f"\n=== bench_over_time.py (load average {load():.2f})", flush=True)
    ot = bench_over_time.main([])
    rows.append((f"over time: {ot['rows'] / 1e6:g}M rows × 3 scores × {ot['periods']} periods",
                 f"{ot['audit']:.2f} s", "< 5 s", _verdict(ot["audit"] < 5)))
    print(f"\n=== bench_versions.py (load average {load():.2f})", flush=True)
    ve = bench_versions.main([])
    rows.append((f"paired AUC of two versions, {ve['rows'] / 1e6:g}M rows",
                 f"{ve['paired_auc_s']:.2f} s", "-", "-"))
    for name, secs, code in separate:
        rows.append((name, f"ran in {secs:.0f} s" + ("" if code == 0 else f", exit {code}"),
                     "see its output", "-"))
    end_load = load()
    print(f"\nSummary (load average {start_load:.2f} at the start, {end_load:.2f} at the end; "
          f"{os.cpu_count()} CPUs)")
    widths = [max(len(str(r[i])) for r in rows + [("benchmark", "figure", "target", "met")])
              for i in range(4)]
    for r in [("benchmark", "figure", "target", "met")] + rows:
        print("  " + "  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    return 0


def _verdict(ok: bool, at_load: float | None = None) -> str:
    if ok:
        return "yes"
    return "no" if at_load is None else f"no (load {at_load:.1f})"


if __name__ == "__main__":
    raise SystemExit(main())
