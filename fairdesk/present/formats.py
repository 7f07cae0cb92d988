"""The one place where a number becomes text for a person.

Every surface — the window's tables, the command line's text output and the workbook's
number formats — asks this module, so a rate reads 44.6 % everywhere and a threshold has
as many decimals as the scores have, on every page.

The kinds of value:

=============  =====================================  =================  ==============
kind           what                                   shown              Excel format
=============  =====================================  =================  ==============
``text``       names, rules, sentences                as is              text
``count``      rows or people counted whole           12,345             ``#,##0``
``people``     people; whole when the weights are     12,345 or 1,234.5  ``#,##0.##``
``rate``       a share 0–1                            44.6 %             ``0.0%``
``ratio``      a ratio of rates (1 = balanced)        0.812              ``0.000``
``score``      a threshold in the score's units       4.4185             ``0.0000``
``difference`` a difference of two rates              +3.2 pts           ``+0.0%``
``interval``   a (low, high) pair of rates            41.2–47.9 %        text
``fixed``      a quantity with fixed decimals         0.1235             ``0.0000``
``number``     a raw value in full (row exports)      0.123456           General
=============  =====================================  =================  ==============

Undefined values (:class:`fairdesk.undefined.Undefined`, ``None`` or NaN) read
``undefined`` — never 0, blank or NaN — and their reason travels beside them.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..undefined import Undefined

__all__ = [
    "KINDS", "UNDEFINED_TEXT", "excel_format", "format_count", "format_difference",
    "format_interval", "format_people", "format_rate", "format_ratio", "format_score",
    "format_fixed", "format_number", "people_decimals", "format_value", "is_missing", "parse_number",
    "score_decimals", "score_places",
]

UNDEFINED_TEXT = "undefined"
KINDS = ("text", "count", "people", "rate", "ratio", "score", "difference", "interval", "fixed",
         "number")
NUMERIC_KINDS = KINDS[1:]
# the workbook's first kinds, kept as names for the same things
ALIASES = {"int": "count", "percent": "rate", "float": "fixed"}
DEFAULT_DECIMALS = {"rate": 1, "ratio": 3, "score": 4, "difference": 1, "interval": 1,
                    "fixed": 3, "number": 6, "people": 0, "count": 0, "text": 0}
MAX_SCORE_DECIMALS = 4  # continuous scores: 4 decimals (the exact value is in tooltips and copies)


def canonical(kind: str) -> str:
    """The kind's name in :data:`KINDS` (the older names int/percent/float accepted)."""
    kind = ALIASES.get(kind, kind)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    return kind


def is_missing(value) -> bool:
    """True for :class:`Undefined`, ``None`` and NaN (a value to show as undefined)."""
    if value is None or isinstance(value, Undefined):
        return True
    if isinstance(value, (float, np.floating)):
        return math.isnan(value)
    return False


def _infinite(value) -> str | None:
    if isinstance(value, (float, np.floating)) and math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return None


def _minus(text: str) -> str:
    """A typographic minus; never "−0" or "−0.00" (a negative value rounded to zero)."""
    if not text.startswith("-"):
        return text
    if not any(ch in "123456789" for ch in text):
        return text[1:]
    return "−" + text[1:]


def format_rate(x, decimals: int = 1) -> str:
    """A share as a percentage: 0.4457 → '44.6 %'."""
    if is_missing(x):
        return UNDEFINED_TEXT
    return _infinite(x) or _minus(f"{100 * float(x):.{decimals}f} %")


def format_ratio(x, decimals: int = 3) -> str:
    """A ratio of rates: 0.81234 → '0.812'."""
    if is_missing(x):
        return UNDEFINED_TEXT
    return _infinite(x) or _minus(f"{float(x):.{decimals}f}")


def format_difference(x, decimals: int = 1) -> str:
    """A difference of two rates in percentage points: 0.032 → '+3.2 pts'."""
    if is_missing(x):
        return UNDEFINED_TEXT
    inf = _infinite(x)
    if inf:
        return inf
    v = 100 * float(x)
    if abs(v) < 0.5 * 10 ** -decimals:
        return f"{0:.{decimals}f} pts"
    return _minus(f"{v:+.{decimals}f} pts")


def format_count(x) -> str:
    """A whole number of rows or people: 12345 → '12,345'."""
    if is_missing(x):
        return UNDEFINED_TEXT
    return _infinite(x) or _minus(f"{float(x):,.0f}")


def format_people(x, decimals: int = 0) -> str:
    """People: whole (``decimals`` 0) where the weights are whole, else with a decimal, so
    181.13 weighted people never read as a whole count (see :func:`people_decimals`)."""
    if is_missing(x):
        return UNDEFINED_TEXT
    return _infinite(x) or _minus(f"{float(x):,.{decimals}f}")


def people_decimals(values) -> int:
    """0 when every count of people is whole (no weights, or whole weights), else 1."""
    a = np.asarray(values, dtype=float).ravel()
    a = a[np.isfinite(a)]
    return 0 if np.all(np.abs(a - np.round(a)) <= 1e-9 * np.maximum(1.0, np.abs(a))) else 1


def score_decimals(scores, limit: int = MAX_SCORE_DECIMALS) -> int:
    """How many decimals the scores are written with (0 for integer deciles), at most
    ``limit``: the decimals a threshold in those scores' units needs."""
    a = np.asarray(scores, dtype=float).ravel()
    a = a[np.isfinite(a)]
    if a.size == 0:
        return 4
    if a.size > 20_000:  # enough to see the precision; keeps this O(1) on huge files
        a = a[:: a.size // 20_000 + 1]
    for d in range(limit + 1):
        scaled = a * 10.0 ** d
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-6 * np.maximum(1.0, np.abs(scaled))):
            return d
    return limit


def format_score(x, decimals: int | None = None) -> str:
    """A threshold in the score's units; ``decimals`` from :func:`score_decimals` (default:
    up to 4 decimals, trailing zeros dropped). A threshold between the scores (4.4185 on
    deciles) gets the decimals it needs (up to 4), never rounded onto a score it is
    not: '4' would say that a score of 4 is flagged."""
    if is_missing(x):
        return UNDEFINED_TEXT
    inf = _infinite(x)
    if inf:
        return inf
    v = float(x)
    if decimals is None:
        text = f"{v:.4f}".rstrip("0").rstrip(".")
        return _minus(text if text not in ("-0", "") else "0")
    return _minus(f"{v:.{score_places(v, decimals)}f}")


def score_places(x, decimals: int) -> int:
    """The decimals a threshold needs: the scores' own, or more (up to 4) when it lies
    between the scores, so it is never shown rounded onto a score it is not."""
    v, d = float(x), decimals
    if not math.isfinite(v):
        return d
    while d < MAX_SCORE_DECIMALS and abs(v - round(v, d)) > 1e-9 * max(1.0, abs(v)):
        d += 1
    return d


def format_fixed(x, decimals: int = 3) -> str:
    """A quantity with a fixed number of decimals: 0.12345 → '0.123'."""
    if is_missing(x):
        return UNDEFINED_TEXT
    return _infinite(x) or _minus(f"{float(x):.{decimals}f}")


def format_number(x, significant: int = 6) -> str:
    """A raw value as Excel's General shows it: integers whole, others to 6 significant
    digits."""
    if is_missing(x):
        return UNDEFINED_TEXT
    inf = _infinite(x)
    if inf:
        return inf
    if isinstance(x, numbers.Integral) and not isinstance(x, bool):
        return _minus(f"{int(x)}")
    v = float(x)
    if v == round(v) and abs(v) < 1e15:
        return _minus(f"{v:.0f}")
    return _minus(f"{v:.{significant}g}")


def format_interval(x, decimals: int = 1, kind: str = "rate") -> str:
    """A (low, high) pair: rates as '41.2–47.9 %', other kinds with their own format."""
    if is_missing(x) or not isinstance(x, (tuple, list)) or len(x) != 2:
        return UNDEFINED_TEXT
    lo, hi = x
    if is_missing(lo) or is_missing(hi):
        return UNDEFINED_TEXT
    if kind == "rate":
        return (f"{_minus(f'{100 * float(lo):.{decimals}f}')}–"
                f"{_minus(f'{100 * float(hi):.{decimals}f}')} %")
    return f"{format_value(lo, kind, decimals)} to {format_value(hi, kind, decimals)}"


def format_value(value, kind: str = "number", decimals: int | None = None) -> str:
    """``value`` as text in ``kind`` (see the module's table); undefined → 'undefined'."""
    kind = canonical(kind)
    if decimals is None:
        decimals = DEFAULT_DECIMALS[kind]
    if kind == "text":
        if is_missing(value):
            return UNDEFINED_TEXT if isinstance(value, Undefined) or value is not None else ""
        return str(value)
    if kind == "interval":
        return format_interval(value, decimals)
    if isinstance(value, str):  # a number column holding a word ("—", "group-specific")
        return value
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if kind == "rate":
        return format_rate(value, decimals)
    if kind == "ratio":
        return format_ratio(value, decimals)
    if kind == "fixed":
        return format_fixed(value, decimals)
    if kind == "difference":
        return format_difference(value, decimals)
    if kind == "count":
        return format_count(value)
    if kind == "people":
        return format_people(value, decimals)
    if kind == "score":
        return format_score(value, decimals)
    return format_number(value, decimals)


def excel_format(kind: str, decimals: int | None = None) -> str:
    """The Excel number format that shows ``kind`` as :func:`format_value` does."""
    kind = canonical(kind)
    if decimals is None:
        decimals = DEFAULT_DECIMALS[kind]
    places = ("." + "0" * decimals) if decimals else ""
    if kind == "count":
        return "#,##0"
    if kind == "people":
        return "#,##0.0" if decimals else "#,##0"
    if kind == "rate":
        return f"0{places}%"
    if kind == "difference":  # the workbook stores points (x 100) for this format
        return f'+0{places}" pts";-0{places}" pts";0{places}" pts"'
    if kind in ("ratio", "score", "fixed"):
        return f"0{places}"
    return "General"


def parse_number(text: str) -> float:
    """A number typed by the analyst ('0.25', '25 %', '1,234.5', '−3'); NaN when it is
    not one (the caller says what is wrong)."""
    t = str(text).strip().replace("\u2212", "-").replace("\u00a0", "").replace(" ", "")
    percent = t.endswith("%")
    if percent:
        t = t[:-1]
    if t.count(",") and t.count("."):
        t = t.replace(",", "")
    elif t.count(",") == 1 and not t.count("."):
        head, tail = t.split(",")
        digits = head.lstrip("-")
        grouped = len(tail) == 3 and digits and not digits.startswith("0")  # 1,234 not 0,500
        t = head + ("" if grouped else ".") + tail
    try:
        v = float(t)
    except ValueError:
        return math.nan
    return v / 100 if percent else v
