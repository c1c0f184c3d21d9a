"""What `desktop-ocr ocr` prints while the pipeline runs."""

from __future__ import annotations

import json
from typing import Any, TextIO

from desktop_ocr.core import pipeline as pl
from desktop_ocr.core.contract import FinishReason
from desktop_ocr.core.documents import PasswordRequired
from desktop_ocr.core.results import PartResult
from desktop_ocr.core.tasks import parse_fields

PROG = "desktop-ocr"


class OcrPrinter:
    """What `ocr` prints while the pipeline runs: each input's text in input order.

    Parts run several at once, but the output reads like one file after another: the
    earliest unfinished part streams live, later ones are held until it is their turn.
    With --json, one object per input once all its parts are done.
    """

    def __init__(self, out: TextIO, err: TextIO, sources: list[pl.Source], *, json_mode: bool,
                 several: bool, engine: str, task: str, prog: str = PROG) -> None:
        self.out, self.err = out, err
        self.prog = prog
        self.sources = sources
        self.json_mode, self.several = json_mode, several
        self.engine, self.task = engine, task
        self.prefix: dict[int, str] = {}  # part index -> header printed before its text
        self.source_of: dict[int, int] = {}  # part index -> source index
        self.chunks: dict[int, list[str]] = {}
        self.done: dict[int, PartResult] = {}
        self.printed: dict[int, list[str]] = {}  # source index -> its text so far
        self.head = 0  # the part whose text goes out live
        self.head_started = False
        self.failed: set[int] = set()
        self.complete: set[int] = set()
        self.parts_of: dict[int, range] = {}
        self.waiting_said: dict[int, int] = {}  # part index -> waiting lines said
        self.broken_pipe = False
        self.said_errors: set[tuple[int | None, str]] = set()  # (part, message) on stderr

    # ---------------------------------------------------------------- events

    def on_event(self, event) -> None:
        if isinstance(event, pl.SourceOpened):
            if event.notice:  # "damaged; repaired as far as possible": one line, details logged
                self._say(f"{_input_name(event.source)}: {event.notice}")
            span = range(event.first_part, event.first_part + event.parts)
            self.parts_of[event.source_index] = span
            for k in span:
                self.source_of[k] = event.source_index
            if not event.parts:
                self._input_done(event.source_index)
        elif isinstance(event, pl.SourceFailed):
            self.parts_of[event.source_index] = range(event.index, event.index + 1)
            self.source_of[event.index] = event.source_index
            message = event.message
            if isinstance(event.error, PasswordRequired) and "--password" not in message:
                message += " Give it with --password."
            self._say(f"{_input_name(event.source)}: {message}")
            self.failed.add(event.source_index)
            self.done[event.index] = event.result.with_(error=message)
            self._advance()
        elif isinstance(event, pl.PartStarted):
            part = event.part
            header = ""
            if self.several and part.index == self.parts_of[part.source_index].start:
                header = f"=== {part.source.path} ===\n"
            if part.document.page_count > 1 and len(self.parts_of[part.source_index]) > 1:
                header += f"--- page {part.page + 1} ---\n"
            self.prefix[part.index] = header
            self.chunks.setdefault(part.index, [])
            if part.index == self.head:
                self._start_head()
        elif isinstance(event, pl.PartText):
            index = event.part.index
            self.chunks.setdefault(index, []).append(event.text)
            if index == self.head and self.head_started:
                self._write(index, event.text)
        elif isinstance(event, pl.PartWaiting):
            # A line while the server keeps us waiting: at 5 s, then every 15 s.
            step = 0 if event.seconds < 5 else 1 + int((event.seconds - 5) // 15)
            if step > self.waiting_said.get(event.part.index, 0):
                self.waiting_said[event.part.index] = step
                self._say(f"{event.part.label}: waiting for the server… {event.seconds:.0f} s")
        elif isinstance(event, pl.PartFinished):
            self.done[event.part.index] = event.result
            self._advance()
        elif isinstance(event, (pl.EngineRestarted, pl.RunStopped)):
            # Said once, with its cause and the input it happened on (the part's own
            # error line, the same words, is said only if this was not).
            key = (event.part.index if event.part is not None else None, event.message)
            if key not in self.said_errors:
                where = f"{event.part.label}: " if event.part is not None else "engine: "
                self._say(where + event.message)
                self.said_errors.add(key)
            if isinstance(event, pl.EngineRestarted):
                self._say("restarting the engine (once)…")

    # ---------------------------------------------------------------- output

    def _write(self, index: int, text: str) -> None:
        si = self.source_of[index]
        self.printed.setdefault(si, []).append(text)
        if not self.json_mode:
            self._out(text)

    def _out(self, text: str) -> None:
        try:
            self.out.write(text)
            self.out.flush()
        except BrokenPipeError:
            # Nobody reads stdout any more (`| head -1`): stop the run, quietly.
            self.broken_pipe = True
            raise pl.StopRun("the output was closed") from None

    def _say(self, line: str) -> None:
        try:
            self.err.write(f"{self.prog}: {line}\n")
            self.err.flush()
        except (OSError, ValueError):  # a closed terminal (SIGHUP) must not stop the run
            pass

    def _start_head(self) -> None:
        self.head_started = True
        index = self.head
        si = self.source_of[index]
        body = self.printed.get(si, [])
        if body and not body[-1].endswith("\n") and self.prefix.get(index):
            self._write(index, "\n")
        if self.prefix.get(index):
            self._write(index, self.prefix[index])
        for text in self.chunks.get(index, []):
            self._write(index, text)

    def _advance(self) -> None:
        while self.head in self.done:
            index = self.head
            result = self.done[index]
            si = self.source_of.get(index)
            if index in self.chunks and not self.head_started:
                self._start_head()
            if si is not None:
                if not result.ok and index in self.chunks:
                    if (index, result.error) not in self.said_errors:
                        self._say(f"{result.label}: {result.error}")
                        self.said_errors.add((index, result.error))
                    self.failed.add(si)
                elif result.finish == FinishReason.LENGTH.value:
                    self._say(f"{result.label}: output cut at the token limit")
                elif result.finish == FinishReason.REPETITION.value:
                    self._say(f"{result.label}: stopped a repetition loop; the output is cut")
            self.head += 1
            self.head_started = False
            if si is not None and self.head not in self.parts_of.get(si, range(0)):
                self._input_done(si)
            if self.head in self.prefix:
                self._start_head()

    def _input_done(self, si: int) -> None:
        self.complete.add(si)
        parts = [self.done[i] for i in self.parts_of.get(si, ()) if i in self.done]
        text = "".join(self.printed.get(si, []))
        if self.json_mode:
            self._json(si, parts, text)
        elif text and not text.endswith("\n"):
            self._out("\n")

    def _json(self, si: int, parts: list[PartResult], text: str) -> None:
        source = self.sources[si]
        payload: dict[str, Any] = {"file": str(source.path), "engine": self.engine}
        errors = [r.error for r in parts if not r.ok]
        if errors and len(errors) == len(parts):
            payload["error"] = errors[0]
        else:
            finishes = [r.finish for r in parts if r.ok and r.finish]
            payload.update(text=text, seconds=round(sum(r.seconds for r in parts), 3),
                           finish_reason=_worst_finish(finishes))
            if errors:
                payload["errors"] = errors
            if self.task == "fields":
                fields = [parse_fields(r.text) for r in parts if r.ok]
                payload["fields"] = fields[0] if len(fields) == 1 else fields
            elif self.task == "codes":  # format, text, position and box of each code
                from desktop_ocr.core.codes import parse_codes

                pages = [[c.to_dict() for c in parse_codes(r.text) or []] for r in parts if r.ok]
                payload["codes"] = pages[0] if len(pages) == 1 else pages
        self._out(json.dumps(payload, ensure_ascii=False) + "\n")

    def close(self, results: list[PartResult]) -> None:
        """The run ended (or stopped): say what is left, in order."""
        try:
            self._advance()
            for si in range(len(self.sources)):
                if si not in self.complete and si in self.parts_of:
                    self._input_done(si)
        except pl.StopRun:  # the output was closed meanwhile: broken_pipe says so
            pass

    def failed_inputs(self) -> set[int]:
        return set(self.failed)

    def finished_input(self, si: int) -> bool:
        return si in self.complete and all(i in self.done for i in self.parts_of.get(si, ()))


def _worst_finish(finishes: list[str]) -> str | None:
    for reason in (FinishReason.LENGTH.value, FinishReason.REPETITION.value):
        if reason in finishes:
            return reason
    return finishes[-1] if finishes else None


def _input_name(source: pl.Source) -> str:
    return str(source.path) if source.path is not None else source.name
