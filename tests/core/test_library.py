"""The results library: every field kept, search in Chinese and English, migrations,
damaged and locked files, permissions, retention, reuse, runs, and the async facade."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import os
import random
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from desktop_ocr.core import library as libmod
from desktop_ocr.core.library import SCHEMA_VERSION, AsyncLibrary, Library, make_thumbnail, store
from desktop_ocr.core.results import PartResult
from desktop_ocr.core.tables import Table

ROOT = Path(__file__).resolve().parents[2]


def _result(text: str = "text", **kw) -> PartResult:
    kw.setdefault("source", "/scans/invoice.pdf")
    kw.setdefault("source_hash", "a" * 64)
    return PartResult(text=text, **kw)


@pytest.fixture
def lib(tmp_path: Path):
    library = Library.open(tmp_path / "library.sqlite3")
    yield library
    library.close()


def _ids(hits) -> list[int]:
    return [h.result.id for h in hits]


# ====================================================================== storing

def test_every_field_round_trips(lib):
    # GIVEN a result with every field set to something other than its default
    table = Table.from_grid([["品名", "金额"], ["苹果", "12.50"]], header_rows=1, caption="明细")
    run_id = lib.start_run("batch", {"inputs": ["/scans/invoice.pdf"]}, total=3)
    original = PartResult(
        source="/scans/发票 March.pdf", source_kind="file", source_hash="f" * 64, page=3,
        page_count=7, region=(0.123456789, 0.2, 0.5, 0.3333333333333), region_label="Region 2",
        region_id="r-17", rotation=90, task="table", prompt="Read the table", engine="lmdeploy",
        model="OpenGVLab/InternVL3-8B", text="| 品名 | 金额 |\n|---|---|\n| 苹果 | 12.5 |",
        finish="length", error="", origin="ocr", tables=[table], seconds=12.25,
        first_token_s=0.75, attempts=2, created=1_700_000_000.125, thumbnail=b"\xff\xd8jpeg",
        run_id=run_id, extra={"repetition": {"cut": 120}, "turns": ["谁?"]})
    # WHEN it is stored and read back
    rid = lib.add(original)
    back = lib.get(rid)
    # THEN every field is as it was (the id is the library's; tables compare by content)
    assert back is not None and back.id == rid and original.id is None
    mine = original.to_dict(thumbnail=True)
    theirs = back.to_dict(thumbnail=True)
    assert theirs.pop("id") == rid and mine.pop("id") is None
    assert theirs == mine
    assert back.region == original.region  # exact floats, not rounded
    assert back.reuse_key() == original.reuse_key()


def test_defaults_round_trip_and_missing_is_none(lib):
    # GIVEN a result with only defaults (a whole page, no tables, no first token time)
    rid = lib.add(PartResult(source="Clipboard image 1", source_kind="paste"))
    back = lib.get(rid)
    # THEN the optional fields come back as None / empty, and an unknown id gives None
    assert back.region is None and back.tables is None and back.first_token_s is None
    assert back.thumbnail == b"" and back.extra == {} and back.run_id is None
    assert lib.get(rid + 1000) is None


def test_updates_keep_edited_grids_and_text(lib):
    # GIVEN a stored table result
    rid = lib.add(_result("| a | b |\n|---|---|\n| 1 | 2 |", task="table"))
    # WHEN the user edits the grid and the text
    edited = Table.from_grid([["a", "b"], ["1", "合计 3"]], header_rows=1)
    assert lib.update_tables(rid, [edited])
    assert lib.update_text(rid, "new text")
    # THEN both are stored, and updating an unknown id says so
    back = lib.get(rid)
    assert [t.to_dict() for t in back.tables] == [edited.to_dict()]
    assert back.text == "new text"
    assert not lib.update_text(rid + 99, "x") and not lib.update_tables(rid + 99, None)


def test_database_is_wal_and_private(tmp_path, monkeypatch):
    # GIVEN no library yet, in the default place (the platform data dir)
    monkeypatch.delenv("DESKTOP_OCR_LIBRARY")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    old = os.umask(0o022)
    try:
        # WHEN it is opened and written
        lib = Library.open()
        lib.add(_result("private"))
        path = lib.path
        # THEN it is in the data dir, in WAL mode, and only its owner can read it
        assert path == tmp_path / "xdg" / "desktop-ocr" / "library.sqlite3"
        other = sqlite3.connect(path)
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        other.close()
        for name in ("library.sqlite3", "library.sqlite3-wal", "library.sqlite3-shm"):
            assert stat.S_IMODE((path.parent / name).stat().st_mode) == 0o600, name
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        lib.close()
    finally:
        os.umask(old)


def test_existing_loose_permissions_are_tightened(tmp_path):
    # GIVEN a library file someone made world-readable
    path = tmp_path / "library.sqlite3"
    Library.open(path).close()
    os.chmod(path, 0o644)
    # WHEN it is opened again THEN it is private again
    Library.open(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# ====================================================================== search

ZH = ["增值税专用发票", "合计金额为人民币", "开票日期二〇二四年", "购买方名称", "销售方地址电话",
      "货物或应税劳务", "规格型号", "单位数量单价", "税率税额", "价税合计大写"]
EN = ["Invoice number", "TOTAL AMOUNT DUE", "Payment terms: 30 days", "Bill to", "Ship to",
      "Quantity", "Unit price", "Subtotal", "Tax (6%)", "Thank you for your business"]


def test_search_finds_chinese_two_character_words_and_english_prefixes(lib):
    # GIVEN a Chinese invoice, an English receipt and a mixed page
    zh = lib.add(_result("增值税专用发票\n合计金额：¥1,234.00\n价税合计（大写）壹仟", source="/s/zh.png"))
    en = lib.add(_result("RECEIPT\nInvoice No. 4711\nTOTAL 12.50", source="/s/en.png"))
    mixed = lib.add(_result("发票 Invoice 合计 Total", source="/s/mixed.png"))
    # WHEN searched with 1-, 2- and 3+-character terms in both scripts
    # THEN each finds exactly the results holding it, newest first, whatever the case
    assert _ids(lib.search("发票")) == [mixed, zh]
    assert _ids(lib.search("合计")) == [mixed, zh]
    assert _ids(lib.search("价税合计")) == [zh]
    assert _ids(lib.search("税")) == [zh]
    assert _ids(lib.search("in")) == [mixed, en]  # a 2-letter prefix of Invoice
    assert _ids(lib.search("I")) == [mixed, en]  # receIpt, Invoice
    assert _ids(lib.search("INVOICE")) == [mixed, en]
    assert _ids(lib.search("total")) == [mixed, en]
    assert _ids(lib.search("12")) == [en]  # 12.50; "1,234" holds no "12"
    assert _ids(lib.search("4711")) == [en]
    assert _ids(lib.search("发票 total")) == [mixed]  # every term must match
    assert _ids(lib.search('"No. 47"')) == [en]  # a quoted phrase with punctuation
    assert _ids(lib.search("¥1")) == [zh]  # a short term with punctuation: scanned
    assert _ids(lib.search("zh.png")) == [zh]  # the file name is searched too
    assert lib.search("收据") == [] and lib.search("xyz") == []


def test_snippets_show_the_hit(lib):
    # GIVEN a long text with the word far from its start
    text = "头" * 300 + "合计金额 ¥88" + "尾" * 300
    lib.add(_result(text))
    # WHEN searched
    [hit] = lib.search("合计")
    # THEN the snippet is short, on one line, marked cut at both ends, and spans mark the hit
    assert len(hit.snippet) <= 82 and "\n" not in hit.snippet
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert [hit.snippet[a:b] for a, b in hit.spans] == ["合计"]


def test_search_follows_edits_and_deletes(lib):
    # GIVEN a stored result
    rid = lib.add(_result("first draft 草稿"))
    other = lib.add(_result("unrelated"))
    # WHEN its text is edited, its grid edited, then another deleted
    lib.update_text(rid, "final version 定稿")
    lib.update_tables(rid, [Table.from_grid([["发票号", "NX-9"]])])
    lib.delete([other])
    # THEN search sees the new words, no longer the old ones, nor the deleted result
    assert lib.search("草稿") == [] and lib.search("draft") == []
    assert _ids(lib.search("定稿")) == [rid] and _ids(lib.search("final")) == [rid]
    [hit] = lib.search("NX-9")  # a word only in the edited cells
    assert hit.result.id == rid and "NX-9" in hit.snippet
    assert lib.search("unrelated") == []


def test_search_matches_a_brute_force_substring_oracle(lib):
    # GIVEN 300 results of random Chinese and English lines (seeded)
    rng = random.Random(7)
    texts: dict[int, str] = {}
    for i in range(300):
        lines = rng.sample(ZH, 3) + rng.sample(EN, 3)
        rng.shuffle(lines)
        text = "\n".join(lines) + f"\nNo. {rng.randint(1, 9999)}"
        rid = lib.add(_result(text, source=f"/s/{i}.png"))
        texts[rid] = f"{i}.png\n{text}".lower()  # what is searched: the file name and text
    # WHEN queried with pieces of 1 to 5 characters cut from those texts, and a few more
    queries = {"q", "zz", "发", "票", "合计", "税额", "to", "TO", "Du", "7.png"}
    for _ in range(150):
        t = rng.choice(list(texts.values()))
        n = rng.randint(1, 5)
        at = rng.randrange(0, len(t) - n)
        queries.add(t[at:at + n])
    for q in sorted(queries):
        terms = libmod.query_terms(q)
        if not terms:
            continue
        # THEN the hits are exactly the results holding every term, newest first
        want = [rid for rid in sorted(texts, reverse=True)
                if all(term in texts[rid] for term in terms)]
        assert _ids(lib.search(q, limit=1000)) == want, q


def test_search_pages_newest_first(lib):
    # GIVEN 25 results holding the same word
    ids = [lib.add(_result(f"发票 {i}")) for i in range(25)]
    # WHEN paged ten at a time THEN the pages are newest first and together hold all
    first = lib.search("发票", limit=10)
    second = lib.search("发票", limit=10, before_id=first[-1].result.id)
    third = lib.search("发票", limit=10, before_id=second[-1].result.id)
    assert _ids(first) + _ids(second) + _ids(third) == ids[::-1]
    # AND recent() pages the same way, by offset or by id
    assert [r.id for r in lib.recent(5)] == ids[::-1][:5]
    assert [r.id for r in lib.recent(5, offset=5)] == ids[::-1][5:10]
    assert [r.id for r in lib.recent(5, before_id=ids[10])] == ids[9::-1][:5]
    assert lib.count() == 25
    assert _ids(lib.search("   ", limit=3)) == ids[::-1][:3]  # an empty query lists the newest


# ====================================================================== reuse

def test_find_returns_the_newest_result_that_worked_for_exactly_that_question(lib):
    base = _result("v1", page=2, region=(0.1, 0.2, 0.3, 0.4), task="table", prompt="p",
                   engine="openai", model="m", finish="stop")
    # GIVEN an older good answer, a newer good one, then a newer failed and a cancelled one
    lib.add(base)
    newer = lib.add(base.with_(text="v2"))
    lib.add(base.with_(text="", error="The server went away.", finish=""))
    lib.add(base.with_(text="half", finish="cancelled"))
    # WHEN the same question is looked up (the region as it comes back from JSON)
    key = base.with_(region=(0.1000000001, 0.2, 0.3, 0.4)).reuse_key()
    found = lib.find(key)
    # THEN the newest answer that worked is reused
    assert found is not None and found.id == newer and found.text == "v2"
    # AND any change to what was asked finds nothing
    for change in (dict(page=3), dict(region=None), dict(rotation=90), dict(task="text"),
                   dict(prompt="q"), dict(engine="cpu"), dict(model="n"),
                   dict(source_hash="b" * 64)):
        assert lib.find(base.with_(**change).reuse_key()) is None, change
    # AND a source without a content hash is never reused
    lib.add(base.with_(source_hash=""))
    assert lib.find(base.with_(source_hash="").reuse_key()) is None


# ====================================================================== schema

V1_RESULTS = """CREATE TABLE results (
    id INTEGER PRIMARY KEY AUTOINCREMENT, created REAL NOT NULL, run_id INTEGER,
    source TEXT NOT NULL, source_kind TEXT NOT NULL, source_hash TEXT NOT NULL,
    name TEXT NOT NULL, page INTEGER NOT NULL, page_count INTEGER NOT NULL, region TEXT,
    region_label TEXT NOT NULL, region_id TEXT NOT NULL, rotation INTEGER NOT NULL,
    task TEXT NOT NULL, prompt TEXT NOT NULL, engine TEXT NOT NULL, model TEXT NOT NULL,
    finish TEXT NOT NULL, error TEXT NOT NULL, origin TEXT NOT NULL, seconds REAL NOT NULL,
    first_token_s REAL, attempts INTEGER NOT NULL, reuse TEXT NOT NULL, extra TEXT NOT NULL,
    tables TEXT, cells TEXT NOT NULL DEFAULT '', text TEXT NOT NULL)"""


def test_a_version_1_database_is_migrated_and_its_rows_become_searchable(tmp_path):
    # GIVEN a database at schema version 1 (tables, no search index), written by hand
    path = tmp_path / "library.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, created REAL NOT NULL,"
               " finished REAL, state TEXT NOT NULL DEFAULT 'running', kind TEXT NOT NULL"
               " DEFAULT '', plan TEXT NOT NULL DEFAULT '{}', total INTEGER NOT NULL DEFAULT 0,"
               " pid INTEGER NOT NULL DEFAULT 0, pid_started REAL NOT NULL DEFAULT 0)")
    db.execute(V1_RESULTS)
    db.execute("CREATE TABLE thumbnails (id INTEGER PRIMARY KEY, jpeg BLOB NOT NULL)")
    for i, text in enumerate(["旧的发票 old invoice", "合计 total"]):
        db.execute("INSERT INTO results (created, source, source_kind, source_hash, name, page,"
                   " page_count, region_label, region_id, rotation, task, prompt, engine, model,"
                   " finish, error, origin, seconds, attempts, reuse, extra, text) VALUES"
                   " (?, ?, 'file', '', ?, 1, 1, '', '', 0, 'text', '', 'cpu', '', 'stop', '',"
                   " 'ocr', 1.0, 1, '', '{}', ?)", (1000.0 + i, f"/old/{i}.png", f"{i}.png", text))
    db.execute("PRAGMA user_version=1")
    db.commit()
    db.close()
    # WHEN this version opens it
    lib = Library.open(path)
    # THEN it is at the current schema, the old rows are found by search, new ones are added
    assert lib.notice == ""
    assert lib._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    assert [h.result.text for h in lib.search("发票")] == ["旧的发票 old invoice"]
    assert [h.result.text for h in lib.search("tota")] == ["合计 total"]
    new = lib.add(_result("新 发票"))
    assert _ids(lib.search("发票"))[0] == new
    lib.close()


def test_questions_asked_about_a_result_are_searched(tmp_path):
    from desktop_ocr.core.conversation import Conversation

    # GIVEN a receipt result and, about another one, a follow-up question and its answer
    lib = Library.open(tmp_path / "library.sqlite3")
    lib.add(_result("TOTAL 28.30 CASH 50.00"))
    asked = _result("发票 No. 42", prompt="Read all the text in the image")
    asked.id = lib.add(asked)
    Conversation.about(asked).add("What is the vendor's tax number?", "税号 GST 002077622272").store(asked)
    # WHEN the conversation is kept with the result
    assert lib.update_extra(asked.id, asked.extra)
    # THEN words of the question and of the answer find it, long or short, English or Chinese,
    # and the snippet shows the exchange where the hit is
    for query in ("vendor", "002077622272", "税号", "tax 发票"):
        hits = lib.search(query)
        assert _ids(hits) == [asked.id], query
    assert "vendor" in lib.search("vendor")[0].snippet
    # the first exchange is the result's own prompt and text: the prompt is not a question
    assert lib.search("Read all the text") == []
    assert "No. 42" in lib.search("No. 42")[0].snippet
    # WHEN the conversation is dropped, THEN its words find nothing
    assert lib.update_extra(asked.id, {})
    assert lib.search("vendor") == [] and lib.search("税号") == []
    lib.close()


def test_a_version_2_database_gets_its_stored_questions_searchable(tmp_path):
    # GIVEN a database at schema version 2 holding a result with a conversation
    path = tmp_path / "library.sqlite3"
    db = sqlite3.connect(path)
    db.create_function("grams", -1, libmod.grams, deterministic=True)
    for step in libmod.MIGRATIONS[:2]:
        step(db)
    extra = ('{"conversation": {"exchanges": [{"question": "Read the text", "answer": "合计 9.91"},'
             ' {"question": "Translate to English", "answer": "Total 9.91"}]}}')
    db.execute("INSERT INTO results (created, source, source_kind, source_hash, name, page,"
               " page_count, region_label, region_id, rotation, task, prompt, engine, model,"
               " finish, error, origin, seconds, attempts, reuse, extra, text) VALUES"
               " (1.0, '/old/a.png', 'file', '', 'a.png', 1, 1, '', '', 0, 'text', '', 'openai',"
               " '', 'stop', '', 'ocr', 1.0, 1, '', ?, '合计 9.91')", (extra,))
    db.execute("PRAGMA user_version=2")
    db.commit()
    db.close()
    # WHEN this version opens it
    lib = Library.open(path)
    # THEN the question and its answer are found, the old text still is, and deleting works
    assert lib.notice == ""
    assert [h.result.name for h in lib.search("translate")] == ["a.png"]
    assert [h.result.name for h in lib.search("合计")] == ["a.png"]
    assert lib.delete(_ids(lib.search("english"))) == 1
    assert lib.search("translate") == [] and lib.count() == 0
    lib.close()


def test_a_database_from_a_newer_version_is_left_alone(tmp_path):
    # GIVEN a library that a newer app version wrote
    path = tmp_path / "library.sqlite3"
    lib = Library.open(path)
    lib.add(_result("kept"))
    lib._db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    lib.close()
    before = path.read_bytes()
    # WHEN this version opens it
    lib = Library.open(path)
    # THEN it says so, works in a file beside it, and the newer file is unchanged
    assert "newer version" in lib.notice and "\n" not in lib.notice
    assert lib.path != path and lib.path.parent == path.parent
    lib.add(_result("this session"))
    assert lib.count() == 1
    lib.close()
    assert path.read_bytes() == before


# ====================================================================== bad files

def _filled(path: Path, n: int = 300) -> None:
    lib = Library.open(path)
    rng = random.Random(1)
    for i in range(n):
        lib.add(_result(f"发票 invoice {i} " * 40, thumbnail=rng.randbytes(2000)))
    lib.close()


def _damage(kind: str, path: Path) -> None:
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        if kind == "garbage":
            fh.write(random.Random(2).randbytes(size))
        elif kind == "truncated":
            fh.truncate(size // 2)
        elif kind == "pages":  # a run of malformed pages in the middle, header intact
            fh.seek(size // 3)
            fh.write(random.Random(3).randbytes(16 * 1024))
        elif kind == "empty-header":
            fh.write(b"\0" * 100)


@pytest.mark.parametrize("kind", ["garbage", "truncated", "pages", "empty-header"])
@pytest.mark.parametrize("check", [True, False], ids=["checked", "unchecked"])
def test_a_damaged_database_is_kept_aside_and_a_fresh_one_started(tmp_path, kind, check):
    # GIVEN a library file damaged on disk
    path = tmp_path / "library.sqlite3"
    _filled(path)
    _damage(kind, path)
    damaged = path.read_bytes()
    # WHEN it is opened (unchecked: the damage is only met by a later query)
    lib = Library.open(path, check=check)
    hits = lib.search("invoice", limit=500)
    rid = lib.add(_result("after the damage 发票"))
    # THEN there is one plain line for the user, the bad file is kept byte for byte under
    # a new name, and a fresh library at the old path works
    assert lib.notice and "\n" not in lib.notice and "kept as" in lib.notice
    kept = [p for p in tmp_path.iterdir() if ".damaged-" in p.name and not p.name.endswith(("-wal", "-shm"))]
    assert len(kept) == 1 and kept[0].read_bytes() == damaged
    assert kept[0].name in lib.notice
    assert lib.path == path
    assert hits == [] and _ids(lib.search("发票")) == [rid] and lib.count() == 1
    lib.close()
    assert Library.open(path).notice == ""  # and next time all is well


def test_the_async_library_checks_the_file_beside_its_calls(tmp_path):
    # GIVEN a library with damaged pages that no call will touch
    path = tmp_path / "library.sqlite3"
    _filled(path)
    _damage("pages", path)
    told: list[str] = []

    async def scenario() -> AsyncLibrary:
        loop = asyncio.get_running_loop()
        noticed = asyncio.Event()

        def notice(message: str) -> None:  # on the library thread
            told.append(message)
            loop.call_soon_threadsafe(noticed.set)

        # WHEN it is opened, and calls are served while the check runs beside them
        aio = AsyncLibrary(path, on_notice=notice)
        assert await aio.run(lambda lib: lib.path) == path
        # THEN the check finds the damage and the library moves to a fresh file by itself
        await asyncio.wait_for(noticed.wait(), 30)
        rid = await aio.add(_result("after the check 发票"))
        assert [h.result.id for h in await aio.search("发票")] == [rid]
        await aio.close()
        return aio

    aio = asyncio.run(scenario())
    assert len(told) == 1 and "could not be read" in told[0] and aio.notice == told[0]
    assert any(".damaged-" in p.name for p in tmp_path.iterdir())


HOLDER = r"""
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
for statement in sys.argv[2:]:
    db.execute(statement).fetchall()
print("holding", flush=True)
sys.stdin.read()
"""


def _hold(path: Path, *statements: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), *statements],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "holding"
    return proc


@pytest.mark.parametrize("statements, when", [
    (("PRAGMA locking_mode=EXCLUSIVE", "BEGIN EXCLUSIVE", "SELECT count(*) FROM results"), "open"),
    (("BEGIN EXCLUSIVE",), "write"),
], ids=["exclusive-mode", "write-lock"])
def test_a_locked_database_is_left_alone_and_a_fresh_one_used_beside_it(tmp_path, statements, when):
    # GIVEN a library that another process keeps locked
    path = tmp_path / "library.sqlite3"
    _filled(path, 5)
    proc = _hold(path, *statements)
    try:
        # WHEN this app opens it and stores a result, waiting at most 0.2 s for the lock
        lib = Library.open(path, busy_timeout=0.2)
        if when == "open":
            assert "locked" in lib.notice
        rid = lib.add(_result("while locked 发票"))
        # THEN it says so in one line, and the result is kept in a fresh file beside it
        assert "locked by another program" in lib.notice and "\n" not in lib.notice
        assert lib.path != path and lib.path.parent == path.parent and lib.path.exists()
        assert lib.path.name in lib.notice
        assert [h.result.id for h in lib.search("发票")] == [rid] and lib.count() == 1
        lib.close()
    finally:
        proc.stdin.close()
        proc.wait(10)
    # AND the locked file is untouched: it opens normally with its five results
    again = Library.open(path)
    assert again.notice == "" and again.count() == 5
    again.close()


def test_an_unwritable_place_gives_a_memory_library(tmp_path):
    # GIVEN a library path inside something that is a file, not a folder
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    # WHEN opened THEN the session works in memory and the user is told in one line
    lib = Library.open(blocker / "library.sqlite3")
    assert lib.path is None and "memory only" in lib.notice and "\n" not in lib.notice
    rid = lib.add(_result("in memory 发票"))
    assert _ids(lib.search("发票")) == [rid]
    lib.close()


# ====================================================================== retention

def test_prune_by_age_and_count_keeps_running_runs(lib):
    day = 86400.0
    now = time.time()
    # GIVEN old and new results, some of them in a run that is still running
    old = [lib.add(_result(f"old {i}", created=now - 40 * day)) for i in range(3)]
    running = lib.start_run("batch", {})
    old_in_run = lib.add(_result("old but running", created=now - 40 * day, run_id=running))
    done_run = lib.start_run("batch", {})
    lib.add(_result("old in a finished run", created=now - 40 * day, run_id=done_run))
    lib.finish_run(done_run, "done")
    new = [lib.add(_result(f"new {i}", created=now - i)) for i in range(5)]
    # WHEN results older than 30 days are pruned
    assert lib.prune(keep_days=30, max_entries=0) == 4
    # THEN the old ones are gone (and from search), the running run's result stays,
    # and the finished run with nothing left is gone too
    remaining = {r.id for r in lib.recent(100)}
    assert remaining == {old_in_run, *new} and not remaining & set(old)
    assert _ids(lib.search("old")) == [old_in_run]
    assert lib.get_run(done_run) is None and lib.get_run(running) is not None
    # WHEN only the newest 3 are kept THEN the oldest outside the running run go first
    assert lib.prune(keep_days=0, max_entries=3) == 2
    assert {r.id for r in lib.recent(100)} == {old_in_run, *new[-3:]}


def test_retention_applies_on_open_and_after_adds(tmp_path):
    path = tmp_path / "library.sqlite3"
    # GIVEN a library of 10 results
    lib = Library.open(path)
    ids = [lib.add(_result(f"r{i}")) for i in range(10)]
    lib.close()
    # WHEN it is opened with a cap of 4 THEN only the newest 4 are left
    lib = Library.open(path, max_entries=4)
    assert [r.id for r in lib.recent(100)] == ids[:5:-1]
    # AND adding more keeps it at 4
    more = [lib.add(_result(f"more {i}")) for i in range(3)]
    assert lib.count() == 4 and [r.id for r in lib.recent(100)] == [*more[::-1], ids[-1]]
    # AND the setting can change while open
    assert lib.set_retention(0, 2) == 2 and lib.count() == 2
    lib.close()


def test_clear_removes_everything_from_the_file(tmp_path):
    # GIVEN results holding a word that appears nowhere else
    path = tmp_path / "library.sqlite3"
    lib = Library.open(path)
    for i in range(50):
        lib.add(_result(f"secret-zebra-{i} 机密", thumbnail=b"\xff" * 3000))
    def on_disk() -> int:
        return sum(p.stat().st_size for p in tmp_path.iterdir() if p.name.startswith("library"))

    before = on_disk()
    # WHEN the history is cleared
    assert lib.clear() == 50
    # THEN nothing is found, the file shrank and the words are gone from its bytes
    assert lib.count() == 0 and lib.search("zebra") == [] and lib.search("机密") == []
    files = [p for p in tmp_path.iterdir() if p.name.startswith("library.sqlite3")]
    assert all(b"secret-zebra" not in p.read_bytes() for p in files)
    assert on_disk() < before / 4
    # AND it keeps working
    rid = lib.add(_result("after clear 机密"))
    assert _ids(lib.search("机密")) == [rid]
    lib.close()


# ====================================================================== runs

CRASHER = r"""
import os, sys
from desktop_ocr.core.library import Library
from desktop_ocr.core.results import PartResult
lib = Library.open(sys.argv[1])
run = lib.start_run("batch", {"inputs": ["a.pdf", "b.pdf"], "task": "text"}, total=4)
lib.add(PartResult(source="a.pdf", source_hash="h", page=1, text="page one", run_id=run, finish="stop"))
lib.add(PartResult(source="a.pdf", source_hash="h", page=2, error="timed out", run_id=run))
print(run, flush=True)
sys.stdin.read()
"""


def test_a_run_of_a_killed_process_is_found_unfinished_with_its_results(tmp_path):
    path = tmp_path / "library.sqlite3"
    # GIVEN a real process that started a run and stored two of its four parts
    proc = subprocess.Popen([sys.executable, "-c", CRASHER, str(path)], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    run_id = int(proc.stdout.readline())
    lib = Library.open(path)
    finished = lib.start_run("batch", {})
    lib.finish_run(finished, "done")
    try:
        # WHILE it runs, its run is not offered for resuming
        assert lib.unfinished_runs() == []
        # WHEN it is killed with SIGKILL
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.stdin.close()
    # THEN the next start finds that run, its plan and counts, and the parts that finished
    [run] = Library.open(path).unfinished_runs()
    assert run.id == run_id and run.state == "running" and run.kind == "batch"
    assert run.plan == {"inputs": ["a.pdf", "b.pdf"], "task": "text"}
    assert (run.total, run.done, run.failed) == (4, 1, 1)
    assert [(r.page, r.ok) for r in lib.run_results(run_id)] == [(1, True), (2, False)]
    # AND once this process takes it over it is no longer offered, and goes on
    resumed = lib.resume_run(run_id)
    assert resumed.id == run_id and resumed.pid == os.getpid() and lib.unfinished_runs() == []
    lib.add(_result("page three", page=3, run_id=run_id, finish="stop"))
    assert lib.get_run(run_id).done == 2
    # AND killed again, it is offered again; once finished it is not
    lib._db.execute("UPDATE runs SET pid = 999999999 WHERE id = ?", (run_id,))
    assert [r.id for r in lib.unfinished_runs()] == [run_id]
    lib.finish_run(run_id, "cancelled")
    assert lib.unfinished_runs() == [] and lib.get_run(run_id).finished is not None
    with pytest.raises(ValueError):
        lib.finish_run(run_id, "running")
    assert lib.update_run(run_id, total=5) and lib.get_run(run_id).total == 5
    assert [r.id for r in lib.runs()] == [finished, run_id]
    lib.close()


# ====================================================================== thumbnails

def test_thumbnail_is_a_small_jpeg_of_any_image():
    # GIVEN a large image with transparency
    image = Image.new("RGBA", (2000, 1000), (255, 0, 0, 0))
    image.paste((0, 0, 255, 255), (0, 0, 1000, 1000))
    # WHEN a thumbnail is made
    data = make_thumbnail(image)
    # THEN it is a JPEG at most 160 px on its long side, transparent parts white
    thumb = Image.open(io.BytesIO(data))
    assert thumb.format == "JPEG" and thumb.size == (160, 80)
    assert thumb.getpixel((120, 40))[0] > 240 and thumb.getpixel((20, 40))[2] > 200
    assert len(data) < 8000
    assert image.size == (2000, 1000)  # the crop itself is unchanged


# ====================================================================== async facade

def test_async_facade_serves_an_event_loop_concurrently_from_one_thread(tmp_path):
    aio = AsyncLibrary(tmp_path / "library.sqlite3")

    async def scenario() -> None:
        await aio.ready()
        # GIVEN the library thread is busy with a call that waits for the loop
        loop_ran = threading.Event()

        def blocking(lib: Library) -> str:
            assert loop_ran.wait(10), "the event loop was blocked"
            return "released"

        slow = asyncio.ensure_future(aio.run(blocking))
        # WHEN the loop does other work meanwhile THEN it is not waiting on SQLite
        await asyncio.sleep(0)
        loop_ran.set()
        assert await slow == "released"
        # WHEN adds and searches are awaited concurrently
        adds = [aio.add(_result(f"发票 {i} invoice")) for i in range(40)]
        searches = [aio.search("发票", limit=100) for _ in range(10)]
        ids, *found = await asyncio.gather(asyncio.gather(*adds), *searches)
        # THEN every add got its own id and every search saw a consistent prefix of them
        assert len(set(ids)) == 40
        for hits in found:
            got = [h.result.id for h in hits]
            assert got == sorted(got, reverse=True) and set(got) <= set(ids)
        assert [h.result.id for h in await aio.search("发票", limit=100)] == sorted(ids, reverse=True)
        assert await aio.count() == 40
        # AND every call ran on the same thread, never the loop's
        threads = {await aio.run(lambda lib: threading.get_ident()) for _ in range(5)}
        assert len(threads) == 1 and threading.get_ident() not in threads
        await aio.close()

    asyncio.run(scenario())


def test_library_refuses_use_from_another_thread(tmp_path):
    # GIVEN a library opened on this thread
    lib = Library.open(tmp_path / "library.sqlite3")
    errors: list[BaseException] = []

    def other() -> None:
        try:
            lib.count()
        except BaseException as exc:
            errors.append(exc)

    # WHEN another thread uses it THEN SQLite refuses (the async facade is the way)
    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert errors and isinstance(errors[0], sqlite3.ProgrammingError)
    lib.close()


def test_reuse_key_fields_are_all_in_the_hash():
    # GIVEN the ReuseKey's fields THEN each one changes the stored hash
    base = _result(region=(0.1, 0.2, 0.3, 0.4)).reuse_key()
    seen = {store._reuse_hash(base)}
    for f in dataclasses.fields(base):
        value = getattr(base, f.name)
        changed = (value + 1 if isinstance(value, int) else
                   None if isinstance(value, tuple) else value + "x")
        seen.add(store._reuse_hash(dataclasses.replace(base, **{f.name: changed})))
    assert len(seen) == 1 + len(dataclasses.fields(base))
