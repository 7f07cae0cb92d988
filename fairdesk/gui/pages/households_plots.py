"""The Households page's two plots, drawn from a :class:`HouseholdResult`: the shown scores
by group for one policy (the audit's Figure 1) and screen-in by household size (Figure 8).
Legends are the panels' side legends, beside the data."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from ...engines.households import MEMBERSHIP, HouseholdResult
from ..palette import group_color
from ..plots import PlotPanel, label_font

PROTOCOL_TICKS = ("Low-risk", "No protocol", "High-risk")  # PROTOCOL_LABELS, shorter
CUTOFF_PEN = dict(color="#333333", width=1.5, style=Qt.DashLine)


def _label(plot, side: str, text: str) -> None:
    plot.setLabel(side, text, color="k", **{"font-size": label_font()})


def draw_scores(panel: PlotPanel, res: HouseholdResult | None, number) -> list:
    """Bars of each group's share of units at each shown score (or protocol) of policy
    ``number``, and the cutoff; returns the tick labels (see :func:`set_score_ticks`)."""
    pi = panel.plot
    pi.clear()
    p = None if res is None or number is None else res.policy(number)
    if p is None or not p.available:
        panel.legend.set_entries([])
        panel.set_note("")
        return []
    names = res.group_names
    G, L = len(names), len(p.levels)
    totals = p.distribution.sum(axis=1)
    width = 0.84 / max(G, 1)
    top, entries = 0.0, []
    for g in range(G):
        if totals[g] <= 0:
            continue
        h = 100 * p.distribution[g] / totals[g]
        x = np.arange(L) + (g - (G - 1) / 2) * width
        color = group_color(g)
        pi.addItem(pg.BarGraphItem(x=x, height=h, width=width * 0.9, brush=pg.mkBrush(color),
                                   pen=pg.mkPen(color.darker(130))))
        entries.append((names[g], color, "bar"))
        top = max(top, float(h.max()))
    panel.legend.set_entries(entries)
    protocol = p.score == "protocol"
    cut_x = 1.5 if protocol else res.settings.cutoff_value() - 1.5
    side = 0 if cut_x < 0.6 * L else 1  # the words where there is room: right, else left
    pi.addItem(pg.InfiniteLine(pos=cut_x, angle=90, pen=pg.mkPen(**CUTOFF_PEN),
                               label="screened in →", labelOpts={
                                   "position": 0.95, "color": "#333333",
                                   "anchors": [(side, 0.5), (side, 0.5)]}), ignoreBounds=True)
    pi.setXRange(-0.6, L - 0.4, padding=0)
    pi.setYRange(0, max(top, 1.0) * 1.1, padding=0)
    # a short title: a long one widens the plot beyond its widget (pyqtgraph)
    pi.setTitle(f"{p.unit_word.capitalize()} by {'protocol' if protocol else 'score shown'}",
                color="k", size=label_font())
    _label(pi, "left", f"Share of the group's {p.unit_word} (%)")
    _label(pi, "bottom", "Protocol" if protocol else "Score shown (bin)")
    panel.set_note(f"Households: {MEMBERSHIP[res.settings.membership]}."
                   if p.unit == "household" else "")
    return list(PROTOCOL_TICKS) if protocol else list(p.levels)


def set_score_ticks(panel: PlotPanel, levels: list) -> None:
    """Label every bin when there is room, else every other (even) bin."""
    L = len(levels)
    if not L:
        return
    width = panel.plot.getViewBox().width()
    room = width / L if width > 0 else 0
    step = 1 if L <= 12 or room >= 26 else 2 if L <= 40 else max(2, L // 20)
    major = [(j, levels[j]) for j in range(L) if step == 1 or (j + 1) % step == 0]
    panel.plot.getAxis("bottom").setTicks([major, [(j, "") for j in range(L)]])


def draw_sizes(panel: PlotPanel, res: HouseholdResult | None, score, mode: str) -> None:
    """Each group's screen-in rate by household size (``mode`` "rate", with all households
    dashed) or its ratio to the other households of the same size ("ratio", 1 dashed)."""
    pi = panel.plot
    pi.clear()
    if res is None or score not in res.sizes:
        panel.legend.set_entries([])
        panel.set_note("")
        return
    s = res.sizes[score]
    names = res.group_names
    x = np.arange(1, len(s.sizes) + 1, dtype=float)
    values = s.ratio if mode == "ratio" else 100 * s.rate
    top, entries = 0.0, []
    for g, name in enumerate(names):
        y = np.asarray(values[g], dtype=float)
        ok = np.isfinite(y)
        if not ok.any():
            continue
        color = group_color(g)
        pi.addItem(pg.PlotDataItem(x[ok], y[ok], pen=pg.mkPen(color, width=2.2), symbol="o",
                                   symbolSize=8, symbolBrush=pg.mkBrush(color),
                                   symbolPen=pg.mkPen("w", width=1)))
        entries.append((name, color, Qt.SolidLine))
        top = max(top, float(y[ok].max()))
    if mode == "ratio":
        pi.addItem(pg.InfiniteLine(pos=1.0, angle=0, pen=pg.mkPen(**{**CUTOFF_PEN, "width": 1.2})),
                   ignoreBounds=True)
        entries.append(("equal (1)", "#333333", Qt.DashLine))
        top = max(top, 1.0)
        _label(pi, "left", "Screen-in rate ÷ other households'")
        pi.setYRange(0, max(top, 1e-9) * 1.1, padding=0)
    else:
        all_rate = 100 * np.asarray(s.rate_all, dtype=float)
        ok = np.isfinite(all_rate)
        pi.addItem(pg.PlotDataItem(x[ok], all_rate[ok], pen=pg.mkPen(**CUTOFF_PEN)))
        entries.append(("all households", "#333333", Qt.DashLine))
        if ok.any():
            top = max(top, float(all_rate[ok].max()))
        _label(pi, "left", "Households screened in (%)")
        pi.setYRange(0, min(max(top, 1e-9) * 1.08, 102.0), padding=0)
    panel.legend.set_entries(entries)
    pi.getAxis("bottom").setTicks([[(float(i + 1), lbl) for i, lbl in enumerate(s.sizes)]])
    pi.setXRange(0.6, len(s.sizes) + 0.4, padding=0)
    pi.setTitle("Households screened in, by size" if mode != "ratio" else
                "Screen-in ratio to other households", color="k", size=label_font())
    hidden = int(np.sum(~np.isfinite(np.asarray(values, dtype=float))))
    note = f"Households: {MEMBERSHIP[res.settings.membership]}."
    if hidden:
        note += (f" {hidden} point{'s' * (hidden > 1)} missing: no household of that size "
                 "in the group" + (" or outside it, or no one outside it screened in"
                                   if mode == "ratio" else "") + " (undefined).")
    panel.set_note(note)
