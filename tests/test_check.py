"""`formgen check`: every class of problem is found, with file, line and key."""
from formgen.check import check_all


def problems_in(data):
    return [p for p in check_all(data).problems]


def only(problems, text):
    found = [p for p in problems if text in p.message]
    assert found, f"no problem mentioning {text!r} in {[str(p) for p in problems]}"
    return found[0]


def test_mini_data_is_clean(mini):
    assert problems_in(mini) == []


def test_bad_yaml_names_file_and_line(mini):
    path = mini / "editions/prov/items/02-b.yaml"
    path.write_text("id: item-b\nname: [unclosed\nflows: []\n", encoding="utf-8")
    problem = only(problems_in(mini), "bad YAML")
    assert problem.file.endswith("editions/prov/items/02-b.yaml")
    assert problem.line in (2, 3, 4)


def test_unknown_key_names_line_and_key(mini):
    path = mini / "editions/prov/items/01-a.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "colour: blue\n", encoding="utf-8")
    problem = only(problems_in(mini), "unknown key")
    assert (problem.key, problem.line) == ("colour", 12)
    assert "spelling" in problem.fix


def test_missing_required_key(mini):
    path = mini / "editions/prov/edition.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("bureau: 样例省医疗保障局\n", ""), encoding="utf-8")
    problem = only(problems_in(mini), "required key is missing")
    assert problem.key == "bureau" and problem.file.endswith("prov/edition.yaml")


def test_material_naming_unknown_form(mini):
    path = mini / "editions/prov/items/01-a.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("form: sample-form", "form: no-such-form"),
                    encoding="utf-8")
    problem = only(problems_in(mini), "unknown form 'no-such-form'")
    assert problem.key == "materials.0.form" and problem.line == 9


def test_duplicate_codes(mini):
    path = mini / "editions/prov/items/02-b.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("002036001002", "002036001001"), encoding="utf-8")
    problem = only(problems_in(mini), "事项编码 002036001001")
    assert problem.key == "code" and problem.line == 3


def test_item_without_flow(mini):
    path = mini / "editions/prov/items/02-b.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("flows: [{preset: query}]\n", ""), encoding="utf-8")
    found = [p for p in problems_in(mini) if "has no flow" in p.message]
    # the province's file, and the county's item that inherits from it
    assert {p.file.split("/")[-3] for p in found} == {"prov", "county"}
    assert all(p.key == "flows" and p.file.endswith(("02-b.yaml", "01-b.yaml")) for p in found)


def test_conflicting_form_numbers(mini):
    path = mini / "editions/prov/edition.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "  - {number: 表1, form: sample-form}\n",
        "  - {number: 表1, form: sample-form}\n  - {number: 表8, form: sample-form}\n")
    path.write_text(text, encoding="utf-8")
    problem = only(problems_in(mini), "numbered both 表1 and 表8")
    assert problem.severity == "error" and problem.line == 10 and "aliases" in problem.fix


def test_unfilled_placeholder_is_a_warning(mini):
    path = mini / "editions/prov/edition.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("{XX: 样例省}", "{XX: null}"), encoding="utf-8")
    problems = problems_in(mini)
    problem = only(problems, "placeholder 'XX' has no value")
    assert problem.severity == "warning" and problem.key == "placeholders.XX"
    assert not [p for p in problems if p.severity == "error"]


def test_grid_row_width_is_checked(mini):
    path = mini / "forms/sample-form.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("colspan: 3", "colspan: 2"), encoding="utf-8")
    problem = only(problems_in(mini), "row spans 3 columns but the form has 4")
    assert problem.key == "rows[1]" and problem.line == 12


def test_every_problem_is_reported_at_once(mini):
    (mini / "editions/prov/items/01-a.yaml").write_text("id: item-a\nname: x\nflows: [{preset: nope}]\n",
                                                         encoding="utf-8")
    (mini / "forms/sample-form.yaml").write_text(
        (mini / "forms/sample-form.yaml").read_text(encoding="utf-8") + "zzz: 1\n", encoding="utf-8")
    (mini / "editions/county/edition.yaml").write_text(
        (mini / "editions/county/edition.yaml").read_text(encoding="utf-8").replace("extends: prov", "extends: nowhere"),
        encoding="utf-8")
    messages = " | ".join(p.message for p in problems_in(mini))
    for expected in ("unknown key", "unknown flow preset 'nope'", "extends unknown edition 'nowhere'"):
        assert expected in messages


def test_cli_check_exit_codes(run, mini):
    ok = run("check", data=mini)
    assert ok.exit_code == 0 and "0 error(s)" in ok.output
    (mini / "editions/prov/items/02-b.yaml").write_text("id: item-b\nname: x\nflows: []\nbogus: 1\n", encoding="utf-8")
    bad = run("check", data=mini)
    assert bad.exit_code == 1
    assert "02-b.yaml:4 [bogus]: error: unknown key" in bad.output


def test_bad_reading_entry_names_line_key_and_fix(mini):
    path = mini / "editions/prov/items/01-a.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "flows: [{preset: standard}]\n",
        "flows:\n  - preset: standard\n    reading:\n      - apply\n      - no-such-box\n"
        "      - apply>accept\n      - accept>notify\n      - title\n"), encoding="utf-8")
    problems = problems_in(mini)
    unknown = only(problems, "unknown node 'no-such-box'")
    assert (unknown.key, unknown.line) == ("flows[0].reading[1]", 15)
    assert unknown.file.endswith("prov/items/01-a.yaml")
    assert "'from>to'" in unknown.fix and "apply" in unknown.fix
    unlabelled = only(problems, "from 'apply' to 'accept' has no label")
    assert (unlabelled.key, unlabelled.line) == ("flows[0].reading[2]", 16)
    untitled = only(problems, "the flow has no title")
    assert untitled.key == "flows[0].reading[4]"
    assert len(problems) == 3  # accept>notify is a labelled edge of the preset: fine


# --------------------------------------------------------------------------
# Templates: templates/docx and templates/xlsx beside the data folder
# --------------------------------------------------------------------------
import shutil  # noqa: E402
import zipfile  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture
def templated(mini):
    """The mini data with good Word and Excel templates for its form, default and the county's own."""
    from formgen.library import load_library
    from formgen.writers import docx, xlsx
    form = load_library(mini).forms["sample-form"]
    templates = mini.parent / "templates"
    for fmt, module in (("docx", docx), ("xlsx", xlsx)):
        module.build_template(form, templates / fmt / f"sample-form.{fmt}")
        (templates / fmt / "county").mkdir()
        shutil.copy(templates / fmt / f"sample-form.{fmt}", templates / fmt / "county" / f"sample-form.{fmt}")
    return mini


def rewrite_docx(path, old, new):
    """Edit the document XML of a Word file as a bureau's Word would save it."""
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    xml = parts["word/document.xml"].decode()
    assert old in xml
    parts["word/document.xml"] = xml.replace(old, new).encode()
    with zipfile.ZipFile(path, "w") as target:
        for name, data in parts.items():
            target.writestr(name, data)


def template_problems(data, fmt_folder):
    return [p for p in problems_in(data) if f"templates/{fmt_folder}" in p.file]


def test_good_templates_are_clean(templated):
    assert problems_in(templated) == []


def test_word_template_with_unknown_tag_and_untagged_field(templated):
    path = templated.parent / "templates/docx/sample-form.docx"
    rewrite_docx(path, "{{ v.name }}", "{{ v.nmae }}")
    problems = template_problems(templated, "docx")
    unknown = only(problems, "'nmae'")
    assert unknown.file.endswith("templates/docx/sample-form.docx") and unknown.key == "tag nmae"
    assert unknown.severity == "error" and "field id" in unknown.fix
    missing = only(problems, "field 'name' of form 'sample-form' has no tag")
    assert missing.key == "field name" and "add a tag" in missing.fix
    assert not only(problems, "nmae").message.startswith(str(path))  # the file is named once, by the Problem


def test_word_template_with_tag_split_across_runs(templated):
    path = templated.parent / "templates/docx/county/sample-form.docx"
    rewrite_docx(path, "<w:t>{{ v.id_number }}</w:t>",
                 "<w:t>{{ v.id_</w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>number }}</w:t>")
    problem = only(template_problems(templated, "docx/county"), "split across runs")
    assert problem.key == "tag" and "retype" in problem.fix


def test_word_template_syntax_error(templated):
    rewrite_docx(templated.parent / "templates/docx/sample-form.docx", "{{ title }}", "{{ title }")
    assert only(template_problems(templated, "docx"), "syntax error").severity == "error"


def test_excel_template_missing_and_extra_merges(templated):
    from openpyxl import load_workbook
    path = templated.parent / "templates/xlsx/county/sample-form.xlsx"
    book = load_workbook(path)
    sheet = book.worksheets[0]
    merged = next(str(r) for r in sheet.merged_cells.ranges if r.min_row == r.max_row == 3)
    sheet.unmerge_cells(merged)  # 身份证件号码's value box, 3 columns wide
    sheet.merge_cells("A2:B2")  # 姓名 label and value in one cell: the name would be lost
    book.save(path)
    problems = template_problems(templated, "xlsx/county")
    missing = only(problems, f"cells {merged} should be merged")
    extra = only(problems, "cells A2:B2 are merged")
    assert missing.key == extra.key == "merge" and "restore" in missing.fix


@pytest.mark.parametrize("fmt", ["docx", "xlsx"])
def test_broken_template_file(templated, fmt):
    (templated.parent / f"templates/{fmt}/sample-form.{fmt}").write_bytes(b"PK\x03\x04 not really a zip")
    problem = only(template_problems(templated, fmt), "not a readable")
    assert problem.key == "template" and "templates build" in problem.fix


@pytest.mark.parametrize("fmt", ["docx", "xlsx"])
def test_template_for_unknown_form_or_edition(templated, fmt):
    folder = templated.parent / "templates" / fmt
    shutil.copy(folder / f"sample-form.{fmt}", folder / f"no-such-form.{fmt}")
    (folder / "nowhere").mkdir()
    shutil.copy(folder / f"sample-form.{fmt}", folder / "nowhere" / f"sample-form.{fmt}")
    problems = template_problems(templated, fmt)
    assert only(problems, "template for unknown form 'no-such-form'").file.endswith(f"no-such-form.{fmt}")
    assert "county, prov" in only(problems, "'nowhere' is not an edition").fix


def test_cli_check_reports_template_problems(templated, run):
    rewrite_docx(templated.parent / "templates/docx/sample-form.docx", "{{ v.name }}", "{{ v.nmae }}")
    result = run("check", data=templated)
    assert result.exit_code == 1
    assert "templates/docx/sample-form.docx [tag nmae]: error: tag names 'nmae'" in result.output


def add_sibling_county(mini, contacts: str, note: str = "") -> None:
    """A second county of the same province, written by copying the first one's file."""
    folder = mini / "editions/sibling"
    (folder / "items").mkdir(parents=True)
    (folder / "edition.yaml").write_text(
        "id: sibling\ntitle: 邻近县医疗保障经办服务指南\nregion: 样例省邻近县\nbureau: 邻近县医疗保障局\n"
        f"style: flowcharts\nextends: prov\ncontacts: {contacts}\n"
        "items:\n  - {id: item-b, number: '1'}\n", encoding="utf-8")
    if note:
        (folder / "items/01-b.yaml").write_text(f"id: item-b\nadd_notes:\n  - {note}\n", encoding="utf-8")


def test_another_countys_phone_address_or_name_is_a_warning(mini):
    add_sibling_county(mini, '{address: 邻近县中山路2号, consult_phone: ["0000-7654321", "0000-1234567"]}',
                       note="可到样例县医疗保障局咨询。")
    problems = problems_in(mini)
    phone = only(problems, "'0000-1234567' is also in edition 'county' (样例县医疗保障局)")
    assert (phone.severity, phone.key, phone.line) == ("warning", "contacts.consult_phone.1", 7)
    assert phone.file.endswith("editions/sibling/edition.yaml")
    name = only(problems, "'样例县医疗保障局' is also in edition 'county'")
    assert (name.key, name.line) == ("add_notes.0", 3) and name.file.endswith("sibling/items/01-b.yaml")
    # the sibling's file names its own place, so the number is claimed by both: both are told
    # (only an edition that reproduces a publication, `source:`, is taken to be the original)
    back = only(problems, "'0000-1234567' is also in edition 'sibling' (邻近县医疗保障局)")
    assert back.file.endswith("editions/county/edition.yaml") and back.line == 7
    assert len(problems) == 3


def test_a_copied_package_that_names_no_place_of_its_own_warns_only_the_copy(mini):
    add_sibling_county(mini, '{consult_phone: ["0000-1234567"]}')
    problems = problems_in(mini)
    assert [(p.file.split("editions/")[1], p.key) for p in problems] == [
        ("sibling/edition.yaml", "contacts.consult_phone.0")]


def test_an_edition_may_print_what_it_inherits(mini):
    add_sibling_county(mini, '{address: 邻近县中山路2号, consult_phone: ["0000-7654321"]}',
                       note="详见样例省医疗保障局网站。")  # the province's bureau: inherited, not borrowed
    assert problems_in(mini) == []


def test_an_edition_folder_without_edition_yaml_is_skipped_with_a_warning(mini, run):
    """README step 1 makes the county's folder before its edition.yaml is written."""
    (mini / "editions/newcounty/items").mkdir(parents=True)
    problem = only(problems_in(mini), "has no edition.yaml")
    assert problem.severity == "warning" and problem.file.endswith("editions/newcounty")
    result = run("items", "prov", data=mini)
    assert result.exit_code == 0 and "item-b" in result.output


# -- mistakes a county's author makes (README, "Adding a county edition") ---------
def test_two_items_with_one_number_is_an_error(mini):
    edition = mini / "editions/county/edition.yaml"
    edition.write_text(edition.read_text(encoding="utf-8") + '  - {id: item-a, number: "1"}\n', encoding="utf-8")
    problem = only(problems_in(mini), "number 1 is also given to item 'item-b'")
    assert (problem.severity, problem.key, problem.line) == ("error", "items[1].number", 10)


def test_an_item_file_for_an_item_the_county_does_not_list_is_a_warning(mini):
    (mini / "editions/county/items/01-a.yaml").write_text(
        "id: item-a\nadd_notes: [样例县居民可在乡镇便民服务中心办理。]\n", encoding="utf-8")
    problem = only(problems_in(mini), "item 'item-a' is not in this edition's items: list")
    assert (problem.severity, problem.key, problem.line) == ("warning", "id", 1)
    assert problem.file.endswith("county/items/01-a.yaml") and "{id: item-a, number: …}" in problem.fix


def test_an_item_file_with_a_wrong_id_names_the_id_not_missing_keys(mini):
    (mini / "editions/county/items/01-b.yaml").write_text(
        "id: item-bb\nadd_notes: [样例县居民可在乡镇便民服务中心办理。]\n", encoding="utf-8")
    problems = problems_in(mini)
    problem = only(problems, "no item 'item-bb' in edition 'prov' to change")
    assert (problem.severity, problem.key, problem.line) == ("error", "id", 1)
    assert "`formgen items prov`" in problem.fix
    assert not [p for p in problems if "required key" in p.message]


def test_a_county_without_a_year_is_told_it_prints_the_provinces(mini):
    province = mini / "editions/prov/edition.yaml"
    province.write_text(province.read_text(encoding="utf-8") + "year: 2024\n", encoding="utf-8")
    problem = only(problems_in(mini), "no year: the cover prints 2024年, the year of edition 'prov'")
    assert (problem.severity, problem.file.split("editions/")[1]) == ("warning", "county/edition.yaml")
    county = mini / "editions/county/edition.yaml"
    county.write_text(county.read_text(encoding="utf-8") + "year: null\n", encoding="utf-8")
    assert problems_in(mini) == []


def test_a_county_without_an_items_list_is_told_what_it_prints(mini):
    county = mini / "editions/county/edition.yaml"
    text = county.read_text(encoding="utf-8")
    county.write_text(text[:text.index("items:")], encoding="utf-8")
    problem = only(problems_in(mini), "no items: list, so the booklet prints only the 1 item(s)")
    assert (problem.severity, problem.key) == ("warning", "items") and "edition 'prov'" in problem.message
