"""`formgen build` and `formgen booklet`: everything an edition publishes, in one folder.

`build_edition` writes, into ``output/EDITION/`` by default::

    EDITION.pdf  EDITION.docx  site/index.html …   the booklet, three ways
    forms/表2-….docx|.xlsx|.pdf                    every blank form of the edition
    EDITION-事项清单.xlsx                           the catalog (editions that list items)
    EDITION.md  EDITION.json                       the data exports
    index.md  manifest.json                        what was made (file, kind, format, size, sha256)

The whole folder is built in a temporary folder beside the target and
swapped in only when every part succeeded, so a failed build leaves the
previous output exactly as it was and names the part that failed.  An
existing output is replaced only with ``overwrite``, and then only if it is a
previous build (it has a manifest.json): ``-o ~ --overwrite`` cannot wipe a
home folder.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from . import __version__
from .errors import FormgenError, InputError, RenderError
from .library import Library, ResolvedEdition
from .output import atomic_path, write_text_atomic

BOOKLET_FORMATS = ("pdf", "docx", "html")
FORM_FORMATS = ("docx", "xlsx", "pdf")
DEFAULT_ROOT = Path("output")
MANIFEST = "manifest.json"
INDEX = "index.md"
SITE_DIR = "site"
FORMS_DIR = "forms"
FORMAT_NAMES = {"pdf": "PDF", "docx": "Word", "xlsx": "Excel", "html": "HTML", "md": "Markdown",
                "json": "JSON", "css": "CSS", "js": "JavaScript", "png": "PNG", "svg": "SVG"}
KIND_TITLES = [("booklet", "办事指南"), ("site", "网页版"), ("catalog", "事项清单"), ("form", "空白表格"),
               ("export", "数据导出")]

Progress = Callable[[str], None]


@dataclass
class Entry:
    """One file of a build, as manifest.json lists it."""

    file: str  # path relative to the build folder, with "/"
    kind: str  # booklet | site | form | catalog | export | index
    format: str
    size: int = 0
    sha256: str = ""
    title: str | None = None
    number: str | None = None  # a form's number in the edition (表7, 附件7)
    form: str | None = None  # a form's id


@dataclass
class BuildResult:
    edition: str
    folder: Path
    entries: list[Entry] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for e in self.entries if e.kind == kind)

    def summary(self) -> str:
        parts = [f"{self.count('booklet')} booklet file(s)", f"site of {self.count('site')} file(s)",
                 f"{self.count('form')} form file(s)", f"{self.count('catalog')} catalog",
                 f"{self.count('export')} export(s)"]
        return f"built {self.edition} in {self.folder}: " + ", ".join(parts)


# --------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------
def default_folder(edition_id: str, root: Path | None = None) -> Path:
    return Path(root or DEFAULT_ROOT) / edition_id


def booklet_name(edition_id: str, fmt: str) -> str:
    """``EDITION.pdf`` / ``EDITION.docx``; the HTML edition is the folder ``site``."""
    return SITE_DIR if fmt == "html" else f"{edition_id}.{fmt}"


def catalog_name(edition_id: str) -> str:
    return f"{edition_id}-事项清单.xlsx"


def _exports(edition_id: str) -> frozenset[str]:
    return frozenset({f"{edition_id}.md", f"{edition_id}.json"})


def has_catalog(resolved: ResolvedEdition) -> bool:
    """Editions that list items get the catalog sheet; a package guide lists packages instead."""
    return bool(resolved.items) and resolved.edition.style != "package_guide"


# --------------------------------------------------------------------------
# One booklet
# --------------------------------------------------------------------------
def make_booklet(library: Library, resolved: ResolvedEdition):
    from .booklet import build_booklet
    return build_booklet(library, resolved)


def booklet_writer(fmt: str, library: Library, resolved: ResolvedEdition, **extra):
    """A BookletWriter for ``fmt``, given whichever of library / edition it takes.

    The HTML writer gets ``overwrite=True``: it fills a staging folder we made.
    """
    from .writers import booklet_writer as writer_class
    cls = writer_class(fmt)
    offered = {"library": library, "edition": resolved, "overwrite": True, **extra}
    params = inspect.signature(cls).parameters
    named = {k for k, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return cls(**{k: v for k, v in offered.items() if k in named})


def write_booklet(library: Library, resolved: ResolvedEdition, fmt: str, target: Path,
                  overwrite: bool = False, booklet=None) -> Path:
    """Write the booklet of ``resolved`` as ``fmt`` to ``target`` (a folder for html), atomically."""
    if fmt not in BOOKLET_FORMATS:
        raise InputError(f"unknown booklet format '{fmt}'; use one of {', '.join(BOOKLET_FORMATS)}")
    target = Path(target)
    booklet = booklet if booklet is not None else make_booklet(library, resolved)
    extra = {"page_numbers": _pdf_page_numbers(library, resolved, booklet)} if fmt == "docx" else {}
    writer = booklet_writer(fmt, library, resolved, **extra)
    if fmt == "html":
        check_folder_target(target, overwrite, marker="index.html")
        with staging_folder(target, overwrite) as tmp:
            writer.write(booklet, tmp)
        return target
    if target.exists() and not overwrite:
        raise InputError(f"{target} already exists; choose another -o or pass --overwrite")
    if target.is_dir():
        raise InputError(f"{target} is a folder; give a file name for the {fmt} booklet")
    with atomic_path(target) as tmp:
        writer.write(booklet, tmp)
    return target


def page_numbers(pdf: Path, booklet) -> dict[str, int]:
    """Part slug → printed page number, read from the PDF booklet's bookmarks and page labels.

    The Word booklet's table of contents caches these (Word recomputes them when
    the file is opened; other readers show them as they are).  Bookmarks carry
    the parts' headings in print order; a heading that does not match is skipped.
    """
    from pypdf import PdfReader
    reader = PdfReader(str(pdf))
    labels = reader.page_labels
    # a group's bookmark also carries its code ("一、… 00203600100Y"), as its 目录 entry does
    parts = [(p.slug, {_squeeze(p.heading), _squeeze(f"{p.heading}{p.code}")})
             for _, p in booklet.walk() if p.in_print]
    found, cursor = {}, 0
    for title, page in _outline(reader, reader.outline):
        at = next((i for i in range(cursor, len(parts)) if _squeeze(title) in parts[i][1]), None)
        if at is None:
            continue
        cursor = at + 1
        if labels[page].isdigit():
            found[parts[at][0]] = int(labels[page])
    return found


def _outline(reader, entries) -> Iterator[tuple[str, int]]:
    for entry in entries:
        if isinstance(entry, list):
            yield from _outline(reader, entry)
        else:
            yield entry.title, reader.get_destination_page_number(entry)


def _squeeze(text: str) -> str:
    return "".join(text.split())


def _pdf_page_numbers(library, resolved, booklet) -> dict[str, int]:
    """Typeset the PDF booklet in a scratch folder only to learn its page numbers."""
    with tempfile.TemporaryDirectory(prefix="formgen-pages-") as scratch:
        target = Path(scratch) / "booklet.pdf"
        booklet_writer("pdf", library, resolved).write(booklet, target)
        return page_numbers(target, booklet)


# --------------------------------------------------------------------------
# A whole edition
# --------------------------------------------------------------------------
def build_edition(library: Library, edition_id: str, folder: Path | None = None, *, overwrite: bool = False,
                  booklet_formats: tuple[str, ...] = BOOKLET_FORMATS, progress: Progress | None = None
                  ) -> BuildResult:
    """Build everything of ``edition_id`` into ``folder`` (default ``output/EDITION``), all or nothing.

    ``booklet_formats`` narrows the booklets written (all three by default).
    Raises `RenderError` naming the part that failed; the old folder is then untouched.
    """
    resolved = library.edition(edition_id)
    folder = Path(folder or default_folder(edition_id))
    check_folder_target(folder, overwrite, marker=MANIFEST, legacy=_exports(edition_id))
    result = BuildResult(edition_id, folder)
    try:
        with staging_folder(folder, overwrite) as tmp:
            for entry in _build_parts(library, resolved, tmp, booklet_formats, progress):
                result.entries.append(entry)
            result.entries = finish(tmp, resolved, result.entries)
    except StepFailed as failed:
        raise RenderError(f"build {edition_id}: {failed.step} failed: {_one_line(failed.__cause__)}; "
                          f"{folder} was left as it was") from failed.__cause__
    return result


def build_all(library: Library, root: Path | None = None, *, overwrite: bool = False,
              booklet_formats: tuple[str, ...] = BOOKLET_FORMATS, progress: Progress | None = None
              ) -> list[BuildResult]:
    """Build every edition into ``root/EDITION``; one failure does not stop the others.

    Every target is checked before anything is built.  Raises `RenderError`
    listing the editions that failed (their old outputs untouched).
    """
    root = Path(root or DEFAULT_ROOT)
    for edition_id in library.editions:
        check_folder_target(root / edition_id, overwrite, marker=MANIFEST, legacy=_exports(edition_id))
    results, failures = [], []
    for edition_id in library.editions:
        try:
            results.append(build_edition(library, edition_id, root / edition_id, overwrite=overwrite,
                                         booklet_formats=booklet_formats, progress=progress))
            if progress:
                progress(results[-1].summary())
        except FormgenError as exc:
            failures.append(str(exc))
            if progress:
                progress(f"error: {exc}")
    if failures:
        raise RenderError(f"{len(failures)} of {len(library.editions)} edition(s) failed: " + " | ".join(failures))
    return results


class StepFailed(Exception):
    """Internal: a named part of the build raised (the cause is chained)."""

    def __init__(self, step: str):
        super().__init__(step)
        self.step = step


@contextmanager
def step(name: str, progress: Progress | None = None) -> Iterator[None]:
    if progress:
        progress(f"  {name}")
    try:
        yield
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # any failure, ours or a library's, names the part that failed
        raise StepFailed(name) from exc


def _build_parts(library, resolved, tmp: Path, booklet_formats, progress) -> Iterator[Entry]:
    edition_id = resolved.id
    title = resolved.fill(resolved.edition.title)
    yield from _build_forms(resolved, tmp, progress)  # first: the HTML site copies them
    if booklet_formats:
        with step("booklet model", progress):
            booklet = make_booklet(library, resolved)
        pages: dict[str, int] = {}
        for fmt in sorted(booklet_formats, key=BOOKLET_FORMATS.index):  # the PDF first: Word takes its page numbers
            name = booklet_name(edition_id, fmt)
            extra = {"page_numbers": pages} if fmt == "docx" else {}
            if fmt == "html":
                extra = {"forms_from": tmp / FORMS_DIR}
            with step(f"booklet {fmt}", progress):
                booklet_writer(fmt, library, resolved, **extra).write(booklet, tmp / name)
                if fmt == "pdf":
                    pages = page_numbers(tmp / name, booklet)
            if fmt != "html":
                yield Entry(name, "booklet", fmt, title=title)
    if has_catalog(resolved):
        name = catalog_name(edition_id)
        with step("catalog xlsx", progress):
            from .writers.catalog_xlsx import write_catalog
            write_catalog(resolved, tmp / name)
        yield Entry(name, "catalog", "xlsx", title=title)
    yield from _build_exports(library, resolved, tmp, progress)


def _build_forms(resolved: ResolvedEdition, tmp: Path, progress) -> Iterator[Entry]:
    from .forms_api import blank_form, default_blank_name
    for form in resolved.forms():
        number, title = resolved.form_number(form.id), resolved.form_title(form)
        for fmt in FORM_FORMATS:
            name = f"{FORMS_DIR}/{default_blank_name(form, resolved, fmt)}"
            with step(f"form {number or form.id} ({fmt})", progress):
                blank_form(form, resolved, fmt, tmp / name)
            yield Entry(name, "form", fmt, title=title, number=number, form=form.id)


def _build_exports(library, resolved: ResolvedEdition, tmp: Path, progress) -> Iterator[Entry]:
    from .export import edition_json, edition_markdown
    for fmt, render in (("md", edition_markdown), ("json", edition_json)):
        name = f"{resolved.id}.{fmt}"
        with step(f"export {fmt}", progress):
            write_text_atomic(tmp / name, render(library, resolved))
        yield Entry(name, "export", fmt, title=resolved.fill(resolved.edition.title))


# --------------------------------------------------------------------------
# index.md and manifest.json
# --------------------------------------------------------------------------
def finish(tmp: Path, resolved: ResolvedEdition, entries: list[Entry]) -> list[Entry]:
    """Add the site's files, write index.md, then manifest.json (sizes and hashes of everything)."""
    with step("index and manifest"):
        known = {e.file for e in entries}
        site = tmp / SITE_DIR
        if site.is_dir():
            for path in sorted(p for p in site.rglob("*") if p.is_file()):
                rel = path.relative_to(tmp).as_posix()
                if rel not in known:
                    entries.append(Entry(rel, "site", path.suffix.lstrip(".").lower() or "file"))
        entries = [_measured(tmp, e) for e in entries]
        write_text_atomic(tmp / INDEX, index_markdown(resolved, entries))
        entries.append(_measured(tmp, Entry(INDEX, "index", "md")))
        manifest = {"edition": resolved.id, "title": resolved.fill(resolved.edition.title),
                    "style": resolved.edition.style, "formgen": __version__,
                    "files": [_entry_dict(e) for e in entries]}
        write_text_atomic(tmp / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    return entries


def _measured(tmp: Path, entry: Entry) -> Entry:
    path = tmp / entry.file
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    entry.size = path.stat().st_size
    entry.sha256 = digest.hexdigest()
    return entry


def _entry_dict(entry: Entry) -> dict:
    return {k: v for k, v in asdict(entry).items() if v is not None}


def index_markdown(resolved: ResolvedEdition, entries: list[Entry]) -> str:
    """A human-readable list of the build, with links that work from the folder."""
    edition = resolved.edition
    lines = [f"# {resolved.fill(edition.title)}", "",
             f"{edition.bureau} · {edition.region}" + (f" · {edition.year}年" if edition.year else ""),
             "", f"版本 `{edition.id}`（{edition.style}），由 formgen {__version__} 生成。", ""]
    for kind, heading in KIND_TITLES:
        chosen = [e for e in entries if e.kind == kind]
        if not chosen:
            continue
        lines += [f"## {heading}", ""]
        if kind == "form":
            lines += _forms_table(chosen)
        elif kind == "site":
            start = next((e for e in chosen if e.file == f"{SITE_DIR}/index.html"), chosen[0])
            lines += [f"- 打开 {_link(start.file, start.file)}（无需服务器，{len(chosen)} 个文件）"]
        else:
            lines += [f"- {_link(e.file, e.file)}（{FORMAT_NAMES.get(e.format, e.format)}，{_size(e.size)}）"
                      for e in chosen]
        lines.append("")
    lines += [f"文件清单及校验值（SHA-256）见 `{MANIFEST}`。", ""]
    return "\n".join(lines)


def _forms_table(entries: list[Entry]) -> list[str]:
    rows = ["| 编号 | 表格 | Word | Excel | PDF |", "|---|---|---|---|---|"]
    by_form: dict[str, dict[str, Entry]] = {}
    for entry in entries:
        by_form.setdefault(entry.form, {})[entry.format] = entry
    for formats in by_form.values():
        first = next(iter(formats.values()))
        links = [_link(fmt, formats[fmt].file) if fmt in formats else "" for fmt in FORM_FORMATS]
        rows.append(f"| {first.number or ''} | {_cell(first.title or first.form)} | " + " | ".join(links) + " |")
    return rows


def _link(text: str, target: str) -> str:
    return f"[{_cell(text)}](<{target}>)"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _size(size: int) -> str:
    for unit in ("B", "KB", "MB"):
        if size < 1024 or unit == "MB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)


# --------------------------------------------------------------------------
# Folder swapping
# --------------------------------------------------------------------------
def check_folder_target(target: Path, overwrite: bool, marker: str, legacy: frozenset[str] = frozenset()) -> None:
    """Refuse a target that exists (unless overwrite) or that is not our own earlier output.

    ``legacy`` names files an older formgen wrote there without a marker
    (``EDITION.md`` and ``EDITION.json`` from the first scripts/run.sh): a
    folder holding only those may be replaced too.
    """
    target = Path(target)
    if not target.exists() and not target.is_symlink():
        return
    if not target.is_dir() or target.is_symlink():
        raise InputError(f"{target} exists and is not a folder; choose another -o")
    if not any(target.iterdir()):
        return  # an empty folder holds nothing to lose
    if not overwrite:
        raise InputError(f"{target} already exists; pass --overwrite to replace it, or choose another -o")
    if not (target / marker).exists() and not {p.name for p in target.iterdir()} <= legacy:
        raise InputError(f"{target} is not a formgen output (it has no {marker}); "
                         f"refusing to replace it even with --overwrite; choose another -o")


@contextmanager
def staging_folder(target: Path, overwrite: bool) -> Iterator[Path]:
    """A fresh folder beside ``target``; swapped into place on success, removed on failure."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.build-", dir=target.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700; outputs are ordinary folders
        swap_in(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def swap_in(tmp: Path, target: Path) -> None:
    """Put ``tmp`` where ``target`` is; the old ``target`` survives any failure of the swap."""
    if not target.exists():
        os.rename(tmp, target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    os.rmdir(old)
    os.rename(target, old)
    try:
        os.rename(tmp, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _one_line(exc: BaseException | None) -> str:
    if exc is None:
        return "unknown error"
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if isinstance(exc, (FormgenError, OSError)) else f"{type(exc).__name__}: {text}"
