"""Task presets, request building, CPU mapping, saved custom prompts."""

from __future__ import annotations

import dataclasses
import json

import pytest
from corpus_data import CORPUS, corpus_items
from PIL import Image

from desktop_ocr.core import tasks
from desktop_ocr.core.contract import Request
from desktop_ocr.core.settings import Settings
from desktop_ocr.core.tasks import (
    FIELDS_SCHEMA,
    PRESETS,
    TASK_IDS,
    CustomPromptStore,
    build_request,
    get_task,
    heuristic_fields,
    pick_language,
    request_fields,
)


def test_every_task_the_settings_name_has_a_preset():
    help_text = next(f for f in dataclasses.fields(Settings) if f.name == "task").metadata["help"]
    for tid in ("text", "markdown", "table", "handwriting", "formula", "fields", "custom"):
        assert tid in TASK_IDS and tid in help_text


@pytest.mark.parametrize("tid", TASK_IDS)
def test_presets_are_complete_in_both_languages(tid):
    t = get_task(tid)
    assert t.title("en") and t.title("zh_CN") and t.title("en") != t.title("zh_CN")
    assert t.prompt("en").isascii()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in t.prompt("zh_CN"))
    assert t.output in ("text", "markdown", "table", "latex", "json")
    assert t.cpu.mode in ("text", "table", "fields", "codes", "unsupported")
    if tid != "text":  # every other task loses something on the CPU engine: say what
        assert t.cpu.note("en") and t.cpu.note("zh_CN")
    # prompt + image (13 tiles x 256 tokens) + answer must fit the default session length
    assert t.decoding.max_tokens + 13 * 256 + 512 <= Settings().session_len


def test_prompts_ask_for_what_the_output_kind_needs():
    assert "rowspan" in get_task("table").prompt("en") and "colspan" in get_task("table").prompt("zh_CN")
    assert "LaTeX" in get_task("formula").prompt("en")
    md = get_task("markdown").prompt("en")
    assert "HTML" in md and "LaTeX" in md
    for key in FIELDS_SCHEMA["required"]:
        assert key in get_task("fields").prompt("en") and key in get_task("fields").prompt("zh_CN")


def test_language_pick():
    assert pick_language("zh_CN") == pick_language("zh-Hans") == pick_language("zh") == "zh_CN"
    assert pick_language("en_US") == pick_language("de") == "en"
    assert get_task("text").prompt("zh_TW").startswith("提取")


def test_request_fields_build_a_valid_request():
    img = Image.new("RGB", (8, 8), "white")
    for tid in TASK_IDS:
        req = Request(image=img, **request_fields(tid, language="en"))
        assert req.task == tid and req.prompt == get_task(tid).prompt("en")
        assert req.max_tokens == get_task(tid).decoding.max_tokens
    fields = request_fields("fields")
    rf = fields["response_format"]
    assert rf["type"] == "json_schema" and rf["json_schema"]["schema"] == FIELDS_SCHEMA
    json.dumps(rf)  # goes on the wire as is
    rf["json_schema"]["schema"]["type"] = "broken"  # a caller's change must not leak
    assert request_fields("fields")["response_format"]["json_schema"]["schema"]["type"] == "object"
    assert request_fields("text")["response_format"] is None


def test_custom_prompt_and_overrides():
    f = request_fields("custom", custom_prompt="  List every date.  ",
                       overrides={"max_tokens": "512", "temperature": None})
    assert f["prompt"] == "List every date." and f["max_tokens"] == 512 and f["temperature"] == 0.0
    with pytest.raises(ValueError, match="decoding"):
        request_fields("text", overrides={"prompt": "x"})
    with pytest.raises(ValueError, match="unknown task"):
        get_task("poetry")


def test_build_request_applies_only_changed_settings():
    img = Image.new("RGB", (8, 8))
    s = Settings()
    req = build_request(img, "table", settings=s, label="p1")
    assert req.max_tokens == PRESETS["table"].decoding.max_tokens and req.label == "p1"
    s.max_dynamic_patch = 4
    req = build_request(img, "table", settings=s, overrides={"max_tokens": 100})
    assert req.max_dynamic_patch == 4 and req.max_tokens == 100
    assert req.repetition_penalty == PRESETS["table"].decoding.repetition_penalty


def test_custom_prompt_store_round_trip_and_atomicity(tmp_path, monkeypatch):
    store = CustomPromptStore()
    assert store.path.parent == Settings.path().parent
    assert store.load() == []
    store.add("dates", "List every date.")
    store.add("totals", "Sum the amounts.", "json")
    store.add("dates", "List every date as ISO.")
    assert [(p.name, p.prompt, p.output) for p in store.load()] == [
        ("totals", "Sum the amounts.", "json"), ("dates", "List every date as ISO.", "text")]
    assert store.remove("totals") and not store.remove("totals")
    before = store.path.read_bytes()

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tasks.os, "fsync", full)
    with pytest.raises(OSError):
        store.add("new", "x")
    monkeypatch.undo()
    assert store.path.read_bytes() == before
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["custom_prompts.json"]
    store.path.write_text("{not json", encoding="utf-8")
    assert store.load() == []
    with pytest.raises(ValueError):
        store.add("", "x")


@pytest.mark.parametrize("item", [it for it in corpus_items("text-image") if it.get("gt_fields")],
                         ids=lambda it: it["file"])
def test_cpu_heuristic_fields_on_receipt_transcripts(item):
    lines = (CORPUS / "files" / item["gt_text"]).read_text(encoding="utf-8").splitlines()
    gt = json.loads((CORPUS / "files" / item["gt_fields"]).read_text(encoding="utf-8"))
    got = heuristic_fields(lines)
    assert set(got) == set(FIELDS_SCHEMA["properties"])
    if got["date"] is not None:
        assert got["date"] == gt["date"] or gt["date"] in got["date"]


def test_cpu_heuristic_fields_hit_rate():
    hits = n = 0
    for item in corpus_items("text-image"):
        if not item.get("gt_fields"):
            continue
        lines = (CORPUS / "files" / item["gt_text"]).read_text(encoding="utf-8").splitlines()
        gt = json.loads((CORPUS / "files" / item["gt_fields"]).read_text(encoding="utf-8"))
        got = heuristic_fields(lines)
        total = float("".join(ch for ch in gt["total"] if ch.isdigit() or ch == "."))
        hits += (got["date"] == gt["date"]) + (got["total"] is not None and abs(got["total"] - total) < 0.005)
        n += 2
    assert n and hits / n >= 0.6  # on exact transcripts; OCR noise lowers it


def test_parse_fields_tolerates_fences_and_fills_keys():
    from desktop_ocr.core.tasks import parse_fields

    got = parse_fields('Sure:\n```json\n{"vendor": "ACME", "total": 3.5, "note": "x"}\n```')
    assert got["vendor"] == "ACME" and got["total"] == 3.5 and got["date"] is None
    assert got["line_items"] == [] and got["note"] == "x"
    assert parse_fields("no json here") is None
    assert parse_fields("[1, 2]") is None
