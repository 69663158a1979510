"""Hostile and odd input, through `fill_forms` into all three formats, checked in the files.

Every test opens what was written (python-docx, openpyxl, pypdf) and looks for the values
exactly as the clerk typed them; refusals must name the row and column and write nothing.
"""
import codecs
import csv
import io
import re
import zipfile

import pytest

from formgen.errors import InputError
from formgen.fill import build_records, normalise
from formgen.forms_api import fill_forms
from formgen.inputs import Table, read_table
from formgen.output import safe_filename

GOOD_ID = "11010519491231002X"
FORMATS = ["docx", "xlsx", "pdf"]
FORMULAS = ["=1+1", "+86", "-1", "@SUM(A1:A2)", '=HYPERLINK("http://example.com","点我")',
            "=cmd|' /C calc'!A0"]
TEMPLATES = ["{{ 7*7 }}", "{% for x in y %}循环{% endfor %}", "{# 注释", "{{ v.name }}"]
SPECIALS = ["<b>加粗</b>", "A & B", "]]>", "\"双引号\"", "'单引号'", "&amp; &lt; &#x41;"]


# --------------------------------------------------------------------------
# Helpers: write the input, fill, read the outputs back
# --------------------------------------------------------------------------
@pytest.fixture
def wolong(library):
    return library.edition("wolong")


def csv_file(tmp_path, rows, name="in.csv", encoding="utf-8"):
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    path = tmp_path / name
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def people(values, column="参保地联系地址"):
    """表7 rows: one person per value, the value in ``column``."""
    return [["姓名", "身份证件号码", column]] + [[f"人{i}", GOOD_ID, v] for i, v in enumerate(values)]


def fill(edition, data, fmt, out, form="表7", **options):
    targets, result = fill_forms(edition.find_form(form), edition, data, fmt, out, **options)
    return targets, result


def docx_text(path) -> str:
    from docx import Document
    from docx.oxml.ns import qn
    body = Document(str(path)).element.body
    paragraphs = []
    for p in body.iter(qn("w:p")):
        paragraphs.append("".join(t.text or "" for t in p.iter(qn("w:t"))))
    return "\n".join(paragraphs)


def pdf_text(path) -> str:
    from pypdf import PdfReader
    return "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def xlsx_cells(path):
    from openpyxl import load_workbook
    book = load_workbook(path)
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row
            if cell.value is not None]


def text_of(path) -> str:
    if path.suffix == ".docx":
        return docx_text(path)
    if path.suffix == ".pdf":
        return pdf_text(path)
    return "\n".join(str(c.value) for c in xlsx_cells(path))


def assert_literal(path, values):
    """Each value appears exactly (PDF: ignoring the line breaks and spaces of text extraction)."""
    text = text_of(path)
    for value in values:
        if path.suffix == ".pdf":
            assert squeeze(value) in squeeze(text), value
        elif path.suffix == ".xlsx":
            assert any(c.value == value for c in xlsx_cells(path)), value
        else:
            assert value in text, value


# --------------------------------------------------------------------------
# Values that look like code stay text
# --------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
def test_formula_template_and_xml_lookalikes_print_literally(tmp_path, wolong, fmt):
    values = FORMULAS + TEMPLATES + SPECIALS
    data = csv_file(tmp_path, people(values))
    (target,), _ = fill(wolong, data, fmt, tmp_path / "out", merge=True)
    assert_literal(target, values)  # {{ 7*7 }} itself, so never evaluated to 49


def test_excel_cells_that_look_like_formulas_are_strings(tmp_path, wolong):
    data = csv_file(tmp_path, people(FORMULAS))
    (target,), _ = fill(wolong, data, "xlsx", tmp_path / "out", merge=True)
    cells = {c.value: c for c in xlsx_cells(target)}
    for value in FORMULAS:
        assert cells[value].data_type == "s"
    with zipfile.ZipFile(target) as book:
        sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets and not any(b"<f>" in book.read(n) or b"<f " in book.read(n) for n in sheets)


def test_name_and_roster_values_that_look_like_formulas(tmp_path, library):
    """A roster (表2): formula-looking values in the repeated rows and the unit's field."""
    edition = library.edition("wolong")
    rows = [["单位名称", "姓名", "身份证件号码"]] + [["=1+2", f"@人{i}", GOOD_ID] for i in range(3)]
    (target,), _ = fill(edition, csv_file(tmp_path, rows), "xlsx", tmp_path / "out", form="表2")
    cells = xlsx_cells(target)
    assert {c.data_type for c in cells if "=" in str(c.value) or "@" in str(c.value)} == {"s"}
    assert any("单位名称（公章）=1+2" in str(c.value) for c in cells)  # the header line holding the unit
    assert any(c.value == "@人2" for c in cells)


# --------------------------------------------------------------------------
# Control characters: refused with row and column, nothing written
# --------------------------------------------------------------------------
@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x0b", "\x7f", "\x85"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_control_characters_are_refused_with_row_and_column(tmp_path, wolong, fmt, char):
    data = csv_file(tmp_path, people(["正常地址", f"坏{char}地址"]))
    out = tmp_path / "out"
    with pytest.raises(InputError) as error:
        fill(wolong, data, fmt, out)
    message = str(error.value)
    assert f"row 3, column 参保地联系地址: contains the control character U+{ord(char):04X} at character 2" in message
    assert "Nothing was written" in message and not out.exists()


def test_half_characters_from_a_bad_decoding_are_refused(wolong):
    form = wolong.find_form("表7")
    name = next(f for f, _ in form.fields() if f.id == "name")
    value, problem = normalise(name, "张\udcff三")  # what surrogateescape makes of a stray byte
    assert problem[0] == "error" and "half a character (U+DCFF" in problem[1] and "--encoding" in problem[1]
    table = Table(None, ["姓名", "身份证件号码"], [(2, ["张\ud800", GOOD_ID])])
    assert [str(p).split(":")[0] for p in build_records(form, table).errors] == ["row 2, column 姓名"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_tabs_and_line_breaks_are_kept(tmp_path, wolong, fmt):
    data = csv_file(tmp_path, people(["第一行\r\n第二行\t末尾"]))
    (target,), _ = fill(wolong, data, fmt, tmp_path / "out")
    if fmt == "xlsx":
        assert any(c.value == "第一行\n第二行\t末尾" for c in xlsx_cells(target))
    else:
        assert_literal(target, ["第一行", "第二行", "末尾"])


# --------------------------------------------------------------------------
# Long values
# --------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
def test_values_over_max_length_are_reported(tmp_path, wolong, fmt):
    data = csv_file(tmp_path, [["姓名", "身份证件号码"], ["张" * 21, GOOD_ID]])
    with pytest.raises(InputError, match=r"row 2, column 姓名: '张{21}' has 21 characters, more than the box "
                                         r"holds \(20\)"):
        fill(wolong, data, fmt, tmp_path / "out")


@pytest.mark.parametrize("fmt", FORMATS)
def test_long_values_without_max_length_are_printed_whole(tmp_path, wolong, fmt):
    address = "".join(f"河南省南阳市卧龙区新华路{n}号" for n in range(1, 16))  # ~200 characters
    data = csv_file(tmp_path, people([address]))
    (target,), _ = fill(wolong, data, fmt, tmp_path / "out")
    assert_literal(target, [address])
    if fmt == "xlsx":
        from openpyxl import load_workbook
        sheet = load_workbook(target).worksheets[0]
        cell = next(c for c in xlsx_cells(target) if c.value == address)
        assert cell.alignment.wrap_text and sheet.row_dimensions[cell.row].height > 60  # grown, not cut


@pytest.mark.parametrize("fmt", ["xlsx", "pdf"])
def test_values_too_long_for_any_page_are_refused(tmp_path, wolong, fmt):
    address = "河南省南阳市卧龙区新华路22号卧龙区政务服务中心" * 120
    data = csv_file(tmp_path, people(["短地址", address]))
    out = tmp_path / "out"
    with pytest.raises(InputError, match=r"row 3, column 参保地联系地址: 2880 characters .*shorten it"):
        fill(wolong, data, fmt, out)
    assert not out.exists()


def test_word_takes_long_values_whole(tmp_path, wolong):
    address = "河南省南阳市卧龙区新华路22号卧龙区政务服务中心" * 120
    (target,), _ = fill(wolong, csv_file(tmp_path, people([address])), "docx", tmp_path / "out")
    assert address in docx_text(target)  # Word breaks the row across pages


# --------------------------------------------------------------------------
# Scripts and rare characters: no tofu in PDF
# --------------------------------------------------------------------------
RARE = "〇㐀䶵龥"  # in the fonts: 〇, CJK Extension A, the last unified ideographs
MISSING = {"𠀀": "U+20000", "😀": "U+1F600", "مرحبا": "U+0645"}  # Extension B, emoji, Arabic (RTL)


@pytest.mark.parametrize("fmt", FORMATS)
def test_rare_characters_the_fonts_have(tmp_path, wolong, fmt):
    (target,), _ = fill(wolong, csv_file(tmp_path, people([RARE])), fmt, tmp_path / "out")
    assert_literal(target, [RARE])


@pytest.mark.parametrize("value", MISSING)
def test_pdf_refuses_characters_its_font_lacks(tmp_path, wolong, value):
    from formgen.writers.pdf import FormWriter
    writer = FormWriter(wolong.find_form("表7"), wolong)
    assert writer.fonts.missing("serif", f"张{value}三") == value
    for char in value:
        assert ord(char) not in writer.fonts.parsed["serif"].cmap  # the font really lacks it
    out = tmp_path / "out"
    with pytest.raises(InputError, match=rf"row 2, column 参保地联系地址: '{value}' \({re.escape(MISSING[value])}.*\) "
                                         r"cannot be printed in PDF"):
        fill(wolong, csv_file(tmp_path, people([f"地址{value}"])), "pdf", out)
    assert not out.exists()


@pytest.mark.parametrize("fmt", ["docx", "xlsx"])
@pytest.mark.parametrize("value", MISSING)
def test_word_and_excel_carry_any_script(tmp_path, wolong, fmt, value):
    (target,), _ = fill(wolong, csv_file(tmp_path, people([f"地址{value}"])), fmt, tmp_path / "out")
    assert_literal(target, [f"地址{value}"])


def test_skip_invalid_sets_an_unprintable_row_aside(tmp_path, wolong):
    data = csv_file(tmp_path, people(["好地址", "坏地址😀"]))
    targets, result = fill(wolong, data, "pdf", tmp_path / "out", skip_invalid=True)
    assert len(targets) == 1 and list(result.invalid_rows) == [3]
    report = (tmp_path / "out" / "invalid-rows.csv").read_text(encoding="utf-8-sig")
    assert "3,参保地联系地址," in report and "U+1F600" in report


def test_every_static_text_is_in_the_pdf_fonts(library):
    """No label, option, note or title of any form of any edition would be drawn as tofu."""
    from formgen.writers.pdf import _Fonts
    fonts = _Fonts(None)
    for edition_id in library.editions:
        edition = library.edition(edition_id)
        for form in edition.forms():
            texts = [edition.form_title(form), form.subtitle or "", edition.form_number(form.id) or ""]
            for row in form.rows:
                for cell in row.cells:
                    texts += [cell.text or "", *cell.items]
                    texts += [s.text or "" for s in cell.segments]
            for line in [*form.header, *form.footer]:
                texts += [s.text or "" for s in line.segments]
            for note in form.notes:
                texts += [note.label or "", note.text, *note.items]
            for field_, _ in form.fields():
                texts += [field_.label, *field_.options, field_.hint or ""]
            text = edition.fill("".join(texts))
            assert (fonts.missing("serif", text), fonts.missing("sans", text)) == ("", ""), form.id


# --------------------------------------------------------------------------
# File names from --name
# --------------------------------------------------------------------------
@pytest.mark.parametrize("name, expected", [
    ("../../etc/passwd", "etc_passwd"),
    ("/etc/passwd", "etc_passwd"),
    ("C:\\Windows\\win.ini", "C_Windows_win.ini"),
    ("a\x00b", "a_b"),
    ("CON", "_CON"), ("nul.txt", "_nul.txt"), ("COM1", "_COM1"), ("Lpt9.docx", "_Lpt9.docx"),
    ("张三. . ", "张三"), ("  .张三", "张三"),
    ("..", "record"), ("", "record"),
    ("CONTROL", "CONTROL"),
    ("张" * 100 + ".xlsx", "张" * 65 + ".xlsx"),  # at most 200 bytes, the extension kept
])
def test_safe_filename(name, expected):
    assert safe_filename(name) == expected


def test_over_long_names_fit_the_file_system(tmp_path, wolong):
    address = "很长的地址" * 60  # 300 characters, 900 bytes of UTF-8
    targets, _ = fill(wolong, csv_file(tmp_path, people([address])), "xlsx", tmp_path / "out",
                      pattern="{参保地联系地址}")
    (target,) = targets
    assert target.exists() and target.suffix == ".xlsx" and len(target.name.encode("utf-8")) <= 200
    assert address.startswith(target.stem) and len(target.stem) > 50


def test_over_long_names_that_collide_are_numbered_whole(tmp_path, wolong):
    address = "很长的地址" * 60
    targets, _ = fill(wolong, csv_file(tmp_path, people([address, address, address])), "pdf", tmp_path / "out",
                      pattern="{参保地联系地址}")
    assert [t.suffix for t in targets] == [".pdf"] * 3
    assert targets[1].stem == targets[0].stem + "-2" and targets[2].stem == targets[0].stem + "-3"
    assert len({t.name for t in targets}) == 3 and all(t.exists() for t in targets)


@pytest.mark.parametrize("fmt", FORMATS)
def test_names_that_collide_after_cleaning_never_overwrite(tmp_path, wolong, fmt):
    names = ["甲/乙", "甲_乙", "甲:乙", "Zhang", "zhang", "丙", "丙", "丙-2", "CON", "con"]
    rows = [["姓名", "身份证件号码"]] + [[n, GOOD_ID] for n in names]
    out = tmp_path / "out"
    targets, _ = fill(wolong, csv_file(tmp_path, rows), fmt, out, pattern="{姓名}")
    assert len({t.name.casefold() for t in targets}) == len(names)
    assert sorted(p.name for p in out.iterdir()) == sorted(t.name for t in targets)
    assert all(t.parent == out.resolve() for t in targets)
    assert [t.stem for t in targets[:3]] == ["甲_乙", "甲_乙-2", "甲_乙-3"]
    assert [t.stem for t in targets[5:8]] == ["丙", "丙-2", "丙-2-2"]
    assert [t.stem for t in targets[8:]] == ["_CON", "con-2"]  # con-2 is no device name
    for target, name in zip(targets, names):  # each file holds its own record
        assert name in text_of(target) if fmt != "pdf" else squeeze(name) in squeeze(pdf_text(target))


def test_name_pattern_with_path_parts_stays_in_the_folder(tmp_path, wolong):
    out = tmp_path / "out"
    targets, _ = fill(wolong, csv_file(tmp_path, people(["x"])), "xlsx", out,
                      pattern="../../{姓名}/../../etc/{身份证件号码}")
    assert [t.parent for t in targets] == [out.resolve()]
    assert not (tmp_path / "etc").exists()


# --------------------------------------------------------------------------
# Where outputs go
# --------------------------------------------------------------------------
def test_the_input_file_is_never_overwritten(tmp_path, wolong):
    from openpyxl import Workbook
    out = tmp_path / "out"
    out.mkdir()
    book = Workbook()
    book.active.append(["姓名", "身份证件号码"])
    book.active.append(["名单", GOOD_ID])
    data = out / "名单.xlsx"
    book.save(data)
    before = data.read_bytes()
    with pytest.raises(InputError, match="is the input file"):
        fill(wolong, data, "xlsx", out, pattern="{姓名}", overwrite=True)
    assert data.read_bytes() == before


def test_output_folder_that_is_a_file(tmp_path, wolong):
    data = csv_file(tmp_path, people(["x"]))
    blocker = tmp_path / "out"
    blocker.write_text("a file", encoding="utf-8")
    for outdir in (blocker, blocker / "sub"):
        with pytest.raises(InputError, match="is a file; give a folder"):
            fill(wolong, data, "pdf", outdir)
    assert blocker.read_text(encoding="utf-8") == "a file"


def test_cli_output_folder_that_is_a_file(tmp_path, capsys):
    from formgen.cli import main
    data = csv_file(tmp_path, people(["x"]))
    blocker = tmp_path / "out"
    blocker.write_text("a file", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["fill", "表7", str(data), "--format", "xlsx", "--edition", "wolong", "-o", str(blocker / "sub")])
    err = capsys.readouterr().err
    assert exit_info.value.code == 1 and err.count("\n") == 1 and "is a file" in err


# --------------------------------------------------------------------------
# Input files as Excel and Chinese Windows write them
# --------------------------------------------------------------------------
@pytest.mark.parametrize("prefix", [codecs.BOM_UTF8, "\ufeff".encode("gb18030")], ids=["utf8-bom", "gb18030-bom"])
def test_bom_in_front_of_gb18030(tmp_path, wolong, prefix):
    path = tmp_path / "in.csv"
    path.write_bytes(prefix + f"姓名,身份证件号码,参保地联系地址\n张三,{GOOD_ID},卧龙区𠀀〇路\n".encode("gb18030"))
    table = read_table(path)
    assert table.header == ["姓名", "身份证件号码", "参保地联系地址"]
    assert table.rows == [(2, ["张三", GOOD_ID, "卧龙区𠀀〇路"])]
    (target,), _ = fill(wolong, path, "xlsx", tmp_path / "out")
    assert_literal(target, ["张三", "卧龙区𠀀〇路"])


@pytest.mark.parametrize("header", [["姓名", "姓名", "身份证件号码"], ["姓名", "name", "身份证件号码"]])
def test_duplicate_headers_are_refused(tmp_path, wolong, header):
    data = csv_file(tmp_path, [header, ["张三", "李四", GOOD_ID]])
    with pytest.raises(InputError, match=rf"row 1, column {header[1]}: same field as column '姓名'"):
        fill(wolong, data, "xlsx", tmp_path / "out")


def test_values_under_a_column_without_a_name_are_refused(tmp_path, wolong):
    data = csv_file(tmp_path, [["姓名", "", "身份证件号码"], ["张三", "", GOOD_ID], ["李四", "丢了吗", GOOD_ID]])
    with pytest.raises(InputError, match="row 3, column #2: this column has values but no name"):
        fill(wolong, data, "xlsx", tmp_path / "out")


def _with_cached_value(path, cell, value, kind="str"):
    """Give a formula cell the value Excel would have saved with it (openpyxl saves none)."""
    with zipfile.ZipFile(path) as source:
        parts = {n: source.read(n) for n in source.namelist()}
    sheet = next(n for n in parts if n.startswith("xl/worksheets/sheet"))
    xml = parts[sheet].decode()
    xml, count = re.subn(rf'<c r="{cell}"><f>(.*?)</f><v\s*/?>(</v>)?',
                         rf'<c r="{cell}" t="{kind}"><f>\1</f><v>{value}</v>', xml)
    assert count == 1
    parts[sheet] = xml.encode()
    with zipfile.ZipFile(path, "w") as target:
        for name, data in parts.items():
            target.writestr(name, data)


def test_xlsx_formulas_give_their_values_never_the_formula(tmp_path, wolong):
    from openpyxl import Workbook
    book = Workbook()
    book.active.append(["姓名", "身份证件号码", "参保地联系地址"])
    book.active.append(['=CONCATENATE("张","三")', GOOD_ID, "=1+1"])
    path = tmp_path / "in.xlsx"
    book.save(path)
    with pytest.raises(InputError, match=r"cell A2 holds the formula =CONCATENATE.* but no saved value"):
        read_table(path)
    _with_cached_value(path, "A2", "张三")
    _with_cached_value(path, "C2", "#DIV/0!", kind="e")
    with pytest.raises(InputError, match=r"cell C2 shows the Excel error #DIV/0! \(formula =1\+1\)"):
        read_table(path)
    book.active["C2"] = "=1+1"  # start again from a good saved value
    book.save(path)
    _with_cached_value(path, "A2", "张三")
    _with_cached_value(path, "C2", "2")
    assert read_table(path).rows == [(2, ["张三", GOOD_ID, "2"])]
    (target,), _ = fill(wolong, path, "xlsx", tmp_path / "out")
    cells = [c.value for c in xlsx_cells(target)]
    assert "张三" in cells and not any(str(v).startswith("=") for v in cells)


def test_xlsx_merged_cells_give_every_row_their_value(tmp_path, library):
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.append(["单位名称", "姓名", "身份证件号码"])
    for i in range(3):
        sheet.append(["甲单位" if i == 0 else None, f"人{i}", GOOD_ID])
    sheet.merge_cells("A2:A4")  # the unit written once, merged down its people
    path = tmp_path / "roster.xlsx"
    book.save(path)
    assert [r[1][0] for r in read_table(path).rows] == ["甲单位"] * 3
    edition = library.edition("wolong")
    targets, result = fill(edition, path, "xlsx", tmp_path / "out", form="表2")
    assert len(result.records) == 1 and len(result.records[0].rows) == 3 and len(targets) == 1


def test_xlsx_hidden_sheets_are_skipped(tmp_path):
    from openpyxl import Workbook
    book = Workbook()
    hidden = book.active
    hidden.title = "说明"
    hidden.append(["这不是数据"])
    hidden.sheet_state = "hidden"
    data = book.create_sheet("名单")
    data.append(["姓名", "身份证件号码"])
    data.append(["张三", GOOD_ID])
    path = tmp_path / "in.xlsx"
    book.save(path)
    assert read_table(path).rows == [(2, ["张三", GOOD_ID])]
    with zipfile.ZipFile(path) as source:  # Excel can save it so; openpyxl refuses to
        parts = {n: source.read(n) for n in source.namelist()}
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(b'state="visible"', b'state="hidden"')
    with zipfile.ZipFile(path, "w") as target:
        for name, content in parts.items():
            target.writestr(name, content)
    with pytest.raises(InputError, match="every sheet is hidden"):
        read_table(path)


def test_blank_form_below_a_file_is_refused(tmp_path, wolong):
    from formgen.errors import RenderError
    from formgen.forms_api import blank_form
    blocker = tmp_path / "blocker"
    blocker.write_text("a file", encoding="utf-8")
    with pytest.raises(RenderError, match="blocker is a file, not a folder"):
        blank_form(wolong.find_form("表7"), wolong, "pdf", blocker / "x.pdf")
    assert blocker.read_text(encoding="utf-8") == "a file"


def test_rows_are_numbered_as_excel_shows_them(tmp_path, wolong):
    """A cell with a line break spans two lines of the file but is one row in Excel."""
    path = tmp_path / "in.csv"
    path.write_bytes(("姓名,身份证件号码,参保地联系地址,,\r\n"
                      f"张三,{GOOD_ID},\"卧龙区\r\n新华路\",,\r\n"
                      "\r\n"
                      f"李四,110105194912310021,卧龙区,,\r\n").encode("gbk"))
    table = read_table(path)
    assert [n for n, _ in table.rows] == [2, 4]
    with pytest.raises(InputError, match="row 4, column 身份证件号码: '110105194912310021' has a wrong check digit"):
        fill(wolong, path, "docx", tmp_path / "out")
