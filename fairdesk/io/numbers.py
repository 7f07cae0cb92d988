"""Numbers as the analyst wrote them: decimal marks and thousands separators per column.

A text table does not say which mark is the decimal one. FairDesk decides per column, from
all of its values, never per cell:

* Two readings are possible. "point": ``.`` is the decimal mark and ``,`` may group
  thousands (``6,412.0``); "comma": ``,`` is the decimal mark and ``.`` may group
  thousands (``1.250,5``). A space, no-break space or narrow no-break space may group
  thousands under either reading.
* Grouping is strict: the first group has 1–3 digits and does not start with 0, every
  further group has exactly 3 digits. So ``0,123`` can only be a decimal, ``1,5`` can only
  be a decimal, and ``1.250`` fits both readings (1.25 or 1250).
* The column takes the reading that fits more of its values. When both fit exactly the
  same values and give different numbers for some of them (every value looks like
  ``1.250``), the column is **ambiguous**: FairDesk stops and asks (the window asks; the
  command line takes ``--decimal``), rather than guess.
* Values that fit neither reading (``high``, ``#DIV/0!``) stay text, so validation names
  them; a column where most values are not numbers is left as text.
* Missing-value words (``NA``, ``N/A``, ``#N/A``, ``NaN``, ``null``, ``None``) in a column
  that otherwise holds numbers mean "no value": they are read as missing and the count is
  reported. In a text column (a group named ``NA``) they are kept as written.

Everything is vectorised with pandas' string methods; only columns that are not plain
numbers already (text columns whose values look numeric) pay for the full check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["NA_WORDS", "ColumnReading", "read_numbers", "could_be_grouped"]

NA_WORDS = ("na", "n/a", "#n/a", "nan", "null", "none", "#null!", "-nan", "n.a.")
_SPACES = "\u00a0\u202f "
_EXP = r"(?:[eE][+-]?\d+)?"


def _patterns(decimal: str, thousands: str) -> tuple[re.Pattern, re.Pattern]:
    d, t = re.escape(decimal), re.escape(thousands)
    plain = re.compile(rf"[+-]?(?:\d+(?:{d}\d*)?|{d}\d+){_EXP}")
    # thousands groups, or space groups (unambiguous under either reading)
    grouped = re.compile(rf"[+-]?[1-9]\d{{0,2}}(?:(?:{t}\d{{3}})+|(?:[{_SPACES}]\d{{3}})+)(?:{d}\d*)?")
    return plain, grouped


_READINGS = {".": _patterns(".", ","), ",": _patterns(",", ".")}
_OTHER = {".": ",", ",": "."}


@dataclass
class ColumnReading:
    """How one column's text was read."""

    values: pd.Series | None  # the converted column (floats; text kept where nothing fits)
    decimal: str | None  # "." or ","; None when the column is text
    ambiguous: bool = False  # both readings fit every value and disagree on some
    n_missing_words: int = 0  # 'NA'-like cells read as missing
    n_grouped: int = 0  # values written with a thousands separator
    example: str | None = None  # an ambiguous or a grouped value, for the message
    example_value: float | None = None  # what a grouped example was read as


def could_be_grouped(values: np.ndarray) -> bool:
    """Whether parsed floats might have been written as '1.250' (a thousands reading).

    True when every finite value is at least 1 in size, a whole number of thousandths,
    and some value is not whole: only then can a value with exactly three digits after
    the mark have been a thousands separator. Cheap; a True asks for the raw text.
    """
    v = values[np.isfinite(values)]
    if v.size == 0 or np.any(np.abs(v) < 1):
        return False
    frac = v - np.trunc(v)
    if not np.any(frac != 0):
        return False
    scaled = v * 1000
    return bool(np.all(np.abs(scaled - np.round(scaled)) < 1e-6 * np.maximum(1, np.abs(scaled))))


def _to_float(text: pd.Series, decimal: str) -> pd.Series:
    other = _OTHER[decimal]
    cleaned = text.str.replace(other, "", regex=False)
    for space in _SPACES:
        cleaned = cleaned.str.replace(space, "", regex=False)
    if decimal == ",":
        cleaned = cleaned.str.replace(",", ".", regex=False)
    return pd.to_numeric(cleaned, errors="coerce")


def read_numbers(column: pd.Series, decimal: str | None = None,
                 sample: int = 200) -> ColumnReading:
    """Read a text column as numbers if that is what it holds (see the module notes).

    ``decimal`` ("." or ",") settles an ambiguous column; None means "decide or ask".
    Returns a reading whose ``values`` is None when the column is text.
    """
    present = column.dropna()
    if len(present) == 0:
        return ColumnReading(None, None)
    # Fast rejection on a sample: a column of names is never converted or scanned whole.
    head = present.iloc[:4 * sample].astype("string").str.strip()
    head = head[(head != "") & ~head.str.lower().isin(NA_WORDS)].iloc[:sample]
    if len(head) == 0:
        return ColumnReading(None, None)
    fits_head = np.zeros(len(head), dtype=bool)
    for plain, grouped in _READINGS.values():
        fits_head |= (head.str.fullmatch(plain) | head.str.fullmatch(grouped)).to_numpy(bool)
    if fits_head.mean() <= 0.5:  # numbers must be the majority, not half
        return ColumnReading(None, None)

    text_all = column.astype("string").str.strip()
    na_word = text_all.str.lower().isin(NA_WORDS)
    filled = text_all.notna() & (text_all != "") & ~na_word
    text = text_all[filled]
    fits = {}
    for mark, (plain, grouped) in _READINGS.items():
        fits[mark] = (text.str.fullmatch(plain) | text.str.fullmatch(grouped)).to_numpy(bool)
    n_fit = {mark: int(f.sum()) for mark, f in fits.items()}
    if max(n_fit.values()) <= 0.5 * len(text):
        return ColumnReading(None, None)

    ambiguous, example = False, None
    if n_fit["."] > n_fit[","]:
        chosen = "."
    elif n_fit[","] > n_fit["."]:
        chosen = ","
    else:
        both = fits["."] & fits[","]
        as_point = _to_float(text[both], ".")
        as_comma = _to_float(text[both], ",")
        differ = (as_point != as_comma).to_numpy(bool)
        if differ.any() and not np.array_equal(fits["."], fits[","]):
            differ[:] = False  # the readings fit different values: take the point reading
        if differ.any():
            if decimal in (".", ","):
                chosen = decimal
            else:
                ambiguous = True
                example = str(text[both][differ].iloc[0])
                chosen = "."
        else:
            chosen = decimal if decimal in (".", ",") else "."
    if ambiguous:
        return ColumnReading(None, None, ambiguous=True, example=example)

    ok = fits[chosen]
    numbers = _to_float(text[ok], chosen)
    out = column.astype(object).copy()
    out[na_word.to_numpy(bool)] = np.nan
    blank = (text_all == "").fillna(False).to_numpy(bool)
    out[blank] = np.nan
    idx = text.index[ok]
    out.loc[idx] = numbers.to_numpy(dtype=float)
    if ok.all():
        out = pd.to_numeric(out, errors="coerce")  # a plain float column
    grouped_pattern = _READINGS[chosen][1]
    grouped = text[ok].str.fullmatch(grouped_pattern).to_numpy(bool)
    example = example_value = None
    if grouped.any():
        first = int(np.flatnonzero(grouped)[0])
        example, example_value = str(text[ok].iloc[first]), float(numbers.iloc[first])
    return ColumnReading(out, chosen, n_missing_words=int(na_word.sum()),
                         n_grouped=int(grouped.sum()), example=example,
                         example_value=example_value)
