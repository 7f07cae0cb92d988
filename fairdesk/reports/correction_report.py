"""Threshold-correction results as workbook tables (thresholds, best w, trade-off grid,
assessment, transitions). No Qt."""

from __future__ import annotations

import numpy as np

from ..engines.threshold_correction import ASSESS_RATES, CorrectionResult
from ..metrics.fairness import DEFINITIONS, THRESHOLD_DEFINITIONS
from ..metrics.rates import RATES
from ..undefined import Undefined
from .workbook import ChartSpec, Column, Table


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


def _bounds_text(res: CorrectionResult, wi: int, t: int) -> str:
    marks = res.bound_marks(wi, t)
    if not marks:
        return ""
    lo, hi = res.score_range
    words = {"lowest": f"at the lowest score ({lo:g})", "highest": f"at the highest score ({hi:g})",
             "above highest": f"above the highest score ({hi:g})", "below lowest": f"below the lowest score ({lo:g})"}
    return "; ".join(f"{res.group_names[g]} {words[m]}" for g, m in marks.items())


def correction_tables(res: CorrectionResult, chosen_w: dict | None = None) -> list[Table]:
    """``chosen_w``: threshold index -> w index chosen by the analyst (default: the best)."""
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
        row = {"threshold": name, "w": float(res.weights[wi]), "pre": float(pre[t]),
               "fair_pre": _v(a["fairness_pre_mean"][t]), "fair_pre_sd": _v(a["fairness_pre_sd"][t]),
               "fair_post": _v(a["fairness_post_mean"][wi, t]),
               "fair_post_sd": _v(a["fairness_post_sd"][wi, t]),
               "changed": _v(a["changed_mean"][wi, t]),
               "best": _suggested_text(res, t, wi), "degenerate": _degenerate_text(res, wi, t),
               "bounds": _bounds_text(res, wi, t)}
        for g, gname in enumerate(groups):
            row[f"g{g}"] = float(post[wi, t, g])
        rows.append(row)
    cols = [Column("threshold", "Threshold"), Column("w", "Penalty weight w", "float", 2),
            Column("best", "Suggested w?"), Column("pre", "Pre-correction threshold", "float", 4)] + \
        [Column(f"g{g}", f"Post: {n}", "float", 4) for g, n in enumerate(groups)] + \
        [Column("fair_pre", f"{d} before (mean)", "float", 3), Column("fair_pre_sd", "SD", "float", 3),
         Column("fair_post", f"{d} after (mean)", "float", 3), Column("fair_post_sd", "SD ", "float", 3),
         Column("changed", "People whose tier changes", "percent", 1),
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
            row = {"w": float(w), "threshold": name, "pre": float(pre[t])}
            for g in range(len(groups)):
                row[f"g{g}"] = float(post[wi, t, g])
            rows.append(row)
    tables.append(Table("Thresholds by w", [Column("w", "w", "float", 2), Column("threshold", "Threshold"),
                                             Column("pre", "Pre", "float", 4)]
                        + [Column(f"g{g}", n, "float", 4) for g, n in enumerate(groups)], rows,
                        title="Post-correction thresholds by penalty weight (bagged means)"))

    # trade-off grid (Figure 2)
    rows = [{"w": float(w), "threshold": name,
             "fair_post": _v(a["fairness_post_mean"][wi, t]), "fair_post_sd": _v(a["fairness_post_sd"][wi, t]),
             "fair_pre": _v(a["fairness_pre_mean"][t]), "changed": _v(a["changed_mean"][wi, t]),
             "degenerate": _degenerate_text(res, wi, t), "bounds": _bounds_text(res, wi, t)}
            for t, name in enumerate(names) for wi, w in enumerate(res.weights)]
    tables.append(Table("Trade-off grid", [Column("w", "w", "float", 2), Column("threshold", "Threshold"),
                                           Column("fair_pre", f"{d} before", "float", 3),
                                           Column("fair_post", f"{d} after (mean)", "float", 3),
                                           Column("fair_post_sd", "SD", "float", 3),
                                           Column("changed", "Changed tiers", "percent", 1),
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
                             "pre": _v(pm), "pre_sd": _v(ps), "post": _v(qm), "post_sd": _v(qs)})
    for j, (m, s) in enumerate(zip(a["pre:CAL:mean"], a["pre:CAL:sd"])):
        rows.append({"threshold": f"tier S{j + 1}", "measure": "CAL (Calibration within tiers)", "group": "all",
                     "pre": _v(m), "pre_sd": _v(s), "post": _v(a["post:CAL:mean"][chosen[0], j]),
                     "post_sd": _v(a["post:CAL:sd"][chosen[0], j])})
    tables.append(Table("Assessment", [Column("threshold", "Threshold"), Column("measure", "Measure"),
                                       Column("group", "Group"), Column("pre", "Before (mean)", "float", 4),
                                       Column("pre_sd", "SD", "float", 4), Column("post", "After (mean)", "float", 4),
                                       Column("post_sd", "SD ", "float", 4)], rows,
                        title="Assessment on fresh subsamples at the chosen w: mean and SD before and after"))

    # transitions (pre tier -> post tier) per group
    rows = []
    k = res.k
    for wi in sorted(set(chosen.values())):
        tm = res.transitions.get(wi)
        if tm is None:
            continue
        for g, gname in enumerate(groups):
            for i in range(k + 1):
                row = {"w": float(res.weights[wi]), "group": gname, "from": f"S{i + 1}"}
                for j in range(k + 1):
                    row[f"to{j}"] = float(tm[g, i, j])
                rows.append(row)
    tables.append(Table("Transitions", [Column("w", "w", "float", 2), Column("group", "Group"),
                                        Column("from", "Tier before")]
                        + [Column(f"to{j}", f"→ S{j + 1}", "float", 1) for j in range(k + 1)], rows,
                        title="People by tier before (rows) and after (columns) the correction, per group"))
    return tables
