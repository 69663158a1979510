"""`formgen check`: every consistency rule over the loaded data.

Schema errors are found while loading (`library.load_library`); this module
adds the rules that need more than one file: references between items,
forms and editions, duplicates, flows, form grids, placeholders, and another
edition's bureau, place, address or phone in an edition's own files.  All
problems are collected and reported together.
"""
from __future__ import annotations

import re
from importlib import import_module
from pathlib import Path

from .errors import Problem
from .flows import expand, reading_text
from .library import Library, load_library
from .models import Flow, Form, Item, Material
from .yamlio import line_of


def open_library(root: Path | None = None, editions: list[str] | None = None) -> Library:
    """Load, check, and raise `DataError` if anything is wrong: what every command uses.

    ``editions``: check only these editions (and the ones they extend), besides every form.
    A command that works on one edition (fill, blank, booklet) is then neither slowed nor
    stopped by the others; `formgen check` and `build --all` check them all.
    """
    library = load_library(root)
    run_checks(library, editions)
    library.raise_for_errors()
    return library


def check_all(root: Path | None = None) -> Library:
    """Everything `formgen check` reports: the data, then the Word and Excel templates."""
    library = load_library(root)
    run_checks(library)
    check_templates(library)
    return library


def run_checks(library: Library, editions: list[str] | None = None) -> None:
    for form_id, (tree, display) in library.form_trees.items():
        _check_form(library, library.forms[form_id], tree, display)
    identities: dict[str, set[str]] = {}  # each edition's, worked out once for all the others' checks
    for edition_id in _editions_to_check(library, editions):
        _check_edition(library, edition_id, identities)


def _editions_to_check(library: Library, wanted: list[str] | None) -> list[str]:
    if wanted is None:
        return list(library.editions)
    chosen: list[str] = []
    for edition_id in wanted:
        while edition_id in library.editions and edition_id not in chosen:
            chosen.append(edition_id)
            edition_id = library.editions[edition_id].edition.extends
    return [e for e in library.editions if e in chosen]


# --------------------------------------------------------------------------
# Forms
# --------------------------------------------------------------------------
def _check_form(library: Library, form: Form, tree, display: str) -> None:
    seen: dict[str, int] = {}
    for field, _ in form.fields():
        seen[field.id] = seen.get(field.id, 0) + 1
    for field_id, count in seen.items():
        if count > 1:
            library.add(Problem(display, _find_line(tree, field_id), f"field {field_id}",
                                f"field id '{field_id}' is used {count} times",
                                "give each field its own id (CSV columns map to ids)"))
    if sum(1 for r in form.rows if r.repeat) > 1:
        library.add(Problem(display, line_of(tree, ("rows",)), "rows",
                            "more than one repeating row", "a roster has one repeating row"))
    width = len(form.columns)
    carry = [0] * (len(form.rows) + 64)  # columns taken by rowspans from rows above
    for index, row in enumerate(form.rows):
        used = carry[index] + sum(c.colspan for c in row.cells)
        for cell in row.cells:
            for below in range(1, cell.rowspan):
                carry[index + below] += cell.colspan
        if used != width:
            library.add(Problem(display, line_of(tree, ("rows", index)), f"rows[{index}]",
                                f"row spans {used} columns but the form has {width}",
                                "adjust colspan, rowspan or the columns list"))


def _find_line(tree, needle: str) -> int | None:
    """First line of a form file where a field id appears (for duplicate ids)."""
    stack = [tree]
    while stack:
        node = stack.pop(0)
        if isinstance(node, dict):
            if node.get("id") == needle and hasattr(node, "lc"):
                return node.lc.line + 1
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return None


# --------------------------------------------------------------------------
# Editions and their items
# --------------------------------------------------------------------------
def _check_edition(library: Library, edition_id: str, identities: dict[str, set[str]]) -> None:
    stored = library.editions[edition_id]
    edition, tree, display = stored.edition, stored.tree, stored.display
    if edition.extends and edition.extends not in library.editions:
        library.add(Problem(display, line_of(tree, ("extends",)), "extends",
                            f"extends unknown edition '{edition.extends}'",
                            f"use one of: {', '.join(sorted(library.editions))}"))
        return
    chain = library.chain(edition_id)
    last = library.editions[chain[-1]].edition
    if last.extends and last.extends in chain:
        library.add(Problem(display, line_of(tree, ("extends",)), "extends",
                            f"editions extend each other in a circle: {' → '.join(chain)} → {last.extends}",
                            "a county extends its province; a province extends nothing"))
        return
    resolved = library.edition(edition_id)
    _check_form_refs(library, stored, resolved)
    _check_item_refs(library, stored, chain)
    _check_items(library, stored, chain, resolved)
    _check_packages(library, stored, resolved)
    _check_placeholders(library, stored, resolved)
    _check_logo(library, stored, resolved)
    _check_year(library, stored, resolved)
    _check_package_source(library, stored, resolved)
    _check_borrowed_identity(library, edition_id, identities)


def _check_form_refs(library, stored, resolved) -> None:
    tree, display = stored.tree, stored.display
    by_number: dict[str, str] = {}
    by_form: dict[str, str] = {}
    for index, ref in enumerate(stored.edition.forms):
        where = line_of(tree, ("forms", index))
        if ref.form not in library.forms:
            library.add(Problem(display, where, f"forms[{index}].form", f"unknown form '{ref.form}'",
                                f"use a file name from data/forms/ ({len(library.forms)} forms)"))
        for number in [ref.number, *ref.aliases]:
            if number in by_number and by_number[number] != ref.form:
                library.add(Problem(display, where, f"forms[{index}].number",
                                    f"{number} numbers two forms: {by_number[number]} and {ref.form}",
                                    "give each form its own number"))
            by_number[number] = ref.form
        if ref.form in by_form:
            library.add(Problem(display, where, f"forms[{index}]",
                                f"form {ref.form} is numbered both {by_form[ref.form]} and {ref.number}",
                                f"keep one number and list the other under aliases: [{ref.number}]"))
        by_form[ref.form] = ref.number
        for alias in ref.aliases:
            library.add(Problem(display, where, f"forms[{index}].aliases",
                                f"{ref.number} is also called {alias} in the source", "print one number in the edition",
                                severity="warning"))


def _check_item_refs(library, stored, chain) -> None:
    if stored.edition.items is None:
        _check_no_item_list(library, stored, chain)
        return
    seen: set[str] = set()
    numbers: dict[str, str] = {}
    for index, ref in enumerate(stored.edition.items):
        where = line_of(stored.tree, ("items", index))
        if ref.id in seen:
            library.add(Problem(stored.display, where, f"items[{index}]", f"item '{ref.id}' is listed twice",
                                "list each item once"))
        seen.add(ref.id)
        if ref.number is not None and ref.number in numbers:
            library.add(Problem(stored.display, where, f"items[{index}].number",
                                f"number {ref.number} is also given to item '{numbers[ref.number]}'",
                                "give each item its own number, as the booklet prints them"))
        numbers.setdefault(ref.number, ref.id)
        if not library.item_sources(chain, ref.id):
            library.add(Problem(stored.display, where, f"items[{index}]", f"unknown item '{ref.id}'",
                                f"add items/{ref.id}.yaml to this edition or to the one it extends"))


def _check_no_item_list(library, stored, chain) -> None:
    """A county without ``items:`` prints only the items it has files for, numbered as its province."""
    if len(chain) < 2 or stored.edition.style == "package_guide":
        return
    library.add(Problem(stored.display, line_of(stored.tree, ("id",)), "items",
                        f"no items: list, so the booklet prints only the {len(stored.items)} item(s) that "
                        f"have a file in items/, numbered as in edition '{chain[1]}'",
                        "list the items you offer with your numbers: items: [{id: …, number: 1}, …]",
                        severity="warning"))


def _check_items(library, stored, chain, resolved) -> None:
    groups = {g.id for g in resolved.edition.groups}
    codes: dict[str, str] = {}
    listed = {i.id for i in resolved.items}
    for item_id, source in stored.items.items():
        if _changes_no_inherited_item(library, stored, chain, item_id, source):
            continue
        if stored.edition.items is not None and item_id not in listed:
            library.add(Problem(source.display, line_of(source.tree, ("id",)), "id",
                                f"item '{item_id}' is not in this edition's items: list, so nothing of "
                                "this file is printed",
                                f"add {{id: {item_id}, number: …}} to items: in edition.yaml, or remove the file",
                                severity="warning"))
        item = library.validate(Item, library.merged_item(chain, item_id), source.tree, source.display)
        if item is None:
            continue
        where = lambda *loc: line_of(source.tree, loc)  # noqa: E731
        if item.code:
            if item.code in codes and codes[item.code] != item.id:
                library.add(Problem(source.display, where("code"), "code",
                                    f"事项编码 {item.code} is also used by item '{codes[item.code]}'",
                                    "each item has its own code"))
            codes[item.code] = item.id
        if item.group and groups and item.group not in groups:
            library.add(Problem(source.display, where("group"), "group", f"unknown group '{item.group}'",
                                f"use one of: {', '.join(sorted(groups))}"))
        if not item.flows:
            library.add(Problem(source.display, where("id"), "flows", f"item '{item.id}' has no flow",
                                "add flows: [{preset: standard}] or the item's own chart"))
        _check_flows(library, item.flows, source.tree, source.display)
        _check_materials(library, item.materials, resolved, source.tree, source.display, ("materials",))


def _changes_no_inherited_item(library, stored, chain, item_id, source) -> bool:
    """A county's item file whose id no edition it extends has, and that is no whole item.

    Reported as a wrong id (the usual cause: a typo, or the file name used as the id)
    rather than as the keys a new item would miss.
    """
    if len(chain) < 2 or "name" in source.raw or library.item_sources(chain[1:], item_id):
        return False
    library.add(Problem(source.display, line_of(source.tree, ("id",)), "id",
                        f"no item '{item_id}' in edition '{chain[1]}' to change",
                        f"use an id that `formgen items {chain[1]}` lists (a new item needs name:, "
                        "flows: and the rest, see docs/data-model.md)"))
    return True


def _check_year(library, stored, resolved) -> None:
    """A county that gives no ``year:`` prints its province's year on its cover."""
    edition = stored.edition
    if edition.extends and "year" not in edition.model_fields_set and resolved.edition.year is not None:
        library.add(Problem(stored.display, line_of(stored.tree, ("id",)), "year",
                            f"no year: the cover prints {resolved.edition.year}年, the year of edition "
                            f"'{edition.extends}'",
                            "give this edition's year (year: 2025), or year: null for none",
                            severity="warning"))


def _check_packages(library, stored, resolved) -> None:
    for package, (tree, display) in zip(stored.packages, stored.package_sources):
        _check_flows(library, package.flows, tree, display)
        for index, row in enumerate(package.materials):
            _check_materials(library, row.materials, resolved, tree, display, ("materials", index, "materials"))
        for index, key in enumerate(package.forms):
            if not _form_known(key, resolved, library):
                library.add(Problem(display, line_of(tree, ("forms", index)), f"forms[{index}]",
                                    f"unknown form '{key}'", "use a form id or a number listed in the edition's forms"))


def _form_known(key: str, resolved, library) -> bool:
    return key in library.forms or any(key == r.number or key in r.aliases for r in resolved.form_refs)


def _check_materials(library, materials: list[Material], resolved, tree, display, loc) -> None:
    for index, material in enumerate(materials):
        here = (*loc, index)
        if material.form and not _form_known(material.form, resolved, library):
            library.add(Problem(display, line_of(tree, (*here, "form")), ".".join(map(str, (*here, "form"))),
                                f"material names unknown form '{material.form}'",
                                "use a form id from data/forms/ or a number in the edition's forms list"))
        _check_materials(library, material.items, resolved, tree, display, (*here, "items"))


def _check_flows(library, flows: list[Flow], tree, display) -> None:
    for index, flow in enumerate(flows):
        where = line_of(tree, ("flows", index))
        if flow.preset and flow.preset not in library.presets:
            library.add(Problem(display, where, f"flows[{index}].preset", f"unknown flow preset '{flow.preset}'",
                                f"use one of: {', '.join(sorted(library.presets))}"))
            continue
        if not flow.preset and not flow.nodes:
            library.add(Problem(display, where, f"flows[{index}]", "flow has no nodes",
                                "give it nodes and edges, or a preset"))
        ids = {n.id for n in flow.nodes}
        if flow.preset:
            ids |= {n.id for n in library.presets[flow.preset].nodes}
        for e_index, edge in enumerate(flow.edges):
            for end in (edge.source, edge.target):
                if end not in ids:
                    library.add(Problem(display, line_of(tree, ("flows", index, "edges", e_index)),
                                        f"flows[{index}].edges[{e_index}]", f"edge names unknown node '{end}'",
                                        f"use a node id of this flow: {', '.join(sorted(ids))}"))
        _check_reading(library, flow, index, tree, display)


def _check_reading(library, flow: Flow, index: int, tree, display) -> None:
    """Every `reading:` entry names a node, a labelled edge or the title, once."""
    chart = expand(flow, library.presets)
    seen = set()
    for r_index, entry in enumerate(flow.reading):
        where = line_of(tree, ("flows", index, "reading", r_index))
        key = f"flows[{index}].reading[{r_index}]"
        if entry in seen:
            library.add(Problem(display, where, key, f"'{entry}' is listed twice",
                                "list each box, edge label and the title once"))
        seen.add(entry)
        try:
            reading_text(chart, entry)
        except ValueError as err:
            library.add(Problem(display, where, key, str(err),
                                f"use a node id ({', '.join(n.id for n in chart.nodes)}), "
                                "'from>to' (or 'from>to#2' for a second edge between them) for a labelled edge, or 'title'"))


def _check_placeholders(library, stored, resolved) -> None:
    edition = resolved.edition
    for key, value in edition.placeholders.items():
        if value is None:
            library.add(Problem(stored.display, line_of(stored.tree, ("placeholders",)), f"placeholders.{key}",
                                f"placeholder '{key}' has no value in edition '{edition.id}', so it prints as '{key}'",
                                f"set placeholders: {{'{key}': …}} in this edition or the one extending it",
                                severity="warning"))
    for form in resolved.forms():
        title = resolved.form_title(form)
        if "XX" in title and "XX" not in edition.placeholders:
            library.add(Problem(stored.display, line_of(stored.tree, ("forms",)), "placeholders",
                                f"form title '{title}' has placeholder XX but the edition declares none",
                                "add placeholders: {XX: <region name>}", severity="warning"))


# --------------------------------------------------------------------------
# Word and Excel templates
# --------------------------------------------------------------------------
TEMPLATE_FORMATS = ("docx", "xlsx")
TEMPLATE_FIX = ("rebuild it with `formgen templates build`, or correct it in {app} "
                "(docs/data-model.md, Templates)")


def templates_root(library: Library) -> Path:
    """``templates/`` beside the data folder: the repository's templates for the built-in data."""
    return library.root.parent / "templates"


def check_templates(library: Library) -> None:
    """Every template under templates/docx and templates/xlsx against its form.

    A default template is ``<fmt>/<form-id>.<fmt>``; an edition's own is
    ``<fmt>/<edition-id>/<form-id>.<fmt>`` (looked up edition first, then the
    editions it extends, then the default).  Only `formgen check` runs this:
    the writers check the one template they use before rendering.
    """
    root = templates_root(library)
    for fmt in TEMPLATE_FORMATS:
        folder = root / fmt
        if not folder.is_dir():
            continue
        module = import_module(f"formgen.writers.{fmt}")
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.name.startswith(("~$", ".")):
                _check_template_file(library, module, fmt, folder, path)


def _check_template_file(library: Library, module, fmt: str, folder: Path, path: Path) -> None:
    display = library.display(path)
    app = "Word" if fmt == "docx" else "Excel"
    parts = path.relative_to(folder).parts
    if path.suffix.lower() != f".{fmt}":
        library.add(Problem(display, None, "template", f"not a .{fmt} file in templates/{fmt}",
                            f"save it as .{fmt} or move it out of templates/{fmt}"))
        return
    if len(parts) > 2 or (len(parts) == 2 and parts[0] not in library.editions):
        library.add(Problem(display, None, "template",
                            f"template folder '{'/'.join(parts[:-1])}' is not an edition, so this file is never used",
                            f"put it in templates/{fmt}/<edition-id>/ (editions: {', '.join(sorted(library.editions))})"))
        return
    form = library.forms.get(path.stem)
    if form is None:
        library.add(Problem(display, None, "template", f"template for unknown form '{path.stem}'",
                            f"name it after a form id in data/forms/, or delete it"))
        return
    for message in module.check_template(form, path):
        key, fix = _template_key(message, form.id, app)
        library.add(Problem(display, None, key, _strip_path(message, path), fix))


def _template_key(message: str, form_id: str, app: str) -> tuple[str, str]:
    """The key a template problem is about, and how to fix that class of problem."""
    tag = re.search(r"tag names '([^']+)'", message)
    if tag:
        return f"tag {tag.group(1)}", (f"form '{form_id}' has no field '{tag.group(1)}': correct the tag to a "
                                       f"field id (`formgen forms`) or delete it")
    field = re.search(r"field '([^']+)' of form", message)
    if field:
        return f"field {field.group(1)}", (f"add a tag for '{field.group(1)}' where its value goes, "
                                           "or " + TEMPLATE_FIX.format(app=app))
    if "split across runs" in message:
        return "tag", "retype the tag in Word in one go (no formatting change inside {{ }}), or " + \
            TEMPLATE_FIX.format(app=app)
    if "merged" in message:
        return "merge", "restore the form's merged cells, or " + TEMPLATE_FIX.format(app=app)
    return "template", TEMPLATE_FIX.format(app=app)


def _strip_path(message: str, path: Path) -> str:
    """Messages from the writers start with the template's path; the Problem already names the file."""
    prefix = f"{path}: "
    return message[len(prefix):] if message.startswith(prefix) else message


IMAGE_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG"}


def _check_logo(library, stored, resolved) -> None:
    """A logo the edition names must be a PNG or JPEG file (relative to its folder)."""
    if not stored.edition.logo or resolved.logo is None:
        return
    where = line_of(stored.tree, ("logo",))
    path = resolved.logo
    if not path.is_file():
        library.add(Problem(stored.display, where, "logo", f"logo file '{stored.edition.logo}' not found (looked for {path})",
                            "put the image in the edition folder and give its name, e.g. logo: logo.png"))
        return
    with open(path, "rb") as handle:
        head = handle.read(8)
    if not any(head.startswith(sig) for sig in IMAGE_SIGNATURES):
        library.add(Problem(stored.display, where, "logo", f"logo file '{stored.edition.logo}' is not a PNG or JPEG image",
                            "save the logo as .png (or .jpg) and point logo: at it"))


def _check_package_source(library, stored, resolved) -> None:
    """A package guide needs packages; packages taken from another edition carry its contacts."""
    edition = resolved.edition
    where = line_of(stored.tree, ("style",))
    if edition.style == "package_guide" and not resolved.packages:
        library.add(Problem(stored.display, where, "style", "a package_guide edition has no packages",
                            f"add packages/NN-<id>.yaml files to {library.display(stored.folder)} "
                            "(docs/data-model.md, Package), or use style: flowcharts"))
    if resolved.packages and not stored.packages:
        owner = next(e for e in resolved.chain if library.editions[e].packages)
        library.add(Problem(stored.display, line_of(stored.tree, ("extends",)), "extends",
                            f"the packages come from edition '{owner}' and print its phones, address and window",
                            f"copy data/editions/{owner}/packages/ into this edition and give each package "
                            "your own contacts", severity="warning"))


# --------------------------------------------------------------------------
# A county's own files must not print another edition's name, address or phones
# --------------------------------------------------------------------------
LANDLINE_OR_MOBILE = re.compile(r"(?<!\d)(?:0\d{2,3}-\d{7,8}|1[3-9]\d{9})(?!\d)")
NAMING_KEYS = {("title",), ("region",), ("bureau",)}  # edition.yaml names its edition, whatever it holds
REGION_PART = re.compile(r"[^省市县区旗州盟]+[省市县区旗州盟]")


def _own_files(stored) -> list[tuple[object, str]]:
    """The YAML trees an edition's writer wrote: edition.yaml, its item files, its packages."""
    return ([(stored.tree, stored.display)] + [(i.tree, i.display) for i in stored.items.values()]
            + list(stored.package_sources))


def _strings(node, loc: tuple = ()):
    """Every printed string in a YAML tree with the key path that leads to it (``remarks:``
    are maintainers' notes, never printed, and may well compare editions)."""
    if isinstance(node, str):
        yield loc, node
    elif isinstance(node, dict):
        for key, value in node.items():
            if key != "remarks":
                yield from _strings(value, loc + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, loc + (index,))


def _identity(stored) -> set[str]:
    """What marks text as this edition's own: its title, bureau and most local place name, and
    the addresses and phone numbers of each of its files that names the place or the bureau.

    A file that does not say whose it is (a package copied from a neighbour and not yet
    rewritten) does not make the neighbour's numbers this edition's own.
    """
    edition = stored.edition
    places = REGION_PART.findall(edition.region or "")
    names = {n for n in (edition.bureau, places[-1] if places else None) if n}
    marks = names | {edition.title}
    for tree, _ in _own_files(stored):
        strings = list(_strings(tree))
        said = [text for loc, text in strings if loc not in NAMING_KEYS]
        if not any(name in text for name in names for text in said):
            continue
        for loc, text in strings:
            if loc and loc[-1] == "address":
                marks.add(text)
            marks.update(LANDLINE_OR_MOBILE.findall(text))
    return {m for m in marks if m and len(m) >= 3}


def _check_borrowed_identity(library: Library, edition_id: str, identities: dict[str, set[str]]) -> None:
    """Warn where an edition's own files name another edition (not one it extends).

    Copying a neighbour's file and forgetting one phone number is the way a county's guide
    comes to print another county's numbers; only the data can tell, so check says where.
    """
    def identity(e: str) -> set[str]:
        if e not in identities:
            identities[e] = _identity(library.editions[e])
        return identities[e]

    chain = library.chain(edition_id)
    related = set(chain) | {e for e in library.editions if edition_id in library.chain(e)}
    inherited = set().union(*(identity(e) for e in chain[1:]))
    own = identity(edition_id)
    foreign = {}
    for other in sorted(set(library.editions) - related):
        for mark in identity(other) - inherited:
            if mark not in own or not _is_the_original(library, edition_id, other):
                foreign.setdefault(mark, other)
    if not foreign:
        return
    pattern = re.compile("|".join(re.escape(m) for m in sorted(foreign, key=len, reverse=True)))
    for tree, display in _own_files(library.editions[edition_id]):
        for loc, text in _strings(tree):
            match = pattern.search(text)
            if match:
                owner = foreign[match.group(0)]
                library.add(Problem(display, line_of(tree, loc), ".".join(map(str, loc)),
                                    f"'{match.group(0)}' is also in edition '{owner}' "
                                    f"({library.editions[owner].edition.bureau}), which this edition does not extend",
                                    "if it was copied from there, write this edition's own value",
                                    severity="warning"))


def _is_the_original(library: Library, edition_id: str, other: str) -> bool:
    """Of two editions whose files both claim a mark, whether ``edition_id``'s is the original:
    only when it reproduces a publication (``source:``) and ``other`` does not.  Otherwise both
    are told, since nothing says which one copied."""
    return bool(library.editions[edition_id].edition.source) and not library.editions[other].edition.source
