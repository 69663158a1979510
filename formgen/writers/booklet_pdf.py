"""PDF booklet writer: a `Booklet` typeset with fpdf2, blank forms placed with pypdf.

Pages
    A4 portrait (A4 landscape for a catalog), 20–22 mm margins.  A cover (title, subtitle,
    issuing bureau, year, logo), the 目录 with real page numbers (fpdf2's
    ``insert_toc_placeholder``: the TOC is drawn last, onto pages reserved for it, whose number
    is measured beforehand), then the parts.  Every page after the cover has a running header
    (the edition's title over a rule) and a centred footer "- N -": the TOC pages count
    I, II … and the body 1, 2 …, the same numbers the PDF page labels show in a viewer.

Text
    Body 宋体 (Noto Serif CJK SC), headings and labels 黑体 (Noto Sans CJK SC Bold), both
    embedded as subsets (the PDF form writer's fonts and fast CFF embedding).  Lines break
    between any two Chinese characters; runs of Latin letters and digits stay whole when they
    fit; closing punctuation never starts a line and opening punctuation never ends one.  Body
    paragraphs are justified with a two-character first-line indent.

Tables
    Full grid; header rows repeat on every page a table spans; a row taller than what is left
    of a page continues on the next (its cells split by lines), so no text is ever clipped.
    Catalog rows carry a bookmark each.

Charts, QR codes, forms
    Process charts are drawn as vectors by `formgen.charts.draw_pdf` (scaled down when taller
    than a page).  Online addresses are printed with a QR code drawn as vector squares from
    segno's matrix.  A `FormBlock` is the form's own blank PDF (`formgen.writers.pdf`)
    placed onto booklet pages with pypdf, scaled into the margins, under the booklet's own
    header and footer.

Text extraction
    Copy and paste, search, screen readers and ``pdftotext`` order a page's text by its
    geometry, which reads a chart's scattered boxes, and a grid's cells, in an order no
    person would.  Each chart and each table row is therefore wrapped in a marked-content
    span whose ``/ActualText`` is the same text in reading order (a chart's ``reading:``,
    a row's cells left to right), the PDF's own means for it (ISO 32000 §14.9.4).  What is
    drawn is unchanged.

Bookmarks
    One outline entry per printed part (groups, items, packages, appendices), per catalog row
    and per reproduced form, nested as the booklet is.
"""
from __future__ import annotations

import math
import re
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import segno
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter, Transformation
from pypdf.generic import NameObject

from ..booklet import Block, Booklet, Cell, ChartBlock, FormBlock, LinkBlock, Para, Part, Table
from ..errors import RenderError
from ..layout import NO_LINE_END, NO_LINE_START
from ..titles import title_lines
from .pdf import FastFontProducer, _Fonts, begin_actual_text

try:  # the charts module arrives separately; until then charts are not drawn
    from .. import charts as _charts
except ImportError:  # pragma: no cover - depends on what is merged
    _charts = None

PT = 25.4 / 72  # one point in mm
A4 = (210.0, 297.0)
FORM_MARGIN = 15.0  # the form writer's own margins, trimmed when a form is placed

# Sizes in pt
BODY_PT = 10.5  # 五号
NOTE_PT = 9.0
SMALL_PT = 8.0
LABEL_PT = 10.5
SUBHEAD_PT = 12.0
ITEM_PT = 15.0
GROUP_PT = 18.0
TABLE_PT = 9.5
CATALOG_PT = 8.5
HEADER_PT = 9.0
FOOTER_PT = 10.5
LEADING = 1.6  # line height / font size for running text
CELL_LEADING = 1.4
ASCENT = 0.86  # baseline below the top of a CJK em box, in em
CELL_PAD_X, CELL_PAD_Y = 1.6, 1.5
# Entries of the 目录 sit 1.45 lines apart, with no gap between items: text extractors
# (poppler's pdftotext, search, copy) gather lines closer than 1.5 em into one block, so
# the titles read on in order as the source's 目录 does and the page numbers follow as a
# column of their own. At 1.7 lines every entry was a block of its own, each title cut
# off from the next by its page number.
TOC_LEADING = 1.45
GRID = 0.25
HEADER_FILL = 235
GROUP_FILL = 246
GROUP_ROW_PT = 10.0
QR_SIDE = 24.0
VCENTER = False

TOKEN = re.compile(r"[A-Za-z0-9@#&_\-+=/\\.:%~*<>'\"$^|]+|[ \t]+|.", re.S)
ROMAN = [(10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]


def roman(n: int) -> str:
    out = ""
    for value, letters in ROMAN:
        while n >= value:
            out += letters
            n -= value
    return out


@dataclass
class Geometry:
    width: float
    height: float
    left: float
    right: float
    top: float  # first text line
    bottom: float  # last text line's bottom
    header_y: float  # the rule under the running header
    footer_y: float  # baseline of "- N -"

    @property
    def text_width(self) -> float:
        return self.width - self.left - self.right

    @property
    def text_height(self) -> float:
        return self.bottom - self.top


PORTRAIT = Geometry(210, 297, 22, 22, 30, 274, 20, 286)
LANDSCAPE = Geometry(297, 210, 15, 15, 24, 192, 15, 201)


@dataclass
class TocEntry:
    depth: int
    text: str
    link: int
    page: int = 0  # fpdf2 page index, set when the part is drawn


@dataclass
class TocLine:
    entry: TocEntry
    role: str
    size: float
    indent: float
    lines: list[str]
    gap: float  # space after the entry, mm

    @property
    def height(self) -> float:
        return len(self.lines) * self.size * PT * TOC_LEADING + self.gap


@dataclass
class Placement:
    page: int  # fpdf2 page index (1-based)
    source: Path
    source_page: int
    box: tuple[float, float, float, float]  # target x, y, w, h in mm (top-left origin)


class BookletPDF(FPDF):
    """fpdf2 with the booklet's running header and footer."""

    def __init__(self, booklet: Booklet, fonts: _Fonts, orientation: str):
        super().__init__(orientation=orientation, unit="mm", format="A4")
        self.booklet = booklet
        self.set_auto_page_break(False)
        self.formgen_cff_sources = {}
        fonts.attach(self)
        self.cover_pages = 1
        self.toc_pages = 0
        self.furniture = False  # no header/footer on the cover

    def geometry(self) -> Geometry:
        return LANDSCAPE if self.w > self.h else PORTRAIT

    def page_number(self, page: int | None = None) -> str:
        """The printed number of ``page``: I, II … for the TOC, 1, 2 … for the body."""
        page = self.page if page is None else page
        if page <= self.cover_pages:
            return ""
        if page <= self.cover_pages + self.toc_pages:
            return roman(page - self.cover_pages)
        return str(page - self.cover_pages - self.toc_pages)

    def header(self):
        if not self.furniture:
            return
        g = self.geometry()
        text = self.booklet.header_text
        size = HEADER_PT
        self.set_font("serif", size=size)
        while self.get_string_width(text) > g.width - g.left - g.right and size > 6:
            size -= 0.5  # a long edition name shrinks rather than run past the rule
            self.set_font("serif", size=size)
        self.set_text_color(60)
        width = self.get_string_width(text)
        with pagination_artifact(self, "Header"):
            self.text((self.w - width) / 2, g.header_y - 1.8, text)
        self.set_text_color(0)
        self.set_draw_color(0)
        self.set_line_width(0.4)
        self.line(g.left, g.header_y, self.w - g.right, g.header_y)

    def footer(self):
        if not self.furniture:
            return
        label = self.page_number()
        if not label:
            return
        g = self.geometry()
        self.set_font("serif", size=FOOTER_PT)
        text = f"- {label} -"
        with pagination_artifact(self, "Footer"):
            self.text((self.w - self.get_string_width(text)) / 2, g.footer_y, text)


class Typesetter:
    """Draws one booklet; keeps the cursor, the TOC entries and the form placements."""

    def __init__(self, booklet: Booklet, fonts: _Fonts, edition, workdir: Path):
        self.booklet = booklet
        self.fonts = fonts
        self.edition = edition
        self.workdir = workdir
        self.orientation = "L" if booklet.landscape else "P"
        self.pdf = BookletPDF(booklet, fonts, self.orientation)
        self.y = 0.0
        self.toc: list[TocEntry] = []
        self.placements: list[Placement] = []
        self.form_cache: dict[str, Path] = {}
        self.links: dict[str, int] = {}
        self._layouts: dict[int, object] = {}
        self.in_list = False  # a catalog's running list is open (its header drawn on this page)
        pdf = self.pdf
        pdf.set_title(booklet.title)
        pdf.set_author(booklet.bureau)
        pdf.set_subject(booklet.title)
        pdf.set_creator("formgen")
        pdf.set_lang("zh-CN")

    # -- measuring and breaking text -------------------------------------
    def width(self, text: str, role: str, size: float) -> float:
        return self.fonts.em(role, text) * size * PT

    def wrap(self, text: str, role: str, size: float, width: float, indent: float = 0.0) -> list[str]:
        """``text`` broken into lines no wider than ``width`` mm (the first ``indent`` narrower)."""
        lines: list[str] = []
        for number, raw in enumerate(text.split("\n")):
            lines += self._wrap_line(raw, role, size, width, indent if number == 0 else 0.0)
        return lines

    def _wrap_line(self, text: str, role: str, size: float, width: float, indent: float) -> list[str]:
        tokens = []
        for token in TOKEN.findall(text):
            if len(token) > 1 and self.width(token, role, size) > width * 0.6:
                tokens += list(token)  # a long URL or number breaks anywhere
            else:
                tokens.append(token)
        lines: list[str] = []
        line: list[str] = []
        avail = width - indent

        def used() -> float:
            return self.width("".join(line), role, size)

        for token in tokens:
            if not line or used() + self.width(token, role, size) <= avail + 1e-6:
                line.append(token)
                continue
            if token.isspace():
                lines.append("".join(line).rstrip())
                line, avail = [], width
                continue
            carried: list[str] = []
            # closing punctuation takes the character before it along (and that one's, for "）。")
            while len(line) > 1 and (carried or [token])[0][0] in NO_LINE_START:
                carried.insert(0, line.pop())
            while len(line) > 1 and line[-1] and line[-1][-1] in NO_LINE_END:
                carried.insert(0, line.pop())
            lines.append("".join(line).rstrip())
            line, avail = carried + [token], width
        if line or not lines:
            lines.append("".join(line).rstrip())
        return lines

    # -- drawing text ---------------------------------------------------------
    def draw_line(self, text: str, x: float, top: float, role: str, size: float, line_height: float,
                  justify_to: float | None = None) -> None:
        """One line whose box starts at ``top``; ``justify_to`` spreads it to that width."""
        pdf = self.pdf
        pdf.set_font(role, size=size)
        baseline = top + (line_height - size * PT) / 2 + ASCENT * size * PT
        spacing = 0.0
        if justify_to and len(text) > 1:
            slack = justify_to - self.width(text, role, size)
            spacing = slack / (len(text) - 1)
            if spacing < 0 or spacing > size * PT * 0.25:
                spacing = 0.0
        pdf.set_char_spacing(spacing)  # in mm, the document unit
        pdf.text(x, baseline, text)
        pdf.set_char_spacing(0)

    def page_break(self) -> None:
        self.pdf.add_page(orientation=self.orientation)
        self.y = self.geo.top

    @property
    def geo(self) -> Geometry:
        return self.pdf.geometry()

    def room(self) -> float:
        return self.geo.bottom - self.y

    def ensure(self, height: float) -> None:
        """Start a new page unless ``height`` mm fit below the cursor."""
        if height > self.room() and self.y > self.geo.top + 0.1:
            self.page_break()

    def text_block(self, text: str, role: str, size: float, indent_em: float = 0.0, align: str = "justify",
                   leading: float = LEADING, left: float = 0.0, space_after: float = 0.0,
                   balanced: bool = False) -> None:
        g = self.geo
        x0 = g.left + left
        width = g.text_width - left
        indent = indent_em * size * PT
        line_height = size * PT * leading
        if balanced:  # a centred title: even lines, broken between words (formgen.titles)
            text = "\n".join(title_lines(text, lambda line: self.width(line, role, size), width))
        lines = self.wrap(text, role, size, width, indent)
        hard = self._hard_line_ends(text, role, size, width, indent)
        for index, line in enumerate(lines):
            self.ensure(line_height)
            first = index == 0
            x = x0 + (indent if first else 0)
            line_width = width - (indent if first else 0)
            if align == "center":
                x = x0 + (width - self.width(line, role, size)) / 2
                self.draw_line(line, x, self.y, role, size, line_height)
            else:
                justify = align == "justify" and index not in hard
                self.draw_line(line, x, self.y, role, size, line_height, line_width if justify else None)
            self.y += line_height
        self.y += space_after

    def _hard_line_ends(self, text, role, size, width, indent) -> set[int]:
        """Indexes of lines that end a paragraph or a hard line break (never justified)."""
        ends, count = set(), 0
        for number, raw in enumerate(text.split("\n")):
            count += len(self._wrap_line(raw, role, size, width, indent if number == 0 else 0.0))
            ends.add(count - 1)
        return ends

    # -- the document -----------------------------------------------------------
    def render(self) -> bytes:
        self.cover()
        entries = self.toc_entries()
        self.pdf.furniture = True
        pages = self.toc_page_count(entries)
        self.pdf.toc_pages = pages
        self.pdf.add_page(orientation=self.orientation)
        self.pdf.start_section("目录", level=0)
        self.pdf.insert_toc_placeholder(lambda pdf, outline: self.draw_toc(), pages=pages)
        self.y = self.geo.top
        first = True
        for part in self.booklet.parts:
            self.part(part, 1, first)
            first = False
        return bytes(self.pdf.output(output_producer_class=FastFontProducer))

    # -- cover ------------------------------------------------------------------
    def cover(self) -> None:
        pdf, b = self.pdf, self.booklet
        pdf.add_page(orientation=self.orientation)
        g = self.geo
        y = g.height * 0.16
        if b.logo and Path(b.logo).is_file():
            try:
                pdf.image(str(b.logo), x=(g.width - 30) / 2, y=y - 12, w=30)
                y += 30
            except Exception as exc:  # a broken logo file: say which, never a traceback
                raise RenderError(f"cannot draw the logo {b.logo}: {exc}") from exc
        pdf.set_draw_color(170, 20, 20)
        pdf.set_line_width(1.2)
        pdf.line(g.left + 10, y, g.width - g.right - 10, y)
        pdf.set_line_width(0.4)
        pdf.line(g.left + 10, y + 1.8, g.width - g.right - 10, y + 1.8)
        pdf.set_draw_color(0)
        self.y = y + g.height * 0.1
        title_pt = 26 if not b.landscape else 28
        self.text_block(b.title, "sans", title_pt, align="center", leading=1.45, left=8, space_after=6,
                        balanced=True)
        if b.subtitle:
            self.text_block(b.subtitle, "serif", 16, align="center", leading=1.5, balanced=True)
        bottom = g.height * 0.78
        self.y = bottom
        self.text_block(b.bureau, "sans", 16, align="center", leading=1.6)
        if b.year:
            self.text_block(f"{b.year}年", "serif", 14, align="center", leading=1.6)

    # -- table of contents ---------------------------------------------------------
    def toc_entries(self) -> list[TocEntry]:
        entries = []
        for depth, part in self.booklet.walk():
            if depth > 2 or not part.in_print or not part.in_toc:
                continue
            link = self.pdf.add_link()
            self.links[part.slug] = link
            text = part.heading + (f"（{part.code}）" if part.code and part.kind == "group" else "")
            entries.append(TocEntry(depth, text, link))
        self.toc = entries
        return entries

    def toc_lines(self, entries: list[TocEntry]) -> list["TocLine"]:
        """Each 目录 entry laid out once: its font, indent, wrapped lines and the space after it."""
        width = self.geo_for(self.orientation).text_width - 14
        laid = []
        for entry, gap in zip(entries, toc_gaps(entries)):
            role, size = ("sans", 12.0) if entry.depth == 1 else ("serif", 11.0)
            indent = 0.0 if entry.depth == 1 else 2 * 11.0 * PT
            laid.append(TocLine(entry, role, size, indent, self.wrap(entry.text, role, size, width - indent), gap))
        return laid

    @staticmethod
    def geo_for(orientation: str) -> Geometry:
        return LANDSCAPE if orientation == "L" else PORTRAIT

    def toc_page_count(self, entries) -> int:
        g = self.geo_for(self.orientation)
        y, pages = g.top + self.toc_title_height(), 1
        for line in self.toc_lines(entries):
            if y + line.height > g.bottom:
                pages += 1
                y = g.top
            y += line.height
        return pages

    def toc_title_height(self) -> float:
        return 20 * PT * 1.6 + 6

    def draw_toc(self) -> None:
        pdf = self.pdf
        g = self.geo
        self.y = g.top
        self.text_block("目　录", "sans", 20, align="center", space_after=6)
        for laid in self.toc_lines(self.toc):
            if self.y + laid.height > g.bottom:
                pdf.add_page(orientation=self.orientation)
                self.y = g.top
            self.draw_toc_entry(laid)

    def draw_toc_entry(self, laid: "TocLine") -> None:
        """One 目录 entry: its title, a dotted leader, its page number at the right, all a link."""
        pdf, g = self.pdf, self.geo
        role, size, entry = laid.role, laid.size, laid.entry
        line_height = size * PT * TOC_LEADING
        top = self.y
        x = g.left + laid.indent
        for line in laid.lines:
            self.draw_line(line, x, self.y, role, size, line_height)
            self.y += line_height
        number = pdf.page_number(entry.page)
        end_x = x + self.width(laid.lines[-1], role, size) + 1.5
        num_x = g.width - g.right - self.width(number, "serif", 11)
        base = self.y - line_height + (line_height - size * PT) / 2 + ASCENT * size * PT
        if num_x - 1.5 > end_x:
            pdf.set_draw_color(90)
            pdf.set_line_width(0.3)
            pdf.set_dash_pattern(dash=0.3, gap=1.2)
            pdf.line(end_x, base, num_x - 1.5, base)
            pdf.set_dash_pattern()
            pdf.set_draw_color(0)
        self.draw_line(number, num_x, self.y - line_height, "serif", 11, line_height)
        pdf.link(g.left, top, g.text_width, self.y - top, entry.link)
        self.y += laid.gap

    # -- parts -------------------------------------------------------------------
    def part(self, part: Part, depth: int, first: bool) -> None:
        if not part.in_print:
            return
        only_forms = forms_only(part)
        # a form opens pages of its own (in its own orientation): a break here left a blank page
        if (part.page_break or first) and not only_forms:
            if not (first and self.y <= self.geo.top + 0.1 and self.pdf.page > 1):
                self.page_break()
        if part.kind == "group" and self.booklet.style == "catalog":
            self.catalog_group(part, depth)
            return
        if part.kind == "notes" and self.booklet.style == "catalog":
            self.in_list = False
            self.y += 4
        if only_forms:
            pass  # the form prints its own number and title; `form` marks the part on its first page
        elif part.titled_by_its_chart:  # the chart draws the part's title itself
            self.mark(part, depth, self.y)
        else:
            self.heading(part, depth)
        self.blocks(part.blocks, depth, part)
        for child in part.children:
            self.part(child, depth + 1, False)

    def mark(self, part: Part, depth: int, y: float) -> None:
        """The part's bookmark, link target and TOC page, at ``y`` on the current page."""
        pdf = self.pdf
        pdf.set_y(y)
        pdf.start_section(part.heading if not part.code or part.kind != "group" else f"{part.heading} {part.code}",
                          level=depth - 1)
        link = self.links.get(part.slug)
        if link is not None:
            pdf.set_link(link, y=max(0.0, y - 4), page=pdf.page)
        for entry in self.toc:
            if entry.link == link:
                entry.page = pdf.page

    def heading(self, part: Part, depth: int) -> None:
        if part.kind == "group" and self.booklet.style == "catalog":
            self.catalog_group_heading(part, depth)
            return
        size = GROUP_PT if part.kind in ("group", "front") else ITEM_PT
        if part.kind == "notes":
            size = SUBHEAD_PT + 1
        line_height = size * PT * 1.5
        lines = self.wrap(part.heading, "sans", size, self.geo.text_width - 10)
        self.ensure(len(lines) * line_height + 40)  # keep a heading with what follows
        self.y += 2 if self.y > self.geo.top + 0.1 else 0
        self.mark(part, depth, self.y)
        self.text_block(part.heading, "sans", size, align="center", leading=1.5, left=0)
        if part.code and part.kind != "group":
            self.text_block(f"事项编码：{part.code}", "serif", NOTE_PT, align="center")
        if part.code and part.kind == "group":
            self.text_block(part.code, "serif", NOTE_PT + 1, align="center")
        self.y += 4

    def catalog_group(self, part: Part, depth: int) -> None:
        """A catalog group as the seed prints it: a spanning row inside one running list.

        The list's title opens the first page; the column header starts the list and repeats
        at the top of every page; each group is a shaded row (一、name … group code) followed
        by its items' rows.
        """
        table = next((b for b in part.blocks if isinstance(b, Table)), None)
        if table is None:
            self.catalog_group_heading(part, depth)
            self.blocks(part.blocks, depth, part)
            return
        widths = self.table_widths(table)
        header = [self.lay_row(row, widths, CATALOG_PT, header=True) for row in table.header]
        rows = [self.lay_row(row, widths, CATALOG_PT) for row in table.rows]
        group_height = GROUP_ROW_PT * PT * CELL_LEADING + 2 * CELL_PAD_Y
        need = group_height + (min(rows[0].height, 40) if rows else 0)
        if not self.in_list and self.y <= self.geo.top + 0.1:
            self.text_block(self.booklet.title, "sans", SUBHEAD_PT + 4, align="center", space_after=4)
        if not self.in_list or need > self.room():
            if need + sum(r.height for r in header) > self.room():
                self.page_break()
            self.draw_rows(header)
        self.in_list = True
        self.mark(part, depth, self.y)
        self.draw_group_row(part, group_height)
        for index, row in enumerate(rows):
            anchor = table.anchors[index] if index < len(table.anchors) else None
            self.draw_body_row(row, header, anchor, depth, table.rows[index])
        rest = [b for b in part.blocks if b is not table]
        if rest:
            self.in_list = False
            self.y += 3
            self.blocks(rest, depth, part)

    def draw_group_row(self, part: Part, height: float) -> None:
        pdf, g = self.pdf, self.geo
        pdf.set_line_width(GRID)
        pdf.set_fill_color(GROUP_FILL)
        pdf.rect(g.left, self.y, g.text_width, height, style="DF")
        line_height = height - 2 * CELL_PAD_Y
        top = self.y + CELL_PAD_Y
        # one span, so that text extraction keeps the code with its group as the table rows are kept
        with actual_text(pdf, "\n".join(filter(None, [part.heading, part.code]))):
            self.draw_line(part.heading, g.left + CELL_PAD_X, top, "sans", GROUP_ROW_PT, line_height)
            if part.code:
                width = self.width(part.code, "sans", GROUP_ROW_PT)
                self.draw_line(part.code, g.width - g.right - CELL_PAD_X - width, top, "sans", GROUP_ROW_PT,
                               line_height)
        self.y += height

    def catalog_group_heading(self, part: Part, depth: int) -> None:
        """A catalog group: its name at the left, its group code at the right, over its table."""
        size = SUBHEAD_PT + 1
        line_height = size * PT * 1.6
        self.ensure(line_height + 30)
        if self.y > self.geo.top + 0.1:
            self.y += 4
        self.mark(part, depth, self.y)
        g = self.geo
        self.draw_line(part.heading, g.left, self.y, "sans", size, line_height)
        if part.code:
            code = f"编码：{part.code}"
            width = self.width(code, "serif", BODY_PT)
            self.draw_line(code, g.width - g.right - width, self.y, "serif", BODY_PT, line_height)
        self.y += line_height + 1.5

    # -- blocks ---------------------------------------------------------------
    def blocks(self, blocks: list[Block], depth: int, part: Part) -> None:
        for index, block in enumerate(blocks):
            following = blocks[index + 1] if index + 1 < len(blocks) else None
            if isinstance(block, Para):
                if block.style in ("label", "heading") and isinstance(following, ChartBlock):
                    # a section heading such as 九、…流程图 goes with its chart
                    self.ensure(SUBHEAD_PT * PT * LEADING + 4 + self.chart_height(following))
                self.para(block)
            elif isinstance(block, Table):
                self.table(block, depth)
            elif isinstance(block, ChartBlock):
                self.chart(block)
            elif isinstance(block, LinkBlock):
                self.link_block(block)
            elif isinstance(block, FormBlock):
                self.form(block, depth, part)

    def para(self, para: Para) -> None:
        text = para.text
        if para.style == "body":
            self.text_block(text, "serif", BODY_PT, indent_em=2, space_after=0.6)
        elif para.style == "note":
            self.text_block(text, "serif", NOTE_PT, space_after=0.6)
        elif para.style == "small":
            self.text_block(text, "serif", SMALL_PT, space_after=0.4)
        elif para.style == "center":
            self.text_block(text, "serif", BODY_PT, align="center", space_after=0.6)
        elif para.style == "label":
            self.ensure(LABEL_PT * PT * LEADING * 3)  # not alone at a page's foot
            self.y += 1.2
            self.text_block(text, "sans", LABEL_PT, align="left", space_after=0.6)
        elif para.style == "heading":
            self.ensure(SUBHEAD_PT * PT * LEADING + 25)
            self.y += 3
            self.text_block(text, "sans", SUBHEAD_PT, align="left", space_after=1.5)

    # -- tables ----------------------------------------------------------------
    def table(self, table: Table, depth: int) -> None:
        g = self.geo
        size = CATALOG_PT if self.booklet.style == "catalog" else TABLE_PT
        widths = self.table_widths(table)
        if table.caption:
            self.text_block(table.caption, "sans", LABEL_PT, align="center", space_after=1)
        header = [self.lay_row(row, widths, size, header=True) for row in table.header]
        header_height = sum(r.height for r in header)
        rows = [self.lay_row(row, widths, size) for row in table.rows]
        # as a typesetter sets a table: at least two rows under the header at its start (all
        # three of a three-row table, which cannot also keep two at its end) ...
        opening = rows[:3] if len(rows) == 3 else rows[:2]
        self.ensure(header_height + min(sum(r.height for r in opening), 40))
        self.draw_rows(header)
        for index, row in enumerate(rows):
            anchor = table.anchors[index] if index < len(table.anchors) else None
            if index == len(rows) - 2 and index >= 2 and self.last_row_would_stand_alone(rows, header_height):
                self.page_break()  # ... and at its end: the row before the last goes over with it
                self.draw_rows(header)
            self.draw_body_row(row, header, anchor, depth, table.rows[index])
        self.y += 3

    def last_row_would_stand_alone(self, rows: list["LaidRow"], header_height: float) -> bool:
        """Whether the last row would go whole to a new page, under the repeated header, alone.

        Asked before drawing the second-last row: it fits here, the last does not, and both
        fit together on a fresh page (a row that long splits anyway, so nothing would stand alone).
        """
        before_last, last = rows[-2].height, rows[-1].height
        fresh = self.geo.text_height - header_height
        return before_last <= self.room() < before_last + last and before_last + last <= fresh

    def table_widths(self, table: Table) -> list[float]:
        total = sum(table.widths) or 1
        return [w / total * self.geo.text_width for w in table.widths]

    def lay_row(self, cells: list[Cell], widths: list[float], size: float, header: bool = False) -> "LaidRow":
        laid, col = [], 0
        for cell in cells:
            span = max(1, cell.colspan)
            width = sum(widths[col:col + span])
            x = sum(widths[:col])
            col += span
            role = "sans" if (cell.bold or header) else "serif"
            cell_size = size if not header else size
            lines = self.wrap(cell.text, role, cell_size, width - 2 * CELL_PAD_X) if cell.text else []
            align = "center" if header else cell.align
            laid.append(LaidCell(x, width, lines, role, cell_size, align, header or cell.bold))
        if col < len(widths):  # a short row: the last cell takes the rest
            laid.append(LaidCell(sum(widths[:col]), sum(widths[col:]), [], "serif", size, "left", False))
        line_height = size * PT * CELL_LEADING
        lines = max([len(c.lines) for c in laid] + [1])
        return LaidRow(laid, line_height, lines)

    def draw_rows(self, rows: list["LaidRow"]) -> None:
        for row in rows:
            self.draw_row_slice(row, 0, row.lines)

    def draw_body_row(self, row: "LaidRow", header: list["LaidRow"], anchor, depth: int, cells) -> None:
        header_height = sum(r.height for r in header)
        start = 0
        while start < row.lines:
            rest = row.lines - start
            need = rest * row.line_height + 2 * CELL_PAD_Y
            if need > self.room():
                fresh = self.geo.text_height - header_height
                fits_fresh = need <= fresh
                can = int((self.room() - 2 * CELL_PAD_Y) // row.line_height)
                if fits_fresh or can < 3:
                    self.page_break()
                    self.draw_rows(header)
                    continue
                end = start + can
            else:
                end = row.lines
            if start == 0 and anchor:
                self.mark_row(anchor, cells, depth)
            self.draw_row_slice(row, start, end)
            start = end
            if start < row.lines:
                self.page_break()
                self.draw_rows(header)

    def mark_row(self, anchor: str, cells, depth: int) -> None:
        pdf = self.pdf
        pdf.set_y(self.y)
        number = cells[0].text if cells else ""
        name = cells[1].text if len(cells) > 1 else anchor
        pdf.start_section(f"{number}、{name}" if number else name, level=depth)
        link = self.links.get(anchor)
        if link is not None:
            pdf.set_link(link, y=self.y, page=pdf.page)

    def draw_row_slice(self, row: "LaidRow", start: int, end: int) -> None:
        text = "\n".join("".join(cell.lines[start:end]) for cell in row.cells)
        with actual_text(self.pdf, text):
            self._draw_row_slice(row, start, end)

    def _draw_row_slice(self, row: "LaidRow", start: int, end: int) -> None:
        pdf, g = self.pdf, self.geo
        height = (end - start) * row.line_height + 2 * CELL_PAD_Y
        pdf.set_line_width(GRID)
        pdf.set_draw_color(0)
        for cell in row.cells:
            x = g.left + cell.x
            if cell.fill:
                pdf.set_fill_color(HEADER_FILL)
                pdf.rect(x, self.y, cell.width, height, style="DF")
            else:
                pdf.rect(x, self.y, cell.width, height)
            shown = cell.lines[start:end]
            # a shaded header or label cell is centred vertically in its row, as Word and the web
            # edition centre it (a one-line 序号 sat at the top beside a three-line header)
            offset = 0.0
            if (VCENTER or cell.fill) and start == 0 and end == row.lines and len(cell.lines) < row.lines:
                offset = (row.lines - len(cell.lines)) * row.line_height / 2
            top = self.y + CELL_PAD_Y + offset
            for line in shown:
                if cell.align == "center":
                    lx = x + (cell.width - self.width(line, cell.role, cell.size)) / 2
                else:
                    lx = x + CELL_PAD_X
                self.draw_line(line, lx, top, cell.role, cell.size, row.line_height)
                top += row.line_height
        self.y += height

    # -- charts --------------------------------------------------------------------
    def chart_layout(self, block: ChartBlock):
        """The chart placed by `formgen.charts` (once per block), or None without that module."""
        if _charts is None:
            return None
        key = id(block)
        if key not in self._layouts:
            g = self.geo
            self._layouts[key] = _charts.layout(block.chart, max_width=min(g.text_width, 170.0),
                                                font_size=10.5, max_height=g.text_height - 12)
        return self._layouts[key]

    def chart_height(self, block: ChartBlock) -> float:
        """What the chart takes on the page, its title included (scaled to one page at most)."""
        lay = self.chart_layout(block)
        title = SUBHEAD_PT * PT * LEADING + 4 if block.title else 0.0
        body = min(lay.height, self.geo.text_height - title - 4) + 4 if lay is not None else 0.0
        return title + body

    def chart(self, block: ChartBlock) -> None:
        lay = self.chart_layout(block)
        self.ensure(self.chart_height(block))  # the title never parts from its chart
        if block.title:
            self.y += 2
            self.text_block(block.title, "sans", SUBHEAD_PT, align="center", space_after=2)
        if lay is None:
            return
        g = self.geo
        scale = min(1.0, (self.room() - 2) / lay.height) if lay.height else 1.0
        height = lay.height * scale
        x = g.left + (g.text_width - lay.width * scale) / 2
        with actual_text(self.pdf, _charts.reading_text(lay)):
            if scale < 1.0:
                with self.scaled(scale, x, self.y):
                    _charts.draw_pdf(self.pdf, lay, x, self.y, serif="serif", sans="sans")
            else:
                _charts.draw_pdf(self.pdf, lay, x, self.y, serif="serif", sans="sans")
        self.y += height + 4

    def scaled(self, scale: float, x: float, y: float):
        """A context that scales drawing by ``scale`` about the point (x, y) mm."""
        pdf = self.pdf
        k = pdf.k
        ax, ay = x * k, (pdf.h - y) * k
        tx, ty = (1 - scale) * ax, (1 - scale) * ay

        class _Scaled:
            def __enter__(self_inner):
                pdf._out(f"q {scale:.5f} 0 0 {scale:.5f} {tx:.3f} {ty:.3f} cm")

            def __exit__(self_inner, *exc):
                pdf._out("Q")
        return _Scaled()

    # -- online links with QR codes ---------------------------------------------------------
    def link_block(self, block: LinkBlock) -> None:
        g, pdf = self.geo, self.pdf
        side = QR_SIDE if block.qr else 0
        self.ensure(max(side, 12) + 4)
        self.y += 2
        top = self.y
        text_x = g.left
        if block.qr:
            self.qr(block.url, g.left, top, side)
            text_x = g.left + side + 5
        line_height = BODY_PT * PT * LEADING
        text_top = top + max(0.0, (side - 3 * line_height) / 2)
        self.draw_line(f"{block.label}：", text_x, text_top, "sans", LABEL_PT, line_height)
        url_lines = self.wrap(block.url, "serif", BODY_PT, g.width - g.right - text_x)
        y = text_top + line_height
        for line in url_lines:
            self.draw_line(line, text_x, y, "serif", BODY_PT, line_height)
            y += line_height
        if block.qr:
            self.draw_line("（扫描二维码办理）", text_x, y, "serif", NOTE_PT, line_height)
            y += line_height
        pdf.link(text_x, text_top + line_height, g.width - g.right - text_x, len(url_lines) * line_height,
                 block.url)
        if block.qr:
            pdf.link(g.left, top, side, side, block.url)
        self.y = max(y, top + side) + 4

    def qr(self, url: str, x: float, y: float, side: float) -> None:
        """A QR code as vector squares (one rectangle per run of dark modules)."""
        code = segno.make(url, error="m")
        matrix = code.matrix
        quiet = 2
        count = len(matrix) + 2 * quiet
        module = side / count
        pdf = self.pdf
        pdf.set_fill_color(0)
        for r, row in enumerate(matrix):
            c = 0
            while c < len(row):
                if row[c]:
                    start = c
                    while c < len(row) and row[c]:
                        c += 1
                    pdf.rect(x + (start + quiet) * module, y + (r + quiet) * module,
                             (c - start) * module, module, style="F")
                else:
                    c += 1
        pdf.set_fill_color(255)

    # -- blank forms ---------------------------------------------------------------------
    def form(self, block: FormBlock, depth: int, part: Part) -> None:
        path = self.form_pdf(block.form_id)
        reader = PdfReader(str(path))
        for index, page in enumerate(reader.pages):
            width = float(page.mediabox.width) * PT
            height = float(page.mediabox.height) * PT
            orientation = "L" if width > height else "P"
            self.pdf.add_page(orientation=orientation)
            g = self.geo
            self.y = g.top
            if index == 0 and block is part.blocks[0] and forms_only(part):
                self.mark(part, depth, self.y)  # the part is its forms: its bookmark and 目录 page are here
            elif index == 0 and part.kind != "appendix":
                name = f"{block.number} {block.title}" if block.number else block.title
                self.pdf.set_y(self.y)
                self.pdf.start_section(name, level=depth)
            self.placements.append(Placement(self.pdf.page, path, index,
                                             (g.left, g.top - 2, g.text_width, g.text_height + 2)))
        self.y = self.geo.bottom  # whatever follows starts on a new page

    def form_pdf(self, form_id: str) -> Path:
        if form_id in self.form_cache:
            return self.form_cache[form_id]
        if self.edition is None:
            raise RenderError(f"the booklet reproduces form '{form_id}': pass the edition to "
                              "BookletWriter(edition=...)")
        form = self.edition.forms_by_id.get(form_id)
        if form is None:
            raise RenderError(f"the booklet names form '{form_id}', which the data does not have")
        from .pdf import FormWriter
        path = self.workdir / f"{form_id}.pdf"
        FormWriter(form, self.edition).write(None, path)
        self.form_cache[form_id] = path
        return path


@dataclass
class LaidCell:
    x: float
    width: float
    lines: list[str]
    role: str
    size: float
    align: str
    fill: bool


@dataclass
class LaidRow:
    cells: list[LaidCell]
    line_height: float
    lines: int

    @property
    def height(self) -> float:
        return self.lines * self.line_height + 2 * CELL_PAD_Y


def place_forms(data: bytes, placements: list[Placement], labels: list[tuple[int, int, str | None, int]]) -> bytes:
    """Put each form page into its booklet page's margins; set the page labels."""
    reader = PdfReader(_bytes_io(data))
    writer = PdfWriter(clone_from=reader)
    sources: dict[Path, PdfReader] = {}
    for placement in placements:
        source = sources.setdefault(placement.source, PdfReader(str(placement.source)))
        form_page = source.pages[placement.source_page]
        if "/Annots" in form_page:  # fields belong to the form's own file, not the booklet
            del form_page[NameObject("/Annots")]
        target = writer.pages[placement.page - 1]
        page_height = float(target.mediabox.height)
        sx0 = FORM_MARGIN / PT
        sy0 = FORM_MARGIN / PT
        sw = float(form_page.mediabox.width) - 2 * sx0
        sh = float(form_page.mediabox.height) - 2 * sy0
        x, y, w, h = (v / PT for v in placement.box)
        scale = min(w / sw, h / sh, 1.0)
        tx = x + (w - sw * scale) / 2
        ty = page_height - y - sh * scale  # top-aligned under the header
        ctm = Transformation().translate(-sx0, -sy0).scale(scale, scale).translate(tx, ty)
        target.merge_transformed_page(form_page, ctm)
    for start, end, style, first in labels:
        writer.set_page_label(start, end, style=style, prefix="封面" if style is None else None, start=first)
    out = _bytes_io()
    writer.write(out)
    return out.getvalue()


def _bytes_io(data: bytes | None = None):
    from io import BytesIO
    return BytesIO(data) if data is not None else BytesIO()


class BookletWriter:
    """Writes a `Booklet` as one PDF.

    ``edition`` (the `ResolvedEdition` the booklet was built from) is needed when the
    booklet reproduces blank forms; ``library`` may be given instead (the edition is then
    resolved from it).
    """

    extension = ".pdf"

    def __init__(self, edition=None, library=None, **options):
        self.edition = edition
        self.library = library
        self.fonts = _Fonts(options.get("fonts"))

    def write(self, booklet: Booklet, target: Path) -> None:
        edition = self.edition
        if edition is None and self.library is not None:
            edition = self.library.edition(booklet.edition_id)
        with tempfile.TemporaryDirectory(prefix="formgen-booklet-") as folder:
            setter = Typesetter(booklet, self.fonts, edition, Path(folder))
            data = setter.render()
            pdf = setter.pdf
            body_start = pdf.cover_pages + pdf.toc_pages  # 0-based index of body page 1
            labels = [(0, 0, None, 1), (1, body_start - 1, "/R", 1),
                      (body_start, len(PdfReader(_bytes_io(data)).pages) - 1, "/D", 1)]
            data = place_forms(data, setter.placements, labels)
        try:
            Path(target).write_bytes(data)
        except OSError as err:
            raise RenderError(f"cannot write {target}: {err.strerror or err}") from err


def forms_only(part: Part) -> bool:
    """The part is nothing but blank forms (an appendix): its pages are the forms' own."""
    return bool(part.blocks) and all(isinstance(b, FormBlock) for b in part.blocks)


def toc_gaps(entries: list[TocEntry]) -> list[float]:
    """Space (mm) after each 目录 entry: a group's last item stands apart from the next group's
    title, so that the title leads its own items (with the space after the title, it sat tight
    under the previous group and read as its last line); items, and a flat list, run on."""
    following = [entry.depth for entry in entries[1:]] + [entries[-1].depth if entries else 0]
    return [2.5 if entry.depth > after else 0.0 for entry, after in zip(entries, following)]


@contextmanager
def pagination_artifact(pdf: FPDF, subtype: str):
    """Marks a running header or page number as a pagination artifact, not part of the text.

    A reader copying a passage that runs over a page break, a screen reader, or a search for a
    phrase that straddles two pages should meet the passage, not "- 7 -" and the edition's name
    in the middle of it. PDF/UA says so with /Artifact (ISO 32000 §14.8.2.2), which Acrobat
    honours but poppler (pdftotext, Evince, Okular) does not; the empty /ActualText inside it
    says the same to poppler. The header and number are still drawn on every page.
    """
    pdf._out(f"/Artifact <</Type /Pagination /Subtype /{subtype}>> BDC")
    pdf._out(begin_actual_text(""))
    try:
        yield
    finally:
        pdf._out("EMC")
        pdf._out("EMC")


@contextmanager
def actual_text(pdf: FPDF, text: str):
    """Marked content whose /ActualText is ``text``: what text extraction reads for what is drawn inside.

    fpdf2 has no public call for marked content, hence ``_out``.
    """
    pdf._out(begin_actual_text(text))
    try:
        yield
    finally:
        pdf._out("EMC")
