"""`formgen export`: an edition as JSON (for programs) or Markdown (for wikis).

Both are built from the resolved edition, so what they show is exactly what
the booklets print.  Markdown is rendered by a Jinja2 template shipped with
the package (``formgen/templates/export.md.j2``); placeholders the edition
fills (XX, --) are replaced in both.
"""
from __future__ import annotations

import json
from functools import partial
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from .booklet import BookletBuilder
from .errors import InputError
from .flows import describe, expand, material_lines, reading_items
from .layout import blank_text
from .library import Library, ResolvedEdition
from .models import LEVEL_NAMES
from .numbering import chinese_number, circled
from .output import write_text_atomic


def edition_json(library: Library, resolved: ResolvedEdition) -> str:
    return json.dumps(edition_dict(library, resolved), ensure_ascii=False, indent=2)


def edition_dict(library: Library, resolved: ResolvedEdition) -> dict:
    dump = partial(_filled, resolved)
    return {
        "edition": dump(resolved.edition.model_dump(mode="json", exclude={"remarks"})),
        "extends_chain": resolved.chain,
        "items": [
            {**dump(item.model_dump(mode="json", by_alias=True)),
             "charts": [_chart_dict(expand(f, library.presets, item), resolved) for f in item.flows]}
            for item in resolved.items
        ],
        "packages": [dump(p.model_dump(mode="json", by_alias=True)) for p in resolved.packages],
        "forms": [
            {"number": resolved.form_number(form.id), "title": resolved.form_title(form),
             **dump(form.model_dump(mode="json", exclude={"remarks"}))}
            for form in resolved.forms()
        ],
    }


def _chart_dict(chart, resolved) -> dict:
    return {
        "title": resolved.fill(chart.title),
        "nodes": [{"id": n.id, "kind": n.kind, "text": resolved.fill(n.text)} for n in chart.nodes],
        "edges": [{"from": e.source, "to": e.target, "label": e.label} for e in chart.edges],
    }


def _filled(resolved: ResolvedEdition, value):
    if isinstance(value, str):
        return resolved.fill(value)
    if isinstance(value, dict):
        return {k: _filled(resolved, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_filled(resolved, v) for v in value]
    return value


def edition_markdown(library: Library, resolved: ResolvedEdition) -> str:
    env = Environment(loader=PackageLoader("formgen", "templates"), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["fill"] = resolved.fill
    # what a county's inherited item prints (its materials, its local notes and FAQ, its
    # section 七 with the county's address) follows the booklet's own rules
    rules = BookletBuilder(library, resolved)
    env.globals.update(
        lists_materials=rules.lists_materials,
        item_notes=rules.item_notes,
        item_faq=rules.item_faq,
        item_contacts=rules.item_contacts,
        material_lines=material_lines,
        chart_lines=lambda flow, item=None: describe(expand(flow, library.presets, item)),
        chart_branches=lambda flow, item=None: expand(flow, library.presets, item).branches(),
        chart_reading=lambda flow, item=None: reading_items(expand(flow, library.presets, item)),
        level_names=LEVEL_NAMES,
        form_cells=form_text_rows,
        cn=chinese_number,
        group_of=lambda gid: next((g for g in resolved.edition.groups if g.id == gid), None),
        circled=circled,
        package_form_ids=[resolved.find_form(key).id for p in resolved.packages for key in p.forms],
    )
    return env.get_template("export.md.j2").render(ed=resolved, e=resolved.edition)


def form_text_rows(form) -> list[str]:
    """A form's grid as Markdown lines: one line per row, cells separated by │."""
    lines = [" ".join(_segments_text(line.segments) for line in form.header)] if form.header else []
    for row in form.rows:
        # a roster's repeating row is printed once per numbered line, as on the paper
        for number in range(1, row.repeat + 1) if row.repeat else [None]:
            cells = [_cell_text(c, number) for c in row.cells]
            lines.append(" │ ".join(c for c in cells if c))
    lines += [_segments_text(line.segments) for line in form.footer]
    return [line for line in lines if line.strip()]


def _cell_text(cell, number: int | None = None) -> str:
    """A cell's text; ``number`` is the roster line it is printed on, if any."""
    roster = number is not None
    parts = [_segments_text(cell.all_segments(), roster)] if not cell.counter else [str(number or "序号")]
    parts += [f"{i}.{t}" for i, t in enumerate(cell.items, 1)]
    return " ".join(p for p in parts if p)


def _segments_text(segments, roster: bool = False) -> str:
    out = []
    for seg in segments:
        if seg.text is not None:
            out.append(seg.text.replace("\n", " "))
        elif roster and seg.field.type == "date":
            out.append("＿＿＿＿")  # a roster's date cells are left empty on paper
        else:
            out.append(field_text(seg.field))
    return "".join(out)


def field_text(field) -> str:
    """How a blank field reads on paper: options as □ (then the printed guidance), the
    seed's sample value, 年 月 日, 贴照片处, or a blank line."""
    if field.type in ("choice", "multi_choice"):
        if field.hint and "□" in field.hint:
            return field.hint  # the guidance already shows the boxes, as the paper does
        if field.numbered_options:
            boxes = " ".join(f"{i}.{o}□" for i, o in enumerate(field.options, 1))
        else:
            boxes = " ".join(f"□{o}" for o in field.options)
        return f"{boxes} {field.hint}" if field.hint else boxes
    if field.type == "checkbox":
        return "□"
    if field.type in ("signature", "seal"):
        return "＿＿＿＿"  # the forms print their own （签字）/（盖章） beside the blank
    return field.hint or blank_text(field) or "＿＿＿＿"


def write_export(library: Library, resolved: ResolvedEdition, fmt: str, target: Path,
                 overwrite: bool = False) -> Path:
    """The edition as ``fmt`` (json or md) in ``target``, written atomically; an existing
    file is replaced only with ``overwrite``."""
    target = Path(target)
    if target.is_dir():
        raise InputError(f"{target} is a folder; give a file name with -o")
    if target.exists() and not overwrite:
        raise InputError(f"{target} already exists; choose another -o or pass --overwrite")
    text = edition_json(library, resolved) if fmt == "json" else edition_markdown(library, resolved)
    write_text_atomic(target, text)
    return target
