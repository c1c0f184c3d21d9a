"""One child process the app supervises, and the state machine of an engine built on one.

`ChildProcess` is the mechanics every spawner shares (the LMDeploy server, the
transformers worker, a model download):
- spawn in a guarded process tree of its own (engines/watchdog.py: its own session or
  process group, the watchdog, the parent-death signal on Linux, a job object on Windows);
- its log: the last lines in memory (`Tail`), optionally a file (mode 0600, the previous
  start's kept as `.1`) that ends with "# exited with code N";
- its output read on threads: every line to the log, or (with `events=True`) JSON-line
  events on stdout and the log on stderr; a progress bar redrawn with `\\r` keeps only
  what a terminal would show;
- an optional stdin writer thread, so a large payload never blocks the event loop;
- its exit: a waiter thread reaps the leader, ends whatever is left of its tree (workers
  of a dead server would hold the GPU), waits until the output is read (so the tail holds
  the dying words), releases the guard and only then reports the exit code;
- stop: ask (SIGTERM to the tree, or the caller's own way such as closing stdin), wait the
  grace period, SIGKILL the whole tree; one atexit hook does the same for every live child.
Callbacks (`on_line`, `on_event`, `on_exit`) run on the event loop that spawned it.

`Supervisor` is what an engine's process adds on top, the shape the GUI reads
(`status`, `on_state`, `on_log`, `log_lines()`, `log_path`): ServerState/ServerStatus,
single-flight start (a second caller waits for the same start), a stop that never raises,
and a failed start that leaves no process and a clear state. Like qutebrowser's
GUIProcess, the process and what the user is told about it live together; unlike it,
this is asyncio and has no Qt (engines/ never imports Qt).
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import contextlib
import json
import logging
import os
import queue
import signal
import subprocess
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from desktop_ocr.core.contract import EngineError
from desktop_ocr.engines.watchdog import Guard, kill_tree, spawn_options

log = logging.getLogger(__name__)

JOIN_S = 5.0  # how long an exit waits for output a stray grandchild may still hold open


def terminal_line(raw: bytes) -> str:
    """One output line as a terminal shows it: a bar redrawn with \\r keeps its last state."""
    text = raw.decode("utf-8", "replace").rstrip("\r\n")
    if "\r" in text:
        text = next((part for part in reversed(text.split("\r")) if part), "")
    return text


class Tail:
    """The last lines of a child's log, shared with the threads that read it."""

    def __init__(self, keep: int = 200) -> None:
        self._lines: collections.deque[str] = collections.deque(maxlen=keep)
        self._lock = threading.Lock()

    def append(self, line: str) -> None:
        with self._lock:
            self._lines.append(line)

    def clear(self) -> None:
        with self._lock:
            self._lines.clear()

    def lines(self) -> list[str]:
        with self._lock:
            return list(self._lines)


def open_log(path: Path, header: str = "") -> IO[str] | None:
    """A fresh 0600 log at `path` (the previous one kept as `.1`), or None if it cannot be."""
    from desktop_ocr.core.logs import open_private

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            previous = path.with_name(path.name + ".1")
            os.replace(path, previous)
            with contextlib.suppress(OSError):
                os.chmod(previous, 0o600)  # a log left 0644 by an older version
        handle = open_private(path, "w")  # logs hold file names and prompts
        if header:
            handle.write(f"# {time.strftime('%Y-%m-%d %H:%M:%S')} {header}\n")
            handle.flush()
        return handle
    except OSError:
        log.warning("cannot write the log %s", path, exc_info=True)
        return None


_live: weakref.WeakSet[ChildProcess] = weakref.WeakSet()


@atexit.register
def _stop_all_at_exit() -> None:
    for child in list(_live):
        child.kill_now()


class ChildProcess:
    """One spawned process and its tree, from spawn to reaped. Not reusable: spawn a new one."""

    def __init__(self, argv: Sequence[str], *, env: Mapping[str, str] | None = None, name: str = "child",
                 events: bool = False, stdin: bool = False, tail: Tail | None = None,
                 log_path: Path | None = None, header: str = "",
                 on_line: Callable[[str], None] | None = None,
                 on_event: Callable[[dict[str, Any]], None] | None = None,
                 on_exit: Callable[[int], None] | None = None,
                 ask: Callable[[ChildProcess], None] | None = None,
                 grace: float = 5.0, exit_grace: float = 5.0, poll: float = 0.05) -> None:
        """`events`: stdout carries JSON-line events, stderr the log (else both are the log).
        `ask`: how stop() asks it to end (default: SIGTERM to the tree). `grace`: how long
        stop() waits before SIGKILL; `exit_grace`: the same at the app's exit (atexit)."""
        self.argv = list(argv)
        self.env = dict(env) if env is not None else None
        self.name = name
        self.events = events
        self.tail = tail if tail is not None else Tail()
        self.log_path = log_path
        self.header = header
        self.on_line = on_line
        self.on_event = on_event
        self.on_exit = on_exit
        self.ask = ask
        self.grace = grace
        self.exit_grace = exit_grace
        self.poll = poll
        self.proc: subprocess.Popen[bytes] | None = None
        self.guard: Guard | None = None
        self._want_stdin = stdin
        self._outbox: queue.Queue[bytes | None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._logfile: IO[str] | None = None
        self._readers: list[threading.Thread] = []
        self._threads: list[threading.Thread] = []
        self._exited = threading.Event()

    # ------------------------------------------------------------ state

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    @property
    def returncode(self) -> int | None:
        return self.proc.poll() if self.proc is not None else None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def finished(self) -> bool:
        """The exit has been handled: reaped, tree ended, output read, guard released."""
        return self._exited.is_set()

    # ------------------------------------------------------------ spawn

    def spawn(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Start it, on the calling thread (the parent-death signal follows that thread:
        call from the event loop's). Raises OSError when it cannot be started."""
        if self.proc is not None:
            raise RuntimeError("a ChildProcess runs once; make a new one")
        if loop is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # a Qt slot under qasync: the loop is set, not "running" here
                loop = asyncio.get_event_loop()
        self._loop = loop
        if self.log_path is not None:
            self._logfile = open_log(self.log_path, self.header)
        try:
            proc = subprocess.Popen(
                self.argv, stdin=subprocess.PIPE if self._want_stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE if self.events else subprocess.STDOUT,
                env=self.env, **spawn_options())
        except BaseException:
            if self._logfile is not None:
                self._logfile.close()
                self._logfile = None
            raise
        self.proc = proc
        self.guard = Guard.start(proc)
        _live.add(self)
        assert proc.stdout is not None
        if self.events:
            assert proc.stderr is not None
            self._readers = [self._thread(self._read_events, proc.stdout, "events"),
                             self._thread(self._read_log, proc.stderr, "log")]
        else:
            self._readers = [self._thread(self._read_log, proc.stdout, "log")]
        self._threads = [*self._readers, self._thread(self._wait, None, "wait")]
        if self._want_stdin:
            self._outbox = queue.Queue()
            self._threads.append(self._thread(self._write, self._outbox, "in"))
        for t in self._threads:
            t.start()

    def _thread(self, target: Callable[[Any], None], arg: Any, what: str) -> threading.Thread:
        return threading.Thread(target=target, args=(arg,), name=f"{self.name}-{what}", daemon=True)

    def _call(self, fn: Callable[..., None] | None, *args: Any) -> None:
        """Run fn(*args) on the spawning loop (from a thread); a closed loop has no listeners."""
        if fn is not None and self._loop is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(fn, *args)

    # ------------------------------------------------------------ threads

    def _line(self, line: str) -> None:
        self.tail.append(line)
        if self._logfile is not None:
            with contextlib.suppress(OSError, ValueError):
                self._logfile.write(line + "\n")
                self._logfile.flush()
        self._call(self.on_line, line)

    def _read_log(self, pipe: IO[bytes]) -> None:
        try:
            for raw in pipe:
                self._line(terminal_line(raw))
        except (OSError, ValueError):
            pass  # closed under us at exit
        finally:
            with contextlib.suppress(Exception):
                pipe.close()

    def _read_events(self, pipe: IO[bytes]) -> None:
        try:
            for raw in pipe:
                try:
                    event = json.loads(raw)
                except ValueError:
                    event = None
                if isinstance(event, dict):
                    self._call(self.on_event, event)
                elif raw.strip():  # a stray print: it belongs in the log, not lost
                    log.debug("%s: not a protocol line: %.200r", self.name, raw)
                    self._line(terminal_line(raw))
        except (OSError, ValueError):
            pass
        finally:
            with contextlib.suppress(Exception):
                pipe.close()

    def _write(self, outbox: queue.Queue[bytes | None]) -> None:
        proc = self.proc
        assert proc is not None and proc.stdin is not None
        try:
            while (data := outbox.get()) is not None:
                proc.stdin.write(data)
                proc.stdin.flush()
        except (OSError, ValueError):
            pass  # the child is gone; its exit is reported by the waiter
        finally:
            with contextlib.suppress(OSError, ValueError):
                proc.stdin.close()  # end of file: a well-behaved child exits

    def _wait(self, _: Any) -> None:
        proc = self.proc
        assert proc is not None
        rc = proc.wait()
        # What is left of the tree of a dead leader serves nobody (and may hold the GPU);
        # ending it also closes the pipes its members inherited, so the readers finish.
        kill_tree(proc, signal.SIGKILL)
        for t in self._readers:
            t.join(JOIN_S)
        if self._outbox is not None:
            self._outbox.put(None)
        if self._logfile is not None:
            with contextlib.suppress(OSError, ValueError):
                self._logfile.write(f"# exited with code {rc}\n")
                self._logfile.close()
        guard, self.guard = self.guard, None
        if guard is not None:
            guard.release()
        _live.discard(self)
        self._exited.set()
        self._call(self.on_exit, rc)

    # ------------------------------------------------------------ input

    def write(self, data: bytes) -> None:
        """Queue bytes for its stdin (in order, off the event loop)."""
        if self._outbox is None:
            raise RuntimeError(f"{self.name} has no stdin")
        self._outbox.put(data)

    def close_stdin(self) -> None:
        """End of file on its stdin, after what was queued before."""
        if self._outbox is not None:
            self._outbox.put(None)

    # ------------------------------------------------------------ stop

    def terminate(self) -> None:
        """SIGTERM to the whole tree (Windows: CTRL_BREAK to its process group)."""
        if self.proc is not None:
            kill_tree(self.proc, signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL to the whole tree, at once."""
        if self.proc is not None:
            kill_tree(self.proc, signal.SIGKILL)

    def _ask(self) -> None:
        try:
            (self.ask or ChildProcess.terminate)(self)
        except Exception:
            log.exception("asking %s to stop failed", self.name)

    async def wait(self) -> int | None:
        """The exit code once the exit is handled (output read, guard released)."""
        if self.proc is None:
            return None
        if not self._exited.is_set():
            await asyncio.to_thread(self._exited.wait)
        return self.proc.returncode

    async def stop(self) -> int | None:
        """Ask, wait `grace`, SIGKILL the tree; return once its exit is handled."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            self._ask()
            deadline = time.monotonic() + self.grace
            while proc.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(self.poll)
        # Always: workers may outlive a leader that exited when asked, and the tree is ours.
        self.kill()
        return await self.wait()

    def kill_now(self) -> None:
        """Synchronous last resort (the app's exit): ask, `exit_grace`, SIGKILL, reap."""
        proc = self.proc
        if proc is None or self._exited.is_set():
            return
        if proc.poll() is None and self.exit_grace > 0:
            self._ask()
            self._exited.wait(self.exit_grace)
        self.kill()
        if not self._exited.wait(JOIN_S + 2.0):
            guard, self.guard = self.guard, None  # the waiter is stuck: still let the watchdog go
            if guard is not None:
                guard.release()


# ---------------------------------------------------------------- an engine's process


class ServerState(StrEnum):
    STOPPED = "stopped"
    STARTING = "starting"
    READY = "ready"
    FAILED = "failed"


@dataclass(frozen=True)
class ServerStatus:
    state: ServerState
    since: float  # time.monotonic() when this state began
    message: str = ""
    error: EngineError | None = None
    port: int | None = None

    @property
    def elapsed(self) -> float:
        """Seconds in this state (the GUI shows "starting... 42 s")."""
        return time.monotonic() - self.since


class Supervisor:
    """State, callbacks, single-flight start and a stop that never raises, around one
    ChildProcess at a time. Subclasses write `_start()` (spawn with `_spawn_child`, wait
    until ready) and may react to an exit in `_child_exited()`."""

    what = "the child process"  # for log messages
    port: int | None = None

    def __init__(self, *, start_timeout: float, stop_timeout: float, log_path: Path | None = None,
                 keep_lines: int = 200, on_state: Callable[[ServerStatus], None] | None = None,
                 on_log: Callable[[str], None] | None = None) -> None:
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.log_path = log_path
        self.on_state = on_state
        self.on_log = on_log
        self.status = ServerStatus(ServerState.STOPPED, time.monotonic())
        self.child: ChildProcess | None = None
        self._tail = Tail(keep_lines)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._starting: asyncio.Future[None] | None = None
        self._stopping = False

    # ------------------------------------------------------------ state

    @property
    def pid(self) -> int | None:
        return self.child.pid if self.child is not None else None

    @property
    def returncode(self) -> int | None:
        return self.child.returncode if self.child is not None else None

    def log_lines(self) -> list[str]:
        return self._tail.lines()

    def _set(self, state: ServerState, message: str = "", error: EngineError | None = None) -> None:
        self.status = ServerStatus(state, time.monotonic(), message, error, self.port)
        if self.on_state is not None:
            try:
                self.on_state(self.status)
            except Exception:
                log.exception("on_state callback failed")

    def _fail(self, err: EngineError) -> EngineError:
        """Show `err` as the failed state; return it to raise."""
        self._set(ServerState.FAILED, err.user_message, err)
        return err

    def _emit_log(self, line: str) -> None:
        if self.on_log is not None:
            try:
                self.on_log(line)
            except Exception:
                log.exception("on_log callback failed")

    # ------------------------------------------------------------ start

    async def start(self) -> None:
        """Start and wait until ready; a second caller waits for the same start."""
        if self.status.state is ServerState.READY and self.returncode is None:
            return
        if self._starting is not None:
            return await asyncio.shield(self._starting)
        self._loop = asyncio.get_running_loop()
        self._starting = self._loop.create_future()
        try:
            if self.child is not None:  # one that died: reap what is left before a new one
                await self._terminate()
            self._stopping = False
            await self._start()
        except Exception as exc:
            self._starting.set_exception(exc)
            self._starting.exception()  # mark retrieved: nobody else may be waiting
            raise
        except BaseException:
            self._starting.cancel()
            raise
        else:
            self._starting.set_result(None)
        finally:
            self._starting = None

    async def _start(self) -> None:
        raise NotImplementedError

    def _spawn_child(self, argv: Sequence[str], env: Mapping[str, str], *, name: str, header: str = "",
                     events: bool = False, stdin: bool = False,
                     on_event: Callable[[dict[str, Any]], None] | None = None,
                     ask: Callable[[ChildProcess], None] | None = None, poll: float = 0.05,
                     exit_grace: float = 5.0) -> ChildProcess:
        """Spawn the process this supervisor watches (its log at `log_path`). Raises OSError."""
        self._tail.clear()
        child = ChildProcess(argv, env=env, name=name, events=events, stdin=stdin, tail=self._tail,
                             log_path=self.log_path, header=header, on_line=self._emit_log,
                             on_event=on_event, ask=ask, grace=self.stop_timeout,
                             exit_grace=min(self.stop_timeout, exit_grace), poll=poll)
        child.on_exit = lambda rc: self._exited(child, rc)
        child.spawn(self._loop)
        self.child = child
        return child

    def _exited(self, child: ChildProcess, rc: int) -> None:
        if child is self.child:  # not an earlier one's late news
            self._child_exited(rc)

    def _child_exited(self, rc: int) -> None:
        """The child exited (on the loop, after its output was read); `_stopping` says if asked."""

    async def _run_start(self, begin: Callable[[], Any], failure: Callable[[Exception], EngineError]) -> None:
        """Run `begin()` (spawn and wait until ready); whatever goes wrong leaves no process
        and a clear state: cancelled -> STOPPED, an EngineError or `failure(exc)` -> FAILED."""
        try:
            await begin()
        except asyncio.CancelledError:
            await self._terminate()
            self._set(ServerState.STOPPED, "start cancelled")
            raise
        except EngineError as err:
            await self._terminate()
            self._fail(err)
            raise
        except Exception as exc:  # a bug or an OS surprise: still no orphan, still a clear state
            await self._terminate()
            raise self._fail(failure(exc)) from exc

    # ------------------------------------------------------------ stop

    async def stop(self) -> None:
        """Ask, wait stop_timeout, kill the tree. Idempotent; never raises."""
        self._stopping = True
        had_process = self.child is not None
        try:
            await self._terminate()
        except Exception:
            log.exception("stopping %s failed", self.what)
        # A failed start already cleaned up: keep showing why it failed.
        if had_process or self.status.state is not ServerState.FAILED:
            self._set(ServerState.STOPPED, "stopped")

    async def _terminate(self) -> None:
        child = self.child
        if child is None:
            return
        self._stopping = True
        await child.stop()
        self.child = None
        self._terminated()

    def _terminated(self) -> None:
        """After the child is gone (stop, a failed start, a reap before a restart)."""

    def kill_now(self) -> None:
        """Synchronous last resort."""
        if self.child is not None:
            self._stopping = True
            self.child.kill_now()
