"""The installed Qt binding survives a long session of signals (a PySide6 6.12.0 bug did not)."""

import subprocess
import sys

CODE = """
import sys
from PySide6.QtCore import QCoreApplication, QObject, Signal
app = QCoreApplication([])
class O(QObject):
    s = Signal(float, str)
o = O()
o.s.connect(lambda f, m: None)
for _ in range(20000):
    o.s.emit(0.5, "progress")
from PySide6.QtCore import QTimer
t = QTimer()
for _ in range(20000):  # methods returning None or bool (6.12.0 lost a reference each)
    t.setInterval(5)
    t.isActive()
print("ok")
"""


def test_many_signal_emits_do_not_crash():
    r = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "ok" in r.stdout, r.stderr[-2000:]
