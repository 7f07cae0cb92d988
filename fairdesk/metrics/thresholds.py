"""Thresholds from rules, and the risk tiers that k ordered thresholds define.

Rules work in the user's score units on all rows (or a reference subset): a fixed value, a
quantile, the mean, the Oregon study's two rules (low = median of the scores below the
mean; high = 75th percentile of the scores above the mean), top-K, and bin edges such as
ventiles. Weights count as people. k ordered thresholds give k + 1 tiers S1 … Sk+1; a
score equal to a threshold belongs to the higher tier.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import FairDeskError


def weighted_quantile(values, q, weight=None) -> np.ndarray:
    """The smallest value v with weighted share of values <= v at least q (inverted CDF).

    With unit weights this is numpy's ``method="inverted_cdf"``.
    """
    v = np.asarray(values, dtype=float)
    qs = np.atleast_1d(np.asarray(q, dtype=float))
    if v.size == 0:
        raise FairDeskError("No scores to take a quantile of.")
    if np.any((qs < 0) | (qs > 1)):
        raise FairDeskError("Quantiles must be between 0 and 1.")
    order = np.argsort(v, kind="stable")
    sv = v[order]
    w = np.ones(v.size) if weight is None else np.asarray(weight, dtype=float)[order]
    cw = np.cumsum(w)
    total = cw[-1]
    # A tiny relative tolerance keeps q·total == cw[i] exact cases on the lower value.
    target = qs * total * (1 - 1e-12)
    idx = np.clip(np.searchsorted(cw, target, side="left"), 0, v.size - 1)
    out = sv[idx]
    return out if np.ndim(q) else out[0]


def weighted_mean(values, weight=None) -> float:
    v = np.asarray(values, dtype=float)
    return float(np.average(v, weights=weight)) if v.size else float("nan")


def oregon_thresholds(values, weight=None) -> np.ndarray:
    """The Oregon study's three tier thresholds: (low, average, high).

    low = median of the scores below the mean; average = the mean;
    high = 75th percentile of the scores above the mean.
    """
    v = np.asarray(values, dtype=float)
    w = np.ones(v.size) if weight is None else np.asarray(weight, dtype=float)
    mean = weighted_mean(v, w)
    below, above = v < mean, v > mean
    if not below.any() or not above.any():
        raise FairDeskError("All scores are equal, so the mean cannot split them into tiers.")
    low = weighted_quantile(v[below], 0.5, w[below])
    high = weighted_quantile(v[above], 0.75, w[above])
    return np.array([low, mean, high])


def top_k_threshold(oriented, k: int, weight=None) -> float:
    """Oriented threshold selecting the K highest-risk rows (people, with weights).

    It is the K-th highest score; when several rows tie on it, all of them are selected, so
    slightly more than K may be; the caller reports the actual count.
    """
    s = np.asarray(oriented, dtype=float)
    if k <= 0:
        raise FairDeskError("K must be at least 1.")
    if s.size == 0:
        raise FairDeskError("No rows to select from.")
    order = np.argsort(-s, kind="stable")
    w = np.ones(s.size) if weight is None else np.asarray(weight, dtype=float)[order]
    cw = np.cumsum(w)
    i = min(int(np.searchsorted(cw, k * (1 - 1e-12), side="left")), s.size - 1)
    return float(s[order][i])


def bin_edges(values, n_bins: int = 20, weight=None) -> np.ndarray:
    """Edges of ``n_bins`` bins holding equal shares of ``values`` (ventiles for 20).

    Edge j (j = 1 … n_bins − 1) is the smallest value with at least j/n_bins of the weight
    strictly below it, so that, with a value equal to an edge going to the higher bin,
    every bin holds its share exactly when the values allow it (ties cannot be split).
    """
    if n_bins < 2:
        raise FairDeskError("Use at least two bins.")
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        raise FairDeskError("No scores to bin.")
    w = np.ones(v.size) if weight is None else np.asarray(weight, dtype=float)
    u, inv = np.unique(v, return_inverse=True)
    wu = np.bincount(inv, weights=w, minlength=u.size)
    below = np.cumsum(wu) - wu  # weight strictly below each distinct value
    targets = np.arange(1, n_bins) / n_bins * wu.sum() * (1 - 1e-12)
    idx = np.clip(np.searchsorted(below, targets, side="left"), 0, u.size - 1)
    return u[idx]


def assign_bins(values, edges) -> np.ndarray:
    """Bin 1 … len(edges)+1 of each value; a value equal to an edge goes to the higher bin."""
    return np.searchsorted(np.asarray(edges, dtype=float), np.asarray(values, dtype=float),
                           side="right") + 1


@dataclass
class ThresholdRule:
    """One threshold rule, as the Tiers page and the command line describe them.

    kind: "fixed" (value), "quantile" (q in [0, 1]), "mean", "oregon_low", "oregon_high",
    "top_k" (k rows/people), "ventile" (bin edge j of n_bins: the j/n_bins quantile).
    """

    kind: str
    value: float | None = None
    n_bins: int = 20

    def describe(self) -> str:
        return {
            "fixed": f"fixed value {self.value:g}" if self.value is not None else "fixed value",
            "quantile": f"{100 * (self.value or 0):g}th percentile",
            "mean": "mean score",
            "oregon_low": "median of scores below the mean (Oregon low)",
            "oregon_high": "75th percentile of scores above the mean (Oregon high)",
            "top_k": f"top {int(self.value or 0):,}",
            "ventile": f"bin edge {int(self.value or 0)} of {self.n_bins}",
        }.get(self.kind, self.kind)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "value": self.value, "n_bins": self.n_bins}

    @classmethod
    def from_dict(cls, d) -> "ThresholdRule":
        return cls(d["kind"], d.get("value"), int(d.get("n_bins", 20)))

    @classmethod
    def parse(cls, text: str) -> "ThresholdRule":
        """'0.5', 'q0.8', 'mean', 'oregon_low', 'oregon_high', 'top150', 'ventile16'."""
        t = str(text).strip().lower()
        try:
            if t in ("mean", "oregon_low", "oregon_high"):
                return cls(t)
            if t.startswith("q"):
                return cls("quantile", float(t[1:]))
            if t.startswith("top"):
                return cls("top_k", float(int(t[3:].lstrip("_- "))))
            if t.startswith("ventile"):
                return cls("ventile", float(int(t[7:])))
            return cls("fixed", float(t))
        except ValueError:
            raise FairDeskError(
                f"'{text}' is not a threshold. Use a number (0.5), a quantile (q0.8), 'mean', "
                "'oregon_low', 'oregon_high', a top-K (top150) or a ventile edge (ventile16).")

    def resolve(self, data, reference=None) -> float:
        """The threshold in user units on ``data`` (AnalysisData); ``reference`` is an
        optional boolean mask of the reference rows (e.g. a split)."""
        m = slice(None) if reference is None else reference
        s, w = data.score[m], data.weight[m]
        if self.kind == "fixed":
            return float(self.value)
        if self.kind == "quantile":
            return float(weighted_quantile(s, self.value, w))
        if self.kind == "mean":
            return weighted_mean(s, w)
        if self.kind == "oregon_low":
            return float(oregon_thresholds(s, w)[0])
        if self.kind == "oregon_high":
            return float(oregon_thresholds(s, w)[2])
        if self.kind == "top_k":
            oriented = s * data.sign
            return top_k_threshold(oriented, int(self.value), w) * data.sign
        if self.kind == "ventile":
            j = int(self.value)
            if not 1 <= j < self.n_bins:
                raise FairDeskError(f"Bin edge must be between 1 and {self.n_bins - 1}.")
            edges = bin_edges(s * data.sign, self.n_bins, w)
            return float(edges[j - 1]) * data.sign
        raise FairDeskError(f"Unknown threshold rule '{self.kind}'.")


def tier_of(oriented, group, oriented_thresholds) -> np.ndarray:
    """Tier index 0 … k of each row (0 = S1, the lowest risk).

    ``oriented_thresholds``: shape (k,) for group-agnostic thresholds or (n_groups, k) for
    group-specific ones. A score equal to a threshold goes to the higher tier.
    """
    t = np.asarray(oriented_thresholds, dtype=float)
    s = np.asarray(oriented, dtype=float)
    if t.ndim == 1:
        return np.searchsorted(np.sort(t), s, side="right")
    out = np.empty(s.shape[0], dtype=np.int64)
    for g in range(t.shape[0]):  # per group, vectorised over its rows
        m = group == g
        out[m] = np.searchsorted(np.sort(t[g]), s[m], side="right")
    return out


def tier_counts(gs, oriented_thresholds):
    """Per group and tier: (weight, positives, rows), each of shape (n_groups, k + 1).

    Uses the prepared cumulative sums: O(G·k·log n).
    """
    t = np.asarray(oriented_thresholds, dtype=float)
    if t.ndim == 1:
        t = np.broadcast_to(np.sort(t), (gs.n_groups, t.size))
    else:
        t = np.sort(t, axis=1)
    c = gs.counts(t, shared=False)  # (G, k): selected = at or above each threshold
    sel_w = np.concatenate([gs.weight_total[:, None], c.tp + c.fp,
                            np.zeros((gs.n_groups, 1))], axis=1)
    sel_p = np.concatenate([gs.positives[:, None], c.tp, np.zeros((gs.n_groups, 1))], axis=1)
    sel_n = np.concatenate([gs.n_rows[:, None], c.n_selected,
                            np.zeros((gs.n_groups, 1), dtype=np.int64)], axis=1)
    weight = sel_w[:, :-1] - sel_w[:, 1:]
    positives = sel_p[:, :-1] - sel_p[:, 1:]
    rows = sel_n[:, :-1] - sel_n[:, 1:]
    return np.maximum(weight, 0.0), np.maximum(positives, 0.0), rows
