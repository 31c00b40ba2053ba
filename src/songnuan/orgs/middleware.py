"""An account given a one-time password (new, or reset by its admin) must change it before anything else."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from songnuan.orgs.models import Account

#: What such an account may still reach: the password pages, logging out, and the static files.
ALLOWED_PREFIXES = ("/password/", "/password_change/", "/logout/", "/static/", "/i18n/")


def _load_account(user: User) -> None:
    """The user's account with its unit, in one query, kept on the user as `user.account` reads it: every
    page's header names the unit, and the permission checks of a reviewer read its path."""
    account = Account.objects.select_related("unit").filter(user_id=user.pk).first()
    User.account.related.set_cached_value(user, account)  # None too: `user.account` then raises, unasked


class PasswordChangeRequiredMiddleware:
    """After AuthenticationMiddleware: while the logged-in user's password is still the one-time password an
    admin set (`Account.must_change_password`), every page redirects to /password/ (the API answers 403 in
    JSON). Changing the password ends it: the stored hash no longer matches."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and not request.path.startswith(ALLOWED_PREFIXES):
            _load_account(user)
            try:
                must_change = user.account.must_change_password
            except Account.DoesNotExist:
                must_change = False
            if must_change:
                if request.path.startswith("/api/"):
                    return JsonResponse({"message": _("请先修改一次性密码。")}, status=403)
                return redirect(reverse("password-change"))
        return self.get_response(request)
