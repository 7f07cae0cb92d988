"""The Households page (pytest-qt, offscreen): results match the engine, settings re-run
it, missing columns and bad input give messages, export, settings round trip, plots,
screenshots at 1280×800."""

import math
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from conftest import HANG_MS, export_and_read, grab_to  # noqa: E402

from PySide6.QtCore import Qt  # noqa: E402

from fairdesk.engines.households import (HouseholdSettings, ProtocolRules,  # noqa: E402
                                         audit_households)
from fairdesk.gui.pages.households_page import HouseholdsPage  # noqa: E402
from fairdesk.io.loading import load_table  # noqa: E402
from fairdesk.present.formats import format_rate, format_score  # noqa: E402
from fairdesk.schema import ColumnMapping  # noqa: E402
from fairdesk.validation import prepare  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "resources" / "sample" / "sample_scores.csv"
SCREENS = ROOT / "artifacts" / "screens"
MAPPING = dict(score="score", label="outcome", groups=["race"], household="household_id",
               split="split", extras=["age", "alleged_victim"])


@pytest.fixture(scope="module")
def frame(sample_frame):
    return sample_frame


@pytest.fixture(scope="module")
def data(frame):
    return prepare(frame, ColumnMapping(**MAPPING))


@pytest.fixture
def window(make_window, data):
    return make_window([HouseholdsPage], data=data)


@pytest.fixture
def errors(window):
    return window.errors


@pytest.fixture
def page(window):
    return window.page("households")


def wait_result(qtbot, page, previous=None):
    qtbot.waitUntil(lambda: page.result is not None and page.result is not previous
                    and page._job is None, timeout=HANG_MS)
    return page.result


def cell(page, measure, group, policy):
    """(text, tooltip, value) of the policy table's cell for a measure, group and policy."""
    view = page.policy_table
    c = view.source.column_index(f"p{policy}")
    for r in range(view.source.rowCount()):
        if view.text_at(r, "measure") == measure and view.text_at(r, "group") == group:
            return (view.text_at(r, c), view.model().index(r, c).data(Qt.ToolTipRole),
                    view.value_at(r, c))
    raise KeyError((measure, group))


def header(view, c, role=Qt.DisplayRole):
    return view.model().headerData(c, Qt.Horizontal, role)


# ------------------------------------------------------------------ results

def test_guesses_columns_and_matches_the_engine(qtbot, page, data):
    res = wait_result(qtbot, page)
    assert page.flag_combo.currentData() == "alleged_victim"
    assert page.age_combo.currentData() == "age"
    assert page.ref_combo.currentData() == "train"  # a "train" split is the natural reference
    expected = audit_households(data, HouseholdSettings(flag="alleged_victim", age="age",
                                                        reference_split="train", features=()))
    assert [p.number for p in res.policies] == [1, 2, 3, 4, 5, 6, 7]
    for p, q in zip(res.policies, expected.policies):
        assert p.auc_overall == pytest.approx(q.auc_overall, nan_ok=True)  # protocols: no AUC
        np.testing.assert_allclose(p.fpr, q.fpr)
        np.testing.assert_allclose(p.xauc, q.xauc)
    # the table shows the numbers
    p3 = expected.policy(3)
    g = expected.group_names.index("Group B")
    text, _, value = cell(page, "AUC", "overall", 3)
    assert text == f"{p3.auc_overall:.3f}" and value == pytest.approx(p3.auc_overall)
    assert cell(page, "xAUC", "Group B", 3)[0] == f"{p3.xauc[g]:.3f}"
    text, tip, value = cell(page, "FPR", "Group B", 3)
    assert text == format_rate(p3.fpr[g]) == f"{100 * p3.fpr[g]:.1f} %"  # one rate format
    assert value == pytest.approx(p3.fpr[g]) and f"{100 * p3.fpr[g]:.2f} %" in tip
    assert cell(page, "Units", "overall", 3)[0] == f"{expected.n_households:,}"
    t = page.policy_table
    tips = {t.text_at(r, "measure"): t.model().index(r, 0).data(Qt.ToolTipRole)
            for r in range(t.source.rowCount())}
    assert "Cross-AUC" in tips["xAUC"] and "False positive rate" in tips["FPR"]
    # numbered as the ACLU audit: 4 = protocol / individual, 6 = flagged (alleged victim) max
    assert header(t, 2 + 3) == "4\nProtocol\nperson"
    assert header(t, 2 + 5) == "6\nFlagged\nperson"
    assert "Maximum over flagged members" in header(t, 2 + 5, Qt.ToolTipRole)
    assert "household" in header(t, 2 + 4, Qt.ToolTipRole)
    # protocols: AUC not reported (the audit's Table 4); xAUC with its direction; footnote 5
    text, tip, _ = cell(page, "AUC", "overall", 4)
    assert text == "not reported" and "Table 4" in tip
    assert "outside 'Group B'" in cell(page, "xAUC", "Group B", 3)[1]
    assert cell(page, "FPR of the rest", "Group B", 3)[0] == format_rate(p3.fpr_rest[g])
    # group names carry their colour swatch
    r = [t.text_at(i, "group") for i in range(t.source.rowCount())].index("Group B")
    assert t.model().index(r, 1).data(Qt.DecorationRole) is not None
    np.testing.assert_allclose(res.edges, expected.edges)
    e = page.edges_table
    assert e.source.rowCount() == 20
    assert e.text_at(1, "lower") == format_score(expected.edges[0], data.score_decimals)
    assert e.value_at(1, "lower") == expected.edges[0]
    assert e.text_at(0, "lower") == "—"  # the lowest bin has no lower edge


def test_settings_rerun_the_engine(qtbot, page, data):
    first = wait_result(qtbot, page)
    page.ref_combo.setCurrentIndex(page.ref_combo.findData(None))  # all rows
    page.bins_spin.setValue(10)
    assert page.cutoff_spin.value() == 8  # the default cutoff follows the scale
    res = wait_result(qtbot, page, first)
    assert res.settings.bins == 10 and res.settings.cutoff_value() == 8
    assert res.reference == "all rows" and len(res.edges) == 9
    exp = audit_households(data, HouseholdSettings(bins=10, cutoff=8, flag="alleged_victim",
                                                   age="age", features=()))
    assert res.policy(2).fpr_overall == pytest.approx(exp.policy(2).fpr_overall)
    # protocol rules: High-risk from 9 of 10 with anyone under 16, Low-risk up to 5
    page.high_score.setValue(9)
    page.low_score.setValue(5)
    res2 = wait_result(qtbot, page, res)
    exp2 = audit_households(data, HouseholdSettings(
        bins=10, cutoff=8, flag="alleged_victim", age="age", features=(),
        protocol=ProtocolRules(9, 16, 5, 7)))
    assert res2.policy(6).fpr_overall == pytest.approx(exp2.policy(6).fpr_overall)
    assert res2.policy(6).distribution[-1].tolist() == exp2.policy(6).distribution[-1].tolist()
    page.allegheny_preset()
    assert (page.high_score.value(), page.high_age.value(), page.low_score.value(),
            page.low_age.value()) == (18, 16, 12, 7)
    res3 = wait_result(qtbot, page, res2)
    page.member_combo.setCurrentIndex(page.member_combo.findData("all"))
    res4 = wait_result(qtbot, page, res3)
    assert res4.settings.membership == "all"
    assert res4.policy(3).n.sum() < res3.policy(3).n.sum()  # mixed households drop out


def test_without_flag_and_age_policies_are_marked(qtbot, page):
    first = wait_result(qtbot, page)
    page.flag_combo.setCurrentIndex(page.flag_combo.findData(None))
    page.age_combo.setCurrentIndex(page.age_combo.findData(None))
    res = wait_result(qtbot, page, first)
    assert [p.available for p in res.policies] == [True, True, True, False, False, False, False]
    text, tip, _ = cell(page, "AUC", "overall", 4)  # policy 4: protocol, individual outcome
    assert text == "—" and "age column" in tip
    assert "flag column" in cell(page, "AUC", "overall", 6)[1]
    assert "Policy 6 not computed" in page.summary.text()
    assert page.score_policy.findData(4) < 0  # only computed policies can be drawn


def test_bad_flag_column_gives_a_message_not_a_dialog(qtbot, page, errors, frame):
    first = wait_result(qtbot, page)
    page.flag_combo.addItem("age (not 0/1)", "age")  # as if a non-binary column were chosen
    page.flag_combo.setCurrentIndex(page.flag_combo.count() - 1)
    qtbot.waitUntil(lambda: not page.message.isHidden(), timeout=HANG_MS)
    assert "'age'" in page.message.text() and "0/1" in page.message.text()
    assert "row" in page.message.text()
    assert page.result is None and errors == []
    page.flag_combo.setCurrentIndex(page.flag_combo.findData("alleged_victim"))
    wait_result(qtbot, page, first)
    assert page.message.isHidden()


def test_messages_without_households_or_data(make_window, frame):
    window = make_window([HouseholdsPage], "n.ini")
    page = window.page("households")
    assert page.stack.currentWidget() is page.empty
    assert "Open a data file" in page.empty.text()
    no_hh = prepare(frame, ColumnMapping(score="score", label="outcome", groups=["race"]))
    window.state.set_data(no_hh)
    assert page.stack.currentWidget() is page.empty
    assert "household id" in page.empty.text()
    assert page.export_tables() == []


def test_feature_disparity_tab(qtbot, page, frame):
    wait_result(qtbot, page)
    page.fa_combo.setCurrentIndex(page.fa_combo.findData("Group B"))
    page.fb_combo.setCurrentIndex(page.fb_combo.findData("Group A"))
    t = page.feature_table
    assert t.source.rowCount() == 1
    assert t.text_at(0, "feature") == "alleged_victim"
    b = frame.loc[frame["race"] == "Group B", "alleged_victim"].mean()
    a = frame.loc[frame["race"] == "Group A", "alleged_victim"].mean()
    assert t.text_at(0, "ratio") == f"{b / a:.2f}"
    assert t.value_at(0, "ratio") == pytest.approx(b / a)
    assert t.text_at(0, "share_a") == format_rate(b)
    assert "age" in page.feature_note.text()  # not 0/1, left out


# ------------------------------------------------------------------ export and settings

def test_export_workbook(qtbot, window, page, tmp_path, data):
    wait_result(qtbot, page)
    window.state.set_table(load_table(SAMPLE), ColumnMapping(**MAPPING))  # as File ▸ Open does
    window.state.set_data(data)
    wait_result(qtbot, page)
    page.score_policy.setCurrentIndex(page.score_policy.findData(6))
    tables = page.export_tables()
    sheets = [t.sheet for t in tables]
    assert sheets[0] == "Household policies"
    assert "Scores, policy 6" in sheets and "Feature disparity" in sheets
    assert page.export_settings()["Flag column"] == "alleged_victim"
    path = tmp_path / "tables.xlsx"
    wb, about = export_and_read(qtbot, window, path)
    assert "Household policies" in wb.sheetnames and "Bin edges" in wb.sheetnames
    # the page's settings, one row per setting (issue 15)
    assert any(str(v).startswith("Households: ") for v in about)


def test_settings_round_trip(qtbot, make_window, page, data):
    wait_result(qtbot, page)
    page.bins_spin.setValue(10)
    page.cutoff_spin.setValue(9)
    page.member_combo.setCurrentIndex(page.member_combo.findData("majority"))
    page.tie_check.setChecked(False)
    page.low_age.setValue(6)
    page.plot_tabs.setCurrentIndex(1)
    page.size_mode.setCurrentIndex(1)
    saved = page.settings()
    assert saved["bins"] == 10 and saved["cutoff"] == 9 and saved["membership"] == "majority"
    other = make_window([HouseholdsPage], "o.ini", data).page("households")
    other.apply_settings(saved)
    res = wait_result(qtbot, other)
    assert other.settings() == {**saved, "chart_policy": other.score_policy.currentData(),
                                "size_score": other.size_score.currentData()}
    assert res.settings.protocol.low_all_age_at_least == 6 and res.settings.tie_break is False
    # settings arriving before the data wait for it
    late = make_window([HouseholdsPage], "l.ini").page("households")
    late.apply_settings(saved)
    late.state.set_data(data)
    res = wait_result(qtbot, late)
    assert res.settings.bins == 10 and res.settings.membership == "majority"


def test_plots_draw_and_save(qtbot, page, tmp_path):
    res = wait_result(qtbot, page)
    bars = [i for i in page.score_panel.plot.items if type(i).__name__ == "BarGraphItem"]
    assert len(bars) == len(res.group_names)
    # the legend is beside the plot (a side list), not an item over the data
    assert page.score_panel.legend.names() == res.group_names
    assert page.score_panel.plot.legend is None
    page.score_policy.setCurrentIndex(page.score_policy.findData(5))  # protocol, household
    ticks = page.score_panel.plot.getAxis("bottom")._tickLevels[0]
    assert [t[1] for t in ticks] == ["Low-risk", "No protocol", "High-risk"]
    page.size_mode.setCurrentIndex(page.size_mode.findData("ratio"))
    lines = [i for i in page.size_panel.plot.items if type(i).__name__ == "PlotDataItem"]
    assert len(lines) >= 1
    s = res.sizes[page.size_score.currentData()]
    y = lines[0].getData()[1]
    np.testing.assert_allclose(y, s.ratio[0][np.isfinite(s.ratio[0])])
    assert page.size_panel.legend.names()[-1] == "equal (1)"
    for name in ("scores.png", "scores.svg"):
        assert page.score_panel.save(tmp_path / name).stat().st_size > 0
    assert page.size_panel.save(tmp_path / "size.png").stat().st_size > 0


# ------------------------------------------------------------------ screenshots

def test_screenshots(qtbot, window, page):
    SCREENS.mkdir(parents=True, exist_ok=True)
    window.show()
    qtbot.waitExposed(window)
    wait_result(qtbot, page)
    grab_to(qtbot, window, "households_1_policies.png")
    page.plot_tabs.setCurrentIndex(1)
    page.score_policy.setCurrentIndex(page.score_policy.findData(6))
    page.table_tabs.setCurrentIndex(1)
    grab_to(qtbot, window, "households_2_size_edges.png")
    page.plot_tabs.setCurrentIndex(0)
    page.table_tabs.setCurrentIndex(2)
    page.size_mode.setCurrentIndex(1)
    grab_to(qtbot, window, "households_3_protocol_features.png")
    page.plot_tabs.setCurrentIndex(1)
    grab_to(qtbot, window, "households_4_window.png")
    assert page.size_panel.grab().save(str(SCREENS / "households_4_size_ratio.png"))
    assert not math.isnan(page.result.policy(1).auc_overall)


def test_add_as_scenario_screens_in_by_the_shown_score(qtbot, page, data):
    import numpy as np

    from fairdesk.engines.households import HIGH, HouseholdSettings, communicated_scores
    from fairdesk.metrics.thresholds import assign_bins, bin_edges
    from fairdesk.scenarios import decisions

    wait_result(qtbot, page)
    hs = page.current_settings()
    for key in ("household_max", "protocol"):
        page.scenario_policy.setCurrentIndex(page.scenario_policy.findData(key))
        assert page.add_as_scenario()
        sc = page.state.scenarios[-1]
        got = decisions(sc, data).probability
        # by hand: bins on the reference rows, then what each household is shown
        ref = np.ones(data.n, bool) if hs.reference_split is None else (data.split.astype(str) == hs.reference_split)
        bins = assign_bins(data.oriented, bin_edges(data.oriented[ref], hs.bins))
        flag = np.asarray(data.extras[hs.flag], dtype=float) > 0 if hs.flag else None
        age = np.asarray(data.extras[hs.age], dtype=float) if hs.age else None
        shown = communicated_scores(bins, data.households, flag, age, hs.protocol)
        if key == "protocol":
            from fairdesk.engines.households import PROTOCOL_LABELS
            expected = (shown["protocol"] == PROTOCOL_LABELS[HIGH]).astype(float)
        else:
            expected = (shown[key] >= hs.cutoff_value()).astype(float)
        np.testing.assert_array_equal(got, expected)
