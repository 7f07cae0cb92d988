"""Command line: ``python main.py audit DATA --score COL --label COL --group COL …``.

Errors go to stderr as a plain message with exit code 2, never a traceback. Every
subcommand shares the data options (file, sheet, column mapping, label mapping).
"""

from __future__ import annotations

import argparse
import json
import sys

from . import __version__
from .errors import FairDeskError, ValidationError
from .options import MAX_COUNT, name as _name, whole_number

SUBCOMMANDS: dict = {}  # name -> (help text, setup(parser) returning run(args))

# The engine subcommands live in fairdesk/commands/<name>.py and register themselves when
# imported; a command imports its module only when it runs, so that listing them (--help) or
# running one does not import pandas and every engine. Their help texts are repeated here for
# the list; tests/test_cli.py checks that this table is what the modules register.
LAZY_COMMANDS = {
    "eodds": "ROC regions and equalized odds with fixed and preferential randomisation",
    "erb": "group-specific threshold correction (the Oregon penalized optimizer)",
    "households": "household aggregation policies, bin scores and protocols (the Allegheny "
                  "audit)",
    "recall": "recall balancing for a top-K program: equal or prevalence-proportional recall, "
              "current or expanded list size",
    "periods": "fairness over time and across score versions: rates, intervals and changes "
               "per period, rules chosen on one period applied to the others",
    "report": "the meeting workbook (Summary, Comparison, one sheet per scenario)",
    "transport": "optimal transport onto a reference group, conformal prediction sets and "
                 "Berk-style confusion tables",
}


def subcommand(name: str, help_text: str):
    """Register a subcommand: ``func(parser)`` adds its options and returns its runner."""
    def deco(func):
        SUBCOMMANDS[name] = (help_text, func)
        return func
    return deco


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse exits 2 too; keep its message short and plain
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: {message}\n")
        raise SystemExit(2)


def add_data_options(p: argparse.ArgumentParser, *, label_required: bool = True,
                     score_required: bool = True, with_json: bool = True,
                     data_help: str = "CSV/TSV/TXT, XLSX/XLSM or ODS file",
                     several_scores: bool = False) -> None:
    p.add_argument("data", help=data_help)
    p.add_argument("--sheet", type=_name,
                   help="sheet name, or a 0-based position when no sheet has that name "
                        "(spreadsheets; default: the active sheet if visible, else the first "
                        "visible one)")
    p.add_argument("--decimal", choices=(".", ","),
                   help="the decimal mark, for columns whose numbers read two ways (1.250)")
    if several_scores:
        p.add_argument("--score", type=_name, required=score_required, action="append",
                       help="score column; repeat for other versions of the model on the same "
                            "rows (the first is the score, the others its versions)")
        p.add_argument("--lower-is-riskier-for", type=_name, action="append", default=[],
                       metavar="SCORE", help="this score column: a lower score means more "
                                             "likely positive (repeatable)")
    else:
        p.add_argument("--score", type=_name, required=score_required, help="score column")
    p.add_argument("--label", type=_name, required=label_required, help="outcome column")
    p.add_argument("--group", type=_name, action="append", default=[],
                   help="protected-group column; repeat for their Cartesian product")
    p.add_argument("--positive", type=_name, help="label value meaning the positive outcome")
    p.add_argument("--weight", type=_name, help="frequency-weight column")
    p.add_argument("--id", type=_name, dest="id_col", help="person/unit id column")
    p.add_argument("--household", type=_name, help="household id column")
    p.add_argument("--split", type=_name, help="split column")
    p.add_argument("--lower-is-riskier", action="store_true",
                   help="a lower score means more likely positive")
    invalid = p.add_mutually_exclusive_group()
    invalid.add_argument("--refuse-invalid", action="store_true",
                         help="stop on any missing, non-numeric or infinite score or outcome")
    invalid.add_argument("--exclude-invalid", action="store_true",
                         help="leave out rows with a missing, non-numeric or infinite score or "
                              "outcome, however many (default: leave out the odd bad cell, stop "
                              "when they are over 1%% of rows, remove a group or are not a "
                              "random share)")
    p.add_argument("--merge", action="append", default=[], metavar="GROUP=INTO",
                   help="merge group GROUP into group INTO (repeatable)")
    p.add_argument("--min-group-size", type=whole_number(0, MAX_COUNT), default=30,
                   help="rows a group needs for its rates to be reported as reliable (30)")
    if with_json:
        p.add_argument("--json", action="store_true", help="print one JSON object")


def add_fairness_options(p: argparse.ArgumentParser, default_resamples: int = 200) -> None:
    """Which groups the fairness measures compare, and the bootstrap behind their intervals."""
    add_reliability_options(p)
    p.add_argument("--bootstrap", type=int, default=default_resamples, metavar="B",
                   help=f"bootstrap resamples for the intervals of the fairness measures "
                        f"({default_resamples}; 0 = none)")
    p.add_argument("--seed", type=int, default=12345, help="bootstrap seed (12345)")


def add_reliability_options(p: argparse.ArgumentParser) -> None:
    """Which groups the fairness measures compare."""
    p.add_argument("--all-groups", action="store_true",
                   help="compare every group in the fairness measures (default: only groups with "
                        "at least --min-group-size rows and --min-denominator people in each "
                        "rate's denominator)")
    p.add_argument("--min-denominator", type=float, default=10,
                   help="people needed in a rate's denominator for a group to be compared (10)")


def reliability_from(args):
    from .metrics.fairness import Reliability
    return Reliability(min_group_size=args.min_group_size, min_denominator=args.min_denominator,
                       all_groups=bool(args.all_groups))


def load_data(args):
    """Load and validate the file named on the command line; returns (table, data)."""
    from .io.loading import load_table
    from .schema import ColumnMapping
    from .validation import prepare

    from .io.memory import check_fits
    check_fits(args.data)
    # A sheet is matched by name first, by position only when no sheet has that name.
    table = load_table(args.data, sheet=args.sheet, decimal=getattr(args, "decimal", None))
    _check_against_file(args, table)
    merges = {}
    for m in args.merge:
        if "=" not in m:
            raise FairDeskError(f"--merge '{m}': write it as GROUP=INTO.")
        a, b = m.split("=", 1)
        merges[a] = b
    positive = args.positive
    if positive is not None:
        positive = _typed(positive)
    scores = args.score if isinstance(args.score, list) else [args.score]
    lower = set(getattr(args, "lower_is_riskier_for", []) or [])
    unknown = sorted(lower - set(scores))
    if unknown:
        raise FairDeskError(f"--lower-is-riskier-for '{unknown[0]}' is not one of the --score "
                            "columns: " + ", ".join(f"'{s}'" for s in scores) + ".")
    mapping = ColumnMapping(score=scores[0], label=args.label, groups=list(args.group),
                            id=args.id_col, household=args.household, weight=args.weight,
                            split=args.split, positive_label=positive,
                            higher_is_positive=not (args.lower_is_riskier or scores[0] in lower),
                            group_merges=merges, period=getattr(args, "period", None),
                            period_bucket=getattr(args, "bucket", None) or "auto",
                            versions=list(dict.fromkeys(scores[1:])),
                            version_higher={s: not (args.lower_is_riskier or s in lower)
                                            for s in scores[1:]})
    data = prepare(table.frame, mapping,
                   invalid_scores=invalid_policy(args),
                   min_group_size=args.min_group_size,
                   require_label=bool(args.label))
    return table, data


def invalid_policy(args) -> str:
    """What to do with rows whose score or outcome is unusable (see validation.prepare)."""
    if getattr(args, "refuse_invalid", False):
        return "refuse"
    return "exclude" if getattr(args, "exclude_invalid", False) else "auto"


def _check_against_file(args, table) -> None:
    """Options that only make sense for some files, judged once the file is read."""
    if args.sheet is not None and table.source.format == "csv":
        raise FairDeskError(f"--sheet '{args.sheet}': '{args.data}' is a text (CSV) file, which "
                            "has no sheets. Leave --sheet out for a CSV file.")
    n = len(table.frame)
    if args.min_group_size > max(n, 30):  # the default (30) is fine for a small file too
        raise FairDeskError(f"--min-group-size {args.min_group_size:,} is more than the "
                            f"{n:,} rows in '{args.data}', so no group could ever be large "
                            "enough. Give a smaller size (the default is 30).")


def _typed(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_thresholds(values: list[str], data) -> tuple[list[float], list[str]]:
    """--threshold values (repeatable, comma-separated, or rules such as 'mean')."""
    from .audit import default_threshold
    from .options import outside_range_notes, threshold_rules

    rules = threshold_rules("--threshold", values)
    if not rules:
        t, note = default_threshold(data)
        return [t], [note]
    thresholds = [rule.resolve(data) for rule in rules]
    return thresholds, outside_range_notes("--threshold", thresholds, data)


def format_value(x, pct=True) -> str:
    """A rate (44.6 %) or a ratio/AUC (0.812), as every surface writes it."""
    from .present.formats import format_value as present

    return present(x, "rate" if pct else "ratio")


@subcommand("audit", "per-group error rates, fairness measures, AUC and cross-AUC")
def _audit_parser(p):
    add_data_options(p)
    p.add_argument("--threshold", action="append", default=[],
                   help="threshold(s): a number, q0.8, mean, oregon_low, oregon_high, top150, "
                        "ventile16; repeat or separate with commas for tiers")
    add_fairness_options(p, default_resamples=200)

    def run(args):
        from .audit import run_audit
        _, data = load_data(args)
        thresholds, notes = parse_thresholds(args.threshold, data)
        rule = reliability_from(args)
        result = run_audit(data, thresholds, reliability=rule)
        if args.bootstrap:
            from .bootstrap import bootstrap_audit
            result.intervals = bootstrap_audit(data, thresholds, resamples=args.bootstrap,
                                               seed=args.seed, reliability=rule)
        out = result.to_json()
        out["warnings"] = notes + [p.message for p in data.problems] + out["warnings"]
        if args.json:
            print(json.dumps(out, indent=2, ensure_ascii=False))
            return 0
        from .present.text import render_tables
        from .reports.audit_report import audit_tables

        print(f"FairDesk {__version__} audit of {args.data}")
        print(f"Rows used: {out['n']:,}; excluded: {out['excluded']:,}; "
              f"threshold(s): {', '.join(f'{t:g}' for t in thresholds)}; fairness measures "
              f"compare {rule.describe()}")
        # the same tables, in the same formats, as the window and the workbook
        print()
        print(render_tables(audit_tables(result, data)))
        print()
        for w in out["warnings"]:
            print(f"note: {w}")
        return 0
    return run


@subcommand("export", "write the audit's Excel decision tables headless")
def _export_parser(p):
    add_data_options(p)
    p.add_argument("--threshold", action="append", default=[],
                   help="threshold(s), as for audit")
    p.add_argument("--reference", help="reference group for differences and ratios")
    add_fairness_options(p, default_resamples=200)
    p.add_argument("--rows-out", help="also write row-level decisions (CSV or XLSX)")
    p.add_argument("--out", required=True, help="workbook to write (.xlsx)")

    def run(args):
        from .audit import run_audit
        from .bootstrap import bootstrap_audit
        from .reports.audit_report import audit_tables, write_decision_tables, write_row_decisions

        table, data = load_data(args)
        thresholds, notes = parse_thresholds(args.threshold, data)
        rule = reliability_from(args)
        result = run_audit(data, thresholds, reliability=rule)
        reference = 0
        if args.reference is not None:
            if args.reference not in data.group_names:
                raise FairDeskError(f"--reference '{args.reference}' is not a group; the groups are "
                                    + ", ".join(f"'{g}'" for g in data.group_names) + ".")
            reference = data.group_names.index(args.reference)
        boot = None
        seeds = {}
        if args.bootstrap:
            boot = bootstrap_audit(data, thresholds, resamples=args.bootstrap, seed=args.seed,
                                   reliability=rule)
            result.intervals = boot
            seeds["bootstrap"] = args.seed
        settings = {"Thresholds": ", ".join(f"{t:g}" for t in thresholds),
                    "Threshold rules": ", ".join(args.threshold) or notes[0] if notes else
                    ", ".join(args.threshold),
                    "Reference group": data.group_names[reference],
                    "Bootstrap resamples": args.bootstrap or "none",
                    "Invalid scores": "refused" if args.refuse_invalid else "excluded and listed",
                    "Minimum group size": args.min_group_size,
                    "Groups compared by the fairness measures": rule.describe(),
                    "Minimum denominator per rate": args.min_denominator}
        out = write_decision_tables(args.out, table.source, data,
                                    audit_tables(result, data, boot, reference, include_tiers=True),
                                    settings, seeds)
        print(f"wrote {out}")
        if args.rows_out:
            print(f"wrote {write_row_decisions(args.rows_out, table.source, data, thresholds)}")
        for note in notes if args.threshold else ():  # a threshold outside the scores
            print(f"note: {note}")
        return 0
    return run


def _load_command(name: str) -> None:
    """Import the module of the subcommand ``name`` (it registers itself)."""
    import importlib

    if name not in SUBCOMMANDS:
        importlib.import_module(f"{__package__}.commands.{name}")
    if name not in SUBCOMMANDS:
        raise RuntimeError(f"fairdesk.commands.{name} did not register the '{name}' command")


def _load_command_modules() -> None:
    for name in LAZY_COMMANDS:
        _load_command(name)


def command_names() -> set[str]:
    return set(SUBCOMMANDS) | set(LAZY_COMMANDS)


def _command_in(argv) -> str | None:
    """The subcommand argv names: its first word that is not an option."""
    return next((a for a in argv if not a.startswith("-")), None)


class _VersionAction(argparse.Action):
    """--version: the version, the build date and the git commit (fairdesk.buildinfo)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from .buildinfo import version_text
        print(version_text())
        parser.exit(0)


def build_parser(argv=None) -> argparse.ArgumentParser:
    """The command-line parser. With ``argv``, only the command it names is imported and set
    up (the others are listed with their help); without, every command is."""
    if argv is None:
        _load_command_modules()
    elif _command_in(argv) in LAZY_COMMANDS:
        _load_command(_command_in(argv))
    parser = _Parser(prog="fairdesk", description="FairDesk command line")
    parser.add_argument("--version", action=_VersionAction,
                        help="print the version, build date and git commit, then exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    names = list(SUBCOMMANDS) + [n for n in LAZY_COMMANDS if n not in SUBCOMMANDS]
    for name in names:
        if name not in SUBCOMMANDS:  # listed only: it is not the command being run
            help_text = LAZY_COMMANDS[name]
            sub.add_parser(name, help=help_text, description=help_text)
            continue
        help_text, setup = SUBCOMMANDS[name]
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(run=setup(p))
        if {a.dest for a in p._actions} & {"out", "rows_out", "ids_out"}:
            p.add_argument("--force", action="store_true",
                           help="replace an existing output file even if FairDesk did not write "
                                "it (FairDesk's own outputs are replaced without it)")
    return parser


def main(argv=None) -> int:
    """Run one subcommand: its output on stdout, problems on stderr as plain messages.

    Exit code 0, or 2 with a message for any problem (130 when interrupted). A Python or
    library warning never reaches stderr: it goes to the log file. An unexpected exception
    (a bug) is logged with its traceback and reported in one line, also with exit code 2.
    """
    from .logfile import cli_logging

    with cli_logging() as logged:
        try:
            argv = sys.argv[1:] if argv is None else list(argv)
            parser = build_parser(argv)
            args = parser.parse_args(argv)
            if not getattr(args, "command", None):
                parser.print_help()
                return 2
            from .options import check_outputs, check_parsed
            check_parsed(args)
            check_outputs(args)  # before any computation
            try:
                return int(args.run(args) or 0)
            finally:
                from .io.outputs import forget_confirmation
                from .options import CONFIRMED_THIS_RUN
                while CONFIRMED_THIS_RUN:
                    forget_confirmation(CONFIRMED_THIS_RUN.pop())
        except ValidationError as err:
            for p in err.problems:
                sys.stderr.write(f"{p.severity}: {p.message}\n")
            return 2
        except FairDeskError as err:
            sys.stderr.write(f"error: {err}\n")
            return 2
        except MemoryError:
            sys.stderr.write("error: the file is too large for this computer's memory.\n")
            return 2
        except KeyboardInterrupt:
            sys.stderr.write("cancelled\n")
            return 130
        except SystemExit as done:  # argparse's own exit: --help, --version (0), a bad option (2)
            return done.code if isinstance(done.code, int) else (0 if done.code is None else 2)
        except BaseException as err:  # noqa: BLE001 - the last resort: a bug, never a traceback
            if not isinstance(err, Exception) and type(err).__name__ != "PanicException":
                raise
            where = logged.exception(err)
            sys.stderr.write(
                f"error: FairDesk stopped because of an internal problem ({type(err).__name__}). "
                "This is a fault in FairDesk, not in your data or options; nothing was "
                "overwritten (files are only replaced once complete). The details, without data "
                f"values, are in the log file {where}: please send it to whoever supports FairDesk "
                "here.\n")
            return 2


if __name__ == "__main__":
    raise SystemExit(main())
