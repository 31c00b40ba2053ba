"""/api/…/ledger: the relief ledger (帮扶台账) — help records (draft → approved, corrections by
reversal), money raised and passed down, the totals — with the pages' permissions:

- read (`may_see_ledger`): the unit's own staff and the reviewers and admins above it;
- write (`may_enter_ledger`): any account of the unit itself (drafts, receipts, allocations to units below);
- approve and reverse (`may_approve_help`): a reviewer or admin of the unit or above, not who entered it.

A unit or a record the user does not see answers as one that does not exist (404), as the households API
does. A refusal of the ledger's rules is a 400 with each broken rule in `problems`; an action the record's
state no longer allows (editing an approved record, approving twice, reversing a draft) is a 409. ID and
card numbers are shown as `songnuan.ledger.selectors` lets the user see them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Query, Router, UploadedFile
from ninja.params.functions import File, Path

from songnuan.api.campaigns import CampaignId, user_of, visible_campaign
from songnuan.api.errors import ApiError
from songnuan.api.households import DetailQuery
from songnuan.api.schemas import MAX_ID, Message, NamedRef, local_time
from songnuan.api.schemas_ledger import (
    AllocationIn,
    CodeName,
    EventOut,
    HelpRecordDetail,
    HelpRecordIn,
    HelpRecordList,
    HelpRecordOut,
    ItemTotalOut,
    LedgerRefusal,
    LedgerTotals,
    ProblemOut,
    ReasonIn,
    ReceiptIn,
    ReceiptList,
    ReceiptOut,
    ReceiptQuery,
    RecordFilter,
    RecordPermissions,
    SourceTotalOut,
    TotalsQuery,
)
from songnuan.archive.idnumbers import mask_card, mask_id_number
from songnuan.archive.models import PersonalDataView
from songnuan.campaigns.models import Campaign
from songnuan.campaigns.selectors import unit_takes_part
from songnuan.campaigns.services import NOTICE_MAX_BYTES
from songnuan.ledger import selectors, services
from songnuan.ledger.models import FundSource, HelpRecord, LedgerEvent, Receipt
from songnuan.ledger.rules import CENT
from songnuan.orgs.models import Unit
from songnuan.orgs.permissions import (
    can_see_rollup,
    may_approve_help,
    may_enter_ledger,
    may_see_ledger,
    may_see_personal_data,
    units_visible_to,
)

router = Router(tags=["帮扶台账"])

UNIT = "/campaigns/{campaign_id}/units/{unit_id}/ledger"
RECORD = "/ledger/records/{record_id}"
UnitId: Any = Path(..., ge=1, le=MAX_ID, description="单位编号")
RecordId: Any = Path(..., ge=1, le=MAX_ID, description="发放记录编号")
ReceiptId: Any = Path(..., ge=1, le=MAX_ID, description="资金登记编号")
EvidenceFile: Any = File(
    ...,
    description=f"凭证文件（签收表、照片）：PDF、Word（.doc、.docx）、WPS、OFD 或 JPG、PNG，"
    f"最大 {NOTICE_MAX_BYTES // 1048576} MB",
)
READ = {400: Message, 401: Message, 403: Message, 404: Message}
WRITE = {400: LedgerRefusal, 401: Message, 403: Message, 404: Message, 409: Message}


def install_handlers(api: NinjaAPI) -> None:
    """A refusal of the ledger's rules: 400 with the message and each broken rule."""

    @api.exception_handler(services.LedgerError)
    def refused(request: HttpRequest, problem: services.LedgerError) -> HttpResponse:
        body = {"message": problem.message, "problems": [p.as_dict() for p in problem.problems]}
        return api.create_response(request, body, status=400)


# --- where: the campaign, the unit, the record ------------------------------------------------------------


def _unit_of_campaign(request: HttpRequest, campaign_id: int, unit_id: int) -> tuple[User, Campaign, Unit]:
    user = user_of(request)
    campaign = visible_campaign(user, campaign_id)
    unit = Unit.objects.filter(pk=unit_id).first()
    # Not there and not visible are the same answer, as for a household's file.
    if unit is None or not may_see_ledger(user, unit):
        raise ApiError(404, _("没有这个单位"))
    if not unit_takes_part(campaign, unit):
        raise ApiError(404, _("本次活动不涉及这个单位"))
    return user, campaign, unit


def _record(user: User, record_id: int) -> HelpRecord:
    record = (
        selectors.help_records_visible_to(user)
        .select_related("unit", "campaign", "item", "source", "entered_by", "approved_by", "reversed_by")
        .filter(pk=record_id)
        .first()
    )
    if record is None:
        raise ApiError(404, _("没有这条发放记录"))
    return record


def _conflict_or_refusal(error: services.LedgerError, conflict: bool) -> Exception:
    """A refusal because of the record's state is a 409; any other rule's a 400 (with its problems)."""
    return ApiError(409, error.message) if conflict else error


# --- answers ----------------------------------------------------------------------------------------------


def _yuan(amount: Decimal) -> str:
    """Money as text with its two places ("1000.00"), never a float."""
    return format(Decimal(amount).quantize(CENT), "f")


def _money(amount: Decimal | None) -> str | None:
    return None if amount is None else _yuan(amount)


def _user_name(user: User | None) -> str | None:
    if user is None:
        return None
    return user.get_full_name() or user.get_username()


def record_out(user: User, record: HelpRecord, *, full: bool = False) -> HelpRecordOut:
    try:  # selected with the record where a list is read (no query per row)
        reversed_by: int | None = record.reversed_by.pk
    except HelpRecord.DoesNotExist:
        reversed_by = None
    return HelpRecordOut(
        id=record.pk,
        campaign_id=record.campaign_id,
        unit=NamedRef(id=record.unit_id, name=record.unit.name),
        state=record.state,
        state_label=record.get_state_display(),
        recipient_kind=record.recipient_kind,
        recipient_kind_label=record.get_recipient_kind_display(),
        household_id=record.household_id,
        name=record.name,
        id_number=selectors.shown_id_number(user, record, full=full),
        person_category=record.person_category,
        credit_code=record.credit_code,
        enterprise_kind=record.enterprise_kind,
        item=CodeName(code=record.item.code, name=record.item.name),
        source=CodeName(code=record.source.code, name=record.source.name),
        amount=_money(record.amount),
        goods_description=record.goods_description,
        goods_quantity=_money(record.goods_quantity),
        goods_value=_money(record.goods_value),
        cost_basis=_money(record.cost_basis),
        channel=record.channel,
        channel_label=record.get_channel_display(),
        cash_reason=record.cash_reason,
        card_number=selectors.shown_card_number(user, record, full=full),
        bank=record.bank,
        paid_on=record.paid_on,
        note=record.note,
        warnings=[
            ProblemOut(
                code=str(w.get("code", "")), message=str(w.get("message", "")), field=str(w.get("field", ""))
            )
            for w in record.warnings
            if isinstance(w, dict)
        ],
        explanation=record.explanation,
        payment=record.payment,
        payment_label=record.get_payment_display(),
        entered_by=_user_name(record.entered_by) or "",
        entered_at=local_time(record.entered_at),  # type: ignore[arg-type]
        approved_by=_user_name(record.approved_by),
        approved_at=local_time(record.approved_at),
        reverses=record.reverses_id,
        reversed_by=reversed_by,
        evidence=bool(record.evidence),
    )


def _shown_values(values: object, masked: bool) -> dict[str, str]:
    """An event's old or new values; the personal numbers masked unless the user may see them."""
    if not isinstance(values, dict):
        return {}
    shown = {str(key): str(value) for key, value in values.items()}
    if masked:
        for key, mask in (("id_number", mask_id_number), ("card_number", mask_card)):
            if shown.get(key) and "*" not in shown[key]:
                shown[key] = mask(shown[key])
    return shown


def record_detail(user: User, record: HelpRecord, *, full: bool = False) -> HelpRecordDetail:
    """The record and its history; the personal numbers masked unless `full` (asked for, allowed, logged)."""
    masked = not (full and may_see_personal_data(user, record.unit))
    events = (
        LedgerEvent.objects.filter(Q(record=record) | Q(record__reverses=record))
        .select_related("user")
        .order_by("at", "pk")
    )
    refusal = services.approve_refusal(user, record)
    reversible = (
        may_approve_help(user, record.unit)
        and record.state == HelpRecord.State.APPROVED
        and record.reverses_id is None
        and not HelpRecord.objects.filter(reverses=record).exists()
    )
    return HelpRecordDetail(
        **record_out(user, record, full=full).model_dump(),
        history=[
            EventOut(
                at=local_time(event.at),  # type: ignore[arg-type]
                user=_user_name(event.user),
                action=event.action,
                action_label=event.get_action_display(),
                old=_shown_values(event.old, masked),
                new=_shown_values(event.new, masked),
                note=event.note,
            )
            for event in events
        ],
        permissions=RecordPermissions(
            edit=may_enter_ledger(user, record.unit) and record.state == HelpRecord.State.DRAFT,
            approve=refusal is None,
            approve_refusal=refusal,
            reverse=reversible,
        ),
    )


def receipt_out(receipt: Receipt) -> ReceiptOut:
    return ReceiptOut(
        id=receipt.pk,
        campaign_id=receipt.campaign_id,
        unit=NamedRef(id=receipt.unit_id, name=receipt.unit.name),
        kind=receipt.kind,
        kind_label=receipt.get_kind_display(),
        from_unit=NamedRef(id=receipt.from_unit.pk, name=receipt.from_unit.name)
        if receipt.from_unit
        else None,
        source=CodeName(code=receipt.source.code, name=receipt.source.name),
        amount=_yuan(receipt.amount),
        received_on=receipt.received_on,
        reference=receipt.reference,
        note=receipt.note,
        entered_by=_user_name(receipt.entered_by) or "",
        entered_at=local_time(receipt.entered_at),  # type: ignore[arg-type]
        reverses=receipt.reverses_id,
    )


def _page_url(request: HttpRequest, number: int) -> str:
    query = request.GET.copy()
    query["page"] = str(number)
    return f"{request.path}?{query.urlencode()}"


def _page(
    request: HttpRequest, rows: QuerySet[Any], number: int, size: int
) -> tuple[int, list[Any], dict[str, Any]]:
    paginator = Paginator(rows, size)
    if number > paginator.num_pages:
        raise ApiError(
            404, _("没有第 {page} 页：共 {pages} 页").format(page=number, pages=paginator.num_pages)
        )
    page = paginator.page(number)
    links = {
        "next": _page_url(request, number + 1) if page.has_next() else None,
        "previous": _page_url(request, number - 1) if page.has_previous() else None,
    }
    return paginator.count, list(page.object_list), links


def _input(body: HelpRecordIn) -> services.HelpInput:
    return services.HelpInput(
        recipient_kind=body.recipient_kind,
        item=body.item,
        source=body.source,
        channel=body.channel,
        paid_on=dt.date.fromisoformat(body.paid_on),
        household_id=body.household_id,
        name=body.name,
        id_number=body.id_number,
        person_category=body.person_category,
        credit_code=body.credit_code,
        enterprise_kind=body.enterprise_kind,
        amount=body.amount,  # type: ignore[arg-type]  # the schema's validator made it a Decimal or None
        goods_description=body.goods_description,
        goods_quantity=body.goods_quantity,  # type: ignore[arg-type]
        goods_value=body.goods_value,  # type: ignore[arg-type]
        cost_basis=body.cost_basis,  # type: ignore[arg-type]
        cash_reason=body.cash_reason,
        card_number=body.card_number,
        bank=body.bank,
        note=body.note,
        explanation=body.explanation,
    )


def _source(code: str) -> FundSource:
    source = FundSource.objects.filter(code=code).first()
    if source is None:
        raise ApiError(400, _("没有“{code}”这个资金来源").format(code=code))
    return source


# --- help records -----------------------------------------------------------------------------------------


@router.get(
    f"{UNIT}/records",
    response={200: HelpRecordList, **READ},
    url_name="ledger-records",
    summary="帮扶发放记录列表（号码按权限打码）",
)
def record_list(
    request: HttpRequest,
    filters: Query[RecordFilter],
    campaign_id: int = CampaignId,
    unit_id: int = UnitId,
) -> HelpRecordList:
    user, campaign, unit = _unit_of_campaign(request, campaign_id, unit_id)
    rows = selectors.help_records(campaign, unit, subtree=filters.subtree == "1")
    # A reporter's subtree is its own unit: the units below are not its to see.
    rows = rows.filter(unit__in=units_visible_to(user)).select_related("reversed_by")
    if filters.state:
        rows = rows.filter(state=filters.state)
    if filters.item:
        rows = rows.filter(item__code=filters.item)
    if filters.source:
        rows = rows.filter(source__code=filters.source)
    if filters.channel:
        rows = rows.filter(channel=filters.channel)
    count, records, links = _page(request, rows, filters.page, filters.page_size)
    return HelpRecordList(count=count, **links, results=[record_out(user, record) for record in records])


@router.post(
    f"{UNIT}/records",
    response={200: HelpRecordDetail, **WRITE},
    url_name="ledger-record-add",
    summary="录入发放记录（待审核）",
)
def record_add(
    request: HttpRequest, body: HelpRecordIn, campaign_id: int = CampaignId, unit_id: int = UnitId
) -> HelpRecordDetail:
    user, campaign, unit = _unit_of_campaign(request, campaign_id, unit_id)
    record = services.help_record_add(user=user, campaign=campaign, unit=unit, data=_input(body))
    return record_detail(user, _record(user, record.pk))


@router.get(
    RECORD,
    response={200: HelpRecordDetail, **READ},
    url_name="ledger-record",
    summary="一条发放记录及其变更记录",
)
def record_show(
    request: HttpRequest, response: HttpResponse, query: Query[DetailQuery], record_id: int = RecordId
) -> HelpRecordDetail:
    """With `full=1` the full ID and card numbers, for a user who may see them; each such read is logged
    (the record's history, and the archive's access log for a filed household)."""
    user = user_of(request)
    record = _record(user, record_id)
    if query.full != "1":
        return record_detail(user, record)
    if not may_see_personal_data(user, record.unit):
        raise ApiError(403, _("您无权查看完整的身份证号和卡号"))
    services.numbers_viewed(user=user, record=record, via=PersonalDataView.Via.API)
    add_never_cache_headers(response)  # the full numbers are not kept in any cache
    return record_detail(user, record, full=True)


@router.put(
    RECORD,
    response={200: HelpRecordDetail, **WRITE},
    url_name="ledger-record-edit",
    summary="修改待审核的记录",
)
def record_edit(request: HttpRequest, body: HelpRecordIn, record_id: int = RecordId) -> HelpRecordDetail:
    user = user_of(request)
    record = _record(user, record_id)
    conflict = may_enter_ledger(user, record.unit) and record.state != HelpRecord.State.DRAFT
    try:
        services.help_record_edit(user=user, record=record, data=_input(body))
    except services.LedgerError as error:
        raise _conflict_or_refusal(error, conflict) from None
    return record_detail(user, _record(user, record_id))


@router.delete(
    RECORD, response={200: Message, **WRITE}, url_name="ledger-record-delete", summary="删除待审核的记录"
)
def record_delete(request: HttpRequest, record_id: int = RecordId) -> Message:
    user = user_of(request)
    record = _record(user, record_id)
    conflict = may_enter_ledger(user, record.unit) and record.state != HelpRecord.State.DRAFT
    try:
        services.help_record_delete(user=user, record=record)
    except services.LedgerError as error:
        raise _conflict_or_refusal(error, conflict) from None
    return Message(message=_("已删除第 {pk} 号发放记录").format(pk=record_id))


@router.post(
    f"{RECORD}/approve",
    response={200: HelpRecordDetail, **WRITE},
    url_name="ledger-record-approve",
    summary="审核发放记录（录入人之外的本级或上级审核员）",
)
def record_approve(request: HttpRequest, record_id: int = RecordId) -> HelpRecordDetail:
    user = user_of(request)
    record = _record(user, record_id)
    conflict = may_approve_help(user, record.unit) and record.state != HelpRecord.State.DRAFT
    try:
        services.help_record_approve(user=user, record=record)
    except services.LedgerError as error:
        raise _conflict_or_refusal(error, conflict) from None
    return record_detail(user, _record(user, record_id))


@router.post(
    f"{RECORD}/reverse",
    response={200: HelpRecordDetail, **WRITE},
    url_name="ledger-record-reverse",
    summary="冲销已审核的记录（写明原因；返回冲销记录）",
)
def record_reverse(request: HttpRequest, body: ReasonIn, record_id: int = RecordId) -> HelpRecordDetail:
    user = user_of(request)
    record = _record(user, record_id)
    conflict = may_approve_help(user, record.unit) and (
        record.state != HelpRecord.State.APPROVED
        or record.reverses_id is not None
        or HelpRecord.objects.filter(reverses=record).exists()
        or record.payment == HelpRecord.Payment.IN_BATCH
    )
    try:
        reversal = services.help_record_reverse(user=user, record=record, reason=body.reason)
    except services.LedgerError as error:
        raise _conflict_or_refusal(error, conflict and bool(body.reason.strip())) from None
    return record_detail(user, _record(user, reversal.pk))


#: What a download of the evidence may be, as the 200 of the operation's document says.
EVIDENCE_MEDIA = sorted({*selectors.EVIDENCE_TYPES.values(), "application/octet-stream"})


@router.post(
    f"{RECORD}/evidence",
    response={200: HelpRecordDetail, **WRITE},
    url_name="ledger-record-evidence-upload",
    summary="上传或替换待审核记录的凭证（multipart/form-data，字段 evidence）",
)
def record_evidence_upload(
    request: HttpRequest, evidence: UploadedFile = EvidenceFile, record_id: int = RecordId
) -> HelpRecordDetail:
    """A change of the draft, as the page's form with a file chosen: for whoever may edit it, the file checked
    as the page checks it and the record re-checked by the ledger's rules; a refusal leaves it as it was."""
    user = user_of(request)
    record = _record(user, record_id)
    may_enter = may_enter_ledger(user, record.unit)
    conflict = may_enter and record.state != HelpRecord.State.DRAFT
    # A record the user may not change is refused as a PUT is (403, 409), before the file is looked at.
    upload = evidence if may_enter and not conflict else None
    try:
        services.help_record_edit(user=user, record=record, data=services.input_of(record), evidence=upload)
    except services.LedgerError as error:
        raise _conflict_or_refusal(error, conflict) from None
    return record_detail(user, _record(user, record_id))


@router.get(
    f"{RECORD}/evidence",
    response={200: None, **READ},
    url_name="ledger-record-evidence",
    summary="下载发放记录的凭证文件（附件）",
    openapi_extra={
        "responses": {
            200: {
                "description": "凭证文件，作为附件下载",
                "content": {
                    media: {"schema": {"type": "string", "format": "binary"}} for media in EVIDENCE_MEDIA
                },
            }
        }
    },
)
def record_evidence(request: HttpRequest, record_id: int = RecordId) -> FileResponse:
    """The file as the record page's link gives it (a saved attachment, never shown in place, not cached)."""
    user = user_of(request)
    response = selectors.evidence_download(_record(user, record_id))
    if response is None:
        raise ApiError(404, _("这条发放记录没有凭证文件"))
    return response


# --- money raised and passed down --------------------------------------------------------------------------


@router.get(
    f"{UNIT}/receipts",
    response={200: ReceiptList, **READ},
    url_name="ledger-receipts",
    summary="筹集和下拨资金",
)
def receipt_list(
    request: HttpRequest, filters: Query[ReceiptQuery], campaign_id: int = CampaignId, unit_id: int = UnitId
) -> ReceiptList:
    user, campaign, unit = _unit_of_campaign(request, campaign_id, unit_id)
    rows = selectors.receipts(campaign, unit, subtree=filters.subtree == "1")
    visible = units_visible_to(user)  # what the unit gave to a unit below stays in sight: it is the giver's
    rows = rows.filter(Q(unit__in=visible) | Q(from_unit__in=visible))
    if filters.source:
        rows = rows.filter(source__code=filters.source)
    count, receipts, links = _page(request, rows, filters.page, filters.page_size)
    return ReceiptList(count=count, **links, results=[receipt_out(receipt) for receipt in receipts])


@router.post(
    f"{UNIT}/receipts",
    response={200: ReceiptOut, **WRITE},
    url_name="ledger-receipt-add",
    summary="登记本级筹集的资金",
)
def receipt_add(
    request: HttpRequest, body: ReceiptIn, campaign_id: int = CampaignId, unit_id: int = UnitId
) -> ReceiptOut:
    user, campaign, unit = _unit_of_campaign(request, campaign_id, unit_id)
    if not may_enter_ledger(user, unit):  # before the body's source is looked at: a refusal says nothing
        raise ApiError(403, _("您不能为{unit}登记筹集资金").format(unit=unit.name))
    receipt = services.receipt_add(
        user=user,
        campaign=campaign,
        unit=unit,
        source=_source(body.source),
        amount=body.amount,  # type: ignore[arg-type]  # the schema's validator made it a Decimal
        received_on=dt.date.fromisoformat(body.received_on),
        reference=body.reference,
        note=body.note,
    )
    return receipt_out(receipt)


@router.post(
    f"{UNIT}/allocations",
    response={200: ReceiptOut, **WRITE},
    url_name="ledger-allocate",
    summary="向下级单位下拨资金",
)
def allocation_add(
    request: HttpRequest, body: AllocationIn, campaign_id: int = CampaignId, unit_id: int = UnitId
) -> ReceiptOut:
    user, campaign, giver = _unit_of_campaign(request, campaign_id, unit_id)
    if not may_enter_ledger(user, giver):
        raise ApiError(403, _("您不能从{giver}下拨资金").format(giver=giver.name))
    taker = Unit.objects.filter(pk=body.to_unit).first()
    if taker is None or not taker.is_below(giver):
        raise ApiError(
            400,
            _("to_unit：{giver}的下级单位中没有编号为 {pk} 的单位").format(giver=giver.name, pk=body.to_unit),
        )
    receipt = services.allocate(
        user=user,
        campaign=campaign,
        giver=giver,
        taker=taker,
        source=_source(body.source),
        amount=body.amount,  # type: ignore[arg-type]
        on=dt.date.fromisoformat(body.on),
        reference=body.reference,
    )
    return receipt_out(receipt)


@router.post(
    "/ledger/receipts/{receipt_id}/reverse",
    response={200: ReceiptOut, **WRITE},
    url_name="ledger-receipt-reverse",
    summary="冲销登记错的资金（写明原因）",
)
def receipt_reverse(request: HttpRequest, body: ReasonIn, receipt_id: int = ReceiptId) -> ReceiptOut:
    user = user_of(request)
    receipt = (
        Receipt.objects.select_related("unit", "from_unit", "source", "campaign")
        .filter(pk=receipt_id)
        .first()
    )
    owner = None if receipt is None else (receipt.from_unit or receipt.unit)
    if (
        receipt is None
        or owner is None
        or not (may_see_ledger(user, receipt.unit) or may_see_ledger(user, owner))
    ):
        raise ApiError(404, _("没有这条资金登记"))
    conflict = may_enter_ledger(user, owner) and (
        receipt.reverses_id is not None or Receipt.objects.filter(reverses=receipt).exists()
    )
    try:
        reversal = services.receipt_reverse(user=user, receipt=receipt, reason=body.reason)
    except services.LedgerError as error:
        raise _conflict_or_refusal(error, conflict and bool(body.reason.strip())) from None
    return receipt_out(
        Receipt.objects.select_related("unit", "from_unit", "source", "entered_by").get(pk=reversal.pk)
    )


# --- totals ------------------------------------------------------------------------------------------------


@router.get(
    f"{UNIT}/totals",
    response={200: LedgerTotals, **READ},
    url_name="ledger-totals",
    summary="按资金来源和帮扶项目的合计（本级或含下级）",
)
def totals(
    request: HttpRequest, query: Query[TotalsQuery], campaign_id: int = CampaignId, unit_id: int = UnitId
) -> LedgerTotals:
    user, campaign, unit = _unit_of_campaign(request, campaign_id, unit_id)
    subtree = query.subtree == "1"
    if subtree and not can_see_rollup(user, unit):  # it sums the units below, as a roll-up does
        raise ApiError(403, _("下级单位的合计只有本级或上级的审核员、管理员可以查看"))
    return LedgerTotals(
        campaign_id=campaign.pk,
        unit=NamedRef(id=unit.pk, name=unit.name),
        subtree=subtree,
        by_source=[
            SourceTotalOut(
                source=CodeName(code=row.source.code, name=row.source.name),
                raised=_yuan(row.raised),
                allocated_in=_yuan(row.allocated_in),
                allocated_out=_yuan(row.allocated_out),
                spent=_yuan(row.spent),
                reserved=_yuan(row.reserved),
                left=_yuan(row.left),
            )
            for row in selectors.totals_by_source(campaign, unit, subtree=subtree)
        ],
        by_item=[
            ItemTotalOut(
                item=CodeName(code=row.item.code, name=row.item.name),
                records=row.records,
                amount=_yuan(row.amount),
                goods_value=_yuan(row.goods_value),
            )
            for row in selectors.totals_by_item(campaign, unit, subtree=subtree)
        ],
    )
