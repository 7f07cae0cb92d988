"""How the Data page describes the analyst's file: a cell as written, a column's type in
plain words, sample values, and the groups as the analysis sees them. No Qt."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..undefined import Undefined
from .table import Cell, Column, Table

__all__ = ["cell_text", "column_type", "group_table", "is_blank", "plain", "rows_phrase",
           "same_value", "sample_values", "source_parts"]


def is_blank(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, (float, np.floating)) and math.isnan(value):
        return True
    if isinstance(value, str) and not value.strip():
        return True
    return False


def cell_text(value) -> str:
    """A cell as the analyst would recognise it (numbers without numpy noise)."""
    if is_blank(value):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    return str(value)


def column_type(series: pd.Series) -> str:
    """A plain-words type for a column, from its dtype and a sample of its values."""
    if pd.api.types.is_bool_dtype(series):
        return "yes / no"
    if pd.api.types.is_integer_dtype(series):
        return "whole number"
    if pd.api.types.is_float_dtype(series):
        s = series.dropna()
        if len(s) and np.all(np.mod(s.to_numpy(dtype=float), 1) == 0):
            return "whole number"
        return "number"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "date / time"
    sample = series.dropna()
    if not len(sample):
        return "empty"
    numeric = pd.to_numeric(sample, errors="coerce").notna()
    if numeric.all():
        return "number (as text)"
    if numeric.mean() > 0.5:
        return "mostly numbers, some text"
    return "text"


def sample_values(series: pd.Series, k: int = 4) -> str:
    seen: list[str] = []
    for v in series.dropna():
        text = cell_text(v)
        if text and text not in seen:
            seen.append(text)
            if len(seen) > k:
                break
    shown = ", ".join(seen[:k])
    return shown + (", …" if len(seen) > k else "")


def same_value(a, b) -> bool:
    if a is None or b is None:
        return a is b
    try:
        if a == b:
            return True
    except (TypeError, ValueError):
        pass
    return cell_text(a).strip().lower() == cell_text(b).strip().lower()


def plain(value):
    return value.item() if isinstance(value, np.generic) else value


def rows_phrase(problem) -> str:
    if not problem.rows:
        return ""
    shown = ", ".join(str(r) for r in problem.rows)
    if problem.count > len(problem.rows):
        return f"rows {shown} and {problem.count - len(problem.rows):,} more"
    return ("row " if len(problem.rows) == 1 else "rows ") + shown


def source_parts(source) -> list[str]:
    """How a file was read, in short phrases: name, format, sheet, encoding, separator, size."""
    from pathlib import Path

    parts = [Path(source.path).name, source.format.upper()]
    if source.sheet is not None:
        parts.append(f"sheet '{source.sheet}'" + (f" (of {len(source.sheets)})"
                                                   if len(source.sheets) > 1 else ""))
    if source.encoding:
        parts.append(source.encoding.upper())
    if source.delimiter:
        names = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
        parts.append(f"{names.get(source.delimiter, repr(source.delimiter))}-separated")
    parts.append(f"{source.n_rows:,} rows × {source.n_columns:,} columns read")
    return parts


def group_table(data, minimum: int) -> Table:
    """The groups of the validated data: rows, people, positives and prevalence; a group
    below ``minimum`` rows is marked (its rates are unreliable)."""
    rows = []
    for item in data.group_summary():
        prevalence = item.get("prevalence", math.nan)
        small = item["n"] < minimum
        tip = (f"Only {item['n']:,} rows (fewer than {minimum}): this group's rates are "
               "unreliable. Consider merging it with a similar group.") if small else ""
        rows.append({
            "group": Cell(item["group"], tip=tip or item["group"], highlight=small),
            "n": Cell(item["n"], tip=tip, highlight=small),
            "weight": Cell(item["weight"], tip=tip, highlight=small),
            "positives": Cell(item.get("positives", Undefined("No outcome column is mapped.")),
                              tip=tip, highlight=small),
            "prevalence": Cell(Undefined("The group has no weight (0/0).")
                               if math.isnan(prevalence) else prevalence, tip=tip,
                               highlight=small),
            "small": Cell("⚠ small" if small else "", tip=tip, highlight=small)})
    people = ("people", data.people_decimals)
    cols = [Column("group", "Group", note="The group (several group columns are combined)"),
            Column("n", "Rows", "count", note="Rows of the group used in the analysis"),
            Column("weight", "People" if data.weighted else "Weight", *people,
                   note="Sum of the frequency weights (= rows when unweighted)"),
            Column("positives", "Positives", *people,
                   note="People with the positive outcome"),
            Column("prevalence", "Prevalence", "rate",
                   note="Share of the group with the positive outcome"),
            Column("small", "", note=f"⚠: fewer than {minimum} rows")]
    return Table("Groups", cols, rows, label_key="group")
