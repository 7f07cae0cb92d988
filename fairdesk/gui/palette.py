"""Okabe–Ito colour-blind-safe palette; each group keeps its colour on every plot."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QIcon, QPainter, QPalette, QPixmap, QPolygonF

from ..colors import OKABE_ITO, group_hex  # noqa: F401  (OKABE_ITO is used by pages)


# Okabe–Ito: vermillion for errors, orange for warnings, blue for information.
ERROR_COLOR = QColor(OKABE_ITO[5])
WARNING_COLOR = QColor(OKABE_ITO[1])
INFO_COLOR = QColor(OKABE_ITO[0])


# Text colours follow the system palette (a dark or high-contrast theme, a user's colours):
# nothing draws fixed grey text, which vanishes on a dark background. Styles are computed
# when a widget is built, from the application's palette and font at that moment.
MIN_CONTRAST = 4.5  # WCAG 2 AA for body text

_MESSAGE_COLOURS = {  # (text, background, border) on a light and on a dark window
    "error": (("#a40000", "#fdecea", "#f5c2c0"), ("#ffb4ab", "#3b1412", "#8c3a33")),
    "warning": (("#6b4e00", "#fff6db", "#f0dc9c"), ("#ffdf8c", "#33290a", "#80692a")),
    "info": (("#08466b", "#e8f2f9", "#b9d6ea"), ("#b5dcf5", "#0f2a3b", "#3d6f8f")),
}


def app_palette() -> QPalette:
    app = QGuiApplication.instance()
    return app.palette() if app is not None else QPalette()


def luminance(c: QColor) -> float:
    """WCAG relative luminance."""
    def lin(v: float) -> float:
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    return 0.2126 * lin(c.redF()) + 0.7152 * lin(c.greenF()) + 0.0722 * lin(c.blueF())


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio of two colours, 1 to 21."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def is_dark() -> bool:
    pal = app_palette()
    return luminance(pal.color(QPalette.Window)) < luminance(pal.color(QPalette.WindowText))


def muted_color(background: QColor | None = None) -> QColor:
    """Secondary text: the window text a little towards the background, but never below
    the readable contrast (a high-contrast theme gets its own text colour unchanged)."""
    pal = app_palette()
    text = pal.color(QPalette.WindowText)
    bg = background if background is not None else pal.color(QPalette.Window)
    for share in (0.6, 0.7, 0.8, 0.9):
        c = QColor.fromRgbF(*(share * t + (1 - share) * b for t, b in
                              zip(text.getRgbF()[:3], bg.getRgbF()[:3])))
        if contrast(c, bg) >= MIN_CONTRAST:
            return c
    return text


def muted_css() -> str:
    return f"color:{muted_color().name()}"


def note_style() -> str:
    return f"QLabel {{{muted_css()};}}"


def message_style(kind: str = "error", padding: int = 4) -> str:
    """An error, warning or information box readable on a light and on a dark theme."""
    fg, bg, border = _MESSAGE_COLOURS[kind][1 if is_dark() else 0]
    return (f"QLabel {{color:{fg}; background:{bg}; border:1px solid {border}; "
            f"padding:{padding}px}}")


def message_colour(kind: str = "error") -> str:
    """The text colour of a message (for an inline span in rich text)."""
    return _MESSAGE_COLOURS[kind][1 if is_dark() else 0][0]


def font_points(scale: float = 1.0) -> float:
    """The application's font size times ``scale``: sizes follow the system's font setting."""
    app = QGuiApplication.instance()
    pt = app.font().pointSizeF() if app is not None else -1
    if pt <= 0:  # a font set in pixels
        px = app.font().pixelSize() if app is not None else -1
        pt = px * 0.75 if px > 0 else 9.0
    return round(pt * scale, 1)


def font_css(scale: float = 1.0) -> str:
    return f"font-size:{font_points(scale):g}pt"


def title_html(text: str) -> str:
    """A page title in rich text, a quarter larger than the body font."""
    return f"<b style='{font_css(1.25)}'>{text}</b>"


def group_color(index: int) -> QColor:
    return QColor(group_hex(index))


def group_colors(n: int) -> list[QColor]:
    return [group_color(i) for i in range(n)]


def swatch_icon(color: QColor, size: int = 12) -> QIcon:
    """A filled square of ``color`` with a thin edge in the theme's text colour (visible on
    white and yellow, and a black group's square on a dark theme)."""
    pix = QPixmap(size, size)
    pix.fill(color)
    painter = QPainter(pix)
    painter.setPen(QColor("#c8c8c8") if is_dark() else QColor("#303030"))
    painter.drawRect(0, 0, size - 1, size - 1)
    painter.end()
    return QIcon(pix)


def severity_icon(severity: str, size: int = 16) -> QIcon:
    """Shape and colour both tell the severity: a circle for errors, a triangle for
    warnings, a square for information."""
    pm = QPixmap(size, size)
    pm.fill(Qt.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.Antialiasing)
    p.setPen(Qt.NoPen)
    color = {"error": ERROR_COLOR, "warning": WARNING_COLOR}.get(severity, INFO_COLOR)
    p.setBrush(color)
    m = 1.5
    if severity == "error":
        p.drawEllipse(QPointF(size / 2, size / 2), size / 2 - m, size / 2 - m)
    elif severity == "warning":
        p.drawPolygon(QPolygonF([QPointF(size / 2, m), QPointF(size - m, size - m),
                                 QPointF(m, size - m)]))
    else:
        p.drawRoundedRect(m, m, size - 2 * m, size - 2 * m, 2, 2)
    p.setPen(QColor("white") if severity != "warning" else QColor("black"))
    f = QFont()
    f.setBold(True)
    f.setPixelSize(int(size * 0.65))
    p.setFont(f)
    rect = pm.rect().adjusted(0, 2 if severity == "warning" else 0, 0, 0)
    p.drawText(rect, Qt.AlignCenter, "!" if severity != "info" else "i")
    p.end()
    return QIcon(pm)


def warn_html(text: str) -> str:
    """Rich text in the warning colour of the current theme (``text`` already escaped)."""
    return f"<span style='color:{message_colour('warning')}'>{text}</span>"


def swatch_html(index: int) -> str:
    """A group's colour square in rich text, in the group's colour everywhere. A colour close
    to the window's background (black on a dark theme, yellow on a light one) is set on a
    contrasting patch, so the square never vanishes."""
    colour = group_color(index)
    bg = app_palette().color(QPalette.Window)
    patch = ""
    if contrast(colour, bg) < 1.6:
        patch = "; background:" + ("#ffffff" if is_dark() else "#404040")
    return f"<span style='color:{colour.name()}{patch}'>■</span>"
