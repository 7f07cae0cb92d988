"""Validate a loaded table against a column mapping and build :class:`AnalysisData`.

Every problem becomes a :class:`Problem` naming the column, how many rows, the first row
numbers as the user sees them, and what to do. Blocking problems raise
:class:`~fairdesk.errors.ValidationError` carrying all of them at once, so the analyst can
fix everything in one pass.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .dataset import AnalysisData, Exclusion, Problem
from .errors import ValidationError
from .schema import ColumnMapping, infer_positive_label

MISSING_GROUP = "(missing)"
GROUP_JOIN = ", "
MAX_ROWS_SHOWN = 5
MAX_VALUE_CHARS = 60  # a value quoted in a message is cut after this many characters


def cut(text) -> str:
    """Text for a message, cut if very long (a 200,000-character cell stays readable)."""
    text = str(text)
    if len(text) <= MAX_VALUE_CHARS:
        return text
    return f"{text[:MAX_VALUE_CHARS]}… ({len(text):,} characters)"


def shown(value) -> str:
    """A cell value as quoted in a message: like repr, long text cut."""
    value = value.item() if isinstance(value, np.generic) else value
    return f"'{cut(value)}'" if isinstance(value, str) and len(value) > MAX_VALUE_CHARS \
        else repr(value)


def rows_text(rows, count: int | None = None) -> str:
    """'row 7' / 'rows 4, 9, 12, 20, 31 and 7 more'."""
    rows = [int(r) for r in rows]
    count = len(rows) if count is None else count
    shown = rows[:MAX_ROWS_SHOWN]
    if count == 1:
        return f"row {shown[0]}"
    text = "rows " + ", ".join(str(r) for r in shown)
    if count > len(shown):
        text += f" and {count - len(shown):,} more"
    return text


def _user_rows(frame: pd.DataFrame) -> np.ndarray:
    idx = frame.index
    if isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1:
        return np.arange(2, len(frame) + 2, dtype=np.int64)  # header is row 1
    return np.asarray(idx, dtype=np.int64)


def _same_value(a, b) -> bool:
    if a is None or b is None:
        return False
    if a == b:
        return True
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return str(a).strip().lower() == str(b).strip().lower()


class _Collector:
    def __init__(self, row_numbers: np.ndarray):
        self.rows = row_numbers
        self.problems: list[Problem] = []
        self.exclusions: list[Exclusion] = []

    def add(self, severity, code, message, column=None, mask=None):
        rows: list[int] = []
        count = 0
        if mask is not None:
            hit = np.flatnonzero(mask)
            count = int(hit.size)
            rows = self.rows[hit[:MAX_ROWS_SHOWN]].tolist()
        self.problems.append(Problem(severity, code, message, column, count, rows))

    @property
    def errors(self):
        return [p for p in self.problems if p.severity == "error"]


def prepare(frame: pd.DataFrame, mapping: ColumnMapping, *, invalid_scores: str = "exclude",
            min_group_size: int = 30, require_label: bool = True) -> AnalysisData:
    """Check ``frame`` against ``mapping`` and return the rows to analyse.

    ``invalid_scores``: "exclude" leaves out rows whose score or label is missing, not a
    number or infinite (and reports them); "refuse" makes those rows an error.
    Raises ValidationError listing every blocking problem.
    """
    if invalid_scores not in ("exclude", "refuse"):
        raise ValueError("invalid_scores must be 'exclude' or 'refuse'")
    user_rows = _user_rows(frame)
    out = _Collector(user_rows)
    n_input = len(frame)

    dup = frame.columns[frame.columns.duplicated()].unique().tolist()
    if dup:
        out.add("error", "duplicate_columns",
                "Column names must be unique, but " + ", ".join(f"'{d}'" for d in dup)
                + " appear more than once. Rename the columns in the spreadsheet and open it again.")
        raise ValidationError(out.problems)
    if n_input == 0:
        out.add("error", "no_rows", "The table has a header but no data rows. "
                "Check that you opened the right file and sheet.")
        raise ValidationError(out.problems)

    # --- the mapping itself -------------------------------------------------------------
    if not mapping.score:
        out.add("error", "score_unmapped", "No column is mapped as the score. "
                "Choose the column holding the risk score (role 'Score').")
    if require_label and not mapping.label:
        out.add("error", "label_unmapped", "No column is mapped as the outcome (label). "
                "Choose the column holding the observed outcome (role 'Outcome').")
    roles = [("score", mapping.score), ("label", mapping.label), ("id", mapping.id),
             ("household", mapping.household), ("weight", mapping.weight),
             ("split", mapping.split)] + [("group", g) for g in mapping.groups] \
        + [("extra", e) for e in mapping.extras]
    seen: dict[str, str] = {}
    for role, col in roles:
        if not col:
            continue
        if col not in frame.columns:
            out.add("error", "column_missing",
                    f"The {role} column '{col}' is not in this file (its columns are: "
                    + ", ".join(f"'{c}'" for c in list(frame.columns)[:20])
                    + "). Choose another column for this role.", column=col)
        elif col in seen and not (role == "extra" or seen[col] == "extra"):
            out.add("error", "column_twice",
                    f"Column '{col}' is mapped both as {seen[col]} and as {role}. "
                    "Give each column one role.", column=col)
        seen.setdefault(col, role)
    if out.errors:
        raise ValidationError(out.problems)

    exclude = np.zeros(n_input, dtype=bool)

    def invalid(mask, code, what, column):
        if not mask.any():
            return
        n_bad = int(mask.sum())
        if invalid_scores == "exclude":
            out.add("warning", code, f"Column '{column}': {n_bad:,} row(s) {what} "
                    f"({rows_text(user_rows[np.flatnonzero(mask)[:MAX_ROWS_SHOWN]], n_bad)}). "
                    "They are left out of the analysis; fix the cells to include them.",
                    column=column, mask=mask)
            out.exclusions.append(Exclusion(what, column, n_bad,
                                            user_rows[np.flatnonzero(mask)[:MAX_ROWS_SHOWN]].tolist()))
            exclude[:] |= mask
        else:
            out.add("error", code, f"Column '{column}': {n_bad:,} row(s) {what} "
                    f"({rows_text(user_rows[np.flatnonzero(mask)[:MAX_ROWS_SHOWN]], n_bad)}). "
                    "Fix these cells, or choose to exclude such rows.", column=column, mask=mask)

    # --- score ----------------------------------------------------------------------------
    raw = frame[mapping.score]
    if pd.api.types.is_bool_dtype(raw):
        raw = raw.astype(float)
    score = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    missing = raw.isna().to_numpy()
    not_number = np.isnan(score) & ~missing
    infinite = np.isinf(score)
    present = int((~missing).sum())
    if present and not_number.sum() > 0.5 * present:
        examples = raw[not_number].astype(str).unique()[:3].tolist()
        out.add("error", "score_not_numeric",
                f"Column '{mapping.score}' does not hold numeric scores: {int(not_number.sum()):,} of "
                f"{present:,} values are text (e.g. {', '.join(shown(e) for e in examples)}; "
                f"{rows_text(user_rows[np.flatnonzero(not_number)[:MAX_ROWS_SHOWN]], int(not_number.sum()))}). "
                "Choose the column with the model's score as the score.",
                column=mapping.score, mask=not_number)
        raise ValidationError(out.problems)
    invalid(missing, "score_missing", "have no score (empty cell)", mapping.score)
    invalid(not_number, "score_not_numeric", "have a score that is not a number", mapping.score)
    invalid(infinite, "score_infinite", "have an infinite score", mapping.score)

    # --- label ----------------------------------------------------------------------------
    label = None
    positive = negative = None
    if mapping.label:
        lab = frame[mapping.label]
        lmissing = lab.isna().to_numpy()
        invalid(lmissing, "label_missing", "have no outcome (empty cell)", mapping.label)
        counts = lab[~lmissing].value_counts()
        values = counts.index.tolist()
        if len(values) > 2:
            listed = ", ".join(f"{shown(v)} ({c:,} rows)" for v, c in counts.head(8).items())
            out.add("error", "label_values",
                    f"Column '{mapping.label}' must hold two outcome values, but it has {len(values)}: "
                    f"{listed}{' …' if len(values) > 8 else ''}. Choose the right outcome column, "
                    "or recode it to two values (for example 1 = event happened, 0 = did not).",
                    column=mapping.label)
        elif len(values) < 2:
            only = shown(values[0]) if values else "nothing"
            out.add("error", "label_one_value",
                    f"Column '{mapping.label}' holds only {only}: error rates need rows of both "
                    "outcomes. Check that you chose the outcome column and the whole file.",
                    column=mapping.label)
        else:
            positive = mapping.positive_label
            if positive is not None and not any(_same_value(v, positive) for v in values):
                out.add("error", "positive_label",
                        f"The positive outcome {shown(positive)} does not occur in column "
                        f"'{mapping.label}', whose values are {shown(values[0])} and {shown(values[1])}. "
                        "Choose one of these as the positive outcome.", column=mapping.label)
            else:
                if positive is None:
                    positive = infer_positive_label(values)
                    if positive is None:
                        positive = sorted(values, key=str)[-1]
                        out.add("warning", "positive_assumed",
                                f"FairDesk assumed {shown(positive)} is the positive outcome in column "
                                f"'{mapping.label}'. If it is the other value, change it in the label "
                                "mapping.", column=mapping.label)
                pos_value = next(v for v in values if _same_value(v, positive))
                negative = next(v for v in values if not _same_value(v, positive))
                positive = pos_value
                label = (lab == pos_value).to_numpy(dtype=np.int8)

    # --- weight ---------------------------------------------------------------------------
    weight = np.ones(n_input, dtype=float)
    if mapping.weight:
        wraw = frame[mapping.weight]
        w = pd.to_numeric(wraw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        wmiss = wraw.isna().to_numpy()
        wtext = np.isnan(w) & ~wmiss
        for mask, what in ((wmiss, "have no weight (empty cell)"),
                           (wtext, "have a weight that is not a number"),
                           (np.isinf(w), "have an infinite weight"),
                           (w < 0, "have a negative weight")):
            if mask.any():
                n_bad = int(mask.sum())
                out.add("error", "weight_invalid",
                        f"Column '{mapping.weight}': {n_bad:,} row(s) {what} "
                        f"({rows_text(user_rows[np.flatnonzero(mask)[:MAX_ROWS_SHOWN]], n_bad)}). "
                        "Frequency weights must be numbers of zero or more; fix these cells "
                        "or unmap the weight column.", column=mapping.weight, mask=mask)
        weight = np.nan_to_num(w, nan=0.0, posinf=0.0, neginf=0.0)
        if not out.errors and weight[~exclude].sum() <= 0:
            out.add("error", "weight_zero", f"Column '{mapping.weight}': every weight is zero, "
                    "so there is nothing to analyse.", column=mapping.weight)

    if out.errors:
        raise ValidationError(out.problems)
    keep = ~exclude
    if not keep.any():
        out.add("error", "nothing_left", "No rows are left after leaving out the rows above. "
                "Check the score and outcome columns.")
        raise ValidationError(out.problems)

    # --- groups ---------------------------------------------------------------------------
    codes, names = _group_codes(frame, mapping, out)
    codes, names = _apply_merges(codes, names, mapping.group_merges)
    codes = codes[keep]
    present_codes = np.unique(codes)  # groups that only had excluded rows disappear
    remap = np.full(len(names), -1, dtype=np.int32)
    remap[present_codes] = np.arange(present_codes.size, dtype=np.int32)
    codes = remap[codes]
    names = [names[i] for i in present_codes]

    data = AnalysisData(
        score=score[keep], label=None if label is None else label[keep], group=codes,
        group_names=names, weight=weight[keep], row_numbers=user_rows[keep], mapping=mapping,
        weighted=bool(mapping.weight), positive_label=positive, negative_label=negative,
        n_input_rows=n_input, exclusions=out.exclusions, problems=out.problems)
    for role in ("id", "household", "split"):
        col = getattr(mapping, role)
        if col:
            setattr(data, {"id": "ids", "household": "households", "split": "split"}[role],
                    frame[col].to_numpy()[keep])
    for col in mapping.extras:
        data.extras[col] = frame[col].to_numpy()[keep]
    _group_warnings(data, out, min_group_size)
    return data


def _group_codes(frame, mapping, out):
    """Integer group codes; several group columns give their Cartesian product."""
    n = len(frame)
    if not mapping.groups:
        out.add("warning", "no_groups", "No protected-group column is mapped, so every row is "
                "in one group and fairness measures cannot be computed. Map a group column "
                "(for example race or sex).")
        return np.zeros(n, dtype=np.int64), ["All rows"]
    per_col_codes = []
    per_col_names = []
    for col in mapping.groups:
        series = frame[col]
        miss = series.isna().to_numpy()
        if miss.any():
            out.add("warning", "group_missing",
                    f"Column '{col}': {int(miss.sum()):,} row(s) have no group "
                    f"({rows_text(out.rows[np.flatnonzero(miss)[:MAX_ROWS_SHOWN]], int(miss.sum()))}); "
                    f"they form a group of their own, '{MISSING_GROUP}'.", column=col, mask=miss)
        # Factorize the raw values (fast), then name the few distinct values: names are
        # shown as written in the data, and numbers like 1.0 read as "1".
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        names = [_group_text(u) for u in uniques]
        if miss.any():
            codes = np.where(codes < 0, len(names), codes)
            names.append(MISSING_GROUP)
        # Distinct raw values may share a name (1 and "1"): merge them, and sort by name.
        sorted_names = sorted(set(names))
        lookup = np.array([sorted_names.index(nm) for nm in names], dtype=np.int64)
        per_col_codes.append(lookup[codes] if len(names) else codes.astype(np.int64))
        per_col_names.append(sorted_names)
    if len(per_col_codes) == 1:
        return per_col_codes[0], per_col_names[0]
    dims = tuple(len(n_) for n_ in per_col_names)
    flat = np.ravel_multi_index(tuple(per_col_codes), dims)
    used, codes = np.unique(flat, return_inverse=True)
    parts = np.unravel_index(used, dims)
    names = [GROUP_JOIN.join(per_col_names[j][parts[j][i]] for j in range(len(dims)))
             for i in range(used.size)]
    return codes.astype(np.int64), names


def _group_text(value) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _apply_merges(codes, names, merges):
    if not merges:
        return codes, names
    merged = [merges.get(n, n) for n in names]
    new_names = sorted(set(merged))
    lookup = np.array([new_names.index(m) for m in merged], dtype=np.int64)
    return lookup[codes], new_names


def _group_warnings(data: AnalysisData, out: _Collector, min_group_size: int) -> None:
    summary = data.group_summary()
    columns = data.mapping.groups
    if columns and data.n_groups == 1:
        which = (f"Column '{columns[0]}' holds" if len(columns) == 1 else
                 "Columns " + ", ".join(f"'{c}'" for c in columns) + " together give")
        out.add("warning", "one_group",
                f"{which} one group only ('{cut(data.group_names[0])}') in the rows analysed, so "
                "there are no groups to compare and every fairness measure is undefined. Map a "
                "column with at least two groups (for example race or sex), or check that the "
                "whole file was loaded.", column=columns[0])
    for item in summary:
        name = cut(item["group"])
        if data.label is not None:
            pos = item["positives"]
            neg = item["weight"] - pos
            if pos <= 0:
                out.add("warning", "group_no_positives",
                        f"Group '{name}' has no rows with the positive outcome, so its TPR, FNR "
                        "and AUC are undefined (0/0) and it is left out of the measures that need "
                        "them. Consider merging it with a similar group.")
            if neg <= 0:
                out.add("warning", "group_no_negatives",
                        f"Group '{name}' has no rows with the negative outcome, so its FPR, TNR "
                        "and AUC are undefined (0/0) and it is left out of the measures that need "
                        "them. Consider merging it with a similar group.")
        if item["n"] < min_group_size:
            hint = ""
            for small, target, _ in suggest_merges(data, min_group_size):
                if small == item["group"]:
                    hint = (f" FairDesk suggests merging it with '{cut(target)}', the group of "
                            "most similar prevalence.")
            out.add("warning", "group_small",
                    f"Group '{name}' has only {item['n']:,} rows (fewer than {min_group_size}); its "
                    f"rates are unreliable.{hint}")
    data.problems = out.problems


def suggest_merges(data: AnalysisData, min_group_size: int = 30) -> list[tuple[str, str, str]]:
    """For each group under the minimum size: the group of most similar prevalence.

    The Oregon study merged small groups this way. Returns (small group, suggested partner,
    reason) triples; without labels, the partner is the largest group.
    """
    summary = data.group_summary()
    big = [s for s in summary if s["n"] >= min_group_size] or summary
    out = []
    for s in summary:
        if s["n"] >= min_group_size:
            continue
        others = [b for b in big if b["group"] != s["group"]]
        if not others:
            continue
        if data.label is not None and not np.isnan(s.get("prevalence", np.nan)):
            partner = min(others, key=lambda b: abs(b["prevalence"] - s["prevalence"]))
            reason = (f"prevalence {s['prevalence']:.3f} vs {partner['prevalence']:.3f}")
        else:
            partner = max(others, key=lambda b: b["n"])
            reason = "largest group"
        out.append((s["group"], partner["group"], reason))
    return out
