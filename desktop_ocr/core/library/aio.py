"""`AsyncLibrary`: the library on one dedicated thread, every call awaited."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from desktop_ocr.core.library.store import _MALFORMED, Hit, Library, Run, quick_check
from desktop_ocr.core.results import PartResult, ReuseKey
from desktop_ocr.core.tables import Table

log = logging.getLogger(__name__)

T = TypeVar("T")


class AsyncLibrary:
    """The library on one dedicated thread: every call is queued there and awaited, so
    neither the GUI thread nor the event loop ever waits on SQLite. The constructor returns
    at once; the database opens on the thread, before any queued call runs.

    `check`: SQLite's quick_check runs on a read-only connection of its own thread after
    the open (2-3 s for 100,000 results), so calls are served meanwhile; damage it finds
    is dealt with on the library thread as if a call had met it.
    `on_notice` is called on the library thread (emit a Qt signal from it, or use
    `loop.call_soon_threadsafe`)."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, keep_days: int = 0,
                 max_entries: int = 0, busy_timeout: float = 5.0, check: bool = True,
                 on_notice: Callable[[str], None] | None = None) -> None:
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="library")
        self._lib: Library | None = None
        self._closed = False
        self._checker: threading.Thread | None = None
        self._opened = self._executor.submit(self._open, path, check, dict(
            keep_days=keep_days, max_entries=max_entries, busy_timeout=busy_timeout,
            on_notice=on_notice))

    def _open(self, path: Any, check: bool, kwargs: dict[str, Any]) -> None:
        self._lib = Library.open(path, check=False, **kwargs)
        if check and self._lib.path is not None:
            self._checker = threading.Thread(target=self._check, args=(self._lib.path,),
                                             name="library-check", daemon=True)
            self._checker.start()

    def _check(self, path: Path) -> None:
        problem = quick_check(path)
        if not problem or self._closed:
            return
        log.warning("library: quick_check of %s: %s", path, problem)

        def recover() -> None:
            lib = self._lib
            if lib is not None and lib.path == path:  # not replaced meanwhile
                lib._recover(sqlite3.DatabaseError(_MALFORMED))

        try:
            self._executor.submit(recover)
        except RuntimeError:  # closed meanwhile
            pass

    @property
    def notice(self) -> str:
        return self._lib.notice if self._lib is not None else ""

    @property
    def path(self) -> Path | None:
        return self._lib.path if self._lib is not None else None

    def submit(self, work: Callable[[Library], T]) -> concurrent.futures.Future[T]:
        """Run `work(library)` on the library thread; a concurrent Future (no event loop)."""
        if self._closed:
            raise RuntimeError("the library is closed")

        def call() -> T:
            self._opened.result()
            assert self._lib is not None
            return work(self._lib)

        return self._executor.submit(call)

    async def run(self, work: Callable[[Library], T]) -> T:
        """Run `work(library)` on the library thread and await its result."""
        return await asyncio.wrap_future(self.submit(work))

    async def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return await self.run(lambda lib: getattr(lib, name)(*args, **kwargs))

    async def ready(self) -> AsyncLibrary:
        await asyncio.wrap_future(self._opened)
        return self

    async def add(self, result: PartResult) -> int:
        return await self._call("add", result)

    async def get(self, rid: int) -> PartResult | None:
        return await self._call("get", rid)

    async def get_many(self, ids: Iterable[int]) -> list[PartResult]:
        return await self._call("get_many", list(ids))

    async def update_tables(self, rid: int, tables: Sequence[Table] | None) -> bool:
        return await self._call("update_tables", rid, tables)

    async def update_extra(self, rid: int, extra: dict[str, Any]) -> bool:
        return await self._call("update_extra", rid, extra)

    async def update_text(self, rid: int, text: str) -> bool:
        return await self._call("update_text", rid, text)

    async def recent(self, limit: int = 50, offset: int = 0,
                     before_id: int | None = None) -> list[PartResult]:
        return await self._call("recent", limit, offset, before_id)

    async def search(self, query: str, limit: int = 50,
                     before_id: int | None = None) -> list[Hit]:
        return await self._call("search", query, limit, before_id)

    async def find(self, key: ReuseKey) -> PartResult | None:
        return await self._call("find", key)

    async def delete(self, ids: Iterable[int]) -> int:
        return await self._call("delete", list(ids))

    async def clear(self) -> int:
        return await self._call("clear")

    async def count(self) -> int:
        return await self._call("count")

    async def prune(self, keep_days: int | None = None, max_entries: int | None = None) -> int:
        return await self._call("prune", keep_days, max_entries)

    async def set_retention(self, keep_days: int, max_entries: int) -> int:
        return await self._call("set_retention", keep_days, max_entries)

    async def start_run(self, kind: str, plan: dict[str, Any], total: int = 0) -> int:
        return await self._call("start_run", kind, plan, total)

    async def update_run(self, run_id: int, *, plan: dict[str, Any] | None = None,
                         total: int | None = None) -> bool:
        return await self._call("update_run", run_id, plan=plan, total=total)

    async def resume_run(self, run_id: int) -> Run | None:
        return await self._call("resume_run", run_id)

    async def finish_run(self, run_id: int, state: str) -> bool:
        return await self._call("finish_run", run_id, state)

    async def get_run(self, run_id: int) -> Run | None:
        return await self._call("get_run", run_id)

    async def runs(self, limit: int = 50) -> list[Run]:
        return await self._call("runs", limit)

    async def unfinished_runs(self) -> list[Run]:
        return await self._call("unfinished_runs")

    async def run_results(self, run_id: int) -> list[PartResult]:
        return await self._call("run_results", run_id)

    def _close(self, lib: Library) -> None:
        if self._checker is not None:
            self._checker.join()
        lib.close()

    async def close(self) -> None:
        """Close the database on its thread, then stop the thread (queued calls finish)."""
        if self._closed:
            return
        fut = self.submit(self._close)
        self._closed = True
        await asyncio.wrap_future(fut)
        self._executor.shutdown(wait=False)

    def close_sync(self, timeout: float | None = 10.0) -> None:
        """Close from code without an event loop (at exit): waits for queued calls."""
        if self._closed:
            return
        fut = self.submit(self._close)
        self._closed = True
        try:
            fut.result(timeout)
        except Exception as exc:
            log.warning("library: close: %s", exc)
        self._executor.shutdown(wait=False)


