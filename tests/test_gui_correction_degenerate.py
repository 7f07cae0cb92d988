"""The Error-rate balance page and degenerate corrections (issue 14 item 4): the suggestion is
never degenerate, degenerate solutions are marked in the summary, the note and both plots,
and corrected thresholds on the lowest or highest decile are named. Offscreen; waits on the
worker's signals."""
import numpy as np
import pandas as pd
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")
pytest.importorskip("pyqtgraph")

from PySide6.QtCore import Qt  # noqa: E402

from conftest import HANG_MS, ROOT, SHARED, wait_settled  # noqa: E402
from fairdesk.engines.threshold_correction import CorrectionSettings, run_correction  # noqa: E402
from fairdesk.gui.pages.correction_page import CorrectionPage  # noqa: E402
from fairdesk.schema import ColumnMapping  # noqa: E402
from fairdesk.validation import prepare  # noqa: E402

COMPAS = SHARED / "compas_two_year.csv"
SCREENS = ROOT / "artifacts" / "screens"
pytestmark = pytest.mark.skipif(not COMPAS.exists(), reason="shared data not present")


def compas_by_race():
    return prepare(pd.read_csv(COMPAS), ColumnMapping(score="decile_score", label="two_year_recid",
                                                      groups=["race"], id="id"))


def summary_cell(page, label, col):
    """(text, tooltip) of the summary's cell for ``label`` and threshold ``col``."""
    t = page.summary_table
    row = next(r for r in range(t.source.rowCount()) if t.text_at(r, "item") == label)
    c = t.source.column_index(f"t{col}")
    return t.text_at(row, c), t.source.index(row, c).data(Qt.ToolTipRole)


def plot_names(panel):
    return panel.legend.names()  # the side legend beside the plot


@pytest.fixture
def page(make_window):
    window = make_window(page_classes=[CorrectionPage], settings_name="degenerate.ini", data=compas_by_race())
    p = window.page("correction")
    p.workers = 1
    window.show_page("correction")
    return p


def test_run_on_compas_by_race_suggests_no_degenerate_solution(page, qtbot):
    """COMPAS by race, Oregon low, Run (small settings): the suggested thresholds flag some but
    not all of every group, and the page says nothing is degenerate at the chosen w."""
    page.w_start.setValue(0.0)
    page.w_stop.setValue(1.0)
    page.w_step.setValue(0.25)
    page.subsamples.setValue(4)
    page.audit_subsamples.setValue(4)
    with qtbot.waitSignal(page.window().worker.finished, timeout=HANG_MS):
        page.run()
    wait_settled(qtbot, page.window())
    res = page.result
    assert res is not None
    data = page._run_data
    for b in res.best:
        post = res.theta.mean(axis=0)[b["w_index"], b["threshold"]]
        for g in range(data.n_groups):
            m = data.group == g
            share = data.weight[m & (data.oriented >= post[g])].sum() / data.weight[m].sum()
            assert 0 < share < 1
        assert summary_cell(page, "Degenerate?", b["threshold"])[0] == "no"
        assert summary_cell(page, "Suggested w", b["threshold"])[0] != "none"


def test_degenerate_solutions_marked_in_the_window(page, qtbot):
    """The unconstrained optimizer (allow_degenerate) flags everyone in most groups at Oregon
    low: the page names it, keeps those w's in both plots as crosses, and the thresholds on
    the lowest decile say so."""
    data = page.window().state.data
    res = run_correction(data, CorrectionSettings(weights=(0.0, 0.25, 0.5, 0.75, 1.0), subsamples=3,
                                                  audit_subsamples=3, workers=1, allow_degenerate=True))
    bad_low = [wi for wi in range(5) if res.is_degenerate(wi, 0)]
    assert bad_low
    page.set_result(res, data)
    page.choose_w(float(res.weights[bad_low[0]]), threshold=0)
    wait_settled(qtbot, page.window())
    text, tip = summary_cell(page, "Degenerate?", 0)
    assert text == "yes" and "everyone flagged" in tip
    note = page.summary_note.text()
    assert "Degenerate at the chosen w" in note and "degenerate solution" in note
    assert "everyone flagged in" in note
    assert "lowest (1) or highest (10) score</b> (integer scores)" in note
    post = res.post_thresholds()[bad_low[0], 0]
    for g, name in enumerate(res.group_names):
        text = summary_cell(page, f"After: {name}", 0)[0]
        assert ("(min)" in text) == (post[g] == 1.0)
    if not res.best[0]["usable"]:
        assert summary_cell(page, "Suggested w", 0)[0] == "none"
    if not res.best[0]["usable"]:
        assert "no suggestion" in page.w_value.text()
    assert "degenerate (never suggested)" in plot_names(page.plots.fair_panel)
    assert "degenerate (never suggested)" in plot_names(page.plots.trade_panel)
    # the crosses sit exactly at the degenerate w's of each threshold
    crosses = [item for item in page.plots.fair_panel.plot.listDataItems()
               if item.opts.get("symbol") == "x" and not item.name()]
    xs = sorted(float(x) for item in crosses for x in item.getData()[0])
    expected = sorted(float(res.weights[wi]) for t in range(res.k) for wi in range(5)
                      if res.is_degenerate(wi, t) and np.isfinite(res.assessment["fairness_post_mean"][wi, t]))
    assert xs == expected
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.plot_tabs.setCurrentIndex(1)
    wait_settled(qtbot, page.window())
    assert page.window().grab().save(str(SCREENS / "correction_degenerate.png"))
