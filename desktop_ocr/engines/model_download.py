"""Downloading a model: a child process that does the work, and the job that runs it.

Why a child process: a download must be pausable, cancellable and resumable at any
byte, also after the app was killed. Stopping a process is the one cancel that always
works (no thread to interrupt inside an HTTP read), and the child's state is all on disk:
- files land in `<models>/.partial/<name>/`, each as `<file>.incomplete` until its size
  and hash are checked (sha256 for LFS files, the git blob sha1 for the others, from the
  hub's own file list), then renamed to its name;
- `state.json` there records the repository, source, commit and files, so a resume
  (a new child) continues each `.incomplete` file with an HTTP range request, and files
  that changed on the hub since are fetched again;
- when every file is verified the manifest is written and the folder is renamed to
  `<models>/<name>/` in one step: a model folder only ever appears complete.

HTTP is huggingface_hub's (`HfApi` for the repository's file list, `http_get` for the
bytes, which also retries a dropped connection from where it broke, with a Range
header); ModelScope downloads use the `modelscope` package (the `[modelscope]` extra).
The child prints one JSON object per line on stdout (`event`: plan, progress, verify,
done, error); `DownloadJob` runs it as an engines/child_process.ChildProcess (so it
never outlives the app: its own guarded tree, parent-death signal on Linux, the atexit
hook) and turns those into state, speed and ETA. No Qt here.

Run by hand: `python -m desktop_ocr.engines.model_download --name InternVL3-1B --root DIR`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import hashlib
import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_ocr.core.messages import QT_TRANSLATE_NOOP, Text, from_wire, to_wire
from desktop_ocr.engines.child_process import ChildProcess, Tail
from desktop_ocr.engines.model_store import MANIFEST, PARTIAL, STATE, folder_name

# Keep this much disk free beyond what the download needs (the environment variable is
# for small disks and the tests' tiny file systems).
MARGIN_BYTES = int(os.environ.get("DESKTOP_OCR_DOWNLOAD_MARGIN", 64 * 1024**2))
PROGRESS_EVERY_S = 0.25
CHUNK_BYTES = 512 * 1024


# ====================================================================== the child


class DownloadError(Exception):
    def __init__(self, kind: str, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.kind, self.message, self.hint = kind, message, hint


def _emit(event: str, **fields: Any) -> None:
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


@dataclass
class RemoteFile:
    path: str
    size: int
    sha256: str = ""  # LFS files
    blob_id: str = ""  # git blob sha1 (every file on the Hugging Face hub)

    def key(self) -> str:
        return self.sha256 or self.blob_id or str(self.size)


def _hash_ok(path: Path, f: RemoteFile) -> bool:
    if f.sha256:
        h = hashlib.sha256()
    elif f.blob_id and len(f.blob_id) == 40:
        h = hashlib.sha1(b"blob %d\0" % f.size)  # git's blob id: sha1 of a header and the bytes
    else:
        return True  # the source gave no hash: the size check is all there is
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest() == (f.sha256 or f.blob_id)


class _CountingFile:
    """The file object handed to huggingface_hub's http_get: counts what it writes."""

    def __init__(self, raw: Any, on_write: Callable[[int], None]) -> None:
        self._raw = raw
        self._on_write = on_write

    def write(self, data: bytes) -> int:
        n = self._raw.write(data)
        self._on_write(self._raw.tell())
        return n

    def __getattr__(self, name: str) -> Any:  # seek, tell, truncate, flush
        return getattr(self._raw, name)


class Downloader:
    def __init__(self, name: str, repo: str, source: str, root: Path) -> None:
        self.name = name
        self.repo = repo
        self.source = source
        self.root = root
        self.partial = root / PARTIAL / folder_name(name)
        self.final = root / folder_name(name)
        self._last_emit = 0.0

    # ------------------------------------------------------------ listing

    def _endpoint(self) -> str | None:
        if self.source in ("hf", ""):
            return None  # huggingface_hub's default, which honours HF_ENDPOINT
        if self.source.startswith(("http://", "https://")):
            return self.source.rstrip("/")
        raise DownloadError("bad_source", Text(QT_TRANSLATE_NOOP("Messages", "Unknown download source {source}."),
                                               source=repr(self.source)),
                            QT_TRANSLATE_NOOP("Messages", "Use hf, modelscope, or a mirror's URL (https://...)."))

    def list_hf(self) -> tuple[str, list[RemoteFile]]:
        from huggingface_hub import HfApi
        from huggingface_hub.hf_api import RepoFile

        api = HfApi(endpoint=self._endpoint())
        info = api.model_info(self.repo)
        commit = str(info.sha)
        files = [RemoteFile(f.path, int(f.size), f.lfs.sha256 if f.lfs else "", f.blob_id or "")
                 for f in api.list_repo_tree(self.repo, recursive=True, revision=commit)
                 if isinstance(f, RepoFile)]
        return commit, files

    def list_modelscope(self) -> tuple[str, list[RemoteFile]]:
        try:
            from modelscope.hub.api import HubApi
        except ImportError:
            raise DownloadError("no_modelscope", "Downloads from ModelScope need the modelscope package.",
                                "pip install 'desktop-ocr[modelscope]', or choose Hugging Face or a mirror.") from None
        entries = HubApi().get_model_files(self.repo, recursive=True)
        files = [RemoteFile(e["Path"], int(e.get("Size") or 0), str(e.get("Sha256") or ""))
                 for e in entries if e.get("Type") != "tree"]
        commit = str(next((e.get("Revision") for e in entries if e.get("Revision")), "master"))
        return commit, files

    # ------------------------------------------------------------ the run

    def run(self) -> Path:
        if self.final.is_dir() and (self.final / MANIFEST).exists():
            _emit("done", path=str(self.final), total=0, already=True)
            return self.final
        _emit("start", name=self.name, repo=self.repo, source=self.source)
        commit, files = self.list_modelscope() if self.source == "modelscope" else self.list_hf()
        if not files:
            raise DownloadError("not_found", f"{self.repo} has no files.")
        self.partial.mkdir(parents=True, exist_ok=True)
        state = self._load_state()
        verified = {p for p, k in state.get("verified", {}).items()
                    if any(f.path == p and f.key() == k for f in files)}
        self._forget_changed(state, files, verified)
        total = sum(f.size for f in files)
        state = {"repo": self.repo, "source": self.source, "commit": commit, "total": total,
                 "files": [f.__dict__ for f in files],
                 "verified": {f.path: f.key() for f in files if f.path in verified}}
        self._save_state(state)
        have = sum(self._have(f, verified) for f in files)
        free = shutil.disk_usage(self.partial).free
        _emit("plan", commit=commit, files=len(files), total=total, done=have, free=free)
        if total - have > free - MARGIN_BYTES:
            raise DownloadError("disk_full",
                                f"{self.name} needs {_gb(total - have)} more on {self.root}, which has {_gb(free)} free.",
                                "Free some space or choose another models folder, then resume.")
        done_before = sum(f.size for f in files if f.path in verified)
        if self.source == "modelscope":
            self._fetch_modelscope(files, total)
        else:
            for f in files:
                if f.path in verified and (self.partial / f.path).exists():
                    continue
                self._fetch_hf(f, commit, total, done_before)
                verified.add(f.path)
                done_before += f.size
                state["verified"][f.path] = f.key()
                self._save_state(state)
        for f in files:
            if not (self.partial / f.path).is_file():
                raise DownloadError("corrupt", Text(QT_TRANSLATE_NOOP("Messages", "{file} is missing after the download."),
                                                    file=f.path), RESUME_HINT)
        manifest = {"repo": self.repo, "source": self.source, "commit": commit, "name": self.name,
                    "finished": time.strftime("%Y-%m-%dT%H:%M:%S"), "files": [
                        {"path": f.path, "size": f.size, "sha256": f.sha256, "blob_id": f.blob_id} for f in files]}
        (self.partial / STATE).unlink(missing_ok=True)
        (self.partial / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        if self.final.exists():
            shutil.rmtree(self.final)  # a leftover without a manifest: never a model
        os.replace(self.partial, self.final)
        with contextlib.suppress(OSError):
            (self.root / PARTIAL).rmdir()
        _emit("done", path=str(self.final), total=total)
        return self.final

    def _have(self, f: RemoteFile, verified: set[str]) -> int:
        if f.path in verified:
            return f.size
        inc = self.partial / (f.path + ".incomplete")
        return inc.stat().st_size if inc.exists() else 0

    def _forget_changed(self, state: dict[str, Any], files: list[RemoteFile], verified: set[str]) -> None:
        """Partial or finished pieces of files that changed on the hub are no use."""
        old = {d["path"]: RemoteFile(**d).key() for d in state.get("files", []) if isinstance(d, dict)}
        for f in files:
            if f.path in old and old[f.path] != f.key():
                for p in (self.partial / f.path, self.partial / (f.path + ".incomplete")):
                    p.unlink(missing_ok=True)
                verified.discard(f.path)

    def _load_state(self) -> dict[str, Any]:
        try:
            data = json.loads((self.partial / STATE).read_text(encoding="utf-8"))
            return data if isinstance(data, dict) and data.get("repo") == self.repo else {}
        except (OSError, ValueError):
            return {}

    def _save_state(self, state: dict[str, Any]) -> None:
        tmp = self.partial / (STATE + ".tmp")
        tmp.write_text(json.dumps(state), encoding="utf-8")
        os.replace(tmp, self.partial / STATE)

    def _progress(self, done: int, total: int, file: str, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last_emit >= PROGRESS_EVERY_S:
            self._last_emit = now
            _emit("progress", done=done, total=total, file=file)

    def _fetch_hf(self, f: RemoteFile, commit: str, total: int, done_before: int) -> None:
        from huggingface_hub import constants, hf_hub_url
        from huggingface_hub.file_download import http_get
        from huggingface_hub.utils import build_hf_headers

        # http_get writes in chunks of this size: 10 MB by default, which is what a kill
        # loses and how often progress moves; half a megabyte keeps both small.
        constants.DOWNLOAD_CHUNK_SIZE = CHUNK_BYTES

        dest = self.partial / f.path
        inc = self.partial / (f.path + ".incomplete")
        inc.parent.mkdir(parents=True, exist_ok=True)
        resume = inc.stat().st_size if inc.exists() else 0
        if resume > f.size:  # longer than the file: not ours to continue
            inc.unlink()
            resume = 0
        url = hf_hub_url(self.repo, f.path, revision=commit, endpoint=self._endpoint())
        with open(inc, "ab") as raw:
            counted = _CountingFile(raw, lambda pos: self._progress(done_before + pos, total, f.path))
            if resume < f.size or f.size == 0:
                http_get(url, counted, resume_size=resume, headers=build_hf_headers(), expected_size=f.size,
                         displayed_filename=f.path)
        self._progress(done_before + f.size, total, f.path, force=True)
        _emit("verify", file=f.path)
        if inc.stat().st_size != f.size or not _hash_ok(inc, f):
            inc.unlink(missing_ok=True)  # a damaged file is no start for a resume
            raise DownloadError("corrupt", f"{f.path} arrived damaged (its hash does not match the hub's).",
                                "Resume to download that file again; if it fails again, try another source.")
        os.replace(inc, dest)

    def _fetch_modelscope(self, files: list[RemoteFile], total: int) -> None:
        from modelscope import snapshot_download

        stop = threading.Event()

        def watch() -> None:  # modelscope writes the files itself: follow them on disk
            while not stop.wait(PROGRESS_EVERY_S):
                done = sum(p.stat().st_size for p in self.partial.rglob("*") if p.is_file())
                self._progress(min(done, total), total, "")

        t = threading.Thread(target=watch, daemon=True)
        t.start()
        try:
            snapshot_download(self.repo, local_dir=str(self.partial))
        finally:
            stop.set()
        for f in files:
            p = self.partial / f.path
            if not p.is_file() or (f.size and p.stat().st_size != f.size) or not _hash_ok(p, f):
                p.unlink(missing_ok=True)
                raise DownloadError("corrupt", Text(QT_TRANSLATE_NOOP("Messages", "{file} arrived damaged from ModelScope."),
                                                    file=f.path), RESUME_HINT)


def _gb(n: float) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e8 else f"{n / 1e6:.1f} MB"


def classify(exc: BaseException, endpoint: str, repo: str) -> DownloadError:
    """A plain message for whatever the download raised."""
    if isinstance(exc, DownloadError):
        return exc
    names = {c.__name__ for c in type(exc).__mro__}
    if names & {"RepositoryNotFoundError", "GatedRepoError", "RevisionNotFoundError", "EntryNotFoundError"}:
        return DownloadError("not_found", Text(QT_TRANSLATE_NOOP("Messages", "{repo} was not found on {where}."),
                                               repo=repo, where=endpoint),
                             QT_TRANSLATE_NOOP("Messages", "Check the name; a mirror may not have every model: "
                                                           "try another source."))
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DownloadError("disk_full", Text(QT_TRANSLATE_NOOP("Messages", "The disk filled up while downloading {repo}."),
                                               repo=repo),
                             QT_TRANSLATE_NOOP("Messages", "Free some space, then resume: what was downloaded is kept."))
    if names & {"ConnectError", "ConnectTimeout", "TimeoutException", "ReadTimeout", "RemoteProtocolError",
                "ReadError", "NetworkError", "ConnectionError", "ProxyError"} or \
            (isinstance(exc, OSError) and "Consistency check failed" in str(exc)):
        return DownloadError("network", Text(QT_TRANSLATE_NOOP("Messages", "Cannot download from {where}: {why}."),
                                             where=endpoint, why=_short(exc)),
                             QT_TRANSLATE_NOOP("Messages", "Check the network, or choose another source (a mirror "
                                                           "URL, or ModelScope); resume continues where it stopped."))
    if "HfHubHTTPError" in names:
        return DownloadError("network", Text(QT_TRANSLATE_NOOP("Messages", "{where} refused the download: {why}."),
                                             where=endpoint, why=_short(exc)),
                             QT_TRANSLATE_NOOP("Messages", "Try again later, or choose another source."))
    return DownloadError("unexpected", Text(QT_TRANSLATE_NOOP("Messages", "The download failed: {why}."),
                                            why=f"{type(exc).__name__}: {_short(exc)}"), "")


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Download one model (the app runs this as a child process).")
    p.add_argument("--name", required=True, help="catalog name or hub id")
    p.add_argument("--repo", default="", help="hub id (default: the catalog's for --source)")
    p.add_argument("--source", default="hf", help="hf, modelscope, or a Hugging Face mirror URL")
    p.add_argument("--root", required=True, help="the models folder")
    ns = p.parse_args(argv)
    from desktop_ocr.core import catalog

    entry = catalog.load().get(ns.name)
    repo = ns.repo or (entry.hub_id("modelscope" if ns.source == "modelscope" else "hf") if entry else ns.name)
    endpoint = ns.source if ns.source.startswith("http") else (
        "ModelScope" if ns.source == "modelscope" else os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    if not repo:
        err = DownloadError("not_found", Text(QT_TRANSLATE_NOOP(
            "Messages", "{name} has no {source} repository in the catalog."), name=ns.name, source=ns.source),
            QT_TRANSLATE_NOOP("Messages", "Choose another source."))
        _emit("error", kind=err.kind, message=to_wire(err.message), hint=to_wire(err.hint))
        return 1
    try:
        Downloader(entry.name if entry else ns.name, repo, ns.source, Path(ns.root)).run()
    except BaseException as exc:  # noqa: BLE001 - every failure becomes one clear line
        if isinstance(exc, KeyboardInterrupt):
            return 130
        err = classify(exc, endpoint, repo)
        _emit("error", kind=err.kind, message=to_wire(err.message), hint=to_wire(err.hint))
        return 1
    return 0


# ====================================================================== the parent


class JobState:
    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


# How a job's state reads in its progress line.
STATE_WORDS = {"starting": QT_TRANSLATE_NOOP("Messages", "starting…"),
               JobState.PAUSED: QT_TRANSLATE_NOOP("Messages", "paused"),
               JobState.DONE: QT_TRANSLATE_NOOP("Messages", "done"),
               JobState.CANCELLED: QT_TRANSLATE_NOOP("Messages", "cancelled"),
               JobState.IDLE: QT_TRANSLATE_NOOP("Messages", "idle")}
RESUME_HINT = QT_TRANSLATE_NOOP("Messages", "Resume to fetch it again.")


class DownloadJob:
    """One model download in a child process. Call start/pause/cancel on one event loop.

    `on_change(job)` is called on that loop after every event (progress, state).
    """

    def __init__(self, name: str, root: Path, *, source: str = "hf", repo: str = "",
                 on_change: Callable[[DownloadJob], None] | None = None,
                 env: Mapping[str, str] | None = None, python: str | None = None) -> None:
        self.name = name
        self.root = Path(root)
        self.source = source
        self.repo = repo
        self.on_change = on_change
        self.env = dict(env) if env is not None else None
        self.python = python or sys.executable
        self.state = JobState.IDLE
        self.done_bytes = 0
        self.total_bytes = 0
        self.speed_bps = 0.0
        self.path = ""
        self.error_kind = ""
        self.message = ""
        self.hint = ""
        self.returncode: int | None = None
        self.checking = ""  # the file whose hash is being checked (a big one takes a while)
        self._child: ChildProcess | None = None
        self._finished: asyncio.Event | None = None
        self._samples: list[tuple[float, int]] = []
        self._stopping = ""

    # ------------------------------------------------------------ figures

    @property
    def fraction(self) -> float:
        return self.done_bytes / self.total_bytes if self.total_bytes else 0.0

    @property
    def eta_s(self) -> float | None:
        if self.speed_bps <= 0 or not self.total_bytes:
            return None
        return max(0.0, (self.total_bytes - self.done_bytes) / self.speed_bps)

    def describe(self) -> str:
        """One line: "3.2 of 15.9 GB · 42.0 MB/s · 5 min left"."""
        if self.state == JobState.FAILED:
            return self.message
        if not self.total_bytes:
            if self.state == JobState.RUNNING:
                return STATE_WORDS["starting"]
            return STATE_WORDS.get(self.state, self.state)
        line: str = Text(QT_TRANSLATE_NOOP("Messages", "{done} of {total}"), done=_gb(self.done_bytes),
                         total=_gb(self.total_bytes))
        more: list[str] = []
        if self.state == JobState.RUNNING and self.checking:
            more.append(Text(QT_TRANSLATE_NOOP("Messages", "checking {file}"), file=self.checking))
        elif self.state == JobState.RUNNING and self.speed_bps > 0:
            more.append(f"{self.speed_bps / 1e6:.1f} MB/s")
            eta = self.eta_s
            if eta is not None:
                more.append(Text(QT_TRANSLATE_NOOP("Messages", "{time} left"), time=_duration(eta)))
        elif self.state != JobState.RUNNING:
            more.append(STATE_WORDS.get(self.state, self.state))
        for part in more:  # " · " in every language
            line = Text("{first} · {then}", first=line, then=part)
        return line

    # ------------------------------------------------------------ control

    @property
    def running(self) -> bool:
        return self._child is not None and self._child.running

    @property
    def pid(self) -> int | None:
        return self._child.pid if self._child is not None else None

    def command(self) -> list[str]:
        args = [self.python, "-m", "desktop_ocr.engines.model_download", "--name", self.name,
                "--source", self.source, "--root", str(self.root)]
        if self.repo:
            args += ["--repo", self.repo]
        return args

    def start(self) -> None:
        """Spawn (or resume: the same command continues the partial files)."""
        if self.running:
            return
        self._finished = asyncio.Event()
        self._stopping = ""
        self.error_kind = self.message = self.hint = ""
        self.speed_bps = 0.0
        self._samples.clear()
        env = dict(os.environ if self.env is None else self.env)
        env["PYTHONUNBUFFERED"] = "1"
        env.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        # Its own guarded tree: no download outlives the app, however the app ends. Nothing
        # to flush at a stop (every byte on disk is resumable): SIGKILL at once, also at exit.
        child = ChildProcess(self.command(), env=env, name=f"download-{self.name}", events=True,
                             tail=Tail(20), on_event=self._on_event, exit_grace=0.0)
        child.on_exit = lambda rc: self._on_exit(child, rc)
        child.spawn()
        self._child = child
        self._set_state(JobState.RUNNING)

    def pause(self) -> None:
        """Stop the child; the partial files stay for a resume (start again)."""
        self._stop("paused")

    def cancel(self) -> None:
        """Stop the child and delete what it downloaded."""
        self._stop("cancelled")
        if not self.running:
            self._remove_partial()

    async def wait(self) -> str:
        if self._finished is not None:
            await self._finished.wait()
        return self.state

    def kill_now(self) -> None:
        if self._child is not None:
            self._child.kill_now()

    def _stop(self, why: str) -> None:
        self._stopping = why
        if self.running:
            assert self._child is not None
            self._child.kill()
        elif why == "cancelled":
            self._set_state(JobState.CANCELLED)
        elif why == "paused" and self.state != JobState.DONE:
            self._set_state(JobState.PAUSED)

    def _remove_partial(self) -> None:
        with contextlib.suppress(OSError):
            shutil.rmtree(self.root / PARTIAL / folder_name(self.name))

    # ------------------------------------------------------------ the child's words

    def _on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "plan":
            self.total_bytes = int(event.get("total") or 0)
            self.done_bytes = int(event.get("done") or 0)
        elif kind == "progress":
            self.checking = ""
            self.done_bytes = int(event.get("done") or 0)
            self.total_bytes = int(event.get("total") or self.total_bytes)
            self._sample()
        elif kind == "verify":
            self.checking = str(event.get("file") or "")
        elif kind == "done":
            self.path = str(event.get("path") or "")
            if event.get("total"):
                self.done_bytes = self.total_bytes = int(event["total"])
        elif kind == "error":
            self.error_kind = str(event.get("kind") or "unexpected")
            self.message = _said(event.get("message")) or QT_TRANSLATE_NOOP("Messages", "The download failed.")
            self.hint = _said(event.get("hint"))
        self._changed()

    def _sample(self) -> None:
        now = time.monotonic()
        self._samples.append((now, self.done_bytes))
        self._samples = [s for s in self._samples if now - s[0] <= 5.0]  # speed over the last 5 s
        (t0, b0), (t1, b1) = self._samples[0], self._samples[-1]
        if t1 - t0 >= 0.2:
            self.speed_bps = max(0.0, (b1 - b0) / (t1 - t0))

    def _on_exit(self, child: ChildProcess, rc: int) -> None:
        if child is not self._child:
            return
        tail = child.tail.lines()
        self.returncode = rc
        if self._stopping == "cancelled":
            self._remove_partial()
            self._set_state(JobState.CANCELLED)
        elif self._stopping == "paused":
            self._set_state(JobState.PAUSED)
        elif rc == 0 and self.path:
            self._set_state(JobState.DONE)
        else:
            if not self.message:
                last = next((line for line in reversed(tail) if line.strip()), "")
                self.error_kind = "unexpected"
                self.message = (Text(QT_TRANSLATE_NOOP("Messages", "The download process stopped (exit code {code}): {last}."),
                                     code=rc, last=last) if last else
                                Text(QT_TRANSLATE_NOOP("Messages", "The download process stopped (exit code {code})."),
                                     code=rc))
            self._set_state(JobState.FAILED)
        if self._finished is not None:
            self._finished.set()

    def _set_state(self, state: str) -> None:
        self.state = state
        self._changed()

    def _changed(self) -> None:
        if self.on_change is not None:
            try:
                self.on_change(self)
            except Exception:  # a listener's bug must not stop the download bookkeeping
                import logging

                logging.getLogger(__name__).exception("download listener failed")


def _said(obj: Any) -> str:
    """A message from the child's event: a `Text` where it sent one, else its text."""
    said = from_wire(obj)
    return said if isinstance(said, str) else str(said or "")


def _duration(seconds: float) -> str:
    if seconds < 90:
        return Text(QT_TRANSLATE_NOOP("Messages", "{n:.0f} s"), n=seconds)
    if seconds < 5400:
        return Text(QT_TRANSLATE_NOOP("Messages", "{n:.0f} min"), n=seconds / 60)
    return Text(QT_TRANSLATE_NOOP("Messages", "{n:.1f} h"), n=seconds / 3600)


if __name__ == "__main__":
    sys.exit(main())
