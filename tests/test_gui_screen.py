"""The window on an analyst's screen: the first screen starts the work."""

from __future__ import annotations

import pytest
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


def _compas_by_race_and_sex(make_window, qtbot, size):
    from conftest import SHARED, open_and_wait, wait_settled

    w = make_window()
    w.resize(*size)
    open_and_wait(qtbot, w, SHARED / "compas_two_year.csv")
    page = w.page("data")
    for column, role in (("decile_score", "score"), ("two_year_recid", "label"),
                         ("race", "group"), ("sex", "group")):
        page.set_role(column, role)
    page.move_group_column("race", -1)
    with qtbot.waitSignal(w.dataReady, timeout=HANG_MS):
        page.apply()
    wait_settled(qtbot, w)
    assert w.state.mapping.groups == ["race", "sex"] and w.state.data.n_groups == 12
    return w


@pytest.mark.parametrize("size", [(1366, 768), (1280, 720), (1024, 576)])  # last: 1280×720 at 125 %
def test_every_page_fits_the_screen_or_scrolls(make_window, qtbot, size):
    """The window never needs more room than the screen has: a page larger than the window
    scrolls inside it (its scroll bars reach all of it)."""
    from conftest import wait_settled

    w = _compas_by_race_and_sex(make_window, qtbot, size)
    hint = w.minimumSizeHint()
    assert hint.width() <= size[0] and hint.height() <= size[1]
    for page in w.pages:
        w.show_page(page.key)
        wait_settled(qtbot, w)
        scroll = w.stack.currentWidget()
        assert scroll.widget() is page
        need = page.minimumSizeHint()
        view = scroll.viewport().size()
        if need.height() > view.height():
            assert scroll.verticalScrollBar().maximum() > 0, page.key
        if need.width() > view.width():
            assert scroll.horizontalScrollBar().maximum() > 0, page.key
        cut = _cut_without_tooltip(page)
        assert cut == [], page.key


def _cut_without_tooltip(page) -> list[str]:
    """Visible texts narrower than their words with no tooltip to read them in full:
    buttons, one-line labels and result-table headers."""
    from PySide6.QtWidgets import QAbstractButton, QLabel

    from fairdesk.gui.table_model import ResultTable

    cut = []
    for b in page.findChildren(QAbstractButton):
        if b.isVisible() and b.text() and not b.toolTip():
            if b.fontMetrics().horizontalAdvance(b.text().replace("&", "")) > b.width() - 6:
                cut.append(f"button {b.text()!r}")
    for label in page.findChildren(QLabel):
        if (label.isVisible() and not label.wordWrap() and label.text()
                and label.textFormat() == Qt.PlainText and not label.toolTip()
                and label.sizeHint().width() > label.width() + 1):
            cut.append(f"label {label.text()!r}")
    for view in page.findChildren(ResultTable):
        if not view.isVisible() or view.table is None:
            continue
        model = view.model()
        for c, col in enumerate(view.table.columns):
            shown = view.elided_header(c, col.header)  # as the header view paints it
            if shown != col.header and not model.headerData(c, Qt.Horizontal, Qt.ToolTipRole):
                cut.append(f"header {col.header!r}")
    return cut


def test_every_control_the_keyboard_reaches_has_an_accessible_name(make_window, qtbot):
    from PySide6.QtWidgets import QWidget

    from conftest import wait_settled

    w = _compas_by_race_and_sex(make_window, qtbot, (1366, 768))
    missing = []
    for page in w.pages:
        w.show_page(page.key)
        wait_settled(qtbot, w)
        for x in page.findChildren(QWidget):
            if x.isVisible() and x.focusPolicy() != Qt.NoFocus and not x.accessibleName():
                missing.append(f"{page.key}: {type(x).__name__} {x.toolTip()[:40]!r}")
    assert missing == []
    assert w.nav.accessibleName() == "Pages"


def test_opening_a_file_computes_only_what_is_asked_for(make_window, qtbot):
    """Opening validates (and the Data page shows it); an engine page computes when it is
    first shown, and showing it again reuses its result."""
    from conftest import SAMPLE, open_and_wait, wait_settled

    w = make_window()
    started = []
    w.worker.started.connect(started.append)
    open_and_wait(qtbot, w, SAMPLE)
    wait_settled(qtbot, w)
    assert started == ["Opening sample_scores.csv", "Checking the data"]
    eodds = w.page("eodds")
    assert eodds.result is None
    w.show_page("eodds")
    wait_settled(qtbot, w)
    assert started[-1] == "Equalized odds" and eodds.result is not None
    result, count = eodds.result, len(started)
    w.show_page("data")
    w.show_page("eodds")
    wait_settled(qtbot, w)
    assert len(started) == count and eodds.result is result  # cached, not computed again
    assert w.page("transport").result is None and w.page("households").result is None


def test_group_names_on_a_category_axis_never_overlap(qtbot):
    import pyqtgraph as pg
    from PySide6.QtGui import QFontMetrics

    from fairdesk.gui.plot_parts import category_ticks

    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    widget.resize(1000, 300)
    widget.show()
    qtbot.waitExposed(widget)
    names = [f"{race}, {sex}" for race in ("African-American", "Asian", "Caucasian", "Hispanic",
                                            "Native American", "Other") for sex in ("Female", "Male")]
    plot = widget.getPlotItem()
    category_ticks(plot, names)
    ticks = plot.getAxis("bottom")._tickLevels[0]
    assert [pos for pos, _ in ticks] == list(range(12))
    room = plot.vb.width() / 12
    fm = QFontMetrics(plot.getAxis("bottom").style.get("tickFont") or widget.font())
    for _, label in ticks:
        assert all(fm.horizontalAdvance(line) <= room for line in label.split("\n"))
    assert ticks[0][1].split("\n")[1] == "Female" and "…" in ticks[0][1]  # elided, not cut
    assert plot.getAxis("bottom").toolTip().split("\n") == names


def test_a_refused_solution_leaves_no_dead_end(make_window, qtbot):
    """Equalized odds on COMPAS race × sex refuses (a group without negatives): the reason
    is shown, and the result's actions are greyed with the reason in their tooltip."""
    from conftest import wait_settled

    w = _compas_by_race_and_sex(make_window, qtbot, (1366, 768))
    page = w.page("eodds")
    w.show_page("eodds")
    wait_settled(qtbot, w)
    assert page.result is None and "Native American, Female" in page.warn.text()
    for button in (page.scenario_button, page.export_rows_button):
        assert not button.isEnabled()
        assert "Not available now: no solution" in button.toolTip()
    assert page.add_as_scenario() is None and w.state.scenarios == []
    import pyqtgraph as pg  # the plots say why they are empty

    for panel in (page.roc_panel, page.curve_panel):
        texts = [i for i in panel.plot.items if isinstance(i, pg.TextItem)]
        assert [t.textItem.toPlainText() for t in texts] == [
            "No solution to draw: see the message above the table."]


def test_weighting_is_mentioned_only_with_weights(make_window, qtbot):
    import pandas as pd

    from conftest import SAMPLE, wait_settled
    from fairdesk.schema import ColumnMapping
    from fairdesk.validation import prepare

    frame = pd.read_csv(SAMPLE)
    for weight, said in ((None, False), ("weight", True)):
        w = make_window(data=prepare(frame, ColumnMapping(score="score", label="outcome",
                                                          groups=["race"], weight=weight)))
        w.show_page("audit")
        wait_settled(qtbot, w)
        note = w.page("audit").tables.counts_note.text()
        assert ("weighted" in note) is said and "undefined" in note


def test_main_path_with_the_keyboard_alone(make_window, qtbot, monkeypatch):
    """Open the sample, go to the Audit page, reach "Add as scenario" by Tab, press it, and
    find the scenario on the Decision page — no mouse. Keys go to the widget that would have
    the focus, so the test does not depend on the window manager activating the window."""
    from PySide6.QtTest import QTest

    from conftest import wait_settled

    def reachable_by_tab(start, target) -> bool:
        widget = start.nextInFocusChain()
        for _ in range(2000):
            if widget is target:
                return bool(target.focusPolicy() & Qt.TabFocus) and target.isEnabled() \
                    and target.isVisible()
            if widget is start:
                return False
            widget = widget.nextInFocusChain()
        return False

    w = make_window()
    welcome = w.page("data").empty_label
    assert reachable_by_tab(w.nav, welcome.sample_button)
    with qtbot.waitSignal(w.dataReady, timeout=HANG_MS):
        QTest.keyClick(welcome.sample_button, Qt.Key_Space)
    wait_settled(qtbot, w)
    views = {a.text(): a for a in w.menuBar().actions()[1].menu().actions()}
    audit_row = [p.key for p in w.pages].index("audit")
    assert views["Audit"].shortcut().toString() == f"Ctrl+{audit_row + 1}"
    views["Audit"].trigger()  # what Ctrl+3 does
    assert w.current_page().key == "audit"
    wait_settled(qtbot, w)
    target = w.page("audit").scenario_button
    assert reachable_by_tab(w.nav, target)  # no table or plot traps the Tab key
    from PySide6.QtWidgets import QInputDialog
    asked = []  # the name dialog, answered with Enter on the proposed name
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(
        lambda parent, title, label, *a, **k: (asked.append(title), (k.get("text") or
                                                                     (a[1] if len(a) > 1 else "Audit"), True))[1]))
    QTest.keyClick(target, Qt.Key_Space)
    assert asked == ["Add as scenario"]
    qtbot.waitUntil(lambda: len(w.state.scenarios) == 1, timeout=HANG_MS)
    views["Decision table"].trigger()
    assert w.current_page().key == "decision"
    assert w.export_action.shortcut().toString() == "Ctrl+E" and w.export_action.isEnabled()


def _hex_colours(text: str) -> list[str]:
    import re

    return re.findall(r"(?<![-\w])color\s*:\s*(#[0-9a-fA-F]{6})", text)


@pytest.fixture
def dark_theme(qapp):
    """A high-contrast dark theme (white on black), as Windows' "High contrast black" gives;
    the application's palette and font come back afterwards."""
    from PySide6.QtGui import QColor, QPalette

    old = qapp.palette()
    pal = QPalette()
    for role, colour in ((QPalette.Window, "#000000"), (QPalette.WindowText, "#ffffff"),
                         (QPalette.Base, "#000000"), (QPalette.AlternateBase, "#1a1a1a"),
                         (QPalette.Text, "#ffffff"), (QPalette.Button, "#000000"),
                         (QPalette.ButtonText, "#ffffff"), (QPalette.ToolTipBase, "#000000"),
                         (QPalette.ToolTipText, "#ffffff")):
        pal.setColor(role, QColor(colour))
    qapp.setPalette(pal)
    yield pal
    qapp.setPalette(old)


def test_text_stays_readable_on_a_high_contrast_dark_theme(make_window, qtbot, dark_theme):
    """No page draws fixed dark-grey text that vanishes on a dark theme: every label's own
    colour, every coloured span and every table cell keeps WCAG AA contrast (4.5:1) with
    what is behind it."""
    import re

    from PySide6.QtGui import QColor, QPalette
    from PySide6.QtWidgets import QLabel

    from conftest import SAMPLE, open_and_wait, wait_settled
    from fairdesk.gui.palette import contrast
    from fairdesk.gui.table_model import ResultTable

    w = make_window()
    w.resize(1366, 768)
    open_and_wait(qtbot, w, SAMPLE)
    window_bg = dark_theme.color(QPalette.Window)
    low, checked = [], 0
    for page in w.pages:
        w.show_page(page.key)
        wait_settled(qtbot, w)
        for label in page.findChildren(QLabel):
            if not label.isVisible():
                continue
            sheet = label.styleSheet()
            bg = re.search(r"background\s*:\s*(#[0-9a-fA-F]{6})", sheet)
            bg = QColor(bg.group(1)) if bg else window_bg
            squares = re.findall(r"color:(#[0-9a-fA-F]{6})(?:; background:(#[0-9a-fA-F]{6}))?'>■",
                                 label.text())
            for colour, patch in squares:  # a group's square keeps its colour, never vanishes
                checked += 1
                if contrast(QColor(colour), QColor(patch) if patch else bg) < 1.6:
                    low.append(f"{page.key}: square {colour} on {bg.name()}")
            squares = [colour for colour, _ in squares]
            for colour in _hex_colours(sheet) + _hex_colours(label.text()):
                if colour in squares:
                    continue
                checked += 1
                if contrast(QColor(colour), bg) < 4.5:
                    low.append(f"{page.key}: {colour} on {bg.name()} in {label.text()[:50]!r}")
        for view in page.findChildren(ResultTable):
            model = view.model()
            for r in range(min(model.rowCount(), 30)):
                for c in range(model.columnCount()):
                    i = model.index(r, c)
                    fg, bg = i.data(Qt.ForegroundRole), i.data(Qt.BackgroundRole)
                    fg = fg.color() if fg is not None else dark_theme.color(QPalette.Text)
                    bg = bg.color() if bg is not None else dark_theme.color(QPalette.Base)
                    checked += 1
                    if contrast(fg, bg) < 4.5:
                        low.append(f"{page.key}: cell {i.data()!r} {fg.name()} on {bg.name()}")
    assert checked > 200
    assert low == []


def test_sizes_follow_the_system_font(make_window, qtbot, qapp):
    """Titles, navigation and plot labels are sized relative to the application font (the
    system's text-size setting), never in fixed pixels."""
    from PySide6.QtGui import QFont
    from PySide6.QtWidgets import QLabel, QWidget

    from conftest import SAMPLE, open_and_wait, wait_settled
    from fairdesk.gui.palette import font_points

    old = qapp.font()
    big = QFont(old)
    big.setPointSizeF(16)
    qapp.setFont(big)
    try:
        assert font_points() == 16 and font_points(1.25) == 20
        w = make_window()
        open_and_wait(qtbot, w, SAMPLE)
        assert "font-size:18.4pt" in w.nav.styleSheet()
        fixed = []
        for page in w.pages:
            w.show_page(page.key)
            wait_settled(qtbot, w)
            for x in page.findChildren(QWidget):
                text = x.styleSheet() + (x.text() if isinstance(x, QLabel) else "")
                if "px" in "".join(re_font_sizes(text)):
                    fixed.append(f"{page.key}: {text[:60]!r}")
        assert fixed == []
        titles = [x.text() for x in w.page("decision").findChildren(QLabel)
                  if "font-size:20pt" in x.text()]
        assert titles, "the page title follows the 16 pt system font (× 1.25)"
    finally:
        qapp.setFont(old)


def re_font_sizes(text: str) -> list[str]:
    import re

    return re.findall(r"font-size\s*:\s*[\d.]+\s*(?:px|pt)", text)


def test_notes_collapse_into_one_panel(qtbot):
    """Many notes start closed (a count and the first on one line, all in the tooltip); the
    analyst's open or closed choice is kept when the notes change."""
    from fairdesk.gui.notes_panel import NotesPanel

    panel = NotesPanel()
    qtbot.addWidget(panel)
    panel.resize(300, 200)
    panel.show()
    panel.set_notes([])
    assert not panel.isVisible()  # no notes, no panel
    panel.set_notes(["one", "two"])
    assert panel.body.isVisible() and not panel.first.isVisible()  # two are shown open
    panel.set_notes([f"note {i} " + "long " * 30 for i in range(5)], warnings=["careful"])
    assert panel.toggle.text() == "Notes (6, 1 ⚠)"
    assert not panel.body.isVisible() and panel.first.isVisible()
    assert panel.first.text().startswith("⚠ careful") or panel.first.text().endswith("…")
    assert "note 4" in panel.first.toolTip() and "careful" in panel.body.text()
    panel.toggle.click()
    assert panel.body.isVisible()
    panel.set_notes([f"other {i}" for i in range(9)])
    assert panel.body.isVisible()  # the analyst opened it: it stays open
    panel.toggle.click()
    panel.set_notes(["a"])
    assert not panel.body.isVisible()  # and closed stays closed
