"""Fairness over time at scale (issue 20 item 7): 1,000,000 rows × 3 score columns × 20
periods audited (rates, intervals, AUC and fairness per period and group, change flags).
Target: under 5 s. Also a rule chosen on one period and applied to all (equal FPR), and the
two-version comparison (paired AUC, matched thresholds, transitions).

    python benchmarks/bench_over_time.py [--rows 1000000] [--periods 20] [--groups 4]

Prints its figures with the machine load; no test asserts a time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fairdesk.dataset import AnalysisData  # noqa: E402
from fairdesk.engines.chosen_rules import choose_rule  # noqa: E402
from fairdesk.engines.over_time import over_time  # noqa: E402
from fairdesk.schema import ColumnMapping  # noqa: E402


def make_data(n: int, periods: int, groups: int, seed: int = 0) -> AnalysisData:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(np.int8)
    base = rng.normal(0, 1, n) + y
    versions = {f"v{k}": base + rng.normal(0, 0.5, n) for k in (2, 3)}
    mapping = ColumnMapping(score="v1", label="y", groups=["g"], period="p",
                            versions=list(versions))
    return AnalysisData(score=base, label=y, group=rng.integers(0, groups, n).astype(np.int32),
                        group_names=[f"G{i}" for i in range(groups)], weight=np.ones(n),
                        row_numbers=np.arange(2, n + 2), mapping=mapping,
                        period=rng.integers(0, periods, n).astype(np.int32),
                        period_names=[f"P{i + 1:02d}" for i in range(periods)],
                        versions=versions)


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--periods", type=int, default=20)
    ap.add_argument("--groups", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    data = make_data(args.rows, args.periods, args.groups)
    load = os.getloadavg()[0]
    thresholds = {"v1": 0.5, "v2": 0.5, "v3": 0.5}
    audit = best(lambda: over_time(data, thresholds), args.repeat)
    rule = best(lambda: over_time(data, {}, [choose_rule(data, "Equal FPR", "equal-fpr",
                                                         choose_on="P01", threshold=0.5)[0]]),
                args.repeat)
    from fairdesk.reports.over_time_report import comparison_of_versions
    versions = best(lambda: comparison_of_versions(data, thresholds), args.repeat)
    print(f"Fairness over time, {args.rows:,} rows, {args.groups} groups, {args.periods} periods "
          f"(best of {args.repeat}; load average {load:.2f}, {os.cpu_count()} CPUs):")
    print(f"  3 score columns audited over time   {audit:.2f} s (target < 5 s)")
    print(f"  a rule chosen on P01, applied to all {rule:.2f} s")
    print(f"  two versions compared               {versions:.2f} s")
    return {"audit": audit, "rule": rule, "versions": versions, "load": load,
            "rows": args.rows, "periods": args.periods}


if __name__ == "__main__":
    main()
