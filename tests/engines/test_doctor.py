from __future__ import annotations

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
