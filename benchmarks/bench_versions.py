"""Version comparison benchmark (issue 20).

    python benchmarks/bench_versions.py [--rows 1000000] [--groups 4] [--repeat 3]

Prints the wall-clock time of ``paired_auc_difference`` (DeLong paired AUC difference per
group and for all groups) on two correlated score columns, unweighted and with fractional
weights, and of ``matched_threshold`` and ``tier_transitions`` on the same rows; the best of
``--repeat`` runs, with the machine's load average (1, 5, 15 minutes) before and after. No
target; no test asserts a time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fairdesk.engines.versions import (matched_threshold, paired_auc_difference,  # noqa: E402
                                       tier_transitions)


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def best_of(repeat: int, fn):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--groups", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    rng = np.random.default_rng(0)
    n = args.rows
    g = rng.integers(0, args.groups, n).astype(np.int32)
    y = (rng.random(n) < 0.35).astype(np.int8)
    z1 = rng.normal(size=n)
    z2 = 0.7 * z1 + np.sqrt(1 - 0.7 ** 2) * rng.normal(size=n)
    a = np.round(1 / (1 + np.exp(-(z1 + 0.9 * y))), 4)  # rounded: many ties, as real scores
    b = np.round(1 / (1 + np.exp(-(z2 + 1.1 * y))), 4)
    w = rng.random(n) * 2
    names = [f"Group {i + 1}" for i in range(args.groups)]

    before = load()
    t_auc, res = best_of(args.repeat, lambda: paired_auc_difference(a, b, y, g, names))
    t_auc_w, _ = best_of(args.repeat, lambda: paired_auc_difference(a, b, y, g, names, weight=w))
    t_match, _ = best_of(args.repeat, lambda: matched_threshold(a, b, 0.6))
    t_tiers, _ = best_of(args.repeat, lambda: tier_transitions(a, b, g, args.groups,
                                                               [0.3, 0.6], [0.3, 0.6]))
    after = load()

    print(f"Version comparison, {n:,} rows, {args.groups} groups, best of {args.repeat} "
          f"(cores: {os.cpu_count()}; {before} before, {after} after):")
    print(f"  paired_auc_difference             {t_auc:.3f} s")
    print(f"  paired_auc_difference, weighted   {t_auc_w:.3f} s")
    print(f"  matched_threshold                 {t_match:.3f} s")
    print(f"  tier_transitions (3 x 3 tiers)    {t_tiers:.3f} s")
    pooled = res[-1]
    print(f"  (all groups: AUC A {pooled.auc_a:.4f}, B {pooled.auc_b:.4f}, "
          f"difference {pooled.diff:+.4f} [{pooled.lo:+.4f}, {pooled.hi:+.4f}])")
    return {"rows": n, "groups": args.groups, "paired_auc_s": t_auc,
            "paired_auc_weighted_s": t_auc_w, "matched_threshold_s": t_match,
            "tier_transitions_s": t_tiers, "load": os.getloadavg()[0]}


if __name__ == "__main__":
    main()
