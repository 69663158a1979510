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

from .flows import TITLE_ENTRY, Chart, expand
from .models import LEVEL_NAMES
from .numbering import chinese_number, circled

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

    @property
    def titled_by_its_chart(self) -> bool:
        """The part opens with a chart that draws the part's own title (henan-flowcharts).

        The seed's charts carry their title inside the figure; a heading printed above
        it as well stood the title twice on every page. The writers show the chart's
        title only: the PDF marks the part (bookmark, 目录) without a heading; Word and
        the web edition keep the heading for the navigation pane, TOC field and screen
        readers, but do not display it.
        """
        first = self.blocks[0] if self.blocks else None
        return (isinstance(first, ChartBlock) and not self.number and first.chart.title == self.title
                and TITLE_ENTRY in first.chart.reading)


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




# ==========================================================================
# Building a booklet from a resolved edition
# ==========================================================================
CATALOG_COLUMNS = ["序号", "事项名称", "事项编码", "办理材料", "办理层级", "办理时限", "办理流程", "备注", "设定依据"]
CATALOG_WIDTHS = [5, 12, 13, 30, 7, 11, 11, 28, 32]
PACKAGE_MATERIAL_COLUMNS = ["序号", "事项名称", "原始材料", "已关联\n电子证照名称", "共性材料"]
def build_booklet(library, resolved) -> Booklet:
    """The booklet of ``resolved`` (a ResolvedEdition), laid out as its seed is."""
    return BookletBuilder(library, resolved).build()


class BookletBuilder:
    """Walks one resolved edition; every text passes through ``resolved.fill``.

    Its rules for what an inherited item prints (`lists_materials`, `item_notes`,
    `item_faq`, `item_contacts`) are also the Markdown export's (`export.edition_markdown`).
    """

    def __init__(self, library, resolved):
        self.library = library
        self.ed = resolved
        self.edition = resolved.edition
        self.slugs: set[str] = set()

    # -- small helpers ---------------------------------------------------
    def fill(self, text: str | None) -> str:
        return self.ed.fill(text) or ""

    def para(self, text: str | None, style: ParaStyle = "body") -> Para:
        return Para(self.fill(text), style)

    def slug(self, wanted: str) -> str:
        """``wanted``, or ``wanted-2`` … when taken: slugs stay unique in the booklet."""
        candidate, n = wanted, 1
        while candidate in self.slugs:
            n += 1
            candidate = f"{wanted}-{n}"
        self.slugs.add(candidate)
        return candidate

    def chart(self, flow, item=None) -> ChartBlock:
        chart = expand(flow, self.library.presets, item)
        nodes = [n.model_copy(update={"text": self.fill(n.text)}) for n in chart.nodes]
        edges = [e.model_copy(update={"label": self.fill(e.label) or None}) for e in chart.edges]
        title = self.fill(chart.title) or None
        drawn = TITLE_ENTRY in chart.reading  # the chart draws its caption itself (`charts._caption`)
        return ChartBlock(Chart(title, nodes, edges, chart.reading), None if drawn else title)

    def material_lines(self, materials, depth: int = 0) -> list[str]:
        """Materials as numbered lines (seed's own enumerators kept), with their notes."""
        lines = []
        for number, material in enumerate(materials, 1):
            label = material.label or (f"{number}." if len(materials) > 1 or depth else "")
            name = material.name
            if material.items and material.situation == name:
                name += "："  # a situation heading: 在职职工：①… ②…
            lines.append("　" * depth + label + name + "".join(material.notes))
            lines.extend(self.material_lines(material.items, depth + 1))
        return [self.fill(line) for line in lines]

    def note_lines(self, notes, numbered: bool | None = None) -> list[str]:
        numbered = len(notes) > 1 if numbered is None else numbered
        lines = []
        for index, note in enumerate(notes, 1):
            label = note.label or (f"{index}." if numbered else "")
            subs = "".join(f"{circled(i)}{s}" for i, s in enumerate(note.items, 1))
            lines.append(self.fill(label + note.text + subs))
        return lines

    def own_keys(self, item) -> set[str]:
        """Keys the item's files state in editions of this booklet's style.

        A county flowchart edition extends the province catalog; keys it leaves out
        (a catalog's 备注) are the catalog's wording, not something its charts print.
        """
        keys: set[str] = set()
        for edition_id in self.ed.chain:
            stored = self.library.editions[edition_id]
            if stored.edition.style == self.edition.style and item.id in stored.items:
                keys |= set(stored.items[item.id].raw)
        return keys

    def form_block(self, key: str) -> FormBlock:
        form = self.ed.find_form(key)
        return FormBlock(form.id, self.ed.form_number(form.id), self.ed.form_title(form))

    def link(self, url: str | None, label: str = "网上办理") -> list[Block]:
        return [LinkBlock(label, url)] if url else []

    def group(self, group_id: str | None):
        return next((g for g in self.edition.groups if g.id == group_id), None)

    # -- the booklet -----------------------------------------------------
    def build(self) -> Booklet:
        e = self.edition
        booklet = Booklet(
            edition_id=e.id, style=e.style, title=self.fill(e.title), subtitle=self.fill(e.subtitle) or None,
            region=self.fill(e.region), bureau=self.fill(e.bureau), year=e.year,
            header_text=self.fill(e.title), landscape=e.style == "catalog", logo=self._logo(),
        )
        service = self._service_part()
        booklet.parts = ([service] if service else []) + getattr(self, f"_{e.style}")()
        return booklet

    def _service_part(self) -> Part | None:
        """The edition's own service details after the cover: a county's address, window, phones.

        Package guides print these in every package's 基本信息 table instead; the
        built-in catalog, flowchart and item-guide editions state none, so only
        county editions get this page.
        """
        e = self.edition
        if e.style == "package_guide" or not (e.contacts or e.online_url or e.online_note):
            return None
        c = e.contacts
        facts = [("办理机构", c and c.department or e.bureau), ("办理地址", c and c.address),
                 ("受理窗口", c and c.window), ("服务时间", c and c.hours),
                 ("咨询电话", c and "，".join(c.consult_phone)), ("投诉电话", c and "，".join(c.complaint_phone)),
                 ("监督电话", c and "，".join(c.supervise_phone)), ("网上办理地址", e.online_url or e.online_note)]
        rows = [[Cell(label, bold=True, align="center"), Cell(self.fill(value))] for label, value in facts if value]
        blocks: list[Block] = [Table([26, 74], [], rows)] + self.link(e.online_url)
        return Part("服务信息", self.slug("service"), "front", blocks=blocks)

    def local_entries(self, item, key: str) -> list:
        """The notes / FAQ a county adds to an inherited item (``add_notes``, ``add_faq``)."""
        count = self.library.added_count(self.ed.chain, item.id, key)
        entries = getattr(item, key)
        return entries[len(entries) - count:] if count else []

    def _logo(self) -> Path | None:
        if not self.edition.logo:
            return None
        for folder in self.ed.folders:
            if (folder / self.edition.logo).is_file():
                return folder / self.edition.logo
        return None

    def _grouped(self, items) -> list[tuple[object, list]]:
        """Consecutive items of the same group, in the edition's order."""
        runs: list[tuple[object, list]] = []
        for item in items:
            if runs and runs[-1][0] == item.group:
                runs[-1][1].append(item)
            else:
                runs.append((item.group, [item]))
        return [(self.group(gid), members) for gid, members in runs]

    def _group_part(self, group, children, blocks=None) -> Part:
        return Part(title=self.fill(group.name), slug=self.slug(f"group-{group.id}"), kind="group",
                    number=f"{group.number}、" if group.number else "", code=group.code or "",
                    blocks=blocks or [], children=children)

    # -- catalog (Henan 2024 list) -----------------------------------------
    def _catalog(self) -> list[Part]:
        parts = []
        for group, items in self._grouped(self.ed.items):
            details = [self._detail_part(item) for item in items]
            table = self._catalog_table(items, [d.slug for d in details])
            if group is None:  # items outside any group: a table of their own
                parts.append(Part("事项清单", self.slug("items"), "group", blocks=[table], children=details))
            else:
                parts.append(self._group_part(group, details, [table]))
                parts[-1].page_break = len(parts) == 1  # the list runs on from group to group
        notes = self._closing_notes()
        if notes:
            parts.append(notes)
        return parts

    def _catalog_table(self, items, anchors) -> Table:
        header = [[Cell(c, bold=True, align="center") for c in CATALOG_COLUMNS]]
        rows = [self._catalog_row(item) for item in items]
        return Table(list(CATALOG_WIDTHS), header, rows, anchors=list(anchors))

    def _catalog_row(self, item) -> list[Cell]:
        # A section titled like the materials list continues it (（以上办理资料均需加盖单位公章）)
        materials_title = item.materials_title or "办理材料"
        materials = self.material_lines(item.materials)
        materials += [self.fill(p) for s in item.sections if s.title == materials_title for p in s.paragraphs]
        remarks = self.note_lines(item.notes)
        remarks += [self.fill(p) for s in item.sections if s.title != materials_title for p in s.paragraphs]
        numbered = len(item.basis) > 1
        basis = [self.fill(f"{i}." * numbered + b.text) if numbered else self.fill(b.text)
                 for i, b in enumerate(item.basis, 1)]
        center = dict(align="center")
        return [
            Cell(item.number or "", **center), Cell(self.fill(item.name)), Cell(item.code or "", **center),
            Cell("\n".join(materials)), Cell("".join(item.levels), **center),
            Cell(self.fill(item.time_limit.text) if item.time_limit else ""),
            Cell("\n".join(self.fill(p) for p in item.procedure)),
            Cell("\n".join(remarks)), Cell("\n".join(basis)),
        ]

    def _closing_notes(self) -> Part | None:
        e = self.edition
        blocks = [self.para(line, "body") for line in self.note_lines(e.closing_notes, numbered=True)]
        says_levels = any("办理层级" in n.text for n in e.closing_notes)
        if e.level_legend and not says_levels:
            legend = "，".join(f"{k}代表{v}" for k, v in e.level_legend.items())
            blocks.insert(0, self.para(f"办理层级：{legend}。", "body"))
        if not blocks:
            return None
        return Part("说明", self.slug("notes"), "notes", blocks=blocks, page_break=False)

    def _detail_part(self, item) -> Part:
        """A catalog item's web page: every fact of its row, laid out as text."""
        blocks: list[Block] = []
        facts = [("事项编码", item.code), ("办理层级", "".join(item.levels) and
                  "、".join(f"{lv}（{LEVEL_NAMES[lv]}）" for lv in item.levels)),
                 ("办理时限", item.time_limit.text if item.time_limit else None),
                 ("办理流程", "；".join(item.procedure))]
        blocks += [self.para(f"{label}：{value}", "body") for label, value in facts if value]
        if item.materials:
            blocks.append(self.para(f"{item.materials_title or '办理材料'}：", "label"))
            blocks += [self.para(line, "body") for line in self.material_lines(item.materials)]
            blocks += [self.para(p, "body") for s in item.sections
                       if s.title == (item.materials_title or "办理材料") for p in s.paragraphs]
        if item.notes or any(s.title != (item.materials_title or "办理材料") for s in item.sections):
            blocks.append(self.para("备注：", "label"))
            blocks += [self.para(line, "body") for line in self.note_lines(item.notes)]
            blocks += [self.para(p, "body") for s in item.sections
                       if s.title != (item.materials_title or "办理材料") for p in s.paragraphs]
        if item.basis:
            blocks.append(self.para("设定依据：", "label"))
            many = len(item.basis) > 1
            blocks += [self.para((f"{i}." if many else "") + b.text, "body") for i, b in enumerate(item.basis, 1)]
        blocks += [self.chart(flow, item) for flow in item.flows]
        blocks += self.link(item.online_url)
        return Part(self.fill(item.name), self.slug(item.id), "item", number=item.number or "",
                    code=item.code or "", blocks=blocks, in_print=False)

    # -- flowcharts (Henan county charts, Puyang) ---------------------------
    def _flowcharts(self) -> list[Part]:
        return [self._flowchart_part(item) for item in self.ed.items]

    def _flowchart_part(self, item) -> Part:
        charts = [self.chart(flow, item) for flow in item.flows]
        blocks: list[Block] = []
        with_materials, added_notes = self.item_notes(item)
        if self.lists_materials(item):
            blocks.append(self.para(f"{item.materials_title or '办理材料'}：", "label"))
            blocks += [self.para(line, "body") for line in self.material_lines(item.materials)]
            for line in self.note_lines(with_materials):
                blocks.append(self.para(line if line.startswith("注") else f"注：{line}", "note"))
        for chart in charts:
            if chart.title == self.fill(item.name):
                chart.title = None  # the part's heading already says it
            blocks.append(chart)
        blocks += self._local_blocks(item, added_notes)
        blocks += self.link(item.online_url)
        number = f"{item.number}、" if item.number else ""
        code = item.code if "code" in self.own_keys(item) else ""  # the charts print no 事项编码
        return Part(self.fill(item.name), self.slug(item.id), "item", number=number,
                    code=code or "", blocks=blocks)

    def lists_materials(self, item) -> bool:
        """Whether a flowchart item lists its materials above its chart.

        The seeds print materials and their 注 once, in the chart's 办理材料 box; an item
        whose own chart has no such box prints none (never the province's inherited list).
        A county's item inherited from the province catalog has the catalog's plain
        chart (no materials box): its materials are listed above the chart instead.
        """
        return bool(item.materials) and "flows" not in self.own_keys(item)

    def item_notes(self, item) -> tuple[list, list]:
        """(the 注 printed with the listed materials, the notes a county adds after the chart)."""
        if self.lists_materials(item) and "notes" in self.own_keys(item):
            return item.notes, []
        return [], self.local_entries(item, "notes")

    def item_faq(self, item) -> list:
        """An item's own FAQ, or what a county adds to an inherited one."""
        return item.faq if "faq" in self.own_keys(item) else self.local_entries(item, "faq")

    def _local_blocks(self, item, added_notes: list) -> list[Block]:
        """A county's own notes and FAQ for an inherited item, after its chart."""
        blocks: list[Block] = [self.para(line if line.startswith("注") else f"注：{line}", "note")
                               for line in self.note_lines(added_notes)]
        faq = self.item_faq(item)
        if faq:
            blocks.append(self.para("答疑", "heading"))
            blocks += self.faq(faq)
        return blocks

    # -- package guide (Wolong) --------------------------------------------
    def _package_guide(self) -> list[Part]:
        return [self._package_part(pkg) for pkg in self.ed.packages]

    def _package_part(self, pkg) -> Part:
        blocks: list[Block] = [self.para("一、基本信息", "heading"), self._package_info(pkg)]
        blocks += self.link(pkg.online_url)
        blocks += [self.para("二、申请材料", "heading"), self._package_materials(pkg)]
        blocks.append(self.para("三、办理流程", "heading"))
        blocks += [self.chart(flow) for flow in pkg.flows]
        if pkg.faq:
            blocks.append(self.para(pkg.faq_title or "答疑手册", "heading"))
            blocks += self.faq(pkg.faq)
        blocks += [self.form_block(key) for key in pkg.forms]
        return Part(self.fill(pkg.name), self.slug(pkg.id), "package", blocks=blocks)

    def _contacts(self, own) -> "object":
        """The package's contacts over the edition's: a package states only what differs."""
        from .models import Contacts
        base = self.edition.contacts.model_dump(exclude_none=True) if self.edition.contacts else {}
        mine = own.model_dump(exclude_unset=True) if own else {}
        return Contacts(**{**base, **mine})

    def item_contacts(self, own) -> "object":
        """An item's contacts, blanks filled from the edition's: a county states its address once."""
        from .models import Contacts
        base = self.edition.contacts.model_dump() if self.edition.contacts else {}
        if not base.get("supervise_phone"):
            base["supervise_phone"] = base.get("complaint_phone", [])  # 监督电话: the complaint line
        mine = {k: v for k, v in own.model_dump().items() if v not in (None, [], "")}
        return Contacts(**{**base, **mine})

    def _package_info(self, pkg) -> Table:
        c = self._contacts(pkg.contacts)

        def row(label, value):
            return [Cell(label, bold=True, align="center"), Cell(self.fill(value or ""), colspan=3)]
        rows = [
            row("套餐名称", pkg.name),
            row("涉及事项", "、".join(pkg.items)),
            row("涉及办理部门", "、".join(pkg.departments)),
            row("联办承诺办结时限", pkg.time_limit.text if pkg.time_limit else ""),
            [Cell("咨询电话", bold=True, align="center"), Cell("\n".join(c.consult_phone)),
             Cell("投诉电话", bold=True, align="center"), Cell("\n".join(c.complaint_phone))],
            row("办理地址", c.address),
            row("受理窗口", c.window),
            row("服务时间", c.hours),
            row("网上办理地址", pkg.online_url or pkg.online_note),
            row("受理条件", pkg.conditions),
            row("结果领取方式", "，".join(pkg.result_delivery)),
            row("收费情况", pkg.fees),
            row("特殊程序", pkg.special_procedure),
        ]
        return Table([22, 38, 16, 34], [], rows)

    def _package_materials(self, pkg) -> Table:
        header = [[Cell(c, bold=True, align="center") for c in PACKAGE_MATERIAL_COLUMNS]]
        rows = []
        for entry in pkg.materials:
            rows.append([
                Cell(entry.number or "", align="center"), Cell(self.fill(entry.item)),
                Cell("\n".join(self._package_material_lines(entry.materials))),
                Cell(self.fill("\n".join(entry.e_licences))), Cell(self.fill("\n".join(entry.common))),
            ])
        rows.append([Cell("特殊情形", bold=True, align="center", colspan=2), Cell(self.fill(pkg.special_situation or "")),
                     Cell("情形材料", bold=True, align="center"), Cell(self.fill(pkg.situation_materials or ""))])
        return Table([8, 25, 37, 18, 24], header, rows)  # 电子证照名称 fits one line

    def _package_material_lines(self, materials) -> list[str]:
        # The Wolong tables number their materials "1、" rather than "1."
        return [self.fill((m.label or f"{i}、") + m.name + "".join(m.notes))
                for i, m in enumerate(materials, 1)]

    def faq(self, entries) -> list[Block]:
        blocks: list[Block] = []
        for index, entry in enumerate(entries, 1):
            # the seed's own enumerator where the data gives one (1、 / 问： / 4、问：)
            label = f"{index}、" if entry.label is None else entry.label
            blocks.append(self.para(f"{label}{entry.question}", "label"))
            blocks += [self.para(("答：" if n == 0 else "") + a, "body") for n, a in enumerate(entry.answer)]
            blocks += [self.para(f"温馨提醒：{t}", "note") for t in entry.tips]
        return blocks

    # -- item guide (Yunnan) -----------------------------------------------
    def _item_guide(self) -> list[Part]:
        parts = []
        if self.edition.foreword:
            parts.append(Part("前言", self.slug("foreword"), "front",
                              blocks=[self.para(p) for p in self.edition.foreword]))
        for group, items in self._grouped(self.ed.items):
            children = [self._guide_part(item) for item in items]
            if group is None:
                parts += children
            else:
                first = children[0]
                first.page_break = False  # the group heading opens the page
                parts.append(self._group_part(group, children))
        parts += [self._appendix_part(form) for form in self.ed.forms()]
        return parts

    def _guide_part(self, item) -> Part:
        sections = self.guide_sections(item)
        blocks: list[Block] = []
        for number, (title, content) in enumerate(sections, 1):
            blocks.append(self.para(f"{chinese_number(number)}、{title}", "label"))
            blocks += content
        blocks += self.faq(item.faq)
        blocks += self.link(item.online_url)
        number = f"{item.number}、" if item.number else ""  # a county's own numbering (Yunnan's has none)
        return Part(self.fill(item.name), self.slug(item.id), "item", number=number, code=item.code or "",
                    blocks=blocks)

    def guide_sections(self, item) -> list[tuple[str, list[Block]]]:
        """The numbered sections of an item guide: (title, blocks), in the seed's order."""
        def numbered(lines):
            many = len(lines) > 1
            return [self.para((f"{i}." if many else "") + line, "body") for i, line in enumerate(lines, 1)]
        # The seed's 事项名称 is the full name, or the item's name as a sentence
        name = [self.para(item.full_name or f"{item.name}。")]
        name += [self.para(self._disease_line(i, d)) for i, d in enumerate(item.diseases, 1)]
        out: list[tuple[str, list[Block]]] = [("事项名称", name)]
        if item.objects:
            out.append(("服务对象", numbered(item.objects)))
        if item.methods:
            out.append(("办理方式", numbered(item.methods)))
        if item.procedure:
            out.append(("办理流程", numbered(item.procedure)))
        if item.materials:
            out.append((item.materials_title or "申办材料",
                        [self.para(line) for line in self.material_lines(item.materials)]))
        if item.time_limit:
            out.append(("办理时限", [self.para(item.time_limit.text)]))
        if item.contacts:
            c = self.item_contacts(item.contacts)
            out.append(("单位地址及监督电话", [self.para(f"单位地址：{c.address or ''}"),
                                            self.para(f"监督电话：{'，'.join(c.supervise_phone)}")]))
        if item.satisfaction:
            out.append(("满意度测评", [self.para("、".join(item.satisfaction) + "。")]))
        extras = self._extras(item)
        if extras:  # diseases, notes and extra sections belong to the last section before the chart
            title, content = out[-1]
            out[-1] = (title, content + extras)
        if item.flows:
            charts = [self.chart(flow, item) for flow in item.flows]
            title = charts[0].title or f"{self.fill(item.name)}流程图"
            charts[0].title = None  # printed as the section heading
            out.append((title, charts))
        return out

    @staticmethod
    def _disease_line(index: int, diseases) -> str:
        # As the seed prints them (full-width): "（一）门诊慢性病共2５种病种：冠心病、…、精神病。"
        text = f"（{chinese_number(index)}）{diseases.name}：{'、'.join(diseases.diseases)}"
        return text if text.endswith("。") else text + "。"

    def _extras(self, item) -> list[Block]:
        blocks: list[Block] = []
        blocks += [self.para(line) for line in self.note_lines(item.notes)]
        for section in item.sections:
            blocks.append(self.para(section.title, "heading"))
            blocks += [self.para(p) for p in section.paragraphs]
            blocks += [self.para(line) for line in self.note_lines(section.notes)]
        return blocks

    def _appendix_part(self, form) -> Part:
        number = self.ed.form_number(form.id) or ""
        return Part(self.ed.form_title(form), self.slug(f"form-{form.id}"), "appendix",
                    number=f"{number}　" if number else "", blocks=[self.form_block(form.id)])
