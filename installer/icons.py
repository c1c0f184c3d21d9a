"""Render the app icon (desktop_ocr/resources/desktop-ocr.svg) for the installers.

    python installer/icons.py OUT_DIR

writes OUT_DIR/hicolor/NxN/apps/desktop-ocr.png for the hicolor sizes (Linux), and
OUT_DIR/desktop-ocr.ico (Windows) and OUT_DIR/desktop-ocr.icns (macOS). Qt's SVG renderer
draws the PNGs (no librsvg or ImageMagick needed: PySide6 is already in the venv); Pillow
packs the .ico and .icns.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SVG = ROOT / "desktop_ocr" / "resources" / "desktop-ocr.svg"
# The sizes desktop environments look up in hicolor (freedesktop icon theme spec).
HICOLOR_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_SIZES = (16, 32, 64, 128, 256, 512, 1024)


def render(svg: Path, size: int, out: Path) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"icons: cannot read {svg}")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    out.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(out), "PNG"):
        raise SystemExit(f"icons: cannot write {out}")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 64
    out = Path(argv[0])
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PIL import Image
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 - QPainter needs it
    sizes = sorted(set(HICOLOR_SIZES) | set(ICO_SIZES) | set(ICNS_SIZES))
    pngs: dict[int, Path] = {}
    for size in sizes:
        path = out / "hicolor" / f"{size}x{size}" / "apps" / "desktop-ocr.png"
        if size not in HICOLOR_SIZES:  # only for .icns: not a hicolor size
            path = out / "extra" / f"desktop-ocr-{size}.png"
        render(SVG, size, path)
        pngs[size] = path
    largest = Image.open(pngs[max(ICNS_SIZES)])
    # Pillow resamples from the largest image for every size it is asked for; give it the
    # Qt renders instead, which keep thin strokes sharp at 16 px.
    Image.open(pngs[max(ICO_SIZES)]).save(
        out / "desktop-ocr.ico", sizes=[(s, s) for s in ICO_SIZES],
        append_images=[Image.open(pngs[s]) for s in ICO_SIZES if s != max(ICO_SIZES)])
    largest.save(out / "desktop-ocr.icns",
                 append_images=[Image.open(pngs[s]) for s in ICNS_SIZES if s != max(ICNS_SIZES)])
    print(f"icons: {len(pngs)} PNGs, desktop-ocr.ico, desktop-ocr.icns in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
