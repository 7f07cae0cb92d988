"""Risk tiers at k thresholds, described once: the calibration table (one row per tier and
group), the outcome rates by tier (one row per tier, one column per group, with its bar
chart), and the words the Tiers page and the workbook say about threshold rules.

k ordered thresholds split the scores into k + 1 tiers S1 (lowest risk) … Sk+1; a score
equal to a threshold goes to the higher tier. Every threshold reads with
:func:`fairdesk.present.formats.format_score` at the data's ``score_decimals``.

No Qt here: the window shows these tables with :class:`fairdesk.gui.table_model.ResultTable`,
the workbook writes them as they are.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import numpy as np

from ..errors import FairDeskError
from ..metrics.fairness import measure
from ..metrics.thresholds import ThresholdRule, bin_edges, tier_counts
from ..present.formats import (format_count, format_people, format_rate, format_score,
                               parse_number)
from ..present.table import Cell, ChartSpec, Column, Table
from ..undefined import Undefined

__all__ = ["NOTES", "TIER_RULE", "TierResult", "calibration_table", "chart_note",
           "compute_tiers", "describe_rule", "describe_rules", "parse_rule", "rates_table",
           "rule_value_text", "settings_summary", "short_list", "tier_ranges", "tier_tables"]

TIER_RULE = "A score equal to a threshold goes to the higher tier."
NOTES = {
    "tier": "S1 is the lowest-risk tier; the last tier holds the highest scores.",
    "range": "The scores that fall in the tier. " + TIER_RULE,
    "group": "The protected group (the combination of the group columns).",
    "rows": "Number of rows of the group in this tier (unweighted).",
    "share": "Share of the group's people who fall in this tier (weights count as people; "
             "without a weight column, the share of the group's rows).",
    "weight": "Sum of the frequency weights of the group's rows in this tier: the number of "
              "people they stand for.",
    "outcome_rate": "Observed outcome rate: the share of the group's people in this tier who "
                    "had the outcome. Undefined (0/0) when no one of the group is in the tier.",
    "cal": "Calibration within the tier: the smallest ratio, smaller ÷ larger, of the outcome "
           "rates of any two groups in this tier. 1 = every group has the same outcome rate "
           "(the tier means the same risk for everyone).",
}
TABLE_NOTES = ["S1 is the lowest-risk tier. " + TIER_RULE,
               "Outcome rate: share of the group's people in the tier who had the outcome. "
               "CAL: smallest ratio (smaller ÷ larger) of the outcome rates of two groups in "
               "the tier; 1 = calibrated."]


# ------------------------------------------------------------------ threshold rules in words

def parse_rule(kind: str, text: str, n_bins: int, number: int,
               exact: float | None = None) -> ThresholdRule:
    """The rule an editor row describes (kind, the value as typed, the number of bins);
    FairDeskError with a message naming rule ``number`` when the input is bad. ``exact``:
    the full-precision value of a fixed rule whose text is its rounded display."""
    where = f"Rule {number}"
    if kind in ("mean", "oregon_low", "oregon_high"):
        return ThresholdRule(kind, None, n_bins)
    text = str(text).strip()
    v = exact if exact is not None else (parse_number(text) if text else math.nan)
    if math.isnan(v):
        what = {"fixed": "a threshold value", "quantile": "a percentage from 0 to 100",
                "top_k": "K, a whole number of at least 1",
                "ventile": f"the bin edge, a whole number from 1 to {n_bins - 1}"}[kind]
        raise FairDeskError(f"{where}: type {what}.")
    if not math.isfinite(v):
        raise FairDeskError(f"{where}: the value must be a finite number.")
    if kind == "fixed":
        return ThresholdRule("fixed", float(v))
    if kind == "quantile":
        if not 0 <= v <= 100:
            raise FairDeskError(f"{where}: a quantile must be between 0% and 100% "
                                f"(you typed {text}%).")
        return ThresholdRule("quantile", v / 100)
    if kind == "top_k":
        if v < 1 or v != int(v):
            raise FairDeskError(f"{where}: K must be a whole number of at least 1 "
                                f"(you typed {text}).")
        return ThresholdRule("top_k", float(int(v)))
    if v != int(v) or not 1 <= v <= n_bins - 1:
        raise FairDeskError(f"{where}: the bin edge must be a whole number from 1 to "
                            f"{n_bins - 1} for {n_bins} bins (you typed {text}).")
    return ThresholdRule("ventile", float(int(v)), n_bins)


def rule_value_text(rule: ThresholdRule, decimals: int | None = None) -> str:
    """What the editor's value field shows for ``rule``: a fixed threshold with the score's
    decimals, a quantile as a percentage, K and bin edges whole; "" for rules with no value."""
    v = rule.value
    if v is None:
        return ""
    if rule.kind == "fixed":
        return format_score(v, decimals)
    if rule.kind == "quantile":
        return f"{100 * v:.10g}"
    if rule.kind in ("top_k", "ventile"):
        return f"{int(v)}"
    return ""


def describe_rule(rule: ThresholdRule, decimals: int | None = None) -> str:
    """The rule in words, a fixed threshold written as every page writes it."""
    if rule.kind == "fixed" and rule.value is not None:
        return f"fixed value {format_score(rule.value, decimals)}"
    return rule.describe()


def describe_rules(rules: list[dict], decimals: int | None = None) -> str:
    """The rules in a few words ("" when they are all fixed values)."""
    try:
        rules = [ThresholdRule.from_dict(r) for r in rules]
    except (KeyError, TypeError, ValueError):
        return ""
    if not rules or all(r.kind == "fixed" for r in rules):
        return ""
    if all(r.kind == "ventile" for r in rules) and len({r.n_bins for r in rules}) == 1:
        js = sorted(int(r.value) for r in rules)
        if js == list(range(js[0], js[-1] + 1)) and len(js) > 2:
            return f"bin edges {js[0]}–{js[-1]} of {rules[0].n_bins}"
    if len(rules) > 4:
        return f"{len(rules)} rules"
    return "; ".join(describe_rule(r, decimals) for r in rules)


def short_list(values, decimals: int | None = None, limit: int = 6) -> str:
    """Thresholds as a short list: '0.2, 0.5' or '0.1, 0.2, 0.3, …, 0.9'."""
    v = [format_score(x, decimals) for x in np.ravel(values)]
    return ", ".join(v) if len(v) <= limit else ", ".join(v[:3]) + ", …, " + v[-1]


def settings_summary(data, thresholds, group_specific: bool, rules: list[dict]) -> dict:
    """The thresholds in force, for the workbook's About sheet."""
    t = np.asarray(thresholds, dtype=float)
    dec = data.score_decimals
    out = {"Group-specific thresholds": "Yes" if group_specific else "No"}
    if group_specific:
        t = t.reshape(data.n_groups, -1)
        for g, name in enumerate(data.group_names):
            out[f"Thresholds, {name}"] = ", ".join(format_score(v, dec) for v in t[g])
    else:
        out["Thresholds"] = ", ".join(format_score(v, dec) for v in t)
    try:
        out["Threshold rules"] = "; ".join(describe_rule(ThresholdRule.from_dict(r), dec)
                                           for r in rules or [])
    except (KeyError, TypeError, ValueError):
        pass
    out["Tiers"] = TIER_RULE
    return out


# ------------------------------------------------------------------ the tiers

def tier_ranges(oriented_sorted, sign: float, decimals: int | None = None
                ) -> list[tuple[str, str]]:
    """(short, long) score range of each tier, in the score's units: '0.2 – 0.5' and
    '0.2 ≤ score < 0.5'. ``oriented_sorted``: the thresholds in oriented units, ascending."""
    o = np.asarray(oriented_sorted, dtype=float)
    k = o.size
    # in the score's units a tier runs from a to b; which end is closed depends on the side
    # of risk: [a, b) when higher scores are riskier, (a, b] when lower ones are
    a_op, b_op, above = ("≤", "<", "≥") if sign > 0 else ("<", "≤", ">")
    out = []
    for j in range(k + 1):
        lo = o[j - 1] if j > 0 else None  # oriented bounds: [lo, hi)
        hi = o[j] if j < k else None
        ends = (lo, hi) if sign > 0 else (None if hi is None else -hi, None if lo is None else -lo)
        a, b = (None if v is None else format_score(v, decimals) for v in ends)
        if k == 0:
            out.append(("all scores", "all scores"))
        elif lo is not None and hi is not None and lo == hi:
            out.append(("empty", "empty: two thresholds are equal"))
        elif a is None:
            out.append((f"{b_op} {b}", f"score {b_op} {b}"))
        elif b is None:
            out.append((f"{above} {a}", f"score {above} {a}"))
        else:
            out.append((f"{a} – {b}", f"{a} {a_op} score {b_op} {b}"))
    return out


@dataclass
class TierResult:
    """The tiers at the applied thresholds: ``rows`` one dict per tier × group (tier-major),
    ``rate`` the outcome rate (n_groups, n_tiers), ``cal`` CAL per tier."""

    rows: list[dict]
    rate: np.ndarray
    cal: np.ndarray
    group_names: list[str]
    thresholds: np.ndarray  # user units, (k,) or (n_groups, k)
    group_specific: bool
    has_label: bool
    weighted: bool
    score_decimals: int
    people_decimals: int

    @property
    def n_tiers(self) -> int:
        return self.rate.shape[1]


def compute_tiers(data, scores, thresholds, group_specific: bool = False) -> TierResult:
    """Rows, people, outcome rate and CAL of every tier and group at ``thresholds`` (user
    units); ``scores``: the data's GroupScores."""
    t = np.asarray(thresholds, dtype=float)
    if group_specific:
        t = t.reshape(data.n_groups, -1)
    ot = np.sort(data.to_oriented(t), axis=-1)
    weight, positives, rows = tier_counts(scores, ot)
    has_label = bool(scores.has_label)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(weight > 0, positives / weight, np.nan) if has_label else \
            np.full(weight.shape, np.nan)
        share = np.where(scores.weight_total[:, None] > 0,
                         weight / scores.weight_total[:, None], np.nan)
    cal = measure("CAL", {}, rate)
    dec = data.score_decimals
    names = list(data.group_names)
    n_g = len(names)
    ranges = ([tier_ranges(ot[g], data.sign, dec) for g in range(n_g)] if group_specific
              else [tier_ranges(ot, data.sign, dec)] * n_g)
    out = []
    for j in range(weight.shape[1]):
        tier = f"S{j + 1}"
        defined = [names[g] for g in range(n_g) if not np.isnan(rate[g, j])]
        left_out = [names[g] for g in range(n_g) if np.isnan(rate[g, j])]
        if not has_label:
            cal_reason = "No outcome column is mapped, so outcome rates cannot be computed."
        elif n_g < 2:
            cal_reason = "There is only one group: calibration compares groups."
        else:
            cal_reason = (f"Fewer than two groups have people in tier {tier} "
                          f"({len(defined)} of {n_g}), so there is nothing to compare.")
        for g, name in enumerate(names):
            if not has_label:
                rate_reason = "No outcome column is mapped, so there is no outcome rate."
            else:
                rate_reason = (f"Undefined (0/0): no one in group '{name}' falls in tier "
                               f"{tier}, so its outcome rate has no denominator.")
            out.append({
                "tier": tier, "tier_index": j, "range": ranges[g][j][0],
                "range_long": ranges[g][j][1], "group": name, "group_index": g,
                "rows": int(rows[g, j]), "weight": float(weight[g, j]),
                "positives": float(positives[g, j]), "share": float(share[g, j]),
                "outcome_rate": float(rate[g, j]), "rate_reason": rate_reason,
                "cal": float(cal[j]), "cal_reason": cal_reason,
                "cal_left_out": left_out if len(defined) >= 2 else [],
            })
    return TierResult(out, rate, cal, names, t, bool(group_specific), has_label,
                      bool(data.weighted), dec, data.people_decimals)


def _defined(v: float, reason: str):
    return v if math.isfinite(v) else Undefined(reason)


def calibration_table(res: TierResult) -> Table:
    """One row per tier and group: rows, share of the group, people (with weights), outcome
    rate and the tier's CAL (written on every row of the tier, bold on its first)."""
    pd_ = res.people_decimals
    rows = []
    for r in res.rows:
        first = r["group_index"] == 0
        tier_tip = f"Tier {r['tier']}: {r['range_long']}. {TIER_RULE}"
        share, rate, cal = r["share"], r["outcome_rate"], r["cal"]
        rate_tip = (f"{format_people(r['positives'], pd_)} of {format_people(r['weight'], pd_)} "
                    f"people of group {r['group']} in tier {r['tier']} had the outcome")
        cal_tip = ""
        if math.isfinite(cal):
            cal_tip = (f"Calibration in tier {r['tier']}: the lowest outcome rate is "
                       f"{format_rate(cal)} of the highest. 1 = every group has the same rate.")
            if r["cal_left_out"]:
                cal_tip += " Left out (no one in the tier): " + ", ".join(r["cal_left_out"]) + "."
        rows.append({
            "tier": Cell(r["tier"], tip=tier_tip, bold=first),
            "range": Cell(r["range"], tip=tier_tip),
            "group": r["group"], "group_index": r["group_index"],
            "rows": Cell(r["rows"], tip=NOTES["rows"]),
            "share": Cell(_defined(share, "The group has no rows."),
                          tip=f"{format_rate(share, 2)} of group {r['group']} is in tier "
                              f"{r['tier']}" if math.isfinite(share) else ""),
            "weight": Cell(r["weight"], tip=NOTES["weight"]),
            "outcome_rate": Cell(_defined(rate, r["rate_reason"]),
                                 tip=rate_tip if math.isfinite(rate) else ""),
            "cal": Cell(_defined(cal, r["cal_reason"]), tip=cal_tip, bold=first, muted=not first),
        })
    columns = [Column("tier", "Tier", note=NOTES["tier"]),
               Column("range", "Score\nrange", note=NOTES["range"]),
               Column("group", "Group", note=NOTES["group"]),
               Column("rows", "Rows", "count", note=NOTES["rows"]),
               Column("share", "% of\ngroup", "rate", 1, note=NOTES["share"]),
               Column("weight", "Weight", "people", pd_, note=NOTES["weight"]),
               Column("outcome_rate", "Outcome\nrate", "rate", 1, note=NOTES["outcome_rate"]),
               Column("cal", "CAL\n(tier)", "ratio", 3, note=NOTES["cal"])]
    if not res.weighted:
        columns = [c for c in columns if c.key != "weight"]
    return Table(sheet="Tiers", title="Risk tiers by group (calibration)", columns=columns,
                 rows=rows, notes=list(TABLE_NOTES), label_key="group",
                 swatch_key="group_index")


def rates_table(res: TierResult) -> Table:
    """One row per tier, one outcome-rate column per group (and CAL): the bar chart's data."""
    keys = [f"rate_{g}" for g in range(len(res.group_names))]
    ranges = {r["tier"]: r["range"] for r in res.rows if r["group_index"] == 0}
    wide = []
    for j in range(res.n_tiers):
        tier = f"S{j + 1}"
        item = {"tier": tier, "range": "group-specific" if res.group_specific else ranges[tier]}
        for g, name in enumerate(res.group_names):
            item[keys[g]] = _defined(float(res.rate[g, j]),
                                     f"No one in group '{name}' falls in tier {tier} (0/0)."
                                     if res.has_label else "No outcome column is mapped.")
        item["cal"] = _defined(float(res.cal[j]), res.rows[j * len(keys)]["cal_reason"])
        wide.append(item)
    columns = ([Column("tier", "Tier", note=NOTES["tier"]),
                Column("range", "Score range", note=NOTES["range"])]
               + [Column(keys[g], name, "rate", 1,
                         note=f"Observed outcome rate of group {name} in each tier")
                  for g, name in enumerate(res.group_names)]
               + [Column("cal", "CAL (tier)", "ratio", 3, note=NOTES["cal"])])
    chart = ChartSpec("bar", "Observed outcome rate by tier and group", "tier", keys,
                      x_title="Risk tier (S1 = lowest risk)", y_title="Observed outcome rate",
                      percent_axis=True)
    return Table(sheet="Tier outcome rates", title="Observed outcome rate by tier and group",
                 columns=columns, rows=wide, notes=TABLE_NOTES[:1], charts=[chart])


def tier_tables(res: TierResult) -> list[Table]:
    """The tables the Tiers page shows and exports."""
    return [calibration_table(res), rates_table(res)]


def chart_note(res: TierResult) -> str:
    """The line under the outcome-rate chart."""
    missing = int(np.sum(~np.isfinite(res.rate)))
    if not res.has_label:
        return "No outcome column is mapped: outcome rates are undefined."
    if missing:
        return (f"{missing} bar{'s' * (missing > 1)} missing: the group has no one in that "
                "tier, so its rate is undefined (0/0).")
    return "Equal bars within a tier = calibrated across groups."


# ------------------------------------------------------------------ the rules editor's words

PRESETS = ("Single threshold 0.5", "Oregon three tiers (low, mean, high)",
           "Ventiles (19 edges → 20 tiers)", "Top K")
PRESET_TIPS = {
    PRESETS[0]: "One threshold at 0.5: two tiers, not flagged and flagged",
    PRESETS[1]: "The Oregon study's three thresholds: median of the scores below the mean, the "
                "mean, and the 75th percentile of the scores above the mean (four tiers)",
    PRESETS[2]: "19 edges of 20 equal-size bins: 20 tiers of about 5% of people each",
    PRESETS[3]: "Flag the K highest-risk people (K = 10% of people to start; edit it)",
}
PLACEHOLDERS = {"fixed": "e.g. 0.5", "quantile": "% e.g. 80", "top_k": "K e.g. 100",
                "ventile": "j e.g. 16"}
VALUE_TIPS = {"fixed": "The threshold, in the units of the score column",
              "quantile": "A percentage from 0 to 100: the threshold is the score below which "
                          "this share of people fall",
              "top_k": "How many of the highest-risk people to flag (a whole number)",
              "ventile": "Which bin edge: a whole number from 1 to n − 1, n being the number "
                         "of bins"}


def ten_percent(data) -> int:
    """K for a first top-K rule: 10 % of the people (100 without data)."""
    total = float(data.weight.sum()) if data is not None else 1000.0
    return max(1, round(0.1 * total))


def preset_rules(name: str, data) -> list[ThresholdRule]:
    if name == PRESETS[0]:
        return [ThresholdRule("fixed", 0.5)]
    if name == PRESETS[1]:
        return [ThresholdRule("oregon_low"), ThresholdRule("mean"), ThresholdRule("oregon_high")]
    if name == PRESETS[2]:
        return [ThresholdRule("ventile", float(j), 20) for j in range(1, 20)]
    if name == PRESETS[3]:
        return [ThresholdRule("top_k", float(ten_percent(data)))]
    raise ValueError(f"unknown preset {name!r}")


class RuleResolver:
    """ThresholdRule.resolve on one data set, cached (bin edges computed once per n)."""

    def __init__(self, data):
        self.data = data
        self._cache: dict = {}

    def __call__(self, rule: ThresholdRule) -> float:
        d = self.data
        key = (rule.kind, rule.value, rule.n_bins if rule.kind == "ventile" else None)
        if key in self._cache:
            return self._cache[key]
        if rule.kind == "ventile" and 1 <= int(rule.value) < rule.n_bins:
            ekey = ("edges", rule.n_bins)
            if ekey not in self._cache:  # the same computation as ThresholdRule.resolve
                self._cache[ekey] = bin_edges(d.score * d.sign, rule.n_bins, d.weight)
            value = float(self._cache[ekey][int(rule.value) - 1]) * d.sign
        else:
            value = float(rule.resolve(d))
        self._cache[key] = value
        return value


def flagged(data, scores, value: float, rule: ThresholdRule) -> tuple[str, str]:
    """(text, tooltip): the share of all people at or above ``value`` on the risk side."""
    c = scores.counts(np.array([data.to_oriented(value)]), shared=True).total()
    total = float(scores.weight_total.sum())
    share = float((c.tp + c.fp)[0, 0]) / total if total > 0 else math.nan
    tip = (f"{format_rate(share)} of people score at or above "
           f"{format_score(value, data.score_decimals)} (risk side)")
    if rule.kind == "top_k":
        n_sel = int(np.sum(data.oriented >= data.to_oriented(value)))
        tip += f"; {format_count(n_sel)} rows selected for K = {format_count(rule.value)}"
        if n_sel > rule.value and not data.weighted:
            tip += " (ties on the threshold score are all selected)"
    return format_rate(share), tip


def state_rules(data, thresholds, group_specific: bool, rule_dicts, resolve) -> list:
    """The rules the editor shows for the thresholds in force: the state's rules when they
    still give those thresholds, else one fixed rule per threshold (the group median per
    threshold for group-specific ones)."""
    t = np.asarray(thresholds, dtype=float)
    k = t.shape[-1]
    try:
        rules = [ThresholdRule.from_dict(r) for r in (rule_dicts or [])]
        resolved = np.sort([resolve(r) for r in rules])
    except (FairDeskError, KeyError, TypeError, ValueError):
        rules, resolved = [], np.zeros(0)
    if group_specific:
        if len(rules) != k:
            rules = [ThresholdRule("fixed", float(v))
                     for v in np.median(t.reshape(data.n_groups, -1), axis=0)]
    elif not (len(rules) == k and np.allclose(resolved, np.sort(t), rtol=0, atol=1e-12)):
        rules = [ThresholdRule("fixed", float(v)) for v in np.sort(t)]
    return rules

RULE_COLUMNS = [
    ("Rule", "How the threshold is computed; hover over a choice for its meaning"),
    ("Value", "The rule's number: the value, the percentage (quantile), K (top-K) or the edge j "
              "(bin edge)"),
    ("Bins", "Number of bins (bin-edge rules only): 20 = ventiles, 10 = deciles"),
    ("Threshold", "The threshold the rule gives on your data, in the units of your score"),
    ("Flagged", "Share of all people at or above this threshold (on the risk side): the people "
                "flagged if it were the only threshold"),
]


def applied_text(data, thresholds, group_specific: bool, rules) -> str:
    """The thresholds in force in one line of rich text (names escaped)."""
    t = np.asarray(thresholds, dtype=float)
    k = t.shape[-1]
    dec = data.score_decimals
    if group_specific:
        t = t.reshape(data.n_groups, -1)
        parts = "; ".join(f"{html.escape(n)} {short_list(t[g], dec)}"
                          for g, n in enumerate(data.group_names))
        text = f"Applied, per group: {parts}"
    else:
        text = f"Applied: {k} threshold{'s' * (k > 1)} for every group — " + short_list(
            np.sort(t), dec)
        described = describe_rules(rules or [], dec)
        if described and len(rules) == k:
            text += f" ({html.escape(described)})"
    return f"{text}. {k + 1} tiers."


def scenario_spec(values, group_specific: bool, names) -> tuple[str, dict, str]:
    """(kind, params, default name) of a Decision-table scenario at these thresholds; the
    name lists them without trailing zeros."""
    if group_specific:
        return ("group_thresholds",
                {"values": {n: [float(v) for v in values[g]] for g, n in enumerate(names)}},
                "Tiers per group")
    return ("thresholds", {"values": [float(v) for v in values]},
            "Tiers: " + short_list(values, None, 4))


def group_thresholds(cells, names=None) -> np.ndarray:
    """The group editor's cells — (text, exact value or None) per group and threshold — as
    an (n_groups, k) array; FairDeskError naming the cell when one is not a finite number."""
    out = np.empty((len(cells), len(cells[0]) if cells else 0))
    for g, row in enumerate(cells):
        for j, (text, exact) in enumerate(row):
            v = exact if exact is not None else parse_number(text)
            name = names[g] if names is not None else g + 1
            if math.isnan(v):
                raise FairDeskError(f"Group {name}, threshold T{j + 1}: type a number.")
            if not math.isfinite(v):
                raise FairDeskError(f"Group {name}, threshold T{j + 1}: the value must be a "
                                    "finite number.")
            out[g, j] = v
    return out
