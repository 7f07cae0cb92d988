"""``python main.py erb``: group-specific threshold correction (the Oregon optimizer)."""

from __future__ import annotations

import json
import sys

import numpy as np

from ..cli import add_data_options, load_data, subcommand
from ..errors import FairDeskError
from ..options import SEED, whole_number


def parse_weights(text: str) -> tuple:
    """'0:1:0.01' (start:stop:step, inclusive) or '0,0.1,0.5'."""
    try:
        if ":" in text:
            a, b, step = (float(x) for x in text.split(":"))
            if step <= 0:
                raise ValueError
            if not all(np.isfinite((a, b, step))) or b < a or (b - a) / step > 100_000:
                raise ValueError
            n = int(round((b - a) / step))
            weights = tuple(np.round(a + step * np.arange(n + 1), 10).tolist())
        else:
            weights = tuple(float(x) for x in text.split(",") if x.strip())
        if not weights or not all(np.isfinite(weights)):
            raise ValueError
        return weights
    except ValueError:
        raise FairDeskError(f"--weights '{text}': write start:stop:step (0:1:0.01, at most "
                            "100,000 steps) or a list (0,0.5,1) of finite numbers.")


def _definition(text: str) -> str:
    import argparse

    from ..metrics.fairness import DEFINITIONS

    if text.strip().upper() not in DEFINITIONS:
        raise argparse.ArgumentTypeError(f"'{text}' is not a fairness definition; choose one of "
                                         + ", ".join(DEFINITIONS) + ".")
    return text.strip().upper()


@subcommand("erb", "group-specific threshold correction (the Oregon penalized optimizer)")
def _erb_parser(p):
    add_data_options(p)
    p.add_argument("--definition", default="ERB", type=_definition,
                   help="ERB, CUAE, PP, SP, TE, PE, EO, OAE or CAL (default ERB)")
    p.add_argument("--weights", default="0:1:0.01", help="penalty weights, start:stop:step or a list")
    p.add_argument("--subsamples", type=whole_number(1, 1_000_000), default=200)
    p.add_argument("--audit-subsamples", type=whole_number(1, 1_000_000), default=200)
    p.add_argument("--subsampling", choices=("auto", "unit", "bootstrap"), default="auto",
                   help="one random row per id (unit) or bootstrap; auto = unit when ids repeat")
    p.add_argument("--threshold", action="append", default=[],
                   help="group-agnostic threshold rules (default: oregon_low, mean, oregon_high)")
    p.add_argument("--seed", type=SEED, default=0)
    p.add_argument("--workers", type=whole_number(1, 256), default=None, help="worker processes (default: one per core)")
    p.add_argument("--allow-degenerate", action="store_true",
                   help="let a group's threshold flag everyone or no one in the group (off by default; "
                        "such solutions are marked degenerate and never suggested)")
    p.add_argument("--out", help="also write the workbook (.xlsx)")

    def run(args):
        from ..engines.threshold_correction import OREGON_RULES, CorrectionSettings, run_correction
        from ..options import threshold_rules

        table, data = load_data(args)
        rules = tuple(r.to_dict() for r in threshold_rules("--threshold", args.threshold)) \
            or OREGON_RULES
        settings = CorrectionSettings(
            definition=args.definition.upper(), weights=parse_weights(args.weights),
            subsamples=args.subsamples, audit_subsamples=args.audit_subsamples, seed=args.seed,
            subsampling=args.subsampling, rules=rules, workers=args.workers,
            allow_degenerate=args.allow_degenerate)
        progress = None if args.json else stderr_progress
        from ..jobs import Job
        result = run_correction(data, settings, job=Job(progress))
        out = result.to_json()
        if args.threshold:  # a threshold outside the observed scores is noted
            from ..metrics.thresholds import ThresholdRule
            from ..options import outside_range_notes
            out["warnings"] = outside_range_notes(
                "--threshold", [ThresholdRule.from_dict(r).resolve(data) for r in rules], data) \
                + list(out.get("warnings", []))
        if args.out:
            from ..reports.audit_report import write_decision_tables
            from ..reports.correction_report import correction_tables
            written = write_decision_tables(args.out, table.source, data, correction_tables(result),
                                            {"Threshold correction": settings.to_dict()},
                                            {"threshold correction": settings.seed})
            if not args.json:
                print(f"wrote {written}")
        if args.json:
            print(json.dumps(out, indent=2, ensure_ascii=False))
            return 0
        from ..present.text import render_table
        from ..reports.correction_report import correction_tables

        print(f"Definition {out['definition']}; {out['subsamples']} {out['subsampling']} subsamples; "
              f"seed {out['seed']}")
        print()  # the workbook's first table, in the window's formats
        print(render_table(correction_tables(result, score_decimals=data.score_decimals,
                                             people_decimals=data.people_decimals)[0]))
        for w in out["warnings"]:
            print(f"warning: {w}")
        return 0
    return run


def stderr_progress(fraction: float, message: str) -> None:
    sys.stderr.write(f"\r{message} ({fraction:.0%})   ")
    if fraction >= 1:
        sys.stderr.write("\n")
    sys.stderr.flush()
