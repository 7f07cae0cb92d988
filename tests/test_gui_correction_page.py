"""The Error-rate balance page offscreen: the correction runs through the worker, tables
equal the result's numbers, choosing w updates every view, Apply sets group-specific
thresholds, Cancel leaves no stale result, settings round trip, exports, screenshots; and
the page's numeric helpers (fairdesk/reports/correction_figures.py) against brute force."""

import math
import sys
import types

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")
pytest.importorskip("pyqtgraph")

from PySide6.QtCore import QSettings, Qt  # noqa: E402

from conftest import HANG_MS, ROOT, shoot_tabs, wait_settled  # noqa: E402
from fairdesk.dataset import AnalysisData  # noqa: E402
from fairdesk.engines.threshold_correction import (CorrectionSettings, run_correction,  # noqa: E402
                                                   transition_matrix)
from fairdesk.errors import FairDeskError  # noqa: E402
from fairdesk.metrics.thresholds import ThresholdRule  # noqa: E402
from fairdesk.present.formats import format_rate, format_ratio, format_score, is_missing  # noqa: E402
from fairdesk.reports import correction_figures as cf  # noqa: E402
from fairdesk.reports.correction_report import correction_tables  # noqa: E402
from fairdesk.schema import ColumnMapping  # noqa: E402
from fairdesk.validation import prepare  # noqa: E402

try:  # the main window imports the help dialogs, which another engineer writes
    import fairdesk.gui.help_dialogs  # noqa: F401
except Exception:  # pragma: no cover - only while that module is missing or broken
    dummy = types.ModuleType("fairdesk.gui.help_dialogs")
    dummy.GlossaryDialog = dummy.WhichMeasureDialog = object
    sys.modules["fairdesk.gui.help_dialogs"] = dummy

from fairdesk.gui.main_window import MainWindow  # noqa: E402
from fairdesk.gui.pages.correction_page import CorrectionPage  # noqa: E402

SAMPLE = ROOT / "resources" / "sample" / "sample_scores.csv"
SCREENS = ROOT / "artifacts" / "screens"
MAPPING = dict(score="score", label="outcome", groups=["race"], weight="weight", id="household_id")
SMALL = dict(start=0.0, stop=1.0, step=0.25, I=4, J=4)


def make_data(**mapping):
    return prepare(pd.read_csv(SAMPLE), ColumnMapping(**{**MAPPING, **mapping}))


@pytest.fixture
def window(make_window):
    return make_window(page_classes=[CorrectionPage], settings_name="s.ini")


@pytest.fixture
def page(window):
    window.state.set_data(make_data())
    p = window.page("correction")
    p.workers = 1
    window.show_page("correction")
    return p


def small_settings(page, start=0.0, stop=1.0, step=0.25, I=4, J=4, seed=7):
    page.w_start.setValue(start)
    page.w_stop.setValue(stop)
    page.w_step.setValue(step)
    page.subsamples.setValue(I)
    page.audit_subsamples.setValue(J)
    page.seed.setValue(seed)


def run_page(page, qtbot, timeout=HANG_MS):
    page.run()
    assert page.running
    qtbot.waitUntil(lambda: page.result is not None, timeout=timeout)
    qtbot.waitUntil(lambda: not page.worker.busy, timeout=timeout)


@pytest.fixture
def ran(page, window, qtbot):
    small_settings(page)
    run_page(page, qtbot)
    assert window.errors == []
    return page


def value(view, r, key):
    """The full-precision value of a table cell (NaN when undefined)."""
    v = view.value_at(r, key)
    return float("nan") if is_missing(v) else float(v)


def header(view, key):
    return view.source.headerData(view.source.column_index(key), Qt.Horizontal)


def same(a, b):
    a, b = float(a), float(b)
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-12, abs=1e-12)


def brute_transitions(data, res, chosen):
    """Tier before and after of each row by plain loops."""
    k = res.k
    pre = sorted(res.phi.mean(axis=0))
    post = res.theta.mean(axis=0)  # oriented (W, k, G)
    out = np.zeros((data.n_groups, k + 1, k + 1))
    for i in range(data.n):
        s, g = data.oriented[i], data.group[i]
        before = sum(1 for t in pre if s >= t)
        mine = sorted(post[chosen[t], t, g] for t in range(k))
        after = sum(1 for t in mine if s >= t)
        out[g, before, after] += data.weight[i]
    return out


def summary_row(page, key_label):
    tb = page.summary_table
    return next(r for r in range(tb.source.rowCount()) if tb.text_at(r, "item") == key_label)


def summary_value(page, key_label, t):
    return value(page.summary_table, summary_row(page, key_label), f"t{t}")


def rate_row(page, key, phase):
    rows = page.rates_table.table.row_dicts()
    return next(r for r, row in enumerate(rows) if row["rate_key"] == key and row["phase_key"] == phase)


# ------------------------------------------------------------------------------ running
def test_run_through_worker_matches_engine_and_records_seed(ran, window):
    page = ran
    res = page.result
    s = page.settings_for_run()
    assert s.weights == (0.0, 0.25, 0.5, 0.75, 1.0) and s.subsamples == 4 and s.audit_subsamples == 4
    assert window.state.seeds["threshold_correction"] == 7
    direct = run_correction(window.state.data, s)  # the page passes exactly its settings
    np.testing.assert_array_equal(direct.theta, res.theta)
    np.testing.assert_array_equal(direct.assessment["fairness_post_mean"],
                                  res.assessment["fairness_post_mean"])
    assert page.stack.currentIndex() == 1
    assert "seed 7" in page.status.text()
    assert page.chosen == {b["threshold"]: b["w_index"] for b in res.best}


def test_summary_table_equals_result(ran):
    page = ran
    res = page.result
    a = res.assessment
    post = res.post_thresholds()
    pre = res.pre_thresholds()
    d = res.settings.definition
    assert page.summary_table.source.columnCount() == res.k + 1 == 4
    for t in range(res.k):
        wi = page.chosen[t]
        assert same(summary_value(page, "Penalty weight w (chosen)", t), res.weights[wi])
        assert same(summary_value(page, "Before: every group", t), pre[t])
        for g, name in enumerate(res.group_names):
            assert same(summary_value(page, f"After: {name}", t), post[wi, t, g])
        assert same(summary_value(page, f"{d} before", t), a["fairness_pre_mean"][t])
        assert same(summary_value(page, f"{d} after", t), a["fairness_post_mean"][wi, t])
        m, sd = a["fairness_post_mean"][wi, t], a["fairness_post_sd"][wi, t]
        assert page.summary_table.text_at(summary_row(page, f"{d} after"), f"t{t}") == \
            f"{format_ratio(m)} ± {format_ratio(sd)}"
        assert page.summary_table.text_at(summary_row(page, "People moved across it"), f"t{t}") \
            == format_rate(a["changed_mean"][wi, t])
        assert same(summary_value(page, "People moved across it", t), a["changed_mean"][wi, t])
        assert same(summary_value(page, "Tier changes at this w", t), a["changed_tiers:mean"][wi])
    # thresholds named in risk order, as the engine sorts Φ
    assert [header(page.summary_table, f"t{t}") for t in range(3)] == \
        ["1 · Oregon low", "2 · Mean", "3 · Oregon high"]
    # thresholds in the score's units with the data's decimals
    assert page.summary_table.text_at(summary_row(page, "Before: every group"), "t0") == \
        format_score(pre[0], page._run_data.score_decimals)


def test_rates_and_measures_tables_equal_result(ran):
    page = ran
    res = page.result
    a = res.assessment
    for t in range(res.k):
        page.threshold_combo.setCurrentIndex(t)
        wi = page.chosen[t]
        tb = page.rates_table
        G = len(res.group_names)
        assert tb.source.columnCount() == 2 + G + 1 and tb.source.rowCount() == 18
        for r, row in enumerate(tb.table.row_dicts()):
            key, when = row["rate_key"], "pre" if row["phase_key"] == "before" else "post"
            for g in range(G):
                exp = a[f"pre:rate:{key}:mean"][g, t] if when == "pre" else \
                    a[f"post:rate:{key}:mean"][g, wi, t]
                assert same(value(tb, r, f"g{g}"), exp)
            exp = a[f"pre:overall:{key}:mean"][t] if when == "pre" else \
                a[f"post:overall:{key}:mean"][wi, t]
            assert same(value(tb, r, f"g{G}"), exp)
            assert tb.text_at(r, f"g{G}") == (format_rate(exp) if math.isfinite(exp) else "undefined")
        mt = page.measures_table
        assert mt.source.rowCount() == 8 + res.k + 1
        for r in range(mt.source.rowCount()):
            label = mt.text_at(r, "measure")
            key = label.split(" · ")[0]
            if key == "CAL":
                j = int(label.split("S")[-1]) - 1
                pre, post = a["pre:CAL:mean"][j], a["post:CAL:mean"][wi, j]
                pre_sd = a["pre:CAL:sd"][j]
            else:
                pre, post = a[f"pre:{key}:mean"][t], a[f"post:{key}:mean"][wi, t]
                pre_sd = a[f"pre:{key}:sd"][t]
            assert same(value(mt, r, "pre"), pre) and same(value(mt, r, "post"), post)
            if math.isfinite(pre) and math.isfinite(pre_sd):
                assert mt.text_at(r, "pre") == f"{format_ratio(pre)} ± {format_ratio(pre_sd)}"
            if math.isfinite(pre) and math.isfinite(post):
                assert same(value(mt, r, "change"), post - pre)
                assert mt.text_at(r, "change") == ("+" if post > pre else "") + format_ratio(post - pre)
            else:
                assert mt.text_at(r, "change") == "undefined"


def test_transitions_table_equals_brute_force(ran, window):
    page = ran
    res = page.result
    data = page._run_data
    page.table_tabs.setCurrentIndex(3)
    m = page._transition_matrix()
    np.testing.assert_allclose(m, brute_transitions(data, res, page.chosen), rtol=0, atol=1e-9)
    tb = page.transitions_table
    k1 = res.k + 1
    rows = tb.table.row_dicts()
    assert len(rows) == data.n_groups * (k1 + 1)  # per group: the whole group, then each tier
    for r, row in enumerate(rows):
        g, i = row["g"], row["i"]
        whole = m[g].sum(axis=0) if i < 0 else m[g, i]
        for j in range(k1):
            assert same(value(tb, r, f"to{j}"), whole[j])
        assert same(value(tb, r, "total"), whole.sum())
        stayed = np.trace(m[g]) if i < 0 else m[g, i, i]
        assert same(value(tb, r, "moved"), (whole.sum() - stayed) / whole.sum())
        assert tb.text_at(r, "label") == (res.group_names[g] if i < 0 else f"S{i + 1}")
    np.testing.assert_allclose(cf.transitions(data, res, page.chosen), m, rtol=1e-12, atol=1e-9)
    # one w for every threshold: the engine's own transition matrix
    for wi in range(len(res.weights)):
        one = {t: wi for t in range(res.k)}
        np.testing.assert_allclose(cf.transitions_from_scores(window.state.scores, res, one),
                                   transition_matrix(data, res, wi), rtol=1e-12, atol=1e-9)
    page.same_w.setChecked(True)
    assert abs(page._transition_matrix().sum() - data.weight.sum()) < 1e-6


def test_changing_w_updates_tables_and_plots(ran, qtbot):
    page = ran
    res = page.result
    post = res.post_thresholds()
    a = res.assessment
    page.threshold_combo.setCurrentIndex(1)
    new = 0 if page.chosen[1] != 0 else len(res.weights) - 1
    others = {t: page.chosen[t] for t in (0, 2)}
    page.w_slider.setValue(new)  # the analyst moves the slider
    assert page.chosen[1] == new and {t: page.chosen[t] for t in (0, 2)} == others
    assert same(summary_value(page, "Penalty weight w (chosen)", 1), res.weights[new])
    for g, name in enumerate(res.group_names):
        assert same(summary_value(page, f"After: {name}", 1), post[new, 1, g])
    assert same(summary_value(page, "ERB after", 1), a["fairness_post_mean"][new, 1])
    assert same(value(page.rates_table, rate_row(page, "fnr", "after"), "g0"),
                a["post:rate:fnr:mean"][0, new, 1])
    assert page.plots.w_lines[0].value() == pytest.approx(res.weights[new])
    t, marker = page.plots.fair_markers[1]
    xs, ys = marker.getData()
    assert t == 1 and xs[0] == res.weights[new] and same(ys[0], a["fairness_post_mean"][new, 1])
    assert "suggested" in page.w_value.text()
    # dragging the line in the fairness plot snaps to the nearest computed w
    line = page.plots.w_lines[0]
    with qtbot.waitSignal(line.moved, timeout=HANG_MS):
        line.line.setValue(0.49)
    assert res.weights[page.chosen[1]] == 0.5 and line.value() == 0.5
    # one w for all thresholds
    page.same_w.setChecked(True)
    page.w_slider.setValue(2)
    assert set(page.chosen.values()) == {2}
    for t in range(3):
        assert same(summary_value(page, "Penalty weight w (chosen)", t), 0.5)
    # the scores plot follows: tiers at the chosen thresholds
    page.plot_tabs.setCurrentIndex(4)
    wait_settled(qtbot, page.window())  # the heavy plots redraw on a short timer
    total = sum(len(item.getData()[0]) for item in page.plots._strip_items)
    assert total == page._run_data.n  # 6,000 rows: all shown
    rows, x, y = page.plots.strip_points(page._run_data)
    tiers = cf.post_tiers(page._run_data.subset(rows), res, page.chosen)
    for j, item in enumerate(page.plots._strip_items):
        assert len(item.getData()[0]) == int(np.sum(tiers == j))
    page.use_suggested()
    assert page.chosen == {b["threshold"]: b["w_index"] for b in res.best}


def test_plots_draw_every_tab_and_save(ran, qtbot, tmp_path):
    page = ran
    for i in range(page.plot_tabs.count()):
        page.plot_tabs.setCurrentIndex(i)
        wait_settled(qtbot, page.window())
    res = page.result
    gain = cf.subsample_gain(res, 0, page.chosen[0])
    np.testing.assert_array_equal(gain.pre, res.fairness_pre_sub[:, 0])
    np.testing.assert_allclose(gain.post, 1 - res.objective[:, page.chosen[0], 0])
    page.plot_tabs.setCurrentIndex(3)
    plots = page.plots
    assert "in-sample" in plots.gain_panel.note.text()
    # legends sit beside the plots, with an entry per threshold, group or tier
    assert plots.fair_panel.legend.names()[:3] == [f"{n}: after" for n in
                                                   ("1 · Oregon low", "2 · Mean", "3 · Oregon high")]
    assert plots.thr_panel.legend.names() == list(res.group_names) + ["before (every group)"]
    assert plots.strip_panel.legend.names()[0] == "S1 (lowest risk)"
    assert all(p.plot.legend is None for p in (plots.fair_panel, plots.trade_panel,
                                                plots.thr_panel, plots.gain_panel))
    for panel in (plots.fair_panel, plots.trade_panel, plots.thr_panel, plots.gain_panel,
                  plots.strip_panel):
        for ext in ("png", "svg"):
            out = panel.save(tmp_path / f"{panel.name}.{ext}")
            assert out.stat().st_size > 1000
    plots.thr_show.setCurrentIndex(2)  # one threshold only
    assert plots.thr_panel.plot.listDataItems()


def test_apply_sets_group_specific_thresholds(ran, window):
    page = ran
    res = page.result
    page.threshold_combo.setCurrentIndex(0)
    page.w_slider.setValue(1)
    page.apply_corrected()
    st = window.state
    assert st.group_specific
    assert st.thresholds.shape == (len(res.group_names), res.k)
    post = res.post_thresholds()
    for t in range(res.k):
        for g in range(len(res.group_names)):
            assert st.thresholds[g, t] == post[page.chosen[t], t, g]
    rule = st.threshold_rules[0]
    assert len(st.threshold_rules) == 1 and rule["kind"] == "correction"
    assert rule["w"] == [float(res.weights[page.chosen[t]]) for t in range(res.k)]
    assert rule["definition"] == "ERB" and rule["seed"] == 7
    assert [r["kind"] for r in rule["rules"]] == ["oregon_low", "mean", "oregon_high"]
    # the Tiers-page option now offers the rules the correction started from
    assert page.thresholds.model().item(1).isEnabled()
    assert cf.usable_rules(st.threshold_rules) == rule["rules"]
    assert window.errors == []


def test_add_as_scenario_equals_applied_thresholds(ran, window):
    from fairdesk.audit import run_audit
    from fairdesk.scenarios import baseline, compare

    page = ran
    name = page.add_as_scenario()
    sc = window.state.scenarios[-1]
    assert sc.name == name and sc.kind == "group_thresholds" and sc.origin["seed"] == 7
    page.apply_corrected()
    st = window.state
    comp = compare(st.data, [baseline([0.5]), sc])
    audit = run_audit(st.data, st.thresholds, group_specific=True)
    # the scenario flags at the highest threshold: the audit's last threshold
    np.testing.assert_allclose(comp.metrics[1].rates["fpr"], audit.rates["fpr"][:, -1])


def test_apply_after_data_change_refuses(ran, window):
    page = ran
    res = page.result
    window.state.set_data(make_data())  # new data: the result is cleared
    assert page.result is None and page.stack.currentIndex() == 0
    page.set_result(res, data=make_data())  # a result computed on other data
    page.apply_corrected()
    assert window.errors and "data changed" in window.errors[-1][0]


def test_cancel_leaves_page_usable_without_stale_result(page, window, qtbot):
    SCREENS.mkdir(parents=True, exist_ok=True)
    small_settings(page, step=0.01, I=200, J=200)
    assert window.grab().save(str(SCREENS / "correction_0_before_run.png"))
    page.run()
    qtbot.waitUntil(lambda: page.progress.value() > 0, timeout=HANG_MS)
    assert window.grab().save(str(SCREENS / "correction_0_running.png"))
    assert page.cancel_button.isEnabled() and not page.run_button.isEnabled()
    page.cancel()
    # until the job has really stopped, Run waits (no second job competing for the cores)
    assert not page.running and not page.cancel_button.isEnabled()
    if window.worker.busy:
        assert not page.run_button.isEnabled() and "Cancelling" in page.status.text()
    wait_settled(qtbot, window)
    assert page.result is None and not page.running
    assert page.stack.currentIndex() == 0 and "Cancelled" in page.placeholder.text()
    assert page.run_button.isEnabled() and not page.progress.isVisible()
    assert page.status.text() == "Cancelled."
    assert window.errors == []
    # still usable: a small run works
    small_settings(page)
    run_page(page, qtbot)
    assert page.result is not None and page.result.theta.shape[0] == 4


def test_cancel_from_status_bar(page, window, qtbot):
    small_settings(page, step=0.01, I=200, J=200)
    page.run()
    qtbot.waitUntil(lambda: page.progress.value() > 0, timeout=HANG_MS)
    window.worker.cancel_all()  # the main window's Cancel button
    qtbot.waitUntil(lambda: not window.worker.busy and not page.running, timeout=HANG_MS)
    assert page.result is None and "Cancelled" in page.status.text()


def test_data_change_during_run_discards_result(page, window, qtbot):
    small_settings(page)
    page.run()
    window.state.set_data(make_data())  # the run is cancelled; nothing stale arrives
    wait_settled(qtbot, window)
    assert page.result is None and not page.running


def test_settings_round_trip_and_chosen_w_after_run(ran, window, qtbot, tmp_path):
    page = ran
    page.definition.setCurrentIndex(page.definition.findData("PE"))
    page.subsampling.setCurrentIndex(page.subsampling.findData("bootstrap"))
    page.threshold_combo.setCurrentIndex(2)
    page.w_slider.setValue(0)
    s = page.settings()
    assert s["definition"] == "PE" and s["subsampling"] == "bootstrap"
    assert s["weights"] == {"start": 0.0, "stop": 1.0, "step": 0.25}
    assert s["subsamples"] == 4 and s["audit_subsamples"] == 4 and s["seed"] == 7
    assert s["chosen_w"][2] == 0.0
    import json
    s = json.loads(json.dumps(s))  # JSON-able
    other = MainWindow(page_classes=[CorrectionPage],
                       settings=QSettings(str(tmp_path / "t.ini"), QSettings.IniFormat))
    qtbot.addWidget(other)
    other.state.set_data(make_data())
    fresh = other.page("correction")
    fresh.workers = 1
    fresh.apply_settings(s)
    assert fresh.settings() == s
    assert fresh.result is None and "Run to see results" in fresh.placeholder.text()
    # the saved w's are taken up by the next run when the grid has them
    fresh.definition.setCurrentIndex(fresh.definition.findData("ERB"))
    run_page(fresh, qtbot)
    assert [float(fresh.result.weights[fresh.chosen[t]]) for t in range(3)] == s["chosen_w"]
    other.worker.wait(HANG_MS)


def test_tiers_page_thresholds(page, window, qtbot):
    st = window.state
    st.set_thresholds([0.6, 0.2], rules=[ThresholdRule("quantile", 0.8).to_dict(),
                                         ThresholdRule("fixed", 0.2).to_dict()])
    assert page.thresholds.model().item(1).isEnabled()
    page.thresholds.setCurrentIndex(1)
    s = page.settings_for_run()
    assert [r["kind"] for r in s.rules] == ["fixed", "quantile"]  # lowest risk first
    small_settings(page)
    run_page(page, qtbot)
    assert page.result.k == 2
    assert header(page.summary_table, "t0") == "1 · Fixed 0.2"
    # thresholds typed per group cannot be recomputed on a subsample
    st.set_thresholds(np.full((4, 1), 0.5), group_specific=True,
                      rules=[{"kind": "group", "value": None}])
    assert not page.thresholds.model().item(1).isEnabled()
    assert page.thresholds.currentData() == "oregon"


def test_lower_is_riskier_names_follow_values(window, qtbot):
    data = make_data(higher_is_positive=False)
    window.state.set_data(data)
    page = window.page("correction")
    page.workers = 1
    small_settings(page)
    run_page(page, qtbot)
    res = page.result
    names = [header(page.summary_table, f"t{t}") for t in range(3)]
    assert names == ["1 · Oregon high", "2 · Mean", "3 · Oregon low"]
    pre = res.pre_thresholds()
    raw = [ThresholdRule(k).resolve(data) for k in ("oregon_high", "mean", "oregon_low")]
    # bagged over 4 subsamples: close to, not equal to, the full-data values
    assert np.all(np.diff(pre) < 0) and np.allclose(pre, raw, atol=0.03)


def test_export_tables_and_settings(ran):
    page = ran
    page.threshold_combo.setCurrentIndex(0)
    page.w_slider.setValue(4)
    tables = page.export_tables()
    d = page._run_data  # the page writes thresholds and people with the data's decimals
    expected = correction_tables(page.result, page.chosen, score_decimals=d.score_decimals,
                                 people_decimals=d.people_decimals)
    assert [t.sheet for t in tables] == [t.sheet for t in expected]
    for got, exp in zip(tables, expected):
        assert [c.key for c in got.columns] == [c.key for c in exp.columns]
        assert len(got.rows) == len(exp.rows)
        for r1, r2 in zip(got.rows, exp.rows):
            assert {k: str(v) for k, v in r1.items()} == {k: str(v) for k, v in r2.items()}
    transitions = next(t for t in tables if t.sheet == "Transitions")
    ws = {r["w"] for r in transitions.rows}
    assert ws == {float(page.result.weights[wi]) for wi in page.chosen.values()}
    s = page.export_settings()
    assert s["Seed"] == 7 and s["Correction subsamples (I)"] == 4
    assert s["Fairness definition"].startswith("ERB")
    assert "0 to 1, step 0.25" in s["Penalty weights w"]
    name0 = page.result.threshold_names()[0]
    assert s[f"Chosen w, {name0}"].startswith("1")


def test_messages_without_results(window):
    page = window.page("correction")
    assert page.stack.currentIndex() == 0 and "Open a data file" in page.placeholder.text()
    assert page.export_tables() == [] and page.export_settings() == {}
    data = make_data()
    data.label = None
    window.state.set_data(data)
    assert "outcome" in page.placeholder.text() and not page.run_button.isEnabled()
    window.state.set_data(make_data())
    assert "Run to see results" in page.placeholder.text() and page.run_button.isEnabled()


def test_invalid_settings_explained(page, window):
    page.w_start.setValue(0.8)
    page.w_stop.setValue(0.2)
    assert page.w_count.text() == "invalid"
    page.run()
    assert not page.running and "below the start" in window.errors[-1][0]


def test_unit_subsampling_needs_an_id(window):
    window.state.set_data(make_data(id=None))
    page = window.page("correction")
    item = page.subsampling.model().item(page.subsampling.findData("unit"))
    assert not item.isEnabled()
    window.state.set_data(make_data())
    assert item.isEnabled()


def test_screenshots(ran, window, qtbot):
    page = ran
    SCREENS.mkdir(parents=True, exist_ok=True)
    shoot_tabs(qtbot, window, page, [(0, 0, "thresholds_fairness"), (1, 1, "rates_tradeoff"),
                                     (2, 2, "measures_thresholds_vs_w"),
                                     (3, 3, "transitions_subsamples"),
                                     (0, 4, "thresholds_scores")], "correction")


# ------------------------------------------------------------------------------ helpers
def test_weight_grid():
    assert cf.weight_grid(0, 1, 0.01) == tuple(np.round(np.linspace(0, 1, 101), 10))
    assert cf.weight_grid(0, 1, 0.25) == (0.0, 0.25, 0.5, 0.75, 1.0)
    assert cf.weight_grid(0, 1, 0.3) == (0.0, 0.3, 0.6, 0.9, 1.0)  # the stop is kept
    assert cf.weight_grid(0.5, 0.5, 0.1) == (0.5,)
    for bad in ((0.5, 0.2, 0.1), (0, 1, 0), (0, 1.5, 0.1), (0, 1, 0.0001)):
        with pytest.raises(FairDeskError):
            cf.weight_grid(*bad)


def test_strip_sample_shares_points_between_groups():
    rng = np.random.default_rng(0)
    group = np.concatenate([np.zeros(100_000), np.ones(30_000), np.full(500, 2)]).astype(np.int64)
    rng.shuffle(group)
    rows = cf.strip_sample(group, 3, 20_000, seed=3)
    assert rows.size == 20_000 and np.all(np.diff(rows) > 0)
    counts = np.bincount(group[rows], minlength=3)
    assert counts[2] == 500 and counts[0] == counts[1] == 9_750  # small group kept whole
    np.testing.assert_array_equal(rows, cf.strip_sample(group, 3, 20_000, seed=3))
    assert not np.array_equal(rows, cf.strip_sample(group, 3, 20_000, seed=4))
    np.testing.assert_array_equal(cf.strip_sample(group[:900], 3, 20_000), np.arange(900))


def test_usable_and_ordered_rules():
    data = make_data()
    assert cf.usable_rules([{"kind": "fixed", "value": 0.5}]) == [{"kind": "fixed", "value": 0.5,
                                                                   "n_bins": 20}]
    assert cf.usable_rules([{"kind": "group"}]) is None
    assert cf.usable_rules([{"kind": "quantile", "value": None}]) is None
    assert cf.usable_rules([]) is None
    inner = [{"kind": "mean", "value": None, "n_bins": 20}]
    assert cf.usable_rules([{"kind": "correction", "rules": inner}]) == inner
    ordered = cf.order_rules(data, [{"kind": "oregon_high"}, {"kind": "fixed", "value": 0.01},
                                    {"kind": "mean"}])
    assert [r["kind"] for r in ordered] == ["fixed", "mean", "oregon_high"]
    with pytest.raises(FairDeskError, match="equal"):
        cf.order_rules(data, [{"kind": "fixed", "value": 0.3}, {"kind": "fixed", "value": 0.3}])


def _tiny_result():
    """A hand-made result: 2 groups, 1 threshold, 2 weights, 2 subsamples."""
    from fairdesk.engines.threshold_correction import CorrectionResult
    res = CorrectionResult(settings=CorrectionSettings(weights=(0.0, 1.0), rules=({"kind": "mean"},)),
                           group_names=["a", "b"], sign=1.0, mode="bootstrap",
                           weights=np.array([0.0, 1.0]), phi=np.array([[0.5], [0.5]]),
                           theta=np.array([[[[0.3, 0.7]], [[0.5, 0.5]]],
                                           [[[0.4, 0.6]], [[0.5, 0.5]]]]),
                           objective=np.array([[[0.2], [0.0]], [[0.4], [0.0]]]),
                           fairness_pre_sub=np.array([[0.5], [0.7]]))
    res.best = [{"threshold": 0, "w_index": 0}]
    return res


def test_transitions_by_hand():
    res = _tiny_result()
    data = AnalysisData(score=np.array([0.2, 0.36, 0.55, 0.66, 0.64, 0.9]), label=np.zeros(6, np.int8),
                        group=np.array([0, 0, 0, 1, 1, 1], np.int32), group_names=["a", "b"],
                        weight=np.array([1.0, 1, 1, 1, 1, 2]), row_numbers=np.arange(6) + 2,
                        mapping=ColumnMapping(score="s", label="y", groups=["g"]), n_input_rows=6)
    # w = 0: group a's threshold 0.35, group b's 0.65 (the means over the subsamples)
    np.testing.assert_allclose(cf.chosen_thresholds(res, {0: 0}), [[0.35], [0.65]])
    m = cf.transitions(data, res, {0: 0})
    # a: 0.2 stays S1; 0.36 moves S1 -> S2; 0.55 stays S2. b: 0.66 stays S2; 0.64 S2 -> S1; 0.9 (w 2)
    np.testing.assert_array_equal(m[0], [[1, 1], [0, 1]])
    np.testing.assert_array_equal(m[1], [[0, 0], [1, 3]])
    np.testing.assert_array_equal(cf.transitions(data, res, {0: 1}), [[[2, 0], [0, 1]],
                                                                      [[0, 0], [0, 4]]])
    from fairdesk.metrics.confusion import GroupScores
    gs = GroupScores.from_data(data)
    for c in ({0: 0}, {0: 1}):
        np.testing.assert_array_equal(cf.transitions_from_scores(gs, res, c),
                                      cf.transitions(data, res, c))
    gain = cf.subsample_gain(res, 0, 0)
    np.testing.assert_allclose(gain.post, [0.8, 0.6])  # 1 − objective
    np.testing.assert_allclose(gain.at_phi, [0.5, 0.7])  # at w = 0: F at Φ
    gain1 = cf.subsample_gain(res, 0, 1)
    np.testing.assert_allclose(gain1.at_phi, [1.0, 1.0])  # w = 1: no penalty at Φ
    assert cf.crossing_groups(res, {0: 0}) == []


def test_calibration_uses_one_w_for_all_thresholds(page, window, qtbot):
    page.definition.setCurrentIndex(page.definition.findData("CAL"))
    assert "tier" in page.meaning.text()
    small_settings(page)
    run_page(page, qtbot)
    res = page.result
    assert res.settings.definition == "CAL"
    assert not page.threshold_combo.isEnabled() and page.same_w.isChecked()
    assert len(set(page.chosen.values())) == 1
    page.w_slider.setValue(0)
    assert set(page.chosen.values()) == {0}
    assert len(page.plots.fair_markers) == 1  # one curve: the mean CAL over tiers
    page.plot_tabs.setCurrentIndex(3)
    gain = cf.subsample_gain(res, 0, 0)
    f = np.nan_to_num(res.fairness_pre_sub)
    np.testing.assert_allclose(gain.pre, f.mean(axis=1))
    np.testing.assert_allclose(gain.post, 1 - res.objective[:, 0, 0] / (res.k + 1))
    assert window.errors == []


def test_audit_page_shows_applied_thresholds(qtbot, tmp_path, monkeypatch):
    from fairdesk.gui.pages.audit_page import AuditPage
    win = MainWindow(page_classes=[CorrectionPage, AuditPage],
                     settings=QSettings(str(tmp_path / "a.ini"), QSettings.IniFormat))
    errors = []
    monkeypatch.setattr(win, "show_error", lambda msg, details="": errors.append(msg))
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    win.state.set_data(make_data())
    page = win.page("correction")
    page.workers = 1
    small_settings(page)
    run_page(page, qtbot)
    page.apply_corrected()
    audit = win.page("audit")
    qtbot.waitUntil(lambda: audit.result is not None and audit.result.group_specific, timeout=HANG_MS)
    np.testing.assert_array_equal(audit.result.thresholds,
                                  cf.chosen_thresholds(page.result, page.chosen))
    win.show_page("audit")
    wait_settled(qtbot, win)
    assert errors == []
    win.worker.cancel_all()
    win.worker.wait(HANG_MS)
