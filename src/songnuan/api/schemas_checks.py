"""The checks' (抽查、整改、自查) part of the API's typed contract: what its endpoints take and give.

Rates and bounds leave as text with four places ("0.8333"), a rate of nothing as null (never 0, never a
division error); money as text with two places, blank as null. The seed leaves as text too: 18 digits are
more than a JavaScript number holds exactly. Text fields are bounded by their columns and refuse control
characters, so a bad body is a 400 naming the field, never a server error.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import StrictBool, StrictInt, StrictStr, field_validator

from songnuan.api.schemas import MAX_ID, Message, NamedRef
from songnuan.api.schemas_ledger import clean_text, day
from songnuan.checks import sampling, stats
from songnuan.checks.models import Finding, RectificationTask, SampledHousehold, SpotCheck

#: The answers' amount column: 14 digits, 2 of them decimals.
LARGEST_ANSWER_AMOUNT = Decimal("999999999999.99")
CENT = Decimal("0.01")
#: margin and confidence are kept with 3 decimals (DecimalField(max_digits=4, decimal_places=3)).
THOUSANDTH = Decimal("0.001")

#: A number sent as a JSON number (read exactly) or as text such as "0.05".
SentNumber = Annotated[StrictInt | Decimal | StrictStr | None, Field(description="数字或文字，如 0.05")]


def _decimal(name: str, value: object) -> Decimal | None:
    """A JSON number or text as a finite Decimal; None for null or blank text."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise ValueError(_("{name} 应为数字或文字形式的数字").format(name=name))
    clean_text(name, value)
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and len(text) > 30:
        raise ValueError(_("{name} 不是有效的数字").format(name=name))
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(
            _("{name} 不是有效的数字：“{value}”").format(name=name, value=str(value)[:30])
        ) from None
    if not number.is_finite():
        raise ValueError(_("{name} 不是有效的数字").format(name=name))
    return number


def _fraction(name: str, value: object) -> Decimal | None:
    """A proportion strictly between 0 and 1 with at most three decimals (as the page's form takes it)."""
    number = _decimal(name, value)
    if number is None:
        return None
    if not Decimal(0) < number < Decimal(1) or number != number.quantize(THOUSANDTH):
        raise ValueError(
            _("{name} 应在0与1之间（不含0和1），最多三位小数，这里是“{value}”").format(
                name=name, value=str(value)[:30]
            )
        )
    return number


# --- requests ----------------------------------------------------------------------------------------------


class EmptyIn(Schema):
    """Nothing to send: an empty body or {}."""

    model_config = {"extra": "forbid"}


class PlanIn(Schema):
    """The size calculator's question: how the checking unit (the user's own) would draw its sample."""

    model_config = {"extra": "forbid"}

    allocation: StrictStr = Field(
        max_length=20,
        description="样本分配：fixed 每个单位固定户数、proportional 按户数比例、margin 按允许误差和置信水平",
        json_schema_extra={"enum": list(SpotCheck.Allocation.values)},
    )
    level: StrictInt = Field(1, ge=1, le=10, description="分层：下几级单位（1：直属下级）")
    bound_only: StrictBool = Field(True, description="只抽中央和省级帮扶资金的受助户")
    per_stratum: StrictInt | None = Field(None, ge=1, le=100000, description="每个单位抽取户数（fixed）")
    total: StrictInt | None = Field(None, ge=1, le=10000000, description="抽取总户数（proportional）")
    minimum: StrictInt = Field(0, ge=0, le=100000, description="每个单位最少抽取户数")
    margin: SentNumber = Field(None, description="允许误差（margin），如 0.05")
    confidence: SentNumber = Field(None, description="置信水平（margin），如 0.95")

    @field_validator("allocation", mode="before")
    @classmethod
    def _allocation(cls, value: object) -> object:
        if isinstance(value, str) and value not in SpotCheck.Allocation.values:
            allowed = "、".join(f"{code}（{label}）" for code, label in SpotCheck.Allocation.choices)
            raise ValueError(
                _("allocation 没有“{value}”这种分配方式；可用的值：{allowed}").format(
                    value=value[:30], allowed=allowed
                )
            )
        return value

    @field_validator("margin", "confidence", mode="before")
    @classmethod
    def _fractions(cls, value: object, info: Any) -> object:
        return _fraction(info.field_name, value)


class DrawIn(PlanIn):
    """A draw: the plan's question, a title, and the seed (text, as a person types it; null draws a new
    one). The same seed over the same frame draws the same sample."""

    title: StrictStr = Field(max_length=200, description="抽查标题")
    document_number: StrictStr = Field("", max_length=100, description="通报文号")
    seed: StrictStr | None = Field(
        None,
        max_length=40,
        description="随机种子：1至18位数字（全角数字也可）；不填则自动生成",
        examples=["20180125"],
    )

    @field_validator("title", "document_number", mode="before")
    @classmethod
    def _clean(cls, value: object, info: Any) -> object:
        return clean_text(info.field_name, value)

    @field_validator("seed", mode="before")
    @classmethod
    def _seed(cls, value: object) -> object:
        if not isinstance(value, str) or not value.strip():
            return None if isinstance(value, str) else value
        try:
            return str(sampling.parse_seed(value))
        except sampling.SamplingError as problem:
            raise ValueError(_("seed：{problem}").format(problem=problem)) from None


class CallIn(Schema):
    model_config = {"extra": "forbid"}

    disposition: StrictStr = Field(
        max_length=20,
        description="拨打结果：self 接通本人、family 接通家属、no-answer 无人接听、off 关机/停机、"
        "invalid 空号/错号、refused 拒访",
        json_schema_extra={"enum": [d.value for d in stats.Disposition]},
    )

    @field_validator("disposition", mode="before")
    @classmethod
    def _disposition(cls, value: object) -> object:
        if isinstance(value, str) and value not in {d.value for d in stats.Disposition}:
            allowed = "、".join(f"{d.value}（{d.label()}）" for d in stats.Disposition)
            raise ValueError(
                _("disposition 没有“{value}”这种拨打结果；可用的值：{allowed}").format(
                    value=value[:30], allowed=allowed
                )
            )
        return value


def _choice_of(name: str, value: object, allowed: list[str]) -> object:
    if isinstance(value, str) and value and value not in allowed:
        raise ValueError(
            _("{name} 没有“{value}”这个值；可用的值：{allowed}").format(
                name=name, value=value[:30], allowed="、".join(allowed)
            )
        )
    return value


class AnswersIn(Schema):
    """The interview's answers; `version` is the one the answers were read at (GET …/sheet). A save by
    someone else since then is refused (409), nothing overwritten. null is “not answered”, never “no”."""

    model_config = {"extra": "forbid"}

    version: StrictInt = Field(ge=0, le=MAX_ID, description="读取时的版本号")
    received: StrictBool | None = Field(None, description="是否收到帮扶；null 为未回答")
    amount: SentNumber = Field(None, description="收到金额（元）：非负，最多两位小数；null 为未回答")
    how: StrictStr = Field(
        "",
        max_length=10,
        description="发放方式；空为未回答",
        json_schema_extra={"enum": ["", *SampledHousehold.How.values]},
    )
    received_on: StrictStr = Field("", max_length=50, description="收到时间（照答话记录）")
    brought_by: StrictStr = Field("", max_length=100, description="由谁送达")
    knows_contact: StrictBool | None = Field(None, description="是否知道帮扶联系人；null 为未回答")
    satisfaction: StrictStr = Field(
        "",
        max_length=20,
        description="满意度；空为未回答",
        json_schema_extra={"enum": ["", *SampledHousehold.Satisfaction.values]},
    )
    note: StrictStr = Field("", max_length=2000, description="备注")

    @field_validator("received_on", "brought_by", "note", mode="before")
    @classmethod
    def _clean(cls, value: object, info: Any) -> object:
        return clean_text(info.field_name, value)

    @field_validator("how", mode="before")
    @classmethod
    def _how(cls, value: object) -> object:
        return _choice_of("how", value, list(SampledHousehold.How.values))

    @field_validator("satisfaction", mode="before")
    @classmethod
    def _satisfaction(cls, value: object) -> object:
        return _choice_of("satisfaction", value, list(SampledHousehold.Satisfaction.values))

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: object) -> object:
        amount = _decimal("amount", value)
        # The bound first: rounding a huge number to cents would overflow the decimal context.
        if amount is not None and (
            amount < 0 or amount > LARGEST_ANSWER_AMOUNT or amount != amount.quantize(CENT)
        ):
            raise ValueError(
                _("amount：金额应为非负数，最多两位小数，这里是“{value}”").format(value=str(value)[:30])
            )
        return amount


class PublishIn(Schema):
    model_config = {"extra": "forbid"}

    deadline: StrictStr = Field(description="整改期限，年-月-日（今天或以后）", examples=["2018-03-15"])

    @field_validator("deadline", mode="before")
    @classmethod
    def _day(cls, value: object) -> object:
        return day("deadline", value).isoformat()


class TaskAnswerIn(Schema):
    model_config = {"extra": "forbid"}

    answer: StrictStr = Field(max_length=5000, description="整改说明（必写）；材料文件请在网页上传")

    @field_validator("answer", mode="before")
    @classmethod
    def _clean(cls, value: object) -> object:
        return clean_text("answer", value)


class TaskReturnIn(Schema):
    model_config = {"extra": "forbid"}

    reason: StrictStr = Field(max_length=2000, description="退回原因（必写）")

    @field_validator("reason", mode="before")
    @classmethod
    def _clean(cls, value: object) -> object:
        return clean_text("reason", value)


class FindingAnswerIn(Schema):
    model_config = {"extra": "forbid"}

    state: StrictStr = Field(
        max_length=20,
        description="corrected 已纠正、explained 已说明",
        json_schema_extra={"enum": [Finding.State.CORRECTED.value, Finding.State.EXPLAINED.value]},
    )
    answer: StrictStr = Field(max_length=5000, description="纠正情况或说明（必写）")

    @field_validator("state", "answer", mode="before")
    @classmethod
    def _clean(cls, value: object, info: Any) -> object:
        return clean_text(info.field_name, value)


# --- replies -----------------------------------------------------------------------------------------------


class CheckRefusal(Message):
    """400: a bad body, or a step the checks' rules refuse (nothing written); `field` names the field the
    refusal is about, when it is about one."""

    field: str | None = Field(None, description="涉及的字段")


class SampleStratumPlanOut(Schema):
    unit: NamedRef
    size: int = Field(description="抽样框中的户数")
    wanted: int = Field(description="按分配方式应抽户数")
    taken: int = Field(description="实抽户数")
    short: bool = Field(description="户数少于应抽户数：全部抽取")


class SamplePlanOut(Schema):
    """What a draw with these parameters would take (nothing is written)."""

    unit: NamedRef = Field(description="组织抽查的单位（本单位）")
    frame_size: int = Field(description="抽样框户数")
    taken: int = Field(description="合计抽取户数（不含备用户）")
    strata: list[SampleStratumPlanOut]


class SpotCheckOut(Schema):
    id: int
    campaign_id: int
    unit: NamedRef = Field(description="组织抽查的单位")
    title: str
    document_number: str
    state: str = Field(description="calling 电话核查中、published 已通报")
    state_label: str
    bound_only: bool
    stratum_level: int
    allocation: str
    allocation_label: str
    per_stratum: int | None
    total: int | None
    minimum: int
    margin: str | None = Field(description="允许误差，文字；未用为 null")
    confidence: str | None = Field(description="置信水平，文字；未用为 null")
    seed: str = Field(description="随机种子（文字：18 位数字超出 JavaScript 数字的精度）")
    frame_size: int
    frame_digest: str = Field(description="抽样框摘要（SHA-256），用于复核样本")
    drawn_by: str
    drawn_at: dt.datetime


class SpotCheckList(Schema):
    results: list[SpotCheckOut]


class IntervalOut(Schema):
    lower: str
    upper: str


class ResultLineOut(Schema):
    """One stratum's results, or the whole check's."""

    unit: NamedRef
    size: int = Field(description="抽样框户数")
    sampled: int = Field(description="样本户数（含替补户）")
    attempted: int = Field(description="已拨打户数")
    contacted: int = Field(description="接通户数（含拒访）")
    reached: int = Field(description="接通本人或家属的户数")
    interviewed: int = Field(description="完成访问的户数")
    confirmed: int = Field(description="核实无误户数")
    discrepancies: int = Field(description="有问题户数（金额不符、否认收到、现金发放）")
    verdicts: dict[str, int] = Field(description="各核查结论的户数（每种结论都列出）")
    satisfaction: dict[str, int] = Field(description="各满意度的户数（每种都列出）")
    contact_rate: str | None = Field(description="接通率（四位小数）；未拨打为 null")
    confirmed_rate: str | None = Field(description="核实无误率；无人完成访问为 null")
    interval: IntervalOut | None = Field(description="核实无误率的 95% Wilson 区间；无人完成访问为 null")


class CheckPermissions(Schema):
    call: bool = Field(description="可以查看核查表、记录拨打结果和访问答案")
    run: bool = Field(description="可以抽取替补户、发布通报")


class SpotCheckDetail(SpotCheckOut):
    strata: list[ResultLineOut] = Field(description="各层（单位）结果，按单位顺序")
    overall: ResultLineOut
    tasks: dict[str, int] | None = Field(description="通报后各状态的整改任务数；未通报为 null")
    permissions: CheckPermissions


class AttemptOut(Schema):
    number: int
    at: dt.datetime
    disposition: str
    disposition_label: str


class SampledOut(Schema):
    """A household of the sample (or of the reserve) with its calls and answers; no ID or phone number."""

    id: int
    spot_check_id: int
    stratum: NamedRef = Field(description="所在层（单位）")
    name: str = Field(description="户主姓名")
    position: int = Field(description="抽取顺序（0 起）")
    in_sample: bool = Field(description="在样本中（false：备用户）")
    replaces: int | None = Field(description="替补的抽中户编号")
    replaced_by: int | None = Field(description="替补本户的抽中户编号")
    attempts: list[AttemptOut]
    replaceable: bool = Field(description="可以抽取替补户（空号/错号，或拨打 3 次未接通）")
    received: bool | None
    amount: str | None = Field(description="收到金额（元），文字；未回答为 null")
    how: str
    received_on: str
    brought_by: str
    knows_contact: bool | None
    satisfaction: str
    note: str
    interviewed: bool
    verdict: str | None = Field(description="核查结论代码；尚无为 null")
    verdict_label: str | None
    version: int = Field(description="保存访问答案时须带上的版本号")


class PaymentOut(Schema):
    item: str
    amount: str | None
    goods_value: str | None
    paid_on: dt.date
    channel: str
    unit: str
    reversal: bool


class SheetLineOut(SampledOut):
    masked_id: str = Field(description="身份证号（打码）")
    phone: str = Field(description="手机号（完整：核查员拨打用，每次查看都有记录）")
    unit: str = Field(description="档案所属单位")
    payments: list[PaymentOut] = Field(description="本次活动中给本户的已审核发放")


class CallSheet(Schema):
    spot_check: NamedRef
    results: list[SheetLineOut]


class TaskOut(Schema):
    id: int
    spot_check: NamedRef = Field(description="抽查（编号、标题）")
    checking_unit: NamedRef = Field(description="组织抽查的单位")
    unit: NamedRef = Field(description="整改单位")
    sampled_id: int
    household_name: str
    verdict: str
    verdict_label: str
    deadline: dt.date
    overdue: bool = Field(description="已过期限且未通过")
    state: str = Field(description="open 待整改、answered 已答复、accepted 已通过、returned 已退回")
    state_label: str
    answer: str
    evidence: bool = Field(description="是否上传了整改材料（网页下载）")
    answered_by: str | None
    answered_at: dt.datetime | None
    decided_by: str | None
    decided_at: dt.datetime | None
    return_reason: str


class TaskList(Schema):
    results: list[TaskOut]


class RuleCountOut(Schema):
    code: str
    title: str
    findings: int


class FindingRecordOut(Schema):
    kind: str = Field(description="help 发放记录、household 档案")
    id: int


class FindingOut(Schema):
    id: int
    code: str
    unit: NamedRef
    message: str
    records: list[FindingRecordOut]
    state: str = Field(
        description="open 待处理、corrected 已纠正、explained 已说明",
        json_schema_extra={"enum": list(Finding.State.values)},
    )
    state_label: str
    answer: str
    answered_by: str | None
    answered_at: dt.datetime | None
    may_answer: bool


class SelfCheckOut(Schema):
    id: int
    campaign_id: int
    unit: NamedRef
    run_by: str
    run_at: dt.datetime
    total: int = Field(description="发现问题合计")
    open: int = Field(description="尚未处理的问题")
    counts: list[RuleCountOut] = Field(description="各条规则发现的问题数")
    findings: list[FindingOut]


#: The task states every task count lists.
TASK_STATES = list(RectificationTask.State.values)
