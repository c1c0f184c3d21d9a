"""Synthetic table images with known HTML, for checking table recognition on data
nobody tuned it on.

Every table comes from one integer seed (`render(seed)`), so the set is the same on
every machine: PyMuPDF's `Story` lays the HTML out (rowspan/colspan, CSS borders and
backgrounds, its built-in CJK fallback font for Chinese), the page is rasterised, cropped
to the table and, for some seeds, damaged like a scan (skew, blur, noise, JPEG).

What varies: 3-7 columns, 3-12 body rows; headers over 1-3 rows with column groups
(colspan) and labels beside them (rowspan); cells long enough to wrap onto 2-3 lines;
group labels spanning body rows and full-width section rows; ruled, unruled (booktabs)
and zebra styles; numbers with decimal points or decimal commas, exponents (`4,131E-06`,
`1.2e-05`), percentages, mean ± SD and intervals; Chinese headers and labels; 7-11 pt
type rasterised at 100-200 dpi.

Two disjoint seed ranges:
  DEV_SEEDS   may be looked at while developing (`python bench/table_gen.py --dev DIR`
              writes them out with their HTML);
  HELD_SEEDS  the generated validation set: only scored, at the end, never looked at or
              tuned on (bench/cpu_table_accuracy.py --set gen).
"""

from __future__ import annotations

import argparse
import html
import io
import random
from dataclasses import dataclass
from pathlib import Path

DEV_SEEDS = range(0, 150)
HELD_SEEDS = range(100_000, 100_200)

_WORDS = ("age sex weight height group control treated baseline follow up total mean median "
          "patients cases samples dose response time score level ratio index risk change "
          "primary secondary outcome visit week month year serum plasma glucose insulin "
          "protein expression cell line tumour size stage grade positive negative normal "
          "high low moderate severe mild acute chronic therapy placebo surgery diabetes "
          "hypertension smoking alcohol education income region urban rural male female "
          "adjusted crude model variable estimate standard error interval significance").split()
_ZH = ("年龄 性别 体重 身高 组别 对照组 治疗组 基线 随访 合计 平均值 中位数 患者 病例 样本 剂量 "
       "反应 时间 评分 水平 比值 指数 风险 变化 主要 次要 结局 血清 血浆 血糖 胰岛素 蛋白 表达 "
       "肿瘤 分期 阳性 阴性 正常 高 低 中度 重度 轻度 急性 慢性 治疗 安慰剂 手术 糖尿病 高血压 "
       "吸烟 饮酒 教育 收入 地区 城市 农村 男 女 调整 模型 变量 估计 标准误 区间").split()
_GENES = ("GAPDH", "TP53", "BRCA1", "EGFR", "KRAS", "IL-6", "TNF-α", "VEGF", "CD4", "HbA1c")
_UNITS = ("(n)", "(%)", "(mg/dL)", "(kg)", "(years)", "(mmol/L)", "(µg)", "")


@dataclass
class Cell:
    text: str
    rowspan: int = 1
    colspan: int = 1


@dataclass
class Spec:
    header: list[list[Cell]]
    body: list[list[Cell]]
    style: str  # ruled | unruled | zebra
    font: str
    size: float
    dpi: int
    width: float
    align_numbers: str
    damage: dict[str, float]
    comma: bool
    chinese: bool


# ---------------------------------------------------------------- content


def _label(rng: random.Random, zh: bool, long: bool = False) -> str:
    if zh:
        n = rng.randint(3, 6) if long else rng.randint(1, 2)
        return "".join(rng.choice(_ZH) for _ in range(n))
    n = rng.randint(4, 8) if long else rng.randint(1, 3)
    words = [rng.choice(_WORDS) for _ in range(n)]
    if rng.random() < 0.15:
        words.append(rng.choice(_GENES))
    text = " ".join(words)
    text = text[0].upper() + text[1:]
    if rng.random() < 0.2:
        text += " " + rng.choice(_UNITS)
    return text.strip()


def _dec(x: float, places: int, comma: bool) -> str:
    s = f"{x:.{places}f}"
    return s.replace(".", ",") if comma else s


def _number(rng: random.Random, kind: str, comma: bool) -> str:
    if kind == "int":
        return str(rng.choice([rng.randint(0, 99), rng.randint(100, 999), rng.randint(1000, 99999)]))
    if kind == "dec":
        return _dec(rng.uniform(0, 300), rng.choice([1, 2, 3]), comma)
    if kind == "exp":
        mant = _dec(rng.uniform(1, 9.99), rng.choice([1, 2, 3]), comma)
        return f"{mant}{rng.choice('Ee')}-{rng.randint(2, 12):02d}"
    if kind == "pct":
        return f"{rng.randint(0, 999)} ({_dec(rng.uniform(0, 100), 1, comma)})" if rng.random() < 0.5 \
            else _dec(rng.uniform(0, 100), 1, comma) + "%"
    if kind == "sd":
        return f"{_dec(rng.uniform(1, 200), 1, comma)} ± {_dec(rng.uniform(0.1, 40), 1, comma)}"
    if kind == "ci":
        a = rng.uniform(0.1, 3)
        sep = "; " if comma else ", "
        return f"{_dec(a, 2, comma)} ({_dec(a * 0.7, 2, comma)}{sep}{_dec(a * 1.4, 2, comma)})"
    if kind == "p":
        return rng.choice(["<0,001" if comma else "<0.001", _dec(rng.uniform(0, 1), 3, comma)])
    raise ValueError(kind)


def _spec(seed: int) -> Spec:
    rng = random.Random(seed)
    zh = rng.random() < 0.25
    comma = rng.random() < 0.3
    n_cols = rng.randint(3, 7)
    depth = rng.choice([1, 1, 2, 2, 3])
    kinds = [rng.choice(["int", "dec", "dec", "exp", "pct", "sd", "ci", "p", "text"])
             for _ in range(n_cols - 1)]

    # header: column 0 is the row-label column; the others form groups under spanning labels
    header: list[list[Cell]] = [[] for _ in range(depth)]
    header[0].append(Cell(_label(rng, zh) if rng.random() < 0.85 else "", rowspan=depth))
    c = 1
    while c < n_cols:
        size = min(n_cols - c, rng.choice([1, 2, 2, 3]) if depth > 1 else 1)
        if size == 1:
            header[0].append(Cell(_label(rng, zh, long=rng.random() < 0.25), rowspan=depth))
        else:
            header[0].append(Cell(rng.choice(["P value", "OR (95% CI)", "n (%)"]) if not zh and
                                  rng.random() < 0.3 else _label(rng, zh), colspan=size))
            k = 0
            while k < size:
                # with three header rows, part of a group may have a middle label of its own
                sub = 2 if depth == 3 and size - k >= 2 and rng.random() < 0.5 else 1
                if sub == 2:
                    header[1].append(Cell(_label(rng, zh), colspan=2))
                    header[2].extend([Cell(_label(rng, zh)), Cell(_label(rng, zh))])
                else:
                    header[1].append(Cell(_label(rng, zh), rowspan=depth - 1))
                k += sub
        c += size
    header = [r for r in header if r]  # a depth drawn with no group at all
    for i, cells in enumerate(header):
        for cell in cells:
            cell.rowspan = min(cell.rowspan, len(header) - i)

    body: list[list[Cell]] = []
    n_rows = rng.randint(3, 12)
    group_left = 0
    for r in range(n_rows):
        if r and group_left == 0 and rng.random() < 0.08:  # never inside a group's rowspan
            body.append([Cell(_label(rng, zh, long=rng.random() < 0.3), colspan=n_cols)])
        row: list[Cell] = []
        if group_left == 0 and r < n_rows - 1 and rng.random() < 0.12:
            group_left = rng.randint(2, min(3, n_rows - r))
            row.append(Cell(_label(rng, zh), rowspan=group_left))
            first_kind = True
        else:
            first_kind = group_left > 0
        if first_kind:
            row.append(Cell(_label(rng, zh, long=rng.random() < 0.3)))
            kinds_here = kinds[1:]
        else:
            row.append(Cell(_label(rng, zh, long=rng.random() < 0.35)))
            kinds_here = kinds
        group_left = max(0, group_left - 1)
        for kind in kinds_here:
            if rng.random() < 0.05:
                row.append(Cell(""))
            elif kind == "text":
                row.append(Cell(_label(rng, zh, long=rng.random() < 0.3)))
            else:
                row.append(Cell(_number(rng, kind, comma)))
        body.append(row)
    damage: dict[str, float] = {}
    if rng.random() < 0.3:
        damage["skew"] = rng.uniform(0.3, 1.5) * rng.choice([-1, 1])
    if rng.random() < 0.3:
        damage["blur"] = rng.uniform(0.4, 1.0)
    if rng.random() < 0.3:
        damage["noise"] = rng.uniform(4, 14)
    if rng.random() < 0.4:
        damage["jpeg"] = rng.randint(30, 75)
    return Spec(
        header=header, body=body, style=rng.choice(["ruled", "unruled", "zebra"]),
        font=rng.choice(["sans-serif", "serif"]), size=rng.choice([7, 7.5, 8, 9, 10, 11]),
        dpi=rng.choice([100, 120, 150, 150, 200]), width=rng.uniform(280, 560),
        align_numbers=rng.choice(["left", "center", "right"]), damage=damage, comma=comma,
        chinese=zh,
    )


# ---------------------------------------------------------------- HTML


def check(spec: Spec) -> None:
    """Every slot of the grid covered by exactly one cell: a table the HTML describes
    consistently (a renderer lays out an inconsistent one in its own way)."""
    taken: set[tuple[int, int]] = set()
    rows = spec.header + spec.body
    n_cols = sum(c.colspan for c in spec.header[0])
    for i, cells in enumerate(rows):
        j = 0
        for c in cells:
            while (i, j) in taken:
                j += 1
            for di in range(c.rowspan):
                for dj in range(c.colspan):
                    if (i + di, j + dj) in taken or j + dj >= n_cols or i + di >= len(rows):
                        raise ValueError(f"cell {c.text!r} overlaps or overflows at {i},{j}")
                    taken.add((i + di, j + dj))
            j += c.colspan
    if len(taken) != len(rows) * n_cols:
        raise ValueError("grid has holes")


def gt_html(spec: Spec) -> str:
    """The ground truth: thead/tbody, td with rowspan/colspan, text escaped."""
    def row(cells: list[Cell]) -> str:
        out = []
        for c in cells:
            attrs = (f' rowspan="{c.rowspan}"' if c.rowspan > 1 else "") + (
                f' colspan="{c.colspan}"' if c.colspan > 1 else "")
            out.append(f"<td{attrs}>{html.escape(c.text, quote=False)}</td>")
        return "<tr>" + "".join(out) + "</tr>"
    return ("<table><thead>" + "".join(row(r) for r in spec.header) + "</thead><tbody>"
            + "".join(row(r) for r in spec.body) + "</tbody></table>")


def _render_html(spec: Spec) -> str:
    line = "1px solid #000"
    n_head = len(spec.header)

    def cell_css(section: str, r: int, n_rows: int, text: str) -> str:
        css = ["padding: 2px 5px", "vertical-align: top"]
        numeric = text[:1].isdigit() or text[:1] in "<-"
        if section == "body" and numeric:
            css.append(f"text-align: {spec.align_numbers}")
        if spec.style == "ruled":
            css.append(f"border: {line}")
        elif spec.style == "unruled":
            if section == "head" and r == 0:
                css.append(f"border-top: {line}")
            if section == "head" and r == n_head - 1:
                css.append(f"border-bottom: {line}")
            if section == "body" and r == n_rows - 1:
                css.append(f"border-bottom: {line}")
        else:
            if section == "head":
                css.append("background-color: #d0d0d0")
            elif r % 2:
                css.append("background-color: #ececec")
        if section == "head":
            css.append("font-weight: bold")
        return "; ".join(css)

    parts = ['<table style="border-collapse: collapse; width: 100%">']
    for section, rows in (("head", spec.header), ("body", spec.body)):
        for r, cells in enumerate(rows):
            parts.append("<tr>")
            for c in cells:
                attrs = (f' rowspan="{c.rowspan}"' if c.rowspan > 1 else "") + (
                    f' colspan="{c.colspan}"' if c.colspan > 1 else "")
                style = cell_css(section, r, len(rows), c.text)
                parts.append(f'<td{attrs} style="{style}">{html.escape(c.text, quote=False)}</td>')
            parts.append("</tr>")
    parts.append("</table>")
    return "".join(parts)


def _damage(img, damage: dict[str, float], seed: int):
    import numpy as np
    from PIL import Image, ImageFilter

    if "skew" in damage:
        img = img.rotate(damage["skew"], resample=Image.BICUBIC, expand=True, fillcolor="white")
    if "blur" in damage:
        img = img.filter(ImageFilter.GaussianBlur(damage["blur"]))
    if "noise" in damage:
        a = np.asarray(img, dtype=np.float32)
        a += np.random.default_rng(seed).normal(0, damage["noise"], a.shape)
        img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    if "jpeg" in damage:
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=int(damage["jpeg"]))
        img = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return img


def _lay_out(html_text: str, css: str, width: float):
    import pymupdf

    story = pymupdf.Story(html_text, user_css=css)
    buf = io.BytesIO()
    writer = pymupdf.DocumentWriter(buf)
    dev = writer.begin_page(pymupdf.Rect(0, 0, width + 40 + 2000, 4000))
    story.place(pymupdf.Rect(20, 20, width + 20, 3980))
    story.draw(dev)
    writer.end_page()
    writer.close()
    doc = pymupdf.open("pdf", buf.getvalue())
    return doc, doc[0]


def render(seed: int):
    """(PIL image, ground-truth HTML, spec) for one seed."""
    import pymupdf
    from PIL import Image

    spec = _spec(seed)
    check(spec)
    css = f"* {{font-family: {spec.font}; font-size: {spec.size}pt; line-height: 1.2}}"
    width = spec.width
    for _ in range(6):
        # a table whose words cannot wrap narrower than the column runs past the frame
        # and would be cut off: widen the frame until everything lies inside it
        doc, page = _lay_out(_render_html(spec), css, width)
        words = page.get_text("words")
        if all(w[2] <= width + 20 for w in words) and doc.page_count == 1:
            break
        doc.close()
        width *= 1.3
    area = pymupdf.Rect()
    for w in words:
        area |= pymupdf.Rect(w[:4])
    for d in page.get_drawings():
        area |= d["rect"]
    margin = 6
    clip = pymupdf.Rect(area.x0 - margin, area.y0 - margin, area.x1 + margin, area.y1 + margin)
    pix = page.get_pixmap(dpi=spec.dpi, clip=clip)
    img = Image.frombytes("RGB", (pix.width, pix.height), pix.samples)
    doc.close()
    return _damage(img, spec.damage, seed), gt_html(spec), spec


def write(seeds: range, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for s in seeds:
        img, gt, _ = render(s)
        img.save(out / f"gen-{s}.png")
        (out / f"gen-{s}.gt.html").write_text(gt, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dev", type=Path, required=True,
                    help="write the development seeds (image + HTML) to this folder")
    args = ap.parse_args()
    write(DEV_SEEDS, args.dev)
    print(f"{len(DEV_SEEDS)} tables written to {args.dev}")


if __name__ == "__main__":
    main()
