"""Scenarios evaluate to the engines' own numbers."""

import numpy as np
import pandas as pd
import pytest

from fairdesk.audit import run_audit
from fairdesk.errors import FairDeskError
from fairdesk.scenarios import Scenario, baseline, compare, decisions, parse_scenario
from fairdesk.schema import ColumnMapping
from fairdesk.validation import prepare


@pytest.fixture
def data():
    rng = np.random.default_rng(11)
    n = 500
    f = pd.DataFrame({"s": rng.random(n).round(3), "y": rng.integers(0, 2, n), "g": rng.choice(["a", "b", "c"], n),
                      "w": rng.choice([1.0, 2.0, 0.5], n)})
    return prepare(f, ColumnMapping(score="s", label="y", groups=["g"], weight="w"))


def test_thresholds_equal_audit(data):
    comp = compare(data, [baseline([0.3, 0.6])])
    audit = run_audit(data, [0.3, 0.6])
    m = comp.metrics[0]
    for r in ("tpr", "fpr", "ppv", "npv", "accuracy", "selection_rate"):
        np.testing.assert_allclose(m.rates[r], audit.rates[r][:, 1])  # decision = highest threshold
    for k in ("ERB", "PP", "SP"):
        assert m.fairness[k] == pytest.approx(audit.fairness[k][1])
    np.testing.assert_allclose(m.fairness["CAL"], audit.fairness["CAL"])
    np.testing.assert_allclose(m.people, audit.tier_weight)


def test_group_thresholds_equal_group_specific_audit(data):
    vals = {"a": [0.4], "b": [0.5], "c": [0.55]}
    s = Scenario("gs", "group_thresholds", {"values": vals})
    comp = compare(data, [baseline([0.5]), s])
    audit = run_audit(data, np.array([[0.4], [0.5], [0.55]]), group_specific=True)
    np.testing.assert_allclose(comp.metrics[1].rates["fpr"], audit.rates["fpr"][:, 0])
    # changed decisions: rows whose flag differs from the baseline's, by group
    flag0 = data.score >= 0.5
    flag1 = data.score >= np.array([0.4, 0.5, 0.55])[data.group]
    for g in range(3):
        m = data.group == g
        expected = np.sum(data.weight[m] * (flag0[m] != flag1[m])) / data.weight[m].sum()
        assert comp.metrics[1].changed[g] == pytest.approx(expected)
    assert comp.metrics[0].changed_overall == 0


def test_randomized_expected_counts_by_brute_force(data):
    groups = {"a": {"t0": 0.3, "t1": 0.6, "p": 0.25}, "b": {"t0": 0.5, "t1": 0.5, "p": 0.0},
              "c": {"t0": 0.2, "t1": 0.8, "p": 0.5}}
    comp = compare(data, [baseline([0.5]), Scenario("r", "randomized", {"groups": groups})])
    m = comp.metrics[1]
    for g, name in enumerate(data.group_names):
        q = groups[name]
        tp = fn = 0.0
        for s, y, w, gg in zip(data.score, data.label, data.weight, data.group):
            if gg != g:
                continue
            p = 1.0 if s >= q["t1"] else (q["p"] if s >= q["t0"] else 0.0)
            tp += w * p * y
            fn += w * (1 - p) * y
        assert m.rates["tpr"][g] == pytest.approx(tp / (tp + fn))


def test_selection_scenario(data):
    rows = data.row_numbers[np.argsort(-data.score)[:50]].tolist()
    comp = compare(data, [baseline([0.5]), Scenario("top50", "selection", {"rows": rows})])
    assert comp.metrics[1].counts.n_selected.sum() == 50


def test_cost_and_table_rows(data):
    comp = compare(data, [baseline([0.5]), baseline([0.7], "Strict")], cost_ratio=(4, 1))
    m = comp.metrics[1]
    expected = (4 * m.counts.fn.sum() + m.counts.fp.sum()) / data.weight.sum()
    assert m.cost == pytest.approx(expected)
    rows = comp.table_rows()
    assert all(len(r["values"]) == 2 for r in rows)
    assert {r["section"] for r in rows} >= {"Rates by group", "Fairness (min. pairwise ratio)"}


def test_bootstrap_seeded(data):
    sc = [baseline([0.5]), baseline([0.6], "b")]
    a = compare(data, sc, bootstrap=10, seed=3)
    b = compare(data, sc, bootstrap=10, seed=3)
    np.testing.assert_array_equal(a.bootstrap["mean"], b.bootstrap["mean"])
    assert a.bootstrap["mean"].shape == (len(a.table_rows()), 2)


def test_parse_scenarios(data):
    s = parse_scenario("Strict=0.7", data.group_names)
    assert s.kind == "thresholds" and s.params["values"] == [0.7]
    s = parse_scenario("Fair=a:0.4,b:0.5,c:0.6", data.group_names)
    assert s.params["values"] == {"a": [0.4], "b": [0.5], "c": [0.6]}
    with pytest.raises(FairDeskError, match="no threshold for c"):
        parse_scenario("X=a:0.4,b:0.5", data.group_names)
    with pytest.raises(FairDeskError, match="NAME=THRESHOLD"):
        parse_scenario("0.5", data.group_names)
    assert Scenario.from_dict(s.to_dict()) == s


def test_missing_group_is_reported(data):
    with pytest.raises(FairDeskError, match="no thresholds for group"):
        decisions(Scenario("x", "group_thresholds", {"values": {"a": [0.5]}}), data)
