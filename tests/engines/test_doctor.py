from __future__ import annotations

import pytest

from desktop_ocr.core.settings import Settings
from desktop_ocr.doctor import doctor_report


def test_doctor_without_gpu_explains_the_cpu_choice(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    text = doctor_report(Settings())
    assert "GPU\n  none: " in text
    assert "LMDeploy\n  not available: lmdeploy is not installed" in text
    assert "auto picks: cpu, because no NVIDIA GPU can be used" in text


def test_doctor_with_a_server_picks_openai(fake_lmdeploy):
    text = doctor_report(Settings(endpoint="http://gpu-box:23333", lmdeploy_command=str(fake_lmdeploy.exe)))
    assert "http://gpu-box:23333 (max 4 requests in flight)" in text
    assert f"found, configured executable {fake_lmdeploy.exe}" in text
    assert "auto picks: openai, because a server is configured at http://gpu-box:23333" in text


def test_doctor_names_the_gpu_the_advice_and_where_the_model_is(monkeypatch, tmp_path):
    # GIVEN an RTX card (synthetic probe), no lmdeploy, and InternVL3-2B downloaded by the app
    from engine_helpers import make_model_folder

    from desktop_ocr.engines import gpu

    card = gpu.Probe([gpu.GpuInfo(0, "NVIDIA GeForce RTX 4090", 24.0, 23.2, (8, 9))], driver="560.35")
    monkeypatch.setattr(gpu, "probe", lambda: card)
    monkeypatch.setenv("PATH", str(tmp_path))
    models = tmp_path / "models"
    folder = make_model_folder(models / "InternVL3-2B")
    (folder / ".desktop-ocr-model.json").write_text('{"repo": "OpenGVLab/InternVL3-2B", "files": []}')
    text = doctor_report(Settings(models_dir=str(models)))
    # THEN the card, the advice (the model on disk), and what installing the engine takes
    assert "[0] NVIDIA GeForce RTX 4090: 23.2 of 24.0 GiB free" in text
    assert "advice: InternVL3-2B (bfloat16, turbomind)" in text and f"on disk: {folder}" in text
    assert "InternVL3-8B fits too and reads better: desktop-ocr models pull InternVL3-8B" in text
    assert "pip install 'desktop-ocr[gpu]'" in text
    assert f"on disk: InternVL3-2B ({folder})" in text


def test_auto_uses_the_gpu_only_once_a_model_is_on_disk(monkeypatch, tmp_path, fake_lmdeploy):
    from engine_helpers import make_model_folder

    from desktop_ocr.engines import choose_auto, gpu

    card = gpu.Probe([gpu.GpuInfo(0, "NVIDIA GeForce RTX 4090", 24.0, 23.2, (8, 9))])
    monkeypatch.setattr(gpu, "probe", lambda: card)
    models = tmp_path / "models"
    s = Settings(models_dir=str(models), lmdeploy_command=str(fake_lmdeploy.exe))
    # GIVEN a GPU and lmdeploy but no model: the CPU engine, and what to download
    name, why = choose_auto(s)
    assert name == "cpu" and "no model that fits is on disk yet" in why and "InternVL3-8B" in why
    # GIVEN a model on disk that fits: the local engine
    folder = make_model_folder(models / "InternVL3-2B")
    (folder / ".desktop-ocr-model.json").write_text('{"repo": "OpenGVLab/InternVL3-2B", "files": []}')
    assert choose_auto(s)[0] == "lmdeploy"
    # GIVEN a chosen model that is not on disk: the CPU engine until it is
    name, why = choose_auto(Settings(models_dir=str(models), lmdeploy_command=str(fake_lmdeploy.exe),
                                     model="InternVL3-14B"))
    assert name == "cpu" and "InternVL3-14B is not on disk yet" in why


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
