"""Validate a loaded table against a column mapping and build :class:`AnalysisData`.

Every problem becomes a :class:`Problem` naming the column, how many rows, the first row
numbers as the user sees them, and what to do. Blocking problems raise
:class:`~fairdesk.errors.ValidationError` carrying all of them at once, so the analyst can
fix everything in one pass.
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd

from .dataset import AnalysisData, Exclusion, Problem
from .errors import ValidationError
from .schema import ColumnMapping, assumed_positive, infer_positive_label

MISSING_GROUP = "(missing)"
GROUP_JOIN = ", "
# Separators for the name of an intersection (race × sex), the first that no value holds.
GROUP_JOINS = (", ", " × ", " | ", " / ")
# Past this size a score or weight cannot be trusted: floats stop telling integers apart
# at 2**53, and sums or means of such values lose digits or overflow.
MAX_EXACT = 2.0 ** 53
# "Leave them out" is for the odd bad cell: more than this share of rows is a question.
MAX_SILENT_EXCLUSION = 0.01
_LEFT_OUT = "They are left out of the analysis; fix the cells to include them."
# Words that mark a totals row rather than a person.
TOTAL_WORDS = {"all", "total", "totals", "grand total", "sum", "overall", "all groups"}
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


def prepare(frame: pd.DataFrame, mapping: ColumnMapping, *, invalid_scores: str = "auto",
            min_group_size: int = 30, require_label: bool = True) -> AnalysisData:
    """Check ``frame`` against ``mapping`` and return the rows to analyse.

    ``invalid_scores`` says what happens to rows whose score or label is missing, not a
    number or infinite:

    * "auto" (default): they are left out and listed when they are the odd bad cell; the
      analysis stops instead (an error that says why and what to do) when they are more
      than 1 % of the rows, when leaving them out removes a whole group, or when they do
      not look like a random share: their cells hold numbers FairDesk could not read
      (a misread, not a gap), or their outcome rate differs clearly from the rest.
    * "exclude": always left out and listed (the analyst has accepted it).
    * "refuse": any such row is an error.

    Raises ValidationError listing every blocking problem.
    """
    if invalid_scores not in ("auto", "exclude", "refuse"):
        raise ValueError("invalid_scores must be 'auto', 'exclude' or 'refuse'")
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
             ("split", mapping.split), ("period", mapping.period)] \
        + [("group", g) for g in mapping.groups] \
        + [("score version", v) for v in mapping.versions] + [("extra", e) for e in mapping.extras]
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

    for note in frame.attrs.get("fairdesk_notes", []):
        out.add("warning", "data_note", note)
    _special_cells(frame, mapping, out)
    if out.errors:
        raise ValidationError(out.problems)

    exclude = np.zeros(n_input, dtype=bool)
    excluded_text = np.zeros(n_input, dtype=bool)  # cells that held text, not nothing

    def invalid(mask, code, what, column):
        if not mask.any():
            return
        n_bad = int(mask.sum())
        if invalid_scores in ("exclude", "auto"):
            out.add("warning", code, f"Column '{column}': {n_bad:,} row(s) {what} "
                    f"({rows_text(user_rows[np.flatnonzero(mask)[:MAX_ROWS_SHOWN]], n_bad)}). "
                    + _LEFT_OUT,
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
    excluded_text |= not_number
    huge = np.isfinite(score) & (np.abs(score) >= MAX_EXACT)
    if raw.dtype.kind in "iu":
        huge |= np.abs(raw.to_numpy().astype(np.float64)) >= MAX_EXACT
    if huge.any():
        n_bad = int(huge.sum())
        out.add("error", "score_too_large",
                f"Column '{mapping.score}': {n_bad:,} score(s) are too large to compute with "
                f"exactly (at least {MAX_EXACT:,.0f} in size, e.g. "
                f"{shown(raw[huge].iloc[0])}; {rows_text(user_rows[np.flatnonzero(huge)], n_bad)}). "
                "Beyond that, different scores become equal and sums or thresholds overflow. "
                "Check the column (is it an id?) or rescale the scores.",
                column=mapping.score, mask=huge)
        raise ValidationError(out.problems)

    versions = {v: _version_scores(frame, v, invalid, out, user_rows) for v in mapping.versions}
    if out.errors:
        raise ValidationError(out.problems)

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
                        positive = assumed_positive(values)
                        out.add("warning", "positive_assumed",
                                f"Column '{mapping.label}' holds {shown(values[0])} and "
                                f"{shown(values[1])}, neither of which is a conventional "
                                f"positive outcome, so FairDesk took {shown(positive)} as the "
                                "positive outcome (the rule: the larger number, or the later "
                                "text in alphabetical order). If it is the other value, choose "
                                "it as the positive outcome (window: Data page; command line: "
                                "--positive).", column=mapping.label)
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
        big = weight >= MAX_EXACT
        with np.errstate(over="ignore"):
            total = float(weight[~exclude].sum())
        if big.any() or not np.isfinite(total) or total >= MAX_EXACT:
            mask = big if big.any() else weight >= np.sort(weight)[-min(5, len(weight))]
            out.add("error", "weight_too_large",
                    f"Column '{mapping.weight}': the weights are too large to add up exactly "
                    f"(the total would be {total:,.4g} people; "
                    f"{rows_text(user_rows[np.flatnonzero(mask)], int(mask.sum()))}). "
                    "Frequency weights count people; check that the column is the weight and "
                    "not an amount or an id.", column=mapping.weight, mask=mask)
        if not out.errors and total <= 0:
            out.add("error", "weight_zero", f"Column '{mapping.weight}': every weight is zero, "
                    "so there is nothing to analyse.", column=mapping.weight)
        zero = (weight == 0) & ~exclude
        if not out.errors and zero.any():
            out.add("warning", "weight_some_zero",
                    f"Column '{mapping.weight}': {int(zero.sum()):,} row(s) have weight 0 "
                    f"({rows_text(user_rows[np.flatnonzero(zero)], int(zero.sum()))}); they count "
                    "as nobody in every rate.", column=mapping.weight, mask=zero)

    periods = None
    if mapping.period:
        from .periods import read_periods

        periods = read_periods(frame[mapping.period], mapping.period_bucket)
        invalid(periods.missing, "period_missing", "have no period (empty cell)", mapping.period)
        invalid(periods.unreadable, "period_unreadable",
                f"have a period that is not a date, where the column holds dates "
                f"({periods.how})", mapping.period)
        if periods.note:
            out.add("warning", "period_ambiguous", f"Column '{mapping.period}': {periods.note}",
                    column=mapping.period)

    if out.errors:
        raise ValidationError(out.problems)
    keep = ~exclude
    if invalid_scores == "auto" and exclude.any():
        _question_exclusion(frame, mapping, exclude, excluded_text, label, out)
        if out.errors:  # the rows are not left out after all: say so in their entries
            for p in out.problems:
                if p.severity == "warning" and p.message.endswith(_LEFT_OUT):
                    p.severity = "error"
                    p.message = p.message[:-len(_LEFT_OUT)] + "Fix these cells."
            raise ValidationError(out.problems)
    if not keep.any():
        out.add("error", "nothing_left", "No rows are left after leaving out the rows above. "
                "Check the score and outcome columns.")
        raise ValidationError(out.problems)

    # --- groups ---------------------------------------------------------------------------
    codes, names = _group_codes(frame, mapping, out)
    _flag_total_rows(frame, mapping, codes, names, score, out)
    source_names = list(names)
    codes, names = _apply_merges(codes, names, resolve_merges(mapping.group_merges, names))
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
        n_input_rows=n_input, exclusions=out.exclusions, problems=out.problems,
        source_group_names=source_names)
    for role in ("id", "household", "split"):
        col = getattr(mapping, role)
        if col:
            setattr(data, {"id": "ids", "household": "households", "split": "split"}[role],
                    frame[col].to_numpy()[keep])
    for col in mapping.extras:
        data.extras[col] = frame[col].to_numpy()[keep]
    data.versions = {v: s[keep] for v, s in versions.items()}
    if periods is not None:  # periods that only had excluded rows disappear, like groups
        kept = periods.codes[keep]
        used = np.unique(kept)
        remap = np.full(len(periods.names), -1, dtype=np.int32)
        remap[used] = np.arange(used.size, dtype=np.int32)
        data.period = remap[kept]
        data.period_names = [periods.names[i] for i in used]
        data.period_how = periods.how
    _group_warnings(data, out, min_group_size)
    return data


def _version_scores(frame, column: str, invalid, out, user_rows) -> np.ndarray:
    """Another score column (a version of the model), read as the score is: its gaps are
    left out (and listed) like the score's, text in it is an error naming the rows."""
    raw = frame[column]
    if pd.api.types.is_bool_dtype(raw):
        raw = raw.astype(float)
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    missing = raw.isna().to_numpy()
    not_number = np.isnan(values) & ~missing
    present = int((~missing).sum())
    if present and not_number.sum() > 0.5 * present:
        examples = raw[not_number].astype(str).unique()[:3].tolist()
        out.add("error", "version_not_numeric",
                f"Column '{column}' (a score version) does not hold numeric scores: "
                f"{int(not_number.sum()):,} of {present:,} values are text (e.g. "
                f"{', '.join(shown(e) for e in examples)}; "
                f"{rows_text(user_rows[np.flatnonzero(not_number)[:MAX_ROWS_SHOWN]], int(not_number.sum()))}). "
                "Map it as a score version only if it holds a model's scores.",
                column=column, mask=not_number)
        return values
    invalid(missing, "version_missing", "have no score in this version (empty cell)", column)
    invalid(not_number, "version_not_numeric", "have a score that is not a number", column)
    invalid(np.isinf(values), "version_infinite", "have an infinite score", column)
    huge = np.isfinite(values) & (np.abs(values) >= MAX_EXACT)
    if huge.any():
        out.add("error", "version_too_large",
                f"Column '{column}': {int(huge.sum()):,} score(s) are too large to compute with "
                f"exactly ({rows_text(user_rows[np.flatnonzero(huge)], int(huge.sum()))}). "
                "Check the column or rescale the scores.", column=column, mask=huge)
    return values


def _group_codes(frame, mapping, out):
    """Integer group codes; several group columns give their Cartesian product.

    Values are trimmed of surrounding spaces (reported). Empty cells form a group of
    their own, whose name never equals a value in the data (a group literally called
    '(missing)' or 'NA' stays itself). The names of an intersection are joined with the
    first separator that no value contains, so two combinations never share a name.
    """
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
        # Factorize the raw values (fast), then name the few distinct values: names are
        # shown as written in the data, and numbers like 1.0 read as "1".
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        raw_names = [_group_text(u) for u in uniques]
        names = [nm.strip() for nm in raw_names]
        blank = np.array([nm == "" for nm in names], dtype=bool)
        if blank.any():  # a cell of spaces only is an empty cell
            miss = miss | (np.isin(codes, np.flatnonzero(blank)))
        trimmed = [i for i, (a_, b_) in enumerate(zip(raw_names, names)) if a_ != b_ and b_]
        if trimmed:
            hit = np.isin(codes, trimmed)
            out.add("warning", "group_trimmed",
                    f"Column '{col}': {int(hit.sum()):,} value(s) had spaces before or after "
                    f"them (e.g. {shown(raw_names[trimmed[0]])}); the spaces were removed, so "
                    f"they count as {shown(names[trimmed[0]])}.", column=col, mask=hit)
        missing_name = MISSING_GROUP
        while missing_name in names:
            missing_name = "(" + missing_name + ")"
        if miss.any():
            out.add("warning", "group_missing",
                    f"Column '{col}': {int(miss.sum()):,} row(s) have no group "
                    f"({rows_text(out.rows[np.flatnonzero(miss)[:MAX_ROWS_SHOWN]], int(miss.sum()))}); "
                    f"they form a group of their own, '{missing_name}'.", column=col, mask=miss)
            codes = np.where(miss, len(names), codes)
            names = names + [missing_name]
        # Distinct raw values may share a name (1 and "1"): merge them, and sort by name.
        sorted_names = sorted(set(nm for i, nm in enumerate(names) if not (i < len(blank) and blank[i])))
        lookup = np.array([sorted_names.index(nm) if nm in sorted_names else -1 for nm in names],
                          dtype=np.int64)
        per_col_codes.append(lookup[codes] if len(names) else codes.astype(np.int64))
        per_col_names.append(sorted_names)
        _variant_warnings(col, sorted_names, out)
    if len(per_col_codes) == 1:
        return per_col_codes[0], per_col_names[0]
    join = next((j for j in GROUP_JOINS
                 if not any(j in nm for names_ in per_col_names for nm in names_)), None)
    if join is None:
        out.add("error", "group_names_ambiguous",
                "The group columns " + ", ".join(f"'{c}'" for c in mapping.groups) + " hold "
                "values containing every separator FairDesk can join names with (', ', ' × ', "
                "' | ', ' / '), so the combined group names could be confused. Recode the values "
                "without these characters, or map one group column.")
        raise ValidationError(out.problems)
    if join != GROUP_JOIN:
        out.add("warning", "group_join",
                f"Some group values contain ', ', so combined groups are named with '{join}' "
                f"between the columns (e.g. {shown(join.join(n_[0] for n_ in per_col_names))}).")
    dims = tuple(len(n_) for n_ in per_col_names)
    flat = np.ravel_multi_index(tuple(per_col_codes), dims)
    used, codes = np.unique(flat, return_inverse=True)
    parts = np.unravel_index(used, dims)
    names = [join.join(per_col_names[j][parts[j][i]] for j in range(len(dims)))
             for i in range(used.size)]
    return codes.astype(np.int64), names


def _group_key(name: str) -> str:
    """How a group name reads to a person: Unicode-normalised, case-folded, one space."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def _mojibake_fixed(name: str) -> str | None:
    """The text a UTF-8 name decoded as cp1252/latin-1 was meant to be ('RÃ©union')."""
    for codec in ("cp1252", "latin-1"):
        try:
            fixed = name.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if fixed != name:
            return fixed
    return None


def _variant_warnings(col: str, names: list[str], out) -> None:
    """Values that differ only in case, Unicode form or encoding: suggest merging them."""
    by_key: dict[str, list[str]] = {}
    for nm in names:
        by_key.setdefault(_group_key(nm), []).append(nm)
    for variants in by_key.values():
        if len(variants) > 1:
            out.add("warning", "group_variants",
                    f"Column '{col}': the values {', '.join(shown(v) for v in variants)} differ "
                    "only in letter case, spacing or accents' encoding, so they form separate "
                    f"groups. If they are the same group, merge them (e.g. --merge "
                    f"\"{variants[1]}={variants[0]}\").", column=col)
    present = set(names)
    for nm in names:
        fixed = _mojibake_fixed(nm)
        if fixed is not None and fixed in present:
            out.add("warning", "group_mojibake",
                    f"Column '{col}': {shown(nm)} looks like {shown(fixed)} read in the wrong "
                    "text encoding (some rows were saved in another encoding). Merge them "
                    f"(--merge \"{nm}={fixed}\"), or save the file again as CSV UTF-8.",
                    column=col)


def _group_text(value) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def resolve_merges(merges: dict, names: list[str]) -> dict:
    """Merges as given (GROUP -> INTO), checked and followed to their end.

    A group that does not exist is an error (a typo would otherwise merge nothing).
    Chains resolve (A=B, B=C gives A and B into C); a cycle (A=B, B=A) is an error.
    INTO may be a new name.
    """
    if not merges:
        return {}
    unknown = [g for g in merges if g not in names]
    if unknown:
        raise ValidationError([_problem(
            "merge_unknown",
            f"Cannot merge {', '.join(shown(g) for g in unknown)}: no such group. The groups "
            f"are {', '.join(shown(n) for n in names[:20])}{' …' if len(names) > 20 else ''}. "
            "Write the name exactly as shown (letter case and spaces count).")])
    resolved = {}
    for start in merges:
        seen, target = [start], merges[start]
        while target in merges and target != seen[-1]:
            if target in seen:
                cycle = " → ".join(seen + [target])
                raise ValidationError([_problem(
                    "merge_cycle",
                    f"The merges go round in a circle ({cycle}), so no group can be the one "
                    "kept. Merge each group into one group that is not itself merged.")])
            seen.append(target)
            target = merges[target]
        resolved[start] = target
    return resolved


def _problem(code: str, message: str) -> Problem:
    return Problem("error", code, message)


def _special_cells(frame, mapping, out) -> None:
    """Excel error values and formulas without a cached value in a mapped column."""
    from .io.sheet_parts import SpecialCell

    for col in dict.fromkeys(c for c in mapping.columns_used() if c in frame.columns):
        values = frame[col]
        if values.dtype != object:
            continue
        special = values.map(lambda v: isinstance(v, SpecialCell)).to_numpy(bool)
        if not special.any():
            continue
        kinds = values[special]
        formulas = kinds.map(lambda v: v.kind == "formula").to_numpy(bool)
        rows = out.rows[np.flatnonzero(special)]
        formula_mask = np.zeros(len(values), dtype=bool)
        formula_mask[np.flatnonzero(special)[formulas]] = True
        if formulas.any():
            n_f = int(formulas.sum())
            out.add("error", "formula_not_calculated",
                    f"Column '{col}': {n_f:,} cell(s) hold formulas that were never calculated "
                    f"({rows_text(rows[formulas], n_f)}), so the file has no values for them. "
                    "Open the file in Excel and save it (so the formulas are calculated), or "
                    "copy the column and paste it as values, then load it again.",
                    column=col, mask=formula_mask)
        if (~formulas).any():
            n_e = int((~formulas).sum())
            errors = sorted({str(v) for v in kinds[~formulas]})
            out.add("error", "excel_error_value",
                    f"Column '{col}': {n_e:,} cell(s) hold Excel error values "
                    f"({', '.join(errors[:4])}; {rows_text(rows[~formulas], n_e)}), which are "
                    "not data. Fix the formulas that give them in Excel (or clear those cells), "
                    "save, and load the file again.", column=col,
                    mask=special & ~formula_mask)


def _question_exclusion(frame, mapping, exclude, excluded_text, label, out) -> None:
    """Stop when leaving rows out would not be the odd bad cell (see prepare)."""
    n, n_out = len(exclude), int(exclude.sum())
    rows = rows_text(out.rows[np.flatnonzero(exclude)], n_out)
    how = ("Fix these cells; or, if these rows should be left out, choose to leave them out "
           "(window: Data page, 'Leave them out'; command line: --exclude-invalid).")
    reasons = []
    if n_out > MAX_SILENT_EXCLUSION * n:
        reasons.append(f"{n_out:,} of {n:,} rows ({n_out / n:.1%}) would be left out, more "
                       f"than {MAX_SILENT_EXCLUSION:.0%}")
    for col in mapping.groups:
        values = frame[col].astype("string").str.strip().fillna("")
        before = set(values[~exclude].unique())
        lost = sorted(set(values[exclude].unique()) - before)
        if lost:
            reasons.append(f"group{'s' if len(lost) > 1 else ''} "
                           f"{', '.join(shown(g) for g in lost[:5])} of column '{col}' would "
                           "disappear entirely")
    looks_numeric = excluded_text & exclude
    if mapping.score and looks_numeric.any():
        raw = frame[mapping.score].astype("string")[looks_numeric]
        numeric_like = raw.str.contains(r"\d", regex=True) & ~raw.str.contains(r"[A-Za-z]", regex=True)
        if bool(numeric_like.fillna(False).any()):
            example = raw[numeric_like.fillna(False)].iloc[0]
            reasons.append(f"some of the cells hold numbers FairDesk could not read (e.g. "
                           f"{shown(example)}), so the rows left out would not be a random "
                           "share")
    if label is not None and 20 <= n_out and n - n_out >= 20:
        p_out, p_in = label[exclude].mean(), label[~exclude].mean()
        pooled = label.mean()
        se = np.sqrt(pooled * (1 - pooled) * (1 / n_out + 1 / (n - n_out)))
        if se > 0 and abs(p_out - p_in) / se > 3.3:  # two-sided p < 0.001
            reasons.append(f"their outcome rate ({p_out:.1%}) differs clearly from the other "
                           f"rows' ({p_in:.1%}), so they are not a random share")
    if reasons:
        out.add("error", "exclusion_questioned",
                "Rows with a missing or unreadable score or outcome were found "
                f"({rows}), and leaving them out would change the analysis: "
                + "; ".join(reasons) + ". " + how, mask=exclude)


def _flag_total_rows(frame, mapping, codes, names, score, out) -> None:
    """Rows that look like a totals row pasted under the table (group 'All'/'Total')."""
    total = [i for i, nm in enumerate(names)
             if any(_group_key(part) in TOTAL_WORDS for part in nm.split(GROUP_JOIN))]
    if not total:
        return
    mask = np.isin(codes, total)
    if mask.sum() > 3:  # a real group called 'All' has many rows
        return
    finite = np.isfinite(score)
    others = finite & ~mask
    odd = mask & finite & others.any() & (
        (score > np.max(score[others], initial=-np.inf)) | (score < np.min(score[others], initial=np.inf)))
    hint = " and its score is outside the others' range" if odd.any() else ""
    out.add("warning", "total_row",
            f"{rows_text(out.rows[np.flatnonzero(mask)], int(mask.sum()))} "
            f"{'look' if mask.sum() > 1 else 'looks'} like a totals row (group "
            f"{shown(names[total[0]])}{hint}), not a person. Delete "
            f"{'them' if mask.sum() > 1 else 'it'} from the file if so.",
            column=mapping.groups[0] if mapping.groups else None, mask=mask)


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
            for small, target, why in suggest_merges(data, min_group_size):
                if small == item["group"]:
                    hint = f" FairDesk suggests merging it with '{cut(target)}' ({why})."
            out.add("warning", "group_small",
                    f"Group '{name}' has only {item['n']:,} rows (fewer than {min_group_size}); its "
                    f"rates are unreliable.{hint}")
    data.problems = out.problems


def _group_parts(data: AnalysisData) -> list[tuple[str, ...]] | None:
    """The attribute values of each group name when the groups are an intersection of
    several columns (None for one column, or when a name does not split cleanly)."""
    k = len(data.mapping.groups or [])
    if k < 2:
        return None
    for join in GROUP_JOINS:
        parts = [tuple(n.split(join)) for n in data.group_names]
        if all(len(p) == k for p in parts):
            return parts
    return None


def suggest_merges(data: AnalysisData, min_group_size: int = 30) -> list[tuple[str, str, str]]:
    """For each group under the minimum size, a group to merge it into, with the reason.

    One group column: the group of most similar prevalence (as the Oregon study merged small
    groups); without labels, the largest group. Intersections of several columns (e.g.
    race × sex): a group that shares the small group's first attribute ("Asian, Female" into
    "Asian, Male"), the one of most similar prevalence among those large enough; when no
    such group is large enough but the first attribute's groups together are, they are all
    merged into the largest of them; otherwise a large group sharing the other attributes
    ("Other, Female"); only then the most similar prevalence among all groups. Returns
    (small group, suggested partner, reason) triples; a small group never gets a partner that
    is itself merged away.
    """
    summary = data.group_summary()
    by_name = {s["group"]: s for s in summary}
    big = [s for s in summary if s["n"] >= min_group_size] or summary
    has_prev = data.label is not None

    def closest(s, candidates):
        if has_prev and not np.isnan(s.get("prevalence", np.nan)):
            return min(candidates, key=lambda b: abs(b["prevalence"] - s["prevalence"]))
        return max(candidates, key=lambda b: b["n"])

    def prev_text(s, p):
        if has_prev and not np.isnan(s.get("prevalence", np.nan)):
            return f"prevalence {s['prevalence']:.3f} vs {p['prevalence']:.3f}"
        return "the largest such group"

    parts = _group_parts(data)
    part_of = dict(zip(data.group_names, parts)) if parts else {}
    out = []
    for s in summary:
        if s["n"] >= min_group_size:
            continue
        others = [b for b in big if b["group"] != s["group"]]
        if not others:
            continue
        if parts:
            first = part_of[s["group"]][0]
            family = [by_name[n] for n, p in part_of.items() if p[0] == first]
            family_big = [b for b in family if b["n"] >= min_group_size and b["group"] != s["group"]]
            if family_big:
                partner = closest(s, family_big)
                out.append((s["group"], partner["group"],
                            f"shares '{first}'; {prev_text(s, partner)}"))
                continue
            total = sum(b["n"] for b in family)
            if len(family) > 1 and total >= min_group_size:
                target = max(family, key=lambda b: (b["n"], b["group"]))
                if target["group"] != s["group"]:
                    out.append((s["group"], target["group"],
                                f"shares '{first}'; the '{first}' groups together have {total:,} rows"))
                continue  # the largest of the family receives the others
            rest = part_of[s["group"]][1:]
            same_rest = [b for b in others if part_of[b["group"]][1:] == rest]
            if same_rest:
                partner = closest(s, same_rest)
                out.append((s["group"], partner["group"],
                            f"no '{first}' group is large enough, even together ({total:,} rows); "
                            f"shares '{', '.join(rest)}'; {prev_text(s, partner)}"))
                continue
        partner = closest(s, others)
        reason = (f"prevalence {s['prevalence']:.3f} vs {partner['prevalence']:.3f}"
                  if has_prev and not np.isnan(s.get("prevalence", np.nan)) else "largest group")
        if parts:
            reason = "no group shares an attribute and is large enough; " + reason
        out.append((s["group"], partner["group"], reason))
    return out
