"""Names for screen readers: every control the keyboard can reach gets an accessible name.

Controls made with :mod:`fairdesk.gui.controls` are named when made. For the rest, the
name comes from what a sighted user reads next to the control — its own text, the label
in front of it in its form or grid row, its group box — and, failing those, the first
sentence of its tooltip; the whole tooltip becomes its description.
"""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractButton, QAbstractSpinBox, QComboBox, QFormLayout,
                               QGridLayout, QGroupBox, QLabel, QTabBar, QTabWidget, QWidget)

_TAGS = re.compile(r"<[^>]+>")


def _plain(text: str) -> str:
    return " ".join(_TAGS.sub("", text).replace("&", "").split()).rstrip(":")


def _first_sentence(tip: str) -> str:
    text = _plain(tip.split("\n")[0])
    for mark in (". ", ": ", "; "):
        if mark in text:
            text = text.split(mark)[0]
    return text[:80].rstrip(".")


def _label_beside(widget: QWidget) -> str:
    """The text of the label in front of ``widget`` in its form or grid row, if any."""
    parent = widget.parentWidget()
    layout = parent.layout() if parent is not None else None
    stack = [layout] if layout is not None else []
    while stack:
        lay = stack.pop()
        if isinstance(lay, QFormLayout):
            label = lay.labelForField(widget)
            if isinstance(label, QLabel) and label.text():
                return _plain(label.text())
        if isinstance(lay, QGridLayout):
            i = lay.indexOf(widget)
            if i >= 0:
                row, col, _rs, _cs = lay.getItemPosition(i)
                for c in range(col - 1, -1, -1):
                    item = lay.itemAtPosition(row, c)
                    w = item.widget() if item is not None else None
                    if isinstance(w, QLabel) and w.text():
                        return _plain(w.text())
        for k in range(lay.count()):
            child = lay.itemAt(k).layout()
            if child is not None:
                stack.append(child)
    for label in (parent.findChildren(QLabel) if parent is not None else []):
        if label.buddy() is widget and label.text():
            return _plain(label.text())
    return ""


def accessible_name(widget: QWidget) -> str:
    if isinstance(widget, QAbstractButton) and widget.text():
        return _plain(widget.text())
    if isinstance(widget, QTabBar):
        return "Tabs: " + ", ".join(widget.tabText(i) for i in range(widget.count()))
    if isinstance(widget, QTabWidget):
        return "Tabs: " + ", ".join(widget.tabText(i) for i in range(widget.count()))
    beside = _label_beside(widget)
    if beside:
        return beside
    if widget.toolTip():
        return _first_sentence(widget.toolTip())
    child, box = widget, widget.parentWidget()
    while box is not None and not isinstance(box, (QGroupBox, QTabWidget)):
        child, box = box, box.parentWidget()
    if isinstance(box, QGroupBox) and box.title():
        return f"{box.title()}: {type(widget).__name__.lstrip('Q')}"
    if isinstance(box, QTabWidget):  # the content of a tab: the tab's title
        page = child if box.indexOf(child) >= 0 else None
        if page is None and child.parentWidget() is not None:  # the tab widget's inner stack
            page = next((p for p in (box.widget(i) for i in range(box.count()))
                         if p is widget or p.isAncestorOf(widget)), None)
        if page is not None:
            return box.tabText(box.indexOf(page)).replace("&", "")
    return ""


def name_widgets(root: QWidget) -> int:
    """Give every focusable control under ``root`` without an accessible name one; returns
    how many were named. Safe to call again (named controls are left alone)."""
    named = 0
    for widget in root.findChildren(QWidget):
        if widget.accessibleName() or widget.focusPolicy() == Qt.NoFocus:
            continue
        owner = widget.parentWidget()
        if isinstance(owner, (QAbstractSpinBox, QComboBox)):  # the editor inside a control
            name = owner.accessibleName() or accessible_name(owner)
        elif type(widget) is QWidget and owner is not None and owner.accessibleName():
            name = owner.accessibleName()  # a view's drawing surface (a plot's viewport)
        else:
            name = accessible_name(widget)
        if name:
            widget.setAccessibleName(name)
            if widget.toolTip() and not widget.accessibleDescription():
                widget.setAccessibleDescription(_plain(widget.toolTip()))
            named += 1
    return named
