"""Search helpers of the results library: query terms, the short-gram tokens, snippets, and
the SQL that answers a query from the two FTS5 indexes (see the package docstring)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from typing import Any

from desktop_ocr.core.conversation import EXTRA_KEY as CONVERSATION_KEY
from desktop_ocr.core.results import PartResult
from desktop_ocr.core.tables import Table, parse

_ENC: dict[str, str] = {}


def _enc(ch: str) -> str:
    code = _ENC.get(ch)
    if code is None:
        code = _ENC[ch] = format(ord(ch), "06x")
    return code


def grams(*parts: str | None) -> str:
    """The distinct 1- and 2-character grams of letters and digits in `parts`, lowercased
    and hex-encoded (6 digits a character), as space-separated tokens for the short index.

    Deterministic (sorted): the contentless index deletes a row by tokenising the same
    values again. Changing this function needs a migration that rebuilds `search_grams`.
    """
    out: set[str] = set()
    for part in parts:
        if not part:
            continue
        prev = ""
        for ch in part.lower():
            if ch.isalnum():
                code = _enc(ch)
                out.add(code)
                if prev:
                    out.add(prev + code)
                prev = code
            else:
                prev = ""
    return " ".join(sorted(out))


def _contains(haystack: str | None, needle: str) -> bool:
    return bool(haystack) and needle in haystack.lower()


_TERM = re.compile(r'"([^"]*)"|(\S+)')


def query_terms(query: str) -> list[str]:
    """A query's terms, lowercased: words split at spaces, "double quoted" phrases kept."""
    terms = []
    for quoted, word in _TERM.findall(query):
        term = (quoted if quoted else word).strip().lower()
        if term and term not in terms:
            terms.append(term)
    return terms


def asked_text(extra: dict[str, Any] | None) -> str:
    """The follow-up questions about a result and their answers, one after the other, from
    its `extra` (the first exchange is the result's own prompt and text: not repeated)."""
    stored = (extra or {}).get(CONVERSATION_KEY) if isinstance(extra, dict) else None
    exchanges = stored.get("exchanges") if isinstance(stored, dict) else None
    if not isinstance(exchanges, list):
        return ""
    lines = []
    for ex in exchanges[1:]:
        if isinstance(ex, dict):
            lines += [str(ex.get("question") or "").strip(), str(ex.get("answer") or "").strip()]
    return "\n".join(line for line in lines if line)


def readable_text(result: PartResult) -> str:
    """The result's text as a person reads it: tables (as edited) as rows of cells instead
    of Markdown pipes or HTML tags. What snippets are cut from."""
    text = result.text
    if result.tables is None and "|" not in text and "<t" not in text.lower():
        return text
    edited = list(result.tables) if result.tables is not None else None
    out: list[str] = []
    for seg in parse(text).segments:
        if isinstance(seg, Table):
            if edited is None:
                out.append(_cells_text([seg]))
            elif edited:
                out.append(_cells_text([edited.pop(0)]))
        else:
            out.append(seg.text)
    if edited:
        out.append(_cells_text(edited))
    return "\n".join(part.strip("\n") for part in out if part.strip())


def snippet(text: str, terms: Sequence[str], width: int = 80) -> tuple[str, list[tuple[int, int]]]:
    """About `width` characters of `text` from a little before the first term found, on
    one line, with the ranges where terms occur in it. Without a match: the start."""
    low = text.lower()
    if len(low) != len(text):  # a rare character that lowercases to two: show it lowered
        text = low
    found = [(low.find(t), t) for t in terms if t]
    found = [(pos, t) for pos, t in found if pos >= 0]
    start = 0
    if found:
        pos, _term = min(found)
        # Some context, but the hit near the left: a narrow panel cuts the right off.
        start = max(0, pos - 16)
        space = text.rfind(" ", start - 8 if start >= 8 else 0, pos)
        if 0 < space < pos:
            start = space + 1  # begin at a word, not in the middle of one
    end = min(len(text), start + width)
    piece = " ".join(text[start:end].split())
    if start > 0:
        piece = "…" + piece
    if end < len(text):
        piece += "…"
    low_piece = piece.lower()
    spans: list[tuple[int, int]] = []
    for t in terms:
        at = low_piece.find(t)
        while t and at >= 0:
            spans.append((at, at + len(t)))
            at = low_piece.find(t, at + len(t))
    return piece, sorted(spans)


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _cells_text(tables: Sequence[Table] | None) -> str:
    if not tables:
        return ""
    return "\n".join("\t".join(row) for t in tables for row in t.to_grid())


def search_ids(db: sqlite3.Connection, terms: list[str], limit: int, before_id: int | None,
               fts: bool = True) -> list[int]:
    """Row ids of results holding every term, newest first. `fts`: the indexes exist."""
    long = [t for t in terms if len(t) >= 3]
    short = [t for t in terms if len(t) < 3 and all(ch.isalnum() for ch in t)]
    scan = [t for t in terms if t not in long and t not in short]
    if not fts:
        scan = terms
        long = short = []
    text_match = " AND ".join(_fts_phrase(t) for t in long)
    gram_match = " AND ".join('"' + "".join(_enc(ch) for ch in t) + '"' for t in short)
    haystack = "name || char(10) || text || char(10) || cells || char(10) || asked"
    conds: list[str] = []
    params: list[Any] = []
    # Drive from one index (it yields rowids newest first and stops at the limit);
    # the other terms filter what it yields.
    if long:
        table = "search_text"
        conds.append("search_text MATCH ?")
        params.append(text_match)
        if short:
            # "+": a filter on what the driver yields; as a constraint SQLite would run
            # the whole trigram query once per rowid in the list (seconds, not ms).
            conds.append("+rowid IN (SELECT rowid FROM search_grams WHERE search_grams MATCH ?)")
            params.append(gram_match)
        conds += [f"contains({haystack}, ?)" for _ in scan]
    elif short:
        table = "search_grams"
        conds.append("search_grams MATCH ?")
        params.append(gram_match)
        conds += [f"contains((SELECT {haystack} FROM results WHERE id = search_grams.rowid), ?)"
                  for _ in scan]
    else:
        table = "results"
        conds += [f"contains({haystack}, ?)" for _ in scan]
    params += scan
    if before_id is not None:
        conds.append("rowid < ?")
        params.append(int(before_id))
    q = f"SELECT rowid FROM {table} WHERE {' AND '.join(conds)} ORDER BY rowid DESC LIMIT ?"
    return [row[0] for row in db.execute(q, [*params, limit])]
