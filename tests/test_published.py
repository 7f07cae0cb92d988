"""Published figures on the real data in ../shared/data."""

import numpy as np
import pandas as pd
import pytest

from conftest import SHARED
from fairdesk.audit import run_audit
from fairdesk.schema import ColumnMapping
from fairdesk.validation import prepare

COMPAS = SHARED / "compas_two_year.csv"
FICO = SHARED / "fico_weighted.csv"

needs_compas = pytest.mark.skipif(not COMPAS.exists(), reason="shared data not present")


@pytest.fixture(scope="module")
def compas():
    return prepare(pd.read_csv(COMPAS),
                   ColumnMapping(score="decile_score", label="two_year_recid", groups=["race"]))


@needs_compas
def test_compas_propublica_error_rates(compas):
    r = run_audit(compas, [5])
    g = {n: i for i, n in enumerate(compas.group_names)}
    aa, ca = g["African-American"], g["Caucasian"]
    assert r.rates["fpr"][aa, 0] == pytest.approx(0.4234, abs=5e-5)
    assert r.rates["fpr"][ca, 0] == pytest.approx(0.2201, abs=5e-5)
    assert r.rates["fnr"][aa, 0] == pytest.approx(0.2848, abs=5e-5)
    assert r.rates["fnr"][ca, 0] == pytest.approx(0.4964, abs=5e-5)


@needs_compas
def test_compas_counts_match_pandas(compas):
    df = pd.read_csv(COMPAS)
    r = run_audit(compas, [5])
    for i, name in enumerate(compas.group_names):
        sub = df[df.race == name]
        pred = sub.decile_score >= 5
        assert r.counts.tp[i, 0] == ((pred) & (sub.two_year_recid == 1)).sum()
        assert r.counts.fp[i, 0] == ((pred) & (sub.two_year_recid == 0)).sum()


@pytest.mark.skipif(not FICO.exists(), reason="shared data not present")
def test_fico_weighted_population_and_default_rates():
    """fico_weighted.csv reproduces the published group totals (fico_totals.csv)."""
    df = pd.read_csv(FICO)
    data = prepare(df, ColumnMapping(score="score", label="repaid", groups=["group"], weight="weight",
                                     positive_label=1))
    totals = pd.read_csv(SHARED / "fico_totals.csv")
    summary = {s["group"]: s for s in data.group_summary()}
    groups = [c for c in totals.columns if c != "Kind"]
    assert sorted(groups) == sorted(summary)
    for name in groups:
        assert summary[name]["weight"] == pytest.approx(float(totals[name].iloc[0]), rel=1e-4)
    r = run_audit(data, [50.0])
    assert np.all((r.auc > 0.5) & (r.auc < 1))  # TransRisk is informative in every group
