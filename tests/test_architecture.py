"""The numeric core never imports Qt."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import fairdesk

ROOT = Path(__file__).resolve().parents[1]


def core_modules():
    for m in pkgutil.walk_packages(fairdesk.__path__, "fairdesk."):
        if not m.name.startswith("fairdesk.gui"):
            yield m.name


def test_core_modules_do_not_import_qt():
    mods = sorted(core_modules())
    assert "fairdesk.audit" in mods and "fairdesk.metrics.confusion" in mods
    code = ("import importlib, sys\n"
            f"for m in {mods!r}: importlib.import_module(m)\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6')]\n"
            "print(bad); sys.exit(1 if bad else 0)\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
