"""Audit results as workbook tables, the About sheet, and the row-level decisions export.

No Qt: the GUI's export, the ``export`` command and the tests all build the same tables.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from .. import __version__
from ..audit import AuditResult
from ..bootstrap import BootstrapResult
from ..dataset import AnalysisData
from ..errors import FairDeskError
from ..jobs import NO_JOB
from ..metrics.fairness import DEFINITIONS, THRESHOLD_DEFINITIONS, reference_comparison
from ..metrics.rates import RATES, undefined_reason
from ..metrics.thresholds import tier_of
from ..undefined import Undefined, defined_or
from ..present.formats import format_score
from ..present.table import Cell
from .audit_tables import RATIO_KEYS, value_kind, xauc_table
from ..present.table import ChartSpec, Column, Table
from .writers import write_csv, write_workbook

XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit, less the header row

# rates shown per group, in meeting order
GROUP_RATES = ("prevalence", "selection_rate", "tpr", "fnr", "fpr", "tnr", "ppv", "fdr", "npv",
               "for", "accuracy", "fn_fp", "cost_ratio")


def _threshold_value(result: AuditResult, j: int):
    """A threshold for a cell: a number in the score's units (text only when it is a
    group-specific one, which has no single value)."""
    if result.group_specific:
        return f"group-specific #{j + 1}"
    return float(result.thresholds[j])


def _rate_column(key: str) -> Column:
    info = RATES[key]
    kind, decimals = value_kind(key)
    return Column(key, info.name, kind, decimals, note=f"{info.definition} {info.formula}.")


def _rate_cell(key: str, value):
    """A rate in a column of rates; FN/FP and FP/FN are ratios (0.812), not rates."""
    return Cell(value, "ratio", 3) if key in RATIO_KEYS else value


def _score_column(key: str, header: str, data: AnalysisData, note: str | None = None) -> Column:
    """A threshold in the score's units, with as many decimals as the scores have."""
    return Column(key, header, "score", data.score_decimals, note=note)


def about_sections(source, data: AnalysisData, settings: dict | None = None,
                   seeds: dict | None = None) -> dict:
    """The workbook's first sheet: where every number comes from."""
    m = data.mapping
    return {
        "Application": {"Name": "FairDesk", "Version": __version__},
        "Input": {
            "File": Path(source.path).name, "Folder": str(Path(source.path).parent),
            "SHA-256": source.sha256, "Format": source.format, "Sheet": source.sheet or "",
            "Rows read": source.n_rows, "Rows used": data.n, "Rows excluded": data.n_excluded,
            "Exclusions": "; ".join(f"{e.count:,} {e.reason} ({e.column})" for e in data.exclusions)
            or "none",
        },
        "Column mapping": {
            "Score": m.score, "Outcome": m.label or "", "Groups": ", ".join(m.groups) or "(none)",
            "Person id": m.id or "", "Household": m.household or "", "Weight": m.weight or "",
            "Split": m.split or "", "Extras": ", ".join(m.extras),
            "Group merges": ", ".join(f"{a} → {b}" for a, b in m.group_merges.items()) or "none",
        },
        "Label mapping": {
            "Positive outcome": str(data.positive_label), "Negative outcome": str(data.negative_label),
            "Positive outcome chosen": _positive_how(data),
            "Score orientation": "higher = more likely positive" if m.higher_is_positive
            else "lower = more likely positive",
            "Decision rule": "predicted positive when the score is at or above the threshold"
            if m.higher_is_positive else "predicted positive when the score is at or below the threshold",
        },
        "Settings": settings or {},
        "Random seeds": seeds or {"(none)": "no random step was used"},
        # how the file was read where it matters to the numbers (thousands separators,
        # lines skipped above the header, sheet chosen, 'NA' read as empty …)
        "Reading notes": {f"Note {i}": p.message for i, p in enumerate(
            (p for p in data.problems if p.code == "data_note"), start=1)} or {"(none)": ""},
        "Warnings": {f"Warning {i}": p.message for i, p in enumerate(
            (p for p in data.problems if p.severity == "warning" and p.code != "data_note"),
            start=1)} or {"(none)": ""},
    }


def _positive_how(data: AnalysisData) -> str:
    if any(p.code == "positive_assumed" for p in data.problems):
        return ("by FairDesk's rule for outcome pairs without a convention (the larger number, "
                "or the later text alphabetically): check that it is right")
    if data.mapping.positive_label is not None:
        return "by the analyst"
    return "by convention (1, yes, true …)"


def audit_tables(result: AuditResult, data: AnalysisData, bootstrap: BootstrapResult | None = None,
                 reference: int = 0, include_tiers: bool = False) -> list[Table]:
    """Workbook tables of an audit: rates by group, fairness, reference comparison, xAUC
    (and bootstrap mean/SD, tiers when asked)."""
    names = result.group_names
    k = result.k
    tables = []
    if bootstrap is not None and result.intervals is None:
        result.intervals = bootstrap

    # --- rates by group -------------------------------------------------------------------------
    rows = []
    for j in range(k):
        for g, name in enumerate(names + ["All"]):
            is_all = g == len(names)
            c = result.overall_counts if is_all else result.counts
            gi = 0 if is_all else g
            rates = result.overall_rates if is_all else result.rates
            row = {"group": name, "threshold": (_threshold_value(result, j) if not result.group_specific
                                                else float(result.thresholds[min(g, len(names) - 1), j])
                                                if not is_all else "group-specific"),
                   "rows": int(c.n[gi, j]), "weight": float(c.tp[gi, j] + c.fp[gi, j] + c.fn[gi, j] + c.tn[gi, j]),
                   "tp": float(c.tp[gi, j]), "fp": float(c.fp[gi, j]), "fn": float(c.fn[gi, j]),
                   "tn": float(c.tn[gi, j]), "selected": int(c.n_selected[gi, j])}
            for r in GROUP_RATES:
                row[r] = defined_or(rates[r][gi, j], undefined_reason(r, None if is_all else name))
            row["auc"] = defined_or(result.auc_overall if is_all else result.auc[g],
                            "AUC needs both outcomes in the group")
            rows.append(row)
    people = data.people_decimals
    cols = [Column("group", "Group"),
            _score_column("threshold", "Threshold", data, "In the score's units; at or above = "
                                                          "flagged."),
            Column("rows", "Rows", "count")]
    if data.weighted:  # without weights 'People' would repeat 'Rows'
        cols.append(Column("weight", "People (weighted)", "people", people))
    cols += [Column("selected", "Rows flagged", "count"),
             Column("tp", "TP", "people", people, note="True positives: flagged and had the outcome."),
             Column("fp", "FP", "people", people, note="False positives: flagged, no outcome."),
             Column("fn", "FN", "people", people, note="False negatives: not flagged, had the outcome."),
             Column("tn", "TN", "people", people, note="True negatives: not flagged, no outcome.")]
    cols += [_rate_column(r) for r in GROUP_RATES]
    cols.append(Column("auc", "AUC", "fixed", 3,
                       note="Probability that a random person with the outcome scores higher than "
                            "one without (ties count half)."))
    chart_rows = [r for r in rows if r["threshold"] == rows[0]["threshold"] and r["group"] != "All"] \
        if not result.group_specific else []
    tables.append(Table(
        "Rates by group", cols, rows,
        title="Error rates by group" + (
            f" at threshold {format_score(result.thresholds[0], data.score_decimals)}"
            if k == 1 and not result.group_specific else ""),
        notes=["A score equal to a threshold counts as flagged (predicted positive).",
               "Rates are weighted by the frequency weight." if data.weighted else
               "Every row counts once (no weight column)."],
        charts=[ChartSpec("bar", "False positive and false negative rates by group", "group",
                          ["fpr", "fnr", "selection_rate"], y_title="rate", percent_axis=True)]
        if k == 1 else []))
    del chart_rows

    # --- fairness -------------------------------------------------------------------------------
    frows = []

    def fair_row(key, label, j, value, rates_text):
        det = result.details(key, j)
        lo, hi, how = result.fairness_interval(key, j)
        return {"key": key, "name": DEFINITIONS[key].name, "threshold": label, "rates": rates_text,
                "value": defined_or(value, det.undefined_reason or "undefined"),
                "lower": defined_or(lo, how), "upper": defined_or(hi, how),
                "pair": det.pair_text(names) or Undefined(det.undefined_reason or "no pair"),
                "excluded": det.excluded_short(names) or "none",
                "meaning": DEFINITIONS[key].meaning}
    for key in THRESHOLD_DEFINITIONS:
        d = DEFINITIONS[key]
        for j in range(k):
            frows.append(fair_row(key, _threshold_value(result, j), j, result.fairness[key][j],
                                  " and ".join(RATES[r].name for r in d.rates)))
    for i, v in enumerate(result.fairness["CAL"]):
        frows.append(fair_row("CAL", f"tier S{i + 1}", i, v, "observed outcome rate in the tier"))
    b = result.intervals
    interval_note = (f"95 % interval: bootstrap percentile over {b.resamples:,} resamples (seed {b.seed}), "
                     "the same groups compared in every resample." if b is not None else
                     "95 % interval: not estimated (no bootstrap was run; give a number of resamples).")
    tables.append(Table(
        "Fairness", [Column("key", "Measure"), Column("name", "Definition"),
                     _score_column("threshold", "Threshold / tier", data),
                     Column("rates", "Rates compared"),
                     Column("value", "Min. pairwise ratio", "ratio", 3,
                            note="Smallest ratio smaller/larger across pairs of groups: 1 = balanced, 0 = "
                                 "maximally unequal."),
                     Column("lower", "95 % interval: lower", "ratio", 3, note=interval_note),
                     Column("upper", "95 % interval: upper", "ratio", 3, note=interval_note),
                     Column("pair", "Pair behind the value", width=44,
                            note="The rate and the two groups whose ratio is the value (higher vs lower)."),
                     Column("excluded", "Groups left out (why)", width=60,
                            note="Groups not compared in this measure: " + result.reliability.describe()
                                 + ". '29 rows < 30': below the minimum group size; 'PPV: 7 < 10': 7 "
                                   "people in the rate's denominator (here: flagged), fewer than 10."),
                     Column("meaning", "What it asks", width=60)],
        frows, title="Group fairness measures (minimum pairwise ratio across groups)",
        notes=["ERB and CUAE ask two rates to be equal and report the weaker of the two ratios that are "
               "defined.",
               "Compared: " + result.reliability.describe() + ". Groups left out are named with the reason; "
               "the rates by group still show every group.",
               "Only 0/0 is undefined and leaves a group out; x/0 with x > 0 (FN/FP) is infinite, and its "
               "ratio against a finite rate is 0.",
               interval_note],
        charts=[ChartSpec("bar", "Fairness measures (1 = balanced)", "key", ["value"],
                          y_title="minimum pairwise ratio")] if k == 1 else []))

    # --- versus the reference group ---------------------------------------------------------------
    ref_name = names[reference]
    rrows = []
    for j in range(k):
        for r in GROUP_RATES:
            diff, ratio = reference_comparison(result.rates[r][:, j], reference)
            for g, name in enumerate(names):
                if g == reference:
                    continue
                why = undefined_reason(r, name) if np.isnan(result.rates[r][g, j]) else \
                    undefined_reason(r, ref_name) if np.isnan(result.rates[r][reference, j]) else \
                    f"the reference group's {RATES[r].name} is 0"
                rrows.append({"rate": RATES[r].name, "threshold": _threshold_value(result, j),
                              "group": name,
                              "value": _rate_cell(r, defined_or(result.rates[r][g, j], undefined_reason(r, name))),
                              "reference": _rate_cell(r, defined_or(result.rates[r][reference, j],
                                                            undefined_reason(r, ref_name))),
                              "difference": _rate_cell(r, defined_or(diff[g], why)), "ratio": defined_or(ratio[g], why)})
    tables.append(Table(
        "Vs reference", [Column("rate", "Rate"), _score_column("threshold", "Threshold", data),
                         Column("group", "Group"),
                         Column("value", "Group value", "rate"),
                         Column("reference", f"Reference ({ref_name})", "rate"),
                         Column("difference", "Difference (group − reference)", "difference",
                                note="Percentage points (a ratio's difference: plain)."),
                         Column("ratio", "Ratio (group / reference)", "ratio", 3)],
        rrows, title=f"Each group compared with the reference group '{ref_name}'"))

    # --- cross-AUC --------------------------------------------------------------------------------
    tables.append(xauc_table(result))  # the window's table
    tables.append(rate_interval_table(result, data))
    if bootstrap is not None:
        tables.append(bootstrap_table(bootstrap, names, result, data))
    if include_tiers:
        tables.append(tier_table(result, data))
    return tables


INTERVAL_RATES = ("prevalence", "selection_rate", "tpr", "fnr", "fpr", "tnr", "ppv", "fdr", "npv", "for",
                  "accuracy", "fn_fp")


def rate_interval_table(result: AuditResult, data: AnalysisData) -> Table:
    """Each group's rates with a 95 % interval (exact binomial; bootstrap for FN/FP)."""
    names = result.group_names
    rows = []
    for j in range(result.k):
        for g, name in enumerate(names + ["All"]):
            gi = None if g == len(names) else g
            rates = result.overall_rates if gi is None else result.rates
            for r in INTERVAL_RATES:
                value = rates[r][0 if gi is None else gi, j]
                lo, hi, how = result.rate_interval(r, gi, j)
                rows.append({"group": name, "threshold": _threshold_value(result, j), "rate": RATES[r].name,
                             "value": _rate_cell(r, defined_or(value, undefined_reason(r, None if gi is None else name))),
                             "lower": _rate_cell(r, defined_or(lo, how)), "upper": _rate_cell(r, defined_or(hi, how)),
                             "method": how if not np.isnan(lo) else ""})
    return Table("Rate intervals", [Column("group", "Group"), _score_column("threshold", "Threshold", data),
                                    Column("rate", "Rate", width=30), Column("value", "Value", "rate"),
                                    Column("lower", "95 % lower", "rate"), Column("upper", "95 % upper", "rate"),
                                    Column("method", "Interval", width=40)], rows,
                 title="Rates by group with 95 % intervals",
                 notes=["Proportions: exact binomial (Clopper–Pearson) interval from the counts (weights "
                        "count as people). FN/FP: bootstrap percentile interval when a bootstrap was run.",
                        "An interval that cannot be estimated says why; it is never shown as a zero-width "
                        "range."])


def bootstrap_table(b: BootstrapResult, names: list[str], result: AuditResult,
                    data: AnalysisData | None = None) -> Table:
    """Mean and SD of every measure over the resamples, each in its measure's own format (a
    rate 44.6 %, a ratio 0.812, an AUC 0.734)."""
    rows = []
    k = result.k

    def row(measure, group, threshold, kind, m, s, n):
        return {"measure": measure, "group": group, "threshold": threshold,
                "mean": Cell(defined_or(m, "undefined in every resample"), *kind),
                "sd": Cell(defined_or(s, "defined in fewer than two resamples"), *kind), "defined": int(n)}

    for key, mean in b.mean.items():
        sd, n_def = b.sd[key], b.defined[key]
        if key.startswith("rate:"):
            r = key[5:]
            for g, name in enumerate(names):
                for j in range(k):
                    rows.append(row(RATES[r].name, name, _threshold_value(result, j), value_kind(r),
                                    mean[g, j], sd[g, j], n_def[g, j]))
        elif key.startswith("fairness:"):
            f = key[9:]
            for j in range(mean.shape[0]):
                rows.append(row(f"{f} ({DEFINITIONS[f].name})", "all groups",
                                f"tier S{j + 1}" if f == "CAL" else _threshold_value(result, j),
                                ("ratio", 3), mean[j], sd[j], n_def[j]))
        elif key == "auc":
            for g, name in enumerate(names):
                rows.append(row("AUC", name, "", value_kind("auc"), mean[g], sd[g], n_def[g]))
    return Table("Bootstrap", [Column("measure", "Measure"), Column("group", "Group"),
                               Column("threshold", "Threshold / tier", "score",
                                      data.score_decimals if data is not None else None),
                               Column("mean", "Mean", "rate"), Column("sd", "SD", "rate"),
                               Column("defined", "Resamples where defined", "int")], rows,
                 title=f"Bootstrap: mean and standard deviation over {b.resamples:,} resamples "
                       f"(seed {b.seed})")


def tier_table(result: AuditResult, data: AnalysisData) -> Table:
    names = result.group_names
    rows = []
    rate = result.tier_outcome_rate
    group_rows = result.tier_rows.sum(axis=1)
    for i in range(result.tier_rows.shape[1]):
        for g, name in enumerate(names):
            rows.append({"tier": f"S{i + 1}", "group": name, "rows": int(result.tier_rows[g, i]),
                         "share": defined_or(result.tier_rows[g, i] / group_rows[g] if group_rows[g] else np.nan,
                                     f"group '{name}' has no rows"),
                         "weight": float(result.tier_weight[g, i]),
                         "rate": defined_or(rate[g, i], f"group '{name}' has no one in tier S{i + 1}")})
    return Table("Tiers", [Column("tier", "Tier"), Column("group", "Group"), Column("rows", "Rows", "count"),
                           Column("share", "Share of group's rows", "rate"),
                           Column("weight", "People (weighted)", "people", data.people_decimals),
                           Column("rate", "Observed outcome rate", "rate")], rows,
                 title="Risk tiers: share of rows and observed outcome rate per tier and group",
                 notes=["Tier S1 is the lowest risk. A score equal to a threshold is in the higher tier."])


def write_decision_tables(path, source, data: AnalysisData, tables: list[Table],
                          settings: dict | None = None, seeds: dict | None = None, *, job=NO_JOB) -> str:
    """Write the decision-table workbook (worker function)."""
    job.progress(0.1, "Writing the workbook")
    written = write_workbook(path, about=about_sections(source, data, settings, seeds), tables=tables,
                             input_paths=[source.path])
    job.progress(1.0, "Workbook written")
    return str(written)


def row_decisions(data: AnalysisData, thresholds, group_specific: bool = False) -> tuple[list[Column], dict]:
    """Row-level decisions: row number, id, group, score, outcome, tier and per-threshold flags."""
    t = np.asarray(thresholds, dtype=float)
    t = t.reshape(data.n_groups, -1) if group_specific else np.atleast_1d(t)
    ot = np.sort(data.to_oriented(t), axis=-1)
    tier = tier_of(data.oriented, data.group, ot) + 1
    cols, values = row_columns(data)
    cols.append(Column("tier", "Tier (1 = lowest risk)", "count"))
    values["tier"] = tier
    for j in range(ot.shape[-1]):
        key = f"flag{j + 1}"
        th = ot[..., j]
        limit = th[data.group] if group_specific else th
        cols.append(Column(key, f"Flagged at threshold {j + 1}", "count"))
        values[key] = (data.oriented >= limit).astype(int)
    return cols, values


def row_columns(data: AnalysisData, *, score: bool = True,
                outcome: bool = True) -> tuple[list[Column], dict]:
    """The columns every row-level export starts with: the spreadsheet row, the person id
    (when mapped), the group, the score as read and the outcome (when mapped)."""
    cols = [Column("row", "Spreadsheet row", "count")]
    values = {"row": data.row_numbers}
    if data.ids is not None:
        cols.append(Column("id", data.mapping.id or "id"))
        values["id"] = data.ids
    cols.append(Column("group", "Group"))
    values["group"] = np.asarray(data.group_names, dtype=object)[data.group]
    if score:
        cols.append(Column("score", data.mapping.score or "score", "number"))
        values["score"] = data.score
    if outcome and data.label is not None:
        cols.append(Column("outcome", "Outcome (1 = positive)", "count"))
        values["outcome"] = data.label.astype(int)
    return cols, values


def write_rows(path, source, data: AnalysisData, cols: list[Column], values: dict, *,
               sheet: str = "Decisions", about: dict | None = None, job=NO_JOB) -> str:
    """Row-level columns as CSV or as one XLSX sheet (by the file's extension); refuses
    more rows than a sheet holds."""
    import pandas as pd

    frame = pd.DataFrame(values)
    job.progress(0.3, "Writing")
    if str(path).lower().endswith(".xlsx"):
        if len(frame) > XLSX_MAX_ROWS:
            raise FairDeskError(f"{len(frame):,} rows do not fit in one Excel sheet "
                                f"({XLSX_MAX_ROWS:,} at most); export them as CSV instead.")
        about = about() if callable(about) else about  # made only for a workbook
        written = write_workbook(path, about=about or about_sections(source, data),
                                 input_paths=[source.path],
                                 tables=[Table(sheet, cols, frame, title=None)])
    else:
        written = write_csv(path, cols, frame, input_paths=[source.path])
    job.progress(1.0, "Written")
    return str(written)


def write_row_decisions(path, source, data: AnalysisData, thresholds, group_specific=False, *,
                        job=NO_JOB) -> str:
    """Row-level decisions as CSV or XLSX (by the file's extension)."""
    job.progress(0.05, "Preparing row-level decisions")
    cols, values = row_decisions(data, thresholds, group_specific)
    return write_rows(path, source, data, cols, values, job=job)


def timestamp() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")
