"""The CLI beyond reading: `ask`, `--task codes --json`, `--out FILE.pdf|.docx`, as a user
runs them (real subprocesses, the stand-in server as a real process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import docx
import numpy as np
import pymupdf
import pytest
import zxingcpp
from PIL import Image

from desktop_ocr.core.pipeline import RetryPolicy

sys.path.append(str(Path(__file__).resolve().parent.parent / "engines"))
from engine_helpers import API_KEY, start_standin  # noqa: E402

RECEIPT = "receipt-sroie-590.jpg"


def run_cli(*args: str | Path, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "desktop_ocr", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def server():
    s = start_standin()
    yield s
    s.stop()


def _remote(server) -> list[str]:
    return ["--engine", "openai", "--endpoint", server.url, "--api-key", API_KEY]


def test_ask_streams_the_answer_and_continues_a_conversation(corpus, server, tmp_path):
    conv = tmp_path / "conv.json"
    # GIVEN an image; WHEN a question is asked, then a follow-up with the same file
    first = run_cli("ask", corpus / RECEIPT, "What is on this receipt?", *_remote(server),
                    "--conversation", conv)
    assert first.returncode == 0, first.stderr
    second = run_cli("ask", corpus / RECEIPT, "What is the total?", *_remote(server),
                     "--conversation", conv)
    # THEN the follow-up went with the whole conversation and was answered from it
    assert second.returncode == 0, second.stderr
    first_answer = first.stdout.splitlines()
    assert first_answer[0].startswith("[image ")  # the stand-in saw the image
    assert second.stdout.splitlines() == ["Answer 1 to: What is the total?",
                                          f"Earlier answer: {first_answer[1]}"]
    stored = json.loads(conv.read_text())["exchanges"]
    assert [e["question"] for e in stored] == ["What is on this receipt?", "What is the total?"]
    assert stored[1]["answer"] == second.stdout


def test_ask_the_cpu_engine_says_it_cannot(corpus):
    proc = run_cli("ask", corpus / RECEIPT, "What is the total?", "--engine", "cpu")
    assert proc.returncode == 2
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and "cannot answer questions" in err[0] and "Traceback" not in proc.stderr


def test_ask_bad_input_is_one_plain_line(corpus, tmp_path):
    proc = run_cli("ask", corpus / "bad-zero-byte.png", "What?", "--engine", "cpu")
    assert proc.returncode == 2 and "empty" in proc.stderr and "Traceback" not in proc.stderr
    assert run_cli("ask", corpus / RECEIPT).returncode == 64


def test_ask_runs_like_a_recognition(corpus, server):
    """`ask` goes through the pipeline: a cut answer, a silent server and a page that
    does not exist are each said in one line, as `ocr` says them."""
    # GIVEN a server that stops at the token limit: the answer is printed and called cut
    cut = run_cli("ask", corpus / RECEIPT, "Total? [[scenario=length]]", *_remote(server))
    assert cut.returncode == 1 and cut.stdout.strip()
    assert "token limit" in cut.stderr and "Traceback" not in cut.stderr
    # GIVEN a server that only sends keep-alives: the wait is said, then the time limit ends it
    silent = run_cli("ask", corpus / RECEIPT, "Total? [[scenario=keepalive]]", *_remote(server),
                     "--timeout", "6", timeout=60)
    assert silent.returncode == 2, silent.stderr
    assert "waiting for the server… 5 s" in silent.stderr
    assert "Traceback" not in silent.stderr and silent.stdout == ""
    # GIVEN a page the image does not have
    page = run_cli("ask", corpus / RECEIPT, "Total?", *_remote(server), "--page", "3")
    assert page.returncode == 2 and "has 1 page(s), not page 3" in page.stderr
    # the silent server was asked again within the bounded retries, not once per second
    assert 1 <= server.stats()["requests_keepalive"] <= RetryPolicy().attempts


def _qr_page(path: Path, text: str) -> None:
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode)
    qr = Image.fromarray(np.array(zxingcpp.write_barcode_to_image(barcode, scale=4)))
    page = Image.new("L", (600, 400), 255)
    page.paste(qr, (350, 120))
    page.save(path)


def test_codes_task_lists_format_text_and_position(tmp_path):
    img = tmp_path / "label.png"
    _qr_page(img, "https://example.com/order/42")
    # WHEN the codes task runs with --json (the engine left on auto)
    proc = run_cli("ocr", img, "--task", "codes", "--json")
    # THEN the codes are listed with their format, text and corners in the image's pixels
    assert proc.returncode == 0, proc.stderr
    (code,) = json.loads(proc.stdout)["codes"]
    assert code["format"] == "QR Code" and code["text"] == "https://example.com/order/42"
    x0, y0, x1, y1 = code["bbox"]
    assert 340 <= x0 < x1 <= 480 and 110 <= y0 < y1 <= 260 and len(code["position"]) == 4


@pytest.mark.slow
def test_out_pdf_with_the_cpu_engine_is_searchable(corpus, tmp_path):
    out = tmp_path / "receipt.pdf"
    proc = run_cli("ocr", corpus / RECEIPT, "--engine", "cpu", "--out", out)
    assert proc.returncode == 0, proc.stderr
    # the CPU engine's boxes came with its answer: no second reading
    assert "finding where" not in proc.stderr
    with pymupdf.open(out) as doc:
        layer = doc[0].get_text()
        assert doc[0].get_images()
    assert " ".join(layer.split()) == " ".join(proc.stdout.split())


@pytest.mark.slow
def test_out_pdf_of_a_vlm_reading_places_it_on_the_cpu_boxes(corpus, tmp_path):
    # GIVEN a server that reads the receipt as its ground truth
    truth = (corpus / RECEIPT).with_suffix(".gt.txt").read_text()
    server = start_standin("--text", truth)
    try:
        out = tmp_path / "receipt.pdf"
        proc = run_cli("ocr", corpus / RECEIPT, *_remote(server), "--out", out)
    finally:
        server.stop()
    # THEN the CPU engine found the positions and the layer holds the server's text
    assert proc.returncode == 0, proc.stderr
    assert "finding where the text sits on 1 page" in proc.stderr
    with pymupdf.open(out) as doc:
        layer = " ".join(doc[0].get_text().split())
    assert " ".join(truth.split()) in layer


def test_out_docx(corpus, tmp_path):
    out = tmp_path / "page.docx"
    proc = run_cli("ocr", corpus / "pdf-small-table.pdf", "--use-text-layer", "--engine", "cpu",
                   "--out", out)
    assert proc.returncode == 0, proc.stderr
    text = "\n".join(p.text for p in docx.Document(str(out)).paragraphs)
    assert " ".join(proc.stdout.split()) == " ".join(text.split())
