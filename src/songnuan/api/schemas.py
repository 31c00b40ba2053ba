"""The API's typed contract: what each endpoint takes and gives. The OpenAPI document is generated from these.

Money (万元, 元) is a string ("12.35"), so no float ever touches it; counts are integers; blank is null
(never 0).
Dates are ISO dates, times ISO times in China Standard Time. Field descriptions are the documentation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Literal

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Field, Schema
from pydantic import StrictInt, StrictStr, field_validator

from songnuan.formkit.engine import Value, value_text
from songnuan.orgs.models import Unit

#: An item's value: an integer for a count, text for 万元 ("12.35"), 是/否 or text typed by mistake; null is
#: blank.
CellValue = Annotated[
    int | str | None,
    Field(
        description='项目的值：人数等为整数，金额（万元）为文字（如 "12.35"），是/否为文字；'
        "空为 null（不是 0）"
    ),
]
#: The largest id a database integer column holds: a longer number names nothing (404, not a server error).
MAX_ID = 2**63 - 1
#: The status of a table no one has opened yet (there is no submission row).
NOT_STARTED = "not-started"


def cell_value(value: Value | Decimal) -> int | str | None:
    """A value as JSON gives it: Decimal as its exact text, int as int, blank as null."""
    if value is None or isinstance(value, int):
        return value
    return value_text(value)


def cell_values(values: Mapping[str, Value]) -> dict[str, int | str | None]:
    return {code: cell_value(value) for code, value in values.items()}


def local_time(moment: dt.datetime | None) -> dt.datetime | None:
    return None if moment is None else timezone.localtime(moment)


# --- replies ----------------------------------------------------------------------------------------------


class Message(Schema):
    """Every refusal: a Chinese sentence for the person."""

    message: str = Field(description="给人看的中文说明", examples=["请先登录"])


class UnitOut(Schema):
    id: int
    name: str = Field(examples=["东宝区总工会"])
    kind: str = Field(description="单位类别代码")
    kind_label: str = Field(description="单位类别", examples=["县（市、区）总工会"])
    parent_id: int | None = Field(description="上级单位编号；最上级为 null")
    depth: int = Field(description="在单位树中的层级，最上级为 0")


def unit_out(unit: Unit) -> UnitOut:
    return UnitOut(
        id=unit.pk,
        name=unit.name,
        kind=unit.kind,
        kind_label=unit.get_kind_display(),
        parent_id=unit.parent_id,
        depth=unit.depth,
    )


class UserOut(Schema):
    id: int
    username: str
    name: str = Field(description="姓名")


class Me(Schema):
    user: UserOut
    unit: UnitOut | None = Field(description="所在单位；没有账号的用户为 null")
    role: str | None = Field(description="角色代码：reporter 填报员、reviewer 审核员、admin 管理员")
    role_label: str | None = Field(description="角色", examples=["审核员"])
    csrf_token: str = Field(description="写操作须在 X-CSRFToken 请求头中带上这个值")


class Index(Schema):
    title: str
    links: dict[str, str] = Field(description="各部分的地址")


class NamedRef(Schema):
    id: int
    name: str


class FormRef(Schema):
    code: str = Field(examples=["warmth-2018"])
    attachment: str = Field(examples=["附件1"])
    title: str


class Contact(Schema):
    name: str
    phone: str
    email: str


class CampaignSummary(Schema):
    id: int
    title: str
    document_number: str = Field(description="文号", examples=["荆工办发电〔2017〕18号"])
    owner: NamedRef = Field(description="发通知的单位")
    period_start: dt.date
    period_end: dt.date
    deadline: dt.date = Field(description="报送截止日期")
    form_codes: list[str] = Field(description="本次活动要报的统计表")


class Campaign(CampaignSummary):
    period_text: str = Field(description="通知中活动时间的原文")
    receiving_department: str
    contact: Contact
    addressees: list[NamedRef] = Field(description="主送单位")
    forms: list[FormRef]
    notice_text: str = Field(description="通知全文")


class CampaignList(Schema):
    campaigns: list[CampaignSummary]


class FormStatus(Schema):
    """Where one form of one unit stands."""

    status: Literal["not-started", "draft", "submitted", "returned", "accepted"]
    status_label: str = Field(examples=["已报送"])
    version: int | None = Field(description="版本号，每次保存加一；未开始为 null")
    submitted_at: dt.datetime | None
    late: bool = Field(description="是否逾期报送")


class Permissions(Schema):
    fill: bool = Field(description="可以填报这个单位的表")
    review: bool = Field(description="可以审核这个单位的表")


class UnitProgress(UnitOut):
    state: str = Field(description="各表中进度最靠后的状态")
    late: bool
    forms: dict[str, FormStatus] = Field(description="表代码 → 状态")
    permissions: Permissions


class UnitList(Schema):
    campaign_id: int
    form_codes: list[str]
    units: list[UnitProgress]


JsonNumber = int | str | None


class Finding(Schema):
    """What one rule found (强制性审核 error, 核实性审核 warning)."""

    rule: str = Field(examples=["warmth-2018.1B.of-which"])
    severity: Literal["error", "warning"]
    items: list[str] = Field(description="涉及的项目编号，第一个是所在行")
    message: str
    expected: JsonNumber = Field(description="按规则应为的数（金额为文字）")
    actual: JsonNumber
    difference: JsonNumber


class Header(Schema):
    reporter: str = Field(description="填报人")
    phone: str = Field(description="电话")
    report_date: dt.date | None = Field(description="填报日期")


class ItemOut(Schema):
    code: str = Field(examples=["1A"])
    label: str
    unit: str = Field(description="计量单位", examples=["人", "万元"])
    kind: str


class Findings(Schema):
    errors: list[Finding]
    warnings: list[Finding]


class FindingsHtml(Schema):
    """The findings rendered as the entry page shows them (campaign/_findings.html): fragments it swaps in."""

    summary: str = Field(description="摘要一行：错误、警告各几个，几个警告还没有写说明")
    rows: str = Field(
        description='各行的检查结果：每个项目一个 <tr data-item="编号" data-state="error|warning">，'
        '内含 <td class="msgs"> 的提示'
    )
    explanations: str = Field(description="各个警告及其说明（可以修改时为 textarea）")


class CheckResult(Findings):
    """The live check of values not saved: nothing is stored."""

    values: dict[str, CellValue] = Field(description="表中各项的值（已存的加上这次送来的）")
    findings_html: FindingsHtml = Field(description="检查结果的 HTML 片段，填报页面直接换入")


class Table(FormStatus, Findings):
    """One unit's table in full: values, header, explanations, where it stands, and what the rules say."""

    form: FormRef
    unit: UnitOut
    version: int = Field(description="保存时送回的版本号；未开始的表为 1")
    editable: bool
    values: dict[str, CellValue]
    explanations: dict[str, str] = Field(description="规则编号 → 对警告写的说明")
    missing_explanations: list[str] = Field(description="还没有写说明的警告的规则编号")
    header: Header
    review_comment: str
    reviewed_at: dt.datetime | None
    updated_at: dt.datetime | None
    permissions: Permissions
    items: list[ItemOut]
    findings_html: FindingsHtml = Field(description="检查结果的 HTML 片段，填报页面直接换入")


class ChangedItem(Schema):
    item: str
    label: str
    theirs: CellValue
    yours: CellValue


class Conflict(Message):
    """409: the table's state does not allow the action (only `message`), or someone saved the table since the
    version sent (nothing was overwritten; then both sides are given)."""

    version: int | None = Field(None, description="现在的版本号（别人已保存过时）")
    theirs: dict[str, CellValue] | None = Field(None, description="对方保存的值")
    yours: dict[str, CellValue] | None = Field(None, description="这次送来的值")
    changed: list[ChangedItem] | None = Field(None, description="两边不同的项目")


class Rollup(Schema):
    campaign_id: int
    form: FormRef
    unit: UnitOut
    accepted_units: int = Field(description="计入汇总的（已审核通过的）单位数")
    values: dict[str, CellValue]
    reporting_scope: Literal["own_level", "whole_area"] = Field(
        description="活动的填报口径：own_level 各单位只填本级，全辖由本级与下级已审核的表相加；"
        "whole_area 各单位填全辖，values 即本单位报送的表，下级的表只供核对、不相加"
    )
    content: str = Field(description="values 所含的内容，例如“全辖（含下级）”")


# --- the needy-worker archive (困难职工档案) ---------------------------------------------------------------


class HouseholdSummary(Schema):
    """A file in the list. ID and phone numbers masked unless the full numbers were asked for with the right;
    beside a masked ID number only the birth year (the date would give the number back)."""

    id: int
    unit: NamedRef
    head_name: str
    head_id_number: str = Field(examples=["1101**********002X"])
    head_sex: str
    head_birth_year: int | None
    head_birth_date: dt.date | None = Field(description="只在显示完整号码时给出")
    phone: str
    category: str
    category_label: str
    difficulty_type: str
    status: str
    status_label: str
    household_size: int | None
    monthly_income: str | None = Field(description="家庭月收入（元），文字；未填为 null")
    income_per_person: str | None = Field(description="月人均收入（元）")
    filed_at: dt.datetime | None
    last_reviewed_at: dt.datetime | None
    plan_missing: list[str] = Field(description="四明确中还没写的部分")


class HouseholdList(Schema):
    count: int
    next: str | None
    previous: str | None
    results: list[HouseholdSummary]


class MemberOut(Schema):
    id: int
    name: str
    relation: str
    id_number: str
    monthly_income: str | None
    health: str
    school_or_employer: str


class PlanOut(Schema):
    contact: str
    deadline: dt.date | None
    measures: str
    path: str
    path_label: str
    missing: list[str]


class HouseholdPermissions(Schema):
    view_personal_data: bool = Field(description="可以查看完整的身份证号、手机号和卡号（full=1）")


class Household(HouseholdSummary):
    full_numbers: bool
    employer: str
    employer_kind: str
    main_cause: str
    secondary_causes: list[str]
    minimum_living_line: str | None
    card_kind: str
    card_kind_label: str
    bank: str
    bank_branch: str
    card_number: str
    applied_at: dt.datetime | None
    out_path: str
    out_path_label: str
    ended_on: dt.date | None
    closed_reason: str
    members: list[MemberOut]
    plan: PlanOut
    permissions: HouseholdPermissions


# --- requests ---------------------------------------------------------------------------------------------

#: A value sent for an item: a number (exact: a decimal is read from its text, never as a float), text or
#: null.
SentValue = Annotated[
    StrictInt | Decimal | StrictStr | None,
    Field(description='项目的值：数字、文字（如 "12.35"、"是"）或 null（清空）'),
]


class HeaderIn(Schema):
    model_config = {"extra": "forbid"}

    reporter: StrictStr | None = Field(None, description="填报人")
    phone: StrictStr | None = Field(None, description="电话")
    report_date: StrictStr | None = Field(None, description="填报日期，年-月-日", examples=["2018-02-03"])


class SaveIn(Schema):
    version: StrictInt = Field(description="开始编辑时读到的版本号；别人已保存过则 409", examples=[1])
    values: dict[str, SentValue] = Field(default_factory=dict, description="项目编号 → 值；只送改了的项目")
    explanations: dict[str, StrictStr | None] = Field(
        default_factory=dict, description="规则编号 → 对警告写的说明；null 或空为删去"
    )
    header: HeaderIn = Field(default_factory=HeaderIn.model_construct)

    @field_validator("values", mode="before")
    @classmethod
    def _values_are_an_object(cls, raw: object) -> object:
        return _object_of_values(raw)


class CheckIn(Schema):
    values: dict[str, SentValue] = Field(default_factory=dict, description="项目编号 → 值（还没保存的）")

    @field_validator("values", mode="before")
    @classmethod
    def _values_are_an_object(cls, raw: object) -> object:
        return _object_of_values(raw)


def _object_of_values(raw: object) -> object:
    if not isinstance(raw, dict):
        raise ValueError(str(_("values 应为对象：项目编号 → 数值")))
    for code, value in raw.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | str | Decimal)):
            raise ValueError(str(_("项目 {code} 的值应为数字、文字或 null")).format(code=code))
    return raw


class CommentIn(Schema):
    comment: StrictStr = Field("", description="审核意见")


class ReturnIn(Schema):
    comment: StrictStr = Field(description="退回时必写：告诉填报单位要改什么")


class UnlockIn(Schema):
    reason: StrictStr = Field(description="解锁原因，记入修改记录")
