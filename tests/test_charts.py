"""Process charts: every built-in flow laid out, checked geometrically, and drawn three ways."""
import io
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
from fpdf import FPDF
from PIL import Image

from formgen import charts, flows
from formgen.errors import RenderError
from formgen.models import Flow, FlowEdge, FlowNode

EPS = 0.05  # mm


def _strip(text: str) -> str:
    return "".join(text.split())


@pytest.fixture(scope="module")
def every_chart(library):
    """(name, chart) for every flow of every built-in edition, items and packages."""
    found = []
    for edition_id in library.editions:
        edition = library.edition(edition_id)
        for item in edition.items:
            for index, flow in enumerate(item.flows):
                found.append((f"{edition_id}/{item.id}/{index}", flows.expand(flow, library.presets, item)))
        for package in edition.packages:
            for index, flow in enumerate(package.flows):
                found.append((f"{edition_id}/{package.id}/{index}", flows.expand(flow, library.presets)))
    assert len(found) > 100
    return found


@pytest.fixture(scope="module", params=[160.0, 150.0])
def laid_out(request, every_chart):
    width = request.param
    return width, [(name, chart, charts.layout(chart, max_width=width)) for name, chart in every_chart]


def _overlap(a, b, slack=EPS) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax + aw > bx + slack and bx + bw > ax + slack and ay + ah > by + slack and by + bh > ay + slack


def _frame(box):
    return (box.x, box.y, box.w, box.h)


def _on_edge(point, box) -> bool:
    x, y = point
    inside_x = box.x - EPS <= x <= box.right + EPS
    inside_y = box.y - EPS <= y <= box.bottom + EPS
    on_vertical = abs(x - box.x) < EPS or abs(x - box.right) < EPS
    on_horizontal = abs(y - box.y) < EPS or abs(y - box.bottom) < EPS
    return (inside_x and on_horizontal) or (inside_y and on_vertical)


# --------------------------------------------------------------------------
# Geometric checks (used on every built-in chart and on odd shapes)
# --------------------------------------------------------------------------
def check_fits(name, lay, width):
    assert lay.width <= width + 1e-6, name
    assert lay.font_size >= charts.FONT_FLOOR, name
    for box in lay.boxes:
        assert box.x >= 0 and box.y >= 0 and box.right <= lay.width and box.bottom <= lay.height, (name, box.id)


def check_boxes_apart(name, lay):
    for i, a in enumerate(lay.boxes):
        for b in lay.boxes[i + 1:]:
            assert not _overlap(_frame(a), _frame(b)), (name, a.id, b.id)


def check_labels_clear(name, lay):
    labels = [a for a in lay.arrows if a.label]
    for arrow in labels:
        assert arrow.label_box and arrow.label_lines, (name, arrow.label)
        assert _strip("".join(arrow.label_lines)) == _strip(arrow.label)
        for box in lay.boxes:
            assert not _overlap(arrow.label_box, _frame(box)), (name, arrow.label, box.id)
        widest = max(charts.text_width(line, arrow.font_size) for line in arrow.label_lines)
        assert widest <= arrow.label_box[2] + EPS, (name, arrow.label)
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            assert not _overlap(a.label_box, b.label_box), (name, a.label, b.label)


def check_texts(name, chart, lay):
    placed = {box.id: box for box in lay.boxes if box.framed}
    assert set(placed) == {n.id for n in chart.nodes}, name
    captions = [box for box in lay.boxes if not box.framed]
    if "title" in chart.reading:  # the chart draws its own caption, above everything else
        (caption,) = captions
        assert _strip("".join(caption.lines)) == _strip(chart.title), name
        assert all(caption.bottom <= box.y for box in placed.values()), name
        assert max(charts.text_width(line, caption.font_size, True) for line in caption.lines) <= caption.w, name
    else:
        assert not captions, name
    for node in chart.nodes:
        box = placed[node.id]
        assert _strip("".join(box.lines)) == _strip(node.text), (name, node.id)
        for x, baseline, line in box.placed_lines():
            assert x >= box.x + 0.5 and x + charts.text_width(line, box.font_size, box.bold) <= box.right - 0.5, \
                (name, node.id, line)
            assert box.y < baseline - box.font_size * charts.PT * 0.88 and baseline + 0.5 < box.bottom, \
                (name, node.id, line)
        for before, after in zip(box.lines, box.lines[1:]):
            assert after[0] not in charts.NO_LINE_START, (name, box.id, after)
            assert before[-1] not in charts.NO_LINE_END, (name, box.id, before)


def check_arrows(name, chart, lay):
    placed = {box.id: box for box in lay.boxes}
    drawn = {(a.source, a.target) for a in lay.arrows}
    assert drawn == {(e.source, e.target) for e in chart.edges}, name
    for arrow in lay.arrows:
        assert _on_edge(arrow.points[0], placed[arrow.source]), (name, arrow.source, arrow.target)
        assert _on_edge(arrow.points[-1], placed[arrow.target]), (name, arrow.source, arrow.target)
        for (x1, y1), (x2, y2) in zip(arrow.points, arrow.points[1:]):
            assert abs(x1 - x2) < EPS or abs(y1 - y2) < EPS, (name, "orthogonal segments only")
            segment = (min(x1, x2), min(y1, y2), abs(x2 - x1), abs(y2 - y1))
            for box in lay.boxes:  # never through a box it does not join
                if box.id not in (arrow.source, arrow.target):
                    inner = (box.x + 0.2, box.y + 0.2, box.w - 0.4, box.h - 0.4)
                    assert not _overlap(segment, inner, slack=-1e-9), (name, arrow.source, arrow.target, box.id)


def test_every_chart_fits_the_width_and_stays_inside_itself(laid_out):
    width, layouts = laid_out
    for name, _, lay in layouts:
        check_fits(name, lay, width)


def test_no_boxes_overlap(laid_out):
    for name, _, lay in laid_out[1]:
        check_boxes_apart(name, lay)


def test_labels_are_clear_of_boxes_and_of_each_other(laid_out):
    for name, _, lay in laid_out[1]:
        check_labels_clear(name, lay)


def test_box_text_is_the_node_text_wrapped_inside_its_box(laid_out):
    for name, chart, lay in laid_out[1]:
        check_texts(name, chart, lay)


def test_arrows_run_from_box_edge_to_box_edge_around_other_boxes(laid_out):
    for name, chart, lay in laid_out[1]:
        check_arrows(name, chart, lay)


def test_standard_chart_reads_like_the_publications(library):
    item = next(i for i in library.edition("henan-flowcharts").items if i.id == "chengxiang-jumin-canbao-dengji")
    lay = charts.layout(flows.expand(item.flows[0], library.presets, item))
    box = {b.id: b for b in lay.boxes}
    chain = [box[n] for n in ("apply", "accept", "review", "done")]
    assert all(abs(b.cx - chain[0].cx) < EPS for b in chain)  # one column …
    assert all(a.bottom < b.y for a, b in zip(chain, chain[1:]))  # … top to bottom
    assert box["materials"].right < box["apply"].x  # materials to the left of 申请
    assert box["materials"].align == "left" and box["apply"].align == "center"
    for side, step, label in (("notify", "accept", "材料不齐全"), ("refuse", "review", "不符合法定条件、标准")):
        assert box[side].x > box[step].right and box[step].y < box[side].cy < box[step].bottom
        arrow = next(a for a in lay.arrows if a.target == side)
        assert arrow.label == label and arrow.label_box[1] + arrow.label_box[3] <= arrow.points[-1][1]
    assert box["done"].radius > 0 and box["apply"].radius == 0


def test_parallel_branches_sit_side_by_side(library):
    item = next(i for i in library.edition("yunnan").items if i.id == "zhuanyi-jiexu")
    lay = charts.layout(flows.expand(item.flows[0], library.presets, item))
    box = {b.id: b for b in lay.boxes}
    assert box["out"].right < box["in"].x and box["in"].right < box["local"].x
    assert box["materials"].bottom < min(box[n].y for n in ("out", "in", "local"))


# --------------------------------------------------------------------------
# Text wrapping and fitting
# --------------------------------------------------------------------------
def test_wrap_keeps_punctuation_off_line_starts_and_words_whole():
    width = charts.text_width("一二三四五", 10)
    lines = charts.wrap("一二三四五，六七八九十。", width, 10)
    assert lines == ["一二三四", "五，六七八", "九十。"] or all(line[0] not in "，。" for line in lines)
    assert all(charts.text_width(line, 10) <= width + 1e-6 for line in lines)
    lines = charts.wrap("尺寸为441像素（高）", charts.text_width("尺寸为44", 10), 10)
    assert "441" in "".join(lines) and all("441" in line or "4" not in line for line in lines)
    assert not any(line.endswith("（") for line in lines)


def test_wrap_breaks_a_word_longer_than_the_line():
    url = "https://example.gov.cn/" + "a" * 60
    lines = charts.wrap(url, 30, 10)
    assert len(lines) > 1 and "".join(lines) == url


def test_font_shrinks_to_the_floor_then_boxes_grow(library):
    chart = flows.expand(Flow(preset="standard"), library.presets)
    roomy = charts.layout(chart, max_width=160)
    tight = charts.layout(chart, max_width=50)
    assert roomy.font_size == 10.5 and charts.FONT_FLOOR <= tight.font_size < 10.5
    assert tight.width <= 50
    narrow = charts.layout(chart, max_width=25)  # at the floor: narrower, taller boxes
    assert narrow.font_size == charts.FONT_FLOOR and narrow.width <= 25 and narrow.height > roomy.height
    assert all(_strip("".join(b.lines)) == _strip(b.text) for b in narrow.boxes)
    with pytest.raises(RenderError):
        charts.layout(chart, max_width=8)


def test_max_height_shrinks_the_font(library):
    item = next(i for i in library.edition("yunnan").items if i.id == "zhuanyi-jiexu")
    chart = flows.expand(item.flows[0], library.presets, item)
    free = charts.layout(chart)
    capped = charts.layout(chart, max_height=free.height * 0.8)
    assert capped.font_size < free.font_size and capped.height < free.height


def _chart(nodes, edges):
    return flows.Chart("test", [FlowNode(**n) for n in nodes], [FlowEdge(**e) for e in edges])


def test_unusual_shapes_still_lay_out_cleanly():
    shapes = {
        "cycle": _chart([{"id": "a", "text": "甲"}, {"id": "b", "text": "乙"}],
                        [{"from": "a", "to": "b"}, {"from": "b", "to": "a", "label": "退回"}]),
        "long edge": _chart([{"id": n, "text": t} for n, t in zip("abcd", "甲乙丙丁")],
                            [{"from": "a", "to": "b"}, {"from": "b", "to": "c"}, {"from": "c", "to": "d"},
                             {"from": "a", "to": "d", "label": "直接办结"}]),
        "side off a left branch": _chart(
            [{"id": "a", "text": "申请"}, {"id": "b", "text": "窗口"}, {"id": "c", "text": "网上"},
             {"id": "s", "text": "告知", "kind": "side"}],
            [{"from": "a", "to": "b"}, {"from": "a", "to": "c"}, {"from": "b", "to": "s", "label": "不全"}]),
        "two labelled sides off one step": _chart(
            [{"id": "a", "text": "受理"}, {"id": "b", "text": "办结", "kind": "end"},
             {"id": "s", "text": "一次性告知申请人需要补正的全部材料", "kind": "side"},
             {"id": "t", "text": "反馈不予办理原因", "kind": "side"}],
            [{"from": "a", "to": "b"}, {"from": "a", "to": "s", "label": "材料不齐全"},
             {"from": "a", "to": "t", "label": "不符合法定条件、标准"}]),
        "five lanes": _chart(
            [{"id": "m", "text": "准备材料", "kind": "materials"}, {"id": "r", "text": "审核"}]
            + [{"id": f"l{i}", "text": f"第{i}种办理渠道：窗口、网上、自助终端、手机APP"} for i in range(5)],
            [{"from": "m", "to": f"l{i}"} for i in range(5)] + [{"from": f"l{i}", "to": "r"} for i in range(5)]),
        "lonely": _chart([{"id": "a", "text": "只有一步"}, {"id": "n", "text": "一条注释", "kind": "note"}], []),
        "empty": _chart([], []),
    }
    for name, chart in shapes.items():
        lay = charts.layout(chart, max_width=120)
        check_fits(name, lay, 120)
        check_boxes_apart(name, lay)
        check_labels_clear(name, lay)
        check_texts(name, chart, lay)
        check_arrows(name, chart, lay)
        ET.fromstring(charts.to_svg(lay))


# --------------------------------------------------------------------------
# Renderers
# --------------------------------------------------------------------------
def test_svg_is_standalone_and_holds_every_text(every_chart):
    for name, chart in every_chart:
        lay = charts.layout(chart)
        root = ET.fromstring(charts.to_svg(lay))
        ns = "{http://www.w3.org/2000/svg}"
        assert root.tag == f"{ns}svg" and root.get("width").endswith("mm"), name
        assert root.find(f"{ns}title").text == (chart.title or "流程图")
        texts = _strip("".join(t.text for t in root.iter(f"{ns}text")))
        for node in chart.nodes:
            assert _strip(node.text) in texts, (name, node.id)
        for edge in chart.edges:
            assert _strip(edge.label or "") in texts, (name, edge.label)


def test_svg_texts_follow_the_reading_order(library):
    item = next(i for i in library.edition("henan-flowcharts").items if i.id == "chengxiang-jumin-canbao-dengji")
    chart = flows.expand(item.flows[0], library.presets, item)
    lay = charts.layout(chart)
    root = ET.fromstring(charts.to_svg(lay))
    drawn = _strip("".join(t.text for t in root.iter("{http://www.w3.org/2000/svg}text")))
    assert drawn == _strip("".join(lay.reading()))
    # its `reading:` places the title after the last box: the chart draws it (at the top), read last
    assert chart.reading[-1] == "title" and lay.reading() == flows.reading_order(chart)
    assert drawn.endswith(_strip(chart.title))


def test_without_a_title_entry_the_caption_is_left_to_the_booklet(library):
    item = next(i for i in library.edition("henan-2024").items if i.flows)
    chart = flows.expand(item.flows[0], library.presets, item)
    assert "title" not in chart.reading
    lay = charts.layout(chart)
    assert all(box.framed for box in lay.boxes)
    assert chart.title not in lay.reading()


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")
def test_pdf_draws_every_box_text_as_vector_text(every_chart, tmp_path):
    pdf = FPDF()
    for role in ("serif", "sans"):
        path, index = charts.font_file(role)
        pdf.add_font(role, "", path, collection_font_number=index)
    pdf.set_auto_page_break(False)
    layouts = []
    for name, chart in every_chart:
        lay = charts.layout(chart, max_width=160)
        pdf.add_page()
        charts.draw_pdf(pdf, lay, 25, 25)
        layouts.append((name, lay))
    target = tmp_path / "charts.pdf"
    pdf.output(str(target))
    text = subprocess.run(["pdftotext", "-raw", str(target), "-"], capture_output=True, text=True, check=True).stdout
    pages = [_strip(page) for page in text.split("\f")]
    for (name, lay), page in zip(layouts, pages):
        for box in lay.boxes:
            assert _strip("".join(box.lines)) in page, (name, box.id)
        for arrow in lay.arrows:
            if arrow.label:
                assert _strip(arrow.label) in page, (name, arrow.label)
    assert re.search(rb"/Subtype\s*/Type0", target.read_bytes())  # text, not pictures of text


def test_png_has_the_expected_size_and_ink(every_chart):
    for name, chart in every_chart[:: max(1, len(every_chart) // 12)]:
        lay = charts.layout(chart)
        image = Image.open(io.BytesIO(charts.to_png(lay, dpi=300)))
        assert image.size == (round(lay.width / 25.4 * 300), round(lay.height / 25.4 * 300)), name
        assert round(image.info["dpi"][0]) == 300
        grey = image.convert("L")
        assert grey.getpixel((0, 0)) == 255  # white background
        assert grey.getextrema()[0] < 64, name  # something is drawn
