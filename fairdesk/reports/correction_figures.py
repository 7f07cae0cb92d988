"""Numbers behind the "Error-rate balance" page: what its tables and figures show, taken
from a :class:`~fairdesk.engines.threshold_correction.CorrectionResult` at the penalty
weights the analyst chose (one per threshold). No Qt: the page only draws these.

``chosen`` is always a mapping threshold index -> index into ``result.weights``; a missing
threshold takes the suggested (best) w.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..engines.threshold_correction import ASSESS_RATES, CorrectionResult
from ..errors import FairDeskError
from ..metrics.fairness import THRESHOLD_DEFINITIONS
from ..metrics.thresholds import ThresholdRule, tier_of
from ..present.formats import format_number as _w

MAX_WEIGHTS = 1001
STRIP_POINTS = 20_000
KNOWN_RULES = ("fixed", "quantile", "mean", "oregon_low", "oregon_high", "top_k", "ventile")


# ------------------------------------------------------------------------------ settings

def weight_grid(start: float, stop: float, step: float) -> tuple:
    """Penalty weights start, start + step, …, stop (inclusive), rounded to 10 decimals."""
    for name, v in (("start", start), ("stop", stop), ("step", step)):
        if not math.isfinite(float(v)):
            raise FairDeskError(f"Penalty weights: the {name} must be a number.")
    if not (0 <= start <= 1 and 0 <= stop <= 1):
        raise FairDeskError("Penalty weights must lie between 0 and 1: change the start or stop.")
    if stop < start:
        raise FairDeskError(f"Penalty weights: the stop ({stop:g}) is below the start ({start:g}).")
    if step <= 0:
        raise FairDeskError("Penalty weights: the step must be above 0 (0.01 gives 101 weights "
                            "from 0 to 1).")
    n = int(math.floor((stop - start) / step + 1e-9)) + 1
    if n > MAX_WEIGHTS:
        raise FairDeskError(f"Penalty weights: {n:,} values is too many; use a larger step "
                            f"(at most {MAX_WEIGHTS:,} values).")
    w = np.round(start + step * np.arange(n), 10)
    w = w[w <= stop + 1e-12]
    if w.size and stop - w[-1] > 1e-9 and n < MAX_WEIGHTS:  # keep the stop itself
        w = np.append(w, round(stop, 10))
    return tuple(float(x) for x in w)


def short_rule_name(rule) -> str:
    """A few words for a column title ("Oregon low", "Mean", "80th pct", …)."""
    r = ThresholdRule.from_dict(rule) if isinstance(rule, dict) else rule
    if r.kind == "oregon_low":
        return "Oregon low"
    if r.kind == "oregon_high":
        return "Oregon high"
    if r.kind == "mean":
        return "Mean"
    if r.kind == "fixed":
        return f"Fixed {r.value:.4g}" if r.value is not None else "Fixed"
    if r.kind == "quantile":
        return f"{100 * (r.value or 0):.3g}th pct"
    if r.kind == "top_k":
        return f"Top {int(r.value or 0):,}"
    if r.kind == "ventile":
        return f"Edge {int(r.value or 0)}/{r.n_bins}"
    return r.kind


def usable_rules(rules) -> list[dict] | None:
    """Rule dicts the optimizer can evaluate on each subsample, or None.

    A ``{"kind": "correction", "rules": [...]}`` entry (thresholds applied by this page)
    gives back the group-agnostic rules it started from.
    """
    rules = list(rules or [])
    if len(rules) == 1 and isinstance(rules[0], dict) and rules[0].get("kind") == "correction":
        rules = list(rules[0].get("rules") or [])
    out = []
    for r in rules:
        if not isinstance(r, dict) or r.get("kind") not in KNOWN_RULES:
            return None
        if r["kind"] in ("fixed", "quantile", "top_k", "ventile") and r.get("value") is None:
            return None
        out.append(ThresholdRule.from_dict(r).to_dict())
    return out or None


def order_rules(data, rules) -> list[dict]:
    """The rules sorted by the threshold each gives on all rows, lowest risk first.

    The optimizer sorts Φ in oriented units on every subsample; sorting the rules the same
    way keeps each threshold's name next to its values (a score where lower means riskier,
    or rules typed in any order)."""
    values = []
    for r in rules:
        rule = ThresholdRule.from_dict(r) if isinstance(r, dict) else r
        values.append(float(rule.resolve(data)) * data.sign)
    order = np.argsort(values, kind="stable")
    v = np.asarray(values)[order]
    if np.any(np.diff(v) <= 0):
        raise FairDeskError("Two of the thresholds are equal on these data; the thresholds must "
                            "be distinct. Change them on the Tiers page.")
    return [ThresholdRule.from_dict(rules[i]).to_dict() if isinstance(rules[i], dict)
            else rules[i].to_dict() for i in order]


# ------------------------------------------------------------------------------ chosen w

def full_choice(res: CorrectionResult, chosen: dict | None) -> dict[int, int]:
    out = {b["threshold"]: b["w_index"] for b in res.best}
    for t, wi in (chosen or {}).items():
        t, wi = int(t), int(wi)
        if 0 <= t < res.k and 0 <= wi < len(res.weights):
            out[t] = wi
    return out


def suggested(res: CorrectionResult) -> dict[int, int]:
    return {b["threshold"]: b["w_index"] for b in res.best}


def chosen_oriented(res: CorrectionResult, chosen: dict | None) -> np.ndarray:
    """(G, k) corrected thresholds in oriented units: threshold t at its chosen w."""
    c = full_choice(res, chosen)
    post = res.theta.mean(axis=0)  # (W, k, G)
    return np.stack([post[c[t], t, :] for t in range(res.k)], axis=1)


def chosen_thresholds(res: CorrectionResult, chosen: dict | None) -> np.ndarray:
    """(G, k) corrected thresholds in the score's own units, as the state takes them."""
    return chosen_oriented(res, chosen) * res.sign


def crossing_groups(res: CorrectionResult, chosen: dict | None) -> list[str]:
    """Groups whose corrected thresholds are not in increasing risk order (possible when the
    thresholds take different w's); their tiers use the thresholds sorted."""
    o = chosen_oriented(res, chosen)
    bad = np.any(np.diff(o, axis=1) <= 0, axis=1) if res.k > 1 else np.zeros(o.shape[0], bool)
    return [res.group_names[g] for g in np.flatnonzero(bad)]


def pre_tiers(data, res: CorrectionResult) -> np.ndarray:
    return tier_of(data.oriented, data.group, np.sort(res.phi.mean(axis=0)))


def post_tiers(data, res: CorrectionResult, chosen: dict | None) -> np.ndarray:
    return tier_of(data.oriented, data.group, chosen_oriented(res, chosen))


def transitions(data, res: CorrectionResult, chosen: dict | None) -> np.ndarray:
    """(G, k+1, k+1) weighted people by group, tier before (rows), tier after (columns), on
    all rows, at the chosen thresholds. With one w for every threshold this is the engine's
    ``transition_matrix`` at that w."""
    k1 = res.k + 1
    G = len(res.group_names)
    code = (data.group.astype(np.int64) * k1 + pre_tiers(data, res)) * k1 + post_tiers(data, res, chosen)
    counts = np.bincount(code, weights=data.weight, minlength=G * k1 * k1)
    return counts.reshape(G, k1, k1)


def transitions_from_scores(gs, res: CorrectionResult, chosen: dict | None) -> np.ndarray:
    """The same (G, k+1, k+1) matrix from prepared per-group sorted scores (a
    :class:`~fairdesk.metrics.confusion.GroupScores` of the data, oriented): the weight in
    tier i before and tier j after is the weight between the larger of the two lower bounds
    and the smaller of the two upper bounds — O(G·k²·log n) instead of a pass over the rows."""
    k1 = res.k + 1
    pre = np.concatenate(([-np.inf], np.sort(res.phi.mean(axis=0)), [np.inf]))
    post = chosen_oriented(res, chosen)
    out = np.zeros((gs.n_groups, k1, k1))
    for g in range(gs.n_groups):
        s0, e0 = int(gs.start[g]), int(gs.end[g])
        scores = gs.sorted_score[s0:e0]
        cum = gs.cum_w[s0:e0 + 1] - gs.cum_w[s0]  # cum[i] = weight of the i lowest scores
        b = np.concatenate(([-np.inf], np.sort(post[g]), [np.inf]))
        lo = np.maximum(pre[:-1, None], b[None, :-1])  # tier = [lower, upper)
        hi = np.minimum(pre[1:, None], b[None, 1:])
        weight = cum[np.searchsorted(scores, hi, side="left")] - \
            cum[np.searchsorted(scores, lo, side="left")]
        out[g] = np.where(hi > lo, np.maximum(weight, 0.0), 0.0)
    return out


# ------------------------------------------------------------------------------ tables

def summary_rows(res: CorrectionResult, chosen: dict | None) -> list[dict]:
    """Per threshold (the study's Table 3): w, suggested w, thresholds before and after per
    group, fairness before/after (mean and SD over the assessment subsamples), the share of
    people on the other side of the threshold."""
    c = full_choice(res, chosen)
    best = suggested(res)
    a = res.assessment
    pre = res.pre_thresholds()
    post = res.post_thresholds()
    rows = []
    for t, name in enumerate(res.threshold_names()):
        wi = c[t]
        rows.append({
            "threshold": t, "name": name, "w_index": wi, "w": float(res.weights[wi]),
            "best_index": best[t], "best_w": float(res.weights[best[t]]), "is_best": wi == best[t],
            "pre": float(pre[t]), "post": [float(post[wi, t, g]) for g in range(len(res.group_names))],
            "fair_pre": float(a["fairness_pre_mean"][t]), "fair_pre_sd": float(a["fairness_pre_sd"][t]),
            "fair_post": float(a["fairness_post_mean"][wi, t]),
            "fair_post_sd": float(a["fairness_post_sd"][wi, t]),
            "changed": float(a["changed_mean"][wi, t]), "changed_sd": float(a["changed_sd"][wi, t]),
            "changed_tiers": float(a["changed_tiers:mean"][wi]),
            "degenerate": list(res.degenerate[wi][t]) if res.degenerate else [],
            "best_usable": next((b.get("usable", True) for b in res.best if b["threshold"] == t), True),
            "bounds": res.bound_marks(wi, t),
        })
    return rows


def degenerate_mask(res: CorrectionResult, t: int) -> np.ndarray:
    """(W,) True where the solution at threshold t is degenerate (never suggested)."""
    return np.array([res.is_degenerate(wi, t) for wi in range(len(res.weights))], dtype=bool)


BOUND_WORDS = {"lowest": "at the lowest score", "highest": "at the highest score",
               "above highest": "above the highest score: nobody flagged",
               "below lowest": "below the lowest score: nobody flagged"}


@dataclass
class BeforeAfter:
    pre: float
    pre_sd: float
    post: float
    post_sd: float


def rate_rows(res: CorrectionResult, chosen: dict | None, t: int) -> dict[str, list[BeforeAfter]]:
    """Rates per group (and overall, last) before and after at threshold t and its chosen w
    (the study's Tables 2 and 4): rate key -> [group 0, …, group G−1, overall]."""
    wi = full_choice(res, chosen)[t]
    a = res.assessment
    out = {}
    for r in ASSESS_RATES:
        cells = [BeforeAfter(float(a[f"pre:rate:{r}:mean"][g, t]), float(a[f"pre:rate:{r}:sd"][g, t]),
                             float(a[f"post:rate:{r}:mean"][g, wi, t]),
                             float(a[f"post:rate:{r}:sd"][g, wi, t]))
                 for g in range(len(res.group_names))]
        cells.append(BeforeAfter(float(a[f"pre:overall:{r}:mean"][t]), float(a[f"pre:overall:{r}:sd"][t]),
                                 float(a[f"post:overall:{r}:mean"][wi, t]),
                                 float(a[f"post:overall:{r}:sd"][wi, t])))
        out[r] = cells
    return out


def measure_rows(res: CorrectionResult, chosen: dict | None, t: int) -> list[tuple[str, int, BeforeAfter]]:
    """The nine measures before and after at threshold t and its chosen w (Table 9):
    (definition key, tier or −1, values). CAL has one row per tier; its "after" is at the
    same w for every threshold (the chosen w of threshold t), as the engine assesses it."""
    wi = full_choice(res, chosen)[t]
    a = res.assessment
    out = []
    for key in THRESHOLD_DEFINITIONS:
        out.append((key, -1, BeforeAfter(float(a[f"pre:{key}:mean"][t]), float(a[f"pre:{key}:sd"][t]),
                                         float(a[f"post:{key}:mean"][wi, t]),
                                         float(a[f"post:{key}:sd"][wi, t]))))
    for j in range(res.k + 1):
        out.append(("CAL", j, BeforeAfter(float(a["pre:CAL:mean"][j]), float(a["pre:CAL:sd"][j]),
                                          float(a["post:CAL:mean"][wi, j]),
                                          float(a["post:CAL:sd"][wi, j]))))
    return out


# ------------------------------------------------------------------------------ figures

@dataclass
class Gain:
    pre: np.ndarray  # (I,) fairness at Φ on each correction subsample
    post: np.ndarray  # (I,) 1 − objective at w on the same subsample
    at_phi: np.ndarray  # (I,) 1 − objective at Φ (no correction) on the same subsample
    pre_label: str
    post_label: str
    note: str


def subsample_gain(res: CorrectionResult, t: int, wi: int) -> Gain:
    """Per correction subsample, what the optimizer saw: the fairness at Φ and 1 − objective
    at the corrected thresholds. Neither is an out-of-sample figure (those are the
    assessment's means and SDs); the subsample rows themselves are not kept.

    1 − objective = (1 − w)·F(θ) + w·(1 − Δ): the post fairness F(θ) itself only at w = 0.
    For CAL the objective sums 1 − CAL over the k + 1 tiers, so 1 − objective ÷ (k + 1) is
    shown against the mean CAL over tiers at Φ (an undefined tier counting 0, as in the
    objective).
    """
    w = float(res.weights[wi])
    d = res.settings.definition
    if d == "CAL":
        k1 = res.k + 1
        f = np.where(np.isnan(res.fairness_pre_sub), 0.0, res.fairness_pre_sub)
        pre = f.mean(axis=1)
        post = 1.0 - res.objective[:, wi, 0] / k1
        at_phi = 1.0 - (1.0 - w) * (1.0 - pre)
        return Gain(pre, post, at_phi, "Mean CAL over tiers at Φ (before)",
                    f"1 − objective ÷ {k1} at w = {_w(w)} (after)",
                    f"Per correction subsample (in-sample). Objective = (1 − w)·Σ tiers (1 − CAL) "
                    f"+ w·Δ, Δ = share of people whose tier changes; at w = 0 the orange values "
                    f"are the mean CAL after correction.")
    pre = res.fairness_pre_sub[:, t].astype(float)
    post = 1.0 - res.objective[:, wi, t]
    at_phi = 1.0 - (1.0 - w) * (1.0 - np.where(np.isnan(pre), 0.0, pre))
    return Gain(pre, post, at_phi, f"{d} at Φ (before)", f"1 − objective at w = {_w(w)} (after)",
                "Per correction subsample (in-sample). 1 − objective = (1 − w)·F + w·(1 − Δ), "
                "F = fairness after correction, Δ = share of people on the other side of the "
                "threshold: equal to F itself only at w = 0.")


def strip_sample(group: np.ndarray, n_groups: int, max_points: int = STRIP_POINTS,
                 seed: int = 0) -> np.ndarray:
    """Row positions (sorted) of at most ``max_points`` rows for a strip plot: every row when
    there are few, otherwise a seeded random sample that shares the points evenly between
    groups (a small group keeps all its rows; the rest is split among the larger ones)."""
    group = np.asarray(group, dtype=np.int64)
    n = group.size
    if n <= max_points:
        return np.arange(n)
    counts = np.bincount(group, minlength=n_groups)
    quota = np.zeros(n_groups, dtype=np.int64)
    remaining = max_points
    order_g = np.argsort(counts, kind="stable")
    for i, g in enumerate(order_g):  # water-filling, smallest group first
        share = remaining // (n_groups - i)
        quota[g] = min(counts[g], share)
        remaining -= quota[g]
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    keys = rng.random(n)
    order = np.lexsort((keys, group))
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    rank = np.arange(n) - starts[group[order]]
    return np.sort(order[rank < quota[group[order]]])


def jitter(n: int, width: float = 0.36, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    return rng.uniform(-width, width, n)


# ------------------------------------------------------------------------------ applying, exporting

MODE_TEXT = {"unit": "one random row per id", "bootstrap": "bootstrap"}


def chosen_ws(res: CorrectionResult, chosen: dict | None) -> list[float]:
    """The chosen w of every threshold."""
    c = full_choice(res, chosen)
    return [float(res.weights[c[t]]) for t in range(res.k)]


def applied_rule(res: CorrectionResult, chosen: dict | None, run_settings: dict | None) -> dict:
    """The rule recorded with thresholds applied from the correction (projects, Tiers page:
    it names the group-agnostic rules the correction started from)."""
    s = res.settings
    return {"kind": "correction", "definition": s.definition, "w": chosen_ws(res, chosen),
            "thresholds": res.threshold_names(), "rules": [dict(r) for r in s.rules],
            "weights": [run_settings["weights"][k] for k in ("start", "stop", "step")]
            if run_settings else None,
            "subsamples": int(res.theta.shape[0]), "audit_subsamples": s.audit_subsamples,
            "subsampling": res.mode, "seed": s.seed}


def result_status(res: CorrectionResult, seconds: float) -> str:
    from ..metrics.fairness import DEFINITIONS

    s = res.settings
    return (f"Results: {s.definition} ({DEFINITIONS[s.definition].name}), "
            f"{len(res.weights):,} weights, {res.theta.shape[0]:,} subsamples "
            f"({MODE_TEXT.get(res.mode, res.mode)}), {s.audit_subsamples:,} for the "
            f"assessment, seed {s.seed}; {seconds:.0f} s.")


def export_settings(res: CorrectionResult, chosen: dict | None, run_settings: dict | None) -> dict:
    """The settings the workbook's About sheet lists for this result."""
    from ..metrics.fairness import DEFINITIONS

    s = res.settings
    c = full_choice(res, chosen)
    best = suggested(res)
    w = (run_settings or {}).get("weights") or {}
    out = {"Fairness definition": f"{s.definition} ({DEFINITIONS[s.definition].name})",
           "Group-agnostic thresholds": "; ".join(res.threshold_names()),
           "Penalty weights w": (f"{_w(w['start'])} to {_w(w['stop'])}, step {_w(w['step'])} "
                                 f"({len(res.weights):,} values)") if w else
           f"{len(res.weights):,} values from {_w(res.weights.min())} to {_w(res.weights.max())}",
           "Correction subsamples (I)": int(res.theta.shape[0]),
           "Assessment subsamples (J)": int(s.audit_subsamples),
           "Subsampling": MODE_TEXT.get(res.mode, res.mode),
           "Seed": int(s.seed)}
    for t, name in enumerate(res.threshold_names()):
        w_t = float(res.weights[c[t]])
        out[f"Chosen w, {name}"] = (f"{_w(w_t)} (suggested)" if c[t] == best[t] else
                                    f"{_w(w_t)} (suggested {_w(res.weights[best[t]])})")
    return out


def choice_from_ws(res: CorrectionResult, ws) -> dict[int, int]:
    """The suggested choice, with each threshold's w taken from ``ws`` (saved w values, e.g.
    from a project) where the grid has that w."""
    chosen = suggested(res)
    for t, w in enumerate(list(ws or [])[:res.k]):
        hits = np.flatnonzero(np.abs(res.weights - float(w)) < 1e-9) if w is not None else []
        if len(hits):
            chosen[t] = int(hits[0])
    return chosen


def nearest_w(res: CorrectionResult, w: float) -> int:
    """Index of the computed weight nearest ``w``."""
    return int(np.argmin(np.abs(res.weights - float(w))))


def w_tag(res: CorrectionResult, t: int, wi: int, w_text) -> str:
    """What the chosen w of threshold t is: suggested, or which w is, or degenerate."""
    best = suggested(res)[t]
    tag = "suggested" if wi == best else f"suggested {w_text(res.weights[best])}"
    if not next((b.get("usable", True) for b in res.best if b["threshold"] == t), True):
        return "no suggestion: every w is degenerate"
    return f"degenerate; {tag}" if res.is_degenerate(wi, t) else tag


def scenario_values(res: CorrectionResult, chosen: dict | None, group_names) -> dict:
    """Group name -> its sorted corrected thresholds (a Decision-table scenario's values)."""
    values = np.asarray(chosen_thresholds(res, chosen), dtype=float).reshape(len(group_names), -1)
    return {g: sorted(float(v) for v in values[i]) for i, g in enumerate(group_names)}


def rules_for_run(data, which: str, threshold_rules) -> list[dict]:
    """The group-agnostic rules to correct, lowest risk first: the study's three ("oregon")
    or those of the Tiers page ("tiers"; FairDeskError when they are not rules)."""
    if which == "tiers":
        rules = usable_rules(threshold_rules)
        if rules is None:
            raise FairDeskError("The Tiers page's thresholds are not made by rules the "
                                "correction can recompute on each subsample (for example "
                                "thresholds typed per group). Choose rules on the Tiers page "
                                "and press Apply, or use the study's three thresholds.")
    else:
        from ..engines.threshold_correction import OREGON_RULES
        rules = [dict(r) for r in OREGON_RULES]
    return order_rules(data, rules)


def settings_changed(now: dict, run: dict | None) -> bool:
    """True when the page's settings differ from those of the run (the chosen w's aside)."""
    def comparable(s):
        return {k: v for k, v in s.items() if k not in ("chosen_w", "same_w")}
    return run is not None and comparable(now) != comparable(run)


def chosen_transitions(res: CorrectionResult, chosen: dict, scores) -> np.ndarray:
    """The (G, k+1, k+1) transitions at the chosen w's: the engine's own matrix when every
    threshold takes one w it kept, else from ``scores()`` (a GroupScores of the data)."""
    ws = set(chosen.values())
    if len(ws) == 1 and next(iter(ws)) in res.transitions:
        return res.transitions[next(iter(ws))]
    return transitions_from_scores(scores(), res, chosen)


def add_transitions(res: CorrectionResult, chosen: dict, scores) -> None:
    """Keep in ``res.transitions`` the matrix at every chosen w (the workbook lists each;
    the engine keeps the suggested ones)."""
    for wi in set(full_choice(res, chosen).values()):
        if wi not in res.transitions:
            res.transitions[wi] = transitions_from_scores(scores(), res,
                                                          {t: wi for t in range(res.k)})


def scenario(res: CorrectionResult, chosen: dict | None, group_names, w_text):
    """The corrected thresholds at the chosen w's as a Decision-table scenario."""
    from ..scenarios import Scenario

    ws = chosen_ws(res, chosen)
    return Scenario(
        f"{res.settings.definition} correction (w = {', '.join(w_text(w) for w in ws)})",
        "group_thresholds", {"values": scenario_values(res, chosen, group_names)},
        {"engine": "Error-rate balance", "definition": res.settings.definition, "w": ws,
         "subsamples": int(res.theta.shape[0]), "seed": res.settings.seed})
