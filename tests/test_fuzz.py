"""Fuzzing (hypothesis): the loaders never fail other than with a message, and every
engine keeps its invariants on random data.

* Loaders: random bytes under every extension, damaged workbooks, and random valid-looking
  CSV files (any separator, encoding, line ending, quoting, multi-line cells), which must
  read back exactly.
* Validation: random tables and mappings give data that holds together or a
  ValidationError, never anything else.
* Engines: rates in [0, 1] or undefined (NaN), fairness measures in [0, 1] or undefined,
  recall monotone in K, the threshold optimizer's constraints, and each engine's own
  guarantees. Engines written by others at the same time are imported or skipped.

Example counts are kept small so the file runs in well under a minute.
"""

from __future__ import annotations

import io
import math
import os
import zipfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, event, given, settings, strategies as st

from fairdesk.errors import DataError, FairDeskError, ValidationError
from fairdesk.io.loading import LoadedTable, load_table
from fairdesk.schema import ColumnMapping
from fairdesk.validation import prepare

FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                      HealthCheck.too_slow])


def few(n):
    return settings(FUZZ, max_examples=n)


def engine(name: str):
    """An engine module, or a skip while it is not in this tree yet."""
    return pytest.importorskip(
        f"fairdesk.engines.{name}",
        reason=f"fairdesk/engines/{name}.py is not in this tree yet (another engineer is "
               "writing it); its invariants are tested once it is")


# ------------------------------------------------------------------------------- loaders

EXTENSIONS = [".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".ods", ".xls", ".dat", ""]


def _load_or_message(path):
    """load_table's result, or its DataError message; anything else fails the test."""
    try:
        table = load_table(path)
    except DataError as err:
        message = str(err)
        assert message and "Traceback" not in message
        assert os.path.basename(path) in message or "The text in" in message \
            or "was not found" in message
        return message
    assert isinstance(table, LoadedTable)
    frame = table.frame
    assert frame.shape[0] >= 1 and frame.shape[1] >= 1
    assert frame.columns.is_unique and all(isinstance(c, str) and c for c in frame.columns)
    assert frame.index.is_monotonic_increasing and frame.index.min() >= 2
    return table


@few(80)
@given(st.binary(max_size=600), st.sampled_from(EXTENSIONS))
def test_random_bytes_give_a_table_or_a_message(tmp_path_factory, raw, ext):
    path = tmp_path_factory.mktemp("bytes") / f"input{ext}"
    path.write_bytes(raw)
    _load_or_message(path)
    assert path.read_bytes() == raw


@few(60)
@given(st.lists(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8),
                min_size=1, max_size=40),
       st.sampled_from([",", ";", "\t", "|", " ", ""]),
       st.sampled_from(["\n", "\r\n", "\r"]))
def test_random_text_gives_a_table_or_a_message(tmp_path_factory, cells, sep, newline):
    """Text that looks a bit like a table: random cells, separators and line breaks."""
    width = 1 + len(cells) % 4
    lines = [sep.join(cells[i:i + width]) for i in range(0, len(cells), width)]
    path = tmp_path_factory.mktemp("text") / "input.csv"
    path.write_text(newline.join(lines), encoding="utf-8")
    _load_or_message(path)


def _small_xlsx() -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["score", "outcome", "race"])
    for i in range(12):
        sheet.append([i / 12, i % 2, "AB"[i % 2]])
    raw = io.BytesIO()
    workbook.save(raw)
    return raw.getvalue()


def _small_ods() -> bytes:
    rows = [["score", "outcome"]] + [[i / 5, i % 2] for i in range(6)]

    def cell(v):
        if isinstance(v, str):
            return f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>'
        return (f'<table:table-cell office:value-type="float" office:value="{v}">'
                f"<text:p>{v}</text:p></table:table-cell>")
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')
    body = "".join("<table:table-row>" + "".join(cell(v) for v in r) + "</table:table-row>"
                   for r in rows)
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} '
               'office:version="1.2"><office:body><office:spreadsheet><table:table '
               f'table:name="S">{body}</table:table></office:spreadsheet></office:body>'
               "</office:document-content>")
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return raw.getvalue()


WORKBOOKS = {".xlsx": _small_xlsx(), ".ods": _small_ods()}


@few(60)
@given(st.sampled_from(sorted(WORKBOOKS)),
       st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)),
                min_size=1, max_size=6),
       st.one_of(st.none(), st.floats(0.05, 1)))
def test_damaged_workbooks_give_a_table_or_a_message(tmp_path_factory, ext, flips, keep):
    """A valid workbook with bytes overwritten and/or cut off (calamine may panic)."""
    raw = bytearray(WORKBOOKS[ext])
    for where, value in flips:
        raw[int(where * len(raw))] = value
    if keep is not None:
        raw = raw[: max(1, int(keep * len(raw)))]
    path = tmp_path_factory.mktemp("book") / f"damaged{ext}"
    path.write_bytes(bytes(raw))
    _load_or_message(path)


# --- valid-looking CSV files read back exactly

NA_TOKENS = {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
             "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"}
# letters, accents that Windows-1252 can encode, separators, quotes, spaces, line breaks
TEXT_CHARS = "abcxyzABC éüßÑ€-_.,;|\t\"'\n"
header_names = st.text("abcdefghij_ 0123456789é", min_size=1, max_size=8).map(str.strip).filter(bool)
text_values = st.text(TEXT_CHARS, max_size=10).map(lambda s: "x" + s)  # never a number or NA
int_values = st.integers(-10**12, 10**12)
float_values = st.floats(allow_nan=False, width=64).filter(lambda x: abs(x) < 1e300 or math.isinf(x))


@st.composite
def csv_tables(draw):
    n_cols = draw(st.integers(1, 5))
    names = draw(st.lists(header_names, min_size=n_cols, max_size=n_cols, unique=True))
    kinds = draw(st.lists(st.sampled_from(["int", "float", "text"]), min_size=n_cols,
                          max_size=n_cols))
    n_rows = draw(st.integers(1, 12))
    columns = []
    for kind in kinds:
        values = {"int": int_values, "float": float_values, "text": text_values}[kind]
        # a missing value would make a blank line in a one-column file (skipped, as in Excel)
        cell = values if n_cols == 1 else st.one_of(st.none(), values)
        columns.append(draw(st.lists(cell, min_size=n_rows, max_size=n_rows)))
    return names, kinds, columns


def _field(value, sep: str, decimal: str) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        text = repr(value)
        return text.replace(".", decimal) if decimal == "," else text
    text = str(value)
    if any(c in text for c in (sep, '"', "\n", "\r")) or text != text.strip(" "):
        return '"' + text.replace('"', '""') + '"'
    return text


@few(80)
@given(csv_tables(), st.sampled_from([",", ";", "\t", "|"]), st.booleans(),
       st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
       st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_valid_csv_reads_back_exactly(tmp_path_factory, table, sep, decimal_comma, encoding,
                                      newline, final_newline):
    names, kinds, columns = table
    if len(names) == 1:  # no separator to recognise: the file is read as comma-separated
        sep = ","
    decimal = "," if decimal_comma and sep == ";" else "."
    rows = list(zip(*columns))
    header = sep.join(_field(n, sep, decimal) for n in names)
    lines = [header] + [sep.join(_field(v, sep, decimal) for v in r) for r in rows]
    text = newline.join(lines) + (newline if final_newline else "")
    if decimal == ",":
        # a decimal-comma file is recognised by its numbers: it needs some to tell
        assume(any(isinstance(v, float) and math.isfinite(v) for c in columns for v in c))
    path = tmp_path_factory.mktemp("csv") / "table.csv"
    path.write_bytes(text.encode(encoding))
    loaded = load_table(path)
    frame = loaded.frame
    assert loaded.source.delimiter == sep
    assert list(frame.columns) == names
    # row numbers as a text editor shows them: line breaks inside cells count
    starts, line = [], 2
    for r in rows:
        starts.append(line)
        line += 1 + sum(str(v).count("\n") for v in r if isinstance(v, str))
    assert list(frame.index) == starts
    for name, kind, values in zip(names, kinds, columns):
        got = frame[name].tolist()
        for want, have in zip(values, got):
            if want is None:
                assert pd.isna(have)
            elif kind == "text":
                assert have == want
            else:
                assert float(have) == pytest.approx(float(want), rel=1e-15) or (
                    math.isinf(want) and have == want)


# ---------------------------------------------------------------------------- validation


@st.composite
def raw_frames(draw):
    n = draw(st.integers(1, 40))
    dirty = draw(st.booleans())  # bad cells anywhere, or only a few missing/invalid scores
    score = st.one_of(st.floats(-5, 5), st.sampled_from([math.nan, math.inf, -math.inf]),
                      st.sampled_from(["high", "", "0.5", None] if dirty else [None]))
    values = draw(st.sampled_from([(0, 1), ("yes", "no"), (1.0, 0), (0, 1, 2), (1,)]))
    label = st.one_of(st.sampled_from(values), st.none())
    group = st.sampled_from(["A", "B", "C", None, 1, 1.0])
    weight = st.one_of(st.floats(-1 if dirty else 0, 3),
                       st.sampled_from([0, 1, math.nan, "x", None] if dirty else [0, 1]))
    cols = {name: draw(st.lists(strategy, min_size=n, max_size=n))
            for name, strategy in (("score", score), ("label", label), ("group", group),
                                   ("weight", weight))}
    frame = pd.DataFrame(cols)
    # a spreadsheet-like index of user row numbers, sometimes with gaps
    if draw(st.booleans()):
        frame.index = pd.Index(np.cumsum(draw(st.lists(st.integers(1, 3), min_size=n,
                                                       max_size=n))) + 1, dtype="int64")
    return frame


@few(80)
@given(raw_frames(), st.booleans(), st.booleans(), st.sampled_from(["exclude", "refuse"]),
       st.sampled_from([None, 1, "yes"]))
def test_validation_gives_consistent_data_or_problems(frame, with_weight, with_group, mode,
                                                     positive):
    before = frame.copy()
    mapping = ColumnMapping(score="score", label="label", groups=["group"] if with_group else [],
                            weight="weight" if with_weight else None, positive_label=positive)
    try:
        data = prepare(frame, mapping, invalid_scores=mode, min_group_size=3)
    except ValidationError as err:
        assert err.problems and all(p.message for p in err.problems)
        assert any(p.severity == "error" for p in err.problems)
        problems = err.problems
        data = None
        event("validation error")
    else:
        event("validated")
    pd.testing.assert_frame_equal(frame, before)  # the input is never modified
    user_rows = set(frame.index) if not isinstance(frame.index, pd.RangeIndex) \
        else set(range(2, len(frame) + 2))
    for p in (problems if data is None else data.problems):
        assert set(p.rows) <= user_rows and len(p.rows) <= 5 and p.count >= len(p.rows)
    if data is None:
        return
    assert data.n + sum(e.count for e in data.exclusions) >= len(frame) >= data.n >= 1
    assert np.isfinite(data.score).all()
    assert set(np.unique(data.label)) <= {0, 1}
    assert (data.weight >= 0).all() and np.isfinite(data.weight).all()
    assert set(data.row_numbers) <= user_rows and np.all(np.diff(data.row_numbers) > 0)
    assert data.group.min() >= 0 and data.group.max() < data.n_groups
    assert len(set(data.group_names)) == data.n_groups
    assert np.array_equal(np.unique(data.group), np.arange(data.n_groups))  # no empty group
    if mode == "refuse":
        assert not data.exclusions


# ------------------------------------------------------------------------- engine data


@st.composite
def analysis_data(draw, min_groups=1, max_groups=4, weighted=None, both_classes=False,
                  n_max=80):
    """Random validated data: ties, tiny groups, fractional weights, lower-is-riskier."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    G = draw(st.integers(min_groups, max_groups))
    n = draw(st.integers(max(4, 2 * G), max(n_max, 2 * G)))
    levels = draw(st.sampled_from([3, 10, 1000]))  # many ties … few
    group = rng.integers(0, G, n)
    group[:G] = np.arange(G)  # every group present
    score = rng.integers(0, levels, n) / levels
    label = (rng.random(n) < 0.2 + 0.6 * score).astype(int)
    if both_classes:
        label[:G] = 0
        label[G:2 * G] = 1
        group[G:2 * G] = np.arange(G)
    use_weight = draw(st.booleans()) if weighted is None else weighted
    frame = pd.DataFrame({"score": score, "label": label, "group": [f"g{g}" for g in group]})
    if use_weight:
        frame["weight"] = np.where(rng.random(n) < 0.5, rng.integers(0, 4, n),
                                   rng.random(n) * 3).round(3)
        frame.loc[0, "weight"] = 1.0
    mapping = ColumnMapping(score="score", label="label", groups=["group"],
                            weight="weight" if use_weight else None, positive_label=1,
                            higher_is_positive=draw(st.booleans()))
    try:
        return prepare(frame, mapping, min_group_size=1)
    except ValidationError:
        assume(False)


def in_unit_or_nan(values) -> bool:
    v = np.asarray(values, dtype=float)
    ok = np.isnan(v) | ((v >= -1e-12) & (v <= 1 + 1e-12))
    return bool(ok.all())


RATES_IN_UNIT = ("tpr", "fnr", "fpr", "tnr", "ppv", "fdr", "npv", "for", "accuracy",
                 "prevalence", "selection_rate")


@few(40)
@given(analysis_data(), st.lists(st.floats(-0.2, 1.2), min_size=1, max_size=4))
def test_audit_rates_and_fairness_in_unit_interval(data, thresholds):
    from fairdesk.audit import run_audit

    result = run_audit(data, thresholds)
    for key in RATES_IN_UNIT:
        assert in_unit_or_nan(result.rates[key]), key
        assert in_unit_or_nan(result.overall_rates[key]), key
    for key, value in result.fairness.items():
        assert in_unit_or_nan(value), key
        if data.n_groups < 2:
            assert np.isnan(value).all()
    assert in_unit_or_nan(result.auc) and in_unit_or_nan(result.xauc)
    # complementary rates add up to 1 where defined
    for a, b in (("tpr", "fnr"), ("fpr", "tnr"), ("ppv", "fdr"), ("npv", "for")):
        s = result.rates[a] + result.rates[b]
        assert np.allclose(s[~np.isnan(s)], 1.0)
    # the JSON has null (never NaN) for undefined values
    text = __import__("json").dumps(result.to_json(), allow_nan=False)
    assert text


# ---------------------------------------------------------------- threshold correction


@few(15)
@given(analysis_data(min_groups=2, max_groups=3, n_max=60),
       st.sampled_from(["ERB", "PE", "EO", "SP", "PP", "OAE", "CUAE", "TE", "CAL"]),
       st.lists(st.sampled_from([0.0, 0.1, 0.3, 0.6, 0.9]), min_size=1, max_size=3,
                unique=True))
def test_threshold_optimizer_constraints(data, definition, weights):
    from fairdesk.engines.threshold_correction import objective_value, solve_subsample

    s, y, g, w = data.oriented, data.label.astype(float), data.group, data.weight
    distinct = np.unique(s)
    assume(distinct.size >= 3)
    phi = np.unique(np.quantile(distinct, [0.25, 0.5, 0.75], method="nearest"))
    assume(phi.size >= 2)
    weights = tuple(sorted(weights)) + (1.0,)
    G = data.n_groups
    # the default search keeps someone on each side of every group's threshold where it can:
    # the order and coverage constraints still hold, and the objective is the plain one
    con = solve_subsample(s, y, g, w, G, phi, definition, weights, max_candidates=10_000)
    check_threshold_constraints(con.theta, phi)
    if definition != "CAL":
        for wi, wv in enumerate(weights):
            for t in range(phi.size):
                ref = objective_value(s, y, g, w, G, phi, t, con.theta[wi, t], definition, wv)
                assert con.objective[wi, t] == pytest.approx(ref, abs=1e-8)
    # unconstrained (allow_degenerate): w = 1 gives back Φ exactly
    sol = solve_subsample(s, y, g, w, G, phi, definition, weights, max_candidates=10_000,
                          nondegenerate=False)
    theta = sol.theta  # (W, k, G)
    k = phi.size
    check_threshold_constraints(theta, phi)
    for t in range(k):
        # coveredness: the group-agnostic threshold lies between the groups' thresholds
        assert np.all(theta[:, t].min(axis=1) <= phi[t] + 1e-12)
        assert np.all(theta[:, t].max(axis=1) >= phi[t] - 1e-12)
        if t > 0:  # orderliness within each group
            assert np.all(theta[:, t] > theta[:, t - 1])
        if t + 1 < k:
            assert np.all(theta[:, t] <= phi[t + 1] + 1e-12)
    # w = 1: changing anyone's tier costs more than any fairness gain
    np.testing.assert_allclose(theta[-1], np.repeat(phi[:, None], G, axis=1))
    assert np.isfinite(sol.objective).all()
    if definition != "CAL":
        assert in_unit_or_nan(sol.fairness_pre)
        for wi, wv in enumerate(weights):
            for t in range(k):
                ref = objective_value(s, y, g, w, G, phi, t, theta[wi, t], definition, wv)
                assert sol.objective[wi, t] == pytest.approx(ref, abs=1e-8)
            # the first threshold has no lower bound: Φ itself is a feasible start
            at_phi = objective_value(s, y, g, w, G, phi, 0, np.full(G, phi[0]), definition, wv)
            assert sol.objective[wi, 0] <= at_phi + 1e-9


def check_threshold_constraints(theta, phi):
    for t in range(phi.size):
        assert np.all(theta[:, t].min(axis=1) <= phi[t] + 1e-12)
        assert np.all(theta[:, t].max(axis=1) >= phi[t] - 1e-12)
        if t > 0:
            assert np.all(theta[:, t] > theta[:, t - 1])
        if t + 1 < phi.size:
            assert np.all(theta[:, t] <= phi[t + 1] + 1e-12)


def test_threshold_optimizer_last_threshold_without_scores_above():
    """Found by the fuzz test above: a group with no score above the last Φ still gets a
    last threshold above its previous one (a candidate above every score)."""
    from fairdesk.engines.threshold_correction import solve_subsample

    score = np.array([0, 0, 0, 2 / 3, 1 / 3, 2 / 3])
    label = np.array([0, 0, 0, 0, 0, 1.0])
    group = np.array([0, 1, 1, 0, 0, 0])
    phi = np.array([0, 1 / 3, 2 / 3])
    sol = solve_subsample(score, label, group, np.ones(6), 2, phi, "OAE", (0.0, 1.0))
    assert np.all(sol.theta[:, 1:] > sol.theta[:, :-1])


# ------------------------------------------------------------------------ recall balance


@few(30)
@given(analysis_data(both_classes=True, n_max=60), st.integers(0, 3),
       st.lists(st.floats(0.5, 90), min_size=2, max_size=4))
def test_recall_balance_invariants_and_monotone_recall_in_k(data, seed, ks):
    rb = engine("recall_balance")
    # weights count people: positives that all weigh 0 are nobody, and the engine says so
    # ("No one in the data has the positive outcome"), a message rather than a result
    if not (data.weight * data.label).sum() > 0:
        with pytest.raises(FairDeskError, match="No one in the data has the positive outcome"):
            rb.run_recall(data, rb.RecallSettings(k=ks[0], seed=seed))
        return
    ks = sorted(ks)
    ranked = None
    previous = None
    for k in ks:
        result = rb.run_recall(data, rb.RecallSettings(k=k, seed=seed), ranked=ranked)
        ranked = result.ranked
        total = result.total_people
        for key, s in result.scenarios.items():
            assert in_unit_or_nan(s.recall) and in_unit_or_nan(s.precision), key
            assert np.all(s.rows >= 0) and np.all(s.rows <= ranked.sizes), key
            assert s.tp.sum() <= s.people.sum() + 1e-9
            if key in ("top_k", "current_equal", "current_proportional"):
                assert s.size <= min(k, total) + 1e-6, key  # never more than K people
            if key.startswith("expanded"):  # the top K, plus people
                assert np.all(s.rows >= result.scenarios["top_k"].rows), key
        if previous is not None:  # recall never falls as K grows (same seed)
            for key, s in result.scenarios.items():
                before = previous.scenarios[key].recall
                both = ~np.isnan(before) & ~np.isnan(s.recall)
                assert np.all(s.recall[both] >= before[both] - 1e-12), (key, k)
                assert np.all(s.rows >= previous.scenarios[key].rows), (key, k)
        previous = result
    curves = rb.precision_recall_at_k(ranked, ks[-1])
    for g in range(data.n_groups):
        rec = curves["recall"][g]
        assert in_unit_or_nan(rec) and in_unit_or_nan(curves["precision"][g])
        rec = rec[~np.isnan(rec)]
        assert np.all(np.diff(rec) >= -1e-12)


@few(30)
@given(analysis_data(both_classes=True, weighted=False, n_max=40), st.integers(0, 3),
       st.floats(1, 40))
def test_equal_recall_list_is_algorithm_1_by_brute_force(data, seed, k):
    """current_equal equals the merged list of Algorithm 1 built explicitly (naive)."""
    rb = engine("recall_balance")
    result = rb.run_recall(data, rb.RecallSettings(k=k, seed=seed))
    ranked = result.ranked
    G = data.n_groups
    entries = []
    for g in range(G):
        recall = ranked.positives_cum[g] / ranked.positives[g]
        for i in range(1, ranked.sizes[g] + 1):
            entries.append((recall[i], ranked.counts[g][i], g, i))
    entries.sort(key=lambda e: (e[0], e[1], e[2]))
    taken = np.zeros(G, dtype=int)
    budget = min(k, ranked.total)
    for _, _, g, i in entries:
        trial = taken.copy()
        trial[g] = i
        if sum(ranked.counts[h][trial[h]] for h in range(G)) > budget + 1e-9:
            break
        taken = trial
    assert result.scenarios["current_equal"].rows.tolist() == taken.tolist()


# ---------------------------------------------------------------------------- households


@few(20)
@given(analysis_data(both_classes=True, n_max=60), st.integers(2, 20), st.integers(1, 6))
def test_household_policies_rates_and_scores(data, bins, max_household):
    hh = engine("households")
    rng = np.random.default_rng(data.n * 7 + bins)
    data.households = rng.integers(0, max(1, data.n // max_household), data.n)
    cutoff = max(1, min(bins, int(0.8 * bins + 0.5)))
    result = hh.audit_households(data, hh.HouseholdSettings(bins=bins, cutoff=cutoff,
                                                            policies=(1, 2, 3)))
    for p in result.policies:
        if not p.available:
            continue
        for field in ("auc", "xauc", "fpr", "tpr", "screen_in"):
            assert in_unit_or_nan(getattr(p, field)), (p.number, field)
        for field in ("auc_overall", "fpr_overall", "tpr_overall", "screen_in_overall"):
            assert in_unit_or_nan(getattr(p, field)), (p.number, field)
    bins_of, _ = hh.ventile_scores(data.oriented, bins)
    assert bins_of.min() >= 1 and bins_of.max() <= bins
    shown = hh.communicated_scores(bins_of, data.households)
    assert np.all(shown["household_max"] >= shown["individual"])
    # everyone in a household is shown the same maximum
    frame = pd.DataFrame({"h": data.households, "m": shown["household_max"]})
    assert (frame.groupby("h")["m"].nunique() == 1).all()


# ----------------------------------------------------------------------------- transport


@few(30)
@given(analysis_data(min_groups=2, n_max=60), st.sampled_from(["together", "random"]),
       st.integers(0, 5))
def test_score_transport_is_monotone_and_lands_on_the_reference(data, ties, seed):
    tr = engine("transport")
    ref = 0
    w = data.weight
    assume(w[data.group == ref].sum() > 0)
    smap, out = tr.fit_score_map(data.score, data.group, data.n_groups, ref, w, ties=ties,
                                 seed=seed)
    ref_scores = data.score[(data.group == ref) & (w > 0)]
    assert np.array_equal(out[data.group == ref], data.score[data.group == ref])
    for g in range(data.n_groups):
        m = (data.group == g) & (w > 0)
        if not m.any():
            continue
        s, t = data.score[m], out[m]
        order = np.lexsort((t, s))
        assert np.all(np.diff(t[order]) >= 0)  # never reverses two scores of a group
        if ties == "together":  # tied scores stay tied
            same = np.diff(s[order]) == 0
            assert np.all(np.diff(t[order])[same] == 0)
        assert np.all(np.isin(t, ref_scores))  # a transported score is a reference score
        if ties == "together":
            np.testing.assert_array_equal(smap.transform(s, np.full(s.size, g)), t)


# ----------------------------------------------------------------------------- conformal


@few(60)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=60), st.floats(0.01, 0.5))
def test_conformal_quantile_and_calibration_coverage(scores, alpha):
    cf = engine("conformal")
    qhat, level = cf.conformal_quantile(scores, alpha)
    n = len(scores)
    rank = math.ceil(round((n + 1) * (1 - alpha), 9))
    if rank > n:
        assert math.isinf(qhat)
    else:
        assert qhat == sorted(scores)[rank - 1]  # the ⌈(n + 1)(1 − α)⌉-th smallest
        covered = sum(s <= qhat for s in scores)
        assert covered >= rank >= (n + 1) * (1 - alpha) - 1e-9


@few(60)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=30), st.floats(0, 1), st.floats(0, 1))
def test_prediction_sets_grow_with_the_threshold(p1, q_small, q_large):
    cf = engine("conformal")
    q_small, q_large = sorted((q_small, q_large))
    small, large = cf.prediction_sets(p1, q_small), cf.prediction_sets(p1, q_large)
    assert np.all((small & large) == small)  # every set at the smaller q̂ is inside the larger
    assert set(np.unique(small)) <= {0, 1, 2, 3}
    for y in (0, 1):
        assert np.all(cf.covered(large, np.full(len(p1), y)) >= cf.covered(small, np.full(len(p1), y)))


@few(60)
@given(st.floats(0, 200), st.one_of(st.just(0.0), st.floats(1e-9, 1)), st.floats(0.5, 0.999))
def test_clopper_pearson_interval_contains_the_share(n, share, confidence):
    # (a subnormal count such as 1e-323 makes scipy's beta quantile overflow: not data)
    cf = engine("conformal")
    k = n * share
    low, high = cf.clopper_pearson(k, n, confidence)
    if n <= 0:
        assert math.isnan(low) and math.isnan(high)
        return
    assert 0 <= low <= k / n + 1e-9 and k / n - 1e-9 <= high <= 1


# ------------------------------------------------------------------------ equalized odds


@few(10)
@given(analysis_data(min_groups=2, max_groups=3, both_classes=True, weighted=False, n_max=60),
       st.sampled_from(["accuracy", "cost"]), st.sampled_from([0.0, 0.05]))
def test_equalized_odds_fixed_randomisation_equalizes_rates(data, objective, tolerance):
    eo = engine("equalized_odds")
    settings_ = eo.EOddsSettings(objective=objective, cost_fp=2.0, cost_fn=1.0,
                                 tolerance=tolerance, families=())
    result = eo.run_equalized_odds(data, settings_, curves=False)
    fixed = result.fixed
    fpr, tpr, acc = fixed.rates(result.rocs)
    assert in_unit_or_nan(fpr) and in_unit_or_nan(tpr) and in_unit_or_nan(acc)
    assert in_unit_or_nan(fixed.p)
    assert in_unit_or_nan(result.targets)
    # the groups' (FPR, TPR) agree up to the tolerance, except where no pair of thresholds
    # reaches a group's target (reported as target_gap, with a warning)
    slack = tolerance + 2 * float(fixed.target_gap.max()) + 1e-9
    assert float(fixed.eo_gap(result.rocs).max()) <= slack
    if float(fixed.target_gap.max()) > 1e-4:
        assert any("reach the target" in w for w in result.warnings)
