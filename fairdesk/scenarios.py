"""Scenarios: named decision rules over the loaded data, compared on the same measures.

A scenario turns every row into a probability of a positive decision (0 or 1 for
deterministic rules) and, for tiered rules, a tier. Kinds:

- ``thresholds``: group-agnostic thresholds, params ``{"values": [t1, …, tk], "decision": j}``
  (flagged = at or above threshold j, default the highest);
- ``group_thresholds``: ``{"values": {GROUP: [t1, …, tk]}, "decision": j}``;
- ``selection``: a top-K or balanced list, ``{"rows": [spreadsheet row numbers]}``;
- ``randomized``: fixed randomisation per group, ``{"groups": {GROUP: {"t0", "t1", "p"}}}``
  (score ≥ t1 → flagged, t0 ≤ score < t1 → flagged with probability p);
- ``probabilities``: per-row probabilities computed by an engine (``{"engine": "module:function",
  "settings": {...}}``), e.g. preferential-randomisation curves or a household protocol.

Evaluation uses expected counts (Σ weight × probability), so randomised rules are compared
without drawing any decision. The baseline (group-agnostic thresholds) is scenario zero.
"""

from __future__ import annotations

import importlib
from dataclasses import asdict, dataclass, field

import numpy as np

from .dataset import AnalysisData
from .errors import FairDeskError
from .jobs import NO_JOB, Job
from .metrics.confusion import Counts
from .metrics.fairness import (THRESHOLD_DEFINITIONS, Reliability, all_measures, denominators, eligibility,
                               measure_details)
from .metrics.rates import compute_rates

KINDS = ("thresholds", "group_thresholds", "selection", "randomized", "probabilities")
COMPARISON_RATES = ("selection_rate", "tpr", "fpr", "fnr", "ppv", "npv", "accuracy")


@dataclass
class Scenario:
    name: str
    kind: str
    params: dict
    origin: dict = field(default_factory=dict)  # engine, settings, seed
    notes: str = ""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Scenario":
        return cls(d["name"], d["kind"], dict(d.get("params", {})), dict(d.get("origin", {})),
                   d.get("notes", ""))

    def describe(self, group_names=None) -> str:
        """The rule in words (never a code path); with several thresholds (tiers), which
        tiers count as flagged."""
        p = self.params
        if self.kind == "thresholds":
            values = p["values"]
            text = ("threshold " if len(values) == 1 else "thresholds ") + ", ".join(f"{v:g}" for v in values)
            if len(values) > 1:
                j = int(p.get("decision", len(values) - 1))
                tiers = (f"tier S{j + 2}" if j + 2 == len(values) + 1
                         else f"tiers S{j + 2}–S{len(values) + 1}")
                text += f" (flagged: at or above {values[j]:g}, {tiers})"
            return text
        if self.kind == "group_thresholds":
            text = "; ".join(f"{g}: " + ", ".join(f"{v:g}" for v in vals) for g, vals in p["values"].items())
            k = max((len(v) for v in p["values"].values()), default=1)
            if k > 1:
                j = int(p.get("decision", k - 1))
                text += f" (flagged: at or above each group's threshold number {j + 1})"
            return text
        if self.kind == "selection":
            return f"a list of {len(p['rows']):,} rows"
        if self.kind == "randomized":
            return "; ".join(f"{g}: t0 {q['t0']:g}, t1 {q['t1']:g}, p {q['p']:.3g}" for g, q in p["groups"].items())
        return _hook_words(p)


# The engines whose per-row probabilities a scenario can use, in words.
_HOOKS = {
    "equalized_odds": "Equalized odds with randomisation",
    "transport": "Scores transported onto the reference group",
    "households": "Household policy",
}
_FAMILIES = {"fixed": "fixed randomisation between two thresholds",
             "linear": "preferential randomisation, linear curves",
             "quadratic": "preferential randomisation, quadratic curves",
             "cubic": "preferential randomisation, piecewise cubic curves",
             "quartic": "preferential randomisation, 4th-order curves"}


def _hook_words(params: dict) -> str:
    engine = str(params.get("engine", ""))
    module = engine.split(":")[0].rsplit(".", 1)[-1]
    words = _HOOKS.get(module, "Rule from another page")
    settings = params.get("settings", {}) or {}
    if module == "equalized_odds" and settings.get("family") in _FAMILIES:
        words += ", " + _FAMILIES[settings["family"]]
    elif module == "transport" and "threshold" in settings:
        words += f", at or above {settings['threshold']:g}"
    elif module == "households" and settings.get("score"):
        words += f" ({str(settings['score']).replace('_', ' ')})"
    return words


def baseline(values, name: str = "Baseline") -> Scenario:
    return Scenario(name, "thresholds", {"values": [float(v) for v in np.atleast_1d(values)]},
                    {"engine": "group-agnostic thresholds"})


def parse_scenario(text: str, group_names: list[str]) -> Scenario:
    """Command-line form: "NAME=0.5" / "NAME=0.3,0.6" (thresholds) or
    "NAME=GROUP:VALUE,GROUP:VALUE" (one group-specific threshold per group)."""
    if "=" not in text:
        raise FairDeskError(f"--scenario '{text}': write NAME=THRESHOLD or NAME=GROUP:VALUE,GROUP:VALUE.")
    name, spec = text.split("=", 1)
    name = name.strip()
    parts = [s.strip() for s in spec.split(",") if s.strip()]
    if not name or not parts:
        raise FairDeskError(f"--scenario '{text}' needs a name and at least one threshold.")
    try:
        if all(":" not in s for s in parts):
            return Scenario(name, "thresholds", {"values": sorted(float(s) for s in parts)},
                            {"engine": "command line"})
        values = {}
        for s in parts:
            g, v = s.rsplit(":", 1)
            values.setdefault(g.strip(), []).append(float(v))
    except ValueError:
        raise FairDeskError(f"--scenario '{text}': thresholds must be numbers.")
    missing = [g for g in group_names if g not in values]
    unknown = [g for g in values if g not in group_names]
    if unknown or missing:
        raise FairDeskError(f"--scenario '{name}': " + (f"unknown group(s) {', '.join(unknown)}; " if unknown else "")
                            + (f"no threshold for {', '.join(missing)}; " if missing else "")
                            + "the groups are " + ", ".join(group_names) + ".")
    return Scenario(name, "group_thresholds", {"values": {g: sorted(v) for g, v in values.items()}},
                    {"engine": "command line"})


@dataclass
class Decisions:
    probability: np.ndarray  # (n,) in [0, 1]
    tier: np.ndarray | None  # (n,) 0 … k, or None
    n_tiers: int = 2


def decisions(s: Scenario, data: AnalysisData) -> Decisions:
    """Per-row probability of a positive decision (and tier) under scenario ``s``."""
    o = data.oriented
    if s.kind == "thresholds":
        t = np.sort(data.to_oriented(np.asarray(s.params["values"], dtype=float)))
        tier = np.searchsorted(t, o, side="right")
        j = int(s.params.get("decision", len(t) - 1))
        return Decisions((o >= t[j]).astype(float), tier, len(t) + 1)
    if s.kind == "group_thresholds":
        vals = s.params["values"]
        missing = [g for g in data.group_names if g not in vals]
        if missing:
            raise FairDeskError(f"Scenario '{s.name}' has no thresholds for group(s) {', '.join(missing)}.")
        k = {len(v) for v in vals.values()}
        if len(k) != 1:
            raise FairDeskError(f"Scenario '{s.name}' gives the groups different numbers of thresholds.")
        k = k.pop()
        table = np.sort(data.to_oriented(np.array([vals[g] for g in data.group_names], dtype=float)), axis=1)
        j = int(s.params.get("decision", k - 1))
        # tier = number of the row's group thresholds at or below its score (vectorised per row)
        tier = np.sum(o[:, None] >= table[data.group], axis=1)
        return Decisions((o >= table[data.group, j]).astype(float), tier, k + 1)
    if s.kind == "selection":
        rows = np.asarray(s.params["rows"], dtype=np.int64)
        chosen = np.isin(data.row_numbers, rows)
        return Decisions(chosen.astype(float), chosen.astype(np.int64), 2)
    if s.kind == "randomized":
        groups = s.params["groups"]
        t0 = np.array([groups[g]["t0"] for g in data.group_names], dtype=float) * data.sign
        t1 = np.array([groups[g]["t1"] for g in data.group_names], dtype=float) * data.sign
        p = np.array([groups[g]["p"] for g in data.group_names], dtype=float)
        lo, hi = np.minimum(t0, t1), np.maximum(t0, t1)
        r_lo, r_hi = lo[data.group], hi[data.group]
        prob = np.where(o >= r_hi, 1.0, np.where(o >= r_lo, p[data.group], 0.0))
        tier = (o >= r_lo).astype(np.int64) + (o >= r_hi)
        return Decisions(prob, tier, 3)
    if s.kind == "probabilities":
        module, func = s.params["engine"].split(":")
        fn = getattr(importlib.import_module(module), func)
        prob, tier, n_tiers = fn(data, s.params.get("settings", {}))
        return Decisions(np.clip(np.asarray(prob, dtype=float), 0, 1), tier, n_tiers)
    raise FairDeskError(f"Scenario '{s.name}' has an unknown kind '{s.kind}'.")


@dataclass
class ScenarioMetrics:
    name: str
    rows: np.ndarray  # (G, n_tiers) rows per tier and group
    people: np.ndarray  # (G, n_tiers) weighted
    counts: Counts  # expected, (G, 1)
    rates: dict  # rate -> (G,)
    overall: dict  # rate -> float
    fairness: dict  # key -> float; "CAL" -> (n_tiers,)
    changed: np.ndarray  # (G,) expected share whose decision differs from the baseline
    changed_overall: float
    cost: float  # expected cost per person
    n_tiers: int
    masks: dict | None = None  # rate -> (G, 1) groups compared by the fairness measures
    details: dict | None = None  # key -> MeasureDetail ("CAL": list per tier)


def _evaluate(dec: Decisions, base: Decisions | None, data: AnalysisData, weight: np.ndarray,
              cost_fn: float, cost_fp: float, name: str, rule: Reliability | None = None,
              masks: dict | None = None) -> ScenarioMetrics:
    G = data.n_groups
    y = data.label.astype(float)
    p = dec.probability
    bc = lambda v: np.bincount(data.group, weights=v, minlength=G)  # noqa: E731
    tp, fp = bc(weight * p * y), bc(weight * p * (1 - y))
    fn, tn = bc(weight * (1 - p) * y), bc(weight * (1 - p) * (1 - y))
    n = np.bincount(data.group, minlength=G)
    c = Counts(tp[:, None], fp[:, None], fn[:, None], tn[:, None], bc(p)[:, None], n[:, None])
    rates = compute_rates(c)
    overall = compute_rates(c.total())
    tier = dec.tier if dec.tier is not None else (p > 0.5).astype(np.int64)
    nt = dec.n_tiers
    code = data.group * nt + tier
    people = np.bincount(code, weights=weight, minlength=G * nt).reshape(G, nt)
    rows = np.bincount(code, weights=(weight > 0).astype(float), minlength=G * nt).reshape(G, nt)
    pos = np.bincount(code, weights=weight * y, minlength=G * nt).reshape(G, nt)
    with np.errstate(invalid="ignore", divide="ignore"):
        tier_rate = np.where(people > 0, pos / np.where(people > 0, people, 1), np.nan)
    rule = rule or Reliability()
    details = None
    if masks is None:  # the data itself (a bootstrap resample passes the data's groups)
        dens = denominators(c.tp, c.fp, c.fn, c.tn)
        dens["tier_outcome_rate"] = people
        masks = eligibility(n, dens, rule)
        details = {k: measure_details(k, rates, n, dens, rule, data.group_names, 0)
                   for k in THRESHOLD_DEFINITIONS}
        details["CAL"] = [measure_details("CAL", rates, n, dens, rule, data.group_names, t, tier_rate, people)
                          for t in range(nt)]
    cal_masks = {"tier_outcome_rate": masks["tier_outcome_rate"]}
    fair = all_measures(rates, masks=masks)
    fairness = {k: float(fair[k][0]) for k in THRESHOLD_DEFINITIONS}
    fairness["CAL"] = all_measures(rates, tier_rate, cal_masks)["CAL"]
    if base is not None:
        diff = np.abs(p - base.probability)
        wg = bc(weight)
        with np.errstate(invalid="ignore", divide="ignore"):
            changed = np.where(wg > 0, bc(weight * diff) / np.where(wg > 0, wg, 1), np.nan)
        changed_all = float(np.sum(weight * diff) / np.sum(weight))
    else:
        changed, changed_all = np.zeros(G), 0.0
    cost = float((cost_fn * fn.sum() + cost_fp * fp.sum()) / weight.sum())
    return ScenarioMetrics(name, rows, people, c, {k: v[:, 0] for k, v in rates.items()},
                           {k: float(v[0, 0]) for k, v in overall.items()}, fairness, changed, changed_all,
                           cost, nt, masks, details)


@dataclass
class Comparison:
    scenarios: list[Scenario]
    metrics: list[ScenarioMetrics]
    group_names: list[str]
    cost_ratio: tuple[float, float]  # (false negative cost, false positive cost)
    bootstrap: dict | None = None  # "mean", "sd", "lo", "hi", "defined": (rows, scenarios); "resamples"
    seed: int | None = None
    reliability: Reliability = field(default_factory=Reliability)

    def interval(self, row: int, scenario: int):
        """(lo, hi, method or reason) of decision-table row ``row`` under ``scenario``: for a
        single rate (a proportion) the exact binomial interval from the (expected) counts, as
        on the Audit page; for the fairness measures, the changed decisions and the cost the
        bootstrap percentile interval (or why it is not estimated)."""
        from .metrics.intervals import METHOD_BOOT, interval_or_reason
        if not hasattr(self, "_rows_cache"):
            self._rows_cache = self.table_rows()
        if self._rows_cache[row]["section"] == "Rates by group":
            return self._exact(row, scenario)
        b = self.bootstrap
        if b is not None:
            lo, hi, why = interval_or_reason(b["lo"][row, scenario], b["hi"][row, scenario],
                                             b["defined"][row, scenario], b["resamples"])
            return lo, hi, why or METHOD_BOOT
        return self._exact(row, scenario)

    def row_index(self, measure: str, group: str = "") -> int:
        """Index in :meth:`table_rows` of ``measure`` for ``group`` ("Overall", a group, or ""
        for a fairness measure)."""
        for i, r in enumerate(self.table_rows()):
            if r["measure"] == measure and r["group"] == group:
                return i
        raise KeyError((measure, group))

    def _exact(self, row: int, scenario: int):
        from .metrics.intervals import METHOD_EXACT, PROPORTIONS, interval_or_reason, rate_intervals
        if not hasattr(self, "_rows_cache"):
            self._rows_cache = self.table_rows()
        r = self._rows_cache[row]
        if r["measure"] not in PROPORTIONS or r["section"] != "Rates by group":
            return float("nan"), float("nan"), "not estimated: no bootstrap was run"
        if np.isnan(r["values"][scenario]):
            return float("nan"), float("nan"), "not estimated: the rate is undefined (0/0)"
        m = self.metrics[scenario]
        c = m.counts if r["group"] != "Overall" else m.counts.total()
        g = 0 if r["group"] == "Overall" else self.group_names.index(r["group"])
        lo, hi = rate_intervals(c)[r["measure"]]
        lo, hi, why = interval_or_reason(lo[g, 0], hi[g, 0])
        return lo, hi, why or METHOD_EXACT + " (expected counts)"

    def table_rows(self) -> list[dict]:
        """Measures as rows, scenarios as columns (the decision table)."""
        rows = []

        def add(section, measure, group, values, kind="percent"):
            rows.append({"section": section, "measure": measure, "group": group, "kind": kind,
                         "values": [float(v) for v in values]})
        ms = self.metrics
        for r in COMPARISON_RATES:
            for g, gname in enumerate(self.group_names):
                add("Rates by group", r, gname, [m.rates[r][g] for m in ms])
            add("Rates by group", r, "Overall", [m.overall[r] for m in ms])
        for k in THRESHOLD_DEFINITIONS:
            add("Fairness (min. pairwise ratio)", k, "", [m.fairness[k] for m in ms], "float")
        for g, gname in enumerate(self.group_names):
            add("Decisions changed vs baseline", "changed", gname, [m.changed[g] for m in ms])
        add("Decisions changed vs baseline", "changed", "Overall", [m.changed_overall for m in ms])
        add("Expected cost per person", f"cost {self.cost_ratio[0]:g}:{self.cost_ratio[1]:g} (FN:FP)", "",
            [m.cost for m in ms], "float")
        return rows


def compare(data: AnalysisData, scenarios: list[Scenario], *, cost_ratio=(1.0, 1.0),
            bootstrap: int = 0, seed: int = 0, job: Job = NO_JOB,
            reliability: Reliability | None = None) -> Comparison:
    """Evaluate every scenario on the same data; scenario 0 is the baseline. The fairness
    measures compare the groups ``reliability`` allows (default: the reliable groups); a
    bootstrap keeps those groups in every resample."""
    rule = reliability or Reliability()
    if data.label is None:
        raise FairDeskError("Comparing scenarios needs an outcome (label) column.")
    if not scenarios:
        raise FairDeskError("There is no scenario to compare.")
    decs = [decisions(s, data) for s in scenarios]
    cfn, cfp = (float(x) for x in cost_ratio)
    metrics = [_evaluate(d, decs[0] if i else None, data, data.weight, cfn, cfp, s.name, rule)
               for i, (s, d) in enumerate(zip(scenarios, decs))]
    comp = Comparison(list(scenarios), metrics, list(data.group_names), (cfn, cfp), reliability=rule)
    if bootstrap:
        if bootstrap < 2:
            raise FairDeskError("Use at least 2 bootstrap resamples.")
        streams = np.random.SeedSequence(seed).spawn(bootstrap)
        acc: list[list[list[float]]] = []
        for b, ss in enumerate(streams):
            job.progress(b / bootstrap, f"Bootstrap resample {b + 1:,} of {bootstrap:,}")
            rng = np.random.default_rng(ss)
            from .bootstrap import resample_weights  # people, not rows, when weighted
            w = resample_weights(data, rng)
            ms = [_evaluate(d, decs[0] if i else None, data, w, cfn, cfp, s.name, rule, metrics[i].masks)
                  for i, (s, d) in enumerate(zip(scenarios, decs))]
            acc.append([row["values"] for row in Comparison(list(scenarios), ms, comp.group_names,
                                                              (cfn, cfp)).table_rows()])
        arr = np.array(acc, dtype=float)  # (B, rows, scenarios)
        with np.errstate(invalid="ignore"):
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                from .metrics.intervals import percentile_interval
                lo, hi, defined = percentile_interval(arr)
                comp.bootstrap = {"mean": np.nanmean(arr, axis=0), "sd": np.nanstd(arr, axis=0, ddof=1),
                                  "lo": lo, "hi": hi, "defined": defined, "resamples": bootstrap}
        comp.seed = seed
        job.progress(1.0, "Bootstrap done")
    return comp
