"""`formgen build` / `formgen booklet`: what a build folder holds, and that it is all-or-nothing."""
import hashlib
import html
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from pypdf import PdfReader

from formgen.build import build_all, build_edition
from formgen.check import open_library
from formgen.errors import InputError, RenderError

ROOT = Path(__file__).resolve().parent.parent
COUNTY = Path(__file__).parent / "fixtures" / "county" / "shixian"


@pytest.fixture
def county_data(tmp_path):
    """The built-in data plus the fictitious 示例县 edition (extends henan-2024)."""
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    shutil.copytree(COUNTY, data / "editions" / "shixian")
    return data


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): sha256(p) for p in folder.rglob("*") if p.is_file()}


# --------------------------------------------------------------------------
# Contents (the parts that do not need the booklet writers)
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def henan_build(library, tmp_path_factory):
    folder = tmp_path_factory.mktemp("out") / "henan-2024"
    result = build_edition(library, "henan-2024", folder, booklet_formats=())
    return folder, result


def test_manifest_lists_every_file_with_size_and_hash(henan_build):
    folder, result = henan_build
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["edition"] == "henan-2024" and manifest["style"] == "catalog"
    listed = {e["file"]: e for e in manifest["files"]}
    on_disk = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert set(listed) == on_disk - {"manifest.json"}
    for name, entry in listed.items():
        assert entry["size"] == (folder / name).stat().st_size
        assert entry["sha256"] == sha256(folder / name)
        assert entry["kind"] in {"booklet", "site", "form", "catalog", "export", "index"}
    assert len(result.entries) == len(listed)


def test_every_blank_form_in_three_formats(library, henan_build):
    folder, _ = henan_build
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    forms = [e for e in manifest["files"] if e["kind"] == "form"]
    edition = library.edition("henan-2024")
    assert len(forms) == 3 * len(edition.forms()) == 24
    assert {(e["number"], e["format"]) for e in forms} == {
        (edition.form_number(f.id), fmt) for f in edition.forms() for fmt in ("docx", "xlsx", "pdf")}
    table7 = {e["format"]: folder / e["file"] for e in forms if e["number"] == "表7"}
    assert "河南省异地就医登记备案表" in "".join(p.text for p in Document(table7["docx"]).paragraphs) + \
        "".join(c.text for t in Document(table7["docx"]).tables for r in t.rows for c in r.cells)
    assert any("河南省异地就医登记备案表" == str(c.value) for row in load_workbook(table7["xlsx"]).active.iter_rows()
               for c in row)
    assert "河南省异地就医登记备案表" in PdfReader(table7["pdf"]).pages[0].extract_text()


def test_catalog_and_exports(henan_build):
    folder, _ = henan_build
    sheet = load_workbook(folder / "henan-2024-事项清单.xlsx").active
    assert sheet["A1"].value == "河南省医疗保障经办政务服务事项清单（2024年版）"
    exported = json.loads((folder / "henan-2024.json").read_text(encoding="utf-8"))
    assert len(exported["items"]) == 28
    assert "单位参保登记" in (folder / "henan-2024.md").read_text(encoding="utf-8")


def test_index_links_resolve(henan_build):
    import re
    folder, _ = henan_build
    index = (folder / "index.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(<([^>]+)>\)", index)
    assert len(links) == 24 + 1 + 2
    assert all((folder / link).is_file() for link in links)
    assert "| 表14 | 河南省职工生育保险待遇申请表 |" in index


def test_site_downloads_are_the_build_s_own_blank_forms(library, tmp_path):
    """The site offers the very files in forms/ (made once, copied), not a second drawing."""
    folder = tmp_path / "wolong"
    build_edition(library, "wolong", folder, booklet_formats=("html",))
    form = library.edition("wolong").find_form("表7")
    for fmt in ("docx", "xlsx", "pdf"):
        made = next((folder / "forms").glob(f"表7-*.{fmt}"))
        assert (folder / "site" / "forms" / f"{form.id}.{fmt}").read_bytes() == made.read_bytes()


def test_package_guide_has_no_item_catalog(library, tmp_path):
    result = build_edition(library, "wolong", tmp_path / "wolong", booklet_formats=())
    assert result.count("catalog") == 0 and result.count("form") == 24
    assert not list((tmp_path / "wolong").glob("*.xlsx"))


# --------------------------------------------------------------------------
# All or nothing; never overwrite without being asked
# --------------------------------------------------------------------------
def test_existing_output_is_refused_without_overwrite(mini, tmp_path):
    library = open_library(mini)
    folder = tmp_path / "out" / "prov"
    build_edition(library, "prov", folder, booklet_formats=())
    before = snapshot(folder)
    with pytest.raises(InputError, match="already exists; pass --overwrite"):
        build_edition(library, "prov", folder, booklet_formats=())
    assert snapshot(folder) == before
    build_edition(library, "prov", folder, overwrite=True, booklet_formats=())
    assert (folder / "manifest.json").exists()
    assert [p.name for p in folder.parent.iterdir()] == ["prov"]  # no staging folders left behind


def test_overwrite_replaces_only_an_earlier_build(mini, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "thesis.docx").write_text("precious", encoding="utf-8")
    with pytest.raises(InputError, match="not a formgen output"):
        build_edition(open_library(mini), "prov", folder, overwrite=True, booklet_formats=())
    assert (folder / "thesis.docx").read_text(encoding="utf-8") == "precious"


def test_a_failure_leaves_the_old_output_and_names_the_part(mini, tmp_path, monkeypatch):
    library = open_library(mini)
    folder = tmp_path / "out" / "prov"
    build_edition(library, "prov", folder, booklet_formats=())
    before = snapshot(folder)

    def broken(resolved, target):
        Path(target).write_bytes(b"half a file")
        raise OSError(28, "No space left on device")
    monkeypatch.setattr("formgen.writers.catalog_xlsx.write_catalog", broken)
    with pytest.raises(RenderError) as failure:
        build_edition(library, "prov", folder, overwrite=True, booklet_formats=())
    message = str(failure.value)
    assert "catalog xlsx failed" in message and "No space left on device" in message
    assert "left as it was" in message and "\n" not in message
    assert snapshot(folder) == before
    assert [p.name for p in folder.parent.iterdir()] == ["prov"]


def test_build_all_builds_each_edition_in_its_folder(mini, tmp_path):
    results = build_all(open_library(mini), tmp_path / "out", booklet_formats=())
    assert sorted(r.edition for r in results) == ["county", "prov"]
    for edition in ("county", "prov"):
        manifest = json.loads((tmp_path / "out" / edition / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["edition"] == edition


def test_build_all_checks_every_target_first(mini, tmp_path):
    (tmp_path / "out" / "prov").mkdir(parents=True)
    (tmp_path / "out" / "prov" / "keep.txt").write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="already exists"):
        build_all(open_library(mini), tmp_path / "out", booklet_formats=())
    assert not (tmp_path / "out" / "county").exists()


def test_cli_build_needs_an_edition_or_all(capsys, mini, monkeypatch):
    from formgen.cli import main
    monkeypatch.setenv("FORMGEN_DATA", str(mini))
    with pytest.raises(SystemExit) as exit_info:
        main(["build"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "give an EDITION or --all" in err


def test_cli_refuses_an_existing_folder_in_one_line(capsys, mini, monkeypatch, tmp_path):
    from formgen.cli import main
    monkeypatch.setenv("FORMGEN_DATA", str(mini))
    (tmp_path / "prov").mkdir()
    (tmp_path / "prov" / "old.pdf").write_bytes(b"%PDF")
    with pytest.raises(SystemExit) as exit_info:
        main(["build", "prov", "-o", str(tmp_path / "prov")])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already exists" in err and "Traceback" not in err
    assert (tmp_path / "prov" / "old.pdf").read_bytes() == b"%PDF"


# --------------------------------------------------------------------------
# County editions: only what differs, nothing of another edition
# --------------------------------------------------------------------------
def test_county_fixture_resolves_through_the_province(county_data):
    library = open_library(county_data)
    county = library.edition("shixian")
    assert county.chain == ["shixian", "henan-2024"]
    assert [i.number for i in county.items] == [str(n) for n in range(1, 13)]
    assert county.items[0].id == "chengxiang-jumin-canbao-dengji"
    assert county.items[0].notes[-1].text == "示例县户籍居民可在户籍所在乡镇便民服务中心医保窗口办理。"
    assert len(county.items[0].notes) == 3  # the province's two, then the local one
    assert county.items[0].faq[0].question == "示例县新生儿什么时候可以参保？"
    assert county.items[9].time_limit.text == "每季度集中认定一次"
    assert county.items[9].basis == library.edition("henan-2024").items[15].basis  # inherited
    assert county.logo == county_data / "editions" / "shixian" / "logo.png"
    assert county.edition.contacts.consult_phone == ["0370-5550101", "0370-5550103"]
    assert county.edition.groups == library.edition("henan-2024").edition.groups
    # only the forms its twelve items ask for, numbered as the province numbers them
    assert [county.form_number(f.id) for f in county.forms()] == ["表2", "表7", "表13", "表15"]
    assert len(library.edition("henan-2024").forms()) == 8


def test_check_reports_a_missing_or_bad_logo(county_data):
    from formgen.check import check_all
    edition = county_data / "editions" / "shixian" / "edition.yaml"
    edition.write_text(edition.read_text(encoding="utf-8").replace("logo: logo.png", "logo: emblem.png"),
                       encoding="utf-8")
    problems = [str(p) for p in check_all(county_data).errors()]
    assert any("edition.yaml:10 [logo]" in p and "'emblem.png' not found" in p for p in problems), problems
    (county_data / "editions" / "shixian" / "emblem.png").write_text("not an image", encoding="utf-8")
    problems = [str(p) for p in check_all(county_data).errors()]
    assert any("is not a PNG or JPEG image" in p for p in problems), problems


def test_overwrite_accepts_the_old_run_sh_exports(mini, tmp_path):
    folder = tmp_path / "prov"
    folder.mkdir()
    (folder / "prov.md").write_text("old", encoding="utf-8")
    (folder / "prov.json").write_text("{}", encoding="utf-8")
    build_edition(open_library(mini), "prov", folder, overwrite=True, booklet_formats=())
    assert (folder / "manifest.json").exists() and (folder / "prov.md").read_text(encoding="utf-8") != "old"


def test_county_booklet_model_carries_its_own_details(county_data):
    from formgen.booklet import LinkBlock, Para, Table, build_booklet
    library = open_library(county_data)
    booklet = build_booklet(library, library.edition("shixian"))
    assert booklet.title == "示例县医疗保障经办政务服务事项办事指南" and booklet.year == 2025
    assert booklet.bureau == "示例县医疗保障局" and booklet.logo.name == "logo.png"
    service = booklet.parts[0]
    assert service.title == "服务信息"
    facts = {row[0].text: row[1].text for block in service.blocks if isinstance(block, Table) for row in block.rows}
    assert facts["咨询电话"] == "0370-5550101，0370-5550103" and facts["投诉电话"] == "0370-5550102"
    assert facts["办理地址"] == "示例县人民路188号示例县政务服务中心二楼"
    assert any(isinstance(b, LinkBlock) and b.url.startswith("https://ybj.shixian") for b in service.blocks)
    items = [p for p in booklet.parts if p.kind == "item"]
    assert [p.number for p in items] == [f"{n}、" for n in range(1, 13)]
    texts = [b.text for b in items[0].blocks if isinstance(b, Para)]
    assert "注：示例县户籍居民可在户籍所在乡镇便民服务中心医保窗口办理。" in texts
    assert "1、示例县新生儿什么时候可以参保？" in texts
    # the province's catalog 备注 are not flowchart text: only the local note is printed
    assert not any("各地应落实持居住证参保政策" in t for t in texts)


def test_builtin_booklets_get_no_service_page(library):
    from formgen.booklet import build_booklet
    for edition in library.editions:
        assert all(p.title != "服务信息" for p in build_booklet(library, library.edition(edition)).parts)


# --------------------------------------------------------------------------
# The county fixture built in every format: its own details, nothing of another edition
# --------------------------------------------------------------------------
PHONE = re.compile(r"\d{3,4}-\d{7,8}")


def file_text(path: Path) -> str:
    """What a reader (or a search engine) finds in a built file, without whitespace."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        text = subprocess.run(["pdftotext", "-q", str(path), "-"], capture_output=True, check=True,
                              text=True).stdout
    elif suffix in (".docx", ".xlsx"):
        with zipfile.ZipFile(path) as package:
            xml = "".join(package.read(n).decode("utf-8") for n in package.namelist() if n.endswith((".xml", ".rels")))
        text = html.unescape(re.sub(r"<[^>]+>", "", xml))
    elif suffix in (".html", ".htm", ".css", ".js", ".md", ".json", ".txt", ".svg", ".csv"):
        text = html.unescape(path.read_text(encoding="utf-8"))
    else:
        return ""
    return re.sub(r"\s+", "", text)


def edition_texts(library, edition_ids) -> str:
    """Every YAML file the editions consist of, as one text."""
    texts = []
    for edition_id in edition_ids:
        folder = library.editions[edition_id].folder
        texts += [p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*.yaml"))]
    return "\n".join(texts)


def identifying_strings(library, own_chain) -> set[str]:
    """Names, addresses, windows, phone numbers and URLs of the editions outside ``own_chain``."""
    own = re.sub(r"\s+", "", edition_texts(library, own_chain))
    found = set()
    for edition_id, stored in library.editions.items():
        if edition_id in own_chain:
            continue
        edition = stored.edition
        found |= set(PHONE.findall(edition_texts(library, [edition_id])))
        found |= {edition.bureau, re.split(r"(?<=[省市])", edition.region)[-1], edition.online_url}
        contacts = [edition.contacts] + [p.contacts for p in stored.packages]
        found |= {c.address for c in contacts if c} | {c.window for c in contacts if c}
        found |= {u for p in stored.packages for u in [p.online_url, *p.departments]}
    found = {re.sub(r"\s+", "", s) for s in found if s}
    return {s for s in found if s not in own} | {"卧龙", "濮阳", "云南"}  # the province's remarks name them


@pytest.fixture(scope="module")
def county_build(tmp_path_factory):
    data = tmp_path_factory.mktemp("county") / "data"
    shutil.copytree(ROOT / "data", data)
    shutil.copytree(COUNTY, data / "editions" / "shixian")
    library = open_library(data)
    folder = data.parent / "out" / "shixian"
    build_edition(library, "shixian", folder)
    return library, folder


def test_county_builds_in_every_format(county_build):
    _, folder = county_build
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    kinds = {(e["kind"], e["format"]) for e in manifest["files"]}
    assert {("booklet", "pdf"), ("booklet", "docx"), ("site", "html"), ("catalog", "xlsx"),
            ("form", "docx"), ("form", "xlsx"), ("form", "pdf")} <= kinds
    assert (folder / "site" / "index.html").is_file()
    logo = (COUNTY / "logo.png").read_bytes()
    with zipfile.ZipFile(folder / "shixian.docx") as package:
        assert any(package.read(n) == logo for n in package.namelist() if n.startswith("word/media/"))
    assert any(p.read_bytes() == logo for p in (folder / "site").rglob("*.png"))
    assert PdfReader(folder / "shixian.pdf").pages[0].images  # the cover carries the logo
    sheet = load_workbook(folder / "shixian-事项清单.xlsx").active
    assert sheet["A1"].value == "示例县医疗保障经办政务服务事项办事指南"
    assert any(c.value == "每季度集中认定一次" for row in sheet.iter_rows() for c in row)
    assert [sheet.cell(r, 1).value for r in range(4, sheet.max_row + 1) if sheet.cell(r, 3).value
            and str(sheet.cell(r, 3).value).isdigit()][:3] == ["1", "2", "3"]


@pytest.mark.parametrize("name", ["shixian.pdf", "shixian.docx", "site", "shixian.md"])
def test_county_booklet_and_site_carry_its_own_details(county_build, name):
    _, folder = county_build
    target = folder / name
    files = sorted(p for p in target.rglob("*") if p.is_file()) if target.is_dir() else [target]
    text = "".join(file_text(p) for p in files)
    for own in ["示例县医疗保障局", "0370-5550101", "0370-5550102", "示例县人民路188号示例县政务服务中心二楼",
                "示例县政务服务中心医保综合窗口（12-15号）", "https://ybj.shixian.example.gov.cn/wangban",
                "示例县户籍居民可在户籍所在乡镇便民服务中心医保窗口办理。", "示例县新生儿什么时候可以参保？",
                "示例县人民医院等二级及以上定点医疗机构出具的诊断证明及近一年内的相关检查报告"]:
        assert own in text, f"{name} lacks {own}"


def test_nothing_of_another_edition_leaks_into_the_county_build(county_build):
    library, folder = county_build
    needles = identifying_strings(library, library.chain("shixian"))
    assert {"0377-63111116", "0377-63226915", "卧龙区医疗保障局", "濮阳县", "云南"} <= needles
    leaks = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        text = file_text(path)
        leaks += [f"{path.relative_to(folder)}: {n}" for n in needles if n in text]
    assert not leaks, leaks[:20]


def test_word_contents_carry_the_pdf_page_numbers(county_build):
    from formgen.booklet import build_booklet
    from formgen.build import page_numbers
    library, folder = county_build
    booklet = build_booklet(library, library.edition("shixian"))
    pages = page_numbers(folder / "shixian.pdf", booklet)
    assert pages["service"] == 1 and pages["chengxiang-jumin-canbao-dengji"] == 2 and len(pages) == 13
    with zipfile.ZipFile(folder / "shixian.docx") as package:
        body = package.read("word/document.xml").decode("utf-8")
    toc = body[body.index("TOC \\o"):]
    assert re.search(r"1、城乡居民参保登记.*?PAGEREF.*?<w:t[^>]*>2</w:t>", toc, re.S)


def test_cli_booklet_writes_one_format_and_refuses_to_overwrite(county_data, tmp_path, run, monkeypatch, capsys):
    from formgen.cli import main
    target = tmp_path / "shixian.pdf"
    result = run("booklet", "shixian", "--format", "pdf", "-o", target, data=county_data)
    assert result.exit_code == 0 and "wrote" in result.output
    assert "示例县医疗保障局" in PdfReader(target).pages[0].extract_text()
    before = sha256(target)
    monkeypatch.setenv("FORMGEN_DATA", str(county_data))
    with pytest.raises(SystemExit) as exit_info:
        main(["booklet", "shixian", "--format", "pdf", "-o", str(target)])
    assert exit_info.value.code == 1 and sha256(target) == before
    assert "already exists" in capsys.readouterr().err
    site = tmp_path / "site"
    assert run("booklet", "shixian", "--format", "html", "-o", site, data=county_data).exit_code == 0
    assert "示例县医疗保障局" in (site / "index.html").read_text(encoding="utf-8")
    assert run("booklet", "shixian", "--format", "html", "-o", site, "--overwrite", data=county_data).exit_code == 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_check_flags_a_package_guide_without_packages_and_borrowed_packages(county_data):
    from formgen.check import check_all
    edition = county_data / "editions" / "shixian" / "edition.yaml"
    text = edition.read_text(encoding="utf-8")
    edition.write_text(text.replace("style: flowcharts", "style: package_guide"), encoding="utf-8")
    assert any("a package_guide edition has no packages" in str(p) for p in check_all(county_data).errors())
    edition.write_text(text.replace("extends: henan-2024", "extends: wolong"), encoding="utf-8")
    warnings = [str(p) for p in check_all(county_data).problems if p.severity == "warning"]
    assert any("packages come from edition 'wolong'" in w for w in warnings), warnings


def test_build_all_goes_on_after_a_failure_and_names_it(mini, tmp_path, monkeypatch):
    from formgen.writers import catalog_xlsx
    real = catalog_xlsx.write_catalog

    def fails_for_prov(resolved, target):
        if resolved.id == "prov":
            raise ValueError("boom")
        return real(resolved, target)
    monkeypatch.setattr("formgen.writers.catalog_xlsx.write_catalog", fails_for_prov)
    with pytest.raises(RenderError) as failure:
        build_all(open_library(mini), tmp_path / "out", booklet_formats=())
    assert "1 of 2 edition(s) failed: build prov: catalog xlsx failed: ValueError: boom" in str(failure.value)
    assert (tmp_path / "out" / "county" / "manifest.json").exists()
    assert not (tmp_path / "out" / "prov").exists()


def test_a_yunnan_county_fills_the_item_guides_address_and_phone(tmp_path):
    from formgen.booklet import Para, build_booklet
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    (data / "editions" / "shiyan").mkdir()
    (data / "editions" / "shiyan" / "edition.yaml").write_text(
        "id: shiyan\ntitle: 示眼县医疗保障经办政务服务办事指南\nregion: 云南省示例州示眼县\nbureau: 示眼县医疗保障局\n"
        "year: 2025\nstyle: item_guide\nextends: yunnan\n"
        "contacts: {address: 示眼县文化路9号, complaint_phone: ['0871-5550102']}\n"
        "placeholders: {XX: 示眼县, XXX: 示眼县}\n"
        "items: [{id: danwei-canbao-dengji, number: 1}, {id: zhigong-canbao-dengji, number: 2},"
        " {id: chengxiang-jumin-canbao-dengji, number: 3}]\n", encoding="utf-8")
    library = open_library(data)
    booklet = build_booklet(library, library.edition("shiyan"))
    texts = [b.text for _, part in booklet.walk() for b in part.blocks if isinstance(b, Para)]
    assert texts.count("单位地址：示眼县文化路9号") == 3 and texts.count("监督电话：0871-5550102") == 3
    # 附件 of the three items only (附件3 is named in an item's 办理方式, not as a material)
    appendix = [p.title for p in booklet.parts if p.kind == "appendix"]
    assert appendix == ["基本医疗保险单位参保信息登记表", "示眼县城镇职工医疗保险参保人员变动表",
                        "示眼县城乡居民医疗保险参保登记表"], appendix
    yunnan = build_booklet(library, library.edition("yunnan"))
    assert "单位地址：" in [b.text for _, part in yunnan.walk() for b in part.blocks if isinstance(b, Para)]


# A Yunnan county (README, "A Yunnan county"): numbered items, section 七 with its own address
@pytest.fixture(scope="module")
def yunnan_county_build(tmp_path_factory):
    data = tmp_path_factory.mktemp("yunnan-county") / "data"
    shutil.copytree(ROOT / "data", data)
    shutil.copytree(COUNTY.parent / "dianxian", data / "editions" / "dianxian")
    library = open_library(data)
    folder = data.parent / "out" / "dianxian"
    build_edition(library, "dianxian", folder)
    return library, folder


@pytest.mark.parametrize("name", ["dianxian.pdf", "dianxian.docx", "site", "dianxian.md"])
def test_yunnan_county_prints_its_own_details_and_numbers(yunnan_county_build, name):
    _, folder = yunnan_county_build
    target = folder / name
    files = sorted(p for p in target.rglob("*.html")) if target.is_dir() else [target]
    text = re.sub(r"<[^>]+>", "", "".join(file_text(p) for p in files))
    for own in ["滇示县医疗保障局", "0870-5550201", "滇示县政务服务中心医保窗口", "暂不能网办",
                "1、城乡居民参保登记", "4、基本医疗保险参保人员享受门诊慢特病病种待遇认定",
                # section 七 of every item: the county's address, its complaint line as 监督电话
                "单位地址：滇示县文化路66号滇示县政务服务中心一楼", "监督电话：0870-5550202",
                "《滇示县城乡居民医疗保险参保登记表》"]:
        assert own in text, f"{name} lacks {own}"
    assert "监督电话：八、" not in text and "监督电话：**八、" not in text  # never an empty 监督电话


def test_nothing_of_another_edition_leaks_into_the_yunnan_county_build(yunnan_county_build):
    library, folder = yunnan_county_build
    needles = identifying_strings(library, library.chain("dianxian")) - {"云南"}
    assert {"0377-63111116", "卧龙区医疗保障局", "濮阳县"} <= needles
    forms = sorted(p.name for p in (folder / "forms").iterdir())
    assert "附件3-滇示县城乡居民医疗保险参保登记表.pdf" in forms and len(forms) % 3 == 0
    leaks = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        text = file_text(path)
        leaks += [f"{path.relative_to(folder)}: {n}" for n in needles if n in text]
    assert not leaks, leaks[:20]


def readme_county_example() -> tuple[str, str]:
    """The edition.yaml and item file that README's "Adding a county edition" shows."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Adding a county edition"):]
    edition, item = re.findall(r"```yaml\n(.*?)```", section, re.S)[:2]
    return edition, item


def test_the_readme_county_example_checks_clean_and_builds_as_written(tmp_path):
    """A reader copies README's example literally: it must work, and print what it says."""
    from formgen.check import check_all
    edition, item = readme_county_example()
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    folder = data / "editions" / "nanzhao"
    (folder / "items").mkdir(parents=True)
    (folder / "edition.yaml").write_text(edition, encoding="utf-8")
    (folder / "items" / "chengxiang-jumin-canbao-dengji.yaml").write_text(item, encoding="utf-8")
    shutil.copy(COUNTY / "logo.png", folder / "logo.png")  # step 4
    own = [str(p) for p in check_all(data).problems if "nanzhao" in p.file]
    assert own == []
    out = tmp_path / "out" / "nanzhao"
    build_edition(open_library(data), "nanzhao", out, booklet_formats=("pdf",))
    text = file_text(out / "nanzhao.pdf")
    for own_detail in ["南召县医疗保障局", "2025年", "南召县城关镇人民路1号政务服务中心", "0377-00000001",
                       "1、城乡居民参保登记", "3、职工参保登记", "南召县户籍居民可在户籍所在乡镇便民服务中心医保窗口办理。",
                       "新生儿什么时候可以参保？"]:
        assert own_detail in text, own_detail


def test_a_county_cover_title_breaks_between_words(county_build):
    """示例县医疗保障经办政务服务事项办事指南 is two lines, broken where a typesetter would:
    after 经办, not mid-word (…经办政 / 务服务…), in the PDF and the Word booklet."""
    _, folder = county_build
    cover = PdfReader(folder / "shixian.pdf").pages[0].extract_text().splitlines()
    assert "示例县医疗保障经办" in cover and "政务服务事项办事指南" in cover
    with zipfile.ZipFile(folder / "shixian.docx") as package:
        body = package.read("word/document.xml").decode("utf-8")
    title = re.search(r'<w:pStyle w:val="封面标题"/>.*?</w:p>', body).group(0)
    assert re.findall(r"<w:t[^>]*>([^<]*)</w:t>", title) == ["示例县医疗保障经办", "政务服务事项办事指南"]
    assert "<w:br/>" in title
