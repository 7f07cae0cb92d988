"""``python main.py report``: the meeting workbook, from a project or from the command line."""

from __future__ import annotations

import argparse

from ..cli import add_data_options, load_data, subcommand
from ..errors import FairDeskError


def _sections(text):
    from ..reports.meeting_report import SECTIONS

    if text is None:
        return None
    chosen = [s.strip().lower() for s in text.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown or not chosen:
        raise FairDeskError(f"--sections '{text}': choose from " + ", ".join(SECTIONS)
                            + " (comma-separated).")
    return chosen


def _read_notes(path) -> str:
    """The analyst's notes for the Summary: a small UTF-8 text file."""
    import os
    import stat

    if path is None:
        return ""
    try:
        info = os.stat(path)
    except OSError as err:
        raise FairDeskError(f"--notes '{path}': {err.strerror or 'cannot be read'}.") from None
    if not stat.S_ISREG(info.st_mode):
        raise FairDeskError(f"--notes '{path}' is not an ordinary text file.")
    if info.st_size > 100_000:
        raise FairDeskError(f"--notes '{path}' is {info.st_size:,} bytes; the Summary takes notes "
                            "of at most 100,000 bytes (a few paragraphs).")
    try:
        with open(path, encoding="utf-8-sig") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError) as err:
        raise FairDeskError(f"--notes '{path}' could not be read as UTF-8 text ({err}). Save it "
                            "as plain text (UTF-8).") from None


def _report_from_project(path, out, bootstrap, seed, all_groups=False, proposed=None, notes="",
                         sections=None, paper=None):
    from ..io.loading import load_table
    from ..project import check_input, load_project
    from ..reports.meeting_report import write_meeting_workbook
    from ..scenarios import Scenario, baseline, compare
    from ..schema import ColumnMapping
    from ..validation import prepare

    project = load_project(path)
    problem = check_input(project)
    if problem:
        raise FairDeskError(problem)
    table = load_table(project.input_path, sheet=project.sheet)
    data = prepare(table.frame, ColumnMapping.from_dict(project.mapping),
                   invalid_scores=project.invalid_scores, min_group_size=project.min_group_size)
    scenarios = [Scenario.from_dict(d) for d in project.scenarios]
    if not scenarios or scenarios[0].kind != "thresholds":
        saved = project.settings.get("_thresholds", {})
        values = saved.get("values") if saved and not saved.get("group_specific") else None
        if values is None:
            from ..audit import default_threshold
            values = [default_threshold(data)[0]]
        scenarios.insert(0, baseline(values))
    settings = project.settings.get("decision", {})
    cost = tuple(settings.get("cost_ratio", (1.0, 1.0)))
    from ..metrics.fairness import Reliability
    rule = Reliability(min_group_size=project.min_group_size, all_groups=all_groups)
    comp = compare(data, scenarios, cost_ratio=cost, bootstrap=bootstrap, seed=seed, reliability=rule)
    return write_meeting_workbook(out, table.source, data, comp, settings={"Project": str(path)},
                                  seeds=project.seeds, proposed=proposed,
                                  notes=notes or project.notes, sections=sections, paper=paper)


def _check_scenario_values(scenarios, data) -> list[str]:
    """Every --scenario threshold is a finite number; notes for those outside the scores."""
    import math

    from ..options import outside_range_notes

    notes = []
    for sc in scenarios:
        values = sc.params.get("values", [])
        flat = [v for vs in values.values() for v in vs] if isinstance(values, dict) else values
        if not all(math.isfinite(v) for v in flat):
            raise FairDeskError(f"--scenario '{sc.name}': every threshold must be a finite number "
                                "such as 0.5.")
        notes += outside_range_notes(f"--scenario '{sc.name}': threshold", flat, data)
    return notes


@subcommand("report", "the meeting workbook (Summary, Comparison, one sheet per scenario)")
def _report_parser(p: argparse.ArgumentParser):
    add_data_options(p, label_required=False, score_required=False, with_json=False,
                     data_help="a .fairdesk project, or a data file with the mapping options")
    p.add_argument("--out", required=True, help="workbook to write (.xlsx)")
    p.add_argument("--period", help="period column (dates or ordered labels): the decision "
                                    "table then also applies every option to each period")
    p.add_argument("--bucket", choices=("auto", "month", "quarter", "year", "label"),
                   default="auto", help="how period dates are grouped (default: auto)")
    p.add_argument("--scenario", action="append", default=[], metavar="NAME=RULE",
                   help="NAME=THRESHOLD[,THRESHOLD…] or NAME=GROUP:VALUE,GROUP:VALUE (repeatable); "
                        "the first is the baseline unless --baseline is given")
    p.add_argument("--baseline", help="baseline threshold(s), e.g. 0.5 or 0.3,0.6 (default: first scenario)")
    p.add_argument("--cost-ratio", default="1:1", help="false-negative : false-positive cost, e.g. 8:1")
    p.add_argument("--bootstrap", type=int, default=200, metavar="B",
                   help="bootstrap resamples for the 95 %% intervals (200; 0 = exact intervals of "
                        "rates only)")
    p.add_argument("--seed", type=int, default=12345)
    p.add_argument("--proposed", metavar="NAME",
                   help="the scenario to mark as proposed on the Summary")
    p.add_argument("--sections", metavar="LIST",
                   help="which sheets to write, comma-separated: summary, comparison, decision, "
                        "scenarios (default: all; About, Contents and Glossary always)")
    p.add_argument("--paper", choices=("A4", "Letter"),
                   help="paper size for printing (default: from this computer's locale)")
    p.add_argument("--notes", metavar="FILE",
                   help="a UTF-8 text file with the analyst's notes for the Summary")
    p.add_argument("--all-groups", action="store_true",
                   help="compare every group in the fairness measures (default: groups with at "
                        "least --min-group-size rows and 10 people in each rate's denominator)")

    def run(args):
        from ..reports.meeting_report import write_meeting_workbook
        from ..scenarios import baseline, compare, parse_scenario

        try:
            fn, fp = (float(x) for x in args.cost_ratio.split(":"))
        except ValueError:
            raise FairDeskError(f"--cost-ratio '{args.cost_ratio}': write it as FN:FP, e.g. 8:1.")
        if not all(0 < c < float("inf") for c in (fn, fp)):
            raise FairDeskError(f"--cost-ratio '{args.cost_ratio}': both costs must be positive "
                                "finite numbers, e.g. 8:1.")
        notes = _read_notes(args.notes)
        sections = _sections(args.sections)
        if args.data.lower().endswith(".fairdesk"):
            out = _report_from_project(args.data, args.out, args.bootstrap, args.seed, args.all_groups,
                                       args.proposed, notes, sections, args.paper)
            print(f"wrote {out}")
            return 0
        if not args.score or not args.label:
            raise FairDeskError("Give --score and --label (and --group) for a data file, or a .fairdesk project.")
        table, data = load_data(args)
        scenarios = [parse_scenario(s, data.group_names) for s in args.scenario]
        analyst_notes = notes
        notes = _check_scenario_values(scenarios, data)
        if args.baseline:
            from ..options import outside_range_notes, threshold_rules
            values = [r.resolve(data) for r in threshold_rules("--baseline", [args.baseline])]
            notes += outside_range_notes("--baseline", values, data)
            scenarios.insert(0, baseline(values))
        if not scenarios:
            raise FairDeskError("Give at least one --scenario (or --baseline).")
        if scenarios[0].kind != "thresholds":
            raise FairDeskError("The baseline (the first scenario, or --baseline) must be group-agnostic "
                                "thresholds, e.g. --baseline 0.5.")
        from ..metrics.fairness import Reliability
        rule = Reliability(min_group_size=args.min_group_size, all_groups=args.all_groups)
        comp = compare(data, scenarios, cost_ratio=(fn, fp), bootstrap=args.bootstrap, seed=args.seed,
                       reliability=rule)
        out = write_meeting_workbook(args.out, table.source, data, comp,
                                     settings={"Command line": " ".join(args.scenario)},
                                     proposed=args.proposed, notes=analyst_notes,
                                     sections=sections, paper=args.paper)
        print(f"wrote {out}")
        for note in notes:
            print(f"note: {note}")
        return 0
    return run


