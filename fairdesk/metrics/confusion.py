"""Per-group, weight-aware confusion counts at any threshold in O(log n).

The rows are sorted once by (group, score) and the weights of positives and negatives are
cumulated once. The counts at threshold t for group g are then two look-ups: the number of
rows scoring below t is a binary search in g's sorted slice, and the weights below it are
differences of the cumulative sums. A score equal to the threshold counts as at-or-above,
that is predicted positive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Counts:
    """Confusion counts; arrays of shape (n_groups, ...) matching the thresholds asked for.

    ``tp, fp, fn, tn`` are weighted; ``n_selected`` is the unweighted number of rows
    predicted positive, ``n`` the unweighted rows of each group.
    """

    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    tn: np.ndarray
    n_selected: np.ndarray
    n: np.ndarray

    def total(self) -> "Counts":
        """Counts summed over groups (all rows together)."""
        return Counts(*(a.sum(axis=0, keepdims=True) for a in
                        (self.tp, self.fp, self.fn, self.tn, self.n_selected, self.n)))


def group_score_order(score, group, n_groups: int) -> np.ndarray:
    """The rows by group, then by score ascending, ties in row order: the permutation of
    ``np.lexsort((score, group))``, faster. A stable sort of the scores
    (:func:`stable_score_order`), then a stable sort of the group codes as 16-bit integers (a
    radix sort); both stable, so equal (group, score) rows keep their row order, exactly as
    in lexsort."""
    return _orders(score, group, n_groups)[0]


def stable_score_order(score) -> np.ndarray:
    """``np.argsort(score, kind="stable")``, faster (see :func:`_score_order`)."""
    return _score_order(score)[0]


def _score_order(score) -> tuple[np.ndarray, np.ndarray]:
    """The stable score order, and for each sorted position after the first whether its
    score equals the one before (NaNs equal to each other, as ``np.unique`` counts them).

    numpy's default sort (vectorised quicksort) is several times faster than its stable
    merge sort on floats but leaves equal scores in any order; the runs of equal scores are
    then put back in row order with one sort of (run, row) keys over the tied rows only."""
    score = np.asarray(score)
    n = score.shape[0]
    order = np.argsort(score)
    ss = score[order]
    same = ss[1:] == ss[:-1]
    if score.dtype.kind == "f":
        nan = np.isnan(ss)
        same |= nan[1:] & nan[:-1]  # NaNs are one run (sorted last), as in a stable sort
    tied = np.zeros(n, dtype=bool)
    tied[1:] = same
    tied[:-1] |= same
    where = np.flatnonzero(tied)
    if where.size:
        # a run of tied rows starts where a row differs from the one before it
        starts = np.ones(where.size, dtype=bool)
        inner = where > 0
        starts[inner] = ~same[where[inner] - 1]
        run = np.cumsum(starts, dtype=np.int64)
        # within a run the rows in ascending row order: (run, row) keys are distinct, so an
        # unstable sort orders them exactly; runs keep their place
        key = run * np.int64(n) + order[where]
        key.sort()
        order[where] = key % n
    return order, same


def _orders(score, group, n_groups: int):
    """(rows by group then score, whether each score-sorted row ties the one before, the
    permutation from score order to group order)."""
    by_score, same = _score_order(score)
    codes = np.asarray(group)[by_score]
    if 0 < n_groups <= np.iinfo(np.int16).max:
        codes = codes.astype(np.int16)
    second = np.argsort(codes, kind="stable")
    return by_score[second], same, second


def _cumsum0(x) -> np.ndarray:
    """Running sums of ``x`` with a leading zero (one array, no concatenation)."""
    out = np.empty(x.shape[0] + 1)
    out[0] = 0.0
    np.cumsum(x, out=out[1:])
    return out


class GroupScores:
    """Scores sorted within each group, with cumulative positive/negative weights.

    ``score`` must be oriented (higher = more likely positive); ``label`` is 0/1 or None
    (then only selection counts are available); ``weight`` defaults to ones.
    """

    def __init__(self, score, label, group, n_groups: int, weight=None, order=None):
        score = np.asarray(score, dtype=float)
        group = np.asarray(group)
        n = score.shape[0]
        self.n_groups = int(n_groups)
        self._inputs = (score, label, group)
        # by group, then score ascending; a caller re-weighting the same rows passes it back
        if order is None:
            self.order, same, second = _orders(score, group, self.n_groups)
            # what the distinct-score index of the rows (AUC, cross-AUC) needs from this sort,
            # so that it never sorts again (see distinct_index)
            self._distinct_parts = (same, second)
        else:
            self.order = order
        self.sorted_score = score[self.order]
        sizes = np.bincount(group, minlength=self.n_groups)
        # unit weights (the usual case) need no gather, and their sums are exact counts
        unit = weight is None or bool(np.all(np.asarray(weight) == 1))
        w = np.ones(n) if unit else np.asarray(weight, dtype=float)[self.order]
        self.has_label = label is not None
        y = np.zeros(n) if label is None else np.asarray(label)[self.order].astype(float, copy=False)
        self.start = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
        self.end = (self.start + sizes).astype(np.int64)
        # cum_*[i] = weight of the first i sorted rows (a leading zero makes slices cheap)
        self.cum_w = np.arange(n + 1, dtype=float) if unit else _cumsum0(w)
        self.cum_pos = _cumsum0(y if unit else w * y)
        # negatives summed on their own: cum_w − cum_pos leaves round-off (1e-13) with
        # fractional weights, which made a group without negatives show an FPR (0/0 read as
        # 1e-13/1e-13); a running sum that only adds zeros over a group stays exactly equal
        self.cum_neg = self.cum_w - self.cum_pos if unit else _cumsum0(w * (1.0 - y))
        self.sorted_weight = w
        self.sorted_label = y
        self.n_rows = sizes.astype(np.int64)
        self.weight_total = self.cum_w[self.end] - self.cum_w[self.start]
        self.positives = self.cum_pos[self.end] - self.cum_pos[self.start]
        self.negatives = self.cum_neg[self.end] - self.cum_neg[self.start]

    @property
    def sorted_group(self) -> np.ndarray:
        """Each sorted row's group code (made when first asked for)."""
        sg = self.__dict__.get("_sorted_group")
        if sg is None:
            group = self._inputs[2]
            if self.n_rows.size == self.n_groups:  # codes 0 … n_groups − 1: runs of codes
                sg = np.repeat(np.arange(self.n_groups).astype(group.dtype, copy=False), self.n_rows)
            else:
                sg = group[self.order]
            self._sorted_group = sg
        return sg

    def distinct_index(self) -> tuple[int, np.ndarray]:
        """(number of distinct scores, index of each sorted row's score among them): what
        ``np.unique(sorted_score, return_inverse=True)`` gives, from the sort already made
        when this object made it."""
        d = self.__dict__.get("_distinct")
        if d is None:
            parts = self.__dict__.get("_distinct_parts")
            if parts is None:
                uniq, inv = np.unique(self.sorted_score, return_inverse=True)
                d = (uniq.size, inv.reshape(-1))
            else:
                same, second = parts
                rank = np.zeros(second.size, dtype=np.int64)
                np.cumsum(~same, out=rank[1:])
                d = (int(rank[-1]) + 1 if rank.size else 0, rank[second])
            self._distinct = d
        return d

    @classmethod
    def from_data(cls, data) -> "GroupScores":
        """From :class:`fairdesk.dataset.AnalysisData` (uses its oriented score)."""
        return cls(data.oriented, data.label, data.group, data.n_groups, data.weight)

    def reweighted(self, weight) -> "GroupScores":
        """The same rows with new weights (e.g. bootstrap multiplicities), reusing the sort."""
        score, label, group = self._inputs
        new = GroupScores(score, label, group, self.n_groups, weight, order=self.order)
        for name in ("_distinct_parts", "_distinct"):  # they depend on the scores only
            if hasattr(self, name):
                setattr(new, name, getattr(self, name))
        if hasattr(self, "_rank_cache"):  # ranks depend on scores and labels only
            new._rank_cache = self._rank_cache
        return new

    def group_scores(self, g: int) -> np.ndarray:
        """Group g's oriented scores, ascending (a view, not a copy)."""
        return self.sorted_score[self.start[g]:self.end[g]]

    def counts(self, thresholds, *, shared: bool | None = None) -> Counts:
        """Confusion counts at ``thresholds``.

        ``shared=True`` treats a 1-D array as a list of thresholds applied to every group;
        ``shared=False`` as one threshold per group. When None, a 1-D array whose length
        equals the number of groups is read as group-specific; pass ``shared`` to be explicit.
        """
        t = np.asarray(thresholds, dtype=float)
        if shared is None:
            shared = not (t.ndim >= 1 and t.shape[0] == self.n_groups)
        if t.ndim == 0 or shared:
            t = np.broadcast_to(t, (self.n_groups,) + t.shape)
        idx = np.empty(t.shape, dtype=np.int64)
        for g in range(self.n_groups):  # loop over groups, never over rows
            s, e = self.start[g], self.end[g]
            idx[g] = s + np.searchsorted(self.sorted_score[s:e], t[g], side="left")
        expand = (slice(None),) + (None,) * (t.ndim - 1)
        start = self.start[expand]
        fn = self.cum_pos[idx] - self.cum_pos[start]
        tn = self.cum_neg[idx] - self.cum_neg[start]
        tp = self.positives[expand] - fn
        fp = self.negatives[expand] - tn
        n_sel = self.end[expand] - idx
        n = np.broadcast_to(self.n_rows[expand], idx.shape)
        # Clip round-off of fractional weights so that counts never go slightly negative.
        return Counts(np.maximum(tp, 0.0), np.maximum(fp, 0.0), np.maximum(fn, 0.0),
                      np.maximum(tn, 0.0), n_sel, n)
