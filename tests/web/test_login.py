"""Logging in and out: Chinese pages, back to `next`, and throttling of failed attempts on every login form
(the site's /login/ and the admin's /admin/login/), which a stranger cannot use to keep a real user out."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client

from songnuan.orgs import throttle

from ..world import PASSWORD, World

LOCKED = "登录失败次数过多"
SLOWED = "该账号近期多次登录失败"


@pytest.fixture(autouse=True)
def clean_cache() -> None:
    cache.clear()


def attempt(username: str, password: str, ip: str = "10.0.0.1", url: str = "/login/", **extra: str) -> Any:
    client = Client(REMOTE_ADDR=ip)
    client.defaults.update(extra)  # request headers as the WSGI environment names them
    return client.post(url, {"username": username, "password": password})


def logged_in(response: Any) -> bool:
    return "_auth_user_id" in response.wsgi_request.session


def move_clock(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Let `seconds` pass for the cache's expiry times and for the throttle's delays."""
    later = time.time() + seconds
    monkeypatch.setattr("django.core.cache.backends.locmem.time.time", lambda: later)
    monkeypatch.setattr(throttle, "_now", lambda: later)


@pytest.fixture
def staff(world: World) -> User:
    return User.objects.create_user("site_admin", password=PASSWORD, is_staff=True, is_superuser=True)


def test_the_login_page_is_chinese(world: World) -> None:
    page = Client().get("/login/").content.decode()
    assert 'lang="zh-hans"' in page and "登录" in page and "用户名" in page and "密码" in page


def test_a_wrong_password_is_refused_in_chinese(world: World) -> None:
    response = attempt("county_reporter", "wrong")
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()
    assert not logged_in(response)


def test_login_goes_to_next_or_to_the_campaigns(world: World) -> None:
    target = f"/campaigns/{world.campaign.pk}/"
    response = Client().post("/login/", {"username": "county_reporter", "password": PASSWORD, "next": target})
    assert response.status_code == 302 and response["Location"] == target
    response = attempt("county_reporter", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/campaigns/"
    # Not to another site.
    response = Client().post(
        "/login/", {"username": "county_reporter", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/campaigns/"


def test_the_header_shows_who_is_logged_in_and_logout_needs_post(world: World) -> None:
    client = world.client("county_reviewer")
    page = client.get("/campaigns/").content.decode()
    assert "county_reviewer" in page and "东宝区总工会" in page and "审核员" in page
    assert 'action="/logout/"' in page and 'href="/campaigns/"' in page
    assert 'href="/password/"' in page and "修改密码" in page
    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert client.get("/campaigns/").status_code == 302


# --- account + address ------------------------------------------------------------------------------------


def test_five_failures_from_one_address_lock_that_account_there_even_with_the_right_password(
    world: World,
) -> None:
    for number in range(1, 5):
        response = attempt("county_reporter", f"guess-{number}", ip="10.0.1.1")
        assert response.status_code == 200 and LOCKED not in response.content.decode()
    fifth = attempt("county_reporter", "guess-5", ip="10.0.1.1")
    assert fifth.status_code == 429 and LOCKED in fifth.content.decode()

    refused = attempt("county_reporter", PASSWORD, ip="10.0.1.1")
    assert refused.status_code == 429
    assert "请 15 分钟后再试" in refused.content.decode()
    assert not logged_in(refused)
    # Case and spaces do not make a fresh username.
    assert attempt(" County_Reporter ", PASSWORD, ip="10.0.1.1").status_code == 429
    # Another account from the same address is not affected.
    assert attempt("county_reviewer", PASSWORD, ip="10.0.1.1").status_code == 302


def test_a_stranger_cannot_lock_the_real_user_out_from_elsewhere(world: World) -> None:
    """Five (or more) wrong passwords from the stranger's address lock only that address for the account."""
    for number in range(8):
        attempt("county_reporter", f"guess-{number}", ip="203.0.113.7")
    assert attempt("county_reporter", PASSWORD, ip="203.0.113.7").status_code == 429
    at_the_office = attempt("county_reporter", PASSWORD, ip="10.0.1.2")
    assert at_the_office.status_code == 302 and logged_in(at_the_office)


def test_the_lock_ends_after_15_minutes(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    for number in range(5):
        attempt("county_reporter", f"guess-{number}")
    assert attempt("county_reporter", PASSWORD).status_code == 429
    move_clock(monkeypatch, throttle.LOCK_SECONDS + 1)
    assert attempt("county_reporter", PASSWORD).status_code == 302


def test_a_success_clears_the_count_of_the_account_at_that_address(world: World) -> None:
    for number in range(4):
        attempt("county_reporter", f"guess-{number}", ip="10.0.3.1")
    assert attempt("county_reporter", PASSWORD, ip="10.0.3.1").status_code == 302
    for number in range(4):
        response = attempt("county_reporter", f"again-{number}", ip="10.0.3.1")
        assert response.status_code == 200 and LOCKED not in response.content.decode()
    assert attempt("county_reporter", PASSWORD, ip="10.0.3.1").status_code == 302


# --- address alone: one machine trying many accounts -------------------------------------------------------


def test_spraying_many_accounts_from_one_address_locks_the_address(world: World) -> None:
    for number in range(throttle.ADDRESS_LIMIT - 1):
        attempt(f"nobody-{number}", "123456", ip="198.51.100.9")
    # Below the limit an office behind one address still logs in (and one success does not reset the count).
    assert attempt("county_reviewer", PASSWORD, ip="198.51.100.9").status_code == 302
    last = attempt("nobody-last", "123456", ip="198.51.100.9")
    assert last.status_code == 429 and LOCKED in last.content.decode()
    refused = attempt("county_reporter", PASSWORD, ip="198.51.100.9")
    assert refused.status_code == 429 and not logged_in(refused)
    assert attempt("county_reporter", PASSWORD, ip="198.51.100.10").status_code == 302


# --- account alone: guessing spread over many addresses ----------------------------------------------------


def test_guessing_from_many_addresses_slows_the_account_but_never_locks_its_usual_desk(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert attempt("county_reporter", PASSWORD, ip="10.0.5.1").status_code == 302  # the user's usual desk
    for number in range(throttle.ACCOUNT_SLOWDOWN_AFTER):
        response = attempt("county_reporter", f"guess-{number}", ip=f"192.0.2.{number}")
    assert response.status_code == 429 and SLOWED in response.content.decode()
    # From yet another address, even the right password must wait: guessing from a botnet is slowed down.
    refused = attempt("county_reporter", PASSWORD, ip="192.0.2.200")
    assert refused.status_code == 429 and SLOWED in refused.content.decode() and not logged_in(refused)
    # The real user at the usual desk is not slowed at all.
    assert attempt("county_reporter", PASSWORD, ip="10.0.5.1").status_code == 302
    # A delay, not a lock: after it, one attempt is let through again.
    for number in range(3):
        attempt("county_reporter", f"more-{number}", ip="10.0.5.1")  # failures at the desk do not slow others
    move_clock(monkeypatch, 2**1 + 1)
    assert attempt("county_reporter", PASSWORD, ip="192.0.2.201").status_code == 302


def test_the_delay_grows_with_each_failure_and_has_a_ceiling(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the account is slowed, refused attempts are not counted (hammering gains nothing); each attempt
    let through after the delay that fails again doubles it, up to MAX_DELAY_SECONDS."""
    for number in range(throttle.ACCOUNT_SLOWDOWN_AFTER):
        attempt("county_reporter", f"guess-{number}", ip=f"192.0.2.{number}")
    waits: list[int] = []
    elapsed = 0.0
    for number in range(12):
        page = attempt("county_reporter", "hammer", ip="192.0.2.250").content.decode()
        waits.append(int(page.split("请 ")[1].split(" 秒后再试")[0]))
        elapsed += waits[-1]
        move_clock(monkeypatch, elapsed)
        attempt("county_reporter", f"after-the-wait-{number}", ip=f"192.0.2.{100 + number}")
    assert waits[:4] == [2, 4, 8, 16]
    assert waits == sorted(waits) and max(waits) == throttle.MAX_DELAY_SECONDS


# --- the admin's login ------------------------------------------------------------------------------------


def test_the_admin_login_is_throttled_like_the_sites(staff: User) -> None:
    for number in range(5):
        response = attempt("site_admin", f"guess-{number}", ip="10.0.6.1", url="/admin/login/")
        assert not logged_in(response)
    refused = attempt("site_admin", PASSWORD, ip="10.0.6.1", url="/admin/login/")
    assert LOCKED in refused.content.decode() and "请 15 分钟后再试" in refused.content.decode()
    assert not logged_in(refused)
    # The same lock on the site's form (one count for both forms), and not from another address.
    assert attempt("site_admin", PASSWORD, ip="10.0.6.1").status_code == 429
    from_elsewhere = attempt("site_admin", PASSWORD, ip="10.0.6.2", url="/admin/login/")
    assert from_elsewhere.status_code == 302 and logged_in(from_elsewhere)


def test_a_right_password_refused_by_the_admin_for_a_non_staff_account_is_not_a_failure(world: World) -> None:
    for _number in range(throttle.PAIR_LIMIT + 1):
        response = attempt("county_reporter", PASSWORD, ip="10.0.7.1", url="/admin/login/")
        assert LOCKED not in response.content.decode() and not logged_in(response)
    assert attempt("county_reporter", PASSWORD, ip="10.0.7.1").status_code == 302


# --- the client's address behind a proxy ------------------------------------------------------------------


def test_behind_a_proxy_the_address_is_the_one_the_proxy_appended(world: World, settings: Any) -> None:
    """X-Forwarded-For is read only with SONGNUAN_BEHIND_PROXY, and only its last entry: what a client sends
    itself before it cannot make a fresh address for each guess."""
    settings.BEHIND_PROXY = True
    for number in range(5):
        attempt(
            "county_reporter", "guess", ip="10.0.0.254", HTTP_X_FORWARDED_FOR=f"1.1.1.{number}, 203.0.113.50"
        )
    same_client = attempt("county_reporter", PASSWORD, ip="10.0.0.254", HTTP_X_FORWARDED_FOR="203.0.113.50")
    assert same_client.status_code == 429
    other_client = attempt("county_reporter", PASSWORD, ip="10.0.0.254", HTTP_X_FORWARDED_FOR="203.0.113.51")
    assert other_client.status_code == 302
    # Without the setting the header is ignored: the proxy's own address is all there is.
    settings.BEHIND_PROXY = False
    assert attempt("county_reviewer", "x", ip="10.0.0.254", HTTP_X_FORWARDED_FOR="9.9.9.9").status_code == 200
    assert (
        throttle.client_address(Client(REMOTE_ADDR="10.0.0.254").get("/login/").wsgi_request) == "10.0.0.254"
    )
