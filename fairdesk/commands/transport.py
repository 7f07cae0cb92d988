"""``python main.py transport``: score (and feature) transport onto a reference group,
conformal prediction sets and Berk-style confusion tables (Berk, Kuchibhotla & Tchetgen
Tchetgen 2021)."""

from __future__ import annotations

import json

from ..cli import add_data_options, format_value, invalid_policy, load_data, subcommand
from ..errors import FairDeskError
from ..options import SEED, name, real_number, whole_number


def _values(text: str | None, default):
    if text is None:
        return list(default)
    return [v.strip() for v in text.split(",") if v.strip()]


def _proportions(text: str | None):
    if text is None:
        return None
    try:
        p = tuple(float(x) for x in text.split(","))
    except ValueError:
        p = ()
    if len(p) != 3 or not all(0 <= x < float("inf") for x in p) or sum(p) <= 0:
        raise FairDeskError(f"--split-proportions '{text}': write three numbers train,calibration,"
                            "test, e.g. 0.4,0.3,0.3.")
    return p


@subcommand("transport", "optimal transport onto a reference group, conformal prediction sets "
                         "and Berk-style confusion tables")
def _transport_parser(p):
    add_data_options(p, label_required=False)
    p.add_argument("--reference", type=name, required=True, help="the reference (more privileged) group")
    p.add_argument("--threshold", default=None,
                   help="threshold for selection rates and confusion tables: a number, q0.8, "
                        "mean, … (default 0.5 for probabilities, else the mean)")
    p.add_argument("--alpha", type=real_number(0, 1, above=True), default=0.1, help="1 − coverage of the prediction sets")
    p.add_argument("--seed", type=SEED, default=0, help="seed of every random step")
    p.add_argument("--ties", choices=("together", "random"), default="together",
                   help="tied scores move together (default) or are broken in a seeded random "
                        "order (exact prediction parity for discrete scores)")
    p.add_argument("--fit-on", choices=("all", "train"), default="all",
                   help="fit the transport maps on all rows or on the split's training rows")
    p.add_argument("--probability", choices=("auto", "score", "logistic", "isotonic"),
                   default="auto", help="p̂(1): the score itself (auto when it is in [0, 1]) or a "
                                        "calibration fitted on the reference group's training split")
    p.add_argument("--split-train", help="split-column values meaning train (comma-separated)")
    p.add_argument("--split-calibration", help="split-column values meaning calibration")
    p.add_argument("--split-test", help="split-column values meaning test")
    p.add_argument("--split-proportions", help="without a split column: train,calibration,test "
                                               "shares of the seeded random split")
    p.add_argument("--cost-ratio", type=real_number(0, 1e6, above=True), default=8.0,
                   help="target cost ratio FP:FN on the reference group (default 8, i.e. 8 to 1)")
    p.add_argument("--feature", action="append", default=[],
                   help="numeric column to transport as a feature (repeat or separate with commas)")
    p.add_argument("--standardize", action="store_true",
                   help="divide each feature by its standard deviation before the cost "
                        "(default: raw features, as in the paper)")
    p.add_argument("--batch-size", type=whole_number(2, 100_000), default=2000)
    p.add_argument("--rounds", type=whole_number(1, 1000), default=3)
    p.add_argument("--neighbours", type=whole_number(1, 1000), default=1,
                   help="nearest matched rows averaged to extend the map to every row (default 1)")
    p.add_argument("--out", help="also write the workbook (.xlsx)")
    p.add_argument("--rows-out", help="write transported scores, prediction sets and features "
                                      "per row (.csv or .xlsx)")

    def run(args):
        from ..engines.conformal import DEFAULT_SPLIT_VALUES
        from ..engines.transport import (FeatureSettings, TransportSettings,
                                         run_feature_transport, run_transport)
        from ..jobs import Job
        from ..options import outside_range_notes, threshold_rule
        from ..validation import prepare

        table, data = load_data(args)
        features = [f.strip() for text in args.feature for f in text.split(",") if f.strip()]
        if features:  # the features are extras: validate again with them mapped
            mapping = data.mapping
            mapping.extras = list(dict.fromkeys(mapping.extras + features))
            data = prepare(table.frame, mapping,
                           invalid_scores=invalid_policy(args),
                           min_group_size=args.min_group_size, require_label=bool(args.label))
        if args.reference not in data.group_names:
            raise FairDeskError(f"--reference '{args.reference}' is not a group; the groups are "
                                + ", ".join(f"'{g}'" for g in data.group_names) + ".")
        threshold = None
        notes = []
        if args.threshold is not None:
            threshold = threshold_rule("--threshold", args.threshold).resolve(data)
            notes = outside_range_notes("--threshold", [threshold], data)
        settings = TransportSettings(
            reference=args.reference, threshold=threshold, ties=args.ties, fit_on=args.fit_on,
            alpha=args.alpha, probability=args.probability,
            split_values={"train": _values(args.split_train, DEFAULT_SPLIT_VALUES["train"]),
                          "calibration": _values(args.split_calibration,
                                                 DEFAULT_SPLIT_VALUES["calibration"]),
                          "test": _values(args.split_test, DEFAULT_SPLIT_VALUES["test"])},
            split_proportions=_proportions(args.split_proportions), seed=args.seed,
            target_cost_ratio=args.cost_ratio)
        from .erb import stderr_progress
        progress = None if args.json else stderr_progress
        result = run_transport(data, settings, job=Job(progress))
        fres = None
        if features:
            fsettings = FeatureSettings(features=tuple(features), reference=args.reference,
                                        batch_size=args.batch_size, rounds=args.rounds,
                                        neighbours=args.neighbours, standardize=args.standardize,
                                        seed=args.seed)
            fres = run_feature_transport(data, fsettings, job=Job(progress))
        out = result.to_json()
        out["warnings"] = notes + [p.message for p in data.problems] + out["warnings"]
        if fres is not None:
            out["features"] = fres.to_json()
            out["warnings"] += fres.warnings
        written = []
        if args.out:
            from ..reports.audit_report import write_decision_tables
            from ..reports.transport_report import feature_tables, transport_tables
            tables = transport_tables(result, data)
            recorded = {"Transport": settings.to_dict()}
            seeds = {"transport": settings.seed}
            if fres is not None:
                tables += feature_tables(fres, data)
                recorded["Feature transport"] = fres.settings.to_dict()
                seeds["feature transport"] = fres.settings.seed
            written.append(write_decision_tables(args.out, table.source, data, tables, recorded,
                                                 seeds))
        if args.rows_out:
            from ..reports.transport_report import write_transported_rows
            written.append(write_transported_rows(args.rows_out, table.source, data, result, fres))
        if args.json:
            print(json.dumps(out, indent=2, ensure_ascii=False))
            return 0
        from dataclasses import replace

        from ..present.formats import format_ratio
        from ..present.text import render_table
        from ..reports.transport_tables import conformal_table, rates_table, threshold_text

        def part(table, keys):  # some columns of the tables the window and workbook show
            return render_table(replace(table, columns=[table.column(k) for k in keys],
                                        notes=[]))

        print(f"Transport onto '{out['reference']}' at threshold "
              f"{threshold_text(result.threshold, data)} (ties {settings.ties}, seed "
              f"{settings.seed})\n")
        print(part(rates_table(result, data), ("group", "sel_before", "sel_after", "gap_after")))
        if out["conformal"] is not None:
            c = out["coverage"]
            sets = ("group", "scores", "s0", "s1", "s2", "s3", "cov")
            print("\n" + part(conformal_table(result), sets))
            print(f"Coverage on the test split of '{out['reference']}': "
                  f"{format_value(c['value'])} (95% CI {format_value(c['low'])} "
                  f"to {format_value(c['high'])}; "
                  f"{out['conformal_details']['calibration']})")
            cr = out["cost_ratio_threshold"]
            if cr and cr["threshold"] is not None:
                print(f"Cost ratio {cr['target']:g} to 1 on '{out['reference']}': threshold "
                      f"{threshold_text(cr['threshold'], data)} gives "
                      f"{format_ratio(cr['achieved'], 2)} to 1")
        if fres is not None:
            print(f"\nFeatures transported: {', '.join(features)} "
                  f"({sum(fres.batches.values())} assignment problems)")
        for path in written:
            print(f"wrote {path}")
        for w in out["warnings"]:
            print(f"note: {w}")
        return 0
    return run

