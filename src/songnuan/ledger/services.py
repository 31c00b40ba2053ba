"""Writes to the relief ledger: money raised and passed down, help handed out (draft → approved, corrections
by reversal). Every write is keyword-only, atomic and audited (`LedgerEvent`: who, when, old, new); who may is
asked of `songnuan.orgs.permissions`; the money rules are `songnuan.ledger.rules`.

The rules a help record is held to when it is saved (`check_help`, the one check the page, the API and the
roster import use):

errors (refused, nothing written; the refusal itself is written to the history):
- an unknown item, source or channel; no amount and no goods value; a date outside the campaign;
- a household not in the unit's archive (the unit's or a unit's below it), or a name or ID number that is not
  the file's (实名制); a person without a valid ID number or category; an enterprise without a name or kind;
- 依档帮扶: money from a bound source (central, provincial) to anyone but a household whose file was open on
  the payment date (`rules.file_open_on`), or paid in cash;
- cash from any other source without a reason;
- spending from a source more than the unit raised and was allocated for it, less what it passed on;
- a cap whose item is configured to refuse (生活救助, 医疗救助, 子女助学 by default); caps concern persons and
  households, not enterprises.

warnings (saved, but the record is approved only once they are explained):
- the same recipient, item and campaign already recorded; a card number recorded for another household;
- a card number that fails the Luhn check; a cap configured as a warning (节日慰问: 3,000 per visit, 6,000 a
  year); a cap that cannot be computed because its basis (the 低保 line, the cost) is not recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from songnuan.archive.idnumbers import (
    InvalidIdNumber,
    luhn_valid,
    mask_id_number,
    normalize_id_number,
    parse_id_number,
)
from songnuan.archive.models import Household, PersonalDataView
from songnuan.archive.services import as_text, personal_data_viewed
from songnuan.campaigns.models import Campaign
from songnuan.campaigns.services import lock_unit_in_campaign, notice_file_refusal
from songnuan.ledger import rules, totals
from songnuan.ledger.models import FundSource, HelpItem, HelpRecord, LedgerEvent, Receipt
from songnuan.orgs.models import Unit
from songnuan.orgs.permissions import (
    may_allocate,
    may_approve_help,
    may_enter_ledger,
    may_see_personal_data,
)

Channel = HelpRecord.Channel
Kind = HelpRecord.RecipientKind
CARD_CHANNELS = frozenset({Channel.UNION_CARD, Channel.BANK_CARD})


class LedgerError(Exception):
    """A refused change to the ledger: its Chinese message names the record and the rule; `problems` holds
    each broken rule (code, message, field) when there are several."""

    def __init__(self, message: str, problems: Iterable[Problem] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.problems = list(problems)


@dataclass(frozen=True)
class Problem:
    """One broken rule: a stable code, a Chinese message, the input field it concerns ("" = the record)."""

    code: str
    message: str
    field: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "field": self.field}


@dataclass
class HelpInput:
    """A help record as entered (page, API, roster row). Amounts are already Decimals (`rules.parse_yuan`)."""

    recipient_kind: str
    item: str  # HelpItem.code
    source: str  # FundSource.code
    channel: str
    paid_on: dt.date
    household_id: int | None = None
    name: str = ""
    id_number: str = ""
    person_category: str = ""
    credit_code: str = ""
    enterprise_kind: str = ""
    amount: Decimal | None = None
    goods_description: str = ""
    goods_quantity: Decimal | None = None
    goods_value: Decimal | None = None
    cost_basis: Decimal | None = None
    cash_reason: str = ""
    card_number: str = ""
    bank: str = ""
    note: str = ""
    explanation: str = ""


@dataclass
class Checked:
    """What `check_help` found: the resolved parts and the errors and warnings."""

    item: HelpItem | None = None
    source: FundSource | None = None
    household: Household | None = None
    name: str = ""
    id_number: str = ""
    card_number: str = ""
    bank: str = ""
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


class Lookups:
    """The configured items and sources by code, read once (a roster import checks many rows with one)."""

    def __init__(self) -> None:
        self.items = {item.code: item for item in HelpItem.objects.all()}
        self.sources = {source.code: source for source in FundSource.objects.all()}


def local_date(moment: dt.datetime | None) -> dt.date | None:
    return timezone.localdate(moment) if moment is not None else None


def value_of(amount: Decimal | None, goods_value: Decimal | None) -> Decimal:
    return (amount or Decimal(0)) + (goods_value or Decimal(0))


# --- what a unit may spend ---------------------------------------------------------------------------------


def _sum(queryset: models.QuerySet[Any], expression: Any) -> Decimal:
    total = queryset.aggregate(total=Sum(expression))["total"]
    return Decimal(total or 0)


def available(
    campaign: Campaign, unit: Unit, source: FundSource, *, exclude_record: int | None = None
) -> Decimal:
    """What `unit` may still spend from `source` in `campaign`: raised and allocated to it, less what it
    passed on, less what its help records (drafts too: they reserve the money) hand out."""
    receipts = Receipt.objects.filter(campaign=campaign, source=source)
    came_in = _sum(receipts.filter(unit=unit), "amount")
    passed_on = _sum(receipts.filter(from_unit=unit, kind=Receipt.Kind.ALLOCATION), "amount")
    spent_rows = HelpRecord.objects.filter(campaign=campaign, unit=unit, source=source)
    if exclude_record is not None:
        spent_rows = spent_rows.exclude(pk=exclude_record)
    spent = spent_rows.aggregate(amount=Sum("amount"), goods=Sum("goods_value"))  # one pass, not two
    return came_in - passed_on - Decimal(spent["amount"] or 0) - Decimal(spent["goods"] or 0)


# --- what the rules need to know of the ledger ------------------------------------------------------------

#: Who a record is for, as the repeat and cap rules compare recipients: ("household", pk), ("person", ID
#: number) or ("enterprise", name).
RecipientKey = tuple[str, str]


class Facts:
    """What the rules read from the ledger and the archive about one unit's records in one campaign: the
    household chosen, the money left of a source, the recipient's other records, asked of the database. The
    roster import does not ask it row by row: it preloads the same facts per batch of rows and applies the
    same rule functions (`budget_problem`, `duplicate_problem`, `apply_caps` …) to them."""

    def __init__(self, campaign: Campaign, unit: Unit, *, exclude_record: int | None = None) -> None:
        self.campaign = campaign
        self.unit = unit
        self.exclude_record = exclude_record
        self._recipients: dict[RecipientKey, list[int]] = {}

    def _ids(self, key: RecipientKey) -> list[int]:
        """The ids of the recipient's (other) records, found by the recipient's own index (ID number,
        household): a handful of rows. Left to itself, a planner without statistics reads the campaign's or
        the item's index instead, which holds every record of the item (≈ 30 ms at 100,000 records)."""
        if key not in self._recipients:
            self._recipients[key] = list(
                self._others(HelpRecord.objects.filter(_recipient_filter(key))).values_list("pk", flat=True)
            )
        return self._recipients[key]

    def _others(self, records: models.QuerySet[HelpRecord]) -> models.QuerySet[HelpRecord]:
        return records.exclude(pk=self.exclude_record) if self.exclude_record is not None else records

    def household(self, household_id: int) -> Household | None:
        return Household.objects.filter(pk=household_id).select_related("unit").first()

    def left(self, source: FundSource) -> Decimal:
        """What the unit may still spend from `source` (`available`)."""
        return available(self.campaign, self.unit, source, exclude_record=self.exclude_record)

    def repeats(self, key: RecipientKey, item: HelpItem) -> bool:
        """Whether the recipient already has a standing record of `item` in the campaign."""
        ids = self._ids(key)
        return (
            bool(ids)
            and _live(HelpRecord.objects.filter(pk__in=ids, campaign=self.campaign, item=item)).exists()
        )

    def card_elsewhere(self, card_number: str, key: RecipientKey) -> bool:
        """Whether `card_number` was recorded for another recipient (any campaign)."""
        records = HelpRecord.objects.filter(card_number=card_number).exclude(_recipient_filter(key))
        return self._others(records).exists()

    def paid_this_year(self, key: RecipientKey, item: HelpItem, year: int) -> Decimal:
        """What the recipient got of `item` in calendar `year` (any campaign). Reversed records and their
        reversals are left out: a reversal is dated the day of the correction, maybe a year later."""
        ids = self._ids(key)
        if not ids:
            return Decimal(0)
        records = _live(HelpRecord.objects.filter(pk__in=ids, item=item, paid_on__year=year))
        paid = records.aggregate(amount=Sum("amount"), goods=Sum("goods_value"))
        return Decimal(paid["amount"] or 0) + Decimal(paid["goods"] or 0)


def recipient_key(found: Checked) -> RecipientKey:
    """A household's key carries its head's ID number too: a payment to the head entered as a person not on
    file is the same recipient, whichever was entered first."""
    if found.household is not None:
        return ("household", f"{found.household.pk}|{found.household.head_id_number}")
    if found.id_number:
        return ("person", found.id_number)
    return ("enterprise", found.name)


def _recipient_filter(key: RecipientKey) -> Q:
    kind, value = key
    if kind == "household":
        pk, head = value.split("|", 1)
        return Q(household_id=int(pk)) | Q(household__isnull=True, id_number=head)
    if kind == "person":
        return Q(id_number=value)
    return Q(recipient_kind=Kind.ENTERPRISE, name=value)


# --- the check ---------------------------------------------------------------------------------------------


def check_help(
    *,
    campaign: Campaign,
    unit: Unit,
    data: HelpInput,
    exclude_record: int | None = None,
    lookups: Lookups | None = None,
    facts: Facts | None = None,
) -> Checked:
    """Every rule of the module docstring against `data`, as `unit` would save it in `campaign` (leaving out
    the record `exclude_record`, when it is that record's change). Reads only; `facts` answers the questions
    about the rest of the ledger."""
    lookups = lookups or Lookups()
    facts = facts or Facts(campaign, unit, exclude_record=exclude_record)
    found = Checked()
    errors = found.errors
    found.item = lookups.items.get(data.item)
    if found.item is None:
        errors.append(Problem("unknown-item", _("没有“{code}”这个帮扶项目").format(code=data.item), "item"))
    found.source = lookups.sources.get(data.source)
    if found.source is None:
        errors.append(
            Problem("unknown-source", _("没有“{code}”这个资金来源").format(code=data.source), "source")
        )
    if data.channel not in Channel.values:
        errors.append(
            Problem("unknown-channel", _("没有“{code}”这种发放方式").format(code=data.channel), "channel")
        )
    for name, label in (("amount", _("金额")), ("goods_value", _("物品折价")), ("cost_basis", _("自付费用"))):
        amount = getattr(data, name)
        if amount is not None and (
            amount <= 0 or amount > rules.LARGEST_AMOUNT or amount != amount.quantize(rules.CENT)
        ):
            errors.append(
                Problem(
                    "bad-amount",
                    _("{label}应大于零、最多两位小数、不超过一千万元，这里是 {a}").format(
                        label=label, a=amount
                    ),
                    name,
                )
            )
    if data.goods_quantity is not None and data.goods_quantity <= 0:
        errors.append(Problem("bad-quantity", _("物品数量应大于零"), "goods_quantity"))
    if data.amount is None and data.goods_value is None:
        errors.append(Problem("no-amount", _("请填写发放金额或物品折价"), "amount"))
    if not campaign.period_start <= data.paid_on <= campaign.period_end:
        errors.append(
            Problem(
                "date-outside",
                _("发放日期 {day} 不在活动期间（{start} 至 {end}）内").format(
                    day=data.paid_on, start=campaign.period_start, end=campaign.period_end
                ),
                "paid_on",
            )
        )
    _check_recipient(unit, data, found, facts)
    check_channel(data, found)
    if found.item is not None and found.source is not None and not errors:
        _check_budget(data, found.source, facts, errors)
        _check_repeats(found, facts)
        _check_caps(data, found, facts)
    return found


def _check_recipient(unit: Unit, data: HelpInput, found: Checked, facts: Facts) -> None:
    errors = found.errors
    bound = found.source is not None and found.source.archive_first
    if data.recipient_kind == Kind.HOUSEHOLD:
        household = facts.household(data.household_id) if data.household_id else None
        if household is None or not household.unit.is_within(unit):
            errors.append(Problem("no-file", _("本单位及下级单位的档案中没有这户"), "household"))
            return
        found.household = household
        found.name, found.id_number = household.head_name, household.head_id_number
        if data.name.strip() and data.name.strip() != household.head_name:
            errors.append(
                Problem(
                    "name-differs",
                    _("姓名“{name}”与档案户主“{head}”不符（实名制）").format(
                        name=data.name.strip(), head=household.head_name
                    ),
                    "name",
                )
            )
        if data.id_number.strip() and _id_as_filed(data.id_number) != household.head_id_number:
            errors.append(Problem("id-differs", _("身份证号与档案户主的不符（实名制）"), "id_number"))
        if bound:
            check_archive_first(household, data.paid_on, found)
    elif data.recipient_kind == Kind.PERSON:
        found.name = data.name.strip()
        if not found.name:
            errors.append(Problem("no-name", _("请填写姓名"), "name"))
        try:
            found.id_number = parse_id_number(data.id_number).number
        except InvalidIdNumber as error:
            errors.append(Problem("bad-id", str(error), "id_number"))
        if data.person_category not in HelpRecord.PersonCategory.values:
            errors.append(Problem("no-category", _("请选择人员类别"), "person_category"))
        if bound:
            errors.append(unfiled_problem(found.name))
    elif data.recipient_kind == Kind.ENTERPRISE:
        found.name = data.name.strip()
        if not found.name:
            errors.append(Problem("no-name", _("请填写企业名称"), "name"))
        if data.enterprise_kind not in HelpRecord.EnterpriseKind.values:
            errors.append(Problem("no-enterprise-kind", _("请选择企业困难类型"), "enterprise_kind"))
        if data.credit_code and len(data.credit_code.strip()) != 18:
            errors.append(Problem("bad-credit-code", _("统一社会信用代码应为18位"), "credit_code"))
        if bound:
            errors.append(unfiled_problem(found.name))
    else:
        errors.append(Problem("unknown-recipient", _("请选择发放对象类型"), "recipient_kind"))


def _id_as_filed(text: str) -> str:
    """An ID number as the archive stores it (spaces, full-width digits and the 15-digit form read as the
    18-digit number), or as typed when it is no valid number — which then differs from the file's."""
    try:
        return parse_id_number(text).number
    except InvalidIdNumber:
        return normalize_id_number(text)


def unfiled_problem(name: str) -> Problem:
    return Problem(
        "archive-first",
        _("“{name}”不是建档困难职工：中央和省级帮扶资金只能发放给已建档的困难职工家庭（依档帮扶）").format(
            name=name
        ),
        "source",
    )


def check_archive_first(household: Household, day: dt.date, found: Checked) -> None:
    """依档帮扶: the file open on the payment date, said precisely."""
    filed_on = local_date(household.filed_at)
    if rules.file_open_on(filed_on, household.ended_on, day):
        return
    who = household.head_name
    if filed_on is None:
        message = _("{who}的档案尚未审核建档：中央和省级帮扶资金须先建档、后帮扶").format(who=who)
    elif filed_on > day:
        message = _("{who}的档案 {filed} 才建档，晚于发放日期 {day}：须先建档、后帮扶").format(
            who=who, filed=filed_on, day=day
        )
    else:
        status = _("已解困脱困") if household.status == Household.Status.OUT else _("已注销")
        message = _(
            "{who}的档案 {ended} {status}，发放日期 {day} 时已不在档：不能使用中央和省级帮扶资金"
        ).format(who=who, ended=household.ended_on, status=status, day=day)
    found.errors.append(Problem("archive-first", message, "household"))


def check_channel(data: HelpInput, found: Checked) -> None:
    bound = found.source is not None and found.source.archive_first
    if data.channel == Channel.CASH:
        if bound:
            found.errors.append(
                Problem(
                    "cash-bound",
                    _("中央和省级帮扶资金不得以现金发放，须通过阳光5·1卡或银行卡"),
                    "channel",
                )
            )
        elif not data.cash_reason.strip():
            found.errors.append(Problem("cash-reason", _("现金发放须写明原因"), "cash_reason"))
    if data.channel in CARD_CHANNELS:
        card = rules.normalize_card(data.card_number)
        household = found.household
        if not card and household is not None:
            card = rules.normalize_card(household.card_number)
        found.card_number = card
        found.bank = data.bank.strip() or (household.bank if household is not None else "")
        if not card:
            found.errors.append(Problem("no-card", _("卡发放须填写卡号"), "card_number"))
        elif not card.isdigit() or not 12 <= len(card) <= 19:
            found.errors.append(Problem("bad-card", _("卡号应是12到19位数字"), "card_number"))
        elif not luhn_valid(card):
            found.warnings.append(
                Problem("card-luhn", _("卡号未通过校验（Luhn），请核对是否抄错"), "card_number")
            )
    if data.channel == Channel.GOODS and not data.goods_description.strip():
        found.errors.append(Problem("no-goods", _("实物发放须写明物品"), "goods_description"))


def _check_budget(data: HelpInput, source: FundSource, facts: Facts, errors: list[Problem]) -> None:
    problem = budget_problem(source, facts.left(source), value_of(data.amount, data.goods_value))
    if problem is not None:
        errors.append(problem)


def budget_problem(source: FundSource, left: Decimal, wanted: Decimal) -> Problem | None:
    """Spending `wanted` from `source` with `left` still to spend: the refusal, or None."""
    if wanted <= left:
        return None
    return Problem(
        "over-budget",
        _("“{source}”本单位可用 {left} 元（筹集和上级下拨，减去下拨和已发放），本次 {wanted} 元超出").format(
            source=source.name, left=left, wanted=wanted
        ),
        "amount",
    )


def _live(records: models.QuerySet[HelpRecord]) -> models.QuerySet[HelpRecord]:
    """Records that still stand: not reversals, not reversed."""
    return records.filter(reverses__isnull=True, is_reversed=False)


def _check_repeats(found: Checked, facts: Facts) -> None:
    assert found.item is not None
    key = recipient_key(found)
    if facts.repeats(key, found.item):
        found.warnings.append(duplicate_problem(found))
    if found.card_number and facts.card_elsewhere(found.card_number, key):
        found.warnings.append(card_shared_problem())


def duplicate_problem(found: Checked) -> Problem:
    """The warning for a recipient who already has a standing record of the item in the campaign."""
    assert found.item is not None
    return Problem(
        "duplicate",
        _("{name}在本次活动中已有一条“{item}”记录：是否重复发放？").format(
            name=found.name, item=found.item.name
        ),
    )


def card_shared_problem() -> Problem:
    return Problem("card-shared", _("这个卡号已用于另一户的发放：一卡不能对应两户"), "card_number")


def _check_caps(data: HelpInput, found: Checked, facts: Facts) -> None:
    assert found.item is not None
    if data.recipient_kind == Kind.ENTERPRISE:
        return  # the caps are per payment to a person or household, per person or household a year
    apply_caps(data, found, facts.paid_this_year(recipient_key(found), found.item, data.paid_on.year))


def apply_caps(data: HelpInput, found: Checked, so_far: Decimal) -> None:
    """The item's caps on this payment, given what the recipient got of the item in the payment's year
    (`so_far`): errors or warnings on `found`, as the item is configured."""
    item = found.item
    assert item is not None
    household = found.household
    living_line = household.minimum_living_line if household is not None else None
    if rules.basis_unknown(item.cap_basis, living_line=living_line, cost=data.cost_basis):
        found.warnings.append(
            Problem(
                "cap-unknown",
                _("“{item}”的限额无法核算：{what}未登记").format(
                    item=item.name,
                    what=_("个人自付费用") if item.cap_basis == "cost" else _("档案中的当地低保标准"),
                ),
            )
        )
    cap = rules.cap_for(
        item.cap_basis,
        per_payment=item.per_payment,
        per_year=item.per_year,
        living_line=living_line,
        household_size=household.household_size if household is not None else None,
        cost=data.cost_basis,
    )
    wanted = value_of(data.amount, data.goods_value)
    broken: list[Problem] = []
    if cap.per_payment is not None and wanted > cap.per_payment:
        broken.append(
            Problem(
                "cap-payment",
                _("“{item}”单次不超过 {cap} 元，本次 {wanted} 元").format(
                    item=item.name, cap=cap.per_payment, wanted=wanted
                ),
                "amount",
            )
        )
    if cap.per_year is not None:
        year = data.paid_on.year
        if so_far + wanted > cap.per_year:
            broken.append(
                Problem(
                    "cap-year",
                    _(
                        "“{item}”每户（人）每年不超过 {cap} 元，{year}年已发 {so_far} 元，"
                        "加本次 {wanted} 元超出"
                    ).format(item=item.name, cap=cap.per_year, year=year, so_far=so_far, wanted=wanted),
                    "amount",
                )
            )
    if item.cap_severity == HelpItem.Severity.ERROR:
        found.errors.extend(broken)
    else:
        found.warnings.extend(broken)


# --- help records ------------------------------------------------------------------------------------------

RECORD_FIELDS = (
    "recipient_kind",
    "household",
    "name",
    "id_number",
    "person_category",
    "credit_code",
    "enterprise_kind",
    "item",
    "source",
    "amount",
    "goods_description",
    "goods_quantity",
    "goods_value",
    "cost_basis",
    "channel",
    "cash_reason",
    "card_number",
    "bank",
    "paid_on",
    "note",
    "explanation",
    "evidence",  # the stored file's name: an upload or a replacement is a change in the history
    "state",
    "payment",
)


def snapshot(record: HelpRecord) -> dict[str, str]:
    """The record's fields as the history keeps them (text; numbers masked only when shown)."""
    return {name: as_text(getattr(record, name)) for name in RECORD_FIELDS}


def _changes(before: dict[str, str], after: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    changed = [name for name in after if before.get(name, "") != after[name]]
    return {n: before.get(n, "") for n in changed}, {n: after[n] for n in changed}


def record_event(
    action: str,
    *,
    user: User | None,
    campaign: Campaign | None,
    unit: Unit,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    note: str = "",
    **links: Any,
) -> LedgerEvent:
    """One line of the ledger's history (every write of the ledger writes one): who, what, old and new,
    and the record, receipt, batch, activity, team or station it concerns (`links`)."""
    return LedgerEvent.objects.create(
        action=action,
        user=user,
        campaign=campaign,
        unit=unit,
        old=old or {},
        new=new or {},
        note=note,
        **links,
    )


def numbers_viewed(*, user: User, record: HelpRecord, via: str) -> None:
    """Let `user` see `record`'s full ID and card numbers, and log it: in the record's history (whoever sees
    the record sees who looked), and for a filed household in the archive's access log as well. `via` is one
    of `PersonalDataView.Via`."""
    if not may_see_personal_data(user, record.unit):
        raise PermissionDenied(_("您无权查看完整的身份证号和卡号"))
    if record.household_id is not None:
        household = Household.objects.get(pk=record.household_id)
        personal_data_viewed(user=user, households=[household], via=via)
    record_event(
        LedgerEvent.Action.NUMBERS_VIEWED,
        user=user,
        campaign=record.campaign,
        unit=record.unit,
        new={"via": str(PersonalDataView.Via(via).label)},
        record=record,
    )


def _record_changed(action: str, user: User, record: HelpRecord, before: dict[str, str]) -> None:
    """The history row of a change to `record`: the fields that differ from `before` (its snapshot)."""
    old, new = _changes(before, snapshot(record))
    record_event(
        action, user=user, campaign=record.campaign, unit=record.unit, old=old, new=new, record=record
    )


def _input_text(data: HelpInput) -> dict[str, str]:
    """A refused attempt as the history keeps it: what was entered, the ID number masked."""
    values = {f.name: as_text(getattr(data, f.name)) for f in fields(data)}
    if values["id_number"]:
        values["id_number"] = mask_id_number(values["id_number"])
    return {name: value for name, value in values.items() if value}


def refusal_message(problems: list[Problem], who: str) -> str:
    head = _("“{who}”的发放记录不能保存：").format(who=who) if who else _("发放记录不能保存：")
    return head + "；".join(problem.message for problem in problems)


def _refuse(
    *,
    user: User,
    campaign: Campaign,
    unit: Unit,
    data: HelpInput,
    problems: list[Problem],
    record: HelpRecord | None,
    who: str,
) -> LedgerError:
    """The error to raise, after writing the refused attempt to the history (outside the refused change)."""
    message = refusal_message(problems, who or data.name.strip())
    record_event(
        LedgerEvent.Action.REFUSED,
        user=user,
        campaign=campaign,
        unit=unit,
        new=_input_text(data),
        note=message,
        record=record,
    )
    return LedgerError(message, problems)


def _evidence_refusal(evidence: UploadedFile | None) -> None:  # type: ignore[type-arg]
    if evidence is not None:
        refusal = notice_file_refusal(evidence)
        if refusal:
            raise LedgerError(_("凭证文件：{refusal}").format(refusal=refusal))


def _apply(record: HelpRecord, data: HelpInput, found: Checked) -> None:
    assert found.item is not None and found.source is not None
    record.recipient_kind = data.recipient_kind
    record.household = found.household
    record.name = found.name
    record.id_number = found.id_number
    record.person_category = data.person_category if data.recipient_kind == Kind.PERSON else ""
    record.credit_code = data.credit_code.strip() if data.recipient_kind == Kind.ENTERPRISE else ""
    record.enterprise_kind = data.enterprise_kind if data.recipient_kind == Kind.ENTERPRISE else ""
    record.item = found.item
    record.source = found.source
    record.amount = data.amount
    record.goods_description = data.goods_description.strip()
    record.goods_quantity = data.goods_quantity
    record.goods_value = data.goods_value
    record.cost_basis = data.cost_basis
    record.channel = data.channel
    record.cash_reason = data.cash_reason.strip() if data.channel == Channel.CASH else ""
    record.card_number = found.card_number
    record.bank = found.bank
    record.paid_on = data.paid_on
    record.note = data.note.strip()
    record.explanation = data.explanation.strip()
    record.warnings = [problem.as_dict() for problem in found.warnings]


def help_record_add(
    *,
    user: User,
    campaign: Campaign,
    unit: Unit,
    data: HelpInput,
    evidence: UploadedFile | None = None,  # type: ignore[type-arg]
) -> HelpRecord:
    """Record a handing-out as a draft (待审核). Refused (LedgerError, the attempt in the history) when a rule
    of the module docstring is broken; saved with its warnings otherwise."""
    if not may_enter_ledger(user, unit):
        raise PermissionDenied(_("您不能为{unit}录入帮扶发放记录").format(unit=unit.name))
    _evidence_refusal(evidence)
    problems: list[Problem] = []
    who = ""
    with transaction.atomic():
        lock_unit_in_campaign(campaign.pk, unit.pk)
        found = check_help(campaign=campaign, unit=unit, data=data)
        if found.errors:
            problems, who = found.errors, found.name
        else:
            record = HelpRecord(campaign=campaign, unit=unit, entered_by=user)
            _apply(record, data, found)
            if evidence is not None:
                record.evidence.save(evidence.name or "evidence", evidence, save=False)
            record.save()
            record_event(
                LedgerEvent.Action.RECORD_ADDED,
                user=user,
                campaign=campaign,
                unit=unit,
                new={k: v for k, v in snapshot(record).items() if v},
                record=record,
            )
            return record
    raise _refuse(user=user, campaign=campaign, unit=unit, data=data, problems=problems, record=None, who=who)


def _draft_of_own_unit(user: User, record: HelpRecord, verb: str) -> HelpRecord:
    if not may_enter_ledger(user, record.unit):
        raise PermissionDenied(_("您不能{verb}{unit}的发放记录").format(verb=verb, unit=record.unit.name))
    locked = HelpRecord.objects.select_for_update().get(pk=record.pk)
    if locked.state != HelpRecord.State.DRAFT:
        raise LedgerError(
            _("{name}的记录已审核，不能{verb}：如有错误请由审核人冲销后重新录入").format(
                name=locked.name, verb=verb
            )
        )
    return locked


def help_record_edit(
    *,
    user: User,
    record: HelpRecord,
    data: HelpInput,
    evidence: UploadedFile | None = None,  # type: ignore[type-arg]
) -> HelpRecord:
    """Change a draft: the same rules as a new record (the record's own money not counted twice)."""
    _evidence_refusal(evidence)
    problems: list[Problem] = []
    who = ""
    with transaction.atomic():
        lock_unit_in_campaign(record.campaign_id, record.unit_id)
        record = _draft_of_own_unit(user, record, _("修改"))
        found = check_help(campaign=record.campaign, unit=record.unit, data=data, exclude_record=record.pk)
        if found.errors:
            problems, who = found.errors, found.name
        else:
            before = snapshot(record)
            _apply(record, data, found)
            if evidence is not None:
                record.evidence.save(evidence.name or "evidence", evidence, save=False)
            record.save()
            _record_changed(LedgerEvent.Action.RECORD_EDITED, user, record, before)
            return record
    raise _refuse(
        user=user,
        campaign=record.campaign,
        unit=record.unit,
        data=data,
        problems=problems,
        record=record,
        who=who,
    )


@transaction.atomic
def help_record_delete(*, user: User, record: HelpRecord) -> None:
    """Delete a draft entered by mistake; the history keeps what it held."""
    record = _draft_of_own_unit(user, record, _("删除"))
    record_event(
        LedgerEvent.Action.RECORD_DELETED,
        user=user,
        campaign=record.campaign,
        unit=record.unit,
        old={k: v for k, v in snapshot(record).items() if v},
    )
    record.delete()


def input_of(record: HelpRecord) -> HelpInput:
    """The input that would save `record` as it is (re-checking it at approval)."""
    return HelpInput(
        recipient_kind=record.recipient_kind,
        item=record.item.code,
        source=record.source.code,
        channel=record.channel,
        paid_on=record.paid_on,
        household_id=record.household_id,
        name=record.name,
        id_number=record.id_number,
        person_category=record.person_category,
        credit_code=record.credit_code,
        enterprise_kind=record.enterprise_kind,
        amount=record.amount,
        goods_description=record.goods_description,
        goods_quantity=record.goods_quantity,
        goods_value=record.goods_value,
        cost_basis=record.cost_basis,
        cash_reason=record.cash_reason,
        card_number=record.card_number,
        bank=record.bank,
        note=record.note,
        explanation=record.explanation,
    )


#: A warning that arose after the record was saved (another record since, the money spent …), found when a
#: reviewer tried to approve it: the explanation the record has was not written for it. Saving the record
#: again (its explanation) stores its warnings afresh, without the mark.
ARISEN_AT_APPROVAL = "arisen_at_approval"


def approve_refusal(user: User, record: HelpRecord) -> str | None:
    """Why `user` may not approve `record` now (None: it may) — the page asks before offering the button."""
    if not may_approve_help(user, record.unit):
        return _("只有本单位或上级单位的审核员可以审核发放记录")
    if record.state != HelpRecord.State.DRAFT:
        return _("这条记录已审核")
    if record.entered_by_id == user.pk:
        return _("录入人不能审核自己录入的记录（录入和审核须由两人分别办理）")
    if record.warnings and not record.explanation.strip():
        return _("这条记录有提醒（{what}），须由录入人写明情况说明后才能审核").format(
            what="；".join(w["message"] for w in record.warnings)
        )
    unexplained = [w["message"] for w in record.warnings if w.get(ARISEN_AT_APPROVAL)]
    if unexplained:
        return _("审核时发现新的提醒（{what}），须由录入人补充情况说明后才能审核").format(
            what="；".join(unexplained)
        )
    return None


def help_record_approve(*, user: User, record: HelpRecord) -> HelpRecord:
    """Approve a draft: a reviewer of the unit or above, not who entered it; the rules checked again (the
    file may have ended, the money been spent since). Card payments then wait for a bank batch. A warning
    that arose since the record was saved is written on it (kept, unlike a refusal) and the approval waits
    for the enterer's explanation of it."""
    approved = _approve(user, record)
    if isinstance(approved, HelpRecord):
        return approved
    raise LedgerError(
        _("审核时发现新的提醒（{what}），已记在这条记录上，须由录入人补充情况说明后才能审核").format(
            what="；".join(problem.message for problem in approved)
        ),
        approved,
    )


@transaction.atomic
def _approve(user: User, record: HelpRecord) -> HelpRecord | list[Problem]:
    lock_unit_in_campaign(record.campaign_id, record.unit_id)
    record = (
        HelpRecord.objects.select_for_update()
        .select_related("unit", "campaign", "item", "source")
        .get(pk=record.pk)
    )
    refusal = approve_refusal(user, record)
    if refusal:
        if not may_approve_help(user, record.unit):
            raise PermissionDenied(refusal)
        raise LedgerError(refusal)
    found = check_help(
        campaign=record.campaign, unit=record.unit, data=input_of(record), exclude_record=record.pk
    )
    if found.errors:
        raise LedgerError(refusal_message(found.errors, record.name), found.errors)
    saved = {str(w.get("code")) for w in record.warnings}
    arisen = [problem for problem in found.warnings if problem.code not in saved]
    if arisen:
        old = "；".join(str(w.get("message")) for w in record.warnings)
        record.warnings = [
            {**problem.as_dict(), **({ARISEN_AT_APPROVAL: True} if problem in arisen else {})}
            for problem in found.warnings
        ]
        record.save(update_fields=["warnings"])
        record_event(
            LedgerEvent.Action.RECORD_EDITED,
            user=user,
            campaign=record.campaign,
            unit=record.unit,
            old={"warnings": old},
            new={"warnings": "；".join(problem.message for problem in found.warnings)},
            note=_("审核时发现新的提醒，待录入人补充情况说明"),
            record=record,
        )
        return arisen
    before = snapshot(record)
    record.state = HelpRecord.State.APPROVED
    record.approved_by = user
    record.approved_at = timezone.now()
    record.payment = HelpRecord.Payment.QUEUED if record.channel in CARD_CHANNELS else HelpRecord.Payment.NONE
    record.save()
    _record_changed(LedgerEvent.Action.RECORD_APPROVED, user, record, before)
    totals.changed(record.campaign_id, [record.unit_id])
    return record


def _negative(amount: Decimal | None) -> Decimal | None:
    return None if amount is None else -amount


@transaction.atomic
def help_record_reverse(*, user: User, record: HelpRecord, reason: str) -> HelpRecord:
    """Correct an approved record: a new approved record cancels it (amounts negated, `reverses` set), with
    the reason; both stay in the history. A card payment still with the bank is reversed only once the bank
    has answered; one not yet sent leaves the queue."""
    if not may_approve_help(user, record.unit):
        raise PermissionDenied(_("只有本单位或上级单位的审核员可以冲销发放记录"))
    if not reason.strip():
        raise LedgerError(_("冲销须写明原因"))
    record = HelpRecord.objects.select_for_update().get(pk=record.pk)
    if record.state != HelpRecord.State.APPROVED:
        raise LedgerError(_("{name}的记录尚未审核：待审核的记录可直接修改或删除").format(name=record.name))
    if record.reverses_id is not None:
        raise LedgerError(_("这是一条冲销记录，不能再冲销"))
    if HelpRecord.objects.filter(reverses=record).exists():
        raise LedgerError(_("{name}的这条记录已经冲销过").format(name=record.name))
    if record.payment == HelpRecord.Payment.IN_BATCH:
        raise LedgerError(
            _("{name}的这笔款项已送银行代发，请待银行回盘对账后再冲销").format(name=record.name)
        )
    now = timezone.now()
    reversal = HelpRecord.objects.create(
        campaign=record.campaign,
        unit=record.unit,
        recipient_kind=record.recipient_kind,
        household=record.household,
        name=record.name,
        id_number=record.id_number,
        person_category=record.person_category,
        credit_code=record.credit_code,
        enterprise_kind=record.enterprise_kind,
        item=record.item,
        source=record.source,
        amount=_negative(record.amount),
        goods_description=record.goods_description,
        goods_quantity=_negative(record.goods_quantity),
        goods_value=_negative(record.goods_value),
        channel=record.channel,
        card_number=record.card_number,
        bank=record.bank,
        paid_on=timezone.localdate(now),
        note=reason.strip(),
        state=HelpRecord.State.APPROVED,
        entered_by=user,
        approved_by=user,
        approved_at=now,
        reverses=record,
    )
    if record.payment in (HelpRecord.Payment.QUEUED, HelpRecord.Payment.FAILED):
        before = snapshot(record)
        record.payment = HelpRecord.Payment.NONE
        record.save(update_fields=["payment"])
        old, new = _changes(before, snapshot(record))
    else:
        old, new = {}, {}
    record_event(
        LedgerEvent.Action.RECORD_REVERSED,
        user=user,
        campaign=record.campaign,
        unit=record.unit,
        old=old,
        new={**new, "reversal": str(reversal.pk)},
        note=reason.strip(),
        record=record,
    )
    record_event(
        LedgerEvent.Action.RECORD_ADDED,
        user=user,
        campaign=record.campaign,
        unit=record.unit,
        new={k: v for k, v in snapshot(reversal).items() if v},
        note=_("冲销第 {pk} 号记录：{reason}").format(pk=record.pk, reason=reason.strip()),
        record=reversal,
    )
    totals.changed(record.campaign_id, [record.unit_id])
    return reversal


# --- money raised and passed down ------------------------------------------------------------------------


def _receipt_text(receipt: Receipt) -> dict[str, str]:
    names = ("kind", "from_unit", "source", "amount", "received_on", "reference", "note")
    return {
        name: as_text(getattr(receipt, name)) for name in names if getattr(receipt, name) not in (None, "")
    }


#: What the money columns hold (14 digits, 2 of them decimals).
LARGEST_RECEIPT = Decimal(10) ** 12 - rules.CENT


def _positive(amount: Decimal) -> None:
    if amount <= 0 or amount > LARGEST_RECEIPT or amount != amount.quantize(rules.CENT):
        raise LedgerError(_("金额应大于零、最多两位小数、小于一万亿元，这里是 {a}").format(a=amount))


@transaction.atomic
def receipt_add(
    *,
    user: User,
    campaign: Campaign,
    unit: Unit,
    source: FundSource,
    amount: Decimal,
    received_on: dt.date,
    reference: str = "",
    note: str = "",
) -> Receipt:
    """Record money `unit` raised (本级筹集) from `source`."""
    if not may_enter_ledger(user, unit):
        raise PermissionDenied(_("您不能为{unit}登记筹集资金").format(unit=unit.name))
    _positive(amount)
    receipt = Receipt.objects.create(
        campaign=campaign,
        unit=unit,
        kind=Receipt.Kind.RAISED,
        source=source,
        amount=amount,
        received_on=received_on,
        reference=reference.strip(),
        note=note.strip(),
        entered_by=user,
    )
    record_event(
        LedgerEvent.Action.RECEIPT_ADDED,
        user=user,
        campaign=campaign,
        unit=unit,
        new=_receipt_text(receipt),
        receipt=receipt,
    )
    totals.changed(campaign.pk, [unit.pk])
    return receipt


@transaction.atomic
def allocate(
    *,
    user: User,
    campaign: Campaign,
    giver: Unit,
    taker: Unit,
    source: FundSource,
    amount: Decimal,
    on: dt.date,
    reference: str = "",
) -> Receipt:
    """Pass money down the tree (下拨): at most what the giver has left of the source; raised once, where it
    was raised (the taker's row is an allocation, never counted as raised)."""
    if not may_allocate(user, giver, taker):
        raise PermissionDenied(
            _("您不能从{giver}向{taker}下拨资金").format(giver=giver.name, taker=taker.name)
        )
    _positive(amount)
    lock_unit_in_campaign(campaign.pk, giver.pk)
    left = available(campaign, giver, source)
    if amount > left:
        raise LedgerError(
            _("{giver}的“{source}”可用 {left} 元，不够下拨 {amount} 元").format(
                giver=giver.name, source=source.name, left=left, amount=amount
            )
        )
    receipt = Receipt.objects.create(
        campaign=campaign,
        unit=taker,
        kind=Receipt.Kind.ALLOCATION,
        from_unit=giver,
        source=source,
        amount=amount,
        received_on=on,
        reference=reference.strip(),
        entered_by=user,
    )
    record_event(
        LedgerEvent.Action.ALLOCATED,
        user=user,
        campaign=campaign,
        unit=giver,
        new={**_receipt_text(receipt), "unit": taker.name},
        receipt=receipt,
    )
    totals.changed(campaign.pk, [giver.pk, taker.pk])
    return receipt


@transaction.atomic
def receipt_reverse(*, user: User, receipt: Receipt, reason: str) -> Receipt:
    """Cancel a receipt or an allocation entered by mistake (a negative row, with the reason), as long as
    what was spent or passed on from it still fits."""
    owner = receipt.from_unit if receipt.kind == Receipt.Kind.ALLOCATION else receipt.unit
    assert owner is not None
    if not may_enter_ledger(user, owner):
        raise PermissionDenied(_("您不能冲销{unit}的资金登记").format(unit=owner.name))
    if not reason.strip():
        raise LedgerError(_("冲销须写明原因"))
    if receipt.reverses_id is not None or Receipt.objects.filter(reverses=receipt).exists():
        raise LedgerError(_("这条资金登记已冲销或本身是冲销"))
    lock_unit_in_campaign(receipt.campaign_id, receipt.unit_id)
    left = available(receipt.campaign, receipt.unit, receipt.source)
    if receipt.amount > left:
        raise LedgerError(
            _("{unit}的“{source}”已发放或下拨，剩余 {left} 元，不够冲销 {amount} 元").format(
                unit=receipt.unit.name, source=receipt.source.name, left=left, amount=receipt.amount
            )
        )
    reversal = Receipt.objects.create(
        campaign=receipt.campaign,
        unit=receipt.unit,
        kind=receipt.kind,
        from_unit=receipt.from_unit,
        source=receipt.source,
        amount=-receipt.amount,
        received_on=timezone.localdate(),
        reference=receipt.reference,
        note=reason.strip(),
        entered_by=user,
        reverses=receipt,
    )
    record_event(
        LedgerEvent.Action.RECEIPT_REVERSED,
        user=user,
        campaign=receipt.campaign,
        unit=owner,
        new=_receipt_text(reversal),
        note=reason.strip(),
        receipt=receipt,
    )
    totals.changed(receipt.campaign_id, [receipt.unit_id, owner.pk])
    return reversal
