"""What the streaming client's time limits cost: chunks/s through OpenAIEngine.stream (with
its progress watch, shape checks and loop guard) against a bare httpx SSE loop reading the
same answer from the same stand-in in the same process (baseline). Goal: >= 0.8x.

    python bench/stream_client_overhead.py [--chars 30000] [--rounds 6]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from PIL import Image  # noqa: E402

from desktop_ocr.core import imaging  # noqa: E402
from desktop_ocr.core.contract import Request  # noqa: E402
from desktop_ocr.engines.openai_compat import OpenAIEngine  # noqa: E402

KEY = "bench-key"


async def engine_rate(url: str, request: Request) -> tuple[float, int]:
    engine = OpenAIEngine(url, KEY, "internvl3", loop_guard=False)
    await engine.start()
    try:
        n = 0
        t0 = time.perf_counter()
        async for chunk in engine.stream(request):
            n += bool(chunk.text)
        return n / (time.perf_counter() - t0), n
    finally:
        await engine.stop()


async def bare_rate(url: str, request: Request) -> tuple[float, int]:
    payload = OpenAIEngine(url, KEY, "internvl3").build_payload(
        request, imaging.to_data_url(request.image, request.max_dynamic_patch))
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {KEY}"},
                                 timeout=None, trust_env=False) as client:
        n = 0
        t0 = time.perf_counter()
        async with client.stream("POST", "/v1/chat/completions", json=payload) as response:
            async for line in response.aiter_lines():
                if not line.startswith("data:") or line.strip() == "data: [DONE]":
                    continue
                for choice in json.loads(line[5:]).get("choices") or []:
                    n += bool((choice.get("delta") or {}).get("content"))
        return n / (time.perf_counter() - t0), n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chars", type=int, default=30000)
    ap.add_argument("--rounds", type=int, default=6)
    args = ap.parse_args()
    text = ("Invoice 2024-0042 | Paper A4 | 2 | 8.50 |\n" * (args.chars // 42 + 1))[: args.chars]
    server = subprocess.Popen([sys.executable, str(ROOT / "tests" / "standin" / "server.py"), "--port", "0",
                               "--api-keys", KEY, "--text", text], stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline().split()[1])
        url = f"http://127.0.0.1:{port}"
        request = Request(image=Image.new("RGB", (64, 48), "white"), max_tokens=16000)
        ours, bare = [], []
        for _ in range(args.rounds):  # interleaved, best of each: the machine is shared
            ours.append(asyncio.run(engine_rate(url, request)))
            bare.append(asyncio.run(bare_rate(url, request)))
        best_ours, n = max(ours)
        best_bare, _ = max(bare)
        print(f"chunks per answer: {n}")
        print(f"OpenAIEngine.stream: {best_ours:,.0f} chunks/s")
        print(f"bare httpx SSE loop: {best_bare:,.0f} chunks/s (baseline)")
        print(f"ratio: {best_ours / best_bare:.2f}x (goal >= 0.8x)")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
