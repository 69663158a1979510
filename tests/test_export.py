"""`formgen export`: the Markdown carries the edition's text, in the seed's order.

Coverage is measured with the shared tool (``../shared/tools/seed_coverage.py``):
the share of the seed's distinct 6-grams (CJK ideographs, letters and digits
only) that the export contains.  Seeds and tool live beside the repository, so
these tests skip where they are absent (CI may clone elsewhere); the environment
variable FORMGEN_SEEDS names another seeds folder.
"""
import importlib.util

import pytest

from conftest import COVERAGE_TOOL, SEED_OF, SEEDS, seed_file
from formgen.export import edition_markdown

# Where an export cannot reach 97% the reason is not missing content but the seed's
# layout, which the model cannot express yet (see docs/data-model.md, `reading:`).
SHORT_OF_TARGET = {
    "puyang": "item headings sit between charts the seed runs together (its chart titles are all on the "
              "contents page); its 目录 lost items 1-3, 17-19, 22",
}
# No regression below today's figures, whatever the target.
FLOOR = {"henan-flowcharts": 97.0, "henan-2024": 98.0, "puyang": 96.8, "wolong": 97.0, "yunnan": 98.0}


@pytest.fixture(scope="module")
def tool():
    if not SEEDS.is_dir() or not COVERAGE_TOOL.is_file():
        pytest.skip(f"seeds or coverage tool not found beside the repository ({SEEDS.parent})")
    spec = importlib.util.spec_from_file_location("seed_coverage", COVERAGE_TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def coverage(tool, library, edition_id) -> tuple[float, list[str]]:
    """Share of the seed's 6-grams in the export, and the seed's clauses under 80%."""
    raw_seed = tool.seed_text(str(seed_file(edition_id)))
    have = tool.grams(tool.normalize(edition_markdown(library, library.edition(edition_id))), 6)
    want = tool.grams(tool.normalize(raw_seed), 6)
    clauses = {tool.normalize(c) for c in raw_seed.replace("；", "\n").replace("。", "\n").splitlines()}
    missing = [c for c in clauses
               if len(c) >= 12 and len(tool.grams(c, 6) & have) / len(tool.grams(c, 6)) < 0.8]
    return 100 * len(want & have) / len(want), missing


@pytest.mark.parametrize("edition_id", sorted(SEED_OF))
def test_export_never_falls_below_todays_coverage(tool, library, edition_id):
    share, _ = coverage(tool, library, edition_id)
    assert share >= FLOOR[edition_id]


@pytest.mark.parametrize("edition_id", [
    pytest.param(e, marks=pytest.mark.xfail(reason=SHORT_OF_TARGET[e], strict=True)) if e in SHORT_OF_TARGET
    else e for e in sorted(SEED_OF)])
def test_export_carries_97_percent_of_its_seed(tool, library, edition_id):
    share, _ = coverage(tool, library, edition_id)
    assert share >= 97.0


@pytest.mark.parametrize("edition_id", ["henan-flowcharts", "puyang", "yunnan"])
def test_no_clause_of_the_seed_is_missing(tool, library, edition_id):
    _, missing = coverage(tool, library, edition_id)
    # a clause with a blank the edition fills (XX → 云南省) is printed filled, as it should be
    filled = [tool.normalize(k) for k, v in library.edition(edition_id).edition.placeholders.items()
              if v is not None and tool.normalize(k)]
    assert [c for c in missing if not any(k in c for k in filled)] == []


def test_charts_follow_their_reading_order(library):
    text = edition_markdown(library, library.edition("henan-flowcharts"))
    start = text.index("---", text.index("### 基本医疗保险参保人员享受门诊慢性病病种待遇认定"))
    section = text[start:text.index("---", text.index("### 门诊费用报销"))]
    lines = [line for line in section.splitlines() if line.strip()]
    # the seed reads the payment box, then the title, then the chart from the top: the
    # item's heading stands at the title's place, the 拨付 box before it
    assert lines[:5] == ["---", "- 拨付", "### 门诊费用报销", "- 申请", "- 材料不齐全"]
    # a title printed last is a caption under the chart; the heading stays on top
    first = text[text.index("### 城乡居民参保登记"):text.index("### 城乡居民参保信息变更登记")]
    assert [line for line in first.splitlines() if line.strip()][-2:] == ["- **城乡居民参保登记**", "---"]
    # a box's lines stay in one list entry
    assert "- 办理材料：  \n  1.医保电子凭证或有效身份证件或社保卡；  \n  2.医院收费票据；" in section


def test_package_materials_are_the_guides_table(library):
    text = edition_markdown(library, library.edition("wolong"))
    assert "| 序号 | 事项名称 | 原始材料 | 已关联电子证照名称 | 共性材料 |" in text
    assert "| 1 | 城乡居民医疗保险参保登记 | 1.参保人员身份证件" in text
    # each package's blank form follows its FAQ, under the edition's number
    faq = text.index("#### 卧龙区城乡居民参保登记答疑手册")
    assert faq < text.index("### 表15—城乡居民基本医疗保险参保登记表") < text.index("## 我要变更城乡居民参保信息")


def test_blank_fields_read_as_on_paper(library):
    text = edition_markdown(library, library.edition("wolong"))
    form = text[text.index("### 表2—"):]
    assert "［" not in form                                  # no invented field labels
    assert "\n- 8 │ ＿＿＿＿" in form                         # the roster's eight numbered lines
    assert "（建议列选择项打勾，如□中小学儿童 □大学生 □无业成年人等）" in text


def test_material_notes_are_printed(library):
    text = edition_markdown(library, library.edition("puyang"))
    # in the chart's materials box: each note on its own line, indented under its material
    assert "或批准单位变更的文件；  \n  　非关键信息时可不提供辅助材料；  \n  　鼓励医保经办机构通过数据共享获取信息。" in text


def test_flowcharts_edition_opens_on_its_contents(library):
    text = edition_markdown(library, library.edition("puyang"))
    # the seed's first line is the title of its contents page: …流程图目录
    assert text.startswith("# 濮阳县医疗保障经办政务服务事项流程图\n\n## 目录\n\n- 1、单位参保登记\n")
    assert text.index("## 目录") < text.index("- 发布机关：濮阳县医疗保障局") < text.index("### 1、单位参保登记")


def test_faq_prints_the_seeds_enumerator(library):
    text = edition_markdown(library, library.edition("wolong"))
    assert "- **1、哪些人可以参加城乡居民医保？在哪里参保？**" in text      # label 1、, no 问：
    assert "- **问：如何办理单位信息变更登记？**" in text                   # label 问：, no number
    assert "- **4、问：申请异地居住就医备案有哪些条件？**" in text
    assert "- **1、问：什么条件下灵活就业人员可以参加职工基本医疗保险关系（新增）？**" in text
    # without a label: the default numbering
    wolong = library.edition("wolong")
    package = wolong.packages[0]
    labelled = list(package.faq)
    package.faq[:] = [q.model_copy(update={"label": None}) for q in labelled]
    try:
        assert "1. **问：哪些人可以参加城乡居民医保？在哪里参保？**" in edition_markdown(library, wolong)
    finally:
        package.faq[:] = labelled  # the library may be shared with other tests


def test_numbered_options_print_number_then_box(library):
    text = edition_markdown(library, library.edition("wolong"))
    form = text[text.index("### 表7—"):]
    assert "│ 险种 │ 1.职工医保□ 2.城乡居民医保□" in form
    assert "办理(1.异地安置退休人员备案□ 2.异地长期居住人员□ 3.常驻异地工作人员备案□)业务" in form
    assert "□异地安置退休人员 □异地长期居住人员" in form                    # unnumbered options unchanged
