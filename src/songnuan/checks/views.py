"""The spot check's pages: the checks one may see, drawing a sample (the plan shown first), a check's
progress and results, the call sheet (full phone numbers, each view logged) and one household's calls and
answers.

Thin views: find the check or household (404), ask `orgs.permissions` (403), call one service or selector,
render or redirect with a message. Every page needs a login.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from songnuan.campaigns.models import Campaign
from songnuan.checks import exports, rectification, selectors, services, stats
from songnuan.checks.forms import AnswersForm, CallForm, DrawForm
from songnuan.checks.models import RectificationTask, SampledHousehold, SpotCheck
from songnuan.formkit.excel_writer import XLSX
from songnuan.orgs.permissions import account_of, may_call_households, may_run_spot_check, may_see_spot_check
from songnuan.site.downloads import attachment


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # every view here needs a login
    return request.user


def _check(request: HttpRequest, check_id: int) -> SpotCheck:
    check = get_object_or_404(SpotCheck.objects.select_related("unit", "campaign"), pk=check_id)
    if not may_see_spot_check(request.user, check.unit):
        raise PermissionDenied(_("您不能查看这次抽查"))
    return check


def _caller_check(request: HttpRequest, check_id: int) -> SpotCheck:
    check = get_object_or_404(SpotCheck.objects.select_related("unit", "campaign"), pk=check_id)
    if not may_call_households(request.user, check.unit):
        raise PermissionDenied(_("只有{unit}的核查员可以查看核查表").format(unit=check.unit.name))
    return check


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    account = account_of(request.user)
    campaigns = list(Campaign.objects.order_by("-period_start", "-pk"))
    checks = {
        campaign.pk: list(selectors.checks_visible_to(request.user, campaign)) for campaign in campaigns
    }
    may_run = account is not None and may_run_spot_check(request.user, account.unit)
    overdue = rectification.overdue(
        rectification.tasks_for_unit(_user(request)), timezone.localdate()
    ).count()
    return render(
        request,
        "checks/home.html",
        {
            "lines": [(campaign, checks[campaign.pk]) for campaign in campaigns],
            "may_run": may_run,
            "own_unit": account.unit if account is not None else None,
            "overdue": overdue,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def new(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    account = account_of(request.user)
    if account is None or not may_run_spot_check(request.user, account.unit):
        raise PermissionDenied(_("只有本单位的审核员或管理员可以组织抽查"))
    unit = account.unit
    form = DrawForm(
        request.POST or None, initial={"title": _("{title}电话抽查").format(title=campaign.title[:40])}
    )
    planned = None
    if request.method == "POST" and form.is_valid():
        try:
            if "draw" in request.POST:
                check = services.spot_check_draw(user=_user(request), request=form.request(campaign, unit))
                messages.success(
                    request,
                    _("已抽取样本：抽样框{frame}户，抽中{n}户，随机种子{seed}").format(
                        frame=check.frame_size, n=sum(s.taken for s in check.strata.all()), seed=check.seed
                    ),
                )
                return redirect("checks:detail", check_id=check.pk)
            planned = services.plan(form.request(campaign, unit))
        except services.CheckError as refusal:
            if refusal.field and refusal.field in form.fields:
                form.add_error(refusal.field, refusal.message)
            else:
                form.add_error(None, refusal.message)
    lines = (
        [
            (planned.frame.units[key], plan)
            for key, plan in sorted(planned.strata.items(), key=lambda kv: planned.frame.units[kv[0]].path)
        ]
        if planned is not None
        else []
    )
    return render(
        request,
        "checks/new.html",
        {"campaign": campaign, "unit": unit, "form": form, "planned": planned, "lines": lines},
    )


def _task_counts(check: SpotCheck) -> list[tuple[str, str, int]]:
    if check.state != SpotCheck.State.PUBLISHED:
        return []
    counts = rectification.task_counts(check)
    return [(state, str(label), counts.get(state, 0)) for state, label in RectificationTask.State.choices]


@login_required
@require_GET
def detail(request: HttpRequest, check_id: int) -> HttpResponse:
    check = _check(request, check_id)
    found = selectors.results(check)
    return render(
        request,
        "checks/detail.html",
        {
            "check": check,
            "results": found,
            "verdicts": list(stats.Verdict),
            "may_call": may_call_households(request.user, check.unit),
            "may_run": may_run_spot_check(request.user, check.unit),
            "task_counts": _task_counts(check),
        },
    )


@login_required
@require_GET
def sheet(request: HttpRequest, check_id: int) -> HttpResponse:
    check = _caller_check(request, check_id)
    lines = selectors.call_sheet(check)
    services.sheets_viewed(user=_user(request), spot_check=check, how=_("核查表页面"))
    response = render(request, "checks/sheet.html", {"check": check, "lines": lines})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def sheet_export(request: HttpRequest, check_id: int) -> HttpResponse:
    check = _caller_check(request, check_id)
    lines = selectors.call_sheet(check)
    services.sheets_viewed(user=_user(request), spot_check=check, how=_("核查表Excel"))
    return attachment(exports.sheet_xlsx(check, lines), XLSX, exports.sheet_filename(check), private=True)


@login_required
@require_http_methods(["GET", "POST"])
def household(request: HttpRequest, sampled_id: int) -> HttpResponse:
    sampled = get_object_or_404(
        SampledHousehold.objects.select_related("spot_check__unit", "household", "stratum__unit"),
        pk=sampled_id,
    )
    check = sampled.spot_check
    if not may_call_households(request.user, check.unit):
        raise PermissionDenied(_("只有{unit}的核查员可以记录核查结果").format(unit=check.unit.name))
    call_form, answers_form = CallForm(), AnswersForm(initial=AnswersForm.initial_of(sampled))
    if request.method == "POST":
        try:
            if "call" in request.POST:
                call_form = CallForm(request.POST)
                if call_form.is_valid():
                    services.call_record(
                        user=_user(request),
                        sampled=sampled,
                        disposition=call_form.cleaned_data["disposition"],
                    )
                    messages.success(request, _("已记录拨打结果"))
                    return redirect("checks:household", sampled_id=sampled.pk)
            elif "answers" in request.POST:
                answers_form = AnswersForm(request.POST)
                if answers_form.is_valid():
                    saved = services.answers_save(
                        user=_user(request),
                        sampled=sampled,
                        data=answers_form.answers(),
                        version=answers_form.cleaned_data["version"],
                    )
                    messages.success(
                        request,
                        _("已保存访问答案，核查结论：{verdict}").format(
                            verdict=stats.Verdict(saved.verdict).label()
                        ),
                    )
                    return redirect("checks:household", sampled_id=sampled.pk)
            elif "replace" in request.POST:
                reserve = services.replacement_draw(user=_user(request), sampled=sampled)
                messages.success(request, _("已抽取替补户：{name}").format(name=reserve.household.head_name))
                return redirect("checks:household", sampled_id=reserve.pk)
        except services.CheckError as refusal:
            messages.error(request, refusal.message)
            return redirect("checks:household", sampled_id=sampled.pk)
    line = selectors.call_sheet(check, stratum_units=[sampled.stratum.unit_id])
    mine = next((found for found in line if found.sampled.pk == sampled.pk), None)
    services.sheets_viewed(
        user=_user(request),
        spot_check=check,
        how=_("{name}户核查页").format(name=sampled.household.head_name),
    )
    response = render(
        request,
        "checks/household.html",
        {
            "check": check,
            "sampled": sampled,
            "line": mine,
            "call_form": call_form,
            "answers_form": answers_form,
            "verdict": stats.Verdict(sampled.verdict).label() if sampled.verdict else "",
            "replaceable": services.replaceable(services.attempts_of(sampled)),
        },
    )
    response["Cache-Control"] = "no-store"
    return response
