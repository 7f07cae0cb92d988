"""The curve-family search as it was before it was made faster (commit 40aabd4), kept
verbatim as the reference the fast :func:`fairdesk.engines.preferential.search_curves`
must agree with: same optimum (t0, t1, p and its figures) within 1e-9."""

from __future__ import annotations

import math

import numpy as np

from fairdesk.engines.preferential import (_NC, CurveFit, U_MAX, U_MIN, _keys, _p_range,  # noqa: F401
                                           coefficients, lipschitz, slope_extremes)

_CACHE: dict = {}


def coef_and_slope(family: str, p) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients (N, 2, 5) and largest slope φ' (N,) in x units, solving the constraint
    system once per distinct p (a search revisits the same p many times)."""
    p = np.asarray(p, dtype=float)
    uniq, inv = np.unique(p, return_inverse=True)
    missing = [v for v in uniq.tolist() if (family, v) not in _CACHE]
    if missing:
        if len(_CACHE) > 200_000:
            _CACHE.clear()
        m = np.array(missing)
        c = coefficients(family, m)
        sl = slope_extremes(family, m)[1]
        for v, cv, sv in zip(missing, c, sl):
            _CACHE[(family, v)] = (cv, sv)
    C = np.stack([_CACHE[(family, v)][0] for v in uniq.tolist()])
    S = np.array([_CACHE[(family, v)][1] for v in uniq.tolist()])
    return C[inv], S[inv]


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


_KJ = np.clip(np.arange(_NC)[:, None] - np.arange(_NC)[None, :], 0, None)  # k − j
_CKJ = np.array([[math.comb(k, j) if j <= k else 0 for j in range(_NC)] for k in range(_NC)],
                dtype=float)


class MultiMoments:
    """Several groups' weighted moments side by side, so that one array operation evaluates
    candidates of every group and family at once.

    Group g's normalised scores are shifted to u + 10g (candidates live in [−3, 4] + 10g), so
    one binary search serves all groups. The moments Σ w·y·u^k and Σ w·(1 − y)·u^k (k ≤ 4)
    are kept as compensated prefix sums, so that the sums over a narrow band are accurate to
    the band's own size; a band's expected true positives are then
    Σ_k c_k h^(−k) Σ_j C(k, j)(−a)^(k−j) M_j over the rows of each piece of the curve."""

    SHIFT = 10.0

    def __init__(self, groups: list[GroupMoments]):
        self.groups = groups
        self.key = np.concatenate([m.u + self.SHIFT * g for g, m in enumerate(groups)])
        u = np.concatenate([m.u for m in groups])
        w = np.concatenate([m.weight for m in groups])
        y = np.concatenate([m.label for m in groups])
        powers = u[None, :] ** np.arange(_NC)[:, None]  # (5, n)
        self.Mp, self.Lp = compensated_cumsum(powers * (w * y))
        self.Mn, self.Ln = compensated_cumsum(powers * (w * (1.0 - y)))
        self.end = np.cumsum([m.n for m in groups]).astype(np.int64)
        self.P = np.array([m.P for m in groups])
        self.N = np.array([m.N for m in groups])

    def _range(self, lo, hi):
        """(5, N) sums over rows [lo, hi) for positives and negatives."""
        sp = (self.Mp[:, hi] - self.Mp[:, lo]) + (self.Lp[:, hi] - self.Lp[:, lo])
        sn = (self.Mn[:, hi] - self.Mn[:, lo]) + (self.Ln[:, hi] - self.Ln[:, lo])
        return sp, sn

    def counts(self, g, a, b, p, coef, fixed):
        """Expected (TP, FP) of candidates (group g, normalised a = t0, b = t1, p)."""
        h = b - a
        tau = np.where(fixed, b, a + (1.0 - p) * h)
        off = self.SHIFT * g
        i0 = np.searchsorted(self.key, a + off, side="left")
        it = np.searchsorted(self.key, tau + off, side="left")
        i1 = np.searchsorted(self.key, b + off, side="left")
        top_p, top_n = self._range(i1, self.end[g])
        tp, fp = top_p[0], top_n[0]
        powa = (-a)[:, None] ** np.arange(_NC)[None, :]
        T = powa[:, _KJ] * _CKJ[None]
        with np.errstate(divide="ignore", invalid="ignore"):
            hinv = np.where(h > 0, 1.0 / np.where(h > 0, h, 1.0), 0.0)
        hk = hinv[:, None] ** np.arange(_NC)[None, :]
        for piece, (lo, hi) in enumerate(((i0, it), (it, i1))):
            q = np.einsum("nk,nkj->nj", coef[:, piece, :] * hk, T)
            sp, sn = self._range(lo, hi)
            tp = tp + np.einsum("nj,jn->n", q, sp)
            fp = fp + np.einsum("nj,jn->n", q, sn)
        return tp, fp


def search_curves(groups: list[GroupMoments], tasks, *, tol: float = 0.005,
                  prefer_smooth: bool = False, min_width: float = 0.002, grid_t: int = 48,
                  rounds: int = 60, seeds: int = 16, chunk: int = 60_000,
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

    def evaluate(task, A, B, Pp):
        coef = np.empty((A.size, 2, _NC))
        sl = np.empty(A.size)
        for f in set(fam[task].tolist()) if task.size else ():
            m = fam[task] == f
            coef[m], sl[m] = coef_and_slope(f, Pp[m])
        g = tg[task]
        tp, fp = mm.counts(g, A, B, Pp, coef, np.zeros(A.size, dtype=bool))
        with np.errstate(invalid="ignore", divide="ignore"):
            gap = np.maximum(np.abs(fp / mm.N[g] - TX[task]), np.abs(tp / mm.P[g] - TY[task]))
        L = sl / np.maximum(B - A, 1e-300)
        return _keys(gap, L, tol, prefer_smooth)

    # coarse grid, task by task (each chunked), keeping the best seeds of each
    S = np.zeros((nt, seeds, 3))
    Sk = np.full((nt, seeds), np.inf)
    for k, (f, g, _, _) in enumerate(tasks):
        m = groups[g]
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
        a0, b0 = a0[keep], b0[keep]
        pgrid = _p_range(f)[2]
        A = np.repeat(a0, pgrid.size)
        B = np.repeat(b0, pgrid.size)
        Pp = np.tile(pgrid, a0.size)
        key = np.empty(A.size)
        for c0 in range(0, A.size, chunk):
            sl = slice(c0, c0 + chunk)
            key[sl] = evaluate(np.full(A[sl].size, k), A[sl], B[sl], Pp[sl])
        order = np.argsort(key, kind="stable")[:seeds]
        S[k, :order.size] = np.column_stack([A[order], B[order], Pp[order]])
        Sk[k, :order.size] = key[order]
        if progress is not None:
            progress(0.3 * (k + 1) / nt)
    step = np.zeros((nt, seeds, 3))
    step[:, :, 0] = step[:, :, 1] = 0.02
    step[:, :, 2] = pstep[:, None]
    offs = np.array(np.meshgrid([-1, 0, 1], [-1, 0, 1], [-1, 0, 1], indexing="ij")).reshape(3, -1).T
    offs = offs[np.any(offs != 0, axis=1)]  # (26, 3)
    task_of = np.broadcast_to(np.arange(nt)[:, None, None], (nt, seeds, offs.shape[0]))
    active = np.isfinite(Sk)
    for r in range(rounds):
        C = S[:, :, None, :] + offs[None, None, :, :] * step[:, :, None, :]  # (nt, k, 26, 3)
        C[..., 2] = np.clip(C[..., 2], plo[:, None, None], phi_[:, None, None])
        C[..., :2] = np.clip(C[..., :2], U_MIN, U_MAX)
        flat = C.reshape(-1, 3)
        tflat = task_of.reshape(-1)
        ok = ((flat[:, 1] - flat[:, 0]) >= min_width) & np.repeat(active.reshape(-1), offs.shape[0])
        kf = np.full(flat.shape[0], np.inf)
        if ok.any():
            kf[ok] = evaluate(tflat[ok], flat[ok, 0], flat[ok, 1], flat[ok, 2])
        kf = kf.reshape(nt, seeds, -1)
        j = np.argmin(kf, axis=2)
        kbest = np.take_along_axis(kf, j[..., None], axis=2)[..., 0]
        better = kbest < Sk - 1e-15
        cbest = np.take_along_axis(C, j[..., None, None], axis=2)[:, :, 0, :]
        S = np.where(better[..., None], cbest, S)
        Sk = np.where(better, kbest, Sk)
        step = np.where(better[..., None], step, step * 0.5)
        active &= np.any(step[..., :2] >= 2e-6, axis=-1)
        if progress is not None:
            progress(0.3 + 0.6 * (r + 1) / rounds)
        if not active.any():
            break
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
