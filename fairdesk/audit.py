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
from .metrics.fairness import DEFINITIONS, THRESHOLD_DEFINITIONS, all_measures, min_pairwise_ratio
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
                out[name] = item
            return out

        def fairness_at(j: int, tag: str) -> dict:
            out = {}
            for key in THRESHOLD_DEFINITIONS:
                out[key] = val(self.fairness[key][j], f"{tag}fairness.{key}",
                               f"fewer than two groups have a defined {'/'.join(DEFINITIONS[key].rates)}")
            out["CAL"] = [val(v, f"fairness.CAL[tier S{i + 1}]",
                              "fewer than two groups have rows in this tier")
                          for i, v in enumerate(self.fairness["CAL"])]
            return out

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
            "xauc": [{"positive_group": a, "negative_group": b,
                      "value": val(self.xauc[i, j], f"xauc['{a}','{b}']",
                                   f"group '{a}' has no positives or group '{b}' no negatives")}
                     for i, a in enumerate(self.group_names)
                     for j, b in enumerate(self.group_names) if i != j],
        }
        result["overall"]["auc"] = val(self.auc_overall, "overall.auc", "needs both outcomes")
        if self.k > 1:
            result["by_threshold"] = [
                {"threshold": thresholds[j] if not self.group_specific else
                 {name: thresholds[g][j] for g, name in enumerate(self.group_names)},
                 "groups": groups_at(j, f"by_threshold[{j}]."),
                 "fairness": {k: v for k, v in fairness_at(j, f"by_threshold[{j}].").items()
                              if k != "CAL"}}
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
              scores: GroupScores | None = None, with_ranking: bool = True) -> AuditResult:
    """Audit ``data`` at ``thresholds`` (user units).

    ``thresholds``: a number or a list of k numbers (group-agnostic), or with
    ``group_specific=True`` an array (n_groups, k). ``scores`` may pass GroupScores already
    prepared for ``data`` (the GUI keeps one while a threshold is dragged).
    """
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
    fairness = all_measures(rates, tier_rate)
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
        tier_rows=t_rows, group_specific=group_specific, warnings=warnings)


__all__ = ["AuditResult", "run_audit", "default_threshold", "RATE_KEYS", "min_pairwise_ratio"]
