"""Group-specific threshold correction: the penalized optimizer of the Oregon study.

Purdy & Glass, "The Pursuit of Algorithmic Fairness: On 'Correcting' Algorithmic
Unfairness in a Child Welfare Reunification Success Classifier". Risk tiers come from k
group-agnostic thresholds Φ_1 < … < Φ_k. For a subsample and a penalty weight w, each
threshold t in turn gets group-specific values θ_t minimizing

    (1 − w)·(1 − F(θ_t)) + w·Δ(θ_t, Φ_t)

with F the chosen fairness definition's minimum pairwise ratio and Δ the share of people
whose tier changes. Constraints (Appendix H): θ_{t−1,g} < θ_{t,g} ≤ Φ_{t+1} within each
group, and coveredness, min_g θ_{t,g} ≤ Φ_t ≤ max_g θ_{t,g}. Calibration (CAL) is
optimized for all thresholds at once with the sum over tiers of 1 − CAL (Appendix I).

The objective is piecewise constant in θ, so a simplex search (the reference code's
Nelder–Mead) stalls near its start. Here each group's candidate thresholds are its
distinct scores (thinned to a quantile grid when there are many) plus the Φ's; the counts
at every candidate are prepared once per subsample, and an exact coordinate descent moves
one group's threshold at a time to the best candidate — for every penalty weight w at
once, as one array operation. Full searches (several starts, single and joint moves) run at
fixed anchor weights (0, 0.1, …, 1, whatever the grid); every requested w starts from the
best state those searches found and is polished at its own w, so the result for a w never
depends on the other weights requested.

Cost in the number of groups G: a sweep of single moves is linear in G. Joint moves of two
groups (needed because a max–min objective has optima no single move leaves) are taken
among the groups at a rate's minimum or maximum (a fixed number of pairs), and once per
search of each of those with every group (linear in G); with few groups (G ≤ 2 × the
definition's rates) every pair is moved, as before. The old search moved every pair of
groups at every sweep, quadratically many (28 pairs for 8 groups, 66 for 12).

All work is in oriented score units (higher = more likely positive).
"""

from __future__ import annotations

import copy
import math
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from multiprocessing import get_context

import numpy as np
import pandas as pd

from ..dataset import AnalysisData
from ..errors import FairDeskError
from ..jobs import NO_JOB, Job
from ..metrics.confusion import GroupScores
from ..metrics.fairness import DEFINITIONS, THRESHOLD_DEFINITIONS, all_measures
from ..metrics.rates import compute_rates
from ..metrics.thresholds import ThresholdRule, oregon_thresholds, weighted_mean

DEFAULT_WEIGHTS = tuple(np.round(np.linspace(0.0, 1.0, 101), 2).tolist())
OREGON_RULES = ({"kind": "oregon_low", "value": None, "n_bins": 20},
                {"kind": "mean", "value": None, "n_bins": 20},
                {"kind": "oregon_high", "value": None, "n_bins": 20})
ASSESS_RATES = ("fnr", "tpr", "fpr", "tnr", "ppv", "fdr", "npv", "for", "accuracy")
# the weights at which full searches run, whatever the grid (their states seed every weight)
ANCHOR_WEIGHTS = tuple(np.round(np.linspace(0.0, 1.0, 11), 2).tolist())
_TIE = 1e-9  # tie-break toward the group-agnostic threshold (w = 1 gives back Φ exactly)


@dataclass
class CorrectionSettings:
    definition: str = "ERB"
    weights: tuple = DEFAULT_WEIGHTS
    subsamples: int = 200
    audit_subsamples: int = 200
    seed: int = 0
    subsampling: str = "auto"  # "unit" (one row per id), "bootstrap", or "auto"
    rules: tuple = OREGON_RULES  # ThresholdRule dicts giving Φ on each subsample
    max_candidates: int = 400
    # False: a group's threshold keeps someone of the group on each side (where possible)
    allow_degenerate: bool = False
    workers: int | None = None  # None = one per core

    def to_dict(self) -> dict:
        return {"definition": self.definition, "weights": list(self.weights),
                "subsamples": self.subsamples, "audit_subsamples": self.audit_subsamples,
                "seed": self.seed, "subsampling": self.subsampling,
                "rules": [dict(r) for r in self.rules], "max_candidates": self.max_candidates,
                "allow_degenerate": self.allow_degenerate}

    @classmethod
    def from_dict(cls, d: dict) -> "CorrectionSettings":
        s = cls()
        for k, v in d.items():
            if hasattr(s, k):
                setattr(s, k, tuple(v) if k in ("weights", "rules") else v)
        return s


# ------------------------------------------------------------------------------------------
# subsamples

def unit_codes(data: AnalysisData) -> np.ndarray | None:
    if data.ids is None:
        return None
    codes, _ = pd.factorize(pd.Series(data.ids), use_na_sentinel=False)
    return codes.astype(np.int64)


def subsample_mode(data: AnalysisData, requested: str = "auto") -> str:
    """'unit' draws one random row per id (the study's one reunification per child);
    'bootstrap' draws n rows with replacement. 'auto' is 'unit' when an id column is mapped
    and some id has several rows, otherwise 'bootstrap' (one row per unit of unique ids
    would give the same subsample every time)."""
    if requested in ("unit", "bootstrap"):
        if requested == "unit" and data.ids is None:
            raise FairDeskError("One row per unit needs an id column: map one on the Data page, "
                                "or choose bootstrap subsamples.")
        return requested
    codes = unit_codes(data)
    if codes is not None and codes.size and np.bincount(codes).max() > 1:
        return "unit"
    return "bootstrap"


def draw_subsample(n: int, codes: np.ndarray | None, mode: str, rng) -> np.ndarray:
    """Row positions of one subsample."""
    if mode == "unit":
        keys = rng.random(n)
        order = np.lexsort((keys, codes))  # by unit, then random key
        last = np.r_[codes[order][1:] != codes[order][:-1], True]
        return np.sort(order[last])
    return rng.integers(0, n, n)


def group_agnostic_thresholds(score_user, weight, rules, sign: float) -> np.ndarray:
    """Φ in oriented units, ascending, from the rules evaluated on one subsample."""
    out = []
    for r in rules:
        rule = ThresholdRule.from_dict(r) if isinstance(r, dict) else r
        if rule.kind in ("oregon_low", "oregon_high"):
            low, _, high = oregon_thresholds(score_user, weight)
            out.append(low if rule.kind == "oregon_low" else high)
        elif rule.kind == "mean":
            out.append(weighted_mean(score_user, weight))
        else:
            class _D:  # the few fields ThresholdRule.resolve reads
                pass
            d = _D()
            d.score, d.weight, d.sign = score_user, weight, sign
            out.append(rule.resolve(d))
    phi = np.sort(np.asarray(out, dtype=float) * sign)
    if np.any(np.diff(phi) <= 0):
        raise FairDeskError("The group-agnostic thresholds must be distinct; two rules give "
                            "the same value.")
    return phi


# ------------------------------------------------------------------------------------------
# one subsample

class _Candidates:
    """Per-group candidate thresholds and the weighted counts at each, padded to (G, C)."""

    def __init__(self, gs: GroupScores, phi: np.ndarray, max_candidates: int):
        G = gs.n_groups
        lists = []
        # one candidate above every score and every Φ ("flag no one in this group"), so the
        # last threshold always has a value above the one before it (orderliness)
        top = np.nextafter(max(float(gs.sorted_score.max(initial=-np.inf)), float(phi.max())), np.inf)
        for g in range(G):
            s = gs.group_scores(g)
            u = np.unique(s)
            if u.size > max_candidates:
                u = u[np.unique(np.linspace(0, u.size - 1, max_candidates).round().astype(int))]
            lists.append(np.unique(np.concatenate([u, phi, [top]])))
        C = max(len(c) for c in lists)
        self.values = np.full((G, C), np.inf)
        self.valid = np.zeros((G, C), dtype=bool)
        idx = np.zeros((G, C), dtype=np.int64)
        for g, c in enumerate(lists):
            self.values[g, :c.size] = c
            self.valid[g, :c.size] = True
            s0, e0 = gs.start[g], gs.end[g]
            idx[g, :c.size] = s0 + np.searchsorted(gs.sorted_score[s0:e0], c, side="left")
            idx[g, c.size:] = e0
        start = gs.start[:, None]
        self.fn = gs.cum_pos[idx] - gs.cum_pos[start]
        self.tn = gs.cum_neg[idx] - gs.cum_neg[start]
        self.below = self.fn + self.tn  # weight predicted negative (below the candidate)
        self.pos_below = self.fn
        self.tp = np.maximum(gs.positives[:, None] - self.fn, 0.0)
        self.fp = np.maximum(gs.negatives[:, None] - self.tn, 0.0)
        self.weight_total = gs.weight_total
        self.positives = gs.positives
        # candidates that leave someone (positive weight) on each side within the group
        tiny = 1e-12 * np.maximum(gs.weight_total, 1.0)[:, None]
        self.nondegenerate = self.valid & (self.below > tiny) & \
            (self.below < gs.weight_total[:, None] - tiny)
        self.phi_index = np.array([[int(np.flatnonzero(self.values[g] == p)[0]) for p in phi]
                                   for g in range(G)])  # (G, k)

    def rates(self, keys) -> dict[str, np.ndarray]:
        from ..metrics.confusion import Counts
        c = Counts(self.tp, self.fp, self.fn, self.tn, np.zeros(self.tp.shape, dtype=np.int64),
                   np.zeros(self.tp.shape, dtype=np.int64))
        all_rates = compute_rates(c)
        return {k: all_rates[k] for k in keys}


def _ratio(lo, hi, n_defined, infinite: bool = True):
    """Smallest over largest, by the project's zero-count rule (metrics.fairness): an
    infinite rate (TE's x/0) against a finite one gives 0, two infinite ones compare equal.
    ``infinite=False``: the caller knows no rate is infinite (that rule then changes nothing)."""
    pos = hi > 0  # NaN compares False
    with np.errstate(invalid="ignore"):
        r = np.where(pos, lo / np.where(pos, hi, 1.0), 1.0)
    if infinite:
        r = np.where(np.isinf(hi), np.where(np.isinf(lo), 1.0, 0.0), r)
    return np.where(n_defined >= 2, r, np.nan)


def _nanminmax(v, axis):
    """Min and max ignoring NaN (NaN where every value is NaN), without warnings."""
    if v.shape[axis] == 0:
        shape = v.shape[:axis] + v.shape[axis + 1:]
        return np.full(shape, np.nan), np.full(shape, np.nan)
    return np.fmin.reduce(v, axis=axis), np.fmax.reduce(v, axis=axis)


class _SingleThresholdProblem:
    """Threshold t of one subsample, for all penalty weights at once."""

    def __init__(self, cand: _Candidates, definition: str, t: int, phi: np.ndarray, w: np.ndarray,
                 lower: np.ndarray, n_total_weight: float, pooled_family: dict | None = None,
                 nondegenerate: bool = True):
        self.c = cand
        self.pooled_family = pooled_family  # rate -> pooled rate along a grid of thresholds
        self.keys = DEFINITIONS[definition].rates
        self.R = cand.rates(self.keys)
        self.G, self.C = cand.values.shape
        self.w = w[:, None]
        self.phi_t = phi[t]
        self.phi_idx = cand.phi_index[:, t]
        base = cand.below[np.arange(self.G), self.phi_idx]
        self.dlt = np.abs(cand.below - base[:, None]) / n_total_weight  # (G, C)
        upper = phi[t + 1] if t + 1 < len(phi) else np.inf
        span = max(float(np.nanmax(np.where(cand.valid, cand.values, np.nan)) -
                         np.nanmin(np.where(cand.valid, cand.values, np.nan))), 1e-12)
        self.tie = _TIE * np.abs(cand.values - self.phi_t) / span  # (G, C)
        # static constraints per (w, g, c): orderliness within the group
        self.allowed = cand.valid[None] & (cand.values[None] <= upper) & \
            (cand.values[None] > lower[:, :, None])  # lower: (W, G) previous threshold
        if nondegenerate:  # nobody's group all flagged or all unflagged, where that is possible
            strict = self.allowed & cand.nondegenerate[None]
            strict = np.where(strict.any(axis=2, keepdims=True), strict, self.allowed)
            # ... and where coveredness can still be met (some group at or below Φ_t, some
            # at or above); otherwise that w keeps the unrestricted candidates
            v = cand.values[None]
            feasible = np.any(strict & (v <= self.phi_t), axis=(1, 2)) & \
                np.any(strict & (v >= self.phi_t), axis=(1, 2))
            self.allowed = np.where(feasible[:, None, None], strict, self.allowed)
        # a rate defined at Φ must stay defined (no escaping a measure by emptying a cell)
        self.must_define = {k: ~np.isnan(self.R[k][np.arange(self.G), self.phi_idx]) for k in self.keys}
        self.Wn = w.shape[0]
        # what a single move of group g reads that does not depend on the state (made once,
        # not at every move): the other groups, and per rate the group's candidates' values,
        # which of them are defined and which would leave a rate undefined that must stay
        # defined; and whether any rate can be infinite (TE's x/0)
        self.infinite = {k: bool(np.isinf(self.R[k]).any()) for k in self.keys}
        self._moves = []
        for g in range(self.G):
            others = np.array([h for h in range(self.G) if h != g], dtype=np.int64)
            per_rate = {}
            for k in self.keys:
                v = self.R[k][g][None, :]
                nan = np.isnan(v)
                per_rate[k] = (v, ~nan, nan & self.must_define[k][g], self.must_define[k][others][None, :])
            cv = cand.values[g][None, :]
            self._moves.append((others, per_rate, cv <= self.phi_t, cv >= self.phi_t,
                                cv == self.phi_t))

    def values_at(self, state):
        rows = np.arange(self.G)[None, :]
        return {k: self.R[k][rows, state] for k in self.keys}

    def fairness(self, state) -> np.ndarray:
        """F for every w at ``state`` (W, G); undefined counts as 0 (no fairness)."""
        vals = self.values_at(state)
        F = np.ones(state.shape[0])
        for k in self.keys:
            v = vals[k]
            lo, hi = _nanminmax(v, 1)
            r = _ratio(lo, hi, np.sum(~np.isnan(v), axis=1), self.infinite[k])
            bad = np.any(np.isnan(v) & self.must_define[k][None, :], axis=1)
            F = np.minimum(F, np.where(bad | np.isnan(r), 0.0, r))
        return F

    def delta(self, state) -> np.ndarray:
        return self.dlt[np.arange(self.G)[None, :], state].sum(axis=1)

    def objective(self, state) -> np.ndarray:
        w = self.w[:, 0]
        return (1 - w) * (1 - self.fairness(state)) + w * self.delta(state)

    def step(self, state, g) -> bool:
        """Move group g to its best candidate for every w; True if any moved."""
        others, per_rate, at_or_below, at_or_above, at_phi = self._moves[g]
        W = state.shape[0]
        F = np.ones((W, self.C))
        if others.size:
            so = state[:, others]  # (W, G − 1): the other groups' candidates
            for k in self.keys:
                v, defined, undefined_must, must_o = per_rate[k]
                vo = self.R[k][others[None, :], so]
                lo_o, hi_o = _nanminmax(vo, 1)
                nan_o = np.isnan(vo)
                nd_o = np.sum(~nan_o, axis=1)
                lo = np.fmin(lo_o[:, None], v)
                hi = np.fmax(hi_o[:, None], v)
                r = _ratio(lo, hi, nd_o[:, None] + defined, self.infinite[k])
                bad_o = np.any(nan_o & must_o, axis=1)
                bad = bad_o[:, None] | undefined_must
                F = np.minimum(F, np.where(bad | np.isnan(r), 0.0, r))
            ov = self.c.values[others[None, :], so]
            o_min, o_max = ov.min(axis=1), ov.max(axis=1)
            covered = (o_min <= self.phi_t) & (self.phi_t <= o_max)
            cov = np.where(covered[:, None], True,
                           np.where((o_min > self.phi_t)[:, None], at_or_below, at_or_above))
            d_o = self.dlt[others[None, :], so].sum(axis=1)
        else:
            cov = at_phi
            d_o = np.zeros(W)
        J = (1 - self.w) * (1 - F) + self.w * (d_o[:, None] + self.dlt[g][None, :]) + self.tie[g][None, :]
        J = np.where(self.allowed[:, g, :] & cov, J, np.inf)
        best = np.argmin(J, axis=1)
        cur = state[:, g]
        rows = np.arange(W)
        improve = J[rows, best] < J[rows, cur] - 1e-15
        state[:, g] = np.where(improve, best, cur)
        return bool(improve.any())

    def sweeps(self, state, max_sweeps: int):
        """Sweeps of single moves (every group in turn) until no row moves, at most
        ``max_sweeps``. Each row (a weight, or a weight and a start) moves on its own, so a
        row that a whole sweep left where it was would stay there: only the rows that moved in
        the last sweep are swept again (the same result as sweeping every row, at less cost)."""
        active = np.arange(state.shape[0])
        for _ in range(max_sweeps):
            if active.size == 0:
                break
            prob = self if active.size == state.shape[0] else self._subset(active)
            st = state[active]
            start = st.copy()
            for g in range(self.G):
                prob.step(st, g)
            state[active] = st
            active = active[np.any(st != start, axis=1)]
        return state

    def extremes(self, state) -> np.ndarray:
        """(W, 2·keys) group indices: for each rate of the definition, the group with the
        lowest and the group with the highest value at ``state`` (an undefined value counts
        as neither)."""
        vals = self.values_at(state)
        cols = []
        for k in self.keys:
            v = vals[k]
            cols.append(np.argmin(np.where(np.isnan(v), np.inf, v), axis=1))
            cols.append(np.argmax(np.where(np.isnan(v), -np.inf, v), axis=1))
        return np.stack(cols, axis=1)

    def _grid_rows(self, g, m, current, window: int = 8):
        """(W, ·) candidate indices of group g[i] for row i: an even grid over its valid
        candidates and a window of neighbours around the current one (coarse jumps and fine
        joint adjustments)."""
        if m == 0:
            return np.clip(current[:, None] + np.arange(-window, window + 1)[None, :], 0,
                           self.c.valid.sum(axis=1)[g][:, None] - 1)
        if getattr(self, "_base_m", None) != m:
            n_valid = self.c.valid.sum(axis=1).astype(np.int64)
            base = np.zeros((self.G, m), dtype=np.int64)
            for j in range(self.G):
                b = np.unique(np.linspace(0, n_valid[j] - 1, min(m, n_valid[j])).round().astype(np.int64))
                base[j, :b.size] = b
                base[j, b.size:] = b[-1]
            self._base, self._base_m, self._n_valid = base, m, n_valid
        local = np.clip(current[:, None] + np.arange(-window, window + 1)[None, :], 0,
                        self._n_valid[g][:, None] - 1)
        return np.concatenate([self._base[g], local], axis=1)

    def pair_step_rows(self, state, g, h, grid: int = 24) -> bool:
        """Move groups g[i] and h[i] together for each row i (w) over a coarse grid of their
        candidates and a window around their current ones; rows with g[i] == h[i] stay.
        The grid is an even spread over the group's candidates (at most ``grid`` of them).

        A max–min objective has local optima that no single-group move can leave (the
        group with the lowest rate and the one with the highest must move together). Only
        the groups at a rate's minimum or maximum can raise the fairness term, so the pairs
        are taken among those (a constant number whatever the number of groups)."""
        active = g != h
        if not active.any():
            return False
        if not active.all():  # only the rows that move a pair of distinct groups
            idx = np.flatnonzero(active)
            st = state[idx]
            moved = self._subset(idx).pair_step_rows(st, g[idx], h[idx], grid)
            state[idx] = st
            return moved
        W = state.shape[0]
        rows = np.arange(W)
        G = self.G
        cg = self._grid_rows(g, grid, state[rows, g])  # (W, m)
        ch = self._grid_rows(h, grid, state[rows, h])
        om = np.ones((W, G), dtype=bool)  # the other groups of each row
        om[rows, g] = False
        om[rows, h] = False
        vals = self.values_at(state)
        F = np.ones((W, cg.shape[1], ch.shape[1]))
        for k in self.keys:
            vo = np.where(om, vals[k], np.nan)
            lo_o, hi_o = _nanminmax(vo, 1)
            nd_o = np.sum(~np.isnan(vo), axis=1)
            bad_o = np.any(np.isnan(vals[k]) & self.must_define[k][None, :] & om, axis=1)
            vg = self.R[k][g[:, None], cg][:, :, None]
            vh = self.R[k][h[:, None], ch][:, None, :]
            lo = np.fmin(np.fmin(lo_o[:, None, None], vg), vh)
            hi = np.fmax(np.fmax(hi_o[:, None, None], vg), vh)
            nd = nd_o[:, None, None] + ~np.isnan(vg) + ~np.isnan(vh)
            r = _ratio(lo, hi, nd, self.infinite[k])
            bad = bad_o[:, None, None] | (np.isnan(vg) & self.must_define[k][g][:, None, None]) | \
                (np.isnan(vh) & self.must_define[k][h][:, None, None])
            F = np.minimum(F, np.where(bad | np.isnan(r), 0.0, r))
        gi = np.arange(G)[None, :]
        ov = self.c.values[gi, state]
        o_min = np.where(om, ov, np.inf).min(axis=1)[:, None, None]
        o_max = np.where(om, ov, -np.inf).max(axis=1)[:, None, None]
        d_o = np.where(om, self.dlt[gi, state], 0.0).sum(axis=1)
        tie_o = np.where(om, self.tie[gi, state], 0.0).sum(axis=1)
        xg = self.c.values[g[:, None], cg][:, :, None]
        xh = self.c.values[h[:, None], ch][:, None, :]
        lo_all = np.minimum(np.minimum(o_min, xg), xh)
        hi_all = np.maximum(np.maximum(o_max, xg), xh)
        cov = (lo_all <= self.phi_t) & (self.phi_t <= hi_all)
        ok = self.allowed[rows[:, None], g[:, None], cg][:, :, None] & \
            self.allowed[rows[:, None], h[:, None], ch][:, None, :] & cov
        w = self.w[:, :, None]
        J = (1 - w) * (1 - F) + w * (d_o[:, None, None] + self.dlt[g[:, None], cg][:, :, None]
                                     + self.dlt[h[:, None], ch][:, None, :]) \
            + self.tie[g[:, None], cg][:, :, None] + self.tie[h[:, None], ch][:, None, :] \
            + tie_o[:, None, None]
        J = np.where(ok, J, np.inf).reshape(W, -1)
        best = np.argmin(J, axis=1)
        cur = self.objective_with_tie(state)
        improve = active & (J[rows, best] < cur - 1e-15)
        bi, bj = np.unravel_index(best, (cg.shape[1], ch.shape[1]))
        state[rows, g] = np.where(improve, cg[rows, bi], state[rows, g])
        state[rows, h] = np.where(improve, ch[rows, bj], state[rows, h])
        return bool(improve.any())

    def objective_with_tie(self, state):
        return self.objective(state) + self.tie[np.arange(self.G)[None, :], state].sum(axis=1)

    def _subset(self, rows) -> "_SingleThresholdProblem":
        """The same problem for some penalty weights only (rows of w)."""
        p = copy.copy(self)
        p.w = self.w[rows]
        p.allowed = self.allowed[rows]
        p.Wn = len(rows)
        return p

    def descend(self, state, max_sweeps: int = 50, wide: bool = True):
        """Single-group moves to a coordinate-wise optimum, then joint moves of pairs among
        the groups at a rate's minimum or maximum (found anew before each move, per w), over a
        coarse grid and a fine window; when those no longer help a w, each of those groups
        with every other group, once; repeat for the weights whose state the pair moves changed. Every part
        of a sweep grows at most linearly with the number of groups (the old search moved
        every pair of groups, quadratically many)."""
        rows = np.arange(state.shape[0])
        wide_done = np.full(state.shape[0], not wide)
        n_slots = 2 * len(self.keys)
        for _ in range(max_sweeps):
            if rows.size == 0:
                break
            sub = self._subset(rows)
            st = state[rows]
            sub.sweeps(st, max_sweeps)
            before = st.copy()
            if self.G * (self.G - 1) <= n_slots * (n_slots - 1):
                # few groups: every pair (no more moves than the pairs among the extremes)
                for g in range(self.G):
                    for h in range(g + 1, self.G):
                        sub.pair_step_rows(st, np.full(st.shape[0], g), np.full(st.shape[0], h))
                state[rows] = st
                rows = rows[np.any(st != before, axis=1)]
                continue
            for a in range(n_slots):
                for b in range(a + 1, n_slots):
                    e = sub.extremes(st)
                    sub.pair_step_rows(st, e[:, a], e[:, b])
            changed = np.any(st != before, axis=1)
            wide = np.flatnonzero(~changed & ~wide_done[rows])
            if wide.size:
                # once pairs among the extremes are exhausted (per w): each extreme with every
                # group, a number of moves linear in the number of groups; go on if it helped
                sub2 = self._subset(rows[wide])
                st2 = st[wide]
                for a in range(n_slots):
                    for h in range(self.G):
                        e = sub2.extremes(st2)
                        sub2.pair_step_rows(st2, e[:, a], np.full(st2.shape[0], h))
                st[wide] = st2
                wide_done[rows[wide]] = True
                changed = np.any(st != before, axis=1)
            state[rows] = st
            rows = rows[changed]
        return state

    def start_at_phi(self):
        return np.tile(self.phi_idx, (self.Wn, 1))

    def start_matched(self):
        """Each group at the allowed candidate whose rates are closest to the pooled rates at Φ."""
        tp = self.c.tp[np.arange(self.G), self.phi_idx].sum()
        fp = self.c.fp[np.arange(self.G), self.phi_idx].sum()
        fn = self.c.fn[np.arange(self.G), self.phi_idx].sum()
        tn = self.c.tn[np.arange(self.G), self.phi_idx].sum()
        from ..metrics.confusion import Counts
        one = np.ones((1, 1))
        pooled = compute_rates(Counts(tp * one, fp * one, fn * one, tn * one, one, one))
        dist = np.zeros((self.G, self.C))
        for k in self.keys:
            d = np.abs(self.R[k] - pooled[k][0, 0])
            dist += np.where(np.isnan(d), 0.0 if np.isnan(pooled[k][0, 0]) else 10.0, d)
        dist = np.where(np.isnan(dist), 10.0, dist)
        D = np.where(self.allowed, dist[None] + self.tie[None], np.inf)
        state = np.argmin(D, axis=2)
        none = ~np.isfinite(np.min(D, axis=2))
        state = np.where(none, self.phi_idx[None, :], state)
        # coveredness: if every group is on one side of Φ, put the closest one on Φ
        vals = self.c.values[np.arange(self.G)[None, :], state]
        uncovered = (vals.min(axis=1) > self.phi_t) | (vals.max(axis=1) < self.phi_t)
        if uncovered.any():
            closest = np.argmin(np.abs(vals - self.phi_t), axis=1)
            rows = np.flatnonzero(uncovered)
            state[rows, closest[rows]] = self.phi_idx[closest[rows]]
        return state

    def _fix_coverage(self, state):
        vals = self.c.values[np.arange(self.G)[None, :], state]
        uncovered = (vals.min(axis=1) > self.phi_t) | (vals.max(axis=1) < self.phi_t)
        if uncovered.any():
            closest = np.argmin(np.abs(vals - self.phi_t), axis=1)
            rows = np.flatnonzero(uncovered)
            state[rows, closest[rows]] = self.phi_idx[closest[rows]]
        return state

    def start_family(self, sweeps: int = 8):
        """Best, per w, of short single-move descents from states where every group matches
        the pooled rates at one common threshold — a path through the region where the
        groups' rates are equal, so that basins far from Φ are found too."""
        if not self.pooled_family:
            return self.start_matched()
        n = len(next(iter(self.pooled_family.values())))
        scale = {k: max(float(np.nanstd(self.R[k])), 1e-9) for k in self.keys}
        starts = []
        for j in range(n):
            dist = np.zeros((self.G, self.C))
            for k in self.keys:
                d = np.abs(self.R[k] - self.pooled_family[k][j]) / scale[k]
                dist += np.where(np.isnan(d), 1e6, d)
            D = np.where(self.allowed, dist[None] + self.tie[None], np.inf)
            state = np.argmin(D, axis=2)
            state = np.where(~np.isfinite(np.min(D, axis=2)), self.phi_idx[None, :], state)
            starts.append(self._fix_coverage(state))
        # every distinct (w, start) descended at once, as extra rows (each row moves on its
        # own, so equal starts of one w end equal: each is descended once)
        W = self.Wn
        rows = np.tile(np.arange(W), n)
        keyed = np.concatenate([rows[:, None], np.concatenate(starts)], axis=1)  # (n·W, 1 + G)
        uniq, inverse = np.unique(keyed, axis=0, return_inverse=True)
        big = self._subset(uniq[:, 0])
        state = uniq[:, 1:].copy()
        big.sweeps(state, sweeps)
        obj = big.objective_with_tie(state)[inverse.ravel()].reshape(n, W)
        ends = state[inverse.ravel()].reshape(n, W, self.G)
        first_best = np.argmin(obj, axis=0)  # the first start with the lowest objective
        return ends[first_best, np.arange(W)]

    def start_grid(self, budget: int = 20000):
        """Best, per w, of a joint coarse grid over every group's candidates (m^G points with
        m^G <= budget): a global look before the local moves, so that the descent does not
        start in the basin of Φ only. Fairness and Δ of a grid point do not depend on w."""
        G = self.G
        m = max(2, int(budget ** (1.0 / G)))
        idx = []
        for g in range(G):
            n_valid = int(self.c.valid[g].sum())
            idx.append(np.unique(np.linspace(0, n_valid - 1, min(m, n_valid)).round().astype(np.int64)))
        mesh = np.stack(np.meshgrid(*idx, indexing="ij"), axis=-1).reshape(-1, G)  # (M, G)
        F = self.fairness(mesh)
        D = self.delta(mesh)
        vals = self.c.values[np.arange(G)[None, :], mesh]
        cov = (vals.min(axis=1) <= self.phi_t) & (self.phi_t <= vals.max(axis=1))
        tie = self.tie[np.arange(G)[None, :], mesh].sum(axis=1)
        ok = cov[None, :] & np.all(self.allowed[:, np.arange(G)[None, :], mesh], axis=2)  # (W, M)
        obj = np.where(ok, (1 - self.w) * (1 - F[None, :]) + self.w * D[None, :] + tie[None, :], np.inf)
        best = np.argmin(obj, axis=1)
        state = mesh[best].copy()
        state[~np.isfinite(obj[np.arange(obj.shape[0]), best])] = self.phi_idx
        return state

    def solve(self, keys):
        """Full searches (four starts and a continuation along the anchors; single and pair
        moves) at the anchor weights (rows ``keys``); every weight then starts from the best
        of the states those searches found — a state's fairness and Δ do not depend on w —
        and is polished at its own w by single moves and pairs among the extreme groups.
        The anchors are fixed (ANCHOR_WEIGHTS), so a weight's result does not depend on which
        other weights are in the grid."""
        W = self.Wn
        sub = self._subset(keys)
        pool = [np.tile(self.phi_idx, (1, 1))]
        for start in (sub.start_at_phi(), sub.start_matched(), sub.start_family(), sub.start_grid()):
            pool.append(sub.descend(start))
        # continuation along the anchors: each anchor also starts from the best state found
        # for the anchor below it (a penalty path), where that state is allowed
        found = np.stack(pool[1:])  # (starts, anchors, G)
        objs = np.stack([sub.objective_with_tie(f) for f in found])  # (starts, anchors)
        best_found = found[np.argmin(objs, axis=0), np.arange(len(keys))]
        shifted = np.concatenate([best_found[:1], best_found[:-1]])
        pool.append(sub.descend(shifted))
        states = np.unique(np.concatenate(pool), axis=0)  # (P, G)
        F = self.fairness(states)
        D = self.delta(states)
        tie = self.tie[np.arange(self.G)[None, :], states].sum(axis=1)
        w = self.w  # (W, 1)
        obj = (1 - w) * (1 - F[None, :]) + w * D[None, :] + tie[None, :]
        ok = np.all(self.allowed[:, np.arange(self.G)[None, :], states], axis=2)  # (W, P)
        obj = np.where(ok, obj, np.inf)
        best = np.argmin(obj, axis=1)
        state = states[best].copy()
        none = ~np.isfinite(obj[np.arange(W), best])
        state[none] = self.phi_idx  # Φ meets the order constraints (Φ_t > every lower bound)
        # polish every weight at its own w: single moves and pairs among the extremes
        state = self.descend(state, wide=False)
        return state, self.objective(state)


class _CalibrationProblem:
    """CAL: all thresholds at once, Σ_tiers (1 − CAL_tier), for every w."""

    def __init__(self, cand: _Candidates, phi: np.ndarray, w: np.ndarray, n_total_weight: float,
                 nondegenerate: bool = True):
        self.c = cand
        self.nondegenerate = nondegenerate
        self.G, self.C = cand.values.shape
        self.k = len(phi)
        self.phi = phi
        self.w = w
        self.Wn = w.shape[0]
        self.ntw = n_total_weight
        self.span = max(float(np.ptp(cand.values[cand.valid])), 1e-12)
        # Φ's position per group, and the weight below each candidate
        self.phi_idx = cand.phi_index  # (G, k)

    def _tier_stats(self, state):
        """state (W, G, k) candidate indices → tier weight and positives (W, G, k+1)."""
        g = np.arange(self.G)[None, :, None]
        below = self.c.below[g, state]  # (W, G, k)
        pos_below = self.c.pos_below[g, state]
        tot = np.broadcast_to(self.c.weight_total[None, :, None], below.shape[:2] + (1,))
        ptot = np.broadcast_to(self.c.positives[None, :, None], below.shape[:2] + (1,))
        zero = np.zeros(below.shape[:2] + (1,))
        b = np.concatenate([zero, below, tot], axis=2)
        p = np.concatenate([zero, pos_below, ptot], axis=2)
        return np.diff(b, axis=2), np.diff(p, axis=2)

    def fairness_sum(self, state) -> np.ndarray:
        wt, ps = self._tier_stats(state)
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(wt > 0, ps / np.where(wt > 0, wt, 1.0), np.nan)  # (W, G, k+1)
        lo, hi = _nanminmax(rate, 1)
        cal = _ratio(lo, hi, np.sum(~np.isnan(rate), axis=1))
        return np.sum(1 - np.where(np.isnan(cal), 0.0, cal), axis=1)  # (W,)

    def delta(self, state) -> np.ndarray:
        """Share of people whose tier differs between Φ and θ (exact interval overlaps)."""
        g = np.arange(self.G)[None, :, None]
        below_t = self.c.below[g, state]  # (W, G, k)
        below_p = np.broadcast_to(self.c.below[np.arange(self.G)[:, None], self.phi_idx][None], below_t.shape)
        zero = np.zeros(below_t.shape[:2] + (1,))
        tot = np.broadcast_to(self.c.weight_total[None, :, None], below_t.shape[:2] + (1,))
        bt = np.concatenate([zero, below_t, tot], axis=2)
        bp = np.concatenate([zero, below_p, tot], axis=2)
        # below-weight is monotone in the threshold, so overlaps can be taken on it directly
        lo = np.maximum(bt[..., :-1], bp[..., :-1])
        hi = np.minimum(bt[..., 1:], bp[..., 1:])
        same = np.maximum(hi - lo, 0.0).sum(axis=2)  # (W, G)
        return (self.c.weight_total[None, :] - same).sum(axis=1) / self.ntw

    def tie(self, state):
        g = np.arange(self.G)[None, :, None]
        vals = self.c.values[g, state]
        return _TIE * np.abs(vals - self.phi[None, None, :]).sum(axis=(1, 2)) / self.span

    def objective(self, state):
        return (1 - self.w) * self.fairness_sum(state) + self.w * self.delta(state)

    def allowed_for(self, state, t, g):
        """(W, C) mask for moving θ_{t,g}: orderliness and coveredness."""
        vals = self.c.values
        cv = vals[g][None, :]
        lo = vals[g][state[:, g, t - 1]][:, None] if t > 0 else np.full((state.shape[0], 1), -np.inf)
        hi_own = vals[g][state[:, g, t + 1]][:, None] if t + 1 < self.k else np.full((state.shape[0], 1), np.inf)
        upper = self.phi[t + 1] if t + 1 < self.k else np.inf
        ok = self.c.valid[g][None, :] & (cv > lo) & (cv < hi_own) & (cv <= upper)
        if self.nondegenerate:
            strict = ok & self.c.nondegenerate[g][None, :]
            ok = np.where(strict.any(axis=1, keepdims=True), strict, ok)
        others = [h for h in range(self.G) if h != g]
        if not others:
            return ok & (cv == self.phi[t])
        ov = vals[others][np.arange(len(others))[None, :], state[:, others, t]]
        o_min, o_max = ov.min(axis=1), ov.max(axis=1)
        p = self.phi[t]
        covered = (o_min <= p) & (p <= o_max)
        cov = np.where(covered[:, None], True,
                       np.where((o_min > p)[:, None], cv <= p, cv >= p))
        return ok & cov

    def step(self, state, t, g) -> bool:
        W = state.shape[0]
        # evaluate every candidate for θ_{t,g}: build (W*C) states — C is capped, so fine
        C = self.C
        trial = np.repeat(state[:, None], C, axis=1)  # (W, C, G, k)
        trial[:, :, g, t] = np.arange(C)[None, :]
        flat = trial.reshape(W * C, self.G, self.k)
        wrep = np.repeat(self.w, C)
        J = ((1 - wrep) * self.fairness_sum(flat) + wrep * self.delta(flat) + self.tie(flat)).reshape(W, C)
        J = np.where(self.allowed_for(state, t, g), J, np.inf)
        best = np.argmin(J, axis=1)
        cur = state[:, g, t]
        rows = np.arange(W)
        improve = J[rows, best] < J[rows, cur] - 1e-15
        state[:, g, t] = np.where(improve, best, cur)
        return bool(improve.any())

    def solve(self, keys, max_sweeps: int = 20):
        """Coordinate descent from Φ at the anchor weights (rows ``keys``); every weight then
        takes the best state found (fairness and Δ of a state do not depend on w), so that a
        weight's result does not depend on the other weights in the grid."""
        sub = copy.copy(self)
        sub.w, sub.Wn = self.w[keys], len(keys)
        state = np.tile(self.phi_idx[None], (sub.Wn, 1, 1))
        for _ in range(max_sweeps):
            moved = False
            for t in range(self.k):
                for g in range(self.G):
                    moved |= sub.step(state, t, g)
            if not moved:
                break
        pool = np.unique(np.concatenate([state, self.phi_idx[None]]), axis=0)  # (P, G, k)
        obj = (1 - self.w[:, None]) * self.fairness_sum(pool)[None, :] + \
            self.w[:, None] * self.delta(pool)[None, :] + self.tie(pool)[None, :]
        best = pool[np.argmin(obj, axis=1)]
        return best, self.objective(best)


@dataclass
class SubsampleSolution:
    phi: np.ndarray  # (k,) oriented
    theta: np.ndarray  # (W, k, G) oriented
    objective: np.ndarray  # (W, k) — for CAL the joint objective repeated over k
    fairness_pre: np.ndarray  # (k,) F at Φ (CAL: per tier, k+1)


def solve_subsample(score, label, group, weight, n_groups: int, phi: np.ndarray, definition: str,
                    weights, max_candidates: int = 400, nondegenerate: bool = True) -> SubsampleSolution:
    """The corrected thresholds of one subsample, for every penalty weight.

    Full searches run at the fixed anchor weights (ANCHOR_WEIGHTS) whatever the grid; every
    requested weight takes the best state any anchor search found, then single-group
    moves at its own w. A weight's result therefore depends only on that weight, the
    subsample and the settings — never on which other weights were requested.

    ``nondegenerate``: a group's threshold must leave someone of the group on each side of
    it (in this subsample) wherever the order constraints allow that, so that no correction
    flags everyone or no one in a group; False gives the unconstrained optimum."""
    w_user = np.asarray(weights, dtype=float)
    w = np.union1d(w_user, np.asarray(ANCHOR_WEIGHTS, dtype=float))  # sorted, unique
    rows_user = np.searchsorted(w, w_user)
    keys = np.searchsorted(w, np.asarray(ANCHOR_WEIGHTS, dtype=float))
    gs = GroupScores(score, label, group, n_groups, weight)
    cand = _Candidates(gs, phi, max_candidates)
    total = float(gs.weight_total.sum())
    W, k, G = w.shape[0], len(phi), n_groups
    theta = np.empty((W, k, G))
    objective = np.empty((W, k))
    rates_pre = compute_rates(gs.counts(phi, shared=True))
    if definition == "CAL":
        prob = _CalibrationProblem(cand, phi, w, total, nondegenerate)
        state, obj = prob.solve(keys)
        theta[:] = cand.values[np.arange(G)[None, :, None], state].transpose(0, 2, 1)
        objective[:] = obj[:, None]
        from ..metrics.thresholds import tier_counts
        tw, tp_, _ = tier_counts(gs, phi)
        with np.errstate(invalid="ignore", divide="ignore"):
            f_pre = all_measures(rates_pre, np.where(tw > 0, tp_ / np.where(tw > 0, tw, 1), np.nan))["CAL"]
    else:
        lower = np.full((W, G), -np.inf)
        grid = np.unique(np.quantile(score, np.linspace(0.02, 0.98, 25)))
        pooled = compute_rates(gs.counts(grid, shared=True).total())
        family = {key: pooled[key][0] for key in DEFINITIONS[definition].rates}
        for t in range(k):
            prob = _SingleThresholdProblem(cand, definition, t, phi, w, lower, total, family, nondegenerate)
            state, obj = prob.solve(keys)
            vals = cand.values[np.arange(G)[None, :], state]
            theta[:, t, :] = vals
            objective[:, t] = obj
            lower = vals
        f_pre = all_measures(rates_pre)[definition]
    return SubsampleSolution(phi, theta[rows_user], objective[rows_user], np.asarray(f_pre, dtype=float))


def objective_value(score, label, group, weight, n_groups, phi, t, theta_t, definition, w) -> float:
    """The objective of one threshold at group thresholds ``theta_t`` — a plain reference
    implementation (counts recomputed from scratch) for tests and for comparing optimizers."""
    gs = GroupScores(score, label, group, n_groups, weight)
    rates = compute_rates(gs.counts(np.asarray(theta_t, dtype=float), shared=False))
    rates_phi = compute_rates(gs.counts(np.full(n_groups, phi[t]), shared=False))
    F = 1.0
    for key in DEFINITIONS[definition].rates:
        v = rates[key]
        if np.any(np.isnan(v) & ~np.isnan(rates_phi[key])):
            F = 0.0
            continue
        d = v[~np.isnan(v)]
        if d.size < 2:
            F = 0.0
            continue
        if np.isinf(d.max()):  # x/0: equal to another infinite rate, else maximally unequal
            F = min(F, 1.0 if np.isinf(d.min()) else 0.0)
        else:
            F = min(F, 1.0 if d.max() == 0 else d.min() / d.max())
    sel = gs.counts(np.asarray(theta_t, dtype=float), shared=False)
    base = gs.counts(np.full(n_groups, phi[t]), shared=False)
    changed = np.abs((sel.tp + sel.fp) - (base.tp + base.fp)).sum()
    return (1 - w) * (1 - F) + w * changed / gs.weight_total.sum()


# ------------------------------------------------------------------------------------------
# the whole procedure

_WORKER: dict = {}


def _init_worker(arrays):
    _WORKER.clear()
    _WORKER.update(arrays)


def _run_chunk(indices, seeds, settings_dict):
    """Solve a chunk of subsamples (in a worker process or in-process)."""
    a = _WORKER
    s = CorrectionSettings.from_dict(settings_dict)
    out = []
    for i, seed in zip(indices, seeds):
        rng = np.random.default_rng(np.random.SeedSequence(seed))
        rows = draw_subsample(a["score"].shape[0], a["codes"], a["mode"], rng)
        sc, y, g, wt = a["score"][rows], a["label"][rows], a["group"][rows], a["weight"][rows]
        phi = group_agnostic_thresholds(sc * a["sign"], wt, s.rules, a["sign"])
        sol = solve_subsample(sc, y, g, wt, a["n_groups"], phi, s.definition, s.weights,
                              s.max_candidates, nondegenerate=not s.allow_degenerate)
        out.append((i, sol))
    return out


@dataclass
class CorrectionResult:
    settings: CorrectionSettings
    group_names: list[str]
    sign: float
    mode: str
    weights: np.ndarray  # (W,)
    phi: np.ndarray  # (I, k) per subsample, oriented
    theta: np.ndarray  # (I, W, k, G) per subsample, oriented
    objective: np.ndarray  # (I, W, k)
    fairness_pre_sub: np.ndarray  # (I, k) or (I, k+1) for CAL
    assessment: dict = field(default_factory=dict)
    best: list = field(default_factory=list)  # per threshold: dict
    transitions: dict = field(default_factory=dict)  # w index -> (G, k+1, k+1)
    # (W, k) lists of reasons (empty = usable) from the full data at the bagged thresholds;
    # None when not computed (a result built by hand)
    degenerate: list | None = None
    score_range: tuple | None = None  # (lowest, highest) score on the full data, user units
    integer_scores: bool = False

    def is_degenerate(self, wi: int, t: int) -> bool:
        return bool(self.degenerate and self.degenerate[wi][t])

    def bound_marks(self, wi: int, t: int) -> dict[int, str]:
        """Group index -> 'lowest' / 'highest' / 'above highest' where the bagged corrected
        threshold (user units) coincides with the lowest or highest score in the data."""
        if self.score_range is None:
            return {}
        lo, hi = self.score_range
        tol = 1e-9 * max(1.0, abs(hi - lo))
        post = self.post_thresholds()[wi, t]
        out = {}
        for g, v in enumerate(post):
            if abs(v - lo) <= tol:
                out[g] = "lowest"
            elif abs(v - hi) <= tol:
                out[g] = "highest"
            elif self.sign > 0 and v > hi + tol:
                out[g] = "above highest"  # nobody flagged
            elif self.sign < 0 and v < lo - tol:
                out[g] = "below lowest"  # nobody flagged (lower scores are riskier)
        return out

    @property
    def k(self) -> int:
        return self.phi.shape[1]

    def pre_thresholds(self) -> np.ndarray:
        """Bagged pre-correction thresholds, user units (k,)."""
        return self.phi.mean(axis=0) * self.sign

    def post_thresholds(self) -> np.ndarray:
        """Bagged corrected thresholds, user units (W, k, G)."""
        return self.theta.mean(axis=0) * self.sign

    def threshold_names(self) -> list[str]:
        return [ThresholdRule.from_dict(r).describe() if isinstance(r, dict) else str(r)
                for r in self.settings.rules]

    def to_json(self) -> dict:
        names = self.threshold_names()
        pre = self.pre_thresholds()
        post = self.post_thresholds()
        a = self.assessment
        best = []
        for b in self.best:
            t, wi = b["threshold"], b["w_index"]
            marks = self.bound_marks(wi, t)
            best.append({
                "threshold": names[t], "w": float(self.weights[wi]),
                "post": {g: float(post[wi, t, j]) for j, g in enumerate(self.group_names)},
                "post_at_score_bounds": {self.group_names[g]: m for g, m in marks.items()},
                "fairness_pre": {"mean": _num(a["fairness_pre_mean"][t]), "sd": _num(a["fairness_pre_sd"][t])},
                "fairness_post": {"mean": _num(a["fairness_post_mean"][wi, t]),
                                  "sd": _num(a["fairness_post_sd"][wi, t])},
                "changed": _num(a["changed_mean"][wi, t]),
                "usable": b.get("usable", True),
                "degenerate": list(self.degenerate[wi][t]) if self.degenerate else []})
        grid = [{"w": float(self.weights[wi]), "threshold": names[t],
                 "fairness_post_mean": _num(a["fairness_post_mean"][wi, t]),
                 "fairness_post_sd": _num(a["fairness_post_sd"][wi, t]),
                 "changed": _num(a["changed_mean"][wi, t]),
                 "degenerate": list(self.degenerate[wi][t]) if self.degenerate else []}
                for wi in range(len(self.weights)) for t in range(self.k)]
        return {"definition": self.settings.definition, "thresholds_pre": [float(x) for x in pre],
                "threshold_names": names, "subsampling": self.mode,
                "subsamples": int(self.theta.shape[0]), "seed": self.settings.seed,
                "score_range": list(self.score_range) if self.score_range else None,
                "integer_scores": self.integer_scores,
                "best": best, "grid": grid, "warnings": self.warnings()}

    def warnings(self) -> list[str]:
        """Degenerate solutions in the grid and suggestions that had none to avoid."""
        if not self.degenerate:
            return []
        names = self.threshold_names()
        out = []
        best = {b["threshold"]: b for b in self.best}
        for t, name in enumerate(names):
            bad = [wi for wi in range(len(self.weights)) if self.degenerate[wi][t]]
            if not bad:
                continue
            b = best.get(t)
            if b is not None and not b.get("usable", True):
                out.append(f"{name}: every w gives a degenerate solution (at w = "
                           f"{float(self.weights[b['w_index']]):g}: "
                           + summarize_reasons(self.degenerate[b['w_index']][t]) + "); no w is "
                           "suggested, the one shown is the fairest and is degenerate.")
            else:
                ws = ", ".join(f"{float(self.weights[wi]):g}" for wi in bad[:8]) + (", …" if len(bad) > 8 else "")
                out.append(f"{name}: {len(bad)} of {len(self.weights)} w's give a degenerate solution "
                           f"(w = {ws}; at w = {float(self.weights[bad[0]]):g}: "
                           + summarize_reasons(self.degenerate[bad[0]][t]) + "); they stay in the "
                           "trade-off grid, marked, and are never suggested.")
        return out


def summarize_reasons(reasons: list[str]) -> str:
    """'A: everyone flagged', 'B: everyone flagged' → 'everyone flagged in A, B' (short form)."""
    kinds: dict[str, list[str]] = {}
    other = []
    for r in reasons:
        group, sep, what = r.rpartition(": ")
        if sep and what in ("everyone flagged", "nobody flagged"):
            kinds.setdefault(what, []).append(group)
        else:
            other.append(r)
    return "; ".join([f"{what} in {', '.join(gs)}" for what, gs in kinds.items()] + other)


def _num(x):
    x = float(x)
    return None if math.isnan(x) else x


def run_correction(data: AnalysisData, settings: CorrectionSettings, *, job: Job = NO_JOB) -> CorrectionResult:
    """The full procedure: I subsamples × W weights, bagging, then the assessment."""
    if data.label is None:
        raise FairDeskError("Threshold correction needs an outcome (label) column.")
    if settings.definition not in DEFINITIONS:
        raise FairDeskError(f"Unknown fairness definition '{settings.definition}'; choose one of "
                            + ", ".join(DEFINITIONS) + ".")
    if data.n_groups < 2:
        raise FairDeskError("Threshold correction compares groups: map a group column with at "
                            "least two groups.")
    if settings.subsamples < 1 or settings.audit_subsamples < 2:
        raise FairDeskError("Use at least 1 subsample for the correction and 2 for the assessment.")
    w = np.asarray(settings.weights, dtype=float)
    if w.size == 0 or np.any((w < 0) | (w > 1)):
        raise FairDeskError("Penalty weights must lie between 0 and 1.")
    # Φ is sorted by risk on each subsample: order the rules the same way (on all rows) so
    # that threshold t keeps its rule's name whatever order the rules were given in
    full = group_agnostic_thresholds(data.score, data.weight, settings.rules, data.sign)
    if len(full) == len(settings.rules):
        order = np.argsort([group_agnostic_thresholds(data.score, data.weight, [r], data.sign)[0]
                            for r in settings.rules], kind="stable")
        settings.rules = tuple(settings.rules[i] for i in order)
    mode = subsample_mode(data, settings.subsampling)
    codes = unit_codes(data) if mode == "unit" else None
    arrays = {"score": data.oriented.astype(float), "label": data.label.astype(float),
              "group": data.group.astype(np.int64), "weight": data.weight.astype(float),
              "codes": codes, "mode": mode, "sign": data.sign, "n_groups": data.n_groups}
    root = np.random.SeedSequence(settings.seed)
    fit_seeds, audit_seeds = root.spawn(2)
    # one 64-bit seed per subsample, fixed before any work is split between processes
    seed_ints = [int(s.generate_state(1, np.uint64)[0]) for s in fit_seeds.spawn(settings.subsamples)]
    I = settings.subsamples
    sd = settings.to_dict()
    results: dict[int, SubsampleSolution] = {}
    workers = settings.workers or os.cpu_count() or 1
    workers = max(1, min(workers, I))
    job.progress(0.0, "Correcting thresholds")
    if workers == 1:
        _init_worker(arrays)
        for i in range(I):
            for idx, sol in _run_chunk([i], [seed_ints[i]], sd):
                results[idx] = sol
            job.progress(0.8 * len(results) / I, f"Subsample {len(results):,} of {I:,}")
    else:
        # one subsample per task: progress after every subsample, and Cancel is checked
        # twice a second while the workers run (a running subsample finishes, the rest never start)
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_init_worker,
                                 initargs=(arrays,)) as pool:
            pending = {pool.submit(_run_chunk, [i], [seed_ints[i]], sd) for i in range(I)}
            try:
                job.progress(0.0, f"Starting {workers} worker processes")
                while pending:
                    done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                    for fut in done:
                        for idx, sol in fut.result():
                            results[idx] = sol
                    job.progress(0.8 * len(results) / I, f"Subsample {len(results):,} of {I:,}")
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    sols = [results[i] for i in range(I)]
    res = CorrectionResult(
        settings=settings, group_names=list(data.group_names), sign=data.sign, mode=mode, weights=w,
        phi=np.stack([s.phi for s in sols]), theta=np.stack([s.theta for s in sols]),
        objective=np.stack([s.objective for s in sols]),
        fairness_pre_sub=np.stack([s.fairness_pre for s in sols]))
    res.assessment = assess(data, res, audit_seeds, job=job)
    res.degenerate = degenerate_solutions(data, res)
    sc = np.asarray(data.score, dtype=float)
    res.score_range = (float(sc.min()), float(sc.max()))
    res.integer_scores = bool(np.all(np.isfinite(sc)) and np.all(sc == np.round(sc)))
    res.best = best_weights(res)
    res.transitions = {b["w_index"]: transition_matrix(data, res, b["w_index"]) for b in res.best}
    job.progress(1.0, "Done")
    return res


def _tier_rates_from_counts(sel_w, sel_p, tot_w, tot_p):
    """Tier weight/positives from the selected (at-or-above) weights at sorted thresholds."""
    z = np.zeros(sel_w.shape[:-1] + (1,))
    b = np.concatenate([tot_w[..., None], sel_w, z], axis=-1)
    p = np.concatenate([tot_p[..., None], sel_p, z], axis=-1)
    return b[..., :-1] - b[..., 1:], p[..., :-1] - p[..., 1:]


def assess(data: AnalysisData, res: CorrectionResult, audit_seeds, *, job: Job = NO_JOB) -> dict:
    """Appendix L: apply the bagged pre and post thresholds to J fresh subsamples."""
    s = res.settings
    J = s.audit_subsamples
    G = data.n_groups
    W = res.weights.shape[0]
    k = res.k
    pre = res.phi.mean(axis=0)  # oriented (k,)
    post = res.theta.mean(axis=0)  # oriented (W, k, G)
    codes = unit_codes(data) if res.mode == "unit" else None
    defs = list(THRESHOLD_DEFINITIONS)
    acc = {}

    def add(key, value):
        value = np.asarray(value, dtype=float)
        if key not in acc:
            acc[key] = [np.zeros(value.shape), np.zeros(value.shape), np.zeros(value.shape)]
        ok = ~np.isnan(value)
        acc[key][0] += np.where(ok, value, 0)
        acc[key][1] += np.where(ok, value * value, 0)
        acc[key][2] += ok

    seeds = audit_seeds.spawn(J)
    for j in range(J):
        job.progress(0.8 + 0.2 * j / J, f"Assessment subsample {j + 1:,} of {J:,}")
        rng = np.random.default_rng(seeds[j])
        rows = draw_subsample(data.n, codes, res.mode, rng)
        gs = GroupScores(data.oriented[rows], data.label[rows], data.group[rows], G, data.weight[rows])
        c_pre = gs.counts(pre, shared=True)  # (G, k)
        r_pre = compute_rates(c_pre)
        r_pre_all = compute_rates(c_pre.total())
        post_g = post.transpose(2, 0, 1).reshape(G, W * k)  # (G, W*k)
        c_post = gs.counts(post_g, shared=False)
        r_post = compute_rates(c_post)
        r_post_all = compute_rates(c_post.total())
        m_pre = all_measures(r_pre)
        m_post = all_measures(r_post)
        # calibration per tier (thresholds sorted within each w)
        tw, tp_ = _tier_rates_from_counts((c_pre.tp + c_pre.fp), c_pre.tp, gs.weight_total, gs.positives)
        with np.errstate(invalid="ignore", divide="ignore"):
            cal_pre = all_measures(r_pre, np.where(tw > 0, tp_ / np.where(tw > 0, tw, 1), np.nan))["CAL"]
        sel = (c_post.tp + c_post.fp).reshape(G, W, k)
        selp = c_post.tp.reshape(G, W, k)
        order = np.argsort(post.transpose(2, 0, 1), axis=2)  # ascending thresholds per (g, w)
        sel = np.take_along_axis(sel, order, 2)
        selp = np.take_along_axis(selp, order, 2)
        tw2, tp2 = _tier_rates_from_counts(sel, selp, gs.weight_total[:, None].repeat(W, 1),
                                           gs.positives[:, None].repeat(W, 1))  # (G, W, k+1)
        with np.errstate(invalid="ignore", divide="ignore"):
            rate2 = np.where(tw2 > 0, tp2 / np.where(tw2 > 0, tw2, 1), np.nan)
        from ..metrics.fairness import min_pairwise_ratio
        cal_post = min_pairwise_ratio(rate2, axis=0)  # (W, k+1)
        # changed tiers: exact overlaps of tiers on the weight-below scale
        below_pre = np.broadcast_to((gs.weight_total[:, None] - (c_pre.tp + c_pre.fp))[:, None, :], (G, W, k))
        below_post = gs.weight_total[:, None, None] - sel
        zero = np.zeros((G, W, 1))
        tot = np.broadcast_to(gs.weight_total[:, None, None], (G, W, 1))
        bp = np.concatenate([zero, np.sort(below_pre, axis=2), tot], axis=2)
        bq = np.concatenate([zero, below_post, tot], axis=2)
        lo = np.maximum(bp[..., :-1], bq[..., :-1])
        hi = np.minimum(bp[..., 1:], bq[..., 1:])
        same = np.maximum(hi - lo, 0).sum(axis=2)  # (G, W)
        changed_all = (gs.weight_total[:, None] - same).sum(axis=0) / gs.weight_total.sum()  # (W,)
        # per threshold: rows whose side of threshold t differs
        pre_sel = (c_pre.tp + c_pre.fp)[:, None, :]
        post_sel = (c_post.tp + c_post.fp).reshape(G, W, k)
        changed_t = np.abs(post_sel - pre_sel).sum(axis=0) / gs.weight_total.sum()
        for d in defs:
            add(f"pre:{d}", m_pre[d])  # (k,)
            add(f"post:{d}", m_post[d].reshape(W, k))
        add("pre:CAL", cal_pre)
        add("post:CAL", cal_post)
        for r in ASSESS_RATES:
            add(f"pre:rate:{r}", r_pre[r])  # (G, k)
            add(f"post:rate:{r}", r_post[r].reshape(G, W, k))
            add(f"pre:overall:{r}", r_pre_all[r][0])  # (k,)
            add(f"post:overall:{r}", r_post_all[r][0].reshape(W, k))
        add("changed", changed_t)  # (W, k)
        add("changed_tiers", changed_all)  # (W,)
    out = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for key, (sm, sq, n) in acc.items():
            mean = np.where(n > 0, sm / np.maximum(n, 1), np.nan)
            var = np.where(n > 1, (sq - n * mean * mean) / np.maximum(n - 1, 1), np.nan)
            out[f"{key}:mean"] = mean
            out[f"{key}:sd"] = np.sqrt(np.maximum(var, 0))
    d = s.definition
    if d == "CAL":
        out["fairness_pre_mean"] = np.repeat(np.nanmean(out["pre:CAL:mean"]), k)
        out["fairness_pre_sd"] = np.repeat(np.nanmean(out["pre:CAL:sd"]), k)
        out["fairness_post_mean"] = np.repeat(np.nanmean(out["post:CAL:mean"], axis=1)[:, None], k, 1)
        out["fairness_post_sd"] = np.repeat(np.nanmean(out["post:CAL:sd"], axis=1)[:, None], k, 1)
    else:
        out["fairness_pre_mean"] = out[f"pre:{d}:mean"]
        out["fairness_pre_sd"] = out[f"pre:{d}:sd"]
        out["fairness_post_mean"] = out[f"post:{d}:mean"]
        out["fairness_post_sd"] = out[f"post:{d}:sd"]
    out["changed_mean"] = out["changed:mean"]
    out["changed_sd"] = out["changed:sd"]
    return out


def best_weights(res: CorrectionResult) -> list[dict]:
    """Per threshold: among the non-degenerate solutions, the w with the highest mean
    fairness; ties → smallest SD → largest w. When every w is degenerate the fairest is
    returned with ``usable`` False (shown with a warning, never as a suggestion)."""
    a = res.assessment
    out = []
    for t in range(res.k):
        mean = np.round(a["fairness_post_mean"][:, t], 12)
        sd = np.round(a["fairness_post_sd"][:, t], 12)
        m = np.where(np.isnan(mean), -np.inf, mean)
        s = np.where(np.isnan(sd), np.inf, sd)
        bad = np.array([res.is_degenerate(wi, t) for wi in range(len(res.weights))], dtype=bool)
        order = np.lexsort((-res.weights, s, -m, bad))  # last key first: usable, fairness desc, sd asc, w desc
        out.append({"threshold": t, "w_index": int(order[0]), "usable": not bool(bad[order[0]])})
    return out


def degenerate_solutions(data: AnalysisData, res: CorrectionResult) -> list[list[list[str]]]:
    """(W, k) lists of reasons why the bagged corrected thresholds are degenerate on the
    full data (an empty list: not degenerate). A solution is degenerate when, at threshold
    t, some group has nobody or everybody at or above its threshold, or when its accuracy
    (all groups) is below that of both trivial rules, flagging everyone and flagging no one.
    For CAL (all thresholds at once) a w is degenerate at every threshold when any of its
    group's tiers is empty or holds the whole group, or any threshold fails the accuracy rule."""
    G, k, W = data.n_groups, res.k, len(res.weights)
    post = res.theta.mean(axis=0)  # oriented (W, k, G)
    gs = GroupScores(data.oriented, data.label, data.group, G, data.weight)
    c = gs.counts(post.transpose(2, 0, 1).reshape(G, W * k), shared=False)
    sel = (c.tp + c.fp).reshape(G, W, k)
    tot = gs.weight_total[:, None, None]
    tol = 1e-9 * np.maximum(tot, 1.0)
    none_flagged = sel <= tol
    all_flagged = sel >= tot - tol
    total = float(gs.weight_total.sum())
    acc = ((c.tp + c.tn).reshape(G, W, k)).sum(axis=0) / total  # (W, k)
    prev = float(gs.positives.sum()) / total
    trivial = min(prev, 1.0 - prev)
    names = data.group_names
    out = [[[] for _ in range(k)] for _ in range(W)]
    for wi in range(W):
        for t in range(k):
            r = out[wi][t]
            for g in range(G):
                if all_flagged[g, wi, t]:
                    r.append(f"{names[g]}: everyone flagged")
                elif none_flagged[g, wi, t]:
                    r.append(f"{names[g]}: nobody flagged")
            if acc[wi, t] < trivial - 1e-12:
                r.append(f"accuracy {acc[wi, t]:.3f} below flagging everyone ({prev:.3f}) and "
                         f"no one ({1 - prev:.3f})")
    if res.settings.definition == "CAL":
        for wi in range(W):
            reasons = [x for t in range(k) for x in out[wi][t]]
            for g in range(G):
                s_sel = np.sort(sel[g, wi])[::-1]  # at-or-above weight, thresholds ascending
                tiers = -np.diff(np.concatenate(([gs.weight_total[g]], s_sel, [0.0])))
                if np.any(tiers <= 1e-9 * max(gs.weight_total[g], 1.0)):
                    reasons.append(f"{names[g]}: an empty tier")
            reasons = list(dict.fromkeys(reasons))
            out[wi] = [list(reasons) for _ in range(k)]
    return out


def transition_matrix(data: AnalysisData, res: CorrectionResult, w_index: int) -> np.ndarray:
    """Weighted counts of people by (group, tier before, tier after) on the full data."""
    k = res.k
    pre = np.sort(res.phi.mean(axis=0))
    post = res.theta.mean(axis=0)[w_index]  # (k, G)
    t_pre = np.searchsorted(pre, data.oriented, side="right")
    t_post = np.empty(data.n, dtype=np.int64)
    for g in range(data.n_groups):
        m = data.group == g
        t_post[m] = np.searchsorted(np.sort(post[:, g]), data.oriented[m], side="right")
    code = (data.group * (k + 1) + t_pre) * (k + 1) + t_post
    counts = np.bincount(code, weights=data.weight, minlength=data.n_groups * (k + 1) ** 2)
    return counts.reshape(data.n_groups, k + 1, k + 1)
