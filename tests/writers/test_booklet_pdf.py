"""The PDF booklet: text, bookmarks, page numbers, TOC, page size, fonts, seed coverage."""
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from formgen.booklet import build_booklet
from formgen.writers import booklet_writer
from formgen.writers import booklet_pdf
from formgen.writers.booklet_pdf import BookletWriter

from conftest import COVERAGE_GOAL, EDITIONS, needs_seeds, seed_coverage

ROOT = Path(__file__).resolve().parents[2]
needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")


@pytest.fixture(scope="module")
def built(library, tmp_path_factory):
    """Every built-in edition's booklet as PDF, with the booklet it was drawn from."""
    folder = tmp_path_factory.mktemp("booklets")
    out = {}
    for edition_id in EDITIONS:
        resolved = library.edition(edition_id)
        booklet = build_booklet(library, resolved)
        target = folder / f"{edition_id}.pdf"
        BookletWriter(edition=resolved).write(booklet, target)
        out[edition_id] = (booklet, target)
    return out


def pdftotext(path, *args) -> str:
    return subprocess.run(["pdftotext", "-q", *args, str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def outline(reader):
    """(title, level, 0-based page) of every bookmark, in order."""
    out = []

    def walk(entries, level):
        for entry in entries:
            if isinstance(entry, list):
                walk(entry, level + 1)
            else:
                out.append((entry.title, level, reader.get_destination_page_number(entry)))
    walk(reader.outline, 0)
    return out


def test_registry_names_the_writers():
    assert booklet_writer("pdf") is BookletWriter
    with pytest.raises(ValueError):
        booklet_writer("odt")


@needs_poppler
def test_catalog_text_in_row_order(built):
    _, path = built["henan-2024"]
    text = pdftotext(path)
    assert "河南省医疗保障经办政务服务事项清单（2024年版）" in text
    for column in ["事项名称", "事项编码", "办理材料", "办理时限", "办理流程", "设定依据"]:
        assert column in text
    flat = re.sub(r"\s+", "", text)
    assert "1单位参保登记002036001001" in flat  # a row reads across, as in the seed
    assert "002036010002" in flat and "00203601000Y" in flat
    assert "5.事项编码按照GB/T39554.1-2020" in flat


@needs_poppler
def test_guide_text_and_forms(built):
    flat = re.sub(r"\s+", "", pdftotext(built["yunnan"][1]))
    assert "九、单位参保登记流程图" in flat
    assert "（一）门诊慢性病共2５种病种：冠心病" in flat
    wolong = re.sub(r"\s+", "", pdftotext(built["wolong"][1]))
    assert "卧龙区城乡居民参保登记答疑手册" in wolong
    assert "表15" in wolong and "城乡居民基本医疗保险参保登记表" in wolong  # the placed blank form
    assert "0377-63135598" in wolong and "https://ggfw.ylbz.henan.gov.cn/" in wolong


@pytest.mark.parametrize("edition", EDITIONS)
def test_bookmarks_for_every_printed_part(built, edition):
    booklet, path = built[edition]
    titles = [t for t, _, _ in outline(PdfReader(str(path)))]
    for _, part in booklet.walk():
        if part.in_print:
            assert any(t.startswith(part.heading) for t in titles), part.heading
    if booklet.style == "catalog":  # rows are bookmarked under their group
        for _, part in booklet.walk():
            if not part.in_print:
                assert f"{part.number}、{part.title}" in titles


@needs_poppler
@pytest.mark.parametrize("edition", EDITIONS)
def test_page_labels_and_footers(built, edition):
    _, path = built[edition]
    reader = PdfReader(str(path))
    labels = reader.page_labels
    assert labels[0] == "封面"
    toc = [label for label in labels if re.fullmatch(r"[IVX]+", label)]
    assert toc and toc[0] == "I"
    body = labels[1 + len(toc):]
    assert body == [str(n) for n in range(1, len(body) + 1)]
    for index in (1, 1 + len(toc), len(labels) - 1):  # pypdf reads what is drawn, artifacts too
        page_text = reader.pages[index].extract_text()
        assert re.search(rf"^-\s*{labels[index]}\s*-$", page_text, re.M), labels[index]
    assert not re.search(r"^-\s*\w+\s*-$", reader.pages[0].extract_text(), re.M)  # cover: no number


@needs_poppler
def test_running_header_and_page_number_are_pagination_artifacts(built):
    """Drawn on every page, but a passage copied over a page break reads on without them."""
    booklet, path = built["henan-flowcharts"]
    reader = PdfReader(str(path))
    page = reader.pages[3]
    content = page.get_contents().get_data()
    assert content.count(b"/Artifact <</Type /Pagination /Subtype /Header>> BDC") == 1
    assert content.count(b"/Artifact <</Type /Pagination /Subtype /Footer>> BDC") == 1
    drawn = page.extract_text()
    assert booklet.header_text in drawn and re.search(r"^-\s*\d+\s*-$", drawn, re.M)
    read = pdftotext(path, "-f", "4", "-l", "4")
    assert booklet.header_text not in read and not re.search(r"^-\s*\d+\s*-$", read, re.M)
    # the seed runs one item's chart into the next item's title; so does the booklet's text now
    flat = re.sub(r"\s+", "", pdftotext(path))
    assert "一次性告知申请人需要补正的全部材料参保人员参保信息查询" in flat


@needs_poppler
@pytest.mark.parametrize("edition", EDITIONS)
def test_toc_numbers_are_the_bookmarked_pages(built, edition):
    booklet, path = built[edition]
    reader = PdfReader(str(path))
    labels = reader.page_labels
    toc_pages = [i for i, label in enumerate(labels) if re.fullmatch(r"[IVX]+", label)]
    text = "".join(pdftotext(path, "-layout", "-f", str(i + 1), "-l", str(i + 1)) for i in toc_pages)
    printed = {}
    for line in text.splitlines():
        match = re.match(r"^\s*(\S.*?)\s*\.{0,}\s+(\d+)\s*$", line)
        if match:
            printed[re.sub(r"\s+", "", match.group(1))] = match.group(2)
    bookmarks = {re.sub(r"\s+", "", t): labels[page] for t, _, page in outline(reader)}
    entries = [p for d, p in booklet.walk() if d <= 2 and p.in_print and p.in_toc]
    checked = 0
    for part in entries:
        key = re.sub(r"\s+", "", part.heading)
        found = next((k for k in printed if k.startswith(key)), None)
        if found is None:  # a heading wrapped over two TOC lines: its number is on the last one
            continue
        mark = next(v for k, v in bookmarks.items() if k.startswith(key))
        assert printed[found] == mark, part.heading
        checked += 1
    assert checked >= len(entries) * 0.8


@needs_poppler
def test_toc_titles_read_on_as_one_list(built):
    """Text extraction reads a flat 目录 title after title, its page numbers as a column apart."""
    booklet, path = built["puyang"]
    flat = re.sub(r"\s+", "", pdftotext(path, "-f", "2", "-l", "2"))
    headings = [p.heading for d, p in booklet.walk() if d == 1 and p.in_print and p.in_toc]
    assert "".join(headings[:12]) in flat
    assert "".join(str(n) for n in range(1, 13)) in flat


@needs_poppler
def test_toc_groups_stand_apart_from_the_group_before(built):
    """In the 目录, a group title sits closer to its own first item than to the previous
    group's last item (the space between groups once fell after the title instead)."""
    booklet, path = built["yunnan"]
    words = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>([^<]+)</word>',
                       pdftotext(path, "-bbox", "-f", "2", "-l", "2"))
    top = {text: float(y) for x, y, text in words if float(x) < 100}
    group_two = next(p for d, p in booklet.walk() if d == 1 and p.heading.startswith("二、"))
    last_of_one = next(p for d, p in booklet.walk() if d == 1 and p.heading.startswith("一、")).children[-1]
    before = top[group_two.heading] - top[last_of_one.heading]
    after = top[group_two.children[0].heading] - top[group_two.heading]
    assert before > after + 1.5, (before, after)


@pytest.mark.parametrize("edition,landscape", [("henan-2024", True), ("yunnan", False), ("wolong", False)])
def test_page_size(built, edition, landscape):
    reader = PdfReader(str(built[edition][1]))
    box = reader.pages[2].mediabox
    size = (round(float(box.width)), round(float(box.height)))
    assert size == ((842, 595) if landscape else (595, 842))


@needs_poppler
def test_fonts_embedded(built):
    fonts = subprocess.run(["pdffonts", str(built["yunnan"][1])], capture_output=True, text=True,
                           check=True).stdout.splitlines()[2:]
    assert fonts
    names = " ".join(line.split()[0] for line in fonts)
    assert "NotoSerifCJK" in names and "NotoSansCJK" in names
    for line in fonts:
        assert re.search(r"\byes\s+yes\b", line), line  # embedded, subset


def test_qr_codes_are_vector_and_linked(built):
    reader = PdfReader(str(built["wolong"][1]))
    links = [a.get_object() for page in reader.pages for a in page.get("/Annots", [])]
    uris = [a["/A"]["/URI"] for a in links if "/A" in a and "/URI" in a["/A"]]
    assert uris.count("https://ggfw.ylbz.henan.gov.cn/") >= 4
    assert not any(page.images for page in reader.pages)  # QR codes are drawn, not pictures


def test_forms_are_placed_inside_the_margins(built):
    """A reproduced form keeps the booklet's header and footer around it."""
    pytest.importorskip("pypdf")
    reader = PdfReader(str(built["yunnan"][1]))
    labels = reader.page_labels
    marks = [(t, p) for t, _, p in outline(reader) if t.startswith("附件")]
    assert [t.split("　")[0] for t, _ in marks] == [f"附件{n}" for n in range(1, 10)]
    page = reader.pages[marks[0][1]]
    text = page.extract_text()
    assert "云南省医疗保障经办政务服务办事指南" in text  # running header
    assert re.search(rf"-\s*{labels[marks[0][1]]}\s*-", text)
    assert "/Annots" not in page or not any(
        a.get_object().get("/Subtype") == "/Widget" for a in page["/Annots"])


@pytest.mark.parametrize("edition", EDITIONS)
def test_no_page_is_only_header_and_footer(built, edition):
    """Every page after the cover prints something of the booklet (a form opening a new
    page used to leave the page before it empty, in Yunnan before each of 附件1-9)."""
    booklet, path = built[edition]
    reader = PdfReader(str(path))
    for index, page in enumerate(reader.pages[1:], start=2):
        text = page.extract_text().replace(booklet.header_text, "")
        assert re.sub(r"-\s*[\dIVX]+\s*-|\s", "", text), f"page {index} of {edition} is empty"


def test_an_appendix_is_bookmarked_on_its_form(built):
    """附件N's bookmark and 目录 number lead to the page that prints 附件N."""
    reader = PdfReader(str(built["yunnan"][1]))
    marks = [(t, p) for t, _, p in outline(reader) if t.startswith("附件")]
    assert len(marks) == 9
    for title, page in marks:
        assert title.split("　")[0].split()[0] in reader.pages[page].extract_text(), title


def test_a_one_line_header_cell_is_centred_beside_a_two_line_one(built):
    """序号 sits midway between the two lines of 已关联 / 电子证照名称, not level with the first."""
    reader = PdfReader(str(built["wolong"][1]))
    page = next(p for p in reader.pages if "电子证照名称" in p.extract_text())
    baselines = {}

    def visit(text, cm, tm, font, size):
        if text.strip() in ("序号", "已关联", "电子证照名称"):
            baselines.setdefault(text.strip(), tm[5])
    page.extract_text(visitor_text=visit)
    middle = (baselines["已关联"] + baselines["电子证照名称"]) / 2
    assert abs(baselines["序号"] - middle) < 1.0, baselines


# Share of each seed's 6-grams that plain `pdftotext` finds in the booklet.  What keeps the
# figure under the 97% is reading order, not missing content: with the charts drawn,
# the clauses the tool lists under 80% are form-grid labels (henan-2024: only the seed's
# "[image:]" line).  Charts and table rows carry /ActualText in reading order, so pdftotext
# reads them as a person would; what still falls short:
# (1) the seeds' flowchart text - extracted from Word drawings, labels and boxes interleaved,
#     "申 请" dropped into the middle of materials - and the seeds' pages run one chart into the
#     next, where the booklet prints each item's heading and materials;
# (2) the forms: their rows, title and header lines carry /ActualText too, but the seeds' forms were
#     extracted in their own order (Wolong's first 表9 runs its signature block into the second);
#     and Puyang's seed lost the titles of items 1–3, 17–19 and 22, so its 目录 and charts run
#     together where the booklet prints those titles;
# (3) repeated table headers fall between pages (the running header and "- N -" are pagination
#     artifacts, which pdftotext skips: see test_running_header_and_page_number_are_pagination_artifacts).
# The floors guard against regressions; the 97% target is tracked by the xfail test.
COVERAGE_FLOOR = {"henan-2024": 98.0, "henan-flowcharts": 96.5, "puyang": 96.5, "wolong": 97.3, "yunnan": 97.0}
SHORT_OF_TARGET = {  # edition: why its PDF stays under 97% (measured 2026-11-23)
    "henan-flowcharts": "96.9%: the seed drops 申请 into two items' materials (1)",
    "puyang": "96.7%: item headings between charts the seed runs together; titles the seed lost (1, 2)",
}


@needs_seeds
@needs_poppler  # the checker reads the PDF with pdftotext
@pytest.mark.parametrize("edition", EDITIONS)
def test_seed_coverage_floor(built, edition):
    share, report = seed_coverage(edition, built[edition][1])
    assert share >= COVERAGE_FLOOR[edition], report


@needs_seeds
@needs_poppler
@pytest.mark.parametrize("edition", [
    pytest.param(e, marks=pytest.mark.xfail(reason=SHORT_OF_TARGET[e], strict=True)) if e in SHORT_OF_TARGET
    else e for e in EDITIONS])
def test_seed_coverage_target(built, edition):
    share, report = seed_coverage(edition, built[edition][1])
    assert share >= COVERAGE_GOAL, report


@needs_poppler
def test_a_chart_that_draws_its_title_is_the_pages_only_title(built):
    booklet, path = built["henan-flowcharts"]
    reader = PdfReader(str(path))
    marks = {t: p for t, _, p in outline(reader)}
    item = booklet.parts[5]
    page = marks[item.heading]
    text = pdftotext(path, "-f", str(page + 1), "-l", str(page + 1))
    assert re.sub(r"\s+", "", text).count(item.title) == 1, text


@needs_poppler
def test_text_extraction_reads_a_chart_in_its_reading_order(built):
    """pdftotext places boxes by geometry; the chart's /ActualText gives the flow's `reading:` order."""
    flat = re.sub(r"\s+", "", pdftotext(built["henan-flowcharts"][1]))
    assert ("申请办理材料：1.有效身份证件；2.《城乡居民基本医疗保险参保登记表》（首次参保登记时填写）。"
            "材料不齐全受理不符合法定条件、标准审核办结反馈不予办理原因一次性告知申请人需要补正的全部材料"
            "城乡居民参保登记") in flat


@needs_poppler
def test_text_extraction_reads_a_table_row_by_row(built):
    flat = re.sub(r"\s+", "", pdftotext(built["henan-2024"][1]))
    # a catalog row: 序号, 事项名称, 事项编码 … in the order of the columns, whatever their lines
    assert "1单位参保登记002036001001" in flat and "2职工参保登记002036001002" in flat
    header = "序号事项名称事项编码办理材料办理层级办理时限办理流程备注设定依据"
    assert header in flat


@needs_poppler
def test_charts_are_drawn_as_vector_text(built):
    booklet, path = built["henan-flowcharts"]
    flat = re.sub(r"\s+", "", pdftotext(path))
    for text in ["一次性告知申请人需要补正的全部材料", "不符合法定条件、标准", "反馈不予办理原因", "材料不齐全"]:
        assert text in flat
    reader = PdfReader(str(path))
    assert not any(page.images for page in reader.pages)  # vector, not pictures
    # one chart per item page, each under its item's heading
    assert flat.count("申请") >= len(booklet.parts)


@needs_poppler
def test_tall_rows_continue_on_the_next_page_under_a_repeated_header(tmp_path):
    """A cell taller than a page is split by lines, never clipped; the header repeats."""
    from formgen.booklet import Booklet, Cell, Part, Table
    lines = [f"第{n}行材料说明" for n in range(1, 121)]
    table = Table([1, 4], [[Cell("序号", bold=True), Cell("材料", bold=True)]],
                  [[Cell("1"), Cell("\n".join(lines))], [Cell("2"), Cell("最后一行")]])
    booklet = Booklet("test", "item_guide", "测试手册", None, "测试省", "测试局", 2025, "测试手册",
                      parts=[Part("长表", "long", "item", blocks=[table])])
    target = tmp_path / "long.pdf"
    BookletWriter().write(booklet, target)
    text = pdftotext(target)
    flat = re.sub(r"\s+", "", text)
    for line in lines:
        assert line in flat
    assert "最后一行" in flat
    body_pages = [t for t in text.split("\f") if "材料说明" in t]
    assert len(body_pages) >= 3
    assert all("序号" in page and "材料" in page for page in body_pages)


def test_county_edition_with_logo(mini, tmp_path):
    """A county of the small data set: its own name, bureau and logo, its province's items."""
    from PIL import Image
    from formgen.check import open_library
    folder = mini / "editions" / "county"
    Image.new("RGB", (60, 60), (200, 30, 30)).save(folder / "logo.png")
    edition = folder / "edition.yaml"
    edition.write_text(edition.read_text(encoding="utf-8") + "logo: logo.png\n", encoding="utf-8")
    lib = open_library(mini)
    resolved = lib.edition("county")
    booklet = build_booklet(lib, resolved)
    assert booklet.logo == folder / "logo.png"
    target = tmp_path / "county.pdf"
    BookletWriter(library=lib).write(booklet, target)
    reader = PdfReader(str(target))
    assert reader.pages[0].images  # the logo on the cover
    text = "".join(page.extract_text() for page in reader.pages)
    assert "样例县医疗保障经办服务指南" in text and "样例县医疗保障局" in text
    assert reader.metadata.title == "样例县医疗保障经办服务指南"


@needs_poppler
@pytest.mark.parametrize("edition", ["henan-flowcharts", "wolong"])
def test_cover_title_breaks_evenly(built, edition):
    """A long title breaks into even lines, after the bureau's name where it has one: never one
    character alone on the last line."""
    lines = [l.strip() for l in pdftotext(built[edition][1], "-f", "1", "-l", "1").splitlines() if l.strip()]
    assert all(len(line) >= 3 for line in lines), lines
    if edition == "wolong":
        assert lines[:2] == ["卧龙区医疗保障局", "“一件事一次办”办事指南"]


@pytest.mark.parametrize("edition", EDITIONS)
def test_every_contents_entry_has_the_page_the_word_booklet_caches(built, edition):
    """`build.page_numbers` (the Word 目录's cached numbers) finds every entry, coded groups too."""
    from formgen.build import page_numbers
    booklet, path = built[edition]
    pages = page_numbers(path, booklet)
    entries = [p.slug for d, p in booklet.walk() if d <= 2 and p.in_print and p.in_toc]
    assert [slug for slug in entries if slug not in pages] == []


@needs_poppler
def test_a_table_keeps_two_rows_together_at_its_start_and_end(tmp_path):
    """Never a table's last row alone on a new page under the repeated header, nor its first
    row alone under the header at a page's foot: wherever the table falls on the page."""
    from formgen.booklet import Booklet, Cell, Para, Part, Table
    names = ["甲类事项", "乙类事项", "丙类事项", "丁类事项", "戊类事项"]
    rows = [[Cell(str(n + 1)), Cell(name), Cell("\n".join(f"{name}材料第{k}项" for k in range(1, 4)))]
            for n, name in enumerate(names)]
    header = [[Cell("序号", bold=True), Cell("事项名称", bold=True), Cell("申请材料", bold=True)]]
    split_tables = 0
    for filler in range(0, 44, 1):
        table = Table([1, 3, 6], header, rows)
        blocks = [Para(f"第{k}段填充文字。") for k in range(filler)] + [table]
        booklet = Booklet("test", "item_guide", "测试手册", None, "测试省", "测试局", 2025, "测试手册",
                          parts=[Part("表格", "table", "item", blocks=blocks)])
        target = tmp_path / f"table-{filler}.pdf"
        BookletWriter().write(booklet, target)
        pages = [re.sub(r"\s+", "", page) for page in pdftotext(target).split("\f")]
        page_of = {name: next(n for n, page in enumerate(pages) if name in page) for name in names}
        assert page_of[names[-1]] == page_of[names[-2]], filler
        assert page_of[names[0]] == page_of[names[1]], filler
        split_tables += page_of[names[0]] != page_of[names[-1]]
    assert split_tables  # some placements do break the table across pages
