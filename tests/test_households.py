"""Household aggregation policies, bin scores and protocols (Gerchick et al., FAccT 2023):
the audit's hypothetical family (Table 3), hand-computed households, brute-force AUC and
xAUC, a peer check against scikit-learn, feature disparity, errors, JSON, the command line
and the workbook tables."""

import itertools
import json
import math
import subprocess
import sys

import numpy as np
import openpyxl
import pandas as pd
import pytest

from conftest import ROOT
from fairdesk.engines.households import (EDGE_CONVENTION, HIGH, LOW, NO_PROTOCOL, POLICIES,
                                         HouseholdSettings, ProtocolRules,
                                         audit_households, communicated_scores,
                                         feature_disparity, rank_auc, ventile_scores)
from fairdesk.errors import FairDeskError
from fairdesk.metrics.thresholds import bin_edges
from fairdesk.present.formats import format_score
from fairdesk.present.formats import format_count, format_rate
from fairdesk.present.table import plain_value
from fairdesk.reports.households_report import (MEASURES, edges_table, features_table,
                                                households_tables, policy_table)
from fairdesk.undefined import Undefined
from fairdesk.reports.workbook import write_workbook
from fairdesk.schema import ColumnMapping
from fairdesk.validation import prepare

SAMPLE = ROOT / "resources" / "sample" / "sample_scores.csv"


def make_data(frame, *, weight=None, split=None, extras=("age", "flag"), lower=False,
              household="hh", groups=("grp",)):
    mapping = ColumnMapping(score="score", label="y", groups=list(groups), household=household,
                            weight=weight, split=split, extras=list(extras),
                            higher_is_positive=not lower)
    return prepare(frame, mapping, min_group_size=1)


# ================================================================== bin scores

def brute_bins(values, edges):
    return np.array([1 + sum(1 for e in edges if v >= e) for v in values])


def naive_edges(values, n_bins, weight=None):
    """Edge j: the smallest value with at least j/n of the weight strictly below it."""
    values = np.asarray(values, dtype=float)
    w = np.ones(values.size) if weight is None else np.asarray(weight, dtype=float)
    uniq = np.unique(values)
    below = np.array([w[values < u].sum() for u in uniq])
    out = []
    for j in range(1, n_bins):
        ok = [u for u, b in zip(uniq, below) if b >= j / n_bins * w.sum() - 1e-9]
        out.append(min(ok) if ok else math.inf)
    return np.array(out)


def test_ventiles_hold_five_percent_each_and_equal_goes_up():
    rng = np.random.default_rng(3)
    v = rng.permutation(np.arange(2000) / 2000.0)
    bins, edges = ventile_scores(v, 20)
    assert edges.size == 19
    np.testing.assert_array_equal(np.bincount(bins)[1:], np.full(20, 100))
    # edge j is the first score with j/20 of the scores below it (the "higher" quantile)
    np.testing.assert_allclose(edges, np.quantile(v, np.arange(1, 20) / 20, method="higher"))
    np.testing.assert_allclose(edges, naive_edges(v, 20))
    # the shared bin edges (fairdesk.metrics.thresholds) follow the same convention
    np.testing.assert_array_equal(bin_edges(v, 20), edges)
    # a value equal to an edge goes to the higher bin: edge j starts bin j + 1
    with_edges = np.r_[v, edges]
    reference = np.r_[np.ones(2000, bool), np.zeros(19, bool)]
    assert ventile_scores(with_edges, 20, reference=reference)[0][2000:].tolist() == \
        list(range(2, 21))
    np.testing.assert_array_equal(bins, brute_bins(v, edges))
    assert "higher" in EDGE_CONVENTION


@pytest.mark.parametrize("n_bins", [2, 7, 10, 20, 33])
def test_any_number_of_bins_from_a_reference_split(n_bins):
    rng = np.random.default_rng(n_bins)
    v = rng.random(3000).round(3)  # ties
    w = rng.choice([1.0, 2.0], 3000)
    ref = rng.random(3000) < 0.6
    bins, edges = ventile_scores(v, n_bins, reference=ref, weight=w)
    np.testing.assert_array_equal(edges, naive_edges(v[ref], n_bins, w[ref]))
    np.testing.assert_array_equal(bins, brute_bins(v, edges))
    assert bins.min() >= 1 and bins.max() <= n_bins
    # each bin holds about 1/n of the reference's weight (ties shift a little)
    share = np.bincount(bins[ref] - 1, w[ref], n_bins) / w[ref].sum()
    assert np.all(np.abs(share - 1 / n_bins) < 0.02)


def test_engine_edges_use_the_reference_split_and_the_orientation():
    rng = np.random.default_rng(11)
    n = 400
    frame = pd.DataFrame({"score": rng.random(n).round(4), "y": rng.integers(0, 2, n),
                          "grp": rng.choice(["A", "B"], n), "hh": rng.integers(0, 150, n),
                          "split": rng.choice(["train", "test"], n)})
    data = make_data(frame, split="split", extras=())
    res = audit_households(data, HouseholdSettings(reference_split="train", bins=10))
    train = frame["split"].to_numpy() == "train"
    np.testing.assert_allclose(res.edges, naive_edges(frame["score"][train], 10))
    assert res.reference == "split = train" and res.n_reference == train.sum()
    # lower score = riskier: edges in user units, bin 10 holds the lowest scores
    low = make_data(frame, extras=(), lower=True)
    res_low = audit_households(low, HouseholdSettings(bins=10))
    np.testing.assert_allclose(res_low.edges, -naive_edges(-frame["score"], 10))
    p1 = res_low.policy(1)
    top = frame["score"] <= res_low.edges[-1]  # at or beyond the last edge (user units)
    assert p1.distribution[-1][-1] == top.sum()


# ================================================================== the audit's Table 3

FAMILY = {"age": [5, 10, 15], "bins": [5, 10, 18], "flag": [1, 0, 0]}
# the audit's Table 3: what the screener sees for each child under each score policy
TABLE3 = {"individual": [5, 10, 18], "household_max": [18, 18, 18], "flagged_max": [5, 5, 5],
          "protocol": ["High-risk protocol"] * 3}


def test_table3_communicated_scores():
    out = communicated_scores(FAMILY["bins"], [7, 7, 7], FAMILY["flag"], FAMILY["age"])
    for policy, expected in TABLE3.items():
        assert list(out[policy]) == expected, policy


def family_frame(extra_households=()):
    rows = [{"hh": "fam", "grp": "Black", "score": s, "age": a, "flag": f, "y": y}
            for s, a, f, y in zip(FAMILY["bins"], FAMILY["age"], FAMILY["flag"], (0, 1, 0))]
    rows += list(extra_households)
    return pd.DataFrame(rows)


def test_table3_under_every_policy_through_the_engine():
    """Pre-binned scores 5, 10, 18: the score each policy communicates, read back from the
    policy's score distribution (people for person-level policies, one household else)."""
    data = make_data(family_frame())
    res = audit_households(data, HouseholdSettings(prebinned=True, flag="flag", age="age"))
    for number, (score, outcome) in POLICIES.items():
        p = res.policy(number)
        assert (p.score, p.outcome) == (score, outcome)
        counts = p.distribution[-1]
        shown = [lvl for lvl, c in zip(p.levels, counts) for _ in range(int(c))]
        expected = TABLE3[score] if outcome == "individual" else TABLE3[score][:1]
        if score != "protocol":
            expected = [str(e) for e in sorted(expected)]
        assert shown == expected, number


def test_table3_from_probabilities_binned_on_a_reference_split():
    """The same family with probabilities that fall in bins 5, 10 and 18 of a reference set."""
    ref = pd.DataFrame({"hh": [f"r{i}" for i in range(2000)], "grp": "White",
                        "score": np.arange(2000) / 2000, "age": 17, "flag": 0,
                        "y": np.arange(2000) % 2, "split": "reference"})
    fam = family_frame()
    fam["score"] = [(b - 0.5) / 20 for b in FAMILY["bins"]]  # mid-bin
    fam["split"] = "new"
    data = make_data(pd.concat([ref, fam], ignore_index=True), split="split")
    res = audit_households(data, HouseholdSettings(flag="flag", age="age",
                                                   reference_split="reference"))
    np.testing.assert_allclose(res.edges, np.arange(1, 20) / 20)  # exactly j/20
    fam_rows = np.flatnonzero(data.split == "new")
    from fairdesk.engines.households import binary_column
    flag, _ = binary_column(data.extras["flag"], "flag")
    bins, _ = ventile_scores(data.oriented, 20, data.split == "reference")
    out = communicated_scores(bins, data.households, flag, data.extras["age"].astype(float))
    for policy, expected in TABLE3.items():
        assert list(out[policy][fam_rows]) == expected, policy
    # the household-level protocol policy (5) has exactly one High-risk household: the family
    p5 = res.policy(5)
    assert p5.distribution[-1][HIGH] == 1


def test_protocol_rules_and_their_configuration():
    rules = ProtocolRules()
    # max 18 with a child under 16: High; the same with everyone 16 or older: none
    assert rules.assign([18, 18], [15, 16], [0, 0]).tolist() == [HIGH, NO_PROTOCOL]
    # all scores <= 12 and every child at least 7: Low; one child of 6: none
    assert rules.assign([12, 12, 13], [7, 6, 7], [0, 0, 0]).tolist() == [LOW, NO_PROTOCOL,
                                                                        NO_PROTOCOL]
    # a missing age blocks Low-risk and is never "under 16"
    assert rules.assign([10, 19], [8, np.nan], [1, 1]).tolist() == [NO_PROTOCOL, NO_PROTOCOL]
    # configurable: with High at 19 the audit's family gets no protocol
    out = communicated_scores(FAMILY["bins"], [1, 1, 1], FAMILY["flag"], FAMILY["age"],
                              ProtocolRules(high_min_score=19))
    assert list(out["protocol"]) == ["No protocol"] * 3
    # conflicting custom rules: High wins
    assert ProtocolRules(low_max_score=20, high_min_score=1).assign([5], [3], [0]).tolist() == [HIGH]


def test_flagged_max_falls_back_to_the_household_maximum():
    out = communicated_scores([3, 9, 4, 2, 15], [1, 1, 2, 2, 2], [0, 0, 0, 1, 0])
    assert list(out["flagged_max"]) == [9, 9, 2, 2, 2]
    assert list(out["household_max"]) == [9, 9, 15, 15, 15]
    assert out["protocol"] is None


# ================================================================== hand-computed households

HAND = pd.DataFrame([
    # person, household, group, bin, outcome, age, flag
    ("a", "H1", "B", 17, 0, 4, 0), ("b", "H1", "W", 3, 1, 9, 1), ("c", "H2", "W", 10, 0, 8, 0),
    ("d", "H3", "B", 12, 1, 2, 1), ("e", "H3", "B", 16, 0, 12, 0), ("f", "H4", "W", 18, 1, 17, 0),
    ("g", "H5", "B", 19, 0, 5, 0), ("h", "H5", "B", 5, 0, 10, 0)],
    columns=["person", "hh", "grp", "score", "y", "age", "flag"])

# worked by hand (see the pairs in the comments of the expected values)
EXPECTED = {
    # policy: (AUC overall, AUC B, AUC W, xAUC B, xAUC W, FPR overall, FPR B, FPR W)
    1: (6 / 15, 1 / 4, 1 / 2, 1.0, 3 / 8, 3 / 5, 3 / 4, 0.0),
    2: (7 / 15, 0.5 / 4, 1.0, 1.0, 3.5 / 8, 4 / 5, 1.0, 0.0),
    3: (3 / 6, 0.0, 1.0, 1.0, 0.0, 1 / 2, 1.0, 0.0),
    # protocol policies (numbered as the audit): no AUC (three levels, the audit's Table 4).
    # Protocols: H1, H3, H4 none, H2 Low, H5 High; ranked Low < none < High, ties broken by the
    # household maximum: c (Low 10) < d = e (16) < a = b (17) < f (18) < g = h (High 19).
    # 4 (protocol, person): xAUC B: d over c = 1; xAUC W: b, f over a, e, g, h = (.5+1+1+1)/8;
    # FPR: g, h flagged of the negatives a c e g h; B: g, h of a e g h; W: c not flagged
    4: (math.nan, math.nan, math.nan, 1.0, 3.5 / 8, 2 / 5, 2 / 4, 0.0),
    5: (math.nan, math.nan, math.nan, 1.0, 0.0, 1 / 2, 1.0, 0.0),
    6: (6 / 15, 1.5 / 4, 1 / 2, 1.0, 2.5 / 8, 2 / 5, 2 / 4, 0.0),  # flagged max, person
    7: (2 / 6, 0.0, 1 / 2, 1 / 2, 0.0, 1 / 2, 1.0, 0.0),  # flagged max, household
}


@pytest.fixture(scope="module")
def hand_result():
    data = make_data(HAND)
    return audit_households(data, HouseholdSettings(prebinned=True, flag="flag", age="age"))


@pytest.mark.parametrize("number", sorted(EXPECTED))
def test_hand_computed_policy(hand_result, number):
    p = hand_result.policy(number)
    names = hand_result.group_names
    assert names == ["B", "W"]
    b, w = 0, 1
    got = (p.auc_overall, p.auc[b], p.auc[w], p.xauc[b], p.xauc[w], p.fpr_overall, p.fpr[b],
           p.fpr[w])
    assert got == pytest.approx(EXPECTED[number], nan_ok=True)
    if p.score == "protocol":
        assert p.auc_note and "Table 4" in p.auc_note
    assert p.n_units == (8 if p.outcome == "individual" else 5)


def test_hand_computed_protocols_sizes_and_distributions(hand_result):
    p6 = hand_result.policy(5)  # protocol, household outcome
    # H2 Low (max 10, age 8); H1, H3 none; H4 none (max 18 but nobody under 16); H5 High
    assert p6.distribution[-1].tolist() == [1, 3, 1]
    assert p6.distribution[0].tolist() == [0, 2, 1]  # B households (any member): H1, H3, H5
    assert p6.tpr_overall == 0.0
    p3 = hand_result.policy(3)
    assert {p3.levels[i]: c for i, c in enumerate(p3.distribution[-1]) if c} == \
        {"10": 1, "16": 1, "17": 1, "18": 1, "19": 1}
    assert p3.n.tolist() == [3, 3]  # H1 is mixed: in both groups
    size = hand_result.sizes["household_max"]
    assert size.sizes[:2] == ["1", "2"] and size.sizes[-1] == "6+"
    w = hand_result.group_names.index("W")
    assert size.rate[w, :2].tolist() == [0.5, 1.0]
    assert size.ratio[w, 1] == 1.0
    assert math.isnan(size.ratio[w, 0])  # no one-person household outside W
    flagged = hand_result.sizes["flagged_max"]
    assert flagged.rate[w, 1] == 0.0 and flagged.rate_other[w, 1] == 0.5
    assert flagged.ratio[w, 1] == 0.0


def test_hand_computed_membership_all(hand_result):
    res = audit_households(make_data(HAND), HouseholdSettings(prebinned=True, flag="flag",
                                                              age="age", membership="all"))
    p3 = res.policy(3)
    assert p3.n.tolist() == [2, 2]  # the mixed household H1 is in no group
    assert (p3.auc[0], p3.auc[1], p3.xauc[0], p3.xauc[1]) == (0.0, 1.0, 1.0, 0.0)
    majority = audit_households(make_data(HAND), HouseholdSettings(
        prebinned=True, flag="flag", age="age", membership="majority"))
    assert majority.policy(3).n.tolist() == [2, 2]  # 1 of 2 is not a majority


# ================================================================== brute force

def naive_policy(frame, score_policy, outcome, membership, cutoff, rules, tie_break, G, bins):
    """Per-household loops and all pairs: the reference implementation."""
    households = {}
    for i, row in frame.iterrows():
        households.setdefault(row["hh"], []).append(i)
    comm, key, unit_y, unit_w, unit_groups = {}, {}, [], [], []
    units = []
    for h, members in households.items():
        mx = max(members, key=lambda i: (bins[i], frame.at[i, "score"]))
        flagged = [i for i in members if frame.at[i, "flag"] == 1]
        fm = max(flagged, key=lambda i: (bins[i], frame.at[i, "score"])) if flagged else mx
        ages = [frame.at[i, "age"] for i in members]
        if bins[mx] >= rules.high_min_score and any(a < rules.high_any_age_below for a in ages):
            proto = 2
        elif bins[mx] <= rules.low_max_score and all(a >= rules.low_all_age_at_least for a in ages):
            proto = 0
        else:
            proto = 1
        for i in members:
            if score_policy == "individual":
                src = i
            elif score_policy == "household_max":
                src = mx
            elif score_policy == "flagged_max":
                src = fm
            else:
                src = None
            if src is not None:
                comm[i] = bins[src]
                key[i] = (bins[src], frame.at[src, "score"]) if tie_break else (bins[src],)
            else:
                comm[i] = proto
                key[i] = (proto, frame.at[mx, "score"]) if tie_break else (proto,)
        if outcome == "household":
            gs = [frame.at[i, "g"] for i in members]
            if membership in ("any", "footnote5"):
                grp = {g for g in gs}
            elif membership == "all":
                grp = {gs[0]} if len(set(gs)) == 1 else set()
            else:
                grp = {g for g in set(gs) if 2 * gs.count(g) > len(gs)}
            units.append((key[members[0]], comm[members[0]],
                          int(any(frame.at[i, "y"] for i in members)), 1.0, grp))
    if outcome == "individual":
        units = [(key[i], comm[i], int(frame.at[i, "y"]), float(frame.at[i, "w"]),
                  {frame.at[i, "g"]}) for i in frame.index]

    def auc(pos_units, neg_units):
        num = den = 0.0
        for kp, _, _, wp, _ in pos_units:
            for kn, _, _, wn, _ in neg_units:
                den += wp * wn
                num += wp * wn * (1.0 if kp > kn else 0.5 if kp == kn else 0.0)
        return num / den if den > 0 else math.nan

    pos = [u for u in units if u[2] == 1]
    neg = [u for u in units if u[2] == 0]
    out = {"auc_overall": auc(pos, neg), "auc": [], "xauc": [], "fpr": [], "fpr_rest": []}
    for g in range(G):
        pg = [u for u in pos if g in u[4]]
        ng = [u for u in neg if g in u[4]]
        nout = [u for u in neg if g not in u[4]]
        out["auc"].append(auc(pg, ng))
        out["xauc"].append(auc(pg, nout))
        flag = (lambda u: u[1] == 2) if score_policy == "protocol" else (lambda u: u[1] >= cutoff)
        den = sum(u[3] for u in ng)
        out["fpr"].append(sum(u[3] for u in ng if flag(u)) / den if den > 0 else math.nan)
        den = sum(u[3] for u in nout)  # footnote 5: the rest, the units not in g
        out["fpr_rest"].append(sum(u[3] for u in nout if flag(u)) / den if den > 0 else math.nan)
    if score_policy == "protocol":  # three levels: no AUC, as in the audit's Table 4
        out["auc_overall"], out["auc"] = math.nan, [math.nan] * G
    return out


def random_frame(seed, n=120):
    rng = np.random.default_rng(seed)
    hh = rng.integers(0, 45, n)
    base = rng.normal(size=45)[hh]
    g = rng.integers(0, 3, 45)[hh]
    g = np.where(rng.random(n) < 0.15, rng.integers(0, 3, n), g)  # mixed households
    score = (1 / (1 + np.exp(-(base + rng.normal(scale=0.7, size=n))))).round(2)  # ties
    return pd.DataFrame({"hh": hh, "grp": np.array(["G0", "G1", "G2"])[g], "g": g,
                         "score": score, "y": (rng.random(n) < score).astype(int),
                         "age": rng.integers(0, 18, n), "flag": (rng.random(n) < 0.3).astype(int),
                         "w": rng.choice([1.0, 2.0, 0.5], n)})


@pytest.mark.parametrize("seed,membership,tie_break,weighted", [
    (1, "any", True, False), (2, "all", True, True), (3, "majority", False, False),
    (4, "any", False, True), (5, "any", True, True), (6, "footnote5", True, False)])
def test_auc_xauc_fpr_match_brute_force(seed, membership, tie_break, weighted):
    frame = random_frame(seed)
    data = make_data(frame, weight="w" if weighted else None)
    if not weighted:
        frame["w"] = 1.0
    rules = ProtocolRules(high_min_score=15, low_max_score=8)
    s = HouseholdSettings(bins=20, flag="flag", age="age", membership=membership, cutoff=14,
                          protocol=rules, tie_break=tie_break)
    res = audit_households(data, s)
    bins, _ = ventile_scores(data.oriented, 20, weight=data.weight)
    for p in res.policies:
        ref = naive_policy(frame, p.score, p.outcome, membership, 14, rules, tie_break, 3, bins)
        assert p.auc_overall == pytest.approx(ref["auc_overall"], nan_ok=True), p.number
        np.testing.assert_allclose(p.auc, ref["auc"], err_msg=f"policy {p.number}", equal_nan=True)
        np.testing.assert_allclose(p.xauc, ref["xauc"], err_msg=f"policy {p.number}",
                                   equal_nan=True)
        np.testing.assert_allclose(p.fpr, ref["fpr"], err_msg=f"policy {p.number}", equal_nan=True)
        np.testing.assert_allclose(p.fpr_rest, ref["fpr_rest"], err_msg=f"policy {p.number}",
                                   equal_nan=True)


def test_tie_break_changes_the_auc_only_through_ties():
    frame = random_frame(8, 300)
    data = make_data(frame)
    on = audit_households(data, HouseholdSettings(tie_break=True))
    off = audit_households(data, HouseholdSettings(tie_break=False))
    # with ties broken by the probability, policy 1 is the plain AUC of the scores
    from fairdesk.metrics.ranking import overall_auc
    assert on.policy(1).auc_overall == pytest.approx(overall_auc(frame["score"], frame["y"]))
    assert off.policy(1).auc_overall != pytest.approx(on.policy(1).auc_overall)
    # the FPR does not depend on the ranking
    for a, b in zip(on.policies, off.policies):
        np.testing.assert_array_equal(a.fpr, b.fpr)


def test_rank_auc_against_brute_force_pairs():
    rng = np.random.default_rng(5)
    n = 200
    key = rng.integers(0, 30, n)
    y = rng.integers(0, 2, n)
    w = rng.random(n) + 0.1
    member = np.stack([rng.random(n) < 0.5, rng.random(n) < 0.3]).astype(float)  # overlapping
    overall, auc, xauc = rank_auc(key, 30, y, w, member)

    def brute(pi, ni):
        num = den = 0.0
        for i, j in itertools.product(pi, ni):
            den += w[i] * w[j]
            num += w[i] * w[j] * (key[i] > key[j]) + 0.5 * w[i] * w[j] * (key[i] == key[j])
        return num / den

    P, N = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    assert overall == pytest.approx(brute(P, N))
    for g in range(2):
        m = member[g] > 0
        assert auc[g] == pytest.approx(brute(P[m[P]], N[m[N]]))
        assert xauc[g] == pytest.approx(brute(P[m[P]], N[~m[N]]))


def test_person_level_auc_matches_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    frame = pd.read_csv(SAMPLE)
    data = prepare(frame, ColumnMapping(score="score", label="outcome", groups=["race"],
                                        household="household_id", weight="weight"))
    res = audit_households(data, HouseholdSettings())
    p1 = res.policy(1)
    assert p1.auc_overall == pytest.approx(metrics.roc_auc_score(
        frame["outcome"], frame["score"], sample_weight=frame["weight"]))
    for g, name in enumerate(res.group_names):
        m = frame["race"] == name
        assert p1.auc[g] == pytest.approx(metrics.roc_auc_score(
            frame["outcome"][m], frame["score"][m], sample_weight=frame["weight"][m]))
    # household max at household level = AUC of each household's maximum probability
    hh = frame.groupby("household_id").agg(score=("score", "max"), y=("outcome", "max"))
    assert res.policy(3).auc_overall == pytest.approx(metrics.roc_auc_score(hh["y"], hh["score"]))


def test_fpr_and_selection_against_fairlearn():
    """Person level (policy 2) by group, and household level (policy 7) with "any member is
    in Group C" as the sensitive feature, against fairlearn's MetricFrame."""
    fl = pytest.importorskip("fairlearn.metrics")
    frame = pd.read_csv(SAMPLE)
    data = prepare(frame, ColumnMapping(score="score", label="outcome", groups=["race"],
                                        household="household_id", weight="weight",
                                        extras=["alleged_victim"]))
    res = audit_households(data, HouseholdSettings(flag="alleged_victim"))
    frame["bin"] = np.searchsorted(naive_edges(frame["score"], 20, frame["weight"]),
                                   frame["score"], side="right") + 1
    frame["hh_max"] = frame.groupby("household_id")["bin"].transform("max")
    mf = fl.MetricFrame(metrics={"fpr": fl.false_positive_rate, "sel": fl.selection_rate},
                        y_true=frame["outcome"], y_pred=(frame["hh_max"] >= 16).astype(int),
                        sensitive_features=frame["race"],
                        sample_params={"fpr": {"sample_weight": frame["weight"]},
                                       "sel": {"sample_weight": frame["weight"]}})
    p2 = res.policy(2)
    for g, name in enumerate(res.group_names):
        assert p2.fpr[g] == pytest.approx(mf.by_group.loc[name, "fpr"])
        assert p2.screen_in[g] == pytest.approx(mf.by_group.loc[name, "sel"])
    assert p2.fpr_overall == pytest.approx(mf.overall["fpr"])
    # flagged maximum per household, the household maximum when no one is flagged
    flagged_bin = frame["bin"].where(frame["alleged_victim"] == 1)
    hh = frame.assign(fb=flagged_bin).groupby("household_id").agg(
        fb=("fb", "max"), mx=("bin", "max"), y=("outcome", "max"),
        c=("race", lambda r: "Group C" in set(r)))
    hh["shown"] = hh["fb"].fillna(hh["mx"])
    mf = fl.MetricFrame(metrics=fl.false_positive_rate, y_true=hh["y"],
                        y_pred=(hh["shown"] >= 16).astype(int), sensitive_features=hh["c"])
    c = res.group_names.index("Group C")
    assert res.policy(7).fpr[c] == pytest.approx(mf.by_group.loc[True])
    assert res.policy(7).fpr_overall == pytest.approx(mf.overall)
    # footnote 5: the rest of Group C is the households with no member in it
    assert res.policy(7).fpr_rest[c] == pytest.approx(mf.by_group.loc[False])


def test_fpr_and_screen_in_against_pandas_on_the_sample():
    frame = pd.read_csv(SAMPLE)
    data = prepare(frame, ColumnMapping(score="score", label="outcome", groups=["race"],
                                        household="household_id", split="split",
                                        extras=["age", "alleged_victim"]))
    res = audit_households(data, HouseholdSettings(flag="alleged_victim", age="age",
                                                   reference_split="train"))
    edges = naive_edges(frame["score"][frame["split"] == "train"], 20)
    frame["bin"] = np.searchsorted(edges, frame["score"], side="right") + 1
    hh = frame.groupby("household_id").agg(mx=("bin", "max"), y=("outcome", "max"),
                                           size=("bin", "size"))
    black = frame.groupby("household_id")["race"].agg(lambda r: "Group B" in set(r))
    flagged = (hh["mx"] >= 16)
    neg = hh["y"] == 0
    g = res.group_names.index("Group B")
    p3 = res.policy(3)
    assert p3.fpr[g] == pytest.approx((flagged & neg & black).sum() / (neg & black).sum())
    assert p3.fpr_overall == pytest.approx((flagged & neg).sum() / neg.sum())
    assert p3.screen_in[g] == pytest.approx(flagged[black].mean())
    size = res.sizes["household_max"]
    two = hh["size"] == 2
    assert size.rate[g, 1] == pytest.approx(flagged[black & two].mean())
    assert size.ratio[g, 1] == pytest.approx(flagged[black & two].mean()
                                             / flagged[~black & two].mean())


# ================================================================== features

def test_feature_disparity_risk_ratio_sorted():
    frame = pd.DataFrame({"grp": ["A"] * 4 + ["B"] * 4 + ["C"] * 2, "score": 0.5, "y": [0, 1] * 5,
                          "hh": range(10),
                          "probation": [1, 1, 0, 0, 1, 0, 0, 0, 0, 0],  # A 2/4, B 1/4 -> 2
                          "benefits": ["yes", "yes", "yes", "no", "yes", "yes", "no", "no",
                                       "yes", "no"],  # A 3/4, B 2/4 -> 1.5
                          "never_b": [1, 0, 0, 0, 0, 0, 0, 0, 0, 0],  # B 0 -> infinite
                          "age": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]})
    data = make_data(frame, extras=("probation", "benefits", "never_b", "age"))
    rows, groups, skipped = feature_disparity(data, list(data.extras), "A", "B")
    assert groups == ("A", "B") and skipped == ["age"]
    assert [r["feature"] for r in rows] == ["never_b", "probation", "benefits"]
    assert rows[0]["ratio"] == math.inf
    assert rows[1]["ratio"] == pytest.approx(2.0) and rows[2]["ratio"] == pytest.approx(1.5)
    # against everyone outside A: probation 2/4 vs 1/6
    rows, groups, _ = feature_disparity(data, ["probation"], "A", None)
    assert groups == ("A", "all other groups") and rows[0]["ratio"] == pytest.approx(3.0)
    with pytest.raises(FairDeskError, match="not a group"):
        feature_disparity(data, ["probation"], "Z")


# ================================================================== errors and JSON

def test_bad_input_gives_messages_not_tracebacks():
    frame = HAND.copy()
    data = make_data(frame)
    frame_bad = frame.assign(flag=[0, 1, 2, 0, 0, 0, 0, 0])
    with pytest.raises(FairDeskError, match=r"'flag'.*row 4"):
        audit_households(make_data(frame_bad), HouseholdSettings(prebinned=True, flag="flag"))
    with pytest.raises(FairDeskError, match="not among the extra attributes"):
        audit_households(data, HouseholdSettings(flag="alleged_victim"))
    with pytest.raises(FairDeskError, match="no split column"):
        audit_households(data, HouseholdSettings(reference_split="train"))
    with pytest.raises(FairDeskError, match="bin scores 1 to 10"):
        audit_households(data, HouseholdSettings(prebinned=True, bins=10, cutoff=8))
    with pytest.raises(FairDeskError, match="cutoff"):
        audit_households(data, HouseholdSettings(cutoff=25))
    no_hh = prepare(frame, ColumnMapping(score="score", label="y", groups=["grp"]),
                    min_group_size=1)
    with pytest.raises(FairDeskError, match="household id column"):
        audit_households(no_hh, HouseholdSettings())
    age_text = frame.astype({"age": object})
    age_text.loc[3, "age"] = "twelve"
    with pytest.raises(FairDeskError, match=r"'age'.*row 5"):
        audit_households(make_data(age_text), HouseholdSettings(prebinned=True, age="age"))


def test_missing_columns_leave_policies_unavailable_and_json_nulls_explained():
    frame = HAND.copy()
    frame.loc[7, "hh"] = None  # a person without a household: a household of one
    res = audit_households(make_data(frame, extras=()), HouseholdSettings(prebinned=True))
    out = json.loads(json.dumps(res.to_json()))
    assert [p["policy"] for p in out["policies"]] == [1, 2, 3, 4, 5, 6, 7]
    assert [p["available"] for p in out["policies"]] == [True, True, True, False, False, False,
                                                         False]
    assert out["policies"][3]["auc"]["overall"] is None
    assert any("household of one" in w for w in out["warnings"])
    assert any("Policy 4" in w and "age column" in w for w in out["warnings"])
    assert any("Policy 7" in w and "flag column" in w for w in out["warnings"])
    assert out["n_households"] == 6
    # a null value always comes with a reason
    hand = audit_households(make_data(HAND), HouseholdSettings(prebinned=True, flag="flag",
                                                               age="age")).to_json()
    p3 = hand["policies"][2]
    assert set(p3) >= {"policy", "score", "outcome", "auc", "xauc", "fpr"}
    assert p3["score"] == "household_max" and p3["outcome"] == "household"
    assert set(p3["auc"]) == {"B", "W", "overall"} and set(p3["xauc"]) == {"B", "W"}
    assert hand["edges"] == [] and hand["prebinned"] is True
    single = audit_households(make_data(HAND.assign(grp="all")),
                              HouseholdSettings(prebinned=True)).to_json()
    assert single["policies"][0]["xauc"]["all"] is None
    assert any("xAUC of group 'all' is undefined" in w for w in single["warnings"])


# ================================================================== command line and workbook

def run_cli(*args):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_cli_json_on_the_sample(tmp_path):
    out_xlsx = tmp_path / "households.xlsx"
    r = run_cli("households", SAMPLE, "--score", "score", "--label", "outcome", "--group", "race",
                "--household", "household_id", "--flag", "alleged_victim", "--age", "age",
                "--split", "split", "--reference-split", "train", "--json", "--out", out_xlsx)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert [p["policy"] for p in out["policies"]] == [1, 2, 3, 4, 5, 6, 7]
    assert [(p["score"], p["outcome"]) for p in out["policies"]] == list(POLICIES.values())
    frame = pd.read_csv(SAMPLE)
    np.testing.assert_allclose(out["edges"], naive_edges(
        frame["score"][frame["split"] == "train"], 20))
    groups = sorted(frame["race"].unique())
    for p in out["policies"]:
        assert set(p["auc"]) == set(groups) | {"overall"}
        assert set(p["xauc"]) == set(groups)
        assert set(p["fpr"]) == set(groups) | {"overall"}
        assert all(v is None or 0 <= v <= 1 for v in p["fpr"].values())
    # the command reads the same numbers as the engine
    data = prepare(frame, ColumnMapping(score="score", label="outcome", groups=["race"],
                                        household="household_id", split="split",
                                        extras=["alleged_victim", "age"]))
    res = audit_households(data, HouseholdSettings(flag="alleged_victim", age="age",
                                                   reference_split="train"))
    assert out["policies"][5]["fpr"]["overall"] == pytest.approx(res.policy(6).fpr_overall)
    wb = openpyxl.load_workbook(out_xlsx)
    assert "Household policies" in wb.sheetnames and "Bin edges" in wb.sheetnames


def test_cli_reference_split_finds_the_split_column():
    """The issue's command line names the reference split value only."""
    r = run_cli("households", SAMPLE, "--score", "score", "--label", "outcome", "--group", "race",
                "--household", "household_id", "--reference-split", "test", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    frame = pd.read_csv(SAMPLE)
    np.testing.assert_allclose(out["edges"], naive_edges(frame["score"][frame["split"] == "test"],
                                                         20))
    assert out["reference"] == "split = test"
    assert any("column 'split'" in w for w in out["warnings"])


def test_cli_text_and_errors():
    r = run_cli("households", SAMPLE, "--score", "score", "--label", "outcome", "--group", "race",
                "--household", "household_id", "--bins", "10", "--cutoff", "8")
    assert r.returncode == 0, r.stderr
    assert "Policy" in r.stdout and "flag column" in r.stdout
    # the text is the window's and the workbook's policy table: the same rate, the same words
    data = prepare(pd.read_csv(SAMPLE), ColumnMapping(score="score", label="outcome",
                                                      groups=["race"], household="household_id"))
    res = audit_households(data, HouseholdSettings(bins=10, cutoff=8))
    fpr = format_rate(res.policy(3).fpr_overall)
    assert any(line.startswith("FPR") and "overall" in line and fpr in line
               for line in r.stdout.splitlines())
    r = run_cli("households", SAMPLE, "--score", "score", "--label", "outcome", "--group", "race",
                "--household", "household_id", "--flag", "no_such_column")
    assert r.returncode == 2 and "no_such_column" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("households", SAMPLE, "--score", "score", "--label", "outcome", "--group", "race",
                "--household", "household_id", "--reference-split", "validation")
    assert r.returncode == 2 and "'validation'" in r.stderr and "split" in r.stderr
    r = run_cli("households", SAMPLE, "--score", "score", "--label", "outcome", "--group", "race",
                "--household", "household_id", "--split", "split", "--reference-split", "dev")
    assert r.returncode == 2 and "'test', 'train'" in r.stderr
    r = run_cli("households", SAMPLE, "--score", "score", "--label", "outcome", "--group", "race")
    assert r.returncode == 2 and "household" in r.stderr


def test_workbook_tables(tmp_path, hand_result):
    tables = households_tables(hand_result)
    sheets = [t.sheet for t in tables]
    assert sheets[0] == "Household policies" and "Bin edges" in sheets
    main = tables[0]
    rows = {(plain_value(r["measure"]), plain_value(r["group"])): r for r in main.rows}
    assert plain_value(rows[("AUC", "overall")]["p3"]) == pytest.approx(0.5)
    assert plain_value(rows[("xAUC", "W")]["p2"]) == pytest.approx(3.5 / 8)
    assert plain_value(rows[("AUC", "B")]["p7"]) == 0.0  # flagged max, household outcome
    assert "Table 4" in rows[("AUC", "B")]["p5"].tip  # protocol: no AUC
    assert rows[("AUC", "B")]["p5"].value == "not reported"
    assert plain_value(rows[("FPR of the rest", "W")]["p3"]) == 1.0  # footnote 5
    path = write_workbook(tmp_path / "h.xlsx", about={"Test": {"a": 1}}, tables=tables)
    wb = openpyxl.load_workbook(path)
    ws = wb["Household policies"]
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert any("household max" in t.lower() for t in texts)


def _expected(p, key, gi):
    if key == "n":
        return p.n_units if gi is None else int(p.n[gi])
    return getattr(p, f"{key}_overall") if gi is None else getattr(p, key)[gi]


def test_policy_table_is_the_engine_result():
    """Every cell of the one policy table (window and workbook) against the engine: the
    value, its kind (rates read 75.0 %), undefined values with their reason, policies not
    computed and protocol AUCs with theirs."""
    frame = HAND.copy()
    frame.loc[frame["grp"] == "W", "y"] = 1  # W has no one without the outcome: FPR 0/0
    res = audit_households(make_data(frame), HouseholdSettings(prebinned=True, flag="flag"))
    table = policy_table(res)
    names = res.group_names
    labels = {label: key for key, (label, *_r) in MEASURES.items()}
    undefined = 0
    for row in table.rows:
        key = labels[plain_value(row["measure"])]
        group = plain_value(row["group"])
        gi = None if group == "overall" else names.index(group)
        assert row["group"].swatch == gi
        for p in res.policies:
            c = row[f"p{p.number}"]
            col = table.column(f"p{p.number}")
            if not p.available:  # no age column: the protocol policies
                assert c.value == "—" and "age column" in c.tip and c.muted
            elif key == "auc" and p.auc_note:
                assert c.value == "not reported" and "Table 4" in c.tip
            elif math.isnan(_expected(p, key, gi)):
                undefined += 1
                assert isinstance(c.value, Undefined) and f"Policy {p.number}" in c.value.reason
                assert col.text(c) == "undefined"
            else:
                assert c.value == pytest.approx(_expected(p, key, gi))
                if MEASURES[key][3] == "rate":
                    assert col.text(c) == format_rate(c.value)
                elif key == "n":
                    assert col.text(c) == format_count(c.value)
                else:
                    assert col.text(c) == f"{c.value:.3f}"
    assert undefined >= 2  # FPR of W (0/0) under the person- and household-level policies
    fpr_w = next(r for r in table.rows if plain_value(r["measure"]) == "FPR"
                 and plain_value(r["group"]) == "W")["p1"].value
    assert "0/0" in fpr_w.reason and "without the outcome" in fpr_w.reason
    assert any("Policy 4 not computed" in n for n in table.notes)


def test_edges_and_features_tables(hand_result):
    t = edges_table(hand_result)  # pre-binned scores: no edges, each one says why
    assert [r["bin"] for r in t.rows] == list(range(1, 21))
    assert all(r["lower"].value == "—" and "bin scores" in r["lower"].tip for r in t.rows)
    assert t.column("share_all").text(t.rows[16]["share_all"]) == \
        format_rate(hand_result.bin_share_all[16])
    data = prepare(pd.read_csv(SAMPLE), ColumnMapping(score="score", label="outcome",
                                                      groups=["race"], household="household_id"))
    res = audit_households(data, HouseholdSettings(bins=10))
    t = edges_table(res, 2)
    assert t.rows[1]["lower"].value == res.edges[0]
    assert t.column("lower").text(t.rows[1]["lower"]) == format_score(res.edges[0], 2)
    rows = [{"feature": "x", "share_a": 0.5, "share_b": 0.0, "ratio": math.inf, "n_a": 4,
             "n_b": 2, "with_a": 2.0, "with_b": 0.0},
            {"feature": "y", "share_a": 0.25, "share_b": 0.5, "ratio": 0.5, "n_a": 4, "n_b": 2,
             "with_a": 1.0, "with_b": 1.0},
            {"feature": "z", "share_a": 0.0, "share_b": 0.0, "ratio": math.nan, "n_a": 4,
             "n_b": 2, "with_a": 0.0, "with_b": 0.0}]
    t = features_table(rows, ("A", "B"))
    ratio = t.column("ratio")
    assert ratio.text(t.rows[0]["ratio"]) == "∞" and "No one in B" in t.rows[0]["ratio"].tip
    assert ratio.text(t.rows[1]["ratio"]) == "0.50" and t.rows[1]["ratio"].tip == \
        "1 of 4 in A; 1 of 2 in B"
    assert isinstance(t.rows[2]["ratio"].value, Undefined) and "0/0" in t.rows[2]["ratio"].value.reason
    assert t.column("share_a").text(t.rows[1]["share_a"]) == "25.0 %"
    assert features_table([], ("A", "B")) is None


def test_policies_numbered_as_the_aclu_audit_and_footnote5_rest(hand_result):
    """Issue 14: 1 indiv/indiv, 2 hh max/indiv, 3 hh max/hh, 4 protocol/indiv, 5 protocol/hh,
    6 max alleged-victim (flagged) score/indiv, 7 flagged max/hh; footnote 5 by default."""
    assert POLICIES == {1: ("individual", "individual"), 2: ("household_max", "individual"),
                        3: ("household_max", "household"), 4: ("protocol", "individual"),
                        5: ("protocol", "household"), 6: ("flagged_max", "individual"),
                        7: ("flagged_max", "household")}
    assert hand_result.settings.membership == "footnote5"
    # policy 3, household outcome; B households H1 H3 H5, rest H2 (no outcome, max 10) and
    # H4 (outcome, max 18): FPR of the rest of B = 0/1, screen-in 1/2; W households H1 H2 H4,
    # rest H3 (outcome) and H5 (no outcome, max 19 >= 16): FPR of the rest of W = 1/1
    p3 = hand_result.policy(3)
    assert p3.fpr_rest.tolist() == [0.0, 1.0]
    assert p3.screen_in_rest.tolist() == [0.5, 1.0]
    out = hand_result.to_json()
    j3 = out["policies"][2]
    assert j3["fpr_rest"] == {"B": 0.0, "W": 1.0}
    assert "outside 'B'" in j3["xauc_direction"]["B"] and "WITH the outcome" in j3["xauc_direction"]["B"]
    j4 = out["policies"][3]
    assert j4["auc"]["overall"] is None and "Table 4" in j4["auc_note"]
    assert not any("Policy 4" in w and "AUC" in w for w in out["warnings"])  # not "undefined"
    # the former rule as an option: same membership, no comparison with the rest in the JSON
    old = audit_households(make_data(HAND), HouseholdSettings(prebinned=True, flag="flag", age="age",
                                                               membership="any")).to_json()
    assert "fpr_rest" not in old["policies"][2]
    assert old["policies"][2]["fpr"] == j3["fpr"]


def test_settings_saved_with_every_policy_before_the_renumbering_get_all_seven():
    assert HouseholdSettings.from_dict({"policies": [1, 2, 3, 4, 5, 6]}).policies == \
        (1, 2, 3, 4, 5, 6, 7)
    assert HouseholdSettings.from_dict({"policies": [2, 3]}).policies == (2, 3)
