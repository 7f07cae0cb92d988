"""Score and feature transport (Berk, Kuchibhotla & Tchetgen Tchetgen 2021), Berk-style
confusion tables and the cost-ratio threshold, the transport subcommand and its tables."""

import itertools
import json
import math

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SHARED
from fairdesk.cli import main
from fairdesk.dataset import AnalysisData
from fairdesk.engines.confusion_tables import confusion_tables, cost_ratio_threshold
from fairdesk.engines.transport import (FeatureSettings, TransportSettings, batch_assignment,
                                        feature_matrix, fit_score_map, run_feature_transport,
                                        run_transport, selection_gap)
from fairdesk.errors import FairDeskError
from fairdesk.metrics.confusion import GroupScores
from fairdesk.metrics.rates import undefined_reason
from fairdesk.reports.transport_report import (feature_tables, transport_tables,
                                               write_transported_rows)
from fairdesk.reports.workbook import write_workbook
from fairdesk.schema import ColumnMapping
from fairdesk.validation import prepare

ADULT = SHARED / "adult_scores.csv"
COMPAS = SHARED / "compas_two_year.csv"


@pytest.fixture(scope="module")
def adult():
    return prepare(pd.read_csv(ADULT), ColumnMapping(score="score", label="outcome",
                                                     groups=["group"]))


@pytest.fixture(scope="module")
def compas_frame():
    return pd.read_csv(COMPAS)


@pytest.fixture(scope="module")
def compas(compas_frame):
    return prepare(compas_frame, ColumnMapping(score="decile_score", label="two_year_recid",
                                               groups=["race"], extras=["age", "priors_count"]))


def make_data(score, group, label=None, weight=None, names=None, extras=None, split=None,
              higher_is_positive=True):
    score = np.asarray(score, dtype=float)
    group = np.asarray(group, dtype=np.int32)
    n = score.size
    G = int(group.max()) + 1
    return AnalysisData(
        score=score, label=None if label is None else np.asarray(label, dtype=np.int8),
        group=group, group_names=names or [f"G{g}" for g in range(G)],
        weight=np.ones(n) if weight is None else np.asarray(weight, dtype=float),
        row_numbers=np.arange(n, dtype=np.int64) + 2,
        mapping=ColumnMapping(score="s", label="y" if label is not None else None, groups=["g"],
                              split="split" if split is not None else None,
                              higher_is_positive=higher_is_positive),
        weighted=weight is not None, extras=extras or {}, split=split, n_input_rows=n)


# ------------------------------------------------------------------ naive references

def naive_qq(score, group, weight, ref):
    """Quantile–quantile map by loops: mid-rank share within the group, then the smallest
    reference score whose cumulative share reaches it."""
    out = np.empty(score.size)
    rs = score[group == ref]
    rw = weight[group == ref]
    W_ref = rw.sum()
    for i in range(score.size):
        g = group[i]
        if g == ref:
            out[i] = score[i]
            continue
        m = group == g
        below = weight[m & (score < score[i])].sum()
        same = weight[m & (score == score[i])].sum()
        u = (below + same / 2) / weight[m].sum()
        best = None
        for v in sorted(set(rs)):
            if rw[rs <= v].sum() / W_ref >= u * (1 - 1e-12):
                best = v
                break
        out[i] = best if best is not None else max(rs)
    return out


def naive_gap(a, wa, b, wb):
    best = 0.0
    for t in np.union1d(a, b):
        best = max(best, abs(wa[a >= t].sum() / wa.sum() - wb[b >= t].sum() / wb.sum()))
    return best


# ------------------------------------------------------------------ score transport

def test_shifted_copy_is_mapped_back_exactly():
    """A group whose scores are the reference's shifted by 0.3 is mapped onto the reference
    scores exactly (the known map T(s) = s − 0.3)."""
    rng = np.random.default_rng(1)
    ref = rng.normal(size=400)
    shifted = rng.permutation(ref) + 0.3
    score = np.concatenate([ref, shifted])
    group = np.repeat([0, 1], 400)
    smap, out = fit_score_map(score, group, 2, 0)
    np.testing.assert_array_equal(out[:400], ref)  # the reference stays put
    np.testing.assert_allclose(out[400:], shifted - 0.3, atol=1e-12)
    # every transported score is one of the reference's own scores
    assert np.isin(out[400:], ref).all()
    # new scores between the fitted ones: the same shift (linear interpolation)
    new = np.sort(rng.uniform(shifted.min(), shifted.max(), 50))
    np.testing.assert_allclose(smap.transform(new, np.ones(50, int)), new - 0.3, atol=0.05)


def test_shifted_copy_with_different_sizes_is_close_to_the_shift():
    rng = np.random.default_rng(2)
    ref = rng.normal(size=20000)
    other = rng.normal(size=5000) + 1.5
    score = np.concatenate([ref, other])
    group = np.repeat([0, 1], [20000, 5000])
    _, out = fit_score_map(score, group, 2, 0)
    err = np.abs(out[20000:] - (other - 1.5))
    assert err.mean() < 0.03  # sampling error of two empirical quantile functions
    inner = np.abs(other - 1.5) < 1.5  # away from the sparse tails
    assert err[inner].max() < 0.12


def test_matches_a_naive_quantile_map_with_weights_and_ties():
    rng = np.random.default_rng(3)
    n = 240
    score = rng.integers(0, 25, n).astype(float) / 4  # many ties
    group = rng.integers(0, 3, n)
    weight = rng.integers(1, 4, n).astype(float)
    for ref in range(3):
        _, out = fit_score_map(score, group, 3, ref, weight)
        np.testing.assert_array_equal(out, naive_qq(score, group, weight, ref))


def test_weights_count_as_people():
    """Integer weights give the same map as the rows repeated that many times."""
    rng = np.random.default_rng(4)
    score = rng.normal(size=300)
    group = rng.integers(0, 2, 300)
    weight = rng.integers(1, 5, 300)
    _, out_w = fit_score_map(score, group, 2, 0, weight.astype(float))
    rep = np.repeat(np.arange(300), weight)
    _, out_r = fit_score_map(score[rep], group[rep], 2, 0)
    first = np.searchsorted(rep, np.arange(300))
    np.testing.assert_array_equal(out_w, out_r[first])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(-20, 20), st.integers(1, 3)),
                min_size=6, max_size=60),
       st.sampled_from(["together", "random"]), st.integers(0, 5))
def test_transport_never_reverses_the_order_within_a_group(rows, ties, seed):
    group = np.array([r[0] for r in rows])
    score = np.array([r[1] for r in rows], dtype=float) / 3
    weight = np.array([r[2] for r in rows], dtype=float)
    if not (group == 0).any():
        group[0] = 0
    G = int(group.max()) + 1
    smap, out = fit_score_map(score, group, G, 0, weight, ties=ties, seed=seed)
    for g in range(G):
        m = group == g
        s, t = score[m], out[m]
        i, j = np.meshgrid(np.arange(s.size), np.arange(s.size))
        assert not np.any((s[i] < s[j]) & (t[i] > t[j]))  # never reversed
        if ties == "together":
            assert not np.any((s[i] == s[j]) & (t[i] != t[j]))  # equal stays equal
    # the interpolated map is non-decreasing for new scores too (up to the rounding of a
    # linear interpolation: a step of -4e-16 was found between two knots)
    grid = np.linspace(score.min() - 1, score.max() + 1, 101)
    for g in range(G):
        assert np.all(np.diff(smap.transform(grid, np.full(grid.size, g))) >= -1e-12)


def test_map_of_new_rows():
    score = np.array([0.0, 1.0, 2.0, 3.0, 10.0, 20.0, 30.0, 40.0])
    group = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    smap, out = fit_score_map(score, group, 2, 0)
    np.testing.assert_array_equal(out[4:], [0.0, 1.0, 2.0, 3.0])
    t = smap.transform(np.array([5.0, 15.0, 25.0, 100.0, 10.0]), np.ones(5, int))
    np.testing.assert_allclose(t, [0.0, 0.5, 1.5, 3.0, 0.0])  # constant beyond, linear between
    assert smap.transform(np.array([7.5]), np.array([0]))[0] == 7.5  # reference: identity


def test_prediction_parity_after_transport(adult):
    """Adult's fitted probabilities have ties (same age and education): with ties broken at
    random parity holds at every threshold up to 1/n; with ties moving together, nearly."""
    res = run_transport(adult, TransportSettings(reference="APW", ties="random"))
    together = run_transport(adult, TransportSettings(reference="APW"))
    ref = adult.group_names.index("APW")
    for g, name in enumerate(adult.group_names):
        n_g = int((adult.group == g).sum())
        assert res.gap_after[g] <= 1 / n_g + 1e-12, name  # at every threshold
        assert together.gap_after[g] < 0.02
        if g != ref:
            assert res.gap_before[g] > 0.3
    # brute force on one group: the selection gap over every threshold
    m, r = adult.group == 0, adult.group == ref
    w = adult.weight
    assert res.gap_after[0] == pytest.approx(naive_gap(res.transported[m], w[m],
                                                       adult.score[r], w[r]))
    assert selection_gap(adult.score[m], None, adult.score[r], None) == pytest.approx(
        naive_gap(adult.score[m], w[m], adult.score[r], w[r]))
    # at the threshold: everyone is flagged at the reference group's rate
    sel = res.rates_after["selection_rate"]
    assert np.all(np.abs(sel - sel[ref]) <= res.gap_after + 1e-12)
    assert abs(res.rates_before["selection_rate"][0] - sel[ref]) > 0.1


def test_random_ties_give_parity_for_decile_scores(compas):
    together = run_transport(compas, TransportSettings(reference="Caucasian"))
    rnd = run_transport(compas, TransportSettings(reference="Caucasian", ties="random", seed=7))
    again = run_transport(compas, TransportSettings(reference="Caucasian", ties="random", seed=7))
    other = run_transport(compas, TransportSettings(reference="Caucasian", ties="random", seed=8))
    aa = compas.group_names.index("African-American")
    assert together.gap_after[aa] > 0.02  # deciles move together: parity only approximate
    assert any("random tie-breaking" in w for w in together.warnings)
    for g in range(compas.n_groups):
        assert rnd.gap_after[g] <= 1 / (compas.group == g).sum() + 1e-12
    np.testing.assert_array_equal(rnd.transported, again.transported)  # seeded
    assert not np.array_equal(rnd.transported, other.transported)


def test_lower_is_riskier_scores(adult):
    flipped = make_data(1 - adult.score, adult.group, adult.label, names=adult.group_names,
                        higher_is_positive=False)
    a = run_transport(adult, TransportSettings(reference="APW", threshold=0.5, ties="random"))
    b = run_transport(flipped, TransportSettings(reference="APW", threshold=0.5, ties="random",
                                                 probability="logistic"))
    for g in range(adult.n_groups):
        assert b.rates_after["selection_rate"][g] == pytest.approx(
            a.rates_after["selection_rate"][g], abs=2 / (adult.group == g).sum())


def test_fit_on_the_training_split_maps_the_other_rows():
    rng = np.random.default_rng(5)
    n = 4000
    group = rng.integers(0, 2, n)
    score = rng.beta(2, 5, n) + 0.2 * group
    split = np.where(rng.random(n) < 0.5, "train", "test").astype(object)
    data = make_data(score, group, split=split)
    res = run_transport(data, TransportSettings(reference="G0", fit_on="train", threshold=0.4))
    smap = res.score_map
    train = split == "train"
    # the maps are fitted on training rows only; test rows go through the interpolation
    np.testing.assert_array_equal(res.transported[~train & (group == 1)],
                                  smap.transform(score[~train & (group == 1)], group[~train & (group == 1)]))
    assert res.gap_after[1] < 0.05
    with pytest.raises(FairDeskError, match="split column"):
        run_transport(make_data(score, group), TransportSettings(fit_on="train"))


def test_reference_errors(adult):
    with pytest.raises(FairDeskError, match="'XYZ' is not a group.*'APW'"):
        run_transport(adult, TransportSettings(reference="XYZ"))


def test_without_labels_only_selection(adult):
    data = make_data(adult.score, adult.group, names=adult.group_names)
    res = run_transport(data, TransportSettings(reference="APW", ties="random"))
    out = res.to_json()
    assert out["conformal"] is None and out["coverage"] is None and out["confusion"] is None
    assert any("label" in w for w in out["warnings"])
    assert out["selection_rate"]["BLK"]["after"] == pytest.approx(
        out["selection_rate"]["APW"]["after"], abs=1 / 3124)


def test_same_result_with_the_same_seed(adult):
    s = TransportSettings(reference="APW", seed=11, ties="random")
    a, b = run_transport(adult, s), run_transport(adult, s)
    assert json.dumps(a.to_json()) == json.dumps(b.to_json())


# ------------------------------------------------------------------ Berk confusion tables

def test_confusion_tables_reproduce_the_known_compas_rates(compas_frame, compas):
    """ProPublica's figures (../shared/data/README.md): decile_score >= 5 flagged."""
    t = confusion_tables(GroupScores.from_data(compas), 5.0, compas.group_names)
    r = t.rates()
    aa = compas.group_names.index("African-American")
    ca = compas.group_names.index("Caucasian")
    assert r["fpr"][aa] == pytest.approx(0.4234, abs=5e-5)
    assert r["fpr"][ca] == pytest.approx(0.2201, abs=5e-5)
    assert r["fnr"][aa] == pytest.approx(0.2848, abs=5e-5)
    assert r["fnr"][ca] == pytest.approx(0.4964, abs=5e-5)
    # every count and rate against pandas
    f = compas_frame.assign(flag=compas_frame.decile_score >= 5, y=compas_frame.two_year_recid == 1)
    for g, name in enumerate(compas.group_names):
        sub = f[f.race == name]
        tp = int((sub.flag & sub.y).sum())
        fp = int((sub.flag & ~sub.y).sum())
        fn = int((~sub.flag & sub.y).sum())
        tn = int((~sub.flag & ~sub.y).sum())
        assert (t.tp[g], t.fp[g], t.fn[g], t.tn[g]) == (tp, fp, fn, tn)
        assert r["fdr"][g] == pytest.approx(fp / (fp + tp) if fp + tp else np.nan, nan_ok=True)
        assert r["for"][g] == pytest.approx(fn / (fn + tn) if fn + tn else np.nan, nan_ok=True)
        assert r["cost_ratio"][g] == pytest.approx(fp / fn if fn else np.nan, nan_ok=True)
        assert r["error"][g] == pytest.approx((fp + fn) / len(sub))


def naive_cost_ratio(score, y, w, target):
    best = (math.inf, None)
    for t in sorted(set(score)):
        flag = score >= t
        fp = w[flag & (y == 0)].sum()
        fn = w[~flag & (y == 1)].sum()
        if fp > 0 and fn > 0:
            d = abs(math.log(fp / fn) - math.log(target))
            if d < best[0]:
                best = (d, (t, fp / fn, fp, fn))
    return best[1]


@pytest.mark.parametrize("target", [8.0, 1.0, 0.25, 20.0])
def test_cost_ratio_threshold_against_brute_force(target):
    rng = np.random.default_rng(int(target * 10))
    score = np.round(rng.random(500), 2)
    y = (rng.random(500) < score).astype(int)
    w = rng.integers(1, 3, 500).astype(float)
    cr = cost_ratio_threshold(score, y, w, target)
    t, ratio, fp, fn = naive_cost_ratio(score, y, w, target)
    assert (cr.threshold, cr.achieved, cr.fp, cr.fn) == pytest.approx((t, ratio, fp, fn))


def test_cost_ratio_on_adult(adult):
    res = run_transport(adult, TransportSettings(reference="APW", target_cost_ratio=8))
    cr = res.cost_ratio
    assert cr.achieved == pytest.approx(8, rel=0.05)
    ref = adult.group_names.index("APW")
    t = res.tables_cost_before
    assert t.fp[ref] / t.fn[ref] == pytest.approx(cr.achieved)
    assert res.to_json()["cost_ratio_threshold"]["threshold"] == pytest.approx(cr.threshold)
    with pytest.raises(FairDeskError, match="positive number"):
        cost_ratio_threshold(adult.score, adult.label, None, -1)


# ------------------------------------------------------------------ feature transport

@pytest.mark.parametrize("n,d,seed", [(5, 2, 0), (12, 3, 1), (30, 4, 2), (40, 1, 3)])
def test_batch_assignment_equals_pot_emd(n, d, seed):
    ot = pytest.importorskip("ot")
    rng = np.random.default_rng(seed)
    xs = rng.normal(size=(n, d))
    xr = rng.normal(size=(n, d)) + 0.7
    col, cost = batch_assignment(xs, xr)
    M = ot.dist(xs, xr)  # squared Euclidean
    a = np.full(n, 1 / n)
    plan = ot.emd(a, a, M)
    assert cost / n == pytest.approx(ot.emd2(a, a, M), rel=1e-10)
    assert cost / n == pytest.approx(float((plan * M).sum()), rel=1e-10)
    mine = np.zeros((n, n))
    mine[np.arange(n), col] = 1 / n
    np.testing.assert_allclose(mine, plan, atol=1e-12)  # the optimum is unique here
    assert sorted(col) == list(range(n))


def test_batch_assignment_against_all_permutations():
    rng = np.random.default_rng(9)
    xs, xr = rng.normal(size=(6, 2)), rng.normal(size=(6, 2))
    col, cost = batch_assignment(xs, xr)
    best = min(sum(((xs[i] - xr[p[i]]) ** 2).sum() for i in range(6))
               for p in itertools.permutations(range(6)))
    assert cost == pytest.approx(best)


def gaussian_features(n_ref=3000, n_other=2000, seed=0):
    rng = np.random.default_rng(seed)
    cov = np.array([[1.0, 0.6], [0.6, 1.0]])
    ref = rng.multivariate_normal([0, 0], cov, n_ref)
    other = rng.multivariate_normal([0, 0], [[2.0, -0.5], [-0.5, 0.5]], n_other) + [1.5, -1.0]
    X = np.vstack([ref, other])
    group = np.repeat([0, 1], [n_ref, n_other])
    score = rng.random(X.shape[0])
    return make_data(score, group, extras={"x1": X[:, 0], "x2": X[:, 1]}), X


def test_feature_transport_moves_the_group_onto_the_reference():
    data, X = gaussian_features()
    s = FeatureSettings(features=("x1", "x2"), reference="G0", batch_size=500, rounds=3,
                        neighbours=5, seed=3, workers=2)
    res = run_feature_transport(data, s)
    ref, oth = data.group == 0, data.group == 1
    np.testing.assert_array_equal(res.transported[ref], X[ref])  # the reference stays
    t = res.transported[oth]
    assert np.abs(t.mean(axis=0) - X[ref].mean(axis=0)).max() < 0.1
    assert abs(np.corrcoef(t.T)[0, 1] - 0.6) < 0.1  # the reference's correlation, not -0.5
    assert np.abs(t.std(axis=0) - X[ref].std(axis=0)).max() < 0.15
    assert res.batches["G1"] == 3 * 4  # ceil(2000 / 500) batches per round
    assert res.matched_rows["G1"] == 2000
    # the same seed gives the same result whatever the number of threads
    single = run_feature_transport(data, FeatureSettings(**{**s.__dict__, "workers": 1}))
    np.testing.assert_array_equal(single.transported, res.transported)
    other = run_feature_transport(data, FeatureSettings(**{**s.__dict__, "seed": 4}))
    assert not np.array_equal(other.transported, res.transported)
    # the batch costs are those of optimal plans: never above a random matching's
    assert np.mean(res.batch_cost["G1"]) < np.mean(((X[oth][:500] - X[ref][:500]) ** 2).sum(1))


def test_feature_transport_approximates_the_known_gaussian_map():
    """Between two Gaussians the optimal transport map is known and linear:
    T(x) = m₂ + A(x − m₁), A = S₁^{-1/2}(S₁^{1/2} S₂ S₁^{1/2})^{1/2} S₁^{-1/2}."""
    from scipy.linalg import sqrtm

    rng = np.random.default_rng(12)
    S1 = np.array([[2.0, -0.8], [-0.8, 1.0]])
    S2 = np.array([[1.0, 0.7], [0.7, 1.5]])
    m1, m2 = np.array([1.0, -1.0]), np.array([0.0, 0.5])
    ref = rng.multivariate_normal(m2, S2, 4000)
    oth = rng.multivariate_normal(m1, S1, 2000)
    X = np.vstack([ref, oth])
    group = np.repeat([0, 1], [4000, 2000])
    data = make_data(rng.random(6000), group, extras={"a": X[:, 0], "b": X[:, 1]})
    r = np.real(sqrtm(S1))
    ri = np.linalg.inv(r)
    A = ri @ np.real(sqrtm(r @ S2 @ r)) @ ri
    true = m2 + (oth - m1) @ A.T
    res = run_feature_transport(data, FeatureSettings(features=("a", "b"), reference="G0",
                                                      batch_size=1000, rounds=3, seed=5))
    est = res.transported[group == 1]
    rmse = np.sqrt(((est - true) ** 2).sum(1).mean())
    shift_only = np.sqrt(((oth - m1 + m2 - true) ** 2).sum(1).mean())  # means moved, no more
    spread = np.sqrt(((true - true.mean(0)) ** 2).sum(1).mean())
    assert rmse < 0.15 * spread and rmse < 0.25 * shift_only


def test_feature_transport_standardized_and_weighted():
    data, X = gaussian_features(800, 600, seed=1)
    data.extras["x2"] = data.extras["x2"] * 1000  # very different units
    data.weight = np.where(np.arange(data.n) % 3 == 0, 2.0, 1.0)
    s = FeatureSettings(features=("x1", "x2"), reference="G0", batch_size=300, rounds=2, seed=0,
                        standardize=True)
    res = run_feature_transport(data, s)
    assert res.scale[1] > 100 * res.scale[0]
    oth = data.group == 1
    mean_ref = np.average(res.original[data.group == 0], axis=0,
                          weights=data.weight[data.group == 0])
    mean_t = np.average(res.transported[oth], axis=0, weights=data.weight[oth])
    assert abs(mean_t[0] - mean_ref[0]) < 0.2
    assert abs(mean_t[1] - mean_ref[1]) < 200


def test_feature_errors_name_the_column_and_rows():
    data, _ = gaussian_features(50, 50)
    bad = data.extras["x1"].astype(object)
    bad[[3, 7]] = np.nan
    data.extras["x1"] = bad
    with pytest.raises(FairDeskError, match=r"Column 'x1': 2 row\(s\).*rows 5, 9"):
        feature_matrix(data, ["x1"])
    with pytest.raises(FairDeskError, match="not mapped as an extra"):
        feature_matrix(data, ["nope"])
    data.extras["txt"] = np.array(["a"] * data.n, dtype=object)
    with pytest.raises(FairDeskError, match="'txt' is not numeric"):
        feature_matrix(data, ["txt"])
    with pytest.raises(FairDeskError, match="at least one feature"):
        feature_matrix(data, [])


def test_compas_features(compas):
    s = FeatureSettings(features=("age", "priors_count"), reference="Caucasian", batch_size=500,
                        rounds=2, seed=1)
    res = run_feature_transport(compas, s)
    aa = compas.group == compas.group_names.index("African-American")
    ca = compas.group == compas.group_names.index("Caucasian")
    before = abs(res.original[aa, 1].mean() - res.original[ca, 1].mean())
    after = abs(res.transported[aa, 1].mean() - res.original[ca, 1].mean())
    assert after < 0.2 * before  # priors: 4.2 vs 2.3 before


# ------------------------------------------------------------------ command line and tables

def run_cli(capsys, *args):
    code = main(["transport", *map(str, args)])
    out = capsys.readouterr()
    return code, out


def test_cli_json(capsys):
    code, out = run_cli(capsys, ADULT, "--score", "score", "--label", "outcome", "--group", "group",
                        "--reference", "APW", "--threshold", "0.5", "--alpha", "0.1", "--seed", "4",
                        "--json")
    assert code == 0, out.err
    j = json.loads(out.out)
    assert j["reference"] == "APW"
    assert set(j["selection_rate"]) == {"ANO", "APW", "BLK"}
    for name, v in j["selection_rate"].items():
        assert set(v) == {"before", "after"}
    assert j["selection_rate"]["BLK"]["before"] == pytest.approx(0.0141, abs=1e-4)
    assert abs(j["selection_rate"]["BLK"]["after"] - j["selection_rate"]["APW"]["after"]) < 0.01
    for name, v in j["conformal"].items():
        for key in ("original", "transported"):
            assert set(v[key]) == {"{0}", "{1}", "{0,1}", "{}"}
            assert sum(v[key].values()) == pytest.approx(1.0)
    c = j["coverage"]
    assert c["low"] <= c["value"] <= c["high"] and 0.87 < c["value"] < 0.93
    assert j["conformal_details"]["probability"] == "score"


def test_cli_without_label_and_with_features(capsys, tmp_path):
    code, out = run_cli(capsys, COMPAS, "--score", "decile_score", "--group", "race",
                        "--reference", "Caucasian", "--json", "--feature", "age,priors_count",
                        "--rounds", "1", "--batch-size", "400",
                        "--rows-out", tmp_path / "rows.csv")
    assert code == 0, out.err
    j = json.loads(out.out)
    assert j["conformal"] is None and j["coverage"] is None
    assert any("need the observed outcome" in w for w in j["warnings"])
    assert j["features"]["features"] == ["age", "priors_count"]
    rows = pd.read_csv(tmp_path / "rows.csv", encoding="utf-8-sig")
    assert list(rows.columns[:4]) == ["Spreadsheet row", "Group", "decile_score",
                                      "Transported score"]
    assert "priors_count (transported)" in rows.columns


def test_cli_errors(capsys):
    code, out = run_cli(capsys, ADULT, "--score", "score", "--label", "outcome", "--group", "group",
                        "--reference", "White")
    assert code == 2 and "'White' is not a group" in out.err
    code, out = run_cli(capsys, ADULT, "--score", "score", "--label", "outcome", "--group", "group",
                        "--reference", "APW", "--split-proportions", "1,2")
    assert code == 2 and "three numbers" in out.err


def test_cli_text_and_workbook(capsys, tmp_path):
    xlsx = tmp_path / "t.xlsx"
    code, out = run_cli(capsys, COMPAS, "--score", "decile_score", "--label", "two_year_recid",
                        "--group", "race", "--reference", "Caucasian", "--out", xlsx,
                        "--feature", "age", "--rounds", "1", "--batch-size", "400")
    assert code == 0, out.err
    assert "Coverage on the test split of 'Caucasian'" in out.out
    wb = openpyxl.load_workbook(xlsx)
    for sheet in ("Transport rates", "Transport map", "Conformal sets", "Conformal splits",
                  "Confusion tables", "Feature transport", "Feature correlations"):
        assert sheet in wb.sheetnames
    about = [r for r in wb["About this workbook"].iter_rows(values_only=True)]
    assert any(r[0] == "transport" for r in about if r and r[0])  # the seed is recorded


def test_tables_and_rows_export(tmp_path, compas, compas_frame):
    res = run_transport(compas, TransportSettings(reference="Caucasian", seed=2))
    fres = run_feature_transport(compas, FeatureSettings(features=("age", "priors_count"),
                                                         reference="Caucasian", rounds=1,
                                                         batch_size=400))
    tables = transport_tables(res, compas) + feature_tables(fres, compas)
    path = write_workbook(tmp_path / "x.xlsx", about={"Test": {"a": 1}}, tables=tables)
    wb = openpyxl.load_workbook(path)
    ws = wb["Confusion tables"]
    values = [c for row in ws.iter_rows(values_only=True) for c in row]
    assert "undefined" in values  # Native American: no false negatives at the mean -> FP/FN 0/0
    rates = tables[0]
    aa = next(r for r in rates.rows if r["group"] == "African-American")
    assert aa["sel_after"] == pytest.approx(res.rates_after["selection_rate"][0])

    class Source:
        path = str(tmp_path / "input.csv")
    out = write_transported_rows(tmp_path / "rows.csv", Source, compas, res, fres)
    rows = pd.read_csv(out, encoding="utf-8-sig")
    np.testing.assert_allclose(rows["Transported score"], res.transported)
    np.testing.assert_allclose(rows["age (transported)"], fres.transported[:, 0])
    assert set(rows["Prediction set (original)"]) <= {"{0}", "{1}", "{0,1}", "{}"}
    with pytest.raises(FairDeskError, match="Nothing to export"):
        write_transported_rows(tmp_path / "r2.csv", Source, compas, None, None)


# ------------------------------------------------------------------ the tables, described once

def test_rate_and_set_tables_hold_the_engine_numbers(compas):
    from fairdesk.present.text import render_table
    from fairdesk.reports.transport_tables import conformal_table, rates_table
    from fairdesk.undefined import Undefined

    res = run_transport(compas, TransportSettings(reference="Caucasian", seed=3))
    table = rates_table(res, compas)
    rows = table.row_dicts()
    assert [r["g"] for r in rows] == list(range(compas.n_groups))
    ref = res.reference
    assert rows[ref]["group"] == "Caucasian (reference)"
    for g, r in enumerate(rows):
        assert r["rows"] == int(np.sum(compas.group == g))
        assert r["sel_before"] == res.rates_before["selection_rate"][g]
        assert r["sel_after"] == res.rates_after["selection_rate"][g]
        assert r["gap_after"] == res.gap_after[g]
        assert r["fnr_before"] == res.rates_before["fnr"][g]
        assert r["sel_ref"] == res.rates_before["selection_rate"][ref]
    # every surface reads a rate the same way
    assert table.column("sel_after").text(rows[0]["sel_after"]) == \
        f"{100 * res.rates_after['selection_rate'][0]:.1f} %"
    text = render_table(table)
    assert f"{100 * res.rates_before['selection_rate'][0]:.1f} %" in text
    # the page's line under the table: one sentence for every group still apart after
    # transport (decile scores move together), not one per group
    from fairdesk.reports.transport_tables import rate_page_notes
    apart = int(np.sum(np.delete(res.gap_after, ref) > 0.02))
    assert apart >= 2 and sum("still differs" in w for w in res.warnings) == apart
    notes, warnings = rate_page_notes(res, compas, False)
    assert len(warnings) == 1  # one warning for them all
    assert f"selection rates of {apart} groups still differ from Caucasian's" in warnings[0]
    assert f"{100 * np.delete(res.gap_after, ref).max():.1f} %" in warnings[0]
    line = " ".join(notes + warnings)
    assert "still differs" not in line
    assert "group-specific" in " ".join(rate_page_notes(res, compas, True)[0])
    # above every score nobody is flagged: PPV is 0/0, undefined with the engine's reason
    high = run_transport(compas, TransportSettings(reference="Caucasian", threshold=11))
    cell = rates_table(high, compas).row_dicts()[0]["ppv_before"]
    assert isinstance(cell, Undefined)
    assert cell.reason == undefined_reason("ppv", compas.group_names[0])
    c = res.conformal
    sets = conformal_table(res).row_dicts()
    assert len(sets) == 2 * compas.n_groups
    for g in range(compas.n_groups):
        orig, tran = sets[2 * g], sets[2 * g + 1]
        assert (orig["scores"], tran["scores"]) == ("original", "transported")
        assert orig["n"] == c.n_eval[g]
        assert [orig[f"s{i}"].value for i in range(4)] == list(c.shares_original[g])
        assert [tran[f"s{i}"].value for i in range(4)] == list(c.shares_transported[g])
        assert (tran["cov"].value, tran["low"], tran["high"]) == \
            tuple(c.coverage_by_group["transported"][g])


def test_berk_table_and_feature_tables(compas):
    from fairdesk.reports.transport_tables import (berk_table, confusion_choice,
                                                   correlation_blocks, correlation_table,
                                                   feature_summary_table, threshold_text)
    from fairdesk.engines.transport import weighted_stats
    from fairdesk.undefined import Undefined

    res = run_transport(compas, TransportSettings(reference="Caucasian", seed=3))
    assert confusion_choice(res, "threshold", "original") is res.tables_before
    assert confusion_choice(res, "cost", "transported") is res.tables_cost_after
    t = res.tables_before
    rates = t.rates()
    for g in range(compas.n_groups):
        rows = berk_table(t, g, compas).row_dicts()
        assert [r["truth"].value for r in rows] == ["Outcome 0", "Outcome 1", "Forecast error"]
        assert (rows[0]["not"].value, rows[0]["flagged"].value) == (t.tn[g], t.fp[g])
        assert (rows[1]["not"].value, rows[1]["flagged"].value) == (t.fn[g], t.tp[g])
        assert rows[0]["error"].value == rates["fpr"][g]
        assert rows[2]["flagged"].value == rates["fdr"][g]
        assert rows[2]["error"].value == rates["error"][g]
        assert rows[0]["flagged"].text() == f"{t.fp[g]:,.0f}"  # whole people without weights
    # nobody flagged: FDR undefined, with its reason
    high = run_transport(compas, TransportSettings(reference="Caucasian", threshold=11))
    fdr = berk_table(high.tables_before, 0, compas).row_dicts()[2]["flagged"].value
    assert isinstance(fdr, Undefined)
    assert fdr.reason == high.tables_before.undefined_reason("fdr", compas.group_names[0])
    # a threshold between decile scores keeps its decimals; one on them reads whole
    assert compas.score_decimals == 0
    assert threshold_text(4.4185, compas) == "4.4185" and threshold_text(4.0, compas) == "4"
    fres = run_feature_transport(compas, FeatureSettings(features=("age", "priors_count"),
                                                         reference="Caucasian", rounds=1,
                                                         batch_size=400))
    g = 0
    m = compas.group == g
    mean_t, sd_t, corr_t = weighted_stats(fres.transported[m], compas.weight[m])
    summary = feature_summary_table(fres, compas, [g]).row_dicts()
    assert [r["feature"] for r in summary] == ["age", "priors_count"]
    assert summary[1]["tran_mean"] == mean_t[1] and summary[0]["tran_sd"] == sd_t[0]
    blocks = correlation_blocks(fres, compas, [g])
    assert [b[0] for b in blocks] == ["Caucasian (reference)", "African-American original",
                                      "African-American transported"]
    matrix = correlation_table(fres, compas, blocks[2]).row_dicts()
    assert matrix[0]["c1"].value == corr_t[0, 1]
    assert "age and priors_count" in matrix[0]["c1"].tip
    # every group but the reference in the workbook's summary
    assert len(feature_summary_table(fres, compas).row_dicts()) == 2 * (compas.n_groups - 1)
