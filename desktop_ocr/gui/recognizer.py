"""Runs recognitions for the window: owns the engine, one asyncio task per run.

Everything slow happens off the GUI thread: opening documents, rendering crops for the
engine and QImage conversion in worker threads, engine I/O awaited through qasync.
Results come back as Qt signals on the GUI thread.

A run is either one image (`recognize`, e.g. a pasted screenshot) or the parts of a page
(`recognize_parts`: its regions in reading order, or the whole page); both emit
`started`, `chunk`..., then `finished`, `failed` or `cancelled`. A part's image is
rendered from the document at the engine's resolution just before it is sent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from desktop_ocr.core.contract import (
    DECODING,
    BadImage,
    Engine,
    EngineCrashed,
    EngineError,
    EngineUnavailable,
    FinishReason,
    Request,
    engine_title,
)
from desktop_ocr.core.documents import (
    OPEN_ERRORS,
    Document,
    PageError,
    PasswordRequired,
    WrongPassword,
    open_document,
)
from desktop_ocr.core.imaging import ImageError
from desktop_ocr.core.notifications import NotificationManager, Severity, user_message
from desktop_ocr.core.notifications import manager as default_manager
from desktop_ocr.core.settings import Settings
from desktop_ocr.core.tasks import build_request
from desktop_ocr.engines import choose_auto, create_engine
from desktop_ocr.engines.lmdeploy_server import ServerState, ServerStatus
from desktop_ocr.gui.doc_results import PartResult

log = logging.getLogger(__name__)

# Longest stretch the stream loop runs without giving the event loop a turn.
YIELD_EVERY_S = 0.004


def pil_to_qimage(img: Image.Image) -> QImage:
    """Copy an RGB Pillow image into a QImage (safe in a worker thread; QPixmap is not)."""
    rgb = img if img.mode == "RGB" else img.convert("RGB")
    data = rgb.tobytes("raw", "RGB")
    qimg = QImage(data, rgb.width, rgb.height, rgb.width * 3, QImage.Format.Format_RGB888)
    return qimg.copy()  # detach from `data`, which Python frees


@dataclass
class LoadedImage:
    """An image that came from the clipboard or a snip, not from a file."""

    path: Path  # a label shaped like a file name
    image: Image.Image
    qimage: QImage


@dataclass
class LoadedDocument:
    path: Path
    document: Document
    recognise: bool = False  # the caller asked to recognise it right away


# (file name, the last password was wrong) -> password, or None when the user cancels.
PasswordProvider = Callable[[str, bool], Awaitable[str | None]]


@dataclass
class Part:
    """One piece of a page run: a region (or the whole page) and how to get its text.

    `render` runs in a worker thread and returns the image for the engine; `text`, when
    set, is the answer already (the PDF's own text layer) and no engine is asked.
    """

    key: str
    label: str
    render: Callable[[], Image.Image] | None = None
    task: str | None = None
    text: Callable[[], str] | None = None
    meta: dict = field(default_factory=dict)


def open_checked(path: Path, password: str | None) -> Document:
    """Open a document; a one-page image is decoded now, so a damaged one is refused
    at once instead of failing later in the viewer."""
    doc = open_document(path, password)
    if doc.kind == "image" and doc.page_count == 1:
        try:
            doc.pages[0].render()
        except BaseException:
            doc.close()
            raise
    return doc


def open_error_message(exc: BaseException) -> str:
    if isinstance(exc, PageError) and isinstance(exc.__cause__, ImageError):
        return str(exc.__cause__)
    return str(exc)


@dataclass
class RunResult:
    label: str
    text: str
    finish: FinishReason | None
    seconds: float
    engine: str


class Recognizer(QObject):
    loaded = Signal(object)  # LoadedDocument
    loadFailed = Signal(str, str)  # path, message
    started = Signal(str)  # label
    chunk = Signal(str)
    finished = Signal(object)  # RunResult
    failed = Signal(str)  # message
    cancelled = Signal()
    engineChanged = Signal(str)  # title
    partStarted = Signal(object)  # Part
    partFinished = Signal(object)  # PartResult
    engineState = Signal(object)  # ServerStatus of the current engine (any engine, not only the local server)
    engineLog = Signal(str)  # one line of the local server's log

    def __init__(self, settings: Settings, parent: QObject | None = None,
                 notifications: NotificationManager | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.notifications = notifications or default_manager
        self._engine: Engine | None = None
        self._task: asyncio.Task | None = None
        self._load_task: asyncio.Task | None = None
        self._running = False
        self.engine_reason = ""
        # Set by "Retry with stronger repetition penalty" for one run; see make_request.
        self.penalty_retry: float | None = None
        self.last_repetition_penalty = DECODING.repetition_penalty
        self.password_provider: PasswordProvider | None = None
        self.engine_status = ServerStatus(ServerState.STOPPED, time.monotonic())
        self._start_task: asyncio.Task | None = None
        self._switch_lock: asyncio.Lock | None = None

    # ---------------------------------------------------------------- engine

    @property
    def engine(self) -> Engine | None:
        return self._engine

    def engine_title(self) -> str:
        name = self._engine.name if self._engine else self.settings.engine
        return engine_title(name)

    async def prepare(self) -> Engine:
        """Create (not start) the engine the settings ask for; probing a GPU can take a while."""
        if self._engine is None:
            name, why = self.settings.engine, ""
            try:
                if name == "auto":
                    name, why = await asyncio.to_thread(choose_auto, self.settings)
                engine = await asyncio.to_thread(create_engine, self.settings, name)
            except Exception as exc:
                self._set_status(ServerStatus(ServerState.FAILED, time.monotonic(), user_message(exc),
                                              exc if isinstance(exc, EngineError) else None))
                raise
            self._engine = self._attach(engine)
            self.engine_reason = why
            self._set_status(ServerStatus(ServerState.STOPPED, time.monotonic(), "not started"))
            self.engineChanged.emit(self.engine_title())
        return self._engine

    async def ensure_engine(self) -> Engine:
        """The engine, created and started (models loaded, server up)."""
        engine = await self.prepare()
        # A local server reports its own states (on_state); other engines get them from here.
        own = getattr(engine, "server", None) is None
        fresh = self.engine_status.state is not ServerState.READY
        if own and fresh:
            self._set_status(ServerStatus(ServerState.STARTING, time.monotonic(), f"starting {self.engine_title()}"))
        try:
            await engine.start()
        except asyncio.CancelledError:
            if own:
                self._set_status(ServerStatus(ServerState.STOPPED, time.monotonic(), "start cancelled"))
            raise
        except Exception as exc:
            if own:
                self._set_status(ServerStatus(ServerState.FAILED, time.monotonic(), user_message(exc),
                                              exc if isinstance(exc, EngineError) else None))
            raise
        if own and fresh:
            self._set_status(ServerStatus(ServerState.READY, time.monotonic(), f"{self.engine_title()} ready"))
        return engine

    # ---------------------------------------------------------------- engine control (engine panel)

    def _attach(self, engine: Engine) -> Engine:
        server = getattr(engine, "server", None)
        if server is not None and hasattr(server, "on_state"):
            # Both are called on the event loop's thread (the GUI thread under qasync).
            server.on_state = self._set_status
            server.on_log = self.engineLog.emit
        return engine

    def _set_status(self, status: ServerStatus) -> None:
        self.engine_status = status
        self.engineState.emit(status)

    def start_engine(self) -> asyncio.Task:
        """Start the current engine (creating it first if needed); one start at a time."""
        if self._start_task is None or self._start_task.done():
            self._start_task = asyncio.ensure_future(self.ensure_engine())
        return self._start_task

    async def stop_engine(self) -> None:
        """Cancel work and a start in progress, then stop the engine (awaited). Never raises."""
        self.cancel()
        for task in (self._task, self._start_task):
            if task is not None and not task.done():
                task.cancel()
            if task is not None:
                try:
                    await task
                except BaseException:  # noqa: B036 - cancelled on purpose; failures were reported
                    pass
        engine = self._engine
        if engine is not None:
            try:
                await engine.stop()
            except Exception as exc:  # the protocol says never, but a stop must not break the panel
                self.notifications.report(exc, "Stopping the engine failed")
            if getattr(engine, "server", None) is None:
                self._set_status(ServerStatus(ServerState.STOPPED, time.monotonic(), "stopped"))

    async def switch_engine(self, name: str | None = None) -> Engine:
        """Stop the current engine (awaited, so two servers never hold the GPU at once), then
        create `name` (or settings.engine again, to pick up changed settings). Not started."""
        if self._switch_lock is None:
            self._switch_lock = asyncio.Lock()
        async with self._switch_lock:
            await self.stop_engine()
            self._engine = None
            if name:
                self.settings.engine = name
            return await self.prepare()

    async def shutdown(self) -> None:
        self.cancel()
        if self._start_task is not None and not self._start_task.done():
            self._start_task.cancel()  # a server still loading must not delay quitting
        for task in (self._task, self._load_task, self._start_task):
            if task is not None:
                try:
                    await task
                except BaseException:  # noqa: B036 - shutting down, the error was reported already
                    pass
        if self._engine is not None:
            await self._engine.stop()

    # ---------------------------------------------------------------- work

    @property
    def busy(self) -> bool:
        return self._running

    def open_file(self, path: Path, recognise: bool = True) -> asyncio.Task:
        if self._load_task is not None and not self._load_task.done():
            self._load_task.cancel()
        self._load_task = asyncio.ensure_future(self._open(path, recognise))
        return self._load_task

    async def _open(self, path: Path, recognise: bool) -> None:
        password: str | None = None
        while True:
            try:
                doc = await asyncio.to_thread(open_checked, path, password)
                break
            except asyncio.CancelledError:
                raise
            except (PasswordRequired, WrongPassword) as exc:
                wrong = isinstance(exc, WrongPassword)
                if self.password_provider is None:
                    self._load_failed(path, f"Cannot open {path.name}: {exc}")
                    return
                password = await self.password_provider(path.name, wrong)
                if password is None:
                    # The core closed the PDF when it refused it: nothing stays open.
                    message = f"{path.name} was not opened (no password given)."
                    self.notifications.notify(message, Severity.INFO)
                    self.loadFailed.emit(str(path), message)
                    return
            except OPEN_ERRORS as exc:
                log.info("cannot open %s: %s", path, exc)
                self._load_failed(path, f"Cannot open {path.name}: {open_error_message(exc)}")
                return
            except Exception as exc:
                note = self.notifications.report(exc, f"Cannot open {path.name}")
                self.loadFailed.emit(str(path), note.message)
                return
        if doc.repaired:
            self.notifications.notify(
                f"{path.name} is damaged; it was repaired as far as possible and some pages "
                "or content may be missing.", Severity.WARNING, "\n".join(doc.warnings))
        self.loaded.emit(LoadedDocument(path, doc, recognise))

    def _load_failed(self, path: Path, message: str) -> None:
        note = self.notifications.notify(message, Severity.ERROR)
        self.loadFailed.emit(str(path), note.message)

    def make_request(self, image: Image.Image, label: str, task: str | None = None) -> Request:
        """The task preset's prompt and decoding, with the settings the user changed on top
        (and a stronger repetition penalty while retrying after a repetition loop)."""
        overrides = {"repetition_penalty": self.penalty_retry} if self.penalty_retry else None
        request = build_request(image, task or self.settings.task, language=self.settings.language,
                                settings=self.settings, overrides=overrides, label=label)
        self.last_repetition_penalty = request.repetition_penalty
        return request

    def recognize(self, image: Image.Image, label: str) -> asyncio.Task:
        """Recognise one image (a pasted screenshot, a snip) as one run."""
        self.cancel()
        self._task = asyncio.ensure_future(self._run(self.make_request(image, label)))
        return self._task

    def recognize_parts(self, parts: list[Part], label: str) -> asyncio.Task:
        """Recognise a page's parts in order, as one run: `partStarted` and
        `partFinished` around each, text streaming through `chunk`. A part that cannot
        be rendered or read fails alone; an engine that is unavailable ends the run."""
        self.cancel()
        self._task = asyncio.ensure_future(self._run_parts(list(parts), label))
        return self._task

    async def run_part(self, part: Part, on_chunk: Callable[[str], None] | None = None
                       ) -> PartResult:
        """Get one part's text: from its text layer, or rendered and sent to the engine.
        Raises EngineUnavailable/EngineCrashed (the run cannot go on) and CancelledError;
        anything else is returned as a failed PartResult."""
        task = part.task or self.settings.task
        if part.text is not None:
            try:
                text = await asyncio.to_thread(part.text)
            except OPEN_ERRORS as exc:
                return PartResult(part.key, part.label, source="pdf-text", task=task,
                                  error=str(exc))
            # A scanned page has no text layer: then OCR it, when the part allows.
            if text.strip() or part.render is None:
                if on_chunk is not None and text:
                    on_chunk(text)
                return PartResult(part.key, part.label, text, "pdf-text", task)
        try:
            image = await asyncio.to_thread(part.render)  # type: ignore[arg-type]
        except OPEN_ERRORS as exc:
            return PartResult(part.key, part.label, task=task, error=open_error_message(exc))
        engine = await self.ensure_engine()
        request = self.make_request(image, part.label, task)
        parts: list[str] = []
        finish: FinishReason | None = None
        try:
            stream = engine.stream(request)
            try:
                async for piece in stream:
                    if piece.text:
                        parts.append(piece.text)
                        if on_chunk is not None:
                            on_chunk(piece.text)
                    if piece.finish_reason is not None:
                        finish = piece.finish_reason
            finally:
                close = getattr(stream, "aclose", None)
                if close is not None:
                    await close()
        except (EngineUnavailable, EngineCrashed):
            raise
        except BadImage as exc:
            return PartResult(part.key, part.label, "".join(parts), task=task,
                              engine=self.engine_title(), error=exc.user_message)
        return PartResult(part.key, part.label, "".join(parts), "ocr", task,
                          self.engine_title(), str(finish or ""))

    async def _run_parts(self, parts: list[Part], label: str) -> None:
        self._running = True
        self.started.emit(label)
        began = time.perf_counter()
        results: list[PartResult] = []
        try:
            for part in parts:
                self.partStarted.emit(part)
                result = await self.run_part(part, self.chunk.emit)
                results.append(result)
                if not result.ok:
                    self.notifications.notify(f"{label}, {part.label}: {result.error}",
                                              Severity.ERROR)
                self.partFinished.emit(result)
        except asyncio.CancelledError:
            self._running = False
            self.cancelled.emit()
            return
        except Exception as exc:
            self._running = False
            note = self.notifications.report(exc, f"Recognising {label} failed")
            self.failed.emit(note.message)
            return
        finally:
            self._running = False
        finishes = [r.finish for r in results if r.finish]
        finish = FinishReason(finishes[-1]) if finishes else None
        if any(r.finish == FinishReason.LENGTH for r in results):
            finish = FinishReason.LENGTH
        text = "\n\n".join(r.text for r in results if r.ok)
        self.finished.emit(RunResult(label, text, finish, time.perf_counter() - began,
                                     self.engine_title()))

    async def _run(self, request: Request) -> None:
        self._running = True
        try:
            await self._stream(request)
        finally:
            self._running = False

    async def _stream(self, request: Request) -> None:
        self.started.emit(request.label)
        began = time.perf_counter()
        parts: list[str] = []
        finish: FinishReason | None = None
        try:
            engine = await self.ensure_engine()
            stream = engine.stream(request)
            try:
                slice_end = time.perf_counter() + YIELD_EVERY_S
                async for piece in stream:
                    if piece.text:
                        parts.append(piece.text)
                        self.chunk.emit(piece.text)
                    if piece.finish_reason is not None:
                        finish = piece.finish_reason
                    # Chunks that arrived together are handed over without the loop ever
                    # waiting, so a fast server could hold the GUI for a whole read buffer:
                    # let Qt paint and run its timers between slices.
                    if time.perf_counter() > slice_end:
                        await asyncio.sleep(0)
                        slice_end = time.perf_counter() + YIELD_EVERY_S
            finally:
                close = getattr(stream, "aclose", None)
                if close is not None:
                    await close()
        except asyncio.CancelledError:
            self._running = False
            self.cancelled.emit()
            return
        except Exception as exc:
            self._running = False
            note = self.notifications.report(exc, f"Recognising {request.label} failed")
            self.failed.emit(note.message)
            return
        self._running = False
        self.finished.emit(RunResult(request.label, "".join(parts), finish,
                                     time.perf_counter() - began, self.engine_title()))

    def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
