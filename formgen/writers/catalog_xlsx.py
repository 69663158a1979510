"""The 事项清单 (catalog of service items) as an Excel sheet, with openpyxl.

Laid out as the Henan 2024 list (seed 001) is: a centered title, one header
row with the nine columns (序号, 事项名称, 事项编码, 办理材料, 办理层级,
办理时限, 办理流程, 备注, 设定依据), then per group a heading row (一、… with
the group code in the 事项编码 column) followed by its items, and below the
table the 说明 notes (and the level legend when the notes do not already
give it).

What each cell says is decided by `catalog_table` (no openpyxl there); the
sheet adds the look: frozen header, wrapped text, column widths in the
seed's proportions, row heights that show every line, A4 landscape fitted to
the page width with the header row repeated and "- N -" page numbers.  Every
value is stored as text, never as a formula or a number.

Editions of other styles get the same sheet for their items; columns that no
item of the edition fills (Yunnan has no 办理层级, for example) are left out.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from ..library import ResolvedEdition
from ..models import Item, LegalBasis, Material, Note
from ..numbering import circled
from .xlsx import PAPER_SIZE, lines_needed, print_page, put_text

COLUMNS = ["序号", "事项名称", "事项编码", "办理材料", "办理层级", "办理时限", "办理流程", "备注", "设定依据"]
ALWAYS = {"序号", "事项名称"}
# Column widths in Excel units, in the proportions of the printed list.
WIDTHS = {"序号": 5, "事项名称": 15, "事项编码": 14.5, "办理材料": 32, "办理层级": 8.5,
          "办理时限": 11, "办理流程": 12, "备注": 30, "设定依据": 32}
CENTERED = {"序号", "事项编码", "办理层级", "办理时限", "办理流程"}

BODY_FONT_NAME = "宋体"
HEAD_FONT_NAME = "黑体"
BODY_SIZE = 10
TITLE_SIZE = 18
LINE_POINTS = 13.5  # one wrapped line of 10-pt 宋体
PADDING_POINTS = 6
TITLE_ROW_POINTS = 40
HEADER_ROW_POINTS = 24
FOOTER_PAGE_NUMBER = "- &P -"
SHEET_TITLE = "事项清单"

THIN = Side(style="thin")
GRID = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
GROUP_FILL = PatternFill("solid", fgColor="F2F2F2")


# --------------------------------------------------------------------------
# What the catalog says (format-neutral)
# --------------------------------------------------------------------------
@dataclass
class CatalogRow:
    kind: str  # "group" or "item"
    cells: dict[str, str]  # column name → text ("\n" between lines)


@dataclass
class Catalog:
    title: str
    subtitle: str | None
    columns: list[str]
    rows: list[CatalogRow] = field(default_factory=list)
    notes_title: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def item_count(self) -> int:
        return sum(1 for r in self.rows if r.kind == "item")


def catalog_table(resolved: ResolvedEdition) -> Catalog:
    """The edition's items as catalog rows, with group headings and closing notes."""
    edition = resolved.edition
    groups = {g.id: g for g in edition.groups}
    rows: list[CatalogRow] = []
    current = None
    for item in resolved.items:
        group = groups.get(item.group)
        if group and group.id != current:
            rows.append(CatalogRow("group", {"事项名称": f"{group.number}、{group.name}" if group.number
                                             else group.name, "事项编码": group.code or ""}))
        current = group.id if group else None
        rows.append(CatalogRow("item", item_cells(item)))
    rows = [_filled(resolved, r) for r in rows]
    used = [c for c in COLUMNS if c in ALWAYS or any(r.cells.get(c) for r in rows if r.kind == "item")]
    notes = [resolved.fill(t) for t in numbered_notes(edition.closing_notes)]
    legend = level_legend(resolved) if "办理层级" in used else None
    if legend and not any("办理层级" in n for n in notes):
        notes.insert(0, legend)
    subtitle = None if edition.style == "catalog" else SHEET_TITLE
    return Catalog(resolved.fill(edition.title), subtitle, used, rows,
                   "说明：" if notes else None, notes)


def item_cells(item: Item) -> dict[str, str]:
    materials_title = item.materials_title or "办理材料"
    material_sections = [s for s in item.sections if s.title in (materials_title, "办理材料")]
    other_sections = [s for s in item.sections if s not in material_sections]
    return {
        "序号": item.number or "",
        "事项名称": item.name,
        "事项编码": item.code or "",
        "办理材料": "\n".join(materials_text(item.materials)
                          + [p for s in material_sections for p in s.paragraphs]),
        "办理层级": "".join(item.levels),
        "办理时限": item.time_limit.text if item.time_limit else "",
        "办理流程": "\n".join(item.procedure),
        "备注": "\n".join(numbered_notes(item.notes) + sections_text(other_sections)),
        "设定依据": "\n".join(basis_text(item.basis)),
    }


def materials_text(materials: list[Material], depth: int = 0) -> list[str]:
    """Numbered material lines (the seed's own enumerators kept), each with its notes.

    Numbering follows `flows.material_lines`; a situation heading with
    sub-materials reads "1.在职职工：" and its entries follow, indented.
    """
    lines = []
    for number, material in enumerate(materials, 1):
        label = material.label or (f"{number}." if len(materials) > 1 or depth else "")
        heading = material.items and not material.name.endswith(("：", ":"))
        lines.append("\u3000" * depth + label + material.name + ("：" if heading else "")
                     + "".join(material.notes))
        lines.extend(materials_text(material.items, depth + 1))
    return lines


def numbered_notes(notes: list[Note]) -> list[str]:
    """1.text ①sub ②sub …, numbered only when there are several, as the list prints them."""
    lines = []
    for index, note in enumerate(notes, 1):
        label = note.label or (f"{index}." if len(notes) > 1 else "")
        lines.append(label + note.text)
        lines += [circled(n) + sub for n, sub in enumerate(note.items, 1)]
    return lines


def sections_text(sections) -> list[str]:
    lines = []
    for section in sections:
        lines.append(f"{section.title}：")
        lines += section.paragraphs
        lines += numbered_notes(section.notes)
    return lines


def basis_text(basis: list[LegalBasis]) -> list[str]:
    """1.document articles； … last。 — one legal document per line, as the list prints them."""
    lines = []
    for index, entry in enumerate(basis, 1):
        label = f"{index}." if len(basis) > 1 else ""
        end = "。" if index == len(basis) else "；"
        text = entry.text
        lines.append(label + text + ("" if text.endswith(("。", "；")) else end))
    return lines


def level_legend(resolved: ResolvedEdition) -> str | None:
    legend = resolved.edition.level_legend
    if not legend:
        return None
    return "办理层级：" + "，".join(f"{k}代表{v}" for k, v in legend.items()) + "。"


def _filled(resolved: ResolvedEdition, row: CatalogRow) -> CatalogRow:
    return CatalogRow(row.kind, {k: resolved.fill(v) or "" for k, v in row.cells.items()})


# --------------------------------------------------------------------------
# How it looks
# --------------------------------------------------------------------------
class CatalogWriter:
    """Writes `catalog_table(resolved)` as one A4-landscape worksheet."""

    extension = ".xlsx"

    def write(self, resolved: ResolvedEdition, target: Path) -> Catalog:
        catalog = catalog_table(resolved)
        book = Workbook()
        draw_catalog(book.active, catalog)
        book.properties.title = catalog.title
        book.properties.creator = "formgen"
        book.save(target)
        return catalog


def draw_catalog(sheet, catalog: Catalog) -> None:
    """Title, header, group and item rows, notes, print setup: the whole sheet."""
    sheet.title = SHEET_TITLE
    columns = catalog.columns
    for index, name in enumerate(columns, 1):
        sheet.column_dimensions[get_column_letter(index)].width = WIDTHS[name]
    row = draw_title(sheet, catalog, 1)
    header_row = row
    draw_header(sheet, columns, header_row)
    row += 1
    for entry in catalog.rows:
        (draw_group if entry.kind == "group" else draw_item)(sheet, columns, entry, row)
        row += 1
    row = draw_notes(sheet, catalog, row + 1)
    set_print_setup(sheet, columns, header_row, row - 1)
    sheet.freeze_panes = sheet.cell(header_row + 1, 1)


def draw_title(sheet, catalog: Catalog, row: int) -> int:
    last = get_column_letter(len(catalog.columns))
    for text, size, height in [(catalog.title, TITLE_SIZE, TITLE_ROW_POINTS),
                               (catalog.subtitle, BODY_SIZE + 2, 22)]:
        if not text:
            continue
        sheet.merge_cells(f"A{row}:{last}{row}")
        cell = put_text(sheet, row, 1, text)
        cell.font = Font(name=HEAD_FONT_NAME, size=size, bold=size == TITLE_SIZE)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet.row_dimensions[row].height = height
        row += 1
    return row


def draw_header(sheet, columns: list[str], row: int) -> None:
    for index, name in enumerate(columns, 1):
        cell = put_text(sheet, row, index, name)
        cell.font = Font(name=HEAD_FONT_NAME, size=BODY_SIZE + 1, bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = GRID
    lines = max(lines_needed(name, WIDTHS[name], BODY_SIZE + 1) for name in columns)
    sheet.row_dimensions[row].height = max(HEADER_ROW_POINTS, lines * (LINE_POINTS + 1) + PADDING_POINTS)


def draw_group(sheet, columns: list[str], entry: CatalogRow, row: int) -> None:
    """一、组名 across 序号 and 事项名称, the group code under 事项编码, the rest merged empty."""
    font = Font(name=HEAD_FONT_NAME, size=BODY_SIZE + 1, bold=True)
    for index in range(1, len(columns) + 1):
        cell = sheet.cell(row, index)
        cell.border = GRID
        cell.fill = GROUP_FILL
    code_col = columns.index("事项编码") + 1 if "事项编码" in columns else None
    end = len(columns) if code_col is None else code_col - 1
    spans = [(1, end, entry.cells.get("事项名称", ""), "left")]
    if code_col:
        spans.append((code_col, code_col, entry.cells.get("事项编码", ""), "center"))
        if code_col < len(columns):
            spans.append((code_col + 1, len(columns), "", "left"))
    height = 0
    for first, last, text, align in spans:
        if last > first:
            sheet.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)
        cell = put_text(sheet, row, first, text)
        cell.font = font
        cell.alignment = Alignment(horizontal=align, vertical="center", wrap_text=True)
        width = sum(WIDTHS[columns[i - 1]] for i in range(first, last + 1))
        height = max(height, lines_needed(text, width, BODY_SIZE + 1) if text else 1)
    sheet.row_dimensions[row].height = max(22, height * (LINE_POINTS + 1) + PADDING_POINTS)


def draw_item(sheet, columns: list[str], entry: CatalogRow, row: int) -> None:
    font = Font(name=BODY_FONT_NAME, size=BODY_SIZE)
    lines = 1
    for index, name in enumerate(columns, 1):
        text = entry.cells.get(name, "")
        cell = put_text(sheet, row, index, text)
        cell.font = font
        cell.border = GRID
        centered = name in CENTERED and "\n" not in text and len(text) <= 14
        cell.alignment = Alignment(horizontal="center" if centered else "left", vertical="center",
                                   wrap_text=True)
        if text:
            lines = max(lines, lines_needed(text, WIDTHS[name], BODY_SIZE))
    sheet.row_dimensions[row].height = lines * LINE_POINTS + PADDING_POINTS


def draw_notes(sheet, catalog: Catalog, row: int) -> int:
    """说明： and its numbered points below the table, one merged row each."""
    if not catalog.notes:
        return row
    last = get_column_letter(len(catalog.columns))
    width = sum(WIDTHS[c] for c in catalog.columns)
    for text, bold in [(catalog.notes_title, True), *[(n, False) for n in catalog.notes]]:
        sheet.merge_cells(f"A{row}:{last}{row}")
        cell = put_text(sheet, row, 1, text)
        cell.font = Font(name=HEAD_FONT_NAME if bold else BODY_FONT_NAME, size=BODY_SIZE + 1, bold=bold)
        cell.alignment = Alignment(horizontal="left", vertical="center", wrap_text=True)
        sheet.row_dimensions[row].height = lines_needed(text, width, BODY_SIZE + 1) * (LINE_POINTS + 1) + 4
        row += 1
    return row


def set_print_setup(sheet, columns: list[str], header_row: int, last_row: int) -> None:
    print_page(sheet, PAPER_SIZE["A4"], "landscape", one_page=False,  # as many pages as the list needs
               area=f"A1:{get_column_letter(len(columns))}{last_row}", title_rows=f"{header_row}:{header_row}",
               side_margin=0.4, bottom_margin=0.7)


def write_catalog(resolved: ResolvedEdition, target: Path) -> Catalog:
    """Write the catalog sheet of ``resolved`` to ``target`` (the caller makes it atomic)."""
    return CatalogWriter().write(resolved, Path(target))
