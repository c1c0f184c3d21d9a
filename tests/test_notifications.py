"""Every error reaches one place: from the main thread, worker threads and asyncio tasks."""

from __future__ import annotations

import asyncio
import errno
import logging
import threading

import pytest

from desktop_ocr.core.contract import EngineUnavailable
from desktop_ocr.core.imaging import ImageError
from desktop_ocr.core.logs import log_file, setup_logging
from desktop_ocr.core.notifications import NotificationManager, Severity, user_message


@pytest.fixture
def manager():
    m = NotificationManager()
    m.seen = []
    m.subscribe(m.seen.append)
    yield m
    m.uninstall()


def test_thread_exception_reaches_the_manager_and_the_log(manager):
    path = setup_logging()
    manager.install()

    def boom():
        raise RuntimeError("worker exploded")

    t = threading.Thread(target=boom, name="ocr-worker")
    t.start()
    t.join()
    assert len(manager.seen) == 1
    note = manager.seen[0]
    assert note.severity is Severity.ERROR and "worker exploded" in note.message
    assert "ocr-worker" in note.message
    assert "Traceback" in note.details
    for handler in logging.getLogger("desktop_ocr").handlers:
        handler.flush()
    assert path == log_file() and "worker exploded" in path.read_text()


def test_asyncio_task_exception_reaches_the_manager(manager):
    async def main():
        loop = asyncio.get_running_loop()
        manager.install(loop)

        async def fail():
            raise ValueError("task failed")

        task = loop.create_task(fail())
        await asyncio.sleep(0.01)
        del task  # the loop reports "exception was never retrieved" when the task is collected
        import gc

        gc.collect()
        await asyncio.sleep(0)

    asyncio.run(main())
    assert any("task failed" in n.message for n in manager.seen)


def test_a_broken_subscriber_does_not_hide_the_message(manager):
    manager.subscribe(lambda note: 1 / 0)
    manager.notify("hello")
    assert [n.message for n in manager.seen] == ["hello"]


@pytest.mark.parametrize("exc, words", [
    (EngineUnavailable("The server is not running.", hint="Start it."), "not running. Start it."),
    (ImageError("The file is empty (0 bytes)."), "empty"),
    (OSError(errno.ENOSPC, "No space left on device"), "disk is full"),
    (FileNotFoundError(2, "No such file", "/x/y.png"), "/x/y.png"),
    (MemoryError(), "memory"),
    (KeyError("zzz"), "log file"),
])
def test_user_messages_are_plain(exc, words):
    assert words in user_message(exc)
    assert "Traceback" not in user_message(exc)
