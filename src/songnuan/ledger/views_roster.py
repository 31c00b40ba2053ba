"""The roster import's pages (导入发放花名册): upload, confirm the columns, follow the progress, download the
rejected rows. Thin: each parses, calls `songnuan.ledger.roster_jobs`, renders. Who may: an account of the
unit itself (`may_enter_ledger`) starts one; each job is its starter's alone (anyone else gets a 404)."""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from songnuan.archive.forms import column_letter
from songnuan.formkit.excel_writer import XLSX
from songnuan.ledger import roster, roster_jobs
from songnuan.ledger.models import RosterImport
from songnuan.ledger.views import campaign_unit, user_of
from songnuan.orgs.permissions import can_see_rollup, may_enter_ledger
from songnuan.site.downloads import attachment

RECENT_IMPORTS = 20
ACCEPT = ".xlsx,.xls,.ods,.csv"


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label=_("发放花名册（Excel、WPS 或 CSV 文件）"),
        allow_empty_file=True,  # the import says why an empty file cannot be read, in its own words
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )


class RosterMappingForm(forms.Form):
    """For each roster column, the file's column it is in (preselected from the header's wording)."""

    def __init__(self, *args: Any, job: RosterImport, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        columns = [("", _("（不导入）"))] + [
            (
                str(index),
                _("{column}列：{header}").format(column=column_letter(index), header=text or _("（无标题）")),
            )
            for index, text in enumerate(job.columns)
        ]
        for field in roster.FIELDS:
            guessed = job.mapping.get(field.name)
            self.fields[field.name] = forms.ChoiceField(
                label=field.label,
                required=False,  # the import names every missing required column at once
                choices=columns,
                initial="" if guessed is None else str(guessed),
            )

    def field_rows(self) -> list[tuple[forms.BoundField, bool]]:
        return [(self[field.name], field.required) for field in roster.FIELDS]

    def mapping(self) -> dict[str, int]:
        return {name: int(value) for name, value in self.cleaned_data.items() if value not in ("", None)}


def _place(request: HttpRequest, campaign_id: int, unit_id: int) -> tuple[Any, Any, dict[str, Any]]:
    """The campaign and unit (404/403 as every ledger page), refused unless the user enters its ledger."""
    campaign, unit = campaign_unit(request, campaign_id, unit_id)
    user = user_of(request)
    if not may_enter_ledger(user, unit):
        raise PermissionDenied
    context = {
        "campaign": campaign,
        "unit": unit,
        "may_enter": True,
        "may_review": can_see_rollup(user, unit),
    }
    return campaign, unit, context


def _job(request: HttpRequest, job_id: int) -> RosterImport:
    """One of the user's own roster imports; anyone else's is a 404."""
    return get_object_or_404(roster_jobs.roster_imports_of(user_of(request)), pk=job_id)


@login_required
@require_http_methods(["GET", "POST"])
def roster_start(request: HttpRequest, campaign_id: int, unit_id: int) -> HttpResponse:
    campaign, unit, context = _place(request, campaign_id, unit_id)
    user = user_of(request)
    posted = request.method == "POST"
    form = RosterUploadForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and form.is_valid():
        upload = form.cleaned_data["file"]
        upload.seek(0)
        try:
            job = roster_jobs.roster_job_start(
                user=user,
                campaign=campaign,
                unit=unit,
                file_name=upload.name or "",
                stream=cast(IO[bytes], upload),
            )
        except roster_jobs.ImportRefused as refusal:
            form.add_error("file", str(refusal))
        else:
            return redirect("ledger:roster-job", job.pk)
    jobs = roster_jobs.roster_imports_of(user).filter(campaign=campaign, unit=unit)[:RECENT_IMPORTS]
    return render(
        request,
        "ledger/roster/start.html",
        {**context, "form": form, "jobs": jobs, "fields": roster.FIELDS},
        status=400 if posted else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def roster_job(request: HttpRequest, job_id: int) -> HttpResponse:
    user = user_of(request)
    job = _job(request, job_id)
    context = {
        "campaign": job.campaign,
        "unit": job.unit,
        "may_enter": may_enter_ledger(user, job.unit),
        "may_review": can_see_rollup(user, job.unit),
        "job": job,
    }
    here = redirect("ledger:roster-job", job.pk)
    if job.state != RosterImport.State.MAPPING:
        if request.method == "POST" and "retry" in request.POST:
            try:
                roster_jobs.roster_job_retry(user=user, job=job)
            except roster_jobs.ImportRefused as refusal:
                messages.error(request, str(refusal))
        if request.method == "POST":
            return here
        progress = roster_jobs.roster_progress(job)  # marks failed a job whose worker died
        return render(
            request,
            "ledger/roster/job.html",
            {**context, "progress": progress, "may_retry": roster_jobs.may_retry(job)},
        )
    posted = request.POST if request.method == "POST" else None
    form = RosterMappingForm(posted, job=job)
    if posted is not None and form.is_valid():
        try:
            roster_jobs.roster_job_run(user=user, job=job, mapping=form.mapping())
        except roster_jobs.MappingError as refusal:
            form.add_error(None, str(refusal))
        else:
            return here
    return render(
        request,
        "ledger/roster/job.html",
        {**context, "form": form, "earlier": roster_jobs.earlier_roster_imports(job)},
        status=400 if posted is not None else 200,
    )


@login_required
@require_GET
@never_cache
def roster_progress(request: HttpRequest, job_id: int) -> JsonResponse:
    return JsonResponse(roster_jobs.roster_progress(_job(request, job_id)))


@login_required
@require_GET
def roster_rejected(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job(request, job_id)
    if not job.rejected_file:
        raise Http404
    name = _("未导入的行_{name}.xlsx").format(name=Path(job.file_name).stem)
    return attachment(bytes(job.rejected_file), XLSX, name)
