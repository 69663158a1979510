"""Process charts: presets expanded, and texts read in the source's order."""
from formgen.flows import expand, reading_items, reading_order
from formgen.models import Flow, FlowPreset

STANDARD = FlowPreset.model_validate({
    "nodes": [{"id": "apply", "text": "申请"}, {"id": "accept", "text": "受理"},
              {"id": "review", "text": "审核"}, {"id": "done", "text": "办结", "kind": "end"},
              {"id": "notify", "text": "一次性告知申请人需要补正的全部材料", "kind": "side"},
              {"id": "refuse", "text": "反馈不予办理原因", "kind": "side"}],
    "edges": [{"from": "apply", "to": "accept"}, {"from": "accept", "to": "review"},
              {"from": "review", "to": "done"},
              {"from": "accept", "to": "notify", "label": "材料不齐全"},
              {"from": "review", "to": "refuse", "label": "不符合法定条件、标准"}]})


def flow(**extra):
    return Flow.model_validate({"title": "城乡居民参保登记", "preset": "standard",
                                "nodes": [{"id": "materials", "kind": "materials", "text": "办理材料：有效身份证件"}],
                                "edges": [{"from": "materials", "to": "apply"}], **extra})


def test_default_order_reads_the_main_column_then_the_side_boxes_bottom_up():
    chart = expand(flow(), {"standard": STANDARD})
    assert reading_order(chart) == [
        "申请", "办理材料：有效身份证件", "材料不齐全", "受理", "不符合法定条件、标准", "审核", "办结",
        "反馈不予办理原因", "一次性告知申请人需要补正的全部材料"]


def test_reading_gives_the_order_and_the_rest_follows():
    chart = expand(flow(reading=["materials", "apply", "accept>notify", "accept", "notify", "title"]),
                   {"standard": STANDARD})
    assert chart.reading[0] == "materials"
    assert reading_order(chart) == [
        "办理材料：有效身份证件", "申请", "材料不齐全", "受理", "一次性告知申请人需要补正的全部材料",
        "城乡居民参保登记",
        # not listed: in the default order, so nothing is dropped
        "不符合法定条件、标准", "审核", "办结", "反馈不予办理原因"]


def test_title_is_read_only_where_reading_places_it():
    assert "城乡居民参保登记" not in reading_order(expand(flow(), {"standard": STANDARD}))


def test_a_second_edge_between_the_same_boxes_is_numbered():
    chart = expand(flow(edges=[{"from": "materials", "to": "apply"},
                               {"from": "accept", "to": "notify", "label": "材料不齐全"},
                               {"from": "accept", "to": "notify", "label": "数据不正确"}],
                        reading=["accept>notify#2", "accept>notify"]), {"standard": STANDARD})
    assert reading_order(chart)[:2] == ["数据不正确", "材料不齐全"]
    # the default order names both labels, each once
    default = reading_order(expand(flow(edges=chart.edges), {"standard": STANDARD}))
    assert default.count("材料不齐全") == 1 and default.count("数据不正确") == 1


def test_reading_items_name_each_text():
    chart = expand(flow(reading=["title", "materials", "accept>notify"]), {"standard": STANDARD})
    assert reading_items(chart)[:3] == [("title", "城乡居民参保登记"), ("materials", "办理材料：有效身份证件"),
                                        ("accept>notify", "材料不齐全")]
