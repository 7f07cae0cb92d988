"""The meeting workbook: sheets, one-page Summary, project round trip, command line."""

import json
import subprocess
import sys

import numpy as np
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
    out = write_meeting_workbook(tmp_path / "m.xlsx", table.source, data, comp, proposed="Fair",
                                 notes="Discussed with the board on 3 March.", paper="A4")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[:4] == ["About this workbook", "Summary", "Comparison", "Decision table"]
    ws = wb["Summary"]
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    # one page, because it fits at 9 pt or more (see workbook._print_setup)
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 1
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_area and ws.print_area.startswith("'Summary'!$A$1")
    text = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    joined = "\n".join(text)
    # the question, the data, the options with the proposed one marked
    assert "Question: which rule should turn the score 'score' into decisions" in joined
    assert "Data: sample_scores.csv" in joined and f"in {data.n_groups} groups" in joined
    assert "Fair (proposed): " in joined
    # per group and option: flagged, FPR and FNR with intervals; groups as rows
    assert set(data.group_names) | {"Overall"} <= set(text)
    assert "Fair*\nFPR" in text and "FPR\n95 %" in text
    # plain-language changes for each group, counted in people
    fair = comp.metrics[2]
    g = 0
    d_fp = fair.counts.fp[g, 0] - comp.metrics[0].counts.fp[g, 0]
    sentence = next(t for t in text if t.startswith("Under Fair,") and data.group_names[g] in t)
    assert f"{abs(d_fp):,.0f} {'fewer' if d_fp < 0 else 'more'} {data.group_names[g]} people" \
        in sentence
    assert "Analyst's notes: Discussed with the board on 3 March." in text
    assert "Notes on Strict: fewer flags" in text
    assert any(t.startswith("Warning: ") for t in text) == any(
        p.severity == "warning" and p.code != "data_note" for p in data.problems)
    # the headline measure with its interval and the pair behind it
    assert any(t.startswith("Fair (proposed): ") and "95 %" in t and " vs " in t for t in text)
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
    text = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)
    assert "Options: Baseline: threshold 0.5; Strict: threshold 0.6." in text
    assert "Notes on Strict: n" in text


def _workbook(tmp_path, **kw):
    table = load_table(SAMPLE)
    data = prepare(table.frame, MAPPING)
    sc = [baseline([0.5]), Scenario("Strict", "thresholds", {"values": [0.6]}),
          Scenario("Fair", "group_thresholds", {"values": {g: [0.45] for g in data.group_names}})]
    comp = compare(data, sc, bootstrap=5, seed=4)
    return write_meeting_workbook(tmp_path / "m.xlsx", table.source, data, comp, paper="A4", **kw)


def test_no_cell_shows_code_and_sheet_names_are_unique(tmp_path):
    wb = openpyxl.load_workbook(_workbook(tmp_path, proposed="Strict"))
    assert len({n.lower() for n in wb.sheetnames}) == len(wb.sheetnames)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert "fairdesk." not in str(cell.value or ""), (ws.title, cell.coordinate)
        # every printed page says what it is
        assert ws.oddFooter.right.text == "Page &P of &N" and ws.oddHeader.center.text == "&A"
    about = {r[0]: r[1] for r in wb["About this workbook"].iter_rows(values_only=True) if r[0]}
    assert about["Proposed option"] == "Strict"
    assert about["Scenarios: Fair"].startswith("Group")  # one row per setting, not JSON
    assert not any(str(v).startswith("{") for v in about.values())


def test_unknown_proposed_option_is_refused(tmp_path):
    from fairdesk.errors import FairDeskError

    with pytest.raises(FairDeskError, match="'Nope' is not one of the scenarios"):
        _workbook(tmp_path, proposed="Nope")


def test_report_command_takes_proposed_and_notes(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("Agreed: review again in June.\n", encoding="utf-8")
    out = tmp_path / "r.xlsx"
    r = run("report", SAMPLE, "--score", "score", "--label", "outcome", "--group", "race",
            "--scenario", "Baseline=0.5", "--scenario", "Strict=0.6", "--proposed", "Strict",
            "--notes", notes, "--bootstrap", "0", "--out", out)
    assert r.returncode == 0, r.stderr
    text = [str(c.value) for row in openpyxl.load_workbook(out)["Summary"].iter_rows()
            for c in row if c.value is not None]
    assert "Strict (proposed): threshold 0.6" in " ".join(text)
    assert "Analyst's notes: Agreed: review again in June." in text
    bad = run("report", SAMPLE, "--score", "score", "--label", "outcome", "--group", "race",
              "--scenario", "Baseline=0.5", "--proposed", "Other", "--out", tmp_path / "x.xlsx")
    assert bad.returncode == 2 and "'Other' is not one of the scenarios" in bad.stderr


def _libreoffice():
    import shutil
    return shutil.which("libreoffice") or shutil.which("soffice")


def _has_calibri_metrics() -> bool:
    """Excel prints with Calibri; LibreOffice measures like Excel only with Calibri or its
    metric twin Carlito installed (Debian: fonts-crosextra-carlito)."""
    import shutil
    if not shutil.which("fc-list"):
        return False
    fonts = subprocess.run(["fc-list"], capture_output=True, text=True).stdout
    return "Carlito" in fonts or "Calibri" in fonts


@pytest.mark.skipif(not _libreoffice() or not _has_calibri_metrics(),
                    reason="LibreOffice with Calibri metrics (Carlito) is not installed")
def test_summary_prints_on_one_page_at_nine_points_or_more(tmp_path):
    """COMPAS by race, three scenarios, rendered as printed: the Summary is one page and its
    smallest word is at least 9 pt (word heights from pdftotext -bbox, calibrated on the
    footer, which is always 9 pt)."""
    import re
    import shutil

    compas = ROOT.parent / "shared" / "data" / "compas_two_year.csv"
    if not compas.exists() or not shutil.which("pdftotext"):
        pytest.skip("COMPAS data or pdftotext absent")
    out = tmp_path / "compas.xlsx"
    r = run("report", compas, "--score", "decile_score", "--label", "two_year_recid", "--group",
            "race", "--scenario", "Baseline=5", "--scenario", "Higher=7", "--scenario",
            "Fair=African-American:7,Caucasian:5,Hispanic:5,Other:5,Asian:5,Native American:5",
            "--proposed", "Fair", "--bootstrap", "20", "--out", out)
    assert r.returncode == 0, r.stderr
    subprocess.run([_libreoffice(), "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path),
                    str(out)], capture_output=True, timeout=300, check=True)
    pdf = tmp_path / "compas.pdf"
    page = None
    for i in range(1, 6):
        text = subprocess.run(["pdftotext", "-f", str(i), "-l", str(i), str(pdf), "-"],
                              capture_output=True, text=True).stdout
        if "Decision options at a glance" in text:
            page = i
            assert "Page 1 of 1" not in text  # numbered within the workbook, not alone
            break
    assert page is not None, "no Summary page"
    nxt = subprocess.run(["pdftotext", "-f", str(page + 1), "-l", str(page + 1), str(pdf), "-"],
                         capture_output=True, text=True).stdout
    assert "Decision options at a glance" not in nxt and "Overall" not in nxt.split("Fairness")[0]
    box = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-bbox", str(pdf), "-"],
                         capture_output=True, text=True).stdout
    words = re.findall(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)<', box)
    heights = {w: float(b) - float(a) for a, b, w in words}
    footer = heights["Page"]  # the footer is printed at 9 pt whatever the scale
    body = [float(b) - float(a) for a, b, w in words if w not in ("Page", "of", "Input", "SHA-256")]
    smallest_pt = min(body) * 9 / footer
    assert smallest_pt >= 8.9, smallest_pt
    assert "Fair (proposed)" in subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"],
        capture_output=True, text=True).stdout


def test_report_sections_and_paper(tmp_path):
    out = tmp_path / "s.xlsx"
    r = run("report", SAMPLE, "--score", "score", "--label", "outcome", "--group", "race",
            "--scenario", "Baseline=0.5", "--scenario", "Strict=0.6", "--sections",
            "summary,decision", "--paper", "Letter", "--bootstrap", "0", "--out", out)
    assert r.returncode == 0, r.stderr
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["About this workbook", "Summary", "Decision table", "Contents",
                             "Glossary"]
    assert wb["Summary"].page_setup.paperSize == 1  # Letter
    about = {r[0]: r[1] for r in wb["About this workbook"].iter_rows(values_only=True) if r[0]}
    assert any(str(k).startswith("Warning") or k == "(none)" for k in about)
    bad = run("report", SAMPLE, "--score", "score", "--label", "outcome", "--group", "race",
              "--scenario", "Baseline=0.5", "--sections", "summary,charts", "--out", tmp_path / "x.xlsx")
    assert bad.returncode == 2 and "--sections 'summary,charts': choose from" in bad.stderr


# ------------------------------------------------- the decision table, described once (issue 16)

def test_decision_table_is_one_description_for_the_window_and_the_workbook():
    from fairdesk.present.table import plain_value
    from fairdesk.reports.decision_tables import decision_table, tier_table, tint
    from fairdesk.undefined import Undefined

    table = load_table(SAMPLE)
    data = prepare(table.frame, MAPPING)
    sc = [baseline([0.5]), Scenario("A rather long name for a stricter option", "thresholds",
                                    {"values": [0.6]}),
          Scenario("Nobody", "thresholds", {"values": [0.9999]})]
    comp = compare(data, sc, bootstrap=5, seed=4)
    rows = comp.table_rows()
    full = decision_table(comp)  # the workbook's
    window = decision_table(comp, compact=True)  # the window's
    shown = {r["index"]: r for r in window.rows if "index" in r}
    assert len(full.rows) == len(shown) == len(rows)
    headings = [r["measure"].value for r in window.rows if r.get("heading")]
    assert headings == list(dict.fromkeys(r["section"] for r in rows))
    for i, r in enumerate(rows):
        for j, v in enumerate(r["values"]):
            a, b = full.rows[i][f"s{j}"], shown[i][f"s{j}"]
            # the same value in the same kind: it reads the same on both surfaces
            assert full.column(f"s{j}").text(a) == window.column(f"s{j}").text(b)
            if np.isnan(v):  # undefined, with the reason
                assert isinstance(plain_value(a), Undefined) and plain_value(a).reason
                assert plain_value(b).reason == plain_value(a).reason
            else:
                assert plain_value(a) == plain_value(b) == v
            lo, hi, how = comp.interval(i, j)
            if not np.isnan(lo):
                assert plain_value(full.rows[i][f"lo{j}"]) == lo
                assert plain_value(full.rows[i][f"hi{j}"]) == hi
            else:
                assert plain_value(full.rows[i][f"lo{j}"]).reason == how
            sd = comp.bootstrap["sd"][i, j]
            got = plain_value(full.rows[i][f"sd{j}"])
            assert isinstance(got, Undefined) if np.isnan(sd) else got == sd
            if j:
                base = r["values"][0]
                d = plain_value(full.rows[i][f"d{j}"])
                assert isinstance(d, Undefined) if np.isnan(v) or np.isnan(base) else \
                    d == pytest.approx(v - base)
                assert shown[i]["tints"].get(f"s{j}") == tint(base, v,
                                                              shown[i]["type"])
    i = comp.row_index("fpr", "Overall")
    assert full.rows[i]["measure"] == "False positive rate"
    first = shown[comp.row_index("fpr", data.group_names[0])]  # the measure named once per block
    assert first["measure"].value == "FPR" and "False positive rate" in first["measure"].tip
    assert shown[i]["measure"].value == "" and shown[i]["group"].value == "Overall"
    assert full.column(f"s{0}").text(full.rows[i]["s0"]).endswith(" %")  # rates: 44.6 %
    assert full.column("d1").text(full.rows[i]["d1"]).endswith(" pts")  # differences: points
    assert shown[i]["tints"]["s1"][0] == "moved"  # a rate that moved: neither better nor worse
    # the names in full in the window's (wrapping) headers
    header = window.column("s1").header
    assert "\n" in header and header.replace("\n", " ") == sc[1].name
    # differences instead of values; rates only overall
    diff = decision_table(comp, compact=True, differences=True, by_group=False, intervals=False,
                          sd=False)
    assert [c.key for c in diff.columns] == ["measure", "group", "s0", "s1", "s2"]
    d_rows = {r["index"]: r for r in diff.rows if "index" in r}
    assert all(r["group"] in ("Overall", "") for k, r in enumerate(rows) if k in d_rows)
    assert plain_value(d_rows[i]["s1"]) == pytest.approx(rows[i]["values"][1] - rows[i]["values"][0])
    # flagging nobody: PPV is 0/0, with the group and the reason
    k = comp.row_index("ppv", data.group_names[0])
    assert "0/0" in plain_value(shown[k]["s2"]).reason and data.group_names[0] in \
        plain_value(shown[k]["s2"]).reason
    # tiers: people per tier and group, shares and calibration, as the engine counted them
    t = tier_table(comp, 1, weighted=True, people_decimals=data.people_decimals)
    m = comp.metrics[1]
    assert [(r["tier"], r["group"]) for r in t.rows] == [
        (f"S{s + 1}", g) for s in range(m.n_tiers) for g in data.group_names]
    for r in t.rows:
        g, s = data.group_names.index(r["group"]), int(r["tier"][1:]) - 1
        assert r["rows"] == m.rows[g, s] and r["people"] == m.people[g, s]
        assert r["share"] == pytest.approx(m.people[g, s] / m.people[g].sum())
    assert plain_value(t.rows[0]["cal"]) == pytest.approx(float(np.atleast_1d(m.fairness["CAL"])[0]))
    assert "people" not in [c.key for c in tier_table(comp, 1, weighted=False).columns]
