"""Equalized-odds results as workbook tables, and the row-level probabilities export. No Qt.

Tables: the per-group fixed randomisation, every probability-curve family per group, a
summary per family (with the ideal point and the best shared threshold), the ROC regions and
their intersection as polygon vertices, and the chosen family's probability curves on a score
grid (with a chart, the paper's Figures 1, 3 and 4).
"""

from __future__ import annotations

import math

import numpy as np

from ..dataset import AnalysisData
from ..engines.equalized_odds import (CONSTRAINT_TITLES, OBJECTIVE_TITLES, EOddsResult,
                                      FamilyResult, realize_decisions, row_probabilities)
from ..engines.preferential import ALL_FAMILIES, FAMILY_TITLES, phi
from ..errors import FairDeskError
from ..jobs import NO_JOB
from ..undefined import Undefined
from .workbook import ChartSpec, Column, Table, write_csv, write_workbook

XLSX_MAX_ROWS = 1_048_575
CURVE_POINTS = 201

NOTES = {
    "t0": "Looser threshold: below it the decision is negative.",
    "t1": "Stricter threshold: at or above it the decision is positive.",
    "p": "Fixed randomisation: the probability of a positive decision between t0 and t1. For a "
         "curve: the parameter fixing its shape; the curve spends the same randomisation as "
         "the step with this p (equal area).",
    "fpr": "False positive rate: share of the people without the outcome who get a positive "
           "decision (expected, over the randomisation).",
    "tpr": "True positive rate: share of the people with the outcome who get a positive decision.",
    "accuracy": "Expected share of correct decisions in the group.",
    "target_gap": "Largest difference, in FPR or TPR, between the group's rates and its target point.",
    "eo_gap": "Equalized-odds gap: the largest difference in FPR or TPR between this group and any "
              "other group.",
    "tpr_gap": "Equal-opportunity gap: the largest difference in TPR between this group and any "
               "other group.",
    "lipschitz": "Largest slope of the probability curve, in probability per score unit: two "
                 "people whose scores differ by d have odds differing by at most L·d. A step "
                 "(fixed randomisation) or single threshold jumps: infinite.",
    "monotone": "Whether the probability never decreases as the score increases.",
    "individual_odds": "Whether every group can reach the same range of probabilities of a "
                       "positive decision (equal individual odds).",
}


def _v(x, reason: str):
    x = float(x)
    return Undefined(reason) if not math.isfinite(x) else x


def _thr(result: EOddsResult, t: float, which: str, name: str):
    return _v(result.user(t), f"{which} of group '{name}' lies beyond every score "
                              + ("(nobody is positive for sure)" if which == "t1" else ""))


def _odds_text(o) -> str:
    if o[0] == "interval":
        return "any value from 0 to 1"
    vals = [f"{v:g}" for v in o[1]]
    return ", ".join(vals[:-1]) + " or " + vals[-1]


def family_rows(result: EOddsResult, fam: FamilyResult) -> list[dict]:
    fpr, tpr, acc = fam.rates(result.rocs)
    gap = fam.eo_gap(result.rocs)
    tgap = fam.tpr_gap(result.rocs)
    odds = fam.odds()
    ind = "yes" if fam.individual_odds() else "no"
    rows = []
    for g, name in enumerate(result.group_names):
        rows.append({
            "family": FAMILY_TITLES[fam.family] + (" (given)" if fam.evaluated else ""),
            "group": name, "t0": _thr(result, fam.t0[g], "t0", name),
            "t1": _thr(result, fam.t1[g], "t1", name), "p": float(fam.p[g]),
            "lipschitz": _v(fam.lipschitz[g], "the rule jumps (step or single threshold): infinite"),
            "fpr": float(fpr[g]), "tpr": float(tpr[g]), "accuracy": float(acc[g]),
            "target_gap": float(fam.target_gap[g]), "eo_gap": float(gap[g]),
            "tpr_gap": float(tgap[g]),
            "monotone": "yes" if fam.monotone[g] else "no", "odds": _odds_text(odds[g]),
            "individual_odds": ind})
    return rows


def _family_columns() -> list[Column]:
    return [Column("family", "Randomisation"), Column("group", "Group"),
            Column("t0", "t0", "number", note=NOTES["t0"]), Column("t1", "t1", "number", note=NOTES["t1"]),
            Column("p", "p", "float", 4, note=NOTES["p"]),
            Column("lipschitz", "Lipschitz L", "float", 4, note=NOTES["lipschitz"]),
            Column("fpr", "FPR", "percent", 2, note=NOTES["fpr"]),
            Column("tpr", "TPR", "percent", 2, note=NOTES["tpr"]),
            Column("accuracy", "Accuracy", "percent", 2, note=NOTES["accuracy"]),
            Column("target_gap", "Gap to target", "float", 5, note=NOTES["target_gap"]),
            Column("eo_gap", "Equalized-odds gap", "float", 5, note=NOTES["eo_gap"]),
            Column("tpr_gap", "TPR gap", "float", 5, note=NOTES["tpr_gap"]),
            Column("monotone", "Monotone", note=NOTES["monotone"]),
            Column("odds", "Odds a person can get"),
            Column("individual_odds", "Equal individual odds", note=NOTES["individual_odds"])]


def eodds_tables(result: EOddsResult, data: AnalysisData, family: str | None = None) -> list[Table]:
    s = result.settings
    family = family or s.family
    names = result.group_names
    tables = []
    orient = ("A score at or above t1 gets a positive decision; between t0 and t1 the probability "
              "shown; below t0 a negative decision." if data.sign > 0 else
              "Lower scores are riskier here: a score at or below t1 gets a positive decision; "
              "between t1 and t0 the probability shown; above t0 a negative decision.")

    # --- per group: the point and its fixed randomisation ---------------------------------
    fam = result.fixed
    fpr, tpr, acc = fam.rates(result.rocs)
    gap = fam.eo_gap(result.rocs)
    rows = []
    for g, name in enumerate(names):
        r = result.rocs[g]
        rows.append({"group": name, "people": r.weight, "positives": r.positives,
                     "target_fpr": float(result.targets[g, 0]), "target_tpr": float(result.targets[g, 1]),
                     "t0": _thr(result, fam.t0[g], "t0", name), "t1": _thr(result, fam.t1[g], "t1", name),
                     "p": float(fam.p[g]), "rule": "single threshold" if fam.single()[g] else "two thresholds",
                     "fpr": float(fpr[g]), "tpr": float(tpr[g]), "accuracy": float(acc[g]),
                     "selection": float((fam.tp[g] + fam.fp[g]) / r.weight),
                     "target_gap": float(fam.target_gap[g]), "eo_gap": float(gap[g])})
    kind = "float" if data.weighted else "int"
    cols = [Column("group", "Group"), Column("people", "People", kind, 1),
            Column("positives", "With the outcome", kind, 1),
            Column("target_fpr", "Target FPR", "percent", 2), Column("target_tpr", "Target TPR", "percent", 2),
            Column("rule", "Rule"), Column("t0", "t0", "number", note=NOTES["t0"]),
            Column("t1", "t1", "number", note=NOTES["t1"]), Column("p", "p", "float", 4, note=NOTES["p"]),
            Column("fpr", "FPR", "percent", 2, note=NOTES["fpr"]),
            Column("tpr", "TPR", "percent", 2, note=NOTES["tpr"]),
            Column("accuracy", "Accuracy", "percent", 2, note=NOTES["accuracy"]),
            Column("selection", "Positive decisions", "percent", 2,
                   note="Expected share of the group who get a positive decision."),
            Column("target_gap", "Gap to target", "float", 5, note=NOTES["target_gap"]),
            Column("eo_gap", "Equalized-odds gap", "float", 5, note=NOTES["eo_gap"])]
    c_fp, c_fn = s.costs
    notes = [orient,
             f"Constraint: {CONSTRAINT_TITLES[s.constraint]}"
             + (f", relaxed: pairwise gaps up to {s.tolerance:g}." if s.tolerance else "."),
             f"Objective: {OBJECTIVE_TITLES[s.objective]}"
             + (f"; a false positive costs {c_fp:g} and a false negative {c_fn:g} (break-even at a "
                f"{c_fp / (c_fp + c_fn):.0%} chance of the positive outcome)." if s.objective == "cost" else "."),
             "Rates are weighted by the frequency weight." if data.weighted else
             "Every row counts once (no weight column)."]
    tables.append(Table("EO groups", cols, rows,
                        title=f"Equalized odds: each group's point and its fixed randomisation "
                              f"(common point FPR {result.point[0]:.4f}, TPR {result.point[1]:.4f})",
                        notes=notes))

    # --- curves ---------------------------------------------------------------------------
    rows = []
    fams = [result.family(f) for f in ALL_FAMILIES if result.family(f) is not None]
    if result.evaluated is not None:
        fams.append(result.evaluated)
    for fm in fams:
        rows.extend(family_rows(result, fm))
    tables.append(Table("EO curves", _family_columns(), rows,
                        title="Fixed and preferential randomisation per group: thresholds, "
                              "Lipschitz constant, expected rates",
                        notes=["Curves (Small et al.) rise continuously from 0 at t0 to 1 at t1 "
                               "and spend the same randomisation as the step with the same p.",
                               "Each curve's parameters are searched so that its expected rates "
                               "meet the group's target" + (", preferring the smallest Lipschitz "
                               f"constant within {s.curve_tolerance:g}." if s.prefer_smooth else ".")]))

    # --- summary --------------------------------------------------------------------------
    rows = []
    ideal = result.ideal_loss()
    rows.append({"what": "Target point (before randomisation is realised)", "accuracy": ideal["accuracy"],
                 "cost": ideal["expected_cost"], "gap": 0.0 if s.tolerance == 0 and
                 s.constraint == "equalized_odds" else Undefined("each group has its own target"),
                 "odds": "", "lipschitz": Undefined("not a rule")})
    for fm in fams:
        g = fm.eo_gap(result.rocs)
        finite = fm.lipschitz[np.isfinite(fm.lipschitz)]
        rows.append({"what": FAMILY_TITLES[fm.family] + (" (given)" if fm.evaluated else ""),
                     "accuracy": fm.accuracy(result.rocs), "cost": result.realised_cost(fm),
                     "gap": float(g.max()) if g.size else 0.0,
                     "odds": "yes" if fm.individual_odds() else "no",
                     "lipschitz": float(finite.max()) if finite.size == fm.lipschitz.size and finite.size
                     else Undefined("a step or single threshold jumps: infinite")})
    b = result.baseline
    if b:
        rows.append({"what": f"Best single shared threshold ({b['threshold']:g})" if b["threshold"] is not None
                     else "Best single shared threshold", "accuracy": b["accuracy"],
                     "cost": b["expected_cost"], "gap": b["eo_gap"], "odds": "yes",
                     "lipschitz": Undefined("a threshold jumps: infinite")})
    tables.append(Table("EO summary", [
        Column("what", "Rule"), Column("accuracy", "Accuracy", "percent", 2),
        Column("cost", "Expected cost per person", "float", 4,
               note="Cost of false positives and false negatives per person, with the cost ratio "
                    "(1:1 is the error rate)."),
        Column("gap", "Equalized-odds gap", "float", 5, note=NOTES["eo_gap"]),
        Column("odds", "Equal individual odds", note=NOTES["individual_odds"]),
        Column("lipschitz", "Largest Lipschitz L", "float", 4, note=NOTES["lipschitz"])], rows,
        title="What each randomisation achieves, with the best group-blind threshold for comparison"))

    # --- regions --------------------------------------------------------------------------
    rows = []
    for g, name in enumerate(names):
        for k, (x, y) in enumerate(result.rocs[g].region()):
            rows.append({"region": name, "vertex": k + 1, "fpr": float(x), "tpr": float(y)})
    for k, (x, y) in enumerate(result.intersection.polygon()):
        rows.append({"region": "Intersection of all groups", "vertex": k + 1, "fpr": float(x), "tpr": float(y)})
    tables.append(Table("EO regions", [Column("region", "Region"), Column("vertex", "Vertex", "int"),
                                       Column("fpr", "FPR", "float", 6), Column("tpr", "TPR", "float", 6)],
                        rows, title="ROC regions: each group's feasible region (on or under its ROC hull, "
                                    "above the diagonal) and their intersection, as polygon vertices",
                        notes=["Counter-clockwise from (0, 0). Any point of a region is a mixture of "
                               "threshold rules of that group."]))

    # --- the chosen family's curves on a score grid ----------------------------------------
    fm = result.family(family) or result.fixed
    lo, hi = float(np.min(data.score)), float(np.max(data.score))
    grid = np.linspace(lo, hi, CURVE_POINTS)
    rows = [{"score": float(x)} for x in grid]
    for g, name in enumerate(names):
        v = phi(fm.family, float(fm.t0[g]), float(fm.t1[g]), float(fm.p[g]), grid * data.sign)
        for row, val in zip(rows, v):
            row[f"g{g}"] = float(val)
    tables.append(Table("EO probability curves", [Column("score", data.mapping.score or "score", "float", 4)]
                        + [Column(f"g{g}", n, "float", 4) for g, n in enumerate(names)], rows,
                        title=f"Probability of a positive decision by score: {FAMILY_TITLES[fm.family]}",
                        charts=[ChartSpec("scatter", f"Probability of a positive decision "
                                                     f"({FAMILY_TITLES[fm.family]})", "score",
                                          [f"g{g}" for g in range(len(names))],
                                          x_title="score", y_title="probability")]))
    return tables


def probability_columns(data: AnalysisData, result: EOddsResult, family, seed: int | None = None):
    """Row number, id, group, score, outcome, probability of a positive decision, and the drawn
    decision when ``seed`` is given (its seed in the column title)."""
    fam = family if isinstance(family, FamilyResult) else result.family(family)
    if fam is None:
        raise FairDeskError(f"The {family} curves were not computed.")
    prob = row_probabilities(data, result, fam)
    cols = [Column("row", "Spreadsheet row", "int")]
    values = {"row": data.row_numbers}
    if data.ids is not None:
        cols.append(Column("id", data.mapping.id or "id"))
        values["id"] = data.ids
    cols.append(Column("group", "Group"))
    values["group"] = np.asarray(data.group_names, dtype=object)[data.group]
    cols.append(Column("score", data.mapping.score or "score", "number"))
    values["score"] = data.score
    if data.label is not None:
        cols.append(Column("outcome", "Outcome (1 = positive)", "int"))
        values["outcome"] = data.label.astype(int)
    cols.append(Column("probability", f"Probability of a positive decision ({FAMILY_TITLES[fam.family]})",
                       "float", 6))
    values["probability"] = prob
    if seed is not None:
        cols.append(Column("decision", f"Decision drawn (seed {int(seed)})", "int"))
        values["decision"] = realize_decisions(prob, seed)
    return cols, values


def write_row_probabilities(path, source, data: AnalysisData, result: EOddsResult, family,
                            seed: int | None = None, *, job=NO_JOB) -> str:
    """Each row's probability of a positive decision as CSV or XLSX (by extension). Realised
    decisions only with a ``seed``, which is recorded in the column title (and the About sheet)."""
    import pandas as pd

    from .audit_report import about_sections

    job.progress(0.05, "Computing each row's probability")
    cols, values = probability_columns(data, result, family, seed)
    frame = pd.DataFrame(values)
    job.progress(0.3, "Writing")
    fam = family if isinstance(family, str) else family.family
    settings = {"Randomisation": FAMILY_TITLES[fam], **{k: str(v) for k, v in result.settings.to_dict().items()}}
    seeds = {"decisions drawn": int(seed)} if seed is not None else {"(none)": "no decisions drawn"}
    if str(path).lower().endswith(".xlsx"):
        if len(frame) > XLSX_MAX_ROWS:
            raise FairDeskError(f"{len(frame):,} rows do not fit in one Excel sheet "
                                f"({XLSX_MAX_ROWS:,} at most); export them as CSV instead.")
        written = write_workbook(path, about=about_sections(source, data, settings, seeds),
                                 input_paths=[source.path],
                                 tables=[Table("Probabilities", cols, frame, title=None)])
    else:
        written = write_csv(path, cols, frame, input_paths=[source.path])
    job.progress(1.0, "Written")
    return str(written)
