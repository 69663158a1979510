"""Excel forms: templates built from the form data, blank and filled workbooks.

Every test reopens the written file with openpyxl and looks at what a reader
(or Excel) would see: texts, merges, borders, formats, lists, print setup,
protection, sheet names.
"""
import zipfile

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from conftest import form_of
from formgen.errors import RenderError, TemplateError
from formgen.layout import Record
from formgen.writers import xlsx

ROSTER = "zhigong-canbao-dengji-biao"  # 表2: 8 people per page
YIDI = "henan-yidi-jiuyi-beian-biao"  # 表7
YN_DANWEI = "yn-danwei-canbao-xinxi-dengji"  # 附件1
ID_WITH_ZEROS_AND_X = "00000019900101123X"




def built(library, form_id, tmp_path):
    target = tmp_path / f"{form_id}.xlsx"
    xlsx.build_template(form_of(library, form_id), target)
    return load_workbook(target).worksheets[0]


def written(library, form_id, records, tmp_path, edition=None, **options):
    target = tmp_path / "out.xlsx"
    xlsx.FormWriter(form_of(library, form_id), edition, **options).write(records, target)
    return load_workbook(target)


def find(sheet, text):
    """The first cell whose text is exactly ``text``, reading row by row."""
    for row in sheet.iter_rows():
        for cell in row:
            if cell.value == text:
                return cell
    raise AssertionError(f"no cell {text!r} on sheet {sheet.title}")


def right_of(sheet, label):
    """The value cell beside a label (the first cell after the label's merge)."""
    cell = find(sheet, label)
    last_col = cell.column
    for rng in sheet.merged_cells.ranges:
        if rng.min_row == cell.row and rng.min_col == cell.column:
            last_col = rng.max_col
    return sheet.cell(cell.row, last_col + 1)


def texts(sheet):
    return [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]


def has_full_border(cell):
    return all(getattr(cell.border, side).style == "thin" for side in ("left", "right", "top", "bottom"))


# --------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------
def test_roster_template_reproduces_the_form(library, tmp_path):
    sheet = built(library, ROSTER, tmp_path)
    width = len(form_of(library, ROSTER).columns)
    assert sheet["A1"].value == "职工基本医疗保险参保登记表"
    assert sheet["A1"].font.name == "黑体" and sheet["A1"].font.b
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert f"A1:{get_column_letter(width)}1" in merged
    heading = find(sheet, "变更类别")
    assert f"{heading.coordinate}:{get_column_letter(heading.column + 5)}{heading.row}" in merged
    number = find(sheet, "序号")
    assert f"{number.coordinate}:{number.column_letter}{number.row + 1}" in merged
    labels = [c.value for c in sheet[number.row] if c.value]
    assert labels[:5] == ["序号", "姓名", "性别", "民族", "身份证件号码"]
    assert labels[-2:] == ["手机号码", "备注"]
    assert [c.value for c in sheet[number.row + 1] if c.value] == ["增加", "中断", "终止", "恢复", "在职转退休", "统筹区内转移"]
    assert sheet.cell(number.row, 2).font.name == "宋体"


def test_roster_template_grid_borders_counters_and_formats(library, tmp_path):
    sheet = built(library, ROSTER, tmp_path)
    number = find(sheet, "序号")
    first = number.row + 2
    assert [sheet.cell(first + i, 1).value for i in range(8)] == [str(n) for n in range(1, 9)]
    for row in range(number.row, first + 8):
        for col in range(1, sheet.max_column + 1):
            cell = sheet.cell(row, col)
            assert all(getattr(cell.border, side).style == "thin" for side in outline_sides(sheet, cell)), cell.coordinate
    id_cell = sheet.cell(first, find(sheet, "身份证件号码").column)
    assert id_cell.number_format == "@"
    assert sheet.cell(first, find(sheet, "手机号码").column).number_format == "@"
    assert sheet.cell(first, find(sheet, "增加").column).value == "□"


def outline_sides(sheet, cell):
    """The sides of ``cell`` on the outline of its merge (all four for a plain cell).

    openpyxl keeps only the outline of a merge's borders when it reads a file,
    and the outline is what Excel draws.
    """
    for rng in sheet.merged_cells.ranges:
        if cell.coordinate in rng:
            return [side for side, edge in (("top", cell.row == rng.min_row), ("bottom", cell.row == rng.max_row),
                                            ("left", cell.column == rng.min_col), ("right", cell.column == rng.max_col))
                    if edge]
    return ["top", "bottom", "left", "right"]


def test_roster_template_print_setup(library, tmp_path):
    sheet = built(library, ROSTER, tmp_path)
    setup = sheet.page_setup
    assert int(setup.paperSize) == 9
    assert setup.orientation == "landscape"
    assert int(setup.fitToWidth) == 1 and sheet.sheet_properties.pageSetUpPr.fitToPage
    header_end = find(sheet, "序号").row + 1
    assert sheet.print_title_rows == f"$1:${header_end}"
    assert sheet.print_area.endswith(f"$A$1:${get_column_letter(sheet.max_column)}${sheet.max_row}")
    assert sheet.oddFooter.center.text == "- &P -"
    assert sheet.page_margins.left <= 0.3


def test_template_protects_labels_and_opens_value_cells(library, tmp_path):
    sheet = built(library, YIDI, tmp_path)
    assert sheet.protection.sheet and not sheet.protection.password
    assert find(sheet, "姓名").protection.locked
    assert not right_of(sheet, "姓名").protection.locked
    assert not right_of(sheet, "身份证件号码").protection.locked


def test_template_choice_lists_and_text_cells(library, tmp_path):
    sheet = built(library, YIDI, tmp_path)
    assert sheet.page_setup.orientation == "portrait"
    insurance = right_of(sheet, "险种")
    assert insurance.value == "1.职工医保□\n2.城乡居民医保□"  # numbered, vertical: one option per line
    lists = {v.formula1: v for v in sheet.data_validations.dataValidation}
    assert '"职工医保,城乡居民医保"' in lists
    assert insurance.coordinate in lists['"职工医保,城乡居民医保"'].sqref
    assert right_of(sheet, "身份证件号码").number_format == "@"
    assert right_of(sheet, "联系电话1").number_format == "@"
    assert any(t.startswith("温馨提示\n1.异地就医备案时") for t in texts(sheet))
    assert any("□本人\n□被委托人" in t for t in texts(sheet))
    assert any("年　　月　　日" in t for t in texts(sheet))


def test_template_yunnan_unit_form(library, tmp_path):
    sheet = built(library, YN_DANWEI, tmp_path)
    assert sheet["A1"].value == "基本医疗保险单位参保信息登记表"
    assert right_of(sheet, "现统一社会信用登记证").number_format == "@"
    legal = find(sheet, "法定代表人（负责人）")
    assert f"{legal.coordinate}:{legal.column_letter}{legal.row + 2}" in {str(r) for r in sheet.merged_cells.ranges}
    first_row = sheet.cell(2, 1)
    assert first_row.value == "□新参保登记　□暂停登记　□注销登记　□拆分合并分立"
    assert any(first_row.coordinate in v.sqref for v in sheet.data_validations.dataValidation)
    assert any(t.startswith("注：受理时间") for t in texts(sheet))


def test_long_option_lists_go_to_a_hidden_column():
    from openpyxl import Workbook
    sheet = Workbook().active
    options = [f"选项{i}，" + "很长" * 20 for i in range(6)]
    assert xlsx.inline_list(options) is None
    assert xlsx.inline_list(["a,b", "c"]) is None
    formula = xlsx.hidden_list(sheet, options, 10)
    assert formula == "$J$1:$J$6" and sheet.column_dimensions["J"].hidden
    assert sheet["J6"].value == options[5]


# --------------------------------------------------------------------------
# Filled forms
# --------------------------------------------------------------------------
def yidi_record():
    return Record(values={
        "name": "=1+1",
        "gender": "女",
        "insurance_type": "城乡居民医保",
        "id_number": ID_WITH_ZEROS_AND_X,
        "insured_address": "南阳市卧龙区 A&B <路> \"5\" '号'",
        "phone1": "+8613800000000",
        "phone2": "-1",
        "dest_province": "@SUM(A1)",
        "signer": "被委托人",
        "fill_date": "2024-05-01",
    })


def test_filled_values_are_exact_text(library, tmp_path):
    book = written(library, YIDI, [yidi_record()], tmp_path)
    sheet = book.worksheets[0]
    assert len(book.worksheets) == 1
    expected = {
        "姓名": "=1+1",
        "身份证件号码": ID_WITH_ZEROS_AND_X,
        "参保地联系地址": "南阳市卧龙区 A&B <路> \"5\" '号'",
        "联系电话1": "+8613800000000",
        "联系电话2": "-1",
        "转往省（市、区）": "@SUM(A1)",
    }
    for label, value in expected.items():
        cell = right_of(sheet, label)
        assert cell.value == value and cell.data_type == "s", label
    assert right_of(sheet, "险种").value == "1.职工医保□\n2.城乡居民医保☑"
    assert any("□本人\n☑被委托人" in t for t in texts(sheet))
    assert right_of(sheet, "填表日期").value == "2024-05-01"


def test_no_formula_reaches_the_file(library, tmp_path):
    xlsx.FormWriter(form_of(library, YIDI), None).write([yidi_record()], tmp_path / "f.xlsx")
    with zipfile.ZipFile(tmp_path / "f.xlsx") as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    assert "=1+1" in sheet_xml
    assert "A&amp;B &lt;" in sheet_xml  # escaped, not raw markup
    values_only = load_workbook(tmp_path / "f.xlsx", data_only=True).worksheets[0]
    assert right_of(values_only, "姓名").value == "=1+1"


def test_long_value_makes_its_row_taller(library, tmp_path):
    blank = written(library, YIDI, None, tmp_path).worksheets[0]
    row = find(blank, "参保地联系地址").row
    record = Record(values={"insured_address": "河南省南阳市卧龙区某某街道某某社区某某路" * 4})
    filled = written(library, YIDI, [record], tmp_path).worksheets[0]
    assert filled.row_dimensions[row].height > blank.row_dimensions[row].height
    assert right_of(filled, "参保地联系地址").alignment.wrap_text


def people(count):
    return [{"name": f"职工{n}", "id_number": f"41130219900101{n:04d}", "change_add": n % 2 == 1,
             "mobile": f"138{n:08d}"} for n in range(1, count + 1)]


def test_roster_continues_over_sheets(library, tmp_path):
    record = Record(values={"unit_name": "某某有限公司", "flexible_employment": True}, rows=people(20))
    book = written(library, ROSTER, [record], tmp_path)
    assert book.sheetnames == ["第1页", "第2页", "第3页"]
    numbers, names = [], []
    for sheet in book.worksheets:
        number = find(sheet, "序号")
        first = number.row + 2
        for row in range(first, first + 8):
            if sheet.cell(row, 1).value:
                numbers.append(sheet.cell(row, 1).value)
                names.append(sheet.cell(row, 2).value)
        assert sheet.cell(2, 1).value.startswith("单位名称（公章）某某有限公司")
        assert "☑灵活就业人员" in sheet.cell(2, 1).value
    assert numbers == [str(n) for n in range(1, 21)]
    assert names == [f"职工{n}" for n in range(1, 21)]
    last = book.worksheets[2]
    first = find(last, "序号").row + 2
    assert last.cell(first + 4, 1).value is None  # no 序号 on rows without a person
    add_col = find(last, "增加").column
    assert [last.cell(first + i, add_col).value for i in range(4)] == ["☑", "□", "☑", "□"]


def test_roster_copies_keep_merges_styles_and_settings(library, tmp_path):
    record = Record(rows=people(9))
    book = written(library, ROSTER, [record], tmp_path)
    one, two = book.worksheets
    assert {str(r) for r in one.merged_cells.ranges} == {str(r) for r in two.merged_cells.ranges}
    assert two.protection.sheet
    assert two.print_title_rows == one.print_title_rows
    assert two.print_area.endswith(one.print_area.split("!")[1])
    assert int(two.page_setup.paperSize) == 9 and two.page_setup.orientation == "landscape"
    assert two.oddFooter.center.text == "- &P -"
    id_cell = two.cell(find(two, "序号").row + 2, find(two, "身份证件号码").column)
    assert id_cell.value == "411302199001010009" and id_cell.number_format == "@"
    assert has_full_border(id_cell) and not id_cell.protection.locked


def test_several_records_give_sheets_in_order(library, tmp_path):
    records = [Record(values={"name": "甲"}), Record(values={"name": "乙"})]
    book = written(library, YIDI, records, tmp_path)
    assert book.sheetnames == ["记录1", "记录2"]
    assert [right_of(s, "姓名").value for s in book.worksheets] == ["甲", "乙"]
    lists = [len(s.data_validations.dataValidation) for s in book.worksheets]
    assert lists[0] == lists[1] > 0
    rosters = [Record(rows=people(9)), Record(rows=people(2))]
    assert written(library, ROSTER, rosters, tmp_path).sheetnames == ["记录1-第1页", "记录1-第2页", "记录2"]


def test_blank_write_applies_the_edition(library, tmp_path):
    form = form_of(library, "yn-zhigong-canbao-renyuan-biandong")
    edition = library.edition("yunnan")
    edition.edition = edition.edition.model_copy(update={"placeholders": {"XX": "昆明市"}})
    target = tmp_path / "blank.xlsx"
    xlsx.FormWriter(form, edition).write(None, target)
    book = load_workbook(target)
    sheet = book.worksheets[0]
    assert sheet["A1"].value == form.title.replace("XX", "昆明市")
    assert "XX" not in "".join(texts(sheet))
    assert sheet.title == edition.form_number(form.id)
    assert book.properties.creator == edition.edition.bureau


def test_control_character_is_refused(library, tmp_path):
    with pytest.raises(RenderError, match="control character"):
        written(library, YIDI, [Record(values={"name": "张\x01三"})], tmp_path)


def test_empty_record_list_is_refused(library, tmp_path):
    with pytest.raises(RenderError, match="no records"):
        written(library, YIDI, [], tmp_path)


# --------------------------------------------------------------------------
# Template lookup
# --------------------------------------------------------------------------
def test_edition_template_wins_over_the_default(library, tmp_path, monkeypatch):
    form = form_of(library, YIDI)
    edition = library.edition("wolong")
    monkeypatch.setattr(xlsx, "TEMPLATE_DIR", tmp_path)
    assert xlsx.template_path(form, edition) is None
    xlsx.build_template(form, tmp_path / f"{form.id}.xlsx")
    assert xlsx.template_path(form, edition) == tmp_path / f"{form.id}.xlsx"
    restyled = tmp_path / edition.chain[-1] / f"{form.id}.xlsx"
    restyled.parent.mkdir()
    xlsx.build_template(form, restyled)
    book = load_workbook(restyled)
    find(book.worksheets[0], "温馨提示\n" + "\n".join(
        f"{n}.{t}" for n, t in enumerate(_tips(form), start=1))).value = "温馨提示：见背面"
    book.save(restyled)
    assert xlsx.template_path(form, edition) == restyled
    out = tmp_path / "out.xlsx"
    xlsx.FormWriter(form, edition).write([yidi_record()], out)
    sheet = load_workbook(out).worksheets[0]
    assert "温馨提示：见背面" in texts(sheet)
    assert right_of(sheet, "身份证件号码").value == ID_WITH_ZEROS_AND_X


def _tips(form):
    return next(c.items for r in form.rows for c in r.cells if c.text == "温馨提示")


def test_broken_templates_are_refused(library, tmp_path):
    form = form_of(library, YIDI)
    garbage = tmp_path / "garbage.xlsx"
    garbage.write_bytes(b"not a zip")
    with pytest.raises(TemplateError, match="not a readable .xlsx"):
        xlsx.FormWriter(form, None, template=garbage)
    other = tmp_path / "other.xlsx"
    xlsx.build_template(form_of(library, YN_DANWEI), other)
    with pytest.raises(TemplateError, match="should be merged"):
        xlsx.FormWriter(form, None, template=other)
    assert xlsx.check_template(form, other)
    good = tmp_path / "good.xlsx"
    xlsx.build_template(form, good)
    assert xlsx.check_template(form, good) == []


def test_every_form_builds_and_fills(library, tmp_path):
    for form in library.forms.values():
        writer = xlsx.FormWriter(form, None)
        writer.write(None, tmp_path / f"{form.id}-blank.xlsx")
        values = {f.id: ("是" if f.type not in ("checkbox", "multi_choice", "choice") else None)
                  for f, repeats in form.fields() if not repeats}
        values = {k: v for k, v in values.items() if v}
        rows = [{f.id: "否" for f, repeats in form.fields() if repeats and f.type not in ("checkbox", "multi_choice")}]
        writer.write([Record(values=values, rows=rows if form.repeat_row() else [])], tmp_path / f"{form.id}.xlsx")
        sheet = load_workbook(tmp_path / f"{form.id}.xlsx").worksheets[0]
        assert sheet["A1"].value == form.title
        assert sheet.protection.sheet


def test_rebuilding_a_template_changes_no_byte(library, tmp_path):
    form = form_of(library, ROSTER)
    xlsx.build_template(form, tmp_path / "a.xlsx")
    xlsx.build_template(form, tmp_path / "b.xlsx")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()


def test_edition_number_is_printed_in_the_page_header(library, tmp_path):
    edition = library.edition("wolong")
    sheet = written(library, YIDI, None, tmp_path, edition).worksheets[0]
    assert sheet.title == "表7" and sheet.oddHeader.left.text == "表7"
    assert sheet.oddFooter.center.text == "- &P -"


def test_value_problem_names_what_a_cell_cannot_hold(library):
    form = form_of(library, YIDI)
    writer = xlsx.FormWriter(form, None)
    address = next(f for f, _ in form.fields() if f.id == "insured_address")
    assert writer.value_problem(address, "南阳市卧龙区新华路22号") is None
    assert "taller than Excel allows (409 pt)" in writer.value_problem(address, "新华路" * 400)
    assert "more than an Excel cell holds (32767)" in writer.value_problem(address, "x" * 32768)


def test_template_check_finds_extra_merges(library, tmp_path):
    form = form_of(library, YN_DANWEI)
    target = tmp_path / "t.xlsx"
    xlsx.build_template(form, target)
    book = load_workbook(target)
    smap = xlsx.sheet_map(form)
    row = smap.grid_top + 1
    book.worksheets[0].merge_cells(start_row=row, start_column=1, end_row=row, end_column=smap.width)
    book.save(target)
    problems = xlsx.check_template(form, target)
    assert any("are merged but form" in p and f"A{row}:" in p for p in problems)
    with pytest.raises(TemplateError):
        xlsx.FormWriter(form, None, template=target)


def test_a_signature_right_of_a_label_that_asks_for_it_is_left_empty(library, tmp_path):
    """表5's cells right of "单位经办人（签章）" and "单位意见（盖章）" are the place to sign or
    stamp: empty on the blank form (as on paper and in the other formats); a value still shows."""
    sheet = written(library, "zhigong-canbao-xinxi-biangeng-biao", None, tmp_path).worksheets[0]
    assert right_of(sheet, "单位经办人（签章）").value in (None, "")
    assert right_of(sheet, "单位意见（盖章）").value in (None, "")
    assert "（签字）" not in texts(sheet) and "（盖章）" not in texts(sheet)
    filled = written(library, "zhigong-canbao-xinxi-biangeng-biao", [Record(values={"unit_handler": "王五"})],
                     tmp_path).worksheets[0]
    assert right_of(filled, "单位经办人（签章）").value == "王五"


def test_a_roster_date_is_an_empty_text_cell_until_written(library, tmp_path):
    """表2's 参加工作时间 column prints no 年 月 日 on each row (`layout.prints_nothing`), as
    in PDF, Word and HTML; the cell stays a text cell, and a date given is kept as written."""
    sheet = built(library, ROSTER, tmp_path)
    first = find(sheet, "序号").row + 2
    column = find(sheet, "参加工作时间").column
    cells = [sheet.cell(first + i, column) for i in range(8)]
    assert [c.value for c in cells] == [None] * 8
    assert all(c.number_format == "@" for c in cells)
    assert sum("年　　月　　日" in t for t in texts(sheet)) == 1  # the footer's 填报 date only
    rows = [{"name": "甲", "work_start_date": "2001-07-01"}, {"name": "乙"}]
    filled = written(library, ROSTER, [Record(rows=rows)], tmp_path).worksheets[0]
    assert [filled.cell(first + i, column).value for i in range(3)] == ["2001-07-01", None, None]


def test_blank_letter_prints_the_papers_samples_tight_and_a_filled_one_its_values(library, tmp_path):
    """表9's "转出地医疗保障经办机构名称：XXXXXXX" and "(第XXXX号)": the paper's samples (field
    hints) print on the blank form, as in PDF, Word and HTML, with no gap before the 号) that
    closes the bracket (`layout.reads_on`); a filled letter prints its values instead."""
    letter = "guanxi-zhuanyi-lianxihan"
    blank = texts(written(library, letter, None, tmp_path).worksheets[0])
    assert "转出地医疗保障经办机构名称：XXXXXXX" in blank
    assert "凭证号：(省份)(统筹区)(年份)(第XXXX号)" in blank, blank
    filled = texts(written(library, letter, [Record(values={"voucher_number": "0042"})], tmp_path).worksheets[0])
    assert "凭证号：(省份)(统筹区)(年份)(第0042号)" in filled
    assert not any("XXXX" in t for t in filled)


def test_the_sample_form_prints_no_number_above_its_caption(library, tmp_path):
    """Wolong's 单位变更样表 is listed as 样表 but printed unnumbered under its caption
    "…（样表）" (seed 003): no 样表 in the page header, no second （样表） under the title."""
    wolong = library.edition("wolong")
    sheet = written(library, "danwei-xinxi-biangeng-yangbiao", None, tmp_path, wolong).worksheets[0]
    assert sheet["A1"].value == "基本医疗保险参保单位信息变更登记表（样表）"
    assert not sheet.oddHeader.left.text
    assert texts(sheet).count("（样表）") == 0
    letter = written(library, "guanxi-zhuanyi-lianxihan", None, tmp_path, wolong).worksheets[0]
    assert letter.oddHeader.left.text == "表9" and "（样表）" in texts(letter)
