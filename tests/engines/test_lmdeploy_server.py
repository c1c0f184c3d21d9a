"""Spawning and supervising `lmdeploy serve api_server`, against the fake lmdeploy executable."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from engine_helpers import make_image, make_model_folder, pid_alive, run, wait_dead

from desktop_ocr.core.contract import EngineUnavailable, FinishReason, Request, collect
from desktop_ocr.core.settings import Settings
from desktop_ocr.engines.lmdeploy_server import (
    BadArguments,
    LMDeployEngine,
    LMDeployServer,
    ModelNotDownloaded,
    ModelNotFound,
    NativeCrash,
    OutOfMemory,
    PortInUse,
    ServerDied,
    ServerState,
    StartTimeout,
    build_command,
    classify_failure,
    locate_lmdeploy,
)

MODEL = "OpenGVLab/InternVL3-8B"  # replaced by a complete local folder of that name below


@pytest.fixture(autouse=True, scope="module")
def _model_folder(tmp_path_factory):
    # The server only ever starts on a complete local folder (never a hub id to download).
    global MODEL
    MODEL = str(make_model_folder(tmp_path_factory.mktemp("models") / "InternVL3-8B"))


def server_for(fake, **kw) -> LMDeployServer:
    opts = {"start_timeout": 15.0, "stop_timeout": 3.0, "poll_initial": 0.05, "poll_max": 0.2}
    opts.update(kw)
    return LMDeployServer([str(fake.exe)], MODEL, **opts)


def test_launch_line_is_the_contracts():
    args = build_command(["lmdeploy"], MODEL, port=23333, api_key="KEY")
    assert args == ["lmdeploy", "serve", "api_server", MODEL,
                    "--backend", "turbomind", "--trust-remote-code",
                    "--server-name", "127.0.0.1", "--server-port", "23333",
                    "--model-name", "internvl3",
                    "--session-len", "16384", "--cache-max-entry-count", "0.5",
                    "--api-keys", "KEY", "--log-level", "INFO"]
    full = build_command(["py", "-m", "lmdeploy"], MODEL + "-AWQ", port=1, api_key="K", model_format="awq",
                         dtype="float16", tp=2, quant_policy=8, session_len=8192, cache_max_entry_count=0.3)
    assert full[:3] == ["py", "-m", "lmdeploy"]
    tail = full[full.index("INFO") + 1:]
    assert tail == ["--model-format", "awq", "--quant-policy", "8", "--tp", "2", "--dtype", "float16"]
    assert "--chat-template" not in full and "0.3" in full and "8192" in full
    with pytest.raises(BadArguments, match="power of two"):
        build_command(["lmdeploy"], MODEL, port=1, api_key="K", tp=3)


def test_find_lmdeploy_configured_executable_path_and_python(tmp_path, monkeypatch, fake_lmdeploy):
    assert locate_lmdeploy(Settings(lmdeploy_command=str(fake_lmdeploy.exe)))[0] == [str(fake_lmdeploy.exe)]
    missing, why = locate_lmdeploy(Settings(lmdeploy_command=str(tmp_path / "nope")))
    assert missing is None and "does not exist" in why
    # A Python interpreter without lmdeploy is refused with the reason.
    cmd, why = locate_lmdeploy(Settings(lmdeploy_command=sys.executable))
    assert cmd is None and "no lmdeploy module" in why
    # On PATH.
    monkeypatch.setenv("PATH", str(fake_lmdeploy.exe.parent))
    cmd, why = locate_lmdeploy(Settings())
    assert cmd == [str(fake_lmdeploy.exe)] and "PATH" in why
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert locate_lmdeploy(Settings())[0] is None


def _python_with_fake_lmdeploy(tmp_path: Path, fake) -> Path:
    """A `python3` whose environment has an lmdeploy package (running the fake as __main__)."""
    pkg = tmp_path / "site" / "lmdeploy"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "__main__.py").write_text(
        f"import runpy, sys\nsys.argv[0] = 'lmdeploy'\nrunpy.run_path({str(fake.exe)!r}, run_name='__main__')\n")
    py = tmp_path / "pybin" / "python3"
    py.parent.mkdir()
    py.write_text(f"#!/bin/sh\nPYTHONPATH={tmp_path / 'site'} exec {sys.executable} \"$@\"\n")
    py.chmod(0o755)
    return py


@pytest.mark.skipif(sys.platform.startswith("win"), reason="POSIX shell wrapper")
def test_spawn_via_python_interpreter(tmp_path, fake_lmdeploy):
    py = _python_with_fake_lmdeploy(tmp_path, fake_lmdeploy)
    cmd, _ = locate_lmdeploy(Settings(lmdeploy_command=str(py)))
    assert cmd == [str(py), "-m", "lmdeploy"]
    server = LMDeployServer(cmd, MODEL, start_timeout=15, stop_timeout=3, poll_initial=0.05, poll_max=0.2)

    async def go():
        await server.start()
        state = server.status.state
        await server.stop()
        return state

    assert run(go()) is ServerState.READY
    assert fake_lmdeploy.argv()[:3] == ["serve", "api_server", MODEL]


def test_start_stream_stop(fake_lmdeploy, tmp_path):
    states: list[tuple[ServerState, str]] = []
    log_lines: list[str] = []
    loop_ok: list[bool] = []

    def on_state(st):
        states.append((st.state, st.message))

    def on_log(line):
        # Callbacks arrive on the event loop that called start(), not the reader thread.
        loop_ok.append(asyncio.get_running_loop() is not None)
        log_lines.append(line)

    server = server_for(fake_lmdeploy, on_state=on_state, on_log=on_log, log_path=tmp_path / "server.log")
    engine = LMDeployEngine(server, max_concurrency=4)

    async def go():
        await engine.start()
        assert (await engine.health()).ok
        text, finish = await collect(engine, Request(image=make_image(), max_tokens=512))
        pids = fake_lmdeploy.pids()
        assert all(pid_alive(p) for p in pids) and len(pids) == 2
        await engine.stop()
        return text, finish, pids

    text, finish, pids = run(go())
    assert finish is FinishReason.STOP and "Total: 59.00 EUR" in text
    # argv is exactly the contract's launch line with this start's port and key.
    argv = fake_lmdeploy.argv()
    assert argv == build_command([], MODEL, port=server.port, api_key=server.api_key)
    assert len(server.api_key) >= 24
    assert [s for s, _ in states] == [ServerState.STARTING, ServerState.READY, ServerState.STOPPED]
    assert not wait_dead(pids)  # the server and its worker child: the whole group is gone
    assert any("Uvicorn running on http://127.0.0.1:" in line for line in log_lines) and all(loop_ok)
    logged = (tmp_path / "server.log").read_text()
    assert "Uvicorn running" in logged and server.api_key not in logged.split("\n")[0]
    assert server.log_lines() and "Uvicorn running" in "\n".join(server.log_lines())


def test_each_start_gets_a_new_port_check_and_key(fake_lmdeploy):
    server = server_for(fake_lmdeploy)

    async def go():
        keys = []
        for _ in range(2):
            await server.start()
            keys.append(server.api_key)
            await server.stop()
        return keys

    keys = run(go())
    assert keys[0] != keys[1]
    assert all(not k.startswith("-") and len(k) >= 32 for k in keys)  # argparse-safe


@pytest.mark.parametrize(("scenario", "error", "returncode", "text"), [
    ("bad_args", BadArguments, 2, "invalid choice"),
    ("oom", OutOfMemory, 1, "CUDA out of memory"),
    ("missing_model", ModelNotFound, 1, "not a valid model identifier"),
    ("abort", NativeCrash, -signal.SIGABRT, "terminate called"),
    ("port_in_use", PortInUse, 1, "address already in use"),
])
def test_start_failures_are_explained(fake_lmdeploy, monkeypatch, scenario, error, returncode, text):
    monkeypatch.setenv("FAKE_LMDEPLOY_SCENARIO", scenario)
    server = server_for(fake_lmdeploy)
    with pytest.raises(error) as info:
        run(server.start())
    err = info.value
    assert err.returncode == returncode
    assert any(text in line for line in err.log_tail)
    assert err.hint and err.user_message.startswith(str(err))
    assert server.status.state is ServerState.FAILED and server.status.error is err
    if scenario == "oom":
        assert "AWQ" in err.hint and "cache-max-entry-count" in err.hint


def test_requested_port_in_use_is_refused_before_spawning(fake_lmdeploy):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        server = server_for(fake_lmdeploy, port=s.getsockname()[1])
        with pytest.raises(PortInUse, match="already in use"):
            run(server.start())
    assert not fake_lmdeploy.argv_file.exists()  # never spawned


def test_hang_hits_the_start_timeout_and_is_killed(fake_lmdeploy, monkeypatch):
    monkeypatch.setenv("FAKE_LMDEPLOY_SCENARIO", "hang")
    server = server_for(fake_lmdeploy, start_timeout=0.8, tp=2)
    t0 = time.monotonic()
    with pytest.raises(StartTimeout, match="within 0.8 s") as info:
        run(server.start())
    assert time.monotonic() - t0 < 5
    assert "3993" in info.value.hint  # the tp hang is named
    assert server.pid is None and server.status.state is ServerState.FAILED


def test_sigterm_ignored_needs_sigkill(fake_lmdeploy, monkeypatch):
    monkeypatch.setenv("FAKE_LMDEPLOY_SCENARIO", "ignore_term")
    server = server_for(fake_lmdeploy, stop_timeout=0.6)

    async def go():
        await server.start()
        pids = fake_lmdeploy.pids()
        t0 = time.monotonic()
        await server.stop()
        return pids, time.monotonic() - t0

    pids, took = run(go())
    assert 0.6 <= took < 4
    assert not wait_dead(pids, 2)


def test_server_dying_after_ready_is_reported(fake_lmdeploy, monkeypatch, tmp_path):
    trigger = tmp_path / "die"
    monkeypatch.setenv("FAKE_LMDEPLOY_SCENARIO", "die_after_ready")
    monkeypatch.setenv("FAKE_LMDEPLOY_DIE_FILE", str(trigger))
    states = []
    server = server_for(fake_lmdeploy, on_state=lambda st: states.append(st))
    engine = LMDeployEngine(server)

    async def go():
        await engine.start()
        trigger.touch()
        for _ in range(400):
            if server.status.state is ServerState.FAILED:
                break
            await asyncio.sleep(0.05)
        failed = server.status
        # every later request says why (exit code, last words), not "not running"
        with pytest.raises(ServerDied, match="exit code 11.*Segmentation fault"):
            await collect(engine, Request(image=make_image()))
        await engine.stop()
        return failed

    failed = run(go())
    assert failed.state is ServerState.FAILED and isinstance(failed.error, ServerDied)
    assert "Segmentation fault" in failed.message
    assert states[-1].state is ServerState.STOPPED


def test_cancelling_start_kills_the_server(fake_lmdeploy, monkeypatch):
    monkeypatch.setenv("FAKE_LMDEPLOY_DELAY", "30")
    server = server_for(fake_lmdeploy)

    async def go():
        task = asyncio.create_task(server.start())
        for _ in range(100):
            if len(fake_lmdeploy.pids()) == 2:
                break
            await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return fake_lmdeploy.pids()

    pids = run(go())
    assert len(pids) == 2 and not wait_dead(pids)
    assert server.status.state is ServerState.STOPPED


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_server_dies_with_a_killed_app(fake_lmdeploy, tmp_path):
    """SIGKILL the app (no atexit, no stop()): the kernel kills the server (parent-death signal)."""
    script = tmp_path / "app.py"
    script.write_text(textwrap.dedent(f"""
        import asyncio, sys, time
        sys.path.insert(0, {os.getcwd()!r})
        from desktop_ocr.engines.lmdeploy_server import LMDeployServer
        async def main():
            s = LMDeployServer([{str(fake_lmdeploy.exe)!r}], {MODEL!r}, start_timeout=15,
                               poll_initial=0.05, poll_max=0.2)
            await s.start()
            print(s.pid, flush=True)
            await asyncio.sleep(3600)
        asyncio.run(main())
    """))
    app = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        server_pid = int(app.stdout.readline())
        assert pid_alive(server_pid)
        app.kill()
        app.wait()
        assert not wait_dead([server_pid], 5), "the server outlived the killed app"
    finally:
        app.stdout.close()
        if app.poll() is None:
            app.kill()
            app.wait()
        # The fake's worker child is not covered by the parent-death signal (it would be
        # lmdeploy's job); clean the group up so it does not leak.
        for pid in fake_lmdeploy.pids():
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        wait_dead(fake_lmdeploy.pids(), 3)


def test_classify_failure_texts():
    assert isinstance(classify_failure(1, ["RuntimeError: CUDA error: out of memory"]), OutOfMemory)
    assert isinstance(classify_failure(134, ["Aborted (core dumped)"]), NativeCrash)
    assert isinstance(classify_failure(-6, []), NativeCrash)
    assert isinstance(classify_failure(2, ["lmdeploy: error: unrecognized arguments: --foo"]), BadArguments)
    generic = classify_failure(1, ["ValueError: something else"])
    assert type(generic).__name__ == "ServerStartError" and "something else" in str(generic)


def test_from_settings_without_lmdeploy_fails_on_start_with_reason(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    engine = LMDeployEngine.from_settings(Settings(engine="lmdeploy", model=MODEL, max_in_flight=3))
    assert engine.max_concurrency == 3
    with pytest.raises(EngineUnavailable, match="lmdeploy was not found") as info:
        run(engine.start())
    assert "pip install" in info.value.hint
    assert run(engine.health()).state == "failed"


def test_from_settings_passes_options(fake_lmdeploy, tmp_path):
    folder = str(make_model_folder(tmp_path / "InternVL3-8B-AWQ"))
    s = Settings(engine="lmdeploy", model=folder, lmdeploy_command=str(fake_lmdeploy.exe),
                 session_len=8192, cache_max_entry_count=0.4, quant_policy=8, dtype="float16",
                 start_timeout=12)
    server = LMDeployEngine.from_settings(s).server
    args = server.build_args(4242, "K")
    assert args[0] == str(fake_lmdeploy.exe) and args[3] == folder
    for flag, value in (("--model-format", "awq"), ("--session-len", "8192"),
                        ("--cache-max-entry-count", "0.4"), ("--quant-policy", "8"), ("--dtype", "float16")):
        assert args[args.index(flag) + 1] == value
    assert server.start_timeout == 12


def test_a_model_not_on_disk_is_never_handed_to_lmdeploy(fake_lmdeploy, tmp_path):
    # GIVEN a catalog model that is in none of the model folders
    s = Settings(engine="lmdeploy", model="InternVL3-2B", lmdeploy_command=str(fake_lmdeploy.exe),
                 models_dir=str(tmp_path / "models"), dtype="bfloat16")
    engine = LMDeployEngine.from_settings(s, start_timeout=5)
    # WHEN it is started, THEN it fails at once with the download to make, and spawned nothing
    with pytest.raises(ModelNotDownloaded) as info:
        run(engine.start())
    assert info.value.model == "InternVL3-2B" and "models pull InternVL3-2B" in info.value.hint
    assert not fake_lmdeploy.argv_file.exists()
    # GIVEN a folder that lacks one of its weight shards: refused as incomplete, naming why
    broken = make_model_folder(tmp_path / "InternVL3-8B")
    (broken / "model.safetensors").unlink()
    (broken / "model.safetensors.index.json").write_text('{"weight_map": {"a": "model-00001-of-00002.safetensors"}}')
    with pytest.raises(ModelNotDownloaded, match="incomplete"):
        run(LMDeployServer([str(fake_lmdeploy.exe)], str(broken), start_timeout=5).start())
    assert not fake_lmdeploy.argv_file.exists()


def test_the_family_decides_backend_and_served_name(fake_lmdeploy, tmp_path):
    # GIVEN a Qwen2.5-VL folder: PyTorch engine, served as qwen2.5-vl, and requests it understands
    folder = make_model_folder(tmp_path / "Qwen2.5-VL-7B-Instruct", "Qwen2_5_VLForConditionalGeneration")
    s = Settings(engine="lmdeploy", model=str(folder), lmdeploy_command=str(fake_lmdeploy.exe), dtype="bfloat16")
    engine = LMDeployEngine.from_settings(s, start_timeout=15, stop_timeout=3, poll_initial=0.05, poll_max=0.2)

    async def go():
        await engine.start()
        try:
            return await collect(engine, Request(make_image(), max_dynamic_patch=4))
        finally:
            await engine.stop()

    text, finish = run(go())
    argv = fake_lmdeploy.argv()
    assert argv[argv.index("--backend") + 1] == "pytorch"
    assert argv[argv.index("--model-name") + 1] == "qwen2.5-vl"
    assert finish is FinishReason.STOP and text
