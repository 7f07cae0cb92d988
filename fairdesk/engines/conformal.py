"""Split conformal prediction sets for a binary outcome (Berk, Kuchibhotla & Tchetgen
Tchetgen 2021, section 5; Vovk et al.; Lei et al. 2018).

The reference group's rows are divided into three splits:

* **train** — fits a calibration of the score to a probability p̂(1) (only when the score is
  not already a probability; a logistic or an isotonic fit on the reference group);
* **calibration** — gives the conformity threshold q̂: the nonconformity score of a row is
  s = 1 − p̂(y), y its observed outcome, and q̂ is the ⌈(n + 1)(1 − α)⌉-th smallest of the n
  calibration scores (the empirical quantile at level ⌈(n + 1)(1 − α)⌉ / n);
* **test** — where the coverage is checked: the share of rows whose outcome is in their
  prediction set, with its exact (Clopper–Pearson) binomial interval.

The prediction set of a row is C = {y ∈ {0, 1} : 1 − p̂(y) ≤ q̂}: {0}, {1}, {0, 1} (the tool
cannot tell) or {} (no outcome is plausible enough). Split conformal guarantees
P(Y ∈ C) ≥ 1 − α for a new row exchangeable with the calibration rows — that is, for the
reference group. Other groups are judged by the shares of each kind of set, with their
original scores and with their scores transported onto the reference group.

Frequency weights count as people: the quantile is weighted with n = the calibration
weight, and shares and coverage are weighted. No Qt here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import FairDeskError

SET_KEYS = ("{0}", "{1}", "{0,1}", "{}")
SET_LABELS = {"{0}": "{0}: only the negative outcome", "{1}": "{1}: only the positive outcome",
              "{0,1}": "{0, 1}: both (the tool cannot tell)", "{}": "{}: empty (neither)"}
# code of a set: bit 0 = outcome 0 in the set, bit 1 = outcome 1 in the set
CODE_OF = {"{}": 0, "{0}": 1, "{1}": 2, "{0,1}": 3}
SPLITS = ("train", "calibration", "test")
TRAIN, CALIBRATION, TEST = 0, 1, 2
DEFAULT_SPLIT_VALUES = {
    "train": ("train", "training", "fit"),
    "calibration": ("calibration", "calib", "cal", "validation", "valid", "val"),
    "test": ("test", "testing", "holdout", "eval", "evaluation"),
}
PROBABILITY_METHODS = ("auto", "score", "logistic", "isotonic")


# ------------------------------------------------------------------------------------------
# quantile, sets, interval

def conformal_level(n: float, alpha: float) -> float:
    """⌈(n + 1)(1 − α)⌉ / n; above 1 when the calibration split is too small for α."""
    if not 0 < alpha < 1:
        raise FairDeskError(f"α must be between 0 and 1 (exclusive), not {alpha:g}.")
    if n <= 0:
        return math.inf
    # round first: (9 + 1)(1 − 0.1) is 9.000000000000002 in floating point
    return math.ceil(round((n + 1) * (1 - alpha), 9)) / n


def conformal_quantile(scores, alpha: float, weight=None) -> tuple[float, float]:
    """(q̂, level): the weighted inverted-CDF quantile of ``scores`` at the conformal level.

    With unit weights q̂ is the ⌈(n + 1)(1 − α)⌉-th smallest score. When that level exceeds
    1 (fewer than 1/α − 1 calibration rows) q̂ is +∞: every prediction set is {0, 1}.
    """
    s = np.asarray(scores, dtype=float)
    w = np.ones(s.size) if weight is None else np.asarray(weight, dtype=float)
    n = float(w.sum())
    level = conformal_level(n, alpha)
    if s.size == 0 or level > 1:
        return math.inf, level
    order = np.argsort(s, kind="stable")
    cw = np.cumsum(w[order])
    i = min(int(np.searchsorted(cw, level * n * (1 - 1e-12), side="left")), s.size - 1)
    return float(s[order][i]), level


def prediction_sets(p1, qhat: float) -> np.ndarray:
    """Set codes (0 = {}, 1 = {0}, 2 = {1}, 3 = {0, 1}) for probabilities p̂(1) = ``p1``."""
    p1 = np.asarray(p1, dtype=float)
    has0 = (1.0 - (1.0 - p1)) <= qhat  # 1 − p̂(0), written as the nonconformity is computed
    has1 = (1.0 - p1) <= qhat
    return has0.astype(np.int8) + 2 * has1.astype(np.int8)


def nonconformity(p1, y) -> np.ndarray:
    """s = 1 − p̂(y): 1 − p̂(1) for a positive outcome, 1 − (1 − p̂(1)) for a negative one."""
    p1 = np.asarray(p1, dtype=float)
    y = np.asarray(y)
    return np.where(y == 1, 1.0 - p1, 1.0 - (1.0 - p1))


def covered(codes, y) -> np.ndarray:
    """True where outcome y is in the prediction set."""
    codes = np.asarray(codes)
    y = np.asarray(y)
    return np.where(y == 1, (codes & 2) > 0, (codes & 1) > 0)


def clopper_pearson(k: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Exact binomial interval for k successes out of n, as floats; NaN when n = 0 (the
    audit's interval, :func:`fairdesk.metrics.intervals.clopper_pearson`)."""
    from ..metrics.intervals import clopper_pearson as exact

    low, high = exact(k, n, confidence)
    return float(low), float(high)


# ------------------------------------------------------------------------------------------
# calibration of a score to p̂(1)

@dataclass
class Calibrator:
    """Maps an oriented score to p̂(1). ``method``: 'score' (the score is the probability),
    'logistic' (Platt: 1 / (1 + exp(−(a + b·score)))) or 'isotonic' (a non-decreasing step
    function, linear between the fitted scores, constant beyond them)."""

    method: str
    a: float = 0.0
    b: float = 1.0
    knots_x: np.ndarray | None = None
    knots_y: np.ndarray | None = None
    sign: float = 1.0  # oriented = sign * user score; 'score' uses the user score

    def predict(self, oriented) -> np.ndarray:
        x = np.asarray(oriented, dtype=float)
        if self.method == "score":
            return np.clip(self.sign * x, 0.0, 1.0)
        if self.method == "logistic":
            return _sigmoid(self.a + self.b * x)
        return np.interp(x, self.knots_x, self.knots_y)

    def describe(self) -> str:
        if self.method == "score":
            return "the score itself is the probability p̂(1)"
        if self.method == "logistic":
            a = f"{self.a:.4g}".replace("-", "−")
            op = "+" if self.b >= 0 else "−"
            return (f"logistic calibration on the reference group's training split: "
                    f"p̂(1) = 1 / (1 + exp(−({a} {op} {abs(self.b):.4g} × score)))"
                    + (" (score with its sign reversed: lower = riskier)" if self.sign < 0 else ""))
        return (f"isotonic calibration on the reference group's training split "
                f"({self.knots_x.size} distinct scores)")


def _sigmoid(z):
    z = np.asarray(z, dtype=float)
    return np.where(z >= 0, 1.0 / (1.0 + np.exp(-np.abs(z))),
                    np.exp(-np.abs(z)) / (1.0 + np.exp(-np.abs(z))))


def fit_logistic(x, y, w, iterations: int = 100) -> tuple[float, float]:
    """Weighted maximum-likelihood (a, b) of P(y = 1) = σ(a + b·x) by Newton's method with a
    tiny ridge (1e-8) so that separable data still give finite numbers."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.asarray(w, dtype=float)
    mu, sd = np.average(x, weights=w), math.sqrt(np.average((x - np.average(x, weights=w)) ** 2,
                                                           weights=w))
    sd = sd if sd > 0 else 1.0
    z = (x - mu) / sd
    beta = np.zeros(2)
    X = np.column_stack([np.ones_like(z), z])
    ridge = 1e-8 * w.sum()

    def loss(b):
        eta = X @ b
        return float(np.sum(w * (np.logaddexp(0, eta) - y * eta)) + 0.5 * ridge * b[1] ** 2)

    current = loss(beta)
    for _ in range(iterations):
        p = _sigmoid(X @ beta)
        grad = X.T @ (w * (p - y)) + np.array([0.0, ridge * beta[1]])
        H = (X * (w * p * (1 - p))[:, None]).T @ X + np.diag([1e-12, ridge])
        try:
            step = np.linalg.solve(H, grad)
        except np.linalg.LinAlgError:
            break
        t = 1.0
        while t > 1e-8:
            cand = beta - t * step
            new = loss(cand)
            if new <= current + 1e-15:
                break
            t /= 2
        if t <= 1e-8:
            break
        beta, previous, current = cand, current, new
        if abs(previous - current) <= 1e-12 * max(1.0, abs(current)):
            break
    a = beta[0] - beta[1] * mu / sd
    b = beta[1] / sd
    return float(a), float(b)


def fit_isotonic(x, y, w) -> tuple[np.ndarray, np.ndarray]:
    """Non-decreasing weighted least-squares fit of y on x (pool adjacent violators)."""
    try:
        from scipy.optimize import isotonic_regression  # SciPy 1.12 and later
    except ImportError:  # pragma: no cover - older SciPy
        raise FairDeskError("The isotonic calibration needs SciPy 1.12 or later; choose the "
                            "logistic calibration instead.") from None

    x = np.asarray(x, dtype=float)
    ux, inv = np.unique(x, return_inverse=True)
    ww = np.bincount(inv, weights=w, minlength=ux.size)
    yy = np.bincount(inv, weights=np.asarray(w) * np.asarray(y), minlength=ux.size)
    keep = ww > 0
    ux, ww, yy = ux[keep], ww[keep], yy[keep]
    fit = isotonic_regression(yy / ww, weights=ww, increasing=True).x
    return ux, np.clip(fit, 0.0, 1.0)


def resolve_method(method: str, data) -> str:
    """'auto': the score is used as p̂(1) when every score is in [0, 1] and higher means
    more likely positive; otherwise a logistic calibration."""
    if method not in PROBABILITY_METHODS:
        raise FairDeskError(f"The probability method must be one of {', '.join(PROBABILITY_METHODS)}, "
                            f"not '{method}'.")
    lo, hi = float(np.min(data.score)), float(np.max(data.score))
    is_prob = 0.0 <= lo and hi <= 1.0 and data.mapping.higher_is_positive
    if method == "auto":
        return "score" if is_prob else "logistic"
    if method == "score" and not is_prob:
        col = data.mapping.score or "score"
        why = ("its values run from %g to %g" % (lo, hi)) if not (0 <= lo and hi <= 1) else \
            "a lower score means more likely positive"
        raise FairDeskError(f"Column '{col}' cannot be used as a probability: {why}. Choose a "
                            "logistic or isotonic calibration instead.")
    return method


def fit_calibrator(method: str, oriented, y, w, sign: float) -> Calibrator:
    if method == "score":
        return Calibrator("score", sign=sign)
    y = np.asarray(y)
    if y.size == 0 or np.sum(w) <= 0:
        raise FairDeskError("The reference group's training split is empty, so the score "
                            "cannot be calibrated to a probability. Give it training rows.")
    if np.all(y == y[0]):
        raise FairDeskError("The reference group's training split has only one outcome value, "
                            "so the score cannot be calibrated to a probability. Use a larger "
                            "training split or another split.")
    if method == "logistic":
        a, b = fit_logistic(oriented, y, w)
        return Calibrator("logistic", a=a, b=b, sign=sign)
    kx, ky = fit_isotonic(oriented, y, w)
    return Calibrator("isotonic", knots_x=kx, knots_y=ky, sign=sign)


# ------------------------------------------------------------------------------------------
# splits

def _norm(v) -> str:
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        v = int(v)
    return str(v).strip().lower()


def split_from_column(values, row_numbers, column: str, split_values: dict) -> np.ndarray:
    """Split codes (0 train, 1 calibration, 2 test) from a split column's values.

    ``split_values`` maps 'train', 'calibration', 'test' to lists of values (compared as
    lower-case text). Unknown or missing values are an error naming them.
    """
    import pandas as pd

    lookup = {}
    for code, name in enumerate(SPLITS):
        for v in split_values.get(name, ()):
            key = _norm(v)
            if key in lookup and lookup[key] != code:
                raise FairDeskError(f"The split value '{v}' is listed both as {SPLITS[lookup[key]]} "
                                    f"and as {name}. Give each value one meaning.")
            lookup[key] = code
    series = pd.Series(values)
    missing = series.isna().to_numpy()
    codes_raw, uniques = pd.factorize(series, use_na_sentinel=True)
    mapped = np.array([lookup.get(_norm(u), -1) for u in uniques], dtype=np.int8)
    out = np.where(codes_raw >= 0, mapped[np.maximum(codes_raw, 0)] if uniques.size else -1, -1)
    out = np.asarray(out, dtype=np.int8)
    bad = out < 0
    if bad.any():
        from ..validation import rows_text
        unknown = sorted({str(u) for u, m in zip(uniques, mapped) if m < 0})
        what = []
        if unknown:
            what.append("values " + ", ".join(f"'{u}'" for u in unknown[:6])
                        + (" …" if len(unknown) > 6 else ""))
        if missing.any():
            what.append("empty cells")
        rows = row_numbers[np.flatnonzero(bad)[:5]]
        names = "; ".join(f"{n}: {', '.join(split_values.get(n, ())) or '(none)'}" for n in SPLITS)
        raise FairDeskError(
            f"Column '{column}' (split) has {' and '.join(what)} that are not a train, "
            f"calibration or test value ({rows_text(rows, int(bad.sum()))}). The values read "
            f"are — {names}. Add these values to one of the lists, or fix the cells.")
    return out


def random_split(group, n_groups: int, proportions, rng) -> np.ndarray:
    """Seeded random split of every group with the proportions (train, calibration, test)."""
    p = np.asarray(proportions, dtype=float)
    if p.shape != (3,) or np.any(p < 0) or p.sum() <= 0:
        raise FairDeskError("The split proportions must be three numbers of zero or more "
                            "(train, calibration, test).")
    p = p / p.sum()
    out = np.empty(group.size, dtype=np.int8)
    for g in range(n_groups):  # loop over groups: a random permutation of each
        idx = np.flatnonzero(group == g)
        perm = idx[rng.permutation(idx.size)]
        cut1 = int(round(p[0] * idx.size))
        cut2 = int(round((p[0] + p[1]) * idx.size))
        out[perm[:cut1]] = TRAIN
        out[perm[cut1:cut2]] = CALIBRATION
        out[perm[cut2:]] = TEST
    return out


# ------------------------------------------------------------------------------------------
# result

@dataclass
class ConformalResult:
    alpha: float
    level: float
    qhat: float
    method: str
    calibrator: Calibrator
    group_names: list[str]
    reference: int
    n_split: np.ndarray  # (G, 3) rows of each group in train, calibration, test
    shares_original: np.ndarray  # (G, 4) in SET_KEYS order, on each group's test rows
    shares_transported: np.ndarray  # (G, 4)
    n_eval: np.ndarray  # (G,) test rows of each group
    coverage: dict  # reference test split: value, low, high, n, covered
    coverage_by_group: dict  # "original"/"transported" -> (G, 3) value, low, high
    split_notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    split_codes: np.ndarray | None = None
    sets_original: np.ndarray | None = None  # per row codes
    sets_transported: np.ndarray | None = None

    def shares_json(self) -> dict:
        def one(arr, g):
            return {k: (None if np.isnan(arr[g, i]) else float(arr[g, i]))
                    for i, k in enumerate(SET_KEYS)}
        return {name: {"original": one(self.shares_original, g),
                       "transported": one(self.shares_transported, g), "n": int(self.n_eval[g])}
                for g, name in enumerate(self.group_names)}


def run_conformal(data, transported_oriented, reference: int, *, alpha: float = 0.1,
                  probability: str = "auto", split_values: dict | None = None,
                  proportions=None, rng=None, job=None) -> ConformalResult:
    """Prediction sets for every row with original and transported scores (oriented units).

    ``data``: AnalysisData with a label. The splits come from ``data.split`` (read with
    ``split_values``) or, without a split column, a random split drawn with ``rng`` with
    ``proportions`` (train, calibration, test).
    """
    if data.label is None:
        raise FairDeskError("Conformal prediction sets need an outcome (label) column.")
    rng = np.random.default_rng(0) if rng is None else rng
    method = resolve_method(probability, data)
    needs_train = method != "score"
    G = data.n_groups
    ref_name = data.group_names[reference]
    notes, warns = [], []
    if data.split is not None:
        codes = split_from_column(data.split, data.row_numbers, data.mapping.split or "split",
                                  split_values or DEFAULT_SPLIT_VALUES)
        notes.append(f"Splits from column '{data.mapping.split}': train = "
                     + ", ".join(f"'{v}'" for v in (split_values or DEFAULT_SPLIT_VALUES)["train"])
                     + "; calibration = "
                     + ", ".join(f"'{v}'" for v in (split_values or DEFAULT_SPLIT_VALUES)["calibration"])
                     + "; test = "
                     + ", ".join(f"'{v}'" for v in (split_values or DEFAULT_SPLIT_VALUES)["test"]) + ".")
        ref = data.group == reference
        if not np.any(ref & (codes == CALIBRATION)):
            train_ref = np.flatnonzero(ref & (codes == TRAIN))
            if needs_train:
                pick = rng.permutation(train_ref)[: train_ref.size // 2]
                codes = codes.copy()
                codes[pick] = CALIBRATION
                notes.append(f"No calibration rows are marked: half of the reference group's "
                             f"training rows, drawn at random, form the calibration split.")
            else:
                codes = codes.copy()
                codes[train_ref] = CALIBRATION
                notes.append("No calibration rows are marked and the score is already a "
                             "probability: the reference group's training rows form the "
                             "calibration split.")
    else:
        if proportions is None:
            proportions = (0.4, 0.3, 0.3) if needs_train else (0.0, 0.5, 0.5)
        codes = random_split(data.group, G, proportions, rng)
        p = np.asarray(proportions, dtype=float) / np.sum(proportions)
        notes.append(f"No split column: a seeded random split of every group into train "
                     f"{p[0]:.0%}, calibration {p[1]:.0%} and test {p[2]:.0%}."
                     + ("" if needs_train else " The score is a probability, so no training "
                        "split is needed."))
    n_split = np.zeros((G, 3), dtype=np.int64)
    np.add.at(n_split, (data.group, codes.astype(np.int64)), 1)
    ref = data.group == reference
    w, y = data.weight, data.label
    if job is not None:
        job.progress(0.55, "Calibrating the score")
    tr = ref & (codes == TRAIN)
    cal = ref & (codes == CALIBRATION)
    te = ref & (codes == TEST)
    calibrator = fit_calibrator(method, data.oriented[tr], y[tr], w[tr], data.sign)
    if not cal.any():
        raise FairDeskError(f"The reference group '{ref_name}' has no calibration rows. "
                            "Mark some rows as calibration in the split column, or choose "
                            "other split proportions.")
    if not te.any():
        raise FairDeskError(f"The reference group '{ref_name}' has no test rows, so the "
                            "coverage cannot be checked. Mark some rows as test in the split "
                            "column, or choose other split proportions.")
    p_orig = calibrator.predict(data.oriented)
    p_tran = calibrator.predict(transported_oriented)
    s_cal = nonconformity(p_orig[cal], y[cal])
    qhat, level = conformal_quantile(s_cal, alpha, w[cal])
    if level > 1:
        warns.append(f"The calibration split of '{ref_name}' has only {w[cal].sum():,.0f} people: "
                     f"too few for α = {alpha:g} (at least {math.ceil(1 / alpha) - 1} are needed), "
                     "so every prediction set is {0, 1}.")
    sets_o = prediction_sets(p_orig, qhat)
    sets_t = prediction_sets(p_tran, qhat)
    test = codes == TEST
    shares_o = np.full((G, 4), np.nan)
    shares_t = np.full((G, 4), np.nan)
    n_eval = np.bincount(data.group[test], minlength=G)
    wt = np.bincount(data.group[test], weights=w[test], minlength=G)
    for i, key in enumerate(SET_KEYS):
        c = CODE_OF[key]
        for arr, sets in ((shares_o, sets_o), (shares_t, sets_t)):
            hit = test & (sets == c)
            num = np.bincount(data.group[hit], weights=w[hit], minlength=G)
            arr[:, i] = np.where(wt > 0, num / np.where(wt > 0, wt, 1), np.nan)
    for g, name in enumerate(data.group_names):
        if wt[g] <= 0:
            warns.append(f"Group '{name}' has no test rows, so its shares of prediction sets "
                         "are undefined (0/0).")
    cov_o = covered(sets_o, y)
    cov_t = covered(sets_t, y)
    k = float(np.sum(w[te] * cov_o[te]))
    n = float(np.sum(w[te]))
    low, high = clopper_pearson(k, n)
    coverage = {"value": k / n, "low": low, "high": high, "n": n, "covered": k,
                "target": 1 - alpha}
    by_group = {}
    for key, cov in (("original", cov_o), ("transported", cov_t)):
        arr = np.full((G, 3), np.nan)
        for g in range(G):
            m = test & (data.group == g)
            ng = float(np.sum(w[m]))
            if ng > 0:
                kg = float(np.sum(w[m] * cov[m]))
                arr[g] = (kg / ng,) + clopper_pearson(kg, ng)
        by_group[key] = arr
    return ConformalResult(alpha=alpha, level=level, qhat=qhat, method=method,
                           calibrator=calibrator, group_names=list(data.group_names),
                           reference=reference, n_split=n_split, shares_original=shares_o,
                           shares_transported=shares_t, n_eval=n_eval, coverage=coverage,
                           coverage_by_group=by_group, split_notes=notes, warnings=warns,
                           split_codes=codes, sets_original=sets_o, sets_transported=sets_t)
