"""Format-neutral form layout (formgen/layout.py): which unfilled cells print nothing."""
import pytest

from formgen import layout
from formgen.models import Cell, Form, FormField, Row


def field(type_, **extra) -> FormField:
    return FormField(id="f", label="f", type=type_, **extra)


@pytest.mark.parametrize("type_", ["signature", "seal", "date"])
def test_a_roster_rows_signature_seal_or_date_prints_nothing(type_):
    assert layout.prints_nothing(field(type_), in_roster=True, beside_sign_label=False)


@pytest.mark.parametrize("type_", ["text", "number", "id_number", "phone", "photo"])
def test_a_roster_rows_other_fields_keep_their_blank(type_):
    assert not layout.prints_nothing(field(type_), in_roster=True, beside_sign_label=False)


@pytest.mark.parametrize("type_", ["signature", "seal", "date"])
def test_outside_a_roster_the_furniture_prints(type_):
    assert not layout.prints_nothing(field(type_), in_roster=False, beside_sign_label=False)


def test_right_of_a_signing_label_a_signature_or_seal_prints_nothing():
    assert layout.prints_nothing(field("signature"), in_roster=False, beside_sign_label=True)
    assert layout.prints_nothing(field("seal"), in_roster=False, beside_sign_label=True)
    assert not layout.prints_nothing(field("date"), in_roster=False, beside_sign_label=True)


def test_a_sample_hint_always_prints():
    assert not layout.prints_nothing(field("signature", hint="XXXX"), in_roster=True, beside_sign_label=True)


def form_with(rows: list[Row]) -> Form:
    return Form(id="t", title="t", columns=[1, 1], rows=rows)


def test_bare_cells_of_a_small_form():
    sign_label = Cell(text="单位经办人（签章）")
    beside = Cell(field=field("signature"))
    roster_date = Cell(field=FormField(id="d", label="参加工作时间", type="date"))
    roster_name = Cell(field=FormField(id="n", label="姓名"))
    date_label, date = Cell(text="日期"), Cell(field=FormField(id="when", label="日期", type="date"))
    form = form_with([Row(cells=[sign_label, beside]),
                      Row(cells=[roster_name, roster_date], repeat=3),
                      Row(cells=[date_label, date])])
    assert layout.bare_cells(form) == {id(beside), id(roster_date)}


def test_bare_cells_of_the_built_in_forms(library):
    """表5: the roster's 签字 column and the cells right of 单位经办人（签章）/单位意见（盖章）;
    表2: the roster's 参加工作时间; 表7: the place to sign right of "□本人 □被委托人 签名"."""
    def bare_ids(form_id):
        form = library.forms[form_id]
        bare = layout.bare_cells(form)
        return {c.field.id for row in form.rows for c in row.cells if id(c) in bare}

    assert bare_ids("zhigong-canbao-xinxi-biangeng-biao") == {"signature", "unit_handler", "unit_opinion_seal"}
    assert bare_ids("zhigong-canbao-dengji-biao") == {"work_start_date"}
    assert bare_ids("henan-yidi-jiuyi-beian-biao") == {"signature"}
    assert bare_ids("jumin-canbao-dengji-biao") == set()  # its dates and seals print their furniture


def test_heading_prints_a_number_the_title_does_not_say():
    plain = layout.heading("表9", "基本医疗保险关系转移接续联系函", "（样表）")
    assert plain == layout.Heading("表9", "基本医疗保险关系转移接续联系函", "（样表）")


def test_heading_drops_a_number_or_subtitle_the_title_already_says():
    """Wolong's 单位变更样表: listed as 样表, printed under its caption …（样表） alone (seed 003)."""
    wolong = layout.heading("样表", "基本医疗保险参保单位信息变更登记表（样表）", "（样表）")
    assert wolong == layout.Heading(None, "基本医疗保险参保单位信息变更登记表（样表）", None)
    henan = layout.heading("样表", "基本医疗保险参保单位信息变更登记表", "（样表）")
    assert henan == layout.Heading(None, "基本医疗保险参保单位信息变更登记表", "（样表）")
    assert layout.heading(None, "表", None) == layout.Heading(None, "表", None)
