"""Loading and resolving the data under ``data/``.

`load_library` reads every YAML file, validates it against `models`, and
collects *every* problem (with file and line) instead of stopping at the
first, like mkdocs' ``load_config``.  `Library.edition` then resolves an
edition through its ``extends`` chain: a county states only what differs
from its province.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

from pydantic import ValidationError

from .errors import DataError, NotFound, Problem
from .models import Contacts, Edition, FlowPreset, Form, FormRef, Item, Package
from .yamlio import line_of, plain, read_yaml

PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def default_data_dir() -> Path:
    """``$FORMGEN_DATA`` if set, else the ``data/`` folder beside the package."""
    return Path(os.environ.get("FORMGEN_DATA") or PACKAGE_ROOT / "data")


@dataclass
class StoredItem:
    """An item file as written: raw mapping (for merging) and where it lives."""

    raw: dict
    tree: object
    display: str


@dataclass
class StoredEdition:
    edition: Edition
    display: str
    tree: object
    items: dict[str, StoredItem] = field(default_factory=dict)
    packages: list[Package] = field(default_factory=list)
    package_sources: list[tuple[object, str]] = field(default_factory=list)
    folder: Path | None = None


@dataclass
class ResolvedEdition:
    """An edition with everything inherited from the editions it extends."""

    edition: Edition
    chain: list[str]
    items: list[Item]
    packages: list[Package]
    forms_by_id: dict[str, Form]
    folders: list[Path]  # edition folder first, then its ancestors' (for template lookup)
    logo: Path | None = None  # the nearest edition's ``logo:``, resolved against that edition's folder
    # An edition with its own list of items but the forms of the edition it extends (a county
    # offering some of its province's items) has only the forms those items use.
    only_forms_in_use: bool = False

    @property
    def id(self) -> str:
        return self.edition.id

    @cached_property
    def form_refs(self) -> list[FormRef]:
        refs = list(self.edition.forms)
        if self.only_forms_in_use:
            text = used_text(self.items, self.packages)
            refs = [r for r in refs if form_in_use(r, self.forms_by_id.get(r.form), text)]
        return refs

    def form_number(self, form_id: str) -> str | None:
        return next((r.number for r in self.form_refs if r.form == form_id), None)

    def form_title(self, form: Form) -> str:
        ref = next((r for r in self.form_refs if r.form == form.id), None)
        return self.fill((ref.title if ref and ref.title else None) or form.title)

    def forms(self) -> list[Form]:
        return [self.forms_by_id[r.form] for r in self.form_refs if r.form in self.forms_by_id]

    def find_form(self, key: str) -> Form:
        """A form by id or by its number here: ``表7``, ``7``, ``附件7``, an alias such as ``表8``."""
        if key in self.forms_by_id:
            return self.forms_by_id[key]
        for ref in self.form_refs:
            numbers = [ref.number, *ref.aliases]
            if key in numbers or (key.isdigit() and any(_digits(n) == key for n in numbers)):
                return self.forms_by_id[ref.form]
        known = ", ".join(r.number for r in self.form_refs) or "none"
        raise NotFound(f"no form '{key}' in edition '{self.id}' (its forms: {known}); "
                       f"`formgen forms {self.id}` lists them")

    def group_name(self, group_id: str | None) -> str | None:
        return next((g.name for g in self.edition.groups if g.id == group_id), None)

    def fill(self, text: str | None) -> str | None:
        """Replace the placeholders (XX, --) that the edition has values for, where they stand alone.

        A placeholder is a blank in running Chinese text (``XX城乡居民…``, ``每月--日``), so it
        is replaced only as a whole token: not inside a longer run of its own characters
        (``XXX``, ``XXXXXXX``, ``---``) and not touching a Latin letter, a digit or white
        space (``1--15日`` is a range, ``先备案 -- 选定点`` a dash).  ``None`` means "not
        filled yet" (printed as is, and `formgen check` warns); ``""`` removes it.
        """
        if not text:
            return text
        values = {k: v for k, v in self.edition.placeholders.items() if k and v is not None}
        if not values:
            return text
        return _placeholder_pattern(tuple(values)).sub(lambda m: values[m.group()], text)


@lru_cache(maxsize=64)
def _placeholder_pattern(keys: tuple[str, ...]) -> re.Pattern:
    """One regex for all placeholders, longest first, each as a whole token (see `fill`)."""
    alternatives = []
    for key in sorted(keys, key=len, reverse=True):
        own = re.escape("".join(sorted(set(key))))
        edge = rf"[A-Za-z0-9\s{own}]"
        alternatives.append(rf"(?<!{edge}){re.escape(key)}(?!{edge})")
    return re.compile("|".join(alternatives))


APPENDABLE = ("notes", "faq")  # item keys a county may extend with add_notes / add_faq


def _listed(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def logo_path(stored: list[StoredEdition]) -> Path | None:
    """The logo of the nearest edition that names one; relative paths start at its folder."""
    for edition in stored:
        if edition.edition.logo:
            path = Path(edition.edition.logo).expanduser()
            return path if path.is_absolute() or edition.folder is None else edition.folder / path
    return None


def _digits(text: str) -> str:
    return "".join(re.findall(r"\d", text))


class Library:
    """All data: forms, flow presets and editions, validated."""

    def __init__(self, root: Path):
        self.root = root
        self.problems: list[Problem] = []
        self.forms: dict[str, Form] = {}
        self.form_trees: dict[str, tuple[object, str]] = {}
        self.presets: dict[str, FlowPreset] = {}
        self.editions: dict[str, StoredEdition] = {}

    # -- reporting ------------------------------------------------------
    def display(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root.parent))
        except ValueError:
            return str(path)

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def raise_for_errors(self) -> None:
        if self.errors():
            raise DataError(self.problems)

    def validate(self, model, raw, tree, display: str):
        """Validate ``raw`` against ``model``; record every error with its line."""
        try:
            return model.model_validate(plain(raw))
        except ValidationError as exc:
            for err in exc.errors():
                loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
                self.add(Problem(display, line_of(tree, loc), ".".join(map(str, loc)),
                                 _message(err), _fix(err)))
            return None

    # -- resolving --------------------------------------------------------
    def edition(self, edition_id: str) -> ResolvedEdition:
        if edition_id not in self.editions:
            known = ", ".join(sorted(self.editions)) or "none"
            raise NotFound(f"no edition '{edition_id}' (known: {known}); `formgen editions` lists them")
        chain = self.chain(edition_id)
        stored = [self.editions[e] for e in chain]
        return ResolvedEdition(
            edition=_merge_editions([s.edition for s in stored]),
            chain=chain,
            items=self._resolve_items(chain),
            packages=next((s.packages for s in stored if s.packages), []),
            forms_by_id=self.forms,
            folders=[s.folder for s in stored if s.folder],
            logo=logo_path(stored),
            only_forms_in_use=stored[0].edition.items is not None and "forms" not in stored[0].edition.model_fields_set,
        )

    def chain(self, edition_id: str) -> list[str]:
        """The edition, then the one it extends, and so on (cycles stop)."""
        chain = []
        current = edition_id
        while current and current in self.editions and current not in chain:
            chain.append(current)
            current = self.editions[current].edition.extends
        return chain

    def item_sources(self, chain: list[str], item_id: str) -> list[StoredItem]:
        """Every file that states ``item_id`` along the chain, nearest first."""
        return [self.editions[e].items[item_id] for e in chain if item_id in self.editions[e].items]

    def merged_item(self, chain: list[str], item_id: str) -> dict:
        """The item's keys along the chain: province first, the nearest edition's keys win.

        ``add_notes`` / ``add_faq`` in a file append to the inherited notes / FAQ
        instead of replacing them: a county adds its local remarks and questions.
        """
        merged = {}
        for source in reversed(self.item_sources(chain, item_id)):
            raw = plain(source.raw)
            additions = {key: raw.pop(f"add_{key}", None) for key in APPENDABLE}
            merged.update(raw)
            for key, extra in additions.items():
                if extra:
                    merged[key] = [*_listed(merged.get(key)), *_listed(extra)]
        return merged

    def added_count(self, chain: list[str], item_id: str, key: str) -> int:
        """How many of the merged item's ``key`` entries (notes, faq) are ``add_<key>`` additions.

        They are the last ones: counted from the nearest file that replaces ``key``
        outward, so a booklet can print a county's local notes apart from the province's.
        """
        count = 0
        for source in self.item_sources(chain, item_id):  # nearest first
            count += len(_listed(source.raw.get(f"add_{key}")))
            if key in source.raw:
                break
        return count

    def _item_order(self, chain: list[str]) -> tuple[list[tuple[str, str | None]], bool]:
        for edition_id in chain:
            stored = self.editions[edition_id]
            if stored.edition.items is not None:
                return [(r.id, r.number) for r in stored.edition.items], True
            if stored.items:
                return [(i, None) for i in stored.items], False
        return [], False

    def _resolve_items(self, chain: list[str]) -> list[Item]:
        items = []
        order, from_list = self._item_order(chain)
        for item_id, number in order:
            if not self.item_sources(chain, item_id):
                continue
            merged = self.merged_item(chain, item_id)
            if from_list:
                merged["number"] = number  # the edition's own numbering, or none
            try:
                items.append(Item.model_validate(merged))
            except ValidationError:
                continue  # reported by `check` against the file
        return items


def used_text(items: list[Item], packages: list[Package]) -> str:
    """Everything the items and packages say, keys and values, as one searchable text."""
    return json.dumps([i.model_dump() for i in items] + [p.model_dump() for p in packages], ensure_ascii=False)


def form_in_use(ref: FormRef, form: Form | None, text: str) -> bool:
    """Whether ``text`` names the form: its id (a material's ``form:``, a package's
    forms), its number or alias as a whole number (附件3, not 附件31), or its title."""
    if f'"{ref.form}"' in text:
        return True
    for number in (ref.number, *ref.aliases):
        if re.search(re.escape(number) + r"(?![0-9])", text):
            return True
    titles = [t for t in (ref.title, form.title if form else None) if t]
    return any(f"《{t}》" in text for t in titles)


def _merge_editions(editions: list[Edition]) -> Edition:
    """Nearest edition wins key by key; contacts and placeholders merge deeper."""
    merged: dict = {}
    contacts: dict = {}
    placeholders: dict = {}
    for edition in reversed(editions):
        merged.update({k: getattr(edition, k) for k in edition.model_fields_set})
        if edition.contacts:
            contacts.update(edition.contacts.model_dump(exclude_unset=True))
        placeholders.update(edition.placeholders)
    merged["contacts"] = Contacts(**contacts) if contacts else None
    merged["placeholders"] = placeholders
    merged["extends"] = editions[0].extends
    return Edition.model_validate({k: _dump(v) for k, v in merged.items()})


def _dump(value):
    if hasattr(value, "model_dump"):
        return value.model_dump(by_alias=True)
    if isinstance(value, list):
        return [_dump(v) for v in value]
    return value


def _message(err: dict) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    msg = err["msg"]
    return msg[len("Value error, "):] if msg.startswith("Value error, ") else f"{msg} (got {err.get('input')!r})"


def _fix(err: dict) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "remove it or correct its spelling (docs/data-model.md lists the keys)"
    if kind == "missing":
        return "add it (docs/data-model.md shows an example)"
    if kind == "string_pattern_mismatch":
        return "use the form the pattern asks for; quote codes so leading zeros survive"
    return "see docs/data-model.md"


# --------------------------------------------------------------------------
# Reading the folder
# --------------------------------------------------------------------------
def load_library(root: Path | None = None) -> Library:
    """Read and validate everything under ``root`` (default: the built-in data)."""
    root = Path(root or default_data_dir())
    library = Library(root)
    if not root.is_dir():
        library.add(Problem(str(root), None, "", "data folder not found",
                            "run formgen from a checkout, or set FORMGEN_DATA to the data folder"))
        return library
    _load_presets(library, root / "flows.yaml")
    for path in sorted((root / "forms").glob("*.yaml")):
        _load_form(library, path)
    for folder in sorted(p for p in (root / "editions").glob("*") if p.is_dir()):
        _load_edition(library, folder)
    return library


def _load_presets(library: Library, path: Path) -> None:
    if not path.exists():
        return
    display = library.display(path)
    tree = read_yaml(path, library.problems, display)
    for name, raw in (tree or {}).items():
        preset = library.validate(FlowPreset, raw, raw, display)
        if preset:
            library.presets[str(name)] = preset


def _load_form(library: Library, path: Path) -> None:
    display = library.display(path)
    tree = read_yaml(path, library.problems, display)
    if tree is None:
        return
    form = library.validate(Form, tree, tree, display)
    if form is None:
        return
    if form.id in library.forms:
        library.add(Problem(display, line_of(tree, ("id",)), "id", f"form id '{form.id}' is used twice",
                            f"rename one; the other is in {library.form_trees[form.id][1]}"))
        return
    library.forms[form.id] = form
    library.form_trees[form.id] = (tree, display)


def _load_edition(library: Library, folder: Path) -> None:
    path = folder / "edition.yaml"
    display = library.display(path)
    if not path.exists():
        # a warning: a county being written (README, "Adding a county edition") must not stop
        # `formgen items henan-2024` or a build of another edition
        library.add(Problem(library.display(folder), None, "", "edition folder has no edition.yaml, so it is skipped",
                            "add edition.yaml (see docs/data-model.md) or remove the folder",
                            severity="warning"))
        return
    tree = read_yaml(path, library.problems, display)
    edition = library.validate(Edition, tree, tree, display) if tree is not None else None
    if edition is None:
        return
    if edition.id != folder.name:
        library.add(Problem(display, line_of(tree, ("id",)), "id",
                            f"edition id '{edition.id}' differs from its folder name '{folder.name}'",
                            f"rename the folder or set id: {folder.name}"))
    stored = StoredEdition(edition, display, tree, folder=folder)
    library.editions[edition.id] = stored
    for item_path in sorted((folder / "items").glob("*.yaml")):
        _load_item(library, stored, item_path)
    for package_path in sorted((folder / "packages").glob("*.yaml")):
        item_display = library.display(package_path)
        ptree = read_yaml(package_path, library.problems, item_display)
        package = library.validate(Package, ptree, ptree, item_display) if ptree is not None else None
        if package:
            stored.packages.append(package)
            stored.package_sources.append((ptree, item_display))


def _load_item(library: Library, stored: StoredEdition, path: Path) -> None:
    display = library.display(path)
    tree = read_yaml(path, library.problems, display)
    if not isinstance(tree, dict):
        if tree is not None:
            library.add(Problem(display, None, "", "an item file must be a mapping", "see docs/data-model.md"))
        return
    item_id = str(tree.get("id", path.stem))
    if item_id in stored.items:
        library.add(Problem(display, line_of(tree, ("id",)), "id", f"item id '{item_id}' is used twice in this edition",
                            f"rename one; the other is {stored.items[item_id].display}"))
        return
    stored.items[item_id] = StoredItem(tree, tree, display)
