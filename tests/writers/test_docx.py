"""The Word writer: templates built from form data, blank and filled renders."""
from __future__ import annotations

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph

from conftest import form_of
from formgen.errors import TemplateError
from formgen.layout import Record
from formgen.writers import docx as word

FORMS = ["henan-yidi-jiuyi-beian-biao", "zhigong-canbao-dengji-biao", "yn-danwei-canbao-xinxi-dengji"]
HOSTILE = "A&B <c> \"d\" 'e' {{ 7*7 }}"




def all_text(document) -> str:
    """Every paragraph's text, in and out of tables, in document order."""
    return "\n".join(Paragraph(p, document).text for p in document.element.body.iter(qn("w:p")))


def cell_texts(tables) -> list[str]:
    """Texts of the tables' cells in reading order, merged cells once."""
    seen, texts = set(), []
    for table in tables:
        for row in table.rows:
            for cell in row.cells:
                if cell._tc not in seen:  # the element itself: id() of a freed proxy is reused
                    seen.add(cell._tc)
                    texts.append(cell.text)
    return texts


def render(library, form_id, records, tmp_path, edition="wolong"):
    form = form_of(library, form_id)
    ed = library.edition(edition) if edition else None
    target = tmp_path / f"{form_id}.docx"
    word.FormWriter(form, ed).write(records, target)
    return form, Document(str(target))


@pytest.mark.parametrize("form_id", FORMS)
def test_built_template_passes_its_check(library, tmp_path, form_id):
    form = form_of(library, form_id)
    target = tmp_path / "t.docx"
    word.build_template(form, target)
    assert word.check_template(form, target) == []


def test_check_finds_unknown_missing_and_split_tags(library, tmp_path):
    form = form_of(library, "henan-yidi-jiuyi-beian-biao")
    target = tmp_path / "t.docx"
    word.build_template(form, target)
    document = Document(str(target))
    name_run = next(r for p in document.element.body.iter(qn("w:r")) for r in [p]
                    if "v.name " in "".join(t.text or "" for t in r.iter(qn("w:t"))))
    name_run.find(qn("w:t")).text = "{{ v.nmae }}"
    paragraph = document.add_paragraph()
    paragraph.add_run("{{ v.gen")
    paragraph.add_run("der }}")
    document.save(str(target))
    problems = "\n".join(word.check_template(form, target))
    assert "'nmae'" in problems
    assert "field 'name'" in problems and "no tag" in problems
    assert "split across runs" in problems
    with pytest.raises(TemplateError):
        word.FormWriter(form, None, template=target)


def test_blank_form_has_title_labels_boxes_and_fonts(library, tmp_path):
    form, document = render(library, "henan-yidi-jiuyi-beian-biao", None, tmp_path)
    text = all_text(document)
    assert "河南省异地就医登记备案表" in text
    assert "表7" in text
    cells = cell_texts(document.tables)
    labels = [c.text for row in form.rows for c in row.cells if c.text and c.role == "label"]
    positions = [next(i for i, t in enumerate(cells) if t.startswith(label)) for label in labels]
    assert positions == sorted(positions)  # labels in the form's order
    assert "1.职工医保□" in text and "2.城乡居民医保□" in text  # numbered_options: as the seed prints them
    assert "☑" not in text and "{{" not in text
    title_run = next(r for p in document.paragraphs for r in p.runs if "异地就医登记备案表" in r.text)
    assert title_run.font.bold and title_run._element.rPr.rFonts.get(qn("w:eastAsia")) == "黑体"
    body_run = next(r for t in document.tables for c in t._cells for p in c.paragraphs for r in p.runs
                    if r.text == "姓名")
    assert body_run._element.rPr.rFonts.get(qn("w:eastAsia")) == "宋体"
    defaults = document.styles.element.find(qn("w:docDefaults"))
    assert defaults.find(".//" + qn("w:rFonts")).get(qn("w:eastAsia")) == "宋体"
    assert defaults.find(".//" + qn("w:lang")).get(qn("w:eastAsia")) == "zh-CN"
    section = document.sections[0]
    assert abs(section.page_width.mm - 210) < 1 and abs(section.page_height.mm - 297) < 1


def test_blank_form_numbers_its_hints_and_roster_rows_as_the_paper(library, tmp_path):
    _, document = render(library, "henan-yidi-jiuyi-beian-biao", None, tmp_path)
    text = all_text(document)
    assert "\n1.异地就医备案时" in text and "\n6.未按规定办理备案手续" in text  # 温馨提示, numbers as text
    form, roster = render(library, "zhigong-canbao-dengji-biao", None, tmp_path)
    column = [row.cells[0].text for row in roster.tables[0].rows]
    slots = form.repeat_row().repeat
    assert [str(n) for n in range(1, slots + 1)] == column[-slots:]  # 序号 on every blank row


@pytest.mark.parametrize("docxtpl", [False, True])
def test_blank_form_prints_a_fields_sample_value_and_a_filled_one_does_not(library, tmp_path, docxtpl):
    """表9's "转出地医疗保障经办机构名称：XXXXXXX" and "(第XXXX号)": the paper's sample values
    (field hints) print on the blank form, as in the PDF and HTML; a filled letter prints its values."""
    form, edition = form_of(library, "guanxi-zhuanyi-lianxihan"), library.edition("wolong")
    writer = word.FormWriter(form, edition, docxtpl=docxtpl)
    writer.write(None, tmp_path / "blank.docx")
    blank = all_text(Document(str(tmp_path / "blank.docx")))
    assert "转出地医疗保障经办机构名称：XXXXXXX" in blank and "(第XXXX号)" in blank, blank  # no gap before 号)
    writer.write([Record(values={"voucher_number": "0042"})], tmp_path / "filled.docx")
    filled = all_text(Document(str(tmp_path / "filled.docx")))
    assert "XXXX" not in filled and "(第0042号)" in filled


def test_no_second_signature_mark_where_the_words_already_ask_for_one(library, tmp_path):
    """A roster's 签字 column, and the cells right of "单位经办人（签章）" and 表7's "签名", are the
    place to sign: empty, as on paper (the PDF and HTML forms leave them empty too)."""
    _, changes = render(library, "zhigong-canbao-xinxi-biangeng-biao", None, tmp_path)
    cells = cell_texts(changes.tables)
    assert "（签字）" not in cells and "（盖章）" not in cells, cells
    assert cells[cells.index("单位经办人（签章）") + 1] == ""
    _, yidi = render(library, "henan-yidi-jiuyi-beian-biao", None, tmp_path)
    assert "（签字）" not in all_text(yidi)


def test_a_date_prints_the_furniture_its_paper_prints(library, tmp_path):
    """表15's 出生日期 cell reads 年 月 (no 日) on the blank form, as the paper does."""
    _, jumin = render(library, "jumin-canbao-dengji-biao", None, tmp_path)
    cells = cell_texts(jumin.tables)
    assert cells[cells.index("出生日期") + 1].split() == ["年", "月"], cells


def test_filled_values_appear_literally_and_choice_is_ticked(library, tmp_path):
    values = {"name": "张三丰", "insured_address": HOSTILE, "insurance_type": "城乡居民医保"}
    form, document = render(library, "henan-yidi-jiuyi-beian-biao", [Record(values=values)], tmp_path)
    text = all_text(document)
    assert "张三丰" in text
    assert HOSTILE in text  # escaped in the XML, literal in Word; never evaluated to 49
    assert "2.城乡居民医保☑" in text and "1.职工医保□" in text


def test_blank_without_edition_keeps_form_title(library, tmp_path):
    _, document = render(library, "yn-danwei-canbao-xinxi-dengji", None, tmp_path, edition=None)
    assert library.forms["yn-danwei-canbao-xinxi-dengji"].title in all_text(document)


def test_roster_of_twenty_fills_three_landscape_pages(library, tmp_path):
    people = [{"name": f"职工{i}", "id_number": "41130219900101001X", "change_add": i % 2 == 0}
              for i in range(1, 21)]
    record = Record(values={"unit_name": HOSTILE}, rows=people)
    _, document = render(library, "zhigong-canbao-dengji-biao", [record], tmp_path)
    assert len(document.tables) == 3
    breaks = document.element.body.findall(".//" + qn("w:pageBreakBefore"))
    assert len(breaks) == 2
    text = all_text(document)
    assert all(f"职工{i}" in text for i in range(1, 21))
    assert text.count(HOSTILE) == 3  # the unit's fields repeat on every page
    last = cell_texts([document.tables[2]])
    assert "17" in last and "20" in last and "职工20" in last
    section = document.sections[0]
    assert section.page_width > section.page_height


def test_several_records_in_one_file(library, tmp_path):
    records = [Record(values={"name": "甲"}), Record(values={"name": "乙"})]
    _, document = render(library, "henan-yidi-jiuyi-beian-biao", records, tmp_path)
    assert len(document.tables) >= 2
    text = all_text(document)
    assert text.index("甲") < text.index("乙")


# -- the compiled fast path against docxtpl -----------------------------------------
def body_xml(path) -> str:
    import zipfile
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        return archive.read("word/document.xml").decode("utf-8")


@pytest.mark.parametrize("form_id, records", [
    ("henan-yidi-jiuyi-beian-biao", [Record(values={"name": "张三", "insured_address": HOSTILE + "\n第二行",
                                                   "insurance_type": "职工医保", "fill_date": "2024年3月1日"})]),
    ("henan-yidi-jiuyi-beian-biao", None),
    ("zhigong-canbao-dengji-biao", [Record(values={"unit_name": "{_{ x }_}", "flexible_employment": True},
                                           rows=[{"name": f"职工{i}", "change_add": i % 3 == 0} for i in range(11)]),
                                    Record(values={"unit_name": "乙"}, rows=[{"name": "丙"}])]),
])
def test_compiled_template_writes_what_docxtpl_writes(library, tmp_path, form_id, records):
    form, edition = form_of(library, form_id), library.edition("wolong")
    fast, slow = word.FormWriter(form, edition), word.FormWriter(form, edition, docxtpl=True)
    assert fast.compiled is not None and slow.compiled is None
    fast.write(records, tmp_path / "fast.docx")
    slow.write(records, tmp_path / "slow.docx")
    fast_doc, slow_doc = Document(str(tmp_path / "fast.docx")), Document(str(tmp_path / "slow.docx"))
    assert all_text(fast_doc) == all_text(slow_doc)
    assert cell_texts(fast_doc.tables) == cell_texts(slow_doc.tables)
    assert len(fast_doc.element.body.findall(".//" + qn("w:pageBreakBefore"))) == \
        len(slow_doc.element.body.findall(".//" + qn("w:pageBreakBefore")))
    assert len(fast_doc.element.body.findall(".//" + qn("w:br"))) == len(slow_doc.element.body.findall(".//" + qn("w:br")))
    assert body_xml(tmp_path / "fast.docx").count("<w:p>") + body_xml(tmp_path / "fast.docx").count("<w:p ") == \
        body_xml(tmp_path / "slow.docx").count("<w:p>") + body_xml(tmp_path / "slow.docx").count("<w:p ")


def test_templates_with_blocks_fall_back_to_docxtpl(library, tmp_path):
    form = form_of(library, "henan-yidi-jiuyi-beian-biao")
    target = tmp_path / "t.docx"
    word.build_template(form, target)
    document = Document(str(target))
    document.add_paragraph().add_run("{% if v.name %}有姓名{% endif %}")
    document.save(str(target))
    writer = word.FormWriter(form, None, template=target)
    assert writer.compiled is None
    writer.write([Record(values={"name": "王五"})], tmp_path / "out.docx")
    assert "有姓名" in all_text(Document(str(tmp_path / "out.docx")))


def test_edition_placeholders_are_filled_in_all_static_text(library, tmp_path):
    form = form_of(library, "henan-yidi-jiuyi-beian-biao")
    edition = library.edition("wolong")
    target = tmp_path / "t.docx"
    word.build_template(form, target)
    document = Document(str(target))
    document.add_paragraph().add_run("XX县医疗保障局每月--日 {{ v.name }}")
    document.sections[0].header.paragraphs[0].add_run("XX县")
    document.save(str(target))
    original = edition.edition.placeholders
    edition.edition.placeholders = {"XX": "卧龙区", "--": "2025"}
    try:
        for docxtpl in (False, True):
            out = tmp_path / f"{docxtpl}.docx"
            word.FormWriter(form, edition, template=target, docxtpl=docxtpl).write(
                [Record(values={"name": "XX与--"})], out)
            filled = Document(str(out))
            assert "卧龙区县医疗保障局每月2025日 XX与--" in all_text(filled)  # static text filled, the value kept
            assert filled.sections[0].header.paragraphs[0].text == "卧龙区县"
    finally:
        edition.edition.placeholders = original


def test_table_grid_has_the_form_column_proportions(library, tmp_path):
    """LibreOffice lays a table out by its grid columns, not the cells' widths."""
    form = form_of(library, "zhigong-canbao-dengji-biao")
    target = tmp_path / "t.docx"
    word.build_template(form, target)
    grid = Document(str(target)).tables[0]._tbl.tblGrid.findall(qn("w:gridCol"))
    widths = [int(c.get(qn("w:w"))) for c in grid]
    expected = [c / sum(form.columns) for c in form.columns]
    assert [round(w / sum(widths), 3) for w in widths] == [round(e, 3) for e in expected]


def test_text_that_closes_a_fields_bracket_follows_it_without_a_gap(library, tmp_path):
    """表15's "（…□无业成年人等）" as the seed prints it (`layout.reads_on`); a label after a
    field still stands apart."""
    _, document = render(library, "jumin-canbao-dengji-biao", None, tmp_path)
    text = all_text(document)
    assert "□无业成年人等）" in text, text


def test_the_sample_form_prints_no_number_above_its_caption(library, tmp_path):
    """Wolong's 单位变更样表 is listed as 样表 but printed unnumbered under its caption
    "…（样表）" (seed 003): no 样表 above the title, no second （样表） under it."""
    _, document = render(library, "danwei-xinxi-biangeng-yangbiao", None, tmp_path)
    heading = [p.text for p in document.paragraphs[:3]]
    assert heading == ["", "基本医疗保险参保单位信息变更登记表（样表）", ""], heading
    _, numbered = render(library, "guanxi-zhuanyi-lianxihan", None, tmp_path)
    assert [p.text for p in numbered.paragraphs[:3]] == ["表9", "基本医疗保险关系转移接续联系函", "（样表）"]
