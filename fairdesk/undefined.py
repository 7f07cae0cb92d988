"""An undefined value (for example a rate whose denominator is zero) is a value of its own.

Vectorised code carries NaN; at the boundary where numbers reach a person (tables, JSON,
Excel), NaN becomes :class:`Undefined` with the reason, so it is never shown as 0 or blank.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Undefined:
    """A value that cannot be computed; ``reason`` says why in plain words."""

    reason: str

    def __float__(self) -> float:  # lets numeric code treat it as NaN
        return math.nan

    def __str__(self) -> str:
        return "undefined"

    def __bool__(self) -> bool:
        return False


def is_undefined(value) -> bool:
    """True for :class:`Undefined`, ``None`` and NaN."""
    if value is None or isinstance(value, Undefined):
        return True
    try:
        return math.isnan(value)
    except TypeError:
        return False


def defined_or(value, reason: str):
    """Return ``value`` as a float, or ``Undefined(reason)`` when it is NaN/None."""
    if isinstance(value, Undefined):
        return value
    if value is None:
        return Undefined(reason)
    value = float(value)
    return Undefined(reason) if math.isnan(value) else value
