"""FairDesk's functions side by side with plain numpy baselines, in one process.

    python benchmarks/bench_baselines.py [--large] [--repeat 3]

Each line times FairDesk's function and a plain numpy (or pandas) computation of the same
core figures on the same rows, and prints the ratio (FairDesk / baseline; the issue's target
is at most 2×). The baselines compute less than FairDesk does (no fairness measures,
reliability rules, undefined-rate reasons or cross-AUC): they are the floor, not a rival.

* audit without AUC: ``run_audit(..., with_ranking=False)`` at 3 thresholds against
  ``pd.factorize`` + ``np.bincount`` per threshold (TP, FP, FN, TN per group);
* audit with AUC: ``run_audit`` against the same plus one argsort and a rank-sum AUC per group;
* the per-group sort: ``np.lexsort((score, group))`` against a stable argsort of the scores
  and a stable argsort of the group codes, and against ``group_score_order`` (numpy's fast
  sort, tied runs put back in row order, then the stable sort of the group codes), as
  ``GroupScores`` sorts: all three the same order;
* the curve-family search on the sample and on FICO: today's ``search_curves`` against the
  one before (tests/reference_preferential.py), same optimum;
* score transport, 1,000,000 rows in 5 groups (``fit_score_map``: the quantile–quantile maps
  and every row's transported score, ties moving together and ties broken at random) against
  a numpy quantile map (per group one argsort, each row's mid-rank share, the reference
  group's sorted scores read at it); the figures are checked to agree first;
* recall balancing, 1,500,000 rows in 5 groups, K = 150 (``run_recall``: the seeded ranking,
  all five scenarios, precision@k and recall@k curves; and the ranking alone) against a plain
  numpy top K (a seeded shuffle for the ties, one stable argsort, recall of the top K per
  group by ``bincount``); the plain top K's recalls are checked to agree first.

1,000,000 rows with 4 and 10 groups; ``--large`` adds 10,000,000 rows. The machine load
(1-minute load average) is printed: figures on a loaded machine are slower and noisier.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fairdesk.audit import run_audit  # noqa: E402
from fairdesk.dataset import AnalysisData  # noqa: E402
from fairdesk.metrics.confusion import group_score_order  # noqa: E402
from fairdesk.schema import ColumnMapping  # noqa: E402

THRESHOLDS = (0.3, 0.5, 0.7)


def rows(n: int, groups: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    g = rng.integers(0, groups, n)
    y = (rng.random(n) < 0.25 + 0.02 * g).astype(np.int8)
    s = np.clip(rng.normal(0.35 + 0.25 * y + 0.01 * g, 0.15), 0, 1)
    names = np.array([f"Group {i + 1}" for i in range(groups)], dtype=object)
    data = AnalysisData(score=s, label=y, group=g.astype(np.int32),
                        group_names=list(names), weight=np.ones(n),
                        row_numbers=np.arange(n, dtype=np.int64) + 2,
                        mapping=ColumnMapping(score="s", label="y", groups=["g"]), n_input_rows=n)
    return data, s, y, names[g]


def timed(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def baseline_counts(score, label, group_labels):
    codes, uniques = pd.factorize(group_labels)
    k = len(uniques)
    pos = label.astype(bool)
    out = []
    for t in THRESHOLDS:
        pred = score >= t
        tp = np.bincount(codes, weights=pred & pos, minlength=k)
        fp = np.bincount(codes, weights=pred & ~pos, minlength=k)
        fn = np.bincount(codes, weights=~pred & pos, minlength=k)
        tn = np.bincount(codes, weights=~pred & ~pos, minlength=k)
        out.append((tp, fp, fn, tn))
    return codes, out


def baseline_with_auc(score, label, group_labels):
    codes, out = baseline_counts(score, label, group_labels)
    order = np.argsort(score)
    ranks = np.empty(score.size)
    ranks[order] = np.arange(1, score.size + 1)  # ties not averaged: a floor, not exact
    auc = []
    for g in range(codes.max() + 1):
        m = codes == g
        y = label[m].astype(bool)
        r = pd.Series(ranks[m]).rank().to_numpy()
        p, q = y.sum(), (~y).sum()
        auc.append((r[y].sum() - p * (p + 1) / 2) / (p * q))
    return out, auc


def line(name, ours, base, note="", labels=("FairDesk", "baseline"), target=2.0):
    """Print and return one comparison; ``ratio`` = first / second."""
    ratio = ours / base if base > 0 else float("nan")
    print(f"  {name:<40} {labels[0]} {ours:7.3f} s   {labels[1]} {base:7.3f} s   "
          f"ratio {ratio:5.2f}×" + (f"   {note}" if note else ""))
    return {"name": name, "ours": ours, "base": base, "ratio": ratio, "labels": labels,
            "target": target, "note": note}


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser()
    ap.add_argument("--large", action="store_true", help="add 10,000,000-row runs")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    print(f"FairDesk against plain numpy baselines (median of {args.repeat}; load average "
          f"{os.getloadavg()[0]:.2f})")
    out = []
    sizes = [(1_000_000, 4), (1_000_000, 10)] + ([(10_000_000, 4), (10_000_000, 10)]
                                                 if args.large else [])
    for n, k in sizes:
        data, s, y, labels = rows(n, k)
        tag = f"{n / 1e6:g}M rows, {k} groups"
        # the figures must agree before their times mean anything
        res = run_audit(data, list(THRESHOLDS), with_ranking=False)
        _, base = baseline_counts(s, y, labels)
        for j, (tp, fp, fn, tn) in enumerate(base):
            np.testing.assert_allclose(res.rates["tpr"][:, j],
                                       _by_name(tp / (tp + fn), labels, data.group_names), rtol=1e-12)
            np.testing.assert_allclose(res.rates["fpr"][:, j],
                                       _by_name(fp / (fp + tn), labels, data.group_names), rtol=1e-12)
        out.append(line(f"audit without AUC, {tag}",
                        timed(lambda: run_audit(data, list(THRESHOLDS), with_ranking=False), args.repeat),
                        timed(lambda: baseline_counts(s, y, labels), args.repeat)))
        out.append(line(f"audit with AUC, {tag}",
                        timed(lambda: run_audit(data, list(THRESHOLDS)), args.repeat),
                        timed(lambda: baseline_with_auc(s, y, labels), args.repeat),
                        "(FairDesk also: cross-AUC)"))
        g = data.group

        def two_pass():
            o = np.argsort(s, kind="stable")
            return o[np.argsort(g[o].astype(np.int16), kind="stable")]

        assert np.array_equal(np.lexsort((s, g)), two_pass())
        assert np.array_equal(np.lexsort((s, g)), group_score_order(s, g, k))
        lex = timed(lambda: np.lexsort((s, g)), args.repeat)
        out.append(line(f"per-group sort, {tag}", lex, timed(two_pass, args.repeat),
                        "same order", labels=("lexsort", "two stable passes"), target=None))
        out.append(line(f"per-group sort, {tag}", lex,
                        timed(lambda: group_score_order(s, g, k), args.repeat),
                        "same order; GroupScores sorts this way",
                        labels=("lexsort", "fast sort + tie fix-up"), target=None))
    out += search_lines(args.repeat)
    out += transport_lines(args.repeat)
    out += recall_lines(args.repeat)
    return out


def _by_name(values, labels, names):
    """Baseline values (in pd.factorize's order) in FairDesk's group order."""
    _, uniques = pd.factorize(labels)
    where = {u: i for i, u in enumerate(uniques)}
    return np.array([values[where[n]] for n in names])


def transport_rows(n: int = 1_000_000, groups: int = 5, seed: int = 0):
    """As benchmarks/bench_transport.py: unequal groups, scores rounded to 6 decimals (ties)."""
    rng = np.random.default_rng(seed)
    share = np.array([40, 30, 15, 10, 5][:groups], dtype=float)
    g = rng.choice(groups, n, p=share / share.sum())
    score = np.clip(rng.beta(2 + 0.5 * g, 5), 0, 1).round(6)
    return score, g.astype(np.int32)


def baseline_quantile_map(score, group, n_groups: int, reference: int):
    """Plain numpy score transport: each row goes to the reference group's sorted scores at
    its mid-rank share of its own group (unit weights; no tie blocks, no stored map)."""
    out = np.empty(score.size)
    ref_sorted = np.sort(score[group == reference])
    m_ref = ref_sorted.size
    for g in range(n_groups):
        idx = np.flatnonzero(group == g)
        if g == reference:
            out[idx] = score[idx]
            continue
        o = np.argsort(score[idx])
        u = (np.arange(idx.size) + 0.5) / idx.size
        out[idx[o]] = ref_sorted[np.minimum((u * m_ref).astype(np.int64), m_ref - 1)]
    return out


def transport_lines(repeat, n: int = 1_000_000):
    from fairdesk.engines.transport import fit_score_map

    score, group = transport_rows(n)
    G, ref = int(group.max()) + 1, 0
    weight = np.ones(n)
    base = baseline_quantile_map(score, group, G, ref)
    out = []
    for ties in ("together", "random"):
        _, ours = fit_score_map(score, group, G, ref, weight, ties=ties, seed=1)
        # the same map up to the tie rule and the quantile convention: each row lands within
        # a few of the reference group's 400,000 sorted scores of the baseline's
        diff = float(np.max(np.abs(ours - base)))
        assert diff < 0.01, diff
        out.append(line(f"score transport, {n / 1e6:g}M rows, 5 groups, ties {ties}",
                        timed(lambda: fit_score_map(score, group, G, ref, weight, ties=ties, seed=1),
                              repeat),
                        timed(lambda: baseline_quantile_map(score, group, G, ref), repeat),
                        f"largest difference from the baseline {diff:.1e}"))
    return out


def recall_rows(n: int = 1_500_000, seed: int = 1):
    """As benchmarks/bench_recall_balance.py: 5 groups, scores rounded to 4 decimals."""
    rng = np.random.default_rng(seed)
    g = rng.choice(5, n, p=[.3, .4, .2, .07, .03])
    shift = np.array([.04, 0, .02, -.02, 0])[g]
    score = np.clip(rng.beta(2, 5, n) + shift, 0, 1).round(4)
    y = (rng.random(n) < score).astype(np.int8)
    names = [f"Group {i + 1}" for i in range(5)]
    data = AnalysisData(score=score, label=y, group=g.astype(np.int32), group_names=names,
                        weight=np.ones(n), row_numbers=np.arange(n, dtype=np.int64) + 2,
                        mapping=ColumnMapping(score="s", label="y", groups=["g"]), n_input_rows=n)
    return data


def baseline_top_k(score, label, group, n_groups: int, k: int, seed: int):
    """Plain numpy top K: ties in a seeded random order, recall of the top K per group."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    perm = rng.permutation(score.size)
    order = perm[np.argsort(-score[perm], kind="stable")]
    top = order[:k]
    found = np.bincount(group[top], weights=label[top], minlength=n_groups)
    return found / np.bincount(group, weights=label, minlength=n_groups)


def recall_lines(repeat, n: int = 1_500_000, k: int = 150):
    from fairdesk.engines.recall_balance import RankedGroups, RecallSettings, run_recall

    data = recall_rows(n)
    s, y, g, G = data.oriented, data.label.astype(float), data.group, data.n_groups
    res = run_recall(data, RecallSettings(k=k, seed=0))
    top = res.scenarios["top_k"]
    want = baseline_top_k(s, y, g, G, k, 0)
    got = np.array([res.ranked.recall(j)[top.rows[j]] for j in range(G)])
    np.testing.assert_allclose(got, want, rtol=1e-12)
    base = timed(lambda: baseline_top_k(s, y, g, G, k, 0), repeat)
    return [line(f"recall balancing, {n / 1e6:g}M rows, 5 groups, K = {k}",
                 timed(lambda: run_recall(data, RecallSettings(k=k, seed=0)), repeat), base,
                 "(FairDesk: all five scenarios and the curves)"),
            line(f"recall balancing: the ranking alone, {n / 1e6:g}M rows",
                 timed(lambda: RankedGroups.from_data(data, 0), repeat), base)]


def search_lines(repeat):
    import reference_preferential as ref
    from fairdesk.engines import preferential as pf
    from test_preferential_search import fico_case, sample_case, search_inputs

    from fairdesk.engines.equalized_odds import EOddsSettings

    out = []
    for name, case in (("sample", sample_case), ("FICO", fico_case)):
        try:
            data, extra = case()
        except FileNotFoundError:
            print(f"  curve-family search on {name}: data missing, skipped")
            continue
        moments, tasks, kw = search_inputs(data, EOddsSettings(**extra))
        new = pf.search_curves(moments, tasks, **kw)
        old = ref.search_curves(moments, tasks, **kw)
        same = all(abs(getattr(a, f) - getattr(b, f)) <= 1e-9 * max(1.0, abs(getattr(b, f)))
                   for a, b in zip(new, old) for f in ("t0", "t1", "p", "tp", "fp", "gap"))
        out.append(line(f"curve-family search, {name}",
                        timed(lambda: ref.search_curves(moments, tasks, **kw), repeat),
                        timed(lambda: pf.search_curves(moments, tasks, **kw), repeat),
                        f"same optimum: {same}; targets: new < 0.5 s, ratio ≥ 10×",
                        labels=("old", "new"), target=10.0))
    return out


if __name__ == "__main__":
    main()
