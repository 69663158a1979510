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
import struct
import tempfile
import zipfile
import zlib
from io import BytesIO
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt
from docx.text.paragraph import Paragraph
from docxtpl import DocxTemplate
from jinja2 import TemplateSyntaxError

from .. import layout
from ..errors import RenderError, TemplateError
from ..library import PACKAGE_ROOT
from ..models import Cell, Form, FormField, Line, Segment
from .wordml import set_rpr_font

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
        for number, item in enumerate(note.items, 1):
            add_numbered(document.add_paragraph(), number, item)
    return document


def add_numbered(paragraph, number: int, item: str) -> None:
    """"1.…" with the lines after the first under the text: the number is text, as on paper
    (Word's automatic numbering would be lost in copy and paste, and restart unpredictably)."""
    paragraph.alignment = WD_ALIGN_PARAGRAPH.LEFT
    hang = Pt(BODY_SIZE.pt * 1.5)
    paragraph.paragraph_format.left_indent = hang
    paragraph.paragraph_format.first_line_indent = -hang
    add_run(paragraph, f"{number}.{item}")


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
    bare = layout.bare_cells(form)
    for spot in layout.place(rows):
        target = table.cell(spot.row, spot.col)
        if spot.colspan > 1 or spot.rowspan > 1:
            target = target.merge(table.cell(spot.row + spot.rowspan - 1, spot.col + spot.colspan - 1))
        draw_cell(target, spot.cell, person_index[spot.row], id(spot.cell) in bare)


def column_widths(section, columns: list[float]) -> list[int]:
    room = section.page_width - section.left_margin - section.right_margin
    total = sum(columns)
    return [int(room * c / total) for c in columns]


def draw_cell(target, cell: Cell, person: int | None, bare: bool = False) -> None:
    target.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    paragraph = target.paragraphs[0]
    paragraph.alignment = ALIGN[cell_align(cell)]
    if cell.counter:
        add_run(paragraph, f"{{{{ p[{person}].n }}}}")
    segments = cell.all_segments()
    alone = len(segments) == 1 and segments[0].field is not None
    if bare:  # signed or dated by hand: the value, or nothing (`layout.prints_nothing`)
        add_run(paragraph, f"{{{{ {field_name(cell.field, person)} }}}}")
        return
    draw_segments(paragraph, segments, person, alone)
    for number, item in enumerate(cell.items, 1):
        add_numbered(target.add_paragraph(), number, item)


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
    """A gap after a field's value, unless a box label, a line break or text that reads on
    from the field (punctuation, the 号) of "(第XXXX号)": `layout.reads_on`) follows."""
    if field_.type == "checkbox":
        return False
    if following.field is not None:
        return True
    return not (following.text.startswith("\n") or layout.reads_on(following.text))


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
            if field_.numbered_options:  # the paper's own "1.职工医保□"
                add_run(paragraph, f"{k + 1}.{option}")
                add_run(paragraph, f"{{{{ {name}[{k}] }}}}")
            else:
                add_run(paragraph, f"{{{{ {name}[{k}] }}}}")
                add_run(paragraph, option)
    elif field_.hint and person is None:  # the paper's sample (XXXXXXX), on the blank form only
        add_run(paragraph, f"{{{{ {name} or hint.{field_.id} }}}}")
    else:
        blank = blank_for(field_, person, alone, before)
        tag = f'{{{{ {name} or "{blank}" }}}}' if blank else f"{{{{ {name} }}}}"
        add_run(paragraph, tag, underline=blank == BLANK_GAP)


def field_name(field_: FormField, person: int | None) -> str:
    if person is not None:
        return f"p[{person}].{field_.id}"
    return f"{'box' if field_.type in BOX_TYPES else 'v'}.{field_.id}"


def blank_for(field_: FormField, person: int | None, alone: bool, before: str) -> str:
    """What the paper shows where nobody wrote: a date's 年月日, （签字）, or a gap to write on.
    (A lone roster date or signature, which prints nothing, never gets here: `draw_cell`.)"""
    if field_.type == "date":
        return "　　" + layout.blank_text(field_)
    if field_.type in ("signature", "seal"):
        tail = before.rstrip()[-8:]
        says_sign = tail.endswith(("：", ":")) or layout.says_sign(tail)
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
    """Fills one form's template: every record of a batch through the same compiled template.

    The template is opened, its placeholders filled and its body compiled into a Jinja
    template once (`CompiledDocument`); a record costs one render of the body's XML and
    one zip written around the other parts' bytes, prepared once.  A template the fast
    path cannot take exactly (one with ``{% %}`` blocks, pictures, or tags outside the
    body) is rendered by docxtpl page by page, as before.
    """

    extension = ".docx"

    def __init__(self, form: Form, edition=None, template: Path | None = None, **options):
        self.form = form
        self.edition = edition
        path = Path(template) if template else template_path(form, edition)
        problems = check_template(form, path)
        if problems:
            raise TemplateError(problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
        fill = edition.fill if edition is not None else None
        self.template_bytes = fill_placeholders(path.read_bytes(), fill)  # docxtpl renders once: reopen per page
        title = edition.form_title(form) if edition else form.title
        number = edition.form_number(form.id) if edition else None
        self.heading = layout.heading(number, title, edition.fill(form.subtitle) if edition else form.subtitle)
        self.fields = form.fields()  # builds models on every call: once per batch
        self.single_fields = [f for f, in_roster in self.fields if not in_roster]
        self.roster_fields = {f.id: f for f, in_roster in self.fields if in_roster}
        self.slots = form.repeat_row().repeat if form.repeat_row() else 0
        # a text field's hint (the paper's sample value) as the blank form prints it
        self.hints = {f.id: fill(f.hint) if fill else f.hint for f in self.single_fields
                      if f.hint and f.type not in BOX_TYPES}
        self.compiled = None if options.get("docxtpl") else CompiledDocument.build(
            self.template_bytes, self.context(layout.pages(form, None)[0], blank=True))

    def write(self, records, target: Path) -> None:
        pages = [page for record in (records or [None]) for page in layout.pages(self.form, record)]
        blank = not records
        try:
            if self.compiled is not None:
                Path(target).write_bytes(self.compiled.document([self.context(page, blank) for page in pages]))
                return
            documents = [self.render(page, blank) for page in pages]
            combined = documents[0]
            for document in documents[1:]:
                append_body(combined, document)
            combined.save(str(target))
        except OSError as err:
            raise RenderError(f"cannot write {target}: {err.strerror or err}") from err

    def render(self, page: layout.Page, blank: bool = False):
        template = DocxTemplate(BytesIO(self.template_bytes))
        template.render(self.context(page, blank), autoescape=True)
        return template.docx

    def context(self, page: layout.Page, blank: bool = False) -> dict:
        values, boxes = {}, {}
        for field_ in self.single_fields:
            value = page.values.get(field_.id)
            if field_.type in BOX_TYPES:
                boxes[field_.id] = boxes_of(field_, value)
            else:
                values[field_.id] = text_of(value)
        people = [self.person(page, i) for i in range(self.slots)]
        hints = self.hints if blank else dict.fromkeys(self.hints, "")
        heading = self.heading  # nothing said twice (`layout.heading`)
        return {"title": heading.title, "number": heading.number or "", "subtitle": heading.subtitle or "",
                "v": values, "box": boxes, "p": people, "hint": hints}

    def person(self, page: layout.Page, index: int) -> dict:
        entry = page.people[index] if index < len(page.people) else None
        # 序号 on every row of a blank roster (as the paper and the PDF); a filled one numbers its people
        numbered = entry is not None or not page.people
        person = {"n": str(page.first_number + index) if numbered else ""}
        for field_id, field_ in self.roster_fields.items():
            value = (entry or {}).get(field_id)
            person[field_id] = boxes_of(field_, value) if field_.type in BOX_TYPES else text_of(value)
        return person


# --------------------------------------------------------------------------
# Placeholders in the template's own text
# --------------------------------------------------------------------------
def fill_placeholders(data: bytes, fill) -> bytes:
    """The template with the edition's placeholders (XX, --) replaced in all its static text.

    Tags are left alone (their values are data), and a template without placeholders to
    fill comes back byte for byte.
    """
    if fill is None:
        return data
    document = Document(BytesIO(data))
    changed = False
    for part in _text_parts(document):
        for node in part.iter(qn("w:t")):
            text = node.text or ""
            filled = _fill_outside_tags(text, fill)
            if filled != text:
                node.text = filled
                changed = True
    if not changed:
        return data
    out = BytesIO()
    document.save(out)
    return out.getvalue()


def _text_parts(document):
    yield document.element.body
    for section in document.sections:
        for part in (section.header, section.footer, section.first_page_header, section.first_page_footer,
                     section.even_page_header, section.even_page_footer):
            if not part.is_linked_to_previous:
                yield part._element


def _fill_outside_tags(text: str, fill) -> str:
    pieces, last = [], 0
    for match in TAG_RE.finditer(text):
        pieces += [fill(text[last:match.start()]) or "", match.group(0)]
        last = match.end()
    pieces.append(fill(text[last:]) or "")
    return "".join(pieces)


# --------------------------------------------------------------------------
# The compiled fast path
# --------------------------------------------------------------------------
ZIP_LEVEL = 6  # zipfile's default, as python-docx writes


class CompiledDocument:
    """A template's body compiled once; per record only the body is rendered and zipped.

    Equivalent to docxtpl's render-and-save (same patching of the XML, the same Jinja
    autoescaping, the same treatment of line breaks in values), for templates whose
    tags are all ``{{ … }}`` expressions in the body.
    """

    def __init__(self, first, following, body_open: str, body_close: str, prefix: str, suffix: str,
                 entries, listing):
        self.first, self.following = first, following
        self.body_open, self.body_close = body_open, body_close
        self.prefix, self.suffix = prefix.encode("utf-8"), suffix.encode("utf-8")
        self.entries = entries  # (name, precompressed entry) in the package's order; None: the body
        self.listing = listing

    @classmethod
    def build(cls, data: bytes, sample_context: dict) -> "CompiledDocument | None":
        """The compiled template, or None when only docxtpl renders it faithfully."""
        from jinja2 import Environment
        from lxml import etree

        template = DocxTemplate(BytesIO(data))
        template.init_docx()
        document = template.docx
        body = document.element.body
        source = template.get_xml()
        if "{%" in source or "docPr" in source or _tags_outside_body(document):
            return None
        continuation = copy.deepcopy(body)
        first_paragraph = continuation.find(qn("w:p"))
        if first_paragraph is not None:
            Paragraph(first_paragraph, document).paragraph_format.page_break_before = True
        open_tag, first_inner, close = _split_body(source)
        _, following_inner, _ = _split_body(template.xml_to_string(continuation))
        if "{{" in open_tag + close:
            return None
        environment = Environment(autoescape=True)
        first = environment.from_string(template.patch_xml(first_inner))
        following = environment.from_string(template.patch_xml(following_inner))
        saved = BytesIO()
        document.save(saved)
        prefix, suffix, entries = _package_parts(saved.getvalue())
        compiled = cls(first, following, open_tag, close, prefix, suffix, entries, template.resolve_listing)
        rendered = open_tag + compiled.body([sample_context]) + close
        fixed = etree.tostring(template.fix_tables(rendered))
        if fixed != etree.tostring(etree.fromstring(rendered)):
            return None  # docxtpl would repair the table grid: let it
        return compiled

    def body(self, contexts: list[dict]) -> str:
        inner = [self.first.render(contexts[0])] + [self.following.render(c) for c in contexts[1:]]
        xml = "".join(inner)
        if "{_" in xml or "_}" in xml:  # as docxtpl un-escapes its own tag escapes
            xml = xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
        if any(c in xml for c in "\t\a\n\f"):  # line breaks and tabs typed into values
            xml = self.listing(xml)
        return xml

    def document(self, contexts: list[dict]) -> bytes:
        body = (self.body_open + self.body(contexts) + self.body_close).encode("utf-8")
        return _zip(self.entries, self.prefix + body + self.suffix)


def _tags_outside_body(document) -> bool:
    """Tags in headers, footers, footnotes or the core properties (docxtpl renders those too)."""
    for part in document.part.package.parts:
        if part is document.part:
            continue
        blob = getattr(part, "blob", b"") or b""
        if b"{{" in blob or b"{%" in blob:
            return True
    return False


def _split_body(xml: str) -> tuple[str, str, str]:
    """``<w:body …>``, its children before the section properties, and the rest."""
    open_end = xml.index(">") + 1
    section = xml.rfind("<w:sectPr")
    close = xml.rindex("</w:body>")
    cut = section if section != -1 else close
    return xml[:open_end], xml[open_end:cut], xml[cut:]


def _package_parts(data: bytes):
    """The saved package's document.xml around its body, and every other part precompressed."""
    entries = []
    with zipfile.ZipFile(BytesIO(data)) as archive:
        for info in archive.infolist():
            content = archive.read(info.filename)
            if info.filename == "word/document.xml":
                xml = content.decode("utf-8")
                prefix, suffix = xml[:xml.index("<w:body")], xml[xml.rindex("</w:body>") + len("</w:body>"):]
                entries.append((info.filename, None))
            else:
                entries.append((info.filename, _ZipEntry.of(content)))
    return prefix, suffix, entries


class _ZipEntry:
    """A deflated zip member: its CRC, sizes and compressed bytes."""

    __slots__ = ("crc", "size", "data")

    def __init__(self, crc: int, size: int, data: bytes):
        self.crc, self.size, self.data = crc, size, data

    @classmethod
    def of(cls, content: bytes) -> "_ZipEntry":
        packer = zlib.compressobj(ZIP_LEVEL, zlib.DEFLATED, -15)
        return cls(zlib.crc32(content), len(content), packer.compress(content) + packer.flush())


_DOS_TIME, _DOS_DATE = 0, (1980 - 1980) << 9 | 1 << 5 | 1  # 1980-01-01, as python-docx writes


def _zip(entries, body_xml: bytes) -> bytes:
    """A zip (deflate) of the package: precompressed parts, the body compressed now."""
    out, directory = bytearray(), bytearray()
    for name, entry in entries:
        entry = entry or _ZipEntry.of(body_xml)
        raw = name.encode("utf-8")
        offset = len(out)
        common = struct.pack("<HHHHHIII", 20, 0, 8, _DOS_TIME, _DOS_DATE, entry.crc, len(entry.data), entry.size)
        out += b"PK\x03\x04" + common + struct.pack("<HH", len(raw), 0) + raw + entry.data
        directory += (b"PK\x01\x02" + struct.pack("<H", 20) + common
                      + struct.pack("<HHHHHII", len(raw), 0, 0, 0, 0, 0, offset) + raw)
    count = len(entries)
    end = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, count, count, len(directory), len(out), 0)
    return bytes(out + directory + end)


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
