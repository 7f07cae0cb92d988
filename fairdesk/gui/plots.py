"""Shared plot helpers: one look for every FairDesk plot, and a "Save plot…" button.

Every plot has a white background, black axes with readable fonts and a legend; group ``i``
is always drawn in :func:`fairdesk.gui.palette.group_color` ``(i)``, so a group keeps its
colour on every page. :class:`PlotPanel` wraps a ``pyqtgraph.PlotWidget`` with a small tool
bar whose "Save plot…" button writes PNG (``ImageExporter``) or SVG (``SVGExporter``).
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter, SVGExporter
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout,
                               QWidget)

from ..errors import FairDeskError
from .palette import font_points, group_color, muted_css
from .plot_parts import SideLegend



def label_font() -> str:
    """Axis-label size: a little above the system's body font, so it follows that setting."""
    return f"{font_points(1.15):g}pt"


def title_font() -> str:
    return f"{font_points(1.25):g}pt"
LEGEND_FONT = "10pt"
MAX_CURVE_POINTS = 2000
_CLOSE_PATH = re.compile(r"\s*[Zz](?=\s|$)")


def group_pen(index: int, width: float = 2.0, style=Qt.SolidLine):
    pen = pg.mkPen(group_color(index), width=width)
    pen.setStyle(style)
    return pen


def style_plot(plot: pg.PlotItem, title: str = "", x_label: str = "", y_label: str = "") -> None:
    """White background look (a plot is a picture: it keeps its own colours on a dark theme):
    black axes, ticks at the body font's size and labels a little larger, a light grid."""
    font = QFont()
    font.setPointSizeF(font_points())
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen("k"))
        axis.setTextPen(pg.mkPen("k"))
        axis.setTickFont(font)
        axis.enableAutoSIPrefix(False)  # never "(x0.001)" on a score axis
    if title:
        plot.setTitle(title, color="k", size=title_font())
    if x_label:
        plot.setLabel("bottom", x_label, color="k", **{"font-size": label_font()})
    if y_label:
        plot.setLabel("left", y_label, color="k", **{"font-size": label_font()})
    plot.showGrid(x=True, y=True, alpha=0.15)
    plot.setMenuEnabled(False)


def add_legend(plot: pg.PlotItem, offset=(-10, 10)) -> pg.LegendItem:
    """A legend with a white, slightly transparent box (top right by default)."""
    legend = plot.addLegend(offset=offset, labelTextColor="k", labelTextSize=LEGEND_FONT,
                            brush=pg.mkBrush(255, 255, 255, 225), pen=pg.mkPen("#999999"))
    return legend


def decimate(x, y, max_points: int = MAX_CURVE_POINTS):
    """At most ``max_points`` points of the curve (x, y) for drawing, spread evenly along its
    length so corners survive; the first and last points are always kept."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = x.size
    if n <= max_points:
        return x, y
    step = np.hypot(np.diff(x), np.diff(y))
    step[~np.isfinite(step)] = 0.0
    length = np.concatenate(([0.0], np.cumsum(step)))
    if length[-1] <= 0:
        idx = np.linspace(0, n - 1, max_points).round().astype(np.int64)
    else:
        targets = np.linspace(0.0, length[-1], max_points - 1)
        idx = np.searchsorted(length, targets, side="left")
        idx = np.concatenate(([0], np.clip(idx, 0, n - 1), [n - 1]))
    idx = np.unique(idx)
    return x[idx], y[idx]


def save_plot(plot: pg.PlotItem, path, widget: pg.PlotWidget | None = None) -> Path:
    """Write ``plot`` to ``path``: SVG when the name ends in .svg, PNG otherwise.

    With ``widget`` (the PlotWidget showing ``plot``) the PNG is the widget as on screen;
    without it, pyqtgraph's ImageExporter at the plot's own size. SVG is vector (print).
    """
    path = Path(path)
    if path.suffix.lower() not in (".svg", ".png"):
        path = path.with_suffix(".png")
    # A plot on a hidden tab may not have applied its latest range yet: do it now, or
    # the exported curves would be drawn with stale transforms.
    scene = plot.scene()
    if scene is not None and hasattr(scene, "prepareForPaint"):
        scene.prepareForPaint()
    try:
        if path.suffix.lower() == ".svg":
            _export_svg(plot, path)
        elif widget is not None:
            _render_png(widget, path)
        else:
            exporter = ImageExporter(plot)
            exporter.parameters()["background"] = QColor("white")
            exporter.export(str(path))
    except OSError as err:
        raise FairDeskError(f"Could not save the plot to {path}: {err.strerror or err}.") from err
    if not path.exists() or path.stat().st_size == 0:
        raise FairDeskError(f"Could not save the plot to {path}: is the folder writable?")
    return path


def _render_png(widget: QWidget, path: Path) -> None:
    """The plot exactly as on screen, at the screen's pixel density (2× on a HiDPI screen).

    Drawing it larger (ImageExporter's width, or a scaled painter) enlarges the tick labels
    but not the legend nor the line widths, which then look wrong; SVG is there for print.
    """
    if not widget.grab().save(str(path), "PNG"):
        raise OSError(f"cannot write {path}")


def _export_svg(plot: pg.PlotItem, path: Path) -> None:
    """pyqtgraph's SVGExporter, made to accept the "Z" (close path) that Qt 6.12 writes.

    pyqtgraph 0.14 rewrites every path's coordinates and expects only "x,y" pairs, so it
    fails on the ViewBox's closed outline ("… L0,0 Z"). The outline already returns to its
    start, so dropping the Z changes nothing visible. (Rendering the scene through
    QSvgGenerator instead gives misplaced curves and filled lines.)
    """
    module = importlib.import_module("pyqtgraph.exporters.SVGExporter")
    original = module.correctCoordinates

    def tolerant(node, defs, item, options):
        for element in node.getElementsByTagName("path"):
            d = element.getAttribute("d")
            if "Z" in d or "z" in d:
                element.setAttribute("d", _CLOSE_PATH.sub("", d).strip())
        return original(node, defs, item, options)

    module.correctCoordinates = tolerant
    try:
        SVGExporter(plot).export(str(path))
    finally:
        module.correctCoordinates = original


class PlotPanel(QWidget):
    """A plot with a tool bar: extra controls on the left, "Save plot…" on the right."""

    def __init__(self, title: str, x_label: str = "", y_label: str = "", name: str = "plot",
                 parent=None, on_error=None):
        super().__init__(parent)
        self.name = name
        self.on_error = on_error
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(2)
        self.toolbar = QHBoxLayout()
        self.toolbar.setContentsMargins(4, 0, 4, 0)
        self.toolbar.addStretch(1)
        self.save_button = QPushButton("Save plot…")
        self.save_button.setToolTip("Save this plot as a PNG picture (as on screen) or an SVG "
                                    "drawing (sharp at any size, best for print)")
        self.save_button.clicked.connect(self.save_dialog)
        self.toolbar.addWidget(self.save_button)
        lay.addLayout(self.toolbar)
        self.widget = pg.PlotWidget(background="w")
        self.widget.setAccessibleName(title or name)
        self.plot: pg.PlotItem = self.widget.getPlotItem()
        style_plot(self.plot, title, x_label, y_label)
        self.body = QWidget()  # the plot and its legend: what a saved picture shows
        body = QHBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(2)
        body.addWidget(self.widget, 1)
        # the legend sits beside the plot, never over its data (hidden while empty)
        self.legend = SideLegend()
        body.addWidget(self.legend)
        lay.addWidget(self.body, 1)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet(muted_css())
        self.note.hide()
        lay.addWidget(self.note)

    def add_control(self, widget: QWidget) -> None:
        """Put a control (e.g. a combo) on the tool bar, left of the Save button."""
        self.toolbar.insertWidget(self.toolbar.count() - 2, widget)

    def set_note(self, text: str) -> None:
        self.note.setText(text)
        self.note.setVisible(bool(text))

    def show_message(self, text: str) -> None:
        """An empty plot that says why it is empty (never a blank grid that looks like a
        plot still drawing)."""
        self.plot.clear()
        self.legend.set_entries([])
        item = pg.TextItem(text, color="#404040", anchor=(0.5, 0.5))
        item.setFont(QFont(QFont().family(), int(round(font_points(1.1)))))
        item.setTextWidth(max(200.0, self.widget.width() * 0.7))
        self.plot.addItem(item)
        item.setPos(0.5, 0.5)
        self.plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)

    def save(self, path) -> Path:
        """PNG: the plot with its legend as on screen; SVG: the plot (vector, for print)."""
        return save_plot(self.plot, path, self.body if self.legend.isVisible() else self.widget)

    def save_dialog(self) -> None:
        path, chosen = QFileDialog.getSaveFileName(
            self, "Save plot", str(Path.home() / f"{self.name}.png"),
            "PNG picture (*.png);;SVG drawing (*.svg)")
        if not path:
            return
        if not Path(path).suffix:
            path += ".svg" if "svg" in chosen.lower() else ".png"
        try:
            self.save(path)
        except FairDeskError as err:
            if self.on_error is not None:
                self.on_error(str(err), "")
            else:
                raise
