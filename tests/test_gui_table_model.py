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
                                             note="FP / (FP + TN).")]
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
