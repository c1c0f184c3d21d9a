"""Read barcodes and QR codes with zxing-cpp (a binary wheel; nothing downloads).

`read_codes(image)` finds every code in any image, for the `codes` task of the CPU engine
and for the code chips the window shows under any result. zxing-cpp already tries the
four right-angle turns and inverted codes; on top of that:

- linear codes (EAN, Code 128) are read along scan lines, which fail beyond a tilt of
  about 15-20 degrees: the image is also read turned by +-30 degrees, which covers the
  angles in between (only for linear formats: matrix codes are found at any angle);
- an image up to a page's size is also read enlarged 2x, for codes of one or two pixels
  per module (matrix codes only, for large images; every format for small ones);
- a short Interleaved 2 of 5 is dropped: the bars of other linear codes read as one.
Positions found in a turned or enlarged copy are mapped back to the image's pixels, and a
code seen by several passes is listed once. Synchronous and CPU-bound (tens of ms per
pass on a page): call it from a worker thread.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from desktop_ocr.core.codes import Code, Point

if TYPE_CHECKING:
    from PIL import Image

# Extra turns (degrees counter-clockwise) for codes at oblique angles.
EXTRA_ANGLES = (30.0, -30.0)
# Up to this many pixels on the longer side an image is also read enlarged (matrix codes
# only above SMALL_SIDE, every format below it).
UPSCALE_MAX_SIDE = 2500
SMALL_SIDE = 1200
UPSCALE = 2
ITF_MIN_DIGITS = 6



class CodesUnavailable(RuntimeError):
    pass


def _zxing():
    try:
        import zxingcpp
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise CodesUnavailable("The barcode reader is not installed (pip install zxing-cpp).") from exc
    return zxingcpp


def format_name(fmt: object) -> str:
    """What people call a format: zxing-cpp 3 names them so ("QR Code", "EAN-13")."""
    return str(fmt)


def read_codes(image: Image.Image, *, extra_angles: tuple[float, ...] = EXTRA_ANGLES) -> list[Code]:
    """Every barcode and QR code in `image`, top to bottom, positions in its pixels."""
    from PIL import Image

    zx = _zxing()
    gray = image.convert("L")
    w, h = gray.size
    side = max(w, h)
    linear = {"formats": zx.AllLinear, "try_invert": False}
    # (turn, scale, options): as it is; turned for tilted linear codes; enlarged for
    # matrix codes of one or two pixels per module (turned ones blur at that size)
    passes: list[tuple[float, float, dict]] = [(0.0, 1.0, {})]
    passes += [(a, 1.0, linear) for a in extra_angles]
    if side <= UPSCALE_MAX_SIDE:
        passes.append((0.0, UPSCALE, {} if side < SMALL_SIDE else {"formats": zx.AllMatrix}))
    if side < SMALL_SIDE:
        passes += [(a, UPSCALE, linear) for a in extra_angles]
    found: list[Code] = []
    for angle, scale, options in passes:
        img = gray
        if scale != 1.0:
            img = img.resize((round(w * scale), round(h * scale)), Image.Resampling.BICUBIC)
        if angle:
            img = img.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
        back = _mapper(angle, scale, (w * scale, h * scale), img.size)
        for b in zx.read_barcodes(img, **options):
            if not b.valid or not b.text or _implausible(b):
                continue
            p = b.position
            corners = tuple(back(q.x, q.y) for q in (p.top_left, p.top_right,
                                                       p.bottom_right, p.bottom_left))
            code = Code(format_name(b.format), b.text, corners)  # type: ignore[arg-type]
            if not any(_same(code, other) for other in found):
                found.append(code)
    found.sort(key=lambda c: (round(c.centre[1] / 20), c.centre[0]))
    return found


def _implausible(barcode) -> bool:
    """Interleaved 2 of 5 has no start pattern worth the name: the bars of another
    linear code often read as a short ITF. Real ITF codes carry 6 digits or more
    (ITF-14: 14)."""
    return str(barcode.format).startswith("ITF") and len(barcode.text) < ITF_MIN_DIGITS


def _mapper(angle: float, scale: float, size: tuple[float, float], turned: tuple[int, int]):
    """Maps a point of the enlarged-then-turned copy back to the original image."""
    t = math.radians(angle)
    cos, sin = math.cos(t), math.sin(t)
    cx, cy = size[0] / 2, size[1] / 2
    tx, ty = turned[0] / 2, turned[1] / 2

    def back(x: float, y: float) -> Point:
        dx, dy = x - tx, y - ty
        # PIL turns counter-clockwise as seen, in y-down pixels: undo that turn
        ox = cos * dx - sin * dy + cx
        oy = sin * dx + cos * dy + cy
        return ox / scale, oy / scale

    return back


def _same(a: Code, b: Code) -> bool:
    if a.format != b.format or a.text != b.text:
        return False
    ax0, ay0, ax1, ay1 = a.bbox
    size = max(ax1 - ax0, ay1 - ay0, 1.0)
    return math.dist(a.centre, b.centre) < size
