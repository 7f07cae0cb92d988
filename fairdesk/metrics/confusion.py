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
    ``np.lexsort((score, group))``, faster. A stable sort of the scores, then a stable sort of
    the group codes as 16-bit integers (a radix sort); both stable, so equal (group, score)
    rows keep their row order, exactly as in lexsort."""
    order = np.argsort(score, kind="stable")
    codes = np.asarray(group)[order]
    if 0 < n_groups <= np.iinfo(np.int16).max:
        codes = codes.astype(np.int16)
    return order[np.argsort(codes, kind="stable")]


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
        self.order = group_score_order(score, group, self.n_groups) if order is None else order
        self.sorted_score = score[self.order]
        self.sorted_group = group[self.order]
        w = np.ones(n) if weight is None else np.asarray(weight, dtype=float)[self.order]
        self.has_label = label is not None
        y = np.zeros(n) if label is None else np.asarray(label, dtype=float)[self.order]
        sizes = np.bincount(group, minlength=self.n_groups)
        self.start = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
        self.end = (self.start + sizes).astype(np.int64)
        # cum_*[i] = weight of the first i sorted rows (a leading zero makes slices cheap)
        self.cum_w = np.concatenate(([0.0], np.cumsum(w)))
        self.cum_pos = np.concatenate(([0.0], np.cumsum(w * y)))
        self.cum_neg = self.cum_w - self.cum_pos
        self.sorted_weight = w
        self.sorted_label = y
        self.n_rows = sizes.astype(np.int64)
        self.weight_total = self.cum_w[self.end] - self.cum_w[self.start]
        self.positives = self.cum_pos[self.end] - self.cum_pos[self.start]
        self.negatives = self.weight_total - self.positives

    @classmethod
    def from_data(cls, data) -> "GroupScores":
        """From :class:`fairdesk.dataset.AnalysisData` (uses its oriented score)."""
        return cls(data.oriented, data.label, data.group, data.n_groups, data.weight)

    def reweighted(self, weight) -> "GroupScores":
        """The same rows with new weights (e.g. bootstrap multiplicities), reusing the sort."""
        score, label, group = self._inputs
        new = GroupScores(score, label, group, self.n_groups, weight, order=self.order)
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
