"""Issue #13, items 1–4: files read as the analyst meant them, or refused with a message.

Each corpus file (tests/data/bad/, made by tests/data/make_bad_corpus.py) is either read
to the intended numbers, checked here against values computed by hand from how the file
was written, or refused with a message that names the column and rows and says what to
do. The command-line cases assert exit code 2 and no traceback.
"""

from __future__ import annotations

import hashlib
import os
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fairdesk.errors import DataError, ValidationError
from fairdesk.io.loading import AmbiguousDecimalError, load_table, sheet_choices
from fairdesk.io.numbers import read_numbers
from fairdesk.schema import ColumnMapping
from fairdesk.validation import prepare, resolve_merges

ROOT = Path(__file__).resolve().parents[1]
BAD = ROOT / "tests" / "data" / "bad"
MAIN = ROOT / "main.py"
STANDARD = dict(score="score", label="outcome", groups=["race"], id="person_id",
                weight="weight", positive_label=1)


def base_scores(n=60):
    """The corpus generator's arithmetic scores (tests/data/make_bad_corpus.base_rows)."""
    return np.array([((i * 7919) % 1000) / 1000 for i in range(n)])


def mapping(**changes):
    roles = dict(STANDARD)
    roles.update(changes)
    return ColumnMapping(**roles)


def load(name, **kwargs):
    path = BAD / name
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    try:
        return load_table(path, **kwargs)
    finally:
        assert (path.read_bytes(), path.stat().st_mtime_ns) == before  # never changed


def problems_of(name, load_kwargs=None, **kwargs):
    table = load(name, **(load_kwargs or {}))
    roles = kwargs.pop("roles", {})
    try:
        data = prepare(table.frame, mapping(**roles), **kwargs)
    except ValidationError as err:
        return None, err.problems
    return data, data.problems


def codes(problems):
    return [p.code for p in problems]


def one(problems, code):
    found = [p for p in problems if p.code == code]
    assert len(found) == 1, codes(problems)
    return found[0]


def cli(*args):
    run = subprocess.run([sys.executable, str(MAIN), *map(str, args)], capture_output=True,
                         text=True, timeout=300, cwd=ROOT)
    assert "Traceback" not in run.stderr + run.stdout
    return run


# ------------------------------------------------------------------ 1. numbers as written


def test_decimal_comma_with_thousands_points_reads_as_written():
    table = load("decimal_comma_thousands.csv")
    assert np.allclose(table.frame["score"], base_scores())  # '0,123' = 0.123
    weights = [1250.0, 2000.5, 12500.0, 3.5, 1000.0]
    assert table.frame["weight"].tolist() == [weights[i % 5] for i in range(60)]
    assert any("'.' between thousands and ',' as the decimal mark" in n for n in table.notes)


def test_ambiguous_column_is_asked_and_the_answer_is_used():
    with pytest.raises(AmbiguousDecimalError) as caught:
        load("decimal_comma_ambiguous.csv")
    message = str(caught.value)
    assert caught.value.columns == ["weight"] and caught.value.example == "1.250"
    assert ("the numbers in column 'weight' can be read two ways: '1.250' is 1.25 if '.' is "
            "the decimal mark (',' between thousands), or 1250 if ',' is the decimal mark"
            in message)
    assert "--decimal . or --decimal ," in message
    as_comma = load("decimal_comma_ambiguous.csv", decimal=",").frame["weight"]
    as_point = load("decimal_comma_ambiguous.csv", decimal=".").frame["weight"]
    assert as_comma.tolist()[:3] == [1250.0, 2500.0, 1000.0]
    assert as_point.tolist()[:3] == [1.25, 2.5, 1.0]


def test_ambiguous_column_on_the_command_line():
    common = ["audit", BAD / "decimal_comma_ambiguous.csv", "--score", "score", "--label",
              "outcome", "--group", "race", "--weight", "weight", "--json"]
    refused = cli(*common)
    assert refused.returncode == 2 and "--decimal . or --decimal ," in refused.stderr
    chosen = cli(*common, "--decimal", ",")
    assert chosen.returncode == 0, chosen.stderr
    import json
    out = json.loads(chosen.stdout)
    total = sum(g["weight"] for g in out["groups"].values())
    assert total == pytest.approx(20 * (1250 + 2500 + 1000))


def test_thousands_commas_parse_whole_and_no_row_is_dropped():
    table = load("thousands_commas.csv")
    expected = np.round(base_scores() * 10000, 1)
    assert table.frame["score"].dtype.kind == "f"
    assert np.allclose(table.frame["score"], expected)
    data = prepare(table.frame, mapping(), min_group_size=1)
    assert data.n == 60 and data.n_excluded == 0


def test_read_numbers_decides_per_column_from_all_values():
    # one value shows '.' groups thousands: the whole column is read that way
    r = read_numbers(pd.Series(["1.250", "2.500", "0,5"]))
    assert r.decimal == "," and r.values.tolist() == [1250.0, 2500.0, 0.5]
    # '0,123' can only be a decimal (a thousands group never starts with 0)
    r = read_numbers(pd.Series(["0,123", "1,250"]))
    assert r.decimal == "," and r.values.tolist() == [0.123, 1.25]
    # a column of names is text, whatever a few cells look like
    assert read_numbers(pd.Series(["a", "b", "1.5"])).values is None
    # the odd bad cell stays text (validation names it); the rest are numbers
    r = read_numbers(pd.Series(["6,412.0", "high", "5.5"]))
    assert r.values.tolist() == [6412.0, "high", 5.5]


def test_one_bad_score_that_removes_a_group_stops_the_analysis():
    data, problems = problems_of("score_word_loses_group.csv",
                                 roles=dict(id=None, weight=None), min_group_size=1)
    assert data is None
    message = one(problems, "exclusion_questioned").message
    assert "(row 3)" in message and "1 of 3 rows (33.3%) would be left out" in message
    assert "group 'b' of column 'race' would disappear entirely" in message
    assert "--exclude-invalid" in message
    refused = cli("audit", BAD / "score_word_loses_group.csv", "--score", "score", "--label",
                  "outcome", "--group", "race")
    assert refused.returncode == 2 and "would disappear entirely" in refused.stderr
    accepted = cli("audit", BAD / "score_word_loses_group.csv", "--score", "score", "--label",
                   "outcome", "--group", "race", "--exclude-invalid", "--json")
    assert accepted.returncode == 0, accepted.stderr
    import json
    assert json.loads(accepted.stdout)["n"] == 2


def test_unreadable_numbers_are_not_a_random_share():
    data, problems = problems_of("scores_percent_signs.csv", min_group_size=1)
    assert data is None
    message = one(problems, "exclusion_questioned").message
    assert "some of the cells hold numbers FairDesk could not read (e.g. '" in message
    assert "%'" in message
    # accepted explicitly: the two rows are left out and listed
    data, problems = problems_of("scores_percent_signs.csv", min_group_size=1,
                                 invalid_scores="exclude")
    assert data.n == 118 and one(problems, "score_not_numeric").count == 2


def test_a_single_bad_cell_in_a_large_file_is_still_left_out(tmp_path):
    rows = ["score,outcome,race"] + [f"{(i % 97) / 97:.4f},{i % 2},{'ab'[i % 2]}"
                                      for i in range(500)]
    rows[100] = "oops,1,a"
    path = tmp_path / "one_bad.csv"
    path.write_text("\n".join(rows) + "\n")
    data = prepare(load_table(path).frame, ColumnMapping(score="score", label="outcome",
                                                         groups=["race"]))
    assert data.n == 499 and data.n_excluded == 1
    assert one(data.problems, "score_not_numeric").rows == [101]


@pytest.mark.parametrize("name, code, words", [
    ("scores_near_max_float.csv", "score_too_large",
     ["Column 'score': 2 score(s) are too large to compute with exactly", "rows 6, 11"]),
    ("scores_beyond_2_53.csv", "score_too_large",
     ["Column 'score': 60 score(s) are too large", "9007199254740993"]),
    ("weights_overflow.csv", "weight_too_large",
     ["Column 'weight': the weights are too large to add up exactly"]),
])
def test_numbers_too_large_are_refused_never_computed(name, code, words):
    data, problems = problems_of(name, min_group_size=1)
    assert data is None
    message = one(problems, code).message
    for w in words:
        assert w in message, message
    run = cli("audit", BAD / name, "--score", "score", "--label", "outcome", "--group", "race",
              "--weight", "weight")
    assert run.returncode == 2 and words[0] in run.stderr


def test_every_numeric_case_gives_the_intended_numbers_or_a_refusal():
    """The numeric corpus files: either the numbers meant, or an error (never others)."""
    intended = {
        "decimal_comma_thousands.csv": lambda d: np.isclose(
            d.weight.sum(), 12 * (1250 + 2000.5 + 12500 + 3.5 + 1000)),
        "thousands_commas.csv": lambda d: np.allclose(
            np.sort(d.score), np.sort(np.round(base_scores() * 10000, 1))),
    }
    refused = ["decimal_comma_ambiguous.csv", "score_word_loses_group.csv",
               "scores_percent_signs.csv", "scores_near_max_float.csv",
               "scores_beyond_2_53.csv", "weights_overflow.csv"]
    for name in list(intended) + refused:
        roles = {} if name != "score_word_loses_group.csv" else dict(id=None, weight=None)
        try:
            data, _ = problems_of(name, roles=roles, min_group_size=1)
        except DataError:
            data = None
        if name in intended:
            assert data is not None and intended[name](data), name
        else:
            assert data is None, f"{name} gave numbers instead of a refusal"


# ------------------------------------------------------------------------ 2. workbooks


def test_default_sheet_is_the_active_visible_one_and_hidden_ones_are_marked():
    table = load("hidden_first_sheet.xlsx")
    assert table.source.sheet == "Scores" and table.frame.shape == (60, 5)
    assert any("was read because it was the active sheet" in n for n in table.notes)
    assert sheet_choices(BAD / "hidden_first_sheet.xlsx") == [
        ("Scores", False), ("Lookup", True), ("Notes", False)]
    # a hidden sheet is read only when named
    assert load("hidden_first_sheet.xlsx", sheet="Lookup").frame.columns.tolist() == [
        "code", "meaning"]


def test_sheet_names_are_matched_before_positions(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Intro"
    book.active.append(["note"])
    book.active.append(["x"])
    two = book.create_sheet("2")
    two.append(["score"])
    two.append([0.5])
    third = book.create_sheet("Third")
    third.append(["other"])
    third.append([1])
    path = tmp_path / "named.xlsx"
    book.save(path)
    assert load_table(path, sheet="2").source.sheet == "2"  # the sheet named '2'
    assert load_table(path, sheet="0").source.sheet == "Intro"  # no sheet is named '0'
    assert load_table(path, sheet=2).source.sheet == "Third"
    with pytest.raises(DataError, match="has no sheet number 8"):
        load_table(path, sheet="7")


def test_stray_far_cell_is_read_sparsely_without_aborting():
    """16 billion declared cells, a handful real: read in a child process (an abort would
    kill pytest otherwise) that reports its peak memory."""
    stray = BAD / "stray_far_cell.xlsx"
    code = (
        "import resource, sys\n"
        "from fairdesk.io.loading import load_table\n"
        "from fairdesk.errors import DataError\n"
        f"try:\n    load_table({str(stray)!r})\n"
        "except DataError as e:\n    print(e)\n"
        # the peak of this process's own memory: /proc's VmHWM starts afresh at exec, while
        # ru_maxrss keeps the peak of the (large) pytest process it was forked from
        "import re\n"
        "try:\n"
        "    status = open('/proc/self/status').read()\n"
        "    peak = int(re.search(r'VmHWM:\\s+(\\d+)', status)[1])\n"
        "except (OSError, TypeError):\n"
        "    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print('peak_kb', peak)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert ("the header cell of column WQJ is empty, but the column holds values "
            "(from row 1000000)") in run.stdout
    peak_kb = int(run.stdout.split("peak_kb")[1])
    assert peak_kb < 600_000  # the dense grid would need hundreds of gigabytes


def test_formulas_without_values_and_error_values_are_named():
    data, problems = problems_of("formulas_uncalculated.xlsx", min_group_size=1)
    assert data is None
    formulas = one(problems, "formula_not_calculated").message
    assert "Column 'score': 2 cell(s) hold formulas that were never calculated (rows 3, 4)" \
        in formulas and "paste it as values" in formulas
    errors = one(problems, "excel_error_value").message
    assert "2 cell(s) hold Excel error values (#DIV/0!, #N/A; rows 5, 6)" in errors
    assert "empty cell" not in formulas + errors


def test_title_lines_and_sep_lines_are_skipped_with_a_note():
    for name, header_row in (("title_row.xlsx", 3), ("title_line.csv", 3), ("sep_line.csv", 2)):
        table = load(name)
        assert table.frame.columns.tolist() == ["person_id", "score", "outcome", "race",
                                                "weight"], name
        assert table.frame.index[0] == header_row + 1, name
        assert np.allclose(table.frame["score"], base_scores()), name
        assert any(f"row {header_row}" in n or f"starts on row {header_row}" in n
                   for n in table.notes), (name, table.notes)


def test_merged_header_cells_are_explained():
    with pytest.raises(DataError) as caught:
        load("merged_header.xlsx")
    assert "the header row (row 1) has merged cells (D1:E1)" in str(caught.value)
    assert "Unmerge" in str(caught.value)


# ------------------------------------------------------------------------ 3. groups


def test_groups_as_people_mean_them():
    data, problems = problems_of("groups_as_written.csv", min_group_size=1)
    names = set(data.group_names)
    assert " Female" not in names and "Female" in names and "female" in names
    assert {"NA", "#N/A", "(missing)", "((missing))"} <= names  # empty cells stand apart
    assert one(problems, "group_trimmed").count == 20
    variants = [p.message for p in problems if p.code == "group_variants"]
    assert any("'Female', 'female'" in m for m in variants)
    mojibake = one(problems, "group_mojibake").message
    assert "'RÃ©union' looks like 'Réunion' read in the wrong text encoding" in mojibake
    rows = {n: int(np.sum(data.group == data.group_names.index(n))) for n in names}
    assert rows["Female"] == 40 and rows["((missing))"] == 20


def test_a_file_in_two_encodings_is_refused_with_its_rows():
    with pytest.raises(DataError) as caught:
        load("mixed_encodings.csv")
    assert ("'mixed_encodings.csv' mixes two text encodings: row 5 is UTF-8 while row 6 is "
            "in another encoding") in str(caught.value)


def test_intersection_names_can_never_collide():
    table = load("groups_with_commas.csv")
    data = prepare(table.frame, ColumnMapping(score="score", label="outcome",
                                              groups=["race", "sex"]), min_group_size=1)
    assert sorted(data.group_names) == sorted([
        "Black, non-Hispanic × Female", "Black, non-Hispanic × Male", "White × Female",
        "White × Male"])
    assert one(data.problems, "group_join").severity == "warning"


def test_merges_unknown_chained_and_cyclic():
    names = ["A", "B", "C", "D"]
    assert resolve_merges({"A": "B", "B": "C"}, names) == {"A": "C", "B": "C"}
    assert resolve_merges({"A": "New"}, names) == {"A": "New"}
    with pytest.raises(ValidationError, match="Cannot merge 'Z': no such group"):
        resolve_merges({"Z": "A"}, names)
    with pytest.raises(ValidationError, match="go round in a circle"):
        resolve_merges({"A": "B", "B": "A"}, names)
    run = cli("audit", ROOT / "resources" / "sample" / "sample_scores.csv", "--score",
              "score", "--label", "outcome", "--group", "race", "--merge", "Nobody=Else")
    assert run.returncode == 2 and "Cannot merge 'Nobody': no such group" in run.stderr


def test_chained_merges_give_the_same_numbers_as_direct_ones():
    table = load_table(ROOT / "resources" / "sample" / "sample_scores.csv")
    base = prepare(table.frame, ColumnMapping(score="score", label="outcome", groups=["race"]))
    a, b, c = base.group_names[:3]
    chained = prepare(table.frame, ColumnMapping(score="score", label="outcome", groups=["race"],
                                                 group_merges={a: b, b: c}))
    direct = prepare(table.frame, ColumnMapping(score="score", label="outcome", groups=["race"],
                                                group_merges={a: c, b: c}))
    assert chained.group_names == direct.group_names
    assert np.array_equal(chained.group, direct.group)


def test_totals_row_is_flagged():
    data, problems = problems_of("totals_row.csv", min_group_size=1)
    message = one(problems, "total_row").message
    assert message.startswith("row 62 looks like a totals row (group 'Total' and its score is "
                              "outside the others' range)")


# ------------------------------------------------------------------------ 4. outcomes


def test_labels_without_a_conventional_positive_follow_one_rule_and_say_so():
    data, problems = problems_of("labels_one_two.csv", roles=dict(positive_label=None),
                                 min_group_size=1)
    assert data.positive_label == 2
    message = one(problems, "positive_assumed").message
    assert "FairDesk took 2 as the positive outcome" in message and "--positive" in message
    run = cli("audit", BAD / "labels_one_two.csv", "--score", "score", "--label", "outcome",
              "--group", "race", "--json", "--min-group-size", "1")
    assert run.returncode == 0, run.stderr
    assert "FairDesk took 2 as the positive outcome" in run.stdout


@pytest.mark.parametrize("values, positive", [
    ([0, 1], 1), ([1, 0], 1), ([1, 2], 2), ([0, 2], 2), (["A", "B"], "B"),
    (["no", "yes"], "yes"), (["True", "False"], "True"), ([1.0, 0.0], 1.0),
])
def test_positive_outcome_rule(values, positive):
    frame = pd.DataFrame({"score": np.linspace(0, 1, 40), "y": values * 20,
                          "g": ["a", "b"] * 20})
    data = prepare(frame, ColumnMapping(score="score", label="y", groups=["g"]),
                   min_group_size=1)
    assert data.positive_label == positive
    conventional = {0, 1} == {int(v) for v in values} if not isinstance(values[0], str) \
        else {v.lower() for v in values} in ({"no", "yes"}, {"true", "false"})
    assert ("positive_assumed" in codes(data.problems)) == (not conventional)


# ------------------------------------------------------------------------ the window


@pytest.fixture
def window(make_window):
    pytest.importorskip("pytestqt")
    return make_window(show=False)


def _open(window, qtbot, path):
    from conftest import wait_idle

    window.open_path(str(path))
    wait_idle(qtbot, window)


@pytest.mark.gui
def test_window_asks_for_the_decimal_mark_and_uses_the_answer(window, qtbot, monkeypatch):
    from conftest import open_and_wait
    from fairdesk.gui import main_window

    open_and_wait(qtbot, window, ROOT / "resources" / "sample" / "sample_scores.csv")
    asked = []

    def answer(parent, message, example):
        asked.append((message, example))
        assert window.state.data.n == 6000  # the open analysis is untouched while asking
        return ","

    monkeypatch.setattr(main_window.dialogs, "ask_decimal", answer)
    _open(window, qtbot, BAD / "decimal_comma_ambiguous.csv")
    assert asked and asked[0][1] == "1.250" and "column 'weight'" in asked[0][0]
    from conftest import wait_idle, wait_until

    wait_until(qtbot, lambda: window.state.table.source.path.endswith("ambiguous.csv"))
    wait_idle(qtbot, window)
    assert window.state.table.frame["weight"].tolist()[:3] == [1250.0, 2500.0, 1000.0]
    assert not window.errors


@pytest.mark.gui
def test_window_cancelled_decimal_question_keeps_the_previous_analysis(window, qtbot,
                                                                        monkeypatch):
    from conftest import open_and_wait
    from fairdesk.gui import main_window

    open_and_wait(qtbot, window, ROOT / "resources" / "sample" / "sample_scores.csv")
    monkeypatch.setattr(main_window.dialogs, "ask_decimal", lambda *a: None)
    _open(window, qtbot, BAD / "decimal_comma_ambiguous.csv")
    assert window.state.data is not None and window.state.data.n == 6000


@pytest.mark.gui
def test_window_stops_on_a_questioned_exclusion_and_accepts_it_when_asked(window, qtbot):
    from conftest import wait_idle

    _open(window, qtbot, BAD / "score_word_loses_group.csv")
    assert window.state.data is None  # the Data page lists why
    assert "exclusion_questioned" in [p.code for p in window.state.problems]
    page = window.page("data") if hasattr(window, "page") else next(
        p for p in window.pages if p.key == "data")
    page.exclude_radio.setChecked(True)
    page.apply()
    wait_idle(qtbot, window)
    assert window.state.data is not None and window.state.data.n == 2
    assert window.state.invalid_scores == "exclude"


def test_ods_with_a_stray_far_cell_is_refused_with_the_reason(tmp_path):
    import zipfile

    from test_loading import make_ods

    rows = [["score", "outcome", "race"]] + [[i / 20, i % 2, "ab"[i % 2]] for i in range(20)]
    plain = make_ods(tmp_path, {"Data": rows}, name="plain.ods")
    stray = ('<table:table-row table:number-rows-repeated="999970"><table:table-cell/>'
             '</table:table-row><table:table-row><table:table-cell '
             'table:number-columns-repeated="15999"/><table:table-cell office:value-type='
             '"string"><text:p>x</text:p></table:table-cell></table:table-row>').encode()
    path = tmp_path / "stray.ods"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w") as out:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "content.xml":
                data = data.replace(b"</table:table>", stray + b"</table:table>")
            out.writestr(info, data)
    with pytest.raises(DataError) as caught:
        load_table(path)
    assert "spans 16,000,871,992 cells from its first to its last used cell" in str(caught.value)
    assert load_table(plain).frame.shape == (20, 3)


# ------------------------------------------------- the real data, saved the European way

SHARED = ROOT.parent / "shared" / "data"


@pytest.mark.skipif(not (SHARED / "fico_weighted.csv").exists(), reason="shared data absent")
@pytest.mark.parametrize("name, thousands", [("fico_weighted.csv", True),
                                             ("adult_scores.csv", False)])
def test_real_data_saved_with_decimal_commas_reads_the_same(tmp_path, name, thousands):
    """FICO and Adult rewritten as a European Excel would save them (';', decimal commas,
    '.' between thousands in the weights) read to exactly the numbers of the original."""
    original = load_table(SHARED / name).frame
    european = original.copy()
    for column in european.columns:
        if european[column].dtype.kind == "f":
            text = european[column].map(lambda v: f"{v:,.10g}" if thousands else repr(v))
            european[column] = (text.str.replace(",", "_").str.replace(".", ",")
                                .str.replace("_", "."))
    path = tmp_path / name.replace(".csv", "_eu.csv")
    european.to_csv(path, sep=";", index=False)
    if thousands:  # FICO's largest weights (1,647.75 people) carry a thousands separator
        assert "1.647,75" in path.read_text()
    read = load_table(path)
    for column in original.columns:
        if original[column].dtype.kind == "f":
            assert np.allclose(read.frame[column].to_numpy(float),
                               original[column].to_numpy(float), rtol=1e-9, atol=0), column
        else:
            assert read.frame[column].tolist() == original[column].tolist(), column
