"""Thumbnails of the crops, for the History panel."""

from __future__ import annotations

import io
from typing import Any


def make_thumbnail(image: Any, max_side: int = 160, quality: int = 80) -> bytes:
    """A small JPEG of a Pillow image (the crop), for the History panel. Any thread."""
    from PIL import Image

    img = image
    if img.mode not in ("RGB", "L"):
        rgba = img.convert("RGBA")
        img = Image.new("RGB", rgba.size, (255, 255, 255))
        img.paste(rgba, mask=rgba.getchannel("A"))
    else:
        img = img.copy()
    img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, optimize=True)
    return buf.getvalue()


