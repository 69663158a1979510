"""From a table of text cells to validated `Record`s for one form.

Columns match fields by id or by the form's Chinese label.  Every row is
checked before anything is written; each problem reads
``row N, column X: what is wrong — how to fix it``.  Values stay data: they
are never evaluated, only checked and normalised.

Choice cells take an option's text; several options of a multi-choice are
joined by any of ``、 , ， ; ； |``.  A single box (checkbox) takes
是/否, √/✓/☑, 1/0, Y/N, true/false, or empty.

Control characters (other than tab and line breaks) and half characters left by a
wrong decoding are refused with the row and column, never silently stripped: the
clerk fixes the spreadsheet and no value changes behind their back.  Text that
looks like a formula (=1+1) or a template ({{ 7*7 }}) is ordinary text.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from .inputs import Table
from .layout import Record
from .models import Form, FormField

MULTI_SEPARATORS = re.compile(r"[、,，;；|]")
TRUE_WORDS = {"是", "√", "✓", "✔", "☑", "1", "y", "yes", "true", "x", "对", "有"}
FALSE_WORDS = {"否", "", "0", "n", "no", "false", "无", "☐", "□"}
PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?|\d{7,8}|400-?\d{3}-?\d{4})$")
DATE_FORMS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
EXCEL_MANGLED = re.compile(r"^\d(\.\d+)?[eE]\+\d+$")
# Refused in any value: C0 controls but tab and line breaks, DEL, C1 controls, lone
# surrogates (bytes decoded with the wrong encoding), and the non-characters U+FFFE/U+FFFF.
# Tabs and line breaks are kept (\r\n and \r become \n).
UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


@dataclass
class Problem:
    row: int
    column: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.message}"


@dataclass
class FillResult:
    records: list[Record]
    problems: list[Problem] = field(default_factory=list)
    invalid_rows: dict[int, list[Problem]] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def map_columns(form: Form, header: list[str]) -> tuple[dict[int, FormField], list[Problem]]:
    """Column index → field, by id or label; unknown and duplicate columns are problems."""
    by_key: dict[str, FormField] = {}
    for field_, _ in form.fields():
        by_key.setdefault(field_.id, field_)
        by_key.setdefault(field_.label, field_)
        by_key.setdefault(re.sub(r"\s+", "", field_.label), field_)
    mapping, problems, seen = {}, [], {}
    for index, name in enumerate(header):
        key = re.sub(r"\s+", "", name)
        if not key:
            continue
        found = by_key.get(name) or by_key.get(key)
        if found is None:
            known = "、".join(f.label for f, _ in form.fields()[:8])
            problems.append(Problem(1, name, f"unknown column for {form.title}; use a field id or label "
                                             f"(e.g. {known}…; `formgen forms` lists them all)"))
        elif found.id in seen:
            problems.append(Problem(1, name, f"same field as column '{seen[found.id]}'; keep one of them"))
        else:
            mapping[index] = found
            seen[found.id] = name
    return mapping, problems


def build_records(form: Form, table: Table, value_problem=None) -> FillResult:
    """Validate every row, then group rows into records (a roster: rows of one unit).

    ``value_problem(field, text)`` is the output writer's own check of a value (a PDF
    font's missing glyphs, a value too long to print); a message it returns is an error.
    """
    check = RowCheck(form, table.header, value_problem)
    check.check_unnamed_columns(table_rows(table))
    result = FillResult([], list(check.problems))
    if check.fatal:
        return result
    result.records = list(check.records(table_rows(table), result))
    return result


def table_rows(table):
    """The rows of a `Table` (a list) or of a streamed `TableSource` (read again on each call)."""
    return table.rows() if callable(table.rows) else table.rows


class RowCheck:
    """Checks and normalises rows of one input against one form, a row at a time.

    ``records(rows, result)`` yields the records as they complete (a roster's record when
    its unit changes) and adds every problem to ``result``; invalid rows are left out.
    Nothing but the record being built is kept, so a batch can stream any number of rows.
    """

    def __init__(self, form: Form, header: list[str], value_problem=None):
        self.form = form
        self.header = header
        self.value_problem = value_problem
        self.mapping, self.problems = map_columns(form, header)
        self.fields = form.fields()
        self.repeating = {f.id for f, repeats in self.fields if repeats}
        self.present = {f.id for f in self.mapping.values()}
        for field_, _ in self.fields:
            if field_.required and field_.id not in self.present:
                self.problems.append(Problem(1, field_.label,
                                             f"required column is missing; add a column '{field_.label}'"))

    def check_unnamed_columns(self, rows) -> None:
        """A value under a column with no name would be dropped without a word: refuse it.
        (Reads the rows only when the header has an unnamed column.)"""
        self.problems += _unnamed_columns_with_values(self.header, rows)

    @property
    def fatal(self) -> bool:
        return any(p.severity == "error" for p in self.problems)

    def row(self, number: int, cells: list[str], trusted: bool = False) -> tuple[dict, list[Problem]]:
        """A row's values and problems.  ``trusted``: the row passed these checks before (the
        first pass), so the costly checks that can only find errors are not run again."""
        values, row_problems = {}, []
        for index, field_ in self.mapping.items():
            value, problem = normalise(field_, cells[index], trusted)
            if problem is None and self.value_problem is not None and not trusted:
                problem = _writer_problem(field_, value, self.value_problem)
            if problem:
                row_problems.append(Problem(number, self.header[index], problem[1], problem[0]))
            values[field_.id] = value
        for field_, _ in self.fields:
            if field_.required and field_.id in self.present and values.get(field_.id) in ("", None):
                row_problems.append(Problem(number, field_.label, "required value is empty"))
        return values, row_problems

    def records(self, rows, result: FillResult, checked: FillResult | None = None):
        """The records of ``rows``; ``checked``: the result of a pass over the same rows, whose
        invalid rows are skipped and whose valid rows are not checked again for errors."""
        current: Record | None = None
        for number, cells in rows:
            if checked is not None and number in checked.invalid_rows:
                continue
            values, row_problems = self.row(number, cells, trusted=checked is not None)
            result.problems.extend(row_problems)
            if any(p.severity == "error" for p in row_problems):
                result.invalid_rows[number] = row_problems
                continue
            if not self.form.repeat_row():
                yield Record(values=values, source_rows=[number])
                continue
            unit = {k: v for k, v in values.items() if k not in self.repeating}
            person = {k: v for k, v in values.items() if k in self.repeating}
            if current is None or current.values != unit:  # a new unit starts a new roster
                if current is not None:
                    yield current
                current = Record(values=unit)
            current.rows.append(person)
            current.source_rows.append(number)
        if current is not None:
            yield current


def _unnamed_columns_with_values(header: list[str], rows) -> list[Problem]:
    unnamed = [index for index, name in enumerate(header) if not name.strip()]
    if not unnamed:
        return []
    first_row: dict[int, int] = {}
    for number, cells in rows:
        for index in unnamed:
            if index not in first_row and cells[index].strip():
                first_row[index] = number
        if len(first_row) == len(unnamed):
            break
    problems = []
    for index in unnamed:
        row = first_row.get(index)
        if row is not None:
            problems.append(Problem(row, f"#{index + 1}", "this column has values but no name in the header "
                                                       "row; give it a field id or label, or delete it"))
    return problems


def _writer_problem(field_: FormField, value, value_problem) -> tuple[str, str] | None:
    texts = value if isinstance(value, list) else [value]
    for text in texts:
        if isinstance(text, str) and text:
            message = value_problem(field_, text)
            if message:
                return ("error", message)
    return None


def control_character(text: str) -> str | None:
    """Why ``text`` cannot go into a form, if it holds a control character or half a character."""
    found = UNPRINTABLE.search(text)
    if found is None:
        return None
    char = found.group()
    where = f"U+{ord(char):04X} at character {found.start() + 1}"
    if "\ud800" <= char <= "\udfff":
        return (f"contains half a character ({where}): the file was read with the wrong encoding; "
                "save it as CSV UTF-8, or pass --encoding gb18030")
    return (f"contains the control character {where}, which no form can print; delete it "
            "(it comes from copying out of another program)")


def normalise(field_: FormField, raw: str, trusted: bool = False) -> tuple[object, tuple[str, str] | None]:
    """(value, None) or (value, (severity, message)) for one cell.  ``trusted``: the cell
    passed before, so the ID number's checks (errors only, the costliest) are skipped."""
    bad = control_character(raw)
    if bad:
        return raw, ("error", bad)
    text = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
    if field_.type == "checkbox":
        return _checkbox(text)
    if field_.type == "choice":
        return _choice(field_, text)
    if field_.type == "multi_choice":
        return _multi(field_, text)
    if not text:
        return "", None
    problem = None if trusted and field_.type == "id_number" else _check_text(field_, text)
    if problem:
        return text, problem
    if field_.max_length and len(text) > field_.max_length:
        return text, ("error", f"'{text}' has {len(text)} characters, more than the box holds "
                               f"({field_.max_length}); shorten it")
    if field_.type == "date":
        return _date(text), None
    if field_.type in ("id_number", "credit_code"):
        return text.upper(), None
    return text, None


def _check_text(field_: FormField, text: str) -> tuple[str, str] | None:
    if field_.type == "id_number":
        return _id_number(text)
    if field_.type == "credit_code":
        from stdnum.cn import uscc
        if not uscc.is_valid(text):
            return ("warning", f"'{text}' fails the GB 32100 check character; check it (some real codes do)")
    if field_.type == "phone" and not PHONE.match(text.replace(" ", "")):
        return ("error", f"'{text}' is not a phone number (11-digit mobile, or area code-number such as 0377-63111116)")
    if field_.type == "date" and _date(text) is None:
        return ("error", f"'{text}' is not a date; write it as 2024-03-01 or 2024年3月1日")
    if field_.type == "number" and not re.match(r"^-?\d+(\.\d+)?$", text.replace(",", "")):
        return ("error", f"'{text}' is not a number")
    return None


def _id_number(text: str) -> tuple[str, str] | None:
    from stdnum import exceptions
    from stdnum.cn import ric
    if EXCEL_MANGLED.match(text):
        return ("error", f"'{text}' was turned into a number by Excel; format the column as Text and type the "
                         "ID numbers again (or save the file from WPS/Excel with the column as text)")
    try:
        _validate_ric(text)
    except exceptions.InvalidChecksum:
        return ("error", f"'{text}' has a wrong check digit (GB 11643); check the last character")
    except exceptions.InvalidComponent:
        return ("error", f"'{text}' has an impossible birth date or region code; check the number")
    except exceptions.ValidationError:
        return ("error", f"'{text}' is not an 18-character resident ID number")
    return None


def _validate_ric(text: str) -> None:
    """``stdnum.cn.ric.validate`` with the region lookup cached per region code.

    stdnum scans its table of 7,000 region codes on every call (milliseconds); a batch of
    100,000 rows, checked in two passes, would spend minutes there.  Same checks, same
    exceptions, in the same order.
    """
    import datetime
    from stdnum import exceptions
    from stdnum.cn import ric
    number = ric.compact(text)
    if len(number) != 18:
        raise exceptions.InvalidLength()
    if not number[:-1].isdigit() or not number[:-1].isascii():
        raise exceptions.InvalidFormat()
    if number[-1] != ric.calc_check_digit(number):
        raise exceptions.InvalidChecksum()
    try:  # ric.get_birth_date, without compacting the number again
        year = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14])).year
    except ValueError:
        raise exceptions.InvalidComponent() from None
    counties = _region_counties(number[:6])
    if counties is None:
        raise exceptions.InvalidComponent()
    for county in counties.split(","):  # as ric.get_birth_place: one name valid in the birth year
        if not county.startswith("["):
            return
        start, end = county[1:].split("]")[0].split("-")
        if (not start or year >= int(start)) and (not end or year <= int(end)):
            return
    raise exceptions.InvalidComponent()


@functools.lru_cache(maxsize=8192)
def _region_counties(code: str) -> str | None:
    index = _region_index()
    if index is not None and len(code) == 6 and code.isdigit():
        province = index.get(code[:2])
        if province is None:
            return None
        own, counties = province
        return counties.get(code[2:], own)
    from stdnum import numdb
    info = {k: v for _, props in numdb.get("cn/loc").info(code) for k, v in props.items()}
    return info.get("county") if info else None


REGIONS_FORMAT = "1"  # the shape of `_region_index`'s cache entry


@functools.lru_cache(maxsize=1)
def _region_index() -> dict | None:
    """stdnum's table of regions as province code -> (its county name, county code -> county
    name), or None when the table is not the plain two-level shape this assumes (then
    stdnum's lookup is used).

    ``numdb.info`` scans a province's few hundred counties on every call; a batch checks
    thousands of ID numbers from as many regions.  Reading stdnum's table at all takes a
    tenth of a second, so the index is cached (keyed by the table file's path, size and
    mtime, like the font cache) and read back in milliseconds by the next command.
    """
    import stdnum
    from .yamlio import file_cache_entry, load_pickle, store_pickle
    source = Path(stdnum.__file__).parent / "cn" / "loc.dat"
    try:
        entry = file_cache_entry("regions", source, REGIONS_FORMAT, stdnum.__version__)
    except OSError:  # stdnum keeps its table elsewhere: no cache
        entry = None
    index = load_pickle(entry)
    if isinstance(index, tuple) and len(index) == 1:  # (index,): a stored None is a valid answer
        return index[0]
    index = _build_region_index()
    if entry is not None:
        store_pickle(entry, (index,))
    return index


def _build_region_index() -> dict | None:
    """Entries of one code are merged in order, as ``numdb`` merges them; a county without a
    name of its own takes its province's, as ``numdb.info``'s merged properties do."""
    from stdnum import numdb
    index: dict[str, tuple[str | None, dict[str, str | None]]] = {}
    merged: dict[str, tuple[dict, dict[str, dict]]] = {}
    for length, low, high, props, children in numdb.get("cn/loc").prefixes:
        if length != 2 or low != high or low in merged:
            return None
        counties = merged.setdefault(low, (props, {}))[1]
        for c_length, c_low, c_high, c_props, c_children in children:
            if c_length != 4 or c_low != c_high or c_children:
                return None
            counties.setdefault(c_low, {}).update(c_props)
    for low, (own, counties) in merged.items():
        index[low] = (own.get("county"), {code: {**own, **props}.get("county") for code, props in counties.items()})
    return index


def _date(text: str) -> str | None:
    import datetime
    for pattern in DATE_FORMS:
        match = pattern.match(text)
        if match:
            year, month, day = map(int, match.groups())
            try:
                datetime.date(year, month, day)
            except ValueError:
                return None
            return f"{year}年{month}月{day}日"
    return None


def _checkbox(text: str):
    lowered = text.lower()
    if lowered in TRUE_WORDS:
        return True, None
    if lowered in FALSE_WORDS:
        return False, None
    return False, ("error", f"'{text}' is not a tick; use 是 or 否 (√ and empty also work)")


def _choice(field_: FormField, text: str):
    if not text:
        return "", None
    if text in field_.options:
        return text, None
    if len(field_.options) == 1 and text.lower() in TRUE_WORDS:
        return field_.options[0], None
    return "", ("error", f"'{text}' is not one of: {'、'.join(field_.options)}")


def _multi(field_: FormField, text: str):
    chosen = [part.strip() for part in MULTI_SEPARATORS.split(text) if part.strip()]
    unknown = [c for c in chosen if c not in field_.options]
    if unknown:
        return [], ("error", f"'{'、'.join(unknown)}' not among: {'、'.join(field_.options)} "
                             "(separate several with 、)")
    return [o for o in field_.options if o in chosen], None
