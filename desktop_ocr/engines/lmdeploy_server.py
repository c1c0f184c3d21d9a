"""Spawn, watch and stop `lmdeploy serve api_server`, and the engine built on it.

Follows ../shared/lmdeploy-contract.md: loopback only, a free port checked before the
spawn, a fresh random API key per start, `--model-name internvl3`, never
`--chat-template`; readiness by polling `/health` (connection refused and 503 both mean
"still starting") until healthy, the process exits, or the start timeout fires.

No server outlives the app (engines/watchdog.py holds the mechanics, and
engines/child_process.py the spawn, log, stop and atexit hook every spawner shares):
- the server runs in its own session / process group (Windows: its own console process
  group and a job object that dies with the app), so stop() can signal the whole tree
  (the server has child processes): SIGTERM, wait `stop_timeout`, SIGKILL. An `atexit`
  hook does the same when the app exits normally.
- a watchdog process holds a pipe whose other end only the app holds: when the app dies
  (SIGKILL, a crash, the OOM killer) the pipe closes and the watchdog ends the server's
  whole session within a couple of seconds. Linux also gives the server leader the
  parent-death signal (SIGKILL at once).
- SIGTERM / SIGHUP of the app run the same clean stop as closing the window or Ctrl+C
  (gui/app.py, cli.py).
- a server that dies on its own has what is left of its tree killed at once (workers of
  a dead server would hold the GPU), and `start()` starts a fresh one.

The log goes to `<user log dir>/lmdeploy-server.log` (0600; previous start: `.log.1`),
ending with "# exited with code N"; the last `log_lines` lines stay in memory to explain
a failed start.

State for the GUI (no Qt here): `on_state(ServerStatus)` and `on_log(line)` callbacks,
always called on the event loop that called start(); `status` and `log_lines()` to read.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop_ocr.core.contract import (
    Chunk,
    EngineCrashed,
    EngineDied,
    EngineError,
    EngineTimeout,
    EngineUnavailable,
    Health,
    Request,
)
from desktop_ocr.core.messages import QT_TRANSLATE_NOOP, Text, sentences
from desktop_ocr.engines.child_process import ServerState, ServerStatus, Supervisor

if TYPE_CHECKING:
    import httpx

    from desktop_ocr.core.settings import Settings
    from desktop_ocr.engines.openai_compat import OpenAIEngine

log = logging.getLogger(__name__)

MODEL_NAME = "internvl3"  # what --model-name serves the model as
HOST = "127.0.0.1"
LOG_NAME = "lmdeploy-server.log"
IS_WINDOWS = sys.platform.startswith("win")
IS_LINUX = sys.platform.startswith("linux")
NEW_PORT_HINT = QT_TRANSLATE_NOOP("Messages", "Start again: a new free port is picked each time.")


# ---------------------------------------------------------------- errors


class ServerStartError(EngineUnavailable):
    """The local server did not come up. `log_tail` holds its last log lines."""

    def __init__(self, message: str, *, hint: str = "", returncode: int | None = None,
                 log_tail: Sequence[str] = ()) -> None:
        super().__init__(message, hint=hint)
        self.returncode = returncode
        self.log_tail = list(log_tail)


class LMDeployNotFound(ServerStartError):
    """No lmdeploy installation to run."""


class BadArguments(ServerStartError):
    """lmdeploy refused its command line (exit 2) or a setting is invalid."""


class ModelNotFound(ServerStartError):
    """The model id / path does not exist or could not be downloaded."""


class ModelNotDownloaded(ModelNotFound):
    """The model is not on disk as a complete folder; the server is never asked to fetch it.

    `model` is the catalog name (or hub id) to offer as a download.
    """

    def __init__(self, model: str, problem: str = "") -> None:
        what = (Text(QT_TRANSLATE_NOOP("Messages", "{model} is on disk but incomplete ({why})."),
                     model=model, why=problem) if problem else
                Text(QT_TRANSLATE_NOOP("Messages", "{model} is not on disk."), model=model))
        super().__init__(what, hint=Text(QT_TRANSLATE_NOOP(
            "Messages", "Download it in the engine panel (Models…), or run: desktop-ocr models pull "
                        "{model}"), model=model))
        self.model = model
        self.problem = problem


class OutOfMemory(ServerStartError):
    """CUDA ran out of memory while loading."""


class NativeCrash(ServerStartError):
    """The server aborted in native code (CUDA / TurboMind), exit 134."""


class PortInUse(ServerStartError):
    """Something else holds the port."""


class StartTimeout(ServerStartError, EngineTimeout):
    """The server neither became healthy nor exited within the start timeout."""


class ServerDied(EngineDied):
    """The server was ready and then exited; the message has the exit code and the
    server's last error line, `log_tail` its last lines."""

    def __init__(self, message: str, *, hint: str = "", returncode: int | None = None,
                 log_tail: Sequence[str] = ()) -> None:
        super().__init__(message, hint=hint)
        self.returncode = returncode
        self.log_tail = tuple(log_tail)


# ---------------------------------------------------------------- finding lmdeploy

_PYTHON_RE = re.compile(r"^python(\d+(\.\d+)*)?w?(\.exe)?$", re.IGNORECASE)


def _is_python(path: str) -> bool:
    return bool(_PYTHON_RE.match(Path(path).name))


@lru_cache(maxsize=16)
def _python_has_lmdeploy(python: str) -> bool:
    # find_spec only locates the package: nothing heavy is imported.
    code = "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('lmdeploy') else 1)"
    try:
        return subprocess.run([python, "-c", code], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def locate_lmdeploy(settings: Settings) -> tuple[list[str] | None, str]:
    """The command prefix that runs lmdeploy, and how it was found (or why not)."""
    configured = (settings.lmdeploy_command or "").strip()
    if configured:
        parts = shlex.split(configured, posix=not IS_WINDOWS)
        if len(parts) > 1:  # e.g. "conda run -n vlm lmdeploy": trust the user
            return parts, f"configured command: {configured}"
        exe = shutil.which(parts[0]) or (parts[0] if Path(parts[0]).is_file() else None)
        if exe is None:
            return None, f"the configured lmdeploy command {configured!r} does not exist"
        if _is_python(exe):
            if _python_has_lmdeploy(exe):
                return [exe, "-m", "lmdeploy"], f"configured Python interpreter {exe}"
            return None, f"the configured Python {exe} has no lmdeploy module"
        return [exe], f"configured executable {exe}"
    if not getattr(sys, "frozen", False) and importlib.util.find_spec("lmdeploy") is not None:
        return [sys.executable, "-m", "lmdeploy"], f"installed in this Python ({sys.executable})"
    exe = shutil.which("lmdeploy")
    if exe:
        return [exe], f"on PATH: {exe}"
    return None, ("lmdeploy is not installed: pip install 'desktop-ocr[gpu]', or set the lmdeploy "
                  "command (an lmdeploy executable or a Python that has it)")


def find_lmdeploy(settings: Settings) -> list[str] | None:
    return locate_lmdeploy(settings)[0]


# ---------------------------------------------------------------- launch line


def port_is_free(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # No SO_REUSEADDR: we want the same answer uvicorn's bind will get.
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


BACKENDS = ("turbomind", "pytorch")


def build_command(prefix: Sequence[str], model: str, *, port: int, api_key: str,
                  session_len: int = 16384, cache_max_entry_count: float = 0.5,
                  model_format: str = "", dtype: str = "", tp: int = 1,
                  quant_policy: int = 0, backend: str = "turbomind",
                  model_name: str = MODEL_NAME) -> list[str]:
    """The argv of the contract's launch line. Never `--chat-template` (removed template).

    `backend` is the catalog's LMDeploy engine for the model (TurboMind, or PyTorch for
    what TurboMind does not serve); `model_name` is what the server calls it.
    """
    if backend not in BACKENDS:
        raise BadArguments(f"Unknown LMDeploy backend {backend!r}.", hint="Use turbomind or pytorch.")
    if tp < 1 or tp & (tp - 1):
        raise BadArguments(f"--tp must be a power of two, not {tp}.", hint="Use 1, 2, 4 or 8.")
    if quant_policy not in (0, 4, 8):
        raise BadArguments(f"KV cache quantisation must be 0, 4 or 8, not {quant_policy}.")
    if not 0 < cache_max_entry_count <= 1:
        raise BadArguments(f"--cache-max-entry-count must be in (0, 1], not {cache_max_entry_count}.")
    args = [*prefix, "serve", "api_server", model,
            "--backend", backend, "--trust-remote-code",
            "--server-name", HOST, "--server-port", str(port),
            "--model-name", model_name,
            "--session-len", str(session_len), "--cache-max-entry-count", f"{cache_max_entry_count:g}",
            "--api-keys", api_key, "--log-level", "INFO"]
    if model_format:
        args += ["--model-format", model_format]
    if quant_policy:
        args += ["--quant-policy", str(quant_policy)]
    if tp > 1:
        args += ["--tp", str(tp)]
    if dtype and dtype != "auto":
        args += ["--dtype", dtype]
    return args


# ---------------------------------------------------------------- failure diagnosis

_OOM = re.compile(r"CUDA out of memory|OutOfMemoryError|out of memory|CUDA_ERROR_OUT_OF_MEMORY", re.I)
_PORT = re.compile(r"address already in use|Errno 98|Errno 48|WinError 10048", re.I)
_MISSING = re.compile(r"RepositoryNotFoundError|Repository Not Found|is not a local folder|"
                      r"LocalEntryNotFoundError|HFValidationError|not a valid model identifier|"
                      r"does not appear to have a file named|Can't load the configuration", re.I)
_NATIVE = re.compile(r"terminate called|Aborted|core dumped|Segmentation fault|CUDA runtime error", re.I)
_NO_MODULE = re.compile(r"No module named '?lmdeploy'?|No module named lmdeploy")


def _last_error_line(lines: Sequence[str]) -> str:
    for line in reversed(lines):
        text = line.strip()
        if text and re.search(r"error|exception|fatal|what\(\)", text, re.I):
            return text[:300]
    for line in reversed(lines):
        if line.strip():
            return line.strip()[:300]
    return ""


def classify_failure(returncode: int | None, lines: Sequence[str], *, model: str = "",
                     port: int | None = None, cache_max_entry_count: float = 0.5) -> ServerStartError:
    """Turn an exit code and the server's last log lines into a plain message + fix."""
    text = "\n".join(lines)
    last = _last_error_line(lines)
    kw: dict[str, Any] = {"returncode": returncode, "log_tail": lines}
    detail = f" ({last})" if last else ""
    if _NO_MODULE.search(text):
        return LMDeployNotFound(
            QT_TRANSLATE_NOOP("Messages", "The configured Python does not have lmdeploy installed."),
            hint=QT_TRANSLATE_NOOP("Messages", "pip install 'desktop-ocr[gpu]' there, or change the "
                                               "lmdeploy command."), **kw)
    if _OOM.search(text):
        return OutOfMemory(Text(QT_TRANSLATE_NOOP("Messages", "The GPU ran out of memory while loading {model}."),
                                model=model or QT_TRANSLATE_NOOP("Messages", "the model")),
                           hint=Text(QT_TRANSLATE_NOOP(
                               "Messages", "Choose a smaller model (e.g. InternVL3-2B) or an AWQ model, close "
                                           "other GPU programs, or lower the KV cache share "
                                           "(--cache-max-entry-count, now {share:g})."),
                               share=cache_max_entry_count), **kw)
    if _PORT.search(text):
        return PortInUse(Text(QT_TRANSLATE_NOOP(
            "Messages", "Another program took port {port} while the server was starting."), port=port),
            hint=NEW_PORT_HINT, **kw)
    if returncode == 2:
        return BadArguments(Text(QT_TRANSLATE_NOOP("Messages", "lmdeploy refused its command line{detail}."),
                                 detail=detail),
                            hint=QT_TRANSLATE_NOOP(
                                "Messages", "Check the engine settings; an older or newer lmdeploy may not "
                                            "know an option (this app expects lmdeploy 0.18)."), **kw)
    if _MISSING.search(text):
        return ModelNotFound(Text(QT_TRANSLATE_NOOP("Messages", "The model {model} was not found{detail}."),
                                  model=repr(model), detail=detail),
                             hint=QT_TRANSLATE_NOOP(
                                 "Messages", "Check the model id or folder. The first start downloads the "
                                             "model from the hub and needs network access."), **kw)
    if returncode in (134, -6) or (returncode is not None and returncode < 0 and _NATIVE.search(text)) \
            or _NATIVE.search(text):
        return NativeCrash(Text(QT_TRANSLATE_NOOP(
            "Messages", "The server crashed in native GPU code (exit code {code}){detail}."),
            code=returncode, detail=detail),
            hint=QT_TRANSLATE_NOOP("Messages", "Check that the NVIDIA driver is recent enough for this "
                                               "lmdeploy/CUDA build and the GPU is supported; see the "
                                               "server log."), **kw)
    return ServerStartError(Text(QT_TRANSLATE_NOOP(
        "Messages", "The server exited during start (exit code {code}){detail}."),
        code=returncode, detail=detail),
        hint=QT_TRANSLATE_NOOP("Messages", "See the server log for details."), **kw)


# ---------------------------------------------------------------- the server


def default_log_path() -> Path:
    import platformdirs

    from desktop_ocr import APP_ID

    return Path(platformdirs.user_log_dir(APP_ID, appauthor=False)) / LOG_NAME


class LMDeployServer(Supervisor):
    """One `lmdeploy serve api_server` process: start (spawn + wait healthy), stop, state."""

    what = "the server"

    def __init__(self, command: Sequence[str] | None, model: str, *, session_len: int = 16384,
                 cache_max_entry_count: float = 0.5, model_format: str = "", dtype: str = "",
                 tp: int = 1, quant_policy: int = 0, port: int | None = None,
                 start_timeout: float = 600.0, stop_timeout: float = 15.0,
                 poll_initial: float = 0.25, poll_max: float = 2.0,
                 log_path: Path | None = None, keep_lines: int = 200,
                 env: Mapping[str, str] | None = None,
                 on_state: Callable[[ServerStatus], None] | None = None,
                 on_log: Callable[[str], None] | None = None,
                 unavailable_reason: str = "", backend: str = "turbomind",
                 model_name: str = MODEL_NAME, missing_model: str = "", missing_problem: str = "",
                 require_local: bool = True) -> None:
        super().__init__(start_timeout=start_timeout, stop_timeout=stop_timeout, log_path=log_path,
                         keep_lines=keep_lines, on_state=on_state, on_log=on_log)
        self.command = list(command) if command else None
        self.model = model
        self.backend = backend
        self.model_name = model_name
        # Set when the wanted model is not on disk: start() then offers the download instead.
        self.missing_model = missing_model
        self.missing_problem = missing_problem
        self.require_local = require_local
        self.session_len = session_len
        self.cache_max_entry_count = cache_max_entry_count
        self.model_format = model_format
        self.dtype = dtype
        self.tp = tp
        self.quant_policy = quant_policy
        self.requested_port = port
        self.poll_initial = poll_initial
        self.poll_max = poll_max
        self.env = dict(env) if env is not None else None
        self.unavailable_reason = unavailable_reason
        self.port: int | None = None
        self.api_key: str = ""

    # ------------------------------------------------------------ public state

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def build_args(self, port: int, api_key: str) -> list[str]:
        if not self.command:
            raise LMDeployNotFound("lmdeploy was not found.")
        return build_command(self.command, self.model, port=port, api_key=api_key,
                             session_len=self.session_len,
                             cache_max_entry_count=self.cache_max_entry_count,
                             model_format=self.model_format, dtype=self.dtype, tp=self.tp,
                             quant_policy=self.quant_policy, backend=self.backend,
                             model_name=self.model_name)

    # ------------------------------------------------------------ start

    async def start(self) -> None:
        """Spawn the server and wait until it answers healthy. Raises ServerStartError."""
        await super().start()

    async def _start(self) -> None:
        if not self.command:
            raise self._fail(LMDeployNotFound(QT_TRANSLATE_NOOP("Messages", "lmdeploy was not found."),
                                              hint=self.unavailable_reason))
        if not self.model and self.missing_model:
            raise self._fail(ModelNotDownloaded(self.missing_model, self.missing_problem))
        if not self.model:
            raise self._fail(ServerStartError(QT_TRANSLATE_NOOP("Messages", "No model is chosen."),
                                              hint=self.unavailable_reason or QT_TRANSLATE_NOOP(
                                                  "Messages", "Set a model id or folder.")))
        if self.require_local:
            # Never let lmdeploy download inside the start timeout: only a complete folder starts.
            from desktop_ocr.engines.model_store import folder_problem

            problem = folder_problem(Path(self.model)) if Path(self.model).exists() else ""
            if problem or not Path(self.model).exists():
                raise self._fail(ModelNotDownloaded(self.missing_model or self.model, problem))
        if self.requested_port is not None and not port_is_free(self.requested_port):
            raise self._fail(PortInUse(Text(QT_TRANSLATE_NOOP(
                "Messages", "Port {port} is already in use by another program."), port=self.requested_port),
                hint=QT_TRANSLATE_NOOP("Messages", "Choose another port, or leave it empty to pick a free one.")))
        self.port = self.requested_port or free_port()
        # Hex, not token_urlsafe: a key starting with "-" reads as an option to argparse.
        self.api_key = "sk-" + secrets.token_hex(24)
        try:
            args = self.build_args(self.port, self.api_key)
        except EngineError as err:
            self._fail(err)
            raise
        self._tail.clear()
        self._set(ServerState.STARTING, f"starting {self.model}")

        async def begin() -> None:
            self._spawn(args)
            await self._wait_ready()

        await self._run_start(begin, lambda exc: ServerStartError(f"Starting the server failed: {exc}",
                                                                  log_tail=self.log_lines()))
        self._set(ServerState.READY, f"{self.model} ready on port {self.port}")

    def _spawn(self, args: list[str]) -> None:
        env = dict(os.environ if self.env is None else self.env)
        env["PYTHONUNBUFFERED"] = "1"  # log lines as they happen, not in 8 KB blocks
        # The model is a complete local folder; nothing may reach out to a hub from here.
        env.setdefault("HF_HUB_OFFLINE", "1")
        env.setdefault("TRANSFORMERS_OFFLINE", "1")
        self.log_path = self.log_path or default_log_path()
        shown = [("***" if prev == "--api-keys" else a) for prev, a in zip(["", *args[:-1]], args, strict=True)]
        try:
            self._spawn_child(args, env, name="lmdeploy", header=shlex.join(shown))
        except OSError as exc:
            raise LMDeployNotFound(Text(QT_TRANSLATE_NOOP("Messages", "Cannot run {command}: {why}."),
                                        command=args[0], why=str(exc.strerror or exc)),
                                   hint=QT_TRANSLATE_NOOP(
                                       "Messages", "Check the lmdeploy command in the engine settings.")) from None

    def _child_exited(self, rc: int) -> None:
        # The child already ended what was left of its tree (workers would hold the GPU).
        if not self._stopping and self.status.state is ServerState.READY:
            err = self.death()
            self._set(ServerState.FAILED, err.user_message, err)

    async def reaped(self) -> None:
        """Once a dead server's exit is handled: its tree ended, its last words read."""
        if self.child is not None:
            await self.child.wait()

    def death(self) -> ServerDied:
        """The error of a server that died after it was ready: exit code and last words."""
        lines = self.log_lines()
        last = _last_error_line(lines)
        rc = self.returncode
        how = Text(QT_TRANSLATE_NOOP("Messages", "exit code {code}"), code=rc)
        if rc is not None and rc < 0:
            with contextlib.suppress(ValueError):
                how = Text(QT_TRANSLATE_NOOP("Messages", "killed by {signal}"), signal=signal.Signals(-rc).name)
        where = f" ({self.log_path})" if self.log_path else ""
        message = (Text(QT_TRANSLATE_NOOP("Messages", "The InternVL3 server stopped unexpectedly ({how}): {last}."),
                        how=how, last=last) if last else
                   Text(QT_TRANSLATE_NOOP("Messages", "The InternVL3 server stopped unexpectedly ({how})."), how=how))
        return ServerDied(message, hint=Text(QT_TRANSLATE_NOOP(
            "Messages", "See the server log{where}; starting the engine again restarts it."), where=where),
            returncode=rc, log_tail=lines[-20:])

    async def _wait_ready(self) -> None:
        child = self.child
        assert child is not None
        deadline = time.monotonic() + self.start_timeout
        delay = self.poll_initial
        import httpx  # here, not at import: the GUI imports this module before its window shows

        async with httpx.AsyncClient(base_url=self.base_url, trust_env=False) as client:
            while True:
                if child.returncode is not None:
                    rc = await child.wait()  # so the tail holds the dying words
                    raise classify_failure(rc, self.log_lines(), model=self.model,
                                           port=self.port, cache_max_entry_count=self.cache_max_entry_count)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    hint = QT_TRANSLATE_NOOP("Messages", "A first start downloads the model; raise the "
                                                         "start timeout if the download is slow. See the "
                                                         "server log.")
                    if self.tp > 1:
                        hint = sentences(QT_TRANSLATE_NOOP(
                            "Messages", "Multi-GPU (--tp) starts can hang (lmdeploy issue 3993): try one GPU."),
                            hint)
                    raise StartTimeout(Text(QT_TRANSLATE_NOOP(
                        "Messages", "The server did not become ready within {seconds:g} s."),
                        seconds=self.start_timeout), hint=hint, log_tail=self.log_lines())
                try:
                    r = await client.get("/health", timeout=min(5.0, max(0.1, remaining)))
                    if r.status_code == 200:
                        await self._check_ours(client)
                        return
                except httpx.TransportError:
                    pass  # refused: the port is bound only after the model has loaded
                await asyncio.sleep(min(delay, max(0.0, deadline - time.monotonic())))
                delay = min(delay * 1.5, self.poll_max)

    async def _check_ours(self, client: httpx.AsyncClient) -> None:
        """A healthy answer could come from someone else's server that grabbed the port."""
        r = await client.get("/v1/models", headers={"Authorization": f"Bearer {self.api_key}"},
                             timeout=10.0)
        if r.status_code == 401:
            raise PortInUse(Text(QT_TRANSLATE_NOOP("Messages", "Another server answers on port {port}."),
                                 port=self.port), hint=NEW_PORT_HINT,
                            log_tail=self.log_lines())

    # ------------------------------------------------------------ stop

    async def stop(self) -> None:
        """SIGTERM the process group, wait stop_timeout, SIGKILL. Idempotent; never raises."""
        await super().stop()


# ---------------------------------------------------------------- which model, from where


@dataclass(frozen=True)
class ModelPlan:
    """What the local server will run: a complete folder, or the model to download first."""

    path: str  # the complete local folder ("" when it is not on disk)
    name: str  # catalog name, hub id or folder name (for messages and the download offer)
    family: str  # catalog family id ("" when unknown: InternVL's request shape is used)
    backend: str
    served_name: str
    model_format: str
    dtype: str
    tp: int
    reason: str = ""  # why this model (the advice), or why none
    missing: str = ""  # the model to download when `path` is empty
    problem: str = ""  # what is wrong with an incomplete copy


def plan_model(settings: Settings, *, probe: Any = None, store: Any = None) -> ModelPlan:
    """Turn the model setting (or, when empty, the GPU advice) into a local folder to serve."""
    from desktop_ocr.core import catalog
    from desktop_ocr.engines import gpu
    from desktop_ocr.engines.model_store import ModelStore

    cat = catalog.load()
    store = store or ModelStore.from_settings(settings)
    wanted, model_format, dtype, tp = settings.model, settings.model_format, settings.dtype, settings.tp
    reason, path, problem = "", "", ""
    need_probe = not wanted or dtype == "auto"
    probe = probe if probe is not None else (gpu.probe() if need_probe else None)
    if not wanted:
        advice = gpu.advise(probe, on_disk=store.complete(), session_len=settings.session_len)
        reason = advice.reason
        wanted, path = advice.name, advice.path
        if advice.ok:
            model_format = model_format or advice.model_format
            tp = advice.tp if tp == 1 else tp
    else:
        path, found = store.resolve(wanted)
        if not path and found is not None:
            problem = found.problem
    if dtype == "auto":
        # bf16 needs compute capability 8.0; lmdeploy's own default suits newer cards.
        dtype = "float16" if probe is not None and probe.gpus and not all(g.bf16 for g in probe.gpus) else ""
    entry = cat.get(wanted) or (cat.get(Path(path).name) if path else None)
    family = cat.family_of(path) if path else None
    family = family or (cat.family(entry.family) if entry else None) or cat.family_of(wanted)
    awq = (entry.awq if entry else False) or wanted.lower().rstrip("/").endswith("awq")
    if not model_format and awq:
        model_format = "awq"
    if entry is not None:
        backend = entry.backend
    else:  # a folder the catalog does not know: PyTorch for what TurboMind's table leaves out
        backend = "pytorch" if family is not None and family.id == "qwen2_5_vl" and not awq else "turbomind"
    return ModelPlan(path, entry.name if entry else wanted, family.id if family else "", backend,
                     family.served_name if family else MODEL_NAME, model_format, dtype, tp, reason,
                     "" if path else wanted, problem)


# ---------------------------------------------------------------- the engine


class LMDeployEngine:
    """Engine protocol over a local LMDeploy server: start() spawns it, stop() stops it."""

    name = "lmdeploy"

    def __init__(self, server: LMDeployServer, *, max_concurrency: int = 4,
                 client_options: dict[str, Any] | None = None) -> None:
        self.server = server
        self.max_concurrency = max(1, max_concurrency)
        self.client_options = dict(client_options or {})
        self._client: OpenAIEngine | None = None
        self.plan: ModelPlan | None = None

    @property
    def family(self) -> str:
        """The catalog family whose request shape the client sends (InternVL tiles, Qwen pixels)."""
        return self.plan.family if self.plan is not None else ""

    @classmethod
    def from_settings(cls, settings: Settings, *, on_state: Callable[[ServerStatus], None] | None = None,
                      on_log: Callable[[str], None] | None = None, **server_options: Any) -> LMDeployEngine:
        """Build (not start) from settings; an empty model is chosen from free VRAM.

        Problems (no lmdeploy, nothing fits) surface from start(), as a failed state.
        """
        command, how = locate_lmdeploy(settings)
        plan = plan_model(settings)
        options: dict[str, Any] = {
            "session_len": settings.session_len, "cache_max_entry_count": settings.cache_max_entry_count,
            "model_format": plan.model_format, "dtype": plan.dtype, "tp": plan.tp,
            "quant_policy": settings.quant_policy, "start_timeout": settings.start_timeout,
            "on_state": on_state, "on_log": on_log, "unavailable_reason": how if not command else plan.reason,
            "backend": plan.backend, "model_name": plan.served_name, "missing_model": plan.missing,
            "missing_problem": plan.problem,
        }
        options.update(server_options)
        engine = cls(LMDeployServer(command, plan.path, **options), max_concurrency=settings.max_in_flight,
                     client_options={"timeout": settings.timeout})
        engine.plan = plan
        return engine

    @property
    def model(self) -> str:
        return self.server.model

    async def start(self) -> None:
        """Start the server; after it died, start a fresh one (a new port and key)."""
        await self.server.start()
        client = self._client
        if client is None or (client.endpoint, client.api_key) != (self.server.base_url, self.server.api_key):
            from desktop_ocr.engines.openai_compat import OpenAIEngine

            if client is not None:
                await client.stop()
            self._client = OpenAIEngine(self.server.base_url, self.server.api_key, self.server.model_name,
                                        max_concurrency=self.max_concurrency, family=self.family,
                                        **self.client_options)
        await self._client.start()

    async def stop(self) -> None:
        """Cancel open streams, then stop the server. Never raises."""
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.stop()
        await self.server.stop()

    async def health(self) -> Health:
        st = self.server.status
        details = {"port": st.port, "model": self.server.model, "elapsed": st.elapsed,
                   "log_path": str(self.server.log_path) if self.server.log_path else ""}
        return Health(st.state is ServerState.READY, st.state.value, st.message, details)

    async def stream(self, request: Request) -> AsyncIterator[Chunk]:
        client = self._client
        status = self.server.status
        if isinstance(status.error, ServerDied):
            # Every request after a death says why, not "not running": the batch above
            # reports it once and stops, or calls start() again, which restarts the server.
            raise status.error
        if client is None or status.state is not ServerState.READY:
            raise EngineUnavailable(QT_TRANSLATE_NOOP("Messages", "The InternVL3 server is not running."),
                                    hint=QT_TRANSLATE_NOOP("Messages", "Start the engine first."))
        try:
            async with contextlib.aclosing(client.stream(request)) as chunks:
                async for chunk in chunks:
                    yield chunk
        except (EngineCrashed, EngineUnavailable, EngineTimeout) as err:
            if isinstance(err, ServerDied):
                raise
            # A broken connection is often the first sign of a dying server: give its
            # exit a moment to be seen, so the error names the cause.
            broken = getattr(err, "status", None) is None and not isinstance(err, EngineTimeout)
            for _ in range(20 if broken else 0):
                if self.server.returncode is not None:
                    break
                await asyncio.sleep(0.05)
            if self.server.returncode is not None:
                await self.server.reaped()  # its tree ended, the tail holds the dying words
                raise self.server.death() from err
            raise
