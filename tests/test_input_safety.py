"""Issue 13, items 5, 6 and 9: odd option values, files that are not regular files, and a
quiet stderr.

Every subcommand is run with a battery of odd option values through ``fairdesk.cli.main``
(and a few through a real process): the answer is exit code 0 (a legitimate value) or 2
with a message on stderr, never a traceback and never the last-resort "internal problem"
line (which would mean a bug was caught rather than the value checked).
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
import warnings

import numpy as np
import pytest

from conftest import ROOT

from fairdesk import cli
from fairdesk.errors import Cancelled, DataError, FairDeskError
from fairdesk.io import loading

SAMPLE = ROOT / "resources" / "sample" / "sample_scores.csv"
INTERNAL = "internal problem"


@pytest.fixture(autouse=True)
def _log_dir(tmp_path, monkeypatch):
    """The command line's log goes to this test's folder, never to the user's."""
    monkeypatch.setenv("FAIRDESK_LOG_DIR", str(tmp_path / "log"))


@pytest.fixture(scope="module")
def small_csv(tmp_path_factory):
    """400 rows, two groups, households of two, a split column: every command runs fast."""
    rng = np.random.default_rng(7)
    n = 400
    folder = tmp_path_factory.mktemp("data")
    path = folder / "small.csv"
    score = rng.uniform(0.05, 0.95, n).round(4)
    label = (rng.uniform(size=n) < score).astype(int)
    group = np.where(np.arange(n) % 3 == 0, "b", "a")
    lines = ["id,household,group,score,label,weight,split,age,flag"]
    for i in range(n):
        lines.append(f"{i + 1},{i // 2 + 1},{group[i]},{score[i]},{label[i]},1,"
                     f"{('train', 'calibration', 'test')[i % 3]},{20 + i % 50},{i % 2}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_main(argv, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("always")  # a warning that escaped main() would show here
        code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_clean(code, out, err, argv):
    text = out + err
    assert "Traceback" not in text, (argv, err)
    assert INTERNAL not in err, (argv, err)  # a bug caught by the last resort
    assert "Warning" not in err, (argv, err)
    assert code in (0, 2), (argv, code, err)
    if code == 2:
        assert err.strip(), argv  # a message, not a silent failure


def base(command, data):
    mapped = [data, "--score", "score", "--label", "label", "--group", "group"]
    extra = {
        "audit": [],
        "export": ["--bootstrap", "0"],
        "erb": ["--subsamples", "2", "--audit-subsamples", "2", "--weights", "0,1",
                "--workers", "1", "--json"],
        "recall": ["--k", "50"],
        "eodds": ["--no-curves"],
        "transport": ["--reference", "a"],
        "households": ["--household", "household", "--bins", "5", "--cutoff", "4"],
        "report": ["--baseline", "0.5", "--bootstrap", "0"],
    }[command]
    return [command, *mapped, *extra]


def with_option(argv, option, value):
    """``argv`` with ``option`` set to ``value`` (replacing it when already there)."""
    argv = list(argv)
    if option in argv:
        i = argv.index(option)
        del argv[i:i + 2]
    return argv + [option, value]


def outputs(command, tmp_path):
    if command in ("export", "report"):
        return ["--out", tmp_path / f"{command}.xlsx"]
    return []


ODD = ["-1", "0", "1e400", "nan", "inf", "", "abc", "99999999999999999999", "1e308", "2.5"]

# option -> values that must be refused (every other value of ODD may pass or be refused)
NUMERIC_REFUSED = {"1e400", "nan", "inf", "", "abc"}
COUNT_REFUSED = NUMERIC_REFUSED | {"-1", "99999999999999999999", "2.5"}
OPTIONS = {
    "audit": {"--threshold": NUMERIC_REFUSED, "--min-group-size": COUNT_REFUSED,
              "--bootstrap": COUNT_REFUSED, "--seed": COUNT_REFUSED, "--sheet": set(ODD),
              "--weight": set(ODD), "--group": set(ODD), "--positive": {""},
              "--min-denominator": NUMERIC_REFUSED | {"-1", "99999999999999999999"}},
    "export": {"--threshold": NUMERIC_REFUSED, "--bootstrap": COUNT_REFUSED,
               "--seed": COUNT_REFUSED, "--reference": set(ODD),
               "--min-group-size": COUNT_REFUSED},
    "erb": {"--subsamples": COUNT_REFUSED | {"0"}, "--audit-subsamples": COUNT_REFUSED | {"0"},
            "--weights": NUMERIC_REFUSED, "--seed": COUNT_REFUSED,
            "--workers": COUNT_REFUSED | {"0"}, "--definition": {"", "abc", "-1", "0"},
            "--threshold": NUMERIC_REFUSED},
    "recall": {"--k": NUMERIC_REFUSED | {"-1", "0"}, "--seed": COUNT_REFUSED,
               "--reference": set(ODD) - {"0"}},
    "eodds": {"--tolerance": NUMERIC_REFUSED | {"-1", "99999999999999999999", "1e308", "2.5"},
              "--cost-ratio": NUMERIC_REFUSED | {"-1", "0"},
              "--prefer-smooth": NUMERIC_REFUSED | {"-1", "99999999999999999999", "1e308"}},
    "transport": {"--threshold": NUMERIC_REFUSED, "--alpha": NUMERIC_REFUSED | {"-1", "0"},
                  "--cost-ratio": NUMERIC_REFUSED | {"-1", "0"},
                  "--batch-size": COUNT_REFUSED | {"0"}, "--rounds": COUNT_REFUSED | {"0"},
                  "--neighbours": COUNT_REFUSED | {"0"},
                  "--split-proportions": NUMERIC_REFUSED | {"-1", "0"},
                  "--seed": COUNT_REFUSED, "--reference": set(ODD)},
    "households": {"--bins": COUNT_REFUSED | {"0"}, "--cutoff": COUNT_REFUSED | {"0"},
                   "--high-min-score": NUMERIC_REFUSED, "--low-max-score": NUMERIC_REFUSED},
    "report": {"--cost-ratio": NUMERIC_REFUSED | {"-1", "0"}, "--bootstrap": COUNT_REFUSED,
               "--baseline": NUMERIC_REFUSED, "--seed": COUNT_REFUSED},
}
CASES = [(c, o) for c, opts in OPTIONS.items() for o in opts]


@pytest.mark.parametrize("command,option", CASES, ids=[f"{c}{o}" for c, o in CASES])
def test_odd_option_values_give_a_message_never_a_traceback(command, option, small_csv,
                                                           tmp_path, capsys):
    refused = OPTIONS[command][option]
    for value in ODD:
        argv = with_option(base(command, small_csv) + outputs(command, tmp_path), option, value)
        code, out, err = run_main(argv, capsys)
        assert_clean(code, out, err, argv)
        if value in refused:
            assert code == 2, (argv, out[-300:])
            # the message names the option (argparse: "argument --x"; FairDesk: "--x …"), or
            # for a column/group name the value itself
            assert option in err or (f"'{value}'" in err and value), (argv, err)


def test_unknown_columns_and_groups_are_named(small_csv, capsys):
    for argv, named in [
        (with_option(base("audit", small_csv), "--score", "nope"), "nope"),
        (with_option(base("audit", small_csv), "--weight", "nope"), "nope"),
        (base("audit", small_csv) + ["--merge", "zz=a"], "zz"),
        (with_option(base("transport", small_csv), "--reference", "zz"), "zz"),
        (with_option(base("recall", small_csv), "--reference", "zz"), "zz"),
        (base("report", small_csv) + ["--scenario", "x=zz:0.5,a:0.5", "--out", "r.xlsx"], "zz"),
    ]:
        code, out, err = run_main(argv, capsys)
        assert_clean(code, out, err, argv)
        assert code == 2 and named in err, (argv, err)


def test_threshold_outside_the_scores_warns_in_json_and_text(small_csv, capsys):
    argv = base("audit", small_csv) + ["--threshold", "5", "--json"]
    code, out, err = run_main(argv, capsys)
    assert_clean(code, out, err, argv)
    assert code == 0
    warned = [w for w in json.loads(out)["warnings"] if "outside the observed scores" in w]
    assert len(warned) == 1 and warned[0].startswith("--threshold 5 ")
    code, out, err = run_main(base("audit", small_csv) + ["--threshold", "0.5,-2"], capsys)
    assert code == 0
    notes = [line for line in out.splitlines() if "outside the observed scores" in line]
    assert notes == [line for line in notes if line.startswith("note: --threshold -2 ")]
    assert len(notes) == 1
    code, out, err = run_main(base("audit", small_csv) + ["--threshold", "0.5"], capsys)
    assert code == 0 and "outside the observed scores" not in out
    code, out, err = run_main(base("transport", small_csv) + ["--threshold", "7", "--json"],
                              capsys)
    assert code == 0, err
    assert any(w.startswith("--threshold 7 ") for w in json.loads(out)["warnings"])
    code, out, err = run_main(base("erb", small_csv) + ["--threshold", "9,mean"], capsys)
    assert code == 0, err
    warned = [w for w in json.loads(out)["warnings"] if "outside the observed scores" in w]
    assert len(warned) == 1 and warned[0].startswith("--threshold 9 ")
    code, out, err = run_main(base("export", small_csv) + ["--threshold", "-3", "--out",
                                                           small_csv.parent / "t.xlsx",
                                                           "--force"], capsys)
    assert code == 0, err
    assert "note: --threshold -3 is outside the observed scores" in out


def test_data_options_checked_against_the_file(small_csv, tmp_path, capsys):
    code, out, err = run_main(base("audit", small_csv) + ["--sheet", "Sheet1"], capsys)
    assert code == 2 and "--sheet 'Sheet1'" in err and "has no sheets" in err
    code, out, err = run_main(base("audit", small_csv) + ["--min-group-size", "401"], capsys)
    assert code == 2 and "--min-group-size 401 is more than the 400 rows" in err
    code, out, err = run_main(base("audit", small_csv) + ["--min-group-size", "10000001"], capsys)
    assert code == 2 and "--min-group-size" in err and "10,000,000" in err
    code, out, err = run_main(base("audit", small_csv) + ["--min-group-size", "400"], capsys)
    assert code == 0, err
    huge = tmp_path / "huge_weights.csv"
    huge.write_text("s,y,g,w\n" + "".join(f"0.{i % 9 + 1},{i % 2},{'ab'[i % 2]},1e308\n"
                                          for i in range(40)))
    argv = [huge, "--score", "s", "--label", "y", "--group", "g", "--weight", "w",
            "--min-group-size", "1"]
    for command in ("audit", "recall", "eodds"):
        extra = ["--k", "5"] if command == "recall" else []
        code, out, err = run_main([command, *argv, *extra], capsys)
        assert_clean(code, out, err, argv)
        # (refused by validation, so in every command that reads data)
        assert code == 2 and "Column 'w'" in err and "add up" in err, (command, err)
        assert "rows 2, 3, 4, 5, 6" in err  # spreadsheet numbering: the header is row 1


def test_help_and_version_return_codes(capsys):
    assert cli.main(["--version"]) == 0
    assert cli.main(["audit", "--help"]) == 0
    assert cli.main(["audit"]) == 2  # missing arguments: argparse's message, exit 2
    assert "required" in capsys.readouterr().err


def test_unexpected_exception_is_one_line_and_logged(small_csv, tmp_path, monkeypatch, capsys):
    import fairdesk.audit

    def broken(*_args, **_kwargs):
        raise RuntimeError("secret cell value 4711")

    monkeypatch.setattr(fairdesk.audit, "run_audit", broken)
    code, out, err = run_main(base("audit", small_csv), capsys)
    assert code == 2
    assert "Traceback" not in err and "secret" not in err
    assert err.startswith("error: FairDesk stopped because of an internal problem (RuntimeError)")
    log = tmp_path / "log" / "fairdesk-cli.log"
    assert str(log) in err
    text = log.read_text(encoding="utf-8")
    assert "Traceback" in text and "RuntimeError" in text and "run_audit" not in err
    assert "secret" not in text and "4711" not in text  # no data values in the log


def test_library_warnings_go_to_the_log_not_stderr(small_csv, tmp_path, monkeypatch, capsys):
    import fairdesk.audit

    real = fairdesk.audit.run_audit

    def noisy(*args, **kwargs):
        np.array([0.0]) / np.array([0.0])  # numpy: RuntimeWarning, invalid value
        warnings.warn("a parser fell back", FutureWarning)
        return real(*args, **kwargs)

    monkeypatch.setattr(fairdesk.audit, "run_audit", noisy)
    code, out, err = run_main(base("audit", small_csv), capsys)
    assert code == 0, err
    assert err == ""
    text = (tmp_path / "log" / "fairdesk-cli.log").read_text(encoding="utf-8")
    assert "RuntimeWarning at test_input_safety.py" in text
    assert "FutureWarning at test_input_safety.py" in text
    assert "fell back" not in text  # the message may quote data: only kind and line
    # outside main() warnings behave as before (main restores what it changed)
    with pytest.warns(RuntimeWarning):
        np.array([0.0]) / np.array([0.0])


# ------------------------------------------------------------------- only regular files

def _refused_within(fn, seconds=2.0):
    """Run ``fn`` in a thread; it must raise DataError within ``seconds`` (a regression
    that blocks leaves a daemon thread behind instead of hanging the suite)."""
    box = {}

    def target():
        try:
            fn()
        except BaseException as err:  # noqa: BLE001 - handed to the test
            box["error"] = err
        else:
            box["error"] = None

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"still blocked after {seconds} s"
    err = box["error"]
    assert isinstance(err, DataError), repr(err)
    return str(err)


@pytest.fixture
def fifo(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this system")
    path = tmp_path / "scores.csv"
    os.mkfifo(path)
    return path


def test_fifo_is_refused_at_once(fifo):
    for fn in (lambda: loading.load_table(fifo), lambda: loading.file_sha256(fifo),
               lambda: loading.list_sheets(fifo)):
        message = _refused_within(fn)
        assert "'scores.csv' is a pipe (FIFO), not a data file" in message


def test_fifo_named_like_a_workbook_is_refused_at_once(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this system")
    path = tmp_path / "book.xlsx"
    os.mkfifo(path)
    message = _refused_within(lambda: loading.list_sheets(path))
    assert "'book.xlsx' is a pipe (FIFO)" in message


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_device_is_refused_at_once():
    for fn in (lambda: loading.load_table("/dev/zero"), lambda: loading.file_sha256("/dev/zero")):
        assert "'zero' is a device, not a data file" in _refused_within(fn)


def test_socket_and_folder_are_refused(tmp_path):
    assert "is a folder, not a file" in _refused_within(lambda: loading.load_table(tmp_path))
    if not hasattr(socket, "AF_UNIX"):
        return
    path = tmp_path / "s.csv"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(str(path))
    except OSError:
        pytest.skip("cannot bind a unix socket here")
    try:
        assert stat.S_ISSOCK(os.stat(path).st_mode)
        assert "'s.csv' is a socket" in _refused_within(lambda: loading.load_table(path))
    finally:
        sock.close()


def test_fifo_and_device_on_the_command_line(fifo):
    """A real process: exit 2 with the message, no traceback (the generous timeout only
    catches a hang; the 2-second bound is the in-process test above)."""
    for path, said in ((fifo, "is a pipe (FIFO)"), ("/dev/zero", "is a device")):
        if not os.path.exists(path):
            continue
        r = subprocess.run([sys.executable, str(ROOT / "main.py"), "audit", str(path),
                            "--score", "s", "--label", "y"],
                           capture_output=True, text=True, timeout=120, cwd=ROOT,
                           env={**os.environ, "FAIRDESK_LOG_DIR": str(fifo.parent / "log")})
        assert r.returncode == 2, r.stderr
        assert said in r.stderr and "Traceback" not in r.stderr + r.stdout


def test_reading_stops_between_chunks_when_cancelled(tmp_path):
    """Cancel takes effect after at most one chunk (1 MB), so any read stops promptly."""
    path = tmp_path / "big.csv"
    with open(path, "wb") as fh:
        fh.truncate(8 * loading._CHUNK_BYTES)  # sparse: 8 chunks of zero bytes

    class CancelAfter:
        def __init__(self, n):
            self.checks, self.n = 0, n

        def check(self):
            self.checks += 1
            if self.checks > self.n:
                raise Cancelled()

    cancel = CancelAfter(2)
    with pytest.raises(Cancelled):
        loading.load_table(path, cancel=cancel)
    assert cancel.checks == 3  # two chunks read, the third never started
    cancel = CancelAfter(1)
    with pytest.raises(Cancelled):
        loading.file_sha256(path, cancel=cancel)
    assert cancel.checks == 2


# ------------------------------------------------------------------------ quiet stderr

ODD_FILES = {
    "constant_scores.csv": "s,y,g\n" + "0.5,1,a\n0.5,0,a\n0.5,1,b\n0.5,0,b\n" * 10,
    "one_class.csv": "s,y,g\n" + "".join(f"0.{i % 9 + 1},1,{'ab'[i % 2]}\n" for i in range(40)),
    "zero_weight_group.csv": "s,y,g,w\n" + "".join(
        f"0.{i % 9 + 1},{i % 2},{'ab'[i % 2]},{0 if i % 2 else 1}\n" for i in range(40)),
    "ragged_text.csv": "s,y,g\n0.1,0,a\n0.2,1,a,extra\n0.3,1,b\n",
}


def _subcommands(data, mapping, tmp_path):
    out = tmp_path / "o.xlsx"
    return {
        "audit": ["audit", data, *mapping],
        "export": ["export", data, *mapping, "--bootstrap", "0", "--out", out, "--force"],
        "erb": ["erb", data, *mapping, "--subsamples", "2", "--audit-subsamples", "2",
                "--weights", "0,1", "--workers", "1"],
        "recall": ["recall", data, *mapping, "--k", "10"],
        "eodds": ["eodds", data, *mapping, "--no-curves"],
        "transport": ["transport", data, *mapping, "--reference", "a"],
        "report": ["report", data, *mapping, "--baseline", "0.5", "--bootstrap", "0",
                   "--out", tmp_path / "r.xlsx", "--force"],
    }


def _run_process(argv, tmp_path):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, argv)],
                          capture_output=True, text=True, timeout=600, cwd=ROOT,
                          env={**os.environ, "FAIRDESK_LOG_DIR": str(tmp_path / "log"),
                               "PYTHONWARNINGS": "default"})


def _assert_quiet(r, argv):
    lines = [line for line in r.stderr.splitlines() if "Warning" in line]
    assert not lines, (argv, lines)
    assert "Traceback" not in r.stderr + r.stdout, (argv, r.stderr)
    assert INTERNAL not in r.stderr, (argv, r.stderr)
    assert r.returncode in (0, 2), (argv, r.returncode, r.stderr)


def test_every_subcommand_on_the_sample_has_a_quiet_stderr(tmp_path):
    mapping = ["--score", "score", "--label", "outcome", "--group", "race", "--weight", "weight"]
    commands = _subcommands(SAMPLE, mapping, tmp_path)
    commands["households"] = ["households", SAMPLE, *mapping, "--household", "household_id"]
    commands["transport"] = ["transport", SAMPLE, *mapping, "--reference", "Group A"]
    # a threshold above every score: rates of 0/0 and infinite ratios (numpy warned here)
    commands["export above the scores"] = ["export", SAMPLE, *mapping, "--threshold", "5",
                                           "--bootstrap", "0", "--out", tmp_path / "high.xlsx"]
    for name, argv in commands.items():
        r = _run_process(argv, tmp_path)
        _assert_quiet(r, argv)
        assert r.returncode == 0, (name, r.stderr)


@pytest.mark.parametrize("name", sorted(ODD_FILES))
def test_odd_files_have_a_quiet_stderr(name, tmp_path):
    data = tmp_path / name
    data.write_text(ODD_FILES[name], encoding="utf-8")
    mapping = ["--score", "s", "--label", "y", "--group", "g", "--min-group-size", "1"]
    if "weight" in name:
        mapping += ["--weight", "w"]
    for argv in _subcommands(data, mapping, tmp_path).values():
        _assert_quiet(_run_process(argv, tmp_path), argv)


def test_options_module_is_used_for_every_numeric_option():
    """No subcommand option is a bare int/float any more: each has a checked type (or is
    covered by the shared range check after parsing)."""
    from fairdesk.options import _LIMITS

    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    bare = []
    for name, p in sub.choices.items():
        for action in p._actions:
            if action.type in (int, float) and action.dest not in _LIMITS:
                bare.append(f"{name} {action.option_strings[0]}")
    assert not bare, bare


def test_fairdesk_error_is_the_base_of_option_errors():
    from fairdesk.options import threshold_rule

    with pytest.raises(FairDeskError, match=r"--threshold 'q2' asks for a quantile outside 0 to 1"):
        threshold_rule("--threshold", "q2")
    with pytest.raises(FairDeskError, match=r"--threshold 'top0' asks for a top-K outside"):
        threshold_rule("--threshold", "top0")


def test_reference_comparison_of_infinite_rates_warns_nothing():
    """Prevented at the source (not only hidden by main): inf − inf is NaN, silently."""
    from fairdesk.metrics.fairness import reference_comparison

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        diff, ratio = reference_comparison(np.array([np.inf, np.inf, 0.5]), 0)
    assert np.isnan(diff[1]) and np.isnan(diff[0]) and diff[2] == -np.inf


# ------------------------------------------------------------------------- the window

def test_window_refuses_a_fifo_and_keeps_the_analysis(loaded_window, qtbot, fifo):
    from conftest import wait_idle

    w = loaded_window
    before = w.state.data
    w.open_path(str(fifo))
    wait_idle(qtbot, w)  # the load job ends with the refusal (it would block on a regression)
    assert len(w.errors) == 1 and "'scores.csv' is a pipe (FIFO), not a data file" in w.errors[0][0]
    assert w.state.data is before and w.state.table.source.path.endswith("sample_scores.csv")
    assert not w.worker.busy


_STUCK_APP = r"""
import sys, threading
from fairdesk.gui import app as gui_app
from fairdesk.gui import main_window as mw

original = mw.MainWindow.__init__
release = threading.Event()


def init(self, *args, **kwargs):
    original(self, *args, **kwargs)

    def stuck(job):  # ignores Cancel, as a read stuck on a network drive would
        release.wait()

    # close the window as soon as the stuck job has started
    self.worker.started.connect(lambda _title: self.close())
    from PySide6.QtCore import QTimer
    QTimer.singleShot(0, lambda: self.worker.start(stuck, title="stuck"))


mw.MainWindow.__init__ = init
sys.exit(gui_app.run_app([]))
"""


def test_closing_the_window_exits_even_with_a_stuck_job(tmp_path):
    """The process ends after the close's grace period instead of waiting for the thread
    (the timeout only catches the hang this guards against)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "c"),
           "XDG_DATA_HOME": str(tmp_path / "d"), "FAIRDESK_LOG_DIR": str(tmp_path / "log")}
    r = subprocess.run([sys.executable, "-c", _STUCK_APP], capture_output=True, text=True,
                       timeout=120, cwd=ROOT, env=env)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr


WEIGHT_FILES = {
    "zero": ("0", "every weight is zero"),
    "negative": ("-1", "have a negative weight (row 5)"),
    "nan": ("nan", "have no weight (empty cell) (row 7)"),
    "overflow": ("1e308", "add up"),
}


@pytest.mark.parametrize("kind", sorted(WEIGHT_FILES))
def test_bad_weights_are_refused_by_every_command(kind, tmp_path, capsys):
    value, said = WEIGHT_FILES[kind]
    data = tmp_path / f"w_{kind}.csv"
    rows = []
    for i in range(40):
        w = value if (kind in ("zero", "overflow") or (kind, i) in (("negative", 3), ("nan", 5))) \
            else "1"
        rows.append(f"0.{i % 9 + 1},{i % 2},{'ab'[i % 2]},{w}")
    data.write_text("s,y,g,w\n" + "\n".join(rows) + "\n", encoding="utf-8")
    mapping = ["--score", "s", "--label", "y", "--group", "g", "--weight", "w",
               "--min-group-size", "1"]
    for argv in _subcommands(data, mapping, tmp_path).values():
        code, out, err = run_main(argv, capsys)
        assert_clean(code, out, err, argv)
        assert code == 2 and "Column 'w'" in err and said in err, (argv, err)


def test_window_logging_takes_the_warnings(tmp_path, monkeypatch):
    """The window's log setup routes Python and library warnings to fairdesk.log."""
    import logging

    from fairdesk.gui import app as gui_app

    monkeypatch.setattr(gui_app, "data_folder", lambda: tmp_path)
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)  # restored afterwards
    root = logging.getLogger("fairdesk")
    handlers, level = list(root.handlers), root.level
    try:
        for h in [h for h in root.handlers if isinstance(h, logging.FileHandler)]:
            root.removeHandler(h)  # another test's log file
        with warnings.catch_warnings():  # restores warnings.showwarning afterwards
            warnings.simplefilter("always")
            path = gui_app.setup_logging()
            np.log(np.array([-1.0]))
        for h in root.handlers:
            h.flush()
        text = path.read_text(encoding="utf-8")
        assert "RuntimeWarning at test_input_safety.py line" in text
    finally:
        for h in list(root.handlers):
            if h not in handlers:
                root.removeHandler(h)
                h.close()
        for h in handlers:
            if h not in root.handlers:
                root.addHandler(h)
        root.setLevel(level)


def test_params_file_that_is_a_fifo_is_refused(fifo, small_csv, tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "eodds", str(small_csv),
                        "--score", "score", "--label", "label", "--group", "group",
                        "--family", "fixed", "--params", str(fifo), "--no-curves"],
                       capture_output=True, text=True, timeout=120, cwd=ROOT,
                       env={**os.environ, "FAIRDESK_LOG_DIR": str(tmp_path / "log")})
    assert r.returncode == 2
    assert f"The parameters file {fifo} is not an ordinary file" in r.stderr
    assert "Traceback" not in r.stderr


def test_force_is_forgotten_when_the_command_ends(small_csv, tmp_path, capsys):
    from fairdesk.io import outputs

    target = tmp_path / "notes.xlsx"
    target.write_bytes(b"not FairDesk's")
    argv = base("audit", small_csv)[:1] and ["export", *base("audit", small_csv)[1:],
                                             "--bootstrap", "0", "--out", target]
    code, out, err = run_main(argv + ["--force"], capsys)
    assert code == 0, err
    assert not outputs.replace_confirmed(target)
