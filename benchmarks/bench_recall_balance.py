"""Recall balancing on 1,500,000 rows (the size of the LA City Attorney data), 5 groups.

    python benchmarks/bench_recall_balance.py [--rows 1500000] [--k 150] [--repeat 3]

Prints, for each repeat: the time of the whole run (ranking with seeded ties, all five
scenarios of the paper's Figure 4, precision@k and recall@k curves), of the ranking alone,
and of the five scenarios on a prepared ranking (what a new K or reference group costs on
the page); then the same with a frequency weight, with K = 50,000, and with a recall target.
Target: all five scenarios in under 2 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fairdesk.engines.recall_balance import RankedGroups, RecallSettings, run_recall  # noqa: E402
from fairdesk.schema import ColumnMapping  # noqa: E402
from fairdesk.validation import prepare  # noqa: E402


def make_data(rows: int, weighted: bool, seed: int = 1):
    rng = np.random.default_rng(seed)
    race = rng.choice(["Black", "White", "Hispanic", "Asian", "Other"], rows,
                      p=[.3, .4, .2, .07, .03])
    shift = pd.Series(race).map({"Black": .04, "White": 0, "Hispanic": .02, "Asian": -.02,
                                 "Other": 0}).to_numpy()
    score = np.clip(rng.beta(2, 5, rows) + shift, 0, 1).round(4)  # many ties, as real scores
    frame = pd.DataFrame({"score": score, "outcome": (rng.random(rows) < score).astype(int),
                          "race": race})
    mapping = ColumnMapping(score="score", label="outcome", groups=["race"])
    if weighted:
        frame["weight"] = rng.choice([1.0, 1.5, 2.0], rows)
        mapping.weight = "weight"
    return prepare(frame, mapping)


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_500_000)
    ap.add_argument("--k", type=float, default=150)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"recall balancing: {args.rows:,} rows, 5 groups, K = {args.k:,.0f}")
    data, t = timed(lambda: make_data(args.rows, False))
    print(f"  data generated and validated in {t:.2f} s")
    for i in range(args.repeat):
        res, t_all = timed(lambda: run_recall(data, RecallSettings(k=args.k, seed=i)))
        _, t_rank = timed(lambda: RankedGroups.from_data(data, i))
        _, t_scen = timed(lambda: run_recall(data, RecallSettings(k=args.k, seed=i, reference="White"),
                                             ranked=res.ranked))
        print(f"  run {i + 1}: all five scenarios + curves {t_all:.2f} s "
              f"(ranking {t_rank:.2f} s; scenarios on a prepared ranking {1000 * t_scen:.0f} ms)")
    print("  " + ", ".join(f"{s.title} {s.size:,.0f} (precision {s.precision_all:.3f})"
                           for s in res.scenarios.values()))
    res, t = timed(lambda: run_recall(data, RecallSettings(k=50_000)))
    print(f"  K = 50,000: {t:.2f} s; Expanded – Equal size {res.scenarios['expanded_equal'].size:,.0f}")
    res, t = timed(lambda: run_recall(data, RecallSettings(k=None, recall=0.3)))
    print(f"  recall target 30%: {t:.2f} s; equal list size {res.scenarios['recall_equal'].size:,.0f}")
    del data
    wdata = make_data(args.rows, True)
    res, t = timed(lambda: run_recall(wdata, RecallSettings(k=args.k)))
    print(f"  weighted (1, 1.5, 2): {t:.2f} s; Current – Equal size "
          f"{res.scenarios['current_equal'].size:,.1f}")
    print(f"  peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()
