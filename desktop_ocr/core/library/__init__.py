"""The results library: every recognised part, kept in SQLite and searchable in any script.

Every `core.results.PartResult` the pipeline finishes is written here the moment it exists
(stdlib `sqlite3`, WAL), with its thumbnail; batches are *runs*, so that after a crash or
`kill -9` the next start finds the runs that never finished and resumes them without
recognising finished parts again. Qt-free.

API (`Library` is synchronous and bound to the thread that opened it; `AsyncLibrary` runs
the same calls on one dedicated thread and awaits them, for the GUI and the event loop):

    lib = Library.open(path=None, keep_days=0, max_entries=0, check=False)  # never raises
    lib.notice                   # "" or one line for the user (damaged / locked / unwritable)
    lib.add(result) -> int       # stores every field; returns the new id (result unchanged)
    lib.add_many(results) -> list[int]   # one transaction
    lib.get(id) -> PartResult | None;  lib.get_many(ids) -> list[PartResult]
    lib.update_tables(id, tables) -> bool;  lib.update_text(id, text) -> bool
    lib.recent(limit=50, offset=0, before_id=None) -> list[PartResult]   # newest first
    lib.search(query, limit=50, before_id=None) -> list[Hit]   # Hit(result, snippet, spans)
    lib.find(reuse_key) -> PartResult | None   # newest reusable result with that exact key
    lib.delete(ids) -> int;  lib.clear() -> int;  lib.count() -> int
    lib.prune(keep_days=None, max_entries=None) -> int;  lib.set_retention(days, entries)
    lib.start_run(kind, plan, total=0) -> run_id;  lib.update_run(run_id, plan=, total=)
    lib.finish_run(run_id, state);  lib.get_run(run_id) -> Run | None;  lib.runs(limit)
    lib.unfinished_runs() -> list[Run]   # "running" runs whose process is gone
    lib.resume_run(run_id) -> Run | None  # this process carries it on (same id)
    lib.run_results(run_id) -> list[PartResult]   # in the order they were stored
    lib.close()
    make_thumbnail(pil_image, max_side=160) -> bytes   # JPEG; any thread

    aio = AsyncLibrary(path=None, keep_days=0, max_entries=0, on_notice=None)  # check beside
    await aio.add(result); await aio.search("发票"); ...   # same names, awaited
    await aio.run(lambda lib: ...)   # anything else, on the library thread
    aio.submit(lambda lib: ...) -> concurrent.futures.Future   # without an event loop
    await aio.close()  (or aio.close_sync() at exit)

Search is a case-insensitive substring match, the same for every script and length. A
query is split at spaces into terms (double quotes keep a phrase together) and every term
must match the file name, the text, the edited table cells or the follow-up questions asked
about the result and their answers (`asked`, schema 3). Terms of 3+ characters use an
FTS5 trigram index. Trigrams cannot answer 1-2 characters (发票, 合计, "in"), so a second,
contentless FTS5 index holds each result's distinct 1- and 2-character grams of letters and
digits (hex-encoded, so no tokenizer can split or fold them): a short term is one lookup
there. Only a short term holding punctuation falls back to a scan. Results come newest
first, streamed from the index in rowid order, so a common term stops after `limit` hits.

A damaged database (not a database, truncated, malformed pages) is renamed aside
(`library.sqlite3.damaged-<time>`, its -wal/-shm with it) and a fresh one is started; a
database another program keeps locked past the busy timeout is left alone and this session
uses a fresh one beside it; a folder that cannot be written gives a memory-only library.
Each sets `notice`. The files are readable by the user only (0600), the app's folder 0700.

Modules: schema.py (migrations, triggers), search.py (terms, grams, snippets, the search
SQL), store.py (Library, Hit, Run, recovery), aio.py (AsyncLibrary), thumbnail.py.
"""

from __future__ import annotations

from desktop_ocr.core.library.aio import AsyncLibrary
from desktop_ocr.core.library.schema import MIGRATIONS, SCHEMA_VERSION
from desktop_ocr.core.library.search import grams, query_terms, readable_text, snippet
from desktop_ocr.core.library.store import (
    ENV_VAR,
    FILE_NAME,
    NOT_REUSABLE,
    RUN_STATES,
    Hit,
    Library,
    Run,
    default_path,
    quick_check,
)
from desktop_ocr.core.library.thumbnail import make_thumbnail

__all__ = ["AsyncLibrary", "ENV_VAR", "FILE_NAME", "Hit", "Library", "MIGRATIONS",
           "NOT_REUSABLE", "RUN_STATES", "Run", "SCHEMA_VERSION", "default_path", "grams",
           "make_thumbnail", "query_terms", "quick_check", "readable_text", "snippet"]
