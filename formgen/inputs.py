"""Reading the spreadsheets clerks fill forms from: CSV or XLSX, every cell as text.

CSV saved by Excel on Chinese Windows is GBK/GB18030; UTF-8 with or without a
BOM is common elsewhere.  The encoding is detected (charset-normalizer) unless
forced.  Every problem is one `InputError` line naming the file and the fix.
"""
from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
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
    """The whole sheet in memory (small inputs, tests); `open_table` streams."""
    source = open_table(path, encoding)
    return Table(source.path, source.header, list(source.rows()))


@dataclass
class TableSource:
    """A CSV or XLSX file read row by row: `rows()` starts again from the top on every call,
    so a batch can validate everything in a first pass and fill in a second without ever
    holding all rows."""

    path: Path
    header: list[str]
    encoding: str | None = None  # CSV: the detected (or forced) text encoding
    dialect: object = None
    skip_bom: bool = False  # CSV: a UTF-8 BOM in front of text in another encoding (GB18030)
    grid: list | None = None  # XLSX: the sheet's rows, read once (see `_read_xlsx`)

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(1-based line or row number, cells padded to the header's width), blank rows skipped."""
        rows = self._csv_rows() if self.encoding else self._xlsx_rows()
        next(rows, None)  # the header
        width = len(self.header)
        for number, row in rows:
            if len(row) > width and any(c.strip() for c in row[width:]):
                raise InputError(f"{self.path}: row {number}: {len(row)} cells but the header has {width}; "
                                 "remove the extra cells or add a column name")
            yield number, (row + [""] * width)[:width]

    def _csv_rows(self) -> Iterator[tuple[int, list[str]]]:
        with _open_text(self.path, self.encoding, self.skip_bom) as handle:
            reader = csv.reader(handle, self.dialect)
            first = True
            try:
                # Row numbers as Excel shows them: one per record, however many lines its cells span.
                for number, row in enumerate(reader, 1):
                    if first and row and row[0].startswith("\ufeff"):
                        row[0] = row[0][1:]
                    first = False
                    if any(cell.strip() for cell in row):
                        yield number, row
            except csv.Error as exc:
                raise InputError(f"{self.path}: line {reader.line_num}: {exc}; check quoting") from None

    def _xlsx_rows(self) -> Iterator[tuple[int, list[str]]]:
        if self.grid is None:
            self.grid = _read_xlsx(self.path)
        yield from self.grid


def open_table(path: Path, encoding: str | None = None) -> TableSource:
    """Check the file and read its header; the rows are read later, as often as needed."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give a .csv or .xlsx file")
    if not _has_content(path):
        raise InputError(f"{path}: file is empty; it needs a header row and one row per record")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        source = TableSource(path, [])
        source.grid = _read_xlsx(path)
        empty = f"{path}: the sheet is empty; it needs a header row and one row per record"
    else:
        chosen, skip_bom = _detect_encoding(path, encoding)
        source = TableSource(path, [], chosen, _sniff(path, chosen, skip_bom), skip_bom)
        empty = f"{path}: file is empty; it needs a header row and one row per record"
    rows = source._csv_rows() if source.encoding else source._xlsx_rows()
    first = next(rows, None)
    if first is None:
        raise InputError(empty)
    source.header = [h.strip() for h in first[1]]
    if next(source.rows(), None) is None:
        raise InputError(f"{path}: only a header row; add one row per record below it")
    return source


CHUNK = 1 << 20


def _has_content(path: Path) -> bool:
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            if chunk.strip():
                return True
    return False


def _open_text(path: Path, encoding: str, skip_bom: bool = False):
    if not skip_bom:
        return open(path, encoding=encoding, newline="")
    raw = open(path, "rb")
    raw.seek(len(codecs.BOM_UTF8))
    return io.TextIOWrapper(raw, encoding=encoding, newline="")


def _decodes(path: Path, encoding: str, skip_bom: bool = False) -> bool:
    """Whether the whole file decodes as ``encoding`` (read in chunks, never all at once)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    with open(path, "rb") as handle:
        if skip_bom:
            handle.seek(len(codecs.BOM_UTF8))
        while chunk := handle.read(CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    return True


def _detect_encoding(path: Path, encoding: str | None) -> tuple[str, bool]:
    """(encoding, whether to skip a UTF-8 BOM before decoding)."""
    with open(path, "rb") as handle:
        head = handle.read(4096)
    # Binary (or BOM-less UTF-16) data is full of NULs; a stray NUL in a text cell is reported
    # by the row checks with its row and column instead.
    if head.count(b"\x00") * 20 > len(head) and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{path}: this is not a text file (binary data); give a .csv or .xlsx file")
    if encoding:
        try:
            _decodes(path, encoding)
            return encoding, False
        except (LookupError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: cannot be read as {encoding} ({exc.__class__.__name__}); "
                             f"{ENCODING_HINT}") from None
    if head.startswith(codecs.BOM_UTF8):
        # UTF-8 with a BOM, or a BOM in front of GB18030 text (a tool's mix-up), never GB18030
        # read from the BOM's bytes on (that would turn the first column's name into 锘縓…).
        for candidate in ("utf-8", "gb18030"):
            try:
                _decodes(path, candidate, skip_bom=True)
                return candidate, True
            except UnicodeDecodeError:
                continue
    for candidate in TRIED_ENCODINGS:
        try:
            _decodes(path, candidate)
            return candidate, False
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_path
    best = from_path(path).best()
    if best is None:
        raise InputError(f"{path}: the text encoding cannot be recognised; {ENCODING_HINT}")
    return best.encoding, False


def _sniff(path: Path, encoding: str, skip_bom: bool = False):
    with _open_text(path, encoding, skip_bom) as handle:
        sample = handle.read(4096)
    try:
        return csv.Sniffer().sniff(sample.lstrip("\ufeff"), delimiters=",\t;")
    except csv.Error:
        return csv.excel


def _read_xlsx(path: Path) -> list[tuple[int, list[str]]]:
    """The first visible sheet, as the clerk sees it: (row number, cells) of its non-blank rows.

    A formula cell gives its saved value, never the formula (a workbook saved by a program
    that does not calculate has none: that is an error naming the cell).  A merged range
    gives its value to every cell it covers (a unit name merged down a roster's rows).
    Merged ranges are only known to openpyxl's full (not read-only) mode, so the sheet is
    read into memory once; CSV input is streamed.
    """
    from openpyxl import load_workbook
    try:
        values = load_workbook(path, data_only=True)
        formulas = load_workbook(path, data_only=False)
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
    return rows


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
