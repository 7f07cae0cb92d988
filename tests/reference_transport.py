"""Score transport's fitting, the largest selection gap and the (group, score) order as they
were before they were made faster, kept verbatim as the reference the fast
:func:`fairdesk.engines.transport.fit_score_map`, :func:`~fairdesk.engines.transport.selection_gap`
and :func:`~fairdesk.engines.transport.group_order` must equal bit for bit."""

from __future__ import annotations

import math

import numpy as np

from fairdesk.engines.transport import _TOL, TIES, ScoreMap  # noqa: F401
from fairdesk.errors import FairDeskError


def _reference_quantile(ref_sorted: np.ndarray, ref_cum: np.ndarray):
    total = ref_cum[-1]

    def q(u):
        idx = np.searchsorted(ref_cum, np.asarray(u) * total * _TOL, side="left")
        return ref_sorted[np.minimum(idx, ref_sorted.size - 1)]
    return q


def fit_score_map(score, group, n_groups: int, reference: int, weight=None, *,
                  ties: str = "together", seed=0, fit_mask=None,
                  group_names=None) -> tuple[ScoreMap, np.ndarray]:
    """Fit the quantile–quantile maps; return the map and every row's transported score.

    ``fit_mask`` (optional) selects the rows the maps are fitted on; the other rows are
    mapped by interpolation. ``seed`` (an int or SeedSequence) orders ties when
    ``ties="random"``.
    """
    if ties not in TIES:
        raise FairDeskError(f"ties must be one of {', '.join(TIES)}, not '{ties}'.")
    score = np.asarray(score, dtype=float)
    group = np.asarray(group)
    n = score.size
    w = np.ones(n) if weight is None else np.asarray(weight, dtype=float)
    names = list(group_names) if group_names is not None else [str(g) for g in range(n_groups)]
    fit = (w > 0) if fit_mask is None else (np.asarray(fit_mask, dtype=bool) & (w > 0))
    all_rows = bool(fit.all())
    rng = None
    if ties == "random":
        ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        rng = np.random.default_rng(ss)
    # sorted by (group, score): one sort per group is faster than sorting all rows twice
    parts = []
    for g in range(n_groups):
        idx = np.flatnonzero((group == g) & fit) if not all_rows else np.flatnonzero(group == g)
        sg = score[idx]
        o = np.argsort(sg)
        if rng is not None:  # a random order within each block of equal scores
            ss_ = sg[o]
            block = np.cumsum(np.r_[False, ss_[1:] != ss_[:-1]])
            o = o[np.argsort(block + rng.random(idx.size))]  # block + [0, 1): blocks stay in order
        parts.append(idx[o])
    rows = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    s, gr, ww = score[rows], group[rows], w[rows]
    sizes = np.bincount(gr, minlength=n_groups)
    ends = np.cumsum(sizes)
    starts = ends - sizes
    cum = np.cumsum(ww)
    if sizes[reference] == 0:
        raise FairDeskError(f"The reference group '{names[reference]}' has no rows with a "
                            "positive weight to transport onto.")
    rs, re_ = starts[reference], ends[reference]
    ref_sorted = s[rs:re_]
    ref_cum = cum[rs:re_] - (cum[rs - 1] if rs > 0 else 0.0)
    q = _reference_quantile(ref_sorted, ref_cum)
    fitted = np.empty(rows.size)
    knots_x, knots_y = [], []
    for g in range(n_groups):
        a, b = starts[g], ends[g]
        if b <= a:
            knots_x.append(np.zeros(0))
            knots_y.append(np.zeros(0))
            continue
        sg, wg = s[a:b], ww[a:b]
        cg = cum[a:b] - (cum[a - 1] if a > 0 else 0.0)
        total = cg[-1]
        first = np.flatnonzero(np.r_[True, sg[1:] != sg[:-1]])
        last = np.r_[first[1:], sg.size] - 1
        below = np.where(first > 0, cg[np.maximum(first - 1, 0)], 0.0)
        block_mid = (below + cg[last]) / 2 / total  # middle of each tied block's share
        kx = sg[first]
        if g == reference:
            ky = kx.copy()
            fitted[a:b] = sg
        else:
            ky = q(block_mid)
            if ties == "random":
                fitted[a:b] = q((cg - wg / 2) / total)
            else:
                fitted[a:b] = np.repeat(ky, last - first + 1)
        knots_x.append(kx)
        knots_y.append(ky)
    smap = ScoreMap(names, reference, knots_x, knots_y, ties)
    if all_rows:
        out = np.empty(n)
    else:
        out = smap.transform(score, group)  # rows not fitted: interpolated
    out[rows] = fitted
    return smap, out


def selection_gap(values, weight, ref_values, ref_weight, *, assume_sorted: bool = False) -> float:
    """Largest |selection rate − reference selection rate| over all thresholds (the
    Kolmogorov distance between the two weighted distributions). Both step functions
    change only at the data, so it is the largest difference at their distinct values."""
    a = np.asarray(values, dtype=float)
    b = np.asarray(ref_values, dtype=float)
    if a.size == 0 or b.size == 0:
        return math.nan
    wa = np.ones(a.size) if weight is None else np.asarray(weight, dtype=float)
    wb = np.ones(b.size) if ref_weight is None else np.asarray(ref_weight, dtype=float)
    if not assume_sorted:
        oa, ob = np.argsort(a, kind="stable"), np.argsort(b, kind="stable")
        a, wa, b, wb = a[oa], wa[oa], b[ob], wb[ob]
    ca = np.concatenate(([0.0], np.cumsum(wa)))
    cb = np.concatenate(([0.0], np.cumsum(wb)))
    if ca[-1] <= 0 or cb[-1] <= 0:
        return math.nan
    grid = np.concatenate([a[np.r_[a[1:] != a[:-1], True]], b[np.r_[b[1:] != b[:-1], True]]])
    fa = ca[np.searchsorted(a, grid, side="right")] / ca[-1]
    fb = cb[np.searchsorted(b, grid, side="right")] / cb[-1]
    return float(np.max(np.abs(fa - fb)))


def group_order(values, group, n_groups: int) -> np.ndarray:
    """Row positions sorted by group, then value (one sort per group: faster than lexsort)."""
    parts = []
    for g in range(n_groups):
        idx = np.flatnonzero(group == g)
        parts.append(idx[np.argsort(values[idx], kind="stable")])
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


