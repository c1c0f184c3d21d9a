"""Fuzzing `desktop-ocr ocr`: 300+ mutated corpus files against a stand-in engine. Every
input ends with a result or one plain line; never a traceback, a hang over 60 s or more
than 2 GB of memory.

Several inputs share one CLI process (start-up is most of the cost); when a chunk
misbehaves, each of its inputs is run alone to name the culprit. Single-page runs use
`--pages 1` and the smallest tile budget so the time goes to opening, decoding and
rendering damaged files, not to encoding; multi-page sources run every page with
`--use-text-layer` (a damaged page without text is still rendered)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fuzz_inputs import Mutant, make_mutants

HANG_S = 60.0
MAX_RSS_MB = 2048
CHUNK = 30


@dataclass
class Run:
    returncode: int | None
    stdout: str
    stderr: str
    seconds: float
    rss_mb: float
    hung: bool = False
    problems: list[str] = field(default_factory=list)


def run_measured(cmd: list[str], timeout: float, workdir: Path) -> Run:
    """Run `cmd`; its peak RSS comes from wait4 (this child only, not the test process)."""
    out_path, err_path = workdir / "stdout.txt", workdir / "stderr.txt"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    t0 = time.monotonic()
    hung = False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - t0 > timeout:
            hung = True
            os.kill(proc.pid, signal.SIGKILL)
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    return Run(None if hung else proc.returncode, out_path.read_text("utf-8", "replace"),
               err_path.read_text("utf-8", "replace"), time.monotonic() - t0,
               usage.ru_maxrss / 1024, hung)


def check(run: Run, inputs: list[Mutant]) -> list[str]:
    """What is wrong with one CLI run over `inputs` (empty: nothing)."""
    names = [m.path.name for m in inputs]
    problems = []
    if run.hung:
        problems.append(f"hung (killed after {run.seconds:.0f} s)")
    elif run.returncode not in (0, 1, 2):
        problems.append(f"exit status {run.returncode}")
    if run.rss_mb > MAX_RSS_MB:
        problems.append(f"peak memory {run.rss_mb:.0f} MB")
    if "Traceback" in run.stderr or "Traceback" in run.stdout:
        problems.append("a traceback:\n" + run.stderr[-2000:])
    stray = [line for line in run.stderr.splitlines() if line.strip() and not line.startswith("desktop-ocr: ")]
    if stray:
        problems.append(f"raw lines on stderr: {stray[:3]}")
    for line in run.stderr.splitlines():
        if "Something went wrong" in line:
            problems.append(f"an unexpected error: {line}")
    if not run.hung:
        results = []
        for line in run.stdout.splitlines():
            try:
                results.append(json.loads(line))
            except ValueError:
                problems.append(f"stdout line that is not JSON: {line[:100]!r}")
        got = [Path(r.get("file", "")).name for r in results]
        if got != names:
            problems.append(f"results for {len(got)} of {len(names)} inputs")
        for r in results:
            if "error" in r and (not r["error"] or "\n" in r["error"]):
                problems.append(f"{r['file']}: error is not one line: {r['error']!r}")
    return problems


@pytest.mark.slow
def test_fuzzed_inputs_end_in_a_result_or_one_line(corpus, tmp_path, standin_factory):
    # GIVEN 300+ mutated corpus files and a stand-in engine
    mutants = make_mutants(corpus, tmp_path / "fuzz", count=320)
    server = standin_factory()
    base = [sys.executable, "-m", "desktop_ocr", "ocr", "--json", "--engine", "openai",
            "--endpoint", server.url, "--api-key", server.api_key, "--max-dynamic-patch", "1",
            "--timeout", "30"]
    single = [m for m in mutants if not m.multi_page]
    multi = [m for m in mutants if m.multi_page]
    plans = [(single[i:i + CHUNK], ["--pages", "1"]) for i in range(0, len(single), CHUNK)]
    plans += [(multi[i:i + CHUNK // 3], ["--use-text-layer"]) for i in range(0, len(multi), CHUNK // 3)]
    failures: dict[str, list[str]] = {}
    worst_rss = 0.0
    outcomes = {"ok": 0, "error": 0}
    t0 = time.monotonic()
    # WHEN the CLI runs on each of them
    for inputs, extra in plans:
        run = run_measured([*base, *extra, *map(str, (m.path for m in inputs))],
                           HANG_S + 5 * len(inputs), tmp_path)
        worst_rss = max(worst_rss, run.rss_mb)
        problems = check(run, inputs)
        if not problems:
            for line in run.stdout.splitlines():
                outcomes["error" if "error" in json.loads(line) else "ok"] += 1
            continue
        for mutant in inputs:  # name the culprit: each input alone
            alone = run_measured([*base, *extra, str(mutant.path)], HANG_S, tmp_path)
            worst_rss = max(worst_rss, alone.rss_mb)
            found = check(alone, [mutant])
            if found:
                failures[f"{mutant.path.name} (from {mutant.source})"] = found
            else:
                outcomes["error" if '"error"' in alone.stdout else "ok"] += 1
    took = time.monotonic() - t0
    print(f"\nfuzz: {len(mutants)} files, {outcomes}, {took:.0f} s, peak RSS {worst_rss:.0f} MB")
    # THEN every one ended in a result or one plain line, in time and memory
    assert not failures, "\n".join(f"{name}: {p}" for name, p in failures.items())
    assert len(mutants) >= 300 and sum(outcomes.values()) == len(mutants)
    # (both outcomes occur: the mutations neither all break nor all spare the files)
    assert outcomes["ok"] > 20 and outcomes["error"] > 20
