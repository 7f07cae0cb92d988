"""Reference objective values of the Oregon optimizer, recorded once.

Generated with the implementation at commit 40aabd4 (before the per-group-linear search of
issue 18 item 3); tests/test_threshold_correction.py checks that the current optimizer reaches
an objective at least as good on every (subsample, w, threshold). Do not regenerate with a
newer optimizer unless its objective values are lower everywhere (the point is to keep the
old values as the bar).

    .venv/bin/python tests/data/make_correction_reference.py
"""

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from fairdesk.engines.threshold_correction import (OREGON_RULES, draw_subsample,  # noqa: E402
                                                   group_agnostic_thresholds, solve_subsample,
                                                   subsample_mode, unit_codes)
from fairdesk.schema import ColumnMapping  # noqa: E402
from fairdesk.validation import prepare  # noqa: E402

WEIGHTS = tuple(np.round(np.linspace(0, 1, 21), 2).tolist())
CASES = [  # name, file, mapping, definition, subsample seeds
    ("adult", ROOT.parent / "shared" / "data" / "adult_scores.csv",
     dict(score="score", label="outcome", groups=["group"], id="person_id"), "ERB", [11, 12, 13]),
    ("sample", ROOT / "resources" / "sample" / "sample_scores.csv",
     dict(score="score", label="outcome", groups=["race", "sex"], id="household_id"), "ERB", [21, 22, 23]),
    ("sample", ROOT / "resources" / "sample" / "sample_scores.csv",
     dict(score="score", label="outcome", groups=["race", "sex"], id="household_id"), "PE", [24]),
]


def subsample(data, seed):
    mode = subsample_mode(data, "auto")
    rows = draw_subsample(data.n, unit_codes(data) if mode == "unit" else None, mode,
                          np.random.default_rng(seed))
    s, y, g, w = (data.oriented[rows].astype(float), data.label[rows].astype(float),
                  data.group[rows], data.weight[rows].astype(float))
    phi = group_agnostic_thresholds(s * data.sign, w, OREGON_RULES, data.sign)
    return s, y, g, w, phi


def main():
    out = {"weights": list(WEIGHTS), "commit": "40aabd4", "cases": []}
    for name, path, mapping, definition, seeds in CASES:
        data = prepare(pd.read_csv(path), ColumnMapping(**mapping))
        for seed in seeds:
            s, y, g, w, phi = subsample(data, seed)
            sol = solve_subsample(s, y, g, w, data.n_groups, phi, definition, WEIGHTS)
            out["cases"].append({"data": name, "mapping": mapping, "definition": definition, "seed": seed,
                                 "objective": sol.objective.tolist()})
            print(name, definition, seed, float(sol.objective.mean()))
    (Path(__file__).parent / "correction_reference.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
