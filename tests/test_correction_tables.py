"""The Error-rate balance page's tables (fairdesk/reports/correction_tables.py), Qt-free:
every cell equals the engine's result, reads with the shared formats, and an undefined cell
carries its reason; the workbook's Transitions sheet has the page's rows."""

import copy
import math

import numpy as np
import pandas as pd
import pytest

from conftest import SAMPLE
from fairdesk.engines.threshold_correction import CorrectionSettings, run_correction
from fairdesk.metrics.rates import RATES
from fairdesk.present.formats import (excel_format, format_people, format_rate, format_ratio,
                                      format_score, is_missing)
from fairdesk.present.table import plain_value
from fairdesk.present.text import render_table
from fairdesk.reports import correction_figures as cf
from fairdesk.reports import correction_tables as ct
from fairdesk.reports.correction_report import correction_tables
from fairdesk.schema import ColumnMapping
from fairdesk.undefined import Undefined
from fairdesk.validation import prepare


@pytest.fixture(scope="module")
def data():
    return prepare(pd.read_csv(SAMPLE), ColumnMapping(score="score", label="outcome", groups=["race"],
                                                      weight="weight", id="household_id"))


@pytest.fixture(scope="module")
def res(data):
    return run_correction(data, CorrectionSettings(weights=(0.0, 0.5, 1.0), subsamples=3,
                                                   audit_subsamples=3, seed=11, workers=1))


def by_key(table, key):
    return next(r for r in table.row_dicts() if r["key"] == key)


def text(table, row, key):
    return table.column(key).text(row.get(key))


def same(a, b):
    a = math.nan if is_missing(a) else float(a)
    return (math.isnan(a) and math.isnan(float(b))) or a == pytest.approx(float(b), rel=1e-12)


def test_summary_equals_result(res, data):
    chosen = {0: 1, 1: 0, 2: 2}
    table = ct.summary_table(res, chosen, data.score_decimals)
    a = res.assessment
    pre, post = res.pre_thresholds(), res.post_thresholds()
    assert [c.header for c in table.columns[1:]] == ["1 · Oregon low", "2 · Mean", "3 · Oregon high"]
    for t, wi in chosen.items():
        k = f"t{t}"
        assert plain_value(by_key(table, "w")[k]) == res.weights[wi]
        assert text(table, by_key(table, "w"), k) == ct.w_text(res.weights[wi])
        assert same(plain_value(by_key(table, "pre")[k]), pre[t])
        assert text(table, by_key(table, "pre"), k) == format_score(pre[t], data.score_decimals)
        for g in range(len(res.group_names)):
            row = by_key(table, f"post{g}")
            assert same(plain_value(row[k]), post[wi, t, g])
            assert row["item"].swatch == g  # the group's colour beside its name
        fair = by_key(table, "fair_post")
        assert same(plain_value(fair[k]), a["fairness_post_mean"][wi, t])
        assert text(table, fair, k) == (f"{format_ratio(a['fairness_post_mean'][wi, t])} ± "
                                        f"{format_ratio(a['fairness_post_sd'][wi, t])}")
        assert same(plain_value(by_key(table, "changed")[k]), a["changed_mean"][wi, t])
        assert text(table, by_key(table, "changed"), k) == format_rate(a["changed_mean"][wi, t])
        assert same(plain_value(by_key(table, "changed_tiers")[k]), a["changed_tiers:mean"][wi])
    assert "ERB after" in render_table(table)  # the command line's text renders it too


def test_undefined_cells_carry_their_reason(res):
    broken = copy.copy(res)
    broken.assessment = {k: np.array(v, dtype=float, copy=True) if isinstance(v, np.ndarray) else v
                         for k, v in res.assessment.items()}
    broken.assessment["fairness_pre_mean"][0] = np.nan
    broken.assessment["pre:rate:fnr:mean"][1, 0] = np.nan
    broken.assessment["pre:ERB:mean"][0] = np.nan
    table = ct.summary_table(broken, None)
    cell = by_key(table, "fair_pre")["t0"]
    assert isinstance(cell.value, Undefined) and cell.value.reason == ct.FAIRNESS_UNDEFINED
    assert text(table, by_key(table, "fair_pre"), "t0") == "undefined"
    rates = ct.rates_table(broken, None, 0)
    row = next(r for r in rates.row_dicts() if r["rate_key"] == "fnr" and r["phase_key"] == "before")
    assert isinstance(row["g1"].value, Undefined)
    assert RATES["fnr"].undefined_when in row["g1"].value.reason
    measures = ct.measures_table(broken, None, 0)
    erb = next(r for r in measures.row_dicts() if r["key"] == "ERB")
    assert erb["pre"].value.reason == ct.MEASURE_UNDEFINED
    assert erb["change"].value.reason == ct.MEASURE_UNDEFINED
    assert text(measures, erb, "change") == "undefined"


def test_rates_and_measures_equal_result(res):
    a = res.assessment
    chosen = cf.full_choice(res, {1: 2})
    wi = chosen[1]
    rates = ct.rates_table(res, chosen, 1)
    G = len(res.group_names)
    assert len(rates.row_dicts()) == 18 and [c.key for c in rates.columns][-1] == f"g{G}"
    for row in rates.row_dicts():
        r, after = row["rate_key"], row["phase_key"] == "after"
        for g in range(G):
            exp = a[f"post:rate:{r}:mean"][g, wi, 1] if after else a[f"pre:rate:{r}:mean"][g, 1]
            assert same(plain_value(row[f"g{g}"]), exp)
            assert row[f"g{g}"].bold == after
        exp = a[f"post:overall:{r}:mean"][wi, 1] if after else a[f"pre:overall:{r}:mean"][1]
        assert text(rates, row, f"g{G}") == format_rate(exp)
    measures = ct.measures_table(res, chosen, 1)
    for row in measures.row_dicts():
        key, tier = row["key"], row["tier"]
        pre = a["pre:CAL:mean"][tier] if key == "CAL" else a[f"pre:{key}:mean"][1]
        post = a["post:CAL:mean"][wi, tier] if key == "CAL" else a[f"post:{key}:mean"][wi, 1]
        assert same(plain_value(row["pre"]), pre) and same(plain_value(row["post"]), post)
        if math.isfinite(pre) and math.isfinite(post):
            assert same(plain_value(row["change"]), post - pre)
            assert text(measures, row, "change") == ("+" if post > pre else "") + format_ratio(post - pre)


def test_transitions_rows_and_workbook_sheet(res, data):
    m = np.array([[[3.0, 1.0], [0.0, 0.0]], [[2.5, 0.0], [0.5, 4.0]]])
    table = ct.transitions_table(m, ["a", "b"], people_decimals=1)
    rows = table.row_dicts()
    assert [(r["g"], r["i"]) for r in rows] == [(0, -1), (0, 0), (0, 1), (1, -1), (1, 0), (1, 1)]
    assert plain_value(rows[0]["total"]) == 4 and plain_value(rows[0]["moved"]) == 0.25
    assert plain_value(rows[1]["moved"]) == 0.25 and rows[1]["to0"].highlight
    assert isinstance(rows[2]["moved"].value, Undefined)  # nobody of a in S2 before: 0/0
    assert "(0/0)" in rows[2]["moved"].value.reason
    assert text(table, rows[3], "to0") == format_people(3.0, 1)
    assert plain_value(rows[4]["to0"]) == 2.5 and plain_value(rows[5]["moved"]) == pytest.approx(0.5 / 4.5)
    # the workbook lists the same rows at every chosen w, with w in front
    chosen = cf.full_choice(res, None)
    sheet = next(t for t in correction_tables(res, chosen, people_decimals=data.people_decimals)
                 if t.sheet == "Transitions")
    wi = chosen[0]
    expected = ct.transition_rows(res.transitions[wi], res.group_names, {"w": float(res.weights[wi])})
    got = [r for r in sheet.row_dicts() if r["w"] == float(res.weights[wi])]
    assert [{k: str(v) for k, v in r.items()} for r in got] == \
        [{k: str(v) for k, v in r.items()} for r in expected]
    assert [c.key for c in sheet.columns] == ["w", "group", "tier"] + [c.key for c in
                                                                      table.columns[1:3]] + \
        ["to2", "to3", "total", "moved"]
    assert [text(table, r, "label") for r in rows[:3]] == ["a", "S1", "S2"]


def test_thresholds_read_the_same_in_the_window_and_the_workbook():
    """A bagged threshold on decile scores keeps the decimals it needs, in the cell's text
    and in its Excel number format; a whole one reads whole."""
    cell = ct.score_cell(4.41850291639663, 0)
    assert cell.text() == "4.4185" and cell.number_format == excel_format("score", 4)
    whole = ct.score_cell(2.0, 0)
    assert whole.text() == "2" and whole.number_format == "0"
    assert ct.score_cell(0.16512, 4).text() == "0.1651"


def test_w_text():
    assert [ct.w_text(w) for w in (0.0, 0.25, 0.5, 1.0, 0.125)] == ["0", "0.25", "0.5", "1", "0.125"]
