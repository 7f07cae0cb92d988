"""Threshold-correction results as workbook tables (thresholds, best w, trade-off grid,
assessment, transitions). No Qt."""

from __future__ import annotations

import numpy as np

from ..engines.threshold_correction import ASSESS_RATES, CorrectionResult
from ..metrics.fairness import DEFINITIONS, THRESHOLD_DEFINITIONS
from ..metrics.rates import RATES
from ..present.formats import format_score
from ..present.formats import people_decimals as whole_or_not
from ..present.table import Cell, ChartSpec, Column, Table
from ..undefined import Undefined
from .correction_tables import score_cell, transition_columns, transition_rows


def _v(x, reason="undefined in every assessment subsample"):
    x = float(x)
    return Undefined(reason) if np.isnan(x) else x


DEGENERATE_NOTE = ("Degenerate: on the full data at the bagged thresholds, some group has everyone or "
                   "nobody at or above its threshold, or the accuracy is below that of both flagging "
                   "everyone and flagging no one. Such solutions are never suggested.")


def _degenerate_text(res: CorrectionResult, wi: int, t: int) -> str:
    if res.degenerate is None:
        return "not checked"
    reasons = res.degenerate[wi][t]
    return "yes: " + "; ".join(reasons) if reasons else "no"


def _suggested_text(res: CorrectionResult, t: int, wi: int) -> str:
    b = next(b for b in res.best if b["threshold"] == t)
    if wi != b["w_index"]:
        return "no"
    return "yes" if b.get("usable", True) else "no: every w is degenerate (fairest shown)"


def _bounds_text(res: CorrectionResult, wi: int, t: int, score_decimals: int | None = None) -> str:
    marks = res.bound_marks(wi, t)
    if not marks:
        return ""
    lo, hi = (format_score(x, score_decimals) for x in res.score_range)
    words = {"lowest": f"at the lowest score ({lo})", "highest": f"at the highest score ({hi})",
             "above highest": f"above the highest score ({hi})", "below lowest": f"below the lowest score ({lo})"}
    return "; ".join(f"{res.group_names[g]} {words[m]}" for g, m in marks.items())


def correction_tables(res: CorrectionResult, chosen_w: dict | None = None, *,
                      score_decimals: int | None = None,
                      people_decimals: int | None = None) -> list[Table]:
    """``chosen_w``: threshold index -> w index chosen by the analyst (default: the best).

    ``score_decimals``: the data's (a threshold between the scores gets the decimals it needs,
    see :func:`~fairdesk.reports.correction_tables.score_cell`); ``people_decimals``: the
    data's (default: 0 when every count in the transitions is whole)."""
    dec = score_decimals
    names = res.threshold_names()
    groups = res.group_names
    pre = res.pre_thresholds()
    post = res.post_thresholds()
    a = res.assessment
    d = res.settings.definition
    chosen = {b["threshold"]: b["w_index"] for b in res.best}
    chosen.update(chosen_w or {})
    tables = []

    # best / chosen w per threshold (the study's Table 3)
    rows = []
    for t, name in enumerate(names):
        wi = chosen[t]
        row = {"threshold": name, "w": float(res.weights[wi]), "pre": score_cell(pre[t], dec),
               "fair_pre": _v(a["fairness_pre_mean"][t]), "fair_pre_sd": _v(a["fairness_pre_sd"][t]),
               "fair_post": _v(a["fairness_post_mean"][wi, t]),
               "fair_post_sd": _v(a["fairness_post_sd"][wi, t]),
               "changed": _v(a["changed_mean"][wi, t]),
               "best": _suggested_text(res, t, wi), "degenerate": _degenerate_text(res, wi, t),
               "bounds": _bounds_text(res, wi, t, score_decimals)}
        for g, gname in enumerate(groups):
            row[f"g{g}"] = score_cell(post[wi, t, g], dec)
        rows.append(row)
    cols = [Column("threshold", "Threshold"), Column("w", "Penalty weight w", "number"),
            Column("best", "Suggested w?"), Column("pre", "Pre-correction threshold", "score", dec)] + \
        [Column(f"g{g}", f"Post: {n}", "score", dec) for g, n in enumerate(groups)] + \
        [Column("fair_pre", f"{d} before (mean)", "ratio"), Column("fair_pre_sd", "SD", "ratio"),
         Column("fair_post", f"{d} after (mean)", "ratio"), Column("fair_post_sd", "SD ", "ratio"),
         Column("changed", "People whose tier changes", "rate"),
         Column("degenerate", "Degenerate?"), Column("bounds", "Thresholds at the lowest/highest score")]
    tables.append(Table("Corrected thresholds", cols, rows,
                        title=f"Group-specific thresholds for {DEFINITIONS[d].name} ({d})",
                        notes=["Suggested w: the highest mean fairness over the assessment subsamples "
                               "among the non-degenerate solutions; ties go to the smallest SD, then the largest w.",
                               DEGENERATE_NOTE,
                               f"{res.theta.shape[0]:,} {res.mode} subsamples for the correction, "
                               f"{res.settings.audit_subsamples:,} for the assessment; seed {res.settings.seed}."]
                        + [f"Warning: {w}" for w in res.warnings()]))

    # thresholds vs w (Figure 1)
    rows = []
    for wi, w in enumerate(res.weights):
        for t, name in enumerate(names):
            row = {"w": float(w), "threshold": name, "pre": score_cell(pre[t], dec)}
            for g in range(len(groups)):
                row[f"g{g}"] = score_cell(post[wi, t, g], dec)
            rows.append(row)
    tables.append(Table("Thresholds by w", [Column("w", "w", "number"), Column("threshold", "Threshold"),
                                             Column("pre", "Pre", "score", dec)]
                        + [Column(f"g{g}", n, "score", dec) for g, n in enumerate(groups)], rows,
                        title="Post-correction thresholds by penalty weight (bagged means)"))

    # trade-off grid (Figure 2)
    rows = [{"w": float(w), "threshold": name,
             "fair_post": _v(a["fairness_post_mean"][wi, t]), "fair_post_sd": _v(a["fairness_post_sd"][wi, t]),
             "fair_pre": _v(a["fairness_pre_mean"][t]), "changed": _v(a["changed_mean"][wi, t]),
             "degenerate": _degenerate_text(res, wi, t), "bounds": _bounds_text(res, wi, t, score_decimals)}
            for t, name in enumerate(names) for wi, w in enumerate(res.weights)]
    tables.append(Table("Trade-off grid", [Column("w", "w", "number"), Column("threshold", "Threshold"),
                                           Column("fair_pre", f"{d} before", "ratio"),
                                           Column("fair_post", f"{d} after (mean)", "ratio"),
                                           Column("fair_post_sd", "SD", "ratio"),
                                           Column("changed", "Changed tiers", "rate"),
                                           Column("degenerate", "Degenerate?"),
                                           Column("bounds", "Thresholds at the lowest/highest score")], rows,
                        title="Fairness against accuracy: mean fairness after correction and the share of "
                              "people moved, by w",
                        notes=[DEGENERATE_NOTE] + [f"Warning: {w}" for w in res.warnings()],
                        # one trade-off chart per threshold (its rows form one block)
                        charts=[ChartSpec("scatter", f"Fairness after correction vs w, threshold {name}",
                                          "w", ["fair_post"], x_title="penalty weight w", y_title=d,
                                          rows=(t * len(res.weights), (t + 1) * len(res.weights)))
                                for t, name in enumerate(names)]))

    # assessment at the chosen w (Tables 4 and 9)
    rows = []
    for t, name in enumerate(names):
        wi = chosen[t]
        for key in list(THRESHOLD_DEFINITIONS):
            rows.append({"threshold": name, "measure": f"{key} ({DEFINITIONS[key].name})", "group": "all",
                         "pre": _v(a[f"pre:{key}:mean"][t]), "pre_sd": _v(a[f"pre:{key}:sd"][t]),
                         "post": _v(a[f"post:{key}:mean"][wi, t]), "post_sd": _v(a[f"post:{key}:sd"][wi, t])})
        for r in ASSESS_RATES:
            for g, gname in enumerate(groups + ["Overall"]):
                if g < len(groups):
                    pm, ps = a[f"pre:rate:{r}:mean"][g, t], a[f"pre:rate:{r}:sd"][g, t]
                    qm, qs = a[f"post:rate:{r}:mean"][g, wi, t], a[f"post:rate:{r}:sd"][g, wi, t]
                else:
                    pm, ps = a[f"pre:overall:{r}:mean"][t], a[f"pre:overall:{r}:sd"][t]
                    qm, qs = a[f"post:overall:{r}:mean"][wi, t], a[f"post:overall:{r}:sd"][wi, t]
                rows.append({"threshold": name, "measure": RATES[r].name, "group": gname,
                             **{k: Cell(_v(x), "rate") for k, x in
                                (("pre", pm), ("pre_sd", ps), ("post", qm), ("post_sd", qs))}})
    for j, (m, s) in enumerate(zip(a["pre:CAL:mean"], a["pre:CAL:sd"])):
        rows.append({"threshold": f"tier S{j + 1}", "measure": "CAL (Calibration within tiers)", "group": "all",
                     "pre": _v(m), "pre_sd": _v(s), "post": _v(a["post:CAL:mean"][chosen[0], j]),
                     "post_sd": _v(a["post:CAL:sd"][chosen[0], j])})
    tables.append(Table("Assessment", [Column("threshold", "Threshold"), Column("measure", "Measure"),
                                       Column("group", "Group"), Column("pre", "Before (mean)", "ratio"),
                                       Column("pre_sd", "SD", "ratio"), Column("post", "After (mean)", "ratio"),
                                       Column("post_sd", "SD ", "ratio")], rows,
                        title="Assessment on fresh subsamples at the chosen w: mean and SD before and after",
                        notes=["Measures: the smallest ratio between two groups (1 = balanced); "
                               "rates: per group, as percentages."]))

    # transitions (pre tier -> post tier) per group: the rows the page shows, one block per w
    rows, k1 = [], res.k + 1
    for wi in sorted(set(chosen.values())):
        tm = res.transitions.get(wi)
        if tm is not None:
            rows += transition_rows(tm, groups, {"w": float(res.weights[wi])})
    if people_decimals is None:
        people_decimals = whole_or_not([r[f"to{j}"].value for r in rows for j in range(k1)])
    tables.append(Table("Transitions", [Column("w", "w", "number")]
                        + transition_columns(k1, people_decimals), rows,
                        title="People by tier before (rows) and after (columns) the correction, per group",
                        notes=["Per group: a row for the whole group (bold), then one per tier "
                               "before the correction; Moved: the share whose tier changes."]))
    return tables
