"""The Excel/CSV writer: read the files back with openpyxl and check what an analyst sees."""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import time
import zipfile

import pandas as pd
import pytest
from openpyxl import load_workbook

from fairdesk.errors import FairDeskError
from fairdesk.reports import workbook as wbmod
from fairdesk.reports.workbook import (
    ABOUT_SHEET,
    ChartSpec,
    Column,
    Table,
    safe_text,
    sanitize_sheet_name,
    write_csv,
    write_workbook,
)
from fairdesk.undefined import Undefined

SHA = "3f" * 32
INJECTIONS = [
    '=HYPERLINK("http://x","click")',
    "+1+2",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "=1+1",
    "#N/A",
]

COLUMNS = [
    Column("group", "Group"),
    Column("n", "People", "int"),
    Column("rate", "Flag rate", "percent", decimals=1, note="Share of the group flagged."),
    Column("score", "Mean score", "float", decimals=3),
    Column("delta", "Difference", "number"),
]


def about(**extra):
    data = {
        "Application": {"Version": "0.1.0"},
        "Input": {"File": "C:/data/scores.xlsx", "SHA-256": SHA, "Sheet": "Scores",
                  "Rows used": 1200, "Rows excluded": 3},
        "Column mapping": {"score": "Risk score", "group": "Region"},
        "Label mapping": {"positive": ["yes", "1"]},
        "Settings": {"threshold": 0.5, "bootstrap": True, "nested": {"a": [1, 2]}},
        "Random seeds": {"bootstrap": 20240521, "big": 12345678901234567890},
    }
    data.update(extra)
    return data


def rows():
    return [
        {"group": "North", "n": 1234, "rate": 0.25, "score": 0.51234, "delta": -0.5},
        {"group": "south east", "n": 56, "rate": Undefined("No one in this group was flagged."),
         "score": math.nan, "delta": None},
        {"group": "ÅLAND", "n": 0, "rate": 0.0, "score": math.inf, "delta": -7},
    ]


def table(**kw):
    args = dict(sheet="Rates", columns=COLUMNS, rows=rows(), title="Flag rates by group")
    args.update(kw)
    return Table(**args)


def about_values(ws):
    """{(section, key): value} from the About sheet (top-level rows have section None)."""
    out, section = {}, None
    for a, b in ws.iter_rows(min_row=3, max_col=2, values_only=True):
        if a is None:
            continue
        if b is None:
            section = a
        else:
            out[(section, a)] = b
    return out


def sheet_xml(path, index):
    with zipfile.ZipFile(path) as zf:
        return zf.read(f"xl/worksheets/sheet{index}.xml").decode("utf-8")


def listing(folder):
    return sorted(p.name for p in folder.iterdir())


# --------------------------------------------------------------------------- content


def test_sheet_order_and_about(tmp_path):
    out = write_workbook(tmp_path / "report.xlsx", about=about(),
                         tables=[table(), table(sheet="Thresholds")])
    assert out == (tmp_path / "report.xlsx").absolute()
    wb = load_workbook(out)
    # the tables, then the Contents (every sheet's full title) and the printed Glossary
    assert wb.sheetnames == [ABOUT_SHEET, "Rates", "Thresholds", "Contents", "Glossary"]
    ws = wb[ABOUT_SHEET]
    assert ws["A1"].value == ABOUT_SHEET and ws["A1"].font.b
    values = about_values(ws)
    assert values[("Application", "Version")] == "0.1.0"
    assert values[("Input", "SHA-256")] == SHA
    assert values[("Input", "Rows used")] == 1200
    assert values[("Random seeds", "bootstrap")] == 20240521
    # more digits than Excel keeps: stored as text so no digit is lost
    assert values[("Random seeds", "big")] == "12345678901234567890"
    assert values[("Settings", "bootstrap")] == "Yes"
    # a nested setting reads one row per entry, not as JSON (issue 15)
    assert values[("Settings", "nested: a")] == "1; 2"
    assert values[("Label mapping", "positive")] == "yes; 1"  # a list reads plainly, not as JSON
    written = values[("Application", "Written")]
    assert written[:4].isdigit() and "T" in written  # ISO date-time, local
    # section headings and keys bold
    heading = next(c for c in ws["A"] if c.value == "Input")
    assert heading.font.b
    key = next(c for c in ws["A"] if c.value == "SHA-256")
    assert key.font.b


def test_about_written_not_duplicated_and_pairs(tmp_path):
    out = write_workbook(tmp_path / "a.xlsx",
                         about=[("Written", "yesterday"), ("Version", "0.1.0"),
                                ("Random seeds", {"split": 7})],
                         tables=[])
    ws = load_workbook(out)[ABOUT_SHEET]
    values = about_values(ws)
    assert values[(None, "Written")] == "yesterday"
    assert values[(None, "Version")] == "0.1.0"
    assert values[("Random seeds", "split")] == 7
    assert sum(1 for c in ws["A"] if c.value == "Written") == 1


def test_table_formatting(tmp_path):
    out = write_workbook(tmp_path / "r.xlsx", about=about(), tables=[table()])
    ws = load_workbook(out)["Rates"]
    assert ws["A1"].value == "Flag rates by group" and ws["A1"].font.b
    assert ws["A1"].font.sz > 11
    header = [c.value for c in ws[2]]
    assert header == ["Group", "People", "Flag rate", "Mean score", "Difference"]
    for c in ws[2]:
        assert c.font.b
        assert c.fill.fill_type == "solid"
        assert c.border.bottom.style == "thin"
    assert ws.freeze_panes == "A3"
    assert ws.auto_filter.ref == "A2:E5"
    assert ws["C2"].comment is not None and "flagged" in ws["C2"].comment.text
    # number formats
    assert ws["B3"].value == 1234 and ws["B3"].number_format == "#,##0"
    assert ws["C3"].value == 0.25 and ws["C3"].number_format == "0.0%"
    assert ws["D3"].value == pytest.approx(0.51234) and ws["D3"].number_format == "0.000"
    # text as written in the data, no case changes
    assert [ws.cell(r, 1).value for r in (3, 4, 5)] == ["North", "south east", "ÅLAND"]
    # widths fitted, within bounds
    for letter in "ABCDE":
        assert 8 <= ws.column_dimensions[letter].width <= 60


def test_table_without_title_freezes_below_header(tmp_path):
    out = write_workbook(tmp_path / "r.xlsx", about=about(), tables=[table(title=None)])
    ws = load_workbook(out)["Rates"]
    assert ws["A1"].value == "Group"
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:E4"


def test_number_formats_follow_decimals(tmp_path):
    cols = [Column("p", "P", "percent", decimals=0), Column("p2", "P2", "percent", decimals=2),
            Column("f", "F", "float", decimals=1), Column("f0", "F0", "float", decimals=0)]
    out = write_workbook(tmp_path / "r.xlsx", about={},
                         tables=[Table("T", cols, [{"p": 0.5, "p2": 0.5, "f": 1.25, "f0": 2.5}])])
    ws = load_workbook(out)["T"]
    assert [c.number_format for c in ws[2]] == ["0%", "0.00%", "0.0", "0"]


def test_undefined_cells(tmp_path):
    out = write_workbook(tmp_path / "r.xlsx", about=about(), tables=[table()])
    ws = load_workbook(out)["Rates"]
    rate, score, delta = ws["C4"], ws["D4"], ws["E4"]
    for cell in (rate, score, delta):
        assert cell.value == "undefined"
        assert cell.data_type == "s"
        assert cell.font.i
        assert cell.comment is not None
    assert rate.comment.text == "No one in this group was flagged."
    assert score.comment.text == "Not computable for this row."
    # infinite: a text symbol with a comment, never a number
    assert ws["D5"].value == "∞" and ws["D5"].comment is not None
    notes = [c.value for c in ws["A"] if isinstance(c.value, str)]
    assert notes.count("undefined: No one in this group was flagged.") == 1
    assert notes.count("undefined: Not computable for this row.") == 1
    assert any(n.startswith("∞") for n in notes)
    # every number stored in the sheet is finite
    numbers = re.findall(r"<v>([^<]*)</v>", sheet_xml(out, 2))
    assert numbers and all(math.isfinite(float(v)) for v in numbers)


def test_column_undefined_reason_and_negative_infinity(tmp_path):
    cols = [Column("x", "X", "float", undefined_reason="Fewer than 10 people.")]
    out = write_workbook(tmp_path / "r.xlsx", about={},
                         tables=[Table("T", cols, [{"x": None}, {"x": -math.inf}, {}])])
    ws = load_workbook(out)["T"]
    assert ws["A2"].comment.text == "Fewer than 10 people."
    assert ws["A3"].value == "−∞"
    assert ws["A4"].value == "undefined"  # missing key
    notes = [c.value for c in ws["A"] if isinstance(c.value, str)]
    assert notes.count("undefined: Fewer than 10 people.") == 1


def test_dataframe_rows(tmp_path):
    df = pd.DataFrame({
        "group": ["A", "B", None],
        "n": pd.array([1, None, 3], dtype="Int64"),
        "rate": [0.1, float("nan"), 0.3],
        "score": pd.Series([1.5, 2.5, 3.5], dtype="float32"),
        "delta": [-1, 2, 3],
    })
    out = write_workbook(tmp_path / "r.xlsx", about={}, tables=[table(rows=df, title=None)])
    ws = load_workbook(out)["Rates"]
    assert [c.value for c in ws[2]] == ["A", 1, 0.1, 1.5, -1]
    assert ws["B3"].value == "undefined" and ws["C3"].value == "undefined"
    assert ws["A4"].value == "undefined"
    assert ws["B4"].value == 3 and ws["B4"].data_type == "n"


def test_missing_dataframe_column_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="rate"):
        write_workbook(tmp_path / "r.xlsx", about={},
                       tables=[table(rows=pd.DataFrame({"group": ["a"], "n": [1], "score": [1],
                                                        "delta": [1]}))])
    assert listing(tmp_path) == []


# --------------------------------------------------------------------------- injection


@pytest.mark.parametrize("text", INJECTIONS)
def test_formula_injection_is_text(tmp_path, text):
    rows_ = [{"group": text, "n": 1, "rate": 0.5, "score": -0.25, "delta": -3}]
    out = write_workbook(tmp_path / "r.xlsx",
                         about={"Input": {"File": text}},
                         tables=[Table(text, [Column("group", text), *COLUMNS[1:]], rows_,
                                       title=text, notes=[text])])
    wb = load_workbook(out)
    ws = wb.worksheets[1]
    expected = text.replace("\r", "\n")  # XML keeps line breaks as LF (Excel's own)
    for cell in (ws["A1"], ws["A2"], ws["A3"]):  # title, header, data
        assert cell.value == expected
        assert cell.data_type == "s"
    assert ws["A5"].value == expected  # notes line
    assert about_values(wb[ABOUT_SHEET])[("Input", "File")] == expected
    # negative numbers stay numbers
    assert ws["D3"].value == -0.25 and ws["D3"].data_type == "n"
    assert ws["E3"].value == -3 and ws["E3"].data_type == "n"
    for index in (1, 2):
        assert "<f>" not in sheet_xml(out, index)
        assert "<f " not in sheet_xml(out, index)


def test_hyperlink_group_read_back_exactly(tmp_path):
    text = '=HYPERLINK("http://x","click")'
    out = write_workbook(tmp_path / "r.xlsx", about={},
                         tables=[table(rows=[{"group": text, "n": 1}], title=None)])
    ws = load_workbook(out)["Rates"]
    assert ws["A2"].value == text
    assert ws["A2"].data_type == "s"
    assert ws["A2"].quotePrefix  # stays text even if edited in Excel
    assert "<f>" not in sheet_xml(out, 2)
    assert not ws._hyperlinks


def test_safe_text_rule():
    for text in ["=1+1", "+1", "-1", "@x", "\tx", "\rx"]:
        assert safe_text(text) == "'" + text
    for text in ["North", "", "1-2", " =x", "'quoted"]:
        assert safe_text(text) == text


def test_write_csv_injection_and_bom(tmp_path):
    out = write_csv(tmp_path / "r.csv", COLUMNS,
                    [{"group": t, "n": -1, "rate": 0.25, "score": -0.5, "delta": None}
                     for t in ["=1+1", "-2", "@x", "North"]] + rows())
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[0] == "Group,People,Flag rate,Mean score,Difference"
    assert lines[1] == "'=1+1,-1,0.25,-0.5,undefined"
    assert lines[2] == "'-2,-1,0.25,-0.5,undefined"
    assert lines[3] == "'@x,-1,0.25,-0.5,undefined"
    assert lines[4] == "North,-1,0.25,-0.5,undefined"
    assert lines[5] == "North,1234,0.25,0.51234,-0.5"
    assert "ÅLAND" in text and "∞" in text
    assert listing(tmp_path) == ["r.csv"]


def test_write_csv_refuses_input(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("a\n1\n")
    with pytest.raises(FairDeskError, match="never overwrites its input"):
        write_csv(src, COLUMNS, rows(), input_paths=[str(src)])
    assert src.read_text() == "a\n1\n"


# --------------------------------------------------------------------------- charts


def test_charts(tmp_path):
    charts = [
        ChartSpec("bar", "Flag rate", "group", ["rate"], "Group", "Rate", percent_axis=True),
        ChartSpec("line", "Scores", "group", ["score", "delta"]),
        ChartSpec("scatter", "People vs score", "n", ["score"], scatter_lines=False),
    ]
    out = write_workbook(tmp_path / "r.xlsx", about={}, tables=[table(charts=charts)])
    ws = load_workbook(out)["Rates"]
    assert len(ws._charts) == 3
    assert [len(c.series) for c in ws._charts] == [1, 2, 1]
    with zipfile.ZipFile(out) as zf:
        xml = zf.read("xl/charts/chart1.xml").decode()
    assert 'formatCode="0%"' in xml
    assert "'Rates'!$C$3:$C$5" in xml or "Rates!$C$3:$C$5" in xml
    # default placement: below the table and its notes (so it prints after the table),
    # one chart under the other
    anchors = [c.anchor._from for c in ws._charts]
    assert [a.col for a in anchors] == [0, 0, 0]
    assert ws.max_row < anchors[0].row + 1 < anchors[1].row < anchors[2].row
    # axes titled (from the columns when not given); a rate axis ends at 100 %
    assert re.search(r'<(c:)?max val="1"', xml) and "Rate" in xml
    with zipfile.ZipFile(out) as zf:
        line_xml = zf.read("xl/charts/chart2.xml").decode()
    assert ">Group<" in line_xml  # the category column's header titles the x axis
    assert "0072B2" in line_xml and "E69F00" in line_xml  # the window's group colours


def test_labelled_scatter_names_every_point(tmp_path):
    rows = [{"name": "Baseline", "acc": 0.70, "erb": 0.40},
            {"name": "Fair thresholds", "acc": 0.68, "erb": 0.85}]
    spec = ChartSpec("scatter", "Fairness vs accuracy", "acc", ["erb"], label_key="name",
                     scatter_lines=False)
    cols = [Column("name", "Scenario"), Column("acc", "Accuracy", "percent", 1),
            Column("erb", "ERB", "float", 3)]
    out = write_workbook(tmp_path / "s.xlsx", about={},
                         tables=[Table("Comparison", cols, rows, charts=[spec])])
    chart = load_workbook(out)["Comparison"]._charts[0]
    assert len(chart.series) == 2
    with zipfile.ZipFile(out) as zf:
        xml = zf.read("xl/charts/chart1.xml").decode()
    assert "Baseline" in xml and "Fair thresholds" in xml


def test_print_layout_keeps_type_readable(tmp_path):
    """A narrow table is fitted to the page width; one too wide to fit at 8 pt prints
    across pages at 80 % with its header row and first column repeated; every page has
    the header and footer; paper as asked."""
    narrow = table()
    wide_cols = [Column("group", "Group")] + [Column(f"c{i}", f"Measure number {i}", "percent", 1)
                                              for i in range(30)]
    wide_rows = [{"group": f"g{j}", **{f"c{i}": 0.5 for i in range(30)}} for j in range(5)]
    out = write_workbook(tmp_path / "p.xlsx", about={"Input": {"SHA-256": "ab" * 32}},
                         tables=[narrow, Table("Wide", wide_cols, wide_rows)], paper="A4")
    wb = load_workbook(out)
    ws = wb["Rates"]
    assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation == "landscape"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    wide = wb["Wide"]
    assert not wide.sheet_properties.pageSetUpPr.fitToPage
    assert int(wide.page_setup.scale) == 80
    assert wide.print_title_rows.replace("$", "") == "1:1"
    assert wide.print_title_cols.replace("$", "") == "A:A"
    for sheet in wb.worksheets:
        assert sheet.oddHeader.center.text == "&A"
        assert sheet.oddFooter.right.text == "Page &P of &N"
        assert sheet.oddFooter.left.text == "Input SHA-256 " + "ab" * 6 + "…"
        assert sheet.oddHeader.right.text.startswith("Exported ")
    letter = write_workbook(tmp_path / "l.xlsx", about={}, tables=[narrow], paper="Letter")
    assert load_workbook(letter)["Rates"].page_setup.paperSize == 1


def test_contents_and_glossary_sheets(tmp_path):
    long_name = "Equalized odds, quadratic curves"
    tables = [table(sheet=f"{long_name} tiers", title=f"{long_name}: tiers by group"),
              table(sheet=f"{long_name} rates", title=None)]
    wb = load_workbook(write_workbook(tmp_path / "c.xlsx", about={}, tables=tables))
    # cut to 31 characters, the part that says what the sheet is kept: no "(2)"
    assert wb.sheetnames[1:3] == ["Equalized odds, quadrati… tiers",
                                  "Equalized odds, quadrati… rates"]
    contents = wb["Contents"]
    listed = [(contents.cell(r, 1).value, contents.cell(r, 2).value) for r in range(4, 7)]
    assert listed[0] == ("Equalized odds, quadrati… tiers", f"{long_name}: tiers by group")
    assert listed[1] == ("Equalized odds, quadrati… rates", f"{long_name} rates")
    assert contents.cell(4, 1).hyperlink.location or contents.cell(4, 1).hyperlink.target
    glossary = [str(c.value) for row in wb["Glossary"].iter_rows() for c in row if c.value]
    for term in ("False positive rate", "ERB: Error rate balance", "Policy 4", "w",
                 "Minimum pairwise ratio", "Interval"):
        assert any(term == v or v.startswith(term) for v in glossary), term


def test_chart_rejects_text_series(tmp_path):
    with pytest.raises(ValueError, match="numeric"):
        write_workbook(tmp_path / "r.xlsx", about={},
                       tables=[table(charts=[ChartSpec("bar", "x", "n", ["group"])])])
    assert listing(tmp_path) == []


def test_chart_on_empty_table_is_skipped(tmp_path):
    out = write_workbook(tmp_path / "r.xlsx", about={},
                         tables=[table(rows=[], charts=[ChartSpec("bar", "x", "group", ["n"])])])
    ws = load_workbook(out)["Rates"]
    assert ws._charts == []
    assert any(c.value == "No rows." for c in ws["A"])


# --------------------------------------------------------------------------- sheet names


def test_sheet_names_sanitized_and_unique(tmp_path):
    names = ["Rates/by [group]?", "x" * 40, "x" * 40, "rates_by _group__", ABOUT_SHEET,
             "History", "'quoted'", ""]
    out = write_workbook(tmp_path / "r.xlsx", about={},
                         tables=[table(sheet=n, title=None) for n in names])
    got = load_workbook(out).sheetnames
    assert got[0] == ABOUT_SHEET
    assert got[1] == "Rates_by _group__"
    assert got[2] == "x" * 31
    assert got[3] == "x" * 27 + " (2)"
    assert got[4] == "rates_by _group__ (2)"
    assert got[5] == ABOUT_SHEET + " (2)"
    assert got[6] == "History (2)"
    assert got[7] == "quoted"
    assert got[8] == "Sheet"
    assert all(len(n) <= 31 for n in got)
    assert len({n.lower() for n in got}) == len(got)


def test_sanitize_sheet_name_function():
    used = set()
    assert sanitize_sheet_name("a:b*c", used) == "a_b_c"
    assert sanitize_sheet_name("A:B*C", used) == "A_B_C (2)"
    assert sanitize_sheet_name("a\\b", used) == "a_b"


# --------------------------------------------------------------------------- atomic writes


def test_atomic_success_leaves_no_temp_file(tmp_path):
    target = tmp_path / "r.xlsx"
    target.write_bytes(b"old")
    write_workbook(target, about={}, tables=[table()], force=True)  # not FairDesk's: forced
    assert listing(tmp_path) == ["r.xlsx"]
    assert load_workbook(target).sheetnames == [ABOUT_SHEET, "Rates", "Contents", "Glossary"]


def test_replace_permission_error_reports_open_file(tmp_path, monkeypatch):
    target = tmp_path / "r.xlsx"
    target.write_bytes(b"old contents")

    def locked(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(wbmod.os, "replace", locked)
    with pytest.raises(FairDeskError, match=r"open in another program \(Excel\?\)"):
        write_workbook(target, about={}, tables=[table()], force=True)
    assert listing(tmp_path) == ["r.xlsx"]
    assert target.read_bytes() == b"old contents"


def test_failure_while_writing_removes_temp(tmp_path, monkeypatch):
    target = tmp_path / "r.xlsx"
    target.write_bytes(b"old contents")

    def boom(self, filename):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(wbmod.Workbook, "save", boom)
    with pytest.raises(FairDeskError, match="disk is full"):
        write_workbook(target, about={}, tables=[table()], force=True)
    assert listing(tmp_path) == ["r.xlsx"]
    assert target.read_bytes() == b"old contents"


def test_refuses_input_path(tmp_path):
    src = tmp_path / "scores.xlsx"
    src.write_bytes(b"input")
    with pytest.raises(FairDeskError, match="never overwrites its input file"):
        write_workbook(src, about={}, tables=[table()], input_paths=[str(src)])
    # same file through another spelling of the path
    with pytest.raises(FairDeskError, match="never overwrites"):
        write_workbook(tmp_path / "." / "scores.xlsx", about={}, tables=[],
                       input_paths=[src])
    # a link to the input is the input
    link = tmp_path / "link.xlsx"
    try:
        os.link(src, link)
    except OSError:
        link = None
    if link is not None:
        with pytest.raises(FairDeskError, match="never overwrites"):
            write_workbook(link, about={}, tables=[], input_paths=[src])
    assert src.read_bytes() == b"input"


def test_refuses_input_path_not_yet_existing(tmp_path):
    target = tmp_path / "new.xlsx"
    with pytest.raises(FairDeskError, match="never overwrites"):
        write_workbook(target, about={}, tables=[], input_paths=[tmp_path / "new.xlsx"])
    assert listing(tmp_path) == []


def test_read_only_target(tmp_path):
    # The check looks at the file's write permission bits (Windows "read-only"
    # attribute), so it holds even when the tests run as root.
    target = tmp_path / "r.xlsx"
    target.write_bytes(b"old")
    target.chmod(0o444)
    try:
        with pytest.raises(FairDeskError, match="read-only"):
            write_workbook(target, about={}, tables=[table()])
        assert target.read_bytes() == b"old"
        assert listing(tmp_path) == ["r.xlsx"]
    finally:
        target.chmod(0o644)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root can write anywhere; covered by the PermissionError test")
def test_read_only_folder(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(FairDeskError, match="not writable"):
            write_workbook(folder / "r.xlsx", about={}, tables=[table()])
    finally:
        folder.chmod(0o755)


def test_excel_lock_file_means_open(tmp_path):
    target = tmp_path / "report.xlsx"
    target.write_bytes(b"old")
    (tmp_path / "~$report.xlsx").write_bytes(b"lock")
    with pytest.raises(FairDeskError, match="open in another program"):
        write_workbook(target, about={}, tables=[table()])
    assert target.read_bytes() == b"old"


def test_missing_folder_and_overwrite_false(tmp_path):
    with pytest.raises(FairDeskError, match="does not exist"):
        write_workbook(tmp_path / "nope" / "r.xlsx", about={}, tables=[])
    target = tmp_path / "r.xlsx"
    target.write_bytes(b"old")
    with pytest.raises(FairDeskError, match="already exists"):
        write_workbook(target, about={}, tables=[], overwrite=False)
    assert target.read_bytes() == b"old"
    with pytest.raises(FairDeskError, match="is a folder"):
        write_workbook(tmp_path, about={}, tables=[])


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_new_file_gets_normal_permissions(tmp_path):
    out = write_workbook(tmp_path / "r.xlsx", about={}, tables=[])
    umask = os.umask(0o022)
    os.umask(umask)
    # not mkstemp's private 0o600: what any new file in this folder would get
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask
    # an existing file keeps its permissions
    out.chmod(0o640)
    write_workbook(out, about={}, tables=[])
    assert out.stat().st_mode & 0o777 == 0o640


# --------------------------------------------------------------------------- size


@pytest.mark.parametrize("n", [
    20_000,
    pytest.param(100_000, marks=pytest.mark.skipif(
        not os.environ.get("FAIRDESK_SLOW_TESTS"), reason="set FAIRDESK_SLOW_TESTS=1")),
])
def test_large_table(tmp_path, n):
    df = pd.DataFrame({
        "group": [f"g{i % 7}" for i in range(n)],
        "n": range(n),
        "rate": [(i % 100) / 100 for i in range(n)],
        "score": [i / 7 for i in range(n)],
        "delta": [float("nan") if i % 1000 == 0 else -i for i in range(n)],
    })
    start = time.perf_counter()
    out = write_workbook(tmp_path / "big.xlsx", about={}, tables=[table(rows=df, title=None)])
    elapsed = time.perf_counter() - start
    assert elapsed < 60
    ws = load_workbook(out, read_only=True)["Rates"]
    last = list(ws.iter_rows(min_row=n + 1, max_row=n + 1, values_only=True))[0]
    assert last[:2] == (f"g{(n - 1) % 7}", n - 1)


# --------------------------------------------------------------------------- PDF (optional)


def test_renders_to_pdf_with_libreoffice(tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        pytest.skip("LibreOffice is not installed")
    out = write_workbook(tmp_path / "r.xlsx", about=about(),
                         tables=[table(charts=[ChartSpec("bar", "Rate", "group", ["rate"])])])
    subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path),
                    str(out)], check=True, timeout=180, capture_output=True)
    pdf = tmp_path / "r.pdf"
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF")


def test_other_value_types(tmp_path):
    import datetime as dt

    import numpy as np

    when = dt.datetime(2024, 5, 21, 13, 30)
    cols = [Column("v", "Value"), Column("i", "I", "int")]
    data = [
        {"v": when, "i": np.int64(5)},
        {"v": dt.datetime(2024, 5, 21, 13, 30, tzinfo=dt.timezone.utc), "i": np.float64(2.0)},
        {"v": np.True_, "i": pd.NA},
        {"v": pd.NaT, "i": np.float32("nan")},
        {"v": "bell\x07", "i": 10**16},
        {"v": {"a": 1}, "i": True},
    ]
    out = write_workbook(tmp_path / "r.xlsx", about=None, tables=[Table("T", cols, data)])
    ws = load_workbook(out)["T"]
    assert ws["A2"].value == when and ws["A2"].is_date
    assert ws["A3"].value == "2024-05-21T13:30:00+00:00"
    assert ws["A4"].value is True
    assert ws["A5"].value == "undefined" and ws["B4"].value == "undefined"
    assert ws["B5"].value == "undefined"
    assert ws["A6"].value == "bell\ufffd"  # XML cannot hold control characters
    assert ws["B6"].value == str(10**16)  # beyond Excel's 15 digits: text, exact
    assert ws["A7"].value == '{"a": 1}'
    assert ws["B2"].value == 5 and ws["B3"].value == 2
