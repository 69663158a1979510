"""The built-in data carries the seeds' facts, structured."""
import re

import pytest

from formgen.flows import expand


def test_every_builtin_edition_loads_and_checks_clean(library):
    assert sorted(library.editions) == ["henan-2024", "henan-flowcharts", "puyang", "wolong", "yunnan"]
    assert not library.errors()
    assert len(library.forms) == 17


def test_editions_name_their_seed(library):
    sources = {e: library.editions[e].edition.source for e in library.editions}
    assert sources == {
        "henan-flowcharts": "000_d4623e402ea98d40.txt", "henan-2024": "001_80902c80db40ac4f.txt",
        "puyang": "002_d938c4127cc63e97.txt", "wolong": "003_e5f79abfcf1f92fc.txt",
        "yunnan": "004_064aa0d9a171c7e4.txt"}


def test_henan_catalog_has_28_items_with_the_seed_codes(library):
    catalog = library.edition("henan-2024")
    assert len(catalog.items) == 28
    assert [i.number for i in catalog.items] == [str(n) for n in range(1, 29)]
    codes = [i.code for i in catalog.items]
    assert codes[:3] == ["002036001001", "002036001002", "002036001003"]
    assert codes[9] == "002036003002"          # printed so in the seed (the only item of group 三)
    assert codes[15] == "002036005000"         # 门诊慢特病: the seed's own code
    assert codes[-1] == "002036010002"
    assert len(set(codes)) == 28
    assert [g.code for g in catalog.edition.groups][:2] == ["00203600100Y", "00203600200Y"]
    assert catalog.items[0].levels == ["A", "B", "C", "D"]
    assert catalog.items[0].time_limit.value == 5 and catalog.items[0].time_limit.unit == "工作日"


def test_catalog_flows_follow_the_printed_process(library):
    catalog = library.edition("henan-2024")
    for item in catalog.items:
        chain = "—".join(n.text for n in expand(item.flows[0], library.presets).main_chain())
        assert chain == item.procedure[0], item.id


def test_biao7_has_the_seed_fields_and_options_in_order(library):
    form = library.edition("wolong").find_form("表7")
    assert form.title == "河南省异地就医登记备案表"
    fields = {f.id: f for f, _ in form.fields()}
    labels = [f.label for f, _ in form.fields()]
    assert labels[:3] == ["姓名", "性别", "险种"]
    assert labels.index("身份证件号码") < labels.index("参保地联系地址") < labels.index("联系电话1")
    assert fields["insurance_type"].options == ["职工医保", "城乡居民医保"]
    assert fields["person_category"].options == [
        "异地安置退休人员", "异地长期居住人员", "长驻异地工作人员", "异地转诊人员", "其他"]
    assert fields["registration_type"].options == ["新增", "变更"]
    assert fields["id_number"].type == "id_number"
    texts = " ".join(c.text or "" for r in form.rows for c in r.cells)
    items = [i for r in form.rows for c in r.cells for i in c.items]
    assert len(items) == 6 and items[0].startswith("异地就医备案时")
    assert "承诺书" in texts


def test_biao14_is_also_called_biao8(library):
    wolong = library.edition("wolong")
    assert wolong.find_form("表8") is wolong.find_form("表14")


@pytest.mark.parametrize("index", range(31))
def test_every_yunnan_item_has_its_nine_sections(library, index):
    yunnan = library.edition("yunnan")
    assert len(yunnan.items) == 31
    item = yunnan.items[index]
    assert item.name and item.objects and item.methods and item.procedure
    assert item.time_limit and item.time_limit.text
    assert item.contacts is not None                     # 七、单位地址及监督电话 (blank in the seed)
    assert item.satisfaction == ["非常满意", "满意", "一般", "不满意"]
    assert item.flows and item.flows[0].nodes
    # 申办材料: in the list, or (two settlement items) only in the chart's materials box
    assert item.materials or any(n.kind == "materials" for n in item.flows[0].nodes)


def test_yunnan_disease_lists_are_data(library):
    item = next(i for i in library.edition("yunnan").items if i.diseases)
    sizes = sorted(len(d.diseases) for d in item.diseases)
    assert sizes == [15, 25]
    # one disease per entry: separators only inside a disease's own parenthesis
    bare = [re.sub(r"[(（][^)）]*[)）]", "", name) for d in item.diseases for name in d.diseases]
    assert all(not re.search(r"[、，；]", name) for name in bare)


def test_wolong_phones_differ_per_package(library):
    packages = library.edition("wolong").packages
    assert len(packages) == 8
    phones = {p.contacts.consult_phone[0][:13] for p in packages if p.contacts and p.contacts.consult_phone}
    assert {"0377-63111116", "0377-63226915", "0377-63226913"} <= phones


def test_puyang_keeps_its_own_numbering(library):
    puyang = library.edition("puyang")
    by_number = {i.number: i for i in puyang.items}
    assert by_number["23"].name == "一次性生育补助金支付"
