"""The one way a recognition runs: plan the parts of any source, run them, keep the results.

Every way of recognising goes through `Pipeline.run`: the window's page (its regions in
order), all pages, several files or a folder, a pasted image, a snip, a watched clipboard
image, the CLI's inputs and a resumed batch. Qt-free; the GUI and the CLI turn its events
into signals or printed lines.

    sources ──plan──▶ parts ──workers (engine concurrency)──▶ PartResult ──▶ library
                                  │ one stream loop per part: closed on cancel
                                  └ bounded retries, engine death handled once

* **Plan.** A `Source` says what to read: a file (opened here, in a worker thread, with a
  password from the caller when it asks for one) or a document the caller already holds,
  or an image that never was a file. Its pages, their regions, rotations and tasks become
  `Part`s, numbered in input order.
* **Run.** As many parts at once as the engine serves well (`max_concurrency`, capped by
  the `max_in_flight` setting). A part's image is rendered (worker thread) just before it
  is sent. A PDF page's own text replaces OCR where asked. With `reuse`, a stored result
  for the same content, page, region, task, prompt, engine and model is taken from the
  library instead of asking the engine again.
* **Retry.** Only what is retryable (engine unavailable for a moment, a dropped stream, a
  time-out) and only before the first token reached the user, at most `RetryPolicy`
  attempts within its time budget. An engine whose process died is restarted once when
  the setting says so; otherwise, or when it dies again, the run stops with one message
  naming the cause. An engine that cannot be reached at all stops the run the same way.
* **Keep.** Each finished part is written to the library the moment it finishes (when a
  library is given), inside a library run, so that a crash or `kill -9` mid-batch loses
  nothing that finished and the next start can resume the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from desktop_ocr.core.contract import (
    BadImage,
    BadRequest,
    Engine,
    EngineCrashed,
    EngineDied,
    EngineError,
    EngineTimeout,
    EngineUnavailable,
    FinishReason,
    Request,
)
from desktop_ocr.core.conversation import ASK_TASK, Conversation
from desktop_ocr.core.documents import (
    OPEN_ERRORS,
    Document,
    PasswordRequired,
    WrongPassword,
    document_from_image,
    open_decoded,
)
from desktop_ocr.core.messages import QT_TRANSLATE_NOOP, Text
from desktop_ocr.core.notifications import user_message
from desktop_ocr.core.regions import Region, RegionSpec, parse_pages
from desktop_ocr.core.results import PartResult, ReuseKey, content_hash, file_hash
from desktop_ocr.core.tasks import build_request, overrides_from_settings, request_fields

if TYPE_CHECKING:
    from PIL import Image

    from desktop_ocr.core.settings import Settings

log = logging.getLogger(__name__)

# Longest stretch a stream loop runs without giving the event loop a turn: chunks that
# arrived together are handed over without the loop ever waiting, so a fast server could
# otherwise hold the GUI for a whole read buffer.
YIELD_EVERY_S = 0.004
THUMBNAIL_SIDE = 160
# File types a folder contributes (by extension; content is checked when opened).
FOLDER_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".gif",
                             ".pdf", ".xps", ".epub", ".cbz"})


# ====================================================================== what to read

@dataclass
class PageOptions:
    """What the user set on one page: its regions in order (none = the whole page) and
    the clockwise rotation they turned it by."""

    regions: Sequence[Region] = ()
    rotation: int = 0


@dataclass
class Source:
    """One input of a run.

    A file (`path`), a document the caller keeps open (`document`, not closed here), or an
    image that never was a file (`image`, with `kind` paste / snip / watch and a `label`).
    """

    path: Path | None = None
    document: Document | None = None
    image: Image.Image | None = None
    kind: str = "file"
    label: str = ""  # what the user calls it; default: the file name
    pages: str | Sequence[int] | None = None  # "1-3,7", 0-based indices, or None = all
    page_options: dict[int, PageOptions] = field(default_factory=dict)  # by page index
    region: RegionSpec | None = None  # the CLI's one region for every page
    task: str | None = None  # None: the settings' task (a region may have its own)
    prompt: str | None = None  # the custom prompt, for the custom task
    use_text_layer: bool = False  # a PDF page's own text where it has some, OCR elsewhere
    ocr: bool = True  # False: text layer only; a page without one gives ""
    password: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)  # decoding, e.g. a stronger penalty
    # A follow-up question about the image (core/conversation.py): each part is asked
    # `question` with the conversation so far instead of running a task.
    question: str = ""
    conversation: Conversation | None = None

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        if self.path is not None:
            return self.path.name
        if self.document is not None:
            return self.document.name
        return self.kind

    def to_plan(self) -> dict[str, Any]:
        """JSON for the library's run record (what a resume needs to plan it again)."""
        return {
            "path": str(self.path) if self.path else None, "kind": self.kind,
            "label": self.label,
            "pages": self.pages if isinstance(self.pages, str) or self.pages is None
            else list(self.pages),
            "page_options": {str(i): {"rotation": o.rotation,
                                      "regions": [_region_json(r) for r in o.regions]}
                             for i, o in self.page_options.items()},
            "region": _spec_json(self.region),
            "task": self.task, "prompt": self.prompt, "use_text_layer": self.use_text_layer,
            "ocr": self.ocr, "overrides": self.overrides,
        }

    @classmethod
    def from_plan(cls, d: dict[str, Any]) -> Source:
        options = {int(i): PageOptions([Region(**r) for r in o.get("regions", [])],
                                       int(o.get("rotation", 0)))
                   for i, o in (d.get("page_options") or {}).items()}
        region = d.get("region")
        return cls(path=Path(d["path"]) if d.get("path") else None, kind=d.get("kind", "file"),
                   label=d.get("label", ""), pages=d.get("pages"), page_options=options,
                   region=RegionSpec(**region) if region else None, task=d.get("task"),
                   prompt=d.get("prompt"), use_text_layer=bool(d.get("use_text_layer")),
                   ocr=d.get("ocr", True), overrides=dict(d.get("overrides") or {}))


def _region_json(r: Region) -> dict[str, Any]:
    return {"x": r.x, "y": r.y, "w": r.w, "h": r.h, "id": r.id, "order": r.order,
            "task": r.task, "label": r.label}


def _spec_json(spec: RegionSpec | None) -> dict[str, Any] | None:
    if spec is None:
        return None
    import dataclasses

    return dataclasses.asdict(spec)


def expand_inputs(paths: Iterable[Path]) -> list[Path]:
    """Files as given; a folder contributes its supported files (recursively, sorted)."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(p for p in path.rglob("*")
                          if p.is_file() and p.suffix.lower() in FOLDER_SUFFIXES
                          and not any(part.startswith(".") for part in p.relative_to(path).parts))
        else:
            out.append(path)
    return out


# ====================================================================== the plan's unit

@dataclass
class Part:
    """One region of one page of one source (or a whole page): what a worker runs."""

    index: int  # position in the run, input order
    source_index: int
    source: Source
    document: Document
    source_hash: str
    page: int  # 0-based index
    region: Region | None
    rotation: int
    task: str
    prompt: str
    custom_prompt: str | None

    @property
    def page_count(self) -> int:
        return self.document.page_count

    @property
    def region_label(self) -> str:
        return self.region.display_label if self.region is not None else ""

    @property
    def label(self) -> str:
        parts = [self.source.name]
        if self.page_count > 1:
            parts.append(f"page {self.page + 1}")
        if self.region is not None:
            parts.append(self.region_label)
        return ", ".join(parts)

    def result(self, **values: Any) -> PartResult:
        """A PartResult for this part, with what is known before it runs."""
        region = self.region
        return PartResult(
            source=str(self.source.path) if self.source.path is not None else self.source.name,
            source_kind=self.source.kind, source_hash=self.source_hash, page=self.page + 1,
            page_count=self.page_count,
            region=None if region is None else (region.x, region.y, region.w, region.h),
            region_label=self.region_label, region_id=region.id if region is not None else "",
            rotation=self.rotation, task=self.task, prompt=self.prompt, **values)


# ====================================================================== events

@dataclass(frozen=True)
class SourceOpened:
    source_index: int
    source: Source
    page_count: int
    parts: int  # how many parts it contributed: indices first_part .. first_part + parts - 1
    first_part: int
    pages: int  # how many of its pages are in the run
    notice: str = ""  # e.g. "damaged; repaired as far as possible" (details in the log)


@dataclass(frozen=True)
class SourceFailed:
    source_index: int
    source: Source
    message: str  # why, without the file's name ("The file does not exist.")
    result: PartResult  # the failure as a result (stored too), so a batch lists it
    error: BaseException | None = None
    index: int = 0  # the result's place in the run


@dataclass(frozen=True)
class PartStarted:
    part: Part


@dataclass(frozen=True)
class PartText:
    part: Part
    text: str


@dataclass(frozen=True)
class PartWaiting:
    """The engine is waiting for the server (first token or the next one)."""

    part: Part
    seconds: float


@dataclass(frozen=True)
class PartFinished:
    part: Part
    result: PartResult


@dataclass(frozen=True)
class Progress:
    done: int
    total: int  # parts planned so far (grows while sources are opened)
    failed: int
    reused: int
    elapsed: float
    eta: float | None  # seconds; None until a part finished
    sources_left: int  # sources not opened yet


@dataclass(frozen=True)
class EngineRestarted:
    """The engine's process died (`message`: its cause) while `part` ran; it is being
    started again, once per run."""

    message: str
    part: Part | None = None


@dataclass(frozen=True)
class RunStopped:
    """The run could not go on (the engine died again or cannot be reached)."""

    message: str
    part: Part | None = None  # the part it happened on, when there was one


Event = (SourceOpened | SourceFailed | PartStarted | PartText | PartWaiting | PartFinished
         | Progress | EngineRestarted | RunStopped)


@dataclass
class RunSummary:
    results: list[PartResult]  # input order; failed parts and sources included
    cancelled: bool = False
    stopped: str = ""  # why the run stopped early ("" = it did not)
    run_id: int | None = None

    @property
    def ok(self) -> list[PartResult]:
        return [r for r in self.results if r.ok]


# ====================================================================== collaborators

class EngineHandle(Protocol):
    """How the pipeline gets its engine: created without starting (a run that needs no
    engine, e.g. PDF text or stored results, must not start a GPU server), started, and
    started again after its process died."""

    async def prepare(self) -> Engine: ...

    async def ensure(self) -> Engine: ...

    async def restart(self) -> Engine: ...


class FixedEngine:
    """An EngineHandle over one engine object (the CLI, tests)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def prepare(self) -> Engine:
        return self.engine

    async def ensure(self) -> Engine:
        await self.engine.start()
        return self.engine

    async def restart(self) -> Engine:
        await self.engine.stop()
        await self.engine.start()
        return self.engine


class LazyEngine(FixedEngine):
    """An EngineHandle that creates its engine on first use, in a worker thread (creating
    one may import its runtime): the engine a task names for itself (`Task.engine`)."""

    def __init__(self, factory: Callable[[], Engine]) -> None:
        self.factory = factory
        self.engine: Engine | None = None  # type: ignore[assignment]
        self._lock: asyncio.Lock | None = None

    async def prepare(self) -> Engine:
        if self.engine is None:
            if self._lock is None:
                self._lock = asyncio.Lock()
            async with self._lock:
                if self.engine is None:
                    self.engine = await asyncio.to_thread(self.factory)
        return self.engine

    async def ensure(self) -> Engine:
        engine = await self.prepare()
        await engine.start()
        return engine

    async def restart(self) -> Engine:
        engine = await self.prepare()
        await engine.stop()
        await engine.start()
        return engine

    async def stop(self) -> None:
        if self.engine is not None:
            await self.engine.stop()


# The engine handle a task needs instead of the run's own (None: the run's own).
EngineFor = Callable[[str], "EngineHandle | Engine | None"]


class ResultStore(Protocol):
    """What the pipeline needs of the results library (its async facade)."""

    async def add(self, result: PartResult) -> int: ...

    async def find(self, key: ReuseKey) -> PartResult | None: ...

    async def start_run(self, kind: str, plan: dict[str, Any]) -> int: ...

    async def resume_run(self, run_id: int) -> Any: ...

    async def finish_run(self, run_id: int, state: str) -> None: ...


# (file name, the last password was wrong) -> password, or None when the user gives none.
PasswordProvider = Callable[[str, bool], Awaitable[str | None]]


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries: at most `attempts` tries of one part within `budget_s` seconds,
    waiting `backoff_s` × attempt between tries."""

    attempts: int = 3
    budget_s: float = 120.0
    backoff_s: float = 0.5


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, (BadImage, BadRequest, EngineDied)):
        return False
    status = getattr(exc, "status", None)
    if status not in (None, 502, 503, 504):
        return False  # the server answered with a definite error (400, 500, error event)
    return isinstance(exc, (EngineUnavailable, EngineCrashed, EngineTimeout))


class _Stop(Exception):
    """The run cannot go on; `str()` says why."""


class StopRun(Exception):
    """Raised by an event handler to end the run at once (e.g. nobody reads the output
    any more); the run returns with `stopped` set to its message."""


# ====================================================================== the pipeline

class Pipeline:
    def __init__(self, engine: EngineHandle | Engine, settings: Settings, *,
                 library: ResultStore | None = None, on_event: Callable[[Any], None] | None = None,
                 concurrency: int | None = None, retry: RetryPolicy | None = None,
                 reuse: bool = False, password_provider: PasswordProvider | None = None,
                 restart_on_death: bool | None = None, engine_for: EngineFor | None = None
                 ) -> None:
        """`engine_for(task)`: the engine a task runs on when it is not the run's own (the
        codes task names the CPU engine's barcode reader whatever engine was chosen)."""
        self.engine = _handle(engine)
        self.engine_for = engine_for
        self._task_handles: dict[str, EngineHandle] = {}
        self.settings = settings
        self.library = library
        self.on_event = on_event
        self.concurrency = concurrency
        self.retry = retry or RetryPolicy()
        self.reuse = reuse
        self.password_provider = password_provider
        self.restart_on_death = (getattr(settings, "restart_engine_on_crash", True)
                                 if restart_on_death is None else restart_on_death)
        self.reused = 0
        self._running_gate = asyncio.Event()
        self._running_gate.set()
        self._restarts = 0
        self._generation = 0  # bumped by each restart of the engine
        self._restart_lock = asyncio.Lock()
        # The engine died for good on this part: the run stops once its result is kept.
        self._stop_after: tuple[str, Part] | None = None
        self._started: set[int] = set()  # id() of the handles started in this run

    def handle_for(self, task: str) -> EngineHandle:
        """The engine handle a part of `task` runs on."""
        if self.engine_for is None:
            return self.engine
        handle = self._task_handles.get(task)
        if handle is None:
            own = self.engine_for(task)
            handle = self._task_handles[task] = self.engine if own is None else _handle(own)
        return handle

    # ---------------------------------------------------------------- events

    def _emit(self, event: Any) -> None:
        if self.on_event is None:
            return
        try:
            self.on_event(event)
        except StopRun:
            raise
        except Exception:  # a view's bug must not end the run
            log.exception("pipeline event handler failed on %s", type(event).__name__)

    # ---------------------------------------------------------------- pause

    @property
    def paused(self) -> bool:
        return not self._running_gate.is_set()

    def pause(self) -> None:
        """Start no new part; the ones running finish (a stream is not held open)."""
        self._running_gate.clear()

    def resume(self) -> None:
        self._running_gate.set()

    # ---------------------------------------------------------------- run

    async def run(self, sources: Sequence[Source], *, kind: str = "page",
                  run_id: int | None = None) -> RunSummary:
        """Recognise every part of `sources`; returns when all finished, the run stopped,
        or it was cancelled (then CancelledError propagates after the bookkeeping; what
        finished is in the library). `run_id` continues a stored run (resume)."""
        sources = list(sources)
        summary = RunSummary([])
        if self.library is not None and run_id is None:
            run_id = await self._store(self.library.start_run(
                kind, {"sources": [s.to_plan() for s in sources]}))
        elif self.library is not None:
            await self._store(self.library.resume_run(run_id))  # this process carries it on
        summary.run_id = run_id
        results: dict[int, PartResult] = {}
        # Text-layer only runs never need the engine, not even created (a GPU probe).
        width = await self._width() if any(s.ocr for s in sources) else 1
        # Bounded: a folder of a thousand files is opened a few at a time, as workers free up.
        queue: asyncio.Queue[Part | None] = asyncio.Queue(maxsize=width * 2)
        remaining: dict[int, int] = {}  # source index -> parts not finished yet
        began = time.monotonic()
        counts = {"planned": 0, "done": 0, "failed": 0, "sources_left": len(sources)}
        durations: list[float] = []
        opened: dict[int, Document] = {}  # documents this run opened, by source index
        state = "done"

        def progress() -> None:
            left = counts["planned"] - counts["done"]
            eta = (sum(durations) / len(durations) * left / width) if durations else None
            self._emit(Progress(counts["done"], counts["planned"], counts["failed"], self.reused,
                                time.monotonic() - began, 0.0 if left == 0 and durations else eta,
                                counts["sources_left"]))

        async def finish(index: int, result: PartResult, part: Part | None) -> None:
            result.run_id = run_id
            if self.library is not None and result.origin != "library":
                result.id = await self._store(self.library.add(result))
            results[index] = result
            counts["done"] += 1
            if not result.ok:
                counts["failed"] += 1
            elif result.origin == "ocr":
                durations.append(result.seconds)
            if part is not None:
                self._emit(PartFinished(part, result))
                remaining[part.source_index] -= 1
                if not remaining[part.source_index] and part.source_index in opened:
                    await asyncio.to_thread(opened.pop(part.source_index).close)
            progress()

        async def planner() -> None:
            index = 0
            for si, source in enumerate(sources):
                try:
                    doc, parts = await self._plan_source(si, source, index)
                except Exception as exc:  # noqa: BLE001 - one input fails alone, the batch goes on
                    if not isinstance(exc, (*OPEN_ERRORS, OSError, ValueError)):
                        log.exception("planning %s failed", source.name)
                    message = user_message(exc)
                    failed = _source_failure(source, _open_message(source, message))
                    counts["planned"] += 1
                    counts["sources_left"] -= 1
                    self._emit(SourceFailed(si, source, message, failed, exc, index))
                    await finish(index, failed, None)
                    index += 1
                    continue
                remaining[si] = len(parts)
                if source.document is None:
                    if parts:
                        opened[si] = doc
                    else:
                        await asyncio.to_thread(doc.close)
                counts["planned"] += len(parts)
                counts["sources_left"] -= 1
                self._emit(SourceOpened(si, source, doc.page_count, len(parts), index,
                                         len({p.page for p in parts}),
                                         getattr(doc, "notice", "") or ""))
                progress()
                for part in parts:
                    await queue.put(part)
                index += len(parts)
            # Workers stop once the queue is drained (on cancel they are cancelled).
            for _ in range(width):
                await queue.put(None)

        async def worker() -> None:
            while True:
                await self._running_gate.wait()
                part = await queue.get()
                if part is None:
                    return
                self._emit(PartStarted(part))
                try:
                    result = await self._run_part(part)
                except (asyncio.CancelledError, _Stop, StopRun):
                    raise
                except Exception as exc:  # noqa: BLE001 - a surprise on a hostile file: this part only
                    log.exception("%s failed", part.label)
                    result = part.result(error=user_message(exc))
                await finish(part.index, result, part)
                if self._stop_after is not None:
                    raise _Stop(self._stop_after[0])

        tasks = [asyncio.ensure_future(planner())]
        tasks += [asyncio.ensure_future(worker()) for _ in range(width)]
        try:
            await asyncio.gather(*tasks)
        except asyncio.CancelledError:
            state = "cancelled"
            summary.cancelled = True
            raise
        except _Stop as exc:
            state = "failed"
            summary.stopped = str(exc)
            self._emit(RunStopped(str(exc), self._stop_after[1] if self._stop_after else None))
        except StopRun as exc:
            state = "cancelled"
            summary.stopped = str(exc)
        except BaseException:
            state = "failed"
            raise
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for doc in opened.values():
                await asyncio.to_thread(doc.close)
            if self.library is not None and run_id is not None:
                with contextlib.suppress(Exception):
                    await asyncio.shield(self._store(self.library.finish_run(run_id, state)))
            summary.results = [results[i] for i in sorted(results)]
        return summary

    async def _width(self) -> int:
        if self.concurrency:
            return max(1, self.concurrency)
        try:
            engine = await self.engine.prepare()
        except EngineError:
            return 1  # the error surfaces when a part needs the engine
        return max(1, min(getattr(engine, "max_concurrency", 1) or 1,
                          getattr(self.settings, "max_in_flight", 4) or 1))

    async def _store(self, call: Awaitable[Any]) -> Any:
        """A library call; a failing library is logged and never ends a recognition."""
        try:
            return await call
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the results library failed; the result is kept in memory only")
            return None

    # ---------------------------------------------------------------- plan

    async def _plan_source(self, si: int, source: Source, first: int) -> tuple[Document, list[Part]]:
        doc = source.document or await self._open(source)
        try:
            digest, layout = await asyncio.to_thread(_layout, source, doc)
            parts: list[Part] = []
            for index, page_parts in layout:
                for region, rotation in page_parts:
                    if source.question:  # a follow-up question: no task, no preset prompt
                        parts.append(Part(first + len(parts), si, source, doc, digest, index,
                                          region, rotation, ASK_TASK, source.question.strip(),
                                          None))
                        continue
                    task = (region.task if region is not None and region.task else None) \
                        or source.task or self.settings.task
                    custom = source.prompt if task == "custom" else None
                    if task == "custom" and not custom:
                        custom = self.settings.prompt or None
                    fields_ = request_fields(task, language=self.settings.language,
                                             custom_prompt=custom)
                    parts.append(Part(first + len(parts), si, source, doc, digest, index, region,
                                      rotation, task, fields_["prompt"], custom))
        except BaseException:
            if source.document is None:
                await asyncio.to_thread(doc.close)
            raise
        return doc, parts

    async def _open(self, source: Source) -> Document:
        if source.image is not None:
            return await asyncio.to_thread(document_from_image, source.image, source.name)
        assert source.path is not None, "a Source needs a path, a document or an image"
        password = source.password
        while True:
            try:
                return await asyncio.to_thread(open_decoded, source.path, password)
            except (PasswordRequired, WrongPassword) as exc:
                if self.password_provider is None:
                    raise
                password = await self.password_provider(source.name,
                                                        isinstance(exc, WrongPassword))
                if password is None:
                    raise PasswordRequired(f"{source.name} was not opened (no password given).") \
                        from exc

    # ---------------------------------------------------------------- one part

    async def _run_part(self, part: Part) -> PartResult:
        began = time.monotonic()
        src = part.source
        page = part.document.pages[part.page]
        # The PDF's own text, where asked for and present.
        if src.use_text_layer or not src.ocr:
            try:
                text = await asyncio.to_thread(page.text_layer, part.region)
            except (*OPEN_ERRORS, OSError) as exc:
                return part.result(error=user_message(exc), seconds=time.monotonic() - began)
            if text.strip() or not src.ocr:
                if text:
                    self._emit(PartText(part, text))
                return part.result(text=text, origin="pdf-text", finish=FinishReason.STOP.value,
                                   seconds=time.monotonic() - began,
                                   thumbnail=await asyncio.to_thread(_thumbnail_of, part, None))
        handle = self.handle_for(part.task)
        engine = await handle.prepare()
        if self.reuse and self.library is not None and not src.question:
            if id(handle) not in self._started and getattr(engine, "model", None) is None:
                engine = await self._ensure(handle)  # a server names its model only once started
            key = part.result(engine=engine.name, model=_model(engine)).reuse_key()
            stored = await self._store(self.library.find(key))
            if stored is not None:
                self.reused += 1
                reused = stored.with_(origin="library", run_id=None)
                if reused.text:
                    self._emit(PartText(part, reused.text))
                return reused
        try:
            image = await asyncio.to_thread(
                page.render_for_engine, part.region, rotation=part.rotation)
            thumb = await asyncio.to_thread(_thumbnail_of, part, image)
        except (*OPEN_ERRORS, OSError, MemoryError) as exc:
            return part.result(error=user_message(exc), seconds=time.monotonic() - began)
        return await self._recognise(part, image, thumb, began)

    async def _ensure(self, handle: EngineHandle | None = None) -> Engine:
        handle = handle or self.engine
        async with self._restart_lock:  # a restart in progress: wait for the new engine
            pass
        engine = await handle.ensure()
        self._started.add(id(handle))
        return engine

    def _request(self, part: Part, image: Image.Image) -> Request:
        src = part.source
        if src.question:
            decoding = dict(overrides_from_settings(self.settings))
            decoding.update({k: v for k, v in (src.overrides or {}).items() if v is not None})
            return (src.conversation or Conversation()).request(
                image, src.question, label=part.label, **decoding)
        return build_request(image, part.task, language=self.settings.language,
                             custom_prompt=part.custom_prompt, settings=self.settings,
                             overrides=src.overrides or None, label=part.label)

    async def _recognise(self, part: Part, image: Image.Image, thumb: bytes,
                         began: float) -> PartResult:
        request = self._request(part, image)
        handle = self.handle_for(part.task)
        texts: list[str] = []
        finish: FinishReason | None = None
        first_token: float | None = None
        attempts = 0
        usage: dict[str, Any] | None = None
        extra: dict[str, Any] = {}
        engine: Engine | None = None

        def failed(error: str) -> PartResult:
            return part.result(text="".join(texts), error=error,
                               engine=engine.name if engine else "",
                               model=_model(engine) if engine else "",
                               seconds=time.monotonic() - began, attempts=attempts,
                               thumbnail=thumb, first_token_s=_since(began, first_token))

        while True:
            attempts += 1
            generation = self._generation  # which life of the engine this attempt talks to
            try:
                try:
                    engine = await self._ensure(handle)
                except EngineDied:
                    raise
                except EngineUnavailable as exc:
                    raise _Stop(Text(QT_TRANSLATE_NOOP("Messages", "The engine is not available: {why}"),
                                     why=exc.user_message)) from exc
                stream = engine.stream(request)
                async with contextlib.aclosing(stream):
                    slice_end = time.perf_counter() + YIELD_EVERY_S
                    async for chunk in stream:
                        if chunk.text:
                            if first_token is None:
                                first_token = time.monotonic()
                            texts.append(chunk.text)
                            self._emit(PartText(part, chunk.text))
                        if chunk.info:
                            if "waiting_s" in chunk.info:
                                self._emit(PartWaiting(part, float(chunk.info["waiting_s"])))
                            # What else the engine says about the answer (e.g. the CPU
                            # engine's line boxes) stays with the result.
                            extra.update((k, v) for k, v in chunk.info.items() if k != "waiting_s")
                        if chunk.finish_reason is not None:
                            finish = chunk.finish_reason
                            usage = chunk.usage
                        if time.perf_counter() > slice_end:
                            await asyncio.sleep(0)
                            slice_end = time.perf_counter() + YIELD_EVERY_S
                break
            except asyncio.CancelledError:
                raise
            except _Stop:
                raise
            except EngineDied as exc:
                restarted = await self._restart(exc, part, generation, handle)
                if restarted and not texts:
                    continue  # died before its first token: try the part again
                if not restarted:  # for good: keep this part's result, then stop the run
                    self._stop_after = (exc.user_message, part)
                return failed(exc.user_message)
            except Exception as exc:
                if self._generation != generation and not texts:
                    # The engine was restarted under this attempt (another part saw it die):
                    # whatever broke here broke with it. Try again on the new one.
                    continue
                if not isinstance(exc, EngineError):
                    raise
                spent = time.monotonic() - began
                if (texts or attempts >= self.retry.attempts or spent >= self.retry.budget_s
                        or not _retryable(exc)):
                    return failed(exc.user_message)
                log.info("%s: retrying after %s", part.label, exc)
                await asyncio.sleep(self.retry.backoff_s * attempts)
        assert engine is not None
        if usage and "repetition" in usage:
            extra["repetition"] = usage["repetition"]
        return part.result(text="".join(texts), finish=(finish or FinishReason.STOP).value,
                           engine=engine.name, model=_model(engine),
                           seconds=time.monotonic() - began, attempts=attempts, thumbnail=thumb,
                           first_token_s=_since(began, first_token), extra=extra)

    async def _restart(self, exc: EngineDied, part: Part | None, generation: int,
                       handle: EngineHandle | None = None) -> bool:
        """Start the engine again after its process died, once per run (the setting).
        Parts in flight see the same death: the first restarts it, the others (whose
        attempt began before that restart) just try again. True: try again."""
        async with self._restart_lock:
            if self._generation != generation:
                return True  # restarted since this attempt began
            if not self.restart_on_death or self._restarts >= 1:
                return False
            self._restarts += 1
            self._emit(EngineRestarted(exc.user_message, part))
            try:
                await (handle or self.engine).restart()
            except EngineError as again:
                raise _Stop(Text(QT_TRANSLATE_NOOP("Messages", "{why} Starting it again failed: {again}"),
                                 why=str(exc), again=again.user_message)) from again
            self._generation += 1
            return True

# ====================================================================== helpers (worker threads)

# A file's hash by (path, size, mtime): every Ctrl+R on a page of a big PDF would read the
# whole file again otherwise. Bounded; a changed file has another key.
_HASHES: dict[tuple[str, int, int], str] = {}
_HASHES_MAX = 256
_HASHES_LOCK = threading.Lock()  # sources are laid out in worker threads, several at once


def _file_hash_cached(path: Path) -> str:
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    with _HASHES_LOCK:
        digest = _HASHES.get(key)
    if digest is None:
        digest = file_hash(path)
        with _HASHES_LOCK:
            if len(_HASHES) >= _HASHES_MAX:
                _HASHES.pop(next(iter(_HASHES)))
            _HASHES[key] = digest
    return digest


def _handle(engine: EngineHandle | Engine) -> EngineHandle:
    return engine if hasattr(engine, "ensure") else FixedEngine(engine)  # type: ignore[arg-type,return-value]


def _source_hash(source: Source, doc: Document) -> str:
    if source.path is not None and source.path.is_file():
        return _file_hash_cached(source.path)
    if source.image is not None:
        buf = io.BytesIO()
        source.image.save(buf, "PNG", compress_level=1)
        return content_hash(buf.getvalue())
    if doc.path is not None and Path(doc.path).is_file():
        return _file_hash_cached(Path(doc.path))
    return ""


def _layout(source: Source, doc: Document
            ) -> tuple[str, list[tuple[int, list[tuple[Region | None, int]]]]]:
    """The source's content hash and, per page to run, its parts: one worker-thread hop
    for the whole source (a thread hop per page of a long PDF adds up)."""
    indices = _page_indices(source, doc)
    # A question's answer is never reused or stored: no need to hash a long file for it.
    digest = "" if source.question else _source_hash(source, doc)
    return digest, [(i, _page_parts(source, doc, i)) for i in indices]


def _page_indices(source: Source, doc: Document) -> list[int]:
    if source.pages is None:
        return list(range(doc.page_count))
    if isinstance(source.pages, str):
        return parse_pages(source.pages, doc.page_count)
    return [i for i in source.pages if 0 <= i < doc.page_count]


def _page_parts(source: Source, doc: Document, index: int) -> list[tuple[Region | None, int]]:
    options = source.page_options.get(index)
    rotation = options.rotation if options else 0
    if options and options.regions:
        return [(r, rotation) for r in options.regions]
    if source.region is not None:
        page = doc.pages[index]
        return [(source.region.to_region(*page.size), rotation)]
    return [(None, rotation)]


def _thumbnail_of(part: Part, image: Image.Image | None) -> bytes:
    from desktop_ocr.core.library.thumbnail import make_thumbnail

    try:
        if image is None:
            page = part.document.pages[part.page]
            image = page.render_region(part.region, scale=THUMBNAIL_SIDE * 2 / max(page.size),
                                       rotation=part.rotation, cache=False)
        return make_thumbnail(image, THUMBNAIL_SIDE)
    except Exception:  # noqa: BLE001 - a missing thumbnail must not fail a recognition
        log.info("no thumbnail for %s", part.label, exc_info=True)
        return b""


def _model(engine: Engine) -> str:
    return str(getattr(engine, "model", "") or "")


def _since(began: float, moment: float | None) -> float | None:
    return None if moment is None else moment - began


def _open_message(source: Source, reason: str) -> str:
    return reason if source.name in reason else Text(
        QT_TRANSLATE_NOOP("Messages", "Cannot open {name}: {why}"), name=source.name, why=reason)


def _source_failure(source: Source, message: str) -> PartResult:
    return PartResult(source=str(source.path) if source.path is not None else source.name,
                      source_kind=source.kind, error=message, origin="ocr")
