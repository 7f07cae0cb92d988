"""Read the analyst's table (CSV/TSV/TXT, XLSX/XLSM, ODS) into a DataFrame.

The input file is only ever read: its bytes are read once into memory, hashed, and every
parser works on that in-memory copy, so the hash always describes exactly what was parsed
and the file is never kept open (or locked) while parsing.

Every problem with the file is raised as :class:`~fairdesk.errors.DataError` whose text
says what is wrong and what to do, naming the file and, where it helps, the columns and
the row numbers as the analyst sees them in Excel or a text editor (the header is row 1).

This module must not import PySide6 or pyqtgraph: it runs in worker code and the CLI.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import python_calamine

from fairdesk.errors import Cancelled, DataError
from fairdesk.io import sheet_parts
from fairdesk.io.numbers import could_be_grouped, read_numbers

__all__ = ["SourceInfo", "LoadedTable", "file_sha256", "list_sheets", "load_table"]

_TEXT_EXTENSIONS = {".csv", ".tsv", ".txt"}
_ZIP_SPREADSHEETS = {".xlsx": "xlsx", ".xlsm": "xlsm", ".ods": "ods"}
_SUPPORTED = "CSV (.csv, .tsv, .txt), Excel (.xlsx, .xlsm) or OpenDocument (.ods)"
_DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}

_OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_SIGNATURE = b"PK\x03\x04"
_SNIFF_BYTES = 64 * 1024
# Zip-bomb limits for a single entry: a ratio this extreme on an entry this large is
# never produced by a real spreadsheet.
_BOMB_RATIO = 1000
_BOMB_ENTRY_BYTES = 100 * 1024 * 1024
_XML_HEAD_BYTES = 4096
_XML_PROLOG_BYTES = 1024 * 1024  # an XML part's prolog (before the root element) at most
_MAX_LISTED = 5  # offending rows/columns named in a message
_DEFAULT_MAX_UNCOMPRESSED = 2_000_000_000
# C0 control characters that never occur in a text table (tab, CR, LF, VT, FF and the
# DOS end-of-file mark 0x1A are allowed).
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x19\x1b-\x1f]")
_QUOTED = re.compile(r'"[^"]*(?:""[^"]*)*"')
# A number written with the given decimal mark (e.g. '0,53', '-1,2e-05' for ',').
_NUMBER = {
    mark: re.compile(rf"[+-]?(?:\d+(?:{m}\d*)?|{m}\d+)(?:[eE][+-]?\d+)?")
    for mark, m in ((",", ","), (".", r"\."))
}


@dataclass(frozen=True)
class SourceInfo:
    """Where a table came from and how it was read (for the audit trail)."""

    path: str
    sha256: str
    format: str
    sheet: str | None
    sheets: tuple[str, ...]
    encoding: str | None
    delimiter: str | None
    engine: str
    n_rows: int
    n_columns: int


@dataclass
class LoadedTable:
    """The table and its provenance; ``frame.index`` holds user-visible row numbers."""

    frame: pd.DataFrame
    source: SourceInfo
    # How the file was read where it matters to the numbers (lines skipped above the
    # header, thousands separators, 'NA' read as missing ...): shown as data notes.
    notes: list = field(default_factory=list)


# --------------------------------------------------------------------------- public API


def file_sha256(path, cancel=None) -> str:
    """SHA-256 (hex) of the file's bytes (a regular file only; read in chunks, with
    ``cancel.check()`` between them)."""
    path, name = _resolve(path)
    digest = hashlib.sha256()
    for chunk in _read_chunks(path, name, cancel):
        digest.update(chunk)
    return digest.hexdigest()


def list_sheets(path) -> list[str]:
    """Sheet names of a spreadsheet, in workbook order; ``[]`` for text files."""
    path, name = _resolve(path)
    kind = _kind_from_extension(path)
    if kind not in ("xlsx", "xlsm", "ods", "xls"):
        _require_file(path, name)
        return []
    raw = _read_bytes(path, name)
    try:
        if kind != "xls":
            _check_zip_container(raw, name, kind, _DEFAULT_MAX_UNCOMPRESSED)
        return _calamine_sheet_names(raw, name, kind)
    except DataError:
        raise
    except BaseException as err:  # a damaged file must not surface as a traceback
        if not _is_parser_failure(err):
            raise
        raise _unexpected(err, name) from None


def load_table(
    path,
    sheet: str | int | None = None,
    *,
    max_uncompressed_bytes: int = _DEFAULT_MAX_UNCOMPRESSED,
    cancel=None,
    decimal: str | None = None,
) -> LoadedTable:
    """Read a CSV/TSV/TXT or XLSX/XLSM/ODS file into a :class:`LoadedTable`.

    ``sheet`` is a sheet name or a 0-based position (spreadsheets only). A name is
    matched first; a number (or text of digits) is taken as a position only when no sheet
    has that name. By default the sheet active when the workbook was saved is read if it
    is visible, else the first visible sheet; hidden sheets are read only when named.
    ``decimal`` ("." or ",") settles a column whose numbers read two ways (``1.250``);
    without it such a column raises :class:`AmbiguousDecimalError`.
    ``max_uncompressed_bytes`` caps the declared uncompressed size of a zip-based
    spreadsheet. ``cancel.check()``, if given, is called between phases and may raise
    :class:`~fairdesk.errors.Cancelled`.
    """
    if decimal not in (None, ".", ","):
        raise DataError(f"The decimal mark must be '.' or ',', not {decimal!r}.")
    notes: list[str] = []
    path, name = _resolve(path)
    kind = _kind_from_extension(path)
    raw = _read_bytes(path, name, cancel)
    sha256 = hashlib.sha256(raw).hexdigest()
    _check_cancel(cancel)
    try:
        if kind is None:
            if not _looks_like_text(raw):
                ext = os.path.splitext(name)[1] or "(none)"
                raise DataError(
                    f"FairDesk cannot read '{name}': the file type {ext} is not supported. "
                    f"Save the table as {_SUPPORTED} and load that file."
                )
            kind = "csv"
        if kind == "csv":
            frame, encoding, delimiter = _load_text(raw, name, cancel, decimal, notes)
            sheet_name, sheets, engine = None, (), "pandas-c"
        else:
            if kind != "xls":
                _check_zip_container(raw, name, kind, max_uncompressed_bytes)
            _check_cancel(cancel)
            rows, sheet_name, sheets, engine = _read_spreadsheet(raw, name, kind, sheet, notes)
            _check_cancel(cancel)
            frame = _rows_to_frame(rows, name, sheet_name, notes)
            _read_text_numbers(frame, f"sheet '{sheet_name}' of '{name}'", decimal, notes)
            encoding = delimiter = None
    except (DataError, Cancelled):
        raise
    except MemoryError:
        raise DataError(
            f"'{name}' is too large to load into memory on this computer. "
            "Remove columns or rows you do not need, or use a computer with more memory."
        ) from None
    except BaseException as err:  # any parser failure becomes a message, not a traceback
        if not _is_parser_failure(err):
            raise
        raise _unexpected(err, name) from None
    _check_cancel(cancel)
    source = SourceInfo(
        path=path,
        sha256=sha256,
        format=kind,
        sheet=sheet_name,
        sheets=tuple(sheets),
        encoding=encoding,
        delimiter=delimiter,
        engine=engine,
        n_rows=len(frame),
        n_columns=frame.shape[1],
    )
    frame.attrs["fairdesk_notes"] = list(notes)  # validation shows them as data notes
    return LoadedTable(frame=frame, source=source, notes=notes)


# A value that a thousands reading could also explain: 1–3 digits, then groups of three.
_GROUPED_LIKE = r"[+-]?[1-9]\d{0,2}(?:[.,]\d{3})+"


class AmbiguousDecimalError(DataError):
    """Some columns' numbers read two ways; the analyst must say which mark is decimal."""

    def __init__(self, message: str, columns: list[str], example: str):
        super().__init__(message)
        self.columns = columns
        self.example = example


def _read_text_numbers(frame: pd.DataFrame, where: str, decimal, notes: list[str],
                       raw_text=None) -> None:
    """Convert columns of numbers written as text, deciding the marks per column.

    ``raw_text(columns)`` returns those columns as the text written in the file; it is
    asked for float columns that might have been read with the wrong mark (every value a
    whole number of thousandths, such as 1.25 from '1.250').
    """
    ambiguous: dict[str, str] = {}
    suspects = [c for c in frame.columns
                if frame[c].dtype.kind == "f" and raw_text is not None
                and could_be_grouped(frame[c].to_numpy())]
    if suspects:  # the first rows as written rule most out: '1.5' can only be a decimal
        head = raw_text(suspects, 2000)
        suspects = [c for c in suspects
                    if head[c].dropna().str.strip().str.fullmatch(_GROUPED_LIKE).all()]
    raw = raw_text(suspects) if suspects else {}
    for column in frame.columns:
        values = frame[column]
        if column in raw:
            values = raw[column]
        elif values.dtype.kind in "iufb" or values.dtype.kind == "M":
            continue
        elif raw_text is None and values.map(
                lambda v: isinstance(v, sheet_parts.SpecialCell)).to_numpy(bool).any():
            continue  # Excel errors and uncalculated formulas: validation names them
        reading = read_numbers(values, decimal)
        if reading.ambiguous:
            ambiguous[column] = reading.example
            continue
        if reading.values is None:
            continue
        frame[column] = reading.values
        if reading.n_grouped:
            sep = "," if reading.decimal == "." else "."
            notes.append(
                f"Column '{column}': {reading.n_grouped:,} value(s) are written with "
                f"'{sep}' between thousands and '{reading.decimal}' as the decimal mark, "
                f"and were read that way (e.g. '{reading.example}' = {reading.example_value:,g}).")
        if reading.n_missing_words:
            notes.append(
                f"Column '{column}': {reading.n_missing_words:,} cell(s) written as a "
                "missing-value word ('NA', 'N/A', '#N/A', 'null' …) are read as empty.")
    if ambiguous:
        columns = list(ambiguous)
        example = ambiguous[columns[0]]
        point = float(example.replace(",", "").replace(" ", ""))
        comma = float(example.replace(".", "").replace(",", "."))
        which = ("column " if len(columns) == 1 else "columns ") + _join([f"'{c}'" for c in columns])
        raise AmbiguousDecimalError(
            f"In {where}, the numbers in {which} can be read two ways: '{example}' is "
            f"{point:g} if '.' is the decimal mark (',' between thousands), or {comma:g} if "
            "',' is the decimal mark ('.' between thousands), and every value in the column "
            "fits both. Say which mark is the "
            "decimal one: in the window, answer the question; on the command line, add "
            "--decimal . or --decimal ,", columns, example)


# ----------------------------------------------------------------------- file access


def _resolve(path) -> tuple[str, str]:
    path = os.path.abspath(os.fspath(path))
    return path, os.path.basename(path)


def _kind_from_extension(path: str) -> str | None:
    ext = os.path.splitext(path)[1].lower()
    if ext in _TEXT_EXTENSIONS:
        return "csv"
    if ext == ".xls":
        return "xls"  # legacy binary Excel: attempted with calamine
    return _ZIP_SPREADSHEETS.get(ext)


def _require_file(path: str, name: str) -> None:
    """Refuse anything but a regular file before it is opened.

    Opening a FIFO blocks until a writer appears and a device such as /dev/zero never
    ends, so the kind of file is judged from ``os.stat`` first. A folder is checked
    explicitly because Windows reports it as "permission denied".
    """
    try:
        mode = os.stat(path).st_mode
    except OSError as err:
        raise _os_error(err, name) from None
    _require_regular(mode, name)
    ext = os.path.splitext(name)[1].lower()
    if ext in _NOT_TABLES:
        raise DataError(
            f"'{name}' is {_NOT_TABLES[ext]}, not a table, so FairDesk does not read it. If it "
            f"holds the data, copy the table into Excel and save it as {_SUPPORTED}, then load "
            "that file."
        )


# Extensions of files that are never a table, even when their bytes look like text: a
# document, an archive, a program, an image. (Unknown extensions are tried as text.)
_NOT_TABLES = {
    **dict.fromkeys((".pdf", ".doc", ".docx", ".docm", ".odt", ".rtf", ".ppt", ".pptx",
                     ".odp", ".pages", ".key", ".eml", ".msg", ".html", ".htm"), "a document"),
    **dict.fromkeys((".zip", ".7z", ".rar", ".gz", ".tgz", ".bz2", ".xz", ".tar"), "an archive"),
    **dict.fromkeys((".exe", ".dll", ".msi", ".com", ".bat", ".cmd", ".ps1", ".vbs", ".sh",
                     ".lnk", ".scr"), "a program or shortcut"),
    **dict.fromkeys((".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".svg"),
                    "an image"),
    ".fairdesk": "a FairDesk project (open it with File ▸ Open or `report`)",
}


def _require_regular(mode: int, name: str) -> None:
    if stat.S_ISDIR(mode):
        raise _os_error(IsADirectoryError(), name)
    if not stat.S_ISREG(mode):
        kind = ("a pipe (FIFO)" if stat.S_ISFIFO(mode) else
                "a socket" if stat.S_ISSOCK(mode) else
                "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else
                "not an ordinary file")
        raise DataError(
            f"'{name}' is {kind}, not a data file, so FairDesk does not read it. Choose the "
            f"table itself, saved as {_SUPPORTED}."
        )


_CHUNK_BYTES = 1 << 20  # read in pieces so that Cancel takes effect within a second


def _read_chunks(path: str, name: str, cancel=None):
    """The bytes of a regular file in chunks; ``cancel.check()`` before each chunk."""
    _require_file(path, name)
    # O_NONBLOCK: should the path become a FIFO between the check and the open, the open
    # returns at once instead of waiting for a writer; fstat then refuses it.
    try:
        handle = open(path, "rb", buffering=0, opener=_open_nonblocking)
    except OSError as err:
        raise _os_error(err, name) from None
    with handle:
        try:
            fd = handle.fileno()
        except (OSError, ValueError):  # a file-like object without a descriptor
            fd = None
        if fd is not None:
            _require_regular(os.fstat(fd).st_mode, name)
        while True:
            _check_cancel(cancel)
            try:
                chunk = handle.read(_CHUNK_BYTES)
            except OSError as err:
                raise _os_error(err, name) from None
            if not chunk:
                return
            yield chunk


def _open_nonblocking(path, flags):
    return os.open(path, flags | getattr(os, "O_NONBLOCK", 0))


def _read_bytes(path: str, name: str, cancel=None) -> bytes:
    return b"".join(_read_chunks(path, name, cancel))


def _os_error(err: OSError, name: str) -> DataError:
    if isinstance(err, FileNotFoundError):
        return DataError(
            f"The file '{name}' was not found. It may have been moved, renamed or deleted; "
            "choose the file again."
        )
    if isinstance(err, IsADirectoryError):
        return DataError(
            f"'{name}' is a folder, not a file. Choose the data file inside it instead."
        )
    if isinstance(err, PermissionError):
        return DataError(
            f"FairDesk is not allowed to read '{name}' (permission denied). If the file is "
            "open in another program such as Excel, close it there and try again; otherwise "
            "check that your account may read it, or copy it to your own folder."
        )
    reason = err.strerror or str(err)
    return DataError(
        f"FairDesk could not read '{name}': {reason}. If the file is open or locked by "
        "another program, close it there; if it is on a network drive, copy it to this "
        "computer and try again."
    )


def _check_cancel(cancel) -> None:
    if cancel is not None:
        cancel.check()


def _is_parser_failure(err: BaseException) -> bool:
    # A Rust panic inside calamine surfaces as pyo3's PanicException, a BaseException;
    # it is a failure to parse the file like any other, not an interrupt.
    return isinstance(err, Exception) or type(err).__name__ == "PanicException"


def _unexpected(err: BaseException, name: str) -> DataError:
    reason = (str(err).strip().splitlines() or [type(err).__name__])[0][:200].rstrip(".")
    return DataError(
        f"Could not read '{name}': {reason}. The file may be damaged or not in the format "
        f"its name suggests. Open it in the program that made it, save it again as "
        f"{_SUPPORTED}, and load the new file."
    )


# ------------------------------------------------------------------------ text files


def _looks_like_text(raw: bytes) -> bool:
    """Whether a file with an unknown extension is worth trying as delimited text."""
    if raw.startswith((_ZIP_SIGNATURE, _OLE2_SIGNATURE)):
        return False
    try:
        _decode(raw, "")
    except DataError:
        return False
    return True


def _decode(raw: bytes, name: str) -> tuple[bytes, str]:
    """Return the content as UTF-8 bytes without BOM, and the detected encoding."""
    if raw.startswith(codecs.BOM_UTF8):
        data, encoding = raw[len(codecs.BOM_UTF8):], "utf-8-sig"
        text = _strict_decode(data, "utf-8", name)
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
        text = _strict_decode(raw, encoding, name)  # the codec reads and drops the BOM
        data = text.encode("utf-8")
    elif (bomless := _bomless_utf16(raw)) is not None:
        encoding = bomless
        text = _strict_decode(raw, encoding, name)
        data = text.encode("utf-8")
    else:
        try:
            text, encoding, data = raw.decode("utf-8"), "utf-8", raw
        except UnicodeDecodeError:
            # Binary data is said to be binary, not "not valid cp1252 text" (below).
            if b"\x00" in raw or _CONTROL.search(raw[:_SNIFF_BYTES].decode("latin-1")):
                raise _binary_data(name) from None
            _refuse_mixed_encodings(raw, name)
            # Not UTF-8: assume the Windows Western European code page, the usual
            # encoding of CSV files saved by Excel outside UTF-8.
            encoding = "cp1252"
            text = _strict_decode(raw, encoding, name)
            data = text.encode("utf-8")
    # NUL anywhere, or other control characters near the start, mean binary data.
    if "\x00" in text or _CONTROL.search(text, 0, _SNIFF_BYTES):
        raise _binary_data(name)
    return data, encoding


_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}"
                             rb"|[\xf0-\xf4][\x80-\xbf]{3}")


def _refuse_mixed_encodings(raw: bytes, name: str) -> None:
    """Refuse a file whose lines were saved in two encodings (UTF-8 and another).

    Read whole as cp1252, the UTF-8 lines would turn 'Réunion' into 'RÃ©union' and make
    a second group of the same people; no single encoding reads such a file right.
    """
    if not _UTF8_MULTIBYTE.search(raw):  # one pass in C: no UTF-8 text at all (the rule)
        return
    lines = raw.split(b"\n")
    utf8_rows, other_rows = [], []
    for number, line in enumerate(lines, start=1):
        if not re.search(rb"[\x80-\xff]", line):
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            other_rows.append(number)
            continue
        if _UTF8_MULTIBYTE.search(line):
            utf8_rows.append(number)
    if utf8_rows and other_rows:
        raise DataError(
            f"'{name}' mixes two text encodings: {_rows_are(utf8_rows)} UTF-8 while "
            f"{_rows_are(other_rows)} in another "
            "encoding (such as Windows-1252), so accented letters would read differently "
            "from row to row and split groups. Open the file in Excel or a text editor, fix "
            "those rows, save it as 'CSV UTF-8', and load the new file.")


def _rows_are(rows: list[int]) -> str:
    return (f"row {rows[0]} is" if len(rows) == 1 else
            f"rows {_join([str(r) for r in rows])} are")


def _binary_data(name: str) -> DataError:
    return DataError(
        f"'{name}' does not contain readable text (it contains binary data). "
        f"Make sure it is a table saved as {_SUPPORTED}."
    )


def _strict_decode(raw: bytes, encoding: str, name: str) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as err:
        raise DataError(
            f"The text in '{name}' could not be decoded (byte {err.start + 1} is not valid "
            f"{encoding} text). Open the file in Excel or a text editor and save it again "
            "as 'CSV UTF-8', then load the new file."
        ) from None


def _bomless_utf16(raw: bytes) -> str | None:
    """Spot UTF-16 without BOM from NUL bytes on every other position (ASCII-range text)."""
    head = raw[:4096]
    head = head[: len(head) // 2 * 2]
    if len(head) < 4:
        return None
    arr = np.frombuffer(head, dtype=np.uint8)
    even_nul = np.mean(arr[0::2] == 0)
    odd_nul = np.mean(arr[1::2] == 0)
    if odd_nul > 0.3 and even_nul < 0.05:
        return "utf-16-le"
    if even_nul > 0.3 and odd_nul < 0.05:
        return "utf-16-be"
    return None


def _sniff(sample: str, truncated: bool, name: str) -> tuple[str, str]:
    """Delimiter and decimal mark, judged from the first lines of the file.

    The delimiter is the candidate whose per-line count (outside quotes) is most
    consistent with the header line; csv.Sniffer guesses badly on decimal-comma files.
    """
    # Hide quoted content so delimiters and newlines inside quotes do not count.
    lines = [line for line in _QUOTED.sub('""', sample).splitlines() if line.strip()]
    if truncated and len(lines) > 1:
        lines = lines[:-1]  # the last line of a truncated sample is incomplete
    lines = lines[:50]
    prefer_tab = name.lower().endswith(".tsv")
    best, best_score = None, None
    for delimiter in _DELIMITERS:
        counts = [line.count(delimiter) for line in lines]
        if not counts or max(counts) == 0:
            continue
        # The most common count, so that a title line above the header does not decide.
        body = counts[1:] or counts
        mode = max(set(body), key=lambda c: (body.count(c), c))
        if mode == 0:
            continue
        if counts[0] == 0 and (mode < 2 or body.count(mode) < 3):
            continue  # a header without it: only a title above a real table may lack it
        agreement = sum(c == mode for c in counts) / len(counts)
        score = (agreement, prefer_tab and delimiter == "\t", mode)
        if best_score is None or score > best_score:
            best, best_score = delimiter, score
    if best is None:  # a single column: the delimiter never occurs
        return ("\t" if prefer_tab else ","), "."
    decimal = "."
    if best != ",":  # only these can use a decimal comma without quoting every number
        fields = [f.strip() for line in lines[1:] for f in line.split(best)]
        commas = sum(bool(_NUMBER[","].fullmatch(f)) and "," in f for f in fields)
        points = sum(bool(_NUMBER["."].fullmatch(f)) and "." in f for f in fields)
        if commas > points:
            decimal = ","
    return best, decimal


def _scan_records(data: bytes, delimiter: str) -> tuple[np.ndarray, np.ndarray]:
    """Line number and field count of every non-blank record (header first), vectorised.

    A delimiter or newline counts only outside double quotes, decided by the parity of the
    quotes before it; this follows RFC 4180 quoting (so a quoted field spanning lines is
    handled and the record gets the line number it starts on). A stray quote inside an
    unquoted field breaks the parity; the caller notices the record count disagreeing
    with pandas and falls back to approximate row numbers.
    """
    arr = np.frombuffer(data, dtype=np.uint8)
    newline = ord("\n") if b"\n" in data else ord("\r")  # classic-Mac files use \r only
    nl_pos = np.flatnonzero(arr == newline)
    quote_pos = np.flatnonzero(arr == ord('"'))
    delim_pos = np.flatnonzero(arr == ord(delimiter))
    if len(quote_pos):
        ends = nl_pos[np.searchsorted(quote_pos, nl_pos) % 2 == 0]
        delim_pos = delim_pos[np.searchsorted(quote_pos, delim_pos) % 2 == 0]
    else:
        ends = nl_pos
    if len(data) and (len(ends) == 0 or ends[-1] != len(data) - 1):
        ends = np.append(ends, len(data))  # last record without a final newline
    starts = np.concatenate(([0], ends[:-1] + 1))
    # Delimiters before each record's end, differenced: delimiters per record.
    fields = np.diff(np.searchsorted(delim_pos, ends), prepend=0) + 1
    lines = np.searchsorted(nl_pos, starts) + 1
    # pandas skips lines that are empty or hold only whitespace; only a record without
    # a delimiter can be one, so only those are inspected in Python.
    keep = np.ones(len(ends), dtype=bool)
    for i in np.flatnonzero(fields == 1):
        if not data[starts[i]:ends[i]].strip(b" \t\r\n"):
            keep[i] = False
    return lines[keep], fields[keep]


def _load_text(raw: bytes, name: str, cancel, decimal_choice=None,
               notes: list | None = None) -> tuple[pd.DataFrame, str, str]:
    notes = [] if notes is None else notes
    if raw.startswith((_ZIP_SIGNATURE, _OLE2_SIGNATURE)):
        raise DataError(
            f"'{name}' is not a text file: it looks like an Excel or OpenDocument workbook "
            "saved under a text-file name. Rename it with its proper extension (.xlsx, "
            ".xls or .ods), or open it in Excel and save it as CSV."
        )
    data, encoding = _decode(raw, name)
    if not re.search(rb"\S", data):  # stops at the first visible character; no copy
        raise DataError(
            f"'{name}' is empty: it contains no table. Check that you chose the right file "
            "and that it was saved completely."
        )
    # Excel's "sep=;" first line names the delimiter; it is not the header.
    skipped_lines = 0
    declared = re.match(rb"sep=(.)\r?\n", data)
    if declared and declared[1].decode("latin-1") in _DELIMITERS:
        delimiter = declared[1].decode("latin-1")
        data = data[declared.end():]
        skipped_lines = 1
        notes.append(f"Row 1 of '{name}' ('sep={delimiter}') names the separator; the "
                     "table starts on row 2.")
        sample = data[:_SNIFF_BYTES].decode("utf-8", errors="ignore")
        _, decimal = _sniff(sample, len(data) > _SNIFF_BYTES, name)
        if delimiter == ",":
            decimal = "."
    else:
        sample = data[:_SNIFF_BYTES].decode("utf-8", errors="ignore")
        delimiter, decimal = _sniff(sample, len(data) > _SNIFF_BYTES, name)
    if decimal_choice in (".", ","):
        decimal = decimal_choice
    _check_cancel(cancel)

    record_lines, fields = _scan_records(data, delimiter)
    # Title lines above the header (a report name, a date) have far fewer fields than
    # the rows below them: skip them, and say so.
    title = _title_records(fields)
    if title:
        first_line = int(record_lines[title])
        nl = ord("\n") if b"\n" in data else ord("\r")
        breaks = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == nl)
        titles = [_shown_line(data, breaks, int(record_lines[i])) for i in range(title)]
        data = data[breaks[first_line - 2] + 1:]
        skipped_lines += first_line - 1
        record_lines, fields = _scan_records(data, delimiter)
        notes.append(
            f"{'Row' if title == 1 else 'Rows'} above the header in '{name}' "
            f"({_join(titles)}) {'looks' if title == 1 else 'look'} like a title, not data, "
            "and were skipped; the header "
            f"is row {skipped_lines + 1}.")
    record_lines = record_lines + skipped_lines
    header = _read_header(data, delimiter)
    where = f"'{name}'"
    _check_duplicates(header, where)  # before the full parse: fail fast
    _check_cancel(cancel)

    read_options = dict(sep=delimiter, header=0, index_col=False, engine="c",
                        encoding="utf-8", keep_default_na=False, na_values=[""])
    try:
        frame = pd.read_csv(
            io.BytesIO(data),
            decimal=decimal,
            low_memory=False,  # one dtype per column, not per chunk
            **read_options,
        )
    except pd.errors.ParserError as err:
        if "Expected" in str(err):
            raise _ragged(name, delimiter, len(header), record_lines, fields, str(err)) from None
        if "EOF inside string" in str(err):
            # The unclosed quote swallows the rest of the file: it is in the last record.
            raise DataError(
                f"In '{name}', a double quote (\") opened near row {record_lines[-1]} is "
                "never closed, so the rest of the file would be read as one value. Add the "
                "missing closing quote (or remove the stray one) and load the file again."
            ) from None
        raise
    _check_cancel(cancel)

    if len(frame) == 0:
        raise _header_only(where)
    if len(record_lines) - 1 == len(frame):
        if np.any(fields != len(header)):  # pandas pads short rows with NaN silently
            raise _ragged(name, delimiter, len(header), record_lines, fields, "")
        index = record_lines[1:]
    else:
        # The quote-parity scan could not follow this file's quoting (e.g. a stray " in
        # an unquoted value), so number rows as if each record took one line after the
        # header: approximate only when records span several lines.
        index = np.arange(len(frame)) + record_lines[0] + 1
    frame.index = pd.Index(index, dtype="int64")
    frame = _finish_columns(frame, header, where)

    def raw_text(columns, nrows=None):
        positions = [next(i for i, h in enumerate(header) if h.strip() == c) for c in columns]
        text = pd.read_csv(io.BytesIO(data), usecols=positions, dtype=str, nrows=nrows,
                           **read_options)
        text.index = frame.index[:len(text)]
        return {c: text[header[p]] for c, p in zip(columns, positions)}

    _read_text_numbers(frame, where, decimal_choice, notes, raw_text)
    return frame, encoding, delimiter


def _title_records(fields: np.ndarray) -> int:
    """How many leading records are title lines (0 when the first record is the header).

    A title line has one or two fields and at most half the fields of the rows below it
    (the most common count among the first 200 records); only the first 10 records are
    candidates. A header that merely lacks some names is not a title: it has more fields.
    """
    if len(fields) < 3:
        return 0
    body = fields[1:201]
    counts = np.bincount(body)
    mode = int(np.flatnonzero(counts == counts.max())[-1])
    if mode < 3 or fields[0] > 2 or fields[0] * 2 > mode:
        return 0
    for i in range(1, min(len(fields) - 1, 11)):
        if fields[i] == mode:
            return i
        if fields[i] > 2 or fields[i] * 2 > mode:
            return 0
    return 0


def _shown_line(data: bytes, breaks: np.ndarray, line: int) -> str:
    start = 0 if line == 1 else int(breaks[line - 2]) + 1
    stop = int(breaks[line - 1]) if line - 1 < len(breaks) else len(data)
    text = data[start:stop].decode("utf-8", "replace").strip().strip(",;\t|").strip()
    return f"row {line}: '{text[:40]}{'…' if len(text) > 40 else ''}'"


def _read_header(data: bytes, delimiter: str) -> list[str]:
    """The header cells exactly as written (pandas would rename duplicates to 'x.1')."""
    first = pd.read_csv(
        io.BytesIO(data),
        sep=delimiter,
        header=None,
        nrows=1,
        dtype=str,
        na_filter=False,
        index_col=False,
        engine="c",
        encoding="utf-8",
    )
    return [str(v) for v in first.iloc[0]]


# ---------------------------------------------------------------------- spreadsheets


def _check_zip_container(raw: bytes, name: str, kind: str, max_uncompressed: int) -> None:
    """Refuse encrypted, damaged or malicious zip files before any parser sees them."""
    if raw.startswith(_OLE2_SIGNATURE):
        if kind in ("xlsx", "xlsm"):
            raise DataError(
                f"'{name}' is password-protected (encrypted), so FairDesk cannot read it. "
                "Open it in Excel with the password, save an unprotected copy (File > Info "
                "> Protect Workbook > Encrypt with Password, clear the password), and load "
                "that copy."
            )
        raise DataError(
            f"'{name}' is not a valid {kind.upper()} file (it is an older binary format). "
            "Open it in the program that made it and save it again as .xlsx or .ods."
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise DataError(
            f"'{name}' is not a valid {kind.upper()} file: it is damaged or is another kind "
            "of file renamed to this extension. Open it in the program that made it and "
            f"save it again as {kind.upper()} (or as CSV), then load the new file."
        ) from None
    with archive:
        # Sizes as declared in the zip directory: judged before anything is inflated.
        members = archive.infolist()
        declared = sum(m.file_size for m in members)
        if declared > max_uncompressed:
            reason = (
                f"it would expand to {declared / 1e6:,.0f} MB when opened, more than the "
                f"limit of {max_uncompressed / 1e6:,.0f} MB"
            )
        else:
            oversized = [
                m for m in members
                if m.file_size > _BOMB_ENTRY_BYTES
                and m.file_size > _BOMB_RATIO * max(m.compress_size, 1)
            ]
            reason = oversized and (
                f"its part '{oversized[0].filename}' is compressed more than "
                f"{_BOMB_RATIO} times ({oversized[0].file_size / 1e6:,.0f} MB when expanded)"
            )
        if reason:
            raise DataError(
                f"'{name}' was refused for safety: {reason}. Such files are usually "
                "damaged or malicious. If the data is genuine, save it as CSV in Excel or "
                "LibreOffice and load that instead."
            )
        if kind == "ods":
            _refuse_encrypted_ods(archive, name)
        for member in members:
            if member.filename.lower().endswith((".xml", ".rels")):
                with archive.open(member) as part:
                    problem = _prolog_problem(part)
                if problem:
                    raise DataError(
                        f"'{name}' was refused for safety: its part '{member.filename}' "
                        f"{problem}, which spreadsheets never need and which can be used to "
                        "exhaust memory. Open the file in Excel or LibreOffice, save it "
                        "again, and load the new copy."
                    )


def _prolog_problem(part) -> str | None:
    """Why the XML prolog of a zip part is refused, or None.

    The prolog is everything before the root element: the XML declaration, processing
    instructions, comments and the only place a <!DOCTYPE> (with <!ENTITY> declarations)
    may stand. It is read token by token as far as the root element, so a declaration
    after a long comment is found too; a prolog longer than _XML_PROLOG_BYTES is refused.
    """
    head = part.read(_XML_HEAD_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif head.startswith(b"<\x00"):
        encoding = "utf-16-le"
    elif head.startswith(b"\x00<"):
        encoding = "utf-16-be"
    else:
        encoding = "utf-8"  # the markup characters read the same in any 8-bit encoding
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    eof = len(head) < _XML_HEAD_BYTES
    text, pos, consumed = decoder.decode(head, final=eof), 0, len(head)
    ends = {"<?": "?>", "<!--": "-->"}
    declares = "declares XML entities (<!DOCTYPE>/<!ENTITY>)"
    while True:
        while pos < len(text) and text[pos] in " \t\r\n\ufeff":
            pos += 1
        token = text[pos:pos + 9]  # long enough to tell '<!DOCTYPE' from a comment
        opener = next((o for o in ends if token.startswith(o)), None)
        end = text.find(ends[opener], pos + len(opener)) if opener else -1
        if not eof and (end < 0 if opener else len(token) < 9):
            if consumed >= _XML_PROLOG_BYTES:
                return (f"has more than {_XML_PROLOG_BYTES // 1024:,} KB of declarations, "
                        "comments or blank space before its content")
            chunk = part.read(_XML_HEAD_BYTES * 16)
            consumed += len(chunk)
            eof = len(chunk) < _XML_HEAD_BYTES * 16
            text, pos = text[pos:] + decoder.decode(chunk, final=eof), 0
            continue
        if token.upper().startswith(("<!DOCTYPE", "<!ENTITY")):
            return declares
        if opener is None:
            # the root element, or text that is not XML (the parser rejects it); a '<!'
            # that is not a comment can only be a declaration
            return declares if token.startswith("<!") else None
        if end < 0:
            return None  # the part ends inside its prolog: the parser reports the damage
        pos = end + len(ends[opener])


def _refuse_encrypted_ods(archive: zipfile.ZipFile, name: str) -> None:
    try:
        manifest = archive.read("META-INF/manifest.xml")
    except KeyError:
        return
    if b"encryption-data" in manifest:
        raise DataError(
            f"'{name}' is password-protected (encrypted), so FairDesk cannot read it. Open "
            "it in LibreOffice with the password, save an unprotected copy, and load that "
            "copy."
        )


def _calamine_workbook(raw: bytes, name: str):
    try:
        return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(raw))
    except python_calamine.PasswordError:
        raise DataError(
            f"'{name}' is password-protected (encrypted), so FairDesk cannot read it. Open "
            "it with the password, save an unprotected copy, and load that copy."
        ) from None


def _calamine_sheet_names(raw: bytes, name: str, kind: str) -> list[str]:
    try:
        return list(_calamine_workbook(raw, name).sheet_names)
    except DataError:
        raise
    except BaseException as err:
        if kind not in ("xlsx", "xlsm") or not _is_parser_failure(err):
            raise
        workbook = _openpyxl_workbook(raw)
        try:
            return list(workbook.sheetnames)
        finally:
            workbook.close()


def _pick_sheet(names: list[str], sheet, name: str, hidden=(), active=None) -> str:
    """The sheet to read: a name first, a position only when no sheet has that name.

    Without a choice: the active sheet if it is visible, else the first visible sheet.
    Hidden sheets are never chosen silently.
    """
    if sheet is None:
        visible = [n for n in names if n not in hidden]
        if not visible:
            if names:
                raise DataError(
                    f"Every sheet of '{name}' is hidden ({_join([repr(n) for n in names])}). "
                    "Choose a sheet by name, or unhide it in Excel.")
            raise DataError(f"'{name}' contains no worksheets, so there is no table to read.")
        return active if active in visible else visible[0]
    if isinstance(sheet, str) and sheet in names:
        return sheet
    position = sheet if isinstance(sheet, int) and not isinstance(sheet, bool) else (
        int(sheet) if isinstance(sheet, str) and sheet.strip().isdigit() else None)
    if position is not None and 0 <= position < len(names):
        return names[position]
    available = ", ".join(f"'{n}'" + (" (hidden)" if n in hidden else "") for n in names) or "none"
    wanted = f"number {position + 1} (counting from 0: {position})" if position is not None \
        else f"'{sheet}'"
    raise DataError(
        f"'{name}' has no sheet {wanted}. The sheets in this file are: {available}. "
        "Choose one of these."
    )


def sheet_choices(path) -> list[tuple[str, bool]]:
    """(sheet name, hidden) for every sheet, in workbook order, and the default first.

    For the window's sheet chooser: hidden sheets are listed, marked, never preselected.
    """
    path, name = _resolve(path)
    kind = _kind_from_extension(path)
    names = list_sheets(path)
    if not names:
        return []
    raw = _read_bytes(path, name)
    hidden = _hidden_sheets(raw, name, kind)
    default = _pick_sheet(names, None, name, hidden, sheet_parts.active_sheet(raw, kind, names)) \
        if len(hidden) < len(names) else None
    ordered = ([default] if default else []) + [n for n in names if n != default]
    return [(n, n in hidden) for n in ordered]


def _hidden_sheets(raw: bytes, name: str, kind: str) -> set[str]:
    try:
        meta = _calamine_workbook(raw, name).sheets_metadata
    except DataError:
        raise
    except BaseException as err:
        if not _is_parser_failure(err):
            raise
        return set()
    # SheetVisibleEnum.Visible / .Hidden / .VeryHidden
    return {m.name for m in meta if str(m.visible).rsplit(".", 1)[-1] != "Visible"}


class _Grid:
    """Cell values of one sheet: rows of values with their sheet row numbers (1-based)
    and column positions (0-based), so a sparse sheet keeps only the rows and columns
    that hold something."""

    def __init__(self, rows, row_numbers=None, columns=None, merged=()):
        self.rows = rows
        width = max((len(r) for r in rows), default=0)
        self.row_numbers = np.arange(1, len(rows) + 1) if row_numbers is None else row_numbers
        self.columns = np.arange(width) if columns is None else columns
        self.merged = list(merged)  # ((row0, col0), (row1, col1)), 0-based, inclusive


_MAX_SPARSE_GRID = 50_000_000  # present rows x present columns kept in memory at most


def _read_spreadsheet(raw: bytes, name: str, kind: str, sheet, notes=None):
    """Cell values of one sheet as a :class:`_Grid`, the sheet chosen, all sheet names and
    the engine used."""
    notes = [] if notes is None else notes
    try:
        workbook = _calamine_workbook(raw, name)
        names = list(workbook.sheet_names)
        hidden = _hidden_sheets(raw, name, kind)
        active = sheet_parts.active_sheet(raw, kind, names) if sheet is None else None
        chosen = _pick_sheet(names, sheet, name, hidden, active)
        if sheet is None and chosen != names[0]:
            skipped = [n for n in names[:names.index(chosen)]]
            why = ("it was the active sheet when the file was saved" if chosen == active
                   else "the sheets before it are hidden")
            notes.append(f"Sheet '{chosen}' of '{name}' was read because {why}; the workbook "
                         f"also has {_join([repr(n) for n in skipped])}.")
        if chosen in hidden:
            notes.append(f"Sheet '{chosen}' of '{name}' is hidden in the workbook.")
        grid = _xlsx_grid(raw, name, chosen) if kind in ("xlsx", "xlsm") else None
        if grid is None:
            calamine_sheet = workbook.get_sheet_by_name(chosen)
            _refuse_huge_grid(calamine_sheet.height * max(calamine_sheet.width, 1), name, chosen)
            grid = _Grid(calamine_sheet.to_python(skip_empty_area=False),
                         merged=_calamine_merged(calamine_sheet))
        return grid, chosen, names, "calamine"
    except DataError:
        raise
    except BaseException as err:
        if kind == "ods" and _is_parser_failure(err):
            _refuse_huge_grid(sheet_parts.ods_extent(raw), name, sheet or "the first")
        if kind not in ("xlsx", "xlsm") or not _is_parser_failure(err):
            raise
        calamine_error = err
    # calamine could not parse this xlsx/xlsm; openpyxl is slower but more lenient.
    try:
        workbook = _openpyxl_workbook(raw)
    except Exception:
        raise _unexpected(calamine_error, name) from None
    try:
        names = list(workbook.sheetnames)
        hidden = {n for n in names if workbook[n].sheet_state != "visible"}
        chosen = _pick_sheet(names, sheet, name, hidden, names[workbook.index(workbook.active)]
                             if workbook.active is not None else None)
        ws = workbook[chosen]
        _refuse_huge_grid((ws.max_row or 0) * (ws.max_column or 0), name, chosen)
        rows = [list(r) for r in ws.iter_rows(min_row=1, min_col=1, values_only=True)]
        return _Grid(rows), chosen, names, "openpyxl"
    finally:
        workbook.close()


def _refuse_huge_grid(cells: int, name: str, sheet: str) -> None:
    if cells > _MAX_SPARSE_GRID * 4:
        sheet = "The first sheet" if sheet == "the first" else f"Sheet '{sheet}'"
        raise DataError(
            f"{sheet} of '{name}' spans {cells:,} cells from its first to its last "
            "used cell, too many to read. Usually a stray value far below or to the right of "
            "the table is the cause: delete the empty rows and columns after the table in "
            "Excel, save, and load the file again.")


def _calamine_merged(sheet) -> list:
    try:
        return list(sheet.merged_cell_ranges or [])
    except Exception:  # not every format reports merged cells
        return []


def _xlsx_grid(raw: bytes, name: str, sheet: str) -> _Grid | None:
    """The sheet read with what calamine does not tell (see fairdesk.io.sheet_parts):
    sparse when its extent is wasteful; error values and uncalculated formulas marked.
    None when the parts cannot be found (calamine then reads the sheet as usual)."""
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        part = sheet_parts.sheet_part(archive, sheet)
        if part is None:
            return None
        # In pieces: a part that understates its size is cut off at the declared size
        # (and fails its checksum) instead of being inflated whole first.
        with archive.open(part) as stream:
            xml = b"".join(iter(lambda: stream.read(1 << 20), b""))
    merged = [
        tuple((int(r) - 1, sheet_parts.column_index(c)) for c, r in
              re.findall(r"([A-Z]{1,3})(\d+)", ref.decode("ascii")))
        for ref in re.findall(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+\d+:[A-Z]+\d+)"', xml)]
    extent = sheet_parts.sheet_extent(xml)
    if extent.wasteful():
        cells = sheet_parts.read_sparse(raw, part)
        del xml
        rows_present = np.array(sorted({r for r, _ in cells}), dtype=np.int64)
        cols_present = np.array(sorted({c for _, c in cells}), dtype=np.int64)
        _refuse_huge_grid(len(rows_present) * len(cols_present) // 4, name, sheet)
        row_at = {r: i for i, r in enumerate(rows_present.tolist())}
        col_at = {c: j for j, c in enumerate(cols_present.tolist())}
        rows = [[None] * len(cols_present) for _ in range(len(rows_present))]
        for (r, c), value in cells.items():
            rows[row_at[r]][col_at[c]] = value
        return _Grid(rows, rows_present + 1, cols_present, merged)
    special = sheet_parts.special_cells(xml)
    del xml
    calamine_sheet = _calamine_workbook(raw, name).get_sheet_by_name(sheet)
    rows = calamine_sheet.to_python(skip_empty_area=False)
    for (r, c), cell in special.items():
        if r < len(rows):
            row = rows[r]
            if c >= len(row):
                row.extend([""] * (c + 1 - len(row)))
            row[c] = cell
    return _Grid(rows, merged=merged)


def _openpyxl_workbook(raw: bytes):
    import openpyxl  # imported only when needed: it is slow to import and rarely used


    return openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)


def _rows_to_frame(grid, name: str, sheet: str, notes=None) -> pd.DataFrame:
    """Header = first non-empty row (after any title rows); fully empty rows are skipped."""
    notes = [] if notes is None else notes
    if not isinstance(grid, _Grid):
        grid = _Grid(grid)
    rows = grid.rows
    where = f"sheet '{sheet}' of '{name}'"
    width = max((len(r) for r in rows), default=0)
    cells = pd.DataFrame([list(r) + [None] * (width - len(r)) for r in rows], dtype=object)
    empty = cells.isna() | cells.eq("")  # calamine reports empty cells as ""
    filled_rows = np.flatnonzero(~empty.all(axis=1).to_numpy())
    if len(filled_rows) == 0:
        raise DataError(
            f"Sheet '{sheet}' of '{name}' is empty: it contains no table. Choose another sheet."
        )
    cells = cells.mask(empty)
    letters = [_column_letter(int(c)) for c in grid.columns[:width]]
    # Title rows above the header: far fewer filled cells than the rows below them.
    filled_counts = (~empty).sum(axis=1).to_numpy()[filled_rows]
    title = _title_records(filled_counts)
    if title:
        shown = [f"row {int(grid.row_numbers[r])}: '"
                 + cut_text(" ".join(str(v) for v in cells.iloc[r].dropna()), 40) + "'"
                 for r in filled_rows[:title]]
        notes.append(f"{'Row' if title == 1 else 'Rows'} above the header in {where} "
                     f"({_join(shown)}) {'looks' if title == 1 else 'look'} like a title, not "
                     "data, and were skipped; the "
                     f"header is row {int(grid.row_numbers[filled_rows[title]])}.")
        filled_rows = filled_rows[title:]
    header_row = filled_rows[0]
    header_sheet_row = int(grid.row_numbers[header_row]) - 1
    merged = [m for m in grid.merged
              if m[0][0] <= header_sheet_row <= m[1][0] and m[1][1] > m[0][1]]
    if merged:
        spans = [f"{_column_letter(a[1])}{a[0] + 1}:{_column_letter(b[1])}{b[0] + 1}"
                 for a, b in merged]
        raise DataError(
            f"In {where}, the header row (row {header_sheet_row + 1}) has merged cells "
            f"({_join(spans)}), so some columns have no name of their own. Unmerge the "
            "header cells in Excel (Home > Merge & Center > Unmerge Cells), give every "
            "column its own name in one header row, and load the file again.")
    header = [_header_text(v) for v in cells.iloc[header_row]]
    _check_duplicates(header, where, letters)
    # Fully empty rows are skipped, as pandas skips blank lines in a CSV file; the
    # index keeps the sheet's row numbers, so nothing is renumbered.
    data_rows = filled_rows[1:]
    if len(data_rows) == 0:
        raise _header_only(where)
    frame = cells.iloc[data_rows].infer_objects()
    frame.index = pd.Index(np.asarray(grid.row_numbers)[data_rows], dtype="int64")
    frame = _finish_columns(frame, header, where, letters)
    for column in frame.columns:
        values = frame[column]
        # Spreadsheets store every number as a float; whole numbers become integers so
        # ids and 0/1 labels get the same types as when read from CSV (only where the
        # integer is exact: beyond 2**53 a float is not a whole number one can trust).
        if (values.dtype.kind == "f" and values.notna().all() and (values % 1 == 0).all()
                and (values.abs() <= 2**53).all()):
            frame[column] = values.astype("int64")
    return frame


def cut_text(text: str, limit: int) -> str:
    text = str(text).strip()
    return text if len(text) <= limit else text[:limit] + "…"


def _header_text(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a header typed as 2024 is read back as 2024.0
    return str(value).strip()


# ------------------------------------------------------------------------ messages


def _column_letter(position: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA (as spreadsheets name columns)."""
    letters = ""
    position += 1
    while position:
        position, remainder = divmod(position - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _join(items: list[str]) -> str:
    """'B', 'B and E', 'B, E and G'; longer lists are cut after a few items."""
    items = [str(i) for i in items]
    if len(items) > _MAX_LISTED:
        return ", ".join(items[:_MAX_LISTED]) + f" … ({len(items)} in all)"
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _finish_columns(frame: pd.DataFrame, header: list[str], where: str,
                    letters=None) -> pd.DataFrame:
    """Name the columns by the header; drop unnamed columns that hold no value at all.

    Excel often leaves such columns (trailing separators in CSV, blank margin columns
    in a sheet); they carry nothing. An unnamed column with values is an error.
    """
    names = [h.strip() for h in header]
    unnamed = [i for i, h in enumerate(names) if not h]
    holds_values = frame.iloc[:, unnamed].notna().any(axis=0).to_numpy()
    letter = (lambda i: letters[i]) if letters is not None else _column_letter
    blank = [letter(i) for i, filled in zip(unnamed, holds_values) if filled]
    first_rows = [int(frame.index[frame.iloc[:, i].notna().to_numpy()][0])
                  for i, filled in zip(unnamed, holds_values) if filled]
    if blank:
        which = "column " if len(blank) == 1 else "columns "
        raise DataError(
            f"In {where}, the header cell of {which}{_join(blank)} is empty, but the column "
            "holds values (from row " + _join([str(r) for r in first_rows]) + "). "
            "Every column needs a name in the header row: type a name there "
            "(or delete the column if it is not needed) and load the file again."
        )
    if unnamed:
        frame = frame.iloc[:, [i for i, h in enumerate(names) if h]]
    if frame.shape[1] == 0:
        raise DataError(
            f"{where[0].upper()}{where[1:]} has no column with a name and values: the header "
            "row is empty. Put the column names in the first row and load the file again.")
    frame.columns = [h for h in names if h]
    return frame


def _check_duplicates(header: list[str], where: str, letters=None) -> None:
    """Refuse repeated column names: the analyst must be able to tell columns apart."""
    positions: dict[str, list[int]] = {}
    for i, h in enumerate(header):
        if h.strip():
            positions.setdefault(h.strip(), []).append(i)
    duplicates = [
        f"column '{h}' appears in columns "
        f"{_join([letters[i] if letters is not None else _column_letter(i) for i in p])}"
        for h, p in positions.items()
        if len(p) > 1
    ]
    if duplicates:
        raise DataError(
            f"In {where}, column names must be unique, but "
            + "; ".join(duplicates)
            + ". Rename or delete the repeated columns and load the file again."
        )


def _header_only(where: str) -> DataError:
    return DataError(
        f"{where[0].upper()}{where[1:]} has a header row but no data rows. Check that you "
        "chose the right file (or sheet) and that the data was saved."
    )


def _ragged(name, delimiter, n_header, lines, fields, parser_message) -> DataError:
    """Name the rows whose field count differs from the header's (at most five)."""
    bad = np.flatnonzero(fields[1:] != n_header) + 1
    found = re.search(r"Expected \d+ fields in line (\d+), saw (\d+)", parser_message)
    if found:
        # pandas stopped at a row with too many fields; trust the quote scan only if it
        # found that row too (a stray quote can mislead the scan).
        too_long = bad[fields[bad] > n_header]
        if len(too_long) == 0 or fields[too_long[0]] != int(found[2]):
            bad = bad[:0]
    if len(bad):
        detail = ", ".join(f"row {lines[i]} has {fields[i]}" for i in bad[:_MAX_LISTED])
        if len(bad) > _MAX_LISTED:
            detail += f" … ({len(bad)} rows in all)"
    elif found:
        detail = f"row {found[1]} (approximately) has {found[2]}"
    else:
        detail = "some rows have another number"
    return DataError(
        f"In '{name}', the header has {n_header} columns but not every row has {n_header} "
        f"fields: {detail}. Usually a value contains the separator "
        f"({_DELIMITER_NAMES[delimiter]}) without being in double quotes, or a separator "
        "is missing or extra. Fix these rows in a text editor or Excel and load the file "
        "again."
    )
