"""The Over time page's plot, drawn from one :class:`~fairdesk.engines.over_time.Series`: one
line per group across the periods (markers at each period), a translucent 95 % band per
group when asked, and each change larger than its uncertainty ringed at its "to" period.
The legend is the panel's side legend (never over the data)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from ...engines.over_time import OverTimeResult, Series
from ...present.formats import format_difference
from ...reports.over_time_report import RATE_TITLES
from ..palette import group_color
from ..plot_parts import category_ticks
from ..plots import PlotPanel, group_pen, label_font, title_font

BAND_ALPHA = 45
MAX_TICKS = 16  # more periods: every k-th is named (all of them in the axis tooltip)
RING = "#202020"
NOTE_FLAGS = 3  # flags written out in the plot's note; the rest are in the Changes tab


def _runs(ok: np.ndarray):
    """(start, stop) of each run of consecutive True values."""
    runs, start = [], None
    for i, v in enumerate(ok):
        if v and start is None:
            start = i
        elif not v and start is not None:
            runs.append((start, i))
            start = None
    if start is not None:
        runs.append((start, len(ok)))
    return runs


def flags_for(res: OverTimeResult, series: Series, rate: str) -> list:
    """The flagged changes of ``series`` shown with ``rate`` (FNR = 1 − TPR: TPR's flags)."""
    key = "tpr" if rate == "fnr" else rate
    return [f for f in res.flags if f.series == series.name and f.rate == key]


def series_values(series: Series, rate: str):
    """(values, lo, hi) per period × group (the AUC's DeLong interval; none for a rule)."""
    if rate == "auc":
        return series.auc, series.auc_lo, series.auc_hi
    return series.rates[rate], series.lo[rate], series.hi[rate]


def draw_rates(panel: PlotPanel, res: OverTimeResult, series: Series, rate: str,
               intervals: bool) -> None:
    plot = panel.plot
    plot.clear()
    values, lo, hi = series_values(series, rate)
    scale = 1.0 if rate == "auc" else 100.0
    P, G = values.shape
    x = np.arange(P, dtype=float)
    if intervals and lo is not None:
        for g in range(G):
            fill = QColor(group_color(g))
            fill.setAlpha(BAND_ALPHA)
            ok = np.isfinite(lo[:, g]) & np.isfinite(hi[:, g])
            for a, b in _runs(ok):
                if b - a < 2:  # a lone period: a vertical bar
                    bar = pg.PlotDataItem([x[a], x[a]], [lo[a, g] * scale, hi[a, g] * scale],
                                          pen=pg.mkPen(fill, width=6))
                    bar.setZValue(-10)
                    plot.addItem(bar)
                    continue
                low = pg.PlotDataItem(x[a:b], lo[a:b, g] * scale, pen=pg.mkPen(None))
                high = pg.PlotDataItem(x[a:b], hi[a:b, g] * scale, pen=pg.mkPen(None))
                band = pg.FillBetweenItem(low, high, brush=pg.mkBrush(fill))
                band.setZValue(-10)
                plot.addItem(band)
    for g in range(G):
        y = values[:, g] * scale
        plot.addItem(pg.PlotDataItem(x, y, pen=group_pen(g, 2.2), connect="finite",
                                     symbol="o", symbolSize=7, symbolBrush=group_color(g),
                                     symbolPen=pg.mkPen("w", width=1), antialias=True))
    if series.chosen_on in res.period_names:  # where a rule was chosen: it holds there
        at = res.period_names.index(series.chosen_on)
        line = pg.InfiniteLine(pos=at, angle=90, pen=pg.mkPen("#606060", width=1,
                                                               style=Qt.DashLine),
                               label="chosen here", labelOpts={"position": 0.96, "color": "k",
                                                               "anchors": [(0, 0), (0, 0)]})
        line.setZValue(-5)
        plot.addItem(line)
    flags = flags_for(res, series, rate)
    gi = {name: g for g, name in enumerate(res.group_names)}
    spots = []
    for f in flags:
        g, p = gi[f.group], res.period_names.index(f.period_to)
        v = values[p, g] * scale
        if np.isfinite(v):
            spots.append({"pos": (float(p), float(v)), "size": 17, "symbol": "o",
                          "brush": pg.mkBrush(None), "pen": pg.mkPen(RING, width=2)})
    if spots:
        ring = pg.ScatterPlotItem(spots=spots)
        ring.setZValue(20)
        plot.addItem(ring)
    entries = [(n, group_color(g), Qt.SolidLine) for g, n in enumerate(res.group_names)]
    if intervals and lo is not None:
        grey = QColor("#808080")
        grey.setAlpha(90)
        entries.append(("95 % interval", grey, "bar"))
    if spots:
        entries.append(("◯ Flagged change", RING, Qt.NoPen))
    panel.legend.set_entries(entries)
    _axes(plot, res, rate, series, values * scale)
    panel.set_note(_note(flags, rate, intervals and lo is not None, series))


def _axes(plot, res: OverTimeResult, rate: str, series: Series, shown) -> None:
    P = len(res.period_names)
    step = max(1, int(np.ceil(P / MAX_TICKS)))
    positions = list(range(0, P, step))
    category_ticks(plot, [res.period_names[p] for p in positions], positions)
    plot.getAxis("bottom").setToolTip("Periods: " + ", ".join(res.period_names))
    title = RATE_TITLES[rate]
    plot.setTitle(f"{title} over time — {series.name}", color="k", size=title_font())
    plot.setLabel("bottom", "Period", color="k", **{"font-size": label_font()})
    if rate == "auc":
        finite = shown[np.isfinite(shown)]
        low = min(0.5, float(finite.min())) if finite.size else 0.5
        plot.setLabel("left", "AUC", color="k", **{"font-size": label_font()})
        plot.getAxis("left").setTicks(None)
        plot.setRange(xRange=(-0.3, P - 0.7), yRange=(low, 1.0), padding=0.02)
    else:
        plot.setLabel("left", f"{title} (%)", color="k", **{"font-size": label_font()})
        plot.getAxis("left").setTicks([[(v, f"{v:g} %") for v in range(0, 101, 20)],
                                       [(v, "") for v in range(10, 100, 20)]])
        plot.setRange(xRange=(-0.3, P - 0.7), yRange=(0, 100), padding=0.02)


def _note(flags, rate: str, bands: bool, series: Series) -> str:
    parts = []
    if bands:
        parts.append("Bands: DeLong 95 % intervals of each group's AUC." if rate == "auc" else
                     "Bands: exact (Clopper–Pearson) 95 % intervals of each group's rate.")
    if flags:
        head = ("Ringed: changes larger than their uncertainty" +
                (" (TPR's, as FNR = 1 − TPR)" if rate == "fnr" else "") + ": ")
        rest = [f"{f.group} {f.period_from}→{f.period_to} {format_difference(f.after - f.before)}"
                for f in flags[1:NOTE_FLAGS + 1]]
        more = len(flags) - 1 - len(rest)
        parts.append(head + flags[0].text() + (". Also " + "; ".join(rest) if rest else "")
                     + (f" and {more} more" if more > 0 else "") + " (see the Changes tab).")
    elif rate != "auc":
        parts.append(f"No change of {RATE_TITLES[rate]} under {series.name} between "
                     "consecutive periods exceeds its uncertainty.")
    return " ".join(parts)
