"""Bank payment batches (批量代发) in the browser: a unit's batches and its queue, a new batch, a batch's page
(issued / sent / paid / failed, its lines, its history), the bank file (.xlsx, CSV in GBK), marking it sent,
and the bank's return file.

Thin views over `songnuan.ledger.batches`. Who may see a unit's batches is `may_see_ledger` (a batch the user
may not see is a 404); making, sending, reconciling and downloading the bank file ask `may_approve_help` in
the service, and the bank file (full card and ID numbers) `may_see_personal_data` too: a refusal is a 403
with its Chinese reason.
"""

from __future__ import annotations

from typing import IO, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from songnuan.campaigns.models import Campaign
from songnuan.formkit.excel_writer import XLSX
from songnuan.ledger import batches
from songnuan.ledger.models import PaymentBatch
from songnuan.ledger.services import LedgerError
from songnuan.ledger.views import unit_context
from songnuan.orgs.models import Unit
from songnuan.orgs.permissions import may_approve_help, may_see_ledger, may_see_personal_data
from songnuan.site.downloads import attachment


class BatchForm(forms.Form):
    bank_format = forms.ChoiceField(label=gettext_lazy("银行文件格式"), choices=())
    purpose = forms.CharField(
        label=gettext_lazy("用途"), max_length=50, required=False, initial="送温暖慰问金"
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["bank_format"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = batches.bank_format_choices()


class ReturnFileForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("银行回盘文件（.xlsx、.xls 或 .csv）"))


def _user(request: HttpRequest) -> User:
    if not isinstance(request.user, User):  # login_required has sent anonymous visitors away
        raise PermissionDenied
    return request.user


def _batch(request: HttpRequest, batch_id: int) -> PaymentBatch:
    batch = batches.batch_of(_user(request), batch_id)
    if batch is None:
        raise Http404
    return batch


@login_required
@require_http_methods(["GET", "POST"])
def batch_list(request: HttpRequest, campaign_id: int, unit_id: int) -> HttpResponse:
    """The unit's batches and the payments waiting for one; POST makes a new batch of them."""
    user = _user(request)
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    unit = get_object_or_404(Unit, pk=unit_id)
    if not may_see_ledger(user, unit):
        raise PermissionDenied(_("您不能查看{unit}的台账").format(unit=unit.name))
    posted = request.method == "POST"
    form = BatchForm(request.POST if posted else None)
    if posted:
        if not may_approve_help(user, unit):
            raise PermissionDenied(_("只有本单位或上级单位的审核员可以生成代发批次"))
        if form.is_valid():
            try:
                batch = batches.batch_create(
                    user=user,
                    campaign=campaign,
                    unit=unit,
                    bank_format=form.cleaned_data["bank_format"],
                    purpose=form.cleaned_data["purpose"],
                )
            except LedgerError as refusal:
                form.add_error(None, refusal.message)
            else:
                messages.success(request, _("已生成代发批次 {number}").format(number=batch.number))
                return redirect("ledger:batch-detail", batch.pk)
    return render(
        request,
        "ledger/batches/list.html",
        {
            **unit_context(user, campaign, unit),
            "batches": batches.batches(campaign, unit),
            "queue": batches.queue_summary(campaign, unit),
            "form": form,
            "may_manage": may_approve_help(user, unit),
        },
        status=400 if posted else 200,
    )


def _detail(
    request: HttpRequest, batch: PaymentBatch, upload: ReturnFileForm | None = None, status: int = 200
) -> HttpResponse:
    user = _user(request)
    return render(
        request,
        "ledger/batches/detail.html",
        {
            "batch": batch,
            "summary": batches.batch_summary(batch),
            "lines": batches.batch_lines_shown(user, batch),
            "events": batches.batch_events(batch),
            "full": may_see_personal_data(user, batch.unit),
            "may_manage": may_approve_help(user, batch.unit),
            "may_send": batches.batch_allows(batch, "send"),
            "may_cancel": batches.batch_allows(batch, "cancel"),
            "export_refusal": batches.export_refusal(user, batch),
            "reconcile_refusal": batches.reconcile_refusal(user, batch),
            "upload": upload or ReturnFileForm(),
        },
        status=status,
    )


@login_required
@require_GET
def batch_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    return _detail(request, _batch(request, batch_id))


@login_required
@require_GET
def batch_export_xlsx(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _batch(request, batch_id)
    try:
        data = batches.batch_export_xlsx(user=_user(request), batch=batch)
    except LedgerError as refusal:
        messages.error(request, refusal.message)
        return redirect("ledger:batch-detail", batch.pk)
    # full card and ID numbers: kept by no cache
    return attachment(data, XLSX, _("代发文件_{number}.xlsx").format(number=batch.number), private=True)


@login_required
@require_GET
def batch_export_csv(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _batch(request, batch_id)
    try:
        data = batches.batch_export_csv(user=_user(request), batch=batch)
    except LedgerError as refusal:
        messages.error(request, refusal.message)
        return redirect("ledger:batch-detail", batch.pk)
    name = _("代发文件_{number}.csv").format(number=batch.number)
    return attachment(data, "text/csv; charset=gbk", name, private=True)


@login_required
@require_POST
def batch_send(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _batch(request, batch_id)
    try:
        batches.batch_mark_sent(user=_user(request), batch=batch)
    except LedgerError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, _("批次 {number} 已标记为送银行").format(number=batch.number))
    return redirect("ledger:batch-detail", batch.pk)


@login_required
@require_POST
def batch_cancel(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _batch(request, batch_id)
    try:
        batches.batch_cancel(user=_user(request), batch=batch, reason=request.POST.get("reason", ""))
    except LedgerError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(
            request,
            _("批次 {number} 已作废，其中的款项已回到待发放队列").format(number=batch.number),
        )
    return redirect("ledger:batch-detail", batch.pk)


@login_required
@require_POST
def batch_reconcile(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _batch(request, batch_id)
    user = _user(request)
    if not may_approve_help(user, batch.unit):
        raise PermissionDenied(_("只有本单位或上级单位的审核员可以导入银行回盘文件"))
    upload = ReturnFileForm(request.POST, request.FILES)
    if upload.is_valid():
        file = upload.cleaned_data["file"]
        file.seek(0)
        try:
            done = batches.batch_reconcile(
                user=user, batch=batch, file_name=file.name or "", stream=cast(IO[bytes], file)
            )
        except LedgerError as refusal:
            upload.add_error("file", refusal.message)
        else:
            messages.success(
                request,
                _("回盘已对账：成功 {paid} 笔 {paid_total} 元，失败 {failed} 笔 {failed_total} 元").format(
                    paid=done.paid.count,
                    paid_total=done.paid.total,
                    failed=done.failed.count,
                    failed_total=done.failed.total,
                ),
            )
            if done.failed.count:
                messages.info(request, _("失败的款项已回到待发放队列，可生成新批次重新代发"))
            if done.still_pending:
                messages.warning(
                    request,
                    _("回盘文件未包含 {n} 笔，这些款项仍待银行回盘").format(n=done.still_pending),
                )
            for text in done.unmatched:
                messages.warning(request, text)
            return redirect("ledger:batch-detail", batch.pk)
    return _detail(request, batches.batch_of(user, batch.pk) or batch, upload, status=400)
