"""Output writers, one module per format; each module alone imports its library.

Contract every form writer module follows (``docx``, ``xlsx``, ``pdf``)::

    class FormWriter:
        extension = ".pdf"
        def __init__(self, form: Form, edition: ResolvedEdition | None, **options): ...
            # parse/compile templates, load fonts: everything that does not vary per record
        def write(self, records: list[Record] | None, target: Path) -> None: ...
            # records None: the blank form; otherwise every record in order in one file
            # (a roster record may fill several pages/sheets). Writes to ``target`` only.

Callers (``formgen.forms_api``) create one writer per batch and pass a temporary
path that is renamed into place when complete (``output.atomic_path``).
Static text passes through ``edition.fill`` so placeholders (XX, --) are replaced;
values from users are data: never evaluated as templates or formulas.

Booklet writer modules (``booklet_pdf``, ``booklet_docx``, ``booklet_html``) each export::

    class BookletWriter:
        def __init__(self, edition=None, library=None, ...): ...   # what each needs varies
        def write(self, booklet: Booklet, target: Path) -> None: ...  # html: target is a folder

``booklet_writer(fmt)`` returns that class; ``formgen.build.booklet_writer`` passes it
whichever of library / edition its constructor names.
"""
from __future__ import annotations

from importlib import import_module

FORM_FORMATS = ("docx", "xlsx", "pdf")


def form_writer(fmt: str):
    """The FormWriter class for ``fmt`` (imported lazily: each pulls in a big library)."""
    if fmt not in FORM_FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    return import_module(f"formgen.writers.{fmt}").FormWriter


BOOKLET_FORMATS = ("pdf", "docx", "html")


def booklet_writer(fmt: str):
    """The BookletWriter class for ``fmt`` (pdf, docx or html), imported lazily."""
    if fmt not in BOOKLET_FORMATS:
        raise ValueError(f"unknown booklet format {fmt!r} (choose from {', '.join(BOOKLET_FORMATS)})")
    return import_module(f"formgen.writers.booklet_{fmt}").BookletWriter
