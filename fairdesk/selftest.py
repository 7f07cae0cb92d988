"""``fairdesk --selftest``: run every engine briefly on the bundled sample, write a workbook
to a temporary folder, read it back; one line per check; exit 0 only if all passed.

Used by the frozen bundle's test and by IT staff after installing on a workstation. The
window check is added by the caller (``fairdesk.gui.selftest_window``): this module has no Qt.
"""

from __future__ import annotations

import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np


def _checks():
    """(name, function) pairs; each function returns a short detail string or raises."""
    from . import __version__
    from .io.loading import load_table
    from .resources import sample_data
    from .schema import ColumnMapping
    from .validation import prepare

    state: dict = {}

    def load():
        state["table"] = load_table(sample_data())
        return f"{state['table'].source.n_rows:,} rows from {sample_data().name}"

    def validate():
        mapping = ColumnMapping(score="score", label="outcome", groups=["race"], id="person_id",
                                household="household_id", weight="weight", split="split",
                                extras=["age", "alleged_victim"])
        state["data"] = prepare(state["table"].frame, mapping)
        return f"{state['data'].n:,} rows, {state['data'].n_groups} groups"

    def audit():
        from .audit import run_audit
        r = run_audit(state["data"], [0.3, 0.5])
        rates = np.concatenate([v.ravel() for k, v in r.rates.items() if k not in ("fn_fp", "cost_ratio")])
        assert np.all((rates[~np.isnan(rates)] >= 0) & (rates[~np.isnan(rates)] <= 1))
        assert 0.5 < r.auc_overall < 1
        state["audit"] = r
        return f"AUC {r.auc_overall:.3f}, ERB {r.fairness['ERB'][1]:.3f}"

    def bootstrap():
        from .bootstrap import bootstrap_audit
        b = bootstrap_audit(state["data"], [0.5], resamples=5, seed=1)
        return f"5 resamples, ERB {b.mean['fairness:ERB'][0]:.3f} ± {b.sd['fairness:ERB'][0]:.3f}"

    def correction():
        from .engines.threshold_correction import CorrectionSettings, run_correction
        r = state["correction"] = run_correction(
            state["data"], CorrectionSettings(weights=(0.0, 0.5, 1.0), subsamples=2, audit_subsamples=2,
                                              workers=1))
        pre = r.pre_thresholds()
        assert np.allclose(r.post_thresholds()[-1], pre[:, None])  # w = 1 keeps the thresholds
        return f"{len(r.best)} thresholds corrected"

    def scenarios():
        from .scenarios import baseline, compare
        state["comparison"] = compare(state["data"], [baseline([0.5]), baseline([0.6], "Strict")])
        return f"{len(state['comparison'].metrics)} scenarios compared"

    def workbook():
        import openpyxl

        from .reports.audit_report import audit_tables
        from .reports.correction_report import correction_tables
        from .reports.eodds_report import eodds_tables
        from .reports.households_report import households_tables
        from .reports.meeting_report import write_meeting_workbook
        from .reports.recall_report import recall_tables
        from .reports.transport_report import transport_tables
        d = state["data"]
        tables = audit_tables(state["audit"], d)
        if "correction" in state:
            tables += correction_tables(state["correction"])
        if "recall" in state:
            tables += recall_tables(state["recall"], d)
        if "eodds" in state:
            tables += eodds_tables(state["eodds"], d)
        if "households" in state:
            tables += households_tables(state["households"])
        if "transport" in state:
            tables += transport_tables(state["transport"], d)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "selftest.xlsx"
            write_meeting_workbook(path, state["table"].source, d, state["comparison"], tables)
            wb = openpyxl.load_workbook(path)
            assert wb.sheetnames[0] == "About this workbook" and "Summary" in wb.sheetnames
            assert len(wb.sheetnames) >= len(tables) + 4
            return f"{len(wb.sheetnames)} sheets written and read back"

    checks = [("version", lambda: __version__), ("load sample", load), ("validate", validate),
              ("audit", audit), ("bootstrap", bootstrap), ("threshold correction", correction)]
    checks += [(name, fn) for name, fn in _engine_checks(state)]
    checks += [("scenarios", scenarios), ("workbook", workbook)]
    return checks


def _engine_checks(state):
    """Every other engine, briefly, with a property that must hold."""
    def recall():
        from .engines.recall_balance import RecallSettings, run_recall
        r = state["recall"] = run_recall(state["data"], RecallSettings(k=300, seed=1))
        cur = r.scenarios["current_equal"]
        assert abs(cur.size - 300) <= 2  # weights 1 and 2: within one person's weight of K
        return f"5 scenarios, equal-recall list of {cur.size:g} people"

    def eodds():
        from .engines.equalized_odds import EOddsSettings, run_equalized_odds
        r = state["eodds"] = run_equalized_odds(state["data"], EOddsSettings(), curves=False)
        fam = r.family("fixed")
        gap = float(np.nanmax(fam.eo_gap(r.rocs)))
        assert gap < 0.05, gap
        return f"common point FPR {r.point[0]:.3f}, TPR {r.point[1]:.3f}"

    def households():
        from .engines.households import HouseholdSettings, audit_households
        r = state["households"] = audit_households(state["data"],
                                                   HouseholdSettings(flag="alleged_victim", age="age"))
        return f"{len(r.policies)} policies audited"

    def transport():
        from .engines.transport import TransportSettings, run_transport
        r = state["transport"] = run_transport(state["data"], TransportSettings(seed=1))
        assert np.all(r.gap_after <= r.gap_before + 1e-9)
        return f"onto {r.reference_name}; largest selection-rate gap {np.nanmax(r.gap_after):.3f}"

    return [("recall balancing", recall), ("equalized odds", eodds), ("households", households),
            ("transport and conformal", transport)]


def run(out=None, extra_checks=()) -> int:
    """Run the checks (plus ``extra_checks``: (name, function) pairs, e.g. the window's,
    which lives in fairdesk.gui so that this module stays free of Qt). ``out`` defaults to
    ``sys.stdout`` as it is when called (the windowed build replaces a None stdout)."""
    out = sys.stdout if out is None else out
    failed = 0
    start = time.perf_counter()
    for name, fn in [*_checks(), *extra_checks]:
        t0 = time.perf_counter()
        try:
            detail = fn()
            out.write(f"PASS {name}: {detail} ({time.perf_counter() - t0:.2f} s)\n")
        except Exception as err:  # report every check, then fail
            failed += 1
            out.write(f"FAIL {name}: {type(err).__name__}: {err}\n")
            out.write("".join("     " + line for line in traceback.format_exc().splitlines(True)[-6:]))
        out.flush()
    out.write(f"{'all checks passed' if not failed else f'{failed} check(s) failed'} "
              f"in {time.perf_counter() - start:.1f} s\n")
    return 0 if not failed else 1
