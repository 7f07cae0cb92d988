"""The Recall balancing page offscreen: tables equal the engine's, the policy choice, K and
recall-target modes, reuse of the ranking, the draggable K line, inline errors, edge-case
notes, settings round trip, workbook and CSV export, screenshots."""

import math

import numpy as np
import openpyxl
import pandas as pd
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")
pytest.importorskip("pyqtgraph")

from PySide6.QtCore import QSettings, Qt  # noqa: E402

from conftest import HANG_MS, ROOT, SHARED, grab_to, shoot_tabs  # noqa: E402
from fairdesk.engines.recall_balance import (SCENARIOS_K, SCENARIOS_RECALL,  # noqa: E402
                                             RecallSettings, run_recall)
from fairdesk.gui.main_window import MainWindow  # noqa: E402
from fairdesk.gui.pages.recall_page import RecallPage  # noqa: E402
from fairdesk.gui.table_model import HIGHLIGHT  # noqa: E402
from fairdesk.present.formats import format_difference, format_people, format_rate  # noqa: E402
from fairdesk.io.loading import load_table  # noqa: E402
from fairdesk.schema import ColumnMapping  # noqa: E402
from fairdesk.validation import prepare  # noqa: E402

SAMPLE = ROOT / "resources" / "sample" / "sample_scores.csv"
COMPAS = SHARED / "compas_two_year.csv"
SCREENS = ROOT / "artifacts" / "screens"
MAPPING = dict(score="score", label="outcome", groups=["race"], id="person_id")


def sample_data(**extra):
    return prepare(pd.read_csv(SAMPLE), ColumnMapping(**{**MAPPING, **extra}))


@pytest.fixture
def window(make_window):
    return make_window(page_classes=[RecallPage], settings_name="s.ini")


def load(window, qtbot, data=None, table=None):
    """Put data in the state (with its loaded table, for exports) and wait for the result."""
    if table is not None:
        window.state.table = table
    window.state.set_data(data if data is not None else sample_data())
    page = window.page("recall")
    window.show_page("recall")
    wait_result(page, qtbot)
    return page


def wait_result(page, qtbot, check=lambda r: True):
    qtbot.waitUntil(lambda: page.result is not None and page._result_data is page.state.data
                    and page._job is None and not page._dirty and check(page.result),
                    timeout=HANG_MS)
    return page.result


@pytest.fixture
def page(window, qtbot):
    return load(window, qtbot, table=load_table(SAMPLE))


LABELS = {"size": "List size", "precision": "Precision", "cost": "Cost vs top K",
          "recall_all": "Recall"}


def cell(page, kind, g, key):
    """(text, tooltip) of the scenario table's cell: ``kind`` a measure of the whole list, or
    "people"/"recall" of group ``g``."""
    view = page.scen_table
    labels = [view.text_at(r, "measure").strip() for r in range(view.source.rowCount())]
    if g is None:
        r = labels.index(LABELS[kind])
    else:
        r = labels.index(page.result.group_names[g]) + (1 if kind == "recall" else 0)
    index = view.model().index(r, view.source.column_index(key))
    return index.data(), index.data(Qt.ToolTipRole) or ""


def scenario_keys(page):
    return [c.key for c in page.scen_table.table.columns[1:]]


def test_scenario_table_equals_engine(page, window):
    assert window.errors == []
    res = page.result
    assert scenario_keys(page) == list(SCENARIOS_K)
    ref = run_recall(page.state.data, RecallSettings(k=150, seed=0, reference="Group A"))
    assert page.k_spin.value() == 150  # 6,646 people: the LA program's K
    assert page.ref_combo.currentData() == "Group A"  # the largest group
    for key in SCENARIOS_K:
        s, e = res.scenarios[key], ref.scenarios[key]
        assert np.array_equal(s.rows, e.rows)
        assert cell(page, "size", None, key)[0] == format_people(e.size)
        assert cell(page, "precision", None, key)[0] == format_rate(e.precision_all)
        for g in range(len(res.group_names)):
            assert cell(page, "people", g, key)[0] == format_people(e.people[g])
            assert cell(page, "recall", g, key)[0] == format_rate(e.recall[g])
    for key in SCENARIOS_K[1:]:
        c = ref.scenarios[key].precision_cost
        assert cell(page, "cost", None, key)[0] == format_difference(c)
    assert cell(page, "precision", None, "top_k")[0].endswith(" %")  # 88.0 %, as everywhere
    _text, tip = cell(page, "cost", None, "current_equal")
    assert "percentage points" in tip
    # the group rows carry the group's colour
    first = [page.scen_table.text_at(r, "measure") for r in range(
        page.scen_table.source.rowCount())].index(res.group_names[0])
    assert page.scen_table.model().index(first, 0).data(Qt.DecorationRole) is not None


def test_policy_choice_highlights_and_details(page, qtbot):
    res = page.result
    assert page.chosen_key == "current_equal"
    page.balance_combo.setCurrentIndex(page.balance_combo.findData("proportional"))
    page.scale_combo.setCurrentIndex(page.scale_combo.findData("expanded"))
    assert page.chosen_key == "expanded_proportional"
    s = res.scenarios["expanded_proportional"]
    col = page.scen_table.source.column_index("expanded_proportional")
    assert page.scen_table.model().index(1, col).data(Qt.BackgroundRole).color() == HIGHLIGHT
    assert page.scen_table.model().index(1, 1).data(Qt.BackgroundRole) is None
    assert "Expanded – Proportional" in page.detail_title.text()
    assert "Expanded – Proportional" in page.summary.text()
    t = page.detail_table
    decimals = page.state.data.score_decimals
    for g in range(len(res.group_names)):
        assert t.text_at(g, "group") == res.group_names[g]
        assert t.text_at(g, "threshold") == f"{s.threshold[g]:.{decimals}f}"
        assert t.value_at(g, "ties") == s.ties_left[g]
        assert t.text_at(g, "target") == format_rate(s.target[g])
    assert t.text_at(len(res.group_names), "group") == "All groups"
    assert t.text_at(len(res.group_names), "recall") == format_rate(s.recall_all)
    band = page.recall_panel._band
    assert list(band.opts["x"]) == [SCENARIOS_K.index("expanded_proportional")]
    assert page.result is res  # choosing a policy does not recompute


def test_new_k_recomputes_on_the_same_ranking(page, qtbot):
    ranked = page.result.ranked
    page.k_spin.setValue(400)
    res = wait_result(page, qtbot, lambda r: r.k == 400)
    assert res.ranked is ranked
    assert res.scenarios["current_equal"].size <= 400
    assert cell(page, "size", None, "top_k")[0] == format_people(res.scenarios["top_k"].size)
    page.seed_spin.setValue(7)
    res = wait_result(page, qtbot, lambda r: r.settings.seed == 7)
    assert res.ranked is not ranked
    assert page.state.seeds["recall"] == 7


def test_recall_target_mode(page, qtbot):
    page.target_combo.setCurrentIndex(page.target_combo.findData("recall"))
    assert not page.scale_combo.isEnabled() and page.recall_spin.isVisible()
    page.recall_spin.setValue(25.0)
    res = wait_result(page, qtbot, lambda r: r.mode == "recall" and r.settings.recall == 0.25)
    assert scenario_keys(page) == list(SCENARIOS_RECALL)
    assert page.chosen_key == "recall_equal"
    expect = run_recall(page.state.data, RecallSettings(k=None, recall=0.25, reference="Group A"))
    for g in range(4):
        assert cell(page, "people", g, "recall_equal")[0] == format_people(
            expect.scenarios["recall_equal"].people[g])
    assert not page.k_lines[0].line.movable


def test_dragging_the_k_line_sets_k(page, qtbot):
    page.log_check.setChecked(False)
    line = page.k_lines[0].line
    line.setValue(300.4)  # as a drag does: moved, once per frame, then released
    with qtbot.waitSignal(page.k_lines[0].moved, timeout=HANG_MS):
        pass
    assert "K = 300" in page.k_lines[1].line.label.format
    line.sigPositionChangeFinished.emit(line)
    assert page.k_spin.value() == 300
    wait_result(page, qtbot, lambda r: r.k == 300)
    page.log_check.setChecked(True)  # log axis: the line sits at log10(K)
    assert page.k_lines[1].value() == pytest.approx(math.log10(300))


def test_edge_cases_show_notes_and_undefined(window, qtbot):
    frame = pd.read_csv(SAMPLE)
    frame.loc[frame["race"] == "Group D", "outcome"] = 0  # a group without positives
    page = load(window, qtbot, prepare(frame, ColumnMapping(**MAPPING)))
    g = page.result.group_names.index("Group D")
    text, tip = cell(page, "recall", g, "current_equal")
    assert text == "undefined" and "no one with the outcome" in tip
    assert "Group D" in page.notes.toPlainText() and "left out" in page.notes.toPlainText()
    # Group D cannot be the reference (prevalence 0)
    i = page.ref_combo.findData("Group D")
    assert not page.ref_combo.model().item(i).isEnabled()
    # K at least everyone
    page.k_spin.setValue(1_000_000)
    res = wait_result(page, qtbot, lambda r: r.k_requested == 1_000_000)
    assert "at least the number of people" in page.notes.toPlainText()
    assert res.scenarios["current_equal"].size == res.total_people
    # a bad reference is explained on the page, not in a dialog
    page.apply_settings({"reference": "Group D", "k": 150})
    qtbot.waitUntil(lambda: page.error_label.isVisible(), timeout=HANG_MS)
    assert "'Group D' has no one with the positive outcome" in page.error_label.text()
    assert window.errors == []
    page.apply_settings({"reference": "Group B"})
    wait_result(page, qtbot, lambda r: r.group_names[r.reference] == "Group B")
    assert not page.error_label.isVisible()


def test_no_label_message(window, qtbot):
    data = sample_data()
    data.label = None
    window.state.set_data(data)
    window.show_page("recall")
    page = window.page("recall")
    assert page.stack.currentIndex() == 0 and "outcome" in page.empty.text()
    assert page.export_tables() == []


def test_settings_round_trip(page, qtbot):
    page.apply_settings({"target": "k", "k": 222, "reference": "Group B", "balance": "proportional",
                         "scale": "expanded", "seed": 5, "log_k": False, "plot_tab": 2,
                         "table_tab": 1})
    res = wait_result(page, qtbot, lambda r: r.k == 222 and r.settings.seed == 5)
    s = page.settings()
    assert s == {"target": "k", "k": 222, "recall": pytest.approx(0.3), "reference": "Group B",
                 "balance": "proportional", "scale": "expanded", "seed": 5, "log_k": False,
                 "table_tab": 1, "plot_tab": 2}
    assert res.group_names[res.reference] == "Group B"
    assert page.chosen_key == "expanded_proportional"
    about = page.export_settings()
    assert about["Tie-break seed"] == 5 and about["Policy examined"] == "Expanded – Proportional"


def test_export_workbook_and_csv(page, window, qtbot, tmp_path):
    tables = page.export_tables()
    assert [t.sheet for t in tables] == ["Recall scenarios", "Recall by group",
                                         "Precision and recall at k", "Recall lists"]
    path = tmp_path / "tables.xlsx"
    window.export_workbook(str(path))
    qtbot.waitUntil(lambda: path.exists() and not window.worker.busy, timeout=HANG_MS)
    wb = openpyxl.load_workbook(path)
    assert "Recall scenarios" in wb.sheetnames and "Recall lists" in wb.sheetnames
    about = [[c.value for c in row] for row in wb.worksheets[0].iter_rows()]
    # the page's settings, one row per setting (issue 15)
    assert any(r[0] == "Recall balancing: Tie-break seed" and str(r[1]) == "0" for r in about)
    assert any(r[0] == "recall" and r[1] == 0 for r in about)  # the Random seeds section
    ws = wb["Recall lists"]
    header = [c.value for c in ws[2]]
    assert header[1] == "person_id"
    col = header.index("Current – Equal") + 1
    ids = {ws.cell(row=r, column=2).value for r in range(3, ws.max_row + 1)
           if ws.cell(row=r, column=col).value == 1}
    data = page.state.data
    expect = {int(x) for x in data.ids[page.result.selected_rows("current_equal")]}
    assert {int(x) for x in ids} == expect
    out = tmp_path / "lists.csv"
    page.export_lists_csv(str(out))
    qtbot.waitUntil(lambda: out.exists() and not window.worker.busy, timeout=HANG_MS)
    csv = pd.read_csv(out, encoding="utf-8-sig")
    assert set(csv.loc[csv["Top K"] == 1, "person_id"]) == {
        int(x) for x in data.ids[page.result.selected_rows("top_k")]}


def test_export_computes_when_the_page_was_never_shown(window, qtbot):
    window.state.set_data(sample_data())
    page = window.page("recall")
    assert page.result is None  # not shown: nothing computed yet
    tables = page.export_tables()
    assert tables and page.result is not None


def test_screenshots(window, qtbot):
    SCREENS.mkdir(parents=True, exist_ok=True)
    page = load(window, qtbot, sample_data(weight="weight"), table=load_table(SAMPLE))
    shoot_tabs(qtbot, window, page, [(0, 0, "scenarios_recall"), (1, 1, "policy_counts"),
                                     (2, 2, "notes_recall_at_k"),
                                     (0, 3, "scenarios_precision_at_k")], "recall")
    if COMPAS.exists():
        frame = pd.read_csv(COMPAS)
        data = prepare(frame, ColumnMapping(score="decile_score", label="two_year_recid",
                                            groups=["race"], id="id"))
        page = load(window, qtbot, data)
        page.balance_combo.setCurrentIndex(1)
        page.table_tabs.setCurrentIndex(0)
        page.plot_tabs.setCurrentIndex(0)
        grab_to(qtbot, window, "recall_5_compas_six_groups.png")
        page.plot_tabs.setCurrentIndex(2)
        page.table_tabs.setCurrentIndex(1)
        grab_to(qtbot, window, "recall_6_compas_policy_recall_at_k.png")


def test_add_as_scenario_selection_matches_the_list(qtbot, tmp_path):
    import numpy as np
    import pandas as pd
    from PySide6.QtCore import QSettings

    from fairdesk.gui.main_window import MainWindow
    from fairdesk.gui.pages.recall_page import RecallPage
    from fairdesk.scenarios import compare, baseline
    from fairdesk.schema import ColumnMapping
    from fairdesk.validation import prepare
    from conftest import ROOT

    data = prepare(pd.read_csv(ROOT / "resources" / "sample" / "sample_scores.csv"),
                   ColumnMapping(score="score", label="outcome", groups=["race"]))
    w = MainWindow(page_classes=[RecallPage], settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(w)
    w.show_error = lambda *a: None
    w.show()
    qtbot.waitExposed(w)
    w.state.set_data(data)  # the page computes while it is visible
    page = w.pages[0]
    qtbot.waitUntil(lambda: page.result is not None and page._job is None, timeout=HANG_MS)
    name = page.add_as_scenario()
    sc = w.state.scenarios[-1]
    assert sc.name == name and sc.kind == "selection"
    key = page.chosen_key
    comp = compare(data, [baseline([0.5]), sc])
    assert comp.metrics[1].counts.n_selected.sum() == len(page.result.selected_rows(key))
    w.worker.wait(HANG_MS)
