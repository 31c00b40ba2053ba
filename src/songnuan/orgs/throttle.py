"""Throttling of failed logins, for every login form (the site's /login/ and the admin's /admin/login/).

Three counts, each built so that a stranger cannot keep a real user out:

- **account + address**: 5 failures for one account from one address lock that pair for 15 minutes. Guessing
  from one place stops; the real user, at another address, still logs in.
- **address**: 20 failures from one address, whatever the accounts, lock the address for 15 minutes (one
  machine trying a common password on many accounts). High enough for an office behind one address.
- **account**: 10 failures for one account from all addresses together (guessing spread over many machines)
  start a growing delay: each further attempt must wait 2, 4, 8 … seconds (at most 10 minutes) after the last
  failure. Never a lock; and it does not apply at an address where the account has logged in before (recorded
  for 30 days), so the real user at the usual desk is not slowed by strangers at all.

A refused attempt is not counted and does not check the password, so guessing gains nothing from it. A correct
password clears the pair's and the account's counts (not the address's: one good account must not reset the
count of guesses made from the same address at other accounts).

The counts live in Django's cache: with several server processes it must be a shared one (REDIS_URL).
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _

PAIR_LIMIT = 5
ADDRESS_LIMIT = 20
LOCK_SECONDS = 15 * 60
ACCOUNT_SLOWDOWN_AFTER = 10
ACCOUNT_WINDOW_SECONDS = 60 * 60  # the account's count lives this long after its latest failure
MAX_DELAY_SECONDS = 10 * 60
KNOWN_ADDRESS_SECONDS = 30 * 24 * 3600
THROTTLED = "login_throttled"  # the ValidationError code, for the views' 429

_PREFIX = "songnuan:login"


def client_address(request: HttpRequest) -> str:
    """The address the request came from.

    REMOTE_ADDR is the address the server saw. Behind a reverse proxy (SONGNUAN_BEHIND_PROXY=1) that is the
    proxy's, and the client's is the last entry of X-Forwarded-For, the one the proxy appended itself (the
    entries before it were sent by the client and may be anything, so they are never trusted).
    """
    if getattr(settings, "BEHIND_PROXY", False):
        forwarded = [part.strip() for part in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
        if forwarded and forwarded[-1]:
            return forwarded[-1]
    return str(request.META.get("REMOTE_ADDR", ""))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]  # the cache holds no names or addresses


@dataclass(frozen=True)
class _Keys:
    pair: str
    address: str
    account: str
    account_last: str
    known: str

    @classmethod
    def of(cls, request: HttpRequest, username: str) -> _Keys:
        account = _digest(username.strip().casefold())
        address = _digest(client_address(request))
        pair = _digest(f"{account}|{address}")
        return cls(
            pair=f"{_PREFIX}:pair:{pair}",
            address=f"{_PREFIX}:address:{address}",
            account=f"{_PREFIX}:account:{account}",
            account_last=f"{_PREFIX}:account-last:{account}",
            known=f"{_PREFIX}:known:{pair}",
        )


def _now() -> float:
    return time.time()


def _count(key: str, window: int) -> int:
    """One more failure under `key`; the count lives `window` seconds after the latest one."""
    if cache.add(key, 1, window):
        return 1
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)
        return 1
    cache.touch(key, window)
    return count


def refusal(request: HttpRequest, username: str) -> str | None:
    """Why this attempt is refused without looking at the password (a Chinese message), or None."""
    keys = _Keys.of(request, username)
    if cache.get(f"{keys.pair}:locked") or cache.get(f"{keys.address}:locked"):
        return _("登录失败次数过多，为保护账号安全，请 {minutes} 分钟后再试。").format(
            minutes=LOCK_SECONDS // 60
        )
    failures = cache.get(keys.account, 0)
    if failures >= ACCOUNT_SLOWDOWN_AFTER and not cache.get(keys.known):
        delay = min(2 ** (failures - ACCOUNT_SLOWDOWN_AFTER + 1), MAX_DELAY_SECONDS)
        wait = math.ceil(cache.get(keys.account_last, 0) + delay - _now())
        if wait > 0:
            return _("该账号近期多次登录失败，为保护账号安全，请 {seconds} 秒后再试。").format(seconds=wait)
    return None


def record_failure(request: HttpRequest, username: str) -> None:
    keys = _Keys.of(request, username)
    if _count(keys.pair, LOCK_SECONDS) >= PAIR_LIMIT:
        cache.set(f"{keys.pair}:locked", True, LOCK_SECONDS)
        cache.delete(keys.pair)
    if _count(keys.address, LOCK_SECONDS) >= ADDRESS_LIMIT:
        cache.set(f"{keys.address}:locked", True, LOCK_SECONDS)
        cache.delete(keys.address)
    _count(keys.account, ACCOUNT_WINDOW_SECONDS)
    cache.set(keys.account_last, _now(), ACCOUNT_WINDOW_SECONDS)


def record_success(request: HttpRequest, username: str) -> None:
    keys = _Keys.of(request, username)
    cache.delete_many([keys.pair, keys.account, keys.account_last])
    cache.set(keys.known, True, KNOWN_ADDRESS_SECONDS)


class ThrottledLoginMixin:
    """For an AuthenticationForm: refuse while throttled, count failures, clear on success."""

    request: HttpRequest | None
    cleaned_data: dict[str, Any]

    def clean(self) -> dict[str, Any]:
        request = self.request
        username = str(self.cleaned_data.get("username") or "")
        if request is None or not username:
            return super().clean()  # type: ignore[misc,no-any-return]  # the form's own clean
        message = refusal(request, username)
        if message is not None:
            raise ValidationError(message, code=THROTTLED)
        try:
            cleaned: dict[str, Any] = super().clean()  # type: ignore[misc]
        except ValidationError:
            # A wrong password counts; a right one refused for another reason (inactive, not staff) does not.
            if getattr(self, "user_cache", None) is None:
                record_failure(request, username)
                message = refusal(request, username)
                if message is not None:  # this failure reached a limit: say so now, not at the next try
                    raise ValidationError(message, code=THROTTLED) from None
            raise
        record_success(request, username)
        return cleaned


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    """The site's login form."""


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The admin's login form (staff only, as Django's): the same throttling as the site's."""
