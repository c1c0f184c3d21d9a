"""Command line: `desktop-ocr` starts the GUI; `desktop-ocr ocr ...` recognises headless.

Exit codes of `ocr`: 0 all inputs recognised, 1 some failed, 2 every input failed (or the
engine could not start), 64 bad usage (argparse uses 2 for that, but 2 already means
"all inputs failed" here, so usage errors are moved out of its way), 130 Ctrl+C, 129 / 143
SIGHUP / SIGTERM (the same clean stop as Ctrl+C: no server is left running), 141 the
reader of stdout went away (`| head -1`: quietly, like any Unix filter).

Usage errors (--pages, --out, --format, --task, --timeout) are found before any file is
opened or any engine started.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from desktop_ocr import APP_NAME, __version__
from desktop_ocr.core.atomic import check_target
from desktop_ocr.core.contract import Chunk, Engine, EngineDied, EngineError, FinishReason, Request
from desktop_ocr.core.documents import OPEN_ERRORS, Document, Page, PasswordRequired, open_document
from desktop_ocr.core.export import FORMATS, ExportError, ExportItem, export, format_for
from desktop_ocr.core.logs import setup_logging
from desktop_ocr.core.notifications import user_message
from desktop_ocr.core.regions import RegionSpec, SpecError, page_ranges, parse_pages, parse_region
from desktop_ocr.core.settings import Settings, add_cli_flags, apply_cli
from desktop_ocr.core.tasks import TASK_IDS, build_request, parse_fields

log = logging.getLogger(__name__)
PROG = "desktop-ocr"
EXIT_USAGE = 64
EXIT_BROKEN_PIPE = 128 + 13  # what a shell reports for a filter killed by SIGPIPE
CLI_LOG = "desktop-ocr-cli.log"  # beside the window's log, so the two never rotate each other
WATCHDOG_ARG = "__desktop_ocr_watchdog__"  # engines/watchdog.FROZEN_ARG (a test keeps them equal)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


@dataclass
class InputResult:
    path: Path
    text: str = ""
    seconds: float = 0.0
    finish: FinishReason | None = None
    error: str = ""
    # (1-based page number or None for a one-page input, that page's text)
    pages: list[tuple[int | None, str]] = field(default_factory=list)


def _ocr_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=f"{PROG} ocr", description="Recognise images and PDFs and print the text.")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="images or PDFs to recognise")
    p.add_argument("--out", type=Path,
                   help="also save the result: .txt, .md, .html, .json, .csv, .tsv or .xlsx (tables as sheets)")
    p.add_argument("--format", choices=FORMATS, help="file format of --out, whatever its extension")
    p.add_argument("--json", action="store_true", help="print one JSON object per input")
    p.add_argument("--pages", default="", metavar="SPEC",
                   help="pages to recognise, e.g. 1-3,7 (default: all)")
    p.add_argument("--region", type=_region_arg, metavar="X,Y,W,H",
                   help="only this part of each page: fractions 0-1 of the page, or pixels with a px suffix")
    p.add_argument("--password", help="password of an encrypted PDF (or DESKTOP_OCR_PASSWORD)",
                   default=os.environ.get("DESKTOP_OCR_PASSWORD"))
    p.add_argument("--use-text-layer", action="store_true",
                   help="use a PDF page's own text instead of OCR where it has one")
    add_cli_flags(p)
    return p


def _region_arg(spec: str) -> RegionSpec:
    try:
        return parse_region(spec)
    except SpecError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _gui_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description=f"{APP_NAME}: text and tables from images and PDFs.",
                epilog=f"Headless: {PROG} ocr PATH... ; diagnostics: {PROG} doctor")
    p.add_argument("paths", nargs="*", type=Path, metavar="FILE", help="files to open")
    p.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    start = p.add_mutually_exclusive_group()
    start.add_argument("--snip", action="store_true",
                       help="snip a screen region and recognise it (hands over to a running app)")
    start.add_argument("--clipboard", action="store_true",
                       help="recognise the clipboard's image (hands over to a running app)")
    add_cli_flags(p)
    return p


@dataclass
class PagePlan:
    """What `ocr` does with each input: which pages, which region, text layer or OCR."""

    pages: str = ""
    region: RegionSpec | None = None
    password: str | None = None
    use_text_layer: bool = False


def _open(path: Path, plan: PagePlan) -> tuple[Document, list[int]]:
    doc = open_document(path, plan.password)
    try:
        indices = parse_pages(plan.pages, doc.page_count)
    except BaseException:
        doc.close()
        raise
    if doc.notice:  # "damaged; repaired as far as possible": one line, details in the log
        _say(f"{path}: {doc.notice}")
        log.warning("%s: %s\n%s", path, doc.notice, "\n".join(doc.warnings))
    return doc, indices


def _page_request(page: Page, plan: PagePlan, settings: Settings, label: str) -> Request | str:
    """The text layer (str) when asked for and present, else the engine request."""
    region = plan.region.to_region(*page.size) if plan.region else None
    if plan.use_text_layer and page.has_text_layer:
        return page.text_layer(region)
    image = page.render_for_engine(region)
    return build_request(image, settings.task, language=settings.language, settings=settings,
                         label=label)


async def _recognise(engine: Engine, settings: Settings, path: Path, plan: PagePlan,
                     out: TextIO | None, live: bool) -> InputResult:
    result = InputResult(path)
    began = time.perf_counter()
    parts: list[str] = []

    def emit(text: str) -> None:
        parts.append(text)
        if live and out:
            out.write(text)
            out.flush()

    doc, indices = await asyncio.to_thread(_open, path, plan)
    try:
        for index in indices:
            page = doc.pages[index]
            start = len(parts)
            if len(indices) > 1:
                if parts and not parts[-1].endswith("\n"):
                    emit("\n")
                emit(f"--- page {page.number} ---\n")
            label = f"{path.name} page {page.number}" if doc.page_count > 1 else path.name
            job = await asyncio.to_thread(_page_request, page, plan, settings, label)
            if isinstance(job, str):
                emit(job)
                result.finish = FinishReason.STOP
            else:
                async for chunk in engine.stream(job):
                    _report_waiting(label, chunk)
                    if chunk.text:
                        emit(chunk.text)
                    if chunk.finish_reason is not None:
                        result.finish = chunk.finish_reason
            body = "".join(parts[start + (1 if len(indices) > 1 else 0):])
            result.pages.append((page.number if doc.page_count > 1 else None, body))
    finally:
        doc.close()
    result.text = "".join(parts)
    result.seconds = time.perf_counter() - began
    return result


async def _run_ocr(args: argparse.Namespace, settings: Settings) -> int:
    from desktop_ocr.engines import create_engine

    stdout = sys.stdout
    several = len(args.paths) > 1
    plan = PagePlan(args.pages, args.region, args.password, args.use_text_layer)
    try:
        engine = create_engine(settings)
        await engine.start()
    except EngineError as exc:
        print(f"{PROG}: engine: {exc.user_message}", file=sys.stderr)
        return 2
    results: list[InputResult] = []
    deaths = 0
    try:
        for path in args.paths:
            if several and not args.json:
                stdout.write(f"=== {path} ===\n")
            died: EngineDied | None = None
            try:
                result = await _recognise(engine, settings, path, plan, stdout, live=not args.json)
            except BrokenPipeError:
                raise  # nobody reads stdout any more: stop (quietly), not once per input
            except (*OPEN_ERRORS, SpecError, EngineError, OSError) as exc:
                error = user_message(exc)
                if isinstance(exc, PasswordRequired):
                    error += " Give it with --password."
                result = InputResult(path, error=error)
                print(f"{PROG}: {path}: {result.error}", file=sys.stderr)
                died = exc if isinstance(exc, EngineDied) else None
            except Exception as exc:  # a library surprise on a hostile file: one line, go on
                log.exception("recognising %s failed", path)
                result = InputResult(path, error=user_message(exc))
                print(f"{PROG}: {path}: {result.error}", file=sys.stderr)
            results.append(result)
            if died is not None and not await _after_engine_death(engine, settings, deaths):
                left = len(args.paths) - len(results)
                if left:
                    _say(f"stopped: {left} more input{'s' if left > 1 else ''} not recognised.")
                break
            deaths += died is not None
            if args.json:
                payload = {"file": str(path), "engine": engine.name}
                if result.error:
                    payload["error"] = result.error
                else:
                    payload.update(text=result.text, seconds=round(result.seconds, 3),
                                   finish_reason=result.finish.value if result.finish else None)
                    if settings.task == "fields":
                        payload["fields"] = [parse_fields(text) for _, text in result.pages]
                        if len(payload["fields"]) == 1:
                            payload["fields"] = payload["fields"][0]
                stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
            elif not result.error:
                if result.text and not result.text.endswith("\n"):
                    stdout.write("\n")
                if result.finish is FinishReason.LENGTH:
                    print(f"{PROG}: {path}: output cut at the token limit", file=sys.stderr)
                elif result.finish is FinishReason.REPETITION:
                    print(f"{PROG}: {path}: stopped a repetition loop; the output is cut", file=sys.stderr)
            stdout.flush()
    finally:
        await engine.stop()
    ok = [r for r in results if not r.error]
    if args.out and ok:
        try:
            _write_out(args.out, ok, settings.task, args.format)
        except ExportError as exc:
            print(f"{PROG}: {args.out}: {exc}", file=sys.stderr)
            return 2
    if not ok:
        return 2
    return 1 if len(ok) < len(results) else 0


def _write_out(path: Path, results: list[InputResult], task: str, fmt: str | None) -> None:
    """One export of every input and page; the format follows the extension or --format."""
    items = [ExportItem(source=str(r.path), page=number, task=task, text=text)
             for r in results for number, text in r.pages]
    export(items, path, fmt)


def _check_usage(parser: argparse.ArgumentParser, args: argparse.Namespace,
                 settings: Settings) -> None:
    """Refuse bad usage (exit 64) before any file is opened or any engine started."""
    if settings.task not in TASK_IDS:
        parser.error(f"argument --task: invalid choice: {settings.task!r} (choose from {', '.join(TASK_IDS)})")
    try:
        page_ranges(args.pages)
    except SpecError as exc:
        parser.error(f"argument --pages: {exc}")
    if args.out is not None:
        try:
            format_for(args.out, args.format)
            check_target(args.out)
        except ExportError as exc:
            parser.error(f"argument --out: {exc}")
    if not settings.timeout > 0:
        parser.error(f"argument --timeout: {settings.timeout:g} is not a number of seconds above 0")


class Stopped(Exception):
    """SIGTERM or SIGHUP arrived; the work was cancelled and the engine stopped."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


async def _until_signalled(work: Coroutine[Any, Any, int]) -> int:
    """Run `work`; SIGTERM / SIGHUP cancel it like Ctrl+C does, so its `finally` (engine
    stop: no server outlives us) runs, then raise Stopped."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    got: list[int] = []

    def on_signal(signum: int) -> None:
        if not got and task is not None:  # a second signal must not cut the clean stop short
            got.append(signum)
            task.cancel()

    hooked = []
    for sig in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)):
        if sig is None:
            continue
        try:
            loop.add_signal_handler(sig, on_signal, int(sig))
            hooked.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # Windows, not the main thread
            pass
    try:
        return await work
    except asyncio.CancelledError:
        if got:
            raise Stopped(got[0]) from None
        raise
    finally:
        for sig in hooked:
            loop.remove_signal_handler(sig)


async def _after_engine_death(engine: Engine, settings: Settings, deaths: int) -> bool:
    """The engine died (already reported with its cause): restart it once if the settings
    allow it, else stop the batch. True to go on."""
    if not settings.restart_engine_on_crash or deaths > 0:
        return False
    _say("restarting the engine (once)…")
    try:
        await engine.start()
    except EngineError as exc:
        _say(f"engine: the restart failed: {exc.user_message}")
        return False
    return True


_waiting_said: dict[str, int] = {}


def _report_waiting(label: str, chunk: Chunk) -> None:
    """A line on stderr while the server keeps us waiting: at 5 s, then every 15 s."""
    waited = (chunk.info or {}).get("waiting_s")
    if waited is None:
        return
    step = 0 if waited < 5 else 1 + int((waited - 5) // 15)
    if step > _waiting_said.get(label, 0):
        _waiting_said[label] = step
        _say(f"{label}: waiting for the server… {waited:.0f} s")


def _say(line: str) -> None:
    """One line on stderr; a closed terminal (SIGHUP) must not turn it into a traceback."""
    with contextlib.suppress(OSError, ValueError):
        print(f"{PROG}: {line}", file=sys.stderr, flush=True)


def _quiet_broken_pipe() -> int:
    # Python would report the failed flush of stdout at exit: point stdout at /dev/null.
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return EXIT_BROKEN_PIPE


def ocr_main(argv: list[str]) -> int:
    parser = _ocr_parser()
    args = parser.parse_args(argv)
    setup_logging(name=CLI_LOG)
    settings = apply_cli(Settings.load(), args)
    _check_usage(parser, args, settings)
    try:
        return asyncio.run(_until_signalled(_run_ocr(args, settings)))
    except KeyboardInterrupt:
        _say("cancelled")
        return 130
    except Stopped as exc:
        _say(f"stopped by {exc}")
        return 128 + exc.signum
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except OSError as exc:
        log.exception("ocr failed")
        _say(user_message(exc))
        return 2


def doctor_main(argv: list[str]) -> int:
    p = _Parser(prog=f"{PROG} doctor", description="Show GPUs, lmdeploy and which engine `auto` picks.")
    add_cli_flags(p)
    args = p.parse_args(argv)
    settings = apply_cli(Settings.load(), args)
    from desktop_ocr.doctor import doctor_report

    print(doctor_report(settings))
    return 0


def gui_main(argv: list[str] | None = None) -> int:
    args = _gui_parser().parse_args(sys.argv[1:] if argv is None else argv)
    settings = apply_cli(Settings.load(), args)
    from desktop_ocr.gui.app import run

    action = "snip" if args.snip else "clipboard" if args.clipboard else "show"
    return run(settings, args.paths, action)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == [WATCHDOG_ARG]:  # a frozen app runs itself as a server's watchdog
        from desktop_ocr.engines.watchdog import main as watchdog_main

        return watchdog_main(argv[1:])
    if argv and argv[0] == "ocr":
        try:
            return ocr_main(argv[1:])
        except BrokenPipeError:  # e.g. `desktop-ocr ocr --help | head -1`
            return _quiet_broken_pipe()
    if argv and argv[0] == "doctor":
        return doctor_main(argv[1:])
    return gui_main(argv)
