"""The window on an analyst's screen: the first screen starts the work."""

from __future__ import annotations

from PySide6.QtCore import Qt

from conftest import HANG_MS


def test_first_screen_opens_the_sample_and_lists_recent_files(make_window, qtbot):
    w = make_window()
    welcome = w.page("data").empty_label
    assert welcome.isVisible() and not welcome.recent_list.isVisible()  # nothing recent yet
    with qtbot.waitSignal(w.dataReady, timeout=HANG_MS):
        welcome.sample_button.click()
    assert w.state.data is not None and w.state.data.n == 6000
    welcome.refresh()
    assert [welcome.recent_list.item(i).data(Qt.UserRole) for i in
            range(welcome.recent_list.count())] == w._recent()
    assert len(w._recent()) == 1 and w._recent()[0].endswith("sample_scores.csv")


def test_group_columns_order_is_shown_and_changes_the_intersection(make_window, qtbot):
    from conftest import SAMPLE, open_and_wait

    w = make_window()
    open_and_wait(qtbot, w, SAMPLE)
    page = w.page("data")
    assert w.state.mapping.groups == ["race", "sex"]
    assert "<b>race</b> × <b>sex</b>" in page.group_order_label.text()
    assert w.state.data.group_names[0] == "Group A, Female"
    page.move_group_column("sex", -1)
    assert "<b>sex</b> × <b>race</b>" in page.group_order_label.text()
    assert page.is_dirty()
    with qtbot.waitSignal(w.dataReady, timeout=HANG_MS):
        page.apply()
    assert w.state.mapping.groups == ["sex", "race"]
    assert w.state.data.group_names[0] == "Female, Group A"
