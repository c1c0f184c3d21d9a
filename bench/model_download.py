"""Model download time: the app's download (child process, per-file resume bookkeeping,
sha256 check of every weight file, rename into place) vs huggingface_hub's own
snapshot_download of the same repository, both from the fake hub on 127.0.0.1.
Goal: <= 1.5x (what verification and resumability cost).

    python bench/model_download.py [--mb 400] [--shards 4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "engines"))

from hub_helpers import child_env, make_repo, start_fake_hub  # noqa: E402

from desktop_ocr.engines.model_download import DownloadJob, JobState  # noqa: E402

REPO = "bench-org/BenchVL"


async def _run(job: DownloadJob) -> str:
    job.start()
    return await job.wait()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mb", type=int, default=400)
    p.add_argument("--shards", type=int, default=4)
    p.add_argument("--rounds", type=int, default=2)
    ns = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        make_repo(t / "repos", REPO, ns.mb * 1_000_000, shards=ns.shards)
        hub = start_fake_hub(t / "repos", t / "hub.jsonl")
        env = child_env(t)
        try:
            ours, bare = [], []
            for i in range(ns.rounds):
                # Baseline: huggingface_hub alone, in a process of its own as ours is.
                start = time.perf_counter()
                import subprocess

                code = ("from huggingface_hub import snapshot_download; "
                        f"snapshot_download({REPO!r}, cache_dir={str(t / f'hf{i}')!r}, endpoint={hub.url!r})")
                subprocess.run([sys.executable, "-c", code], env=dict(env, HF_HUB_DISABLE_PROGRESS_BARS="1"),
                               check=True)
                bare.append(time.perf_counter() - start)

                job = DownloadJob(REPO, t / f"models{i}", source=hub.url, env=env)

                start = time.perf_counter()
                assert asyncio.run(_run(job)) == JobState.DONE, job.message
                ours.append(time.perf_counter() - start)
        finally:
            hub.stop()
    o, b = min(ours), min(bare)
    size = ns.mb / 1000
    print(f"download of {size:.1f} GB in {ns.shards} shards over loopback (best of {ns.rounds}):")
    print(f"  app (verified, resumable): {o:.2f} s ({size / o * 1000:.0f} MB/s)")
    print(f"  huggingface_hub snapshot_download: {b:.2f} s ({size / b * 1000:.0f} MB/s)")
    print(f"  ratio {o / b:.2f}x (goal <= 1.5x)")


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    main()
