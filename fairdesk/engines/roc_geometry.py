"""ROC geometry for equalized odds: per-group ROC curves, upper hulls, feasible regions and
their intersection, exactly (no grid). No Qt.

Coordinates are (FPR, TPR) = (x, y). For group g:

* its **ROC curve** is the list of weighted (FPR, TPR) points of the rules "oriented score ≥ t"
  for every distinct score t of the group, from (0, 0) (t = +∞, nobody positive) to (1, 1)
  (t = the group's lowest score, everybody positive);
* its **upper hull** h_g is the upper convex hull of those points: a concave, non-decreasing
  polyline from x = 0 to x = 1 with h_g(0) ≥ 0 and h_g(1) = 1;
* its **feasible region** is P_g = {(x, y): 0 ≤ x ≤ 1, x ≤ y ≤ h_g(x)}: every point on or
  under the hull and on or above the diagonal is a mixture of threshold rules (Hardt, Price &
  Srebro 2016), the diagonal being "positive with probability q whatever the score".

Because every region has the same lower boundary (the diagonal) and the same x-range, the
intersection of all regions is {x ≤ y ≤ m(x)} with m = min_g h_g, again concave. It is
computed exactly: the breakpoints of m are the hull vertices of every group plus the points
where two hulls cross inside an interval on which both are linear.

A point X inside P_g is realised by a *band* (t0 ≤ t1, p): score ≥ t1 → positive,
t0 ≤ score < t1 → positive with probability p, below t0 → negative. Its rates are
p·R(t0) + (1 − p)·R(t1), a point on the chord between two ROC points. On a hull edge or the
diagonal the band is exact; strictly inside a region a chord through X need not exist when
scores are discrete (the chords between finitely many points have no area), so
:func:`best_band` returns the chord passing closest to X (Chebyshev distance on FPR and TPR)
and that distance is reported as the group's gap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..metrics.confusion import GroupScores
from ..metrics.ranking import roc_curve

EXACT = 1e-12  # a distance below this counts as zero (a point on an edge, a vertex hit)


# ------------------------------------------------------------------------------------------
# hulls

def _below(x0, y0, x1, y1, x2, y2):
    """True where point 1 lies on or below the segment from point 0 to point 2 (x0 ≤ x1 ≤ x2)."""
    return (y1 - y0) * (x2 - x0) <= (y2 - y0) * (x1 - x0)


def upper_hull_indices(x, y) -> np.ndarray:
    """Indices of the upper convex hull of points sorted by (x, y), left to right.

    Andrew's monotone chain on the upper side. Points on or below a segment between two other
    points are dropped (so collinear points are not vertices). Vectorised passes first remove
    every point that lies on or below the segment joining its current neighbours (such a point
    is never a hull vertex), then an exact monotone chain runs over what is left.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    idx = np.arange(x.size)
    for _ in range(60):
        if idx.size <= 64:
            break
        xs, ys = x[idx], y[idx]
        drop = np.zeros(idx.size, dtype=bool)
        drop[1:-1] = _below(xs[:-2], ys[:-2], xs[1:-1], ys[1:-1], xs[2:], ys[2:])
        if not drop.any():
            break
        # never drop two neighbours in one pass unless both are below their own neighbours:
        # that is safe (each lies under a segment of points of the set), so drop all at once
        idx = idx[~drop]
        if drop.sum() < 0.01 * idx.size:
            break
    out: list[int] = []
    xs, ys = x[idx].tolist(), y[idx].tolist()
    for k in range(idx.size):
        x2, y2 = xs[k], ys[k]
        while len(out) >= 2:
            i0, i1 = out[-2], out[-1]
            if (ys[i1] - ys[i0]) * (x2 - xs[i0]) <= (y2 - ys[i0]) * (xs[i1] - xs[i0]):
                out.pop()
            else:
                break
        out.append(k)
    return idx[np.asarray(out, dtype=np.int64)]


@dataclass
class GroupROC:
    """One group's ROC points (strictest first) and its upper hull.

    ``thr[i]`` is the oriented threshold of point i (``inf`` for (0, 0)); ``hull`` indexes the
    points on the upper hull, left to right. ``hx, hy`` is the hull as a function of x: strictly
    increasing x from 0 to 1 (a vertical hull edge at x = 0 keeps its top end only).
    """

    fpr: np.ndarray
    tpr: np.ndarray
    thr: np.ndarray
    hull: np.ndarray
    hx: np.ndarray
    hy: np.ndarray
    hidx: np.ndarray  # index into the points of each (hx, hy) vertex
    positives: float
    negatives: float
    weight: float
    lowest: float  # lowest oriented score of the group (threshold of the point (1, 1))

    def h(self, x):
        """The upper hull at FPR x (concave, non-decreasing)."""
        return np.interp(x, self.hx, self.hy)

    def min_fpr(self, y):
        """Smallest FPR on the hull with TPR ≥ y (for equal opportunity)."""
        top = int(np.argmax(self.hy >= self.hy.max()))  # first vertex reaching the top
        return np.interp(y, self.hy[:top + 1], self.hx[:top + 1])

    def region(self) -> np.ndarray:
        """The feasible region as a polygon, counter-clockwise from (0, 0)."""
        pts = [(0.0, 0.0)] + list(zip(self.hx[::-1], self.hy[::-1]))
        if self.hy[0] <= EXACT:  # the hull starts at (0, 0): do not repeat it
            pts = pts[:-1]
        return _dedupe(np.array(pts, dtype=float))


def _snap(r: np.ndarray) -> np.ndarray:
    """Rates within 1e-12 of 0 or 1 are 0 or 1 (sums of fractional weights leave ±1e-16)."""
    r = np.where(np.abs(r) <= 1e-12, 0.0, r)
    return np.where(np.abs(r - 1.0) <= 1e-12, 1.0, r)


def group_roc(gs: GroupScores, g: int) -> GroupROC:
    fpr, tpr, thr = roc_curve(gs, g)
    fpr, tpr = _snap(fpr), _snap(tpr)
    hull = upper_hull_indices(fpr, tpr)
    hx, hy = fpr[hull], tpr[hull]
    keep = np.r_[hx[1:] > hx[:-1], True]  # equal x: the last (highest) point
    hx, hy, hidx = hx[keep], hy[keep], hull[keep]
    if hx[0] > 0:  # cannot happen with (0, 0) present; kept for safety
        hx, hy, hidx = np.r_[0.0, hx], np.r_[0.0, hy], np.r_[0, hidx]
    lowest = float(thr[-1]) if thr.size > 1 else np.inf
    return GroupROC(fpr, tpr, thr, hull, hx, hy, hidx, float(gs.positives[g]),
                    float(gs.negatives[g]), float(gs.weight_total[g]), lowest)


def _dedupe(poly: np.ndarray) -> np.ndarray:
    if len(poly) < 2:
        return poly
    keep = np.r_[True, np.any(np.abs(np.diff(poly, axis=0)) > EXACT, axis=1)]
    return poly[keep]


# ------------------------------------------------------------------------------------------
# intersection

def lower_envelope(chains: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """m(x) = min over chains of the piecewise-linear functions (x_k, y_k), exactly.

    Every chain spans x ∈ [0, 1] with increasing x. Breakpoints: all chain vertices plus every
    crossing of two chains inside an interval on which both are linear; between consecutive
    breakpoints m is then linear. Collinear breakpoints are removed.
    """
    xs = np.unique(np.concatenate([c[0] for c in chains]))
    H = np.stack([np.interp(xs, cx, cy) for cx, cy in chains])  # (G, K)
    G = H.shape[0]
    extra = []
    if G > 1 and xs.size > 1:
        a, b = xs[:-1], xs[1:]
        for i in range(G):  # loops over pairs of groups, vectorised over intervals
            for j in range(i + 1, G):
                d0 = H[i, :-1] - H[j, :-1]
                d1 = H[i, 1:] - H[j, 1:]
                cross = (d0 * d1) < 0
                if cross.any():
                    t = d0[cross] / (d0[cross] - d1[cross])
                    extra.append(a[cross] + t * (b[cross] - a[cross]))
    if extra:
        xs = np.unique(np.concatenate([xs] + extra))
    ys = np.min(np.stack([np.interp(xs, cx, cy) for cx, cy in chains]), axis=0)
    return _drop_collinear(xs, ys)


def _drop_collinear(xs, ys, tol: float = 1e-13):
    if xs.size <= 2:
        return xs, ys
    keep = np.ones(xs.size, dtype=bool)
    cr = (ys[1:-1] - ys[:-2]) * (xs[2:] - xs[:-2]) - (ys[2:] - ys[:-2]) * (xs[1:-1] - xs[:-2])
    keep[1:-1] = np.abs(cr) > tol
    return xs[keep], ys[keep]


@dataclass
class Intersection:
    """The intersection of all feasible regions: x ≤ y ≤ m(x), m given by (mx, my)."""

    mx: np.ndarray
    my: np.ndarray

    def polygon(self) -> np.ndarray:
        """Counter-clockwise polygon from (0, 0): the diagonal, then m from right to left."""
        pts = [(0.0, 0.0)] + list(zip(self.mx[::-1], self.my[::-1]))
        return _dedupe(np.array(pts[:-1] if self.my[0] <= EXACT else pts))

    def vertices(self) -> np.ndarray:
        """Candidate optima: every vertex of the upper chain, and (0, 0)."""
        return np.vstack([np.column_stack([self.mx, self.my]), [[0.0, 0.0]]])

    def area(self) -> float:
        p = self.polygon()
        x, y = p[:, 0], p[:, 1]
        return float(0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def intersect(rocs: list[GroupROC]) -> Intersection:
    mx, my = lower_envelope([(r.hx, r.hy) for r in rocs])
    return Intersection(mx, my)


# ------------------------------------------------------------------------------------------
# optima over the intersection

def linear_optimum(inter: Intersection, a: float, b: float) -> tuple[float, float]:
    """argmin of a·x − b·y over the intersection (a, b ≥ 0): a vertex of the upper chain.

    Ties go to the smaller FPR, then the larger TPR.
    """
    v = inter.vertices()
    val = a * v[:, 0] - b * v[:, 1]
    best = np.min(val)
    tie = np.flatnonzero(val <= best + 1e-12 * max(1.0, abs(best)))
    order = np.lexsort((-v[tie, 1], v[tie, 0]))
    x, y = v[tie[order[0]]]
    return float(x), float(y)


def nearest_point(inter: Intersection, q=(0.0, 1.0)) -> tuple[float, float]:
    """The point of the intersection nearest to q (default the perfect classifier (0, 1))."""
    qx, qy = q
    x0, y0, x1, y1 = inter.mx[:-1], inter.my[:-1], inter.mx[1:], inter.my[1:]
    cand_x = [inter.mx]
    cand_y = [inter.my]
    if x0.size:
        dx, dy = x1 - x0, y1 - y0
        den = dx * dx + dy * dy
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.clip(((qx - x0) * dx + (qy - y0) * dy) / np.where(den > 0, den, 1.0), 0.0, 1.0)
        cand_x.append(x0 + t * dx)
        cand_y.append(y0 + t * dy)
    cx = np.concatenate(cand_x)
    cy = np.concatenate(cand_y)
    # the region lies under the chain: if q were inside, q itself would be nearest
    if inside(inter, qx, qy):
        return float(qx), float(qy)
    d = (cx - qx) ** 2 + (cy - qy) ** 2
    i = int(np.argmin(d))
    return float(cx[i]), float(cy[i])


def inside(inter: Intersection, x: float, y: float, tol: float = 1e-12) -> bool:
    if x < -tol or x > 1 + tol:
        return False
    return bool(x - tol <= y <= np.interp(x, inter.mx, inter.my) + tol)


def equal_opportunity_optimum(rocs: list[GroupROC], c_fp: float, c_fn: float,
                              objective: str) -> tuple[float, np.ndarray]:
    """Common TPR y and each group's smallest FPR x_g(y) on its hull.

    Linear losses Σ_g c_FP N_g x_g(y) − c_FN P y are convex and piecewise linear in y: the
    optimum is at a breakpoint (a hull vertex's TPR of some group). The distance of the pooled
    point (Σ N_g x_g / N, y) to (0, 1) is minimised segment by segment in closed form.
    """
    ys = np.unique(np.clip(np.concatenate([r.hy for r in rocs] + [[0.0, 1.0]]), 0.0, 1.0))
    N = np.array([r.negatives for r in rocs])
    P = float(sum(r.positives for r in rocs))

    def pooled_fpr(y):
        return sum(N[g] * rocs[g].min_fpr(y) for g in range(len(rocs))) / N.sum()

    if objective == "distance":
        F = pooled_fpr(ys)
        cand = [ys]
        if ys.size > 1:
            y0, y1 = ys[:-1], ys[1:]
            f0, f1 = F[:-1], F[1:]
            with np.errstate(invalid="ignore", divide="ignore"):
                beta = np.where(y1 > y0, (f1 - f0) / np.where(y1 > y0, y1 - y0, 1.0), 0.0)
            alpha = f0 - beta * y0
            ystar = np.clip((1 - alpha * beta) / (beta * beta + 1), y0, y1)
            cand.append(ystar)
        yc = np.concatenate(cand)
        val = pooled_fpr(yc) ** 2 + (1 - yc) ** 2
        y = float(yc[int(np.argmin(val))])
    else:
        val = c_fp * N.sum() * pooled_fpr(ys) - c_fn * P * ys
        best = np.min(val)
        tie = np.flatnonzero(val <= best + 1e-12 * max(1.0, abs(best)))
        y = float(ys[tie[0]])
    xg = np.array([r.min_fpr(y) for r in rocs])
    return y, xg


def relaxed_optimum(rocs: list[GroupROC], c_fp: float, c_fn: float, objective: str,
                    eps: float, tpr_only: bool = False, start=None) -> tuple[np.ndarray, np.ndarray]:
    """Each group's own point (x_g, y_g) in its region, with max − min of the x's and of the
    y's at most ``eps`` (only the y's when ``tpr_only``), minimising the pooled loss.

    A linear programme (HiGHS) for expected cost / error rate; for the distance of the pooled
    point to (0, 1), SLSQP on the same linear constraints, started from ``start``.
    """
    from scipy.optimize import linprog, minimize

    G = len(rocs)
    n = 2 * G + 2  # x_1..x_G, y_1..y_G, cx, cy
    rows, rhs = [], []

    def row(entries, b):
        r = np.zeros(n)
        for k, v in entries:
            r[k] += v
        rows.append(r)
        rhs.append(b)

    for g, r in enumerate(rocs):
        x0, y0, x1, y1 = r.hx[:-1], r.hy[:-1], r.hx[1:], r.hy[1:]
        s = (y1 - y0) / (x1 - x0)
        for k in range(s.size):  # y_g − s x_g ≤ y0 − s x0 for every hull edge
            row([(G + g, 1.0), (g, -s[k])], y0[k] - s[k] * x0[k])
        row([(g, 1.0), (G + g, -1.0)], 0.0)  # x_g ≤ y_g (on or above the diagonal)
        if not tpr_only:
            row([(2 * G, 1.0), (g, -1.0)], 0.0)  # cx ≤ x_g ≤ cx + eps
            row([(g, 1.0), (2 * G, -1.0)], eps)
        row([(2 * G + 1, 1.0), (G + g, -1.0)], 0.0)
        row([(G + g, 1.0), (2 * G + 1, -1.0)], eps)
    A = np.array(rows)
    b = np.array(rhs)
    bounds = [(0.0, 1.0)] * (2 * G) + [(-1.0, 2.0)] * 2
    N = np.array([r.negatives for r in rocs])
    P = np.array([r.positives for r in rocs])
    if objective != "distance":
        c = np.r_[c_fp * N, -c_fn * P, 0.0, 0.0]
        res = linprog(c, A_ub=A, b_ub=b, bounds=bounds, method="highs")
        if not res.success:
            raise RuntimeError(f"linear programme failed: {res.message}")
        z = res.x
    else:
        wN, wP = N / N.sum(), P / P.sum()

        def f(z):
            X, Y = wN @ z[:G], wP @ z[G:2 * G]
            return X * X + (1 - Y) ** 2

        def grad(z):
            X, Y = wN @ z[:G], wP @ z[G:2 * G]
            return np.r_[2 * X * wN, -2 * (1 - Y) * wP, 0.0, 0.0]

        z0 = np.zeros(n) if start is None else np.asarray(start, dtype=float)
        res = minimize(f, z0, jac=grad, method="SLSQP", bounds=bounds,
                       constraints=[{"type": "ineq", "fun": lambda z: b - A @ z,
                                     "jac": lambda z: -A}],
                       options={"maxiter": 500, "ftol": 1e-14})
        z = res.x
    return np.clip(z[:G], 0.0, 1.0), np.clip(z[G:2 * G], 0.0, 1.0)


# ------------------------------------------------------------------------------------------
# realising a point with two thresholds and one probability

@dataclass
class Band:
    """The rule (t0 ≤ t1, p) in oriented units and the chord it realises.

    i0, i1: ROC point indices of t0 (looser, larger rates) and t1 (stricter). A single
    threshold has i0 == i1 and p = 1 (score ≥ t0 → positive).
    """

    i0: int
    i1: int
    p: float
    gap: float  # Chebyshev distance between the band's rates and the target

    @property
    def single(self) -> bool:
        return self.i0 == self.i1


def _chord_gap(bx, by, ax, ay, X, Y):
    """For chords B→A (arrays), the p in [0, 1] minimising max(|Δx|, |Δy|) to (X, Y)."""
    dx, dy = bx - X, by - Y
    vx, vy = ax - bx, ay - by
    cands = [np.zeros_like(dx), np.ones_like(dx)]
    with np.errstate(invalid="ignore", divide="ignore"):
        for num, den in ((-dx, vx), (-dy, vy), (-(dx - dy), vx - vy), (-(dx + dy), vx + vy)):
            cands.append(np.where(np.abs(den) > 0, num / np.where(np.abs(den) > 0, den, 1.0), 0.0))
    C = np.clip(np.stack(cands), 0.0, 1.0)
    err = np.maximum(np.abs(dx + C * vx), np.abs(dy + C * vy))
    k = np.argmin(err, axis=0)
    cols = np.arange(dx.size)
    return C[k, cols], err[k, cols]


def _pairs_eval(roc: GroupROC, ib, ia, X, Y):
    p, err = _chord_gap(roc.fpr[ib], roc.tpr[ib], roc.fpr[ia], roc.tpr[ia], X, Y)
    return p, err


def best_band(roc: GroupROC, X: float, Y: float, max_pairs: int = 400_000) -> Band:
    """The band whose rates come closest to (X, Y), exactly on hull edges and the diagonal.

    Order of checks: a ROC point at (X, Y) (a single threshold); the hull edge under X when
    (X, Y) lies on the hull; the diagonal (t1 above every score, t0 at the lowest score);
    otherwise a coarse-to-fine search over pairs of ROC points, vectorised over the pairs.
    """
    n = roc.fpr.size
    d = np.maximum(np.abs(roc.fpr - X), np.abs(roc.tpr - Y))
    i = int(np.argmin(d))
    if d[i] <= EXACT:
        return Band(i, i, 1.0, float(d[i]))
    # on the hull?
    if abs(float(roc.h(X)) - Y) <= 1e-12:
        k = int(np.clip(np.searchsorted(roc.hx, X, side="right") - 1, 0, roc.hx.size - 2))
        b, a = int(roc.hidx[k]), int(roc.hidx[k + 1])
        p, err = _pairs_eval(roc, np.array([b]), np.array([a]), X, Y)
        if err[0] <= 1e-12:
            return Band(a, b, float(p[0]), float(err[0]))
    # on the diagonal?
    if abs(X - Y) <= 1e-12:
        return Band(n - 1, 0, float(np.clip(X, 0, 1)), abs(X - Y))
    if n * (n - 1) // 2 <= max_pairs:
        ib, ia = np.triu_indices(n, 1)
        p, err = _pairs_eval(roc, ib, ia, X, Y)
        j = _pick(err, roc, ib, ia)
        return _band(ib[j], ia[j], p[j], err[j])
    # coarse level: hull vertices and evenly spaced points
    base = np.unique(np.concatenate([roc.hull, np.linspace(0, n - 1, 300).round().astype(np.int64)]))
    if base.size > 900:
        base = np.unique(base[np.linspace(0, base.size - 1, 900).round().astype(np.int64)])
    bi, ai = np.triu_indices(base.size, 1)
    ib, ia = base[bi], base[ai]
    p, err = _pairs_eval(roc, ib, ia, X, Y)
    top = np.argsort(err, kind="stable")[:12]
    seeds = list(zip(ib[top], ia[top]))
    step = max(1, int(np.ceil(n / base.size)))
    best = (float(err[top[0]]), int(ib[top[0]]), int(ia[top[0]]), float(p[top[0]]))
    offs = np.arange(-8, 9)
    while True:
        cb = np.clip(np.array([s[0] for s in seeds])[:, None] + step * offs[None, :], 0, n - 1)
        ca = np.clip(np.array([s[1] for s in seeds])[:, None] + step * offs[None, :], 0, n - 1)
        IB = np.repeat(cb[:, :, None], offs.size, axis=2).ravel()
        IA = np.repeat(ca[:, None, :], offs.size, axis=1).ravel()
        ok = IB < IA
        IB, IA = IB[ok], IA[ok]
        p, err = _pairs_eval(roc, IB, IA, X, Y)
        order = np.argsort(err, kind="stable")[:12]
        if err[order[0]] < best[0]:
            best = (float(err[order[0]]), int(IB[order[0]]), int(IA[order[0]]), float(p[order[0]]))
        seeds = list(zip(IB[order], IA[order]))
        if step == 1:
            break
        step = max(1, step // 8)
    return _band(best[1], best[2], best[3], best[0])


def _pick(err, roc, ib, ia):
    """Smallest gap; ties (within 1e-12) go to the narrowest band in rates."""
    best = err.min()
    tie = np.flatnonzero(err <= best + 1e-12)
    width = (roc.fpr[ia[tie]] - roc.fpr[ib[tie]]) + (roc.tpr[ia[tie]] - roc.tpr[ib[tie]])
    return int(tie[np.argmin(width)])


def _band(ib, ia, p, err) -> Band:
    ib, ia, p = int(ib), int(ia), float(p)
    if p <= EXACT:  # only the stricter point: a single threshold at t1
        return Band(ib, ib, 1.0, float(err))
    if p >= 1 - EXACT:
        return Band(ia, ia, 1.0, float(err))
    return Band(ia, ib, p, float(err))


def band_rates(roc: GroupROC, band: Band) -> tuple[float, float]:
    """(FPR, TPR) of a band from the ROC points (p·R(t0) + (1 − p)·R(t1))."""
    p = band.p
    x = p * roc.fpr[band.i0] + (1 - p) * roc.fpr[band.i1]
    y = p * roc.tpr[band.i0] + (1 - p) * roc.tpr[band.i1]
    return float(x), float(y)
