"""A result described once: a titled table of typed columns, with notes, undefined reasons,
tooltips and charts.

Each engine's report module turns its result into a list of :class:`Table` once; the window
(:mod:`fairdesk.gui.table_model`), the workbook (:mod:`fairdesk.reports.workbook`) and the
command line (:mod:`fairdesk.present.text`) render those same tables, with the formats of
:mod:`fairdesk.present.formats`. Adding a column to a result means changing one table.

No Qt here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from . import formats
from .formats import canonical, excel_format, format_value

__all__ = ["CHART_KINDS", "Cell", "ChartSpec", "Column", "Formatted", "Table", "column_values",
           "plain_value"]

CHART_KINDS = ("bar", "line", "scatter")


@dataclass
class Column:
    """One column: where its values are (``key`` in each row), its header, its kind (see
    :mod:`fairdesk.present.formats`) and what a reader needs to know about it."""

    key: str  # key in each row dict / DataFrame column
    header: str  # header text shown
    kind: str = "text"  # one of formats.KINDS (int/percent/float accepted)
    decimals: int | None = None  # None = the kind's default
    width: float | None = None  # workbook: None = fit to content
    note: str | None = None  # definition: header tooltip, header comment, glossary
    undefined_reason: str | None = None  # reason for None/NaN cells (default: generic)
    swatch: int | None = None  # group index: the window draws its colour beside the header

    def __post_init__(self):
        try:
            self.kind = canonical(self.kind)
        except ValueError as err:
            raise ValueError(f"Column {self.key!r}: {err}") from None
        if self.decimals is None:
            self.decimals = formats.DEFAULT_DECIMALS[self.kind]
        if self.decimals < 0:
            raise ValueError(f"Column {self.key!r}: decimals must be >= 0")

    @property
    def numeric(self) -> bool:
        return self.kind in formats.NUMERIC_KINDS and self.kind != "interval"

    @property
    def number_format(self) -> str:
        return excel_format(self.kind, self.decimals)

    def text(self, value) -> str:
        """``value`` of this column as a person reads it (a :class:`Cell` keeps its own kind)."""
        if isinstance(value, Cell):
            return value.text(self)
        return format_value(value, self.kind, self.decimals)


@dataclass(frozen=True)
class Cell:
    """A value with what belongs to it alone: its own kind (a decision-table row of rates
    next to a row of ratios), a tooltip, emphasis, and a group colour swatch."""

    value: object
    kind: str | None = None  # None = the column's kind
    decimals: int | None = None
    tip: str = ""  # tooltip in the window; the workbook writes notes, not tooltips
    bold: bool = False
    muted: bool = False  # greyed (e.g. "—" for a comparison with itself)
    swatch: int | None = None  # group index: a colour swatch beside the text
    highlight: bool = False  # the chosen row / column
    tint: str | None = None  # a background colour ('#RRGGBB') that carries meaning (a heat map)

    def resolved(self, column: Column | None = None) -> tuple[str, int]:
        kind = canonical(self.kind) if self.kind else (column.kind if column else "text")
        if self.decimals is not None:
            dec = self.decimals
        elif self.kind is None and column is not None:
            dec = column.decimals
        else:
            dec = formats.DEFAULT_DECIMALS[kind]
        return kind, dec

    def text(self, column: Column | None = None) -> str:
        kind, dec = self.resolved(column)
        return format_value(self.value, kind, dec)

    @property
    def number_format(self) -> str:
        kind, dec = self.resolved(None)
        return excel_format(kind, dec)

    def with_(self, **changes) -> "Cell":
        return replace(self, **changes)


def Formatted(value, kind: str = "fixed", decimals: int = 3) -> Cell:  # noqa: N802
    """A value with its own kind in a mixed column (the workbook's older name)."""
    return Cell(value, kind, decimals)


def plain_value(value):
    """The value inside a :class:`Cell` (anything else as it is)."""
    return value.value if isinstance(value, Cell) else value


@dataclass
class ChartSpec:
    kind: str  # "bar" | "line" | "scatter"
    title: str
    category_key: str  # column used for categories / x values
    value_keys: list[str]  # series
    x_title: str = ""
    y_title: str = ""
    percent_axis: bool = False
    anchor: str | None = None  # cell where the chart goes; default right of the table
    width_cm: float = 18.0
    height_cm: float = 9.0
    scatter_lines: bool = True  # scatter: join the points (curves) or markers only
    label_key: str | None = None  # scatter: one named, coloured point per row (legend = labels)
    rows: tuple[int, int] | None = None  # plot only data rows [start, stop) (0-based): one block

    def __post_init__(self):
        if self.kind not in CHART_KINDS:
            raise ValueError(f"Chart {self.title!r}: kind must be one of {CHART_KINDS}")
        if isinstance(self.value_keys, str):
            self.value_keys = [self.value_keys]
        if not self.value_keys:
            raise ValueError(f"Chart {self.title!r}: value_keys is empty")


@dataclass
class Table:
    sheet: str  # sheet name (sanitized, made unique)
    columns: list[Column]
    rows: object  # list[dict] | pandas.DataFrame
    title: str | None = None  # optional title line above the table
    notes: list[str] = field(default_factory=list)  # lines written under the table
    charts: list[ChartSpec] = field(default_factory=list)
    one_page: bool = False  # print the whole sheet on one landscape page (print area set)
    # Lines of text between the title and the table (sentences for a reader); a line
    # starting with "## " is a bold heading. Each spans the table's width and wraps.
    preamble: list[str] = field(default_factory=list)
    # the window: the column whose value names the row (shown first, never elided at the
    # end), and the row key holding a group index for a colour swatch in that column
    label_key: str | None = None
    swatch_key: str | None = None

    def column(self, key: str) -> Column:
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(key)

    def row_dicts(self) -> list[dict]:
        """The rows as dicts (a DataFrame's records), for renderers that walk rows."""
        rows = self.rows
        if hasattr(rows, "to_dict") and hasattr(rows, "iloc"):
            return rows.to_dict("records")
        return list(rows)


def column_values(table: Table, key: str) -> list:
    """The plain values of one column (for tests and charts)."""
    return [plain_value(r.get(key)) for r in table.row_dicts()]
