"""One error family for formgen.

Every mistake a user can make (bad data, bad template, bad input file, a
render that cannot proceed) is a :class:`FormgenError`.  The CLI turns it into
one line on stderr and a non-zero exit in one place (``cli.main``); nothing
else prints tracebacks for user mistakes.
"""
from __future__ import annotations

from dataclasses import dataclass


class FormgenError(Exception):
    """Base class: the message is complete and meant for the user."""

    exit_code = 1


class DataError(FormgenError):
    """The data under ``data/`` (or an edition given by path) is invalid."""

    def __init__(self, problems: list["Problem"]):
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        first = errors[0] if errors else problems[0]
        more = f" (and {len(errors) - 1} more error(s); run `formgen check`)" if len(errors) > 1 else ""
        super().__init__(f"{first}{more}")


class TemplateError(FormgenError):
    """A Word or Excel template does not match its form."""


class InputError(FormgenError):
    """A CSV/XLSX input file cannot be used."""


class RenderError(FormgenError):
    """An output cannot be produced (missing font, unwritable folder …)."""


class NotFound(FormgenError):
    """An edition, form or item named on the command line does not exist."""


@dataclass(frozen=True)
class Problem:
    """One finding of ``formgen check``: where, what, and how to fix it."""

    file: str
    line: int | None
    key: str
    message: str
    fix: str = ""
    severity: str = "error"  # or "warning"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        key = f" [{self.key}]" if self.key else ""
        fix = f" Fix: {self.fix}" if self.fix else ""
        return f"{where}{key}: {self.severity}: {self.message}.{fix}"
