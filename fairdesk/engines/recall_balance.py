"""Recall balancing for top-K programs (equal recall, or recall proportional to prevalence).

Rodolfa, Salomon, Haynes, Mendieta, Larson & Ghani, "Case study: predictive fairness to
reduce misdemeanor recidivism through social service interventions" (FAT* 2020; the LA
City Attorney's Recidivism Reduction and Drug Diversion unit). A program can serve only the
K highest-risk people; the harm to avoid is leaving out people with need, so the fairness
metric is recall (equality of opportunity), balanced across groups either equally or in
proportion to each group's prevalence relative to a reference group.

The paper's Algorithm 1, exactly:

* Each group's rows are sorted by score, highest first; rows with the same score are put in
  a random order drawn from ``seed`` (numpy SeedSequence), so a seed always gives the same
  list. The overall ranking uses the same random order, so the plain top K restricted to a
  group is a prefix of the group's own ranking, and every list here is described by k_g,
  the number of a group's rows taken from the top of its ranking.
* Taking the first i rows of group g gives the rolling count n_{g,i} (people: the sum of
  the rows' frequency weights) and the rolling recall R_{g,i} = positives among them /
  the group's positives.
* Equalized recall with a list size K: merge all groups' entries (g, i) ordered by R_{g,i},
  then n_{g,i} (then the group's position in the list of groups), and take the longest
  prefix of the merged order whose count Σ_g n_{g,k_g} is at most K. The merged order is
  never built: the first entry that does not fit is found by binary searches in each
  group's sorted R (O(G² log² n)).
* Equalized recall with a recall target R: k_g = min { i : R_{g,i} ≥ R } (see "One rule for
  reaching a recall" below; the paper writes max { i : R_{g,i} ≤ R }).
* Recall proportional to prevalence: r_g = P_g / P_ref for the reference group's
  prevalence P_ref. With a reference recall R_ref, k_g = min { i : R_{g,i} ≥ r_g·R_ref };
  with a list size K, the scaled sequences R_{g,i} / r_g are merged exactly as above (the
  paper's "raise x in small steps until Σ k_g reaches K", without the steps).
* Expanded scale: keep the top K and add, for each group below the target, the fewest rows
  (the next ones in its ranking) so that its recall reaches the highest recall any group
  has in the top K (equal), or r_g times the reference group's recall in the top K
  (proportional; a target above 1 means all of the group's positives).

**One rule for reaching a recall.** Both modes use the same rule: a group *reaches* a recall
R with the fewest of its top-ranked rows whose recall is at least R, min { i : R_{g,i} ≥ R }
(all of its rows when even they fall short, e.g. a target above 100 %). This is the rule of
the expanded scale, and the recall-target lists use it too, so a list made for a recall
target R gives every group a recall of at least R (the paper's max { i : R_{g,i} ≤ R } can stop
below R, or add people after the last positive who raise no recall).

**Small groups do not set the expanded-scale target.** A group below ``min_group_size`` people
(30 by default; weights count as people) has a noisy recall; by default it is not allowed to set the highest recall
in the top K that the expanded-equal scenario aims at, nor (as the reference group) the
proportional targets; a note names it. ``small_groups_set_target=True`` allows it (with a
warning). When every group is small, every group may set it (with a note).

Frequency weights count as people: a row enters a list whole, with all the people it stands
for; a list's size is the sum of the weights of its rows, and "at most K" compares that sum
with K, so a weighted list can fall short of K by less than one row's weight. With integer
weights the lists equal those on the data with each row repeated weight times, whenever
those repeated-row lists do not split a row's copies.

Edge cases, each explained in the result's notes: K at least the number of people (every
scenario takes everyone); a group without positives (its recall is 0/0: it is left out of
the balancing and keeps the rows it has in the plain top K, or none with a recall target);
K too small to give every group anyone.

Everything is in oriented score units (higher = riskier) inside; thresholds are reported in
the user's units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..dataset import AnalysisData
from ..errors import FairDeskError
from ..jobs import NO_JOB, Job
from ..metrics.confusion import stable_score_order

SCENARIOS_K = ("top_k", "expanded_equal", "expanded_proportional", "current_equal",
               "current_proportional")
SCENARIOS_RECALL = ("top_k", "recall_equal", "recall_proportional")
TITLES = {
    "top_k": "Top K",
    "expanded_equal": "Expanded – Equal",
    "expanded_proportional": "Expanded – Proportional",
    "current_equal": "Current – Equal",
    "current_proportional": "Current – Proportional",
    "recall_equal": "Equal recall",
    "recall_proportional": "Proportional recall",
}
DESCRIPTIONS = {
    "top_k": "The K highest scores overall, whatever the group.",
    "expanded_equal": "The top K, plus the fewest extra people from each group whose recall is "
                      "below the highest recall any group has in the top K, until it reaches it.",
    "expanded_proportional": "The top K, plus the fewest extra people from each group until its "
                             "recall reaches its prevalence ratio times the reference group's "
                             "recall in the top K.",
    "current_equal": "K people in all, split between the groups so that their recalls are as "
                     "equal as possible (Algorithm 1).",
    "current_proportional": "K people in all, split so that each group's recall is as close as "
                            "possible to its prevalence ratio times a common level.",
    "recall_equal": "Each group's list takes the fewest of its top-ranked people whose recall "
                    "reaches the target (at least the target; the expanded scale's rule).",
    "recall_proportional": "Each group's list takes the fewest of its top-ranked people whose "
                           "recall reaches its prevalence ratio times the reference recall.",
}
EPS = 1e-12  # tolerance when comparing recalls computed as ratios of sums


def _fit(budget: float) -> float:
    """A list size compared with K: weights that add up to K up to round-off fit."""
    return budget + 1e-9 * max(1.0, abs(budget))


# ------------------------------------------------------------------------------------------
# settings


@dataclass
class RecallSettings:
    """``k``: list size (people); or ``recall``: a recall target in (0, 1] instead.
    ``reference``: the reference group's name for proportional recall (None = the largest
    group with positives). ``seed``: the random order of tied scores."""

    k: float | None = 150
    recall: float | None = None
    reference: str | None = None
    seed: int = 0
    min_group_size: int = 30
    small_groups_set_target: bool = False

    @property
    def mode(self) -> str:
        return "recall" if self.recall is not None else "k"

    def to_dict(self) -> dict:
        return {"k": self.k, "recall": self.recall, "reference": self.reference,
                "seed": int(self.seed), "min_group_size": int(self.min_group_size),
                "small_groups_set_target": bool(self.small_groups_set_target)}

    @classmethod
    def from_dict(cls, d: dict) -> "RecallSettings":
        s = cls()
        for key in ("k", "recall", "reference", "seed", "min_group_size", "small_groups_set_target"):
            if key in d:
                setattr(s, key, d[key])
        return s

    def validate(self) -> None:
        if (self.k is None) == (self.recall is None):
            raise FairDeskError("Give either a list size K or a recall target, not both.")
        if self.k is not None:
            k = float(self.k)
            if not math.isfinite(k) or k <= 0:
                raise FairDeskError(f"The list size K must be a positive number of people "
                                    f"(it is {self.k}).")
        if self.recall is not None:
            r = float(self.recall)
            if not math.isfinite(r) or not 0 < r <= 1:
                raise FairDeskError(f"The recall target must be above 0 and at most 1 (100%); "
                                    f"it is {self.recall}.")
        if int(self.seed) < 0:
            raise FairDeskError("The seed must be a whole number of 0 or more.")


# ------------------------------------------------------------------------------------------
# the ranking, prepared once per (data, seed)


class RankedGroups:
    """Rows ranked once: overall by score (highest first, ties in a seeded random order) and,
    with the same order, within each group; with each group's rolling counts and positives.

    ``counts[g][i]`` and ``positives_cum[g][i]`` are the people and positives among the
    group's first i rows (index 0 = nobody), i = 0 … N_g.
    """

    def __init__(self, oriented, label, group, n_groups: int, weight=None, seed: int = 0):
        oriented = np.asarray(oriented, dtype=float)
        n = oriented.shape[0]
        group = np.asarray(group, dtype=np.int64)
        weight = np.ones(n) if weight is None else np.asarray(weight, dtype=float)
        label = np.asarray(label, dtype=float)
        self.n = n
        self.n_groups = G = int(n_groups)
        self.seed = int(seed)
        rng = np.random.default_rng(np.random.SeedSequence(self.seed))
        perm = rng.permutation(n)
        # one stable sort of the shuffled scores: ties keep the random order of the shuffle
        # (stable_score_order: numpy's stable argsort, the same permutation, faster)
        self.global_order = perm[stable_score_order(-oriented[perm])]
        codes = group[self.global_order]
        codes = codes.astype(np.int16 if G < 2 ** 15 else np.int64)
        within = np.argsort(codes, kind="stable")  # radix sort for small integer codes
        self.order = self.global_order[within]  # by group, then rank
        sizes = np.bincount(group, minlength=G)
        self.sizes = sizes.astype(np.int64)
        self.start = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
        self.end = self.start + self.sizes
        # positions in the overall ranking of each group's rows, ascending
        self.global_pos = [within[self.start[g]:self.end[g]] for g in range(G)]
        w = weight[self.order]
        wy = w * label[self.order]
        self.sorted_score = oriented[self.order]  # descending within each group
        self.counts, self.positives_cum = [], []
        for g in range(G):
            s, e = self.start[g], self.end[g]
            self.counts.append(np.concatenate(([0.0], np.cumsum(w[s:e]))))
            self.positives_cum.append(np.concatenate(([0.0], np.cumsum(wy[s:e]))))
        self.people = np.array([c[-1] for c in self.counts])
        self.positives = np.array([p[-1] for p in self.positives_cum])
        gw = weight[self.global_order]
        self.global_counts = np.cumsum(gw)
        self.global_positives = np.cumsum(gw * label[self.global_order])
        self.total = float(self.global_counts[-1]) if n else 0.0
        self._recall: dict[int, np.ndarray] = {}

    @classmethod
    def from_data(cls, data: AnalysisData, seed: int) -> "RankedGroups":
        if data.label is None:
            raise FairDeskError("Recall balancing needs an outcome (label) column: map one on "
                                "the Data page (or pass --label).")
        return cls(data.oriented, data.label, data.group, data.n_groups, data.weight, seed)

    def recall(self, g: int) -> np.ndarray:
        """R_{g,i}, i = 0 … N_g (NaN when the group has no positives)."""
        if g not in self._recall:
            p = self.positives[g]
            self._recall[g] = (self.positives_cum[g] / p if p > 0
                               else np.full(self.counts[g].shape, np.nan))
        return self._recall[g]

    def top_rows(self, k: float) -> np.ndarray:
        """Rows per group in the plain top K (the longest prefix of the overall ranking whose
        people add up to at most K)."""
        r = int(np.searchsorted(self.global_counts, _fit(k), side="right"))
        return np.array([int(np.searchsorted(p, r)) for p in self.global_pos], dtype=np.int64)

    def top_prefix(self, k: float) -> int:
        return int(np.searchsorted(self.global_counts, _fit(k), side="right"))

    def precision_of_top(self, size: float) -> float:
        """Precision of the plain top list of ``size`` people."""
        r = self.top_prefix(size)
        if r == 0 or self.global_counts[r - 1] <= 0:
            return math.nan
        return float(self.global_positives[r - 1] / self.global_counts[r - 1])

    def selected_rows(self, rows_per_group) -> np.ndarray:
        """Row positions (into the data's arrays) of a list: each group's first k_g rows."""
        parts = [self.order[self.start[g]:self.start[g] + int(k)]
                 for g, k in enumerate(rows_per_group)]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def ranks(self) -> np.ndarray:
        """Overall rank of each row (1 = highest score), with the seeded tie order."""
        rank = np.empty(self.n, dtype=np.int64)
        rank[self.global_order] = np.arange(1, self.n + 1)
        return rank


# ------------------------------------------------------------------------------------------
# the selection rules (each returns k_g, rows per group)


def merge_select(values: list[np.ndarray], counts: list[np.ndarray], budget: float) -> np.ndarray:
    """The longest prefix of the merged entries whose count fits the budget.

    ``values[g]`` and ``counts[g]`` have length N_g + 1 (index 0 = nothing taken); entry
    (g, i), i ≥ 1, is "take group g's first i rows", with value values[g][i] (recall, or
    scaled recall) and count counts[g][i]; both are non-decreasing in i. Entries are merged
    in the order of (value, count, g); the result k_g is the number of group g's entries in
    the longest prefix with Σ_g counts[g][k_g] ≤ budget. Exact, without building the merged
    list: the first entry that does not fit is found by binary search in each group.
    """
    G = len(values)
    V = [np.asarray(v, dtype=float)[1:] for v in values]
    C = [np.asarray(c, dtype=float)[1:] for c in counts]
    limit = _fit(budget)

    def rank(h: int, x: float, m: float, g_star: int, strict: bool) -> int:
        """Entries of group h at or before (strict: before) entry (x, m, g_star)."""
        a = int(np.searchsorted(V[h], x, side="left"))
        b = int(np.searchsorted(V[h], x, side="right"))
        if a == b:
            return a
        include_equal = h < g_star or (h == g_star and not strict)
        return a + int(np.searchsorted(C[h][a:b], m, side="right" if include_equal else "left"))

    def through(x: float, m: float, g_star: int) -> float:
        return sum(float(counts[h][rank(h, x, m, g_star, False)]) for h in range(G))

    first = None
    for h in range(G):
        n_h = V[h].shape[0]
        if n_h == 0 or through(V[h][-1], C[h][-1], h) <= limit:
            continue  # all of h's entries fit
        lo, hi = 0, n_h - 1  # smallest i whose cumulative count through it exceeds the budget
        while lo < hi:
            mid = (lo + hi) // 2
            if through(V[h][mid], C[h][mid], h) > limit:
                hi = mid
            else:
                lo = mid + 1
        cand = (float(V[h][lo]), float(C[h][lo]), h)
        if first is None or cand < first:
            first = cand
    if first is None:
        return np.array([v.shape[0] for v in V], dtype=np.int64)
    x, m, g_star = first
    return np.array([rank(h, x, m, g_star, True) for h in range(G)], dtype=np.int64)


def at_most(values: np.ndarray, target: float) -> int:
    """max { i : values[i] ≤ target } (values non-decreasing, values[0] = 0)."""
    return max(int(np.searchsorted(values, target + EPS, side="right")) - 1, 0)


def at_least(values: np.ndarray, target: float) -> int:
    """min { i : values[i] ≥ target }; the last index when no entry reaches it."""
    return min(int(np.searchsorted(values, target - EPS, side="left")), values.shape[0] - 1)


# ------------------------------------------------------------------------------------------
# results


@dataclass
class Scenario:
    key: str
    title: str
    rows: np.ndarray  # (G,) rows taken per group (k_g)
    people: np.ndarray  # (G,) people (weights) taken
    tp: np.ndarray  # (G,) positives taken (weighted)
    threshold: np.ndarray  # (G,) user units: score of the group's last row taken; NaN if none
    ties_left: np.ndarray  # (G,) rows scoring exactly the threshold but left out (random ties)
    target: np.ndarray  # (G,) the recall the rule aimed at (NaN where it did not aim at one)
    recall: np.ndarray  # (G,) NaN when the group has no positives
    precision: np.ndarray  # (G,) NaN when no one of the group is taken
    size: float
    n_rows: int
    precision_all: float
    recall_all: float
    precision_top_k: float = math.nan  # precision of the plain top K (the comparison)
    precision_same_size: float = math.nan  # precision of the plain top list of the same size
    notes: list[str] = field(default_factory=list)

    @property
    def precision_cost(self) -> float:
        """Precision given up against the plain top K (positive = lower precision)."""
        return self.precision_top_k - self.precision_all

    @property
    def precision_cost_same_size(self) -> float:
        return self.precision_same_size - self.precision_all


@dataclass
class RecallResult:
    settings: RecallSettings
    group_names: list[str]
    sign: float
    k: float  # list size used by top K (after clipping; the equal list's size in recall mode)
    k_requested: float | None
    total_people: float
    rows: np.ndarray  # (G,)
    people: np.ndarray  # (G,)
    positives: np.ndarray  # (G,)
    prevalence: np.ndarray  # (G,)
    ratio: np.ndarray  # (G,) prevalence / reference prevalence
    reference: int
    excluded: list[int]  # groups left out of the balancing (no positives)
    scenarios: dict[str, Scenario]
    curves: dict[str, np.ndarray]
    notes: list[str] = field(default_factory=list)
    ranked: RankedGroups | None = None
    weighted: bool = False

    @property
    def mode(self) -> str:
        return self.settings.mode

    @property
    def keys(self) -> list[str]:
        return list(self.scenarios)

    def selected_rows(self, key: str) -> np.ndarray:
        """Row positions (into the data's arrays) on scenario ``key``'s list."""
        return self.ranked.selected_rows(self.scenarios[key].rows)

    def selected_mask(self, key: str) -> np.ndarray:
        mask = np.zeros(self.ranked.n, dtype=bool)
        mask[self.selected_rows(key)] = True
        return mask

    def to_json(self) -> dict:
        """The command line's JSON: {"k", "scenarios": {key: {"size", "precision", "groups":
        {name: {"selected", "recall", "threshold", …}}}}, "warnings"}; undefined → null."""
        warnings: list[str] = []

        def val(x, where: str, reason: str):
            x = float(x)
            if math.isnan(x):
                warnings.append(f"{where} is undefined: {reason}")
                return None
            return x

        def count(x):
            x = float(x)
            return int(round(x)) if abs(x - round(x)) < 1e-9 else x

        scen = {}
        for key, s in self.scenarios.items():
            groups = {}
            for g, name in enumerate(self.group_names):
                groups[name] = {
                    "selected": count(s.people[g]),
                    "rows": int(s.rows[g]),
                    "positives_selected": count(s.tp[g]),
                    "recall": val(s.recall[g], f"scenarios.{key}.groups['{name}'].recall",
                                  f"group '{name}' has no one with the positive outcome (0/0)"),
                    "precision": val(s.precision[g], f"scenarios.{key}.groups['{name}'].precision",
                                     f"no one of group '{name}' is on the {s.title} list (0/0)"),
                    "threshold": val(s.threshold[g], f"scenarios.{key}.groups['{name}'].threshold",
                                     f"no one of group '{name}' is on the {s.title} list"),
                    "ties_left_out": int(s.ties_left[g]),
                }
            scen[key] = {
                "title": s.title, "size": count(s.size), "rows": int(s.n_rows),
                "precision": val(s.precision_all, f"scenarios.{key}.precision", "the list is empty"),
                "recall": val(s.recall_all, f"scenarios.{key}.recall", "no one has the outcome"),
                "precision_cost": val(s.precision_cost, f"scenarios.{key}.precision_cost",
                                      "a precision is undefined (empty list)"),
                "groups": groups, "notes": list(s.notes)}
        ref = self.group_names[self.reference] if self.reference >= 0 else None
        out = {
            "k": count(self.k), "k_requested": None if self.k_requested is None
            else count(self.k_requested),
            "recall_target": self.settings.recall, "reference": ref, "seed": int(self.settings.seed),
            "people": count(self.total_people),
            "groups": {name: {"rows": int(self.rows[g]), "people": count(self.people[g]),
                              "positives": count(self.positives[g]),
                              "prevalence": val(self.prevalence[g], f"groups['{name}'].prevalence",
                                                f"group '{name}' has no people"),
                              "prevalence_ratio": val(self.ratio[g], f"groups['{name}'].prevalence_ratio",
                                                      f"group '{name}' has no positives or the "
                                                      "reference group has none")}
                       for g, name in enumerate(self.group_names)},
            "scenarios": scen,
            "notes": list(self.notes),
        }
        out["warnings"] = warnings
        return out


# ------------------------------------------------------------------------------------------
# running it


def _scenario(key: str, ranked: RankedGroups, rows, sign: float, group_names,
              target=None) -> Scenario:
    G = ranked.n_groups
    rows = np.asarray(rows, dtype=np.int64)
    people = np.array([ranked.counts[g][rows[g]] for g in range(G)])
    tp = np.array([ranked.positives_cum[g][rows[g]] for g in range(G)])
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = np.where(ranked.positives > 0, tp / np.where(ranked.positives > 0,
                                                               ranked.positives, 1), np.nan)
        precision = np.where(people > 0, tp / np.where(people > 0, people, 1), np.nan)
    threshold = np.full(G, np.nan)
    ties = np.zeros(G, dtype=np.int64)
    for g in range(G):
        j = int(rows[g])
        if j == 0:
            continue
        s = ranked.sorted_score[ranked.start[g]:ranked.end[g]]
        t = s[j - 1]
        threshold[g] = t * sign
        # rows after position j with the same score (descending: -s ascending)
        ties[g] = int(np.searchsorted(-s, -t, side="right")) - j
    size = float(people.sum())
    tp_all = float(tp.sum())
    pos_all = float(ranked.positives.sum())
    sc = Scenario(key=key, title=TITLES[key], rows=rows, people=people, tp=tp,
                  threshold=threshold, ties_left=ties,
                  target=np.full(G, np.nan) if target is None else np.asarray(target, dtype=float),
                  recall=recall, precision=precision, size=size, n_rows=int(rows.sum()),
                  precision_all=tp_all / size if size > 0 else math.nan,
                  recall_all=tp_all / pos_all if pos_all > 0 else math.nan)
    sc.precision_same_size = ranked.precision_of_top(size) if size > 0 else math.nan
    empty = [group_names[g] for g in range(G) if rows[g] == 0 and ranked.sizes[g] > 0]
    if empty:
        sc.notes.append("No one of " + _names(empty) + " is on this list.")
    tied = [group_names[g] for g in range(G) if ties[g] > 0]
    if tied:
        sc.notes.append("Rows tied at the threshold were split by the seeded random order in "
                        + _names(tied) + f": a rule 'score at or above the threshold' would "
                        f"also take {int(ties.sum()):,} tied row(s) left out here.")
    return sc


def _names(names) -> str:
    q = [f"'{n}'" for n in names]
    return q[0] if len(q) == 1 else ", ".join(q[:-1]) + " and " + q[-1]


def run_recall(data: AnalysisData, settings: RecallSettings, *, ranked: RankedGroups | None = None,
               job: Job = NO_JOB) -> RecallResult:
    """Every scenario of the paper's Figure 4 (with a list size K), or the recall-target
    lists (with a recall target), plus precision@k and recall@k curves per group.

    ``ranked`` may be passed back from an earlier result with the same data and seed (the
    page does so when only K or the reference changes)."""
    settings.validate()
    if data.label is None:
        raise FairDeskError("Recall balancing needs an outcome (label) column: map one on the "
                            "Data page (or pass --label).")
    if data.n == 0:
        raise FairDeskError("There are no rows to rank.")
    job.progress(0.02, "Ranking the scores")
    if ranked is None or ranked.seed != int(settings.seed) or ranked.n != data.n:
        ranked = RankedGroups.from_data(data, settings.seed)
    job.progress(0.5, "Balancing recall")
    names = list(data.group_names)
    G = data.n_groups
    P = ranked.positives
    if not np.any(P > 0):
        raise FairDeskError("No one in the data has the positive outcome, so recall is undefined "
                            "for every group. Check the outcome column and which value means "
                            "'positive'.")
    excluded = [g for g in range(G) if P[g] <= 0]
    active = [g for g in range(G) if P[g] > 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        prevalence = np.where(ranked.people > 0, P / np.where(ranked.people > 0, ranked.people, 1),
                              np.nan)
    # reference group for the proportional targets
    if settings.reference is not None:
        if settings.reference not in names:
            raise FairDeskError(f"The reference group '{settings.reference}' is not a group; the "
                                "groups are " + _names(names) + ".")
        ref = names.index(settings.reference)
        if P[ref] <= 0:
            raise FairDeskError(f"The reference group '{settings.reference}' has no one with the "
                                "positive outcome, so its prevalence is 0 and recall cannot be "
                                "made proportional to it. Choose another reference group.")
    else:
        ref = max(active, key=lambda g: (ranked.people[g], -g))
    m = int(settings.min_group_size)
    big = [g for g in active if ranked.people[g] >= m - 1e-9]  # people: weights count as people
    if ranked.people[ref] < m - 1e-9 and big and not settings.small_groups_set_target:
        raise FairDeskError(
            f"The reference group '{names[ref]}' has {ranked.people[ref]:,.6g} people, fewer than the "
            f"minimum group size {m}: its recall is too noisy to set the proportional targets. Choose "
            f"a group with at least {m} people ({_names([names[g] for g in big])}), or allow small "
            "groups to set the target.")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(P > 0, prevalence / prevalence[ref], np.nan)
    notes: list[str] = []
    if excluded:
        ex = _names([names[g] for g in excluded])
        notes.append(f"{ex} {'has' if len(excluded) == 1 else 'have'} no one with the positive "
                     "outcome, so recall is undefined (0/0) there: left out of the balancing, "
                     + ("keeping the people they have in the plain top K."
                        if settings.mode == "k" else "with no one on the recall-target lists."))
    notes.append(f"Reference group for proportional recall: '{names[ref]}' (prevalence "
                 f"{prevalence[ref]:.1%}); each group's target is its prevalence ÷ the reference's "
                 "prevalence times the reference recall.")
    if data.weighted:
        notes.append("Frequency weights count as people: list sizes are sums of weights; a row "
                     "is taken whole, so a list may fall short of K by less than one row's weight.")
    total = ranked.total
    scenarios: dict[str, Scenario] = {}

    def scen(key, rows, target=None):
        scenarios[key] = _scenario(key, ranked, rows, data.sign, names, target)
        return scenarios[key]

    if settings.mode == "k":
        k_req = float(settings.k)
        k = min(k_req, total)
        if k_req >= total:
            notes.append(f"K = {k_req:,.6g} is at least the number of people ({total:,.6g}): every "
                         "scenario takes everyone, so there is nothing to balance.")
        top = ranked.top_rows(k)
        scen("top_k", top)
        top_recall = {g: ranked.recall(g)[top[g]] for g in active}
        # expanded, equal: everyone up to the highest recall in the top K (of a group large
        # enough to set it, by default)
        setters = active if (settings.small_groups_set_target or not big) else big
        t_eq = max(top_recall[g] for g in setters)
        kept_out = [g for g in active if g not in setters and top_recall[g] > t_eq + EPS]
        rows = top.copy()
        targets = np.full(G, np.nan)
        for g in active:
            targets[g] = t_eq
            rows[g] = max(top[g], at_least(ranked.recall(g), t_eq))
        s = scen("expanded_equal", rows, targets)
        best = [names[g] for g in active if top_recall[g] >= t_eq - EPS]
        s.notes.insert(0, f"Target: the highest recall in the top K, {t_eq:.1%} ({_names(best)}).")
        if kept_out:
            s.notes.append(
                "Warning: " + "; ".join(f"'{names[g]}' ({ranked.people[g]:,.6g} people) has a higher "
                                        f"recall in the top K, {top_recall[g]:.1%}" for g in kept_out)
                + f", but a group below the minimum size ({m} people) does not set the target: its "
                "recall is too noisy (allow small groups to set it to change this).")
        small_setters = [g for g in active if top_recall[g] >= t_eq - EPS and g not in big]
        if small_setters and settings.small_groups_set_target and big:
            s.notes.append(f"Warning: the target is set by {_names([names[g] for g in small_setters])}, "
                           f"below the minimum size ({m} people); its recall is noisy.")
        if not big:
            s.notes.append(f"Every group is below the minimum size ({m} people): each may set the "
                           "target, and every recall here is noisy.")
        if t_eq <= 0:
            s.notes.insert(0, "No one with the outcome is in the top K: nothing to add.")
        # expanded, proportional to prevalence
        r_ref = top_recall[ref]
        rows = top.copy()
        targets = np.full(G, np.nan)
        capped = []
        for g in active:
            t = ratio[g] * r_ref
            if t > 1 + EPS:
                capped.append(names[g])
            targets[g] = min(t, 1.0)
            rows[g] = max(top[g], at_least(ranked.recall(g), targets[g]))
        s = scen("expanded_proportional", rows, targets)
        s.notes.insert(0, f"Targets: prevalence ratio × the recall of '{names[ref]}' in the top K "
                          f"({r_ref:.1%}).")
        if capped:
            s.notes.append(f"The target of {_names(capped)} is above 100% and is capped at 100% "
                           "(all of the group's positives).")
        # current scale: K people in all
        fixed = sum(ranked.counts[g][top[g]] for g in excluded)
        budget = k - fixed
        for key, scale in (("current_equal", None), ("current_proportional", ratio)):
            vals = [ranked.recall(g) if g in active and scale is None
                    else ranked.recall(g) / scale[g] if g in active
                    else np.zeros(1) for g in range(G)]
            cnts = [ranked.counts[g] if g in active else np.zeros(1) for g in range(G)]
            rows = merge_select(vals, cnts, budget)
            for g in excluded:
                rows[g] = top[g]
            s = scen(key, rows)
            level = max((vals[g][rows[g]] for g in active), default=math.nan)
            s.target = np.array([level if scale is None else level * scale[g]
                                 if g in active else np.nan for g in range(G)])
            s.notes.insert(0, "Common level reached: " + (
                f"recall {level:.1%}." if scale is None else
                f"recall ÷ prevalence ratio {level:.1%} (the reference group's recall)."))
    else:
        target = float(settings.recall)
        k_req = None
        for key, scale in (("recall_equal", None), ("recall_proportional", ratio)):
            rows = np.zeros(G, dtype=np.int64)
            targets = np.full(G, np.nan)
            for g in active:
                targets[g] = target if scale is None else target * scale[g]
                rows[g] = at_least(ranked.recall(g), min(targets[g], 1.0))
            s = scen(key, rows, targets)
            if scale is not None:
                over = [names[g] for g in active if targets[g] > 1 + EPS]
                if over:
                    s.notes.append(f"The target of {_names(over)} is above 100%: the whole group "
                                   "is on the list.")
        k = scenarios["recall_equal"].size
        top = ranked.top_rows(k)
        scenarios = {"top_k": _scenario("top_k", ranked, top, data.sign, names), **scenarios}
        scenarios["top_k"].notes.insert(0, "The plain top list of the same size as the "
                                           "equal-recall list.")
    top_prec = scenarios["top_k"].precision_all
    for s in scenarios.values():
        s.precision_top_k = top_prec
    # K too small for every group
    if settings.mode == "k":
        starved = sorted({names[g] for key in SCENARIOS_K for g in range(G)
                          if scenarios[key].rows[g] == 0 and ranked.sizes[g] > 0
                          and key.startswith("current")})
        if starved:
            notes.append(f"K = {k:,.6g} is too small to give every group someone on the current-"
                         f"scale lists: {_names(starved)} get no one there (see each scenario's "
                         "notes).")
    job.progress(0.8, "Precision and recall at k")
    curves = precision_recall_at_k(ranked, k)
    job.progress(1.0, "Done")
    return RecallResult(
        settings=settings, group_names=names, sign=data.sign, k=float(k), k_requested=k_req,
        total_people=total, rows=ranked.sizes.copy(), people=ranked.people.copy(),
        positives=P.copy(), prevalence=prevalence, ratio=ratio, reference=ref,
        excluded=excluded, scenarios=scenarios, curves=curves, notes=notes, ranked=ranked,
        weighted=bool(data.weighted))


def k_grid(total: float, k: float, points: int = 300) -> np.ndarray:
    """List sizes for the curves: even and logarithmic steps, dense near K, and K itself."""
    if total <= 0:
        return np.zeros(0)
    lo = min(1.0, total)
    parts = [np.linspace(0, total, points + 1)[1:], np.geomspace(lo, total, points),
             np.linspace(0, min(total, 4 * max(k, 1.0)), points // 2 + 1)[1:], [k, total]]
    g = np.unique(np.concatenate([np.asarray(p, dtype=float) for p in parts]))
    return g[(g > 0) & (g <= total)]


def precision_recall_at_k(ranked: RankedGroups, k: float, points: int = 300) -> dict:
    """Per group, recall and precision within the plain top list as its size varies.

    Returns arrays: "size" (m,) people on the list, "recall" and "precision" (G, m), the
    overall "precision_all" and "recall_all" (m,), and "k_index" (the point at K)."""
    grid = k_grid(ranked.total, k, points)
    r = np.searchsorted(ranked.global_counts, grid + 1e-9 * np.maximum(1.0, grid), side="right")
    r = np.unique(r[r > 0])
    G = ranked.n_groups
    rec = np.full((G, r.size), np.nan)
    prec = np.full((G, r.size), np.nan)
    for g in range(G):
        j = np.searchsorted(ranked.global_pos[g], r)
        c = ranked.counts[g][j]
        p = ranked.positives_cum[g][j]
        if ranked.positives[g] > 0:
            rec[g] = p / ranked.positives[g]
        with np.errstate(divide="ignore", invalid="ignore"):
            prec[g] = np.where(c > 0, p / np.where(c > 0, c, 1), np.nan)
    size = ranked.global_counts[r - 1] if r.size else np.zeros(0)
    pos = ranked.global_positives[r - 1] if r.size else np.zeros(0)
    total_pos = float(ranked.positives.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        prec_all = np.where(size > 0, pos / np.where(size > 0, size, 1), np.nan)
    rk = ranked.top_prefix(k)
    k_index = int(np.searchsorted(r, rk)) if r.size else 0
    return {"size": size, "rows": r, "recall": rec, "precision": prec,
            "precision_all": prec_all,
            "recall_all": pos / total_pos if total_pos > 0 else np.full(r.size, np.nan),
            "k_index": min(k_index, max(r.size - 1, 0))}
