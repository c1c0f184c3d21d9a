from __future__ import annotations

import pytest

from desktop_ocr.core.settings import Settings
from desktop_ocr.doctor import doctor_report


def test_doctor_without_gpu_explains_the_cpu_choice(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    text = doctor_report(Settings())
    assert "GPU\n  none: " in text
    assert "LMDeploy\n  not available: lmdeploy is not installed" in text
    assert "auto picks: cpu, because no CUDA GPU found" in text


def test_doctor_with_a_server_picks_openai(fake_lmdeploy):
    text = doctor_report(Settings(endpoint="http://gpu-box:23333", lmdeploy_command=str(fake_lmdeploy.exe)))
    assert "http://gpu-box:23333 (max 4 requests in flight)" in text
    assert f"found, configured executable {fake_lmdeploy.exe}" in text
    assert "auto picks: openai, because a server is configured at http://gpu-box:23333" in text


@pytest.mark.slow
def test_doctor_says_the_transformers_engine_can_run_on_the_cpu(tiny_internvl, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    # GIVEN a usable InternVL "-hf" folder on a machine without a GPU
    text = doctor_report(Settings(transformers_model=str(tiny_internvl.folder)))
    # THEN doctor names the folder, the CPU in float32, says it can run, and auto picks it
    section = text.split("Transformers (")[1].split("\n\n")[0]
    assert f"model: {tiny_internvl.folder}" in section
    assert "device: the CPU in float32" in section
    assert "can run: yes" in section
    assert "auto picks: transformers" in text


@pytest.mark.slow
def test_doctor_says_why_the_transformers_engine_cannot_run(tiny_internvl, tmp_path):
    text = doctor_report(Settings(transformers_model=str(tmp_path / "nowhere"), transformers_device="mps"))
    section = text.split("Transformers (")[1].split("\n\n")[0]
    assert "can run: no, because the model folder" in section and "does not exist" in section
    assert "Apple GPU (MPS)" in section
    assert "auto picks: cpu" in text and "transformers model folder is unusable" in text
