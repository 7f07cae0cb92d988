"""The one table model and view of the window."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from fairdesk.gui.table_model import SORT_ROLE, ResultTable
from fairdesk.present.table import Cell, Column, Table
from fairdesk.undefined import Undefined


def _table():
    cols = [Column("group", "Group"), Column("fpr", "False positive\nrate", "rate",
                                             note="FP / (FP + TN).", swatch=1)]
    rows = [{"group": "African-American, Female", "fpr": 0.123456789, "g": 0},
            {"group": "Asian", "fpr": Undefined("No one without the outcome (0/0)."), "g": 1},
            {"group": "Caucasian", "fpr": Cell(0.05, tip="5 of 100 people.", bold=True), "g": 2}]
    return Table("Rates", cols, rows, swatch_key="g", label_key="group")


def test_cells_read_as_formatted_with_reasons_and_full_names(qapp):
    view = ResultTable("Rates by group")
    view.set_table(_table())
    m = view.model()
    assert m.index(0, 1).data() == "12.3 %"
    assert m.index(1, 1).data() == "undefined"
    assert m.index(1, 1).data(Qt.ToolTipRole) == "Undefined: No one without the outcome (0/0)."
    assert m.index(0, 0).data(Qt.ToolTipRole) == "African-American, Female"
    assert m.index(2, 1).data(Qt.ToolTipRole) == "5 of 100 people."
    assert m.index(2, 1).data(Qt.FontRole).bold()
    assert m.index(1, 1).data(Qt.FontRole).italic()
    assert m.headerData(1, Qt.Horizontal, Qt.ToolTipRole) == "FP / (FP + TN)."
    assert m.headerData(1, Qt.Horizontal, Qt.DecorationRole) is not None  # a group's column
    assert m.headerData(0, Qt.Horizontal, Qt.DecorationRole) is None
    assert m.index(0, 0).data(Qt.DecorationRole) is not None  # the group's colour swatch
    assert m.index(0, 1).data(Qt.DecorationRole) is None
    assert view.textElideMode() == Qt.ElideMiddle
    assert view.accessibleName() == "Rates by group"


def test_sorting_uses_full_precision_and_puts_undefined_last(qapp):
    view = ResultTable()
    view.set_table(_table())
    view.sortByColumn(1, Qt.AscendingOrder)
    assert [view.text_at(r, "group") for r in range(3)] == [
        "Caucasian", "African-American, Female", "Asian"]
    assert math.isinf(view.model().index(2, 1).data(SORT_ROLE))


def test_copy_gives_tab_separated_full_precision(qapp):
    view = ResultTable()
    view.set_table(_table())
    text = view.copy_selection()  # nothing selected: the whole table
    lines = text.splitlines()
    assert lines[0] == "Group\tFalse positive rate"
    assert lines[1] == "African-American, Female\t0.123456789"
    assert lines[2] == "Asian\tundefined"
    assert QGuiApplication.clipboard().text() == text
    view.selectionModel().select(view.model().index(0, 1),
                                 view.selectionModel().SelectionFlag.Select)
    assert view.copy_selection() == "0.123456789\n"


def test_first_window_fits_the_screen_it_is_on():
    from fairdesk.gui.main_window import initial_size

    assert initial_size(1366, 728) == (1366, 728)  # a laptop: all of it, taskbar excluded
    assert initial_size(1280, 680) == (1280, 680)  # 1280×720 at 100 %
    assert initial_size(1536, 824) == (1382, 741)  # 1920×1080 at 125 %
    w, h = initial_size(3840, 2100)
    assert (w, h) == (1440, 900)


def test_time_left_only_once_it_can_be_told():
    from fairdesk.gui.main_window import time_left

    assert time_left(1.0, 0.5) == ""  # too early to say
    assert time_left(10.0, 0.01) == ""
    assert time_left(10.0, 0.5) == "about 10 s left"
    assert time_left(120.0, 0.5) == "about 2 min left"


def test_a_narrowed_header_is_elided_in_the_middle_with_its_tooltip(qtbot):
    from fairdesk.gui.table_model import ResultTable
    from fairdesk.present.table import Column, Table

    view = ResultTable("t", "tip")
    qtbot.addWidget(view)
    view.resize(500, 200)
    view.show()
    view.set_table(Table("t", [Column("g", "Group"), Column("r", "Selection rate\nbefore",
                                                           "rate", swatch=1)],
                         [{"g": "A", "r": 0.5}]))
    model = view.model()
    header = "Selection rate\nbefore"
    assert view.elided_header(1, header) == header  # fits at first
    view.horizontalHeader().resizeSection(1, 80)  # the analyst narrows it
    shown = view.elided_header(1, header)  # what the header view paints
    assert "…" in shown and shown.startswith("S") and shown.split("\n")[0].endswith("e")
    assert model.headerData(1, Qt.Horizontal) == header  # the model keeps the whole text
    assert model.headerData(1, Qt.Horizontal, Qt.ToolTipRole)
    image = view.horizontalHeader().grab().toImage()  # painted by the eliding header view
    from fairdesk.gui.palette import group_color
    colours = {image.pixelColor(x, y).name() for x in range(image.width())
               for y in range(image.height())}
    assert group_color(1).name() in colours  # the group's swatch, in colour (not greyed)
    view.horizontalHeader().resizeSection(1, 200)
    assert view.elided_header(1, header) == header
