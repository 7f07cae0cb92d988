"""Reading a period column: dates bucketed by month, quarter or year, or ordered labels.

A period is what an agency revisits a decision by (issue 20): "2018", "2019-Q3",
"2020-07", or any ordered label ("wave 1", "wave 2", "2018/19"). Codes are ordered as time
runs (dates, numbers) or naturally ("P2" before "P10"); a cell that gives no period is
reported, never guessed.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

BUCKETS = ("auto", "month", "quarter", "year", "label")
BUCKET_TITLES = {"auto": "automatic", "month": "month", "quarter": "quarter", "year": "year",
                 "label": "as written (ordered labels)"}
MIN_DATE_SHARE = 0.5  # read as dates when most filled cells are; the others are reported


@dataclass
class Periods:
    codes: np.ndarray  # int32 per row, -1 where the row has no readable period
    names: list[str]  # in time (or natural) order
    how: str  # how the column was read, in words
    missing: np.ndarray  # bool per row: empty cell
    unreadable: np.ndarray  # bool per row: a cell that is not a date where the column holds dates
    note: str = ""  # how an ambiguous reading was settled, for the analyst


def _natural_key(text: str):
    return [(0, int(t), "") if t.isdigit() else (1, 0, t.lower())
            for t in re.findall(r"\d+|\D+", text)]


def _as_dates(values: pd.Series):
    """The column as datetimes when it holds dates (NaT where a cell does not), else None."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return pd.to_datetime(values)
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return None  # numbers are years or an order, never days since an epoch
    text = values.dropna().astype(str).str.strip()
    if text.empty or not text.str.contains(r"\d{1,4}[-/.]\d{1,2}").mean() >= MIN_DATE_SHARE:
        return None
    cells = values.where(values.notna(), None).astype("string").str.strip()
    short = re.compile(r"^\d{1,2}([/.-])\d{1,2}\1\d{2,4}$")
    note = ""
    if text.str.match(short).mean() >= MIN_DATE_SHARE:
        # 05/01/2018: month or day first? Read the whole column each way, strictly: the
        # reading that fails on fewer cells wins (31/12/2019 reads only day first); a tie
        # that reads the cells differently is reported, read month first
        first = text[text.str.match(short)].iloc[0]
        sep = short.match(first).group(1)
        year = "%Y" if len(first.split(sep)[-1]) == 4 else "%y"
        month_first = pd.to_datetime(cells, errors="coerce", format=f"%m{sep}%d{sep}{year}")
        day_first = pd.to_datetime(cells, errors="coerce", format=f"%d{sep}%m{sep}{year}")
        parsed = day_first if day_first.notna().sum() > month_first.notna().sum() else month_first
        if day_first.notna().sum() == month_first.notna().sum() and not day_first.equals(month_first):
            note = (f"Dates such as {text.iloc[0]} could be month/day or day/month; they were "
                    "read month first. If the file writes the day first, write the dates as "
                    "YYYY-MM-DD.")
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas warns when it infers formats per element
            parsed = pd.to_datetime(cells, errors="coerce", format="mixed")
    filled = values.notna().to_numpy()
    if filled.sum() and parsed.notna().to_numpy()[filled].mean() >= MIN_DATE_SHARE:
        parsed.attrs["fairdesk_note"] = note
        return parsed
    return None


def _bucket_for(dates: pd.Series) -> str:
    """Months over up to two years, quarters up to six, years beyond."""
    span_days = (dates.max() - dates.min()).days if dates.notna().any() else 0
    return "month" if span_days <= 2 * 366 else "quarter" if span_days <= 6 * 366 else "year"


def read_periods(values: pd.Series, bucket: str = "auto") -> Periods:
    """Period codes for a column of dates, numbers or labels (``bucket``: one of BUCKETS)."""
    if bucket not in BUCKETS:
        raise ValueError(f"bucket must be one of {', '.join(BUCKETS)}")
    values = values.reset_index(drop=True)
    missing = values.isna().to_numpy() | values.astype(str).str.strip().eq("").to_numpy()
    unreadable = np.zeros(len(values), dtype=bool)
    dates = None if bucket == "label" else _as_dates(values)
    if dates is not None:
        chosen = _bucket_for(dates[~missing]) if bucket == "auto" else bucket
        unreadable = dates.isna().to_numpy() & ~missing
        ok = ~missing & ~unreadable
        d = dates[ok]
        if chosen == "year":
            key = d.dt.year.to_numpy()
            label = [str(y) for y in key]
        elif chosen == "quarter":
            key = (d.dt.year * 10 + d.dt.quarter).to_numpy()
            label = [f"{k // 10}-Q{k % 10}" for k in key]
        else:  # month
            key = (d.dt.year * 100 + d.dt.month).to_numpy()
            label = [f"{k // 100}-{k % 100:02d}" for k in key]
        uniq, inv = np.unique(key, return_inverse=True)
        first = {k: lab for k, lab in zip(key, label)}
        codes = np.full(len(values), -1, dtype=np.int32)
        codes[ok] = inv.astype(np.int32)
        how = f"dates, by {chosen}"
        return Periods(codes, [first[k] for k in uniq], how, missing, unreadable,
                       dates.attrs.get("fairdesk_note", ""))
    # numbers (years, an order) or labels
    ok = ~missing
    numeric = pd.to_numeric(values[ok], errors="coerce")
    if len(numeric) and numeric.notna().all():
        keys = numeric.to_numpy(dtype=float)
        uniq, inv = np.unique(keys, return_inverse=True)
        names = [str(int(k)) if float(k).is_integer() else f"{k:g}" for k in uniq]
        how = "numbers, in increasing order"
    else:
        first_seen, found = pd.factorize(values[ok].astype(str).str.strip())
        order = sorted(range(len(found)), key=lambda i: _natural_key(found[i]))
        rank = np.empty(len(found), dtype=np.int64)
        rank[order] = np.arange(len(found))
        inv = rank[first_seen]
        names = [str(found[i]) for i in order]
        how = "labels, in natural order (P2 before P10)"
    codes = np.full(len(values), -1, dtype=np.int32)
    codes[ok] = inv.astype(np.int32)
    return Periods(codes, names, how, missing, unreadable)
