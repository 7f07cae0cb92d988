"""Decision rules chosen on one period and applied to the others (issue 20, "does the
decision hold?").

A rule is written as on the command line's ``--scenario NAME=RULE``:

* ``0.5`` or ``0.3,0.6``: thresholds for everyone; ``GROUP:0.4,GROUP:0.6``: one per group
  (chosen on nothing: the same everywhere);
* ``equal-fpr``, ``equal-tpr``, ``equal-fnr``, ``equal-selection``: one threshold per
  group, chosen on the choose-on period so that every group's rate is as close as its scores
  allow to the rate of everyone at the baseline threshold there;
* ``erb``: the Oregon error-rate-balance correction (modest settings, the suggested
  penalty), run on the choose-on period;
* ``eodds``: equalized odds with fixed randomisation, solved on the choose-on period;
* ``recall:K``: recall balancing with a list of K people (equal recall, current list size),
  on the choose-on period; each group's threshold is the score of its last person taken
  there (people tied with that score elsewhere are taken too).

The choose-on value is a period, or a value of the split column (e.g. ``train``): a rule
chosen on the training split and assessed on every period.

The rule is then a Decision-table scenario (fixed thresholds, or fixed randomisation), so
applying it to another period is :func:`fairdesk.scenarios.decisions` on that period's rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..dataset import AnalysisData
from ..errors import FairDeskError
from ..jobs import NO_JOB
from ..metrics.confusion import GroupScores
from ..metrics.rates import compute_rates

EQUAL_RULES = {"equal-fpr": "fpr", "equal-tpr": "tpr", "equal-fnr": "fnr",
               "equal-selection": "selection_rate"}
ENGINE_RULES = ("erb", "eodds", "recall")
RULE_WORDS = {"equal-fpr": "equal false positive rates", "equal-tpr": "equal true positive rates",
              "equal-fnr": "equal false negative rates",
              "equal-selection": "equal selection rates", "erb": "Oregon error-rate balance",
              "eodds": "equalized odds (fixed randomisation)",
              "recall": "equal recall in a list of K people"}


def period_rows(data: AnalysisData, period: str) -> AnalysisData:
    """The rows of a period, or of a value of the split column (periods first)."""
    if data.period is not None and period in data.period_names:
        return data.subset(data.period == data.period_names.index(period))
    split = None if data.split is None else \
        pd.Series(data.split).astype(str).str.strip().to_numpy()  # no loop over rows
    if split is not None and np.any(split == period):
        return data.subset(split == period)
    if data.period is None and data.split is None:
        raise FairDeskError("Choosing a rule on a period needs a period column (--period) "
                            "or a split column (--split).")
    known = list(data.period_names) + ([] if split is None else sorted(set(np.unique(split))))
    raise FairDeskError(f"There is no period '{period}'; the periods are "
                        + ", ".join(known) + ".")


def equal_rate_thresholds(data: AnalysisData, rate: str, threshold: float) -> dict[str, float]:
    """Per group (score units), the threshold among the group's scores whose ``rate`` is
    closest to everyone's ``rate`` at ``threshold``; among equally close ones, the one nearest
    ``threshold``. A group where the rate is undefined keeps ``threshold``."""
    gs = GroupScores.from_data(data)
    t = float(data.to_oriented(threshold))
    target = compute_rates(gs.counts(np.array([t]), shared=True).total())[rate][0, 0]
    out = {}
    for g, name in enumerate(data.group_names):
        cand = np.unique(np.append(gs.group_scores(g), np.inf))
        table = np.full((data.n_groups, cand.size), np.inf)  # others: nobody flagged
        table[g] = cand
        values = compute_rates(gs.counts(table, shared=False))[rate][g]
        if np.isnan(target) or np.all(np.isnan(values)):
            out[name] = float(threshold)
            continue
        gap = np.abs(values - target)
        best = np.flatnonzero(gap == np.nanmin(gap))
        pick = best[np.argmin(np.abs(cand[best] - t))]
        chosen = cand[pick]
        # +inf (nobody flagged) in user units: above every score of the group
        out[name] = float(data.to_oriented(chosen)) if np.isfinite(chosen) else \
            float(data.to_oriented(gs.group_scores(g)[-1]) + data.sign)
    return out


def choose_rule(data: AnalysisData, name: str, rule: str, *, choose_on: str | None,
                threshold: float, seed: int = 0, job=NO_JOB):
    """The scenario ``name`` for ``rule`` (see the module's docstring), chosen on the rows of
    period ``choose_on`` (all rows when None). Returns (scenario, chosen-on period or "")."""
    from ..scenarios import Scenario, parse_scenario

    key, _, arg = rule.strip().lower().partition(":")
    if key not in EQUAL_RULES and key not in ENGINE_RULES:
        return parse_scenario(f"{name}={rule}", data.group_names), ""
    rows = period_rows(data, choose_on) if choose_on else data
    where = choose_on or ""
    origin = {"engine": "chosen on a period", "rule": RULE_WORDS[key],
              "chosen_on": where or "all periods"}
    if key in EQUAL_RULES:
        values = equal_rate_thresholds(rows, EQUAL_RULES[key], threshold)
        return Scenario(name, "group_thresholds", {"values": {g: [v] for g, v in values.items()}},
                        {**origin, "baseline_threshold": float(threshold)}), where
    if key == "erb":
        from ..engines.threshold_correction import CorrectionSettings, run_correction
        from ..reports.correction_figures import scenario as correction_scenario

        settings = CorrectionSettings(weights=tuple(np.round(np.linspace(0, 1, 21), 2).tolist()),
                                      subsamples=20, audit_subsamples=20, seed=seed, workers=1)
        res = run_correction(rows, settings, job=job)
        s = correction_scenario(res, None, data.group_names, lambda w: f"{w:g}")
        s.name = name
        s.origin.update(origin)
        return s, where
    if key == "recall":
        return _recall_rule(data, rows, name, arg, rule, origin, seed, job), where
    from ..engines.equalized_odds import EOddsSettings, eodds_scenario, run_equalized_odds

    res = run_equalized_odds(rows, EOddsSettings(family="fixed", families=()), curves=False,
                             job=job)
    s = eodds_scenario(res, rows, "fixed", name)
    s.origin.update(origin)
    return s, where


def _recall_rule(data, rows, name, arg, rule, origin, seed, job):
    """Equal recall in a list of K people on ``rows``, as one threshold per group."""
    from ..engines.recall_balance import RecallSettings, run_recall
    from ..scenarios import Scenario

    try:
        k = float(arg)
    except ValueError:
        k = float("nan")
    if not k > 0:
        raise FairDeskError(f"--scenario '{name}={rule}': write recall:K with the list size K, "
                            "e.g. recall:150.")
    res = run_recall(rows, RecallSettings(k=k, seed=seed), job=job)
    taken = res.scenarios["current_equal"]
    values = {}
    for g, group in enumerate(data.group_names):
        t = taken.threshold[g]
        if np.isnan(t):  # nobody of the group taken: a threshold above all its scores
            scores = data.score[data.group == g]
            t = (scores.max() + 1) if data.sign > 0 else (scores.min() - 1)
        values[group] = [float(t)]
    return Scenario(name, "group_thresholds", {"values": values},
                    {**origin, "rule": f"{RULE_WORDS['recall']} (K = {k:g})", "seed": seed})
