import numpy as np
import pandas as pd
import pytest

from fairdesk.audit import run_audit
from fairdesk.bootstrap import bootstrap_audit
from fairdesk.errors import Cancelled
from fairdesk.jobs import Job
from fairdesk.schema import ColumnMapping
from fairdesk.validation import prepare


@pytest.fixture
def data():
    rng = np.random.default_rng(5)
    n = 400
    f = pd.DataFrame({"s": rng.random(n).round(2), "y": rng.integers(0, 2, n),
                      "g": rng.choice(["a", "b", "c"], n), "w": rng.choice([1.0, 2.0], n)})
    return prepare(f, ColumnMapping(score="s", label="y", groups=["g"], weight="w"))


def test_equals_naive_resampling_of_rows(data):
    """Without weights, rows are resampled."""
    import dataclasses
    data = dataclasses.replace(data, weight=np.ones(data.n), weighted=False)
    B, seed = 12, 42
    res = bootstrap_audit(data, [0.3, 0.6], resamples=B, seed=seed)
    vals = []
    for ss in np.random.SeedSequence(seed).spawn(B):
        idx = np.random.default_rng(ss).integers(0, data.n, data.n)
        vals.append(run_audit(data.subset(idx), [0.3, 0.6]).rates["fpr"])
    vals = np.array(vals)
    np.testing.assert_allclose(res.mean["rate:fpr"], np.nanmean(vals, axis=0))
    np.testing.assert_allclose(res.sd["rate:fpr"], np.nanstd(vals, axis=0, ddof=1))


def test_weighted_resamples_people_not_rows(data):
    """With frequency weights, people are resampled (issue 14): a resample equals drawing
    round(total weight) people from the data expanded to one row per person."""
    import dataclasses
    B, seed = 12, 42
    res = bootstrap_audit(data, [0.3, 0.6], resamples=B, seed=seed)
    w = data.weight
    vals = []
    for ss in np.random.SeedSequence(seed).spawn(B):
        counts = np.random.default_rng(ss).multinomial(int(round(w.sum())), w / w.sum())
        people = data.subset(np.repeat(np.arange(data.n), counts))  # one row per person drawn
        people = dataclasses.replace(people, weight=np.ones(people.n))
        vals.append(run_audit(people, [0.3, 0.6]).rates["fpr"])
    vals = np.array(vals)
    np.testing.assert_allclose(res.mean["rate:fpr"], np.nanmean(vals, axis=0))
    np.testing.assert_allclose(res.sd["rate:fpr"], np.nanstd(vals, axis=0, ddof=1))
    # each resample has as many people as the data
    rng = np.random.default_rng(0)
    from fairdesk.bootstrap import resample_weights
    assert resample_weights(data, rng).sum() == round(w.sum())


def test_seeded_and_centred(data):
    a = bootstrap_audit(data, [0.5], resamples=30, seed=7)
    b = bootstrap_audit(data, [0.5], resamples=30, seed=7)
    c = bootstrap_audit(data, [0.5], resamples=30, seed=8)
    np.testing.assert_array_equal(a.mean["fairness:ERB"], b.mean["fairness:ERB"])
    assert not np.array_equal(a.mean["auc"], c.mean["auc"])
    point = run_audit(data, [0.5]).rates["tpr"]
    assert np.all(np.abs(a.mean["rate:tpr"] - point) < 4 * a.sd["rate:tpr"] / np.sqrt(30) + 0.05)


def test_cancel_and_progress(data):
    seen = []
    job = Job(lambda f, m: (seen.append(f), job.cancel() if len(seen) == 3 else None))
    with pytest.raises(Cancelled):
        bootstrap_audit(data, [0.5], resamples=50, seed=1, job=job)
    assert seen == sorted(seen) and len(seen) == 3
