"""`desktop-ocr ocr --engine transformers --model FOLDER` as a user runs it: a real CLI
process, which starts the real worker process on a tiny random-weight InternVL."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from PIL import Image

pytestmark = pytest.mark.slow


def run_cli(*args, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "desktop_ocr", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def test_ocr_with_the_transformers_engine_and_a_model_folder(tiny_internvl, tmp_path):
    # GIVEN an image and a model folder given with --model
    image = tmp_path / "page.png"
    Image.new("RGB", (800, 1100), "white").save(image)
    # WHEN it is recognised on the transformers engine
    proc = run_cli("ocr", image, "--engine", "transformers", "--model", tiny_internvl.folder,
                   "--max-tokens", "6", "--json")
    # THEN the engine answered (gibberish: a random model), cut at the token limit as asked
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["engine"] == "transformers" and result["finish_reason"] == "length"
    assert "Traceback" not in proc.stderr


def test_ocr_with_a_missing_model_folder_says_so_in_one_line(tmp_path):
    image = tmp_path / "page.png"
    Image.new("RGB", (200, 100), "white").save(image)
    proc = run_cli("ocr", image, "--engine", "transformers", "--model", tmp_path / "InternVL3-1B-hf")
    assert proc.returncode == 2
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and "does not exist" in err[0] and "huggingface-cli download" in err[0]
