"""The model catalog shipped as data: it loads, it is consistent, and lookups work."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from desktop_ocr.core import catalog


def test_the_shipped_catalog_has_the_families_the_issue_asks_for():
    # GIVEN the catalog in the package
    cat = catalog.load()
    names = {m.name for m in cat.models}
    # THEN InternVL3 (1-78B, AWQ variants), InternVL3.5 and Qwen2.5-VL (3-72B) are there
    for size in ("1B", "2B", "8B", "9B", "14B", "38B", "78B"):
        assert f"InternVL3-{size}" in names and f"InternVL3-{size}-AWQ" in names
    for size in ("3B", "7B", "32B", "72B"):
        assert f"Qwen2.5-VL-{size}" in names
    assert {"InternVL3.5-1B", "InternVL3.5-8B", "InternVL3.5-38B"} <= names
    assert cat.default_family == "internvl3"
    assert all(cat.require(n).family == "internvl3" for n in cat.advice_order)


def test_every_entry_is_complete_and_its_need_grows_with_the_session():
    for m in catalog.load().models:
        assert m.params_b > 0 and m.weights_gb > 0 and m.kv_bytes_per_token > 0
        assert m.backend in catalog.BACKENDS and m.licence and (m.hf or m.modelscope)
        assert m.need_gib(32768) > m.need_gib(16384) > m.weights_gib
        if m.awq:
            base = catalog.load().require(m.base)
            assert base.family == m.family and m.weights_gb < base.weights_gb


def test_lookup_by_name_or_hub_id_and_family_of_a_folder(tmp_path):
    cat = catalog.load()
    assert cat.get("opengvlab/internvl3-8b-awq").name == "InternVL3-8B-AWQ"
    assert cat.get("Qwen/Qwen2.5-VL-7B-Instruct").name == "Qwen2.5-VL-7B"
    assert cat.get("OpenGVLab/InternVL3_5-8B").name == "InternVL3.5-8B"
    assert cat.get("nope/nothing") is None and cat.get("") is None
    with pytest.raises(KeyError, match="models list"):
        cat.require("InternVL3-3B")
    # A folder the catalog does not know: its config.json's architecture decides.
    folder = tmp_path / "my-finetune"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"architectures": ["Qwen2_5_VLForConditionalGeneration"]}))
    assert cat.family_of(str(folder)).id == "qwen2_5_vl"
    assert cat.family_of("internvl3").id == "internvl3"
    assert cat.family_of(str(tmp_path / "nothing-here")) is None


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: d["models"].append(dict(d["models"][0])), "duplicate"),
    (lambda d: d["models"][0].update(backend="vllm"), "backend"),
    (lambda d: d["models"][0].update(hf="not a hub id"), "bad hub id"),
    (lambda d: d["advice_order"].append("InternVL9-1B"), "advice_order"),
    (lambda d: d["models"][0].pop("kv_bytes_per_token"), "malformed"),
])
def test_a_malformed_catalog_is_refused_with_the_reason(mutate, message):
    data = json.loads(resources.files("desktop_ocr").joinpath("resources/models.json").read_text())
    mutate(data)
    with pytest.raises(ValueError, match=message):
        catalog.parse(data)
