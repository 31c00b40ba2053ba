"""The relief ledger's (帮扶台账) part of the API's typed contract: what its endpoints take and give.

Money (元) leaves as text ("1000.00"), blank as null, never 0. Money sent may be a JSON number or text: the
API's parser reads a number with a fraction as a Decimal, never a float, and the amount is checked here as
`songnuan.ledger.rules.parse_yuan` checks a roster's (more than zero, at most two decimals). Text fields are
bounded by their columns, and refuse control characters (PostgreSQL stores no NUL), so a bad body is a 400
with a Chinese message naming the field, never a server error.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from django.db.models import TextChoices
from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import StrictInt, StrictStr, field_validator

from songnuan.api.schemas import MAX_ID, Message, NamedRef
from songnuan.ledger import rules
from songnuan.ledger.models import HelpRecord

#: A goods quantity's column holds at most this (12 digits, 2 of them decimals).
LARGEST_QUANTITY = Decimal("9999999999.99")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

#: Money sent: a JSON number (read exactly) or text such as "1200.50"; null is blank.
SentMoney = Annotated[
    StrictInt | Decimal | StrictStr | None,
    Field(description='金额（元）：数字或文字（如 "1200.50"），大于零、最多两位小数；null 为不填'),
]


# --- checks shared by the request schemas ------------------------------------------------------------------


def clean_text(name: str, value: object) -> object:
    """Text without control characters (PostgreSQL stores no NUL); other types are left to the schema."""
    if isinstance(value, str) and _CONTROL.search(value):
        raise ValueError(_("{name} 中有不可见的控制字符").format(name=name))
    return value


def money(
    name: str, value: object, *, required: bool, largest: Decimal = rules.LARGEST_AMOUNT
) -> Decimal | None:
    """An amount in yuan as `rules.parse_yuan` reads it, the message naming the field. A huge number is
    refused before it is rounded to cents (rounding it would overflow the decimal context)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValueError(_("{name}：金额不能为空").format(name=name))
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise ValueError(_("{name} 应为数字或文字形式的金额").format(name=name))
    clean_text(name, value)
    try:
        rough = Decimal(value) if isinstance(value, int | Decimal) else None
    except InvalidOperation:  # pragma: no cover - ints and Decimals always convert
        rough = None
    if rough is not None and rough.is_finite() and abs(rough) > largest:
        raise ValueError(
            _("{name}：金额 {amount} 元过大，请核对单位（元，不是分）").format(name=name, amount=rough)
        )
    try:
        amount = rules.parse_yuan(value)
    except rules.AmountError as error:
        raise ValueError(_("{name}：{problem}").format(name=name, problem=error)) from None
    except InvalidOperation:  # text too long to round: surely not an amount
        raise ValueError(_("{name}：金额过大，请核对").format(name=name)) from None
    if amount is not None and amount > largest:
        raise ValueError(_("{name}：金额 {amount} 过大，请核对").format(name=name, amount=amount))
    return amount


def day(name: str, value: object) -> dt.date:
    """An ISO date (年-月-日)."""
    if isinstance(value, dt.date):
        return value
    text = value.strip() if isinstance(value, str) else None
    if text and re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    shown = str(value)[:30] if not isinstance(value, str) else value[:30]
    raise ValueError(
        _("{name} 应为日期（年-月-日，如 2018-01-25），这里是“{value}”").format(name=name, value=shown)
    )


def choice(name: str, value: object, choices: type[TextChoices]) -> object:
    if value in (None, ""):
        return None
    if value not in choices.values:
        allowed = "、".join(f"{code}（{label}）" for code, label in choices.choices if code)
        raise ValueError(
            _("参数 {name} 没有“{value}”这个值；可用的值：{allowed}").format(
                name=name, value=str(value)[:30], allowed=allowed
            )
        )
    return value


def _text(max_length: int, description: str, default: str = "", **extra: Any) -> Any:
    return Field(default, max_length=max_length, description=description, **extra)


# --- requests ----------------------------------------------------------------------------------------------


class HelpRecordIn(Schema):
    """A help record (发放记录) as entered: saved as a draft (待审核) if every rule holds."""

    model_config = {"extra": "forbid"}

    recipient_kind: StrictStr = Field(
        max_length=20,
        description="对象类型：household 建档家庭、person 未建档个人、enterprise 困难企业",
        json_schema_extra={"enum": list(HelpRecord.RecipientKind.values)},
    )
    household_id: StrictInt | None = Field(None, ge=1, le=MAX_ID, description="档案编号（对象为建档家庭时）")
    name: StrictStr = _text(100, "姓名或企业名称（建档家庭可不填：取档案户主；填了须与档案一致）")
    id_number: StrictStr = _text(30, "身份证号（未建档个人必填；建档家庭填了须与档案一致）")
    person_category: StrictStr = _text(
        20, "人员类别（未建档个人）", json_schema_extra={"enum": ["", *HelpRecord.PersonCategory.values]}
    )
    credit_code: StrictStr = _text(30, "统一社会信用代码（企业，知道时填）")
    enterprise_kind: StrictStr = _text(
        30, "企业困难类型（企业）", json_schema_extra={"enum": ["", *HelpRecord.EnterpriseKind.values]}
    )
    item: StrictStr = Field(max_length=30, description="帮扶项目代码", examples=["visit"])
    source: StrictStr = Field(max_length=30, description="资金来源代码", examples=["central"])
    channel: StrictStr = Field(
        max_length=20, description="发放方式", json_schema_extra={"enum": list(HelpRecord.Channel.values)}
    )
    paid_on: StrictStr = Field(description="发放日期，年-月-日", examples=["2018-01-25"])
    amount: SentMoney = None
    goods_description: StrictStr = _text(100, "物品")
    goods_quantity: SentMoney = Field(None, description="物品数量")
    goods_value: SentMoney = Field(None, description="物品折价（元）")
    cost_basis: SentMoney = Field(None, description="个人自付费用（元，医疗救助的限额依据）")
    cash_reason: StrictStr = _text(200, "现金发放原因（现金发放必填）")
    card_number: StrictStr = _text(30, "卡号（不填则取档案中的卡号）")
    bank: StrictStr = _text(100, "开户行")
    note: StrictStr = _text(200, "备注")
    explanation: StrictStr = _text(2000, "情况说明（有提醒时须写，才能审核）")

    @field_validator(
        "recipient_kind",
        "name",
        "id_number",
        "person_category",
        "credit_code",
        "enterprise_kind",
        "item",
        "source",
        "channel",
        "goods_description",
        "cash_reason",
        "card_number",
        "bank",
        "note",
        "explanation",
        mode="before",
    )
    @classmethod
    def _clean(cls, value: object, info: Any) -> object:
        return clean_text(info.field_name, value)

    @field_validator("paid_on", mode="before")
    @classmethod
    def _day(cls, value: object) -> object:
        return day("paid_on", value).isoformat()

    @field_validator("amount", "goods_value", "cost_basis", mode="before")
    @classmethod
    def _money(cls, value: object, info: Any) -> object:
        return money(info.field_name, value, required=False)

    @field_validator("goods_quantity", mode="before")
    @classmethod
    def _quantity(cls, value: object) -> object:
        return money("goods_quantity", value, required=False, largest=LARGEST_QUANTITY)


class ReceiptIn(Schema):
    """Money the unit raised (本级筹集) from one source."""

    model_config = {"extra": "forbid"}

    source: StrictStr = Field(max_length=30, description="资金来源代码", examples=["central"])
    amount: SentMoney = Field(description="金额（元）：数字或文字，大于零、最多两位小数")
    received_on: StrictStr = Field(description="到账日期，年-月-日", examples=["2018-01-02"])
    reference: StrictStr = _text(100, "文件或凭证号")
    note: StrictStr = _text(200, "备注")

    @field_validator("source", "reference", "note", mode="before")
    @classmethod
    def _clean(cls, value: object, info: Any) -> object:
        return clean_text(info.field_name, value)

    @field_validator("received_on", mode="before")
    @classmethod
    def _day(cls, value: object) -> object:
        return day("received_on", value).isoformat()

    @field_validator("amount", mode="before")
    @classmethod
    def _money(cls, value: object) -> object:
        return money("amount", value, required=True)


class AllocationIn(Schema):
    """Money passed down (下拨) to a unit below."""

    model_config = {"extra": "forbid"}

    to_unit: StrictInt = Field(ge=1, le=MAX_ID, description="下拨给哪个下级单位（单位编号）")
    source: StrictStr = Field(max_length=30, description="资金来源代码", examples=["central"])
    amount: SentMoney = Field(description="金额（元）")
    on: StrictStr = Field(description="下拨日期，年-月-日", examples=["2018-01-05"])
    reference: StrictStr = _text(100, "文件或凭证号")

    @field_validator("source", "reference", mode="before")
    @classmethod
    def _clean(cls, value: object, info: Any) -> object:
        return clean_text(info.field_name, value)

    @field_validator("on", mode="before")
    @classmethod
    def _day(cls, value: object) -> object:
        return day("on", value).isoformat()

    @field_validator("amount", mode="before")
    @classmethod
    def _money(cls, value: object) -> object:
        return money("amount", value, required=True)


class ReasonIn(Schema):
    model_config = {"extra": "forbid"}

    reason: StrictStr = Field(max_length=200, description="冲销原因（必写），记入变更记录")

    @field_validator("reason", mode="before")
    @classmethod
    def _clean(cls, value: object) -> object:
        return clean_text("reason", value)


# --- replies -----------------------------------------------------------------------------------------------


class ProblemOut(Schema):
    code: str = Field(description="规则代码", examples=["archive-first"])
    message: str
    field: str = Field(description="涉及的字段；空为整条记录")


class LedgerRefusal(Message):
    """400: a bad body, or a change the ledger's rules refuse (nothing was saved; a refused record is in the
    history). `problems` lists each broken rule when the rules refused."""

    problems: list[ProblemOut] = Field(default_factory=list, description="违反的各条规则")


class CodeName(Schema):
    code: str
    name: str


class HelpRecordOut(Schema):
    """A help record. ID and card numbers are masked unless the user may see personal data."""

    id: int
    campaign_id: int
    unit: NamedRef
    state: str = Field(description="draft 待审核、approved 已审核")
    state_label: str
    recipient_kind: str
    recipient_kind_label: str
    household_id: int | None
    name: str
    id_number: str
    person_category: str
    credit_code: str
    enterprise_kind: str
    item: CodeName
    source: CodeName
    amount: str | None = Field(description="金额（元），文字；冲销记录为负；未填为 null")
    goods_description: str
    goods_quantity: str | None
    goods_value: str | None
    cost_basis: str | None
    channel: str
    channel_label: str
    cash_reason: str
    card_number: str
    bank: str
    paid_on: dt.date
    note: str
    warnings: list[ProblemOut] = Field(description="保存时的提醒，须写情况说明才能审核")
    explanation: str
    payment: str = Field(description="代发状态：空 无需代发、queued、in-batch、paid、failed")
    payment_label: str
    entered_by: str
    entered_at: dt.datetime
    approved_by: str | None
    approved_at: dt.datetime | None
    reverses: int | None = Field(description="本条冲销的记录编号")
    reversed_by: int | None = Field(description="冲销本条的记录编号")
    evidence: bool = Field(description="是否有凭证文件（GET /api/ledger/records/{record_id}/evidence 下载）")


class HelpRecordList(Schema):
    count: int
    next: str | None
    previous: str | None
    results: list[HelpRecordOut]


class EventOut(Schema):
    at: dt.datetime
    user: str | None
    action: str
    action_label: str
    old: dict[str, str] = Field(description="原值（字段 → 文字）")
    new: dict[str, str] = Field(description="新值（字段 → 文字）")
    note: str


class RecordPermissions(Schema):
    edit: bool = Field(description="可以修改、删除（待审核、本单位的记录）")
    approve: bool = Field(description="现在可以审核")
    approve_refusal: str | None = Field(description="不能审核的原因")
    reverse: bool = Field(description="可以冲销")


class HelpRecordDetail(HelpRecordOut):
    history: list[EventOut] = Field(description="变更记录，含被拒绝的尝试")
    permissions: RecordPermissions


class ReceiptOut(Schema):
    id: int
    campaign_id: int
    unit: NamedRef = Field(description="收款单位")
    kind: str = Field(description="raised 本级筹集、allocation 上级下拨")
    kind_label: str
    from_unit: NamedRef | None = Field(description="下拨单位")
    source: CodeName
    amount: str = Field(description="金额（元），文字；冲销为负")
    received_on: dt.date
    reference: str
    note: str
    entered_by: str
    entered_at: dt.datetime
    reverses: int | None


class ReceiptList(Schema):
    count: int
    next: str | None
    previous: str | None
    results: list[ReceiptOut]


class SourceTotalOut(Schema):
    source: CodeName
    raised: str = Field(description="本级筹集（元）")
    allocated_in: str = Field(description="上级下拨（元）")
    allocated_out: str = Field(description="下拨下级（元）")
    spent: str = Field(description="已审核发放（元）")
    reserved: str = Field(description="待审核发放占用（元）")
    left: str = Field(description="可用（元）")


class ItemTotalOut(Schema):
    item: CodeName
    records: int = Field(description="已审核记录数（不含冲销）")
    amount: str
    goods_value: str


class LedgerTotals(Schema):
    campaign_id: int
    unit: NamedRef
    subtree: bool = Field(description="是否含下级单位")
    by_source: list[SourceTotalOut]
    by_item: list[ItemTotalOut]


# --- query parameters --------------------------------------------------------------------------------------

PAGE_SIZE = 50  # rows per page, unless page_size asks for another number …
MAX_PAGE_SIZE = 200  # … up to this


def _blank_is_absent(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


def _flag(name: str, value: object) -> str:
    text = str(value or "").strip().lower()
    if text in ("", "0", "false"):
        return "0"
    if text in ("1", "true"):
        return "1"
    raise ValueError(_("参数 {name} 只能是 1 或 0，这里是“{value}”").format(name=name, value=text[:30]))


def _code(name: str, value: object) -> object:
    value = _blank_is_absent(value)
    if isinstance(value, str):
        value = value.strip()
        if not re.fullmatch(r"[-a-zA-Z0-9_]{1,30}", value):
            raise ValueError(_("参数 {name} 没有“{value}”这个代码").format(name=name, value=value[:30]))
    return value


class PagedQuery(Schema):
    subtree: str = Field("0", description="1：含下级单位")
    page: int = Field(1, ge=1, le=MAX_ID, description="第几页")
    page_size: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="每页几条")

    @field_validator("subtree", mode="before")
    @classmethod
    def _subtree(cls, value: object) -> object:
        return _flag("subtree", value)

    @field_validator("page", "page_size", mode="before")
    @classmethod
    def _number(cls, value: object, info: Any) -> object:
        value = _blank_is_absent(value)
        if value is None:
            return cls.model_fields[info.field_name].default
        text = str(value).strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 19):
            raise ValueError(
                _("参数 {name} 应为正整数，这里是“{value}”").format(name=info.field_name, value=text[:30])
            )
        return int(text)


class RecordFilter(PagedQuery):
    state: str | None = Field(
        None, description="状态", json_schema_extra={"enum": list(HelpRecord.State.values)}
    )
    item: str | None = Field(None, description="帮扶项目代码")
    source: str | None = Field(None, description="资金来源代码")
    channel: str | None = Field(
        None, description="发放方式", json_schema_extra={"enum": list(HelpRecord.Channel.values)}
    )

    @field_validator("state", mode="before")
    @classmethod
    def _state(cls, value: object) -> object:
        return choice("state", _blank_is_absent(value), HelpRecord.State)

    @field_validator("channel", mode="before")
    @classmethod
    def _channel(cls, value: object) -> object:
        return choice("channel", _blank_is_absent(value), HelpRecord.Channel)

    @field_validator("item", "source", mode="before")
    @classmethod
    def _codes(cls, value: object, info: Any) -> object:
        return _code(info.field_name, value)


class ReceiptQuery(PagedQuery):
    source: str | None = Field(None, description="资金来源代码")

    @field_validator("source", mode="before")
    @classmethod
    def _codes(cls, value: object) -> object:
        return _code("source", value)


class TotalsQuery(Schema):
    subtree: str = Field("0", description="1：含下级单位（单位之间的下拨不重复计算）")

    @field_validator("subtree", mode="before")
    @classmethod
    def _subtree(cls, value: object) -> object:
        return _flag("subtree", value)
