"""The workbook and CSV writers, imported when first used: openpyxl takes about 0.13 s to
import and the window needs it only when the analyst exports (start-up, issue 18)."""

from __future__ import annotations


def write_workbook(*args, **kwargs):
    from .workbook import write_workbook as write

    return write(*args, **kwargs)


def write_csv(*args, **kwargs):
    from .workbook import write_csv as write

    return write(*args, **kwargs)
