"""Reading and validating fill input: every bad input gets one clear line, and nothing is written."""
import pytest

from formgen.errors import InputError
from formgen.fill import build_records, normalise
from formgen.inputs import read_table

GOOD_ID = "11010519491231002X"


@pytest.fixture
def biao7(library):
    return library.edition("wolong").find_form("表7")


def write(tmp_path, text, encoding="utf-8", name="in.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_encodings_are_detected(tmp_path, encoding):
    table = read_table(write(tmp_path, f"姓名,身份证件号码\n张三,{GOOD_ID}\n", encoding))
    assert table.header == ["姓名", "身份证件号码"] and table.rows == [(2, ["张三", GOOD_ID])]


@pytest.mark.parametrize("content, message", [
    ("", "file is empty"),
    ("姓名,身份证件号码\n", "only a header row"),
    ("姓名\n张三,多余\n", "2 cells but the header has 1"),
])
def test_bad_files_get_one_clear_line(tmp_path, content, message):
    with pytest.raises(InputError, match=message):
        read_table(write(tmp_path, content))


def test_binary_and_missing_files(tmp_path):
    binary = tmp_path / "x.csv"
    binary.write_bytes(b"\x00\x01\x02PK\x00" * 50)
    with pytest.raises(InputError, match="not a text file"):
        read_table(binary)
    with pytest.raises(InputError, match="file not found"):
        read_table(tmp_path / "nope.csv")


def test_wrong_forced_encoding(tmp_path):
    path = write(tmp_path, "姓名\n张三\n", "gb18030")
    with pytest.raises(InputError, match="cannot be read as utf-8"):
        read_table(path, encoding="utf-8")


def test_values_are_checked_row_by_row(tmp_path, biao7):
    csv = ("姓名,身份证件号码,险种,联系电话1,填表日期,bogus\n")
    table = read_table(write(tmp_path, csv + f"张三,{GOOD_ID},职工医保,13800138000,2024-02-30,\n"))
    result = build_records(biao7, table)
    assert [str(p) for p in result.errors] == [
        "row 1, column bogus: unknown column for 河南省异地就医登记备案表; use a field id or label "
        "(e.g. 姓名、性别、险种、人员类别、其他、登记类别、身份证件号码、参保地联系地址…; `formgen forms` lists them all)"]
    table = read_table(write(tmp_path, "姓名,身份证件号码,险种,联系电话1,填表日期\n"
                                       "张三,110105194912310021,公费,123,2024-02-30\n"))
    messages = [str(p) for p in build_records(biao7, table).errors]
    assert any("row 2, column 身份证件号码" in m and "check digit" in m for m in messages)
    assert any("row 2, column 险种" in m and "职工医保、城乡居民医保" in m for m in messages)
    assert any("row 2, column 联系电话1" in m for m in messages)
    assert any("row 2, column 填表日期" in m and "not a date" in m for m in messages)


def test_ids_and_leading_zeros_survive_and_hostile_text_is_data(tmp_path, biao7):
    table = read_table(write(tmp_path, "name,id_number,insurance_type,fill_date\n"
                                       f"\"{{{{ 7*7 }}}} & <b>\",{GOOD_ID.lower()},城乡居民医保,2024/3/1\n"))
    result = build_records(biao7, table)
    assert not result.errors
    values = result.records[0].values
    assert values["name"] == "{{ 7*7 }} & <b>"
    assert values["id_number"] == GOOD_ID
    assert values["insurance_type"] == "城乡居民医保" and values["fill_date"] == "2024年3月1日"


def test_roster_rows_become_one_record_per_unit(tmp_path, library):
    form = library.edition("wolong").find_form("表2")
    lines = ["单位名称,姓名,身份证件号码"] + [f"甲单位,人{i},{GOOD_ID}" for i in range(20)] + [f"乙单位,人X,{GOOD_ID}"]
    result = build_records(form, read_table(write(tmp_path, "\n".join(lines) + "\n")))
    assert [len(r.rows) for r in result.records] == [20, 1]


def test_checkbox_and_multi_choice_words(library):
    form = library.edition("wolong").find_form("表2")
    box = next(f for f, _ in form.fields() if f.type == "checkbox")
    assert normalise(box, "√") == (True, None) and normalise(box, "否") == (False, None)
    assert normalise(box, "maybe")[1][0] == "error"


def test_fill_cli_refuses_bad_file_and_writes_nothing(tmp_path, capsys):
    from formgen.cli import main
    data = write(tmp_path, "姓名,身份证件号码\n王五,4.11302E+17\n")
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        main(["fill", "表7", str(data), "--format", "xlsx", "--edition", "wolong", "-o", str(out)])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "row 2, column 身份证件号码" in err and "format the column as Text" in err
    assert not out.exists()


def test_name_pattern_cannot_escape_the_output_folder(tmp_path, library):
    from formgen.forms_api import fill_forms
    edition = library.edition("wolong")
    data = write(tmp_path, f"姓名,身份证件号码\n../../etc/passwd,{GOOD_ID}\n")
    out = tmp_path / "out"
    targets, _ = fill_forms(edition.find_form("表7"), edition, data, "xlsx", out, pattern="{姓名}")
    assert [t.parent for t in targets] == [out.resolve()]
    assert targets[0].name == "_etc_passwd.xlsx" or ".." not in targets[0].name
    with pytest.raises(InputError, match="already exists"):
        fill_forms(edition.find_form("表7"), edition, data, "xlsx", out, pattern="{姓名}")


def test_outputs_get_ordinary_file_permissions(tmp_path):
    import os
    from formgen.output import write_text_atomic
    target = tmp_path / "x.md"
    write_text_atomic(target, "内容")
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask
    assert target.read_text(encoding="utf-8") == "内容"
    assert [p.name for p in tmp_path.iterdir()] == ["x.md"]


def test_region_index_is_cached_and_answers_as_stdnum(tmp_path, monkeypatch):
    """The region lookup behind the ID check is read from stdnum's table once, then from the
    cache; both give stdnum's own answer for every county code (and for unknown ones)."""
    from stdnum import numdb

    from formgen import fill
    monkeypatch.setenv("FORMGEN_CACHE", str(tmp_path / "cache"))
    table = numdb.get("cn/loc")
    codes = [low + county for length, low, _, _, children in table.prefixes
             for _, county, _, _, _ in children] + ["119999", "990000", "000000"]

    def stdnum_county(code):
        info = {k: v for _, props in table.info(code) for k, v in props.items()}
        return info.get("county") if info else None

    for attempt in ("built", "cached"):
        fill._region_index.cache_clear()
        fill._region_counties.cache_clear()
        assert [fill._region_counties(c) for c in codes] == [stdnum_county(c) for c in codes], attempt
        assert list((tmp_path / "cache" / "regions").glob("*.pickle")), attempt
    fill._region_index.cache_clear()
    fill._region_counties.cache_clear()
