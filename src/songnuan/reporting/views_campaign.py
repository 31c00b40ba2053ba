"""The reporting workflow in the browser: campaigns, the data-entry page (its live check and autosave go to
the JSON API, songnuan.api.tables), the review actions, Excel import, the history of a table, and the
written activity report.

Thin views: look the objects up (404), ask `songnuan.orgs.selectors` whether the unit is visible (403), call
one service or selector, respond. Every write goes through `songnuan.reporting.services`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from songnuan.archive.selectors import archive_hints
from songnuan.campaigns.models import Campaign
from songnuan.campaigns.selectors import (
    campaign_for_unit,
    campaigns_visible_to,
    unit_takes_part,
    units_taking_part,
)
from songnuan.formkit.definitions import Form, get_form
from songnuan.formkit.engine import value_text
from songnuan.notices.selectors import reporters_of
from songnuan.orgs.models import Account, Unit
from songnuan.orgs.permissions import account_of, can_fill, unit_visible, units_visible_to
from songnuan.orgs.selectors import unit_with_below
from songnuan.reporting import entry_rows, services
from songnuan.reporting import rollup as rollup_levels
from songnuan.reporting.findings import findings_context
from songnuan.reporting.forms_campaign import (
    ActivityReportForm,
    ImportUploadForm,
    PayloadError,
    previewed_import,
    sign_import,
)
from songnuan.reporting.last_year import check_table, last_year_values, ledger_values
from songnuan.reporting.models import ActivityReport, Submission, SubmissionEvent
from songnuan.reporting.progress import UnitProgress, campaign_progress
from songnuan.reporting.transitions import Action, available_actions

HEADER_LABELS = {
    "reporter": gettext_lazy("填报人"),
    "phone": gettext_lazy("电话"),
    "report_date": gettext_lazy("填报日期"),
}
DOCUMENT_TYPES = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "wps": "application/vnd.ms-works",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


# --- lookups ---------------------------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    if not isinstance(request.user, User):  # login_required has already sent anonymous visitors away
        raise PermissionDenied
    return request.user


def _campaign_unit(request: HttpRequest, campaign_id: int, unit_id: int) -> tuple[Campaign, Unit]:
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    unit = get_object_or_404(Unit, pk=unit_id)
    if not unit_visible(request.user, unit):
        raise PermissionDenied
    if not unit_takes_part(campaign, unit):
        raise Http404
    return campaign, unit


def _entry_campaign_unit(request: HttpRequest, campaign_id: int, unit_id: int) -> tuple[Campaign, Unit]:
    """`_campaign_unit` in two queries: the unit with whether units are below it (its 全辖 column), the
    campaign with whether it concerns the unit."""
    unit = unit_with_below(unit_id)
    found = campaign_for_unit(campaign_id, unit) if unit is not None else None
    if unit is None or found is None:
        raise Http404
    campaign, takes_part = found
    if not unit_visible(request.user, unit):
        raise PermissionDenied
    if not takes_part:
        raise Http404
    return campaign, unit


def _form(campaign: Campaign, form_code: str) -> Form:
    if form_code not in campaign.form_codes:
        raise Http404
    try:
        return get_form(form_code)
    except KeyError:
        raise Http404 from None


def _submission(campaign: Campaign, unit: Unit, form_code: str) -> Submission | None:
    return (
        Submission.objects.filter(campaign=campaign, unit=unit, form_code=form_code)
        .select_related("campaign", "unit", "updated_by", "reviewed_by")
        .first()
    )


def _existing_submission(campaign: Campaign, unit: Unit, form_code: str) -> Submission:
    submission = _submission(campaign, unit, form_code)
    if submission is None:
        raise Http404
    return submission


def _entry_url(campaign: Campaign, unit: Unit, form_code: str) -> str:
    return reverse("campaign:entry", args=[campaign.pk, unit.pk, form_code])


def _dashboard_url(campaign: Campaign) -> str:
    return reverse("review:dashboard", args=[campaign.pk])


# --- campaigns -------------------------------------------------------------------------------------------


@login_required
@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    campaigns = campaigns_visible_to(_user(request)).select_related("owner")
    return render(request, "campaign/list.html", {"campaigns": campaigns})


@dataclass
class FormStatus:
    form: Form
    submission: Submission | None
    url: str
    fill: bool  # the link says 填报: the user fills this table now (or opens it to start)
    review: bool  # the link says 审核: the table waits for this user's decision


@dataclass
class UnitRow:
    unit: Unit
    forms: list[FormStatus]
    late: bool
    report_url: str


def _form_status(
    campaign: Campaign, unit: Unit, form: Form, submission: Submission | None, user: User
) -> FormStatus:
    actions = available_actions(user, submission)
    opens_blank = submission is None and can_fill(user, unit)  # the entry page starts the draft
    return FormStatus(
        form,
        submission,
        _entry_url(campaign, unit, form.code),
        fill=opens_blank or Action.SAVE in actions,
        review=Action.ACCEPT in actions,
    )


def _unit_rows(campaign: Campaign, progress: list[UnitProgress], user: User) -> list[UnitRow]:
    forms = [get_form(code) for code in campaign.form_codes]
    return [
        UnitRow(
            unit=p.unit,
            forms=[
                _form_status(campaign, p.unit, form, p.submissions.get(form.code), user) for form in forms
            ],
            late=p.late,
            report_url=reverse("campaign:report", args=[campaign.pk, p.unit.pk]),
        )
        for p in progress
    ]


@login_required
@require_GET
def campaign_home(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign.objects.select_related("owner"), pk=campaign_id)
    user = _user(request)
    if not campaigns_visible_to(user).filter(pk=campaign.pk).exists():
        raise PermissionDenied
    units = list(units_taking_part(campaign, units_visible_to(user)))
    own = [unit for unit in units if can_fill(user, unit)]
    others = [unit for unit in units if not can_fill(user, unit)]
    account = account_of(user)
    reviews = account is not None and account.role in (Account.Role.REVIEWER, Account.Role.ADMIN)
    return render(
        request,
        "campaign/home.html",
        {
            "campaign": campaign,
            "addressees": campaign.addressees.order_by("sort_order", "path"),
            "forms": [get_form(code) for code in campaign.form_codes],
            "own_rows": _unit_rows(campaign, campaign_progress(campaign, own), user),
            "other_rows": _unit_rows(campaign, campaign_progress(campaign, others), user),
            "dashboard_url": _dashboard_url(campaign) if reviews else None,
            "is_late_now": campaign.is_late(timezone.now()),
        },
    )


# --- the data-entry page ---------------------------------------------------------------------------------


def _entry_texts() -> dict[str, str]:
    """The messages entry.js shows, translated here so the script holds no text of its own (the findings
    themselves come rendered from the server: reporting/findings.py)."""
    return {
        "saving": _("正在保存…"),
        "saved": _("已保存 {time}"),
        "unsaved": _("有未保存的修改"),
        "saveFailed": _("保存失败：{message}"),
        "offline": _("网络不通，修改已暂存在本机浏览器中，恢复后会自动保存"),
        "denied": _("您无权修改这张表"),
        "restored": _("已恢复本机浏览器中 {time} 未保存的修改，正在保存。"),
        "blank": _("（空）"),
        "ledgerFilled": _("已从台账填入 {n} 个空白项目，正在保存。"),
        "ledgerNothing": _("没有可从台账填入的空白项目。"),
    }


@login_required
@require_GET
def entry(request: HttpRequest, campaign_id: int, unit_id: int, form_code: str) -> HttpResponse:
    """The table as printed, with an input per item. Its live check and autosave go to the JSON API
    (POST …/check and PUT on the table: songnuan.api.tables); the findings are the same server-rendered
    partials here and in the API's answers."""
    campaign, unit = _entry_campaign_unit(request, campaign_id, unit_id)
    form = _form(campaign, form_code)
    user = _user(request)
    fillable = can_fill(user, unit)
    submission, values = services.submission_with_values(campaign, unit, form)
    if submission is None and fillable:  # opened to fill for the first time: the draft starts
        submission = services.submission_open(campaign=campaign, unit=unit, form_code=form_code, user=user)
    last_year = last_year_values(campaign, unit.pk, form)
    ledger = ledger_values(campaign, unit, form)  # one query; none when the form derives nothing
    result = check_table(form, values, last_year, ledger)
    actions = available_actions(user, submission)
    editable = Action.SAVE in actions
    explanations = submission.explanations if submission else {}
    findings = findings_context(
        form,
        result,
        explanations,
        missing=services.missing_explanations(submission, result) if submission else [],
        editable=editable,
        values=values,
        hints=archive_hints(form.code, unit),
    )
    ledger_shown = {code: value_text(value) for code, value in ledger.items() if value is not None}
    # 本级 / 全辖 (campaign/_scope_cells.html and the rows): the levels of the values as saved.
    levels = rollup_levels.entry_levels(
        campaign, form, unit, values, any_below=getattr(unit, "has_units_below", None)
    )
    config: dict[str, Any] = {"editable": editable, "text": _entry_texts(), "ledger": ledger_shown}
    if submission is not None:
        table = [campaign.pk, unit.pk, form_code]
        config |= {
            "submission": submission.pk,
            "version": submission.version,
            "savedAt": timezone.localtime(submission.updated_at).isoformat(timespec="seconds"),
            "explanations": explanations,
            "tableUrl": reverse("api:form", args=table),
            "checkUrl": reverse("api:form-check", args=table),
        }
    return render(
        request,
        "campaign/entry.html",
        {
            "campaign": campaign,
            "unit": unit,
            "form": form,
            "submission": submission,
            **findings,  # result, missing, rows, warnings, editable
            "entry_rows": entry_rows.rows_html(
                form,
                findings["rows"],
                editable=editable,
                last_year=last_year,
                ledger=ledger_shown,
                levels=levels,
            ),
            "fillable": fillable,
            "can_submit": Action.SUBMIT in actions,
            "can_review": Action.ACCEPT in actions or Action.RETURN in actions,
            "can_unlock": Action.UNLOCK in actions,
            "config": config,
            "login_url": f"{reverse('login')}?next={quote(request.get_full_path())}",
            "import_form": ImportUploadForm() if editable else None,
            "last_year": last_year,
            "ledger": ledger_shown,  # "台账：N" beside the items the ledger derives
            "is_late_now": campaign.is_late(timezone.now()),
            "levels": levels,
            "scope": rollup_levels.scope_label(campaign),
        },
    )


# --- the review workflow ---------------------------------------------------------------------------------


def _workflow_action(
    request: HttpRequest,
    campaign_id: int,
    unit_id: int,
    form_code: str,
    action: Callable[[Submission, User], Submission],
    done: Callable[[Submission], str],
) -> HttpResponse:
    campaign, unit = _campaign_unit(request, campaign_id, unit_id)
    _form(campaign, form_code)
    submission = _existing_submission(campaign, unit, form_code)
    try:
        submission = action(submission, _user(request))
    except services.ReportingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done(submission))
    return redirect(_entry_url(campaign, unit, form_code))


def submitted_message(submission: Submission) -> str:
    # The campaign's owner has nobody above it: its own reviewer decides its table (may_review_table).
    if submission.unit_id == submission.campaign.owner_id:
        if submission.late:
            return _("已报送（逾期报送），等待本单位审核员审核")
        return _("已报送，等待本单位审核员审核")
    return _("已报送（逾期报送），等待上级审核") if submission.late else _("已报送，等待上级审核")


@login_required
@require_POST
def submit(request: HttpRequest, campaign_id: int, unit_id: int, form_code: str) -> HttpResponse:
    return _workflow_action(
        request,
        campaign_id,
        unit_id,
        form_code,
        lambda submission, user: services.submission_submit(submission=submission, user=user),
        submitted_message,
    )


@login_required
@require_POST
def return_(request: HttpRequest, campaign_id: int, unit_id: int, form_code: str) -> HttpResponse:
    comment = request.POST.get("comment", "")
    return _workflow_action(
        request,
        campaign_id,
        unit_id,
        form_code,
        lambda submission, user: services.submission_return(
            submission=submission, user=user, comment=comment
        ),
        # The service wrote a notice to each account filling the unit (and mailed those with an address).
        lambda submission: (
            _(
                "已退回{unit}，并已通知该单位的填报人（见其“我的待办”，有邮箱的同时发送邮件）。"
                "审核意见也显示在这张表上，修改后可重新报送"
            )
            if reporters_of(submission.unit)
            else _("已退回{unit}。该单位还没有填报账号，无人收到通知；审核意见显示在这张表上")
        ).format(unit=submission.unit.name),
    )


@login_required
@require_POST
def accept(request: HttpRequest, campaign_id: int, unit_id: int, form_code: str) -> HttpResponse:
    comment = request.POST.get("comment", "")
    return _workflow_action(
        request,
        campaign_id,
        unit_id,
        form_code,
        lambda submission, user: services.submission_accept(
            submission=submission, user=user, comment=comment
        ),
        lambda submission: _("已审核通过，这张表已锁定并计入汇总"),
    )


@login_required
@require_POST
def unlock(request: HttpRequest, campaign_id: int, unit_id: int, form_code: str) -> HttpResponse:
    reason = request.POST.get("reason", "")
    return _workflow_action(
        request,
        campaign_id,
        unit_id,
        form_code,
        lambda submission, user: services.submission_unlock(submission=submission, user=user, reason=reason),
        lambda submission: _("已解锁，这张表退回填报单位修改"),
    )


# --- Excel import ----------------------------------------------------------------------------------------


@login_required
@require_POST
def import_table(request: HttpRequest, campaign_id: int, unit_id: int, form_code: str) -> HttpResponse:
    """Upload → a preview of what would change (nothing written); the confirm POST saves what the preview
    showed, carried in a signed token (the file is read once, and never sent back to the browser)."""
    campaign, unit = _campaign_unit(request, campaign_id, unit_id)
    form = _form(campaign, form_code)
    user = _user(request)
    if not can_fill(user, unit):
        raise PermissionDenied
    submission = services.submission_open(campaign=campaign, unit=unit, form_code=form_code, user=user)
    back = redirect(_entry_url(campaign, unit, form_code))
    if "token" in request.POST:
        try:
            previewed = previewed_import(submission.pk, request.POST)
            saved = services.submission_import_apply(
                submission=submission,
                user=user,
                values=previewed.values,
                header=previewed.header,
                version=previewed.version,
            )
        except (PayloadError, services.ReportingError) as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("已导入，{n} 个项目的数值有变化").format(n=len(saved.changed)))
        return back
    upload = ImportUploadForm(request.POST, request.FILES)
    if not upload.is_valid():
        for errors in upload.errors.values():
            messages.error(request, " ".join(str(error) for error in errors))
        return back
    table = upload.cleaned_data["table"]
    data = b"".join(table.chunks())
    try:
        preview = services.submission_import_preview(
            submission=submission, user=user, data=data, filename=table.name or ""
        )
        carried = sign_import(submission.pk, submission.version, preview.report.values, preview.header)
    except (PayloadError, services.ReportingError) as error:
        messages.error(request, str(error))
        return back
    return render(
        request,
        "campaign/import_preview.html",
        {
            "campaign": campaign,
            "unit": unit,
            "form": form,
            "submission": submission,
            "filename": table.name,
            "report": preview.report,
            "changes": [(form.item(code), old, new) for code, old, new in preview.changes],
            "header_changes": [
                (name, HEADER_LABELS[name], old, new) for name, old, new in preview.header_changes
            ],
            "kept_date": preview.kept_date,
            "carried": carried,
        },
    )


# --- history ---------------------------------------------------------------------------------------------


@dataclass
class HistoryRow:
    event: SubmissionEvent
    subject: str
    old: str
    new: str


def _history_row(form: Form, event: SubmissionEvent) -> HistoryRow:
    old, new, subject = event.old, event.new, event.subject
    if event.kind == SubmissionEvent.Kind.STATUS:
        statuses = dict(Submission.Status.choices)
        old, new = str(statuses.get(old, old)), str(statuses.get(new, new))
    elif event.kind == SubmissionEvent.Kind.HEADER:
        subject = str(HEADER_LABELS.get(subject, subject))
    elif form.has_item(subject):
        subject = f"{subject} {form.item(subject).name}"
    return HistoryRow(event, subject, old, new)


@login_required
@require_GET
def history(request: HttpRequest, campaign_id: int, unit_id: int, form_code: str) -> HttpResponse:
    campaign, unit = _campaign_unit(request, campaign_id, unit_id)
    form = _form(campaign, form_code)
    submission = _existing_submission(campaign, unit, form_code)
    item = request.GET.get("item", "").strip()
    events = submission.events.select_related("user").order_by("-at", "-id")
    if item:
        events = events.filter(subject=item)
    return render(
        request,
        "campaign/history.html",
        {
            "campaign": campaign,
            "unit": unit,
            "form": form,
            "submission": submission,
            "item": item,
            "rows": [_history_row(form, event) for event in events],
        },
    )


# --- the written activity report -------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def activity_reports(request: HttpRequest, campaign_id: int, unit_id: int) -> HttpResponse:
    campaign, unit = _campaign_unit(request, campaign_id, unit_id)
    user = _user(request)
    fillable = can_fill(user, unit)
    upload = ActivityReportForm()
    if request.method == "POST":
        if not fillable:
            raise PermissionDenied
        upload = ActivityReportForm(request.POST, request.FILES)
        if upload.is_valid():
            try:
                report = services.activity_report_upload(
                    campaign=campaign, unit=unit, user=user, upload=upload.cleaned_data["report"]
                )
            except services.ReportingError as error:
                messages.error(request, str(error))
            else:
                messages.success(request, _("已上传活动报告“{name}”").format(name=report.original_name))
            return redirect("campaign:report", campaign.pk, unit.pk)
    reports = ActivityReport.objects.filter(campaign=campaign, unit=unit).select_related("uploaded_by")
    return render(
        request,
        "campaign/report.html",
        {
            "campaign": campaign,
            "unit": unit,
            "reports": reports,
            "upload": upload if fillable else None,
        },
        status=400 if upload.is_bound else 200,
    )


@login_required
@require_GET
def activity_report_download(
    request: HttpRequest, campaign_id: int, unit_id: int, report_id: int
) -> FileResponse:
    campaign, unit = _campaign_unit(request, campaign_id, unit_id)
    report = get_object_or_404(ActivityReport, pk=report_id, campaign=campaign, unit=unit)
    try:
        handle = report.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=_download_name(report),
        content_type=DOCUMENT_TYPES.get(report.file_type, "application/octet-stream"),
    )
    # Whatever a stored file holds, a browser saves it and never renders it: no sniffing past the type,
    # and a sandbox without scripts should anything open it in place.
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


def _download_name(report: ActivityReport) -> str:
    """The uploaded name, ending in the type its content was judged to be (报告.html holding a PDF is saved
    as 报告.html.pdf, so no program opens it as a web page)."""
    name = report.original_name or _("活动报告")
    suffix = f".{report.file_type}"
    return name if name.lower().endswith(suffix) else f"{name}{suffix}"
