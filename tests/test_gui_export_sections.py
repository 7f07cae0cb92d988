"""Issue 15, item 7 and item 1 in the window: the export asks what goes in, and the
scenario marked as proposed is named on the Summary."""

import openpyxl
import pytest

from conftest import wait_idle, wait_settled

pytestmark = pytest.mark.gui


def test_export_writes_only_the_sections_chosen_and_names_the_proposed_option(
        loaded_window, qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    from fairdesk.gui import main_window
    from fairdesk.scenarios import Scenario

    w = loaded_window
    w.state.add_scenario(Scenario("Strict", "thresholds", {"values": [0.6]}, {"engine": "test"}))
    page = w.page("decision")
    w.show_page("decision")
    wait_settled(qtbot, w)
    page.mark_proposed(1, True)
    assert page.proposed_button.isChecked() and w.state.scenarios[0].origin["proposed"]
    assert page.list.item(1, 1).text().startswith("Proposed · ")
    offered = []

    def choose(parent, sections):
        offered.extend(sections)
        return ["decision"]  # the meeting sheets only

    target = tmp_path / "meeting.xlsx"
    monkeypatch.setattr(main_window.dialogs, "choose_sections", choose)
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(target), "")))
    w.export_dialog()
    wait_idle(qtbot, w)
    keys = [k for k, _ in offered]
    assert keys[0] == "decision" and "audit" in keys  # every page with a result is offered
    wb = openpyxl.load_workbook(target)
    assert "Summary" in wb.sheetnames and "Rates by group" not in wb.sheetnames
    text = " ".join(str(c.value) for row in wb["Summary"].iter_rows() for c in row if c.value)
    assert "Strict (proposed)" in text and "Data: sample_scores.csv" in text
    # cancelling the choice writes nothing
    monkeypatch.setattr(main_window.dialogs, "choose_sections", lambda parent, sections: None)
    other = tmp_path / "not_written.xlsx"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(other), "")))
    w.export_dialog()
    wait_idle(qtbot, w)
    assert not other.exists()


def test_status_bar_group_names_are_not_ambiguous(loaded_window):
    """Intersections are named 'Group A, Female': the status bar separates names with '; '."""
    text = loaded_window.groups_label.text()
    names = loaded_window.state.data.group_names
    assert text.startswith(f"{len(names)} groups: {names[0]}; {names[1]}; {names[2]}")
    assert loaded_window.groups_label.toolTip().split("\n") == names
