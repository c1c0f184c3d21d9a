"""`desktop-ocr models ...`: list, download, locate and remove models.

    desktop-ocr models list [--json]
    desktop-ocr models pull NAME [--source hf|modelscope|URL]
    desktop-ocr models path NAME
    desktop-ocr models rm NAME

NAME is a catalog name (`InternVL3-8B-AWQ`) or a hub id. `pull` shows bytes, speed and
time left; Ctrl+C pauses (what arrived is kept) and the same command resumes.
Exit status: 0 done, 1 failed, 64 bad usage, 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import time
from typing import Any

from desktop_ocr.core import catalog
from desktop_ocr.core.settings import Settings, add_cli_flags, apply_cli

EX_USAGE = 64


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="desktop-ocr models", description="List, download, locate and remove models.")
    sub = p.add_subparsers(dest="command", required=True)
    ls = sub.add_parser("list", help="the catalog, what is on disk, and what this GPU is advised")
    ls.add_argument("--json", action="store_true", help="one JSON object per model")
    pull = sub.add_parser("pull", help="download a model (resumes a stopped download)")
    pull.add_argument("name")
    pull.add_argument("--source", default=None,
                      help="hf (Hugging Face; HF_ENDPOINT picks a mirror), modelscope, or a mirror URL")
    for name, text in (("path", "print the folder of a model on disk"), ("rm", "delete a downloaded model")):
        sub.add_parser(name, help=text).add_argument("name")
    for s in sub.choices.values():
        add_cli_flags(s, skip=tuple(f.name for f in Settings.cli_fields()
                                    if f.name not in ("models_dir", "model_source", "session_len")))
    return p


def models_main(argv: list[str]) -> int:
    try:
        ns = _parser().parse_args(argv)
    except SystemExit as exc:
        return EX_USAGE if exc.code else 0
    settings = apply_cli(Settings.load(), ns)
    from desktop_ocr.engines.model_store import ModelStore

    store = ModelStore.from_settings(settings)
    if ns.command == "list":
        return _list(store, settings, as_json=ns.json)
    if ns.command == "path":
        return _path(store, ns.name)
    if ns.command == "rm":
        return _rm(store, ns.name)
    return _pull(store, ns.name, ns.source or settings.model_source)


# ---------------------------------------------------------------- list


def _rows(store: Any, settings: Settings) -> tuple[list[dict[str, Any]], str]:
    from desktop_ocr.engines import gpu

    cat = catalog.load()
    local = store.scan()
    partials = {p.name: p for p in store.partials()}
    advice = gpu.advise(gpu.probe(), on_disk=store.complete(), session_len=settings.session_len)
    rows: list[dict[str, Any]] = []
    for m in cat.models:
        copies = [lm for lm in local if lm.entry is m]
        done = [lm for lm in copies if lm.complete]
        part = partials.get(m.name)
        rows.append({
            "name": m.name, "family": cat.family(m.family).title, "params_b": m.params_b,
            "weights_gb": m.weights_gb, "weights_estimated": m.weights_estimated, "format": m.format,
            "vram_gib": round(m.need_gib(settings.session_len), 1), "backend": m.backend,
            "licence": m.licence, "licence_checked": m.licence_seen, "hf": m.hf, "modelscope": m.modelscope,
            "on_disk": [{"path": str(c.path), "where": c.source, "bytes": c.size_bytes} for c in done],
            "incomplete": [{"path": str(c.path), "where": c.source, "problem": c.problem}
                           for c in copies if not c.complete],
            "download": ({"done_bytes": part.done_bytes, "total_bytes": part.total_bytes, "path": str(part.path)}
                         if part else None),
            "advised": advice.ok and advice.name == m.name,
        })
    for lm in local:
        if lm.entry is None:
            rows.append({"name": lm.name, "family": (f.title if (f := cat.family_of(str(lm.path))) else ""),
                         "on_disk": [{"path": str(lm.path), "where": lm.source, "bytes": lm.size_bytes}]
                         if lm.complete else [],
                         "incomplete": [] if lm.complete else [{"path": str(lm.path), "where": lm.source,
                                                                "problem": lm.problem}],
                         "advised": False, "catalog": False})
    return rows, advice.reason


def _list(store: Any, settings: Settings, *, as_json: bool) -> int:
    rows, why = _rows(store, settings)
    if as_json:
        for r in rows:
            print(json.dumps(r, ensure_ascii=False))
        return 0
    print(f"{'':2}{'model':<22}{'weights':>11}{'VRAM':>11}  {'backend':<10}{'licence':<15}on disk")
    for r in rows:
        mark = "* " if r.get("advised") else "  "
        if "weights_gb" in r:
            size = f"{'~' if r['weights_estimated'] else ''}{r['weights_gb']:g} GB"
            vram = f"{r['vram_gib']:g} GiB"
            licence = r["licence"] + ("" if r["licence_checked"] else "?")
        else:
            size = vram = licence = ""
        where = "; ".join(f"{d['path']} ({_size(d['bytes'])})" for d in r["on_disk"])
        if not where and r.get("download"):
            d = r["download"]
            pct = 100 * d["done_bytes"] / d["total_bytes"] if d["total_bytes"] else 0
            where = f"download stopped at {pct:.0f}%: `desktop-ocr models pull {r['name']}` resumes"
        if not where and r["incomplete"]:
            where = f"incomplete: {r['incomplete'][0]['problem']} ({r['incomplete'][0]['path']})"
        print(f"{mark}{r['name']:<22}{size:>11}{vram:>11}  {r.get('backend', ''):<10}{licence:<15}{where or '-'}")
    print(f"\n* advised here: {why}")
    print("VRAM: weights + KV cache for the session length + runtime. ~: size estimated. "
          "?: licence not checked; read the model card.")
    return 0


def _size(n: int) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e8 else f"{n / 1e6:.1f} MB"


# ---------------------------------------------------------------- path / rm


def _path(store: Any, name: str) -> int:
    path, found = store.resolve(name)
    if path:
        print(path)
        return 0
    if found is not None:
        print(f"desktop-ocr: {name} is on disk but incomplete: {found.problem} ({found.path}).", file=sys.stderr)
    else:
        print(f"desktop-ocr: {name} is not on disk; download it with: desktop-ocr models pull {name}",
              file=sys.stderr)
    return 1


def _rm(store: Any, name: str) -> int:
    try:
        removed = store.remove(name)
    except PermissionError as exc:
        print(f"desktop-ocr: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"desktop-ocr: could not remove {name}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    if not removed:
        print(f"desktop-ocr: {name} is not on disk.", file=sys.stderr)
        return 1
    for p in removed:
        print(f"removed {p}")
    return 0


# ---------------------------------------------------------------- pull


def _pull(store: Any, name: str, source: str) -> int:
    from desktop_ocr.engines.model_download import DownloadJob, JobState

    cat = catalog.load()
    entry = cat.get(name)
    if entry is None and "/" not in name:
        print(f"desktop-ocr: {name!r} is not in the catalog; give a hub id (org/name) or one of: "
              + ", ".join(m.name for m in cat.models[:6]) + ", ... (desktop-ocr models list)", file=sys.stderr)
        return EX_USAGE
    if entry is not None and source == "modelscope" and not entry.modelscope:
        print(f"desktop-ocr: no ModelScope repository of {entry.name} is known; use --source hf or a mirror URL.",
              file=sys.stderr)
        return EX_USAGE
    tty = sys.stderr.isatty()
    last = [0.0]

    def show(job: DownloadJob) -> None:
        now = time.monotonic()
        if job.state == JobState.RUNNING and now - last[0] < (0.5 if tty else 5.0):
            return
        last[0] = now
        line = f"{job.name}: {job.describe()}"
        if tty:
            sys.stderr.write("\r\x1b[K" + line)
        elif job.state == JobState.RUNNING:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    async def go() -> int:
        job = DownloadJob(entry.name if entry else name, store.root, source=source, on_change=show)
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGINT, job.pause)
        job.start()
        state = await job.wait()
        if tty:
            sys.stderr.write("\n")
        if state == JobState.DONE:
            print(job.path)
            return 0
        if state == JobState.PAUSED:
            print(f"desktop-ocr: paused at {job.describe()}; run the same command to resume.", file=sys.stderr)
            return 130
        print(f"desktop-ocr: {job.message}" + (f" {job.hint}" if job.hint else ""), file=sys.stderr)
        return 1

    return asyncio.run(go())


def path_hint(name: str) -> str:
    """What the CLI tells a user whose model is not on disk."""
    return f"desktop-ocr models pull {name}"


if __name__ == "__main__":
    sys.exit(models_main(sys.argv[1:]))

