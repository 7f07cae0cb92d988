"""Help: the metrics glossary and the "which fairness measure?" guide.

The glossary is generated from :data:`fairdesk.metrics.rates.RATES` and
:data:`fairdesk.metrics.fairness.DEFINITIONS` (names, formulas, definitions, when a value
is undefined), so it cannot drift from what the audit computes. A few concepts that live
in code rather than in those tables (AUC, cross-AUC, tiers, bootstrap, threshold rules)
are written out here once; the Tiers page reuses :data:`RULE_KINDS` for its tooltips.

The guide follows the fairness tree of the Los Angeles City Attorney study (Rodolfa et
al. 2020; Aequitas): punitive interventions → look at people wrongly flagged; assistive
interventions → look at people with need who are left out.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (QButtonGroup, QDialog, QDialogButtonBox, QFrame, QGroupBox,
                               QLabel, QLineEdit, QListWidget, QListWidgetItem,
                               QPushButton, QRadioButton, QSplitter, QTextBrowser, QVBoxLayout,
                               QWidget)

from ..metrics.fairness import DEFINITIONS
from ..metrics.rates import RATES, RateInfo

# Rates the guide may recommend that are not per-group confusion rates of the audit table.
EXTRA_RATES: dict[str, RateInfo] = {r.key: r for r in (
    RateInfo("fp_group_size", "False positives / group size", "FP / (TP + FP + FN + TN)",
             "People wrongly flagged, as a share of everyone in the group.",
             "the group has no rows (total weight zero)"),
    RateInfo("fn_group_size", "False negatives / group size", "FN / (TP + FP + FN + TN)",
             "People with the outcome whom the rule misses, as a share of everyone in the group.",
             "the group has no rows (total weight zero)"),
)}


def rate_info(key: str) -> RateInfo:
    """The rate ``key`` from RATES or the guide's extra rates."""
    return RATES[key] if key in RATES else EXTRA_RATES[key]


@dataclass(frozen=True)
class RuleKind:
    key: str  # ThresholdRule.kind
    label: str  # shown in the Tiers page's combo box
    value_label: str  # what the value field holds ("" when there is none)
    help: str  # plain words


RULE_KINDS: dict[str, RuleKind] = {k.key: k for k in (
    RuleKind("fixed", "Fixed value", "score",
             "A threshold you type, in the units of your score column."),
    RuleKind("quantile", "Quantile", "percent",
             "The score below which the given percentage of people fall (e.g. 80% gives the "
             "80th percentile). Weights count as people."),
    RuleKind("mean", "Mean", "",
             "The average score of all rows (weighted when the data has weights)."),
    RuleKind("oregon_low", "Oregon low", "",
             "The Oregon study's low cut: the median of the scores below the mean."),
    RuleKind("oregon_high", "Oregon high", "",
             "The Oregon study's high cut: the 75th percentile of the scores above the mean."),
    RuleKind("top_k", "Top-K", "K",
             "The score of the K-th highest-risk person, so that the K highest-risk people are "
             "flagged (a few more when several people tie on that score)."),
    RuleKind("ventile", "Bin edge", "j of n",
             "Edge j of n bins holding equal shares of people, e.g. edge 16 of 20 ventiles. "
             "Edges 1 … n − 1 split the scores into n bins."),
)}


@dataclass
class Entry:
    key: str
    section: str
    title: str
    body: str  # rich text (HTML fragment)

    def plain(self) -> str:
        return html.unescape(re.sub(r"<[^>]+>", " ", self.title + " " + self.body))


def _formula(text: str) -> str:
    return (f"<p style='margin:6px 0 10px 0'><span style='font-family:monospace; "
            f"background:#eef3f8; padding:2px 6px'>&nbsp;{html.escape(text)}&nbsp;</span></p>")


def _see(*keys_titles) -> str:
    links = ", ".join(f"<a href='#{k}'>{html.escape(t)}</a>" for k, t in keys_titles)
    return f"<p style='color:#555'>See also: {links}.</p>"


def _abbr(key: str) -> str:
    """FPR, PPV, … for the short keys; words for the others."""
    return {"fn_fp": "FN/FP", "cost_ratio": "FP/FN"}.get(
        key, key.upper() if len(key) <= 3 else key.replace("_", " "))


def _rate_ref(key: str) -> str:
    if key == "tier_outcome_rate":
        return "<a href='#tier_outcome_rate'>outcome rate within the tier</a>"
    return f"<a href='#rate:{key}'>{html.escape(rate_info(key).name)}</a>"


def _rate_entry(info: RateInfo, extra: bool = False) -> Entry:
    body = (f"<p>{html.escape(info.definition)}</p>" + _formula(info.formula)
            + f"<p><b>Undefined (0/0)</b> when {html.escape(info.undefined_when)}.</p>")
    users = [d for d in DEFINITIONS.values() if info.key in d.rates]
    if users:
        body += ("<p>Fairness definitions built on it: "
                 + ", ".join(f"<a href='#def:{d.key}'>{html.escape(d.name)} ({d.key})</a>"
                             for d in users) + ".</p>")
    if extra:
        body += ("<p>The LA City Attorney fairness tree uses it when the harm (or the missed "
                 "help) should be judged against the size of the whole community.</p>")
    body += _see(("confusion", "Confusion counts"), ("undefined", "Undefined (0/0)"))
    return Entry(f"rate:{info.key}", "Rates", info.name, body)


def _definition_entry(key: str) -> Entry:
    d = DEFINITIONS[key]
    names = " and ".join(_rate_ref(r) for r in d.rates)
    body = f"<p>{html.escape(d.meaning)}</p>"
    if key == "CAL":
        body += ("<p><b>How it is measured:</b> in each risk tier, the outcome rate (people with "
                 "the outcome ÷ people in the tier) of every group; the value for the tier is the "
                 "smallest pairwise ratio across groups, smaller rate ÷ larger rate. "
                 "1 = balanced. There is one value per tier.</p>")
        body += _formula("CAL (tier) = lowest outcome rate ÷ highest outcome rate across groups")
        body += _formula("outcome rate = people with the outcome in the tier / people in the tier")
    elif len(d.rates) == 1:
        body += (f"<p><b>How it is measured:</b> the {names} of every group; the measure is the "
                 "smallest pairwise ratio across groups, smaller rate ÷ larger rate, between 0 and "
                 "1; 1 = balanced.</p>")
        r = d.rates[0]
        body += _formula(f"{key} = lowest {_abbr(r)} ÷ highest {_abbr(r)} across groups")
        body += _formula(f"{_abbr(r)} = {rate_info(r).formula}")
    else:
        body += (f"<p><b>How it is measured:</b> the smallest pairwise ratio across groups "
                 f"(smaller ÷ larger) of the {names}, and the measure takes the weaker "
                 "(smaller) of those two ratios; 1 = balanced.</p>")
        body += _formula(f"{key} = min( " + " ,  ".join(
            f"lowest {_abbr(r)} ÷ highest {_abbr(r)}" for r in d.rates) + " )")
        body += _formula(" ;  ".join(f"{_abbr(r)} = {rate_info(r).formula}" for r in d.rates))
    body += ("<p>Groups whose rate is <a href='#undefined'>undefined (0/0)</a> are left out; with "
             "fewer than two groups left, the measure is undefined. When every group's rate is 0 "
             "the groups are equal and the measure is 1. By default only "
             "<a href='#reliable'>reliable groups</a> are compared; the ones left out are named "
             "beside the value, with the <a href='#pair'>pair behind it</a>.</p>")
    if key == "TE":
        body += ("<p><b>Zero counts:</b> a group with false negatives but no false positives has an "
                 "infinite FN/FP; its ratio against any finite FN/FP is 0, so TE is 0. A group with "
                 "no false negatives has FN/FP = 0, which also gives 0 against a positive FN/FP. "
                 "Only FN = FP = 0 (0/0) leaves the group out.</p>")
    if key == "CUAE":
        body += ("<p><b>Zero counts:</b> when PPV is undefined (nobody flagged) in all but one "
                 "group, CUAE is the NPV ratio alone, and the other way round; it is undefined only "
                 "when neither ratio is.</p>")
    body += _see(("zero_counts", "Zero-count rules"), ("min_ratio", "Minimum pairwise ratio"),
                 *((f"rate:{r}", rate_info(r).name) for r in d.rates if r in RATES))
    return Entry(f"def:{key}", "Fairness definitions", f"{d.name} ({key})", body)


def glossary_entries() -> list[Entry]:
    """Every glossary entry, in display order (generated where possible)."""
    out = [
        Entry("confusion", "Basics", "Confusion counts (TP, FP, FN, TN)",
              "<p>At a threshold, a person is <b>flagged</b> (predicted positive) when their score "
              "is at or above the threshold in the risk direction. Comparing the flag with the "
              "observed outcome gives four counts:</p><ul>"
              "<li><b>TP</b> true positives: flagged, and had the outcome.</li>"
              "<li><b>FP</b> false positives: flagged, but did not have the outcome.</li>"
              "<li><b>FN</b> false negatives: not flagged, but had the outcome.</li>"
              "<li><b>TN</b> true negatives: not flagged, and did not have the outcome.</li></ul>"
              "<p>With a frequency weight column, each row counts as that many people.</p>"
              + _see(("undefined", "Undefined (0/0)"), ("min_ratio", "Minimum pairwise ratio"))),
        Entry("min_ratio", "Basics", "Minimum pairwise ratio",
              "<p>How FairDesk turns a rate that differs between groups into one fairness number "
              "(as the Oregon study does): for every pair of groups, divide the smaller rate by "
              "the larger; the measure is the smallest of these ratios. It lies between 0 and 1: "
              "<b>1 = balanced</b>, and 0.8 means one group's rate is 80% of another's.</p>"
              + _formula("min over pairs (a, b) of min(r_a, r_b) / max(r_a, r_b)"
                         "  =  smallest rate / largest rate")
              + "<p>Example: rates 0.20, 0.25 and 0.40 give 0.20 / 0.40 = 0.5. Groups whose rate "
              "is undefined (0/0) are left out; with fewer than two groups left the measure is "
              "undefined. When every group's rate is 0, the groups are equal: the measure is 1. "
              "Definitions that ask two rates to be equal (ERB, CUAE) take the weaker (smaller) "
              "of their two ratios that are defined.</p>"
              + _see(("zero_counts", "Zero-count rules"), ("reliable", "Reliable groups"),
                     ("pair", "The pair behind a measure"))),
        Entry("zero_counts", "Basics", "Zero-count rules",
              "<p>One rule for every rate and every fairness measure:</p><ul>"
              "<li><b>Only 0/0 is undefined.</b> A group whose rate is 0/0 is left out of the "
              "measure, and the reason is shown.</li>"
              "<li><b>x/0 with x &gt; 0 is an infinite rate.</b> This can happen only for the count "
              "ratios FN/FP (treatment equality) and FP/FN (empirical cost ratio). An infinite rate "
              "compared with a finite one gives the ratio 0 (maximally unequal); two infinite rates "
              "compare as equal (ratio 1).</li>"
              "<li>When every compared group's rate is 0, the groups are equal: ratio 1.</li>"
              "<li>ERB and CUAE each ask two rates to be equal; they take the weaker of the two "
              "ratios that are defined, so CUAE uses NPV alone when PPV is undefined (nobody "
              "flagged) and PPV alone when NPV is undefined (everybody flagged).</li></ul>"
              "<p>Example (COMPAS by race, threshold 10, every group compared): Native American "
              "and Asian defendants have false negatives but no false positive, so their FN/FP is "
              "infinite and treatment equality is 0, as in the definition of Berk et al.</p>"
              + _see(("undefined", "Undefined (0/0)"), ("def:TE", "Treatment equality (TE)"))),
        Entry("reliable", "Basics", "Reliable groups (who a measure compares)",
              "<p>A minimum pairwise ratio is decided by the two most extreme groups, and a tiny "
              "group is often extreme by chance. By default each fairness measure compares only "
              "the groups with</p><ul>"
              "<li>at least the <b>minimum group size</b> in rows (30 by default, set on the Data "
              "page or with <code>--min-group-size</code>), and</li>"
              "<li>at least <b>10 people in the denominator</b> of each rate the measure uses: "
              "people without the outcome for FPR/TNR, with the outcome for FNR/TPR, people flagged "
              "for PPV/FDR, not flagged for NPV/FOR, all people for selection rate and accuracy, "
              "false positives for FN/FP, people in the tier for calibration.</li></ul>"
              "<p>A group can be compared for one rate and left out of another (a group with few "
              "people with the outcome is left out of FNR but not of FPR). The groups left out are "
              "named beside each measure with the reason, in the window, the JSON "
              "(<code>fairness_groups</code> → <code>excluded</code>) and the workbook. Rates by "
              "group still show every group. <b>Compare all groups</b> (window) or "
              "<code>--all-groups</code> (command line) compares every group whose rate is "
              "defined.</p>" + _see(("zero_counts", "Zero-count rules"))),
        Entry("pair", "Basics", "The pair behind a measure",
              "<p>Every minimum pairwise ratio comes from two groups and one rate: the group with "
              "the highest and the group with the lowest rate among those compared (for ERB and "
              "CUAE, in the weaker of the two rates). FairDesk writes them beside the value, e.g. "
              "“FPR: African-American 42.3 % vs Caucasian 22.0 %”, so the number can be checked "
              "and explained.</p>" + _see(("min_ratio", "Minimum pairwise ratio"))),
        Entry("undefined", "Basics", "Undefined (0/0)",
              "<p>A rate is a count divided by another count. When the denominator is zero, for "
              "example a false positive rate in a group where everyone had the outcome, the rate "
              "is <b>undefined</b>: not 0, not 100%, simply not computable. FairDesk shows the "
              "word “undefined” with the reason (hover over it), never 0 or a blank, and leaves "
              "such groups out of the fairness measures.</p><p>When each rate is undefined:</p><ul>"
              + "".join(f"<li><b>{html.escape(r.name)}</b> ({html.escape(r.formula)}): when "
                        f"{html.escape(r.undefined_when)}.</li>" for r in RATES.values())
              + "</ul>"),
        Entry("weights", "Basics", "Frequency weights",
              "<p>When a weight column is mapped, a row with weight 3 counts as three people in "
              "every count, rate, quantile and tier. Row counts (“rows”) stay unweighted.</p>"),
    ]
    out += [_rate_entry(r) for r in RATES.values()]
    out += [_rate_entry(r, extra=True) for r in EXTRA_RATES.values()]
    out += [_definition_entry(k) for k in DEFINITIONS]
    out += [
        Entry("auc", "Ranking", "AUC (area under the ROC curve)",
              "<p>How well the score ranks people, whatever the threshold: the probability that "
              "a randomly chosen person <i>with</i> the outcome has a higher score than a randomly "
              "chosen person <i>without</i> it, ties counting half. 0.5 = no better than chance, "
              "1 = perfect ranking. Computed within each group and over everyone.</p>"
              + _formula("AUC = P(score of a positive > score of a negative) + ½ P(tie)")
              + "<p>Undefined for a group that lacks either people with or without the "
              "outcome.</p>" + _see(("xauc", "Cross-AUC"))),
        Entry("xauc", "Ranking", "Cross-AUC (xAUC)",
              "<p>The ranking fairness of Kallus &amp; Zhou (2019). <b>xAUC(a, b)</b> is the "
              "probability that a person with the outcome from group a scores higher than a "
              "person without the outcome from group b, ties counting half. If xAUC(a, b) is "
              "much lower than xAUC(b, a), group a's people with the outcome are ranked below "
              "group b's people without it more often than the other way round: the score "
              "disadvantages group a's positives.</p>"
              + _formula("xAUC(a, b) = P(score of a positive from a > score of a negative from b)"
                         " + ½ P(tie)")
              + "<p>xAUC(a, a) is group a's own AUC. Undefined when group a has no one with the "
              "outcome or group b no one without it.</p>" + _see(("auc", "AUC"))),
        Entry("tiers", "Tiers", "Risk tiers",
              "<p>k thresholds split the scores into <b>k + 1 risk tiers</b>, S1 (lowest risk) … "
              "S<sub>k+1</sub> (highest risk). A score <b>equal to a threshold goes to the higher "
              "tier</b>. One threshold gives two tiers (not flagged, flagged); the Oregon rules "
              "give three thresholds and four tiers; 19 ventile edges give 20 tiers.</p>"
              "<p>Thresholds can be the same for every group (group-agnostic) or differ by group "
              "(group-specific).</p>"
              + _see(("tier_outcome_rate", "Calibration by tier"), ("rules", "Threshold rules"))),
        Entry("tier_outcome_rate", "Tiers", "Calibration by tier (tier outcome rate)",
              "<p>Within a tier, the <b>observed outcome rate</b> is the share of the people in "
              "that tier who had the outcome. A score is calibrated across groups when, tier by "
              "tier, that share is the same in every group: a given risk level means the same "
              "thing whoever you are.</p>"
              + _formula("outcome rate (tier, group) = people with the outcome in the tier / "
                         "people in the tier")
              + "<p>The CAL fairness value of a tier is the minimum pairwise ratio of these "
              "rates across groups (1 = calibrated). A group with no one in a tier has an "
              "undefined rate there and is left out of that tier's value.</p>"
              + _see(("def:CAL", "Calibration within tiers (CAL)"), ("tiers", "Risk tiers"))),
        Entry("rules", "Tiers", "Threshold rules",
              "<p>Thresholds are made by rules computed on all rows, in your score's units:</p><ul>"
              + "".join(f"<li><b>{html.escape(k.label)}</b>: {html.escape(k.help)}</li>"
                        for k in RULE_KINDS.values())
              + "</ul>" + _see(("tiers", "Risk tiers"))),
        Entry("bootstrap", "Uncertainty", "Bootstrap mean and SD",
              "<p>How much a measure could move by chance. FairDesk draws B resamples of the "
              "rows with replacement (each as many rows as the data), recomputes every measure "
              "on each, and reports the <b>mean</b> and the <b>standard deviation (SD)</b> over "
              "the resamples where the value is defined. The SD estimates the standard error: "
              "a measure of 0.85 with SD 0.05 could plausibly be anywhere from about 0.75 to "
              "0.95.</p><p>The random seed is recorded, so rerunning with the same seed gives "
              "exactly the same numbers.</p>" + _see(("intervals", "95 % intervals"))),
        Entry("intervals", "Uncertainty", "95 % intervals",
              "<p>Every headline figure carries a 95 % interval:</p><ul>"
              "<li><b>A single rate of a group</b> (a share such as FPR = FP / (FP + TN)): the "
              "<b>exact binomial (Clopper–Pearson)</b> interval from its counts. With a weight "
              "column, weights count as people (frequency weights).</li>"
              "<li><b>A fairness measure</b> and the count ratios FN/FP and FP/FN: the "
              "<b>bootstrap percentile</b> interval, the 2.5th and 97.5th percentiles over the B "
              "seeded resamples (B and the seed are recorded in the JSON and the workbook). Each "
              "resample compares the same groups as the figure itself. With a weight column the "
              "bootstrap resamples people, not rows: a resample draws as many people as the "
              "weights add up to, each row with probability weight ÷ total.</li></ul>"
              "<p>An interval that cannot be estimated says so (“not estimated” with the reason): "
              "when no bootstrap was run, when the value is undefined in more than 10 % of the "
              "resamples, or when the percentiles coincide. FairDesk never shows a zero-width range, "
              "which would look certain.</p>" + _see(("bootstrap", "Bootstrap mean and SD"))),
    ]
    return out


SECTIONS = ("Basics", "Rates", "Fairness definitions", "Ranking", "Tiers", "Uncertainty")

_STYLE = ("<style>h2 {margin-bottom:2px} p, li {line-height:130%} "
          "a {color:#0060a8; text-decoration:none}</style>")


class GlossaryDialog(QDialog):
    """A filterable list of terms on the left, the selected term's definition on the right."""

    def __init__(self, parent=None, select: str | None = None):
        super().__init__(parent)
        self.setWindowTitle("FairDesk — metrics glossary")
        self.resize(940, 620)
        self.entries = glossary_entries()
        self._by_key = {e.key: e for e in self.entries}
        self._plain = {e.key: " ".join(e.plain().lower().split()) for e in self.entries}

        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter: type a word, e.g. false positive, tier, FPR")
        self.filter.setClearButtonEnabled(True)
        self.filter.setToolTip("Shows only the terms whose name or definition contains these words")
        self.list = QListWidget()
        self.list.setMinimumWidth(250)
        self.list.setToolTip("Terms, by section; click one to read its definition")
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        self.browser.anchorClicked.connect(self._link)
        self.browser.document().setDefaultStyleSheet(
            "h2 {margin-bottom:2px} a {color:#0060a8; text-decoration:none}")

        bold = QFont()
        bold.setBold(True)
        self._headers: dict[str, QListWidgetItem] = {}
        self._items: dict[str, QListWidgetItem] = {}
        for section in SECTIONS:
            head = QListWidgetItem(section.upper())
            head.setFlags(Qt.NoItemFlags)
            head.setFont(bold)
            head.setForeground(Qt.darkGray)
            self.list.addItem(head)
            self._headers[section] = head
            for e in self.entries:
                if e.section == section:
                    item = QListWidgetItem("   " + e.title)
                    item.setData(Qt.UserRole, e.key)
                    item.setToolTip(e.title)
                    self.list.addItem(item)
                    self._items[e.key] = item

        self.count_label = QLabel()
        self.count_label.setStyleSheet("color:#666")
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.list)
        ll.addWidget(self.count_label)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(self.browser)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([290, 650])

        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.filter)
        lay.addWidget(splitter, 1)
        lay.addWidget(buttons)

        self.filter.textChanged.connect(self._apply_filter)
        self.list.currentItemChanged.connect(self._show_current)
        QShortcut(QKeySequence.Find, self, activated=self.filter.setFocus)
        self._apply_filter("")
        self.select(select or "min_ratio")
        self.filter.setFocus()

    # --- public helpers -------------------------------------------------------------------
    def titles(self) -> list[str]:
        return [e.title for e in self.entries]

    def visible_keys(self) -> list[str]:
        return [k for k, item in self._items.items() if not item.isHidden()]

    def all_text(self) -> str:
        """Every entry's title and text (tests, search)."""
        return "\n".join(e.plain() for e in self.entries)

    def select(self, key: str) -> None:
        item = self._items.get(key)
        if item is not None:
            if item.isHidden():
                self.filter.clear()
            self.list.setCurrentItem(item)
            self.list.scrollToItem(item)

    def current_key(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.UserRole) if item is not None else None

    # --- internals ------------------------------------------------------------------------
    def _apply_filter(self, text: str) -> None:
        words = text.lower().split()
        phrase = " ".join(words)
        if len(words) > 1 and any(phrase in t for t in self._plain.values()):
            words = [phrase]  # "false positive" as a phrase when it occurs somewhere
        shown = 0
        for section, head in self._headers.items():
            any_shown = False
            for e in self.entries:
                if e.section != section:
                    continue
                ok = all(w in self._plain[e.key] or w in e.key for w in words)
                self._items[e.key].setHidden(not ok)
                any_shown |= ok
                shown += ok
            head.setHidden(not any_shown)
        self.count_label.setText(f"{shown} of {len(self.entries)} terms" if words
                                 else f"{len(self.entries)} terms")
        current = self.list.currentItem()
        if current is None or current.isHidden():
            first = next((self._items[k] for k in self._items if not self._items[k].isHidden()),
                         None)
            if first is not None:
                self.list.setCurrentItem(first)
            else:
                self.list.setCurrentItem(None)
                self.browser.setHtml(f"<p style='color:#666'>No term matches "
                                     f"“{html.escape(text)}”. Try fewer or other words.</p>")

    def _show_current(self, item, _previous=None) -> None:
        if item is None or item.data(Qt.UserRole) is None:
            return
        e = self._by_key[item.data(Qt.UserRole)]
        self.browser.setHtml(f"{_STYLE}<h2>{html.escape(e.title)}</h2>"
                             f"<p style='color:#777; margin-top:0'>{e.section}</p>{e.body}")

    def _link(self, url: QUrl) -> None:
        key = url.fragment() or url.toString().lstrip("#")
        if key in self._items:
            self.select(key)


# --------------------------------------------------------------------------- which measure

RECOMMENDATIONS = {
    "fpr": ("False positive rate parity (predictive equality)",
            "The intervention harms the people it flags, so the errors that matter are people "
            "flagged without need. FPR parity asks that, among <i>everyone who would not have had "
            "the outcome</i>, each group is wrongly flagged equally often. Choose it when the "
            "people without need are the ones you must protect equally, however many are "
            "flagged. On the Audit page this is the PE measure."),
    "fdr": ("False discovery rate parity",
            "The intervention harms the people it flags, and your concern is the people "
            "<i>who are flagged</i>: FDR parity asks that a flag is wrong equally often in every "
            "group, so a flag carries the same meaning whoever receives it. It suits programs "
            "that flag few people, where the flagged list itself is what is scrutinised "
            "(FDR = 1 − precision; compare Predictive parity, PP)."),
    "fp_group_size": ("False positives / group size parity",
                      "The intervention harms the people it flags, and you judge the harm "
                      "against each <i>whole community</i>: wrongly flagged people as a share of "
                      "the group's size should be equal. Use it when the intervention is not "
                      "well defined or its burden falls on a community as a whole (for example "
                      "stops or checks spread across a neighbourhood)."),
    "fnr": ("False negative rate parity (equal opportunity, recall parity)",
            "The intervention helps the people it selects, so the errors that matter are people "
            "with need who are left out. FNR parity asks that, among <i>everyone with need</i>, "
            "each group is missed equally often — equivalently, that recall (1 − FNR) is equal. "
            "It fits programs that can reach most people with need. On the Audit page this is "
            "the EO measure."),
    "fnr_few": ("Recall parity (false negative rate parity)",
                "The program helps the people it selects but can only reach a small fraction of "
                "those with need (a top-K list), so not everyone with need can be reached. What "
                "can be equal is each group's share of its people with need who are selected: "
                "recall (1 − FNR). The Los Angeles City Attorney's study (Rodolfa et al. 2020) "
                "ranked people for a top-K social-service program and balanced recall across "
                "groups with group-specific thresholds, at little cost in precision. Try "
                "<b>Recall balancing</b> on the Audit page to do the same."),
    "for": ("False omission rate parity",
            "The intervention helps the people it selects, and your concern is the people "
            "<i>not selected</i>: FOR parity asks that, among those left out, the share who did "
            "have need is equal across groups, so being passed over means the same in every "
            "group."),
    "fn_group_size": ("False negatives / group size parity",
                      "The intervention helps the people it selects, and you judge the missed "
                      "need against each <i>whole community</i>: people with need left out, as "
                      "a share of the group's size, should be equal. Use it when the harm of a "
                      "missed person is felt by the community as a whole."),
}


class WhichMeasureDialog(QDialog):
    """Three short questions → the error rate whose parity matters most.

    ``recommended_rate`` is one of "fpr", "fdr", "fp_group_size", "fnr", "for",
    "fn_group_size" once the questions are answered, else None. ``buttons`` maps each
    answer key to its radio button (tests drive them).
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Which fairness measure?")
        self.setMinimumWidth(640)
        self.resize(700, 400)
        self.recommended_rate: str | None = None
        self.buttons: dict[str, QRadioButton] = {}

        intro = QLabel("Answer two or three questions about the decision the score supports. The "
                       "guide follows the fairness tree used in the Los Angeles City Attorney's "
                       "study (Rodolfa et al. 2020): it points to the error whose balance "
                       "across groups matters most.")
        intro.setWordWrap(True)

        self.q1 = self._question(
            "1. What does the intervention do to the people it flags?",
            [("punitive", "Punitive: it can harm them (e.g. detention, investigation, "
                          "losing a benefit)"),
             ("assistive", "Assistive: it helps them (e.g. services, outreach, support)")])
        self.q2p = self._question(
            "2. Is it most important to worry about people wrongly flagged among everyone "
            "without need, or among those flagged?",
            [("among_all_without_need", "Among everyone without need (who would not have "
                                        "had the outcome)"),
             ("among_flagged", "Among those flagged"),
             ("fp_group_size", "Relative to the size of each group (the whole community)")])
        self.q2a = self._question(
            "2. Can the program reach most people with need, or only a small fraction?",
            [("reach_most", "Most people with need"),
             ("reach_few", "Only a small fraction (a top-K list, limited places)")])
        self.q3a = self._question(
            "3. Whose equity concerns you most: people with need who are missed …",
            [("missed_among_need", "… among all people with need (FNR)"),
             ("missed_among_unselected", "… among those not selected (FOR)"),
             ("missed_group_size", "… relative to the size of each group (FN / group size)")])
        tips = {
            "punitive": "The people flagged bear a cost: being wrongly flagged is the harm.",
            "assistive": "The people flagged receive help: being wrongly left out is the harm.",
            "among_all_without_need": "False positive rate: FP / (FP + TN)",
            "among_flagged": "False discovery rate: FP / (TP + FP)",
            "fp_group_size": "False positives / group size: FP / everyone in the group",
            "reach_most": "Capacity is enough for most people with need.",
            "reach_few": "Capacity is limited: only the K highest-risk people can be served.",
            "missed_among_need": "False negative rate: FN / (TP + FN)",
            "missed_among_unselected": "False omission rate: FN / (TN + FN)",
            "missed_group_size": "False negatives / group size: FN / everyone in the group",
        }
        for key, tip in tips.items():
            self.buttons[key].setToolTip(tip)

        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.result_label.setTextFormat(Qt.RichText)
        self.result_label.setMinimumHeight(70)
        self.result_label.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.result_label.setFrameShape(QFrame.StyledPanel)
        self.result_label.setStyleSheet("QLabel {background:#f4f8fb; padding:10px}")

        box = QDialogButtonBox()
        self.open_button = QPushButton("Open the audit on it")
        self.open_button.setToolTip("Close this guide and show the recommended rate on the "
                                    "Audit page")
        self.open_button.setDefault(True)
        box.addButton(self.open_button, QDialogButtonBox.AcceptRole)
        box.addButton(QDialogButtonBox.Close)
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)

        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        for q in (self.q1, self.q2p, self.q2a, self.q3a):
            lay.addWidget(q)
        lay.addWidget(self.result_label)
        lay.addWidget(box)
        self._update()

    def _question(self, text: str, options) -> QGroupBox:
        box = QGroupBox(text)
        box.setStyleSheet("QGroupBox {font-weight:bold} QRadioButton {font-weight:normal}")
        lay = QVBoxLayout(box)
        group = QButtonGroup(box)
        for key, label in options:
            rb = QRadioButton(label)
            group.addButton(rb)
            lay.addWidget(rb)
            self.buttons[key] = rb
            rb.toggled.connect(self._update)
        box.button_group = group
        return box

    def _checked(self, box: QGroupBox) -> str | None:
        rb = box.button_group.checkedButton()
        return next((k for k, b in self.buttons.items() if b is rb), None)

    def recommendation(self) -> tuple[str | None, str | None]:
        """(rate key, text key): the text key differs for the small-fraction case."""
        q1 = self._checked(self.q1)
        if q1 == "punitive":
            q2 = self._checked(self.q2p)
            return {"among_all_without_need": ("fpr", "fpr"), "among_flagged": ("fdr", "fdr"),
                    "fp_group_size": ("fp_group_size", "fp_group_size")}.get(q2, (None, None))
        if q1 == "assistive":
            q2 = self._checked(self.q2a)
            if q2 == "reach_few":
                return "fnr", "fnr_few"
            if q2 == "reach_most":
                q3 = self._checked(self.q3a)
                return {"missed_among_unselected": ("for", "for"),
                        "missed_group_size": ("fn_group_size", "fn_group_size")}.get(
                    q3, ("fnr", "fnr"))
        return None, None

    def _update(self, *_):
        q1 = self._checked(self.q1)
        self.q2p.setVisible(q1 == "punitive")
        self.q2a.setVisible(q1 == "assistive")
        self.q3a.setVisible(q1 == "assistive" and self._checked(self.q2a) == "reach_most")
        rate, text_key = self.recommendation()
        self.recommended_rate = rate
        self.open_button.setEnabled(rate is not None)
        if rate is None:
            self.result_label.setText("<span style='color:#666'>Answer the questions above to see "
                                "which measure to focus on.</span>")
        else:
            title, text = RECOMMENDATIONS[text_key]
            info = rate_info(rate)
            if text_key == "fnr_few":  # stated as recall, the LA study's measure
                info = RATES["tpr"]
                formula = "TP / (TP + FN) = 1 − FNR"
            else:
                formula = info.formula
            hint = ("" if self._checked(self.q3a) or text_key != "fnr" else
                    "<p style='color:#666'>Question 3 can refine this choice.</p>")
            self.result_label.setText(
                f"<p style='margin-top:0'><b>Focus on: {html.escape(title)}</b></p><p>{text}</p>"
                f"<p>Formula: <span style='font-family:monospace'>{html.escape(formula)}</span>"
                f" — {html.escape(info.definition)}</p>{hint}")
        if self.isVisible():
            QTimer.singleShot(0, self._fit)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._fit()

    def _fit(self) -> None:
        """Grow or shrink to the questions shown (word-wrapped text needs height-for-width)."""
        lay = self.layout()
        lay.activate()
        h = lay.totalHeightForWidth(self.width()) if lay.hasHeightForWidth() else -1
        self.resize(self.width(), max(h, lay.totalMinimumSize().height()))
