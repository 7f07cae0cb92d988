"""The printed Glossary sheet: every rate, measure, policy and symbol in plain words.

Hover comments on header cells do not print, so every workbook carries this sheet. It is
generated from the same definitions as the window's glossary
(:data:`fairdesk.metrics.rates.RATES`, :data:`fairdesk.metrics.fairness.DEFINITIONS`,
the household policies), so the two never disagree.
"""

from __future__ import annotations

from ..metrics.fairness import DENOMINATORS, DEFINITIONS, MIN_DENOMINATOR, MIN_GROUP_SIZE
from ..metrics.rates import RATES
from ..present.table import Column, Table

GLOSSARY_SHEET = "Glossary"

# Terms and symbols that are not rates or measures, in the order a reader meets them.
TERMS = (
    ("Threshold", "A score at or above which a person is flagged (predicted positive), in the "
     "score's own units. With several thresholds the people are put in tiers."),
    ("Tier, S1–S3", "Risk tiers between consecutive thresholds: S1 is the lowest tier. A tier "
     "scenario says which tiers count as flagged."),
    ("Flagged", "Predicted positive: the score is at or above the threshold (or in a flagged "
     "tier)."),
    ("People (weighted)", "With a frequency-weight column, each row counts as that many "
     "people; rates are shares of people, not of rows."),
    ("Undefined", "A rate whose denominator is zero (0/0), for example FPR in a group with no "
     "one without the outcome. It is never shown as 0; the reason is given beside it."),
    ("∞ (infinite rate)", "x/0 with x > 0 (only for the count ratios FN/FP and FP/FN). "
     "Compared with a finite rate it gives the ratio 0: maximally unequal."),
    ("Minimum pairwise ratio", "How a fairness measure is reported: the smallest ratio "
     "(smaller / larger) of the rate between any two compared groups; 1 = balanced, 0 = one "
     "group has none of what another has. The pair of groups behind it is named."),
    ("Compared groups", f"A measure compares only groups with at least {MIN_GROUP_SIZE} rows and "
     f"at least {MIN_DENOMINATOR} people in the denominator of each rate it uses; the groups "
     "left out are named beside it (an option includes everyone)."),
    ("Interval", "95 % range of a figure: for one rate, the exact (Clopper–Pearson) binomial "
     "interval; for a fairness measure, the seeded bootstrap percentile interval (resamples "
     "and seed are on the About sheet). An interval that cannot be estimated says so."),
    ("AUC", "Area under the ROC curve: the chance that a person with the outcome scores above "
     "one without it, within a group (0.5 = no better than chance)."),
    ("xAUC (cross-AUC)", "The chance that a person with the outcome from one group scores above "
     "a person without it from another group; the direction is written beside each value."),
    ("w", "Penalty weight of the Oregon threshold optimizer: 0 = keep the original decisions as "
     "far as possible, 1 = only fairness counts."),
    ("Degenerate solution", "A correction that flags everyone or no one in some group, or is "
     "less accurate than flagging everyone or no one: shown, marked, never suggested."),
    ("Recall@k, precision@k", "Among the k people at the top of the list: the share of all "
     "people with the outcome who are in it (recall), and the share of the list who have it "
     "(precision)."),
    ("Equalized odds", "Equal true and false positive rates in every group, reached by "
     "group-specific thresholds with randomisation between two of them where needed."),
    ("Preferential randomisation", "Instead of one coin flip between two thresholds, the "
     "probability of a positive decision rises smoothly with the score (linear, quadratic, "
     "cubic or quartic curves)."),
    ("Optimal transport", "Scores of each group mapped onto the reference group's distribution "
     "(quantile to quantile), so that a threshold selects every group at the same rate."),
    ("Conformal set", "For each person, the set of outcomes that cannot be ruled out at the "
     "chosen error level α; its coverage is guaranteed on average."),
    ("Cost ratio", "How much more a false negative costs than a false positive (or the other way "
     "round, as each sheet states)."),
)


def glossary_table() -> Table:
    """One row per entry: term, what it is (formula), and when it is undefined."""
    rows = []
    for info in RATES.values():
        denominator = DENOMINATORS.get(info.key)
        rows.append({
            "kind": "Rate", "term": info.name, "formula": info.formula,
            "meaning": info.definition + (f" Denominator: {denominator}." if denominator else ""),
            "undefined": f"Undefined (0/0) when {info.undefined_when}.",
        })
    for d in DEFINITIONS.values():
        rates = ", ".join(RATES[r].name if r in RATES else "outcome rate within each tier"
                          for r in d.rates)
        rows.append({
            "kind": "Fairness measure", "term": f"{d.key}: {d.name}", "formula": rates,
            "meaning": d.meaning + " Reported as the minimum pairwise ratio (1 = balanced).",
            "undefined": "Undefined when fewer than two compared groups have the rate defined.",
        })
    from ..engines.households import OUTCOME_LEVELS, POLICIES, SCORE_POLICIES

    for number, (score, outcome) in POLICIES.items():
        rows.append({
            "kind": "Household policy", "term": f"Policy {number}",
            "formula": f"{SCORE_POLICIES[score]}; outcome {OUTCOME_LEVELS[outcome]}",
            "meaning": "The score used for each person and whether the outcome is judged per "
                       "person or per household (policies 1–6 as the ACLU audit numbers them).",
            "undefined": "",
        })
    for term, meaning in TERMS:
        rows.append({"kind": "Term", "term": term, "formula": "", "meaning": meaning,
                     "undefined": ""})
    columns = [Column("kind", "Kind", width=16), Column("term", "Term", width=30),
               Column("formula", "Formula / based on", width=28),
               Column("meaning", "In plain words", width=70),
               Column("undefined", "When it is undefined", width=36)]
    return Table(GLOSSARY_SHEET, columns, rows, title="Glossary: what every figure means",
                 notes=["The same definitions are in the window (Help ▸ Glossary)."])
