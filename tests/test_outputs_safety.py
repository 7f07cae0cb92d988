"""Issue 13, item 8: outputs never destroy data.

An existing file FairDesk did not write is replaced only with --force (or the window's
confirmation); an output's extension must match what is written; an output is never an
input (links included) and this is refused before any computation; a full disk, a path too
long and a permission error give a clean message, leave the previous file as it was and
print no "Exception ignored". In the window: a bad project or a busy worker never changes
the current analysis or project, and Ctrl+S saves the project shown.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys

import pytest

from conftest import HANG_MS, ROOT, SAMPLE, open_and_wait, wait_idle

from fairdesk import cli
from fairdesk.errors import DataError, FairDeskError
from fairdesk.io import loading, outputs
from fairdesk.io.loading import file_sha256
from fairdesk.project import Project, load_project, save_project
from fairdesk.reports import workbook as wbmod
from fairdesk.reports.workbook import Column, Table, write_csv, write_workbook

MAPPED = ["--score", "score", "--label", "outcome", "--group", "race"]
JUNK = b"someone's notes, not FairDesk's\n"


@pytest.fixture(autouse=True)
def _isolate(tmp_path, monkeypatch):
    monkeypatch.setenv("FAIRDESK_LOG_DIR", str(tmp_path / "log"))
    yield
    outputs._confirmed.clear()  # a confirmation never leaks into the next test


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_bytes(SAMPLE.read_bytes())
    return path


def run(argv, capsys):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "internal problem" not in err, err
    return code, out, err


def never_computed(monkeypatch):
    """Make every computation fail loudly: a refusal must come before it."""
    import fairdesk.audit
    import fairdesk.scenarios

    def boom(*_a, **_k):
        raise AssertionError("computed before refusing the output")

    monkeypatch.setattr(fairdesk.audit, "run_audit", boom)
    monkeypatch.setattr(fairdesk.scenarios, "compare", boom)
    monkeypatch.setattr(cli, "load_data", boom)


# ------------------------------------------------------------------ the command line

def test_existing_foreign_file_is_kept_without_force(data, tmp_path, capsys, monkeypatch):
    for option, name in (("--out", "notes.xlsx"), ("--rows-out", "notes.csv")):
        target = tmp_path / name
        target.write_bytes(JUNK)
        argv = ["export", data, *MAPPED, "--bootstrap", "0", "--out", tmp_path / "w.xlsx",
                option, target]
        with monkeypatch.context() as m:
            never_computed(m)
            code, out, err = run(argv, capsys)
        assert code == 2
        assert f"{option} “{target}” already exists and is not a file FairDesk wrote" in err
        assert "--force" in err
        assert target.read_bytes() == JUNK
        code, out, err = run(argv + ["--force"], capsys)
        assert code == 0, err
        assert target.read_bytes() != JUNK


def test_recall_ids_out_keeps_a_foreign_csv(data, tmp_path, capsys):
    target = tmp_path / "ids.csv"
    target.write_bytes(JUNK)
    code, out, err = run(["recall", data, *MAPPED, "--k", "100", "--ids-out", target], capsys)
    assert code == 2 and "--ids-out" in err and target.read_bytes() == JUNK


def test_fairdesk_outputs_are_replaced_without_force(data, tmp_path, capsys):
    book, rows = tmp_path / "w.xlsx", tmp_path / "rows.csv"
    argv = ["export", data, *MAPPED, "--bootstrap", "0", "--out", book, "--rows-out", rows]
    assert run(argv, capsys)[0] == 0
    assert outputs.is_fairdesk_workbook(book)
    first = rows.read_bytes()
    assert first.startswith(b"\xef\xbb\xbf")
    code, out, err = run(argv + ["--threshold", "0.3"], capsys)
    assert code == 0, err
    assert rows.read_bytes() != first  # replaced: other decisions at 0.3


def test_foreign_workbook_with_a_fairdesk_like_name_is_kept(tmp_path):
    """The mark is FairDesk as creator *and* the About sheet, not the file name."""
    from openpyxl import Workbook

    target = tmp_path / "decision tables.xlsx"
    wb = Workbook()
    wb.active.title = "Data"
    wb.save(target)
    before = target.read_bytes()
    assert not outputs.is_fairdesk_workbook(target)
    with pytest.raises(FairDeskError, match="is not a file FairDesk wrote"):
        write_workbook(target, about={}, tables=[])
    assert target.read_bytes() == before
    write_workbook(target, about={}, tables=[], force=True)
    assert outputs.is_fairdesk_workbook(target)
    write_workbook(target, about={}, tables=[])  # now FairDesk's own: replaced freely


def test_csv_is_fairdesk_only_with_the_same_header(tmp_path):
    cols = [Column("group", "group"), Column("n", "n", "int")]
    target = tmp_path / "r.csv"
    write_csv(target, cols, [{"group": "a", "n": 1}])
    write_csv(target, cols, [{"group": "b", "n": 2}])  # same header: FairDesk's own, replaced
    assert "b" in target.read_text(encoding="utf-8-sig")
    with pytest.raises(FairDeskError, match="is not a file FairDesk wrote"):
        write_csv(target, [Column("other", "other")], [{"other": "x"}])


@pytest.mark.parametrize("argv_tail,option,ending", [
    (["export", "--bootstrap", "0", "--out", "x.csv"], "--out", ".xlsx"),
    (["export", "--bootstrap", "0", "--out", "x.xlsx", "--rows-out", "r.txt"], "--rows-out",
     ".csv or .xlsx"),
    (["recall", "--k", "100", "--ids-out", "ids.xlsx"], "--ids-out", ".csv"),
    (["recall", "--k", "100", "--out", "book.ods"], "--out", ".xlsx"),
    (["eodds", "--no-curves", "--rows-out", "p.json"], "--rows-out", ".csv or .xlsx"),
    (["report", "--baseline", "0.5", "--out", "meeting.fairdesk"], "--out", ".xlsx"),
])
def test_output_extension_must_match(argv_tail, option, ending, data, tmp_path, capsys,
                                     monkeypatch):
    command, *rest = argv_tail
    rest = [str(tmp_path / v) if v.split(".")[-1] in ("csv", "xlsx", "txt", "ods", "json",
                                                      "fairdesk") else v for v in rest]
    never_computed(monkeypatch)
    code, out, err = run([command, data, *MAPPED, *rest], capsys)
    assert code == 2
    assert err.startswith(f"error: {option} '") and f"the name must end in {ending}" in err
    assert list(tmp_path.glob("x.*")) == [] and list(tmp_path.glob("r.*")) == []


def test_report_onto_its_own_project_is_refused_before_computing(data, tmp_path, capsys,
                                                                 monkeypatch):
    project = save_project(Project(str(data), file_sha256(data),
                                   {"score": "score", "label": "outcome", "groups": ["race"]}),
                           tmp_path / "P.fairdesk")
    before = project.read_bytes()
    never_computed(monkeypatch)
    code, out, err = run(["report", project, "--out", project], capsys)
    assert code == 2 and f"--out '{project}' is the data file" in err
    assert project.read_bytes() == before
    # the project's data file named as the output (through a symbolic link)
    link = tmp_path / "link.xlsx"
    xlsx = tmp_path / "data.xlsx"
    xlsx.write_bytes(b"pretend")
    os.symlink(xlsx, link)
    p2 = save_project(Project(str(xlsx), file_sha256(xlsx), {"score": "score"}),
                      tmp_path / "Q.fairdesk")
    code, out, err = run(["report", p2, "--out", link], capsys)
    assert code == 2 and "is the project's data file" in err
    assert xlsx.read_bytes() == b"pretend"


def test_output_equal_to_input_through_links(data, tmp_path, capsys, monkeypatch):
    never_computed(monkeypatch)
    hard = tmp_path / "hard.csv"
    os.link(data, hard)
    soft = tmp_path / "soft.csv"
    os.symlink(data, soft)
    before = data.read_bytes()
    for target in (hard, soft, tmp_path / "." / "scores.csv"):
        code, out, err = run(["export", data, *MAPPED, "--out", tmp_path / "w.xlsx",
                              "--rows-out", target, "--force"], capsys)
        assert code == 2 and "is the data file. FairDesk never writes over its input" in err
    code, out, err = run(["export", data, *MAPPED, "--out", tmp_path / "w.xlsx",
                          "--rows-out", tmp_path / "w.xlsx"], capsys)
    assert code == 2 and "--rows-out and --out name the same file" in err
    assert data.read_bytes() == before


def test_too_long_output_path_is_a_message(data, tmp_path, capsys, monkeypatch):
    never_computed(monkeypatch)
    long_name = tmp_path / ("a" * 300 + ".xlsx")
    code, out, err = run(["export", data, *MAPPED, "--out", long_name], capsys)
    assert code == 2 and "is too long for this computer" in err
    with pytest.raises(FairDeskError, match="too long for this computer"):
        write_workbook(long_name, about={}, tables=[])
    with pytest.raises(FairDeskError, match="too long for this computer"):
        save_project(Project(str(data), "0" * 64, {}), tmp_path / ("p" * 300 + ".fairdesk"))


class _DiskFull:
    """A file object whose writes fail as on a full disk (everything else is the real file's)."""

    def __init__(self, real):
        self._real = real

    def write(self, _data):
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self._real, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._real.close()


@pytest.fixture
def unraisable(monkeypatch):
    """Collect what Python would print as "Exception ignored in …"."""
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append(u))
    return seen


def _full_disk(monkeypatch):
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda *a, **k: _DiskFull(real_fdopen(*a, **k)))


def test_full_disk_keeps_the_previous_files(tmp_path, monkeypatch, unraisable):
    import gc

    book = tmp_path / "w.xlsx"
    write_workbook(book, about={}, tables=[])
    csv_path = tmp_path / "r.csv"
    write_csv(csv_path, [Column("a", "a", "int")], [{"a": 1}])
    project = save_project(Project(str(tmp_path / "in.csv"), "0" * 64, {}), tmp_path / "p.fairdesk")
    before = {p: p.read_bytes() for p in (book, csv_path, project)}
    _full_disk(monkeypatch)
    with pytest.raises(FairDeskError, match=r"the disk is full.*previous file, if any, is unchanged"):
        write_workbook(book, about={}, tables=[Table("T", [Column("a", "a", "int")], [{"a": 1}])])
    with pytest.raises(FairDeskError, match="the disk is full"):
        write_csv(csv_path, [Column("a", "a", "int")], [{"a": 2}])
    with pytest.raises(FairDeskError, match="the disk is full"):
        save_project(Project(str(tmp_path / "in.csv"), "1" * 64, {}), project)
    gc.collect()
    assert not unraisable, unraisable
    assert {p: p.read_bytes() for p in before} == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == \
        ["p.fairdesk", "r.csv", "w.xlsx"]  # no temporary file left behind


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_FSIZE")
def test_a_real_write_failure_prints_no_noise(data, tmp_path):
    """End to end in a process whose files cannot grow past 64 KB (the OS refuses the
    write): a clean message, exit 2, no "Exception ignored", the old file intact."""
    import resource
    import signal

    rows = tmp_path / "rows.csv"
    rows.write_bytes(b"\xef\xbb\xbfold,file\r\n")  # looks like FairDesk's, so it is replaced

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "export", str(data), *MAPPED,
                        "--bootstrap", "0", "--out", str(tmp_path / "w.xlsx"), "--rows-out",
                        str(rows), "--force"],
                       capture_output=True, text=True, timeout=600, cwd=ROOT, preexec_fn=limit,
                       env={**os.environ, "FAIRDESK_LOG_DIR": str(tmp_path / "log"),
                            "PYTHONDONTWRITEBYTECODE": "1"})
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("error: Could not write") and "File too large" in r.stderr
    assert "Exception ignored" not in r.stderr and "Traceback" not in r.stderr
    assert rows.read_bytes() == b"\xef\xbb\xbfold,file\r\n"


def test_permission_error_on_replace_is_a_message(tmp_path, monkeypatch, unraisable):
    project = save_project(Project(str(tmp_path / "in.csv"), "0" * 64, {}), tmp_path / "p.fairdesk")
    before = project.read_bytes()

    def denied(*_a):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "replace", denied)
    with pytest.raises(FairDeskError, match="is open in another program .* or read-only"):
        save_project(Project(str(tmp_path / "in.csv"), "1" * 64, {}), project)
    assert project.read_bytes() == before and not unraisable
    assert [p.name for p in tmp_path.iterdir()] == ["p.fairdesk"]


def test_project_save_never_replaces_a_foreign_file(tmp_path):
    target = tmp_path / "notes.fairdesk"
    target.write_bytes(JUNK)
    with pytest.raises(FairDeskError, match="is not a file FairDesk wrote"):
        save_project(Project(str(tmp_path / "in.csv"), "0" * 64, {}), target)
    assert target.read_bytes() == JUNK
    save_project(Project(str(tmp_path / "in.csv"), "0" * 64, {}), target, force=True)
    assert json.loads(target.read_text(encoding="utf-8"))["format"] == "fairdesk-project"


@pytest.mark.parametrize("name,kind", [("report.pdf", "a document"), ("memo.docx", "a document"),
                                       ("tool.exe", "a program or shortcut")])
def test_text_with_a_non_data_extension_is_refused(tmp_path, name, kind):
    path = tmp_path / name
    path.write_text("score,label\n0.5,1\n", encoding="utf-8")  # bytes that would parse as CSV
    with pytest.raises(DataError) as info:
        loading.load_table(path)
    assert str(info.value).startswith(f"'{name}' is {kind}, not a table")


# ------------------------------------------------------------------------- the window

def _tampered_project(tmp_path, data):
    bad = tmp_path / "bad.fairdesk"
    good = save_project(Project(str(data), file_sha256(data),
                                {"score": "score", "label": "outcome", "groups": ["race"]}),
                        tmp_path / "good.fairdesk")
    d = json.loads(good.read_text(encoding="utf-8"))
    d["mapping"] = ["score"]
    bad.write_text(json.dumps(d), encoding="utf-8")
    return good, bad


def test_window_bad_project_and_busy_worker_leave_the_analysis(loaded_window, qtbot, tmp_path,
                                                               data):
    import threading

    w = loaded_window
    before_data, before_table = w.state.data, w.state.table
    w.state.project_path = str(tmp_path / "current.fairdesk")
    good, bad = _tampered_project(tmp_path, data)
    w.open_path(str(bad))  # validated before anything is used: a message, nothing changes
    assert len(w.errors) == 1
    assert "bad.fairdesk is not a readable FairDesk project: mapping must be an object" \
        in w.errors[0][0]
    assert w.state.data is before_data and w.state.table is before_table
    assert w.state.project_path == str(tmp_path / "current.fairdesk")
    # a project whose data path is a FIFO: refused at once, nothing changes
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "pipe.csv"
        os.mkfifo(fifo)
        d = json.loads(good.read_text(encoding="utf-8"))
        d["input_path"], d["input_relative"] = str(fifo), None
        pointing = tmp_path / "fifo.fairdesk"
        pointing.write_text(json.dumps(d), encoding="utf-8")
        w.open_path(str(pointing))
        assert "pipe.csv is not an ordinary file" in w.errors[-1][0]
        assert w.state.data is before_data
    # while a job runs, opening a project changes nothing either
    release = threading.Event()
    w.worker.start(lambda job: release.wait(HANG_MS / 1000), title="Busy")
    try:
        w.open_path(str(good))
        assert "Please wait for the running job" in w.errors[-1][0]
        assert w.state.project_path == str(tmp_path / "current.fairdesk")
        assert w.state.table is before_table
    finally:
        release.set()
    wait_idle(qtbot, w)
    # the window is still usable: the good project opens and becomes the project shown
    with qtbot.waitSignal(w.dataReady, timeout=HANG_MS):
        w.open_path(str(good))
    wait_idle(qtbot, w)
    assert w.state.project_path == str(good)
    assert w.state.table.source.path == str(data)


def test_window_ctrl_s_saves_the_project_shown(make_window, qtbot, tmp_path, data, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    w = make_window(show=False)
    good, _ = _tampered_project(tmp_path, data)
    with qtbot.waitSignal(w.dataReady, timeout=HANG_MS):
        w.open_path(str(good))
    wait_idle(qtbot, w)
    assert w.state.project_path == str(good)
    w.state.set_thresholds([0.37])
    assert w.save_project() == str(good)  # Ctrl+S: the project shown, without a question
    assert load_project(good).settings["_thresholds"]["values"] == [0.37]
    # another data file replaces the analysis: Ctrl+S must not write it into good.fairdesk
    before = good.read_bytes()
    open_and_wait(qtbot, w, SAMPLE)
    assert w.state.project_path is None
    asked = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (asked.append(a) or "", "")))
    assert w.save_project() is None and len(asked) == 1
    assert good.read_bytes() == before


def test_window_export_over_a_foreign_file_needs_the_dialog(loaded_window, qtbot, tmp_path,
                                                            monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    w = loaded_window
    target = tmp_path / "notes.xlsx"
    target.write_bytes(JUNK)
    w.export_workbook(str(target))  # no dialog asked: refused, file kept, window usable
    wait_idle(qtbot, w)
    assert "is not a file FairDesk wrote" in w.errors[-1][0] and target.read_bytes() == JUNK
    # through File ▸ Export the save dialog has asked to replace it: replaced
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(target), "")))
    from fairdesk.gui import main_window
    monkeypatch.setattr(main_window.dialogs, "choose_sections",
                        lambda parent, offered: [key for key, _ in offered])
    n_errors = len(w.errors)
    w.export_dialog()
    wait_idle(qtbot, w)
    assert len(w.errors) == n_errors, w.errors[n_errors:]
    assert outputs.is_fairdesk_workbook(target)


def test_window_closes_with_a_job_running(make_window, qtbot):
    import time

    w = make_window()
    started = []

    def long_job(job):
        started.append(True)
        while True:  # a long computation that checks Cancel between steps
            job.check()
            time.sleep(0.01)

    w.worker.start(long_job, title="Long")
    qtbot.waitUntil(lambda: bool(started), timeout=HANG_MS)
    assert w.close()
    assert not w.isVisible()
    qtbot.waitUntil(lambda: not w.worker.busy, timeout=HANG_MS)


def test_window_asks_before_a_changed_data_file(make_window, qtbot, tmp_path, data,
                                                monkeypatch):
    w = make_window(show=False)
    good, _ = _tampered_project(tmp_path, data)
    with open(data, "a", encoding="utf-8") as fh:
        fh.write("\n")  # the data file changes after the project was saved
    asked = []
    monkeypatch.setattr(w, "ask_changed_input", lambda problem: asked.append(problem) or False)
    w.open_path(str(good))
    assert len(asked) == 1 and f"The input file {data} has changed" in asked[0]  # full path
    assert w.state.table is None and w.state.project_path is None and not w.worker.busy
    monkeypatch.setattr(w, "ask_changed_input", lambda problem: True)
    with qtbot.waitSignal(w.dataReady, timeout=HANG_MS):
        w.open_path(str(good))
    wait_idle(qtbot, w)
    assert w.state.project_path == str(good) and w.errors == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
def test_output_that_is_a_fifo_is_refused_without_opening_it(data, tmp_path, capsys):
    import threading

    fifo = tmp_path / "out.xlsx"
    os.mkfifo(fifo)
    box = {}

    def attempt():
        try:
            write_workbook(fifo, about={}, tables=[], force=True)
        except FairDeskError as err:
            box["message"] = str(err)

    t = threading.Thread(target=attempt, daemon=True)
    t.start()
    t.join(HANG_MS / 1000)
    assert not t.is_alive(), "blocked opening the FIFO"
    assert "is not an ordinary file (a pipe or device)" in box["message"]
    t = threading.Thread(target=lambda: box.update(
        code=run(["export", data, *MAPPED, "--bootstrap", "0", "--out", fifo], capsys)),
        daemon=True)
    t.start()
    t.join(HANG_MS / 1000)
    assert not t.is_alive(), "blocked opening the FIFO"
    code, out, err = box["code"]
    assert code == 2 and "is not an ordinary file" in err
