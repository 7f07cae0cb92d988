"""The fast curve-family search (distinct-score prefix table, band-level grid evaluation)
against the search as it was (tests/reference_preferential.py): the same optimum within 1e-9
on the sample, COMPAS (race × sex) and FICO (82:18 costs), and its parts against the old
parts on data with many ties."""

import math

import numpy as np
import pandas as pd
import pytest

import reference_preferential as ref
from conftest import ROOT, SHARED
from fairdesk.engines import preferential as pf
from fairdesk.engines import roc_geometry as rg
from fairdesk.engines.equalized_odds import EOddsSettings, group_moments, solve_targets, sorted_scores
from fairdesk.schema import ColumnMapping
from fairdesk.validation import prepare

SAMPLE = ROOT / "resources" / "sample" / "sample_scores.csv"
COMPAS = SHARED / "compas_two_year.csv"
FICO = SHARED / "fico_weighted.csv"


def search_inputs(data, settings):
    """The groups and tasks run_equalized_odds hands to search_curves."""
    gs, _ = sorted_scores(data)
    rocs = [rg.group_roc(gs, g) for g in range(data.n_groups)]
    targets, _, _ = solve_targets(rocs, settings)
    moments = [group_moments(gs, g) for g in range(data.n_groups)]
    tasks = [(f, g, float(targets[g, 0]), float(targets[g, 1]))
             for f in pf.CURVE_FAMILIES for g in range(data.n_groups)]
    kw = dict(tol=settings.curve_tolerance, prefer_smooth=settings.prefer_smooth,
              min_width=settings.min_width)
    return moments, tasks, kw


def sample_case():
    return prepare(pd.read_csv(SAMPLE), ColumnMapping(score="score", label="outcome",
                                                      groups=["race"], weight="weight")), {}


def compas_case():
    c = pd.read_csv(COMPAS)
    c = c[c.race.isin(["African-American", "Caucasian", "Hispanic", "Other"])]
    return prepare(c, ColumnMapping(score="decile_score", label="two_year_recid",
                                    groups=["race", "sex"])), {}


def fico_case():
    return prepare(pd.read_csv(FICO), ColumnMapping(score="score", label="repaid", groups=["group"],
                                                   weight="weight", positive_label=1)), \
        dict(objective="cost", cost_fp=82, cost_fn=18)


@pytest.mark.parametrize("case, needs", [(sample_case, SAMPLE), (compas_case, COMPAS),
                                         (fico_case, FICO)])
@pytest.mark.parametrize("prefer_smooth", [False, True])
def test_same_optimum_as_the_old_search(case, needs, prefer_smooth):
    if not needs.exists():
        pytest.skip(f"{needs.name} missing")
    data, extra = case()
    settings = EOddsSettings(prefer_smooth=prefer_smooth, **extra)
    moments, tasks, kw = search_inputs(data, settings)
    new = pf.search_curves(moments, tasks, **kw)
    old = ref.search_curves(moments, tasks, **kw)
    assert len(new) == len(old) == len(tasks)
    for task, a, b in zip(tasks, new, old):
        for field in ("t0", "t1", "p", "tp", "fp", "gap"):
            x, y = getattr(a, field), getattr(b, field)
            assert abs(x - y) <= 1e-9 * max(1.0, abs(y)), (task, field, x, y)
        assert a.lipschitz == pytest.approx(b.lipschitz, rel=1e-9, abs=0) or \
            (math.isinf(a.lipschitz) and math.isinf(b.lipschitz)), task


def tied_groups(seed=3):
    """Groups with heavy ties (a 20-level score), weights, and one group of a single score."""
    rng = np.random.default_rng(seed)
    out = []
    for n, levels in ((500, 20), (300, 7), (40, 1)):
        s = np.sort(np.round(rng.random(n) * levels) / max(levels, 1))
        y = (rng.random(n) < 0.2 + 0.6 * s).astype(float)
        out.append(pf.GroupMoments(s, rng.uniform(0.1, 3.0, n), y))
    return out


def candidates(n, family, seed=5):
    rng = np.random.default_rng(seed)
    a = rng.uniform(-0.5, 1.2, n)
    b = a + rng.uniform(0.002, 1.5, n)
    a[:50] = np.round(a[:50] * 20) / 20  # thresholds exactly on tied scores
    b[:50] = a[:50] + 0.25
    lo, hi = pf.MONOTONE_P[family]
    p = rng.uniform(max(lo, 0.01), min(hi, 0.99), n)
    return a, b, p


@pytest.mark.parametrize("family", pf.CURVE_FAMILIES)
def test_counts_equal_the_old_counts(family):
    groups = tied_groups()
    new, old = pf.MultiMoments(groups), ref.MultiMoments(groups)
    assert new.key.size < old.key.size  # one prefix row per distinct score, not per row
    a, b, p = candidates(3000, family)
    g = np.arange(a.size) % len(groups)
    coef, _ = pf.coef_and_slope(family, p)
    fixed = np.zeros(a.size, dtype=bool)
    tp, fp = new.counts(g, a, b, p, coef, fixed)
    rtp, rfp = old.counts(g, a, b, p, coef, fixed)
    scale = max(m.P + m.N for m in groups)
    # the moment expansion cancels in narrow bands (terms grow like (t1 − t0)^−4): there the
    # old and the new sums differ by rounding alone; on wide bands they agree to 1e-9 of the
    # group's weight
    wide = (b - a) >= 0.05
    np.testing.assert_allclose(tp[wide], rtp[wide], rtol=0, atol=1e-9 * scale)
    np.testing.assert_allclose(fp[wide], rfp[wide], rtol=0, atol=1e-9 * scale)
    # everywhere, the new sums are as close to the row-by-row figures as the old ones were
    direct = np.array([groups[g[i]].direct_counts(family, float(groups[g[i]].to_score(a[i])),
                                                  float(groups[g[i]].to_score(b[i])), float(p[i]))
                       for i in range(a.size)])
    for new_v, old_v, exact in ((tp, rtp, direct[:, 0]), (fp, rfp, direct[:, 1])):
        err_new, err_old = np.abs(new_v - exact), np.abs(old_v - exact)
        assert err_new.max() <= max(4 * err_old.max(), 1e-9 * scale)
        assert np.all(err_new <= 1e-6 * scale)


@pytest.mark.parametrize("family", pf.CURVE_FAMILIES)
def test_grid_counts_equal_counts_per_candidate(family):
    groups = tied_groups()
    mm = pf.MultiMoments(groups)
    a, b, _ = candidates(400, family)
    pgrid = pf._p_range(family)[2]
    coef, _ = pf.coef_and_slope(family, pgrid)
    for g in range(len(groups)):
        tp, fp = mm.grid_counts(g, a, b, pgrid, coef)
        A, B = np.repeat(a, pgrid.size), np.repeat(b, pgrid.size)
        P = np.tile(pgrid, a.size)
        ctp, cfp = mm.counts(np.full(A.size, g), A, B, P, coef[np.tile(np.arange(pgrid.size), a.size)],
                             np.zeros(A.size, dtype=bool))
        m = groups[g]
        scale = m.P + m.N
        if m.range != 1.0 or m.score[0] != m.score[-1]:  # not the one-score group (see below)
            wide = np.repeat((b - a) >= 0.05, pgrid.size)  # see test_counts_equal_the_old_counts
            np.testing.assert_allclose(tp.reshape(-1)[wide], ctp[wide], rtol=0, atol=1e-9 * scale)
            np.testing.assert_allclose(fp.reshape(-1)[wide], cfp[wide], rtol=0, atol=1e-9 * scale)
        # a group of one score puts every band far from its rows in normalised units, where the
        # expansion cancels most: there too the band-level figures are as close to the
        # row-by-row ones as the per-candidate figures
        direct = np.array([m.direct_counts(family, float(m.to_score(A[i])), float(m.to_score(B[i])),
                                           float(P[i])) for i in range(0, A.size, 7)])
        for grid_v, cand_v, exact in ((tp.reshape(-1)[::7], ctp[::7], direct[:, 0]),
                                      (fp.reshape(-1)[::7], cfp[::7], direct[:, 1])):
            assert np.abs(grid_v - exact).max() <= max(4 * np.abs(cand_v - exact).max(), 1e-9 * scale)
            assert np.all(np.abs(grid_v - exact) <= 1e-6 * scale)


def test_coefficient_cache_returns_what_a_fresh_solve_gives():
    p = np.array([0.3, 0.05, 0.3, 0.77, 0.05, 0.5])
    for family in pf.CURVE_FAMILIES:
        pf._CACHE.pop(family, None)
        pf.coef_and_slope(family, p[:2])  # part of them known, part new
        c, s = pf.coef_and_slope(family, p)
        np.testing.assert_array_equal(c, pf.coefficients(family, p))
        np.testing.assert_array_equal(s, pf.slope_extremes(family, p)[1])


@pytest.mark.parametrize("seed", range(6))
def test_smallest_first_equals_a_stable_argsort(seed):
    rng = np.random.default_rng(seed)
    key = np.round(rng.random(500) * 8)  # many ties
    key[rng.integers(0, 500, 30)] = np.nan
    if seed == 5:
        key[:495] = np.nan  # fewer numbers than asked for
    for k in (1, 16, 499, 500, 600):
        np.testing.assert_array_equal(pf.smallest_first(key, k), np.argsort(key, kind="stable")[:k])


@pytest.mark.parametrize("family", pf.CURVE_FAMILIES)
def test_neighbour_counts_equal_counts_per_candidate(family):
    """The pattern search's 3 × 3 × 3 neighbourhoods (band work shared by the p of a (t0, t1))
    give each candidate the figures that evaluating it alone gives."""
    groups = tied_groups()
    mm = pf.MultiMoments(groups)
    rng = np.random.default_rng(11)
    n = 60
    g = rng.integers(0, len(groups), n)
    step = rng.uniform(1e-5, 0.05, (n, 3))
    unit = np.array([-1.0, 0.0, 1.0])
    a = rng.uniform(-0.5, 0.8, n)[:, None] + unit * step[:, :1]
    b = a[:, 1:2] + rng.uniform(0.002, 0.8, n)[:, None] + unit * step[:, 1:2]
    a[:5] = np.round(a[:5] * 20) / 20  # ends exactly on tied scores
    lo, hi = pf.MONOTONE_P[family]
    p = np.clip(rng.uniform(max(lo, 0.02), min(hi, 0.98), n)[:, None] + unit * step[:, 2:],
                max(lo, 0.01), min(hi, 0.99))
    coef, _ = pf.coef_and_slope(family, p.reshape(-1))
    tp, fp = mm.neighbour_counts(g, a, b, p, coef.reshape(n, 3, 2, pf._NC))
    assert tp.shape == fp.shape == (n, 3, 3, 3)
    ix, iy, iz = np.meshgrid(range(3), range(3), range(3), indexing="ij")
    rows = np.repeat(np.arange(n), 27)
    A = a[rows, np.tile(ix.reshape(-1), n)]
    B = b[rows, np.tile(iy.reshape(-1), n)]
    P = p[rows, np.tile(iz.reshape(-1), n)]
    C, _ = pf.coef_and_slope(family, P)
    ok = B - A > 0
    ctp, cfp = mm.counts(g[rows], A, B, P, C, np.zeros(A.size, dtype=bool))
    scale = max(m.P + m.N for m in groups)
    # the change of variable is batched per (t0, t1), so its rounding may differ; the moment
    # expansion magnifies that only in narrow bands (see test_counts_equal_the_old_counts)
    wide = ok & (B - A >= 0.05)
    np.testing.assert_allclose(tp.reshape(-1)[wide], ctp[wide], rtol=0, atol=1e-9 * scale)
    np.testing.assert_allclose(fp.reshape(-1)[wide], cfp[wide], rtol=0, atol=1e-9 * scale)
    np.testing.assert_allclose(tp.reshape(-1)[ok], ctp[ok], rtol=0, atol=1e-7 * scale)
    np.testing.assert_allclose(fp.reshape(-1)[ok], cfp[ok], rtol=0, atol=1e-7 * scale)
    assert wide.sum() > 500


def test_cached_curves_and_slopes_equal_a_fresh_solve():
    """curve_x, lipschitz and is_monotone read the coefficient cache: the same figures as
    solving the constraint system afresh."""
    for family in pf.CURVE_FAMILIES:
        pf._CACHE.pop(family, None)
        for p in (0.05, 0.3, 0.45, 0.5, 0.77, 0.95):
            c = pf.coefficients(family, p)
            lo, hi = pf.slope_extremes(family, p)
            C, LO, HI = pf.coef_and_slopes(family, np.array([p, p]))
            np.testing.assert_array_equal(C, np.concatenate([c, c]))
            np.testing.assert_array_equal(LO, np.concatenate([lo, lo]))
            np.testing.assert_array_equal(HI, np.concatenate([hi, hi]))
            x = np.linspace(-0.2, 1.2, 57)
            tau = 1.0 - p
            v = np.where(x < tau, pf._polyval(c[0, 0], x), pf._polyval(c[0, 1], x))
            np.testing.assert_array_equal(pf.curve_x(family, p, x),
                                          np.where(x >= 1, 1.0, np.where(x < 0, 0.0, v)))
            assert pf.lipschitz(family, 2.0, 4.0, p) == max(hi[0], -lo[0]) / 2.0
            assert pf.is_monotone(family, p) == bool(lo[0] >= -1e-9)


@pytest.mark.parametrize("used", [2, 3, 4])
def test_dot_products_leave_out_exact_zeros_without_changing_a_figure(used):
    """A linear, quadratic or cubic piece has exact zeros for its unused powers: the dot
    product over the used powers alone is the same number, bit for bit."""
    rng = np.random.default_rng(used)
    q = rng.normal(size=(pf._NC, 40, 30)) * 10.0 ** rng.uniform(-6, 9, (pf._NC, 40, 30))
    q[used:] = 0.0
    s = rng.normal(size=(2, pf._NC, 40, 30)) * 10.0 ** rng.uniform(-6, 3, (2, pf._NC, 40, 30))
    np.testing.assert_array_equal(pf._dot5(q[:used].copy(), s), pf._dot5(q, s))
    family = pf.CURVE_FAMILIES[used - 2]
    assert pf._used_powers(pf.coefficients(family, np.linspace(0.05, 0.95, 19))) == used


def test_work_arrays_are_not_shared_between_results():
    """The grid and the neighbourhoods write to reused work arrays: a later evaluation leaves
    an earlier result unchanged, and evaluating again gives the same figures."""
    groups = tied_groups()
    mm = pf.MultiMoments(groups)
    a, b, _ = candidates(300, "cubic")
    pgrid = pf._p_range("cubic")[2]
    coef, _ = pf.coef_and_slope("cubic", pgrid)
    first = mm.grid_counts(0, a, b, pgrid, coef)
    kept = [x.copy() for x in first]
    n = 20
    unit = np.array([-1.0, 0.0, 1.0])
    g = np.arange(n) % len(groups)
    A = a[:n, None] + 0.01 * unit
    B = b[:n, None] + 0.01 * unit
    P = np.clip(0.5 + 0.1 * unit + np.zeros((n, 1)), 0.01, 0.99)
    c, _ = pf.coef_and_slope("cubic", P.reshape(-1))
    near = [x.copy() for x in mm.neighbour_counts(g, A, B, P, c.reshape(n, 3, 2, pf._NC))]
    mm.grid_counts(1, a, b, pgrid, coef)
    for x, y in zip(first, kept):
        np.testing.assert_array_equal(x, y)
    for x, y in zip(mm.grid_counts(0, a, b, pgrid, coef), kept):
        np.testing.assert_array_equal(x, y)
    for x, y in zip(mm.neighbour_counts(g, A, B, P, c.reshape(n, 3, 2, pf._NC)), near):
        np.testing.assert_array_equal(x, y)


def test_search_is_repeatable():
    groups = tied_groups()
    tasks = [(f, g, 0.2, 0.6) for f in pf.CURVE_FAMILIES for g in range(2)]
    assert pf.search_curves(groups, tasks) == pf.search_curves(groups, tasks)
