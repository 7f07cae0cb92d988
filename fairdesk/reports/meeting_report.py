"""The meeting workbook: About, a one-page Summary, the Comparison with a chart, the full
decision table, one sheet per scenario, then the engines' own result sheets. No Qt."""

from __future__ import annotations

import numpy as np

from ..dataset import AnalysisData
from ..jobs import NO_JOB
from ..metrics.fairness import DEFINITIONS
from ..metrics.rates import RATES
from ..scenarios import COMPARISON_RATES, Comparison
from ..undefined import Undefined
from .audit_report import about_sections
from .workbook import ChartSpec, Column, Table, write_workbook

HEADLINE_FAIRNESS = "ERB"


def _v(x, reason="0/0: see the About sheet and the glossary"):
    x = float(x)
    return Undefined(reason) if np.isnan(x) else x


def _rule_text(s, names) -> str:
    return s.describe(names)


def _interval_text(comp: Comparison, row: int, j: int, pct: bool) -> str:
    from ..metrics.intervals import format_interval
    lo, hi, how = comp.interval(row, j)
    return format_interval(lo, hi, "" if not np.isnan(lo) else how, pct=pct)


def interval_note(comp: Comparison) -> str:
    b = comp.bootstrap
    rates = ("95 % intervals of rates: exact binomial (Clopper–Pearson) from the expected counts "
             "(weights count as people). ")
    if b is not None:
        return rates + (f"Fairness measures, changed decisions and cost: bootstrap percentile over "
                        f"{b['resamples']:,} resamples (seed {comp.seed}); every resample compares the "
                        "same groups as the figure.")
    return rates + ("Fairness measures need a bootstrap (give a number of resamples); without one "
                    "their interval is marked as not estimated.")


def summary_table(comp: Comparison, fairness_key: str = HEADLINE_FAIRNESS) -> Table:
    rows = []
    fair_row = comp.row_index(fairness_key, "")
    for j, (s, m) in enumerate(zip(comp.scenarios, comp.metrics)):
        row = {"name": s.name, "rule": _rule_text(s, comp.group_names),
               "origin": s.origin.get("engine", ""),
               "selection": _v(m.overall["selection_rate"]), "tpr": _v(m.overall["tpr"]),
               "fpr": _v(m.overall["fpr"]), "accuracy": _v(m.overall["accuracy"]),
               "fair": _v(m.fairness[fairness_key], "fewer than two groups have the rates defined"),
               "changed": m.changed_overall, "notes": s.notes}
        for key, rate in (("selection", "selection_rate"), ("tpr", "tpr"), ("fpr", "fpr"),
                          ("accuracy", "accuracy")):
            row[key + "_ci"] = _interval_text(comp, comp.row_index(rate, "Overall"), j, True)
        row["fair_ci"] = _interval_text(comp, fair_row, j, False)
        det = (m.details or {}).get(fairness_key)
        row["pair"] = det.pair_text(comp.group_names) if det is not None and det.rate else \
            (det.undefined_reason if det is not None else "")
        row["left_out"] = (det.excluded_short(comp.group_names) or "none") if det is not None else ""
        rows.append(row)
    ci = "95 % interval"
    cols = [Column("name", "Scenario", width=22), Column("rule", "Thresholds / rule", width=34),
            Column("origin", "From", width=18),
            Column("selection", "Flagged", "percent", 1), Column("selection_ci", ci, width=13),
            Column("tpr", "TPR (recall)", "percent", 1), Column("tpr_ci", ci, width=13),
            Column("fpr", "FPR", "percent", 1), Column("fpr_ci", ci, width=13),
            Column("accuracy", "Accuracy", "percent", 1), Column("accuracy_ci", ci, width=13),
            Column("fair", f"{fairness_key} (1 = balanced)", "float", 3,
                   note=DEFINITIONS[fairness_key].meaning),
            Column("fair_ci", f"{fairness_key} {ci}", width=16),
            Column("pair", f"{fairness_key}: pair behind it", width=40),
            Column("left_out", f"{fairness_key}: groups left out (why)", width=48,
                   note="Rows below the minimum group size, or too few people in a rate's denominator "
                        "(e.g. 'FNR: 8 < 10' = 8 people with the outcome); the Decision table has the "
                        "reasons in full."),
            Column("changed", "Decisions changed vs baseline", "percent", 1),
            Column("notes", "Analyst's notes", width=36)]
    return Table("Summary", cols, rows, title="Decision options at a glance",
                 notes=["The first scenario is the baseline (group-agnostic thresholds). Rates are overall; "
                        "the Decision table sheet has them by group, with every fairness measure.",
                        f"{fairness_key}: {DEFINITIONS[fairness_key].name}, the smallest ratio between two "
                        "groups' rates (1 = equal), over " + comp.reliability.describe() + ".",
                        interval_note(comp)],
                 one_page=True)


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
                                   y_title=f"{HEADLINE_FAIRNESS} (1 = balanced)", scatter_lines=False)])


def decision_table(comp: Comparison) -> Table:
    rows = []
    names = [s.name for s in comp.scenarios]
    boot = comp.bootstrap
    for i, r in enumerate(comp.table_rows()):
        label = RATES[r["measure"]].name if r["measure"] in RATES else \
            (f"{r['measure']} ({DEFINITIONS[r['measure']].name})" if r["measure"] in DEFINITIONS else r["measure"])
        row = {"section": r["section"], "measure": label, "group": r["group"]}
        for j, v in enumerate(r["values"]):
            row[f"s{j}"] = _v(v)
            if j:
                base = r["values"][0]
                row[f"d{j}"] = _v(v - base) if not (np.isnan(v) or np.isnan(base)) else Undefined("undefined in one scenario")
            if boot is not None:
                row[f"sd{j}"] = _v(boot["sd"][i, j], "defined in fewer than two resamples")
            lo, hi, how = comp.interval(i, j)
            row[f"lo{j}"], row[f"hi{j}"] = _v(lo, how), _v(hi, how)
        if r["section"].startswith("Fairness"):
            dets = [(m.details or {}).get(r["measure"]) for m in comp.metrics]
            row["pair"] = " | ".join(d.pair_text(comp.group_names) or d.undefined_reason for d in dets if d)
            row["left_out"] = " | ".join((d.excluded_text(comp.group_names) or "none") for d in dets if d)
        rows.append(row)
    cols = [Column("section", "Section"), Column("measure", "Measure"), Column("group", "Group")]
    for j, n in enumerate(names):
        cols.append(Column(f"s{j}", n, "float", 4))
        cols.append(Column(f"lo{j}", f"{n}: 95 % lower", "float", 4))
        cols.append(Column(f"hi{j}", f"{n}: 95 % upper", "float", 4))
        if boot is not None:
            cols.append(Column(f"sd{j}", f"{n} (SD)", "float", 4))
        if j:
            cols.append(Column(f"d{j}", f"{n} − baseline", "float", 4))
    cols += [Column("pair", "Fairness: pair behind the value (per scenario)", width=50),
             Column("left_out", "Fairness: groups left out (per scenario)", width=50)]
    notes = ["Rates are expected values: a randomised rule counts each row with its probability of a "
             "positive decision; nothing is drawn at random.", interval_note(comp),
             "Fairness measures compare " + comp.reliability.describe() + "."]
    if boot is not None:
        notes.append(f"SD: standard deviation over {boot['resamples']:,} bootstrap resamples (seed {comp.seed}).")
    return Table("Decision table", cols, rows, title="Every measure, scenario by scenario", notes=notes)


def scenario_sheets(comp: Comparison, i: int) -> list[Table]:
    """Two sheets per scenario: people per tier and group, and rates by group."""
    s, m = comp.scenarios[i], comp.metrics[i]
    rows = []
    for g, gname in enumerate(comp.group_names):
        for t in range(m.n_tiers):
            rows.append({"group": gname, "tier": f"S{t + 1}", "rows": float(m.rows[g, t]),
                         "people": float(m.people[g, t])})
    cols = [Column("group", "Group"), Column("tier", "Tier"), Column("rows", "Rows", "int"),
            Column("people", "People (weighted)", "float", 1)]
    rate_rows = []
    for g, gname in enumerate(comp.group_names + ["Overall"]):
        row = {"group": gname}
        for r in COMPARISON_RATES:
            row[r] = _v(m.rates[r][g] if g < len(comp.group_names) else m.overall[r])
        rate_rows.append(row)
    notes = [f"From: {', '.join(f'{k}: {v}' for k, v in s.origin.items())}" if s.origin else "",
             f"Notes: {s.notes}" if s.notes else ""]
    return [Table(f"{s.name} tiers", cols, rows, title=f"{s.name}: {s.describe(comp.group_names)}",
                  notes=[n for n in notes if n]),
            Table(f"{s.name} rates", [Column("group", "Group")] +
                  [Column(r, RATES[r].name, "percent", 1) for r in COMPARISON_RATES], rate_rows,
                  title=f"{s.name}: rates by group")]


def meeting_tables(comp: Comparison, engine_tables: list[Table] | None = None) -> list[Table]:
    tables = [summary_table(comp), comparison_table(comp), decision_table(comp)]
    for i in range(len(comp.scenarios)):
        tables.extend(scenario_sheets(comp, i))
    return tables + list(engine_tables or [])


def write_meeting_workbook(path, source, data: AnalysisData, comp: Comparison, engine_tables=None,
                           settings: dict | None = None, seeds: dict | None = None, *, job=NO_JOB) -> str:
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
    out = write_workbook(path, about=about_sections(source, data, settings, seeds),
                         tables=meeting_tables(comp, engine_tables), input_paths=[source.path])
    job.progress(1.0, "Written")
    return str(out)
