"""The `formgen` command: parses options and calls the library.

Every command loads the data through `check.open_library`, so no command
runs on invalid data.  `FormgenError` becomes one line on stderr and a
non-zero exit in `main`; heavy imports happen inside the commands.
"""
from __future__ import annotations

import gc
import json
import sys
from pathlib import Path

import click

from .errors import FormgenError

data_option = click.option(
    "--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    envvar="FORMGEN_DATA", help="Data folder (default: the built-in data/).")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


def _library(data_dir, editions: list[str] | None = None):
    """The checked library; ``editions``: only these editions' data is checked (all by default)."""
    from .check import open_library
    library = open_library(data_dir, editions)
    if not gc.isenabled():  # loaded under `main`: what was loaded lives as long as the command
        gc.freeze()
        gc.enable()
    return library


def _echo_json(value) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


def _echo_table(rows: list[list], headers: list[str]) -> None:
    from unicodedata import east_asian_width

    def width(text):
        return sum(2 if east_asian_width(ch) in "WF" else 1 for ch in str(text))

    widths = [max(width(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        click.echo("  ".join(str(v) + " " * (w - width(v)) for v, w in zip(row, widths)).rstrip())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="formgen")
def cli():
    """formgen: 办事指南 booklets and forms for medical-insurance bureaus, from structured data."""


@cli.command()
@data_option
@json_option
def editions(data_dir, as_json):
    """List the editions: id, title, style, source seed, item and form counts."""
    library = _library(data_dir)
    rows = []
    for edition_id in library.editions:
        ed = library.edition(edition_id)
        rows.append({"id": ed.id, "title": ed.edition.title, "style": ed.edition.style,
                     "extends": ed.edition.extends, "source": ed.edition.source,
                     "items": len(ed.items), "packages": len(ed.packages), "forms": len(ed.forms())})
    if as_json:
        return _echo_json(rows)
    _echo_table([[r["id"], r["style"], r["items"], r["packages"], r["forms"], r["source"] or "", r["title"]]
                 for r in rows], ["id", "style", "items", "packages", "forms", "source", "title"])


@cli.command()
@click.argument("edition")
@data_option
@json_option
def items(edition, data_dir, as_json):
    """List the service items of EDITION in its order and numbering."""
    library = _library(data_dir)
    ed = library.edition(edition)
    rows = [{"number": i.number, "id": i.id, "code": i.code, "name": ed.fill(i.name),
             "group": ed.group_name(i.group), "levels": "".join(i.levels),
             "time_limit": i.time_limit.text if i.time_limit else None} for i in ed.items]
    if as_json:
        return _echo_json(rows)
    _echo_table([[r["number"] or "", r["id"], r["code"] or "", r["levels"], r["name"]] for r in rows],
                ["no.", "id", "code", "levels", "name"])


@cli.command()
@click.argument("edition", required=False)
@data_option
@json_option
def forms(edition, data_dir, as_json):
    """List forms (of EDITION, with its numbers), each with its fields."""
    library = _library(data_dir)
    ed = library.edition(edition) if edition else None
    chosen = ed.forms() if ed else list(library.forms.values())
    rows = []
    for form in chosen:
        rows.append({
            "id": form.id, "number": ed.form_number(form.id) if ed else None,
            "title": ed.form_title(form) if ed else form.title, "orientation": form.orientation,
            "fields": [{"id": f.id, "label": f.label, "type": f.type, "options": f.options,
                        "required": f.required, "repeats": repeats} for f, repeats in form.fields()],
        })
    if as_json:
        return _echo_json(rows)
    for row in rows:
        click.echo(f"{row['number'] or '-'}  {row['id']}  {row['title']}  ({row['orientation']})")
        for f in row["fields"]:
            options = f"  [{' / '.join(f['options'])}]" if f["options"] else ""
            marks = ("  required" if f["required"] else "") + ("  repeats" if f["repeats"] else "")
            click.echo(f"    {f['id']:<28} {f['type']:<13} {f['label']}{options}{marks}")


@cli.command()
@click.argument("edition")
@click.option("--format", "fmt", type=click.Choice(["json", "md"]), required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")
@click.option("--overwrite", is_flag=True, help="Replace the -o file if it exists.")
@data_option
def export(edition, fmt, output, overwrite, data_dir):
    """Export EDITION as JSON (for programs) or Markdown (for a website or wiki)."""
    from .export import edition_json, edition_markdown, write_export

    library = _library(data_dir)
    ed = library.edition(edition)
    if output:
        write_export(library, ed, fmt, output, overwrite=overwrite)
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(edition_json(library, ed) if fmt == "json" else edition_markdown(library, ed), nl=False)


@cli.command()
@data_option
@click.option("--quiet", "-q", is_flag=True, help="Print errors only.")
def check(data_dir, quiet):
    """Check all data (and templates); report every problem with file, line and key.

    Exit status 1 when there are errors, 0 when only warnings remain.
    """
    from .check import check_all

    library = check_all(data_dir)
    problems = library.problems
    for problem in problems:
        if problem.severity == "error" or not quiet:
            click.echo(str(problem), err=problem.severity == "error")
    errors = len(library.errors())
    warnings = len(problems) - errors
    click.echo(f"{len(library.editions)} editions, {len(library.forms)} forms: "
               f"{errors} error(s), {warnings} warning(s)")
    sys.exit(1 if errors else 0)


def _form_and_edition(library, form_key, edition_id):
    """FORM is an id, or within an edition a number (表7, 7, 附件7)."""
    from .errors import NotFound
    edition = library.edition(edition_id) if edition_id else None
    if edition:
        return edition.find_form(form_key), edition
    if form_key in library.forms:
        return library.forms[form_key], None
    raise NotFound(f"no form '{form_key}'; give a form id (`formgen forms`) or a number with --edition")


format_option = click.option("--format", "fmt", type=click.Choice(["docx", "xlsx", "pdf"]), required=True)
edition_option = click.option("--edition", "edition_id", help="Edition whose numbering and placeholders apply.")
overwrite_option = click.option("--overwrite", is_flag=True, help="Replace files that already exist.")


@cli.command()
@click.argument("form")
@format_option
@edition_option
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Output file (default: output/…).")
@overwrite_option
@data_option
def blank(form, fmt, edition_id, output, overwrite, data_dir):
    """Write the blank FORM as Word, Excel or fillable PDF."""
    from .forms_api import blank_form, default_blank_name

    library = _library(data_dir, [edition_id] if edition_id else [])
    the_form, edition = _form_and_edition(library, form, edition_id)
    target = output or Path("output") / (edition_id or "forms") / default_blank_name(the_form, edition, fmt)
    if target.is_dir():
        target = target / default_blank_name(the_form, edition, fmt)
    blank_form(the_form, edition, fmt, target, overwrite=overwrite)
    click.echo(f"wrote {target}", err=True)


@cli.command()
@click.argument("form")
@click.argument("data", type=click.Path(path_type=Path))
@format_option
@edition_option
@click.option("-o", "--output", "outdir", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default: output/EDITION/FORM).")
@click.option("--name", "pattern", help="File name pattern from field ids or labels, e.g. '{姓名}-{身份证件号码}'.")
@click.option("--merge", is_flag=True, help="One file holding every record in order, for printing.")
@click.option("--encoding", help="Force the CSV encoding (default: detect UTF-8, UTF-8 BOM, GBK/GB18030).")
@click.option("--skip-invalid", is_flag=True, help="Write the valid records; report the rest in invalid-rows.csv.")
@click.option("--jobs", type=click.IntRange(1, 64), default=1,
              help="Worker processes writing files in parallel (default 1; use the number of CPU cores).")
@overwrite_option
@data_option
def fill(form, data, fmt, edition_id, outdir, pattern, merge, encoding, skip_invalid, jobs, overwrite, data_dir):
    """Fill FORM once per record of DATA (CSV or XLSX): one file per record, or --merge."""
    from .forms_api import fill_forms

    library = _library(data_dir, [edition_id] if edition_id else [])
    the_form, edition = _form_and_edition(library, form, edition_id)
    outdir = outdir or Path("output") / (edition_id or "forms") / the_form.id
    def show_progress(done, total):  # only on a terminal: logs and pipes stay clean
        click.echo(f"\rfilling {done}/{total}", err=True, nl=done == total)

    targets, result = fill_forms(the_form, edition, data, fmt, outdir, pattern=pattern, merge=merge,
                                 encoding=encoding, skip_invalid=skip_invalid, overwrite=overwrite,
                                 progress=show_progress if sys.stderr.isatty() else None, jobs=jobs)
    for problem in result.problems:
        if problem.severity == "warning":
            click.echo(f"warning: {data}: {problem}", err=True)
    skipped = len(result.invalid_rows)
    click.echo(f"wrote {len(targets)} file(s) to {outdir}" + (f"; skipped {skipped} invalid row(s), see "
               f"{outdir / 'invalid-rows.csv'}" if skipped else ""), err=True)


@cli.command()
@click.argument("edition")
@click.option("--format", "fmt", type=click.Choice(["docx", "pdf", "html"]), required=True)
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Output file (a folder for html; default: output/EDITION/EDITION.FORMAT or output/EDITION/site).")
@overwrite_option
@data_option
def booklet(edition, fmt, output, overwrite, data_dir):
    """Write the 办事指南 booklet of EDITION as Word, PDF or a static HTML site."""
    from .build import booklet_name, default_folder, write_booklet

    library = _library(data_dir)
    resolved = library.edition(edition)
    target = output or default_folder(edition) / booklet_name(edition, fmt)
    write_booklet(library, resolved, fmt, target, overwrite=overwrite)
    click.echo(f"wrote {target}", err=True)


@cli.command()
@click.argument("edition", required=False)
@click.option("--all", "all_editions", is_flag=True, help="Build every edition, each into DIR/EDITION.")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default: output/EDITION; with --all, the folder that holds them: output).")
@click.option("--overwrite", is_flag=True, help="Replace an earlier build (a folder with a manifest.json).")
@data_option
@click.option("--verbose", "-v", is_flag=True, help="Name each part as it is built.")
def build(edition, all_editions, output, overwrite, data_dir, verbose):
    """Build everything of EDITION: booklets (pdf, docx, html), blank forms, catalog, exports, index.

    The folder is built beside the target and swapped in only when complete:
    a failure leaves the previous output as it was.
    """
    from .build import build_all, build_edition
    from .errors import InputError

    if bool(edition) == all_editions:
        raise InputError("give an EDITION or --all (not both); `formgen editions` lists them")
    library = _library(data_dir)
    def show(line: str) -> None:  # each part with -v; otherwise one line per edition
        if verbose or not line.startswith(" "):
            click.echo(line, err=True)
    if all_editions:
        results = build_all(library, output, overwrite=overwrite, progress=show)
        click.echo(f"built {len(results)} edition(s) in {output or 'output'}", err=True)
        return
    result = build_edition(library, edition, output, overwrite=overwrite, progress=show if verbose else None)
    click.echo(result.summary(), err=True)


@cli.group()
def templates():
    """Word and Excel templates generated from the form data."""


@templates.command("build")
@click.option("--format", "fmts", type=click.Choice(["docx", "xlsx"]), multiple=True,
              help="Only this format (default: both).")
@data_option
def templates_build(fmts, data_dir):
    """Regenerate templates/docx and templates/xlsx from data/forms (commit the result)."""
    from importlib import import_module
    from .library import PACKAGE_ROOT
    from .output import atomic_path

    library = _library(data_dir)
    for fmt in fmts or ("docx", "xlsx"):
        module = import_module(f"formgen.writers.{fmt}")
        for form in library.forms.values():
            target = PACKAGE_ROOT / "templates" / fmt / f"{form.id}.{fmt}"
            with atomic_path(target) as tmp:
                module.build_template(form, tmp)
        click.echo(f"wrote {len(library.forms)} {fmt} templates to {PACKAGE_ROOT / 'templates' / fmt}", err=True)


def main(argv=None):
    """Entry point: one line on stderr for any user-facing error, never a traceback.

    The garbage collector is off while the modules and the library load (`_library` turns it
    back on): start-up makes hundreds of thousands of objects that live as long as the
    command, and collecting among them costs a tenth of the start-up for nothing.
    """
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        cli.main(args=argv, prog_name="formgen", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("formgen: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except FormgenError as exc:
        click.echo(f"formgen: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("formgen: interrupted; nothing half-written was kept", err=True)
        sys.exit(130)
    except OSError as exc:
        click.echo(f"formgen: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), err=True)
        sys.exit(1)
    finally:
        if gc_was_enabled:
            gc.enable()


if __name__ == "__main__":
    main()
