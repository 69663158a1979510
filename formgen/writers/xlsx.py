"""Excel forms with openpyxl: a template sheet per form, filled page by page.

The template is the blank form drawn on one worksheet from the form data
(``build_template``): title, header lines, the grid with its merges and full
thin borders, footer lines and notes, column widths in the form's
proportions, print setup (A4/A3, orientation, fit to one page wide, header
rows repeated for rosters, print area, "- &P -" page numbers), drop-down
lists for choice fields, text format ("@") on every value cell, and sheet
protection with label cells locked and value cells unlocked, so a clerk can
type only into the fields.  ``formgen templates build`` commits these under
``templates/xlsx/``; a bureau may restyle one in Excel and an edition may
supply its own (``templates/xlsx/<edition-id>/<form-id>.xlsx``).

Where things sit on the sheet is computed from the form (`SheetMap`), both
when drawing the template and when filling it, so a restyled template must
keep the cells where they are (`template_problems` checks the merges).

Filling (`FormWriter.write`): every page of every record (a roster record
has as many pages as its people need, `layout.pages`) becomes one worksheet,
a copy of the template sheet with the values written in.  Sheet names: one
page in all keeps the template's name; one record over several pages gives
"第1页", "第2页" …; several records give "记录1", "记录2" … (or
"记录1-第1页" … when a record has several pages), in input order.  Values
are always stored as text: never as numbers (18-digit ID numbers, leading
zeros) and never as formulas (``=1+1``).
"""
from __future__ import annotations

import copy
import math
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell as SheetCell
from openpyxl.styles import Alignment, Border, Font, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange, MultiCellRange
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.properties import PageSetupProperties

from .. import layout
from ..errors import RenderError, TemplateError
from ..library import PACKAGE_ROOT
from ..output import write_bytes_atomic
from ..models import Cell, FormField, Form, Line, Segment

TEMPLATE_DIR = PACKAGE_ROOT / "templates" / "xlsx"

BODY_FONT_NAME = "宋体"
TITLE_FONT_NAME = "黑体"
BODY_SIZE = 11
TITLE_SIZE = 16
TEXT_FORMAT = "@"  # Excel's "text" number format: typed IDs stay text, not 4.11E+17

# Sheet width in Excel column units (about one digit of an 11-pt font each)
# that fills the printable width of the paper with narrow margins.
SHEET_UNITS = {("A4", "portrait"): 96, ("A4", "landscape"): 140,
               ("A3", "portrait"): 140, ("A3", "landscape"): 200}
PAPER_SIZE = {"A4": 9, "A3": 8}  # Excel's paperSize codes
FOOTER_PAGE_NUMBER = "- &P -"

LINE_POINTS = 14.5  # height of one wrapped line of 11-pt 宋体
DEFAULT_ROW_POINTS = 15  # a row whose height the sheet leaves to the reader
CELL_PADDING_POINTS = 7
GRID_ROW_MIN_POINTS = 27  # room to write by hand
ROSTER_ROW_MIN_POINTS = 24
TITLE_ROW_POINTS = 36

BLANK_LINE = "__________"  # where a text field sits inside a sentence or a header line
SIGN_SPACE = "　　　　　　"  # room to sign or stamp after a label that already says so
SEGMENT_GAP = "　　"
ONE_LINE_TYPES = ("date", "id_number", "phone", "credit_code", "number", "checkbox")
LIST_LIMIT = 255  # Excel refuses longer inline lists in data validation
CELL_LIMIT = 32767  # characters an Excel cell holds
MAX_ROW_POINTS = 409  # the tallest row Excel draws; text below it is cut off

THIN = Side(style="thin", color="000000")
GRID_BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
BODY_FONT = Font(name=BODY_FONT_NAME, size=BODY_SIZE)
BOLD_FONT = Font(name=BODY_FONT_NAME, size=BODY_SIZE, bold=True)
TITLE_FONT = Font(name=TITLE_FONT_NAME, size=TITLE_SIZE, bold=True)
SUBTITLE_FONT = Font(name=BODY_FONT_NAME, size=BODY_SIZE + 1)
UNLOCKED = Protection(locked=False)


# --------------------------------------------------------------------------
# Where the parts of a form sit on the sheet
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class SheetMap:
    """Row numbers (1-based) of every part of the form on its worksheet.

    Rows from the top: title, subtitle (if any), one row per header line,
    the grid (a roster's repeating row written out ``repeat`` times), one
    row per footer line, one row per note.  The grid starts at column A.
    """

    width: int
    title_row: int
    subtitle_row: int | None
    header_rows: tuple[int, ...]
    grid_top: int
    grid_height: int
    footer_rows: tuple[int, ...]
    note_rows: tuple[int, ...]
    column_header_rows: int  # grid rows above a roster's repeating row (0 for other forms)

    @property
    def last_row(self) -> int:
        return max((self.grid_top + self.grid_height - 1, *self.footer_rows, *self.note_rows))

    @property
    def last_column(self) -> str:
        return get_column_letter(self.width)

    def grid_position(self, placed: layout.PlacedCell) -> tuple[int, int]:
        return self.grid_top + placed.row, 1 + placed.col

    def print_title_rows(self) -> str | None:
        """The title, header lines and column headings, repeated on every printed page of a roster."""
        if not self.column_header_rows:
            return None
        return f"1:{self.grid_top + self.column_header_rows - 1}"


def sheet_map(form: Form) -> SheetMap:
    rows, person_index = layout.expand_rows(form)
    row = 2 if form.subtitle else 1
    header_rows = tuple(range(row + 1, row + 1 + len(form.header)))
    grid_top = row + 1 + len(form.header)
    footer_top = grid_top + len(rows)
    footer_rows = tuple(range(footer_top, footer_top + len(form.footer)))
    note_top = footer_top + len(form.footer)
    note_rows = tuple(range(note_top, note_top + len(form.notes)))
    first_repeat = next((i for i, p in enumerate(person_index) if p is not None), 0)
    return SheetMap(len(form.columns), 1, 2 if form.subtitle else None, header_rows, grid_top,
                    len(rows), footer_rows, note_rows, first_repeat)


# --------------------------------------------------------------------------
# Template lookup
# --------------------------------------------------------------------------
def template_candidates(form: Form, edition=None) -> list[Path]:
    """Where a template for ``form`` may be, nearest first: the edition's chain, then the default."""
    chain = list(edition.chain) if edition is not None else []
    return [TEMPLATE_DIR / name / f"{form.id}.xlsx" for name in chain] + [TEMPLATE_DIR / f"{form.id}.xlsx"]


def template_path(form: Form, edition=None) -> Path | None:
    """The template file used for ``form`` in ``edition``, or None (then it is built in memory)."""
    return next((p for p in template_candidates(form, edition) if p.is_file()), None)


def default_template_path(form: Form) -> Path:
    """Where `formgen templates build` writes the default template of ``form``."""
    return TEMPLATE_DIR / f"{form.id}.xlsx"


# --------------------------------------------------------------------------
# Building the template
# --------------------------------------------------------------------------
def build_template(form: Form, target: Path) -> None:
    """Write the blank form as an .xlsx template to ``target``."""
    write_bytes_atomic(Path(target), template_bytes(form))


def template_bytes(form: Form) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_title(form.title)
    draw_form(sheet, form, sheet_map(form))
    workbook.properties.title = form.title
    workbook.properties.creator = "formgen"
    buffer = BytesIO()
    workbook.save(buffer)
    return reproducible(buffer.getvalue())


FIXED_TIME = "2000-01-01T00:00:00Z"


def reproducible(data: bytes) -> bytes:
    """The same workbook with fixed timestamps, so rebuilding an unchanged template changes no byte."""
    out = BytesIO()
    with zipfile.ZipFile(BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + FIXED_TIME.encode(), content)
            target.writestr(zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0)), content,
                            compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def draw_form(sheet, form: Form, smap: SheetMap) -> None:
    """Everything of the blank form: static text, styles, merges, borders, setup, values."""
    set_column_widths(sheet, form)
    draw_title(sheet, form, smap)
    for line, row in zip(form.header, smap.header_rows):
        draw_line_frame(sheet, line, row, smap)
    blank = layout.pages(form, None)[0]
    draw_grid(sheet, blank, smap)
    for line, row in zip(form.footer, smap.footer_rows):
        draw_line_frame(sheet, line, row, smap)
    draw_notes(sheet, form, smap)
    add_choice_lists(sheet, blank, smap)
    set_print_setup(sheet, form, smap)
    protect(sheet)
    put_values(sheet, form, blank, smap, layout.bare_cells(form), fill=_same, blank=True)
    fit_all_heights(sheet, form, blank, smap)


def _same(text):
    return text


def set_column_widths(sheet, form: Form) -> None:
    total = sum(form.columns)
    units = SHEET_UNITS[(form.paper, form.orientation)]
    for index, share in enumerate(form.columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = round(units * share / total, 2)


def draw_title(sheet, form: Form, smap: SheetMap) -> None:
    merge_row(sheet, smap.title_row, smap)
    cell = sheet.cell(smap.title_row, 1, form.title)
    cell.font = TITLE_FONT
    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    if smap.subtitle_row:
        merge_row(sheet, smap.subtitle_row, smap)
        sub = sheet.cell(smap.subtitle_row, 1, form.subtitle)
        sub.font = SUBTITLE_FONT
        sub.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def merge_row(sheet, row: int, smap: SheetMap) -> None:
    if smap.width > 1:
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=smap.width)


def draw_line_frame(sheet, line: Line, row: int, smap: SheetMap) -> None:
    """A header or footer line: one cell across the width, no border (its text comes with the values)."""
    merge_row(sheet, row, smap)
    cell = sheet.cell(row, 1)
    cell.font = BODY_FONT
    cell.alignment = Alignment(horizontal=line.align, vertical="center", wrap_text=True)
    if line_has_field(line):
        unlock(cell)
    else:
        cell.value = "".join(s.text or "" for s in line.segments)


def line_has_field(line: Line) -> bool:
    return any(s.field for s in line.segments)


def draw_grid(sheet, page: layout.Page, smap: SheetMap) -> None:
    for placed in page.cells:
        row, col = smap.grid_position(placed)
        end_row, end_col = row + placed.rowspan - 1, col + placed.colspan - 1
        if end_row > row or end_col > col:
            sheet.merge_cells(start_row=row, start_column=col, end_row=end_row, end_column=end_col)
        for r in range(row, end_row + 1):
            for c in range(col, end_col + 1):
                sheet.cell(r, c).border = GRID_BORDER
        draw_grid_cell(sheet.cell(row, col), placed.cell)


def draw_grid_cell(target, cell: Cell) -> None:
    target.font = BOLD_FONT if cell.role == "heading" else BODY_FONT
    # An ID number or a date broken over two lines is misread: those shrink to fit instead.
    one_line = layout.lone_field(cell) is not None and cell.field.type in ONE_LINE_TYPES
    target.alignment = Alignment(horizontal=cell_alignment(cell), vertical="center",
                                 wrap_text=not one_line, shrink_to_fit=one_line)
    if holds_value(cell):
        unlock(target)
    elif not cell.counter:
        target.value = static_text(cell) or None


def holds_value(cell: Cell) -> bool:
    """A cell the writer (or a clerk) fills: a field, or a sentence with fields in it."""
    return cell.field is not None or any(s.field for s in cell.segments)


def unlock(target) -> None:
    target.protection = UNLOCKED
    target.number_format = TEXT_FORMAT


def cell_alignment(cell: Cell) -> str:
    if cell.align:
        return cell.align
    if cell.items or cell.segments or cell.role == "note":
        return "left"
    if cell.field and cell.field.type in ("choice", "multi_choice") and cell.field.layout == "vertical":
        return "left"
    return "center"


def static_text(cell: Cell) -> str:
    """A label cell's text with its numbered paragraphs (温馨提示 1. 2. …) on lines of their own."""
    lines = [cell.text] if cell.text else []
    lines += [f"{n}.{item}" for n, item in enumerate(cell.items, start=1)]
    return "\n".join(lines)


def draw_notes(sheet, form: Form, smap: SheetMap) -> None:
    for note, row in zip(form.notes, smap.note_rows):
        merge_row(sheet, row, smap)
        cell = sheet.cell(row, 1, note_text(note))
        cell.font = BODY_FONT
        cell.alignment = Alignment(horizontal="left", vertical="top", wrap_text=True)


def note_text(note) -> str:
    lines = [f"{note.label}{note.text}" if note.label else note.text]
    return "\n".join(lines + [f"{n}.{item}" for n, item in enumerate(note.items, start=1)])


def add_choice_lists(sheet, page: layout.Page, smap: SheetMap) -> None:
    """A drop-down list on every cell that holds exactly one choice field.

    Cells mixing a choice with other text (a pledge sentence) get none: picking
    an option would replace the whole sentence.  Lists too long for Excel's
    255-character inline limit, or with commas or quotes in an option, are
    written to a hidden column beside the form and referenced from there.
    """
    lists: dict[str, DataValidation] = {}
    spare_column = smap.width + 2
    for placed in page.cells:
        field_ = placed.cell.field
        if layout.lone_field(placed.cell) is None or field_.type != "choice":
            continue
        if field_.id not in lists:
            formula = inline_list(field_.options)
            if formula is None:
                formula = hidden_list(sheet, field_.options, spare_column)
                spare_column += 1
            # "warning", not "stop": a clerk may still type the ticked-box text (☑职工医保) by hand.
            validation = DataValidation(type="list", formula1=formula, allow_blank=True, showErrorMessage=True,
                                        errorStyle="warning", errorTitle=field_.label[:32],
                                        error="请从下拉列表中选择一项。")
            sheet.add_data_validation(validation)
            lists[field_.id] = validation
        row, col = smap.grid_position(placed)
        lists[field_.id].add(sheet.cell(row, col).coordinate)


def inline_list(options: list[str]) -> str | None:
    joined = ",".join(options)
    if len(joined) > LIST_LIMIT or any("," in o or '"' in o for o in options):
        return None
    return f'"{joined}"'


def hidden_list(sheet, options: list[str], column: int) -> str:
    letter = get_column_letter(column)
    for row, option in enumerate(options, start=1):
        sheet.cell(row, column, option).data_type = "s"
    sheet.column_dimensions[letter].hidden = True
    return f"${letter}$1:${letter}${len(options)}"


def set_print_setup(sheet, form: Form, smap: SheetMap) -> None:
    # A roster may be lengthened by hand, so it may run onto more pages
    # (with its headings repeated); every other form is one page.
    print_page(sheet, PAPER_SIZE[form.paper], form.orientation, one_page=not form.repeat_row(),
               area=f"A1:{smap.last_column}{smap.last_row}", title_rows=smap.print_title_rows(),
               side_margin=0.25, bottom_margin=0.6)


def print_page(sheet, paper_size: int, orientation: str, *, one_page: bool, area: str, title_rows: str | None,
               side_margin: float, bottom_margin: float) -> None:
    """Print setup shared by the form sheets and the 事项清单: fit to the page width (and to one
    page when ``one_page``), centred, "- N -" in the footer, ``title_rows`` repeated, no grid lines."""
    setup = sheet.page_setup
    setup.paperSize = paper_size
    setup.orientation = orientation
    setup.fitToWidth = 1
    setup.fitToHeight = 1 if one_page else 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_options.horizontalCentered = True
    sheet.page_margins = PageMargins(left=side_margin, right=side_margin, top=0.6, bottom=bottom_margin,
                                     header=0.3, footer=0.3)
    sheet.oddFooter.center.text = FOOTER_PAGE_NUMBER
    sheet.oddFooter.center.font = f"{BODY_FONT_NAME},Regular"
    sheet.oddFooter.center.size = 10
    sheet.print_area = area
    if title_rows:
        sheet.print_title_rows = title_rows
    sheet.sheet_view.showGridLines = False


def protect(sheet) -> None:
    """Lock the labels, leave the value cells open; no password, so a bureau can unprotect to restyle."""
    protection = sheet.protection
    protection.sheet = True
    protection.formatRows = False  # let a clerk make a row taller for long text
    protection.formatColumns = False
    protection.selectLockedCells = False
    protection.selectUnlockedCells = False


# --------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------
HEADER_SPOT = layout.PlacedCell(Cell(), 0, 0, 1, 1, None)  # a header/footer field is never per person


def put_values(sheet, form: Form, page: layout.Page, smap: SheetMap, bare: frozenset[int], fill,
               blank=False) -> list:
    """Write what a page shows in its value cells; returns the cells written (for row heights).
    The ``blank`` form numbers every roster row and prints a field's sample (XXXX), as the paper."""
    written = []
    for line, row in zip(form.header, smap.header_rows):
        if line_has_field(line):
            written.append(put_text(sheet, row, 1, segments_text(line.segments, page, HEADER_SPOT, fill, blank)))
    for placed in page.cells:
        text = grid_value_text(page, placed, fill, blank, id(placed.cell) in bare)
        if text is not None:
            row, col = smap.grid_position(placed)
            written.append(put_text(sheet, row, col, text))
    for line, row in zip(form.footer, smap.footer_rows):
        if line_has_field(line):
            written.append(put_text(sheet, row, 1, segments_text(line.segments, page, HEADER_SPOT, fill, blank)))
    return written


def grid_value_text(page: layout.Page, placed: layout.PlacedCell, fill, blank: bool,
                    bare: bool = False):
    """The text of a value cell of the grid, or None for a label cell (left as the template has it)."""
    cell = placed.cell
    if cell.counter:
        has_person = placed.repeat_index is not None and placed.repeat_index < len(page.people)
        return layout.counter_text(page, placed) if has_person or blank else ""
    if not holds_value(cell):
        return None
    if layout.lone_field(cell) is not None:
        value = layout.cell_value(page, placed, cell.field)
        if bare and not value:
            # signed or dated by hand (`layout.prints_nothing`): an empty cell, as in PDF, Word and
            # HTML. A roster date cell stays a text cell ("@", set with the grid): a date is
            # stored as the text the user gave, never as an Excel date serial.
            return ""
        return field_text(cell.field, value, alone=True, sample=blank)
    return segments_text(cell.all_segments(), page, placed, fill, blank)


def field_text(field_: FormField, value, alone: bool, before: str = "", sample: bool = False) -> str:
    """What a field shows: its value, its boxes, the blank form's ``sample`` (XXXX), or the
    paper's blank (年 月 日, （签字）, a line)."""
    if field_.type in ("choice", "multi_choice"):
        joiner = "\n" if field_.layout == "vertical" else "　"
        if field_.numbered_options:  # the paper's own "1.职工医保□"
            return joiner.join(f"{n}.{o}" + box(layout.is_checked(field_, value, o))
                               for n, o in enumerate(field_.options, 1))
        return joiner.join(box(layout.is_checked(field_, value, o)) + o for o in field_.options)
    if field_.type == "checkbox":
        return box(layout.is_checked(field_, value))
    text = "" if value is None else str(value)
    if text:
        return text
    if sample and field_.hint:  # the paper's sample (XXXX), on the blank form only, as in PDF, Word, HTML
        return field_.hint
    if not alone and _label_says_it(field_, before):
        return SIGN_SPACE if field_.type in ("signature", "seal") else ""
    return layout.blank_text(field_) or ("" if alone else BLANK_LINE)


def _label_says_it(field_: FormField, before: str) -> bool:
    """Whether the text before a signature, seal or photo blank already names it (单位（盖章）, 贴照片处)."""
    if field_.type == "photo":
        return "照片" in before
    if field_.type not in ("signature", "seal"):
        return False
    tail = before.rstrip()[-8:]
    return tail.endswith(("：", ":")) or any(word in tail for word in ("签字", "签名", "盖章", "签章"))


def box(checked: bool) -> str:
    return "☑" if checked else "□"


def segments_text(segments: list[Segment], page, placed, fill, blank: bool = False) -> str:
    """A sentence or line with fields inline, as one cell's text.

    A gap separates a field from what follows unless that reads on from it
    (punctuation, the 号) of "(第XXXX号)": `layout.reads_on`); a sentence ending
    in "。" ends the line. The ``blank`` form prints a field's sample (XXXX).
    """
    text = ""
    previous = None
    for segment in segments:
        if segment.field is not None:
            value = layout.cell_value(page, placed, segment.field)
            piece = field_text(segment.field, value, alone=False, before=text, sample=blank)
        else:
            piece = fill(segment.text)
        if previous is not None and piece:
            text += _joint(previous, text, piece)
        text += piece
        previous = segment
    return text


def _joint(previous: Segment, text: str, piece: str) -> str:
    if text.endswith("。"):
        return "\n"
    if previous.text is not None or previous.field.type == "checkbox" or layout.reads_on(piece):
        return ""
    return SEGMENT_GAP


def put_text(sheet, row: int, col: int, text: str):
    """Store ``text`` as a string: never a formula (=1+1), never a number."""
    target = sheet.cell(row, col)
    if not text:
        target.value = None
        return target
    if ILLEGAL_CHARACTERS_RE.search(text):
        bad = ILLEGAL_CHARACTERS_RE.search(text).group()
        raise RenderError(f"the value {text[:40]!r} contains the control character {bad!r}, "
                          f"which an Excel file cannot hold; remove it from the input")
    if len(text) > CELL_LIMIT:
        raise RenderError(f"a value of {len(text)} characters is longer than an Excel cell can hold ({CELL_LIMIT})")
    target.value = text
    target.data_type = "s"  # openpyxl takes a str starting with "=" as a formula
    return target


# --------------------------------------------------------------------------
# Row heights: openpyxl cannot measure text, and neither Excel nor
# LibreOffice grows a row for a merged cell; so estimate the lines.
# --------------------------------------------------------------------------
def text_ems(line: str) -> float:
    """Width of ``line`` in ems: CJK, full-width characters and □☑ take one, others half."""
    return sum(1 if unicodedata.east_asian_width(ch) in "WFA" else 0.5 for ch in line)


def lines_needed(text: str, width_units: float, size: float = BODY_SIZE) -> int:
    """Wrapped lines of ``text`` in a cell ``width_units`` wide, as Excel measures it.

    Excel's column unit is 7 pixels (one digit of the default 11-pt font)
    plus 5 pixels of padding per column; an em of ``size`` points is size*4/3 pixels.
    """
    room = max(1.0, (width_units * 7 + 1) / (size * 4 / 3))
    return sum(max(1, math.ceil(text_ems(line) / room)) for line in str(text).split("\n"))


def height_needed(text, width_units: float, size: float = BODY_SIZE) -> float:
    return lines_needed(text, width_units, size) * LINE_POINTS * size / BODY_SIZE + CELL_PADDING_POINTS


def column_units(sheet, first: int, last: int) -> float:
    total = 0.0
    for col in range(first, last + 1):
        dim = sheet.column_dimensions.get(get_column_letter(col))
        total += dim.width if dim is not None and dim.width else 8.43
    return total


def fit_all_heights(sheet, form: Form, page: layout.Page, smap: SheetMap) -> None:
    """Set every row of the blank form tall enough for its text (and the form's minimums)."""
    sheet.row_dimensions[smap.title_row].height = max(
        TITLE_ROW_POINTS, height_needed(form.title, column_units(sheet, 1, smap.width), TITLE_SIZE))
    for row in range(smap.grid_top, smap.grid_top + smap.grid_height):
        sheet.row_dimensions[row].height = GRID_ROW_MIN_POINTS
    for placed in page.cells:
        row = smap.grid_position(placed)[0]
        minimum = _row_minimum(page, placed)
        for r in range(row, row + placed.rowspan):
            sheet.row_dimensions[r].height = max(sheet.row_dimensions[r].height, minimum)
    cells = [sheet.cell(r, 1) for r in (*smap.header_rows, *smap.footer_rows, *smap.note_rows)]
    if smap.subtitle_row:
        cells.append(sheet.cell(smap.subtitle_row, 1))
    cells += [sheet.cell(*smap.grid_position(p)) for p in page.cells]
    grow_rows(sheet, cells)


def _row_minimum(page: layout.Page, placed: layout.PlacedCell) -> float:
    row = page.rows[placed.row]
    points = ROSTER_ROW_MIN_POINTS if row.repeat else GRID_ROW_MIN_POINTS
    if row.height:
        points = max(points, row.height * 72 / 25.4)
    return points


@dataclass(frozen=True)
class Geometry:
    """A sheet's column widths and merges, read once and shared by its copies."""

    widths: dict[int, float]
    spans: dict[tuple[int, int], tuple[int, int]]  # top-left (row, col) -> (last row, last col)

    def units(self, first_col: int, last_col: int) -> float:
        return sum(self.widths.get(c, 8.43) for c in range(first_col, last_col + 1))


def geometry(sheet) -> Geometry:
    widths = {c: column_units(sheet, c, c) for c in range(1, sheet.max_column + 1)}
    spans = {(r.min_row, r.min_col): (r.max_row, r.max_col) for r in sheet.merged_cells.ranges}
    return Geometry(widths, spans)


def grow_rows(sheet, cells, shape: Geometry | None = None) -> None:
    """Make rows taller where a cell's text needs more lines than they give; never shorter."""
    shape = shape or geometry(sheet)
    for target in cells:
        if not target.value or (target.alignment is not None and target.alignment.shrink_to_fit):
            continue
        last_row, last_col = shape.spans.get((target.row, target.column), (target.row, target.column))
        size = (target.font.sz if target.font else None) or BODY_SIZE
        need = height_needed(target.value, shape.units(target.column, last_col), size)
        rows = range(target.row, last_row + 1)
        heights = [sheet.row_dimensions[r].height or DEFAULT_ROW_POINTS for r in rows]
        if need > sum(heights):
            extra = (need - sum(heights)) / len(heights)
            for r, height in zip(rows, heights):
                sheet.row_dimensions[r].height = round(height + extra, 1)


# --------------------------------------------------------------------------
# Copying the template sheet for every page
# --------------------------------------------------------------------------
def copy_sheet(workbook, source, title: str):
    """A copy of ``source`` in the same workbook, settings included.

    openpyxl's ``copy_worksheet`` leaves out data validations, protection,
    print titles and footers, and its copy of merged ranges re-derives their
    borders cell by cell, which dominates a 1000-sheet roster; this copies
    cells and settings directly.
    """
    target = workbook.create_sheet(title=title)
    for (row, col), cell in source._cells.items():
        clone = SheetCell(target, row=row, column=col)
        clone._value = cell._value
        clone.data_type = cell.data_type
        clone._style = copy.copy(cell._style)
        target._cells[(row, col)] = clone
    for key, dim in source.row_dimensions.items():
        target.row_dimensions[key] = _clone_dimension(dim, target)
    for key, dim in source.column_dimensions.items():
        target.column_dimensions[key] = _clone_dimension(dim, target)
    target.merged_cells = MultiCellRange([CellRange(r.coord) for r in source.merged_cells.ranges])
    for name in ("sheet_format", "sheet_properties", "page_margins", "page_setup", "print_options", "protection"):
        setattr(target, name, copy.copy(getattr(source, name)))
    target.HeaderFooter = copy.deepcopy(source.HeaderFooter)
    for validation in source.data_validations.dataValidation:
        target.add_data_validation(copy.deepcopy(validation))
    target.sheet_view.showGridLines = source.sheet_view.showGridLines
    if source.print_area:
        target.print_area = source.print_area
    if source.print_title_rows:
        target.print_title_rows = source.print_title_rows
    return target


def _clone_dimension(dim, sheet):
    clone = copy.copy(dim)
    clone.worksheet = sheet
    return clone


def sheet_title(text: str) -> str:
    """A valid, at most 31-character sheet name."""
    cleaned = re.sub(r"[\[\]:*?/\\]", "", text).strip("'") or "表"
    return cleaned[:31]


def page_sheet_names(pages_per_record: list[int], base: str) -> list[str]:
    if sum(pages_per_record) == 1:
        return [base]
    if len(pages_per_record) == 1:
        return [f"第{p}页" for p in range(1, pages_per_record[0] + 1)]
    names = []
    for r, count in enumerate(pages_per_record, start=1):
        names += [f"记录{r}"] if count == 1 else [f"记录{r}-第{p}页" for p in range(1, count + 1)]
    return names


# --------------------------------------------------------------------------
# The writer
# --------------------------------------------------------------------------
class FormWriter:
    """Blank and filled .xlsx forms for one form in one edition.

    Options: ``template`` — an .xlsx file to use instead of the looked-up one.
    """

    extension = ".xlsx"

    def __init__(self, form: Form, edition=None, **options):
        self.form = form
        self.edition = edition
        self.smap = sheet_map(form)
        self.bare = layout.bare_cells(form)  # once per form, not per filled page
        self.fill = edition.fill if edition is not None else _same
        source = options.get("template") or template_path(form, edition)
        raw = read_template(source) if source else template_bytes(form)
        self._template = self._prepare(raw, source)

    def value_problem(self, field_: FormField, text: str) -> str | None:
        """Checked before anything is written (`fill.build_records`): what a cell cannot hold."""
        if len(text) > CELL_LIMIT:
            return (f"{len(text)} characters is more than an Excel cell holds ({CELL_LIMIT}); "
                    "shorten it")
        room = self._rooms().get(field_.id)
        if room is not None and len(text) >= 100 and height_needed(text, room[0]) > room[1]:
            return (f"{len(text)} characters need a row taller than Excel allows ({MAX_ROW_POINTS:g} pt) "
                    "in this box, and would be cut off; shorten it")
        return None

    def _rooms(self) -> dict[str, tuple[float, float]]:
        """Per field: the narrowest cell it is written in (column units) and the most height its rows get."""
        if getattr(self, "_room_cache", None) is None:
            units = SHEET_UNITS[(self.form.paper, self.form.orientation)]
            total = sum(self.form.columns)
            rooms: dict[str, tuple[float, float]] = {}
            for placed in layout.pages(self.form, None)[0].cells:
                width = units * sum(self.form.columns[placed.col:placed.col + placed.colspan]) / total
                room = (width, MAX_ROW_POINTS * placed.rowspan)
                for segment in placed.cell.all_segments():
                    if segment.field is not None:
                        old = rooms.get(segment.field.id, room)
                        rooms[segment.field.id] = (min(old[0], room[0]), min(old[1], room[1]))
            self._room_cache = rooms
        return self._room_cache

    def _prepare(self, raw: bytes, source: Path | None) -> bytes:
        """The template with the edition's title, placeholders and names applied, kept as bytes."""
        workbook = open_template(raw, source)
        sheet = workbook.worksheets[0]
        problems = template_problems(sheet, self.form, self.smap)
        if problems:
            raise TemplateError(f"{source}: {problems[0]}; rebuild it with `formgen templates build` "
                                f"or fix it in Excel")
        title = self.edition.form_title(self.form) if self.edition else self.form.title
        for row in sheet.iter_rows():
            for target in row:
                if isinstance(target.value, str) and target.data_type == "s":
                    target.value = self.fill(target.value)
        sheet.cell(self.smap.title_row, 1).value = title
        number = self.edition.form_number(self.form.id) if self.edition else None
        sheet.title = sheet_title(number or title)
        heading = layout.heading(number, title, self.fill(self.form.subtitle))  # nothing said twice
        if self.smap.subtitle_row and not heading.subtitle:  # the edition's title already ends in it
            sheet.cell(self.smap.subtitle_row, 1).value = None
        if heading.number:  # the edition's 表7 / 附件7, printed top left like the seed (the grid keeps its cells)
            sheet.oddHeader.left.text = heading.number
            sheet.oddHeader.left.font = f"{BODY_FONT_NAME},Regular"
            sheet.oddHeader.left.size = BODY_SIZE
        workbook.properties.title = title
        workbook.properties.creator = (self.edition.edition.bureau if self.edition else None) or "formgen"
        buffer = BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()

    def write(self, records: list[layout.Record] | None, target: Path) -> None:
        """Write the blank form (``records`` None) or every record's pages, in order, to ``target``."""
        workbook = load_workbook(BytesIO(self._template))
        if records is not None:
            self._fill(workbook, records)
        try:
            workbook.save(target)
        except OSError as exc:
            raise RenderError(f"cannot write {target}: {exc.strerror or exc}") from exc

    def _fill(self, workbook, records: list[layout.Record]) -> None:
        if not records:
            raise RenderError(f"no records to fill into form '{self.form.id}'")
        base = workbook.worksheets[0]
        record_pages = [layout.pages(self.form, record) for record in records]
        names = page_sheet_names([len(p) for p in record_pages], base.title)
        sheets = [base] + [copy_sheet(workbook, base, name) for name in names[1:]]
        base.title = names[0]
        pages = [page for per_record in record_pages for page in per_record]
        shape = geometry(base)
        for sheet, page in zip(sheets, pages):
            written = put_values(sheet, self.form, page, self.smap, self.bare, self.fill)
            grow_rows(sheet, written, shape)
            sheet.page_setup.fitToHeight = 1  # a filled sheet is one printed page, however tall its rows grew


def read_template(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise TemplateError(f"cannot read Excel template {path}: {exc.strerror or exc}") from exc


def open_template(raw: bytes, source: Path | None):
    try:
        return load_workbook(BytesIO(raw))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise TemplateError(f"{source} is not a readable .xlsx file ({exc}); "
                            f"rebuild it with `formgen templates build`") from exc


def template_problems(sheet, form: Form, smap: SheetMap | None = None) -> list[str]:
    """Differences between a template sheet and its form that would put values in the wrong cells."""
    smap = smap or sheet_map(form)
    merged = {str(r) for r in sheet.merged_cells.ranges}
    problems = []
    expected = set()
    for placed in layout.pages(form, None)[0].cells:
        row, col = smap.grid_position(placed)
        if placed.rowspan == 1 and placed.colspan == 1:
            continue
        wanted = f"{get_column_letter(col)}{row}:{get_column_letter(col + placed.colspan - 1)}{row + placed.rowspan - 1}"
        expected.add(wanted)
        if wanted not in merged:
            problems.append(f"cells {wanted} should be merged for form '{form.id}' but are not")
    if smap.width > 1:  # title, subtitle, header, footer and note lines span the width
        lines = (smap.title_row, smap.subtitle_row, *smap.header_rows, *smap.footer_rows, *smap.note_rows)
        expected |= {f"A{r}:{smap.last_column}{r}" for r in lines if r}
    for extra in sorted(merged - expected):
        if CellRange(extra).min_row <= smap.last_row:  # below the form a bureau may add what it likes
            problems.append(f"cells {extra} are merged but form '{form.id}' has separate cells there "
                            f"(values written there would be lost)")
    return problems


def check_template(form: Form, path: Path) -> list[str]:
    """Problems of the template file at ``path`` for ``form`` (for `formgen check`)."""
    try:
        sheet = open_template(read_template(path), path).worksheets[0]
    except TemplateError as exc:
        return [str(exc)]
    return template_problems(sheet, form)
