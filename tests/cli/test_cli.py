"""`desktop-ocr ocr` as a user runs it: a real subprocess, real files, real CPU engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

RECEIPT = "receipt-sroie-003.jpg"


def run_cli(*args: str | Path, timeout: float = 180, env: dict | None = None
            ) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "desktop_ocr", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env)


@pytest.mark.slow
def test_ocr_one_good_one_bad_input(corpus, tmp_path):
    # GIVEN a real receipt and an empty file
    out = tmp_path / "result.txt"
    # WHEN both are recognised, as JSON, with --out
    proc = run_cli("ocr", corpus / RECEIPT, corpus / "bad-zero-byte.png", "--engine", "cpu",
                   "--json", "--out", out)
    # THEN the good one is recognised, the bad one gets one plain line, and the exit code is 1
    assert proc.returncode == 1, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [Path(x["file"]).name for x in lines] == [RECEIPT, "bad-zero-byte.png"]
    good, bad = lines
    assert good["engine"] == "cpu" and good["seconds"] > 0 and good["finish_reason"] == "stop"
    assert "TAN WOON YANN" in good["text"].upper()
    assert "empty" in bad["error"]
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and "bad-zero-byte.png" in err[0] and "empty" in err[0]
    assert "Traceback" not in proc.stderr
    assert "TAN WOON YANN" in out.read_text().upper()


@pytest.mark.slow
def test_ocr_streams_plain_text_with_headers_for_several_inputs(corpus):
    proc = run_cli("ocr", corpus / RECEIPT, corpus / "zh-pdfpage-chinese-tables.png", "--engine", "cpu")
    assert proc.returncode == 0, proc.stderr
    assert f"=== {corpus / RECEIPT} ===" in proc.stdout
    assert "=== " + str(corpus / "zh-pdfpage-chinese-tables.png") + " ===" in proc.stdout
    assert "TOTAL" in proc.stdout.upper()


@pytest.mark.parametrize("name, words", [
    ("bad-zero-byte.png", "empty"),
    ("bad-text-as.png", "not an image"),
    ("bad-truncated.jpg", "truncated"),
    ("bad-huge-header.png", "too large"),
    ("bad-decompression-bomb.gif", "too large"),
    ("bad-short.bmp", "truncated"),
])
def test_every_input_bad_exits_2_with_one_line(corpus, name, words):
    proc = run_cli("ocr", corpus / name, "--engine", "cpu")
    assert proc.returncode == 2
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1, proc.stderr
    assert name in err[0] and words in err[0].lower()
    assert "Traceback" not in proc.stderr


def test_missing_path_and_empty_folder(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = run_cli("ocr", tmp_path / "nope.png", empty, "--engine", "cpu")
    assert proc.returncode == 2
    err = proc.stderr.strip().splitlines()
    assert len(err) == 2, proc.stderr
    assert "folder holds no images or PDFs" in err[0] and "nope.png: The file does not exist" in err[1]


def test_usage_error_is_not_confused_with_failed_inputs():
    proc = run_cli("ocr")
    assert proc.returncode == 64 and "usage" in proc.stderr


def test_unknown_engine_is_refused():
    proc = run_cli("ocr", "x.png", "--engine", "gpt")
    assert proc.returncode == 64 and "invalid choice" in proc.stderr


def _text_layer(corpus, name: str) -> str:
    return (corpus / name).read_text(encoding="utf-8")


def test_use_text_layer_of_selected_pages(corpus):
    # GIVEN the 47-page born-digital PDF
    # WHEN pages 1-2 and 47 are asked for with the text layer
    proc = run_cli("ocr", corpus / "pdf-47-pages.pdf", "--pages", "1-2,47", "--use-text-layer",
                   "--engine", "cpu")
    # THEN each page comes headed, page 1 is exactly its text layer, no OCR needed
    assert proc.returncode == 0, proc.stderr
    assert [line for line in proc.stdout.splitlines() if line.startswith("--- page")] == [
        "--- page 1 ---", "--- page 2 ---", "--- page 47 ---"]
    page1 = proc.stdout.split("--- page 2 ---")[0].removeprefix("--- page 1 ---\n")
    assert page1.strip() == _text_layer(corpus, "pdf-47-pages.page1.textlayer.txt").strip()


def test_encrypted_pdf_needs_the_right_password(corpus):
    pdf = corpus / "pdf-encrypted-secret.pdf"
    none = run_cli("ocr", pdf, "--use-text-layer", "--engine", "cpu")
    assert none.returncode == 2 and "password" in none.stderr.lower() and "--password" in none.stderr
    wrong = run_cli("ocr", pdf, "--password", "nope", "--use-text-layer", "--engine", "cpu")
    assert wrong.returncode == 2 and "wrong" in wrong.stderr.lower()
    right = run_cli("ocr", pdf, "--password", "secret", "--use-text-layer", "--engine", "cpu")
    assert right.returncode == 0 and right.stdout.strip(), right.stderr


def test_bad_page_spec_and_region_are_explained(corpus):
    proc = run_cli("ocr", corpus / "pdf-small-table.pdf", "--pages", "5", "--engine", "cpu")
    assert proc.returncode == 2 and "pdf-small-table.pdf" in proc.stderr and "page" in proc.stderr.lower()
    proc = run_cli("ocr", corpus / "pdf-small-table.pdf", "--region", "0.5,0.5,2,x")
    assert proc.returncode == 64 and "region" in proc.stderr.lower()


@pytest.mark.slow
def test_region_of_a_scanned_pdf_is_recognised(corpus):
    # GIVEN an image-only PDF of a receipt; WHEN only its top fifth is recognised
    pdf = corpus / "pdf-scanned-receipt-sroie-003.pdf"
    top = run_cli("ocr", pdf, "--region", "0,0,1,0.2", "--engine", "cpu", "--use-text-layer")
    # THEN the shop name (top) is there and the total (bottom) is not
    assert top.returncode == 0, top.stderr
    assert "TAN WOON YANN" in top.stdout.upper()
    assert "ROUNDING" not in top.stdout.upper()


@pytest.mark.slow
def test_table_task_exports_a_spreadsheet_with_numbers(corpus, tmp_path):
    # GIVEN a table image; WHEN the table task runs on the CPU with --out .xlsx
    out = tmp_path / "result.xlsx"
    proc = run_cli("ocr", corpus / "table-pubtabnet-PMC3826085_003_00.png", "--engine", "cpu",
                   "--task", "table", "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.lstrip().startswith("<table>")
    # THEN the workbook has the grid as a sheet, numbers as numbers, and a sheet naming the source
    import openpyxl

    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == "Table 1" and "Sources" in wb.sheetnames
    rows = [[c.value for c in r] for r in wb["Table 1"].iter_rows()]
    assert rows[0][1:] == ["Infancy", "Early", "Late", "Total"]
    cantonese = next(r for r in rows if r[0] == "Cantonese")
    assert cantonese[1:] == [8, 21, 9, 38]
    sources = [[c.value for c in r] for r in wb["Sources"].iter_rows()]
    assert any("table-pubtabnet-PMC3826085_003_00.png" in str(v) for r in sources for v in r)


def test_format_flag_overrides_the_extension(corpus, tmp_path):
    out = tmp_path / "page.data"
    proc = run_cli("ocr", corpus / "pdf-small-table.pdf", "--use-text-layer", "--engine", "cpu",
                   "--out", out, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    assert "pdf-small-table.pdf" in json.dumps(data)


def test_export_to_an_unwritable_place_says_so(corpus, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = run_cli("ocr", corpus / "pdf-small-table.pdf", "--use-text-layer", "--engine", "cpu",
                   "--out", blocker / "result.txt")
    # a place that cannot take the file is bad usage, found before any work (64, not 2)
    assert proc.returncode == 64 and "result.txt" in proc.stderr and "Traceback" not in proc.stderr
    assert blocker.read_text() == "x"


@pytest.mark.slow
def test_fields_task_as_json(corpus):
    proc = run_cli("ocr", corpus / "receipt-sroie-030.jpg", "--engine", "cpu", "--task", "fields", "--json")
    assert proc.returncode == 0, proc.stderr
    fields = json.loads(proc.stdout)["fields"]
    assert set(fields) >= {"vendor", "date", "total", "tax", "line_items"}
    expected = json.loads((corpus / "receipt-sroie-030.fields.json").read_text())
    assert float(fields["total"]) == float(expected["total"].lstrip("$"))


def test_unknown_task_is_a_usage_error():
    proc = run_cli("ocr", "x.png", "--task", "poetry")
    assert proc.returncode == 64 and "poetry" in proc.stderr


def test_doctor_says_which_engine_auto_picks_and_why():
    proc = run_cli("doctor")
    assert proc.returncode == 0
    assert "auto picks: cpu" in proc.stdout and "GPU" in proc.stdout and "LMDeploy" in proc.stdout


# ---------------------------------------------------------------------- several inputs, one pipeline

def _standin(*args: str):
    sys.path.append(str(Path(__file__).resolve().parent.parent / "engines"))
    from engine_helpers import API_KEY, start_standin

    return API_KEY, start_standin(*args)


def _images(tmp_path: Path, sizes: list[tuple[int, int]]) -> list[Path]:
    from PIL import Image

    paths = []
    for i, size in enumerate(sizes):
        path = tmp_path / f"in{i}.png"
        Image.new("RGB", size, "white").save(path)
        paths.append(path)
    return paths


def test_several_inputs_run_concurrently_and_print_in_input_order(tmp_path):
    # GIVEN a server that echoes each image's size, slowly, serving several at once
    key, server = _standin("--chunk-delay", "0.01")
    sizes = [(300 + 40 * i, 200) for i in range(5)]
    paths = _images(tmp_path, sizes)
    try:
        # WHEN five inputs are recognised with up to four in flight
        proc = run_cli("ocr", *paths, "--engine", "openai", "--endpoint", server.url,
                       "--api-key", key, "--max-in-flight", "4", timeout=120)
        stats = server.stats()
    finally:
        server.stop()
    # THEN several were in flight at once, and the output still reads in input order
    assert proc.returncode == 0, proc.stderr
    assert stats["max_active"] > 1
    headers = [line for line in proc.stdout.splitlines() if line.startswith("=== ")]
    assert headers == [f"=== {p} ===" for p in paths]
    blocks = proc.stdout.split("=== ")[1:]
    for block, (w, h) in zip(blocks, sizes, strict=True):
        assert f"[image {w}x{h}]" in block  # each input's own answer under its own header


def test_a_prompt_alone_asks_the_custom_task(tmp_path):
    key, server = _standin()
    (path,) = _images(tmp_path, [(320, 200)])
    try:
        proc = run_cli("ocr", path, "--engine", "openai", "--endpoint", server.url,
                       "--api-key", key, "--prompt", "List the dates", "--json")
        asked = server.stats()["last_prompt"]
    finally:
        server.stop()
    assert proc.returncode == 0, proc.stderr
    assert asked == "List the dates"
    assert json.loads(proc.stdout)["text"]
    usage = run_cli("ocr", path, "--task", "custom")
    assert usage.returncode == 64 and "--prompt" in usage.stderr


def test_resume_reuses_stored_results_and_says_how_many(tmp_path):
    # GIVEN a server that counts requests, three images, and a library of our own
    key, server = _standin()
    paths = _images(tmp_path, [(300, 200), (340, 200), (380, 200)])
    env = dict(os.environ, DESKTOP_OCR_LIBRARY=str(tmp_path / "library.sqlite3"))
    engine = ["--engine", "openai", "--endpoint", server.url, "--api-key", key]
    try:
        # WHEN the first two are recognised, then all three with --resume
        first = run_cli("ocr", *paths[:2], *engine, "--json", env=env)
        asked_first = server.stats()["requests"]
        again = run_cli("ocr", *paths, *engine, "--json", "--resume", env=env)
        asked_again = server.stats()["requests"] - asked_first
        # AND once more without --resume, and with --no-history
        fresh = run_cli("ocr", paths[0], *engine, "--no-history", env=env)
        asked_fresh = server.stats()["requests"] - asked_first - asked_again
    finally:
        server.stop()
    assert first.returncode == 0 and again.returncode == 0 and fresh.returncode == 0, again.stderr
    # THEN only the new image was asked again, the output is the same, and stderr says so
    assert (asked_first, asked_again, asked_fresh) == (2, 1, 1)
    before = [json.loads(line)["text"] for line in first.stdout.splitlines()]
    after = [json.loads(line)["text"] for line in again.stdout.splitlines()]
    assert after[:2] == before and after[2]
    assert "reused 2 stored results (--resume)" in again.stderr
