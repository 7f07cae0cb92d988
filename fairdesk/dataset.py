"""The validated, analysis-ready data: plain numpy arrays, one entry per row used."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .schema import ColumnMapping


@dataclass
class Problem:
    """One validation finding, written for the analyst.

    ``severity`` is "error" (blocks the analysis) or "warning" (the analysis runs; read it).
    ``rows`` are the first offending row numbers as the user sees them in the spreadsheet.
    """

    severity: str
    code: str
    message: str
    column: str | None = None
    count: int = 0
    rows: list[int] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"severity": self.severity, "code": self.code, "message": self.message,
                "column": self.column, "count": self.count, "rows": list(self.rows)}


@dataclass
class Exclusion:
    """Rows left out of the analysis, and why."""

    reason: str
    column: str | None
    count: int
    rows: list[int]


@dataclass
class AnalysisData:
    """Rows that passed validation, as arrays aligned with each other.

    ``score`` is in the user's units; ``oriented`` is the score turned so that higher means
    more likely positive (the reverse of ``score`` when the mapping says lower = riskier).
    Predicted positive means ``oriented >= threshold`` in oriented units.
    """

    score: np.ndarray  # float64
    label: np.ndarray | None  # int8, 1 = positive outcome
    group: np.ndarray  # int32 codes into group_names
    group_names: list[str]
    weight: np.ndarray  # float64, ones when unweighted
    row_numbers: np.ndarray  # int64, spreadsheet row of each used row
    mapping: ColumnMapping
    weighted: bool = False
    ids: np.ndarray | None = None
    households: np.ndarray | None = None
    split: np.ndarray | None = None
    extras: dict[str, np.ndarray] = field(default_factory=dict)
    positive_label: object | None = None
    negative_label: object | None = None
    n_input_rows: int = 0
    exclusions: list[Exclusion] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    source_group_names: list[str] = field(default_factory=list)  # before any merge
    period: np.ndarray | None = None  # int32 codes into period_names (time order)
    period_names: list[str] = field(default_factory=list)
    period_how: str = ""  # how the period column was read, in words
    versions: dict[str, np.ndarray] = field(default_factory=dict)  # other scores, user units

    @property
    def n(self) -> int:
        return int(self.score.shape[0])

    @property
    def n_groups(self) -> int:
        return len(self.group_names)

    @property
    def n_excluded(self) -> int:
        return self.n_input_rows - self.n

    @property
    def sign(self) -> float:
        return 1.0 if self.mapping.higher_is_positive else -1.0

    @property
    def oriented(self) -> np.ndarray:
        return self.score if self.mapping.higher_is_positive else -self.score

    @property
    def score_decimals(self) -> int:
        """Decimals the scores are written with (0 for deciles, at most 4): every threshold
        in the score's units is shown with this many, on every page and in every export."""
        cached = self.__dict__.get("_score_decimals")
        if cached is None:
            from .present.formats import score_decimals
            cached = self.__dict__["_score_decimals"] = score_decimals(self.score)
        return cached

    @property
    def people_decimals(self) -> int:
        """0 when every count of people is whole (no weights, or whole weights), else 1."""
        if not self.weighted:
            return 0
        cached = self.__dict__.get("_people_decimals")
        if cached is None:
            from .present.formats import people_decimals
            cached = self.__dict__["_people_decimals"] = people_decimals(self.weight)
        return cached

    def version_oriented(self, name: str) -> np.ndarray:
        """Score column ``name`` (the score or a version) turned so higher = riskier."""
        if name == self.mapping.score:
            return self.oriented
        higher = self.mapping.version_higher.get(name, True)
        return self.versions[name] if higher else -self.versions[name]

    def to_oriented(self, thresholds):
        """User-unit thresholds to oriented units (and back: the map is its own inverse)."""
        return np.asarray(thresholds, dtype=float) * self.sign

    def subset(self, index: np.ndarray) -> "AnalysisData":
        """Rows ``index`` (positions or a boolean mask), e.g. a subsample or a bootstrap draw."""
        def take(a):
            return None if a is None else a[index]
        return AnalysisData(
            score=self.score[index], label=take(self.label), group=self.group[index],
            group_names=self.group_names, weight=self.weight[index],
            row_numbers=self.row_numbers[index], mapping=self.mapping, weighted=self.weighted,
            ids=take(self.ids), households=take(self.households), split=take(self.split),
            extras={k: v[index] for k, v in self.extras.items()},
            positive_label=self.positive_label, negative_label=self.negative_label,
            n_input_rows=self.n_input_rows, exclusions=self.exclusions, problems=self.problems,
            source_group_names=self.source_group_names, period=take(self.period),
            period_names=self.period_names, period_how=self.period_how,
            versions={k: v[index] for k, v in self.versions.items()})

    def group_summary(self) -> list[dict]:
        """Per group: rows, weight, positives (weighted) and prevalence."""
        rows = np.bincount(self.group, minlength=self.n_groups)
        weight = np.bincount(self.group, weights=self.weight, minlength=self.n_groups)
        if self.label is not None:
            positives = np.bincount(self.group, weights=self.weight * self.label,
                                    minlength=self.n_groups)
        out = []
        for g, name in enumerate(self.group_names):
            item = {"group": name, "n": int(rows[g]), "weight": float(weight[g])}
            if self.label is not None:
                pos = float(positives[g])
                item["positives"] = pos
                item["prevalence"] = pos / weight[g] if weight[g] > 0 else float("nan")
            out.append(item)
        return out
