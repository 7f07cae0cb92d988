"""``python main.py periods``: fairness over time and across score versions — rates with
intervals per period, group and score column, changes that exceed their uncertainty, rules
chosen on one period and applied to the others, and the versions compared group by group."""

from __future__ import annotations

import json

from ..cli import add_data_options, add_reliability_options, subcommand
from ..errors import FairDeskError
from ..options import SEED


@subcommand("periods", "fairness over time and across score versions: rates, intervals and "
                       "changes per period, rules chosen on one period applied to the others")
def _periods_parser(p):
    add_data_options(p, several_scores=True)
    p.add_argument("--period", required=True, help="period column: dates (grouped by --bucket) "
                                                   "or ordered labels such as 2019 or wave 2")
    p.add_argument("--bucket", choices=("auto", "month", "quarter", "year", "label"),
                   default="auto", help="how dates are grouped into periods (auto: months over up "
                                        "to two years, quarters up to six, years beyond; label: "
                                        "the values as written)")
    p.add_argument("--threshold", action="append", default=[],
                   help="threshold of each --score in order (one for all, or one each): a "
                        "number, q0.8, mean, … (default 0.5 for probabilities, else the mean)")
    p.add_argument("--scenario", action="append", default=[], metavar="NAME=RULE",
                   help="a decision rule applied to every period: thresholds (NAME=0.5, "
                        "NAME=GROUP:0.4,GROUP:0.6) or a rule chosen on --choose-on "
                        "(NAME=equal-fpr, equal-tpr, equal-fnr, equal-selection, erb, eodds, "
                        "recall:K)")
    p.add_argument("--choose-on", metavar="PERIOD",
                   help="the period (or split value, e.g. train) the rules are chosen on "
                        "(default: all rows)")
    p.add_argument("--seed", type=SEED, default=0, help="seed of every random step (erb)")
    p.add_argument("--out", help="also write the workbook (.xlsx)")
    add_reliability_options(p)  # per period

    def run(args):
        from ..cli import load_data, reliability_from
        from ..engines.chosen_rules import choose_rule
        from ..engines.over_time import over_time
        from ..jobs import Job
        from ..reports.over_time_report import comparison_of_versions, over_time_tables, to_json
        from .erb import stderr_progress

        table, data = load_data(args)
        columns = [data.mapping.score] + list(data.mapping.versions)
        thresholds, notes = _thresholds(args, data, columns)
        reliability = reliability_from(args)
        scenarios, chosen_on = [], {}
        for text in args.scenario:
            if "=" not in text:
                raise FairDeskError(f"--scenario '{text}': write NAME=RULE, e.g. "
                                    "\"Equal FPR=equal-fpr\" or \"Strict=0.7\".")
            name, rule = (x.strip() for x in text.split("=", 1))
            if not name or not rule:
                raise FairDeskError(f"--scenario '{text}' needs a name and a rule.")
            if name in columns or name in chosen_on:
                raise FairDeskError(f"--scenario '{name}': the name is taken; give each "
                                    "scenario its own name, other than the score columns'.")
            s, where = choose_rule(data, name, rule, choose_on=args.choose_on,
                                   threshold=thresholds[data.mapping.score], seed=args.seed)
            scenarios.append(s)
            chosen_on[name] = where
        progress = None if args.json else stderr_progress
        result = over_time(data, thresholds, scenarios, chosen_on=chosen_on,
                           reliability=reliability, job=Job(progress))
        versions = comparison_of_versions(data, thresholds) if len(columns) > 1 else None
        out = to_json(result, data, versions)
        out["warnings"] = notes + [p.message for p in data.problems] + out["warnings"]
        tables = over_time_tables(result, data, versions)  # the workbook's and the text's
        written = []
        if args.out:
            from ..reports.audit_report import write_decision_tables

            recorded = {"Over time": {"thresholds": thresholds, "period": args.period,
                                      "bucket": args.bucket, "choose_on": args.choose_on,
                                      "scenarios": args.scenario, "seed": args.seed}}
            written.append(write_decision_tables(args.out, table.source, data, tables,
                                                 recorded, {"periods": args.seed}))
        if args.json:
            print(json.dumps(out, indent=2, ensure_ascii=False))
            return 0
        from ..present.text import render_tables

        print(render_tables(tables))  # the charts are the workbook's alone
        for f in result.flags:
            print(f"change: {f.text()}")
        for path in written:
            print(f"wrote {path}")
        for w in out["warnings"]:
            print(f"note: {w}")
        return 0
    return run


def _thresholds(args, data, columns) -> tuple[dict, list]:
    """Each score column's threshold in its own units, and notes on defaults."""
    from dataclasses import replace

    from ..audit import default_threshold
    from ..options import threshold_rules

    rules = threshold_rules("--threshold", args.threshold)
    if len(rules) not in (0, 1, len(columns)):
        raise FairDeskError(f"--threshold: give one threshold for every score or one each "
                            f"({len(columns)} scores: {', '.join(columns)}), not {len(rules)}.")
    out, notes = {}, []
    for i, column in enumerate(columns):
        view = data if column == data.mapping.score else replace(
            data, score=data.versions[column],
            mapping=replace(data.mapping, higher_is_positive=data.mapping.version_higher.get(
                column, True)))
        if not rules:
            t, note = default_threshold(view)
            notes.append(f"{column}: {note}")
        else:
            t = rules[0 if len(rules) == 1 else i].resolve(view)
        out[column] = float(t)
    return out, notes
