"""Receipt key fields of the CPU engine: per-field accuracy against the corpus's fields.json.

Runs the CPU engine's `fields` task (OCR, then `core.tasks.heuristic_fields`) on every
corpus receipt that has `gt_fields`, and scores vendor, date and total:
  vendor  equal to `company` after case-folding and dropping punctuation and spaces
  date    the same calendar day as `date` (ours is ISO when unambiguous, else as printed;
          the SROIE receipts are Malaysian, so their own dates read day first)
  total   the same amount as `total` once its currency sign is dropped ("$8.20", "RM20.40")
In the same process the same heuristics run on the receipts' exact transcripts (.gt.txt,
one annotated box per line): what the field rules get when the OCR is perfect.

    python bench/receipt_fields.py [--text DIR]   (DIR: <stem>.txt files already recognised)
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CORPUS = ROOT.parent / "shared" / "corpus"

from PIL import Image  # noqa: E402

from desktop_ocr.core.contract import Request, collect  # noqa: E402
from desktop_ocr.core.tasks import heuristic_fields, parse_fields  # noqa: E402

FIELDS = ("vendor", "date", "total")
_MON = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _day(text: str | None, day_first: bool = True) -> dt.date | None:
    """An independent reading of the dates the corpus and our output use."""
    if not text:
        return None
    s = text.strip().lower()
    try:
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", s):
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        if m := re.fullmatch(r"(\d{1,2})\s*([a-z]{3})[a-z]*\s*(\d{2,4})", s):
            y = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
            return dt.date(y, _MON.index(m[2]) + 1, int(m[1]))
        if m := re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{2,4})", s):
            y = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
            a, b = int(m[1]), int(m[2])
            return dt.date(y, b, a) if day_first else dt.date(y, a, b)
    except ValueError:
        return None
    return None


def _norm(s: str | None) -> str:
    return re.sub(r"[\W_]+", "", (s or "").casefold())


def _amount(s: object) -> float | None:
    if s is None:
        return None
    if isinstance(s, (int, float)):
        return float(s)
    digits = re.sub(r"[^\d.]", "", str(s))
    try:
        return float(digits)
    except ValueError:
        return None


def score(got: dict, gt: dict) -> dict[str, bool]:
    a, b = _amount(got.get("total")), _amount(gt.get("total"))
    return {
        "vendor": bool(got.get("vendor")) and _norm(got.get("vendor")) == _norm(gt.get("company")),
        "date": got.get("date") is not None and (
            _norm(got["date"]) == _norm(gt.get("date")) or
            (_day(got["date"]) is not None and _day(got["date"]) == _day(gt.get("date")))),
        "total": a is not None and b is not None and abs(a - b) < 0.005,
    }


async def _recognise(items: list[dict]) -> tuple[list[dict], float]:
    from desktop_ocr.engines.cpu import CpuEngine, OcrModels

    engine = CpuEngine(OcrModels())
    await engine.start()
    out, t0 = [], time.perf_counter()
    for it in items:
        image = Image.open(CORPUS / "files" / it["file"]).convert("RGB")
        text, _ = await collect(engine, Request(image, task="fields", label=it["file"]))
        out.append(parse_fields(text) or {})
    seconds = (time.perf_counter() - t0) / max(1, len(items))
    await engine.stop()
    return out, seconds


def _report(name: str, items: list[dict], got: list[dict]) -> dict[str, float]:
    hits = {f: 0 for f in FIELDS}
    print(f"\n{name}")
    for it, g in zip(items, got, strict=True):
        gt = json.loads((CORPUS / "files" / it["gt_fields"]).read_text(encoding="utf-8"))
        s = score(g, gt)
        for f in FIELDS:
            hits[f] += s[f]
        marks = " ".join(f"{f}:{'ok' if s[f] else '--'}" for f in FIELDS)
        print(f"  {it['file']:<26} {marks}   vendor={g.get('vendor')!r} date={g.get('date')!r} "
              f"total={g.get('total')!r}")
    acc = {f: hits[f] / len(items) for f in FIELDS}
    print(f"  accuracy, n={len(items)}: " + ", ".join(f"{f} {acc[f]:.3f}" for f in FIELDS))
    return acc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--text", type=Path, help="score the heuristics on these recognised texts "
                    "(<stem>.txt) instead of running the engine")
    args = ap.parse_args()
    manifest = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
    items = [it for it in manifest["items"] if it.get("gt_fields")]
    if args.text:
        got = [heuristic_fields((args.text / (Path(it["file"]).stem + ".txt"))
                                .read_text(encoding="utf-8").splitlines()) for it in items]
        seconds = None
    else:
        got, seconds = asyncio.run(_recognise(items))
    ours = _report("CPU engine, fields task" if not args.text else f"heuristics on {args.text}",
                   items, got)
    exact = [heuristic_fields((CORPUS / "files" / it["gt_text"]).read_text(encoding="utf-8")
                              .splitlines()) for it in items]
    ceiling = _report("same heuristics on the exact transcripts (.gt.txt)", items, exact)
    print("\nper-field accuracy, ours (exact transcripts): " + ", ".join(
        f"{f} {ours[f]:.3f} ({ceiling[f]:.3f})" for f in FIELDS))
    if seconds is not None:
        print(f"s / receipt {seconds:.2f}")


if __name__ == "__main__":
    main()
