"""The data model: service items, packages, forms and editions.

Every model forbids unknown keys, so a typo in YAML is an error with its
line number rather than silently ignored data.  Text fields hold the seeds'
own wording; structure (lists, numbers, references) is expressed as YAML
structure, never as a pasted paragraph.  ``docs/data-model.md`` is the
human-readable version of this file.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SLUG = r"^[a-z0-9][a-z0-9_-]*$"
FIELD_ID = r"^[a-z][a-z0-9_]*$"
Level = Literal["A", "B", "C", "D", "E"]
LEVEL_NAMES = {"A": "省", "B": "地市", "C": "县（市、区）", "D": "乡镇（街道）", "E": "村（社区）"}
Style = Literal["catalog", "flowcharts", "package_guide", "item_guide"]
TimeUnit = Literal["即时", "工作日", "自然日", "日", "个月", "年"]
FieldType = Literal[
    "text", "date", "number", "id_number", "phone", "credit_code",
    "choice", "multi_choice", "checkbox", "signature", "seal", "photo",
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _as_list(value):
    """Let YAML authors write a single string where a list is expected."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else value


# --------------------------------------------------------------------------
# Service items
# --------------------------------------------------------------------------
class Material(Strict):
    """One entry of 办理材料/申办材料, in the seed's wording.

    ``name`` is the wording; the other keys say what a clerk needs to know
    without parsing it.  ``items`` holds sub-entries (①②…, A.B.…, or the
    materials under a situation heading such as "（一）新参保、续保").
    """

    name: str
    label: str | None = None  # the seed's own enumerator when not plain 1. 2. (①, A., （一）)
    original_or_copy: Literal["原件", "复印件", "原件及复印件", "原件或复印件"] | None = None
    count: int | None = None  # 份数
    form: str | None = None  # a form id, or its number in the edition (表7, 附件7)
    situation: str | None = None  # 情形: the case this material applies to
    common: bool = False  # 共性材料
    notes: list[str] = []
    items: list["Material"] = []

    _list = field_validator("notes", mode="before")(_as_list)


class Note(Strict):
    """A remark (备注, 注, 温馨提示) with optional sub-points ①②③."""

    text: str
    label: str | None = None
    items: list[str] = []


def _notes(value):
    return [{"text": v} if isinstance(v, str) else v for v in _as_list(value)]


class TimeLimitCase(Strict):
    situation: str | None = None
    value: int | None = None
    unit: TimeUnit | None = None
    text: str


class TimeLimit(Strict):
    """办理时限: the original wording plus a number and unit when it has one."""

    text: str
    value: int | None = None
    unit: TimeUnit | None = None
    cases: list[TimeLimitCase] = []


class LegalBasis(Strict):
    """One 设定依据 entry: a document and the articles cited from it."""

    document: str
    articles: list[str] = []

    _list = field_validator("articles", mode="before")(_as_list)

    @property
    def text(self) -> str:
        return self.document + "、".join(self.articles)


class FAQ(Strict):
    question: str
    # the enumerator the seed prints before the question ("1、", "问：", "4、问："); when
    # set it replaces the default "N. 问："
    label: str | None = None
    answer: list[str]  # paragraphs
    tips: list[str] = []  # 温馨提醒 after the answer

    _list = field_validator("answer", "tips", mode="before")(_as_list)


class FlowNode(Strict):
    """A box of a process chart.

    kind: ``step`` main chain, ``end`` 办结, ``side`` a branch box (一次性告知…,
    反馈不予办理原因), ``materials`` the 办理材料 box (its text defaults to the
    item's materials), ``note`` a note box, ``result`` an outcome box.
    """

    id: str = Field(pattern=SLUG)
    text: str = ""
    kind: Literal["step", "end", "side", "materials", "note", "result"] = "step"


class FlowEdge(Strict):
    source: str = Field(alias="from")
    target: str = Field(alias="to")
    label: str | None = None


class Flow(Strict):
    """A process chart: explicit nodes/edges, or a preset plus additions."""

    title: str | None = None
    preset: str | None = None  # a name in data/flows.yaml
    nodes: list[FlowNode] = []
    edges: list[FlowEdge] = []
    # The chart's texts in the order the source lays them out (see flows.reading_order):
    # a node id, "from>to" for the label of that edge, or "title" for the caption.
    reading: list[str] = []


class DiseaseList(Strict):
    name: str  # e.g. 慢性病, 特殊病
    diseases: list[str]


class Contacts(Strict):
    address: str | None = None
    window: str | None = None
    hours: str | None = None
    consult_phone: list[str] = []
    complaint_phone: list[str] = []
    supervise_phone: list[str] = []
    department: str | None = None

    _list = field_validator("consult_phone", "complaint_phone", "supervise_phone", mode="before")(_as_list)


class Section(Strict):
    """A titled block of text an item carries beyond the standard keys."""

    title: str
    paragraphs: list[str] = []
    notes: list[Note] = []

    _n = field_validator("notes", mode="before")(_notes)


class Item(Strict):
    """A service item (事项) as one edition states it."""

    id: str = Field(pattern=SLUG)
    name: str
    full_name: str | None = None  # 事项名称 section wording when longer than the name
    code: str | None = Field(default=None, pattern=r"^\d{12}$")
    group: str | None = None  # a group id of the edition
    number: str | None = None  # the edition's own 序号
    sub_items: list[str] = []
    objects: list[str] = []  # 服务对象
    methods: list[str] = []  # 办理方式
    levels: list[Level] = []  # 办理层级
    procedure: list[str] = []  # 办理流程 as text steps
    materials: list[Material] = []
    materials_title: str | None = None  # 办理材料 / 申办材料 / 准备申办材料
    time_limit: TimeLimit | None = None
    contacts: Contacts | None = None
    online_url: str | None = None
    satisfaction: list[str] = []  # 满意度测评 options
    notes: list[Note] = []
    basis: list[LegalBasis] = []
    diseases: list[DiseaseList] = []
    sections: list[Section] = []
    faq: list[FAQ] = []
    flows: list[Flow] = []
    remarks: list[str] = []  # for maintainers: contradictions, oddities; not printed

    _n = field_validator("notes", mode="before")(_notes)

    @field_validator("number", mode="before")
    @classmethod
    def _number_as_text(cls, value):
        return None if value is None else str(value)


# --------------------------------------------------------------------------
# Packages (套餐 / 一件事)
# --------------------------------------------------------------------------
class PackageMaterialRow(Strict):
    """A row of the 申请材料 table: an item and its materials."""

    number: str | None = None
    item: str
    materials: list[Material] = []
    e_licences: list[str] = []  # 已关联电子证照名称
    common: list[str] = []  # 共性材料

    @field_validator("number", mode="before")
    @classmethod
    def _number_as_text(cls, value):
        return None if value is None else str(value)


class Package(Strict):
    """A bundle of items done in one visit (Wolong's 一件事一次办)."""

    id: str = Field(pattern=SLUG)
    name: str  # 套餐名称
    items: list[str]  # 涉及事项
    departments: list[str] = []  # 涉及办理部门
    time_limit: TimeLimit | None = None  # 联办承诺办结时限
    contacts: Contacts | None = None
    online_url: str | None = None
    online_note: str | None = None  # "暂不能网办"
    conditions: str | None = None  # 受理条件
    result_delivery: list[str] = []  # 结果领取方式
    fees: str | None = None  # 收费情况
    special_procedure: str | None = None  # 特殊程序
    materials: list[PackageMaterialRow] = []
    special_situation: str | None = None  # 特殊情形
    situation_materials: str | None = None  # 情形材料
    flows: list[Flow] = []
    faq_title: str | None = None
    faq: list[FAQ] = []
    forms: list[str] = []  # form ids or numbers printed after the package
    remarks: list[str] = []  # for maintainers; not printed

    _list = field_validator("items", "departments", "result_delivery", mode="before")(_as_list)


# --------------------------------------------------------------------------
# Forms
# --------------------------------------------------------------------------
class FormField(Strict):
    """A fillable place on a form, with a stable ASCII id."""

    id: str = Field(pattern=FIELD_ID)
    label: str
    type: FieldType = "text"
    options: list[str] = []
    required: bool = False
    max_length: int | None = None
    hint: str | None = None  # printed guidance such as （建议列选择项打勾…）
    # what the unfilled paper prints in the field's cell instead of its type's own (年 月 日,
    # （签字）): "年　　月" under 出生日期, "" for an empty cell
    furniture: str | None = None
    layout: Literal["inline", "vertical"] = "inline"  # how options are laid out
    # the paper numbers the options and prints each box after its option: 1.职工医保□
    numbered_options: bool = False

    @model_validator(mode="after")
    def _options_match_type(self):
        wants = self.type in ("choice", "multi_choice")
        if wants and not self.options:
            raise ValueError(f"field '{self.id}' of type {self.type} needs options")
        if self.options and not wants:
            raise ValueError(f"field '{self.id}' has options but type {self.type}; use choice or multi_choice")
        return self


class Segment(Strict):
    """Part of a cell or line: static text or a field, laid out inline."""

    text: str | None = None
    field: FormField | None = None

    @model_validator(mode="after")
    def _one_of(self):
        if (self.text is None) == (self.field is None):
            raise ValueError("a segment has exactly one of 'text' or 'field'")
        return self


class Cell(Strict):
    """A grid cell: a label (text), a field, or inline segments; plus items.

    ``items`` are numbered paragraphs printed under the text (温馨提示 1. 2. …).
    ``counter`` marks the 序号 cell of a repeating row.
    """

    text: str | None = None
    field: FormField | None = None
    segments: list[Segment] = []
    items: list[str] = []
    counter: bool = False
    colspan: int = Field(default=1, ge=1)
    rowspan: int = Field(default=1, ge=1)
    align: Literal["left", "center", "right"] | None = None
    role: Literal["label", "value", "note", "heading"] | None = None

    def all_segments(self) -> list[Segment]:
        head = [Segment(text=self.text)] if self.text is not None else []
        field = [Segment(field=self.field)] if self.field is not None else []
        return head + field + list(self.segments)


class Row(Strict):
    cells: list[Cell]
    repeat: int | None = Field(default=None, ge=1)  # rows per page of a roster
    height: float | None = None  # millimetres, a minimum


class Line(Strict):
    """A line of text above or below the grid (单位名称（公章）：…, 经办人：…)."""

    segments: list[Segment]
    align: Literal["left", "center", "right"] = "left"


class Form(Strict):
    """A form table, laid out as a grid of rows and cells."""

    id: str = Field(pattern=SLUG)
    title: str
    subtitle: str | None = None
    source: list[str] = []  # seed files it comes from
    paper: Literal["A4", "A3"] = "A4"
    orientation: Literal["portrait", "landscape"] = "portrait"
    columns: list[float]  # relative widths of the grid columns
    header: list[Line] = []
    rows: list[Row]
    footer: list[Line] = []
    notes: list[Note] = []  # printed below the table
    remarks: list[str] = []  # for maintainers: how the seed differs, not printed

    _n = field_validator("notes", mode="before")(_notes)

    def fields(self) -> list[tuple[FormField, bool]]:
        """Every field with whether it sits in a repeating row, in reading order."""
        found = [(s.field, False) for line in self.header for s in line.segments if s.field]
        for row in self.rows:
            for cell in row.cells:
                found += [(s.field, row.repeat is not None) for s in cell.all_segments() if s.field]
        found += [(s.field, False) for line in self.footer for s in line.segments if s.field]
        return found

    def repeat_row(self) -> Row | None:
        return next((r for r in self.rows if r.repeat), None)


# --------------------------------------------------------------------------
# Editions
# --------------------------------------------------------------------------
class Group(Strict):
    id: str = Field(pattern=SLUG)
    number: str | None = None  # 一, 二 …
    name: str
    code: str | None = Field(default=None, pattern=r"^\d{9}\d{2}Y$")


class ItemRef(Strict):
    """An item the edition offers, with the edition's own 序号."""

    id: str = Field(pattern=SLUG)
    number: str | None = None

    @field_validator("number", mode="before")
    @classmethod
    def _number_as_text(cls, value):
        return None if value is None else str(value)


class FormRef(Strict):
    """A form as numbered by an edition: 表7, 附件7 …"""

    number: str
    form: str
    aliases: list[str] = []  # other numbers the same source uses (表8)
    title: str | None = None  # the edition's title for it when it differs


class Edition(Strict):
    id: str = Field(pattern=SLUG)
    title: str
    subtitle: str | None = None
    region: str
    bureau: str
    year: int | None = None
    style: Style
    extends: str | None = None
    source: str | None = None  # the seed file this edition reproduces
    contacts: Contacts | None = None
    online_url: str | None = None
    online_note: str | None = None
    logo: str | None = None  # PNG or JPEG file, relative to the edition folder (check verifies it)
    foreword: list[str] = []
    groups: list[Group] = []
    items: list[ItemRef] | None = None  # None: the edition's own item files, in file order
    forms: list[FormRef] = []
    placeholders: dict[str, str | None] = {}  # "XX": 云南省; None = still to fill
    level_legend: dict[Level, str] = {}
    closing_notes: list[Note] = []  # 备注/说明 printed after the catalog
    remarks: list[str] = []  # for maintainers, not printed

    _n = field_validator("closing_notes", mode="before")(_notes)


class FlowPreset(Strict):
    nodes: list[FlowNode]
    edges: list[FlowEdge]


MODELS = {"edition": Edition, "item": Item, "package": Package, "form": Form}

