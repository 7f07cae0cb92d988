"""What calamine does not tell about a workbook, read from its XML parts directly.

calamine reads cell values fast, but it reports an Excel error value (``#DIV/0!``) and a
formula that was never calculated as an empty cell, it does not say which sheet was
active, and it builds a dense grid from the first to the last used cell, so one stray
cell at row 1,000,000, column 16,000 asks for billions of cells and aborts the process.
This module reads, from the raw ``.xlsx``/``.xlsm``/``.ods`` bytes:

* the **active sheet** (``workbookView/@activeTab`` in xlsx, ``ActiveTable`` in ods);
* a sheet's **real extent** from its XML (cells present, last row, last column), cheap
  enough to run before every read, so a wasteful grid is never asked of calamine;
* a **sparse cell reader** for such sheets: memory proportional to the cells present;
* the cells holding **Excel error values** and **formulas without a cached value**.

The zip container and its XML prologs were already checked by the loader (no entity
declarations, no bombs), so ElementTree parses these parts safely. Qt-free.
"""

from __future__ import annotations

import io
import re
import zipfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass

__all__ = ["SheetExtent", "active_sheet", "sheet_part", "sheet_extent", "read_sparse",
           "special_cells", "column_index"]

_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_REF = re.compile(rb'<(?:\w+:)?c\s+[^>]*?\br="([A-Z]{1,3})(\d+)"')
_REF_TEXT = re.compile(r"([A-Z]{1,3})(\d+)")
_ERROR_CELL = re.compile(rb'<(?:\w+:)?c\s+[^>]*?\br="([A-Z]{1,3})(\d+)"[^>]*?\bt="e"[^>]*>'
                         rb'(?:(?:(?!</(?:\w+:)?c>).)*?<(?:\w+:)?v>([^<]*)<)?', re.S)
# A formula followed by no value, or an empty one, before the cell closes.
_UNCALCULATED = re.compile(
    rb'<(?:\w+:)?c\s+[^>]*?\br="([A-Z]{1,3})(\d+)"[^>]*>\s*'
    rb'<(?:\w+:)?f\b[^>]*(?:/>|>[^<]*</(?:\w+:)?f>)\s*'
    rb'(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)?\s*</(?:\w+:)?c>')


def column_index(letters: str | bytes) -> int:
    """'A' -> 0, 'Z' -> 25, 'AA' -> 26."""
    if isinstance(letters, bytes):
        letters = letters.decode("ascii")
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n - 1


@dataclass
class SheetExtent:
    cells: int  # cell elements present (an upper bound on filled cells)
    last_row: int  # 1-based
    last_column: int  # 0-based

    @property
    def grid(self) -> int:
        return self.last_row * (self.last_column + 1)

    def wasteful(self) -> bool:
        """Whether a dense grid would be far larger than the cells present."""
        return self.grid > 20 * self.cells + 1_000_000


# --------------------------------------------------------------------------- which parts


def _xml(archive: zipfile.ZipFile, name: str):
    try:
        return ET.fromstring(archive.read(name))
    except KeyError:
        return None


def sheet_part(archive: zipfile.ZipFile, sheet: str) -> str | None:
    """The zip member holding an xlsx sheet's cells, or None."""
    book = _xml(archive, "xl/workbook.xml")
    rels = _xml(archive, "xl/_rels/workbook.xml.rels")
    if book is None or rels is None:
        return None
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{{{_NS_PKG_REL}}}Relationship")}
    for s in book.iter(f"{{{_NS_MAIN}}}sheet"):
        if s.get("name") == sheet:
            target = targets.get(s.get(f"{{{_NS_REL}}}id"), "")
            if not target:
                return None
            target = target.lstrip("/")
            return target if target.startswith("xl/") else "xl/" + target
    return None


def active_sheet(raw: bytes, kind: str, names: list[str]) -> str | None:
    """The sheet shown when the workbook was last saved, if the file says."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            if kind in ("xlsx", "xlsm"):
                book = _xml(archive, "xl/workbook.xml")
                if book is None:
                    return None
                view = next(book.iter(f"{{{_NS_MAIN}}}workbookView"), None)
                tab = int(view.get("activeTab", "0")) if view is not None else 0
                return names[tab] if 0 <= tab < len(names) else None
            if kind == "ods":
                settings = archive.read("settings.xml").decode("utf-8", "replace")
                found = re.search(r'config:name="ActiveTable"[^>]*>([^<]*)<', settings)
                return found[1] if found and found[1] in names else None
    except (KeyError, ValueError, zipfile.BadZipFile, ET.ParseError):
        return None
    return None


# --------------------------------------------------------------------------- extent


def sheet_extent(xml: bytes) -> SheetExtent:
    """Cells present, last row and last column of an xlsx sheet part, from its bytes.

    Rows are written in order, so the last row is read from the tail; the last column is
    looked for among references with three, then two letters only (rare), so an ordinary
    sheet of a few columns costs a couple of byte searches.
    """
    cells = xml.count(b"<c ") + xml.count(b"<c>")
    if cells == 0:  # a producer writing prefixed tags (<x:c ...>)
        cells = len(re.findall(rb"<\w+:c[\s>]", xml))
    last_row = 0
    tail = xml[-65536:]
    for match in _REF.finditer(tail):
        last_row = max(last_row, int(match[2]))
    rows = re.findall(rb'<(?:\w+:)?row\s+[^>]*?\br="(\d+)"', tail)
    if rows:
        last_row = max(last_row, max(int(r) for r in rows))
    if last_row == 0:
        last_row = xml.count(b"<row") + xml.count(b":row")
    last_column = 25
    for width in (3, 2):
        refs = re.findall(rb'\br="([A-Z]{%d})\d+"' % width, xml)
        if refs:
            last_column = max(column_index(r) for r in refs)
            break
    else:
        refs = re.findall(rb'\br="([A-Z])\d+"', tail)
        last_column = max((column_index(r) for r in refs), default=25)
    return SheetExtent(cells=cells, last_row=last_row, last_column=last_column)


def ods_extent(raw: bytes) -> int:
    """Cells of the largest table of an ODS file as a dense grid (rows × columns), counting
    repeated rows and cells, from content.xml; 0 when it cannot be read."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive, archive.open("content.xml") as part:
            xml = b"".join(iter(lambda: part.read(1 << 20), b""))
    except (KeyError, zipfile.BadZipFile, ValueError, OSError):
        return 0
    largest = 0
    for table in re.split(rb"<table:table[\s>]", xml)[1:]:
        rows = 0
        width = 0
        for row in re.finditer(rb"<table:table-row\b([^>]*)>(.*?)</table:table-row>", table, re.S):
            repeat = re.search(rb'number-rows-repeated="(\d+)"', row[1])
            rows += int(repeat[1]) if repeat else 1
            cells = sum(int(r) for r in re.findall(rb'number-columns-repeated="(\d+)"', row[2]))
            cells += len(re.findall(rb"<table:table-cell\b", row[2]))
            width = max(width, cells)
        largest = max(largest, rows * width)
    return largest


# --------------------------------------------------------------------------- sparse reading


def _shared_strings(archive: zipfile.ZipFile) -> list[str]:
    root = _xml(archive, "xl/sharedStrings.xml")
    if root is None:
        return []
    out = []
    for si in root.iter(f"{{{_NS_MAIN}}}si"):
        out.append("".join(t.text or "" for t in si.iter(f"{{{_NS_MAIN}}}t")))
    return out


def read_sparse(raw: bytes, part: str) -> dict[tuple[int, int], object]:
    """Every filled cell of an xlsx sheet as {(row, column): value}, 0-based.

    Memory is proportional to the cells present, whatever the sheet's declared size.
    Numbers are floats, text is str, booleans are bool; error values and formulas
    without a cached value are returned as :class:`SpecialCell`.
    """
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        shared = _shared_strings(archive)
        cells: dict[tuple[int, int], object] = {}
        c_tag, v_tag, f_tag = (f"{{{_NS_MAIN}}}{t}" for t in ("c", "v", "f"))
        is_tag, t_tag = f"{{{_NS_MAIN}}}is", f"{{{_NS_MAIN}}}t"
        with archive.open(part) as stream:
            for _, elem in ET.iterparse(stream, events=("end",)):
                if elem.tag != c_tag:
                    continue
                ref = _REF_TEXT.fullmatch(elem.get("r", ""))
                if ref is None:
                    elem.clear()
                    continue
                key = (int(ref[2]) - 1, column_index(ref[1]))
                kind = elem.get("t", "n")
                v = elem.find(v_tag)
                text = v.text if v is not None else None
                if kind == "inlineStr":
                    node = elem.find(is_tag)
                    value = "".join(t.text or "" for t in node.iter(t_tag)) if node is not None else ""
                elif elem.find(f_tag) is not None and (text is None or text.strip() == ""):
                    value = SpecialCell("formula")
                elif text is None:
                    value = None
                elif kind == "s":
                    value = shared[int(text)] if text.isdigit() and int(text) < len(shared) else ""
                elif kind == "e":
                    value = SpecialCell("error", text)
                elif kind == "b":
                    value = text.strip() in ("1", "true")
                elif kind in ("str",):
                    value = text
                else:
                    try:
                        value = float(text)
                    except ValueError:
                        value = text
                if value is not None and value != "":
                    cells[key] = value
                elem.clear()
    return cells


class SpecialCell:
    """An Excel error value (``#DIV/0!``) or a formula that was never calculated."""

    __slots__ = ("kind", "text")

    def __init__(self, kind: str, text: str | None = None):
        self.kind = kind  # "error" or "formula"
        self.text = text

    def __str__(self) -> str:
        return self.text if self.kind == "error" and self.text else "(formula not calculated)"

    __repr__ = __str__

    def __eq__(self, other):
        return isinstance(other, SpecialCell) and (self.kind, self.text) == (other.kind, other.text)

    def __hash__(self):
        return hash((self.kind, self.text))


def special_cells(xml: bytes) -> dict[tuple[int, int], SpecialCell]:
    """Error-value cells and formula cells without a cached value, {(row, col): cell}."""
    out: dict[tuple[int, int], SpecialCell] = {}
    if b't="e"' in xml:
        for m in _ERROR_CELL.finditer(xml):
            text = m[3].decode("utf-8", "replace").strip() if m[3] else "#ERROR"
            out[(int(m[2]) - 1, column_index(m[1]))] = SpecialCell("error", text)
    if b"<f" in xml or b":f" in xml:
        for m in _UNCALCULATED.finditer(xml):
            out[(int(m[2]) - 1, column_index(m[1]))] = SpecialCell("formula")
    return out
