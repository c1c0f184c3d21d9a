"""Per-model requests and launch lines: each catalog family's request against the
stand-in server's wire format, and each backend's launch line through lmdeploy's own
argument parser (tests/tools/lmdeploy_cli.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from engine_helpers import API_KEY, make_image, run

from desktop_ocr.core import catalog
from desktop_ocr.core.contract import FinishReason, Request, collect
from desktop_ocr.core.settings import Settings
from desktop_ocr.engines.lmdeploy_server import BACKENDS, build_command, plan_model
from desktop_ocr.engines.model_store import ModelStore
from desktop_ocr.engines.openai_compat import OpenAIEngine, qwen_pixel_limits

TOOL = Path(__file__).resolve().parents[1] / "tools" / "lmdeploy_cli.py"
FAMILIES = sorted(catalog.load().families)


@pytest.mark.parametrize("family_id", FAMILIES)
def test_each_family_request_matches_what_its_server_reads(standin_factory, family_id):
    # GIVEN a stand-in serving a model of this family under the family's served name
    fam = catalog.load().family(family_id)
    server = standin_factory("--model-name", fam.served_name, "--family", fam.request)
    engine = OpenAIEngine(server.url, API_KEY, fam.served_name, family=family_id)

    async def go():
        await engine.start()
        try:
            return await collect(engine, Request(make_image((900, 1200)), max_dynamic_patch=6,
                                                 prompt="Read the text."))
        finally:
            await engine.stop()

    # WHEN one page is recognised
    text, finish = run(go())
    # THEN the server accepted it and saw only the image parameters its family uses
    assert finish is FinishReason.STOP and text
    stats = server.stats()
    if fam.request == "qwen2_5_vl":
        assert stats["last_image_params"] == qwen_pixel_limits(6)
        assert stats["last_content_types"] == ["image_url", "text"]
        # 6 tiles + thumbnail of 256 tokens: the same budget as InternVL's
        assert 0 < stats["last_image_tokens"] <= 7 * 256
    else:
        assert stats["last_image_params"] == {"max_dynamic_patch": 6}
        assert stats["last_content_types"] == ["text", "image_url"]


def test_a_remote_model_name_picks_the_request_shape():
    assert OpenAIEngine("http://x", model="Qwen/Qwen2.5-VL-7B-Instruct").request_style() == "qwen2_5_vl"
    assert OpenAIEngine("http://x", model="OpenGVLab/InternVL3_5-8B").request_style() == "internvl"
    assert OpenAIEngine("http://x", model="some-other-vlm").request_style() == "internvl"  # the default family


def lmdeploy_parse(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TOOL), "parse", *args], capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def parser_available():
    probe = lmdeploy_parse(["serve", "api_server", "/m"])
    if probe.returncode == 3:
        pytest.skip("lmdeploy's CLI source is not fetched: python tests/tools/lmdeploy_cli.py fetch")
    assert probe.returncode == 0, probe.stderr


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ["InternVL3-8B", "InternVL3-14B-AWQ", "InternVL3.5-8B", "Qwen2.5-VL-7B",
                                  "Qwen2.5-VL-7B-AWQ"])
def test_launch_line_per_backend_is_accepted_by_lmdeploys_own_parser(parser_available, backend, name):
    # GIVEN the catalog's model and its family's served name, on either backend
    cat = catalog.load()
    entry = cat.require(name)
    fam = cat.family(entry.family)
    args = build_command(["lmdeploy"], f"/models/{name}", port=23456, api_key="sk-" + "a" * 48,
                         model_format="awq" if entry.awq else "", dtype="float16", tp=2, quant_policy=8,
                         backend=backend, model_name=fam.served_name)
    # WHEN lmdeploy's own parser reads it
    proc = lmdeploy_parse(args[1:])
    # THEN every option means what the app meant
    assert proc.returncode == 0, proc.stderr
    ns = json.loads(proc.stdout)
    assert (ns["command"], ns["model_path"], ns["backend"]) == ("serve", f"/models/{name}", backend)
    assert (ns["server_name"], ns["server_port"], ns["model_name"]) == ("127.0.0.1", 23456, fam.served_name)
    assert ns["api_keys"] == ["sk-" + "a" * 48] and ns["trust_remote_code"] is True
    assert (ns["session_len"], ns["cache_max_entry_count"], ns["tp"], ns["dtype"]) == (16384, 0.5, 2, "float16")
    assert ns["quant_policy"] == 8 and ns["model_format"] == ("awq" if entry.awq else None)
    assert ns["chat_template"] is None


def test_lmdeploys_parser_refuses_what_it_does_not_know(parser_available):
    proc = lmdeploy_parse(["serve", "api_server", "/m", "--backend", "vllm"])
    assert proc.returncode == 2 and "invalid choice" in proc.stderr


def _folder(root: Path, name: str, arch: str) -> Path:
    d = root / name
    d.mkdir(parents=True)
    (d / "config.json").write_text(json.dumps({"architectures": [arch]}))
    (d / "model.safetensors").write_bytes(b"\0" * 16)
    return d


def test_plan_serves_a_local_folder_with_the_catalog_backend(tmp_path):
    # GIVEN a Qwen2.5-VL folder the user added and an InternVL3 one
    qwen = _folder(tmp_path / "mine", "Qwen2.5-VL-7B-Instruct", "Qwen2_5_VLForConditionalGeneration")
    store = ModelStore(tmp_path / "models", [tmp_path / "mine"], use_caches=False)
    s = Settings(model="Qwen/Qwen2.5-VL-7B-Instruct", dtype="bfloat16")
    plan = plan_model(s, store=store)
    # THEN the plan runs that folder on the PyTorch engine under the family's served name
    assert (plan.path, plan.backend, plan.family, plan.served_name) == (str(qwen), "pytorch", "qwen2_5_vl",
                                                                       "qwen2.5-vl")
    # GIVEN a model that is not on disk: nothing to serve, and the download to offer
    missing = plan_model(Settings(model="InternVL3-8B", dtype="bfloat16"), store=store)
    assert (missing.path, missing.missing, missing.backend) == ("", "InternVL3-8B", "turbomind")
    # GIVEN an unknown folder with an InternVL architecture: TurboMind, InternVL requests
    other = _folder(tmp_path, "my-finetune", "InternVLChatModel")
    plan = plan_model(Settings(model=str(other), dtype="bfloat16"), store=store)
    assert (plan.path, plan.backend, plan.family) == (str(other), "turbomind", "internvl3")
