"""The application's shared state: the loaded table, the mapping, the validated data and
the current thresholds. Pages read it and listen to its signals; they never own data."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal

from ..audit import default_threshold
from ..dataset import AnalysisData, Problem
from ..errors import ValidationError
from ..io.loading import AmbiguousDecimalError, LoadedTable, load_table
from ..io.memory import check_fits
from ..metrics.confusion import GroupScores
from ..schema import ColumnMapping, propose_mapping
from ..validation import prepare


def load_and_propose(path, sheet=None, decimal=None, *, job):
    """Worker function: read a file and propose a mapping.

    A column whose numbers read two ways (``1.250``) is not an error of the application
    but a question for the analyst: the error itself is returned, and the window asks."""
    job.progress(0.02, f"Reading {path}")
    check_fits(path)
    try:
        table = load_table(path, sheet=sheet, cancel=job, decimal=decimal)
    except AmbiguousDecimalError as err:
        return err
    job.progress(0.8, "Proposing a column mapping")
    return table, propose_mapping(table.frame)


def validate_and_prepare(frame, mapping, invalid_scores, min_group_size, *, job):
    """Worker function: validate, then sort the scores per group once.

    Returns (data, scores, problems); data is None when validation found blocking
    problems, which the Data page then lists (they are not an error of the application).
    """
    job.progress(0.1, "Checking the data")
    try:
        data = prepare(frame, mapping, invalid_scores=invalid_scores, min_group_size=min_group_size)
    except ValidationError as err:
        return None, None, err.problems
    job.progress(0.6, "Sorting scores per group")
    return data, GroupScores.from_data(data), data.problems


class AppState(QObject):
    tableChanged = Signal()  # a new file was read (data not yet validated)
    dataChanged = Signal()  # validated data ready, or cleared (data is None)
    problemsChanged = Signal()
    thresholdsChanged = Signal()
    settingsChanged = Signal()
    scenariosChanged = Signal()
    validationRequested = Signal()  # a page changed the mapping: validate again
    openRequested = Signal()  # a page asks for the File ▸ Open dialog
    openPathRequested = Signal(str)  # a page asks to open this file (the sample, a recent one)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.table: LoadedTable | None = None
        self.mapping = ColumnMapping()
        self.invalid_scores = "auto"  # see validation.prepare
        self.min_group_size = 30
        self.data: AnalysisData | None = None
        self.scores: GroupScores | None = None
        self.problems: list[Problem] = []
        self.thresholds = np.array([0.5])  # user units; (k,) or (n_groups, k)
        self.group_specific = False
        self.threshold_rules: list[dict] = []  # how the thresholds were made, for projects
        self.settings: dict[str, dict] = {}  # page key -> settings
        self.seeds: dict[str, int] = {}
        self.project_path: str | None = None
        self.scenarios: list = []  # fairdesk.scenarios.Scenario, in the analyst's order
        self.recent_files = lambda: []  # the main window's list of recent files

    # --- loading ------------------------------------------------------------------------------
    def set_table(self, table: LoadedTable, mapping: ColumnMapping | None = None) -> None:
        self.table = table
        if mapping is not None:
            self.mapping = mapping
        self.data = None
        self.scores = None
        self.problems = []
        self.tableChanged.emit()
        self.dataChanged.emit()
        self.problemsChanged.emit()

    def set_data(self, data: AnalysisData | None, scores: GroupScores | None = None,
                 problems: list[Problem] | None = None, keep_thresholds: bool = False) -> None:
        self.data = data
        self.scores = scores if scores is not None or data is None else GroupScores.from_data(data)
        self.problems = list(problems if problems is not None else (data.problems if data else []))
        if data is not None and not keep_thresholds:
            t, _ = default_threshold(data)
            self.thresholds = np.array([t])
            self.group_specific = False
            self.threshold_rules = [{"kind": "fixed", "value": t}]
        self.problemsChanged.emit()
        self.dataChanged.emit()
        self.thresholdsChanged.emit()

    # --- thresholds ---------------------------------------------------------------------------
    def set_thresholds(self, values, group_specific: bool = False, rules: list[dict] | None = None,
                       emit: bool = True) -> None:
        t = np.asarray(values, dtype=float)
        if group_specific and self.data is not None:
            t = t.reshape(self.data.n_groups, -1)
        else:
            t = np.atleast_1d(t)
        self.thresholds = t
        self.group_specific = bool(group_specific)
        if rules is not None:
            self.threshold_rules = rules
        if emit:
            self.thresholdsChanged.emit()

    # --- scenarios ----------------------------------------------------------------------------
    def add_scenario(self, scenario) -> str:
        """Add a scenario (a name already used gets a number); returns the name used."""
        names = {s.name for s in self.scenarios}
        base, n = scenario.name, 2
        while scenario.name in names:
            scenario.name = f"{base} ({n})"
            n += 1
        self.scenarios.append(scenario)
        self.scenariosChanged.emit()
        return scenario.name

    def set_scenarios(self, scenarios) -> None:
        self.scenarios = list(scenarios)
        self.scenariosChanged.emit()

    def page_settings(self, key: str) -> dict:
        return self.settings.setdefault(key, {})

    def seed(self, key: str, default: int = 12345) -> int:
        return int(self.seeds.setdefault(key, default))
