"""Transport, conformal and Berk-style confusion results as workbook tables (the page's
tables, described once in :mod:`fairdesk.reports.transport_tables`), and the row-level export
of transported scores and features. No Qt."""

from __future__ import annotations

import math

import numpy as np

from ..dataset import AnalysisData
from ..engines.transport import FeatureResult, TransportResult
from ..errors import FairDeskError
from ..jobs import NO_JOB
from ..present.formats import format_people, format_ratio, score_decimals
from ..present.table import ChartSpec, Column, Table
from .transport_tables import (confusion_columns, confusion_rows, conformal_table,
                               correlations_table, feature_summary_table, rates_table,
                               splits_table, threshold_text)

XLSX_MAX_ROWS = 1_048_575
PERCENTILES = (1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99)


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
            rows.append({"group": name, "g": g, "pct": p, "score": float(a),
                         "transported": float(b)})
    return rows


def transport_tables(res: TransportResult, data: AnalysisData) -> list[Table]:
    """The score transport's sheets: the same tables the page shows (rates, prediction sets),
    the map's percentiles, the splits and every confusion table in one sheet."""
    rates = rates_table(res, data)
    rates.charts = [ChartSpec("bar", "Selection rate before and after transport", "group",
                              ["sel_before", "sel_after"], y_title="selection rate",
                              percent_axis=True)]
    tables = [rates]
    rows = map_rows(res, data)
    # percentiles and transported scores can lie between the scores: their own decimals
    dec = max(data.score_decimals, score_decimals([r[k] for r in rows for k in ("score",
                                                                                 "transported")]))
    tables.append(Table("Transport map", [Column("group", "Group"),
                                          Column("pct", "Percentile of the group", "count"),
                                          Column("score", "Original score", "score", dec),
                                          Column("transported", "Transported score", "score",
                                                 dec)],
                        rows,
                        title="Where the map sends each group's score percentiles",
                        notes=["The map is linear between the fitted scores and constant beyond "
                               "them, so new rows can be mapped too."],
                        label_key="group", swatch_key="g"))
    if res.conformal is not None:
        tables += [conformal_table(res), splits_table(res)]
    if res.tables_before is not None:
        thr = threshold_text(res.threshold, data)
        rows = confusion_rows(res.tables_before, "original", f"threshold {thr}") + \
            confusion_rows(res.tables_after, "transported", f"threshold {thr}")
        cr = res.cost_ratio
        if res.tables_cost_before is not None:
            at = f"cost ratio {cr.target:g}:1 ({threshold_text(cr.threshold * res.sign, data)})"
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
                people = data.people_decimals
                cnotes.append(f"Target cost ratio {cr.target:g} to 1 on '{res.reference_name}': "
                              f"threshold {threshold_text(cr.threshold * res.sign, data)} gives "
                              f"{format_ratio(cr.achieved, 2)} to 1 ({format_people(cr.fp, people)} FP, "
                              f"{format_people(cr.fn, people)} FN), the closest on a log "
                              "scale among the reference group's distinct scores.")
        tables.append(Table("Confusion tables", confusion_columns(data), rows,
                            title="Berk-style confusion tables per group (original and "
                                  "transported scores)", notes=cnotes,
                            label_key="group", swatch_key="g"))
    return tables


def recorded_settings(res: TransportResult | None, fres: FeatureResult | None) -> dict:
    """The settings behind the results, for the workbook's About sheet (empty before a
    result)."""
    if res is None:
        return {}
    s = res.settings
    out = {"Reference group": res.reference_name, "Threshold": res.threshold, "Ties": s.ties,
           "Coverage (1 − α)": 1 - s.alpha, "p̂(1)": s.probability,
           "Target cost ratio FP:FN": s.target_cost_ratio, "Seed": s.seed}
    if fres is not None:
        fs = fres.settings
        out.update({"Features": ", ".join(fs.features), "Batch size": fs.batch_size,
                    "Rounds": fs.rounds, "Neighbours": fs.neighbours,
                    "Standardized": "yes" if fs.standardize else "no (raw features)",
                    "Feature seed": fs.seed})
    return out


# ------------------------------------------------------------------------------------------
# feature transport

def feature_tables(fres: FeatureResult, data: AnalysisData) -> list[Table]:
    """The feature summaries of every group and every correlation matrix."""
    return [feature_summary_table(fres, data), correlations_table(fres, data)]


# ------------------------------------------------------------------------------------------
# rows

def transported_row_columns(data: AnalysisData, res: TransportResult | None,
                            fres: FeatureResult | None) -> tuple[list[Column], dict]:
    from ..engines.conformal import CODE_OF
    from .audit_report import row_columns

    names = {v: k for k, v in CODE_OF.items()}
    cols, values = row_columns(data, score=res is not None, outcome=False)
    if res is not None:
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
    from .audit_report import about_sections, write_rows

    if res is None and fres is None:
        raise FairDeskError("Nothing to export yet: run the score or the feature transport first.")
    job.progress(0.05, "Preparing the transported rows")
    cols, values = transported_row_columns(data, res, fres)
    settings, seeds = {}, {}
    if res is not None:
        settings["Score transport"] = res.settings.to_dict()
        seeds["transport"] = res.settings.seed
    if fres is not None:
        settings["Feature transport"] = fres.settings.to_dict()
        seeds["feature transport"] = fres.settings.seed
    return write_rows(path, source, data, cols, values, sheet="Transported rows",
                      about=lambda: about_sections(source, data, settings, seeds), job=job)
