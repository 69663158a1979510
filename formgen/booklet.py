"""Booklets: one format-neutral document per edition, drawn by three writers.

`build_booklet` turns a resolved edition into a `Booklet`: a cover, then a
tree of `Part`s (groups, items, packages, appendices), each holding `Block`s
(paragraphs, tables, process charts, online links, blank forms).  The PDF,
Word and HTML writers (``formgen.writers.booklet_pdf|booklet_docx|booklet_html``)
only decide *how* things look; *what* a booklet says and in which order is
decided here, once, so the three formats never disagree.

Page furniture is not in the model because every writer derives it the same
way: the cover from the booklet's metadata, the table of contents from the
parts (depth 1 and 2, ``in_toc``), the running header from ``header_text``,
page numbers as "- N -", and one PDF bookmark / Word bookmark / HTML anchor
per part ``slug`` (and per table row that carries an anchor).

All text in the model is final: the edition's placeholders are already
filled, enumerators already applied.  Writers never call ``edition.fill``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Literal, Union

from .flows import Chart

ParaStyle = Literal["body", "note", "center", "label", "small", "heading"]
PartKind = Literal["front", "group", "item", "package", "appendix", "form", "notes"]


@dataclass
class Para:
    """A paragraph.  ``text`` may hold ``\\n`` for hard line breaks.

    Styles: ``body`` (宋体, first-line indent 2 characters), ``note`` (smaller,
    no indent: 注/说明), ``center``, ``label`` (a bold run-in heading such as
    "一、事项名称" or "办理材料："), ``small`` (fine print), ``heading`` (a
    sub-heading inside a part that is not itself a part, 黑体).
    """

    text: str
    style: ParaStyle = "body"


@dataclass
class Cell:
    text: str  # may hold "\n"
    colspan: int = 1
    rowspan: int = 1
    bold: bool = False
    align: Literal["left", "center"] = "left"


@dataclass
class Table:
    """A full-grid table.  ``header`` rows repeat on every page the table spans.

    ``widths`` are relative column widths (any unit; writers scale them to the
    text width).  ``anchors`` is empty or has one entry per body row: the slug
    of the part that row stands for (catalog rows are items), so writers can
    bookmark / link the row.  A row covered by a rowspan from above simply has
    fewer cells, as in HTML.
    """

    widths: list[float]
    header: list[list[Cell]]
    rows: list[list[Cell]]
    anchors: list[str | None] = field(default_factory=list)
    caption: str | None = None


@dataclass
class ChartBlock:
    """A process chart, drawn by `formgen.charts` (vector in PDF/HTML)."""

    chart: Chart  # flows.expand(...) result, placeholders filled
    title: str | None = None


@dataclass
class LinkBlock:
    """An online-service address: printed as text plus a QR code."""

    label: str  # e.g. 网上办理
    url: str
    qr: bool = True


@dataclass
class FormBlock:
    """A blank form of the edition, reproduced in the booklet (附件, 表N)."""

    form_id: str
    number: str | None  # 表7 / 附件7, as the edition numbers it
    title: str


Block = Union[Para, Table, ChartBlock, LinkBlock, FormBlock]


@dataclass
class Part:
    """A titled division: a bookmark, a TOC line, an HTML page or section.

    ``slug`` is ASCII and unique within the booklet (HTML file name, anchor,
    bookmark name).  ``in_print`` False marks web-only detail pages (a catalog
    prints items as table rows, while the web edition has a page per item).
    """

    title: str
    slug: str
    kind: PartKind
    number: str = ""  # printed before the title: 一、 / 1. / 序号
    code: str = ""  # 事项编码 or group code, shown with the title
    blocks: list[Block] = field(default_factory=list)
    children: list["Part"] = field(default_factory=list)
    page_break: bool = True  # start on a new page in print
    in_print: bool = True
    in_toc: bool = True

    @property
    def heading(self) -> str:
        return f"{self.number}{self.title}" if self.number else self.title


@dataclass
class Booklet:
    edition_id: str
    style: str  # catalog | flowcharts | package_guide | item_guide
    title: str
    subtitle: str | None
    region: str
    bureau: str
    year: int | None
    header_text: str  # running header
    landscape: bool = False  # catalog pages are A4 landscape
    logo: Path | None = None
    parts: list[Part] = field(default_factory=list)

    def walk(self, parts: list[Part] | None = None, depth: int = 1) -> Iterator[tuple[int, Part]]:
        """Every part, depth first, with its depth (top level = 1)."""
        for part in self.parts if parts is None else parts:
            yield depth, part
            yield from self.walk(part.children, depth + 1)


def build_booklet(library, resolved) -> Booklet:
    """The booklet of ``resolved`` (a ResolvedEdition), laid out as its seed is."""
    raise NotImplementedError("booklet builder: being written (issue 4)")
