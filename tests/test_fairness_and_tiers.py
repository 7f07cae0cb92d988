"""Hand-computed fairness measures, threshold rules and tiers."""

import math

import numpy as np
import pandas as pd
import pytest

from fairdesk.audit import run_audit
from fairdesk.metrics.confusion import GroupScores
from fairdesk.metrics.fairness import ALL_GROUPS, measure, min_pairwise_ratio, reference_comparison
from fairdesk.metrics.rates import compute_rates
from fairdesk.metrics.thresholds import (ThresholdRule, assign_bins, bin_edges, oregon_thresholds,
                                         tier_counts, tier_of, top_k_threshold, weighted_quantile)
from fairdesk.schema import ColumnMapping
from fairdesk.validation import prepare

# Two groups, threshold 0.5.
# a: scores .9 .8 .3 .2 labels 1 0 1 0 -> TP1 FP1 FN1 TN1
# b: scores .9 .7 .6 .1 labels 1 1 0 0 -> TP2 FP1 FN0 TN1
S = np.array([.9, .8, .3, .2, .9, .7, .6, .1])
Y = np.array([1, 0, 1, 0, 1, 1, 0, 0])
G = np.array([0, 0, 0, 0, 1, 1, 1, 1])


def rates():
    return compute_rates(GroupScores(S, Y, G, 2).counts(0.5))


def test_hand_rates():
    r = rates()
    assert r["tpr"][:, ].tolist() == [0.5, 1.0]
    assert r["fpr"].tolist() == [0.5, 0.5]
    assert r["ppv"].tolist() == [0.5, 2 / 3]
    assert r["npv"].tolist() == [0.5, 1.0]
    assert r["selection_rate"].tolist() == [0.5, 0.75]
    assert r["accuracy"].tolist() == [0.5, 0.75]
    assert r["fn_fp"].tolist() == [1.0, 0.0]


def test_hand_measures():
    r = rates()
    # FNR: a .5, b 0 -> ratio 0; FPR .5/.5 -> 1; ERB takes the weaker
    assert measure("EO", r) == 0.0
    assert measure("PE", r) == 1.0
    assert measure("ERB", r) == 0.0
    assert measure("PP", r) == pytest.approx(0.5 / (2 / 3))
    assert measure("CUAE", r) == pytest.approx(0.5)  # NPV .5/1 is weaker than PPV .75
    assert measure("SP", r) == pytest.approx(0.5 / 0.75)
    assert measure("TE", r) == 0.0
    assert measure("OAE", r) == pytest.approx(0.5 / 0.75)


def test_cal_per_tier():
    gs = GroupScores(S, Y, G, 2)
    w, p, n = tier_counts(gs, [0.5])
    assert n.tolist() == [[2, 2], [1, 3]]
    rate = p / w
    assert rate.tolist() == [[0.5, 0.5], [0.0, 2 / 3]]
    cal = measure("CAL", {}, rate)
    assert cal.tolist() == [0.0, pytest.approx(0.75)]


def test_min_pairwise_ratio_rules():
    assert min_pairwise_ratio([0.2, 0.4, 0.8]) == pytest.approx(0.25)
    assert min_pairwise_ratio([0.0, 0.0]) == 1.0  # equal zeros are balanced
    assert math.isnan(min_pairwise_ratio([0.3, np.nan]))  # one defined group: undefined
    assert min_pairwise_ratio([0.3, np.nan, 0.6]) == pytest.approx(0.5)


def test_reference_comparison():
    diff, ratio = reference_comparison(np.array([0.2, 0.4, np.nan]), 1)
    assert diff[0] == pytest.approx(-0.2) and ratio[0] == pytest.approx(0.5)
    assert math.isnan(ratio[2])


def test_weighted_quantile_matches_numpy_inverted_cdf():
    rng = np.random.default_rng(1)
    v = rng.integers(0, 20, 101).astype(float)
    for q in (0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0):
        assert weighted_quantile(v, q) == np.quantile(v, q, method="inverted_cdf")
    # weights count as repeated rows
    w = rng.integers(1, 4, 101)
    for q in (0.1, 0.5, 0.9):
        assert weighted_quantile(v, q, w) == np.quantile(np.repeat(v, w), q, method="inverted_cdf")


def test_oregon_thresholds():
    v = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10.0])
    low, mean, high = oregon_thresholds(v)
    assert mean == 5.5
    assert low == 3.0  # median of 1..5 (inverted CDF)
    assert high == 9.0  # 75th percentile of 6..10


def test_top_k_and_ties():
    s = np.array([0.1, 0.9, 0.8, 0.8, 0.3])
    assert top_k_threshold(s, 1) == 0.9
    assert top_k_threshold(s, 2) == 0.8  # both 0.8s are selected: the caller reports 3
    assert top_k_threshold(s, 10) == 0.1


def test_bins_edge_goes_to_higher_bin_and_bins_hold_equal_shares():
    v = np.arange(1, 21, dtype=float)
    edges = bin_edges(v, 20)
    assert edges.tolist() == list(np.arange(2, 21, dtype=float))
    assert assign_bins([1, 1.5, 2, 20], edges).tolist() == [1, 1, 2, 20]
    assert np.bincount(assign_bins(v, edges)).tolist()[1:] == [1] * 20
    rng = np.random.default_rng(0)
    scores = rng.random(2000)
    counts = np.bincount(assign_bins(scores, bin_edges(scores, 20)), minlength=21)[1:]
    assert counts.tolist() == [100] * 20  # exactly 5 % each
    w = rng.integers(1, 4, 2000)  # weights count as repeated rows
    np.testing.assert_array_equal(bin_edges(scores, 10, w), bin_edges(np.repeat(scores, w), 10))


def test_tiers_group_specific():
    t = tier_of(S, G, np.array([[0.25, 0.85], [0.65, 0.95]]))
    assert t.tolist() == [2, 1, 1, 0, 1, 1, 0, 0]


def test_rule_parse_and_resolve():
    f = pd.DataFrame({"s": np.arange(1, 11, dtype=float), "y": [0, 1] * 5, "g": ["a"] * 10})
    data = prepare(f, ColumnMapping(score="s", label="y", groups=["g"]), min_group_size=1)
    assert ThresholdRule.parse("mean").resolve(data) == 5.5
    assert ThresholdRule.parse("top3").resolve(data) == 8.0
    assert ThresholdRule.parse("q0.5").resolve(data) == 5.0
    assert ThresholdRule.parse("0.25").resolve(data) == 0.25
    rev = prepare(f, ColumnMapping(score="s", label="y", groups=["g"], higher_is_positive=False),
                  min_group_size=1)
    assert ThresholdRule.parse("top3").resolve(rev) == 3.0  # lowest three are the riskiest
    with pytest.raises(Exception, match="not a threshold"):
        ThresholdRule.parse("banana")


def test_audit_json_undefined_is_null_with_reason():
    f = pd.DataFrame({"s": [0.9, 0.8, 0.2, 0.1, 0.7, 0.3], "y": [1, 0, 1, 0, 1, 1],
                      "g": ["a", "a", "a", "a", "b", "b"]})
    data = prepare(f, ColumnMapping(score="s", label="y", groups=["g"]), min_group_size=1)
    out = run_audit(data, [0.5], reliability=ALL_GROUPS).to_json()  # tiny groups: compare all
    assert out["groups"]["b"]["fpr"] is None
    assert any("groups['b'].fpr" in w and "no one with the negative outcome" in w for w in out["warnings"])
    assert out["groups"]["a"]["fpr"] == 0.5
    assert out["fairness"]["PE"] is None  # only one group has an FPR
    assert out["fairness"]["EO"] == pytest.approx(0.5 / 0.5)  # FNR a .5, b .5
    assert {(x["positive_group"], x["negative_group"]) for x in out["xauc"]} == {("a", "b"), ("b", "a")}


def test_audit_reverse_orientation_equals_negated_scores():
    rng = np.random.default_rng(3)
    f = pd.DataFrame({"s": rng.random(200), "y": rng.integers(0, 2, 200), "g": rng.choice(["a", "b"], 200)})
    m_rev = ColumnMapping(score="s", label="y", groups=["g"], higher_is_positive=False)
    f2 = f.assign(s=-f.s)
    a = run_audit(prepare(f, m_rev), [0.4]).to_json()
    b = run_audit(prepare(f2, ColumnMapping(score="s", label="y", groups=["g"])), [-0.4]).to_json()
    assert a["groups"] == b["groups"] and a["fairness"] == b["fairness"]
