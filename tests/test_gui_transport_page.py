"""The Transport & conformal page (pytest-qt, offscreen): it shows the engine's numbers in
its table models, follows the data, the reference group and the threshold, reports bad splits
inline, runs the feature transport through the worker, exports, keeps its settings, keeps its
legends beside the plots, and looks right at 1280×800 (screenshots in
artifacts/screens/transport_*.png)."""

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

from conftest import HANG_MS, SHARED, wait_idle, wait_settled, wait_until  # noqa: E402
from fairdesk.engines.conformal import SET_KEYS  # noqa: E402
from fairdesk.engines.transport import run_transport, weighted_stats  # noqa: E402
from fairdesk.gui.pages.transport_page import TransportPage  # noqa: E402
from fairdesk.reports.transport_tables import hist_edges  # noqa: E402
from fairdesk.io.loading import load_table  # noqa: E402
from fairdesk.metrics.rates import undefined_reason  # noqa: E402
from fairdesk.schema import ColumnMapping  # noqa: E402
from fairdesk.validation import prepare  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "resources" / "sample" / "sample_scores.csv"
SCREENS = ROOT / "artifacts" / "screens"


@pytest.fixture(scope="module")
def frame():
    return pd.read_csv(SAMPLE)


def sample_mapping(**kw):
    m = dict(score="score", label="outcome", groups=["race"], weight="weight", split="split",
             extras=["age", "alleged_victim"])
    m.update(kw)
    return ColumnMapping(**m)


@pytest.fixture(scope="module")
def data(frame):
    return prepare(frame, sample_mapping())


@pytest.fixture
def new_window(make_window):
    """A main window holding only this page (conftest's make_window: errors collected in
    ``window.errors``, jobs cancelled and waited for at the end)."""
    return lambda name="s.ini": make_window(page_classes=[TransportPage], settings_name=name)


@pytest.fixture
def window(new_window, data):
    w = new_window()
    w.state.set_table(load_table(SAMPLE))
    w.state.set_data(data)
    return w


@pytest.fixture
def page(window, qtbot):
    p = window.page("transport")
    wait_result(qtbot, p)
    return p


def wait_result(qtbot, page, timeout=HANG_MS):
    qtbot.waitUntil(lambda: page.result is not None and not page.busy, timeout=timeout)


def pct(x) -> str:
    """A rate as every surface writes it: 0.4457 -> '44.6 %'."""
    return f"{100 * x:.1f} %"


def keys(view) -> list[str]:
    return [c.key for c in view.table.columns]


# ------------------------------------------------------------------ results

def test_shows_the_engine_numbers(page, data, window):
    res = page.result
    ref = res.reference
    # the largest group starts as the reference
    assert res.reference_name == max(data.group_summary(), key=lambda s: s["weight"])["group"]
    expected = run_transport(data, page.current_settings())
    np.testing.assert_array_equal(res.transported, expected.transported)
    # rates: one row per group, before and after side by side, as in the workbook
    t = page.rate_table
    assert t.source.rowCount() == data.n_groups
    assert {"sel_before", "sel_after", "gap_after", "tpr_after", "cost_ratio_after"} <= set(keys(t))
    for g, name in enumerate(data.group_names):
        assert t.text_at(g, "group") == name + (" (reference)" if g == ref else "")
        assert t.text_at(g, "sel_before") == pct(expected.rates_before["selection_rate"][g])
        assert t.text_at(g, "sel_after") == pct(expected.rates_after["selection_rate"][g])
        assert t.text_at(g, "tpr_after") == pct(expected.rates_after["tpr"][g])
        assert t.value_at(g, "fpr_before") == expected.rates_before["fpr"][g]
        assert t.text_at(g, "cost_ratio_before") == f"{expected.rates_before['cost_ratio'][g]:.3f}"
    # after transport every group is flagged at about the reference group's rate
    sel = res.rates_after["selection_rate"]
    assert np.all(np.abs(sel - sel[ref]) <= res.gap_after + 1e-12)
    # prediction sets: two rows per group, shares as the engine's, per-cell tooltips
    c = res.conformal
    ct = page.conf_table
    assert ct.source.rowCount() == 2 * data.n_groups
    for g in range(data.n_groups):
        assert [ct.text_at(2 * g + j, "scores") for j in (0, 1)] == ["original", "transported"]
        for i, k in enumerate(SET_KEYS):
            assert ct.text_at(2 * g, f"s{i}") == pct(c.shares_original[g, i])
            assert ct.text_at(2 * g + 1, f"s{i}") == pct(c.shares_transported[g, i])
        v, lo, hi = c.coverage_by_group["transported"][g]
        assert ct.text_at(2 * g + 1, "cov") == pct(v) and ct.value_at(2 * g + 1, "low") == lo
    tip = ct.model().index(0, keys(ct).index("s0")).data(Qt.ToolTipRole)
    assert data.group_names[0] in tip and "original scores" in tip
    assert pct(c.coverage["value"]) in page.coverage_label.text()
    # the split column: train and test rows; the reference's training rows are split in half
    assert "Splits from column 'split'" in page.split_note.text()
    # one Berk table per group with the engine's counts
    assert len(page.confusion_widgets) == data.n_groups
    first = page.confusion_widgets[0]
    people = f",.{data.people_decimals}f"
    assert first.value_at(0, "flagged") == res.tables_before.fp[0]
    assert first.text_at(0, "flagged") == format(res.tables_before.fp[0], people)
    assert first.text_at(1, "not") == format(res.tables_before.fn[0], people)
    fpr = res.tables_before.fp[0] / (res.tables_before.fp[0] + res.tables_before.tn[0])
    assert first.text_at(0, "error") == pct(fpr)
    page.conf_scores.setCurrentIndex(1)
    assert page.confusion_widgets[0].value_at(0, "flagged") == res.tables_after.fp[0]
    page.conf_at.setCurrentIndex(1)
    assert page.confusion_widgets[0].value_at(0, "flagged") == res.tables_cost_after.fp[0]
    # the plots are drawn, their legends beside them (none inside a plot)
    assert len(page.before_panel.plot.listDataItems()) == 3
    assert len(page.map_panel.plot.listDataItems()) == data.n_groups + 1
    assert len(page.sel_panel.plot.listDataItems()) == 2 * data.n_groups - 1
    for panel in (page.before_panel, page.after_panel, page.sel_panel, page.map_panel):
        assert panel.plot.legend is None and panel.legend.count() > 0
    names = page.before_panel.legend.names()
    assert names[0].startswith("overlap") and names[1].startswith(res.reference_name)
    assert page.dist_group.currentText() in names[2]
    assert window.errors == []


def test_undefined_cells_carry_their_reason(page, qtbot, data, window):
    """A rate that is 0/0 reads 'undefined', greyed, with the engine's reason as tooltip."""
    t = page.rate_table
    assert "undefined" not in [t.text_at(g, "ppv_before") for g in range(data.n_groups)]
    page.threshold_edit.setText("100")  # above every score: no one is flagged, PPV is 0/0
    page._threshold_typed("100")
    wait_until(qtbot, lambda: page.result.threshold == 100 and not page.busy)
    column = keys(t).index("ppv_before")
    for g, name in enumerate(data.group_names):
        assert t.text_at(g, "ppv_before") == "undefined"
        tip = t.model().index(g, column).data(Qt.ToolTipRole)
        assert tip == f"Undefined: {undefined_reason('ppv', name)}"
    berk = page.confusion_widgets[0]
    assert berk.text_at(2, "flagged") == "undefined"  # FDR: no one flagged
    tip = berk.model().index(2, 2).data(Qt.ToolTipRole)
    assert tip.endswith(page.result.tables_before.undefined_reason("fdr", data.group_names[0]))
    assert window.errors == []


def test_reference_and_threshold(page, window, qtbot):
    old = page.result.reference_name
    other = next(i for i in range(page.ref_combo.count()) if page.ref_combo.itemText(i) != old)
    page.ref_combo.setCurrentIndex(other)
    qtbot.waitUntil(lambda: page.result.reference_name != old and not page.busy, timeout=HANG_MS)
    assert page.result.reference_name == page.ref_combo.itemText(other)
    # the threshold follows the application's threshold …
    window.state.set_thresholds([0.3])
    qtbot.waitUntil(lambda: page.result.threshold == 0.3 and not page.busy, timeout=HANG_MS)
    assert page.threshold_edit.text() == "0.3"
    # … until the analyst types one
    page.threshold_edit.clear()
    qtbot.keyClicks(page.threshold_edit, "0.65")
    qtbot.waitUntil(lambda: page.result.threshold == 0.65 and not page.busy, timeout=HANG_MS)
    window.state.set_thresholds([0.2])
    wait_settled(qtbot, window)  # nothing recomputes: the typed threshold stays
    assert page.threshold_edit.text() == "0.65" and page.result.threshold == 0.65
    # the cost-ratio threshold can be taken over
    page.table_tabs.setCurrentIndex(2)
    page.use_cost.click()
    target = page.result.cost_ratio.threshold
    qtbot.waitUntil(lambda: not page.busy and page.result.threshold == pytest.approx(target),
                    timeout=HANG_MS)
    assert window.errors == []


def test_group_specific_thresholds_use_their_median(page, window, qtbot):
    window.state.set_thresholds([0.3, 0.4, 0.5, 0.7], group_specific=True)
    qtbot.waitUntil(lambda: not page.busy and page.result.threshold == pytest.approx(0.45),
                    timeout=HANG_MS)
    assert "group-specific" in page.rate_note.text()


def test_bad_split_values_are_explained_inline(qtbot, new_window, frame):
    bad = frame.copy()
    bad.loc[[3, 10], "split"] = "fold3"
    w = new_window()
    w.state.set_data(prepare(bad, sample_mapping()))
    page = w.page("transport")
    qtbot.waitUntil(lambda: page.message.isVisible() and not page.busy, timeout=HANG_MS)
    text = page.message.text()
    assert "'split'" in text and "'fold3'" in text and "rows 5, 12" in text
    assert w.errors == []  # no dialog for an explained problem
    page.split_edits["test"].setText("test, fold3")
    page.split_edits["test"].editingFinished.emit()
    wait_result(qtbot, page)
    assert not page.message.isVisible()


def test_without_outcome(qtbot, new_window, frame):
    w = new_window()
    w.state.set_data(prepare(frame, sample_mapping(label=None), require_label=False))
    page = w.page("transport")
    wait_result(qtbot, page)
    # selection rates and largest gaps only
    assert keys(page.rate_table) == ["group", "rows", "sel_before", "sel_after", "sel_ref",
                                     "gap_before", "gap_after"]
    assert page.rate_table.source.rowCount() == w.state.data.n_groups
    assert page.conf_table.table is None and page.confusion_widgets == []
    assert "need the observed outcome" in page.coverage_label.text()
    assert "outcome" in page.cost_label.text()
    assert page.result.conformal is None and w.errors == []


def test_random_split_without_split_column(qtbot, new_window, frame):
    w = new_window()
    w.state.set_data(prepare(frame, sample_mapping(split=None)))
    page = w.page("transport")
    wait_result(qtbot, page)
    assert page.split_stack.currentIndex() == 1
    assert "seeded random split" in page.split_note.text()
    assert not page.prop_spins["test"].isEnabled()  # automatic proportions
    page.prop_auto.setChecked(False)
    page.prop_spins["train"].setValue(0)
    page.prop_spins["calibration"].setValue(60)
    page.prop_spins["test"].setValue(40)
    qtbot.waitUntil(lambda: not page.busy and page.result.settings.split_proportions
                    == (0.0, 60.0, 40.0), timeout=HANG_MS)
    n = page.result.conformal.n_split.sum(axis=1)
    assert page.result.conformal.n_split[:, 2] == pytest.approx(0.4 * n, abs=1)


# ------------------------------------------------------------------ features

def test_feature_transport_and_exports(page, window, qtbot, tmp_path, data):
    page.tabs.setCurrentIndex(1)
    tab = page.feature_tab
    assert tab.checked() == ["age", "alleged_victim"]
    tab.batch.setValue(400)
    tab.rounds.setValue(2)
    tab.run()
    qtbot.waitUntil(lambda: page.features is not None, timeout=HANG_MS)
    fres = page.features
    assert fres.features == ["age", "alleged_victim"]
    ref = fres.reference
    views = tab.views
    g = int(views.group.currentData())
    m = data.group == g
    mean_t, sd_t, corr_t = weighted_stats(fres.transported[m], data.weight[m])
    assert views.summary.source.rowCount() == len(fres.features)
    assert views.summary.text_at(0, "tran_mean") == f"{mean_t[0]:.3f}"
    assert views.summary.value_at(1, "tran_sd") == sd_t[1]
    assert views.corr_tables[2].text_at(0, "c1") == f"{corr_t[0, 1]:.2f}"
    assert views.corr_tables[2].value_at(1, "c0") == corr_t[1, 0]
    mean_o, _, _ = weighted_stats(fres.original[m], data.weight[m])
    assert views.summary.value_at(0, "orig_mean") == mean_o[0]
    # transported features are averages of matched reference rows: inside their range
    mr = data.group == ref
    assert np.all(fres.transported[m] >= fres.original[mr].min(axis=0) - 1e-9)
    assert np.all(fres.transported[m] <= fres.original[mr].max(axis=0) + 1e-9)
    assert len(views.panel.plot.listDataItems()) == 3
    assert views.panel.plot.legend is None
    assert views.panel.legend.names()[0] == f"{fres.reference_name} (reference)"
    # transported rows, to rescore with the agency's model
    out = tmp_path / "rows.csv"
    page.export_rows(str(out))
    qtbot.waitUntil(lambda: out.exists() and not window.worker.busy, timeout=HANG_MS)
    rows = pd.read_csv(out, encoding="utf-8-sig")
    np.testing.assert_allclose(rows["age (transported)"], fres.transported[:, 0])
    np.testing.assert_allclose(rows["Transported score"], page.result.transported)
    # the workbook: score and feature sheets, settings and seeds
    xlsx = tmp_path / "tables.xlsx"
    window.export_workbook(str(xlsx))
    qtbot.waitUntil(lambda: xlsx.exists() and not window.worker.busy, timeout=HANG_MS)
    wb = openpyxl.load_workbook(xlsx)
    for sheet in ("Transport rates", "Conformal sets", "Confusion tables", "Feature transport",
                  "Feature correlations"):
        assert sheet in wb.sheetnames
    about = [r for r in wb["About this workbook"].iter_rows(values_only=True) if r and r[0]]
    assert any(r[0] == "feature transport" for r in about)
    assert window.errors == []


def test_settings_round_trip(page, qtbot, new_window, data):
    page.ties_combo.setCurrentIndex(1)
    page.coverage_spin.setValue(80.0)
    page.seed_spin.setValue(17)
    page.prob_combo.setCurrentIndex(page.prob_combo.findData("isotonic"))
    page.cost_spin.setValue(4.0)
    page.feature_tab.standardize.setChecked(True)
    page.feature_tab.set_checked(["age"])
    page.threshold_edit.setText("0.4")
    page._threshold_typed("0.4")
    wait_result(qtbot, page)
    qtbot.waitUntil(lambda: page.result.settings.seed == 17, timeout=HANG_MS)
    saved = page.settings()
    assert saved["alpha"] == pytest.approx(0.2) and saved["ties"] == "random"
    w2 = new_window("s2.ini")
    w2.state.set_data(data)
    p2 = w2.page("transport")
    wait_result(qtbot, p2)
    p2.apply_settings(saved)
    wait_result(qtbot, p2)
    qtbot.waitUntil(lambda: p2.result.settings.seed == 17 and not p2.busy, timeout=HANG_MS)
    assert p2.settings() == saved
    assert p2.result.settings.to_dict() == page.result.settings.to_dict()
    exp = p2.export_settings()
    assert exp["Seed"] == 17 and exp["Ties"] == "random"


def test_save_plots(page, tmp_path):
    for panel in (page.before_panel, page.after_panel, page.map_panel, page.sel_panel):
        out = panel.save(tmp_path / f"{panel.name}.png")
        assert out.exists() and out.stat().st_size > 1000
    assert page.map_panel.save(tmp_path / "map.svg").stat().st_size > 1000


def test_histogram_bins():
    np.testing.assert_allclose(hist_edges(np.array([1, 2, 3, 5.0])), [0.5, 1.5, 2.5, 4, 6])
    edges = hist_edges(np.arange(18, 97, dtype=float))  # ages: whole-number bins
    assert np.all(np.diff(edges) == 2) and edges[0] == 17.5
    assert len(hist_edges(np.random.default_rng(0).random(1000))) == 41


def test_cancel_a_long_run(qtbot, new_window):
    rng = np.random.default_rng(0)
    n = 1_000_000
    g = rng.integers(0, 4, n)
    frame = pd.DataFrame({"score": rng.beta(2 + g, 5), "outcome": rng.integers(0, 2, n),
                          "race": np.array(["A", "B", "C", "D"])[g]})
    data = prepare(frame, ColumnMapping(score="score", label="outcome", groups=["race"]))
    w = new_window()
    page = w.page("transport")
    w.state.set_data(data)
    assert page._job is not None
    w.worker.cancel_all()
    qtbot.waitUntil(lambda: not w.worker.busy, timeout=HANG_MS)
    if page.result is None:  # cancelled before it finished (the usual case)
        assert "Cancelled" in page.status.text()
    page.run()
    wait_result(qtbot, page, timeout=HANG_MS)
    assert page.result.gap_after.max() < 1e-3
    assert w.errors == []


# ------------------------------------------------------------------ screenshots

def shown(qtbot, *tabs):
    """Wait until each tab widget's current tab is on screen, then let the layouts settle
    (the LayoutRequest events they post, and those these post) before a grab."""
    from PySide6.QtWidgets import QApplication

    wait_until(qtbot, lambda: all(t.currentWidget().isVisible() for t in tabs))
    for _ in range(3):
        QApplication.sendPostedEvents()
        QApplication.processEvents()


def test_screenshots(qtbot, new_window, frame):
    SCREENS.mkdir(parents=True, exist_ok=True)
    w = new_window()
    w.state.set_data(prepare(frame, sample_mapping()))
    page = w.page("transport")
    wait_result(qtbot, page)
    for i, (tname, pname) in enumerate((("rates", "distributions"), ("sets", "selection"),
                                        ("confusion", "maps"))):
        page.table_tabs.setCurrentIndex(i)
        page.plot_tabs.setCurrentIndex(i)
        shown(qtbot, page.table_tabs, page.plot_tabs)
        img = w.grab()
        assert (img.width(), img.height()) == (1280, 800)
        assert img.save(str(SCREENS / f"transport_{i + 1}_{tname}_{pname}.png"))
    page.tabs.setCurrentIndex(1)
    page.feature_tab.batch.setValue(500)
    page.feature_tab.run()
    qtbot.waitUntil(lambda: page.features is not None, timeout=HANG_MS)
    for i, name in enumerate(("marginals", "correlations")):
        page.feature_tab.views.setCurrentIndex(i)
        shown(qtbot, page.feature_tab.views)
        assert w.grab().save(str(SCREENS / f"transport_{4 + i}_features_{name}.png"))
    # COMPAS: six groups, decile scores, the calibration path
    compas = pd.read_csv(SHARED / "compas_two_year.csv")
    w.state.set_data(prepare(compas, ColumnMapping(score="decile_score", label="two_year_recid",
                                                   groups=["race"], extras=["age", "priors_count"])))
    wait_result(qtbot, page)
    page.tabs.setCurrentIndex(0)
    i = page.ref_combo.findText("Caucasian")
    page.ref_combo.setCurrentIndex(i)
    qtbot.waitUntil(lambda: page.result.reference_name == "Caucasian" and not page.busy,
                    timeout=HANG_MS)
    for i, (tname, pname) in enumerate((("sets", "maps"), ("confusion", "distributions"))):
        page.table_tabs.setCurrentIndex(1 + i)
        page.plot_tabs.setCurrentIndex((2, 0)[i])
        shown(qtbot, page.table_tabs, page.plot_tabs)
        assert w.grab().save(str(SCREENS / f"transport_compas_{i + 1}_{tname}_{pname}.png"))
    assert w.errors == []


def test_add_as_scenario_flags_transported_scores(qtbot, new_window, frame):
    from fairdesk.scenarios import decisions

    data = prepare(frame, ColumnMapping(score="score", label="outcome", groups=["race"]))
    w = new_window()
    w.state.set_data(data)
    page = w.page("transport")
    wait_result(qtbot, page)
    wait_idle(qtbot, w)
    assert page.add_as_scenario()
    sc = w.state.scenarios[-1]
    expected = (page.result.transported >= page.result.threshold).astype(float)
    np.testing.assert_array_equal(decisions(sc, data).probability, expected)
