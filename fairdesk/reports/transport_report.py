"""Transport, conformal and Berk-style confusion results as workbook tables, and the
row-level export of transported scores and features. No Qt."""

from __future__ import annotations

import math

import numpy as np

from ..dataset import AnalysisData
from ..engines.conformal import SET_KEYS, SET_LABELS
from ..engines.confusion_tables import TABLE_RATES, ConfusionTables
from ..engines.transport import FeatureResult, TransportResult, weighted_stats
from ..errors import FairDeskError
from ..jobs import NO_JOB
from ..metrics.rates import RATES, undefined_reason
from ..undefined import Undefined
from .workbook import ChartSpec, Column, Table, write_csv, write_workbook

XLSX_MAX_ROWS = 1_048_575
PERCENTILES = (1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99)
ERROR_KEYS = ("tpr", "fpr", "fnr", "ppv", "accuracy", "cost_ratio")


def _v(x, reason: str):
    try:
        x = float(x)
    except (TypeError, ValueError):
        return Undefined(reason)
    return Undefined(reason) if math.isnan(x) or math.isinf(x) else x


def _fmt(x: float) -> str:
    return f"{x:.4g}"


# ------------------------------------------------------------------------------------------
# score transport

def transport_rate_rows(res: TransportResult) -> list[dict]:
    """Per group: selection (and error) rates at the threshold before and after transport."""
    rows = []
    ref = res.reference
    for g, name in enumerate(res.group_names):
        n = float(res.counts_before.n[g, 0])
        row = {"group": name + (" (reference)" if g == ref else ""), "rows": int(n),
               "sel_before": _v(res.rates_before["selection_rate"][g],
                                undefined_reason("selection_rate", name)),
               "sel_after": _v(res.rates_after["selection_rate"][g],
                               undefined_reason("selection_rate", name)),
               "sel_ref": _v(res.rates_before["selection_rate"][ref],
                             undefined_reason("selection_rate", res.reference_name)),
               "gap_before": _v(res.gap_before[g], f"group '{name}' has no rows"),
               "gap_after": _v(res.gap_after[g], f"group '{name}' has no rows")}
        if res.has_label:
            for k in ERROR_KEYS:
                row[f"{k}_before"] = _v(res.rates_before[k][g], undefined_reason(k, name))
                row[f"{k}_after"] = _v(res.rates_after[k][g], undefined_reason(k, name))
        rows.append(row)
    return rows


def transport_rate_columns(has_label: bool) -> list[Column]:
    cols = [Column("group", "Group"), Column("rows", "Rows", "int"),
            Column("sel_before", "Selection rate before", "percent", 1,
                   note="Share of the group flagged at the threshold with its original scores."),
            Column("sel_after", "Selection rate after transport", "percent", 1,
                   note="Share of the group flagged at the threshold with its transported scores."),
            Column("sel_ref", "Reference selection rate", "percent", 1,
                   note="Share of the reference group flagged at the threshold."),
            Column("gap_before", "Largest gap before", "percent", 1,
                   note="Largest difference from the reference group's selection rate over "
                        "every possible threshold, original scores."),
            Column("gap_after", "Largest gap after", "percent", 1,
                   note="Largest difference from the reference group's selection rate over "
                        "every possible threshold, transported scores (0 = prediction parity).")]
    if has_label:
        for k in ERROR_KEYS:
            kind, dec = ("float", 3) if k == "cost_ratio" else ("percent", 1)
            short = {"tpr": "TPR", "fpr": "FPR", "fnr": "FNR", "ppv": "PPV",
                     "accuracy": "Accuracy", "cost_ratio": "FP/FN"}[k]
            cols.append(Column(f"{k}_before", f"{short} before", kind, dec, note=RATES[k].definition))
            cols.append(Column(f"{k}_after", f"{short} after", kind, dec, note=RATES[k].definition))
    return cols


def map_rows(res: TransportResult, data: AnalysisData) -> list[dict]:
    """Percentiles of each group's scores and where the map sends them."""
    from ..metrics.thresholds import weighted_quantile

    rows = []
    for g, name in enumerate(res.group_names):
        m = data.group == g
        if not m.any() or data.weight[m].sum() <= 0:
            continue
        q = weighted_quantile(data.score[m], np.array(PERCENTILES) / 100, data.weight[m])
        t = res.score_map.transform(q, np.full(q.size, g))
        for p, a, b in zip(PERCENTILES, q, t):
            rows.append({"group": name, "pct": p, "score": float(a), "transported": float(b)})
    return rows


def transport_tables(res: TransportResult, data: AnalysisData) -> list[Table]:
    tables = []
    thr = _fmt(res.threshold)
    notes = [f"Reference group: {res.reference_name}. Threshold {thr} (flagged when the score is "
             + ("at or above" if res.sign > 0 else "at or below") + " it).",
             "Score transport: each group's scores are mapped by the monotone (quantile–quantile) "
             "optimal transport map onto the reference group's distribution; the order of the "
             "scores within a group never changes.",
             "Ties " + ("move together (equal scores stay equal)." if res.settings.ties == "together"
                        else f"are broken in a seeded random order (seed {res.settings.seed})."),
             ] + list(res.warnings)
    rows = transport_rate_rows(res)
    tables.append(Table("Transport rates", transport_rate_columns(res.has_label), rows,
                        title="Selection and error rates at the threshold, before and after "
                              "transport onto the reference group",
                        notes=notes,
                        charts=[ChartSpec("bar", "Selection rate before and after transport",
                                          "group", ["sel_before", "sel_after"],
                                          y_title="selection rate", percent_axis=True)]))
    tables.append(Table("Transport map", [Column("group", "Group"),
                                          Column("pct", "Percentile of the group", "int"),
                                          Column("score", "Original score", "float", 4),
                                          Column("transported", "Transported score", "float", 4)],
                        map_rows(res, data),
                        title="Where the map sends each group's score percentiles",
                        notes=["The map is linear between the fitted scores and constant beyond "
                               "them, so new rows can be mapped too."]))
    c = res.conformal
    if c is not None:
        rows = []
        for g, name in enumerate(res.group_names):
            for key, shares in (("original", c.shares_original), ("transported", c.shares_transported)):
                cov = c.coverage_by_group[key][g]
                row = {"group": name + (" (reference)" if g == res.reference else ""),
                       "scores": key, "n": int(c.n_eval[g])}
                for i, sk in enumerate(SET_KEYS):
                    row[f"s{i}"] = _v(shares[g, i], f"group '{name}' has no test rows")
                row["cov"] = _v(cov[0], f"group '{name}' has no test rows")
                row["low"] = _v(cov[1], f"group '{name}' has no test rows")
                row["high"] = _v(cov[2], f"group '{name}' has no test rows")
                rows.append(row)
        cols = [Column("group", "Group"), Column("scores", "Scores"),
                Column("n", "Test rows", "int")] + \
            [Column(f"s{i}", f"Share {k}", "percent", 1, note=SET_LABELS[k])
             for i, k in enumerate(SET_KEYS)] + \
            [Column("cov", "Coverage", "percent", 1,
                    note="Share of the group's test rows whose observed outcome is in their "
                         "prediction set. Guaranteed (≥ 1 − α) only for the reference group."),
             Column("low", "95% low", "percent", 1, note="Clopper–Pearson exact interval"),
             Column("high", "95% high", "percent", 1, note="Clopper–Pearson exact interval")]
        cov = c.coverage
        cnotes = [f"Coverage target 1 − α = {1 - c.alpha:.0%}. On the reference group's test split "
                  f"({cov['n']:,.0f} people): {cov['value']:.1%} "
                  f"(95% Clopper–Pearson interval {cov['low']:.1%} to {cov['high']:.1%}).",
                  f"Nonconformity s = 1 − p̂(y); q̂ = {c.qhat:.4g}, the empirical quantile at "
                  f"level ⌈(n + 1)(1 − α)⌉ / n = {c.level:.4f} of the reference group's "
                  "calibration split. A row's set holds every outcome y with 1 − p̂(y) ≤ q̂.",
                  f"p̂(1): {c.calibrator.describe()}."] + c.split_notes + c.warnings
        tables.append(Table("Conformal sets", cols, rows,
                            title=f"Conformal prediction sets at coverage {1 - c.alpha:.0%}: "
                                  "share of each kind of set on each group's test rows "
                                  "(Berk et al., Table 3)", notes=cnotes))
        split_rows = [{"group": name, "train": int(c.n_split[g, 0]),
                       "calibration": int(c.n_split[g, 1]), "test": int(c.n_split[g, 2])}
                      for g, name in enumerate(res.group_names)]
        tables.append(Table("Conformal splits", [Column("group", "Group"),
                                                 Column("train", "Train rows", "int"),
                                                 Column("calibration", "Calibration rows", "int"),
                                                 Column("test", "Test rows", "int")], split_rows,
                            title="Rows of each group in each split",
                            notes=["Train: fits p̂(1) on the reference group (when the score is "
                                   "not a probability). Calibration: gives q̂ (reference group). "
                                   "Test: coverage and the shares of sets (every group)."]
                            + c.split_notes))
    if res.tables_before is not None:
        rows = confusion_rows(res.tables_before, "original", f"threshold {thr}") + \
            confusion_rows(res.tables_after, "transported", f"threshold {thr}")
        cr = res.cost_ratio
        if res.tables_cost_before is not None:
            at = f"cost ratio {cr.target:g}:1 ({_fmt(cr.threshold * res.sign)})"
            rows += confusion_rows(res.tables_cost_before, "original", at) + \
                confusion_rows(res.tables_cost_after, "transported", at)
        cnotes = ["One row per group, scores and threshold: the four cells of the table (the "
                  "observed outcome by the forecast; flagged = at or beyond the threshold). "
                  "Classification error is conditioned on the truth (FPR for outcome 0, FNR "
                  "for outcome 1); forecasting error on the forecast (FOR for not flagged, FDR "
                  "for flagged). Counts are weighted.",
                  "Cost ratio FP : FN = false positives per false negative."]
        if cr is not None:
            if math.isnan(cr.threshold):
                cnotes.append(f"No threshold gives '{res.reference_name}' both false positives "
                              "and false negatives, so the target cost ratio cannot be reached.")
            else:
                cnotes.append(f"Target cost ratio {cr.target:g} to 1 on '{res.reference_name}': "
                              f"threshold {_fmt(cr.threshold * res.sign)} gives {cr.achieved:.2f} "
                              f"to 1 ({cr.fp:,.0f} FP, {cr.fn:,.0f} FN), the closest on a log "
                              "scale among the reference group's distinct scores.")
        tables.append(Table("Confusion tables", CONFUSION_COLUMNS, rows,
                            title="Berk-style confusion tables per group (original and "
                                  "transported scores)", notes=cnotes))
    return tables


def confusion_rows(t: ConfusionTables, scores: str, at: str) -> list[dict]:
    """One row per group: the four cells of Berk's table and its error rates."""
    r = t.rates()
    rows = []
    for g, name in enumerate(t.group_names):
        row = {"group": name, "scores": scores, "at": at, "tn": float(t.tn[g]),
               "fp": float(t.fp[g]), "fn": float(t.fn[g]), "tp": float(t.tp[g])}
        for key in ("fpr", "fnr", "for", "fdr", "error", "cost_ratio"):
            row[key] = _v(r[key][g], t.undefined_reason(key, name))
        rows.append(row)
    return rows


CONFUSION_COLUMNS = [
    Column("group", "Group"), Column("scores", "Scores"), Column("at", "Threshold"),
    Column("tn", "Outcome 0, not flagged (TN)", "number"),
    Column("fp", "Outcome 0, flagged (FP)", "number"),
    Column("fn", "Outcome 1, not flagged (FN)", "number"),
    Column("tp", "Outcome 1, flagged (TP)", "number"),
    Column("fpr", "Classification error, outcome 0 (FPR)", "percent", 1,
           note=TABLE_RATES["fpr"][2]),
    Column("fnr", "Classification error, outcome 1 (FNR)", "percent", 1,
           note=TABLE_RATES["fnr"][2]),
    Column("for", "Forecasting error, not flagged (FOR)", "percent", 1,
           note=TABLE_RATES["for"][2]),
    Column("fdr", "Forecasting error, flagged (FDR)", "percent", 1,
           note=TABLE_RATES["fdr"][2]),
    Column("error", "Overall error", "percent", 1, note=TABLE_RATES["error"][2]),
    Column("cost_ratio", "Cost ratio FP : FN", "float", 2, note=TABLE_RATES["cost_ratio"][2]),
]


# ------------------------------------------------------------------------------------------
# feature transport

def feature_summary_rows(fres: FeatureResult, data: AnalysisData) -> list[dict]:
    rows = []
    ref = fres.reference
    w = data.weight
    mr = data.group == ref
    mean_r, sd_r, _ = weighted_stats(fres.original[mr], w[mr])
    for g, name in enumerate(fres.group_names):
        if g == ref:
            continue
        m = data.group == g
        mean_o, sd_o, _ = weighted_stats(fres.original[m], w[m])
        mean_t, sd_t, _ = weighted_stats(fres.transported[m], w[m])
        for j, f in enumerate(fres.features):
            rows.append({"group": name, "feature": f,
                         "ref_mean": _v(mean_r[j], "no reference rows"),
                         "orig_mean": _v(mean_o[j], f"group '{name}' has no rows"),
                         "tran_mean": _v(mean_t[j], f"group '{name}' has no rows"),
                         "ref_sd": _v(sd_r[j], "no reference rows"),
                         "orig_sd": _v(sd_o[j], f"group '{name}' has no rows"),
                         "tran_sd": _v(sd_t[j], f"group '{name}' has no rows")})
    return rows


def correlation_rows(fres: FeatureResult, data: AnalysisData) -> list[dict]:
    rows = []
    w = data.weight
    ref = fres.reference
    blocks = [(f"{fres.reference_name} (reference)", data.group == ref, fres.original)]
    for g, name in enumerate(fres.group_names):
        if g != ref:
            blocks.append((f"{name} original", data.group == g, fres.original))
            blocks.append((f"{name} transported", data.group == g, fres.transported))
    for label, m, X in blocks:
        _, _, corr = weighted_stats(X[m], w[m])
        for i, f in enumerate(fres.features):
            row = {"block": label, "feature": f}
            for j in range(len(fres.features)):
                row[f"c{j}"] = _v(corr[i, j], "a constant feature has no correlation (0/0)")
            rows.append(row)
    return rows


def feature_tables(fres: FeatureResult, data: AnalysisData) -> list[Table]:
    s = fres.settings
    notes = [f"Reference group: {fres.reference_name}. Features: {', '.join(fres.features)}.",
             "Algorithm 2 of Berk et al.: exact optimal transport (squared Euclidean cost, an "
             "assignment problem) between random equal-size batches of each group and of the "
             f"reference group; batches of at most {s.batch_size:,} rows, {s.rounds} round(s) "
             "(each row in one batch per round), matched reference rows averaged, then a "
             f"{s.neighbours}-nearest-neighbour regression gives every row its transported "
             "features.",
             "The cost uses " + ("each feature divided by its standard deviation over all rows."
                                 if s.standardize else "the raw features, as in the paper."),
             f"Seed {s.seed}."] + [f"{g}: {fres.batches.get(g, 0)} batches, mean squared distance "
                                   f"per matched pair {np.mean(c):.4g}" for g, c in
                                   fres.batch_cost.items() if len(c)] + list(fres.warnings)
    cols = [Column("group", "Group"), Column("feature", "Feature"),
            Column("ref_mean", "Reference mean", "float", 3),
            Column("orig_mean", "Original mean", "float", 3),
            Column("tran_mean", "Transported mean", "float", 3),
            Column("ref_sd", "Reference SD", "float", 3),
            Column("orig_sd", "Original SD", "float", 3),
            Column("tran_sd", "Transported SD", "float", 3)]
    tables = [Table("Feature transport", cols, feature_summary_rows(fres, data),
                    title="Features before and after transport onto the reference group",
                    notes=notes)]
    ccols = [Column("block", "Data"), Column("feature", "Feature")] + \
        [Column(f"c{j}", f, "float", 2) for j, f in enumerate(fres.features)]
    tables.append(Table("Feature correlations", ccols, correlation_rows(fres, data),
                        title="Correlation matrices: reference, each group original and transported",
                        notes=["Weighted Pearson correlations."]))
    return tables


# ------------------------------------------------------------------------------------------
# rows

def transported_row_columns(data: AnalysisData, res: TransportResult | None,
                            fres: FeatureResult | None) -> tuple[list[Column], dict]:
    from ..engines.conformal import CODE_OF

    names = {v: k for k, v in CODE_OF.items()}
    cols = [Column("row", "Spreadsheet row", "int")]
    values = {"row": data.row_numbers}
    if data.ids is not None:
        cols.append(Column("id", data.mapping.id or "id"))
        values["id"] = data.ids
    cols.append(Column("group", "Group"))
    values["group"] = np.asarray(data.group_names, dtype=object)[data.group]
    if res is not None:
        cols.append(Column("score", data.mapping.score or "score", "number"))
        values["score"] = data.score
        cols.append(Column("transported", "Transported score", "number"))
        values["transported"] = res.transported
        if res.conformal is not None:
            c = res.conformal
            split_names = np.array(["train", "calibration", "test"], dtype=object)
            cols.append(Column("split", "Conformal split"))
            values["split"] = split_names[c.split_codes]
            lookup = np.array([names[i] for i in range(4)], dtype=object)
            cols.append(Column("set_o", "Prediction set (original)"))
            values["set_o"] = lookup[c.sets_original]
            cols.append(Column("set_t", "Prediction set (transported)"))
            values["set_t"] = lookup[c.sets_transported]
    if fres is not None:
        for j, f in enumerate(fres.features):
            cols.append(Column(f"f{j}", f, "number"))
            values[f"f{j}"] = fres.original[:, j]
        for j, f in enumerate(fres.features):
            cols.append(Column(f"t{j}", f"{f} (transported)", "number"))
            values[f"t{j}"] = fres.transported[:, j]
    return cols, values


def write_transported_rows(path, source, data: AnalysisData, res: TransportResult | None,
                           fres: FeatureResult | None, *, job=NO_JOB) -> str:
    """Row-level transported scores, prediction sets and features, as CSV or XLSX (by the
    extension), so the analyst can rescore the transported features with the agency's model."""
    import pandas as pd

    from .audit_report import about_sections

    if res is None and fres is None:
        raise FairDeskError("Nothing to export yet: run the score or the feature transport first.")
    job.progress(0.05, "Preparing the transported rows")
    cols, values = transported_row_columns(data, res, fres)
    frame = pd.DataFrame(values)
    job.progress(0.3, "Writing")
    if str(path).lower().endswith(".xlsx"):
        if len(frame) > XLSX_MAX_ROWS:
            raise FairDeskError(f"{len(frame):,} rows do not fit in one Excel sheet "
                                f"({XLSX_MAX_ROWS:,} at most); export them as CSV instead.")
        settings = {}
        seeds = {}
        if res is not None:
            settings["Score transport"] = res.settings.to_dict()
            seeds["transport"] = res.settings.seed
        if fres is not None:
            settings["Feature transport"] = fres.settings.to_dict()
            seeds["feature transport"] = fres.settings.seed
        written = write_workbook(path, about=about_sections(source, data, settings, seeds),
                                 input_paths=[source.path],
                                 tables=[Table("Transported rows", cols, frame)])
    else:
        written = write_csv(path, cols, frame, input_paths=[source.path])
    job.progress(1.0, "Written")
    return str(written)
