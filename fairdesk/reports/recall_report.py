"""Recall balancing results as workbook tables: the scenario table of the paper's Figure 4
(with its recall-by-group and counts-by-group charts), the per-group detail, precision@k and
recall@k, and the people on each scenario's list. No Qt."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..dataset import AnalysisData
from ..engines.recall_balance import DESCRIPTIONS, RecallResult
from ..errors import FairDeskError
from ..jobs import NO_JOB
from ..undefined import Undefined
from ..present.formats import people_decimals
from ..present.table import Cell
from ..present.table import ChartSpec, Column, Table
from .writers import write_csv

# short scenario titles for column headers and axis ticks (two lines / one line)
SHORT = {"top_k": "Top K", "expanded_equal": "Expanded\nequal",
         "expanded_proportional": "Expanded\nprop.", "current_equal": "Current\nequal",
         "current_proportional": "Current\nprop.", "recall_equal": "Equal\nrecall",
         "recall_proportional": "Prop.\nrecall"}

XLSX_MAX_ROWS = 1_048_575 - 3  # less the title and header rows
CURVE_ROWS = 400

TIPS = {
    "size": "People on the list (frequency weights count as people).",
    "recall": "Recall (true positive rate): the share of the group's people with the outcome "
              "who are on the list. TP / (TP + FN).",
    "precision": "Precision (positive predictive value): the share of the people on the list "
                 "who have the outcome. TP / (TP + FP).",
    "cost": "Precision given up against the plain top K: precision of the top K minus "
            "precision of this list (in percentage points; negative = a gain).",
    "same": "Precision of the plain top list with as many people as this one: the comparison "
            "for a list larger than K.",
    "threshold": "The score of the group's last person on the list, in the units of the score "
                 "column: the group-specific threshold the list implies.",
    "ties": "People of the group whose score equals the threshold but who are not on the list: "
            "tied scores are put in a random order fixed by the seed.",
    "target": "The recall the rule aimed at for the group.",
    "ratio": "Prevalence ratio: the group's prevalence divided by the reference group's. "
             "Under proportional recall, a group's recall target is this ratio times the "
             "reference group's recall.",
    "prevalence": "Prevalence: the share of the group's people who have the outcome.",
    "people": "People of the group on the list (frequency weights count as people).",
}


def _v(x, reason: str):
    x = float(x)
    return Undefined(reason) if math.isnan(x) else x


def _count_kind(res: RecallResult) -> tuple[str, int]:
    """Counts of people: whole where the weights are whole (or there are none)."""
    if not res.weighted:
        return "people", 0
    return "people", people_decimals(np.concatenate([res.people, res.positives,
                                                     [res.total_people]]))


def settings_text(res: RecallResult) -> dict:
    """The settings for the workbook's About sheet."""
    s = res.settings
    out = {"Target": f"list size K = {s.k:,.10g}" if s.mode == "k"
           else f"recall target {float(s.recall):.1%}",
           "Reference group (proportional)": res.group_names[res.reference],
           "Tie-break seed": int(s.seed),
           "Ties": "rows with equal scores are ranked in a random order fixed by the seed",
           "Weights": "frequency weights count as people; a row is taken whole"
           if res.weighted else "every row is one person"}
    if s.mode == "k" and res.k_requested is not None and res.k != res.k_requested:
        out["K used"] = f"{res.k:,.10g} (everyone)"
    return out


def scenario_table(res: RecallResult) -> Table:
    """The paper's Figure 4: one row per scenario, counts and recall by group, precision."""
    names = res.group_names
    kind, dec = _count_kind(res)
    rows = []
    for key, s in res.scenarios.items():
        row = {"scenario": s.title, "what": DESCRIPTIONS[key], "size": s.size, "rows": s.n_rows,
               "precision": _v(s.precision_all, "The list is empty (0/0)."),
               "cost": _v(s.precision_cost, "A precision is undefined (empty list)."),
               "same": _v(s.precision_same_size, "The list is empty (0/0)."),
               "recall_all": _v(s.recall_all, "No one has the outcome.")}
        for g, name in enumerate(names):
            row[f"n{g}"] = float(s.people[g])
            row[f"r{g}"] = _v(s.recall[g], f"Group '{name}' has no one with the positive outcome "
                                           "(0/0): left out of the balancing.")
        rows.append(row)
    cols = [Column("scenario", "Scenario"),
            Column("size", "List size", kind, dec, note=TIPS["size"])]
    if res.weighted:
        cols.append(Column("rows", "Rows", "int"))
    cols += [Column(f"n{g}", f"Count: {n}", kind, dec,
                    note=f"People of group {n} on the list.") for g, n in enumerate(names)]
    cols += [Column(f"r{g}", f"Recall: {n}", "percent", 1, note=TIPS["recall"])
             for g, n in enumerate(names)]
    cols += [Column("precision", "Precision", "percent", 1, note=TIPS["precision"]),
             Column("cost", "Precision cost vs top K", "difference", note=TIPS["cost"]),
             Column("same", "Top list of same size: precision", "percent", 1, note=TIPS["same"]),
             Column("recall_all", "Recall, all groups", "percent", 1, note=TIPS["recall"]),
             Column("what", "What the list is", width=60)]
    target = (f"K = {res.k:,.10g} people" if res.mode == "k"
              else f"recall target {float(res.settings.recall):.1%}")
    notes = [f"{res.total_people:,.10g} people in all; {target}; reference group "
             f"'{names[res.reference]}'; ties ranked at random with seed {res.settings.seed}."]
    notes += res.notes
    for s in res.scenarios.values():
        notes += [f"{s.title}: {n}" for n in s.notes]
    charts = [ChartSpec("bar", "Recall by group", "scenario", [f"r{g}" for g in range(len(names))],
                        y_title="recall", percent_axis=True),
              ChartSpec("bar", "Counts by group", "scenario", [f"n{g}" for g in range(len(names))],
                        y_title="people on the list")]
    return Table("Recall scenarios", cols, rows,
                 title="Recall balancing: list size, counts and recall by group, precision "
                       "(Rodolfa et al., Figure 4)", notes=notes, charts=charts)


def _detail_row(res: RecallResult, s, g: int | None) -> dict:
    """One group's row of a scenario (``g`` None: all groups together)."""
    names = res.group_names
    if g is None:
        total, pos = res.total_people, float(res.positives.sum())
        return {"scenario": s.title, "group": "All groups", "people": total, "positives": pos,
                "prevalence": _v(pos / total if total > 0 else math.nan, "There are no people."),
                "ratio": None, "target": None, "selected": float(s.size), "rows": int(s.n_rows),
                "tp": float(s.tp.sum()),
                "recall": _v(s.recall_all, "No one has the outcome (0/0)."),
                "precision": _v(s.precision_all, "The list is empty (0/0)."),
                "threshold": None, "ties": None, "_g": None}
    name = names[g]
    nobody = f"No one of group '{name}' is on the {s.title} list."
    return {
        "scenario": s.title, "group": name, "people": float(res.people[g]),
        "positives": float(res.positives[g]),
        "prevalence": _v(res.prevalence[g], f"Group '{name}' has no people."),
        "ratio": _v(res.ratio[g], f"Group '{name}' has no one with the outcome."),
        "target": _v(s.target[g], "This rule does not aim at a recall for this group (it is "
                                  "left out of the balancing, or the rule has no target)."),
        "selected": float(s.people[g]), "rows": int(s.rows[g]), "tp": float(s.tp[g]),
        "recall": _v(s.recall[g], f"Group '{name}' has no one with the positive outcome (0/0): "
                                  "it is left out of the balancing."),
        "precision": _v(s.precision[g], nobody + " (0/0)"),
        "threshold": _v(s.threshold[g], nobody), "ties": int(s.ties_left[g]), "_g": g}


def detail_table(res: RecallResult, keys=None, *, score_decimals: int = 4,
                 with_total: bool = False) -> Table:
    """Each scenario (or only ``keys``) group by group: target, recall, precision and the
    implied threshold. The window shows it for the policy examined, with an all-groups row."""
    names = res.group_names
    kind, dec = _count_kind(res)
    keys = list(res.scenarios) if keys is None else list(keys)
    rows = []
    for key in keys:
        s = res.scenarios[key]
        rows += [_detail_row(res, s, g) for g in range(len(names))]
        if with_total:
            rows.append(_detail_row(res, s, None))
    cols = [Column("scenario", "Scenario"), Column("group", "Group"),
            Column("people", "People in\ngroup", kind, dec),
            Column("positives", "With the\noutcome", kind, dec),
            Column("prevalence", "Prevalence", "rate", note=TIPS["prevalence"]),
            Column("ratio", f"Prevalence ratio\n(÷ {names[res.reference]})", "ratio",
                   note=TIPS["ratio"], undefined_reason="Not a group."),
            Column("target", "Target\nrecall", "rate", note=TIPS["target"]),
            Column("selected", "On the\nlist", kind, dec, note=TIPS["people"])]
    if res.weighted:
        cols.append(Column("rows", "Rows on\nthe list", "count"))
    cols += [Column("tp", "On the list with\nthe outcome", kind, dec),
             Column("recall", "Recall", "rate", note=TIPS["recall"]),
             Column("precision", "Precision", "rate", note=TIPS["precision"]),
             Column("threshold", "Implied\nthreshold", "score", score_decimals,
                    note=TIPS["threshold"], undefined_reason="Not a group."),
             Column("ties", "Tied at threshold,\nleft out", "count", note=TIPS["ties"],
                    undefined_reason="Not a group.")]
    return Table("Recall by group", cols, rows,
                 title="Each scenario by group: target, recall, precision and implied threshold",
                 notes=["The implied threshold is the score of the group's last person on the "
                        "list; people tied with that score are ranked in a random order fixed "
                        "by the seed."], label_key="group", swatch_key="_g")


def scenario_matrix(res: RecallResult, chosen: str | None = None) -> Table:
    """The paper's Figure 4 as the window shows it: one column per scenario, rows for the
    list as a whole, then each group's people on the list and its recall. The scenario
    ``chosen`` (the policy examined) is highlighted."""
    kind, dec = _count_kind(res)
    names = res.group_names
    keys = res.keys
    rows: list[dict] = [{"measure": Cell("All groups", bold=True, tip="Measures of the whole "
                                                                         "list"),
                         **{k: "" for k in keys}}]  # a heading row: no values

    def row(label, tip, values, value_kind=None, label_cell=None):
        r = {"measure": label_cell or Cell("    " + label, tip=tip)}
        for key, v in zip(keys, values):
            r[key] = Cell(v, value_kind, tip=tip, highlight=key == chosen) \
                if not isinstance(v, Cell) else v.with_(highlight=key == chosen)
        rows.append(r)

    scen = [res.scenarios[k] for k in keys]
    row("List size", TIPS["size"], [Cell(float(s.size), kind, dec,
                                         tip=f"{s.title}: people on the list.") for s in scen])
    if res.weighted:
        row("Rows", "Rows on the list (a row counts its weight in people).",
            [float(s.n_rows) for s in scen], "count")
    row("Precision", TIPS["precision"],
        [_v(s.precision_all, "The list is empty (0/0).") for s in scen], "rate")
    row("Cost vs top K", TIPS["cost"],
        [Cell("—", muted=True, tip="The plain top K is the comparison.") if s.key == "top_k"
         else Cell(_v(s.precision_cost, "A list is empty."), "difference",
                   tip=TIPS["cost"]) for s in scen])
    row("Recall", TIPS["recall"], [_v(s.recall_all, "No one has the outcome (0/0).")
                                   for s in scen], "rate")
    for g, name in enumerate(names):
        row(name, "", [Cell(float(s.people[g]), kind, dec,
                            tip=f"{s.title}: people of group {name} on the list.")
                       for s in scen],
            label_cell=Cell(name, bold=True, swatch=g,
                            tip=f"Group {name}: people on the list (this row) and recall (next)"))
        row("recall", TIPS["recall"],
            [_v(s.recall[g], f"Group '{name}' has no one with the outcome (0/0), so it is left "
                             "out of the balancing.") for s in scen], "rate",
            label_cell=Cell("    recall", muted=True, tip=TIPS["recall"]))
    cols = [Column("measure", "Group / measure")]
    cols += [Column(k, SHORT[k], "count", note=f"{res.scenarios[k].title}: "
                    f"{DESCRIPTIONS[k]}") for k in keys]
    return Table("Recall scenarios (window)", cols, rows, label_key="measure",
                 notes=["prop. = recall proportional to prevalence. Cost vs top K: precision "
                        "points given up against the plain top K."])


def curve_table(res: RecallResult) -> Table:
    c = res.curves
    names = res.group_names
    n = c["size"].shape[0]
    idx = np.unique(np.concatenate([np.linspace(0, n - 1, min(n, CURVE_ROWS)).round().astype(int),
                                    [c["k_index"]]])) if n else np.zeros(0, dtype=int)
    rows = []
    for i in idx:
        row = {"size": float(c["size"][i]), "is_k": "← K" if i == c["k_index"] else "",
               "precision_all": _v(c["precision_all"][i], "The list is empty."),
               "recall_all": _v(c["recall_all"][i], "No one has the outcome.")}
        for g, name in enumerate(names):
            row[f"r{g}"] = _v(c["recall"][g, i], f"Group '{name}' has no one with the outcome.")
            row[f"p{g}"] = _v(c["precision"][g, i], f"No one of group '{name}' is in the top list.")
        rows.append(row)
    kind, dec = _count_kind(res)
    cols = ([Column("size", "Top list size k", kind, dec), Column("is_k", "")]
            + [Column(f"r{g}", f"Recall@k: {n}", "percent", 1, note=TIPS["recall"])
               for g, n in enumerate(names)]
            + [Column(f"p{g}", f"Precision@k: {n}", "percent", 1, note=TIPS["precision"])
               for g, n in enumerate(names)]
            + [Column("precision_all", "Precision@k, all", "percent", 1),
               Column("recall_all", "Recall@k, all", "percent", 1)])
    charts = [ChartSpec("scatter", "Recall@k by group", "size", [f"r{g}" for g in range(len(names))],
                        x_title="people on the plain top list (k)", y_title="recall",
                        percent_axis=True),
              ChartSpec("scatter", "Precision@k by group", "size",
                        [f"p{g}" for g in range(len(names))],
                        x_title="people on the plain top list (k)", y_title="precision",
                        percent_axis=True)]
    return Table("Precision and recall at k", cols, rows,
                 title="Plain top-k list: recall and precision by group as k varies",
                 notes=[f"The row marked ← K is the chosen list size ({res.k:,.10g})."],
                 charts=charts)


def selection_frame(res: RecallResult, data: AnalysisData) -> tuple[list[Column], pd.DataFrame]:
    """Everyone on at least one scenario's list: rank, id (or spreadsheet row), group, score,
    outcome, and one 1/0 column per scenario."""
    masks = {key: res.selected_mask(key) for key in res.scenarios}
    anyone = np.zeros(data.n, dtype=bool)
    for m in masks.values():
        anyone |= m
    rank = res.ranked.ranks()
    pos = np.flatnonzero(anyone)
    pos = pos[np.argsort(rank[pos], kind="stable")]
    values = {"rank": rank[pos]}
    cols = [Column("rank", "Rank (1 = highest score)", "int",
                   note="Overall rank by score; tied scores in a random order fixed by the seed.")]
    if data.ids is not None:
        values["id"] = data.ids[pos]
        cols.append(Column("id", data.mapping.id or "Id"))
    values["row"] = data.row_numbers[pos]
    cols.append(Column("row", "Spreadsheet row", "int"))
    values["group"] = np.asarray(data.group_names, dtype=object)[data.group[pos]]
    cols.append(Column("group", "Group"))
    values["score"] = data.score[pos]
    cols.append(Column("score", data.mapping.score or "Score", "number"))
    values["outcome"] = data.label[pos].astype(int)
    cols.append(Column("outcome", "Outcome (1 = positive)", "int"))
    if data.weighted:
        values["weight"] = data.weight[pos]
        cols.append(Column("weight", "Weight", "number"))
    for key, m in masks.items():
        values[key] = m[pos].astype(int)
        cols.append(Column(key, res.scenarios[key].title, "int",
                           note=f"1 = on the {res.scenarios[key].title} list."))
    return cols, pd.DataFrame(values)


def selection_table(res: RecallResult, data: AnalysisData) -> Table:
    cols, frame = selection_frame(res, data)
    who = (f"the id column '{data.mapping.id}'" if data.ids is not None
           else "the spreadsheet row numbers (no id column is mapped)")
    if len(frame) > XLSX_MAX_ROWS:
        return Table("Recall lists", [Column("note", "Note", width=100)],
                     [{"note": f"{len(frame):,} people are on at least one list: more than an Excel "
                               "sheet holds. Export the lists as CSV (the page's “Export lists "
                               "(CSV)…” or the command line's --ids-out)."}],
                     title="People on each scenario's list")
    return Table("Recall lists", cols, frame,
                 title="People on each scenario's list (1 = on the list)",
                 notes=[f"People are identified by {who}.",
                        f"Tied scores are ranked in a random order fixed by seed "
                        f"{res.settings.seed}."])


def recall_tables(res: RecallResult, data: AnalysisData, *, lists: bool = True) -> list[Table]:
    tables = [scenario_table(res), detail_table(res, score_decimals=data.score_decimals),
              curve_table(res)]
    if lists:
        tables.append(selection_table(res, data))
    return tables


def write_selection_csv(path, res: RecallResult, data: AnalysisData, source_path=None, *,
                        job=NO_JOB) -> str:
    """The people on each scenario's list as CSV (worker function)."""
    job.progress(0.1, "Collecting the lists")
    cols, frame = selection_frame(res, data)
    job.progress(0.4, "Writing")
    try:
        written = write_csv(path, cols, frame, input_paths=[source_path] if source_path else [])
    except OSError as err:  # pragma: no cover - write_csv reports its own errors
        raise FairDeskError(f"Could not write {path}: {err}") from err
    job.progress(1.0, "Written")
    return str(written)
