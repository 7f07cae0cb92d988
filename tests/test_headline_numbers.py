"""Issue 14: headline numbers an analyst can defend.

Zero-count rules, reliable groups, the pair behind each measure and intervals, each checked
on hand-computed cases and on COMPAS.
"""

import math

import numpy as np
import pandas as pd
import pytest

from conftest import SHARED
from fairdesk.audit import run_audit
from fairdesk.bootstrap import bootstrap_audit
from fairdesk.metrics.confusion import Counts
from fairdesk.metrics.fairness import (ALL_GROUPS, Reliability, denominators, measure,
                                       measure_details, min_pairwise_ratio)
from fairdesk.metrics.intervals import clopper_pearson, interval_or_reason, rate_intervals
from fairdesk.metrics.rates import compute_rates
from fairdesk.schema import ColumnMapping
from fairdesk.validation import prepare

COMPAS = SHARED / "compas_two_year.csv"


def counts(tp, fp, fn, tn):
    a = [np.array(x, dtype=float)[:, None] for x in (tp, fp, fn, tn)]
    n = sum(a)
    return Counts(*a, a[0] + a[1], n)


# ------------------------------------------------------------------- item 6: zero counts

def test_x_over_zero_is_infinite_and_only_zero_over_zero_undefined():
    # group a: FN 3, FP 0 -> FN/FP infinite; b: FN 0, FP 0 -> 0/0; c: FN 2, FP 4 -> 0.5
    r = compute_rates(counts([1, 1, 1], [0, 0, 4], [3, 0, 2], [5, 5, 5]))
    assert r["fn_fp"][0, 0] == math.inf
    assert math.isnan(r["fn_fp"][1, 0])
    assert r["fn_fp"][2, 0] == 0.5
    assert r["cost_ratio"][0, 0] == 0.0  # FP/FN = 0/3
    assert math.isnan(r["cost_ratio"][1, 0])
    assert r["cost_ratio"][2, 0] == 2.0


def test_infinite_rate_compares_as_zero_against_finite_and_equal_to_infinite():
    assert min_pairwise_ratio([math.inf, 2.0]) == 0.0
    assert min_pairwise_ratio([math.inf, 0.0]) == 0.0
    assert min_pairwise_ratio([math.inf, math.inf]) == 1.0
    assert math.isnan(min_pairwise_ratio([math.inf, np.nan]))  # one defined group
    assert min_pairwise_ratio([math.inf, math.inf, 0.5]) == 0.0


def test_treatment_equality_with_zero_counts_hand_computed():
    # a: FN 2, FP 0 (infinite); b: FN 1, FP 1 (1) -> TE 0 (before: a was dropped, TE undefined)
    r = compute_rates(counts([5, 5], [0, 1], [2, 1], [5, 5]))
    assert measure("TE", r) == 0.0
    # FP = 0 and FN = 0 in a: 0/0, a is left out; b and c: 1 and 0.5 -> 0.5
    r = compute_rates(counts([5, 5, 5], [0, 2, 4], [0, 2, 2], [5, 5, 5]))
    assert measure("TE", r) == pytest.approx(0.5)
    # the same rule both ways: FN = 0 gives rate 0, FP = 0 gives rate infinity: both pin TE at 0
    r = compute_rates(counts([5, 5, 5], [3, 0, 2], [0, 3, 2], [5, 5, 5]))
    assert measure("TE", r) == 0.0


def test_cuae_uses_whichever_of_ppv_npv_is_defined():
    # nobody flagged anywhere: PPV 0/0 in both groups; NPV a 8/10, b 6/10 -> CUAE 0.75
    r = compute_rates(counts([0, 0], [0, 0], [2, 4], [8, 6]))
    assert np.isnan(r["ppv"]).all()
    assert measure("CUAE", r) == pytest.approx(0.75)
    # everyone flagged: NPV 0/0; PPV a .5, b .25 -> .5
    r = compute_rates(counts([5, 2], [5, 6], [0, 0], [0, 0]))
    assert measure("CUAE", r) == pytest.approx(0.5)
    # both undefined only when neither is defined (a single group)
    assert np.isnan(measure("CUAE", compute_rates(counts([1], [1], [1], [1])))).all()


def compas(groups):
    f = pd.read_csv(COMPAS)
    return prepare(f, ColumnMapping(score="decile_score", label="two_year_recid", groups=groups))


def test_compas_by_race_threshold_10_treatment_equality_is_zero():
    data = compas(["race"])
    res = run_audit(data, [10], reliability=ALL_GROUPS)
    assert res.fairness["TE"][0] == 0.0
    det = res.details("TE", 0)
    names = res.group_names
    # the pair: a group with FP = 0 and FN > 0 (an infinite FN/FP) against a finite one
    assert math.isinf(det.high_value) and not math.isinf(det.low_value)
    hi = det.high
    assert res.counts.fp[hi, 0] == 0 and res.counts.fn[hi, 0] > 0
    assert "infinite" in det.pair_text(names)


# ------------------------------------------------------------------- item 1: reliable groups

def brute_force_measure(res, key, j, rule):
    """Loop over groups and pairs: the measure over the reliable groups (reference)."""
    c = res.counts
    best = {}
    rates = ("fnr", "fpr") if key == "ERB" else {"SP": ("selection_rate",), "PE": ("fpr",),
                                                "EO": ("fnr",), "TE": ("fn_fp",)}[key]
    for r in rates:
        vals = []
        for g in range(len(res.group_names)):
            tp, fp, fn, tn = (float(getattr(c, x)[g, j]) for x in ("tp", "fp", "fn", "tn"))
            den = {"fnr": tp + fn, "fpr": fp + tn, "selection_rate": tp + fp + fn + tn, "fn_fp": fp}[r]
            num = {"fnr": fn, "fpr": fp, "selection_rate": tp + fp, "fn_fp": fn}[r]
            if res.rows[g] < rule.min_group_size or den < rule.min_denominator:
                continue
            vals.append(num / den)
        ratios = [min(a, b) / max(a, b) if max(a, b) > 0 else 1.0 for a in vals for b in vals]
        if len(vals) >= 2:
            best[r] = min(ratios)
    return min(best.values()) if best else math.nan


def test_compas_race_sex_default_leaves_out_tiny_groups_and_names_them():
    data = compas(["race", "sex"])
    t = [float(np.mean(data.score))]
    default = run_audit(data, t)
    everyone = run_audit(data, t, reliability=ALL_GROUPS)
    tiny = {n for n, rows in zip(data.group_names, default.rows) if rows < 30}
    assert tiny == {"Asian, Female", "Asian, Male", "Native American, Female", "Native American, Male"}
    # with every group, the old headline: several measures pinned at 0 by 'Asian, Female' (2 rows)
    for key in ("ERB", "SP", "TE", "PE", "EO"):
        assert everyone.fairness[key][0] == 0.0, key
    assert everyone.fairness["CAL"][0] == 0.0
    # by default they are over the reliable groups, positive, and equal a brute-force loop
    rule = Reliability()
    for key in ("ERB", "SP", "TE", "PE", "EO"):
        assert default.fairness[key][0] > 0, key
        assert default.fairness[key][0] == pytest.approx(brute_force_measure(default, key, 0, rule))
        det = default.details(key, 0)
        left = {data.group_names[g] for g, _ in det.excluded}
        assert tiny <= left, key
        for g, why in det.excluded:
            if data.group_names[g] in tiny:
                assert "fewer than the minimum group size 30" in why
    js = default.to_json()
    out = {e["group"]: e["reason"] for e in js["fairness_groups"]["ERB"]["excluded"]}
    assert set(out) >= tiny and "2 rows" in out["Asian, Female"]
    assert js["fairness_rules"]["min_group_size"] == 30 and not js["fairness_rules"]["all_groups"]
    # every group still has its own figures
    assert set(js["groups"]) == set(data.group_names)


def test_small_denominator_leaves_a_group_out_of_that_rate_only():
    # a: 40 rows, 5 positives (FNR needs 10), 35 negatives; b and c: 40 rows, 20/20
    s = np.r_[np.linspace(0, 1, 40), np.linspace(0, 1, 40), np.linspace(0, 1, 40)]
    y = np.r_[np.r_[np.ones(5), np.zeros(35)], np.tile([0, 1], 20), np.tile([1, 0], 20)]
    g = np.repeat(["a", "b", "c"], 40)
    data = prepare(pd.DataFrame({"s": s, "y": y, "g": g}),
                   ColumnMapping(score="s", label="y", groups=["g"]))
    res = run_audit(data, [0.5])
    det = res.details("EO", 0)
    assert [(data.group_names[i], why) for i, why in det.excluded] == \
        [("a", "FNR: 5 people with the outcome, fewer than 10")]
    assert res.details("PE", 0).excluded == []
    # EO is the ratio of b and c's FNR only
    fnr = res.rates["fnr"][:, 0]
    assert res.fairness["EO"][0] == pytest.approx(min(fnr[1], fnr[2]) / max(fnr[1], fnr[2]))


# ------------------------------------------------------------------- item 2: the pair

def test_pair_behind_compas_race_fpr():
    data = compas(["race"])
    res = run_audit(data, [5], reliability=ALL_GROUPS)
    names = res.group_names
    det = res.details("PE", 0)
    fpr = res.rates["fpr"][:, 0]
    assert det.rate == "fpr"
    assert det.high == int(np.nanargmax(fpr)) and det.low == int(np.nanargmin(fpr))
    assert res.fairness["PE"][0] == pytest.approx(fpr[det.low] / fpr[det.high])
    # the README's published FPRs appear in the pair text when only those two are compared
    two = data.subset(np.isin(data.group, [names.index("African-American"), names.index("Caucasian")]))
    det2 = run_audit(two, [5]).details("PE", 0)
    assert det2.pair_text(names) == "FPR: African-American 42.3 % vs Caucasian 22.0 %"
    js = run_audit(two, [5]).to_json()["fairness_pairs"]["PE"]
    assert js["higher_group"] == "African-American" and js["lower_group"] == "Caucasian"
    assert js["higher_value"] == pytest.approx(0.4234, abs=5e-5)


def test_two_rate_measure_names_the_weaker_rate():
    # FNR: a .5, b .25 -> .5; FPR: a .1 b .4 -> .25: ERB is the FPR pair
    r = counts([10, 15], [1, 4], [10, 5], [9, 6])
    rates = compute_rates(r)
    det = measure_details("ERB", rates, np.array([40, 30]), denominators(r.tp, r.fp, r.fn, r.tn),
                          Reliability(min_group_size=1, min_denominator=1), ["a", "b"], 0)
    assert det.rate == "fpr" and det.value == pytest.approx(0.25)
    assert (det.high, det.low) == (1, 0)


# ------------------------------------------------------------------- item 3: intervals

def test_clopper_pearson_closed_forms():
    lo, hi = clopper_pearson(0, 10)
    assert lo == 0.0 and hi == pytest.approx(1 - 0.025 ** (1 / 10))
    lo, hi = clopper_pearson(10, 10)
    assert hi == 1.0 and lo == pytest.approx(0.025 ** (1 / 10))
    # a textbook value: 3 of 10 -> (0.0667, 0.6525)
    lo, hi = clopper_pearson(3, 10)
    assert lo == pytest.approx(0.06673, abs=1e-4) and hi == pytest.approx(0.65245, abs=1e-4)
    lo, hi = clopper_pearson(0, 0)
    assert math.isnan(lo) and math.isnan(hi)
    ci = rate_intervals(counts([3], [2], [7], [8]))
    assert ci["tpr"][0][0, 0] == pytest.approx(0.06673, abs=1e-4)  # TP 3 of TP + FN = 10


def test_zero_width_or_rarely_defined_interval_is_not_estimated():
    lo, hi, why = interval_or_reason(0.0, 0.0, 200, 200)
    assert math.isnan(lo) and "not estimated" in why
    lo, hi, why = interval_or_reason(0.2, 0.5, 100, 200)
    assert math.isnan(lo) and "100 of 200" in why
    assert interval_or_reason(0.2, 0.5, 200, 200) == (0.2, 0.5, "")


def test_fairness_intervals_seeded_and_recorded():
    data = compas(["race"])
    res = run_audit(data, [5])
    b1 = bootstrap_audit(data, [5], resamples=40, seed=7)
    b2 = bootstrap_audit(data, [5], resamples=40, seed=7)
    np.testing.assert_array_equal(b1.lo["fairness:PE"], b2.lo["fairness:PE"])
    res.intervals = b1
    lo, hi, how = res.fairness_interval("PE", 0)
    assert lo < hi and "bootstrap percentile" in how
    js = res.to_json()["fairness_intervals"]
    assert js["resamples"] == 40 and js["seed"] == 7
    assert js["PE"]["lower"] == pytest.approx(lo)
    # without a bootstrap the interval says so
    res.intervals = None
    assert "no bootstrap" in res.fairness_interval("PE", 0)[2]


# ------------------------------------------------- items 1-3 in the decision table and Summary

def test_meeting_summary_and_decision_table_carry_pair_groups_and_intervals():
    from fairdesk.reports.meeting_report import decision_table, summary_table
    from fairdesk.scenarios import Scenario, baseline, compare
    from fairdesk.undefined import Undefined

    data = compas(["race", "sex"])
    per_group = {g: [5.0] for g in data.group_names}
    per_group["African-American, Male"] = [6.0]
    sc = [baseline([5.0]), Scenario("Per group", "group_thresholds", {"values": per_group})]
    comp = compare(data, sc, bootstrap=30, seed=3)
    # the headline equals the audit's over the same reliable groups
    res = run_audit(data, [5.0])
    assert comp.metrics[0].fairness["ERB"] == pytest.approx(res.fairness["ERB"][0])
    s = summary_table(comp)  # the headline measure is a line per option above the table
    line = next(x for x in s.preamble if x.startswith("Baseline"))
    assert res.details("ERB", 0).pair_text(data.group_names) in line
    assert "left out: " in line and "Asian, Female (2 rows < 30)" in line
    lo, hi, how = comp.interval(comp.row_index("ERB"), 0)
    assert (f"95 % {lo:.3f}–{hi:.3f}" if not np.isnan(lo) else how) in line
    assert "resamples" in " ".join(s.notes) and "seed 3" in " ".join(s.notes)
    # the decision table: lower/upper per scenario; a rate without bootstrap gets the exact interval
    d = decision_table(comp)
    i = comp.row_index("fpr", "Caucasian, Male")

    def num(x):  # cells may carry their display format (Formatted)
        return float(getattr(x, "value", x))
    lo0, s0, hi0 = (num(d.rows[i][k]) for k in ("lo0", "s0", "hi0"))
    assert lo0 < s0 < hi0
    assert "Clopper–Pearson" in comp.interval(i, 0)[2]  # rates: exact, even with a bootstrap
    j = comp.row_index("tpr", "Native American, Male")  # 9 rows: still an exact interval
    lo, hi, how = comp.interval(j, 0)
    assert lo < hi and "Clopper–Pearson" in how
    plain = compare(data, sc)  # no bootstrap
    lo, hi, how = plain.interval(i, 0)
    c = plain.metrics[0].counts
    g = data.group_names.index("Caucasian, Male")
    want = tuple(float(x) for x in clopper_pearson(c.fp[g, 0], c.fp[g, 0] + c.tn[g, 0]))
    assert (lo, hi) == pytest.approx(want) and "Clopper–Pearson" in how
    lo, hi, how = plain.interval(plain.row_index("ERB"), 0)
    assert np.isnan(lo) and "no bootstrap" in how
    assert isinstance(decision_table(plain).rows[plain.row_index("ERB")]["lo0"], Undefined)
    # every group compared: the tiny groups pin several measures at 0 again
    everyone = compare(data, sc, reliability=ALL_GROUPS)
    assert everyone.metrics[0].fairness["ERB"] == 0.0


def test_cli_all_groups_restores_old_values(tmp_path):
    import json
    import subprocess
    import sys

    from conftest import ROOT

    def audit(*extra):
        out = subprocess.run([sys.executable, str(ROOT / "main.py"), "audit", str(COMPAS), "--score",
                              "decile_score", "--label", "two_year_recid", "--group", "race", "--group",
                              "sex", "--threshold", "5", "--bootstrap", "20", "--json", *extra],
                             capture_output=True, text=True, cwd=ROOT, timeout=300)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)
    default, everyone = audit(), audit("--all-groups")
    data = compas(["race", "sex"])
    assert default["fairness"]["ERB"] == pytest.approx(run_audit(data, [5.0]).fairness["ERB"][0])
    assert everyone["fairness"]["ERB"] == 0.0
    assert everyone["fairness"]["ERB"] == run_audit(data, [5.0], reliability=ALL_GROUPS).fairness["ERB"][0]
    left = {e["group"] for e in default["fairness_groups"]["ERB"]["excluded"]}
    assert {"Asian, Female", "Native American, Female"} <= left
    assert everyone["fairness_rules"]["all_groups"] is True
    assert default["fairness_pairs"]["ERB"]["text"].startswith("FPR: ")
    assert default["fairness_intervals"]["resamples"] == 20 and default["fairness_intervals"]["seed"] == 12345


# ------------------------------------------------------------------- item 8: merges

def test_intersection_merges_share_the_first_attribute_and_say_why():
    from fairdesk.validation import suggest_merges

    # race x sex; prevalence chosen so that "most similar prevalence" alone would pick another race
    rows = []

    def add(race, sex, n, pos):
        rows.extend({"s": 0.5, "y": int(i < pos), "race": race, "sex": sex} for i in range(n))
    add("A", "F", 5, 5)       # small; A,M is large: merge into A,M although D,F has prevalence 1 too
    add("A", "M", 50, 10)
    add("B", "F", 10, 5)      # small, B,M small too, together 35: both into the larger, B,M
    add("B", "M", 25, 5)
    add("C", "F", 3, 0)       # C groups together 7 rows: a large group sharing 'F', closest prevalence
    add("C", "M", 4, 2)
    add("D", "F", 40, 40)
    add("D", "M", 40, 20)
    add("E", "F", 40, 4)
    add("E", "M", 40, 30)
    data = prepare(pd.DataFrame(rows), ColumnMapping(score="s", label="y", groups=["race", "sex"]))
    got = {s: (p, why) for s, p, why in suggest_merges(data, 30)}
    assert got["A, F"][0] == "A, M" and "shares 'A'" in got["A, F"][1]
    assert got["B, F"][0] == "B, M" and "together have 35 rows" in got["B, F"][1]
    assert "B, M" not in got  # it receives B, F
    assert got["C, F"][0] == "E, F" and "shares 'F'" in got["C, F"][1]  # prevalence 0 vs 0.1
    assert got["C, M"][0] == "D, M"  # prevalence 0.5 vs 0.5 among the large male groups
    # the validation warning gives the same suggestion and its reason
    msg = next(p.message for p in data.problems if p.code == "group_small" and "'A, F'" in p.message)
    assert "'A, M' (shares 'A'" in msg
    # one group column: the most similar prevalence, as before
    one = prepare(pd.DataFrame(rows), ColumnMapping(score="s", label="y", groups=["race"]))
    assert suggest_merges(one, 30) == [("C", "B", "prevalence 0.286 vs 0.286")]


# ------------------------------------------------------------------- item 7: recall balancing

def recall_data():
    # A: 40 rows, 20 positives, positives at every other rank from the top; B: 5 rows, 2
    # positives on top -> in the top 6 overall B's recall (1.0) beats A's
    sa = np.linspace(0.99, 0.5, 40)
    ya = np.tile([1, 0], 20)
    sb = np.array([0.995, 0.985, 0.3, 0.2, 0.1])
    yb = np.array([1, 1, 0, 0, 0])
    f = pd.DataFrame({"s": np.r_[sa, sb], "y": np.r_[ya, yb], "g": ["A"] * 40 + ["B"] * 5})
    return prepare(f, ColumnMapping(score="s", label="y", groups=["g"]), min_group_size=1)


def test_small_group_does_not_set_expanded_target_by_default():
    from fairdesk.engines.recall_balance import RecallSettings, run_recall

    data = recall_data()
    res = run_recall(data, RecallSettings(k=6))
    top = res.scenarios["top_k"]
    # top 6: B's two positives (.995, .985) and A's first four (.99 .977 .964 .952): A 2 of 20
    assert top.rows.tolist() == [4, 2]
    assert top.recall.tolist() == pytest.approx([0.1, 1.0])
    ee = res.scenarios["expanded_equal"]
    assert ee.target.tolist() == pytest.approx([0.1, 0.1])  # A's recall, not B's 100 %
    assert ee.rows.tolist() == [4, 2]
    assert any("'B' (5 people) has a higher recall in the top K, 100.0%" in n for n in ee.notes)
    allowed = run_recall(data, RecallSettings(k=6, small_groups_set_target=True))
    ea = allowed.scenarios["expanded_equal"]
    assert ea.target.tolist() == pytest.approx([1.0, 1.0])
    assert ea.rows.tolist() == [39, 2]  # A's 20th positive is its 39th row
    assert any("set by 'B'" in n or "set by B" in n for n in ea.notes)
    with pytest.raises(Exception, match="fewer than the minimum group size 30"):
        run_recall(data, RecallSettings(k=6, reference="B"))


def test_one_rule_for_reaching_a_recall_in_both_modes():
    from fairdesk.engines.recall_balance import RecallSettings, run_recall

    data = recall_data()
    for r in (0.1, 0.25, 0.5, 0.55, 1.0):
        res = run_recall(data, RecallSettings(k=None, recall=r))
        s = res.scenarios["recall_equal"]
        for g in range(2):
            rec = s.recall[g]
            assert rec >= r - 1e-12  # every group reaches the target ...
            fewer = run_recall(data, RecallSettings(k=None, recall=r)).ranked.recall(g)[s.rows[g] - 1]
            assert fewer < r - 1e-12  # ... with the fewest rows that do
    # the expanded scale uses the same rule: with B allowed to set the target (100 %), A gets the
    # rows a 100 % recall target gives it
    exp = run_recall(data, RecallSettings(k=6, small_groups_set_target=True)).scenarios["expanded_equal"]
    tgt = run_recall(data, RecallSettings(k=None, recall=1.0)).scenarios["recall_equal"]
    assert exp.rows[0] == tgt.rows[0]
