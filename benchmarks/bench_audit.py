"""Load a generated 1,000,000-row, 6-column CSV and run the full audit.

    python benchmarks/bench_audit.py [--rows 1000000]

Prints the load time, the validation time, the audit time (counts and rates at three
thresholds, nine fairness measures, AUC and the cross-AUC matrix), the time of one
threshold query on the prepared sums (what a dragged threshold line costs) and the peak
memory of the process. Targets on a 2-core machine: load < 5 s, audit < 1 s, < 1 GB.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fairdesk.audit import run_audit  # noqa: E402
from fairdesk.io.loading import load_table  # noqa: E402
from fairdesk.metrics.confusion import GroupScores  # noqa: E402
from fairdesk.metrics.rates import compute_rates  # noqa: E402
from fairdesk.schema import ColumnMapping  # noqa: E402
from fairdesk.validation import prepare  # noqa: E402


def make_csv(path: Path, rows: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    race = rng.choice(["Black", "White", "Hispanic", "Asian", "Other"], rows, p=[.3, .4, .2, .07, .03])
    score = rng.beta(2, 5, rows).round(6)
    pd.DataFrame({
        "person_id": np.arange(rows), "score": score,
        "outcome": (rng.random(rows) < score).astype(int), "race": race,
        "sex": rng.choice(["F", "M"], rows), "weight": rng.choice([1.0, 1.5, 2.0], rows),
    }).to_csv(path, index=False)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--make", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.make:
        make_csv(Path(args.make), args.rows)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.csv"
        # generate in a child process so that the peak memory below is the audit's own
        import subprocess
        subprocess.run([sys.executable, __file__, "--make", str(path), "--rows", str(args.rows)],
                       check=True)
        base = peak_mb()
        print(f"file: {args.rows:,} rows x 6 columns, {path.stat().st_size / 1e6:.1f} MB "
              f"(peak memory before loading {base:.0f} MB)")
        t0 = time.perf_counter()
        table = load_table(path)
        t1 = time.perf_counter()
        mapping = ColumnMapping(score="score", label="outcome", groups=["race", "sex"],
                                id="person_id", weight="weight")
        data = prepare(table.frame, mapping)
        t2 = time.perf_counter()
        result = run_audit(data, [0.2, 0.3, 0.5])
        t3 = time.perf_counter()
        gs = GroupScores.from_data(data)
        reps = 200
        q0 = time.perf_counter()
        for t in np.linspace(0.1, 0.6, reps):
            compute_rates(gs.counts(t))
        q1 = time.perf_counter()
        print(f"load:        {t1 - t0:7.3f} s   (target < 5 s)")
        print(f"validate:    {t2 - t1:7.3f} s")
        print(f"audit:       {t3 - t2:7.3f} s   (target < 1 s; {data.n_groups} groups, 3 thresholds, "
              f"AUC + {data.n_groups}x{data.n_groups} cross-AUC)")
        print(f"one threshold query: {1000 * (q1 - q0) / reps:6.3f} ms (counts + rates, all groups)")
        print(f"peak memory: {peak_mb():7.0f} MB (target < 1024 MB)")
        print(f"check: ERB at 0.3 = {result.fairness['ERB'][1]:.4f}")


if __name__ == "__main__":
    main()
