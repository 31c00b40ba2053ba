"""Logging in and out, with throttling of failed logins.

After FAILURE_LIMIT failed attempts for one username, or from one IP address, within THROTTLE_SECONDS, further
attempts are refused for THROTTLE_SECONDS — without even checking the password, so guessing gains nothing.
The counters live in Django's cache: with several server processes that cache must be a shared one
(Redis, Memcached or the database cache), otherwise each process counts on its own.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

FAILURE_LIMIT = 5
THROTTLE_SECONDS = 15 * 60


def _counter_keys(request: HttpRequest) -> list[str]:
    """One counter for the username (hashed: the cache holds no names) and one for the client address.

    REMOTE_ADDR is the address the server saw; behind a reverse proxy the proxy must set it (never trust a
    client-sent X-Forwarded-For here, or anyone could pick a fresh "address" for each guess).
    """
    keys = [f"songnuan:login-failures:ip:{request.META.get('REMOTE_ADDR', '')}"]
    username = str(request.POST.get("username", "")).strip().casefold()
    if username:
        keys.append(f"songnuan:login-failures:user:{hashlib.sha256(username.encode()).hexdigest()}")
    return keys


def login_locked(request: HttpRequest) -> bool:
    return bool(cache.get_many([f"{key}:locked" for key in _counter_keys(request)]))


def login_failed(request: HttpRequest) -> bool:
    """Count one failure; True when this one reached the limit (the username or the address is now locked)."""
    locked = False
    for key in _counter_keys(request):
        cache.add(key, 0, THROTTLE_SECONDS)  # the window starts at the first failure
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, THROTTLE_SECONDS)
            count = 1
        if count >= FAILURE_LIMIT:
            cache.set(f"{key}:locked", True, THROTTLE_SECONDS)
            cache.delete(key)
            locked = True
    return locked


def login_succeeded(request: HttpRequest) -> None:
    """A correct password clears the username's count (not the address's: one good account must not
    reset the count of guesses made from the same address at other accounts)."""
    cache.delete_many([key for key in _counter_keys(request) if ":user:" in key])


def _locked_message() -> str:
    return _("登录失败次数过多，为保护账号安全，请 {minutes} 分钟后再试。").format(
        minutes=THROTTLE_SECONDS // 60
    )


class LoginView(auth_views.LoginView):
    """Django's login (it goes on to `next`, so an expired session returns to the page it was on)."""

    template_name = "orgs/login.html"
    next_page = "campaign:list"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if login_locked(request):
            form = self.get_form()
            form.add_error(None, _locked_message())
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        login_succeeded(self.request)
        return super().form_valid(form)

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        if login_failed(self.request):
            form.add_error(None, _locked_message())
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().form_invalid(form)


class LogoutView(auth_views.LogoutView):
    """POST only (Django's rule): a link cannot log anyone out."""
