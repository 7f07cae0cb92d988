"""The Decision table page offscreen: scenarios added from the Tiers and Audit pages, the
table equal to scenarios.compare (and to brute force on a few cells), tints, editing the
list (rename, reorder, delete, notes) through the shared state, the bootstrap through the
worker, settings and project round trips, the export, and 1280x800 screenshots."""

import json
import math

import numpy as np
import openpyxl
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")
pytest.importorskip("pyqtgraph")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QImage  # noqa: E402
from PySide6.QtWidgets import QInputDialog  # noqa: E402

from conftest import HANG_MS, ROOT, grab_to  # noqa: E402
from fairdesk.gui.pages import decision_page  # noqa: E402
from fairdesk.gui.pages.audit_page import AuditPage  # noqa: E402
from fairdesk.gui.pages.data_page import DataPage  # noqa: E402
from fairdesk.gui.pages.decision_page import BETTER, MOVED, WORSE, DecisionPage  # noqa: E402
from fairdesk.gui.pages.tiers_page import TiersPage  # noqa: E402
from fairdesk.io.loading import load_table  # noqa: E402
from fairdesk.metrics.thresholds import ThresholdRule  # noqa: E402
from fairdesk.present.formats import format_rate, format_ratio, is_missing, parse_number  # noqa: E402
from fairdesk.scenarios import Scenario, baseline, compare  # noqa: E402
from fairdesk.schema import ColumnMapping  # noqa: E402
from fairdesk.validation import prepare  # noqa: E402

SAMPLE = ROOT / "resources" / "sample" / "sample_scores.csv"
SCREENS = ROOT / "artifacts" / "screens"
MAPPING = dict(score="score", label="outcome", groups=["race"], weight="weight")


@pytest.fixture
def frame(sample_frame):  # conftest's sample, read once per module
    return sample_frame


@pytest.fixture
def data(sample_data):
    return sample_data


PAGES = [TiersPage, AuditPage, DecisionPage]


@pytest.fixture
def window(make_window, data):
    return make_window(page_classes=PAGES, settings_name="s.ini", data=data, show=False)


@pytest.fixture
def page(window):
    return window.page("decision")


@pytest.fixture
def names(monkeypatch):
    """QInputDialog.getText answers with the next name (None: keep the proposed default);
    the proposed defaults are recorded."""
    answers, defaults = [], []

    def get_text(parent, title, label, mode=None, text="", *a, **k):
        defaults.append(text)
        if not answers:
            return text, True
        a = answers.pop(0)
        return (text, True) if a is None else (a, a != "<cancel>")
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(get_text))
    return answers, defaults


def four_scenarios(data):
    g = data.group_names
    return [
        Scenario("Tiers 0.3/0.6", "thresholds", {"values": [0.3, 0.6]}, {"engine": "test"}),
        Scenario("Per group", "group_thresholds",
                 {"values": {n: [0.42 + 0.04 * i] for i, n in enumerate(g)}}, {"engine": "test"}),
        Scenario("Randomised", "randomized",
                 {"groups": {n: {"t0": 0.4, "t1": 0.6, "p": 0.5} for n in g}},
                 {"engine": "test", "seed": 3}),
        Scenario("Nobody", "thresholds", {"values": [0.9999]}, {"engine": "test"}),
    ]


class Shown:
    """Scenario ``j``'s value in row ``i`` of comp.table_rows(), as the window's table model
    shows it: text, value, tooltip, background, and the interval and SD beside it."""

    def __init__(self, page, i, j):
        view, r = page.table, page.row_of[i]
        keys = [c.key for c in view.table.columns]
        index = view.model().index(r, keys.index(f"s{j}"))
        self.text, self.value = view.text_at(r, f"s{j}"), view.value_at(r, f"s{j}")
        self.tip = index.data(Qt.ToolTipRole) or ""
        brush = index.data(Qt.BackgroundRole)
        self.background = brush.color() if brush is not None else None
        self.interval = view.text_at(r, f"ci{j}") if f"ci{j}" in keys else None
        self.interval_value = view.value_at(r, f"ci{j}") if f"ci{j}" in keys else None
        self.sd = view.text_at(r, f"sd{j}") if f"sd{j}" in keys else None
        self.sd_value = view.value_at(r, f"sd{j}") if f"sd{j}" in keys else None


def cell(page, i, j):
    return Shown(page, i, j)


# ------------------------------------------------------------------ adding scenarios

def test_baseline_only(page, window, data):
    assert page.stack.currentIndex() == 1
    assert [s.name for s in page.comp.scenarios] == ["Baseline"]
    assert page.comp.scenarios[0].params["values"] == [pytest.approx(window.state.thresholds[0])]
    assert page.hint.isVisibleTo(page)
    assert page.list.rowCount() == 1
    assert page.export_tables() == []  # nothing to compare yet: no meeting sheets
    assert not page.delete_button.isEnabled() and not page.rename_button.isEnabled()
    assert page.delete(0) is False and page.rename(0, "X") is None and page.move(0, 1) is False


def test_add_from_tiers_and_audit_pages(window, page, data, names):
    answers, defaults = names
    tiers, audit = window.page("tiers"), window.page("audit")
    tiers.set_rules([ThresholdRule("fixed", 0.6), ThresholdRule("fixed", 0.3)])
    answers.append(None)
    tiers.scenario_button.click()
    s = window.state.scenarios[0]
    assert defaults[-1] == "Tiers: 0.3, 0.6"
    assert (s.name, s.kind, s.params) == ("Tiers: 0.3, 0.6", "thresholds", {"values": [0.3, 0.6]})
    assert s.origin["engine"] == "Tiers page"
    assert [r["value"] for r in s.origin["rules"]] == [0.3, 0.6]
    assert window.state.thresholds.tolist() == [0.5]  # adding does not apply

    # group-specific editor table -> group thresholds
    tiers.group_check.setChecked(True)
    tiers.set_group_value(1, 0, 0.25)
    answers.append("Lower for B")
    tiers.scenario_button.click()
    s = window.state.scenarios[1]
    assert s.kind == "group_thresholds" and s.name == "Lower for B"
    assert s.params["values"][data.group_names[1]] == [0.25, 0.6]
    assert s.params["values"][data.group_names[0]] == [0.3, 0.6]
    tiers.group_check.setChecked(False)

    # the Audit page adds the thresholds in force
    window.state.set_thresholds([0.45])
    answers.append(None)
    audit.scenario_button.click()
    s = window.state.scenarios[2]
    assert s.name == defaults[-1] and s.name.startswith("Audit: ")  # the Audit page's name
    assert parse_number(s.name.split(": ", 1)[1]) == pytest.approx(0.45)
    assert (s.kind, s.params, s.origin) == ("thresholds", {"values": [0.45]},
                                            {"engine": "Audit page"})
    answers.append(s.name)  # the same name again gets a number
    audit.scenario_button.click()
    assert window.state.scenarios[3].name == f"{s.name} (2)"
    window.state.set_thresholds(np.array([[0.4], [0.5], [0.6], [0.7]]), group_specific=True)
    answers.append(None)
    audit.scenario_button.click()
    s = window.state.scenarios[4]
    assert s.kind == "group_thresholds" and s.origin == {"engine": "Audit page"}
    assert s.params["values"] == {n: [v] for n, v in zip(data.group_names, [0.4, 0.5, 0.6, 0.7])}
    answers.append("<cancel>")  # Cancel adds nothing
    assert audit.add_as_scenario() is None
    assert len(window.state.scenarios) == 5

    # every one is a column of the decision table, after the baseline
    assert [s.name for s in page.comp.scenarios] == ["Baseline"] + [
        s.name for s in window.state.scenarios]
    # group-specific thresholds in force: the baseline is the rule they came from (0.45)
    assert page.comp.scenarios[0].params["values"] == [0.45]
    assert page.list.rowCount() == 6 and page.hint.isHidden()


def test_baseline_when_thresholds_are_group_specific(window, page, data):
    st = window.state
    st.set_thresholds([0.3, 0.6])
    assert page.baseline_values() == [0.3, 0.6]  # group-agnostic: the thresholds in force
    # group-specific thresholds applied with the rules they came from: the rules
    rules = [{"kind": "fixed", "value": 0.3}, {"kind": "quantile", "value": 0.8}]
    q80 = ThresholdRule("quantile", 0.8).resolve(data)
    st.set_thresholds(np.full((4, 2), 0.5), group_specific=True, rules=rules)
    assert page.baseline_values() == pytest.approx([0.3, q80])
    assert page.comp.scenarios[0].params["values"] == pytest.approx([0.3, q80])
    st.set_thresholds(np.full((4, 2), 0.45), group_specific=True)  # moved, rules unchanged
    assert page.baseline_values() == pytest.approx([0.3, q80])
    # group-specific thresholds made without new rules: the last group-agnostic ones
    st.set_thresholds([0.35])
    st.set_thresholds(np.full((4, 1), 0.5), group_specific=True)
    assert page.baseline_values() == [0.35]
    assert "group-specific" in page.comp.scenarios[0].origin["note"]


# ------------------------------------------------------------------ the table

def test_table_equals_compare(window, page, data, frame):
    scen = four_scenarios(data)
    for s in scen:
        window.state.add_scenario(s)
    comp = compare(data, [baseline([0.5])] + scen)  # computed independently of the page
    rows = comp.table_rows()
    assert len(page.value_rows) == len(rows)
    # one value column per scenario, its 95 % interval beside it
    assert [c.key for c in page.table.table.columns] == ["measure", "group"] + [
        k for j in range(5) for k in (f"s{j}", f"ci{j}")]
    assert page.table.model().columnCount() == 2 + 2 * 5
    for i, r in enumerate(rows):
        for j, v in enumerate(r["values"]):
            item = cell(page, i, j)
            if math.isnan(v):
                assert is_missing(item.value) and item.text == "undefined"
                assert "Undefined:" in item.tip
            else:
                assert item.value == pytest.approx(v, rel=1e-12, abs=1e-15)
                expected = format_rate(v) if r["kind"] == "percent" else (
                    f"{v:.4f}" if r["section"].startswith("Expected cost") else f"{v:.3f}")
                assert item.text == expected
                # its 95 % interval for rates and fairness measures (issue 14)
                lo, hi, how = comp.interval(i, j)
                if not r["section"].startswith(("Expected cost", "Decisions changed")):
                    assert item.interval != ""
                    if math.isnan(lo):
                        assert item.interval == "not estimated"
                    elif r["kind"] == "percent":
                        assert item.interval_value == pytest.approx((lo, hi))
                        assert item.interval == format_rate(lo).split(" ")[0] + "–" + format_rate(hi)
                    else:
                        assert item.interval == f"{format_ratio(lo)}–{format_ratio(hi)}"
    # brute force on a few cells: the per-group rule, overall accuracy and changed decisions
    y, w, s = frame["outcome"].to_numpy(), frame["weight"].to_numpy(), frame["score"].to_numpy()
    t = frame["race"].map({n: 0.42 + 0.04 * i for i, n in enumerate(data.group_names)}).to_numpy()
    flag, base = s >= t, s >= 0.5
    acc = np.sum(w * (flag == (y == 1))) / w.sum()
    i_acc = next(i for i, r in enumerate(rows) if r["measure"] == "accuracy" and r["group"] == "Overall")
    assert cell(page, i_acc, 2).value == pytest.approx(acc)
    i_ch = next(i for i, r in enumerate(rows) if r["measure"] == "changed" and r["group"] == "Overall")
    assert cell(page, i_ch, 2).value == pytest.approx(np.sum(w * (flag != base)) / w.sum())
    ga = (frame["race"] == data.group_names[0]).to_numpy()
    i_sel = next(i for i, r in enumerate(rows) if r["measure"] == "selection_rate"
                 and r["group"] == data.group_names[0])
    assert cell(page, i_sel, 2).value == pytest.approx(np.sum(w[ga] * flag[ga]) / w[ga].sum())
    # randomised: the in-between band counts half
    p = np.where(s >= 0.6, 1.0, np.where(s >= 0.4, 0.5, 0.0))
    assert cell(page, i_acc, 3).value == pytest.approx(
        np.sum(w * (p * y + (1 - p) * (1 - y))) / w.sum())
    # flagging nobody: PPV is 0/0, said in words with the reason
    i_pp = next(i for i, r in enumerate(rows) if r["measure"] == "PP")
    assert cell(page, i_pp, 4).text == "undefined"
    assert "fewer than two groups" in cell(page, i_pp, 4).tip
    i_ppv = next(i for i, r in enumerate(rows) if r["measure"] == "ppv" and r["group"] == "Group A")
    assert "0/0" in cell(page, i_ppv, 4).tip and "Group A" in cell(page, i_ppv, 4).tip


def test_differences_are_tinted(window, page, data):
    for s in four_scenarios(data):
        window.state.add_scenario(s)
    rows = page.value_rows

    def hue_of(i, j):
        return cell(page, i, j).background

    for i, r in enumerate(rows):
        base = r["values"][0]
        assert hue_of(i, 0) is None  # the baseline column is never tinted
        for j in range(1, len(r["values"])):
            v = r["values"][j]
            c = hue_of(i, j)
            if math.isnan(v) or math.isnan(base) or abs(v - base) < 1e-9:
                assert c is None
                continue
            assert c is not None
            if r["section"].startswith("Rates"):
                expected = MOVED
            elif r["section"].startswith("Fairness"):
                expected = BETTER if v > base else WORSE
            else:  # changed decisions and cost: lower is better
                expected = BETTER if v < base else WORSE
            # the base hue laid on white (opaque, so dark text reads on any theme)
            assert c.alpha() == 255 and abs(c.hsvHueF() - expected.hsvHueF()) < 0.02, (r, j)
            assert c.lightnessF() >= expected.lightnessF(), (r, j)
            tip = cell(page, i, j).tip
            assert "Baseline:" in tip and "Difference:" in tip
    # a larger difference, a stronger tint (a more saturated shade)
    i_ch = next(i for i, r in enumerate(rows) if r["measure"] == "changed" and r["group"] == "Overall")
    vals = rows[i_ch]["values"]
    order = np.argsort(vals[1:4]) + 1
    strength = [cell(page, i_ch, j).background.hsvSaturation() for j in order]
    assert strength == sorted(strength) and strength[0] < strength[-1]
    # show differences instead of values
    page.show_diff.setChecked(True)
    assert cell(page, i_ch, 1).text.endswith(" pts")
    assert cell(page, i_ch, 1).text.startswith("+")
    assert cell(page, i_ch, 1).value == pytest.approx(vals[1] - vals[0])  # the difference
    assert f"Value: {format_rate(vals[1])}" in cell(page, i_ch, 1).tip  # the value in the tip
    page.by_group.setChecked(False)
    assert all(r["group"] in ("Overall", "") for i, r in enumerate(rows) if i in page.row_of)
    assert len(page.row_of) == 7 + 8 + 1 + 1


def test_scenario_the_data_cannot_use_is_listed_not_compared(window, page, data):
    window.state.add_scenario(Scenario("Old groups", "group_thresholds", {"values": {"X": [0.5]}}))
    window.state.add_scenario(Scenario("Fine", "thresholds", {"values": [0.4]}))
    window.state.add_scenario(Scenario("Engine gone", "probabilities",
                                       {"engine": "fairdesk.no_such_engine:rule"}))
    assert [s.name for s in page.comp.scenarios] == ["Baseline", "Fine"]
    assert "not available" in page.excluded["Engine gone"]
    assert "Old groups" in page.excluded and "Group A" in page.excluded["Old groups"]
    assert "Not compared: Old groups" in page.status.text()
    assert page.list.item(1, 1).text().startswith("⚠ not compared")
    page.select(1)
    assert "not compared" in page.tiers_label.text()
    page.select(2)
    assert page.tiers.source.rowCount() == 2 * data.n_groups


# ------------------------------------------------------------------ editing the list

def test_rename_reorder_delete_and_notes(qtbot, window, page, data, monkeypatch):
    for s in four_scenarios(data):
        window.state.add_scenario(s)
    calls = []
    real = decision_page.compare
    monkeypatch.setattr(decision_page, "compare",
                        lambda d, cols, **k: calls.append([c.name for c in cols]) or real(d, cols, **k))
    st = window.state
    assert page.rename(1, "  Three   tiers ") == "Three tiers"
    assert st.scenarios[0].name == "Three tiers"
    assert page.rename(2, "Three tiers") == "Three tiers (2)"  # names stay unique
    assert page.rename(3, "Baseline") == "Baseline (2)"
    assert page.rename(1, "   ") is None and st.scenarios[0].name == "Three tiers"
    # inline editing in the list
    page.list.item(4, 0).setText("No one flagged")
    qtbot.waitUntil(lambda: st.scenarios[3].name == "No one flagged", timeout=HANG_MS)
    assert [s.name for s in page.comp.scenarios][1:] == [s.name for s in st.scenarios]
    header = page.table.table.columns[2 + 2 * 4].header  # shown elided if the column is narrow
    assert header.replace("\n", " ") == "No one flagged"
    assert page.table.model().headerData(2 + 2 * 4, Qt.Horizontal, Qt.ToolTipRole)
    # reorder: the list, the state and the columns follow
    values_before = {s.name: cell(page, 0, j).value
                     for j, s in enumerate(page.comp.scenarios)}
    page.select(3)
    with qtbot.waitSignal(st.scenariosChanged):
        page.up_button.click()
    assert [s.name for s in st.scenarios] == ["Three tiers", "Baseline (2)", "Three tiers (2)",
                                              "No one flagged"]
    assert page.selected_row() == 2
    assert page.move(4, 1) is False and page.move(1, -1) is False  # the baseline stays first
    page.move(1, 1)
    assert [s.name for s in st.scenarios][:2] == ["Baseline (2)", "Three tiers"]
    for j, s in enumerate(page.comp.scenarios):
        assert cell(page, 0, j).value == values_before[s.name]
    # delete: never the baseline
    page.select(0)
    assert not page.delete_button.isEnabled()
    assert page.delete(0) is False
    page.select(4)
    page.delete_button.click()
    assert [s.name for s in st.scenarios] == ["Baseline (2)", "Three tiers", "Three tiers (2)"]
    assert len(page.comp.scenarios) == 4
    assert calls == []  # none of this recomputed anything
    # notes typed for the selected scenario go to the state (and to the baseline's settings)
    page.select(2)
    assert page.notes_label.text() == "On <b>Three tiers</b>:"
    qtbot.keyClicks(page.notes, "Option B of the memo")
    assert st.scenarios[1].notes == "Option B of the memo"
    with qtbot.waitSignal(st.scenariosChanged, timeout=HANG_MS):
        pass  # the debounced emit, so projects know
    page.select(0)
    qtbot.keyClicks(page.notes, "Today's rule")
    page.select(1)
    assert page.baseline_notes == "Today's rule" and page.settings()["baseline_notes"] == "Today's rule"
    assert page.notes.toPlainText() == ""
    page.select(2)
    assert page.notes.toPlainText() == "Option B of the memo"
    # deleting the selected scenario shows the next one's notes, not the deleted one's
    page.delete(2)
    assert page.notes.toPlainText() == st.scenarios[1].notes == ""
    assert calls == []
    # a new rule is computed, alone (with the baseline it is compared with)
    window.state.add_scenario(Scenario("New", "thresholds", {"values": [0.55]}))
    assert calls == [["Baseline", "New"]] and page.comp.scenarios[-1].name == "New"
    expected = compare(data, [baseline([0.5])] + st.scenarios)
    for i, r in enumerate(expected.table_rows()):
        np.testing.assert_allclose(page.value_rows[i]["values"], r["values"])


# ------------------------------------------------------------------ bootstrap and the worker

def test_bootstrap_through_the_worker(qtbot, window, page, data):
    for s in four_scenarios(data)[:3]:
        window.state.add_scenario(s)
    titles = []
    window.worker.started.connect(titles.append)
    page.boot_b.setValue(30)
    page.boot_seed.setValue(7)
    page.compare_button.click()
    assert titles == ["Bootstrap of the decision table"]
    qtbot.waitUntil(lambda: page.comp is not None and page.comp.bootstrap is not None
                    and not window.worker.busy, timeout=HANG_MS)
    assert window.state.seeds["decision"] == 7
    expected = compare(data, [baseline([0.5])] + window.state.scenarios, bootstrap=30, seed=7)
    np.testing.assert_array_equal(page.comp.bootstrap["sd"], expected.bootstrap["sd"])
    np.testing.assert_array_equal(page.comp.bootstrap["mean"], expected.bootstrap["mean"])
    i = next(i for i, r in enumerate(page.value_rows) if r["measure"] == "ERB")
    assert cell(page, i, 1).sd_value == pytest.approx(expected.bootstrap["sd"][i, 1])  # SD beside
    assert cell(page, i, 1).sd == format_ratio(expected.bootstrap["sd"][i, 1])
    assert "Bootstrap mean ± SD" in cell(page, i, 1).tip and "seed 7" in cell(page, i, 1).tip
    page.show_sd.setChecked(False)
    assert cell(page, i, 1).sd is None
    page.show_sd.setChecked(True)
    assert "Bootstrap: 30 resamples, seed 7." in page.status.text()
    pts = page.chart_points()
    assert pts[1]["sy"] == pytest.approx(expected.bootstrap["sd"][i, 1])
    # reorder and delete keep the bootstrap: each column depends only on its own rule
    page.move(1, 1)
    page.delete(3)
    order = [["Baseline", "Tiers 0.3/0.6", "Per group", "Randomised"].index(s.name)
             for s in page.comp.scenarios]
    assert order == [0, 2, 1]
    np.testing.assert_array_equal(page.comp.bootstrap["sd"], expected.bootstrap["sd"][:, order])
    # a new rule or another cost ratio clears it (with a note)
    page.cost_fn.setValue(3)
    assert page.comp.bootstrap is None
    assert "Bootstrap cleared" in page.status.text()
    assert page.comp.cost_ratio == (3.0, 1.0)
    # same seed, same numbers
    page.cost_fn.setValue(1)
    page.compare_now()
    qtbot.waitUntil(lambda: page.comp.bootstrap is not None and not window.worker.busy,
                    timeout=HANG_MS)
    np.testing.assert_array_equal(page.comp.bootstrap["sd"], expected.bootstrap["sd"][:, order])


def test_cancelled_bootstrap_keeps_the_table(qtbot, window, page, data):
    window.state.add_scenario(four_scenarios(data)[0])
    before = [r["values"] for r in page.value_rows]
    page.boot_b.setValue(100_000)
    page.compare_now()
    assert not page.compare_button.isEnabled()  # the bootstrap runs: cancel it
    window.worker.cancel_all()
    qtbot.waitUntil(lambda: not window.worker.busy, timeout=HANG_MS)
    assert "Cancelled" in page.status.text() and page.compare_button.isEnabled()
    assert page.comp.bootstrap is None
    assert [r["values"] for r in page.value_rows] == before
    assert not window.errors


def test_large_data_compares_in_the_worker(qtbot, window, page, data, monkeypatch):
    monkeypatch.setattr(decision_page, "SYNC_ROWS", 1000)
    titles = []
    window.worker.started.connect(titles.append)
    window.show()
    qtbot.waitExposed(window)
    window.show_page("decision")
    window.state.add_scenario(Scenario("T", "thresholds", {"values": [0.4]}))
    assert titles == ["Comparing the scenarios"]
    qtbot.waitUntil(lambda: not window.worker.busy and page.comp is not None
                    and len(page.comp.scenarios) == 2, timeout=HANG_MS)
    # while the page is hidden, a change waits until it is shown
    window.show_page("tiers")
    window.state.add_scenario(Scenario("U", "thresholds", {"values": [0.45]}))
    assert len(titles) == 1 and "Out of date" in page.status.text()
    window.show_page("decision")
    qtbot.waitUntil(lambda: not window.worker.busy and len(page.comp.scenarios) == 3, timeout=HANG_MS)
    assert titles == ["Comparing the scenarios"] * 2
    # the export computes what it needs at once
    window.show_page("tiers")
    window.state.add_scenario(Scenario("V", "thresholds", {"values": [0.35]}))
    tables = page.export_tables()
    assert [r["name"] for r in tables[1].rows] == ["Baseline", "T", "U", "V"]  # Comparison


# ------------------------------------------------------------------ chart, settings, export

def test_chart_and_save_plot(tmp_path, window, page, data):
    for s in four_scenarios(data):
        window.state.add_scenario(s)
    pts = page.chart_points()
    assert [p["name"] for p in pts] == [s.name for s in page.comp.scenarios]
    for p, m in zip(pts, page.comp.metrics):
        assert p["x"] == pytest.approx(100 * m.overall["accuracy"])
        assert p["y"] == pytest.approx(m.fairness["ERB"]) or math.isnan(m.fairness["ERB"])
    page.fair_combo.setCurrentIndex(page.fair_combo.findData("PE"))
    page.x_combo.setCurrentIndex(page.x_combo.findData("changed"))
    pts = page.chart_points()
    assert pts[1]["x"] == pytest.approx(100 * page.comp.metrics[1].changed_overall)
    assert pts[1]["y"] == pytest.approx(page.comp.metrics[1].fairness["PE"])
    scatter = next(i for i in page._chart_items if hasattr(i, "points"))
    symbols = [pt.symbol() for pt in scatter.points()]
    assert symbols[0] == "star" and set(symbols[1:]) == {"o"}
    labels = [i.textItem.toPlainText() for i in page._chart_items if hasattr(i, "textItem")]
    assert "Baseline" in labels and "Per group" in labels
    png = page.save_plot(tmp_path / "chart.png")
    assert not QImage(str(png)).isNull()
    svg = page.save_plot(tmp_path / "chart.svg")
    assert "Per group" in svg.read_text(encoding="utf-8")


def test_settings_round_trip(qtbot, make_window, window, page, data):
    window.state.add_scenario(four_scenarios(data)[0])
    page.cost_fn.setValue(5)
    page.cost_fp.setValue(2)
    page.fair_combo.setCurrentIndex(page.fair_combo.findData("SP"))
    page.x_combo.setCurrentIndex(page.x_combo.findData("changed"))
    page.boot_b.setValue(50)
    page.boot_seed.setValue(99)
    page.show_diff.setChecked(True)
    page.set_notes(0, "today")
    saved = json.loads(json.dumps(page.settings()))
    assert saved["cost_ratio"] == [5.0, 2.0] and saved["bootstrap"] == 50 and saved["seed"] == 99
    other = make_window(page_classes=PAGES, settings_name="other.ini", data=data, show=False)
    other.state.add_scenario(four_scenarios(data)[0])
    page2 = other.page("decision")
    page2.apply_settings(saved)
    assert page2.settings() == saved
    assert page2.comp.cost_ratio == (5.0, 2.0)
    expected = compare(data, [baseline([0.5]), four_scenarios(data)[0]], cost_ratio=(5, 2))
    assert [m.cost for m in page2.comp.metrics] == pytest.approx([m.cost for m in expected.metrics])
    i = next(i for i, r in enumerate(page2.value_rows) if r["section"].startswith("Expected cost"))
    assert page2.table.text_at(page2.row_of[i], "measure") == "Cost per person (5:2)"
    assert other.state.seeds["decision"] == 99
    assert page2.comp.scenarios[0].notes == "today"
    settings = page.export_settings()
    assert settings["Cost ratio (FN:FP)"] == "5:2" and "Scenario Tiers 0.3/0.6" in settings


def test_export_meeting_workbook(qtbot, tmp_path, window, page, data):
    window.state.set_table(load_table(str(SAMPLE)), ColumnMapping(**MAPPING))
    window.state.set_data(data)
    for s in four_scenarios(data):
        window.state.add_scenario(s)
    page.set_notes(2, "Preferred by the unit")
    tables = page.export_tables()
    assert [t.sheet for t in tables[:3]] == ["Summary", "Comparison", "Decision table"]
    assert len(tables) == 3 + 2 * 5
    out = tmp_path / "meeting.xlsx"
    window.export_workbook(str(out))
    qtbot.waitUntil(lambda: out.exists() and not window.worker.busy, timeout=HANG_MS)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[:4] == ["About this workbook", "Summary", "Comparison", "Decision table"]
    assert "Tiers" in wb.sheetnames  # the other pages' tables follow
    summary = [[c for c in row] for row in wb["Summary"].iter_rows(values_only=True)]
    flat = " ".join(str(c) for row in summary for c in row if c is not None)
    # the scenario's notes and every option are on the Summary (issue 15)
    assert ": Preferred by the unit" in flat and "Per group: " in flat
    assert not window.errors


# ------------------------------------------------------------------ projects

def test_project_round_trip(qtbot, tmp_path, make_window):
    pages = [DataPage, TiersPage, AuditPage, DecisionPage]
    w = make_window(page_classes=pages, show=False)
    w.state.set_table(load_table(str(SAMPLE)), ColumnMapping(**MAPPING))
    w.state.set_data(prepare(w.state.table.frame, ColumnMapping(**MAPPING)))
    page = w.page("decision")
    for s in four_scenarios(w.state.data):
        w.state.add_scenario(s)
    page.rename(1, "Three tiers")
    page.move(4, -1)
    page.set_notes(1, "from the 2019 memo")
    page.set_notes(0, "in force since May")
    page.cost_fn.setValue(4)
    path = tmp_path / "p.fairdesk"
    w.state.project_path = str(path)
    assert w.save_project() == str(path)

    w2 = make_window(page_classes=pages, settings_name="s2.ini", show=False)
    w2.open_path(str(path))
    qtbot.waitUntil(lambda: w2.state.data is not None and not w2.worker.busy, timeout=HANG_MS)
    qtbot.waitUntil(lambda: w2.state.scenarios != [], timeout=HANG_MS)
    assert [s.to_dict() for s in w2.state.scenarios] == [s.to_dict() for s in w.state.scenarios]
    assert w2.state.scenarios[0].notes == "from the 2019 memo"
    page2 = w2.page("decision")
    assert page2.baseline_notes == "in force since May"
    assert [s.name for s in page2.comp.scenarios] == [s.name for s in page.comp.scenarios]
    assert page2.comp.cost_ratio == (4.0, 1.0)
    for i, r in enumerate(page.value_rows):
        np.testing.assert_allclose(page2.value_rows[i]["values"], r["values"])
    assert not w.errors and not w2.errors
    w2.worker.wait(HANG_MS)


def test_no_data_and_no_outcome(make_window, frame):
    w = make_window(page_classes=PAGES, show=False)
    page = w.page("decision")
    assert page.stack.currentIndex() == 0 and "Open a data file" in page.empty.text()
    assert page.export_tables() == []
    d = prepare(frame, ColumnMapping(score="score", groups=["race"]), require_label=False)
    w.state.set_data(d)
    w.state.add_scenario(Scenario("T", "thresholds", {"values": [0.4]}))
    assert page.stack.currentIndex() == 0 and "outcome" in page.empty.text()
    assert page.export_tables() == [] and not w.errors


# ------------------------------------------------------------------ screenshots

def test_screenshots(qtbot, window, page, data, names):
    SCREENS.mkdir(parents=True, exist_ok=True)
    window.show()
    qtbot.waitExposed(window)
    answers, _ = names
    tiers, audit = window.page("tiers"), window.page("audit")
    window.show_page("tiers")
    tiers.set_rules([ThresholdRule("fixed", 0.3), ThresholdRule("fixed", 0.6)])
    answers.append("Three tiers 0.3 / 0.6")
    tiers.scenario_button.click()
    grab_to(qtbot, window, "decision_tiers_page_button.png")
    window.show_page("audit")
    window.state.set_thresholds([0.45])
    answers.append("Lower threshold 0.45")
    audit.scenario_button.click()
    grab_to(qtbot, window, "decision_audit_page_button.png")
    window.state.set_thresholds([0.5])
    g = data.group_names
    window.state.add_scenario(Scenario("Per-group thresholds", "group_thresholds",
                                       {"values": {n: [0.42 + 0.04 * i] for i, n in enumerate(g)}},
                                       {"engine": "Tiers page"}))
    window.state.add_scenario(Scenario("Randomised band", "randomized",
                                       {"groups": {n: {"t0": 0.4, "t1": 0.6, "p": 0.5} for n in g}},
                                       {"engine": "Preferential randomisation", "seed": 3}))
    page.set_notes(1, "Oregon-style tiers; the flag is the top tier.")
    window.show_page("decision")
    page.select(3)
    shot = grab_to(qtbot, window, "decision_table.png")
    assert (shot.width(), shot.height()) == (1280, 800)
    page.show_diff.setChecked(True)
    page.by_group.setChecked(False)
    grab_to(qtbot, window, "decision_differences.png")
    page.show_diff.setChecked(False)
    page.by_group.setChecked(True)
    page.boot_b.setValue(40)
    page.compare_now()
    qtbot.waitUntil(lambda: page.comp.bootstrap is not None and not window.worker.busy,
                    timeout=HANG_MS)
    grab_to(qtbot, window, "decision_bootstrap.png")
    page.tabs.setCurrentIndex(1)
    grab_to(qtbot, window, "decision_chart.png")
    page.tabs.setCurrentIndex(2)
    grab_to(qtbot, window, "decision_tiers.png")
