"""The command line: JSON shape, published numbers, errors on stderr with exit code 2."""

import json
import subprocess
import sys

import openpyxl
import pytest

from conftest import ROOT, SHARED

SAMPLE = ROOT / "resources" / "sample" / "sample_scores.csv"
COMPAS = SHARED / "compas_two_year.csv"


def run(*args):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


@pytest.mark.skipif(not COMPAS.exists(), reason="shared data not present")
def test_audit_json_on_compas():
    r = run("audit", COMPAS, "--score", "decile_score", "--label", "two_year_recid",
            "--group", "race", "--threshold", "5", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["n"] == 6172
    aa, ca = out["groups"]["African-American"], out["groups"]["Caucasian"]
    assert round(aa["fpr"], 4) == 0.4234 and round(ca["fpr"], 4) == 0.2201
    assert round(aa["fnr"], 4) == 0.2848 and round(ca["fnr"], 4) == 0.4964
    expected = {"n", "weight", "positives", "prevalence", "selection_rate", "tpr", "fnr", "fpr",
                "tnr", "ppv", "fdr", "npv", "for", "accuracy", "auc"}
    assert expected <= set(aa)
    assert set(out["fairness"]) == {"ERB", "CUAE", "PP", "SP", "TE", "PE", "EO", "OAE", "CAL"}
    assert isinstance(out["fairness"]["CAL"], list) and len(out["fairness"]["CAL"]) == 2
    assert len(out["xauc"]) == 6 * 5
    assert isinstance(out["warnings"], list)


def test_audit_sample_several_thresholds_and_cartesian_groups():
    r = run("audit", SAMPLE, "--score", "score", "--label", "outcome", "--group", "race",
            "--group", "sex", "--weight", "weight", "--threshold", "0.3,0.5", "--threshold", "mean",
            "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert len(out["thresholds"]) == 3 and len(out["by_threshold"]) == 3
    assert "Group A, Female" in out["groups"]
    assert len(out["fairness"]["CAL"]) == 4


def test_undefined_is_null_with_warning(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("s,y,g\n0.9,1,a\n0.1,0,a\n0.8,1,b\n0.3,1,b\n")
    r = run("audit", f, "--score", "s", "--label", "y", "--group", "g", "--threshold", "0.5", "--json",
            "--min-group-size", "1")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["groups"]["b"]["fpr"] is None
    assert any("fpr" in w and "negative outcome" in w for w in out["warnings"])


def test_errors_go_to_stderr_with_exit_2(tmp_path):
    r = run("audit", tmp_path / "missing.csv", "--score", "s", "--label", "y", "--group", "g")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "missing.csv" in r.stderr
    f = tmp_path / "d.csv"
    f.write_text("s,y,g\n0.9,1,a\nhigh,0,a\n0.8,2,b\n0.3,3,b\n")
    r = run("audit", f, "--score", "s", "--label", "y", "--group", "g")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "'y'" in r.stderr and "3" in r.stderr
    r = run("audit", f, "--score", "nope", "--label", "y", "--group", "g")
    assert r.returncode == 2 and "'nope'" in r.stderr
    r = run("audit", SAMPLE, "--score", "score", "--label", "outcome", "--threshold", "banana")
    assert r.returncode == 2 and "not a threshold" in r.stderr


def test_export_workbook(tmp_path):
    out = tmp_path / "tables.xlsx"
    rows = tmp_path / "rows.csv"
    r = run("export", SAMPLE, "--score", "score", "--label", "outcome", "--group", "race",
            "--weight", "weight", "--threshold", "0.5", "--bootstrap", "5", "--seed", "9",
            "--reference", "Group B", "--out", out, "--rows-out", rows)
    assert r.returncode == 0, r.stderr
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == "About this workbook"
    assert {"Rates by group", "Fairness", "Vs reference", "Cross-AUC", "Bootstrap", "Tiers"} <= set(wb.sheetnames)
    about = {row[0]: row[1] for row in wb["About this workbook"].iter_rows(values_only=True) if row[0]}
    import hashlib
    assert about["SHA-256"] == hashlib.sha256(SAMPLE.read_bytes()).hexdigest()
    assert str(about["bootstrap"]) == "9"
    lines = rows.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 6001


def test_export_refuses_input_as_target(tmp_path):
    r = run("export", SAMPLE, "--score", "score", "--label", "outcome", "--group", "race",
            "--out", SAMPLE)
    assert r.returncode == 2 and "input" in r.stderr.lower()
