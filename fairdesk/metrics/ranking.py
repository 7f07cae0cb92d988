"""Weight-aware AUC, cross-AUC and ROC curves per group, in O(n log n).

AUC of group g = P(score of a positive > score of a negative, both from g), ties counting
half. Cross-AUC xAUC(a, b) = P(score of a positive from group a > score of a negative from
group b), ties counting half (Kallus & Zhou 2019). All use the sorted arrays of
:class:`~fairdesk.metrics.confusion.GroupScores`: for every positive row, the negative
weight of group b strictly below and equal to its score is a binary search away.
"""

from __future__ import annotations

import numpy as np

from .confusion import GroupScores


def _neg_below_and_equal(gs: GroupScores, b: int, scores: np.ndarray):
    s, e = gs.start[b], gs.end[b]
    sl = gs.sorted_score[s:e]
    left = s + np.searchsorted(sl, scores, side="left")
    right = s + np.searchsorted(sl, scores, side="right")
    below = gs.cum_neg[left] - gs.cum_neg[s]
    equal = gs.cum_neg[right] - gs.cum_neg[left]
    return below, equal


def cross_auc(gs: GroupScores, a: int, b: int) -> float:
    """xAUC(a, b); NaN when group a has no positives or group b no negatives."""
    p_w, n_w = gs.positives[a], gs.negatives[b]
    if p_w <= 0 or n_w <= 0:
        return float("nan")
    s, e = gs.start[a], gs.end[a]
    y = gs.sorted_label[s:e]
    w = gs.sorted_weight[s:e]
    pos = (y > 0) & (w > 0)
    below, equal = _neg_below_and_equal(gs, b, gs.sorted_score[s:e][pos])
    return float(np.sum(w[pos] * (below + 0.5 * equal)) / (p_w * n_w))


def _ranks(gs: GroupScores):
    """Index of every sorted row among the distinct scores of all rows (computed once)."""
    cached = getattr(gs, "_rank_cache", None)
    if cached is None:
        n_unique, inv = gs.distinct_index()  # from the sort GroupScores made, if it did
        group_of_row = np.repeat(np.arange(gs.n_groups), gs.n_rows)
        pos = gs.sorted_label > 0  # zero weights add nothing, so the cache survives reweighting
        cached = (n_unique, inv, group_of_row, pos)
        gs._rank_cache = cached
    return cached


def xauc_matrix(gs: GroupScores) -> np.ndarray:
    """Matrix M[a, b] = xAUC(a, b); the diagonal is each group's AUC.

    For each group b, the negative weight at each distinct score is histogrammed once;
    every positive row then reads the weight below and equal to its score. O(G·n).
    """
    n_unique, inv, grp, pos = _ranks(gs)
    w_neg = gs.sorted_weight * (1.0 - gs.sorted_label)
    inv_pos, grp_pos = inv[pos], grp[pos]
    w_pos = gs.sorted_weight[pos]
    out = np.full((gs.n_groups, gs.n_groups), np.nan)
    for b in range(gs.n_groups):
        s, e = gs.start[b], gs.end[b]
        equal = np.bincount(inv[s:e], weights=w_neg[s:e], minlength=n_unique)
        below = np.concatenate(([0.0], np.cumsum(equal)[:-1]))
        num = np.bincount(grp_pos, weights=w_pos * (below[inv_pos] + 0.5 * equal[inv_pos]),
                          minlength=gs.n_groups)
        den = gs.positives * gs.negatives[b]
        with np.errstate(divide="ignore", invalid="ignore"):
            out[:, b] = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return out


def group_auc(gs: GroupScores) -> np.ndarray:
    """AUC per group (NaN where a group lacks positives or negatives)."""
    return np.array([cross_auc(gs, g, g) for g in range(gs.n_groups)])


def pooled_auc(gs: GroupScores) -> float:
    """AUC of all rows together, from the same prepared arrays (no second sort)."""
    n_unique, inv, _, pos = _ranks(gs)
    w_neg = gs.sorted_weight * (1.0 - gs.sorted_label)
    equal = np.bincount(inv, weights=w_neg, minlength=n_unique)
    below = np.concatenate(([0.0], np.cumsum(equal)[:-1]))
    P, N = gs.positives.sum(), gs.negatives.sum()
    if P <= 0 or N <= 0:
        return float("nan")
    ip = inv[pos]
    return float(np.sum(gs.sorted_weight[pos] * (below[ip] + 0.5 * equal[ip])) / (P * N))


def overall_auc(score, label, weight=None) -> float:
    """AUC of all rows together."""
    label = np.asarray(label)
    gs = GroupScores(score, label, np.zeros(label.shape[0], dtype=np.int64), 1, weight)
    return cross_auc(gs, 0, 0)


def roc_curve(gs: GroupScores, g: int):
    """ROC points of group g, from the strictest threshold to the loosest.

    Returns (fpr, tpr, thresholds): point i is the rule "score >= thresholds[i]"; the first
    point is (0, 0) at +inf. Rates are NaN-free only when the group has both outcomes.
    """
    s, e = gs.start[g], gs.end[g]
    sl = gs.sorted_score[s:e]
    if sl.size == 0:
        return np.array([0.0]), np.array([0.0]), np.array([np.inf])
    # distinct scores, descending: threshold at each distinct value
    last_of_run = np.flatnonzero(np.r_[sl[1:] != sl[:-1], True])
    first_of_run = np.r_[0, last_of_run[:-1] + 1]
    thr = sl[first_of_run][::-1]
    idx = s + first_of_run[::-1]  # rows below the threshold = sorted index of its first row
    fn = gs.cum_pos[idx] - gs.cum_pos[s]
    tn = gs.cum_neg[idx] - gs.cum_neg[s]
    P, N = gs.positives[g], gs.negatives[g]
    with np.errstate(divide="ignore", invalid="ignore"):
        tpr = (P - fn) / P if P > 0 else np.full(thr.shape, np.nan)
        fpr = (N - tn) / N if N > 0 else np.full(thr.shape, np.nan)
    return (np.r_[0.0, fpr], np.r_[0.0, tpr], np.r_[np.inf, thr])


def xroc_curve(gs: GroupScores, a: int, b: int):
    """Cross-ROC: (FPR of group b's negatives, TPR of group a's positives) as one threshold
    runs over every distinct score of both groups, strictest first."""
    sa = gs.sorted_score[gs.start[a]:gs.end[a]]
    sb = gs.sorted_score[gs.start[b]:gs.end[b]]
    thr = np.unique(np.concatenate([sa, sb]))[::-1]
    ia = gs.start[a] + np.searchsorted(sa, thr, side="left")
    ib = gs.start[b] + np.searchsorted(sb, thr, side="left")
    P, N = gs.positives[a], gs.negatives[b]
    with np.errstate(divide="ignore", invalid="ignore"):
        tpr = (P - (gs.cum_pos[ia] - gs.cum_pos[gs.start[a]])) / P
        fpr = (N - (gs.cum_neg[ib] - gs.cum_neg[gs.start[b]])) / N
    return np.r_[0.0, fpr], np.r_[0.0, tpr], np.r_[np.inf, thr]
