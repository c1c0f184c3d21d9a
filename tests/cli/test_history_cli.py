"""`desktop-ocr history ...` as a user runs it: a real subprocess against a library file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from desktop_ocr.core.library import Library
from desktop_ocr.core.results import PartResult
from desktop_ocr.core.tables import Table


def run_cli(*args: str | Path, library: Path | None = None) -> subprocess.CompletedProcess:
    extra = ["--library", str(library)] if library is not None else []
    return subprocess.run([sys.executable, "-m", "desktop_ocr", "history", *map(str, args), *extra],
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def library(tmp_path: Path) -> tuple[Path, list[int]]:
    """Three results: a Chinese invoice page, an English receipt region, a failed part."""
    path = tmp_path / "library.sqlite3"
    lib = Library.open(path)
    ids = [
        lib.add(PartResult(source="/scans/发票.pdf", page=2, page_count=3, task="table",
                           engine="lmdeploy", model="InternVL3-8B", finish="stop",
                           text="| 品名 | 金额 |\n|---|---|\n| 茶 | 12 |\n合计 12",
                           tables=[Table.from_grid([["品名", "金额"], ["茶", "15"]], header_rows=1)])),
        lib.add(PartResult(source="/scans/receipt.jpg", region_label="Region 1", task="text",
                           engine="cpu", finish="stop", text="TOTAL DUE 4.50\nThank you")),
        lib.add(PartResult(source="/scans/receipt.jpg", region_label="Region 2", engine="cpu",
                           error="The engine stopped.")),
    ]
    lib.close()
    return path, ids


def test_list_shows_the_newest_first(library):
    path, ids = library
    # WHEN the history is listed
    proc = run_cli("list", library=path)
    # THEN one line per result, newest first, with its label, and failures say so
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [int(line.split("\t")[0]) for line in lines] == ids[::-1]
    assert "receipt.jpg, Region 2" in lines[0] and "failed: The engine stopped." in lines[0]
    assert "发票.pdf, page 2" in lines[2] and "合计 12" in lines[2]
    # AND --json --limit gives that many objects with the documented fields
    proc = run_cli("list", "--json", "--limit", "2", library=path)
    objs = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["id"] for o in objs] == ids[:0:-1]
    assert {"id", "file", "page", "region", "date", "snippet"} <= set(objs[0])
    assert objs[1]["file"] == "receipt.jpg" and objs[1]["region"] == "Region 1"


def test_search_in_chinese_and_english(library):
    path, ids = library
    # WHEN searched for a 2-character Chinese word, as JSON
    proc = run_cli("search", "合计", "--json", library=path)
    # THEN one object for the one hit, with file name, page and a snippet holding the word
    assert proc.returncode == 0, proc.stderr
    [hit] = [json.loads(line) for line in proc.stdout.splitlines()]
    assert hit["id"] == ids[0] and hit["file"] == "发票.pdf" and hit["page"] == 2
    assert "合计" in hit["snippet"] and hit["date"][:4].isdigit()
    # AND an English word in any case, as a line
    proc = run_cli("--library", path, "search", "total")
    assert proc.returncode == 0 and proc.stdout.startswith(f"{ids[1]}\t")
    assert "TOTAL DUE" in proc.stdout
    # AND a word in the edited cells only
    assert run_cli("search", "15", library=path).stdout.startswith(f"{ids[0]}\t")
    # AND nothing found: exit 1, a message, no output
    proc = run_cli("search", "收据", library=path)
    assert proc.returncode == 1 and proc.stdout == "" and "收据" in proc.stderr


def test_export_all_or_some_without_recognising_again(library, tmp_path):
    path, ids = library
    # WHEN everything is exported to a workbook
    out = tmp_path / "all.xlsx"
    proc = run_cli("export", "--out", out, library=path)
    # THEN the workbook has the edited table and a Sources sheet; the failed part is left out
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(out) and "1 failed part" in proc.stderr
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Table 1", "Text", "Sources"]
    assert list(wb["Table 1"].iter_rows(values_only=True))[1] == ("茶", 15)
    assert [r[0] for r in wb["Sources"].iter_rows(min_row=2, values_only=True)] == [
        "发票.pdf", "receipt.jpg"]
    # WHEN some ids are exported as text THEN only those are in the file
    txt = tmp_path / "one.txt"
    assert run_cli("export", "--out", txt, ids[1], library=path).returncode == 0
    assert "TOTAL DUE" in txt.read_text() and "茶" not in txt.read_text()
    # WHEN one file per input is asked for THEN a folder with one per source
    folder = tmp_path / "per-input"
    proc = run_cli("export", "--out", folder, "--per-input", library=path)
    assert proc.returncode == 0 and sorted(p.name for p in folder.iterdir()) == [
        "receipt.xlsx", "发票.xlsx"]
    # WHEN an id is not in the library THEN nothing is written and it says which
    bad = tmp_path / "bad.xlsx"
    proc = run_cli("export", "--out", bad, ids[0], 999, library=path)
    assert proc.returncode == 1 and "999" in proc.stderr and not bad.exists()


def test_rm_and_clear(library):
    path, ids = library
    # WHEN one known and one unknown id are removed
    proc = run_cli("rm", ids[1], 999, library=path)
    # THEN the known one is gone, and the unknown one is named with exit code 1
    assert proc.returncode == 1 and "999" in proc.stderr
    assert [json.loads(x)["id"] for x in run_cli("list", "--json", library=path).stdout.splitlines()] == [
        ids[2], ids[0]]
    # WHEN clear is asked without --yes THEN it is a usage error and nothing is deleted
    proc = run_cli("clear", library=path)
    assert proc.returncode == 64 and "--yes" in proc.stderr
    assert len(run_cli("list", library=path).stdout.splitlines()) == 2
    # WHEN confirmed THEN the library is empty
    assert run_cli("clear", "--yes", library=path).returncode == 0
    proc = run_cli("list", library=path)
    assert proc.returncode == 0 and proc.stdout == "" and "empty" in proc.stderr


@pytest.mark.parametrize("args", [[], ["frobnicate"], ["rm"], ["rm", "abc"], ["export", "1"],
                                  ["list", "--limit", "0"], ["search"]])
def test_usage_errors_exit_64(library, args):
    path, _ = library
    proc = run_cli(*args, library=path)
    assert proc.returncode == 64 and "usage:" in proc.stderr and "Traceback" not in proc.stderr


def test_default_library_and_a_damaged_one(tmp_path, monkeypatch):
    # GIVEN the library named by DESKTOP_OCR_LIBRARY holds garbage
    path = tmp_path / "lib" / "library.sqlite3"
    path.parent.mkdir()
    path.write_bytes(b"this is not a database" * 100)
    monkeypatch.setenv("DESKTOP_OCR_LIBRARY", str(path))
    # WHEN listed THEN one line says so, the file is kept aside, and it carries on
    proc = run_cli("list")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    notice = [line for line in proc.stderr.splitlines() if "could not be read" in line]
    assert len(notice) == 1 and "kept as" in notice[0]
    assert any(".damaged-" in p.name for p in path.parent.iterdir())
