"""The relief ledger (帮扶台账) in the browser: choosing a campaign and a unit, the unit's totals, its help
records (the list and its Excel, a record with its history, the form, approving and reversing), its money
raised and passed down, and its history.

Thin views, the archive's and the reporting pages' rules: a campaign or unit that does not exist, or a unit
that does not take part, is a 404; a unit whose ledger the user may not see is a 403 (as on the campaign
pages); a record the user may not see is a 404 (its existence is not told, as for a file). Who may do what
is asked of `songnuan.orgs.permissions`; every read goes through `songnuan.ledger.selectors`, every write
through `songnuan.ledger.services`, whose refusals (LedgerError) come back as Chinese messages beside the
fields they concern, PermissionDenied as 403. ID and card numbers are shown as `selectors.shown_*` allow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from songnuan.archive.idnumbers import mask_card, mask_id_number
from songnuan.archive.models import PersonalDataView
from songnuan.archive.services import person_name
from songnuan.campaigns.models import Campaign
from songnuan.campaigns.selectors import unit_takes_part
from songnuan.formkit.excel_writer import XLSX
from songnuan.ledger import exports, selectors, services
from songnuan.ledger.forms import (
    AllocationForm,
    ExplanationForm,
    HelpRecordForm,
    ReasonForm,
    ReceiptForm,
    RecordFilterForm,
    record_initial,
)
from songnuan.ledger.models import HelpRecord, LedgerEvent, Receipt
from songnuan.orgs.models import Unit
from songnuan.orgs.permissions import (
    can_see_rollup,
    may_allocate,
    may_approve_help,
    may_enter_ledger,
    may_see_ledger,
    may_see_personal_data,
)
from songnuan.site.downloads import attachment

PER_PAGE = 50


# --- lookups (the other ledger pages may use these too) ---------------------------------------------------


def user_of(request: HttpRequest) -> User:
    if not isinstance(request.user, User):  # login_required has already sent anonymous visitors away
        raise PermissionDenied
    return request.user


def campaign_unit(request: HttpRequest, campaign_id: int, unit_id: int) -> tuple[Campaign, Unit]:
    """The campaign and the unit of a ledger page: 404 when either does not exist or the unit takes no part
    in the campaign, 403 when the user may not see the unit's ledger."""
    campaign = get_object_or_404(Campaign.objects.select_related("owner"), pk=campaign_id)
    unit = get_object_or_404(Unit, pk=unit_id)
    if not may_see_ledger(request.user, unit):
        raise PermissionDenied
    if not unit_takes_part(campaign, unit):
        raise Http404
    return campaign, unit


def _record(request: HttpRequest, pk: int) -> HelpRecord:
    """The record, or 404 when it does not exist or the user may not see it (the same answer for both)."""
    record = selectors.record_visible(user_of(request), pk)
    if record is None:
        raise Http404
    return record


def _record_url(record: HelpRecord) -> str:
    return reverse("ledger:record", args=[record.pk])


def unit_context(user: User, campaign: Campaign, unit: Unit) -> dict[str, Any]:
    """What the ledger's navigation (templates/ledger/_nav.html) needs on every unit page."""
    return {
        "campaign": campaign,
        "unit": unit,
        "may_enter": may_enter_ledger(user, unit),
        "may_review": can_see_rollup(user, unit),
    }


# --- choosing a campaign and a unit ----------------------------------------------------------------------


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Choose a campaign and a unit; with both chosen (and allowed), go to the unit's overview."""
    user = user_of(request)
    campaigns = selectors.ledger_campaigns(user)
    chosen = request.GET.get("campaign", "")
    campaign = next((c for c in campaigns if str(c.pk) == chosen), None) or (
        campaigns[0] if campaigns else None
    )
    units = selectors.ledger_units(user, campaign) if campaign is not None else []
    unit_id = request.GET.get("unit", "")
    unit = next((u for u in units if str(u.pk) == unit_id), None)
    if campaign is not None and unit is not None:
        return redirect("ledger:overview", campaign.pk, unit.pk)
    account = getattr(user, "account", None)
    own = next((u for u in units if account is not None and u.pk == account.unit_id), None)
    return render(
        request,
        "ledger/home.html",
        {"campaigns": campaigns, "campaign": campaign, "units": units, "own": own},
    )


# --- a unit's overview -----------------------------------------------------------------------------------


@login_required
@require_GET
def overview(request: HttpRequest, campaign_id: int, unit_id: int) -> HttpResponse:
    campaign, unit = campaign_unit(request, campaign_id, unit_id)
    user = user_of(request)
    context = unit_context(user, campaign, unit)
    sections = [(_("本单位"), _totals(campaign, unit, subtree=False))]
    if context["may_review"] and selectors.units_below(unit).exists():
        sections.append((_("本单位及下级单位合计"), _totals(campaign, unit, subtree=True)))
    records = selectors.help_records(campaign, unit)
    context.update(
        {
            "sections": sections,
            "drafts": records.filter(state=HelpRecord.State.DRAFT).count(),
            "with_warnings": records.filter(state=HelpRecord.State.DRAFT).exclude(warnings=[]).count(),
        }
    )
    return render(request, "ledger/overview.html", context)


@dataclass
class Totals:
    by_source: list[selectors.SourceTotals]
    by_item: list[selectors.ItemTotals]

    @property
    def source_sum(self) -> dict[str, Any]:
        names = ("raised", "allocated_in", "allocated_out", "spent", "reserved", "left")
        return {name: sum((getattr(row, name) for row in self.by_source), start=0) for name in names}

    @property
    def item_sum(self) -> dict[str, Any]:
        return {
            "records": sum(row.records for row in self.by_item),
            "amount": sum((row.amount for row in self.by_item), start=0),
            "goods_value": sum((row.goods_value for row in self.by_item), start=0),
        }


def _totals(campaign: Campaign, unit: Unit, *, subtree: bool) -> Totals:
    return Totals(
        selectors.totals_by_source(campaign, unit, subtree=subtree),
        selectors.totals_by_item(campaign, unit, subtree=subtree),
    )


# --- the records list and its export ---------------------------------------------------------------------


@dataclass
class RecordRow:
    record: HelpRecord
    id_number: str
    card_number: str


def _rows(user: User, records: Any) -> list[RecordRow]:
    return [
        RecordRow(r, selectors.shown_id_number(user, r), selectors.shown_card_number(user, r))
        for r in records
    ]


def _filtered(request: HttpRequest, campaign: Campaign, unit: Unit) -> tuple[RecordFilterForm, Any]:
    user = user_of(request)
    form = RecordFilterForm(request.GET or None, may_subtree=can_see_rollup(user, unit))
    return form, selectors.filtered_records(campaign, unit, form.chosen())


@login_required
@require_GET
def records(request: HttpRequest, campaign_id: int, unit_id: int) -> HttpResponse:
    campaign, unit = campaign_unit(request, campaign_id, unit_id)
    user = user_of(request)
    form, found = _filtered(request, campaign, unit)
    page = Paginator(found, PER_PAGE).get_page(request.GET.get("page"))
    context = unit_context(user, campaign, unit)
    context.update(
        {"form": form, "page": page, "rows": _rows(user, page), "sums": selectors.record_sums(found)}
    )
    return render(request, "ledger/records.html", context)


@login_required
@require_GET
def records_export(request: HttpRequest, campaign_id: int, unit_id: int) -> HttpResponse:
    """The list as filtered, in Excel; numbers as the list shows them."""
    campaign, unit = campaign_unit(request, campaign_id, unit_id)
    user = user_of(request)
    _form, found = _filtered(request, campaign, unit)
    data = exports.records_xlsx(
        found.iterator(chunk_size=2000),
        title=_("{unit}帮扶发放记录").format(unit=unit.name),
        id_number=lambda r: selectors.shown_id_number(user, r),
        card_number=lambda r: selectors.shown_card_number(user, r),
    )
    return attachment(
        data,
        XLSX,
        _("帮扶发放记录_{unit}_{date}.xlsx").format(unit=unit.name, date=timezone.localdate()),
        private=True,
    )


# --- the record form -------------------------------------------------------------------------------------


def _place_problems(form: HelpRecordForm, refusal: services.LedgerError) -> None:
    """Each broken rule beside its field; the ones of the whole record (and a refusal without a list) on
    top."""
    if not refusal.problems:
        form.add_error(None, refusal.message)
        return
    form.add_error(None, _("发放记录不能保存，请按提示修改（这次尝试已记入台账变更记录）"))
    for problem in refusal.problems:
        field = problem.field if problem.field in form.fields else None
        form.add_error(field, problem.message)


def _record_form(
    request: HttpRequest, campaign: Campaign, unit: Unit, record: HelpRecord | None
) -> HttpResponse:
    """The form of a new record or of a draft's edit: "查找" (a button named find) searches the archive and
    comes back with the input kept; saving calls the service and shows its refusals beside the fields."""
    user = user_of(request)
    if not may_enter_ledger(user, unit):
        raise PermissionDenied
    posted = request.method == "POST"
    source = request.POST if posted else request.GET
    finding = posted and "find" in request.POST
    households = selectors.households_of(user, unit)
    candidates = selectors.household_choices(user, unit, source.get("household_q", ""))
    chosen_id = str(source.get("household") or (record.household_id if record is not None else "") or "")
    chosen = households.filter(pk=int(chosen_id)).first() if chosen_id.isdigit() else None
    if chosen is not None and chosen not in candidates:
        candidates.insert(0, chosen)
    initial: dict[str, Any] = (
        record_initial(record) if record is not None else {"paid_on": timezone.localdate()}
    )
    if chosen is not None:
        initial["household"] = chosen.pk
    if finding:  # a search: the input kept as it was typed, nothing checked yet
        form = HelpRecordForm(
            initial={**initial, **request.POST.dict()}, households=households, candidates=candidates
        )
    else:
        form = HelpRecordForm(
            request.POST if posted else None,
            request.FILES if posted else None,
            initial=initial,
            households=households,
            candidates=candidates,
        )
    if posted and not finding and form.is_valid():
        data = form.help_input()
        evidence = form.cleaned_data.get("evidence") or None
        try:
            if record is None:
                saved = services.help_record_add(
                    user=user, campaign=campaign, unit=unit, data=data, evidence=evidence
                )
            else:
                _keep_numbers(record, data)
                saved = services.help_record_edit(user=user, record=record, data=data, evidence=evidence)
        except services.LedgerError as refusal:
            _place_problems(form, refusal)
        else:
            _saved_message(request, saved, new=record is None)
            return redirect(_record_url(saved))
    return render(
        request,
        "ledger/record_form.html",
        {
            **unit_context(user, campaign, unit),
            "form": form,
            "record": record,
            "searched": bool(source.get("household_q", "").strip()),
        },
        status=400 if posted and not finding else 200,
    )


def _keep_numbers(record: HelpRecord, data: services.HelpInput) -> None:
    """A draft's edit form does not show its numbers: blank keeps the person's ID number and the card."""
    if not data.id_number and data.recipient_kind == HelpRecord.RecipientKind.PERSON == record.recipient_kind:
        data.id_number = record.id_number
    if not data.card_number and record.card_number and data.household_id == record.household_id:
        data.card_number = record.card_number


def _saved_message(request: HttpRequest, record: HelpRecord, *, new: bool) -> None:
    done = _("已录入“{name}”的发放记录，待审核") if new else _("已保存对“{name}”发放记录的修改")
    messages.success(request, done.format(name=record.name))
    if record.warnings and not record.explanation.strip():
        messages.warning(
            request, _("这条记录有 {n} 条提醒，请写明情况说明，否则不能审核").format(n=len(record.warnings))
        )


@login_required
@require_http_methods(["GET", "POST"])
def record_new(request: HttpRequest, campaign_id: int, unit_id: int) -> HttpResponse:
    campaign, unit = campaign_unit(request, campaign_id, unit_id)
    return _record_form(request, campaign, unit, None)


@login_required
@require_http_methods(["GET", "POST"])
def record_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """A draft's edit page; a POST of the explanation alone (the record page's form) keeps the rest."""
    record = _record(request, pk)
    user = user_of(request)
    if not may_enter_ledger(user, record.unit):
        raise PermissionDenied
    if record.state != HelpRecord.State.DRAFT:
        messages.error(request, _("这条记录已审核，不能修改：如有错误请由审核人冲销后重新录入"))
        return redirect(_record_url(record))
    if request.method == "POST" and "explanation_only" in request.POST:
        form = ExplanationForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("请写明情况说明"))
            return redirect(_record_url(record))
        data = services.input_of(record)
        data.explanation = form.cleaned_data["explanation"]
        try:
            services.help_record_edit(user=user, record=record, data=data)
        except services.LedgerError as refusal:
            messages.error(request, refusal.message)
        else:
            messages.success(request, _("已保存情况说明，可以提交审核"))
        return redirect(_record_url(record))
    return _record_form(request, record.campaign, record.unit, record)


# --- a record, its actions and its evidence ---------------------------------------------------------------


@login_required
@require_GET
def record_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _record_page(request, _record(request, pk), full=False)


@login_required
@require_POST
@never_cache  # the full numbers are not kept in the browser's cache
def record_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """The record with its full ID and card numbers (its history too), for a user who may see them: logged."""
    record = _record(request, pk)
    services.numbers_viewed(user=user_of(request), record=record, via=PersonalDataView.Via.PAGE)
    return _record_page(request, record, full=True)


def _record_page(request: HttpRequest, record: HelpRecord, *, full: bool) -> HttpResponse:
    user = user_of(request)
    draft = record.state == HelpRecord.State.DRAFT
    may_enter = may_enter_ledger(user, record.unit)
    reversal = HelpRecord.objects.filter(reverses=record).first()
    may_reverse = (
        record.state == HelpRecord.State.APPROVED
        and record.reverses_id is None
        and reversal is None
        and may_approve_help(user, record.unit)
    )
    return render(
        request,
        "ledger/record.html",
        {
            **unit_context(user, record.campaign, record.unit),
            "record": record,
            "id_number": selectors.shown_id_number(user, record, full=full),
            "card_number": selectors.shown_card_number(user, record, full=full),
            "may_reveal": not full
            and bool(record.id_number or record.card_number)
            and may_see_personal_data(user, record.unit),
            "reversal": reversal,
            "may_edit": draft and may_enter,
            "may_approve_help": may_approve_help(user, record.unit),
            "approve_refusal": services.approve_refusal(user, record) if draft else None,
            "may_reverse": may_reverse,
            "explanation_form": ExplanationForm(initial={"explanation": record.explanation}),
            "reason_form": ReasonForm(),
            "rows": history_rows(selectors.record_events(record), full=full),
            "full": full,
        },
    )


@login_required
@require_POST
def record_delete(request: HttpRequest, pk: int) -> HttpResponse:
    record = _record(request, pk)
    user = user_of(request)
    try:
        services.help_record_delete(user=user, record=record)
    except services.LedgerError as refusal:
        messages.error(request, refusal.message)
        return redirect(_record_url(record))
    messages.success(request, _("已删除“{name}”的发放记录（修改记录中保留）").format(name=record.name))
    return redirect("ledger:records", record.campaign_id, record.unit_id)


@login_required
@require_POST
def record_approve(request: HttpRequest, pk: int) -> HttpResponse:
    record = _record(request, pk)
    try:
        services.help_record_approve(user=user_of(request), record=record)
    except services.LedgerError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, _("已审核“{name}”的发放记录").format(name=record.name))
    return redirect(_record_url(record))


@login_required
@require_POST
def record_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    record = _record(request, pk)
    user = user_of(request)
    if not may_approve_help(user, record.unit):
        raise PermissionDenied
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("冲销须写明原因"))
        return redirect(_record_url(record))
    try:
        reversal = services.help_record_reverse(user=user, record=record, reason=form.cleaned_data["reason"])
    except services.LedgerError as refusal:
        messages.error(request, refusal.message)
        return redirect(_record_url(record))
    messages.success(request, _("已冲销“{name}”的发放记录").format(name=record.name))
    return redirect(_record_url(reversal))


@login_required
@require_GET
def record_evidence(request: HttpRequest, pk: int) -> FileResponse:
    """The evidence, to whoever sees the record: through this view only, never a public media address."""
    response = selectors.evidence_download(_record(request, pk))
    if response is None:
        raise Http404
    return response


# --- money raised and passed down ------------------------------------------------------------------------


@dataclass
class ReceiptRow:
    receipt: Receipt
    reversed: bool
    may_reverse: bool
    outgoing: bool  # an allocation this unit gave


def _receipt_rows(user: User, unit: Unit, rows: list[Receipt]) -> list[ReceiptRow]:
    reversed_ids = set(
        Receipt.objects.filter(reverses__in=[r.pk for r in rows]).values_list("reverses_id", flat=True)
    )
    result = []
    for receipt in rows:
        outgoing = receipt.kind == Receipt.Kind.ALLOCATION and receipt.from_unit_id == unit.pk
        owner = receipt.from_unit if receipt.kind == Receipt.Kind.ALLOCATION else receipt.unit
        standing = receipt.reverses_id is None and receipt.pk not in reversed_ids
        may = standing and owner is not None and owner.pk == unit.pk and may_enter_ledger(user, owner)
        result.append(ReceiptRow(receipt, receipt.pk in reversed_ids, may, outgoing))
    return result


def _receipts_page(
    request: HttpRequest,
    campaign: Campaign,
    unit: Unit,
    *,
    receipt_form: ReceiptForm | None = None,
    allocation_form: AllocationForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = user_of(request)
    takers = selectors.units_below(unit)
    may_enter = may_enter_ledger(user, unit)
    may_give = may_enter and takers.exists()
    today = timezone.localdate()
    return render(
        request,
        "ledger/receipts.html",
        {
            **unit_context(user, campaign, unit),
            "rows": _receipt_rows(user, unit, list(selectors.receipts(campaign, unit))),
            "receipt_form": receipt_form or ReceiptForm(prefix="receipt", initial={"received_on": today}),
            "allocation_form": allocation_form
            or AllocationForm(prefix="allocation", takers=takers, initial={"on": today}),
            "may_give": may_give,
            "reason_form": ReasonForm(),
            "by_source": selectors.totals_by_source(campaign, unit),
        },
        status=status,
    )


@login_required
@require_GET
def receipts(request: HttpRequest, campaign_id: int, unit_id: int) -> HttpResponse:
    campaign, unit = campaign_unit(request, campaign_id, unit_id)
    return _receipts_page(request, campaign, unit)


@login_required
@require_POST
def receipt_add(request: HttpRequest, campaign_id: int, unit_id: int) -> HttpResponse:
    campaign, unit = campaign_unit(request, campaign_id, unit_id)
    user = user_of(request)
    if not may_enter_ledger(user, unit):
        raise PermissionDenied
    form = ReceiptForm(request.POST, prefix="receipt")
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.receipt_add(
                user=user,
                campaign=campaign,
                unit=unit,
                source=data["source"],
                amount=data["amount"],
                received_on=data["received_on"],
                reference=data["reference"],
                note=data["note"],
            )
        except services.LedgerError as refusal:
            form.add_error(None, refusal.message)
        else:
            messages.success(
                request,
                _("已登记筹集资金：{source} {amount} 元").format(
                    source=data["source"].name, amount=data["amount"]
                ),
            )
            return redirect("ledger:receipts", campaign.pk, unit.pk)
    return _receipts_page(request, campaign, unit, receipt_form=form, status=400)


@login_required
@require_POST
def allocation_add(request: HttpRequest, campaign_id: int, unit_id: int) -> HttpResponse:
    campaign, unit = campaign_unit(request, campaign_id, unit_id)
    user = user_of(request)
    if not may_enter_ledger(user, unit):
        raise PermissionDenied
    form = AllocationForm(request.POST, prefix="allocation", takers=selectors.units_below(unit))
    if form.is_valid():
        data = form.cleaned_data
        if not may_allocate(user, unit, data["taker"]):
            raise PermissionDenied
        try:
            services.allocate(
                user=user,
                campaign=campaign,
                giver=unit,
                taker=data["taker"],
                source=data["source"],
                amount=data["amount"],
                on=data["on"],
                reference=data["reference"],
            )
        except services.LedgerError as refusal:
            form.add_error("amount", refusal.message)
        else:
            messages.success(
                request,
                _("已向{taker}下拨{source} {amount} 元").format(
                    taker=data["taker"].name, source=data["source"].name, amount=data["amount"]
                ),
            )
            return redirect("ledger:receipts", campaign.pk, unit.pk)
    return _receipts_page(request, campaign, unit, allocation_form=form, status=400)


@login_required
@require_POST
def receipt_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    receipt = selectors.receipt_visible(user_of(request), pk)
    if receipt is None:
        raise Http404
    owner = receipt.from_unit if receipt.kind == Receipt.Kind.ALLOCATION else receipt.unit
    assert owner is not None
    back = redirect("ledger:receipts", receipt.campaign_id, owner.pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        if not may_enter_ledger(user_of(request), owner):
            raise PermissionDenied
        messages.error(request, _("冲销须写明原因"))
        return back
    try:
        services.receipt_reverse(user=user_of(request), receipt=receipt, reason=form.cleaned_data["reason"])
    except services.LedgerError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, _("已冲销这条资金登记"))
    return back


@login_required
@require_GET
def receipts_export(request: HttpRequest, campaign_id: int, unit_id: int) -> HttpResponse:
    campaign, unit = campaign_unit(request, campaign_id, unit_id)
    data = exports.receipts_xlsx(
        selectors.receipts(campaign, unit), title=_("{unit}筹集和下拨资金").format(unit=unit.name)
    )
    return attachment(
        data,
        XLSX,
        _("筹集和下拨资金_{unit}_{date}.xlsx").format(unit=unit.name, date=timezone.localdate()),
        private=True,
    )


# --- the history -----------------------------------------------------------------------------------------


@dataclass
class HistoryChange:
    field: str
    label: str
    old: str
    new: str


@dataclass
class HistoryRow:
    event: LedgerEvent
    who: str
    changes: list[HistoryChange]


_MASKS: dict[str, Callable[[str], str]] = {"id_number": mask_id_number, "card_number": mask_card}


def _label_and_choices(event: LedgerEvent, name: str) -> tuple[str, dict[str, str]]:
    model: type[Any] = (
        Receipt if event.receipt_id is not None or event.action in _RECEIPT_ACTIONS else HelpRecord
    )
    if name == "reversal":
        return _("冲销记录编号"), {}
    if name == "household_id":
        name = "household"
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        try:
            field = HelpRecord._meta.get_field(name)
        except FieldDoesNotExist:
            return name, {}
    choices = {str(value): str(label) for value, label in (getattr(field, "choices", None) or [])}
    return str(getattr(field, "verbose_name", name)), choices


_RECEIPT_ACTIONS = {
    LedgerEvent.Action.RECEIPT_ADDED,
    LedgerEvent.Action.ALLOCATED,
    LedgerEvent.Action.RECEIPT_REVERSED,
}


def _shown(name: str, value: str, choices: dict[str, str], full: bool) -> str:
    if not value:
        return ""
    mask = _MASKS.get(name)
    if mask is not None and not full:
        return mask(value) if "*" not in value else value
    return choices.get(value, value)


def history_rows(events: Any, *, full: bool) -> list[HistoryRow]:
    """Each event with who (the person's name), and each field's old → new, numbers masked unless `full`."""
    rows = []
    for event in events:
        changes = []
        for name in [*event.new, *(key for key in event.old if key not in event.new)]:
            label, choices = _label_and_choices(event, name)
            changes.append(
                HistoryChange(
                    name,
                    label,
                    _shown(name, str(event.old.get(name, "")), choices, full),
                    _shown(name, str(event.new.get(name, "")), choices, full),
                )
            )
        rows.append(HistoryRow(event, person_name(event.user) if event.user else "", changes))
    return rows


@login_required
@require_GET
@never_cache
def history(request: HttpRequest, campaign_id: int, unit_id: int) -> HttpResponse:
    """Every change to the unit's ledger in the campaign, refused attempts included."""
    campaign, unit = campaign_unit(request, campaign_id, unit_id)
    user = user_of(request)
    only_refused = request.GET.get("refused") == "1"
    events = selectors.unit_events(campaign, unit)
    if only_refused:
        events = events.filter(action=LedgerEvent.Action.REFUSED)
    page = Paginator(events, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "ledger/history.html",
        {
            **unit_context(user, campaign, unit),
            "page": page,
            "rows": history_rows(page, full=False),  # the full numbers: on a record's page, logged
            "only_refused": only_refused,
        },
    )
