"""The transformers engine's decisions made before torch: the model folder check and the
device / dtype rules of the InternVL3 model card."""

from __future__ import annotations

import json

import pytest

from desktop_ocr.engines.transformers_plan import (
    BadModelConfig,
    Machine,
    ModelFolderMissing,
    NotAnHfCheckpoint,
    UnsupportedDevice,
    error_from_wire,
    error_to_wire,
    inspect_model_folder,
    plan_device,
    resolve_model,
    tokens_per_tile,
)

HF_CONFIG = {"model_type": "internvl", "architectures": ["InternVLForConditionalGeneration"],
             "vision_config": {"image_size": [448, 448], "patch_size": [14, 14]},
             "text_config": {"model_type": "qwen2"}, "downsample_ratio": 0.5}


def _folder(tmp_path, config, weights=True):
    folder = tmp_path / "InternVL3-1B"
    folder.mkdir()
    if config is not None:
        (folder / "config.json").write_text(config if isinstance(config, str) else json.dumps(config))
    if weights:
        (folder / "model.safetensors").write_bytes(b"\0" * 1024)
    return folder


# ---------------------------------------------------------------- the model folder


def test_an_hf_checkpoint_folder_is_accepted(tmp_path):
    folder = _folder(tmp_path, HF_CONFIG)
    found = inspect_model_folder(folder)
    assert found.path == folder and found.weight_bytes == 1024
    # THEN an InternVL3 tile costs 256 tokens: (448/14)^2 * 0.5^2
    assert tokens_per_tile(found.config) == 256


@pytest.mark.parametrize("make, error, words", [
    (lambda tmp: tmp / "nowhere", ModelFolderMissing, "does not exist"),
    (lambda tmp: _folder(tmp, None), ModelFolderMissing, "has no config.json"),
    (lambda tmp: _folder(tmp, HF_CONFIG, weights=False), ModelFolderMissing, "has no weights"),
    (lambda tmp: _folder(tmp, '{"model_type": "internvl", '), BadModelConfig, "config.json is damaged"),
    (lambda tmp: _folder(tmp, "[1, 2]"), BadModelConfig, "not a JSON object"),
    (lambda tmp: _folder(tmp, {"model_type": "internvl"}), BadModelConfig, "lacks its vision or text part"),
    (lambda tmp: _folder(tmp, {"model_type": "internvl_chat", "architectures": ["InternVLChatModel"],
                               "auto_map": {"AutoModel": "modeling_internvl_chat.InternVLChatModel"}}),
     NotAnHfCheckpoint, "original InternVL checkpoint"),
    (lambda tmp: _folder(tmp, {"model_type": "qwen2_vl"}), NotAnHfCheckpoint, "not an InternVL model"),
])
def test_a_folder_that_cannot_be_loaded_is_explained(tmp_path, make, error, words):
    # GIVEN a folder that is missing, incomplete, damaged or of the wrong kind
    folder = make(tmp_path)
    # WHEN it is checked
    with pytest.raises(error) as caught:
        inspect_model_folder(folder)
    # THEN the message says what is wrong in plain words, and there is a fix
    assert words in str(caught.value)
    assert caught.value.hint


def test_no_folder_set_is_explained():
    with pytest.raises(ModelFolderMissing, match="No model folder is set"):
        inspect_model_folder("")


def test_a_hub_id_that_is_not_cached_is_never_downloaded(monkeypatch, tmp_path):
    # GIVEN an empty Hugging Face cache and no network use allowed
    pytest.importorskip("huggingface_hub")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    # WHEN a hub id is given instead of a folder
    with pytest.raises(ModelFolderMissing, match="never downloads"):
        resolve_model("OpenGVLab/InternVL3-1B-hf")
    # THEN a folder path is passed through untouched
    assert resolve_model(str(tmp_path)) == str(tmp_path)


def test_errors_cross_the_pipe_with_their_kind_and_hint():
    err = error_from_wire(error_to_wire(BadModelConfig("damaged", hint="download again")))
    assert isinstance(err, BadModelConfig) and str(err) == "damaged" and err.hint == "download again"


# ---------------------------------------------------------------- device and dtype


@pytest.mark.parametrize("machine, device, dtype, want", [
    (Machine(cuda=((8, 6),)), "auto", "auto", ("cuda", "bfloat16", None)),       # Ampere: bf16
    (Machine(cuda=((7, 5),)), "auto", "auto", ("cuda", "float16", None)),        # Turing: fp16
    (Machine(cuda=((8, 0), (7, 0))), "auto", "auto", ("cuda", "float16", "auto")),  # mixed: fp16, split
    (Machine(cuda=((9, 0), (9, 0))), "auto", "auto", ("cuda", "bfloat16", "auto")),  # two GPUs: split
    (Machine(mps=True), "auto", "auto", ("mps", "float16", None)),                # Apple GPU: fp16
    (Machine(), "auto", "auto", ("cpu", "float32", None)),                        # CPU: fp32
    (Machine(cuda=((8, 6),)), "cpu", "auto", ("cpu", "float32", None)),           # asked for the CPU
    (Machine(cuda=((8, 6),)), "auto", "float16", ("cuda", "float16", None)),      # dtype from settings
])
def test_device_and_dtype_follow_the_model_card(machine, device, dtype, want):
    plan = plan_device(machine, device, dtype)
    assert (plan.device, plan.dtype, plan.device_map) == want
    assert plan.describe()


def test_eight_bit_loads_through_accelerate_on_a_gpu():
    plan = plan_device(Machine(cuda=((7, 5),), bitsandbytes=True), load_8bit=True)
    assert plan.load_8bit and plan.device_map == "auto" and "8 bits" in plan.describe()


@pytest.mark.parametrize("machine, device, dtype, eight, words", [
    (Machine(), "cuda", "auto", False, "sees none"),
    (Machine(), "mps", "auto", False, "Apple GPU"),
    (Machine(), "tpu", "auto", False, "Unknown device"),
    (Machine(cuda=((7, 5),)), "auto", "bfloat16", False, "compute capability 8.0"),
    (Machine(), "auto", "auto", True, "need an NVIDIA GPU"),
    (Machine(cuda=((8, 6),)), "auto", "auto", True, "bitsandbytes"),
])
def test_an_impossible_device_choice_is_explained(machine, device, dtype, eight, words):
    with pytest.raises(UnsupportedDevice, match=words) as caught:
        plan_device(machine, device, dtype, eight)
    assert caught.value.hint
