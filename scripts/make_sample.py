"""Generate the bundled synthetic sample (no real person's data).

    python scripts/make_sample.py [--rows 6000] [--seed 20261123] [--out resources/sample/sample_scores.csv]

People live in households; each has a race-like group (four made-up labels), a sex, an
age, a risk score (a probability from a logistic model with group-dependent base rates and
noise) and an observed outcome drawn from a slightly different "true" probability, so the
score is informative but imperfect and error rates differ by group.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

GROUPS = ["Group A", "Group B", "Group C", "Group D"]
GROUP_SHARES = [0.50, 0.30, 0.15, 0.05]
BASE_LOGIT = {"Group A": -1.2, "Group B": -0.6, "Group C": -0.9, "Group D": -1.5}


def make_sample(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sizes = []
    while sum(sizes) < rows:  # household sizes 1-6, mostly small
        sizes.append(int(rng.choice([1, 2, 3, 4, 5, 6], p=[.3, .25, .2, .13, .08, .04])))
    sizes[-1] -= sum(sizes) - rows
    hh = np.repeat(np.arange(1, len(sizes) + 1), sizes)
    hh_group = rng.choice(GROUPS, size=len(sizes), p=GROUP_SHARES)
    group = hh_group[hh - 1]
    # a few mixed households
    mixed = rng.random(rows) < 0.05
    group = np.where(mixed, rng.choice(GROUPS, size=rows, p=GROUP_SHARES), group)
    sex = rng.choice(["Female", "Male"], size=rows)
    age = rng.integers(0, 18, size=rows)
    x = rng.normal(size=rows)
    base = np.array([BASE_LOGIT[g] for g in group])
    true_logit = base + 1.3 * x + 0.25 * (sex == "Male") + rng.normal(0, 0.6, rows)
    outcome = (rng.random(rows) < 1 / (1 + np.exp(-true_logit))).astype(int)
    # the model sees x well but base rates only partly: miscalibrated by group
    score_logit = -1.0 + 0.6 * (base + 1.0) + 1.2 * x + 0.2 * (sex == "Male")
    score = np.round(1 / (1 + np.exp(-score_logit)), 4)
    weight = np.where(rng.random(rows) < 0.1, 2.0, 1.0)
    split = np.where(rng.random(rows) < 0.7, "train", "test")
    flagged = (rng.random(rows) < 0.4).astype(int)
    return pd.DataFrame({
        "person_id": np.arange(100001, 100001 + rows), "household_id": hh,
        "race": group, "sex": sex, "age": age, "alleged_victim": flagged,
        "score": score, "outcome": outcome, "weight": weight, "split": split,
    })


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=6000)
    ap.add_argument("--seed", type=int, default=20261123)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1]
                                         / "resources" / "sample" / "sample_scores.csv"))
    args = ap.parse_args()
    frame = make_sample(args.rows, args.seed)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out, index=False)
    print(f"wrote {len(frame):,} rows to {args.out}")


if __name__ == "__main__":
    main()
