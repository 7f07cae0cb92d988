import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"

try:  # GUI tests keep their settings, logs and autosaves out of the user's real folders
    from PySide6.QtCore import QStandardPaths

    QStandardPaths.setTestModeEnabled(True)
except ImportError:  # the numeric core is usable without Qt
    pass
