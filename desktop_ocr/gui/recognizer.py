"""Runs recognitions for the window: owns the engine, one asyncio task per run.

Everything slow happens off the GUI thread: image decoding and QImage conversion in
worker threads, engine I/O awaited through qasync. Results come back as Qt signals on
the GUI thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from desktop_ocr.core.imaging import load_image
from desktop_ocr.core.notifications import NotificationManager, user_message
from desktop_ocr.core.notifications import manager as default_manager
from desktop_ocr.core.settings import Settings
from desktop_ocr.engines import choose_auto, create_engine
from desktop_ocr.engines.base import Engine, EngineError, FinishReason, Request
from desktop_ocr.engines.lmdeploy_server import ServerState, ServerStatus

log = logging.getLogger(__name__)

# Longest stretch the stream loop runs without giving the event loop a turn.
YIELD_EVERY_S = 0.004
ENGINE_TITLES = {"cpu": "CPU (RapidOCR)", "lmdeploy": "InternVL3 (local LMDeploy)", "openai": "Remote server"}


def pil_to_qimage(img: Image.Image) -> QImage:
    """Copy an RGB Pillow image into a QImage (safe in a worker thread; QPixmap is not)."""
    rgb = img if img.mode == "RGB" else img.convert("RGB")
    data = rgb.tobytes("raw", "RGB")
    qimg = QImage(data, rgb.width, rgb.height, rgb.width * 3, QImage.Format.Format_RGB888)
    return qimg.copy()  # detach from `data`, which Python frees


@dataclass
class LoadedImage:
    path: Path
    image: Image.Image
    qimage: QImage


@dataclass
class RunResult:
    label: str
    text: str
    finish: FinishReason | None
    seconds: float
    engine: str


class Recognizer(QObject):
    loaded = Signal(object)  # LoadedImage
    loadFailed = Signal(str, str)  # path, message
    started = Signal(str)  # label
    chunk = Signal(str)
    finished = Signal(object)  # RunResult
    failed = Signal(str)  # message
    cancelled = Signal()
    engineChanged = Signal(str)  # title
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
        self.engine_status = ServerStatus(ServerState.STOPPED, time.monotonic())
        self._start_task: asyncio.Task | None = None
        self._switch_lock: asyncio.Lock | None = None

    # ---------------------------------------------------------------- engine

    @property
    def engine(self) -> Engine | None:
        return self._engine

    def engine_title(self) -> str:
        name = self._engine.name if self._engine else self.settings.engine
        return ENGINE_TITLES.get(name, name)

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

    async def _ensure_engine(self) -> Engine:
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
            self._start_task = asyncio.ensure_future(self._ensure_engine())
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
        try:
            image = await asyncio.to_thread(load_image, path)
            qimage = await asyncio.to_thread(pil_to_qimage, image)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            note = self.notifications.report(exc, f"Cannot open {path.name}")
            self.loadFailed.emit(str(path), note.message)
            return
        item = LoadedImage(path, image, qimage)
        self.loaded.emit(item)
        if recognise:
            self.recognize(image, path.name)

    def recognize(self, image: Image.Image, label: str) -> asyncio.Task:
        self.cancel()
        request = Request(
            image=image,
            task=self.settings.task,
            max_tokens=self.settings.max_tokens,
            repetition_penalty=self.settings.repetition_penalty,
            max_dynamic_patch=self.settings.max_dynamic_patch,
            label=label,
        )
        self._task = asyncio.ensure_future(self._run(request))
        return self._task

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
            engine = await self._ensure_engine()
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
