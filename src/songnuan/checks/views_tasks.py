"""Rectification tasks (整改) and self-checks (自查) in the browser. Thin views: find the object (404), call
one service (which asks `orgs.permissions`: 403), redirect with a message; a refusal is a message, nothing
written."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from songnuan.campaigns.models import Campaign
from songnuan.checks import rectification, selfcheck
from songnuan.checks.models import Finding, RectificationTask
from songnuan.checks.services import CheckError
from songnuan.checks.views import _user
from songnuan.orgs.models import Unit
from songnuan.orgs.permissions import (
    may_answer_finding,
    may_enter_ledger,
    may_run_self_check,
    may_run_spot_check,
    may_see_ledger,
)


@login_required
@require_GET
def tasks(request: HttpRequest) -> HttpResponse:
    found = rectification.tasks_for_unit(_user(request)).select_related(
        "spot_check", "unit", "sampled__household"
    )
    today = timezone.localdate()
    late = set(rectification.overdue(found, today).values_list("pk", flat=True))
    return render(request, "checks/tasks.html", {"tasks": list(found), "late": late, "today": today})


def _task(request: HttpRequest, task_id: int) -> RectificationTask:
    task = get_object_or_404(
        RectificationTask.objects.select_related("spot_check__unit", "unit", "sampled__household"), pk=task_id
    )
    if not rectification.tasks_for_unit(_user(request)).filter(
        pk=task.pk
    ).exists() and not may_run_spot_check(request.user, task.spot_check.unit):
        raise PermissionDenied(_("您不能查看这项整改任务"))
    return task


@login_required
@require_http_methods(["GET", "POST"])
def task(request: HttpRequest, task_id: int) -> HttpResponse:
    found = _task(request, task_id)
    if request.method == "POST":
        user = _user(request)
        try:
            if "answer" in request.POST:
                rectification.task_answer(
                    user=user,
                    task=found,
                    answer=request.POST.get("text", ""),
                    evidence=request.FILES.get("evidence"),
                )
                messages.success(request, _("已提交整改答复"))
            elif "accept" in request.POST:
                rectification.task_accept(user=user, task=found)
                messages.success(request, _("整改已通过"))
            elif "return" in request.POST:
                rectification.task_return(user=user, task=found, reason=request.POST.get("reason", ""))
                messages.success(request, _("已退回整改"))
        except CheckError as refusal:
            messages.error(request, refusal.message)
        return redirect("checks:task", task_id=found.pk)
    return render(
        request,
        "checks/task.html",
        {
            "task": found,
            "may_answer": may_enter_ledger(request.user, found.unit),
            "may_decide": may_run_spot_check(request.user, found.spot_check.unit),
            "overdue": found.deadline < timezone.localdate()
            and found.state != RectificationTask.State.ACCEPTED,
        },
    )


@login_required
@require_GET
def task_evidence(request: HttpRequest, task_id: int) -> HttpResponse:
    from songnuan.site.downloads import attachment

    found = _task(request, task_id)
    if not found.evidence:
        raise PermissionDenied(_("这项整改任务没有上传材料"))
    name = (found.evidence.name or "").rsplit("/", 1)[-1]
    content_type = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png"}.get(
        name.rsplit(".", 1)[-1], "application/octet-stream"
    )
    with found.evidence.open("rb") as stored:
        return attachment(stored.read(), content_type, name, private=True)


# --- self-checks -------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def self_check(request: HttpRequest, campaign_id: int, unit_id: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    unit = get_object_or_404(Unit, pk=unit_id)
    if not may_see_ledger(request.user, unit):
        raise PermissionDenied(_("您不能查看{unit}的自查").format(unit=unit.name))
    if request.method == "POST":
        done = selfcheck.self_check_run(user=_user(request), campaign=campaign, unit=unit)
        messages.success(request, _("自查完成：发现问题 {n} 项").format(n=done.findings.count()))
        return redirect("checks:self-check", campaign_id=campaign.pk, unit_id=unit.pk)
    summary = selfcheck.latest_summary(campaign, unit)
    findings = list(selfcheck.findings_with_answers(summary.self_check)) if summary is not None else []
    return render(
        request,
        "checks/self_check.html",
        {
            "campaign": campaign,
            "unit": unit,
            "summary": summary,
            "findings": findings,
            "may_run": may_run_self_check(request.user, unit),
            "answerable": {f.pk for f in findings if may_answer_finding(request.user, f.unit)},
        },
    )


@login_required
@require_POST
def finding_answer(request: HttpRequest, finding_id: int) -> HttpResponse:
    finding = get_object_or_404(Finding.objects.select_related("self_check", "unit"), pk=finding_id)
    target = redirect(
        "checks:self-check", campaign_id=finding.self_check.campaign_id, unit_id=finding.self_check.unit_id
    )
    try:
        selfcheck.finding_answer(
            user=_user(request),
            finding=finding,
            state=request.POST.get("state", ""),
            answer=request.POST.get("answer", ""),
        )
    except selfcheck.SelfCheckError as refusal:
        messages.error(request, refusal.message)
        return target
    messages.success(request, _("已答复自查发现"))
    return target
