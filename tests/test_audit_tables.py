"""The Audit page's tables without Qt: every value equals the engine's, each kind reads as
on every surface (44.6 %, 0.812, +3.2 pts, whole people), undefined cells carry their reason,
and the same builders give the workbook's cross-AUC."""

import math

import numpy as np
import pytest

from fairdesk.audit import run_audit
from fairdesk.bootstrap import bootstrap_audit
from fairdesk.metrics.fairness import DEFINITIONS, reference_comparison
from fairdesk.present.formats import is_missing
from fairdesk.present.table import Cell, plain_value
from fairdesk.present.text import render_table
from fairdesk.reports.audit_tables import (COMPARED_RATES, GROUP_TABLE_KEYS, auc_table,
                                           compute_ranking, fairness_table, group_column_key,
                                           group_specs, group_table, group_value, groups_note,
                                           metric_grid, reference_table, scenario_of, spec_key,
                                           threshold_texts, xauc_table)
from fairdesk.undefined import Undefined


@pytest.fixture(scope="module")
def audited(sample_data):
    res = run_audit(sample_data, [0.5])
    return sample_data, res


def number(v):
    v = plain_value(v)
    return float("nan") if is_missing(v) or isinstance(v, str) else float(v)


def same(a, b):
    a, b = float(a), float(b)
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-12, abs=1e-12)


def text(table, row, key):
    return table.column(key).text(row[key])


def test_group_table_both_orientations_equal_the_engine(audited):
    data, res = audited
    G = data.n_groups
    across = group_table(res, 0, across=True, people_decimals=data.people_decimals)
    rows = across.row_dicts()
    specs = group_specs(True, False)
    assert [r["spec"] for r in rows] == specs
    down = group_table(res, 0, across=False, people_decimals=data.people_decimals)
    drows = down.row_dicts()
    assert len(drows) == G + 1 and plain_value(drows[-1]["group"]) == "All"
    assert [r["swatch"] for r in drows] == list(range(G)) + [None]
    for key in GROUP_TABLE_KEYS:
        for g in list(range(G)) + [None]:
            want, _ = group_value(res, key, g, 0)
            got_across = rows[specs.index(("value", key))][group_column_key(g)]
            got_down = drows[G if g is None else g][spec_key(("value", key))]
            assert same(number(got_across), want) and same(number(got_down), want), (key, g)
    # formats: rates 44.6 %, people whole, FN/FP a ratio, AUC 3 decimals
    fpr = res.rates["fpr"][0, 0]
    assert down.column("fpr").text(drows[0]["fpr"]) == f"{100 * fpr:.1f} %"
    assert down.column("tp").text(drows[0]["tp"]) == f"{res.counts.tp[0, 0]:,.0f}"
    assert down.column("fn_fp").text(drows[0]["fn_fp"]) == f"{res.rates['fn_fp'][0, 0]:.3f}"
    # the interval of a proportion is a (low, high) pair shown as a rate range
    ci = drows[0]["ci:fpr"]
    assert isinstance(ci.value, tuple) and ci.value[0] < fpr < ci.value[1]
    assert ci.text() == f"{100 * ci.value[0]:.1f}–{100 * ci.value[1]:.1f} %"
    assert "Clopper–Pearson" in ci.tip
    # the text output aligns the same table
    assert "All" in render_table(down)


def test_auc_pending_and_bootstrap_cells(audited, sample_data):
    data, res = audited
    pending = ("computing…", "being computed")
    t = group_table(res, 0, across=False, pending=pending)
    cell = t.row_dicts()[0]["auc"]
    assert cell.value == "computing…" and cell.muted and cell.tip == "being computed"
    x = xauc_table(res, pending=pending)
    assert all(plain_value(r["x0"]) == "computing…" for r in x.row_dicts())
    b = bootstrap_audit(data, [0.5], resamples=6, seed=3)
    res.intervals = b
    t = group_table(res, 0, across=False, bootstrap=b)
    m, s = b.mean["rate:fpr"][0, 0], b.sd["rate:fpr"][0, 0]
    cell = t.row_dicts()[0]["boot:fpr"]
    assert cell.value == f"{100 * m:.1f} % ± {100 * s:.1f} %"
    assert "6 resamples (seed 3)" in cell.tip
    assert plain_value(t.row_dicts()[-1]["boot:fpr"]) == "n/a"  # All: not bootstrapped
    a = auc_table(res, bootstrap=b).row_dicts()
    assert "±" in plain_value(a[0]["boot"])
    res.intervals = None


def test_fairness_table_values_pairs_and_meanings(audited):
    data, res = audited
    t = fairness_table(res, 0, highlight="PE")
    rows = t.row_dicts()
    values = [r for r in rows if r["row_kind"] == "value"]
    meanings = [r for r in rows if r["row_kind"] == "meaning"]
    assert len(meanings) == len(DEFINITIONS)
    assert len(values) == len(DEFINITIONS) - 1 + res.k + 1  # CAL: one row per tier
    for r in values:
        key, tier = r["measure_key"], r["tier"]
        want = res.fairness[key][tier if key == "CAL" else 0]
        assert same(number(r["value"]), want), key
        assert same(number(r["balance"]), want)
        det = res.details(key, tier if key == "CAL" else 0)
        assert plain_value(r["pair"]).startswith(det.pair_text(data.group_names) or "—")
        assert plain_value(r["interval"]) == "not estimated"  # no bootstrap
        assert r["value"].highlight == (key == "PE")
    i = rows.index(next(r for r in values if r["measure_key"] == "PE"))
    assert rows[i + 1]["row_kind"] == "meaning" and rows[i + 1]["measure"].highlight
    assert plain_value(rows[i + 1]["measure"]) == DEFINITIONS["PE"].meaning
    note, _tip = groups_note(res, 0)
    assert note.startswith("Compared:")


def test_reference_table_differences_in_points_ratios_plain(audited):
    data, res = audited
    t = reference_table(res, 0, reference=1, show=("diff", "ratio"), highlight="fpr")
    rows = t.row_dicts()
    assert [r["key"] for r in rows] == list(COMPARED_RATES)
    assert t.columns[1].header.startswith(data.group_names[1])
    assert "diff1" not in [c.key for c in t.columns]
    for r in rows:
        key = r["key"]
        vals = np.array([group_value(res, key, g, 0)[0] for g in range(data.n_groups)])
        diff, ratio = reference_comparison(vals, 1)
        assert same(number(r["ref"]), vals[1])
        for g in (0, 2, 3):
            assert same(number(r[f"diff{g}"]), diff[g]) and same(number(r[f"ratio{g}"]), ratio[g])
        assert r["rate"].highlight == (key == "fpr")
    fpr = rows[COMPARED_RATES.index("fpr")]
    d = res.rates["fpr"][0, 0] - res.rates["fpr"][1, 0]
    assert t.column("diff0").text(fpr["diff0"]) == f"{100 * d:+.1f} pts".replace("-", "−")
    # a ratio's difference is no rate: plain, not points
    fnfp = rows[COMPARED_RATES.index("fn_fp")]
    assert "pts" not in t.column("diff0").text(fnfp["diff0"])


def test_undefined_cells_carry_their_reason(sample_frame):
    from conftest import SAMPLE_MAPPING
    from fairdesk.schema import ColumnMapping
    from fairdesk.validation import prepare

    frame = sample_frame.copy()
    frame.loc[frame["race"] == "Group D", "outcome"] = 1  # Group D: no negatives
    data = prepare(frame, ColumnMapping(**SAMPLE_MAPPING))
    d = data.group_names.index("Group D")
    res = run_audit(data, [0.5])
    row = group_table(res, 0, across=False).row_dicts()[d]
    fpr = plain_value(row["fpr"])
    assert isinstance(fpr, Undefined) and "negative outcome" in fpr.reason and "Group D" in fpr.reason
    assert row["fpr"].text() == "undefined"
    assert isinstance(plain_value(row["ci:fpr"]), Undefined)  # no interval, with the reason
    ref = reference_table(res, 0, reference=0)
    cell = plain_value(ref.row_dicts()[COMPARED_RATES.index("fpr")][f"diff{d}"])
    assert isinstance(cell, Undefined) and "negative outcome" in cell.reason
    x = plain_value(xauc_table(res).row_dicts()[0][f"x{d}"])
    assert isinstance(x, Undefined) and "Group D" in x.reason
    auc = plain_value(auc_table(res).row_dicts()[d]["auc"])
    assert isinstance(auc, Undefined) and "Group D" in auc.reason


def test_threshold_texts_and_scenario_use_score_decimals(audited):
    data, _res = audited
    label, tip, items = threshold_texts(np.array([0.25, 0.5]), 1, group_names=data.group_names,
                                        group_specific=False, higher_is_positive=True,
                                        decimals=2)
    assert label == "Flagged when score ≥ 0.50" and items == ["#1 = 0.25", "#2 = 0.50"]
    assert "0.5" in tip
    kind, params, name = scenario_of(data, [0.5, 0.25], False)
    assert kind == "thresholds" and params == {"values": [0.25, 0.5]}
    d = data.score_decimals
    assert name == f"Audit: {0.25:.{d}f}, {0.5:.{d}f}"
    t = np.array([[0.4], [0.5], [0.55], [0.45]])
    kind, params, name = scenario_of(data, t, True)
    assert kind == "group_thresholds" and params["values"][data.group_names[2]] == [0.55]


def test_ranking_and_grid_match_the_engine(sample_data):
    from fairdesk.metrics.confusion import GroupScores

    scores = GroupScores.from_data(sample_data)
    auc, xm, overall = compute_ranking(sample_data, scores)
    res = run_audit(sample_data, [0.5])
    assert np.allclose(auc, res.auc, equal_nan=True) and np.allclose(xm, res.xauc, equal_nan=True)
    assert overall == pytest.approx(res.auc_overall)
    x, rates, (lo, hi) = metric_grid(sample_data, scores, 50)
    assert x.shape == (50,) and lo == x[0] and hi == x[-1]
    at = run_audit(sample_data, [x[10]])
    assert np.allclose(rates["fpr"][:, 10], at.rates["fpr"][:, 0], equal_nan=True)
    assert np.allclose(rates["fp_group_size"][:, 10], at.counts.fp[:, 0] / at.weight)


def test_workbook_cross_auc_is_the_windows_table(audited):
    from fairdesk.reports.audit_report import audit_tables

    data, res = audited
    sheet = next(t for t in audit_tables(res, data) if t.sheet == "Cross-AUC")
    window = xauc_table(res)
    assert [c.header for c in sheet.columns] == [c.header for c in window.columns]
    for a, row in enumerate(sheet.row_dicts()):
        for b in range(data.n_groups):
            assert same(number(row[f"x{b}"]), res.xauc[a, b])
    assert isinstance(window.row_dicts()[0]["x0"], Cell)
