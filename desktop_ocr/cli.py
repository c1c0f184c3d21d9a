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
import logging
import os
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from desktop_ocr import APP_NAME, __version__
from desktop_ocr.core.atomic import check_target
from desktop_ocr.core.contract import EngineError
from desktop_ocr.core.export import FORMATS, ExportError, export, format_for
from desktop_ocr.core.logs import setup_logging
from desktop_ocr.core.notifications import user_message
from desktop_ocr.core.regions import RegionSpec, SpecError, page_ranges, parse_region
from desktop_ocr.core.settings import Settings, add_cli_flags, apply_cli
from desktop_ocr.core.tasks import TASK_IDS

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


def _ocr_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=f"{PROG} ocr", description="Recognise images and PDFs and print the text.")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="images or PDFs to recognise")
    p.add_argument("--out", type=Path,
                   help="also save the result: .txt, .md, .html, .json, .csv, .tsv, .xlsx (tables "
                        "as sheets), .docx (Word) or .pdf (searchable: the pages with the text on them)")
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
    p.add_argument("--resume", action="store_true",
                   help="reuse stored results for the same file content, page, region, task, "
                        "prompt, engine and model instead of recognising again")
    p.add_argument("--no-history", action="store_true",
                   help="do not keep the results in the history library")
    add_cli_flags(p)
    return p


def _region_arg(spec: str) -> RegionSpec:
    try:
        return parse_region(spec)
    except SpecError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _gui_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description=f"{APP_NAME}: text and tables from images and PDFs.",
                epilog=f"Headless: {PROG} ocr PATH... ; questions: {PROG} ask PATH QUESTION ; "
                       f"past results: {PROG} history ; models: {PROG} models ; "
                       f"diagnostics: {PROG} doctor")
    p.add_argument("paths", nargs="*", type=Path, metavar="FILE", help="files to open")
    p.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    start = p.add_mutually_exclusive_group()
    start.add_argument("--snip", action="store_true",
                       help="snip a screen region and recognise it (hands over to a running app)")
    start.add_argument("--clipboard", action="store_true",
                       help="recognise the clipboard's image (hands over to a running app)")
    p.add_argument("--resume", action="store_true",
                   help="finish the batch that did not finish last time (after a crash), "
                        "without asking; what finished is not recognised again")
    add_cli_flags(p)
    return p


async def _run_ocr(args: argparse.Namespace, settings: Settings) -> int:
    from desktop_ocr.core.pipeline import Pipeline, Source, expand_inputs
    from desktop_ocr.engines import create_engine

    paths: list[Path] = []
    empty = 0
    for given in args.paths:
        found = expand_inputs([given])
        if given.is_dir() and not found:
            print(f"{PROG}: {given}: the folder holds no images or PDFs", file=sys.stderr)
            empty += 1
        paths += found
    if not paths:
        return 2
    from desktop_ocr.core.tasks import get_task

    try:
        # a task may name its own engine (codes: the barcode reader of the CPU engine)
        engine = create_engine(settings, get_task(settings.task).engine)
    except EngineError as exc:
        print(f"{PROG}: engine: {exc.user_message}", file=sys.stderr)
        return 2
    sources = [Source(path=p, pages=args.pages or None, region=args.region, password=args.password,
                      use_text_layer=args.use_text_layer) for p in paths]
    from desktop_ocr.ocr_printer import OcrPrinter

    printer = OcrPrinter(sys.stdout, sys.stderr, sources, json_mode=args.json,
                         several=len(paths) > 1, engine=engine.name, task=settings.task)
    library = None if args.no_history else _open_library(settings)
    pipeline = Pipeline(engine, settings, on_event=printer.on_event, reuse=args.resume,
                        library=library)
    try:
        summary = await pipeline.run(sources, kind="cli")
    finally:
        await engine.stop()
        if library is not None:
            await library.close()
    printer.close(summary.results)
    if printer.broken_pipe:
        return _quiet_broken_pipe()
    if pipeline.reused:
        _say(f"reused {pipeline.reused} stored {'result' if pipeline.reused == 1 else 'results'} "
             "(--resume)")
    if summary.stopped and not any(m == summary.stopped for _, m in printer.said_errors):
        _say(f"engine: {summary.stopped}")
    if summary.stopped:
        left = sum(not printer.finished_input(i) for i in range(len(sources)))
        if 0 < left < len(sources):  # a batch cut short: say how much of it is missing
            _say(f"stopped: {left} more input{'s' if left > 1 else ''} not recognised.")
    ok = [r for r in summary.results if r.ok]
    if args.out and ok:
        try:
            await asyncio.to_thread(_write_out, args.out, ok, args.format, args.password)
        except (ExportError, OSError, ValueError) as exc:
            print(f"{PROG}: {args.out}: {user_message(exc)}", file=sys.stderr)
            return 2
    failed_inputs = printer.failed_inputs()
    if summary.stopped:
        failed_inputs |= {i for i in range(len(sources)) if not printer.finished_input(i)}
    if len(failed_inputs) == len(sources):
        return 2
    return 1 if failed_inputs or empty else 0


def _write_out(path: Path, results: list, fmt: str | None, password: str | None) -> None:
    """Every recognised part in one file, the format from the extension or --format. A
    searchable PDF needs to know where the text sits: the CPU engine's line boxes when it
    gave them with its answer, else the CPU engine reads each page for them here."""
    from desktop_ocr.core.export import ExportItem

    items = [ExportItem.from_result(r) for r in results]
    kind = format_for(path, fmt)
    if kind == "pdf":
        from desktop_ocr.cpu_layouts import fill_layouts

        missing = sum(item.layout is None for item in items)
        if missing:
            _say(f"finding where the text sits on {missing} page(s) for the PDF (CPU engine)")
        fill_layouts(items, password=password)
    passwords = {r.source: password for r in results} if password else None
    export(items, path, kind, passwords=passwords)


def _open_library(settings: Settings):
    from desktop_ocr.core.library import AsyncLibrary

    def notice(message: str) -> None:
        print(f"{PROG}: history: {message}", file=sys.stderr)

    return AsyncLibrary(keep_days=settings.history_keep_days,
                        max_entries=settings.history_max_entries, on_notice=notice)


def _check_usage(parser: argparse.ArgumentParser, args: argparse.Namespace,
                 settings: Settings) -> None:
    """Refuse bad usage (exit 64) before any file is opened or any engine started."""
    if args.prompt and args.task is None:
        settings.task = "custom"  # a prompt given on its own asks the custom task
    if settings.task not in TASK_IDS:
        parser.error(f"argument --task: invalid choice: {settings.task!r} (choose from {', '.join(TASK_IDS)})")
    if settings.task == "custom" and not settings.prompt.strip():
        parser.error("the custom task needs a prompt: --prompt TEXT")
    if args.resume and args.no_history:
        parser.error("--resume reuses results from the history library; drop --no-history")
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
    return run(settings, args.paths, action, resume=args.resume)


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
    if argv and argv[0] == "ask":
        from desktop_ocr.ask_cli import ask_main

        return ask_main(argv[1:])
    if argv and argv[0] == "history":
        from desktop_ocr.history_cli import history_main  # only when asked: startup time

        return history_main(argv[1:])
    if argv and argv[0] == "models":
        from desktop_ocr.models_cli import models_main

        return models_main(argv[1:])
    return gui_main(argv)
