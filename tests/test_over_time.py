"""Fairness over time and across score versions (issue 20): periods read as the analyst
means them, rates per period equal a pandas groupby, drifts flagged where they are and not
elsewhere, rules chosen on one period reproduce their numbers there and apply to the others,
and the command line prints the same numbers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from fairdesk.engines.chosen_rules import choose_rule, equal_rate_thresholds
from fairdesk.engines.over_time import over_time, scenario_series, score_series
from fairdesk.errors import FairDeskError
from fairdesk.metrics.ranking import overall_auc
from fairdesk.periods import read_periods
from fairdesk.schema import ColumnMapping
from fairdesk.validation import ValidationError, prepare


def drift_frame(n=24000, periods=6, seed=3, weighted=False):
    """Two groups, two versions: v2's scores rise for group B period after period (its FPR
    drifts up); v1 stays flat."""
    rng = np.random.default_rng(seed)
    period = rng.integers(0, periods, n)
    g = rng.integers(0, 2, n)
    y = rng.random(n) < 0.4
    v1 = rng.normal(0, 1, n) + y
    v2 = 0.8 * v1 + 0.6 * rng.normal(0, 1, n) + np.where(g == 1, 0.3 * period, 0.0)
    f = pd.DataFrame({"v1": v1, "v2": v2, "y": y.astype(int), "grp": np.where(g == 1, "B", "A"),
                      "wave": [f"W{p + 1}" for p in period]})
    if weighted:
        f["w"] = rng.integers(1, 4, n).astype(float)
    return f


def drift_data(**kw):
    f = drift_frame(**kw)
    m = ColumnMapping(score="v1", label="y", groups=["grp"], period="wave", versions=["v2"],
                      weight="w" if "w" in f else None)
    return f, prepare(f, m)


# ------------------------------------------------------------------------------ periods
def test_dates_are_bucketed_in_time_order():
    p = read_periods(pd.Series(["2019-03-02", "2018-11-30", "2018-01-05", None, "2019-12-31"]),
                     "quarter")
    assert p.names == ["2018-Q1", "2018-Q4", "2019-Q1", "2019-Q4"]
    assert p.codes.tolist() == [2, 1, 0, -1, 3] and p.missing.tolist() == [0, 0, 0, 1, 0]
    assert read_periods(pd.Series(["2018-01-05", "2020-06-01"]), "year").names == ["2018", "2020"]
    assert read_periods(pd.Series(["2018-01-05", "2018-06-01"]), "month").names == \
        ["2018-01", "2018-06"]
    # automatic: months over up to two years, years beyond six
    assert read_periods(pd.Series(["2018-01-05", "2018-06-01"])).how == "dates, by month"
    assert read_periods(pd.Series(["2010-01-05", "2018-06-01"])).how == "dates, by year"


def test_day_and_month_order_is_read_from_the_column_or_reported():
    day_first = read_periods(pd.Series(["05/01/2018", "31/12/2019"]), "month")
    assert day_first.names == ["2018-01", "2019-12"] and day_first.note == ""
    month_first = read_periods(pd.Series(["05/01/2018", "12/31/2019"]), "month")
    assert month_first.names == ["2018-05", "2019-12"] and month_first.note == ""
    ambiguous = read_periods(pd.Series(["05/01/2018", "04/02/2018"]), "month")
    assert ambiguous.names == ["2018-04", "2018-05"] and "month first" in ambiguous.note


def test_labels_in_natural_order_and_numbers_in_increasing_order():
    p = read_periods(pd.Series(["wave 10", "wave 2", "wave 1", "wave 2"]))
    assert p.names == ["wave 1", "wave 2", "wave 10"] and p.codes.tolist() == [2, 1, 0, 1]
    years = read_periods(pd.Series([2020, 2018, 2019.0]))
    assert years.names == ["2018", "2019", "2020"]
    # a date column read as labels when the analyst says so
    assert read_periods(pd.Series(["2018-01-05", "2018-01-06"]), "label").names == \
        ["2018-01-05", "2018-01-06"]


def test_rows_without_a_period_are_named_and_left_out():
    f = drift_frame(n=3000)
    f.loc[[4, 9], "wave"] = None
    d = prepare(f, ColumnMapping(score="v1", label="y", groups=["grp"], period="wave"))
    assert d.n == 2998 and d.period.shape == (2998,)
    msg = next(p.message for p in d.problems if p.code == "period_missing")
    assert "'wave'" in msg and "rows 6, 11" in msg  # spreadsheet rows (header is row 1)
    f.loc[:, "wave"] = None
    with pytest.raises(ValidationError):
        prepare(f, ColumnMapping(score="v1", label="y", groups=["grp"], period="wave"))


def test_a_version_column_with_text_is_refused_naming_it():
    f = drift_frame(n=500)
    f["v2"] = "high"
    with pytest.raises(ValidationError) as err:
        prepare(f, ColumnMapping(score="v1", label="y", groups=["grp"], versions=["v2"]))
    assert "'v2'" in str(err.value.problems[0].message)


# ------------------------------------------------------------------------------ numbers
@pytest.mark.parametrize("weighted", [False, True])
def test_rates_per_period_equal_a_pandas_groupby(weighted):
    f, d = drift_data(weighted=weighted)
    t = 0.7
    s = score_series(d, "v2", t)
    f = f.assign(w=f["w"] if weighted else 1.0, flag=(f["v2"] >= t).astype(float))
    for (period, grp), part in f.groupby(["wave", "grp"]):
        p, g = d.period_names.index(period), d.group_names.index(grp)
        w, y, flag = part["w"], part["y"], part["flag"]
        expect = {"selection_rate": np.average(flag, weights=w),
                  "tpr": np.average(flag[y == 1], weights=w[y == 1]),
                  "fpr": np.average(flag[y == 0], weights=w[y == 0]),
                  "fnr": 1 - np.average(flag[y == 1], weights=w[y == 1]),
                  "ppv": np.average(y[flag == 1], weights=w[flag == 1])}
        for r, v in expect.items():
            assert s.rates[r][p, g] == pytest.approx(v, abs=1e-12), (r, period, grp)
            assert s.lo[r][p, g] <= v <= s.hi[r][p, g]
        assert s.rows[p, g] == len(part) and s.people[p, g] == pytest.approx(w.sum())
        assert s.auc[p, g] == pytest.approx(overall_auc(part["v2"].to_numpy(), y.to_numpy(),
                                                        w.to_numpy()), abs=1e-12)


def test_fairness_per_period_names_the_pair():
    _, d = drift_data()
    s = score_series(d, "v2", 0.7)
    for p in range(len(d.period_names)):
        det = s.fairness["PE"][p]
        fpr = s.rates["fpr"][p]
        assert det.value == pytest.approx(fpr.min() / fpr.max(), abs=1e-12)
        assert (det.low, det.high) == (int(np.argmin(fpr)), int(np.argmax(fpr)))
    assert s.fairness["PE"][-1].low == d.group_names.index("A")  # B's FPR drifted up


def test_a_drift_is_flagged_for_its_group_version_and_periods_only():
    _, d = drift_data()
    res = over_time(d, {"v1": 0.7, "v2": 0.7})
    fpr = [f for f in res.flags if f.rate == "fpr"]
    assert fpr, "the drift of B's FPR under v2 is flagged"
    assert {(f.series, f.group) for f in fpr} == {("v2", "B")}
    assert all(f.after > f.before for f in fpr)
    assert {(f.period_from, f.period_to) for f in fpr} <= {
        (a, b) for a, b in zip(d.period_names, d.period_names[1:])}
    assert not [f for f in res.flags if f.series == "v1"]  # the flat version: nothing


def test_flags_stay_quiet_on_noise_over_many_seeds():
    """No drift at all: the corrected level keeps false flags rare (at most 1 in 20 runs)."""
    noisy = 0
    for seed in range(20):
        rng = np.random.default_rng(100 + seed)
        n = 4000
        f = pd.DataFrame({"s": rng.normal(0, 1, n), "y": rng.integers(0, 2, n),
                          "grp": rng.choice(["A", "B", "C"], n),
                          "wave": rng.integers(2015, 2023, n)})
        d = prepare(f, ColumnMapping(score="s", label="y", groups=["grp"], period="wave"))
        noisy += bool(over_time(d, {"s": 0.0}).flags)
    assert noisy <= 2


def test_a_rule_chosen_on_one_period_reproduces_its_numbers_there_and_applies_elsewhere():
    from fairdesk.scenarios import compare

    _, d = drift_data()
    s, where = choose_rule(d, "Equal FPR", "equal-fpr", choose_on="W1", threshold=0.7)
    assert where == "W1" and s.kind == "group_thresholds"
    series = scenario_series(d, s, chosen_on=where)
    for p, period in enumerate(d.period_names):
        part = d.subset(d.period == p)
        m = compare(part, [s]).metrics[0]
        for r in ("selection_rate", "tpr", "fpr", "fnr", "ppv"):
            assert series.rates[r][p] == pytest.approx(np.asarray(m.rates[r]), abs=1e-12)
    first = series.rates["fpr"][0]
    assert abs(first[0] - first[1]) < 0.01  # chosen on W1: FPRs equal there
    # the thresholds are those the rule chooses on W1's rows alone
    assert s.params["values"] == {g: [v] for g, v in equal_rate_thresholds(
        d.subset(d.period == 0), "fpr", 0.7).items()}


def test_rules_need_a_known_period():
    _, d = drift_data(n=2000)
    with pytest.raises(FairDeskError, match="no period 'W9'"):
        choose_rule(d, "x", "equal-tpr", choose_on="W9", threshold=0.0)


def test_over_time_needs_a_period_column():
    f = drift_frame(n=500)
    d = prepare(f, ColumnMapping(score="v1", label="y", groups=["grp"]))
    with pytest.raises(FairDeskError, match="period"):
        over_time(d, {"v1": 0.0})


# ------------------------------------------------------------------------------ command line
def test_command_line_json_has_the_numbers_of_the_engine(tmp_path, capsys):
    from fairdesk.cli import main

    f, d = drift_data(n=6000)
    path = tmp_path / "drift.csv"
    f.to_csv(path, index=False)
    out = tmp_path / "over_time.xlsx"
    code = main(["periods", str(path), "--score", "v1", "--score", "v2", "--label", "y",
                 "--group", "grp", "--period", "wave", "--threshold", "0.7",
                 "--scenario", "Equal FPR=equal-fpr", "--scenario", "Strict=1.2",
                 "--choose-on", "W1", "--json", "--out", str(out)])
    assert code == 0
    js = json.loads(capsys.readouterr().out)
    assert set(js["scores"]) == {"v1", "v2"} and set(js["scenarios"]) == {"Equal FPR", "Strict"}
    res = over_time(d, {"v1": 0.7, "v2": 0.7})
    cell = js["scores"]["v2"]["periods"]["W3"]["groups"]["B"]
    p, g = d.period_names.index("W3"), d.group_names.index("B")
    assert cell["fpr"] == pytest.approx(res.find("v2").rates["fpr"][p, g], abs=1e-12)
    assert set(cell) >= {"n", "selection_rate", "tpr", "fpr", "fnr", "ppv", "auc"}
    assert js["scores"]["v2"]["periods"]["W3"]["fairness"]["PE"]["pair"] == ["A", "B"]
    assert js["scenarios"]["Equal FPR"]["chosen_on"] == "W1"
    assert js["scenarios"]["Strict"]["chosen_on"] is None
    assert any(fl["series"] == "v2" and fl["group"] == "B" and fl["rate"] == "fpr"
               for fl in js["flags"])
    assert js["versions"]["a"] == "v1" and "B" in js["versions"]["groups"]
    import openpyxl

    wb = openpyxl.load_workbook(out)
    assert {"Over time", "Over time – v2", "Rates over time", "Fairness over time",
            "Changes over time", "Versions compared"} <= set(wb.sheetnames)
    assert len(wb["Over time"]._charts) == 5  # a line chart per headline rate


def test_command_line_refuses_an_unknown_period_clearly(tmp_path, capsys):
    from fairdesk.cli import main

    f, _ = drift_data(n=1000)
    path = tmp_path / "drift.csv"
    f.to_csv(path, index=False)
    code = main(["periods", str(path), "--score", "v1", "--label", "y", "--group", "grp",
                 "--period", "wave", "--scenario", "E=equal-fpr", "--choose-on", "2019"])
    err = capsys.readouterr().err
    assert code != 0 and "no period '2019'" in err and "W1" in err


def test_the_meeting_workbook_applies_each_option_to_every_period(tmp_path):
    """With a period column, the meeting workbook's decision section also shows every option
    on every period, the period a rule was chosen on marked."""
    import openpyxl

    from fairdesk.engines.over_time import scenario_series
    from fairdesk.reports.meeting_report import meeting_tables
    from fairdesk.scenarios import baseline, compare

    _, d = drift_data(n=6000)
    chosen, _where = choose_rule(d, "Equal FPR", "equal-fpr", choose_on="W2", threshold=0.7)
    scenarios = [baseline([0.7]), chosen]
    tables = meeting_tables(compare(d, scenarios), data=d, sections=["decision"])
    table = next(t for t in tables if t.sheet == "Decisions over time")
    headers = [c.header for c in table.columns]
    assert "Equal FPR\nW2 (chosen on)" in headers and "Baseline\nW1" in headers
    row = next(r for r in table.row_dicts() if r["measure"] == "FPR" and r["group"] == "B")
    col = table.columns[headers.index("Equal FPR\nW5")].key
    expect = scenario_series(d, chosen).rates["fpr"][d.period_names.index("W5"),
                                                     d.group_names.index("B")]
    assert row[col] == pytest.approx(expect, abs=1e-12)
    from fairdesk.reports.workbook import write_workbook

    path = write_workbook(tmp_path / "m.xlsx", about={}, tables=tables)
    assert "Decisions over time" in openpyxl.load_workbook(path).sheetnames


def test_a_recall_list_chosen_on_a_period_becomes_thresholds_applied_everywhere():
    _, d = drift_data(n=6000)
    s, where = choose_rule(d, "Equal recall", "recall:150", choose_on="W1", threshold=0.7)
    series = scenario_series(d, s, chosen_on=where)
    flagged_w1 = float((series.rates["selection_rate"][0] * series.people[0]).sum())
    assert flagged_w1 == pytest.approx(150)  # K people on the period it was chosen on
    tpr = series.rates["tpr"][0]
    assert abs(tpr[0] - tpr[1]) < 0.02  # recall balanced there
    assert np.all(series.rows[1:].sum(axis=1) > 0)  # and applied to every other period
    with pytest.raises(FairDeskError, match="recall:K"):
        choose_rule(d, "x", "recall:many", choose_on="W1", threshold=0.7)


def test_a_rule_can_be_chosen_on_the_training_split():
    f = drift_frame(n=4000)
    f["split"] = np.where(np.arange(len(f)) % 2 == 0, "train", "test")
    d = prepare(f, ColumnMapping(score="v1", label="y", groups=["grp"], period="wave",
                                 split="split"))
    s, where = choose_rule(d, "Equal TPR", "equal-tpr", choose_on="train", threshold=0.7)
    train = d.subset(np.array([v == "train" for v in d.split]))
    assert where == "train"
    assert s.params["values"] == {g: [v] for g, v in equal_rate_thresholds(
        train, "tpr", 0.7).items()}


def test_versions_compared_with_cross_auc_of_each():
    from fairdesk.metrics.ranking import cross_auc
    from fairdesk.metrics.confusion import GroupScores
    from fairdesk.reports.over_time_report import comparison_of_versions, cross_auc_table

    _, d = drift_data(n=5000)
    v = comparison_of_versions(d, {"v1": 0.7, "v2": 0.7})
    gs = GroupScores(d.version_oriented("v2"), d.label, d.group, d.n_groups, d.weight)
    assert v.cross_b[0, 1] == pytest.approx(cross_auc(gs, 0, 1), abs=1e-12)
    rows = cross_auc_table(v).row_dicts()
    assert len(rows) == 4 and rows[2]["version"] == "v2" and rows[2]["x1"] == v.cross_b[0, 1]


def test_a_group_without_negatives_has_no_fpr_with_fractional_weights():
    """Fractional weights: the negatives of a group that has none are exactly zero, so its
    FPR is undefined (it read 1e-13 / 1e-13 = 40 % before), in the audit and over time."""
    from fairdesk.metrics.confusion import GroupScores
    from fairdesk.metrics.rates import compute_rates

    rng = np.random.default_rng(3)
    n = 800
    f = pd.DataFrame({"s": rng.random(n), "y": rng.integers(0, 2, n),
                      "g": rng.choice(["A", "B", "C"], n, p=[0.6, 0.38, 0.02]),
                      "p": rng.integers(0, 6, n), "w": rng.random(n) * 3})
    f.loc[f["g"] == "C", "y"] = 1
    d = prepare(f, ColumnMapping(score="s", label="y", groups=["g"], period="p", weight="w"))
    c = d.group_names.index("C")
    counts = GroupScores.from_data(d).counts(np.array([0.5]), shared=True)
    assert counts.fp[c, 0] == 0 and counts.tn[c, 0] == 0
    assert np.isnan(compute_rates(counts)["fpr"][c, 0])
    assert np.all(np.isnan(score_series(d, "s", 0.5).rates["fpr"][:, c]))


def test_an_unreadable_date_is_left_out_naming_the_period_column_only():
    """An odd unreadable date is the odd bad cell: left out and named, never blamed on the
    score (it was reported as 'numbers FairDesk could not read (e.g. <a score>)')."""
    f = drift_frame(n=800)
    f["when"] = pd.date_range("2019-01-01", periods=800, freq="2D").strftime("%d/%m/%Y")
    f.loc[10, "when"] = "unknown"
    d = prepare(f, ColumnMapping(score="v1", label="y", groups=["grp"], period="when"))
    assert d.n == 799
    messages = [p.message for p in d.problems]
    assert any("'when'" in m and "not a date" in m and "row 12" in m for m in messages)
    assert not any("could not read" in m for m in messages)
