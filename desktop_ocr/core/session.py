"""What the window shows, as one Qt-free model: the open document and, per page, the
user's rotation, regions (their order and tasks) and the results with their tables.

The window only displays a `Session` and turns the user's actions into calls on it; the
pipeline's results land here (`set_result`) as they finish; a run's input is planned from
here (`source`). Nothing in it knows about Qt, so it is tested and reasoned about alone
(napari's ViewerModel is the model for this split).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from desktop_ocr.core.documents import Document
from desktop_ocr.core.export import ExportItem, items_from_results
from desktop_ocr.core.pipeline import PageOptions, Source
from desktop_ocr.core.regions import Region, check_rotation
from desktop_ocr.core.results import PartResult
from desktop_ocr.core.tables import Table


@dataclass
class PageState:
    rotation: int = 0
    regions: list[Region] = field(default_factory=list)
    manual_order: bool = False  # the user reordered the regions (no automatic reading order)
    # Results of the page's last run, in the order of its parts; keyed by region id
    # ("" = the whole page) so a re-run of one region replaces only that one.
    results: list[PartResult] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return bool(self.results)

    @property
    def ok(self) -> bool:
        return bool(self.results) and all(r.ok for r in self.results)


class Session:
    """One open document (a file, or an image pasted or snipped) and the user's work on it."""

    def __init__(self, document: Document, path: Path | None = None, *, kind: str = "file",
                 label: str = "", image=None) -> None:
        self.document = document
        self.path = path
        self.kind = kind  # "file" | "paste" | "snip" | "watch"
        self.label = label or document.name
        self.image = image  # the PIL image of a paste or snip (the engine reads it again)
        self.pages: dict[int, PageState] = {}

    # ---------------------------------------------------------------- pages

    @property
    def name(self) -> str:
        return self.label

    @property
    def page_count(self) -> int:
        return self.document.page_count

    def page(self, index: int) -> PageState:
        if not 0 <= index < self.page_count:
            raise IndexError(f"page {index} of {self.page_count}")
        return self.pages.setdefault(index, PageState())

    def rotate(self, index: int, degrees: int) -> int:
        state = self.page(index)
        state.rotation = check_rotation(state.rotation + degrees)
        return state.rotation

    def set_regions(self, index: int, regions: Sequence[Region], manual_order: bool) -> None:
        state = self.page(index)
        state.regions = list(regions)
        state.manual_order = manual_order

    # ---------------------------------------------------------------- runs

    def source(self, pages: Iterable[int], *, task: str | None = None, prompt: str | None = None,
               use_text_layer: bool = False, ocr: bool = True,
               overrides: dict | None = None) -> Source:
        """The pipeline input for `pages` of this session, with their regions and rotations."""
        pages = list(pages)
        options = {i: PageOptions(list(self.page(i).regions), self.page(i).rotation)
                   for i in pages}
        return Source(path=self.path if self.kind == "file" else None, document=self.document,
                      image=self.image, kind=self.kind, label=self.label if self.kind != "file"
                      else "", pages=pages, page_options=options, task=task, prompt=prompt,
                      use_text_layer=use_text_layer and self.document.kind != "image", ocr=ocr,
                      overrides=dict(overrides or {}))

    def begin_page(self, index: int) -> None:
        """A run of the page starts: its earlier results go (they are in the library)."""
        self.page(index).results = []

    def set_result(self, result: PartResult) -> None:
        """A part finished: it replaces the page's result for the same region."""
        state = self.page(result.page - 1)
        state.results = [r for r in state.results if r.region_id != result.region_id]
        state.results.append(result)
        order = {r.id: i for i, r in enumerate(state.regions)}
        state.results.sort(key=lambda r: order.get(r.region_id, -1))

    def results(self, index: int) -> list[PartResult]:
        return list(self.pages[index].results) if index in self.pages else []

    def done_pages(self) -> list[int]:
        return sorted(i for i, s in self.pages.items() if s.done)

    def pages_to_do(self) -> list[int]:
        return [i for i in range(self.page_count) if not (i in self.pages and self.pages[i].ok)]

    def all_results(self) -> list[PartResult]:
        return [r for i in self.done_pages() for r in self.pages[i].results]

    def clear_results(self) -> None:
        for state in self.pages.values():
            state.results = []

    def set_tables(self, result: PartResult, tables: list[Table]) -> None:
        """The user edited a result's grids: export and copy use them from now on."""
        result.tables = tables

    # ---------------------------------------------------------------- text

    def page_text(self, index: int) -> str:
        """The page's text; each part headed by its label when there are several."""
        parts = self.results(index)
        if len(parts) == 1 and not parts[0].region_id:
            return parts[0].text if parts[0].ok else f"[{parts[0].error}]"
        chunks = []
        for p in parts:
            body = p.text.rstrip("\n") if p.ok else f"[{p.error}]"
            chunks.append(f"[{p.region_label or 'Page'}]\n{body}")
        return "\n\n".join(chunks)

    def text(self) -> str:
        """The whole document: pages headed `--- page N ---` when there are several (the
        CLI's format)."""
        pages = self.done_pages()
        if self.page_count == 1 and pages == [0]:
            return self.page_text(0)
        return "\n\n".join(f"--- page {i + 1} ---\n{self.page_text(i).rstrip()}" for i in pages)

    def export_items(self) -> list[ExportItem]:
        return items_from_results(self.all_results())

