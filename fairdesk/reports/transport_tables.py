"""The Transport & conformal results described once, as :class:`fairdesk.present.table.Table`:
the rates before and after transport, the conformal prediction sets, Berk's confusion table of
each group, the feature summaries and correlation matrices — shown by the window
(:mod:`fairdesk.gui.pages.transport_page`) and written to the workbook
(:mod:`fairdesk.reports.transport_report`) from the same description — and the sentences the
page writes beside them. Also the histogram bins the page's plots use. No Qt.
"""

from __future__ import annotations

import math

import numpy as np

from ..dataset import AnalysisData
from ..engines.conformal import SET_KEYS, SET_LABELS
from ..engines.confusion_tables import TABLE_RATES, ConfusionTables
from ..engines.transport import FeatureResult, TransportResult, weighted_stats
from ..metrics.rates import RATES, undefined_reason
from ..present.formats import (format_count, format_fixed, format_number, format_people,
                               format_rate, format_ratio, format_score, score_decimals)
from ..present.table import Cell, Column, Table
from ..undefined import Undefined

MAX_BINS = 40
PARITY_WARNING = 0.02  # the engine warns of a gap after transport above this
ERROR_KEYS = ("tpr", "fpr", "fnr", "ppv", "accuracy", "cost_ratio")
SHORT = {"tpr": "TPR", "fpr": "FPR", "fnr": "FNR", "ppv": "PPV", "accuracy": "Accuracy",
         "cost_ratio": "FP / FN"}
GAP_NOTE = ("Largest gap vs reference: the largest difference between the group's selection "
            "rate and the reference group's over every possible threshold (0 = the same share "
            "flagged at any threshold: prediction parity).")
SET_TIPS = {
    "{0}": "The set holds only outcome 0: the tool is confident the outcome will not happen.",
    "{1}": "The set holds only outcome 1: the tool is confident the outcome will happen.",
    "{0,1}": "The set holds both outcomes: at this coverage the tool cannot tell.",
    "{}": "The set is empty: neither outcome is plausible enough (happens for small q)."}
TIES_TIPS = {  # the page's choices of the engine's settings
    "together": "Equal scores stay equal after transport (deterministic). With few distinct "
                "scores (deciles) parity then holds only approximately.",
    "random": "Ties are broken in a seeded random order first, as the optimal coupling splits "
              "a block of equal scores: parity holds at every threshold, but two people with "
              "the same score may get different transported scores."}
PROB_LABELS = (("auto", "automatic"), ("score", "the score"), ("logistic", "logistic fit"),
               ("isotonic", "isotonic fit"))
PROB_TIPS = {
    "auto": "The score itself when every score is between 0 and 1 (a probability); otherwise a "
            "logistic calibration",
    "score": "The score is the probability p(1) of the positive outcome",
    "logistic": "p(1) = 1 / (1 + exp(−(a + b·score))), a and b fitted on the reference "
                "group's training split",
    "isotonic": "A non-decreasing step function of the score fitted on the reference group's "
                "training split"}
CORRELATION_REASON = "a constant feature has no correlation (0/0)"


def defined(x, reason: str):
    """``x`` as a float, or :class:`Undefined` (``reason``) when it is NaN, infinite or no
    number."""
    try:
        x = float(x)
    except (TypeError, ValueError):
        return Undefined(reason)
    return Undefined(reason) if math.isnan(x) or math.isinf(x) else x


def plain_hats(text: str) -> str:
    """p̂ and q̂ as p and q: the combining hat is drawn misplaced in Qt's rich text."""
    return text.replace("p̂", "p").replace("q̂", "q")


def threshold_text(x, data: AnalysisData) -> str:
    """A threshold in the score's units with the scores' decimals — more when it lies between
    two scores, so that 4.4185 on decile scores never reads 4 (which would flag a 4)."""
    return format_score(x, max(data.score_decimals, score_decimals([x])))


def rule_words(res: TransportResult) -> str:
    return "at or above" if res.sign > 0 else "at or below"


# ------------------------------------------------------------------------------------------
# rates before and after transport

def rate_rows(res: TransportResult) -> list[dict]:
    """Per group: rows, selection rate, largest gap (and error rates) before and after."""
    rows = []
    ref = res.reference
    ref_sel = defined(res.rates_before["selection_rate"][ref],
                      undefined_reason("selection_rate", res.reference_name))
    for g, name in enumerate(res.group_names):
        row = {"group": name + (" (reference)" if g == ref else ""), "g": g,
               "rows": int(res.counts_before.n[g, 0]), "sel_ref": ref_sel}
        for when, rates, gap in (("before", res.rates_before, res.gap_before),
                                 ("after", res.rates_after, res.gap_after)):
            row[f"sel_{when}"] = defined(rates["selection_rate"][g],
                                         undefined_reason("selection_rate", name))
            row[f"gap_{when}"] = defined(gap[g], f"group '{name}' has no rows")
            for k in ERROR_KEYS if res.has_label else ():
                row[f"{k}_{when}"] = defined(rates[k][g], undefined_reason(k, name))
        rows.append(row)
    return rows


def rate_columns(has_label: bool) -> list[Column]:
    cols = [Column("group", "Group"), Column("rows", "Rows", "count",
                                             note="Rows of the group in the data"),
            Column("sel_before", "Selection rate\nbefore", "rate",
                   note="Share of the group flagged at the threshold with its original scores."),
            Column("sel_after", "Selection rate\nafter", "rate",
                   note="Share of the group flagged at the threshold with its transported "
                        "scores."),
            Column("sel_ref", "Reference\nselection rate", "rate",
                   note="Share of the reference group flagged at the threshold."),
            Column("gap_before", "Largest gap\nbefore", "rate",
                   note=GAP_NOTE + " Original scores."),
            Column("gap_after", "Largest gap\nafter", "rate",
                   note=GAP_NOTE + " Transported scores.")]
    for k in ERROR_KEYS if has_label else ():
        kind, dec = ("ratio", 3) if k == "cost_ratio" else ("rate", 1)
        note = f"{RATES[k].name}: {RATES[k].definition} Formula: {RATES[k].formula}."
        cols.append(Column(f"{k}_before", f"{SHORT[k]}\nbefore", kind, dec,
                           note=note + " Original scores."))
        cols.append(Column(f"{k}_after", f"{SHORT[k]}\nafter", kind, dec,
                           note=note + " Transported scores."))
    return cols


def rates_table(res: TransportResult, data: AnalysisData) -> Table:
    """Selection (and error) rates at the threshold, before and after transport: one row per
    group (the reference group's row is marked)."""
    return Table("Transport rates", rate_columns(res.has_label), rate_rows(res),
                 title="Selection and error rates at the threshold, before and after transport "
                       "onto the reference group",
                 notes=rate_notes(res, data), label_key="group", swatch_key="g")


def rate_notes(res: TransportResult, data: AnalysisData) -> list[str]:
    return [f"Reference group: {res.reference_name}. Threshold "
            f"{threshold_text(res.threshold, data)} (flagged when the score is "
            f"{rule_words(res)} it).",
            "Score transport: each group's scores are mapped by the monotone (quantile–quantile) "
            "optimal transport map onto the reference group's distribution; the order of the "
            "scores within a group never changes.",
            "Ties " + ("move together (equal scores stay equal)." if res.settings.ties == "together"
                       else f"are broken in a seeded random order (seed {res.settings.seed}).")
            ] + list(res.warnings)


def rate_page_notes(res: TransportResult, data: AnalysisData,
                    median_of_groups: bool) -> tuple[list[str], list[str]]:
    """The notes under the page's rates table and the engine's warnings about them."""
    notes = [f"Threshold {threshold_text(res.threshold, data)}: flagged when the "
             f"score is {rule_words(res)} it. “after” = the scores transported onto "
             f"{res.reference_name}."]
    if median_of_groups:
        notes.append("The application's thresholds are group-specific; this page applies "
                     "one threshold to everyone (the median of the groups' thresholds). "
                     "Type another in the Threshold box.")
    warnings = [w for w in res.warnings if "label" in w.lower() and "differs" not in w]
    apart = [g for g in range(len(res.group_names)) if g != res.reference
             and res.gap_after[g] > PARITY_WARNING]  # the engine's warning, one per group
    if len(apart) == 1:
        warnings += [w for w in res.warnings if "differs" in w]
    elif apart:  # one sentence for them all (the column holds each group's gap)
        warnings.append(f"After transport the selection rates of {len(apart)} groups still differ "
                     f"from {res.reference_name}'s by up to "
                     f"{format_rate(max(res.gap_after[g] for g in apart))} at some threshold "
                     "(“Largest gap after”)" + (": their few distinct scores move together "
                                                "(ties); choose random tie-breaking for exact "
                                                "parity at every threshold."
                                                if res.settings.ties == "together" else "."))
    return notes, warnings


# ------------------------------------------------------------------------------------------
# conformal prediction sets

def conformal_table(res: TransportResult) -> Table | None:
    """Share of each kind of prediction set on each group's test rows, with the original and
    the transported scores, and the coverage with its exact 95 % interval (Berk et al.,
    Table 3). None without an outcome."""
    c = res.conformal
    if c is None:
        return None
    rows = []
    for g, name in enumerate(res.group_names):
        for key, shares in (("original", c.shares_original),
                            ("transported", c.shares_transported)):
            why = f"group '{name}' has no test rows"
            row = {"group": name + (" (reference)" if g == res.reference else ""), "g": g,
                   "scores": key, "n": int(c.n_eval[g])}
            for i, k in enumerate(SET_KEYS):
                row[f"s{i}"] = Cell(defined(shares[g, i], why),
                                    tip=f"{name}, {key} scores: {SET_LABELS[k]}")
            v, lo, hi = c.coverage_by_group[key][g]
            row["cov"] = Cell(defined(v, why), tip=f"{name}, {key} scores: coverage "
                              f"{format_rate(v)}, exact 95% interval {format_rate(lo)} to "
                              f"{format_rate(hi)}")
            row["low"], row["high"] = defined(lo, why), defined(hi, why)
            rows.append(row)
    interval = "Exact 95% (Clopper–Pearson) interval of the coverage"
    cols = [Column("group", "Group"),
            Column("scores", "Scores", note="The group's original scores, or its scores "
                                            "transported onto the reference group"),
            Column("n", "Test\nrows", "count", note="Rows of the group in the test split")] + \
        [Column(f"s{i}", f"Share\n{k}", "rate", note=SET_LABELS[k] + ". " + SET_TIPS[k])
         for i, k in enumerate(SET_KEYS)] + \
        [Column("cov", "Coverage", "rate",
                note="Share of the group's test rows whose observed outcome is in their "
                     "prediction set. Guaranteed (≥ 1 − α) only for the reference group."),
         Column("low", "95%\nlow", "rate", note=interval),
         Column("high", "95%\nhigh", "rate", note=interval)]
    cov = c.coverage
    notes = [f"Coverage target 1 − α = {format_rate(1 - c.alpha)}. On the reference group's test "
             f"split ({format_count(cov['n'])} people): {format_rate(cov['value'])} (95% "
             f"Clopper–Pearson interval {format_rate(cov['low'])} to {format_rate(cov['high'])}).",
             f"Nonconformity s = 1 − p̂(y); q̂ = {format_fixed(c.qhat, 4)}, the empirical quantile at "
             f"level ⌈(n + 1)(1 − α)⌉ / n = {format_fixed(c.level, 4)} of the reference group's "
             "calibration split. A row's set holds every outcome y with 1 − p̂(y) ≤ q̂.",
             f"p̂(1): {c.calibrator.describe()}."] + c.split_notes + c.warnings
    return Table("Conformal sets", cols, rows,
                 title=f"Conformal prediction sets at coverage {format_rate(1 - c.alpha)}: share "
                       "of each kind of set on each group's test rows (Berk et al., Table 3)",
                 notes=notes, label_key="group", swatch_key="g")


def coverage_html(res: TransportResult) -> str:
    """The coverage line above the page's prediction-set table (rich text)."""
    c = res.conformal
    if c is None:
        return ("Prediction sets need the observed outcome: map an outcome (label) column on "
                "the Data page.")
    cov = c.coverage
    ok = cov["low"] <= 1 - c.alpha <= cov["high"] or cov["value"] >= 1 - c.alpha
    return (f"<b>Coverage on {res.reference_name}'s test split: {format_rate(cov['value'])}</b> "
            f"(95% interval {format_rate(cov['low'])} to {format_rate(cov['high'])}, "
            f"{format_count(cov['n'])} people; target {format_rate(1 - c.alpha)})"
            + ("" if ok else " — <span style='color:#a40000'>below the target: check that the "
               "splits are random samples of the same population</span>")
            + f".<br>Conformity threshold q = {format_fixed(c.qhat, 4)} (quantile level "
            f"{format_fixed(c.level, 4)}); "
            + plain_hats(f"p̂(1): {c.calibrator.describe()}."))


def split_sentence(res: TransportResult, data: AnalysisData) -> str:
    """Where the splits come from and the reference group's rows in each."""
    c = res.conformal
    if c is None:
        return ""
    notes = [n for n in c.split_notes if not n.startswith("Splits from column")]
    if data.split is not None:
        notes.insert(0, f"Splits from column '{data.mapping.split}'.")
    return (plain_hats(" ".join(notes + c.warnings)) + " Rows per split (train / calibration / "
            f"test) of {res.reference_name}: "
            + " / ".join(format_count(x) for x in c.n_split[res.reference]) + ".")


def splits_table(res: TransportResult) -> Table | None:
    c = res.conformal
    if c is None:
        return None
    rows = [{"group": name, "g": g, "train": int(c.n_split[g, 0]),
             "calibration": int(c.n_split[g, 1]), "test": int(c.n_split[g, 2])}
            for g, name in enumerate(res.group_names)]
    return Table("Conformal splits", [Column("group", "Group"),
                                      Column("train", "Train rows", "count"),
                                      Column("calibration", "Calibration rows", "count"),
                                      Column("test", "Test rows", "count")], rows,
                 title="Rows of each group in each split",
                 notes=["Train: fits p̂(1) on the reference group (when the score is not a "
                        "probability). Calibration: gives q̂ (reference group). Test: coverage "
                        "and the shares of sets (every group)."] + c.split_notes,
                 label_key="group", swatch_key="g")


# ------------------------------------------------------------------------------------------
# Berk's confusion tables

def confusion_choice(res: TransportResult, at: str, scores: str) -> ConfusionTables | None:
    """The tables at the threshold or at the cost-ratio threshold ("threshold" / "cost"), of
    the original or the transported scores (the threshold's when no cost ratio is reached)."""
    if res.tables_before is None:
        return None
    if at == "cost" and res.tables_cost_before is None:
        at = "threshold"
    return {("threshold", "original"): res.tables_before,
            ("threshold", "transported"): res.tables_after,
            ("cost", "original"): res.tables_cost_before,
            ("cost", "transported"): res.tables_cost_after}[(at, scores)]


def _rate_cell(tables: ConfusionTables, rates: dict, key: str, g: int) -> Cell:
    name = tables.group_names[g]
    info = TABLE_RATES[key]
    return Cell(defined(rates[key][g], tables.undefined_reason(key, name)), "rate", 1,
                tip=f"{info[0]}: {info[1]}. {info[2]}")


def berk_table(tables: ConfusionTables, g: int, data: AnalysisData) -> Table:
    """One group's confusion table as Berk et al. draw it: the truth in rows, the forecast in
    columns, classification errors (FPR, FNR) in the last column, forecasting errors (FOR,
    FDR) in the last row and the overall error in the corner."""
    rates = tables.rates()
    dec = data.people_decimals

    def people(x, tip):
        return Cell(float(x), "people", dec, tip=tip)

    rows = [{"truth": Cell("Outcome 0", tip="People without the outcome"),
             "not": people(tables.tn[g], "True negatives (TN)"),
             "flagged": people(tables.fp[g], "False positives (FP)"),
             "error": _rate_cell(tables, rates, "fpr", g)},
            {"truth": Cell("Outcome 1", tip="People with the outcome"),
             "not": people(tables.fn[g], "False negatives (FN)"),
             "flagged": people(tables.tp[g], "True positives (TP)"),
             "error": _rate_cell(tables, rates, "fnr", g)},
            {"truth": Cell("Forecast error", tip="Forecasting error, conditioned on the "
                                                 "forecast: FOR (not flagged), FDR (flagged)"),
             "not": _rate_cell(tables, rates, "for", g),
             "flagged": _rate_cell(tables, rates, "fdr", g),
             "error": _rate_cell(tables, rates, "error", g)}]
    cols = [Column("truth", "Truth"),
            Column("not", "Not\nflagged", "people", dec, note="Forecast: below the threshold"),
            Column("flagged", "Flagged", "people", dec,
                   note="Forecast: at or beyond the threshold"),
            Column("error", "Class.\nerror", "rate",
                   note="Classification error, conditioned on the truth: FPR for outcome 0, "
                        "FNR for outcome 1; last row: the overall error")]
    name = tables.group_names[g]
    return Table(f"Confusion {name}"[:31], cols, rows, title=f"Confusion table of {name}",
                 label_key="truth")


def berk_caption(tables: ConfusionTables, g: int, data: AnalysisData, reference: int) -> str:
    n = tables.tp[g] + tables.fp[g] + tables.fn[g] + tables.tn[g]
    ref = " (reference)" if g == reference else ""
    return f"{tables.group_names[g]}{ref} — {format_people(n, data.people_decimals)} people"


def cost_sentence(tables: ConfusionTables, g: int) -> str:
    ratio = tables.rates()["cost_ratio"][g]
    if math.isnan(ratio):
        return "Cost ratio FP : FN = undefined (no false negatives)"
    return f"Cost ratio FP : FN = {format_ratio(ratio, 2)} : 1"


def cost_html(res: TransportResult, data: AnalysisData) -> str:
    """The line about the target cost ratio's threshold (rich text)."""
    if res.tables_before is None:
        return ("Confusion tables need the observed outcome: map an outcome (label) column on "
                "the Data page.")
    cr = res.cost_ratio
    if res.tables_cost_before is None:
        return (f"No threshold gives {res.reference_name} both false positives and false "
                "negatives, so no cost ratio can be targeted.")
    dec = data.people_decimals
    return (f"Target {cr.target:g} : 1 on {res.reference_name}: threshold "
            f"<b>{threshold_text(cr.threshold * res.sign, data)}</b> gives "
            f"{format_ratio(cr.achieved, 2)} : 1 ({format_people(cr.fp, dec)} false positives, "
            f"{format_people(cr.fn, dec)} false negatives) — the closest among "
            f"{format_count(cr.candidates)} thresholds on a log scale.")


def confusion_rows(t: ConfusionTables, scores: str, at: str) -> list[dict]:
    """One row per group: the four cells of Berk's table and its error rates."""
    r = t.rates()
    rows = []
    for g, name in enumerate(t.group_names):
        row = {"group": name, "g": g, "scores": scores, "at": at, "tn": float(t.tn[g]),
               "fp": float(t.fp[g]), "fn": float(t.fn[g]), "tp": float(t.tp[g])}
        for key in ("fpr", "fnr", "for", "fdr", "error", "cost_ratio"):
            row[key] = defined(r[key][g], t.undefined_reason(key, name))
        rows.append(row)
    return rows


def confusion_columns(data: AnalysisData) -> list[Column]:
    dec = data.people_decimals
    return [
        Column("group", "Group"), Column("scores", "Scores"), Column("at", "Threshold"),
        Column("tn", "Outcome 0, not flagged (TN)", "people", dec),
        Column("fp", "Outcome 0, flagged (FP)", "people", dec),
        Column("fn", "Outcome 1, not flagged (FN)", "people", dec),
        Column("tp", "Outcome 1, flagged (TP)", "people", dec)] + [
        Column(k, header, "ratio" if k == "cost_ratio" else "rate",
               2 if k == "cost_ratio" else 1, note=TABLE_RATES[k][2])
        for k, header in (("fpr", "Classification error, outcome 0 (FPR)"),
                          ("fnr", "Classification error, outcome 1 (FNR)"),
                          ("for", "Forecasting error, not flagged (FOR)"),
                          ("fdr", "Forecasting error, flagged (FDR)"),
                          ("error", "Overall error"), ("cost_ratio", "Cost ratio FP : FN"))]


# ------------------------------------------------------------------------------------------
# feature transport

def feature_summary_table(fres: FeatureResult, data: AnalysisData,
                          groups: list[int] | None = None) -> Table:
    """Mean and SD of each feature: reference group, each group's original and transported
    values (``groups``: which groups; every group but the reference by default)."""
    ref = fres.reference
    w = data.weight
    mr = data.group == ref
    mean_r, sd_r, _ = weighted_stats(fres.original[mr], w[mr])
    groups = [g for g in range(len(fres.group_names)) if g != ref] if groups is None else groups
    rows = []
    for g in groups:
        name = fres.group_names[g]
        m = data.group == g
        mean_o, sd_o, _ = weighted_stats(fres.original[m], w[m])
        mean_t, sd_t, _ = weighted_stats(fres.transported[m], w[m])
        why, why_ref = f"group '{name}' has no rows", "no reference rows"
        for j, f in enumerate(fres.features):
            rows.append({"group": name, "g": g, "feature": f,
                         "ref_mean": defined(mean_r[j], why_ref),
                         "orig_mean": defined(mean_o[j], why),
                         "tran_mean": defined(mean_t[j], why),
                         "ref_sd": defined(sd_r[j], why_ref),
                         "orig_sd": defined(sd_o[j], why),
                         "tran_sd": defined(sd_t[j], why)})
    cols = [Column("group", "Group"), Column("feature", "Feature")] + [
        Column(key, header.replace(" ", "\n", 1), "fixed", 3,
               note=f"{header} of the feature (weighted)")
        for key, header in (("ref_mean", "Reference mean"), ("orig_mean", "Original mean"),
                            ("tran_mean", "Transported mean"), ("ref_sd", "Reference SD"),
                            ("orig_sd", "Original SD"), ("tran_sd", "Transported SD"))]
    return Table("Feature transport", cols, rows,
                 title="Features before and after transport onto the reference group",
                 notes=feature_notes(fres), label_key="group", swatch_key="g")


def feature_notes(fres: FeatureResult) -> list[str]:
    s = fres.settings
    return [f"Reference group: {fres.reference_name}. Features: {', '.join(fres.features)}.",
            "Algorithm 2 of Berk et al.: exact optimal transport (squared Euclidean cost, an "
            "assignment problem) between random equal-size batches of each group and of the "
            f"reference group; batches of at most {format_count(s.batch_size)} rows, {s.rounds} "
            "round(s) (each row in one batch per round), matched reference rows averaged, then a "
            f"{s.neighbours}-nearest-neighbour regression gives every row its transported "
            "features.",
            "The cost uses " + ("each feature divided by its standard deviation over all rows."
                                if s.standardize else "the raw features, as in the paper."),
            f"Seed {s.seed}."] + [f"{g}: {fres.batches.get(g, 0)} batches, mean squared distance "
                                  f"per matched pair {format_number(np.mean(c))}" for g, c in
                                  fres.batch_cost.items() if len(c)] + list(fres.warnings)


def correlation_blocks(fres: FeatureResult, data: AnalysisData, groups=None) -> list[tuple]:
    """(label, rows mask, feature matrix, group index) of the reference group and of each
    group's original and transported features."""
    ref = fres.reference
    blocks = [(f"{fres.reference_name} (reference)", data.group == ref, fres.original, ref)]
    groups = [g for g in range(len(fres.group_names)) if g != ref] if groups is None else groups
    for g in groups:
        name = fres.group_names[g]
        blocks.append((f"{name} original", data.group == g, fres.original, g))
        blocks.append((f"{name} transported", data.group == g, fres.transported, g))
    return blocks


def _correlation_rows(fres, data, blocks) -> list[dict]:
    rows = []
    for label, m, X, g in blocks:
        _, _, corr = weighted_stats(X[m], data.weight[m])
        for i, f in enumerate(fres.features):
            row = {"block": label, "g": g, "feature": f}
            for j, other in enumerate(fres.features):
                row[f"c{j}"] = Cell(defined(corr[i, j], CORRELATION_REASON),
                                    tip=f"{label}: correlation of {f} and {other}")
            rows.append(row)
    return rows


def _short(name: str) -> str:
    return name if len(name) <= 10 else name[:9] + "…"


def correlation_table(fres: FeatureResult, data: AnalysisData, block: tuple) -> Table:
    """One correlation matrix (the page shows three side by side): features in rows and
    columns."""
    cols = [Column("feature", "Feature")] + [
        Column(f"c{j}", _short(f), "fixed", 2, note=f) for j, f in enumerate(fres.features)]
    return Table("Correlations", cols, _correlation_rows(fres, data, [block]), title=block[0],
                 label_key="feature")


def correlations_table(fres: FeatureResult, data: AnalysisData) -> Table:
    """Every block's matrix, one under the other (the workbook's sheet)."""
    cols = [Column("block", "Data"), Column("feature", "Feature")] + \
        [Column(f"c{j}", f, "fixed", 2) for j, f in enumerate(fres.features)]
    return Table("Feature correlations", cols,
                 _correlation_rows(fres, data, correlation_blocks(fres, data)),
                 title="Correlation matrices: reference, each group original and transported",
                 notes=["Weighted Pearson correlations."], label_key="block", swatch_key="g")


# ------------------------------------------------------------------------------------------
# histograms of the plots

def hist_edges(values, max_bins: int = MAX_BINS) -> np.ndarray:
    """Bin edges for a score: one bin per value when there are few distinct values
    (deciles), otherwise ``max_bins`` equal bins over the range."""
    u = np.unique(np.asarray(values, dtype=float))
    if u.size == 0:
        return np.array([0.0, 1.0])
    if u.size == 1:
        return np.array([u[0] - 0.5, u[0] + 0.5])
    if u.size <= max_bins:
        mid = (u[1:] + u[:-1]) / 2
        return np.concatenate(([u[0] - (mid[0] - u[0])], mid, [u[-1] + (u[-1] - mid[-1])]))
    if np.all(u == np.round(u)):  # whole numbers (ages, counts): bins of whole widths
        width = max(1.0, math.ceil((u[-1] - u[0] + 1) / max_bins))
        return np.arange(u[0] - 0.5, u[-1] + 0.5 + width, width)
    return np.linspace(u[0], u[-1], max_bins + 1)


def hist_shares(values, weight, edges) -> np.ndarray:
    """Share of the (weighted) people in each bin."""
    h, _ = np.histogram(values, bins=edges, weights=weight)
    total = h.sum()
    return h / total if total > 0 else h
