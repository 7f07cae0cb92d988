"""Preferential randomisation: continuous, monotone probability curves between two thresholds.

Small, Sokol, Manning, Salim & Chan, "Equalised Odds is not Equal Individual Odds:
Post-processing for Group and Individual Fairness". Fixed randomisation (Hardt et al.) gives
every row of a group with t0 ≤ score < t1 the same probability p of a positive decision, so
two people whose scores differ by a hair can have odds 0 and p, and a group whose p differs
from another's offers odds no one in the other group can get. The paper replaces the step by
a continuous non-decreasing curve φ(r) with φ(t0) = 0 and φ(t1) = 1 and the *same integral*
over [t0, t1] as the step (p·(t1 − t0)), so that the curve still "spends" the same amount of
randomisation. Its largest slope is a Lipschitz constant L (in score units): people whose
scores differ by δ have odds differing by at most L·δ.

In x = (r − t0)/(t1 − t0) ∈ [0, 1] each curve is a polynomial on [0, τ] and one on [τ, 1]
with τ = 1 − p (where the step's equivalent single threshold would be). The coefficients are
*derived from constraints*, solved as 10 × 10 linear systems (unknowns: five coefficients per
piece, unused powers constrained to zero) — the paper's Appendix D; its printed closed forms
(Appendix E) have typos, so nothing here is copied from them:

* linear     — φ(0) = 0, φ(1) = 1, continuous at τ, ∫φ = p. Two straight pieces meeting at
               (τ, p); slopes p/(1 − p) and (1 − p)/p.
* quadratic  — as linear, plus φ'(0) = 0 and φ'(1) = 0 (smooth where the curve meets 0 and 1).
               Pieces p/(1 − p)²·x² and 1 − (1 − p)/p²·(1 − x)², meeting at (τ, p).
* cubic      — piecewise cubic: φ(0) = 0, φ'(0) = 0, φ(1) = 1, φ'(1) = 0, continuous at τ with
               φ'(τ) = 0 on both sides, ∫φ = p: two "smoothsteps", 0 → p on [0, τ] and
               p → 1 on [τ, 1]; everywhere C¹.
* quartic    — one 4th-order polynomial with φ(0) = 0, φ'(0) = 0, φ(1) = 1, φ'(1) = 0,
               ∫φ = p: (30p − 15)x⁴ + (28 − 60p)x³ + (30p − 12)x². Monotone (a probability
               curve at all) only for 0.4 ≤ p ≤ 0.6; outside it dips below 0 or above 1.

The tests check continuity, monotonicity and the integral numerically, and compare with the
closed forms above.

Expected rates of many candidate (t0, t1, p) at once come from prefix sums of the weighted
moments Σ w·y·u^k and Σ w·(1 − y)·u^k (k ≤ 4) of each group's sorted, range-normalised scores
u: a band's expected true positives are Σ_k c_k h^(−k) Σ_j C(k, j)(−a)^(k−j) M_j over the
rows of each piece (a binary search each), so a search is vectorised over candidates and never
loops over rows. Those sums lose precision for very narrow bands (they subtract numbers of the
group's total weight), so candidates narrower than ``min_width`` of the score range are not
searched and every reported figure is recomputed directly on the rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

CURVE_FAMILIES = ("linear", "quadratic", "cubic", "quartic")
ALL_FAMILIES = ("fixed",) + CURVE_FAMILIES
FAMILY_TITLES = {"fixed": "Fixed (step, Hardt et al.)", "linear": "Linear",
                 "quadratic": "Quadratic", "cubic": "Piecewise cubic",
                 "quartic": "4th order (0.4 ≤ p ≤ 0.6)"}
MONOTONE_P = {"linear": (0.0, 1.0), "quadratic": (0.0, 1.0), "cubic": (0.0, 1.0),
              "quartic": (0.4, 0.6), "fixed": (0.0, 1.0)}
_P_EDGE = 1e-6  # p this close to 0 or 1 is a single threshold (the curve would be a jump)
_DEG = 4
_NC = _DEG + 1


# ------------------------------------------------------------------------------------------
# coefficients from the constraints

def _val(x):
    return np.stack([x ** k for k in range(_NC)], axis=-1)


def _der(x):
    return np.stack([k * x ** (k - 1) if k else np.zeros_like(x) for k in range(_NC)], axis=-1)


def _int(a, b):
    return np.stack([(b ** (k + 1) - a ** (k + 1)) / (k + 1) for k in range(_NC)], axis=-1)


def constraint_system(family: str, p):
    """The linear system A·c = r for the coefficients c = (left piece a0…a4, right b0…b4)
    of ``family`` at each p (array); returns (A, r) of shapes (N, 10, 10) and (N, 10)."""
    p = np.atleast_1d(np.asarray(p, dtype=float))
    N = p.size
    tau = 1.0 - p
    zero, one = np.zeros(N), np.ones(N)
    Z = np.zeros((N, _NC))
    rows, rhs = [], []

    def add(left, right, value):
        rows.append(np.concatenate([left, right], axis=1))
        rhs.append(value)

    add(_val(zero), Z, zero)                                   # φ(0) = 0
    add(Z, _val(one), one)                                     # φ(1) = 1
    add(_int(zero, tau), _int(tau, one), p)                    # ∫ φ = p (the step's integral)
    if family == "linear":
        add(_val(tau), -_val(tau), zero)                       # continuous at τ
        zeros = [(0, k) for k in (2, 3, 4)] + [(1, k) for k in (2, 3, 4)]
    elif family == "quadratic":
        add(_der(zero), Z, zero)                               # flat where it leaves 0
        add(Z, _der(one), zero)                                # flat where it reaches 1
        add(_val(tau), -_val(tau), zero)
        zeros = [(0, 3), (0, 4), (1, 3), (1, 4)]
    elif family == "cubic":
        add(_der(zero), Z, zero)
        add(Z, _der(one), zero)
        add(_val(tau), -_val(tau), zero)
        add(_der(tau), Z, zero)                                # flat at τ, both sides (C¹)
        add(Z, _der(tau), zero)
        zeros = [(0, 4), (1, 4)]
    elif family == "quartic":
        add(_der(zero), Z, zero)
        add(Z, _der(one), zero)
        for k in range(_NC):                                   # one polynomial: both pieces equal
            e = np.zeros((N, _NC))
            e[:, k] = 1.0
            add(e, -e, zero)
        zeros = []
    else:
        raise ValueError(f"unknown curve family {family!r}")
    for piece, k in zeros:
        e = np.zeros((N, 2 * _NC))
        e[:, piece * _NC + k] = 1.0
        rows.append(e)
        rhs.append(zero)
    A = np.stack(rows, axis=1)
    r = np.stack(rhs, axis=1)
    return A, r


def coefficients(family: str, p) -> np.ndarray:
    """(N, 2, 5): polynomial coefficients in x of the left ([0, τ]) and right ([τ, 1]) pieces.

    "fixed" is the step (φ = p on the whole band). p is clipped to [1e-6, 1 − 1e-6]; callers
    treat p at the edges as a single threshold.
    """
    p = np.atleast_1d(np.asarray(p, dtype=float))
    if family == "fixed":
        c = np.zeros((p.size, 2, _NC))
        c[:, :, 0] = p[:, None]
        return c
    pc = np.clip(p, _P_EDGE, 1 - _P_EDGE)
    A, r = constraint_system(family, pc)
    c = np.linalg.solve(A, r[..., None])[..., 0]
    return c.reshape(p.size, 2, _NC)


def _polyval(c, x):
    """c: (..., 5) coefficients, x broadcastable: Σ c_k x^k by Horner."""
    out = c[..., _DEG]
    for k in range(_DEG - 1, -1, -1):
        out = out * x + c[..., k]
    return out


def curve_x(family: str, p: float, x) -> np.ndarray:
    """φ at normalised positions x (array) for one p; 0 below 0 and 1 from 1 on."""
    x = np.asarray(x, dtype=float)
    if family == "fixed":
        return np.where(x >= 1, 1.0, np.where(x >= 0, p, 0.0))
    c = _one_p(family, p)[0]
    tau = 1.0 - p
    v = np.where(x < tau, _polyval(c[0], x), _polyval(c[1], x))
    return np.where(x >= 1, 1.0, np.where(x < 0, 0.0, v))


def phi(family: str, t0: float, t1: float, p: float, r) -> np.ndarray:
    """Probability of a positive decision at oriented scores r under (family, t0, t1, p).

    r ≥ t1 → 1; r < t0 → 0; in between the step p or the curve. t0 == t1, or p at 0 or 1 for a
    curve, is a single threshold (at t1 for p = 0, else at t0). Curves that leave [0, 1] (the
    quartic outside 0.4 ≤ p ≤ 0.6) are clipped to [0, 1], as a deployed rule must be.
    """
    r = np.asarray(r, dtype=float)
    if not t1 >= t0:
        raise ValueError("t0 must not exceed t1")
    single = single_threshold(family, t0, t1, p)
    if single is not None:
        return (r >= single).astype(float)
    if family == "fixed":
        return np.where(r >= t1, 1.0, np.where(r >= t0, float(p), 0.0))
    if not (math.isfinite(t0) and math.isfinite(t1)):
        raise ValueError("a curve needs finite thresholds")
    x = (r - t0) / (t1 - t0)
    return np.clip(curve_x(family, p, x), 0.0, 1.0)


def single_threshold(family: str, t0: float, t1: float, p: float):
    """The threshold when (family, t0, t1, p) is a deterministic rule, else None."""
    if t1 == t0:
        return t0
    if family == "fixed":
        return None if 0.0 < p < 1.0 else (t1 if p <= 0.0 else t0)
    if p <= _P_EDGE:
        return t1
    if p >= 1 - _P_EDGE:
        return t0
    return None


# ------------------------------------------------------------------------------------------
# slopes: Lipschitz constant and monotonicity

def slope_extremes(family: str, p, coef=None) -> tuple[np.ndarray, np.ndarray]:
    """(min, max) of φ'(x) over [0, 1] for each p, in x units (divide by t1 − t0 for score
    units). Exact: each piece's derivative is checked at its ends and where φ'' = 0.
    ``coef``: ``coefficients(family, p)`` when the caller has them already."""
    p = np.atleast_1d(np.asarray(p, dtype=float))
    if family == "fixed":
        return np.full(p.size, np.nan), np.full(p.size, np.inf)
    c = coefficients(family, p) if coef is None else coef
    tau = 1.0 - np.clip(p, _P_EDGE, 1 - _P_EDGE)
    lo = np.full(p.size, np.inf)
    hi = np.full(p.size, -np.inf)
    for piece, (a, b) in enumerate(((np.zeros(p.size), tau), (tau, np.ones(p.size)))):
        cc = c[:, piece, :]
        d = np.stack([cc[:, 1], 2 * cc[:, 2], 3 * cc[:, 3], 4 * cc[:, 4], np.zeros(p.size)], axis=1)
        # φ'' = d1 + 2 d2 x + 3 d3 x²  (d = coefficients of φ')
        A2, B2, C2 = 3 * d[:, 3], 2 * d[:, 2], d[:, 1]
        cands = [a, b]
        with np.errstate(invalid="ignore", divide="ignore"):
            disc = B2 * B2 - 4 * A2 * C2
            sq = np.sqrt(np.where(disc >= 0, disc, np.nan))
            quad = np.abs(A2) > 1e-14
            r1 = np.where(quad, (-B2 + sq) / (2 * A2), np.where(np.abs(B2) > 1e-14, -C2 / B2, np.nan))
            r2 = np.where(quad, (-B2 - sq) / (2 * A2), np.nan)
        for rt in (r1, r2):
            cands.append(np.where((rt >= a) & (rt <= b), rt, a))
        X = np.stack(cands)  # (5, N)
        vals = _polyval(d[None, :, :], X)
        lo = np.minimum(lo, vals.min(axis=0))
        hi = np.maximum(hi, vals.max(axis=0))
    return lo, hi


def lipschitz(family: str, t0: float, t1: float, p: float) -> float:
    """Largest |φ'| in score units: ∞ for a step or a single threshold (a jump)."""
    if family == "fixed" or single_threshold(family, t0, t1, p) is not None \
            or not math.isfinite(t1 - t0):
        return math.inf
    _, lo, hi = _one_p(family, p)
    return float(max(hi, -lo) / (t1 - t0))


def is_monotone(family: str, p: float) -> bool:
    """Whether φ is non-decreasing on [t0, t1] (the quartic only for 0.4 ≤ p ≤ 0.6)."""
    if family == "fixed":
        return True
    if p <= _P_EDGE or p >= 1 - _P_EDGE:
        return True
    lo = _one_p(family, p)[1]
    return bool(lo >= -1e-9)


_CACHE: dict = {}  # family → (sorted p, coefficients (K, 2, 5), smallest and largest slope (K,))
_CACHE_LIMIT = 200_000


def coef_and_slope(family: str, p) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients (N, 2, 5) and largest slope φ' (N,) in x units, solving the constraint
    system once per distinct p (a search revisits the same p many times). The known p of a
    family are kept sorted, so a lookup is a binary search, not a loop over values."""
    C, _, hi = coef_and_slopes(family, p)
    return C, hi


def coef_and_slopes(family: str, p) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coefficients (N, 2, 5), smallest and largest slope φ' (N,) in x units: exactly what
    :func:`coefficients` and :func:`slope_extremes` give, cached (see :func:`coef_and_slope`)."""
    p = np.asarray(p, dtype=float)
    known, C, LO, HI = _CACHE.get(family, (np.empty(0), np.empty((0, 2, _NC)), np.empty(0), np.empty(0)))
    if known.size:  # all known (the usual case in a search): one binary search, no sort
        pos = np.minimum(np.searchsorted(known, p), known.size - 1)
        if np.array_equal(known[pos], p):
            return C[pos], LO[pos], HI[pos]
    uniq, inv = np.unique(p, return_inverse=True)
    pos = np.searchsorted(known, uniq)
    found = pos < known.size
    found[found] = known[pos[found]] == uniq[found]
    if not found.all():
        missing = uniq[~found]
        if known.size + missing.size > _CACHE_LIMIT:
            known, C, LO, HI = np.empty(0), np.empty((0, 2, _NC)), np.empty(0), np.empty(0)
        # each p's system is solved on its own, so the batch does not change its figures
        known = np.concatenate([known, missing])
        new = coefficients(family, missing)
        lo, hi = slope_extremes(family, missing, new)
        C = np.concatenate([C, new])
        LO = np.concatenate([LO, lo])
        HI = np.concatenate([HI, hi])
        order = np.argsort(known, kind="stable")
        known, C, LO, HI = known[order], C[order], LO[order], HI[order]
        _CACHE[family] = (known, C, LO, HI)
        pos = np.searchsorted(known, uniq)
    idx = pos[inv]
    return C[idx], LO[idx], HI[idx]


def _one_p(family: str, p: float):
    """Coefficients (2, 5), smallest and largest slope of one curve: from the cache when p
    is a number (the same figures as solving afresh), else solved."""
    p = float(p)
    if math.isfinite(p):
        c, lo, hi = coef_and_slopes(family, np.array([p]))
    else:
        c = coefficients(family, p)
        lo, hi = slope_extremes(family, p, c)
    return c[0], float(lo[0]), float(hi[0])


# ------------------------------------------------------------------------------------------
# expected rates of many candidates at once

class GroupMoments:
    """One group's rows sorted by oriented score, and their scores normalised to
    u = (score − lowest) / range ∈ [0, 1]."""

    def __init__(self, score, weight, label):
        s = np.asarray(score, dtype=float)
        self.score = s
        self.weight = np.asarray(weight, dtype=float)
        self.label = np.asarray(label, dtype=float)
        self.lo = float(s[0]) if s.size else 0.0
        hi = float(s[-1]) if s.size else 1.0
        self.range = hi - self.lo if hi > self.lo else 1.0
        self.u = (s - self.lo) / self.range
        self.P = float(np.sum(self.weight * self.label))
        self.N = float(np.sum(self.weight * (1.0 - self.label)))
        self.n = s.size
        self._multi = None

    def to_u(self, t):
        return (np.asarray(t, dtype=float) - self.lo) / self.range

    def to_score(self, u):
        return self.lo + np.asarray(u, dtype=float) * self.range

    def expected_counts_u(self, family: str, a, b, p, coef=None):
        """Expected (TP, FP) for candidates in normalised units (a = t0, b = t1), from the
        moments (see :class:`MultiMoments`)."""
        if self._multi is None:
            self._multi = MultiMoments([self])
        a = np.asarray(a, dtype=float)
        b = np.asarray(b, dtype=float)
        p = np.broadcast_to(np.asarray(p, dtype=float), a.shape)
        if coef is None:
            coef = coef_and_slope(family, p)[0] if family != "fixed" else coefficients(family, p)
        return self._multi.counts(np.zeros(a.size, dtype=np.int64), a, b, p, coef,
                                  np.full(a.size, family == "fixed"))

    def direct_counts(self, family: str, t0: float, t1: float, p: float):
        """Expected (TP, FP) of one rule, evaluated row by row (vectorised over the rows)."""
        v = phi(family, t0, t1, p, self.score)
        return float(np.sum(v * self.weight * self.label)), \
            float(np.sum(v * self.weight * (1.0 - self.label)))


def compensated_cumsum(x: np.ndarray):
    """Prefix sums along the last axis as (hi, lo) with a leading 0: hi is numpy's running sum
    and lo accumulates the rounding error of every addition (Knuth's TwoSum, vectorised: the
    running sum is sequential, so each step's error is known from hi alone). A range sum
    (hi[b] − hi[a]) + (lo[b] − lo[a]) is then accurate relative to the range, not to the
    whole total."""
    z = np.zeros(x.shape[:-1] + (1,))
    hi = np.concatenate([z, np.cumsum(x, axis=-1)], axis=-1)
    a, s = hi[..., :-1], hi[..., 1:]
    bb = s - a
    err = (a - (s - bb)) + (x - bb)
    lo = np.concatenate([z, np.cumsum(err, axis=-1)], axis=-1)
    return hi, lo


def _powers(x):
    """(…, 5): x⁰ … x⁴ by repeated multiplication (cheaper than ``**``)."""
    out = np.empty(np.shape(x) + (_NC,))
    out[..., 0] = 1.0
    for k in range(1, _NC):
        out[..., k] = out[..., k - 1] * x
    return out


def _sums(d):
    """(..., 2, 5) band sums from differences of table rows (..., 20): each running sum's
    difference plus its rounding errors' difference."""
    return (d[..., :2 * _NC] + d[..., 2 * _NC:]).reshape(d.shape[:-1] + (2, _NC))


def _dot5(q, s, work=None):
    """Σ_j q_j s_j over the leading axis of q (J ≤ 5, …) and the second of s (2, ≥ J, …),
    summed in the order numpy's einsum uses for a contiguous five-term contraction (two
    lanes: ((0 + 2) + 4) + (1 + 3)), so that band-major and candidate-major evaluations of
    the same candidate round alike. q has only the powers a family uses (J = 2, 3, 4 for
    the linear, quadratic and cubic curves): the others are exact zeros, whose terms would
    add exact zeros, so leaving them out changes no figure. ``work``: an array of
    (2, J, …) to write the products to."""
    J = q.shape[0]
    P = np.multiply(q[None], s[:, :J], out=work)
    out, odd = P[:, 0], P[:, 1]  # in place: no temporary per step
    if J > 2:
        out += P[:, 2]
    if J > 4:
        out += P[:, 4]
    if J > 3:
        odd += P[:, 3]
    out += odd
    return out


def _used_powers(coef) -> int:
    """How many leading powers of x the coefficients (…, 5) use (the rest are exact zeros)."""
    nz = np.flatnonzero(np.any(coef.reshape(-1, _NC) != 0, axis=0))
    return int(nz[-1]) + 1 if nz.size else 1


_KJ = np.clip(np.arange(_NC)[:, None] - np.arange(_NC)[None, :], 0, None)  # k − j
_CKJ = np.array([[math.comb(k, j) if j <= k else 0 for j in range(_NC)] for k in range(_NC)],
                dtype=float)


# ------------------------------------------------------------------------------------------
# search

class MultiMoments:
    """Several groups' weighted moments side by side, so that one array operation evaluates
    candidates of every group and family at once.

    Group g's normalised scores are shifted to u + 10g (candidates live in [−3, 4] + 10g), so
    one binary search serves all groups. The moments Σ w·y·u^k and Σ w·(1 − y)·u^k (k ≤ 4)
    are kept as compensated prefix sums, so that the sums over a narrow band are accurate to
    the band's own size; a band's expected true positives are then
    Σ_k c_k h^(−k) Σ_j C(k, j)(−a)^(k−j) M_j over the rows of each piece of the curve.

    A binary search for a threshold (side "left") always lands where a run of equal scores
    starts, so the prefix sums are kept only there: one row per distinct score, the same
    numbers as over all rows. The four sums sit side by side in one row-major table, running
    sums (positives', negatives') then their rounding errors, so a band's sums are one gather
    of 20 adjacent numbers per end, and adding the errors to the sums one contiguous add. A
    column-major copy serves the grid and the pattern search, which gather many candidates
    at once and lay them out candidate-minor (each step then one long array operation). All
    three evaluations (:meth:`counts`, :meth:`grid_counts`, :meth:`neighbour_counts`) sum
    their dot products in one order (:func:`_dot5`)."""

    SHIFT = 10.0

    def __init__(self, groups: list[GroupMoments]):
        self.groups = groups
        key = np.concatenate([m.u + self.SHIFT * g for g, m in enumerate(groups)])
        u = np.concatenate([m.u for m in groups])
        w = np.concatenate([m.weight for m in groups])
        y = np.concatenate([m.label for m in groups])
        powers = u[None, :] ** np.arange(_NC)[:, None]  # (5, n)
        Mp, Lp = compensated_cumsum(powers * (w * y))
        Mn, Ln = compensated_cumsum(powers * (w * (1.0 - y)))
        first = np.ones(key.size, dtype=bool)
        first[1:] = key[1:] != key[:-1]
        starts = np.append(np.flatnonzero(first), key.size)  # rows where a distinct score starts
        self.key = key[first]
        table = np.concatenate([Mp, Mn, Lp, Ln])[:, starts]
        self.table = np.ascontiguousarray(table.T)  # (d+1, 20)
        self.table_t = np.ascontiguousarray(table)  # (20, d+1): the grid gathers columns
        end = np.cumsum([m.n for m in groups]).astype(np.int64)
        self.end = np.searchsorted(starts, end)  # each group's end, in distinct scores
        self._work: dict = {}
        self.P = np.array([m.P for m in groups])
        self.N = np.array([m.N for m in groups])

    def scratch(self, name: str, shape) -> np.ndarray:
        """A reused work array of ``shape`` (its contents undefined): the grid's chunks all
        have the same size, and fresh arrays of megabytes cost more than the arithmetic."""
        n = math.prod(shape)
        buf = self._work.get(name)
        if buf is None or buf.size < n:
            buf = self._work[name] = np.empty(n)
        return buf[:n].reshape(shape)

    def _band_sums(self, lo, hi):
        """(..., 2, 5) sums over distinct scores [lo, hi): positives' and negatives' moments
        (each the running sum's difference plus its rounding errors' difference)."""
        d = self.table[hi] - self.table[lo]
        return _sums(d)

    def counts(self, g, a, b, p, coef, fixed):
        """Expected (TP, FP) of candidates (group g, normalised a = t0, b = t1, p)."""
        h = b - a
        tau = np.where(fixed, b, a + (1.0 - p) * h)
        off = self.SHIFT * g
        i0 = np.searchsorted(self.key, a + off, side="left")
        it = np.searchsorted(self.key, tau + off, side="left")
        i1 = np.searchsorted(self.key, b + off, side="left")
        top = self._band_sums(i1, self.end[g])[..., 0].T  # (2, N): rows at or above t1
        V = self._shift_matrix(a, h)
        for piece, (lo, hi) in enumerate(((i0, it), (it, i1))):
            q = np.matmul(coef[:, piece, None, :], V)[:, 0, :]  # (N, 5): the piece in powers of u
            top = top + _dot5(np.ascontiguousarray(q.T), self._band_sums(lo, hi).transpose(1, 2, 0))
        return top[0], top[1]

    def _shift_matrix(self, a, h):
        """(…, 5, 5): V[k, j] = h^(−k) C(k, j) (−a)^(k−j), so that the coefficients in u of a
        piece with coefficients c in x = (u − a)/h are c·V. ``h`` has a's shape, or one more
        axis (a's powers are then computed once for all the bands that start at a)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            hinv = np.where(h > 0, 1.0 / np.where(h > 0, h, 1.0), 0.0)
        A = _powers(-a)[..., _KJ] * _CKJ
        if h.ndim > a.ndim:
            A = A[..., None, :, :]
        return _powers(hinv)[..., :, None] * A

    def grid_counts(self, g: int, a, b, p, coef):
        """Expected (TP, FP), shape (M, K), of every band (a[m], b[m]) of group g (normalised
        units) with every probability p[k] (coefficients ``coef``, (K, 2, 5))."""
        bands = self.grid_bands(g, a, b)
        split = self.grid_split(bands, p) if np.any(coef[:, 0] != coef[:, 1]) else None
        tp, fp = self.grid_apply(bands, split, coef)
        return tp.T, fp.T

    def grid_bands(self, g: int, a, b):
        """What every candidate of the bands (a[m], b[m]) of group g shares, whatever its p
        and family: the ends' binary searches and table rows, the sums at or above t1 and
        the change of variable V."""
        h = b - a
        off = self.SHIFT * g
        i0 = np.searchsorted(self.key, a + off, side="left")
        i1 = np.searchsorted(self.key, b + off, side="left")
        R = self.table
        R0, R1 = R[i0], R[i1]
        top = _sums(R[self.end[g]] - R1)[:, :, 0].T[:, None, :]  # (2, 1, M)
        V = self._shift_matrix(a, h)
        return g, a, h, R0, R1, top, V

    @staticmethod
    def band_slice(bands, sl):
        """:meth:`grid_bands` of the bands ``sl`` only (the same figures)."""
        g, a, h, R0, R1, top, V = bands
        return g, a[sl], h[sl], R0[sl], R1[sl], top[..., sl], V[sl]

    def grid_split(self, bands, p):
        """The moments (2 pieces, 2, 5, K, M) of the left and right pieces of the bands with
        every p[k], shared by every family searched over the same p. Laid out p-major and
        band-minor, so that every step below is a whole-array operation; one gather at τ,
        the differences taken in place."""
        g, a, h, R0, R1, _, _ = bands
        tau = a[None, :] + (1.0 - p)[:, None] * h[None, :]  # (K, M)
        it = np.searchsorted(self.key, tau + self.SHIFT * g, side="left")
        d = self.scratch("split", (2, 4 * _NC) + tau.shape)
        t = np.take(self.table_t, it, axis=1, out=d[1], mode="clip")  # (20, K, M); it is in range
        np.subtract(t, np.ascontiguousarray(R0.T)[:, None, :], out=d[0])
        np.subtract(np.ascontiguousarray(R1.T)[:, None, :], t, out=t)
        s = d[:, :2 * _NC]
        s += d[:, 2 * _NC:]  # each running sum's difference plus its errors'
        return s.reshape((2, 2, _NC) + tau.shape)

    def grid_apply(self, bands, split, coef, J=None):
        """Expected (TP, FP), (K, M), of one family (coefficients (K, 2, 5)) from
        :meth:`grid_bands` and :meth:`grid_split`; ``split`` None when both pieces are one
        polynomial (the quartic): then it is summed over the whole band at once. ``J``: the
        powers the family uses (:func:`_used_powers`), when the caller knows them."""
        top, V = bands[5], bands[6]
        out = top
        J = max(_used_powers(coef), 2) if J is None else J
        if split is None:
            whole = _sums(bands[4] - bands[3]).transpose(1, 2, 0)[:, :, None, :]  # (2, 5, 1, M)
            q = np.ascontiguousarray(np.matmul(coef[None, :, 1, :], V)[..., :J].transpose(2, 1, 0))  # (J, K, M)
            return tuple(out + _dot5(q, whole, self.scratch("dot", (2,) + q.shape)))
        for piece in range(2):
            q = np.ascontiguousarray(np.matmul(coef[None, :, piece, :], V)[..., :J].transpose(2, 1, 0))  # (J, K, M)
            out = out + _dot5(q, split[piece], self.scratch("dot", (2,) + q.shape))
        return out[0], out[1]

    def neighbour_counts(self, g, a, b, p, coef):
        """Expected (TP, FP), shape (n, 3, 3, 3), of the 27 candidates (a[i, x], b[i, y],
        p[i, z]) around each of n search points (group g[i]; coefficients ``coef`` (n, 3, 2, 5)
        of its three p). Binary searches, sums at or above t1 and the change of variable are
        done once per (t0, t1); per candidate remain the split at τ and two dot products.
        The work is laid out (z, x, y, point), the points innermost, so that every step is a
        whole-array operation with long inner loops; the result is a view in (point, x, y, z)."""
        n = g.size
        # binary searches point by point (queries close together search faster), then transposed
        off = (self.SHIFT * g.astype(float))[:, None]
        Tt = self.table_t
        R0 = np.take(Tt, np.searchsorted(self.key, a + off, side="left").T, axis=1)  # (20, 3 x, n)
        R1 = np.take(Tt, np.searchsorted(self.key, b + off, side="left").T, axis=1)  # (20, 3 y, n)
        top = np.take(Tt, self.end[g], axis=1)[:, None, :] - R1  # rows at or above t1
        top = np.stack([top[0] + top[2 * _NC], top[_NC] + top[3 * _NC]])  # (2, 3 y, n): Σ w·y, Σ w·(1 − y)
        h = b[:, None, :] - a[:, :, None]  # (n, 3 x, 3 y)
        V = self._shift_matrix(a, h)  # (n, 3, 3, 5, 5)
        tau = a[:, :, None, None] + (1.0 - p)[:, None, None, :] * h[..., None]  # (n, x, y, z)
        it = np.searchsorted(self.key, tau + off[:, :, None, None], side="left")
        it = it.transpose(3, 1, 2, 0)
        d = self.scratch("neighbour", (2, 4 * _NC) + it.shape)
        t = np.take(Tt, it, axis=1, out=d[1], mode="clip")  # (20, z, x, y, n); it is in range
        np.subtract(t, R0[:, None, :, None, :], out=d[0])
        np.subtract(R1[:, None, None, :, :], t, out=t)
        s = d[:, :2 * _NC]
        s += d[:, 2 * _NC:]  # each running sum's difference plus its errors'
        s = s.reshape((2, 2, _NC) + t.shape[1:])
        out = top[:, None, None, :, :]
        J = max(_used_powers(coef), 2)
        for piece in range(2):
            q = np.matmul(coef[:, None, None, :, piece, :], V)  # (n, x, y, z, 5): in powers of u
            q = np.ascontiguousarray(q[..., :J].transpose(4, 3, 1, 2, 0))
            out = out + _dot5(q, s[piece], self.scratch("dot", (2,) + q.shape))
        out = out.transpose(0, 4, 2, 3, 1)  # (2, n, x, y, z)
        return out[0], out[1]


@dataclass
class CurveFit:
    t0: float  # oriented score units
    t1: float
    p: float
    tp: float
    fp: float
    gap: float  # Chebyshev distance of (FPR, TPR) to the target
    lipschitz: float


U_MIN, U_MAX = -3.0, 4.0  # searched thresholds, in units of the group's score range from its minimum
MEETS = 1e-5  # a curve within this Chebyshev distance of its target meets it


def _keys(gap, L, tol, prefer_smooth):
    """Selection key (smaller is better): candidates that meet the target (within ``MEETS``,
    or within ``tol`` when preferring smooth curves) by their Lipschitz constant, the others
    after them by their gap."""
    lim = max(tol, MEETS) if prefer_smooth else MEETS
    return np.where(gap <= lim, np.minimum(L, 1e11), 1e12 + gap)


def _gap_into(fp, tp, N, P, X, Y):
    """fp ← max(|fp / N − X|, |tp / P − Y|) in place (tp is overwritten): the Chebyshev
    distance of (FPR, TPR) to the target, as the same operations on fresh arrays give."""
    np.divide(fp, N, out=fp)
    fp -= X
    np.abs(fp, out=fp)
    np.divide(tp, P, out=tp)
    tp -= Y
    np.abs(tp, out=tp)
    np.maximum(fp, tp, out=fp)


def _keys_into(out, gap, L, tol, prefer_smooth):
    """``out[...] = _keys(gap, L, tol, prefer_smooth)`` without temporaries (L is overwritten)."""
    lim = max(tol, MEETS) if prefer_smooth else MEETS
    np.minimum(L, 1e11, out=L)
    meets = gap <= lim
    np.add(gap, 1e12, out=out)
    np.copyto(out, L, where=meets)


def _p_range(family):
    if family == "quartic":
        lo, hi = MONOTONE_P["quartic"]
        return lo, hi, np.linspace(lo, hi, 9), 0.0125
    return 0.01, 0.99, np.linspace(0.05, 0.95, 19), 0.025


def smallest_first(key, k: int) -> np.ndarray:
    """``np.argsort(key, kind="stable")[:k]`` without sorting all of ``key``: the k smallest
    (NaN last), ties in index order."""
    if key.size <= k:
        return np.argsort(key, kind="stable")
    v = np.partition(key, k - 1)[k - 1]
    if np.isnan(v):  # fewer than k numbers: the full sort puts the NaN in index order
        return np.argsort(key, kind="stable")[:k]
    below = np.flatnonzero(key < v)
    sel = np.concatenate([below, np.flatnonzero(key == v)[:k - below.size]])
    sel.sort()
    return sel[np.argsort(key[sel], kind="stable")]


def search_curves(groups: list[GroupMoments], tasks, *, tol: float = 0.005,
                  prefer_smooth: bool = False, min_width: float = 0.002, grid_t: int = 48,
                  rounds: int = 60, seeds: int = 16, chunk: int = 8192,
                  progress=None) -> list[CurveFit]:
    """For each task (family, group index, target FPR X, target TPR Y): the (t0, t1, p) whose
    expected (FPR, TPR) meets (X, Y).

    A coarse grid (thresholds at weighted quantiles and evenly spaced over the group's scores;
    p over the family's monotone range), then a pattern search in (t0, t1, p) from the best
    ``seeds`` candidates of each task, halving a seed's steps when no neighbour improves. Every
    task, seed and neighbour is one array operation per round (never a loop over rows or
    candidates). Among candidates that meet the target (Chebyshev distance ≤ 1e-5) the smallest
    Lipschitz constant wins; if none does, the smallest gap. ``prefer_smooth`` widens "meets"
    to ``tol``, trading a small equalized-odds gap for a gentler curve. The winner is chosen
    on exact, row-by-row figures among each task's best four.

    Work is shared where the figures allow: a group's grid bands (binary searches, sums above
    t1, change of variable) serve all its tasks, and the sums of the pieces of a band serve
    every family searched over the same p; a round evaluates each seed's 3 × 3 × 3
    neighbourhood, its nine (t0, t1) once each. ``chunk`` bounds the candidates evaluated at
    once (small enough to stay in the processor's cache; it does not change any figure).
    """
    mm = MultiMoments(groups)
    nt = len(tasks)
    fam = np.array([t[0] for t in tasks], dtype=object)
    tg = np.array([t[1] for t in tasks], dtype=np.int64)
    TX = np.array([t[2] for t in tasks], dtype=float)
    TY = np.array([t[3] for t in tasks], dtype=float)
    plo = np.array([_p_range(f)[0] for f in fam])
    phi_ = np.array([_p_range(f)[1] for f in fam])
    pstep = np.array([_p_range(f)[3] for f in fam])

    # coarse grid, group by group: a group's bands are the same for all its tasks, and the
    # sums of each band's pieces are the same for every family searched over the same p
    S = np.zeros((nt, seeds, 3))
    Sk = np.full((nt, seeds), np.inf)
    by_group: dict = {}
    for k, (f, g, _, _) in enumerate(tasks):
        by_group.setdefault(g, []).append(k)
    done = 0
    for g, ks in by_group.items():
        a0, b0 = _grid_bands(groups[g], grid_t, min_width)
        by_p: dict = {}
        for k in ks:
            pgrid = _p_range(fam[k])[2]
            by_p.setdefault(pgrid.tobytes(), (pgrid, []))[1].append(k)
        keys = {}
        width = np.maximum(b0 - a0, 1e-300)[None, :]
        for pgrid, kk in by_p.values():
            for k in kk:
                coef, slope = coef_and_slope(fam[k], pgrid)
                keys[k] = (np.empty((pgrid.size, a0.size)), coef, slope[:, None] / width,
                           max(_used_powers(coef), 2))
        # the quartic's pieces are one polynomial: no split at τ to evaluate
        needs = [any(np.any(keys[k][1][:, 0] != keys[k][1][:, 1]) for k in kk) for _, kk in by_p.values()]
        kmax = max(pg.size for pg, _ in by_p.values())
        per = max(1, chunk // kmax)  # bands per chunk (small enough to stay in the cache)
        every = mm.grid_bands(g, a0, b0)
        for c0 in range(0, a0.size, per):
            sl = slice(c0, c0 + per)
            bands = MultiMoments.band_slice(every, sl)
            for (pgrid, kk), need in zip(by_p.values(), needs):
                split = mm.grid_split(bands, pgrid) if need else None
                for k in kk:
                    key, coef, L, J = keys[k]
                    tp, fp = mm.grid_apply(bands, split, coef, J)  # (K, M)
                    with np.errstate(invalid="ignore", divide="ignore"):
                        _gap_into(fp, tp, mm.N[g], mm.P[g], TX[k], TY[k])  # fp becomes the gap
                    _keys_into(key[:, sl], fp, L[:, sl], tol, prefer_smooth)
        for pgrid, kk in by_p.values():
            A = np.repeat(a0, pgrid.size)
            B = np.repeat(b0, pgrid.size)
            Pp = np.tile(pgrid, a0.size)
            for k in kk:
                key = keys[k][0].T.reshape(-1)  # band-major, p-minor
                order = smallest_first(key, seeds)
                S[k, :order.size] = np.column_stack([A[order], B[order], Pp[order]])
                Sk[k, :order.size] = key[order]
                done += 1
                if progress is not None:
                    progress(0.3 * done / nt)

    # pattern search: the 26 neighbours of every active seed, as 3 × 3 × 3 (t0, t1, p)
    families = sorted(set(fam.tolist()))
    fi = np.array([families.index(f) for f in fam], dtype=float)
    table = _FamilyTable(families)
    step = np.zeros((nt, seeds, 3))
    step[:, :, 0] = step[:, :, 1] = 0.02
    step[:, :, 2] = pstep[:, None]
    unit = np.array([-1.0, 0.0, 1.0])
    offs = np.array(np.meshgrid(unit, unit, unit, indexing="ij")).reshape(3, -1).T  # (27, 3)
    centre = 13  # offs[13] = (0, 0, 0): the seed itself, not a neighbour
    offs_i = offs.astype(np.int64) + 1  # the offsets as indices into E
    axes = np.arange(3)
    NT, PT = mm.N[tg], mm.P[tg]
    active = np.isfinite(Sk)
    for r in range(rounds):
        ti, si = np.nonzero(active)
        if ti.size:
            s, st = S[ti, si], step[ti, si]  # (n, 3)
            E = s[:, None, :] + unit[None, :, None] * st[:, None, :]  # (n, 3 offsets, 3 axes)
            E[..., 2] = np.clip(E[..., 2], plo[ti][:, None], phi_[ti][:, None])
            E[..., :2] = np.clip(E[..., :2], U_MIN, U_MAX)
            a, b, p = E[..., 0], E[..., 1], E[..., 2]
            coef, sl = table.lookup(fam[ti], fi[ti], p)
            tp, fp = mm.neighbour_counts(tg[ti], a, b, p, coef)  # (n, 3, 3, 3)
            h = b[:, None, :] - a[:, :, None]  # (n, 3, 3)
            kf = np.empty(fp.shape)
            with np.errstate(invalid="ignore", divide="ignore"):
                _gap_into(fp, tp, NT[ti][:, None, None, None], PT[ti][:, None, None, None],
                          TX[ti][:, None, None, None], TY[ti][:, None, None, None])
                _keys_into(kf, fp, sl[:, None, None, :] / np.maximum(h, 1e-300)[..., None], tol, prefer_smooth)
            np.copyto(kf, np.inf, where=(h < min_width)[..., None])
            kf = kf.reshape(ti.size, 27)
            kf[:, centre] = np.inf
            j = np.argmin(kf, axis=1)
            n_ = np.arange(ti.size)
            kbest = kf[n_, j]
            better_a = kbest < Sk[ti, si] - 1e-15
            cbest = E[n_[:, None], offs_i[j], axes]  # the winner's (t0, t1, p)
            bt, bs = ti[better_a], si[better_a]
            S[bt, bs] = cbest[better_a]
            Sk[bt, bs] = kbest[better_a]
        better = np.zeros((nt, seeds), dtype=bool)
        if ti.size:
            better[bt, bs] = True
        step = np.where(better[..., None], step, step * 0.5)
        active &= np.any(step[..., :2] >= 2e-6, axis=-1)
        if progress is not None:
            progress(0.3 + 0.6 * (r + 1) / rounds)
        if not active.any():
            break

    # the winner on exact, row-by-row figures among each task's best four
    out = []
    for k, (f, g, X, Y) in enumerate(tasks):
        m = groups[g]
        best = None
        for i in np.argsort(Sk[k], kind="stable")[:4]:
            if not np.isfinite(Sk[k, i]):
                continue
            t0, t1, p = float(m.to_score(S[k, i, 0])), float(m.to_score(S[k, i, 1])), float(S[k, i, 2])
            tp, fp = m.direct_counts(f, t0, t1, p)
            gap = max(abs(fp / m.N - X), abs(tp / m.P - Y))
            L = lipschitz(f, t0, t1, p)
            kk = float(_keys(np.array([gap]), np.array([L]), tol, prefer_smooth)[0])
            if best is None or kk < best[0]:
                best = (kk, CurveFit(t0, t1, p, tp, fp, gap, L))
        out.append(best[1])
    return out


class _FamilyTable:
    """The coefficient cache of several families as one sorted table keyed by
    (family index, p) (complex numbers sort by real, then imaginary part), so that a round of
    the pattern search looks up the coefficients of every seed with one binary search. The
    figures are the cache's (:func:`coef_and_slope`); the table is rebuilt after a miss."""

    def __init__(self, families):
        self.families = families
        self._build()

    def _build(self):
        keys, C, HI = [], [], []
        for i, f in enumerate(self.families):
            known, c, _, hi = _CACHE.get(f, (np.empty(0), np.empty((0, 2, _NC)), None, np.empty(0)))
            keys.append(i + 1j * known)
            C.append(c)
            HI.append(hi)
        self.keys, self.C, self.HI = np.concatenate(keys), np.concatenate(C), np.concatenate(HI)

    def lookup(self, fam, fi, p):
        """Coefficients (…, 2, 5) and largest slopes (…) of seeds of families ``fam`` (names,
        (n,)) / ``fi`` (their indices, (n,)) at probabilities p (n, 3)."""
        k = fi[:, None] + 1j * p
        if self.keys.size:
            pos = np.minimum(np.searchsorted(self.keys, k), self.keys.size - 1)
            if np.array_equal(self.keys[pos], k):
                return self.C[pos], self.HI[pos]
        coef = np.empty(p.shape + (2, _NC))
        sl = np.empty(p.shape)
        for f in set(fam.tolist()):
            m = fam == f
            c, v = coef_and_slope(f, p[m].reshape(-1))
            coef[m], sl[m] = c.reshape(-1, 3, 2, _NC), v.reshape(-1, 3)
        self._build()
        return coef, sl


def _grid_bands(m: GroupMoments, grid_t: int, min_width: float):
    """The coarse grid's bands (t0, t1) of one group, normalised units: thresholds at
    weighted quantiles, evenly spaced over the scores and a few beyond them."""
    cw = np.cumsum(m.weight)
    if cw.size and cw[-1] > 0:
        qs = np.searchsorted(cw, np.linspace(0, 1, grid_t) * cw[-1] * (1 - 1e-12), side="left")
        qu = m.u[np.clip(qs, 0, m.n - 1)]
    else:
        qu = np.array([0.0, 1.0])
    tgrid = np.unique(np.concatenate([qu, np.linspace(-0.05, 1.05, grid_t // 2),
                                      [-2.0, -1.0, -0.5, -0.25, 1.25, 1.5, 2.0, 3.0]]))
    ia, ib = np.triu_indices(tgrid.size, 1)
    a0, b0 = tgrid[ia], tgrid[ib]
    keep = (b0 - a0) >= min_width
    return a0[keep], b0[keep]


def search_curve(m: GroupMoments, family: str, X: float, Y: float, **kw) -> CurveFit:
    """One group and family (see :func:`search_curves`)."""
    return search_curves([m], [(family, 0, X, Y)], **kw)[0]
