"""Open, validate and normalise raster images before any engine sees them.

Every image the app recognises passes through `load_image` (files) or `normalize`
(in-memory images such as clipboard pastes and rendered PDF pages): damaged, truncated,
empty and oversized inputs are refused here with a plain message, so no engine ever
gets half an image (LMDeploy decodes truncated images silently).
"""

from __future__ import annotations

import base64
import io
import math
import warnings
from pathlib import Path

from PIL import Image, ImageChops, ImageFile, ImageOps, UnidentifiedImageError

from desktop_ocr.core.contract import DECODING

# Above this many pixels we refuse instead of decoding: a 30,000 x 30,000 header would
# otherwise ask for 2.7 GB of RGB. 180 MP is an A0 sheet at 300 dpi with room to spare.
MAX_PIXELS = 180_000_000

# Pillow raises DecompressionBombError at 2 x MAX_IMAGE_PIXELS and warns above it; make
# its threshold ours so the check happens while reading the header, before any decode.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS // 2
ImageFile.LOAD_TRUNCATED_IMAGES = False

IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".jpe", ".tif", ".tiff", ".bmp", ".dib", ".webp", ".gif",
     ".ppm", ".pgm", ".pbm", ".pnm", ".jp2", ".j2k", ".ico", ".tga"}
)


class ImageError(ValueError):
    """An image that cannot be used; `str()` is the message shown to the user."""


def check_size(width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise ImageError("The image has no pixels.")
    if width * height > MAX_PIXELS:
        raise ImageError(
            f"The image is too large ({width:,} x {height:,} pixels; the limit is "
            f"{MAX_PIXELS // 1_000_000} megapixels). Scale it down or crop it first."
        )


def check_file(path: Path, error: type[Exception] = ImageError) -> None:
    """Raise `error` with a plain message unless `path` is a readable, non-empty file."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise error("The file does not exist.") from None
    except PermissionError:
        raise error("The file cannot be read (permission denied).") from None
    except OSError as exc:
        raise error(f"The file cannot be read ({exc.strerror or exc}).") from None
    if path.is_dir():
        raise error("That is a folder, not a file.")
    if size == 0:
        raise error("The file is empty (0 bytes).")
    try:
        with path.open("rb"):
            pass
    except PermissionError:
        raise error("The file cannot be read (permission denied).") from None
    except OSError as exc:
        raise error(f"The file cannot be read ({exc.strerror or exc}).") from None


def open_checked(source: Path | bytes) -> Image.Image:
    """Open (not decode) an image and check its header, raising ImageError."""
    if isinstance(source, (bytes, bytearray)):
        if not source:
            raise ImageError("The image is empty (0 bytes).")
        fp: io.BytesIO | Path = io.BytesIO(source)
    else:
        check_file(source)
        fp = source
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(fp)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(
            "The image is too large (its header claims more than "
            f"{MAX_PIXELS // 1_000_000} megapixels). Scale it down or crop it first."
        ) from None
    except UnidentifiedImageError:
        raise ImageError("This is not an image file, or its format is not supported.") from None
    except OSError as exc:
        raise ImageError(f"The image is damaged and cannot be opened ({exc}).") from None
    except Exception as exc:  # Pillow plugins raise assorted errors on fuzzed headers
        raise ImageError(f"The image is damaged and cannot be opened ({exc}).") from None
    check_size(*img.size)
    return img


def decode(img: Image.Image) -> Image.Image:
    """Fully decode the current frame; truncated or corrupt data raises ImageError."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError("The image is too large to process.") from None
    except OSError as exc:
        text = str(exc)
        if "truncated" in text.lower() or "end of file" in text.lower():
            raise ImageError("The image file is truncated (incomplete download or copy?).") from None
        raise ImageError(f"The image is damaged and cannot be decoded ({text}).") from None
    except (ValueError, SyntaxError, IndexError, EOFError) as exc:
        raise ImageError(f"The image is damaged and cannot be decoded ({exc}).") from None
    except MemoryError:
        raise ImageError("Not enough memory to decode this image.") from None
    return img


def normalize(img: Image.Image) -> Image.Image:
    """EXIF-rotate, convert to RGB, flatten transparency onto white."""
    check_size(*img.size)
    img = ImageOps.exif_transpose(img) or img
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in ("LA", "La", "PA"):
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "RGBa"):
        background = Image.new("RGB", img.size, (255, 255, 255))
        background.paste(img, mask=img.getchannel("A"))
        return background
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale: scale to 8 bits instead of clipping everything to white.
        img = img.point(lambda v: v / 256).convert("L")
    if img.mode == "F":
        img = img.convert("L")
    if img.mode != "RGB":
        img = img.convert("RGB")  # CMYK (with its inversion handled by Pillow), L, 1, YCbCr
    return img


def load_image(source: Path | str | bytes, frame: int = 0) -> Image.Image:
    """Open, validate, decode and normalise one frame of an image file or buffer."""
    if isinstance(source, str):
        source = Path(source)
    img = open_checked(source)
    if frame:
        try:
            img.seek(frame)
        except EOFError:
            raise ImageError(f"The image has no frame {frame + 1}.") from None
    return normalize(decode(img))


def frame_count(source: Path | str | bytes) -> int:
    img = open_checked(Path(source) if isinstance(source, str) else source)
    return max(1, getattr(img, "n_frames", 1))


# ---------------------------------------------------------------- preparing images for a VLM

# InternVL3 cuts an image into 448x448 tiles (at most max_dynamic_patch of them, plus a
# thumbnail tile). Pixels beyond what those tiles can hold are resized away by the server,
# so sending them only costs bandwidth and decode time.
TILE_SIDE = 448
# Fewer distinct colours than this in a thumbnail means screenshot / line art / clean
# scan: PNG keeps its hard edges exactly. More means a photo or noisy scan: JPEG is a
# fraction of the size and its artefacts are far below what OCR notices at quality 90.
PNG_MAX_COLOURS = 256
JPEG_QUALITY = 90
# Grey text pages keep this many evenly spaced levels (error at most 8/255 per pixel, not
# visible even zoomed in); as a 4-bit palette PNG that is well under half the 8-bit size,
# because zlib no longer has to spell out the noise in antialiased edges.
GREY_LEVELS = 16
# Colour flat content (coloured text, screenshots) goes out as an 8-bit palette PNG;
# "max coverage" keeps the most used colours: on text pages the largest error is 1-2
# levels per channel (median cut: up to 9), and it is twice as fast.
PALETTE_COLOURS = 256


def tile_budget_side(max_dynamic_patch: int) -> int:
    """Longest side (pixels) that `max_dynamic_patch` tiles can make use of."""
    tiles = max(1, min(int(max_dynamic_patch), 64))
    return round(TILE_SIDE * math.sqrt(tiles))


def prescale(img: Image.Image, max_dynamic_patch: int = DECODING.max_dynamic_patch) -> Image.Image:
    """Shrink (never enlarge) so the longest side fits the tile budget."""
    limit = tile_budget_side(max_dynamic_patch)
    longest = max(img.size)
    if longest <= limit:
        return img
    scale = limit / longest
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def choose_format(img: Image.Image) -> str:
    """"PNG" for flat-colour content (screenshots, clean text), "JPEG" for photos and scans."""
    thumb = img.copy()
    thumb.thumbnail((256, 256), Image.Resampling.NEAREST)  # NEAREST: no blended new colours
    colours = thumb.getcolors(maxcolors=PNG_MAX_COLOURS)
    return "PNG" if colours is not None else "JPEG"


def is_grey(img: Image.Image) -> bool:
    """True when every pixel has R == G == B (exactly: converting to L loses nothing)."""
    if img.mode in ("L", "1"):
        return True
    if img.mode != "RGB":
        return False
    r, g, b = img.split()
    return ImageChops.difference(r, g).getbbox() is None and ImageChops.difference(g, b).getbbox() is None


def palette_png(img: Image.Image) -> Image.Image:
    """A palette ("P") image for PNG: GREY_LEVELS levels for "L", PALETTE_COLOURS for RGB."""
    if img.mode == "L":
        step = 255 / (GREY_LEVELS - 1)
        indexed = img.point([round(v / step) for v in range(256)])
        indexed.putpalette([round(i * step) for i in range(GREY_LEVELS) for _ in range(3)])
        return indexed
    return img.quantize(PALETTE_COLOURS, method=Image.Quantize.MAXCOVERAGE)


def encode_for_vlm(img: Image.Image, max_dynamic_patch: int = DECODING.max_dynamic_patch) -> tuple[bytes, str]:
    """Prescale and encode an RGB image; returns (bytes, MIME type)."""
    img = prescale(img, max_dynamic_patch)
    if img.mode != "RGB":
        img = normalize(img)
    fmt = choose_format(img)
    if is_grey(img):
        img = img.convert("L")  # a third of the samples for the same pixels (most scans)
    buf = io.BytesIO()
    if fmt == "PNG":
        palette_png(img).save(buf, format="PNG", optimize=False, compress_level=6)
        return buf.getvalue(), "image/png"
    # optimize=True needs the whole image in one output block (Pillow: "Suspension not
    # allowed here" on noisy images otherwise). 4:2:0 chroma: OCR reads luminance.
    img.save(buf, format="JPEG", quality=JPEG_QUALITY, optimize=True,
             bufsize=max(65536, img.width * img.height * 3))
    return buf.getvalue(), "image/jpeg"


def to_data_url(img: Image.Image, max_dynamic_patch: int = DECODING.max_dynamic_patch) -> str:
    """The `data:` URL LMDeploy accepts (it refuses http URLs to loopback addresses)."""
    data, mime = encode_for_vlm(img, max_dynamic_patch)
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
