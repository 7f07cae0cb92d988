"""Recall balancing (Rodolfa et al., Algorithm 1): hand-computed cases, naive reference
implementations, properties (hypothesis), edge cases, COMPAS, the command line and the
workbook tables."""

import json
import math
import subprocess
import sys

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import ROOT, SHARED
from fairdesk.engines.recall_balance import (SCENARIOS_K, SCENARIOS_RECALL,
                                             RecallSettings, merge_select, run_recall)
from fairdesk.errors import FairDeskError
from fairdesk.reports.recall_report import recall_tables, selection_frame, write_selection_csv
from fairdesk.reports.workbook import write_workbook
from fairdesk.schema import ColumnMapping
from fairdesk.validation import prepare

COMPAS = SHARED / "compas_two_year.csv"


def make_data(score, label, group, weight=None, ids=None, lower_is_riskier=False):
    frame = pd.DataFrame({"s": score, "y": label, "g": [f"g{int(x)}" for x in group]})
    mapping = ColumnMapping(score="s", label="y", groups=["g"], positive_label=1,
                            higher_is_positive=not lower_is_riskier)
    if weight is not None:
        frame["w"] = weight
        mapping.weight = "w"
    if ids is not None:
        frame["pid"] = ids
        mapping.id = "pid"
    return prepare(frame, mapping, min_group_size=1)


# The hand example: group A (g0) scores .9 .8 .7 .6 .5 with outcomes 1 0 1 0 1 (3 positives);
# group B (g1) scores .85 .75 .65 .55 with outcomes 0 1 0 1 (2 positives).
# Rolling (recall, count): A (1/3,1) (1/3,2) (2/3,3) (2/3,4) (1,5); B (0,1) (1/2,2) (1/2,3) (1,4).
# Merged by recall then count: B1 A1 A2 B2 B3 A3 A4 B4 A5.
HAND = dict(score=[.9, .8, .7, .6, .5, .85, .75, .65, .55], label=[1, 0, 1, 0, 1, 0, 1, 0, 1],
            group=[0, 0, 0, 0, 0, 1, 1, 1, 1])


@pytest.fixture(scope="module")
def hand():
    return make_data(**HAND)


def rows_of(res, key):
    return res.scenarios[key].rows.tolist()


@pytest.mark.parametrize("k, current_equal", [(1, [0, 1]), (2, [1, 1]), (3, [2, 1]), (4, [2, 2]),
                                              (5, [2, 3]), (6, [3, 3]), (7, [4, 3]), (8, [4, 4]),
                                              (9, [5, 4])])
def test_hand_current_equal(hand, k, current_equal):
    res = run_recall(hand, RecallSettings(k=k))
    assert rows_of(res, "current_equal") == current_equal
    assert res.scenarios["current_equal"].size == k


def test_hand_all_scenarios_k4(hand):
    res = run_recall(hand, RecallSettings(k=4))
    assert res.group_names == ["g0", "g1"]
    assert res.reference == 0  # the larger group
    # top 4: .9(A,1) .85(B,0) .8(A,0) .75(B,1)
    top = res.scenarios["top_k"]
    assert top.rows.tolist() == [2, 2]
    assert top.recall.tolist() == pytest.approx([1 / 3, 1 / 2])
    assert top.precision_all == pytest.approx(0.5)
    assert top.threshold.tolist() == pytest.approx([0.8, 0.75])
    # expanded equal: target 1/2 (B); A needs recall >= 1/2 -> its 3rd row (recall 2/3)
    ee = res.scenarios["expanded_equal"]
    assert ee.rows.tolist() == [3, 2]
    assert ee.size == 5 and ee.precision_all == pytest.approx(3 / 5)
    assert ee.precision_cost == pytest.approx(0.5 - 0.6)
    assert ee.target.tolist() == pytest.approx([0.5, 0.5])
    # proportional, reference A: prevalence 3/5 and 2/4, r_B = 5/6; target for B = 5/6 * 1/3
    assert res.ratio.tolist() == pytest.approx([1.0, (2 / 4) / (3 / 5)])
    ep = res.scenarios["expanded_proportional"]
    assert ep.rows.tolist() == [2, 2]
    assert ep.target.tolist() == pytest.approx([1 / 3, 5 / 18])
    # current proportional: B's scaled recall 1.2 R_B: B1(0) A1 A2 (1/3) B2 B3 (.6) A3 ...
    assert rows_of(res, "current_proportional") == [2, 2]


def test_hand_proportional_reference_b(hand):
    # reference B: r_A = (3/5)/(2/4) = 1.2; A's scaled recall R_A/1.2 = .278 .278 .556 .556 .833
    # merged: B1(0) A1 A2(.278) B2 B3(.5) A3 A4(.556) A5(.833) B4(1)
    expected = {1: [0, 1], 3: [2, 1], 5: [2, 3], 7: [4, 3], 8: [5, 3], 9: [5, 4]}
    for k, rows in expected.items():
        res = run_recall(hand, RecallSettings(k=k, reference="g1"))
        assert rows_of(res, "current_proportional") == rows, k
    res = run_recall(hand, RecallSettings(k=4, reference="g1"))
    # expanded proportional: B's top-K recall 1/2, A's target 1.2 * 1/2 = .6 -> A's 3rd row
    assert rows_of(res, "expanded_proportional") == [3, 2]


def test_hand_recall_target(hand):
    res = run_recall(hand, RecallSettings(k=None, recall=0.5))
    assert list(res.scenarios) == list(SCENARIOS_RECALL)
    # one rule for reaching a recall (issue 14): the fewest rows with R >= 1/2:
    # A 3 rows (recall 2/3), B 2 rows (recall 1/2)
    assert rows_of(res, "recall_equal") == [3, 2]
    # reference A (ratio 1, 5/6): A's target 1/2 -> 3 rows, B's 5/12 -> its 2nd row (1/2)
    assert rows_of(res, "recall_proportional") == [3, 2]
    assert res.k == 5 and res.scenarios["top_k"].size == 5
    res = run_recall(hand, RecallSettings(k=None, recall=1.0))
    assert rows_of(res, "recall_equal") == [5, 4]


# ------------------------------------------------------------------------------------------
# naive reference implementations (loops, written from the paper's description)

def naive_rankings(score, label, group, weight, G):
    """Per group: lists of (recall, count) after each row, rows by score descending (no ties)."""
    out = []
    for g in range(G):
        idx = sorted([i for i in range(len(score)) if group[i] == g], key=lambda i: -score[i])
        P = sum(weight[i] * label[i] for i in idx)
        n = p = 0.0
        seq = []
        for i in idx:
            n += weight[i]
            p += weight[i] * label[i]
            seq.append((p / P if P > 0 else math.nan, n))
        out.append(seq)
    return out


def naive_merge(seqs, K, scale=None):
    """Algorithm 1: merge by (recall, count), keep the longest prefix with total count <= K."""
    entries = []
    for g, seq in enumerate(seqs):
        for i, (r, n) in enumerate(seq):
            v = r if scale is None else r / scale[g]
            entries.append((v, n, g, i + 1))
    entries.sort()
    taken = [0] * len(seqs)
    counts = [0.0] * len(seqs)
    for v, n, g, i in entries:
        new = sum(counts) - counts[g] + n
        if new > K + 1e-9:
            break
        taken[g], counts[g] = i, n
    return taken


def naive_top(score, group, weight, K, G):
    order = sorted(range(len(score)), key=lambda i: -score[i])
    taken, total = [0] * G, 0.0
    for i in order:
        if total + weight[i] > K + 1e-9:
            break
        total += weight[i]
        taken[group[i]] += 1
    return taken


def naive_expand(seqs, top, targets):
    rows = list(top)
    for g, seq in enumerate(seqs):
        if targets[g] is None:
            continue
        while rows[g] < len(seq) and (rows[g] == 0 and targets[g] > 1e-12
                                      or rows[g] > 0 and seq[rows[g] - 1][0] < targets[g] - 1e-12):
            rows[g] += 1
    return rows


def distinct_data(rng, n, G, weights="unit"):
    score = rng.permutation(n) / n + rng.random(n) * 1e-4  # distinct
    group = rng.integers(0, G, n)
    group[:G] = np.arange(G)
    label = (rng.random(n) < 0.2 + 0.6 * score).astype(int)
    label[:2] = rng.permutation([0, 1])  # validation needs both outcomes
    if weights == "unit":
        w = np.ones(n)
    elif weights == "int":
        w = rng.integers(1, 4, n).astype(float)
    else:
        w = rng.choice([0.0, 0.5, 1.0, 2.5], n)
        w[:G] = 1.0
    return score, label, group, w


@pytest.mark.parametrize("weights", ["unit", "int", "fractional"])
def test_scenarios_equal_naive_algorithm(weights):
    rng = np.random.default_rng(7)
    checked = 0
    for rep in range(40):
        n, G = int(rng.integers(5, 60)), int(rng.integers(1, 5))
        score, label, group, w = distinct_data(rng, n, G, weights)
        data = make_data(score, label, group, w if weights != "unit" else None)
        G = data.n_groups
        # map back: prepare orders group names; rows keep their order
        g_codes = data.group
        seqs = naive_rankings(data.score, data.label, g_codes, data.weight, G)
        P = [sum(data.weight[i] * data.label[i] for i in range(n) if g_codes[i] == g) for g in range(G)]
        if not any(p > 0 for p in P):
            continue
        active = [g for g in range(G) if P[g] > 0]
        for K in sorted({1, 2, float(rng.integers(1, n + 1)), n / 2, n + 3.0}):
            res = run_recall(data, RecallSettings(k=K))
            W = float(data.weight.sum())
            Kc = min(K, W)
            top = naive_top(data.score, g_codes, data.weight, Kc, G)
            assert rows_of(res, "top_k") == top
            # current equal: active groups merged; groups without positives keep their top K
            fixed = sum(seqs[g][top[g] - 1][1] if top[g] else 0.0 for g in range(G) if P[g] <= 0)
            merged = naive_merge([s if P[g] > 0 else [] for g, s in enumerate(seqs)], Kc - fixed)
            expect = [merged[g] if P[g] > 0 else top[g] for g in range(G)]
            assert rows_of(res, "current_equal") == expect
            ref = res.reference
            prev = [P[g] / seqs[g][-1][1] if seqs[g] and seqs[g][-1][1] > 0 else math.nan
                    for g in range(G)]
            ratio = [prev[g] / prev[ref] if P[g] > 0 else 1.0 for g in range(G)]
            merged = naive_merge([s if P[g] > 0 else [] for g, s in enumerate(seqs)], Kc - fixed,
                                 scale=ratio)
            expect = [merged[g] if P[g] > 0 else top[g] for g in range(G)]
            assert rows_of(res, "current_proportional") == expect
            # expanded
            rec_top = {g: (seqs[g][top[g] - 1][0] if top[g] else 0.0) for g in active}
            # a group below the minimum size (30 people) does not set the target (issue 14)
            big = [g for g in active if data.weight[g_codes == g].sum() >= 30 - 1e-9]
            t_eq = max(rec_top[g] for g in (big or active))
            assert rows_of(res, "expanded_equal") == naive_expand(
                seqs, top, [t_eq if g in active else None for g in range(G)])
            assert rows_of(res, "expanded_proportional") == naive_expand(
                seqs, top, [min(1.0, ratio[g] * rec_top[ref]) if g in active else None
                            for g in range(G)])
            checked += 1
    assert checked > 50


def test_merge_select_equals_sorted_merge_with_ties_and_zero_weights():
    rng = np.random.default_rng(3)
    for rep in range(300):
        G = int(rng.integers(1, 5))
        values, counts = [], []
        for g in range(G):
            n = int(rng.integers(0, 12))
            v = np.concatenate(([0.0], np.cumsum(rng.choice([0.0, 0.25, 0.5], n))))
            c = np.concatenate(([0.0], np.cumsum(rng.choice([0.0, 1.0, 1.0, 2.0], n))))
            values.append(v)
            counts.append(c)
        budget = float(rng.integers(0, 20))
        # brute force: all entries sorted by (value, count, group), stable within group
        entries = [(values[g][i], counts[g][i], g, i) for g in range(G)
                   for i in range(1, len(values[g]))]
        entries.sort(key=lambda e: (e[0], e[1], e[2], e[3]))
        taken = [0] * G
        for v, c, g, i in entries:
            trial = list(taken)
            trial[g] = i
            if sum(counts[h][trial[h]] for h in range(G)) > budget + 1e-9:
                break
            taken = trial
        got = merge_select(values, counts, budget).tolist()
        # zero-weight entries tied on (value, count) are interchangeable: compare totals per
        # group and the (value, count) reached
        assert [counts[g][got[g]] for g in range(G)] == [counts[g][taken[g]] for g in range(G)]
        assert [values[g][got[g]] for g in range(G)] == [values[g][taken[g]] for g in range(G)]


def test_proportional_merge_agrees_with_small_steps():
    """The paper's procedure: raise x from the smallest recall in small steps until Σ k_g
    would exceed K. The exact merge takes every entry the steps take, and at most K."""
    rng = np.random.default_rng(11)
    for rep in range(30):
        score, label, group, w = distinct_data(rng, 200, 3)
        data = make_data(score, label, group)
        K = float(rng.integers(5, 150))
        res = run_recall(data, RecallSettings(k=K, reference="g1"))
        rg = res.ranked
        exact = res.scenarios["current_proportional"].rows
        best = np.zeros(3, dtype=int)
        for x in np.arange(0, 1.5, 0.0005):
            k = np.array([max(int(np.searchsorted(rg.recall(g), res.ratio[g] * x + 1e-12, "right")) - 1, 0)
                          for g in range(3)])
            if sum(rg.counts[g][k[g]] for g in range(3)) > K:
                break
            best = k
        assert np.all(exact >= best)
        assert res.scenarios["current_proportional"].size <= K
        assert res.scenarios["current_proportional"].size == K  # unweighted: exactly K


# ------------------------------------------------------------------------------------------
# properties

@st.composite
def datasets(draw, weighted=False, ties=True):
    n = draw(st.integers(2, 80))
    G = draw(st.integers(1, 4))
    score = draw(st.lists(st.integers(0, 12 if ties else 10 ** 6), min_size=n, max_size=n))
    label = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    group = draw(st.lists(st.integers(0, G - 1), min_size=n, max_size=n))
    label[0], label[1] = 1, 0  # validation needs both outcomes
    w = draw(st.lists(st.integers(1, 3), min_size=n, max_size=n)) if weighted else None
    return np.array(score, float), np.array(label), np.array(group), w


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(datasets(), st.integers(1, 100), st.integers(0, 3))
def test_properties(d, K, seed):
    score, label, group, _ = d
    data = make_data(score, label, group)
    res = run_recall(data, RecallSettings(k=K, seed=seed))
    n = data.n
    rg = res.ranked
    P = rg.positives
    active = [g for g in range(data.n_groups) if P[g] > 0]
    # the current-scale lists have exactly K rows (or everyone)
    for key in ("top_k", "current_equal", "current_proportional"):
        assert res.scenarios[key].n_rows == min(K, n)
    # equal balancing: every group within one person's worth of recall of the highest
    for key, scale in (("current_equal", np.ones(data.n_groups)), ("current_proportional", res.ratio)):
        s = res.scenarios[key]
        scaled = {g: s.recall[g] / scale[g] for g in active}
        top = max(scaled.values())
        for g in active:  # (a group taken whole cannot go higher)
            assert (scaled[g] >= top - 1 / (P[g] * scale[g]) - 1e-9
                    or s.rows[g] == rg.sizes[g])
    # expanded lists contain the top K and reach their targets with the fewest people
    top = res.scenarios["top_k"].rows
    for key in ("expanded_equal", "expanded_proportional"):
        s = res.scenarios[key]
        assert np.all(s.rows >= top)
        for g in active:
            R = rg.recall(g)
            assert s.recall[g] >= s.target[g] - 1e-9 or s.rows[g] == rg.sizes[g]
            if s.rows[g] > top[g]:
                assert R[s.rows[g] - 1] < s.target[g] - 1e-12  # one fewer is not enough
        mask_top = res.selected_mask("top_k")
        assert np.all(res.selected_mask(key)[mask_top])
    # every list is a score threshold per group: no one left out scores above anyone taken
    o = data.oriented
    for key in res.scenarios:
        m = res.selected_mask(key)
        for g in range(data.n_groups):
            inside, outside = o[m & (data.group == g)], o[~m & (data.group == g)]
            if inside.size and outside.size:
                assert outside.max() <= inside.min()
                t = res.scenarios[key].threshold[g] * data.sign
                assert inside.min() == t
                assert int(np.sum(outside == t)) == res.scenarios[key].ties_left[g]
    # reproducible by seed
    again = run_recall(data, RecallSettings(k=K, seed=seed))
    for key in res.scenarios:
        assert np.array_equal(np.sort(res.selected_rows(key)), np.sort(again.selected_rows(key)))


def test_seed_changes_only_the_order_of_ties():
    rng = np.random.default_rng(0)
    n = 400
    score = rng.integers(0, 5, n).astype(float)  # many ties
    label = (rng.random(n) < 0.3 + 0.1 * score).astype(int)
    group = rng.integers(0, 3, n)
    data = make_data(score, label, group)
    a = run_recall(data, RecallSettings(k=100, seed=1))
    b = run_recall(data, RecallSettings(k=100, seed=1))
    c = run_recall(data, RecallSettings(k=100, seed=2))
    assert np.array_equal(a.selected_rows("current_equal"), b.selected_rows("current_equal"))
    assert not np.array_equal(np.sort(a.selected_rows("top_k")), np.sort(c.selected_rows("top_k")))
    # the scores on the list are the same whatever the seed
    assert np.array_equal(np.sort(data.score[a.selected_rows("top_k")]),
                          np.sort(data.score[c.selected_rows("top_k")]))
    # reusing the prepared ranking gives the same result
    d = run_recall(data, RecallSettings(k=60, seed=1), ranked=a.ranked)
    e = run_recall(data, RecallSettings(k=60, seed=1))
    assert np.array_equal(d.selected_rows("current_proportional"), e.selected_rows("current_proportional"))


def test_integer_weights_equal_repeated_rows():
    """A row of weight w is w identical people: when the repeated-row list does not split a
    row's copies, the weighted list is the same people."""
    rng = np.random.default_rng(5)
    aligned = total = 0
    for rep in range(150):
        n, G = int(rng.integers(5, 40)), int(rng.integers(1, 4))
        score, label, group, w = distinct_data(rng, n, G, "int")
        wd = make_data(score, label, group, w)
        rep_idx = np.repeat(np.arange(n), w.astype(int))
        ed = make_data(score[rep_idx], label[rep_idx], group[rep_idx])
        assert wd.group_names == ed.group_names
        for K in (float(rng.integers(1, int(w.sum()) + 1)), float(rng.integers(1, int(w.sum()) + 1))):
            try:
                rw = run_recall(wd, RecallSettings(k=K, seed=rep))
            except FairDeskError:
                continue  # no positives at all
            re_ = run_recall(ed, RecallSettings(k=K, seed=rep))
            for key in SCENARIOS_K:
                total += 1
                sel = re_.selected_rows(key)
                copies = np.bincount(rep_idx[sel], minlength=n)
                if np.all((copies == 0) | (copies == w)):
                    aligned += 1
                    assert np.array_equal(rw.scenarios[key].people, re_.scenarios[key].people), key
                    assert np.allclose(rw.scenarios[key].recall, re_.scenarios[key].recall,
                                       equal_nan=True)
                    assert np.array_equal(np.flatnonzero(copies), np.sort(rw.selected_rows(key)))
                else:  # a row enters whole: the weighted list is at most K people
                    if key.startswith("current") or key == "top_k":
                        assert rw.scenarios[key].size <= K + 1e-9
    assert aligned > 0.4 * total


# ------------------------------------------------------------------------------------------
# edge cases

def test_k_at_least_n(hand):
    res = run_recall(hand, RecallSettings(k=50))
    assert res.k == 9 and res.k_requested == 50
    for s in res.scenarios.values():
        assert s.rows.tolist() == [5, 4]
        assert s.recall.tolist() == [1.0, 1.0]
    assert any("at least the number of people" in n for n in res.notes)


def test_group_without_positives_is_left_out_and_named():
    score = [.9, .8, .7, .6, .95, .5, .4, .3, .2]
    label = [1, 0, 1, 0, 0, 0, 1, 1, 0]
    group = [0, 0, 0, 0, 1, 1, 2, 2, 2]
    data = make_data(score, label, group)
    res = run_recall(data, RecallSettings(k=4))
    assert res.excluded == [1]
    assert any("'g1'" in n and "left out of the balancing" in n for n in res.notes)
    top = res.scenarios["top_k"]
    assert top.rows.tolist() == [3, 1, 0]  # .95 (g1), .9 .8 .7 (g0)
    assert math.isnan(top.recall[1])
    for key in SCENARIOS_K:
        assert res.scenarios[key].rows[1] == 1  # keeps its top-K person
    assert res.scenarios["current_equal"].size == 4
    out = res.to_json()
    assert out["scenarios"]["top_k"]["groups"]["g1"]["recall"] is None
    assert any("g1" in w and "recall" in w for w in out["warnings"])
    with pytest.raises(FairDeskError, match="'g1'.*no one with the\\s+positive outcome"):
        run_recall(data, RecallSettings(k=4, reference="g1"))
    res = run_recall(data, RecallSettings(k=None, recall=0.5))
    assert res.scenarios["recall_equal"].rows[1] == 0


def test_k_too_small_for_every_group():
    rng = np.random.default_rng(2)
    score, label, group, _ = distinct_data(rng, 100, 4)
    data = make_data(score, label, group)
    res = run_recall(data, RecallSettings(k=2))
    assert res.scenarios["current_equal"].n_rows == 2
    assert any("too small to give every group" in n for n in res.notes)
    empty = [res.group_names[g] for g in range(4) if res.scenarios["current_equal"].rows[g] == 0]
    assert len(empty) >= 2
    assert any(all(f"'{e}'" in n for e in empty) for n in res.scenarios["current_equal"].notes)
    out = res.to_json()
    assert out["scenarios"]["current_equal"]["groups"][empty[0]]["threshold"] is None


def test_fractional_weights_list_size():
    score = [.9, .8, .7, .6, .5, .4]
    label = [1, 0, 1, 1, 0, 1]
    group = [0, 1, 0, 1, 0, 1]
    w = [0.5, 1.5, 2.0, 0.25, 1.0, 3.0]
    data = make_data(score, label, group, w)
    res = run_recall(data, RecallSettings(k=2.2))
    top = res.scenarios["top_k"]
    assert top.size == pytest.approx(2.0) and top.rows.tolist() == [1, 1]  # .5 + 1.5; +2.0 > 2.2
    for s in res.scenarios.values():
        if s.key.startswith("current"):
            assert s.size <= 2.2 + 1e-12
    assert any("Frequency weights count as people" in n for n in res.notes)


def test_lower_is_riskier_thresholds_in_user_units():
    data = make_data([1, 2, 3, 4, 5, 6], [1, 1, 0, 1, 0, 0], [0, 1, 0, 1, 0, 1],
                     lower_is_riskier=True)
    res = run_recall(data, RecallSettings(k=3))
    top = res.scenarios["top_k"]
    assert sorted(data.score[res.selected_rows("top_k")].tolist()) == [1, 2, 3]
    assert top.threshold.tolist() == [3.0, 2.0]


def test_bad_settings():
    data = make_data(**HAND)
    for bad, msg in ((RecallSettings(k=0), "positive"), (RecallSettings(k=None, recall=1.5), "at most 1"),
                     (RecallSettings(k=5, recall=0.5), "not both"),
                     (RecallSettings(k=5, reference="nope"), "'nope' is not a group")):
        with pytest.raises(FairDeskError, match=msg):
            run_recall(data, bad)
    none = data.subset(data.label == 0)  # (validation refuses such a file; a subset can be)
    with pytest.raises(FairDeskError, match="No one in the data has the positive outcome"):
        run_recall(none, RecallSettings(k=1))


def test_precision_recall_at_k_curves_equal_naive(hand):
    res = run_recall(hand, RecallSettings(k=4))
    c = res.curves
    order = np.argsort(-np.asarray(HAND["score"]))
    y = np.asarray(HAND["label"])[order]
    g = np.asarray(HAND["group"])[order]
    for i, size in enumerate(c["size"]):
        k = int(size)
        for grp in (0, 1):
            tp = y[:k][g[:k] == grp].sum()
            assert c["recall"][grp, i] == pytest.approx(tp / y[g == grp].sum())
            sel = (g[:k] == grp).sum()
            assert (math.isnan(c["precision"][grp, i]) if sel == 0
                    else c["precision"][grp, i] == pytest.approx(tp / sel))
        assert c["precision_all"][i] == pytest.approx(y[:k].mean())
    assert c["size"][c["k_index"]] == 4


# ------------------------------------------------------------------------------------------
# COMPAS: a realistic case

@pytest.fixture(scope="module")
def compas():
    frame = pd.read_csv(COMPAS)
    return prepare(frame, ColumnMapping(score="decile_score", label="two_year_recid",
                                        groups=["race"], id="id"))


@pytest.mark.skipif(not COMPAS.exists(), reason="shared data not present")
@pytest.mark.parametrize("K", [150, 1000])
def test_compas(compas, K):
    res = run_recall(compas, RecallSettings(k=K, reference="Caucasian", seed=4))
    assert res.total_people == 6172
    for key in ("top_k", "current_equal", "current_proportional"):
        assert res.scenarios[key].n_rows == K
    # the top K is every decile score above the K-th, and some of the ties at it
    top = res.selected_rows("top_k")
    s = compas.score
    t = np.sort(s)[::-1][K - 1]
    assert np.all(s[top] >= t) and np.sum(s > t) <= K <= np.sum(s >= t)
    # equal recall: every group within one person's worth of the highest
    ce = res.scenarios["current_equal"]
    active = [g for g in range(compas.n_groups) if res.positives[g] > 0]
    hi = max(ce.recall[g] for g in active)
    for g in active:
        assert ce.recall[g] >= hi - 1 / res.positives[g] - 1e-12
        assert ce.recall[g] <= hi
    # expanded contains the top K and everybody reaches the highest top-K recall
    ee = res.scenarios["expanded_equal"]
    assert np.all(res.selected_mask("expanded_equal")[top])
    assert np.all(ee.recall[active] >= ee.target[active] - 1e-12)
    # proportional targets are prevalence ratios times Caucasian's top-K recall
    ep = res.scenarios["expanded_proportional"]
    ref = compas.group_names.index("Caucasian")
    r_ref = res.scenarios["top_k"].recall[ref]
    for g in active:
        assert ep.target[g] == pytest.approx(min(1, res.prevalence[g] / res.prevalence[ref] * r_ref))
        assert ep.recall[g] >= ep.target[g] - 1e-12
    # the same seed gives the same lists
    again = run_recall(compas, RecallSettings(k=K, reference="Caucasian", seed=4))
    assert np.array_equal(again.selected_rows("current_equal"), res.selected_rows("current_equal"))


# ------------------------------------------------------------------------------------------
# workbook tables and the command line

def test_workbook_tables_and_selected_ids(tmp_path):
    rng = np.random.default_rng(9)
    score, label, group, _ = distinct_data(rng, 60, 3)
    ids = [f"P{i:03d}" for i in range(60)]
    data = make_data(score, label, group, ids=ids)
    res = run_recall(data, RecallSettings(k=10, seed=3))
    tables = recall_tables(res, data)
    path = write_workbook(tmp_path / "r.xlsx", about={"Recall": {"K": 10}}, tables=tables)
    wb = openpyxl.load_workbook(path)
    assert {"Recall scenarios", "Recall by group", "Precision and recall at k",
            "Recall lists"} <= set(wb.sheetnames)
    ws = wb["Recall scenarios"]
    titles = [ws.cell(row=r, column=1).value for r in range(3, 8)]
    assert titles == ["Top K", "Expanded – Equal", "Expanded – Proportional", "Current – Equal",
                      "Current – Proportional"]
    assert len(ws._charts) == 2
    ws = wb["Recall lists"]
    header = [c.value for c in ws[2]]
    assert header[:3] == ["Rank (1 = highest score)", "pid", "Spreadsheet row"]
    col = header.index("Current – Equal") + 1
    flagged = {ws.cell(row=r, column=2).value for r in range(3, ws.max_row + 1)
               if ws.cell(row=r, column=col).value == 1}
    expect = {ids[i] for i in res.selected_rows("current_equal")}
    assert flagged == expect and len(flagged) == 10
    # without an id column: spreadsheet row numbers
    data2 = make_data(score, label, group)
    res2 = run_recall(data2, RecallSettings(k=10, seed=3))
    cols, frame = selection_frame(res2, data2)
    assert "id" not in frame.columns
    rows = set(frame.loc[frame["top_k"] == 1, "row"])
    assert rows == set((res2.selected_rows("top_k") + 2).tolist())  # header is row 1
    out = write_selection_csv(tmp_path / "ids.csv", res2, data2)
    assert pd.read_csv(out, encoding="utf-8-sig").shape[0] == len(frame)


def run_cli(*args):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


@pytest.mark.skipif(not COMPAS.exists(), reason="shared data not present")
def test_cli_json(tmp_path):
    r = run_cli("recall", COMPAS, "--score", "decile_score", "--label", "two_year_recid",
                "--group", "race", "--k", "150", "--reference", "Caucasian", "--seed", "2", "--json",
                "--out", tmp_path / "r.xlsx")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["k"] == 150 and out["reference"] == "Caucasian"
    assert list(out["scenarios"]) == list(SCENARIOS_K)
    for key, s in out["scenarios"].items():
        assert {"size", "precision", "groups"} <= set(s)
        assert set(s["groups"]) == {"African-American", "Asian", "Caucasian", "Hispanic",
                                    "Native American", "Other"}
        for g in s["groups"].values():
            assert {"selected", "recall", "threshold"} <= set(g)
        if key.startswith("current") or key == "top_k":
            assert s["size"] == 150 and sum(g["selected"] for g in s["groups"].values()) == 150
    nulls = [(k, n) for k, s in out["scenarios"].items() for n, g in s["groups"].items()
             if g["threshold"] is None]
    assert all(any(f"['{n}'].threshold" in w for w in out["warnings"]) for k, n in nulls)
    assert (tmp_path / "r.xlsx").exists()


def test_cli_errors(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("s,y,g\n0.9,1,a\n0.1,0,a\n0.8,1,b\n0.3,1,b\n")
    r = run_cli("recall", f, "--score", "s", "--label", "y", "--group", "g")
    assert r.returncode == 2 and "--k" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("recall", f, "--score", "s", "--label", "y", "--group", "g", "--k", "2",
                "--reference", "zzz")
    assert r.returncode == 2 and "'zzz' is not a group" in r.stderr
    r = run_cli("recall", f, "--score", "s", "--label", "y", "--group", "g", "--recall", "50%",
                "--min-group-size", "1", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert list(out["scenarios"]) == list(SCENARIOS_RECALL)


@pytest.mark.parametrize("seed", range(3))
def test_ranking_is_the_stable_sort_of_the_shuffled_scores(seed):
    """The ranking's faster stable sort gives numpy's stable argsort's permutation: the same
    seeded tie order, hence the same lists, as before."""
    from fairdesk.engines.recall_balance import RankedGroups

    rng = np.random.default_rng(seed)
    n = 50_000
    score = np.round(rng.beta(2, 5, n), 2)  # heavy ties
    label = (rng.random(n) < score).astype(float)
    group = rng.integers(0, 4, n)
    ranked = RankedGroups(score, label, group, 4, seed=seed)
    perm = np.random.default_rng(np.random.SeedSequence(seed)).permutation(n)
    np.testing.assert_array_equal(ranked.global_order,
                                  perm[np.argsort(-score[perm], kind="stable")])
