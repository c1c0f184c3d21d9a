"""No process the app spawns outlives it, however the app ends (also SIGKILL or a crash).

engines/child_process.py (ChildProcess) makes these calls for every spawner of the app
(the LMDeploy server, the transformers worker, a model download):

    proc = subprocess.Popen(args, **spawn_options(), ...)   # own session / process group
    guard = Guard.start(proc)                               # the watchdog (+ job object)
    ...
    kill_tree(proc, signal.SIGTERM); ...; kill_tree(proc, signal.SIGKILL)   # normal stop
    guard.release()                                         # once the process is gone

How each way of ending is covered:
- a normal stop: the spawner's own stop (TERM the tree, wait, KILL), then release();
- the app exits, is killed (SIGKILL, OOM killer) or crashes, on POSIX: the **watchdog**, a
  tiny process of its own session holding the read end of a pipe whose write end only
  the app holds. The kernel closes that end when the app dies, whatever killed it; the
  watchdog reads end-of-file, TERMs every process of the guarded session and process
  group, waits `grace`, KILLs what is left and exits. A normal stop writes "disarm" first,
  so a watchdog never signals a process id that may have been reused.
- Linux also sets the parent-death signal on the spawned leader (SIGKILL at once).
- Windows: the process goes into a job object that kills its processes when the app's
  last handle to it closes (exit or crash); spawn_options() gives it its own console
  process group so CTRL_BREAK reaches only it.

"The tree" on POSIX is the spawned process's session (start_new_session: session id ==
process group id == its pid): everything it starts stays there unless it calls setsid()
itself. On Linux kill_tree also finds members that moved to another process group of
the session (/proc); elsewhere it signals the process group. A child forked (not
exec'ed) by the app itself inherits the pipe's write end and delays the watchdog until
it exits too: spawn with subprocess (close_fds), or multiprocessing's "spawn" method.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

IS_WINDOWS = sys.platform.startswith("win")
IS_LINUX = sys.platform.startswith("linux")
FROZEN_ARG = "__desktop_ocr_watchdog__"  # argv[1] of a frozen app that should be a watchdog
DISARM = b"d"


# ---------------------------------------------------------------- spawning


def spawn_options() -> dict[str, Any]:
    """Popen keyword arguments that make a process (and its children) one killable tree."""
    if IS_WINDOWS:
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined]
    options: dict[str, Any] = {"start_new_session": True}
    preexec = _linux_pdeathsig()
    if preexec is not None:
        options["preexec_fn"] = preexec
    return options


def _linux_pdeathsig() -> Callable[[], None] | None:
    """SIGKILL for the child when the spawning thread's process dies (Linux only).

    The signal follows the *thread* that spawned the child: spawn from a long-lived
    thread (the event loop's). It reaches the leader only; the watchdog does the rest."""
    if not IS_LINUX:
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    pr_set_pdeathsig = 1

    def preexec() -> None:
        # Runs in the child between fork and exec: only async-signal-safe work here
        # (prctl and getppid are plain syscalls; ctypes is already loaded in the parent).
        prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


# ---------------------------------------------------------------- killing


def kill_tree(proc: subprocess.Popen[Any], sig: int) -> None:
    """Send `sig` to `proc` and everything it started (see the module docstring).

    On Windows SIGTERM becomes CTRL_BREAK to its process group and anything else a
    kill; the job object (Guard.release / the app's exit) ends the rest."""
    if IS_WINDOWS:
        with contextlib.suppress(OSError):
            if sig == signal.SIGTERM:
                proc.send_signal(signal.CTRL_BREAK_EVENT)  # type: ignore[attr-defined]
            else:
                proc.kill()
        return
    kill_session(proc.pid, sig)


def kill_session(leader: int, sig: int) -> None:
    """POSIX: signal the process group `leader` and (Linux) every process of its session."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(leader, sig)
    for pid in _session_members(leader):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def session_alive(leader: int) -> bool:
    """Is any process of the group or (Linux) the session `leader` still there?"""
    try:
        os.killpg(leader, 0)  # cheap, and true while the group has a member
        return True
    except ProcessLookupError:
        pass
    except PermissionError:
        return True
    # Members that moved to a group of their own are still in the session.
    return bool(_session_members(leader, include_zombies=False))


def _session_members(leader: int, include_zombies: bool = True) -> list[int]:
    if not IS_LINUX:
        return []
    table = _proc_table()
    rows = table.get(("sid", leader), []) + table.get(("pgrp", leader), [])
    return sorted({pid for state, pid in rows if include_zombies or state != "Z"})


def _proc_table() -> dict[tuple[str, int], list[tuple[str, int]]]:
    """(key, id) -> [(state, pid)] for every process, keyed by session and by group."""
    out: dict[tuple[str, int], list[tuple[str, int]]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return out
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read().decode("ascii", "replace")
        except OSError:
            continue
        # "pid (comm) state ppid pgrp session ...": comm may hold spaces and parentheses
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) < 4:
            continue
        state, pgrp, sid = fields[0], int(fields[2]), int(fields[3])
        out.setdefault(("pgrp", pgrp), []).append((state, int(name)))
        out.setdefault(("sid", sid), []).append((state, int(name)))
    return out


# ---------------------------------------------------------------- the watchdog


class Guard:
    """What keeps one spawned tree from outliving the app: a watchdog process (POSIX) or a
    job object (Windows). `release()` after a normal stop; idempotent."""

    def __init__(self, watchdog: subprocess.Popen[bytes] | None, pipe: int | None,
                 job: WindowsJob | None) -> None:
        self.watchdog = watchdog
        self._pipe = pipe
        self._job = job

    @classmethod
    def start(cls, proc: subprocess.Popen[Any], *, grace: float = 2.0) -> Guard:
        """Guard `proc` (spawned with spawn_options()). Never raises: a guard that cannot
        be set up is logged, and the spawner's own stop and atexit hook still work."""
        if IS_WINDOWS:
            try:
                job = WindowsJob()
                job.assign(proc.pid)
                return cls(None, None, job)
            except Exception:
                log.warning("could not put process %d into a job object", proc.pid, exc_info=True)
                return cls(None, None, None)
        read, write = os.pipe()  # both ends non-inheritable (PEP 446): no other child gets them
        try:
            watchdog = subprocess.Popen(
                _watchdog_command(proc.pid, grace), stdin=read, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True, env=_watchdog_env())
        except OSError:
            log.warning("could not start the watchdog of process %d", proc.pid, exc_info=True)
            os.close(write)
            return cls(None, None, None)
        finally:
            os.close(read)
        return cls(watchdog, write, None)

    @property
    def pid(self) -> int | None:
        return self.watchdog.pid if self.watchdog is not None else None

    def release(self) -> None:
        """The guarded process has been stopped: let the watchdog go without signalling."""
        if self._pipe is not None:
            with contextlib.suppress(OSError):
                os.write(self._pipe, DISARM)
            with contextlib.suppress(OSError):
                os.close(self._pipe)
            self._pipe = None
        if self.watchdog is not None:
            with contextlib.suppress(subprocess.TimeoutExpired, OSError):
                self.watchdog.wait(2.0)  # it exits at once; reap it so it is no zombie
            self.watchdog = None
        if self._job is not None:
            with contextlib.suppress(Exception):
                self._job.terminate()
                self._job.close()
            self._job = None


def _watchdog_command(pid: int, grace: float) -> list[str]:
    if getattr(sys, "frozen", False):  # a frozen app runs itself as the watchdog
        return [sys.executable, FROZEN_ARG, str(pid), f"{grace:g}"]
    return [sys.executable, "-m", "desktop_ocr.engines.watchdog", str(pid), f"{grace:g}"]


def _watchdog_env() -> dict[str, str]:
    # `python -m` must find this package also when it runs from a source checkout.
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


def watch(fd: int, leader: int, grace: float, poll: float = 0.5) -> int:
    """The watchdog's loop: wait for the app's end of the pipe to close, then end the tree."""
    with contextlib.suppress(ValueError, OSError):
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl+C meant for the app
        signal.signal(signal.SIGHUP, signal.SIG_IGN)  # the app's terminal closing
    while True:
        ready, _, _ = select.select([fd], [], [], poll)
        if ready:
            try:
                data = os.read(fd, 64)
            except OSError:
                data = b""
            if DISARM in data:
                return 0
            if not data:  # the app is gone, however it ended
                break
        elif not session_alive(leader):
            return 0  # the tree ended on its own; nothing to guard
    kill_session(leader, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while session_alive(leader) and time.monotonic() < deadline:
        time.sleep(0.05)
    kill_session(leader, signal.SIGKILL)
    return 0


def main(argv: list[str]) -> int:
    leader, grace = int(argv[0]), float(argv[1]) if len(argv) > 1 else 2.0
    return watch(0, leader, grace)


# ---------------------------------------------------------------- Windows


class WindowsJob:
    """A job object that kills its processes when the app's handle closes (exit or crash)."""

    def __init__(self) -> None:
        import ctypes
        from ctypes import wintypes

        class IoCounters(ctypes.Structure):
            _fields_ = [(n, ctypes.c_ulonglong) for n in (
                "ReadOperationCount", "WriteOperationCount", "OtherOperationCount",
                "ReadTransferCount", "WriteTransferCount", "OtherTransferCount")]

        class BasicLimits(ctypes.Structure):
            _fields_ = [("PerProcessUserTimeLimit", ctypes.c_int64), ("PerJobUserTimeLimit", ctypes.c_int64),
                        ("LimitFlags", wintypes.DWORD), ("MinimumWorkingSetSize", ctypes.c_size_t),
                        ("MaximumWorkingSetSize", ctypes.c_size_t), ("ActiveProcessLimit", wintypes.DWORD),
                        ("Affinity", ctypes.c_size_t), ("PriorityClass", wintypes.DWORD),
                        ("SchedulingClass", wintypes.DWORD)]

        class ExtendedLimits(ctypes.Structure):
            _fields_ = [("BasicLimitInformation", BasicLimits), ("IoInfo", IoCounters),
                        ("ProcessMemoryLimit", ctypes.c_size_t), ("JobMemoryLimit", ctypes.c_size_t),
                        ("PeakProcessMemoryUsed", ctypes.c_size_t), ("PeakJobMemoryUsed", ctypes.c_size_t)]

        k32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
        k32.CreateJobObjectW.restype = wintypes.HANDLE
        k32.OpenProcess.restype = wintypes.HANDLE
        self._k32 = k32
        self.handle = k32.CreateJobObjectW(None, None)
        if not self.handle:
            raise OSError(ctypes.get_last_error(), "CreateJobObjectW failed")
        info = ExtendedLimits()
        info.BasicLimitInformation.LimitFlags = 0x2000  # JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
        job_object_extended_limit_information = 9
        if not k32.SetInformationJobObject(wintypes.HANDLE(self.handle), job_object_extended_limit_information,
                                           ctypes.byref(info), ctypes.sizeof(info)):
            raise OSError(ctypes.get_last_error(), "SetInformationJobObject failed")

    def assign(self, pid: int) -> None:
        from ctypes import wintypes

        process_all_access = 0x1F0FFF
        h = self._k32.OpenProcess(process_all_access, False, pid)
        try:
            self._k32.AssignProcessToJobObject(wintypes.HANDLE(self.handle), wintypes.HANDLE(h))
        finally:
            self._k32.CloseHandle(wintypes.HANDLE(h))

    def terminate(self) -> None:
        from ctypes import wintypes

        self._k32.TerminateJobObject(wintypes.HANDLE(self.handle), 1)

    def close(self) -> None:
        from ctypes import wintypes

        if self.handle:
            self._k32.CloseHandle(wintypes.HANDLE(self.handle))
            self.handle = None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
