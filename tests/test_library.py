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
