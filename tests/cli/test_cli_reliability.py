"""`desktop-ocr ocr` under faults and hostile input, as a real subprocess: usage errors
before any work, a closed pipe, damaged and disguised files, servers that never answer or
send garbage, a server that dies mid-batch, and the CLI killed by a signal."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from engine_helpers import wait_dead
from PIL import Image

PYTHON = [sys.executable, "-m", "desktop_ocr"]


def run_cli(*args, timeout: float = 120, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*PYTHON, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env)


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def png(path: Path, size=(120, 40)) -> Path:
    Image.new("RGB", size, "white").save(path)
    return path


@pytest.fixture
def server(standin_factory):
    return standin_factory()


def openai(server) -> list[str]:
    return ["--engine", "openai", "--endpoint", server.url, "--api-key", server.api_key]


# ---------------------------------------------------------------- usage before any work


@pytest.mark.parametrize("args, words", [
    (["--pages", "abc"], "--pages: 'abc' is not a page number"),
    (["--pages", "3-1"], "--pages: The range '3-1' runs backwards"),
    (["--out", "{tmp}/x.doc"], "--out: Cannot export to .doc"),
    (["--out", "{tmp}/missing/x.txt"], "--out: Cannot save"),
    (["--out", "{tmp}/fifo.txt"], "not a regular file (a named pipe)"),
    (["--format", "doc", "--out", "{tmp}/x"], "--format: invalid choice"),
    (["--timeout", "0"], "--timeout"),
])
def test_usage_errors_are_found_before_any_work(tmp_path, corpus, args, words):
    # GIVEN an engine that cannot be reached (work would fail with "cannot connect")
    os.mkfifo(tmp_path / "fifo.txt")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    # WHEN a bad option is given
    t0 = time.monotonic()
    proc = run_cli("ocr", corpus / "pdf-small-table.pdf", "--engine", "openai",
                   "--endpoint", "http://127.0.0.1:9", *args)
    # THEN it is a usage error (64) naming the option, before any connection was tried
    assert proc.returncode == 64, proc.stderr
    assert words in proc.stderr, proc.stderr
    assert "connect" not in proc.stderr.lower() and "log file" not in proc.stderr
    assert "Traceback" not in proc.stderr
    assert time.monotonic() - t0 < 30
    assert stat.S_ISFIFO(os.lstat(tmp_path / "fifo.txt").st_mode)  # the FIFO is still a FIFO


def test_out_to_a_symlink_writes_its_target(tmp_path, corpus, server):
    target = tmp_path / "real.txt"
    target.write_text("old")
    target.chmod(0o640)
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    proc = run_cli("ocr", corpus / "pdf-small-table.pdf", "--use-text-layer", *openai(server),
                   "--out", link)
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and "Boiling" in target.read_text()
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_tsv_out_is_tab_separated(tmp_path, corpus, server):
    out = tmp_path / "t.tsv"
    proc = run_cli("ocr", corpus / "pdf-small-table.pdf", "--use-text-layer", *openai(server),
                   "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert "\t" in out.read_text() or "," not in out.read_text()


def test_a_closed_pipe_ends_quietly(corpus, server):
    # GIVEN a 47-page text layer printed into a pipe whose reader stops after one line
    proc = subprocess.Popen([*PYTHON, "ocr", str(corpus / "pdf-47-pages.pdf"), "--use-text-layer",
                             *openai(server)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    proc.stdout.close()  # `| head -1`
    err = proc.stderr.read().decode()
    proc.stderr.close()
    rc = proc.wait(60)
    # THEN it stops at once, quietly, with the status of a filter whose reader left
    assert first.startswith(b"--- page 1 ---")
    assert rc == 141 and err == ""


# ---------------------------------------------------------------- content, not names


def test_a_pdf_holding_html_and_a_cut_pdf_are_one_line_each(tmp_path, corpus, server):
    fake = tmp_path / "invoice.pdf"
    fake.write_text("<!DOCTYPE html><html><body><h1>Invoice</h1></body></html>")
    cut = tmp_path / "cut.pdf"
    cut.write_bytes((corpus / "pdf-chinese-tables.pdf").read_bytes()[:400])
    proc = run_cli("ocr", fake, cut, *openai(server))
    assert proc.returncode == 2
    err = lines(proc.stderr)
    assert len(err) == 2, proc.stderr
    assert "invoice.pdf" in err[0] and "web page (HTML)" in err[0]
    assert "cut.pdf" in err[1] and "nothing recoverable" in err[1]
    assert server.stats()["requests"] == 0  # nothing was "recognised"


def test_a_repaired_pdf_says_so_in_one_line(corpus, server):
    proc = run_cli("ocr", corpus / "bad-truncated.pdf", "--pages", "1", "--use-text-layer", *openai(server))
    assert proc.returncode == 0, proc.stderr
    err = lines(proc.stderr)
    assert len(err) == 1 and "repaired" in err[0] and "bad-truncated.pdf" in err[0]


def test_library_chatter_does_not_reach_the_terminal(corpus, server):
    proc = run_cli("ocr", corpus / "bad-fuzz-crash.tif", *openai(server))
    err = lines(proc.stderr)
    assert proc.returncode == 2 and len(err) == 1 and "damaged" in err[0]
    # every line is the app's own (libtiff's raw "Fax4Decode: Bad code word..." is in the log)
    assert all(line.startswith("desktop-ocr: ") for line in err) and "Bad code word" not in proc.stderr
    assert "Traceback" not in proc.stderr


# ---------------------------------------------------------------- servers that misbehave


def test_events_of_the_wrong_shape_fail_each_input_in_one_line(tmp_path, standin_factory):
    server = standin_factory("--scenario", "shape_content_number")
    a, b = png(tmp_path / "a.png"), png(tmp_path / "b.png")
    proc = run_cli("ocr", a, b, *openai(server))
    # THEN the batch went on to the second input, each failed in one plain line
    assert proc.returncode == 2
    err = lines(proc.stderr)
    assert len(err) == 2 and "a.png" in err[0] and "b.png" in err[1]
    assert all("wrong shape" in line for line in err)
    assert "Traceback" not in proc.stderr


def test_a_server_that_never_answers_hits_the_timeout_and_says_it_waits(tmp_path, standin_factory):
    # GIVEN a server that is up but never answers a chat request, and a 6 s limit
    server = standin_factory("--hang", "chat")
    env = dict(os.environ, DESKTOP_OCR_TIMEOUT="6")
    t0 = time.monotonic()
    proc = run_cli("ocr", png(tmp_path / "a.png"), *openai(server), env=env)
    took = time.monotonic() - t0
    # THEN it fails after about 6 s (not 3 x 600 s), after saying it was waiting
    assert proc.returncode == 2
    err = lines(proc.stderr)
    assert err[0].endswith("a.png: waiting for the server… 5 s"), proc.stderr
    assert "did not start answering within 6 s" in err[-1] and "--timeout" in err[-1]
    assert took < 25


# ---------------------------------------------------------------- the local server dies


def _lmdeploy(fake) -> list[str]:
    # A complete local folder: the server never starts on a hub id (nothing downloads).
    sys.path.append(str(Path(__file__).resolve().parent.parent / "engines"))
    from engine_helpers import make_model_folder

    model = make_model_folder(fake.exe.parent.parent / "InternVL3-1B")
    return ["--engine", "lmdeploy", "--lmdeploy-command", str(fake.exe), "--model", str(model)]


def test_server_death_is_reported_once_with_its_cause_then_restarted_once(tmp_path, fake_lmdeploy, monkeypatch):
    # GIVEN five inputs and a local server that dies mid-answer on every second request
    monkeypatch.setenv("FAKE_LMDEPLOY_DIE_AFTER", "2")
    inputs = [png(tmp_path / f"in{i}.png") for i in range(1, 6)]
    # (one at a time, so that the inputs meet the deaths in a known order)
    proc = run_cli("ocr", *inputs, *_lmdeploy(fake_lmdeploy), "--max-in-flight", "1", timeout=180)
    err = lines(proc.stderr)
    # THEN: in2 dies (one line, with exit code and cause), the engine restarts once, in3
    # works, in4 dies again, and the batch stops, naming what was left
    deaths = [line for line in err if "stopped unexpectedly" in line]
    assert len(deaths) == 2, proc.stderr
    assert "in2.png" in deaths[0] and "exit code 1" in deaths[0] and "illegal memory access" in deaths[0]
    assert "in4.png" in deaths[1]
    assert sum("restarting the engine" in line for line in err) == 1
    assert err[-1].endswith("stopped: 1 more input not recognised.")
    assert "not running" not in proc.stderr and "Traceback" not in proc.stderr
    assert "=== " + str(inputs[2]) + " ===" in proc.stdout and "Invoice" in proc.stdout
    assert proc.returncode == 1


def test_without_restart_the_batch_stops_at_the_first_death(tmp_path, fake_lmdeploy, monkeypatch):
    monkeypatch.setenv("FAKE_LMDEPLOY_DIE_AFTER", "2")
    inputs = [png(tmp_path / f"in{i}.png") for i in range(1, 6)]
    proc = run_cli("ocr", *inputs, *_lmdeploy(fake_lmdeploy), "--no-restart-engine-on-crash",
                   "--max-in-flight", "1", timeout=120)
    err = lines(proc.stderr)
    assert sum("stopped unexpectedly" in line for line in err) == 1, proc.stderr
    assert err[-1].endswith("stopped: 3 more inputs not recognised.")
    assert proc.returncode == 1


# ---------------------------------------------------------------- signals


def _server_log() -> Path:
    return Path(os.environ["XDG_STATE_HOME"]) / "desktop-ocr" / "log" / "lmdeploy-server.log"


def _wait_for(condition, timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129),
                                       (signal.SIGINT, 130), (signal.SIGKILL, -9)])
def test_a_signalled_cli_leaves_no_server_process(tmp_path, fake_lmdeploy, monkeypatch, sig, code):
    # GIVEN the CLI waiting on a local server (3 workers, one with a child, one in a group
    # of its own) that only sends keep-alives
    monkeypatch.setenv("FAKE_LMDEPLOY_WORKERS", "3")
    monkeypatch.setenv("FAKE_LMDEPLOY_STREAM", "keepalive")
    cli = subprocess.Popen([*PYTHON, "ocr", str(png(tmp_path / "a.png")), *_lmdeploy(fake_lmdeploy),
                            "--timeout", "120"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: _server_log().exists() and "POST /v1/chat/completions" in _server_log().read_text(),
                  what="the chat request to reach the server")
        tree = psutil.Process(cli.pid).children(recursive=True)
        assert len(tree) >= 6  # leader, 3 workers, a grandchild, the watchdog
        # WHEN the CLI gets `sig`
        os.kill(cli.pid, sig)
        out, err = cli.communicate(timeout=30)
        # THEN it ends (cleanly for TERM / HUP / INT, saying why), and within a few seconds
        # nothing of the server is left
        assert cli.returncode == code, err
        if sig in (signal.SIGTERM, signal.SIGHUP):
            assert f"stopped by {signal.Signals(sig).name}" in err and "Traceback" not in err
        left = wait_dead([p.pid for p in tree], 5)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        assert left == []
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.communicate()
