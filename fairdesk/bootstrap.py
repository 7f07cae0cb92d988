"""Bootstrap uncertainty of every audit measure: mean, SD and the 95 % percentile interval
over B seeded resamples.

Every resample compares the same groups as the audit of the original data (the reliable
groups are chosen once, on the data, and kept), so the interval is that of the measure shown.

What is resampled: without a weight column, rows (n draws with replacement). With frequency
weights a row stands for ``weight`` people, so *people* are resampled: the round(Σ weight)
people of a resample are drawn among the rows with probabilities weight / Σ weight (a
multinomial draw), and a row's new weight is the number of its people drawn. Resampling the
rows of aggregated data (FICO: one row per score, group and outcome) would treat each row as
one observation and misstate the uncertainty.

Resample b draws n rows with replacement using its own random stream, spawned from the
seed with numpy's SeedSequence, so results do not depend on how the work is split. A
resample is a vector of multiplicities on the original rows: the per-group sort order
prepared once is reused and only the cumulative sums are recomputed (O(n) per resample).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .audit import run_audit
from .dataset import AnalysisData
from .jobs import NO_JOB, Job
from .metrics.confusion import GroupScores


@dataclass
class BootstrapResult:
    resamples: int
    seed: int
    mean: dict  # key -> array like the audit's (rates: (G, k); fairness: (k,); auc: (G,) …)
    sd: dict
    defined: dict  # key -> number of resamples where the value was defined
    lo: dict = None  # key -> 2.5th percentile (NaN-aware)
    hi: dict = None  # key -> 97.5th percentile

    def summary(self, key: str):
        return self.mean[key], self.sd[key], self.defined[key]

    def interval(self, key: str, index):
        """(lo, hi, reason): the percentile interval, or NaNs and why it is not estimated."""
        from .metrics.intervals import interval_or_reason
        if self.lo is None or key not in self.lo:
            return float("nan"), float("nan"), "not estimated by this bootstrap"
        return interval_or_reason(self.lo[key][index], self.hi[key][index],
                                  self.defined[key][index], self.resamples)


def _collect(result) -> dict[str, np.ndarray]:
    out = {f"rate:{k}": v for k, v in result.rates.items()}
    out.update({f"fairness:{k}": np.asarray(v) for k, v in result.fairness.items()})
    out["auc"] = result.auc
    out["xauc"] = result.xauc
    return out


def resample_weights(data: AnalysisData, rng: np.random.Generator) -> np.ndarray:
    """New frequency weights of one bootstrap resample (see the module notes)."""
    n = data.n
    if not data.weighted:
        return np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
    w = np.asarray(data.weight, dtype=float)
    total = float(w.sum())
    people = int(round(total))
    if people <= 0 or n == 0:
        return np.zeros(n)
    return rng.multinomial(people, w / total).astype(float)


def bootstrap_audit(data: AnalysisData, thresholds, *, resamples: int = 200, seed: int = 0,
                    group_specific: bool = False, job: Job = NO_JOB,
                    reliability=None) -> BootstrapResult:
    """Mean, SD (ddof=1) and 95 % percentile interval of every audit measure over
    ``resamples`` bootstrap draws; the fairness measures compare the groups that the audit
    of the original data compares (``reliability``, default the reliable groups)."""
    if resamples < 2:
        raise ValueError("use at least 2 resamples")
    base = GroupScores.from_data(data)
    masks = run_audit(data, thresholds, group_specific=group_specific, scores=base,
                      with_ranking=False, reliability=reliability).masks
    streams = np.random.SeedSequence(seed).spawn(resamples)
    n = data.n
    sums = sq = counts = None
    samples: dict[str, list] = {}
    for b, ss in enumerate(streams):
        job.progress(b / resamples, f"Bootstrap resample {b + 1:,} of {resamples:,}")
        rng = np.random.default_rng(ss)
        gs = base.reweighted(resample_weights(data, rng))
        values = _collect(run_audit(data, thresholds, group_specific=group_specific, scores=gs,
                                    masks=masks))
        if sums is None:
            sums = {k: np.zeros_like(v, dtype=float) for k, v in values.items()}
            sq = {k: np.zeros_like(v, dtype=float) for k, v in values.items()}
            counts = {k: np.zeros(v.shape, dtype=np.int64) for k, v in values.items()}
        for k, v in values.items():
            samples.setdefault(k, []).append(np.asarray(v, dtype=float))
            ok = ~np.isnan(v)
            sums[k] += np.where(ok, v, 0.0)
            sq[k] += np.where(ok, v * v, 0.0)
            counts[k] += ok
    job.progress(1.0, "Bootstrap done")
    mean, sd = {}, {}
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        for k in sums:
            c = counts[k]
            m = np.where(c > 0, sums[k] / np.maximum(c, 1), np.nan)
            var = np.where(c > 1, (sq[k] - c * m * m) / np.maximum(c - 1, 1), np.nan)
            mean[k] = m
            sd[k] = np.sqrt(np.maximum(var, 0.0))
    from .metrics.intervals import percentile_interval
    lo, hi = {}, {}
    for k, vs in samples.items():
        lo[k], hi[k], _ = percentile_interval(np.stack(vs))
    return BootstrapResult(resamples, seed, mean, sd, counts, lo, hi)
