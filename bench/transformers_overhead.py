"""The transformers engine's own overhead per request, as a ratio to the model's generate().

Everything a request costs besides the model's generate() call is the app's doing: the
image resized to its tile grid and turned into raw RGB (app side), the pixels and the
JSON lines crossing the pipes, the processor cutting tiles and the prompt being built
(worker side). This script runs real requests through TransformersEngine and the real
worker process and splits each one's wall time into:

    app prep     prepare_frame() on the same image, timed in this process
    worker prep  the worker's own `prep_s` (processor + tokenizer)
    pipes        the rest: wall time - app prep - worker prep - generate
    generate     the worker's `generate_s`: model.generate() itself (the baseline)

and prints overhead (all but generate) / generate. The default model is the tests' tiny
random-weight InternVL (built on the spot, nothing downloaded), whose generate() is far
cheaper than any real model's, so the ratio it prints is an upper bound; give a real
"-hf" folder with --model to measure that instead.

    python bench/transformers_overhead.py [--model FOLDER] [--tokens 64] [--repeats 3] [--tiles 12]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from desktop_ocr.core.contract import Request  # noqa: E402
from desktop_ocr.core.imaging import load_image  # noqa: E402
from desktop_ocr.engines.transformers_engine import TransformersEngine, prepare_frame  # noqa: E402
from desktop_ocr.engines.transformers_process import WorkerConfig, WorkerProcess  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "files"
# A receipt photo, a scanned table, a Chinese PDF page: three shapes, three tile counts.
IMAGES = ["receipt-sroie-003.jpg", "table-pubtabnet-PMC2753619_002_00.png", "zh-pdfpage-3854.png"]


def images():
    from PIL import Image

    found = [(name, load_image(CORPUS / name)) for name in IMAGES if (CORPUS / name).exists()]
    if not found:  # without the corpus: synthetic images of the same three shapes
        found = [("receipt 463x1024", Image.new("RGB", (463, 1024), "white")),
                 ("table 1200x400", Image.new("RGB", (1200, 400), "white")),
                 ("page 1654x2339", Image.new("RGB", (1654, 2339), "white"))]
    return found


async def run(model: str, tokens: int, repeats: int, tiles: int) -> int:
    engine = TransformersEngine(WorkerProcess(WorkerConfig(model)), loop_guard=False)
    began = time.perf_counter()
    await engine.start()
    print(f"model {model}: loaded in {time.perf_counter() - began:.1f} s on "
          f"{engine.server.info.get('describe')}")
    print(f"{'image':42} {'size':>10} {'tiles':>5} {'app prep':>9} {'wkr prep':>9} {'pipes':>8} "
          f"{'generate':>9} {'overhead/generate':>18}")
    ratios: list[float] = []
    try:
        for name, image in images():
            request = Request(image=image, max_tokens=tokens, max_dynamic_patch=tiles)
            await _one(engine, request)  # warm-up: first-call costs are not per-request costs
            rows = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                prepare_frame(image, tiles)
                app_prep = time.perf_counter() - t0
                t0 = time.perf_counter()
                usage = await _one(engine, request)
                wall = time.perf_counter() - t0
                generate = usage["generate_s"]
                worker_prep = usage["prep_s"]
                rows.append((app_prep, worker_prep, wall - app_prep - worker_prep - generate, generate,
                             usage["tiles"]))
            app_prep, worker_prep, pipes, generate = (statistics.median(r[i] for r in rows) for i in range(4))
            ratio = (app_prep + worker_prep + pipes) / generate
            ratios.append(ratio)
            size = f"{image.width}x{image.height}"
            print(f"{name[:42]:42} {size:>10} {rows[0][4]:>5} {app_prep * 1e3:7.1f}ms {worker_prep * 1e3:7.1f}ms "
                  f"{pipes * 1e3:6.1f}ms {generate * 1e3:7.1f}ms {ratio:17.3f}x")
    finally:
        await engine.stop()
    print(f"median overhead / generate() over {len(ratios)} images, {tokens} tokens each: "
          f"{statistics.median(ratios):.3f}x")
    return 0


async def _one(engine: TransformersEngine, request: Request) -> dict:
    usage: dict = {}
    async for chunk in engine.stream(request):
        if chunk.finish_reason is not None:
            usage = chunk.usage or {}
    return usage


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", help="an InternVL -hf folder (default: the tests' tiny random model)")
    p.add_argument("--tokens", type=int, default=64)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--tiles", type=int, default=12)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model
        if not model:
            from tiny_internvl import make

            make(Path(tmp) / "tiny-internvl")
            model = str(Path(tmp) / "tiny-internvl")
        return asyncio.run(run(model, args.tokens, args.repeats, args.tiles))


if __name__ == "__main__":
    sys.exit(main())
