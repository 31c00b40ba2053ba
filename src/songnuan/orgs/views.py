"""Logging in and out, and changing one's password. The throttling of failed logins is in `throttle`, shared
with the admin's login form."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpResponse
from django.urls import reverse_lazy

from songnuan.orgs.throttle import THROTTLED, LoginForm


class LoginView(auth_views.LoginView):
    """Django's login (it goes on to `next`, so an expired session returns to the page it was on)."""

    template_name = "orgs/login.html"
    form_class = LoginForm
    next_page = "campaign:list"

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_invalid(form)
        if form.has_error("__all__", code=THROTTLED):
            response.status_code = 429  # Too Many Requests: the page says how long to wait
        return response


class LogoutView(auth_views.LogoutView):
    """POST only (Django's rule): a link cannot log anyone out."""


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change one's own password: the old one, then the new one twice, checked by the password validators.
    The session stays logged in (Django updates its hash); other sessions of the account are logged out."""

    template_name = "orgs/password_change.html"
    success_url = reverse_lazy("password-change-done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "orgs/password_change_done.html"
