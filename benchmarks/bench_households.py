"""All six household policies on 1,000,000 people in 400,000 households.

    python benchmarks/bench_households.py [--people 1000000] [--households 400000] [--repeat 3]

Generates the people in memory (score, outcome, a four-level group, household id, a 0/1
flag, an age and a train/test split), validates them once with ``prepare`` and then times
``audit_households`` with every policy, a flag and an age column, edges from the "train"
split, four groups and "any member" household groups. Prints each run's time and the
best; the target is under 3 s on a 2-core machine. Also prints the time of each step
(sorting by household, bins, ranks, policies) from the job's progress messages.
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

from fairdesk.engines.households import HouseholdSettings, audit_households  # noqa: E402
from fairdesk.jobs import Job  # noqa: E402
from fairdesk.schema import ColumnMapping  # noqa: E402
from fairdesk.validation import prepare  # noqa: E402


def make_frame(people: int, households: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    # every household has at least one person; the rest are spread at random
    hh = np.concatenate([np.arange(households), rng.integers(0, households, people - households)])
    rng.shuffle(hh)
    base = rng.normal(size=households)[hh]
    race = np.array(["Black", "White", "Hispanic", "Other"])[
        rng.choice(4, households, p=[.35, .45, .15, .05])][hh]
    mixed = rng.random(people) < 0.05  # a few mixed households
    race = np.where(mixed, "White", race)
    logit = -1.2 + 0.9 * base + rng.normal(scale=0.8, size=people)
    score = (1 / (1 + np.exp(-logit))).round(6)
    return pd.DataFrame({
        "person_id": np.arange(people), "household_id": hh + 1_000_000, "race": race,
        "score": score, "outcome": (rng.random(people) < score).astype(np.int8),
        "age": rng.integers(0, 18, people), "alleged_victim": (rng.random(people) < 0.4).astype(np.int8),
        "split": np.where(rng.random(people) < 0.7, "train", "test"),
    })


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=1_000_000)
    ap.add_argument("--households", type=int, default=400_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    t0 = time.perf_counter()
    frame = make_frame(args.people, args.households)
    t1 = time.perf_counter()
    mapping = ColumnMapping(score="score", label="outcome", groups=["race"], id="person_id",
                            household="household_id", split="split",
                            extras=["age", "alleged_victim"])
    data = prepare(frame, mapping)
    t2 = time.perf_counter()
    print(f"{data.n:,} people; generated in {t1 - t0:.2f} s, validated in {t2 - t1:.2f} s")
    settings = HouseholdSettings(flag="alleged_victim", age="age", reference_split="train")

    steps = []
    last = [0.0, ""]

    def on_progress(fraction, message):
        now = time.perf_counter()
        if last[1]:
            steps.append((last[1], now - last[0]))
        last[0], last[1] = now, message

    times = []
    for i in range(args.repeat):
        steps.clear()
        last[0], last[1] = time.perf_counter(), "start"
        t = time.perf_counter()
        result = audit_households(data, settings, job=Job(on_progress))
        times.append(time.perf_counter() - t)
        print(f"run {i + 1}: all six policies audited in {times[-1]:.2f} s")
    print(f"best of {args.repeat}: {min(times):.2f} s for {data.n:,} people in "
          f"{result.n_households:,} households (target < 3 s)")
    print("steps of the last run: " + "; ".join(f"{m} {s:.3f} s" for m, s in steps))
    for p in result.policies:
        print(f"  policy {p.number} ({p.score}, {p.outcome}): AUC {p.auc_overall:.4f}, "
              f"FPR {p.fpr_overall:.4f} over {p.n_units:,} {p.unit_word}")
    print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
