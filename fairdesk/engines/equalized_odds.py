"""Equalized odds for any number of groups: ROC regions, the optimal common point, fixed and
preferential randomisation, and per-row probabilities of a positive decision. No Qt.

Sources: Hardt, Price & Srebro (2016), "Equality of Opportunity in Supervised Learning"
(derived predictors from per-group ROC curves); Small, Sokol, Manning, Salim & Chan,
"Equalised Odds is not Equal Individual Odds" (continuous probability curves between two
thresholds; see :mod:`fairdesk.engines.preferential`). The geometry is in
:mod:`fairdesk.engines.roc_geometry`.

Cost accounting (read this before choosing a cost ratio)
--------------------------------------------------------
Everything is in terms of the *positive outcome* of the label mapping and the *positive
decision* (score at or above the threshold, in the score's orientation):

* a false positive (FP) is a positive decision for someone without the positive outcome;
* a false negative (FN) is a negative decision for someone with it.

A cost ratio ``A:B`` means **a false positive costs A and a false negative costs B**. The total
expected cost of a rule is Σ_g [A·FP_g + B·FN_g] = Σ_g [A·N_g·FPR_g + B·P_g·(1 − TPR_g)], with
N_g and P_g the weighted negatives and positives of group g. Under equalized odds all groups
share one (FPR, TPR) = (x, y), so the cost is A·N·x − B·P·y + B·P, linear in (x, y) with each
group weighted by its own negatives and positives: its minimum over the (convex) intersection
of the groups' ROC regions is at a vertex. Positive decisions pay off when the chance of the
positive outcome is above A / (A + B) (the break-even point).

Hardt et al.'s FICO case: the outcome "repaid" is positive and a positive decision grants the
loan. Their loss ratio 82:18 makes a loan given to someone who defaults (a false positive)
cost 82 and a loan refused to someone who would have repaid (a false negative, lost profit)
cost 18: ``--cost-ratio 82:18``, break-even at an 82 % chance of repaying, exactly their
"max profit" rule (profit TP − 82/18·FP). With the risk framing (positive outcome = default,
a positive decision refuses the loan) the same economics is ``18:82``.

"accuracy" is the cost ratio 1:1 (the weighted error rate); "distance" minimises the
Euclidean distance of the (pooled) (FPR, TPR) to the perfect classifier (0, 1).

Decisions
---------
The primary output is each row's **probability** of a positive decision (many public agencies
refuse to decide by chance); realised 0/1 decisions are drawn only on request, from a seed
(:func:`realize_decisions`) that the exports record.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..dataset import AnalysisData
from ..errors import FairDeskError
from ..jobs import NO_JOB, Job
from ..metrics.confusion import GroupScores
from .preferential import (ALL_FAMILIES, CURVE_FAMILIES, MONOTONE_P,
                           GroupMoments, is_monotone, lipschitz, phi, search_curves,
                           single_threshold)
from .roc_geometry import (GroupROC, Intersection, band_rates, best_band, equal_opportunity_optimum,
                           group_roc, intersect, linear_optimum, nearest_point, relaxed_optimum)

CONSTRAINTS = ("equalized_odds", "equal_opportunity")
CONSTRAINT_TITLES = {"equalized_odds": "Equalized odds (common TPR and FPR)",
                     "equal_opportunity": "Equal opportunity (common TPR only)"}
OBJECTIVES = ("cost", "accuracy", "distance")
OBJECTIVE_TITLES = {"cost": "Expected cost (cost ratio FP:FN)", "accuracy": "Error rate (accuracy)",
                    "distance": "Distance to the perfect classifier (0, 1)"}


def parse_cost_ratio(text: str) -> tuple[float, float]:
    """'82:18' → (cost of a false positive, cost of a false negative)."""
    try:
        a, b = (float(v) for v in str(text).replace("/", ":").split(":"))
    except ValueError:
        raise FairDeskError(f"Cost ratio '{text}': write it as FP:FN, two positive numbers such as "
                            "82:18 (a false positive costs 82, a false negative 18).")
    if not (a > 0 and b > 0 and math.isfinite(a) and math.isfinite(b)):
        raise FairDeskError(f"Cost ratio '{text}': both costs must be positive numbers.")
    return a, b


@dataclass
class EOddsSettings:
    constraint: str = "equalized_odds"
    objective: str = "accuracy"  # "cost", "accuracy" or "distance"
    cost_fp: float = 1.0  # cost of a false positive (used by "cost")
    cost_fn: float = 1.0  # cost of a false negative
    tolerance: float = 0.0  # ε: largest pairwise TPR (and FPR) gap allowed; 0 = exact
    family: str = "cubic"  # the probability curve shown and used for row decisions
    families: tuple = ALL_FAMILIES  # families reported ("fixed" is always computed)
    prefer_smooth: bool = False  # True: the smallest Lipschitz L within curve_tolerance
    curve_tolerance: float = 0.005
    min_width: float = 0.002  # narrowest curve band searched, share of the group's score range

    def to_dict(self) -> dict:
        return {"constraint": self.constraint, "objective": self.objective,
                "cost_fp": self.cost_fp, "cost_fn": self.cost_fn, "tolerance": self.tolerance,
                "family": self.family, "families": list(self.families),
                "prefer_smooth": self.prefer_smooth, "curve_tolerance": self.curve_tolerance,
                "min_width": self.min_width}

    @classmethod
    def from_dict(cls, d: dict) -> "EOddsSettings":
        s = cls()
        for k, v in (d or {}).items():
            if hasattr(s, k):
                setattr(s, k, tuple(v) if k == "families" else v)
        return s

    @property
    def costs(self) -> tuple[float, float]:
        return (1.0, 1.0) if self.objective != "cost" else (float(self.cost_fp), float(self.cost_fn))

    def check(self) -> None:
        if self.constraint not in CONSTRAINTS:
            raise FairDeskError(f"Unknown constraint '{self.constraint}'; choose "
                                + " or ".join(CONSTRAINTS) + ".")
        if self.objective not in OBJECTIVES:
            raise FairDeskError(f"Unknown objective '{self.objective}'; choose "
                                + ", ".join(OBJECTIVES) + ".")
        if self.objective == "cost" and not (self.cost_fp > 0 and self.cost_fn > 0):
            raise FairDeskError("Both costs (false positive and false negative) must be positive.")
        if not 0.0 <= float(self.tolerance) <= 1.0:
            raise FairDeskError(f"Tolerance {self.tolerance}: give a gap between 0 and 1 "
                                "(for example 0.02 for two percentage points).")
        for f in (self.family,) + tuple(self.families):
            if f not in ALL_FAMILIES:
                raise FairDeskError(f"Unknown family '{f}'; choose " + ", ".join(ALL_FAMILIES) + ".")


@dataclass
class FamilyResult:
    """One randomisation family applied to every group (arrays over groups, oriented t)."""

    family: str
    t0: np.ndarray
    t1: np.ndarray
    p: np.ndarray
    tp: np.ndarray  # expected weighted counts
    fp: np.ndarray
    lipschitz: np.ndarray
    monotone: np.ndarray
    target_gap: np.ndarray  # Chebyshev distance of (FPR, TPR) to the group's target
    evaluated: bool = False  # True: parameters given by the analyst, not searched

    def rates(self, rocs):
        P = np.array([r.positives for r in rocs])
        N = np.array([r.negatives for r in rocs])
        W = np.array([r.weight for r in rocs])
        tpr, fpr = self.tp / P, self.fp / N
        acc = (self.tp + (N - self.fp)) / W
        return fpr, tpr, acc

    def eo_gap(self, rocs) -> np.ndarray:
        """Per group: the largest equalized-odds gap with any other group,
        max(|ΔFPR|, |ΔTPR|)."""
        fpr, tpr, _ = self.rates(rocs)
        d = np.maximum(np.abs(fpr[:, None] - fpr[None, :]), np.abs(tpr[:, None] - tpr[None, :]))
        return d.max(axis=1) if d.size else np.zeros(0)

    def tpr_gap(self, rocs) -> np.ndarray:
        """Per group: the largest TPR difference with any other group (equal opportunity)."""
        _, tpr, _ = self.rates(rocs)
        return np.abs(tpr[:, None] - tpr[None, :]).max(axis=1) if tpr.size else np.zeros(0)

    def single(self) -> np.ndarray:
        return np.array([single_threshold(self.family, a, b, p) is not None
                         for a, b, p in zip(self.t0, self.t1, self.p)])

    def odds(self) -> list[tuple]:
        """Each group's attainable probabilities of a positive decision: ("set", values) or
        ("interval", 0, 1)."""
        out = []
        for single, p in zip(self.single(), self.p):
            if single:
                out.append(("set", (0.0, 1.0)))
            elif self.family == "fixed":
                out.append(("set", (0.0, round(float(p), 9), 1.0)))
            else:
                out.append(("interval", 0.0, 1.0))
        return out

    def individual_odds(self) -> bool:
        """Every group can reach the same probabilities of a positive decision."""
        o = self.odds()
        return all(x == o[0] for x in o)

    def accuracy(self, rocs) -> float:
        P = sum(r.positives for r in rocs)
        N = sum(r.negatives for r in rocs)
        return float((self.tp.sum() + N - self.fp.sum()) / (P + N))


@dataclass
class EOddsResult:
    settings: EOddsSettings
    group_names: list[str]
    sign: float
    rocs: list[GroupROC]
    intersection: Intersection
    targets: np.ndarray  # (G, 2): each group's target (FPR, TPR)
    point: tuple  # pooled target (FPR, TPR): the common point under exact equalized odds
    fixed: FamilyResult
    curves: dict = field(default_factory=dict)  # family -> FamilyResult
    baseline: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    evaluated: FamilyResult | None = None  # parameters given by the analyst (--params)

    @property
    def n_groups(self) -> int:
        return len(self.group_names)

    def family(self, name: str) -> FamilyResult | None:
        return self.fixed if name == "fixed" else self.curves.get(name)

    def user(self, t) -> float:
        """An oriented threshold in the score's own units (±∞ kept)."""
        return float(t) * self.sign

    def ideal_loss(self) -> dict:
        """Expected cost per person, error rate and distance at the targets (before the
        bands/curves realise them)."""
        c_fp, c_fn = self.settings.costs
        P = np.array([r.positives for r in self.rocs])
        N = np.array([r.negatives for r in self.rocs])
        x, y = self.targets[:, 0], self.targets[:, 1]
        W = P.sum() + N.sum()
        cost = float((c_fp * N @ x + c_fn * P @ (1 - y)) / W)
        err = float((N @ x + P @ (1 - y)) / W)
        return {"expected_cost": cost, "accuracy": 1 - err,
                "distance": float(math.hypot(self.point[0], 1 - self.point[1]))}

    def realised_cost(self, fam: FamilyResult) -> float:
        c_fp, c_fn = self.settings.costs
        P = np.array([r.positives for r in self.rocs])
        W = sum(r.weight for r in self.rocs)
        return float((c_fp * fam.fp.sum() + c_fn * (P - fam.tp).sum()) / W)

    # ------------------------------------------------------------------------- JSON
    def to_json(self) -> dict:
        warnings: list[str] = list(self.warnings)
        s = self.settings
        c_fp, c_fn = s.costs

        def num(x, where: str, reason: str):
            x = float(x)
            if not math.isfinite(x):
                warnings.append(f"{where} is {'infinite' if math.isinf(x) else 'undefined'}: {reason}")
                return None
            return x

        def thr(t, where: str, which: str, name: str):
            return num(self.user(t), where,
                       f"{which} of group '{name}' lies beyond every score, so "
                       + ("nobody is positive for sure" if which == "t1" else "everybody is"))

        fixed = self.fixed
        f_fpr, f_tpr, f_acc = fixed.rates(self.rocs)
        f_gap = fixed.eo_gap(self.rocs)
        f_tgap = fixed.tpr_gap(self.rocs)
        groups = {}
        for g, name in enumerate(self.group_names):
            r = self.rocs[g]
            sel = (fixed.tp[g] + fixed.fp[g]) / r.weight
            groups[name] = {
                "t0": thr(fixed.t0[g], f"groups['{name}'].t0", "t0", name),
                "t1": thr(fixed.t1[g], f"groups['{name}'].t1", "t1", name),
                "p": float(fixed.p[g]), "fpr": float(f_fpr[g]), "tpr": float(f_tpr[g]),
                "accuracy": float(f_acc[g]), "selection_rate": float(sel),
                "target_fpr": float(self.targets[g, 0]), "target_tpr": float(self.targets[g, 1]),
                "target_gap": float(fixed.target_gap[g]), "eo_gap": float(f_gap[g]),
                "tpr_gap": float(f_tgap[g]), "single_threshold": bool(fixed.single()[g]),
            }
        curves, summary = {}, {}
        if self.evaluated is not None:
            fams = [(self.evaluated.family, self.evaluated)]
        else:
            fams = [(f, self.family(f)) for f in ALL_FAMILIES if self.family(f) is not None]
        jump = "the rule jumps (a step or a single threshold), so its Lipschitz constant is infinite"
        for fname, fam in fams:
            fpr, tpr, acc = fam.rates(self.rocs)
            gap = fam.eo_gap(self.rocs)
            tgap = fam.tpr_gap(self.rocs)
            ind = fam.individual_odds()
            entry = {}
            for g, name in enumerate(self.group_names):
                L = fam.lipschitz[g]
                entry[name] = {
                    "t0": thr(fam.t0[g], f"curves['{fname}']['{name}'].t0", "t0", name),
                    "t1": thr(fam.t1[g], f"curves['{fname}']['{name}'].t1", "t1", name),
                    "p": float(fam.p[g]),
                    "lipschitz": num(L, f"curves['{fname}'][…].lipschitz", jump),
                    "fpr": float(fpr[g]), "tpr": float(tpr[g]), "accuracy": float(acc[g]),
                    "eo_gap": float(gap[g]), "tpr_gap": float(tgap[g]),
                    "target_gap": float(fam.target_gap[g]),
                    "monotone": bool(fam.monotone[g]), "individual_odds": bool(ind),
                }
            curves[fname] = entry
            finite = fam.lipschitz[np.isfinite(fam.lipschitz)]
            summary[fname] = {"eo_gap": float(gap.max()) if gap.size else 0.0,
                              "tpr_gap": float(tgap.max()) if tgap.size else 0.0,
                              "accuracy": fam.accuracy(self.rocs),
                              "expected_cost": self.realised_cost(fam),
                              "individual_odds": bool(ind),
                              "max_lipschitz": float(finite.max()) if finite.size == fam.lipschitz.size
                              and finite.size else None,
                              "evaluated": bool(fam.evaluated)}
        ideal = self.ideal_loss()
        out = {
            "constraint": s.constraint, "tolerance": float(s.tolerance),
            "objective": {"kind": s.objective, "cost_fp": c_fp, "cost_fn": c_fn,
                          "break_even": c_fp / (c_fp + c_fn),
                          "convention": "cost ratio = cost of a false positive : cost of a false "
                                        "negative"},
            "point": {"fpr": float(self.point[0]), "tpr": float(self.point[1])},
            "ideal": ideal,
            "accuracy": fixed.accuracy(self.rocs),
            "expected_cost": self.realised_cost(fixed),
            "eo_gap": float(f_gap.max()) if f_gap.size else 0.0,
            "tpr_gap": float(f_tgap.max()) if f_tgap.size else 0.0,
            "groups": groups,
            "curves": curves,
            "curve_summary": summary,
            "intersection": [[float(a), float(b)] for a, b in self.intersection.polygon()],
            "baseline": self.baseline,
        }
        out["warnings"] = list(dict.fromkeys(warnings))
        return out


# ------------------------------------------------------------------------------------------
# the engine

def _check_data(data: AnalysisData, gs: GroupScores | None) -> None:
    if data.label is None:
        raise FairDeskError("Equalized odds compares decisions with outcomes: map an outcome "
                            "(label) column.")
    for g, name in enumerate(data.group_names):
        if gs.positives[g] <= 0 or gs.negatives[g] <= 0:
            which = "the positive" if gs.positives[g] <= 0 else "the negative"
            rate = "TPR" if gs.positives[g] <= 0 else "FPR"
            raise FairDeskError(
                f"Group '{name}' has no one with {which} outcome, so its {rate} is undefined (0/0) "
                "and equalized odds cannot include it. Merge it with a similar group (Data page, "
                "or --merge GROUP=INTO on the command line), or leave its rows out.")


def solve_targets(rocs: list[GroupROC], settings: EOddsSettings):
    """Each group's target (FPR, TPR), the pooled point and the intersection."""
    inter = intersect(rocs)
    c_fp, c_fn = settings.costs
    N = np.array([r.negatives for r in rocs])
    P = np.array([r.positives for r in rocs])
    G = len(rocs)
    eps = float(settings.tolerance)
    obj = settings.objective
    if settings.constraint == "equalized_odds":
        if obj == "distance":
            x, y = nearest_point(inter)
        else:
            x, y = linear_optimum(inter, c_fp * N.sum(), c_fn * P.sum())
        targets = np.tile([x, y], (G, 1))
    else:
        y, xg = equal_opportunity_optimum(rocs, c_fp, c_fn, obj)
        targets = np.column_stack([xg, np.full(G, y)])
    if eps > 0 and G > 1:
        start = np.r_[targets[:, 0], targets[:, 1], targets[:, 0].min(), targets[:, 1].min()]
        xs, ys = relaxed_optimum(rocs, c_fp, c_fn, obj, eps,
                                 tpr_only=settings.constraint == "equal_opportunity", start=start)
        targets = np.column_stack([xs, ys])
        # a relaxed solution is never worse than the exact one (numerical noise aside)
    point = (float(N @ targets[:, 0] / N.sum()), float(P @ targets[:, 1] / P.sum()))
    return targets, point, inter


def _fixed_family(rocs, targets) -> tuple[FamilyResult, list]:
    G = len(rocs)
    t0, t1, p = np.zeros(G), np.zeros(G), np.zeros(G)
    tp, fp, gap = np.zeros(G), np.zeros(G), np.zeros(G)
    bands = []
    for g, r in enumerate(rocs):
        b = best_band(r, float(targets[g, 0]), float(targets[g, 1]))
        bands.append(b)
        x, y = band_rates(r, b)
        t0[g], t1[g], p[g] = r.thr[b.i0], r.thr[b.i1], b.p
        tp[g], fp[g] = y * r.positives, x * r.negatives
        gap[g] = max(abs(x - targets[g, 0]), abs(y - targets[g, 1]))
    fam = FamilyResult("fixed", t0, t1, p, tp, fp, np.full(G, np.inf), np.ones(G, dtype=bool), gap)
    return fam, bands


def group_moments(gs: GroupScores, g: int) -> GroupMoments:
    s, e = gs.start[g], gs.end[g]
    return GroupMoments(gs.sorted_score[s:e], gs.sorted_weight[s:e], gs.sorted_label[s:e])


def _curve_families(families, moments, rocs, targets, settings, job=NO_JOB) -> dict:
    """Search every family for every group at once (one vectorised pattern search)."""
    G = len(rocs)
    tasks = [(f, g, float(targets[g, 0]), float(targets[g, 1])) for f in families for g in range(G)]
    fits = search_curves(moments, tasks, tol=settings.curve_tolerance,
                         prefer_smooth=settings.prefer_smooth, min_width=settings.min_width,
                         progress=lambda f: job.progress(0.45 + 0.5 * f, "Searching the probability curves"))
    out = {}
    for i, f in enumerate(families):
        part = fits[i * G:(i + 1) * G]
        arr = {k: np.array([getattr(c, k) for c in part]) for k in ("t0", "t1", "p", "tp", "fp",
                                                                   "lipschitz", "gap")}
        mono = np.array([is_monotone(f, c.p) for c in part])
        out[f] = FamilyResult(f, arr["t0"], arr["t1"], arr["p"], arr["tp"], arr["fp"],
                              arr["lipschitz"], mono, arr["gap"])
    return out


def baseline_threshold(data: AnalysisData, settings: EOddsSettings, order=None) -> dict:
    """The best single threshold shared by every group (no fairness constraint), for the
    price of fairness: its threshold, accuracy, expected cost and equalized-odds gap.
    ``order``: the rows sorted by oriented score, ascending, when already known."""
    c_fp, c_fn = settings.costs
    o = data.oriented
    order = np.argsort(o, kind="stable") if order is None else order
    desc = order[::-1]
    s = o[desc]
    y = data.label[desc].astype(float)
    w = data.weight[desc]
    last = np.r_[s[1:] != s[:-1], True]  # end of each run of equal scores (descending)
    tp = np.r_[0.0, np.cumsum(w * y)[last]]
    fp = np.r_[0.0, np.cumsum(w * (1 - y))[last]]
    thr = np.r_[np.inf, s[last]]
    P, N = tp[-1], fp[-1]
    if settings.objective == "distance":
        val = (fp / N) ** 2 + (1 - tp / P) ** 2
    else:
        val = c_fp * fp + c_fn * (P - tp)
    i = int(np.argmin(val))
    t = float(thr[i])
    sel = o >= t
    G = data.n_groups
    gp = np.bincount(data.group, weights=data.weight * data.label, minlength=G)
    gn = np.bincount(data.group, weights=data.weight * (1 - data.label), minlength=G)
    tpg = np.bincount(data.group[sel], weights=(data.weight * data.label)[sel], minlength=G)
    fpg = np.bincount(data.group[sel], weights=(data.weight * (1 - data.label))[sel], minlength=G)
    tpr, fpr = tpg / gp, fpg / gn
    W = P + N
    return {"threshold": t * data.sign if math.isfinite(t) else None,
            "accuracy": float((tp[i] + N - fp[i]) / W),
            "expected_cost": float((c_fp * fp[i] + c_fn * (P - tp[i])) / W),
            "eo_gap": float(max(fpr.max() - fpr.min(), tpr.max() - tpr.min())),
            "tpr_gap": float(tpr.max() - tpr.min())}


def sorted_scores(data: AnalysisData) -> tuple[GroupScores, np.ndarray]:
    """GroupScores of the data, and the rows sorted by oriented score.

    One argsort of the scores and a stable sort of the small-integer group codes give the same
    order as sorting by (group, score) in one go, faster."""
    order1 = np.argsort(data.oriented)  # ties in any order: counts only change between scores
    order = order1[np.argsort(data.group[order1], kind="stable")]
    gs = GroupScores(data.oriented, data.label, data.group, data.n_groups, data.weight, order=order)
    return gs, order1


def run_equalized_odds(data: AnalysisData, settings: EOddsSettings | None = None, *,
                       scores: GroupScores | None = None, job: Job = NO_JOB,
                       curves: bool = True) -> EOddsResult:
    """ROC regions, the optimal point, fixed randomisation and (``curves``) the searched
    preferential-randomisation curves of every family in ``settings.families``."""
    settings = settings or EOddsSettings()
    settings.check()
    job.progress(0.0, "Sorting scores per group")
    if data.label is None:
        _check_data(data, None)
    order = None
    if scores is not None:
        gs = scores
    else:
        gs, order = sorted_scores(data)
    _check_data(data, gs)
    job.progress(0.1, "ROC curves and hulls")
    rocs = [group_roc(gs, g) for g in range(data.n_groups)]
    job.progress(0.3, "Intersection of the ROC regions and the optimum")
    targets, point, inter = solve_targets(rocs, settings)
    job.progress(0.4, "Fixed randomisation per group")
    fixed, _ = _fixed_family(rocs, targets)
    warnings = []
    if data.n_groups < 2:
        warnings.append("Only one group: equalized odds constrains nothing; the point is that "
                        "group's own optimum.")
    missed = [(name, fixed.target_gap[g], rocs[g].fpr.size - 1)
              for g, name in enumerate(data.group_names) if fixed.target_gap[g] > 1e-4]
    if missed:
        missed.sort(key=lambda m: -m[1])
        fewest = min(m[2] for m in missed)
        shown = ", ".join(f"'{n}' by {gap:.2g}" for n, gap, _ in missed[:3])
        more = f" and {len(missed) - 3} more" if len(missed) > 3 else ""
        warnings.append(
            f"{len(missed)} group(s) cannot reach the target exactly with two thresholds and one "
            f"probability (their scores take as few as {fewest:,} distinct values); the closest "
            f"bands miss it in FPR or TPR: {shown}{more}. The continuous curves may come closer: "
            "see their gaps.")
    res = EOddsResult(settings=settings, group_names=list(data.group_names), sign=data.sign,
                      rocs=rocs, intersection=inter, targets=targets, point=point, fixed=fixed,
                      warnings=warnings)
    res.baseline = baseline_threshold(data, settings, order)
    fams = [f for f in settings.families if f in CURVE_FAMILIES]
    if curves and fams:
        moments = [group_moments(gs, g) for g in range(data.n_groups)]
        job.progress(0.45, "Searching the probability curves")
        res.curves = _curve_families(fams, moments, rocs, targets, settings, job)
        if "quartic" in fams:
            res.warnings.append("The 4th-order curve is a probability curve (monotone, within "
                                "0 and 1) only for 0.4 ≤ p ≤ 0.6; the search stays in that range.")
    job.progress(1.0, "Done")
    return res


# ------------------------------------------------------------------------------------------
# evaluating a given policy

def parse_params(params: dict, data: AnalysisData) -> dict:
    """{GROUP: {"t0", "t1", "p"}} in the score's own units → {group index: (t0, t1, p)}
    oriented. t0 = t1 means a single threshold; t1 may be null/"inf" (above every score)."""
    if not isinstance(params, dict):
        raise FairDeskError("The parameters file must hold one object: {GROUP: {\"t0\": …, "
                            "\"t1\": …, \"p\": …}, …}.")
    out = {}
    unknown = [k for k in params if k not in data.group_names]
    if unknown:
        raise FairDeskError("The parameters name groups that are not in the data: "
                            + ", ".join(f"'{u}'" for u in unknown) + ". The groups are "
                            + ", ".join(f"'{g}'" for g in data.group_names) + ".")
    missing = [g for g in data.group_names if g not in params]
    if missing:
        raise FairDeskError("The parameters must give every group; missing: "
                            + ", ".join(f"'{m}'" for m in missing) + ".")

    def value(v, name, key):
        if v is None or (isinstance(v, str) and v.strip().lower() in ("inf", "+inf", "infinity")):
            return math.inf * data.sign
        if isinstance(v, str) and v.strip().lower() in ("-inf", "-infinity"):
            return -math.inf * data.sign
        try:
            return float(v)
        except (TypeError, ValueError):
            raise FairDeskError(f"Group '{name}': {key} = {v!r} is not a number.")

    for g, name in enumerate(data.group_names):
        item = params[name]
        if not isinstance(item, dict) or not {"t0", "t1"} <= set(item):
            raise FairDeskError(f"Group '{name}': give t0, t1 and p (p may be left out for a single "
                                "threshold, t0 = t1).")
        t0 = value(item["t0"], name, "t0") * data.sign
        t1 = value(item["t1"], name, "t1") * data.sign
        p = float(item.get("p", 1.0) if item.get("p") is not None else 1.0)
        if t0 > t1:
            raise FairDeskError(f"Group '{name}': t0 must be the looser threshold (t0 ≤ t1 in the "
                                "direction of the score).")
        if not 0.0 <= p <= 1.0:
            raise FairDeskError(f"Group '{name}': p = {p} is not a probability (0 to 1).")
        out[g] = (t0, t1, p)
    return out


def evaluate_family(data: AnalysisData, result: EOddsResult, family: str, params: dict,
                    scores: GroupScores | None = None) -> FamilyResult:
    """Expected rates, Lipschitz constants and monotonicity of given parameters (oriented,
    {group index: (t0, t1, p)}), row by row."""
    if family not in ALL_FAMILIES:
        raise FairDeskError(f"Unknown family '{family}'; choose " + ", ".join(ALL_FAMILIES) + ".")
    gs = scores if scores is not None else GroupScores.from_data(data)
    G = data.n_groups
    vals = {k: np.zeros(G) for k in ("t0", "t1", "p", "tp", "fp", "L", "gap")}
    mono = np.ones(G, dtype=bool)
    for g in range(G):
        t0, t1, p = params[g]
        if family != "fixed" and t0 != t1 and not (math.isfinite(t0) and math.isfinite(t1)):
            raise FairDeskError(f"Group '{data.group_names[g]}': a {family} curve needs finite "
                                "thresholds t0 and t1.")
        m = group_moments(gs, g)
        tp, fp = m.direct_counts(family, t0, t1, p)
        vals["t0"][g], vals["t1"][g], vals["p"][g] = t0, t1, p
        vals["tp"][g], vals["fp"][g] = tp, fp
        vals["L"][g] = lipschitz(family, t0, t1, p)
        vals["gap"][g] = max(abs(fp / m.N - result.targets[g, 0]), abs(tp / m.P - result.targets[g, 1]))
        mono[g] = is_monotone(family, p)
        if not mono[g]:
            lo, hi = MONOTONE_P[family]
            result.warnings.append(
                f"Group '{data.group_names[g]}': the {family} curve with p = {p:g} is not monotone "
                f"(it is only for {lo:g} ≤ p ≤ {hi:g}); its probabilities were clipped to [0, 1].")
    fam = FamilyResult(family, vals["t0"], vals["t1"], vals["p"], vals["tp"], vals["fp"],
                       vals["L"], mono, vals["gap"], evaluated=True)
    return fam


# ------------------------------------------------------------------------------------------
# decisions

def row_probabilities(data: AnalysisData, result: EOddsResult, family) -> np.ndarray:
    """Each row's probability of a positive decision (data row order) under ``family``: a
    family name of the result, or a :class:`FamilyResult` (e.g. evaluated parameters)."""
    fam = family if isinstance(family, FamilyResult) else result.family(family)
    if fam is None:
        raise FairDeskError(f"The {family} curves were not computed; run the search first.")
    out = np.zeros(data.n)
    s = data.oriented
    for g in range(data.n_groups):  # per group, vectorised over its rows
        m = data.group == g
        out[m] = phi(fam.family, float(fam.t0[g]), float(fam.t1[g]), float(fam.p[g]), s[m])
    return out


def eodds_scenario(res: "EOddsResult", data: AnalysisData, family: str, name: str = ""):
    """Family ``family``'s per-group parameters as a Decision-table scenario (kind
    "probabilities", evaluated by :func:`scenario_probabilities`), in the score's units;
    None when the family was not computed."""
    from ..scenarios import Scenario

    fam = res.family(family)
    if fam is None:
        return None
    params = {}
    for g, group in enumerate(data.group_names):
        t0, t1 = float(fam.t0[g]) * data.sign, float(fam.t1[g]) * data.sign
        if data.sign < 0:
            t0, t1 = t1, t0
        params[group] = {"t0": t0 if np.isfinite(t0) else None,
                         "t1": t1 if np.isfinite(t1) else None, "p": float(fam.p[g])}
    return Scenario(name or f"Equalized odds ({family})", "probabilities",
                    {"engine": "fairdesk.engines.equalized_odds:scenario_probabilities",
                     "settings": {"family": family, "params": params}},
                    {"engine": "ROC & equalized odds", "settings": res.settings.to_dict()})


def scenario_probabilities(data: AnalysisData, settings: dict):
    """Decision-table hook (fairdesk.scenarios, kind "probabilities"): settings
    ``{"family": name, "params": {GROUP: {"t0", "t1", "p"}}}`` in the score's own units.
    Returns (probability per row, tier per row: 0 below t0, 1 between, 2 at or above t1, 3)."""
    params = parse_params(settings["params"], data)
    family = settings.get("family", "fixed")
    out = np.zeros(data.n)
    tier = np.zeros(data.n, dtype=np.int64)
    s = data.oriented
    for g in range(data.n_groups):  # per group, vectorised over its rows
        m = data.group == g
        t0, t1, p = params[g]
        out[m] = phi(family, t0, t1, p, s[m])
        tier[m] = (s[m] >= t0).astype(np.int64) + (s[m] >= t1)
    return np.clip(out, 0.0, 1.0), tier, 3


def realize_decisions(probabilities, seed: int) -> np.ndarray:
    """0/1 decisions drawn with the given probabilities from ``seed`` (numpy SeedSequence):
    the same seed and probabilities give the same decisions."""
    rng = np.random.default_rng(np.random.SeedSequence(int(seed)))
    u = rng.random(np.asarray(probabilities).shape[0])
    return (u < np.asarray(probabilities, dtype=float)).astype(np.int8)
