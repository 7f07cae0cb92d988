"""Okabe–Ito colour-blind-safe palette; each group keeps its colour on every plot."""

from __future__ import annotations

from PySide6.QtGui import QColor

from ..colors import OKABE_ITO, group_hex  # noqa: F401  (OKABE_ITO is used by pages)


def group_color(index: int) -> QColor:
    return QColor(group_hex(index))


def group_colors(n: int) -> list[QColor]:
    return [group_color(i) for i in range(n)]
