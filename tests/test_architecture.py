"""The numeric core never imports Qt."""

import pkgutil
import re
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


PAGES = ROOT / "fairdesk" / "gui" / "pages"
# a formatting helper belongs in fairdesk/present/formats.py, never in a page
FORMAT_HELPER = re.compile(r"^\s*def (fmt\w*|_fmt\w*|format_\w+|_nan|parse_float|_pct|"
                           r"color_icon)\(", re.M)


def test_pages_define_no_formatting_helpers():
    found = [f"{p.name}: {m.group(1)}" for p in sorted(PAGES.glob("*.py"))
             for m in FORMAT_HELPER.finditer(p.read_text(encoding="utf-8"))]
    assert found == []


def test_page_modules_stay_small():
    long = {p.name: n for p in PAGES.glob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 700}
    assert long == {}


def test_window_code_is_at_most_forty_percent_of_the_application():
    lines = {p: len(p.read_text(encoding="utf-8").splitlines())
             for p in (ROOT / "fairdesk").rglob("*.py")}
    gui = sum(n for p, n in lines.items() if "gui" in p.relative_to(ROOT / "fairdesk").parts)
    assert gui / sum(lines.values()) <= 0.40, f"{gui / sum(lines.values()):.1%}"
