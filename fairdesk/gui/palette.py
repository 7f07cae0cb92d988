"""Okabe–Ito colour-blind-safe palette; each group keeps its colour on every plot."""

from __future__ import annotations

from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

from ..colors import OKABE_ITO, group_hex  # noqa: F401  (OKABE_ITO is used by pages)


def group_color(index: int) -> QColor:
    return QColor(group_hex(index))


def group_colors(n: int) -> list[QColor]:
    return [group_color(i) for i in range(n)]


def swatch_icon(color: QColor, size: int = 12) -> QIcon:
    """A filled square of ``color`` with a thin dark edge (visible on white and on yellow)."""
    pix = QPixmap(size, size)
    pix.fill(color)
    painter = QPainter(pix)
    painter.setPen(QColor("#303030"))
    painter.drawRect(0, 0, size - 1, size - 1)
    painter.end()
    return QIcon(pix)
