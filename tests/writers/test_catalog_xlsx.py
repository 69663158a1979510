"""The 事项清单 sheet, reopened with openpyxl as Excel would read it."""
import pytest
from openpyxl import load_workbook

from formgen.writers.catalog_xlsx import COLUMNS, write_catalog
from formgen.writers.xlsx import lines_needed


@pytest.fixture(scope="module")
def henan_sheet(library, tmp_path_factory):
    target = tmp_path_factory.mktemp("catalog") / "henan.xlsx"
    write_catalog(library.edition("henan-2024"), target)
    return load_workbook(target).active


def rows_of(sheet):
    return [[c.value for c in row] for row in sheet.iter_rows()]


def find_row(sheet, column: int, value: str) -> int:
    return next(r for r in range(1, sheet.max_row + 1) if sheet.cell(r, column).value == value)


def test_title_header_and_frozen_pane(henan_sheet):
    sheet = henan_sheet
    assert sheet["A1"].value == "河南省医疗保障经办政务服务事项清单（2024年版）"
    assert sheet["A1"].alignment.horizontal == "center"
    assert "A1:I1" in {str(r) for r in sheet.merged_cells.ranges}
    assert [c.value for c in sheet[2]] == COLUMNS
    assert sheet.freeze_panes == "A3"
    assert all(c.border.left.style == "thin" for c in sheet[2])


def test_group_rows_carry_names_and_codes(henan_sheet):
    sheet = henan_sheet
    first = find_row(sheet, 1, "一、基本医疗保险参保和变更登记")
    assert sheet.cell(first, 3).value == "00203600100Y"
    last = find_row(sheet, 1, "十、定点医药机构费用结算")
    assert sheet.cell(last, 3).value == "00203601000Y"
    groups = [r for r in range(3, sheet.max_row + 1) if str(sheet.cell(r, 1).value or "").startswith(
        ("一、", "二、", "三、", "四、", "五、", "六、", "七、", "八、", "九、", "十、"))]
    assert len(groups) == 10
    # the group's items follow its heading, in the list's order
    assert sheet.cell(first + 1, 2).value == "单位参保登记" and sheet.cell(first + 1, 1).value == "1"


def test_item_cells_keep_the_lists_wording(henan_sheet):
    sheet = henan_sheet
    row = find_row(sheet, 2, "单位参保登记")
    values = [sheet.cell(row, c).value for c in range(1, 10)]
    assert values[:3] == ["1", "单位参保登记", "002036001001"]
    assert values[3] == "1.统一社会信用代码证书或单位批准成立（注销）的文件\n2.《基本医疗保险单位参保信息登记表》（加盖单位公章）"
    assert values[4:7] == ["ABCD", "不超过5个工作日", "申请—受理—审核—办结"]
    assert values[7].startswith("1.各地可通过查询市场监管部门“五证合一”数据获取信息并即时办结；\n2.")
    assert values[8].endswith("3.《社会保险经办条例》（国务院令第765号）第六条、第十条。")
    staff = find_row(sheet, 2, "职工参保登记")
    assert "1.在职职工：\n" in sheet.cell(staff, 4).value
    assert "①港澳台人员参加在职职工医保的" in sheet.cell(staff, 8).value
    items = [r for r in range(3, sheet.max_row + 1) if sheet.cell(r, 3).value and
             str(sheet.cell(r, 3).value).isdigit() and sheet.cell(r, 2).value]
    assert len(items) == 28


def test_text_is_wrapped_and_rows_are_tall_enough(henan_sheet):
    sheet = henan_sheet
    for row in range(3, find_row(sheet, 2, "基本医疗保险定点零售药店费用结算") + 1):
        height = sheet.row_dimensions[row].height
        for col in range(1, 10):
            cell = sheet.cell(row, col)
            if cell.value and cell.coordinate not in sheet.merged_cells:
                assert cell.alignment.wrap_text
                width = sheet.column_dimensions[cell.column_letter].width
                assert height >= lines_needed(cell.value, width, cell.font.size) * 12, (cell.coordinate, height)
    widths = {c: sheet.column_dimensions[chr(64 + i)].width for i, c in enumerate(COLUMNS, 1)}
    assert widths["办理材料"] > 2 * widths["事项名称"] > 4 * widths["序号"]


def test_print_setup(henan_sheet):
    sheet = henan_sheet
    assert sheet.page_setup.orientation == "landscape"
    assert str(sheet.page_setup.paperSize) == "9"
    assert sheet.page_setup.fitToWidth == 1 and sheet.page_setup.fitToHeight == 0
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == "$2:$2"
    assert sheet.oddFooter.center.text == "- &P -"
    assert sheet.print_options.horizontalCentered


def test_notes_and_legend_follow_the_table(henan_sheet):
    sheet = henan_sheet
    notes = find_row(sheet, 1, "说明：")
    assert notes > find_row(sheet, 2, "基本医疗保险定点零售药店费用结算")
    assert sheet.cell(notes + 1, 1).value == "1.办理层级：A代表省，B代表地市，C代表县（市、区），D代表乡镇（街道），E代表村（社区）；"
    assert sheet.cell(notes + 5, 1).value.startswith("5.事项编码按照GB/T39554.1-2020")
    assert notes + 5 == sheet.max_row


def test_values_are_text_never_formulas(mini, tmp_path):
    from formgen.check import open_library
    item = mini / "editions/prov/items/01-a.yaml"
    item.write_text(item.read_text(encoding="utf-8").replace("name: 单位参保登记", "name: \"=HYPERLINK(\\\"x\\\")\""),
                    encoding="utf-8")
    target = tmp_path / "c.xlsx"
    write_catalog(open_library(mini).edition("prov"), target)
    sheet = load_workbook(target).active
    cells = [c for row in sheet.iter_rows() for c in row if c.value is not None]
    assert any(c.value == '=HYPERLINK("x")' for c in cells)
    assert all(c.data_type == "s" for c in cells)
    assert find_row(sheet, 1, "1") and sheet.cell(find_row(sheet, 1, "1"), 3).value == "002036001001"


def test_other_styles_leave_out_empty_columns(library, tmp_path):
    target = tmp_path / "yunnan.xlsx"
    write_catalog(library.edition("yunnan"), target)
    sheet = load_workbook(target).active
    header = [c.value for c in sheet[3]]  # row 2 names the sheet 事项清单 under the edition's title
    assert sheet["A2"].value == "事项清单"
    assert header[:2] == ["序号", "事项名称"] and "办理层级" not in header and "办理材料" in header
    assert sheet.freeze_panes == "A4" and sheet.print_title_rows == "$3:$3"
    names = [sheet.cell(r, 2).value for r in range(4, sheet.max_row + 1)]
    assert "单位参保登记" in names and "单位参保信息变更登记" in names
