"""Loading and resolving editions: inheritance, numbering, placeholders."""
from formgen.library import load_library


def test_county_inherits_and_overrides(mini):
    library = load_library(mini)
    county = library.edition("county")
    assert county.chain == ["county", "prov"]
    (item,) = county.items
    assert item.name == "职工参保登记（县）"          # the county's own wording
    assert item.code == "002036001002"                # inherited from the province
    assert item.number == "1"                         # the county's own numbering
    assert county.edition.contacts.address == "样例县人民路1号"
    assert county.edition.bureau == "样例县医疗保障局"
    assert [g.id for g in county.edition.groups] == ["g1"]


def test_forms_by_number_and_placeholders(mini):
    county = load_library(mini).edition("county")
    form = county.find_form("1")
    assert form.id == "sample-form" and county.find_form("表1") is form
    assert county.form_title(form) == "样例省样例登记表"


def test_unknown_form_number_is_a_clear_error(mini):
    import pytest
    from formgen.errors import NotFound
    with pytest.raises(NotFound, match="no form '表9' in edition 'county'"):
        load_library(mini).edition("county").find_form("表9")


def _edition_with(placeholders):
    from formgen.library import ResolvedEdition
    from formgen.models import Edition
    edition = Edition.model_validate({"id": "x", "title": "t", "region": "r", "bureau": "b", "style": "catalog",
                                      "placeholders": placeholders})
    return ResolvedEdition(edition, ["x"], [], [], {}, [])


def test_placeholders_are_replaced_only_as_whole_tokens():
    edition = _edition_with({"XX": "昆明市", "XXX": "", "--": "10"})
    cases = {
        "XX城乡居民医疗保险参保登记表": "昆明市城乡居民医疗保险参保登记表",
        "《XX异地就医登记备案表》（见附件7）": "《昆明市异地就医登记备案表》（见附件7）",
        "《云南省XXX居住证》": "《云南省居住证》",          # "" is a value: the placeholder goes
        "业务经办时间为每月--日工作日时间。": "业务经办时间为每月10日工作日时间。",
        "凭证号：(第XXXX号)": "凭证号：(第XXXX号)",          # a longer run is not the placeholder
        "XXXXXXX": "XXXXXXX",
        "变更受理时间：每月1--15日": "变更受理时间：每月1--15日",  # a range between digits
        "先备案 -- 选定点 -- 持卡扫码就医": "先备案 -- 选定点 -- 持卡扫码就医",  # a dash between spaces
        "XXL码": "XXL码",
    }
    for text, expected in cases.items():
        assert edition.fill(text) == expected, text
    assert edition.fill(None) is None and edition.fill("") == ""


def test_unfilled_placeholders_print_as_written():
    edition = _edition_with({"XX": None, "--": None})
    assert edition.fill("XX表，每月--日") == "XX表，每月--日"


def test_builtin_yunnan_keeps_the_model_guides_placeholders(library):
    # The seed is a model guide for cities and counties: XX is theirs to fill (check warns).
    yunnan = library.edition("yunnan")
    titles = [yunnan.form_title(form) for form in yunnan.forms()]
    assert "XX城乡居民医疗保险参保登记表" in titles and "XX省内异地就医登记备案表" in titles
    wolong = library.edition("wolong")
    faq = [a for p in wolong.packages for q in p.faq for a in q.answer if " -- " in a]
    county = _edition_with({"--": "10"})  # a county that fills 表14's 每月--日
    assert faq and all(county.fill(a) == a for a in faq)


def test_a_county_with_its_own_items_has_only_the_forms_they_name():
    from formgen.library import form_in_use
    from formgen.models import FormRef
    ref = FormRef(number="附件3", form="jumin-dengji", aliases=["表8"])
    assert form_in_use(ref, None, '{"form": "jumin-dengji"}')  # a material's form:
    assert form_in_use(ref, None, "填写参保登记表（见附件3）。")  # named by its number
    assert form_in_use(ref, None, "见表8。")  # or by an alias
    assert not form_in_use(ref, None, "见附件31。")  # a longer number is another form
    assert not form_in_use(ref, None, "城乡居民参保登记")
    titled = FormRef(number="表15", form="x", title="城乡居民基本医疗保险参保登记表")
    assert form_in_use(titled, None, "《城乡居民基本医疗保险参保登记表》")


def test_an_edition_that_lists_its_own_forms_keeps_them_all(mini):
    data = mini
    county = data / "editions" / "county"
    (county / "items" / "01-b.yaml").write_text("id: item-b\nname: 职工参保登记（县）\n", encoding="utf-8")
    assert load_library(data).edition("county").forms() == []  # its one item names no form
    edition = county / "edition.yaml"
    edition.write_text(edition.read_text(encoding="utf-8") + "forms:\n  - {number: 表1, form: sample-form}\n",
                       encoding="utf-8")
    assert [f.id for f in load_library(data).edition("county").forms()] == ["sample-form"]
