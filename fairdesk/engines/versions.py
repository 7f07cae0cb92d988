"""Comparing two versions of a model: two score columns on the same rows, per protected group.

**Paired AUC difference.** DeLong, DeLong & Clarke-Pearson, "Comparing the areas under two or
more correlated receiver operating characteristic curves: a nonparametric approach"
(Biometrics 44, 1988). Within a group, with P the (weighted) positives and N the negatives,
each positive i has the placement value V10(i) = share of the negatives scoring below it
(ties count one half) and each negative j has V01(j) = share of the positives scoring above
it (ties one half); the AUC is the mean of either. The paired difference of versions A and B
on the same people has the variance

    var(AUC_B − AUC_A) = S10 / P + S01 / N,

where S10 is the sample variance (denominator P − 1) of V10_B(i) − V10_A(i) over the
positives and S01 that of V01_B(j) − V01_A(j) over the negatives (the paper's structural
components, combined with the contrast (−1, 1)). The interval is the normal (Wald) interval
diff ± z·se at ``level``.

**Algorithm.** For each version the scores are sorted once (numpy's quicksort), and the rows
by group are a stable radix sort of the 16-bit group codes over that order (as in
:mod:`fairdesk.metrics.confusion`). Runs of equal (group, score) give, through cumulative
positive and negative weights, every row's weight strictly below, equal and strictly above
in its own group (the group entries) or among all rows (the "All groups" entry). Sums per
group are ``np.bincount``; there are no Python loops over rows. O(n log n).

**Weights** are frequency weights: a row counts ``weight`` times, so integer weights give
exactly the figures of the data with each row repeated (placements are weighted sums, and
the variances use the weighted counts P − 1 and N − 1). Zero weights add nothing.

**Undefined.** A group without positives or without negatives has no AUC (NaN, with the
reason). The standard error needs more than one person with each outcome (P > 1, N > 1). An
interval whose standard error is 0 (e.g. both versions separate the outcomes perfectly) is
NaN with a reason, never a zero-width range (as in :mod:`fairdesk.metrics.intervals`).
``undefined_reason`` says why any of an entry's figures is NaN. Scores must be oriented
(higher = more likely positive) and free of NaN: the caller leaves out rows missing either
score.

The threshold helpers (:func:`matched_threshold`, :func:`rates_at`, :func:`tier_transitions`)
use the convention of the rest of FairDesk: a score equal to a threshold is at or above it
(flagged, higher tier).
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from ..metrics.confusion import GroupScores
from ..metrics.intervals import LEVEL
from ..metrics.rates import compute_rates

ALL_GROUPS = "All groups"
RATES_AT_KEYS = ("selection_rate", "tpr", "fpr", "fnr", "ppv")


@dataclass
class PairedAUC:
    group: str            # a group name, or "All groups" for the pooled rows
    auc_a: float          # AUC of version A in the group (NaN if undefined)
    auc_b: float
    diff: float           # auc_b - auc_a
    lo: float             # lower end of the `level` interval for the difference
    hi: float
    se: float             # standard error of the difference
    positives: float      # people with the positive outcome (weighted)
    negatives: float
    undefined_reason: str = ""   # why NaN (e.g. "no one with the negative outcome in group X")
    level: float = LEVEL
    rows: int = 0         # rows of the group (unweighted)


def _as_scores(score, name: str) -> np.ndarray:
    s = np.asarray(score, dtype=float)
    if np.isnan(s).any():
        raise ValueError(f"{name} has missing values; leave those rows out before comparing")
    return s


def _cumsum0(x) -> np.ndarray:
    out = np.empty(x.shape[0] + 1)
    out[0] = 0.0
    np.cumsum(x, out=out[1:])
    return out


def _orders(score: np.ndarray, codes16: np.ndarray | None):
    """(rows by score, rows by group then score). Ties may be in any order: every use below
    works on runs of equal scores."""
    by_score = np.argsort(score)
    if codes16 is None:
        return by_score, None
    # a stable sort of 16-bit codes is a radix sort; stability keeps the score order within groups
    return by_score, by_score[np.argsort(codes16[by_score], kind="stable")]


def _placements(score, order, codes, n_codes, is_pos, w_pos, w_neg, P, N):
    """Each row's placement value (in row order), within the row's code (group): for a
    positive V10 = (negative weight below + half the equal) / N, for a negative
    V01 = (positive weight above + half the equal) / P. ``order`` sorts the rows by code,
    then score; ``codes`` None means one code for all. One array, since a row is one or the
    other: half the gathers and scatters of two."""
    n = order.shape[0]
    s = score[order]
    new_run = np.empty(n, dtype=bool)
    new_run[:1] = True
    np.not_equal(s[1:], s[:-1], out=new_run[1:])
    if codes is not None:
        c = codes[order]
        new_run[1:] |= c[1:] != c[:-1]
    run_start = np.flatnonzero(new_run)
    run_end = np.empty_like(run_start)
    run_end[:-1] = run_start[1:]
    run_end[-1:] = n
    run_of_row = np.cumsum(new_run) - 1
    cum_pos = _cumsum0(w_pos[order])
    cum_neg = _cumsum0(w_neg[order])
    if codes is None:
        run_code = np.zeros(run_start.size, dtype=np.int64)
        g_start, g_end = 0, n
    else:
        sizes = np.bincount(codes, minlength=n_codes)
        code_end = np.cumsum(sizes)
        run_code = c[run_start]
        g_start, g_end = (code_end - sizes)[run_code], code_end[run_code]
    neg_below = cum_neg[run_start] - cum_neg[g_start]
    pos_above = cum_pos[g_end] - cum_pos[run_end]
    with np.errstate(divide="ignore", invalid="ignore"):
        v10_run = (neg_below + 0.5 * (cum_neg[run_end] - cum_neg[run_start])) / N[run_code]
        v01_run = (pos_above + 0.5 * (cum_pos[run_end] - cum_pos[run_start])) / P[run_code]
    place = np.empty(n)
    place[order] = np.where(is_pos[order], v10_run[run_of_row], v01_run[run_of_row])
    return place


def _delong(score_a, score_b, order_a, order_b, codes, n_codes, is_pos, w_pos, w_neg, P, N):
    """(auc_a, auc_b, diff, variance of diff) per code; NaN where undefined (placements are
    NaN only in groups lacking an outcome, so they reach no other group's sums)."""
    place_a = _placements(score_a, order_a, codes, n_codes, is_pos, w_pos, w_neg, P, N)
    place_b = _placements(score_b, order_b, codes, n_codes, is_pos, w_pos, w_neg, P, N)
    if codes is None:
        def per_code(x):
            return np.array([np.sum(x)])
    else:
        def per_code(x):
            return np.bincount(codes, weights=x, minlength=n_codes)
    ok = (P > 0) & (N > 0)
    d = place_b - place_a
    with np.errstate(divide="ignore", invalid="ignore"):
        auc_a = np.where(ok, per_code(w_pos * place_a) / P, np.nan)
        auc_b = np.where(ok, per_code(w_pos * place_b) / P, np.nan)
        diff = np.where(ok, per_code(w_pos * d) / P, np.nan)
        # centred sums: the mean of V10_B - V10_A over positives and of V01_B - V01_A over
        # negatives are both the AUC difference
        d -= diff if codes is None else diff[codes]
        d *= d
        s10 = per_code(w_pos * d) / (P - 1)
        s01 = per_code(w_neg * d) / (N - 1)
        var = np.where(ok & (P > 1) & (N > 1), s10 / P + s01 / N, np.nan)
    return auc_a, auc_b, diff, var


def _reason(name: str, P: float, N: float, var: float, pooled: bool) -> str:
    where = "in any group" if pooled else f"in group '{name}'"
    if P <= 0 and N <= 0:
        return f"no one {where}"
    if N <= 0:
        return f"no one with the negative outcome {where}"
    if P <= 0:
        return f"no one with the positive outcome {where}"
    if P <= 1 or N <= 1:
        which = "positive" if P <= 1 else "negative"
        return (f"interval not estimated: the standard error needs more than one person with the "
                f"{which} outcome {where}")
    if not var > 0:
        return ("interval not estimated: the standard error is 0 (every person's placement "
                "changes by the same amount between the versions, e.g. both separate the "
                "outcomes perfectly); a zero-width range would look certain")
    return ""


def paired_auc_difference(score_a, score_b, label, group, group_names, weight=None,
                          level=LEVEL) -> list[PairedAUC]:
    """Scores oriented (higher = more likely positive). One entry per group, in group order,
    then "All groups". DeLong, DeLong & Clarke-Pearson (1988) paired variance from the
    placement values (structural components); frequency weights count each row `weight`
    times (weighted placements). Ties count one half. No Python loops over rows: sort once,
    use ranks / searchsorted / cumulative weights."""
    score_a = _as_scores(score_a, "score A")
    score_b = _as_scores(score_b, "score B")
    n = score_a.shape[0]
    if score_b.shape[0] != n:
        raise ValueError("the two score columns must have the same rows")
    names = [str(x) for x in group_names]
    n_groups = len(names)
    group = np.asarray(group)
    y = np.asarray(label) > 0
    w = np.ones(n) if weight is None else np.asarray(weight, dtype=float)
    w_pos = np.where(y, w, 0.0)
    w_neg = w - w_pos
    codes16 = group.astype(np.int16) if 0 < n_groups <= np.iinfo(np.int16).max else group
    P_g = np.bincount(group, weights=w_pos, minlength=n_groups)[:n_groups]
    N_g = np.bincount(group, weights=w_neg, minlength=n_groups)[:n_groups]
    rows_g = np.bincount(group, minlength=n_groups)[:n_groups]
    P_all, N_all = np.array([P_g.sum()]), np.array([N_g.sum()])

    if n:
        by_score_a, by_group_a = _orders(score_a, codes16)
        by_score_b, by_group_b = _orders(score_b, codes16)
        per_group = _delong(score_a, score_b, by_group_a, by_group_b, group, n_groups,
                            y, w_pos, w_neg, P_g, N_g)
        pooled = _delong(score_a, score_b, by_score_a, by_score_b, None, 1,
                         y, w_pos, w_neg, P_all, N_all)
    else:
        per_group = tuple(np.full(n_groups, np.nan) for _ in range(4))
        pooled = tuple(np.full(1, np.nan) for _ in range(4))

    z = NormalDist().inv_cdf(0.5 + level / 2)
    out = []
    entries = [(names[g], g, per_group, P_g, N_g, int(rows_g[g]), False) for g in range(n_groups)]
    entries.append((ALL_GROUPS, 0, pooled, P_all, N_all, n, True))
    for name, k, (auc_a, auc_b, diff, var), P, N, rows, is_pooled in entries:
        p, q, v = float(P[k]), float(N[k]), float(var[k])
        reason = _reason(name, p, q, v, is_pooled)
        se = float(np.sqrt(v)) if v >= 0 else float("nan")
        lo, hi = (diff[k] - z * se, diff[k] + z * se) if v > 0 else (np.nan, np.nan)
        out.append(PairedAUC(name, float(auc_a[k]), float(auc_b[k]), float(diff[k]), float(lo),
                             float(hi), se, p, q, reason, level, rows))
    return out


def matched_threshold(score_a, score_b, threshold_a, weight=None) -> float:
    """The threshold on score B whose overall (weighted) selection rate (share with
    score >= threshold) is closest to that of score A at threshold_a; among equally close
    candidates the one closest from above. Candidates are B's distinct scores (and +inf).

    "Closest from above" reads the selection rate: of two candidates equally far from A's
    rate, the one selecting at least as many people as A (the lower threshold). Candidates
    selecting the same people (zero-weight rows between them) resolve to the highest
    threshold. Closeness is compared in weighted counts, so hand-made ties are exact."""
    a = _as_scores(score_a, "score A")
    b = _as_scores(score_b, "score B")
    w = np.ones(a.shape[0]) if weight is None else np.asarray(weight, dtype=float)
    target = float(np.sum(w[a >= threshold_a]))
    order = np.argsort(b)
    sb = b[order]
    if sb.size == 0:
        return float("inf")
    # weight at or above each distinct score: suffix sums from the first row of its run
    first = np.flatnonzero(np.r_[True, sb[1:] != sb[:-1]])
    suffix = np.cumsum(w[order][::-1])[::-1]
    cand = np.r_[sb[first], np.inf]
    selected = np.r_[suffix[first], 0.0]
    gap = np.abs(selected - target)
    best = gap == gap.min()
    above = best & (selected >= target)
    pick = above if above.any() else best
    # selected falls as the threshold rises: among the picks, those selecting the fewest
    # are the highest thresholds; the largest index is the highest threshold
    fewest = pick & (selected == selected[pick].min())
    return float(cand[np.flatnonzero(fewest)[-1]])


def rates_at(score, label, group, n_groups, threshold, weight=None) -> dict[str, np.ndarray]:
    """Per-group selection_rate, tpr, fpr, fnr, ppv at `threshold` (score >= threshold
    flagged), NaN where 0/0 — reuse fairdesk.metrics.confusion.GroupScores and
    fairdesk.metrics.rates.compute_rates rather than re-implementing.

    Without labels (``label`` None) only the selection rate is defined; the others are NaN."""
    gs = GroupScores(_as_scores(score, "score"), label, np.asarray(group), n_groups, weight)
    rates = compute_rates(gs.counts(float(threshold)))
    out = {k: np.asarray(rates[k], dtype=float) for k in RATES_AT_KEYS}
    if label is None:
        for k in RATES_AT_KEYS[1:]:
            out[k] = np.full(n_groups, np.nan)
    return out


def tier_transitions(score_a, score_b, group, n_groups, thresholds_a, thresholds_b,
                     weight=None) -> np.ndarray:
    """People (weighted) by group, tier under A, tier under B: shape
    (n_groups, len(thresholds_a)+1, len(thresholds_b)+1); a score equal to a threshold goes
    to the higher tier (tier = number of thresholds at or below the score)."""
    ta = np.sort(np.asarray(thresholds_a, dtype=float).reshape(-1))
    tb = np.sort(np.asarray(thresholds_b, dtype=float).reshape(-1))
    tier_a = np.searchsorted(ta, _as_scores(score_a, "score A"), side="right")
    tier_b = np.searchsorted(tb, _as_scores(score_b, "score B"), side="right")
    ka, kb = ta.size + 1, tb.size + 1
    cell = (np.asarray(group, dtype=np.int64) * ka + tier_a) * kb + tier_b
    shape = (int(n_groups), ka, kb)
    counts = np.bincount(cell, weights=None if weight is None else np.asarray(weight, dtype=float),
                         minlength=int(np.prod(shape)))
    return counts[:int(np.prod(shape))].astype(float).reshape(shape)


def auc_intervals(score, label, codes, n_codes: int, weight=None, level=LEVEL, *,
                  order=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(AUC, low, high) per code (a group, or a period × group cell) of one oriented score:
    DeLong's variance S10/P + S01/N from the placement values, the normal interval clipped to
    [0, 1]. NaN where the AUC is undefined or the standard error cannot be estimated (more
    than one person with each outcome needed) or is 0. ``order`` (rows by code, then score,
    e.g. a GroupScores' order) saves the sort."""
    score = _as_scores(score, "the score")
    codes = np.asarray(codes, dtype=np.int64)
    y = np.asarray(label) > 0
    w = np.ones(score.shape[0]) if weight is None else np.asarray(weight, dtype=float)
    w_pos = np.where(y, w, 0.0)
    w_neg = w - w_pos
    P = np.bincount(codes, weights=w_pos, minlength=n_codes)[:n_codes]
    N = np.bincount(codes, weights=w_neg, minlength=n_codes)[:n_codes]
    nan = np.full(n_codes, np.nan)
    if score.shape[0] == 0:
        return nan, nan.copy(), nan.copy()
    if order is None:  # by code, then score: a score sort, then a stable radix sort of codes
        small = n_codes <= np.iinfo(np.int16).max
        order = _orders(score, codes.astype(np.int16) if small else codes)[1]
    place = _placements(score, order, codes, n_codes, y, w_pos, w_neg, P, N)
    ok = (P > 0) & (N > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = np.where(ok, np.bincount(codes, weights=w_pos * place, minlength=n_codes) / P,
                       np.nan)
        centred = place - auc[codes]  # V10 over positives and V01 over negatives: mean AUC
        centred *= centred
        s10 = np.bincount(codes, weights=w_pos * centred, minlength=n_codes) / (P - 1)
        s01 = np.bincount(codes, weights=w_neg * centred, minlength=n_codes) / (N - 1)
        var = np.where(ok & (P > 1) & (N > 1), s10 / P + s01 / N, np.nan)
    z = NormalDist().inv_cdf(0.5 + level / 2)
    se = np.sqrt(var)
    good = var > 0
    lo = np.where(good, np.clip(auc - z * se, 0, 1), np.nan)
    hi = np.where(good, np.clip(auc + z * se, 0, 1), np.nan)
    return auc, lo, hi
