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
from dataclasses import dataclass

import numpy as np
import pandas as pd
import python_calamine

from fairdesk.errors import Cancelled, DataError

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
) -> LoadedTable:
    """Read a CSV/TSV/TXT or XLSX/XLSM/ODS file into a :class:`LoadedTable`.

    ``sheet`` is a sheet name or 0-based index (spreadsheets only; default the first
    sheet). ``max_uncompressed_bytes`` caps the declared uncompressed size of a zip-based
    spreadsheet. ``cancel.check()``, if given, is called between phases and may raise
    :class:`~fairdesk.errors.Cancelled`.
    """
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
            frame, encoding, delimiter = _load_text(raw, name, cancel)
            sheet_name, sheets, engine = None, (), "pandas-c"
        else:
            if kind != "xls":
                _check_zip_container(raw, name, kind, max_uncompressed_bytes)
            _check_cancel(cancel)
            rows, sheet_name, sheets, engine = _read_spreadsheet(raw, name, kind, sheet)
            _check_cancel(cancel)
            frame = _rows_to_frame(rows, name, sheet_name)
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
    return LoadedTable(frame=frame, source=source)


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
        _require_regular(os.fstat(handle.fileno()).st_mode, name)
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
            # Not UTF-8: assume the Windows Western European code page, the usual
            # encoding of CSV files saved by Excel outside UTF-8.
            encoding = "cp1252"
            text = _strict_decode(raw, encoding, name)
            data = text.encode("utf-8")
    # NUL anywhere, or other control characters near the start, mean binary data.
    if "\x00" in text or _CONTROL.search(text, 0, _SNIFF_BYTES):
        raise _binary_data(name)
    return data, encoding


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
        if not counts or counts[0] == 0:
            continue
        agreement = sum(c == counts[0] for c in counts) / len(counts)
        score = (agreement, prefer_tab and delimiter == "\t", counts[0])
        if best_score is None or score > best_score:
            best, best_score = delimiter, score
    if best is None:  # a single column: the delimiter never occurs
        return ("\t" if prefer_tab else ","), "."
    decimal = "."
    if best == ";":  # only ';' files can use a decimal comma without quoting every number
        fields = [f.strip() for line in lines[1:] for f in line.split(";")]
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


def _load_text(raw: bytes, name: str, cancel) -> tuple[pd.DataFrame, str, str]:
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
    sample = data[:_SNIFF_BYTES].decode("utf-8", errors="ignore")
    delimiter, decimal = _sniff(sample, len(data) > _SNIFF_BYTES, name)
    _check_cancel(cancel)

    record_lines, fields = _scan_records(data, delimiter)
    header = _read_header(data, delimiter)
    where = f"'{name}'"
    _check_duplicates(header, where)  # before the full parse: fail fast
    _check_cancel(cancel)

    try:
        frame = pd.read_csv(
            io.BytesIO(data),
            sep=delimiter,
            header=0,
            index_col=False,
            engine="c",
            encoding="utf-8",
            decimal=decimal,
            low_memory=False,  # one dtype per column, not per chunk
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
    if delimiter == ";":
        _convert_other_decimal(frame, "." if decimal == "," else ",")
    return frame, encoding, delimiter


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


def _convert_other_decimal(frame: pd.DataFrame, mark: str) -> None:
    """Turn text columns of numbers written with the other decimal mark into numbers.

    read_csv takes one decimal mark per file; a ';' file may still mix '0,53' and '0.53'
    columns. Only columns whose first values look like such numbers are converted, and
    only if every value converts.
    """
    for column in frame.columns:
        values = frame[column]
        if not pd.api.types.is_string_dtype(values):
            continue
        head = values.dropna().iloc[:20].astype(str).str.strip()
        if len(head) == 0 or not all(_NUMBER[mark].fullmatch(v) for v in head):
            continue
        text = values.str.strip()
        if mark == ",":
            text = text.str.replace(",", ".", regex=False)
        numbers = pd.to_numeric(text, errors="coerce")
        if numbers.notna().sum() == values.notna().sum():
            frame[column] = numbers


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


def _pick_sheet(names: list[str], sheet, name: str) -> str:
    if sheet is None:
        if not names:
            raise DataError(f"'{name}' contains no worksheets, so there is no table to read.")
        return names[0]
    if isinstance(sheet, int) and not isinstance(sheet, bool):
        if 0 <= sheet < len(names):
            return names[sheet]
    elif sheet in names:
        return sheet
    available = ", ".join(f"'{n}'" for n in names) or "none"
    wanted = f"number {sheet + 1}" if isinstance(sheet, int) else f"'{sheet}'"
    raise DataError(
        f"'{name}' has no sheet {wanted}. The sheets in this file are: {available}. "
        "Choose one of these."
    )


def _read_spreadsheet(raw: bytes, name: str, kind: str, sheet):
    """Cell values of one sheet as rows (row 0 is sheet row 1, column 0 is column A)."""
    try:
        workbook = _calamine_workbook(raw, name)
        names = list(workbook.sheet_names)
        chosen = _pick_sheet(names, sheet, name)
        rows = workbook.get_sheet_by_name(chosen).to_python(skip_empty_area=False)
        return rows, chosen, names, "calamine"
    except DataError:
        raise
    except BaseException as err:
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
        chosen = _pick_sheet(names, sheet, name)
        rows = [
            list(r)
            for r in workbook[chosen].iter_rows(min_row=1, min_col=1, values_only=True)
        ]
        return rows, chosen, names, "openpyxl"
    finally:
        workbook.close()


def _openpyxl_workbook(raw: bytes):
    import openpyxl  # imported only when needed: it is slow to import and rarely used


    return openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)


def _rows_to_frame(rows: list[list], name: str, sheet: str) -> pd.DataFrame:
    """Header = first non-empty row; fully empty rows are skipped."""
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
    header = [_header_text(v) for v in cells.iloc[filled_rows[0]]]
    _check_duplicates(header, where)
    # Fully empty rows are skipped, as pandas skips blank lines in a CSV file; the
    # index keeps the sheet's row numbers, so nothing is renumbered.
    data_rows = filled_rows[1:]
    if len(data_rows) == 0:
        raise _header_only(where)
    frame = cells.iloc[data_rows].infer_objects()
    frame.index = pd.Index(data_rows + 1, dtype="int64")
    frame = _finish_columns(frame, header, where)
    for column in frame.columns:
        values = frame[column]
        # Spreadsheets store every number as a float; whole numbers become integers so
        # ids and 0/1 labels get the same types as when read from CSV.
        if values.dtype.kind == "f" and values.notna().all() and (values % 1 == 0).all():
            frame[column] = values.astype("int64")
    return frame


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


def _finish_columns(frame: pd.DataFrame, header: list[str], where: str) -> pd.DataFrame:
    """Name the columns by the header; drop unnamed columns that hold no value at all.

    Excel often leaves such columns (trailing separators in CSV, blank margin columns
    in a sheet); they carry nothing. An unnamed column with values is an error.
    """
    names = [h.strip() for h in header]
    unnamed = [i for i, h in enumerate(names) if not h]
    holds_values = frame.iloc[:, unnamed].notna().any(axis=0).to_numpy()
    blank = [_column_letter(i) for i, filled in zip(unnamed, holds_values) if filled]
    if blank:
        which = "column " if len(blank) == 1 else "columns "
        raise DataError(
            f"In {where}, the header cell of {which}{_join(blank)} is empty, but the column "
            "holds values. Every column needs a name in the header row: type a name there "
            "(or delete the column if it is not needed) and load the file again."
        )
    if unnamed:
        frame = frame.iloc[:, [i for i, h in enumerate(names) if h]]
    frame.columns = [h for h in names if h]
    return frame


def _check_duplicates(header: list[str], where: str) -> None:
    """Refuse repeated column names: the analyst must be able to tell columns apart."""
    positions: dict[str, list[int]] = {}
    for i, h in enumerate(header):
        if h.strip():
            positions.setdefault(h.strip(), []).append(i)
    duplicates = [
        f"column '{h}' appears in columns {_join([_column_letter(i) for i in p])}"
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
