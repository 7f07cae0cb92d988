"""The self-test, from source and (with `make bundle-test`) from the frozen bundle."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT


def test_selftest_from_source():
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "--selftest"], capture_output=True, text=True,
                       timeout=600, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines[-1].startswith("all checks passed")
    assert all(line.startswith("PASS") for line in lines[:-1])
    assert any("workbook" in line for line in lines) and any("window" in line for line in lines)


BUNDLE = Path(os.environ.get("FAIRDESK_BUNDLE", ROOT / "dist" / "FairDesk"))
CLI = BUNDLE / ("fairdesk-cli.exe" if sys.platform == "win32" else "fairdesk-cli")


@pytest.mark.bundle
def test_frozen_selftest():
    assert CLI.exists(), f"build the bundle first (make bundle): {CLI} is missing"
    r = subprocess.run([str(CLI), "--selftest"], capture_output=True, text=True, timeout=600,
                       env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip().splitlines()[-1].startswith("all checks passed")


@pytest.mark.bundle
def test_frozen_command_line():
    sample = BUNDLE / "_internal" / "resources" / "sample" / "sample_scores.csv"
    if not sample.exists():
        sample = ROOT / "resources" / "sample" / "sample_scores.csv"
    r = subprocess.run([str(CLI), "audit", str(sample), "--score", "score", "--label", "outcome",
                        "--group", "race", "--json"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["n"] == 6000
    r = subprocess.run([str(CLI), "erb", str(sample), "--score", "score", "--label", "outcome", "--group",
                        "race", "--weights", "0,1", "--subsamples", "2", "--audit-subsamples", "2", "--json",
                        "--workers", "2"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr  # worker processes start in the frozen program too
    assert json.loads(r.stdout)["definition"] == "ERB"
