"""Reading the spreadsheets clerks fill forms from: CSV or XLSX, every cell as text.

CSV saved by Excel on Chinese Windows is GBK/GB18030; UTF-8 with or without a
BOM is common elsewhere.  The encoding is detected (charset-normalizer) unless
forced.  Every problem is one `InputError` line naming the file and the fix.
"""
from __future__ import annotations

import codecs
import csv
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
    rows: list[tuple[int, list[str]]]  # (1-based line/row number in the file, cells)


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

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(1-based line or row number, cells padded to the header's width), blank rows skipped."""
        rows = self._csv_rows() if self.encoding else self._xlsx_rows()
        next(rows, None)  # the header
        width = len(self.header)
        for number, row in rows:
            if len(row) > width and any(c.strip() for c in row[width:]):
                raise InputError(f"{self.path}: line {number}: {len(row)} cells but the header has {width}; "
                                 "remove the extra cells or add a column name")
            yield number, (row + [""] * width)[:width]

    def _csv_rows(self) -> Iterator[tuple[int, list[str]]]:
        with open(self.path, encoding=self.encoding, newline="") as handle:
            reader = csv.reader(handle, self.dialect)
            first = True
            try:
                for row in reader:
                    if first and row and row[0].startswith("\ufeff"):
                        row[0] = row[0][1:]
                    first = False
                    if any(cell.strip() for cell in row):
                        yield reader.line_num, row
            except csv.Error as exc:
                raise InputError(f"{self.path}: line {reader.line_num}: {exc}; check quoting") from None

    def _xlsx_rows(self) -> Iterator[tuple[int, list[str]]]:
        workbook = _open_workbook(self.path)
        try:
            for i, values in enumerate(workbook.worksheets[0].iter_rows(values_only=True), 1):
                row = [_cell_text(v) for v in values]
                if any(c.strip() for c in row):
                    yield i, row
        finally:
            workbook.close()


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
        empty = f"{path}: the first sheet is empty; it needs a header row and one row per record"
    else:
        chosen = _detect_encoding(path, encoding)
        source = TableSource(path, [], chosen, _sniff(path, chosen))
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


def _decodes(path: Path, encoding: str) -> bool:
    """Whether the whole file decodes as ``encoding`` (read in chunks, never all at once)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    return True


def _detect_encoding(path: Path, encoding: str | None) -> str:
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{path}: this is not a text file (binary data); give a .csv or .xlsx file")
    if encoding:
        try:
            _decodes(path, encoding)
            return encoding
        except (LookupError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: cannot be read as {encoding} ({exc.__class__.__name__}); "
                             f"{ENCODING_HINT}") from None
    for candidate in TRIED_ENCODINGS:
        try:
            _decodes(path, candidate)
            return candidate
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_path
    best = from_path(path).best()
    if best is None:
        raise InputError(f"{path}: the text encoding cannot be recognised; {ENCODING_HINT}")
    return best.encoding


def _sniff(path: Path, encoding: str):
    with open(path, encoding=encoding, newline="") as handle:
        sample = handle.read(4096)
    try:
        return csv.Sniffer().sniff(sample.lstrip("\ufeff"), delimiters=",\t;")
    except csv.Error:
        return csv.excel


def _open_workbook(path: Path):
    from openpyxl import load_workbook
    try:
        return load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged file
        raise InputError(f"{path}: not a readable .xlsx workbook; open it in Excel and save it again") from None


def _cell_text(value) -> str:
    """A cell as the clerk typed it: whole numbers without '.0', dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d")
    return str(value)
