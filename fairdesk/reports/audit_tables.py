"""The Audit page's result tables, described once (no Qt).

Each builder turns an :class:`fairdesk.audit.AuditResult` at one threshold into a
:class:`fairdesk.present.table.Table`: rates and counts per group (groups as columns or as
rows, with 95 % intervals and bootstrap mean ± SD), the nine fairness measures with the pair
behind each value, every rate against a reference group, AUC and cross-AUC. The window shows
them with :class:`fairdesk.gui.table_model.ResultTable`; the formats are those of
:mod:`fairdesk.present.formats` (rates 44.6 %, ratios 0.812, differences +3.2 pts, people
whole unless the weights are not).
"""

from __future__ import annotations

import numpy as np

from ..metrics.fairness import DEFINITIONS, reference_comparison
from ..metrics.intervals import METHOD_EXACT, PROPORTIONS, interval_or_reason, rate_intervals
from ..metrics.ranking import group_auc, overall_auc, xauc_matrix
from ..metrics.rates import RATES, compute_rates, undefined_reason
from ..present.formats import (format_count, format_interval, format_ratio, format_score,
                               format_value, is_missing)
from ..present.table import Cell, Column, Table
from ..undefined import Undefined, defined_or

# Two derived metrics: errors as a share of the whole group ("Which fairness measure?").
DERIVED = {
    "fp_group_size": ("FP / group size", "FP / (TP + FP + FN + TN)",
                      "False positives as a share of the whole group: how many of the group's "
                      "members are flagged without having the outcome."),
    "fn_group_size": ("FN / group size", "FN / (TP + FP + FN + TN)",
                      "False negatives as a share of the whole group: how many of the group's "
                      "members have the outcome but are not flagged."),
}
SHORT = {"selection_rate": "Selection rate", "prevalence": "Prevalence", "tpr": "TPR",
         "fnr": "FNR", "fpr": "FPR", "tnr": "TNR", "ppv": "PPV", "fdr": "FDR", "npv": "NPV",
         "for": "FOR", "accuracy": "Accuracy", "fn_fp": "FN/FP", "cost_ratio": "FP/FN",
         "fp_group_size": "FP / group size", "fn_group_size": "FN / group size"}
# rate key -> (fairness definition it is compared by, or None)
FOCUS = {"fpr": "PE", "fnr": "EO", "fdr": "PP", "for": "CUAE", "fp_group_size": None,
         "fn_group_size": None}
COMPARED_RATES = ("selection_rate", "prevalence", "tpr", "fnr", "fpr", "tnr", "ppv", "fdr", "npv",
                  "for", "accuracy", "fn_fp", "cost_ratio", "fp_group_size", "fn_group_size")
RATIO_KEYS = ("fn_fp", "cost_ratio")
GROUP_TABLE_KEYS = ("rows", "weight", "positives", "prevalence", "selection_rate", "tp", "fp",
                    "fn", "tn", "tpr", "fnr", "fpr", "tnr", "ppv", "fdr", "npv", "for",
                    "accuracy", "fn_fp", "cost_ratio", "auc")
PEOPLE_KEYS = ("weight", "positives", "tp", "fp", "fn", "tn")
COUNT_LABELS = {"rows": "Rows", "weight": "Weight", "positives": "Positives", "tp": "TP",
                "fp": "FP", "fn": "FN", "tn": "TN", "auc": "AUC"}
COUNT_TIPS = {
    "rows": "Rows: the number of rows (people) of the group used in the analysis.",
    "weight": "Weight: the sum of the frequency weights (people counted). Equals the rows when "
              "the data are unweighted. All counts below are weighted.",
    "positives": "Positives: the weighted number of people with the positive outcome.",
    "tp": "TP, true positives: flagged (at or above the threshold) and had the outcome.",
    "fp": "FP, false positives: flagged but did not have the outcome.",
    "fn": "FN, false negatives: not flagged but had the outcome.",
    "tn": "TN, true negatives: not flagged and did not have the outcome.",
    "auc": "AUC, area under the ROC curve within the group: the chance that a random person "
           "with the outcome scores higher than a random person without it (ties count half). "
           "It does not depend on the threshold.",
}
XAUC_TIP = ("Cross-AUC (xAUC, Kallus & Zhou 2019): the chance that a random person WITH the "
            "outcome from the row's group scores higher than a random person WITHOUT it from "
            "the column's group (ties count half). The diagonal is each group's AUC. If "
            "xAUC(A, B) is much lower than xAUC(B, A), people of group A with the outcome tend "
            "to be ranked below people of group B without it.")
FAIRNESS_NOTES = {
    "measure": "The fairness definition (Verma & Rubin), its short name and, below it, what it "
               "asks for",
    "value": "Smallest ratio (smaller ÷ larger) between any two groups of the rate(s) the "
             "definition asks to be equal: 1 = balanced, 0 = one group is at 0",
    "interval": "Bootstrap percentile 95 % interval of the value (run the bootstrap: the "
                "resamples and the seed are recorded); “not estimated” says why",
    "boot": "Bootstrap mean ± standard deviation of the value",
    "balance": "The value as a bar; the tick marks 0.8 (“four-fifths” rule of thumb)",
    "pair": "The rate and the two groups whose ratio is the value; below it, the groups left "
            "out of this measure (hover for the reasons)",
}
GOOD_AT, FAIR_AT = 0.8, 0.6  # balance bands: blue, orange, vermillion below
GRID_POINTS = 400  # thresholds in the metric-versus-threshold curves


def metric_label(key: str) -> str:
    return DERIVED[key][0] if key in DERIVED else RATES[key].name


def metric_tip(key: str) -> str:
    """A metric's name, definition and formula (plain text, one per line)."""
    if key in DERIVED:
        name, formula, definition = DERIVED[key]
    elif key in RATES:
        info = RATES[key]
        name, formula, definition = info.name, info.formula, info.definition
    else:
        return COUNT_TIPS.get(key, key)
    return f"{name}\n{definition}\nFormula: {formula}"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def value_kind(key: str, people_decimals: int = 0) -> tuple[str, int]:
    """The kind and decimals a metric of the audit is shown with."""
    if key == "rows":
        return "count", 0
    if key in PEOPLE_KEYS:
        return "people", people_decimals
    if key in RATIO_KEYS:
        return "ratio", 3
    if key == "auc":
        return "fixed", 3
    return "rate", 1


def mean_sd_text(mean, sd, kind: str, decimals: int) -> str:
    """Bootstrap mean ± SD in the value's own format ('44.6 % ± 2.1 %')."""
    sd_text = "?" if is_missing(sd) else format_value(float(sd), kind, decimals)
    return f"{format_value(float(mean), kind, decimals)} ± {sd_text}"


def group_value(result, key: str, g: int | None, j: int, ranking: bool = True):
    """Value and undefined reason of ``key`` for group g (None = All) at threshold j; the
    reason is "pending" for AUC while the ranking measures are not computed."""
    names = result.group_names
    name = names[g] if g is not None else None
    who = f"group '{name}'" if name else "the data"
    if key in ("rows", "weight", "positives"):
        arr = getattr(result, key)
        return (float(arr[g]) if g is not None else float(arr.sum())), ""
    if key in ("tp", "fp", "fn", "tn"):
        arr = getattr(result.counts if g is not None else result.overall_counts, key)
        return float(arr[g if g is not None else 0, j]), ""
    if key == "auc":
        if not ranking:
            return None, "pending"
        v = result.auc[g] if g is not None else result.auc_overall
        return float(v), f"{who} needs people with and without the outcome for an AUC"
    if key in DERIVED:
        c = result.counts if g is not None else result.overall_counts
        arr = c.fp if key == "fp_group_size" else c.fn
        size = result.weight[g] if g is not None else result.weight.sum()
        v = arr[g if g is not None else 0, j] / size if size > 0 else float("nan")
        return float(v), f"{who} has no rows (total weight zero)"
    rates = result.rates if g is not None else result.overall_rates
    return float(rates[key][g if g is not None else 0, j]), undefined_reason(key, name)


def _pending_cell(pending) -> Cell:
    text, tip = pending or ("not computed", "AUC and cross-AUC are not computed")
    return Cell(text, kind="text", muted=True, tip=tip)


def _boot_cell(bootstrap, bkey: str, index, what: str, kind: str, decimals: int) -> Cell:
    b = bootstrap
    if b is None or bkey not in b.mean:
        return Cell("n/a", kind="text", muted=True,
                    tip="The bootstrap does not summarise this value")
    m, s = b.mean[bkey][index], b.sd[bkey][index]
    if is_missing(m):
        return Cell(Undefined(f"{what} was undefined in every resample"), kind="text")
    return Cell(mean_sd_text(m, s, kind, decimals), kind="text",
                tip=f"Bootstrap mean ± SD over {b.resamples:,} resamples (seed {b.seed}); "
                    f"defined in {int(b.defined[bkey][index]):,} of them")


# ---------------------------------------------------------------------------- by group
def group_specs(show_ci: bool = True, bootstrap: bool = False) -> list[tuple[str, str]]:
    """The group table's metrics in order: ("value" | "ci" | "boot", key)."""
    specs = []
    for key in GROUP_TABLE_KEYS:
        specs.append(("value", key))
        if show_ci and (key in PROPORTIONS or key in RATIO_KEYS):
            specs.append(("ci", key))
        if bootstrap and (key in RATES or key == "auc"):
            specs.append(("boot", key))
    return specs


def spec_key(spec: tuple[str, str]) -> str:
    """The column key (groups as rows) of a group-table metric."""
    kind, key = spec
    return key if kind == "value" else f"{kind}:{key}"


def group_column_key(g: int | None) -> str:
    """The column key (groups as columns) of group g (None = All)."""
    return "all" if g is None else f"g{g}"


class _Intervals:
    """``result.rate_interval`` with the exact intervals of every rate computed once per
    table (the engine's call computes them all for one cell)."""

    def __init__(self, result):
        self.result = result
        self.exact = {}

    def __call__(self, key: str, g: int | None, j: int):
        if key not in PROPORTIONS:
            return self.result.rate_interval(key, g, j)
        if (g is None) not in self.exact:
            self.exact[g is None] = rate_intervals(self.result.overall_counts if g is None
                                                   else self.result.counts)
        lo, hi = self.exact[g is None][key]
        lo, hi, why = interval_or_reason(lo[g or 0, j], hi[g or 0, j])
        return lo, hi, why or METHOD_EXACT


def _group_cell(result, spec, g, j, *, people_decimals, bootstrap, pending, interval) -> Cell:
    kind, key = spec
    label = SHORT.get(key, COUNT_LABELS.get(key, key))
    vkind, dec = value_kind(key, people_decimals)
    if kind == "boot":
        if g is None:
            return Cell("n/a", kind="text", muted=True,
                        tip="The bootstrap summarises the groups, not all rows together")
        bkey, index = ("auc", g) if key == "auc" else (f"rate:{key}", (g, j))
        return _boot_cell(bootstrap, bkey, index, f"{label} of {result.group_names[g]}",
                          vkind, dec)
    if kind == "ci":
        lo, hi, how = interval(key, g, j)
        if is_missing(lo):
            if "undefined" in how or is_missing(group_value(result, key, g, j)[0]):
                return Cell(Undefined(_cap(how)), kind="text")
            return Cell("not estimated", kind="text", muted=True, tip=_cap(how))
        if key in RATIO_KEYS:
            return Cell(format_interval((lo, hi), 3, kind="ratio"), kind="text",
                        tip=f"95 % interval: {how}")
        return Cell((float(lo), float(hi)), kind="interval", tip=f"95 % interval: {how}")
    value, reason = group_value(result, key, g, j, ranking=pending is None)
    if reason == "pending":
        return _pending_cell(pending)
    return Cell(defined_or(value, reason), kind=vkind, decimals=dec)


def _spec_label(spec, across: bool) -> Cell:
    kind, key = spec
    label = SHORT.get(key, COUNT_LABELS.get(key, key))
    if kind == "boot":
        return Cell("   mean ± SD" if across else f"{label}\nmean ± SD", muted=True,
                    tip=f"Bootstrap mean ± standard deviation of {label}")
    if kind == "ci":
        tip = (f"95 % interval of {label}: exact binomial (Clopper–Pearson) from the counts"
               + ("" if key in PROPORTIONS else "; for this ratio, the bootstrap percentile "
                  "interval (run the bootstrap)"))
        return Cell("   95 % interval" if across else f"{label}\n95 % interval", muted=True,
                    tip=tip)
    return Cell(label, tip=metric_tip(key))


def group_table(result, j: int = 0, *, across: bool = True, show_ci: bool = True,
                bootstrap=None, people_decimals: int = 0, pending=None) -> Table:
    """Rates and confusion counts per group (and All) at threshold ``j``: groups as columns
    (``across``) or one group per row; with 95 % intervals and bootstrap mean ± SD.
    ``pending`` = (text, tip) while AUC is not computed."""
    names = result.group_names
    specs = group_specs(show_ci, bootstrap is not None)
    groups = list(range(len(names))) + [None]
    kw = dict(people_decimals=people_decimals, bootstrap=bootstrap, pending=pending,
              interval=_Intervals(result))
    if across:
        cols = [Column("metric", "")]
        for g in groups:
            header = names[g].replace(", ", ",\n") if g is not None else "All"
            cols.append(Column(group_column_key(g), header, "rate",
                               note=f"Group {names[g]}" if g is not None else
                               "All groups together", swatch=g))
        rows = []
        for spec in specs:
            row = {"metric": _spec_label(spec, True), "spec": spec}
            for g in groups:
                row[group_column_key(g)] = _group_cell(result, spec, g, j, **kw)
            rows.append(row)
        return Table("By group", cols, rows, label_key="metric")
    cols = [Column("group", "Group")]
    for spec in specs:
        label = _spec_label(spec, False)
        kind = value_kind(spec[1], people_decimals)[0] if spec[0] == "value" else "text"
        cols.append(Column(spec_key(spec), label.value, kind, note=label.tip))
    rows = []
    for g in groups:
        row = {"group": Cell(names[g], tip=f"Group {names[g]}") if g is not None
               else Cell("All", bold=True, tip="All groups together"),
               "swatch": g}
        for spec in specs:
            row[spec_key(spec)] = _group_cell(result, spec, g, j, **kw)
        rows.append(row)
    return Table("By group", cols, rows, label_key="group", swatch_key="swatch")


# ---------------------------------------------------------------------------- fairness
def band_text(value, reason: str) -> str:
    if is_missing(value):
        return f"Undefined: {reason}"
    v = float(value)
    band = ("at or above 0.8 (blue)" if v >= GOOD_AT else "between 0.6 and 0.8 (orange)"
            if v >= FAIR_AT else "below 0.6 (vermillion)")
    return f"{format_ratio(v)}: {band}. 1 = the groups are equal on this measure."


def fairness_layout(k: int) -> list[tuple[str, str, int]]:
    """("value", measure, tier) rows, each measure followed by its ("meaning", measure, 0)."""
    layout = []
    for key in DEFINITIONS:
        if key == "CAL":
            layout += [("value", "CAL", i) for i in range(k + 1)]
        else:
            layout.append(("value", key, 0))
        layout.append(("meaning", key, 0))
    return layout


def fairness_table(result, j: int = 0, *, bootstrap=None, highlight: str | None = None) -> Table:
    """The nine fairness measures at threshold ``j`` (CAL per tier), each value row followed
    by a row saying what the measure asks; ``highlight`` marks one measure's rows."""
    cols = [Column("measure", "Measure", note=FAIRNESS_NOTES["measure"]),
            Column("value", "Value", "ratio", note=FAIRNESS_NOTES["value"]),
            Column("interval", "95 % interval", note=FAIRNESS_NOTES["interval"])]
    if bootstrap is not None:
        cols.append(Column("boot", "Bootstrap\nmean ± SD", note=FAIRNESS_NOTES["boot"]))
    cols += [Column("balance", "Balance", "ratio", note=FAIRNESS_NOTES["balance"]),
             Column("pair", "Pair behind it", note=FAIRNESS_NOTES["pair"])]
    names = result.group_names
    rows = []
    for kind, key, tier in fairness_layout(result.k):
        d = DEFINITIONS[key]
        rates = ", ".join(SHORT.get(x, x) for x in d.rates) if key != "CAL" else \
            "observed outcome rate in the tier"
        tip = (f"{d.name} ({key})\n{d.meaning}\nCompares: {rates}. Value: the smallest ratio "
               "between two groups (1 = balanced).")
        lit = highlight == key
        row = {"row_kind": kind, "measure_key": key, "tier": tier}
        if kind == "meaning":
            row.update({c.key: Cell("", kind="text", tip=tip, highlight=lit) for c in cols})
            row["measure"] = Cell(d.meaning, kind="text", muted=True, tip=tip, highlight=lit)
            rows.append(row)
            continue
        if key == "CAL":
            value, index = result.fairness["CAL"][tier], tier
            reason = "fewer than two groups have rows in this tier"
            label = f"Calibration within tier S{tier + 1} (CAL)"
        else:
            value, index = result.fairness[key][j], j
            reason = ("fewer than two groups have a defined "
                      + " and ".join(SHORT.get(x, x) for x in d.rates))
            label = f"{d.name} ({key})"
        det = result.details(key, index)
        row["measure"] = Cell(label, tip=tip, bold=True, highlight=lit)
        row["value"] = Cell(defined_or(value, det.undefined_reason or reason), highlight=lit,
                            tip="" if is_missing(value) else
                            f"{d.name}: smallest ratio between two groups = "
                            f"{format_ratio(value, 4)}")
        row["balance"] = Cell(defined_or(value, reason), tip=band_text(value, reason), highlight=lit)
        lo, hi, how = result.fairness_interval(key, index)
        if is_missing(lo):
            row["interval"] = Cell("not estimated", kind="text", muted=True, tip=_cap(how),
                                   highlight=lit)
        else:
            b = result.intervals
            row["interval"] = Cell(format_interval((lo, hi), 3, kind="ratio"), kind="text",
                                   highlight=lit,
                                   tip=f"95 % interval: {how}, {b.resamples:,} resamples, "
                                       f"seed {b.seed}" if b is not None else
                                       f"95 % interval: {how}")
        pair = det.pair_text(names)
        left = [names[g] for g, _ in det.excluded]
        text = (pair or "—") + (("\nLeft out: " + "; ".join(left)) if left else "")
        ptip = (pair or det.undefined_reason) + (
            "\n\nLeft out of this measure:\n" + "\n".join(
                f"• {names[g]}: {why}" for g, why in det.excluded) if det.excluded else "")
        row["pair"] = Cell(text, kind="text", tip=ptip, highlight=lit)
        if bootstrap is not None:
            row["boot"] = _boot_cell(bootstrap, f"fairness:{key}", index, d.name, "ratio", 3)
            row["boot"] = row["boot"].with_(highlight=lit)
        rows.append(row)
    return Table("Fairness", cols, rows, label_key="measure")


def groups_note(result, j: int = 0) -> tuple[str, str]:
    """The line above the fairness table (rich text) naming the groups compared and left
    out, and its tooltip (each group left out with the reason)."""
    rule = result.reliability
    left = {}
    for key in DEFINITIONS:
        tiers = range(len(result.fairness["CAL"])) if key == "CAL" else [j]
        for i in tiers:
            for g, why in result.details(key, i).excluded:
                left.setdefault(result.group_names[g], why)
    small = [n for n, rows in zip(result.group_names, result.rows) if rows < rule.min_group_size]
    if rule.all_groups:
        text = ("Every group is compared (only a 0/0 rate leaves a group out)."
                + (f" <b>Below the minimum size ({format_count(rule.min_group_size)} rows):</b> "
                   + "; ".join(small) + " — their figures can decide a measure." if small else ""))
    else:
        text = (f"Compared: {rule.describe()}."
                + (" <b>Left out of at least one measure:</b> " + "; ".join(left) if left else
                   " No group is left out."))
    return text, "\n".join(f"{n}: {why}" for n, why in left.items())


# ---------------------------------------------------------------------------- vs reference
def reference_table(result, j: int = 0, reference: int = 0, show=("diff", "ratio"),
                    highlight: str | None = None) -> Table:
    """Every compared rate of the reference group, and each other group's difference
    (group − reference) and ratio (group ÷ reference)."""
    names = result.group_names
    ref = reference
    ref_name = names[ref]
    others = [g for g in range(len(names)) if g != ref]
    cols = [Column("rate", "Rate"),
            Column("ref", f"{ref_name}\n(reference)", "rate",
                   note=f"The rate of the reference group, {ref_name}", swatch=ref)]
    for g in others:
        for kind in show:
            if kind == "diff":
                cols.append(Column(f"diff{g}", f"{names[g]}\n− ref.", "difference",
                                   note=f"Difference: rate of {names[g]} minus rate of "
                                        f"{ref_name} (positive = higher than the reference)",
                                   swatch=g))
            else:
                cols.append(Column(f"ratio{g}", f"{names[g]}\n÷ ref.", "ratio",
                                   note=f"Ratio: rate of {names[g]} divided by rate of "
                                        f"{ref_name} (1 = equal)", swatch=g))
    rows = []
    for key in COMPARED_RATES:
        got = [group_value(result, key, g, j) for g in range(len(names))]
        vals = np.array([v for v, _ in got], dtype=float)
        reasons = [r for _, r in got]
        diff, ratio = reference_comparison(vals, ref)
        lit = highlight == key
        own = "ratio" if key in RATIO_KEYS else None  # a ratio's difference is no rate
        row = {"key": key, "rate": Cell(SHORT[key], tip=metric_tip(key), highlight=lit),
               "ref": Cell(defined_or(vals[ref], reasons[ref]), kind=own, highlight=lit)}
        for g in others:
            if is_missing(vals[g]):
                reason = reasons[g]
            elif is_missing(vals[ref]):
                reason = f"the reference group's value is undefined: {reasons[ref]}"
            else:
                reason = (f"the reference group '{ref_name}' has {SHORT[key]} = 0, so a ratio "
                          "is not defined")
            row[f"diff{g}"] = Cell(defined_or(diff[g], reason), kind=own, highlight=lit,
                                   tip=f"{SHORT[key]}: {names[g]} − {ref_name}")
            row[f"ratio{g}"] = Cell(defined_or(ratio[g], reason), highlight=lit,
                                    tip=f"{SHORT[key]}: {names[g]} ÷ {ref_name}")
        rows.append(row)
    return Table("Vs reference", cols, rows, label_key="rate")


def reference_note(ref_name: str) -> str:
    return (f"Compared with <b>{ref_name}</b> (choose the reference group at the top). "
            "Difference = group − reference; ratio = group ÷ reference (undefined when the "
            "reference rate is 0).")


# ---------------------------------------------------------------------------- AUC
def auc_table(result, *, bootstrap=None, people_decimals: int = 0, pending=None) -> Table:
    """AUC per group (and overall) with the people with and without the outcome."""
    names = result.group_names
    cols = [Column("group", "Group"), Column("auc", "AUC", "fixed", 3, note=COUNT_TIPS["auc"]),
            Column("positives", "Positives", "people", people_decimals,
                   note="Weighted number of people with the outcome"),
            Column("negatives", "Negatives", "people", people_decimals,
                   note="Weighted number of people without the outcome")]
    if bootstrap is not None:
        cols.append(Column("boot", "Bootstrap\nmean ± SD",
                           note="Bootstrap mean ± standard deviation of the AUC"))
    neg = result.weight - result.positives
    rows = []
    for g in list(range(len(names))) + [None]:
        value, reason = group_value(result, "auc", g, 0, ranking=pending is None)
        row = {"group": Cell(names[g], tip=f"Group {names[g]}") if g is not None
               else Cell("All", bold=True, tip="All groups together"), "swatch": g,
               "auc": _pending_cell(pending) if reason == "pending" else defined_or(value, reason),
               "positives": float(result.positives[g] if g is not None else
                                  result.positives.sum()),
               "negatives": float(neg[g] if g is not None else neg.sum())}
        if bootstrap is not None:
            row["boot"] = (Cell("n/a", kind="text", muted=True,
                                tip="The bootstrap summarises the groups") if g is None else
                           _boot_cell(bootstrap, "auc", g, f"AUC of {names[g]}", "fixed", 3))
        rows.append(row)
    return Table("AUC", cols, rows, label_key="group", swatch_key="swatch")


def xauc_table(result, *, bootstrap=None, pending=None) -> Table:
    """Cross-AUC: rows the group of the people with the outcome, columns the group of the
    people without it; the diagonal (bold) is each group's AUC."""
    names = result.group_names
    cols = [Column("group", "With the outcome \\ without", note=XAUC_TIP)]
    cols += [Column(f"x{b}", f"{name}\n(without)", "fixed", 3,
                    note=f"Negatives (people without the outcome) of group {name}", swatch=b)
             for b, name in enumerate(names)]
    rows = []
    for a, na in enumerate(names):
        row = {"group": Cell(f"{na} (with)", tip=f"Positives (people with the outcome) of "
                                                  f"group {na}"), "swatch": a}
        for b, nb in enumerate(names):
            if pending is not None:
                row[f"x{b}"] = _pending_cell(pending)
                continue
            v = result.xauc[a, b]
            tip = "" if is_missing(v) else (
                f"xAUC({na}, {nb}) = {format_value(float(v), 'fixed', 4)}: the chance that a "
                f"person of {na} with the outcome scores higher than a person of {nb} without it")
            if bootstrap is not None and "xauc" in bootstrap.mean and not is_missing(v):
                m, s = bootstrap.mean["xauc"][a, b], bootstrap.sd["xauc"][a, b]
                if not is_missing(m):
                    tip += f"\nBootstrap mean ± SD: {mean_sd_text(m, s, 'fixed', 4)}"
            row[f"x{b}"] = Cell(defined_or(v, f"group '{na}' has no one with the outcome or group "
                                      f"'{nb}' no one without it"), tip=tip, bold=a == b)
        rows.append(row)
    return Table("Cross-AUC", cols, rows, label_key="group", swatch_key="swatch",
                 title="Cross-AUC: P(a person with the outcome from the row group outscores a "
                       "person without it from the column group)",
                 notes=["The diagonal is each group's own AUC. Ties count half (Kallus & Zhou "
                        "2019)."])


# ---------------------------------------------------------------------------- labels
def threshold_texts(thresholds, j: int, *, group_names, group_specific: bool,
                    higher_is_positive: bool, decimals: int) -> tuple[str, str, list[str]]:
    """The threshold's label, its tooltip and the threshold selector's items."""
    t = np.asarray(thresholds, dtype=float)
    sign = "≥" if higher_is_positive else "≤"

    def s(x):
        return format_score(x, decimals)

    if group_specific:
        parts = [f"{name} {sign} {s(t[g, j])}" for g, name in enumerate(group_names)]
        label = "Group-specific: " + ", ".join(parts[:3]) + (" …" if len(parts) > 3 else "")
        tip = "Flagged when the score is " + "; ".join(parts)
        items = [f"#{i + 1} (per group)" for i in range(t.shape[-1])]
    else:
        label = f"Flagged when score {sign} {s(t[j])}"
        tip = ("A person is flagged (predicted positive) when the score is "
               f"{'at or above' if sign == '≥' else 'at or below'} {float(t[j])!r}")
        items = [f"#{i + 1} = {s(t[i])}" for i in range(t.shape[-1])]
    return label, tip, items


# ---------------------------------------------------------------------------- computed once
def compute_ranking(data, scores, *, job=None):
    """AUC per group, the cross-AUC matrix and the overall AUC (worker function)."""
    if job is not None:
        job.progress(0.05, "AUC per group")
    auc = group_auc(scores)
    if job is not None:
        job.progress(0.3, "Cross-AUC between groups")
    xm = xauc_matrix(scores)
    if job is not None:
        job.progress(0.6, "Overall AUC")
    overall = overall_auc(data.oriented, data.label, data.weight)
    return auc, xm, overall


def metric_grid(data, scores, points: int = GRID_POINTS):
    """Every metric of each group on ``points`` thresholds across the scores' range, from one
    vectorised counts call: (thresholds, {metric: (G, points)}, (low, high))."""
    lo, hi = float(np.min(data.score)), float(np.max(data.score))
    if hi <= lo:
        hi = lo + 1.0
    x = np.linspace(lo, hi, points)
    c = scores.counts(data.to_oriented(x), shared=True)
    rates = compute_rates(c)
    with np.errstate(divide="ignore", invalid="ignore"):
        size = scores.weight_total[:, None]
        rates["fp_group_size"] = np.where(size > 0, c.fp / size, np.nan)
        rates["fn_group_size"] = np.where(size > 0, c.fn / size, np.nan)
    return x, rates, (lo, hi)


def scenario_of(data, thresholds, group_specific: bool) -> tuple[str, dict, str]:
    """The thresholds in force as a Decision-table scenario: (kind, parameters, a default
    name)."""
    t = np.asarray(thresholds, dtype=float)
    if group_specific:
        t = np.sort(t.reshape(data.n_groups, -1), axis=1)
        return ("group_thresholds", {"values": {n: [float(v) for v in t[g]]
                                                for g, n in enumerate(data.group_names)}},
                "Audit: per group")
    t = np.sort(np.ravel(t))
    name = "Audit: " + ", ".join(format_score(v, data.score_decimals) for v in t[:4])
    return "thresholds", {"values": [float(v) for v in t]}, name + (" …" if t.size > 4 else "")
