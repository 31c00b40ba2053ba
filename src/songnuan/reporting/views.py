"""Thin views: parse the request, call one selector, render."""

from __future__ import annotations

import io

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from songnuan.formkit.excel_writer import XLSX, write_form
from songnuan.orgs.throttle import client_address
from songnuan.reporting import catalogue
from songnuan.reporting.forms import UploadTablesForm
from songnuan.site.downloads import attachment


@require_GET
def form_list(request: HttpRequest) -> HttpResponse:
    return render(request, "reporting/form_list.html", {"forms": catalogue.form_list()})


@require_GET
def form_detail(request: HttpRequest, code: str) -> HttpResponse:
    form = catalogue.form_get(code)
    if form is None:
        raise Http404
    return render(
        request,
        "reporting/form_detail.html",
        {
            "form": form,
            "rows": catalogue.printed_rows(form),
            "rules": catalogue.form_rules(form),
        },
    )


@require_GET
def form_template(request: HttpRequest, code: str) -> HttpResponse:
    form = catalogue.form_get(code)
    if form is None:
        raise Http404
    buffer = io.BytesIO()
    write_form(form, buffer)
    filename = f"{form.attachment}_{form.title}.xlsx"
    return attachment(buffer.getvalue(), XLSX, filename)


@require_http_methods(["GET", "POST"])
def check_upload(request: HttpRequest) -> HttpResponse:
    """Anonymous by default, so bounded: per file, per request (refused before the body is read), and per
    address per minute; `SONGNUAN_CHECK_REQUIRES_LOGIN` closes it to visitors."""
    if settings.SONGNUAN_CHECK_REQUIRES_LOGIN and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if request.method != "POST":
        return _check_page(request, UploadTablesForm())
    refusal = _check_refusal(request)
    if refusal is not None:
        message, status = refusal
        return _check_page(request, UploadTablesForm(), refusal=message, status=status)
    upload = UploadTablesForm(request.POST, request.FILES)
    checked = catalogue.uploads_check(upload.cleaned_data["tables"]) if upload.is_valid() else None
    return _check_page(request, upload, checked)


def _check_page(
    request: HttpRequest,
    upload: UploadTablesForm,
    checked: list[catalogue.CheckedTable] | None = None,
    *,
    refusal: str | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "upload": upload,
        "checked": checked,
        "refusal": refusal,
        "check_max_files": settings.SONGNUAN_CHECK_MAX_FILES,
        "check_max_mb": settings.SONGNUAN_CHECK_MAX_FILE_BYTES // (1024 * 1024),
    }
    return render(request, "reporting/check.html", context, status=status)


def _check_refusal(request: HttpRequest) -> tuple[str, int] | None:
    """Why /check/ will not look at this upload (a message and the HTTP status), or None."""
    limit = settings.SONGNUAN_CHECK_MAX_REQUEST_BYTES
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit + 64 * 1024:  # room for the form's own fields and the multipart boundaries
        return (
            _("一次上传的文件总共不能超过 {mb} MB（这次是 {got:.1f} MB）。填好的统计表一般只有几十KB").format(
                mb=limit // (1024 * 1024), got=length / (1024 * 1024)
            ),
            413,
        )
    files = request.FILES.getlist("tables")
    if len(files) > settings.SONGNUAN_CHECK_MAX_FILES:
        return _("一次最多检查 {n} 个文件").format(n=settings.SONGNUAN_CHECK_MAX_FILES), 400
    for upload in files:
        if (upload.size or 0) > settings.SONGNUAN_CHECK_MAX_FILE_BYTES:
            return (
                _(
                    "“{name}”太大（{got:.1f} MB）：每个文件不能超过 {mb} MB，填好的统计表一般只有几十KB"
                ).format(
                    name=upload.name,
                    got=(upload.size or 0) / (1024 * 1024),
                    mb=settings.SONGNUAN_CHECK_MAX_FILE_BYTES // (1024 * 1024),
                ),
                413,
            )
    if sum(upload.size or 0 for upload in files) > limit:
        return _("一次上传的文件总共不能超过 {mb} MB").format(mb=limit // (1024 * 1024)), 413
    # The client's address as the login throttling reads it (behind a proxy: the proxy's X-Forwarded-For).
    key = f"check-upload:{client_address(request)}"
    cache.add(key, 0, timeout=60)  # the window opens with the first upload and lasts a minute
    try:
        used = cache.incr(key, max(len(files), 1))
    except ValueError:  # the window closed between add and incr
        cache.set(key, max(len(files), 1), timeout=60)
        used = max(len(files), 1)
    if used > settings.SONGNUAN_CHECK_FILES_PER_MINUTE:
        return (
            _("检查太频繁：同一地址每分钟最多检查 {n} 个文件，请稍后再试").format(
                n=settings.SONGNUAN_CHECK_FILES_PER_MINUTE
            ),
            429,
        )
    return None
