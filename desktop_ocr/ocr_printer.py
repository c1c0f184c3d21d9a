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
                 several: bool, engine: str, task: str) -> None:
        self.out, self.err = out, err
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
        self.waiting_said = 0.0

    # ---------------------------------------------------------------- events

    def on_event(self, event) -> None:
        if isinstance(event, pl.SourceOpened):
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
            self.err.write(f"{PROG}: {_input_name(event.source)}: {message}\n")
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
            if event.seconds >= 5 and event.seconds - self.waiting_said >= 5:
                self.waiting_said = event.seconds
                self.err.write(f"{PROG}: {event.part.label}: waiting for the server… "
                               f"{event.seconds:.0f} s\n")
                self.err.flush()
        elif isinstance(event, pl.PartFinished):
            self.done[event.part.index] = event.result
            self.waiting_said = 0.0
            self._advance()

    # ---------------------------------------------------------------- output

    def _write(self, index: int, text: str) -> None:
        si = self.source_of[index]
        self.printed.setdefault(si, []).append(text)
        if not self.json_mode:
            self.out.write(text)
            self.out.flush()

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
                    self.err.write(f"{PROG}: {result.label}: {result.error}\n")
                    self.failed.add(si)
                elif result.finish == FinishReason.LENGTH.value:
                    self.err.write(f"{PROG}: {result.label}: output cut at the token limit\n")
                elif result.finish == FinishReason.REPETITION.value:
                    self.err.write(f"{PROG}: {result.label}: stopped a repetition loop; "
                                   "the output is cut\n")
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
            self.out.write("\n")
        self.out.flush()

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
        self.out.write(json.dumps(payload, ensure_ascii=False) + "\n")

    def close(self, results: list[PartResult]) -> None:
        """The run ended (or stopped): say what is left, in order."""
        self._advance()
        for si in range(len(self.sources)):
            if si not in self.complete and si in self.parts_of:
                self._input_done(si)

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
