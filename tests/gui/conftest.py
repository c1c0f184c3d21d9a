"""GUI fixtures: a qasync loop on the pytest-qt QApplication, isolated settings."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
import qasync

from desktop_ocr.core.notifications import NotificationManager


@pytest.fixture
def aloop(qapp):
    """An asyncio loop driven by Qt, as in the app: qtbot.wait*() runs its callbacks."""
    loop = qasync.QEventLoop(qapp, already_running=True)
    # Plain threads instead of qasync's QThreadExecutor, so teardown can join them.
    executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="test-worker")
    loop.set_default_executor(executor)
    asyncio.set_event_loop(loop)
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
