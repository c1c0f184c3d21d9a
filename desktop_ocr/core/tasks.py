"""Task presets: what to ask the model for each kind of job, with its decoding parameters.

A preset carries its prompt in English and Chinese (picked by the UI language), the
decoding parameters that suit it, the kind of output it produces, and what the CPU engine
can honestly do with it (`cpu`). `request_fields()` turns a preset into the keyword
arguments of `core.contract.Request`; `build_request()` builds the Request itself.

Custom prompts the user saves live in `CustomPromptStore`, one JSON file beside the
settings file, written atomically.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import os  # noqa: F401 - tests patch tasks.os (the atomic write goes through os.replace)
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from desktop_ocr.core.atomic import atomic_write_text
from desktop_ocr.core.contract import Decoding, Request
from desktop_ocr.core.language import LANGUAGES, pick_language  # noqa: F401 - re-exported

if TYPE_CHECKING:
    from PIL import Image

    from desktop_ocr.core.settings import Settings

log = logging.getLogger(__name__)

OutputKind = Literal["text", "markdown", "table", "latex", "json"]
CpuMode = Literal["text", "table", "fields", "codes", "unsupported"]


@dataclass(frozen=True)
class CpuSupport:
    """What the embedded CPU OCR engine does for a task (it has no prompt).

    mode: "text"   lines of recognised text in reading order
          "table"  a grid rebuilt from the line boxes, returned as an HTML table
          "fields" heuristic key fields (date, total, vendor) from the text lines, as JSON
          "codes"  barcodes and QR codes read by zxing-cpp, as JSON (core/codes.py)
          "unsupported"  the CPU engine refuses the task
    """

    mode: CpuMode
    note_en: str = ""
    note_zh: str = ""

    def note(self, language: str = "en") -> str:
        return self.note_zh if pick_language(language) == "zh_CN" and self.note_zh else self.note_en


@dataclass(frozen=True)
class Task:
    id: str
    title_en: str
    title_zh: str
    prompt_en: str
    prompt_zh: str
    output: OutputKind
    decoding: Decoding = field(default_factory=Decoding)
    cpu: CpuSupport = field(default_factory=lambda: CpuSupport("text"))
    response_format: dict[str, Any] | None = None
    editable_prompt: bool = False  # the custom task: the user writes the prompt
    # The engine that runs this task whatever engine the user chose (None = the chosen
    # one): the codes task is read by the barcode reader, which lives in the CPU engine;
    # a vision-language model cannot decode a QR code.
    engine: str | None = None

    def title(self, language: str = "en") -> str:
        return self.title_zh if pick_language(language) == "zh_CN" else self.title_en

    def prompt(self, language: str = "en") -> str:
        return self.prompt_zh if pick_language(language) == "zh_CN" else self.prompt_en


# ---------------------------------------------------------------------- key fields schema

FIELDS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "vendor": {"type": ["string", "null"]},
        "date": {"type": ["string", "null"]},
        "invoice_number": {"type": ["string", "null"]},
        "currency": {"type": ["string", "null"]},
        "subtotal": {"type": ["number", "null"]},
        "tax": {"type": ["number", "null"]},
        "total": {"type": ["number", "null"]},
        "line_items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "description": {"type": "string"},
                    "quantity": {"type": ["number", "null"]},
                    "unit_price": {"type": ["number", "null"]},
                    "amount": {"type": ["number", "null"]},
                },
                "required": ["description", "quantity", "unit_price", "amount"],
            },
        },
    },
    "required": ["vendor", "date", "invoice_number", "currency", "subtotal", "tax", "total",
                 "line_items"],
}
FIELD_NAMES = tuple(FIELDS_SCHEMA["properties"])
LINE_ITEM_FIELDS = tuple(FIELDS_SCHEMA["properties"]["line_items"]["items"]["properties"])

FIELDS_RESPONSE_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {"name": "receipt_fields", "schema": FIELDS_SCHEMA},
}


# ---------------------------------------------------------------------- presets

_TABLE_HTML_EN = ("as HTML: one <table> per table, <thead> for the header rows, <tr> for each "
                  "row, <th>/<td> for cells, and rowspan/colspan for merged cells")
_TABLE_HTML_ZH = ("用 HTML 表示：每个表格一个 <table>，表头行放在 <thead> 中，每行用 <tr>，"
                  "单元格用 <th>/<td>，合并单元格用 rowspan/colspan")

PRESETS: dict[str, Task] = {t.id: t for t in (
    Task(
        "text", "Plain text", "纯文本",
        "Extract all text from this image in natural reading order. Output only the text, "
        "keeping the line breaks of the image, without comments or formatting.",
        "提取图中的全部文字，按自然阅读顺序输出。只输出文字，保留原有的换行，不要添加说明或格式。",
        "text", Decoding(max_tokens=4096),
        CpuSupport("text"),
    ),
    Task(
        "markdown", "Markdown document", "Markdown 文档",
        "Convert this document image to Markdown in reading order. Use # headings for "
        "headings and - or 1. for lists. Write every table " + _TABLE_HTML_EN + ". Write "
        "formulas in LaTeX, $...$ inline and $$...$$ on their own line. Output only the "
        "Markdown.",
        "将这张文档图片按阅读顺序转换为 Markdown。标题用 #，列表用 - 或 1.。表格" + _TABLE_HTML_ZH +
        "。公式用 LaTeX，行内用 $...$，独立公式用 $$...$$。只输出 Markdown。",
        "markdown", Decoding(max_tokens=8192),
        CpuSupport("text", "The CPU engine gives plain text in reading order, without "
                           "headings, lists or formulas.",
                   "CPU 引擎只输出按阅读顺序排列的纯文本，没有标题、列表或公式。"),
    ),
    Task(
        "table", "Table", "表格",
        "Recognise the table in this image and output it " + _TABLE_HTML_EN + ". Copy every "
        "cell's text exactly, with its numbers, signs and units; leave empty cells empty. "
        "Output only the HTML.",
        "识别图中的表格，" + _TABLE_HTML_ZH + "。准确抄录每个单元格的文字，包括数字、符号和单位；"
        "空单元格保持为空。只输出 HTML。",
        # Tables legitimately repeat tokens (<td>, digits) row after row: a strong
        # repetition penalty garbles them, so keep it mild and let the loop guard act.
        "table", Decoding(max_tokens=8192, repetition_penalty=1.02),
        CpuSupport("table", "The CPU engine reads the table's rows, columns and merged "
                            "cells with a small structure model and fills them with the "
                            "recognised text; complex headers may come out wrong.",
                   "CPU 引擎用小型表格结构模型识别行、列和合并单元格，再填入识别出的文字；"
                   "复杂表头可能出错。"),
    ),
    Task(
        "handwriting", "Handwriting", "手写",
        "This image contains handwriting. Transcribe it exactly as written, keeping line "
        "breaks, spelling and punctuation. Write [illegible] for a word you cannot read. "
        "Output only the transcription.",
        "图中是手写文字。请按原样转写，保留换行、拼写和标点。无法辨认的词写作 [无法辨认]。只输出转写内容。",
        "text", Decoding(max_tokens=4096),
        CpuSupport("text", "The CPU engine is trained on print: expect many errors on "
                           "handwriting.",
                   "CPU 引擎针对印刷体训练，手写识别错误会较多。"),
    ),
    Task(
        "formula", "Formula (LaTeX)", "公式（LaTeX）",
        "Convert the mathematical formulas in this image to LaTeX. Output only the LaTeX, "
        "one formula per line, without $ delimiters or comments.",
        "将图中的数学公式转换为 LaTeX。只输出 LaTeX，每行一个公式，不要 $ 定界符或说明。",
        # LaTeX repeats \\, & and braces by nature; formulas are short, so fewer tiles do.
        "latex", Decoding(max_tokens=2048, repetition_penalty=1.02, max_dynamic_patch=6),
        CpuSupport("text", "The CPU engine cannot write LaTeX: you get the formula's "
                           "characters as plain text.",
                   "CPU 引擎无法输出 LaTeX，只给出公式中的字符作为纯文本。"),
    ),
    Task(
        "fields", "Key fields (JSON)", "关键字段（JSON）",
        "Extract the key fields of this receipt or invoice as JSON with the keys vendor, "
        "date, invoice_number, currency, subtotal, tax, total and line_items (each with "
        "description, quantity, unit_price and amount). Use null for a field that is not on "
        "the document. Write the date as YYYY-MM-DD when it is unambiguous, otherwise as "
        "printed; the currency as its ISO code; amounts as plain numbers without currency "
        "signs or thousands separators. Output only the JSON.",
        "提取这张收据或发票的关键字段，输出 JSON，键为 vendor、date、invoice_number、currency、"
        "subtotal、tax、total 和 line_items（每项含 description、quantity、unit_price、amount）。"
        "票据上没有的字段填 null。日期明确时写成 YYYY-MM-DD，否则照原样；币种写 ISO 代码；"
        "金额写成不带货币符号和千位分隔符的数字。只输出 JSON。",
        "json", Decoding(max_tokens=2048),
        CpuSupport("fields", "The CPU engine guesses date, total and vendor from the text "
                             "lines; other fields stay empty.",
                   "CPU 引擎只能从文字行中推测日期、总额和商家，其他字段为空。"),
        response_format=FIELDS_RESPONSE_FORMAT,
    ),
    Task(
        "custom", "Custom prompt", "自定义提示",
        "Please extract all text from this image, in reading order.",
        "请按阅读顺序提取图中的全部文字。",
        "text", Decoding(max_tokens=4096),
        CpuSupport("text", "The CPU engine ignores the prompt and gives plain text.",
                   "CPU 引擎忽略提示词，只输出纯文本。"),
        editable_prompt=True,
    ),
    Task(
        "codes", "Barcodes and QR codes", "条码和二维码",
        "List every barcode and QR code in this image as JSON: a list of objects with the "
        "keys format and text. Output only the JSON.",
        "以 JSON 列出图中的全部条码和二维码：对象列表，键为 format 和 text。只输出 JSON。",
        "json", Decoding(max_tokens=1024),
        CpuSupport("codes", "Codes are decoded by the built-in barcode reader (zxing-cpp), "
                            "whichever engine is chosen.",
                   "条码由内置的条码识别器（zxing-cpp）解码，与所选引擎无关。"),
        engine="cpu",
    ),
)}
TASK_IDS: tuple[str, ...] = tuple(PRESETS)


def get_task(task_id: str) -> Task:
    try:
        return PRESETS[task_id]
    except KeyError:
        raise ValueError(f"unknown task {task_id!r}: choose one of {', '.join(TASK_IDS)}") from None


# ---------------------------------------------------------------------- requests

_DECODING_KEYS = tuple(f.name for f in dataclasses.fields(Decoding))


def request_fields(task: Task | str, *, language: str = "en", custom_prompt: str | None = None,
                   overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Keyword arguments for `core.contract.Request` (all but `image` and `label`).

    `custom_prompt` replaces the preset's prompt (required text for the custom task).
    `overrides` may set any decoding field (max_tokens, temperature, top_k,
    repetition_penalty, max_dynamic_patch); None values are ignored.
    """
    t = get_task(task) if isinstance(task, str) else task
    prompt = custom_prompt.strip() if custom_prompt and custom_prompt.strip() else t.prompt(language)
    out: dict[str, Any] = {"task": t.id, "prompt": prompt,
                           **dataclasses.asdict(t.decoding),
                           "response_format": copy.deepcopy(t.response_format)}
    for key, value in (overrides or {}).items():
        if key not in _DECODING_KEYS:
            raise ValueError(f"not a decoding parameter: {key}")
        if value is not None:
            out[key] = type(getattr(t.decoding, key))(value)
    return out


def overrides_from_settings(settings: Settings) -> dict[str, Any]:
    """The decoding settings the user changed from their defaults (those beat presets)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(settings):
        if f.name in _DECODING_KEYS and f.default is not dataclasses.MISSING:
            value = getattr(settings, f.name)
            if value != f.default:
                out[f.name] = value
    return out


def build_request(image: Image.Image, task: Task | str, *, language: str = "en",
                  custom_prompt: str | None = None, settings: Settings | None = None,
                  overrides: Mapping[str, Any] | None = None, label: str = "") -> Request:
    merged = dict(overrides_from_settings(settings)) if settings is not None else {}
    merged.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return Request(image=image, label=label,
                   **request_fields(task, language=language, custom_prompt=custom_prompt,
                                    overrides=merged))


# ---------------------------------------------------------------------- CPU key fields

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MON = r"(?P<mon>jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_YEAR = r"(?P<y>(?:19|20)\d{2}|\d{2}(?!\d))"  # "201818:24": a year glued to the time
_DATE_RXS = (
    # 2018-03-10, 2018/3/10, 2018.03.10
    re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})(?P<s>[-/.])(?P<m>\d{1,2})(?P=s)(?P<d>\d{1,2})(?!\d)"),
    # 2018年3月10日
    re.compile(r"(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日"),
    # 10 MAR 2018, 10-Mar-18, 05Mar2018, 10.MAR.2018
    re.compile(r"(?<![\d:])(?P<d>\d{1,2})\s*[-./ ]?\s*" + _MON + r"\s*[-./, ]?\s*" + _YEAR, re.I),
    # MAR 10, 2018 / March 10 2018
    re.compile(r"\b" + _MON + r"\s*(?P<d>\d{1,2})(?:st|nd|rd|th)?\s*,?\s*" + _YEAR, re.I),
    # 18/03/18, 10/3/2018, 10-03-2018, 10.03.2018
    re.compile(r"(?<![\d/.:-])(?P<a>\d{1,2})(?P<s>[-/.])(?P<b>\d{1,2})(?P=s)(?P<y>(?:19|20)\d{2}|\d{2})(?![\d/.:])"),
)
_DATE_LABEL_RX = re.compile(r"\bdate\b|日期|dated", re.I)
_AMOUNT_RX = re.compile(r"(-?\d{1,3}(?:[,\s]\d{3})*(?:[.,]\d{2})|-?\d+[.,]\d{2})(?![\d%])(?!\s*%)")
_TOTAL_RX = re.compile(r"(grand\s*t[o0a]tal|t[o0a]tal\s*(amount|due|payable|incl[^\s]*)?|a[mn]ount\s*(due|payable|[il1]ncl)|"
                       r"balance\s*due|nett?\s*t[o0a]tal|合计|总计|总额|应付|实付)", re.I)
_NOT_TOTAL_RX = re.compile(r"(sub\s*-?\s*total|total\s*(qty|quantity|items?|disc|savings?)|小计|"
                           r"rounding|change|cash|tender|accepted|received|saving|discount|找零|实收|"
                           r"point|deposit)", re.I)
_ROUNDING_RX = re.compile(r"rounding|round\s*adj|舍入", re.I)
_TAX_RX = re.compile(r"\b(gst|vat|tax|sst)\b|税", re.I)
_SUBTOTAL_RX = re.compile(r"sub\s*-?\s*total|小计", re.I)
# OCR reads "Incl." as "lncl," or "Inclucive": the keywords allow its usual confusions
_FINAL_RX = re.compile(r"grand|\b[il1]ncl|rounded|nett?\b|payable|due|应付|实付", re.I)
_EXCL_RX = re.compile(r"\bexcl|before", re.I)
_VENDOR_RX = re.compile(r"\b(sdn\.?\s*bhd|bhd|ltd|limited|inc|llc|gmbh|co\.|corp|enterprise|"
                        r"trading|restaurant|store|mart|shop|hotel|cafe|bakery|pharmacy)\b|"
                        r"公司|商店|超市|酒店|餐厅|商行|药房", re.I)
_NOT_VENDOR_RX = re.compile(r"invoice|receipt|welcome|tax|cash\s*bill|发票|收据|欢迎|"
                            r"\btel\b|phone|fax|\bgst\b|reg\b|www\.|@", re.I)
# a registration number after the name: "(88842-H)", "(CO. NO:20154-T)", "Co. Reg. 123"
_VENDOR_TAIL_RX = re.compile(r"\s*[(\[][^()\[\]]*\d[^()\[\]]*[)\]]?\s*$|\s+(co\.?\s*(reg|no)\b.*)$", re.I)


def find_date(lines: Sequence[str]) -> str | None:
    """The receipt's date: from a line labelled "date" first, else the first date-like
    token; written YYYY-MM-DD when the reading is unambiguous (a month name, a year first,
    or a day above 12), otherwise as printed."""
    labelled = [ln for ln in lines if _DATE_LABEL_RX.search(ln)]
    for group in (labelled, lines):
        for ln in group:
            for rx in _DATE_RXS:
                for m in rx.finditer(ln):
                    out = _date_value(m)
                    if out is not None:
                        return out
    return None


def _date_value(m: re.Match[str]) -> str | None:
    g = m.groupdict()
    y = g.get("y") or ""
    year = int(y) + (2000 if len(y) == 2 else 0)
    if g.get("mon"):
        month, day = _MONTHS.index(g["mon"][:3].lower()) + 1, int(g["d"])
    elif g.get("m"):
        month, day = int(g["m"]), int(g["d"])
    else:
        a, b = int(g["a"]), int(g["b"])
        if a > 12 >= b:
            day, month = a, b
        elif b > 12 >= a:
            day, month = b, a
        elif 1 <= a <= 12 and 1 <= b <= 12:
            # both readings are real dates: keep the text as printed
            return m.group(0) if 1 <= a <= 31 and 1 <= b <= 31 else None
        else:
            return None
    if not (1 <= month <= 12 and 1 <= day <= 31 and 1990 <= year <= 2099):
        return None
    try:
        import datetime as _dt

        return _dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def _amount(text: str) -> float | None:
    found = _AMOUNT_RX.findall(text)
    if not found:
        return None
    raw = found[-1].replace(" ", "")
    if re.search(r",\d{2}$", raw) and "." not in raw:
        raw = raw.replace(",", ".")
    try:
        return float(raw.replace(",", ""))
    except ValueError:
        return None


def _vendor(head: Sequence[str]) -> str | None:
    def clean(ln: str) -> str:
        return _VENDOR_TAIL_RX.sub("", ln).strip(" .,:;-")

    for ln in head:
        if _VENDOR_RX.search(ln) and not _NOT_VENDOR_RX.search(ln):
            return clean(ln) or None
    for ln in head:
        letters = re.findall(r"[A-Za-z\u4e00-\u9fff]", ln)
        if len(letters) >= 3 and len(letters) >= 0.5 * len(ln.replace(" ", "")) and \
                not _NOT_VENDOR_RX.search(ln):
            return clean(ln) or None
    return None


def heuristic_fields(lines: Sequence[str]) -> dict[str, Any]:
    """Key fields guessed from OCR text lines (what the CPU engine can do without a model).

    vendor = the first line of the head naming a company (Sdn Bhd, Ltd, 公司, a shop) or
    else the first mostly-letters line, registration numbers cut off; date = `find_date`;
    total = the amount on the last "total" line that is not a subtotal / quantity / cash
    / tendered line (the amount may sit on the next line), a total after a rounding line
    or one marked grand / incl. / nett beating a bare "total"; without any total line the
    subtotal. Subtotal and tax likewise. The rest stays null.
    """
    out: dict[str, Any] = dict.fromkeys(FIELD_NAMES)
    out["line_items"] = []
    clean = [ln.strip() for ln in lines if ln and ln.strip()]
    out["vendor"] = _vendor(clean[:8])
    out["date"] = find_date(clean)

    def amount_near(i: int) -> float | None:
        value = _amount(clean[i])
        if value is None and i + 1 < len(clean) and not re.search(r"[A-Za-z]{3}", clean[i + 1]):
            value = _amount(clean[i + 1])
        return value

    best: tuple[int, float | None] = (-1, None)
    rounded = False
    for i, ln in enumerate(clean):
        if _ROUNDING_RX.search(ln):
            rounded = True
        if _SUBTOTAL_RX.search(ln):
            if out["subtotal"] is None:
                out["subtotal"] = amount_near(i)
        elif _TOTAL_RX.search(ln) and not _NOT_TOTAL_RX.search(ln) and not (
                _TAX_RX.search(ln) and not _FINAL_RX.search(ln) and not _EXCL_RX.search(ln)):
            value = amount_near(i)
            # after a rounding line the total is the rounded one; "grand total", "incl.
            # tax", "amount due" beat a bare "total"; "excl." loses
            score = 3 if rounded else 2 if _FINAL_RX.search(ln) else 0 if _EXCL_RX.search(ln) else 1
            if value is not None and score >= best[0]:
                best = (score, value)
            rounded = False  # only the first total after the rounding is the rounded one
        elif _TAX_RX.search(ln) and out["tax"] is None:
            out["tax"] = amount_near(i)
    out["total"] = best[1] if best[1] is not None else out["subtotal"]
    return out


def parse_fields(text: str) -> dict[str, Any] | None:
    """The key-fields JSON in a model answer (code fences and chatter around it tolerated),
    with every schema key present (missing ones None); None when no JSON object is found."""
    start = text.find("{")
    end = text.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        obj = json.loads(text[start:end + 1])
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    out: dict[str, Any] = {k: obj.get(k) for k in FIELD_NAMES}
    items = obj.get("line_items")
    out["line_items"] = [it for it in items if isinstance(it, dict)] if isinstance(items, list) else []
    out.update({k: v for k, v in obj.items() if k not in out})  # keep extra keys the model gave
    return out


# ---------------------------------------------------------------------- custom prompts

@dataclass
class CustomPrompt:
    name: str
    prompt: str
    output: OutputKind = "text"


class CustomPromptStore:
    """The user's saved custom prompts: a JSON list beside the settings file."""

    def __init__(self, path: Path | None = None) -> None:
        if path is None:
            from desktop_ocr.core.settings import Settings

            path = Settings.path().parent / "custom_prompts.json"
        self.path = path

    def load(self) -> list[CustomPrompt]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable custom prompts file %s: %s", self.path, exc)
            return []
        out: list[CustomPrompt] = []
        for entry in data if isinstance(data, list) else []:
            if isinstance(entry, dict) and entry.get("name") and entry.get("prompt"):
                output = entry.get("output", "text")
                out.append(CustomPrompt(str(entry["name"]), str(entry["prompt"]),
                                        output if output in get_args(OutputKind) else "text"))
        return out

    def save_all(self, prompts: Sequence[CustomPrompt]) -> None:
        """Write atomically: a crash or a full disk leaves the previous file intact."""
        payload = json.dumps([dataclasses.asdict(p) for p in prompts], indent=2, ensure_ascii=False)
        atomic_write_text(self.path, payload, mode=0o600)

    def add(self, name: str, prompt: str, output: OutputKind = "text") -> CustomPrompt:
        """Save a prompt under `name` (replacing one of the same name)."""
        name, prompt = name.strip(), prompt.strip()
        if not name or not prompt:
            raise ValueError("a custom prompt needs a name and some text")
        item = CustomPrompt(name, prompt, output)
        prompts = [p for p in self.load() if p.name != name]
        prompts.append(item)
        self.save_all(prompts)
        return item

    def remove(self, name: str) -> bool:
        prompts = self.load()
        kept = [p for p in prompts if p.name != name]
        if len(kept) == len(prompts):
            return False
        self.save_all(kept)
        return True

    def get(self, name: str) -> CustomPrompt | None:
        return next((p for p in self.load() if p.name == name), None)
