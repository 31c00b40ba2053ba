"""Passwords: accounts are created only with passwords the validators accept; anyone can change their own."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client

from songnuan.orgs.models import Account
from songnuan.orgs.services import account_create

from ..world import PASSWORD, World


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short-1", "此密码太短"),
        ("40710389", "密码只包含数字"),
        ("password123", "这个密码太常见了"),
        ("new_reporter!", "密码跟 用户名 太相似了"),
    ],
)
def test_account_create_refuses_a_weak_password_in_chinese(world: World, password: str, reason: str) -> None:
    with pytest.raises(ValidationError) as refused:
        account_create(username="new_reporter", password=password, unit=world.county, role="reporter")
    message = refused.value.messages[0]
    assert "new_reporter" in message and "密码不符合要求" in message and reason in message
    assert not User.objects.filter(username="new_reporter").exists()
    assert not Account.objects.filter(unit=world.county, user__username="new_reporter").exists()


def test_account_create_accepts_a_good_password(world: World) -> None:
    account = account_create(username="new_reporter", password=PASSWORD, unit=world.county, role="reporter")
    assert account.user.check_password(PASSWORD)


def test_the_demo_password_passes_the_validators_for_every_demo_account() -> None:
    """seed_demo creates its accounts through account_create, so `make run` needs this (the demo is loaded
    whole in tests/archive/test_demo_archive.py)."""
    demo = tomllib.loads((resources.files("songnuan.orgs") / "data" / "demo-jingmen.toml").read_text("utf-8"))
    assert demo["password"] == "songnuan-demo"
    for spec in demo["accounts"]:
        validate_password(demo["password"], User(username=spec["username"], first_name=spec.get("name", "")))


def test_the_admin_refuses_a_weak_password_when_adding_a_user(world: World) -> None:
    client = Client()
    client.force_login(User.objects.create_superuser("root", password=PASSWORD))
    response = client.post(
        "/admin/auth/user/add/",
        {"username": "weakling", "password1": "12345678", "password2": "12345678", "usable_password": "true"},
    )
    assert response.status_code == 200 and "密码只包含数字" in response.content.decode()
    assert not User.objects.filter(username="weakling").exists()


# --- the password-change page ------------------------------------------------------------------------------


def test_the_password_page_needs_a_login(world: World) -> None:
    for url in ("/password/", "/password_change/"):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_password_page_is_chinese_at_both_addresses(world: World) -> None:
    client = world.client("county_reporter")
    for url in ("/password/", "/password_change/"):
        page = client.get(url).content.decode()
        assert "修改密码" in page and "旧密码" in page and "新密码" in page


def test_changing_the_password(world: World) -> None:
    client = world.client("county_reporter")
    new = "winter-coal-for-dongbao-2018"
    response = client.post(
        "/password/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 302 and response["Location"] == "/password/done/"
    assert "密码已修改" in client.get("/password/done/").content.decode()
    assert client.get("/campaigns/").status_code == 200  # still logged in in this browser
    user = User.objects.get(username="county_reporter")
    assert user.check_password(new) and not user.check_password(PASSWORD)


def test_a_weak_new_password_or_a_wrong_old_one_is_refused(world: World) -> None:
    client = world.client("county_reporter")
    weak = client.post(
        "/password/", {"old_password": PASSWORD, "new_password1": "1234", "new_password2": "1234"}
    )
    assert weak.status_code == 200
    page = weak.content.decode()
    assert "此密码太短" in page and "密码只包含数字" in page
    wrong = client.post(
        "/password/", {"old_password": "not-it", "new_password1": "a-new-long-phrase", "new_password2": "x"}
    )
    assert "旧密码不正确" in wrong.content.decode()
    assert User.objects.get(username="county_reporter").check_password(PASSWORD)
