"""The fast per-group counts, rates, AUC and xAUC equal naive loops (hypothesis)."""

import math

import numpy as np
from hypothesis import given, settings, strategies as st

import reference as ref
from fairdesk.metrics.confusion import GroupScores
from fairdesk.metrics.fairness import min_pairwise_ratio
from fairdesk.metrics.rates import compute_rates
from fairdesk.metrics.ranking import cross_auc, pooled_auc, roc_curve, xauc_matrix

# Scores from a small set so that ties (with each other and with thresholds) are common.
score_values = st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.5, 0.75, 0.9, 1.0, 3.0, -2.0])


@st.composite
def datasets(draw, weighted=True):
    n = draw(st.integers(1, 40))
    n_groups = draw(st.integers(1, 4))
    scores = draw(st.lists(score_values, min_size=n, max_size=n))
    labels = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    groups = draw(st.lists(st.integers(0, n_groups - 1), min_size=n, max_size=n))
    if weighted:
        weights = draw(st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.25]), min_size=n, max_size=n))
    else:
        weights = [1.0] * n
    return np.array(scores), np.array(labels), np.array(groups), np.array(weights), n_groups


def close(a, b):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):  # x/0 with x > 0 is infinite (zero-count rule)
        return a == b
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


@settings(max_examples=300, deadline=None)
@given(datasets(), st.lists(score_values, min_size=1, max_size=4))
def test_counts_and_rates_equal_naive_loops(d, thresholds):
    s, y, g, w, G = d
    gs = GroupScores(s, y, g, G, w)
    c = gs.counts(np.array(thresholds), shared=True)
    r = compute_rates(c)
    for gi in range(G):
        m = g == gi
        for j, t in enumerate(thresholds):
            tp, fp, fn, tn = ref.confusion(s[m], y[m], w[m], t)
            assert close(c.tp[gi, j], tp) and close(c.fp[gi, j], fp)
            assert close(c.fn[gi, j], fn) and close(c.tn[gi, j], tn)
            assert c.n_selected[gi, j] == int(np.sum(s[m] >= t))
            expected = ref.rates(tp, fp, fn, tn)
            for key, value in expected.items():
                assert close(r[key][gi, j], value), key


@settings(max_examples=200, deadline=None)
@given(datasets(), st.data())
def test_group_specific_thresholds(d, data):
    s, y, g, w, G = d
    thr = np.array(data.draw(st.lists(score_values, min_size=G, max_size=G)))
    gs = GroupScores(s, y, g, G, w)
    c = gs.counts(thr, shared=False)
    for gi in range(G):
        m = g == gi
        tp, fp, fn, tn = ref.confusion(s[m], y[m], w[m], thr[gi])
        assert close(c.tp[gi], tp) and close(c.fp[gi], fp) and close(c.fn[gi], fn) and close(c.tn[gi], tn)


@settings(max_examples=200, deadline=None)
@given(datasets())
def test_auc_and_xauc_equal_all_pairs(d):
    s, y, g, w, G = d
    gs = GroupScores(s, y, g, G, w)
    matrix = xauc_matrix(gs)
    for a in range(G):
        for b in range(G):
            ma, mb = g == a, g == b
            expected = ref.xauc(s[ma], y[ma], w[ma], s[mb], y[mb], w[mb])
            assert close(cross_auc(gs, a, b), expected)
            assert close(matrix[a, b], expected)
    assert close(pooled_auc(gs), ref.xauc(s, y, w, s, y, w))


@settings(max_examples=100, deadline=None)
@given(datasets())
def test_roc_points_equal_counts_at_each_distinct_score(d):
    s, y, g, w, G = d
    gs = GroupScores(s, y, g, G, w)
    for gi in range(G):
        m = g == gi
        fpr, tpr, thr = roc_curve(gs, gi)
        assert thr[0] == np.inf and fpr[0] == 0 and tpr[0] == 0
        assert np.all(np.diff(thr[1:]) < 0)
        for f, t_, th in zip(fpr[1:], tpr[1:], thr[1:]):
            tp, fp, fn, tn = ref.confusion(s[m], y[m], w[m], th)
            assert close(t_, ref.div(tp, tp + fn)) and close(f, ref.div(fp, fp + tn))


@settings(max_examples=100, deadline=None)
@given(datasets(weighted=False), st.lists(st.integers(1, 3), min_size=40, max_size=40),
       st.lists(score_values, min_size=1, max_size=3))
def test_integer_weights_equal_repeated_rows(d, reps, thresholds):
    s, y, g, _, G = d
    k = np.array(reps[: s.size])
    weighted = GroupScores(s, y, g, G, k.astype(float))
    repeated = GroupScores(np.repeat(s, k), np.repeat(y, k), np.repeat(g, k), G)
    cw = weighted.counts(np.array(thresholds), shared=True)
    cr = repeated.counts(np.array(thresholds), shared=True)
    for a, b in zip((cw.tp, cw.fp, cw.fn, cw.tn), (cr.tp, cr.fp, cr.fn, cr.tn)):
        np.testing.assert_allclose(a, b)
    for a in range(G):
        for b in range(G):
            assert close(cross_auc(weighted, a, b), cross_auc(repeated, a, b))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.floats(0, 5, allow_nan=False), st.just(math.nan)), min_size=0, max_size=6))
def test_min_pairwise_ratio_equals_all_pairs(values):
    got = float(min_pairwise_ratio(np.array(values, dtype=float)))
    assert close(got, ref.min_pairwise_ratio(values))


def test_thresholds_equal_to_score_are_positive():
    gs = GroupScores([0.2, 0.5, 0.5, 0.9], [0, 1, 0, 1], [0, 0, 0, 0], 1)
    c = gs.counts(0.5)
    assert (c.tp[0], c.fp[0], c.fn[0], c.tn[0]) == (2.0, 1.0, 0.0, 1.0)


@settings(max_examples=100, deadline=None)
@given(datasets())
def test_xroc_points_equal_naive_counts(d):
    from fairdesk.metrics.ranking import xroc_curve
    s, y, g, w, G = d
    gs = GroupScores(s, y, g, G, w)
    for a in range(G):
        for b in range(G):
            fpr, tpr, thr = xroc_curve(gs, a, b)
            ma, mb = g == a, g == b
            for f, t_, th in zip(fpr[1:], tpr[1:], thr[1:]):
                tp, _, fn, _ = ref.confusion(s[ma], y[ma], w[ma], th)
                _, fp, _, tn = ref.confusion(s[mb], y[mb], w[mb], th)
                assert close(t_, ref.div(tp, tp + fn)) and close(f, ref.div(fp, fp + tn))
