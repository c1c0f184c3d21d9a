"""Command line: `desktop-ocr` starts the GUI; `desktop-ocr ocr ...` recognises headless.

Exit codes of `ocr`: 0 all inputs recognised, 1 some failed, 2 every input failed (or the
engine could not start), 64 bad usage (argparse uses 2 for that, but 2 already means
"all inputs failed" here, so usage errors are moved out of its way).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from desktop_ocr import APP_NAME, __version__
from desktop_ocr.core.contract import Engine, EngineError, FinishReason, Request
from desktop_ocr.core.documents import OPEN_ERRORS, Document, Page, PasswordRequired, open_document
from desktop_ocr.core.export import FORMATS, ExportError, ExportItem, export
from desktop_ocr.core.notifications import user_message
from desktop_ocr.core.regions import RegionSpec, SpecError, parse_pages, parse_region
from desktop_ocr.core.settings import Settings, add_cli_flags, apply_cli
from desktop_ocr.core.tasks import TASK_IDS, build_request, get_task, parse_fields

log = logging.getLogger(__name__)
PROG = "desktop-ocr"
EXIT_USAGE = 64


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
    # what the engine's closing chunk said beside the text, per page (Chunk.info:
    # the CPU engine's layout, the codes it found)
    infos: dict[int | None, dict] = field(default_factory=dict)
    regions: dict[int | None, tuple[float, float, float, float]] = field(default_factory=dict)


def _ocr_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=f"{PROG} ocr", description="Recognise images and PDFs and print the text.")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="images or PDFs to recognise")
    p.add_argument("--out", type=Path,
                   help="also save the result: .txt, .md, .html, .json, .csv, .xlsx (tables as "
                        "sheets), .docx (Word) or .pdf (searchable: the pages with the text on them)")
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
                epilog=f"Headless: {PROG} ocr PATH... ; questions: {PROG} ask PATH QUESTION ; "
                       f"diagnostics: {PROG} doctor")
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
        return doc, parse_pages(plan.pages, doc.page_count)
    except BaseException:
        doc.close()
        raise


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
            number = page.number if doc.page_count > 1 else None
            if plan.region is not None:
                r = plan.region.to_region(*page.size)
                result.regions[number] = (r.x, r.y, r.w, r.h)
            if isinstance(job, str):
                emit(job)
                result.finish = FinishReason.STOP
            else:
                async for chunk in engine.stream(job):
                    if chunk.text:
                        emit(chunk.text)
                    if chunk.finish_reason is not None:
                        result.finish = chunk.finish_reason
                        if chunk.info:
                            result.infos[number] = chunk.info
            body = "".join(parts[start + (1 if len(indices) > 1 else 0):])
            result.pages.append((number, body))
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
        # a task may name its own engine (codes: the barcode reader in the CPU engine)
        engine = create_engine(settings, get_task(settings.task).engine)
        await engine.start()
    except EngineError as exc:
        print(f"{PROG}: engine: {exc.user_message}", file=sys.stderr)
        return 2
    results: list[InputResult] = []
    try:
        for path in args.paths:
            if several and not args.json:
                stdout.write(f"=== {path} ===\n")
            try:
                result = await _recognise(engine, settings, path, plan, stdout, live=not args.json)
            except (*OPEN_ERRORS, SpecError, EngineError, OSError) as exc:
                error = user_message(exc)
                if isinstance(exc, PasswordRequired):
                    error += " Give it with --password."
                result = InputResult(path, error=error)
                print(f"{PROG}: {path}: {result.error}", file=sys.stderr)
            results.append(result)
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
                    elif settings.task == "codes":
                        payload["codes"] = _codes_payload(result)
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
            await asyncio.to_thread(_write_out, args.out, ok, settings.task, args.format,
                                    args.password)
        except (ExportError, *OPEN_ERRORS, OSError) as exc:
            print(f"{PROG}: {args.out}: {exc}", file=sys.stderr)
            return 2
    if not ok:
        return 2
    return 1 if len(ok) < len(results) else 0


def _codes_payload(result: InputResult) -> list[dict] | list[list[dict]]:
    """`--task codes --json`: each page's codes (format, text, position, bbox)."""
    from desktop_ocr.core.codes import parse_codes

    pages = [[c.to_dict() for c in parse_codes(text) or []] for _, text in result.pages]
    return pages[0] if len(pages) == 1 else pages


def _write_out(path: Path, results: list[InputResult], task: str, fmt: str | None,
               password: str | None = None) -> None:
    """One export of every input and page; the format follows the extension or --format.
    A searchable PDF needs to know where the text sits: the CPU engine's layout when it
    gave one, else the CPU engine reads each page for its boxes here."""
    from desktop_ocr.core.export import format_for

    items = [ExportItem(source=str(r.path), page=number, task=task, text=text,
                        region_rect=r.regions.get(number))
             for r in results for number, text in r.pages]
    kind = format_for(path, fmt)
    if kind == "pdf":
        from desktop_ocr.cpu_layouts import fill_layouts, layout_of

        infos = [r.infos.get(number) for r in results for number, _ in r.pages]
        for item, info in zip(items, infos, strict=True):
            item.layout = layout_of(info)
        missing = sum(item.layout is None for item in items)
        if missing:
            print(f"{PROG}: finding where the text sits on {missing} page(s) for the PDF "
                  "(CPU engine)", file=sys.stderr)
        fill_layouts(items, password=password)
    passwords = {str(r.path): password for r in results} if password else None
    export(items, path, kind, passwords=passwords)


def ocr_main(argv: list[str]) -> int:
    parser = _ocr_parser()
    args = parser.parse_args(argv)
    settings = apply_cli(Settings.load(), args)
    if settings.task not in TASK_IDS:
        parser.error(f"argument --task: invalid choice: {settings.task!r} (choose from {', '.join(TASK_IDS)})")
    try:
        return asyncio.run(_run_ocr(args, settings))
    except KeyboardInterrupt:
        print(f"{PROG}: cancelled", file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"{PROG}: {user_message(exc)}", file=sys.stderr)
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
    if argv and argv[0] == "ocr":
        return ocr_main(argv[1:])
    if argv and argv[0] == "doctor":
        return doctor_main(argv[1:])
    if argv and argv[0] == "ask":
        from desktop_ocr.ask_cli import ask_main

        return ask_main(argv[1:])
    return gui_main(argv)
