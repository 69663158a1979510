"""Blank and filled forms as files: the library behind `formgen blank` and `fill`.

All validation happens before the first file is written; every file is
written atomically; names built from values stay inside the output folder;
an existing file is never replaced unless the caller asks for it.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from .errors import InputError
from .fill import FillResult, build_records
from .inputs import read_table
from .layout import Record
from .library import ResolvedEdition
from .models import Form
from .output import NAME_BYTES, atomic_path, clip_bytes, safe_child, safe_filename, write_text_atomic
from .writers import form_writer

NAME_FIELD = re.compile(r"\{([^{}]+)\}")


def blank_form(form: Form, edition: ResolvedEdition | None, fmt: str, target: Path,
               overwrite: bool = False) -> Path:
    writer = form_writer(fmt)(form, edition)
    target = Path(target)
    _refuse_overwrite([target], overwrite)
    with atomic_path(target) as tmp:
        writer.write(None, tmp)
    return target


def default_blank_name(form: Form, edition: ResolvedEdition | None, fmt: str) -> str:
    number = edition.form_number(form.id) if edition else None
    title = edition.form_title(form) if edition else form.title
    return safe_filename(f"{number}-{title}" if number else title) + f".{fmt}"


def fill_forms(form: Form, edition: ResolvedEdition | None, data: Path, fmt: str, outdir: Path, *,
               pattern: str | None = None, merge: bool = False, encoding: str | None = None,
               skip_invalid: bool = False, overwrite: bool = False, progress=None) -> tuple[list[Path], FillResult]:
    """Validate the whole input, then write one file per record (or one merged file)."""
    table = read_table(data, encoding)
    outdir = _output_folder(outdir)
    writer = form_writer(fmt)(form, edition)
    # The writer vets what only it knows (a PDF font's missing glyphs, Excel's cell limit).
    result = build_records(form, table, getattr(writer, "value_problem", None))
    if result.errors and not (skip_invalid and result.records and _only_row_errors(result)):
        raise InputError(_summary(data, result))
    targets = _targets(form, edition, result.records, fmt, outdir, pattern, merge)
    report = outdir / "invalid-rows.csv"
    _refuse_input_as_output(data, [*targets, report])
    _refuse_overwrite(targets + ([report] if result.invalid_rows else []), overwrite)
    if merge:
        with atomic_path(targets[0]) as tmp:
            writer.write(result.records, tmp)
    else:
        for done, (record, target) in enumerate(zip(result.records, targets), 1):
            with atomic_path(target) as tmp:
                writer.write([record], tmp)
            if progress:
                progress(done, len(targets))
    if result.invalid_rows:
        write_text_atomic(outdir / "invalid-rows.csv", _report_csv(result))
    return targets, result


def _only_row_errors(result: FillResult) -> bool:
    return all(p.row in result.invalid_rows for p in result.errors)


def _summary(data: Path, result: FillResult) -> str:
    errors = result.errors
    shown = "; ".join(str(p) for p in errors[:5])
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return f"{data}: {shown}{more}. Nothing was written; fix the file (or use --skip-invalid)"


def _targets(form, edition, records: list[Record], fmt, outdir, pattern, merge) -> list[Path]:
    if merge:
        return [safe_child(outdir, default_blank_name(form, edition, fmt).replace(f".{fmt}", f"-合并.{fmt}"))]
    labels = {f.label: f.id for f, _ in form.fields()}
    used: set[str] = set()
    targets = []
    for index, record in enumerate(records, 1):
        stem = _name(pattern, record, labels) if pattern else f"{form.id}-{index:04d}"
        # Room for "-NNN" and the extension, so numbering never clips a name back to its twin.
        stem = clip_bytes(safe_filename(stem, fallback=f"{form.id}-{index:04d}"), NAME_BYTES - 16)
        name, count = safe_filename(f"{stem}.{fmt}"), 1
        # Two records whose names agree after cleaning (or differ only in case, which Windows
        # and macOS ignore) get -2, -3 …, never one file for both.
        while name.casefold() in used:
            count += 1
            name = safe_filename(f"{stem}-{count}.{fmt}")
        used.add(name.casefold())
        targets.append(safe_child(outdir, name))
    return targets


def _output_folder(outdir) -> Path:
    outdir = Path(outdir)
    for folder in (outdir, *outdir.parents):
        if folder.exists() and not folder.is_dir():
            raise InputError(f"output folder {outdir}: {folder} is a file; give a folder with -o")
    return outdir


def _refuse_input_as_output(data: Path, targets: list[Path]) -> None:
    """Never write over the file being read, not even with --overwrite."""
    source = Path(data).resolve()
    if any(Path(t).resolve() == source for t in targets):
        raise InputError(f"{data} is the input file and would be overwritten by an output; "
                         "choose another -o folder or --name")


def _name(pattern: str, record: Record, labels: dict[str, str]) -> str:
    """Fill ``{姓名}-{id_number}`` from the record: plain substitution, never evaluation."""
    values = dict(record.values)
    if record.rows:
        values = {**record.rows[0], **values}

    def value(match):
        key = match.group(1).strip()
        if key in ("n", "序号"):
            return str(record.source_rows[0]) if record.source_rows else ""
        found = values.get(labels.get(key, key))
        if found is None and key not in labels.values() and key not in labels:
            raise InputError(f"--name pattern: '{{{key}}}' is not a field of this form; use a field id or label")
        return "、".join(found) if isinstance(found, list) else str(found or "")
    return NAME_FIELD.sub(value, pattern)


def _refuse_overwrite(targets: list[Path], overwrite: bool) -> None:
    existing = [t for t in targets if Path(t).exists()]
    if existing and not overwrite:
        more = f" and {len(existing) - 1} more" if len(existing) > 1 else ""
        raise InputError(f"{existing[0]}{more} already exists; choose another -o folder or pass --overwrite")


def _report_csv(result: FillResult) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["row", "column", "problem"])
    for row, problems in sorted(result.invalid_rows.items()):
        for p in problems:
            writer.writerow([row, p.column, p.message])
    return "\ufeff" + buffer.getvalue()  # BOM: Excel on Windows opens it as UTF-8
