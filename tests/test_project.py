"""Project files: round trip, reproduction of the numbers, changed input reported."""

import json

import pytest

from fairdesk.audit import run_audit
from fairdesk.errors import DataError, FairDeskError
from fairdesk.io.loading import load_table
from fairdesk.project import Project, check_input, load_project, save_project
from fairdesk.schema import ColumnMapping
from fairdesk.validation import prepare


def make(tmp_path):
    f = tmp_path / "in.csv"
    f.write_text("s,y,g\n" + "".join(f"{i / 20},{i % 2},{'ab'[i % 3 == 0]}\n" for i in range(20)))
    table = load_table(f)
    mapping = ColumnMapping(score="s", label="y", groups=["g"], group_merges={})
    return f, table, mapping


def test_round_trip_reproduces_numbers(tmp_path):
    f, table, mapping = make(tmp_path)
    p = Project(input_path=table.source.path, input_sha256=table.source.sha256, mapping=mapping.to_dict(),
                settings={"audit": {"metric": "fpr"}}, seeds={"bootstrap": 7}, min_group_size=1)
    saved = save_project(p, tmp_path / "analysis")
    assert saved.suffix == ".fairdesk"
    back = load_project(saved)
    assert back.settings == {"audit": {"metric": "fpr"}} and back.seeds == {"bootstrap": 7}
    assert check_input(back) is None
    t2 = load_table(back.input_path)
    d1 = prepare(table.frame, mapping, min_group_size=1)
    d2 = prepare(t2.frame, ColumnMapping.from_dict(back.mapping), min_group_size=back.min_group_size)
    assert run_audit(d1, [0.5]).to_json() == run_audit(d2, [0.5]).to_json()


def test_changed_input_is_reported(tmp_path):
    f, table, mapping = make(tmp_path)
    saved = save_project(Project(table.source.path, table.source.sha256, mapping.to_dict()), tmp_path / "a.fairdesk")
    f.write_text(f.read_text() + "0.99,1,a\n")
    msg = check_input(load_project(saved))
    assert msg is not None and "has changed" in msg and "in.csv" in msg
    f.unlink()
    assert "not there" in check_input(load_project(saved))


def test_project_follows_moved_folder(tmp_path):
    f, table, mapping = make(tmp_path)
    saved = save_project(Project(table.source.path, table.source.sha256, mapping.to_dict()), tmp_path / "a.fairdesk")
    moved = tmp_path.parent / (tmp_path.name + "_moved")
    tmp_path.rename(moved)
    back = load_project(moved / "a.fairdesk")
    assert back.input_path == str((moved / "in.csv").resolve())
    assert check_input(back) is None


def test_bad_project_files(tmp_path):
    bad = tmp_path / "x.fairdesk"
    bad.write_text("{not json")
    with pytest.raises(DataError, match="not a readable FairDesk project"):
        load_project(bad)
    bad.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(DataError, match="not a FairDesk project"):
        load_project(bad)
    with pytest.raises(DataError, match="does not exist"):
        load_project(tmp_path / "nope.fairdesk")


def test_never_overwrites_input(tmp_path):
    f = tmp_path / "data.fairdesk"
    f.write_text("s,y\n")
    with pytest.raises(FairDeskError, match="input"):
        save_project(Project(str(f), "x", {}), f)
