"""The code paths that differ on Windows, run here by simulating the platform: the user's
folder under %LOCALAPPDATA%, the Excel lock file, long paths, the .fairdesk double-click
argument, and the windowed program's missing stdout/stderr."""

import errno
import io
import os
import re
import sys

import pytest

import main as entry
from conftest import ROOT
from fairdesk import logfile, selftest
from fairdesk.errors import FairDeskError
from fairdesk.io.outputs import too_long
from fairdesk.reports.workbook import Column, write_csv


@pytest.fixture
def windows_profile(monkeypatch, tmp_path):
    """sys.platform is win32; %LOCALAPPDATA% and %APPDATA% (the roaming profile) are apart."""
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "Local"))
    monkeypatch.setenv("APPDATA", str(tmp_path / "Roaming"))
    monkeypatch.delenv("FAIRDESK_LOG_DIR", raising=False)
    return tmp_path


def test_log_folder_is_in_the_local_profile(windows_profile):
    assert logfile.log_folder() == windows_profile / "Local" / "FairDesk" / "FairDesk"
    assert logfile.user_folder() == logfile.log_folder()


def test_log_folder_without_localappdata(windows_profile, monkeypatch):
    monkeypatch.delenv("LOCALAPPDATA")
    monkeypatch.setattr(logfile.Path, "home", staticmethod(lambda: windows_profile / "home"))
    assert logfile.log_folder() == windows_profile / "home" / "AppData" / "Local" / "FairDesk" / "FairDesk"


def test_cli_log_is_written_under_localappdata(windows_profile):
    with logfile.cli_logging() as logged:
        logfile.log.error("rows %s, column %s", 3, "secret value")
    written = windows_profile / "Local" / "FairDesk" / "FairDesk" / "fairdesk-cli.log"
    assert os.path.samefile(logged.path, written)
    text = written.read_text(encoding="utf-8")
    assert "rows 3, column <text>" in text and "secret value" not in text
    assert not (windows_profile / "Roaming").exists()


def test_window_data_folder_and_autosave_under_localappdata(windows_profile):
    pytest.importorskip("PySide6")
    from fairdesk.gui.paths import autosave_path, data_folder

    folder = windows_profile / "Local" / "FairDesk" / "FairDesk"
    assert data_folder() == folder and folder.is_dir()  # created
    assert autosave_path() == folder / "autosave.fairdesk"
    assert not (windows_profile / "Roaming").exists()


def _columns():
    return [Column("a", "A", kind="int")]


@pytest.mark.parametrize("lock", ["~${}", ".~lock.{}#"])
def test_office_lock_file_refuses_the_write(tmp_path, lock):
    """Excel (~$name) and LibreOffice (.~lock.name#) leave a lock beside a file they have
    open; Windows would refuse the replace, so FairDesk says why before writing."""
    target = tmp_path / "rows.csv"
    (tmp_path / lock.format(target.name)).write_bytes(b"owner")
    with pytest.raises(FairDeskError, match="lock file"):
        write_csv(target, _columns(), [{"a": 1}])
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir()] == [lock.format(target.name)]  # no temporary left
    (tmp_path / lock.format(target.name)).unlink()
    write_csv(target, _columns(), [{"a": 1}])
    assert target.exists()


def test_windows_path_too_long_error(monkeypatch, tmp_path):
    """ERROR_FILENAME_EXCED_RANGE (206) is how Windows refuses a path past MAX_PATH."""
    def refuse(path, *a, **k):
        err = OSError(errno.EINVAL, "The filename or extension is too long")
        err.winerror = 206
        raise err
    monkeypatch.setattr(os, "stat", refuse)
    assert too_long(tmp_path / "x.csv")


def test_long_path_refused_with_a_message(tmp_path):
    target = tmp_path / ("n" * 300 + ".csv")  # a name longer than any file system allows
    assert too_long(target)
    with pytest.raises(FairDeskError, match="too long"):
        write_csv(target, _columns(), [{"a": 1}])
    assert list(tmp_path.iterdir()) == []


def test_double_clicked_project_opens_in_the_window(monkeypatch):
    """Explorer runs `FairDesk.exe "%1"` (installer/fairdesk.iss) with the full path."""
    import fairdesk.gui.app as gui_app
    opened = []
    monkeypatch.setattr(gui_app, "run_app", lambda argv: opened.append(list(argv)) or 0)
    path = r"C:\Users\Ana Lopes\Documents\Audit 2026 (final).fairdesk"
    assert entry.main([path]) == 0
    assert opened == [[path]]
    # a project whose name is a subcommand's is still a file to open
    named = r"C:\Users\ana\audit.fairdesk"
    assert entry.main([named]) == 0 and opened[-1] == [named]


def test_installer_association_passes_the_path_quoted():
    iss = (ROOT / "installer" / "fairdesk.iss").read_text(encoding="utf-8")
    command = re.search(r'FairDesk\.Project\\shell\\open\\command".*ValueData: "(.*)"$', iss, re.M).group(1)
    assert command == '""{app}\\FairDesk.exe"" ""%1""'  # both quoted: spaces in either path
    # the extension's key goes when FairDesk is uninstalled (nothing left in HKCU)
    ext = next(line for line in iss.splitlines() if 'Subkey: "Software\\Classes\\.fairdesk"' in line)
    assert "uninsdeletevalue" in ext and "uninsdeletekeyifempty" in ext


def test_windowed_program_without_stdout(monkeypatch, capsys):
    """FairDesk.exe is built with console=False: sys.stdout and sys.stderr are None."""
    monkeypatch.setattr(sys, "stdout", None)
    monkeypatch.setattr(sys, "stderr", None)
    assert entry.main(["--help"]) == 0  # argparse writes the help: to the null device
    assert sys.stdout is not None and sys.stderr is not None
    sys.stdout.write("nothing\n")
    sys.stderr.write("nothing\n")


def test_selftest_writes_to_the_stdout_of_the_call(monkeypatch):
    """run() takes sys.stdout when called, not when imported (it was None at import in the
    windowed program, and the self-test failed writing its first line)."""
    monkeypatch.setattr(selftest, "_checks", lambda: [("quick", lambda: "fine")])
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    assert selftest.run() == 0
    assert out.getvalue().startswith("PASS quick: fine")
