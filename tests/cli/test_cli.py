"""`desktop-ocr ocr` as a user runs it: a real subprocess, real files, real CPU engine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

RECEIPT = "receipt-sroie-003.jpg"


def run_cli(*args: str | Path, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "desktop_ocr", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


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
    ("bad-short.bmp", "damaged"),
])
def test_every_input_bad_exits_2_with_one_line(corpus, name, words):
    proc = run_cli("ocr", corpus / name, "--engine", "cpu")
    assert proc.returncode == 2
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1, proc.stderr
    assert name in err[0] and words in err[0].lower()
    assert "Traceback" not in proc.stderr


def test_missing_path_and_folder(tmp_path):
    proc = run_cli("ocr", tmp_path / "nope.png", tmp_path, "--engine", "cpu")
    assert proc.returncode == 2
    err = proc.stderr.strip().splitlines()
    assert len(err) == 2 and "does not exist" in err[0] and "folder" in err[1]


def test_usage_error_is_not_confused_with_failed_inputs():
    proc = run_cli("ocr")
    assert proc.returncode == 64 and "usage" in proc.stderr


def test_unknown_engine_is_refused():
    proc = run_cli("ocr", "x.png", "--engine", "gpt")
    assert proc.returncode == 64 and "invalid choice" in proc.stderr
