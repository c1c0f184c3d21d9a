"""The transformers engine's worker process, seen from the app: spawn it so that it cannot
outlive the app, load the model, send requests and cancels, read its events and log, stop it.

`python -m desktop_ocr.engines.transformers_worker` (the wire format is in its docstring)
talks JSON lines on its stdin/stdout, the image as raw RGB bytes after its command line.

No orphan: the worker is an engines/child_process.ChildProcess (its own guarded process
tree, the parent-death signal on Linux, the atexit hook), and it exits by itself as soon
as the app's end of its stdin closes, which the kernel does when the app exits or is
killed; stop() asks it to quit (a quit command, then end of file), waits, then kills its
tree. A worker that died is reaped before start() spawns the next.

The child's threads write its stdin (so a large image never blocks the event loop), read
its events and its stderr (the log: `<user log dir>/transformers-worker.log`, 0600, the
previous one as `.1`, its last lines kept for messages). Events reach the event loop that
called start(). `on_state` / `on_log` / `status` / `log_lines()` / `log_path` come from
child_process.Supervisor, as for the LMDeploy server.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_ocr.core.contract import Cancelled, EngineCrashed, EngineError, EngineTimeout
from desktop_ocr.core.messages import QT_TRANSLATE_NOOP, Text
from desktop_ocr.engines.child_process import ChildProcess, ServerState, ServerStatus, Supervisor
from desktop_ocr.engines.transformers_plan import (
    INSTALL_HINT,
    NotInstalled,
    TransformersEngineError,
    error_from_wire,
    missing_packages,
)

log = logging.getLogger(__name__)

LOG_NAME = "transformers-worker.log"
WORKER_MODULE = "desktop_ocr.engines.transformers_worker"


class WorkerDied(EngineCrashed):
    """The worker process exited while it was loading or answering."""


@dataclass(frozen=True)
class WorkerConfig:
    model: str
    device: str = "auto"
    dtype: str = "auto"
    load_8bit: bool = False

    def load_command(self) -> dict[str, Any]:
        return {"op": "load", "model": self.model, "device": self.device, "dtype": self.dtype,
                "load_8bit": self.load_8bit}


def default_log_path() -> Path:
    import platformdirs

    from desktop_ocr import APP_ID

    return Path(platformdirs.user_log_dir(APP_ID, appauthor=False)) / LOG_NAME


QUIT = json.dumps({"op": "quit"}).encode() + b"\n"


def _ask_to_quit(child: ChildProcess) -> None:
    child.write(QUIT)
    child.close_stdin()  # and end of file: that ends it too


# ---------------------------------------------------------------- the worker process


class WorkerProcess(Supervisor):
    """One worker: start (spawn, load, wait ready), requests, cancel, stop, state and log."""

    what = "the transformers worker"

    def __init__(self, config: WorkerConfig, *, python: str | None = None,
                 env: Mapping[str, str] | None = None, start_timeout: float = 600.0,
                 stop_timeout: float = 5.0, log_path: Path | None = None, keep_lines: int = 200,
                 on_state: Callable[[ServerStatus], None] | None = None,
                 on_log: Callable[[str], None] | None = None) -> None:
        super().__init__(start_timeout=start_timeout, stop_timeout=stop_timeout, log_path=log_path,
                         keep_lines=keep_lines, on_state=on_state, on_log=on_log)
        self.config = config
        self.model = config.model
        self.python = python or sys.executable
        self.env = dict(env) if env is not None else None
        self.info: dict[str, Any] = {}
        self._ready: asyncio.Future[dict[str, Any]] | None = None
        self._streams: dict[int, asyncio.Queue[dict[str, Any]]] = {}
        self._ids = itertools.count(1)

    def _last_error_line(self) -> str:
        for line in reversed(self.log_lines()):
            text = line.strip()
            if text and any(w in text.lower() for w in ("error", "exception", "killed", "fatal")):
                return text[:300]
        return ""

    # ------------------------------------------------------------ start

    async def start(self) -> None:
        """Spawn the worker and wait until the model is loaded. Raises TransformersEngineError."""
        await super().start()

    async def _start(self) -> None:
        missing = missing_packages()
        if missing:
            raise self._fail(NotInstalled(Text(QT_TRANSLATE_NOOP(
                "Messages", "The transformers engine needs {packages}, which this Python does not have."),
                packages=" and ".join(missing)), hint=INSTALL_HINT))
        assert self._loop is not None
        self._ready = self._loop.create_future()
        self._tail.clear()
        self._set(ServerState.STARTING, f"loading {Path(self.model).name or self.model}")

        async def begin() -> None:
            self._spawn()
            self._send(self.config.load_command())
            try:
                assert self._ready is not None
                self.info = await asyncio.wait_for(asyncio.shield(self._ready), self.start_timeout)
            except TimeoutError:
                raise EngineTimeout(f"The model did not load within {self.start_timeout:g} s.",
                                    hint="A large model on a CPU loads slowly: raise the start "
                                         "timeout, or choose a smaller model.") from None

        await self._run_start(begin, lambda exc: TransformersEngineError(
            f"Starting the transformers worker failed: {exc}"))
        self._set(ServerState.READY, f"{Path(self.info.get('model') or self.model).name} ready on "
                                     f"{self.info.get('describe', self.info.get('device'))} "
                                     f"(loaded in {self.info.get('load_s', 0):.1f} s)")

    def _spawn(self) -> None:
        env = dict(os.environ if self.env is None else self.env)
        env["PYTHONUNBUFFERED"] = "1"
        env.setdefault("HF_HUB_OFFLINE", "1")
        self.log_path = self.log_path or default_log_path()
        self._spawn_child([self.python, "-m", WORKER_MODULE], env, name="tf-worker", events=True, stdin=True,
                          header=f"{self.python} -m {WORKER_MODULE} {json.dumps(self.config.load_command())}",
                          on_event=self._dispatch, ask=_ask_to_quit, poll=0.02, exit_grace=2.0)

    # ------------------------------------------------------------ events (on the loop)

    def _dispatch(self, event: dict[str, Any]) -> None:
        kind = event.get("ev")
        rid = event.get("id")
        if rid is not None:
            stream = self._streams.get(int(rid))
            if stream is not None:
                stream.put_nowait(event)
            return
        if kind == "loading":
            self._emit_log(f"[worker] {event.get('stage')}")
            self._set(ServerState.STARTING, str(event.get("stage") or "loading"))
        elif kind == "ready" and self._ready is not None and not self._ready.done():
            self._ready.set_result(event)
        elif kind == "error" and self._ready is not None and not self._ready.done():
            self._ready.set_exception(error_from_wire(event))

    def _child_exited(self, rc: int) -> None:
        err: EngineError
        if self._stopping:  # asked to: a load or open requests were stopped, not crashed
            err = Cancelled("The engine was stopped.")
        else:
            last = self._last_error_line()
            how = (Text(QT_TRANSLATE_NOOP("Messages", "killed by signal {n}"), n=-rc) if rc < 0 else
                   Text(QT_TRANSLATE_NOOP("Messages", "exit code {code}"), code=rc))
            message = (Text(QT_TRANSLATE_NOOP(
                "Messages", "The transformers worker stopped unexpectedly ({how}): {last}."), how=how, last=last)
                if last else Text(QT_TRANSLATE_NOOP(
                    "Messages", "The transformers worker stopped unexpectedly ({how})."), how=how))
            hint = (QT_TRANSLATE_NOOP("Messages", "See the worker log (a killed worker often ran out of memory: "
                                                  "try a smaller model or fewer tiles); start the engine again.")
                    if rc < 0 else
                    QT_TRANSLATE_NOOP("Messages", "See the worker log; start the engine again."))
            err = WorkerDied(message, hint=hint)
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(err)
            self._ready.exception()  # retrieved: a start that was given up no longer waits
        self._end_streams(err)
        if not self._stopping and self.status.state is ServerState.READY:
            self._set(ServerState.FAILED, err.user_message, err)

    def _end_streams(self, error: EngineError) -> None:
        for stream in self._streams.values():
            stream.put_nowait({"ev": "exit", "error": error})

    def _terminated(self) -> None:
        self._end_streams(Cancelled("The engine was stopped."))

    # ------------------------------------------------------------ requests

    def _send(self, command: dict[str, Any], payload: bytes = b"") -> None:
        if self.child is None:
            raise WorkerDied("The transformers worker is not running.")
        line = json.dumps(command, ensure_ascii=False).encode("utf-8") + b"\n"
        self.child.write(line + payload if payload else line)

    def open_request(self, command: dict[str, Any], payload: bytes = b"") -> tuple[int, asyncio.Queue[dict[str, Any]]]:
        """Send a generate command; its events arrive on the returned queue."""
        if self.status.state is not ServerState.READY or self.returncode is not None:
            raise WorkerDied("The transformers worker is not running.", hint="Start the engine again.")
        rid = next(self._ids)
        events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._streams[rid] = events
        self._send({**command, "op": "generate", "id": rid, "nbytes": len(payload)}, payload)
        return rid, events

    def cancel(self, rid: int) -> None:
        with contextlib.suppress(EngineError):
            self._send({"op": "cancel", "id": rid})

    def close_request(self, rid: int) -> None:
        self._streams.pop(rid, None)

    # ------------------------------------------------------------ stop

    async def stop(self) -> None:
        """Ask the worker to quit, wait stop_timeout, then kill its group. Never raises."""
        await super().stop()
