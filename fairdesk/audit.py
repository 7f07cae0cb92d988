"""The audit: per-group counts and rates, the nine fairness measures, AUC and cross-AUC.

``run_audit`` prepares the per-group sorted scores once and evaluates any number of
group-agnostic (or group-specific) thresholds on them; ``AuditResult.to_json`` gives the
command line's JSON, undefined values as null with a warning saying why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .dataset import AnalysisData
from .errors import FairDeskError
from .metrics.confusion import Counts, GroupScores
from .metrics.fairness import (DEFINITIONS, THRESHOLD_DEFINITIONS, Reliability, all_measures,
                               denominators, eligibility, measure_details, min_pairwise_ratio)
from .metrics.rates import RATE_KEYS, compute_rates, undefined_reason
from .metrics.ranking import pooled_auc, xauc_matrix
from .metrics.thresholds import tier_counts

JSON_RATES = ("selection_rate", "tpr", "fnr", "fpr", "tnr", "ppv", "fdr", "npv", "for", "accuracy")


@dataclass
class AuditResult:
    group_names: list[str]
    thresholds: np.ndarray  # user units, shape (k,) or (G, k) when group-specific
    n: int
    n_excluded: int
    rows: np.ndarray  # (G,)
    weight: np.ndarray  # (G,)
    positives: np.ndarray  # (G,)
    counts: Counts  # arrays (G, k)
    overall_counts: Counts  # arrays (1, k)
    rates: dict[str, np.ndarray]  # (G, k)
    overall_rates: dict[str, np.ndarray]  # (1, k)
    fairness: dict[str, np.ndarray]  # (k,) per definition; "CAL": (k+1,)
    auc: np.ndarray  # (G,)
    auc_overall: float
    xauc: np.ndarray  # (G, G), xauc[a, b] = xAUC(positives of a, negatives of b)
    tier_weight: np.ndarray  # (G, k+1)
    tier_positives: np.ndarray  # (G, k+1)
    tier_rows: np.ndarray  # (G, k+1)
    group_specific: bool = False
    warnings: list[str] = field(default_factory=list)
    reliability: Reliability = field(default_factory=Reliability)
    masks: dict | None = None  # rate -> (G, k) groups compared; "tier_outcome_rate": (G, k+1)
    intervals: dict | None = None  # from the bootstrap (see bootstrap.attach_intervals)

    def details(self, key: str, j: int):
        """:class:`~fairdesk.metrics.fairness.MeasureDetail` of measure ``key`` at threshold
        ``j`` (tier ``j`` for CAL): the pair behind it and the groups left out."""
        c = self.counts
        return measure_details(key, self.rates, self.rows, denominators(c.tp, c.fp, c.fn, c.tn),
                               self.reliability, self.group_names, j, self.tier_outcome_rate,
                               self.tier_weight)

    @property
    def k(self) -> int:
        return int(self.thresholds.shape[-1])

    @property
    def prevalence(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.weight > 0, self.positives / self.weight, np.nan)

    @property
    def tier_outcome_rate(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.tier_weight > 0, self.tier_positives / self.tier_weight, np.nan)

    def rate_interval(self, key: str, g: int | None, j: int):
        """(lo, hi, method or reason) of rate ``key`` for group g (None = all) at threshold j:
        exact Clopper–Pearson for proportions, the bootstrap percentile interval for the
        count ratios when a bootstrap is attached."""
        from .metrics.intervals import METHOD_BOOT, METHOD_EXACT, PROPORTIONS, interval_or_reason, rate_intervals
        if key in PROPORTIONS:
            c = self.counts if g is not None else self.overall_counts
            lo, hi = rate_intervals(c)[key]
            i = (g if g is not None else 0, j)
            lo, hi, why = interval_or_reason(lo[i], hi[i])
            return lo, hi, why or METHOD_EXACT
        if self.intervals is not None and g is not None and f"rate:{key}" in self.intervals.lo:
            lo, hi, why = self.intervals.interval(f"rate:{key}", (g, j))
            return lo, hi, why or METHOD_BOOT
        return float("nan"), float("nan"), "not estimated: run the bootstrap for an interval of this ratio"

    def fairness_interval(self, key: str, j: int):
        """(lo, hi, method or reason) of fairness measure ``key`` at threshold j (tier for CAL)."""
        from .metrics.intervals import METHOD_BOOT
        if self.intervals is None:
            return float("nan"), float("nan"), "not estimated: no bootstrap was run (give a number of resamples)"
        if np.isnan(self.fairness[key][j]):
            return float("nan"), float("nan"), "not estimated: the measure is undefined"
        lo, hi, why = self.intervals.interval(f"fairness:{key}", j)
        return lo, hi, why or METHOD_BOOT

    def intervals_json(self, j: int) -> dict:
        out = {}
        for key in THRESHOLD_DEFINITIONS:
            lo, hi, how = self.fairness_interval(key, j)
            out[key] = ({"lower": lo, "upper": hi, "method": how} if not np.isnan(lo)
                        else {"lower": None, "upper": None, "reason": how})
        b = self.intervals
        out["resamples"], out["seed"] = (b.resamples, b.seed) if b is not None else (0, None)
        return out

    def to_json(self, primary: int = 0) -> dict:
        """The command line's JSON (see the README); rates at threshold ``primary``."""
        warnings: list[str] = list(self.warnings)

        def val(x, where: str, reason: str):
            x = float(x)
            if math.isnan(x):
                warnings.append(f"{where} is undefined: {reason}")
                return None
            return x

        def groups_at(j: int, tag: str) -> dict:
            out = {}
            for g, name in enumerate(self.group_names):
                item = {"n": int(self.rows[g]), "weight": float(self.weight[g]),
                        "positives": float(self.positives[g]),
                        "prevalence": val(self.prevalence[g], f"{tag}groups['{name}'].prevalence",
                                          undefined_reason("prevalence", name))}
                for r in JSON_RATES:
                    item[r] = val(self.rates[r][g, j], f"{tag}groups['{name}'].{r}",
                                  undefined_reason(r, name))
                item["auc"] = val(self.auc[g], f"groups['{name}'].auc",
                                  f"group '{name}' needs both outcomes for an AUC")
                ivs = {}
                for r in JSON_RATES:
                    lo, hi, how = self.rate_interval(r, g, j)
                    ivs[r] = [lo, hi] if not np.isnan(lo) else None
                item["intervals"] = ivs
                out[name] = item
            return out

        def fairness_at(j: int, tag: str) -> dict:
            out = {}
            for key in THRESHOLD_DEFINITIONS:
                out[key] = val(self.fairness[key][j], f"{tag}fairness.{key}",
                               self.details(key, j).undefined_reason)
            out["CAL"] = [val(v, f"fairness.CAL[tier S{i + 1}]", self.details("CAL", i).undefined_reason)
                          for i, v in enumerate(self.fairness["CAL"])]
            return out

        def groups_of(j: int) -> tuple[dict, dict]:
            groups, pairs = {}, {}
            for key in THRESHOLD_DEFINITIONS:
                d = self.details(key, j).to_json(self.group_names)
                groups[key] = {"included": d["included"], "excluded": d["excluded"]}
                pairs[key] = d["pair"]
            cal = [self.details("CAL", i).to_json(self.group_names) for i in range(len(self.fairness["CAL"]))]
            groups["CAL"] = [{"included": d["included"], "excluded": d["excluded"]} for d in cal]
            pairs["CAL"] = [d["pair"] for d in cal]
            return groups, pairs

        thresholds = self.thresholds.tolist()
        result = {
            "n": self.n,
            "excluded": self.n_excluded,
            "thresholds": thresholds if not self.group_specific else
            {name: thresholds[g] for g, name in enumerate(self.group_names)},
            "groups": groups_at(primary, ""),
            "overall": {r: val(self.overall_rates[r][0, primary], f"overall.{r}",
                               undefined_reason(r, None)) for r in JSON_RATES},
            "fairness": fairness_at(primary, ""),
            "interval_method": {"rates": "exact binomial (Clopper–Pearson) 95 % from the counts "
                                         "(weights as frequency weights)",
                                "fairness": "bootstrap percentile 95 % over the recorded resamples "
                                            "and seed (fairness_intervals), when a bootstrap is run"},
            "fairness_rules": {**self.reliability.to_dict(), "compared": self.reliability.describe(),
                               "zero_counts": "only 0/0 is undefined; x/0 with x > 0 is infinite (its "
                                              "ratio against a finite rate is 0)"},
            "xauc": [{"positive_group": a, "negative_group": b,
                      "value": val(self.xauc[i, j], f"xauc['{a}','{b}']",
                                   f"group '{a}' has no positives or group '{b}' no negatives")}
                     for i, a in enumerate(self.group_names)
                     for j, b in enumerate(self.group_names) if i != j],
        }
        result["overall"]["auc"] = val(self.auc_overall, "overall.auc", "needs both outcomes")
        result["fairness_groups"], result["fairness_pairs"] = groups_of(primary)
        if self.intervals is not None:
            result["fairness_intervals"] = self.intervals_json(primary)
        if self.k > 1:
            result["by_threshold"] = [
                {"threshold": thresholds[j] if not self.group_specific else
                 {name: thresholds[g][j] for g, name in enumerate(self.group_names)},
                 "groups": groups_at(j, f"by_threshold[{j}]."),
                 "fairness": {k: v for k, v in fairness_at(j, f"by_threshold[{j}].").items()
                              if k != "CAL"},
                 "fairness_groups": {k: v for k, v in groups_of(j)[0].items() if k != "CAL"},
                 "fairness_pairs": {k: v for k, v in groups_of(j)[1].items() if k != "CAL"}}
                for j in range(self.k)]
        # each reason once, in the order met
        result["warnings"] = list(dict.fromkeys(warnings))
        return result


def default_threshold(data: AnalysisData) -> tuple[float, str]:
    """0.5 for probabilities, the mean otherwise; with a note saying which."""
    lo, hi = float(np.min(data.score)), float(np.max(data.score))
    if 0.0 <= lo and hi <= 1.0:
        return 0.5, "No threshold given: 0.5 used, since the scores look like probabilities."
    mean = float(np.average(data.score, weights=data.weight))
    return mean, f"No threshold given: the mean score ({mean:.4g}) used."


def run_audit(data: AnalysisData, thresholds, *, group_specific: bool = False,
              scores: GroupScores | None = None, with_ranking: bool = True,
              reliability: Reliability | None = None, masks: dict | None = None) -> AuditResult:
    """Audit ``data`` at ``thresholds`` (user units).

    ``thresholds``: a number or a list of k numbers (group-agnostic), or with
    ``group_specific=True`` an array (n_groups, k). ``scores`` may pass GroupScores already
    prepared for ``data`` (the GUI keeps one while a threshold is dragged).
    ``reliability`` says which groups the fairness measures compare (default: groups with
    at least 30 rows and 10 people in each rate's denominator); ``masks`` fixes the groups
    compared (the bootstrap keeps those of the original data in every resample).
    """
    rule = reliability or Reliability()
    if data.label is None:
        raise FairDeskError("The audit needs an outcome (label) column.")
    t = np.atleast_1d(np.asarray(thresholds, dtype=float))
    if group_specific:
        t = t.reshape(data.n_groups, -1)
    if np.isnan(t).any():
        raise FairDeskError("A threshold is missing or not a number.")
    gs = scores or GroupScores.from_data(data)
    ot = data.to_oriented(t)
    # sort so that tier j lies between threshold j and j+1 in risk order
    ot_sorted = np.sort(ot, axis=-1)
    counts = gs.counts(ot, shared=not group_specific)
    total = counts.total()
    rates = compute_rates(counts)
    overall = compute_rates(total)
    t_weight, t_pos, t_rows = tier_counts(gs, ot_sorted)
    with np.errstate(divide="ignore", invalid="ignore"):
        tier_rate = np.where(t_weight > 0, t_pos / t_weight, np.nan)
    if masks is None:
        dens = denominators(counts.tp, counts.fp, counts.fn, counts.tn)
        dens["tier_outcome_rate"] = t_weight
        masks = eligibility(gs.n_rows, dens, rule)
    fairness = all_measures(rates, tier_rate, masks)
    if with_ranking:
        xm = xauc_matrix(gs)
        auc = np.diag(xm).copy()
        auc_all = pooled_auc(gs)
    else:
        auc = np.full(data.n_groups, np.nan)
        xm = np.full((data.n_groups, data.n_groups), np.nan)
        auc_all = float("nan")
    warnings = []
    if data.n_groups < 2:
        warnings.append("Only one group: fairness measures compare groups and are undefined.")
    return AuditResult(
        group_names=list(data.group_names), thresholds=t, n=data.n, n_excluded=data.n_excluded,
        rows=gs.n_rows, weight=gs.weight_total, positives=gs.positives, counts=counts,
        overall_counts=total, rates=rates, overall_rates=overall, fairness=fairness, auc=auc,
        auc_overall=auc_all, xauc=xm, tier_weight=t_weight, tier_positives=t_pos,
        tier_rows=t_rows, group_specific=group_specific, warnings=warnings, reliability=rule,
        masks=masks)


__all__ = ["AuditResult", "run_audit", "default_threshold", "RATE_KEYS", "min_pairwise_ratio"]
