"""``python main.py recall``: recall balancing for a top-K program (Rodolfa et al.)."""

from __future__ import annotations

import json

from ..cli import add_data_options, load_data, subcommand
from ..errors import FairDeskError
from ..options import SEED


def _positive_number(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = float("nan")
    if not 0 < v < float("inf"):
        raise FairDeskError(f"--k '{text}': give the list size as a positive number of people, "
                            "e.g. 150.")
    return v


def _recall(text: str) -> float:
    t = text.strip()
    try:
        v = float(t[:-1]) / 100 if t.endswith("%") else float(t)
    except ValueError:
        v = float("nan")
    if not 0 < v <= 1:
        raise FairDeskError(f"--recall '{text}': give a recall target above 0 and at most 1 "
                            "(100%), such as 0.3 or 30%.")
    return v


@subcommand("recall", "recall balancing for a top-K program: equal or prevalence-proportional "
                      "recall, current or expanded list size")
def _recall_parser(p):
    add_data_options(p)
    p.add_argument("--k", help="list size K: how many people the program can take "
                              "(weights count as people)")
    p.add_argument("--recall", help="a recall target (0.3 or 30%%) instead of K")
    p.add_argument("--reference", help="reference group for recall proportional to prevalence "
                                       "(default: the largest group with positives)")
    p.add_argument("--seed", type=SEED, default=0, help="seed of the random order of tied scores")
    p.add_argument("--small-groups-set-target", action="store_true",
                   help="let a group below --min-group-size people set the expanded-scale target "
                        "(or be the reference group); by default it is not allowed, with a warning")
    p.add_argument("--out", help="also write the workbook (.xlsx)")
    p.add_argument("--ids-out", help="also write the people on each list (CSV)")

    def run(args):
        from ..engines.recall_balance import RecallSettings, run_recall

        if (args.k is None) == (args.recall is None):
            raise FairDeskError("Give the list size with --k (e.g. --k 150) or a recall target "
                                "with --recall (e.g. --recall 0.3), one of the two.")
        table, data = load_data(args)
        settings = RecallSettings(k=None if args.k is None else _positive_number(args.k),
                                  recall=None if args.recall is None else _recall(args.recall),
                                  reference=args.reference, seed=args.seed,
                                  min_group_size=args.min_group_size,
                                  small_groups_set_target=args.small_groups_set_target)
        result = run_recall(data, settings)
        out = result.to_json()
        out["warnings"] = [p.message for p in data.problems] + out["warnings"]
        written = []
        if args.out:
            from ..reports.audit_report import write_decision_tables
            from ..reports.recall_report import recall_tables, settings_text
            written.append(write_decision_tables(args.out, table.source, data,
                                                 recall_tables(result, data),
                                                 {"Recall balancing": settings_text(result)},
                                                 {"recall tie-break": settings.seed}))
        if args.ids_out:
            from ..reports.recall_report import write_selection_csv
            written.append(write_selection_csv(args.ids_out, result, data, table.source.path))
        if args.json:
            print(json.dumps(out, indent=2, ensure_ascii=False))
            return 0
        from ..present.text import render_tables
        from ..reports.recall_report import detail_table, scenario_table

        head = (f"K = {out['k']:,}" if settings.mode == "k"
                else f"recall target {settings.recall:.1%}")
        print(f"Recall balancing of {args.data}: {head}; reference group "
              f"'{out['reference']}'; seed {settings.seed}")
        print()  # the workbook's tables, in the window's formats
        print(render_tables([scenario_table(result),
                             detail_table(result, score_decimals=data.score_decimals)]))
        print()
        for note in out["notes"]:
            print(f"note: {note}")
        for s in out["scenarios"].values():
            for note in s["notes"]:
                print(f"note ({s['title']}): {note}")
        for w in out["warnings"]:
            print(f"warning: {w}")
        for path in written:
            print(f"wrote {path}")
        return 0
    return run
