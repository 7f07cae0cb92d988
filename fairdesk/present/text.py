"""Tables as aligned plain text, for the command line: the same formats as the window and the
workbook (:mod:`fairdesk.present.formats`), numbers right-aligned, text left-aligned, and the
reasons for undefined values listed under the table as the workbook does."""

from __future__ import annotations

from .formats import is_missing
from .table import Cell, Table, plain_value

__all__ = ["render_table", "render_tables"]

MAX_TEXT_WIDTH = 60  # a long sentence is cut in the middle; names (the label column) never


def _middle(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    keep = width - 1
    head = (keep + 1) // 2
    return text[:head] + "…" + text[len(text) - (keep - head):]


def _reason(value, column) -> str | None:
    v = plain_value(value)
    if not is_missing(v):
        return None
    if hasattr(v, "reason"):
        return v.reason
    return column.undefined_reason


def render_table(table: Table, *, max_text_width: int = MAX_TEXT_WIDTH) -> str:
    """One table: its title, preamble, header, rows, then notes and undefined reasons."""
    columns = table.columns
    rows = table.row_dicts()
    label = table.label_key or (columns[0].key if columns else None)
    header = [c.header.replace("\n", " ") for c in columns]
    body = []
    reasons: dict[str, None] = {}
    for row in rows:
        line = []
        for c in columns:
            value = row.get(c.key)
            text = c.text(value) if value is not None or c.kind != "text" else ""
            text = text.replace("\n", " ")
            if c.kind == "text" and not isinstance(value, Cell) and c.key != label:
                text = _middle(text, max_text_width)
            why = _reason(value, c)
            if why:
                reasons.setdefault(why)
            line.append(text)
        body.append(line)
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(header)]
    right = [c.numeric for c in columns]

    def fmt(cells):
        return "  ".join(t.rjust(w) if r else t.ljust(w)
                         for t, w, r in zip(cells, widths, right)).rstrip()

    out = []
    if table.title:
        out.append(table.title)
    for line in table.preamble:
        out.append(line[3:].upper() if line.startswith("## ") else line)
    out.append(fmt(header))
    out.append("  ".join("-" * w for w in widths))
    out.extend(fmt(r) for r in body)
    if not rows:
        out.append("(no rows)")
    for note in table.notes:
        out.append(f"note: {note}")
    for why in reasons:
        out.append(f"undefined: {why}")
    return "\n".join(out)


def render_tables(tables: list[Table]) -> str:
    return "\n\n".join(render_table(t) for t in tables)
