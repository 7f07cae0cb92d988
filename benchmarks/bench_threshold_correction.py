"""The Oregon optimizer's speed targets (issue 18 item 3), each printed with the load average.

    python benchmarks/bench_threshold_correction.py [--only sample,compas,adult] [--workers N]
                                                    [--subsamples 200] [--audit 200]

* sample: resources/sample (6,000 rows) by race × sex, 8 groups, modest settings
  (21 weights × 20 subsamples × 3 thresholds, 20 assessment subsamples): target < 30 s.
* compas: COMPAS by race × sex, 12 groups, the same modest settings: target < 60 s.
* adult: the Oregon study's full configuration on the Adult demonstration data, 101 weights
  × 200 subsamples × 3 thresholds (ERB), then 200 assessment subsamples: target < 120 s.
  Also prints how much lower the objective is than a Nelder–Mead search from Φ (the
  reference code's optimizer) on a few subsamples.

Wall-clock times depend on what else runs on the machine: each line shows os.getloadavg()
(1, 5, 15 minutes) before and after the run, and the CPU seconds used by this process and its
worker processes (about twice the wall time of an idle 2-core machine with two workers).
These are benchmarks only; no test asserts a time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fairdesk.engines.threshold_correction import (OREGON_RULES, CorrectionSettings,  # noqa: E402
                                                   group_agnostic_thresholds, objective_value,
                                                   run_correction, solve_subsample)
from fairdesk.jobs import Job  # noqa: E402
from fairdesk.schema import ColumnMapping  # noqa: E402
from fairdesk.validation import prepare  # noqa: E402

ADULT = ROOT.parent / "shared" / "data" / "adult_scores.csv"
COMPAS = ROOT.parent / "shared" / "data" / "compas_two_year.csv"
SAMPLE = ROOT / "resources" / "sample" / "sample_scores.csv"
MODEST = tuple(np.round(np.linspace(0, 1, 21), 2).tolist())


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the worker processes)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed(data, settings):
    before = load()
    c0 = cpu_seconds()
    t0 = time.perf_counter()
    result = run_correction(data, settings, job=Job())
    elapsed = time.perf_counter() - t0
    timed.cpu = cpu_seconds() - c0
    return result, elapsed, before, load()


def modest(name, path, mapping, target, workers):
    data = prepare(pd.read_csv(path), ColumnMapping(**mapping))
    settings = CorrectionSettings(weights=MODEST, subsamples=20, audit_subsamples=20, seed=1, workers=workers)
    result, elapsed, before, after = timed(data, settings)
    print(f"{name}: {data.n:,} rows, {data.n_groups} groups, 21 weights x 20 subsamples x 3 thresholds "
          f"+ 20 assessment: {elapsed:.1f} s (target < {target} s; {'met' if elapsed < target else 'MISSED'}); "
          f"CPU {timed.cpu:.1f} s in all processes; {before} before, {after} after")
    return elapsed


def nelder_mead_gap(data, n_sub=5, weights=(0.1, 0.3, 0.5), seed=7):
    rng = np.random.default_rng(seed)
    gains = []
    for _ in range(n_sub):
        rows = rng.integers(0, data.n, data.n)
        s, y, g, w = data.oriented[rows], data.label[rows], data.group[rows], data.weight[rows]
        phi = group_agnostic_thresholds(s, w, OREGON_RULES, 1.0)
        sol = solve_subsample(s, y, g, w, data.n_groups, phi, "ERB", weights)
        t = 1
        for wi, wv in enumerate(weights):
            lo = sol.theta[wi, 0]

            def f(th):
                if np.any(th <= lo) or np.any(th > phi[2]) or not th.min() <= phi[t] <= th.max():
                    return 10.0
                return objective_value(s, y, g, w, data.n_groups, phi, t, th, "ERB", wv)
            nm = f(minimize(f, np.full(data.n_groups, phi[t]), method="Nelder-Mead").x)
            ours = objective_value(s, y, g, w, data.n_groups, phi, t, sol.theta[wi, t], "ERB", wv)
            gains.append((nm, ours))
    return np.array(gains)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="sample,compas,adult")
    ap.add_argument("--subsamples", type=int, default=200)
    ap.add_argument("--audit", type=int, default=200)
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args()
    only = set(args.only.split(","))
    print(f"{os.cpu_count()} cores; workers {args.workers or 'one per core'}")
    if "sample" in only:
        modest("sample by race x sex", SAMPLE, dict(score="score", label="outcome", groups=["race", "sex"],
                                                     id="household_id"), 30, args.workers)
    if "compas" in only:
        modest("COMPAS by race x sex", COMPAS, dict(score="decile_score", label="two_year_recid",
                                                    groups=["race", "sex"], id="id"), 60, args.workers)
    if "adult" not in only:
        return
    data = prepare(pd.read_csv(ADULT), ColumnMapping(score="score", label="outcome", groups=["group"],
                                                     id="person_id"))
    settings = CorrectionSettings(subsamples=args.subsamples, audit_subsamples=args.audit, seed=1,
                                  workers=args.workers)
    result, elapsed, before, after = timed(data, settings)
    print(f"Adult data: {data.n:,} rows, {data.n_groups} groups, {result.mode} subsamples")
    print(f"full configuration: {len(settings.weights)} weights x {args.subsamples} subsamples x 3 thresholds "
          f"+ {args.audit} assessment subsamples: {elapsed:.1f} s (target < 120 s; "
          f"{'met' if elapsed < 120 else 'MISSED'}); CPU {timed.cpu:.1f} s in all processes; "
          f"{before} before, {after} after")
    for b in result.to_json()["best"]:
        print(f"  {b['threshold']}: best w {b['w']:g}, ERB {b['fairness_pre']['mean']:.3f} -> "
              f"{b['fairness_post']['mean']:.3f} (sd {b['fairness_post']['sd']:.3f}), changed {b['changed']:.1%}")
    gaps = nelder_mead_gap(data)
    nm, ours = gaps[:, 0], gaps[:, 1]
    print(f"objective vs Nelder-Mead from the group-agnostic threshold (mean threshold, {len(nm)} cases): "
          f"Nelder-Mead mean {nm.mean():.4f}, ours {ours.mean():.4f}; ours lower in "
          f"{int(np.sum(ours < nm - 1e-12))} cases, equal in {int(np.sum(np.abs(ours - nm) <= 1e-12))}, "
          f"higher in {int(np.sum(ours > nm + 1e-12))}")


if __name__ == "__main__":
    main()
