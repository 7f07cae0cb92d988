"""The Tiers & thresholds page and the help dialogs (pytest-qt, offscreen)."""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pytestqt")

import pyqtgraph as pg  # noqa: E402

from conftest import HANG_MS, wait_idle, wait_settled, wait_until  # noqa: E402

from PySide6.QtCore import Qt, QUrl  # noqa: E402
from PySide6.QtGui import QColor, QImage, QKeySequence, QPainter  # noqa: E402
from PySide6.QtWidgets import QDialog  # noqa: E402

from fairdesk.gui.help_dialogs import (EXTRA_RATES, GlossaryDialog,  # noqa: E402
                                       WhichMeasureDialog)
from fairdesk.gui.pages.tiers_page import PRESETS, TiersPage  # noqa: E402
from fairdesk.metrics.fairness import DEFINITIONS  # noqa: E402
from fairdesk.metrics.rates import RATES  # noqa: E402
from fairdesk.metrics.thresholds import (ThresholdRule, bin_edges,  # noqa: E402
                                         oregon_thresholds)
from fairdesk.present.formats import format_score  # noqa: E402
from fairdesk.present.table import plain_value  # noqa: E402
from fairdesk.schema import ColumnMapping  # noqa: E402
from fairdesk.validation import prepare  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SCREENS = ROOT / "artifacts" / "screens"
OREGON, VENTILES, TOP_K = PRESETS[1], PRESETS[2], PRESETS[3]


@pytest.fixture(scope="module")
def frame(sample_frame):
    return sample_frame


@pytest.fixture(scope="module")
def data(frame):  # the sample without its weights
    return prepare(frame, ColumnMapping(score="score", label="outcome", groups=["race"]))


@pytest.fixture
def tiers_window(make_window):
    """A window with only this page, not shown (a test shows it when it needs to)."""
    return lambda data, name="settings.ini": make_window([TiersPage], name, data, show=False)


@pytest.fixture
def window(tiers_window, data):
    return tiers_window(data)


@pytest.fixture
def page(window):
    return window.page("tiers")


def pandas_tiers(frame, thresholds, group_col="race", higher_is_positive=True):
    """Rows and outcome rate per (tier, group), computed independently with pandas."""
    t = np.sort(np.asarray(thresholds, dtype=float))
    s = frame["score"].to_numpy(dtype=float)
    if higher_is_positive:
        tier = np.searchsorted(t, s, side="right")
    else:  # lower = riskier: tier counts thresholds at or above the score
        tier = len(t) - np.searchsorted(t, s, side="left")
    df = frame.assign(tier=tier)
    return df.groupby(["tier", group_col])["outcome"].agg(["size", "mean"])


def table_texts(page, key):
    """The texts of one column of the calibration table, as the window shows them."""
    return [page.table.text_at(r, key) for r in range(page.table.source.rowCount())]


def tip_at(view, row, key):
    return view.model().index(row, view.source.column_index(key)).data(Qt.ToolTipRole)


# ------------------------------------------------------------------ rules and presets

def test_starts_from_the_state_threshold(page, window):
    assert len(page.rows) == 1
    assert page.rows[0].kind_key == "fixed"
    assert float(page.rows[0].value.text()) == pytest.approx(window.state.thresholds[0])
    assert page.pending_label.text() == ""
    assert page.table.source.rowCount() == 2 * 4  # two tiers x four groups


def test_oregon_preset_resolves_to_oregon_thresholds(page, window, data):
    page.apply_preset(OREGON)
    expected = oregon_thresholds(data.score, data.weight)
    assert [r.kind_key for r in page.rows] == ["oregon_low", "mean", "oregon_high"]
    assert [r.resolved for r in page.rows] == pytest.approx(list(expected))
    assert page.rows[0].threshold.text() == f"{expected[0]:.4f}"  # the scores' decimals
    assert "not applied" in page.pending_label.text()
    assert page.apply()
    np.testing.assert_allclose(window.state.thresholds, expected)
    assert not window.state.group_specific
    assert [r["kind"] for r in window.state.threshold_rules] == ["oregon_low", "mean",
                                                                  "oregon_high"]
    assert page.pending_label.text() == ""
    assert page.table.source.rowCount() == 4 * 4
    assert "Oregon" in page.applied_label.text()


def test_ventile_and_top_k_presets(page, window, data):
    page.apply_preset(VENTILES)
    assert len(page.rows) == 19
    np.testing.assert_allclose([r.resolved for r in page.rows], bin_edges(data.score, 20))
    for j in (1, 10, 19):  # the page's cache gives what ThresholdRule.resolve gives
        assert page.rows[j - 1].resolved == ThresholdRule("ventile", j, 20).resolve(data)
    assert page.apply()
    assert window.state.thresholds.shape == (19,)
    assert page.table.source.rowCount() == 20 * 4
    page.apply_preset(TOP_K)
    k = int(page.rows[0].value.text())
    assert k == round(0.1 * data.n)
    assert page.apply()
    assert np.sum(data.score >= window.state.thresholds[0]) >= k
    page.apply_preset(PRESETS[0])
    assert page.apply()
    np.testing.assert_allclose(window.state.thresholds, [0.5])


def test_typing_a_rule_and_ctrl_return_applies(qtbot, page, window):
    window.show()
    qtbot.waitExposed(window)
    row = page.rows[0]
    row.kind.setCurrentIndex(row.kind.findData("quantile"))
    assert row.value.text() == "50"  # a sensible starting value for the new kind
    row.value.selectAll()
    qtbot.keyClicks(row.value, "80")
    assert row.resolved == pytest.approx(ThresholdRule("quantile", 0.8).resolve(window.state.data))
    assert page.apply_button.shortcut() == QKeySequence("Ctrl+Return")
    with qtbot.waitSignal(window.state.thresholdsChanged, timeout=HANG_MS):
        page.apply_button.click()
    assert window.state.thresholds[0] == pytest.approx(row.resolved)
    assert window.state.threshold_rules == [{"kind": "quantile", "value": 0.8, "n_bins": 20}]


def test_rules_are_applied_sorted_ascending(page, window):
    page.set_rules([ThresholdRule("fixed", 0.7), ThresholdRule("fixed", 0.2),
                    ThresholdRule("mean")])
    assert page.apply()
    t = window.state.thresholds
    assert list(t) == sorted(t)
    assert [r["kind"] for r in window.state.threshold_rules] == ["fixed", "mean", "fixed"]
    # the editor now lists the rules in threshold order too
    assert [r.kind_key for r in page.rows] == ["fixed", "mean", "fixed"]


@pytest.mark.parametrize("kind,text,words", [
    ("quantile", "150", "between 0% and 100%"),
    ("ventile", "25", "from 1 to 19"),
    ("top_k", "0", "at least 1"),
    ("fixed", "", "type a threshold value"),
])
def test_invalid_input_shows_a_message_not_a_traceback(page, window, kind, text, words):
    before = window.state.thresholds.copy()
    row = page.rows[0]
    row.kind.setCurrentIndex(row.kind.findData(kind))
    row.value.setText(text)
    page._rules_edited()
    assert not page.message.isHidden()
    assert words in page.message.text()
    assert "Rule 1" in page.message.text()
    assert row.threshold.text() == "—"
    assert not page.apply_button.isEnabled()
    assert page.apply() is False
    np.testing.assert_array_equal(window.state.thresholds, before)
    row.kind.setCurrentIndex(row.kind.findData("fixed"))
    row.value.setText("0.4")
    page._rules_edited()
    assert page.message.isHidden()
    assert page.apply()


def test_add_and_remove_rules(page):
    page.apply_preset(OREGON)
    page._add_clicked()
    assert len(page.rows) == 4
    page.rules_table.selectRow(0)
    page._remove_clicked()
    assert [r.kind_key for r in page.rows] == ["mean", "oregon_high", "quantile"]
    page.rules_table.clearSelection()
    page._remove_clicked()
    page._remove_clicked()
    assert len(page.rows) == 1
    page._remove_clicked()  # the last rule stays
    assert len(page.rows) == 1


def test_equal_thresholds_warn(page):
    page.set_rules([ThresholdRule("fixed", 0.5), ThresholdRule("fixed", 0.5)])
    assert not page.message.isHidden()
    assert "same threshold" in page.message.text()
    assert page.apply()
    assert "empty" in table_texts(page, "range")


# ------------------------------------------------------------------ the calibration table

def test_calibration_counts_equal_a_pandas_groupby(page, window, frame, data):
    page.set_rules([ThresholdRule("fixed", 0.2), ThresholdRule("fixed", 0.5)])
    assert page.apply()
    expected = pandas_tiers(frame, [0.2, 0.5])
    rows = page.result_rows
    assert len(rows) == 3 * data.n_groups
    for r in rows:
        size, mean = expected.loc[(r["tier_index"], r["group"])]
        assert r["rows"] == size
        assert r["outcome_rate"] == pytest.approx(mean)
    # the table shows the same numbers
    assert table_texts(page, "rows") == [f"{r['rows']:,}" for r in rows]
    assert table_texts(page, "outcome_rate") == [f"{100 * r['outcome_rate']:.1f} %"
                                                 for r in rows]
    assert [page.table.value_at(i, "outcome_rate") for i in range(len(rows))] == \
        [r["outcome_rate"] for r in rows]  # full precision behind the text
    # the shares of each group add up to 100%
    for g in data.group_names:
        assert sum(r["share"] for r in rows if r["group"] == g) == pytest.approx(1.0)
    # CAL: smallest rate / largest rate of each tier
    for j in range(3):
        rates = expected.xs(j, level=0)["mean"]
        assert page.cal[j] == pytest.approx(rates.min() / rates.max())
    assert page.table.text_at(0, "cal") == f"{page.cal[0]:.3f}"
    # each tier's rows follow one another, one per group; the tier's CAL on each of them
    assert table_texts(page, "tier") == [f"S{j + 1}" for j in range(3)
                                         for _ in range(data.n_groups)]
    assert table_texts(page, "cal") == [f"{page.cal[j]:.3f}" for j in range(3)
                                        for _ in range(data.n_groups)]
    assert table_texts(page, "group") == list(data.group_names) * 3
    # thresholds with the scores' decimals (4 on the sample)
    assert data.score_decimals == 4
    assert table_texts(page, "range")[0] == "< 0.2000"
    assert table_texts(page, "range")[4] == "0.2000 – 0.5000"
    assert "weight" not in [c.key for c in page.table.table.columns]  # no weight mapped


def test_undefined_rates_are_words_with_reasons(tiers_window):
    f = pd.DataFrame({"score": [.1, .2, .3, .4, .1, .6, .7, .8],
                      "outcome": [0, 1, 0, 1, 0, 1, 0, 1], "race": list("AAAABBBB")})
    d = prepare(f, ColumnMapping(score="score", label="outcome", groups=["race"]),
                min_group_size=1)
    w = tiers_window(d)
    page = w.page("tiers")
    page.set_rules([ThresholdRule("fixed", 0.5)])
    assert page.apply()
    rows = page.result_rows
    a_s2 = next(r for r in rows if r["tier"] == "S2" and r["group"] == "A")
    assert a_s2["rows"] == 0 and math.isnan(a_s2["outcome_rate"])
    i = rows.index(a_s2)
    assert page.table.text_at(i, "outcome_rate") == "undefined"
    tip = tip_at(page.table, i, "outcome_rate")
    assert "0/0" in tip and "'A'" in tip
    assert page.table.text_at(2, "cal") == "undefined"  # first row of tier S2
    assert "Fewer than two groups" in tip_at(page.table, 2, "cal")
    assert "missing" in page.chart_note.text()
    # never 0 or blank in the export either
    tables = page.export_tables()
    cal_rows = tables[0].rows
    assert tables[0].column("outcome_rate").text(cal_rows[i]["outcome_rate"]) == "undefined"
    assert "0/0" in plain_value(cal_rows[i]["outcome_rate"]).reason


def test_reversed_orientation(tiers_window, frame):
    d = prepare(frame, ColumnMapping(score="score", label="outcome", groups=["race"],
                                     higher_is_positive=False))
    w = tiers_window(d)
    page = w.page("tiers")
    page.set_rules([ThresholdRule("fixed", 0.3), ThresholdRule("fixed", 0.6)])
    assert page.apply()
    expected = pandas_tiers(frame, [0.3, 0.6], higher_is_positive=False)
    for r in page.result_rows:
        assert r["rows"] == expected.loc[(r["tier_index"], r["group"])]["size"]
    assert table_texts(page, "range")[0] == "> 0.6000"  # S1, the lowest risk: the highest
    assert r["range"] == "≤ 0.3000"


def test_follows_thresholds_set_elsewhere(page, window):
    """The Audit page's draggable line calls state.set_thresholds."""
    window.state.set_thresholds([0.35])
    assert [(r.kind_key, float(r.value.text())) for r in page.rows] == [("fixed", 0.35)]
    assert page.pending_label.text() == ""
    assert table_texts(page, "range")[0] == "< 0.3500"
    window.state.set_data(window.state.data)  # new data: back to the default threshold
    assert float(page.rows[0].value.text()) == pytest.approx(window.state.thresholds[0])


def test_no_change_marker_without_an_edit(tiers_window):
    """A threshold with more decimals than the scores (the mean, a dragged line) reads with
    the scores' decimals, and showing it changes nothing: no "not applied" marker until the
    analyst really edits, and Apply keeps the exact value."""
    rng = np.random.default_rng(3)
    f = pd.DataFrame({"score": rng.uniform(0, 10, 400).round(3),
                      "outcome": rng.integers(0, 2, 400), "race": ["A", "B"] * 200})
    d = prepare(f, ColumnMapping(score="score", label="outcome", groups=["race"]))
    assert d.score_decimals == 3
    w = tiers_window(d)
    page, st = w.page("tiers"), w.state
    mean = float(st.thresholds[0])
    assert mean == pytest.approx(float(np.mean(f["score"]))) and round(mean, 3) != mean
    row = page.rows[0]
    assert row.value.text() == row.threshold.text() == format_score(mean, 3)
    assert page.pending_label.text() == ""
    assert page.apply()
    assert st.thresholds[0] == mean  # exactly: the shown rounding is not applied
    # a line dragged on the Audit page
    st.set_thresholds([4.418502916018146])
    row = page.rows[0]
    # between two 3-decimal scores: one more decimal, never rounded onto a score it is not
    assert row.value.text() == "4.4185" and page.pending_label.text() == ""
    assert "4.418502916018146" in row.threshold.toolTip()  # the exact value
    row.value.setText("4.4185")  # typed again as shown: still the same threshold
    page._rules_edited()
    assert page.pending_label.text() == ""
    row.value.setText("4.5")  # a real edit
    page._rules_edited()
    assert page.pending_label.text() == "● Changes not applied yet"
    row.value.setText("4.4185")
    page._rules_edited()
    assert page.pending_label.text() == ""
    # per group: the cells read as the rules do, their exact values kept
    page.group_check.setChecked(True)
    assert [page.group_table.item(g, 0).text() for g in range(2)] == ["4.4185", "4.4185"]
    np.testing.assert_array_equal(page.group_values(), [[4.418502916018146]] * 2)
    assert page.apply()
    assert page.pending_label.text() == ""
    np.testing.assert_array_equal(st.thresholds, [[4.418502916018146]] * 2)
    # a project keeps the exact values
    saved = json.loads(json.dumps(page.settings()))
    assert saved["rules"][0]["value"] == "4.418502916018146"
    assert saved["group_thresholds"]["A"] == ["4.418502916018146"]
    other = tiers_window(d, "other.ini")
    other.page("tiers").apply_settings(saved)
    np.testing.assert_array_equal(other.state.thresholds, st.thresholds)
    assert other.page("tiers").pending_label.text() == ""
    assert other.page("tiers").group_table.item(0, 0).text() == "4.4185"


# ------------------------------------------------------------------ group-specific

def test_group_specific_thresholds(page, window, frame, data):
    page.set_rules([ThresholdRule("fixed", 0.3), ThresholdRule("fixed", 0.6)])
    page.group_check.setChecked(True)
    assert page.group_table.rowCount() == data.n_groups
    assert page.group_table.columnCount() == 2
    np.testing.assert_allclose(page.group_values(), [[0.3, 0.6]] * data.n_groups)
    page.set_group_value(1, 0, 0.25)  # Group B's first threshold
    assert page.apply()
    st = window.state
    assert st.group_specific
    assert st.thresholds.shape == (data.n_groups, 2)
    assert st.thresholds[1, 0] == 0.25
    for r in page.result_rows:
        t = [0.25, 0.6] if r["group"] == data.group_names[1] else [0.3, 0.6]
        sub = frame[frame["race"] == r["group"]]
        expected = pandas_tiers(sub, t)
        assert r["rows"] == expected.loc[(r["tier_index"], r["group"])]["size"]
    assert "per group" in page.applied_label.text()
    # bad cell -> a message, state unchanged
    page.group_table.item(0, 0).setText("abc")
    assert page.apply() is False
    assert "type a number" in page.message.text()
    page.group_check.setChecked(False)
    assert page.apply()
    assert not window.state.group_specific


def test_group_specific_thresholds_set_elsewhere(page, window, data):
    t = np.array([[0.4], [0.5], [0.6], [0.7]])
    window.state.set_thresholds(t, group_specific=True)
    assert page.group_check.isChecked()
    np.testing.assert_allclose(page.group_values(), t)
    assert page.pending_label.text() == ""


# ------------------------------------------------------------------ settings, export, plot

def test_settings_round_trip(tiers_window, page, window, data):
    page.apply_preset(OREGON)
    page.group_check.setChecked(True)
    page.set_group_value(2, 1, 0.4)
    assert page.apply()
    saved = json.loads(json.dumps(page.settings()))  # JSON-able, as in a project file
    assert saved["group_specific"] and saved["rules"][0]["kind"] == "oregon_low"

    other = tiers_window(data, "other.ini")
    page2 = other.page("tiers")
    page2.apply_settings(saved)
    assert page2.settings() == saved
    assert other.state.group_specific
    np.testing.assert_allclose(other.state.thresholds, window.state.thresholds)
    assert other.state.threshold_rules == window.state.threshold_rules
    # an invalid saved rule is shown with its message, never raised
    page2.apply_settings({"rules": [{"kind": "quantile", "value": "150", "n_bins": 20}],
                          "group_specific": False})
    assert "between 0% and 100%" in page2.message.text()


def test_export_tables(tmp_path, page, data):
    from fairdesk.reports.workbook import Table, write_workbook

    page.apply_preset(OREGON)
    assert page.apply()
    tables = page.export_tables()
    assert all(isinstance(t, Table) for t in tables)
    calibration, wide = tables
    assert len(calibration.rows) == 4 * data.n_groups
    assert [c.key for c in calibration.columns] == ["tier", "range", "group", "rows", "share",
                                                    "outcome_rate", "cal"]
    assert wide.charts and wide.charts[0].kind == "bar"
    assert len(wide.charts[0].value_keys) == data.n_groups
    assert [r["tier"] for r in wide.rows] == ["S1", "S2", "S3", "S4"]
    path = write_workbook(tmp_path / "tiers.xlsx", about={"Test": {"k": 1}}, tables=tables)
    assert path.exists()
    settings = page.export_settings()
    assert "Oregon" in settings["Threshold rules"]
    # the window's table is the export's first table
    assert page.table.table.columns == calibration.columns


def test_workbook_reads_as_the_window(qtbot, tmp_path, loaded_window):
    """The sample opened as File ▸ Open does, the Tiers section exported by the window."""
    import openpyxl

    window, page = loaded_window, loaded_window.page("tiers")
    page.set_rules([ThresholdRule("fixed", 0.2), ThresholdRule("fixed", 0.5)])
    assert page.apply()
    wait_settled(qtbot, window)
    target = tmp_path / "tiers.xlsx"
    window.export_workbook(str(target), ["tiers"])
    wait_idle(qtbot, window)
    wb = openpyxl.load_workbook(target)
    sheet = wb["Tiers"]
    rows = list(sheet.iter_rows())
    def words(cell):
        return str(cell.value).replace("\n", " ")

    header = next(i for i, r in enumerate(rows) if [words(c) for c in r[:3]] == [
        "Tier", "Score range", "Group"])
    first = {words(c): rows[header + 1][i] for i, c in enumerate(rows[header]) if c.value}
    assert first["Score range"].value == page.table.text_at(0, "range") == "< 0.2000"
    assert first["Outcome rate"].value == pytest.approx(page.table.value_at(0, "outcome_rate"),
                                                        rel=1e-12)  # Excel keeps 15 digits
    assert first["Outcome rate"].number_format == "0.0%"  # 23.5 % as in the window
    about = " ".join(str(c.value) for r in wb[wb.sheetnames[0]].iter_rows() for c in r if c.value)
    assert "0.2000, 0.5000" in about


def test_save_plot_png_and_svg(tmp_path, page):
    page.apply_preset(OREGON)
    assert page.apply()
    png = page.save_plot(tmp_path / "plot.png")
    img = QImage(str(png))
    assert not img.isNull() and img.width() >= 1200
    svg = page.save_plot(tmp_path / "plot.svg")
    text = svg.read_text(encoding="utf-8")
    assert "<svg" in text and "Group A" in text  # the saved picture names the groups
    # the legend drawn for the file is gone again: on screen it stays beside the plot
    assert not [i for i in page.chart.plot.scene().items() if isinstance(i, pg.LegendItem)]


def test_save_plot_dialog_starts_beside_the_data_file(tmp_path, page, monkeypatch):
    import fairdesk.gui.plots as plots

    page.state.table = type("T", (), {"source": type("S", (), {
        "path": str(tmp_path / "scores.csv")})()})()
    asked = []

    def answer(parent, title, start, filters):
        asked.append(start)
        return str(tmp_path / "chart"), "SVG drawing (*.svg)"

    monkeypatch.setattr(plots.QFileDialog, "getSaveFileName", answer)
    page.chart.save_button.click()
    assert asked == [str(tmp_path / "scores tier outcome rates.png")]
    assert (tmp_path / "chart.svg").stat().st_size > 0
    assert page.chart.name == "tier outcome rates"


def test_bar_colours_follow_the_palette(page, data):
    from fairdesk.gui.palette import group_color

    page.apply_preset(OREGON)
    assert page.apply()
    assert len(page.chart.bar_items) == 4
    for g, item in enumerate(page.chart.bar_items):
        assert item.opts["brush"].color().name() == group_color(g).name()
    # the groups are named beside the plot, never over the bars
    legend = page.chart.legend
    assert legend.names() == list(data.group_names) and not legend.isHidden()
    assert page.chart.isAncestorOf(legend) and not legend.isAncestorOf(page.chart.widget)


def test_page_fits_a_laptop_window(qtbot, tiers_window, data):
    """At 1366 × 768 the page fills the window: nothing scrolls, the chart is whole."""
    w = tiers_window(data)
    w.resize(1366, 768)
    w.show()
    qtbot.waitExposed(w)
    wait_settled(qtbot, w)
    page = w.page("tiers")
    view = page.parentWidget()  # the stack, or a scroll area's view
    wait_until(qtbot, lambda: page.height() <= view.height())
    assert page.chart.widget.height() >= 200


def test_no_data(tiers_window):
    w = tiers_window(None)
    page = w.page("tiers")
    assert page.export_tables() == []
    assert page.apply() is False
    assert page.table.source.rowCount() == 0


# ------------------------------------------------------------------ help dialogs

def test_glossary_has_every_rate_and_definition(qtbot):
    dlg = GlossaryDialog()
    qtbot.addWidget(dlg)
    titles = dlg.titles()
    text = dlg.all_text()
    for info in list(RATES.values()) + list(EXTRA_RATES.values()):
        assert info.name in titles
        assert info.formula in text
    for key, d in DEFINITIONS.items():
        assert f"{d.name} ({key})" in titles
    for word in ("AUC", "Cross-AUC", "Kallus", "Risk tiers", "Calibration by tier",
                 "Bootstrap", "Undefined (0/0)", "higher tier", "weaker"):
        assert word in text
    items = [dlg.list.item(i).text().strip() for i in range(dlg.list.count())]
    assert RATES["fpr"].name in items


def test_glossary_filter_and_links(qtbot):
    dlg = GlossaryDialog(select="tiers")
    qtbot.addWidget(dlg)
    assert dlg.current_key() == "tiers"
    dlg.filter.setText("cross-auc")
    assert "xauc" in dlg.visible_keys()
    assert dlg.current_key() in dlg.visible_keys()
    dlg.filter.setText("false positive")
    assert "rate:fpr" in dlg.visible_keys() and "rate:tpr" not in dlg.visible_keys()
    dlg.filter.setText("qwertyuiop")
    assert dlg.visible_keys() == []
    assert "No term matches" in dlg.browser.toPlainText()
    dlg._link(QUrl("#def:PE"))
    assert dlg.current_key() == "def:PE"
    assert "Predictive equality" in dlg.browser.toPlainText()


@pytest.mark.parametrize("answers,rate", [
    (["punitive", "among_all_without_need"], "fpr"),
    (["punitive", "among_flagged"], "fdr"),
    (["punitive", "fp_group_size"], "fp_group_size"),
    (["assistive", "reach_most"], "fnr"),
    (["assistive", "reach_few"], "fnr"),
    (["assistive", "reach_most", "missed_among_need"], "fnr"),
    (["assistive", "reach_most", "missed_among_unselected"], "for"),
    (["assistive", "reach_most", "missed_group_size"], "fn_group_size"),
])
def test_which_measure(qtbot, answers, rate):
    dlg = WhichMeasureDialog()
    qtbot.addWidget(dlg)
    assert dlg.recommended_rate is None
    assert not dlg.open_button.isEnabled()
    for a in answers:
        dlg.buttons[a].setChecked(True)
    assert dlg.recommended_rate == rate
    assert dlg.open_button.isEnabled()
    text = dlg.result_label.text()
    info = RATES.get(rate) or EXTRA_RATES[rate]
    assert info.formula in text or "TP / (TP + FN)" in text
    if "reach_few" in answers:
        assert "Los Angeles" in text and "Recall balancing" in text
    dlg.open_button.click()
    assert dlg.result() == QDialog.Accepted


def test_which_measure_branches_and_accept(qtbot):
    dlg = WhichMeasureDialog()
    qtbot.addWidget(dlg)
    dlg.show()
    assert dlg.q2p.isHidden() and dlg.q2a.isHidden() and dlg.q3a.isHidden()
    dlg.buttons["punitive"].setChecked(True)
    assert not dlg.q2p.isHidden() and dlg.q2a.isHidden()
    dlg.buttons["among_flagged"].setChecked(True)
    dlg.buttons["assistive"].setChecked(True)  # switching branch drops the other answer
    assert dlg.recommended_rate is None
    dlg.buttons["reach_most"].setChecked(True)
    assert not dlg.q3a.isHidden()
    with qtbot.waitSignal(dlg.accepted, timeout=HANG_MS):
        dlg.open_button.click()
    assert dlg.recommended_rate == "fnr"


# ------------------------------------------------------------------ screenshots

def _on_window(window, dialog) -> QImage:
    """The dialog drawn centred over the dimmed main window (offscreen has no compositor)."""
    base = window.grab()
    p = QPainter(base)
    p.fillRect(base.rect(), QColor(0, 0, 0, 90))
    shot = dialog.grab()
    p.drawPixmap((base.width() - shot.width()) // 2, (base.height() - shot.height()) // 2, shot)
    p.end()
    return base


def test_screenshots(qtbot, page, window):
    SCREENS.mkdir(parents=True, exist_ok=True)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    page.apply_preset(OREGON)
    assert page.apply()
    wait_settled(qtbot, window)
    shot = window.grab()
    assert (shot.width(), shot.height()) == (1280, 800)
    assert shot.save(str(SCREENS / "tiers_page.png"))

    glossary = GlossaryDialog(window, select="def:ERB")
    qtbot.addWidget(glossary)
    glossary.show()
    qtbot.waitExposed(glossary)
    assert _on_window(window, glossary).save(str(SCREENS / "glossary.png"))
    glossary.close()

    which = WhichMeasureDialog(window)
    qtbot.addWidget(which)
    which.show()
    qtbot.waitExposed(which)
    which.buttons["assistive"].setChecked(True)
    which.buttons["reach_few"].setChecked(True)
    wait_settled(qtbot, window)
    assert _on_window(window, which).save(str(SCREENS / "which_measure.png"))
    which.close()


def test_without_an_outcome_column(tiers_window, frame):
    d = prepare(frame, ColumnMapping(score="score", groups=["race"]), require_label=False)
    w = tiers_window(d)
    page = w.page("tiers")
    page.apply_preset(OREGON)
    assert page.apply()
    assert sum(r["rows"] for r in page.result_rows) == d.n
    assert set(table_texts(page, "outcome_rate")) == {"undefined"}
    assert "No outcome column" in tip_at(page.table, 0, "outcome_rate")
    assert "No outcome column" in page.chart_note.text()
