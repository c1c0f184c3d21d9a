"""The `transformers` engine: InternVL3 on Hugging Face transformers, in a worker process.

For Macs (MPS), older or non-LMDeploy GPUs and CPU-only machines with a small model. The
app's process never imports torch or transformers: transformers_process.WorkerProcess runs
`python -m desktop_ocr.engines.transformers_worker` and this module speaks the Engine
protocol over it.

- Started on demand: the first `stream()` starts the worker when `start()` was not called.
- Tiling: the image goes over already resized to its tile grid (internvl_tiling, the model
  card's rule) at the request's `max_dynamic_patch`, the same detail levels LMDeploy uses.
- Cancel: closing the stream tells the worker, which stops within a layer's time.
- The loop guard stops a repeating tail as on the other VLM engines.
- `doctor_lines()`: whether the engine can run here and why not, for `desktop-ocr doctor`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from desktop_ocr.core.contract import (
    BadImage,
    Chunk,
    EngineCrashed,
    EngineError,
    FinishReason,
    Health,
    Request,
)
from desktop_ocr.engines import internvl_tiling
from desktop_ocr.engines.lmdeploy_server import ServerState, ServerStatus
from desktop_ocr.engines.loop_guard import LoopGuard, retry_penalty
from desktop_ocr.engines.transformers_plan import INSTALL_HINT, error_from_wire
from desktop_ocr.engines.transformers_process import (
    WORKER_MODULE,
    WorkerConfig,
    WorkerDied,
    WorkerProcess,
)

if TYPE_CHECKING:
    from PIL import Image

    from desktop_ocr.core.settings import Settings

log = logging.getLogger(__name__)

__all__ = ["Frame", "TransformersEngine", "WorkerConfig", "WorkerDied", "WorkerProcess", "doctor_lines",
           "prepare_frame", "probe_in_worker"]

# ---------------------------------------------------------------- what `doctor` reports


def probe_in_worker(python: str | None = None, timeout: float = 120.0) -> dict[str, Any]:
    """What torch sees (CUDA GPUs, MPS, bitsandbytes), asked of a short-lived worker so that
    this process never imports torch. {"error": ...} when it cannot tell."""
    try:
        done = subprocess.run([python or sys.executable, "-m", WORKER_MODULE, "--probe"],
                              capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return {"error": f"torch did not answer within {timeout:g} s"}
    except OSError as exc:
        return {"error": f"cannot run {python or sys.executable}: {exc}"}
    for line in reversed(done.stdout.decode("utf-8", "replace").splitlines()):
        with contextlib.suppress(ValueError):
            data = json.loads(line)
            if isinstance(data, dict):
                return data
    tail = done.stderr.decode("utf-8", "replace").strip().splitlines()
    return {"error": f"the probe failed (exit code {done.returncode}){': ' + tail[-1] if tail else ''}"}


def doctor_lines(settings: Settings, *, probe: Callable[[], dict[str, Any]] = probe_in_worker) -> list[str]:
    """Whether the transformers engine can run here, and why (or why not)."""
    from desktop_ocr.engines import transformers_plan as plan

    lines = ["Transformers (InternVL3 on the CPU, a Mac or any NVIDIA GPU)"]
    versions = plan.installed_versions()
    missing = plan.missing_packages()
    if missing:
        lines.append(f"  not installed: {' and '.join(missing)} missing. {INSTALL_HINT}")
    else:
        lines.append("  found: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    model = (settings.transformers_model or settings.model).strip()
    folder_error = ""
    try:
        folder = plan.inspect_model_folder(plan.resolve_model(model))
        lines.append(f"  model: {folder.path} ({folder.weight_bytes / 2**30:.1f} GiB of weights)")
    except EngineError as exc:
        folder_error = str(exc)
        lines.append(f"  model: {exc.user_message}")
    device_error = ""
    if not missing:
        seen = probe()
        if "error" in seen:
            device_error = str(seen["error"])
            lines.append(f"  device: unknown, {device_error}")
        else:
            machine = plan.Machine(tuple(tuple(cc) for cc in seen.get("cuda") or ()), bool(seen.get("mps")),
                                   bool(seen.get("bitsandbytes")), tuple(seen.get("cuda_names") or ()))
            try:
                chosen = plan.plan_device(machine, settings.transformers_device, settings.transformers_dtype,
                                          settings.transformers_8bit)
                lines.append(f"  device: {chosen.describe()} ({chosen.why})")
            except EngineError as exc:
                device_error = str(exc)
                lines.append(f"  device: {exc.user_message}")
    reasons = [r[:1].lower() + r[1:].rstrip(".") for r in (
        (f"{' and '.join(missing)} not installed" if missing else ""), folder_error, device_error) if r]
    lines.append("  can run: yes" if not reasons else "  can run: no, because " + "; ".join(reasons))
    return lines


# ---------------------------------------------------------------- image preparation


@dataclass(frozen=True)
class Frame:
    """What goes over the pipe for one image: its grid's canvas as raw RGB."""

    width: int
    height: int
    data: bytes
    tiles: int  # what the model will see: the grid, plus a thumbnail when > 1


def prepare_frame(image: Image.Image, max_tiles: int) -> Frame:
    if image.width <= 0 or image.height <= 0:
        raise BadImage("The image has no pixels.")
    tiles = internvl_tiling.tile_count(image.width, image.height, max_tiles)
    canvas = internvl_tiling.fit_to_grid(image if image.mode == "RGB" else image.convert("RGB"), max_tiles)
    return Frame(canvas.width, canvas.height, canvas.tobytes(), tiles)


# ---------------------------------------------------------------- the engine


_FINISH = {"stop": FinishReason.STOP, "length": FinishReason.LENGTH, "cancelled": FinishReason.CANCELLED}


class TransformersEngine:
    """Engine protocol over one transformers worker process. One request at a time."""

    name = "transformers"
    max_concurrency = 1  # one model, one generate() at a time; the worker queues the rest

    def __init__(self, server: WorkerProcess, *, loop_guard: bool = True,
                 guard_options: dict[str, Any] | None = None) -> None:
        self.server = server
        self.loop_guard = loop_guard
        self.guard_options = dict(guard_options or {})

    @property
    def model(self) -> str:
        return self.server.model

    @classmethod
    def from_settings(cls, settings: Settings, *, on_state: Callable[[ServerStatus], None] | None = None,
                      on_log: Callable[[str], None] | None = None, **options: Any) -> TransformersEngine:
        """Build (not start). The model folder: --transformers-model, else --model."""
        config = WorkerConfig(model=(settings.transformers_model or settings.model).strip(),
                              device=settings.transformers_device, dtype=settings.transformers_dtype,
                              load_8bit=settings.transformers_8bit)
        guard = options.pop("loop_guard", True)
        return cls(WorkerProcess(config, start_timeout=settings.start_timeout, on_state=on_state,
                                 on_log=on_log, **options), loop_guard=guard)

    async def start(self) -> None:
        await self.server.start()

    async def stop(self) -> None:
        await self.server.stop()

    async def health(self) -> Health:
        st = self.server.status
        details = {"model": self.server.model, "elapsed": st.elapsed, "pid": self.server.pid,
                   "log_path": str(self.server.log_path) if self.server.log_path else "", **self.server.info}
        return Health(st.state is ServerState.READY, st.state.value, st.message, details)

    async def stream(self, request: Request) -> AsyncIterator[Chunk]:
        """Stream one request; the last chunk's usage holds tokens, tiles and timings."""
        await self.server.start()  # on demand; a no-op when it runs
        try:
            frame = await asyncio.to_thread(prepare_frame, request.image, request.max_dynamic_patch)
        except (OSError, ValueError) as exc:
            raise BadImage(f"The image cannot be prepared: {exc}") from None
        command = {"width": frame.width, "height": frame.height, "max_tiles": int(request.max_dynamic_patch),
                   "prompt": request.prompt, "history": [[t.role, t.text] for t in request.history],
                   "max_tokens": int(request.max_tokens), "temperature": request.temperature,
                   "top_k": request.top_k, "repetition_penalty": request.repetition_penalty}
        rid, events = self.server.open_request(command, frame.data)
        guard = LoopGuard(**self.guard_options) if self.loop_guard else None
        finished = False
        try:
            while True:
                event = await events.get()
                kind = event.get("ev")
                if kind == "token":
                    text = str(event.get("text") or "")
                    if not text:
                        continue
                    yield Chunk(text)
                    found = guard.feed(text) if guard is not None else None
                    if found is not None:
                        log.info("loop guard: %s", found.describe())
                        self.server.cancel(rid)
                        finished = True
                        yield Chunk("", FinishReason.REPETITION, {"repetition": {
                            "unit": found.unit, "repeats": found.repeats,
                            "retry_repetition_penalty": retry_penalty(request.repetition_penalty)}})
                        return
                elif kind == "done":
                    finished = True
                    yield Chunk("", _FINISH.get(str(event.get("finish")), FinishReason.STOP),
                                dict(event.get("usage") or {}))
                    return
                elif kind == "error":
                    finished = True
                    if event.get("kind") == "oom":
                        raise error_from_wire(event)
                    raise EngineCrashed(str(event.get("message") or "The model failed on this request."),
                                        hint=str(event.get("hint") or "See the worker log."))
                elif kind == "exit":
                    finished = True
                    raise event["error"]
        finally:
            if not finished:  # closed early (aclose, task cancelled): stop the work
                self.server.cancel(rid)
            self.server.close_request(rid)
