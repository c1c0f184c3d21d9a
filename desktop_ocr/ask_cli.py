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
from desktop_ocr.core.conversation import Conversation
from desktop_ocr.core.documents import OPEN_ERRORS, PasswordRequired, open_document
from desktop_ocr.core.notifications import user_message
from desktop_ocr.core.regions import RegionSpec, SpecError, parse_region
from desktop_ocr.core.settings import Settings, add_cli_flags, apply_cli
from desktop_ocr.core.tasks import overrides_from_settings

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


def _image(args: argparse.Namespace):
    with open_document(args.path, args.password) as doc:
        if not 1 <= args.page <= doc.page_count:
            raise SpecError(f"{args.path.name} has {doc.page_count} page(s), not page {args.page}")
        page = doc.pages[args.page - 1]
        region = args.region.to_region(*page.size) if args.region else None
        return page.render_for_engine(region)


async def _ask(args: argparse.Namespace, settings: Settings) -> int:
    from desktop_ocr.engines import create_engine

    out = sys.stdout
    try:
        conversation = _load_conversation(args.conversation)
        image = await asyncio.to_thread(_image, args)
        request = conversation.request(image, args.question, label=args.path.name,
                                       **overrides_from_settings(settings))
    except (*OPEN_ERRORS, SpecError, ValueError, OSError) as exc:
        hint = " Give it with --password." if isinstance(exc, PasswordRequired) else ""
        print(f"{PROG}: {user_message(exc)}{hint}", file=sys.stderr)
        return 2
    parts: list[str] = []
    finish: FinishReason | None = None
    try:
        engine = create_engine(settings)
        await engine.start()
    except EngineError as exc:
        print(f"{PROG}: engine: {exc.user_message}", file=sys.stderr)
        return 2
    try:
        async for chunk in engine.stream(request):
            if chunk.text:
                parts.append(chunk.text)
                out.write(chunk.text)
                out.flush()
            if chunk.finish_reason is not None:
                finish = chunk.finish_reason
    except EngineError as exc:
        print(f"{PROG}: {exc.user_message}", file=sys.stderr)
        return 2
    finally:
        await engine.stop()
    answer = "".join(parts)
    if answer and not answer.endswith("\n"):
        out.write("\n")
    conversation.add(args.question, answer)
    if args.conversation is not None:
        from desktop_ocr.core.atomic import SaveError, atomic_write_text

        try:
            atomic_write_text(args.conversation,
                              json.dumps(conversation.to_dict(), ensure_ascii=False, indent=2))
        except SaveError as exc:
            print(f"{PROG}: {exc}", file=sys.stderr)
            return 2
    if finish in (FinishReason.LENGTH, FinishReason.REPETITION):
        print(f"{PROG}: the answer is cut ({finish.value})", file=sys.stderr)
        return 1
    return 0


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
