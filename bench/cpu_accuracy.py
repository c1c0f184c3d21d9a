"""Accuracy and speed of the CPU OCR engine on the corpus's `text-image` items.

Streams every item through `CpuEngine`, writes the text to a temp dir, scores it with the
corpus's own cer.py (`dir` mode) and prints the means next to BASELINE.json's RapidOCR
(as shipped) and tesseract figures. With `--models v4,v6` the engine runs once per model
set in the same process (v4: PP-OCRv4 mobile from rapidocr-onnxruntime 1.4.4; v6:
PP-OCRv6 small from the rapidocr 3.9+ wheel), each scored the same way.

    python bench/cpu_accuracy.py [--models v6] [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import io
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CORPUS = ROOT.parent / "shared" / "corpus"

from PIL import Image  # noqa: E402

from desktop_ocr.core.contract import Request, collect  # noqa: E402
from desktop_ocr.engines.cpu import CpuEngine, OcrModels  # noqa: E402

KEYS = ("cer", "cer_ci", "cer_lenient", "word_f1")


def _cer_module():
    spec = importlib.util.spec_from_file_location("corpus_cer", CORPUS / "cer.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


async def _run(items: list[dict], out: Path, model_set: str) -> list[float]:
    engine = CpuEngine(OcrModels(model_set=model_set))
    await engine.start()  # model load is not part of the per-image time
    seconds = []
    for it in items:
        image = Image.open(CORPUS / "files" / it["file"]).convert("RGB")
        t0 = time.perf_counter()
        text, _ = await collect(engine, Request(image, label=it["file"]))
        seconds.append(time.perf_counter() - t0)
        (out / (Path(it["file"]).stem + ".txt")).write_text(text, encoding="utf-8")
        print(f"{it['file']:<34} {seconds[-1]:5.2f} s", flush=True)
    await engine.stop()
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", type=Path, help="write the predictions here instead of a temp dir")
    ap.add_argument("--models", default="v6", help="model sets to run, comma-separated: v4, v6")
    args = ap.parse_args()
    for model_set in args.models.split(","):
        print(f"== model set {model_set}")
        _bench(args, model_set.strip())


def _bench(args: argparse.Namespace, model_set: str) -> None:
    manifest = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
    items = [it for it in manifest["items"] if it["kind"] == "text-image"]
    baseline = json.loads((CORPUS / "BASELINE.json").read_text(encoding="utf-8"))["dev"]

    with tempfile.TemporaryDirectory() as tmp:
        out = (args.keep / model_set) if args.keep else Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        seconds = asyncio.run(_run(items, out, model_set))
        with contextlib.redirect_stdout(io.StringIO()):  # cer.py prints a line per item
            rows, summary = _cer_module().score_dir(str(out), str(CORPUS))

    rows = [r for r in rows if r["type"] == "text"]
    print()
    print(f"{'item':<34} " + " ".join(f"{k:>11}" for k in KEYS))
    for r in rows:
        print(f"{r['file']:<34} " + " ".join(f"{r[k]:>11.4f}" for k in KEYS))
    means = {k: summary[f"mean_{k}"] for k in KEYS}
    means["seconds"] = round(sum(seconds) / len(seconds), 2)
    print()
    print(f"cpu engine ({model_set}), n={len(rows)}: " + ", ".join(f"{k} {v}" for k, v in means.items()))
    for name in ("rapidocr", "tesseract"):
        b = baseline[name]
        ratios = ", ".join(f"{k} {means[k] / b[k]:.3f}" for k in (*KEYS, "seconds"))
        print(f"ratio to {name} baseline (ours / theirs; < 1 better for cer and s, > 1 for word_f1): {ratios}")
    print(
        "targets: cer_ci < {:.4f} (rapidocr): {}; word_f1 > {:.4f} (tesseract): {}".format(
            baseline["rapidocr"]["cer_ci"], "PASS" if means["cer_ci"] < baseline["rapidocr"]["cer_ci"] else "FAIL",
            baseline["tesseract"]["word_f1"], "PASS" if means["word_f1"] > baseline["tesseract"]["word_f1"] else "FAIL",
        )
    )


if __name__ == "__main__":
    main()
