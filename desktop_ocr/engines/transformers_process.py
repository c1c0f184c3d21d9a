"""The transformers engine's worker process, seen from the app: spawn it so that it cannot
outlive the app, load the model, send requests and cancels, read its events and log, stop it.

`python -m desktop_ocr.engines.transformers_worker` (the wire format is in its docstring)
talks JSON lines on its stdin/stdout, the image as raw RGB bytes after its command line.

No orphan: the worker runs in its own process group (POSIX) / process group + job object
(Windows), gets SIGKILL when the app dies (Linux, parent-death signal), and exits by
itself as soon as the app's end of its stdin closes, which the kernel does when the app
exits or is killed; stop() asks it to quit, waits, then kills its group.

Threads: one writes to the worker's stdin (so a large image never blocks the event loop),
one reads its events, one its stderr (the log: `<user log dir>/transformers-worker.log`,
its last lines kept for messages). Events reach the event loop that called start() via
call_soon_threadsafe. `on_state` / `on_log` / `status` / `log_lines()` / `log_path` are
what the GUI already reads from the LMDeploy server.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import contextlib
import itertools
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_ocr.core.contract import Cancelled, EngineCrashed, EngineError, EngineTimeout
from desktop_ocr.engines.lmdeploy_server import ServerState, ServerStatus
from desktop_ocr.engines.transformers_plan import (
    INSTALL_HINT,
    NotInstalled,
    TransformersEngineError,
    error_from_wire,
    missing_packages,
)
from desktop_ocr.engines.watchdog import Guard, kill_tree, spawn_options

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


# ---------------------------------------------------------------- spawning (one place)


def spawn_worker(argv: list[str], env: Mapping[str, str]) -> tuple[subprocess.Popen[bytes], Guard]:
    """Start a child that must not outlive the app, however the app ends: its own process
    tree, guarded by the watchdog (engines/watchdog.py). Returns (process, guard)."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(env), **spawn_options())
    return proc, Guard.start(proc)


def default_log_path() -> Path:
    import platformdirs

    from desktop_ocr import APP_ID

    return Path(platformdirs.user_log_dir(APP_ID, appauthor=False)) / LOG_NAME


_live: weakref.WeakSet[WorkerProcess] = weakref.WeakSet()


@atexit.register
def _stop_all_at_exit() -> None:
    for worker in list(_live):
        worker.kill_now()


# ---------------------------------------------------------------- the worker process


class WorkerProcess:
    """One worker: start (spawn, load, wait ready), requests, cancel, stop, state and log."""

    def __init__(self, config: WorkerConfig, *, python: str | None = None,
                 env: Mapping[str, str] | None = None, start_timeout: float = 600.0,
                 stop_timeout: float = 5.0, log_path: Path | None = None, keep_lines: int = 200,
                 on_state: Callable[[ServerStatus], None] | None = None,
                 on_log: Callable[[str], None] | None = None) -> None:
        self.config = config
        self.model = config.model
        self.python = python or sys.executable
        self.env = dict(env) if env is not None else None
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.log_path = log_path
        self.on_state = on_state
        self.on_log = on_log
        self.info: dict[str, Any] = {}
        self.status = ServerStatus(ServerState.STOPPED, time.monotonic())
        self._tail: collections.deque[str] = collections.deque(maxlen=keep_lines)
        self._tail_lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._job: Any = None
        self._threads: list[threading.Thread] = []
        self._outbox: queue.Queue[bytes | None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready: asyncio.Future[dict[str, Any]] | None = None
        self._starting: asyncio.Future[None] | None = None
        self._streams: dict[int, asyncio.Queue[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._stopping = False

    # ------------------------------------------------------------ state

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def returncode(self) -> int | None:
        return self._proc.poll() if self._proc else None

    def log_lines(self) -> list[str]:
        with self._tail_lock:
            return list(self._tail)

    def _set(self, state: ServerState, message: str = "", error: EngineError | None = None) -> None:
        self.status = ServerStatus(state, time.monotonic(), message, error)
        if self.on_state is not None:
            try:
                self.on_state(self.status)
            except Exception:
                log.exception("on_state callback failed")

    def _last_error_line(self) -> str:
        for line in reversed(self.log_lines()):
            text = line.strip()
            if text and any(w in text.lower() for w in ("error", "exception", "killed", "fatal")):
                return text[:300]
        return ""

    # ------------------------------------------------------------ start

    async def start(self) -> None:
        """Spawn the worker and wait until the model is loaded. Raises TransformersEngineError."""
        if self.status.state is ServerState.READY and self.returncode is None:
            return
        if self._starting is not None:  # a second caller waits for the same start
            return await asyncio.shield(self._starting)
        self._loop = asyncio.get_running_loop()
        self._starting = self._loop.create_future()
        try:
            await self._start()
        except Exception as exc:
            self._starting.set_exception(exc)
            self._starting.exception()  # retrieved: nobody else may be waiting
            raise
        except BaseException:
            self._starting.cancel()
            raise
        else:
            self._starting.set_result(None)
        finally:
            self._starting = None

    async def _start(self) -> None:
        self._stopping = False
        missing = missing_packages()
        if missing:
            err = NotInstalled(f"The transformers engine needs {' and '.join(missing)}, which "
                               "this Python does not have.", hint=INSTALL_HINT)
            self._set(ServerState.FAILED, err.user_message, err)
            raise err
        assert self._loop is not None
        self._ready = self._loop.create_future()
        with self._tail_lock:
            self._tail.clear()
        self._set(ServerState.STARTING, f"loading {Path(self.model).name or self.model}")
        try:
            self._spawn()
            self._send(self.config.load_command())
            try:
                self.info = await asyncio.wait_for(asyncio.shield(self._ready), self.start_timeout)
            except TimeoutError:
                raise EngineTimeout(f"The model did not load within {self.start_timeout:g} s.",
                                    hint="A large model on a CPU loads slowly: raise the start "
                                         "timeout, or choose a smaller model.") from None
        except asyncio.CancelledError:
            await self._terminate()
            self._set(ServerState.STOPPED, "start cancelled")
            raise
        except EngineError as err:
            await self._terminate()
            self._set(ServerState.FAILED, err.user_message, err)
            raise
        except Exception as exc:  # an OS surprise: still no orphan, still a clear state
            await self._terminate()
            err = TransformersEngineError(f"Starting the transformers worker failed: {exc}")
            self._set(ServerState.FAILED, err.user_message, err)
            raise err from exc
        self._set(ServerState.READY, f"{Path(self.info.get('model') or self.model).name} ready on "
                                     f"{self.info.get('describe', self.info.get('device'))} "
                                     f"(loaded in {self.info.get('load_s', 0):.1f} s)")

    def _spawn(self) -> None:
        env = dict(os.environ if self.env is None else self.env)
        env["PYTHONUNBUFFERED"] = "1"
        env.setdefault("HF_HUB_OFFLINE", "1")
        logfile = self._open_log()
        proc, job = spawn_worker([self.python, "-m", WORKER_MODULE], env)
        self._proc, self._job = proc, job
        _live.add(self)
        self._outbox = queue.Queue()
        loop = self._loop
        self._threads = [
            threading.Thread(target=self._read_events, args=(proc, loop), name="tf-worker-out", daemon=True),
            threading.Thread(target=self._read_log, args=(proc, logfile, loop), name="tf-worker-log", daemon=True),
            threading.Thread(target=self._write, args=(proc, self._outbox), name="tf-worker-in", daemon=True),
        ]
        for t in self._threads:
            t.start()

    def _open_log(self) -> Any:
        path = self.log_path or default_log_path()
        self.log_path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists():
                os.replace(path, path.with_name(path.name + ".1"))
            handle = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed by the log thread
            handle.write(f"# {time.strftime('%Y-%m-%d %H:%M:%S')} {self.python} -m {WORKER_MODULE} "
                         f"{json.dumps(self.config.load_command())}\n")
            return handle
        except OSError:
            log.warning("cannot write the worker log to %s", path, exc_info=True)
            return None

    # ------------------------------------------------------------ threads

    def _write(self, proc: subprocess.Popen[bytes], outbox: queue.Queue[bytes | None]) -> None:
        assert proc.stdin is not None
        try:
            while (data := outbox.get()) is not None:
                proc.stdin.write(data)
                proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass  # the worker is gone; the event reader reports it
        finally:
            with contextlib.suppress(OSError, ValueError):
                proc.stdin.close()  # end of file: the worker exits

    def _read_events(self, proc: subprocess.Popen[bytes], loop: asyncio.AbstractEventLoop | None) -> None:
        assert proc.stdout is not None
        try:
            for raw in proc.stdout:
                try:
                    event = json.loads(raw)
                except ValueError:
                    log.warning("transformers worker: not a protocol line: %.200r", raw)
                    continue
                if isinstance(event, dict) and loop is not None:
                    with contextlib.suppress(RuntimeError):  # loop closed: nobody listens
                        loop.call_soon_threadsafe(self._dispatch, proc, event)
        finally:
            with contextlib.suppress(Exception):
                proc.stdout.close()
            rc = proc.wait()
            for t in self._threads:
                if t.name == "tf-worker-log" and t is not threading.current_thread():
                    t.join(5.0)  # so the tail holds the dying words
            if loop is not None:
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(self._on_exit, proc, rc)

    def _read_log(self, proc: subprocess.Popen[bytes], logfile: Any,
                  loop: asyncio.AbstractEventLoop | None) -> None:
        assert proc.stderr is not None
        try:
            for raw in proc.stderr:
                # A progress bar redraws itself with \r: keep what a terminal would show.
                line = raw.decode("utf-8", "replace").rstrip("\r\n").split("\r")[-1]
                with self._tail_lock:
                    self._tail.append(line)
                if logfile is not None:
                    with contextlib.suppress(OSError, ValueError):
                        logfile.write(line + "\n")
                        logfile.flush()
                if self.on_log is not None and loop is not None:
                    with contextlib.suppress(RuntimeError):
                        loop.call_soon_threadsafe(self._emit_log, line)
        finally:
            with contextlib.suppress(Exception):
                proc.stderr.close()
            if logfile is not None:
                with contextlib.suppress(OSError, ValueError):
                    logfile.close()

    def _emit_log(self, line: str) -> None:
        if self.on_log is not None:
            try:
                self.on_log(line)
            except Exception:
                log.exception("on_log callback failed")

    # ------------------------------------------------------------ events (on the loop)

    def _dispatch(self, proc: subprocess.Popen[bytes], event: dict[str, Any]) -> None:
        if proc is not self._proc:
            return
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

    def _on_exit(self, proc: subprocess.Popen[bytes], rc: int) -> None:
        if proc is not self._proc:
            return
        last = self._last_error_line()
        signalled = f"killed by signal {-rc}" if rc < 0 else f"exit code {rc}"
        err = WorkerDied(f"The transformers worker stopped unexpectedly ({signalled})"
                         f"{': ' + last if last else ''}.",
                         hint="See the worker log" + (" (a killed worker often ran out of memory: "
                                                      "try a smaller model or fewer tiles)" if rc < 0 else "")
                              + "; start the engine again.")
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(err)
        for stream in self._streams.values():
            stream.put_nowait({"ev": "exit", "error": err})
        if self._stopping:
            return
        if self.status.state is ServerState.READY:
            self._set(ServerState.FAILED, err.user_message, err)

    # ------------------------------------------------------------ requests

    def _send(self, command: dict[str, Any], payload: bytes = b"") -> None:
        if self._outbox is None:
            raise WorkerDied("The transformers worker is not running.")
        line = json.dumps(command, ensure_ascii=False).encode("utf-8") + b"\n"
        self._outbox.put(line + payload if payload else line)

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
        self._stopping = True
        had_process = self._proc is not None
        try:
            await self._terminate()
        except Exception:
            log.exception("stopping the transformers worker failed")
        if had_process or self.status.state is not ServerState.FAILED:
            self._set(ServerState.STOPPED, "stopped")

    async def _terminate(self) -> None:
        proc = self._proc
        if proc is None:
            return
        self._stopping = True
        if self._outbox is not None:
            with contextlib.suppress(Exception):
                self._outbox.put(json.dumps({"op": "quit"}).encode() + b"\n")
            self._outbox.put(None)  # and close its stdin: end of file ends it too
        deadline = time.monotonic() + self.stop_timeout
        while proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        kill_tree(proc, signal.SIGKILL)  # always: the tree is ours
        if self._job is not None:
            self._job.release()
            self._job = None
        await asyncio.to_thread(proc.wait)
        for t in self._threads:
            await asyncio.to_thread(t.join, 5.0)
        _live.discard(self)
        self._proc = None
        self._outbox = None
        for stream in self._streams.values():
            stream.put_nowait({"ev": "exit", "error": Cancelled("The engine was stopped.")})

    def kill_now(self) -> None:
        """Synchronous last resort (atexit)."""
        proc = self._proc
        if proc is None:
            return
        self._stopping = True
        if self._outbox is not None:
            self._outbox.put(None)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(min(self.stop_timeout, 2.0))
        kill_tree(proc, signal.SIGKILL)
        if self._job is not None:
            self._job.release()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5.0)
