"""The store: `Library`, its records (`Hit`, `Run`) and how it deals with a damaged, locked
or unwritable database (see the package docstring)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import platformdirs

from desktop_ocr import APP_ID
from desktop_ocr.core.library.schema import _SEARCH_TRIGGERS, MIGRATIONS, SCHEMA_VERSION
from desktop_ocr.core.library.search import (
    _cells_text,
    _contains,
    asked_text,
    grams,
    query_terms,
    readable_text,
    search_ids,
    snippet,
)
from desktop_ocr.core.results import PartResult, ReuseKey
from desktop_ocr.core.tables import Table

log = logging.getLogger(__name__)

ENV_VAR = "DESKTOP_OCR_LIBRARY"
FILE_NAME = "library.sqlite3"
RUN_STATES = ("running", "done", "cancelled", "failed")
# Finish reasons of answers that are not worth reusing: asking again could do better.
NOT_REUSABLE = ("", "cancelled", "abort", "error")
MEMORY = ":memory:"

T = TypeVar("T")

# SQLite's primary result codes (exc.sqlite_errorcode & 0xff) that decide a recovery.
_BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB = 5, 6, 8, 10, 11, 13, 14, 26
_DAMAGED = (_CORRUPT, _NOTADB)
_BLOCKED = (_BUSY, _LOCKED)
_UNWRITABLE = (_READONLY, _IOERR, _FULL, _CANTOPEN, 3)  # 3: SQLITE_PERM


def default_path() -> Path:
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override)
    return Path(platformdirs.user_data_dir(APP_ID, appauthor=False)) / FILE_NAME


# ====================================================================== records

@dataclass
class Hit:
    """One search hit: the stored result and a short piece of its text around the match."""

    result: PartResult
    snippet: str
    spans: list[tuple[int, int]] = field(default_factory=list)  # matched ranges in snippet


@dataclass
class Run:
    """A batch: what the pipeline planned and how far it got."""

    id: int
    kind: str
    state: str
    created: float
    finished: float | None
    plan: dict[str, Any]
    total: int = 0  # parts planned (0 = not known)
    done: int = 0  # results stored that worked
    failed: int = 0  # results stored that failed
    pid: int = 0


_FIELDS = ("id", "created", "run_id", "source", "source_kind", "source_hash", "page",
           "page_count", "region", "region_label", "region_id", "rotation", "task", "prompt",
           "engine", "model", "finish", "error", "origin", "seconds", "first_token_s",
           "attempts", "extra", "tables", "text")
_SELECT = ("SELECT " + ", ".join(f"r.{c}" for c in _FIELDS)
           + ", t.jpeg FROM results r LEFT JOIN thumbnails t ON t.id = r.id")


def _reuse_hash(key: ReuseKey) -> str:
    blob = json.dumps(dataclasses.astuple(key), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]


def _row_to_result(row: sqlite3.Row | tuple) -> PartResult:
    (rid, created, run_id, source, kind, shash, page, page_count, region, region_label,
     region_id, rotation, task, prompt, engine, model, finish, error, origin, seconds,
     first_token_s, attempts, extra, tables, text, jpeg) = row
    return PartResult(
        source=source, source_kind=kind, source_hash=shash, page=page, page_count=page_count,
        region=tuple(json.loads(region)) if region is not None else None,
        region_label=region_label, region_id=region_id, rotation=rotation, task=task,
        prompt=prompt, engine=engine, model=model, text=text, finish=finish, error=error,
        origin=origin,
        tables=[Table.from_dict(t) for t in json.loads(tables)] if tables is not None else None,
        seconds=seconds, first_token_s=first_token_s, attempts=attempts, created=created,
        thumbnail=bytes(jpeg) if jpeg is not None else b"", id=rid, run_id=run_id,
        extra=json.loads(extra) if extra else {})


def _code(exc: sqlite3.Error) -> int:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:  # Python < 3.11 or an error not from SQLite: read the message
        msg = str(exc).lower()
        if "not a database" in msg:
            return _NOTADB
        if "malformed" in msg:
            return _CORRUPT
        if "locked" in msg or "busy" in msg:
            return _BUSY
        return 0
    return code & 0xFF


def _stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


def _process_started(pid: int) -> float:
    try:
        import psutil

        return psutil.Process(pid).create_time()
    except Exception:
        return 0.0


def quick_check(path: Path) -> str:
    """"" when SQLite's quick_check finds `path` sound, else what is wrong (one line).
    Uses its own read-only connection: it may run on any thread beside the library's."""
    try:
        db = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=5.0)
        try:
            answer = db.execute("PRAGMA quick_check(1)").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error as exc:
        return "its pages are damaged" if _code(exc) in _DAMAGED else ""
    return "" if answer == "ok" else " ".join(str(answer).split())


# ====================================================================== the library

class Library:
    """The store. One connection, used by the thread that opened it only (see AsyncLibrary)."""

    def __init__(self, db: sqlite3.Connection | None, path: Path | None, *, keep_days: int = 0,
                 max_entries: int = 0, busy_timeout: float = 5.0,
                 on_notice: Callable[[str], None] | None = None) -> None:
        self._db: sqlite3.Connection = db  # type: ignore[assignment]  # set by open()
        self.path = path  # the file in use; None = memory only
        self.requested: Path | None = path  # the file asked for (differs after a fallback)
        self.notice = ""
        self.notices: list[str] = []
        self.on_notice = on_notice
        self.keep_days = keep_days
        self.max_entries = max_entries
        self.busy_timeout = busy_timeout
        self.fts = False
        self._count = 0
        self._last_prune = 0.0

    # ---------------------------------------------------------------- opening

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None, *, keep_days: int = 0,
             max_entries: int = 0, busy_timeout: float = 5.0, check: bool = False,
             on_notice: Callable[[str], None] | None = None) -> Library:
        """Open (or create) the library at `path` (default: `default_path()`).

        Never raises for a bad file: a damaged one is renamed aside, a locked one left alone,
        an unwritable folder gives a memory-only library; `notice` then says which.
        `check` runs SQLite's quick_check first (it reads the whole file: 2-3 s for 100,000
        results) so that damage deep in the file is found now, not by a later call; damage
        a call meets is set aside the same way. AsyncLibrary runs the check beside it.
        """
        target = default_path() if path is None else Path(path)
        memory = str(target) == MEMORY
        lib = cls(None, None if memory else target, keep_days=keep_days,
                  max_entries=max_entries, busy_timeout=busy_timeout, on_notice=on_notice)
        if memory:
            lib._db = lib._connect(None)
        else:
            lib._db = lib._open_file(target, check)
        lib._after_open()
        return lib

    def _open_file(self, target: Path, check: bool) -> sqlite3.Connection:
        try:
            self._prepare_folder(target)
            return self._connect(target, check=check)
        except sqlite3.Error as exc:
            code = _code(exc)
            if code in _DAMAGED:
                return self._replace_damaged(target, exc)
            if code in _BLOCKED:
                return self._beside_locked(target)
            return self._memory_only(target, exc)
        except _NewerSchema as exc:
            side = self._side_path(target, "newer-version")
            self._tell(f"The results library {target} was made by a newer version of "
                       f"Desktop OCR ({exc}); this session keeps its results in {side.name}.")
            return self._try_side(side)
        except OSError as exc:
            return self._memory_only(target, exc)

    def _prepare_folder(self, target: Path) -> None:
        folder = target.parent
        ours = target == default_path() and ENV_VAR not in os.environ
        if not folder.exists():
            folder.mkdir(parents=True, mode=0o700)
            ours = True
        if ours:
            os.chmod(folder, 0o700)
        if not target.exists():
            # Created here, not by SQLite, so it is private from its first byte.
            os.close(os.open(target, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
        os.chmod(target, 0o600)

    def _connect(self, target: Path | None, *, check: bool = False) -> sqlite3.Connection:
        db = sqlite3.connect(MEMORY if target is None else str(target),
                             timeout=self.busy_timeout, isolation_level=None)
        try:
            db.create_function("grams", -1, grams, deterministic=True)
            db.create_function("contains", 2, _contains, deterministic=True)
            if target is not None:
                # Reading the header first: a file that is not a database fails here.
                db.execute("PRAGMA journal_mode=WAL").fetchone()
                db.execute("PRAGMA synchronous=NORMAL")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise _NewerSchema(f"schema {version}, this version knows {SCHEMA_VERSION}")
            if version < SCHEMA_VERSION:
                self._migrate(db, version)
            if check and target is not None:
                problems = db.execute("PRAGMA quick_check(1)").fetchone()[0]
                if problems != "ok":
                    log.warning("library: quick_check of %s: %s", target, problems)
                    raise sqlite3.DatabaseError(_MALFORMED)
            for suffix in ("-wal", "-shm"):
                side = Path(f"{target}{suffix}") if target is not None else None
                if side is not None and side.exists():
                    os.chmod(side, 0o600)
            self.fts = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'search_grams'"
                                  ).fetchone() is not None
        except BaseException:
            db.close()
            raise
        return db

    @staticmethod
    def _migrate(db: sqlite3.Connection, version: int) -> None:
        if version == 0:
            # Only takes effect before the first table: lets prune/clear give space back.
            db.execute("PRAGMA auto_vacuum=INCREMENTAL")
        db.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while we waited for the lock.
            version = db.execute("PRAGMA user_version").fetchone()[0]
            for step in range(version, SCHEMA_VERSION):
                log.info("library: migrating schema %d -> %d", step, step + 1)
                MIGRATIONS[step](db)
                db.execute(f"PRAGMA user_version={step + 1}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _after_open(self) -> None:
        try:
            self._count = self._db.execute("SELECT count(*) FROM results").fetchone()[0]
            if self.keep_days or self.max_entries:
                self.prune()
        except sqlite3.Error as exc:
            # Damage the quick check did not see (check=False): recover now, not later.
            if _code(exc) not in (*_DAMAGED, *_BLOCKED, *_UNWRITABLE):
                raise
            self._recover(exc)
            self._count = self._db.execute("SELECT count(*) FROM results").fetchone()[0]

    # ---------------------------------------------------------------- recovery

    def _tell(self, message: str) -> None:
        log.warning("library: %s", message)
        self.notice = message
        self.notices.append(message)
        if self.on_notice is not None:
            try:
                self.on_notice(message)
            except Exception:
                log.exception("library: notice callback failed")

    def _side_path(self, target: Path, why: str) -> Path:
        side = target.with_name(f"{target.stem}.{why}-{_stamp()}{target.suffix}")
        n = 1
        while side.exists():
            n += 1
            side = target.with_name(f"{target.stem}.{why}-{_stamp()}-{n}{target.suffix}")
        return side

    def _replace_damaged(self, target: Path, exc: BaseException) -> sqlite3.Connection:
        kept = target.with_name(f"{target.name}.damaged-{_stamp()}")
        n = 1
        while kept.exists():
            n += 1
            kept = target.with_name(f"{target.name}.damaged-{_stamp()}-{n}")
        try:
            for suffix in ("", "-wal", "-shm", "-journal"):
                src = Path(f"{target}{suffix}")
                if src.exists():
                    os.replace(src, Path(f"{kept}{suffix}"))
        except OSError as move_exc:
            return self._memory_only(target, move_exc)
        why = "it is not a database file" if _code(exc) == _NOTADB else "its pages are damaged"
        self._tell(f"The results library {target} could not be read ({why}); it was kept as "
                   f"{kept.name} and a new, empty library was started.")
        try:
            self._prepare_folder(target)
            self.path = target
            return self._connect(target)
        except (sqlite3.Error, OSError) as again:
            return self._memory_only(target, again)

    def _beside_locked(self, target: Path) -> sqlite3.Connection:
        # Renaming a file another process has open would split it from its -wal file.
        side = self._side_path(target, "while-locked")
        self._tell(f"The results library {target} is locked by another program; this session "
                   f"keeps its results in {side.name} beside it.")
        return self._try_side(side)

    def _try_side(self, side: Path) -> sqlite3.Connection:
        try:
            self._prepare_folder(side)
            self.path = side
            return self._connect(side)
        except (sqlite3.Error, OSError) as exc:
            return self._memory_only(side, exc)

    def _memory_only(self, target: Path, exc: BaseException) -> sqlite3.Connection:
        why = getattr(exc, "strerror", None) or str(exc)
        self._tell(f"The results library cannot be kept in {target} ({why}); results of "
                   f"this session are kept in memory only.")
        self.path = None
        return self._connect(None)

    def _recover(self, exc: sqlite3.Error) -> None:
        """The database failed under a call: carry on with a fresh one (see module doc)."""
        code = _code(exc)
        target = self.path
        try:
            self._db.close()
        except sqlite3.Error:
            pass
        if target is None:
            self._db = self._connect(None)
        elif code in _DAMAGED:
            self._db = self._replace_damaged(target, exc)
        elif code in _BLOCKED:
            self._db = self._beside_locked(target)
        else:
            self._db = self._memory_only(target, exc)
        self._count = self._db.execute("SELECT count(*) FROM results").fetchone()[0]

    def _guard(self, work: Callable[[sqlite3.Connection], T]) -> T:
        try:
            return work(self._db)
        except sqlite3.Error as exc:
            code = _code(exc)
            if code not in (*_DAMAGED, *_BLOCKED, *_UNWRITABLE):
                raise  # a mistake in a query, not a bad database
            log.warning("library: %s (code %d)", exc, code)
            self._recover(exc)
        return work(self._db)

    def _tx(self, work: Callable[[sqlite3.Connection], T]) -> T:
        def run(db: sqlite3.Connection) -> T:
            db.execute("BEGIN IMMEDIATE")
            try:
                out = work(db)
            except BaseException:
                if db.in_transaction:
                    try:
                        db.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                raise
            db.execute("COMMIT")
            return out

        return self._guard(run)

    def close(self) -> None:
        try:
            self._db.close()
        except sqlite3.Error:
            pass

    # ---------------------------------------------------------------- results

    def add(self, result: PartResult) -> int:
        """Store `result` (every field; its `id` is ignored). Returns the new row id."""
        return self.add_many([result])[0]

    def add_many(self, results: Sequence[PartResult]) -> list[int]:
        """Store several results in one transaction (an import, a benchmark's corpus)."""
        rows = [self._row(r) for r in results]

        def work(db: sqlite3.Connection) -> list[int]:
            return [self._insert(db, row, r.thumbnail) for row, r in zip(rows, results, strict=True)]

        ids = self._tx(work) if rows else []
        self._count += len(ids)
        self._prune_after_add()
        return ids

    @staticmethod
    def _row(result: PartResult) -> tuple:
        return (result.created, result.run_id, result.source, result.source_kind,
                result.source_hash, result.name, result.page, result.page_count,
                json.dumps(list(result.region)) if result.region is not None else None,
                result.region_label, result.region_id, result.rotation, result.task,
                result.prompt, result.engine, result.model, result.finish, result.error,
                result.origin, result.seconds, result.first_token_s, result.attempts,
                _reuse_hash(result.reuse_key()),
                json.dumps(result.extra, ensure_ascii=False, default=str),
                _tables_json(result.tables), _cells_text(result.tables), result.text,
                asked_text(result.extra))

    @staticmethod
    def _insert(db: sqlite3.Connection, row: tuple, thumbnail: bytes) -> int:
        cur = db.execute(
            "INSERT INTO results (created, run_id, source, source_kind, source_hash, name,"
            " page, page_count, region, region_label, region_id, rotation, task, prompt,"
            " engine, model, finish, error, origin, seconds, first_token_s, attempts,"
            " reuse, extra, tables, cells, text, asked)"
            " VALUES (" + ", ".join("?" * len(row)) + ")", row)
        rid = int(cur.lastrowid)
        if thumbnail:
            db.execute("INSERT INTO thumbnails (id, jpeg) VALUES (?, ?)", (rid, thumbnail))
        return rid

    def get(self, rid: int) -> PartResult | None:
        found = self.get_many([rid])
        return found[0] if found else None

    def get_many(self, ids: Iterable[int]) -> list[PartResult]:
        """Results by id, in the order asked (missing ids left out)."""
        ids = [int(i) for i in ids]
        if not ids:
            return []
        rows: dict[int, PartResult] = {}
        for chunk in _chunks(ids, 500):
            q = _SELECT + f" WHERE r.id IN ({', '.join('?' * len(chunk))})"
            for row in self._guard(lambda db, q=q, chunk=chunk: db.execute(q, chunk).fetchall()):
                rows[row[0]] = _row_to_result(row)
        return [rows[i] for i in ids if i in rows]

    def update_tables(self, rid: int, tables: Sequence[Table] | None) -> bool:
        """The grids as the user edited them (None: parse them from the text again)."""
        def work(db: sqlite3.Connection) -> bool:
            cur = db.execute("UPDATE results SET tables = ?, cells = ? WHERE id = ?",
                             (_tables_json(tables), _cells_text(tables), int(rid)))
            return cur.rowcount > 0

        return self._tx(work)

    def update_extra(self, rid: int, extra: dict[str, Any]) -> bool:
        """What was learnt about a result after it was stored (a second reading's doubts,
        boxes and codes; a conversation about its image): its `extra`, replaced whole."""
        blob = json.dumps(extra, ensure_ascii=False, default=str)
        return self._tx(lambda db: db.execute(
            "UPDATE results SET extra = ?, asked = ? WHERE id = ?",
            (blob, asked_text(extra), int(rid))).rowcount > 0)

    def update_text(self, rid: int, text: str) -> bool:
        return self._tx(lambda db: db.execute("UPDATE results SET text = ? WHERE id = ?",
                                              (text, int(rid))).rowcount > 0)

    def recent(self, limit: int = 50, offset: int = 0,
               before_id: int | None = None) -> list[PartResult]:
        """Newest first. Page with `before_id` (the last id shown) so that results added
        meanwhile do not shift the pages; `offset` works too."""
        where, params = ("WHERE r.id < ?", [int(before_id)]) if before_id is not None else ("", [])
        q = f"{_SELECT} {where} ORDER BY r.id DESC LIMIT ? OFFSET ?"
        rows = self._guard(lambda db: db.execute(q, [*params, int(limit), int(offset)]).fetchall())
        return [_row_to_result(r) for r in rows]

    def count(self) -> int:
        return self._guard(lambda db: db.execute("SELECT count(*) FROM results").fetchone()[0])

    def search(self, query: str, limit: int = 50, before_id: int | None = None) -> list[Hit]:
        """Results whose file name, text, edited cells or follow-up questions and answers
        hold every term of `query`, newest first (see the module docstring for how). An
        empty query lists the newest."""
        terms = query_terms(query)
        if not terms:
            return [Hit(r, *snippet(readable_text(r), []))
                    for r in self.recent(limit, before_id=before_id)]
        ids = self._guard(lambda db: search_ids(db, terms, int(limit), before_id, self.fts))
        hits = []
        for r in self.get_many(ids):
            text = readable_text(r)
            if not any(t in text.lower() for t in terms):
                asked = asked_text(r.extra)
                if any(t in r.text.lower() for t in terms):
                    text = r.text  # the hit is in the markup itself
                elif any(t in asked.lower() for t in terms):
                    text = asked  # in a question asked about it, or its answer
            hits.append(Hit(r, *snippet(text, terms)))
        return hits

    def find(self, key: ReuseKey) -> PartResult | None:
        """The newest stored result for exactly this question that worked (no error, and an
        answer that is not cut off by a cancel, an abort or an error), or None."""
        if not key.source_hash:
            return None
        marks = ", ".join("?" * len(NOT_REUSABLE))
        q = (f"SELECT r.id FROM results r WHERE r.reuse = ? AND r.error = '' "
             f"AND r.finish NOT IN ({marks}) ORDER BY r.id DESC LIMIT 1")
        row = self._guard(lambda db: db.execute(q, (_reuse_hash(key), *NOT_REUSABLE)).fetchone())
        if row is None:
            return None
        found = self.get(row[0])
        # A hash collision must not hand back another question's answer.
        return found if found is not None and found.reuse_key() == key else None

    def delete(self, ids: Iterable[int]) -> int:
        ids = [int(i) for i in ids]

        def work(db: sqlite3.Connection) -> int:
            n = 0
            for chunk in _chunks(ids, 500):
                n += db.execute(f"DELETE FROM results WHERE id IN ({', '.join('?' * len(chunk))})",
                                chunk).rowcount
            return n

        n = self._tx(work) if ids else 0
        self._count = max(0, self._count - n)
        return n

    def clear(self) -> int:
        """Delete every result and every run that is not running; give the space back."""
        def work(db: sqlite3.Connection) -> int:
            n = db.execute("SELECT count(*) FROM results").fetchone()[0]
            if self.fts:
                # Dropping the triggers' work wholesale: faster than one delete per row.
                db.execute("INSERT INTO search_text(search_text) VALUES ('delete-all')")
                db.execute("INSERT INTO search_grams(search_grams) VALUES ('delete-all')")
                db.execute("DROP TRIGGER results_search_ad")
                db.execute("DELETE FROM results")
                db.execute(_SEARCH_TRIGGERS["results_search_ad"])
            else:
                db.execute("DELETE FROM results")
            db.execute("DELETE FROM thumbnails")
            db.execute("DELETE FROM runs WHERE state != 'running'")
            return n

        n = self._tx(work)
        self._count = 0
        self._reclaim(full=True)
        return n

    # ---------------------------------------------------------------- retention

    def set_retention(self, keep_days: int, max_entries: int) -> int:
        self.keep_days, self.max_entries = max(0, int(keep_days)), max(0, int(max_entries))
        return self.prune()

    def prune(self, keep_days: int | None = None, max_entries: int | None = None) -> int:
        """Delete results older than `keep_days` days and all but the newest `max_entries`
        (0 = no limit; None = the library's setting). Results of runs still running are
        kept: a resume needs them. Returns how many were deleted."""
        days = self.keep_days if keep_days is None else keep_days
        most = self.max_entries if max_entries is None else max_entries
        keep = ("(run_id IS NULL OR run_id NOT IN (SELECT id FROM runs WHERE state = 'running'))")

        def work(db: sqlite3.Connection) -> int:
            n = 0
            if days > 0:
                n += db.execute(f"DELETE FROM results WHERE created < ? AND {keep}",
                                (time.time() - days * 86400.0,)).rowcount
            if most > 0:
                n += db.execute(f"DELETE FROM results WHERE id IN (SELECT id FROM results WHERE "
                                f"{keep} ORDER BY id DESC LIMIT -1 OFFSET ?)", (most,)).rowcount
            if n:
                db.execute("DELETE FROM runs WHERE state != 'running' AND id NOT IN "
                           "(SELECT run_id FROM results WHERE run_id IS NOT NULL)")
            return n

        n = self._tx(work) if (days > 0 or most > 0) else 0
        self._last_prune = time.monotonic()
        if n:
            self._count = max(0, self._count - n)
            self._reclaim(full=False)
        return n

    def _prune_after_add(self) -> None:
        # Cheap: the entry cap is checked against a running count, the age at most hourly.
        if (self.max_entries and self._count > self.max_entries) or (
                self.keep_days and time.monotonic() - self._last_prune > 3600):
            self.prune()

    def _reclaim(self, full: bool) -> None:
        def work(db: sqlite3.Connection) -> None:
            if full and self.path is not None:
                db.execute("VACUUM")  # a cleared history leaves no old pages in the file
            else:
                db.execute("PRAGMA incremental_vacuum")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

        try:
            self._guard(work)
        except sqlite3.Error as exc:  # busy readers elsewhere: space comes back later
            log.info("library: could not reclaim space now: %s", exc)

    # ---------------------------------------------------------------- runs

    def start_run(self, kind: str, plan: dict[str, Any], total: int = 0) -> int:
        """A batch begins: `plan` is what the pipeline needs to resume it (JSON-able)."""
        pid = os.getpid()
        row = (time.time(), kind, json.dumps(plan, ensure_ascii=False, default=str), int(total),
               pid, _process_started(pid))
        return self._tx(lambda db: int(db.execute(
            "INSERT INTO runs (created, state, kind, plan, total, pid, pid_started)"
            " VALUES (?, 'running', ?, ?, ?, ?, ?)", (row[0], *row[1:])).lastrowid))

    def update_run(self, run_id: int, *, plan: dict[str, Any] | None = None,
                   total: int | None = None) -> bool:
        sets, params = [], []
        if plan is not None:
            sets.append("plan = ?")
            params.append(json.dumps(plan, ensure_ascii=False, default=str))
        if total is not None:
            sets.append("total = ?")
            params.append(int(total))
        if not sets:
            return False
        return self._tx(lambda db: db.execute(f"UPDATE runs SET {', '.join(sets)} WHERE id = ?",
                                              (*params, int(run_id))).rowcount > 0)

    def resume_run(self, run_id: int) -> Run | None:
        """Take over an unfinished run: it is this process's now (no longer offered by
        `unfinished_runs`) and goes on with the same id. Its stored results are in
        `run_results`; `find` answers the parts that finished."""
        pid = os.getpid()
        changed = self._tx(lambda db: db.execute(
            "UPDATE runs SET state = 'running', finished = NULL, pid = ?, pid_started = ?"
            " WHERE id = ?", (pid, _process_started(pid), int(run_id))).rowcount)
        return self.get_run(run_id) if changed else None

    def finish_run(self, run_id: int, state: str) -> bool:
        if state not in RUN_STATES or state == "running":
            raise ValueError(f"a run finishes as one of {RUN_STATES[1:]}, not {state!r}")
        return self._tx(lambda db: db.execute(
            "UPDATE runs SET state = ?, finished = ? WHERE id = ?",
            (state, time.time(), int(run_id))).rowcount > 0)

    _RUN_SELECT = ("SELECT u.id, u.kind, u.state, u.created, u.finished, u.plan, u.total,"
                   " u.pid, u.pid_started,"
                   " (SELECT count(*) FROM results r WHERE r.run_id = u.id AND r.error = ''),"
                   " (SELECT count(*) FROM results r WHERE r.run_id = u.id AND r.error != '')"
                   " FROM runs u")

    def get_run(self, run_id: int) -> Run | None:
        row = self._guard(lambda db: db.execute(self._RUN_SELECT + " WHERE u.id = ?",
                                                (int(run_id),)).fetchone())
        return _row_to_run(row) if row else None

    def runs(self, limit: int = 50) -> list[Run]:
        rows = self._guard(lambda db: db.execute(self._RUN_SELECT + " ORDER BY u.id DESC LIMIT ?",
                                                 (int(limit),)).fetchall())
        return [_row_to_run(r) for r in rows]

    def unfinished_runs(self) -> list[Run]:
        """Runs still marked running whose process is gone (crashed, killed): to resume.
        A run of a process that is still alive (the CLI next to the window) is not listed."""
        rows = self._guard(lambda db: db.execute(
            self._RUN_SELECT + " WHERE u.state = 'running' ORDER BY u.id").fetchall())
        out = []
        for row in rows:
            pid, started = row[7], row[8]
            alive = pid and started and abs(_process_started(pid) - started) < 1.0
            if not alive:
                out.append(_row_to_run(row))
        return out

    def run_results(self, run_id: int) -> list[PartResult]:
        rows = self._guard(lambda db: db.execute(_SELECT + " WHERE r.run_id = ? ORDER BY r.id",
                                                 (int(run_id),)).fetchall())
        return [_row_to_result(r) for r in rows]


class _NewerSchema(Exception):
    pass


_MALFORMED = "database disk image is malformed"




def _row_to_run(row: tuple) -> Run:
    rid, kind, state, created, finished, plan, total, pid, _started, done, failed = row
    return Run(id=rid, kind=kind, state=state, created=created, finished=finished,
               plan=json.loads(plan) if plan else {}, total=total, done=done, failed=failed,
               pid=pid)


def _tables_json(tables: Sequence[Table] | None) -> str | None:
    if tables is None:
        return None
    return json.dumps([t.to_dict() for t in tables], ensure_ascii=False)


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for k in range(0, len(items), size):
        yield items[k:k + size]


