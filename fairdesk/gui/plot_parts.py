"""Plot pieces every page shares: a legend beside the plot that never covers data, and a
draggable threshold line that snaps to the scores that exist and reports a drag once per
frame.

Group ``i`` is always drawn in :func:`fairdesk.gui.palette.group_color` ``(i)`` (one colour
source for the window and the workbook's charts).
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem

from .palette import group_color

DRAG_FRAME_MS = 16  # one drag update per screen frame at most
SNAP_MAX_DISTINCT = 200  # snap to the distinct scores when there are at most this many
LEGEND_WIDTH = 170


def line_icon(color: QColor, style=Qt.SolidLine, width: int = 22, height: int = 12,
              fill: bool = False) -> QIcon:
    """A legend swatch: a short line in the series' colour and dash style (or a filled box
    for bars), always drawn, so no entry is ever without its colour."""
    pix = QPixmap(width, height)
    pix.fill(Qt.transparent)
    painter = QPainter(pix)
    if fill:
        painter.fillRect(2, 1, width - 4, height - 2, color)
        painter.setPen(QColor("#303030"))
        painter.drawRect(2, 1, width - 5, height - 3)
    else:
        pen = QPen(color, 3)
        pen.setStyle(style)
        painter.setPen(pen)
        painter.drawLine(1, height // 2, width - 2, height // 2)
    painter.end()
    return QIcon(pix)


class SideLegend(QListWidget):
    """A legend as a narrow list beside the plot: one row per series with its swatch, names
    elided in the middle with the full name as tooltip, a scroll bar when there are many.
    It takes no space from the plot's data area."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setAccessibleName("Legend")
        self.setSelectionMode(QAbstractItemView.NoSelection)
        self.setFocusPolicy(Qt.NoFocus)
        self.setTextElideMode(Qt.ElideMiddle)
        self.setIconSize(QSize(22, 12))
        self.setFixedWidth(LEGEND_WIDTH)
        self.setFrameShape(QListWidget.NoFrame)
        # part of the plot's picture: white like the plot, so every swatch (a black group's
        # line too) shows on a dark theme
        self.setStyleSheet("QListWidget {background: white; color: black;}")
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.hide()

    def set_entries(self, entries) -> None:
        """``entries``: (name, colour, style) tuples; style is a Qt pen style, or "bar"
        for a filled swatch. An empty list hides the legend."""
        self.clear()
        for name, color, *rest in entries:
            style = rest[0] if rest else Qt.SolidLine
            icon = line_icon(QColor(color), fill=True) if style == "bar" else \
                line_icon(QColor(color), style)
            item = QListWidgetItem(icon, str(name))
            item.setToolTip(str(name))
            self.addItem(item)
        self.setVisible(bool(entries))
        # as wide as its longest name needs (up to LEGEND_WIDTH): the plot keeps the rest
        fm = self.fontMetrics()
        widest = max((fm.horizontalAdvance(str(e[0])) for e in entries), default=0)
        bar = self.verticalScrollBar().sizeHint().width() if self.count() * 20 > self.height() \
            else 0
        self.setFixedWidth(max(70, min(LEGEND_WIDTH, widest + 22 + 16 + bar)))

    def set_groups(self, names, style=Qt.SolidLine) -> None:
        """One entry per group, in the group colours."""
        self.set_entries([(n, group_color(i), style) for i, n in enumerate(names)])

    def names(self) -> list[str]:
        return [self.item(i).text() for i in range(self.count())]


def snap_grid(scores, limit: int = SNAP_MAX_DISTINCT) -> np.ndarray | None:
    """The distinct scores when there are few (deciles, ventiles), else None (free drag)."""
    a = np.asarray(scores, dtype=float)
    a = a[np.isfinite(a)]
    if a.size == 0:
        return None
    distinct = np.unique(a)
    return distinct if distinct.size <= limit else None


def snap(value: float, grid: np.ndarray | None) -> float:
    """The grid value nearest ``value`` (``value`` itself without a grid)."""
    if grid is None or grid.size == 0 or not np.isfinite(value):
        return float(value)
    i = int(np.searchsorted(grid, value))
    lo = grid[max(i - 1, 0)]
    hi = grid[min(i, grid.size - 1)]
    return float(lo if abs(value - lo) <= abs(hi - value) else hi)


class ThresholdLine(QObject):
    """A vertical, draggable threshold line on one plot.

    ``moved(value)`` is emitted at most once per frame while dragging (cheap updates:
    markers, the line's text); ``released(value)`` once when the line rests (the place for
    tables and anything expensive). With :meth:`set_scores` on few distinct scores, the line
    snaps to them, so a decile score gives a decile threshold.
    """

    moved = Signal(float)
    released = Signal(float)

    def __init__(self, plot: pg.PlotItem, label: str = "threshold", pen=None, parent=None):
        super().__init__(parent)
        self.line = pg.InfiniteLine(angle=90, movable=True,
                                    pen=pen or pg.mkPen("k", width=2),
                                    hoverPen=pg.mkPen("#d55e00", width=3))
        self.line.setToolTip(f"Drag to move the {label}")
        self.line.setZValue(20)
        plot.addItem(self.line, ignoreBounds=True)
        self.grid: np.ndarray | None = None
        self._setting = False
        self._last_frame = 0.0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._frame)
        self.line.sigPositionChanged.connect(self._on_changed)
        self.line.sigPositionChangeFinished.connect(self._on_finished)

    def set_scores(self, scores) -> None:
        self.grid = snap_grid(scores)

    def value(self) -> float:
        return float(self.line.value())

    def set_value(self, value: float) -> None:
        """Place the line without emitting anything (a value set by the program)."""
        self._setting = True
        try:
            self.line.setValue(float(value))
        finally:
            self._setting = False

    def set_visible(self, on: bool) -> None:
        self.line.setVisible(on)

    def _snapped(self) -> float:
        v = self.value()
        s = snap(v, self.grid)
        if s != v:
            self.set_value(s)
        return s

    def _on_changed(self, _line=None) -> None:
        if self._setting or self._timer.isActive():
            return
        since = 1000 * (time.perf_counter() - self._last_frame)
        self._timer.start(int(max(0.0, DRAG_FRAME_MS - since)))

    def _frame(self) -> None:
        self._last_frame = time.perf_counter()
        self.moved.emit(self._snapped())

    def _on_finished(self, _line=None) -> None:
        if self._setting:
            return
        self._timer.stop()
        self.released.emit(self._snapped())


def category_ticks(plot: pg.PlotItem, names, positions=None, axis: str = "bottom") -> None:
    """Group names as the ticks of a category axis that never overlap: an intersection's
    parts on their own lines ("Group A,\\nFemale"), each line elided in the middle to the room
    a category has (the full names are in the legend and the tooltip)."""
    ax = plot.getAxis(axis)
    names = [str(n) for n in names]
    positions = list(range(len(names))) if positions is None else list(positions)
    width = plot.vb.width() if plot.vb.width() > 50 else 480.0
    room = max(28.0, width / max(len(names), 1) - 6)
    font = ax.style.get("tickFont") or QFont()
    fm = QFontMetrics(font)
    labels = []
    for name in names:
        parts = name.split(", ")
        lines = [fm.elidedText(part + ("," if i < len(parts) - 1 else ""), Qt.ElideMiddle,
                               int(room)) for i, part in enumerate(parts)]
        labels.append("\n".join(lines))
    ax.setTicks([list(zip(positions, labels))])
    n_lines = max((label.count("\n") + 1 for label in labels), default=1)
    ax.setHeight(fm.height() * n_lines + 16)
    ax.setToolTip("\n".join(names))
