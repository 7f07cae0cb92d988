"""Equalized odds: ROC geometry against brute force, the optimum against naive scans and
fairlearn's ThresholdOptimizer, the probability curves against their constraints, the curve
search, the Hardt et al. cost convention on FICO, decisions, JSON, command line and workbook."""

import json
import math
import subprocess
import sys

import numpy as np
import openpyxl
import pandas as pd
import pytest
from scipy.integrate import quad

from conftest import ROOT, SHARED
from fairdesk.engines import roc_geometry as rg
from fairdesk.engines.equalized_odds import (EOddsSettings, evaluate_family, parse_cost_ratio,
                                             parse_params, realize_decisions, row_probabilities,
                                             run_equalized_odds, sorted_scores)
from fairdesk.engines.preferential import (CURVE_FAMILIES, GroupMoments, coefficients,
                                           constraint_system, curve_x, is_monotone, lipschitz,
                                           phi, search_curve, slope_extremes)
from fairdesk.errors import FairDeskError
from fairdesk.metrics.confusion import GroupScores
from fairdesk.schema import ColumnMapping
from fairdesk.validation import prepare

COMPAS = SHARED / "compas_two_year.csv"
FICO = SHARED / "fico_weighted.csv"
FICO_PERF = SHARED / "fico_transrisk_performance_by_race_ssa.csv"
SAMPLE = ROOT / "resources" / "sample" / "sample_scores.csv"
needs_shared = pytest.mark.skipif(not (COMPAS.exists() and FICO.exists()), reason="shared data missing")


# ------------------------------------------------------------------------------------------
# helpers and brute-force references (naive loops on purpose)

def synthetic(n=600, groups=3, seed=0, levels=None, weights=False):
    rng = np.random.default_rng(seed)
    g = rng.integers(0, groups, n)
    y = (rng.random(n) < 0.3 + 0.15 * g / max(groups - 1, 1)).astype(int)
    s = rng.normal(y * (0.8 + 0.3 * g) + 0.1 * g, 1.0)
    if levels:
        s = np.round(s * levels) / levels
    frame = pd.DataFrame({"s": s, "y": y, "g": [f"G{k}" for k in g]})
    if weights:
        frame["w"] = rng.uniform(0.2, 3.0, n)
    mapping = ColumnMapping(score="s", label="y", groups=["g"], weight="w" if weights else None)
    return frame, prepare(frame, mapping, min_group_size=1)


def naive_roc(score, label, weight):
    """Weighted (FPR, TPR) of 'score >= t' for t = +inf and every distinct score, descending."""
    P = sum(w for y, w in zip(label, weight) if y == 1)
    N = sum(w for y, w in zip(label, weight) if y == 0)
    pts = [(0.0, 0.0)]
    for t in sorted(set(score), reverse=True):
        tp = sum(w for s, y, w in zip(score, label, weight) if s >= t and y == 1)
        fp = sum(w for s, y, w in zip(score, label, weight) if s >= t and y == 0)
        pts.append((fp / N, tp / P))
    return pts


def naive_upper_hull(points):
    """Strict upper-hull vertices by definition: not on or below any segment of two others,
    plus the leftmost-highest and the rightmost-highest points."""
    pts = sorted(set(points))
    out = []
    for k, (x, y) in enumerate(pts):
        dominated = False
        for i, (xi, yi) in enumerate(pts):
            for j, (xj, yj) in enumerate(pts):
                if i == k or j == k or i == j or not (xi <= x <= xj) or xi == xj:
                    continue
                if (y - yi) * (xj - xi) <= (yj - yi) * (x - xi) + 1e-15:
                    dominated = True
        same_x = [q for q in pts if q[0] == x]
        if y < max(q[1] for q in same_x):
            dominated = True
        if not dominated:
            out.append((x, y))
    return out


def clip(subject, clipper):
    """Sutherland–Hodgman: ``subject`` clipped by the convex counter-clockwise ``clipper``."""
    out = list(subject)
    n = len(clipper)
    for i in range(n):
        a, b = clipper[i], clipper[(i + 1) % n]
        inp, out = out, []

        def inside(p):
            return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]) >= -1e-14

        def cross(p, q):
            dx1, dy1 = q[0] - p[0], q[1] - p[1]
            dx2, dy2 = b[0] - a[0], b[1] - a[1]
            den = dx1 * dy2 - dy1 * dx2
            t = ((a[0] - p[0]) * dy2 - (a[1] - p[1]) * dx2) / den
            return (p[0] + t * dx1, p[1] + t * dy1)

        for j in range(len(inp)):
            p, q = inp[j - 1], inp[j]
            if inside(q):
                if not inside(p):
                    out.append(cross(p, q))
                out.append(q)
            elif inside(p):
                out.append(cross(p, q))
        if not out:
            break
    return out


def area(poly):
    return 0.5 * abs(sum(poly[i][0] * poly[(i + 1) % len(poly)][1]
                         - poly[(i + 1) % len(poly)][0] * poly[i][1] for i in range(len(poly))))


def in_convex(poly, x, y, tol=1e-9):
    n = len(poly)
    for i in range(n):
        a, b = poly[i], poly[(i + 1) % n]
        if (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0]) < -tol:
            return False
    return True


def rocs_of(data):
    gs = GroupScores.from_data(data)
    return gs, [rg.group_roc(gs, g) for g in range(data.n_groups)]


# ------------------------------------------------------------------------------------------
# geometry

def test_weighted_roc_and_hull_match_brute_force():
    _, data = synthetic(n=160, groups=2, seed=3, levels=4, weights=True)
    gs, rocs = rocs_of(data)
    for g in range(data.n_groups):
        m = data.group == g
        ref = naive_roc(data.oriented[m].tolist(), data.label[m].tolist(), data.weight[m].tolist())
        roc = rocs[g]
        assert len(ref) == roc.fpr.size
        assert np.allclose([p[0] for p in ref], roc.fpr) and np.allclose([p[1] for p in ref], roc.tpr)
        hull = naive_upper_hull(list(zip(roc.fpr.round(12), roc.tpr.round(12))))
        # the hull as a function of x: at x = 0 only its top end
        ours = sorted(zip(roc.hx.round(12), roc.hy.round(12)))
        assert ours == sorted(hull)
        # the hull as a function is concave and spans [0, 1]
        assert roc.hx[0] == 0 and roc.hx[-1] == 1 and roc.hy[-1] == pytest.approx(1)
        slopes = np.diff(roc.hy) / np.diff(roc.hx)
        assert np.all(np.diff(slopes) <= 1e-9)


def test_hull_of_random_point_sets_with_collinear_points():
    rng = np.random.default_rng(11)
    for trial in range(30):
        n = int(rng.integers(3, 40))
        x = np.sort(rng.integers(0, 12, n)).astype(float)  # integers: exact arithmetic
        y = rng.integers(0, 12, n).astype(float)
        order = np.lexsort((y, x))
        x, y = x[order], y[order]
        idx = rg.upper_hull_indices(x, y)
        ours = sorted(set(zip(x[idx], y[idx])))
        # the chain starts at the leftmost-lowest point; by definition only the top of x = min
        top0 = max(y[x == x[0]])
        ours = [q for q in ours if not (q[0] == x[0] and q[1] < top0)]
        assert ours == sorted(naive_upper_hull(list(zip(x, y))))
    # many points: the vectorised pruning passes run, result equals the plain chain
    x = np.sort(rng.random(5000))
    y = np.sqrt(x) + rng.normal(0, 0.01, x.size)
    idx = rg.upper_hull_indices(x, y)
    keep = []
    for k in range(x.size):  # naive monotone chain
        while len(keep) >= 2 and (y[keep[-1]] - y[keep[-2]]) * (x[k] - x[keep[-2]]) <= \
                (y[k] - y[keep[-2]]) * (x[keep[-1]] - x[keep[-2]]):
            keep.pop()
        keep.append(k)
    assert list(idx) == keep


@pytest.mark.parametrize("seed,groups,levels", [(0, 3, 3), (1, 4, 6), (2, 2, None), (5, 5, 2)])
def test_intersection_equals_sutherland_hodgman(seed, groups, levels):
    _, data = synthetic(n=500, groups=groups, seed=seed, levels=levels)
    _, rocs = rocs_of(data)
    polys = [[tuple(p) for p in r.region()] for r in rocs]
    ref = polys[0]
    for p in polys[1:]:
        ref = clip(ref, p)
    inter = rg.intersect(rocs)
    ours = [tuple(p) for p in inter.polygon()]
    assert area(ours) == pytest.approx(area(ref), abs=1e-12)
    # every vertex of each lies in the other (convex polygons of equal area: the same)
    for x, y in ref:
        assert rg.inside(inter, x, y, 1e-9)
    for x, y in ours:
        assert in_convex(ref, x, y)
        for p in polys:
            assert in_convex(p, x, y)


def test_linear_optimum_and_nearest_point_against_dense_scan():
    _, data = synthetic(n=800, groups=4, seed=7, levels=5)
    _, rocs = rocs_of(data)
    inter = rg.intersect(rocs)
    polys = [[tuple(p) for p in r.region()] for r in rocs]
    grid = np.linspace(0, 1, 161)
    pts = [(x, y) for x in grid for y in grid if all(in_convex(p, x, y, 1e-12) for p in polys)]
    pts += [tuple(v) for v in inter.polygon()]
    for a, b in ((1.0, 1.0), (82.0, 18.0), (1.0, 5.0), (0.2, 1.0)):
        x, y = rg.linear_optimum(inter, a, b)
        assert all(in_convex(p, x, y) for p in polys)
        assert a * x - b * y <= min(a * px - b * py for px, py in pts) + 1e-12
    x, y = rg.nearest_point(inter)
    assert all(in_convex(p, x, y) for p in polys)
    assert math.hypot(x, 1 - y) <= min(math.hypot(px, 1 - py) for px, py in pts) + 1e-12


def test_equal_opportunity_against_scan():
    _, data = synthetic(n=900, groups=3, seed=4, levels=4)
    _, rocs = rocs_of(data)
    N = [r.negatives for r in rocs]
    P = sum(r.positives for r in rocs)

    def x_of(r, y):  # naive: walk the hull edges
        if y <= r.hy[0]:
            return 0.0
        for k in range(r.hx.size - 1):
            if r.hy[k] <= y <= r.hy[k + 1] and r.hy[k + 1] > r.hy[k]:
                return r.hx[k] + (y - r.hy[k]) / (r.hy[k + 1] - r.hy[k]) * (r.hx[k + 1] - r.hx[k])
        return 1.0

    ys = np.linspace(0, 1, 4001)
    for c_fp, c_fn, obj in ((1, 1, "accuracy"), (82, 18, "cost"), (1, 1, "distance")):
        y, xg = rg.equal_opportunity_optimum(rocs, c_fp, c_fn, obj)
        for g, r in enumerate(rocs):
            assert xg[g] == pytest.approx(x_of(r, y), abs=1e-12)

        def loss(yv):
            xs = [x_of(r, yv) for r in rocs]
            if obj == "distance":
                return math.hypot(sum(n * x for n, x in zip(N, xs)) / sum(N), 1 - yv)
            return c_fp * sum(n * x for n, x in zip(N, xs)) - c_fn * P * yv
        assert loss(y) <= min(loss(v) for v in ys) + 1e-9


def test_relaxed_lp_zero_tolerance_is_exact_and_tolerance_helps():
    _, data = synthetic(n=900, groups=3, seed=8, levels=6)
    base = run_equalized_odds(data, EOddsSettings(objective="accuracy"), curves=False)
    lp_x, lp_y = rg.relaxed_optimum(base.rocs, 1, 1, "accuracy", 0.0)
    assert np.allclose(lp_x, base.point[0], atol=1e-7) and np.allclose(lp_y, base.point[1], atol=1e-7)
    prev = base.ideal_loss()["expected_cost"]
    for eps in (0.01, 0.03, 0.1):
        r = run_equalized_odds(data, EOddsSettings(objective="accuracy", tolerance=eps), curves=False)
        x, y = r.targets[:, 0], r.targets[:, 1]
        assert x.max() - x.min() <= eps + 1e-7 and y.max() - y.min() <= eps + 1e-7
        for g, roc in enumerate(r.rocs):  # each target inside its own region
            assert x[g] <= y[g] + 1e-9 and y[g] <= roc.h(x[g]) + 1e-7
        cost = r.ideal_loss()["expected_cost"]
        assert cost <= prev + 1e-9
        prev = cost
    # equal opportunity with tolerance constrains the TPRs only
    r = run_equalized_odds(data, EOddsSettings(constraint="equal_opportunity", tolerance=0.02), curves=False)
    assert np.ptp(r.targets[:, 1]) <= 0.02 + 1e-7


def test_relaxed_against_brute_force_two_groups():
    _, data = synthetic(n=300, groups=2, seed=12, levels=2)
    _, rocs = rocs_of(data)
    eps = 0.05
    N = [r.negatives for r in rocs]
    P = [r.positives for r in rocs]
    for obj in ("accuracy", "distance"):
        xs, ys = rg.relaxed_optimum(rocs, 1, 1, obj, eps, start=np.zeros(6))

        def loss(p0, p1):
            if obj == "distance":
                X = (N[0] * p0[0] + N[1] * p1[0]) / sum(N)
                Y = (P[0] * p0[1] + P[1] * p1[1]) / sum(P)
                return math.hypot(X, 1 - Y)
            return N[0] * p0[0] + N[1] * p1[0] - P[0] * p0[1] - P[1] * p1[1]
        grid = np.linspace(0, 1, 41)
        cand = [[(x, y) for x in grid for y in grid if x <= y <= r.h(x) + 1e-12] +
                [tuple(v) for v in zip(r.hx, r.hy)] for r in rocs]
        best = min(loss(a, b) for a in cand[0] for b in cand[1]
                   if abs(a[0] - b[0]) <= eps and abs(a[1] - b[1]) <= eps)
        assert loss((xs[0], ys[0]), (xs[1], ys[1])) <= best + 1e-6


def test_best_band_exact_on_boundaries_and_near_optimal_inside():
    _, data = synthetic(n=400, groups=1, seed=5, levels=3)
    _, rocs = rocs_of(data)
    roc = rocs[0]
    # on every hull edge and on the diagonal: exact
    for k in range(roc.hx.size - 1):
        x = 0.3 * roc.hx[k] + 0.7 * roc.hx[k + 1]
        y = 0.3 * roc.hy[k] + 0.7 * roc.hy[k + 1]
        b = rg.best_band(roc, x, y)
        assert b.gap <= 1e-12 and np.allclose(rg.band_rates(roc, b), (x, y))
    b = rg.best_band(roc, 0.37, 0.37)
    assert b.gap <= 1e-12 and b.p == pytest.approx(0.37)
    # a ROC point: a single threshold
    b = rg.best_band(roc, roc.fpr[3], roc.tpr[3])
    assert b.single and b.i0 == 3
    # inside: never worse than every pair of ROC points with p on a fine grid
    rng = np.random.default_rng(0)
    ps = np.linspace(0, 1, 2001)
    for _ in range(5):
        x = rng.uniform(0.1, 0.9)
        y = rng.uniform(x, float(roc.h(x)))
        b = rg.best_band(roc, x, y)
        ref = min(np.min(np.maximum(np.abs(ps * roc.fpr[j] + (1 - ps) * roc.fpr[i] - x),
                                    np.abs(ps * roc.tpr[j] + (1 - ps) * roc.tpr[i] - y)))
                  for i in range(roc.fpr.size) for j in range(i + 1, roc.fpr.size))
        assert b.gap <= ref + 1e-12


def test_band_rates_equal_row_by_row_probabilities():
    _, data = synthetic(n=700, groups=3, seed=9, levels=8, weights=True)
    res = run_equalized_odds(data, EOddsSettings(objective="accuracy"), curves=False)
    prob = row_probabilities(data, res, "fixed")
    fpr, tpr, acc = res.fixed.rates(res.rocs)
    for g in range(data.n_groups):
        m = data.group == g
        t0, t1, p = res.fixed.t0[g], res.fixed.t1[g], res.fixed.p[g]
        naive = [1.0 if s >= t1 else (p if s >= t0 and not res.fixed.single()[g] else
                                      (1.0 if s >= t0 else 0.0)) for s in data.oriented[m]]
        assert np.allclose(prob[m], naive)
        w, y = data.weight[m], data.label[m]
        assert np.sum(prob[m] * w * y) / np.sum(w * y) == pytest.approx(tpr[g], abs=1e-12)
        assert np.sum(prob[m] * w * (1 - y)) / np.sum(w * (1 - y)) == pytest.approx(fpr[g], abs=1e-12)


# ------------------------------------------------------------------------------------------
# preferential randomisation

@pytest.mark.parametrize("family", CURVE_FAMILIES)
def test_curves_meet_their_constraints(family):
    ps = np.linspace(0.4, 0.6, 5) if family == "quartic" else np.linspace(0.05, 0.95, 19)
    for p in ps:
        f = lambda x: float(curve_x(family, p, np.array([x]))[0])  # noqa: E731
        assert f(0.0) == pytest.approx(0, abs=1e-9) and f(1.0) == pytest.approx(1, abs=1e-12)
        tau = 1 - p
        integral = quad(f, 0, tau, epsabs=1e-13)[0] + quad(f, tau, 1, epsabs=1e-13)[0]
        assert integral == pytest.approx(p, abs=1e-9)  # the step's integral
        c = coefficients(family, p)[0]
        left = np.polynomial.polynomial.polyval(tau, c[0])
        right = np.polynomial.polynomial.polyval(tau, c[1])
        assert left == pytest.approx(right, abs=1e-9)  # continuous at the knot
        x = np.linspace(0, 1, 20001)
        v = curve_x(family, p, x)
        assert np.all(np.diff(v) >= -1e-12) and is_monotone(family, p)
        lo, hi = slope_extremes(family, p)
        numeric = np.max(np.diff(v) / np.diff(x))
        assert hi[0] == pytest.approx(numeric, rel=1e-3)
        assert lipschitz(family, 2.0, 6.0, p) == pytest.approx(hi[0] / 4.0)
        # p(t) scaled to score units
        assert np.allclose(phi(family, 2.0, 6.0, p, 2.0 + 4.0 * x), np.clip(v, 0, 1))


def test_curves_closed_forms():
    x = np.linspace(0, 1, 101)
    for p in (0.2, 0.45, 0.7):
        tau = 1 - p
        S = lambda u: 3 * u ** 2 - 2 * u ** 3  # noqa: E731
        lin = np.where(x < tau, p / (1 - p) * x, 1 - (1 - p) / p * (1 - x))
        quadr = np.where(x < tau, p / (1 - p) ** 2 * x ** 2, 1 - (1 - p) / p ** 2 * (1 - x) ** 2)
        cub = np.where(x < tau, p * S(x / tau), p + (1 - p) * S((x - tau) / (1 - tau)))
        assert np.allclose(curve_x("linear", p, x), lin, atol=1e-12)
        assert np.allclose(curve_x("quadratic", p, x), quadr, atol=1e-12)
        assert np.allclose(curve_x("cubic", p, x), cub, atol=1e-12)
        quart = (30 * p - 15) * x ** 4 + (28 - 60 * p) * x ** 3 + (30 * p - 12) * x ** 2
        assert np.allclose(curve_x("quartic", p, x), quart, atol=1e-12)
        # Lipschitz constants in x units
        assert slope_extremes("linear", p)[1][0] == pytest.approx(max(p / (1 - p), (1 - p) / p))
        assert slope_extremes("quadratic", p)[1][0] == pytest.approx(2 * max(p / (1 - p), (1 - p) / p))
        assert slope_extremes("cubic", p)[1][0] == pytest.approx(1.5 * max(p / (1 - p), (1 - p) / p))
    # the quartic is monotone exactly for 0.4 <= p <= 0.6
    assert is_monotone("quartic", 0.4) and is_monotone("quartic", 0.6)
    assert not is_monotone("quartic", 0.39) and not is_monotone("quartic", 0.61)
    A, r = constraint_system("cubic", np.array([0.3]))
    assert A.shape == (1, 10, 10) and np.linalg.matrix_rank(A[0]) == 10


@pytest.mark.parametrize("family", ("fixed",) + CURVE_FAMILIES)
def test_moments_equal_direct_evaluation(family):
    rng = np.random.default_rng(2)
    n = 3000
    s = np.sort(np.round(rng.normal(size=n), 3))
    w = rng.uniform(0.1, 2, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-s))).astype(float)
    m = GroupMoments(s, w, y)
    for _ in range(60):
        a = rng.uniform(-0.3, 1.0)
        b = a + 10 ** rng.uniform(-2.7, 0.3)
        p = rng.uniform(0.4, 0.6) if family == "quartic" else rng.uniform(0.03, 0.97)
        tp, fp = m.expected_counts_u(family, np.array([a]), np.array([b]), np.array([p]))
        dt, df = m.direct_counts(family, float(m.to_score(a)), float(m.to_score(b)), p)
        assert tp[0] == pytest.approx(dt, abs=1e-6 * m.P) and fp[0] == pytest.approx(df, abs=1e-6 * m.N)


def test_search_meets_an_interior_target_and_prefers_gentle_curves():
    rng = np.random.default_rng(4)
    n = 20000
    s = np.sort(rng.normal(0.0, 1.0, n))
    y = (rng.random(n) < 1 / (1 + np.exp(-1.5 * s))).astype(float)
    m = GroupMoments(s, np.ones(n), y)
    # a target inside the region: the rates of a wide cubic
    tp, fp = m.direct_counts("cubic", -0.8, 1.2, 0.45)
    X, Y = fp / m.N, tp / m.P
    for family in CURVE_FAMILIES:
        fit = search_curve(m, family, X, Y)
        assert fit.gap <= 2e-5, family
        tpd, fpd = m.direct_counts(family, fit.t0, fit.t1, fit.p)
        assert max(abs(fpd / m.N - X), abs(tpd / m.P - Y)) == pytest.approx(fit.gap, abs=1e-12)
        assert fit.lipschitz == pytest.approx(lipschitz(family, fit.t0, fit.t1, fit.p))
        smooth = search_curve(m, family, X, Y, prefer_smooth=True, tol=0.01)
        assert smooth.gap <= 0.01 + 1e-9 and smooth.lipschitz <= fit.lipschitz + 1e-12


def test_curves_on_compas_reach_what_fixed_bands_cannot():
    if not COMPAS.exists():
        pytest.skip("shared data missing")
    data = compas8()
    res = run_equalized_odds(data, EOddsSettings(objective="accuracy"))
    # decile scores: the step misses interior targets, the continuous curves meet them
    assert res.fixed.eo_gap(res.rocs).max() > 1e-3
    assert any("cannot reach the target exactly" in w for w in res.warnings)
    for fam in ("linear", "cubic", "quartic"):
        assert res.curves[fam].eo_gap(res.rocs).max() < 1e-3, fam
        assert res.curves[fam].individual_odds() and res.curves[fam].monotone.all()
    assert not res.fixed.individual_odds()


# ------------------------------------------------------------------------------------------
# peers and published conventions

def compas8():
    c = pd.read_csv(COMPAS)
    c = c[c.race.isin(["African-American", "Caucasian", "Hispanic", "Other"])]
    return prepare(c, ColumnMapping(score="decile_score", label="two_year_recid", groups=["race", "sex"]))


def fairlearn_point(score, label, group):
    fl = pytest.importorskip("fairlearn.postprocessing")
    from sklearn.base import BaseEstimator, ClassifierMixin

    class ScoreAsEstimator(BaseEstimator, ClassifierMixin):
        """The scores are already there: predict returns them (prefit=True needs an estimator)."""

        def fit(self, X, y):
            self.fitted_ = True
            return self

        def predict(self, X):
            return np.asarray(X)[:, 0]

    X = np.asarray(score, dtype=float)[:, None]
    y = np.asarray(label).astype(int)
    to = fl.ThresholdOptimizer(estimator=ScoreAsEstimator().fit(X, y), constraints="equalized_odds",
                               objective="accuracy_score", prefit=True, predict_method="predict")
    to.fit(X, y, sensitive_features=np.asarray(group))
    n, P = y.size, y.sum()
    acc = (P * to._y_best + (n - P) * (1 - to._x_best)) / n
    return float(to._x_best), float(to._y_best), float(acc)


def assert_agrees_with_fairlearn(res, fl, grid=1e-3):
    x, y, acc = fl
    ours = res.ideal_loss()["accuracy"]
    # fairlearn searches FPR on a grid of step 1/1000; the exact optimum is at least as good
    assert ours >= acc - 1e-12
    assert ours - acc <= grid
    assert abs(res.point[0] - x) <= grid + 1e-12
    assert abs(res.point[1] - y) <= 2 * grid


@needs_shared
def test_agrees_with_fairlearn_on_compas_race_by_sex():
    data = compas8()
    assert data.n_groups == 8
    res = run_equalized_odds(data, EOddsSettings(objective="accuracy"), curves=False)
    fl = fairlearn_point(data.score, data.label, np.array(data.group_names)[data.group])
    assert_agrees_with_fairlearn(res, fl)


def test_agrees_with_fairlearn_on_sample():
    frame = pd.read_csv(SAMPLE)
    data = prepare(frame, ColumnMapping(score="score", label="outcome", groups=["race", "sex"]))
    res = run_equalized_odds(data, EOddsSettings(objective="accuracy"), curves=False)
    fl = fairlearn_point(data.score, data.label, np.array(data.group_names)[data.group])
    assert_agrees_with_fairlearn(res, fl)


@needs_shared
def test_agrees_with_fairlearn_on_weighted_fico():
    """fairlearn has no weights: the FICO rows are repeated round(weight) times (174,048 rows).
    On those rows our unweighted solution agrees with fairlearn within its grid; our solution
    on the fractional weights agrees with both within what the rounding moves (documented
    tolerance 0.005 in FPR/TPR, 0.001 in accuracy)."""
    f = pd.read_csv(FICO)
    rep = f.loc[f.index.repeat(np.round(f.weight).astype(int))].reset_index(drop=True)
    mapping = dict(score="score", label="repaid", groups=["group"], positive_label=1)
    d_rep = prepare(rep, ColumnMapping(**mapping))
    res_rep = run_equalized_odds(d_rep, EOddsSettings(objective="accuracy"), curves=False)
    fl = fairlearn_point(rep.score, rep.repaid, rep.group)
    assert_agrees_with_fairlearn(res_rep, fl)
    d_w = prepare(f, ColumnMapping(weight="weight", **mapping))
    res_w = run_equalized_odds(d_w, EOddsSettings(objective="accuracy"), curves=False)
    assert abs(res_w.point[0] - fl[0]) <= 0.005 and abs(res_w.point[1] - fl[1]) <= 0.005
    assert abs(res_w.ideal_loss()["accuracy"] - fl[2]) <= 0.001
    # realised with two thresholds per group, the rates are still equal across groups
    assert res_w.fixed.eo_gap(res_w.rocs).max() < 1e-4


@needs_shared
def test_fico_cost_ratio_is_hardt_max_profit():
    """82:18 = a false positive (a loan to someone who defaults, repaid = positive) costs 82,
    a false negative 18: alone, each group's optimum is Hardt et al.'s "max profit" rule, the
    lowest score whose default rate is at most 18 % (break-even at 82 % repaying)."""
    f = pd.read_csv(FICO)
    perf = pd.read_csv(FICO_PERF)
    assert parse_cost_ratio("82:18") == (82.0, 18.0)
    for name in f.group.unique():
        d = prepare(f[f.group == name], ColumnMapping(score="score", label="repaid", groups=["group"],
                                                      weight="weight", positive_label=1))
        res = run_equalized_odds(d, EOddsSettings(objective="cost", cost_fp=82, cost_fn=18), curves=False)
        out = res.to_json()
        g = out["groups"][name]
        rate = perf[name].to_numpy()
        assert g["single_threshold"] and g["t0"] == pytest.approx(float(perf.Score[np.argmax(rate <= 18)]))
        assert out["objective"]["break_even"] == pytest.approx(0.82)
        assert res.baseline["threshold"] == pytest.approx(g["t0"])
    # swapping the costs lends to more people
    d = prepare(f, ColumnMapping(score="score", label="repaid", groups=["group"], weight="weight",
                                 positive_label=1))
    a = run_equalized_odds(d, EOddsSettings(objective="cost", cost_fp=82, cost_fn=18), curves=False)
    b = run_equalized_odds(d, EOddsSettings(objective="cost", cost_fp=18, cost_fn=82), curves=False)
    assert b.point[0] > a.point[0] and b.point[1] > a.point[1]


def test_baseline_threshold_against_brute_force():
    _, data = synthetic(n=300, groups=3, seed=21, levels=3, weights=True)
    res = run_equalized_odds(data, EOddsSettings(objective="cost", cost_fp=3, cost_fn=1), curves=False)
    best = None
    for t in sorted(set(data.oriented)) + [np.inf]:
        sel = data.oriented >= t
        fp = np.sum(data.weight * sel * (1 - data.label))
        fn = np.sum(data.weight * (~sel) * data.label)
        c = 3 * fp + fn
        if best is None or c < best[0] - 1e-12:
            best = (c, t)
    assert res.baseline["expected_cost"] == pytest.approx(best[0] / data.weight.sum())


# ------------------------------------------------------------------------------------------
# the engine's outputs

def test_json_shape_and_orientation():
    frame, data = synthetic(n=800, groups=3, seed=13, levels=10)
    res = run_equalized_odds(data, EOddsSettings(objective="accuracy"))
    out = res.to_json()
    assert set(out["point"]) == {"fpr", "tpr"}
    for name, g in out["groups"].items():
        assert {"t0", "t1", "p", "fpr", "tpr", "accuracy"} <= set(g)
    assert set(out["curves"]) == {"fixed", "linear", "quadratic", "cubic", "quartic"}
    for fam, entry in out["curves"].items():
        assert set(entry) == set(data.group_names)
        for g in entry.values():
            assert {"t0", "t1", "p", "lipschitz", "fpr", "tpr", "accuracy", "eo_gap", "monotone"} <= set(g)
    assert out["curves"]["fixed"]["G0"]["lipschitz"] is None
    assert any("Lipschitz constant is infinite" in w for w in out["warnings"])
    json.dumps(out)  # strictly JSON (no NaN or infinity)
    # lower = riskier: the same rule in the other direction
    flipped = prepare(frame.assign(s=-frame.s), ColumnMapping(score="s", label="y", groups=["g"],
                                                              higher_is_positive=False), min_group_size=1)
    out2 = run_equalized_odds(flipped, EOddsSettings(objective="accuracy"), curves=False).to_json()
    assert out2["point"] == pytest.approx(out["point"])
    for name in data.group_names:
        assert out2["groups"][name]["p"] == pytest.approx(out["groups"][name]["p"])
        for k in ("t0", "t1"):
            a, b = out["groups"][name][k], out2["groups"][name][k]
            assert (a is None and b is None) or b == pytest.approx(-a)


def test_evaluate_given_parameters_and_decisions():
    frame, data = synthetic(n=900, groups=2, seed=14)
    res = run_equalized_odds(data, EOddsSettings(objective="accuracy"), curves=False)
    params = {name: {"t0": res.user(res.fixed.t0[g]), "t1": res.user(res.fixed.t1[g]),
                     "p": float(res.fixed.p[g])} for g, name in enumerate(data.group_names)}
    ev = evaluate_family(data, res, "fixed", parse_params(params, data))
    assert np.allclose(ev.tp, res.fixed.tp) and np.allclose(ev.fp, res.fixed.fp)
    # a single threshold (t0 = t1) for everyone
    one = parse_params({n: {"t0": 0.3, "t1": 0.3} for n in data.group_names}, data)
    ev = evaluate_family(data, res, "cubic", one)
    for g in range(data.n_groups):
        m = data.group == g
        assert ev.tp[g] == pytest.approx(np.sum((data.oriented[m] >= 0.3) * data.label[m]))
    assert np.all(np.isinf(ev.lipschitz)) and ev.individual_odds()
    # a non-monotone quartic is flagged and clipped
    q = parse_params({n: {"t0": -1.0, "t1": 1.0, "p": 0.2} for n in data.group_names}, data)
    ev = evaluate_family(data, res, "quartic", q)
    assert not ev.monotone.any() and any("not monotone" in w for w in res.warnings)
    # bad parameters are explained
    with pytest.raises(FairDeskError, match="not in the data"):
        parse_params({"nope": {"t0": 0, "t1": 1, "p": 0.5}}, data)
    with pytest.raises(FairDeskError, match="missing"):
        parse_params({data.group_names[0]: {"t0": 0, "t1": 1, "p": 0.5}}, data)
    with pytest.raises(FairDeskError, match="not a probability"):
        parse_params({n: {"t0": 0, "t1": 1, "p": 1.5} for n in data.group_names}, data)
    # decisions: reproducible from the seed, drawn with the probabilities
    prob = row_probabilities(data, res, "fixed")
    d1, d2 = realize_decisions(prob, 7), realize_decisions(prob, 7)
    assert np.array_equal(d1, d2) and not np.array_equal(d1, realize_decisions(prob, 8))
    assert np.all(d1[prob == 0] == 0) and np.all(d1[prob == 1] == 1)
    big = realize_decisions(np.full(200_000, 0.3), 1)
    assert big.mean() == pytest.approx(0.3, abs=0.005)


def test_groups_without_both_outcomes_are_refused():
    frame = pd.DataFrame({"s": [0.1, 0.5, 0.9, 0.2, 0.7, 0.4], "y": [0, 1, 1, 0, 0, 0],
                          "g": ["a", "a", "a", "b", "b", "b"]})
    data = prepare(frame, ColumnMapping(score="s", label="y", groups=["g"]), min_group_size=1)
    with pytest.raises(FairDeskError, match="Group 'b' has no one with the positive outcome"):
        run_equalized_odds(data)
    with pytest.raises(FairDeskError, match="cost ratio|FP:FN"):
        parse_cost_ratio("82-18")
    with pytest.raises(FairDeskError, match="Unknown objective"):
        run_equalized_odds(data, EOddsSettings(objective="profit"))


def test_sorted_scores_same_as_group_scores():
    _, data = synthetic(n=2000, groups=4, seed=1, levels=3, weights=True)
    gs, order = sorted_scores(data)
    ref = GroupScores.from_data(data)
    assert np.array_equal(gs.sorted_score, ref.sorted_score)
    assert np.array_equal(gs.start, ref.start)
    # rows tied on a score may come in another order: the sums at every run end agree
    ends = np.r_[np.flatnonzero(np.diff(gs.sorted_score) != 0) + 1, gs.sorted_score.size]
    assert np.allclose(gs.cum_pos[ends], ref.cum_pos[ends])
    assert np.allclose(gs.cum_neg[ends], ref.cum_neg[ends])
    assert np.all(np.diff(data.oriented[order]) >= 0)


# ------------------------------------------------------------------------------------------
# command line and workbook

def run_cli(*args):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


@needs_shared
def test_command_line_json_params_and_exports(tmp_path):
    base = ["eodds", FICO, "--score", "score", "--label", "repaid", "--group", "group",
            "--weight", "weight", "--positive", "1"]
    r = run_cli(*base, "--cost-ratio", "82:18", "--json", "--out", tmp_path / "eo.xlsx")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["objective"]["cost_fp"] == 82 and out["objective"]["break_even"] == pytest.approx(0.82)
    assert set(out["groups"]) == {"Non- Hispanic white", "Black", "Hispanic", "Asian"}
    assert {"fixed", "linear", "quadratic", "cubic", "quartic"} == set(out["curves"])
    wb = openpyxl.load_workbook(tmp_path / "eo.xlsx")
    assert {"About this workbook", "EO groups", "EO curves", "EO summary", "EO regions",
            "EO probability curves"} <= set(wb.sheetnames)
    # evaluate a proposed policy: the fixed solution's own parameters give its rates back
    params = {k: {"t0": v["t0"], "t1": v["t1"], "p": v["p"]} for k, v in out["groups"].items()}
    (tmp_path / "p.json").write_text(json.dumps(params))
    r = run_cli(*base, "--cost-ratio", "82:18", "--json", "--family", "fixed", "--params",
                tmp_path / "p.json", "--rows-out", tmp_path / "rows.csv", "--draw-decisions",
                "--seed", "5")
    assert r.returncode == 0, r.stderr
    ev = json.loads(r.stdout)
    assert set(ev["curves"]) == {"fixed"} and ev["curve_summary"]["fixed"]["evaluated"]
    for k, v in ev["curves"]["fixed"].items():
        assert v["fpr"] == pytest.approx(out["groups"][k]["fpr"], abs=1e-9)
        assert v["tpr"] == pytest.approx(out["groups"][k]["tpr"], abs=1e-9)
    rows = pd.read_csv(tmp_path / "rows.csv", encoding="utf-8-sig")
    assert "Decision drawn (seed 5)" in rows.columns and len(rows) == 1578
    # text output and the error paths
    r = run_cli(*base, "--objective", "accuracy", "--no-curves")
    assert r.returncode == 0 and "Fixed randomisation" in r.stdout
    # the window's tables as text: the comparison and the fixed randomisation per group
    assert "What each randomisation achieves" in r.stdout and "Best group-blind threshold" in r.stdout
    r = run_cli(*base, "--params", tmp_path / "p.json")
    assert r.returncode == 2 and "--params needs --family" in r.stderr
    bad = dict(params)
    bad["Asian"] = {"t0": 1}
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    r = run_cli(*base, "--family", "cubic", "--params", tmp_path / "bad.json")
    assert r.returncode == 2 and "give t0, t1 and p" in r.stderr and "Traceback" not in r.stderr
    r = run_cli(*base, "--rows-out", tmp_path / "x.csv", "--draw-decisions")
    assert r.returncode == 2 and "--seed" in r.stderr


def test_workbook_tables_with_undefined_thresholds(tmp_path):
    from fairdesk.reports.eodds_report import eodds_tables
    from fairdesk.reports.workbook import write_workbook

    _, data = synthetic(n=500, groups=3, seed=2, levels=1)  # few scores: bands up to +inf
    res = run_equalized_odds(data, EOddsSettings(objective="distance"))
    tables = eodds_tables(res, data, "cubic")
    path = write_workbook(tmp_path / "t.xlsx", about={"Input": {"File": "synthetic"}}, tables=tables)
    wb = openpyxl.load_workbook(path)
    ws = wb["EO curves"]
    values = [c.value for row in ws.iter_rows() for c in row]
    assert "Piecewise cubic" in values and "Fixed (step, Hardt et al.)" in values
    # the step's infinite Lipschitz constant reads ∞ (as in the window), never 0 or blank; a
    # threshold beyond every score says so
    assert "above all" in values
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    head = next(r for r in rows if "Lipschitz\nL" in r)
    col = head.index("Lipschitz\nL")
    steps = [r[col] for r in rows if r[0] == "Fixed (step, Hardt et al.)"]
    assert len(steps) == 3 and steps == ["∞"] * 3


def test_group_and_summary_tables_are_the_engine_result():
    """The window's tables (and the workbook's rows) against the engine: thresholds in the
    scores' decimals (a curve's ends with two more), rates, gaps, infinite constants and
    thresholds beyond every score with their reasons; the summary's rows and the shown family
    in bold."""
    from fairdesk.present.formats import format_rate, format_score
    from fairdesk.present.table import plain_value
    from fairdesk.reports.eodds_report import (curve_decimals, family_rows, group_table,
                                               summary_sentence, summary_table)

    _, data = synthetic(n=500, groups=3, seed=2, levels=1)  # integer scores: 0 decimals
    assert data.score_decimals == 0
    res = run_equalized_odds(data, EOddsSettings(objective="distance"))
    for name in ("fixed", "cubic"):
        fam = res.family(name)
        t = group_table(res, fam, data.score_decimals, data.people_decimals)
        assert [c.key for c in t.columns] == ["group", "t0", "t1", "p", "lipschitz", "fpr", "tpr",
                                              "accuracy", "eo_gap"]
        fpr, tpr, acc = fam.rates(res.rocs)
        gap = fam.eo_gap(res.rocs)
        single = fam.single()
        dec = 0 if name == "fixed" else curve_decimals(0)
        for g, row in enumerate(t.rows):
            assert plain_value(row["group"]) == res.group_names[g] and row["group"].swatch == g
            assert plain_value(row["fpr"]) == pytest.approx(fpr[g])
            assert t.column("fpr").text(row["fpr"]) == format_rate(fpr[g], 2)
            assert plain_value(row["accuracy"]) == pytest.approx(acc[g])
            assert plain_value(row["eo_gap"]) == pytest.approx(gap[g])
            for key in ("t0", "t1"):
                v = res.user(getattr(fam, key)[g])
                cell = row[key]
                if single[g]:
                    continue
                if math.isfinite(v):
                    assert cell.value == v
                    assert t.column(key).text(cell) == format_score(v + 0.0, dec)
                    assert "−0" not in t.column(key).text(cell)
                else:  # beyond every score: said in words, with what it means
                    assert cell.value in ("above all", "below all") and "nobody" in cell.tip
            L = row["lipschitz"]
            if name == "fixed":
                assert L.value == math.inf and t.column("lipschitz").text(L) == "∞"
                assert "infinite" in L.tip
            else:
                assert L.value == pytest.approx(fam.lipschitz[g])
    assert any(r["t1"].value == "above all" for r in family_rows(res, res.fixed))
    assert group_table(res, res.fixed).title.startswith("Fixed randomisation")
    # summary: target, every family, the group-blind threshold; the shown family in bold
    s = summary_table(res, "cubic", data.score_decimals)
    labels = [plain_value(r["what"]) for r in s.rows]
    assert labels[0] == "Target point (ideal)" and len(labels) == 7
    assert labels[-1] == f"Best group-blind threshold ({res.baseline['threshold']:.0f})"
    bold = [plain_value(r["what"]) for r in s.rows if r["what"].bold]
    assert bold == ["Piecewise cubic"]
    cubic = s.rows[labels.index("Piecewise cubic")]
    assert plain_value(cubic["accuracy"]) == pytest.approx(res.family("cubic").accuracy(res.rocs))
    assert plain_value(cubic["gap"]) == pytest.approx(res.family("cubic").eo_gap(res.rocs).max())
    assert plain_value(s.rows[1]["lipschitz"]) == math.inf  # the step
    head, rest = summary_sentence(res, res.family("cubic"), data.score_decimals)
    assert head == "Common point" and format_rate(res.point[0], 2) in rest
    # equal opportunity: the gap the constraint equalises is the TPR gap
    opp = run_equalized_odds(data, EOddsSettings(constraint="equal_opportunity"), curves=False)
    assert group_table(opp, opp.fixed).columns[-1].key == "tpr_gap"
    s = summary_table(opp, "fixed")
    assert s.column("gap").header == "TPR gap"
    assert s.rows[0]["gap"].value == "—" and "own target" in s.rows[0]["gap"].tip
