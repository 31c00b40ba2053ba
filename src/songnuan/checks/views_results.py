"""A spot check's bulletin (通报: the printable page, .xlsx, .docx) and its publication, which opens the
rectification tasks. Thin views: the check's visibility and the permission are asked of `orgs.permissions`
(through the services), the rest is one call."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from songnuan.checks import bulletin as bulletins
from songnuan.checks import rectification
from songnuan.checks.models import CheckEvent, SpotCheck
from songnuan.checks.services import CheckError
from songnuan.checks.views import _check, _user
from songnuan.formkit.excel_writer import XLSX
from songnuan.site.downloads import attachment

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _bulletin(check: SpotCheck) -> bulletins.Bulletin:
    """The bulletin as issued: dated when published, naming the tasks' deadline."""
    deadline = check.tasks.aggregate(latest=Max("deadline"))["latest"]
    event = check.events.filter(action=CheckEvent.Action.PUBLISHED).order_by("-at").first()
    issued = timezone.localdate(event.at) if event is not None else None  # China's date, not UTC's
    return bulletins.bulletin(check, issued_on=issued, deadline=deadline)


@login_required
@require_GET
def bulletin(request: HttpRequest, check_id: int) -> HttpResponse:
    check = _check(request, check_id)
    issued = _bulletin(check)
    return render(
        request, "checks/bulletin.html", {"check": check, "bulletin": issued, "bars": bulletins.chart(issued)}
    )


@login_required
@require_GET
def bulletin_xlsx(request: HttpRequest, check_id: int) -> HttpResponse:
    issued = _bulletin(_check(request, check_id))
    return attachment(bulletins.bulletin_xlsx(issued), XLSX, bulletins.bulletin_filename(issued, "xlsx"))


@login_required
@require_GET
def bulletin_docx(request: HttpRequest, check_id: int) -> HttpResponse:
    issued = _bulletin(_check(request, check_id))
    return attachment(bulletins.bulletin_docx(issued), DOCX, bulletins.bulletin_filename(issued, "docx"))


@login_required
@require_POST
def publish(request: HttpRequest, check_id: int) -> HttpResponse:
    check = _check(request, check_id)
    try:
        deadline = dt.date.fromisoformat(request.POST.get("deadline", "").strip())
    except ValueError:
        messages.error(request, _("请填写整改期限（日期，如 2018-03-15）"))
        return redirect("checks:detail", check_id=check.pk)
    try:
        tasks = rectification.spot_check_publish(user=_user(request), spot_check=check, deadline=deadline)
    except CheckError as refusal:
        messages.error(request, refusal.message)
        return redirect("checks:detail", check_id=check.pk)
    messages.success(request, _("已发布通报，生成整改任务 {n} 项").format(n=len(tasks)))
    return redirect("checks:bulletin", check_id=check.pk)
