"""The Word booklet writer: open the .docx it writes and check what a reader and Word would see."""
import re
import warnings
import zipfile
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn

from formgen.booklet import (
    Booklet,
    Cell,
    ChartBlock,
    FormBlock,
    LinkBlock,
    Para,
    Part,
    Table,
)
from conftest import COVERAGE_GOAL, EDITIONS, needs_seeds, seed_coverage
from formgen.errors import RenderError
from formgen.writers.booklet_docx import BookletWriter, bookmark_name

ROOT = Path(__file__).resolve().parents[2]
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
WPS = "http://schemas.microsoft.com/office/word/2010/wordprocessingShape"


# --------------------------------------------------------------------------
# A booklet made by hand from the built-in data (independent of the builder)
# --------------------------------------------------------------------------
def handmade(library, landscape=False, with_form=True) -> tuple[Booklet, object]:
    edition = library.edition("wolong")
    catalog = Table(
        widths=[1, 4, 3, 6],
        header=[[Cell("序号", rowspan=2), Cell("事项", colspan=2), Cell("办理材料", rowspan=2)],
                [Cell("名称"), Cell("编码")]],
        rows=[[Cell("1", rowspan=2, align="center"), Cell("城乡居民参保登记"), Cell("000000000001"),
               Cell("1.居民身份证\n2.户口簿")],
              [Cell("城乡居民参保信息变更"), Cell("000000000002"), Cell("变更登记表 & <附件>")]],
        anchors=["item-a", "item-b"], caption="事项清单")
    group = Part("参保登记", "group-1", "group", number="一、", code="00203600100Y", blocks=[
        Para("本章收录参保登记类事项。\n第二行是硬换行。"),
        catalog,
        LinkBlock("网上办理", "https://example.gov.cn/yibao?a=1&b=2"),
    ], children=[
        Part("城乡居民参保登记", "item-a", "item", number="1.", blocks=[Para("办理材料：", "label"),
                                                                      Para("注：材料须为原件。", "note")]),
        Part("城乡居民参保信息变更", "item-b", "item", number="2.", page_break=False,
             blocks=[Para("说明", "heading"), Para("小字说明", "small"), Para("居中", "center")]),
        Part("网页专用", "web-only", "item", in_print=False, blocks=[Para("只在网页上")]),
        Part("不入目录的小节", "quiet", "notes", in_toc=False, blocks=[Para("附注")]),
    ])
    parts = [group]
    if with_form:
        form_id = edition.forms()[2].id  # 表7, the long form with 温馨提示 and 承诺书
        parts.append(Part("附件", "appendix", "appendix", children=[
            Part(edition.form_title(edition.forms_by_id[form_id]), "form-7", "form",
                 number=edition.form_number(form_id) + " ",
                 blocks=[FormBlock(form_id, edition.form_number(form_id), "x")])]))
    booklet = Booklet("wolong", "catalog" if landscape else "package_guide", "测试办事指南（2024年版）",
                      "副标题", "南阳市卧龙区", "南阳市卧龙区医疗保障局", 2024, "测试办事指南",
                      landscape=landscape, parts=parts)
    return booklet, edition


@pytest.fixture(scope="module")
def written(library, tmp_path_factory):
    booklet, edition = handmade(library)
    target = tmp_path_factory.mktemp("booklet") / "booklet.docx"
    BookletWriter(edition, page_numbers={"group-1": 2, "item-a": 3}).write(booklet, target)
    return booklet, target


def xml_of(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(name).decode("utf-8")


def paragraph_style(paragraph) -> str:
    style = paragraph.find(f"{W}pPr/{W}pStyle")
    return "" if style is None else style.get(f"{W}val")


def text_of(element) -> str:
    return "".join(t.text or "" for t in element.iter(f"{W}t"))


def body_paragraphs(document):
    return list(document.element.body.iter(qn("w:p")))


def printed(parts, depth=1):
    for part in parts:
        if part.in_print:
            yield depth, part
            yield from printed(part.children, depth + 1)


# --------------------------------------------------------------------------
# Structure
# --------------------------------------------------------------------------
def test_cover_is_its_own_section_without_header_or_page_number(written):
    booklet, path = written
    document = Document(str(path))
    cover = document.sections[0]
    assert cover._sectPr.find(qn("w:headerReference")) is None
    assert cover._sectPr.find(qn("w:footerReference")) is None
    body = document.element.body
    first_break = next(p for p in body.iter(qn("w:p")) if p.find(f"{W}pPr/{W}sectPr") is not None)
    cover_text = []
    for paragraph in body.iter(qn("w:p")):
        cover_text.append(text_of(paragraph))
        if paragraph is first_break:
            break
    cover = "\n".join(cover_text)
    for expected in (booklet.title, booklet.subtitle, booklet.bureau, "2024年"):
        assert expected in cover


def test_toc_field_lists_every_entry_with_links_and_asks_word_to_refresh(written):
    booklet, path = written
    document_xml = xml_of(path, "word/document.xml")
    assert 'TOC \\o "1-2" \\h \\z \\u' in document_xml
    document = Document(str(path))
    toc = [p for p in body_paragraphs(document) if paragraph_style(p) in ("TOC1", "TOC2")]
    listed = [(text_of(p), p.find(f"{W}hyperlink").get(f"{W}anchor")) for p in toc]
    expected = [(p.heading, bookmark_name(p.slug)) for d, p in printed(booklet.parts) if d <= 2 and p.in_toc]
    assert [(t.rstrip("0123456789"), a) for t, a in listed] == expected
    assert "网页专用" not in "".join(t for t, _ in listed)  # web-only parts are not printed
    assert listed[0][0].endswith("2")  # cached page numbers come from the caller
    assert 'w:updateFields w:val="true"' in xml_of(path, "word/settings.xml")
    chars = [c.get(f"{W}fldCharType") for c in toc[0].iter(f"{W}fldChar")]
    assert chars[:2] == ["begin", "separate"] and "TOC" in text_of_instr(toc[0])
    assert list(toc[-1].iter(f"{W}fldChar"))[-1].get(f"{W}fldCharType") == "end"
    # the contents end their field before the section break (LibreOffice drops the page numbers otherwise)
    assert toc[-1].find(f"{W}pPr/{W}sectPr") is None
    following = toc[-1].getnext()
    assert following.find(f"{W}pPr/{W}sectPr") is not None and not list(following.iter(f"{W}r"))


def text_of_instr(paragraph) -> str:
    return "".join(t.text or "" for t in paragraph.iter(f"{W}instrText"))


def test_running_header_and_footer_page_numbers(written):
    booklet, path = written
    document = Document(str(path))
    section = document.sections[1]
    assert section.header.paragraphs[0].text == booklet.header_text
    footer = section.footer._element
    runs = [(r.find(qn("w:t")).text if r.find(qn("w:t")) is not None else None,
             r.find(qn("w:instrText")).text if r.find(qn("w:instrText")) is not None else None)
            for r in footer.iter(qn("w:r"))]
    texts = [t for t, _ in runs if t is not None]
    assert texts[0] == "- " and texts[-1] == " -"
    assert any(i and i.strip() == "PAGE" for _, i in runs)
    numbering = section._sectPr.find(qn("w:pgNumType"))  # the contents: I, II…
    assert (numbering.get(qn("w:start")), numbering.get(qn("w:fmt"))) == ("1", "upperRoman")
    numbering = document.sections[2]._sectPr.find(qn("w:pgNumType"))  # the body: 1, 2…
    assert (numbering.get(qn("w:start")), numbering.get(qn("w:fmt"))) == ("1", "decimal")
    for later in document.sections[2:]:  # the rest inherit header and footer
        assert later._sectPr.find(qn("w:headerReference")) is None
    for later in document.sections[3:]:  # and the numbering runs on
        assert later._sectPr.find(qn("w:pgNumType")) is None


def test_every_printed_part_has_a_heading_style_and_a_bookmark(written):
    booklet, path = written
    document = Document(str(path))
    headings = {}
    for paragraph in body_paragraphs(document):
        for mark in paragraph.findall(f"{W}bookmarkStart"):
            headings[mark.get(f"{W}name")] = (paragraph_style(paragraph), text_of(paragraph))
    for depth, part in printed(booklet.parts):
        style, text = headings[bookmark_name(part.slug)]
        if isinstance(part.blocks[0], FormBlock) if part.blocks else False:  # the form's title line is the heading
            assert text == part.title
        else:
            assert text.startswith(part.heading)
        styles = document.styles.element
        if part.in_toc and depth <= 2:
            assert style == f"Heading{depth}"
        else:
            name = styles.xpath(f'w:style[@w:styleId="{style}"]/w:name/@w:val')[0]
            assert name.startswith(("heading", "标题")), name
    assert bookmark_name("web-only") not in headings
    rows = {}
    for row in document.element.body.iter(qn("w:tr")):
        for mark in row.iter(f"{W}bookmarkStart"):
            rows[mark.get(f"{W}name")] = text_of(row)
    assert rows == {}  # these rows' items are printed parts, which hold the bookmarks


def test_catalog_rows_carry_bookmarks_when_their_items_are_not_printed(library, tmp_path):
    booklet, edition = handmade(library, landscape=True, with_form=False)
    for child in booklet.parts[0].children:
        child.in_print = False
    target = tmp_path / "catalog.docx"
    BookletWriter(edition).write(booklet, target)
    rows = {}
    for row in Document(str(target)).element.body.iter(qn("w:tr")):
        for mark in row.iter(f"{W}bookmarkStart"):
            rows[mark.get(f"{W}name")] = text_of(row)
    assert "城乡居民参保登记" in rows["item_a"] and "城乡居民参保信息变更" in rows["item_b"]


def test_body_text_is_simsun_with_chinese_language_and_headings_simhei(written):
    _, path = written
    styles = xml_of(path, "word/styles.xml")
    document = Document(str(path))
    for name, font in (("Normal", "宋体"), ("Heading 1", "黑体"), ("Heading 2", "黑体")):
        fonts = document.styles[name].element.rPr.find(qn("w:rFonts"))
        assert fonts.get(qn("w:eastAsia")) == font and fonts.get(qn("w:ascii")) == font
    assert 'w:eastAsia="zh-CN"' in styles
    assert 'w:eastAsia="zh-CN"' in xml_of(path, "word/settings.xml")
    section = document.sections[1]
    assert round(section.page_width.mm) == 210 and round(section.page_height.mm) == 297


def test_tables_have_repeating_header_rows_widths_and_merges(written):
    _, path = written
    document = Document(str(path))
    table = next(t for t in document.tables if "事项清单" not in t._tbl.xml and "序号" in t._tbl.xml)
    rows = table._tbl.findall(qn("w:tr"))
    assert [r.find(f"{W}trPr/{W}tblHeader") is not None for r in rows] == [True, True, False, False]
    assert all(r.find(f"{W}trPr/{W}cantSplit") is not None for r in rows)
    grid = [int(c.get(qn("w:w"))) for c in table._tbl.find(qn("w:tblGrid"))]
    assert [round(g / grid[0]) for g in grid] == [1, 4, 3, 6]
    assert table._tbl.find(f"{W}tblPr/{W}tblBorders/{W}insideV").get(qn("w:val")) == "single"
    first_body_cell = rows[2].find(qn("w:tc"))
    assert first_body_cell.find(f"{W}tcPr/{W}vMerge").get(qn("w:val")) == "restart"
    continued = rows[3].find(qn("w:tc"))
    assert continued.find(f"{W}tcPr/{W}vMerge").get(qn("w:val")) == "continue"
    assert len(rows[3].findall(qn("w:tc"))) == 4  # the grid stays rectangular
    assert "变更登记表 & <附件>" in text_of(rows[3])  # text, not markup
    assert text_of(rows[2]).count("居民身份证") == 1


def test_online_link_is_a_hyperlink_with_a_qr_picture(written):
    _, path = written
    document = Document(str(path))
    url = "https://example.gov.cn/yibao?a=1&b=2"
    assert url in [r.target_ref for r in document.part.rels.values() if r.is_external]
    pictures = [d for d in document.element.body.iter(qn("wp:docPr")) if d.get("descr") == url]
    assert pictures
    with zipfile.ZipFile(path) as z:
        assert any(n.startswith("word/media/") and n.endswith(".png") for n in z.namelist())


def test_form_is_appended_in_its_own_section_in_its_own_orientation(written, library):
    _, path = written
    edition = library.edition("wolong")
    form = edition.forms()[2]
    document = Document(str(path))
    paragraphs = body_paragraphs(document)
    title = next(p for p in paragraphs if text_of(p) == edition.form_title(form))
    # the section holding the form: the first section break after its title
    index = paragraphs.index(title)
    closing = next((p.find(f"{W}pPr/{W}sectPr") for p in paragraphs[index:]
                    if p.find(f"{W}pPr/{W}sectPr") is not None), document.element.body.find(qn("w:sectPr")))
    size = closing.find(qn("w:pgSz"))
    landscape = int(size.get(qn("w:w"))) > int(size.get(qn("w:h")))
    assert landscape == (form.orientation == "landscape")
    assert "承诺书" in text_of(document.element.body)
    assert "{{" not in text_of(document.element.body)  # the form template was rendered
    assert len(document.sections) == 4  # cover, contents, body, the form: no empty trailing section


def test_catalog_booklets_are_landscape(library, tmp_path):
    booklet, edition = handmade(library, landscape=True, with_form=False)
    target = tmp_path / "catalog.docx"
    BookletWriter(edition).write(booklet, target)
    document = Document(str(target))
    for section in document.sections:
        assert section.page_width > section.page_height
        assert section._sectPr.find(qn("w:pgSz")).get(qn("w:orient")) == "landscape"
    assert round(document.sections[0].page_width.mm) == 297


def test_a_form_needs_the_edition_or_the_library(library, tmp_path):
    booklet, _ = handmade(library)
    with pytest.raises(RenderError, match="edition"):
        BookletWriter().write(booklet, tmp_path / "x.docx")
    BookletWriter(library=library).write(booklet, tmp_path / "y.docx")
    assert "承诺书" in text_of(Document(str(tmp_path / "y.docx")).element.body)


@pytest.mark.parametrize("where", ["para", "chart"])
def test_control_characters_are_a_render_error_not_a_traceback(library, tmp_path, where):
    booklet, chart = chart_booklet(library)
    if where == "para":
        booklet.parts[0].blocks.insert(0, Para("垂直制表\x0b符"))
    else:
        pytest.importorskip("formgen.charts")
        chart.nodes[0] = chart.nodes[0].model_copy(update={"text": "申\x0b请"})
    with pytest.raises(RenderError, match="control characters"):
        BookletWriter().write(booklet, tmp_path / "x.docx")


def test_xml_lookalikes_in_text_print_literally(library, tmp_path):
    booklet, chart = chart_booklet(library)
    pytest.importorskip("formgen.charts")
    hostile = '<w:t>"&amp;" ]]> {{ 7*7 }}'
    booklet.parts[0].blocks.insert(0, Para(hostile))
    chart.nodes[0] = chart.nodes[0].model_copy(update={"text": hostile})
    BookletWriter().write(booklet, tmp_path / "x.docx")
    body = Document(str(tmp_path / "x.docx")).element.body
    assert hostile in text_of(body)
    assert hostile in "".join(text_of(t) for t in body.iter(qn("w:txbxContent")))


def test_unwritable_target_is_a_render_error(library, tmp_path):
    booklet, edition = handmade(library, with_form=False)
    with pytest.raises(RenderError, match="cannot write"):
        BookletWriter(edition).write(booklet, tmp_path / "missing" / "x.docx")


@pytest.mark.parametrize("slug, name", [("item-a", "item_a"), ("01-x", "p_01_x"), ("a" * 50, None)])
def test_bookmark_names_are_valid_word_names(slug, name):
    made = bookmark_name(slug)
    assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,39}", made)
    if name:
        assert made == name
    assert bookmark_name("a" * 50) != bookmark_name("a" * 49 + "b")


# --------------------------------------------------------------------------
# Charts: native DrawingML with real text
# --------------------------------------------------------------------------
def chart_booklet(library):
    from formgen import flows

    edition = library.edition("henan-flowcharts")
    item = next(i for i in edition.items if i.flows)
    chart = flows.expand(item.flows[0], library.presets, item)
    part = Part(item.name, "chart-item", "item", blocks=[ChartBlock(chart, title=f"{item.name}流程图")])
    return Booklet("henan-flowcharts", "flowcharts", "流程图", None, "河南省", "河南省医疗保障局", 2024,
                   "流程图", parts=[part]), chart


def test_charts_are_editable_drawingml_groups_with_real_text(library, tmp_path):
    charts = pytest.importorskip("formgen.charts")
    booklet, chart = chart_booklet(library)
    target = tmp_path / "chart.docx"
    BookletWriter().write(booklet, target)
    xml = xml_of(target, "word/document.xml")
    assert "wordprocessingGroup" in xml and "<wpg:wgp>" in xml
    lay = charts.layout(chart, max_width=166.0, font_size=10.5)
    assert xml.count("<wps:txbx>") >= len(lay.boxes)
    assert xml.count("<a:custGeom>") == len(lay.arrows)
    document = Document(str(target))
    boxes_text = "".join(text_of(t) for t in document.element.body.iter(qn("w:txbxContent")))
    for box in lay.boxes:
        assert "".join(box.lines) in boxes_text
    alt = next(d.get("descr") for d in document.element.body.iter(qn("wp:docPr")))
    assert all(piece.replace("\n", "") in alt for piece in lay.reading())


# --------------------------------------------------------------------------
# The built-in editions, through the booklet builder
# --------------------------------------------------------------------------
def build(library, edition_id):
    from formgen.booklet import build_booklet

    resolved = library.edition(edition_id)
    try:
        booklet = build_booklet(library, resolved)
    except NotImplementedError:
        pytest.skip("the booklet builder has not landed on this branch yet")
    if any(isinstance(b, ChartBlock) for _, p in printed(booklet.parts) for b in p.blocks):
        pytest.importorskip("formgen.charts")
    return booklet, resolved


@pytest.fixture(scope="module")
def edition_docx(library, tmp_path_factory):
    made = {}

    def make(edition_id):
        if edition_id not in made:
            booklet, resolved = build(library, edition_id)
            target = tmp_path_factory.mktemp(edition_id) / f"{edition_id}.docx"
            BookletWriter(resolved).write(booklet, target)
            made[edition_id] = (booklet, target)
        return made[edition_id]
    return make


@pytest.mark.parametrize("edition_id", EDITIONS)
def test_builtin_edition_booklet(edition_docx, edition_id):
    booklet, path = edition_docx(edition_id)
    document = Document(str(path))
    marks = {m.get(qn("w:name")) for m in document.element.body.iter(qn("w:bookmarkStart"))}
    for _, part in printed(booklet.parts):
        assert bookmark_name(part.slug) in marks
    toc = [text_of(p) for p in body_paragraphs(document) if paragraph_style(p) in ("TOC1", "TOC2")]
    assert len(toc) == sum(1 for d, p in printed(booklet.parts) if d <= 2 and p.in_toc)
    if booklet.landscape:
        table_sections = [s for s in document.sections[1:] if s.page_width > s.page_height]
        assert table_sections
    charts_in = sum(isinstance(b, ChartBlock) for _, p in printed(booklet.parts) for b in p.blocks)
    assert xml_of(path, "word/document.xml").count("<wpg:wgp>") == charts_in
    ids = [e.get("id") for e in document.element.body.iter(qn("wp:docPr"), f"{{{WPS}}}cNvPr")]
    assert len(ids) == len(set(ids))  # Word wants every drawing object numbered once


def hidden(paragraph) -> bool:
    """Every text run and the paragraph mark carry w:vanish."""
    runs = [r for r in paragraph.iter(f"{W}r") if r.find(f"{W}t") is not None]
    marks = [paragraph.find(f"{W}pPr/{W}rPr")] + [r.find(f"{W}rPr") for r in runs]
    return bool(runs) and all(m is not None and m.find(f"{W}vanish") is not None for m in marks)


def test_a_chart_that_draws_its_title_is_the_pages_only_visible_title(edition_docx):
    booklet, path = edition_docx("henan-flowcharts")
    document = Document(str(path))
    headings = {text_of(p): p for p in body_paragraphs(document) if paragraph_style(p).startswith("Heading")}
    titled = [part for _, part in printed(booklet.parts) if part.titled_by_its_chart]
    assert len(titled) >= 10
    for k, part in enumerate(titled):
        heading = headings[part.heading]  # kept, with its bookmark, for the navigation pane and TOC
        assert hidden(heading)
        shown = heading.getnext()
        if k:  # each chart still starts a page (the first one starts the body's section)
            assert shown.find(f"{W}pPr/{W}pageBreakBefore") is not None
        assert part.title in text_of(shown)  # the chart's own title, drawn in it
    _, plain = edition_docx("puyang")  # charts without a title keep a visible heading
    assert not any(hidden(p) for p in body_paragraphs(Document(str(plain)))
                   if paragraph_style(p).startswith("Heading"))


# Word rejects a file whose property elements are out of the schema's order (ECMA-376 part 1)
SCHEMA_ORDER = {
    "pPr": "pStyle keepNext keepLines pageBreakBefore framePr widowControl numPr suppressLineNumbers pBdr shd tabs "
           "suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE autoSpaceDN bidi "
           "adjustRightInd snapToGrid spacing ind contextualSpacing mirrorIndents suppressOverlap jc textDirection "
           "textAlignment textboxTightWrap outlineLvl divId cnfStyle rPr sectPr pPrChange",
    "rPr": "rStyle rFonts b bCs i iCs caps smallCaps strike dstrike outline shadow emboss imprint noProof snapToGrid "
           "vanish webHidden color spacing w kern position sz szCs highlight u effect bdr shd fitText vertAlign rtl "
           "cs em lang eastAsianLayout specVanish oMath",
    "sectPr": "headerReference footerReference footnotePr endnotePr type pgSz pgMar paperSrc pgBorders lnNumType "
              "pgNumType cols formProt vAlign noEndnote titlePg textDirection bidi rtlGutter docGrid "
              "printerSettings sectPrChange",
    "tcPr": "cnfStyle tcW gridSpan hMerge vMerge tcBorders shd noWrap tcMar textDirection tcFitText vAlign hideMark",
    "tblPr": "tblStyle tblpPr tblOverlap bidiVisual tblStyleRowBandSize tblStyleColBandSize tblW jc "
             "tblCellSpacing tblInd tblBorders shd tblLayout tblCellMar tblLook",
}


def out_of_order(path: Path) -> list[str]:
    from lxml import etree

    problems = []
    with zipfile.ZipFile(path) as z:
        for name in ("word/document.xml", "word/styles.xml", "word/header1.xml", "word/footer1.xml"):
            root = etree.fromstring(z.read(name))
            for tag, order in SCHEMA_ORDER.items():
                order = order.split()
                for element in root.iter(W + tag):
                    kids = [etree.QName(c).localname for c in element if c.tag.startswith(W)]
                    places = [order.index(k) if k in order else -1 for k in kids]
                    if -1 in places or places != sorted(places):
                        problems.append(f"{name}: {tag} {kids}")
    return problems


@pytest.mark.parametrize("edition_id", EDITIONS)
def test_builtin_edition_properties_follow_the_schema_order(edition_docx, edition_id):
    _, path = edition_docx(edition_id)
    assert out_of_order(path) == []


def model_texts(booklet):
    """Every piece of text the model asks to print (charts aside: checked above), line by line."""
    for _, part in printed(booklet.parts):
        yield part.heading
        for block in part.blocks:
            if isinstance(block, Para):
                yield from block.text.split("\n")
            elif isinstance(block, Table):
                for row in block.header + block.rows:
                    for cell in row:
                        yield from cell.text.split("\n")
                if block.caption:
                    yield block.caption
            elif isinstance(block, LinkBlock):
                yield block.url
            elif isinstance(block, FormBlock):
                yield block.title


@pytest.mark.parametrize("edition_id", EDITIONS)
def test_builtin_edition_loses_no_text(edition_docx, edition_id):
    booklet, path = edition_docx(edition_id)
    document = Document(str(path))
    printed_text = "\n".join(text_of(p) for p in document.element.body.iter(qn("w:p")))
    missing = [t for t in model_texts(booklet) if t.strip() and t.strip() not in printed_text]
    assert missing == []


def model_reading(booklet) -> str:
    """The model's own text in reading order (charts through flows.reading_order): what any writer can reach."""
    from formgen.flows import reading_order

    lines = [booklet.title, booklet.subtitle or "", booklet.bureau]
    for _, part in printed(booklet.parts):
        lines.append(part.heading + part.code)
        for block in part.blocks:
            if isinstance(block, ChartBlock):
                lines += [block.title or ""] + reading_order(block.chart)
            elif isinstance(block, Table):
                lines += [cell.text for row in block.header + block.rows for cell in row]
            elif isinstance(block, Para):
                lines.append(block.text)
            elif isinstance(block, LinkBlock):
                lines.append(block.url)
    return "\n".join(lines)


@needs_seeds
@pytest.mark.parametrize("edition_id", EDITIONS)
def test_builtin_edition_covers_its_seed(edition_docx, edition_id, tmp_path):
    """97% of the seed, or at least all the booklet model carries (a shortfall there is the builder's)."""
    booklet, path = edition_docx(edition_id)
    share, report = seed_coverage(edition_id, path)
    model = tmp_path / "model.txt"
    model.write_text(model_reading(booklet), encoding="utf-8")
    ceiling, _ = seed_coverage(edition_id, model)
    assert share >= min(COVERAGE_GOAL, ceiling), report[-2000:]
    if share < COVERAGE_GOAL:
        warnings.warn(f"{edition_id}: the Word booklet covers {share}% of its seed; the booklet model "
                      f"itself only {ceiling}% (see `seed_coverage.py` for what is missing)")


def test_handmade_booklet_properties_follow_the_schema_order(written):
    _, path = written
    assert out_of_order(path) == []


DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


@pytest.mark.skipif(not DEJAVU.exists(), reason="DejaVu Sans not installed")
def test_catalog_codes_fit_their_column_unbroken(edition_docx):
    """Each 12-digit 事项编码 and each 办理层级 such as ABCDE fits on one line of its cell, in
    the widest Latin font a reader substitutes (DejaVu Sans, LibreOffice's): Word breaks a
    word wider than its cell anywhere, and the catalog printed "00203600 / 1001", "ABCD / E"."""
    from fontTools.ttLib import TTFont

    font = TTFont(str(DEJAVU))
    advance, cmap, units = font["hmtx"], font.getBestCmap(), font["head"].unitsPerEm
    _, path = edition_docx("henan-2024")
    document = Document(str(path))
    checked = set()
    for table in document.tables:
        margins = table._tbl.find(f"{W}tblPr/{W}tblCellMar")
        margins_mm = sum(int(margins.find(f"{W}{edge}").get(f"{W}w")) for edge in ("left", "right")) / 1440 * 25.4
        for row in table._tbl.iter(qn("w:tr")):
            for tc in row.iter(qn("w:tc")):
                code = re.fullmatch(r"\d{12}|[A-E]{2,}", text_of(tc).strip())
                if not code:
                    continue
                style = document.styles.get_by_id(paragraph_style(tc.find(qn("w:p"))), 1)
                em_mm = style.font.size.pt * 25.4 / 72
                text_mm = sum(advance[cmap[ord(ch)]][0] for ch in code.group()) / units * em_mm
                width_mm = int(tc.find(qn("w:tcPr")).find(qn("w:tcW")).get(qn("w:w"))) / 1440 * 25.4
                assert width_mm >= text_mm + margins_mm, (code.group(), round(width_mm, 1))
                checked.add(code.group()[0].isdigit())
    assert checked == {True, False}


def test_table_header_lines_fit_their_cells(edition_docx):
    """Each line of a package's table headers fits its cell: no header broken with a character
    left alone on a line of its own ("已关联 / 电子证照名 / 称"). (The catalog's narrow 序号 and
    办理层级 columns stack their headers two characters a line, as the seed's table does.)"""
    _, path = edition_docx("wolong")
    document = Document(str(path))
    size_pt = document.styles["表头"].font.size.pt
    checked = 0
    for table in document.tables:
        for row in table._tbl.iter(qn("w:tr")):
            props = row.find(qn("w:trPr"))
            if props is None or props.find(qn("w:tblHeader")) is None:
                continue
            for tc in row.iter(qn("w:tc")):
                width_mm = int(tc.find(qn("w:tcPr")).find(qn("w:tcW")).get(qn("w:w"))) / 1440 * 25.4
                for p in tc.iter(qn("w:p")):
                    line = text_of(p)
                    assert len(line) * size_pt * 25.4 / 72 <= width_mm - 3.0, (line, round(width_mm, 1))
                    checked += 1
    assert checked


def test_a_group_heading_stands_apart_from_the_table_before_it(edition_docx):
    """In the catalog a group's heading follows the last group's table on the same page."""
    _, path = edition_docx("henan-2024")
    document = Document(str(path))
    body = list(document.element.body)
    after_table = [e for prev, e in zip(body, body[1:])
                   if prev.tag == qn("w:tbl") and e.tag == qn("w:p") and paragraph_style(e) == "Heading1"]
    assert after_table
    assert document.styles["Heading 1"].paragraph_format.space_before.pt >= 6


def test_the_catalog_is_set_as_tightly_as_the_pdf_catalog(edition_docx):
    """Type size, leading, cell padding and text area of the Word catalog are the PDF's.

    At 10.5 pt on 1.15 lines with unsplittable rows the Word catalog ran to 19 pages against the
    PDF's 12, so the 目录's page numbers (taken from the PDF) pointed at the wrong pages.
    """
    from formgen.writers import booklet_pdf

    _, path = edition_docx("henan-2024")
    document = Document(str(path))
    tables = document.tables
    assert tables
    body_styles = {paragraph_style(p._p) for t in tables for row in t.rows[1:] for c in row.cells
                   for p in c.paragraphs}
    assert len(body_styles) == 1
    style = document.styles.get_by_id(body_styles.pop(), 1)
    assert style.font.size.pt == booklet_pdf.CATALOG_PT
    spacing = style.element.find(f"{W}pPr/{W}spacing")
    assert spacing.get(f"{W}lineRule") == "exact"
    line_pt = int(spacing.get(f"{W}line")) / 20
    assert line_pt == pytest.approx(booklet_pdf.CATALOG_PT * booklet_pdf.CELL_LEADING, abs=0.1)
    margins = tables[0]._tbl.find(f"{W}tblPr/{W}tblCellMar")
    padding_mm = {edge: int(margins.find(f"{W}{edge}").get(f"{W}w")) / 1440 * 25.4 for edge in ("top", "left")}
    assert padding_mm["top"] == pytest.approx(booklet_pdf.CELL_PAD_Y, abs=0.05)
    assert padding_mm["left"] == pytest.approx(booklet_pdf.CELL_PAD_X, abs=0.05)
    section = document.sections[-1]
    geometry = booklet_pdf.LANDSCAPE
    text_width_mm = (section.page_width - section.left_margin - section.right_margin) / 36000
    assert text_width_mm == pytest.approx(geometry.text_width, abs=0.1)
    # a long row continues on the next page, as in the PDF, rather than leave a half-empty page
    splittable = [row for t in tables for row in t.rows[1:] if row._tr.find(f"{W}trPr/{W}cantSplit") is None]
    assert splittable


def keeps_with_next(row) -> bool:
    paragraphs = list(row.iter(f"{W}p"))
    return bool(paragraphs) and all(p.find(f"{W}pPr/{W}keepNext") is not None for p in paragraphs)


def test_a_table_keeps_two_rows_together_at_its_start_and_end(library, tmp_path):
    """Header, first and second-last rows keep with the next row: no row alone on a page."""
    rows = [[Cell(str(n)), Cell(f"第{n}行")] for n in range(1, 6)]
    table = Table([1, 4], [[Cell("序号"), Cell("内容")]], rows)
    _, edition = handmade(library, with_form=False)
    booklet = Booklet("wolong", "package_guide", "测试办事指南", None, "南阳市卧龙区", "南阳市卧龙区医疗保障局",
                      2024, "测试办事指南", parts=[Part("表格", "t", "item", blocks=[table])])
    target = tmp_path / "rows.docx"
    BookletWriter(edition).write(booklet, target)
    table_rows = Document(str(target)).tables[0]._tbl.findall(f"{W}tr")
    assert [keeps_with_next(row) for row in table_rows] == [True, True, False, False, True, False]


def test_every_guide_table_keeps_its_last_two_rows_together(edition_docx):
    _, path = edition_docx("wolong")
    checked = 0
    for table in Document(str(path)).tables:
        if not any(paragraph_style(p) == "TableText" for p in table._tbl.iter(f"{W}p")):
            continue  # a blank form's own grid, laid out by the form writer
        body = [row for row in table._tbl.findall(f"{W}tr") if row.find(f"{W}trPr/{W}tblHeader") is None]
        if len(body) >= 2:
            assert keeps_with_next(body[-2]) and not keeps_with_next(body[-1])
            checked += 1
    assert checked
