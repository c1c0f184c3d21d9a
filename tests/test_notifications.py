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
    (KeyError("zzz"), "Something went wrong: 'zzz'."),
])
def test_user_messages_are_plain(exc, words):
    assert words in user_message(exc)
    assert "Traceback" not in user_message(exc)


def test_the_log_file_is_named_only_when_this_process_writes_one(monkeypatch, tmp_path):
    import desktop_ocr.core.logs as logs

    # GIVEN no log is written (a CLI run that could not open one)
    monkeypatch.setattr(logs, "_active", None)
    # THEN an unexpected error does not send the user to a log that does not exist
    assert "log" not in user_message(KeyError("zzz"))
    # GIVEN a log file is written THEN the message says where it is
    monkeypatch.setattr(logs, "_active", tmp_path / "x.log")
    assert f"Details are in the log file ({tmp_path / 'x.log'})" in user_message(KeyError("zzz"))


def test_log_files_are_private(monkeypatch, tmp_path):
    import logging
    import stat

    import desktop_ocr.core.logs as logs

    # GIVEN an old log left world-readable by an earlier version
    monkeypatch.setattr(logs, "log_dir", lambda: tmp_path)
    old = tmp_path / "t.log"
    old.write_text("old\n")
    old.chmod(0o644)
    # WHEN logging starts and the log rotates
    path = setup_logging(name="t.log")
    handler = next(h for h in logging.getLogger().handlers
                   if getattr(h, "baseFilename", "") == str(path))
    try:
        logging.getLogger("desktop_ocr.test").warning("secret file name")
        handler.doRollover()
        logging.getLogger("desktop_ocr.test").warning("after rotation")
        handler.flush()
        # THEN the log and the rotated one are readable by the user only
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE((tmp_path / "t.log.1").stat().st_mode) == 0o600
        assert "after rotation" in path.read_text()
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
