"""Optimal transport onto a reference group: scores (one dimension) and features (several).

Berk, Kuchibhotla & Tchetgen Tchetgen, "Improving Fairness in Criminal Justice Algorithmic
Risk Assessments Using Optimal Transport and Conformal Prediction Sets" (2021). Members of a
less privileged group are treated as if they were members of a more privileged (reference)
group: the tool is built on the reference group, and the other group's predictors are
transported onto the reference group's distribution.

**Score transport.** In one dimension the optimal transport map for any convex cost is the
monotone quantile–quantile map T = Q_ref ∘ F_g. Group g's rows are sorted by score; a row
(or a block of tied scores) sits at the middle of its share of the group's weight,
u = (weight below + half its own weight) / group weight, and goes to the reference group's
weighted quantile Q_ref(u) (inverted CDF: the smallest reference score whose cumulative
share reaches u). The map is stored as knots (each distinct fitted score → its transported
value) and is linear between knots and constant beyond them, so scores not seen when it was
fitted — new rows — can be mapped too. It never reverses the order of two scores of a group.
The reference group maps onto itself.

After transport the selection rate of group g at any threshold is the reference group's up
to half the largest single share of g (prediction parity). Tied scores move together by
default (``ties="together"``: equal scores stay equal); with many ties (decile scores) the
transported distribution then keeps g's atoms and parity holds only between them. With
``ties="random"`` ties are broken by a seeded random order first, as the optimal coupling
splits an atom, and parity holds at every threshold. The result reports the largest gap in
selection rate over all thresholds, before and after.

**Feature transport** (the paper's Algorithm 2): for numeric features X, exact discrete
optimal transport with squared Euclidean cost between random equal-size batches of group g
and of the reference group is an assignment problem (``scipy.optimize.linear_sum_assignment``).
Each round splits g's rows at random into batches (so each row is in one batch per round),
draws a reference batch of the same size for each, and matches them; a row's transported
features are the average of the reference rows it was matched to over the rounds. The map is
then extended to any row — including rows never drawn and new rows — by a nearest-neighbour
regression (k nearest matched rows in the original feature space, ``scipy.spatial.cKDTree``,
averaged). The default k = 1 keeps a matched row's own average (and gives rows with the same
features the same transported features); a larger k smooths the map, which on Gaussian test
data brings it slightly closer to the exact map but shrinks the spread of the transported
features (about 14% at k = 5, 4% at k = 1 with three rounds), and the point of transport is
that the transported features are distributed as the reference group's. By default the cost uses the raw features, as the paper does; ``standardize=True``
divides each feature by its standard deviation over all rows first, so that a feature
measured in large units does not dominate. Frequency weights: batches are drawn with
probabilities proportional to the weights (with replacement) when the data are weighted.

Every random step takes a seed (numpy SeedSequence, one child per group and round), and the
batches of a round are drawn before any is solved, so the result does not depend on the
number of threads that solve them. All score work is in the user's units; selection uses
the oriented score (a score equal to the threshold is flagged). No Qt here.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from ..dataset import AnalysisData
from ..errors import FairDeskError
from ..jobs import NO_JOB, Job
from ..metrics.confusion import GroupScores, group_score_order
from ..metrics.rates import compute_rates, undefined_reason

TIES = ("together", "random")
CURVE_POINTS = 201
RATE_KEYS = ("selection_rate", "tpr", "fpr", "fnr", "ppv", "accuracy", "cost_ratio")
_TOL = 1 - 1e-12  # as in weighted_quantile: an exact share lands on the lower score


# ==========================================================================================
# score transport

@dataclass
class ScoreMap:
    """The monotone map of each group's scores onto the reference group's (user units)."""

    group_names: list[str]
    reference: int
    knots_x: list[np.ndarray]  # per group: distinct fitted scores, ascending
    knots_y: list[np.ndarray]  # per group: their transported values, non-decreasing
    ties: str = "together"

    def transform(self, score, group) -> np.ndarray:
        """Transported scores of any rows (``group``: codes into ``group_names``)."""
        score = np.asarray(score, dtype=float)
        group = np.asarray(group)
        out = np.empty(score.shape, dtype=float)
        for g in range(len(self.group_names)):  # loop over groups, never rows
            m = group == g
            if not m.any():
                continue
            if g == self.reference or self.knots_x[g].size == 0:
                out[m] = score[m]
            else:
                out[m] = np.interp(score[m], self.knots_x[g], self.knots_y[g])
        return out

    def to_json(self, max_knots: int = 101) -> dict:
        out = {}
        for g, name in enumerate(self.group_names):
            x, y = self.knots_x[g], self.knots_y[g]
            if x.size > max_knots:
                i = np.unique(np.linspace(0, x.size - 1, max_knots).round().astype(int))
                x, y = x[i], y[i]
            out[name] = {"score": x.tolist(), "transported": y.tolist()}
        return out


def _reference_quantile(ref_sorted: np.ndarray, ref_cum):
    """Q_ref(u): the smallest reference score whose cumulative share reaches u. ``ref_cum``
    None: every reference weight is 1, so the running weights are 1, 2, …, m and the binary
    search is arithmetic: the number of them below v is ceil(v) − 1, clipped to [0, m]."""
    m = ref_sorted.size
    unit = ref_cum is None
    total = float(m) if unit else ref_cum[-1]

    def q(u):
        v = np.asarray(u) * total * _TOL
        if unit:
            idx = np.clip(np.ceil(v) - 1, 0, m).astype(np.int64)
        else:
            idx = np.searchsorted(ref_cum, v, side="left")
        return ref_sorted[np.minimum(idx, m - 1)]
    return q


def fit_score_map(score, group, n_groups: int, reference: int, weight=None, *,
                  ties: str = "together", seed=0, fit_mask=None,
                  group_names=None) -> tuple[ScoreMap, np.ndarray]:
    """Fit the quantile–quantile maps; return the map and every row's transported score.

    ``fit_mask`` (optional) selects the rows the maps are fitted on; the other rows are
    mapped by interpolation. ``seed`` (an int or SeedSequence) orders ties when
    ``ties="random"``.
    """
    if ties not in TIES:
        raise FairDeskError(f"ties must be one of {', '.join(TIES)}, not '{ties}'.")
    score = np.asarray(score, dtype=float)
    group = np.asarray(group)
    n = score.size
    w = np.ones(n) if weight is None else np.asarray(weight, dtype=float)
    names = list(group_names) if group_names is not None else [str(g) for g in range(n_groups)]
    fit = (w > 0) if fit_mask is None else (np.asarray(fit_mask, dtype=bool) & (w > 0))
    all_rows = bool(fit.all())
    rng = None
    if ties == "random":
        ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        rng = np.random.default_rng(ss)
    # each group's fitted rows sorted by score (one sort per group), and the running weight
    # in that (group, score) order; every row's transported score is written straight back
    unit = bool(np.all(w == 1))
    # per group: sorted rows, their scores, their weights and running weights (both None
    # for unit weights: the running weights are then 1, 2, …), their total weight
    parts = []
    carry = 0.0  # running weight of the groups before: the sums are those of one pass in order
    for g in range(n_groups):
        idx = np.flatnonzero((group == g) & fit) if not all_rows else np.flatnonzero(group == g)
        sg = score[idx]
        o = np.argsort(sg)
        s_g = sg[o]
        if rng is not None:  # a random order within each block of equal scores
            key = rng.random(idx.size)  # drawn for every row: the stream does not depend on ties
            change = s_g[1:] != s_g[:-1]
            tied = np.zeros(idx.size, dtype=bool)
            tied[1:] = ~change
            tied[:-1] |= ~change
            at = np.flatnonzero(tied)
            if at.size:
                # block + [0, 1): blocks stay in order; a row alone in its block stays put, so
                # only the tied rows are sorted
                block = np.cumsum(np.r_[False, change])
                o[at] = o[at[np.argsort(block[at] + key[at])]]
                s_g = sg[o]
        rows_g = idx[o]
        if unit and carry + idx.size < 2 ** 53:  # the running sums are whole numbers
            w_g = cg = None
            total = float(idx.size)
            carry += idx.size
        else:
            w_g = np.ones(idx.size) if unit else w[rows_g]
            run = np.cumsum(np.concatenate(([carry], w_g)))[1:]
            cg = run - carry if carry else run
            carry = float(run[-1]) if run.size else carry
            total = cg[-1] if cg.size else 0.0
        parts.append((rows_g, s_g, w_g, cg, total))
    if parts[reference][0].size == 0:
        raise FairDeskError(f"The reference group '{names[reference]}' has no rows with a "
                            "positive weight to transport onto.")
    q = _reference_quantile(parts[reference][1], parts[reference][3])
    out = np.empty(n) if all_rows else None
    fitted_parts = []
    knots_x, knots_y = [], []
    for g, (rows_g, sg, wg, cg, total) in enumerate(parts):
        if rows_g.size == 0:
            knots_x.append(np.zeros(0))
            knots_y.append(np.zeros(0))
            continue
        first = np.flatnonzero(np.r_[True, sg[1:] != sg[:-1]])
        last = np.r_[first[1:], sg.size] - 1
        if cg is None:  # unit weights: the weight below row i is i, up to its end i + 1
            below, upto = first.astype(float), (last + 1).astype(float)
        else:
            below, upto = np.where(first > 0, cg[np.maximum(first - 1, 0)], 0.0), cg[last]
        block_mid = (below + upto) / 2 / total  # middle of each tied block's share
        kx = sg[first]
        if g == reference:
            ky = kx.copy()
            fitted = sg
        else:
            ky = q(block_mid)
            if ties == "random":
                if cg is None:
                    fitted = q((np.arange(1.0, sg.size + 1.0) - 0.5) / total)
                else:
                    fitted = q((cg - wg / 2) / total)
            else:
                fitted = np.repeat(ky, last - first + 1)
        if out is not None:
            out[rows_g] = fitted
        else:
            fitted_parts.append((rows_g, fitted))
        knots_x.append(kx)
        knots_y.append(ky)
    smap = ScoreMap(names, reference, knots_x, knots_y, ties)
    if out is None:
        out = smap.transform(score, group)  # rows not fitted: interpolated
        for rows_g, fitted in fitted_parts:
            out[rows_g] = fitted
    return smap, out


def selection_gap(values, weight, ref_values, ref_weight, *, assume_sorted: bool = False) -> float:
    """Largest |selection rate − reference selection rate| over all thresholds (the
    Kolmogorov distance between the two weighted distributions). Both step functions
    change only at the data, so it is the largest difference at their distinct values."""
    a = np.asarray(values, dtype=float)
    b = np.asarray(ref_values, dtype=float)
    if a.size == 0 or b.size == 0:
        return math.nan
    wa = np.ones(a.size) if weight is None else np.asarray(weight, dtype=float)
    wb = np.ones(b.size) if ref_weight is None else np.asarray(ref_weight, dtype=float)
    if not assume_sorted:
        oa, ob = np.argsort(a, kind="stable"), np.argsort(b, kind="stable")
        a, wa, b, wb = a[oa], wa[oa], b[ob], wb[ob]
    ca = np.concatenate(([0.0], np.cumsum(wa)))
    cb = np.concatenate(([0.0], np.cumsum(wb)))
    if ca[-1] <= 0 or cb[-1] <= 0:
        return math.nan
    # at each distinct value of either: its own share at or below is read at the end of its
    # run; the other's by a binary search of the (sorted) values
    ia = np.flatnonzero(np.r_[a[1:] != a[:-1], True]) + 1
    ib = np.flatnonzero(np.r_[b[1:] != b[:-1], True]) + 1
    va, vb = a[ia - 1], b[ib - 1]
    at_a = ca[ia] / ca[-1] - cb[np.searchsorted(b, va, side="right")] / cb[-1]
    at_b = ca[np.searchsorted(a, vb, side="right")] / ca[-1] - cb[ib] / cb[-1]
    return float(np.max(np.abs(np.concatenate([at_a, at_b]))))


def group_order(values, group, n_groups: int) -> np.ndarray:
    """Row positions sorted by group, then value, ties in row order (``np.lexsort((values,
    group))``; GroupScores sorts the same way)."""
    return group_score_order(np.asarray(values, dtype=float), np.asarray(group), n_groups)


def histogram_overlap(a, wa, b, wb, edges) -> float:
    """Overlap of two weighted histograms on shared bins: Σ min(share_a, share_b) (1 = the
    same distribution on these bins, 0 = no common bin)."""
    ha, _ = np.histogram(a, bins=edges, weights=wa)
    hb, _ = np.histogram(b, bins=edges, weights=wb)
    if ha.sum() <= 0 or hb.sum() <= 0:
        return math.nan
    return float(np.minimum(ha / ha.sum(), hb / hb.sum()).sum())


# ==========================================================================================
# the whole score analysis: transport, selection and error rates, conformal, Berk tables

@dataclass
class TransportSettings:
    reference: str | None = None  # group name; None = the largest group (by weight)
    threshold: float | None = None  # user units; None = 0.5 for probabilities, else the mean
    ties: str = "together"
    fit_on: str = "all"  # "all" rows, or "train" (the split's training rows) for the maps
    alpha: float = 0.1
    probability: str = "auto"  # auto | score | logistic | isotonic
    split_values: dict = field(default_factory=lambda: {
        "train": ["train", "training", "fit"],
        "calibration": ["calibration", "calib", "cal", "validation", "valid", "val"],
        "test": ["test", "testing", "holdout", "eval", "evaluation"]})
    split_proportions: tuple | None = None  # (train, calibration, test); None = by method
    seed: int = 0
    target_cost_ratio: float = 8.0

    def to_dict(self) -> dict:
        return {"reference": self.reference, "threshold": self.threshold, "ties": self.ties,
                "fit_on": self.fit_on, "alpha": self.alpha, "probability": self.probability,
                "split_values": {k: list(v) for k, v in self.split_values.items()},
                "split_proportions": None if self.split_proportions is None
                else list(self.split_proportions),
                "seed": self.seed, "target_cost_ratio": self.target_cost_ratio}

    @classmethod
    def from_dict(cls, d: dict) -> "TransportSettings":
        s = cls()
        for k, v in (d or {}).items():
            if hasattr(s, k):
                if k == "split_proportions" and v is not None:
                    v = tuple(v)
                if k == "split_values" and v is not None:
                    v = {name: list(v.get(name, ())) for name in ("train", "calibration", "test")}
                setattr(s, k, v)
        return s


def reference_index(data: AnalysisData, reference: str | None) -> int:
    if reference is None:
        weight = np.bincount(data.group, weights=data.weight, minlength=data.n_groups)
        return int(np.argmax(weight))
    if reference not in data.group_names:
        raise FairDeskError(f"'{reference}' is not a group; the groups are "
                            + ", ".join(f"'{g}'" for g in data.group_names)
                            + ". Choose one of them as the reference group.")
    return data.group_names.index(reference)


@dataclass
class TransportResult:
    settings: TransportSettings
    group_names: list[str]
    reference: int
    threshold: float  # user units
    threshold_note: str
    score_map: ScoreMap
    transported: np.ndarray  # user units, one per row
    gap_before: np.ndarray  # (G,) largest selection-rate gap over all thresholds
    gap_after: np.ndarray
    rates_before: dict  # key -> (G,)
    rates_after: dict
    counts_before: object  # Counts at the threshold
    counts_after: object
    has_label: bool
    conformal: object | None = None  # ConformalResult
    tables_before: object | None = None  # ConfusionTables at the threshold
    tables_after: object | None = None
    cost_ratio: object | None = None  # CostRatioThreshold on the reference group
    tables_cost_before: object | None = None  # ConfusionTables at the cost-ratio threshold
    tables_cost_after: object | None = None
    seeds: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    sign: float = 1.0
    # selection rate at a grid of thresholds (user units): x (m,), before/after (G, m)
    selection_curve: tuple | None = None

    @property
    def reference_name(self) -> str:
        return self.group_names[self.reference]

    def to_json(self) -> dict:
        warnings = list(self.warnings)
        names = self.group_names

        def num(x, reason=None):
            x = float(x)
            if math.isnan(x):
                if reason and reason not in warnings:
                    warnings.append(reason)
                return None
            return x

        sel = {}
        for g, name in enumerate(names):
            sel[name] = {
                "before": num(self.rates_before["selection_rate"][g],
                              f"selection rate of '{name}' is 0/0: the group has no weight"),
                "after": num(self.rates_after["selection_rate"][g],
                             f"selection rate of '{name}' is 0/0: the group has no weight")}
        out = {"reference": self.reference_name, "threshold": self.threshold,
               "selection_rate": sel,
               "max_selection_gap": {name: {"before": num(self.gap_before[g]),
                                            "after": num(self.gap_after[g])}
                                     for g, name in enumerate(names)},
               "ties": self.settings.ties, "seed": self.settings.seed}
        if self.has_label:
            rates = {}
            for g, name in enumerate(names):
                item = {}
                for when, r in (("before", self.rates_before), ("after", self.rates_after)):
                    item[when] = {k: num(r[k][g], f"{undefined_reason(k, name)} ({when} "
                                         "transport)") for k in RATE_KEYS}
                rates[name] = item
            out["error_rates"] = rates
        else:
            out["error_rates"] = None
        c = self.conformal
        if c is not None:
            out["conformal"] = {name: {"original": v["original"], "transported": v["transported"]}
                                for name, v in c.shares_json().items()}
            for g, name in enumerate(names):
                if c.n_eval[g] == 0:
                    msg = f"prediction-set shares of '{name}' are 0/0: the group has no test rows"
                    if msg not in warnings:
                        warnings.append(msg)
            out["coverage"] = {"value": num(c.coverage["value"]), "low": num(c.coverage["low"]),
                               "high": num(c.coverage["high"]), "target": 1 - c.alpha,
                               "n": c.coverage["n"], "group": self.reference_name}
            out["conformal_details"] = {
                "alpha": c.alpha, "level": c.level if math.isfinite(c.level) else None,
                "qhat": c.qhat if math.isfinite(c.qhat) else None, "probability": c.method,
                "calibration": c.calibrator.describe(), "splits": c.split_notes,
                "rows_per_split": {name: dict(zip(("train", "calibration", "test"),
                                                  map(int, c.n_split[g])))
                                   for g, name in enumerate(names)},
                "coverage_by_group": {
                    key: {name: {"value": num(arr[g, 0]), "low": num(arr[g, 1]),
                                 "high": num(arr[g, 2])} for g, name in enumerate(names)}
                    for key, arr in c.coverage_by_group.items()}}
        else:
            out["conformal"] = None
            out["coverage"] = None
        if self.tables_before is not None:
            out["confusion"] = {"threshold": self.threshold,
                                "original": self.tables_before.to_json(),
                                "transported": self.tables_after.to_json()}
        else:
            out["confusion"] = None
        cr = self.cost_ratio
        if cr is not None:
            thr = None if math.isnan(cr.threshold) else cr.threshold * self.sign
            out["cost_ratio_threshold"] = {
                "target": cr.target, "threshold": thr, "achieved": num(cr.achieved),
                "fp": num(cr.fp), "fn": num(cr.fn), "group": self.reference_name,
                "original": self.tables_cost_before.to_json() if self.tables_cost_before else None,
                "transported": self.tables_cost_after.to_json() if self.tables_cost_after else None}
            if thr is None:
                warnings.append(f"No threshold gives '{self.reference_name}' both false positives "
                                "and false negatives, so no cost ratio can be targeted.")
        else:
            out["cost_ratio_threshold"] = None
        out["warnings"] = warnings
        return out


def run_transport(data: AnalysisData, settings: TransportSettings | None = None, *,
                  job: Job = NO_JOB) -> TransportResult:
    """Transport every group's scores onto the reference group's and judge the result."""
    from ..audit import default_threshold
    from .confusion_tables import confusion_tables, cost_ratio_threshold
    from .conformal import run_conformal, split_from_column, TRAIN

    settings = settings or TransportSettings()
    ref = reference_index(data, settings.reference)
    names = list(data.group_names)
    warnings: list[str] = []
    if settings.threshold is None:
        threshold, note = default_threshold(data)
    else:
        threshold, note = float(settings.threshold), ""
        if not math.isfinite(threshold):
            raise FairDeskError("The threshold must be a finite number.")
    root = np.random.SeedSequence(int(settings.seed))
    ss_ties, ss_split = root.spawn(2)
    job.progress(0.05, "Transporting the scores")
    fit_mask = None
    if settings.fit_on == "train":
        if data.split is None:
            raise FairDeskError("Fitting the transport on the training split needs a split "
                                "column: map one on the Data page, or fit on all rows.")
        codes = split_from_column(data.split, data.row_numbers, data.mapping.split or "split",
                                  settings.split_values)
        fit_mask = codes == TRAIN
    elif settings.fit_on != "all":
        raise FairDeskError("fit_on must be 'all' or 'train'.")
    smap, transported = fit_score_map(data.score, data.group, data.n_groups, ref, data.weight,
                                      ties=settings.ties, seed=ss_ties, fit_mask=fit_mask,
                                      group_names=names)
    job.progress(0.3, "Selection and error rates before and after")
    sign = data.sign
    oriented_after = sign * transported
    # each sorted by group, then score, ties in row order (group_order)
    gs_before = GroupScores(data.oriented, data.label, data.group, data.n_groups, data.weight)
    gs_after = GroupScores(oriented_after, data.label, data.group, data.n_groups, data.weight)
    t_or = float(threshold * sign)
    c_before = gs_before.counts(np.array([t_or]), shared=True)
    c_after = gs_after.counts(np.array([t_or]), shared=True)
    rb = {k: v[:, 0] for k, v in compute_rates(c_before).items()}
    ra = {k: v[:, 0] for k, v in compute_rates(c_after).items()}
    gap_b = np.full(data.n_groups, np.nan)
    gap_a = np.full(data.n_groups, np.nan)
    rs, re_ = gs_before.start[ref], gs_before.end[ref]
    ref_vals, ref_w = gs_before.sorted_score[rs:re_], gs_before.sorted_weight[rs:re_]
    for g in range(data.n_groups):
        if g == ref:  # the reference maps onto itself
            gap_b[g] = gap_a[g] = 0.0 if re_ > rs else np.nan
            continue
        for gs, gap in ((gs_before, gap_b), (gs_after, gap_a)):
            s0, e0 = gs.start[g], gs.end[g]
            gap[g] = selection_gap(gs.sorted_score[s0:e0], gs.sorted_weight[s0:e0], ref_vals,
                                   ref_w, assume_sorted=True)
    for g, name in enumerate(names):
        if g != ref and gap_a[g] > 0.02:
            nd = smap.knots_x[g].size
            warnings.append(
                f"After transport the selection rate of '{name}' still differs from "
                f"'{names[ref]}' by up to {gap_a[g]:.1%} at some threshold"
                + (f": its {nd} distinct scores move together (ties); choose random tie-breaking "
                   "for exact parity at every threshold." if settings.ties == "together"
                   else "."))
    lo, hi = float(np.min(data.score)), float(np.max(data.score))
    grid = np.linspace(lo, hi if hi > lo else lo + 1.0, CURVE_POINTS)
    curve = (grid, compute_rates(gs_before.counts(grid * sign, shared=True))["selection_rate"],
             compute_rates(gs_after.counts(grid * sign, shared=True))["selection_rate"])
    result = TransportResult(
        selection_curve=curve, settings=settings, group_names=names, reference=ref, threshold=threshold,
        threshold_note=note, score_map=smap, transported=transported, gap_before=gap_b,
        gap_after=gap_a, rates_before=rb, rates_after=ra, counts_before=c_before,
        counts_after=c_after, has_label=data.label is not None,
        seeds={"transport": int(settings.seed)}, warnings=warnings, sign=sign)
    if note:
        warnings.append(note)
    if data.label is None:
        warnings.append("No outcome (label) column is mapped: only the selection rates and the "
                        "transported scores are computed. Conformal prediction sets, error rates "
                        "and confusion tables need the observed outcome.")
        job.progress(1.0, "Done")
        return result
    job.progress(0.5, "Conformal prediction sets")
    result.conformal = run_conformal(
        data, sign * transported, ref, alpha=settings.alpha, probability=settings.probability,
        split_values=settings.split_values, proportions=settings.split_proportions,
        rng=np.random.default_rng(ss_split), job=job)
    warnings.extend(result.conformal.warnings)
    job.progress(0.85, "Confusion tables")
    result.tables_before = confusion_tables(gs_before, t_or, names)
    result.tables_after = confusion_tables(gs_after, t_or, names)
    m = data.group == ref
    cr = cost_ratio_threshold(data.oriented[m], data.label[m], data.weight[m],
                              float(settings.target_cost_ratio))
    result.cost_ratio = cr
    if not math.isnan(cr.threshold):
        result.tables_cost_before = confusion_tables(gs_before, cr.threshold, names)
        result.tables_cost_after = confusion_tables(gs_after, cr.threshold, names)
    job.progress(1.0, "Done")
    return result


# ==========================================================================================
# feature transport (Algorithm 2)

@dataclass
class FeatureSettings:
    features: tuple = ()
    reference: str | None = None
    batch_size: int = 2000
    rounds: int = 3
    neighbours: int = 1
    standardize: bool = False
    seed: int = 0
    workers: int | None = None  # threads solving batches; None = one per core

    def to_dict(self) -> dict:
        return {"features": list(self.features), "reference": self.reference,
                "batch_size": self.batch_size, "rounds": self.rounds,
                "neighbours": self.neighbours, "standardize": self.standardize,
                "seed": self.seed}

    @classmethod
    def from_dict(cls, d: dict) -> "FeatureSettings":
        s = cls()
        for k, v in (d or {}).items():
            if hasattr(s, k):
                setattr(s, k, tuple(v) if k == "features" else v)
        return s


def feature_matrix(data: AnalysisData, features) -> np.ndarray:
    """The extras named ``features`` as a float matrix (n, d); a FairDeskError names any
    column that is not numeric and the rows with a missing or infinite value."""
    import pandas as pd

    from ..validation import rows_text

    if not features:
        raise FairDeskError("Choose at least one feature: numeric columns mapped as “Extra "
                            "attribute” on the Data page.")
    cols = []
    for name in features:
        if name not in data.extras:
            raise FairDeskError(f"Column '{name}' is not mapped as an extra attribute. Map it as "
                                "“Extra attribute” on the Data page to use it as a feature.")
        raw = pd.Series(data.extras[name])
        if pd.api.types.is_bool_dtype(raw):
            raw = raw.astype(float)
        x = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        missing = raw.isna().to_numpy()
        text = np.isnan(x) & ~missing
        if text.sum() > 0.5 * max(1, (~missing).sum()):
            example = raw[text].astype(str).iloc[0]
            raise FairDeskError(f"Column '{name}' is not numeric (e.g. '{example}'): only numeric "
                                "columns can be transported. Choose other features.")
        bad = ~np.isfinite(x)
        if bad.any():
            rows = data.row_numbers[np.flatnonzero(bad)[:5]]
            raise FairDeskError(f"Column '{name}': {int(bad.sum()):,} row(s) have no number "
                                f"(missing, text or infinite; {rows_text(rows, int(bad.sum()))}). "
                                "Fill these cells, or leave this feature out.")
        cols.append(x)
    return np.column_stack(cols)


def batch_assignment(xs: np.ndarray, xr: np.ndarray) -> tuple[np.ndarray, float]:
    """Exact optimal transport between two equal-size point clouds with uniform weights and
    squared Euclidean cost: the assignment ``col`` (row i of ``xs`` → row col[i] of ``xr``)
    and its total cost Σ‖xs_i − xr_col[i]‖²."""
    from scipy.optimize import linear_sum_assignment

    xs = np.asarray(xs, dtype=float)
    xr = np.asarray(xr, dtype=float)
    if xs.shape != xr.shape:
        raise ValueError("batches must have the same shape")
    cost = (xs * xs).sum(1)[:, None] + (xr * xr).sum(1)[None, :] - 2.0 * xs @ xr.T
    np.maximum(cost, 0.0, out=cost)
    rows, col = linear_sum_assignment(cost)
    total = float(((xs - xr[col]) ** 2).sum())
    return col, total


@dataclass
class FeatureResult:
    settings: FeatureSettings
    features: list[str]
    group_names: list[str]
    reference: int
    original: np.ndarray  # (n, d), user units
    transported: np.ndarray  # (n, d)
    scale: np.ndarray  # (d,) divisor used in the cost (ones when not standardized)
    batches: dict  # group -> number of batches solved
    batch_cost: dict  # group -> mean squared distance per matched pair, per batch (list)
    matched_rows: dict  # group -> rows that were in at least one batch
    warnings: list[str] = field(default_factory=list)

    @property
    def reference_name(self) -> str:
        return self.group_names[self.reference]

    def to_json(self) -> dict:
        return {"features": self.features, "reference": self.reference_name,
                "settings": self.settings.to_dict(),
                "standardized": bool(self.settings.standardize),
                "batches": {k: int(v) for k, v in self.batches.items()},
                "mean_batch_cost": {k: (float(np.mean(v)) if len(v) else None)
                                    for k, v in self.batch_cost.items()},
                "warnings": list(self.warnings)}


def weighted_stats(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted mean (d,), SD (d,) and correlation matrix (d, d) of the rows of x; NaN where a
    feature is constant (its correlations are 0/0)."""
    d = x.shape[1]
    if x.shape[0] == 0 or w.sum() <= 0:
        return np.full(d, np.nan), np.full(d, np.nan), np.full((d, d), np.nan)
    mean = np.average(x, axis=0, weights=w)
    xc = x - mean
    cov = (xc * w[:, None]).T @ xc / w.sum()
    sd = np.sqrt(np.maximum(np.diag(cov), 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = cov / np.outer(sd, sd)
    corr[np.outer(sd, sd) <= 0] = np.nan
    np.fill_diagonal(corr, np.where(sd > 0, 1.0, np.nan))
    return mean, sd, np.clip(corr, -1.0, 1.0)


def run_feature_transport(data: AnalysisData, settings: FeatureSettings, *,
                          job: Job = NO_JOB) -> FeatureResult:
    """Algorithm 2 for every non-reference group (see the module docstring)."""
    from scipy.spatial import cKDTree

    X = feature_matrix(data, list(settings.features))
    ref = reference_index(data, settings.reference)
    names = list(data.group_names)
    m_req = int(settings.batch_size)
    rounds = int(settings.rounds)
    k = int(settings.neighbours)
    if m_req < 1 or rounds < 1 or k < 1:
        raise FairDeskError("Batch size, rounds and neighbours must each be at least 1.")
    w = data.weight
    weighted = bool(np.any(w != w[0])) if w.size else False
    warnings = []
    if settings.standardize:
        _, sd, _ = weighted_stats(X, w)
        scale = np.where(sd > 0, sd, 1.0)
        for j in np.flatnonzero(~(sd > 0)):
            warnings.append(f"Feature '{settings.features[j]}' is constant; it is not rescaled.")
    else:
        scale = np.ones(X.shape[1])
    Z = X / scale
    for j, name in enumerate(settings.features):
        if np.unique(X[:, j]).size <= 2:
            warnings.append(f"Feature '{name}' has two values: its transported values are "
                            "averages of matched reference rows and can lie between them "
                            "(e.g. 0.4); round them if the agency's model needs 0 or 1.")
    ref_rows = np.flatnonzero((data.group == ref) & (w > 0))
    if ref_rows.size == 0:
        raise FairDeskError(f"The reference group '{names[ref]}' has no rows to transport onto.")
    out = X.copy()
    G = data.n_groups
    seeds = np.random.SeedSequence(int(settings.seed)).spawn(G)
    # draw every batch first (deterministic), then solve them in threads
    plans = []  # (group, src_rows, ref_rows)
    for g in range(G):
        if g == ref:
            continue
        src = np.flatnonzero((data.group == g) & (w > 0))
        if src.size == 0:
            continue
        m = min(m_req, src.size, ref_rows.size)
        n_batches = math.ceil(src.size / m)
        p_src = w[src] / w[src].sum() if weighted else None
        p_ref = w[ref_rows] / w[ref_rows].sum() if weighted else None
        for rs in seeds[g].spawn(rounds):
            rng = np.random.default_rng(rs)
            drawn = rng.choice(src, size=src.size, replace=True, p=p_src) if weighted \
                else rng.permutation(src)
            for chunk in np.array_split(drawn, n_batches):
                if weighted:
                    partner = rng.choice(ref_rows, size=chunk.size, replace=True, p=p_ref)
                else:
                    partner = rng.choice(ref_rows, size=chunk.size, replace=False)
                plans.append((g, chunk, partner))
    total = len(plans)
    results: list = [None] * total
    workers = settings.workers or os.cpu_count() or 1
    job.progress(0.02, f"Solving {total:,} assignment problems")

    def solve(i):
        g, chunk, partner = plans[i]
        col, cost = batch_assignment(Z[chunk], Z[partner])
        return partner[col], cost / chunk.size

    done = 0
    if workers > 1 and total > 1:
        with ThreadPoolExecutor(max_workers=min(workers, total)) as pool:
            futures = {pool.submit(solve, i): i for i in range(total)}
            try:
                from concurrent.futures import as_completed
                for f in as_completed(futures):
                    results[futures[f]] = f.result()
                    done += 1
                    job.progress(0.02 + 0.8 * done / total,
                                 f"Assignment problem {done:,} of {total:,}")
            except BaseException:
                for f in futures:
                    f.cancel()
                raise
    else:
        for i in range(total):
            results[i] = solve(i)
            job.progress(0.02 + 0.8 * (i + 1) / total, f"Assignment problem {i + 1:,} of {total:,}")
    batches, batch_cost, matched_rows = {}, {}, {}
    for g in range(G):
        if g == ref:
            continue
        idx = [i for i, p in enumerate(plans) if p[0] == g]
        rows_g = np.flatnonzero(data.group == g)
        if not idx:
            batch_cost[names[g]] = []
            batches[names[g]] = 0
            if rows_g.size:
                warnings.append(f"Group '{names[g]}' has no rows of positive weight: its features "
                                "are not transported.")
            continue
        sums = np.zeros_like(X)
        counts = np.zeros(X.shape[0])
        for i in idx:  # fixed order: the same sums whatever the threads did
            chunk = plans[i][1]
            matched = results[i][0]
            np.add.at(sums, chunk, X[matched])
            np.add.at(counts, chunk, 1.0)
        train = np.flatnonzero(counts > 0)
        images = sums[train] / counts[train, None]
        tree = cKDTree(Z[train])
        kk = min(k, train.size)
        job.progress(0.85, f"Extending the map of '{names[g]}' to every row")
        _, nn = tree.query(Z[rows_g], k=kk, workers=min(workers, 4))
        nn = nn.reshape(rows_g.size, kk)
        out[rows_g] = images[nn].mean(axis=1)
        batches[names[g]] = len(idx)
        batch_cost[names[g]] = [results[i][1] for i in idx]
        matched_rows[names[g]] = int(train.size)
    job.progress(1.0, "Done")
    return FeatureResult(settings=settings, features=list(settings.features), group_names=names,
                         reference=ref, original=X, transported=out, scale=scale,
                         batches=batches, batch_cost=batch_cost, matched_rows=matched_rows,
                         warnings=warnings)


def scenario_probabilities(data: AnalysisData, settings: dict):
    """Decision-table hook (fairdesk.scenarios, kind "probabilities"): flag every row whose
    transported score is at or above the threshold (``settings``: TransportSettings as a
    dict, its threshold in the score's own units). Returns (0/1 per row, tier, 2)."""
    result = run_transport(data, TransportSettings.from_dict(settings))
    flagged = (result.transported * data.sign >= result.threshold * data.sign)
    return flagged.astype(float), flagged.astype(np.int64), 2
