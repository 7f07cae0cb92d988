"""Issue 14 on the Audit page: the groups each measure compares (and the toggle), the pair
behind each value, and 95 % intervals (exact for rates, bootstrap for measures)."""

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

from conftest import ROOT, SHARED, wait_idle  # noqa: E402
from fairdesk.audit import run_audit  # noqa: E402
from fairdesk.metrics.fairness import ALL_GROUPS  # noqa: E402
from fairdesk.metrics.intervals import clopper_pearson  # noqa: E402
from fairdesk.schema import ColumnMapping  # noqa: E402
from fairdesk.validation import prepare  # noqa: E402

SCREENS = ROOT / "artifacts" / "screens"


@pytest.fixture
def page(make_window):
    from fairdesk.gui.pages.audit_page import AuditPage
    window = make_window(page_classes=[AuditPage], settings_name="h.ini")
    f = pd.read_csv(SHARED / "compas_two_year.csv")
    data = prepare(f, ColumnMapping(score="decile_score", label="two_year_recid",
                                    groups=["race", "sex"]))
    window.state.set_data(data)
    window.state.set_thresholds(np.array([5.0]), group_specific=False)
    p = window.page("audit")
    p.window_ref = window
    return p


def fair_row(page, key):
    """The fairness table's row showing measure ``key``'s value."""
    return next(r for r, row in enumerate(page.fair_table.table.row_dicts())
                if row["row_kind"] == "value" and row["measure_key"] == key)


def tip(view, r, key):
    return view.model().index(r, view.source.column_index(key)).data(Qt.ToolTipRole)


def test_measures_over_reliable_groups_named_and_toggle_restores_all(page, qtbot):
    data = page.state.data
    ft = page.fair_table
    want = run_audit(data, [5.0])
    r = fair_row(page, "ERB")
    assert ft.value_at(r, "value") == pytest.approx(want.fairness["ERB"][0])
    pair = ft.text_at(r, "pair")
    assert pair.startswith(want.details("ERB", 0).pair_text(data.group_names))
    assert "Left out: Asian, Female;" in pair
    assert "2 rows, fewer than the minimum group size 30" in tip(ft, r, "pair")
    assert "Asian, Female" in page.fair_groups_note.text()
    # no bootstrap yet: the interval says so instead of showing a range
    assert ft.text_at(r, "interval") == "not estimated"
    assert "no bootstrap" in tip(ft, r, "interval")
    # the balance bar carries the value (the number in its tooltip and copy)
    assert ft.value_at(r, "balance") == pytest.approx(want.fairness["ERB"][0])
    assert "1 = the groups are equal" in tip(ft, r, "balance")
    # every group compared: the old values (ERB pinned at 0 by a tiny group)
    page.all_groups_check.setChecked(True)
    old = run_audit(data, [5.0], reliability=ALL_GROUPS)
    assert ft.value_at(r, "value") == pytest.approx(old.fairness["ERB"][0])
    assert "Left out" not in ft.text_at(r, "pair") or \
        old.details("ERB", 0).excluded
    assert "Below the minimum size" in page.fair_groups_note.text()
    assert page.settings()["all_groups"] is True
    page.all_groups_check.setChecked(False)


def test_rate_intervals_in_group_table_are_exact_binomial(page):
    res = page.result
    t = page.group_table
    assert page.groups_as_columns
    mi = page._group_cols.index(("ci", "fpr"))
    g = 0
    c = res.counts
    lo, hi = clopper_pearson(c.fp[g, 0], c.fp[g, 0] + c.tn[g, 0])
    assert t.value_at(mi, "g0") == (pytest.approx(lo), pytest.approx(hi))
    assert t.text_at(mi, "g0") == f"{100 * lo:.1f}–{100 * hi:.1f} %"  # as the rate: 44.6 %
    assert "Clopper–Pearson" in tip(t, mi, "g0")
    page.orientation.setChecked(False)  # groups as rows: the same interval
    assert t.text_at(g, "ci:fpr") == f"{100 * lo:.1f}–{100 * hi:.1f} %"


def test_bootstrap_gives_fairness_intervals_and_screenshot(page, qtbot):
    page.boot_b.setValue(40)
    page.boot_seed.setValue(11)
    page.run_bootstrap()
    wait_idle(qtbot, page.window_ref)
    assert page.bootstrap is not None
    ft = page.fair_table
    r = fair_row(page, "EO")
    lo, hi, how = page.result.fairness_interval("EO", 0)
    text = ft.text_at(r, "interval")
    if np.isnan(lo):
        assert text == "not estimated"
    else:
        assert text == f"{lo:.3f} to {hi:.3f}" and lo < hi  # ratios, as the value
        assert "40 resamples, seed 11" in tip(ft, r, "interval")
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.window_ref.resize(1500, 950)
    page.table_tabs.setCurrentIndex(1)
    page.window_ref.show()
    qtbot.waitExposed(page.window_ref)
    page.window_ref.grab().save(str(SCREENS / "audit_fairness_reliable_groups.png"))


def test_glossary_documents_zero_count_rules_reliable_groups_and_intervals(qtbot):
    from fairdesk.gui.help_dialogs import glossary_entries
    entries = {e.key: e for e in glossary_entries()}
    zero = entries["zero_counts"].body
    assert "Only 0/0 is undefined" in zero and "infinite" in zero and "NPV alone" in zero
    rel = entries["reliable"].body
    assert "minimum group size" in rel and "10 people in the denominator" in rel and "--all-groups" in rel
    iv = entries["intervals"].body
    assert "Clopper–Pearson" in iv and "bootstrap percentile" in iv and "zero-width" in iv
    assert "infinite FN/FP" in entries["def:TE"].body


def test_recall_page_small_group_option(make_window):
    from fairdesk.gui.pages.recall_page import RecallPage
    window = make_window(page_classes=[RecallPage], settings_name="r.ini")
    page = window.page("recall")
    assert not page.small_sets_target.isChecked()
    s = page.current_settings()
    assert s.small_groups_set_target is False and s.min_group_size == window.state.min_group_size
    page.small_sets_target.setChecked(True)
    assert page.current_settings().small_groups_set_target is True


def test_threshold_line_snaps_to_the_decile_scores(page, qtbot):
    """On decile scores a dragged line rests on a decile, and its label says which."""
    line = page.drag_line
    assert page.plots.drag_label.format == "5"
    with qtbot.waitSignal(page.dragUpdated):
        line.setValue(6.3)  # what a mouse move does
    assert line.value() == 6.0 and "≥ 6" in page.thr_label.text()
    line.setValue(7.8)
    line.sigPositionChangeFinished.emit(line)  # release
    assert list(page.state.thresholds) == [8.0]
    assert page.plots.drag_label.format == "8"
    assert page.result.thresholds[0] == 8.0
