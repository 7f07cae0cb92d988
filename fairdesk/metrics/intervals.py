"""Intervals for the headline figures.

- A single rate (a share of a group, e.g. FPR = FP / (FP + TN)) gets the exact binomial
  (Clopper–Pearson) 95 % interval from its counts. Weighted data use the weighted counts as
  counts of people (frequency weights).
- A fairness measure (a minimum pairwise ratio) and the count ratios FN/FP and FP/FN get the
  bootstrap percentile interval (2.5th and 97.5th percentiles over the seeded resamples).

An interval that cannot be estimated is NaN with a reason (:func:`interval_or_reason`),
never a zero-width range.
"""

from __future__ import annotations

import numpy as np

LEVEL = 0.95
MIN_DEFINED_SHARE = 0.9  # a bootstrap interval needs the value defined in 90 % of resamples

# rate -> (numerator, denominator) as functions of the counts
_PARTS = {
    "tpr": ("tp", "pos"), "fnr": ("fn", "pos"), "fpr": ("fp", "neg"), "tnr": ("tn", "neg"),
    "ppv": ("tp", "sel"), "fdr": ("fp", "sel"), "npv": ("tn", "unsel"), "for": ("fn", "unsel"),
    "accuracy": ("correct", "total"), "prevalence": ("pos", "total"),
    "selection_rate": ("sel", "total"),
}
PROPORTIONS = tuple(_PARTS)

METHOD_EXACT = "exact binomial (Clopper–Pearson) 95 %"
METHOD_BOOT = "bootstrap percentile 95 %"


def clopper_pearson(x, n, level: float = LEVEL):
    """Exact binomial interval for x successes in n trials (arrays); NaN where n <= 0.
    Weighted counts may be fractional: the beta quantiles accept that."""
    # the beta quantile straight from scipy.special (the same values as scipy.stats.beta.ppf):
    # scipy.stats takes ~0.4 s to import, and opening a file shows these intervals
    from scipy.special import betaincinv

    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    a = (1 - level) / 2
    ok = n > 0
    x = np.clip(x, 0, np.where(ok, n, 0))
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(x > 0, betaincinv(np.maximum(x, 1e-12), np.maximum(n - x + 1, 1e-12), a),
                      0.0)
        hi = np.where(x < n, betaincinv(x + 1, np.maximum(n - x, 1e-12), 1 - a), 1.0)
    return np.where(ok, lo, np.nan), np.where(ok, hi, np.nan)


def rate_intervals(counts, level: float = LEVEL) -> dict:
    """Clopper–Pearson interval of every proportion rate: key -> (lo, hi) arrays like the
    counts."""
    c = counts
    parts = {"tp": c.tp, "fp": c.fp, "fn": c.fn, "tn": c.tn, "pos": c.tp + c.fn, "neg": c.fp + c.tn,
             "sel": c.tp + c.fp, "unsel": c.tn + c.fn, "correct": c.tp + c.tn,
             "total": c.tp + c.fp + c.fn + c.tn}
    return {r: clopper_pearson(parts[a], parts[b], level) for r, (a, b) in _PARTS.items()}


def percentile_interval(samples, level: float = LEVEL):
    """(lo, hi, defined) over axis 0 of bootstrap samples, NaN-aware."""
    import warnings

    s = np.asarray(samples, dtype=float)
    a = 100 * (1 - level) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        lo = np.nanpercentile(s, a, axis=0)
        hi = np.nanpercentile(s, 100 - a, axis=0)
    return lo, hi, np.sum(~np.isnan(s), axis=0)


def interval_or_reason(lo, hi, defined=None, resamples=None):
    """(lo, hi, "") when the interval can be shown, else (nan, nan, reason)."""
    lo, hi = float(lo), float(hi)
    if defined is not None and resamples:
        if defined < MIN_DEFINED_SHARE * resamples:
            return (float("nan"), float("nan"),
                    f"not estimated: defined in only {int(defined):,} of {int(resamples):,} resamples")
    if np.isnan(lo) or np.isnan(hi):
        return float("nan"), float("nan"), "not estimated: the value is undefined"
    if lo == hi:
        return (float("nan"), float("nan"),
                f"not estimated: every resample in the central 95 % gives {lo:.3g} (a zero-width "
                "range would look certain)")
    return lo, hi, ""


def format_interval(lo, hi, reason: str = "", pct: bool = False, digits: int = 3) -> str:
    """'0.512–0.603' (or '41.2–43.5 %'), or the reason."""
    if reason:
        return reason
    if np.isinf(hi) or np.isinf(lo):
        f = (lambda x: "∞" if np.isinf(x) else f"{x:.{digits}f}")
        return f"{f(lo)}–{f(hi)}"
    if pct:
        return f"{100 * lo:.1f}–{100 * hi:.1f} %"
    return f"{lo:.{digits}f}–{hi:.{digits}f}"
