"""GroupScores sorts with two stable passes instead of np.lexsort: the permutation must be
lexsort's exactly (ties in row order), so every cumulative sum, and every count, is unchanged."""

import numpy as np
import pytest

from fairdesk.metrics.confusion import GroupScores, group_score_order


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
