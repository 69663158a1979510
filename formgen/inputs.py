"""Reading the spreadsheets clerks fill forms from: CSV or XLSX, every cell as text.

CSV saved by Excel on Chinese Windows is GBK/GB18030; UTF-8 with or without a
BOM is common elsewhere.  The encoding is detected (charset-normalizer) unless
forced.  Every problem is one `InputError` line naming the file and the fix.
"""
from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

ENCODING_HINT = "save it as CSV UTF-8 from Excel, or pass --encoding gb18030"
TRIED_ENCODINGS = ("utf-8-sig", "gb18030")


@dataclass
class Table:
    """A sheet of text cells: the header, then rows with their line numbers."""

    path: Path
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (1-based row number as a spreadsheet shows it, cells)


def read_table(path: Path, encoding: str | None = None) -> Table:
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give a .csv or .xlsx file")
    data = path.read_bytes()
    if not data.strip():
        raise InputError(f"{path}: file is empty; it needs a header row and one row per record")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        table = _read_xlsx(path, data)
    else:
        table = _read_csv(path, data, encoding)
    if not table.rows:
        raise InputError(f"{path}: only a header row; add one row per record below it")
    return table


def _decode(path: Path, data: bytes, encoding: str | None) -> str:
    head = data[:4096]
    # Binary (or BOM-less UTF-16) data is full of NULs; a stray NUL in a text cell is reported
    # by the row checks with its row and column instead.
    if head.count(b"\x00") * 20 > len(head) and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{path}: this is not a text file (binary data); give a .csv or .xlsx file")
    if encoding:
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: cannot be read as {encoding} ({exc.__class__.__name__}); "
                             f"{ENCODING_HINT}") from None
    if data.startswith(codecs.BOM_UTF8):
        # UTF-8 with a BOM, or a BOM in front of GB18030 text (a tool's mix-up), never GB18030
        # read from the BOM's bytes on (that would turn the first column's name into 锘縓…).
        for candidate in ("utf-8", "gb18030"):
            try:
                return data[len(codecs.BOM_UTF8):].decode(candidate)
            except UnicodeDecodeError:
                continue
    for candidate in TRIED_ENCODINGS:
        try:
            return data.decode(candidate)
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes
    best = from_bytes(data).best()
    if best is None:
        raise InputError(f"{path}: the text encoding cannot be recognised; {ENCODING_HINT}")
    return str(best)


def _read_csv(path: Path, data: bytes, encoding: str | None) -> Table:
    text = _decode(path, data, encoding)
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        # Row numbers as Excel shows them: one per record, however many lines its cells span.
        lines = list(enumerate(reader, 1))
    except csv.Error as exc:
        raise InputError(f"{path}: line {reader.line_num}: {exc}; check quoting") from None
    lines = [(n, row) for n, row in lines if any(cell.strip() for cell in row)]
    if not lines:
        raise InputError(f"{path}: file is empty; it needs a header row and one row per record")
    (_, header), rows = lines[0], lines[1:]
    header = [h.strip() for h in header]
    for number, row in rows:
        if len(row) > len(header) and any(c.strip() for c in row[len(header):]):
            raise InputError(f"{path}: row {number}: {len(row)} cells but the header has {len(header)}; "
                             "remove the extra cells or add a column name")
    return Table(path, header, [(n, (row + [""] * len(header))[:len(header)]) for n, row in rows])


def _read_xlsx(path: Path, data: bytes) -> Table:
    """The first visible sheet, as the clerk sees it.

    A formula cell gives its saved value, never the formula (a workbook saved by a program
    that does not calculate has none: that is an error naming the cell).  A merged range
    gives its value to every cell it covers (a unit name merged down a roster's rows).
    """
    from openpyxl import load_workbook
    try:
        values = load_workbook(io.BytesIO(data), data_only=True)
        formulas = load_workbook(io.BytesIO(data), data_only=False)
    except Exception:  # openpyxl raises many kinds for a damaged file
        raise InputError(f"{path}: not a readable .xlsx workbook; open it in Excel and save it again") from None
    index = next((i for i, s in enumerate(values.worksheets) if s.sheet_state == "visible"), None)
    if index is None:
        raise InputError(f"{path}: every sheet is hidden; unhide the sheet with the records")
    sheet, source = values.worksheets[index], formulas.worksheets[index]
    grid = [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    _check_formulas(path, sheet, source)
    _spread_merged(grid, sheet)
    rows = [(i, r) for i, r in enumerate(grid, 1) if any(c.strip() for c in r)]
    if not rows:
        raise InputError(f"{path}: the sheet '{sheet.title}' is empty; it needs a header row and one row per record")
    (_, header), body = rows[0], rows[1:]
    width = len(header)
    return Table(path, [h.strip() for h in header], [(i, (r + [""] * width)[:width]) for i, r in body])


def _check_formulas(path: Path, sheet, source) -> None:
    """A formula must come with the value Excel saved for it, and that value must not be an error."""
    for row in source.iter_rows():
        for cell in row:
            if cell.data_type != "f":
                continue
            saved = sheet[cell.coordinate]
            if saved.value is None:
                raise InputError(f"{path}: cell {cell.coordinate} holds the formula {str(cell.value)[:40]} but no "
                                 "saved value; open the file in Excel or WPS and save it, or paste the values")
            if saved.data_type == "e":
                raise InputError(f"{path}: cell {cell.coordinate} shows the Excel error {saved.value} (formula "
                                 f"{str(cell.value)[:40]}); correct the formula or type the value")


def _spread_merged(grid: list[list[str]], sheet) -> None:
    for merged in sheet.merged_cells.ranges:
        top = merged.min_row - 1
        if top >= len(grid) or merged.min_col - 1 >= len(grid[top]):
            continue
        value = grid[top][merged.min_col - 1]
        for r in range(merged.min_row - 1, min(merged.max_row, len(grid))):
            for c in range(merged.min_col - 1, min(merged.max_col, len(grid[r]))):
                grid[r][c] = value


def _cell_text(value) -> str:
    """A cell as the clerk typed it: whole numbers without '.0', dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d")
    return str(value)
