"""Every validation message names the column, the rows and what to do."""

import numpy as np
import pandas as pd
import pytest

from fairdesk.errors import ValidationError
from fairdesk.schema import ColumnMapping
from fairdesk.validation import prepare, suggest_merges


def frame(**cols):
    return pd.DataFrame(cols)


def base(n=8):
    return {"score": np.linspace(0.1, 0.9, n), "y": [0, 1] * (n // 2), "g": ["a", "b"] * (n // 2)}


M = ColumnMapping(score="score", label="y", groups=["g"])


def problems(f, mapping=M, **kw):
    with pytest.raises(ValidationError) as e:
        prepare(f, mapping, **kw)
    return e.value.problems


def test_header_only():
    (p,) = problems(pd.DataFrame({"score": [], "y": [], "g": []}))
    assert p.code == "no_rows" and "no data rows" in p.message


def test_duplicate_columns():
    f = pd.DataFrame([[0.1, 1, 0.2]], columns=["score", "y", "score"])
    (p,) = problems(f)
    assert p.code == "duplicate_columns" and "'score'" in p.message


def test_unmapped_and_missing_columns():
    ps = problems(frame(**base()), ColumnMapping(groups=["g"]))
    assert {p.code for p in ps} == {"score_unmapped", "label_unmapped"}
    ps = problems(frame(**base()), ColumnMapping(score="risk", label="y", groups=["g"]))
    assert ps[0].code == "column_missing" and "'risk'" in ps[0].message and "'score'" in ps[0].message


def test_same_column_twice():
    ps = problems(frame(**base()), ColumnMapping(score="score", label="score"))
    assert any(p.code == "column_twice" for p in ps)


def test_non_numeric_scores_name_rows_and_are_excluded_or_refused():
    d = base()
    d["score"] = list(d["score"][:6]) + ["high", "n/a?"]
    f = frame(**d)
    data = prepare(f, M, invalid_scores="exclude")
    (p,) = [p for p in data.problems if p.code == "score_not_numeric"]
    assert p.rows == [8, 9] and "rows 8, 9" in p.message and "'score'" in p.message
    assert data.n == 6 and data.n_excluded == 2
    (p,) = problems(f, invalid_scores="refuse")
    assert p.severity == "error" and "rows 8, 9" in p.message


def test_mostly_text_scores_is_wrong_column():
    f = frame(score=["low", "high", "low", 0.5], y=[0, 1, 0, 1], g=list("abab"))
    (p,) = problems(f)
    assert p.code == "score_not_numeric" and "does not hold numeric scores" in p.message


def test_nan_and_inf_scores():
    d = base()
    d["score"] = d["score"].copy()
    d["score"][1] = np.nan
    d["score"][4] = np.inf
    data = prepare(frame(**d), M, invalid_scores="exclude")
    codes = {p.code: p for p in data.problems}
    assert codes["score_missing"].rows == [3]
    assert codes["score_infinite"].rows == [6]
    assert data.n == 6
    assert {p.code for p in problems(frame(**d), invalid_scores="refuse")} == {"score_missing", "score_infinite"}


def test_row_numbers_follow_the_frame_index():
    d = base()
    d["score"] = d["score"].copy()
    d["score"][0] = np.nan
    f = frame(**d)
    f.index = np.arange(10, 18)  # e.g. a sheet whose data starts on row 10
    data = prepare(f, M, invalid_scores="exclude")
    assert data.problems[0].rows == [10]
    assert data.row_numbers[0] == 11


def test_three_label_values():
    f = frame(score=[0.1, 0.2, 0.3, 0.4], y=["yes", "no", "maybe", "no"], g=list("abab"))
    (p,) = problems(f)
    assert p.code == "label_values" and "'maybe'" in p.message and "3" in p.message


def test_one_label_value():
    f = frame(score=[0.1, 0.2], y=[1, 1], g=list("ab"))
    (p,) = problems(f)
    assert p.code == "label_one_value"


def test_positive_label_choice_and_strings():
    f = frame(score=[0.1, 0.2, 0.3, 0.4], y=["yes", "no", "no", "yes"], g=list("abab"))
    assert prepare(f, M).label.tolist() == [1, 0, 0, 1]
    m = ColumnMapping(score="score", label="y", groups=["g"], positive_label="no")
    assert prepare(f, m).label.tolist() == [0, 1, 1, 0]
    m = ColumnMapping(score="score", label="y", groups=["g"], positive_label="perhaps")
    (p,) = problems(f, m)
    assert p.code == "positive_label" and "'yes'" in p.message
    f2 = frame(score=[0.1, 0.2, 0.3, 0.4], y=["A", "B", "B", "A"], g=list("abab"))
    data = prepare(f2, M)
    assert any(p.code == "positive_assumed" for p in data.problems)
    # the command line gives "1" as text while the column holds integers
    m = ColumnMapping(score="score", label="y", groups=["g"], positive_label="0")
    assert prepare(frame(**base()), m).label.tolist() == [1, 0] * 4


def test_weights_negative_missing_text():
    d = base()
    d["w"] = [1, -1, np.nan, 2, "x", 1, 1, 1]
    ps = problems(frame(**d), ColumnMapping(score="score", label="y", groups=["g"], weight="w"))
    msgs = {p.message.split("(")[0] for p in ps}
    assert len(ps) == 3
    by = {p.rows[0]: p for p in ps}
    assert "negative" in by[3].message and "no weight" in by[4].message and "not a number" in by[6].message


def test_fractional_weights_accepted():
    d = base()
    d["w"] = [0.5] * 8
    data = prepare(frame(**d), ColumnMapping(score="score", label="y", groups=["g"], weight="w"))
    assert data.weighted and data.weight.sum() == 4.0


def test_group_without_positives_or_negatives_is_reported():
    f = frame(score=np.linspace(0, 1, 6), y=[0, 0, 1, 0, 1, 1], g=["a", "a", "b", "b", "c", "c"])
    data = prepare(f, M, min_group_size=1)
    codes = {(p.code, p.message.split("'")[1]) for p in data.problems}
    assert ("group_no_positives", "a") in codes and ("group_no_negatives", "c") in codes


def test_cartesian_product_of_groups_and_merges():
    f = frame(score=np.linspace(0, 1, 8), y=[0, 1] * 4, r=list("aabbaabb"), s=list("mfmfmfmf"))
    data = prepare(f, ColumnMapping(score="score", label="y", groups=["r", "s"]), min_group_size=1)
    assert data.group_names == ["a, f", "a, m", "b, f", "b, m"]
    assert [data.group_names[c] for c in data.group] == ["a, m", "a, f", "b, m", "b, f"] * 2
    m = ColumnMapping(score="score", label="y", groups=["r"], group_merges={"b": "a+b"})
    data = prepare(f, m, min_group_size=1)
    assert data.group_names == ["a", "a+b"]


def test_missing_group_values_form_a_group():
    f = frame(score=np.linspace(0, 1, 4), y=[0, 1, 0, 1], g=["a", None, "a", "b"])
    data = prepare(f, M, min_group_size=1)
    assert "(missing)" in data.group_names
    assert any(p.code == "group_missing" and p.rows == [3] for p in data.problems)


def test_small_group_warning_suggests_most_similar_prevalence():
    rng = np.random.default_rng(0)
    n = 300
    g = np.array(["big1"] * 140 + ["big2"] * 140 + ["tiny"] * 20)
    y = np.r_[rng.random(140) < 0.1, rng.random(140) < 0.6, [1] * 12 + [0] * 8].astype(int)
    f = frame(score=rng.random(n), y=y, g=g)
    data = prepare(f, M)
    small = [p for p in data.problems if p.code == "group_small"]
    assert len(small) == 1 and "'tiny'" in small[0].message and "'big2'" in small[0].message
    assert suggest_merges(data)[0][:2] == ("tiny", "big2")


def test_no_group_column_is_one_group_with_warning():
    data = prepare(frame(**base()), ColumnMapping(score="score", label="y"))
    assert data.group_names == ["All rows"] and any(p.code == "no_groups" for p in data.problems)


def test_input_frame_not_modified():
    f = frame(**base())
    before = f.copy()
    prepare(f, ColumnMapping(score="score", label="y", groups=["g"], higher_is_positive=False))
    pd.testing.assert_frame_equal(f, before)


def test_reverse_orientation():
    f = frame(score=[1, 2, 3, 4], y=[1, 1, 0, 0], g=list("aaaa"))
    data = prepare(f, ColumnMapping(score="score", label="y", groups=["g"], higher_is_positive=False),
                   min_group_size=1)
    assert data.oriented.tolist() == [-1, -2, -3, -4]
