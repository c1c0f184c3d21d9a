from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget

from desktop_ocr.core.contract import Chunk, FinishReason


def drop_files(widget: QWidget, paths: list[Path]) -> bool:
    """Drag `paths` onto `widget` and drop them, as a file manager would. Returns accepted."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = QPointF(widget.width() / 2, widget.height() / 2)
    enter = QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, drop)
    return drop.isAccepted()


def shut_down(win, qtbot, aloop) -> None:
    """Stop a window's runs and its engine before pytest-qt closes and deletes it."""
    win.runs.cancel()
    qtbot.waitUntil(lambda: not win.runs.busy, timeout=10_000)
    task = aloop.create_task(win.engines.shutdown())
    qtbot.waitUntil(task.done, timeout=10_000)


def wait_run(qtbot, win, timeout: int = 60_000):
    """Wait for the window's run to finish; returns (RunInfo, RunSummary)."""
    with qtbot.waitSignal(win.runs.finished, timeout=timeout) as blocker:
        pass
    return blocker.args


class ReplayEngine:
    """An engine that answers with the given pieces, one per turn of the event loop (the
    engine is no part of what is tested here; the run through the pipeline is)."""

    model = "replay"
    max_concurrency = 1

    def __init__(self, pieces: list[str], *, delay: float = 0.0, name: str = "openai") -> None:
        self.pieces = pieces
        self.delay = delay  # seconds per piece (a slow server)
        self.name = name
        self.requests: list = []

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def health(self):
        return None

    async def stream(self, request):
        self.requests.append(request)
        for piece in self.pieces:
            await asyncio.sleep(self.delay)
            yield Chunk(piece)
        yield Chunk("", FinishReason.STOP)
