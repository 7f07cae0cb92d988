"""The Okabe–Ito colour-blind-safe palette as hex text, shared by the window (through
``fairdesk.gui.palette``) and the workbook's charts, so a group has one colour everywhere."""

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
             "#000000"]
# Beyond eight groups, darker and lighter variants keep colours distinct.
EXTRA = ["#004C7A", "#9C6C00", "#006B4E", "#8A5171", "#3A7A9E", "#913F00", "#A39B2E", "#666666"]


def group_hex(index: int) -> str:
    """The colour of the group (or series) at ``index``, as '#RRGGBB'."""
    colors = OKABE_ITO + EXTRA
    return colors[index % len(colors)]
