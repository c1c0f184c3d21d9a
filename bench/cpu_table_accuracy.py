"""CPU table recognition on the corpus tables: cell F1 and seconds per table.

Prints mean cell_f1 / cell_text_f1 / grid shapes right / s per table over every
`table-image` item of the corpus, as `cer.py table` scores them, and the ratios to
the SLANet-plus + RapidOCR figure in the corpus's BASELINE.json. That baseline was
timed in another run; as a same-process yardstick for the time, plain
`RapidOCR()(image)` (text only, no grid) is timed on the same images.

    python bench/cpu_table_accuracy.py [--corpus ../shared/corpus] [--out DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from desktop_ocr.engines import cpu_table  # noqa: E402


def _load_cer(corpus: Path):
    spec = importlib.util.spec_from_file_location("corpus_cer", corpus / "cer.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--out", type=Path, help="also write each predicted table here as <stem>.html")
    args = ap.parse_args()
    cer = _load_cer(args.corpus)
    items = [it for it in json.loads((args.corpus / "manifest.json").read_text())["items"]
             if it["kind"] == "table-image" and it.get("gt_table")]
    files = args.corpus / "files"

    cpu_table.ocr_boxes(Image.new("RGB", (64, 32), "white"))  # load the models outside the timing
    rows, seconds, plain_seconds = [], [], []
    for it in items:
        image = Image.open(files / it["file"]).convert("RGB")
        t0 = time.perf_counter()
        html = cpu_table.recognize_table(image)
        seconds.append(time.perf_counter() - t0)
        bgr = np.ascontiguousarray(np.asarray(image)[:, :, ::-1])
        t0 = time.perf_counter()
        cpu_table._rapidocr()(bgr)
        plain_seconds.append(time.perf_counter() - t0)
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / (Path(it["file"]).stem + ".html")).write_text(html, encoding="utf-8")
        s = cer.table_scores(html, (files / it["gt_table"]).read_text(encoding="utf-8"))
        rows.append(s)
        print(f"{it['file']}: cell_f1 {s['cell_f1']:.3f}  cell_text_f1 {s['cell_text_f1']:.3f}  "
              f"shape {s['shape_pred']} vs {s['shape_gt']}  {seconds[-1]:.2f} s")

    n = len(rows)
    mean = {k: sum(r[k] for r in rows) / n for k in ("cell_f1", "cell_text_f1", "teds")}
    shapes = sum(r["shape_match"] for r in rows)
    s_table = sum(seconds) / n
    s_plain = sum(plain_seconds) / n
    base = json.loads((args.corpus / "BASELINE.json").read_text())["tables"]["dev"]["slanet_plus_rapidocr"]
    print(f"\ntables: {n}")
    print(f"mean cell_f1      {mean['cell_f1']:.4f}   baseline {base['cell_f1']:.4f}   "
          f"ratio {mean['cell_f1'] / base['cell_f1']:.3f}")
    print(f"mean cell_text_f1 {mean['cell_text_f1']:.4f}   baseline {base['cell_text_f1']:.4f}   "
          f"ratio {mean['cell_text_f1'] / base['cell_text_f1']:.3f}")
    print(f"mean teds         {mean['teds']:.4f}")
    print(f"grid shape right  {shapes}/{n}   baseline {base['shape_match']}/{base['n']}")
    print(f"s / table         {s_table:.2f}   baseline {base['seconds']:.2f} (other run)   "
          f"ratio {s_table / base['seconds']:.2f}")
    print(f"plain RapidOCR, same process: {s_plain:.2f} s / image   ratio {s_table / s_plain:.2f}")


if __name__ == "__main__":
    main()
