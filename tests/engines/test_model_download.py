"""Downloading models against the fake hub (a real HTTP server process on 127.0.0.1):
huggingface_hub's own code lists and fetches the files, the download runs in its child
process, and every way it can end is checked on disk."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from engine_helpers import run
from hub_helpers import child_env, hashes, make_repo, start_fake_hub

from desktop_ocr.core.messages import Text
from desktop_ocr.engines.model_download import CHUNK_BYTES, DownloadJob, JobState
from desktop_ocr.engines.model_store import MANIFEST, ModelStore

REPO = "tiny-org/TinyVL-1B"


@pytest.fixture
def hub_repos(tmp_path):
    repos = tmp_path / "repos"
    return repos, make_repo(repos, REPO, 3_000_000, shards=2)


@pytest.fixture
def hub_factory(tmp_path):
    started = []

    def start(repos: Path, *args: str):
        hub = start_fake_hub(repos, tmp_path / f"hub-log-{len(started)}.jsonl", *args)
        started.append(hub)
        return hub

    yield start
    for hub in started:
        hub.stop()


def store_at(root: Path) -> ModelStore:
    return ModelStore(root, use_caches=False)


async def wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def job_for(tmp_path, hub, root, **kw) -> DownloadJob:
    events: list[tuple[str, int]] = []
    job = DownloadJob(REPO, root, source=hub.url, env=child_env(tmp_path),
                      on_change=lambda j: events.append((j.state, j.done_bytes)), **kw)
    job.events = events  # type: ignore[attr-defined]
    return job


async def start_and_wait(job: DownloadJob) -> JobState:
    job.start()
    return await job.wait()


def test_download_reports_progress_and_lands_complete(tmp_path, hub_repos, hub_factory):
    # GIVEN a repository on the fake hub, sent at 4 MB/s so progress can be seen
    repos, expected = hub_repos
    hub = hub_factory(repos, "--rate", "4000000")
    root = tmp_path / "models"
    job = job_for(tmp_path, hub, root)


    # WHEN it is downloaded
    assert run(start_and_wait(job)) == JobState.DONE, job.message
    # THEN progress rose monotonically to the total, with a speed, and the folder is complete
    done = [b for state, b in job.events if state == JobState.RUNNING]
    assert done == sorted(done) and len(set(done)) >= 3
    assert job.done_bytes == job.total_bytes == sum((repos / REPO / p).stat().st_size for p in expected)
    assert job.speed_bps > 0 and job.describe().startswith("3.0 MB of 3.0 MB")
    final = Path(job.path)
    assert final == root / "tiny-org--TinyVL-1B" and (final / MANIFEST).is_file()
    assert hashes(final) == expected
    found = store_at(root).find(REPO)
    assert found is not None and found.complete and found.path == final
    assert not (root / ".partial").exists()


def test_resume_after_the_download_process_is_killed(tmp_path, hub_repos, hub_factory):
    # GIVEN a slow download (1 MB/s) that is killed part way, like an app that crashed
    repos, expected = hub_repos
    hub = hub_factory(repos, "--rate", "1000000")
    root = tmp_path / "models"
    first = job_for(tmp_path, hub, root)

    async def part():
        first.start()
        await wait_for(lambda: first.done_bytes > 700_000)
        first.pause()  # SIGKILL to the child's process group
        return await first.wait()

    assert run(part()) == JobState.PAUSED
    # THEN nothing looks installed, and the partial download is listed with its bytes
    store = store_at(root)
    assert store.find(REPO) is None or not store.find(REPO).complete
    assert not (root / "tiny-org--TinyVL-1B").exists()
    [partial] = store.partials()
    assert partial.repo == REPO and 0 < partial.done_bytes < partial.total_bytes
    # WHEN a new job (a restarted app) downloads the same model
    second = job_for(tmp_path, hub, root)

    async def rest():
        second.start()
        return await second.wait()

    assert run(rest()) == JobState.DONE, second.message
    # THEN it continued with a range request instead of starting over, and the files are intact
    resumed = [r for r in hub.requests() if r["range"].startswith("bytes=") and not r["range"].startswith("bytes=0-")]
    assert resumed, hub.requests()
    assert hashes(Path(second.path)) == expected
    assert store.partials() == []


def test_a_dropped_connection_resumes_within_the_same_download(tmp_path, hub_repos, hub_factory):
    # GIVEN a hub that drops each file's first transfer after 700 kB
    repos, expected = hub_repos
    hub = hub_factory(repos, "--drop-after", "700000")
    root = tmp_path / "models"
    job = job_for(tmp_path, hub, root)


    # WHEN downloading, THEN huggingface_hub continues each shard after the last whole
    # chunk it wrote, in the same child process
    assert run(start_and_wait(job)) == JobState.DONE, job.message
    shard = "model-00001-of-00002.safetensors"
    assert hub.ranges(shard) == ["", f"bytes={CHUNK_BYTES}-"], hub.ranges(shard)
    assert hashes(Path(job.path)) == expected


def test_cancel_removes_everything_it_downloaded(tmp_path, hub_repos, hub_factory):
    repos, _ = hub_repos
    hub = hub_factory(repos, "--rate", "1000000")
    root = tmp_path / "models"
    job = job_for(tmp_path, hub, root)

    async def go():
        job.start()
        await wait_for(lambda: job.done_bytes > 300_000)
        job.cancel()
        return await job.wait()

    # WHEN a running download is cancelled, THEN its process is gone and so are its files
    assert run(go()) == JobState.CANCELLED
    assert job.returncode is not None
    assert not (root / ".partial" / "tiny-org--TinyVL-1B").exists()
    assert store_at(root).scan() == [] and store_at(root).partials() == []


def test_a_corrupted_file_is_refused_and_not_installed(tmp_path, hub_repos, hub_factory):
    # GIVEN a hub that serves one shard with a changed byte (same size)
    repos, _ = hub_repos
    hub = hub_factory(repos, "--corrupt", "model-00002-of-00002.safetensors")
    root = tmp_path / "models"
    job = job_for(tmp_path, hub, root)


    # THEN the download fails naming the file, and nothing is installed
    assert run(start_and_wait(job)) == JobState.FAILED
    assert job.error_kind == "corrupt" and "model-00002-of-00002.safetensors" in job.message
    assert not (root / "tiny-org--TinyVL-1B").exists()
    partial = root / ".partial" / "tiny-org--TinyVL-1B"
    assert not (partial / "model-00002-of-00002.safetensors").exists()
    assert not (partial / "model-00002-of-00002.safetensors.incomplete").exists()
    # The good shard stays verified, so a resume from a healthy source fetches only the bad one.
    assert (partial / "model-00001-of-00002.safetensors").is_file()


def test_unknown_repository_and_unreachable_host_say_so(tmp_path, hub_repos, hub_factory):
    repos, _ = hub_repos
    hub = hub_factory(repos)
    root = tmp_path / "models"

    # GIVEN a repository the hub does not have
    missing = DownloadJob("tiny-org/NoSuchModel", root, source=hub.url, env=child_env(tmp_path))
    assert run(start_and_wait(missing)) == JobState.FAILED
    assert missing.error_kind == "not_found" and "tiny-org/NoSuchModel was not found" in missing.message
    # (the child sent the sentence with its template, so the window can say it in its language)
    assert isinstance(missing.message, Text) and missing.message.values["repo"] == "tiny-org/NoSuchModel"
    # GIVEN a host where nothing listens (a port we just closed)
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    gone = DownloadJob(REPO, root, source=f"http://127.0.0.1:{dead}", env=child_env(tmp_path))
    assert run(start_and_wait(gone)) == JobState.FAILED
    assert gone.error_kind == "network" and "another source" in gone.hint
    assert store_at(root).scan() == []


def test_hf_endpoint_points_the_default_source_at_a_mirror(tmp_path, hub_repos, hub_factory):
    # GIVEN HF_ENDPOINT set (how users in mainland China reach a mirror) and source "hf"
    repos, expected = hub_repos
    hub = hub_factory(repos)
    root = tmp_path / "models"
    job = DownloadJob(REPO, root, source="hf", env=child_env(tmp_path, HF_ENDPOINT=hub.url))


    assert run(start_and_wait(job)) == JobState.DONE, job.message
    assert hashes(Path(job.path)) == expected and hub.requests()


@contextlib.contextmanager
def small_tmpfs(path: Path, size: str):
    path.mkdir(parents=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a full disk needs a small tmpfs, and mounting one needs root")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip() or r.returncode}): no full-disk test")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_a_disk_too_small_is_refused_before_downloading(tmp_path, hub_repos, hub_factory):
    repos, _ = hub_repos
    hub = hub_factory(repos)
    with small_tmpfs(tmp_path / "small", "1m") as root:
        job = DownloadJob(REPO, root, source=hub.url,
                          env=child_env(tmp_path, DESKTOP_OCR_DOWNLOAD_MARGIN="0"))


        # THEN the check before the start says how much is needed and free, and fetched nothing
        assert run(start_and_wait(job)) == JobState.FAILED
        assert job.error_kind == "disk_full" and "MB free" in job.message
        assert not [r for r in hub.requests() if "/resolve/" in r["path"]]
        assert store_at(root).scan() == []


def test_a_disk_that_fills_up_during_the_download_keeps_what_arrived(tmp_path, hub_repos, hub_factory):
    repos, _ = hub_repos
    hub = hub_factory(repos, "--rate", "1000000")
    with small_tmpfs(tmp_path / "small", "4m") as root:
        job = DownloadJob(REPO, root, source=hub.url,
                          env=child_env(tmp_path, DESKTOP_OCR_DOWNLOAD_MARGIN="0"))

        async def go():
            job.start()
            await wait_for(lambda: job.done_bytes > 200_000)
            # Another program takes the rest of the disk while the download runs.
            free = shutil.disk_usage(root).free
            (root / "filler").write_bytes(b"\0" * max(0, free - 4096))
            return await job.wait()

        # THEN a clear disk-full failure, no model folder, and the partial bytes kept for a resume
        assert run(go()) == JobState.FAILED
        assert job.error_kind == "disk_full" and "resume" in job.hint
        assert store_at(root).partials()[0].done_bytes > 0
        assert not (root / "tiny-org--TinyVL-1B").exists()


def test_download_child_never_outlives_a_killed_app(tmp_path, hub_repos, hub_factory):
    # GIVEN an "app" process that starts a slow download and is then SIGKILLed
    repos, _ = hub_repos
    hub = hub_factory(repos, "--rate", "200000")
    root = tmp_path / "models"
    pid_file = tmp_path / "child.pid"
    script = f"""
import asyncio, sys
from pathlib import Path
from desktop_ocr.engines.model_download import DownloadJob
async def main():
    job = DownloadJob({REPO!r}, Path({str(root)!r}), source={hub.url!r})
    job.start()
    Path({str(pid_file)!r}).write_text(str(job.pid))
    await asyncio.sleep(60)
asyncio.run(main())
"""
    app = subprocess.Popen([sys.executable, "-c", script], env=child_env(tmp_path))
    try:
        deadline = time.monotonic() + 15
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        child = int(pid_file.read_text())
        app.kill()
        app.wait()
        # THEN the download child dies with it (parent-death signal)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _alive(child):
            time.sleep(0.05)
        assert not _alive(child)
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
