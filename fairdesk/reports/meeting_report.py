"""The meeting workbook: About, a one-page Summary, the Comparison with a chart, the full
decision table, one sheet per scenario, then the engines' own result sheets. No Qt."""

from __future__ import annotations

import numpy as np

from ..dataset import AnalysisData
from ..jobs import NO_JOB
from ..metrics.fairness import DEFINITIONS, SHORT_RATE
from ..metrics.rates import RATES
from ..present.formats import format_people, format_rate, format_ratio
from ..scenarios import COMPARISON_RATES, Comparison
from ..undefined import Undefined
from .audit_report import about_sections
from .decision_tables import decision_table, interval_note, tier_table
from ..present.table import ChartSpec, Column, Table
from .writers import write_workbook

HEADLINE_FAIRNESS = "ERB"


def _v(x, reason="0/0: see the About sheet and the glossary"):
    x = float(x)
    return Undefined(reason) if np.isnan(x) else x


def _short_interval(lo, hi) -> str | Undefined:
    if np.isnan(lo) or np.isnan(hi):
        return Undefined("not estimated (the rate is undefined, or no bootstrap was run)")
    return f"{100 * lo:.1f}–{100 * hi:.1f}"


def proposed_index(comp: Comparison, proposed: str | None) -> int | None:
    """The scenario marked as proposed (by name), or None."""
    if proposed is None:
        marked = [j for j, s in enumerate(comp.scenarios) if s.origin.get("proposed")]
        return marked[0] if marked else None
    names = [s.name for s in comp.scenarios]
    if proposed not in names:
        from ..errors import FairDeskError
        raise FairDeskError(f"The proposed option '{proposed}' is not one of the scenarios: "
                            + ", ".join(f"'{n}'" for n in names) + ".")
    return names.index(proposed)


def change_sentences(comp: Comparison, j: int) -> list[str]:
    """Plain-language changes from the baseline to scenario ``j``, one sentence per group,
    in expected people (weights count as people)."""
    base, m = comp.metrics[0], comp.metrics[j]
    name = comp.scenarios[j].name
    out = []
    for g, gname in enumerate(comp.group_names):
        d_fp = float(m.counts.fp[g, 0] - base.counts.fp[g, 0])
        d_fn = float(m.counts.fn[g, 0] - base.counts.fn[g, 0])
        parts = []
        if round(d_fp) != 0:
            parts.append(f"{format_people(abs(d_fp))} {'fewer' if d_fp < 0 else 'more'} {gname} "
                         f"people without the outcome would be flagged (FPR "
                         f"{format_rate(base.rates['fpr'][g])} → {format_rate(m.rates['fpr'][g])})")
        if round(d_fn) != 0:
            parts.append(f"{format_people(abs(d_fn))} {'fewer' if d_fn < 0 else 'more'} with the "
                         f"outcome would be missed (FNR {format_rate(base.rates['fnr'][g])} → "
                         f"{format_rate(m.rates['fnr'][g])})")
        if parts:
            out.append(f"Under {name}, " + ", and ".join(parts) + ".")
        else:
            out.append(f"Under {name}, nothing changes for {gname} people.")
    return out


def summary_table(comp: Comparison, fairness_key: str = HEADLINE_FAIRNESS, *,
                  data: AnalysisData | None = None, source=None, proposed: str | None = None,
                  notes: str = "", warnings: list[str] | None = None) -> Table:
    """One landscape page for a manager: the question and the data, the options with the
    proposed one marked, the headline fairness measure with its interval and pair, what
    the proposal changes for each group in words, and per group and option the share
    flagged, FPR and FNR with their intervals; the analyst's notes and the warnings."""
    names = comp.group_names
    k = proposed_index(comp, proposed)
    label = lambda j: comp.scenarios[j].name + (" (proposed)" if j == k else "")  # noqa: E731
    pre = []
    if data is not None:
        m_ = data.mapping
        groups = " × ".join(m_.groups) or "group"
        pre.append(f"Question: which rule should turn the score '{m_.score}' into decisions, and "
                   f"how does each option treat each {groups} group, judged by the outcome "
                   f"'{m_.label}' (positive = {data.positive_label})?")
        people = float(data.weight.sum())
        what = f"{people:,.0f} people ({data.n:,} rows)" if data.weighted else f"{data.n:,} people"
        file_ = f"{source.path.rsplit('/', 1)[-1].rsplit(chr(92), 1)[-1]}, " if source is not None else ""
        pre.append(f"Data: {file_}{what} in {len(names)} groups: {', '.join(names)}.")
    pre.append("Options: " + "; ".join(f"{label(j)}: {s.describe(names)}"
                                       for j, s in enumerate(comp.scenarios)) + ".")
    if k is None:
        pre.append("No option is marked as proposed (mark one in the decision table, or "
                   "give --proposed NAME).")
    fair_row = comp.row_index(fairness_key, "")
    pre.append(f"## {fairness_key}, {DEFINITIONS[fairness_key].name} (1 = balanced), over "
               + comp.reliability.describe())
    for j, m in enumerate(comp.metrics):
        value = m.fairness[fairness_key]
        lo, hi, how = comp.interval(fair_row, j)
        interval = (f"95 % {format_ratio(lo)}–{format_ratio(hi)}" if not (np.isnan(lo) or np.isnan(hi))
                    else f"interval {how}")
        det = (m.details or {}).get(fairness_key)
        pair = det.pair_text(names) if det is not None and det.rate else \
            (det.undefined_reason if det is not None else "")
        shown = format_ratio(value)
        left = det.excluded_short(names) if det is not None else ""
        pre.append(f"{label(j)}: {shown} ({interval}); {pair}"
                   + (f"; left out: {left}" if left else "") + ".")
    target = k if k is not None else (len(comp.scenarios) - 1 if len(comp.scenarios) > 1 else None)
    if target is not None and target != 0:
        pre.append(f"## What {comp.scenarios[target].name} changes from {comp.scenarios[0].name}")
        pre.extend(change_sentences(comp, target))

    rows = []
    for g, gname in enumerate(names + ["Overall"]):
        row = {"group": gname}
        for j, m in enumerate(comp.metrics):
            for rate in ("selection_rate", "fpr", "fnr"):
                v = m.rates[rate][g] if g < len(names) else m.overall[rate]
                row[f"{rate}{j}"] = _v(v)
                if rate != "selection_rate":
                    lo, hi, _ = comp.interval(comp.row_index(rate, gname), j)
                    row[f"{rate}_ci{j}"] = _short_interval(lo, hi)
        row["people"] = float(comp.metrics[0].people[g].sum()) if g < len(names) else \
            float(sum(m_.sum() for m_ in comp.metrics[0].people))
        rows.append(row)
    cols = [Column("group", "Group", width=max(12, min(26, max(len(n) for n in names + ["Overall"]) + 1))),
            Column("people", "People", "int")]
    for j in range(len(comp.scenarios)):
        short = comp.scenarios[j].name[:14] + ("*" if j == k else "")
        # narrow columns (headers on two lines) so that three options fit one landscape
        # page at 9 pt or more
        cols += [Column(f"selection_rate{j}", f"{short}\nflagged", "percent", 1, width=8),
                 Column(f"fpr{j}", f"{short}\nFPR", "percent", 1, width=8,
                        note=RATES["fpr"].definition),
                 Column(f"fpr_ci{j}", "FPR\n95 %", width=10),
                 Column(f"fnr{j}", f"{short}\nFNR", "percent", 1, width=8,
                        note=RATES["fnr"].definition),
                 Column(f"fnr_ci{j}", "FNR\n95 %", width=10)]
    below = []
    if k is not None:
        below.append(f"* {comp.scenarios[k].name} is the proposed option.")
    if notes.strip():
        below.append("Analyst's notes: " + " ".join(notes.split()))
    for s in comp.scenarios:
        if s.notes:
            below.append(f"Notes on {s.name}: {s.notes}")
    for w in warnings or []:
        below.append("Warning: " + w)
    below.append(interval_note(comp))
    return Table("Summary", cols, rows, title="Decision options at a glance", preamble=pre,
                 notes=below, one_page=True)


def comparison_table(comp: Comparison) -> Table:
    rows = []
    for s, m in zip(comp.scenarios, comp.metrics):
        row = {"name": s.name, "accuracy": _v(m.overall["accuracy"]), "changed": m.changed_overall,
               "cost": m.cost}
        for k in DEFINITIONS:
            if k != "CAL":
                row[k] = _v(m.fairness[k], "fewer than two groups have the rates defined")
        rows.append(row)
    cols = [Column("name", "Scenario"), Column("accuracy", "Accuracy", "percent", 1)] + \
        [Column(k, k, "float", 3, note=DEFINITIONS[k].name) for k in DEFINITIONS if k != "CAL"] + \
        [Column("changed", "Changed vs baseline", "percent", 1),
         Column("cost", f"Expected cost ({comp.cost_ratio[0]:g}:{comp.cost_ratio[1]:g} FN:FP)", "float", 4)]
    return Table("Comparison", cols, rows, title="Fairness and accuracy of each scenario",
                 charts=[ChartSpec("scatter", f"{HEADLINE_FAIRNESS} against accuracy (one point per scenario)",
                                   "accuracy", [HEADLINE_FAIRNESS], x_title="accuracy",
                                   y_title=f"{HEADLINE_FAIRNESS} (1 = balanced)", scatter_lines=False,
                                   label_key="name")])


def scenario_sheets(comp: Comparison, i: int, weighted: bool = True,
                    people_decimals: int = 0) -> list[Table]:
    """Two sheets per scenario: people per tier and group (the Decision page's tiers table),
    and rates by group. "People" appears only with frequency weights."""
    s, m = comp.scenarios[i], comp.metrics[i]
    rate_rows = []
    for g, gname in enumerate(comp.group_names + ["Overall"]):
        row = {"group": gname}
        for r in COMPARISON_RATES:
            row[r] = _v(m.rates[r][g] if g < len(comp.group_names) else m.overall[r])
        rate_rows.append(row)
    return [tier_table(comp, i, weighted=weighted, people_decimals=people_decimals),
            Table(f"{s.name} rates", [Column("group", "Group")] +
                  [Column(r, SHORT_RATE.get(r, RATES[r].name), "percent", 1,
                          note=f"{RATES[r].name}: {RATES[r].definition}") for r in COMPARISON_RATES],
                  rate_rows,
                  title=f"{s.name}: rates by group")]


SECTIONS = {"summary": "the one-page Summary", "comparison": "the Comparison with its chart",
            "decision": "the full decision table", "scenarios": "two sheets per scenario"}


def meeting_tables(comp: Comparison, engine_tables: list[Table] | None = None, *,
                   data: AnalysisData | None = None, source=None, proposed: str | None = None,
                   notes: str = "", sections=None) -> list[Table]:
    """The meeting sheets; ``sections`` (keys of SECTIONS, default all) chooses which."""
    sections = set(SECTIONS if sections is None else sections)
    warnings = [p.message for p in (data.problems if data is not None else [])
                if p.severity == "warning" and p.code != "data_note"]
    tables = []
    if "summary" in sections:
        tables.append(summary_table(comp, data=data, source=source, proposed=proposed,
                                    notes=notes, warnings=warnings))
    if "comparison" in sections:
        tables.append(comparison_table(comp))
    if "decision" in sections:
        tables.append(decision_table(comp))
        if data is not None and data.period is not None and data.label is not None:
            from .over_time_report import decisions_over_time_table  # options × periods
            tables.append(decisions_over_time_table(comp.scenarios, data))
    if "scenarios" in sections:
        for i in range(len(comp.scenarios)):
            tables.extend(scenario_sheets(comp, i, data.weighted if data is not None else True,
                                          data.people_decimals if data is not None else 1))
    return tables + list(engine_tables or [])


def write_meeting_workbook(path, source, data: AnalysisData, comp: Comparison, engine_tables=None,
                           settings: dict | None = None, seeds: dict | None = None, *, job=NO_JOB,
                           proposed: str | None = None, notes: str = "", force: bool = False,
                           paper: str | None = None, sections=None) -> str:
    job.progress(0.1, "Writing the meeting workbook")
    settings = dict(settings or {})
    settings["Scenarios"] = {s.name: s.describe(comp.group_names) for s in comp.scenarios}
    settings["Cost ratio (FN:FP)"] = f"{comp.cost_ratio[0]:g}:{comp.cost_ratio[1]:g}"
    seeds = dict(seeds or {})
    if comp.bootstrap is not None:
        seeds["decision table bootstrap"] = comp.seed
    for s in comp.scenarios:
        if "seed" in s.origin:
            seeds[f"scenario {s.name}"] = s.origin["seed"]
    k = proposed_index(comp, proposed)
    settings["Proposed option"] = comp.scenarios[k].name if k is not None else "(none marked)"
    out = write_workbook(path, about=about_sections(source, data, settings, seeds),
                         tables=meeting_tables(comp, engine_tables, data=data, source=source,
                                               proposed=proposed, notes=notes, sections=sections),
                         input_paths=[source.path], force=force, paper=paper,
                         title="FairDesk meeting workbook")
    job.progress(1.0, "Written")
    return str(out)
