"""Errors that reach the user as a message, never as a traceback."""

from __future__ import annotations


class FairDeskError(Exception):
    """Base class: ``str(err)`` is a complete message meant for the analyst."""


class DataError(FairDeskError):
    """The input file cannot be read or used as it is (says what to do)."""


class ValidationError(FairDeskError):
    """The mapped data fails validation; ``problems`` lists every blocking problem."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join(p.message for p in self.problems))


class Cancelled(FairDeskError):
    """The user cancelled a long job."""

    def __init__(self, message: str = "Cancelled by the user."):
        super().__init__(message)
