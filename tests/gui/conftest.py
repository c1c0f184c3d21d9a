"""GUI fixtures: a qasync loop on the pytest-qt QApplication, isolated settings, and the
engine stand-ins (the stand-in server, the fake lmdeploy) for the engine panel."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import qasync

from desktop_ocr.core.notifications import NotificationManager
from desktop_ocr.gui.eventloop import install_asyncgen_hooks

# The engine tests' helpers (stand-in launcher, fake lmdeploy paths): one copy, not two.
sys.path.append(str(Path(__file__).resolve().parent.parent / "engines"))
from engine_helpers import Standin, start_standin  # noqa: E402


@pytest.fixture
def aloop(qapp):
    """An asyncio loop driven by Qt, as in the app: qtbot.wait*() runs its callbacks."""
    loop = qasync.QEventLoop(qapp, already_running=True)
    # Plain threads instead of qasync's QThreadExecutor, so teardown can join them.
    executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="test-worker")
    loop.set_default_executor(executor)
    asyncio.set_event_loop(loop)
    restore_hooks = install_asyncgen_hooks(loop)
    yield loop
    # Let cancelled tasks finish their cleanup, then detach the loop.
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    deadline = 200
    while pending and deadline:
        qapp.processEvents()
        pending = [t for t in pending if not t.done()]
        deadline -= 1
    executor.shutdown(wait=True, cancel_futures=True)
    restore_hooks()
    asyncio.events._set_running_loop(None)
    asyncio.set_event_loop(None)


@pytest.fixture
def notes():
    """A private notification manager that records what the user would see."""
    manager = NotificationManager()
    seen: list = []
    manager.subscribe(seen.append)
    manager.seen = seen  # type: ignore[attr-defined]
    return manager


@pytest.fixture
def app_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings file and server log under tmp_path, never in the user's own folders."""
    monkeypatch.setenv("DESKTOP_OCR_CONFIG", str(tmp_path / "config" / "settings.json"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path


@pytest.fixture
def standin() -> Iterator[Standin]:
    server = start_standin()
    yield server
    server.stop()


@pytest.fixture(scope="session", autouse=True)
def _empty_clipboard_at_exit():
    """Tests read and write the clipboard; whatever it holds at exit would be deleted by
    Qt's exit handlers after Python has shut down, which crashes the offscreen platform
    (SIGSEGV in Shiboken::Object::destroy). Empty it while Python still runs."""
    yield
    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.instance() is not None:
        QGuiApplication.clipboard().clear()
