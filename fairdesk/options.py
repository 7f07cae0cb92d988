"""Command-line option values checked before any work starts.

argparse calls these as ``type=`` functions; an :class:`argparse.ArgumentTypeError`
becomes ``fairdesk COMMAND: error: argument --OPTION: <message>`` with exit code 2, so
every message below only has to say what is wrong with the value and what to give
instead. No option value may reach an engine as NaN, infinity, an absurd count or an
empty name.
"""

from __future__ import annotations

import argparse
import math

# Counts (resamples, subsamples, bins, group sizes …) above this are refused: no analysis
# on a workstation needs them, and they would run for days or exhaust memory.
MAX_COUNT = 10_000_000
MAX_SEED = 2**32 - 1  # numpy's seed range


def _number_text(text: str) -> str:
    return str(text).strip().replace("_", "x")  # '1_000' is not how analysts write numbers


def whole_number(lo: int = 0, hi: int = MAX_COUNT, what: str = "a whole number"):
    """``type=`` for a count: a whole number from ``lo`` to ``hi``."""
    def parse(text: str) -> int:
        t = _number_text(text)
        try:
            value = int(t)
        except ValueError:
            try:
                f = float(t)
            except ValueError:
                f = math.nan
            if math.isfinite(f) and f.is_integer() and abs(f) < 2**53:
                value = int(f)  # '200.0' or '1e3'
            else:
                raise argparse.ArgumentTypeError(
                    f"'{text}' is not {what}; give a whole number from {lo:,} to {hi:,}."
                ) from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(
                f"{value:,} is out of range; give a whole number from {lo:,} to {hi:,}.")
        return value
    parse.__name__ = "whole number"
    return parse


def real_number(lo: float = -math.inf, hi: float = math.inf, *, above: bool = False,
                what: str = "a number"):
    """``type=`` for a finite number in [lo, hi] (or (lo, hi] with ``above``)."""
    def parse(text: str) -> float:
        try:
            value = float(_number_text(text))
        except ValueError:
            value = None
        if value is None or not math.isfinite(value):
            raise argparse.ArgumentTypeError(
                f"'{text}' is not {what}; give a finite number{_range(lo, hi, above)}.")
        if value < lo or value > hi or (above and value <= lo):
            raise argparse.ArgumentTypeError(
                f"{text} is out of range; give a number{_range(lo, hi, above)}.")
        return value
    parse.__name__ = "number"
    return parse


def _range(lo: float, hi: float, above: bool) -> str:
    if math.isinf(lo) and math.isinf(hi):
        return ""
    if math.isinf(hi):
        return f" above {lo:g}" if above else f" of {lo:g} or more"
    if math.isinf(lo):
        return f" of {hi:g} or less"
    return f" above {lo:g} and at most {hi:g}" if above else f" from {lo:g} to {hi:g}"


def name(text: str) -> str:
    """``type=`` for a column, group or sheet name: anything but empty text."""
    if not str(text).strip():
        raise argparse.ArgumentTypeError(
            "the value is empty; give a name (put it in quotes if it contains spaces).")
    return str(text)


SEED = whole_number(0, MAX_SEED, "a seed")


def threshold_rule(option: str, text: str):
    """A threshold rule ('0.5', 'q0.8', 'mean', 'top150', …) whose number is usable."""
    from .errors import FairDeskError
    from .metrics.thresholds import ThresholdRule

    try:
        rule = ThresholdRule.parse(text)
    except FairDeskError as err:
        raise FairDeskError(f"{option}: {err}") from None
    v = rule.value
    problem = None
    if rule.kind == "fixed" and not math.isfinite(v):
        problem = "is not a finite number; give a score value such as 0.5"
    elif rule.kind == "quantile" and not (math.isfinite(v) and 0 <= v <= 1):
        problem = "asks for a quantile outside 0 to 1; write q0.8 for the 80th percentile"
    elif rule.kind == "top_k" and not 1 <= v <= MAX_COUNT:
        problem = f"asks for a top-K outside 1 to {MAX_COUNT:,}; write top150 for the top 150"
    elif rule.kind == "ventile" and not 1 <= v < rule.n_bins:
        problem = f"asks for a bin edge outside 1 to {rule.n_bins - 1}; write ventile16"
    if problem:
        raise FairDeskError(f"{option} '{str(text).strip()}' {problem}.")
    return rule


def threshold_rules(option: str, values) -> list:
    """Every rule in repeated, comma-separated ``values``; an explicitly empty value is an
    error (leave the option out for the default)."""
    from .errors import FairDeskError

    values = list(values or ())
    items = [v.strip() for text in values for v in str(text).split(",") if v.strip()]
    if values and not items:
        raise FairDeskError(f"{option} is empty; give a threshold such as 0.5, q0.8 or mean, "
                            "or leave the option out for the default.")
    return [threshold_rule(option, v) for v in items]


def outside_range_notes(option: str, thresholds, data) -> list[str]:
    """A note for each threshold outside the observed scores (used rows)."""
    import numpy as np

    if data is None or not len(data.score):
        return []
    lo, hi = float(np.min(data.score)), float(np.max(data.score))
    notes = []
    for t in thresholds:
        t = float(t)
        if t < lo or t > hi:
            notes.append(
                f"{option} {t:g} is outside the observed scores ({lo:g} to {hi:g}), so every "
                "row gets the same decision at it and its error rates say nothing about the "
                "groups. Check the value (and the scale of the score column).")
    return notes


# Options shared by several commands (some defined with a plain int/float type): their
# ranges, checked once the command line is parsed. (lowest, highest, whole number)
_LIMITS = {
    "bootstrap": (0, 100_000, True),
    "seed": (0, MAX_SEED, True),
    "min_group_size": (0, MAX_COUNT, True),
    "min_denominator": (0, MAX_COUNT, False),
}


def check_parsed(args) -> None:
    """Refuse what a ``type=`` function did not: non-finite numbers, counts out of range,
    explicitly empty values. Raises FairDeskError naming the option."""
    from .errors import FairDeskError

    for dest, value in vars(args).items():
        if dest in ("command", "run") or value is None or isinstance(value, bool):
            continue
        option = "--" + dest.replace("_", "-") if dest != "data" else "the data file"
        items = value if isinstance(value, list) else [value]
        for v in items:
            if isinstance(v, str) and not v.strip():
                if dest == "data":
                    raise FairDeskError("The data file's name is empty; give the path of the "
                                        "file to analyse.")
                raise FairDeskError(f"{option} is empty; give a value, or leave the option out.")
            if isinstance(v, float) and not math.isfinite(v):
                raise FairDeskError(f"{option} {v}: give a finite number.")
        if dest in _LIMITS and isinstance(value, (int, float)):
            lo, hi, whole = _LIMITS[dest]
            if not lo <= value <= hi or (whole and value != int(value)):
                kind = "a whole number" if whole else "a number"
                raise FairDeskError(f"{option} {value:,}: give {kind} from {lo:,} to {hi:,}.")
    if getattr(args, "bootstrap", 0) == 1:
        raise FairDeskError("--bootstrap 1: a bootstrap needs at least 2 resamples "
                            "(200 is usual); give 0 for none.")


# Output options and what they write (see fairdesk.io.outputs.EXTENSIONS).
CONFIRMED_THIS_RUN: list = []  # --force confirmations, forgotten when the command ends
OUTPUTS = {"out": "workbook", "rows_out": "rows", "ids_out": "csv"}


def check_outputs(args) -> None:
    """Before any computation: each output has the right extension, is none of the inputs
    (however the path is spelled, links included) nor another output, and is not an existing
    file FairDesk did not write unless --force was given."""
    import os

    from .errors import FairDeskError
    from .io.outputs import (check_extension, check_replace, confirm_replace,
                             is_fairdesk_workbook, same_file, too_long)

    outputs = [(dest, getattr(args, dest)) for dest in OUTPUTS if getattr(args, dest, None)]
    if not outputs:
        return
    inputs = [("the data file", getattr(args, "data", None)),
              ("the --params file", getattr(args, "params", None))]
    data = str(getattr(args, "data", "") or "")
    if data.lower().endswith(".fairdesk") and os.path.isfile(data):
        try:
            from .project import load_project
            inputs.append(("the project's data file", load_project(data).input_path))
        except FairDeskError:
            pass  # the command reports the project's own problem
    seen = []
    for dest, path in outputs:
        option = "--" + dest.replace("_", "-")
        if too_long(path):
            raise FairDeskError(f"{option}: the path '{path}' is too long for this computer. "
                                "Choose a shorter file name or a folder nearer the top of the "
                                "drive.")
        for what, source in inputs:
            if source and same_file(path, source):
                raise FairDeskError(f"{option} '{path}' is {what}. FairDesk never writes over "
                                    "its input; choose another name for the output.")
        for other, earlier in seen:
            if same_file(path, earlier):
                raise FairDeskError(f"{option} and {other} name the same file '{path}'; give "
                                    "each output its own name.")
        seen.append((option, path))
        check_extension(path, "rows" if dest == "rows_out" else OUTPUTS[dest], option)
        if os.path.isdir(path):
            raise FairDeskError(f"{option} '{path}' is a folder; give a file name.")
        if getattr(args, "force", False):
            confirm_replace(path)
            CONFIRMED_THIS_RUN.append(path)
        elif str(path).lower().endswith(".xlsx"):
            check_replace(path, is_fairdesk_workbook, option=option)
        else:
            # a CSV FairDesk wrote starts with its byte-order mark; the writer compares the
            # header too, once it knows it
            check_replace(path, _starts_with_bom, option=option)


def _starts_with_bom(path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(3) == b"\xef\xbb\xbf"
    except OSError:
        return False
