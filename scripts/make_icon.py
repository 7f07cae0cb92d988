"""Draw FairDesk's icon (a balance over three bars) and save it as PNG and ICO.

    QT_QPA_PLATFORM=offscreen python scripts/make_icon.py
"""

from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QImage, QPainter, QPen

OUT = Path(__file__).resolve().parents[1] / "resources" / "icons"


def draw(size: int) -> QImage:
    img = QImage(size, size, QImage.Format_ARGB32)
    img.fill(Qt.transparent)
    p = QPainter(img)
    p.setRenderHint(QPainter.Antialiasing)
    s = size / 256
    p.setBrush(QColor("#0072B2"))
    p.setPen(Qt.NoPen)
    p.drawRoundedRect(QRectF(8 * s, 8 * s, 240 * s, 240 * s), 44 * s, 44 * s)
    # three bars of equal height: groups treated alike
    for i, color in enumerate(("#E69F00", "#009E73", "#CC79A7")):
        p.setBrush(QColor(color))
        p.drawRoundedRect(QRectF((58 + i * 52) * s, 150 * s, 36 * s, 62 * s), 6 * s, 6 * s)
    pen = QPen(QColor("white"), 12 * s, Qt.SolidLine, Qt.RoundCap)
    p.setPen(pen)
    p.drawLine(QPointF(128 * s, 50 * s), QPointF(128 * s, 130 * s))  # post
    p.drawLine(QPointF(60 * s, 72 * s), QPointF(196 * s, 72 * s))  # beam
    p.setPen(QPen(QColor("white"), 6 * s, Qt.SolidLine, Qt.RoundCap))
    for x in (60, 196):  # strings and pans of the balance
        p.drawLine(QPointF(x * s, 72 * s), QPointF((x - 20) * s, 108 * s))
        p.drawLine(QPointF(x * s, 72 * s), QPointF((x + 20) * s, 108 * s))
        p.drawLine(QPointF((x - 24) * s, 110 * s), QPointF((x + 24) * s, 110 * s))
    p.setPen(Qt.NoPen)
    p.setBrush(QBrush(QColor("white")))
    p.drawEllipse(QPointF(128 * s, 50 * s), 10 * s, 10 * s)
    p.end()
    return img


def main():
    app = QGuiApplication([])  # noqa: F841
    OUT.mkdir(parents=True, exist_ok=True)
    draw(256).save(str(OUT / "fairdesk.png"))
    draw(48).save(str(OUT / "fairdesk-48.png"))
    ok = draw(128).save(str(OUT / "fairdesk.ico"))  # 128 px keeps the file small
    print("saved", OUT, "ico:", ok)


if __name__ == "__main__":
    main()
