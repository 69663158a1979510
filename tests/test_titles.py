"""Where a centred title breaks: between words, evenly, after a bureau's name."""
from formgen.charts import text_width
from formgen.titles import title_lines


def cover(text, width=150.0):
    return title_lines(text, lambda line: text_width(line, 26, bold=True), width)


def test_a_title_that_fits_stays_one_line():
    assert cover("云南省办事指南") == ["云南省办事指南"]


def test_a_long_title_breaks_between_words_not_inside_one():
    assert cover("内黄县医疗保障经办政务服务事项办事指南") == ["内黄县医疗保障经办", "政务服务事项办事指南"]


def test_a_break_after_the_bureau_wins_when_even_enough():
    assert cover("卧龙区医疗保障局“一件事一次办”服务指南") == ["卧龙区医疗保障局", "“一件事一次办”服务指南"]


def test_box_text_breaks_between_words_in_the_fewest_lines():
    lines = title_lines("一次性告知申请人需要补正的全部材料", lambda line: text_width(line, 9), 30)
    assert lines == ["一次性告知申请人", "需要补正的全部材料"]


def test_no_line_starts_with_closing_punctuation_and_text_is_kept():
    text = "医保经办部门组织专家对申报材料/或体检材料进行审核，认定结果"
    lines = title_lines(text, lambda line: text_width(line, 9), 28)
    assert "".join(lines) == text and len(lines) >= 3
    assert not any(line[0] in "，。、/）》”" for line in lines)
    assert all(text_width(line, 9) <= 28 for line in lines)


def test_hard_breaks_are_kept():
    assert cover("第一行\n第二行") == ["第一行", "第二行"]


def test_a_word_wider_than_the_line_breaks_inside():
    lines = title_lines("https://example.gov.cn/very/long/path", lambda line: text_width(line, 9), 20)
    assert "".join(lines) == "https://example.gov.cn/very/long/path" and len(lines) > 1


def test_a_word_and_its_punctuation_wider_than_the_line_still_breaks():
    lines = title_lines("甲乙丙丁，戊己", len, 4)
    assert "".join(lines) == "甲乙丙丁，戊己" and not any(line.startswith("，") for line in lines)
