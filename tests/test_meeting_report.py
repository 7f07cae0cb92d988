"""The meeting workbook: sheets, one-page Summary, project round trip, command line."""

import json
import subprocess
import sys

import openpyxl
import pytest

from conftest import ROOT
from fairdesk.io.loading import load_table
from fairdesk.project import Project, save_project
from fairdesk.reports.meeting_report import write_meeting_workbook
from fairdesk.scenarios import Scenario, baseline, compare
from fairdesk.schema import ColumnMapping
from fairdesk.validation import prepare

SAMPLE = ROOT / "resources" / "sample" / "sample_scores.csv"
MAPPING = ColumnMapping(score="score", label="outcome", groups=["race"], weight="weight")


def run(*args):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)], capture_output=True,
                          text=True, timeout=300)


def test_workbook_sheets_summary_one_page(tmp_path):
    table = load_table(SAMPLE)
    data = prepare(table.frame, MAPPING)
    sc = [baseline([0.5]), Scenario("Strict", "thresholds", {"values": [0.6]}, notes="fewer flags"),
          Scenario("Fair", "group_thresholds", {"values": {g: [0.45] for g in data.group_names}})]
    comp = compare(data, sc, cost_ratio=(8, 1), bootstrap=5, seed=4)
    out = write_meeting_workbook(tmp_path / "m.xlsx", table.source, data, comp)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[:4] == ["About this workbook", "Summary", "Comparison", "Decision table"]
    ws = wb["Summary"]
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 1
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_area and ws.print_area.startswith("'Summary'!$A$1")
    names = [ws.cell(r, 1).value for r in range(1, ws.max_row + 1)]
    assert {"Baseline", "Strict", "Fair"} <= set(names)
    notes_col = next(c for r in range(1, 5) for c in range(1, ws.max_column + 1)
                     if ws.cell(r, c).value == "Analyst's notes")  # after the interval columns
    assert any(ws.cell(r, notes_col).value == "fewer flags" for r in range(1, ws.max_row + 1))
    assert wb["Comparison"]._charts
    about = {r[0]: r[1] for r in wb["About this workbook"].iter_rows(values_only=True) if r[0]}
    assert str(about["decision table bootstrap"]) == "4"
    # values equal the engine's
    dt = wb["Decision table"]
    hdr = next(r for r in range(1, 5) if dt.cell(r, 1).value == "Section")
    heads = [c.value for c in dt[hdr]]
    col = heads.index("Strict") + 1
    for r in range(hdr + 1, dt.max_row + 1):
        if dt.cell(r, 2).value == "False positive rate" and dt.cell(r, 3).value == "Overall":
            assert dt.cell(r, col).value == pytest.approx(comp.metrics[1].overall["fpr"])
            break
    else:
        pytest.fail("no overall FPR row")


def test_report_from_command_line(tmp_path):
    out = tmp_path / "r.xlsx"
    r = run("report", SAMPLE, "--score", "score", "--label", "outcome", "--group", "race",
            "--scenario", "Baseline=0.5", "--scenario", "Fair=Group A:0.5,Group B:0.55,Group C:0.5,Group D:0.42",
            "--cost-ratio", "8:1", "--out", out)
    assert r.returncode == 0, r.stderr
    wb = openpyxl.load_workbook(out)
    assert "Summary" in wb.sheetnames and "Comparison" in wb.sheetnames
    r = run("report", SAMPLE, "--score", "score", "--label", "outcome", "--group", "race",
            "--scenario", "Bad=Group A:0.5", "--out", tmp_path / "x.xlsx")
    assert r.returncode == 2 and "no threshold for" in r.stderr


def test_report_from_project_round_trip(tmp_path):
    table = load_table(SAMPLE)
    sc = [baseline([0.5]).to_dict(), Scenario("Strict", "thresholds", {"values": [0.6]}, notes="n").to_dict()]
    p = Project(table.source.path, table.source.sha256, MAPPING.to_dict(), scenarios=sc,
                settings={"decision": {"cost_ratio": [4, 1]}})
    path = save_project(p, tmp_path / "meet.fairdesk")
    saved = json.loads(path.read_text())
    assert saved["scenarios"][1]["notes"] == "n"
    out = tmp_path / "p.xlsx"
    r = run("report", path, "--out", out)
    assert r.returncode == 0, r.stderr
    wb = openpyxl.load_workbook(out)
    ws = wb["Summary"]
    assert [ws.cell(r, 1).value for r in range(3, 5)] == ["Baseline", "Strict"]
