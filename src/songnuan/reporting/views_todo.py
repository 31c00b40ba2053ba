"""我的待办 (/todo/): every logged-in user's home of what waits on it (`songnuan.reporting.todo`)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from songnuan.reporting.todo import todo_of


@login_required
@require_GET
def todo(request: HttpRequest) -> HttpResponse:
    assert isinstance(request.user, User)  # login_required
    return render(request, "reporting/todo.html", {"todo": todo_of(request.user)})
