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
from desktop_ocr.core.notifications import NotificationManager
from desktop_ocr.core.notifications import manager as default_manager
from desktop_ocr.core.settings import Settings
from desktop_ocr.engines import choose_auto, create_engine
from desktop_ocr.engines.base import Engine, FinishReason, Request

log = logging.getLogger(__name__)

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
            if name == "auto":
                name, why = await asyncio.to_thread(choose_auto, self.settings)
            self._engine = await asyncio.to_thread(create_engine, self.settings, name)
            self.engine_reason = why
            self.engineChanged.emit(self.engine_title())
        return self._engine

    async def _ensure_engine(self) -> Engine:
        engine = await self.prepare()
        await engine.start()
        return engine

    async def shutdown(self) -> None:
        self.cancel()
        for task in (self._task, self._load_task):
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
                async for piece in stream:
                    if piece.text:
                        parts.append(piece.text)
                        self.chunk.emit(piece.text)
                    if piece.finish_reason is not None:
                        finish = piece.finish_reason
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
