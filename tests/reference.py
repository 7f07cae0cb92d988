"""Naive reference implementations (loops over rows) to check the fast code against."""

import math


def confusion(scores, labels, weights, t):
    tp = fp = fn = tn = 0.0
    for s, y, w in zip(scores, labels, weights):
        pred = s >= t
        if pred and y:
            tp += w
        elif pred:
            fp += w
        elif y:
            fn += w
        else:
            tn += w
    return tp, fp, fn, tn


def div(a, b):
    return a / b if b > 0 else math.nan


def div_inf(a, b):
    """x/0 with x > 0 is infinite; only 0/0 is undefined."""
    return a / b if b > 0 else math.inf if a > 0 else math.nan


def rates(tp, fp, fn, tn):
    return {"tpr": div(tp, tp + fn), "fnr": div(fn, tp + fn), "fpr": div(fp, fp + tn),
            "tnr": div(tn, fp + tn), "ppv": div(tp, tp + fp), "fdr": div(fp, tp + fp),
            "npv": div(tn, tn + fn), "for": div(fn, tn + fn),
            "accuracy": div(tp + tn, tp + fp + fn + tn),
            "prevalence": div(tp + fn, tp + fp + fn + tn),
            "selection_rate": div(tp + fp, tp + fp + fn + tn),
            "fn_fp": div_inf(fn, fp), "cost_ratio": div_inf(fp, fn)}


def xauc(sa, ya, wa, sb, yb, wb):
    """P(score of a positive of a > score of a negative of b), ties half: all pairs."""
    num = den = 0.0
    for s1, y1, w1 in zip(sa, ya, wa):
        if not y1:
            continue
        for s2, y2, w2 in zip(sb, yb, wb):
            if y2:
                continue
            pair = w1 * w2
            den += pair
            if s1 > s2:
                num += pair
            elif s1 == s2:
                num += 0.5 * pair
    return num / den if den > 0 else math.nan


def min_pairwise_ratio(values):
    vals = [v for v in values if not math.isnan(v)]
    if len(vals) < 2:
        return math.nan
    best = 1.0
    for i in range(len(vals)):
        for j in range(len(vals)):
            lo, hi = min(vals[i], vals[j]), max(vals[i], vals[j])
            if math.isinf(hi):  # an infinite rate: 0 against a finite one, equal to another
                r = 1.0 if math.isinf(lo) else 0.0
            else:
                r = 1.0 if hi == 0 else lo / hi
            best = min(best, r)
    return best
