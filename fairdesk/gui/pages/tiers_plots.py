"""The Tiers page's chart: the observed outcome rate in each tier, one bar per group, with
the groups named in the side legend (never over the bars). A saved picture carries the
legend beside the plot too, so the bars can be told apart on paper: a PNG is the plot and
its side legend as on screen (enlarged to at least 1200 px), an SVG has a legend in a column
of the plot's own layout, right of the axes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QWidget

from ...errors import FairDeskError
from ...reports.tiers_tables import TierResult, chart_note
from ..palette import group_color
from ..plots import PlotPanel, save_plot

TITLE = "Observed outcome rate by tier and group"
NAME = "tier outcome rates"
MIN_PNG_WIDTH = 1200


class TierChart(PlotPanel):
    """Clustered bars of the outcome rate by tier (x) and group (colour)."""

    def __init__(self, parent=None, on_error=None):
        super().__init__(TITLE, "Risk tier", "Observed outcome rate (%)",
                         name=NAME, parent=parent, on_error=on_error)
        self.widget.setToolTip("Observed outcome rate in each tier, one bar per group. Equal "
                               "bars within a tier mean the tier is calibrated across groups.")
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.showGrid(x=False, y=True, alpha=0.25)
        self.widget.setMinimumHeight(220)
        self.bar_items: list[pg.BarGraphItem] = []
        self.group_names: list[str] = []
        self.start_path = lambda: Path.home() / f"{NAME}.png"

    def clear(self, note: str = "") -> None:
        self.plot.clear()
        self.bar_items = []
        self.group_names = []
        self.legend.set_entries([])
        self.set_note(note)

    def draw(self, res: TierResult) -> None:
        """Draw ``res``'s outcome rates (rate (G, T), NaN = no bar)."""
        self.clear()
        rate = res.rate
        n_g, n_t = rate.shape
        width = 0.8 / max(n_g, 1)
        top = 0.0
        for g in range(n_g):
            x = np.arange(n_t) + (g - (n_g - 1) / 2) * width
            h = rate[g] * 100
            ok = np.isfinite(h)
            color = group_color(g)
            item = pg.BarGraphItem(x=x[ok], height=h[ok], width=width * 0.92,
                                   brush=pg.mkBrush(color), pen=pg.mkPen(color.darker(130)))
            self.plot.addItem(item)
            self.bar_items.append(item)
            if ok.any():
                top = max(top, float(h[ok].max()))
        self.group_names = list(res.group_names)
        self.legend.set_entries([(n, group_color(g), "bar") for g, n in enumerate(res.group_names)])
        step = 1 if n_t <= 12 else 2
        self.plot.getAxis("bottom").setTicks([[(j, f"S{j + 1}") for j in range(0, n_t, step)],
                                              [(j, f"S{j + 1}") for j in range(n_t)]])
        self.plot.setXRange(-0.6, n_t - 0.4, padding=0)
        self.plot.setYRange(0, max(top, 1.0) * 1.08, padding=0)
        self.set_note(chart_note(res))

    # ------------------------------------------------------------------ saving
    def _paper_legend(self) -> pg.LegendItem | None:
        """A legend put beside the plot area (a column of the plot's layout) while saving."""
        if not self.bar_items:
            return None
        legend = pg.LegendItem(labelTextColor="k", labelTextSize="10pt",
                               brush=pg.mkBrush("w"), pen=pg.mkPen("#999999"))
        for item, name in zip(self.bar_items, self.group_names):
            legend.addItem(item, name)
        self.plot.layout.addItem(legend, 2, 3)
        self.plot.layout.activate()  # placed now, before the exporter reads the scene
        return legend

    def _render_png(self, path: Path) -> None:
        """The plot and its side legend as on screen, scaled to at least 1200 px wide."""
        legend = None if self.legend.isHidden() else self.legend
        w = self.widget.width() + (legend.width() if legend is not None else 0)
        h = max(self.widget.height(), legend.height() if legend is not None else 0)
        scale = max(1.0, MIN_PNG_WIDTH / max(w, 1))
        image = QImage(round(w * scale), round(h * scale), QImage.Format_ARGB32)
        image.fill(Qt.white)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.Antialiasing)
        painter.setRenderHint(QPainter.TextAntialiasing)
        painter.scale(scale, scale)
        QWidget.render(self.widget, painter, QPoint(0, 0))  # the widget, not the scene
        if legend is not None:
            QWidget.render(legend, painter, QPoint(self.widget.width(), 0))
        painter.end()
        if not image.save(str(path), "PNG"):
            raise OSError(f"cannot write {path}")

    def save(self, path) -> Path:
        """PNG (at least 1200 px wide) or SVG (name ends in .svg), the legend beside the
        bars."""
        path = Path(path)
        if path.suffix.lower() not in (".png", ".svg"):
            path = path.with_suffix(".png")
        if path.suffix.lower() == ".png":
            try:
                self._render_png(path)
            except OSError as err:
                raise FairDeskError(f"Could not write the plot to “{path}”: {err}") from err
            return path
        legend = self._paper_legend()
        try:
            save_plot(self.plot, path)
        finally:
            if legend is not None:
                self.plot.layout.removeItem(legend)
                if legend.scene() is not None:
                    legend.scene().removeItem(legend)
        if not path.exists():
            raise FairDeskError(f"Could not write the plot to “{path}”.")
        return path

    def save_dialog(self) -> None:
        """The panel's dialog, starting beside the data file."""
        self.name = str(self.start_path().with_suffix(""))  # absolute: the dialog's start
        try:
            super().save_dialog()
        finally:
            self.name = NAME
