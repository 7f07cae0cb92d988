"""The ROC & equalized odds page offscreen: results through the worker equal the engine's,
settings recompute (stale results ignored), family switch, exports (workbook, row
probabilities with and without drawn decisions and their seed), plots saved, messages, and
1280×800 screenshots on FICO and COMPAS."""

import math

import numpy as np
import openpyxl
import pandas as pd
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")
pytest.importorskip("pyqtgraph")

from PySide6.QtCore import QSettings  # noqa: E402

from conftest import HANG_MS, ROOT, SHARED  # noqa: E402
from fairdesk.engines.equalized_odds import EOddsSettings, run_equalized_odds  # noqa: E402
from fairdesk.gui.main_window import MainWindow  # noqa: E402
from fairdesk.gui.pages.eodds_page import EqualizedOddsPage, fmt_num  # noqa: E402
from fairdesk.io.loading import load_table  # noqa: E402
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
    assert t.rowCount() == data.n_groups
    for g, name in enumerate(data.group_names):
        assert t.item(g, 0).text() == name
        assert t.item(g, 1).text() == fmt_num(res.user(fam.t0[g]))
        assert t.item(g, 3).text() == f"{fam.p[g]:.4f}"
        assert t.item(g, 5).text() == f"{fpr[g]:.4f} / {tpr[g]:.4f}"
        assert t.item(g, 6).text() == f"{100 * acc[g]:.2f}%"
    assert "Common point" in page.summary.text() and f"{res.point[0]:.4f}" in page.summary.text()
    # the comparison table lists the target, every family and the group-blind threshold
    labels = [page.summary_table.item(r, 0).text() for r in range(page.summary_table.rowCount())]
    assert labels[0].startswith("Target point") and labels[-1].startswith("Best group-blind")
    assert len(labels) == 7


def test_settings_recompute_and_family_is_a_view(page, window, qtbot):
    first = page.result
    page.family_combo.setCurrentIndex(page.family_combo.findData("fixed"))
    assert page.result is first  # only the view changed
    assert page.group_table.item(0, 4).text() == "∞"
    assert "Fixed randomisation" in page.group_title.text()
    # two quick changes: only the last one's result is kept
    page.objective_combo.setCurrentIndex(page.objective_combo.findData("cost"))
    page.cost_fp.setValue(82.0)
    page.cost_fn.setValue(18.0)
    qtbot.waitUntil(lambda: page.result is not first and not page.busy()
                    and page.result.settings.cost_fp == 82.0 and page.result.settings.cost_fn == 18.0,
                    timeout=HANG_MS)
    assert page.result.settings.objective == "cost"
    assert page.break_even.text() == "break-even 82%"
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


def test_settings_round_trip(page, window, qtbot, tmp_path):
    page.objective_combo.setCurrentIndex(page.objective_combo.findData("distance"))
    page.tolerance.setValue(0.02)
    page.smooth_box.setChecked(True)
    page.smooth_tol.setValue(0.004)
    page.family_combo.setCurrentIndex(page.family_combo.findData("quartic"))
    page.draw_box.setChecked(True)
    page.seed_spin.setValue(99)
    page.plot_tabs.setCurrentIndex(1)
    saved = page.settings()
    other = MainWindow(page_classes=[EqualizedOddsPage],
                       settings=QSettings(str(tmp_path / "o.ini"), QSettings.IniFormat))
    qtbot.addWidget(other)
    try:
        other.state.set_data(window.state.data)
        p2 = other.page("eodds")
        p2.apply_settings(saved)
        assert p2.settings() == saved
        wait_result(qtbot, p2)
        assert p2.result.settings.objective == "distance" and p2.result.settings.tolerance == 0.02
    finally:
        other.worker.cancel_all()
        other.worker.wait(HANG_MS)
        other.close()


def test_export_workbook_and_row_probabilities(window, qtbot, tmp_path):
    window.state.set_table(load_table(str(SAMPLE)), ColumnMapping(**MAPPING))  # as File ▸ Open does
    window.state.set_data(sample_data())
    page = window.page("eodds")
    wait_result(qtbot, page)
    tables = page.export_tables()
    assert [t.sheet for t in tables][:3] == ["EO groups", "EO curves", "EO summary"]
    out = tmp_path / "tables.xlsx"
    with qtbot.waitSignal(window.worker.finished, timeout=HANG_MS):
        window.export_workbook(str(out))
    wb = openpyxl.load_workbook(out)
    assert "EO regions" in wb.sheetnames and "EO probability curves" in wb.sheetnames
    about = [c.value for row in wb["About this workbook"].iter_rows() for c in row]
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
        qtbot.wait(200)
        img = window.grab()
        assert (img.width(), img.height()) == (1280, 800)
        assert img.save(str(SCREENS / f"{name}.png"))
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
        qtbot.wait(200)
        assert window.grab().save(str(SCREENS / f"{name}.png"))
    page.constraint_combo.setCurrentIndex(page.constraint_combo.findData("equal_opportunity"))
    page.tolerance.setValue(0.02)
    qtbot.waitUntil(lambda: not page.busy() and page.result.settings.tolerance == 0.02
                    and page.result.settings.constraint == "equal_opportunity", timeout=HANG_MS)
    page.plot_tabs.setCurrentIndex(0)
    qtbot.wait(200)
    assert window.grab().save(str(SCREENS / "eodds_6_compas_equal_opportunity.png"))
    assert not window.errors
    assert math.isfinite(page.result.point[0])


def test_add_as_scenario_equals_row_probabilities(qtbot, tmp_path):
    import numpy as np
    import pandas as pd
    from PySide6.QtCore import QSettings

    from conftest import ROOT
    from fairdesk.engines.equalized_odds import row_probabilities
    from fairdesk.gui.main_window import MainWindow
    from fairdesk.gui.pages.eodds_page import EqualizedOddsPage
    from fairdesk.scenarios import decisions
    from fairdesk.schema import ColumnMapping
    from fairdesk.validation import prepare

    data = prepare(pd.read_csv(ROOT / "resources" / "sample" / "sample_scores.csv"),
                   ColumnMapping(score="score", label="outcome", groups=["race"]))
    w = MainWindow(page_classes=[EqualizedOddsPage], settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(w)
    w.show_error = lambda *a: None
    w.show()
    qtbot.waitExposed(w)
    w.state.set_data(data)
    page = w.pages[0]
    qtbot.waitUntil(lambda: page.result is not None and page.result.family(page.family_combo.currentData())
                    is not None and not w.worker.busy, timeout=HANG_MS)
    assert page.add_as_scenario()
    sc = w.state.scenarios[-1]
    expected = row_probabilities(data, page.result, page.family_combo.currentData())
    np.testing.assert_allclose(decisions(sc, data).probability, expected, atol=1e-9)
