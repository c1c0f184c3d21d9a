"""The one supervised child process every spawner uses (engines/child_process.py), on real
subprocesses: its log (0600, tail, rotation, exit line, \\r progress), JSON events over
stdin/stdout, a stop that escalates to SIGKILL of the whole tree, the atexit hook, and a
Supervisor that reaps a dead child before it starts the next."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest
from engine_helpers import pid_alive, run, wait_dead

from desktop_ocr.core.contract import EngineError
from desktop_ocr.engines.child_process import ChildProcess, ServerState, Supervisor, Tail

pytestmark = pytest.mark.skipif(sys.platform.startswith("win"), reason="POSIX signals and sessions")


def python(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


def session_members(leader: int) -> list[int]:
    """Live (not zombie) processes of the session `leader` started."""
    out = []
    for p in psutil.process_iter(["status"]):
        try:
            if os.getsid(p.pid) == leader and p.info["status"] != psutil.STATUS_ZOMBIE:
                out.append(p.pid)
        except (OSError, psutil.Error):
            continue
    return out


async def until(condition, timeout: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def test_the_log_is_private_keeps_a_tail_ends_with_the_exit_code_and_rotates(tmp_path):
    log_path = tmp_path / "logs" / "child.log"
    seen: list[str] = []
    codes: list[int] = []

    async def once(n: int) -> ChildProcess:
        child = ChildProcess(python(f"""
            import sys
            for i in range(5):
                print("line", {n}, i, flush=True)
            print("oops", file=sys.stderr, flush=True)
            sys.stdout.write("10%\\r50%\\r100%\\n")
            sys.exit(3)
        """), name="t", tail=Tail(3), log_path=log_path, header=f"start {n}",
                             on_line=seen.append, on_exit=codes.append)
        child.spawn()
        assert await child.wait() == 3
        await until(lambda: len(codes) == n, what="the exit callback")
        return child

    # GIVEN a child that prints lines, an error, and a progress bar redrawn with \r
    first = run(once(1))
    # THEN the tail holds its last lines, the bar as a terminal shows it
    assert first.tail.lines()[-1] == "100%" and len(first.tail.lines()) == 3
    assert "oops" in first.tail.lines()  # stderr is the log too (no events)
    assert "line 1 4" in seen and codes == [3]
    # AND the file is the user's only, starts with the header and ends with the exit code
    text = log_path.read_text()
    assert stat.S_IMODE(log_path.stat().st_mode) == 0o600
    assert text.splitlines()[0].startswith("# ") and text.splitlines()[0].endswith(" start 1")
    assert "line 1 0" in text and "\r" not in text and text.endswith("# exited with code 3\n")
    # WHEN it runs again
    run(once(2))
    # THEN the previous log is the .1, also private, and the new one is fresh
    previous = log_path.with_name("child.log.1")
    assert "line 1 0" in previous.read_text() and "line 1 0" not in log_path.read_text()
    assert stat.S_IMODE(previous.stat().st_mode) == 0o600
    assert first.guard is None and first.finished  # reaped, the watchdog let go


def test_json_events_on_stdout_commands_on_stdin_and_the_log_on_stderr(tmp_path):
    # GIVEN a child that answers each stdin line with an event, logs on stderr, and exits at EOF
    events: list[dict] = []
    lines: list[str] = []
    child = ChildProcess(python("""
        import json, sys
        print("a stray print", flush=True)
        for line in sys.stdin:
            cmd = json.loads(line)
            print("got", cmd["n"], file=sys.stderr, flush=True)
            print(json.dumps({"ev": "echo", "n": cmd["n"] * 2}), flush=True)
        print(json.dumps({"ev": "bye"}), flush=True)
    """), name="t", events=True, stdin=True, on_event=events.append, on_line=lines.append)

    async def go() -> int | None:
        child.spawn()
        for n in range(3):
            child.write(f'{{"n": {n}}}\n'.encode())
        await until(lambda: len(events) == 3, what="three answers")
        child.close_stdin()  # end of file: a well-behaved child exits
        return await child.wait()

    # WHEN three commands are sent and stdin closes
    assert run(go()) == 0
    # THEN the events came back in order, on the loop, and the log lines are the stderr ones
    assert events == [{"ev": "echo", "n": 0}, {"ev": "echo", "n": 2}, {"ev": "echo", "n": 4}, {"ev": "bye"}]
    assert lines == ["a stray print", "got 0", "got 1", "got 2"]  # a non-event line is kept in the log


IGNORES_TERM = """
    import signal, subprocess, sys, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    kid = subprocess.Popen([sys.executable, "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"])
    print(kid.pid, flush=True)
    time.sleep(60)
"""


def test_stop_escalates_to_sigkill_of_the_whole_tree():
    # GIVEN a child and its own child that both ignore SIGTERM
    child = ChildProcess(python(IGNORES_TERM), name="t", grace=0.5)

    async def go() -> tuple[int, int | None, float]:
        child.spawn()
        await until(lambda: child.tail.lines(), what="the grandchild's pid")
        grandchild = int(child.tail.lines()[0])
        assert pid_alive(grandchild)
        t0 = time.monotonic()
        # WHEN it is stopped
        rc = await child.stop()
        return grandchild, rc, time.monotonic() - t0

    grandchild, rc, took = run(go())
    # THEN it waited the grace period, then killed: nothing of its tree is left
    assert rc == -9 and 0.5 <= took < 5
    assert wait_dead([child.pid, grandchild], 2) == []
    assert session_members(child.pid) == []
    assert child.guard is None


def test_the_atexit_hook_ends_a_live_child(tmp_path):
    # GIVEN an app whose child ignores SIGTERM, and which then exits normally (no stop())
    pid_file = tmp_path / "pids"
    app = subprocess.run(python(f"""
        import asyncio, sys, time
        sys.path.insert(0, {os.getcwd()!r})
        from desktop_ocr.engines.child_process import ChildProcess
        async def main():
            child = ChildProcess({python(IGNORES_TERM)!r}, name="t", exit_grace=0.3)
            child.spawn()
            while not child.tail.lines():
                await asyncio.sleep(0.02)
            open({str(pid_file)!r}, "w").write(f"{{child.pid}} {{child.tail.lines()[0]}} {{child.guard.pid}}")
            return child
        keep = asyncio.run(main())
    """), timeout=30)
    assert app.returncode == 0
    # THEN the hook ended its whole tree, and its watchdog
    pids = [int(p) for p in pid_file.read_text().split()]
    assert wait_dead(pids, 3) == []


class _Echo(Supervisor):
    """A minimal engine process: ready when the child says so."""

    what = "the test child"

    def __init__(self, code: str, lifetimes: tuple[float, ...] = ()) -> None:
        super().__init__(start_timeout=10.0, stop_timeout=1.0)
        self.code = code
        self.lifetimes = list(lifetimes)
        self.spawned = 0
        self._said_ready: asyncio.Event | None = None

    def _emit_log(self, line: str) -> None:
        super()._emit_log(line)
        if line.startswith("ready") and self._said_ready is not None:
            self._said_ready.set()

    async def _start(self) -> None:
        self._said_ready = asyncio.Event()
        self._set(ServerState.STARTING)

        async def begin() -> None:
            self.spawned += 1
            lifetime = [str(self.lifetimes.pop(0))] if self.lifetimes else []
            self._spawn_child(python(self.code) + lifetime, dict(os.environ), name="echo")
            await asyncio.wait_for(self._said_ready.wait(), self.start_timeout)

        await self._run_start(begin, lambda exc: EngineError(str(exc)))
        self._set(ServerState.READY, "ready")

    def _child_exited(self, rc: int) -> None:
        if not self._stopping:
            self._set(ServerState.FAILED, f"exited {rc}")


DIES_LEAVING_A_CHILD = """
    import subprocess, sys, time
    kid = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    print("ready", kid.pid, flush=True)
    time.sleep(float(sys.argv[1]))
    sys.exit(5)
"""


def test_a_dead_child_is_reaped_before_a_restart_and_start_is_single_flight(tmp_path):
    sup = _Echo(DIES_LEAVING_A_CHILD, lifetimes=(0.3, 60))
    sup.log_path = tmp_path / "echo.log"
    states: list[ServerState] = []
    sup.on_state = lambda st: states.append(st.state)

    async def go():
        # GIVEN two callers starting at once: one child
        await asyncio.gather(sup.start(), sup.start())
        assert sup.spawned == 1 and sup.status.state is ServerState.READY
        first = sup.child
        assert first is not None
        grandchild = int(first.tail.lines()[0].split()[1])
        watchdog = first.guard.pid
        # WHEN it dies on its own, leaving a child of its own
        await until(lambda: sup.status.state is ServerState.FAILED, what="the death to be seen")
        # THEN what was left of its tree is gone, and its watchdog with it
        assert await asyncio.to_thread(wait_dead, [first.pid, grandchild, watchdog], 3) == []
        assert first.finished and sup.returncode == 5
        # WHEN it is started again
        await sup.start()
        second = sup.child
        assert second is not None and second is not first and sup.spawned == 2
        # THEN the dead one's news no longer counts, and the new one runs
        assert sup.status.state is ServerState.READY and second.running
        await sup.stop()
        return second

    second = run(go())
    assert sup.pid is None and sup.status.state is ServerState.STOPPED
    assert not pid_alive(second.pid)
    assert states == [ServerState.STARTING, ServerState.READY, ServerState.FAILED,
                      ServerState.STARTING, ServerState.READY, ServerState.STOPPED]
    assert Path(str(sup.log_path) + ".1").read_text().endswith("# exited with code 5\n")


def test_a_failed_start_leaves_no_process_and_a_clear_state():
    # GIVEN a child that never says it is ready
    sup = _Echo("import time; time.sleep(60)")
    sup.start_timeout = 0.3

    async def go():
        with pytest.raises(EngineError):
            await sup.start()

    run(go())
    # THEN it was killed, and the state says the start failed
    assert sup.child is None and sup.status.state is ServerState.FAILED
