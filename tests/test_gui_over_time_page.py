"""The Over time page offscreen (issue 20): a file with periods W1…W6, two groups, a score v1
and a version v2 whose scores drift up for group B, opened as an analyst does (roles mapped on
the Data page). The page computes only when shown; its lines table equals the engine's; the
plot has one line per group; a rule chosen on W1 becomes a Decision-table scenario whose FPRs
are equal there; the workbook export has the Over time sheet; data without a period says what
to map."""

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")
pytest.importorskip("pyqtgraph")

from conftest import HANG_MS, export_and_read, wait_settled, wait_until  # noqa: E402
from fairdesk.engines.over_time import over_time  # noqa: E402
from test_over_time import drift_frame  # noqa: E402  (the same synthetic drift)
from fairdesk.present.formats import format_rate  # noqa: E402


@pytest.fixture(scope="module")
def drift_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("over_time") / "drift.csv"
    drift_frame(n=12000).round(4).to_csv(path, index=False)
    return path


def open_file(qtbot, w, path):
    """Open ``path`` as File ▸ Open does; its columns' names propose no complete mapping, so
    wait for the table to be read (not for validated data)."""
    w.open_path(str(path))
    wait_until(qtbot, lambda: w.state.table is not None)
    wait_settled(qtbot, w)


def map_roles(qtbot, w, roles):
    page = w.page("data")
    for column, role in roles:
        page.set_role(column, role)
    with qtbot.waitSignal(w.dataReady, timeout=HANG_MS):
        page.apply()
    wait_settled(qtbot, w)


def pages():
    """The Data page (to map the roles), this page and the Decision page (its scenarios)."""
    from fairdesk.gui.pages.data_page import DataPage
    from fairdesk.gui.pages.decision_page import DecisionPage
    from fairdesk.gui.pages.over_time_page import OverTimePage

    return [DataPage, OverTimePage, DecisionPage]


ROLES = (("v1", "score"), ("y", "label"), ("grp", "group"), ("wave", "period"),
         ("v2", "version"))


@pytest.fixture
def window(make_window, qtbot, drift_csv):
    w = make_window(page_classes=pages())
    started = []
    w.worker.started.connect(started.append)
    w.started_jobs = started
    open_file(qtbot, w, drift_csv)
    map_roles(qtbot, w, ROLES)
    m = w.state.mapping
    assert (m.score, m.label, m.groups, m.period, m.versions) == ("v1", "y", ["grp"], "wave",
                                                                  ["v2"])
    assert w.state.data.period_names == [f"W{i}" for i in range(1, 7)]
    return w


def show_and_wait(qtbot, w):
    page = w.page("over_time")
    w.show_page("over_time")
    wait_until(qtbot, lambda: page.result is not None and not page.busy())
    wait_settled(qtbot, w)
    return page


def test_computes_only_when_shown_and_lines_equal_the_engine(window, qtbot):
    w = window
    page = w.page("over_time")
    assert page.result is None and "Rates over time" not in w.started_jobs
    page = show_and_wait(qtbot, w)
    assert w.started_jobs.count("Rates over time") == 1
    data = w.state.data
    assert page.thresholds()["v1"] == pytest.approx(float(np.ravel(w.state.thresholds)[0]))
    ref = over_time(data, page.thresholds())
    assert [s.name for s in page.result.series] == ["v1", "v2"]
    # the lines table of the shown series (v1) has the engine's numbers
    view = page.lines_view
    s = ref.find("v1")
    assert view.source.rowCount() == 6
    for p, period in enumerate(data.period_names):
        assert view.text_at(p, "period") == period
        for g in range(data.n_groups):
            for r in ("selection_rate", "tpr", "fpr", "fnr", "ppv"):
                assert view.value_at(p, f"{r}_{g}") == pytest.approx(s.rates[r][p, g], abs=1e-12)
                assert view.text_at(p, f"{r}_{g}") == format_rate(s.rates[r][p, g])
            assert view.value_at(p, f"auc_{g}") == pytest.approx(s.auc[p, g], abs=1e-12)
    # the plot: one line per group (plus nothing else drawn as a line), the groups in the legend
    lines = [i for i in page.panel.plot.listDataItems() if i.opts.get("symbol") == "o"]
    assert len(lines) == data.n_groups
    assert page.panel.legend.names()[:2] == ["A", "B"]
    assert page.panel.plot.legend is None
    # showing v2's FPR with the bands: the drift of B is flagged and ringed
    assert page.show_series("score", "v2")
    page.rate_combo.setCurrentIndex(page.rate_combo.findData("fpr"))
    page.bands_box.setChecked(True)
    assert page.lines_view.table.title.startswith("v2")
    flags = page.flagged_shown()
    assert flags and {f.group for f in flags} == {"B"}
    assert "Flagged change" in page.panel.legend.names()[-1]
    assert "95 % interval" in page.panel.legend.names()
    assert flags[0].text() in page.notes.text()
    assert "Ringed" in page.panel.note.text()
    # the Versions tab is there (the data has a version); showing the page again reuses
    assert page.table_tabs.isTabVisible(4) and page.versions_view.table is not None
    count = len(w.started_jobs)
    w.show_page("data")
    w.show_page("over_time")
    wait_settled(qtbot, w)
    assert len(w.started_jobs) == count
    assert not w.errors


def test_threshold_change_recomputes(window, qtbot):
    page = show_and_wait(qtbot, window)
    first = page.result
    assert page.show_series("score", "v1")
    page.threshold_spin.setValue(1.0)
    wait_until(qtbot, lambda: page.result is not first and not page.busy()
               and page.thresholds()["v1"] == 1.0)
    wait_settled(qtbot, window)
    ref = over_time(window.state.data, page.thresholds()).find("v1")
    assert page.result.find("v1").rates["fpr"] == pytest.approx(ref.rates["fpr"], abs=1e-12)
    assert "v1 ≥ 1" in page.export_settings()["Thresholds"]


def choose_on(qtbot, window, page, period: str):
    """Press "Choose and add as scenario" for the rule already picked; the added scenario,
    once the rates over time include it."""
    page.period_combo.setCurrentIndex(page.period_combo.findData(period))
    before = len(window.state.scenarios)
    page.choose_button.click()
    wait_until(qtbot, lambda: len(window.state.scenarios) == before + 1)
    wait_until(qtbot, lambda: page.result is not None and not page.busy()
               and any(s.kind == "scenario" for s in page.result.series))
    wait_settled(qtbot, window)
    return window.state.scenarios[-1]


def test_choose_equal_fpr_on_w1_adds_a_scenario(window, qtbot):
    page = show_and_wait(qtbot, window)
    page.rule_combo.setCurrentIndex(page.rule_combo.findData("equal-fpr"))
    sc = choose_on(qtbot, window, page, "W1")
    assert sc.name == "Equal FPR on W1" and sc.origin["chosen_on"] == "W1"
    assert page.shown() == ("scenario", sc.name)  # shown at once
    s = page.result.series[-1]
    assert s.kind == "scenario" and s.chosen_on == "W1"
    fpr_w1 = s.rates["fpr"][0]
    assert abs(fpr_w1[0] - fpr_w1[1]) < 0.01
    # AUC is not offered for a rule
    auc = page.rate_combo.model().item(page.rate_combo.findData("auc"))
    assert not auc.isEnabled()
    # the Decision page lists it too
    decision = window.page("decision")
    assert sc.name in [s.name for s in decision.state.scenarios]
    # … and its "Over periods" tab applies every option to each period, W1 marked
    window.show_page("decision")
    wait_until(qtbot, lambda: decision.comp is not None and len(decision.comp.scenarios) == 2)
    assert decision.tabs.isTabEnabled(3)
    headers = [c.header for c in decision.periods_table.table.columns]
    assert "Equal FPR on W1\nW1 (chosen on)" in headers and "Baseline\nW6" in headers
    assert not window.errors


def test_export_tables_and_settings_round_trip(window, qtbot, tmp_path):
    page = show_and_wait(qtbot, window)
    tables = page.export_tables()
    sheets = [t.sheet for t in tables]
    assert "Over time" in sheets and "Versions compared" in sheets
    assert "Rates over time" in sheets and "Changes over time" in sheets
    wb, about = export_and_read(qtbot, window, tmp_path / "tables.xlsx")
    assert "Over time" in wb.sheetnames
    assert any(str(v).startswith("Over time: ") for v in about)
    page.rate_combo.setCurrentIndex(page.rate_combo.findData("tpr"))
    page.bands_box.setChecked(True)
    assert page.show_series("score", "v2")
    page.threshold_spin.setValue(0.9)
    saved = page.settings()
    assert saved["thresholds"] == {"v2": 0.9} and saved["show"] == ["score", "v2"]
    page.apply_settings(saved)
    assert page.settings() == saved
    wait_settled(qtbot, window)


def test_without_a_period_the_page_says_what_to_map(make_window, qtbot, drift_csv):
    w = make_window(page_classes=pages())
    open_file(qtbot, w, drift_csv)
    map_roles(qtbot, w, (("v1", "score"), ("y", "label"), ("grp", "group")))
    assert w.state.data.period is None
    w.show_page("over_time")
    wait_settled(qtbot, w)
    page = w.page("over_time")
    assert page.stack.currentIndex() == 0
    assert "Period (date or order)" in page.empty.text() and "Data page" in page.empty.text()
    assert page.result is None and page.export_tables() == []
    # a period but no outcome: says so
    from dataclasses import replace

    data = w.state.data
    w.state.set_data(replace(data, label=None, period=np.zeros(data.n, dtype=np.int32),
                             period_names=["W1"]))
    assert page.stack.currentIndex() == 0 and "outcome" in page.empty.text()
    w.state.set_data(None)
    assert page.empty.text().startswith("Open a data file")
    wait_settled(qtbot, w)
    assert page.result is None and not w.errors


@pytest.mark.parametrize("size", [(1366, 768), (1024, 576)])
def test_fits_and_names_every_control(window, qtbot, size):
    """With results shown: no horizontal scrolling (the settings boxes stack when narrow), no
    text cut without a tooltip, every control named for screen readers and explained."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QWidget

    from test_gui_screen import _cut_without_tooltip

    window.resize(*size)
    page = show_and_wait(qtbot, window)
    page.bands_box.setChecked(True)
    wait_until(qtbot, lambda: page.minimumSizeHint().width()
               <= window.stack.currentWidget().viewport().width())
    wait_settled(qtbot, window)
    scroll = window.stack.currentWidget()
    assert scroll.widget() is page
    assert page.minimumSizeHint().width() <= scroll.viewport().width()
    assert _cut_without_tooltip(page) == []
    missing = [f"{type(x).__name__} {x.toolTip()[:40]!r}" for x in page.findChildren(QWidget)
               if x.isVisible() and x.focusPolicy() != Qt.NoFocus and not x.accessibleName()]
    assert missing == []
    for control in (page.show_combo, page.threshold_spin, page.rate_combo, page.bands_box,
                    page.rule_combo, page.period_combo, page.choose_button):
        assert control.toolTip() and control.accessibleName(), control


def test_choose_equal_recall_in_a_list_of_k(window, qtbot):
    page = show_and_wait(qtbot, window)
    page.rule_combo.setCurrentIndex(page.rule_combo.findData("recall"))
    assert page.k_spin.isVisibleTo(page)
    page.k_spin.setValue(200)
    sc = choose_on(qtbot, window, page, "W2")
    assert sc.name == "Equal recall, K = 200, on W2" and sc.origin["chosen_on"] == "W2"
    s = page.result.find(sc.name)
    w2 = window.state.data.period_names.index("W2")
    assert float((s.rates["selection_rate"][w2] * s.people[w2]).sum()) == pytest.approx(200)
    assert not window.errors
