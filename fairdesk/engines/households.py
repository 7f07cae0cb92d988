"""Household aggregation policies, ventile scores and protocols (no Qt).

Source: Gerchick, Jegede, Shah, Gutiérrez, Beiser, Horowitz, Abrams & Ho (ACLU & HRDAG),
"The Devil is in the Details: Interrogating Values Embedded in the Allegheny Family
Screening Tool" (FAccT 2023). The tool scores every child on a referral, bins the
probabilities into ventiles of a reference set and shows the call screener one score or
protocol per household. The audit shows that these post-processing choices change the
tool's error rates and racial disparities. This module measures them on any file.

Conventions (the choices made here, stated once)
------------------------------------------------

**Bin scores.** ``bins`` equal-share bins of a reference set (the rows of one split value,
or every row). A score equal to an edge goes to the higher bin
(:func:`~fairdesk.metrics.thresholds.assign_bins`), so bin 1 is the lowest risk and bin
``bins`` the highest. To match that convention, edge j (j = 1 … bins − 1) is the smallest
reference score with at least j/bins of the reference's weight strictly below it
(:func:`equal_share_edges`): with distinct scores every bin then holds exactly 1/bins of
the reference. (The inverted-CDF quantile of
:func:`fairdesk.metrics.thresholds.bin_edges` would put the j/bins-th score itself above
edge j: one score too few in bin 1 and one too many in the top bin.) Tied scores stay
together and can leave a bin empty; a bin that no reference score reaches has an infinite
edge (null in JSON). Edges are reported in the score's own units. ``prebinned=True`` reads
the score column as bin scores 1 … bins already (no edges).

**Score policies** — the score communicated for a person:

* ``individual``: the person's own bin score;
* ``household_max``: the maximum bin score in the household;
* ``flagged_max``: the maximum over the household's flagged members (a 0/1 column such
  as "alleged victim"); the household maximum when no member is flagged;
* ``protocol``: one protocol per household from the household maximum and the members'
  ages (:class:`ProtocolRules`; Allegheny preset: High-risk if the maximum is ≥ 18 and any
  child is under 16; Low-risk if every score is ≤ 12 and every child is at least 7;
  otherwise No protocol). When both rules hold (possible only with custom thresholds),
  High-risk wins. A missing age is never "under 16" and never "at least 7".

**Outcome levels.** ``individual``: the unit is a person, the outcome is theirs, the
row's frequency weight counts. ``household``: the unit is a household, its outcome is 1
when any member's outcome is positive, and every household counts once (weights are not
used at household level; a warning says so when the data are weighted).

**Policies 1–7**, numbered as the audit's Tables 3 and 5 (the JSON and the tables also
spell out the score and outcome of each):

====  ================  ==========
 1    individual        individual
 2    household_max     individual
 3    household_max     household
 4    protocol          individual
 5    protocol          household
 6    flagged_max       individual   (the audit: maximum alleged-victim score)
 7    flagged_max       household    (FairDesk's addition)
====  ================  ==========

An individual score has no single value per household, so it has no household-outcome
policy. Policies 4–5 need an age column and policies 6–7 a flag column; without them those
policies are reported as unavailable (values null, with the reason). **AUC is not reported
for the protocol policies** (three levels), as in the audit's Table 4; their xAUC, FPR, TPR
and screen-in are.

**Groups.** At person level a person's group is their own. At household level a household
belongs to group g when ``membership`` says so. ``footnote5`` (the default, the audit's
footnote 5): a household is in group g when any member is, and it is compared with *the
rest*, the households with no member in g (each group's FPR, TPR and screen-in have a
``*_rest`` counterpart). ``any``: the same membership, with mixed households counted in every
group of their members and groups compared with each other (FairDesk's former rule).
``all``: all members are in g; ``majority``: more than half are. Households in no group still
count in the overall figures and among "the other households".

**AUC "on the underlying probabilities".** Units are ranked by the communicated score,
and ties are broken by the underlying probability aggregated the same way (own, household
maximum, flagged maximum; for a protocol, the household maximum). Because a bin score never
decreases as the probability grows, for the four score policies this is exactly the AUC of
the aggregated probabilities; for protocols, the protocol comes first. Remaining ties count
half. ``tie_break=False`` ranks the communicated score alone (ties count half).

**xAUC per group** (Kallus & Zhou 2019): xAUC(g) = P(a positive unit of group g outranks
a negative unit *outside* g) — other groups' people at person level, the households not
in g at household level (:func:`xauc_direction` writes it out). ``auc[g]`` is the
within-group AUC.

**FPR at the cutoff.** A unit is screened in when its communicated bin score is at least
``cutoff`` (default 16) or, for protocols, when it has the High-risk protocol. FPR =
weighted screened-in negatives ÷ negatives; 0/0 is undefined (NaN here, null plus a
warning in JSON).

**Household size.** Per score policy, the share of households screened in by household
size and group, and the disparity ratio: group g's rate ÷ the rate of households not in g.
For the individual score a household counts as screened in when any member is.

**Feature disparity** (the audit's Appendix A.2.2): for each binary attribute column, the
share of group A with the attribute ÷ the share of group B (or of everyone outside A),
weighted, sorted from the largest ratio.

Everything is vectorised: people are sorted by household once; household values come from
``np.maximum.reduceat`` and ``np.bincount``; AUCs from histograms of integer ranks.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from ..dataset import AnalysisData
from ..errors import FairDeskError
from ..jobs import NO_JOB, Job
from ..metrics.thresholds import assign_bins
from ..validation import rows_text

SCORE_POLICIES = {
    "individual": "Each person's own score",
    "household_max": "Household maximum",
    "flagged_max": "Maximum over flagged members (household maximum if none is flagged)",
    "protocol": "Protocol (from the household maximum and ages)",
}
SCORE_SHORT = {"individual": "Individual", "household_max": "Household max",
               "flagged_max": "Flagged max", "protocol": "Protocol"}
OUTCOME_LEVELS = {"individual": "per person", "household": "per household (any positive)"}
POLICIES = {1: ("individual", "individual"), 2: ("household_max", "individual"),
            3: ("household_max", "household"), 4: ("protocol", "individual"),
            5: ("protocol", "household"), 6: ("flagged_max", "individual"),
            7: ("flagged_max", "household")}
NO_AUC_REASON = ("not reported for a protocol policy: a protocol has three levels, and the "
                 "audit's Table 4 reports no AUC for it")
PROTOCOL_LABELS = ("Low-risk protocol", "No protocol", "High-risk protocol")
LOW, NO_PROTOCOL, HIGH = 0, 1, 2
MEMBERSHIP = {"footnote5": "a household is in a group when any member is, and is compared with the "
                           "rest (the households with no member in it), as in the audit's footnote 5",
              "any": "a household is in every group of its members (a mixed household counts in "
                     "each), and groups are compared with each other",
              "all": "a household is in a group when all its members are",
              "majority": "a household is in a group when more than half its members are"}
EDGE_CONVENTION = ("A score equal to an edge goes to the higher (riskier) bin; bin 1 is the "
                   "lowest risk.")
_TRUE = {"1", "1.0", "true", "t", "yes", "y"}
_FALSE = {"0", "0.0", "false", "f", "no", "n"}


# ------------------------------------------------------------------------------ settings

@dataclass
class ProtocolRules:
    """Protocol from the household's maximum bin score and its members' ages.

    High-risk: maximum ≥ ``high_min_score`` and some member younger than
    ``high_any_age_below``. Low-risk: maximum ≤ ``low_max_score`` and every member at
    least ``low_all_age_at_least`` years old. Otherwise No protocol. The defaults are
    Allegheny County's rules as the audit describes them.
    """

    high_min_score: float = 18
    high_any_age_below: float = 16
    low_max_score: float = 12
    low_all_age_at_least: float = 7

    def validate(self) -> None:
        for name, v in asdict(self).items():
            if not isinstance(v, (int, float)) or not math.isfinite(float(v)):
                raise FairDeskError(f"Protocol rule '{name}' must be a number (it is {v!r}).")

    def assign(self, max_score, min_age, n_age_missing) -> np.ndarray:
        """Protocol code (LOW, NO_PROTOCOL, HIGH) per household.

        ``min_age``: youngest known age (NaN when no age is known);
        ``n_age_missing``: members whose age is missing.
        """
        max_score = np.asarray(max_score, dtype=float)
        min_age = np.asarray(min_age, dtype=float)
        with np.errstate(invalid="ignore"):
            high = (max_score >= self.high_min_score) & (min_age < self.high_any_age_below)
            low = ((max_score <= self.low_max_score) & (np.asarray(n_age_missing) == 0)
                   & (min_age >= self.low_all_age_at_least))
        return np.where(high, HIGH, np.where(low, LOW, NO_PROTOCOL)).astype(np.int64)

    def describe(self) -> str:
        return (f"High-risk if the household maximum is ≥ {self.high_min_score:g} and any "
                f"member is under {self.high_any_age_below:g}; Low-risk if every score is ≤ "
                f"{self.low_max_score:g} and every member is at least "
                f"{self.low_all_age_at_least:g}; otherwise No protocol.")

    def to_dict(self) -> dict:
        return {k: float(v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict | None) -> "ProtocolRules":
        d = d or {}
        return cls(**{k: float(d[k]) for k in cls.__dataclass_fields__ if k in d})


@dataclass
class HouseholdSettings:
    bins: int = 20
    reference_split: str | None = None  # split value whose rows define the edges; None = all
    prebinned: bool = False  # the score column already holds bin scores 1 … bins
    flag: str | None = None  # extras column: 0/1 flagged member (e.g. alleged victim)
    age: str | None = None  # extras column: age in years
    membership: str = "footnote5"
    cutoff: int | None = None  # screened in at a bin score at least this; None = 0.8·bins
    protocol: ProtocolRules = field(default_factory=ProtocolRules)
    tie_break: bool = True  # rank ties of the communicated score by the probability
    policies: tuple = (1, 2, 3, 4, 5, 6, 7)
    max_size: int = 6  # household sizes shown 1 … max_size − 1 and "max_size+"
    features: tuple | None = None  # binary extra columns compared; None = every one
    feature_group_a: str | None = None  # None = the first group
    feature_group_b: str | None = None  # None = everyone outside group A

    def to_dict(self) -> dict:
        d = asdict(self)
        d["protocol"] = self.protocol.to_dict()
        d["policies"] = list(self.policies)
        d["features"] = None if self.features is None else list(self.features)
        return d

    @classmethod
    def from_dict(cls, d: dict | None) -> "HouseholdSettings":
        s = cls()
        for k, v in (d or {}).items():
            if k == "protocol":
                s.protocol = ProtocolRules.from_dict(v)
            elif k == "policies":
                s.policies = tuple(int(p) for p in v)
                if s.policies == (1, 2, 3, 4, 5, 6):  # every policy, saved before policy 7
                    s.policies = tuple(POLICIES)
            elif k == "features":
                s.features = None if v is None else tuple(v)
            elif k in cls.__dataclass_fields__:
                setattr(s, k, v)
        return s

    def cutoff_value(self) -> int:
        """The cutoff; by default the bin at 80% of the scale (16 of 20 bins, 8 of 10)."""
        if self.cutoff is None:
            return max(1, int(math.floor(0.8 * int(self.bins) + 0.5)))
        return self.cutoff

    def validate(self) -> None:
        if not isinstance(self.bins, (int, np.integer)) or not 2 <= int(self.bins) <= 1000:
            raise FairDeskError(f"The number of bins must be a whole number from 2 to 1000 "
                                f"(it is {self.bins!r}).")
        c = self.cutoff_value()
        if not isinstance(c, (int, np.integer)) or not 1 <= c <= self.bins:
            raise FairDeskError(f"The screen-in cutoff must be a bin score from 1 to "
                                f"{self.bins} (it is {c!r}).")
        if self.membership not in MEMBERSHIP:
            raise FairDeskError(f"Household group membership must be one of "
                                f"{', '.join(MEMBERSHIP)} (it is {self.membership!r}).")
        bad = [p for p in self.policies if p not in POLICIES]
        if bad or not self.policies:
            raise FairDeskError(f"Policies are numbered 1 to 7 ({bad or 'none'} given).")
        if not isinstance(self.max_size, (int, np.integer)) or self.max_size < 2:
            raise FairDeskError("The largest household size shown must be at least 2.")
        self.protocol.validate()


# ------------------------------------------------------------------------------ columns

def binary_column(values, column: str, row_numbers=None, what: str = "flag") -> tuple:
    """A 0/1, true/false or yes/no column as booleans.

    Returns (values as bool, missing mask); missing cells read as False. Raises
    FairDeskError naming the column and the rows when a cell holds anything else.
    """
    s = pd.Series(values)
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    meaning = np.array([1 if _text(u).strip().lower() in _TRUE else
                        0 if _text(u).strip().lower() in _FALSE else -1 for u in uniques],
                       dtype=np.int8)  # 1 true, 0 false, -1 anything else
    missing = codes < 0
    if len(uniques):
        m = meaning[np.where(missing, 0, codes)]
        bad, flag = ~missing & (m < 0), ~missing & (m == 1)
    else:
        bad = flag = np.zeros(len(s), dtype=bool)
    if bad.any():
        idx = np.flatnonzero(bad)
        rows = np.asarray(row_numbers)[idx[:5]] if row_numbers is not None else idx[:5] + 1
        examples = sorted({_text(uniques[codes[i]]) for i in idx[:50]})[:3]
        raise FairDeskError(
            f"Column '{column}' (the {what} column) must hold 0/1, true/false or yes/no, but "
            f"{idx.size:,} row(s) hold other values (e.g. {', '.join(repr(e) for e in examples)}; "
            f"{rows_text(rows, int(idx.size))}). Recode the column, or choose another one.")
    return flag, missing


def is_binary(values) -> bool:
    """True when the non-missing cells are 0/1, true/false or yes/no (at most two values)."""
    s = pd.Series(values)
    uniques = pd.unique(s.dropna())
    if len(uniques) == 0 or len(uniques) > 2:
        return False
    return all(_text(u).strip().lower() in _TRUE | _FALSE for u in uniques)


def numeric_column(values, column: str, row_numbers=None, what: str = "age") -> np.ndarray:
    """Numbers (NaN where missing); FairDeskError naming the rows holding text."""
    s = pd.Series(values)
    num = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    text = np.isnan(num) & ~s.isna().to_numpy()
    if text.any():
        idx = np.flatnonzero(text)
        rows = np.asarray(row_numbers)[idx[:5]] if row_numbers is not None else idx[:5] + 1
        raise FairDeskError(
            f"Column '{column}' (the {what} column) must hold numbers, but {idx.size:,} row(s) "
            f"hold text (e.g. {s.iloc[idx[0]]!r}; {rows_text(rows, int(idx.size))}). Fix these "
            "cells, or choose another column.")
    return num


def _text(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def split_text(values) -> np.ndarray:
    """Split values as text (1.0 reads "1"), to compare with a reference split value."""
    codes, uniques = pd.factorize(pd.Series(values), use_na_sentinel=True)
    names = np.array([_text(u) for u in uniques] + [""], dtype=object)
    return names[np.where(codes < 0, len(uniques), codes)]


# ------------------------------------------------------------------------------ bins

def equal_share_edges(values, n_bins: int = 20, weight=None) -> np.ndarray:
    """The n_bins − 1 edges of equal-share bins when a value equal to an edge goes to the
    higher bin: edge j is the smallest value v with weight(values < v) ≥ j/n_bins of the
    total, +inf when no value has that much below it (the bin is then empty).
    """
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        raise FairDeskError("No scores to make bins of.")
    if int(n_bins) < 2:
        raise FairDeskError("Use at least two bins.")
    order = np.argsort(v, kind="stable")
    w = None if weight is None else np.asarray(weight, dtype=float)[order]
    return _edges_of_sorted(v[order], int(n_bins), w)


def _edges_of_sorted(sv, n_bins: int, w=None) -> np.ndarray:
    """:func:`equal_share_edges` of values already sorted ascending (weights aligned)."""
    if sv.size == 0:
        raise FairDeskError("The reference set for the bin edges is empty.")
    w = np.ones(sv.size) if w is None else w
    first = np.flatnonzero(np.r_[True, sv[1:] != sv[:-1]])  # first row of each distinct value
    below = np.concatenate(([0.0], np.cumsum(w)))[first]  # weight strictly below each value
    target = np.arange(1, int(n_bins)) / int(n_bins) * float(w.sum())
    # a tiny relative tolerance keeps exact cases (j·N/n rows below) on the lower value
    idx = np.searchsorted(below, target * (1 - 1e-12), side="left")
    out = np.full(target.size, np.inf)
    ok = idx < first.size
    out[ok] = sv[first[idx[ok]]]
    return out


def ventile_scores(oriented, n_bins: int = 20, reference=None, weight=None):
    """Bin scores 1 … n_bins of every value, and the n_bins − 1 edges (oriented units).

    ``reference``: boolean mask of the rows defining the edges (default: all rows). Each
    bin holds 1/n_bins of the reference's weight, up to ties. A value equal to an edge goes
    to the higher bin.
    """
    s = np.asarray(oriented, dtype=float)
    ref = np.ones(s.shape[0], dtype=bool) if reference is None else np.asarray(reference, bool)
    if not ref.any():
        raise FairDeskError("The reference set for the bin edges is empty.")
    w = None if weight is None else np.asarray(weight, dtype=float)[ref]
    edges = equal_share_edges(s[ref], int(n_bins), w)
    return assign_bins(s, edges).astype(np.int64), edges


# ------------------------------------------------------------------------------ households

class _Households:
    """People sorted by household once, with the per-household aggregates every policy uses.

    All person arrays below are in sorted order (``order``); ``hh`` is each sorted person's
    household index; household h's members are ``starts[h] : starts[h] + sizes[h]``.
    """

    def __init__(self, households, n: int):
        codes, uniques = pd.factorize(pd.Series(households), use_na_sentinel=True)
        missing = codes < 0
        self.n_missing = int(missing.sum())
        if self.n_missing:  # each person without a household id is a household of one
            codes = codes.astype(np.int64)
            codes[missing] = len(uniques) + np.arange(self.n_missing)
        self.order = np.argsort(codes, kind="stable")
        sorted_codes = codes[self.order]
        self.starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]]) \
            if n else np.zeros(0, dtype=np.int64)
        self.sizes = np.diff(np.r_[self.starts, n]).astype(np.int64)
        self.n_households = int(self.starts.size)
        self.hh = np.repeat(np.arange(self.n_households), self.sizes)
        self.first_row = self.order[self.starts]  # a member of each household, original order

    def sort(self, a):
        return None if a is None else np.asarray(a)[self.order]

    def max(self, a):
        return np.maximum.reduceat(a, self.starts) if self.n_households else a[:0]

    def unsort(self, a):
        """Sorted person values back in the original row order."""
        out = np.empty_like(a)
        out[self.order] = a
        return out


@dataclass
class _Prepared:
    """Per-person (sorted) and per-household values shared by every policy."""

    hh: _Households
    bins: np.ndarray  # sorted persons: bin score
    rank: np.ndarray  # sorted persons: dense rank of the oriented probability
    n_ranks: int
    hh_max_bin: np.ndarray
    hh_max_rank: np.ndarray
    flag_bin: np.ndarray | None  # per household: flagged max (fallback household max)
    flag_rank: np.ndarray | None
    n_flagged_households: int
    protocol: np.ndarray | None  # per household: protocol code
    age_missing: int


def _prepare(bins_sorted, rank_sorted, n_ranks, hh: _Households, flag_sorted, age_sorted,
             rules: ProtocolRules) -> _Prepared:
    hh_max_bin = hh.max(bins_sorted)
    hh_max_rank = hh.max(rank_sorted)
    flag_bin = flag_rank = None
    n_flagged = 0
    if flag_sorted is not None:
        fb = hh.max(np.where(flag_sorted, bins_sorted, -1))
        fr = hh.max(np.where(flag_sorted, rank_sorted, -1))
        has = fb >= 0
        n_flagged = int(has.sum())
        flag_bin = np.where(has, fb, hh_max_bin)
        flag_rank = np.where(has, fr, hh_max_rank)
    protocol = None
    age_missing = 0
    if age_sorted is not None:
        missing = np.isnan(age_sorted)
        age_missing = int(missing.sum())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            min_age = np.fmin.reduceat(age_sorted, hh.starts) if hh.n_households else age_sorted
        n_missing = np.add.reduceat(missing.astype(np.int64), hh.starts) \
            if hh.n_households else np.zeros(0, np.int64)
        protocol = rules.assign(hh_max_bin, min_age, n_missing)
    return _Prepared(hh, bins_sorted, rank_sorted, n_ranks, hh_max_bin, hh_max_rank, flag_bin,
                     flag_rank, n_flagged, protocol, age_missing)


def communicated_scores(bins, households, flagged=None, age=None,
                        rules: ProtocolRules | None = None) -> dict:
    """What each person's household is shown under every score policy (the audit's Table 3).

    ``bins``: each person's bin score (1 … n); returns arrays in the input's row order:
    ``individual``, ``household_max``, ``flagged_max`` (None without ``flagged``) and
    ``protocol`` (labels from PROTOCOL_LABELS; None without ``age``).
    """
    bins = np.asarray(bins, dtype=np.int64)
    n = bins.shape[0]
    hh = _Households(households, n)
    flag_s = None if flagged is None else hh.sort(np.asarray(flagged, dtype=bool))
    age_s = None if age is None else hh.sort(np.asarray(age, dtype=float))
    prep = _prepare(hh.sort(bins), hh.sort(bins), int(bins.max(initial=0)) + 1, hh, flag_s,
                    age_s, rules or ProtocolRules())
    out = {"individual": bins.copy(),
           "household_max": hh.unsort(prep.hh_max_bin[hh.hh]),
           "flagged_max": None if prep.flag_bin is None else hh.unsort(prep.flag_bin[hh.hh]),
           "protocol": None}
    if prep.protocol is not None:
        out["protocol"] = np.asarray(PROTOCOL_LABELS, dtype=object)[
            hh.unsort(prep.protocol[hh.hh])]
    return out


# ------------------------------------------------------------------------------ ranking

class _Units:
    """The units of a policy (people or households): outcome, weight and group membership,
    with each group's positions and positive/negative weights taken once."""

    def __init__(self, label, weight, member, index=None):
        self.y = np.asarray(label) > 0
        self.w = np.asarray(weight, dtype=float)
        self.member = np.asarray(member, dtype=float)  # (G, n) 0/1
        self.pw = np.where(self.y, self.w, 0.0)
        self.nw = self.w - self.pw
        self.index = [np.flatnonzero(m > 0) for m in self.member] if index is None else index
        self.pw_g = [self.pw[ix] for ix in self.index]
        self.nw_g = [self.nw[ix] for ix in self.index]
        self.P, self.N = float(self.pw.sum()), float(self.nw.sum())


def rank_auc(key, n_keys: int, label, weight, member, index=None):
    """AUC overall, AUC per group and xAUC per group from integer ranks.

    ``key``: each unit's rank (0 … n_keys − 1, higher = riskier; equal keys are ties, which
    count half); ``member``: (G, n) 0/1, unit in group g (``index``: the positions of each
    group's units, if already known). xAUC[g] = P(a positive of g outranks a negative
    outside g). NaN where a denominator is zero.
    """
    return _rank_auc(np.asarray(key, dtype=np.int64), int(n_keys),
                     _Units(label, weight, member, index))


def _rank_auc(key, n_keys: int, u: _Units):
    """Positive and negative weights are histogrammed over the ranks; the number of
    (positive, negative) pairs ranked in order is then Σ_k pos[k]·(neg below k + ½·neg at
    k), dot products over the ranks: O(n + G·n_keys), no per-unit look-ups. The
    negatives outside group g are all negatives minus g's."""
    neg_all = np.bincount(key, u.nw, n_keys)
    pos_all = np.bincount(key, u.pw, n_keys)
    below_all = np.cumsum(neg_all)
    below_all -= neg_all
    overall = _ratio(np.dot(pos_all, below_all) + 0.5 * np.dot(pos_all, neg_all), u.P * u.N)
    G = len(u.index)
    auc, xauc = np.full(G, np.nan), np.full(G, np.nan)
    for g, ix in enumerate(u.index):  # a loop over groups, vectorised over ranks
        kg = key[ix]
        neg_g = np.bincount(kg, u.nw_g[g], n_keys)
        pos_g = np.bincount(kg, u.pw_g[g], n_keys)
        below_g = np.cumsum(neg_g)
        below_g -= neg_g
        Pg, Ng = float(u.pw_g[g].sum()), float(u.nw_g[g].sum())
        Nout = u.N - Ng
        if Nout <= 1e-9 * max(u.N, 1e-300):  # no negatives outside g (up to round-off)
            Nout = 0.0
        within = np.dot(pos_g, below_g) + 0.5 * np.dot(pos_g, neg_g)
        auc[g] = _ratio(within, Pg * Ng)
        across = np.dot(pos_g, below_all) + 0.5 * np.dot(pos_g, neg_all) - within
        xauc[g] = _ratio(max(across, 0.0), Pg * Nout)
    return overall, auc, xauc


def dense_rank(values, bound: int | None = None) -> tuple[np.ndarray, int]:
    """Ranks 0 … k − 1 of the distinct values (equal values share a rank), and k.

    Non-negative integers below ``bound`` are ranked in O(n + bound) without sorting.
    """
    values = np.asarray(values)
    if bound is not None and values.dtype.kind in "iu":
        present = np.zeros(int(bound), dtype=bool)
        present[values] = True
        dense = np.cumsum(present, dtype=np.int64) - 1
        return dense[values], int(dense[-1] + 1) if bound else 0
    uniq, inv = np.unique(values, return_inverse=True)
    return inv.reshape(-1).astype(np.int64), int(uniq.size)


def _ratio(num, den) -> float:
    return float(num) / float(den) if den > 0 else math.nan


# ------------------------------------------------------------------------------ results

@dataclass
class PolicyResult:
    number: int
    score: str
    outcome: str
    available: bool = True
    reason: str = ""
    unit: str = "person"  # "person" or "household"
    levels: list = field(default_factory=list)  # labels of the communicated scores
    n_units: int = 0
    n: np.ndarray | None = None  # (G,) units per group (unweighted)
    weight: np.ndarray | None = None  # (G,) weighted units
    positives: np.ndarray | None = None
    negatives: np.ndarray | None = None
    auc: np.ndarray | None = None
    auc_overall: float = math.nan
    xauc: np.ndarray | None = None
    fpr: np.ndarray | None = None
    fpr_overall: float = math.nan
    tpr: np.ndarray | None = None
    tpr_overall: float = math.nan
    screen_in: np.ndarray | None = None  # (G,) share of the group's units screened in
    screen_in_overall: float = math.nan
    distribution: np.ndarray | None = None  # (G + 1, L) weighted units per level; last = all
    fpr_rest: np.ndarray | None = None  # (G,) over the units not in the group (footnote 5)
    tpr_rest: np.ndarray | None = None
    screen_in_rest: np.ndarray | None = None
    auc_note: str = ""  # why no AUC is reported (protocol policies)

    @property
    def title(self) -> str:
        return f"{self.number}. {SCORE_SHORT[self.score]} score, {self.outcome} outcome"

    @property
    def unit_word(self) -> str:
        return "people" if self.unit == "person" else "households"

    def xauc_direction(self, group: str) -> str:
        """What xAUC(group) measures, written out."""
        return xauc_direction(group, self.unit_word)


def xauc_direction(group: str, units: str = "units") -> str:
    return (f"P(one of the {units} of '{group}' WITH the outcome is ranked above one of the {units} "
            f"outside '{group}' WITHOUT it); below 0.5 or below the group's AUC, the group's "
            "positives are ranked under the others' negatives")


@dataclass
class SizeResult:
    """Screen-in by household size for one score policy (the audit's Figure 8)."""

    score: str
    sizes: list  # labels "1", "2", …, "6+"
    n: np.ndarray  # (G, B) households of the group
    screened: np.ndarray  # (G, B)
    rate: np.ndarray  # (G, B)
    rate_other: np.ndarray  # (G, B) households not in the group
    ratio: np.ndarray  # (G, B) rate / rate_other
    n_all: np.ndarray  # (B,)
    rate_all: np.ndarray  # (B,)


@dataclass
class HouseholdResult:
    settings: HouseholdSettings
    group_names: list
    n_people: int
    n_households: int
    edges: np.ndarray  # user units (empty when prebinned)
    reference: str
    n_reference: int
    bin_share_reference: np.ndarray  # (bins,) weighted share of the reference per bin
    bin_share_all: np.ndarray
    policies: list
    sizes: dict  # score policy -> SizeResult
    features: list
    feature_groups: tuple
    warnings: list
    weighted: bool = False
    n_flagged_households: int = 0
    household_counts: np.ndarray | None = None  # (G,) households in each group

    def policy(self, number: int) -> PolicyResult:
        return next(p for p in self.policies if p.number == number)

    def to_json(self) -> dict:
        names = self.group_names
        warn = list(self.warnings)

        def val(x, what):
            x = float(x)
            if math.isnan(x):
                warn.append(what)
                return None
            return x

        out_policies = []
        for p in self.policies:
            item = {"policy": p.number, "score": p.score, "outcome": p.outcome,
                    "unit": p.unit, "available": p.available}
            if not p.available:
                item.update({"reason": p.reason, "n": None,
                             "auc": {**{g: None for g in names}, "overall": None},
                             "xauc": {g: None for g in names},
                             "fpr": {**{g: None for g in names}, "overall": None}})
                out_policies.append(item)
                continue
            tag = f"Policy {p.number} ({p.score} score, {p.outcome} outcome)"
            item["n"] = {**{g: int(p.n[i]) for i, g in enumerate(names)}, "overall": p.n_units}
            if not p.auc_note:
                item["auc"] = {**{g: val(p.auc[i], f"{tag}: AUC of group '{g}' is undefined: its "
                                         f"{p.unit_word} need both outcomes.")
                                  for i, g in enumerate(names)},
                               "overall": val(p.auc_overall, f"{tag}: overall AUC is undefined: "
                                              "both outcomes are needed.")}
            else:
                item["auc"] = {**{g: None for g in names}, "overall": None}
                item["auc_note"] = p.auc_note
            item["xauc"] = {g: val(p.xauc[i], f"{tag}: xAUC of group '{g}' is undefined: the "
                                   f"group has no positive {p.unit_word} or no negative "
                                   f"{p.unit_word} are outside it.")
                            for i, g in enumerate(names)}
            item["xauc_direction"] = {g: p.xauc_direction(g) for g in names}
            if self.settings.membership == "footnote5":
                for key in ("fpr", "tpr", "screen_in"):
                    arr = getattr(p, f"{key}_rest")
                    item[f"{key}_rest"] = {g: val(arr[i], f"{tag}: {key} of the {p.unit_word} not "
                                                  f"in '{g}' is undefined (0/0).")
                                           for i, g in enumerate(names)}
            item["fpr"] = {**{g: val(p.fpr[i], f"{tag}: FPR of group '{g}' is undefined (0/0): "
                                     f"the group has no {p.unit_word} without the outcome.")
                              for i, g in enumerate(names)},
                           "overall": val(p.fpr_overall, f"{tag}: overall FPR is undefined.")}
            item["tpr"] = {**{g: val(p.tpr[i], f"{tag}: TPR of group '{g}' is undefined (0/0): "
                                     f"the group has no {p.unit_word} with the outcome.")
                              for i, g in enumerate(names)},
                           "overall": val(p.tpr_overall, f"{tag}: overall TPR is undefined.")}
            item["screen_in"] = {**{g: val(p.screen_in[i], f"{tag}: screen-in rate of group "
                                           f"'{g}' is undefined: the group has no "
                                           f"{p.unit_word}.")
                                    for i, g in enumerate(names)},
                                 "overall": val(p.screen_in_overall,
                                                f"{tag}: screen-in rate is undefined.")}
            item["distribution"] = {
                "levels": list(p.levels),
                **{g: [float(v) for v in p.distribution[i]] for i, g in enumerate(names)},
                "all": [float(v) for v in p.distribution[-1]]}
            out_policies.append(item)
        sizes = []
        for score, s in self.sizes.items():
            for i, g in enumerate(names):
                for b, label in enumerate(s.sizes):
                    sizes.append({"score": score, "group": g, "size": label,
                                  "households": int(s.n[i, b]), "screened_in": int(s.screened[i, b]),
                                  "rate": _num(s.rate[i, b]), "rate_other": _num(s.rate_other[i, b]),
                                  "ratio": _num(s.ratio[i, b])})
        features = [{k: (_num(v) if isinstance(v, float) else v) for k, v in f.items()}
                    for f in self.features]
        if any(s["ratio"] is None for s in sizes):
            warn.append("Household size: a rate or ratio is null where a group (or the "
                        "households outside it) has no household of that size, or no one "
                        "outside it is screened in.")
        if any(f["ratio"] is None for f in features):
            warn.append("Feature disparity: a ratio is null where group B has no one with "
                        "the attribute (0 share) or a group is empty.")
        return {
            "policies": out_policies,
            "edges": [_num(e) for e in self.edges],
            "edge_convention": EDGE_CONVENTION,
            "bins": int(self.settings.bins),
            "prebinned": bool(self.settings.prebinned),
            "reference": self.reference,
            "n_people": self.n_people,
            "n_households": self.n_households,
            "groups": list(names),
            "membership": self.settings.membership,
            "cutoff": int(self.settings.cutoff_value()),
            "protocol_rules": self.settings.protocol.to_dict(),
            "tie_break": "probability" if self.settings.tie_break else "none",
            "policy_mapping": {str(k): {"score": s, "outcome": o} for k, (s, o) in POLICIES.items()},
            "household_size": sizes,
            "features": features,
            "feature_groups": list(self.feature_groups),
            "warnings": list(dict.fromkeys(warn)),
        }


def _num(x):
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else x


# ------------------------------------------------------------------------------ the audit

def _extra(data: AnalysisData, column: str | None, role: str):
    if column is None:
        return None
    if column not in data.extras:
        mapped = ", ".join(f"'{c}'" for c in data.extras) or "none"
        raise FairDeskError(f"The {role} column '{column}' is not among the extra attributes "
                            f"(mapped: {mapped}). Map it as an extra attribute on the Data page "
                            f"(or name it with --{role} on the command line).")
    return data.extras[column]


def reference_mask(data: AnalysisData, value) -> tuple[np.ndarray | None, str]:
    """Rows defining the bin edges: those of split ``value``, or all rows (None)."""
    if value is None or str(value) == "":
        return None, "all rows"
    if data.split is None:
        raise FairDeskError(f"A reference split '{value}' was asked for, but no split column is "
                            "mapped. Map the split column (role 'Split' on the Data page, or "
                            "--split COL), or use every row as the reference.")
    text = split_text(data.split)
    mask = text == _text(value)
    if not mask.any():
        present = sorted(set(text.tolist()) - {""})
        raise FairDeskError(f"No row has split '{value}'. The split values are: "
                            + ", ".join(f"'{v}'" for v in present[:12]) + ".")
    return mask, f"split = {_text(value)}"


def person_bins(data: AnalysisData, s: HouseholdSettings, ref_mask=None, order=None):
    """Each person's bin score 1 … s.bins, and the edges (oriented; empty when pre-binned):
    pre-binned scores are checked, otherwise equal-share bins of the reference rows.
    ``order`` may pass the scores' ascending sort when the caller has it already."""
    if s.prebinned:
        if not data.mapping.higher_is_positive:
            raise FairDeskError("Pre-binned scores must have the highest bin as the riskiest: "
                                "untick 'lower score = riskier', or let FairDesk bin the scores.")
        b = data.score
        bad = (b != np.round(b)) | (b < 1) | (b > s.bins)
        if bad.any():
            idx = np.flatnonzero(bad)
            raise FairDeskError(
                f"Column '{data.mapping.score}' is read as bin scores 1 to {s.bins}, but "
                f"{idx.size:,} row(s) hold other values (e.g. {b[idx[0]]:g}; "
                f"{rows_text(data.row_numbers[idx[:5]], int(idx.size))}). Set the number of bins "
                "to the highest score, or let FairDesk bin the scores.")
        return b.astype(np.int64), np.zeros(0)
    oriented = data.oriented
    if order is None:
        order = np.argsort(oriented, kind="stable")
    in_ref = slice(None) if ref_mask is None else ref_mask[order]
    w_ref = None if not data.weighted else data.weight[order][in_ref]
    edges_or = _edges_of_sorted(oriented[order][in_ref], s.bins, w_ref)
    return assign_bins(oriented, edges_or).astype(np.int64), edges_or


def audit_households(data: AnalysisData, settings: HouseholdSettings | None = None, *,
                     job: Job = NO_JOB) -> HouseholdResult:
    """Every requested policy: AUC, xAUC, FPR, TPR, screen-in and score distributions per
    group, screen-in by household size, and feature disparities."""
    s = settings or HouseholdSettings()
    s.validate()
    if data.label is None:
        raise FairDeskError("Household policies need an outcome column: map one (role "
                            "'Outcome') on the Data page, or give --label.")
    if data.households is None:
        raise FairDeskError("Household policies need a household id column: map one (role "
                            "'Household id') on the Data page, or give --household COL.")
    if data.n == 0:
        raise FairDeskError("There are no rows to analyse.")
    job.progress(0.02, "Sorting people by household")
    warn: list[str] = []
    n, G = data.n, data.n_groups
    rows = data.row_numbers
    flag_raw = _extra(data, s.flag, "flag")
    age_raw = _extra(data, s.age, "age")
    flag = age = None
    if flag_raw is not None:
        flag, fmiss = binary_column(flag_raw, s.flag, rows, "flag")
        if fmiss.any():
            warn.append(f"Column '{s.flag}': {int(fmiss.sum()):,} row(s) have no flag "
                        f"({rows_text(rows[np.flatnonzero(fmiss)[:5]], int(fmiss.sum()))}); "
                        "they count as not flagged.")
    if age_raw is not None:
        age = numeric_column(age_raw, s.age, rows, "age")
    hh = _Households(data.households, n)
    if hh.n_missing:
        warn.append(f"{hh.n_missing:,} row(s) have no household id; each is counted as a "
                    "household of one.")
    if data.weighted:
        warn.append("Household-level policies count each household once; the frequency "
                    "weights apply to the person-level policies only.")

    # --- bin scores --------------------------------------------------------------------
    job.progress(0.08, "Sorting the scores")
    ref_mask, ref_text = reference_mask(data, s.reference_split)
    oriented = data.oriented
    order = np.argsort(oriented, kind="stable")  # one sort: the ranks and the edges
    sorted_scores = oriented[order]
    job.progress(0.12, "Bin scores")
    bins, edges_or = person_bins(data, s, ref_mask, order)
    edges_user = data.to_oriented(edges_or) if edges_or.size else edges_or
    ref_w = data.weight if ref_mask is None else data.weight[ref_mask]
    ref_b = bins if ref_mask is None else bins[ref_mask]
    share_ref = np.bincount(ref_b - 1, ref_w, s.bins) / max(float(ref_w.sum()), 1e-300)
    share_all = np.bincount(bins - 1, data.weight, s.bins) / max(float(data.weight.sum()), 1e-300)
    empty = np.flatnonzero(share_ref == 0)
    if empty.size and not s.prebinned:
        warn.append(f"Bin(s) {', '.join(str(i + 1) for i in empty[:10])} of the reference set "
                    "are empty: tied scores span an edge"
                    + (" (an edge no score reaches is null)." if np.isinf(edges_or).any() else "."))
    job.progress(0.15, "Ranking the probabilities")
    if s.tie_break:  # dense rank of each person's probability, from the same sort
        new = np.r_[True, sorted_scores[1:] != sorted_scores[:-1]] if n else np.zeros(0, bool)
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.cumsum(new) - 1
        n_ranks = int(new.sum())
    else:
        rank, n_ranks = bins - 1, s.bins

    # --- households ----------------------------------------------------------------------
    job.progress(0.25, "Household maxima and protocols")
    bins_s = hh.sort(bins)
    prep = _prepare(bins_s, hh.sort(rank), n_ranks, hh, hh.sort(flag), hh.sort(age), s.protocol)
    if prep.age_missing:
        idx = np.flatnonzero(np.isnan(age))
        warn.append(f"Column '{s.age}': {idx.size:,} row(s) have no age "
                    f"({rows_text(rows[idx[:5]], int(idx.size))}); such a member is never "
                    "counted as under the High-risk age nor as old enough for Low-risk.")
    if prep.protocol is not None and s.bins != 20 and s.protocol == ProtocolRules():
        warn.append(f"The protocol rules (≥ 18, ≤ 12) are Allegheny's for 20 bins; with "
                    f"{s.bins} bins, set thresholds on your scale.")
    if flag is not None and prep.n_flagged_households == 0:
        warn.append(f"No one is flagged in column '{s.flag}': the flagged maximum equals the "
                    "household maximum everywhere.")
    y_s = hh.sort(data.label).astype(np.int8)
    w_s = hh.sort(data.weight)
    g_s = hh.sort(data.group)
    H = hh.n_households
    person_member = (g_s[None, :] == np.arange(G)[:, None]).astype(float)  # (G, n)
    counts = np.bincount(hh.hh * G + g_s, minlength=H * G).reshape(H, G) if G else \
        np.zeros((H, 0))
    if s.membership in ("any", "footnote5"):
        hmember = counts > 0
    elif s.membership == "all":
        hmember = counts == hh.sizes[:, None]
    else:
        hmember = 2 * counts > hh.sizes[:, None]
    household_member = np.ascontiguousarray(hmember.T).astype(float)  # (G, H)
    y_h = hh.max(y_s)
    w_h = np.ones(H)
    persons = _Units(y_s, w_s, person_member, [np.flatnonzero(g_s == g) for g in range(G)])
    households = _Units(y_h, w_h, household_member,
                        [np.flatnonzero(hmember[:, g]) for g in range(G)])

    # --- policies ------------------------------------------------------------------------
    keys_cache: dict = {}

    def household_keys(score):
        """(shown level, rank key, number of keys) per household, once per score policy.

        The key ranks by the shown score and breaks its ties by the aggregated probability;
        bins never decrease as the probability grows, so for bin scores this is the rank of
        the probability itself. Ranks are made dense over the households (fewer keys).
        """
        if score not in keys_cache:
            level, rank = {"household_max": (prep.hh_max_bin, prep.hh_max_rank),
                           "flagged_max": (prep.flag_bin, prep.flag_rank),
                           "protocol": (prep.protocol, prep.hh_max_rank)}[score]
            if s.tie_break:
                raw = level * prep.n_ranks + rank if score == "protocol" else rank
                bound = 3 * prep.n_ranks if score == "protocol" else prep.n_ranks
                keys_cache[score] = (level, *dense_rank(raw, bound))
            elif score == "protocol":
                keys_cache[score] = (level, level, 3)
            else:
                keys_cache[score] = (level, level - 1, s.bins)
        return keys_cache[score]

    results = []
    for i, number in enumerate(s.policies):
        job.progress(0.3 + 0.55 * i / len(s.policies), f"Policy {number}")
        score, outcome = POLICIES[number]
        res = PolicyResult(number, score, outcome)
        res.unit = "person" if outcome == "individual" else "household"
        if score == "flagged_max" and prep.flag_bin is None:
            res.available = False
            res.reason = ("needs a flag column (e.g. alleged victim): map it as an extra "
                          "attribute and choose it as the flag column")
            results.append(res)
            continue
        if score == "protocol" and prep.protocol is None:
            res.available = False
            res.reason = ("needs an age column: map it as an extra attribute and choose it as "
                          "the age column")
            results.append(res)
            continue
        if score == "individual":
            level_h = None
            key, n_keys = (prep.rank, prep.n_ranks) if s.tie_break else (bins_s - 1, s.bins)
        else:
            level_h, key_h, n_keys = household_keys(score)
        if res.unit == "person":
            level = bins_s if score == "individual" else level_h[hh.hh]
            if score != "individual":
                key = key_h[hh.hh]
            units = persons
        else:
            level, key, units = level_h, key_h, households
        _fill_policy(res, level, key, n_keys, units, s)
        results.append(res)

    # --- household size --------------------------------------------------------------------
    job.progress(0.88, "Screen-in by household size")
    sizes = {}
    cut = s.cutoff_value()
    for score in dict.fromkeys(POLICIES[p][0] for p in s.policies):
        screened = {"individual": prep.hh_max_bin >= cut,
                    "household_max": prep.hh_max_bin >= cut,
                    "flagged_max": None if prep.flag_bin is None else prep.flag_bin >= cut,
                    "protocol": None if prep.protocol is None else prep.protocol == HIGH}[score]
        if screened is not None:
            sizes[score] = _size_table(score, hh.sizes, screened, household_member, s.max_size)

    # --- features ----------------------------------------------------------------------------
    job.progress(0.94, "Feature disparity")
    features, fgroups = [], ()
    columns = list(data.extras) if s.features is None else list(s.features)
    if columns:
        a, b = s.feature_group_a, s.feature_group_b
        try:
            features, fgroups, skipped = feature_disparity(data, columns, a, b)
        except FairDeskError as err:
            warn.append(f"Feature disparity not computed: {err}")
        else:
            if skipped:
                warn.append("Feature disparity leaves out column(s) that are not 0/1: "
                            + ", ".join(f"'{c}'" for c in skipped) + ".")
    for p in results:
        if not p.available:
            warn.append(f"Policy {p.number} ({p.score} score, {p.outcome} outcome) is not "
                        f"computed: it {p.reason}.")
    job.progress(1.0, "Done")
    return HouseholdResult(
        settings=s, group_names=list(data.group_names), n_people=n, n_households=H,
        edges=np.asarray(edges_user, dtype=float), reference=ref_text,
        n_reference=int(n if ref_mask is None else ref_mask.sum()),
        bin_share_reference=share_ref, bin_share_all=share_all, policies=results, sizes=sizes,
        features=features, feature_groups=fgroups, warnings=warn, weighted=data.weighted,
        n_flagged_households=prep.n_flagged_households,
        household_counts=hmember.sum(axis=0).astype(np.int64))


def _fill_policy(res: PolicyResult, level, key, n_keys, u: _Units, s: HouseholdSettings):
    """Rates, AUCs and the score distribution of one policy over its units."""
    if res.score == "protocol":
        res.levels = list(PROTOCOL_LABELS)
        lev = level
        flagged = level == HIGH
    else:
        res.levels = [str(i) for i in range(1, s.bins + 1)]
        lev = level - 1
        flagged = level >= s.cutoff_value()
    L = len(res.levels)
    res.n_units = int(u.y.shape[0])
    member = u.member
    res.n = np.array([ix.size for ix in u.index], dtype=np.int64)
    res.weight = member @ u.w
    res.positives = member @ u.pw
    res.negatives = member @ u.nw
    fp, tp, sel = u.nw * flagged, u.pw * flagged, u.w * flagged
    with np.errstate(invalid="ignore", divide="ignore"):
        res.fpr = np.where(res.negatives > 0, (member @ fp) / res.negatives, np.nan)
        res.tpr = np.where(res.positives > 0, (member @ tp) / res.positives, np.nan)
        res.screen_in = np.where(res.weight > 0, (member @ sel) / res.weight, np.nan)
    res.fpr_overall = _ratio(fp.sum(), u.N)
    res.tpr_overall = _ratio(tp.sum(), u.P)
    res.screen_in_overall = _ratio(sel.sum(), u.w.sum())
    res.auc_overall, res.auc, res.xauc = _rank_auc(key, n_keys, u)
    if res.score == "protocol":  # three levels: no AUC, as in the audit's Table 4
        res.auc_overall, res.auc = math.nan, np.full(len(u.index), np.nan)
        res.auc_note = NO_AUC_REASON
    # the rest of each group (the units not in it), the audit's footnote 5 comparison
    rest = 1.0 - np.minimum(member, 1.0)
    neg_r, pos_r, w_r = rest @ u.nw, rest @ u.pw, rest @ u.w
    with np.errstate(invalid="ignore", divide="ignore"):
        res.fpr_rest = np.where(neg_r > 0, (rest @ fp) / np.where(neg_r > 0, neg_r, 1), np.nan)
        res.tpr_rest = np.where(pos_r > 0, (rest @ tp) / np.where(pos_r > 0, pos_r, 1), np.nan)
        res.screen_in_rest = np.where(w_r > 0, (rest @ sel) / np.where(w_r > 0, w_r, 1), np.nan)
    dist = np.empty((len(u.index) + 1, L))
    for g, ix in enumerate(u.index):
        dist[g] = np.bincount(lev[ix], u.w[ix], L)
    dist[-1] = np.bincount(lev, u.w, L)
    res.distribution = dist


def _size_table(score, sizes, screened, member, max_size) -> SizeResult:
    bucket = np.minimum(sizes, max_size) - 1
    B = max_size
    labels = [str(i) for i in range(1, max_size)] + [f"{max_size}+"]
    sc = screened.astype(float)
    n_all = np.bincount(bucket, minlength=B).astype(float)
    s_all = np.bincount(bucket, sc, B)
    G = member.shape[0]
    n = np.zeros((G, B))
    scr = np.zeros((G, B))
    for g in range(G):
        n[g] = np.bincount(bucket, member[g], B)
        scr[g] = np.bincount(bucket, member[g] * sc, B)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n > 0, scr / n, np.nan)
        n_out, s_out = n_all[None, :] - n, s_all[None, :] - scr
        rate_other = np.where(n_out > 0, s_out / n_out, np.nan)
        ratio = np.where(rate_other > 0, rate / rate_other, np.nan)
        rate_all = np.where(n_all > 0, s_all / n_all, np.nan)
    return SizeResult(score, labels, n.round().astype(np.int64), scr.round().astype(np.int64),
                      rate, rate_other, ratio, n_all.astype(np.int64), rate_all)


# ------------------------------------------------------------------------------ features

def feature_disparity(data: AnalysisData, columns, group_a: str | None = None,
                      group_b: str | None = None):
    """Risk ratio of binary attributes between two groups (the audit's Appendix A.2.2).

    Returns (rows sorted by ratio, largest first, undefined last; (name A, name B);
    skipped non-binary columns). Each row: feature, share_a, share_b, ratio, n_a, n_b,
    with_a, with_b (weighted). ``group_b`` None = everyone outside group A.
    """
    names = list(data.group_names)
    a_name = names[0] if group_a in (None, "") else group_a
    if a_name not in names:
        raise FairDeskError(f"Group A '{a_name}' is not a group; the groups are "
                            + ", ".join(f"'{g}'" for g in names) + ".")
    a = names.index(a_name)
    in_a = data.group == a
    if group_b in (None, ""):
        in_b, b_name = ~in_a, "all other groups"
    else:
        if group_b not in names:
            raise FairDeskError(f"Group B '{group_b}' is not a group; the groups are "
                                + ", ".join(f"'{g}'" for g in names) + ".")
        if group_b == a_name:
            raise FairDeskError("Choose two different groups to compare.")
        in_b, b_name = data.group == names.index(group_b), group_b
    w = data.weight
    wa, wb = float(w[in_a].sum()), float(w[in_b].sum())
    out, skipped = [], []
    for col in columns:
        values = data.extras.get(col)
        if values is None:
            raise FairDeskError(f"Column '{col}' is not among the extra attributes.")
        if not is_binary(values):
            skipped.append(col)
            continue
        has, _ = binary_column(values, col, data.row_numbers, "attribute")
        with_a, with_b = float(w[in_a & has].sum()), float(w[in_b & has].sum())
        sa = with_a / wa if wa > 0 else math.nan
        sb = with_b / wb if wb > 0 else math.nan
        ratio = sa / sb if sb > 0 else (math.inf if sa > 0 else math.nan)
        out.append({"feature": col, "share_a": sa, "share_b": sb, "ratio": ratio,
                    "n_a": int(in_a.sum()), "n_b": int(in_b.sum()),
                    "with_a": with_a, "with_b": with_b})
    # largest ratio first (∞: group B has no one with the attribute); undefined last
    out.sort(key=lambda r: (1, 0.0) if math.isnan(r["ratio"]) else (0, -r["ratio"]))
    return out, (a_name, b_name), skipped


def scenario_probabilities(data: AnalysisData, settings: dict):
    """Decision-table hook (fairdesk.scenarios, kind "probabilities"): who is screened in
    when every person's household is shown ``settings["score"]`` (one of SCORE_POLICIES):
    a bin score at or above the cutoff, or the High-risk protocol. ``settings["household"]``
    holds the HouseholdSettings. Returns (0/1 per person, tier = shown score or protocol, tiers)."""
    s = HouseholdSettings.from_dict(settings.get("household"))
    s.validate()
    policy = settings.get("score", "household_max")
    if policy not in SCORE_POLICIES:
        raise FairDeskError(f"Unknown household score policy '{policy}'; choose "
                            + ", ".join(SCORE_POLICIES) + ".")
    if data.households is None:
        raise FairDeskError("This scenario needs a household id column: map one on the Data page.")
    bins, _ = person_bins(data, s, reference_mask(data, s.reference_split)[0])
    flag = age = None
    if s.flag:
        flag, _ = binary_column(_extra(data, s.flag, "flag"), s.flag, data.row_numbers, "flag")
    if s.age:
        age = numeric_column(_extra(data, s.age, "age"), s.age, data.row_numbers, "age")
    shown = communicated_scores(bins, data.households, flag, age, s.protocol)
    if shown[policy] is None:
        raise FairDeskError(f"The '{policy}' policy needs a {'flag' if policy == 'flagged_max' else 'age'} "
                            "column: choose it on the Households page.")
    if policy == "protocol":
        code = np.zeros(data.n, dtype=np.int64)
        for i, label in enumerate(PROTOCOL_LABELS):  # three labels, vectorised over people
            code[shown[policy] == label] = i
        return (code == HIGH).astype(float), code, len(PROTOCOL_LABELS)
    score = np.asarray(shown[policy], dtype=np.int64)
    return (score >= s.cutoff_value()).astype(float), score - 1, int(s.bins)
