"""Confusion tables as Berk et al. present them, and the threshold for a target cost ratio.

A confusion table cross-tabulates the truth (rows: outcome 0 / 1) with the forecast
(columns: not flagged / flagged). Berk reads it two ways:

* **classification error**, conditioned on the truth — of the people without the outcome,
  the share flagged (FP / (FP + TN), the false positive rate); of the people with it, the
  share not flagged (FN / (FN + TP), the false negative rate);
* **forecasting error**, conditioned on the forecast — of the people flagged, the share
  without the outcome (FP / (FP + TP)); of the people not flagged, the share with it
  (FN / (FN + TN)). This is the error a decision maker faces when acting on a forecast.

The empirical **cost ratio** FP : FN is the number of false positives per false negative:
a ratio of 8 to 1 means the rule accepts eight false alarms to avoid one miss, i.e. it
treats a false negative as about eight times as costly. The threshold for a target ratio is
searched over the reference group's distinct scores (cumulative sums, one vectorised pass):
the one whose FP / FN is closest to the target on a log scale (8 : 1 is as far from 4 : 1
as from 16 : 1). Counts are weighted; a score equal to the threshold is flagged.
All thresholds here are in oriented units (higher = more likely positive). No Qt.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..metrics.confusion import GroupScores

TABLE_RATES = {
    "fpr": ("Classification error, outcome 0", "FP / (FP + TN)",
            "Of the people WITHOUT the outcome, the share flagged anyway (false positive rate)."),
    "fnr": ("Classification error, outcome 1", "FN / (FN + TP)",
            "Of the people WITH the outcome, the share not flagged (false negative rate)."),
    "fdr": ("Forecasting error, flagged", "FP / (FP + TP)",
            "Of the people flagged, the share who did NOT have the outcome."),
    "for": ("Forecasting error, not flagged", "FN / (FN + TN)",
            "Of the people not flagged, the share who DID have the outcome."),
    "error": ("Overall error", "(FP + FN) / all", "Share of people classified wrongly."),
    "cost_ratio": ("Cost ratio FP : FN", "FP / FN",
                   "False positives per false negative: how many false alarms the rule "
                   "accepts for each miss."),
}


def _div(a, b):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1.0), np.nan)


@dataclass
class ConfusionTables:
    """Per group (axis 0) weighted counts at one threshold, and Berk's error rates."""

    group_names: list[str]
    threshold: float  # oriented units
    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    tn: np.ndarray

    def rates(self) -> dict[str, np.ndarray]:
        tp, fp, fn, tn = self.tp, self.fp, self.fn, self.tn
        return {"fpr": _div(fp, fp + tn), "fnr": _div(fn, fn + tp), "fdr": _div(fp, fp + tp),
                "for": _div(fn, fn + tn), "error": _div(fp + fn, tp + fp + fn + tn),
                "cost_ratio": _div(fp, fn)}

    def undefined_reason(self, key: str, group: str) -> str:
        return {"fpr": f"group '{group}' has no one without the outcome",
                "fnr": f"group '{group}' has no one with the outcome",
                "fdr": f"no one in group '{group}' is flagged at this threshold",
                "for": f"everyone in group '{group}' is flagged at this threshold",
                "error": f"group '{group}' has no rows",
                "cost_ratio": f"group '{group}' has no false negatives at this threshold"}[key]

    def to_json(self) -> dict:
        r = self.rates()
        out = {}
        for g, name in enumerate(self.group_names):
            item = {k: float(getattr(self, k)[g]) for k in ("tp", "fp", "fn", "tn")}
            item.update({k: (None if np.isnan(v[g]) else float(v[g])) for k, v in r.items()})
            out[name] = item
        return out


def confusion_tables(scores: GroupScores, threshold_oriented: float,
                     group_names: list[str]) -> ConfusionTables:
    """Tables of every group at one threshold (O(G log n) on prepared scores)."""
    c = scores.counts(np.array([float(threshold_oriented)]), shared=True)
    return ConfusionTables(list(group_names), float(threshold_oriented), c.tp[:, 0], c.fp[:, 0],
                           c.fn[:, 0], c.tn[:, 0])


@dataclass
class CostRatioThreshold:
    target: float
    threshold: float  # oriented units; NaN when no threshold gives a defined ratio
    achieved: float
    fp: float
    fn: float
    candidates: int


def cost_ratio_threshold(oriented, label, weight, target: float) -> CostRatioThreshold:
    """The threshold (among the distinct scores) whose FP / FN is closest to ``target``.

    Closeness is |log(FP/FN) − log(target)|; thresholds where FP or FN is 0 (ratio 0 or
    undefined) are not candidates; ties go to the lowest threshold.
    """
    if not (target > 0 and math.isfinite(target)):
        from ..errors import FairDeskError
        raise FairDeskError(f"The target cost ratio must be a positive number (e.g. 8 for 8 to 1), "
                            f"not {target!r}.")
    s = np.asarray(oriented, dtype=float)
    y = np.asarray(label, dtype=float)
    w = np.ones(s.size) if weight is None else np.asarray(weight, dtype=float)
    order = np.argsort(s, kind="stable")
    s, y, w = s[order], y[order], w[order]
    cum_pos = np.concatenate(([0.0], np.cumsum(w * y)))
    cum_neg = np.concatenate(([0.0], np.cumsum(w * (1 - y))))
    # threshold at each distinct score: rows before its first occurrence are not flagged
    first = np.flatnonzero(np.r_[True, s[1:] != s[:-1]]) if s.size else np.zeros(0, dtype=int)
    fn = cum_pos[first]
    fp = cum_neg[-1] - cum_neg[first]
    ok = (fn > 0) & (fp > 0)
    if not ok.any():
        return CostRatioThreshold(target, math.nan, math.nan, math.nan, math.nan, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        dist = np.where(ok, np.abs(np.log(fp / np.where(fn > 0, fn, 1.0)) - math.log(target)),
                        np.inf)
    i = int(np.argmin(dist))
    return CostRatioThreshold(target, float(s[first[i]]), float(fp[i] / fn[i]), float(fp[i]),
                              float(fn[i]), int(ok.sum()))
