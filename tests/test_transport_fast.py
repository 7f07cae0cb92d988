"""The faster score transport against the code it replaced (tests/reference_transport.py):
the maps, every transported score, the largest selection gaps and the (group, score) order
must be the same to the last bit — unit and fractional weights, zero weights, a fitting
mask, heavy ties, an empty group, both tie rules."""

import numpy as np
import pytest

import reference_transport as ref
from fairdesk.engines import transport as tr


def _cases():
    rng = np.random.default_rng(0)
    n = 60_000
    g = rng.choice(5, n, p=[0.4, 0.3, 0.15, 0.1, 0.05])
    s = np.clip(rng.beta(2 + 0.5 * g, 5), 0, 1).round(5)  # continuous, some ties
    yield "unit", s, g, 5, 0, None, None
    yield "ones", s, g, 5, 2, np.ones(n), None
    yield "fractional", s, g, 5, 2, rng.choice([0.5, 1.0, 1.7, 3.1], n), None
    yield "mask", s, g, 5, 1, None, rng.random(n) < 0.6
    w0 = np.where(rng.random(n) < 0.1, 0.0, rng.random(n) * 2)  # zero weights are not fitted
    yield "zero weights, mask", s, g, 5, 3, w0, rng.random(n) < 0.7
    d = np.round(rng.random(20_000) * 10)  # deciles: a few large blocks of ties
    gd = rng.integers(0, 3, 20_000)
    yield "deciles", d, gd, 3, 1, None, None
    yield "deciles, integer weights", d, gd, 3, 0, rng.integers(1, 4, 20_000).astype(float), None
    ge = gd.copy()
    ge[ge == 1] = 2
    yield "empty group", d, ge, 3, 0, None, None


@pytest.mark.parametrize("ties", tr.TIES)
@pytest.mark.parametrize("case", list(_cases()), ids=lambda c: c[0])
def test_fit_score_map_equals_the_old_fit(case, ties):
    _, score, group, G, reference, weight, mask = case
    old_map, old_out = ref.fit_score_map(score, group, G, reference, weight, ties=ties, seed=7,
                                         fit_mask=mask)
    new_map, new_out = tr.fit_score_map(score, group, G, reference, weight, ties=ties, seed=7,
                                        fit_mask=mask)
    np.testing.assert_array_equal(new_out, old_out)
    for a, b in zip(new_map.knots_x + new_map.knots_y, old_map.knots_x + old_map.knots_y):
        np.testing.assert_array_equal(a, b)


def test_unit_reference_quantile_is_the_binary_search():
    """With unit weights the reference quantile is arithmetic: the same index as the search."""
    rng = np.random.default_rng(4)
    for m in (1, 2, 7, 1000):
        ref_sorted = np.sort(rng.random(m))
        cum = np.arange(1.0, m + 1.0)
        u = np.concatenate([rng.random(5000), np.arange(m + 1) / m, [0.0, 1.0, 0.5, 1e-300]])
        np.testing.assert_array_equal(tr._reference_quantile(ref_sorted, None)(u),
                                      tr._reference_quantile(ref_sorted, cum)(u))


@pytest.mark.parametrize("seed", range(6))
def test_selection_gap_and_group_order_equal_the_old_ones(seed):
    rng = np.random.default_rng(seed)
    a = np.round(rng.random(rng.integers(1, 4000)), int(rng.integers(1, 4)))
    b = np.round(rng.random(rng.integers(1, 4000)), 2)
    wa = rng.random(a.size) if seed % 2 else None
    wb = rng.random(b.size) if seed % 3 else None
    assert tr.selection_gap(a, wa, b, wb) == ref.selection_gap(a, wa, b, wb)
    g = rng.integers(0, 4, a.size)
    np.testing.assert_array_equal(tr.group_order(a, g, 4), ref.group_order(a, g, 4))
