"""The Audit page offscreen: tables equal run_audit's, live dragging, bootstrap through the
worker (and its cancel), undefined cells, saving plots, focus_rate, settings, screenshots
and dragging at 1,000,000 rows."""

import math
import sys

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")
pytest.importorskip("pyqtgraph")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QKeySequence  # noqa: E402

from conftest import HANG_MS, ROOT, SAMPLE_MAPPING, wait_settled  # noqa: E402
from fairdesk.audit import run_audit  # noqa: E402
from fairdesk.bootstrap import bootstrap_audit  # noqa: E402
from fairdesk.dataset import AnalysisData  # noqa: E402
from fairdesk.metrics.fairness import DEFINITIONS, reference_comparison  # noqa: E402
from fairdesk.schema import ColumnMapping  # noqa: E402
from fairdesk.validation import prepare  # noqa: E402


def _pad_singleton_refcounts():
    """PySide6 6.12.0 on CPython < 3.12 drops a reference to None/True/False on every call
    of a method returning void or bool, and the interpreter aborts ("none_dealloc") after a
    few thousand calls; pyproject pins PySide6 below 6.12 for that reason. Should 6.12 still
    be installed, give those objects enough references for this module to run (3.12+ makes
    them immortal). This hides a crash of the binding, not a bug of the page."""
    import PySide6

    if (sys.implementation.name == "cpython" and sys.version_info < (3, 12)
            and PySide6.__version__.startswith("6.12.")):
        import ctypes
        for obj in (None, True, False):
            ctypes.c_ssize_t.from_address(id(obj)).value += 1 << 40


_pad_singleton_refcounts()

SCREENS = ROOT / "artifacts" / "screens"

from fairdesk.gui.pages.audit_page import GROUP_TABLE_KEYS, AuditPage  # noqa: E402
from fairdesk.present.formats import is_missing  # noqa: E402
from fairdesk.reports.audit_tables import group_column_key, spec_key  # noqa: E402


def make_data(frame):
    return prepare(frame, ColumnMapping(**SAMPLE_MAPPING))


@pytest.fixture
def window(make_window):
    return make_window(page_classes=[AuditPage], settings_name="s.ini")


@pytest.fixture
def page(window, sample_data):
    window.state.set_data(sample_data)
    return window.page("audit")


# --------------------------------------------------------------------------- helpers
def group_pos(page, key, g, kind="value"):
    """(row, column key) of metric ``key`` for group g (g = n_groups: All), either
    orientation."""
    spec = (kind, key)
    if page.groups_as_columns:
        G = len(page.result.group_names)
        return page._group_cols.index(spec), group_column_key(None if g == G else g)
    return g, spec_key(spec)


def group_value_at(page, key, g):
    return number(page.group_table.value_at(*group_pos(page, key, g)))


def role(view, r, key, role=Qt.ToolTipRole):
    """A cell's data for ``role`` (tooltip by default) by row and column key."""
    return view.model().index(r, view.source.column_index(key)).data(role)


def number(v):
    """A cell's plain value as a float (undefined and words: NaN)."""
    if is_missing(v) or isinstance(v, str):
        return float("nan")
    return float(v)


def same(a, b):
    a, b = float(a), float(b)
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-12, abs=1e-12)


def expected_group_value(res, key, g, j=0):
    G = len(res.group_names)
    if key in ("rows", "weight", "positives"):
        arr = {"rows": res.rows, "weight": res.weight, "positives": res.positives}[key]
        return arr[g] if g < G else arr.sum()
    if key in ("tp", "fp", "fn", "tn"):
        return getattr(res.counts, key)[g, j] if g < G else getattr(res.overall_counts, key)[0, j]
    if key == "auc":
        return res.auc[g] if g < G else res.auc_overall
    return res.rates[key][g, j] if g < G else res.overall_rates[key][0, j]


def fair_rows(page):
    """(view row, measure, tier) of each value row of the fairness table."""
    return [(r, row["measure_key"], row["tier"])
            for r, row in enumerate(page.fair_table.table.row_dicts())
            if row["row_kind"] == "value"]


def assert_tables_match(page, res, j=0):
    G = len(res.group_names)
    for key in GROUP_TABLE_KEYS:
        for g in range(G + 1):
            got = group_value_at(page, key, g)
            assert same(got, expected_group_value(res, key, g, j)), (key, g)
    rows = fair_rows(page)
    assert [k for _, k, _ in rows if k != "CAL"] == [k for k in DEFINITIONS if k != "CAL"]
    for r, key, tier in rows:
        want = res.fairness[key][tier if key == "CAL" else j]
        assert same(number(page.fair_table.value_at(r, "value")), want), key
    ref = page.reference_index
    rt = page.ref_table
    assert rt.table.columns[1].header.startswith(res.group_names[ref])
    for r, key in enumerate(("selection_rate", "prevalence", "tpr", "fnr", "fpr", "tnr", "ppv",
                             "fdr", "npv", "for", "accuracy", "fn_fp", "cost_ratio")):
        diff, ratio = reference_comparison(res.rates[key][:, j], ref)
        assert same(number(rt.value_at(r, "ref")), res.rates[key][ref, j]), key
        for g in range(G):
            if g == ref:
                continue
            assert same(number(rt.value_at(r, f"diff{g}")), diff[g]), (key, g)
            assert same(number(rt.value_at(r, f"ratio{g}")), ratio[g]), (key, g)


# ----------------------------------------------------------------------------- tests
def test_tables_equal_run_audit(page, window):
    data = window.state.data
    res = run_audit(data, window.state.thresholds, scores=window.state.scores)
    assert page.result is not None and page.stack.currentIndex() == 1
    assert_tables_match(page, res)
    # AUC and cross-AUC
    G = data.n_groups
    for g in range(G):
        assert same(number(page.auc_table.value_at(g, "auc")), res.auc[g])
        assert same(page.auc_table.value_at(g, "positives"), res.positives[g])
        for b in range(G):
            assert same(number(page.xauc_table.value_at(g, f"x{b}")), res.xauc[g, b])
    assert same(number(page.auc_table.value_at(G, "auc")), res.auc_overall)
    # the numbers read as on every surface: rates 44.6 %, ratios 0.812, differences in points
    fpr = res.rates["fpr"][0, 0]
    assert page.group_table.text_at(*group_pos(page, "fpr", 0)) == f"{100 * fpr:.1f} %"
    assert page.group_table.text_at(*group_pos(page, "tp", 0)) == f"{res.counts.tp[0, 0]:,.0f}"
    diff = res.rates["fpr"][1, 0] - fpr
    assert page.ref_table.text_at(4, "diff1") == f"{100 * diff:+.1f} pts".replace("-", "−")
    r0, k0, _ = fair_rows(page)[0]
    assert page.fair_table.text_at(r0, "value") == f"{res.fairness[k0][0]:.3f}"
    # the other orientation shows the same numbers
    page.orientation.setChecked(False)
    assert page.group_table.source.rowCount() == G + 1
    assert page.group_table.text_at(G, "group") == "All"
    assert_tables_match(page, res)
    # FP / group size in the reference table
    r = 13
    assert page.ref_table.text_at(r, "rate") == "FP / group size"
    assert same(page.ref_table.value_at(r, "ref"), res.counts.fp[0, 0] / res.weight[0])
    # every metric's title explains itself
    page.orientation.setChecked(True)
    for mi in range(page.group_table.source.rowCount()):
        assert role(page.group_table, mi, "metric")
    assert "FP / (FP + TN)" in role(page.group_table, page._group_cols.index(("value", "fpr")),
                                    "metric")
    assert not window.errors


def test_reference_group_combo(page, window):
    page.ref_combo.setCurrentIndex(2)
    res = run_audit(window.state.data, window.state.thresholds, scores=window.state.scores)
    assert page.ref_table.table.columns[1].header.startswith("Group C")
    assert "diff2" not in [c.key for c in page.ref_table.table.columns]
    assert_tables_match(page, res)


def assert_points_match(page, res):
    """The markers: each group's operating point on the ROC plot, at the metric plot's line."""
    pts = page.plots.roc_points.data
    assert sorted(p["x"] for p in pts) == pytest.approx(sorted(res.rates["fpr"][:, 0]))
    assert sorted(p["y"] for p in pts) == pytest.approx(sorted(res.rates["tpr"][:, 0]))
    x, y = page.plots.metric_points.getData()
    assert list(x) == pytest.approx([page.drag_line.value()] * len(x))
    assert sorted(y) == pytest.approx(sorted(res.rates[page.metric][:, 0]))


def test_drag_moves_markers_live_then_tables_and_state_on_release(page, window, qtbot):
    data = window.state.data
    line = page.drag_line
    assert line.value() == pytest.approx(0.5)
    at_half = run_audit(data, [0.5], scores=window.state.scores)
    seen, frames = [], []
    window.state.thresholdsChanged.connect(lambda: seen.append(1))
    page.dragUpdated.connect(lambda: frames.append(page.drag_line.value()))
    with qtbot.waitSignal(page.dragUpdated, timeout=HANG_MS):
        for v in (0.2, 0.25, 0.31):  # move events faster than frames: drawn once, the last
            line.setValue(v)  # emits sigPositionChanged, as a drag does
    assert frames == [pytest.approx(0.31)]
    assert list(window.state.thresholds) == [0.5]  # other pages not bothered while dragging
    assert not seen
    live = run_audit(data, [0.31], scores=window.state.scores)
    assert_points_match(page, live)
    assert "0.31" in page.thr_label.text()
    assert_tables_match(page, at_half)  # the tables wait for the line to rest
    line.setValue(0.42)
    line.sigPositionChangeFinished.emit(line)  # release
    assert frames == [pytest.approx(0.31)]  # the release draws everything: no frame left over
    assert list(window.state.thresholds) == [pytest.approx(0.42)]
    assert seen
    assert window.state.threshold_rules == [{"kind": "fixed", "value": 0.42, "n_bins": 20}]
    res = run_audit(data, window.state.thresholds, scores=window.state.scores)
    assert_tables_match(page, res)
    # AUC is kept (not recomputed, not lost) while the threshold moves
    assert same(number(page.auc_table.value_at(0, "auc")), res.auc[0])
    assert same(group_value_at(page, "auc", 0), res.auc[0])
    # the operating point on the ROC plot follows
    assert len(page.plots.roc_points.data) == data.n_groups
    assert_points_match(page, res)
    # a threshold set elsewhere moves the line
    window.state.set_thresholds([0.6])
    assert line.value() == pytest.approx(0.6)
    assert_tables_match(page, run_audit(data, [0.6], scores=window.state.scores))


def test_several_thresholds_selector_and_tiers(page, window):
    data = window.state.data
    window.state.set_thresholds([0.3, 0.6])
    assert not page.thr_combo.isHidden() and page.thr_combo.count() == 2
    res = run_audit(data, [0.3, 0.6], scores=window.state.scores)
    assert_tables_match(page, res, j=0)
    assert [k for _, k, _ in fair_rows(page)].count("CAL") == 3  # one value per tier
    page.thr_combo.setCurrentIndex(1)
    assert page.drag_line.value() == pytest.approx(0.6)
    assert_tables_match(page, res, j=1)
    page.drag_line.setValue(0.7)
    page.drag_line.sigPositionChangeFinished.emit(page.drag_line)
    assert list(window.state.thresholds) == [pytest.approx(0.3), pytest.approx(0.7)]
    assert_tables_match(page, run_audit(data, [0.3, 0.7], scores=window.state.scores), j=1)
    # calibration plot: three tiers per group
    assert len(page.plots.cal_curves[0].xData) == 3


def test_group_specific_thresholds(page, window):
    data = window.state.data
    t = np.array([[0.4], [0.5], [0.55], [0.45]])
    window.state.set_thresholds(t, group_specific=True)
    assert not page.line_group_combo.isHidden()
    res = run_audit(data, t, group_specific=True, scores=window.state.scores)
    assert_tables_match(page, res)
    page.line_group_combo.setCurrentIndex(2)
    assert page.drag_line.value() == pytest.approx(0.55)
    page.drag_line.setValue(0.35)
    page.drag_line.sigPositionChangeFinished.emit(page.drag_line)
    want = t.copy()
    want[2, 0] = 0.35
    assert window.state.group_specific
    assert np.allclose(window.state.thresholds, want)
    assert_tables_match(page, run_audit(data, want, group_specific=True,
                                        scores=window.state.scores))


def test_bootstrap_runs_in_worker_and_shows_mean_sd(page, window, qtbot):
    assert page.boot_run.shortcut() == QKeySequence("Ctrl+B")
    page.boot_b.setValue(20)
    page.boot_seed.setValue(777)
    page.boot_run.click()
    assert not page.boot_run.isEnabled()
    qtbot.waitUntil(lambda: page.bootstrap is not None, timeout=HANG_MS)
    assert page.boot_run.isEnabled()
    assert window.state.seeds["bootstrap"] == 777
    b = page.bootstrap
    assert (b.resamples, b.seed) == (20, 777)
    ref = bootstrap_audit(window.state.data, window.state.thresholds, resamples=20, seed=777)
    assert np.allclose(b.mean["rate:fpr"], ref.mean["rate:fpr"], equal_nan=True)
    # mean ± SD next to the values
    text = page.group_table.text_at(*group_pos(page, "fpr", 0, "boot"))
    m, s = b.mean["rate:fpr"][0, 0], b.sd["rate:fpr"][0, 0]
    assert text == f"{100 * m:.1f} % ± {100 * s:.1f} %"  # in the rate's own format
    assert "20 resamples (seed 777)" in role(page.group_table,
                                             *group_pos(page, "fpr", 0, "boot"))
    assert "±" in page.fair_table.text_at(fair_rows(page)[0][0], "boot")
    assert "±" in page.auc_table.text_at(0, "boot")
    assert "20 resamples" in page.boot_note.text()
    # the toggle hides them
    page.boot_show.setChecked(False)
    assert ("boot", "fpr") not in page._group_cols
    page.boot_show.setChecked(True)
    assert ("boot", "fpr") in page._group_cols
    # stale when the thresholds change
    window.state.set_thresholds([0.4])
    assert page.bootstrap is None
    assert ("boot", "fpr") not in page._group_cols
    assert "thresholds changed" in page.boot_note.text()
    assert not window.errors


def test_bootstrap_cancel_leaves_page_usable(page, window, qtbot):
    page.boot_b.setValue(100_000)
    page.run_bootstrap()
    assert window.worker.busy
    with qtbot.waitSignal(window.worker.progress, timeout=HANG_MS):
        pass  # the resamples are running
    window.worker.cancel_all()
    qtbot.waitUntil(lambda: not window.worker.busy, timeout=HANG_MS)
    qtbot.waitUntil(lambda: page.boot_run.isEnabled(), timeout=HANG_MS)
    assert page.bootstrap is None
    assert "cancelled" in page.boot_note.text().lower()
    assert ("boot", "fpr") not in page._group_cols
    # still usable: drag, and run a small bootstrap
    with qtbot.waitSignal(page.dragUpdated, timeout=HANG_MS):
        page.drag_line.setValue(0.35)
    assert_points_match(page, run_audit(window.state.data, [0.35], scores=window.state.scores))
    page.boot_b.setValue(5)
    page.run_bootstrap()
    qtbot.waitUntil(lambda: page.bootstrap is None and not window.worker.busy, timeout=HANG_MS)
    # the line was moved but not released: the bootstrap (at the state's threshold) is discarded
    assert "discarded" in page.boot_note.text() or page.bootstrap is None
    assert not window.errors


def test_undefined_shown_with_reason(window, sample_frame):
    frame = sample_frame.copy()
    frame.loc[frame["race"] == "Group D", "outcome"] = 1  # Group D: no negatives
    data = make_data(frame)
    window.state.set_data(data)
    page = window.page("audit")
    d = data.group_names.index("Group D")
    gt, (r, c) = page.group_table, group_pos(page, "fpr", d)
    assert gt.text_at(r, c) == "undefined"
    assert role(gt, r, c, Qt.FontRole).italic()
    from PySide6.QtGui import QPalette

    from fairdesk.gui.palette import app_palette, contrast
    grey, base = role(gt, r, c, Qt.ForegroundRole).color(), app_palette().color(QPalette.Base)
    assert grey != app_palette().color(QPalette.Text) and contrast(grey, base) >= 4.5
    tip = role(gt, r, c)
    assert "no one with the negative outcome" in tip and "Group D" in tip
    assert page.auc_table.text_at(d, "auc") == "undefined"
    assert "Group D" in role(page.auc_table, d, "auc")
    assert page.xauc_table.text_at(0, f"x{d}") == "undefined"  # negatives of Group D: none
    assert role(page.xauc_table, 0, f"x{d}")
    # the reference table: FPR difference of Group D is undefined, with its reason
    r = 4
    assert page.ref_table.text_at(r, "rate") == "FPR"
    assert page.ref_table.text_at(r, f"diff{d}") == "undefined"
    assert "negative outcome" in role(page.ref_table, r, f"diff{d}")
    # never 0 or blank anywhere in the tables
    for t in (page.group_table, page.fair_table, page.ref_table, page.auc_table,
              page.xauc_table):
        for r in range(t.source.rowCount()):
            for c in range(t.source.columnCount()):
                assert t.text_at(r, c) or t is page.fair_table, (r, c)
    assert "Group D: no ROC curve" in page.roc_panel.note.text()


def test_save_plots_png_and_svg(page, tmp_path):
    for panel in (page.roc_panel, page.metric_panel, page.dist_panel, page.cal_panel):
        for ext in ("png", "svg"):
            out = panel.save(tmp_path / f"{panel.name}.{ext}")
            assert out.exists() and out.stat().st_size > 1000, out
    assert (tmp_path / "roc.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in (tmp_path / "roc.svg").read_bytes()[:2000]


@pytest.mark.parametrize("key", ["fpr", "fdr", "fp_group_size", "fnr", "for", "fn_group_size"])
def test_focus_rate(page, window, key):
    page.focus_rate(key)
    assert page.metric == key
    assert page.plot_tabs.currentWidget() is page.metric_panel
    ref_row = page.tables.focus_row(page.ref_table, key)
    assert page.ref_table.text_at(ref_row, "rate") in (
        {"fp_group_size": "FP / group size", "fn_group_size": "FN / group size"}.get(key),
        key.upper())
    rt = page.ref_table
    lit = [r for r in range(rt.source.rowCount())
           if rt.model().index(r, 0).data(Qt.BackgroundRole) is not None]
    assert lit == [ref_row]  # the focused rate's row, and only it, is highlighted
    curve = page.plots.metric_curves[0]
    assert np.allclose(curve.yData, page._grid_rates[key][0], equal_nan=True)
    if key in ("fpr", "fnr"):
        measure = {"fpr": "PE", "fnr": "EO"}[key]
        assert page.table_tabs.currentIndex() == 1
        row = page.tables.focus_row(page.fair_table, key)
        assert page.fair_table.table.row_dicts()[row]["measure_key"] == measure
        assert DEFINITIONS[measure].name in page.fair_table.text_at(row, "measure")
        assert page.fair_table.selectionModel().isRowSelected(row)
        ft = page.fair_table
        lit = [r for r in range(ft.source.rowCount())
               if ft.model().index(r, 0).data(Qt.BackgroundRole) is not None]
        assert lit == [row, row + 1]  # the measure and its explanation below
    else:
        assert page.table_tabs.currentIndex() == 2
        assert page.ref_table.selectionModel().isRowSelected(ref_row)
    # the derived metrics are FP (FN) over the group's size
    if key == "fp_group_size":
        c = window.state.scores.counts(window.state.data.to_oriented(page._grid_x), shared=True)
        assert np.allclose(curve.yData, c.fp[0] / window.state.scores.weight_total[0])


def test_metric_curves_from_one_vectorised_counts_call(page, window, monkeypatch):
    calls = []
    original = type(window.state.scores).counts

    def spy(self, thresholds, **kw):
        calls.append(np.shape(thresholds))
        return original(self, thresholds, **kw)

    monkeypatch.setattr(type(window.state.scores), "counts", spy)
    page._compute_static()
    grid_calls = [s for s in calls if s == (400,)]
    assert len(grid_calls) == 1
    page.metric_combo.setCurrentIndex(page.metric_combo.findData("ppv"))
    assert len([s for s in calls if s == (400,)]) == 1  # switching metric reuses the grid


def test_settings_round_trip(page, window, make_window):
    page.metric_combo.setCurrentIndex(page.metric_combo.findData("fnr"))
    page.ref_combo.setCurrentIndex(1)
    page.boot_b.setValue(300)
    page.boot_seed.setValue(99)
    page.plot_tabs.setCurrentIndex(2)
    page.table_tabs.setCurrentIndex(3)
    s = page.settings()
    assert s["metric"] == "fnr" and s["reference_group"] == "Group B"
    import json
    json.dumps(s)
    other = make_window(page_classes=[AuditPage], settings_name="other.ini", show=False,
                        data=window.state.data)
    p2 = other.page("audit")
    p2.apply_settings(s)
    assert p2.settings() == s


def test_export_tables(page, window):
    tables = page.export_tables()
    assert tables and all(hasattr(t, "sheet") and hasattr(t, "rows") for t in tables)
    window.state.set_data(None)
    assert page.export_tables() == []
    assert page.stack.currentIndex() == 0


def test_no_label_message(window, sample_frame):
    data = make_data(sample_frame)
    data.label = None
    window.state.set_data(data)
    page = window.page("audit")
    assert page.stack.currentIndex() == 0 and "outcome" in page.empty.text()


def test_screenshots(page, window, qtbot):
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.boot_b.setValue(30)
    page.run_bootstrap()
    qtbot.waitUntil(lambda: page.bootstrap is not None, timeout=HANG_MS)
    names = ["by_group", "fairness", "vs_reference", "auc"]
    plots = ["roc", "metric", "distributions", "calibration"]
    for i, (tname, pname) in enumerate(zip(names, plots)):
        page.table_tabs.setCurrentIndex(i)
        page.plot_tabs.setCurrentIndex(i)
        wait_settled(qtbot, window)
        img = window.grab()
        assert (img.width(), img.height()) == (1280, 800)
        assert img.save(str(SCREENS / f"audit_{i + 1}_{tname}_{pname}.png"))
    page.boot_show.setChecked(False)
    page.table_tabs.setCurrentIndex(0)
    window.state.set_thresholds([0.25, 0.5, 0.75])
    page.plot_tabs.setCurrentIndex(1)
    wait_settled(qtbot, window)
    assert window.grab().save(str(SCREENS / "audit_5_three_thresholds.png"))


def million_rows(n=1_000_000, groups=5, seed=0):
    rng = np.random.default_rng(seed)
    g = rng.integers(0, groups, n).astype(np.int32)
    y = (rng.random(n) < 0.25 + 0.03 * g).astype(np.int8)
    s = np.clip(rng.normal(0.35 + 0.25 * y + 0.02 * g, 0.15), 0, 1)
    return AnalysisData(score=s, label=y, group=g, group_names=[f"Group {i + 1}" for i in
                                                                 range(groups)],
                        weight=np.ones(n), row_numbers=np.arange(n, dtype=np.int64) + 2,
                        mapping=ColumnMapping(score="s", label="y", groups=["g"]),
                        n_input_rows=n)


def test_drag_at_one_million_rows_draws_the_last_position_then_the_tables(window, qtbot):
    """How long a drag step takes is measured in benchmarks/bench_audit_drag.py; here: many
    moves are coalesced, the frame drawn is the last position's, the release fills the tables."""
    data = million_rows()
    window.state.set_data(data)
    page = window.page("audit")
    qtbot.waitUntil(lambda: page._ranking is not None, timeout=HANG_MS)  # AUC in the worker
    line = page.drag_line
    frames = []
    page.dragUpdated.connect(lambda: frames.append(line.value()))
    with qtbot.waitSignal(page.dragUpdated, timeout=HANG_MS):
        for v in np.linspace(0.2, 0.8, 41):
            line.setValue(float(v))
    assert frames == [pytest.approx(0.8)]
    assert_points_match(page, run_audit(data, [0.8], scores=window.state.scores))
    line.setValue(0.45)
    line.sigPositionChangeFinished.emit(line)
    assert list(window.state.thresholds) == [pytest.approx(0.45)]
    assert_tables_match(page, run_audit(data, window.state.thresholds,
                                        scores=window.state.scores))
