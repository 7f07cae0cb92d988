"""``python main.py eodds``: ROC regions and equalized odds, with fixed and preferential
randomisation (Hardt, Price & Srebro 2016; Small et al.).

    python main.py eodds DATA --score COL --label COL --group COL [--weight COL]
        [--constraint equalized_odds|equal_opportunity]
        [--cost-ratio FP:FN | --objective accuracy|distance] [--tolerance EPS] [--json]
        [--family linear|quadratic|cubic|quartic|fixed [--params FILE.json]]
        [--prefer-smooth [TOL]] [--no-curves] [--out WORKBOOK.xlsx]
        [--rows-out ROWS.csv [--draw-decisions --seed N]]

``--cost-ratio A:B``: a false positive costs A, a false negative B (Hardt et al.'s FICO case,
where "repaid" is the positive outcome, is 82:18). ``--params`` evaluates a given policy
({GROUP: {"t0", "t1", "p"}}, thresholds in the score's units, t0 = t1 for a single threshold)
instead of searching, and prints the ``curves`` entry of that family.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..cli import add_data_options, load_data, subcommand
from ..errors import FairDeskError
from ..options import SEED, real_number


def read_params(path: str) -> dict:
    import os
    import stat

    try:
        st = os.stat(path)  # judged before opening: a pipe or device would never end
        if not stat.S_ISREG(st.st_mode):
            raise FairDeskError(f"The parameters file {path} is not an ordinary file (a folder, "
                                "pipe or device); give the .json file itself.")
        if st.st_size > 10_000_000:
            raise FairDeskError(f"The parameters file {path} is {st.st_size / 1e6:,.0f} MB; a "
                                "policy's parameters take a few KB. Check the file name.")
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise FairDeskError(f"Cannot read the parameters file {path}: {err.strerror or err}.")
    except UnicodeDecodeError:
        raise FairDeskError(f"The parameters file {path} is not UTF-8 text; save it as JSON.")
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise FairDeskError(f"The parameters file {path} is not valid JSON (line {err.lineno}, "
                            f"column {err.colno}: {err.msg}). It must look like "
                            '{"GROUP": {"t0": 0.4, "t1": 0.6, "p": 0.5}, …}.')


@subcommand("eodds", "ROC regions and equalized odds with fixed and preferential randomisation")
def _eodds_parser(p):
    add_data_options(p)
    p.add_argument("--constraint", choices=("equalized_odds", "equal_opportunity"),
                   default="equalized_odds")
    goal = p.add_mutually_exclusive_group()
    goal.add_argument("--cost-ratio", metavar="FP:FN",
                      help="minimise expected cost: a false positive costs FP, a false negative FN "
                           "(82:18 for Hardt et al.'s FICO case, repaid = positive)")
    goal.add_argument("--objective", choices=("accuracy", "distance"),
                      help="minimise the error rate (default) or the distance to (FPR, TPR) = (0, 1)")
    p.add_argument("--tolerance", type=real_number(0, 1), default=0.0, metavar="EPS",
                   help="relaxed constraint: largest pairwise TPR (and FPR) gap allowed")
    p.add_argument("--family", choices=("fixed", "linear", "quadratic", "cubic", "quartic"),
                   help="with --params: the family to evaluate; otherwise the family whose "
                        "probabilities --rows-out writes (default cubic)")
    p.add_argument("--params", metavar="FILE.json",
                   help='evaluate {GROUP: {"t0", "t1", "p"}} instead of searching (needs --family)')
    p.add_argument("--prefer-smooth", nargs="?", const=0.005, type=real_number(0, 1), metavar="TOL",
                   help="among curves within TOL (default 0.005) of the target, the smallest "
                        "Lipschitz constant")
    p.add_argument("--no-curves", action="store_true", help="fixed randomisation only (faster)")
    p.add_argument("--out", help="also write the workbook (.xlsx)")
    p.add_argument("--rows-out", help="write each row's probability of a positive decision "
                                      "(CSV or XLSX)")
    p.add_argument("--draw-decisions", action="store_true",
                   help="with --rows-out: also draw realised 0/1 decisions (needs --seed)")
    p.add_argument("--seed", type=SEED, help="seed of the drawn decisions (recorded in the export)")

    def run(args):
        from ..engines.equalized_odds import (EOddsSettings, evaluate_family, parse_cost_ratio,
                                              parse_params, run_equalized_odds)
        from ..jobs import Job
        from .erb import stderr_progress

        if args.params and not args.family:
            raise FairDeskError("--params needs --family (which curve the parameters describe).")
        if args.draw_decisions and args.seed is None:
            raise FairDeskError("--draw-decisions needs --seed N, so that the decisions can be "
                                "drawn again and checked.")
        if args.draw_decisions and not args.rows_out:
            raise FairDeskError("--draw-decisions writes its decisions with --rows-out FILE.")
        table, data = load_data(args)
        params = parse_params(read_params(args.params), data) if args.params else None
        settings = EOddsSettings(constraint=args.constraint, tolerance=args.tolerance,
                                 family=args.family or "cubic")
        if args.cost_ratio:
            settings.objective = "cost"
            settings.cost_fp, settings.cost_fn = parse_cost_ratio(args.cost_ratio)
        else:
            settings.objective = args.objective or "accuracy"
        if args.prefer_smooth is not None:
            settings.prefer_smooth = True
            settings.curve_tolerance = args.prefer_smooth
        searching = not args.params and not args.no_curves
        if not searching:
            settings.families = ("fixed",) if not args.family else ("fixed", args.family)
        progress = None if args.json else stderr_progress
        result = run_equalized_odds(data, settings, job=Job(progress), curves=searching)
        if params is not None:
            result.evaluated = evaluate_family(data, result, args.family, params)
        out = result.to_json()
        out["warnings"] = [p.message for p in data.problems] + out["warnings"]
        written = []
        if args.out:
            from ..reports.audit_report import write_decision_tables
            from ..reports.eodds_report import eodds_tables
            written.append(write_decision_tables(
                args.out, table.source, data, eodds_tables(result, data),
                {"Equalized odds": settings.to_dict()}, {}))
        if args.rows_out:
            from ..reports.eodds_report import write_row_probabilities
            fam = args.family or ("cubic" if "cubic" in result.curves else "fixed")
            if args.params:
                fam = result.evaluated
            written.append(write_row_probabilities(
                args.rows_out, table.source, data, result, fam,
                seed=args.seed if args.draw_decisions else None))
        if args.json:
            print(json.dumps(out, indent=2, ensure_ascii=False))
            return 0
        _print_text(result, out, data, args.family)
        for w in written:
            print(f"wrote {w}")
        return 0
    return run


def _print_text(result, out: dict, data, family: str | None) -> None:
    """The comparison of every randomisation and each one's table per group, as aligned text
    read as in the window and the workbook (the tables of :mod:`fairdesk.reports.eodds_report`)."""
    from ..present.text import render_table
    from ..reports.eodds_report import families, group_table, summary_sentence, summary_table

    shown = result.evaluated or result.family(family or "cubic") or result.fixed
    head, rest = summary_sentence(result, shown, data.score_decimals)
    print(head + rest)
    print()
    print(render_table(summary_table(result, shown.family, data.score_decimals)))
    for fam in families(result):
        table = group_table(result, fam, data.score_decimals, data.people_decimals)
        if fam.evaluated:
            table.title += " (the parameters given)"
        print()
        print(render_table(table))
    for w in out["warnings"]:
        print(f"note: {w}")
    sys.stdout.flush()
