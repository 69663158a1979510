"""The booklet builder: each style laid out as its seed is, nothing of another edition."""
import re

import pytest

from formgen.booklet import ChartBlock, FormBlock, LinkBlock, Para, Table, build_booklet

EDITIONS = ["henan-2024", "henan-flowcharts", "puyang", "wolong", "yunnan"]


@pytest.fixture(scope="module")
def booklets(library):
    return {e: build_booklet(library, library.edition(e)) for e in EDITIONS}


def texts(booklet):
    """Every string the booklet holds, for leak checks."""
    out = [booklet.title, booklet.header_text]
    for _, part in booklet.walk():
        out.append(part.heading)
        for block in part.blocks:
            if isinstance(block, Para):
                out.append(block.text)
            elif isinstance(block, Table):
                out += [c.text for row in block.header + block.rows for c in row]
            elif isinstance(block, ChartBlock):
                out += [n.text for n in block.chart.nodes] + [e.label or "" for e in block.chart.edges]
            elif isinstance(block, FormBlock):
                out.append(block.title)
    return out


def test_catalog_groups_rows_and_codes(booklets, library):
    booklet = booklets["henan-2024"]
    assert booklet.landscape and booklet.style == "catalog"
    groups = [p for p in booklet.parts if p.kind == "group"]
    assert [g.number for g in groups] == [f"{n}、" for n in "一二三四五六七八九十"]
    assert groups[0].code == "00203600100Y" and groups[0].title == "基本医疗保险参保和变更登记"
    rows, anchors = [], []
    for group in groups:
        (table,) = [b for b in group.blocks if isinstance(b, Table)]
        assert [c.text for c in table.header[0]] == ["序号", "事项名称", "事项编码", "办理材料", "办理层级",
                                                     "办理时限", "办理流程", "备注", "设定依据"]
        rows += table.rows
        anchors += table.anchors
        assert all(not child.in_print for child in group.children)
        assert [c.slug for c in group.children] == table.anchors
    assert len(rows) == 28
    assert [r[0].text for r in rows] == [str(n) for n in range(1, 29)]
    assert rows[0][2].text == "002036001001" and rows[27][2].text == "002036010002"
    assert rows[9][2].text == "002036003002"  # kept as the seed prints it
    assert rows[0][4].text == "ABCD" and rows[0][6].text == "申请—受理—审核—办结"
    notes = booklet.parts[-1]
    assert notes.kind == "notes" and notes.blocks[0].text.startswith("1.办理层级：A代表省")


def test_catalog_detail_pages_hold_the_row(booklets):
    group = booklets["henan-2024"].parts[0]
    detail = group.children[0]
    text = "\n".join(b.text for b in detail.blocks if isinstance(b, Para))
    assert "002036001001" in text and "《基本医疗保险单位参保信息登记表》（加盖单位公章）" in text
    assert "《中华人民共和国社会保险法》第五十七条" in text
    assert any(isinstance(b, ChartBlock) for b in detail.blocks)


def test_item_guide_has_numbered_sections_and_appendices(booklets, library):
    booklet = booklets["yunnan"]
    assert booklet.parts[0].kind == "front" and "放管服" in booklet.parts[0].blocks[0].text
    items = [p for _, p in booklet.walk() if p.kind == "item"]
    assert len(items) == len(library.edition("yunnan").items) == 31
    expected = ["事项名称", "服务对象", "办理方式", "办理流程", "申办材料", "办理时限", "单位地址及监督电话", "满意度测评"]
    for item in items:
        labels = [b.text for b in item.blocks if isinstance(b, Para) and b.style == "label"]
        numbers = [re.match(r"^([一二三四五六七八九十]+)、", t).group(1) for t in labels]
        assert numbers == list("一二三四五六七八九")[:len(labels)]
        titles = [t.split("、", 1)[1] for t in labels]
        # The two settlement items have no 申办材料, so eight sections (as the seed); all others nine.
        wanted = expected if "结算" not in item.title else [t for t in expected if t != "申办材料"]
        assert titles[:-1] == wanted, item.title
        assert titles[-1].endswith("流程图") and any(isinstance(b, ChartBlock) for b in item.blocks)
    appendices = [p for p in booklet.parts if p.kind == "appendix"]
    assert [a.number.strip() for a in appendices] == [f"附件{n}" for n in range(1, 10)]
    assert all(isinstance(a.blocks[0], FormBlock) for a in appendices)
    mantebing = next(i for i in items if "慢特病" in i.title)
    assert any("（一）门诊慢性病共2５种病种：冠心病" in b.text for b in mantebing.blocks if isinstance(b, Para))


def test_package_guide_tables_charts_faq_and_form(booklets):
    booklet = booklets["wolong"]
    packages = [p for p in booklet.parts if p.kind == "package"]
    assert len(packages) == 8
    for pkg in packages:
        tables = [b for b in pkg.blocks if isinstance(b, Table)]
        assert len(tables) == 2
        assert tables[0].rows[0][1].text == pkg.title
        assert [c.text for c in tables[1].header[0]][:3] == ["序号", "事项名称", "原始材料"]
        assert any(isinstance(b, ChartBlock) for b in pkg.blocks)
        headings = [b.text for b in pkg.blocks if isinstance(b, Para) and b.style == "heading"]
        assert headings[:3] == ["一、基本信息", "二、申请材料", "三、办理流程"]
        assert headings[3].endswith("答疑手册")
        assert any(isinstance(b, Para) and b.text.startswith("答：") for b in pkg.blocks)
        assert isinstance(pkg.blocks[-1], FormBlock)
    first = packages[0]
    info = {r[0].text: r[1].text for r in first.blocks[1].rows}
    assert info["网上办理地址"] == "暂不能网办" and info["咨询电话"] == "0377-63111116"
    online = [p for p in packages if any(isinstance(b, LinkBlock) for b in p.blocks)]
    assert len(online) == 4
    assert all(b.url == "https://ggfw.ylbz.henan.gov.cn/" for p in online for b in p.blocks if isinstance(b, LinkBlock))


def test_flowcharts_print_materials_and_notes_once_in_the_chart(booklets):
    """As in the seeds: the 办理材料 box of the chart is the list, not a copy of one above it."""
    puyang = booklets["puyang"]
    assert [p.number for p in puyang.parts] == [f"{n}、" for n in range(1, 29)]
    first = puyang.parts[0]
    assert [type(b) for b in first.blocks] == [ChartBlock]
    (box,) = first.blocks[0].chart.boxes("materials")
    assert box.text.splitlines() == ["办理材料：", "1.营业执照或统一社会信用代码证书或单位批准成立的文件；",
                                     "2.《基本医疗保险单位参保信息登记表》（加盖单位公章）。"]
    change = next(p for p in puyang.parts if p.slug == "zhigong-canbao-xinxi-biangeng")
    texts_drawn = [n.text for n in change.blocks[0].chart.nodes]
    assert "注: 关键信息包含姓名、性别、身份证号、出生日期。" in texts_drawn  # the seed's note box
    henan = booklets["henan-flowcharts"]
    assert len(henan.parts) == 20 and all(p.number == "" for p in henan.parts)


def test_flowcharts_print_nothing_inherited_from_the_catalog(booklets):
    """Puyang extends the province list but its charts print only their own boxes."""
    text = "\n".join(texts(booklets["puyang"]))
    assert "关键信息包含：统一社会信用代码" not in text  # henan-2024 item 4's 备注
    assert "审核环节包括评估、公示、协商谈判、协议签订等" not in text  # henan-2024 item 25's 备注
    dingdian = next(p for p in booklets["puyang"].parts if p.slug == "yiliao-jigou-dingdian")
    assert [type(b) for b in dingdian.blocks] == [ChartBlock]


@pytest.mark.parametrize("edition", EDITIONS)
def test_slugs_unique_and_every_item_in_the_tree(booklets, library, edition):
    booklet = booklets[edition]
    slugs = [p.slug for _, p in booklet.walk()]
    assert len(slugs) == len(set(slugs))
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9_-]*", s) for s in slugs)
    resolved = library.edition(edition)
    assert {i.id for i in resolved.items} <= set(slugs)
    assert {p.id for p in resolved.packages} <= set(slugs)
    leftover = [t for t in texts(booklet) if re.search(r"(?<![A-Z])XX|--(?!\w)", t or "")]
    if any(v for v in resolved.edition.placeholders.values()):
        assert not leftover


def test_no_other_edition_leaks(booklets):
    for edition in ["henan-2024", "henan-flowcharts", "puyang", "yunnan"]:
        text = "\n".join(texts(booklets[edition]))
        assert "卧龙" not in text and "0377-63" not in text
    for edition in ["henan-2024", "henan-flowcharts", "puyang", "wolong"]:
        assert "云南" not in "\n".join(texts(booklets[edition]))


def test_placeholders_are_filled(mini):
    """The edition's placeholder values replace XX in every text of its booklet."""
    from formgen.check import open_library
    item = mini / "editions" / "prov" / "items" / "01-a.yaml"
    item.write_text(item.read_text(encoding="utf-8").replace("《样例登记表》", "《XX样例登记表》"), encoding="utf-8")
    lib = open_library(mini)
    booklet = build_booklet(lib, lib.edition("prov"))
    joined = "\n".join(t for t in texts(booklet) if t)
    assert "《样例省样例登记表》" in joined and "XX" not in joined


def test_faq_questions_carry_the_seeds_enumerator(booklets):
    labels = [b.text for p in booklets["wolong"].parts if p.kind == "package"
              for b in p.blocks if isinstance(b, Para) and b.style == "label"]
    assert "1、哪些人可以参加城乡居民医保？在哪里参保？" in labels            # label: 1、
    assert "问：如何办理单位信息变更登记？" in labels                         # label: 问：
    assert "4、问：申请异地居住就医备案有哪些条件？" in labels               # label: 4、问：
    assert "1、问：什么条件下灵活就业人员可以参加职工基本医疗保险关系（新增）？" in labels
