"""How results are shown: tables described once, formatted in one place, rendered the same
by the window, the workbook and the command line. No Qt here."""

from .formats import format_value, score_decimals
from .table import Cell, ChartSpec, Column, Table

__all__ = ["Cell", "ChartSpec", "Column", "Table", "format_value", "score_decimals"]
