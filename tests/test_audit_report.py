"""The audit's workbook: values equal the engine's, formats, undefined cells, injection."""

import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

from fairdesk.audit import run_audit
from fairdesk.io.loading import load_table
from fairdesk.reports.audit_report import audit_tables, row_decisions, write_decision_tables, write_row_decisions
from fairdesk.schema import ColumnMapping
from fairdesk.validation import prepare


@pytest.fixture
def loaded(tmp_path):
    rng = np.random.default_rng(2)
    n = 300
    groups = np.array(['=HYPERLINK("http://x","click")', "B", "C"])[rng.integers(0, 3, n)]
    y = rng.integers(0, 2, n)
    y[groups == "C"] = 1  # group C has no negatives: its FPR is undefined
    f = tmp_path / "in.csv"
    pd.DataFrame({"id": np.arange(n), "s": rng.random(n).round(3), "y": y, "g": groups}).to_csv(f, index=False)
    table = load_table(f)
    data = prepare(table.frame, ColumnMapping(score="s", label="y", groups=["g"], id="id"))
    return table, data


def test_workbook_values_formats_and_safety(tmp_path, loaded):
    table, data = loaded
    result = run_audit(data, [0.5])
    out = tmp_path / "out.xlsx"
    write_decision_tables(out, table.source, data, audit_tables(result, data, include_tiers=True),
                          {"Threshold": 0.5}, {"none": 0})
    wb = openpyxl.load_workbook(out)
    ws = wb["Rates by group"]
    header_row = next(r for r in range(1, 5) if ws.cell(r, 1).value == "Group")
    headers = [c.value for c in ws[header_row]]
    assert ws.cell(header_row, 1).font.bold
    fpr_col = headers.index("False positive rate") + 1
    by_group = {ws.cell(r, 1).value: r for r in range(header_row + 1, header_row + 5)}
    inj = '=HYPERLINK("http://x","click")'
    assert inj in by_group and ws.cell(by_group[inj], 1).data_type == "s"
    g = data.group_names.index("B")
    cell = ws.cell(by_group["B"], fpr_col)
    assert cell.value == pytest.approx(result.rates["fpr"][g, 0])
    assert "%" in cell.number_format
    undefined = ws.cell(by_group["C"], fpr_col)
    assert undefined.value == "undefined" and "negative outcome" in undefined.comment.text
    with zipfile.ZipFile(out) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/sheet"):
                assert "<f>" not in z.read(name).decode()
    assert ws._charts, "rates by group has a native chart"


def test_row_decisions_match_thresholds(tmp_path, loaded):
    table, data = loaded
    cols, values = row_decisions(data, [0.3, 0.7])
    assert np.array_equal(values["flag1"], (data.score >= 0.3).astype(int))
    assert np.array_equal(values["tier"], 1 + (data.score >= 0.3) + (data.score >= 0.7))
    out = write_row_decisions(tmp_path / "rows.xlsx", table.source, data, [0.3, 0.7])
    ws = openpyxl.load_workbook(out)["Decisions"]
    assert ws.max_row >= data.n + 1


def test_workbook_kinds_read_as_in_the_window(tmp_path, loaded):
    """Thresholds in the score's decimals, rates as percentages, differences in points,
    FN/FP as a ratio: the same kinds as the Audit page's tables."""
    table, data = loaded
    result = run_audit(data, [0.5])
    tables = {t.sheet: t for t in audit_tables(result, data, include_tiers=True)}
    rates = tables["Rates by group"]
    assert rates.column("threshold").kind == "score"
    assert rates.column("threshold").decimals == data.score_decimals == 3
    assert rates.column("fpr").kind == "rate" and rates.column("fn_fp").kind == "ratio"
    assert rates.column("tp").kind == "people" and rates.column("rows").kind == "count"
    ref = tables["Vs reference"]
    assert ref.column("difference").kind == "difference" and ref.column("value").kind == "rate"
    out = tmp_path / "kinds.xlsx"
    write_decision_tables(out, table.source, data, list(tables.values()), {}, {})
    ws = openpyxl.load_workbook(out)["Vs reference"]
    header_row = next(r for r in range(1, 6) if ws.cell(r, 1).value == "Rate")
    headers = [c.value for c in ws[header_row]]
    rows = list(ws.iter_rows(min_row=header_row + 1, values_only=False))
    diff_col = headers.index("Difference (group − reference)")
    fpr_row = next(r for r in rows if r[0].value == "False positive rate"
                   and r[headers.index("Group")].value == "B")
    g, ref_g = data.group_names.index("B"), 0
    want = result.rates["fpr"][g, 0] - result.rates["fpr"][ref_g, 0]
    cell = fpr_row[diff_col]
    assert cell.value == pytest.approx(100 * want)  # stored in points, shown "+3.2 pts"
    assert "pts" in cell.number_format
    fnfp_row = next(r for r in rows if r[0].value.startswith("FN/FP")
                    or r[0].value.startswith("Treatment"))
    assert "pts" not in fnfp_row[diff_col].number_format  # a ratio's difference is plain
    thr = fpr_row[headers.index("Threshold")]
    assert thr.value == 0.5 and thr.number_format == "0.000"
