"""Logging in and out, and changing one's password. The throttling of failed logins is in `throttle`, shared
with the admin's login form."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

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


class NewPasswordChangeForm(PasswordChangeForm):
    """Django's form, refusing a "new" password equal to the current one: after a one-time password the
    forced change would otherwise end (the hash gets a new salt) with the admin's password still in use."""

    def clean_new_password1(self) -> str:
        new = str(self.cleaned_data.get("new_password1") or "")
        if new and self.user.check_password(new):
            raise ValidationError(
                _("新密码不能与当前密码（包括管理员给的一次性密码）相同，请另设一个只有您自己知道的密码。"),
                code="password_unchanged",
            )
        return new


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change one's own password: the old one, then the new one twice, checked by the password validators.
    The session stays logged in (Django updates its hash); other sessions of the account are logged out."""

    template_name = "orgs/password_change.html"
    form_class = NewPasswordChangeForm
    success_url = reverse_lazy("password-change-done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "orgs/password_change_done.html"
