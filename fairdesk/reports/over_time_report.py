"""Fairness over time and across score versions, described once (issue 20): the tables the
window, the workbook and the command line show, the command line's JSON, and the comparison
of two score versions."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..dataset import AnalysisData
from ..engines.over_time import RATES, OverTimeResult, Series
from ..metrics.fairness import DEFINITIONS, SHORT_RATE, THRESHOLD_DEFINITIONS
from ..metrics.rates import undefined_reason
from ..present.formats import format_interval
from ..present.table import Cell, ChartSpec, Column, Table
from ..undefined import Undefined, defined_or

HEADLINE = RATES  # the engine's headline rates, in its order
RATE_TITLES = {"selection_rate": "Selection rate", "tpr": "TPR", "fpr": "FPR", "fnr": "FNR",
               "ppv": "PPV", "auc": "AUC"}
RATE_NOTES = {
    "selection_rate": "Share of the group's people flagged in the period.",
    "tpr": "True positive rate: share of the people with the outcome who were flagged.",
    "fpr": "False positive rate: share of the people without the outcome who were flagged.",
    "fnr": "False negative rate: share of the people with the outcome who were not flagged.",
    "ppv": "Positive predictive value: share of the flagged people who had the outcome.",
    "auc": "Area under the ROC curve within the group and period: the chance that a person "
           "with the outcome has a higher score than one without (ties count one half).",
}
INTERVAL_NOTE = "Exact binomial (Clopper–Pearson) 95 % interval of the rate in the period."


def _interval(lo, hi, reason: str):
    if math.isnan(lo) or math.isnan(hi):
        return Undefined(reason)
    return Cell((float(lo), float(hi)), kind="interval", tip=INTERVAL_NOTE)


AUC_INTERVAL_NOTE = ("DeLong 95 % interval of the AUC in the period (the normal interval "
                     "from the placement values' variance, within 0 to 1).")


def _auc_interval(s: Series, p: int, g: int | None):
    """The AUC's interval as text, or why there is none."""
    if s.auc_lo is None:
        return Undefined("A decision rule ranks nobody: the AUC belongs to the score.")
    lo, hi = (s.auc_overall_lo[p], s.auc_overall_hi[p]) if g is None else \
        (s.auc_lo[p, g], s.auc_hi[p, g])
    if math.isnan(lo):
        return Undefined("No interval: it needs more than one person with each outcome and "
                         "some spread in the placements.")
    return Cell(format_interval((lo, hi), 3, kind="fixed"), kind="text", tip=AUC_INTERVAL_NOTE)


def _series_title(s: Series) -> str:
    if s.kind == "score":
        return f"{s.name} ({s.rule})"
    where = f", chosen on {s.chosen_on}" if s.chosen_on else ""
    return f"{s.name}: {s.rule}{where}"


# ------------------------------------------------------------------------------------------
def rates_table(res: OverTimeResult, data: AnalysisData) -> Table:
    """Every series, period and group: people, the headline rates with their intervals, the
    AUC. One row per (series, period, group), then the period's all-groups row."""
    cols = [Column("series", "Score or rule"), Column("period", "Period"),
            Column("group", "Group"), Column("rows", "Rows", "count"),
            Column("people", "People", "people", data.people_decimals)]
    for r in HEADLINE:
        cols += [Column(r, RATE_TITLES[r], "rate", note=RATE_NOTES[r]),
                 Column(f"{r}_ci", "95 % interval", "interval", note=INTERVAL_NOTE)]
    cols += [Column("auc", "AUC", "fixed", 3, note=RATE_NOTES["auc"]),
             Column("auc_ci", "95 % interval", "text", note=AUC_INTERVAL_NOTE)]
    rows = []
    for s in res.series:
        for p, period in enumerate(res.period_names):
            for g in range(len(res.group_names) + 1):
                whole = g == len(res.group_names)
                name = "All groups" if whole else res.group_names[g]
                row = {"series": s.name, "period": period, "group": name,
                       "g": None if whole else g,
                       "rows": int(s.rows[p].sum() if whole else s.rows[p, g]),
                       "people": float(s.people[p].sum() if whole else s.people[p, g])}
                for r in HEADLINE:
                    why = undefined_reason(r, None if whole else name) + f" ({period})"
                    if whole:
                        v, lo, hi = s.overall[r][p], s.overall_lo[r][p], s.overall_hi[r][p]
                    else:
                        v, lo, hi = s.rates[r][p, g], s.lo[r][p, g], s.hi[r][p, g]
                    row[r] = defined_or(v, why)
                    row[f"{r}_ci"] = _interval(lo, hi, why)
                auc = s.auc_overall[p] if whole else s.auc[p, g]
                row["auc_ci"] = _auc_interval(s, p, None if whole else g)
                row["auc"] = defined_or(auc, "A decision rule ranks nobody: the AUC belongs to "
                                        "the score." if s.kind == "scenario" else
                                        f"No AUC: {name} in {period} needs people with and "
                                        "without the outcome.")
                rows.append(row)
    return Table("Rates over time", cols, rows,
                 title="Rates per period and group, with 95 % intervals, for every score "
                       "column and decision rule",
                 notes=[f"Periods: {data.period_how} (column '{data.mapping.period}').",
                        INTERVAL_NOTE, "“undefined” means 0/0: hover it to see why."],
                 label_key="group", swatch_key="g")


def lines_table(res: OverTimeResult, data: AnalysisData, s: Series, charts: bool = True,
                sheet: str | None = None) -> Table:
    """One series as lines: a row per period, a column per (rate, group); in the workbook a
    line chart per headline rate (one line per group, periods along the x axis)."""
    cols = [Column("period", "Period")]
    for r in HEADLINE:
        for g, name in enumerate(res.group_names):
            cols.append(Column(f"{r}_{g}", f"{RATE_TITLES[r]}\n{name}", "rate",
                               note=RATE_NOTES[r], swatch=g))
    if s.kind == "score":
        for g, name in enumerate(res.group_names):
            cols.append(Column(f"auc_{g}", f"AUC\n{name}", "fixed", 3, note=RATE_NOTES["auc"],
                               swatch=g))
    rows = []
    for p, period in enumerate(res.period_names):
        row = {"period": period}
        for r in HEADLINE:
            for g, name in enumerate(res.group_names):
                row[f"{r}_{g}"] = defined_or(s.rates[r][p, g], undefined_reason(r, name)
                                             + f" ({period})")
        if s.kind == "score":
            for g, name in enumerate(res.group_names):
                row[f"auc_{g}"] = defined_or(s.auc[p, g], f"No AUC for {name} in {period}.")
        rows.append(row)
    chart_list = []
    if charts:
        n_groups = len(res.group_names)
        for i, r in enumerate(HEADLINE):
            chart_list.append(ChartSpec(
                "line", f"{RATE_TITLES[r]} over time — {s.name}", "period",
                [f"{r}_{g}" for g in range(n_groups)], x_title="Period",
                y_title=RATE_TITLES[r], percent_axis=True))
    flagged = [f.text() for f in res.flags if f.series == s.name]
    return Table(sheet or f"Over time – {s.name}", cols, rows,
                 title=f"{_series_title(s)}: rates per period, one line per group",
                 notes=(["Changes larger than their uncertainty: " + "; ".join(flagged) + "."]
                        if flagged else ["No change between consecutive periods exceeds its "
                                         "uncertainty."]) + [CHANGE_NOTE],
                 charts=chart_list, label_key="period")


CHANGE_NOTE = ("A change is flagged when the Newcombe interval of the difference between two "
               "consecutive periods excludes zero, at a level corrected (Bonferroni) for every "
               "change examined in the same score or rule, so that many periods do not flag "
               "noise.")


def fairness_table(res: OverTimeResult) -> Table:
    """Each fairness measure per series and period, with the pair of groups behind it."""
    cols = [Column("series", "Score or rule"), Column("period", "Period")]
    for key in THRESHOLD_DEFINITIONS:
        d = DEFINITIONS[key]
        cols += [Column(key, key, "ratio", 3, note=f"{d.name}: {d.meaning} 1 = balanced."),
                 Column(f"{key}_pair", f"{key}: pair", note="The groups whose rates give the "
                                                            "value: lower vs higher.")]
    rows = []
    for s in res.series:
        for p, period in enumerate(res.period_names):
            row = {"series": s.name, "period": period}
            for key in THRESHOLD_DEFINITIONS:
                det = s.fairness[key][p]
                row[key] = defined_or(det.value, (det.undefined_reason or "undefined")
                                      + f" ({period})")
                row[f"{key}_pair"] = (f"{SHORT_RATE.get(det.rate, det.rate)}: "
                                      f"{res.group_names[det.low]} vs {res.group_names[det.high]}"
                                      if det.rate else "—")
            rows.append(row)
    return Table("Fairness over time", cols, rows,
                 title="Fairness measures per period (1 = balanced), with the pair behind each",
                 notes=[f"Groups compared: {res.reliability.describe()}."])


def flags_table(res: OverTimeResult) -> Table:
    cols = [Column("series", "Score or rule"), Column("group", "Group"),
            Column("rate", "Rate"), Column("from", "From"), Column("to", "To"),
            Column("before", "Before", "rate"), Column("after", "After", "rate"),
            Column("change", "Change", "difference"),
            Column("ci", "Interval of the change", "interval",
                   note="Newcombe interval at the corrected level (see the note)."),
            Column("level", "Level", "rate", 2)]
    rows = [{"series": f.series, "group": f.group, "rate": SHORT_RATE.get(f.rate, f.rate),
             "from": f.period_from, "to": f.period_to, "before": f.before, "after": f.after,
             "change": f.after - f.before, "ci": Cell((f.lo, f.hi), kind="interval"),
             "level": f.level} for f in res.flags]
    return Table("Changes over time", cols, rows,
                 title="Changes between consecutive periods larger than their uncertainty",
                 notes=[CHANGE_NOTE] + ([] if rows else ["No change exceeds its uncertainty."]))


# ------------------------------------------------------------------------------------------
@dataclass
class VersionComparison:
    a: str
    b: str
    threshold_a: float
    matched_b: float  # B's threshold with A's overall selection rate
    paired: list  # versions.PairedAUC per group, then "All groups"
    rates_a: dict
    rates_b: dict
    transitions: np.ndarray  # (G, 2, 2): flagged under A × flagged under B
    group_names: list[str]
    overall_a: dict  # rate -> (1,) everyone together
    overall_b: dict
    cross_a: np.ndarray | None = None  # (G, G) cross-AUC under A: [positives' group, negatives']
    cross_b: np.ndarray | None = None


def comparison_of_versions(data: AnalysisData, thresholds: dict) -> VersionComparison:
    """The score against its first version on the same rows: paired AUC differences per
    group, rates at thresholds matched on the overall selection rate, and who changes."""
    from ..engines.versions import (matched_threshold, paired_auc_difference, rates_at,
                                    tier_transitions)

    a, b = data.mapping.score, data.mapping.versions[0]
    oa, ob = data.version_oriented(a), data.version_oriented(b)
    ta = float(data.to_oriented(thresholds[a]))
    sign_b = 1.0 if data.mapping.version_higher.get(b, True) else -1.0
    tb = matched_threshold(oa, ob, ta, data.weight)
    from ..metrics.confusion import GroupScores
    from ..metrics.ranking import xauc_matrix

    paired = paired_auc_difference(oa, ob, data.label, data.group, data.group_names, data.weight)
    everyone = np.zeros(data.n, dtype=np.int32)
    cross = [xauc_matrix(GroupScores(o, data.label, data.group, data.n_groups, data.weight))
             for o in (oa, ob)]
    return VersionComparison(
        a, b, float(thresholds[a]), float(tb * sign_b), paired,
        rates_at(oa, data.label, data.group, data.n_groups, ta, data.weight),
        rates_at(ob, data.label, data.group, data.n_groups, tb, data.weight),
        tier_transitions(oa, ob, data.group, data.n_groups, [ta], [tb], data.weight),
        list(data.group_names),
        rates_at(oa, data.label, everyone, 1, ta, data.weight),
        rates_at(ob, data.label, everyone, 1, tb, data.weight), cross[0], cross[1])


def versions_table(v: VersionComparison, data: AnalysisData) -> Table:
    cols = [Column("group", "Group"), Column("auc_a", f"AUC\n{v.a}", "fixed", 3),
            Column("auc_b", f"AUC\n{v.b}", "fixed", 3),
            Column("diff", f"Difference\n{v.b} − {v.a}", "fixed", 3),
            Column("ci", "95 % interval", "interval", 3,
                   note="DeLong paired interval: both versions score the same people.")]
    for r in HEADLINE:
        cols += [Column(f"{r}_a", f"{RATE_TITLES[r]}\n{v.a}", "rate"),
                 Column(f"{r}_b", f"{RATE_TITLES[r]}\n{v.b}", "rate")]
    cols += [Column("up", f"Flagged only\nunder {v.b}", "people", data.people_decimals),
             Column("down", f"Flagged only\nunder {v.a}", "people", data.people_decimals)]
    rows = []
    for g, pa in enumerate(v.paired):
        whole = g >= len(v.group_names)
        row = {"group": pa.group, "g": None if whole else g,
               "auc_a": defined_or(pa.auc_a, pa.undefined_reason or "undefined"),
               "auc_b": defined_or(pa.auc_b, pa.undefined_reason or "undefined"),
               "diff": defined_or(pa.diff, pa.undefined_reason or "undefined"),
               "ci": Undefined(pa.undefined_reason or "undefined") if math.isnan(pa.lo) else
               Cell(format_interval((pa.lo, pa.hi), 3, kind="fixed"), kind="text",
                    tip="DeLong paired 95 % interval of the difference")}
        for r in HEADLINE:
            j = 0 if whole else g
            ra = v.overall_a if whole else v.rates_a
            rb = v.overall_b if whole else v.rates_b
            row[f"{r}_a"] = defined_or(ra[r][j], undefined_reason(r, pa.group))
            row[f"{r}_b"] = defined_or(rb[r][j], undefined_reason(r, pa.group))
        t = v.transitions.sum(axis=0) if whole else v.transitions[g]
        row["up"], row["down"] = float(t[0, 1]), float(t[1, 0])
        rows.append(row)
    fmt = data.score_decimals
    return Table("Versions compared", cols, rows,
                 title=f"{v.a} against {v.b} on the same rows, group by group",
                 notes=[f"Rates at {v.a} ≥ {v.threshold_a:.{fmt}f} and at the {v.b} threshold "
                        f"{v.matched_b:.4g} that flags the same share of everyone (thresholds "
                        "matched on the overall selection rate).",
                        "Flagged only under one version: the people who change decision when "
                        "the other version replaces it."],
                 label_key="group", swatch_key="g")


def cross_auc_table(v: VersionComparison) -> Table:
    """Cross-AUC of each version: the chance that a person with the outcome in the row's group
    scores above a person without it in the column's group (the diagonal is the AUC)."""
    names = v.group_names
    cols = [Column("version", "Version"), Column("group", "With the outcome")]
    cols += [Column(f"x{b}", f"Without\n{name}", "fixed", 3, swatch=b,
                    note=f"People without the outcome in {name}") for b, name in enumerate(names)]
    rows = []
    for version, m in ((v.a, v.cross_a), (v.b, v.cross_b)):
        for a, name in enumerate(names):
            row = {"version": version, "group": name, "g": a}
            for b, other in enumerate(names):
                row[f"x{b}"] = defined_or(m[a, b], f"No cross-AUC: {name} needs people with the "
                                                   f"outcome and {other} people without it.")
            rows.append(row)
    return Table("Cross-AUC by version", cols, rows,
                 title=f"Cross-AUC under {v.a} and under {v.b}: how each version ranks one "
                       "group's people with the outcome against another group's without it",
                 notes=["Far below the diagonal's AUC: the version ranks that pair of groups "
                        "unevenly (Kallus & Zhou's xAUC)."], label_key="group", swatch_key="g")


def over_time_tables(res: OverTimeResult, data: AnalysisData, versions=None) -> list[Table]:
    """Every sheet of the over-time workbook (the command line prints the same tables)."""
    tables = [lines_table(res, data, s, sheet="Over time" if i == 0 else None)
              for i, s in enumerate(res.series)]
    tables += [rates_table(res, data), fairness_table(res), flags_table(res)]
    if versions is not None:
        tables += [versions_table(versions, data), cross_auc_table(versions)]
    return tables


# ------------------------------------------------------------------------------------------
def _num(x):
    x = float(x)
    return None if math.isnan(x) else x


def _period_json(s: Series, res: OverTimeResult, p: int) -> dict:
    groups = {}
    for g, name in enumerate(res.group_names):
        cell = {"n": int(s.rows[p, g]), "people": float(s.people[p, g])}
        for r in RATES:
            cell[r] = _num(s.rates[r][p, g])
            cell[f"{r}_interval"] = [_num(s.lo[r][p, g]), _num(s.hi[r][p, g])]
        cell["auc"] = _num(s.auc[p, g])
        cell["auc_interval"] = ([_num(s.auc_lo[p, g]), _num(s.auc_hi[p, g])]
                                if s.auc_lo is not None else [None, None])
        groups[name] = cell
    overall = {"n": int(s.rows[p].sum()), "people": float(s.people[p].sum())}
    for r in RATES:
        overall[r] = _num(s.overall[r][p])
        overall[f"{r}_interval"] = [_num(s.overall_lo[r][p]), _num(s.overall_hi[r][p])]
    overall["auc"] = _num(s.auc_overall[p])
    fairness = {}
    for key in THRESHOLD_DEFINITIONS:
        det = s.fairness[key][p]
        fairness[key] = {"value": _num(det.value),
                         "rate": det.rate or None,
                         "pair": [res.group_names[det.low], res.group_names[det.high]]
                         if det.rate else None,
                         "undefined_reason": det.undefined_reason or None}
    return {"groups": groups, "all_groups": overall, "fairness": fairness}


def to_json(res: OverTimeResult, data: AnalysisData, versions=None) -> dict:
    out = {"periods": res.period_names, "groups": res.group_names,
           "period_column": data.mapping.period, "period_reading": data.period_how,
           "scores": {}, "scenarios": {}}
    for s in res.series:
        entry = {"rule": s.rule,
                 "periods": {period: _period_json(s, res, p)
                             for p, period in enumerate(res.period_names)}}
        if s.kind == "score":
            out["scores"][s.name] = entry
        else:
            entry["chosen_on"] = s.chosen_on or None
            out["scenarios"][s.name] = entry
    out["flags"] = [f.to_dict() for f in res.flags]
    out["flag_method"] = CHANGE_NOTE
    if versions is not None:
        out["versions"] = {
            "a": versions.a, "b": versions.b, "threshold_a": versions.threshold_a,
            "matched_threshold_b": versions.matched_b,
            "groups": {pa.group: {"auc_a": _num(pa.auc_a), "auc_b": _num(pa.auc_b),
                                  "difference": _num(pa.diff),
                                  "interval": [_num(pa.lo), _num(pa.hi)],
                                  "undefined_reason": pa.undefined_reason or None}
                       for pa in versions.paired}}
    out["warnings"] = list(res.warnings)
    return out


# ------------------------------------------------------------------------------------------
def decisions_over_time_table(scenarios, data: AnalysisData) -> Table:
    """The Decision table's options applied to every period, side by side: per measure and
    group, one column per option and period; the period an option was chosen on is marked,
    so "chosen on 2018, applied to 2019 and 2020" reads across a row."""
    from ..engines.over_time import scenario_series

    series = [scenario_series(data, s, chosen_on=str(s.origin.get("chosen_on", "")))
              for s in scenarios]
    periods = data.period_names
    cols = [Column("measure", "Measure"), Column("group", "Group")]
    for i, s in enumerate(series):
        for p, period in enumerate(periods):
            mark = " (chosen on)" if s.chosen_on == period else ""
            cols.append(Column(f"s{i}_p{p}", f"{s.name}\n{period}{mark}", "rate",
                               note=f"{s.name} ({s.rule}) applied to the rows of {period}"
                                    + (": the period the rule was chosen on." if mark else ".")))
    rows = []
    for r in ("selection_rate", "fpr", "fnr", "ppv"):
        for g in range(data.n_groups + 1):
            whole = g == data.n_groups
            name = "All groups" if whole else data.group_names[g]
            row = {"measure": RATE_TITLES[r], "group": name, "g": None if whole else g}
            for i, s in enumerate(series):
                for p, period in enumerate(periods):
                    v = s.overall[r][p] if whole else s.rates[r][p, g]
                    row[f"s{i}_p{p}"] = defined_or(v, undefined_reason(
                        r, None if whole else name) + f" ({period})")
            rows.append(row)
    for key in ("ERB", "PE", "EO", "SP"):
        row = {"measure": f"{key} (1 = balanced)", "group": "pair below", "g": None}
        for i, s in enumerate(series):
            for p in range(len(periods)):
                det = s.fairness[key][p]
                row[f"s{i}_p{p}"] = Cell(defined_or(det.value, det.undefined_reason or
                                                    "undefined"), kind="ratio", decimals=3,
                                         tip=f"{SHORT_RATE.get(det.rate, det.rate)}: "
                                             f"{data.group_names[det.low]} vs "
                                             f"{data.group_names[det.high]}" if det.rate else
                                         det.undefined_reason)
        rows.append(row)
    chosen = [f"{s.name}: chosen on {s.chosen_on}" for s in series if s.chosen_on]
    return Table("Decisions over time", cols, rows,
                 title="Each option applied to every period: does the decision hold?",
                 notes=(chosen or ["No option was chosen on a single period: each applies the "
                                   "same rule to every period."])
                 + [f"Periods: {data.period_how} (column '{data.mapping.period}')."],
                 label_key="group", swatch_key="g")
