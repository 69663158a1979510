"""PDF forms: drawn with fpdf2, fields added with pypdf.

Every test reopens the written file with pypdf (and poppler's pdftotext where its
reading of the page matters) and looks at what a reader or a PDF viewer gets: page
size and count, embedded fonts, text, fillable fields, ticks drawn in boxes.
"""
import re
import shutil
import subprocess

import pytest
from pypdf import PdfReader
from pypdf.generic import ContentStream

from formgen.errors import RenderError
from formgen.layout import Record
from formgen.models import Form
from formgen.writers import pdf

YIDI = "henan-yidi-jiuyi-beian-biao"  # 表7: choices, 温馨提示, 承诺书, footer
JUMIN = "jumin-canbao-dengji-biao"  # 表15: inline blanks, checkboxes, dates
YN_DANWEI = "yn-danwei-canbao-xinxi-dengji"  # 附件1
ROSTER = "zhigong-canbao-dengji-biao"  # 表2: 8 people per page, landscape
HOSTILE = "& < > \" ' {{ 7*7 }}"
A4 = (595.28, 841.89)


@pytest.fixture(scope="module")
def lib():
    from formgen.library import load_library
    return load_library()


@pytest.fixture(scope="module")
def wolong(lib):
    return lib.edition("wolong")


def form_of(lib, form_id):
    if form_id not in lib.forms:
        pytest.skip(f"form {form_id} does not load right now")
    return lib.forms[form_id]


def written(lib, form_id, records, tmp_path, edition=None, **options):
    target = tmp_path / f"{form_id}.pdf"
    pdf.FormWriter(form_of(lib, form_id), edition, **options).write(records, target)
    return target


def text_of(path, *args):
    """What pdftotext reads (-layout keeps each printed line on one line)."""
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils not installed")
    return subprocess.run(["pdftotext", *args, str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def font_descriptors(reader):
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", []):
                yield font["/BaseFont"], descendant.get_object()["/FontDescriptor"].get_object()


# -- blank forms ----------------------------------------------------------------
@pytest.mark.parametrize("form_id", [YIDI, JUMIN, YN_DANWEI])
def test_blank_form_is_a4_with_embedded_subset_fonts(lib, tmp_path, form_id):
    path = written(lib, form_id, None, tmp_path)
    assert path.read_bytes().startswith(b"%PDF-1.6")  # CID-keyed CFF fonts, AcroForm
    reader = PdfReader(path)
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width), 1), round(float(box.height), 1)) == (round(A4[0], 1), round(A4[1], 1))
    fonts = dict(font_descriptors(reader))
    assert len(fonts) == 2  # serif body, sans bold title and labels
    for name, descriptor in fonts.items():
        assert re.match(r"^/[A-Z]{6}\+", name), f"{name} is not marked as a subset"
        assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), f"{name} not embedded"
    assert any("NotoSerifCJKSC" in n for n in fonts) and any("NotoSansCJKSCBold" in n for n in fonts)


def test_pdffonts_sees_every_font_embedded(lib, tmp_path):
    if not shutil.which("pdffonts"):
        pytest.skip("poppler-utils not installed")
    out = subprocess.run(["pdffonts", str(written(lib, YIDI, None, tmp_path))], capture_output=True,
                         text=True, check=True).stdout
    rows = out.splitlines()[2:]
    assert len(rows) == 2
    assert all(row.split()[-5:-3] == ["yes", "yes"] for row in rows), out  # emb, sub


def test_blank_form_text_has_number_title_labels_and_notes(lib, wolong, tmp_path):
    text = text_of(written(lib, YIDI, None, tmp_path, wolong), "-layout")
    assert text.lstrip().startswith("表7")
    for words in ["河南省异地就医登记备案表", "姓名", "性别", "险种", "职工医保", "城乡居民医保",
                  "人员类别", "异地安置退休人员", "身份证件号码", "温馨提示", "http://fuwu.nhsa.gov.cn",
                  "承诺书", "签名", "经办机构（盖章）："]:
        assert words in text, words
    assert "6.未按规定办理备案手续" in text  # the last tip: numbered, nothing dropped


def test_labels_read_row_by_row_left_to_right(lib, tmp_path):
    text = text_of(written(lib, YIDI, None, tmp_path), "-raw")
    labels = ["姓名", "性别", "险种", "人员类别", "登记类别", "身份证件号码", "参保地联系地址",
              "就医地联系地址", "联系电话1", "联系电话2", "温馨提示", "承诺书", "填表日期"]
    positions = [text.index(label) for label in labels]
    assert positions == sorted(positions)
    layout_line = next(line for line in text_of(written(lib, YIDI, None, tmp_path), "-layout").splitlines()
                       if "性别" in line)
    assert layout_line.index("姓名") < layout_line.index("性别") < layout_line.index("险种")


def test_metadata_title_author_creator(lib, wolong, tmp_path):
    meta = PdfReader(written(lib, YIDI, None, tmp_path, wolong)).metadata
    assert meta.title == "河南省异地就医登记备案表"
    assert meta.author == "卧龙区医疗保障局"
    assert meta.creator == "formgen"
    assert PdfReader(written(lib, YIDI, None, tmp_path)).metadata.author == "formgen"


def test_blank_form_has_fillable_fields_named_by_field_id(lib, tmp_path):
    reader = PdfReader(written(lib, YIDI, None, tmp_path))
    fields = reader.get_fields()
    assert fields["name"]["/FT"] == "/Tx"
    widgets = {a.get_object().get("/T"): a.get_object() for a in reader.pages[0]["/Annots"]}
    assert widgets["id_number"]["/MaxLen"] == 18
    assert fields["fill_date"]["/FT"] == "/Tx"  # dates are text fields over 年 月 日
    radio = fields["insurance_type"]
    assert radio["/FT"] == "/Btn" and radio["/Ff"] & (1 << 15)  # choice: a radio group
    assert list(radio["/Opt"]) == ["职工医保", "城乡居民医保"]
    assert set(radio["/_States_"]) == {"/0", "/1", "/Off"}
    assert len(fields["person_category"]["/Kids"]) == 5
    assert "signature" not in fields  # signed on paper
    assert "agency_seal" not in fields
    assert reader.trailer["/Root"]["/AcroForm"]["/Fields"]


def test_every_widget_has_an_appearance_inside_the_page(lib, tmp_path):
    reader = PdfReader(written(lib, JUMIN, None, tmp_path))
    page = reader.pages[0]
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    widgets = [a.get_object() for a in page["/Annots"]]
    assert len(widgets) > 10
    for widget in widgets:
        x1, y1, x2, y2 = map(float, widget["/Rect"])
        assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height
        assert "/N" in widget["/AP"]
        if "/AS" in widget:  # a box: an "on" look with a tick and an "off" look
            assert len(widget["/AP"]["/N"]) == 2


def test_checkbox_and_multi_choice_field_names(lib, tmp_path):
    fields = PdfReader(written(lib, JUMIN, None, tmp_path)).get_fields()
    assert fields["review_pass"]["/FT"] == "/Btn"
    assert set(fields["review_pass"]["/_States_"]) == {"/Yes", "/Off"}
    multi = [f for f in form_of(lib, JUMIN).fields() if f[0].type == "multi_choice"]
    for field_, _ in multi:
        assert f"{field_.id}.0" in fields


def test_roster_fields_carry_the_row_number(lib, tmp_path):
    reader = PdfReader(written(lib, ROSTER, None, tmp_path))
    fields = reader.get_fields()
    for n in range(1, 9):
        assert f"name_{n}" in fields and f"change_add_{n}" in fields
    assert "name_9" not in fields and "name" not in fields
    assert "unit_name" in fields and "flexible_employment" in fields
    box = reader.pages[0].mediabox
    assert float(box.width) > float(box.height)  # landscape


# -- filled forms ----------------------------------------------------------------
def yidi_record(**values):
    base = {"name": "欧阳娜娜", "gender": "女", "insurance_type": "城乡居民医保",
            "person_category": "其他", "person_category_other": HOSTILE, "registration_type": "新增",
            "id_number": "11010519491231002X", "phone1": "13800138000", "signer": "被委托人",
            "fill_date": "2024年5月6日", "handle_date": "2024-05-07"}
    base.update(values)
    return Record(values=base)


def test_filled_values_print_literally_and_the_form_has_no_fields(lib, wolong, tmp_path):
    path = written(lib, YIDI, [yidi_record()], tmp_path, wolong)
    reader = PdfReader(path)
    assert not reader.get_fields()
    text = text_of(path, "-layout")
    for value in ["欧阳娜娜", "11010519491231002X", HOSTILE, "2024年5月6日", "2024-05-07"]:
        assert value in text, value
    assert "49" not in text.replace("11010519491231002X", "")  # {{ 7*7 }} is not evaluated


def test_a_value_no_option_matches_is_printed_not_lost(lib, tmp_path):
    path = written(lib, YIDI, [yidi_record(insurance_type="新农合", registration_type="")], tmp_path)
    assert "新农合" in text_of(path)
    rects, strokes = boxes_and_strokes(PdfReader(path))
    assert len(ticked(rects, strokes)) == 2  # 其他 and 被委托人 only


def test_line_breaks_in_a_value_are_kept(lib, tmp_path):
    path = written(lib, YIDI, [yidi_record(insured_address="南阳市卧龙区\n新华路22号")], tmp_path)
    lines = [line.strip() for line in text_of(path, "-layout").splitlines()]
    assert any(line.endswith("南阳市卧龙区") for line in lines)
    assert any(line.startswith("新华路22号") or "新华路22号" in line.split()[0:2] for line in lines)


def test_long_value_wraps_and_shrinks_but_is_never_cut(lib, tmp_path):
    address = "河南省南阳市卧龙区新华路22号卧龙区政务服务中心三楼东侧医保窗口" * 3
    path = written(lib, YIDI, [yidi_record(insured_address=address)], tmp_path)
    assert len(PdfReader(path).pages) == 1
    assert address in re.sub(r"\s", "", text_of(path))


def boxes_and_strokes(reader, page_index=0):
    """The page's rectangles (boxes and nothing else here) and its straight strokes."""
    content = ContentStream(reader.pages[page_index].get_contents(), reader)
    rects, strokes, start = [], [], None
    for operands, op in content.operations:
        if op == b"re":
            rects.append(tuple(map(float, operands)))
        elif op == b"m":
            start = tuple(map(float, operands))
        elif op == b"l" and start:
            strokes.append((start, tuple(map(float, operands))))
    return rects, strokes


def ticked(rects, strokes):
    """Boxes with a stroke drawn inside them (a tick)."""
    def inside(point, rect):
        x, y, w, h = rect  # fpdf2 writes boxes with a negative height (y grows downwards)
        lo, hi = sorted((y, y + h))
        return x < point[0] < x + w and lo < point[1] < hi
    return [r for r in rects if any(inside(a, r) and inside(b, r) for a, b in strokes)]


def test_ticks_are_vector_strokes_in_the_chosen_boxes(lib, tmp_path):
    blank_rects, blank_strokes = boxes_and_strokes(PdfReader(written(lib, YIDI, None, tmp_path)))
    assert not ticked(blank_rects, blank_strokes)
    reader = PdfReader(written(lib, YIDI, [yidi_record()], tmp_path))
    rects, strokes = boxes_and_strokes(reader)
    assert rects == blank_rects  # the same boxes, at the same places
    # 城乡居民医保, 其他, 新增, 被委托人: four ticks of two strokes each
    assert len(ticked(rects, strokes)) == 4
    # drawn as strokes (CJK fonts have no ☑); text extraction reads the rows' /ActualText, ticks included
    text = text_of(tmp_path / f"{YIDI}.pdf")
    assert text.count("☑") == 4 and "2.城乡居民医保☑" in text and "☑新增□变更" in text


def test_blank_pdf_box_widgets_sit_on_the_printed_boxes(lib, tmp_path):
    reader = PdfReader(written(lib, YIDI, None, tmp_path))
    rects, _ = boxes_and_strokes(reader)
    printed = {(round(x, 1), round(y + h, 1)) for x, y, w, h in rects}  # left, bottom
    for annotation in reader.pages[0]["/Annots"]:
        widget = annotation.get_object()
        if "/AS" in widget:
            x1, y1, _, _ = map(float, widget["/Rect"])
            assert (round(x1, 1), round(y1, 1)) in printed


def test_roster_of_20_people_fills_3_pages_with_header_and_numbers(lib, wolong, tmp_path):
    people = [{"name": f"职工{n:02d}", "id_number": "11010519491231002X", "change_add": n % 2 == 0}
              for n in range(1, 21)]
    record = Record(values={"unit_name": "南阳市某某有限公司", "flexible_employment": True}, rows=people)
    path = written(lib, ROSTER, [record], tmp_path, wolong)
    reader = PdfReader(path)
    assert len(reader.pages) == 3
    pages = text_of(path, "-layout").split("\f")
    for n, page in enumerate(pages[:3]):
        assert "职工基本医疗保险参保登记表" in page and "南阳市某某有限公司" in page and "序号" in page
        first, last = 8 * n + 1, min(8 * n + 8, 20)
        assert f"职工{first:02d}" in page and f"职工{last:02d}" in page
        assert re.search(rf"^\s*{last}\s", page, re.M)  # 序号 continues across pages
    assert "职工09" not in pages[0]
    ticks = [len(ticked(*boxes_and_strokes(reader, i))) for i in range(3)]
    assert ticks == [4 + 1, 4 + 1, 2 + 1]  # even-numbered people, plus 灵活就业人员 on each page


def test_several_records_go_in_one_file_in_order(lib, tmp_path):
    records = [yidi_record(name=name) for name in ("甲一", "乙二", "丙三")]
    path = written(lib, YIDI, records, tmp_path)
    pages = text_of(path).split("\f")
    assert len(PdfReader(path).pages) == 3
    assert ["甲一" in pages[0], "乙二" in pages[1], "丙三" in pages[2]] == [True] * 3


def test_one_writer_writes_many_files(lib, tmp_path):
    writer = pdf.FormWriter(form_of(lib, YIDI), None)
    for n in range(3):
        writer.write([yidi_record(name=f"第{n}人")], tmp_path / f"{n}.pdf")
    writer.write(None, tmp_path / "blank.pdf")
    assert "第2人" in text_of(tmp_path / "2.pdf")
    assert PdfReader(tmp_path / "blank.pdf").get_fields()
    assert not PdfReader(tmp_path / "1.pdf").get_fields()


def test_no_records_is_an_error(lib, tmp_path):
    with pytest.raises(RenderError, match="no records"):
        written(lib, YIDI, [], tmp_path)


# -- pages and fonts ---------------------------------------------------------------
def test_long_notes_continue_on_a_new_page(tmp_path):
    form = Form.model_validate({
        "id": "long-notes", "title": "很长的说明", "columns": [1, 2],
        "rows": [{"cells": [{"text": "姓名", "role": "label"}, {"field": {"id": "name", "label": "姓名"}}]}],
        "notes": [{"text": "注：", "items": [f"第{n}条说明，" + "内容很长需要换行。" * 12 for n in range(1, 41)]}],
    })
    path = tmp_path / "notes.pdf"
    pdf.FormWriter(form).write(None, path)
    assert len(PdfReader(path).pages) >= 2
    text = re.sub(r"\s", "", text_of(path))
    assert "40.第40条说明" in text and "1.第1条说明" in text


def test_missing_font_file_names_the_path_and_the_fix(lib, tmp_path, monkeypatch):
    form = form_of(lib, YIDI)
    with pytest.raises(RenderError, match=r"/no/such/font\.ttc.*apt-get install fonts-noto-cjk"):
        pdf.FormWriter(form, None, fonts={"serif": "/no/such/font.ttc"})
    monkeypatch.setenv("FORMGEN_FONT_SANS", str(tmp_path / "missing.ttf"))
    with pytest.raises(RenderError, match="missing.ttf.*FORMGEN_FONT_SANS"):
        pdf.FormWriter(form, None)


def test_other_font_files_are_embedded_too(lib, tmp_path):
    """A TrueType file (SimSun on a bureau PC; DejaVu here) goes through fpdf2's own subsetting."""
    dejavu = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
    if not shutil.which("fc-list") or not __import__("os").path.exists(dejavu):
        pytest.skip("DejaVu fonts not installed")
    reader = PdfReader(written(lib, YIDI, None, tmp_path, fonts={"serif": dejavu}))
    names = [str(name) for name, _ in font_descriptors(reader)]
    assert any("DejaVuSerif" in n for n in names) and any("NotoSansCJK" in n for n in names)
    assert all(any(k in d for k in ("/FontFile2", "/FontFile3")) for _, d in font_descriptors(reader))


def test_fast_cff_subset_draws_the_same_glyphs_as_the_font():
    """The byte-level subset's glyph programs draw exactly what the font's own do."""
    from fontTools.cffLib import CFFFontSet
    from fontTools.pens.recordingPen import RecordingPen
    from fontTools.ttLib import TTFont
    from io import BytesIO

    path = pdf._font_path("serif", {})
    if not __import__("os").path.exists(path):
        pytest.skip("fonts-noto-cjk not installed")
    font = TTFont(path, fontNumber=pdf._face_index(path), lazy=True)
    source = pdf.CffSource(font.reader["CFF "])
    cmap = font.getBestCmap()
    text = "医保经办机构（盖章）：Aa1☐□年月日"
    glyphs = [(n + 1, font.getGlyphID(cmap[ord(c)])) for n, c in enumerate(text) if ord(c) in cmap]
    subset = CFFFontSet()
    subset.decompile(BytesIO(source.subset(glyphs)), None)
    original = font["CFF "].cff.topDictIndex[0].CharStrings
    order = font.getGlyphOrder()
    for code, gid in glyphs:
        expected, got = RecordingPen(), RecordingPen()
        original[order[gid]].draw(expected)
        subset.topDictIndex[0].CharStrings[f"cid{code:05d}"].draw(got)
        assert got.value == expected.value


# -- the batch path (filled forms without fpdf2) against fpdf2 --------------------------
def test_batch_path_prints_what_fpdf2_prints(lib, wolong, tmp_path):
    records = [yidi_record(name="欧阳娜娜", insured_address="南阳市卧龙区\n新华路22号"), yidi_record(name="甲一")]
    fast = pdf.FormWriter(form_of(lib, YIDI), wolong)
    slow = pdf.FormWriter(form_of(lib, YIDI), wolong, fpdf=True)
    assert fast.batch_fonts is not None and slow.batch_fonts is None
    fast.write(records, tmp_path / "fast.pdf")
    slow.write(records, tmp_path / "slow.pdf")
    assert text_of(tmp_path / "fast.pdf", "-layout") == text_of(tmp_path / "slow.pdf", "-layout")
    assert text_of(tmp_path / "fast.pdf", "-raw") == text_of(tmp_path / "slow.pdf", "-raw")  # drawing order
    fast_reader, slow_reader = PdfReader(tmp_path / "fast.pdf"), PdfReader(tmp_path / "slow.pdf")
    assert len(fast_reader.pages) == len(slow_reader.pages) == 2
    for page in range(2):
        fast_rects, fast_strokes = boxes_and_strokes(fast_reader, page)
        slow_rects, slow_strokes = boxes_and_strokes(slow_reader, page)
        assert fast_rects == slow_rects and sorted(fast_strokes) == sorted(slow_strokes)
    assert fast_reader.metadata.title == "河南省异地就医登记备案表"
    assert fast_reader.metadata.author == "卧龙区医疗保障局"


def test_rare_characters_of_a_value_get_their_own_subset(lib, tmp_path):
    """Characters the form's own text never uses are embedded per file, so any name prints."""
    writer = pdf.FormWriter(form_of(lib, YIDI), None)
    rare = "龑䶮"  # not in the form's static text
    assert not set(rare) & set(writer.batch_fonts.codes["serif"])
    writer.write([yidi_record(name=f"刘{rare}")], tmp_path / "a.pdf")
    writer.write([yidi_record(name="王五")], tmp_path / "b.pdf")
    assert f"刘{rare}" in text_of(tmp_path / "a.pdf")
    assert "王五" in text_of(tmp_path / "b.pdf") and rare not in text_of(tmp_path / "b.pdf")
    fonts = dict(font_descriptors(PdfReader(tmp_path / "a.pdf")))
    assert len(fonts) == 3  # serif and sans for the form, serif for the record's other characters
    for name, descriptor in fonts.items():
        assert re.match(r"^/[A-Z]{6}\+", name) and "/FontFile3" in descriptor
    if shutil.which("pdffonts"):
        out = subprocess.run(["pdffonts", str(tmp_path / "a.pdf")], capture_output=True, text=True).stdout
        assert all(row.split()[-5:-3] == ["yes", "yes"] for row in out.splitlines()[2:])


def test_batch_path_roster_pages_match_fpdf2(lib, wolong, tmp_path):
    people = [{"name": f"职工{n:02d}", "id_number": "11010519491231002X", "change_add": n % 2 == 0}
              for n in range(1, 12)]
    record = Record(values={"unit_name": HOSTILE, "flexible_employment": True}, rows=people)
    pdf.FormWriter(form_of(lib, ROSTER), wolong).write([record], tmp_path / "fast.pdf")
    pdf.FormWriter(form_of(lib, ROSTER), wolong, fpdf=True).write([record], tmp_path / "slow.pdf")
    assert text_of(tmp_path / "fast.pdf", "-layout") == text_of(tmp_path / "slow.pdf", "-layout")
    assert len(PdfReader(tmp_path / "fast.pdf").pages) == 2


# -- parsed fonts cached on disk ---------------------------------------------------
def test_parsed_font_comes_back_from_the_cache_unchanged(lib, tmp_path, monkeypatch):
    monkeypatch.setenv("FORMGEN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(pdf, "_PARSED", {})
    path = pdf._font_path("serif", {})
    parsed = pdf._parsed_font(path, "serif")
    entries = list((tmp_path / "cache" / "fonts").glob("*.pickle"))
    assert len(entries) == 1
    pdf._PARSED.clear()
    cached = pdf._cached_font(path, "serif")
    assert cached is not None and cached is not parsed
    # the cached cmap says which characters the font has (fpdf2's glyph names are left out)
    assert cached.cmap.keys() == parsed.cmap.keys() and cached.glyph_ids == parsed.glyph_ids
    assert dict(cached.cw) == dict(parsed.cw) and cached.cw[0x10FFFD] == parsed.desc.missing_width
    assert (cached.name, cached.collection_font_number, cached.desc.font_b_box) == \
        (parsed.name, parsed.collection_font_number, parsed.desc.font_b_box)
    entries[0].write_bytes(b"not a pickle")  # a damaged entry is parsed again, never trusted
    assert pdf._cached_font(path, "serif") is None


def test_forms_written_with_cached_fonts_are_the_same(lib, wolong, tmp_path, monkeypatch):
    form = form_of(lib, YIDI)
    record = [Record(values={"name": "张三𬌗", "insured_address": HOSTILE})]
    monkeypatch.setenv("FORMGEN_CACHE", "off")
    monkeypatch.setattr(pdf, "_PARSED", {})
    pdf.FormWriter(form, wolong).write(record, tmp_path / "parsed.pdf")
    monkeypatch.setenv("FORMGEN_CACHE", str(tmp_path / "cache"))
    pdf._PARSED.clear()
    pdf._parsed_font(pdf._font_path("serif", {}), "serif")
    pdf._parsed_font(pdf._font_path("sans", {}), "sans")  # both written to the cache
    pdf._PARSED.clear()
    pdf.FormWriter(form, wolong).write(record, tmp_path / "cached.pdf")
    assert (tmp_path / "cached.pdf").read_bytes() == (tmp_path / "parsed.pdf").read_bytes()


def test_static_text_drawn_once_prints_as_drawn_anew(lib, wolong, tmp_path):
    """Reused operators of labels and notes give the same file as drawing every page anew."""
    form = form_of(lib, ROSTER)
    records = [Record(values={"unit_name": f"单位{i}"}, rows=[{"name": f"职工{j}"} for j in range(9 + i)])
               for i in range(3)]
    reused, fresh = pdf.FormWriter(form, wolong), pdf.FormWriter(form, wolong)
    for n in range(2):  # the second file is written from what the first left in the cache
        reused.write(records, tmp_path / f"reused{n}.pdf")
        fresh.painted = None
        fresh.write(records, tmp_path / f"fresh{n}.pdf")
    assert reused.painted, "nothing was reused"
    for n in range(2):
        assert (tmp_path / f"reused{n}.pdf").read_bytes() == (tmp_path / f"fresh{n}.pdf").read_bytes()


def test_text_extraction_reads_the_grid_row_by_row(lib, tmp_path):
    """Each block of rows carries its cells' text as /ActualText: pdftotext's default mode
    (column analysis) reads the grid as a person does, a row at a time, left to right."""
    text = text_of(written(lib, YIDI, [yidi_record(insured_address="南阳市卧龙区\n新华路22号")], tmp_path))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert any(line.startswith("姓名 ") and " 性别 " in line and " 险种 1.职工医保□2.城乡居民医保☑" in line
               for line in lines), lines
    assert "参保地联系地址 南阳市卧龙区" in text and "新华路22号 就医地联系地址" in text  # the typed break kept


def test_title_and_header_lines_read_in_printed_order(lib, wolong, tmp_path):
    """表13's title is centred above "填报人：…　联系电话：…" and two stacked boxes: the lines
    carry /ActualText, so pdftotext does not read the left-hand labels as a column first."""
    text = text_of(written(lib, "jumin-canbao-xinxi-biangeng-biao", None, tmp_path, wolong))
    flat = re.sub(r"\s+", "", text)
    assert flat.startswith("表13基本医疗保险城乡居民参保信息变更登记表填报人：联系电话：□关键信息□非关键信息年月日序号"), flat[:80]


def test_roster_rows_print_no_signature_or_date_furniture(lib, wolong, tmp_path):
    """A roster's 签字 and 参加工作时间 columns are written in on each row: the heading names
    them, and the rows stay empty (as on paper, and as the Word, Excel and HTML forms do)."""
    roster = re.sub(r"\s+", "", text_of(written(lib, ROSTER, None, tmp_path, wolong)))
    assert "统筹区内转移1□□□□□□2□□□□□□3" in roster and "8□□□□□□注：" in roster, roster
    changes = re.sub(r"\s+", "", text_of(written(lib, "jumin-canbao-xinxi-biangeng-biao", None, tmp_path, wolong)))
    assert "签字备注123456经办机构意见" in changes and "（签字）" not in changes, changes


def test_a_signature_right_of_a_label_that_asks_for_it_prints_nothing(lib, wolong, tmp_path):
    """表5's "单位经办人（签章）" and "单位意见（盖章）" are followed by the place to sign or stamp:
    no second （签字）/（盖章） there; a filled value still prints."""
    blank = re.sub(r"\s+", "", text_of(written(lib, "zhigong-canbao-xinxi-biangeng-biao", None, tmp_path, wolong)))
    assert "单位经办人（签章）单位意见（盖章）经办机构意见" in blank, blank
    assert "（签字）" not in blank and "（盖章）（盖章）" not in blank
    record = Record(values={"unit_handler": "王五"})
    filled = text_of(written(lib, "zhigong-canbao-xinxi-biangeng-biao", [record], tmp_path, wolong))
    assert "单位经办人（签章） 王五 单位意见（盖章）" in filled, filled


def test_a_date_prints_the_furniture_its_paper_prints(lib, wolong, tmp_path):
    """表15's 出生日期 prints "年　　月" (no 日) and 表14's 出生年月 an empty cell, as on paper
    (the field's `furniture`); other dates keep 年 月 日."""
    jumin = re.sub(r"\s+", "", text_of(written(lib, JUMIN, None, tmp_path, wolong)))
    assert "出生日期年月联系电话" in jumin, jumin
    assert jumin.endswith("年月日")  # 收件审核's date
    shengyu = re.sub(r"\s+", "", text_of(written(lib, "henan-shengyu-daiyu-shenqing-biao", None, tmp_path, wolong)))
    assert "性别出生年月单位编码" in shengyu, shengyu
    assert shengyu.endswith("备注说明：本表一式两份。业务经办时间为每月--日工作日时间。")  # unnumbered, as printed


# -- the batch's shortcuts print exactly what the general path prints -------------------
VARIED_TEXTS = ["", "王", "李秀英", "𠮷龘董邦茗", "郑州市金水区" * 3, "郑州市金水区" * 12, "长" * 300,
                "Room 1203, Building A, No.88 Zhongshan Road", "第一行\n第二行", "A1-B2_C3/D4", "（测试），。",
                "123456789012345678901234567890", HOSTILE, "　全角空格　", "x" * 40]


def varied_yidi_records():
    """Values that fit one line and values that wrap, shrink or grow the row; rare characters,
    spaces and line breaks; empty values; every choice ticked in turn; records seen before."""
    categories = ["异地安置退休人员", "异地长期居住人员", "长驻异地工作人员", "异地转诊人员", "其他", ""]
    records = []
    for n, text in enumerate(VARIED_TEXTS * 2):
        records.append(Record(values={
            "name": text[:20] or "张三", "gender": "男" if n % 2 else "",
            "insurance_type": ["职工医保", "城乡居民医保", ""][n % 3],
            "person_category": categories[n % len(categories)],
            "person_category_other": text if n % 6 == 4 else "",
            "registration_type": ["新增", "变更"][n % 2],
            "id_number": "11010519491231002X", "insured_address": text,
            "treatment_address": VARIED_TEXTS[-1 - n % len(VARIED_TEXTS)],
            "phone1": "13800138000", "phone2": "" if n % 3 else "0371-63111116",
            "dest_province": text[:12], "dest_prefecture": "三亚市", "dest_county": text[-12:],
            "pledge_business": ["异地安置退休人员备案", "异地长期居住人员", ""][n % 3],
            "signer": ["本人", "被委托人"][n % 2], "fill_date": "2024年3月1日" if n % 4 else "",
            "agency_phone": "0377-63111116" if n % 5 == 0 else "", "handle_date": ""}))
    return records + records[:4]  # the same records again: memoised layouts, reused operators


def test_shortcuts_write_the_same_bytes_as_the_general_path(lib, wolong, tmp_path):
    form = form_of(lib, YIDI)
    quick, full = pdf.FormWriter(form, wolong), pdf.FormWriter(form, wolong, shortcuts=False)
    for n, record in enumerate(varied_yidi_records()):
        assert quick.to_bytes([record]) == full.to_bytes([record]), f"record {n}: {record.values['insured_address']!r}"
    kept = [laid for part in quick._kept.values() for laid in part.values()]
    assert any(isinstance(laid, pdf.TextRun) for laid in kept), "the one-run fast path was never taken"
    assert quick.painted and full.painted is None
    assert any(key[0] == "block" for key in quick.painted), "no block of the grid was replayed"


def test_shortcuts_match_on_rosters_and_boxes(lib, wolong):
    """Several pages per record (a roster), checkboxes and inline blanks (表15)."""
    roster = form_of(lib, ROSTER)
    people = [{"name": text[:10] or "李四", "gender": "女", "id_number": "11010519491231002X",
               "change_add": n % 2 == 0, "remark": text, "mobile": "13800138000"}
              for n, text in enumerate(VARIED_TEXTS)]
    records = [Record(values={"unit_name": text, "flexible_employment": bool(n % 2)}, rows=people[n:])
               for n, text in enumerate(VARIED_TEXTS[:6])]
    quick, full = pdf.FormWriter(roster, wolong), pdf.FormWriter(roster, wolong, shortcuts=False)
    for record in records + records[:2]:
        assert quick.to_bytes([record]) == full.to_bytes([record])
    jumin = form_of(lib, JUMIN)
    quick, full = pdf.FormWriter(jumin, wolong), pdf.FormWriter(jumin, wolong, shortcuts=False)
    for n, text in enumerate(VARIED_TEXTS * 2):
        record = Record(values={"name": text[:20], "address": text, "review_pass": n % 2 == 1,
                                "subsidy_type": ["低保", "特困", "其他", ""][n % 4], "huji_province": text[:10]})
        assert quick.to_bytes([record]) == full.to_bytes([record]), repr(text)


def test_glyph_programs_are_kept_for_the_next_batch(tmp_path, monkeypatch):
    """Inlined glyph programs are saved beside the font cache and read back unchanged."""
    monkeypatch.setenv("FORMGEN_CACHE", str(tmp_path / "cache"))
    path = pdf._default_font("serif")
    face = pdf._face_index(path)
    data = pdf._table_bytes(path, face, "CFF ")
    first = pdf.CffSource(data)
    glyphs = [(1, 1200), (2, 3456), (3, 20000)]
    made = first.subset(glyphs)
    monkeypatch.setitem(pdf._PROGRAMS_SEEN, (path, face), 0)
    pdf._save_programs(first, path, face)
    assert pdf._programs_file(path, face).is_file()
    second = pdf.CffSource(data)
    pdf._load_programs(second, path, face)
    assert second.flat == first.flat and second.subset(glyphs) == made
    monkeypatch.setenv("FORMGEN_CACHE", "off")
    assert pdf._programs_file(path, face) is None


def test_a_sample_and_the_word_closing_its_bracket_print_tight(lib, wolong):
    """表9's "(第XXXX号)" and "(第　)" read as the seed prints them: no gap between the sample
    (or the blank) and the 号) or ) that closes its bracket, and they stay on one line
    (`layout.reads_on`); the next label of a line still stands apart."""
    form = form_of(lib, "guanxi-zhuanyi-lianxihan")
    composer = pdf.FormWriter(form, wolong).composer
    voucher = composer.line(form.footer[2], pdf.Slot(None)).atoms
    assert [(a.kind, a.text, a.glue) for a in voucher[-3:]] == [("text", "XXXX", True), ("text", "号", True),
                                                               ("text", ")", True)]
    number = composer.line(form.header[0], pdf.Slot(None)).atoms
    assert [(a.kind, a.glue) for a in number[-2:]] == [("blank", True), ("text", True)]
    phone_and_date = composer.line(form.footer[1], pdf.Slot(None)).atoms
    assert any(a.kind == "space" for a in phone_and_date)  # 联系电话：____　日期：


def test_the_sample_form_prints_no_number_above_its_caption(lib, wolong, tmp_path):
    """Wolong's 单位变更样表 is listed as 样表 but printed unnumbered under its caption
    "…（样表）" (seed 003): no 样表 above the title, no second （样表） under it."""
    text = text_of(written(lib, "danwei-xinxi-biangeng-yangbiao", None, tmp_path, wolong))
    flat = re.sub(r"\s+", "", text)
    assert flat.startswith("基本医疗保险参保单位信息变更登记表（样表）单位编码："), flat[:60]
