"""Split conformal prediction sets for a binary outcome: the quantile, the sets, the exact
binomial interval, the calibration of a score, the splits, and the coverage guarantee."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from conftest import SHARED
from fairdesk.dataset import AnalysisData
from fairdesk.engines.conformal import (CALIBRATION, CODE_OF, SET_KEYS, TEST, TRAIN, clopper_pearson,
                                        conformal_level, conformal_quantile, covered,
                                        fit_isotonic, fit_logistic, nonconformity,
                                        prediction_sets, random_split, run_conformal,
                                        split_from_column)
from fairdesk.engines.transport import TransportSettings, run_transport
from fairdesk.errors import FairDeskError
from fairdesk.schema import ColumnMapping
from fairdesk.validation import prepare


def make_data(score, group, label, split=None, weight=None, higher_is_positive=True):
    n = len(score)
    G = int(np.max(group)) + 1
    return AnalysisData(
        score=np.asarray(score, dtype=float), label=np.asarray(label, dtype=np.int8),
        group=np.asarray(group, dtype=np.int32), group_names=[f"G{g}" for g in range(G)],
        weight=np.ones(n) if weight is None else np.asarray(weight, dtype=float),
        row_numbers=np.arange(n, dtype=np.int64) + 2,
        mapping=ColumnMapping(score="s", label="y", groups=["g"],
                              split="part" if split is not None else None,
                              higher_is_positive=higher_is_positive),
        split=split, n_input_rows=n)


def synthetic(n, seed, shift=0.0):
    """Two groups; p = σ(x), y ~ Bernoulli(p): the score is a calibrated probability."""
    rng = np.random.default_rng(seed)
    group = (rng.random(n) < 0.3).astype(int)
    x = rng.normal(size=n) + shift * group
    p = 1 / (1 + np.exp(-1.5 * x))
    y = (rng.random(n) < p).astype(int)
    return p, group, y


# ------------------------------------------------------------------ quantile and sets

@pytest.mark.parametrize("n", [1, 5, 9, 10, 19, 20, 99, 250])
@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.2, 0.5])
def test_quantile_is_the_k_th_smallest(n, alpha):
    rng = np.random.default_rng(n)
    s = rng.random(n)
    q, level = conformal_quantile(s, alpha)
    k = math.ceil((n + 1) * (1 - alpha) - 1e-9)  # the textbook rank
    assert level == pytest.approx(k / n)
    if k > n:
        assert q == math.inf
    else:
        assert q == np.sort(s)[k - 1]


def test_level_is_exact_in_floating_point():
    # (9 + 1)(1 − 0.1) = 9.000000000000002 in floating point: still the 9th of 9
    assert conformal_level(9, 0.1) == 1.0
    assert conformal_quantile(np.arange(9.0), 0.1)[0] == 8.0
    assert conformal_level(8, 0.1) > 1
    with pytest.raises(FairDeskError):
        conformal_level(10, 1.5)


def test_integer_weights_equal_repeated_rows():
    rng = np.random.default_rng(3)
    s = rng.random(60)
    w = rng.integers(1, 5, 60)
    for alpha in (0.05, 0.1, 0.3):
        assert conformal_quantile(s, alpha, w.astype(float)) == conformal_quantile(
            np.repeat(s, w), alpha)


def test_sets_against_a_naive_loop():
    rng = np.random.default_rng(4)
    p = np.concatenate([rng.random(300), [0.0, 1.0, 0.5, 0.25, 0.75]])
    for qhat in (0.1, 0.25, 0.5, 0.6, 0.9, math.inf):
        codes = prediction_sets(p, qhat)
        for i, pi in enumerate(p):
            members = {y for y in (0, 1) if nonconformity(pi, y) <= qhat}
            key = "{" + ",".join(str(y) for y in sorted(members)) + "}"
            assert CODE_OF[key] == codes[i]
        y = rng.integers(0, 2, p.size)
        np.testing.assert_array_equal(covered(codes, y),
                                      [nonconformity(pi, yi) <= qhat for pi, yi in zip(p, y)])


@pytest.mark.parametrize("k,n", [(0, 10), (10, 10), (3, 10), (45, 50), (900, 1000), (1, 7)])
def test_clopper_pearson_equals_scipy_exact_interval(k, n):
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
    assert clopper_pearson(k, n) == pytest.approx((ci.low, ci.high), abs=1e-12)
    assert all(math.isnan(x) for x in clopper_pearson(0, 0))


# ------------------------------------------------------------------ the guarantee

@pytest.mark.parametrize("n,proportions,splits", [(120, (0, 0.25, 0.75), 400),
                                                  (900, None, 200)])
def test_coverage_guarantee_over_many_seeded_splits(n, proportions, splits):
    """Split conformal: E[coverage] ≥ 1 − α, and ≤ 1 − α + 1/(n_cal + 1) with continuous
    scores; averaged over many seeded random splits of fresh synthetic data (the reference
    group's test rows). With about 21 calibration rows the finite-sample correction is about
    0.045, so a quantile taken at level 1 − α instead of ⌈(n + 1)(1 − α)⌉ / n fails the
    lower bound."""
    alpha = 0.1
    values, n_cals = [], []
    for seed in range(splits):
        p, group, y = synthetic(n, seed)
        data = make_data(p, group, y)
        res = run_conformal(data, data.oriented, 0, alpha=alpha, proportions=proportions,
                            rng=np.random.default_rng(10_000 + seed))
        values.append(res.coverage["value"])
        n_cals.append(res.n_split[0, CALIBRATION])
    values = np.array(values)
    se = values.std(ddof=1) / math.sqrt(values.size)
    upper = np.mean(1 - alpha + 1 / (np.array(n_cals) + 1))
    assert values.mean() >= 1 - alpha - 3 * se
    assert values.mean() <= upper + 3 * se


def test_coverage_guarantee_with_a_fitted_calibration():
    """A score that is not a probability (shifted and scaled) goes through the logistic
    calibration fitted on the training split; the guarantee still holds."""
    alpha = 0.2
    values = []
    for seed in range(120):
        p, group, y = synthetic(900, seed)
        score = 10 * np.log(p / (1 - p)) + 50
        data = make_data(score, group, y)
        res = run_conformal(data, data.oriented, 0, alpha=alpha, probability="auto",
                            rng=np.random.default_rng(seed))
        assert res.method == "logistic"
        values.append(res.coverage["value"])
    values = np.array(values)
    se = values.std(ddof=1) / math.sqrt(values.size)
    assert values.mean() >= 1 - alpha - 3 * se
    assert values.mean() <= 1 - alpha + 0.02 + 3 * se


def test_transported_group_is_judged_by_the_reference_quantile():
    p, group, y = synthetic(6000, 1, shift=-1.0)
    data = make_data(p, group, y)
    res = run_transport(data, TransportSettings(reference="G0", alpha=0.1, seed=3))
    c = res.conformal
    # the reference's sets do not change; the other group's shares move toward the reference's
    np.testing.assert_array_equal(c.shares_original[0], c.shares_transported[0])
    before = np.abs(c.shares_original[1] - c.shares_original[0]).sum()
    after = np.abs(c.shares_transported[1] - c.shares_original[0]).sum()
    assert after < 0.3 * before
    # shares of each kind of set are of the group's test rows and add up to 1
    assert c.shares_original.sum(axis=1) == pytest.approx(np.ones(2))
    test = c.split_codes == TEST
    g1 = test & (data.group == 1)
    assert c.shares_transported[1, 2] == pytest.approx(np.mean(c.sets_transported[g1] == 3))


# ------------------------------------------------------------------ calibration

def test_logistic_fit_matches_a_direct_likelihood_maximisation():
    rng = np.random.default_rng(5)
    x = rng.normal(3, 2, 2000)
    y = (rng.random(2000) < 1 / (1 + np.exp(-(0.8 * x - 2)))).astype(float)
    w = rng.integers(1, 3, 2000).astype(float)
    a, b = fit_logistic(x, y, w)

    def nll(beta):
        eta = beta[0] + beta[1] * x
        return np.sum(w * (np.logaddexp(0, eta) - y * eta))
    ref = optimize.minimize(nll, [0.0, 0.0], method="BFGS").x
    assert (a, b) == pytest.approx(tuple(ref), abs=1e-3)


def test_isotonic_fit_on_deciles_is_the_pooled_rate():
    rng = np.random.default_rng(6)
    x = rng.integers(1, 11, 5000).astype(float)
    y = (rng.random(5000) < x / 12).astype(float)
    kx, ky = fit_isotonic(x, y, np.ones(5000))
    assert np.all(np.diff(ky) >= 0)
    rates = pd.Series(y).groupby(x).mean()
    if np.all(np.diff(rates.to_numpy()) >= 0):  # already monotone: the per-value rates
        np.testing.assert_allclose(ky, rates.to_numpy())


def test_compas_deciles_use_the_calibration_path():
    frame = pd.read_csv(SHARED / "compas_two_year.csv")
    data = prepare(frame, ColumnMapping(score="decile_score", label="two_year_recid",
                                        groups=["race"]))
    for method in ("auto", "isotonic"):
        res = run_transport(data, TransportSettings(reference="Caucasian", probability=method,
                                                    seed=1))
        c = res.conformal
        assert c.method == ("logistic" if method == "auto" else "isotonic")
        p = c.calibrator.predict(np.arange(1.0, 11.0))
        assert np.all(np.diff(p) >= 0) and p[0] < 0.35 < 0.6 < p[-1]
        assert c.coverage["low"] <= c.coverage["value"] <= c.coverage["high"]
        assert c.coverage["high"] > 0.9 - 0.03  # a sound coverage (n ≈ 630)
    with pytest.raises(FairDeskError, match="cannot be used as a probability"):
        run_transport(data, TransportSettings(reference="Caucasian", probability="score"))


# ------------------------------------------------------------------ splits

def test_split_column_with_configured_values():
    values = np.array(["Fit", "cal", "Holdout", "fit", None, "fold3", "holdout"], dtype=object)
    rows = np.arange(2, 9)
    sv = {"train": ["fit"], "calibration": ["cal"], "test": ["holdout"]}
    with pytest.raises(FairDeskError) as err:
        split_from_column(values, rows, "part", sv)
    msg = str(err.value)
    assert "'part'" in msg and "'fold3'" in msg and "empty cells" in msg and "rows 6, 7" in msg
    codes = split_from_column(values[:4], rows[:4], "part", sv)
    np.testing.assert_array_equal(codes, [TRAIN, CALIBRATION, TEST, TRAIN])
    with pytest.raises(FairDeskError, match="both as train and as test"):
        split_from_column(values[:4], rows[:4], "part", {"train": ["a"], "test": ["A"]})
    # numbers in a split column: 1.0 reads as "1"
    codes = split_from_column(np.array([1.0, 2.0, 3.0]), rows[:3], "part",
                              {"train": ["1"], "calibration": ["2"], "test": ["3"]})
    np.testing.assert_array_equal(codes, [0, 1, 2])


def test_random_split_proportions_per_group():
    group = np.repeat([0, 1, 2], [1000, 301, 10])
    codes = random_split(group, 3, (0.4, 0.3, 0.3), np.random.default_rng(0))
    for g, n in enumerate((1000, 301, 10)):
        counts = np.bincount(codes[group == g], minlength=3)
        assert counts[0] == round(0.4 * n) and counts[0] + counts[1] == round(0.7 * n)
    again = random_split(group, 3, (0.4, 0.3, 0.3), np.random.default_rng(0))
    np.testing.assert_array_equal(codes, again)


def test_split_column_without_calibration_rows():
    p, group, y = synthetic(2000, 2)
    split = np.where(np.random.default_rng(1).random(2000) < 0.6, "train", "test").astype(object)
    data = make_data(p, group, y, split=split)
    res = run_conformal(data, data.oriented, 0, alpha=0.1)
    ref_train = (split == "train") & (group == 0)
    assert res.n_split[0, CALIBRATION] == ref_train.sum()  # probability: all of train
    assert "training rows form the calibration split" in " ".join(res.split_notes)
    score = 3 * p + 1  # not a probability: half of the training rows calibrate
    res = run_conformal(make_data(score, group, y, split=split), 3 * p + 1, 0, alpha=0.1)
    assert res.n_split[0, CALIBRATION] == ref_train.sum() // 2
    assert res.n_split[0, TRAIN] == ref_train.sum() - ref_train.sum() // 2
    only_train = np.array(["train"] * 2000, dtype=object)
    with pytest.raises(FairDeskError, match="no test rows"):
        run_conformal(make_data(p, group, y, split=only_train), p, 0)


def test_too_small_calibration_split_gives_full_sets():
    p, group, y = synthetic(60, 3)
    data = make_data(p, group, y)
    res = run_conformal(data, p, 0, alpha=0.01, proportions=(0, 0.5, 0.5),
                        rng=np.random.default_rng(0))
    assert res.qhat == math.inf
    assert res.shares_original[:, SET_KEYS.index("{0,1}")] == pytest.approx(1.0)
    assert any("too few" in w for w in res.warnings)
