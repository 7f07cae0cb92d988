"""The presentation layer: one formatting of each kind, the same text on every surface."""

from __future__ import annotations

import math

import numpy as np
import pytest
from openpyxl import load_workbook

from fairdesk.present import formats
from fairdesk.present.formats import format_value, parse_number, score_decimals
from fairdesk.present.table import Cell, Column, Table
from fairdesk.present.text import render_table
from fairdesk.reports.workbook import write_workbook
from fairdesk.undefined import Undefined


@pytest.mark.parametrize("value, kind, decimals, text", [
    (0.4457, "rate", None, "44.6 %"),
    (0.4457, "rate", 2, "44.57 %"),
    (0.81234, "ratio", None, "0.812"),
    (0.032, "difference", None, "+3.2 pts"),
    (-0.0321, "difference", None, "−3.2 pts"),
    (0.00001, "difference", None, "0.0 pts"),
    (12345, "count", None, "12,345"),
    (12345.0, "people", 0, "12,345"),
    (181.13, "people", 1, "181.1"),
    (4.41849, "score", 4, "4.4185"),
    (7.0, "score", 0, "7"),
    (4.4185, "score", 0, "4.4185"),  # between deciles: never rounded onto a score
    (4.5, "score", 0, "4.5"),
    (-0.0, "score", 2, "0.00"), (-0.0001, "ratio", None, "0.000"), (-1e-9, "rate", None, "0.0 %"),
    (0.123456789, "score", 2, "0.1235"),
    ((0.412, 0.479), "interval", None, "41.2–47.9 %"),
    (0.123456789, "number", None, "0.123457"),
    (3, "number", None, "3"),
    (math.inf, "ratio", None, "∞"),
    (-math.inf, "rate", None, "−∞"),
    ("Asian", "text", None, "Asian"),
    ("—", "rate", None, "—"),
])
def test_format_value_by_hand(value, kind, decimals, text):
    assert format_value(value, kind, decimals) == text


@pytest.mark.parametrize("kind", formats.KINDS)
def test_undefined_reads_undefined_in_every_kind(kind):
    for v in (Undefined("0/0"), math.nan, np.float64("nan")):
        assert format_value(v, kind) == "undefined"


def test_older_kind_names_are_the_same_kinds():
    assert Column("a", "A", "percent").kind == "rate"
    assert Column("a", "A", "int").kind == "count"
    assert Column("a", "A", "float", 4).kind == "fixed"
    with pytest.raises(ValueError, match="kind must be one of"):
        Column("a", "A", "percentage")


@pytest.mark.parametrize("scores, decimals", [
    ([1, 2, 10], 0), ([0.5, 1.25], 2), ([4.4185, 0.1], 4), (np.linspace(0, 1, 7), 4), ([0.25, 0.5], 2),
    ([], 4), ([np.nan, 3.0], 0)])
def test_score_decimals(scores, decimals):
    assert score_decimals(scores) == decimals


def test_people_decimals_whole_only_when_every_count_is_whole():
    assert formats.people_decimals([1.0, 200.0, 3]) == 0
    assert formats.people_decimals([1.0, 181.13]) == 1


@pytest.mark.parametrize("text, value", [
    ("0.25", 0.25), ("25 %", 0.25), ("1,234.5", 1234.5), ("−3", -3.0), ("0,5", 0.5),
    ("1,234", 1234.0), ("0,500", 0.5), ("-0,25", -0.25), ("high", math.nan)])
def test_parse_number(text, value):
    got = parse_number(text)
    assert (math.isnan(got) and math.isnan(value)) or got == pytest.approx(value)


def _table():
    cols = [Column("group", "Group"), Column("n", "People", "count"),
            Column("fpr", "FPR", "rate", undefined_reason="No one without the outcome."),
            Column("ratio", "Ratio", "ratio"), Column("diff", "Change", "difference"),
            Column("t", "Threshold", "score", 2), Column("d", "Decile cut", "score", 0)]
    rows = [{"group": "African-American, Female", "n": 1234, "fpr": 0.4457, "ratio": 0.81234,
             "diff": 0.032, "t": 4.419, "d": 4.4185},
            {"group": "Other", "n": 7, "fpr": Undefined("No one without the outcome (0/0)."),
             "ratio": Cell(0.5, "rate"), "diff": -0.01, "t": 2.0, "d": 5.0}]
    return Table("Rates", cols, rows, title="Rates by group", notes=["A note."])


def test_text_output_uses_the_same_formats_and_lists_reasons():
    text = render_table(_table())
    assert "44.6 %" in text and "0.812" in text and "+3.2 pts" in text and "4.419" in text
    assert "1,234" in text and "50.0 %" in text  # a cell of its own kind
    assert "undefined: No one without the outcome (0/0)." in text
    assert "note: A note." in text
    header, rule = text.splitlines()[1:3]
    assert header.startswith("Group") and set(rule) <= {"-", " "}


def test_workbook_number_formats_read_as_the_window_does(tmp_path):
    """Each numeric cell's Excel format, applied by hand, gives the window's text."""
    path = write_workbook(tmp_path / "t.xlsx", about={"Application": {"Name": "FairDesk"}},
                          tables=[_table()], glossary=False)
    ws = load_workbook(path)["Rates"]
    header_row = next(r for r in range(1, 10) if ws.cell(r, 1).value == "Group")
    row = header_row + 1
    assert ws.cell(row, 3).value == pytest.approx(0.4457)
    assert ws.cell(row, 3).number_format == "0.0%"
    assert ws.cell(row, 4).number_format == "0.000"
    assert ws.cell(row, 5).value == pytest.approx(3.2)  # points, shown "+3.2 pts"
    assert ws.cell(row, 5).number_format.startswith('+0.0" pts"')
    assert ws.cell(row, 6).number_format == "0.000"  # 4.419 between 2-decimal scores
    assert ws.cell(row + 1, 6).number_format == "0.00"
    assert ws.cell(row, 7).number_format == "0.0000"  # 4.4185 on deciles, never "4"
    assert ws.cell(row + 1, 7).number_format == "0"
    assert ws.cell(row + 1, 3).value == "undefined"
    assert ws.cell(row + 1, 4).number_format == "0.0%"  # the Cell's own kind


def test_command_line_prints_the_workbook_tables_in_the_same_formats(capsys, sample_data):
    """A rate reads the same in the audit's text output and in its workbook table."""
    from conftest import SAMPLE

    from fairdesk.audit import run_audit
    from fairdesk.cli import main
    from fairdesk.reports.audit_report import audit_tables

    assert main(["audit", str(SAMPLE), "--score", "score", "--label", "outcome", "--group",
                 "race", "--weight", "weight", "--threshold", "0.5"]) == 0
    text = capsys.readouterr().out
    rates = audit_tables(run_audit(sample_data, [0.5]), sample_data)[0]
    row = next(r for r in rates.row_dicts() if r["group"] == "Group A")
    fpr = rates.column("fpr").text(row["fpr"])
    assert fpr.endswith(" %")
    line = next(ln for ln in text.splitlines() if ln.startswith("Group A "))
    assert f" {fpr} " in line + " "
    assert "Error rates by group" in text and "Group fairness measures" in text
