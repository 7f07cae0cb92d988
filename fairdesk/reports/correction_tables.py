"""The "Error-rate balance" page's tables as :class:`~fairdesk.present.table.Table`: the
corrected thresholds (the study's Table 3), the rates per group before and after (Tables 2
and 4), the nine measures before and after (Table 9) and the tier transitions per group, at
the penalty weights the analyst chose. The window shows them with ``ResultTable``; the
workbook's Transitions sheet is built from the same rows. No Qt.

``chosen`` is a mapping threshold index -> index into ``result.weights`` (see
:mod:`fairdesk.reports.correction_figures`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..engines.threshold_correction import ASSESS_RATES, CorrectionResult, summarize_reasons
from ..metrics.fairness import DEFINITIONS
from ..metrics.rates import RATES
from ..present.formats import (format_difference, format_number,
                               format_rate, format_score, format_value, is_missing)
from ..present.table import Cell, Column, Table
from ..undefined import Undefined
from . import correction_figures as cf

W_TIP = ("Penalty weight w: the optimizer minimises (1 − w)·(1 − fairness) + w·Δ, Δ being "
         "the share of people whose tier changes. w = 0 seeks fairness at any cost; w = 1 keeps "
         "the group-agnostic thresholds.")
RATE_SHORT = {"fnr": "FNR", "tpr": "TPR", "fpr": "FPR", "tnr": "TNR", "ppv": "PPV",
              "fdr": "FDR", "npv": "NPV", "for": "FOR", "accuracy": "Accuracy"}
FAIRNESS_UNDEFINED = ("Undefined in every assessment subsample (fewer than two groups with a "
                      "defined rate)")
MEASURE_UNDEFINED = ("Undefined in every assessment subsample: fewer than two groups have a "
                     "defined value")
MARKS = {"lowest": " (min)", "highest": " (max)"}


@dataclass(frozen=True)
class Noted(Cell):
    """A number with a few words around it ("0.422 ± 0.070", "0.1455 (min)", "+0.123"): the
    value stays the number, so sorting and copying use it at full precision."""

    prefix: str = ""
    suffix: str = ""

    def text(self, column: Column | None = None) -> str:
        body = super().text(column)
        return body if is_missing(self.value) else f"{self.prefix}{body}{self.suffix}"


def w_text(w: float) -> str:
    """A penalty weight as the slider, titles and notes write it: 0.5, 0.75, 1."""
    return format_number(float(w))


def score_cell(v: float, score_decimals: int | None, cls=Cell, **kw) -> Cell:
    """A threshold in the score's units with the decimals :func:`format_score` gives it (a
    threshold between the scores, as an average over subsamples is, gets the decimals it
    needs), set on the cell so that the workbook's number format shows the same."""
    text = format_score(v, score_decimals)
    shown = len(text.split(".")[1]) if "." in text else 0
    return cls(float(v), "score", shown, **kw)


def _undefined_or(x, reason: str):
    x = float(x)
    return Undefined(reason) if math.isnan(x) else x


def mean_sd_cell(m: float, sd: float, reason: str, kind: str = "ratio", tip: str = "",
                 bold: bool = False) -> Cell:
    """``m ± sd`` (mean and SD over the assessment subsamples); undefined with ``reason``."""
    if not math.isfinite(float(m)):
        return Cell(Undefined(reason), kind, bold=bold)
    suffix = f" ± {format_value(float(sd), kind)}" if math.isfinite(float(sd)) else ""
    return Noted(float(m), kind, tip=tip, bold=bold, suffix=suffix)


def signed_cell(x: float, reason: str, kind: str = "ratio", tip: str = "") -> Cell:
    """A change written with its sign (+0.123, −0.045)."""
    if not math.isfinite(float(x)):
        return Cell(Undefined(reason), kind)
    return Noted(float(x), kind, tip=tip, prefix="+" if x > 0 else "")


def threshold_headers(res: CorrectionResult) -> list[str]:
    """"1 · Oregon low", "2 · Mean", … (the order the engine sorts Φ in)."""
    return [f"{t + 1} · {cf.short_rule_name(r)}" for t, r in enumerate(res.settings.rules)]


# ------------------------------------------------------------------------------ summary

def summary_table(res: CorrectionResult, chosen: dict | None,
                  score_decimals: int | None = None) -> Table:
    """One column per threshold, one row per item: the chosen and suggested w, whether the
    solution is degenerate, the threshold before and each group's after, fairness before
    and after (mean ± SD), and the shares of people moved."""
    rows_in = cf.summary_rows(res, chosen)
    groups = res.group_names
    d = res.settings.definition
    dec = score_decimals
    name = DEFINITIONS[d].name
    items = [("w", "Penalty weight w (chosen)", W_TIP, None),
             ("best_w", "Suggested w", "The w with the highest mean fairness over the assessment "
              "subsamples among the non-degenerate solutions (ties: smallest SD, then largest w)",
              None),
             ("degenerate", "Degenerate?", "Degenerate: some group has everyone or nobody at or "
              "above its threshold (full data, chosen w), or the accuracy is below that of both "
              "flagging everyone and flagging no one. Never suggested.", None),
             ("pre", "Before: every group", "The group-agnostic threshold (averaged over the "
              "subsamples), in score units", None)]
    items += [(f"post{g}", f"After: {gname}", f"Corrected threshold of group {gname} at the "
               "chosen w (averaged over the subsamples)", g) for g, gname in enumerate(groups)]
    items += [("fair_pre", f"{d} before", f"{name} with the group-agnostic thresholds: mean ± SD "
               "over the assessment subsamples (1 = balanced)", None),
              ("fair_post", f"{d} after", f"{name} with the corrected thresholds: mean ± SD over "
               "the assessment subsamples (1 = balanced)", None),
              ("changed", "People moved across it", "Share of people on the other side of this "
               "threshold after correction (mean over the assessment subsamples)", None),
              ("changed_tiers", "Tier changes at this w", "Share of people whose tier changes "
               "when every threshold takes this w", None)]
    rows = []
    for key, label, tip, g in items:
        row = {"key": key, "item": Cell(label, tip=tip, swatch=g)}
        for c, r in enumerate(rows_in):
            row[f"t{c}"] = _summary_cell(key, r, tip, dec)
        rows.append(row)
    columns = [Column("item", "", "text")] + [
        Column(f"t{c}", head, "fixed", note=r["name"])
        for c, (head, r) in enumerate(zip(threshold_headers(res), rows_in))]
    return Table("Corrected thresholds", columns, rows, label_key="item",
                 title=f"Group-specific thresholds for {name} ({d})")


def _summary_cell(key: str, r: dict, tip: str, dec: int) -> Cell:
    if key == "w":
        return Cell(r["w"], "number", tip=W_TIP, bold=True)
    if key == "best_w":
        if not r["best_usable"]:
            return Cell("none", "text", bold=True, tip=(
                f"Every w gives a degenerate solution here; w = {w_text(r['best_w'])} (the "
                "fairest) is shown but not suggested"))
        return Cell(r["best_w"], "number", muted=not r["is_best"],
                    tip=tip + (" — chosen" if r["is_best"] else " — not chosen"))
    if key == "degenerate":
        reasons = r["degenerate"]
        return Cell("yes" if reasons else "no", "text", bold=bool(reasons),
                    tint="#F8D7DA" if reasons else None,
                    tip=("Degenerate: " + "; ".join(reasons)) if reasons else tip)
    if key == "pre":
        return score_cell(r["pre"], dec, tip=f"{r['pre']:.10g}")
    if key.startswith("post"):
        g = int(key[4:])
        v = r["post"][g]
        mark = r["bounds"].get(g)
        moved = f"{v - r['pre']:+.4g}".replace("-", "−")
        return score_cell(v, dec, Noted, bold=bool(mark),
                          suffix=MARKS.get(mark, " (none)" if mark else ""),
                     tip=f"{v:.10g} ({moved} from the group-agnostic threshold)"
                     + (f"; {cf.BOUND_WORDS[mark]}" if mark else ""))
    if key in ("fair_pre", "fair_post"):
        return mean_sd_cell(r[key], r[key + "_sd"], FAIRNESS_UNDEFINED, tip=tip,
                            bold=key == "fair_post")
    return Cell(_undefined_or(r[key], "undefined in every assessment subsample"), "rate", tip=tip)


def summary_note(res: CorrectionResult, chosen: dict | None,
                 score_decimals: int | None = None) -> str:
    """The note under the summary (rich text): crossing thresholds, thresholds at the score's
    bounds, degenerate solutions at the chosen w, the result's warnings."""
    rows = cf.summary_rows(res, chosen)
    groups = res.group_names
    short = [cf.short_rule_name(r) for r in res.settings.rules]
    note = ("Means over the assessment subsamples (fresh subsamples, not those used to "
            "optimise). Thresholds in score units; a score equal to a threshold goes to the "
            "higher tier.")
    crossing = cf.crossing_groups(res, chosen)
    if crossing:
        note += (" <b>With these w's the thresholds of " + ", ".join(crossing) + " are out of "
                 "order; their tiers use them sorted. Choosing one w for all avoids it.</b>")
    at_bounds = []
    for row in rows:
        by_mark: dict = {}
        for g, m in row["bounds"].items():
            by_mark.setdefault(m, []).append(groups[g])
        at_bounds += [f"{short[row['threshold']]}: {cf.BOUND_WORDS[m]} for {', '.join(gs)}"
                      for m, gs in by_mark.items()]
    if at_bounds:
        lo, hi = res.score_range
        lo, hi = (format_score(x, score_decimals) for x in (lo, hi))
        note += (f" <b>Thresholds at the lowest ({lo}) or highest ({hi}) score</b>"
                 + (" (integer scores)" if res.integer_scores else "") + " — "
                 + "; ".join(at_bounds) + ".")
    bad = [row for row in rows if row["degenerate"]]
    if bad:
        note += ("<br><span style='color:#B00020'><b>Degenerate at the chosen w — "
                 + "; ".join(f"{short[row['threshold']]}: " + summarize_reasons(row["degenerate"])
                             for row in bad) + ".</b></span>")
    if res.warnings():
        note += "<br><span style='color:#B00020'>" + "<br>".join(res.warnings()) + "</span>"
    return note


# ------------------------------------------------------------------------------ rates, measures

def rates_table(res: CorrectionResult, chosen: dict | None, t: int) -> Table:
    """Two rows per rate (before, after) at threshold ``t`` and its chosen w; a column per
    group and one for all groups: means over the assessment subsamples (SDs in tooltips)."""
    data = cf.rate_rows(res, chosen, t)
    groups = list(res.group_names) + ["All"]
    rows = []
    for key in ASSESS_RATES:
        info = RATES[key]
        rtip = f"{info.name}: {info.definition} ({info.formula})"
        for p, phase in enumerate(("before", "after")):
            row = {"rate_key": key, "phase_key": phase,
                   "rate": Cell(RATE_SHORT[key], tip=rtip, bold=True),
                   "phase": Cell(phase, muted=p == 0, tip="With the group-agnostic thresholds"
                                 if p == 0 else "With the corrected thresholds at the chosen w")}
            for c, v in enumerate(data[key]):
                m, sd = (v.pre, v.pre_sd) if p == 0 else (v.post, v.post_sd)
                if not math.isfinite(m):
                    row[f"g{c}"] = Cell(Undefined(f"{info.undefined_when} in every assessment "
                                                  "subsample."), bold=p == 1)
                    continue
                tip = (f"{info.name}, {groups[c]}, {phase}: {format_rate(m)}, SD "
                       f"{format_rate(sd)} over the assessment subsamples")
                if p == 1 and math.isfinite(v.pre):
                    tip += f"; change {format_difference(v.post - v.pre)}"
                row[f"g{c}"] = Cell(m, tip=tip, bold=p == 1)
            rows.append(row)
    columns = [Column("rate", "Rate", note="Hover a rate for its definition"),
               Column("phase", "", note="Before: the group-agnostic thresholds; after: the "
                      "corrected ones at the chosen w")]
    columns += [Column(f"g{c}", name.replace(", ", ",\n"), "rate",
                       note="All groups together" if c == len(groups) - 1 else f"Group {name}")
                for c, name in enumerate(groups)]
    return Table("Rates by group", columns, rows, label_key="rate",
                 title=f"Rates before and after, threshold {threshold_headers(res)[t]}")


def measures_table(res: CorrectionResult, chosen: dict | None, t: int) -> Table:
    """The nine measures before and after at threshold ``t`` and its chosen w (Table 9):
    mean ± SD of the smallest ratio between two groups; CAL one row per tier."""
    d = res.settings.definition
    rows = []
    for key, tier, v in cf.measure_rows(res, chosen, t):
        info = DEFINITIONS[key]
        label = f"{key} · {info.name}" if tier < 0 else f"CAL · tier S{tier + 1}"
        tip = (f"{info.name} ({key}): {info.meaning} Value: the smallest ratio between two "
               "groups, 1 = balanced.")
        bold = key == d
        rows.append({"key": key, "tier": tier, "measure": Cell(label, tip=tip, bold=bold),
                     "pre": mean_sd_cell(v.pre, v.pre_sd, MEASURE_UNDEFINED, tip=tip, bold=bold),
                     "post": mean_sd_cell(v.post, v.post_sd, MEASURE_UNDEFINED, tip=tip, bold=bold),
                     "change": signed_cell(v.post - v.pre, MEASURE_UNDEFINED,
                                           tip="After minus before")})
    columns = [Column("measure", "Measure", note="The fairness definition; hover for what it asks"),
               Column("pre", "Before", "ratio", note="With the group-agnostic thresholds: mean ± "
                      "SD over the assessment subsamples"),
               Column("post", "After", "ratio", note="With the corrected thresholds at the chosen "
                      "w: mean ± SD over the assessment subsamples"),
               Column("change", "Change", "ratio", note="After minus before (positive = more "
                      "balanced)")]
    return Table("Fairness measures", columns, rows, label_key="measure",
                 title=f"Fairness measures before and after, threshold {threshold_headers(res)[t]}")


# ------------------------------------------------------------------------------ transitions

def transition_rows(m: np.ndarray, group_names, extra: dict | None = None) -> list[dict]:
    """Rows of the transitions table from a (G, k+1, k+1) matrix: per group, a row for the
    whole group (bold) then one row per tier before; the diagonal (people who keep their
    tier) highlighted. ``label`` names the row (the group, or the tier before) for the
    window; ``group`` and ``tier`` are the workbook's columns. ``extra`` is merged into every
    row (the workbook's w)."""
    k1 = m.shape[1]
    rows = []
    for g, name in enumerate(group_names):
        total_g = float(m[g].sum())
        moved_g = (total_g - float(np.trace(m[g]))) / total_g if total_g > 0 else math.nan
        head = {**(extra or {}), "g": g, "i": -1, "group": Cell(name, bold=True),
                "label": Cell(name, bold=True, tip=f"Group {name}: every tier"),
                "tier": Cell("all", bold=True, tip="Every tier of the group"),
                "total": Cell(total_g, bold=True, tip="People of the group"),
                "moved": Cell(_undefined_or(moved_g, "The group has no one (0/0)"), bold=True,
                              tip="Share of the group's people who change tier")}
        for j in range(k1):
            head[f"to{j}"] = Cell(float(m[g, :, j].sum()), bold=True,
                                  tip=f"People of {name} in tier S{j + 1} after correction")
        rows.append(head)
        for i in range(k1):
            row_total = float(m[g, i].sum())
            tier = Cell(f"S{i + 1}", tip=f"{name}: tier S{i + 1} before correction")
            row = {**(extra or {}), "g": g, "i": i, "group": name, "label": tier, "tier": tier}
            for j in range(k1):
                v = float(m[g, i, j])
                share = f" ({format_rate(v / row_total)} of the row)" if row_total > 0 else ""
                row[f"to{j}"] = Cell(v, bold=i == j, highlight=i == j, tip=(
                    f"People of {name} in S{i + 1} before and in S{j + 1} after correction{share}"))
            moved = (row_total - float(m[g, i, i])) / row_total if row_total > 0 else math.nan
            row["total"] = Cell(row_total, tip="People of the group in this tier before correction")
            row["moved"] = Cell(_undefined_or(moved, "No one of the group is in this tier (0/0)"),
                                tip="Share of these people whose tier changes")
            rows.append(row)
    return rows


def transition_columns(k1: int, people_decimals: int, window: bool = False) -> list[Column]:
    """The transitions' columns: in the window one label column (the group, then its tiers);
    in the workbook a group and a tier column, so that every row can be filtered."""
    first = ([Column("label", "Group,\ntier before", note="Each group (bold: all its people), "
                     "then its tiers with the group-agnostic thresholds (S1 = lowest risk)")]
             if window else
             [Column("group", "Group"), Column("tier", "Tier before", note="Tier with the "
                     "group-agnostic thresholds (S1 = lowest risk)")])
    return (first
            + [Column(f"to{j}", f"→ S{j + 1}", "people", people_decimals,
                      note=f"People now in tier S{j + 1}") for j in range(k1)]
            + [Column("total", "Total", "people", people_decimals, note="People in the tier before"),
               Column("moved", "Moved", "rate", note="Share of the tier's people who change tier")])


def transitions_table(m: np.ndarray, group_names, people_decimals: int = 0) -> Table:
    """People by tier before (rows) and after (columns) the correction, per group."""
    return Table("Transitions", transition_columns(m.shape[1], people_decimals, window=True),
                 transition_rows(m, group_names), label_key="label", swatch_key="g",
                 title="People by tier before (rows) and after (columns) the correction, per group")


def transitions_note(n_rows: int, res: CorrectionResult, chosen: dict | None) -> str:
    ws = sorted({float(res.weights[wi]) for wi in cf.full_choice(res, chosen).values()})
    return (f"All {n_rows:,} rows (weighted counts). Rows: tier with the group-agnostic "
            "thresholds; columns: tier with the corrected thresholds at w = "
            + ", ".join(w_text(w) for w in ws) + ". Highlighted diagonal: people who keep "
            "their tier; bold rows: the whole group.")


# ------------------------------------------------------------------------------ the page's words

TIPS = {
    "page": "Group-specific thresholds that balance error rates (or another fairness definition) "
            "against the number of people whose tier changes — the Oregon study's correction",
    "settings": "How the group-specific thresholds are searched for. The results keep every "
                "penalty weight, so w is chosen after the run.",
    "definition": "The fairness definition the thresholds are corrected for (the study's "
                  "default: error rate balance)",
    "thresholds": "The group-agnostic thresholds Φ to correct; each is computed again on every "
                  "subsample by its rule",
    "oregon": "Oregon low = median of the scores below the mean; mean; Oregon high = 75th "
              "percentile of the scores above the mean (computed again on every subsample)",
    "subsampling": "How each subsample is drawn",
    "seed": "Random seed of the subsamples: the same seed, data and settings give the same "
            "results on any computer. Saved in the project and the workbook.",
    "w_start": "Smallest penalty weight w (0 = fairness at any cost)",
    "w_stop": "Largest penalty weight w (1 = keep the group-agnostic thresholds)",
    "w_step": "Step between penalty weights (0.01 gives 101 weights, the study's grid)",
    "subsamples": "I: subsamples on which the thresholds are optimised; the corrected "
                  "thresholds are their averages (bagging). The study uses 200.",
    "audit_subsamples": "J: fresh subsamples on which the averaged thresholds are assessed "
                        "(mean and SD of every measure). The study uses 200.",
    "run": "Run the correction (Ctrl+R). It can take minutes; progress and Cancel are here and "
           "in the status bar.",
    "cancel": "Stop the running correction",
    "threshold_combo": "The threshold whose w the slider sets, and whose rates and measures "
                       "the tables show",
    "w_slider": "Choose the penalty weight w among those computed. Every table and plot "
                "follows (nothing is recomputed).",
    "same_w": "Move every threshold's w together (calibration always uses one w: its "
              "thresholds are optimised jointly)",
    "suggest": "Back to the suggested w of every threshold: the highest mean fairness on the "
               "assessment subsamples (ties: the smallest SD, then the largest w)",
    "apply": "Use the corrected group-specific thresholds at the chosen w's as the current "
             "thresholds: the Audit and Tiers pages show them",
    "scenario": "Add the corrected thresholds at the chosen w's to the Decision table, to "
                "compare them with other options",
    # the table tabs: (tab tooltip, table tooltip)
    "tab_summary": ("Corrected thresholds and fairness before and after (the study's Table 3)",
                    "The corrected thresholds per group at the chosen w, and fairness before and "
                    "after on the assessment subsamples; hover a row title for its meaning"),
    "tab_rates": ("Error rates and predictive values per group before and after (Tables 2 and 4)",
                  "Rates per group before → after the correction at the selected threshold: "
                  "means over the assessment subsamples; hover a cell for the SDs"),
    "tab_measures": ("All nine measures before and after (Table 9)",
                     "The nine fairness measures before and after the correction: the smallest "
                     "ratio between two groups, 1 = balanced"),
    "tab_transitions": ("Who moves between tiers, per group", "People by tier before (rows) and "
                        "after (columns) the correction, per group"),
}
RATES_NOTE = ("Means over the assessment subsamples. Hover a value for its standard deviation, "
              "a rate for its definition.")


def running_text(settings) -> str:
    return (f"Running: {settings.subsamples:,} subsamples × {len(settings.weights):,} weights, "
            f"then {settings.audit_subsamples:,} assessment subsamples. You can keep working on "
            "other pages.")

SUBSAMPLING = (("auto", "Automatic"), ("unit", "One random row per id"),
               ("bootstrap", "Bootstrap (rows with replacement)"))
SUBSAMPLING_TIPS = {
    "page": "Group-specific thresholds that balance error rates (or another fairness definition) "
            "against the number of people whose tier changes — the Oregon study's correction",
    "auto": "One random row per id when an id column is mapped and some id has several rows "
            "(the study's one record per child); bootstrap otherwise",
    "unit": "Each subsample takes one random row of every id (person, child, case): needs an "
            "id column on the Data page",
    "bootstrap": "Each subsample draws as many rows as the data has, with replacement",
}
SUMMARY_HELP = (
    "<b>How to read this.</b> For each threshold the optimizer searched, on each of the "
    "I subsamples and for every penalty weight w, the group-specific thresholds that "
    "minimise (1 − w)·(1 − fairness) + w·(share of people moved); the thresholds shown "
    "are the averages over the subsamples. These averaged thresholds were then applied "
    "to J fresh subsamples: the fairness before and after is their mean ± SD. The "
    "suggested w has the highest mean fairness there. A larger w moves fewer people; a "
    "smaller one may balance the groups more but moves more people between tiers.<br>"
    "Choose w with the slider (or drag the line in the Fairness and Thresholds plots), "
    "then press <b>Apply corrected thresholds</b> to audit them on the Audit page.")


def idle_text(data, has_result: bool, idle_message: str = "") -> str | None:
    """The page's placeholder while there is no result (None: keep the current one)."""
    if data is None:
        return ("Open a data file and map its columns (score, outcome, group) to correct the "
                "thresholds.")
    if data.label is None:
        return ("The correction compares decisions with outcomes: map an outcome (label) column "
                "on the Data page.")
    if data.n_groups < 2:
        return ("The correction compares groups: map a group column with at least two groups "
                "on the Data page.")
    if has_result:
        return None
    return (f"{idle_message}Run to see results.\n\nThe correction finds, for every penalty "
            "weight w, group-specific thresholds that balance the chosen fairness definition "
            "against the number of people whose tier changes; you then choose w and apply the "
            "thresholds.")


def tiers_option(rules) -> tuple[bool, str, str]:
    """(usable, text, tooltip) of the "thresholds of the Tiers page" choice, for the rules
    :func:`~fairdesk.reports.correction_figures.usable_rules` gave (None: not rules)."""
    from ..metrics.thresholds import ThresholdRule

    if rules is None:
        return (False, "The thresholds of the Tiers page (not made by rules)",
                "The current thresholds were typed per group or are not rules the correction "
                "can recompute on a subsample")
    names = ", ".join(cf.short_rule_name(r) for r in rules)
    return (True, f"Tiers page: {names}" if len(names) < 60 else f"Tiers page: {len(rules)} thresholds",
            "; ".join(ThresholdRule.from_dict(r).describe() for r in rules))


def measures_note(res: CorrectionResult) -> str:
    return ("Smallest ratio between two groups of the rate(s) each definition compares (1 = "
            f"balanced); mean ± SD over {res.settings.audit_subsamples:,} assessment subsamples. "
            "CAL per tier is assessed with this w for every threshold. The definitions "
            "conflict: correcting one can worsen another.")
