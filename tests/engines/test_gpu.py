"""GPU advice from synthetic probe data (no GPU on CI), and the probe's no-GPU paths."""

from __future__ import annotations

import sys

import pytest

from desktop_ocr.engines import gpu
from desktop_ocr.engines.gpu import GpuInfo, Probe, advise


def probe(*cards: tuple[str, float, float, tuple[int, int]]) -> Probe:
    return Probe([GpuInfo(i, n, t, f, cc) for i, (n, t, f, cc) in enumerate(cards)])


# Expected picks follow the catalog's needs (weights + 16384-token KV cache + overhead)
# and its advice order (16-bit before AWQ of the same size, 8B before 14B-AWQ).
@pytest.mark.parametrize(("cards", "model", "fmt", "dtype", "tp"), [
    ([("RTX 4090", 24, 23.2, (8, 9))], "OpenGVLab/InternVL3-8B", "", "bfloat16", 1),
    ([("RTX 3060", 12, 11.0, (8, 6))], "OpenGVLab/InternVL3-8B-AWQ", "awq", "bfloat16", 1),
    ([("Tesla T4", 16, 14.7, (7, 5))], "OpenGVLab/InternVL3-14B-AWQ", "awq", "float16", 1),
    # Volta: no 4-bit kernels, so the 16-bit 8B although 14B-AWQ would fit.
    ([("Tesla V100", 32, 31.5, (7, 0))], "OpenGVLab/InternVL3-8B", "", "float16", 1),
    ([("RTX 3050 Laptop", 4, 3.8, (8, 6))], "OpenGVLab/InternVL3-2B-AWQ", "awq", "bfloat16", 1),
    ([("RTX 3060 Ti", 8, 7.0, (8, 6))], "OpenGVLab/InternVL3-2B", "", "bfloat16", 1),
    ([("A100", 40, 39.0, (8, 0))], "OpenGVLab/InternVL3-38B-AWQ", "awq", "bfloat16", 1),
    ([("RTX 3090", 24, 23.0, (8, 6))] * 2, "OpenGVLab/InternVL3-38B-AWQ", "awq", "bfloat16", 2),
    ([("H100", 80, 79.0, (9, 0))] * 2, "OpenGVLab/InternVL3-78B", "", "bfloat16", 2),
    ([("busy 4090", 24, 16.0, (8, 9))], "OpenGVLab/InternVL3-14B-AWQ", "awq", "bfloat16", 1),
])
def test_advice_follows_free_vram(cards, model, fmt, dtype, tp):
    a = advise(probe(*cards), platform="linux")
    assert (a.model, a.model_format, a.dtype, a.tp) == (model, fmt, dtype, tp)
    assert a.ok and "GiB" in a.reason and not a.on_disk


def test_windows_uses_one_gpu():
    a = advise(probe(*[("RTX 3090", 24, 23.0, (8, 6))] * 2), platform="win32")
    assert (a.model, a.tp) == ("OpenGVLab/InternVL3-8B", 1)


def test_a_model_on_disk_that_fits_wins_and_the_better_download_is_named():
    # GIVEN a 24 GB card, where InternVL3-8B is the fresh pick, and InternVL3-2B on disk
    card = probe(("RTX 4090", 24, 23.2, (8, 9)))
    a = advise(card, on_disk={"InternVL3-2B": "/models/InternVL3-2B"}, platform="linux")
    # THEN the model on disk is used, from its folder, and the 8B is offered as a download
    assert (a.name, a.path, a.better) == ("InternVL3-2B", "/models/InternVL3-2B", "InternVL3-8B")
    assert "already on disk" in a.reason
    # GIVEN a model of another family on disk: it is preferred to any download, with its backend
    q = advise(card, on_disk={"Qwen2.5-VL-7B": "/m/q"}, platform="linux")
    assert (q.name, q.backend, q.path) == ("Qwen2.5-VL-7B", "pytorch", "/m/q")
    # GIVEN only models too big for the card on disk: the fresh advice, nothing local
    big = advise(card, on_disk={"InternVL3-78B": "/m/78"}, platform="linux")
    assert (big.name, big.path) == ("InternVL3-8B", "")


def test_a_longer_session_needs_more_vram():
    card = probe(("RTX 4090", 24, 23.2, (8, 9)))
    short, long = advise(card, platform="linux"), advise(card, session_len=131072, platform="linux")
    assert long.need_gib > short.need_gib or long.name != short.name


def test_nothing_fits_or_no_gpu_says_why():
    small = advise(probe(("MX150", 2, 1.5, (6, 1))), platform="linux")
    assert not small.ok and "older than TurboMind" in small.reason
    full = advise(probe(("RTX 3060", 12, 1.0, (8, 6))), platform="linux")
    assert not full.ok and "1.0 GiB free" in full.reason and "InternVL3-1B-AWQ" in full.reason
    none = advise(Probe(reason="no NVIDIA driver"))
    assert not none.ok and "no NVIDIA driver" in none.reason and "CPU" in none.reason


def test_probe_never_raises_without_nvml(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import fails like an absent package
    p = gpu.probe()
    assert p.gpus == [] and "nvidia-ml-py" in p.reason and "[gpu]" not in p.reason
    m = gpu.MetricsSampler()
    sample = m.sample()
    m.close()
    assert sample.gpus == [] and "nvidia-ml-py" in sample.gpu_note


def test_probe_here_reports_a_reason_or_gpus():
    p = gpu.probe()
    assert p.gpus or p.reason  # this machine: no driver; a GPU runner: its cards


def test_metrics_sampler_cpu_and_ram():
    m = gpu.MetricsSampler()
    try:
        s = m.sample()
    finally:
        m.close()
    assert 0 <= s.cpu_percent <= 100 * 256
    assert 0 < s.ram_used_gib < s.ram_total_gib
