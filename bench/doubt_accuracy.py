"""Doubtful words: how many injected errors are marked and how many correct words are not.

Every corpus text and table image with ground truth (zh-pdfpage-3854 left out: its image
shows the PDF's broken font, not its ground truth) is read by the CPU engine once; its
ground truth with errors injected (tests/core/doubt_data.py, seeds 0..N-1, 10 % of words)
plays the VLM's text. Prints recall (injected errors marked) and false alarms (correct
words marked) per kind, for the shipped confidence rule (CPU boxes below
core.doubt.CONFIDENT contradict nothing) and, as the baseline in the same run, for every
CPU box allowed to contradict (min_score=0).

    python bench/doubt_accuracy.py [--seeds 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "core"))

from corpus_data import CORPUS, corpus_items  # noqa: E402
from doubt_data import inject, scores  # noqa: E402
from PIL import Image  # noqa: E402

from desktop_ocr.core.doubt import CONFIDENT, find_doubts  # noqa: E402
from desktop_ocr.engines.cpu import recognize_layout  # noqa: E402

SKIP = {"zh-pdfpage-3854.png"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    args = ap.parse_args()
    items = [it for it in corpus_items("text-image") + corpus_items("table-image")
             if it["file"] not in SKIP]
    pages = []
    t0 = time.perf_counter()
    for it in items:
        with Image.open(CORPUS / "files" / it["file"]) as img:
            layout = recognize_layout(img.convert("RGB"))
        truth = (CORPUS / "files" / (it["gt_text"] or it["gt_table"])).read_text(encoding="utf-8")
        kind = "table" if it["kind"] == "table-image" else it["file"].split("-")[0]
        pages.append((kind, truth, layout))
    read_s = time.perf_counter() - t0
    print(f"CPU readings: {len(pages)} pages in {read_s:.1f} s")
    for label, min_score in ((f"shipped (CPU boxes >= {CONFIDENT:.2f})", CONFIDENT),
                             ("baseline (every CPU box)", 0.0)):
        rows: dict[str, list[int]] = {}
        t0 = time.perf_counter()
        runs = 0
        for kind, truth, layout in pages:
            for seed in range(args.seeds):
                text, spans = inject(truth, seed)
                marked = [(d.start, d.end) for d in find_doubts(text, layout, min_score=min_score)]
                got = scores(marked, spans)
                rows[kind] = [a + b for a, b in zip(rows.get(kind, [0, 0, 0, 0]), got, strict=True)]
                runs += 1
        per_page_ms = (time.perf_counter() - t0) / runs * 1000
        print(f"\n{label}: {per_page_ms:.1f} ms per page")
        total = [0, 0, 0, 0]
        for kind, (bad, caught, good, accused) in sorted(rows.items()):
            total = [a + b for a, b in zip(total, (bad, caught, good, accused), strict=True)]
            print(f"  {kind:8s} marked {caught / bad:6.1%} of {bad:4d} injected errors, "
                  f"{accused / good:6.1%} of {good:5d} correct words")
        bad, caught, good, accused = total
        print(f"  {'all':8s} marked {caught / bad:6.1%} of {bad:4d} injected errors, "
              f"{accused / good:6.1%} of {good:5d} correct words")


if __name__ == "__main__":
    main()
