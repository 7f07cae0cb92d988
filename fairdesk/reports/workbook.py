"""The one Excel writer used by every page of FairDesk (and its CSV sibling).

Analysts take these "decision tables" to meetings, so the workbook is formatted for
reading and printing, and it is safe:

* the first sheet, "About this workbook", says where the numbers come from (input file,
  its SHA-256, settings, seeds, when it was written);
* undefined values are the text "undefined" with the reason as a cell comment and once
  more in a notes line under the table, never 0, blank, NaN or an Excel error;
* text is always stored as text: a group called ``=HYPERLINK(...)`` is never a formula
  (formula injection), and in CSV such text gets a leading ``'`` (see :func:`safe_text`);
* files are written atomically (temporary file in the same folder, then ``os.replace``),
  never over the input file, and a workbook open in Excel is reported as such.

No Qt here: openpyxl only, so the same code serves the GUI, the CLI and the tests.
"""

from __future__ import annotations

import csv
import datetime as _dt
import decimal
import errno
import io
import json
import math
import numbers
import os
import re
import stat
import tempfile
import time
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.chart import BarChart, LineChart, Reference, ScatterChart, Series
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from fairdesk.colors import group_hex
from fairdesk.errors import FairDeskError
from fairdesk.io.outputs import (check_extension, check_replace, is_fairdesk_csv,
                                 is_fairdesk_workbook, too_long, write_error_message)
from fairdesk.present.formats import NUMERIC_KINDS, excel_format, format_value, score_places
from fairdesk.present.table import CHART_KINDS, Cell, ChartSpec, Column, Formatted, Table
from fairdesk.undefined import Undefined

__all__ = [
    "ABOUT_SHEET",
    "ChartSpec",
    "Column",
    "Formatted",
    "Table",
    "safe_text",
    "sanitize_sheet_name",
    "write_csv",
    "write_workbook",
]

ABOUT_SHEET = "About this workbook"
UNDEFINED_TEXT = "undefined"
DEFAULT_UNDEFINED_REASON = "Not computable for this row."
INFINITE_REASON = "The value is infinite (for example a ratio whose denominator is zero)."
COMMENT_AUTHOR = "FairDesk"


MIN_WIDTH = 8
MAX_WIDTH = 60
ABOUT_VALUE_MAX_WIDTH = 80
CHART_ROWS = 20  # rows between stacked charts (a chart is 9 cm high, a row ~0.53 cm)
PRINTED_PAGE_POINTS = 480  # height of a landscape A4/Letter page inside its margins, ~17 cm

# Characters that make a spreadsheet treat a cell as a formula (OWASP "CSV injection"),
# plus their full-width forms, which some Excel input paths convert.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# Excel shows at most 15 significant digits; larger integers (seeds, IDs) go in as text.
_MAX_EXACT_INT = 10**15
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_CELL_MAX_CHARS = 32767

# Shared style objects: openpyxl stores each distinct style once, and sharing the objects
# keeps per-cell work to a dictionary look-up.
# The font is named: a font without a name prints in a serif fallback in some programs.
FONT_NAME = "Calibri"
_TITLE_FONT = Font(name=FONT_NAME, bold=True, size=14)
_SECTION_FONT = Font(name=FONT_NAME, bold=True, size=12)
_BOLD = Font(name=FONT_NAME, bold=True)
_UNDEFINED_FONT = Font(name=FONT_NAME, italic=True, color="808080")
_NOTE_FONT = Font(name=FONT_NAME, italic=True, color="404040")
_HEADER_FILL = PatternFill(fill_type="solid", start_color="DDEBF7", end_color="DDEBF7")
_HEADER_BORDER = Border(bottom=Side(style="thin", color="000000"))
_HEADER_ALIGN = Alignment(wrap_text=True, vertical="bottom")
_WRAP_TOP = Alignment(wrap_text=True, vertical="top")
_TOP = Alignment(vertical="top")
_RIGHT = Alignment(horizontal="right")


# The table types live in the presentation layer (one description for every surface).


# --------------------------------------------------------------------------- text safety


def safe_text(value: str) -> str:
    """CSV rule against formula injection: text starting with ``= + - @``, tab or CR
    (or a full-width ``＝ ＋ － ＠``) gets a leading single quote, as OWASP recommends.

    Only for text: numbers are written as numbers, so ``-3`` stays ``-3``.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _looks_like_formula(text: str) -> bool:
    return text.startswith(_FORMULA_START)


def _xlsx_text(value: str) -> str:
    """Text as it can be stored in a cell.

    XML turns CR and CRLF into LF when read, so we do it here, deterministically (LF is
    Excel's own line break in a cell); characters XML cannot hold at all (control
    characters other than tab/LF) become U+FFFD; Excel's cell limit is 32,767 chars.
    """
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    if ILLEGAL_CHARACTERS_RE.search(value):
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    if len(value) > _CELL_MAX_CHARS:
        value = value[: _CELL_MAX_CHARS - 1] + "…"
    return value


def _set_text(cell, text: str) -> None:
    """Store ``text`` as a literal string: never a formula, never an error code."""
    cell.value = _xlsx_text(text)
    cell.data_type = "s"  # openpyxl makes "=..." a formula and "#N/A" an error otherwise
    if _looks_like_formula(text):
        # Excel's "leading apostrophe": stays text even if someone edits the cell.
        cell.quotePrefix = True


def sanitize_sheet_name(name: str, used: set[str] | None = None) -> str:
    """A valid, unique Excel sheet name: at most 31 characters, none of ``[]:*?/\\``,
    no leading/trailing apostrophe, not "History" (reserved by Excel), unique
    (case-insensitively) within ``used`` by appending " (2)", " (3)", ...
    ``used`` holds lower-cased names and is updated.
    """
    used = set() if used is None else used
    text = ILLEGAL_CHARACTERS_RE.sub("", str(name))
    text = _SHEET_FORBIDDEN.sub("_", text).replace("\n", " ").replace("\t", " ")
    text = text.strip().strip("'").strip()
    if not text:
        text = "Sheet"
    if len(text) > 31 and " " in text:
        # "Equalized odds, quadratic curves rates": shorten the name, keep what the sheet
        # is (its last word), so the tiers and rates sheets of a scenario stay apart
        head, tail = text.rsplit(" ", 1)
        if len(tail) <= 12:
            text = head[: 31 - len(tail) - 2].rstrip(" ,;-–") + "… " + tail
    text = text[:31].rstrip().rstrip("'")
    candidate, n = text, 1
    while candidate.lower() in used or candidate.lower() == "history":
        n += 1
        suffix = f" ({n})"
        candidate = text[: 31 - len(suffix)].rstrip().rstrip("'") + suffix
    used.add(candidate.lower())
    return candidate


# --------------------------------------------------------------------------- values

# Classified values: (tag, payload). Tags: "num", "text", "bool", "date", "undef", "inf".


def _classify(value, default_reason: str):
    t = type(value)
    if t is float:
        if value != value:
            return "undef", default_reason
        if value in (math.inf, -math.inf):
            return "inf", value
        return "num", value
    if t is int:
        return ("num", value) if -_MAX_EXACT_INT < value < _MAX_EXACT_INT else ("text", str(value))
    if t is str:
        return "text", value
    if value is None:
        return "undef", default_reason
    if isinstance(value, Undefined):
        return "undef", value.reason or default_reason
    if isinstance(value, (bool, np.bool_)):
        return "bool", bool(value)
    if isinstance(value, numbers.Integral):
        return _classify(int(value), default_reason)
    if isinstance(value, (numbers.Real, decimal.Decimal)):
        try:
            return _classify(float(value), default_reason)
        except (TypeError, ValueError):
            pass
    if _is_missing_scalar(value):  # pandas.NA, pandas.NaT, numpy.datetime64("NaT")
        return "undef", default_reason
    if isinstance(value, np.datetime64):
        value = value.astype("datetime64[us]").item()
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:  # Excel has no time zones: keep it readable
            return "text", value.isoformat()
        return "date", value.to_pydatetime() if hasattr(value, "to_pydatetime") else value
    if isinstance(value, (_dt.date, _dt.time)):
        return "date", value
    if isinstance(value, str):
        return "text", str(value)
    if isinstance(value, (Mapping, list, tuple, set, frozenset)):
        return "text", _readable(value)
    return "text", str(value)


def _is_missing_scalar(value) -> bool:
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        return False
    try:
        result = pd.isna(value)
    except (TypeError, ValueError):
        return False
    return result is True or (type(result).__name__ == "bool_" and bool(result))


def _plain(value):
    """JSON-friendly copy of nested data (undefined/NaN/inf made readable)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return [_plain(v) for v in items]
    tag, payload = _classify(value, "")
    if tag == "undef":
        return f"{UNDEFINED_TEXT} ({payload})" if payload else UNDEFINED_TEXT
    if tag == "inf":
        return "∞" if payload > 0 else "−∞"
    if tag == "date":
        return payload.isoformat()
    return payload


def _readable(value) -> str:
    return json.dumps(_plain(value), ensure_ascii=False, separators=(", ", ": "), default=str)


def _inf_text(value: float) -> str:
    return "∞" if value > 0 else "−∞"


def _display_len(tag: str, payload, col: Column) -> int:
    """Approximate characters Excel shows for a value (for column widths)."""
    if tag == "text":
        return max((len(line) for line in payload.split("\n")), default=0)
    if tag == "num":
        if col.kind in ("number", "text"):
            return min(len(str(payload)), 11)  # General shows at most ~11 characters
        try:
            return len(format_value(payload, col.kind, col.decimals))
        except (OverflowError, ValueError):  # pragma: no cover - huge numbers
            return MAX_WIDTH
    if tag == "undef":
        return len(UNDEFINED_TEXT)
    if tag == "date":
        return 19 if isinstance(payload, _dt.datetime) else 10
    if tag == "bool":
        return 5
    return 2


def _fit_width(length: float, lo: float = MIN_WIDTH, hi: float = MAX_WIDTH) -> float:
    return float(min(max(length + 2, lo), hi))


def _columns_of(table: Table) -> tuple[int, list[list]]:
    """Values column by column (column-major), and the number of rows."""
    rows = table.rows
    keys = [c.key for c in table.columns]
    if hasattr(rows, "columns") and hasattr(rows, "__getitem__") and hasattr(rows, "iloc"):
        missing = [k for k in keys if k not in rows.columns]
        if missing:
            raise ValueError(f"Table {table.sheet!r}: no column(s) {missing} in the data")
        values = []
        for k in keys:
            series = rows[k]
            if getattr(series, "ndim", 1) != 1:
                raise ValueError(f"Table {table.sheet!r}: column {k!r} appears more than once")
            values.append(series.tolist())
        return len(rows), values
    rows = list(rows or [])
    return len(rows), [[r.get(k) for r in rows] for k in keys]


# --------------------------------------------------------------------------- sheets


def _comment(text: str) -> Comment:
    text = _xlsx_text(str(text))
    lines = sum(1 + len(line) // 40 for line in text.split("\n"))
    return Comment(text, COMMENT_AUTHOR, height=min(20 + 15 * lines, 400), width=260)


def _write_undefined(cell, reason: str) -> None:
    cell.value = UNDEFINED_TEXT
    cell.data_type = "s"
    cell.font = _UNDEFINED_FONT
    cell.alignment = _RIGHT
    cell.comment = _comment(reason)


def _write_value(cell, tag: str, payload, number_format: str | None) -> None:
    if tag == "num":
        cell.value = payload
        if number_format and number_format != "General":
            cell.number_format = number_format
    elif tag == "text":
        _set_text(cell, payload)
        if len(payload) > MAX_WIDTH:
            cell.alignment = _WRAP_TOP
    elif tag == "undef":
        _write_undefined(cell, payload)
    elif tag == "inf":
        cell.value = _inf_text(payload)
        cell.data_type = "s"
        cell.font = _UNDEFINED_FONT
        cell.alignment = _RIGHT
        cell.comment = _comment(INFINITE_REASON)
    elif tag == "bool":
        cell.value = payload
    elif tag == "date":
        cell.value = payload
        cell.number_format = (
            "yyyy-mm-dd hh:mm:ss" if isinstance(payload, _dt.datetime)
            else "hh:mm:ss" if isinstance(payload, _dt.time) else "yyyy-mm-dd"
        )


# Printed type: cells are 11 pt; a sheet is shrunk to fit only while its type stays at or
# above MIN_PRINT_PT (one page: ONE_PAGE_PT), otherwise it prints across pages at
# WIDE_SCALE % with its header row and first column repeated on every page.
BASE_PT = 11.0
MIN_PRINT_PT = 8.0
ONE_PAGE_PT = 9.0
WIDE_SCALE = 80
# Printable area in points (paper less 0.7" side and 0.75" top/bottom margins, as set).
_PAPER = {"A4": (9, 595.0, 842.0), "Letter": (1, 612.0, 792.0)}  # openpyxl code, w, h
_SIDE_MARGIN_PT = 0.7 * 72 * 2
_TOP_MARGIN_PT = (0.75 + 0.75) * 72  # the header and footer sit inside these margins
_LETTER_REGIONS = ("US", "CA", "MX", "PH", "CL", "CO", "VE", "PR", "GT", "CR", "PA",
                   "United States", "Canada", "Mexico", "Philippines")


def default_paper() -> str:
    """A4, or Letter where the locale says North America (and a few others that use it)."""
    import locale

    names = [os.environ.get(v, "") for v in ("LC_PAPER", "LC_ALL", "LANG")]
    if not any(n.split(".")[0] in ("C", "POSIX") for n in names if n):
        try:  # Windows: no LANG, but the user's locale ('English_United States')
            names.append(locale.getlocale()[0] or "")
        except ValueError:
            pass
    for name in names:
        region = re.split(r"[_\-.]", name)[1] if re.match(r"^[a-z]{2}[_-][A-Z]{2}", name) else ""
        if region in _LETTER_REGIONS or any(r in name for r in _LETTER_REGIONS[12:]):
            return "Letter"
        if region:
            return "A4"
    return "A4"


def _points_wide(ws, n_columns: int) -> float:
    """Printed width of the first ``n_columns`` columns at 100 %, in points (Excel's
    column width is in characters of the default font: about 7 px = 5.25 pt each,
    plus 5 px of padding)."""
    total = 0.0
    for c in range(1, n_columns + 1):
        width = ws.column_dimensions[get_column_letter(c)].width or 8.43
        total += (width * 7 + 5) * 0.75
    return total


def _print_setup(ws, landscape: bool, title_rows: str | None = None, *, paper: str = "A4",
                 n_columns: int | None = None, n_rows: int | None = None,
                 one_page: bool = False) -> None:
    """Paper, orientation and scale: shrink to the page width only while the type stays
    readable (see MIN_PRINT_PT); a one-page sheet only while it stays at ONE_PAGE_PT."""
    code, paper_w, paper_h = _PAPER.get(paper, _PAPER["A4"])
    ws.page_setup.paperSize = code
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    page_w, page_h = (paper_h, paper_w) if landscape else (paper_w, paper_h)
    page_w -= _SIDE_MARGIN_PT
    page_h -= _TOP_MARGIN_PT
    width = _points_wide(ws, n_columns or ws.max_column)
    height = sum((ws.row_dimensions[r].height or 15.0) for r in range(1, (n_rows or ws.max_row) + 1))
    fit_width = min(1.0, page_w / max(width, 1.0))
    fit_page = min(fit_width, page_h / max(height, 1.0))
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    if one_page and fit_page * BASE_PT >= ONE_PAGE_PT:
        ws.page_setup.fitToHeight = 1
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    elif fit_width * BASE_PT >= MIN_PRINT_PT:
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        if title_rows:
            ws.print_title_rows = title_rows
    else:  # too wide to shrink readably: across pages, headers and first column repeated
        ws.sheet_properties.pageSetUpPr.fitToPage = False
        ws.page_setup.scale = WIDE_SCALE
        if title_rows:
            ws.print_title_rows = title_rows
        ws.print_title_cols = "A:A"


def _write_about(ws, about, paper: str = "A4") -> None:
    about = about or {}
    wrapped: list[tuple[int, int]] = []  # (row, text length) of wrapped values
    items = list(about.items()) if isinstance(about, Mapping) else [tuple(p) for p in about]
    if not _has_written(items):
        written = _dt.datetime.now().astimezone().isoformat(timespec="seconds")
        for i, (key, value) in enumerate(items):
            if str(key).lower() == "application" and isinstance(value, Mapping):
                items[i] = (key, {**value, "Written": written})
                break
        else:
            items.insert(0, ("Written", written))

    _set_text(ws.cell(row=1, column=1), ABOUT_SHEET)
    ws.cell(row=1, column=1).font = _TITLE_FONT
    key_len, value_len = len("Written"), 10
    row = 3

    def pair(key, value):
        nonlocal row, key_len, value_len
        kcell = ws.cell(row=row, column=1)
        _set_text(kcell, str(key))
        kcell.font = _BOLD
        kcell.alignment = _WRAP_TOP
        key_len = max(key_len, len(str(key)))
        vcell = ws.cell(row=row, column=2)
        if value is None:
            _set_text(vcell, "(none)")
            vcell.font = _UNDEFINED_FONT
            value_len = max(value_len, 6)
        else:
            tag, payload = _classify(value, DEFAULT_UNDEFINED_REASON)
            if tag == "bool":
                tag, payload = "text", "Yes" if payload else "No"
            if tag == "date":
                tag, payload = "text", payload.isoformat()
            _write_value(vcell, tag, payload, None)
            if tag == "text":
                vcell.alignment = _WRAP_TOP
                length = _display_len(tag, payload, Column("v", "v"))
                value_len = max(value_len, length)
                wrapped.append((vcell.row, length))
            else:
                value_len = max(value_len, len(str(payload)) if tag == "num" else 9)
                if tag == "num":
                    vcell.alignment = Alignment(horizontal="left", vertical="top")
        row += 1

    def rows_of(key, value):
        """A setting that is itself a mapping or a list reads one row per entry, not as
        JSON: 'Scenarios: Fair' … ."""
        if isinstance(value, Mapping) and value:
            for k, v in value.items():
                yield from rows_of(f"{key}: {k}", v)
        elif isinstance(value, (list, tuple)) and value and all(
                not isinstance(v, (Mapping, list, tuple)) for v in value):
            yield key, "; ".join(str(v) for v in value)
        else:
            yield key, value

    for key, value in items:
        if isinstance(value, Mapping):
            if row > 3:
                row += 1  # blank line between sections
            hcell = ws.cell(row=row, column=1)
            _set_text(hcell, str(key))
            hcell.font = _SECTION_FONT
            row += 1
            if not value:
                pair("(none)", None)
            for k, v in value.items():
                for k2, v2 in rows_of(k, v):
                    pair(k2, v2)
        else:
            pair(key, value)

    ws.column_dimensions["A"].width = _fit_width(key_len + 2, 12, 40)
    width_b = _fit_width(value_len, 20, ABOUT_VALUE_MAX_WIDTH)
    ws.column_dimensions["B"].width = width_b
    for r, length in wrapped:  # not every spreadsheet program sizes wrapped rows itself
        lines = math.ceil(length / max(width_b - 2, 1))
        if lines > 1:
            ws.row_dimensions[r].height = 15 * min(lines, 30)
    _print_setup(ws, landscape=False, paper=paper)


def _has_written(items) -> bool:
    for key, value in items:
        if str(key).lower() == "written":
            return True
        if isinstance(value, Mapping) and any(str(k).lower() == "written" for k in value):
            return True
    return False


def _write_table(ws, table: Table, paper: str = "A4") -> int:
    """Write the table (and its charts, below it); returns the row after the charts."""
    columns = list(table.columns)
    if not columns:
        raise ValueError(f"Table {table.sheet!r} has no columns")
    n_rows, values = _columns_of(table)

    row = 1
    if table.title:
        cell = ws.cell(row=1, column=1)
        _set_text(cell, str(table.title))
        cell.font = _TITLE_FONT
        row = 2
    preamble_rows = []
    for line in table.preamble:
        row += 1 if line.startswith("## ") and row > 2 else 0  # a blank line before a heading
        cell = ws.cell(row=row, column=1)
        _set_text(cell, line[3:] if line.startswith("## ") else str(line))
        if line.startswith("## "):
            cell.font = _SECTION_FONT
        cell.alignment = _WRAP_TOP
        preamble_rows.append((row, len(str(line))))
        row += 1
    if table.preamble:
        row += 1
    header_row = row
    first_data = header_row + 1
    last_row = header_row + n_rows

    reasons: dict[str, None] = {}  # distinct undefined reasons, in order of appearance
    any_inf = False
    wrapped_lines: dict[int, int] = {}  # row -> lines its wrapped text needs (fixed-width columns)
    for c_idx, (col, col_values) in enumerate(zip(columns, values), start=1):
        hcell = ws.cell(row=header_row, column=c_idx)
        _set_text(hcell, str(col.header))
        hcell.font = _BOLD
        hcell.fill = _HEADER_FILL
        hcell.border = _HEADER_BORDER
        hcell.alignment = _HEADER_ALIGN
        if col.note:
            hcell.comment = _comment(col.note)

        default_reason = col.undefined_reason or DEFAULT_UNDEFINED_REASON
        fmt = col.number_format
        longest = 0
        r = first_data
        for value in col_values:
            cell_fmt = fmt
            kind, places = col.kind, col.decimals
            if isinstance(value, Cell):  # a row of its own kind in a mixed column
                kind, places = value.resolved(col)
                cell_fmt, value = excel_format(kind, places), value.value
            if kind == "score" and isinstance(value, (int, float)) and not isinstance(value, bool):
                # a threshold between the scores shows the decimals it needs, as in the window
                needed = score_places(value, places)
                if needed != places:
                    cell_fmt = excel_format("score", needed)
            if kind == "difference" and isinstance(value, (int, float)) and not isinstance(value, bool):
                value = 100 * value  # shown as points ("+3.2 pts")
            tag, payload = _classify(value, default_reason)
            cell = ws.cell(row=r, column=c_idx)
            _write_value(cell, tag, payload, cell_fmt)
            if tag == "undef":
                reasons.setdefault(payload)
            elif tag == "inf":
                any_inf = True
            if col.width is None:
                n = _display_len(tag, payload, col)
                if n > longest:
                    longest = n
            elif tag == "text" and len(payload) > col.width:
                cell.alignment = _WRAP_TOP  # longer than its fixed-width column: wrap it
                lines = math.ceil(len(payload) / max(float(col.width) - 2, 1))
                if lines > wrapped_lines.get(r, 1):
                    wrapped_lines[r] = lines
            r += 1

        letter = get_column_letter(c_idx)
        if col.width is not None:
            ws.column_dimensions[letter].width = float(col.width)
        else:
            header_len = max(len(line) for line in str(col.header).split("\n") or [""])
            # +2 for the autofilter button beside the header text
            ws.column_dimensions[letter].width = _fit_width(max(longest, header_len + 2))

    _span_lines(ws, preamble_rows, len(columns))
    for r, lines in wrapped_lines.items():  # not every spreadsheet program sizes wrapped rows
        ws.row_dimensions[r].height = 15 * min(lines, 30)
        for c_idx in range(1, len(columns) + 1):  # the row's values line up at the top
            cell = ws.cell(row=r, column=c_idx)
            a_ = cell.alignment
            cell.alignment = Alignment(horizontal=a_.horizontal, vertical="top",
                                       wrap_text=bool(a_.wrap_text))
    last_col = get_column_letter(len(columns))
    ws.freeze_panes = f"A{first_data}"
    ws.auto_filter.ref = f"A{header_row}:{last_col}{max(last_row, header_row)}"

    notes = [str(n) for n in table.notes]
    if n_rows == 0:
        notes.insert(0, "No rows.")
    notes += [f"{UNDEFINED_TEXT}: {reason}" for reason in reasons]
    if any_inf:
        notes.append(f"∞ / −∞: {INFINITE_REASON}")
    r = last_row + 2
    for line in notes:
        cell = ws.cell(row=r, column=1)
        _set_text(cell, line)
        cell.font = _NOTE_FONT
        preamble_rows.append((r, len(line)))  # spans the table's width and wraps, as above
        r += 1

    chart_row = r + 1  # charts go below the table and its notes, one under the other
    _span_lines(ws, preamble_rows[len(table.preamble):], len(columns))
    for i, spec in enumerate(table.charts):
        # printed, a chart is never cut in two: a page break before it, unless it is the
        # first and what is above it (rows of 15 pt, or their own height) leaves it room
        above = sum(ws.row_dimensions[r].height or 15 for r in range(1, chart_row))
        if i > 0 or above + spec.height_cm * 28.35 > PRINTED_PAGE_POINTS:
            from openpyxl.worksheet.pagebreak import Break

            ws.row_breaks.append(Break(id=chart_row - 1))
        _add_chart(ws, spec, columns, header_row, last_row, i, f"A{chart_row}")
        chart_row += math.ceil(spec.height_cm / 0.53) + 2

    header_lines = max(str(c.header).count("\n") + 1 for c in columns)
    if header_lines > 1:  # headers written on several lines need the height for them
        ws.row_dimensions[header_row].height = 15 * header_lines
    _print_setup(ws, landscape=True, title_rows=f"{header_row}:{header_row}", paper=paper,
                 n_columns=len(columns), n_rows=max(r - 1, last_row), one_page=table.one_page)
    if table.one_page:
        ws.print_area = f"A1:{last_col}{max(r - 1, last_row)}"
        ws.print_options.horizontalCentered = True
    return chart_row


def _span_lines(ws, lines, n_columns: int) -> None:
    """Sentences above or below a table span its width (merged cells) and get the height
    their wrapping needs, so nothing is cut at the print area's edge."""
    total = sum(ws.column_dimensions[get_column_letter(c)].width or 8.43
                for c in range(1, n_columns + 1))
    for r, length in lines:
        cell = ws.cell(row=r, column=1)
        cell.alignment = _WRAP_TOP
        if n_columns > 1:
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=n_columns)
        # proportional text is narrower than the '0's that column widths count
        needed = math.ceil(length * 0.9 / max(total - 2, 1))
        if needed > 1:
            ws.row_dimensions[r].height = 15 * min(needed, 30)


def _add_chart(ws, spec: ChartSpec, columns, header_row: int, last_row: int, index: int,
               below: str | None = None):
    index_of = {c.key: i for i, c in enumerate(columns, start=1)}
    for key in [spec.category_key, *spec.value_keys]:
        if key not in index_of:
            raise ValueError(f"Chart {spec.title!r}: {key!r} is not a column of the table")
    for key in spec.value_keys:
        if columns[index_of[key] - 1].kind not in NUMERIC_KINDS:
            raise ValueError(f"Chart {spec.title!r}: series {key!r} is not a numeric column")
    cat_col = columns[index_of[spec.category_key] - 1]
    if spec.kind == "scatter" and cat_col.kind not in NUMERIC_KINDS:
        raise ValueError(f"Chart {spec.title!r}: scatter x values {spec.category_key!r} "
                         "must be a numeric column")
    if last_row <= header_row:
        return  # nothing to plot

    chart = {"bar": BarChart, "line": LineChart, "scatter": ScatterChart}[spec.kind]()
    chart.title = spec.title
    chart.width, chart.height = spec.width_cm, spec.height_cm
    x_ref = Reference(ws, min_col=index_of[spec.category_key],
                      min_row=header_row + 1, max_row=last_row)
    if spec.kind == "scatter" and spec.label_key:
        # One series per row, named by its label: the legend names every point (a plain
        # scatter's points carry no names in Excel), each in its own colour.
        label_col = index_of[spec.label_key]
        chart.style = 13
        chart.scatterStyle = "marker"
        key = spec.value_keys[0]
        for i, r in enumerate(range(header_row + 1, last_row + 1)):
            label = ws.cell(row=r, column=label_col).value
            series = Series(Reference(ws, min_col=index_of[key], min_row=r, max_row=r),
                            Reference(ws, min_col=index_of[spec.category_key], min_row=r,
                                      max_row=r), title=str(label))
            colour = group_hex(i).lstrip("#")
            series.marker.symbol = "circle"
            series.marker.size = 9
            series.graphicalProperties.line.noFill = True
            series.marker.graphicalProperties.solidFill = colour
            series.marker.graphicalProperties.line.solidFill = colour
            chart.series.append(series)
    elif spec.kind == "scatter":
        chart.style = 13
        first, last = header_row + 1, last_row
        if spec.rows is not None:  # one block of a long table (e.g. one threshold's rows)
            first, last = header_row + 1 + spec.rows[0], header_row + spec.rows[1]
            x_ref = Reference(ws, min_col=index_of[spec.category_key], min_row=first, max_row=last)
        for key in spec.value_keys:
            if spec.rows is not None:
                y_ref = Reference(ws, min_col=index_of[key], min_row=first, max_row=last)
                series = Series(y_ref, x_ref, title=columns[index_of[key] - 1].header)
            else:
                y_ref = Reference(ws, min_col=index_of[key], min_row=header_row, max_row=last_row)
                series = Series(y_ref, x_ref, title_from_data=True)
            series.marker.symbol = "circle"
            series.marker.size = 5 if spec.scatter_lines else 9
            if not spec.scatter_lines:  # points only: make the markers solid and visible
                series.graphicalProperties.line.noFill = True
                series.marker.graphicalProperties.solidFill = "0072B2"
                series.marker.graphicalProperties.line.solidFill = "0072B2"
                chart.scatterStyle = "marker"
            chart.series.append(series)
    else:
        if spec.kind == "bar":
            chart.type = "col"
            chart.grouping = "clustered"
        for key in spec.value_keys:
            y_ref = Reference(ws, min_col=index_of[key], min_row=header_row, max_row=last_row)
            chart.add_data(y_ref, titles_from_data=True)
        chart.set_categories(x_ref)
        for i, series in enumerate(chart.series):  # the window's colours, colour-blind safe
            colour = group_hex(i).lstrip("#")
            series.graphicalProperties.solidFill = colour
            series.graphicalProperties.line.solidFill = colour
    # Both axes titled, with the unit: given, or the columns' own headers.
    value_cols = [columns[index_of[k] - 1] for k in spec.value_keys]
    y_title = spec.y_title or (value_cols[0].header if len(value_cols) == 1 else "")
    if not y_title and spec.percent_axis:
        y_title = "Rate (%)"
    chart.x_axis.title = (spec.x_title or cat_col.header).replace("\n", " ") or None
    chart.y_axis.title = y_title.replace("\n", " ") or None
    # openpyxl >= 3.1 hides axes unless told otherwise
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    if spec.percent_axis:  # a rate axis ends at 100 % (differences keep their range)
        chart.y_axis.number_format = "0%"
        chart.y_axis.numFmt.sourceLinked = False
        plotted = [ws.cell(row=r, column=index_of[k]).value for k in spec.value_keys
                   for r in range(header_row + 1, last_row + 1)]
        plotted = [v for v in plotted if isinstance(v, (int, float)) and math.isfinite(v)]
        if plotted and 0 <= min(plotted) and max(plotted) <= 1:
            chart.y_axis.scaling.min = 0
            chart.y_axis.scaling.max = 1
    if spec.kind == "scatter" and cat_col.kind == "percent":
        chart.x_axis.number_format = "0%"
        chart.x_axis.numFmt.sourceLinked = False
    if len(spec.value_keys) == 1 and spec.kind != "scatter":
        chart.legend = None
    anchor = spec.anchor or below or \
        f"{get_column_letter(len(columns) + 2)}{header_row + CHART_ROWS * index}"
    ws.add_chart(chart, anchor)


# --------------------------------------------------------------------------- atomic files


def _open_message(target: Path) -> str:
    return (f"“{target}” is open in another program (Excel?) or read-only; "
            "close it or choose another name.")


def _same_file(a: Path, b: Path) -> bool:
    if a.exists() and b.exists():
        try:
            return os.path.samefile(a, b)
        except OSError:
            pass
    def norm(p: Path) -> str:
        return os.path.normcase(os.path.realpath(os.path.abspath(p)))

    return norm(a) == norm(b)


def _check_target(target: Path, input_paths: Iterable, overwrite: bool, ours=None,
                  force: bool = False) -> None:
    if too_long(target):
        raise FairDeskError(f"“{target}”: the path is too long for this computer. Choose a "
                            "shorter file name or a folder nearer the top of the drive.")
    for p in input_paths or ():
        if p and _same_file(target, Path(os.fspath(p)).expanduser()):
            raise FairDeskError(f"“{target}” is the input file. FairDesk never overwrites "
                                "its input file; choose another name.")
    folder = target.parent
    if not folder.is_dir():
        raise FairDeskError(f"The folder “{folder}” does not exist; choose another folder.")
    if os.name != "nt" and not os.access(folder, os.W_OK | os.X_OK):
        raise FairDeskError(f"The folder “{folder}” is not writable; choose another folder.")
    if target.is_dir():
        raise FairDeskError(f"“{target}” is a folder; choose a file name.")
    exists = target.exists()
    if exists and not overwrite:
        raise FairDeskError(f"“{target}” already exists; choose another name.")
    for lock in (folder / f"~${target.name}", folder / f".~lock.{target.name}#"):
        if lock.exists():
            raise FairDeskError(_open_message(target) + f" (The lock file “{lock.name}” is "
                                "beside it; if the file is not open anywhere, delete that "
                                "lock file.)")
    if exists:
        mode = target.stat().st_mode
        if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(target, os.W_OK):
            raise FairDeskError(_open_message(target))
        if ours is not None:
            check_replace(target, ours, force=force)  # only FairDesk's own files, unless confirmed


def _new_file_mode(target: Path) -> int | None:
    """Mode for the new file: the old file's, or what the umask gives a new file."""
    if os.name == "nt":
        return None
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        pass
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except OSError:
        pass
    return 0o644


@contextmanager
def _atomic_target(path, input_paths, overwrite: bool, suffix: str, ours=None,
                   force: bool = False) -> Iterator[tuple[int, Path]]:
    """Yield ``(fd, temp_path)`` in the target's folder; on success move it into place.

    ``ours(path)`` tells whether an existing file is one FairDesk wrote (replaced without
    asking); any other existing file is replaced only with ``force`` or a confirmation.
    """
    target = Path(os.fspath(path)).expanduser().absolute()
    _check_target(target, input_paths, overwrite, ours, force)
    check_extension(target, "workbook" if suffix == ".xlsx" else "csv")
    try:
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, suffix=suffix, prefix="~fairdesk-")
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.ENAMETOOLONG):
            raise FairDeskError(write_error_message(exc, target)) from None
        raise FairDeskError(f"The folder “{target.parent}” is not writable "
                            f"({exc.strerror or exc}); choose another folder.") from None
    tmp = Path(tmp_name)
    try:
        yield fd, tmp
        mode = _new_file_mode(target)
        if mode is not None:
            os.chmod(tmp, mode)
        for attempt in range(3 if os.name == "nt" else 1):
            try:
                os.replace(tmp, target)
                break
            except PermissionError:
                # Windows: Excel's lock, or a virus scanner that has the new file open
                if attempt == 2 or os.name != "nt":
                    raise
                time.sleep(0.3)
    except PermissionError as exc:
        _remove(tmp)
        raise FairDeskError(_open_message(target)) from exc
    except OSError as exc:
        _remove(tmp)
        raise FairDeskError(write_error_message(exc, target)) from exc
    except BaseException:
        _remove(tmp)
        raise


@contextmanager
def _closing_quietly(fh):
    """Close ``fh`` when the block ends; when the block failed (a full disk), a second error
    from flushing the rest on close is dropped, so the first error is the one reported and
    Python never prints "Exception ignored" for a half-written file."""
    try:
        yield fh
    except BaseException:
        try:
            fh.close()
        except OSError:
            pass
        raise
    fh.close()


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError:  # pragma: no cover - nothing more we can do
        pass


# --------------------------------------------------------------------------- writers


CONTENTS_SHEET = "Contents"


def _build_workbook(about, tables: list[Table], *, paper: str | None = None,
                    glossary: bool = True, title: str = "FairDesk") -> Workbook:
    paper = paper or default_paper()
    wb = Workbook()
    wb.properties.creator = "FairDesk"
    wb.properties.title = ABOUT_SHEET
    about_ws = wb.active
    about_ws.title = ABOUT_SHEET
    _write_about(about_ws, about, paper)
    if glossary and not any(t.sheet == "Glossary" for t in tables):
        from .glossary import glossary_table

        tables = list(tables) + [glossary_table()]
    used = {ABOUT_SHEET.lower(), CONTENTS_SHEET.lower()}
    listed = []
    for table in tables:
        ws = wb.create_sheet(sanitize_sheet_name(table.sheet, used))
        _write_table(ws, table, paper)
        listed.append((ws.title, table.title or table.sheet))
    if len(tables) > 1:  # at the end, with the glossary: the first sheets are for reading
        contents_ws = wb.create_sheet(CONTENTS_SHEET, index=len(wb.worksheets) - (1 if glossary else 0))
        _write_contents(contents_ws, listed, paper)
    _headers_and_footers(wb, title, _input_hash(about))
    return wb


def _write_contents(ws, listed, paper: str) -> None:
    """Every sheet with its full title (sheet names are cut to 31 characters), linked."""
    _set_text(ws.cell(row=1, column=1), "Contents")
    ws.cell(row=1, column=1).font = _TITLE_FONT
    for c, text in enumerate(("Sheet", "What it holds"), start=1):
        cell = ws.cell(row=3, column=c)
        _set_text(cell, text)
        cell.font, cell.fill, cell.border = _BOLD, _HEADER_FILL, _HEADER_BORDER
    for r, (name, full) in enumerate(listed, start=4):
        cell = ws.cell(row=r, column=1)
        _set_text(cell, name)
        cell.hyperlink = f"#'{name.replace(chr(39), chr(39) * 2)}'!A1"
        cell.font = Font(name=FONT_NAME, color="0563C1", underline="single")
        _set_text(ws.cell(row=r, column=2), str(full))
    ws.column_dimensions["A"].width = _fit_width(max(len(n) for n, _ in listed) + 2, 12, 34)
    ws.column_dimensions["B"].width = _fit_width(max(len(str(f)) for _, f in listed) + 2, 20, 90)
    _print_setup(ws, landscape=False, title_rows="3:3", paper=paper)


def _input_hash(about) -> str:
    """The input file's SHA-256 as recorded on the About sheet ('' when there is none)."""
    items = about.items() if isinstance(about, Mapping) else (about or [])
    for key, value in items:
        if isinstance(value, Mapping):
            found = _input_hash(value)
            if found:
                return found
        elif str(key).strip().lower() in ("sha-256", "sha256", "input sha-256") and value:
            return str(value)
    return ""


def _hf_text(text: str) -> str:
    return str(text).replace("&", "&&")  # '&' starts a code in Excel headers and footers


def _headers_and_footers(wb, title: str, sha256: str) -> None:
    """Every printed page says what it is: workbook title, sheet, date, page x of y and
    the first 12 characters of the input's SHA-256."""
    date = _dt.date.today().isoformat()
    for ws in wb.worksheets:
        ws.HeaderFooter.scaleWithDoc = False  # 9 pt on paper however the sheet is scaled
        for part in (ws.oddHeader, ws.firstHeader):
            part.left.text = _hf_text(title)
            part.left.size = 9
            part.center.text = "&A"  # the sheet's name
            part.center.size = 9
            part.right.text = f"Exported {date}"
            part.right.size = 9
        for part in (ws.oddFooter, ws.firstFooter):
            part.left.text = f"Input SHA-256 {sha256[:12]}…" if sha256 else ""
            part.left.size = 9
            part.right.text = "Page &P of &N"
            part.right.size = 9


def write_workbook(path, *, about, tables: list[Table], input_paths: Iterable = (),
                   overwrite: bool = True, force: bool = False, paper: str | None = None,
                   glossary: bool = True, title: str = "FairDesk") -> Path:
    """Write the About sheet and one sheet per table to ``path`` (atomically).

    ``about``: ``{"Section": {"Key": value, ...}, ...}`` or a list of ``(key, value)``
    pairs; a mapping value makes a section, other values plain rows. "Written" (local
    ISO date-time) is added when absent. Raises :class:`FairDeskError` with a message for
    the analyst when the file cannot be written (input file, open in Excel, read-only...).
    ``paper`` is "A4" or "Letter" (default: from the locale); a Contents sheet lists every
    sheet with its full title, and a Glossary sheet is added unless ``glossary=False``.
    Every printed page carries ``title``, the sheet, the date, the page number and the
    input's SHA-256 (from ``about``) in its header and footer.
    """
    with _atomic_target(path, input_paths, overwrite, ".xlsx", is_fairdesk_workbook,
                        force) as (fd, tmp):
        with _closing_quietly(os.fdopen(fd, "wb")) as fh:
            wb = _build_workbook(about, tables, paper=paper, glossary=glossary, title=title)
            # built in memory first: openpyxl leaves its zip writer open when a write fails,
            # and that writer would later complain ("Exception ignored") about the closed file
            buffer = io.BytesIO()
            wb.save(buffer)
            fh.write(buffer.getbuffer())
            fh.flush()
            os.fsync(fh.fileno())
    return Path(os.fspath(path)).expanduser().absolute()


def _csv_value(value, col: Column) -> str:
    if isinstance(value, Cell):
        value = value.value
    tag, payload = _classify(value, "")
    if tag == "num":
        return str(payload)
    if tag == "text":
        return safe_text(payload)
    if tag == "undef":
        return UNDEFINED_TEXT
    if tag == "inf":
        return _inf_text(payload)
    if tag == "bool":
        return "TRUE" if payload else "FALSE"
    if tag == "date":
        return payload.isoformat()
    return safe_text(str(payload))  # pragma: no cover


def write_csv(path, columns: list[Column], rows, *, input_paths: Iterable = (),
              overwrite: bool = True, force: bool = False) -> Path:
    """CSV with the same safety and atomic rules; UTF-8 with BOM so Excel reads it right.

    Text starting with a formula character gets a leading ``'`` (:func:`safe_text`);
    undefined values are the text "undefined"; numbers are written in full precision
    (percent columns as fractions, 0.25 for 25%).
    """
    table = Table(sheet="csv", columns=list(columns), rows=rows)
    n_rows, values = _columns_of(table)
    header = [safe_text(str(c.header)) for c in columns]
    line = io.StringIO()
    csv.writer(line, lineterminator="").writerow(header)
    with _atomic_target(path, input_paths, overwrite, ".csv",
                        lambda p: is_fairdesk_csv(p, line.getvalue()), force) as (fd, tmp):
        with _closing_quietly(os.fdopen(fd, "w", encoding="utf-8-sig", newline="")) as fh:
            writer = csv.writer(fh, lineterminator="\r\n")
            writer.writerow(header)
            for i in range(n_rows):
                writer.writerow([_csv_value(vals[i], col) for col, vals in zip(columns, values)])
            fh.flush()
            os.fsync(fh.fileno())
    return Path(os.fspath(path)).expanduser().absolute()
