"""Task presets, request building, CPU mapping, saved custom prompts."""

from __future__ import annotations

import dataclasses
import json
import re

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


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _same_day(got: str | None, printed: str) -> bool:
    """An independent reading of a SROIE date (Malaysian: day first) against ours."""
    if got is None:
        return False
    if got == printed:
        return True
    y, m, d = (int(v) for v in got.split("-"))
    nums = re.findall(r"\d+", printed)
    mon = re.search(r"[A-Za-z]{3}", printed)
    day = int(nums[0])
    month = _MONTHS.index(mon.group(0).lower()) + 1 if mon else int(nums[1])
    year = int(nums[-1]) + (2000 if len(nums[-1]) == 2 else 0)
    return (y, m, d) == (year, month, day)


@pytest.mark.parametrize("item", [it for it in corpus_items("text-image") if it.get("gt_fields")],
                         ids=lambda it: it["file"])
def test_cpu_heuristic_fields_on_receipt_transcripts(item):
    lines = (CORPUS / "files" / item["gt_text"]).read_text(encoding="utf-8").splitlines()
    gt = json.loads((CORPUS / "files" / item["gt_fields"]).read_text(encoding="utf-8"))
    got = heuristic_fields(lines)
    assert set(got) == set(FIELDS_SCHEMA["properties"])
    # every SROIE date is found, as the same calendar day
    assert _same_day(got["date"], gt["date"]), (got["date"], gt["date"])


def test_cpu_heuristic_fields_hit_rate():
    hits = n = 0
    for item in corpus_items("text-image"):
        if not item.get("gt_fields"):
            continue
        lines = (CORPUS / "files" / item["gt_text"]).read_text(encoding="utf-8").splitlines()
        gt = json.loads((CORPUS / "files" / item["gt_fields"]).read_text(encoding="utf-8"))
        got = heuristic_fields(lines)
        total = float("".join(ch for ch in gt["total"] if ch.isdigit() or ch == "."))
        hits += _same_day(got["date"], gt["date"]) + (
            got["total"] is not None and abs(got["total"] - total) < 0.005)
        n += 2
    assert n and hits / n >= 0.8  # on exact transcripts; OCR noise lowers it


# Receipts written for these tests (not from the corpus): other shops, countries and layouts.
_RECEIPTS = [
    ("""WALGREENS #4417
1201 N STATE ST CHICAGO IL
TEL 312-555-0142
03/14/2019 5:42 PM
ADVIL 24CT        8.99
WATER 1L          1.29
SUBTOTAL          10.28
TAX 10.25%         1.05
TOTAL            $11.33
VISA TEND        $11.33
CHANGE             $0.00""", "WALGREENS #4417", "2019-03-14", 11.33),
    ("""Tesco Stores Ltd
Kensington Superstore
VAT No 220 4302 31
Milk 2L            £1.45
Bread              £1.10
BALANCE DUE        £2.55
CASH               £5.00
CHANGE             £2.45
10 MAR 2018 18:02""", "Tesco Stores Ltd", "2018-03-10", 2.55),
    ("""上海华联超市有限公司
地址：上海市南京东路100号
日期：2018年3月10日
矿泉水 2 x 1.50   3.00
面包        4.50
合计：¥7.50
实收：¥10.00
找零：¥2.50""", "上海华联超市有限公司", "2018-03-10", 7.5),
    ("""KEDAI RUNCIT AH HOCK (001234567-W)
NO 12 JALAN BESAR 81000 KULAI
CASH BILL
DATE: 18/03/18  TIME: 10:21
ITEM QTY AMOUNT
MILO 1KG 1 RM17.90
GARDENIA 2 RM7.00
TOTAL RM24.90
ROUNDING ADJ 0.00
TOTAL PAYABLE RM24.90
CASH RM50.00""", "KEDAI RUNCIT AH HOCK", "2018-03-18", 24.90),
    ("""Café Müller GmbH
Hauptstraße 5, 10115 Berlin
2018-03-10 12:31
2x Espresso        5,20
1x Kuchen          3,80
Summe / Total      9,00
Gegeben           10,00
Rückgeld           1,00""", "Café Müller GmbH", "2018-03-10", 9.0),
    ("""THE COFFEE BEAN
Invoice: 000123
Mar 10, 2018
Latte          $4.75
Muffin         $3.45
Total Amount:S8.20
Cash $10.00""", "THE COFFEE BEAN", "2018-03-10", 8.2),
    # OCR slips: "Anount", "lnclusive"; the amount tendered is printed as a "total" too
    ("""Metro Parking Sdn Bhd (123456-A)
Tax Invoice no. 1234/0101
07/04/19 09:12
Parking ticket 4.00 RM
Total Sales (lnclusive of GST) : 4.00 RM
Anount Incl, GST 4.00 RM
Accepted total 10.00 RM
Change 6.00 RM""", "Metro Parking Sdn Bhd", "07/04/19", 4.0),
]


@pytest.mark.parametrize("text,vendor,date,total", _RECEIPTS, ids=lambda v: str(v)[:12])
def test_cpu_heuristic_fields_on_receipts_of_other_shops(text, vendor, date, total):
    # GIVEN OCR-like text lines of a receipt in another country's format
    # WHEN the CPU engine's field rules read them
    got = heuristic_fields(text.splitlines())
    # THEN vendor, date (ISO) and total come out, currency signs and cash lines aside
    assert (got["vendor"], got["date"]) == (vendor, date)
    assert got["total"] == pytest.approx(total)


@pytest.mark.parametrize("line,date", [
    ("10 MAR 2018", "2018-03-10"), ("05 Mar201818:24", "2018-03-05"), ("10-Mar-18", "2018-03-10"),
    ("18/03/18", "2018-03-18"), ("2018-03-10", "2018-03-10"), ("2018/3/9", "2018-03-09"),
    ("March 10, 2018", "2018-03-10"), ("04-05-2018", "04-05-2018"), ("11/5/2018 14:02", "11/5/2018"),
    ("Date: 25.12.2018", "2018-12-25"), ("2018年3月10日", "2018-03-10"),
])
def test_dates_in_common_formats(line, date):
    assert tasks.find_date([line]) == date


def test_no_date_in_addresses_times_or_invoice_numbers():
    assert tasks.find_date(["12, JALAN TAMPOI 7/4", "18:24:05", "Invoice #:OR18030502160349",
                            "TEL 03-5523 1234"]) is None


def test_parse_fields_tolerates_fences_and_fills_keys():
    from desktop_ocr.core.tasks import parse_fields

    got = parse_fields('Sure:\n```json\n{"vendor": "ACME", "total": 3.5, "note": "x"}\n```')
    assert got["vendor"] == "ACME" and got["total"] == 3.5 and got["date"] is None
    assert got["line_items"] == [] and got["note"] == "x"
    assert parse_fields("no json here") is None
    assert parse_fields("[1, 2]") is None
