"""Error rates from confusion counts, with 0/0 kept as undefined (NaN plus a reason).

Only 0/0 is undefined. x/0 with x > 0 can happen only for the two count ratios (FN/FP and
FP/FN): it is an infinite rate (``inf``), which compares with a finite rate as ratio 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .confusion import Counts


@dataclass(frozen=True)
class RateInfo:
    key: str
    name: str
    formula: str
    definition: str
    undefined_when: str  # why the rate is 0/0, in plain words


RATES: dict[str, RateInfo] = {r.key: r for r in (
    RateInfo("tpr", "True positive rate (recall)", "TP / (TP + FN)",
             "Share of the people with the outcome whom the rule flags.",
             "the group has no one with the positive outcome"),
    RateInfo("fnr", "False negative rate", "FN / (TP + FN)",
             "Share of the people with the outcome whom the rule misses.",
             "the group has no one with the positive outcome"),
    RateInfo("fpr", "False positive rate", "FP / (FP + TN)",
             "Share of the people without the outcome whom the rule flags anyway.",
             "the group has no one with the negative outcome"),
    RateInfo("tnr", "True negative rate (specificity)", "TN / (FP + TN)",
             "Share of the people without the outcome whom the rule leaves alone.",
             "the group has no one with the negative outcome"),
    RateInfo("ppv", "Positive predictive value (precision)", "TP / (TP + FP)",
             "Share of the flagged people who do have the outcome.",
             "no one in the group is flagged at this threshold"),
    RateInfo("fdr", "False discovery rate", "FP / (TP + FP)",
             "Share of the flagged people who do not have the outcome.",
             "no one in the group is flagged at this threshold"),
    RateInfo("npv", "Negative predictive value", "TN / (TN + FN)",
             "Share of the people not flagged who indeed do not have the outcome.",
             "everyone in the group is flagged at this threshold"),
    RateInfo("for", "False omission rate", "FN / (TN + FN)",
             "Share of the people not flagged who do have the outcome.",
             "everyone in the group is flagged at this threshold"),
    RateInfo("accuracy", "Accuracy", "(TP + TN) / all",
             "Share of people whom the rule classifies correctly.",
             "the group has no rows (total weight zero)"),
    RateInfo("prevalence", "Prevalence (base rate)", "(TP + FN) / all",
             "Share of people with the outcome.",
             "the group has no rows (total weight zero)"),
    RateInfo("selection_rate", "Selection rate", "(TP + FP) / all",
             "Share of people the rule flags.",
             "the group has no rows (total weight zero)"),
    RateInfo("fn_fp", "Treatment equality (FN / FP)", "FN / FP",
             "False negatives per false positive.",
             "the group has no false negatives and no false positives at this threshold"),
    RateInfo("cost_ratio", "Empirical cost ratio (FP / FN)", "FP / FN",
             "False positives per false negative: the cost ratio the rule implies (Berk et al.).",
             "the group has no false positives and no false negatives at this threshold"),
)}

RATE_KEYS = tuple(RATES)


def _div(a, b):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = a / b
    return np.where(b > 0, out, np.nan)


def _div_inf(a, b):
    """a / b with 0/0 undefined (NaN) and x/0 (x > 0) infinite."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = a / b
    return np.where(b > 0, out, np.where(a > 0, np.inf, np.nan))


def compute_rates(c: Counts) -> dict[str, np.ndarray]:
    """Every rate in :data:`RATES` as arrays shaped like the counts; NaN where 0/0."""
    pos = c.tp + c.fn
    neg = c.fp + c.tn
    sel = c.tp + c.fp
    unsel = c.tn + c.fn
    total = pos + neg
    return {
        "tpr": _div(c.tp, pos), "fnr": _div(c.fn, pos),
        "fpr": _div(c.fp, neg), "tnr": _div(c.tn, neg),
        "ppv": _div(c.tp, sel), "fdr": _div(c.fp, sel),
        "npv": _div(c.tn, unsel), "for": _div(c.fn, unsel),
        "accuracy": _div(c.tp + c.tn, total), "prevalence": _div(pos, total),
        "selection_rate": _div(sel, total),
        "fn_fp": _div_inf(c.fn, c.fp), "cost_ratio": _div_inf(c.fp, c.fn),
    }


def undefined_reason(key: str, group: str | None = None) -> str:
    """Why rate ``key`` is undefined, e.g. 'FPR is 0/0: group X has no one with …'."""
    info = RATES[key]
    who = f"group '{group}'" if group else "the group"
    return f"{info.formula} is 0/0: " + info.undefined_when.replace("the group", who)
