"""Okabe–Ito colour-blind-safe palette; each group keeps its colour on every plot."""

from __future__ import annotations

from PySide6.QtGui import QColor

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
             "#000000"]
# Beyond eight groups, darker and lighter variants keep colours distinct.
_EXTRA = ["#004C7A", "#9C6C00", "#006B4E", "#8A5171", "#3A7A9E", "#913F00", "#A39B2E", "#666666"]


def group_color(index: int) -> QColor:
    colors = OKABE_ITO + _EXTRA
    return QColor(colors[index % len(colors)])


def group_colors(n: int) -> list[QColor]:
    return [group_color(i) for i in range(n)]
