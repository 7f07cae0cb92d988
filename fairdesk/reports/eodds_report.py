"""Equalized-odds results as tables (no Qt), shown the same in the window, the workbook and
the command line, and the row-level probabilities export.

Tables: each randomisation per group (the window's group table is the shown family's rows),
the randomisations compared (with the ideal point and the best shared threshold), the per-group
fixed randomisation with its target, the ROC regions and their intersection as polygon
vertices, and the chosen family's probability curves on a score grid (with a chart, the
paper's Figures 1, 3 and 4).
"""

from __future__ import annotations

import math

import numpy as np

from ..dataset import AnalysisData
from ..engines.equalized_odds import (CONSTRAINT_TITLES, OBJECTIVE_TITLES, EOddsResult,
                                      FamilyResult, realize_decisions, row_probabilities)
from ..engines.preferential import ALL_FAMILIES, FAMILY_TITLES, phi, single_threshold
from ..errors import FairDeskError
from ..jobs import NO_JOB
from ..present.formats import format_number, format_people, format_rate, format_score
from ..present.table import Cell, ChartSpec, Column, Table
from .writers import write_csv, write_workbook

XLSX_MAX_ROWS = 1_048_575
CURVE_POINTS = 201
GAP_DIGITS = 3  # significant digits of a gap (kind "number"): 0.00238, 3.9e-05, 0.36
L_DIGITS = 4  # significant digits of a Lipschitz constant: 95.49, 2.486
DASH = "—"

NOTES = {
    "group": "The protected group (the combination of the group columns).",
    "t0": "Looser threshold: below it the decision is negative (probability 0).",
    "t1": "Stricter threshold: at or above it the decision is positive (probability 1).",
    "p": "Fixed randomisation: the probability of a positive decision between t0 and t1. For a "
         "curve: its shape parameter; the curve gives out the same amount of chance as a step "
         "with this p (equal area). “—”: a single threshold.",
    "fpr": "False positive rate: the expected share of the group's people without the outcome "
           "who get a positive decision.",
    "tpr": "True positive rate: the expected share of the group's people with the outcome who "
           "get a positive decision.",
    "accuracy": "Expected share of the group's people whose decision matches their outcome.",
    "target_gap": "Largest difference, in FPR or TPR, between the group's rates and its target "
                  "point.",
    "eo_gap": "Equalized-odds gap: the largest difference in FPR or TPR between this group and "
              "any other group (0 = equalized odds hold exactly).",
    "tpr_gap": "Equal-opportunity gap: the largest difference in TPR between this group and any "
               "other group.",
    "lipschitz": "Largest slope of the probability curve, in probability per score unit: two "
                 "people whose scores differ by d have odds differing by at most L × d. A step "
                 "(fixed randomisation) or a single threshold jumps: infinite (∞).",
    "monotone": "Whether the probability never decreases as the score rises (the 4th-order "
                "curve only for 0.4 ≤ p ≤ 0.6).",
    "individual_odds": "Whether every group can reach the same range of probabilities of a "
                       "positive decision (equal individual odds, Small et al.).",
}


def _gap_key(result: EOddsResult) -> str:
    """The gap that the constraint equalises: TPR (equal opportunity) or FPR and TPR."""
    return "tpr_gap" if result.settings.constraint == "equal_opportunity" else "eo_gap"


def threshold_cell(result: EOddsResult, t: float, which: str, decimals: int | None = None) -> Cell:
    """A threshold in the score's units (``decimals``: None = the column's, the scores'
    decimals); beyond every score it reads "above all" or "below all" (the side it lies on),
    with what that means."""
    v = result.user(t) + 0.0  # + 0.0: no "−0"
    if math.isfinite(v):
        return Cell(v, decimals=decimals, tip=f"exact value {v!r}")
    word = "above all" if v > 0 else "below all"
    who = "positive" if which == "t1" else "negative"
    return Cell(word, muted=True, tip=f"Beyond every score: nobody is {who} for sure")


def _lipschitz(value: float, why: str) -> Cell:
    if math.isinf(value):
        return Cell(math.inf, muted=True, tip=why)
    return Cell(float(value), tip=f"{format_number(value)} per score unit")


def _odds_text(o) -> str:
    if o[0] == "interval":
        return "any value from 0 to 1"
    vals = [f"{v:g}" for v in o[1]]
    return ", ".join(vals[:-1]) + " or " + vals[-1]


def curve_decimals(score_decimals: int | None) -> int:
    """Decimals of a curve's ends t0, t1: they lie between the scores (a cubic from 3.13 to
    7.8 on deciles), so two more than the scores', at most 4."""
    return min((4 if score_decimals is None else score_decimals) + 2, 4)


def family_rows(result: EOddsResult, fam: FamilyResult, people_decimals: int = 0,
                score_decimals: int | None = None) -> list[dict]:
    """One row per group of one randomisation: thresholds (a step's in the scores' decimals,
    a curve's ends with :func:`curve_decimals`), p, Lipschitz constant, rates and gaps, each
    with its tooltip."""
    ends = None if fam.family == "fixed" else curve_decimals(score_decimals)
    fpr, tpr, acc = fam.rates(result.rocs)
    gaps = {"eo_gap": fam.eo_gap(result.rocs), "tpr_gap": fam.tpr_gap(result.rocs)}
    odds = fam.odds()
    ind = "yes" if fam.individual_odds() else "no"
    single = fam.single()
    rows = []
    for g, name in enumerate(result.group_names):
        roc = result.rocs[g]
        row = {"family": FAMILY_TITLES[fam.family] + (" (given)" if fam.evaluated else ""),
               "group": Cell(name, swatch=g, tip=f"{name}: "
                             f"{format_people(roc.weight, people_decimals)} people, "
                             f"{format_people(roc.positives, people_decimals)} with the outcome")}
        if single[g]:
            t = single_threshold(fam.family, float(fam.t0[g]), float(fam.t1[g]), float(fam.p[g]))
            row["t0"] = threshold_cell(result, t, "t1").with_(
                tip=f"Single threshold, exact value {result.user(t)!r}")
            row["t1"] = Cell("(single)", muted=True, tip="One threshold: no randomisation")
            row["p"] = Cell(DASH, muted=True, tip="A single threshold: no randomisation")
        else:
            row["t0"] = threshold_cell(result, fam.t0[g], "t0", ends)
            row["t1"] = threshold_cell(result, fam.t1[g], "t1", ends)
            row["p"] = float(fam.p[g])
        row["lipschitz"] = _lipschitz(float(fam.lipschitz[g]), "A jump (a step or a single "
                                      "threshold): infinite")
        target = (f"target FPR {format_rate(result.targets[g, 0], 4)}, TPR "
                  f"{format_rate(result.targets[g, 1], 4)}")
        row["fpr"] = Cell(float(fpr[g]), tip=f"FPR {format_rate(fpr[g], 4)}; {target}")
        row["tpr"] = Cell(float(tpr[g]), tip=f"TPR {format_rate(tpr[g], 4)}; {target}")
        row["accuracy"] = float(acc[g])
        row["target_gap"] = float(fam.target_gap[g])
        for key, gap in gaps.items():
            row[key] = Cell(float(gap[g]), tip="Gap to the group's target point: "
                            f"{format_number(fam.target_gap[g], GAP_DIGITS)}")
        row.update(monotone="yes" if fam.monotone[g] else "no", odds=_odds_text(odds[g]),
                   individual_odds=ind)
        rows.append(row)
    return rows


def family_columns(score_decimals: int | None = None) -> list[Column]:
    return [Column("family", "Randomisation"), Column("group", "Group", note=NOTES["group"]),
            Column("t0", "t0", "score", score_decimals, note=NOTES["t0"]),
            Column("t1", "t1", "score", score_decimals, note=NOTES["t1"]),
            Column("p", "p", "fixed", 4, note=NOTES["p"]),
            Column("lipschitz", "Lipschitz\nL", "number", L_DIGITS, note=NOTES["lipschitz"]),
            Column("fpr", "FPR", "rate", 2, note=NOTES["fpr"]),
            Column("tpr", "TPR", "rate", 2, note=NOTES["tpr"]),
            Column("accuracy", "Accuracy", "rate", 2, note=NOTES["accuracy"]),
            Column("target_gap", "Gap to\ntarget", "number", GAP_DIGITS,
                   note=NOTES["target_gap"]),
            Column("eo_gap", "EO\ngap", "number", GAP_DIGITS, note=NOTES["eo_gap"]),
            Column("tpr_gap", "TPR\ngap", "number", GAP_DIGITS, note=NOTES["tpr_gap"]),
            Column("monotone", "Mono-\ntone", note=NOTES["monotone"]),
            Column("odds", "Odds a person can get"),
            Column("individual_odds", "Equal individual odds", note=NOTES["individual_odds"])]


def rule_text(fam: FamilyResult, sign: float) -> str:
    """How the shown randomisation decides (the title of the window's group table)."""
    rule = ("Fixed randomisation: score ≥ t1 → positive; t0 ≤ score < t1 → positive with "
            "probability p" if fam.family == "fixed" else
            f"{FAMILY_TITLES[fam.family]} curve: probability rises from 0 at t0 to 1 at t1")
    return rule + (" (lower scores are riskier: read ≥ as ≤)" if sign < 0 else "")


def group_table(result: EOddsResult, fam: FamilyResult, score_decimals: int | None = None,
                people_decimals: int = 0) -> Table:
    """The shown randomisation per group (the window's table; the rows of "EO curves"): the
    gap the constraint equalises, and "Monotone" only when some curve is not."""
    keys = ["group", "t0", "t1", "p", "lipschitz", "fpr", "tpr", "accuracy", _gap_key(result)]
    if not fam.monotone.all():
        keys.append("monotone")
    cols = [c for c in family_columns(score_decimals) if c.key in keys]
    return Table("EO group", cols, family_rows(result, fam, people_decimals, score_decimals),
                 title=rule_text(fam, result.sign), label_key="group")


def families(result: EOddsResult) -> list[FamilyResult]:
    """Every computed randomisation (fixed first), and the one given by the analyst."""
    fams = [result.family(f) for f in ALL_FAMILIES if result.family(f) is not None]
    return fams + ([result.evaluated] if result.evaluated is not None else [])


def _baseline_label(b: dict, score_decimals: int | None) -> str:
    thr = b["threshold"]
    return ("Best group-blind threshold"
            + (f" ({format_score(thr, score_decimals)})" if thr is not None else ""))


def summary_table(result: EOddsResult, shown: str | None = None,
                  score_decimals: int | None = None) -> Table:
    """Every randomisation compared with the target point and the best group-blind threshold
    (the ``shown`` family's row in bold)."""
    s = result.settings
    key = _gap_key(result)
    ideal = result.ideal_loss()
    exact = s.constraint == "equalized_odds" and not s.tolerance
    rows = [{"what": Cell("Target point (ideal)", tip="The target point, before the "
                          "randomisation realises it"),
             "accuracy": ideal["accuracy"], "cost": ideal["expected_cost"],
             "gap": 0.0 if exact else Cell(DASH, muted=True, tip="Each group has its own target"),
             "odds": Cell(DASH, muted=True), "lipschitz": Cell(DASH, muted=True, tip="Not a rule")}]
    for fm in families(result):
        g = fm.tpr_gap(result.rocs) if key == "tpr_gap" else fm.eo_gap(result.rocs)
        title = FAMILY_TITLES[fm.family] + (" (given)" if fm.evaluated else "")
        L = float(np.max(fm.lipschitz)) if fm.lipschitz.size else math.inf
        rows.append({"what": Cell(title, bold=fm.family == shown and not fm.evaluated, tip=title),
                     "accuracy": fm.accuracy(result.rocs), "cost": result.realised_cost(fm),
                     "gap": float(g.max()) if g.size else 0.0,
                     "odds": "yes" if fm.individual_odds() else "no",
                     "lipschitz": _lipschitz(L, "A step or a single threshold jumps: infinite")})
    b = result.baseline
    if b:
        label = _baseline_label(b, score_decimals)
        rows.append({"what": Cell(label, tip=label), "accuracy": b["accuracy"],
                     "cost": b["expected_cost"], "gap": b[key], "odds": "yes",
                     "lipschitz": _lipschitz(math.inf, "A threshold jumps: infinite")})
    cols = [Column("what", "Rule", note="What was compared."),
            Column("accuracy", "Accuracy", "rate", 2,
                   note="Expected share of correct decisions over all groups."),
            Column("cost", "Expected\ncost", "fixed", 4,
                   note="Expected cost per person: false positives × their cost plus false "
                        "negatives × theirs, divided by the number of people (1:1 = error "
                        "rate)."),
            Column("gap", "TPR gap" if key == "tpr_gap" else "EO gap", "number", GAP_DIGITS,
                   note=("Largest difference in TPR between any two groups." if key == "tpr_gap"
                         else "Largest difference in FPR or TPR between any two groups.")),
            Column("odds", "Equal indi-\nvidual odds", note=NOTES["individual_odds"]),
            Column("lipschitz", "Largest\nL", "number", L_DIGITS,
                   note="The largest Lipschitz constant over the groups (∞ for a step or a "
                        "single threshold).")]
    return Table("EO summary", cols, rows, label_key="what",
                 title="What each randomisation achieves, with the best group-blind threshold "
                       "for comparison")


def summary_sentence(result: EOddsResult, fam: FamilyResult,
                     score_decimals: int | None = None) -> tuple[str, str]:
    """(heading, the rest): the point, the objective and what the shown randomisation and
    the best group-blind threshold achieve, for the line above the tables."""
    s = result.settings
    opp = s.constraint == "equal_opportunity"
    gap = fam.tpr_gap(result.rocs) if opp else fam.eo_gap(result.rocs)
    x, y = (format_rate(v, 2) for v in result.point)
    tprs = result.targets[:, 1]
    if not opp and not s.tolerance:
        head, rest = "Common point", f": FPR {x}, TPR {y}"
    elif not opp:
        head, rest = "Relaxed equalized odds", f" (gaps ≤ {s.tolerance:g}): pooled FPR {x}, TPR {y}"
    elif not s.tolerance:
        head, rest = "Equal opportunity", (f": common TPR {format_rate(tprs[0], 2)}, each group "
                                           f"at its smallest FPR (pooled FPR {x})")
    else:
        head, rest = "Relaxed equal opportunity", (
            f": TPRs from {format_rate(tprs.min(), 2)} to {format_rate(tprs.max(), 2)} (within "
            f"{s.tolerance:g}); pooled FPR {x}")
    goal = {"cost": f"expected cost with FP : FN = {s.cost_fp:g} : {s.cost_fn:g}",
            "accuracy": "error rate", "distance": "distance to (0, 1)"}[s.objective]
    b = result.baseline
    base = (f"; the {_baseline_label(b, score_decimals).lower()} has accuracy "
            f"{format_rate(b['accuracy'], 2)} and {'a TPR' if opp else 'an EO'} gap of "
            f"{format_number(b['tpr_gap' if opp else 'eo_gap'], GAP_DIGITS)}") if b else ""
    largest = format_number(float(gap.max()), GAP_DIGITS) if gap.size else "0"
    rest += (f", minimising the {goal}. {FAMILY_TITLES[fam.family]}: accuracy "
             f"{format_rate(fam.accuracy(result.rocs), 2)}, largest {'TPR' if opp else 'EO'} gap "
             f"{largest}, equal individual odds: {'yes' if fam.individual_odds() else 'no'}"
             f"{base}.")
    return head, rest


def eodds_tables(result: EOddsResult, data: AnalysisData, family: str | None = None) -> list[Table]:
    s = result.settings
    family = family or s.family
    names = result.group_names
    dec, people = data.score_decimals, data.people_decimals
    tables = []
    orient = ("A score at or above t1 gets a positive decision; between t0 and t1 the probability "
              "shown; below t0 a negative decision." if data.sign > 0 else
              "Lower scores are riskier here: a score at or below t1 gets a positive decision; "
              "between t1 and t0 the probability shown; above t0 a negative decision.")

    # --- per group: the point and its fixed randomisation ---------------------------------
    fam = result.fixed
    rows = family_rows(result, fam, people, dec)
    for g, row in enumerate(rows):
        r = result.rocs[g]
        row.update({"people": r.weight, "positives": r.positives,
                    "target_fpr": float(result.targets[g, 0]),
                    "target_tpr": float(result.targets[g, 1]),
                    "rule": "single threshold" if fam.single()[g] else "two thresholds",
                    "selection": float((fam.tp[g] + fam.fp[g]) / r.weight)})
    by_key = {c.key: c for c in family_columns(dec)}
    cols = [by_key["group"], Column("people", "People", "people", people),
            Column("positives", "With the outcome", "people", people),
            Column("target_fpr", "Target FPR", "rate", 2),
            Column("target_tpr", "Target TPR", "rate", 2), Column("rule", "Rule")]
    cols += [by_key[k] for k in ("t0", "t1", "p", "fpr", "tpr", "accuracy")]
    cols += [Column("selection", "Positive decisions", "rate", 2,
                    note="Expected share of the group who get a positive decision."),
             by_key["target_gap"], by_key["eo_gap"]]
    c_fp, c_fn = s.costs
    notes = [orient,
             f"Constraint: {CONSTRAINT_TITLES[s.constraint]}"
             + (f", relaxed: pairwise gaps up to {s.tolerance:g}." if s.tolerance else "."),
             f"Objective: {OBJECTIVE_TITLES[s.objective]}"
             + (f"; a false positive costs {c_fp:g} and a false negative {c_fn:g} (break-even at a "
                f"{format_rate(c_fp / (c_fp + c_fn), 0)} chance of the positive outcome)." if s.objective == "cost" else "."),
             "Rates are weighted by the frequency weight." if data.weighted else
             "Every row counts once (no weight column)."]
    x, y = (format_rate(v, 2) for v in result.point)
    tables.append(Table("EO groups", cols, rows, label_key="group", notes=notes,
                        title=f"Equalized odds: each group's point and its fixed randomisation "
                              f"(common point FPR {x}, TPR {y})"))

    # --- curves ---------------------------------------------------------------------------
    fams = families(result)
    rows = [row for fm in fams for row in family_rows(result, fm, people, dec)]
    tables.append(Table("EO curves", family_columns(dec), rows, label_key="group",
                        title="Fixed and preferential randomisation per group: thresholds, "
                              "Lipschitz constant, expected rates",
                        notes=["Curves (Small et al.) rise continuously from 0 at t0 to 1 at t1 "
                               "and spend the same randomisation as the step with the same p.",
                               "Each curve's parameters are searched so that its expected rates "
                               "meet the group's target" + (", preferring the smallest Lipschitz "
                               f"constant within {s.curve_tolerance:g}." if s.prefer_smooth else "."),
                               "∞: a step or a single threshold jumps (no finite slope)."]))

    # --- summary --------------------------------------------------------------------------
    tables.append(summary_table(result, family, dec))

    # --- regions --------------------------------------------------------------------------
    rows = []
    for g, name in enumerate(names):
        for k, (x, y) in enumerate(result.rocs[g].region()):
            rows.append({"region": name, "vertex": k + 1, "fpr": float(x), "tpr": float(y)})
    for k, (x, y) in enumerate(result.intersection.polygon()):
        rows.append({"region": "Intersection of all groups", "vertex": k + 1, "fpr": float(x), "tpr": float(y)})
    tables.append(Table("EO regions", [Column("region", "Region"), Column("vertex", "Vertex", "count"),
                                       Column("fpr", "FPR", "fixed", 6), Column("tpr", "TPR", "fixed", 6)],
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
    tables.append(Table("EO probability curves", [Column("score", data.mapping.score or "score", "fixed", 4)]
                        + [Column(f"g{g}", n, "fixed", 4) for g, n in enumerate(names)], rows,
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
    from .audit_report import row_columns

    cols, values = row_columns(data)
    cols.append(Column("probability", f"Probability of a positive decision ({FAMILY_TITLES[fam.family]})",
                       "fixed", 6))
    values["probability"] = prob
    if seed is not None:
        cols.append(Column("decision", f"Decision drawn (seed {int(seed)})", "count"))
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
