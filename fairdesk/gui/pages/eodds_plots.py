"""The ROC & equalized odds page's two plots, drawn from an :class:`EOddsResult` and the shown
randomisation: the ROC regions with their intersection, the point and lines of equal cost;
the probability curves φ(score) per group. Legends are the panels' side legends."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QBrush, QColor, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsPolygonItem

from ...engines.equalized_odds import EOddsResult, FamilyResult
from ...engines.preferential import FAMILY_TITLES, phi
from ..palette import group_color
from ..plots import PlotPanel, decimate, group_pen, label_font, title_font

CURVE_GRID = 600
INTERSECTION = QColor("#202020")
HATCH = QColor(32, 32, 32, 110)
STAR = "#FFD700"


def polygon(points, fill: QColor, outline: QColor | None = None, width: float = 0.0,
            pattern=Qt.SolidPattern) -> QGraphicsPolygonItem:
    poly = QGraphicsPolygonItem(QPolygonF([QPointF(float(x), float(y)) for x, y in points]))
    poly.setBrush(QBrush(fill, pattern))
    if outline is None:
        poly.setPen(QPen(Qt.NoPen))
    else:
        pen = QPen(outline)
        pen.setCosmetic(True)
        pen.setWidthF(width)
        poly.setPen(pen)
    return poly


def draw_roc(panel: PlotPanel, res: EOddsResult, fam: FamilyResult) -> None:
    """Each group's ROC curve (thin), hull (thick) and reachable region (shaded), their
    intersection (hatched), the chosen point (star), each group's target (diamonds, when each
    has its own) and reached rates (dots), and lines of equal cost."""
    plot = panel.plot
    plot.clear()
    plot.addItem(pg.PlotDataItem([0, 1], [0, 1], pen=pg.mkPen("#888888", width=1,
                                                               style=Qt.DashLine)))
    for g, roc in enumerate(res.rocs):
        fill = QColor(group_color(g))
        fill.setAlpha(38)
        region = polygon(roc.region(), fill)
        region.setZValue(-10)
        plot.addItem(region)
    for g, roc in enumerate(res.rocs):
        x, y = decimate(roc.fpr, roc.tpr)
        thin = QColor(group_color(g))
        thin.setAlpha(150)
        plot.addItem(pg.PlotDataItem(x, y, pen=pg.mkPen(thin, width=1), antialias=True))
        plot.addItem(pg.PlotDataItem(roc.hx, roc.hy, pen=group_pen(g, 2.2), antialias=True))
    inter = res.intersection.polygon()
    hatch = polygon(inter, HATCH, INTERSECTION, 2.0, Qt.BDiagPattern)
    hatch.setZValue(5)
    plot.addItem(hatch)
    outline = np.vstack([inter, inter[:1]])
    plot.addItem(pg.PlotDataItem(outline[:, 0], outline[:, 1],
                                 pen=pg.mkPen(INTERSECTION, width=2)))
    draw_iso_lines(plot, res)
    fpr, tpr, _ = fam.rates(res.rocs)
    own = not (res.settings.constraint == "equalized_odds" and not res.settings.tolerance)
    if own:  # each group has its own target
        spots = [{"pos": (float(res.targets[g, 0]), float(res.targets[g, 1])), "size": 13,
                  "brush": pg.mkBrush(group_color(g)), "pen": pg.mkPen("k", width=1.2),
                  "symbol": "d"} for g in range(res.n_groups)]
        targets = pg.ScatterPlotItem(spots=spots)
        targets.setZValue(30)
        plot.addItem(targets)
    real = pg.ScatterPlotItem(
        spots=[{"pos": (float(fpr[g]), float(tpr[g])), "size": 8,
                "brush": pg.mkBrush(group_color(g)), "pen": pg.mkPen("w", width=1)}
               for g in range(res.n_groups)])
    real.setZValue(31)
    plot.addItem(real)
    star = pg.ScatterPlotItem([res.point[0]], [res.point[1]], symbol="star", size=20,
                              brush=pg.mkBrush(STAR), pen=pg.mkPen("k", width=1.5))
    star.setZValue(32)
    plot.addItem(star)
    point = "Pooled point" if own else "Chosen point"
    panel.legend.set_entries([(n, group_color(g), Qt.SolidLine)
                              for g, n in enumerate(res.group_names)]
                             + [(f"★ {point}", STAR, "bar")])
    plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.04)
    panel.set_note(  # the legend lists the groups and the point; the rest is here
        "Shaded: what each group can reach; hatched with a black outline: reachable by every "
        "group; star: the " + point.lower()
        + ("; diamonds: each group's target" if own else "") + "; small dots: the rates the "
        "chosen randomisation reaches; dashed: " + ("equal distance to (0, 1)."
                                                   if res.settings.objective == "distance"
                                                   else "equal cost (the darker line through "
                                                        "the point)."))


def draw_iso_lines(plot, res: EOddsResult) -> None:
    """Dashed lines of equal cost (or circles of equal distance to (0, 1)); the darker one
    through the point."""
    s = res.settings
    x0, y0 = res.point
    pen = pg.mkPen("#555555", width=1, style=Qt.DashLine)
    through = pg.mkPen("#333333", width=1.3, style=Qt.DashLine)
    if s.objective == "distance":
        r = math.hypot(x0, 1 - y0)
        ang = np.linspace(-math.pi / 2, 0, 200)
        for k, rad in enumerate((r, r * 1.5, r * 2.0)):
            x = rad * np.cos(ang)
            y = 1 + rad * np.sin(ang)
            ok = (x <= 1) & (y >= 0)
            plot.addItem(pg.PlotDataItem(x[ok], y[ok], pen=pen if k else through))
        return
    c_fp, c_fn = s.costs
    N = sum(r.negatives for r in res.rocs)
    P = sum(r.positives for r in res.rocs)
    m = c_fp * N / (c_fn * P)  # along a line of equal cost, TPR rises m per unit of FPR
    for k, off in enumerate((0.0, -0.15, 0.15, -0.3, 0.3)):
        b = y0 + off - m * x0  # y = b + m x
        xa, xb = max(0.0, (0.0 - b) / m), min(1.0, (1.0 - b) / m)
        if xb <= xa:
            continue
        xs = np.array([xa, xb])
        plot.addItem(pg.PlotDataItem(xs, b + m * xs, pen=pen if k else through))


def draw_curves(panel: PlotPanel, res: EOddsResult, fam: FamilyResult, data) -> None:
    """φ(score) per group for the shown randomisation, exact at the thresholds."""
    plot = panel.plot
    plot.clear()
    lo, hi = float(np.min(data.score)), float(np.max(data.score))
    span = hi - lo if hi > lo else 1.0
    x = np.linspace(lo - 0.02 * span, hi + 0.02 * span, CURVE_GRID)
    for g in range(res.n_groups):
        t0, t1, p = float(fam.t0[g]), float(fam.t1[g]), float(fam.p[g])
        extra = [v for t in (t0, t1) if math.isfinite(t)
                 for v in (res.user(t), res.user(t) - 1e-7 * span * res.sign)]
        xs = np.unique(np.concatenate([x, extra]))
        ys = phi(fam.family, t0, t1, p, xs * res.sign)
        plot.addItem(pg.PlotDataItem(xs, ys, pen=group_pen(g, 2.2), antialias=True))
    panel.legend.set_groups(res.group_names)
    plot.setTitle(FAMILY_TITLES[fam.family], color="k", size=title_font())
    plot.setLabel("bottom", data.mapping.score or "Score", color="k",
                  **{"font-size": label_font()})
    plot.getAxis("left").setTicks([[(v, f"{v:g}") for v in np.linspace(0, 1, 6)]])
    plot.setRange(xRange=(lo, hi), yRange=(0, 1), padding=0.03)
    panel.set_note("Some 4th-order curves are not monotone (p outside 0.4–0.6): clipped to "
                   "[0, 1]." if fam.family == "quartic" and not fam.monotone.all() else "")
