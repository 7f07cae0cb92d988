"""The decision table described once: every scenario's measures, side by side, as a
:class:`~fairdesk.present.table.Table` for the window (compact: one value column per
scenario, its interval and SD beside it, a heading row per section) and for the meeting
workbook (a Section column, lower and upper bounds, SD and difference as numbers). Both come
from :func:`decision_table`, so a number reads the same on both surfaces. Also the tiers of
one scenario (:func:`tier_table`), the chart's points, how a difference is tinted, and the
Qt-free checks the Decision page makes on a scenario. No Qt.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
import textwrap

import numpy as np

from ..metrics.fairness import DEFINITIONS
from ..metrics.rates import RATES, undefined_reason
from ..present.formats import (format_difference, format_people, format_score, format_value,
                               is_missing)
from ..present.table import Cell, Column, Table
from ..scenarios import KINDS, Comparison, Scenario
from ..undefined import Undefined

__all__ = ["ComparisonCache", "DIRECTION", "FULL_TINT", "SECTION_TIPS", "X_AXES", "baseline_thresholds",
           "chart_points", "compared_columns", "decision_table", "export_settings", "flagged_tiers",
           "interval_note", "measure_label", "missing_points", "row_type", "rule_key", "rule_text",
           "same_context", "scenario_problem", "settings_key", "status_text", "tier_table", "tint",
           "unique_name", "verdict", "wrap_header"]

# the window's short names of the rates (the workbook, with room, gives RATES' full names)
SHORT_RATE = {"selection_rate": "Selection rate", "tpr": "TPR (recall)", "fpr": "FPR",
              "fnr": "FNR", "ppv": "PPV (precision)", "npv": "NPV", "accuracy": "Accuracy"}
SHORT_DEFINITION = {"CUAE": "Cond. use accuracy equality"}
SECTION_TIPS = {
    "rate": "Rates per group and overall. They are expected values: a randomised rule counts "
            "each row with its probability of a positive decision; nothing is drawn at random. "
            "A change of a rate is neither better nor worse in itself: it is tinted yellow.",
    "fairness": "The fairness measures: the smallest ratio (smaller ÷ larger) between two "
                "groups of the rate(s) each asks to be equal. 1 = balanced; higher is better.",
    "changed": "The share of people whose decision differs from the baseline's (for a "
               "randomised rule, the expected share). Lower = closer to the baseline.",
    "cost": "Expected cost per person: (FN cost × false negatives + FP cost × false "
            "positives) ÷ people. Lower is better.",
}
# differences that give the strongest tint: 10 percentage points, 0.2 of a ratio, 50 % of cost
FULL_TINT = {"rate": 0.10, "changed": 0.10, "fairness": 0.20, "cost": 0.50}
DIRECTION = {"rate": 0, "fairness": 1, "changed": -1, "cost": -1}  # +1: higher is better
DIFFERENCE_NOTE = ("Rates: difference in percentage points; ratios and costs: difference in "
                   "their own units.")
HEADER_WIDTH = 14  # characters per line of a scenario's column title (wrapped, never cut)


def row_type(section: str) -> str:
    """The kind of a decision-table row, from its section title."""
    s = section.lower()
    if s.startswith("fairness"):
        return "fairness"
    if s.startswith("decisions changed"):
        return "changed"
    if s.startswith("expected cost"):
        return "cost"
    return "rate"


def _kind(r: dict) -> tuple[str, int]:
    """Kind and decimals of a row's values: rates 44.6 %, ratios 0.812, costs 0.1234."""
    if r["kind"] == "percent":
        return "rate", 1
    return ("fixed", 4) if row_type(r["section"]) == "cost" else ("ratio", 3)


def _nan(x) -> bool:
    return x is None or (isinstance(x, (float, np.floating)) and math.isnan(x))


def tint(base: float, value: float, rtype: str) -> tuple[str, float] | None:
    """How ``value`` differs from the baseline's: ("better" | "worse" | "moved", strength
    0–1), or None (no difference, or undefined)."""
    if _nan(base) or _nan(value):
        return None
    d = float(value) - float(base)
    if abs(d) < 1e-9:
        return None
    if rtype == "cost":
        size = abs(d) / max(abs(float(base)), 1e-12) / FULL_TINT["cost"]
    else:
        size = abs(d) / FULL_TINT.get(rtype, 0.1)
    direction = DIRECTION.get(rtype, 0)
    word = "moved" if direction == 0 else "better" if direction * d > 0 else "worse"
    return word, min(size, 1.0)


def verdict(base: float, value: float, rtype: str) -> str:
    if _nan(base) or _nan(value):
        return ""
    if abs(value - base) < 1e-9:
        return "same as the baseline"
    direction = DIRECTION.get(rtype, 0)
    if direction == 0:
        return "a change of a rate: neither better nor worse in itself"
    return "better than the baseline" if direction * (value - base) > 0 else \
        "worse than the baseline"


def wrap_header(name: str, width: int = HEADER_WIDTH) -> str:
    """A scenario's name in full on as many lines as it needs (a wrapping header)."""
    return "\n".join(textwrap.wrap(name, width, break_long_words=True) or [name])


def measure_label(r: dict, comp: Comparison, compact: bool = True) -> tuple[str, str]:
    """The row's measure in words (short in the window) and its definition (tooltip)."""
    m, rtype = r["measure"], row_type(r["section"])
    if rtype == "rate" and m in RATES:
        info = RATES[m]
        label = SHORT_RATE.get(m, info.name) if compact else info.name
        return label, f"{info.name}: {info.definition}\nFormula: {info.formula}"
    if rtype == "fairness" and m in DEFINITIONS:
        d = DEFINITIONS[m]
        label = f"{m} — {SHORT_DEFINITION.get(m, d.name)}" if compact else f"{m} ({d.name})"
        return label, (f"{d.name} ({m}): {d.meaning}\nMeasured as the smallest ratio between "
                       "two groups; 1 = balanced.")
    if rtype == "changed":
        return "Decisions changed", SECTION_TIPS["changed"]
    if rtype == "cost":
        fn, fp = comp.cost_ratio
        return f"Cost per person ({fn:g}:{fp:g})", SECTION_TIPS["cost"]
    return str(m), ""


def row_undefined_reason(r: dict) -> str:
    """Why a value of row ``r`` can be undefined, in words."""
    rtype, g = row_type(r["section"]), r["group"]
    if rtype == "rate" and r["measure"] in RATES:
        if g == "Overall":
            return undefined_reason(r["measure"]).replace("the group", "all groups together")
        return undefined_reason(r["measure"], g)
    if rtype == "fairness":
        return "fewer than two groups have the rate(s) defined, so there is nothing to compare"
    if rtype == "changed":
        return f"group '{g}' has no people (weight 0)"
    return "0/0"


def interval_grid(comp: Comparison) -> list[list[tuple]]:
    """(lo, hi, method or reason) of every row and scenario (:meth:`Comparison.interval`),
    computed once per comparison."""
    grid = getattr(comp, "_interval_grid", None)
    if grid is None:
        grid = [[comp.interval(i, j) for j in range(len(comp.scenarios))]
                for i in range(len(comp.table_rows()))]
        comp._interval_grid = grid
    return grid


def _interval_text(lo, hi, kind: str, dec: int) -> str:
    if kind == "rate":
        return format_value((lo, hi), "interval", dec)
    return f"{format_value(lo, kind, dec)}–{format_value(hi, kind, dec)}"


def _value_tip(comp: Comparison, i: int, j: int, r: dict, label: str, rtype: str) -> str:
    """The tooltip of scenario ``j``'s value in row ``i``: where, interval, pair, baseline,
    difference and bootstrap."""
    kind, dec = _kind(r)
    v, base = r["values"][j], r["values"][0]
    s, boot = comp.scenarios[j], comp.bootstrap
    lines = [f"{s.name} — {label}" + (f", {r['group']}" if r["group"] else "")]
    if not _nan(v):
        lo, hi, how = interval_grid(comp)[i][j]
        lines.append(f"Value: {format_value(v, kind, dec)}")
        if _nan(lo) or _nan(hi):
            lines.append(how[:1].upper() + how[1:])
        else:
            lines.append(f"95 % interval: {_interval_text(lo, hi, kind, dec)} ({how})")
    det = (comp.metrics[j].details or {}).get(r["measure"]) if rtype == "fairness" else None
    if det is not None:
        lines.append(det.pair_text(comp.group_names) or det.undefined_reason)
        if det.excluded:
            lines.append("Left out: " + det.excluded_text(comp.group_names))
    if j > 0:
        lines.append(f"Baseline: {format_value(base, kind, dec)}")
        if not (_nan(v) or _nan(base)):
            lines.append(f"Difference: {_difference_text(v - base, kind, dec)} "
                         f"({verdict(base, v, rtype)})")
    if boot is not None:
        mean, sd = boot["mean"][i, j], boot["sd"][i, j]
        if _nan(mean):
            lines.append(f"Bootstrap: undefined in every one of {boot['resamples']:,} resamples")
        else:
            lines.append(f"Bootstrap mean ± SD: {format_value(mean, kind, dec)} ± "
                         f"{format_value(sd, kind, dec)} over {boot['resamples']:,} resamples "
                         f"(seed {comp.seed})")
    return "\n".join(lines)


def _difference_text(d: float, kind: str, dec: int) -> str:
    """A signed difference: rates in points (+3.2 pts), ratios and costs in their units."""
    if kind == "rate":
        return format_difference(d, dec)
    text = format_value(d, kind, dec)
    return "+" + text if d > 0 and text.strip("0.") else text


def _cell(value, kind: str, dec: int, reason: str, tip: str = ""):
    """A value in its row's kind; an undefined one is its reason (with the tip, if any)."""
    if _nan(value):
        return Cell(Undefined(reason), kind, dec, tip=tip) if tip else Undefined(reason)
    return Cell(float(value), kind, dec, tip=tip)


def _difference(v: float, base: float, kind: str, dec: int, tip: str = ""):
    if _nan(v) or _nan(base):
        return Undefined("undefined in one scenario")
    return Cell(v - base, "difference" if kind == "rate" else kind, dec, tip=tip)


def decision_table(comp: Comparison, *, compact: bool = False, by_group: bool = True,
                   intervals: bool = True, sd: bool = True, differences: bool = False) -> Table:
    """Every measure (rows), scenario by scenario (columns).

    ``compact=False`` (the workbook): Section, Measure, Group, then per scenario its value,
    95 % lower and upper bounds, SD (with a bootstrap) and difference from the baseline, then
    the pairs behind the fairness measures and the groups left out.

    ``compact=True`` (the window): a heading row per section, the measure named on the first
    row of its block; per scenario one value column (its difference from the baseline
    instead with ``differences``), its 95 % interval beside it (``intervals``) and its
    bootstrap SD (``sd``, with a bootstrap); a scenario's name in full in its (wrapping)
    header. Rows carry ``index`` (the row of :meth:`Comparison.table_rows`), ``type`` and
    ``tints`` (column key -> :func:`tint`) for the window.
    """
    boot = comp.bootstrap
    names = [s.name for s in comp.scenarios]
    groups = {n: g for g, n in enumerate(comp.group_names)}
    rows: list[dict] = []
    prev_section = prev_measure = None
    for i, r in enumerate(comp.table_rows()):
        if compact and not by_group and r["group"] in groups:
            continue
        rtype = row_type(r["section"])
        kind, dec = _kind(r)
        label, label_tip = measure_label(r, comp, compact)
        reason = row_undefined_reason(r)
        vals = r["values"]
        row: dict = {"index": i, "type": rtype, "tints": {}}
        if compact:
            if r["section"] != prev_section:
                rows.append({"measure": Cell(r["section"], "text", bold=True,
                                             tip=SECTION_TIPS.get(rtype, "")),
                             "heading": True, "type": rtype})
                prev_section, prev_measure = r["section"], None
            first = r["measure"] != prev_measure
            prev_measure = r["measure"]
            row["measure"] = Cell(label if first else "", "text", tip=label_tip)
            if r["group"] in groups:
                row["group"] = Cell(r["group"], "text", swatch=groups[r["group"]],
                                    tip=f"Group {r['group']}")
            elif r["group"] == "Overall":
                row["group"] = Cell("Overall", "text", bold=True, tip="All groups together")
            else:
                row["group"] = Cell("", "text")
        else:
            row.update(section=r["section"], measure=label, group=r["group"])
        for j, v in enumerate(vals):
            tip = _value_tip(comp, i, j, r, label, rtype) if compact else ""
            value = _cell(v, kind, dec, reason, tip)
            if compact and differences and j > 0 and not (_nan(v) or _nan(vals[0])):
                value = _difference(v, vals[0], kind, dec, tip)
            row[f"s{j}"] = value
            shade = tint(vals[0], v, rtype) if j else None
            if shade is not None:
                row["tints"][f"s{j}"] = shade
            lo, hi, how = interval_grid(comp)[i][j]
            if compact:
                row[f"ci{j}"] = _interval_cell(lo, hi, how, kind, dec, rtype, boot is not None, v)
            else:
                row[f"lo{j}"], row[f"hi{j}"] = _cell(lo, kind, dec, how), _cell(hi, kind, dec, how)
                if j:
                    row[f"d{j}"] = _difference(v, vals[0], kind, dec)
            if boot is not None:
                s_ = boot["sd"][i, j]
                row[f"sd{j}"] = _cell(s_, kind, dec, "defined in fewer than two resamples")
        if rtype == "fairness" and not compact:
            dets = [(m.details or {}).get(r["measure"]) for m in comp.metrics]
            row["pair"] = " | ".join(d.pair_text(comp.group_names) or d.undefined_reason
                                     for d in dets if d)
            row["left_out"] = " | ".join((d.excluded_text(comp.group_names) or "none")
                                         for d in dets if d)
        rows.append(row)
    notes = ["Rates are expected values: a randomised rule counts each row with its "
             "probability of a positive decision; nothing is drawn at random.",
             interval_note(comp), "Fairness measures compare " + comp.reliability.describe() + "."]
    if boot is not None:
        notes.append(f"SD: standard deviation over {boot['resamples']:,} bootstrap resamples "
                     f"(seed {comp.seed}).")
    if compact:
        cols = [Column("measure", "Measure"), Column("group", "Group")]
        for j, s in enumerate(comp.scenarios):
            tip = s.name + ": " + s.describe(comp.group_names) + (
                "\nThe baseline: every difference is measured from this column." if j == 0 else "")
            if s.origin.get("engine"):
                tip += f"\nFrom: {s.origin['engine']}"
            if s.notes:
                tip += f"\nNotes: {s.notes}"
            cols.append(Column(f"s{j}", wrap_header(s.name), "fixed", note=tip))
            if intervals:
                cols.append(Column(f"ci{j}", "95 %", "text",
                                   note=f"{s.name}: 95 % interval. " + interval_note(comp)))
            if sd and boot is not None:
                cols.append(Column(f"sd{j}", "SD", "fixed",
                                   note=f"{s.name}: bootstrap standard deviation"))
        for row in rows:  # heading rows: nothing in the value columns
            if row.get("heading"):
                row.update({c.key: Cell("", "text") for c in cols[1:]})
        return Table("Decision table", cols, rows, title="Every measure, scenario by scenario",
                     notes=notes, label_key="measure")
    cols = [Column("section", "Section"), Column("measure", "Measure"), Column("group", "Group")]
    for j, n in enumerate(names):
        cols.append(Column(f"s{j}", n, "fixed", 4))
        cols.append(Column(f"lo{j}", f"{n}: 95 % lower", "fixed", 4))
        cols.append(Column(f"hi{j}", f"{n}: 95 % upper", "fixed", 4))
        if boot is not None:
            cols.append(Column(f"sd{j}", f"{n} (SD)", "fixed", 4))
        if j:
            cols.append(Column(f"d{j}", f"{n} − baseline", "fixed", 4, note=DIFFERENCE_NOTE))
    cols += [Column("pair", "Fairness: pair behind the value (per scenario)", width=50),
             Column("left_out", "Fairness: groups left out (per scenario)", width=50)]
    for row in rows:  # what only the window uses
        for k in ("index", "type", "tints"):
            row.pop(k)
    return Table("Decision table", cols, rows, title="Every measure, scenario by scenario",
                 notes=notes)


def _interval_cell(lo, hi, how: str, kind: str, dec: int, rtype: str, boot: bool, v) -> Cell:
    """The window's interval beside a value: the pair, or why there is none."""
    if not (_nan(lo) or _nan(hi)):
        tip = f"95 % interval ({how})"
        if kind == "rate":
            return Cell((float(lo), float(hi)), "interval", dec, tip=tip)
        return Cell(_interval_text(lo, hi, kind, dec), "text", tip=tip)
    if _nan(v):
        return Cell("", "text")
    if rtype in ("rate", "fairness") or boot:
        return Cell("not estimated", "text", muted=True, tip=how[:1].upper() + how[1:])
    return Cell("", "text", tip=how[:1].upper() + how[1:])


def interval_note(comp: Comparison) -> str:
    b = comp.bootstrap
    rates = ("95 % intervals of rates: exact binomial (Clopper–Pearson) from the expected counts "
             "(weights count as people). ")
    if b is not None:
        return rates + (f"Fairness measures, changed decisions and cost: bootstrap percentile over "
                        f"{b['resamples']:,} resamples (seed {comp.seed}); every resample compares the "
                        "same groups as the figure.")
    return rates + ("Fairness measures need a bootstrap (give a number of resamples); without one "
                    "their interval is marked as not estimated.")


# ---------------------------------------------------------------------------- tiers
def flagged_tiers(s: Scenario, n_tiers: int) -> str:
    """Which tiers a scenario flags, in words."""
    if s.kind in ("thresholds", "group_thresholds"):
        j = int(s.params.get("decision", n_tiers - 2)) + 2
        return f"Flagged: S{j}." if j == n_tiers else f"Flagged: S{j} to S{n_tiers}."
    if s.kind == "selection":
        return "S1: not on the list; S2: on the list."
    if s.kind == "randomized":
        return "S3 flagged; S2 flagged at random with the group's probability p."
    return ""


def tier_table(comp: Comparison, i: int, *, weighted: bool = True,
               people_decimals: int = 0) -> Table:
    """Scenario ``i``'s people per tier and group (tier by tier), each group's share in the
    tier and the calibration of the tier. "People" appears only with frequency weights
    (otherwise it would repeat "Rows")."""
    s, m = comp.scenarios[i], comp.metrics[i]
    cal = np.atleast_1d(m.fairness["CAL"])
    rows = []
    for t in range(m.n_tiers):
        c = float(cal[t]) if t < cal.size else math.nan
        for g, gname in enumerate(comp.group_names):
            total = float(m.people[g].sum())
            share = float(m.people[g, t]) / total if total > 0 else math.nan
            row = {"tier": f"S{t + 1}", "group": gname, "g": g, "rows": float(m.rows[g, t]),
                   "people": float(m.people[g, t]),
                   "share": Undefined(f"group '{gname}' has no people") if _nan(share) else share}
            if g == 0:
                row["cal"] = Cell(Undefined("fewer than two groups have people in this tier")
                                  if _nan(c) else c, tip="" if _nan(c) else
                                  f"In tier S{t + 1}, the lowest outcome rate of a group is "
                                  f"{format_value(c, 'rate')} of the highest")
            else:
                row["cal"] = Cell("", "text")
            rows.append(row)
    cols = [Column("tier", "Tier", note="S1 is the lowest-risk tier (for a list: S1 not "
                   "selected, S2 selected; for a randomised rule: S2 is the band decided at "
                   "random)"),
            Column("group", "Group", note="The protected group"),
            Column("rows", "Rows", "count", note="Rows of the group in the tier (unweighted)")]
    if weighted:
        cols.append(Column("people", "People (weighted)", "people", people_decimals,
                           note="People of the group in the tier (sum of the weights)"))
    cols += [Column("share", "% of group", "rate", 1,
                    note="Share of the group's people who fall in the tier"),
             Column("cal", "CAL (tier)", "ratio", 3,
                    note="Calibration within the tier: the smallest ratio, smaller ÷ larger, of "
                         "two groups' outcome rates in the tier (1 = the tier means the same risk "
                         "for every group)")]
    origin = {k: v for k, v in s.origin.items() if k != "proposed"}
    notes = [f"From: {', '.join(f'{k}: {v}' for k, v in origin.items())}" if origin else "",
             f"Notes: {s.notes}" if s.notes else ""]
    return Table(f"{s.name} tiers", cols, rows,
                 title=f"{s.name}: {s.describe(comp.group_names)}",
                 notes=[n for n in notes if n], label_key="group", swatch_key="g")


# ---------------------------------------------------------------------------- scenarios
def rule_text(s: Scenario, score_decimals: int | None = None, group_names=None) -> str:
    """The rule in words, thresholds in the score's own decimals."""
    try:
        f = lambda v: format_score(v, score_decimals)  # noqa: E731
        if s.kind == "thresholds":
            return "thresholds " + ", ".join(f(v) for v in s.params["values"])
        if s.kind == "group_thresholds":
            return "per group: " + "; ".join(f"{g} " + ", ".join(f(v) for v in vs)
                                             for g, vs in s.params["values"].items())
        return s.describe(group_names)
    except (KeyError, TypeError, ValueError):
        return s.kind


def unique_name(name: str, used) -> str:
    """``name`` with its spaces tidied, numbered "(2)", "(3)" … while it is in ``used``."""
    name = " ".join(str(name).split())
    base, n = name, 2
    while name in used:
        name = f"{base} ({n})"
        n += 1
    return name


def baseline_thresholds(data, thresholds, group_specific: bool, rules, last=None) -> list[float]:
    """The baseline's group-agnostic thresholds: those in force; with group-specific
    thresholds, the group-agnostic rules they came with (when ``rules`` changed since
    ``last`` = (data, values, rules key), the last group-agnostic thresholds seen), else
    those last thresholds, else the default threshold."""
    from ..audit import default_threshold
    from ..errors import FairDeskError
    from ..metrics.thresholds import ThresholdRule

    if not group_specific:
        return [float(v) for v in np.sort(np.ravel(thresholds))]
    if data is None:
        return [0.5]
    last = last if last and last[0] is data else None
    if last is None or settings_key(rules or []) != last[2]:
        try:  # the rules came with these thresholds
            values = sorted(float(ThresholdRule.from_dict(r).resolve(data)) for r in rules or [])
            if values and all(math.isfinite(v) for v in values):
                return values
        except (FairDeskError, KeyError, TypeError, ValueError):
            pass
    if last is not None:
        return list(last[1])
    return [float(default_threshold(data)[0])]


def export_settings(data, comp: Comparison | None, scenarios, base: Scenario, cost_ratio,
                    chart: str, excluded: dict) -> dict:
    """The Decision page's settings as the workbook's About sheet lists them."""
    dec = data.score_decimals
    out = {"Cost ratio (FN:FP)": f"{cost_ratio[0]:g}:{cost_ratio[1]:g}",
           "Baseline": rule_text(base, dec), "Chart": chart,
           "Bootstrap": (f"{comp.bootstrap['resamples']:,} resamples, seed {comp.seed}"
                         if comp is not None and comp.bootstrap is not None else "off")}
    for s in scenarios:
        origin, seed = s.origin.get("engine", ""), s.origin.get("seed")
        out[f"Scenario {s.name}"] = (rule_text(s, dec) + (f" (from {origin})" if origin else "")
                                     + (f", seed {seed}" if seed is not None else ""))
    if excluded:
        out["Not compared"] = "; ".join(f"{k}: {v}" for k, v in excluded.items())
    return out


def _jsonable(o):
    return o.tolist() if hasattr(o, "tolist") else str(o)


def settings_key(value) -> str:
    """A stable text of JSON-like settings (numpy values included)."""
    return json.dumps(value, sort_keys=True, default=_jsonable)


def rule_key(s: Scenario) -> tuple:
    """What a scenario's numbers depend on (not its name or notes)."""
    return s.kind, settings_key(s.params)


def scenario_problem(s: Scenario, data) -> str | None:
    """Why ``s`` cannot be compared on ``data`` (None when it can). Cheap checks only."""
    try:
        p = s.params
        if s.kind not in KINDS:
            return f"its kind '{s.kind}' is unknown to this version of FairDesk"
        if s.kind == "thresholds":
            v = np.asarray(p["values"], dtype=float)
            if v.size == 0 or not np.all(np.isfinite(v)):
                return "it has no usable threshold"
        elif s.kind in ("group_thresholds", "randomized"):
            table = p["values"] if s.kind == "group_thresholds" else p["groups"]
            missing = [g for g in data.group_names if g not in table]
            if missing:
                return ("it has no rule for group(s) " + ", ".join(missing)
                        + " (the groups changed since it was added)")
            if s.kind == "group_thresholds":
                if len({len(table[g]) for g in data.group_names}) != 1:
                    return "its groups have different numbers of thresholds"
                v = np.asarray([table[g] for g in data.group_names], dtype=float)
                if v.size == 0 or not np.all(np.isfinite(v)):
                    return "it has no usable threshold"
        elif s.kind == "selection":
            np.asarray(p["rows"], dtype=np.int64)
        elif s.kind == "probabilities":
            module, func = p["engine"].split(":")
            if not callable(getattr(importlib.import_module(module), func, None)):
                return f"the engine function {p['engine']} is not available"
    except ImportError:
        return f"the engine {s.params.get('engine')} is not available in this version"
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        return f"its rule is incomplete ({type(err).__name__}: {err})"
    return None


def compared_columns(base: Scenario, scenarios, data):
    """The columns to compare: the baseline, then every scenario the data can use. Returns
    (scenarios, their rule keys, {name: why not compared}, {list row: column})."""
    cols, keys, excluded, col_of_row = [base], [rule_key(base)], {}, {0: 0}
    for i, s in enumerate(scenarios):
        problem = scenario_problem(s, data)
        if problem:
            excluded[s.name] = problem
            continue
        col_of_row[i + 1] = len(cols)
        cols.append(s)
        keys.append(rule_key(s))
    return cols, keys, excluded, col_of_row


def status_text(comp: Comparison | None, data) -> str:
    """'5 scenarios on 6,000 rows (6,646 people).'"""
    if comp is None or data is None:
        return ""
    n = len(comp.scenarios)
    who = f"{data.n:,} rows" + (f" ({format_people(float(data.weight.sum()), data.people_decimals)}"
                                " people)" if data.weighted else "")
    return f"{n} scenario{'s' * (n != 1)} on {who}."


# ---------------------------------------------------------------------------- chart
X_AXES = {"accuracy": "Accuracy (overall)", "changed": "Decisions changed vs baseline"}


def chart_points(comp: Comparison | None, key: str = "ERB", x_key: str = "accuracy") -> list[dict]:
    """The chart's points: name, x (%), y, and their bootstrap SDs (NaN without)."""
    if comp is None:
        return []
    boot = comp.bootstrap
    rows = comp.table_rows()

    def find(rtype, measure, group):
        return next((i for i, r in enumerate(rows) if row_type(r["section"]) == rtype
                     and r["measure"] == measure and r["group"] == group), None)
    ix = find("rate", "accuracy", "Overall") if x_key == "accuracy" else \
        find("changed", "changed", "Overall")
    iy = find("fairness", key, "")
    out = []
    for j, (s, m) in enumerate(zip(comp.scenarios, comp.metrics)):
        x = m.overall["accuracy"] if x_key == "accuracy" else m.changed_overall
        sx = sy = math.nan
        if boot is not None and ix is not None and iy is not None:
            sx, sy = float(boot["sd"][ix, j]), float(boot["sd"][iy, j])
        out.append({"name": s.name, "x": 100 * float(x), "y": float(m.fairness[key]),
                    "sx": 100 * sx, "sy": sy, "baseline": j == 0})
    return out


def missing_points(points: list[dict]) -> list[str]:
    return [p["name"] for p in points if is_missing(p["x"]) or is_missing(p["y"])]


# ---------------------------------------------------------------------------- the page's cache
def same_context(a, b) -> bool:
    """Two contexts (data, baseline key, cost ratio) name the same comparison."""
    return a is not None and b is not None and a[0] is b[0] and a[1:] == b[1:]


class ComparisonCache:
    """The last comparison computed (``full``, its columns' ``keys``, its ``ctx``) and the
    comparisons shown from it: renaming, reordering and deleting select columns (bootstrap
    included), since each column depends only on its own rule, the baseline, the data and
    the cost ratio."""

    def __init__(self):
        self.clear()

    def clear(self) -> None:
        self.full: Comparison | None = None
        self.keys: list = []
        self.ctx = None

    def view(self, cols, keys, ctx) -> Comparison | None:
        """Columns of the last comparison for these scenarios (None: compute again)."""
        full = self.full
        if full is None or not same_context(ctx, self.ctx):
            return None
        try:
            idx = [self.keys.index(k) for k in keys]
        except ValueError:
            return None
        metrics = [dataclasses.replace(full.metrics[i], name=c.name) for i, c in zip(idx, cols)]
        boot = None
        if full.bootstrap is not None:
            boot = {k: full.bootstrap[k][:, idx] for k in ("mean", "sd", "lo", "hi", "defined")}
            boot["resamples"] = full.bootstrap["resamples"]
        view = Comparison(list(cols), metrics, list(full.group_names), full.cost_ratio, boot,
                          full.seed, full.reliability)
        view._interval_grid = [[row[k] for k in idx] for row in interval_grid(full)]
        return view

    def store(self, comp: Comparison, keys, ctx) -> bool:
        """Keep ``comp``; True when it replaces a bootstrap by a comparison without one."""
        cleared = self.full is not None and self.full.bootstrap is not None and \
            comp.bootstrap is None
        self.full, self.keys, self.ctx = comp, list(keys), ctx
        return cleared

    def part(self, cols, keys, ctx, force: bool = False):
        """What to compute: the baseline and the scenarios the last comparison lacks (every
        scenario when forced or when the data, baseline or cost changed), and the
        comparison to merge the result into (None: nothing)."""
        if force or self.full is None or not same_context(ctx, self.ctx):
            return cols, keys, None
        part_cols, part_keys, seen = [cols[0]], [keys[0]], set(self.keys)
        for c, k in zip(cols[1:], keys[1:]):
            if k not in seen:
                seen.add(k)
                part_cols.append(c)
                part_keys.append(k)
        return part_cols, part_keys, (self.full, list(self.keys))

    @staticmethod
    def merged(base, part: Comparison, part_keys, wanted):
        """``part`` (baseline first) added to the comparison ``base`` = (comparison, keys);
        columns no longer wanted are dropped. A bootstrap cannot be merged: it is left out."""
        if base is None:
            return part, list(part_keys)
        full, full_keys = base
        keep = set(wanted)
        idx = [i for i, k in enumerate(full_keys) if i == 0 or k in keep]
        scen = [full.scenarios[i] for i in idx] + part.scenarios[1:]
        metrics = [full.metrics[i] for i in idx] + part.metrics[1:]
        keys = [full_keys[i] for i in idx] + list(part_keys[1:])
        return Comparison(scen, metrics, list(full.group_names), full.cost_ratio,
                          reliability=full.reliability), keys
