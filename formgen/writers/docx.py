"""Word forms with docxtpl: a template per form, rendered once per page.

The template (``build_template``) is the blank form drawn with python-docx
from the form data: A4 in the form's orientation, the title and number as
tags, header lines, the grid as a 'Table Grid' table with its merges and
column widths in the form's proportions, footer lines and notes.  Every
field is a Jinja tag written as one run of its own, so Word never splits it:

* text-like fields: ``{{ v.<id> or "<blank>" }}``; the blank is the paper's
  own furniture chosen when drawing ("　　年　　月　　日", a underlined gap,
  （签字）), so an empty value prints like the seed;
* choice / multi_choice: ``{{ box.<id>[<k>] }}<option>`` per option;
* checkbox: ``{{ box.<id> }}``;
* roster rows, written out ``repeat`` times: ``{{ p[<i>].<id> }}`` and the
  序号 cell ``{{ p[<i>].n }}`` (boxes of a roster row are in ``p[<i>]`` too).

Box values are the strings "□"/"☑" supplied at render time.

Pages: a roster record fills as many pages as its people need, and several
records go into one file.  Rather than a ``{%p for page in pages %}`` loop in
the template (fragile once a bureau restyles it in Word), every page is its
own render of the template, and the bodies of pages 2… are appended to page
1's body, their first paragraph starting a new page (``pageBreakBefore``,
which never leaves an empty page the way a break paragraph can).  All pages
come from the same template, so styles and numbering are shared and no
relationship (image, header part) needs to be copied.

Rendering uses Jinja autoescape, so ``& < >`` in values stay text and the
XML stays valid; values are context data, never template source, so
``{{ 7*7 }}`` typed by a user prints literally.
"""
from __future__ import annotations

import copy
import hashlib
import re
import tempfile
import zipfile
from io import BytesIO
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt
from docx.text.paragraph import Paragraph
from docxtpl import DocxTemplate
from jinja2 import TemplateSyntaxError

from .. import layout
from ..errors import RenderError, TemplateError
from ..library import PACKAGE_ROOT
from ..models import Cell, Form, FormField, Line, Segment

TEMPLATE_DIR = PACKAGE_ROOT / "templates" / "docx"

BODY_FONT = "宋体"
TITLE_FONT = "黑体"
BODY_SIZE = Pt(10.5)  # 五号
TITLE_SIZE = Pt(16)  # 三号
MARGIN = Cm(2)
MIN_ROW_MM = 7
PAPER_MM = {"A4": (210, 297), "A3": (297, 420)}

UNCHECKED, CHECKED = "□", "☑"
BLANK_GAP = "　" * 6  # an underlined gap where a value is written by hand
SIGN_SPACE = "　" * 6
SEGMENT_GAP = "　"
NO_GAP_BEFORE = tuple("：:，,。；;）)、】」』\n")
BOX_TYPES = ("choice", "multi_choice", "checkbox")
ALIGN = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER,
         "right": WD_ALIGN_PARAGRAPH.RIGHT}

TAG_RE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
NAME_RE = re.compile(r"\b(?:v|box)\.([a-z][a-z0-9_]*)|\bp\[\d+\]\.([a-z][a-z0-9_]*)")


# --------------------------------------------------------------------------
# Template building
# --------------------------------------------------------------------------
def build_template(form: Form, target: Path) -> None:
    """Draw the blank form as a docxtpl template at ``target``."""
    document = template_document(form)
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    document.save(str(target))


def template_document(form: Form):
    document = Document()
    set_default_fonts(document)
    set_page(document.sections[0], form)
    add_run(document.add_paragraph(), "{{ number }}")
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    add_run(title, "{{ title }}", font=TITLE_FONT, size=TITLE_SIZE, bold=True)
    if form.subtitle:
        subtitle = document.add_paragraph()
        subtitle.alignment = WD_ALIGN_PARAGRAPH.CENTER
        add_run(subtitle, "{{ subtitle }}")
    for line in form.header:
        draw_line(document, line)
    draw_grid(document, form)
    for line in form.footer:
        draw_line(document, line)
    for note in form.notes:
        paragraph = document.add_paragraph()
        add_run(paragraph, (note.label or "") + note.text)
        for item in note.items:
            add_run(document.add_paragraph(), item)
    return document


def set_page(section, form: Form) -> None:
    width, height = PAPER_MM[form.paper]
    if form.orientation == "landscape":
        width, height = height, width
        section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(width), Mm(height)
    section.left_margin = section.right_margin = MARGIN
    section.top_margin = section.bottom_margin = MARGIN


def set_default_fonts(document) -> None:
    """宋体 and zh-CN in docDefaults and Normal, so LibreOffice picks Chinese glyphs too."""
    styles = document.styles.element
    rpr = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    set_rpr_font(rpr, BODY_FONT)
    normal = document.styles["Normal"]
    normal.font.size = BODY_SIZE
    set_rpr_font(normal.element.get_or_add_rPr(), BODY_FONT)


def set_rpr_font(rpr, name: str) -> None:
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for key in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(key), name)
    for key in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(key), None)  # a theme font would win over the name
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:eastAsia"), "zh-CN")


def add_run(paragraph, text: str, font: str = BODY_FONT, size=BODY_SIZE, bold=False, underline=False):
    """One run holding ``text`` whole (a tag must never be split across runs)."""
    run = paragraph.add_run(text)
    run.font.name = font
    run.font.size = size
    run.font.bold = bold or None
    run.font.underline = underline or None
    set_rpr_font(run._element.get_or_add_rPr(), font)
    return run


def draw_line(document, line: Line) -> None:
    paragraph = document.add_paragraph()
    paragraph.alignment = ALIGN[line.align]
    draw_segments(paragraph, line.segments, person=None, alone=False)


def draw_grid(document, form: Form) -> None:
    rows, person_index = layout.expand_rows(form)
    table = document.add_table(rows=len(rows), cols=len(form.columns))
    table.style = "Table Grid"
    table.autofit = False
    widths = column_widths(document.sections[0], form.columns)
    for row in table.rows:
        for width, cell in zip(widths, row.cells):
            cell.width = width
    # LibreOffice (and Word with a fixed layout) takes column widths from the table grid,
    # which python-docx writes as equal columns.
    for width, column in zip(widths, table._tbl.tblGrid.findall(qn("w:gridCol"))):
        column.set(qn("w:w"), str(int(width // 635)))  # EMU to twentieths of a point
    for r, row in enumerate(rows):  # room to write by hand, or the form's own minimum
        table.rows[r].height = Mm(max(row.height or 0, MIN_ROW_MM))
        table.rows[r].height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST
    for spot in layout.place(rows):
        target = table.cell(spot.row, spot.col)
        if spot.colspan > 1 or spot.rowspan > 1:
            target = target.merge(table.cell(spot.row + spot.rowspan - 1, spot.col + spot.colspan - 1))
        draw_cell(target, spot.cell, person_index[spot.row])


def column_widths(section, columns: list[float]) -> list[int]:
    room = section.page_width - section.left_margin - section.right_margin
    total = sum(columns)
    return [int(room * c / total) for c in columns]


def draw_cell(target, cell: Cell, person: int | None) -> None:
    target.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    paragraph = target.paragraphs[0]
    paragraph.alignment = ALIGN[cell_align(cell)]
    if cell.counter:
        add_run(paragraph, f"{{{{ p[{person}].n }}}}")
    segments = cell.all_segments()
    alone = len(segments) == 1 and segments[0].field is not None
    draw_segments(paragraph, segments, person, alone)
    for item in cell.items:
        extra = target.add_paragraph()
        extra.alignment = WD_ALIGN_PARAGRAPH.LEFT
        add_run(extra, item)


def cell_align(cell: Cell) -> str:
    if cell.align:
        return cell.align
    if cell.items or cell.segments or cell.role == "note":
        return "left"
    return "center"


def draw_segments(paragraph, segments: list[Segment], person: int | None, alone: bool) -> None:
    before = ""
    for k, segment in enumerate(segments):
        if segment.field is None:
            add_run(paragraph, segment.text)
            before += segment.text
            continue
        draw_field(paragraph, segment.field, person, alone, before)
        following = segments[k + 1] if k + 1 < len(segments) else None
        if following is not None and needs_gap(segment.field, following):
            add_run(paragraph, SEGMENT_GAP)


def needs_gap(field_: FormField, following: Segment) -> bool:
    """A gap after a field's value, unless a box label or punctuation follows."""
    if field_.type == "checkbox":
        return False
    return following.field is not None or not following.text.startswith(NO_GAP_BEFORE)


def draw_field(paragraph, field_: FormField, person: int | None, alone: bool, before: str) -> None:
    name = field_name(field_, person)
    if field_.type == "checkbox":
        add_run(paragraph, f"{{{{ {name} }}}}")
    elif field_.type in BOX_TYPES:
        for k, option in enumerate(field_.options):
            if k and field_.layout == "vertical":
                paragraph.add_run().add_break()
            elif k:
                add_run(paragraph, "　")
            add_run(paragraph, f"{{{{ {name}[{k}] }}}}")
            add_run(paragraph, option)
    else:
        blank = blank_for(field_, person, alone, before)
        tag = f'{{{{ {name} or "{blank}" }}}}' if blank else f"{{{{ {name} }}}}"
        add_run(paragraph, tag, underline=blank == BLANK_GAP)


def field_name(field_: FormField, person: int | None) -> str:
    if person is not None:
        return f"p[{person}].{field_.id}"
    return f"{'box' if field_.type in BOX_TYPES else 'v'}.{field_.id}"


def blank_for(field_: FormField, person: int | None, alone: bool, before: str) -> str:
    """What the paper shows where nobody wrote: a date's 年月日, （签字）, or a gap to write on."""
    if field_.type == "date":
        return "" if person is not None else "　　" + layout.blank_text(field_)
    if field_.type in ("signature", "seal"):
        tail = before.rstrip()[-8:]
        says_sign = tail.endswith(("：", ":")) or any(w in tail for w in ("签字", "签名", "盖章", "签章"))
        return SIGN_SPACE if says_sign and not alone else layout.blank_text(field_)
    if field_.type == "photo":  # a label already saying 贴照片处 needs no second one
        return "" if "照片" in before else layout.blank_text(field_)
    return "" if alone or person is not None else BLANK_GAP


# --------------------------------------------------------------------------
# Template lookup and checking
# --------------------------------------------------------------------------
def template_path(form: Form, edition=None) -> Path:
    """The edition's own template, else the default, else one built now into a temp folder."""
    chain = list(edition.chain) if edition is not None else []
    candidates = [TEMPLATE_DIR / e / f"{form.id}.docx" for e in chain] + [TEMPLATE_DIR / f"{form.id}.docx"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    digest = hashlib.sha1(form.model_dump_json().encode()).hexdigest()[:12]
    built = Path(tempfile.gettempdir()) / "formgen-docx" / f"{form.id}-{digest}.docx"
    if not built.is_file():
        scratch = built.with_suffix(f".{id(form)}.tmp")
        build_template(form, scratch)
        scratch.replace(built)  # atomic: a concurrent run never reads half a file
    return built


def check_template(form: Form, path: Path) -> list[str]:
    """Problems of a template against its form: unknown names, untagged fields, split tags."""
    try:
        texts, split = template_texts(path)
    except (OSError, KeyError, zipfile.BadZipFile, PackageNotFoundError) as err:
        return [f"{path}: not a readable Word file ({err})"]
    problems = [f"{path}: a tag is split across runs in {where!r}; retype it in Word in one go" for where in split]
    try:
        DocxTemplate(str(path)).get_undeclared_template_variables()
    except TemplateSyntaxError as err:
        problems.append(f"{path}: template syntax error: {err.message}")
    named = set()
    for text in texts:
        for tag in TAG_RE.findall(text):
            named.update(a or b for a, b in NAME_RE.findall(tag))
    known = {f.id for f, _ in form.fields()}
    problems += [f"{path}: tag names '{n}', which is not a field of form '{form.id}'"
                 for n in sorted(named - known - {"n"})]
    problems += [f"{path}: field '{f}' of form '{form.id}' has no tag" for f in sorted(known - named)]
    return problems


def template_texts(path: Path) -> tuple[list[str], list[str]]:
    """Every paragraph's text, and the paragraphs where a run opens a tag it does not close."""
    document = Document(str(path))
    texts, split = [], []
    for paragraph in all_paragraphs(document):
        texts.append(paragraph.text)
        for run in paragraph.runs:
            opened = run.text.count("{{") + run.text.count("{%")
            closed = run.text.count("}}") + run.text.count("%}")
            if opened != closed:
                split.append(paragraph.text[:60])
                break
    return texts, split


def all_paragraphs(document):
    body = document.element.body
    return [Paragraph(p, document) for p in body.iter(qn("w:p"))]


# --------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------
class FormWriter:
    extension = ".docx"

    def __init__(self, form: Form, edition=None, template: Path | None = None, **options):
        self.form = form
        self.edition = edition
        path = Path(template) if template else template_path(form, edition)
        problems = check_template(form, path)
        if problems:
            raise TemplateError(problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
        self.template_bytes = path.read_bytes()  # docxtpl renders once: reopen per page from memory
        self.title = edition.form_title(form) if edition else form.title
        self.number = (edition.form_number(form.id) or "") if edition else ""
        self.subtitle = edition.fill(form.subtitle) if edition else form.subtitle
        self.roster_fields = {f.id: f for f, in_roster in form.fields() if in_roster}
        self.slots = form.repeat_row().repeat if form.repeat_row() else 0

    def write(self, records, target: Path) -> None:
        pages = [page for record in (records or [None]) for page in layout.pages(self.form, record)]
        documents = [self.render(page) for page in pages]
        combined = documents[0]
        for document in documents[1:]:
            append_body(combined, document)
        try:
            combined.save(str(target))
        except OSError as err:
            raise RenderError(f"cannot write {target}: {err.strerror or err}") from err

    def render(self, page: layout.Page):
        template = DocxTemplate(BytesIO(self.template_bytes))
        template.render(self.context(page), autoescape=True)
        return template.docx

    def context(self, page: layout.Page) -> dict:
        values, boxes = {}, {}
        for field_, in_roster in self.form.fields():
            if not in_roster:
                value = page.values.get(field_.id)
                if field_.type in BOX_TYPES:
                    boxes[field_.id] = boxes_of(field_, value)
                else:
                    values[field_.id] = text_of(value)
        people = [self.person(page, i) for i in range(self.slots)]
        return {"title": self.title, "number": self.number, "subtitle": self.subtitle or "",
                "v": values, "box": boxes, "p": people}

    def person(self, page: layout.Page, index: int) -> dict:
        entry = page.people[index] if index < len(page.people) else None
        person = {"n": str(page.first_number + index) if entry is not None else ""}
        for field_id, field_ in self.roster_fields.items():
            value = (entry or {}).get(field_id)
            person[field_id] = boxes_of(field_, value) if field_.type in BOX_TYPES else text_of(value)
        return person


def boxes_of(field_: FormField, value):
    if field_.type == "checkbox":
        return CHECKED if layout.is_checked(field_, value) else UNCHECKED
    return [CHECKED if layout.is_checked(field_, value, o) else UNCHECKED for o in field_.options]


def text_of(value) -> str:
    return "" if value is None or value is False else str(value)


def append_body(base, extra) -> None:
    """Append ``extra``'s body to ``base``'s, starting on a new page."""
    body = base.element.body
    section = body.find(qn("w:sectPr"))
    children = [c for c in extra.element.body if c.tag != qn("w:sectPr")]
    first_paragraph = next((c for c in children if c.tag == qn("w:p")), None)
    if first_paragraph is not None:
        first_paragraph.get_or_add_pPr().pageBreakBefore_val = True
    for child in children:
        section.addprevious(copy.deepcopy(child))
