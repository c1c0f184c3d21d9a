"""`desktop-ocr ask PATH "QUESTION"`: ask a vision-language engine about an image and
stream its answer.

The question goes with the page (or `--region` of it) to the engine. `--conversation
FILE` keeps the exchange in a JSON file (core/conversation.py): when the file exists its
conversation is continued, so a second `ask` with the same file is a follow-up question
with the whole conversation so far; the file is rewritten atomically with the new answer.
The CPU engine reads text but cannot answer questions: it says so (exit 2).

Exit codes: 0 answered, 1 the answer is cut (token limit, repetition), 2 failed
(engine, file), 64 bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from desktop_ocr.core.contract import EngineError, FinishReason
from desktop_ocr.core.conversation import ASK_TASK, Conversation
from desktop_ocr.core.regions import RegionSpec, SpecError, parse_region
from desktop_ocr.core.settings import Settings, add_cli_flags, apply_cli

PROG = "desktop-ocr ask"
EXIT_USAGE = 64


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _region_arg(spec: str) -> RegionSpec:
    try:
        return parse_region(spec)
    except SpecError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Ask a vision-language engine about an image; the "
                                       "answer streams to stdout.")
    p.add_argument("path", type=Path, metavar="PATH", help="an image or a PDF")
    p.add_argument("question", metavar="QUESTION", help='e.g. "What is the total?"')
    p.add_argument("--page", type=int, default=1, help="page of a PDF or multi-page TIFF (default 1)")
    p.add_argument("--region", type=_region_arg, metavar="X,Y,W,H",
                   help="only this part of the page: fractions 0-1, or pixels with a px suffix")
    p.add_argument("--password", default=os.environ.get("DESKTOP_OCR_PASSWORD"),
                   help="password of an encrypted PDF (or DESKTOP_OCR_PASSWORD)")
    p.add_argument("--conversation", type=Path, metavar="FILE",
                   help="continue the conversation kept in FILE (JSON) and save it there")
    add_cli_flags(p, skip=("task",))
    return p


def _load_conversation(path: Path | None) -> Conversation:
    if path is None or not path.exists():
        return Conversation()
    try:
        return Conversation.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, AttributeError) as exc:
        raise ValueError(f"{path}: not a conversation file ({exc})") from None


async def _ask(args: argparse.Namespace, settings: Settings) -> int:
    # The question runs through the pipeline like any recognition (the GUI's ask box does
    # the same): one stream loop, time limits, retries and an engine death handled once.
    from desktop_ocr.core.pipeline import Pipeline, Source, SourceOpened
    from desktop_ocr.engines import create_engine
    from desktop_ocr.ocr_printer import OcrPrinter

    try:
        conversation = _load_conversation(args.conversation)
    except ValueError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    try:
        engine = create_engine(settings)
    except EngineError as exc:
        print(f"{PROG}: engine: {exc.user_message}", file=sys.stderr)
        return 2
    source = Source(path=args.path, pages=[args.page - 1], region=args.region,
                    password=args.password, question=args.question, conversation=conversation)
    printer = OcrPrinter(sys.stdout, sys.stderr, [source], json_mode=False, several=False,
                         engine=engine.name, task=ASK_TASK, prog=PROG)
    opened: list[SourceOpened] = []

    def on_event(event) -> None:
        if isinstance(event, SourceOpened):
            opened.append(event)
        printer.on_event(event)

    pipeline = Pipeline(engine, settings, on_event=on_event)
    try:
        summary = await pipeline.run([source], kind="ask")
    finally:
        await engine.stop()
    printer.close(summary.results)
    if printer.broken_pipe:
        from desktop_ocr.cli import _quiet_broken_pipe

        return _quiet_broken_pipe()
    if opened and not opened[0].parts:
        print(f"{PROG}: {args.path.name} has {opened[0].page_count} page(s), not page {args.page}",
              file=sys.stderr)
        return 2
    if summary.stopped and not any(m == summary.stopped for _, m in printer.said_errors):
        print(f"{PROG}: engine: {summary.stopped}", file=sys.stderr)
    result = summary.results[0] if summary.results else None
    if result is None or not result.ok:
        return 2
    conversation.add(args.question, result.text)
    if args.conversation is not None:
        from desktop_ocr.core.atomic import SaveError, atomic_write_text

        try:
            atomic_write_text(args.conversation,
                              json.dumps(conversation.to_dict(), ensure_ascii=False, indent=2))
        except SaveError as exc:
            print(f"{PROG}: {exc}", file=sys.stderr)
            return 2
    # the printer said why on stderr ("output cut at the token limit")
    return 1 if result.finish in (FinishReason.LENGTH.value, FinishReason.REPETITION.value) else 0


def ask_main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if not args.question.strip():
        _parser().error("the question is empty")
    settings = apply_cli(Settings.load(), args)
    try:
        return asyncio.run(_ask(args, settings))
    except KeyboardInterrupt:
        print(f"{PROG}: cancelled", file=sys.stderr)
        return 130
