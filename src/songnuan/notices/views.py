"""Marking notices read (POST only); the list is on the 我的待办 page (`songnuan.reporting.views_todo`)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from songnuan.notices import services
from songnuan.notices.models import Notice


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # login_required
    return request.user


def _back(request: HttpRequest, default: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(default)


@login_required
@require_POST
def mark_read(request: HttpRequest, notice_id: int) -> HttpResponse:
    try:
        notice = services.mark_read(user=_user(request), notice_id=notice_id)
    except Notice.DoesNotExist:
        raise Http404 from None
    if request.POST.get("open") and notice.link:
        return redirect(notice.link)
    return _back(request, "todo")


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    services.mark_all_read(user=_user(request))
    return _back(request, "todo")
