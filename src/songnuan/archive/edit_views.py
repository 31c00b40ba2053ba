"""Correcting a file (修改档案): its details and its members on one form, saved all or nothing.

Kept apart from `views` (the list, the file page and its one-button actions): a correction is a page of
its own with a form that comes back with its errors beside the fields, not a POST that goes back to the
file. The same rules as there: a file the user may not see is a 404, who may is the transition table's
(`Action.EDIT`: the unit's own staff and the reviewers above, an open file only), the write is
`services.household_correct`'s. Personal numbers are never pre-filled: their fields show the stored
number masked, and blank keeps it.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from songnuan.archive import services
from songnuan.archive.forms import HouseholdEditForm, MemberEditFormSet
from songnuan.archive.transitions import Action, may_act, state_refusal
from songnuan.archive.views import _household, _user


@login_required
@require_http_methods(["GET", "POST"])
@never_cache
def household_edit(request: HttpRequest, pk: int) -> HttpResponse:
    household = _household(request, pk)
    user = _user(request)
    if not may_act(Action.EDIT, user, household):
        raise PermissionDenied
    detail = reverse("archive:detail", args=[household.pk])
    refusal = state_refusal(Action.EDIT, household)
    if refusal is not None:
        messages.error(request, refusal)
        return redirect(detail)
    registered = list(household.members.order_by("id"))
    posted = request.POST if request.method == "POST" else None
    form = HouseholdEditForm(posted, household=household)
    members = MemberEditFormSet(posted, prefix="members", members=registered)
    if posted is not None and form.is_valid() and members.is_valid():
        edits = members.edits()
        try:
            saved = services.household_correct(
                user=user,
                household=household,
                details=form.household_input(),
                members=[edit for _index, edit in edits],
                note=form.cleaned_data["reason"],
            )
        except services.InvalidCorrection as problem:
            if problem.member is not None:
                row = members.forms[edits[problem.member][0]]
                row.add_error(problem.field if problem.field in row.fields else None, str(problem))
            elif problem.field in form.fields:
                form.add_error(problem.field, str(problem))
            else:
                form.add_error(None, str(problem))
        except services.ArchiveError as problem:
            form.add_error(None, str(problem))
        else:
            # A household size that no longer matches the members is shown on the file itself.
            messages.success(request, _("已保存对“{name}”档案的修改").format(name=saved.head_name))
            return redirect(detail)
    return render(
        request,
        "archive/edit.html",
        {
            "household": household,
            "form": form,
            "members": members,
            "difficulty_types": settings.SONGNUAN_DIFFICULTY_TYPES,
        },
        status=400 if posted is not None else 200,
    )
