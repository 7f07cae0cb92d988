"""Household-policy results as tables (no Qt), shown the same in the window, the workbook and
the command line: the policy table (the audit's Tables 4 and 5), score or protocol
distributions by group (Figure 1), screen-in by household size (Figure 8), the bin edges, and
feature disparities (Appendix A.2.2)."""

from __future__ import annotations

import math

from ..engines.households import (EDGE_CONVENTION, MEMBERSHIP, OUTCOME_LEVELS, POLICIES,
                                  SCORE_POLICIES, SCORE_SHORT, HouseholdResult, PolicyResult,
                                  is_binary, split_text)
from ..present.formats import (format_count, format_fixed, format_people, format_rate,
                               is_missing, people_decimals)
from ..present.table import Cell, ChartSpec, Column, Table
from ..undefined import Undefined

POLICY_SHORT = {"individual": "Individual", "household_max": "HH max",
                "flagged_max": "Flagged", "protocol": "Protocol"}
NOT_COMPUTED = "—"  # a policy that needs a column that is not chosen
NOT_REPORTED = "not reported"  # AUC of a protocol policy (the audit's Table 4)

# the policy table's measures: key -> (label, per group?, overall?, kind, definition)
MEASURES = {
    "auc": ("AUC", True, True, "fixed",
            "Chance that a unit WITH the outcome is ranked above a unit WITHOUT it, both from "
            "the group (0.5 = chance, 1 = perfect). The shown score ranks; the underlying "
            "probability breaks its ties, as the audit does; remaining ties count half."),
    "xauc": ("xAUC", True, False, "fixed",
             "Cross-AUC: chance that a unit of the group WITH the outcome is ranked above a "
             "unit OUTSIDE the group WITHOUT it (Kallus & Zhou). Much lower than the group's "
             "AUC: the group's true cases are ranked below other people's non-cases."),
    "fpr": ("FPR", True, True, "rate",
            "False positive rate at the cutoff: share of the units WITHOUT the outcome that "
            "are screened in (shown score at or above the cutoff, or High-risk protocol)."),
    "tpr": ("TPR", True, True, "rate",
            "True positive rate at the cutoff: share of the units WITH the outcome that are "
            "screened in."),
    "screen_in": ("Screen-in", True, True, "rate",
                  "Share of all the group's units screened in at the cutoff (shown score at or "
                  "above the cutoff, or High-risk protocol)."),
    "fpr_rest": ("FPR of the rest", True, False, "rate",
                 "False positive rate of the units NOT in the group (the audit's footnote 5 "
                 "compares a group's households with the rest)."),
    "tpr_rest": ("TPR of the rest", True, False, "rate",
                 "True positive rate of the units NOT in the group (footnote 5)."),
    "screen_in_rest": ("Screen-in of the rest", True, False, "rate",
                       "Screen-in rate of the units NOT in the group (footnote 5)."),
    "n": ("Units", True, True, "count",
          "How many units the policy counts: people for person-level outcomes, households "
          "for household-level outcomes."),
}


def data_problem(data) -> str:
    """'' when ``data`` (an AnalysisData or None) can be analysed, else what to do."""
    if data is None:
        return "Open a data file and map its columns to compare household policies."
    if data.households is None:
        return ("Household policies need a household id column. On the Data page, give a "
                "column the role “Household id” (and map a flag column, such as alleged "
                "victim, and an age column as extra attributes for policies 4–7).")
    if data.label is None:
        return "Household policies need an outcome column: map one on the Data page."
    return ""


def column_choices(data) -> tuple[list, list, dict]:
    """The split values, the 0/1 extra columns, and the natural choices: the "train" split
    for the edges, a flag column named like victim/flag/alleged, an age column."""
    splits = [] if data.split is None else \
        sorted(set(split_text(data.split).tolist()) - {""}, key=str)
    extras = list(data.extras)
    binary = [c for c in extras if is_binary(data.extras[c])]
    guess = {"split": "train" if "train" in splits else None,
             "flag": next((c for c in binary if any(k in c.lower() for k in
                                                    ("victim", "flag", "alleged"))), None),
             "age": next((c for c in extras if "age" in c.lower().replace("_", " ").split()
                          or c.lower().startswith("age")), None)}
    return splits, binary, guess


def policy_header(p: PolicyResult) -> str:
    """'3\\nHH max\\nhousehold': the policy's number, shown score and unit."""
    return f"{p.number}\n{POLICY_SHORT[p.score]}\n{p.unit}"


def policy_label(p: PolicyResult) -> str:
    """'3 · HH max · household': the policy's number, shown score and unit."""
    return f"{p.number} · {POLICY_SHORT[p.score]} · {p.unit}"


def policy_note(p: PolicyResult) -> str:
    note = (f"Policy {p.number}. Score shown: {SCORE_POLICIES[p.score]}. Outcome: "
            f"{OUTCOME_LEVELS[p.outcome]}. Units: {p.unit_word}.")
    return note if p.available else note + f" Not computed: it {p.reason}."


def _v(x, reason: str):
    x = float(x)
    return Undefined(reason) if math.isnan(x) else x


def _reason(p: PolicyResult, key: str, who: str) -> str:
    units = p.unit_word
    return {
        "auc": f"AUC needs {units} with and without the outcome in {who}",
        "xauc": f"{who} has no {units} with the outcome, or no {units} outside it lack the "
                "outcome",
        "fpr": f"0/0: {who} has no {units} without the outcome",
        "tpr": f"0/0: {who} has no {units} with the outcome",
        "screen_in": f"{who} has no {units}",
    }[key]


def policy_cell(p: PolicyResult, key: str, group: str | None, gi: int | None) -> Cell:
    """One measure of one policy for one group (``gi`` None: all units), with its tooltip."""
    label, _, _, kind, _ = MEASURES[key]
    if not p.available:
        return Cell(NOT_COMPUTED, muted=True,
                    tip=f"Policy {p.number} is not computed: it {p.reason}.")
    if key == "n":
        n = p.n_units if gi is None else int(p.n[gi])
        return Cell(n, "count", tip=f"{format_count(n)} {p.unit_word}")
    if key == "auc" and p.auc_note:
        return Cell(NOT_REPORTED, muted=True, tip=f"AUC {p.auc_note}.")
    if key.endswith("_rest"):
        value = getattr(p, key)[gi]
        if is_missing(value):
            return Cell(Undefined(f"Policy {p.number}: 0/0: the {p.unit_word} not in "
                                  f"'{group}' have none in the denominator."), kind)
        own = getattr(p, key[:-5])[gi]
        return Cell(float(value), kind,
                    tip=f"{label} (the {p.unit_word} not in '{group}') under policy "
                        f"{p.number}: {format_rate(value, 2)}; '{group}': {format_rate(own, 2)}")
    value = getattr(p, f"{key}_overall") if gi is None else getattr(p, key)[gi]
    who = "all units" if gi is None else f"group '{group}'"
    if is_missing(value):
        return Cell(Undefined(f"Policy {p.number}: {_reason(p, key, who)}."), kind)
    n = p.n_units if gi is None else int(p.n[gi])
    shown = format_rate(value, 2) if kind == "rate" else format_fixed(value, 4)
    tip = f"{label} of {who} under policy {p.number}: {shown} ({format_count(n)} {p.unit_word})"
    if key == "xauc":
        auc = p.auc[gi]
        tip += "" if is_missing(auc) else f"; its AUC is {format_fixed(auc, 3)}"
        tip += f".\nDirection: {p.xauc_direction(group)}."
    return Cell(float(value), kind, tip=tip)


def policy_rows(res: HouseholdResult) -> list[tuple[str, str | None, int | None]]:
    """(measure key, group name or None for all units, group index) of each row."""
    footnote5 = res.settings.membership == "footnote5"
    out = []
    for key, (_label, per_group, overall, _kind, _def) in MEASURES.items():
        if key.endswith("_rest") and not footnote5:
            continue
        out += [(key, None, None)] if overall else []
        out += [(key, g, i) for i, g in enumerate(res.group_names)] if per_group else []
    return out


def policy_table(res: HouseholdResult) -> Table:
    """Every policy (columns) measured per group (rows): the audit's Tables 4 and 5."""
    rows = []
    for key, group, gi in policy_rows(res):
        label, *_rest, definition = MEASURES[key]
        row = {"measure": Cell(label, bold=True, tip=definition),
               "group": Cell(group or "overall", swatch=gi,
                             tip=f"Group {group}" if gi is not None else "All units together")}
        for p in res.policies:
            row[f"p{p.number}"] = policy_cell(p, key, group, gi)
        rows.append(row)
    s = res.settings
    cols = [Column("measure", "Measure", note="Hover a measure for its definition"),
            Column("group", "Group", note="Person-level policies: the person's own group. "
                                          f"Household-level policies: {MEMBERSHIP[s.membership]}.")]
    cols += [Column(f"p{p.number}", policy_header(p), "fixed", 3, note=policy_note(p))
             for p in res.policies]
    notes = [f"{label}: {definition}" for label, *_r, definition in MEASURES.values()]
    notes += [
        "Policies: " + "; ".join(f"{k} = {SCORE_SHORT[a].lower()} score, {b} outcome"
                                 for k, (a, b) in POLICIES.items()) + ".",
        f"Cutoff: bin score ≥ {s.cutoff_value()} of {s.bins} (protocol policies: High-risk "
        f"protocol). Households: {MEMBERSHIP[s.membership]}; each household counts once.",
        "Units are people for person-level outcomes and households (outcome = any member's) "
        "for household-level outcomes.",
        "xAUC direction: xAUC(g) = P(a unit of g WITH the outcome is ranked above a unit "
        "outside g WITHOUT it); below 0.5, or below g's AUC, g's positives are ranked under the "
        "others' negatives.",
        f"AUC is {NOT_REPORTED} for the protocol policies (4 and 5: three levels), as in the "
        "audit's Table 4.",
    ]
    notes += [f"{NOT_COMPUTED} Policy {p.number} not computed: it {p.reason}."
              for p in res.policies if not p.available]
    return Table("Household policies", cols, rows,
                 title="Household aggregation policies 1–7 (numbered as the audit's Tables 3 "
                       "and 5): AUC, xAUC and error rates by group", notes=notes,
                 label_key="group")


def summary_lines(res: HouseholdResult) -> tuple[str, list[str], list[str]]:
    """What the policy table rests on (one line), the policies not computed, and the other
    warnings."""
    s = res.settings
    head = (f"{format_count(res.n_people)} people in {format_count(res.n_households)} "
            f"households; {s.bins} bins (edges from {res.reference}"
            + (", scores read as bins" if s.prebinned else "")
            + f"); screened in at bin ≥ {s.cutoff_value()} or High-risk protocol.")
    missing = [f"Policy {p.number} not computed: it {p.reason}."
               for p in res.policies if not p.available]
    other = [w for w in res.warnings if not w.startswith("Policy ")
             and not w.startswith("Feature disparity")]
    return head, missing, other


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
    cols = [Column("policy", "Policy", "count"), Column("policy_name", "Score, outcome"),
            Column("unit", "Units"), Column("level", "Score or protocol")]
    cols += [Column(f"g{g}", name, "rate", note=f"Share of the {name} units with this score")
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
        [Column(f"g{g}", name, "rate") for g, name in enumerate(names + ["All"])]
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
                    "score": SCORE_SHORT[score], "size": label, "group": name, "g": g,
                    "households": int(s.n[g, b]), "screened": int(s.screened[g, b]),
                    "rate": _v(s.rate[g, b], f"group '{name}' has no household of size {label}"),
                    "rate_other": _v(s.rate_other[g, b], f"no household of size {label} is "
                                     f"outside group '{name}'"),
                    "ratio": _v(s.ratio[g, b], "the rate of the group, or of the households "
                                "outside it, is undefined or zero")})
    cols = [Column("score", "Score shown"), Column("size", "Household size"),
            Column("group", "Group"),
            Column("households", "Households", "count"), Column("screened", "Screened in", "count"),
            Column("rate", "Screen-in rate", "rate",
                   note="Share of the group's households of this size screened in at the cutoff"),
            Column("rate_other", "Rate outside the group", "rate",
                   note="The same share among households of this size not in the group"),
            Column("ratio", "Disparity (ratio)", "ratio", 2,
                   note="Screen-in rate of the group ÷ rate of the other households of the same "
                        "size; 1 = equal")]
    return Table("Household size", cols, rows,
                 title="Screen-in by household size and group (the audit's Figure 8)",
                 notes=["For the individual score a household is screened in when any member "
                        "is, as for the household maximum.",
                        f"Households: {MEMBERSHIP[res.settings.membership]}."],
                 label_key="group", swatch_key="g")


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
        [Column(f"r{g}", f"Ratio, {name}", "ratio", 2) for g, name in enumerate(names)] + \
        [Column(f"s{g}", f"Rate, {name}", "rate") for g, name in enumerate(names)]
    return Table(f"Size disparity, {SCORE_SHORT[score].lower()}"[:31], cols, rows,
                 title=f"{SCORE_SHORT[score]} score: screen-in disparity by household size "
                       "(group ÷ other households)",
                 charts=[ChartSpec("line", "Screen-in disparity by household size", "size",
                                   [f"r{g}" for g in range(len(names))],
                                   x_title="Household size", y_title="Ratio (1 = equal)")])


def _edge(value, reason: str) -> Cell:
    if value is None or not math.isfinite(value):
        return Cell(NOT_COMPUTED, muted=True, tip=reason if value is None else
                    "No reference score reaches this edge (ties)")
    return Cell(float(value), tip=f"{float(value)!r}")


def edges_table(res: HouseholdResult, score_decimals: int | None = None) -> Table:
    """The bin scores: each bin's edges (in the score's units, ``score_decimals`` decimals:
    :attr:`AnalysisData.score_decimals`) and its share of the reference and of all rows."""
    n = res.settings.bins
    e = list(res.edges)
    none = "The scores are read as bin scores: no edges" if not e else None
    rows = [{"bin": j + 1,
             "lower": _edge(e[j - 1] if 0 < j <= len(e) else None,
                            none or "No edge here: the lowest bin has no lower edge"),
             "upper": _edge(e[j] if j < len(e) else None,
                            none or "No edge here: the highest bin has no upper edge"),
             "share_ref": float(res.bin_share_reference[j]),
             "share_all": float(res.bin_share_all[j])} for j in range(n)]
    cols = [Column("bin", "Bin", "count", note="The bin score (1 = lowest risk)"),
            Column("lower", "From", "score", score_decimals,
                   note="Lowest score of the bin: its lower edge (a score equal to it is in "
                        "this bin)"),
            Column("upper", "To (excl.)", "score", score_decimals,
                   note="The next edge: scores from it on are in the next bin"),
            Column("share_ref", "Reference", "rate",
                   note="Share of the reference set in the bin (each ≈ 1/bins)"),
            Column("share_all", "All rows", "rate", note="Share of all rows in the bin")]
    return Table("Bin edges", cols, rows,
                 title=f"{n} bin scores from the reference set ({res.reference}, "
                       f"{format_count(res.n_reference)} rows)",
                 notes=[EDGE_CONVENTION, "Edges are in the score's units. Each bin holds "
                        f"1/{n} of the reference's (weighted) rows, up to ties.",
                        f"{NOT_COMPUTED}: no edge (below the first and above the last edge)."])


def features_table(features: list, groups: tuple) -> Table | None:
    """Binary attributes: the share of group A and of group B with each, and their risk
    ratio (rows of :func:`fairdesk.engines.households.feature_disparity`)."""
    if not features:
        return None
    a, b = groups
    dec = people_decimals([f[k] for f in features for k in ("with_a", "with_b")])

    def ratio(f):
        r = f["ratio"]
        if r == math.inf:
            return Cell(math.inf, muted=True, tip=f"No one in {b} has the attribute")
        if is_missing(r):
            return Cell(Undefined("0/0: neither group has the attribute, or a group is empty"))
        return Cell(float(r), tip=f"{format_people(f['with_a'], dec)} of {format_count(f['n_a'])}"
                                  f" in {a}; {format_people(f['with_b'], dec)} of "
                                  f"{format_count(f['n_b'])} in {b}")

    rows = [{"feature": f["feature"],
             "share_a": _v(f["share_a"], f"group '{a}' is empty"),
             "share_b": _v(f["share_b"], f"'{b}' is empty"),
             "ratio": ratio(f), "n_a": f["n_a"], "n_b": f["n_b"]} for f in features]
    cols = [Column("feature", "Attribute", note="The 0/1 extra column"),
            Column("share_a", f"Share of\n{a}", "rate",
                   note=f"Share of {a} with the attribute (weighted)"),
            Column("share_b", f"Share of\n{b}", "rate",
                   note=f"Share of {b} with the attribute (weighted)"),
            Column("ratio", "Risk\nratio", "ratio", 2,
                   note=f"Share of {a} ÷ share of {b}: 2 = twice as common in {a}"),
            Column("n_a", f"People,\n{a}", "count", note=f"People in {a} (rows)"),
            Column("n_b", f"People,\n{b}", "count", note=f"People in {b} (rows)")]
    return Table("Feature disparity", cols, rows, label_key="feature",
                 title=f"Binary attributes: {a} compared with {b} (the audit's Appendix A.2.2)",
                 notes=["Sorted from the largest ratio. ∞: no one in the second group has the "
                        "attribute."])


def households_tables(res: HouseholdResult, chart_policy: int | None = None,
                      chart_size_score: str | None = None,
                      score_decimals: int | None = None) -> list[Table]:
    """Every table; the two chart sheets show ``chart_policy`` (default 3, else the first
    available) and ``chart_size_score`` (default that policy's score). ``score_decimals``:
    the decimals of the bin edges (the data's :attr:`AnalysisData.score_decimals`)."""
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
    tables.append(edges_table(res, score_decimals))
    t = features_table(res.features, res.feature_groups)
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
