"""No process of a spawned server outlives the app, however the app ends; a server that
dies mid-batch is reported with its cause and can be started again. Against the fake
`lmdeploy` with several workers (one with a child of its own, one in a process group of
its own), killed for real."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time

import psutil
import pytest
from engine_helpers import make_image, make_model_folder, pid_alive, run, wait_dead

from desktop_ocr.core.contract import EngineDied, FinishReason, Request, collect
from desktop_ocr.engines.lmdeploy_server import (
    LMDeployEngine,
    LMDeployServer,
    ServerDied,
    ServerState,
)

pytestmark = pytest.mark.skipif(sys.platform.startswith("win"), reason="POSIX signals")
WORKERS = 3  # leader + 3 workers + 1 grandchild = 5 server processes


def server_for(fake, **kw) -> LMDeployServer:
    opts = {"start_timeout": 15.0, "stop_timeout": 3.0, "poll_initial": 0.05, "poll_max": 0.2}
    opts.update(kw)
    # A complete local folder: the server never starts on a hub id (nothing downloads).
    model = make_model_folder(fake.exe.parent.parent / "InternVL3-1B")
    return LMDeployServer([str(fake.exe)], str(model), **opts)


def wait_for_pids(fake, n: int, timeout: float = 15.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = fake.pids()
        if len(pids) >= n:
            return pids
        time.sleep(0.05)
    raise AssertionError(f"the fake server wrote {fake.pids()} (wanted {n} pids)")


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def survivors(procs: list[psutil.Process], timeout: float = 5.0) -> list[str]:
    """Those of `procs` still running (zombies do not count) after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        left = [p for p in procs if pid_alive(p.pid)]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    out = []
    for p in left:
        try:
            out.append(f"{p.pid} {' '.join(p.cmdline())[:80]}")
        except psutil.Error:
            out.append(str(p.pid))
        with_kill(p)
    return out


def with_kill(p: psutil.Process) -> None:
    try:
        p.kill()
    except psutil.Error:
        pass


APP = """
import asyncio, sys
sys.path.insert(0, {root!r})
from desktop_ocr.engines.lmdeploy_server import LMDeployServer
async def main():
    s = LMDeployServer([{exe!r}], {model!r}, start_timeout=15, poll_initial=0.05, poll_max=0.2)
    await s.start()
    print("ready", flush=True)
    await asyncio.sleep(3600)
asyncio.run(main())
"""


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGHUP])
def test_killed_app_leaves_no_server_process(fake_lmdeploy, monkeypatch, tmp_path, sig):
    # GIVEN an app (no signal handlers of its own) whose server runs several workers
    monkeypatch.setenv("FAKE_LMDEPLOY_WORKERS", str(WORKERS))
    script = tmp_path / "app.py"
    model = make_model_folder(tmp_path / "InternVL3-1B")
    script.write_text(textwrap.dedent(APP.format(root=os.getcwd(), exe=str(fake_lmdeploy.exe),
                                                 model=str(model))))
    app = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert app.stdout.readline().strip() == "ready"
        wait_for_pids(fake_lmdeploy, 2 + WORKERS)
        tree = descendants(app.pid)
        names = " ".join(" ".join(p.cmdline()) for p in tree)
        assert "desktop_ocr.engines.watchdog" in names  # the watchdog is there
        assert len(tree) >= 2 + WORKERS + 1
        # WHEN the app is killed with `sig` (no atexit, no stop())
        os.kill(app.pid, sig)
        app.wait(10)
        # THEN within a few seconds no process of the server (children included) is left,
        # and the watchdog has gone too
        assert survivors(tree) == []
    finally:
        app.stdout.close()
        if app.poll() is None:
            app.kill()
            app.wait()


def test_normal_stop_releases_the_watchdog(fake_lmdeploy, monkeypatch):
    monkeypatch.setenv("FAKE_LMDEPLOY_WORKERS", str(WORKERS))
    server = server_for(fake_lmdeploy)

    async def go():
        await server.start()
        pids = wait_for_pids(fake_lmdeploy, 2 + WORKERS)
        watchdog = server.child.guard.pid
        assert watchdog is not None and pid_alive(watchdog)
        await server.stop()
        return pids, watchdog

    pids, watchdog = run(go())
    # THEN the whole tree is gone, the one that left its group too, and the watchdog exited
    assert wait_dead(pids, 3) == [] and wait_dead([watchdog], 3) == []
    # AND the server's log (file names, prompts) is readable by the user only
    assert server.log_path.exists() and stat.S_IMODE(server.log_path.stat().st_mode) == 0o600


def test_server_death_mid_answer_is_reported_with_its_cause_and_restarts(fake_lmdeploy, monkeypatch):
    # GIVEN a server that dies (a CUDA fault) in the middle of its second answer
    monkeypatch.setenv("FAKE_LMDEPLOY_WORKERS", "2")
    monkeypatch.setenv("FAKE_LMDEPLOY_DIE_AFTER", "2")
    server = server_for(fake_lmdeploy)
    engine = LMDeployEngine(server)
    req = Request(image=make_image((64, 48)))

    async def go():
        await engine.start()
        first_port = server.port
        text, finish = await collect(engine, req)
        assert finish is FinishReason.STOP and "Invoice" in text
        old = wait_for_pids(fake_lmdeploy, 4)
        # WHEN the next request kills it
        with pytest.raises(ServerDied) as died:
            await collect(engine, req)
        # THEN every later request fails the same way, with the cause, without waiting
        with pytest.raises(EngineDied) as again:
            await collect(engine, req)
        # AND the dead server's workers are gone at once (they would hold the GPU)
        assert await asyncio.to_thread(wait_dead, old, 3) == []
        assert server.status.state is ServerState.FAILED
        # AND start() again restarts it (a new process, a new port), and it works
        await engine.start()
        assert server.status.state is ServerState.READY and server.port != first_port
        text, finish = await collect(engine, req)
        await engine.stop()
        return died.value, again.value, text, finish

    died, again, text, finish = run(go())
    assert "exit code 1" in str(died) and "illegal memory access" in str(died)
    assert died.returncode == 1 and any("illegal memory access" in line for line in died.log_tail)
    assert str(again) == str(died) and "not running" not in str(again)
    assert finish is FinishReason.STOP and "Invoice" in text


def test_a_guard_on_any_process(tmp_path):
    """The API another spawner (the transformers worker) uses, on a plain process tree."""
    code = textwrap.dedent(f"""
        import subprocess, sys, time
        sys.path.insert(0, {os.getcwd()!r})
        from desktop_ocr.engines.watchdog import Guard, spawn_options
        proc = subprocess.Popen([sys.executable, "-c",
            "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"],
            **spawn_options())
        guard = Guard.start(proc, grace=0.5)
        print(proc.pid, guard.pid, flush=True)
        time.sleep(60)
    """)
    app = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        worker, watchdog = map(int, app.stdout.readline().split())
        deadline = time.monotonic() + 5
        while len(descendants(worker)) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        tree = [psutil.Process(worker), psutil.Process(watchdog), *descendants(worker)]
        assert len(tree) == 3
        app.kill()
        app.wait()
        assert survivors(tree) == []
    finally:
        app.stdout.close()
        if app.poll() is None:
            app.kill()
            app.wait()


def test_stream_after_death_does_not_hang(fake_lmdeploy, monkeypatch, tmp_path):
    """The die-after-ready fake: the death is noticed between requests, too."""
    trigger = tmp_path / "die"
    monkeypatch.setenv("FAKE_LMDEPLOY_SCENARIO", "die_after_ready")
    monkeypatch.setenv("FAKE_LMDEPLOY_DIE_FILE", str(trigger))
    # a hang would wait for the first token this long; failing fast is far below it
    timeout = 30.0
    server = server_for(fake_lmdeploy)
    engine = LMDeployEngine(server, client_options={"timeout": timeout})

    async def go():
        await engine.start()
        trigger.touch()
        for _ in range(400):
            if server.status.state is ServerState.FAILED:
                break
            await asyncio.sleep(0.05)
        assert server.status.state is ServerState.FAILED
        t0 = time.monotonic()
        with pytest.raises(ServerDied, match="Segmentation fault"):
            await collect(engine, Request(image=make_image((32, 32))))
        took = time.monotonic() - t0
        await engine.stop()
        return took

    assert run(go()) < timeout / 3


def test_a_frozen_app_can_be_its_own_watchdog():
    # GIVEN a process tree in a session of its own, and the app's entry point started the
    # way a frozen build starts its watchdog (no `python -m` there: the app runs itself)
    from desktop_ocr.engines.watchdog import FROZEN_ARG, spawn_options

    target = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], **spawn_options())
    read, write = os.pipe()
    guard = subprocess.Popen([sys.executable, "-c", "import sys; from desktop_ocr.cli import main; "
                              "sys.exit(main(sys.argv[1:]))", FROZEN_ARG, str(target.pid), "0.5"],
                             stdin=read, start_new_session=True)
    os.close(read)
    try:
        # WHEN the app's end of the pipe closes (the app died)
        os.close(write)
        # THEN the watchdog ends the tree and exits
        assert guard.wait(10) == 0
        assert target.wait(5) is not None
    finally:
        for proc in (target, guard):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
