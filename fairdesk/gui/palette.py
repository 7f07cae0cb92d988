"""Okabe–Ito colour-blind-safe palette; each group keeps its colour on every plot."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap, QPolygonF

from ..colors import OKABE_ITO, group_hex  # noqa: F401  (OKABE_ITO is used by pages)


# Okabe–Ito: vermillion for errors, orange for warnings, blue for information.
ERROR_COLOR = QColor(OKABE_ITO[5])
WARNING_COLOR = QColor(OKABE_ITO[1])
INFO_COLOR = QColor(OKABE_ITO[0])


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


def severity_icon(severity: str, size: int = 16) -> QIcon:
    """Shape and colour both tell the severity: a circle for errors, a triangle for
    warnings, a square for information."""
    pm = QPixmap(size, size)
    pm.fill(Qt.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.Antialiasing)
    p.setPen(Qt.NoPen)
    color = {"error": ERROR_COLOR, "warning": WARNING_COLOR}.get(severity, INFO_COLOR)
    p.setBrush(color)
    m = 1.5
    if severity == "error":
        p.drawEllipse(QPointF(size / 2, size / 2), size / 2 - m, size / 2 - m)
    elif severity == "warning":
        p.drawPolygon(QPolygonF([QPointF(size / 2, m), QPointF(size - m, size - m),
                                 QPointF(m, size - m)]))
    else:
        p.drawRoundedRect(m, m, size - 2 * m, size - 2 * m, 2, 2)
    p.setPen(QColor("white") if severity != "warning" else QColor("black"))
    f = QFont()
    f.setBold(True)
    f.setPixelSize(int(size * 0.65))
    p.setFont(f)
    rect = pm.rect().adjusted(0, 2 if severity == "warning" else 0, 0, 0)
    p.drawText(rect, Qt.AlignCenter, "!" if severity != "info" else "i")
    p.end()
    return QIcon(pm)
