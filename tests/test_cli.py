"""The CLI contract users script against."""
import json


def test_editions_json(run, mini):
    result = run("editions", "--json", data=mini)
    rows = {r["id"]: r for r in json.loads(result.output)}
    assert rows["prov"]["items"] == 2 and rows["prov"]["forms"] == 1 and rows["prov"]["style"] == "catalog"
    assert rows["county"]["items"] == 1


def test_items_and_forms_json(run, mini):
    items = json.loads(run("items", "prov", "--json", data=mini).output)
    assert [i["code"] for i in items] == ["002036001001", "002036001002"]
    forms = json.loads(run("forms", "prov", "--json", data=mini).output)
    assert forms[0]["number"] == "表1"
    assert [f["id"] for f in forms[0]["fields"]] == ["name", "gender", "id_number"]
    assert forms[0]["fields"][1]["options"] == ["男", "女"]


def test_export_json_and_markdown(run, mini, tmp_path):
    data = json.loads(run("export", "prov", "--format", "json", data=mini).output)
    assert data["edition"]["id"] == "prov"
    assert data["items"][0]["charts"][0]["nodes"][0]["text"] == "申请"
    out = tmp_path / "prov.md"
    result = run("export", "prov", "--format", "md", "-o", out, data=mini)
    assert result.exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert "单位参保登记" in text and "002036001001" in text and "样例省样例登记表" in text
    import pytest
    from formgen.errors import InputError
    with pytest.raises(InputError, match="already exists; choose another -o or pass --overwrite"):
        run("export", "prov", "--format", "json", "-o", out, data=mini)
    assert out.read_text(encoding="utf-8") == text  # nothing overwritten by surprise
    assert run("export", "prov", "--format", "json", "-o", out, "--overwrite", data=mini).exit_code == 0
    assert json.loads(out.read_text(encoding="utf-8"))["edition"]["id"] == "prov"


def test_unknown_edition_is_one_line_and_nonzero(capsys, mini, monkeypatch):
    import pytest
    from formgen.cli import main
    monkeypatch.setenv("FORMGEN_DATA", str(mini))
    with pytest.raises(SystemExit) as exit_info:
        main(["items", "nowhere"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no edition 'nowhere'" in err and "Traceback" not in err


def test_invalid_data_stops_commands_with_one_line(capsys, mini, monkeypatch):
    import pytest
    from formgen.cli import main
    (mini / "editions/prov/items/02-b.yaml").write_text("id: item-b\nname: x\nflows: []\nbogus: 1\n", encoding="utf-8")
    monkeypatch.setenv("FORMGEN_DATA", str(mini))
    with pytest.raises(SystemExit):
        main(["editions"])
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown key" in err and "run `formgen check`" in err


def test_a_command_on_one_edition_is_not_stopped_by_another_s_errors(run, mini, tmp_path):
    """fill and blank check the forms and their own edition (with what it extends), not every edition."""
    import pytest
    from formgen.errors import DataError
    county = mini / "editions" / "county" / "edition.yaml"
    county.write_text(county.read_text(encoding="utf-8").replace("{id: item-b,", "{id: no-such-item,"),
                      encoding="utf-8")
    made = run("blank", "sample-form", "--format", "xlsx", "--edition", "prov", "-o", tmp_path / "a.xlsx", data=mini)
    assert made.exit_code == 0 and (tmp_path / "a.xlsx").is_file()
    with pytest.raises(DataError, match="no-such-item"):
        run("blank", "sample-form", "--format", "xlsx", "--edition", "county", "-o", tmp_path / "b.xlsx", data=mini)
    checked = run("check", data=mini)
    assert checked.exit_code == 1 and "no-such-item" in checked.output
    assert not (tmp_path / "b.xlsx").exists()
