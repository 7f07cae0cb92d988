"""``python main.py households``: household aggregation policies, bin scores and protocols.

    python main.py households DATA --score COL --label COL --group COL --household COL
        [--flag COL] [--age COL] [--bins 20] [--split COL --reference-split VALUE]
        [--prebinned] [--cutoff 16] [--membership footnote5|any|all|majority]
        [--high-min-score 18 --high-age-below 16 --low-max-score 12 --low-age-at-least 7]
        [--no-tie-break] [--feature COL …] [--compare A B|others] [--out FILE.xlsx] [--json]

``--json`` prints ``{"policies": [{"policy", "score", "outcome", "auc": {GROUP, "overall"},
"xauc": {GROUP}, "fpr": {GROUP, "overall"}, …}], "edges": [...], …, "warnings": [...]}``
(see :mod:`fairdesk.engines.households` for the policy numbering and conventions).
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd

from ..cli import add_data_options, load_data, subcommand
from ..errors import FairDeskError
from ..options import real_number, whole_number


def attach_columns(table, data, columns) -> None:
    """Put ``columns`` of the loaded file into ``data.extras``, row-aligned with ``data``.

    ``prepare`` keeps the rows that passed validation and records their spreadsheet row
    numbers; with the default index those are the frame's positions plus 2 (the header is
    row 1), otherwise the index holds them.
    """
    frame = table.frame
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise FairDeskError(
            ", ".join(f"'{c}'" for c in missing) + " " + ("is" if len(missing) == 1 else "are")
            + " not a column of this file (its columns are: "
            + ", ".join(f"'{c}'" for c in list(frame.columns)[:20]) + "). Check the spelling.")
    idx = frame.index
    if isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1:
        pos = np.asarray(data.row_numbers, dtype=np.int64) - 2
    else:
        pos = idx.get_indexer(data.row_numbers)
        if not idx.is_unique or (pos < 0).any():
            raise FairDeskError("The rows of this sheet cannot be matched to the extra columns; "
                                "save it as a CSV file and try again.")
    for c in columns:
        if c not in data.extras:
            data.extras[c] = frame[c].to_numpy()[pos]


SPLIT_NAMES = re.compile(r"^(split|fold|partition|set|sample|subset|dataset)$")


def find_split_column(table, value) -> str:
    """The column holding split ``value`` when --split was not given: one named like a
    split (split, fold, partition, set, sample) that has the value."""
    from ..engines.households import split_text

    frame = table.frame
    named = [c for c in frame.columns
             if SPLIT_NAMES.match(re.sub(r"[^a-z0-9]+", "_", str(c).strip().lower()).strip("_"))]
    having = [c for c in named if (split_text(frame[c].to_numpy()) == str(value)).any()]
    if len(having) == 1:
        return having[0]
    if not named:
        raise FairDeskError(f"--reference-split '{value}': no column is named like a split "
                            "column; name it with --split COL.")
    if not having:
        raise FairDeskError(f"--reference-split '{value}': no row has this value in "
                            + ", ".join(f"'{c}'" for c in named)
                            + ". Check the value, or name the split column with --split COL.")
    raise FairDeskError(f"--reference-split '{value}': several columns hold it ("
                        + ", ".join(f"'{c}'" for c in having) + "); choose one with --split COL.")


@subcommand("households", "household aggregation policies, bin scores and protocols "
                          "(the Allegheny audit)")
def _households_parser(p):
    from ..engines.households import MEMBERSHIP

    add_data_options(p)
    p.add_argument("--flag", help="0/1 column marking flagged members (e.g. alleged victim)")
    p.add_argument("--age", help="age column, for the protocol rules")
    p.add_argument("--bins", type=whole_number(2, 1000), default=20, help="number of equal-share bins (default 20)")
    p.add_argument("--reference-split", metavar="VALUE",
                   help="split value whose rows define the bin edges (default: every row)")
    p.add_argument("--prebinned", action="store_true",
                   help="the score column already holds bin scores 1 … bins")
    p.add_argument("--cutoff", type=whole_number(1, 1000), default=None,
                   help="screened in when the bin score is at least this (default: 16 of 20 "
                        "bins, the bin at 80%% of the scale)")
    p.add_argument("--membership", choices=tuple(MEMBERSHIP), default="footnote5",
                   help="footnote5 (default, the audit's footnote 5): a household is in a group "
                        "when any member is, and is compared with the rest; any: the same, with "
                        "mixed households in each group (FairDesk's former rule); all; majority")
    p.add_argument("--high-min-score", type=real_number(), default=18)
    p.add_argument("--high-age-below", type=real_number(), default=16)
    p.add_argument("--low-max-score", type=real_number(), default=12)
    p.add_argument("--low-age-at-least", type=real_number(), default=7)
    p.add_argument("--no-tie-break", action="store_true",
                   help="rank by the communicated score only (default: ties broken by the "
                        "underlying probability)")
    p.add_argument("--feature", action="append", default=[],
                   help="binary attribute column for the feature disparity (repeatable)")
    p.add_argument("--compare", nargs=2, metavar=("GROUP_A", "GROUP_B"),
                   help="groups for the feature disparity; GROUP_B 'others' = everyone else")
    p.add_argument("--out", help="also write the workbook (.xlsx)")

    def run(args):
        from ..engines.households import HouseholdSettings, ProtocolRules, audit_households

        table, data = load_data(args)
        attach_columns(table, data, list(dict.fromkeys(
            c for c in (args.flag, args.age, *args.feature) if c)))
        notes = []
        if args.reference_split is not None and data.split is None:
            col = find_split_column(table, args.reference_split)
            attach_columns(table, data, [col])
            data.split = data.extras.pop(col)
            notes.append(f"The bin edges come from the rows with '{args.reference_split}' in "
                         f"column '{col}' (give --split COL to choose another column).")
        a = b = None
        if args.compare:
            a, b = args.compare
            b = None if b.lower() in ("others", "other", "rest") else b
        settings = HouseholdSettings(
            bins=args.bins, reference_split=args.reference_split, prebinned=args.prebinned,
            flag=args.flag, age=args.age, membership=args.membership, cutoff=args.cutoff,
            protocol=ProtocolRules(args.high_min_score, args.high_age_below, args.low_max_score,
                                   args.low_age_at_least),
            tie_break=not args.no_tie_break, features=tuple(args.feature),
            feature_group_a=a, feature_group_b=b)
        result = audit_households(data, settings)
        out = result.to_json()
        out["warnings"] = notes + [p.message for p in data.problems] + out["warnings"]
        if args.out:
            from ..reports.audit_report import write_decision_tables
            from ..reports.households_report import households_tables, settings_summary
            written = write_decision_tables(args.out, table.source, data, households_tables(
                result, score_decimals=data.score_decimals),
                                            {"Household policies": settings_summary(result)})
            if not args.json:
                print(f"wrote {written}")
        if args.json:
            print(json.dumps(out, indent=2, ensure_ascii=False))
            return 0
        print_text(result, out, args.data, data.score_decimals)
        return 0
    return run


def print_text(result, out: dict, source, score_decimals: int) -> None:
    """The policy table (and the feature disparity) as aligned text, read as in the window
    and the workbook: the same tables of :mod:`fairdesk.reports.households_report`."""
    from ..engines.households import MEMBERSHIP
    from ..present.formats import format_score
    from ..present.text import render_table
    from ..reports.households_report import features_table, policy_table, summary_lines

    print(f"FairDesk household policies for {source}")
    head, _missing, _other = summary_lines(result)
    print(f"{head} Households: {MEMBERSHIP[result.settings.membership]}.")
    if len(result.edges):
        print("edges: " + ", ".join(format_score(e, score_decimals) for e in result.edges))
    print()
    print(render_table(policy_table(result)))
    features = features_table(result.features, result.feature_groups)
    if features is not None:
        print()
        print(render_table(features))
    for w in out["warnings"]:
        if not w.startswith("Policy "):  # the policies not computed are the table's notes
            print(f"note: {w}")
