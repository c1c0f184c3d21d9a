"""The library's schema: an ordered list of migrations (PRAGMA user_version) and the
triggers that keep both search indexes in step with the results table."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable

from desktop_ocr.core.library.search import asked_text

log = logging.getLogger(__name__)


def _script(db: sqlite3.Connection, sql: str) -> None:
    """Run statements one by one. (`executescript` would COMMIT the migration's open
    transaction first, so a crash mid-migration could leave half a schema.)"""
    pending = ""
    for line in sql.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            db.execute(pending)
            pending = ""
    if pending.strip():
        db.execute(pending)


def _v1_tables(db: sqlite3.Connection) -> None:
    _script(db, """
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            created REAL NOT NULL,
            finished REAL,
            state TEXT NOT NULL DEFAULT 'running',
            kind TEXT NOT NULL DEFAULT '',
            plan TEXT NOT NULL DEFAULT '{}',
            total INTEGER NOT NULL DEFAULT 0,
            pid INTEGER NOT NULL DEFAULT 0,
            pid_started REAL NOT NULL DEFAULT 0
        );
        CREATE TABLE results (
            id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: newest first is id order
            created REAL NOT NULL,
            run_id INTEGER,
            source TEXT NOT NULL,
            source_kind TEXT NOT NULL,
            source_hash TEXT NOT NULL,
            name TEXT NOT NULL,
            page INTEGER NOT NULL,
            page_count INTEGER NOT NULL,
            region TEXT,  -- JSON [x, y, w, h] fractions; NULL = the whole page
            region_label TEXT NOT NULL,
            region_id TEXT NOT NULL,
            rotation INTEGER NOT NULL,
            task TEXT NOT NULL,
            prompt TEXT NOT NULL,
            engine TEXT NOT NULL,
            model TEXT NOT NULL,
            finish TEXT NOT NULL,
            error TEXT NOT NULL,
            origin TEXT NOT NULL,
            seconds REAL NOT NULL,
            first_token_s REAL,
            attempts INTEGER NOT NULL,
            reuse TEXT NOT NULL,  -- hash of the ReuseKey
            extra TEXT NOT NULL,  -- JSON object
            tables TEXT,  -- JSON list of Table.to_dict(); NULL = parse them from the text
            cells TEXT NOT NULL DEFAULT '',  -- the edited tables' cell text, for search
            text TEXT NOT NULL
        );
        CREATE INDEX results_reuse ON results(reuse);
        CREATE INDEX results_run ON results(run_id);
        CREATE INDEX results_created ON results(created);
        -- thumbnails apart, so scanning results never reads image bytes
        CREATE TABLE thumbnails (id INTEGER PRIMARY KEY, jpeg BLOB NOT NULL);
        CREATE TRIGGER results_thumbnail_ad AFTER DELETE ON results BEGIN
            DELETE FROM thumbnails WHERE id = old.id;
        END;
    """)


def _trigram_available(db: sqlite3.Connection) -> bool:
    try:
        db.execute("CREATE VIRTUAL TABLE temp._probe USING fts5(x, tokenize='trigram')")
        db.execute("DROP TABLE temp._probe")
        return True
    except sqlite3.OperationalError:
        return False


# The v2 triggers, as shipped (the v2 migration must keep making exactly these).
_V2_DELETE_OLD = """
    INSERT INTO search_text(search_text, rowid, name, text, cells)
        VALUES ('delete', old.id, old.name, old.text, old.cells);
    INSERT INTO search_grams(search_grams, rowid, grams)
        VALUES ('delete', old.id, grams(old.name, old.text, old.cells));"""
_V2_INSERT_NEW = """
    INSERT INTO search_text(rowid, name, text, cells) VALUES (new.id, new.name, new.text, new.cells);
    INSERT INTO search_grams(rowid, grams) VALUES (new.id, grams(new.name, new.text, new.cells));"""
_V2_TRIGGERS = {
    "results_search_ai": f"CREATE TRIGGER results_search_ai AFTER INSERT ON results BEGIN {_V2_INSERT_NEW} END",
    "results_search_ad": f"CREATE TRIGGER results_search_ad AFTER DELETE ON results BEGIN {_V2_DELETE_OLD} END",
    "results_search_au": ("CREATE TRIGGER results_search_au AFTER UPDATE OF name, text, cells ON results"
                          f" BEGIN {_V2_DELETE_OLD} {_V2_INSERT_NEW} END"),
}

# Since v3 the follow-up questions and answers about a result (`asked`) are searched too.
_DELETE_OLD = """
    INSERT INTO search_text(search_text, rowid, name, text, cells, asked)
        VALUES ('delete', old.id, old.name, old.text, old.cells, old.asked);
    INSERT INTO search_grams(search_grams, rowid, grams)
        VALUES ('delete', old.id, grams(old.name, old.text, old.cells, old.asked));"""
_INSERT_NEW = """
    INSERT INTO search_text(rowid, name, text, cells, asked)
        VALUES (new.id, new.name, new.text, new.cells, new.asked);
    INSERT INTO search_grams(rowid, grams)
        VALUES (new.id, grams(new.name, new.text, new.cells, new.asked));"""
# The triggers keep both search indexes in step with `results`; every connection that
# writes needs the `grams` function (Library registers it).
_SEARCH_TRIGGERS = {
    "results_search_ai": f"CREATE TRIGGER results_search_ai AFTER INSERT ON results BEGIN {_INSERT_NEW} END",
    "results_search_ad": f"CREATE TRIGGER results_search_ad AFTER DELETE ON results BEGIN {_DELETE_OLD} END",
    "results_search_au": ("CREATE TRIGGER results_search_au AFTER UPDATE OF name, text, cells, asked"
                          f" ON results BEGIN {_DELETE_OLD} {_INSERT_NEW} END"),
}


def _v2_search(db: sqlite3.Connection) -> None:
    """The search indexes, filled from the rows already there."""
    if not _trigram_available(db):
        log.warning("library: SQLite %s has no FTS5 trigram tokenizer (3.34+); search scans",
                    sqlite3.sqlite_version)
        return
    _script(db, """
        CREATE VIRTUAL TABLE search_text USING fts5(
            name, text, cells, content='results', content_rowid='id',
            tokenize='trigram case_sensitive 0');
        CREATE VIRTUAL TABLE search_grams USING fts5(
            grams, content='', detail='none', columnsize=0, tokenize='ascii');
    """)
    for trigger in _V2_TRIGGERS.values():
        db.execute(trigger)
    _script(db, """
        INSERT INTO search_text(search_text) VALUES ('rebuild');
        INSERT INTO search_grams(rowid, grams) SELECT id, grams(name, text, cells) FROM results;
    """)


def _v3_asked(db: sqlite3.Connection) -> None:
    """`asked`: the follow-up questions and answers kept with a result, searched like its
    text; filled from the conversations already stored, both indexes rebuilt with it."""
    has_fts = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'search_text'").fetchone()
    if has_fts:
        for name in _SEARCH_TRIGGERS:
            db.execute(f"DROP TRIGGER IF EXISTS {name}")
        db.execute("DROP TABLE search_text")
        db.execute("DROP TABLE search_grams")
    db.execute("ALTER TABLE results ADD COLUMN asked TEXT NOT NULL DEFAULT ''")
    rows = db.execute("SELECT id, extra FROM results WHERE instr(extra, '\"exchanges\"')").fetchall()
    for rid, extra in rows:
        try:
            asked = asked_text(json.loads(extra))
        except ValueError:
            continue
        if asked:
            db.execute("UPDATE results SET asked = ? WHERE id = ?", (asked, rid))
    if not has_fts:
        return  # no trigram tokenizer (v2 said so): search scans `asked` too
    _script(db, """
        CREATE VIRTUAL TABLE search_text USING fts5(
            name, text, cells, asked, content='results', content_rowid='id',
            tokenize='trigram case_sensitive 0');
        CREATE VIRTUAL TABLE search_grams USING fts5(
            grams, content='', detail='none', columnsize=0, tokenize='ascii');
    """)
    for trigger in _SEARCH_TRIGGERS.values():
        db.execute(trigger)
    _script(db, """
        INSERT INTO search_text(search_text) VALUES ('rebuild');
        INSERT INTO search_grams(rowid, grams) SELECT id, grams(name, text, cells, asked) FROM results;
    """)


# Ordered: MIGRATIONS[k] takes a database from schema version k to k + 1 (PRAGMA
# user_version). Append, never edit one that shipped.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_v1_tables, _v2_search, _v3_asked]
SCHEMA_VERSION = len(MIGRATIONS)

