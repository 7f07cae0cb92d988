"""Version comparison (fairdesk/engines/versions.py) against brute force, pandas and coverage."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from fairdesk.engines.versions import (ALL_GROUPS, matched_threshold, paired_auc_difference,
                                       rates_at, tier_transitions)


# ---------- brute force: O(n^2) pairs, explicit placement values ----------

def _psi(x_pos, x_neg):
    return (x_pos[:, None] > x_neg[None, :]) + 0.5 * (x_pos[:, None] == x_neg[None, :])


def brute_delong(a, b, y):
    """(auc_a, auc_b, diff, se) on unweighted rows, DeLong et al. (1988) written out."""
    y = np.asarray(y) > 0
    m, n = int(y.sum()), int((~y).sum())
    psi_a, psi_b = _psi(a[y], a[~y]), _psi(b[y], b[~y])
    auc_a, auc_b = psi_a.mean(), psi_b.mean()
    v10 = np.stack([psi_a.mean(axis=1), psi_b.mean(axis=1)])  # one per positive
    v01 = np.stack([psi_a.mean(axis=0), psi_b.mean(axis=0)])  # one per negative
    s10 = np.cov(v10)  # denominators m - 1 and n - 1
    s01 = np.cov(v01)
    s = s10 / m + s01 / n
    contrast = np.array([-1.0, 1.0])
    var = contrast @ s @ contrast
    return auc_a, auc_b, auc_b - auc_a, math.sqrt(var)


def random_data(rng, n, groups=3, decimals=1):
    g = rng.integers(0, groups, n)
    y = (rng.random(n) < 0.4).astype(int)
    a = np.round(rng.normal(size=n) + 0.8 * y, decimals)  # rounding makes many ties
    b = np.round(0.6 * a + rng.normal(size=n) * 0.7 + 0.5 * y, decimals)
    return a, b, y, g


def check_against_brute(res, a, b, y, g, names):
    assert [r.group for r in res] == names + [ALL_GROUPS]
    z = NormalDist().inv_cdf(0.975)
    for k, r in enumerate(res):
        rows = np.ones(len(a), bool) if r.group == ALL_GROUPS else g == k
        auc_a, auc_b, diff, se = brute_delong(a[rows], b[rows], y[rows])
        assert r.auc_a == pytest.approx(auc_a, abs=1e-12)
        assert r.auc_b == pytest.approx(auc_b, abs=1e-12)
        assert r.diff == pytest.approx(diff, abs=1e-12)
        assert r.se == pytest.approx(se, rel=1e-9)
        assert r.lo == pytest.approx(diff - z * se, abs=1e-12)
        assert r.hi == pytest.approx(diff + z * se, abs=1e-12)
        assert r.positives == y[rows].sum() and r.negatives == (1 - y[rows]).sum()
        assert r.undefined_reason == ""


@pytest.mark.parametrize("seed", range(5))
def test_paired_auc_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    a, b, y, g = random_data(rng, 120 + 40 * seed)
    names = ["A", "B", "C"]
    check_against_brute(paired_auc_difference(a, b, y, g, names), a, b, y, g, names)


@pytest.mark.parametrize("seed", range(5))
def test_integer_weights_equal_repeated_rows(seed):
    rng = np.random.default_rng(100 + seed)
    a, b, y, g = random_data(rng, 90)
    w = rng.integers(0, 4, a.size)  # zero weights too: those rows count for nothing
    names = ["A", "B", "C"]
    weighted = paired_auc_difference(a, b, y, g, names, weight=w.astype(float))
    rep = np.repeat(np.arange(a.size), w)
    repeated = paired_auc_difference(a[rep], b[rep], y[rep], g[rep], names)
    check_against_brute(weighted, a[rep], b[rep], y[rep], g[rep], names)
    for r, s in zip(weighted, repeated):
        for f in ("auc_a", "auc_b", "diff", "lo", "hi", "se", "positives", "negatives"):
            assert getattr(r, f) == pytest.approx(getattr(s, f), rel=1e-10, abs=1e-12)


def test_row_order_and_level():
    rng = np.random.default_rng(7)
    a, b, y, g = random_data(rng, 200)
    res = paired_auc_difference(a, b, y, g, ["A", "B", "C"])
    p = rng.permutation(a.size)
    shuffled = paired_auc_difference(a[p], b[p], y[p], g[p], ["A", "B", "C"])
    for r, s in zip(res, shuffled):
        assert r.diff == pytest.approx(s.diff, abs=1e-12) and r.se == pytest.approx(s.se, rel=1e-9)
    wide = paired_auc_difference(a, b, y, g, ["A", "B", "C"], level=0.99)
    z99 = NormalDist().inv_cdf(0.995)
    assert wide[-1].hi - wide[-1].lo == pytest.approx(2 * z99 * res[-1].se)
    # swapping the versions flips the sign of the difference, not the standard error
    swapped = paired_auc_difference(b, a, y, g, ["A", "B", "C"])
    for r, s in zip(res, swapped):
        assert s.diff == pytest.approx(-r.diff, abs=1e-12) and s.se == pytest.approx(r.se)


# ---------- coverage ----------

def test_interval_covers_true_difference_about_95_percent():
    """Binormal versions: negatives ~ N(0, 1), positives ~ N(mu, 1) with corr rho between
    the versions' scores of a person; true AUC = Phi(mu / sqrt 2)."""
    rng = np.random.default_rng(2026)
    reps, n, rho = 300, 400, 0.6
    mu_a, mu_b = 0.8, 1.1
    phi = NormalDist().cdf
    true = phi(mu_b / math.sqrt(2)) - phi(mu_a / math.sqrt(2))
    cover_group = cover_all = 0
    for _ in range(reps):
        g = rng.integers(0, 2, n)
        y = (rng.random(n) < 0.4).astype(int)
        z1 = rng.normal(size=n)
        z2 = rho * z1 + math.sqrt(1 - rho ** 2) * rng.normal(size=n)
        a, b = z1 + mu_a * y, z2 + mu_b * y
        res = paired_auc_difference(a, b, y, g, ["G0", "G1"])
        cover_group += res[0].lo <= true <= res[0].hi
        cover_all += res[-1].lo <= true <= res[-1].hi
    assert 0.92 <= cover_group / reps <= 0.98, cover_group / reps
    assert 0.92 <= cover_all / reps <= 0.98, cover_all / reps


# ---------- undefined cases ----------

def test_undefined_groups_give_nan_and_reason():
    rng = np.random.default_rng(3)
    n = 60
    a, b = rng.normal(size=n), rng.normal(size=n)
    g = np.repeat([0, 1, 2, 3], 15)
    y = rng.integers(0, 2, n)
    y[g == 0] = 1           # group 0: no negatives
    y[g == 1] = 0           # group 1: no positives
    y[g == 2] = 0
    y[np.flatnonzero(g == 2)[0]] = 1   # group 2: a single positive
    names = ["Zero neg", "Zero pos", "One pos", "Fine", "Empty"]
    res = paired_auc_difference(a, b, y, g, names)
    assert [r.group for r in res] == names + [ALL_GROUPS]
    r0, r1, r2, r3, r4, pooled = res
    assert math.isnan(r0.auc_a) and math.isnan(r0.diff) and math.isnan(r0.lo)
    assert "negative outcome" in r0.undefined_reason and "Zero neg" in r0.undefined_reason
    assert math.isnan(r1.auc_b) and "positive outcome" in r1.undefined_reason
    # one positive: the AUCs exist, the standard error does not
    assert not math.isnan(r2.auc_a) and not math.isnan(r2.diff)
    assert math.isnan(r2.se) and math.isnan(r2.lo) and "more than one" in r2.undefined_reason
    assert r3.undefined_reason == "" and not math.isnan(r3.se)
    assert r4.positives == 0 and r4.negatives == 0 and r4.rows == 0
    assert math.isnan(r4.auc_a) and "no one" in r4.undefined_reason
    assert pooled.undefined_reason == "" and not math.isnan(pooled.lo)


def test_perfect_separation_gives_no_zero_width_interval():
    y = np.array([0, 0, 0, 1, 1, 1])
    a = np.array([1.0, 2, 3, 4, 5, 6])
    res = paired_auc_difference(a, a * 2, y, np.zeros(6, int), ["Only"])
    for r in res:
        assert r.auc_a == 1.0 and r.auc_b == 1.0 and r.diff == 0.0 and r.se == 0.0
        assert math.isnan(r.lo) and math.isnan(r.hi) and "standard error is 0" in r.undefined_reason


def test_no_negatives_anywhere_and_no_rows():
    res = paired_auc_difference([0.1, 0.2], [0.3, 0.4], [1, 1], [0, 0], ["G"])
    assert all(math.isnan(r.diff) for r in res)
    assert "negative outcome in any group" in res[-1].undefined_reason
    empty = paired_auc_difference([], [], [], np.array([], int), ["G"])
    assert len(empty) == 2 and all(math.isnan(r.auc_a) and r.undefined_reason for r in empty)


def test_missing_scores_are_refused():
    with pytest.raises(ValueError, match="missing"):
        paired_auc_difference([0.1, np.nan], [0.3, 0.4], [0, 1], [0, 0], ["G"])


# ---------- matched threshold ----------

def test_matched_threshold_hand_cases():
    a = np.array([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    # A at 8 selects 3 of 10
    b = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95])
    assert matched_threshold(a, b, 8) == pytest.approx(0.8)  # 0.8, 0.9, 0.95 = 3 people
    # ties in B: selecting 3 is impossible; 0.9 selects 2 and 0.6 selects 4, equally close:
    # the one from above (selecting more) wins
    b_tied = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.5, 0.6, 0.6, 0.9, 0.9])
    assert matched_threshold(a, b_tied, 8) == 0.6
    # one side closer: A at 9 selects 2 -> B at 0.9 selects exactly 2
    assert matched_threshold(a, b_tied, 9) == 0.9
    # A selects no one -> +inf
    assert matched_threshold(a, b_tied, 11) == math.inf
    # A selects everyone -> B's lowest score
    assert matched_threshold(a, b_tied, 0) == 0.1


def test_matched_threshold_ties_and_weights():
    a = np.array([1.0, 2, 3, 4])
    b = np.array([5.0, 5, 6, 6])
    # A at 3 selects 2 of 4; B at 6 selects exactly 2
    assert matched_threshold(a, b, 3) == 6.0
    # A at 4 selects 1: B at 6 selects 2 (gap 1), +inf selects 0 (gap 1): from above -> 6
    assert matched_threshold(a, b, 4) == 6.0
    # weights: A at 4 selects weight 5 of 8; B at 6 selects 5+1=6 (gap 1), +inf 0, at 5 all 8
    w = np.array([1.0, 1, 1, 5])
    assert matched_threshold(a, b, 4, weight=w) == 6.0
    w2 = np.array([3.0, 1, 1, 1])
    # A at 2 selects 3 of 6; B at 6 selects 2 (gap 1), at 5 selects 6 (gap 3) -> 6
    assert matched_threshold(a, b, 2, weight=w2) == 6.0
    # zero-weight rows: B scores 7 and 8 weigh nothing; +inf, 8 and 7 all select 0; A at 9
    # selects 0 -> the highest of the equally good thresholds
    b3 = np.array([5.0, 6, 7, 8])
    w3 = np.array([1.0, 1, 0, 0])
    assert matched_threshold(a, b3, 9, weight=w3) == math.inf


# ---------- rates at a threshold, tier transitions ----------

def test_rates_at_equals_pandas_groupby():
    rng = np.random.default_rng(11)
    n = 2000
    s = np.round(rng.random(n), 2)
    y = (rng.random(n) < s).astype(int)
    g = rng.integers(0, 4, n)
    w = rng.integers(1, 5, n).astype(float)
    y[g == 3] = 1  # group 3: no negatives -> FPR is 0/0
    t = 0.5
    got = rates_at(s, y, g, 5, t, weight=w)  # group 4 is empty: every rate 0/0
    df = pd.DataFrame({"g": g, "y": y, "w": w, "f": (s >= t).astype(int)})
    df["tp"] = df.w * df.f * df.y
    df["fp"] = df.w * df.f * (1 - df.y)
    df["fn"] = df.w * (1 - df.f) * df.y
    df["tn"] = df.w * (1 - df.f) * (1 - df.y)
    c = df.groupby("g")[["tp", "fp", "fn", "tn", "w"]].sum().reindex(range(5))
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = {"selection_rate": (c.tp + c.fp) / c.w, "tpr": c.tp / (c.tp + c.fn),
                    "fpr": c.fp / (c.fp + c.tn), "fnr": c.fn / (c.tp + c.fn),
                    "ppv": c.tp / (c.tp + c.fp)}
    assert set(got) == set(expected)
    for k, v in expected.items():
        np.testing.assert_allclose(got[k], v.to_numpy(dtype=float), rtol=1e-12, equal_nan=True)
    assert np.isnan(got["fpr"][3]) and np.isnan(got["tpr"][4])
    assert not np.isnan(got["tpr"][3])


def test_rates_at_score_equal_to_threshold_is_flagged():
    got = rates_at([0.5, 0.4], [1, 0], [0, 0], 1, 0.5)
    assert got["selection_rate"][0] == 0.5 and got["tpr"][0] == 1.0 and got["fpr"][0] == 0.0


@pytest.mark.parametrize("weighted", [False, True])
def test_tier_transitions_equal_pandas_crosstab(weighted):
    rng = np.random.default_rng(5)
    n = 3000
    a = np.round(rng.random(n), 2)
    b = np.round(rng.random(n), 2)
    g = rng.integers(0, 3, n)
    w = rng.random(n) * 3 if weighted else None
    ta, tb = [0.3, 0.7], [0.25, 0.5, 0.75]
    got = tier_transitions(a, b, g, 4, ta, tb, weight=w)  # group 3 has no one
    assert got.shape == (4, 3, 4)
    tier_a = pd.cut(a, [-np.inf] + ta + [np.inf], right=False, labels=False)
    tier_b = pd.cut(b, [-np.inf] + tb + [np.inf], right=False, labels=False)
    df = pd.DataFrame({"g": g, "ta": tier_a, "tb": tier_b, "w": np.ones(n) if w is None else w})
    ct = pd.crosstab([df.g, df.ta], df.tb, values=df.w, aggfunc="sum").fillna(0.0)
    expected = np.zeros((4, 3, 4))
    for (gg, t1), row in ct.iterrows():
        for t2, v in row.items():
            expected[gg, t1, t2] = v
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert got[3].sum() == 0
    assert got.sum() == pytest.approx(n if w is None else w.sum())


def test_tier_transitions_boundaries_go_up():
    got = tier_transitions([0.3, 0.7, 0.2], [0.5, 0.49, 1.0], [0, 0, 0], 1, [0.7, 0.3], [0.5])
    # thresholds in any order; 0.3 -> tier 1, 0.7 -> tier 2, 0.2 -> tier 0
    assert got[0, 1, 1] == 1 and got[0, 2, 0] == 1 and got[0, 0, 1] == 1 and got.sum() == 3


# ---------- a million rows ----------

def test_million_rows_four_groups_runs_and_agrees_with_ranking():
    """Speed is in benchmarks/bench_versions.py; here the large call runs and its AUCs equal
    those of fairdesk.metrics.ranking (an independent sort-and-search implementation)."""
    from fairdesk.metrics.confusion import GroupScores
    from fairdesk.metrics.ranking import group_auc, pooled_auc

    rng = np.random.default_rng(1)
    n = 1_000_000
    g = rng.integers(0, 4, n)
    y = (rng.random(n) < 0.3).astype(np.int8)
    a = np.round(rng.normal(size=n) + 0.7 * y, 3)
    b = np.round(0.5 * a + rng.normal(size=n) + 0.5 * y, 3)
    w = rng.random(n) * 2
    res = paired_auc_difference(a, b, y, g, ["W", "X", "Y", "Z"], weight=w)
    assert len(res) == 5 and all(r.undefined_reason == "" for r in res)
    for score, field in ((a, "auc_a"), (b, "auc_b")):
        gs = GroupScores(score, y, g, 4, w)
        expected = np.r_[group_auc(gs), pooled_auc(gs)]
        np.testing.assert_allclose([getattr(r, field) for r in res], expected, rtol=1e-9)
    assert all(0 < r.se < 0.01 and r.lo < r.diff < r.hi for r in res)


def test_auc_intervals_per_cell_equal_a_brute_force_delong():
    from fairdesk.engines.versions import auc_intervals

    rng = np.random.default_rng(5)
    n = 900
    y = rng.random(n) < 0.4
    s = np.round(rng.normal(0, 1, n) + y, 1)  # many ties
    g = rng.integers(0, 3, n)
    w = rng.integers(1, 3, n).astype(float)
    auc, lo, hi = auc_intervals(s, y, g, 4, w)  # code 3 has no rows: undefined
    assert np.isnan(auc[3]) and np.isnan(lo[3])
    for c in range(3):
        m = g == c
        sp = np.repeat(s[m & y], w[m & y].astype(int))  # weights as repeated rows
        sn = np.repeat(s[m & ~y], w[m & ~y].astype(int))
        v10 = np.array([(np.sum(sn < x) + 0.5 * np.sum(sn == x)) / len(sn) for x in sp])
        v01 = np.array([(np.sum(sp > x) + 0.5 * np.sum(sp == x)) / len(sp) for x in sn])
        a = v10.mean()
        se = np.sqrt(v10.var(ddof=1) / len(sp) + v01.var(ddof=1) / len(sn))
        assert auc[c] == pytest.approx(a, abs=1e-12)
        assert lo[c] == pytest.approx(a - 1.959963984540054 * se, abs=1e-9)
        assert hi[c] == pytest.approx(a + 1.959963984540054 * se, abs=1e-9)
