"""The tiers' tables without a window: values against an independent pandas computation,
undefined cells with their reasons, thresholds with the scores' decimals."""

import numpy as np
import pandas as pd
import pytest

from fairdesk.errors import FairDeskError
from fairdesk.metrics.confusion import GroupScores
from fairdesk.metrics.thresholds import ThresholdRule
from fairdesk.present.formats import format_rate, format_score
from fairdesk.present.table import Cell, column_values, plain_value
from fairdesk.present.text import render_table
from fairdesk.reports import tiers_tables as tt
from fairdesk.reports.workbook import write_workbook
from fairdesk.schema import ColumnMapping
from fairdesk.undefined import Undefined
from fairdesk.validation import prepare


@pytest.fixture(scope="module")
def data(sample_frame):
    return prepare(sample_frame, ColumnMapping(score="score", label="outcome", groups=["race"]))


def tiers(data, thresholds, group_specific=False):
    return tt.compute_tiers(data, GroupScores.from_data(data), thresholds, group_specific)


def test_values_equal_a_pandas_groupby(sample_frame, data):
    res = tiers(data, [0.5, 0.2])
    s = sample_frame["score"].to_numpy()
    tier = np.searchsorted([0.2, 0.5], s, side="right")
    expected = sample_frame.assign(tier=tier).groupby(["tier", "race"])["outcome"].agg(
        ["size", "mean"])
    table = tt.calibration_table(res)
    assert [c.key for c in table.columns] == ["tier", "range", "group", "rows", "share",
                                              "outcome_rate", "cal"]  # no weight column
    rows = table.row_dicts()
    assert len(rows) == 3 * data.n_groups
    for r, row in zip(res.rows, rows):
        size, mean = expected.loc[(r["tier_index"], r["group"])]
        assert plain_value(row["rows"]) == r["rows"] == size
        assert plain_value(row["outcome_rate"]) == pytest.approx(mean)
        assert table.column("outcome_rate").text(row["outcome_rate"]) == format_rate(mean)
        assert row["group_index"] == data.group_names.index(r["group"])
    # CAL: smallest ÷ largest outcome rate in each tier, on every row of the tier
    for j in range(3):
        rates = expected.xs(j, level=0)["mean"]
        assert res.cal[j] == pytest.approx(rates.min() / rates.max())
        assert {plain_value(r["cal"]) for r in rows[j * 4:(j + 1) * 4]} == {res.cal[j]}
    assert [plain_value(r["tier"]) for r in rows[:5]] == ["S1"] * 4 + ["S2"]
    assert [r["tier"].bold for r in rows[:5]] == [True, False, False, False, True]
    # the shares of each group add up to 1
    shares = column_values(table, "share")
    for g in range(data.n_groups):
        assert sum(shares[g::data.n_groups]) == pytest.approx(1.0)
    # the wide table and its chart hold the same rates
    wide = tt.rates_table(res)
    assert [r["tier"] for r in wide.rows] == ["S1", "S2", "S3"]
    assert wide.charts[0].value_keys == [f"rate_{g}" for g in range(data.n_groups)]
    assert wide.rows[1]["rate_2"] == pytest.approx(res.rate[2, 1])


def test_thresholds_read_with_the_scores_decimals(data):
    assert data.score_decimals == 4
    res = tiers(data, [0.2, 0.5])
    ranges = column_values(tt.calibration_table(res), "range")
    assert ranges[0] == "< 0.2000" and ranges[4] == "0.2000 – 0.5000" and ranges[-1] == "≥ 0.5000"
    assert res.rows[4]["range_long"] == "0.2000 ≤ score < 0.5000"
    assert tt.tier_ranges([0.3, 0.3], 1.0, 2)[1] == ("empty", "empty: two thresholds are equal")
    # a lower score is riskier: S1 holds the highest scores
    assert [r for r, _ in tt.tier_ranges([-0.6, -0.3], -1.0, 1)] == ["> 0.6", "0.3 – 0.6",
                                                                     "≤ 0.3"]
    assert tt.short_list([0.1234567, 0.5], 4) == "0.1235, 0.5000"
    assert tt.short_list(np.arange(10) / 10, 1) == "0.0, 0.1, 0.2, …, 0.9"
    summary = tt.settings_summary(data, [0.2, 0.41850291], False,
                                  [{"kind": "fixed", "value": 0.41850291},
                                   {"kind": "quantile", "value": 0.8}])
    assert summary["Thresholds"] == "0.2000, 0.4185"
    assert summary["Threshold rules"] == "fixed value 0.4185; 80th percentile"


def test_undefined_cells_carry_their_reason():
    f = pd.DataFrame({"score": [.1, .2, .3, .4, .1, .6, .7, .8],
                      "outcome": [0, 1, 0, 1, 0, 1, 0, 1], "race": list("AAAABBBB")})
    d = prepare(f, ColumnMapping(score="score", label="outcome", groups=["race"]),
                min_group_size=1)
    res = tiers(d, [0.5])
    table = tt.calibration_table(res)
    rows = table.row_dicts()
    a_s2 = rows[2]  # tier S2, group A: no one
    rate = plain_value(a_s2["outcome_rate"])
    assert isinstance(rate, Undefined) and "0/0" in rate.reason and "'A'" in rate.reason
    assert table.column("outcome_rate").text(a_s2["outcome_rate"]) == "undefined"
    assert "Fewer than two groups" in plain_value(a_s2["cal"]).reason
    assert "Fewer than two groups" in plain_value(tt.rates_table(res).rows[1]["cal"]).reason
    assert tt.chart_note(res).startswith("1 bar missing")
    text = render_table(table)
    assert "undefined" in text and "0/0" in text  # the reason is listed under the table


def test_weights_are_people_with_their_decimals(sample_frame):
    d = prepare(sample_frame, ColumnMapping(score="score", label="outcome", groups=["race"],
                                            weight="weight"))
    res = tiers(d, [0.5])
    table = tt.calibration_table(res)
    col = table.column("weight")
    assert (col.kind, col.decimals) == ("people", d.people_decimals)
    first = table.row_dicts()[0]
    assert plain_value(first["weight"]) == pytest.approx(res.rows[0]["weight"])
    assert f"of {col.text(res.rows[0]['weight'])} people" in first["outcome_rate"].tip


def test_without_an_outcome_column(sample_frame):
    d = prepare(sample_frame, ColumnMapping(score="score", groups=["race"]), require_label=False)
    res = tiers(d, [0.3, 0.6])
    rows = tt.calibration_table(res).row_dicts()
    assert sum(plain_value(r["rows"]) for r in rows) == d.n
    assert all("No outcome column" in plain_value(r["outcome_rate"]).reason for r in rows)
    assert tt.chart_note(res).startswith("No outcome column")


def test_group_specific_ranges(data):
    t = np.tile([0.3, 0.6], (data.n_groups, 1))
    t[1, 0] = 0.25
    res = tiers(data, t, group_specific=True)
    assert res.rows[1]["range"] == "< 0.2500" and res.rows[0]["range"] == "< 0.3000"
    assert tt.rates_table(res).rows[0]["range"] == "group-specific"


def test_rules_in_words_and_from_text(data):
    with pytest.raises(FairDeskError, match="Rule 2: a quantile must be between 0% and 100%"):
        tt.parse_rule("quantile", "150", 20, 2)
    with pytest.raises(FairDeskError, match="from 1 to 19"):
        tt.parse_rule("ventile", "25", 20, 1)
    with pytest.raises(FairDeskError, match="type a threshold value"):
        tt.parse_rule("fixed", "", 20, 1)
    assert tt.parse_rule("quantile", "80", 20, 1) == ThresholdRule("quantile", 0.8)
    assert tt.parse_rule("fixed", "0,25", 20, 1) == ThresholdRule("fixed", 0.25)
    # the exact value behind a rounded text wins
    assert tt.parse_rule("fixed", "0.4185", 20, 1, exact=0.41850291).value == 0.41850291
    assert tt.rule_value_text(ThresholdRule("fixed", 0.41850291), 4) == "0.4185"
    assert tt.rule_value_text(ThresholdRule("quantile", 0.8)) == "80"
    assert tt.describe_rules([ThresholdRule("ventile", j, 20).to_dict()
                              for j in range(1, 20)]) == "bin edges 1–19 of 20"
    assert tt.describe_rules([{"kind": "fixed", "value": 0.5}]) == ""
    assert [r.kind for r in tt.preset_rules(tt.PRESETS[1], data)] == ["oregon_low", "mean",
                                                                      "oregon_high"]
    resolve = tt.RuleResolver(data)
    assert resolve(ThresholdRule("ventile", 16, 20)) == \
        ThresholdRule("ventile", 16, 20).resolve(data)
    # the editor shows the state's rules while they give its thresholds, else fixed values
    rules = [ThresholdRule("mean").to_dict()]
    mean = resolve(ThresholdRule("mean"))
    assert tt.state_rules(data, [mean], False, rules, resolve) == [ThresholdRule("mean")]
    assert tt.state_rules(data, [0.4], False, rules, resolve) == [ThresholdRule("fixed", 0.4)]
    text, tip = tt.flagged(data, GroupScores.from_data(data), 0.5, ThresholdRule("fixed", 0.5))
    share = float(np.mean(data.score >= 0.5))
    assert text == format_rate(share) and format_score(0.5, 4) in tip


def test_group_thresholds_from_cells():
    cells = [[("0.3", None), ("0.3000", 0.30000001)], [("0,25", None), ("0.6", None)]]
    np.testing.assert_array_equal(tt.group_thresholds(cells), [[0.3, 0.30000001], [0.25, 0.6]])
    with pytest.raises(FairDeskError, match="Group B, threshold T2: type a number"):
        tt.group_thresholds([[("1", None), ("1", None)], [("1", None), ("x", None)]], ["A", "B"])


def test_the_workbook_writes_the_same_tables(tmp_path, data):
    from openpyxl import load_workbook

    res = tiers(data, [0.2, 0.5])
    path = write_workbook(tmp_path / "tiers.xlsx", about={"Test": {"k": 1}},
                          tables=tt.tier_tables(res))
    wb = load_workbook(path)
    assert {"Tiers", "Tier outcome rates"} <= set(wb.sheetnames)
    values = [c for row in wb["Tiers"].iter_rows(values_only=True) for c in row]
    assert "< 0.2000" in values and res.rows[0]["rows"] in values
    assert any(isinstance(v, float) and v == pytest.approx(res.rows[0]["outcome_rate"])
               for v in values)
    assert all(not isinstance(v, Cell) for v in values)
