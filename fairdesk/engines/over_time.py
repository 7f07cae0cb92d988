"""Does the decision hold? Rates and fairness per period, per score version and per decision
rule chosen on one period and applied to the others (issue 20).

Agencies revisit a decision: the LA City Attorney study chose its models on earlier referrals
and tested them on later ones; the ACLU audit of the Allegheny tool compared versions V1, V2
and V2.1 on newer data. For every score column (the score and its versions) and every
scenario this module gives, per period and group: rows, people, the headline rates with exact
(Clopper–Pearson) intervals, the AUC, and each fairness measure with the pair of groups
behind it. A change between consecutive periods is flagged when it exceeds its uncertainty:
the Newcombe (hybrid Wilson score) interval of the difference of two proportions excludes
zero, at a level corrected (Bonferroni) for the number of changes examined in that series,
so that a long run of periods does not flag noise.

Everything is computed from one sort per score column: the rows are grouped by
(period, group) cell and :class:`~fairdesk.metrics.confusion.GroupScores` gives every cell's
counts and AUC at once. A scenario's decisions are made once for all rows
(:func:`fairdesk.scenarios.decisions`) and summed per cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..dataset import AnalysisData
from ..errors import FairDeskError
from ..jobs import NO_JOB
from ..metrics.confusion import Counts, GroupScores
from ..metrics.fairness import (THRESHOLD_DEFINITIONS, MeasureDetail, Reliability, denominators,
                                measure_details)
from ..metrics.intervals import clopper_pearson
from ..metrics.rates import compute_rates
from .versions import auc_intervals

RATES = ("selection_rate", "tpr", "fpr", "fnr", "ppv")  # the headline rates, with intervals
FLAG_RATES = ("selection_rate", "tpr", "fpr", "ppv")  # FNR = 1 − TPR: flagged once
FLAG_LEVEL = 0.95  # family-wise, per series (Bonferroni over its changes)
_PARTS = {"selection_rate": ("sel", "total"), "tpr": ("tp", "pos"), "fpr": ("fp", "neg"),
          "fnr": ("fn", "pos"), "ppv": ("tp", "sel")}
MAX_PERIODS = 120


@dataclass
class Series:
    """One score column at a threshold, or one scenario, across the periods."""

    name: str
    kind: str  # "score" or "scenario"
    rule: str  # the decision rule in words
    rows: np.ndarray  # (P, G) rows per period and group
    people: np.ndarray  # (P, G) weighted
    rates: dict[str, np.ndarray]  # rate -> (P, G)
    lo: dict[str, np.ndarray]
    hi: dict[str, np.ndarray]
    overall: dict[str, np.ndarray]  # rate -> (P,) all groups together
    overall_lo: dict[str, np.ndarray]
    overall_hi: dict[str, np.ndarray]
    auc: np.ndarray  # (P, G); NaN for a scenario (a rule ranks nobody)
    auc_overall: np.ndarray  # (P,)
    fairness: dict[str, list[MeasureDetail]]  # measure -> one detail per period
    chosen_on: str = ""  # the period a scenario's rule was chosen on ("" = not chosen on one)
    denominators: dict[str, np.ndarray] = field(default_factory=dict)  # rate -> (P, G)
    auc_lo: np.ndarray | None = None  # (P, G) DeLong interval of the AUC; None for a scenario
    auc_hi: np.ndarray | None = None
    auc_overall_lo: np.ndarray | None = None  # (P,)
    auc_overall_hi: np.ndarray | None = None


@dataclass
class Flag:
    """A change between consecutive periods larger than its uncertainty."""

    series: str
    group: str
    rate: str
    period_from: str
    period_to: str
    before: float
    after: float
    lo: float  # interval of after − before
    hi: float
    level: float  # the (corrected) level of that interval

    def text(self) -> str:
        from ..metrics.fairness import SHORT_RATE
        from ..present.formats import format_difference, format_rate

        word = "rose" if self.after > self.before else "fell"
        return (f"{SHORT_RATE.get(self.rate, self.rate)} of {self.group} under {self.series} "
                f"{word} from {format_rate(self.before)} in {self.period_from} to "
                f"{format_rate(self.after)} in {self.period_to} "
                f"({format_difference(self.after - self.before)}; "
                f"{format_rate(self.level, 2)} interval {format_difference(self.lo)} to "
                f"{format_difference(self.hi)})")

    def to_dict(self) -> dict:
        return {"series": self.series, "group": self.group, "rate": self.rate,
                "from": self.period_from, "to": self.period_to, "before": self.before,
                "after": self.after, "difference": self.after - self.before,
                "interval": [self.lo, self.hi], "level": self.level, "text": self.text()}


@dataclass
class OverTimeResult:
    period_names: list[str]
    group_names: list[str]
    series: list[Series]
    flags: list[Flag]
    warnings: list[str]
    reliability: Reliability

    def find(self, name: str) -> Series:
        for s in self.series:
            if s.name == name:
                return s
        raise KeyError(name)


# ------------------------------------------------------------------------------------------
def _cells(data: AnalysisData) -> tuple[np.ndarray, int, int]:
    if data.period is None:
        raise FairDeskError("Fairness over time needs a period column: map a date or an ordered "
                            "label (role 'Period') on the Data page, or give --period.")
    if data.label is None:
        raise FairDeskError("Rates over time compare decisions with outcomes: map an outcome "
                            "(label) column.")
    P, G = len(data.period_names), data.n_groups
    if P > MAX_PERIODS:
        raise FairDeskError(f"The period column has {P} different periods (more than "
                            f"{MAX_PERIODS}): group the dates by month, quarter or year, or "
                            "choose another column.")
    return data.period.astype(np.int64) * G + data.group, P, G


def _series(name, kind, rule, counts: Counts, rows, auc, auc_overall, data, P, G,
            reliability, level) -> Series:
    rates = {k: v.reshape(P, G) for k, v in compute_rates(counts).items()}
    tot = Counts(*(a.reshape(P, G).sum(axis=1) for a in
                   (counts.tp[:, 0], counts.fp[:, 0], counts.fn[:, 0], counts.tn[:, 0],
                    counts.n_selected[:, 0], counts.n)))
    over = compute_rates(Counts(*(a[:, None] for a in (tot.tp, tot.fp, tot.fn, tot.tn,
                                                       tot.n_selected)), tot.n))
    parts = _parts(counts.tp[:, 0], counts.fp[:, 0], counts.fn[:, 0], counts.tn[:, 0])
    tparts = _parts(tot.tp, tot.fp, tot.fn, tot.tn)
    lo, hi, olo, ohi = {}, {}, {}, {}
    for r in RATES:
        a, b = _PARTS[r]
        lo[r], hi[r] = (x.reshape(P, G) for x in clopper_pearson(parts[a], parts[b], level))
        olo[r], ohi[r] = clopper_pearson(tparts[a], tparts[b], level)
    dens = {k: v.reshape(P, G) for k, v in
            denominators(counts.tp, counts.fp, counts.fn, counts.tn).items()}
    fairness = {}
    for key in THRESHOLD_DEFINITIONS:
        fairness[key] = [measure_details(key, {r: v[p][:, None] for r, v in rates.items()},
                                         rows[p], {r: v[p][:, None] for r, v in dens.items()},
                                         reliability, data.group_names, 0)
                         for p in range(P)]
    return Series(name, kind, rule, rows, _people(counts, P, G),
                  {r: rates[r] for r in RATES}, lo, hi,
                  {r: over[r][:, 0] for r in RATES}, olo, ohi, auc, auc_overall, fairness,
                  denominators={r: parts[_PARTS[r][1]].reshape(P, G) for r in RATES})


def _people(counts: Counts, P: int, G: int) -> np.ndarray:
    return (counts.tp + counts.fp + counts.fn + counts.tn)[:, 0].reshape(P, G)


def _parts(tp, fp, fn, tn) -> dict[str, np.ndarray]:
    return {"tp": tp, "fp": fp, "fn": fn, "sel": tp + fp, "pos": tp + fn, "neg": fp + tn,
            "total": tp + fp + fn + tn}


def score_series(data: AnalysisData, column: str, threshold: float, *,
                 reliability: Reliability = Reliability(), level: float = 0.95) -> Series:
    """Score column ``column`` (the score or a version) flagged at ``threshold`` (its own
    units): rates, intervals, AUC and fairness per period and group."""
    joint, P, G = _cells(data)
    higher = data.mapping.higher_is_positive if column == data.mapping.score else \
        data.mapping.version_higher.get(column, True)
    o = data.version_oriented(column)
    t = float(threshold) if higher else -float(threshold)
    gs = GroupScores(o, data.label, joint, P * G, data.weight)
    counts = gs.counts(np.array([t]), shared=True)
    rows = np.bincount(joint, minlength=P * G).reshape(P, G)
    auc, auc_lo, auc_hi = auc_intervals(o, data.label, joint, P * G, data.weight, level,
                                        order=gs.order)
    overall, overall_lo, overall_hi = auc_intervals(o, data.label, data.period, P, data.weight,
                                                    level)
    rule = f"{column} {'≥' if higher else '≤'} {threshold:g}"
    s = _series(column, "score", rule, counts, rows, auc.reshape(P, G), overall, data, P, G,
                reliability, level)
    s.auc_lo, s.auc_hi = auc_lo.reshape(P, G), auc_hi.reshape(P, G)
    s.auc_overall_lo, s.auc_overall_hi = overall_lo, overall_hi
    return s


def scenario_series(data: AnalysisData, scenario, *, chosen_on: str = "",
                    reliability: Reliability = Reliability(), level: float = 0.95) -> Series:
    """A scenario's decisions (any kind the Decision table knows) per period and group:
    expected counts (a randomised rule counts each row by its probability)."""
    from ..scenarios import decisions

    joint, P, G = _cells(data)
    prob = decisions(scenario, data).probability
    w, y = data.weight, data.label.astype(float)
    n = P * G
    tp = np.bincount(joint, w * prob * y, minlength=n)
    fp = np.bincount(joint, w * prob * (1 - y), minlength=n)
    fn = np.bincount(joint, w * (1 - prob) * y, minlength=n)
    tn = np.bincount(joint, w * (1 - prob) * (1 - y), minlength=n)
    rows = np.bincount(joint, minlength=n)
    sel = np.bincount(joint, (prob > 0).astype(float), minlength=n)
    counts = Counts(tp[:, None], fp[:, None], fn[:, None], tn[:, None], sel[:, None], rows)
    nan = np.full((P, G), np.nan)
    s = _series(scenario.name, "scenario", scenario.describe(data.group_names), counts,
                rows.reshape(P, G), nan, np.full(P, np.nan), data, P, G, reliability, level)
    s.chosen_on = chosen_on
    return s


# ------------------------------------------------------------------------------------------
def _wilson(x, n, z):
    """Wilson score interval of x / n (arrays); NaN where n = 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        p = x / n
        centre = (x + z * z / 2) / (n + z * z)
        half = z * np.sqrt(x * (n - x) / n + z * z / 4) / (n + z * z)
    return np.where(n > 0, centre - half, np.nan), np.where(n > 0, centre + half, np.nan), \
        np.where(n > 0, p, np.nan)


def change_flags(series: Series, period_names, group_names, level: float = FLAG_LEVEL) -> list[Flag]:
    """Changes between consecutive periods whose Newcombe interval excludes zero, the level
    corrected (Bonferroni) for every change examined in the series."""
    from scipy.special import ndtri

    P, G = series.rows.shape
    if P < 2:
        return []
    tests = []
    for r in FLAG_RATES:
        n = series.denominators[r]
        x = series.rates[r] * n  # the numerator back from rate × denominator
        x = np.where(np.isnan(x), 0.0, x)
        both = (n[:-1] > 0) & (n[1:] > 0)
        tests.append((r, x, n, both))
    m = int(sum(int(b.sum()) for *_, b in tests))
    if m == 0:
        return []
    corrected = 1 - (1 - level) / m
    z = float(ndtri(1 - (1 - corrected) / 2))
    flags = []
    for r, x, n, both in tests:
        lo_, hi_, p = _wilson(x, n, z)
        d = p[1:] - p[:-1]
        low = d - np.sqrt((p[1:] - lo_[1:]) ** 2 + (hi_[:-1] - p[:-1]) ** 2)
        high = d + np.sqrt((hi_[1:] - p[1:]) ** 2 + (p[:-1] - lo_[:-1]) ** 2)
        hit = both & ((low > 0) | (high < 0))
        for q, g in zip(*np.nonzero(hit)):
            flags.append(Flag(series.name, group_names[g], r, period_names[q], period_names[q + 1],
                              float(p[q, g]), float(p[q + 1, g]), float(low[q, g]),
                              float(high[q, g]), corrected))
    return flags


def over_time(data: AnalysisData, thresholds: dict[str, float], scenarios=(), *,
              chosen_on: dict[str, str] | None = None, reliability: Reliability = Reliability(),
              level: float = 0.95, job=NO_JOB) -> OverTimeResult:
    """Every score column in ``thresholds`` (name -> threshold in its units) and every
    scenario, per period: the series, their change flags and warnings."""
    chosen_on = chosen_on or {}
    _cells(data)
    series, warnings = [], []
    steps = len(thresholds) + len(scenarios)
    for i, (column, t) in enumerate(thresholds.items()):
        job.check()
        job.progress(i / max(steps, 1), f"Rates over time: {column}")
        series.append(score_series(data, column, t, reliability=reliability, level=level))
    for j, s in enumerate(scenarios):
        job.check()
        job.progress((len(thresholds) + j) / max(steps, 1), f"Rates over time: {s.name}")
        series.append(scenario_series(data, s, chosen_on=chosen_on.get(s.name, ""),
                                      reliability=reliability, level=level))
    flags = [f for s in series for f in change_flags(s, data.period_names, data.group_names)]
    small = [(p, g) for p in range(len(data.period_names)) for g in range(data.n_groups)
             if series and series[0].rows[p, g] < reliability.min_group_size]
    if small:
        warnings.append(f"{len(small)} period × group cell(s) have fewer than "
                        f"{reliability.min_group_size} rows (e.g. {data.group_names[small[0][1]]} "
                        f"in {data.period_names[small[0][0]]}): their rates are uncertain and "
                        "fairness measures leave them out.")
    job.progress(1.0, "Done")
    return OverTimeResult(list(data.period_names), list(data.group_names), series, flags,
                          warnings, reliability)

