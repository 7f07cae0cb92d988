"""The bad-input corpus (tests/data/bad): every file gives its specific message.

Each file is loaded with fairdesk.io.loading.load_table (and, when it loads, validated
with fairdesk.validation.prepare): the test asserts the message words — the file, the
column, the rows as the analyst sees them, what to do — and that the file is unchanged
afterwards (bytes and modification time). A few files are also opened in the main window:
the message is shown, no partial data is left, and the window opens the sample afterwards.
The files are made by tests/data/make_bad_corpus.py; README.md there lists them.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import importlib.util
import io
import os
import re
import shutil
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from conftest import ROOT, open_and_wait, wait_idle
from fairdesk.errors import DataError, FairDeskError, ValidationError
from fairdesk.io import loading
from fairdesk.io.loading import list_sheets, load_table
from fairdesk.schema import ColumnMapping
from fairdesk.validation import prepare

DATA = Path(__file__).resolve().parent / "data"
BAD = DATA / "bad"
SAMPLE = ROOT / "resources" / "sample" / "sample_scores.csv"
SCREENS = ROOT / "artifacts" / "screens"


def _corpus_module():
    spec = importlib.util.spec_from_file_location("make_bad_corpus", DATA / "make_bad_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


corpus = _corpus_module()
EXPECTED_SCORES = np.array([float(r[1]) for r in corpus.base_rows()])
EXPECTED_OUTCOMES = np.array([r[2] for r in corpus.base_rows()])


def mapping(**changes) -> ColumnMapping:
    roles = dict(score="score", label="outcome", groups=["race"], id="person_id",
                 weight="weight", positive_label=1)
    roles.update(changes)
    return ColumnMapping(**roles)


@contextlib.contextmanager
def untouched(path: Path):
    """The file's bytes and modification time are the same after the block."""
    before = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
    yield
    after = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
    assert after == before, f"{path.name} was modified by loading"


def load_error(name: str, **kwargs) -> str:
    path = BAD / name
    with untouched(path):
        with pytest.raises(DataError) as caught:
            load_table(path, **kwargs)
    message = str(caught.value)
    assert "Traceback" not in message and "Error:" not in message
    return message


def load_ok(name: str, **kwargs):
    path = BAD / name
    with untouched(path):
        return load_table(path, **kwargs)


def validation_problems(name: str, **kwargs):
    """(data or None, problems) of the file validated with the standard mapping."""
    table = load_ok(name)
    roles = kwargs.pop("roles", {})
    try:
        data = prepare(table.frame, mapping(**roles), **kwargs)
    except ValidationError as err:
        assert str(err) == "\n".join(p.message for p in err.problems)
        return None, err.problems
    return data, data.problems


def only(problems, code):
    found = [p for p in problems if p.code == code]
    assert len(found) == 1, [p.code for p in problems]
    return found[0]


def assert_words(message: str, words) -> None:
    for w in words:
        assert w in message, f"{w!r} not in {message!r}"


# ------------------------------------------------------------- files that cannot be read

CANNOT_READ = {
    "empty.csv": ["'empty.csv' is empty: it contains no table.",
                  "Check that you chose the right file and that it was saved completely."],
    "whitespace_only.csv": ["'whitespace_only.csv' is empty: it contains no table."],
    "header_only.csv": ["'header_only.csv' has a header row but no data rows.",
                        "Check that you chose the right file (or sheet)"],
    "duplicate_headers.csv": [
        "In 'duplicate_headers.csv', column names must be unique, but column 'score' "
        "appears in columns B and E.", "Rename or delete the repeated columns"],
    "blank_header_with_values.csv": [
        "In 'blank_header_with_values.csv', the header cell of column C is empty, but the "
        "column holds values (from row 2).", "type a name there (or delete the column if it is not needed)"],
    "ragged_rows.csv": [
        "In 'ragged_rows.csv', the header has 5 columns but not every row has 5 fields: "
        "row 4 has 6, row 7 has 4, row 11 has 3.",
        "a value contains the separator (comma) without being in double quotes",
        "Fix these rows in a text editor or Excel"],
    "unclosed_quote.csv": [
        "In 'unclosed_quote.csv', a double quote (\") opened near row 10 is never closed",
        "Add the missing closing quote (or remove the stray one)"],
    "binary_data.csv": [
        "'binary_data.csv' does not contain readable text (it contains binary data).",
        "Make sure it is a table saved as CSV"],
    "spss_file.sav": [
        "FairDesk cannot read 'spss_file.sav': the file type .sav is not supported.",
        "Save the table as CSV (.csv, .tsv, .txt), Excel (.xlsx, .xlsm) or OpenDocument (.ods)"],
    "workbook_named.csv": [
        "'workbook_named.csv' is not a text file: it looks like an Excel or OpenDocument "
        "workbook saved under a text-file name.", "Rename it with its proper extension"],
    "text_named.xlsx": [
        "'text_named.xlsx' is not a valid XLSX file: it is damaged or is another kind of "
        "file renamed to this extension.", "save it again as XLSX (or as CSV)"],
    "truncated.xlsx": ["'truncated.xlsx' is not a valid XLSX file: it is damaged"],
    "damaged.xls": ["Could not read 'damaged.xls'",
                    "The file may be damaged or not in the format its name suggests.",
                    "save it again as CSV (.csv, .tsv, .txt), Excel (.xlsx, .xlsm)"],
    "header_only.xlsx": [
        "Sheet 'Scores' of 'header_only.xlsx' has a header row but no data rows."],
    "empty_first_sheet.xlsx": [
        "Sheet 'Notes' of 'empty_first_sheet.xlsx' is empty: it contains no table. "
        "Choose another sheet."],
    "duplicate_headers.xlsx": [
        "In sheet 'Scores' of 'duplicate_headers.xlsx', column names must be unique, but "
        "column 'race' appears in columns C and E."],
}


@pytest.mark.parametrize("name", sorted(CANNOT_READ))
def test_unreadable_file_gives_its_message(name):
    assert_words(load_error(name), CANNOT_READ[name])


def test_undecodable_text_names_the_byte():
    raw = (BAD / "undecodable.csv").read_bytes()
    position = raw.index(b"\x81") + 1  # undefined in Windows-1252 (and not UTF-8)
    message = load_error("undecodable.csv")
    assert_words(message, [
        f"The text in 'undecodable.csv' could not be decoded (byte {position} is not valid "
        "cp1252 text).", "save it again as 'CSV UTF-8'"])


def test_unreadable_spreadsheets_also_fail_when_listing_sheets():
    """The window lists the sheets before loading: the same message comes from there."""
    for name in ("text_named.xlsx", "truncated.xlsx", "zip_bomb.xlsx", "zip_bomb.ods",
                 "entity_bomb.xlsx", "entity_bomb_late.xlsx", "encrypted.xlsx",
                 "encrypted.ods"):
        path = BAD / name
        with untouched(path), pytest.raises(DataError) as caught:
            list_sheets(path)
        assert f"'{name}'" in str(caught.value)


def test_empty_first_sheet_other_sheet_loads():
    assert list_sheets(BAD / "empty_first_sheet.xlsx") == ["Notes", "Scores"]
    table = load_ok("empty_first_sheet.xlsx", sheet="Scores")
    assert table.frame.shape == (12, 5)
    assert list(table.frame.index) == list(range(2, 14))  # the sheet's own row numbers
    assert np.allclose(table.frame["score"], EXPECTED_SCORES[:12])


# ---------------------------------------------------------- spreadsheets refused for safety


def _never_parse(monkeypatch):
    """Fail the test if a spreadsheet parser is reached: the checks must come first."""
    import python_calamine

    def forbidden(*_args, **_kwargs):
        raise AssertionError("a spreadsheet parser was reached")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", forbidden)
    monkeypatch.setattr(loading, "_openpyxl_workbook", forbidden)


def _record_opened_members(monkeypatch) -> list[str]:
    opened: list[str] = []
    original = zipfile.ZipFile.open

    def spy(self, name, *args, **kwargs):
        opened.append(name.filename if isinstance(name, zipfile.ZipInfo) else name)
        return original(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    return opened


@pytest.mark.parametrize("name, part", [("zip_bomb.xlsx", "xl/worksheets/sheet1.xml"),
                                        ("zip_bomb.ods", "content.xml")])
def test_zip_bomb_refused_with_default_limits_before_inflating(name, part, monkeypatch):
    path = BAD / name
    assert path.stat().st_size < 400_000
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(part)
    # a genuine bomb, as the loader judges one by default: a part over 100 MiB expanding
    # more than 1000 times
    assert info.file_size > loading._BOMB_ENTRY_BYTES
    assert info.file_size > loading._BOMB_RATIO * info.compress_size
    _never_parse(monkeypatch)
    opened = _record_opened_members(monkeypatch)
    tracemalloc.start()
    try:
        message = load_error(name)  # default limits
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert_words(message, [
        f"'{name}' was refused for safety: its part '{part}' is compressed more than 1000 "
        "times (126 MB when expanded).", "Such files are usually damaged or malicious.",
        "save it as CSV in Excel or LibreOffice and load that instead"])
    assert opened == []  # no part was inflated, not even partly
    assert peak < 20 * 1024 * 1024  # the file (120 KB) in memory, not its 126 MB


def test_zip_bomb_declared_size_is_honest():
    """The corpus bomb really expands to what its directory says (streamed, CRC checked)."""
    with zipfile.ZipFile(BAD / "zip_bomb.xlsx") as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
        total = 0
        with archive.open(info) as part:
            head = part.read(1 << 20)
            total += len(head)
            while chunk := part.read(1 << 22):
                total += len(chunk)
    assert total == info.file_size == 126_000_000
    assert head.startswith(b"<worksheet") and b"<sheetData>" in head


def test_zip_bomb_lying_about_its_size_stops_at_the_declared_size():
    """The bomb checks trust the sizes the zip declares; a zip that understates them is
    cut off by the readers at the declared size (and fails its checksum)."""
    import python_calamine

    path = BAD / "zip_bomb_lying_size.xlsx"
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    assert info.file_size == 10_000_000 and info.compress_size > 100_000  # really 120 MB
    workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(path.read_bytes()))
    with pytest.raises(Exception, match="larger than its declared uncompressed size"):
        workbook.get_sheet_by_name("Scores").to_python()
    tracemalloc.start()
    try:
        message = load_error("zip_bomb_lying_size.xlsx")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert_words(message, [
        "Could not read 'zip_bomb_lying_size.xlsx': Bad CRC-32 for file "
        "'xl/worksheets/sheet1.xml'. The file may be damaged"])
    assert peak < 60 * 1024 * 1024  # at most the declared 10 MB were inflated


def test_zip_bomb_total_size_limit_also_applies():
    message = load_error("zip_bomb.xlsx", max_uncompressed_bytes=50_000_000)
    assert_words(message, ["'zip_bomb.xlsx' was refused for safety: it would expand to 126 MB "
                           "when opened, more than the limit of 50 MB."])


@pytest.mark.parametrize("name", ["entity_bomb.xlsx", "entity_bomb_late.xlsx"])
def test_xml_entity_bomb_refused_before_parsing(name, monkeypatch):
    with zipfile.ZipFile(BAD / name) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml")
    assert b'<!ENTITY lol9 "&lol8;' in xml and b"&lol9;" in xml  # 10^9 'lol' if expanded
    if name == "entity_bomb_late.xlsx":
        assert xml.index(b"<!DOCTYPE") > loading._XML_HEAD_BYTES  # past a look at the start
    _never_parse(monkeypatch)
    message = load_error(name)
    assert_words(message, [
        f"'{name}' was refused for safety: its part 'xl/worksheets/sheet1.xml' declares XML "
        "entities (<!DOCTYPE>/<!ENTITY>), which spreadsheets never need",
        "Open the file in Excel or LibreOffice, save it again, and load the new copy."])


def test_xml_prolog_scan_edge_cases():
    """The prolog scan: declarations split across reads, long comments, UTF-16, no prolog."""
    def problem(xml: bytes):
        return loading._prolog_problem(io.BytesIO(xml))

    root = b"<worksheet><sheetData/></worksheet>"
    assert problem(b'<?xml version="1.0"?>' + root) is None
    assert problem(root) is None
    assert problem(b"") is None
    assert problem(b'<?xml version="1.0"?>\n<!-- <a> --><!DOCTYPE x []>' + root)
    for pad in range(4080, 4100):  # '<!DOCTYPE' straddling the first read
        xml = b'<?xml version="1.0"?>' + b" " * (pad - 21) + b'<!DOCTYPE x [<!ENTITY a "b">]>'
        assert problem(xml + root), pad
    comment = b"<!-- " + b"-" * 3000 + b" -->"
    assert problem(comment * 3 + root) is None
    assert problem(comment * 3 + b"<!ENTITY a 'b'>" + root)
    long_prolog = problem(b"<!-- " + b"x" * (2 * loading._XML_PROLOG_BYTES) + b" -->" + root)
    assert long_prolog and "1,024 KB of declarations, comments or blank space before its content" in long_prolog
    utf16 = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x []>'
             '<worksheet/>').encode("utf-16")
    assert problem(utf16)
    assert problem('<?xml version="1.0"?><worksheet/>'.encode("utf-16-le")) is None
    assert problem('<!DOCTYPE x []><worksheet/>'.encode("utf-16-be"))


def test_encrypted_xlsx_is_a_real_ole2_container():
    raw = (BAD / "encrypted.xlsx").read_bytes()
    assert raw.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    # the directory names the streams Excel writes for an encrypted workbook
    assert "EncryptionInfo".encode("utf-16-le") in raw
    assert "EncryptedPackage".encode("utf-16-le") in raw


@pytest.mark.parametrize("name, program", [("encrypted.xlsx", "Excel"),
                                           ("encrypted.ods", "LibreOffice")])
def test_password_protected_workbook_refused(name, program, monkeypatch):
    _never_parse(monkeypatch)
    message = load_error(name)
    assert_words(message, [
        f"'{name}' is password-protected (encrypted), so FairDesk cannot read it.",
        f"Open it in {program} with the password, save an unprotected copy"])


# ------------------------------------------------------------------ files that load


def _check_standard_table(table, n=60):
    frame = table.frame
    assert list(frame.columns) == corpus.HEADER
    assert list(frame.index) == list(range(2, n + 2))
    assert np.allclose(frame["score"].to_numpy(dtype=float), EXPECTED_SCORES[:n])
    data = prepare(frame, mapping(), min_group_size=1)
    assert data.n == n and not [p for p in data.problems if p.severity == "error"]
    assert np.array_equal(data.label, EXPECTED_OUTCOMES[:n])


def test_utf8_bom_is_not_part_of_the_first_column_name():
    table = load_ok("utf8_bom.csv")
    assert table.source.encoding == "utf-8-sig"
    assert table.frame.columns[0] == "person_id"
    _check_standard_table(table)


def test_semicolons_and_decimal_commas():
    table = load_ok("semicolon_decimal_comma.csv")
    assert table.source.delimiter == ";"
    assert table.frame["score"].dtype.kind == "f" and table.frame["weight"].dtype.kind == "f"
    assert (table.frame["weight"] == 1.0).all()
    _check_standard_table(table)


def test_cp1252_text_keeps_accents_and_euro():
    table = load_ok("cp1252.csv")
    assert table.source.encoding == "cp1252"
    assert set(table.frame["race"]) == {"Réunion", "Öst-Ländle", "Señal €"}
    data = prepare(table.frame, mapping(), min_group_size=1)
    assert data.group_names == sorted(["Réunion", "Öst-Ländle", "Señal €"])


@pytest.mark.parametrize("name, encoding, delimiter", [
    ("utf16_unicode_text.txt", "utf-16", "\t"), ("utf16_no_bom.csv", "utf-16-be", ",")])
def test_utf16_text(name, encoding, delimiter):
    table = load_ok(name)
    assert (table.source.encoding, table.source.delimiter) == (encoding, delimiter)
    _check_standard_table(table)


def test_200k_character_cell_is_kept_and_shortened_in_messages():
    table = load_ok("long_cell_200k.csv")
    notes = table.frame["notes"]
    assert notes.loc[5] == "x" * 200_000 and notes.drop(index=5).isna().all()
    data = prepare(table.frame, mapping(groups=["notes"]), min_group_size=2)
    assert "x" * 200_000 in data.group_names  # the data keeps the whole value
    long_group = [p for p in data.problems if "200,000 characters" in p.message]
    assert long_group and all(len(p.message) < 400 for p in data.problems)
    assert_words(only(data.problems, "group_small").message, [
        "Group '" + "x" * 60 + "… (200,000 characters)' has only 1 rows (fewer than 2)"])


def test_formula_looking_text_is_data_never_a_formula(tmp_path):
    table = load_ok("formula_strings.csv")
    assert table.frame.loc[2, "race"] == "=cmd|' /C calc'!A0"
    assert table.frame.loc[2, "note"] == "=cmd|' /C calc'!A0"
    assert table.frame.loc[3, "note"] == "+SUM(1,2)" and table.frame.loc[6, "note"] == '=HYPERLINK("x")'
    data = prepare(table.frame, mapping(), min_group_size=1)
    assert "=cmd|' /C calc'!A0" in data.group_names
    # exported: a text cell in the workbook, a quoted text in CSV
    from fairdesk.cli import main

    out, rows = tmp_path / "tables.xlsx", tmp_path / "rows.csv"
    code = main(["export", str(BAD / "formula_strings.csv"), "--score", "score", "--label",
                 "outcome", "--group", "race", "--id", "person_id", "--out", str(out),
                 "--rows-out", str(rows)])
    assert code == 0
    workbook = openpyxl.load_workbook(out)
    cells = [c for ws in workbook for row in ws.iter_rows() for c in row]
    named = [c for c in cells if c.value == "=cmd|' /C calc'!A0"]
    assert named and all(c.data_type == "s" for c in named)  # the group's name, as text
    assert not [c for c in cells if c.data_type == "f"]  # no formula anywhere
    text = rows.read_text(encoding="utf-8-sig")
    assert "'=cmd|' /C calc'!A0" in text
    assert not re.search(r"(^|,)=cmd", text, re.M)


# ------------------------------------------------ files that load but fail or warn in validation


def test_one_row():
    table = load_ok("one_row.csv")
    assert table.frame.shape == (1, 5) and list(table.frame.index) == [2]
    data, problems = validation_problems("one_row.csv")
    assert data is None
    assert_words(only(problems, "label_one_value").message, [
        "Column 'outcome' holds only 0: error rates need rows of both outcomes.",
        "Check that you chose the outcome column and the whole file."])


def test_scores_that_are_words():
    data, problems = validation_problems("scores_text.csv")
    assert data is None
    problem = only(problems, "score_not_numeric")
    assert_words(problem.message, [
        "Column 'score' does not hold numeric scores: 59 of 60 values are text (e.g. 'high', "
        "'low', 'medium'; rows 2, 3, 4, 5, 6 and 54 more).",
        "Choose the column with the model's score as the score."])
    assert problem.rows == [2, 3, 4, 5, 6] and problem.count == 59


def test_some_scores_not_numbers_or_empty():
    # 3 of 60 rows (5 %) is more than the odd bad cell: by default FairDesk stops and asks.
    stopped, problems = validation_problems("scores_some_text.csv", min_group_size=1)
    assert stopped is None
    assert_words(only(problems, "exclusion_questioned").message, [
        "Rows with a missing or unreadable score or outcome were found (rows 3, 9, 22)",
        "3 of 60 rows (5.0%) would be left out, more than 1%",
        "command line: --exclude-invalid"])
    data, problems = validation_problems("scores_some_text.csv", min_group_size=1,
                                         invalid_scores="exclude")
    assert data.n == 57 and 3 not in data.row_numbers and 9 not in data.row_numbers
    text = only(problems, "score_not_numeric")
    assert_words(text.message, [
        "Column 'score': 2 row(s) have a score that is not a number (rows 3, 9).",
        "They are left out of the analysis; fix the cells to include them."])
    assert text.severity == "warning" and text.rows == [3, 9]
    assert_words(only(problems, "score_missing").message, [
        "Column 'score': 1 row(s) have no score (empty cell) (row 22)."])
    refused, problems = validation_problems("scores_some_text.csv", invalid_scores="refuse")
    assert refused is None
    assert_words(only(problems, "score_not_numeric").message, [
        "(rows 3, 9). Fix these cells, or choose to exclude such rows."])


def test_infinite_scores():
    stopped, problems = validation_problems("scores_infinite.csv", min_group_size=1)
    assert stopped is None and only(problems, "exclusion_questioned").severity == "error"
    data, problems = validation_problems("scores_infinite.csv", min_group_size=1,
                                         invalid_scores="exclude")
    assert data.n == 58 and np.isfinite(data.score).all()
    assert_words(only(problems, "score_infinite").message, [
        "Column 'score': 2 row(s) have an infinite score (rows 6, 12).",
        "They are left out of the analysis"])
    refused, problems = validation_problems("scores_infinite.csv", invalid_scores="refuse")
    assert refused is None and only(problems, "score_infinite").severity == "error"


def test_three_label_values():
    data, problems = validation_problems("three_labels.csv")
    assert data is None
    assert_words(only(problems, "label_values").message, [
        "Column 'outcome' must hold two outcome values, but it has 3: 1 (30 rows), "
        "0 (27 rows), 2 (3 rows).",
        "Choose the right outcome column, or recode it to two values"])


def test_one_group_is_a_warning():
    data, problems = validation_problems("one_group.csv", min_group_size=1)
    assert data is not None and data.group_names == ["Group A"]
    problem = only(problems, "one_group")
    assert problem.severity == "warning" and problem.column == "race"
    assert_words(problem.message, [
        "Column 'race' holds one group only ('Group A') in the rows analysed, so there are no "
        "groups to compare and every fairness measure is undefined.",
        "Map a column with at least two groups"])
    # the audit runs and reports the measures as undefined rather than failing
    from fairdesk.audit import run_audit

    result = run_audit(data, [0.5])
    assert all(np.isnan(v).all() for v in result.fairness.values())


def test_one_group_after_excluding_rows_and_with_two_columns():
    table = load_ok("one_group.csv")
    frame = table.frame.assign(sex="F")
    data = prepare(frame, mapping(groups=["race", "sex"]), min_group_size=1)
    assert_words(only(data.problems, "one_group").message, [
        "Columns 'race', 'sex' together give one group only ('Group A, F')"])
    two = prepare(load_ok("group_one_class.csv").frame, mapping(), min_group_size=1)
    assert not [p for p in two.problems if p.code == "one_group"]


def test_a_group_with_one_class_is_a_warning():
    data, problems = validation_problems("group_one_class.csv", min_group_size=1)
    assert data is not None
    problem = only(problems, "group_no_positives")
    assert problem.severity == "warning"
    assert_words(problem.message, [
        "Group 'Group C' has no rows with the positive outcome, so its TPR, FNR and AUC are "
        "undefined (0/0) and it is left out of the measures that need them.",
        "Consider merging it with a similar group."])
    assert not [p for p in problems if p.code == "group_no_negatives"]


def test_negative_weights():
    data, problems = validation_problems("negative_weights.csv")
    assert data is None
    problem = only(problems, "weight_invalid")
    assert_words(problem.message, [
        "Column 'weight': 2 row(s) have a negative weight (rows 5, 32).",
        "Frequency weights must be numbers of zero or more; fix these cells or unmap the "
        "weight column."])
    assert problem.rows == [5, 32]


def test_zero_weights():
    data, problems = validation_problems("zero_weights.csv")
    assert data is None
    assert_words(only(problems, "weight_zero").message, [
        "Column 'weight': every weight is zero, so there is nothing to analyse."])


# ------------------------------------------------- files deleted or locked while loading


@pytest.fixture
def copy_of(tmp_path):
    def make(name):
        target = tmp_path / name
        shutil.copyfile(BAD / name, target)
        return target
    return make


def test_file_deleted_between_choosing_the_sheet_and_loading(copy_of):
    path = copy_of("empty_first_sheet.xlsx")
    assert list_sheets(path) == ["Notes", "Scores"]
    path.unlink()  # deleted (or moved) while the analyst chose the sheet
    with pytest.raises(DataError) as caught:
        load_table(path, sheet="Scores")
    assert_words(str(caught.value), [
        "The file 'empty_first_sheet.xlsx' was not found. It may have been moved, renamed or "
        "deleted; choose the file again."])


def test_file_locked_by_another_program(copy_of, monkeypatch):
    """Linux cannot lock a file against reading; Windows raises PermissionError when Excel
    holds it open, or a sharing-violation OSError: both are simulated on ``open``."""
    path = copy_of("empty_first_sheet.xlsx")
    real_open = open

    def make_locked(err):
        def locked(file, *args, **kwargs):
            if os.fspath(file) == str(path):
                raise err
            return real_open(file, *args, **kwargs)
        return locked

    monkeypatch.setattr(loading, "open", make_locked(PermissionError(errno.EACCES, "denied")),
                        raising=False)
    for call in (lambda: list_sheets(path), lambda: load_table(path)):
        with pytest.raises(DataError) as caught:
            call()
        assert_words(str(caught.value), [
            "FairDesk is not allowed to read 'empty_first_sheet.xlsx' (permission denied).",
            "If the file is open in another program such as Excel, close it there and try again"])
    sharing = OSError(errno.EBUSY, "The process cannot access the file because it is being "
                      "used by another process")
    monkeypatch.setattr(loading, "open", make_locked(sharing), raising=False)
    with pytest.raises(DataError) as caught:
        load_table(path)
    assert_words(str(caught.value), [
        "FairDesk could not read 'empty_first_sheet.xlsx': The process cannot access the file",
        "If the file is open or locked by another program, close it there"])


def test_file_vanishing_during_the_read(copy_of, monkeypatch):
    """A network drive dropping out mid-read: the read fails with an I/O error."""
    path = copy_of("utf8_bom.csv")
    real_open = open

    class Vanishing(io.BytesIO):
        def read(self, *args):
            raise OSError(errno.EIO, "Input/output error")

    def flaky(file, *args, **kwargs):
        if os.fspath(file) == str(path):
            return Vanishing()
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(loading, "open", flaky, raising=False)
    with pytest.raises(DataError) as caught:
        load_table(path)
    assert_words(str(caught.value), [
        "FairDesk could not read 'utf8_bom.csv': Input/output error.",
        "if it is on a network drive, copy it to this computer and try again"])


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root reads any file, so a real permission error cannot be made")
def test_real_permission_denied(copy_of):
    path = copy_of("utf8_bom.csv")
    path.chmod(0)
    try:
        with pytest.raises(DataError) as caught:
            load_table(path)
    finally:
        path.chmod(0o644)
    assert "permission denied" in str(caught.value)


# ------------------------------------------------------------- the command line


@pytest.mark.parametrize("name, words", [
    ("zip_bomb.xlsx", ["error: 'zip_bomb.xlsx' was refused for safety"]),
    ("ragged_rows.csv", ["error: In 'ragged_rows.csv', the header has 5 columns"]),
    ("three_labels.csv", ["error: Column 'outcome' must hold two outcome values"]),
    ("negative_weights.csv", ["error: Column 'weight': 2 row(s) have a negative weight"]),
])
def test_command_line_prints_the_message_and_exits_2(name, words, capsys):
    from fairdesk.cli import main

    path = BAD / name
    with untouched(path):
        code = main(["audit", str(path), "--score", "score", "--label", "outcome", "--group",
                     "race", "--weight", "weight"])
    captured = capsys.readouterr()
    assert code == 2 and "Traceback" not in captured.err
    assert_words(captured.err, words)


# ------------------------------------------------------------- the corpus itself


def test_every_corpus_file_has_a_test_and_a_readme_line():
    files = sorted(p.name for p in BAD.iterdir() if p.name != "README.md")
    assert len(files) >= 30
    source = Path(__file__).read_text(encoding="utf-8") + (
        Path(__file__).parent / "test_input_fidelity.py").read_text(encoding="utf-8")
    readme = (BAD / "README.md").read_text(encoding="utf-8")
    for name in files:
        assert f'"{name}"' in source, f"{name} has no test"
        assert f"| `{name}` (" in readme, f"{name} is not in README.md"
        assert (BAD / name).stat().st_size < 400_000
    listed = re.findall(r"^\| `([^`]+)` \(", readme, re.M)
    assert sorted(listed) == files


def _members(raw: bytes):
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        return [(i.filename, i.CRC, i.file_size, i.date_time) for i in archive.infolist()]


def test_generator_reproduces_the_committed_corpus(tmp_path):
    corpus.write_corpus(tmp_path)
    made = sorted(p.name for p in tmp_path.iterdir())
    assert made == sorted(p.name for p in BAD.iterdir())
    for name in made:
        new, old = (tmp_path / name).read_bytes(), (BAD / name).read_bytes()
        if zipfile.is_zipfile(io.BytesIO(old)):
            # same members, bytes (CRC), sizes and timestamps; the compressed bytes could
            # differ only with another zlib build
            assert _members(new) == _members(old), name
        elif old.startswith(b"PK"):  # truncated.xlsx: half of a deflated zip
            assert new[:30] == old[:30] and abs(len(new) - len(old)) < 200, name
        else:
            assert new == old, name


# ------------------------------------------------------------- the main window


@pytest.fixture
def window(make_window):
    pytest.importorskip("PySide6")
    pytest.importorskip("pytestqt")
    return make_window(show=False)


def _open_and_settle(window, qtbot, path, expect_error=True):
    before = len(window.errors)
    window.open_path(str(path))
    wait_idle(qtbot, window)  # reading, then validating when the file could be read
    if expect_error:
        assert len(window.errors) > before


def _open_sample(window, qtbot):
    open_and_wait(qtbot, window, SAMPLE)
    assert window.state.data.n == 6000


@pytest.mark.parametrize("name, words", [
    ("empty.csv", "'empty.csv' is empty"),
    ("ragged_rows.csv", "row 4 has 6, row 7 has 4, row 11 has 3"),
    ("zip_bomb.xlsx", "'zip_bomb.xlsx' was refused for safety"),
    ("encrypted.xlsx", "'encrypted.xlsx' is password-protected (encrypted)"),
    ("entity_bomb_late.xlsx", "declares XML entities"),
    ("undecodable.csv", "could not be decoded"),
])
def test_window_shows_the_message_and_keeps_no_partial_data(window, qtbot, name, words):
    path = BAD / name
    with untouched(path):
        _open_and_settle(window, qtbot, path)
    message, details = window.errors[-1]
    assert words in message and details == ""  # an explained problem, not a traceback
    # the dialog the analyst would see (saved to look at; it is plain text, not HTML)
    from fairdesk.gui.dialogs import ErrorDialog

    dialog = ErrorDialog(window, message, details)
    dialog.show()
    qtbot.waitExposed(dialog)
    SCREENS.mkdir(parents=True, exist_ok=True)
    assert dialog.grab().save(str(SCREENS / f"bad_input_{name.replace('.', '_')}.png"))
    dialog.close()
    assert window.state.table is None and window.state.data is None
    assert window.state.scores is None
    _open_sample(window, qtbot)  # the window stays usable
    assert len(window.errors) == 1


def test_window_keeps_the_open_file_when_a_bad_one_fails(window, qtbot):
    _open_sample(window, qtbot)
    table, data, thresholds = window.state.table, window.state.data, window.state.thresholds
    for name in ("header_only.csv", "zip_bomb.ods", "duplicate_headers.xlsx"):
        _open_and_settle(window, qtbot, BAD / name)
        assert f"'{name}'" in window.errors[-1][0]
        # nothing of the bad file got in: the analysis on screen is the one before
        assert window.state.table is table and window.state.data is data
        assert np.array_equal(window.state.thresholds, thresholds)
    assert len(window.errors) == 3


def test_window_lists_validation_problems_without_partial_data(window, qtbot):
    path = BAD / "negative_weights.csv"
    with untouched(path):
        window.open_path(str(path))
        wait_idle(qtbot, window)
    assert window.state.data is None and window.state.scores is None
    problem = only(window.state.problems, "weight_invalid")
    assert "(rows 5, 32)" in problem.message
    assert window.errors == []  # listed on the Data page, not as an error dialog
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    SCREENS.mkdir(parents=True, exist_ok=True)
    assert window.grab().save(str(SCREENS / "bad_input_negative_weights_data_page.png"))
    _open_sample(window, qtbot)


def test_window_file_deleted_while_choosing_the_sheet(window, qtbot, copy_of, monkeypatch):
    from fairdesk.gui import main_window

    path = copy_of("empty_first_sheet.xlsx")

    def choose_then_file_disappears(parent, filename, sheets, **_):
        assert sheets == ["Notes", "Scores"]
        path.unlink()
        return "Scores"

    monkeypatch.setattr(main_window.dialogs, "choose_sheet", choose_then_file_disappears)
    _open_and_settle(window, qtbot, path)
    assert "'empty_first_sheet.xlsx' was not found" in window.errors[-1][0]
    assert window.state.table is None and window.state.data is None
    _open_sample(window, qtbot)


def test_window_file_locked(window, qtbot, copy_of, monkeypatch):
    path = copy_of("utf8_bom.csv")
    real_open = open

    def locked(file, *args, **kwargs):
        if os.fspath(file) == str(path):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(loading, "open", locked, raising=False)
    _open_and_settle(window, qtbot, path)
    assert "close it there and try again" in window.errors[-1][0]
    assert window.state.table is None
    _open_sample(window, qtbot)


def test_no_unexpected_exception_type_escapes_for_any_corpus_file():
    """Whatever the file, the loader either returns a table or raises a FairDeskError."""
    for path in sorted(BAD.iterdir()):
        if path.name == "README.md":
            continue
        try:
            load_table(path)
        except FairDeskError:
            pass
