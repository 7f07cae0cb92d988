"""The nine group fairness definitions (Verma & Rubin), as the Oregon study quantifies them.

Each definition is measured by the minimum pairwise ratio across groups of the rate(s) it
asks to be equal: the smaller value over the larger, in [0, 1], 1 = balanced.

Zero-count rules (one for every rate and measure):

- only 0/0 is undefined; a group whose rate is 0/0 is left out of the measure;
- x/0 with x > 0 (possible only for FN/FP and FP/FN) is an infinite rate: its ratio against
  a finite rate is 0, and two infinite rates compare as equal (ratio 1);
- when every compared group's rate is 0 the groups are equal: the measure is 1;
- a definition that asks two rates to be equal (ERB, CUAE) takes the weaker (smaller) of the
  two ratios that are defined; it is undefined only when neither is (so CUAE uses NPV alone
  when nobody is flagged and PPV is 0/0 everywhere);
- with fewer than two groups left the measure is undefined.

Reliable groups: by default (:class:`Reliability`) a group enters a measure only with at least
``min_group_size`` rows and at least ``min_denominator`` people in the denominator of each
rate the measure compares (:data:`DENOMINATORS`); the groups left out are named with the
reason (:func:`measure_details`). ``all_groups=True`` keeps every group whose rate is defined.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

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


MIN_GROUP_SIZE = 30
MIN_DENOMINATOR = 10

# The count each rate divides by (for the reliable-groups rule), in words.
DENOMINATORS: dict[str, str] = {
    "fpr": "people without the outcome", "tnr": "people without the outcome",
    "fnr": "people with the outcome", "tpr": "people with the outcome",
    "ppv": "people flagged", "fdr": "people flagged",
    "npv": "people not flagged", "for": "people not flagged",
    "selection_rate": "people", "accuracy": "people", "prevalence": "people",
    "fn_fp": "false positives",
    "tier_outcome_rate": "people in the tier",
}

SHORT_RATE = {"fpr": "FPR", "fnr": "FNR", "tpr": "TPR", "tnr": "TNR", "ppv": "PPV", "fdr": "FDR",
              "npv": "NPV", "for": "FOR", "selection_rate": "Selection rate",
              "accuracy": "Accuracy", "fn_fp": "FN/FP", "tier_outcome_rate": "Outcome rate"}


@dataclass(frozen=True)
class Reliability:
    """Which groups a fairness measure compares.

    A group enters a measure when it has at least ``min_group_size`` rows and at least
    ``min_denominator`` (weighted) people in the denominator of each rate the measure
    compares. ``all_groups=True`` compares every group whose rate is defined (only 0/0 is
    left out), as FairDesk did before.
    """

    min_group_size: int = MIN_GROUP_SIZE
    min_denominator: float = MIN_DENOMINATOR
    all_groups: bool = False

    def describe(self) -> str:
        if self.all_groups:
            return "all groups whose rate is defined (--all-groups)"
        return (f"groups with at least {self.min_group_size} rows and at least "
                f"{self.min_denominator:g} people in each rate's denominator")

    def to_dict(self) -> dict:
        return {"min_group_size": int(self.min_group_size),
                "min_denominator": float(self.min_denominator), "all_groups": bool(self.all_groups)}


ALL_GROUPS = Reliability(all_groups=True)


def denominators(tp, fp, fn, tn) -> dict[str, np.ndarray]:
    """The denominator of each rate from (weighted) confusion counts."""
    pos, neg, sel, unsel = tp + fn, fp + tn, tp + fp, tn + fn
    total = pos + neg
    return {"fpr": neg, "tnr": neg, "fnr": pos, "tpr": pos, "ppv": sel, "fdr": sel,
            "npv": unsel, "for": unsel, "selection_rate": total, "accuracy": total,
            "prevalence": total, "fn_fp": fp}


def _fmt_count(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"


def eligibility(rows, denoms: dict[str, np.ndarray], rule: Reliability):
    """Per rate, a boolean mask (groups on axis 0) of the groups reliable enough to compare,
    and a function giving the reason a group is left out of a rate at an index."""
    rows = np.asarray(rows)
    masks = {}
    for r, d in denoms.items():
        d = np.asarray(d, dtype=float)
        if rule.all_groups:
            masks[r] = np.ones(d.shape, dtype=bool)
            continue
        size_ok = (rows >= rule.min_group_size).reshape((-1,) + (1,) * (d.ndim - 1))
        masks[r] = size_ok & (d >= rule.min_denominator)
    return masks


def exclusion_reason(rate: str, group: str, rows: int, denom: float, rule: Reliability,
                     undefined: bool) -> str | None:
    """Why ``group`` is left out of a comparison of ``rate`` (None when it is compared)."""
    if not rule.all_groups and rows < rule.min_group_size:
        return f"{rows:,} rows, fewer than the minimum group size {rule.min_group_size}"
    short = SHORT_RATE.get(rate, rate)
    if undefined:
        what = "no false negatives and no false positives" if rate == "fn_fp" else \
            f"no {DENOMINATORS.get(rate, 'denominator')}"
        return f"{short} is 0/0 ({what})"
    if not rule.all_groups and denom < rule.min_denominator:
        return (f"{short}: {_fmt_count(denom)} {DENOMINATORS.get(rate, 'in the denominator')}, "
                f"fewer than {rule.min_denominator:g}")
    return None


def min_pairwise_ratio(values, axis: int = 0) -> np.ndarray:
    """Smallest ratio smaller/larger over all pairs of groups along ``axis``.

    For non-negative values that is min/max over the groups whose value is defined (NaN
    values are left out). An infinite value (x/0, x > 0) against a finite one gives 0; two
    infinite values compare as equal. NaN where fewer than two groups have a defined value.
    """
    v = np.asarray(values, dtype=float)
    if np.any(v < 0):
        raise ValueError("rates must be non-negative")
    defined = np.sum(~np.isnan(v), axis=axis)
    if v.shape[axis] == 0:
        return np.full(defined.shape, np.nan)
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices: see the count test
        lo = np.nanmin(v, axis=axis)
        hi = np.nanmax(v, axis=axis)
        finite_hi = np.isfinite(hi) & (hi > 0)
        ratio = np.where(finite_hi, lo / np.where(finite_hi, hi, 1.0), 1.0)
        ratio = np.where(np.isinf(hi), np.where(np.isinf(lo), 1.0, 0.0), ratio)
    return np.where(defined >= 2, ratio, np.nan)


def _masked(values, mask):
    v = np.asarray(values, dtype=float)
    return v if mask is None else np.where(mask, v, np.nan)


def _weaker(ratios: list[np.ndarray]) -> np.ndarray:
    """The weaker (smaller) of the defined ratios; NaN only where none is defined."""
    if len(ratios) == 1:
        return ratios[0]
    stacked = np.stack(ratios)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmin(stacked, axis=0)


def measure(key: str, rates: dict[str, np.ndarray], tier_outcome_rate=None,
            masks: dict | None = None) -> np.ndarray:
    """Definition ``key`` from per-group rates (arrays with groups on axis 0).

    For CAL, ``tier_outcome_rate`` has shape (n_groups, n_tiers) and one value per tier is
    returned. ``masks`` (rate -> boolean array like the rate) limits each rate to the
    reliable groups (see :func:`eligibility`); None compares every group.
    """
    masks = masks or {}
    d = DEFINITIONS[key]
    if key == "CAL":
        if tier_outcome_rate is None:
            raise ValueError("CAL needs the outcome rate per tier and group")
        return min_pairwise_ratio(_masked(tier_outcome_rate, masks.get("tier_outcome_rate")), axis=0)
    return _weaker([min_pairwise_ratio(_masked(rates[r], masks.get(r)), axis=0) for r in d.rates])


def all_measures(rates: dict[str, np.ndarray], tier_outcome_rate=None,
                 masks: dict | None = None) -> dict[str, np.ndarray]:
    out = {k: measure(k, rates, masks=masks) for k in THRESHOLD_DEFINITIONS}
    if tier_outcome_rate is not None:
        out["CAL"] = measure("CAL", rates, tier_outcome_rate, masks)
    return out


@dataclass
class MeasureDetail:
    """One measure at one threshold (or tier): its value, the pair of groups and the rate
    behind it, and the groups left out with the reason."""

    key: str
    value: float
    rate: str | None = None  # the rate whose ratio is the value
    low: int | None = None  # group with the smaller rate
    high: int | None = None  # group with the larger rate
    low_value: float = float("nan")
    high_value: float = float("nan")
    included: list = field(default_factory=list)  # group indices compared (for any rate)
    excluded: list = field(default_factory=list)  # (group index, reason)
    undefined_reason: str = ""

    def pair_text(self, names, pct: bool = True) -> str:
        """e.g. 'FPR: African-American 42.3 % vs Caucasian 22.0 %'."""
        if self.rate is None or self.low is None:
            return ""

        def fmt(x):
            if np.isinf(x):
                return "infinite (x/0)"
            if self.rate == "fn_fp" or not pct:
                return f"{x:.3f}"
            return f"{100 * x:.1f} %"
        return (f"{SHORT_RATE.get(self.rate, self.rate)}: {names[self.high]} {fmt(self.high_value)} "
                f"vs {names[self.low]} {fmt(self.low_value)}")

    def excluded_text(self, names) -> str:
        return "; ".join(f"{names[g]} ({why})" for g, why in self.excluded)

    def excluded_short(self, names) -> str:
        """Compact form for narrow cells, e.g. 'Asian (FNR: 8 < 10); Native American (11 rows < 30)'."""
        import re

        def short(why: str) -> str:
            why = re.sub(r"^([\d,]+) rows, fewer than the minimum group size (\d+)", r"\1 rows < \2", why)
            return re.sub(r"^(.+?): ([\d,.]+) .+?, fewer than ([\d.]+)$", r"\1: \2 < \3", why)
        return "; ".join(f"{names[g]} ({'; '.join(short(w) for w in why.split('; '))})"
                         for g, why in self.excluded)

    def to_json(self, names) -> dict:
        def num(x):
            x = float(x)
            return None if np.isnan(x) else ("infinite" if np.isinf(x) else x)
        pair = None
        if self.rate is not None and self.low is not None:
            pair = {"rate": self.rate, "higher_group": names[self.high], "higher_value": num(self.high_value),
                    "lower_group": names[self.low], "lower_value": num(self.low_value),
                    "text": self.pair_text(names)}
        return {"pair": pair, "included": [names[g] for g in self.included],
                "excluded": [{"group": names[g], "reason": why} for g, why in self.excluded]}


def _pair(v: np.ndarray):
    """(low index, high index) of the defined values of a 1-D array, or (None, None)."""
    ok = ~np.isnan(v)
    if ok.sum() < 2:
        return None, None
    idx = np.flatnonzero(ok)
    lo = idx[np.argmin(v[idx])]
    hi = idx[np.argmax(v[idx])]
    return int(lo), int(hi)


def measure_details(key: str, rates: dict, rows, denoms: dict, rule: Reliability, names,
                    index: int, tier_outcome_rate=None, tier_weight=None) -> MeasureDetail:
    """Explain measure ``key`` at threshold ``index`` (the tier for CAL): the pair and rate
    behind the value and the groups left out. Groups on axis 0 of every array."""
    rows = np.asarray(rows)
    if key == "CAL":
        rate_keys = ("tier_outcome_rate",)
        vals = {"tier_outcome_rate": np.asarray(tier_outcome_rate, dtype=float)[:, index]}
        dens = {"tier_outcome_rate": np.asarray(tier_weight, dtype=float)[:, index]}
    else:
        rate_keys = DEFINITIONS[key].rates
        vals = {r: np.asarray(rates[r], dtype=float)[:, index] for r in rate_keys}
        dens = {r: np.asarray(denoms[r], dtype=float)[:, index] for r in rate_keys}
    masks = eligibility(rows, dens, rule)
    excluded: dict[int, list[str]] = {}
    included = set()
    ratios = {}
    for r in rate_keys:
        v = vals[r]
        for g in range(v.shape[0]):
            why = exclusion_reason(r, names[g], int(rows[g]), float(dens[r][g]), rule,
                                   bool(np.isnan(v[g])))
            if why is None:
                included.add(g)
            else:
                excluded.setdefault(g, []).append(why)
        ratios[r] = float(min_pairwise_ratio(np.where(masks[r], v, np.nan)))
    defined = {r: x for r, x in ratios.items() if not np.isnan(x)}
    value = min(defined.values()) if defined else float("nan")
    det = MeasureDetail(key, value, included=sorted(included),
                        excluded=[(g, "; ".join(dict.fromkeys(w))) for g, w in sorted(excluded.items())])
    if defined:
        r = min(defined, key=lambda x: (defined[x], rate_keys.index(x)))
        lo, hi = _pair(np.where(masks[r], vals[r], np.nan))
        det.rate, det.low, det.high = r, lo, hi
        det.low_value, det.high_value = float(vals[r][lo]), float(vals[r][hi])
    else:
        det.undefined_reason = ("fewer than two groups have "
                                + " or ".join(SHORT_RATE.get(r, r) for r in rate_keys)
                                + (" defined" if rule.all_groups else " defined with enough data ("
                                   + rule.describe() + ")"))
    return det


def reference_comparison(rate_values: np.ndarray, reference: int) -> tuple[np.ndarray, np.ndarray]:
    """Difference (group − reference) and ratio (group / reference) per group, as audit
    toolkits report them; NaN where undefined."""
    v = np.asarray(rate_values, dtype=float)
    ref = v[reference]
    with np.errstate(divide="ignore", invalid="ignore"):  # inf − inf (an infinite FN/FP) is NaN
        diff = v - ref
        ratio = np.where(ref > 0, v / ref, np.nan)
    return diff, ratio
