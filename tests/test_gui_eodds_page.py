"""The ROC & equalized odds page offscreen: results through the worker equal the engine's,
settings recompute (stale results ignored), family switch, exports (workbook, row
probabilities with and without drawn decisions and their seed), plots saved, messages, and
1280×800 screenshots on FICO and COMPAS."""

import math

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")
pytest.importorskip("pyqtgraph")

from PySide6.QtCore import Qt  # noqa: E402

from conftest import HANG_MS, ROOT, SHARED, export_and_read, grab_to  # noqa: E402
from fairdesk.engines.equalized_odds import EOddsSettings, run_equalized_odds  # noqa: E402
from fairdesk.gui.pages.eodds_page import EqualizedOddsPage  # noqa: E402
from fairdesk.io.loading import load_table  # noqa: E402
from fairdesk.present.formats import format_rate, format_score  # noqa: E402
from fairdesk.reports.eodds_report import curve_decimals  # noqa: E402
from fairdesk.schema import ColumnMapping  # noqa: E402
from fairdesk.validation import prepare  # noqa: E402

SAMPLE = ROOT / "resources" / "sample" / "sample_scores.csv"
COMPAS = SHARED / "compas_two_year.csv"
FICO = SHARED / "fico_weighted.csv"
SCREENS = ROOT / "artifacts" / "screens"
MAPPING = dict(score="score", label="outcome", groups=["race"], weight="weight")
FICO_MAPPING = dict(score="score", label="repaid", groups=["group"], weight="weight", positive_label=1)


@pytest.fixture
def window(make_window):
    return make_window(page_classes=[EqualizedOddsPage], settings_name="s.ini")


def sample_data():
    return prepare(pd.read_csv(SAMPLE), ColumnMapping(**MAPPING))


def wait_result(qtbot, page, timeout=HANG_MS):
    qtbot.waitUntil(lambda: page.result is not None and not page.busy(), timeout=timeout)
    return page.result


@pytest.fixture
def page(window, qtbot):
    window.state.set_data(sample_data())
    p = window.page("eodds")
    wait_result(qtbot, p)
    return p


def test_tables_equal_the_engine(page, window):
    data = window.state.data
    res = run_equalized_odds(data, page.current_settings(), scores=window.state.scores)
    assert page.result.point == pytest.approx(res.point)
    fam = res.family(page.family)
    fpr, tpr, acc = fam.rates(res.rocs)
    t = page.group_table
    assert t.source.rowCount() == data.n_groups
    for g, name in enumerate(data.group_names):
        assert t.text_at(g, "group") == name
        assert t.model().index(g, 0).data(Qt.DecorationRole) is not None  # the group's colour
        assert t.value_at(g, "t0") == res.user(fam.t0[g])
        ends = curve_decimals(data.score_decimals)  # a curve's ends lie between the scores
        assert t.text_at(g, "t0") == format_score(res.user(fam.t0[g]), ends)
        assert t.text_at(g, "p") == f"{fam.p[g]:.4f}"
        assert t.value_at(g, "fpr") == pytest.approx(fpr[g])
        assert t.text_at(g, "fpr") == format_rate(fpr[g], 2) == f"{100 * fpr[g]:.2f} %"
        assert t.text_at(g, "tpr") == format_rate(tpr[g], 2)
        assert t.text_at(g, "accuracy") == f"{100 * acc[g]:.2f} %"
    assert "Common point" in page.summary.text()
    assert format_rate(res.point[0], 2) in page.summary.text()
    # the comparison table lists the target, every family and the group-blind threshold
    s = page.summary_table
    labels = [s.text_at(r, "what") for r in range(s.source.rowCount())]
    assert labels[0].startswith("Target point") and labels[-1].startswith("Best group-blind")
    assert len(labels) == 7
    shown = s.model().index(labels.index("Piecewise cubic"), 0).data(Qt.FontRole)
    assert shown is not None and shown.bold()  # the family shown
    # legends beside the plots, never over the data
    assert page.roc_panel.legend.names()[:data.n_groups] == list(data.group_names)
    assert page.roc_panel.legend.names()[-1] == "★ Chosen point"
    assert page.curve_panel.legend.names() == list(data.group_names)
    assert page.roc_panel.plot.legend is None and page.curve_panel.plot.legend is None


def test_settings_recompute_and_family_is_a_view(page, window, qtbot):
    first = page.result
    page.family_combo.setCurrentIndex(page.family_combo.findData("fixed"))
    assert page.result is first  # only the view changed
    t = page.group_table
    assert t.text_at(0, "lipschitz") == "∞" and t.value_at(0, "lipschitz") == math.inf
    assert "infinite" in t.model().index(0, t.source.column_index("lipschitz")).data(Qt.ToolTipRole)
    assert "Fixed randomisation" in page.group_title.text()
    # two quick changes: only the last one's result is kept
    page.objective_combo.setCurrentIndex(page.objective_combo.findData("cost"))
    page.cost_fp.setValue(82.0)
    page.cost_fn.setValue(18.0)
    qtbot.waitUntil(lambda: page.result is not first and not page.busy()
                    and page.result.settings.cost_fp == 82.0 and page.result.settings.cost_fn == 18.0,
                    timeout=HANG_MS)
    assert page.result.settings.objective == "cost"
    assert page.break_even.text() == "break-even 82 %"  # one rate format
    ref = run_equalized_odds(window.state.data, EOddsSettings(objective="cost", cost_fp=82, cost_fn=18),
                             curves=False)
    assert page.result.point == pytest.approx(ref.point)
    # equal opportunity: each group its own target, shown as such
    page.constraint_combo.setCurrentIndex(page.constraint_combo.findData("equal_opportunity"))
    qtbot.waitUntil(lambda: not page.busy() and page.result.settings.constraint == "equal_opportunity",
                    timeout=HANG_MS)
    assert "Equal opportunity" in page.summary.text()
    assert np.ptp(page.result.targets[:, 1]) == pytest.approx(0, abs=1e-12)
    assert not window.errors


def test_settings_round_trip(page, window, qtbot, make_window):
    page.objective_combo.setCurrentIndex(page.objective_combo.findData("distance"))
    page.tolerance.setValue(0.02)
    page.smooth_box.setChecked(True)
    page.smooth_tol.setValue(0.004)
    page.family_combo.setCurrentIndex(page.family_combo.findData("quartic"))
    page.draw_box.setChecked(True)
    page.seed_spin.setValue(99)
    page.plot_tabs.setCurrentIndex(1)
    saved = page.settings()
    other = make_window(page_classes=[EqualizedOddsPage], settings_name="o.ini",
                        data=window.state.data)
    p2 = other.page("eodds")
    p2.apply_settings(saved)
    assert p2.settings() == saved
    wait_result(qtbot, p2)
    assert p2.result.settings.objective == "distance" and p2.result.settings.tolerance == 0.02


def test_export_workbook_and_row_probabilities(window, qtbot, tmp_path):
    window.state.set_table(load_table(str(SAMPLE)), ColumnMapping(**MAPPING))  # as File ▸ Open does
    window.state.set_data(sample_data())
    page = window.page("eodds")
    wait_result(qtbot, page)
    tables = page.export_tables()
    assert [t.sheet for t in tables][:3] == ["EO groups", "EO curves", "EO summary"]
    out = tmp_path / "tables.xlsx"
    wb, about = export_and_read(qtbot, window, out)
    assert "EO regions" in wb.sheetnames and "EO probability curves" in wb.sheetnames
    # the page's settings, one row per setting (issue 15)
    assert any(str(v).startswith("ROC & equalized odds: ") for v in about)
    # probabilities only
    rows = tmp_path / "rows.csv"
    with qtbot.waitSignal(window.worker.finished, timeout=HANG_MS):
        page.export_rows(str(rows))
    frame = pd.read_csv(rows, encoding="utf-8-sig")
    prob_col = [c for c in frame.columns if c.startswith("Probability")]
    assert len(prob_col) == 1 and not any(c.startswith("Decision") for c in frame.columns)
    assert frame[prob_col[0]].between(0, 1).all()
    # with drawn decisions: the seed is in the column title and in the state (About sheet)
    page.draw_box.setChecked(True)
    page.seed_spin.setValue(4242)
    with qtbot.waitSignal(window.worker.finished, timeout=HANG_MS):
        page.export_rows(str(tmp_path / "rows2.csv"))
    frame2 = pd.read_csv(tmp_path / "rows2.csv", encoding="utf-8-sig")
    assert "Decision drawn (seed 4242)" in frame2.columns
    assert window.state.seeds["eodds decisions"] == 4242
    p = frame2[prob_col[0]].to_numpy()
    d = frame2["Decision drawn (seed 4242)"].to_numpy()
    assert np.all(d[p == 0] == 0) and np.all(d[p == 1] == 1)
    assert not window.errors


def test_save_plots(page, tmp_path):
    for panel in (page.roc_panel, page.curve_panel):
        for ext in ("png", "svg"):
            path = panel.save(tmp_path / f"{panel.name}.{ext}")
            assert path.exists() and path.stat().st_size > 1000


def test_messages_without_label_and_for_a_group_without_positives(window, qtbot):
    data = sample_data()
    data.label = None
    window.state.set_data(data)
    page = window.page("eodds")
    assert page.stack.currentIndex() == 0 and "outcome" in page.empty.text()
    frame = pd.DataFrame({"s": np.linspace(0, 1, 80), "y": [0, 1] * 30 + [0] * 20,
                          "g": ["a"] * 60 + ["b"] * 20})
    window.state.set_data(prepare(frame, ColumnMapping(score="s", label="y", groups=["g"])))
    qtbot.waitUntil(lambda: page.warn.isVisible() and not page.busy(), timeout=HANG_MS)
    assert "Group 'b' has no one with the positive outcome" in page.warn.text()
    assert page.result is None


@pytest.mark.skipif(not (FICO.exists() and COMPAS.exists()), reason="shared data missing")
def test_screenshots(window, qtbot):
    SCREENS.mkdir(parents=True, exist_ok=True)
    page = window.page("eodds")
    fico = prepare(pd.read_csv(FICO), ColumnMapping(**FICO_MAPPING))
    window.state.set_data(fico)
    page.objective_combo.setCurrentIndex(page.objective_combo.findData("cost"))
    page.cost_fp.setValue(82.0)
    page.cost_fn.setValue(18.0)
    qtbot.waitUntil(lambda: page.result is not None and not page.busy()
                    and page.result.settings.cost_fn == 18.0, timeout=HANG_MS)
    shots = [("eodds_1_fico_regions", 0, "cubic"), ("eodds_2_fico_curves", 1, "cubic"),
             ("eodds_3_fico_fixed_steps", 1, "fixed")]
    for name, tab, fam in shots:
        page.plot_tabs.setCurrentIndex(tab)
        page.family_combo.setCurrentIndex(page.family_combo.findData(fam))
        img = grab_to(qtbot, window, f"{name}.png")
        assert (img.width(), img.height()) == (1280, 800)
    c = pd.read_csv(COMPAS)
    c = c[c.race.isin(["African-American", "Caucasian", "Hispanic", "Other"])]
    window.state.set_data(prepare(c, ColumnMapping(score="decile_score", label="two_year_recid",
                                                   groups=["race", "sex"])))
    page.objective_combo.setCurrentIndex(page.objective_combo.findData("accuracy"))
    page.family_combo.setCurrentIndex(page.family_combo.findData("cubic"))
    qtbot.waitUntil(lambda: page.result is not None and not page.busy()
                    and page.result.n_groups == 8 and page.result.settings.objective == "accuracy",
                    timeout=HANG_MS)
    for name, tab in (("eodds_4_compas_regions", 0), ("eodds_5_compas_curves", 1)):
        page.plot_tabs.setCurrentIndex(tab)
        grab_to(qtbot, window, f"{name}.png")
    page.constraint_combo.setCurrentIndex(page.constraint_combo.findData("equal_opportunity"))
    page.tolerance.setValue(0.02)
    qtbot.waitUntil(lambda: not page.busy() and page.result.settings.tolerance == 0.02
                    and page.result.settings.constraint == "equal_opportunity", timeout=HANG_MS)
    page.plot_tabs.setCurrentIndex(0)
    grab_to(qtbot, window, "eodds_6_compas_equal_opportunity.png")
    assert not window.errors
    assert math.isfinite(page.result.point[0])


def test_add_as_scenario_equals_row_probabilities(qtbot, make_window):
    from fairdesk.engines.equalized_odds import row_probabilities
    from fairdesk.scenarios import decisions

    data = prepare(pd.read_csv(SAMPLE), ColumnMapping(score="score", label="outcome",
                                                      groups=["race"]))
    w = make_window(page_classes=[EqualizedOddsPage], data=data)
    page = w.pages[0]
    qtbot.waitUntil(lambda: page.result is not None and page.result.family(page.family_combo.currentData())
                    is not None and not w.worker.busy, timeout=HANG_MS)
    assert page.add_as_scenario()
    sc = w.state.scenarios[-1]
    expected = row_probabilities(data, page.result, page.family_combo.currentData())
    np.testing.assert_allclose(decisions(sc, data).probability, expected, atol=1e-9)
