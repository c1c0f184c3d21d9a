#!/usr/bin/env python3
"""A fake Hugging Face hub for the model-download tests: the part of the hub's HTTP API
that huggingface_hub uses to list and fetch a repository, on 127.0.0.1.

Serves every folder `<repos>/<org>/<name>/` as the model repository `org/name`:
- `GET /api/models/{repo}[/revision/{rev}]`: the repository's info (`sha` = its commit);
- `GET /api/models/{repo}/tree/{rev}?recursive=...`: its files with `oid` (git blob sha1),
  `size` and, for weight files, `lfs` (`oid` = sha256), as the hub does;
- `GET|HEAD /{repo}/resolve/{rev}/{path}`: the bytes, with `ETag`, `X-Repo-Commit`,
  `X-Linked-Etag` / `X-Linked-Size` (LFS), `Accept-Ranges` and `Range: bytes=N-` (206);
- an unknown repository answers 404 with `X-Error-Code: RepoNotFound`, like the hub.

Faults for the tests: `--corrupt PATH` serves that file with one byte changed (same
size), `--drop-after N` closes the connection after N bytes of each file's first plain
GET (a dropped connection), `--rate B` sends at most B bytes a second, `--log FILE`
appends one JSON line per request (method, path, range) for the assertions.
Prints `PORT <n>` once listening.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

LFS_SUFFIXES = (".safetensors", ".bin", ".pth", ".model")


class Repo:
    def __init__(self, repo_id: str, root: Path) -> None:
        self.id = repo_id
        self.root = root
        self.files: dict[str, dict] = {}
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            rel = path.relative_to(root).as_posix()
            data = path.read_bytes()
            entry = {"size": len(data), "blob": hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()}
            if rel.endswith(LFS_SUFFIXES):
                entry["sha256"] = hashlib.sha256(data).hexdigest()
            self.files[rel] = entry
        self.commit = hashlib.sha1(json.dumps(self.files, sort_keys=True).encode()).hexdigest()

    def etag(self, rel: str) -> str:
        f = self.files[rel]
        return f.get("sha256") or f["blob"]


class Hub:
    def __init__(self, ns: argparse.Namespace) -> None:
        self.ns = ns
        self.root = Path(ns.repos)
        self.dropped: set[str] = set()
        self.lock = threading.Lock()
        self._repos: dict[str, tuple[tuple, Repo]] = {}

    def repo(self, repo_id: str) -> Repo | None:
        folder = self.root / repo_id
        if "/" not in repo_id or not folder.is_dir():
            return None
        # Hashed again only when a file changed (a test may change them; hashing is slow).
        key = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.rglob("*")) if p.is_file())
        with self.lock:
            cached = self._repos.get(repo_id)
            if cached is None or cached[0] != key:
                cached = (key, Repo(repo_id, folder))
                self._repos[repo_id] = cached
        return cached[1]

    def log(self, **entry) -> None:
        if self.ns.log:
            with self.lock, open(self.ns.log, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(entry) + "\n")


def make_handler(hub: Hub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt: str, *args) -> None:  # keep the test output clean
            pass

        def _json(self, status: int, body, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _not_found(self) -> None:
            self._json(404, {"error": "Repository Not Found"}, {"X-Error-Code": "RepoNotFound"})

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            url = urlparse(self.path)
            path = unquote(url.path)
            hub.log(method=self.command, path=path, range=self.headers.get("Range", ""))
            m = re.fullmatch(r"/api/models/([^/]+/[^/]+)(?:/revision/([^/]+))?", path)
            if m:
                return self._info(m.group(1))
            m = re.fullmatch(r"/api/models/([^/]+/[^/]+)/tree/([^/]+)(/.*)?", path)
            if m:
                return self._tree(m.group(1), parse_qs(url.query))
            m = re.fullmatch(r"/([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path)
            if m:
                return self._resolve(m.group(1), m.group(3))
            self._json(404, {"error": f"no route {path}"})

        def _info(self, repo_id: str) -> None:
            repo = hub.repo(repo_id)
            if repo is None:
                return self._not_found()
            self._json(200, {"id": repo.id, "modelId": repo.id, "sha": repo.commit, "private": False,
                             "disabled": False, "gated": False, "downloads": 0, "likes": 0, "tags": [],
                             "siblings": [{"rfilename": p} for p in repo.files]})

        def _tree(self, repo_id: str, query: dict) -> None:
            repo = hub.repo(repo_id)
            if repo is None:
                return self._not_found()
            items = []
            for rel, f in repo.files.items():
                item = {"type": "file", "oid": f["blob"], "size": f["size"], "path": rel}
                if "sha256" in f:
                    item["lfs"] = {"oid": f["sha256"], "size": f["size"], "pointerSize": 134}
                items.append(item)
            self._json(200, items)

        def _resolve(self, repo_id: str, rel: str) -> None:
            repo = hub.repo(repo_id)
            if repo is None:
                return self._not_found()
            if rel not in repo.files:
                return self._json(404, {"error": "Entry not found"}, {"X-Error-Code": "EntryNotFound",
                                                                       "X-Repo-Commit": repo.commit})
            data = (repo.root / rel).read_bytes()
            if rel == hub.ns.corrupt and data:
                data = bytes([data[0] ^ 0xFF]) + data[1:]
            start = 0
            rng = self.headers.get("Range", "")
            m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng.strip())
            if m:
                start = int(m.group(1))
            status = 206 if m and start > 0 else 200
            body = data[start:]
            etag = f'"{repo.etag(rel)}"'
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("ETag", etag)
            self.send_header("X-Repo-Commit", repo.commit)
            if "sha256" in repo.files[rel]:
                self.send_header("X-Linked-Etag", etag)
                self.send_header("X-Linked-Size", str(len(data)))
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.end_headers()
            if self.command == "HEAD":
                return
            drop = None
            if hub.ns.drop_after and status == 200:
                with hub.lock:
                    if rel not in hub.dropped:
                        hub.dropped.add(rel)
                        drop = hub.ns.drop_after
            self._send(body, drop)

        def _send(self, body: bytes, drop: int | None) -> None:
            sent, step = 0, 16384
            rate = hub.ns.rate
            started = time.monotonic()
            while sent < len(body):
                n = min(step, len(body) - sent)
                if drop is not None and sent + n >= drop:
                    self.wfile.write(body[sent:drop])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.wfile.write(body[sent:sent + n])
                sent += n
                if rate:
                    wait = started + sent / rate - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)

    return Handler


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repos", required=True, help="folder of <org>/<name>/ repositories")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--corrupt", default="", help="repository path of a file to serve damaged")
    p.add_argument("--drop-after", type=int, default=0, help="drop each file's first plain GET after N bytes")
    p.add_argument("--rate", type=int, default=0, help="bytes per second (0: unlimited)")
    p.add_argument("--log", default="", help="append a JSON line per request to this file")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    ns = parse_args(argv)
    httpd = ThreadingHTTPServer(("127.0.0.1", ns.port), make_handler(Hub(ns)))
    httpd.daemon_threads = True
    print(f"PORT {httpd.server_address[1]}", flush=True)
    try:
        httpd.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
