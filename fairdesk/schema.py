"""Column mapping: which column plays which role, and an automatic proposal.

Roles: ``score`` (required), ``label`` (required except for prediction parity), ``groups``
(one or more columns, combined as their Cartesian product), ``id`` (unit id), ``household``,
``weight`` (frequency weight, may be fractional), ``split``, ``period`` (a date or an ordered
label: fairness over time), any number of ``versions`` (other score columns on the same rows:
versions of the model) and any number of ``extras``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

SINGLE_ROLES = ("score", "label", "id", "household", "weight", "split", "period")
ROLE_TITLES = {
    "score": "Score",
    "label": "Outcome (label)",
    "group": "Protected group",
    "id": "Person / unit id",
    "household": "Household id",
    "weight": "Frequency weight",
    "split": "Split",
    "period": "Period (date or order)",
    "version": "Score, another version",
    "extra": "Extra attribute",
    "ignore": "Ignore",
}

# Label values read as "the positive outcome" when the user has not chosen one.
POSITIVE_WORDS = ("1", "1.0", "true", "yes", "y", "positive", "pos", "t")

# Name hints per role, most specific first. Matching is on the lower-cased, normalised name.
_NAME_HINTS = {
    "score": (r"^score$", r"^risk_?score$", r"^decile_score$", r"^prob(ability)?$", r"^p_?hat$",
              r"^pred(icted)?_?(prob|score)?$", r"score$", r"^risk$", r"prob", r"^decile"),
    "label": (r"^label$", r"^outcome$", r"^y$", r"^target$", r"^two_year_recid$", r"^actual$",
              r"^observed$", r"recid$", r"^default(ed)?$", r"^repaid$", r"outcome", r"label"),
    "group": (r"^group$", r"^race$", r"^sex$", r"^gender$", r"^ethnicity$", r"^race_?ethnicity$",
              r"^protected", r"race", r"ethnic", r"gender"),
    "id": (r"^id$", r"^person_?id$", r"^client_?id$", r"^child_?id$", r"^case_?id$", r"_id$"),
    "household": (r"^household", r"^hh_?id$", r"^family_?id$", r"^referral_?id$", r"household"),
    "weight": (r"^weight$", r"^wt$", r"^freq(uency)?(_?weight)?$", r"weight"),
    "split": (r"^split$", r"^fold$", r"^partition$", r"^set$", r"^sample$"),
    "period": (r"^period$",),  # only an explicit name: a date column is often just a fact
}


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(name).strip().lower()).strip("_")


@dataclass
class ColumnMapping:
    """Which column has which role, and how to read the label and the score."""

    score: str | None = None
    label: str | None = None
    groups: list[str] = field(default_factory=list)
    id: str | None = None
    household: str | None = None
    weight: str | None = None
    split: str | None = None
    period: str | None = None
    period_bucket: str = "auto"  # dates by "month", "quarter", "year"; "label"; "auto"
    versions: list[str] = field(default_factory=list)  # other score columns (model versions)
    version_higher: dict[str, bool] = field(default_factory=dict)  # False: lower = riskier
    extras: list[str] = field(default_factory=list)
    positive_label: object | None = None  # value of the label column meaning "positive"; None = infer
    higher_is_positive: bool = True  # False: a lower score means more likely positive
    group_merges: dict[str, str] = field(default_factory=dict)  # group name -> merged name

    def role_of(self, column: str) -> str:
        for role in SINGLE_ROLES:
            if getattr(self, role) == column:
                return role
        if column in self.groups:
            return "group"
        if column in self.versions:
            return "version"
        if column in self.extras:
            return "extra"
        return "ignore"

    def set_role(self, column: str, role: str) -> None:
        """Give ``column`` a role, taking it away from whatever it had before."""
        self.clear_column(column)
        if role in SINGLE_ROLES:
            setattr(self, role, column)
        elif role == "group":
            self.groups.append(column)
        elif role == "version":
            self.versions.append(column)
        elif role == "extra":
            self.extras.append(column)
        elif role != "ignore":
            raise ValueError(f"unknown role {role!r}")

    def clear_column(self, column: str) -> None:
        for role in SINGLE_ROLES:
            if getattr(self, role) == column:
                setattr(self, role, None)
        self.groups = [c for c in self.groups if c != column]
        self.versions = [c for c in self.versions if c != column]
        self.version_higher.pop(column, None)
        self.extras = [c for c in self.extras if c != column]

    def columns_used(self) -> list[str]:
        cols = [getattr(self, r) for r in SINGLE_ROLES if getattr(self, r)]
        return cols + list(self.groups) + list(self.versions) + list(self.extras)

    def to_dict(self) -> dict:
        d = asdict(self)
        if isinstance(d["positive_label"], np.generic):
            d["positive_label"] = d["positive_label"].item()
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "ColumnMapping":
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        m = cls(**known)
        m.groups = list(m.groups or [])
        m.extras = list(m.extras or [])
        m.group_merges = dict(m.group_merges or {})
        m.versions = list(m.versions or [])
        m.version_higher = dict(m.version_higher or {})
        return m


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _mostly_numeric(series: pd.Series) -> bool:
    if _is_numeric(series):
        return True
    present = series.dropna()
    if len(present) == 0 or pd.api.types.is_bool_dtype(series):
        return False
    return pd.to_numeric(present, errors="coerce").notna().mean() > 0.5


def _name_rank(name: str, role: str) -> int | None:
    n = _norm(name)
    for rank, pattern in enumerate(_NAME_HINTS[role]):
        if re.search(pattern, n):
            return rank
    return None


def propose_mapping(frame: pd.DataFrame, sample_rows: int = 20000) -> ColumnMapping:
    """Propose a mapping from column names and values; the user confirms or changes it.

    Only a sample of rows is inspected so that this stays instant on large files.
    """
    sample = frame.head(sample_rows)
    mapping = ColumnMapping()
    taken: set[str] = set()
    nunique = {c: sample[c].nunique(dropna=True) for c in sample.columns}

    def best(role: str, accept) -> str | None:
        ranked = []
        for col in sample.columns:
            if col in taken:
                continue
            rank = _name_rank(col, role)
            if rank is not None and accept(col):
                ranked.append((rank, list(sample.columns).index(col), col))
        if not ranked:
            return None
        ranked.sort()
        return ranked[0][2]

    def is_binary(col):
        return nunique[col] == 2

    def is_score(col):
        # a score column with the odd bad cell ('high') is still the score column:
        # validation then names that cell
        return _mostly_numeric(sample[col]) and nunique[col] > 2

    # The label first: a 2-valued column named like an outcome.
    label = best("label", is_binary)
    if label:
        mapping.label = label
        taken.add(label)
    score = best("score", is_score)
    if score is None:  # fall back on the numeric column with most distinct values in [0, 1]
        candidates = [c for c in sample.columns if c not in taken and is_score(c)]
        probs = [c for c in candidates if _is_numeric(sample[c])
                 and sample[c].min() >= 0 and sample[c].max() <= 1]
        if probs:
            score = max(probs, key=lambda c: nunique[c])
    if score:
        mapping.score = score
        taken.add(score)
    if mapping.label is None:  # any 2-valued column then
        for col in sample.columns:
            if col not in taken and is_binary(col) and _name_rank(col, "group") is None:
                mapping.label = col
                taken.add(col)
                break
    for role in ("weight", "household", "id", "split", "period"):
        if role == "weight":
            col = best(role, lambda c: _is_numeric(sample[c]))
        elif role in ("id", "household"):
            col = best(role, lambda c: nunique[c] > 1)
        elif role == "period":
            col = best(role, lambda c: nunique[c] > 1)
        else:
            col = best(role, lambda c: 1 < nunique[c] <= 10)
        if col:
            setattr(mapping, role, col)
            taken.add(col)
    # Groups: named like a protected attribute, few distinct values.
    for col in sample.columns:
        if col in taken:
            continue
        if _name_rank(col, "group") is not None and 1 < nunique[col] <= 50:
            mapping.groups.append(col)
            taken.add(col)
    if not mapping.groups:  # a low-cardinality text column is the best guess
        for col in sample.columns:
            if col not in taken and not _is_numeric(sample[col]) and 1 < nunique[col] <= 20:
                mapping.groups.append(col)
                taken.add(col)
                break
    if mapping.label is not None:
        mapping.positive_label = infer_positive_label(sample[mapping.label].dropna().unique())
    return mapping


def infer_positive_label(values) -> object | None:
    """The value meaning "positive outcome", when convention says which.

    Conventional pairs: 0/1, false/true, no/yes, n/y, f/t, negative/positive (any case;
    1.0 counts as 1). For any other pair (1/2, 0/2, "A"/"B") there is no convention:
    None, and :func:`assumed_positive` gives the documented default, which FairDesk
    always states in a warning.
    """
    vals = list(values)
    texts = [_label_text(v) for v in vals]
    if len(vals) == 2 and set(texts) in _CONVENTIONAL:
        for v, t in zip(vals, texts):
            if t in POSITIVE_WORDS:
                return v.item() if isinstance(v, np.generic) else v
    if len(vals) == 1 and texts[0] in POSITIVE_WORDS:
        v = vals[0]
        return v.item() if isinstance(v, np.generic) else v
    return None


def assumed_positive(values):
    """The default positive outcome of a pair without a convention: the larger number,
    or the later text in alphabetical order (case-insensitive). Stated in a warning."""
    vals = list(values)
    if all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in vals):
        v = max(vals)
    else:
        v = sorted(vals, key=lambda x: (str(x).strip().casefold(), str(x)))[-1]
    return v.item() if isinstance(v, np.generic) else v


_CONVENTIONAL = [{"0", "1"}, {"false", "true"}, {"no", "yes"}, {"n", "y"}, {"f", "t"},
                 {"negative", "positive"}, {"neg", "pos"}]


def _label_text(value) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    return str(value).strip().lower()

# What each role means, in the words of the Data page's tooltips.
ROLE_HELP = {
    "score": "The risk score the model gave each row: a number. One column only.",
    "label": "What actually happened (the observed outcome), with two values such as 1/0 or "
             "yes/no. One column only.",
    "group": "A protected attribute such as race or sex. Fairness is compared between its "
             "groups. Several group columns are combined (e.g. 'Group A, Female').",
    "id": "Identifies the person or unit on each row. At most one column.",
    "household": "Identifies the household or family, so related rows can be kept together. "
                 "At most one column.",
    "weight": "How many people each row stands for (a frequency weight of zero or more). "
              "At most one column; without it every row counts once.",
    "split": "Which sample a row belongs to, for example train / test. At most one column.",
    "period": "When the decision was made: a date (grouped by month, quarter or year) or an "
              "ordered label such as 2019 or wave 2. Fairness is then followed over time. "
              "At most one column.",
    "version": "Another score for the same rows, such as the next version of the model: the "
               "Over time page compares the versions group by group. Any number of columns.",
    "extra": "Kept with the data for breakdowns and exports; not used in the fairness measures.",
    "ignore": "Not used at all.",
}
