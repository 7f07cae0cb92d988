"""Memory check before loading; nothing opens a network connection."""

import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from fairdesk.errors import DataError
from fairdesk.io.memory import available_memory, check_fits

SAMPLE = ROOT / "resources" / "sample" / "sample_scores.csv"


def test_memory_check_message(tmp_path):
    f = tmp_path / "big.csv"
    f.write_bytes(b"s,y\n" + b"0.5,1\n" * 100_000)
    with pytest.raises(DataError, match="would need about .* GB of memory") as e:
        check_fits(f, available=1000)
    assert "split the file" in str(e.value) and "big.csv" in str(e.value)
    check_fits(f, available=10 ** 12)  # fits: no error
    assert available_memory() is None or available_memory() > 0


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError(f"network use attempted: {a!r}")
    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "gethostbyname", refuse)


def test_selftest_offline(no_network):
    """Every engine, the workbook and the window (the self-test) with the network refused."""
    import io

    from fairdesk.gui.selftest_window import window_check
    from fairdesk.selftest import run
    out = io.StringIO()
    assert run(out, extra_checks=[("window (offscreen)", window_check)]) == 0, out.getvalue()
    assert "PASS window" in out.getvalue()
    assert "FAIL" not in out.getvalue()


def test_whole_workflow_offline(no_network, tmp_path):
    """Load, audit, bootstrap, correction, scenarios, export — with sockets and DNS refused."""
    import openpyxl

    from fairdesk.audit import run_audit
    from fairdesk.bootstrap import bootstrap_audit
    from fairdesk.engines.threshold_correction import CorrectionSettings, run_correction
    from fairdesk.io.loading import load_table
    from fairdesk.reports.audit_report import audit_tables, write_decision_tables
    from fairdesk.reports.meeting_report import write_meeting_workbook
    from fairdesk.scenarios import baseline, compare
    from fairdesk.schema import ColumnMapping
    from fairdesk.validation import prepare

    table = load_table(SAMPLE)
    data = prepare(table.frame, ColumnMapping(score="score", label="outcome", groups=["race"], id="person_id",
                                              household="household_id", weight="weight"))
    result = run_audit(data, [0.5])
    boot = bootstrap_audit(data, [0.5], resamples=3, seed=1)
    corr = run_correction(data, CorrectionSettings(weights=(0.0, 1.0), subsamples=2, audit_subsamples=2,
                                                   workers=1))
    assert corr.to_json()["best"]
    comp = compare(data, [baseline([0.5]), baseline([0.6], "Strict")])
    out = write_decision_tables(tmp_path / "a.xlsx", table.source, data, audit_tables(result, data, boot), {}, {})
    write_meeting_workbook(tmp_path / "m.xlsx", table.source, data, comp)
    assert openpyxl.load_workbook(out).sheetnames[0] == "About this workbook"


def test_no_network_modules_in_the_code():
    """No module of FairDesk imports a network library."""
    banned = ("import socket", "import urllib", "from urllib", "import http", "from http", "import requests",
              "import ftplib", "import smtplib", "import xmlrpc", "webbrowser")
    offenders = []
    for path in (ROOT / "fairdesk").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        offenders += [f"{path.relative_to(ROOT)}: {b}" for b in banned if b in text]
    assert not offenders, offenders
