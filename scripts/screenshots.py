"""Screenshots of the window's pages, as an analyst sees them (for looking, not for tests).

    QT_QPA_PLATFORM=offscreen python scripts/screenshots.py --data sample --size 1366x768 \
        --pages audit,tiers --out /tmp/shots

``--data``: ``sample`` (the bundled sample), ``compas`` (race × sex from ../shared/data),
``fico`` (the weighted FICO file), or a path (opened with the proposed mapping). Each page is
shown, every job it starts is waited for (on the worker's signal), and the window is grabbed
to ``OUT/<data>-<size>-<page>.png``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"

DATASETS = {
    "sample": (ROOT / "resources" / "sample" / "sample_scores.csv", None),
    "compas": (SHARED / "compas_two_year.csv",
               dict(score="decile_score", label="two_year_recid", groups=["race", "sex"])),
    "fico": (SHARED / "fico_weighted.csv", None),
}


def _wait_idle(app, window, limit_s: float = 300.0) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    def settled() -> bool:
        timers = [t for p in window.pages for t in p.findChildren(QTimer)]
        return not window.worker.busy and not any(t.isActive() and t.isSingleShot()
                                                  for t in timers)

    loop = QEventLoop()
    guard = QTimer()
    guard.setSingleShot(True)
    guard.timeout.connect(loop.quit)
    guard.start(int(limit_s * 1000))
    poll = QTimer()
    poll.timeout.connect(lambda: settled() and loop.quit())
    poll.start(50)
    loop.exec()
    poll.stop()
    for _ in range(5):
        app.processEvents()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="sample")
    ap.add_argument("--size", default="1366x768")
    ap.add_argument("--pages", default="", help="page keys, comma-separated (default: all)")
    ap.add_argument("--out", default="/tmp/shots")
    ap.add_argument("--dark", action="store_true",
                    help="a high-contrast dark palette (white on black), as Windows gives")
    ap.add_argument("--font", type=float, default=0, help="application font size in points")
    args = ap.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from fairdesk.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    if args.dark:
        from PySide6.QtGui import QColor, QPalette

        pal = QPalette()
        for role, colour in ((QPalette.Window, "#000000"), (QPalette.WindowText, "#ffffff"),
                             (QPalette.Base, "#000000"), (QPalette.Text, "#ffffff"),
                             (QPalette.AlternateBase, "#1a1a1a"), (QPalette.Button, "#000000"),
                             (QPalette.ButtonText, "#ffffff")):
            pal.setColor(role, QColor(colour))
        app.setPalette(pal)
    if args.font:
        font = app.font()
        font.setPointSizeF(args.font)
        app.setFont(font)
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "s.ini"), QSettings.IniFormat)
    window = MainWindow(settings=settings)
    window.show_error = lambda message, details="": print("error:", message, file=sys.stderr)
    window.resize(width, height)
    window.show()
    path, mapping = DATASETS.get(args.data, (Path(args.data), None))
    window.open_path(str(path))
    _wait_idle(app, window)
    if mapping is not None:
        from fairdesk.schema import ColumnMapping

        current = window.state.mapping
        window.state.mapping = ColumnMapping(**{**current.__dict__, **mapping}) \
            if hasattr(current, "__dict__") else ColumnMapping(**mapping)
        window.page("data").revert()  # the Data page shows the mapping in force
        window.validate()
        _wait_idle(app, window)
    keys = [p.key for p in window.pages]
    wanted = [k for k in args.pages.split(",") if k] or keys
    name = Path(args.data).stem if args.data not in DATASETS else args.data
    for key in wanted:
        window.show_page(key)
        _wait_idle(app, window)
        look = ("-dark" if args.dark else "") + (f"-{args.font:g}pt" if args.font else "")
        target = out / f"{name}-{args.size}{look}-{key}.png"
        window.grab().save(str(target))
        print(target)
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
