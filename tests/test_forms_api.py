"""Batches: two streaming passes over the input, names in record order, --jobs in parallel."""
import zipfile

import pytest

from formgen.errors import InputError
from formgen.forms_api import fill_forms
from formgen.inputs import open_table

GOOD_IDS = ["11010519491231002X", "110105194912310021"]  # the second has a wrong check digit


@pytest.fixture
def wolong(library):
    return library.edition("wolong")


def people_csv(tmp_path, count, bad_rows=()):
    lines = ["姓名,身份证件号码,险种"]
    for n in range(1, count + 1):
        number = GOOD_IDS[1] if n in bad_rows else GOOD_IDS[0]
        lines.append(f"人{n:03d},{number},城乡居民医保")
    path = tmp_path / "people.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def document_xml(path):
    with zipfile.ZipFile(path) as archive:
        return archive.read("word/document.xml").decode("utf-8")


def test_rows_can_be_read_again_from_the_top(tmp_path):
    source = open_table(people_csv(tmp_path, 3))
    first, second = list(source.rows()), list(source.rows())
    assert first == second and [n for n, _ in first] == [2, 3, 4]
    assert source.header == ["姓名", "身份证件号码", "险种"]


def test_two_jobs_write_the_same_files_as_one(tmp_path, wolong):
    form = wolong.find_form("表7")
    data = people_csv(tmp_path, 37)
    one, _ = fill_forms(form, wolong, data, "docx", tmp_path / "one", pattern="{姓名}")
    two, _ = fill_forms(form, wolong, data, "docx", tmp_path / "two", pattern="{姓名}", jobs=2)
    assert [p.name for p in one] == [p.name for p in two] == [f"人{n:03d}.docx" for n in range(1, 38)]
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == sorted(p.name for p in two)
    for a, b in zip(one, two):
        assert document_xml(a) == document_xml(b)
    assert "人037" in document_xml(two[-1])


def test_duplicate_names_are_numbered_in_record_order(tmp_path, wolong):
    data = tmp_path / "same.csv"
    data.write_text(f"姓名,身份证件号码\n张三,{GOOD_IDS[0]}\n张三,{GOOD_IDS[0]}\n李四,{GOOD_IDS[0]}\n", encoding="utf-8")
    targets, _ = fill_forms(wolong.find_form("表7"), wolong, data, "xlsx", tmp_path / "out", pattern="{姓名}",
                            jobs=2)
    assert [t.name for t in targets] == ["张三.xlsx", "张三-2.xlsx", "李四.xlsx"]
    assert all(t.is_file() for t in targets)


def test_skip_invalid_streams_valid_records_and_reports_the_rest(tmp_path, wolong):
    data = people_csv(tmp_path, 6, bad_rows={2, 5})
    form = wolong.find_form("表7")
    with pytest.raises(InputError, match="row 3, column 身份证件号码"):
        fill_forms(form, wolong, data, "docx", tmp_path / "refused")
    assert not (tmp_path / "refused").exists()
    targets, result = fill_forms(form, wolong, data, "docx", tmp_path / "out", skip_invalid=True, jobs=2)
    assert len(targets) == 4 and sorted(result.invalid_rows) == [3, 6]
    assert len(result.errors) == 2  # each problem once, though the input is read twice
    report = (tmp_path / "out" / "invalid-rows.csv").read_text(encoding="utf-8-sig")
    assert "check digit" in report
    assert "人004" in document_xml(targets[2])


def test_merge_puts_every_record_in_one_file(tmp_path, wolong):
    targets, _ = fill_forms(wolong.find_form("表7"), wolong, people_csv(tmp_path, 3), "docx",
                            tmp_path / "out", merge=True, jobs=2)
    assert len(targets) == 1 and targets[0].name.endswith("-合并.docx")
    xml = document_xml(targets[0])
    assert xml.index("人001") < xml.index("人002") < xml.index("人003")
