"""Thin views: parse the request, call one selector, render."""

from __future__ import annotations

import io
from urllib.parse import quote

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from songnuan.formkit.excel_writer import write_form
from songnuan.reporting import selectors
from songnuan.reporting.forms import UploadTablesForm

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@require_GET
def form_list(request: HttpRequest) -> HttpResponse:
    return render(request, "reporting/form_list.html", {"forms": selectors.form_list()})


@require_GET
def form_detail(request: HttpRequest, code: str) -> HttpResponse:
    form = selectors.form_get(code)
    if form is None:
        raise Http404
    return render(
        request,
        "reporting/form_detail.html",
        {
            "form": form,
            "rows": selectors.printed_rows(form),
            "rules": selectors.form_rules(form),
        },
    )


@require_GET
def form_template(request: HttpRequest, code: str) -> HttpResponse:
    form = selectors.form_get(code)
    if form is None:
        raise Http404
    buffer = io.BytesIO()
    write_form(form, buffer)
    filename = f"{form.attachment}_{form.title}.xlsx"
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = (
        f"attachment; filename=\"{form.code}.xlsx\"; filename*=UTF-8''{quote(filename)}"
    )
    return response


@require_http_methods(["GET", "POST"])
def check_upload(request: HttpRequest) -> HttpResponse:
    upload = UploadTablesForm(request.POST, request.FILES) if request.method == "POST" else UploadTablesForm()
    checked = None
    if upload.is_bound and upload.is_valid():
        checked = selectors.uploads_check(upload.cleaned_data["tables"])
    return render(request, "reporting/check.html", {"upload": upload, "checked": checked})
