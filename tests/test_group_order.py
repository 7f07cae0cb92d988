"""GroupScores sorts with two stable passes instead of np.lexsort: the permutation must be
lexsort's exactly (ties in row order), so every cumulative sum, and every count, is unchanged."""

import numpy as np
import pytest

from fairdesk.metrics.confusion import GroupScores, group_score_order, stable_score_order
from fairdesk.metrics.ranking import pooled_auc, xauc_matrix


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64])
@pytest.mark.parametrize("seed", range(4))
def test_same_permutation_as_lexsort(dtype, seed):
    rng = np.random.default_rng(seed)
    n, k = 20_000, 7
    score = np.round(rng.normal(size=n), 1)  # many ties within and across groups
    score[rng.integers(0, n, 50)] = np.nan
    score[rng.integers(0, n, 20)] = np.inf
    group = rng.integers(0, k, n).astype(dtype)
    np.testing.assert_array_equal(group_score_order(score, group, k), np.lexsort((score, group)))


def test_many_groups_keep_their_own_integer_type():
    rng = np.random.default_rng(9)
    n, k = 200_000, 40_000  # more groups than a 16-bit code holds
    score = np.round(rng.random(n), 2)
    group = rng.integers(0, k, n)
    np.testing.assert_array_equal(group_score_order(score, group, k), np.lexsort((score, group)))


def test_group_scores_identical_to_the_lexsort_order():
    rng = np.random.default_rng(3)
    n, k = 50_000, 5
    score = np.round(rng.beta(2, 5, n), 3)
    label = (rng.random(n) < score).astype(np.int8)
    group = rng.integers(0, k, n)
    weight = rng.choice([0.3, 1.0, 1.7, 2.9], n)  # fractional: sums depend on the order
    new = GroupScores(score, label, group, k, weight)
    old = GroupScores(score, label, group, k, weight, order=np.lexsort((score, group)))
    for name in ("order", "sorted_score", "cum_w", "cum_pos", "cum_neg", "positives", "negatives"):
        np.testing.assert_array_equal(getattr(new, name), getattr(old, name), err_msg=name)
    t = np.linspace(0, 1, 41)
    a, b = new.counts(t, shared=True), old.counts(t, shared=True)
    for name in ("tp", "fp", "fn", "tn", "n_selected"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def _scores_with_ties(rng, n):
    score = np.round(rng.normal(size=n), 1)
    score[rng.integers(0, n, 40)] = np.nan
    score[rng.integers(0, n, 20)] = np.inf
    score[rng.integers(0, n, 20)] = -np.inf
    score[rng.integers(0, n, 30)] = -0.0  # equal to 0.0: one run with the zeros
    return score


@pytest.mark.parametrize("seed", range(4))
def test_stable_score_order_is_the_stable_argsort(seed):
    rng = np.random.default_rng(seed)
    for n in (0, 1, 2, 17, 30_000):
        score = _scores_with_ties(rng, n) if n > 2 else rng.normal(size=n)
        np.testing.assert_array_equal(stable_score_order(score), np.argsort(score, kind="stable"))
        continuous = rng.normal(size=n)  # almost no ties: the fix-up has nothing to do
        np.testing.assert_array_equal(stable_score_order(continuous),
                                      np.argsort(continuous, kind="stable"))
    ints = rng.integers(0, 5, 10_000)
    np.testing.assert_array_equal(stable_score_order(ints), np.argsort(ints, kind="stable"))


@pytest.mark.parametrize("seed", range(3))
def test_distinct_index_from_the_sort_equals_np_unique(seed):
    rng = np.random.default_rng(seed)
    n, k = 30_000, 6
    score = _scores_with_ties(rng, n)
    group = rng.integers(0, k, n)
    label = (rng.random(n) < 0.4).astype(np.int8)
    gs = GroupScores(score, label, group, k)
    uniq, inv = np.unique(gs.sorted_score, return_inverse=True)
    n_unique, index = gs.distinct_index()
    assert n_unique == uniq.size
    np.testing.assert_array_equal(index, inv.reshape(-1))
    again = gs.reweighted(rng.integers(0, 3, n).astype(float))  # same scores, same index
    assert again.distinct_index()[0] == n_unique
    np.testing.assert_array_equal(again.distinct_index()[1], index)


@pytest.mark.parametrize("weighted", [False, True])
def test_auc_and_cross_auc_from_the_sort_equal_the_np_unique_route(weighted):
    """AUC, cross-AUC and the pooled AUC read the distinct-score index GroupScores kept from
    its sort; a GroupScores given its order (no sort of its own) takes np.unique's: the
    figures are the same to the last bit."""
    rng = np.random.default_rng(5)
    n, k = 40_000, 5
    score = np.round(rng.beta(2, 5, n), 3)
    label = (rng.random(n) < score).astype(np.int8)
    group = rng.integers(0, k, n)
    weight = rng.choice([0.3, 1.0, 1.7], n) if weighted else np.ones(n)
    fast = GroupScores(score, label, group, k, weight)
    plain = GroupScores(score, label, group, k, weight, order=np.lexsort((score, group)))
    assert "_distinct_parts" in fast.__dict__ and "_distinct_parts" not in plain.__dict__
    np.testing.assert_array_equal(xauc_matrix(fast), xauc_matrix(plain))
    assert pooled_auc(fast) == pooled_auc(plain)


@pytest.mark.parametrize("weight", ["none", "ones", "fractional"])
@pytest.mark.parametrize("with_label", [True, False])
def test_group_scores_fields_equal_the_lexsort_construction(weight, with_label):
    """Unit weights skip the gather and count exactly; the sorted group codes are runs."""
    rng = np.random.default_rng(8)
    n, k = 20_000, 4
    score = np.round(rng.random(n), 2)
    label = (rng.random(n) < 0.3).astype(np.int8) if with_label else None
    group = rng.integers(0, k, n).astype(np.int32)
    w = {"none": None, "ones": np.ones(n), "fractional": rng.choice([0.5, 1.0, 2.25], n)}[weight]
    new = GroupScores(score, label, group, k, w)
    order = np.lexsort((score, group))
    for name, want in (("order", order), ("sorted_score", score[order]), ("sorted_group", group[order])):
        got = getattr(new, name)
        np.testing.assert_array_equal(got, want, err_msg=name)
        assert got.dtype == want.dtype, name
    ww = np.ones(n) if w is None else w[order]
    yy = np.zeros(n) if label is None else label[order].astype(float)
    np.testing.assert_array_equal(new.sorted_weight, ww)
    np.testing.assert_array_equal(new.sorted_label, yy)
    np.testing.assert_array_equal(new.cum_w, np.concatenate(([0.0], np.cumsum(ww))))
    np.testing.assert_array_equal(new.cum_pos, np.concatenate(([0.0], np.cumsum(ww * yy))))
