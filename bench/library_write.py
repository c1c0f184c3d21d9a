"""Cost of storing one result in the library: `Library.add` (its own transaction, both search
indexes kept by triggers, the thumbnail) against the same rows into a plain table of the same
columns without any index, in the same process, same file system, same pragmas. Also the
bytes on disk per result, and the cost of making a thumbnail (done off the GUI thread).

Texts are realistic: lines of the corpus's English receipts, Chinese documents and tables,
recombined with fresh numbers (see `make_texts`), about half Chinese.

    python bench/library_write.py [--n 3000]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from desktop_ocr.core.library import Library, make_thumbnail  # noqa: E402
from desktop_ocr.core.results import PartResult  # noqa: E402

CORPUS = Path(os.environ.get("DESKTOP_OCR_CORPUS", ROOT.parent / "shared" / "corpus")) / "files"
_TAG = re.compile(r"<[^>]+>")


def corpus_lines() -> tuple[list[str], list[str]]:
    """English and Chinese lines from the corpus's ground truth and text layers."""
    en: list[str] = []
    zh: list[str] = []
    for path in sorted(CORPUS.glob("*.txt")) + sorted(CORPUS.glob("*.gt.html")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".html":
            text = _TAG.sub("\n", text)
        for line in text.splitlines():
            line = " ".join(line.split())
            if len(line) < 2:
                continue
            (zh if re.search(r"[\u4e00-\u9fff]", line) else en).append(line)
    if not en or not zh:
        raise SystemExit(f"the corpus is missing: expected text files in {CORPUS}")
    return en, zh


# The corpus holds only ~150 Chinese lines; document words in a Zipf mix, and names made of
# the corpus's own characters (the long tail a real history has), give pages more variety.
ZH_WORDS = """发票 合计 金额 税额 日期 公司 有限公司 地址 电话 开户行 账号 数量 单价 规格 型号 名称
货物 运费 合同 甲方 乙方 签字 盖章 备注 收款人 复核 开票人 销售方 购买方 纳税人识别号 价税合计
大写 小写 人民币 增值税 普通发票 专用发票 税率 服务 技术 咨询 办公用品 餐饮 住宿 交通 费用 报销
申请 审批 部门 经理 财务 银行 转账 现金 支付 订单 编号 客户 供应商 仓库 出库 入库 产品 批次
生产日期 有效期 质量 检验 合格 运输 托运 收货人 发货人 目的港 起运港 集装箱 重量 体积 件数 唛头
报关 海关 保险 总计 小计 折扣 优惠 会员 积分 找零 收银员 门店 欢迎光临 谢谢惠顾 说明 情况 发行
评级 信用 债务 能力 省 市 区 路 号 楼 室 年 月 日 第 页 共 元 角""".split()


def _zh_line(rng: random.Random, chars: str) -> str:
    parts = []
    for _ in range(rng.randint(2, 7)):
        roll = rng.random()
        if roll < 0.6:  # Zipf: the k-th word about 1/k as often as the first
            parts.append(ZH_WORDS[min(len(ZH_WORDS) - 1, int(rng.paretovariate(1.0)) - 1)])
        elif roll < 0.8:
            parts.append(str(rng.randint(1, 99999)))
        else:
            parts.append("".join(rng.choice(chars) for _ in range(rng.randint(2, 4))))
    return rng.choice(["：", "，", " ", ""]).join(parts)


def make_texts(n: int, seed: int = 1) -> list[str]:
    """`n` result texts of 8-40 lines, numbers replaced, alternately English (corpus lines)
    and Chinese (corpus lines and generated ones, with a few English lines)."""
    en, zh = corpus_lines()
    chars = "".join(sorted({ch for line in zh for ch in line if "\u4e00" <= ch <= "\u9fff"}))
    rng = random.Random(seed)
    digits = re.compile(r"\d+")
    out = []
    for i in range(n):
        count = rng.randint(8, 40)
        if i % 2:
            lines = rng.sample(zh, count // 2) + [_zh_line(rng, chars) for _ in range(count // 2)]
            lines += rng.sample(en, 3)
            rng.shuffle(lines)
        else:
            lines = rng.sample(en, count)
        text = "\n".join(lines)
        out.append(digits.sub(lambda m: str(rng.randint(0, 10 ** len(m.group()))), text))
    return out


def thumbnails(k: int = 16) -> list[bytes]:
    images = sorted(CORPUS.glob("receipt-*.jpg"))[:k] or [None]
    out = []
    for path in images:
        img = Image.open(path).convert("RGB") if path else Image.new("RGB", (800, 1000), "white")
        out.append(make_thumbnail(img))
    return out


def results(texts: list[str], thumbs: list[bytes]) -> list[PartResult]:
    return [PartResult(source=f"/home/user/scans/batch {i // 50}/page-{i}.png",
                       source_hash=f"{i:064x}", page=1 + i % 12, page_count=12,
                       region=(0.1, 0.1, 0.8, 0.3) if i % 3 == 0 else None,
                       region_label="Region 1" if i % 3 == 0 else "", task="text",
                       engine="lmdeploy", model="OpenGVLab/InternVL3-2B", text=t, finish="stop",
                       seconds=2.5, first_token_s=0.4, attempts=1, thumbnail=thumbs[i % len(thumbs)])
            for i, t in enumerate(texts)]


def plain_baseline(path: Path, rows: list[PartResult]) -> float:
    """The same columns into one plain table, a transaction per row: seconds per row."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE results (id INTEGER PRIMARY KEY AUTOINCREMENT, created REAL,"
               " source TEXT, source_hash TEXT, name TEXT, page INT, page_count INT, region TEXT,"
               " region_label TEXT, task TEXT, engine TEXT, model TEXT, finish TEXT, error TEXT,"
               " seconds REAL, first_token_s REAL, attempts INT, text TEXT, thumbnail BLOB)")
    t0 = time.perf_counter()
    for r in rows:
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO results (created, source, source_hash, name, page, page_count,"
                   " region, region_label, task, engine, model, finish, error, seconds,"
                   " first_token_s, attempts, text, thumbnail) VALUES"
                   " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (r.created, r.source, r.source_hash, r.name, r.page, r.page_count,
                    str(r.region), r.region_label, r.task, r.engine, r.model, r.finish, r.error,
                    r.seconds, r.first_token_s, r.attempts, r.text, r.thumbnail))
        db.execute("COMMIT")
    dt = time.perf_counter() - t0
    db.close()
    return dt / len(rows)


def size_of(folder: Path, prefix: str) -> int:
    return sum(p.stat().st_size for p in folder.iterdir() if p.name.startswith(prefix))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=3000)
    a = ap.parse_args()
    texts = make_texts(a.n)
    thumbs = thumbnails()
    rows = results(texts, thumbs)
    chars = statistics.mean(len(t) for t in texts)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        base = plain_baseline(folder / "plain.sqlite3", rows)
        lib = Library.open(folder / "library.sqlite3")
        per: list[float] = []
        for r in rows:
            t0 = time.perf_counter()
            lib.add(r)
            per.append(time.perf_counter() - t0)
        lib._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        lib.close()
        size = size_of(folder, "library.sqlite3")
        plain_size = size_of(folder, "plain.sqlite3")
    images = [Image.open(p).convert("RGB") for p in sorted(CORPUS.glob("receipt-*.jpg"))[:8]]
    t0 = time.perf_counter()
    for img in images:
        make_thumbnail(img)
    thumb_ms = (time.perf_counter() - t0) / max(1, len(images)) * 1e3
    mean = statistics.mean(per)
    per.sort()
    print(f"{a.n} results, {chars:.0f} characters of text each on average, "
          f"thumbnails {statistics.mean(map(len, thumbs)) / 1e3:.1f} kB")
    print(f"Library.add: {mean * 1e3:.2f} ms per result (p50 {per[len(per) // 2] * 1e3:.2f}, "
          f"p95 {per[int(len(per) * 0.95)] * 1e3:.2f}, max {per[-1] * 1e3:.2f} ms)")
    print(f"plain table, no search index: {base * 1e3:.2f} ms per result")
    print(f"ratio: {mean / base:.2f}x the plain insert")
    print(f"on disk: {size / a.n / 1e3:.1f} kB per result ({plain_size / a.n / 1e3:.1f} kB plain, "
          f"{size / plain_size:.2f}x); 100,000 results = {size / a.n * 1e5 / 1e9:.2f} GB")
    print(f"make_thumbnail of a corpus photo: {thumb_ms:.1f} ms (off the GUI thread)")


if __name__ == "__main__":
    main()
