"""The Transport & conformal page's drawings and its Features tab.

Given the page's results: each group's score distribution against the reference group's
before and after transport (overlap shaded), the selection rate at every threshold, the
transport maps (:class:`ScorePlots`); and the Features tab (:class:`FeatureTab`): the features
to transport and Algorithm 2's settings, its run in the worker, a feature's histograms and the
correlation matrices (coloured by value). Legends sit beside the plots (:class:`SideLegend`),
never over the data. The tables come from :mod:`fairdesk.reports.transport_tables`."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker, Qt, QTimer
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout,
                               QLabel, QListWidget, QListWidgetItem, QSpinBox, QSplitter,
                               QTabWidget, QVBoxLayout, QWidget)

from ...engines.transport import (FeatureResult, FeatureSettings, TransportResult,
                                  run_feature_transport)
from ...present.formats import format_count, format_rate
from ...reports.transport_tables import (correlation_blocks, correlation_table,
                                         feature_summary_table, hist_edges, hist_shares)
from ..controls import ElidingCombo
from ..palette import group_color, swatch_icon
from ..plots import PlotPanel, decimate, group_pen, label_font
from ..table_model import VALUE_ROLE, ResultTable, TableModel
from ..controls import button
from .base import note_label

OVERLAP_COLOR = QColor(120, 120, 120, 90)
THRESHOLD_PEN = dict(color="k", width=1.5, style=Qt.DashLine)


def spin_box(lo, hi, value, tip: str, slot=None, *, suffix: str = "", step=None, decimals=None):
    """A spin box (a QDoubleSpinBox when ``decimals`` is given) calling ``slot`` on change."""
    spin = QSpinBox() if decimals is None else QDoubleSpinBox()
    if decimals is not None:
        spin.setDecimals(decimals)
    spin.setRange(lo, hi)
    spin.setValue(value)
    spin.setSuffix(suffix)
    if step is not None:
        spin.setSingleStep(step)
    spin.setToolTip(tip)
    if slot is not None:
        spin.valueChanged.connect(slot)
    return spin


def combo_box(items, tip: str, slot) -> QComboBox:
    """A combo of (label, data, tooltip) items calling ``slot`` on change."""
    combo = QComboBox()
    for label, data, item_tip in items:
        combo.addItem(label, data)
        if item_tip:
            combo.setItemData(combo.count() - 1, item_tip, Qt.ToolTipRole)
    combo.setToolTip(tip)
    combo.currentIndexChanged.connect(slot)
    return combo



def fit_rows(view: ResultTable, rows: int) -> None:
    """As tall as its rows (at most ``rows``) where there is room, down to four rows and a
    scroll bar where notes need the room; again once laid out (a two-line header's height is
    known only then)."""
    def fit():
        view.fit_height(rows)
        least = view.horizontalHeader().height() + 4 * view.verticalHeader().defaultSectionSize()
        view.setMinimumHeight(min(view.minimumHeight(), least + 2 * view.frameWidth()))
    fit()
    QTimer.singleShot(0, view, fit)


def clear(*panels) -> None:
    for p in panels:
        p.plot.clear()
        p.legend.set_entries([])
        p.set_note("")


def _threshold_line(plot, value: float, angle: int = 90, pen=None) -> None:
    plot.addItem(pg.InfiniteLine(value, angle=angle, pen=pen or pg.mkPen(**THRESHOLD_PEN)),
                 ignoreBounds=True)


def draw_distributions(before, after, res: TransportResult | None, data, g: int | None) -> None:
    """Group ``g``'s scores against the reference group's, before (original scores) and after
    transport, with their overlap in grey and the threshold dashed."""
    clear(before, after)
    if res is None or data is None or g is None:
        return
    ref = res.reference
    mg, mr = data.group == g, data.group == ref
    w = data.weight
    # bins from the scores as they are (the transported ones are reference scores or between
    # them), so that decile scores keep one bin per value
    edges = hist_edges(np.concatenate([data.score[mr], data.score[mg]]))
    h_ref = hist_shares(data.score[mr], w[mr], edges)
    for panel, values, when in ((before, data.score[mg], "before"),
                                (after, res.transported[mg], "after")):
        h_g = hist_shares(values, w[mg], edges)
        overlap = float(np.minimum(h_ref, h_g).sum())
        plot = panel.plot
        plot.addItem(pg.PlotDataItem(edges, np.minimum(h_ref, h_g), stepMode="center",
                                     fillLevel=0, brush=pg.mkBrush(OVERLAP_COLOR),
                                     pen=pg.mkPen(None)))
        plot.addItem(pg.PlotDataItem(edges, h_ref, stepMode="center", pen=group_pen(ref, 2)))
        plot.addItem(pg.PlotDataItem(edges, h_g, stepMode="center", pen=group_pen(g, 2.5)))
        _threshold_line(plot, res.threshold)
        sel = (res.rates_before if when == "before" else res.rates_after)["selection_rate"][g]
        name = res.group_names[g] + (" transported" if when == "after" else "")
        panel.legend.set_entries([
            (f"overlap {format_rate(overlap, 0)}", OVERLAP_COLOR, "bar"),
            (f"{res.reference_name} (ref.)", group_color(ref)), (name, group_color(g)),
            ("threshold", QColor("black"), Qt.DashLine)])
        panel.set_note(f"Flagged at the threshold: {res.reference_name} "
                       f"{format_rate(res.rates_before['selection_rate'][ref])}, {name} "
                       f"{format_rate(sel)}.")
        plot.setTitle(f"{when.capitalize()} transport", color="k", size=label_font())
        plot.setXRange(edges[0], edges[-1], padding=0.02)
        plot.enableAutoRange(axis="y")


def draw_selection(panel, res: TransportResult | None) -> None:
    """Share flagged at every threshold: dashed with the original scores, solid with the
    transported ones; the reference group wide."""
    clear(panel)
    if res is None or res.selection_curve is None:
        return
    plot = panel.plot
    x, before, after = res.selection_curve
    entries = []
    for g, name in enumerate(res.group_names):
        if g == res.reference:
            plot.addItem(pg.PlotDataItem(x, before[g], pen=pg.mkPen(group_color(g), width=5),
                                         connect="finite"))
            entries.insert(0, (f"{name} (reference)", group_color(g)))
            continue
        plot.addItem(pg.PlotDataItem(x, before[g], pen=group_pen(g, 1.5, Qt.DashLine),
                                     connect="finite"))
        plot.addItem(pg.PlotDataItem(x, after[g], pen=group_pen(g, 2), connect="finite"))
        entries.append((name, group_color(g)))
    entries.append(("dashed: before", QColor("#555555"), Qt.DashLine))
    panel.legend.set_entries(entries)
    _threshold_line(plot, res.threshold)
    plot.setXRange(float(x[0]), float(x[-1]), padding=0.02)
    plot.setYRange(0, 1, padding=0.03)
    panel.set_note("Wide line: the reference group. Solid: transported scores; dashed: original "
                   "scores.")


def draw_maps(panel, res: TransportResult | None, data) -> None:
    """Each group's map from its original scores to the transported ones."""
    clear(panel)
    if res is None or data is None:
        return
    plot = panel.plot
    lo, hi = float(np.min(data.score)), float(np.max(data.score))
    plot.addItem(pg.PlotDataItem([lo, hi], [lo, hi], pen=pg.mkPen("#888888", width=1,
                                                                  style=Qt.DashLine)))
    entries = []
    for g, name in enumerate(res.group_names):
        kx, ky = res.score_map.knots_x[g], res.score_map.knots_y[g]
        if kx.size == 0:
            continue
        x, y = decimate(kx, ky)
        plot.addItem(pg.PlotDataItem(x, y, pen=group_pen(g, 2.5 if g != res.reference else 1.5),
                                     symbol="o" if kx.size <= 30 else None, symbolSize=6,
                                     symbolBrush=group_color(g), symbolPen=pg.mkPen("w")))
        entries.append((name + (" (reference)" if g == res.reference else ""), group_color(g)))
    entries += [("diagonal (unchanged)", QColor("#888888"), Qt.DashLine),
                ("threshold", QColor("#555555"), Qt.DotLine)]
    panel.legend.set_entries(entries)
    pen = pg.mkPen("#555555", width=1, style=Qt.DotLine)
    for angle in (90, 0):
        _threshold_line(plot, res.threshold, angle, pen)
    plot.setXRange(lo, hi, padding=0.03)
    plot.setYRange(lo, hi, padding=0.03)
    panel.set_note("The map is linear between the fitted scores and constant beyond them, so "
                   "new rows can be mapped too.")


def draw_feature(panel, fres: FeatureResult | None, data, j: int, g: int | None) -> None:
    """Feature ``j``: the reference group's histogram (filled), group ``g``'s original values
    (dashed) and its transported values (solid)."""
    clear(panel)
    if fres is None or data is None or g is None:
        return
    plot = panel.plot
    ref = fres.reference
    mg, mr = data.group == g, data.group == ref
    w = data.weight
    x_ref, x_o, x_t = fres.original[mr, j], fres.original[mg, j], fres.transported[mg, j]
    # bins from the values as recorded; transported values (averages of reference rows) fall
    # into the bin of the nearest recorded value
    edges = hist_edges(np.concatenate([x_ref, x_o]))
    h_ref, h_o, h_t = (hist_shares(x, ww, edges) for x, ww in ((x_ref, w[mr]), (x_o, w[mg]),
                                                                (x_t, w[mg])))
    fill = QColor(group_color(ref))
    fill.setAlpha(70)
    plot.addItem(pg.PlotDataItem(edges, h_ref, stepMode="center", fillLevel=0,
                                 brush=pg.mkBrush(fill), pen=group_pen(ref, 1.5)))
    plot.addItem(pg.PlotDataItem(edges, h_o, stepMode="center", pen=group_pen(g, 2, Qt.DashLine)))
    plot.addItem(pg.PlotDataItem(edges, h_t, stepMode="center", pen=group_pen(g, 2.5)))
    name = fres.group_names[g]
    panel.legend.set_entries([(f"{fres.reference_name} (reference)", group_color(ref), "bar"),
                              (f"{name} original", group_color(g), Qt.DashLine),
                              (f"{name} transported", group_color(g))])
    overlap_o = float(np.minimum(h_ref, h_o).sum())
    overlap_t = float(np.minimum(h_ref, h_t).sum())
    feature = fres.features[j]
    plot.setTitle(f"{feature}: overlap {format_rate(overlap_o, 0)} → "
                  f"{format_rate(overlap_t, 0)}", color="k", size=label_font())
    plot.setLabel("bottom", feature, color="k", **{"font-size": label_font()})
    plot.setXRange(edges[0], edges[-1], padding=0.02)
    plot.enableAutoRange(axis="y")


# ------------------------------------------------------------------------------------------
# correlation matrices: a table whose cells are coloured by their value

def corr_color(v) -> QColor:
    """White for 0, blue for +1, vermillion for −1 (Okabe–Ito); light grey when undefined."""
    try:
        v = float(v)
    except (TypeError, ValueError):
        v = float("nan")
    if not np.isfinite(v):
        return QColor("#EEEEEE")
    a = min(abs(v), 1.0) * 0.75
    base = QColor("#0072B2") if v >= 0 else QColor("#D55E00")
    return QColor(*(int(255 + (c - 255) * a) for c in (base.red(), base.green(), base.blue())))


class _HeatModel(TableModel):
    def data(self, index, role=Qt.DisplayRole):
        if role == Qt.BackgroundRole and index.isValid() and self.table is not None \
                and self.column(index.column()).numeric:
            return QBrush(corr_color(super().data(index, VALUE_ROLE)))
        if role == Qt.TextAlignmentRole and index.isValid() and self.table is not None \
                and self.column(index.column()).numeric:
            return int(Qt.AlignCenter)
        return super().data(index, role)


class HeatTable(ResultTable):
    """A :class:`ResultTable` whose number cells are coloured by value (a correlation
    matrix)."""

    def __init__(self, title: str = "", tip: str = "", parent=None):
        super().__init__(title, tip, sortable=False, parent=parent)
        self.source = _HeatModel(self)
        self.proxy.setSourceModel(self.source)
        self.setAlternatingRowColors(False)


# ------------------------------------------------------------------------------------------
# the page's plot tabs

def fill_group_combo(combo: QComboBox, names, skip: int) -> None:
    """Every group but ``skip`` (the reference), with its colour; the choice kept."""
    with QSignalBlocker(combo):
        old = combo.currentText()
        combo.clear()
        for g, name in enumerate(names):
            if g != skip:
                combo.addItem(swatch_icon(group_color(g)), name, g)
        i = combo.findText(old)
        combo.setCurrentIndex(i if i >= 0 else 0)


def _group_combo(tip: str, chars: int = 14) -> QComboBox:
    combo = ElidingCombo()
    combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(chars)
    combo.setToolTip(tip)
    return combo


class ScorePlots(QTabWidget):
    """Distributions before/after transport, the selection rate at every threshold and the
    transport maps, as tabs; :meth:`show_result` draws them."""

    def __init__(self, on_error=None, parent=None):
        super().__init__(parent)
        self.setDocumentMode(True)
        self.result = self.data = None
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(2)
        row = QHBoxLayout()
        row.setContentsMargins(4, 2, 4, 0)
        row.addWidget(QLabel("Group"))
        self.group = _group_combo("The group whose scores are compared with the reference "
                                  "group's")
        self.group.currentIndexChanged.connect(lambda _i: self.draw_distributions())
        row.addWidget(self.group)
        row.addStretch(1)
        v.addLayout(row)
        self.before = PlotPanel("Before transport", "", "Share of the group",
                                name="transport_before", on_error=on_error)
        self.after = PlotPanel("After transport", "Score", "Share of the group",
                               name="transport_after", on_error=on_error)
        for p in (self.before, self.after):
            p.widget.setToolTip("Share of each group's people per score bin: the reference group "
                                "and the chosen group; grey = the overlap (the share the two "
                                "distributions have in common). Dashed line: the threshold.")
            v.addWidget(p, 1)
        self.addTab(w, "Distributions")
        self.setTabToolTip(0, "Score distributions of a group and of the reference group, before "
                              "and after transport (Berk et al., Figures 3–5)")
        self.selection = PlotPanel("Selection rate", "Threshold (score)", "Selection rate",
                                   name="selection_vs_threshold", on_error=on_error)
        self.maps = PlotPanel("Transport maps", "Original score", "Transported score",
                              name="transport_maps", on_error=on_error)
        for panel, title, tip, plot_tip in (
                (self.selection, "Selection rate", "Selection rate against the threshold per "
                 "group, before (dashed) and after (solid) transport", "Share of each group "
                 "flagged at every threshold: dashed with the original scores, solid with the "
                 "transported scores. After transport the solid curves lie on the reference "
                 "group's (prediction parity)."),
                (self.maps, "Transport maps", "The monotone maps from each group's scores to the "
                 "reference group's", "Where each group's scores go: original score (x) → "
                 "transported score (y). The reference group stays on the diagonal. Lines: the "
                 "threshold.")):
            panel.widget.setToolTip(plot_tip)
            self.addTab(panel, title)
            self.setTabToolTip(self.count() - 1, tip)

    @property
    def panels(self) -> tuple:
        return self.before, self.after, self.selection, self.maps

    def show_result(self, res: TransportResult | None, data) -> None:
        self.result, self.data = res, data
        if res is None:
            clear(*self.panels)
            return
        fill_group_combo(self.group, res.group_names, res.reference)
        self.draw_distributions()
        draw_selection(self.selection, res)
        draw_maps(self.maps, res, data)

    def draw_distributions(self) -> None:
        g = self.group.currentData()
        draw_distributions(self.before, self.after, self.result, self.data,
                           None if g is None else int(g))


class FeatureViews(QTabWidget):
    """The feature transport's views: a feature's histograms, and the correlation matrices
    and means of the reference group and of a group before and after transport."""

    def __init__(self, on_error=None, parent=None):
        super().__init__(parent)
        self.setDocumentMode(True)
        self.result = self.data = None
        self.panel = PlotPanel("Feature distribution", "Feature value", "Share of the group",
                               name="feature_marginals", on_error=on_error)
        self.feature = _group_combo("The feature shown", 10)
        self.group = _group_combo("The group compared with the reference group", 12)
        for label, combo in (("Feature", self.feature), ("Group", self.group)):
            self.panel.add_control(QLabel(label))
            self.panel.add_control(combo)
        self.feature.currentIndexChanged.connect(lambda _i: self.draw_feature())
        self.group.currentIndexChanged.connect(lambda _i: self.draw())
        self.panel.widget.setToolTip("Share of people per bin of the feature: the reference "
                                     "group (filled), the group's original values (dashed) and "
                                     "its transported values (solid)")
        self.addTab(self.panel, "Marginal histograms")
        cw = QWidget()
        cv = QVBoxLayout(cw)
        cv.setContentsMargins(2, 4, 2, 2)
        cv.addWidget(note_label("Correlations between the features (weighted Pearson): the "
                                "reference group, the group's original features and its "
                                "transported features. Transport should bring the last close "
                                "to the first. Blue = positive, vermillion = negative."))
        grid = QHBoxLayout()
        self.corr_tables, self.corr_titles = [], []
        for title in ("Reference", "Original", "Transported"):
            box = QVBoxLayout()
            label = QLabel(f"<b>{title}</b>")
            table = HeatTable(f"{title} correlations",
                              "Correlation matrix: hover a cell for the pair of features")
            box.addWidget(label)
            box.addWidget(table, 10)
            box.addStretch(1)
            grid.addLayout(box, 1)
            self.corr_tables.append(table)
            self.corr_titles.append(label)
        cv.addLayout(grid)
        self.summary = ResultTable("Feature means", "Mean and standard deviation of each "
                                   "feature: reference group, the group's original and "
                                   "transported values")
        cv.addWidget(QLabel("<b>Means and standard deviations</b>"))
        cv.addWidget(self.summary, 10)
        cv.addStretch(1)
        self.addTab(cw, "Correlations && summary")

    def show_result(self, fres: FeatureResult | None, data) -> None:
        self.result, self.data = fres, data
        with QSignalBlocker(self.feature):
            self.feature.clear()
            self.feature.addItems(fres.features if fres is not None else [])
        if fres is None:
            self.group.clear()
        else:
            fill_group_combo(self.group, fres.group_names, fres.reference)
        self.draw()

    def draw(self) -> None:
        self.draw_feature()
        fres, data, g = self.result, self.data, self.group.currentData()
        if fres is None or data is None or g is None:
            for t in self.corr_tables + [self.summary]:
                t.set_table(None)
            return
        for block, table, label in zip(correlation_blocks(fres, data, [int(g)]),
                                       self.corr_tables, self.corr_titles):
            label.setText(f"<b>{block[0]}</b>")
            table.set_table(correlation_table(fres, data, block))
            fit_rows(table, 12)
        self.summary.set_table(feature_summary_table(fres, data, [int(g)]))
        fit_rows(self.summary, 12)

    def draw_feature(self) -> None:
        g = self.group.currentData()
        draw_feature(self.panel, self.result, self.data, max(self.feature.currentIndex(), 0),
                     None if g is None else int(g))


class FeatureTab(QWidget):
    """The Features tab: tick extra numeric columns, run Algorithm 2 in the page's worker
    (reference group from the page), see and export the result."""

    def __init__(self, page, parent=None):
        super().__init__(parent)
        self.page = page
        self.result: FeatureResult | None = None
        self._job = self._pending = None
        lay = QHBoxLayout(self)
        lay.setContentsMargins(2, 4, 2, 2)
        split = QSplitter(Qt.Horizontal)
        split.setChildrenCollapsible(False)
        lay.addWidget(split)
        left = QWidget()
        left.setMinimumWidth(250)
        left.setMaximumWidth(340)
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 4, 0)
        lv.addWidget(QLabel("<b>Features to transport</b>"))
        self.feature_list = QListWidget()
        self.feature_list.setToolTip("Extra numeric columns (mapped as “Extra attribute” on the "
                                     "Data page). Tick the predictors to transport onto the "
                                     "reference group's joint distribution.")
        self.feature_list.setMaximumHeight(160)
        self.no_features = note_label("No extra numeric column is mapped. Map the predictors as "
                                      "“Extra attribute” on the Data page to transport them.")
        self.standardize = QCheckBox("Standardize before the cost")
        self.standardize.setToolTip("Divide each feature by its standard deviation (over all "
                                    "rows) before computing distances, so that a feature in large "
                                    "units does not dominate. Off = the raw features, as in the "
                                    "paper.")
        for wdg in (self.feature_list, self.no_features, self.standardize):
            lv.addWidget(wdg)
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.setVerticalSpacing(3)
        self.batch = spin_box(10, 20000, 2000, "Rows per batch: each batch of a group is matched "
                              "exactly to a batch of the reference group of the same size (an "
                              "assignment problem; time grows about with the cube of the size)",
                              step=500)
        self.batch.setGroupSeparatorShown(True)
        self.rounds = spin_box(1, 100, 3, "Rounds: each row is in one batch per round; its "
                               "transported features are averaged over the rounds")
        self.neighbours = spin_box(1, 100, 1, "Nearest neighbours: a row's transported features "
                                   "are the average over the k matched rows nearest to it in the "
                                   "original features (this extends the map to every row, and to "
                                   "new rows). 1 keeps each matched row's own result; more "
                                   "smooths the map but narrows the spread of the transported "
                                   "features.")
        self.seed = spin_box(0, 2_147_483_647, 0, "Random seed of the batches: the same seed, "
                             "data and settings give the same result")
        for label, spin in (("Batch size", self.batch), ("Rounds", self.rounds),
                            ("Neighbours k", self.neighbours), ("Seed", self.seed)):
            form.addRow(label, spin)
        lv.addLayout(form)
        self.run_button = button("Transport features", "Run Algorithm 2 for every group except "
                                 "the reference (progress and Cancel in the status bar)", self.run)
        self.export_button = button("Export transported rows…", "Write every row with its "
                                    "transported score, prediction sets and transported features "
                                    "(CSV or Excel), to rescore them with the agency's model",
                                    page.export_rows_dialog)
        self.note = note_label("Not run yet.")
        for wdg in (self.run_button, self.export_button, self.note):
            lv.addWidget(wdg)
        lv.addStretch(1)
        split.addWidget(left)
        self.views = FeatureViews(on_error=page._show_error)
        split.addWidget(self.views)
        split.setStretchFactor(1, 1)

    # ---------------------------------------------------------------- features and settings
    def reset(self, data) -> None:
        """New data: its extra columns listed (ticked ones kept), no result."""
        old = set(self.checked())
        self.feature_list.clear()
        numeric = 0
        for name, values in (data.extras.items() if data is not None else []):
            try:
                ok = bool(np.isfinite(np.asarray(values, dtype=float)).any())
            except (TypeError, ValueError):
                ok = False
            item = QListWidgetItem(name)
            item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsUserCheckable if ok else Qt.NoItemFlags)
            if ok:
                item.setCheckState(Qt.Checked if (name in old or not old) else Qt.Unchecked)
            item.setToolTip(f"Column '{name}': tick it to transport it" if ok else
                            f"Column '{name}' is not numeric, so it cannot be transported")
            numeric += ok
            self.feature_list.addItem(item)
        n = self.feature_list.count()
        self.feature_list.setFixedHeight(min(160, 6 + n * self.feature_list.sizeHintForRow(0))
                                         if n else 30)
        self.no_features.setVisible(not numeric)
        self.feature_list.setVisible(n > 0)
        self.run_button.setEnabled(bool(numeric))
        self.result = None
        self.views.show_result(None, data)
        self.note.setText("Not run yet.")

    def checked(self) -> list[str]:
        items = (self.feature_list.item(i) for i in range(self.feature_list.count()))
        return [it.text() for it in items
                if it.flags() & Qt.ItemIsUserCheckable and it.checkState() == Qt.Checked]

    def set_checked(self, names) -> None:
        names = set(names)
        for i in range(self.feature_list.count()):
            it = self.feature_list.item(i)
            if it.flags() & Qt.ItemIsUserCheckable:
                it.setCheckState(Qt.Checked if it.text() in names else Qt.Unchecked)

    def settings(self) -> FeatureSettings:
        return FeatureSettings(features=tuple(self.checked()), reference=self.page.reference_name,
                               batch_size=int(self.batch.value()), rounds=int(self.rounds.value()),
                               neighbours=int(self.neighbours.value()),
                               standardize=self.standardize.isChecked(),
                               seed=int(self.seed.value()))

    def apply(self, settings: dict) -> None:
        fs = FeatureSettings.from_dict(settings)
        self.standardize.setChecked(bool(fs.standardize))
        for spin, value in ((self.batch, fs.batch_size), (self.rounds, fs.rounds),
                            (self.neighbours, fs.neighbours), (self.seed, fs.seed)):
            spin.setValue(int(value))
        if fs.features:
            self.set_checked(fs.features)

    # ---------------------------------------------------------------- running
    def run(self) -> None:
        data = self.page.state.data
        if data is None or self._job is not None:
            return
        settings = self.settings()
        if not settings.features:
            self.page._show_error("Tick at least one feature to transport.")
            return
        self.page.state.seeds["feature transport"] = settings.seed
        self._pending = data
        self.run_button.setEnabled(False)
        self.note.setText("Running… progress and Cancel in the status bar.")
        self._job = self.page.worker.start(
            run_feature_transport, data, settings, title="Feature transport",
            on_result=self._done, on_error=self._failed, on_cancel=self._cancelled)

    def _finished(self, note: str) -> None:
        self._pending = self._job = None
        self.run_button.setEnabled(True)
        self.note.setText(note)

    def _done(self, fres: FeatureResult) -> None:
        data = self._pending
        if data is not self.page.state.data:
            self._finished("The data changed while it ran: run it again.")
            return
        self._finished(f"{format_count(sum(fres.batches.values()))} assignment problems solved "
                       f"(seed {fres.settings.seed}); reference {fres.reference_name}. "
                       + " ".join(fres.warnings))
        self.result = fres
        self.views.show_result(fres, data)

    def _failed(self, message: str, details: str) -> None:
        self._finished("The feature transport failed; see the message.")
        self.page._show_error(message, details)

    def _cancelled(self) -> None:
        self._finished("Cancelled: no results.")
