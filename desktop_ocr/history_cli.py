"""`desktop-ocr history ...`: list, search, export and delete what the results library keeps.

    desktop-ocr history list [--json] [--limit N]
    desktop-ocr history search TEXT... [--json] [--limit N]
    desktop-ocr history export --out FILE [--format F] [--per-input] [ID...]
    desktop-ocr history rm ID...
    desktop-ocr history clear --yes

Every sub-command takes `--library FILE` (default: the app's library, or
DESKTOP_OCR_LIBRARY). Lines go to stdout, one per result, newest first; `--json` prints one
JSON object per line instead. Messages go to stderr.
Exit codes: 0 done; 1 nothing found / an id not in the library / the export failed;
64 bad usage (as `desktop-ocr ocr`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from desktop_ocr.core.export import FORMATS, ExportError, export_batch
from desktop_ocr.core.library import Hit, Library, default_path, readable_text, snippet
from desktop_ocr.core.logs import setup_logging
from desktop_ocr.core.results import PartResult

PROG = "desktop-ocr history"
EXIT_USAGE = 64


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    common = _Parser(add_help=False)
    # SUPPRESS: given after the sub-command it counts, and does not reset one given before
    common.add_argument("--library", type=Path, default=argparse.SUPPRESS, metavar="FILE",
                        help=f"the library file (default {default_path()})")
    p = _Parser(prog=PROG, description="The results library: every result the app recognised.")
    p.add_argument("--library", type=Path, default=None, metavar="FILE", help=argparse.SUPPRESS)
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    ls = sub.add_parser("list", parents=[common], help="the newest results")
    ls.add_argument("--json", action="store_true", help="one JSON object per line")
    ls.add_argument("--limit", type=int, default=50, metavar="N", help="how many (default 50)")
    se = sub.add_parser("search", parents=[common], help="results holding every word of TEXT")
    se.add_argument("text", nargs="+", metavar="TEXT",
                    help='words (all must match; any script, any length); "a phrase" in quotes')
    se.add_argument("--json", action="store_true", help="one JSON object per line")
    se.add_argument("--limit", type=int, default=50, metavar="N", help="how many (default 50)")
    ex = sub.add_parser("export", parents=[common], help="export stored results (no OCR again)")
    ex.add_argument("ids", nargs="*", type=int, metavar="ID", help="result ids (default: all)")
    ex.add_argument("--out", type=Path, required=True, metavar="FILE",
                    help="file to write; .xlsx gets a sheet per table and a Sources sheet")
    ex.add_argument("--format", choices=FORMATS, help="file format, whatever the extension")
    ex.add_argument("--per-input", action="store_true",
                    help="--out is a folder: one file per input file or image")
    rm = sub.add_parser("rm", parents=[common], help="delete results")
    rm.add_argument("ids", nargs="+", type=int, metavar="ID")
    cl = sub.add_parser("clear", parents=[common], help="delete every stored result")
    cl.add_argument("--yes", action="store_true", help="yes, delete them all")
    return p, {"list": ls, "search": se, "export": ex, "rm": rm, "clear": cl}


def _when(r: PartResult) -> dt.datetime:
    return dt.datetime.fromtimestamp(r.created).astimezone()


def _record(r: PartResult, snip: str) -> dict[str, Any]:
    return {"id": r.id, "file": r.name, "source": r.source, "page": r.page,
            "page_count": r.page_count, "region": r.region_label,
            "date": _when(r).isoformat(timespec="seconds"), "task": r.task, "engine": r.engine,
            "model": r.model, "ok": r.ok, "error": r.error, "snippet": snip}


def _line(r: PartResult, snip: str) -> str:
    return f"{r.id}\t{_when(r):%Y-%m-%d %H:%M}\t{r.label}\t{snip}"


def _print(hits: list[Hit], as_json: bool) -> None:
    for hit in hits:
        r = hit.result
        snip = hit.snippet if r.ok else f"failed: {r.error}"
        print(json.dumps(_record(r, snip), ensure_ascii=False) if as_json else _line(r, snip))


def history_main(argv: list[str]) -> int:
    parser, commands = _parser()
    args = parser.parse_args(argv)
    command = commands[args.command]
    if args.command == "clear" and not args.yes:
        command.error("this deletes every stored result; add --yes to do it")
    if getattr(args, "limit", 1) < 1:
        command.error("--limit must be 1 or more")
    setup_logging()  # details to the log file; the user gets the one-line notice
    # No quick_check here: a one-off command should answer at once; damage a query meets
    # is still set aside (see core/library/).
    lib = Library.open(args.library, check=False)
    if lib.notice:
        print(f"desktop-ocr: {lib.notice}", file=sys.stderr)
    try:
        return _run(lib, args)
    finally:
        lib.close()


def _run(lib: Library, args: argparse.Namespace) -> int:
    if args.command == "list":
        results = lib.recent(args.limit)
        if not results:
            print("desktop-ocr: the library is empty.", file=sys.stderr)
        _print([Hit(r, *snippet(readable_text(r), [])) for r in results], args.json)
        return 0
    if args.command == "search":
        query = " ".join(args.text)
        hits = lib.search(query, args.limit)
        if not hits:
            print(f"desktop-ocr: no stored result holds {query!r}.", file=sys.stderr)
            return 1
        _print(hits, args.json)
        return 0
    if args.command == "export":
        if args.ids:
            results = lib.get_many(args.ids)
            missing = sorted(set(args.ids) - {r.id for r in results})
            if missing:
                print(f"desktop-ocr: no result with id {', '.join(map(str, missing))} in the "
                      "library; nothing was written.", file=sys.stderr)
                return 1
        else:
            results = lib.recent(max(1, lib.count()))[::-1]  # oldest first, as recognised
        try:
            written = export_batch(results, args.out, per_input=args.per_input, fmt=args.format)
        except ExportError as exc:
            print(f"desktop-ocr: {exc}", file=sys.stderr)
            return 1
        for path in written:
            print(path)
        left_out = sum(not r.ok for r in results)
        if left_out:
            print(f"desktop-ocr: {left_out} failed part(s) left out.", file=sys.stderr)
        return 0
    if args.command == "rm":
        found = {r.id for r in lib.get_many(args.ids)}
        deleted = lib.delete(sorted(found))
        missing = [i for i in args.ids if i not in found]
        print(f"desktop-ocr: deleted {deleted} result(s).", file=sys.stderr)
        if missing:
            print(f"desktop-ocr: no result with id {', '.join(map(str, missing))}.", file=sys.stderr)
            return 1
        return 0
    deleted = lib.clear()
    print(f"desktop-ocr: deleted {deleted} result(s).", file=sys.stderr)
    return 0
