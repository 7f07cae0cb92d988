"""Tests for fairdesk.io.loading: every input file is generated in tmp_path."""

from __future__ import annotations

import codecs
import hashlib
import os
import subprocess
import sys
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

from fairdesk.errors import Cancelled, DataError
from fairdesk.io import loading
from fairdesk.io.loading import LoadedTable, file_sha256, list_sheets, load_table

# --------------------------------------------------------------------------- helpers


def write(tmp_path, name: str, content: str | bytes, encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def error_of(path, **kwargs) -> str:
    with pytest.raises(DataError) as caught:
        load_table(path, **kwargs)
    return str(caught.value)


def make_xlsx(tmp_path, sheets: dict[str, list[list]], name="book.xlsx", origin=(1, 1)):
    """Write rows per sheet starting at (row, column) ``origin``; None leaves a cell empty."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None:
                    cell = sheet.cell(row=origin[0] + r, column=origin[1] + c, value=value)
                    if isinstance(value, str):
                        cell.data_type = "s"  # keep '=...' as text, not a formula
    path = tmp_path / name
    workbook.save(path)
    return path


_ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)


def make_ods(tmp_path, sheets: dict[str, list[list]], name="book.ods", encrypted=False):
    """A minimal valid OpenDocument spreadsheet, written by hand (odfpy not required)."""

    def cell(value):
        if value is None:
            return "<table:table-cell/>"
        if isinstance(value, str):
            return (
                '<table:table-cell office:value-type="string">'
                f"<text:p>{value}</text:p></table:table-cell>"
            )
        return (
            f'<table:table-cell office:value-type="float" office:value="{value}">'
            f"<text:p>{value}</text:p></table:table-cell>"
        )

    tables = "".join(
        f'<table:table table:name="{title}">'
        + "".join(
            "<table:table-row>" + "".join(cell(v) for v in row) + "</table:table-row>"
            for row in rows
        )
        + "</table:table>"
        for title, rows in sheets.items()
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODS_NS} '
        'office:version="1.2"><office:body><office:spreadsheet>'
        f"{tables}</office:spreadsheet></office:body></office:document-content>"
    )
    encryption = "<manifest:encryption-data/>" if encrypted else ""
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
        '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type='
        '"application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type='
        f'"text/xml">{encryption}</manifest:file-entry></manifest:manifest>'
    )
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet"
        )
        archive.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return path


def rewrite_zip(source, target, replace: dict[str, bytes] = (), add=()):
    """Copy a zip, replacing members' bytes and appending (name, bytes, method) entries."""
    replace = dict(replace)
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            data = replace.get(info.filename, old.read(info.filename))
            new.writestr(info.filename, data, zipfile.ZIP_DEFLATED)
        for entry_name, data, method in add:
            new.writestr(entry_name, data, method)
    return target


SIMPLE = "score,label,group\n0.25,1,a\n0.75,0,b\n0.5,1,a\n"


# ------------------------------------------------------------------------ text files


def test_utf8_csv_basic_types_rows_and_source(tmp_path):
    path = write(tmp_path, "data.csv", SIMPLE)
    table = load_table(path)
    assert isinstance(table, LoadedTable)
    frame = table.frame
    assert list(frame.columns) == ["score", "label", "group"]
    assert frame["score"].tolist() == [0.25, 0.75, 0.5]
    assert frame["label"].dtype.kind == "i"
    assert frame["group"].tolist() == ["a", "b", "a"]
    assert list(frame.index) == [2, 3, 4]
    source = table.source
    assert source.path == os.path.abspath(path)
    assert source.format == "csv"
    assert source.encoding == "utf-8"
    assert source.delimiter == ","
    assert source.engine == "pandas-c"
    assert (source.sheet, source.sheets) == (None, ())
    assert (source.n_rows, source.n_columns) == (3, 3)
    assert source.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_utf8_bom_is_removed_from_first_header(tmp_path):
    path = write(tmp_path, "bom.csv", codecs.BOM_UTF8 + "naïve,label\n1,0\n".encode())
    table = load_table(path)
    assert table.source.encoding == "utf-8-sig"
    assert list(table.frame.columns) == ["naïve", "label"]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_bom(tmp_path, codec):
    bom = codecs.BOM_UTF16_LE if codec.endswith("le") else codecs.BOM_UTF16_BE
    path = write(tmp_path, "u16.csv", bom + "name\tscore\nRenée\t0,5\nZoë\t1\n".encode(codec))
    table = load_table(path)
    assert table.source.encoding == "utf-16"
    assert table.source.delimiter == "\t"
    assert table.frame["name"].tolist() == ["Renée", "Zoë"]
    assert list(table.frame.index) == [2, 3]


def test_utf16_without_bom_detected_from_nul_bytes(tmp_path):
    path = write(tmp_path, "u16.txt", "a,b\n1,x\n2,y\n".encode("utf-16-le"))
    table = load_table(path)
    assert table.source.encoding == "utf-16-le"
    assert table.frame["b"].tolist() == ["x", "y"]


def test_cp1252_fallback_keeps_accents_and_euro(tmp_path):
    text = "ville;montant\nHéraclée;5 €\nNîmes;7 €\n"
    path = write(tmp_path, "legacy.csv", text, "cp1252")
    table = load_table(path)
    assert table.source.encoding == "cp1252"
    assert table.source.delimiter == ";"
    assert table.frame["ville"].tolist() == ["Héraclée", "Nîmes"]
    assert table.frame["montant"].tolist() == ["5 €", "7 €"]


def test_undecodable_bytes_are_reported(tmp_path):
    # 0x81 is invalid UTF-8 here and undefined in cp1252.
    path = write(tmp_path, "bad.csv", b"a,b\n1,\x81\x81\n")
    message = error_of(path)
    assert "bad.csv" in message and "could not be decoded" in message
    assert "CSV UTF-8" in message


def test_semicolon_with_decimal_comma(tmp_path):
    text = "score;label;note;id\n0,53;1;a,b;7\n-1,25;0;c;8\n;1;d,e;9\n"
    table = load_table(write(tmp_path, "eu.csv", text))
    frame = table.frame
    assert table.source.delimiter == ";"
    assert frame["score"].dtype.kind == "f"
    assert frame["score"].iloc[:2].tolist() == [0.53, -1.25]
    assert np.isnan(frame["score"].iloc[2])
    assert frame["note"].tolist() == ["a,b", "c", "d,e"]  # text with commas stays text
    assert frame["id"].dtype.kind == "i"


def test_semicolon_with_point_decimal_stays_point(tmp_path):
    table = load_table(write(tmp_path, "pt.csv", "score;label\n0.53;1\n0.1;0\n"))
    assert table.frame["score"].tolist() == [0.53, 0.1]


def test_semicolon_file_mixing_decimal_marks(tmp_path):
    text = "a;b;c\n0,5;0.25;x\n1,5;0.75;y\n2,5;1e-3;z\n"
    frame = load_table(write(tmp_path, "mixed.csv", text)).frame
    assert frame["a"].tolist() == [0.5, 1.5, 2.5]
    assert frame["b"].tolist() == [0.25, 0.75, 0.001]
    assert frame["c"].tolist() == ["x", "y", "z"]


@pytest.mark.parametrize(
    ("name", "delimiter"), [("t.tsv", "\t"), ("t.txt", "\t"), ("p.csv", "|"), ("s.txt", ";")]
)
def test_delimiters(tmp_path, name, delimiter):
    text = delimiter.join(["score", "label", "g"]) + "\n"
    text += "\n".join(delimiter.join([f"0.{i}", str(i % 2), f"g{i}"]) for i in range(1, 6))
    table = load_table(write(tmp_path, name, text + "\n"))
    assert table.source.delimiter == delimiter
    assert list(table.frame.columns) == ["score", "label", "g"]
    assert table.frame["score"].tolist() == [0.1, 0.2, 0.3, 0.4, 0.5]


def test_quoted_fields_with_delimiters_and_newlines(tmp_path):
    text = (
        'name,comment,score\n'
        '"Smith, J.","says ""hi""; then | leaves",0.5\n'
        '"Doe","line one\nline two",0.7\n'
        'Roe,plain,0.9\n'
    )
    table = load_table(write(tmp_path, "quoted.csv", text))
    frame = table.frame
    assert table.source.delimiter == ","
    assert frame["name"].tolist() == ["Smith, J.", "Doe", "Roe"]
    assert frame["comment"].tolist() == ['says "hi"; then | leaves', "line one\nline two", "plain"]
    # The record after the two-line field starts on line 5.
    assert list(frame.index) == [2, 3, 5]


def test_blank_lines_are_skipped_but_row_numbers_kept(tmp_path):
    table = load_table(write(tmp_path, "gaps.csv", "a,b\r\n1,2\r\n\r\n  \r\n3,4\r\n"))
    assert table.frame["a"].tolist() == [1, 3]
    assert list(table.frame.index) == [2, 5]


def test_header_whitespace_stripped_and_na_handling(tmp_path):
    text = " score , group ,note\n0.1,,NA\n0.2,b,None\n,c,text\n"
    frame = load_table(write(tmp_path, "na.csv", text)).frame
    assert list(frame.columns) == ["score", "group", "note"]
    assert np.isnan(frame["score"].iloc[2])
    assert pd.isna(frame["group"].iloc[0])
    # Text is kept as written: a group named 'NA' or 'None' is not an empty cell (#13).
    assert frame["note"].tolist() == ["NA", "None", "text"]


def test_missing_value_words_in_a_number_column_are_empty_and_noted(tmp_path):
    text = "score,group\n0.1,NA\nNA,b\n#N/A,c\n0.4,#N/A\n"
    table = load_table(write(tmp_path, "na_words.csv", text))
    assert np.isnan(table.frame["score"].iloc[1]) and np.isnan(table.frame["score"].iloc[2])
    assert table.frame["score"].iloc[3] == 0.4
    assert table.frame["group"].tolist() == ["NA", "b", "c", "#N/A"]
    assert any("2 cell(s) written as a missing-value word" in n for n in table.notes)


def test_single_column_file(tmp_path):
    table = load_table(write(tmp_path, "one.csv", "score\n0.1\n0.2\n"))
    assert table.frame["score"].tolist() == [0.1, 0.2]
    assert table.source.n_columns == 1


def test_formula_looking_text_is_plain_data(tmp_path):
    text = "id,comment\n1,\"=cmd|' /C calc'!A0\"\n2,+SUM(A1:A2)\n3,@evil\n"
    frame = load_table(write(tmp_path, "inj.csv", text)).frame
    assert frame["comment"].tolist() == ["=cmd|' /C calc'!A0", "+SUM(A1:A2)", "@evil"]


def test_very_long_cell(tmp_path):
    long_value = "x" * 200_000
    path = write(tmp_path, "long.csv", f"id,text,score\n1,{long_value},0.5\n2,short,0.6\n")
    frame = load_table(path).frame
    assert frame["text"].iloc[0] == long_value
    assert frame["score"].tolist() == [0.5, 0.6]


def test_unknown_extension_with_text_is_read_as_csv(tmp_path):
    table = load_table(write(tmp_path, "export.dat", SIMPLE))
    assert table.source.format == "csv" and table.source.n_rows == 3


def test_unknown_binary_extension_is_refused(tmp_path):
    message = error_of(write(tmp_path, "model.bin", b"\x00\x01\x02\x03" * 100))
    assert "model.bin" in message and ".bin is not supported" in message
    assert "CSV" in message


def test_workbook_saved_as_csv_is_explained(tmp_path):
    xlsx = make_xlsx(tmp_path, {"S": [["a"], [1]]})
    renamed = write(tmp_path, "renamed.csv", xlsx.read_bytes())
    message = error_of(renamed)
    assert "renamed.csv" in message and "not a text file" in message


# --------------------------------------------------------------------- text errors


@pytest.mark.parametrize("content", [b"", b"  \n\t\r\n  "])
def test_empty_file(tmp_path, content):
    message = error_of(write(tmp_path, "empty.csv", content))
    assert "'empty.csv' is empty" in message


def test_header_only(tmp_path):
    message = error_of(write(tmp_path, "head.csv", "score,label\n"))
    assert "'head.csv' has a header row but no data rows" in message


def test_duplicate_headers_name_columns_by_letter(tmp_path):
    path = write(tmp_path, "dup.csv", "id,score,label,g,score,g\n1,2,3,4,5,6\n")
    message = error_of(path)
    assert "dup.csv" in message
    assert "column 'score' appears in columns B and E" in message
    assert "column 'g' appears in columns D and F" in message


def test_empty_header_cell_with_values_names_the_column(tmp_path):
    message = error_of(write(tmp_path, "blank.csv", "id,,score\n1,x,0.5\n"))
    assert "blank.csv" in message and "header cell of column B is empty" in message


def test_unnamed_empty_trailing_columns_are_dropped(tmp_path):
    frame = load_table(write(tmp_path, "trail.csv", "id,score,,\n1,0.5,,\n2,0.6,,\n")).frame
    assert list(frame.columns) == ["id", "score"]


def test_short_and_long_rows_name_row_numbers(tmp_path):
    text = "a,b,c\n1,2,3\n4,5\n6,7,8\n9,10,11,12\n13,14,15\n"
    message = error_of(write(tmp_path, "ragged.csv", text))
    assert "ragged.csv" in message and "header has 3 columns" in message
    assert "row 3 has 2" in message and "row 5 has 4" in message
    assert "row 2 " not in message


def test_only_short_rows_are_still_reported(tmp_path):
    # pandas pads short rows silently; the loader must not.
    message = error_of(write(tmp_path, "short.csv", "a,b,c\n1,2,3\n4,5\n"))
    assert "row 3 has 2" in message


def test_many_ragged_rows_list_first_five(tmp_path):
    lines = ["a,b"] + [("1,2,3" if i % 2 else "1,2") for i in range(20)]
    message = error_of(write(tmp_path, "many.csv", "\n".join(lines) + "\n"))
    assert "row 3 has 3, row 5 has 3, row 7 has 3, row 9 has 3, row 11 has 3 …" in message
    assert "(10 rows in all)" in message
    assert "row 13" not in message


def test_ragged_row_after_multiline_field_gets_physical_line(tmp_path):
    message = error_of(write(tmp_path, "ml.csv", 'a,b\n"x\ny",1\n1,2\n1,2,3\n'))
    assert "row 5 has 3" in message


def test_stray_quote_falls_back_to_approximate_rows(tmp_path):
    # pandas reads a quote inside an unquoted value literally; the quote scan cannot.
    table = load_table(write(tmp_path, "stray.csv", 'a,b\n5" x,1\n6,2\n'))
    assert table.frame["a"].tolist() == ['5" x', "6"]
    assert list(table.frame.index) == [2, 3]
    message = error_of(write(tmp_path, "stray2.csv", 'a,b\n5" x,1\n6,2\n7,3,4\n'))
    assert "row 4 (approximately) has 3" in message


def test_unclosed_quote(tmp_path):
    message = error_of(write(tmp_path, "quote.csv", 'a,b\n0,1\n1,"open\n2,3\n'))
    assert "quote.csv" in message and "opened near row 3 is never closed" in message


# ---------------------------------------------------------------------- spreadsheets


def test_xlsx_default_sheet_by_name_and_by_index(tmp_path):
    path = make_xlsx(
        tmp_path,
        {"First": [["score", "label"], [0.5, 1], [0.25, 0]], "Second": [["x", "y"], ["a", 2]]},
    )
    first = load_table(path)
    assert first.source.sheet == "First"
    assert first.source.sheets == ("First", "Second")
    assert first.source.format == "xlsx" and first.source.engine == "calamine"
    assert first.frame["score"].tolist() == [0.5, 0.25]
    assert first.frame["label"].dtype.kind == "i"  # whole numbers read as integers
    assert list(first.frame.index) == [2, 3]
    by_name = load_table(path, sheet="Second")
    by_index = load_table(path, sheet=1)
    for table in (by_name, by_index):
        assert table.source.sheet == "Second"
        assert table.frame["x"].tolist() == ["a"]
    assert list_sheets(path) == ["First", "Second"]


def test_xlsx_missing_sheet_lists_available_sheets(tmp_path):
    path = make_xlsx(tmp_path, {"First": [["a"], [1]], "Second": [["a"], [1]]})
    message = error_of(path, sheet="Results")
    assert "book.xlsx" in message and "no sheet 'Results'" in message
    assert "'First', 'Second'" in message
    message = error_of(path, sheet=5)
    assert "no sheet number 6" in message and "'First', 'Second'" in message


def test_xlsx_offset_table_keeps_sheet_row_numbers(tmp_path):
    rows = [["id", "score", None], [1, 0.5, None], [None, None, None], [2, None, None]]
    path = make_xlsx(tmp_path, {"S": rows}, origin=(3, 2))  # header at B3
    frame = load_table(path).frame
    assert list(frame.columns) == ["id", "score"]
    assert list(frame.index) == [4, 6]  # the empty sheet row 5 is skipped
    assert np.isnan(frame["score"].loc[6])


def test_xlsx_duplicate_and_blank_headers(tmp_path):
    path = make_xlsx(tmp_path, {"S": [["id", "score", "x", "score"], [1, 2, 3, 4]]})
    message = error_of(path)
    assert "sheet 'S' of 'book.xlsx'" in message
    assert "column 'score' appears in columns B and D" in message
    path = make_xlsx(tmp_path, {"S": [["id", None, "x"], [1, 2, 3]]}, name="blank.xlsx")
    assert "header cell of column B is empty" in error_of(path)


def test_xlsx_header_only_and_empty_sheet(tmp_path):
    path = make_xlsx(tmp_path, {"Head": [["a", "b"]], "Empty": []})
    assert "Sheet 'Head' of 'book.xlsx' has a header row but no data rows" in error_of(path)
    assert "Sheet 'Empty' of 'book.xlsx' is empty" in error_of(path, sheet="Empty")


def test_xlsx_formula_looking_text_preserved(tmp_path):
    path = make_xlsx(tmp_path, {"S": [["id", "comment"], [1, "=cmd|' /C calc'!A0"]]})
    assert load_table(path).frame["comment"].tolist() == ["=cmd|' /C calc'!A0"]


def test_openpyxl_fallback_when_calamine_fails(tmp_path, monkeypatch):
    import python_calamine

    def broken(_):
        raise python_calamine.CalamineError("simulated failure")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", broken)
    rows = [["id", "score"], [1, 0.5], [None, None], [2, 0.7]]
    path = make_xlsx(tmp_path, {"S": rows, "T": [["a"], [1]]}, origin=(2, 1))
    table = load_table(path)
    assert table.source.engine == "openpyxl"
    assert table.frame["score"].tolist() == [0.5, 0.7]
    assert list(table.frame.index) == [3, 5]
    assert list_sheets(path) == ["S", "T"]


def test_calamine_panic_also_falls_back(tmp_path, monkeypatch):
    import python_calamine

    class PanicException(BaseException):  # what pyo3 raises for a Rust panic
        pass

    def panics(_):
        raise PanicException("index out of bounds")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", panics)
    xlsx = make_xlsx(tmp_path, {"S": [["a"], [1]]})
    assert load_table(xlsx).source.engine == "openpyxl"
    ods = make_ods(tmp_path, {"S": [["a"], [1]]})
    message = error_of(ods)  # no fallback for ODS: a clear message instead
    assert message.startswith("Could not read 'book.ods': index out of bounds.")


def test_ods_read_and_sheet_selection(tmp_path):
    data = [["score", "grp"], [0.5, "a"], [None, None], [1, "b"]]
    path = make_ods(tmp_path, {"Data": data, "Other": [["x"], [3]]})
    table = load_table(path)
    assert table.source.format == "ods" and table.source.sheets == ("Data", "Other")
    assert table.frame["grp"].tolist() == ["a", "b"]
    assert list(table.frame.index) == [2, 4]
    assert load_table(path, sheet="Other").frame["x"].tolist() == [3]
    assert "no sheet 'Nope'" in error_of(path, sheet="Nope")
    assert list_sheets(path) == ["Data", "Other"]


def test_encrypted_ods_is_refused(tmp_path):
    path = make_ods(tmp_path, {"Data": [["a"], [1]]}, encrypted=True)
    assert "password-protected (encrypted)" in error_of(path)


# --------------------------------------------------------------- spreadsheet safety


def test_encrypted_xlsx_signature(tmp_path):
    path = write(tmp_path, "secret.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024)
    message = error_of(path)
    assert "secret.xlsx" in message and "password-protected (encrypted)" in message
    assert "save an unprotected copy" in message


def test_not_a_zip_xlsx(tmp_path):
    message = error_of(write(tmp_path, "fake.xlsx", SIMPLE))
    assert "fake.xlsx" in message and "not a valid XLSX file" in message


def _never_parse(monkeypatch):
    """Make any attempt to parse the workbook fail the test: checks must come first."""
    import python_calamine

    def forbidden(*_args, **_kwargs):
        raise AssertionError("the parser was reached")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", forbidden)
    monkeypatch.setattr(loading, "_openpyxl_workbook", forbidden)


def test_zip_bomb_total_size_refused_before_parsing(tmp_path, monkeypatch):
    path = make_xlsx(tmp_path, {"S": [["a"], [1]]})
    padding = ("xl/pad.bin", b"\0" * 3_000_000, zipfile.ZIP_DEFLATED)
    bomb = rewrite_zip(path, tmp_path / "bomb.xlsx", add=[padding])
    _never_parse(monkeypatch)
    message = error_of(bomb, max_uncompressed_bytes=1_000_000)
    assert "bomb.xlsx" in message and "refused for safety" in message
    assert "more than the limit of 1 MB" in message


def test_zip_bomb_ratio_refused(tmp_path, monkeypatch):
    path = make_xlsx(tmp_path, {"S": [["a"], [1]]})
    # bzip2 compresses zeros far beyond 1000:1; the entry-size threshold is lowered so
    # the test stays small.
    zeros = ("xl/z.bin", b"\0" * 5_000_000, zipfile.ZIP_BZIP2)
    bomb = rewrite_zip(path, tmp_path / "ratio.xlsx", add=[zeros])
    monkeypatch.setattr(loading, "_BOMB_ENTRY_BYTES", 1_000_000)
    _never_parse(monkeypatch)
    message = error_of(bomb)
    assert "refused for safety" in message
    assert "part 'xl/z.bin' is compressed more than 1000 times" in message


def test_xml_entity_bomb_refused(tmp_path, monkeypatch):
    path = make_xlsx(tmp_path, {"S": [["a"], [1]]})
    with zipfile.ZipFile(path) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml")
    evil = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;">]>' + sheet_xml
    )
    bomb = rewrite_zip(path, tmp_path / "lol.xlsx", replace={"xl/worksheets/sheet1.xml": evil})
    _never_parse(monkeypatch)
    message = error_of(bomb)
    assert "lol.xlsx" in message and "refused for safety" in message
    assert "xl/worksheets/sheet1.xml" in message


# ------------------------------------------------------------------ files and hashes


def test_sha256_matches_hashlib(tmp_path):
    path = write(tmp_path, "h.csv", SIMPLE)
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    assert file_sha256(path) == expected
    assert load_table(path).source.sha256 == expected


def test_input_file_is_not_modified(tmp_path):
    csv_path = write(tmp_path, "keep.csv", SIMPLE)
    xlsx_path = make_xlsx(tmp_path, {"S": [["a"], [1]]})
    past = 1_500_000_000
    for path in (csv_path, xlsx_path):
        os.utime(path, (past, past))
        before = path.read_bytes()
        load_table(path)
        list_sheets(path)
        assert path.read_bytes() == before
        assert os.stat(path).st_mtime == past
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx", "keep.csv"]


def test_list_sheets_of_text_file_is_empty(tmp_path):
    assert list_sheets(write(tmp_path, "t.csv", SIMPLE)) == []


def test_file_not_found(tmp_path):
    message = error_of(tmp_path / "missing.csv")
    assert "'missing.csv' was not found" in message
    for function in (file_sha256, list_sheets):
        with pytest.raises(DataError, match="'missing.csv' was not found"):
            function(tmp_path / "missing.csv")


def test_directory(tmp_path):
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    assert "'folder.csv' is a folder, not a file" in error_of(folder)


def test_permission_denied_is_explained(tmp_path, monkeypatch):
    path = write(tmp_path, "locked.csv", SIMPLE)

    def locked(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(loading, "open", locked, raising=False)
    message = error_of(path)
    assert "locked.csv" in message and "permission denied" in message
    assert "close it" in message


def test_unexpected_parser_failure_is_wrapped(tmp_path, monkeypatch):
    def boom(*_args, **_kwargs):
        raise ValueError("internal parser trouble")

    monkeypatch.setattr(loading, "_rows_to_frame", boom)
    message = error_of(make_xlsx(tmp_path, {"S": [["a"], [1]]}))
    assert message.startswith("Could not read 'book.xlsx': internal parser trouble.")


def test_cancel_is_honoured(tmp_path):
    class CancelNow:
        def check(self):
            raise Cancelled()

    with pytest.raises(Cancelled):
        load_table(write(tmp_path, "c.csv", SIMPLE), cancel=CancelNow())


def test_module_does_not_import_qt():
    code = (
        "import sys, fairdesk.io.loading\n"
        "print([m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph')])"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
