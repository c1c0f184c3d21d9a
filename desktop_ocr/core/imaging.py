"""Open, validate and normalise raster images before any engine sees them.

Every image the app recognises passes through `load_image` (files) or `normalize`
(in-memory images such as clipboard pastes and rendered PDF pages): damaged, truncated,
empty and oversized inputs are refused here with a plain message, so no engine ever
gets half an image (LMDeploy decodes truncated images silently).
"""

from __future__ import annotations

import base64
import io
import logging
import math
import re
import threading
import warnings
from pathlib import Path

from PIL import Image, ImageChops, ImageFile, ImageOps, UnidentifiedImageError

from desktop_ocr.core.contract import DECODING
from desktop_ocr.core.messages import QT_TRANSLATE_NOOP, Text

# The one pixel limit, for image files, pastes and rendered pages alike: an A0 sheet
# scanned at 300 dpi (9933 x 14043 = 139.5 MP) fits; a 30,000 x 30,000 header (2.7 GB of
# RGB before any check) does not. Decoding one at the limit takes ~600 MB.
MAX_PIXELS = 150_000_000
LIMIT_TEXT = Text(QT_TRANSLATE_NOOP("Messages", "the limit is {mp} megapixels"),
                  mp=MAX_PIXELS // 1_000_000)

# Pillow warns above MAX_IMAGE_PIXELS (and raises at twice that); open_checked turns its
# warning into our refusal, so the check happens on the header, before any decode, and
# at exactly MAX_PIXELS.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
ImageFile.LOAD_TRUNCATED_IMAGES = False
log = logging.getLogger(__name__)


def _route_libtiff_errors() -> None:
    """libtiff prints its errors ("Fax4Decode: Bad code word ...") on stderr itself;
    Pillow then raises an OSError we turn into one plain line. Send libtiff's text to the
    log instead. Best effort: where Pillow's libtiff cannot be reached, nothing changes."""
    global _tiff_handler
    try:
        import ctypes

        from PIL import _imaging

        # dlsym through _imaging finds the libtiff Pillow itself links (wheels bundle one).
        set_handler = ctypes.CDLL(_imaging.__file__).TIFFSetErrorHandler
    except (ImportError, OSError, AttributeError):
        return
    handler_type = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p)

    def on_error(module: bytes | None, fmt: bytes | None, _args: int | None) -> None:
        # The va_list is left alone (its layout is the ABI's): the format names the fault.
        name = (module or b"").decode("utf-8", "replace")
        log.info("libtiff: %s: %s", name, (fmt or b"").decode("utf-8", "replace"))
        seen = getattr(_tiff_errors, "names", None)
        if seen is not None:
            seen.append(name or "error")

    _tiff_handler = handler_type(on_error)  # kept alive: libtiff holds the pointer
    set_handler.restype = ctypes.c_void_p
    set_handler.argtypes = [handler_type]
    set_handler(_tiff_handler)


_tiff_handler = None
# Per thread: the libtiff errors of the decode running there (decode() reads them; Pillow
# may hand back garbled rows after one, which no engine should see).
_tiff_errors = threading.local()
_route_libtiff_errors()

IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".jpe", ".tif", ".tiff", ".bmp", ".dib", ".webp", ".gif",
     ".ppm", ".pgm", ".pbm", ".pnm", ".jp2", ".j2k", ".ico", ".tga"}
)


class ImageError(ValueError):
    """An image that cannot be used; `str()` is the message shown to the user."""


NO_PERMISSION = QT_TRANSLATE_NOOP("Messages", "The file cannot be read (permission denied).")
EMPTY_FILE = QT_TRANSLATE_NOOP("Messages", "The file is empty (0 bytes).")


def unreadable_file(exc: OSError) -> Text:
    return Text(QT_TRANSLATE_NOOP("Messages", "The file cannot be read ({why})."),
                why=str(exc.strerror or exc))


def _undecodable(why: str) -> Text:
    return Text(QT_TRANSLATE_NOOP("Messages", "The image is damaged and cannot be decoded ({why})."),
                why=why)


def check_size(width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise ImageError(QT_TRANSLATE_NOOP("Messages", "The image has no pixels."))
    if width * height > MAX_PIXELS:
        raise ImageError(Text(QT_TRANSLATE_NOOP(
            "Messages", "The image is too large ({width:,} x {height:,} pixels; {limit}). "
                        "Scale it down or crop it first."), width=width, height=height, limit=LIMIT_TEXT))


def check_file(path: Path, error: type[Exception] = ImageError) -> None:
    """Raise `error` with a plain message unless `path` is a readable, non-empty file."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise error(QT_TRANSLATE_NOOP("Messages", "The file does not exist.")) from None
    except PermissionError:
        raise error(NO_PERMISSION) from None
    except OSError as exc:
        raise error(unreadable_file(exc)) from None
    if path.is_dir():
        raise error(QT_TRANSLATE_NOOP("Messages", "That is a folder, not a file."))
    if size == 0:
        raise error(EMPTY_FILE)
    try:
        with path.open("rb"):
            pass
    except PermissionError:
        raise error(NO_PERMISSION) from None
    except OSError as exc:
        raise error(unreadable_file(exc)) from None


def open_checked(source: Path | bytes) -> Image.Image:
    """Open (not decode) an image and check its header, raising ImageError."""
    if isinstance(source, (bytes, bytearray)):
        if not source:
            raise ImageError(QT_TRANSLATE_NOOP("Messages", "The image is empty (0 bytes)."))
        fp: io.BytesIO | Path = io.BytesIO(source)
    else:
        check_file(source)
        fp = source
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(fp)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(Text(QT_TRANSLATE_NOOP(
            "Messages", "The image is too large (its header claims more pixels than that; "
                        "{limit}). Scale it down or crop it first."), limit=LIMIT_TEXT)) from None
    except UnidentifiedImageError:
        raise ImageError(QT_TRANSLATE_NOOP(
            "Messages", "This is not an image file, or its format is not supported.")) from None
    except OSError as exc:
        raise ImageError(Text(QT_TRANSLATE_NOOP(
            "Messages", "The image is damaged and cannot be opened ({why})."), why=str(exc))) from None
    except Exception as exc:  # Pillow plugins raise assorted errors on fuzzed headers
        # KeyError(320) or b'\x01' says nothing to a user; a sentence from Pillow does.
        if re.search(r"[A-Za-z]{4}", str(exc)):
            raise ImageError(Text(QT_TRANSLATE_NOOP(
                "Messages", "The image is damaged and cannot be opened ({why})."), why=str(exc))) from None
        raise ImageError(QT_TRANSLATE_NOOP(
            "Messages", "The image is damaged and cannot be opened.")) from None
    check_size(*img.size)
    return img


def decode(img: Image.Image) -> Image.Image:
    """Fully decode the current frame; truncated or corrupt data raises ImageError."""
    _tiff_errors.names = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img.load()
        failed = list(_tiff_errors.names)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(Text(QT_TRANSLATE_NOOP(
            "Messages", "The image is too large to process ({limit})."), limit=LIMIT_TEXT)) from None
    except OSError as exc:
        text = str(exc)
        if "truncated" in text.lower() or "end of file" in text.lower():
            raise ImageError(QT_TRANSLATE_NOOP(
                "Messages", "The image file is truncated (incomplete download or copy?).")) from None
        raise ImageError(_undecodable(text)) from None
    except (ValueError, SyntaxError, IndexError, EOFError) as exc:
        raise ImageError(_undecodable(str(exc))) from None
    except MemoryError:
        raise ImageError(QT_TRANSLATE_NOOP("Messages", "Not enough memory to decode this image.")) from None
    finally:
        _tiff_errors.names = None
    if failed:
        raise ImageError(_undecodable(f"libtiff: {failed[0]}"))
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
            raise ImageError(Text(QT_TRANSLATE_NOOP("Messages", "The image has no frame {n}."),
                                  n=frame + 1)) from None
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
