"""The HTML edition of a booklet: a static site that works opened from disk.

`BookletWriter.write(booklet, folder)` writes::

    folder/index.html       cover, the edition's contacts, the index by group
    folder/<slug>.html      one page per item, package, group and top-level part
    folder/forms.html       every form of the site, with its downloads
    folder/booklet.html     the whole booklet on one page, as printed (parts with in_print)
    folder/forms/<id>.docx|.xlsx|.pdf   the blank forms (formgen.forms_api)
    folder/assets/          site.css (screen and print), print.css (A4 pages), the logo

Which parts get a page of their own: every top-level part, every group, item
and package.  The parts *inside* an item or package (its 基本信息, 答疑手册 …)
are sections of that page, with an anchor per slug.  Links are relative and
file names ASCII, so the folder can be copied anywhere, zipped, or opened
with a double click.  No JavaScript.

Every text goes through Jinja2 with autoescape on; the only markup not written
by the templates is SVG made by our own code (charts, QR codes), whose text is
escaped there.  Online-service addresses become links only when they are
http(s) URLs.  The site is written into a temporary sibling folder and renamed
into place at the end, so a reader never finds half a site.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import segno
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from .. import charts
from ..booklet import Booklet, ChartBlock, FormBlock, LinkBlock, Para, Part, Table
from ..errors import InputError, RenderError
from ..forms_api import blank_form, default_blank_name
from ..layout import bare_cells, blank_text, expand_rows, heading, lone_field
from ..models import Contacts, Form, FormField, Line, Note
from . import FORM_FORMATS

PAGE_KINDS = ("group", "item", "package", "appendix", "form")  # parts that always get a page
SECTION_PARENTS = ("item", "package")  # whose children are sections of the parent's page
RESERVED_FILES = {"index", "forms", "booklet"}
FORMAT_NAMES = {"docx": "Word", "xlsx": "Excel", "pdf": "PDF"}
CHART_WIDTH_MM = 160.0  # A4 portrait text width: the chart fits a printed page
WIDE_TABLE = 7  # columns: the catalog's nine want a wide screen
SHORT_TEXT = 5  # form text this short (区县(市)) is never broken across lines
PHONE = re.compile(r"^[0-9+()\- ]{5,}$")
WEB_URL = re.compile(r"^https?://", re.I)


# --------------------------------------------------------------------------
# The site plan: which part goes on which page, and where every slug lives
# --------------------------------------------------------------------------
@dataclass
class Page:
    """One HTML file of the site."""

    file: str
    title: str
    part: Part | None = None
    parents: list["Page"] = field(default_factory=list)  # breadcrumb, index first
    children: list["Page"] = field(default_factory=list)  # child pages (a group's items)
    prev: "Page | None" = None
    next: "Page | None" = None
    wide: bool = False  # holds a many-column table (the catalog): the page may use a wide screen


@dataclass
class SitePlan:
    index: Page
    pages: list[Page]  # every part page, in reading order (index and forms page excluded)
    forms_page: Page
    whole: Page  # the whole booklet on one page, to print or read straight through
    hrefs: dict[str, str]  # part slug -> "file.html" or "file.html#slug"
    parts: dict[str, Part]
    form_homes: dict[str, str] = field(default_factory=dict)  # form id -> where the booklet shows it


def plan_site(booklet: Booklet) -> SitePlan:
    """Lay the booklet's parts out as pages; link them in reading order."""
    index = Page("index.html", booklet.title)
    plan = SitePlan(index, [], Page("forms.html", "表格下载", parents=[index]),
                    Page("booklet.html", "全文（打印版）", parents=[index], wide=booklet.landscape), {}, {})
    used = set(RESERVED_FILES)
    for part in booklet.parts:
        _plan_part(plan, part, [index], index, used)
    for _, part in booklet.walk():
        for block in part.blocks:
            if isinstance(block, FormBlock):
                plan.form_homes.setdefault(block.form_id, plan.hrefs[part.slug])
    sequence = [index, *plan.pages, plan.forms_page]
    for before, after in zip(sequence, sequence[1:]):
        before.next, after.prev = after, before
    return plan


def _plan_part(plan: SitePlan, part: Part, trail: list[Page], owner: Page, used: set[str],
               top: bool = True) -> None:
    plan.parts[part.slug] = part
    if top or part.kind in PAGE_KINDS:
        page = Page(_file_name(part.slug, used), display_title(part), part, list(trail),
                    wide=_has_wide_table(part))
        plan.pages.append(page)
        owner.children.append(page)
        plan.hrefs[part.slug] = page.file
        inner_trail, inner_owner = [*trail, page], page
    else:
        plan.hrefs[part.slug] = f"{owner.file}#{part.slug}"
        inner_trail, inner_owner = trail, owner
    for child in part.children:
        if part.kind in SECTION_PARENTS:
            _plan_section(plan, child, inner_owner)
        else:
            _plan_part(plan, child, inner_trail, inner_owner, used, top=False)


def _has_wide_table(part: Part) -> bool:
    """A table of WIDE_TABLE columns or more in the part or the sections drawn with it."""
    inline = part.children if part.kind in SECTION_PARENTS else []
    return any(isinstance(b, Table) and len(b.widths) >= WIDE_TABLE for b in part.blocks) or \
        any(_has_wide_table(child) for child in inline)


def shows_code(part: Part) -> bool:
    """Whether the heading carries the part's code: not when a paragraph already says it."""
    return bool(part.code) and not any(isinstance(b, Para) and part.code in b.text for b in part.blocks)


def display_title(part: Part) -> str:
    """The part's heading; a bare 序号 (a catalog's "1") is set off by a space."""
    if part.number and part.number[-1].isalnum():
        return f"{part.number} {part.title}"
    return part.heading


def _plan_section(plan: SitePlan, part: Part, owner: Page) -> None:
    """A part drawn inside its item's or package's page, with its children."""
    plan.parts[part.slug] = part
    plan.hrefs[part.slug] = f"{owner.file}#{part.slug}"
    for child in part.children:
        _plan_section(plan, child, owner)


def _file_name(slug: str, used: set[str]) -> str:
    """An ASCII file name for a slug, never a reserved or already used one."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", slug).strip("-").lower() or "part"
    if stem in RESERVED_FILES:
        stem = f"part-{stem}"
    candidate, n = stem, 1
    while candidate in used:
        n += 1
        candidate = f"{stem}-{n}"
    used.add(candidate)
    return f"{candidate}.html"


# --------------------------------------------------------------------------
# Forms: the downloads and the form grid drawn as an HTML table
# --------------------------------------------------------------------------
@dataclass
class Download:
    form: Form
    number: str | None
    title: str
    files: dict[str, str]  # format -> "forms/<id>.<fmt>"

    @property
    def heading(self) -> str:
        """The list entry: the number the form prints (`layout.heading`: no 样表 before "…（样表）")."""
        number = heading(self.number, self.title, None).number
        return f"{number} {self.title}" if number else self.title


def site_forms(booklet: Booklet, resolved) -> list[str]:
    """Form ids the site offers: those the booklet prints, then (catalog and
    flowcharts editions, which print none) every form of the edition."""
    ids = [block.form_id for _, part in booklet.walk() for block in part.blocks
           if isinstance(block, FormBlock)]
    if booklet.style in ("catalog", "flowcharts"):
        ids += [form.id for form in resolved.forms()]
    return list(dict.fromkeys(ids))


def form_grid(form: Form, fill, number: str | None = None, title: str | None = None) -> dict:
    """A form as plain data for the template: its heading (the edition's ``number`` and
    ``title``, nothing said twice: `layout.heading`), header lines, rows of cells, footer, notes."""
    rows, people = expand_rows(form)
    bare = bare_cells(form)
    return {
        "heading": heading(number, title or fill(form.title), fill(form.subtitle)),
        "header": [_line(line, fill) for line in form.header],
        "rows": [[_cell(cell, people[r], fill, id(cell) in bare) for cell in row.cells]
                 for r, row in enumerate(rows)],
        "footer": [_line(line, fill) for line in form.footer],
        "notes": [_note(note, fill) for note in form.notes],
        "widths": _percentages(form.columns),
    }


def _cell(cell, person: int | None, fill, bare: bool = False) -> dict:
    whole = lone_field(cell) is not None
    if bare:  # signed or dated by hand, and the heading or label says so (`layout.prints_nothing`)
        pieces = []
    elif cell.counter:
        pieces = [("text", str((person or 0) + 1))]
    else:
        pieces = _pieces(cell.all_segments(), fill, whole)
    role = cell.role or ("value" if cell.field else "label")
    align = cell.align or ("left" if cell.items or role in ("note",) else "center")
    return {"colspan": cell.colspan, "rowspan": cell.rowspan, "pieces": pieces,
            "numbered": [fill(i) for i in cell.items], "cls": f"{role} {align}"}


def _line(line: Line, fill) -> dict:
    return {"pieces": _pieces(line.segments, fill, in_line=True), "align": line.align}


def _note(note: Note, fill) -> dict:
    head = f"{note.label or ''}{note.text}"
    return {"text": fill(head), "numbered": [fill(i) for i in note.items]}


def _pieces(segments, fill, whole: bool = False, in_line: bool = False) -> list[tuple[str, str]]:
    """Static text and blank fields as (kind, text): text, furniture (年 月 日, （签字）),
    blank (a line to write on), box (□ and its option), break."""
    pieces: list[tuple[str, str]] = []
    texts = "".join(s.text for s in segments if s.text)
    previous = None  # the field just before, if the previous segment was one
    for segment in segments:
        if segment.text is not None:
            text = fill(segment.text)
            short = len(text) <= SHORT_TEXT and "\n" not in text  # 区县(市)、（签字）: kept on one line
            pieces.append(("furniture" if short else "text", text))
        elif not (segment.field.type == "photo" and blank_text(segment.field) in texts):
            pieces += _between_fields(previous, in_line) + _field_pieces(segment.field, fill, whole)
        previous = segment.field
    return pieces


LINE_GAP = "　　"  # between two fields of a header or footer line: "□非关键信息　　年　　月　　日"


def _between_fields(previous: FormField | None, in_line: bool) -> list[tuple[str, str]]:
    """What keeps a field apart from the field before it, as the PDF form does: in a header
    or footer line a gap (the date after 表5's "□关键信息 □非关键信息" reads apart from the
    last choice), in a cell a new line after a choice laid out one option per line."""
    if previous is None:
        return []
    if in_line:
        return [("text", LINE_GAP)]
    return [("break", "")] if previous.type in ("choice", "multi_choice") and previous.layout == "vertical" else []


def _field_pieces(field_: FormField, fill, whole: bool) -> list[tuple[str, str]]:
    """A blank field as the paper shows it.  Alone in its cell a signature, seal or
    photo field prints its furniture (（签字）); inside a line of text, whose own
    words already say 签字 or 盖章, it is a place to write, as in the PDF form."""
    if field_.type in ("choice", "multi_choice"):
        pieces = []
        for number, option in enumerate(field_.options, 1):
            if pieces and field_.layout == "vertical":
                pieces.append(("break", ""))
            if field_.numbered_options:  # the paper's own "1.职工医保□"
                pieces.append(("numbered-box", f"{number}.{fill(option)}"))
            else:
                pieces.append(("box", fill(option)))
        return pieces + ([("break", ""), ("text", fill(field_.hint))] if field_.hint else [])
    if field_.type == "checkbox":
        return [("box", "")]
    if field_.hint:
        return [("text", fill(field_.hint))]
    if not whole and field_.type in ("signature", "seal", "photo"):
        return [("blank", "")] if field_.type == "signature" else [("space", "")]
    furniture = blank_text(field_)
    if furniture or field_.furniture == "":  # "": the paper leaves the cell empty
        return [("furniture", furniture)] if furniture else []
    return [("blank", "")]


def _percentages(columns: list[float]) -> list[float]:
    total = sum(columns) or 1
    return [round(100 * c / total, 2) for c in columns]


# --------------------------------------------------------------------------
# Inline SVG: charts and QR codes
# --------------------------------------------------------------------------
def chart_svg(block: ChartBlock) -> Markup:
    """The chart as inline SVG: vector, sharp at any zoom, its text selectable."""
    svg = charts.to_svg(charts.layout(block.chart, max_width=CHART_WIDTH_MM))
    return Markup(_strip_xml_declaration(svg))  # made by our code, its text escaped there


def qr_svg(url: str) -> Markup:
    svg = segno.make(url, error="m").svg_inline(scale=3, border=2, title=None)
    return Markup(svg)  # segno escapes nothing it did not make: only rectangles and paths


def _strip_xml_declaration(svg: str) -> str:
    return re.sub(r"^\s*<\?xml[^>]*\?>\s*", "", svg)


def css_string(text: str) -> Markup:
    """``text`` as a quoted CSS string (for the running header in print.css)."""
    escaped = (text or "").replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ")
    escaped = re.sub(r"[<>]", lambda m: f"\\{ord(m.group()):x} ", escaped)
    return Markup(f'"{escaped}"')


def web_url(url: str | None) -> str | None:
    return url if url and WEB_URL.match(url.strip()) else None


def tel_href(phone: str) -> str | None:
    return "tel:" + re.sub(r"[^0-9+]", "", phone) if PHONE.match(phone.strip()) else None


# --------------------------------------------------------------------------
# The writer
# --------------------------------------------------------------------------
class BookletWriter:
    """Writes a booklet as a static site folder.

    ``library`` is the `Library` the booklet was built from: the site needs
    the edition's contacts and the forms' definitions to generate downloads.
    ``form_formats`` are the download formats; ``forms_from`` is a folder of
    blank forms already made for this edition under their default names
    (``formgen build``'s forms/), copied instead of drawn again.
    """

    extension = ""  # a folder, not a file

    def __init__(self, library, *, overwrite: bool = False, form_formats=FORM_FORMATS,
                 forms_from: Path | None = None):
        self.library = library
        self.overwrite = overwrite
        self.form_formats = tuple(form_formats)
        self.forms_from = Path(forms_from) if forms_from else None
        self.env = _environment()

    def write(self, booklet: Booklet, target: Path) -> Path:
        target = Path(target)
        if target.exists() and not self.overwrite:
            raise InputError(f"{target} already exists; choose another -o folder or pass --overwrite")
        if target.exists() and not target.is_dir():
            raise InputError(f"{target} exists and is not a folder; the HTML edition is a folder")
        resolved = self.library.edition(booklet.edition_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent))
        try:
            self._write_site(booklet, resolved, staging)
            os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes 0700; a site is ordinary
            _swap_into_place(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return target

    # -- the pages ------------------------------------------------------------
    def _write_site(self, booklet: Booklet, resolved, site: Path) -> None:
        plan = plan_site(booklet)
        downloads = self._write_forms(booklet, resolved, site / "forms")
        _widen_for_rosters(plan, downloads)
        assets = self._write_assets(booklet, site / "assets")
        context = {"booklet": booklet, "plan": plan, "downloads": downloads, "logo": assets.get("logo"),
                   "fill": resolved.fill}
        self._render(site / "index.html", "index.html", page=plan.index, **context,
                     contacts=_contacts(resolved), online=_online(resolved))
        for page in plan.pages:
            self._render(site / page.file, "part.html", page=page, **context)
        self._render(site / plan.forms_page.file, "forms.html", page=plan.forms_page, **context)
        self._render(site / plan.whole.file, "booklet.html", page=plan.whole, **context)

    def _render(self, path: Path, template: str, **context) -> None:
        html = self.env.get_template(template).render(**context)
        path.write_text(html, encoding="utf-8")

    def _write_forms(self, booklet: Booklet, resolved, folder: Path) -> dict[str, Download]:
        downloads = {}
        for form_id in site_forms(booklet, resolved):
            form = resolved.forms_by_id.get(form_id)
            if form is None:
                raise RenderError(f"booklet {booklet.edition_id}: form '{form_id}' is not in the data; "
                                  f"`formgen forms {booklet.edition_id}` lists the edition's forms")
            files = {}
            for fmt in self.form_formats:
                target = folder / f"{_ascii(form.id)}.{fmt}"
                made = self.forms_from / default_blank_name(form, resolved, fmt) if self.forms_from else None
                if made and made.is_file():
                    folder.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(made, target)
                else:
                    blank_form(form, resolved, fmt, target)
                files[fmt] = f"forms/{target.name}"
            downloads[form_id] = Download(form, resolved.form_number(form_id),
                                          resolved.form_title(form), files)
        return downloads

    def _write_assets(self, booklet: Booklet, folder: Path) -> dict[str, str]:
        folder.mkdir(parents=True)
        for name in ("site.css", "print.css"):
            text = self.env.get_template(f"{name}.j2").render(booklet=booklet)
            (folder / name).write_text(text, encoding="utf-8")
        found = {}
        if booklet.logo:
            logo = Path(booklet.logo)
            if not logo.is_file():
                raise RenderError(f"booklet {booklet.edition_id}: logo {logo} not found")
            name = "logo" + re.sub(r"[^a-z0-9.]", "", logo.suffix.lower())
            shutil.copyfile(logo, folder / name)
            found["logo"] = f"assets/{name}"
        return found


def _widen_for_rosters(plan: SitePlan, downloads: dict[str, "Download"]) -> None:
    """Pages that show a landscape form (a roster) may use a wide screen too."""
    wide = {form_id for form_id, d in downloads.items() if d.form.orientation == "landscape"}
    for page in plan.pages:
        page.wide = page.wide or bool(_form_ids(page.part) & wide)
    plan.forms_page.wide = bool(wide)


def _form_ids(part: Part) -> set[str]:
    found = {b.form_id for b in part.blocks if isinstance(b, FormBlock)}
    for child in part.children if part.kind in SECTION_PARENTS else []:
        found |= _form_ids(child)
    return found


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("formgen", "templates/html"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["css_string"] = css_string
    env.globals.update(
        is_para=lambda b: isinstance(b, Para), is_table=lambda b: isinstance(b, Table),
        is_chart=lambda b: isinstance(b, ChartBlock), is_link=lambda b: isinstance(b, LinkBlock),
        is_form=lambda b: isinstance(b, FormBlock), chart_svg=chart_svg,
        qr_svg=qr_svg, web_url=web_url, tel_href=tel_href, form_grid=form_grid,
        row_links=_row_links, format_names=FORMAT_NAMES, shows_code=shows_code,
    )
    return env


def _row_links(table: Table, plan: SitePlan) -> list[int | None]:
    """For each body row, which cell carries the link to the part the row stands for:
    the cell whose text is the part's title, else the first cell with text."""
    chosen = []
    for r, row in enumerate(table.rows):
        slug = table.anchors[r] if r < len(table.anchors) else None
        part = plan.parts.get(slug) if slug else None
        if part is None or slug not in plan.hrefs:
            chosen.append(None)
            continue
        texts = [c.text.strip() for c in row]
        match = next((i for i, t in enumerate(texts) if t == part.title.strip()), None)
        if match is None:
            match = next((i for i, t in enumerate(texts) if t and not t.isdigit()), 0)
        chosen.append(match)
    return chosen


def _contacts(resolved) -> list[tuple[str, list[str]]]:
    """The edition's contacts as (label, values) rows, placeholders filled."""
    contacts: Contacts | None = resolved.edition.contacts
    if contacts is None:
        return []
    fill = resolved.fill
    rows = [("办理部门", [contacts.department]), ("办公地址", [contacts.address]),
            ("办理窗口", [contacts.window]), ("办公时间", [contacts.hours]),
            ("咨询电话", contacts.consult_phone), ("投诉电话", contacts.complaint_phone),
            ("监督电话", contacts.supervise_phone)]
    return [(label, [fill(v) for v in values if v]) for label, values in rows if any(values)]


def _online(resolved) -> dict | None:
    edition = resolved.edition
    if edition.online_url:
        return {"url": resolved.fill(edition.online_url), "note": None}
    if edition.online_note:
        return {"url": None, "note": resolved.fill(edition.online_note)}
    return None


def _ascii(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "form"


def _swap_into_place(staging: Path, target: Path) -> None:
    """Rename the finished site over ``target``; an old site is removed only after."""
    if not target.exists():
        os.replace(staging, target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
    os.replace(target, old / target.name)
    os.replace(staging, target)
    shutil.rmtree(old, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
