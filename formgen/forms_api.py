"""Blank and filled forms as files: the library behind `formgen blank` and `fill`.

All validation happens before the first file is written; every file is
written atomically; names built from values stay inside the output folder;
an existing file is never replaced unless the caller asks for it.
"""
from __future__ import annotations

import csv
import gc
import io
import os
import re
from array import array
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

from .errors import InputError
from .fill import FillResult, RowCheck
from .inputs import open_table
from .layout import Record
from .library import ResolvedEdition
from .models import Form
from .output import (NAME_BYTES, OutputFolder, atomic_path, clip_bytes, safe_child, safe_child_name, safe_filename,
                     write_text_atomic)
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
               skip_invalid: bool = False, overwrite: bool = False, progress=None,
               jobs: int = 1) -> tuple[list[Path], FillResult]:
    """Validate the whole input, then write one file per record (or one merged file).

    The input is streamed twice: a first pass validates every row and keeps only the
    problems and the output names; a second pass reads the rows again and writes each
    record as it completes, so memory does not grow with the number of records.  With
    ``jobs`` > 1, worker processes forked after loading check the rows and write the
    records (`formgen.parallel`; where fork is missing, workers fed chunks of records);
    the names, the order and the problems reported are the same as with one process.
    """
    table = open_table(data, encoding)
    outdir = _output_folder(outdir)
    writer = form_writer(fmt)(form, edition)
    with frozen_heap():  # what is loaded lives as long as the batch: the collector need not walk it
        # The writer vets what only it knows (a PDF font's missing glyphs, Excel's cell limit).
        check = RowCheck(form, table.header, getattr(writer, "value_problem", None))
        check.check_unnamed_columns(table.rows())
        result = FillResult([], list(check.problems))
        names = OutputNames(form, edition, fmt, outdir, pattern, merge)
        if jobs > 1:
            from . import parallel  # multiprocessing: imported only for --jobs
        forked = jobs > 1 and not merge and parallel.available()
        starts = array("q")  # the first input row of each record, for the workers
        if check.fatal:
            pass
        elif forked and not form.repeat_row():  # one record per row: the rows are checked in parallel
            starts = parallel.validate(check, table, result, names, jobs)
        else:
            for record in check.records(table.rows(), result):
                names.add(record)
                if forked:
                    starts.append(record.source_rows[0])
        if result.errors and not (skip_invalid and names.records and _only_row_errors(result)):
            raise InputError(_summary(data, result))
        report = names.outdir / "invalid-rows.csv"
        _refuse_input_as_output(data, names, report)
        _refuse_overwrite(_with_report(names, report if result.invalid_rows else None), overwrite)
        second = FillResult([])  # the second pass finds the same problems: reported once, from the first
        records = check.records(table.rows(), second, checked=result)
        if merge:
            with atomic_path(names[0]) as tmp:
                writer.write(list(records), tmp)
        elif forked:
            parallel.write(_file_writer(writer, names.outdir), check, table, result, names, starts, jobs, progress)
        elif jobs > 1:
            _write_parallel(form, edition, fmt, records, names, jobs, progress)
        else:
            put = _file_writer(writer, names.outdir)
            for done, (record, target) in enumerate(zip(records, names), 1):
                put(record, target)
                if progress:
                    progress(done, len(names))
        if result.invalid_rows:
            write_text_atomic(report, _report_csv(result))
        result.records = RecordStream(check, table, names.records)
        return names, result


@contextmanager
def frozen_heap():
    """Everything loaded so far (the library, the writer, its fonts) set aside from the garbage
    collector while a batch runs: it lives as long as the batch, and each full collection,
    triggered every few thousand allocations, would otherwise walk all of it again.  What
    was frozen before (the command's library, `parallel`'s nested use) stays frozen."""
    frozen_before = gc.get_freeze_count()
    gc.freeze()
    try:
        yield
    finally:
        if not frozen_before:
            gc.unfreeze()


class RecordStream(Sequence):
    """The records of a finished batch, read again from the input when asked for (never all
    held): ``len()`` is known, iterating or indexing streams the rows once more."""

    def __init__(self, check: RowCheck, table, count: int):
        self.check, self.table, self.count = check, table, count

    def __len__(self) -> int:
        return self.count

    def __iter__(self):
        return self.check.records(self.table.rows(), FillResult([]))

    def __getitem__(self, index):
        if isinstance(index, slice):
            return list(self)[index]
        if index < 0:
            index += self.count
        if not 0 <= index < self.count:
            raise IndexError(index)
        return next(r for i, r in enumerate(self) if i == index)


class OutputNames(Sequence):
    """The output paths of a batch, in record order.

    Memory stays flat however many records stream through: a default name
    (``<form id>-0001.docx`` …) follows from the record's index and is never stored.
    Names made with ``--name`` are kept (a short string per record), because keeping
    them unique — two records named alike get -2, -3 … — needs every name so far.
    """

    def __init__(self, form, edition, fmt, outdir: Path, pattern: str | None, merge: bool):
        self.form, self.fmt, self.pattern, self.merge = form, fmt, pattern, merge
        self.outdir = Path(outdir).resolve()
        self.labels = {f.label: f.id for f, _ in form.fields()}
        self.used: set[str] = set()
        self.counts: dict[str, int] = {}
        self.names: list[str] = []
        self.records = 0
        if merge:
            merged = default_blank_name(form, edition, fmt).replace(f".{fmt}", f"-合并.{fmt}")
            self.names.append(safe_child(self.outdir, merged).name)

    @property
    def by_index(self) -> bool:
        """Names are the default ones, made from the index alone."""
        return not self.pattern and not self.merge

    def add(self, record: Record) -> None:
        self.add_stem(self.stem(record))

    def stem(self, record: Record) -> str | None:
        """The --name pattern filled from ``record`` (None without a pattern): what `add_stem` takes."""
        return _name(self.pattern, record, self.labels) if self.pattern and not self.merge else None

    def add_stem(self, text: str | None) -> None:
        self.records += 1
        if self.merge or self.by_index:
            return
        index = len(self.names) + 1
        stem = safe_filename(text or "", fallback=self._fallback(index))
        # Room for "-NNN" and the extension, so numbering never clips a name back to its twin.
        stem = clip_bytes(stem, NAME_BYTES - 16)
        count = self.counts.get(stem.casefold(), 1)  # where the last search for this stem ended
        name = safe_filename(f"{stem}.{self.fmt}" if count == 1 else f"{stem}-{count}.{self.fmt}")
        # Two records whose names agree after cleaning (or differ only in case, which Windows
        # and macOS ignore) get -2, -3 …, never one file for both.
        while name.casefold() in self.used:
            count += 1
            name = safe_filename(f"{stem}-{count}.{self.fmt}")
        self.used.add(name.casefold())
        self.counts[stem.casefold()] = count
        self.names.append(safe_child_name(self.outdir, name))

    def _fallback(self, index: int) -> str:
        return f"{self.form.id}-{index:04d}"

    def _name_at(self, index: int) -> str:
        if self.by_index:
            return safe_child_name(self.outdir, f"{self._fallback(index + 1)}.{self.fmt}")
        return self.names[index]

    def __contains__(self, name) -> bool:
        """Whether ``name`` (a file name in the output folder) is one of the batch's outputs."""
        if not self.by_index:
            return name in self.names
        return any(self._name_at(i) == name for i in range(len(self)))

    def __len__(self) -> int:
        return self.records if self.by_index else len(self.names)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self.outdir / self._name_at(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self.outdir / self._name_at(index)


# --------------------------------------------------------------------------
# --jobs: worker processes, each with its own writer, fed chunks of records in order
# --------------------------------------------------------------------------
CHUNK = 16  # records per task: big enough to amortise the hand-over, small enough to balance
_WORKER: dict = {}


def _write_parallel(form, edition, fmt, records, names: OutputNames, jobs: int, progress) -> None:
    import multiprocessing
    from collections import deque

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    pending: deque = deque()
    done = 0
    chunks = _chunks(zip(records, names), CHUNK)
    with context.Pool(jobs, initializer=_start_worker, initargs=(form, edition, fmt)) as pool:
        try:
            for chunk in chunks:
                pending.append(pool.apply_async(_write_chunk, (chunk,)))
                while len(pending) > 2 * jobs:  # a bounded window: records are read as they are written
                    done += pending.popleft().get()
                    if progress:
                        progress(done, len(names))
            while pending:
                done += pending.popleft().get()
                if progress:
                    progress(done, len(names))
        except BaseException:
            pool.terminate()  # the first error is reported once; the other workers stop
            raise


def _chunks(pairs, size: int):
    chunk = []
    for record, target in pairs:
        chunk.append((record, str(target)))
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _start_worker(form, edition, fmt) -> None:
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is handled once, by the parent
    _WORKER["writer"] = form_writer(fmt)(form, edition)


def _write_chunk(chunk) -> int:
    writer = _WORKER["writer"]
    put = _WORKER.get("put") or _WORKER.setdefault("put", _file_writer(writer, Path(chunk[0][1]).parent))
    for record, target in chunk:
        put(record, target)
    return len(chunk)


def _file_writer(writer, folder: Path):
    """``put(record, target)``: one record's file, written atomically.  A writer that can
    render to bytes (PDF) skips the per-file checks of `atomic_path` (`OutputFolder`)."""
    if hasattr(writer, "to_bytes"):
        out = OutputFolder(folder)
        return lambda record, target: out.write(target, writer.to_bytes([record]))

    def put(record, target):
        with atomic_path(Path(target)) as tmp:
            writer.write([record], tmp)
    return put


def _only_row_errors(result: FillResult) -> bool:
    return all(p.row in result.invalid_rows for p in result.errors)


def _summary(data: Path, result: FillResult) -> str:
    errors = result.errors
    shown = "; ".join(str(p) for p in errors[:5])
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return f"{data}: {shown}{more}. Nothing was written; fix the file (or use --skip-invalid)"


def _output_folder(outdir) -> Path:
    outdir = Path(outdir)
    for folder in (outdir, *outdir.parents):
        if folder.exists() and not folder.is_dir():
            raise InputError(f"output folder {outdir}: {folder} is a file; give a folder with -o")
    return outdir


def _with_report(names: "OutputNames", report: Path | None):
    yield from names
    if report is not None:
        yield report


def _refuse_input_as_output(data: Path, names: "OutputNames", report: Path) -> None:
    """Never write over the file being read, not even with --overwrite."""
    source = Path(data).resolve()
    if source == report or (source.parent == names.outdir and source.name in names):
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


def _refuse_overwrite(targets, overwrite: bool) -> None:
    if overwrite:
        return
    existing = [t for t in targets if os.path.exists(t)]
    if existing:
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
