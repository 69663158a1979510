"""Format-neutral form layout shared by the Word, Excel, PDF and HTML form writers.

`place` turns a form's rows (with colspan/rowspan) into cells with grid
coordinates; `pages` splits a roster's people into pages of the form's
rows-per-page; `Record` is one filled form as the writers receive it.
What the paper prints is decided here once, for every format: a field's blank
furniture (`blank_text`), the cells that print nothing (`prints_nothing`,
`bare_cells`), the text that follows a field with no gap (`reads_on`) and the
heading above the grid (`heading`).
Values are already validated and normalised (see `formgen.fill`):

* text-like fields (text, date, number, id_number, phone, credit_code): ``str``
* ``choice``: the chosen option's text (``str``) or ``""``
* ``multi_choice``: ``list[str]`` of chosen options
* ``checkbox``: ``bool``
* signature, seal, photo: ``str`` (usually empty: signed by hand)
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Union

from .models import Cell, Form, FormField, Row

Value = Union[str, bool, list]


@dataclass
class Record:
    """One filled form: its single fields, plus the people of a roster."""

    values: dict[str, Value] = field(default_factory=dict)
    rows: list[dict[str, Value]] = field(default_factory=list)
    source_rows: list[int] = field(default_factory=list)  # input line numbers, for messages


@dataclass(frozen=True)
class PlacedCell:
    cell: Cell
    row: int  # index into the page's rows
    col: int
    colspan: int
    rowspan: int
    repeat_index: int | None = None  # which person of the page (0-based) for repeating rows


@dataclass
class Page:
    """One printed page of a form: its rows expanded, and the values on it."""

    rows: list[Row]
    cells: list[PlacedCell]
    values: dict[str, Value]
    people: list[dict[str, Value]]  # the roster entries on this page, in order
    first_number: int  # 序号 of the first roster row on the page


def place(rows: list[Row]) -> list[PlacedCell]:
    """Grid coordinates for every cell; rowspans from above push cells right."""
    taken: set[tuple[int, int]] = set()
    placed = []
    for r, row in enumerate(rows):
        col = 0
        for cell in row.cells:
            while (r, col) in taken:
                col += 1
            placed.append(PlacedCell(cell, r, col, cell.colspan, cell.rowspan))
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    taken.add((r + dr, col + dc))
            col += cell.colspan
    return placed


def expand_rows(form: Form) -> tuple[list[Row], list[int | None]]:
    """The form's rows with the repeating row written out ``repeat`` times.

    Returns the rows and, for each, the 0-based person index (None for fixed rows).
    """
    rows, index = [], []
    for row in form.rows:
        count = row.repeat or 1
        for i in range(count):
            rows.append(row)
            index.append(i if row.repeat else None)
    return rows, index


_GRIDS: dict[int, tuple[Form, list[Row], list[PlacedCell]]] = {}


def placed_grid(form: Form) -> tuple[list[Row], list[PlacedCell]]:
    """The expanded rows and placed cells of ``form``, computed once per form (a batch asks per record)."""
    cached = _GRIDS.get(id(form))
    if cached is None or cached[0] is not form:
        rows, person_index = expand_rows(form)
        placed = [PlacedCell(p.cell, p.row, p.col, p.colspan, p.rowspan, person_index[p.row])
                  for p in place(rows)]
        if len(_GRIDS) > 64:
            _GRIDS.clear()
        cached = _GRIDS[id(form)] = (form, rows, placed)
    return cached[1], cached[2]


def pages(form: Form, record: Record | None) -> list[Page]:
    """The pages one record fills: one, or as many as a roster's people need."""
    record = record or Record()
    rows, placed = placed_grid(form)
    repeat = form.repeat_row()
    per_page = repeat.repeat if repeat else 0
    chunks = [record.rows[i:i + per_page] for i in range(0, len(record.rows), per_page)] if per_page else []
    chunks = chunks or [[]]
    return [Page(rows, placed, record.values, chunk, 1 + n * per_page) for n, chunk in enumerate(chunks)]


def cell_value(page: Page, placed: PlacedCell, field_: FormField) -> Value:
    """The value a field shows in this cell of this page ('' / False / [] when blank)."""
    if placed.repeat_index is not None:
        person = page.people[placed.repeat_index] if placed.repeat_index < len(page.people) else {}
        value = person.get(field_.id)
    else:
        value = page.values.get(field_.id)
    if value is None:
        return [] if field_.type == "multi_choice" else False if field_.type == "checkbox" else ""
    return value


def counter_text(page: Page, placed: PlacedCell) -> str:
    return str(page.first_number + (placed.repeat_index or 0))


def is_checked(field_: FormField, value: Value, option: str | None = None) -> bool:
    """Whether a box is ticked: the single box of a checkbox, or one option's box."""
    if field_.type == "checkbox":
        return bool(value)
    if field_.type == "multi_choice":
        return option in (value or [])
    return value == option


def blank_text(field_: FormField) -> str:
    """What an unfilled, non-box field prints (the paper's own furniture)."""
    if field_.furniture is not None:
        return field_.furniture
    if field_.type == "date":
        return "年　　月　　日"
    if field_.type == "signature":
        return "（签字）"
    if field_.type == "seal":
        return "（盖章）"
    if field_.type == "photo":
        return "贴照片处"
    return ""


@dataclass(frozen=True)
class Heading:
    """What a form prints above its grid: the edition's number (top left), title, subtitle."""

    number: str | None
    title: str
    subtitle: str | None


def heading(number: str | None, title: str, subtitle: str | None) -> Heading:
    """The form's heading as the publication prints it, with nothing said twice.

    A number is printed top left (表9, 附件3) unless the title or subtitle already says it:
    the 单位变更样表 is listed as 样表 in Henan's numbering, but the Wolong seed prints it
    unnumbered, under its caption 基本医疗保险参保单位信息变更登记表（样表） alone; a 样表 above
    that caption would repeat it. A subtitle such as （样表） is printed unless the title
    (an edition may give the whole caption as the title) already ends in it."""
    said = f"{title}{subtitle or ''}"
    if number and number in said:
        number = None
    if subtitle and subtitle in title:
        subtitle = None
    return Heading(number or None, title, subtitle or None)


# 避头尾: what never starts a line and what never ends one, for every writer that breaks lines
NO_LINE_START = frozenset("，。、；：？！）》」』”’〉】〕,.;:?!)]}%…·")
NO_LINE_END = frozenset("（《「『“‘〈【〔([{")

# Punctuation that closes or follows what stands before it, printed without a gap before it.
CLOSING_PUNCTUATION = tuple("：:，,。；;）)、】」』")
_CLOSES_BRACKET = re.compile(r"\w?[)）]")  # 号) of (第XXXX号), 等） of （如□…□无业成年人等）


def reads_on(text: str) -> bool:
    """Whether static text right after a field reads on from it, printed with no gap between.

    Text after a field is usually the next label (日期：, 联系电话：) and stands apart from the
    field, but punctuation that closes or follows it (：，。）) does not, nor does a single word
    that closes the bracket the field stands in: the 号 of "(第XXXX号)" and the 等 of
    "（如□中小学儿童 □大学生 □无业成年人等）" are printed tight against the field in the seeds;
    a gap there reads as a missing character. Every form writer asks this one question."""
    return text.startswith(CLOSING_PUNCTUATION) or _CLOSES_BRACKET.match(text) is not None


SIGN_WORDS = ("签字", "签名", "签章", "盖章")


def says_sign(text: str) -> bool:
    """Whether printed words already ask for a signature or a stamp (签名, 单位意见（盖章）)."""
    return any(word in text for word in SIGN_WORDS)


def signed_beside_label(form: Form) -> set[int]:
    """The cells (by ``id``) that are a lone signature or seal field right of a label that
    already ends in 签字/签名/签章/盖章 (表5's "单位经办人（签章）", 表7's "□本人 □被委托人 签名"):
    they are the place to sign and print nothing, where （签字） would say it a second time.
    The paper leaves them empty."""
    bare = set()
    for row in form.rows:
        for before, cell in zip(row.cells, row.cells[1:]):
            last = before.all_segments()[-1:]  # the words just left of the cell
            label = last[0].text if last and last[0].text is not None else ""
            if lone_field(cell) is not None and cell.field.type in ("signature", "seal") and says_sign(label):
                bare.add(id(cell))
    return bare


# A roster row's unfilled cells of these types print nothing: the column heading already
# says 签字 or 参加工作时间, and （签字） or 年 月 日 on every row is noise the paper does not print.
ROSTER_BARE_TYPES = ("signature", "seal", "date")


def prints_nothing(field_: FormField, in_roster: bool, beside_sign_label: bool) -> bool:
    """Whether an unfilled field that is its cell's only content prints nothing at all:
    no hint, no （签字）/（盖章）, no 年 月 日.

    The paper leaves such a cell empty because the person signs, stamps or dates it by hand
    and the words that say so are already printed elsewhere: in a roster the column heading
    (签字, 参加工作时间) says it once for every row, and right of a label that ends in
    签字/签名/签章/盖章 (`signed_beside_label`) the label says it. Printing the furniture
    there would say it a second time. A field with a sample hint (XXXX) still prints its
    sample: that is what the paper shows. Every form writer asks this one question
    (through `bare_cells`), so PDF, Word, Excel and HTML agree."""
    if field_.hint:
        return False
    if beside_sign_label:
        return field_.type in ("signature", "seal")
    return in_roster and field_.type in ROSTER_BARE_TYPES


_BARE: dict[int, tuple[Form, frozenset[int]]] = {}


def bare_cells(form: Form) -> frozenset[int]:
    """The cells (by ``id``) of ``form`` whose field `prints_nothing` when unfilled; a roster's
    repeating cell is one object for every person, so one id covers all its rows.
    Computed once per form (a batch asks per record)."""
    cached = _BARE.get(id(form))
    if cached is None or cached[0] is not form:
        beside = signed_beside_label(form)
        bare = frozenset(id(cell) for row in form.rows for cell in row.cells
                         if lone_field(cell) is not None
                         and prints_nothing(cell.field, bool(row.repeat), id(cell) in beside))
        if len(_BARE) > 64:
            _BARE.clear()
        cached = _BARE[id(form)] = (form, bare)
    return cached[1]


def lone_field(cell: Cell) -> FormField | None:
    """The cell's field when it is the cell's only content (no label, no text around it)."""
    return cell.field if cell.field is not None and cell.text is None and not cell.segments else None
