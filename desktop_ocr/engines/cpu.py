"""Embedded CPU OCR: PP-OCR ONNX models run with onnxruntime, driven by RapidOCR's stages.

Nothing downloads at run time. The detection and recognition models are PP-OCRv6 small,
shipped inside the `rapidocr` (3.9+) wheel; the angle classifier and the stage code
(pre/post-processing, crops) come from the `rapidocr-onnxruntime` 1.4.4 wheel, whose own
PP-OCRv4 models are the fallback when rapidocr is not installed (`model_files`). We
drive the three stages ourselves rather than calling `RapidOCR.__call__` because we need:

- text in reading order, grouped into visual lines (receipt columns joined on one line)
  and paragraphs, instead of one box per line in detection order;
- recognition line by line, so the stream yields text while the page is still being read
  and a cancelled request stops between lines;
- the spaces the v4 Chinese+English model drops between Latin words
  ("YONGFATTENTERPRISE"). We restore them from geometry: the CTC decoder tells where each
  character sits in the line image, and the line's own ink tells where the blank gaps
  are (see `_restore_spaces`);
- small snips enlarged before they are read (`small_image_scale`).

All inference runs in one worker thread owned by the engine; onnxruntime releases the
GIL while it runs, and the pure-Python parts per line are small.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from desktop_ocr.core.contract import (
    BadImage,
    BadRequest,
    Cancelled,
    Chunk,
    EngineCrashed,
    EngineUnavailable,
    FinishReason,
    Health,
    Request,
)
from desktop_ocr.core.conversation import ASK_TASK
from desktop_ocr.core.layout import Layout
from desktop_ocr.core.messages import QT_TRANSLATE_NOOP, Text
from desktop_ocr.core.tasks import PRESETS, heuristic_fields

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

# Recognitions scored below this are mostly noise (texture, stamps); RapidOCR's default.
MIN_SCORE = 0.5

CPU_STOPPED = QT_TRANSLATE_NOOP("Messages", "The CPU OCR engine was stopped.")


def _unreadable(exc: Exception) -> Text:
    return Text(QT_TRANSLATE_NOOP("Messages", "The image could not be read: {why}"), why=str(exc))


@dataclass(frozen=True)
class TextBox:
    """One recognised text segment (a detection box: a word group on one visual line).

    `bbox` is axis-aligned, (x0, y0, x1, y1) in pixels of the image that was passed in,
    x1/y1 exclusive. `score` is the recogniser's mean character confidence (0..1).
    """

    text: str
    score: float
    bbox: tuple[int, int, int, int]


# ------------------------------------------------------------------ reading order


@dataclass
class _Seg:
    """A detected box on its way through grouping: where it is and how tall it is."""

    index: int
    x0: float
    x1: float
    y0: float  # top after deskew
    y1: float  # bottom after deskew

    @property
    def height(self) -> float:
        return max(1.0, self.y1 - self.y0)

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2


def page_skew(quads: Sequence[Sequence[Sequence[float]]]) -> float:
    """Median slope (dy/dx) of the long boxes' top edges: photos of receipts are tilted."""
    slopes = []
    for q in quads:
        (xa, ya), (xb, yb) = q[0], q[1]
        h = abs(q[3][1] - q[0][1])
        if xb - xa > 3 * max(h, 1):  # short boxes give noisy angles
            slopes.append((yb - ya) / (xb - xa))
    if not slopes:
        return 0.0
    slopes.sort()
    return slopes[len(slopes) // 2]


def group_lines(
    bboxes: Sequence[tuple[float, float, float, float]], skew: float = 0.0
) -> list[list[int]]:
    """Group boxes into visual lines in reading order; returns indices per line.

    Boxes share a line when their vertical extents (after removing the page skew)
    overlap by at least half of the smaller height and they do not overlap
    horizontally. Lines run top to bottom, boxes in a line left to right.
    """
    segs = []
    for i, (x0, y0, x1, y1) in enumerate(bboxes):
        shift = skew * (x0 + x1) / 2
        segs.append(_Seg(i, x0, x1, y0 - shift, y1 - shift))
    segs.sort(key=lambda s: (s.cy, s.x0))
    lines: list[list[_Seg]] = []
    for s in segs:
        best, best_ov = None, 0.0
        for line in lines[-8:]:  # only recent lines can still share a baseline
            top = sum(t.y0 for t in line) / len(line)
            bottom = sum(t.y1 for t in line) / len(line)
            ov = min(bottom, s.y1) - max(top, s.y0)
            need = 0.5 * min(bottom - top, s.height)
            if ov >= need and ov > best_ov and not any(
                min(t.x1, s.x1) - max(t.x0, s.x0) > 0.3 * min(t.x1 - t.x0, s.x1 - s.x0)
                for t in line
            ):
                best, best_ov = line, ov
        if best is None:
            lines.append([s])
        else:
            best.append(s)
    lines.sort(key=lambda line: sum(t.cy for t in line) / len(line))
    return [[t.index for t in sorted(line, key=lambda t: t.x0)] for line in lines]


def paragraph_breaks(
    bboxes: Sequence[tuple[float, float, float, float]], lines: Sequence[Sequence[int]]
) -> list[bool]:
    """For each line, whether a blank line (new paragraph) should precede it.

    A gap between two lines larger than the typical line height starts a paragraph.
    """
    if not lines:
        return []
    tops = [min(bboxes[i][1] for i in line) for line in lines]
    bottoms = [max(bboxes[i][3] for i in line) for line in lines]
    heights = sorted(
        bboxes[i][3] - bboxes[i][1] for line in lines for i in line
    )
    typical = heights[len(heights) // 2] if heights else 0
    out = [False]
    for k in range(1, len(lines)):
        out.append(tops[k] - bottoms[k - 1] > 1.0 * typical)
    return out


# ------------------------------------------------------------------ spaces


# Narrow glyphs sit in a wide cell in the monospaced fonts receipts use, so the blank
# beside them is wider than between two ordinary letters: ask for a wider gap there.
_NARROW = frozenset("1iIlj.,:;'!|")
NARROW_ALLOWANCE = 0.1
MONO_MIN_STEPS = 5
MONO_SPREAD = 0.4  # interquartile range of centre steps, relative to the median
MONO_SPACE_PITCHES = 1.3


def _is_latin(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _ink_profile(crop: np.ndarray) -> np.ndarray:
    """Per column of a line image: does it hold any ink? (Otsu, dark or light text)."""
    import cv2
    import numpy as np

    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    _, bw = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    if bw.mean() > 0.5:  # light text on a dark ground
        bw = 1 - bw
    # Ignore the top and bottom rows: unclipped boxes often clip a neighbour's strokes.
    h = bw.shape[0]
    band = bw[h // 6 : h - h // 6] if h >= 12 else bw
    return np.asarray(band.sum(axis=0) > 0)


def _restore_spaces(
    chars: list[tuple[str, float, float]],
    ink: np.ndarray | None,
    crop_h: int,
    gap_em: float,
) -> str:
    """Join decoded characters, adding a space between two Latin characters when the
    line image has a blank gap between them at least `gap_em` line-heights wide.

    `chars` holds (character, x_start, x_end) in crop pixels, from the CTC columns.
    """
    pitch = _mono_pitch(chars)
    out: list[str] = []
    for k, (ch, xs, _xe) in enumerate(chars):
        if k and ink is not None and ch != " " and out and out[-1] != " ":
            prev, pxs, pxe = chars[k - 1]
            if (_is_latin(prev) or prev in ".,:;)%") and (_is_latin(ch) or ch in "(@#$"):
                a = int(max(0, (pxs + pxe) / 2))
                b = int(min(len(ink), (xs + _xe) / 2 + 1))
                need = gap_em + (NARROW_ALLOWANCE if prev in _NARROW or ch in _NARROW else 0.0)
                # In a monospaced line a space is a whole empty cell: the characters'
                # centres are then about two pitches apart, whatever blank a narrow glyph leaves.
                wide = pitch is None or (xs + _xe - pxs - pxe) / 2 >= MONO_SPACE_PITCHES * pitch
                if wide and b > a and _longest_blank(ink[a:b]) >= need * crop_h:
                    out.append(" ")
        out.append(ch)
    return "".join(out)


def _mono_pitch(chars: list[tuple[str, float, float]]) -> float | None:
    """The character pitch of a line set in a monospaced font, or None when it is not."""
    centres = [(xs + xe) / 2 for ch, xs, xe in chars if ch != " "]
    steps = sorted(b - a for a, b in zip(centres, centres[1:], strict=False) if b > a)
    if len(steps) < MONO_MIN_STEPS:
        return None
    # Spaces make a few steps of two pitches; the middle half of the steps is one pitch.
    q1, med, q3 = steps[len(steps) // 4], steps[len(steps) // 2], steps[3 * len(steps) // 4]
    return med if med > 0 and (q3 - q1) / med <= MONO_SPREAD else None


def _longest_blank(cols: np.ndarray) -> int:
    best = run = 0
    for v in cols.tolist():
        run = 0 if v else run + 1
        best = max(best, run)
    return best


# ------------------------------------------------------------------ the models


def default_threads() -> int:
    """onnxruntime intra-op threads: leave one core to the GUI when there are few."""
    n = os.cpu_count() or 1
    return max(1, min(4, n - 1)) if n <= 4 else min(4, n // 2)


@dataclass
class _Line:
    """One visual line after detection: its boxes (indices) and whether it starts a paragraph."""

    indices: list[int]
    new_paragraph: bool


def _has_v6() -> bool:
    try:
        return bool(model_files("v6"))
    except EngineUnavailable:
        return False


def model_files(model_set: str) -> dict[str, str]:
    """RapidOCR keyword arguments naming the detection and recognition models of a set.

    "v4": the PP-OCRv4 mobile models bundled in rapidocr-onnxruntime (its defaults).
    "v6": the PP-OCRv6 small models shipped inside the `rapidocr` (3.9+) wheel, read from
          the installed distribution's files without importing that package. They read
          the corpus text images better on every measure (bench/cpu_accuracy.py --models
          v4,v6: cer_ci 0.098 vs 0.131, word F1 0.815 vs 0.656) and keep the spaces
          between Latin words that the v4 model drops. "auto" (the default) picks v6 when
          it is installed.
    """
    if model_set == "v4":
        return {}
    if model_set != "v6":
        raise ValueError(f"unknown model set {model_set!r}")
    from importlib import metadata

    try:
        dist = metadata.distribution("rapidocr")
    except metadata.PackageNotFoundError as exc:
        raise EngineUnavailable("The PP-OCRv6 models are not installed.",
                                hint="pip install 'rapidocr>=3.9'") from exc
    found = {f.name: str(dist.locate_file(f)) for f in dist.files or ()
             if f.name in ("PP-OCRv6_det_small.onnx", "PP-OCRv6_rec_small.onnx")}
    if len(found) < 2:
        raise EngineUnavailable("The PP-OCRv6 models are missing from the rapidocr install.")
    return {"det_model_path": found["PP-OCRv6_det_small.onnx"],
            "rec_model_path": found["PP-OCRv6_rec_small.onnx"]}


SMALL_SIDE = 600  # a snip or crop whose long side is below this is scaled up...
SMALL_TARGET = 1000  # ...to about this long side...
SMALL_MAX_SCALE = 4.0  # ...by at most this much


def small_image_scale(width: int, height: int) -> float:
    """How much to enlarge an image before reading it: a small snip's lines are only
    10-15 px high, too few for the recogniser (48 px input) to tell "antisense" from
    "TiSEGB"; enlarged, its crops carry the detail the detector and recogniser need."""
    side = max(width, height)
    if side <= 0 or side >= SMALL_SIDE:
        return 1.0
    return min(SMALL_MAX_SCALE, SMALL_TARGET / side)


class OcrModels:
    """The three PP-OCR ONNX sessions and the page pipeline.

    Safe to share between threads: calls are serialised by a lock, because RapidOCR's
    stages keep per-call state on themselves (the detector's resize op, for one).
    """

    def __init__(self, threads: int | None = None, gap_em: float = 0.2,
                 model_set: str = "auto") -> None:
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise EngineUnavailable(
                QT_TRANSLATE_NOOP("Messages", "The CPU OCR engine is not installed."),
                hint="Install rapidocr-onnxruntime (pip install rapidocr-onnxruntime==1.4.4).",
            ) from exc
        n = threads or default_threads()
        if model_set == "auto":
            model_set = "v6" if _has_v6() else "v4"
        paths = model_files(model_set)
        self._ocr = RapidOCR(intra_op_num_threads=n, inter_op_num_threads=1, **paths)
        self.model_set = model_set
        self.threads = n
        self.gap_em = gap_em
        self._chars: list[str] = self._ocr.text_rec.postprocess_op.character
        self._lock = threading.Lock()

    # -- stages

    def detect(self, image: Image.Image) -> tuple[list[np.ndarray], list[Any], list[_Line]]:
        """Find text boxes; return their crops, their quads in image pixels and the lines."""
        with self._lock:
            return self._detect(image)

    def _detect(self, image: Image.Image) -> tuple[list[np.ndarray], list[Any], list[_Line]]:
        ocr = self._ocr
        img = ocr.load_img(image)
        factor = small_image_scale(img.shape[1], img.shape[0])
        if factor > 1:
            import cv2

            img = cv2.resize(img, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
        raw_h, raw_w = img.shape[:2]
        op: dict[str, Any] = {}
        img, rh, rw = ocr.preprocess(img)
        op["preprocess"] = {"ratio_h": rh, "ratio_w": rw}
        img, op = ocr.maybe_add_letterbox(img, op)
        boxes, _ = ocr.text_det(img)
        if boxes is None or len(boxes) == 0:
            return [], [], []
        crops = ocr.get_crop_img_list(img, list(boxes))
        quads = (ocr._get_origin_points(list(boxes), op, raw_h, raw_w) / factor).tolist()
        bboxes = [_bbox(q) for q in quads]
        lines = group_lines(bboxes, page_skew(quads))
        paras = paragraph_breaks(bboxes, lines)
        return crops, quads, [_Line(ix, p) for ix, p in zip(lines, paras, strict=True)]

    def detect_quads(self, bgr: np.ndarray) -> list[Any]:
        """The detector alone on a BGR array: text quads in that array's pixels."""
        with self._lock:
            quads, _ = self._ocr.text_det(bgr)
        return [] if quads is None else list(quads)

    @property
    def det_side(self) -> int:
        """The short side the detector scales an image up to."""
        return int(self._ocr.text_det.limit_side_len)

    def recognise(self, crops: Sequence[np.ndarray]) -> list[tuple[str, float]]:
        """Orientation-fix and read a batch of line crops; spaces restored."""
        if not crops:
            return []
        with self._lock:
            return self._recognise(crops)

    def _recognise(self, crops: Sequence[np.ndarray]) -> list[tuple[str, float]]:
        crops, _, _ = self._ocr.text_cls(list(crops))
        # One crop per run: padding a short box to its line's widest one costs time and
        # loses short reads (a lone quantity "1" beside a long description).
        return [r for c in crops for r in self._rec_batch([c])]

    def _rec_batch(self, crops: Sequence[np.ndarray]) -> list[tuple[str, float]]:
        return [(text, score) for text, score, _ in self._rec_chars(crops)]

    def read_words(self, crop: np.ndarray, split_em: float = 0.9) -> tuple[list[Word], float]:
        """Read one upright line crop into words: the text (spaces restored) split at its
        spaces and at blanks wider than `split_em` line-heights (a gutter between two
        table cells the detector ran together), each with its x-extent in crop pixels."""
        with self._lock:
            text, score, chars = self._rec_chars([crop])[0]
        h = crop.shape[0]
        words: list[Word] = []
        cur: list[tuple[str, float, float]] = []
        j = 0
        for ch in text:
            if j < len(chars) and chars[j][0] == ch:
                span = chars[j]
                j += 1
            else:  # a space _restore_spaces put in
                span = None
            if ch == " " or span is None:
                if cur:
                    words.append(_word(cur))
                    cur = []
                continue
            if cur and span[1] - cur[-1][2] > split_em * h:
                words.append(_word(cur))
                cur = []
            cur.append(span)
        if cur:
            words.append(_word(cur))
        return words, score

    def _rec_chars(self, crops: Sequence[np.ndarray]) -> list[tuple[str, float, list[tuple[str, float, float]]]]:
        import numpy as np

        rec = self._ocr.text_rec
        ratios = [c.shape[1] / max(1, c.shape[0]) for c in crops]
        _, img_h, img_w = rec.rec_image_shape
        max_ratio = max([img_w / img_h, *ratios])
        batch = np.stack([rec.resize_norm_img(c, max_ratio) for c in crops]).astype(np.float32)
        preds = rec.session(batch)[0]
        cols = preds.shape[1]
        stride = batch.shape[3] / cols  # input pixels per CTC column
        out = []
        for crop, ratio, pred in zip(crops, ratios, preds, strict=True):
            h, w = crop.shape[:2]
            resized_w = min(batch.shape[3], math.ceil(img_h * ratio))
            scale = w / max(1, resized_w)  # crop pixels per input pixel
            chars, score = self._ctc(pred, stride * scale)
            ink = _ink_profile(crop) if any(_is_latin(c) for c, _, _ in chars) else None
            out.append((_restore_spaces(chars, ink, h, self.gap_em), score, chars))
        return out

    def _ctc(self, pred: np.ndarray, px: float) -> tuple[list[tuple[str, float, float]], float]:
        """Greedy CTC decode keeping each character's span in crop pixels."""
        import numpy as np

        idx = pred.argmax(axis=1)
        prob = pred.max(axis=1)
        keep = idx != 0
        keep[1:] &= idx[1:] != idx[:-1]
        starts = np.flatnonzero(keep)
        if len(starts) == 0:
            return [], 0.0
        # A character's run ends where its index changes.
        change = np.flatnonzero(np.diff(idx) != 0)
        chars = []
        for t in starts.tolist():
            nxt = change[np.searchsorted(change, t)] if change.size and change[-1] >= t else len(idx) - 1
            chars.append((self._chars[idx[t]], t * px, (nxt + 1) * px))
        return chars, float(prob[starts].mean())

    # -- whole pages

    def iter_lines(self, image: Image.Image) -> Iterator[tuple[_Line, list[TextBox]]]:
        """Detect, then read line by line in reading order."""
        crops, quads, lines = self.detect(image)
        for line in lines:
            yield line, self.read_line(crops, quads, line)

    def read_line(self, crops: Sequence[np.ndarray], quads: Sequence[Any], line: _Line) -> list[TextBox]:
        """Recognise one line's boxes (one batch); drop empty and low-confidence reads."""
        results = self.recognise([crops[i] for i in line.indices])
        return [
            TextBox(text.strip(), score, _bbox_int(quads[i]))
            for i, (text, score) in zip(line.indices, results, strict=True)
            if score >= MIN_SCORE and text.strip()
        ]


@dataclass(frozen=True)
class Word:
    """A word of a read line: its text and x-extent [x0, x1) in the crop's pixels."""

    text: str
    x0: float
    x1: float


def _word(chars: list[tuple[str, float, float]]) -> Word:
    return Word("".join(c for c, _, _ in chars), chars[0][1], chars[-1][2])


def _bbox(q: Sequence[Sequence[float]]) -> tuple[float, float, float, float]:
    xs = [p[0] for p in q]
    ys = [p[1] for p in q]
    return min(xs), min(ys), max(xs), max(ys)


def _bbox_int(q: Sequence[Sequence[float]]) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = _bbox(q)
    return int(math.floor(x0)), int(math.floor(y0)), int(math.ceil(x1)), int(math.ceil(y1))


_shared: OcrModels | None = None
_shared_lock = threading.Lock()


def shared_models() -> OcrModels:
    """One lazily built set of sessions per process (they hold ~100 MB)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = OcrModels()
        return _shared


def recognize_boxes(image: Image.Image, models: OcrModels | None = None, *,
                    should_stop: Callable[[], bool] | None = None) -> list[TextBox]:
    """Synchronous: every recognised segment of `image`, in reading order. Blocks (seconds):
    call it from a worker thread, never from an event loop. `should_stop()` is asked
    between lines: true raises Cancelled (a background reading nobody needs any more)."""
    m = models or shared_models()
    out: list[TextBox] = []
    for _, boxes in m.iter_lines(image):
        if should_stop is not None and should_stop():
            raise Cancelled("The reading was cancelled.")
        out += boxes
    return out


def recognize_layout(image: Image.Image, models: OcrModels | None = None, *,
                     should_stop: Callable[[], bool] | None = None) -> Layout:
    """Synchronous: `recognize_boxes` as plain data for core/ (the searchable PDF's
    positions, the doubtful-words check): the image's size and its segments' boxes."""
    boxes = recognize_boxes(image, models, should_stop=should_stop)
    return Layout.of(image.size, ((b.text, b.bbox, b.score) for b in boxes))


def recognize_text(image: Image.Image, models: OcrModels | None = None) -> str:
    """Synchronous: the whole text as the engine streams it (lines, blank line between paragraphs)."""
    m = models or shared_models()
    return "".join(_line_text(line, boxes, first=k == 0) for k, (line, boxes) in enumerate(m.iter_lines(image)))


def _line_text(line: _Line, boxes: list[TextBox], first: bool) -> str:
    if not boxes:
        return ""
    text = " ".join(b.text for b in boxes) + "\n"
    return ("\n" + text) if line.new_paragraph and not first else text


# ------------------------------------------------------------------ the engine


def _cpu_mode(task: str) -> str:
    """What this engine does for a task (core.tasks decides; unknown tasks read as text)."""
    preset = PRESETS.get(task)
    return preset.cpu.mode if preset is not None else "text"


class CpuEngine:
    """Engine protocol over `OcrModels`; all inference in one worker thread."""

    name = "cpu"
    model = "PP-OCR (RapidOCR)"
    max_concurrency = 1

    def __init__(self, models: OcrModels | None = None) -> None:
        # None: the process-wide models of `shared_models()`, loaded on first start().
        self._given = models
        self._models: OcrModels | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._state = "stopped"
        self._message = ""
        self._start_lock = asyncio.Lock()
        self._run_lock = asyncio.Lock()

    async def start(self) -> None:
        async with self._start_lock:
            if self._models is not None:
                return
            self._state = "starting"
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="cpu-ocr")
            loop = asyncio.get_running_loop()
            try:
                self._models = await loop.run_in_executor(self._executor, self._load)
            except EngineUnavailable as exc:
                self._state, self._message = "failed", str(exc)
                raise
            except Exception as exc:
                self._state, self._message = "failed", f"{type(exc).__name__}: {exc}"
                raise EngineUnavailable(
                    QT_TRANSLATE_NOOP("Messages", "The CPU OCR models could not be loaded."), hint=str(exc)
                ) from exc
            self._state, self._message = "ready", ""

    def _load(self) -> OcrModels:
        return self._given or shared_models()

    async def stop(self) -> None:
        async with self._start_lock:
            ex, self._executor = self._executor, None
            self._models = None
            self._state, self._message = "stopped", ""
        if ex is not None:
            # Don't block the loop on a line still being read: it finishes on its own.
            ex.shutdown(wait=False, cancel_futures=True)

    async def health(self) -> Health:
        details: dict[str, Any] = {}
        if self._models is not None:
            details["threads"] = self._models.threads
        return Health(self._state == "ready", self._state, self._message, details)

    async def _stream_table(self, request: Request, loop: asyncio.AbstractEventLoop,
                            executor: ThreadPoolExecutor) -> AsyncIterator[Chunk]:
        """The table task: a grid rebuilt from the boxes, sent row by row so a grid fills live."""
        from desktop_ocr.engines.cpu_table import recognize_table

        try:
            html = await loop.run_in_executor(executor, recognize_table, request.image)
        except (MemoryError, ValueError, OSError) as exc:
            raise BadImage(_unreadable(exc)) from exc
        except RuntimeError as exc:
            raise EngineCrashed(f"The CPU table recogniser failed: {exc}") from exc
        for piece in re.split(r"(?<=</tr>)", html):
            if piece:
                yield Chunk(piece)
        yield Chunk("", FinishReason.STOP)

    async def _stream_codes(self, request: Request, loop: asyncio.AbstractEventLoop,
                            executor: ThreadPoolExecutor) -> AsyncIterator[Chunk]:
        """The codes task: every barcode and QR code, as the JSON list of core/codes.py."""
        from desktop_ocr.core.codes import codes_to_text
        from desktop_ocr.engines.codes import CodesUnavailable, read_codes

        try:
            codes = await loop.run_in_executor(executor, read_codes, request.image)
        except CodesUnavailable as exc:
            raise EngineUnavailable(str(exc)) from exc
        except (MemoryError, ValueError, OSError) as exc:
            raise BadImage(_unreadable(exc)) from exc
        yield Chunk(codes_to_text(codes))
        yield Chunk("", FinishReason.STOP, info={"codes": [c.to_dict() for c in codes]})

    async def stream(self, request: Request) -> AsyncIterator[Chunk]:
        if request.task == ASK_TASK or request.history:
            raise BadRequest(QT_TRANSLATE_NOOP(
                "Messages", "The CPU engine reads text; it cannot answer questions about an image."),
                hint=QT_TRANSLATE_NOOP("Messages", "Choose the local InternVL3 or a remote server to ask questions."))
        await self.start()
        models, executor = self._models, self._executor
        if models is None or executor is None:
            raise EngineUnavailable(CPU_STOPPED)
        loop = asyncio.get_running_loop()
        # Each line is one executor job, so a cancelled consumer stops us between lines:
        # the line in flight finishes in the worker and nothing else is scheduled.
        mode = _cpu_mode(request.task)
        if mode == "unsupported":
            raise BadRequest(Text(QT_TRANSLATE_NOOP("Messages", "The CPU engine cannot do the task {task!r}."),
                                  task=request.task),
                             hint=QT_TRANSLATE_NOOP("Messages", "Choose the local InternVL3 or a remote server for it."))
        async with self._run_lock:
            if mode == "codes":
                async for chunk in self._stream_codes(request, loop, executor):
                    yield chunk
                return
            if mode == "table":
                async for chunk in self._stream_table(request, loop, executor):
                    yield chunk
                return
            lines_seen: list[str] = []
            boxes_seen: list[TextBox] = []
            try:
                try:
                    crops, quads, lines = await loop.run_in_executor(
                        executor, models.detect, request.image
                    )
                except (MemoryError, ValueError, OSError) as exc:
                    raise BadImage(_unreadable(exc)) from exc
                first = True
                for line in lines:
                    boxes = await loop.run_in_executor(
                        executor, models.read_line, crops, quads, line
                    )
                    boxes_seen += boxes
                    text = _line_text(line, boxes, first)
                    if text:
                        first = False
                        if mode == "fields":
                            lines_seen.append(text)
                        else:
                            yield Chunk(text)
                if mode == "fields":
                    fields = heuristic_fields([ln for t in lines_seen for ln in t.splitlines()])
                    yield Chunk(json.dumps(fields, ensure_ascii=False, indent=2))
                # Where the text sits, for the searchable PDF and the doubtful-words check
                # (PartResult.extra["layout"]): no second CPU pass for a CPU result.
                layout = Layout.of(request.image.size,
                                   ((b.text, b.bbox, b.score) for b in boxes_seen))
                yield Chunk("", FinishReason.STOP, info={"layout": layout.to_dict()})
            except RuntimeError as exc:
                if "shutdown" in str(exc):
                    raise EngineUnavailable(CPU_STOPPED) from exc
                raise EngineCrashed(f"The CPU OCR engine failed: {exc}") from exc
