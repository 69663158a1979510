"""Word booklets: a `formgen.booklet.Booklet` as an editable, printable .docx.

The document is built with python-docx on its default template, restyled in
code rather than from a committed base .docx: every style the booklet uses is
defined here (one place to read, no binary file to drift from the code), and a
bureau that wants its own look edits the styles in Word as usual.

What a clerk gets in Word:

* **Styles.** Normal 宋体 12pt (eastAsia font and ``zh-CN`` set everywhere,
  also in ``themeFontLang``, or LibreOffice picks Japanese glyphs); parts are
  Heading 1/2/3 in 黑体, so the navigation pane and Word's own TOC work.
  Paragraph kinds of the model map to styles 正文/说明/居中/小标题/小字/分标题.
* **Sections.** A cover section (no header, no page number); the contents,
  numbered I, II…; then the body, numbered from 1 (as the PDF booklet
  numbers its pages, so both agree); the running header is
  the edition's ``header_text``; the footer is "- N -" (``- `` PAGE field
  `` -``), centered.  Catalog booklets are A4 landscape throughout; a blank
  form gets a section of its own in its own orientation.
* **Table of contents.** A real ``TOC \\o "1-2" \\h \\z \\u`` field whose
  cached result already lists every entry (depth 1 and 2, ``in_toc``), each a
  hyperlink to the part's bookmark followed by a ``PAGEREF`` field.  Word
  cannot know page numbers without laying the document out, so: when the
  caller passes ``page_numbers`` (slug -> page, e.g. read from the PDF
  booklet) they are the cached numbers; otherwise the numbers are left empty.
  Either way ``w:updateFields`` is set in settings.xml, so Word recomputes the
  TOC (and PAGEREFs) against its own layout when the file is opened; until
  then readers such as LibreOffice show the cached entries.
* **Bookmarks.** Every printed part heading, and every table row that carries
  an anchor (catalog rows are items), holds a bookmark named
  ``bookmark_name(slug)`` (Word allows letters, digits and ``_`` only).
* **Tables.** Full grid, fixed layout, column widths in the proportions of
  ``Table.widths``; header rows repeat on every page (``w:tblHeader``) and
  rows that fit comfortably on a page cannot split (``w:cantSplit``).  The
  catalog is set as the PDF booklet sets it (`CATALOG_TABLE`: 8.5 pt on exact
  1.4 lines, the same cell padding and text area), so both paginate alike and
  the 目录's page numbers, taken from the PDF, hold in Word too.
* **Process charts** are native DrawingML: an inline group (``wpg:wgp``) of
  shapes (``wps:wsp``) drawn from the geometry of `formgen.charts.layout`:
  boxes are rectangles with text boxes holding real, editable text (one line
  per laid-out line, so Word wraps as the layout did), arrows are polylines
  with arrowheads, labels are borderless text boxes.  The chart's reading
  order is also the drawing's alt text (``descr``).  A chart taller than the
  page is scaled down as a whole, fonts included.
* **QR codes** for online addresses are PNG pictures drawn by segno.
* **Blank forms** are rendered by the Word form writer
  (`formgen.writers.docx.FormWriter`) to a temporary file, and its body is
  appended in a section of its own: its paragraphs take the booklet's
  "表格文字" style (so the booklet's Normal does not change their size) and
  pictures, if any, are re-linked into the booklet.

Only this module (and the other Word writer) imports python-docx.
"""
from __future__ import annotations

import copy
import math
import re
import tempfile
from io import BytesIO
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph
from docx.text.run import Run
from lxml.etree import XMLSyntaxError

from ..booklet import Booklet, Cell, ChartBlock, FormBlock, LinkBlock, Para, Part, Table
from ..errors import RenderError
from ..titles import title_lines
from .wordml import set_rpr_font

BODY_FONT = "宋体"
HEADING_FONT = "黑体"
BODY_SIZE = 12  # 小四
TABLE_SIZE = 10.5  # 五号
COVER_TITLE_SIZE = 24  # 小一
COVER_SUBTITLE_SIZE = 18
A4 = (210, 297)
# top, bottom, left, right mm; landscape (the catalog) has the PDF booklet's text area, 267 × 168 mm
MARGINS = {"portrait": (25, 22, 22, 22), "landscape": (24, 18, 15, 15)}
FORM_MARGIN = 20  # the form writer lays its grid out for 2 cm margins
HEADER_DISTANCE = 12
MIN_CANT_SPLIT_SHARE = 0.55  # a row taller than this share of the text height may split


@dataclass(frozen=True)
class TableLook:
    """Type size, leading and cell padding of a kind of table (and its paragraph styles)."""

    size: float  # pt
    leading: float  # line height / size
    exact: bool  # leading as an exact line height (the same in Word and LibreOffice whatever the font)
    pad_x: float  # mm, left and right
    pad_y: float  # mm, top and bottom
    body_style: str
    heading_style: str
    cant_split_share: float  # a row taller than this share of the text height may split


GUIDE_TABLE = TableLook(TABLE_SIZE, 1.15, False, 1.5, 0.0, "TableText", "TableHeading", MIN_CANT_SPLIT_SHARE)
# The catalog is set as the PDF booklet sets it (booklet_pdf CATALOG_PT, CELL_LEADING, CELL_PAD_X/Y):
# 8.5 pt on exact 1.4 lines, 1.6 × 1.5 mm padding. Its rows are long (设定依据 runs to 30 lines), so
# one that does not fit continues on the next page, as in the PDF, rather than leave half a page
# empty: only rows shorter than an eighth of the page (about five lines) are kept whole.
CATALOG_TABLE = TableLook(8.5, 1.4, True, 1.6, 1.5, "CatalogText", "CatalogHeading", 0.12)

TOC_INSTRUCTION = ' TOC \\o "1-2" \\h \\z \\u '
STYLE_OF_PARA = {"body": "正文", "note": "说明", "center": "居中", "label": "小标题",
                 "small": "小字", "heading": "分标题"}
EMU_PER_MM = 36000
WPG = "http://schemas.microsoft.com/office/word/2010/wordprocessingGroup"
WPS = "http://schemas.microsoft.com/office/word/2010/wordprocessingShape"
NAMESPACES = (
    'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
    f'xmlns:wpg="{WPG}" xmlns:wps="{WPS}"'
)


def bookmark_name(slug: str) -> str:
    """A Word bookmark name for a part slug: letters, digits and ``_``, at most 40 characters."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", slug)
    if not name or not name[0].isalpha():
        name = "p_" + name
    if len(name) > 40:
        name = name[:31] + "_" + format(abs(hash(slug)) % 16**8, "08x")
    return name


class BookletWriter:
    """Writes a `Booklet` as .docx.

    ``edition`` (the `ResolvedEdition` the booklet was built from) is needed
    only when the booklet reproduces blank forms; ``library`` may be given
    instead (the edition is then resolved from it).  ``page_numbers`` maps
    part slugs to body page numbers (e.g. the PDF booklet's) for the cached
    TOC entries.
    """

    extension = ".docx"

    def __init__(self, edition=None, library=None, page_numbers: dict[str, int] | None = None, **options):
        self.edition = edition
        self.library = library
        self.page_numbers = dict(page_numbers or {})

    def write(self, booklet: Booklet, target: Path) -> None:
        edition = self.edition
        if edition is None and self.library is not None:
            edition = self.library.edition(booklet.edition_id)
        try:
            document = BookletDocument(booklet, edition, self.page_numbers).build()
        except (ValueError, XMLSyntaxError) as err:  # e.g. a control character in the data
            raise RenderError(f"booklet '{booklet.edition_id}' has text Word cannot hold: {err}. "
                              "Fix: remove control characters from the data") from err
        try:
            document.save(str(target))
        except OSError as err:
            raise RenderError(f"cannot write {target}: {err.strerror or err}") from err


class BookletDocument:
    """One booklet being drawn into one python-docx Document."""

    def __init__(self, booklet: Booklet, edition, page_numbers: dict[str, int]):
        self.booklet = booklet
        self.edition = edition
        self.page_numbers = page_numbers
        self.orientation = "landscape" if booklet.landscape else "portrait"
        self.document = Document()
        self.body = self.document.element.body
        self.next_id = 1  # bookmark ids
        self.next_drawing_id = 1  # ids of pictures and shapes
        self.bookmarks: set[str] = set()
        self.part_slugs = {part.slug for _, part in printed_parts(booklet.parts)}
        self.page_started = True  # nothing on the current page yet: no break needed
        self.table_look = CATALOG_TABLE if booklet.style == "catalog" else GUIDE_TABLE

    # -- the whole -----------------------------------------------------
    def build(self):
        define_styles(self.document, self.text_width_mm(), catalog=self.table_look is CATALOG_TABLE)
        self.style_ids = {style.name: style.style_id for style in self.document.styles}
        set_settings(self.document, self.booklet)
        self.clear_body()
        self.draw_cover()
        self.end_section(self.orientation)
        self.draw_toc()
        self.end_section(self.orientation, own_paragraph=True)
        for depth, part in printed_parts(self.booklet.parts):
            self.draw_part(part, depth)
        self.finish(self.orientation)
        self.add_page_furniture()
        return self.document

    def clear_body(self) -> None:
        for child in list(self.body):
            if child.tag != qn("w:sectPr"):
                self.body.remove(child)
        self.sentinel = self.body.find(qn("w:sectPr"))  # everything is inserted before it

    # -- sections ------------------------------------------------------
    def end_section(self, orientation: str, margins=None, own_paragraph: bool = False) -> None:
        """Close the section drawn so far (in ``orientation``); what follows starts on a new page.

        The break rides on the last paragraph when it can (no empty line), or
        on a paragraph of its own: after a table, or ``own_paragraph`` (after
        the contents, whose field must end before the break for LibreOffice).
        """
        sect = self.new_sectPr(orientation, margins)
        last = self.sentinel.getprevious()
        if (own_paragraph or last is None or last.tag != qn("w:p")
                or last.find(qn("w:pPr") + "/" + qn("w:sectPr")) is not None):
            last = self.paragraph()
        last.get_or_add_pPr().append(sect)  # sectPr is the last child of pPr
        self.page_started = True

    def finish(self, orientation: str) -> None:
        """The body's own sectPr: the last section, unless that would be an empty page."""
        final = self.sentinel
        last = final.getprevious()
        closing = last.find(qn("w:pPr") + "/" + qn("w:sectPr")) if last is not None and last.tag == qn("w:p") else None
        if self.page_started and closing is not None:  # nothing after the last break: end there
            closing.getparent().remove(closing)
            if not list(last.iter(qn("w:t"))) and not list(last.iter(qn("w:drawing"))):
                self.body.remove(last)
            final.getparent().replace(final, closing)
            self.sentinel = closing
        else:
            self.sentinel = self.new_sectPr(orientation)
            final.getparent().replace(final, self.sentinel)

    def new_sectPr(self, orientation: str, margins=None):
        width, height = A4 if orientation == "portrait" else A4[::-1]
        top, bottom, left, right = margins or MARGINS[orientation]
        sect = OxmlElement("w:sectPr")
        size = sub(sect, "w:pgSz", {"w:w": twips(width), "w:h": twips(height)})
        if orientation == "landscape":
            size.set(qn("w:orient"), "landscape")
        sub(sect, "w:pgMar", {"w:top": twips(top), "w:bottom": twips(bottom), "w:left": twips(left),
                              "w:right": twips(right), "w:header": twips(HEADER_DISTANCE),
                              "w:footer": twips(HEADER_DISTANCE - 2), "w:gutter": "0"})
        sub(sect, "w:cols", {"w:space": "425"})
        return sect

    def text_width_mm(self, orientation: str | None = None) -> float:
        orientation = orientation or self.orientation
        width = A4[0] if orientation == "portrait" else A4[1]
        _, _, left, right = MARGINS[orientation]
        return width - left - right

    def text_height_mm(self, orientation: str | None = None) -> float:
        orientation = orientation or self.orientation
        height = A4[1] if orientation == "portrait" else A4[0]
        top, bottom, _, _ = MARGINS[orientation]
        return height - top - bottom

    def add_page_furniture(self) -> None:
        """Header and footer from the contents on (later sections inherit them).

        The contents pages are numbered I, II…, the body from 1, as in the PDF
        booklet, so a page number means the same page in both.
        """
        sections = self.document.sections
        contents = sections[1]
        header = contents.header
        header.is_linked_to_previous = False
        self.draw_header(header)
        footer = contents.footer
        footer.is_linked_to_previous = False
        self.draw_footer(footer)
        number_pages(contents._sectPr, "upperRoman")
        if len(sections) > 2:
            number_pages(sections[2]._sectPr, "decimal")

    def draw_header(self, header) -> None:
        paragraph = header.paragraphs[0]
        paragraph.style = self.document.styles["Header"]
        paragraph.text = ""
        paragraph.add_run(self.booklet.header_text)

    def draw_footer(self, footer) -> None:
        paragraph = footer.paragraphs[0]
        paragraph.style = self.document.styles["Footer"]
        paragraph.add_run("- ")
        append_field(paragraph._p, " PAGE ", "1")
        paragraph.add_run(" -")

    # -- cover -----------------------------------------------------------
    def draw_cover(self) -> None:
        """Title block at about a third of the page, issuer and year toward the foot.

        Spacing is explicit rather than the section's vertical centering, which
        LibreOffice ignores; the title's height is estimated from its length.
        """
        booklet = self.booklet
        height, width = self.text_height_mm(), self.text_width_mm()
        used = 0.0
        if booklet.logo and Path(booklet.logo).is_file():
            logo = self.styled_paragraph("封面单位")
            logo.paragraph_format.space_before = Mm(height * 0.12)
            logo.add_run().add_picture(str(booklet.logo), height=Mm(25))
            self.saw_picture(logo._p)
            used += height * 0.12 + 25
        title = self.styled_paragraph("封面标题", balanced_title(booklet.title, COVER_TITLE_SIZE, width))
        before = max(height * 0.28 - used, 8)
        title.paragraph_format.space_before = Mm(before)
        used += before + text_height_mm(booklet.title, COVER_TITLE_SIZE, width, 1.3) + 4
        if booklet.subtitle:
            self.styled_paragraph("封面副标题", booklet.subtitle)
            used += text_height_mm(booklet.subtitle, COVER_SUBTITLE_SIZE, width, 1.2) + 2
        bureau = self.styled_paragraph("封面单位", booklet.bureau)
        bureau.paragraph_format.space_before = Mm(max(height * 0.72 - used, 12))
        if booklet.year:
            self.styled_paragraph("封面单位", f"{booklet.year}年")

    # -- contents ----------------------------------------------------------
    def draw_toc(self) -> None:
        self.styled_paragraph("目录标题", "目　　录")
        entries = [(depth, part) for depth, part in printed_parts(self.booklet.parts)
                   if depth <= 2 and part.in_toc]
        paragraphs = [self.toc_entry(depth, part) for depth, part in entries] or [self.paragraph()]
        first, last = paragraphs[0], paragraphs[-1]
        offset = 1 if first.find(qn("w:pPr")) is not None else 0
        for k, run in enumerate(field_runs(TOC_INSTRUCTION)):
            first.insert(offset + k, run)
        last.append(field_char("end"))
        self.page_started = False

    def toc_entry(self, depth: int, part: Part):
        paragraph = self.styled_paragraph(f"TOC {depth}")._p
        link = sub(paragraph, "w:hyperlink", {"w:anchor": bookmark_name(part.slug), "w:history": "1"})
        link.append(text_run(toc_text(part)))
        tab = OxmlElement("w:r")
        sub(tab, "w:tab")
        link.append(tab)
        number = self.page_numbers.get(part.slug)
        for run in field_runs(f" PAGEREF {bookmark_name(part.slug)} \\h ", "" if number is None else str(number)):
            link.append(run)
        return paragraph

    # -- parts -------------------------------------------------------------
    def draw_part(self, part: Part, depth: int) -> None:
        if part.blocks and isinstance(part.blocks[0], FormBlock):
            self.draw_form_part(part, depth)
            return
        heading = self.styled_paragraph(heading_style(part, depth))
        starts_page = part.page_break and not self.page_started
        self.page_started = False
        self.bookmark(heading._p, part.slug)
        heading.add_run(part.heading)
        if part.code:
            heading.add_run(f"（{part.code}）" if depth > 1 else f"　{part.code}")
        for block in part.blocks:
            self.draw_block(block)
        if part.titled_by_its_chart:  # the chart shows the title; the heading feeds navigation and TOC
            hide(heading._p)
        if starts_page:  # a hidden paragraph is not laid out, so the page break goes on what shows
            shown = heading._p.getnext() if part.titled_by_its_chart else heading._p
            Paragraph(shown, heading._parent).paragraph_format.page_break_before = True

    def draw_block(self, block) -> None:
        if isinstance(block, Para):
            self.draw_para(block)
        elif isinstance(block, Table):
            self.draw_table(block)
        elif isinstance(block, ChartBlock):
            self.draw_chart(block)
        elif isinstance(block, LinkBlock):
            self.draw_link(block)
        elif isinstance(block, FormBlock):
            self.draw_form(block)
        else:
            raise RenderError(f"booklet block of unknown kind {type(block).__name__}")

    def draw_para(self, para: Para) -> None:
        paragraph = self.styled_paragraph(STYLE_OF_PARA.get(para.style, "正文"))
        add_text(paragraph, para.text)
        self.page_started = False

    # -- tables --------------------------------------------------------------
    def draw_table(self, table: Table) -> None:
        if table.caption:
            self.styled_paragraph("表题", table.caption).paragraph_format.keep_with_next = True
        width_mm = self.text_width_mm()
        total = sum(table.widths) or 1
        look = self.table_look
        columns = widen_for_unbreakable([width_mm * w / total for w in table.widths], table.rows, look)
        element = table_element(columns, look)
        header = [self.table_row(row, columns, header=True) for row in table.header]
        anchors = list(table.anchors) + [None] * (len(table.rows) - len(table.anchors))
        body = [self.table_row(rows, columns, header=False, anchor=anchor)
                for rows, anchor in zip(occupied_rows(table.rows, len(columns)), anchors)]
        element.extend(header + body)
        if self.table_look is not CATALOG_TABLE:  # the catalog's groups run on as one list, as in the PDF
            keep_rows_together(header, body)
        self.sentinel.addprevious(element)
        self.page_started = False

    def table_row(self, placed, columns: list[float], header: bool, anchor: str | None = None):
        if not header:
            cells = placed
        else:
            cells = place_header_row(placed)
        row = OxmlElement("w:tr")
        props = sub(row, "w:trPr")
        look = self.table_look
        height = row_height_mm(cells, columns, look)
        if header or height < look.cant_split_share * self.text_height_mm():
            sub(props, "w:cantSplit")
        if header:
            sub(props, "w:tblHeader")
        first = True
        for item in cells:
            cell, column, continued = item
            tc = table_cell(cell, columns, column, continued, header, look)
            if first and anchor and anchor not in self.part_slugs:  # a printed part holds its own
                self.bookmark(tc.find(qn("w:p")), anchor)
            first = False
            row.append(tc)
        return row

    # -- charts ------------------------------------------------------------------
    def draw_chart(self, block: ChartBlock) -> None:
        from .. import charts  # imported here: only booklets with charts need it

        if block.title:
            self.styled_paragraph("图题", block.title).paragraph_format.keep_with_next = True
        lay = charts.layout(block.chart, max_width=self.text_width_mm(), font_size=10.5)
        scale = min(1.0, (self.text_height_mm() - 12) / lay.height) if lay.height else 1.0
        paragraph = self.styled_paragraph("图")
        drawing_id = self.take_drawing_ids(1 + len(lay.boxes) + 2 * len(lay.arrows))
        paragraph._p.append(parse_xml(chart_run_xml(lay, scale, drawing_id, block.title or "流程图")))
        self.page_started = False

    # -- links -------------------------------------------------------------------
    def draw_link(self, block: LinkBlock) -> None:
        paragraph = self.styled_paragraph("小标题")
        paragraph.add_run(f"{block.label}：")
        self.hyperlink(paragraph, block.url)
        if block.qr:
            import segno  # only booklets with online links need it

            png = BytesIO()
            segno.make(block.url, error="m").save(png, kind="png", scale=10, border=2)
            png.seek(0)
            picture = self.styled_paragraph("二维码")
            picture.add_run().add_picture(png, width=Mm(28))
            self.saw_picture(picture._p).set("descr", block.url)
            self.styled_paragraph("二维码", "扫码办理")
        self.page_started = False

    def hyperlink(self, paragraph, url: str) -> None:
        rel = paragraph.part.relate_to(url, RT.HYPERLINK, is_external=True)
        link = sub(paragraph._p, "w:hyperlink", {"r:id": rel, "w:history": "1"})
        link.append(text_run(url, style="Hyperlink"))

    # -- forms -------------------------------------------------------------------
    def draw_form(self, block: FormBlock) -> None:
        form = self.find_form(block.form_id)
        source = self.render_form(form)
        self.end_section(self.orientation)
        self.append_form_body(source)
        self.end_section(form.orientation, margins=(FORM_MARGIN,) * 4)

    def draw_form_part(self, part: Part, depth: int) -> None:
        """A part that is a form: the form's own title is the part's heading (no printed duplicate)."""
        block, rest = part.blocks[0], part.blocks[1:]
        form = self.find_form(block.form_id)
        if not self.page_started:
            self.end_section(self.orientation)
        before = self.sentinel.getprevious()
        self.append_form_body(self.render_form(form))
        title = self.form_title_paragraph(before, form)
        title.get_or_add_pPr().style = self.style_ids[heading_style(part, depth)]
        self.bookmark(title, part.slug)
        for extra in rest:
            self.draw_block(extra)
        self.end_section(form.orientation, margins=(FORM_MARGIN,) * 4)

    def form_title_paragraph(self, before, form):
        """The appended form's title line (the body after ``before``), found by its text."""
        wanted = self.edition.form_title(form)
        paragraphs, element = [], before.getnext() if before is not None else self.body[0]
        while element is not None and element is not self.sentinel:
            if element.tag == qn("w:p"):
                paragraphs.append(element)
            element = element.getnext()
        for paragraph in paragraphs:
            if "".join(t.text or "" for t in paragraph.iter(qn("w:t"))).strip() == wanted:
                return paragraph
        return paragraphs[0] if paragraphs else self.paragraph()

    def render_form(self, form):
        from .docx import FormWriter  # the Word form writer draws the form itself

        with tempfile.TemporaryDirectory(prefix="formgen-booklet-") as folder:
            path = Path(folder) / f"{form.id}.docx"
            FormWriter(form, self.edition).write(None, path)
            return Document(str(path))

    def find_form(self, form_id: str):
        if self.edition is None:
            raise RenderError(f"the booklet reproduces form '{form_id}': "
                              "pass the edition to BookletWriter(edition=...)")
        form = self.edition.forms_by_id.get(form_id)
        if form is None:
            raise RenderError(f"the booklet names form '{form_id}', which edition "
                              f"'{self.edition.id}' does not have")
        return form

    def append_form_body(self, source) -> None:
        for child in source.element.body:
            if child.tag == qn("w:sectPr"):
                continue
            element = copy.deepcopy(child)
            self.relink_pictures(element, source)
            for paragraph in element.iter(qn("w:p")):
                props = paragraph.get_or_add_pPr()
                if props.find(qn("w:pStyle")) is None:
                    props.style = self.style_ids["表格文字"]
            self.sentinel.addprevious(element)
        self.page_started = False

    def relink_pictures(self, element, source) -> None:
        for blip in element.iter(qn("a:blip")):
            rel_id = blip.get(qn("r:embed"))
            image = source.part.related_parts[rel_id]
            new_id, _ = self.document.part.get_or_add_image(BytesIO(image.blob))
            blip.set(qn("r:embed"), new_id)

    # -- small helpers -------------------------------------------------------------
    def paragraph(self):
        p = OxmlElement("w:p")
        self.sentinel.addprevious(p)
        return p

    def styled_paragraph(self, style: str, text: str | None = None):
        p = self.paragraph()
        sub(sub(p, "w:pPr"), "w:pStyle", {"w:val": self.style_ids[style]})
        paragraph = Paragraph(p, self.document._body)
        if text:
            add_text(paragraph, text)
        return paragraph

    def bookmark(self, paragraph, slug: str) -> None:
        name = bookmark_name(slug)
        if name in self.bookmarks:
            return
        self.bookmarks.add(name)
        bookmark_id = str(self.take_id())
        start = OxmlElement("w:bookmarkStart")
        start.set(qn("w:id"), bookmark_id)
        start.set(qn("w:name"), name)
        end = OxmlElement("w:bookmarkEnd")
        end.set(qn("w:id"), bookmark_id)
        props = paragraph.find(qn("w:pPr"))
        position = 1 if props is not None else 0
        paragraph.insert(position, start)
        paragraph.insert(position + 1, end)

    def take_drawing_ids(self, count: int) -> int:
        """The first of ``count`` drawing-object ids nothing uses yet (docPr/cNvPr ids are unique)."""
        first = self.next_drawing_id
        self.next_drawing_id += count
        return first

    def saw_picture(self, paragraph):
        """python-docx numbered a picture (max id + 1): continue after it.  Returns its docPr."""
        properties = list(paragraph.iter(qn("wp:docPr")))[-1]
        self.next_drawing_id = max(self.next_drawing_id, int(properties.get("id")) + 1)
        return properties

    def take_id(self) -> int:
        self.next_id += 1
        return self.next_id


def number_pages(sect, style: str) -> None:
    """Restart page numbering at 1 in this section, in ``style`` (decimal, upperRoman)."""
    number_type = OxmlElement("w:pgNumType")
    number_type.set(qn("w:fmt"), style)
    number_type.set(qn("w:start"), "1")
    sect.insert_element_before(number_type, "w:cols", "w:formProt", "w:vAlign", "w:noEndnote", "w:titlePg",
                               "w:textDirection", "w:bidi", "w:rtlGutter", "w:docGrid", "w:printerSettings",
                               "w:sectPrChange")


# ----------------------------------------------------------------------------
# The parts that are printed, and how their headings look
# ----------------------------------------------------------------------------
def printed_parts(parts: list[Part], depth: int = 1):
    for part in parts:
        if not part.in_print:
            continue
        yield depth, part
        yield from printed_parts(part.children, depth + 1)


def heading_style(part: Part, depth: int) -> str:
    if depth <= 2 and not part.in_toc:
        return f"标题{depth}（不入目录）"
    return f"Heading {min(depth, 3)}"


def toc_text(part: Part) -> str:
    return part.heading


# ----------------------------------------------------------------------------
# Tables
# ----------------------------------------------------------------------------
def occupied_rows(rows: list[list[Cell]], columns: int):
    """Each body row as (cell, first column, continued) triples, rowspans laid out.

    A cell under a rowspan is emitted as a continuation (``vMerge``) so the
    grid stays rectangular, the way Word stores merges.
    """
    spans: dict[int, tuple[Cell, int]] = {}  # column -> (cell, rows still covered)
    for row in rows:
        placed, queue, column = [], list(row), 0
        while column < columns:
            if column in spans:
                cell, left = spans[column]
                placed.append((cell, column, True))
                spans[column] = (cell, left - 1)
                if left - 1 == 0:
                    del spans[column]
                column += cell.colspan
                continue
            if not queue:
                placed.append((Cell(""), column, False))
                column += 1
                continue
            cell = queue.pop(0)
            placed.append((cell, column, False))
            if cell.rowspan > 1:
                spans[column] = (cell, cell.rowspan - 1)
            column += cell.colspan
        yield placed


def keep_rows_together(header: list, body: list) -> None:
    """Two rows at least together at a table's start and at its end, as the PDF booklet keeps them.

    Word keeps a row on the page of the next when its paragraphs are "keep with next": the
    header with the first row, the first with the second, and the second-last with the last,
    so neither the first row stands alone at a page's foot nor the last one at a page's head.
    """
    kept = header + body[:1] + (body[-2:-1] if len(body) > 2 else [])
    for row in kept[:len(header) + len(body) - 1]:  # never the table's last row: what follows is not its own
        for paragraph in row.iter(qn("w:p")):
            paragraph.get_or_add_pPr().get_or_add_keepNext()


def place_header_row(row: list[Cell]):
    placed, column = [], 0
    for cell in row:
        placed.append((cell, column, False))
        column += cell.colspan
    return placed


def table_element(columns: list[float], look: TableLook = GUIDE_TABLE):
    table = OxmlElement("w:tbl")
    props = sub(table, "w:tblPr")
    sub(props, "w:tblStyle", {"w:val": "TableGrid"})
    sub(props, "w:tblW", {"w:w": twips(sum(columns)), "w:type": "dxa"})
    sub(props, "w:jc", {"w:val": "center"})
    borders = sub(props, "w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        sub(borders, f"w:{edge}", {"w:val": "single", "w:sz": "6", "w:space": "0", "w:color": "000000"})
    sub(props, "w:tblLayout", {"w:type": "fixed"})
    margins = sub(props, "w:tblCellMar")
    for edge, mm in (("top", look.pad_y), ("left", look.pad_x), ("bottom", look.pad_y), ("right", look.pad_x)):
        if mm:
            sub(margins, f"w:{edge}", {"w:w": twips(mm), "w:type": "dxa"})
    sub(props, "w:tblLook", {"w:val": "04A0", "w:firstRow": "1", "w:lastRow": "0", "w:firstColumn": "1",
                             "w:lastColumn": "0", "w:noHBand": "0", "w:noVBand": "1"})
    grid = sub(table, "w:tblGrid")
    for width in columns:
        sub(grid, "w:gridCol", {"w:w": twips(width)})
    return table


def table_cell(cell: Cell, columns: list[float], column: int, continued: bool, header: bool,
               look: TableLook = GUIDE_TABLE):
    tc = OxmlElement("w:tc")
    props = sub(tc, "w:tcPr")
    width = sum(columns[column:column + cell.colspan])
    sub(props, "w:tcW", {"w:w": twips(width), "w:type": "dxa"})
    if cell.colspan > 1:
        sub(props, "w:gridSpan", {"w:val": str(cell.colspan)})
    if cell.rowspan > 1:
        sub(props, "w:vMerge", {"w:val": "continue"} if continued else {"w:val": "restart"})
    if header:
        sub(props, "w:shd", {"w:val": "clear", "w:color": "auto", "w:fill": "F2F2F2"})
    sub(props, "w:vAlign", {"w:val": "center"})
    lines = [""] if continued else (cell.text.split("\n") or [""])
    center = header or cell.align == "center"
    for line in lines:
        p = sub(tc, "w:p")
        p_props = sub(p, "w:pPr")
        sub(p_props, "w:pStyle", {"w:val": look.heading_style if header else look.body_style})
        if center and not header:
            sub(p_props, "w:jc", {"w:val": "center"})
        if line:
            p.append(text_run(line, bold=cell.bold and not header))
    return tc


def balanced_title(title: str, size_pt: float, width_mm: float) -> str:
    """A title too long for one line, broken into even lines between words (`formgen.titles`).

    Word would fill the first line and leave a character or two on the second
    ("…办事指 / 南"); the 5 % margin allows for Word's own font metrics.  The text is unchanged.
    """
    return "\n".join(title_lines(title, lambda line: text_width_em(line) * size_pt * 0.3528, width_mm * 0.95))


def text_height_mm(text: str, size_pt: float, width_mm: float, leading: float) -> float:
    em = size_pt * 0.3528
    per_line = max(int(width_mm / em), 1)
    lines = sum(max(1, math.ceil(text_width_em(line) / per_line)) for line in text.split("\n"))
    return lines * em * leading


def row_height_mm(cells, columns: list[float], look: TableLook = GUIDE_TABLE) -> float:
    """A generous estimate of a row's height: CJK characters are one em wide."""
    em = look.size * 0.3528
    tallest = 0.0
    for cell, column, continued in cells:
        if continued:
            continue
        width = max(sum(columns[column:column + cell.colspan]) - 2 * look.pad_x, em)
        per_line = max(int(width / em), 1)
        lines = sum(max(1, math.ceil(text_width_em(line) / per_line)) for line in cell.text.split("\n"))
        tallest = max(tallest, lines * em * max(look.leading, 1.35) + 2 * look.pad_y + 2)
    return tallest


UNBREAKABLE = re.compile(r"[A-Za-z0-9]+")


def widen_for_unbreakable(columns: list[float], rows: list[list[Cell]], look: TableLook = GUIDE_TABLE) -> list[float]:
    """Column widths in which every run of Latin letters and digits fits on one line.

    Word and LibreOffice break a word wider than its cell anywhere, so a 12-digit 事项编码 in
    the catalog's narrow column printed as "00203600 / 1001". A column too narrow for its
    longest code takes the missing width from the columns that have room, in proportion.
    """
    em = look.size * 0.3528
    cell_margins = 2 * look.pad_x  # tblCellMar, left and right
    need = [0.0] * len(columns)
    for row in rows:
        column = 0
        for cell in row:
            if cell.colspan == 1 and column < len(columns):
                runs = UNBREAKABLE.findall(cell.text)
                longest = max((latin_width_em(r) for r in runs), default=0.0)
                need[column] = max(need[column], longest * em + cell_margins + 0.5)
            column += max(1, cell.colspan)
    short = sum(max(0.0, n - w) for n, w in zip(need, columns))
    spare = [max(0.0, w - max(n, 2 * em + cell_margins)) for n, w in zip(need, columns)]
    if short <= 0 or sum(spare) < short:
        return columns
    return [max(w, n) if n > w else w - short * s / sum(spare) for w, n, s in zip(columns, need, spare)]


def latin_width_em(run: str) -> float:
    """Width of a run of Latin letters and digits in the widest font a reader may substitute.

    DejaVu Sans (LibreOffice's stand-in for 宋体's Latin) has digits of 0.64 em and capitals
    A–E of up to 0.77 em (宋体's are all 0.5): the catalog's 办理层级 "ABCDE" printed as "ABCD / E".
    """
    return sum(0.78 if ch.isupper() else 0.64 for ch in run)


def text_width_em(text: str) -> float:
    return sum(1.0 if ord(ch) > 0x2E7F else 0.55 for ch in text)


# ----------------------------------------------------------------------------
# Charts as DrawingML
# ----------------------------------------------------------------------------
def chart_run_xml(lay, scale: float, drawing_id: int, name: str) -> str:
    """A run holding the chart as an inline group of shapes, ``scale`` applied to everything.

    Shape ids follow ``drawing_id`` (the caller reserves them); text boxes hold
    one paragraph per laid-out line and do not wrap, so Word breaks lines
    where the layout did.
    """
    width, height = emu(lay.width * scale), emu(lay.height * scale)
    shapes, shape_id = [], drawing_id
    for arrow in lay.arrows:  # lines first: boxes (white) and labels lie on top
        shape_id += 1
        shapes.append(arrow_shape_xml(arrow, scale, shape_id))
    for thing in in_reading_order(lay):  # text in the order a reader takes it in
        shape_id += 1
        if hasattr(thing, "lines"):
            shapes.append(box_shape_xml(thing, scale, shape_id))
        else:
            shapes.append(label_shape_xml(thing, scale, shape_id))
    alt = "；".join(text.replace("\n", "") for text in lay.reading())
    return (
        f'<w:r {NAMESPACES}><w:drawing><wp:inline distT="0" distB="0" distL="0" distR="0">'
        f'<wp:extent cx="{width}" cy="{height}"/><wp:effectExtent l="0" t="0" r="0" b="0"/>'
        f'<wp:docPr id="{drawing_id}" name="{attr(name)}" descr="{attr(alt)}"/>'
        f'<wp:cNvGraphicFramePr/>'
        f'<a:graphic><a:graphicData uri="{WPG}"><wpg:wgp><wpg:cNvGrpSpPr/>'
        f'<wpg:grpSpPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{width}" cy="{height}"/>'
        f'<a:chOff x="0" y="0"/><a:chExt cx="{width}" cy="{height}"/></a:xfrm></wpg:grpSpPr>'
        + "".join(shapes) +
        '</wpg:wgp></a:graphicData></a:graphic></wp:inline></w:drawing></w:r>'
    )


def in_reading_order(lay) -> list:
    """Boxes and labelled arrows in the order of ``lay.reading()`` (then any left over)."""
    pending = list(lay.boxes) + [a for a in lay.arrows if a.label_lines and a.label_box]
    ordered = []
    for text in lay.reading():
        match = next((p for p in pending if text_of_shape(p) == text), None)
        if match is not None:
            pending.remove(match)
            ordered.append(match)
    return ordered + pending


def text_of_shape(thing) -> str:
    if hasattr(thing, "lines"):
        return getattr(thing, "text", "") or "".join(thing.lines)
    return thing.label or "".join(thing.label_lines)


def attr(text: str) -> str:
    return escape(text, {'"': "&quot;", "\n": "&#10;"})


def outline_xml(dashed: bool) -> str:
    dash = '<a:prstDash val="dash"/>' if dashed else ""
    return f'<a:ln w="9525"><a:solidFill><a:srgbClr val="000000"/></a:solidFill>{dash}</a:ln>'


def box_shape_xml(box, scale: float, shape_id: int) -> str:
    radius = getattr(box, "radius", 0.0)
    geometry = '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom>'
    if radius > 0:  # roundRect's adjustment is the radius as a share of the shorter side
        share = min(50000, round(radius / max(min(box.w, box.h), 0.1) * 100000))
        geometry = f'<a:prstGeom prst="roundRect"><a:avLst><a:gd name="adj" fmla="val {share}"/></a:avLst></a:prstGeom>'
    text = ChartText(box.lines, box.font_size, getattr(box, "line_height", 0.0),
                     getattr(box, "bold", False), getattr(box, "align", "center"))
    if not getattr(box, "framed", True):  # the chart's caption: text only
        return text_shape_xml(shape_id, f"图题{shape_id}", (box.x, box.y, box.w, box.h), scale, text,
                              geometry, '<a:noFill/><a:ln><a:noFill/></a:ln>')
    fill = '<a:solidFill><a:srgbClr val="FFFFFF"/></a:solidFill>'
    return text_shape_xml(shape_id, f"框{shape_id}", (box.x, box.y, box.w, box.h), scale, text,
                          geometry, fill + outline_xml(getattr(box, "dashed", False)))


def label_shape_xml(arrow, scale: float, shape_id: int) -> str:
    text = ChartText(arrow.label_lines, getattr(arrow, "font_size", 0.0) or 9.0,
                     getattr(arrow, "line_height", 0.0), False, "center")
    geometry = '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom>'
    return text_shape_xml(shape_id, f"标注{shape_id}", arrow.label_box, scale, text, geometry,
                          '<a:noFill/><a:ln><a:noFill/></a:ln>')


class ChartText:
    """The text of a box or label: its lines, size (pt), line height (mm), weight and alignment."""

    def __init__(self, lines, size, line_height, bold, align):
        self.lines = list(lines) or [""]
        self.size = size
        self.line_height = line_height or size * 0.3528 * 1.35
        self.bold = bold
        self.align = align if align in ("left", "center") else "center"


def text_shape_xml(shape_id, name, rect, scale, text: ChartText, geometry, outline) -> str:
    x, y, w, h = (v * scale for v in rect)
    size, line_height = text.size * scale, text.line_height * scale
    left_pad = emu(0.55 * size * 0.3528) if text.align == "left" else 0
    paragraphs = "".join(chart_line_xml(line, size, line_height, text.bold, text.align) for line in text.lines)
    return (
        f'<wps:wsp><wps:cNvPr id="{shape_id}" name="{name}"/><wps:cNvSpPr/>'
        f'<wps:spPr><a:xfrm><a:off x="{emu(x)}" y="{emu(y)}"/><a:ext cx="{emu(w)}" cy="{emu(h)}"/></a:xfrm>'
        f'{geometry}{outline}</wps:spPr>'
        f'<wps:txbx><w:txbxContent>{paragraphs}</w:txbxContent></wps:txbx>'
        f'<wps:bodyPr rot="0" vert="horz" wrap="none" lIns="{left_pad}" tIns="0" rIns="0" bIns="0" '
        'anchor="ctr" anchorCtr="0"><a:noAutofit/></wps:bodyPr></wps:wsp>'
    )


def chart_line_xml(text: str, size_pt: float, line_height_mm: float, bold: bool, align: str) -> str:
    half_points = max(round(size_pt * 2), 8)
    font = HEADING_FONT if bold else BODY_FONT  # bold chart text is 黑体, as in the PDF
    fonts = f'<w:rFonts w:ascii="{font}" w:hAnsi="{font}" w:eastAsia="{font}" w:cs="{font}"/>'
    return (
        f'<w:p><w:pPr><w:pStyle w:val="ChartText"/><w:spacing w:before="0" w:after="0" '
        f'w:line="{twips(line_height_mm)}" w:lineRule="exact"/><w:ind w:left="0" w:right="0" w:firstLine="0"/>'
        f'<w:jc w:val="{align}"/></w:pPr>'
        f'<w:r><w:rPr>{fonts}<w:sz w:val="{half_points}"/><w:szCs w:val="{half_points}"/></w:rPr>'
        f'<w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p>'
    )


def arrow_shape_xml(arrow, scale: float, shape_id: int) -> str:
    points = [(x * scale, y * scale) for x, y in arrow.points]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    left, top = min(xs), min(ys)
    width, height = max(max(xs) - left, 0.01), max(max(ys) - top, 0.01)
    steps = []
    for k, (x, y) in enumerate(points):
        verb = "moveTo" if k == 0 else "lnTo"
        steps.append(f'<a:{verb}><a:pt x="{emu(x - left)}" y="{emu(y - top)}"/></a:{verb}>')
    head = '<a:tailEnd type="triangle" w="med" len="med"/>' if getattr(arrow, "head", True) else ""
    dash = '<a:prstDash val="dash"/>' if getattr(arrow, "dashed", False) else ""
    return (
        f'<wps:wsp><wps:cNvPr id="{shape_id}" name="箭头{shape_id}"/><wps:cNvSpPr/>'
        f'<wps:spPr><a:xfrm><a:off x="{emu(left)}" y="{emu(top)}"/>'
        f'<a:ext cx="{emu(width)}" cy="{emu(height)}"/></a:xfrm>'
        f'<a:custGeom><a:avLst/><a:gdLst/><a:ahLst/><a:cxnLst/><a:rect l="0" t="0" r="r" b="b"/>'
        f'<a:pathLst><a:path w="{emu(width)}" h="{emu(height)}" fill="none">{"".join(steps)}</a:path>'
        f'</a:pathLst></a:custGeom><a:noFill/><a:ln w="9525"><a:solidFill><a:srgbClr val="000000"/>'
        f'</a:solidFill>{dash}{head}</a:ln></wps:spPr><wps:bodyPr/></wps:wsp>'
    )


# ----------------------------------------------------------------------------
# Styles and settings
# ----------------------------------------------------------------------------
def define_styles(document, text_width_mm: float, catalog: bool = False) -> None:
    styles = document.styles
    set_doc_defaults(document)
    paragraph_style(styles, "Normal", BODY_FONT, BODY_SIZE)
    # The catalog's groups follow one another down the page, each over its table; the PDF marks
    # them with a 10 pt shaded row, so a 16 pt heading with 12 pt around it pushed every later
    # group a few lines down the Word pages, and the cached page numbers of the 目录 off by one.
    size, before, after = (12, 8, 3) if catalog else (16, 12, 12)
    paragraph_style(styles, "Heading 1", HEADING_FONT, size, before=before, after=after, align="center",
                    keep=True, outline=0)
    paragraph_style(styles, "Heading 2", HEADING_FONT, 15, before=6, after=10, align="center",
                    keep=True, outline=1)
    paragraph_style(styles, "Heading 3", HEADING_FONT, 14, before=6, after=6, keep=True, outline=2)
    for depth, size in ((1, 16), (2, 15)):
        paragraph_style(styles, f"标题{depth}（不入目录）", HEADING_FONT, size, before=6, after=10,
                        align="center", keep=True, outline=9)
    paragraph_style(styles, "正文", BODY_FONT, BODY_SIZE, first_line=2, align="both", line=1.5)
    paragraph_style(styles, "说明", BODY_FONT, 10.5, align="both", line=1.3)
    paragraph_style(styles, "居中", BODY_FONT, BODY_SIZE, align="center", line=1.5)
    paragraph_style(styles, "小标题", HEADING_FONT, BODY_SIZE, before=6, after=3, keep=True, line=1.3)
    paragraph_style(styles, "分标题", HEADING_FONT, 14, before=10, after=6, keep=True, align="center")
    paragraph_style(styles, "小字", BODY_FONT, 9, align="both")
    paragraph_style(styles, "表题", HEADING_FONT, BODY_SIZE, before=6, after=4, align="center", keep=True)
    paragraph_style(styles, "图题", HEADING_FONT, BODY_SIZE, before=8, after=4, align="center", keep=True)
    paragraph_style(styles, "图", BODY_FONT, BODY_SIZE, before=4, after=8, align="center")
    paragraph_style(styles, "二维码", BODY_FONT, 9, align="left")
    paragraph_style(styles, "表格文字", BODY_FONT, TABLE_SIZE, style_id="FormText")
    table_styles(styles, GUIDE_TABLE, "表格正文", "表头")
    table_styles(styles, CATALOG_TABLE, "清单正文", "清单表头")
    paragraph_style(styles, "流程图文字", BODY_FONT, TABLE_SIZE, style_id="ChartText")
    paragraph_style(styles, "封面标题", HEADING_FONT, COVER_TITLE_SIZE, align="center", after=12, line=1.3)
    paragraph_style(styles, "封面副标题", HEADING_FONT, COVER_SUBTITLE_SIZE, align="center", after=6)
    paragraph_style(styles, "封面单位", BODY_FONT, 16, align="center", after=6)
    paragraph_style(styles, "目录标题", HEADING_FONT, 18, align="center", after=18)
    for depth, indent in ((1, 0), (2, 2)):
        style = paragraph_style(styles, f"TOC {depth}", HEADING_FONT if depth == 1 else BODY_FONT,
                                BODY_SIZE if depth == 1 else 11, before=4 if depth == 1 else 0,
                                after=2, first_line=0, left_chars=indent)
        tabs = style.paragraph_format.tab_stops
        tabs.add_tab_stop(Mm(text_width_mm), alignment=2, leader=1)  # right-aligned, dotted
    paragraph_style(styles, "Header", BODY_FONT, 9, align="center")
    header = styles["Header"].element.get_or_add_pPr()
    border = OxmlElement("w:pBdr")
    header.insert_element_before(border, *PPR_AFTER_BORDER)
    sub(border, "w:bottom", {"w:val": "single", "w:sz": "6", "w:space": "1", "w:color": "000000"})
    paragraph_style(styles, "Footer", BODY_FONT, 14 * 0.75 + 1.5, align="center")
    character_style(styles, "Hyperlink", "0563C1", underline=True)


def table_styles(styles, look: TableLook, body_name: str, heading_name: str) -> None:
    """The body and header paragraph styles of a kind of table, from its `TableLook`.

    An exact leading is the same in Word and LibreOffice whatever font stands in, so the
    catalog's header cells keep it too; a guide table's header cells are set solid.
    """
    line = Pt(look.size * look.leading) if look.exact else look.leading
    paragraph_style(styles, body_name, BODY_FONT, look.size, style_id=look.body_style, line=line)
    paragraph_style(styles, heading_name, HEADING_FONT, look.size, style_id=look.heading_style, align="center",
                    line=line if look.exact else None)


def set_doc_defaults(document) -> None:
    styles = document.styles.element
    rpr = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    set_rpr_font(rpr, BODY_FONT, latin_lang="en-US")
    ppr_default = styles.find(qn("w:docDefaults")).find(qn("w:pPrDefault"))
    if ppr_default is not None:
        ppr_default.getparent().remove(ppr_default)


def paragraph_style(styles, name, font, size, *, before=0, after=0, align=None, keep=False,
                    outline=None, first_line=0, left_chars=0, line=None, style_id=None):
    try:
        style = styles[name]
    except KeyError:
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        if style_id:
            style.element.set(qn("w:styleId"), style_id)
        style.base_style = styles["Normal"]
        style.quick_style = True
    style.font.size = Pt(size)
    style.font.bold = False
    style.font.italic = False
    style.font.color.rgb = RGBColor(0, 0, 0)
    set_rpr_font(style.element.get_or_add_rPr(), font, latin_lang="en-US")
    fmt = style.paragraph_format
    fmt.space_before, fmt.space_after = Pt(before), Pt(after)
    fmt.keep_with_next = keep or None
    if align:
        fmt.alignment = {"center": WD_ALIGN_PARAGRAPH.CENTER, "both": WD_ALIGN_PARAGRAPH.JUSTIFY,
                         "left": WD_ALIGN_PARAGRAPH.LEFT}[align]
    if line:
        fmt.line_spacing = line
    props = style.element.get_or_add_pPr()
    if first_line or left_chars:
        ind = props.get_or_add_ind()  # in its schema place, before jc and outlineLvl
        if first_line:
            ind.set(qn("w:firstLineChars"), str(first_line * 100))
            ind.set(qn("w:firstLine"), str(int(first_line * size * 20)))
        if left_chars:
            ind.set(qn("w:leftChars"), str(left_chars * 100))
            ind.set(qn("w:left"), str(int(left_chars * size * 20)))
    if outline is not None:
        for old in props.findall(qn("w:outlineLvl")):
            props.remove(old)
        outline_element = OxmlElement("w:outlineLvl")
        outline_element.set(qn("w:val"), str(outline))
        props.insert_element_before(outline_element, "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr",
                                    "w:pPrChange")
    return style


def character_style(styles, name, color, underline=False):
    try:
        style = styles[name]
    except KeyError:
        style = styles.add_style(name, WD_STYLE_TYPE.CHARACTER)
    style.font.color.rgb = RGBColor.from_string(color)
    style.font.underline = underline
    return style


# a paragraph's properties are a sequence too: what follows w:pBdr
PPR_AFTER_BORDER = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
                    "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd",
                    "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents",
                    "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
                    "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")

# settings.xml is a sequence: updateFields comes before these (ECMA-376 CT_Settings)
AFTER_UPDATE_FIELDS = {"hdrShapeDefaults", "footnotePr", "endnotePr", "compat", "docVars", "rsids", "mathPr",
                       "attachedSchema", "themeFontLang", "clrSchemeMapping", "doNotIncludeSubdocsInStats",
                       "doNotAutoCompressPictures", "forceUpgrade", "captions", "readModeInkLockDown",
                       "smartTagType", "schemaLibrary", "shapeDefaults", "doNotEmbedSmartTags",
                       "decimalSymbol", "listSeparator"}


def local_name(element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def set_settings(document, booklet: Booklet) -> None:
    """Ask Word to refresh fields (the TOC's page numbers) on open; Chinese as the East Asian language."""
    settings = document.settings.element
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")
    later = next((child for child in settings if local_name(child) in AFTER_UPDATE_FIELDS), None)
    if later is None:
        settings.append(update)
    else:
        later.addprevious(update)
    compat = settings.find(qn("w:compat"))
    if compat is not None:  # lines ending in a manual break are not spread out when justified
        compat.insert(0, OxmlElement("w:doNotExpandShiftReturn"))
    lang = settings.find(qn("w:themeFontLang"))
    if lang is not None:
        lang.set(qn("w:val"), "en-US")
        lang.set(qn("w:eastAsia"), "zh-CN")
    core = document.core_properties
    core.title = booklet.title
    core.author = booklet.bureau
    core.subject = booklet.header_text
    core.language = "zh-CN"


# ----------------------------------------------------------------------------
# XML helpers
# ----------------------------------------------------------------------------
def sub(parent, tag: str, attrs: dict | None = None):
    element = OxmlElement(tag)
    for key, value in (attrs or {}).items():
        element.set(qn(key), str(value))
    parent.append(element)
    return element


def twips(mm: float) -> str:
    return str(round(mm * 1440 / 25.4))


def emu(mm: float) -> int:
    return round(mm * EMU_PER_MM)


def text_run(text: str, bold: bool = False, style: str | None = None):
    run = OxmlElement("w:r")
    if bold or style:
        props = sub(run, "w:rPr")
        if style:
            sub(props, "w:rStyle", {"w:val": style})
        if bold:
            sub(props, "w:b")
    t = sub(run, "w:t")
    t.text = text
    t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    return run


def hide(paragraph) -> None:
    """Hidden text (``w:vanish``) for every run and the paragraph mark: not displayed or
    printed, still in Word's navigation pane and collected by its TOC field."""
    for run in paragraph.iter(qn("w:r")):
        Run(run, None).font.hidden = True  # python-docx keeps rPr's children in schema order
    props = paragraph.get_or_add_pPr()
    mark = props.find(qn("w:rPr"))
    if mark is None:  # the mark's properties come last in pPr (headings carry no sectPr)
        mark = sub(props, "w:rPr")
    mark.insert(0, OxmlElement("w:vanish"))  # first: a heading's mark has no rStyle/rFonts


def add_text(paragraph, text: str) -> None:
    """``text`` with its ``\\n`` as line breaks."""
    for k, line in enumerate(text.split("\n")):
        run = paragraph.add_run(line)
        if k:
            run._r.insert(0 if run._r.rPr is None else 1, OxmlElement("w:br"))


def field_char(kind: str):
    run = OxmlElement("w:r")
    sub(run, "w:fldChar", {"w:fldCharType": kind})
    return run


def field_runs(instruction: str, cached: str | None = None) -> list:
    """begin, instruction, separate (and, with ``cached``, the result and end)."""
    instr = OxmlElement("w:r")
    text = sub(instr, "w:instrText")
    text.text = instruction
    text.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    runs = [field_char("begin"), instr, field_char("separate")]
    if cached is not None:
        if cached:
            runs.append(text_run(cached))
        runs.append(field_char("end"))
    return runs


def append_field(paragraph, instruction: str, cached: str) -> None:
    for run in field_runs(instruction, cached):
        paragraph.append(run)
