"""Settings controls built the same way on every page (Orange's ``gui.spin``/``gui.comboBox``
habit): one call makes a control with its range, value, tooltip and accessible name, so a
page's layout code reads as the list of its settings.

Every control gets an accessible name (its label or tooltip's first sentence) for screen
readers.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QComboBox, QDoubleSpinBox, QGridLayout,
                               QGroupBox, QLabel, QPushButton, QRadioButton, QSpinBox, QSplitter,
                               QStyle, QStyleOptionComboBox, QStylePainter, QTabWidget,
                               QVBoxLayout, QWidget)

from .palette import message_style, muted_css, title_html


def _name(widget, name: str, tip: str) -> None:
    widget.setToolTip(tip)
    widget.setAccessibleName(name or tip.split(".")[0][:80])
    if tip:
        widget.setAccessibleDescription(tip)


def settings_box(title: str, tip: str = "") -> tuple[QGroupBox, QGridLayout]:
    """A titled group of settings laid out on a compact grid."""
    box = QGroupBox(title)
    box.setToolTip(tip)
    grid = QGridLayout(box)
    grid.setContentsMargins(6, 2, 6, 4)
    grid.setVerticalSpacing(3)
    return box, grid


class ElidingCombo(QComboBox):
    """A combo whose shown choice is elided in the middle when it is narrower than the name
    ("African-A…n, Female", never "African-American, Fe"), the full name in its tooltip."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._tip = ""
        self.view().setTextElideMode(Qt.ElideMiddle)
        self.currentIndexChanged.connect(self._update_tip)

    def setToolTip(self, tip: str) -> None:  # noqa: N802 (Qt's name)
        self._tip = tip
        self._update_tip()

    def _update_tip(self, *_args) -> None:
        current = self.currentText()
        super().setToolTip(f"{self._tip}\nChosen: {current}" if self._tip and current
                           else self._tip or current)

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt's name)
        painter = QStylePainter(self)
        opt = QStyleOptionComboBox()
        self.initStyleOption(opt)
        painter.drawComplexControl(QStyle.CC_ComboBox, opt)
        room = self.style().subControlRect(QStyle.CC_ComboBox, opt,
                                           QStyle.SC_ComboBoxEditField, self).width()
        if not opt.currentIcon.isNull():
            room -= opt.iconSize.width() + 4
        opt.currentText = self.fontMetrics().elidedText(opt.currentText, Qt.ElideMiddle,
                                                        max(room - 4, 10))
        painter.drawControl(QStyle.CE_ComboBoxLabel, opt)


def combo(items, tip: str = "", name: str = "", *, min_chars: int | None = None) -> QComboBox:
    """A combo of (text, data) items (a plain string is its own data)."""
    c = ElidingCombo()
    for item in items:
        text, data = (item, item) if isinstance(item, str) else item
        c.addItem(text, data)
    if min_chars:
        c.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        c.setMinimumContentsLength(min_chars)
    _name(c, name, tip)
    return c


def spin(lo, hi, value, tip: str = "", name: str = "", *, step=None, suffix: str = "",
         decimals: int | None = None, min_width: int | None = None):
    """An integer spin box, or a decimal one when ``decimals`` is given."""
    s = QDoubleSpinBox() if decimals is not None else QSpinBox()
    if decimals is not None:
        s.setDecimals(decimals)
    else:
        s.setGroupSeparatorShown(True)
    s.setRange(lo, hi)
    if step is not None:
        s.setSingleStep(step)
    s.setValue(value)
    if suffix:
        s.setSuffix(suffix)
    if min_width:
        s.setMinimumWidth(min_width)
    _name(s, name, tip)
    return s


def check(text: str, tip: str = "", slot=None, checked: bool = False) -> QCheckBox:
    c = QCheckBox(text)
    c.setChecked(checked)
    _name(c, text, tip)
    if slot is not None:
        c.toggled.connect(slot)
    return c


def button(text: str, tip: str = "", slot=None, shortcut=None) -> QPushButton:
    b = QPushButton(text)
    _name(b, text.rstrip("…."), tip)
    if shortcut is not None:
        b.setShortcut(shortcut)
    if slot is not None:
        b.clicked.connect(slot)
    return b


def message_label(kind: str = "error") -> QLabel:
    """A hidden, wrapped message line (an error or a warning shown in place)."""
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet(message_style(kind))
    label.hide()
    return label


def page_header(layout: QVBoxLayout, title: str, intro: str) -> QLabel:
    """The page's title and its two-line introduction; returns the intro label."""
    head = QLabel(title_html(title))
    head.setAccessibleName(title)
    text = QLabel(intro)
    text.setWordWrap(True)
    text.setStyleSheet(muted_css())
    layout.addWidget(head)
    layout.addWidget(text)
    return text


def side_by_side() -> QSplitter:
    """A horizontal splitter whose panes never collapse (tables left, plots right)."""
    s = QSplitter(Qt.Horizontal)
    s.setChildrenCollapsible(False)
    return s


def tabs() -> QTabWidget:
    t = QTabWidget()
    t.setDocumentMode(True)
    return t


def radios(owner, options) -> tuple[QButtonGroup, list[QRadioButton]]:
    """Exclusive radio buttons from (text, tooltip) pairs, in one button group."""
    group = QButtonGroup(owner)
    buttons = []
    for text, tip in options:
        b = QRadioButton(text)
        _name(b, text, tip)
        group.addButton(b)
        buttons.append(b)
    return group, buttons


def tab_pane() -> tuple[QWidget, QVBoxLayout]:
    """The content of a tab: a widget and its vertical layout, with the tabs' margins."""
    pane = QWidget()
    lay = QVBoxLayout(pane)
    lay.setContentsMargins(2, 4, 2, 2)
    return pane, lay


def wrapped(text: str = "", tip: str = "") -> QLabel:
    """A label whose text wraps (a sentence above or below a table)."""
    label = QLabel(text)
    label.setWordWrap(True)
    if tip:
        label.setToolTip(tip)
    return label


def set_available(widget, available: bool, why: str = "") -> None:
    """Enable or disable an action, saying in its tooltip why it cannot be used now (no dead
    ends: a button that would do nothing is greyed, with the reason)."""
    base = widget.property("base_tip")
    if base is None:
        base = widget.toolTip()
        widget.setProperty("base_tip", base)
    widget.setEnabled(available)
    widget.setToolTip(base if available or not why else f"{base}\n\nNot available now: {why}")
