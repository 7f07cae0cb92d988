"""Household-policy results as workbook tables (no Qt): the policy table (the audit's
Tables 4 and 5), score or protocol distributions by group (Figure 1), screen-in by
household size (Figure 8), the bin edges, and feature disparities (Appendix A.2.2)."""

from __future__ import annotations

import math

from ..engines.households import (EDGE_CONVENTION, MEMBERSHIP, OUTCOME_LEVELS, POLICIES,
                                  SCORE_POLICIES, SCORE_SHORT, HouseholdResult, PolicyResult)
from ..undefined import Undefined
from .workbook import ChartSpec, Column, Table

MEASURES = {
    "auc": ("AUC", "Chance that a unit (person or household) with the outcome is ranked above "
                   "one without it, within the group; the communicated score ranks, the "
                   "underlying probability breaks its ties; ties left count half."),
    "xauc": ("xAUC", "Chance that a unit of the group WITH the outcome is ranked above a unit "
                     "outside the group WITHOUT it (Kallus & Zhou). Below the group's AUC: its "
                     "positives are ranked under the others' negatives more often."),
    "fpr": ("FPR", "False positive rate at the cutoff: share of the units without the outcome "
                   "that are screened in (bin score at or above the cutoff, or High-risk "
                   "protocol)."),
    "tpr": ("TPR", "True positive rate at the cutoff: share of the units with the outcome that "
                   "are screened in."),
    "screen_in": ("Screen-in rate", "Share of the group's units screened in at the cutoff."),
    "fpr_rest": ("FPR of the rest", "FPR of the units not in the group (the audit's footnote 5 "
                                    "compares a group with the rest)."),
    "tpr_rest": ("TPR of the rest", "TPR of the units not in the group (footnote 5)."),
    "screen_in_rest": ("Screen-in rate of the rest", "Screen-in rate of the units not in the "
                                                     "group (footnote 5)."),
    "n": ("Units", "People (person-level policies) or households (household-level policies) "
                   "of the group."),
}


def policy_header(p: PolicyResult) -> str:
    return f"{p.number}. {SCORE_SHORT[p.score]}\n{p.outcome} outcome"


def _v(x, reason: str):
    x = float(x)
    return Undefined(reason) if math.isnan(x) else x


def _reasons(p: PolicyResult, key: str, group: str | None) -> str:
    who = f"group '{group}'" if group else "the data"
    units = p.unit_word
    return {
        "auc": f"{who} has no {units} with the outcome or none without it",
        "xauc": f"{who} has no {units} with the outcome, or no {units} outside it lack it",
        "fpr": f"0/0: {who} has no {units} without the outcome",
        "tpr": f"0/0: {who} has no {units} with the outcome",
        "screen_in": f"{who} has no {units}",
        "n": "",
    }[key]


def policy_table(res: HouseholdResult) -> Table:
    names = res.group_names
    rows = []
    footnote5 = res.settings.membership == "footnote5"
    for key, (label, _tip) in MEASURES.items():
        if key.endswith("_rest") and not footnote5:
            continue
        rest = key.endswith("_rest")
        targets = ([("overall", None)] if key not in ("xauc",) and not rest else []) + \
            [(g if not rest else f"not '{g}'", i) for i, g in enumerate(names)]
        for gname, gi in targets:
            row = {"measure": label, "group": gname}
            for p in res.policies:
                col = f"p{p.number}"
                if not p.available:
                    row[col] = Undefined(f"Policy {p.number} {p.reason}.")
                    continue
                if key == "n":
                    row[col] = int(p.n_units if gi is None else p.n[gi])
                    continue
                if key == "auc" and p.auc_note:
                    row[col] = Undefined(f"Policy {p.number}: AUC {p.auc_note}.")
                    continue
                if rest:
                    row[col] = _v(getattr(p, key)[gi], f"Policy {p.number}: 0/0 among the "
                                                       f"{p.unit_word} not in '{names[gi]}'.")
                    continue
                value = getattr(p, f"{key}_overall") if gi is None else getattr(p, key)[gi]
                row[col] = _v(value, f"Policy {p.number}: {_reasons(p, key, None if gi is None else gname)}.")
            rows.append(row)
    cols = [Column("measure", "Measure", note="Hover the measure names in FairDesk for their "
                                              "definitions; see the notes under the table."),
            Column("group", "Group")]
    for p in res.policies:
        kind = "float"
        note = (f"Score shown: {SCORE_POLICIES[p.score]}. Outcome: {OUTCOME_LEVELS[p.outcome]}. "
                f"Units: {p.unit_word}.")
        cols.append(Column(f"p{p.number}", policy_header(p), kind, 3, note=note))
    s = res.settings
    notes = [f"{label}: {tip}" for label, tip in MEASURES.values()]
    notes += [
        "Policies: " + "; ".join(f"{k} = {SCORE_SHORT[a].lower()} score, {b} outcome"
                                 for k, (a, b) in POLICIES.items()) + ".",
        f"Cutoff: bin score ≥ {s.cutoff_value()} of {s.bins} (protocol policies: High-risk protocol). "
        f"Households: {MEMBERSHIP[s.membership]}; each household counts once.",
        "Units are people for person-level outcomes and households (outcome = any member's) "
        "for household-level outcomes.",
        "xAUC direction: xAUC(g) = P(a unit of g WITH the outcome is ranked above a unit outside g "
        "WITHOUT it); below 0.5, or below g's AUC, g's positives are ranked under the others' "
        "negatives.",
        "AUC is not reported for the protocol policies (4 and 5: three levels), as in the audit's "
        "Table 4.",
    ]
    return Table("Household policies", cols, rows,
                 title="Household aggregation policies 1–7 (numbered as the audit's Tables 3 and 5): "
                       "AUC, xAUC and error rates by group", notes=notes)


def distribution_table(res: HouseholdResult) -> Table:
    names = res.group_names
    rows = []
    for p in res.policies:
        if not p.available:
            continue
        totals = p.distribution.sum(axis=1)
        for j, level in enumerate(p.levels):
            row = {"policy": p.number, "policy_name": f"{SCORE_SHORT[p.score]}, {p.outcome}",
                   "unit": p.unit_word, "level": level}
            for g, name in enumerate(names + ["All"]):
                t = totals[g]
                row[f"g{g}"] = _v(p.distribution[g, j] / t if t > 0 else math.nan,
                                  f"group '{name}' has no {p.unit_word}")
            rows.append(row)
    cols = [Column("policy", "Policy", "int"), Column("policy_name", "Score, outcome"),
            Column("unit", "Units"), Column("level", "Score or protocol")]
    cols += [Column(f"g{g}", name, "percent", 1, note=f"Share of the {name} units with this score")
             for g, name in enumerate(names + ["All"])]
    return Table("Score distribution", cols, rows,
                 title="Share of each group's units by communicated score or protocol "
                       "(the audit's Figure 1)",
                 notes=["Household-level policies count households, person-level policies "
                        f"people. Households: {MEMBERSHIP[res.settings.membership]}."])


def chart_distribution_table(res: HouseholdResult, number: int) -> Table | None:
    p = next((q for q in res.policies if q.number == number and q.available), None)
    if p is None:
        return None
    names = res.group_names
    totals = p.distribution.sum(axis=1)
    rows = []
    for j, level in enumerate(p.levels):
        row = {"level": level}
        for g, name in enumerate(names + ["All"]):
            t = totals[g]
            row[f"g{g}"] = _v(p.distribution[g, j] / t if t > 0 else math.nan,
                              f"group '{name}' has no {p.unit_word}")
        rows.append(row)
    keys = [f"g{g}" for g in range(len(names))]
    cols = [Column("level", "Score or protocol")] + \
        [Column(f"g{g}", name, "percent", 1) for g, name in enumerate(names + ["All"])]
    return Table(f"Scores, policy {number}", cols, rows,
                 title=f"Policy {p.number} ({SCORE_SHORT[p.score].lower()} score, {p.outcome} "
                       f"outcome): share of each group's {p.unit_word} by score",
                 charts=[ChartSpec("bar", f"Policy {p.number}: {p.unit_word} by score and group",
                                   "level", keys, x_title="Score or protocol",
                                   y_title=f"Share of the group's {p.unit_word}",
                                   percent_axis=True)])


def size_table(res: HouseholdResult) -> Table:
    names = res.group_names
    rows = []
    for score, s in res.sizes.items():
        for b, label in enumerate(s.sizes):
            for g, name in enumerate(names):
                rows.append({
                    "score": SCORE_SHORT[score], "size": label, "group": name,
                    "households": int(s.n[g, b]), "screened": int(s.screened[g, b]),
                    "rate": _v(s.rate[g, b], f"group '{name}' has no household of size {label}"),
                    "rate_other": _v(s.rate_other[g, b], f"no household of size {label} is "
                                     f"outside group '{name}'"),
                    "ratio": _v(s.ratio[g, b], f"the rate of the group, or of the households "
                                "outside it, is undefined or zero")})
    cols = [Column("score", "Score shown"), Column("size", "Household size"), Column("group", "Group"),
            Column("households", "Households", "int"), Column("screened", "Screened in", "int"),
            Column("rate", "Screen-in rate", "percent", 1,
                   note="Share of the group's households of this size screened in at the cutoff"),
            Column("rate_other", "Rate outside the group", "percent", 1,
                   note="The same share among households of this size not in the group"),
            Column("ratio", "Disparity (ratio)", "float", 2,
                   note="Screen-in rate of the group ÷ rate of the other households of the same "
                        "size; 1 = equal")]
    return Table("Household size", cols, rows,
                 title="Screen-in by household size and group (the audit's Figure 8)",
                 notes=["For the individual score a household is screened in when any member "
                        "is, as for the household maximum.",
                        f"Households: {MEMBERSHIP[res.settings.membership]}."])


def chart_size_table(res: HouseholdResult, score: str) -> Table | None:
    s = res.sizes.get(score)
    if s is None:
        return None
    names = res.group_names
    rows = []
    for b, label in enumerate(s.sizes):
        row = {"size": label}
        for g, name in enumerate(names):
            row[f"r{g}"] = _v(s.ratio[g, b], "undefined: no household, or a zero rate, on "
                                             "one side")
            row[f"s{g}"] = _v(s.rate[g, b], f"group '{name}' has no household of size {label}")
        rows.append(row)
    cols = [Column("size", "Household size")] + \
        [Column(f"r{g}", f"Ratio, {name}", "float", 2) for g, name in enumerate(names)] + \
        [Column(f"s{g}", f"Rate, {name}", "percent", 1) for g, name in enumerate(names)]
    return Table(f"Size disparity, {SCORE_SHORT[score].lower()}"[:31], cols, rows,
                 title=f"{SCORE_SHORT[score]} score: screen-in disparity by household size "
                       "(group ÷ other households)",
                 charts=[ChartSpec("line", "Screen-in disparity by household size", "size",
                                   [f"r{g}" for g in range(len(names))],
                                   x_title="Household size", y_title="Ratio (1 = equal)")])


def edges_table(res: HouseholdResult) -> Table:
    n = res.settings.bins
    rows = []
    e = list(res.edges)
    for j in range(n):
        lo = e[j - 1] if 0 < j <= len(e) else None
        hi = e[j] if j < len(e) else None
        rows.append({
            "bin": j + 1,
            "lower": lo if lo is not None else Undefined("the lowest bin has no lower edge")
            if e else Undefined("the scores are read as bin scores (no edges)"),
            "upper": hi if hi is not None else Undefined("the highest bin has no upper edge")
            if e else Undefined("the scores are read as bin scores (no edges)"),
            "share_ref": float(res.bin_share_reference[j]),
            "share_all": float(res.bin_share_all[j])})
    cols = [Column("bin", "Bin score", "int"),
            Column("lower", "From (edge, included)", "number"),
            Column("upper", "To (next edge, excluded)", "number"),
            Column("share_ref", "Share of the reference", "percent", 2),
            Column("share_all", "Share of all rows", "percent", 2)]
    return Table("Bin edges", cols, rows,
                 title=f"{n} bin scores from the reference set ({res.reference}, "
                       f"{res.n_reference:,} rows)",
                 notes=[EDGE_CONVENTION, "Edges are in the score's units. Each bin holds "
                        f"1/{n} of the reference's (weighted) rows, up to ties."])


def features_table(res: HouseholdResult) -> Table | None:
    if not res.features:
        return None
    a, b = res.feature_groups
    rows = [{"feature": f["feature"],
             "share_a": _v(f["share_a"], f"group '{a}' is empty"),
             "share_b": _v(f["share_b"], f"'{b}' is empty"),
             "ratio": f["ratio"] if not math.isnan(f["ratio"]) else
             Undefined("both shares are zero or a group is empty"),
             "n_a": f["n_a"], "n_b": f["n_b"]} for f in res.features]
    cols = [Column("feature", "Attribute"),
            Column("share_a", f"Share of {a}", "percent", 1),
            Column("share_b", f"Share of {b}", "percent", 1),
            Column("ratio", "Risk ratio", "float", 2,
                   note=f"Share of {a} with the attribute ÷ share of {b} with it"),
            Column("n_a", f"People, {a}", "int"), Column("n_b", f"People, {b}", "int")]
    return Table("Feature disparity", cols, rows,
                 title=f"Binary attributes: {a} compared with {b} (the audit's Appendix A.2.2)",
                 notes=["Sorted from the largest ratio. ∞: no one in the second group has the "
                        "attribute."])


def households_tables(res: HouseholdResult, chart_policy: int | None = None,
                      chart_size_score: str | None = None) -> list[Table]:
    """Every table; the two chart sheets show ``chart_policy`` (default 3, else the first
    available) and ``chart_size_score`` (default that policy's score)."""
    tables = [policy_table(res), distribution_table(res)]
    available = [p.number for p in res.policies if p.available]
    if chart_policy not in available:
        chart_policy = 3 if 3 in available else (available[0] if available else None)
    if chart_policy is not None:
        t = chart_distribution_table(res, chart_policy)
        if t is not None:
            tables.append(t)
    if res.sizes:
        tables.append(size_table(res))
        score = chart_size_score if chart_size_score in res.sizes else \
            POLICIES.get(chart_policy, ("household_max",))[0]
        if score not in res.sizes:
            score = next(iter(res.sizes))
        t = chart_size_table(res, score)
        if t is not None:
            tables.append(t)
    tables.append(edges_table(res))
    t = features_table(res)
    if t is not None:
        tables.append(t)
    return tables


def settings_summary(res: HouseholdResult) -> dict:
    s = res.settings
    return {
        "Bins": s.bins, "Reference for the edges": res.reference,
        "Scores read as bins": "yes" if s.prebinned else "no",
        "Flag column": s.flag or "(none)", "Age column": s.age or "(none)",
        "Screen-in cutoff": f"bin score ≥ {s.cutoff_value()} (protocols: High-risk)",
        "Household groups": MEMBERSHIP[s.membership],
        "Protocol rules": s.protocol.describe(),
        "AUC ranking": "communicated score, ties broken by the underlying probability"
        if s.tie_break else "communicated score only (ties count half)",
        "Policies": ", ".join(str(p) for p in s.policies),
        "Edge convention": EDGE_CONVENTION,
    }
