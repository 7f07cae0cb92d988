"""Issue 13, item 7: a .fairdesk file is checked against the declared schema before any of
it is used; each tampered file gives a message naming the file and what is wrong, never a
traceback (in-process, through ``report`` and through the window)."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, SAMPLE

from fairdesk.errors import DataError
from fairdesk.io.loading import file_sha256
from fairdesk.project import (MAX_BYTES, Project, check_input, load_project, save_project,
                              validate_project_json)

MAPPING = {"score": "score", "label": "outcome", "groups": ["race"], "weight": "weight"}


@pytest.fixture
def good(tmp_path):
    """A valid project (as FairDesk saves it) on a copy of the sample, and its JSON."""
    data = tmp_path / "scores.csv"
    data.write_bytes(SAMPLE.read_bytes())
    path = save_project(Project(str(data), file_sha256(data), dict(MAPPING),
                                seeds={"bootstrap": 12345},
                                scenarios=[{"name": "base", "kind": "thresholds",
                                            "params": {"values": [0.5]}, "origin": {},
                                            "notes": ""}]),
                        tmp_path / "p.fairdesk")
    return path, json.loads(path.read_text(encoding="utf-8"))


def message_of(path) -> str:
    with pytest.raises(DataError) as info:
        load_project(path)
    return str(info.value)


def tampered(d, change):
    d = copy.deepcopy(d)
    change(d)
    return d


def _nested(depth):
    v = {}
    for _ in range(depth):
        v = {"x": v}
    return v


# (name, change to the parsed JSON, words the message must contain)
TAMPERINGS = [
    ("wrong type of min_group_size", lambda d: d.update(min_group_size="thirty"),
     "min_group_size must be a whole number, not text"),
    ("negative min_group_size", lambda d: d.update(min_group_size=-5),
     "min_group_size is -5; it must be from 0 to 10,000,000"),
    ("mapping as a list", lambda d: d.update(mapping=["score"]),
     "mapping must be an object (the column mapping), not a list"),
    ("groups as text", lambda d: d["mapping"].update(groups="race"),
     "mapping.groups must be a list of column names, not text"),
    ("score column as a number", lambda d: d["mapping"].update(score=7),
     "mapping.score must be text, not a number"),
    ("unknown mapping key", lambda d: d["mapping"].update(evil="x"),
     "mapping has unknown entries (evil)"),
    ("unknown top-level key", lambda d: d.update(run_this="rm -rf"),
     "it has unknown entries (run_this)"),
    ("missing mapping", lambda d: d.pop("mapping"), "it has no 'mapping'"),
    ("missing input path", lambda d: d.pop("input_path"), "it has no 'input_path'"),
    ("bad checksum", lambda d: d.update(input_sha256="abc"),
     "input_sha256 is not a SHA-256 checksum"),
    ("unknown invalid-score policy", lambda d: d.update(invalid_scores="ignore"),
     "invalid_scores is 'ignore'; it must be one of"),
    ("seed as text", lambda d: d["seeds"].update(bootstrap="x"),
     "seeds.bootstrap must be a whole number, not text"),
    ("negative seed", lambda d: d["seeds"].update(bootstrap=-1),
     "seeds.bootstrap is -1"),
    ("scenario kind", lambda d: d["scenarios"][0].update(kind="shell"),
     "scenarios[0].kind is not one of"),
    ("scenario threshold text", lambda d: d["scenarios"][0]["params"].update(values=["x"]),
     "scenarios[0].params.values[0] must be a number, not text"),
    ("scenario without name", lambda d: d["scenarios"][0].pop("name"),
     "scenarios[0] has no 'name'"),
    ("settings as text", lambda d: d.update(settings="x"),
     "settings must be an object (page settings), not text"),
    ("deep nesting", lambda d: d["settings"].update(audit=_nested(40)),
     "is nested more than 32 levels deep"),
    ("sheet as an object", lambda d: d.update(sheet={"a": 1}),
     "sheet must be text, not an object"),
    ("future format version as text", lambda d: d.update(format_version="2"),
     "format_version must be a whole number, not text"),
    ("boolean as a number", lambda d: d.update(min_group_size=True),
     "min_group_size must be a whole number, not true/false"),
]


@pytest.mark.parametrize("name,change,words", TAMPERINGS, ids=[t[0] for t in TAMPERINGS])
def test_tampered_field_is_named(good, name, change, words):
    path, d = good
    path.write_text(json.dumps(tampered(d, change)), encoding="utf-8")
    message = message_of(path)
    assert message.startswith("p.fairdesk is not a readable FairDesk project: "), message
    assert words in message, message
    assert "changed outside FairDesk or is damaged" in message


@pytest.mark.parametrize("text,words", [
    ("[1, 2, 3]", "it holds a list instead of a project's settings"),
    ('"just text"', "it holds text instead of a project's settings"),
    ("null", "it holds null instead"),
    ('{"format": "fairdesk-project", "min_group_size": NaN}', "it contains NaN"),
    ('{"format": "fairdesk-project", "min_group_size": Infinity}', "it contains Infinity"),
    ('{"format": "fairdesk-project", "min_group_size": 1e400}', "too large for a computer"),
    ('{"format": "fairdesk-project", "min_group_size": ' + "9" * 5000 + "}",
     "a whole number with 5000 digits"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ("{not json", "it is not valid JSON (line 1, column 2"),
    ("\xff\xfe junk", "is not UTF-8 text"),
], ids=["list", "string", "null", "nan", "infinity", "1e400", "huge-int", "deep-json",
        "not-json", "not-utf8"])
def test_tampered_file_content(tmp_path, text, words):
    path = tmp_path / "p.fairdesk"
    path.write_bytes(text.encode("latin-1") if text.startswith("\xff") else text.encode())
    message = message_of(path)
    assert words in message, message
    assert "p.fairdesk" in message


def test_not_a_project_and_newer_version(good):
    path, d = good
    path.write_text(json.dumps({"format": "something else"}), encoding="utf-8")
    assert "p.fairdesk is not a FairDesk project file" in message_of(path)
    path.write_text(json.dumps(tampered(d, lambda x: x.update(format_version=99))),
                    encoding="utf-8")
    assert "saved by a newer FairDesk" in message_of(path)


def test_50_mb_file_is_refused_without_reading_it(tmp_path, monkeypatch):
    path = tmp_path / "p.fairdesk"
    with open(path, "wb") as fh:
        fh.truncate(MAX_BYTES + 1)  # sparse
    import pathlib

    def never(*_a, **_k):
        raise AssertionError("the oversized project was read")

    monkeypatch.setattr(pathlib.Path, "read_bytes", never)
    message = message_of(path)
    assert "is 52 MB, far larger than any project (at most 50 MB)" in message


def test_project_path_that_is_a_folder_or_fifo(tmp_path):
    folder = tmp_path / "x.fairdesk"
    folder.mkdir()
    assert "is not a project file (it is a folder, pipe or device)" in message_of(folder)
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "f.fairdesk"
        os.mkfifo(fifo)
        assert "is not a project file" in message_of(fifo)


def _pointing_to(good, target):
    path, d = good
    d = tampered(d, lambda x: x.update(input_path=str(target), input_relative=None))
    path.write_text(json.dumps(d), encoding="utf-8")
    return load_project(path)


def test_data_path_must_be_a_regular_data_file(good, tmp_path):
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    with pytest.raises(DataError, match=r"data file .*folder\.csv is a folder"):
        check_input(_pointing_to(good, folder))
    for name in ("tool.exe", "paper.pdf"):
        f = tmp_path / name
        f.write_text("s,y\n1,0\n")
        with pytest.raises(DataError) as info:
            check_input(_pointing_to(good, f))
        assert f"{f} is not a data file FairDesk reads" in str(info.value)
        assert f"its type is {f.suffix}" in str(info.value)
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "pipe.csv"
        os.mkfifo(fifo)
        with pytest.raises(DataError, match=r"pipe\.csv is not an ordinary file"):
            check_input(_pointing_to(good, fifo))


def test_changed_input_names_the_full_path(good):
    path, _ = good
    project = load_project(path)
    with open(project.input_path, "a", encoding="utf-8") as fh:
        fh.write("\n")
    problem = check_input(project)
    assert f"The input file {project.input_path} has changed" in problem


def test_valid_project_passes_and_keeps_its_values(good):
    path, d = good
    validate_project_json(d)
    p = load_project(path)
    assert p.mapping == {**d["mapping"]} and p.seeds == {"bootstrap": 12345}
    assert check_input(p) is None


def test_report_on_tampered_projects_exits_2_without_traceback(good, tmp_path):
    path, d = good
    env = {**os.environ, "FAIRDESK_LOG_DIR": str(tmp_path / "log")}
    for change in (lambda x: x.update(mapping="score"), lambda x: x.update(min_group_size=1e300),
                   lambda x: x.update(input_path=str(tmp_path))):
        path.write_text(json.dumps(tampered(d, change)), encoding="utf-8")
        r = subprocess.run([sys.executable, str(ROOT / "main.py"), "report", str(path),
                            "--out", str(tmp_path / "r.xlsx")], capture_output=True, text=True,
                           timeout=300, cwd=ROOT, env=env)
        assert r.returncode == 2, r.stderr
        assert "Traceback" not in r.stderr + r.stdout and "internal problem" not in r.stderr
        assert r.stderr.startswith("error: ") and ("p.fairdesk" in r.stderr or
                                                   str(tmp_path) in r.stderr)
    assert not (tmp_path / "r.xlsx").exists()


def test_non_finite_settings_are_saved_as_null_and_reopen(tmp_path):
    import numpy as np

    data = tmp_path / "d.csv"
    data.write_bytes(SAMPLE.read_bytes())
    p = Project(str(data), file_sha256(data), dict(MAPPING),
                settings={"audit": {"x": float("nan"), "y": [1.0, float("inf")],
                                    "z": np.array([np.nan, 2.0]), "w": np.float32("inf")}})
    path = save_project(p, tmp_path / "n.fairdesk")
    back = load_project(path)
    assert back.settings["audit"] == {"x": None, "y": [1.0, None], "z": [None, 2.0], "w": None}
