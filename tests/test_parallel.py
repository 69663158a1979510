"""--jobs: forked workers check and write the batch exactly as one process would."""
import csv

import pytest

from benchmarks import synth
from formgen import parallel
from formgen.errors import InputError
from formgen.forms_api import fill_forms

pytestmark = pytest.mark.skipif(not parallel.available(), reason="needs the fork start method")

YIDI = "henan-yidi-jiuyi-beian-biao"
ROSTER = "zhigong-canbao-dengji-biao"


@pytest.fixture
def henan(library):
    return library.edition("henan-2024")


def write_csv(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])
    return path


def yidi_csv(tmp_path, count, bad=(), same_name=()):
    """``count`` people over several of the workers' blocks; rows in ``bad`` get a wrong check
    digit, rows in ``same_name`` all carry the name 重名 (numbered -2, -3 … in record order)."""
    rows = [list(row) for row in synth.yidi_rows(count, seed=3)]
    for index in bad:
        number = rows[index][5]
        rows[index][5] = number[:-1] + ("0" if number[-1] != "0" else "1")
    for index in same_name:
        rows[index][0] = "重名"
    return write_csv(tmp_path / "yidi.csv", synth.YIDI_COLUMNS, rows)


def test_two_jobs_write_the_same_pdfs_as_one(tmp_path, henan):
    form = henan.find_form(YIDI)
    count = 5 * parallel.BLOCK + 3  # blocks dealt to both workers, a short last one
    data = yidi_csv(tmp_path, count, bad={1, parallel.BLOCK + 2, count - 1}, same_name={0, 20, 40, 60})
    one, first = fill_forms(form, henan, data, "pdf", tmp_path / "one", pattern="{姓名}", skip_invalid=True)
    two, second = fill_forms(form, henan, data, "pdf", tmp_path / "two", pattern="{姓名}", skip_invalid=True,
                             jobs=2)
    assert [p.name for p in one] == [p.name for p in two] and len(two) == count - 3
    assert two[0].name == "重名.pdf" and {"重名-2.pdf", "重名-3.pdf", "重名-4.pdf"} <= {p.name for p in two}
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == sorted([p.name for p in two] + ["invalid-rows.csv"])
    for a, b in zip(one, two):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert [str(p) for p in first.problems] == [str(p) for p in second.problems]
    assert list(first.invalid_rows) == list(second.invalid_rows) == [3, parallel.BLOCK + 4, count + 1]
    assert (tmp_path / "one" / "invalid-rows.csv").read_text(encoding="utf-8-sig") == \
        (tmp_path / "two" / "invalid-rows.csv").read_text(encoding="utf-8-sig")


def test_errors_found_by_workers_stop_the_batch_before_anything_is_written(tmp_path, henan):
    form = henan.find_form(YIDI)
    data = yidi_csv(tmp_path, 3 * parallel.BLOCK, bad={parallel.BLOCK + 5, 2})
    with pytest.raises(InputError) as serial:
        fill_forms(form, henan, data, "pdf", tmp_path / "one")
    with pytest.raises(InputError) as forked:
        fill_forms(form, henan, data, "pdf", tmp_path / "two", jobs=2)
    assert str(serial.value) == str(forked.value)
    assert str(forked.value).index("row 4,") < str(forked.value).index(f"row {parallel.BLOCK + 7},")
    assert not (tmp_path / "two").exists()


def test_a_roster_split_between_workers_keeps_its_records_whole(tmp_path, henan):
    """Records of a roster span rows: a unit that comes back later is a record of its own."""
    form = henan.find_form(ROSTER)
    rows = list(synth.roster_rows(3 * parallel.BLOCK * 2, seed=5, per_unit=2))  # 48 units of 2 people
    rows += rows[:2]  # the first unit again, after all the others: a 49th record
    data = write_csv(tmp_path / "roster.csv", synth.ROSTER_COLUMNS, rows)
    one, _ = fill_forms(form, henan, data, "pdf", tmp_path / "one")
    two, _ = fill_forms(form, henan, data, "pdf", tmp_path / "two", jobs=2)
    assert len(one) == len(two) == 3 * parallel.BLOCK + 1
    for a, b in zip(one, two):
        assert a.read_bytes() == b.read_bytes(), a.name
