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
