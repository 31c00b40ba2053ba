"""Logging in and out: Chinese pages, back to `next`, and throttling of failed attempts."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from songnuan.orgs import views as org_views

from ..world import PASSWORD, World

LOCKED = "登录失败次数过多"


@pytest.fixture(autouse=True)
def fast_passwords_and_clean_cache(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()


def attempt(username: str, password: str, ip: str = "10.0.0.1", client: Client | None = None) -> Any:
    client = client or Client(REMOTE_ADDR=ip)
    return client.post("/login/", {"username": username, "password": password})


def test_the_login_page_is_chinese(world: World) -> None:
    page = Client().get("/login/").content.decode()
    assert 'lang="zh-hans"' in page and "登录" in page and "用户名" in page and "密码" in page


def test_a_wrong_password_is_refused_in_chinese(world: World) -> None:
    response = attempt("county_reporter", "wrong")
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()
    assert "_auth_user_id" not in response.wsgi_request.session


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
    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert client.get("/campaigns/").status_code == 302


def test_five_failures_for_one_username_lock_it_even_with_the_right_password(world: World) -> None:
    for number in range(1, 5):
        response = attempt("county_reporter", f"guess-{number}", ip=f"10.0.1.{number}")
        assert response.status_code == 200 and LOCKED not in response.content.decode()
    fifth = attempt("county_reporter", "guess-5", ip="10.0.1.5")
    assert fifth.status_code == 429 and LOCKED in fifth.content.decode()

    refused = attempt("county_reporter", PASSWORD, ip="10.0.1.6")
    assert refused.status_code == 429
    assert "请 15 分钟后再试" in refused.content.decode()
    assert "_auth_user_id" not in refused.wsgi_request.session
    # Another account from the same addresses is not affected.
    assert attempt("county_reviewer", PASSWORD, ip="10.0.1.6").status_code == 302
    # Case and spaces do not make a fresh username.
    assert attempt(" County_Reporter ", PASSWORD, ip="10.0.1.7").status_code == 429


def test_five_failures_from_one_address_lock_the_address(world: World) -> None:
    for number in range(5):
        attempt(f"nobody-{number}", "x", ip="10.0.2.1")
    response = attempt("county_reporter", PASSWORD, ip="10.0.2.1")
    assert response.status_code == 429 and LOCKED in response.content.decode()
    assert attempt("county_reporter", PASSWORD, ip="10.0.2.2").status_code == 302


def test_the_lock_ends_after_15_minutes(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    for number in range(5):
        attempt("county_reporter", f"guess-{number}")
    assert attempt("county_reporter", PASSWORD).status_code == 429
    later = time.time() + org_views.THROTTLE_SECONDS + 1
    monkeypatch.setattr("django.core.cache.backends.locmem.time.time", lambda: later)
    assert attempt("county_reporter", PASSWORD).status_code == 302


def test_a_success_clears_the_count_of_the_username(world: World) -> None:
    for number in range(4):
        attempt("county_reporter", f"guess-{number}", ip=f"10.0.3.{number}")
    assert attempt("county_reporter", PASSWORD, ip="10.0.3.9").status_code == 302
    for number in range(4):
        response = attempt("county_reporter", f"again-{number}", ip=f"10.0.4.{number}")
        assert response.status_code == 200
    assert attempt("county_reporter", PASSWORD, ip="10.0.4.9").status_code == 302
