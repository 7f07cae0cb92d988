"""The nine group fairness definitions (Verma & Rubin), as the Oregon study quantifies them.

Each definition is measured by the minimum pairwise ratio across groups of the rate(s) it
asks to be equal: the smaller value over the larger, in [0, 1], 1 = balanced. A definition
that asks two rates to be equal (ERB, CUAE) takes the weaker (smaller) of the two ratios.
Groups whose rate is undefined (0/0) are left out; with fewer than two groups left the
measure is undefined. When every group's rate is 0 the groups are equal: the measure is 1.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Definition:
    key: str
    name: str
    rates: tuple[str, ...]
    meaning: str


DEFINITIONS: dict[str, Definition] = {d.key: d for d in (
    Definition("ERB", "Error rate balance", ("fnr", "fpr"),
               "Equal false negative and false positive rates across groups."),
    Definition("CUAE", "Conditional use accuracy equality", ("ppv", "npv"),
               "Equal positive and negative predictive values: a flag (or no flag) means the same "
               "in every group."),
    Definition("PP", "Predictive parity", ("ppv",),
               "Equal precision: the same share of flagged people have the outcome in every group."),
    Definition("SP", "Statistical parity", ("selection_rate",),
               "Equal selection rates: every group is flagged at the same rate."),
    Definition("TE", "Treatment equality", ("fn_fp",),
               "Equal ratio of false negatives to false positives."),
    Definition("PE", "Predictive equality", ("fpr",),
               "Equal false positive rates: people without the outcome are flagged equally often."),
    Definition("EO", "Equal opportunity", ("fnr",),
               "Equal false negative rates: people with the outcome are missed equally often."),
    Definition("OAE", "Overall accuracy equality", ("accuracy",),
               "Equal accuracy in every group."),
    Definition("CAL", "Calibration within tiers", ("tier_outcome_rate",),
               "Within each risk tier, the same share of people have the outcome in every group "
               "(one value per tier)."),
)}

THRESHOLD_DEFINITIONS = tuple(k for k in DEFINITIONS if k != "CAL")


def min_pairwise_ratio(values, axis: int = 0) -> np.ndarray:
    """Smallest ratio smaller/larger over all pairs of groups along ``axis``.

    For non-negative values that is min/max over the groups whose value is defined.
    NaN where fewer than two groups have a defined value.
    """
    v = np.asarray(values, dtype=float)
    if np.any(v < 0):
        raise ValueError("rates must be non-negative")
    defined = np.sum(~np.isnan(v), axis=axis)
    if v.shape[axis] == 0:
        return np.full(defined.shape, np.nan)
    with warnings.catch_warnings():  # all-NaN slices are handled by the defined-count test
        warnings.simplefilter("ignore", RuntimeWarning)
        lo = np.nanmin(v, axis=axis)
        hi = np.nanmax(v, axis=axis)
        ratio = np.where(hi > 0, lo / np.where(hi > 0, hi, 1.0), 1.0)
    return np.where(defined >= 2, ratio, np.nan)


def measure(key: str, rates: dict[str, np.ndarray], tier_outcome_rate=None) -> np.ndarray:
    """Definition ``key`` from per-group rates (arrays with groups on axis 0).

    For CAL, ``tier_outcome_rate`` has shape (n_groups, n_tiers) and one value per tier is
    returned.
    """
    d = DEFINITIONS[key]
    if key == "CAL":
        if tier_outcome_rate is None:
            raise ValueError("CAL needs the outcome rate per tier and group")
        return min_pairwise_ratio(tier_outcome_rate, axis=0)
    ratios = [min_pairwise_ratio(rates[r], axis=0) for r in d.rates]
    if len(ratios) == 1:
        return ratios[0]
    stacked = np.stack(ratios)
    # The weaker of the two; undefined if either is undefined.
    return np.where(np.isnan(stacked).any(axis=0), np.nan, stacked.min(axis=0))


def all_measures(rates: dict[str, np.ndarray], tier_outcome_rate=None) -> dict[str, np.ndarray]:
    out = {k: measure(k, rates) for k in THRESHOLD_DEFINITIONS}
    if tier_outcome_rate is not None:
        out["CAL"] = measure("CAL", rates, tier_outcome_rate)
    return out


def reference_comparison(rate_values: np.ndarray, reference: int) -> tuple[np.ndarray, np.ndarray]:
    """Difference (group − reference) and ratio (group / reference) per group, as audit
    toolkits report them; NaN where undefined."""
    v = np.asarray(rate_values, dtype=float)
    ref = v[reference]
    diff = v - ref
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(ref > 0, v / ref, np.nan)
    return diff, ratio
