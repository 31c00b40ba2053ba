"""The administration pages (/manage/…): a permission matrix (every page × reporter/reviewer/admin × own,
below, sibling and above unit), the one-time password shown once, the forced password change, the refusals
in Chinese.

Accounts sit at the county 东宝区 (tests/world.py's tree plus a county admin); "below" is its enterprise
union, "sibling" 钟祥市, "above" the city.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from songnuan.orgs.models import Account, AuditEntry, Unit
from songnuan.orgs.services import account_create

from ..world import PASSWORD, World

ROLES = ("county_reporter", "county_reviewer", "county_admin")
RELATIONS = ("own", "below", "sibling", "above")


@pytest.fixture
def county(world: World) -> World:
    """The world with an admin of the county and an account in each unit to act on."""
    world.users["county_admin"] = account_create(
        username="county_admin", password=PASSWORD, unit=world.county, role=Account.Role.ADMIN
    ).user
    world.users["city_reporter"] = account_create(
        username="city_reporter", password=PASSWORD, unit=world.city, role=Account.Role.REPORTER
    ).user
    return world


def unit_of(world: World, relation: str) -> Unit:
    return {"own": world.county, "below": world.enterprise, "sibling": world.sibling, "above": world.city}[
        relation
    ]


def account_in(world: World, relation: str) -> Account:
    username = {
        "own": "county_reporter",
        "below": "enterprise_reporter",
        "sibling": "sibling_reporter",
        "above": "city_reporter",
    }[relation]
    return User.objects.get(username=username).account


def unit_pages(unit: Unit) -> list[tuple[str, str, dict[str, str]]]:
    """(method, url, data) of every unit page, each a valid request if allowed."""
    return [
        ("get", f"/manage/units/{unit.pk}/add/", {}),
        ("post", f"/manage/units/{unit.pk}/add/", {"name": "新的工会", "kind": "enterprise"}),
        ("get", f"/manage/units/{unit.pk}/rename/", {}),
        ("post", f"/manage/units/{unit.pk}/rename/", {"name": unit.name + "（新）"}),
    ]


def restructure_pages(unit: Unit, target: Unit) -> list[tuple[str, str, dict[str, str]]]:
    return [
        ("get", f"/manage/units/{unit.pk}/move/", {}),
        ("post", f"/manage/units/{unit.pk}/move/", {"parent": str(target.pk)}),
        ("get", f"/manage/units/{unit.pk}/close/", {}),
    ]


def account_pages(account: Account) -> list[tuple[str, str, dict[str, str]]]:
    base = f"/manage/accounts/{account.pk}"
    return [
        ("get", f"{base}/", {}),
        ("post", f"{base}/active/", {"active": "0"}),
        ("post", f"{base}/role/", {"role": "reviewer"}),
        ("post", f"{base}/reset/", {"stamp": "x"}),
        ("post", f"{base}/personal-data/", {"granted": "1"}),
    ]


@pytest.mark.parametrize(
    "url", ["/manage/", "/manage/units/", "/manage/accounts/", "/manage/accounts/add/", "/manage/log/"]
)
@pytest.mark.parametrize("role", ROLES)
def test_the_list_pages_are_for_admins_only(county: World, role: str, url: str) -> None:
    response = county.client(role).get(url, follow=True)
    if role == "county_admin":
        assert response.status_code == 200
    else:
        assert response.status_code == 403 and "只有管理员可以管理单位和账号" in response.content.decode()


@pytest.mark.parametrize("relation", RELATIONS)
@pytest.mark.parametrize("role", ROLES)
def test_the_matrix_of_unit_pages(county: World, role: str, relation: str) -> None:
    unit = unit_of(county, relation)
    client = county.client(role)
    allowed = role == "county_admin" and relation in ("own", "below")
    for method, url, data in unit_pages(unit):
        response = getattr(client, method)(url, data)
        if allowed:
            assert response.status_code in (200, 302), (method, url)
        else:
            assert response.status_code == 403, (method, url, response.status_code)
    # moving and closing: only strictly below the admin's unit (never its own, a sibling or above)
    restructure = role == "county_admin" and relation == "below"
    for method, url, data in restructure_pages(unit, county.county):
        response = getattr(client, method)(url, data)
        if restructure:
            assert response.status_code == 200, (method, url)  # "already under 东宝区": the form again
        else:
            assert response.status_code == 403, (method, url)
    if not allowed:
        assert not AuditEntry.objects.exists()
        assert reload_name(unit) == unit.name


def reload_name(unit: Unit) -> str:
    return Unit.objects.get(pk=unit.pk).name


@pytest.mark.parametrize("relation", RELATIONS)
@pytest.mark.parametrize("role", ROLES)
def test_the_matrix_of_account_pages(county: World, role: str, relation: str) -> None:
    account = account_in(county, relation)
    if role == "county_admin":  # holding the full-number permission, so that only the unit decides
        county.users[role].user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    client = county.client(role)
    allowed = role == "county_admin" and relation in ("own", "below")
    for method, url, data in account_pages(account):
        response = getattr(client, method)(url, data)
        if allowed:
            assert response.status_code in (200, 302), (method, url)
        else:
            assert response.status_code == 403, (method, url, response.status_code)
    user = User.objects.get(pk=account.user_id)
    if not allowed:
        assert user.is_active and user.check_password(PASSWORD) and not AuditEntry.objects.exists()
        assert Account.objects.get(pk=account.pk).role == "reporter"


def test_a_county_admin_never_sees_a_sibling_county_in_its_lists(county: World) -> None:
    client = county.client("county_admin")
    for url in ("/manage/units/", "/manage/accounts/", "/manage/accounts/add/", "/manage/log/"):
        page = client.get(url).content.decode()
        assert "钟祥市" not in page and "sibling_reporter" not in page and "荆门市总工会" not in page, url
    page = client.get("/manage/units/").content.decode()
    assert "东宝区总工会" in page and "东宝区恒力水泥有限公司工会" in page
    # adding an account to a sibling county by forging the form: refused, nothing created
    response = client.post(
        "/manage/accounts/add/",
        {"username": "intruder", "name": "某人", "unit": county.sibling.pk, "role": "admin"},
    )
    assert response.status_code == 403 and "“钟祥市总工会”不在您的管理范围内" in response.content.decode()
    assert not User.objects.filter(username="intruder").exists()


def test_moving_under_its_own_descendant_is_refused_on_the_page(county: World) -> None:
    client = county.client("city_admin")
    response = client.post(f"/manage/units/{county.county.pk}/move/", {"parent": county.enterprise.pk})
    page = response.content.decode()
    assert (
        response.status_code == 200
        and "不能把“东宝区总工会”移到它自己或它的下级单位“东宝区恒力水泥有限公司工会”之下" in page
    )
    assert Unit.objects.get(pk=county.county.pk).parent == county.city
    # a good move
    response = client.post(f"/manage/units/{county.enterprise.pk}/move/", {"parent": county.sibling.pk})
    assert response.status_code == 302
    assert "已移到“钟祥市总工会”之下" in client.get("/manage/units/").content.decode()
    assert Unit.objects.get(pk=county.enterprise.pk).path.startswith(county.sibling.path)


def test_closing_a_unit_with_an_open_table_is_refused_on_the_page(county: World) -> None:
    from songnuan.reporting.models import Submission

    Submission.objects.create(campaign=county.campaign, unit=county.enterprise, form_code="warmth-2018")
    client = county.client("county_admin")
    url = f"/manage/units/{county.enterprise.pk}/close/"
    assert "未审核通过的统计表1份" in client.get(url).content.decode()
    page = client.post(url).content.decode()
    assert "还有未审核通过的统计表1份，不能撤销" in page
    assert Unit.objects.get(pk=county.enterprise.pk).closed_at is None


ONE_TIME = re.compile(r'<span class="one-time-password">([a-z0-9-]+)</span>')


def test_a_new_account_logs_in_with_the_one_time_password_and_must_change_it(county: World) -> None:
    admin = county.client("county_admin")
    response = admin.post(
        "/manage/accounts/add/",
        {"username": "cement_2", "name": "刘芳", "unit": county.enterprise.pk, "role": "reporter"},
    )
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    page = response.content.decode()
    assert "此密码只显示这一次" in page
    found = ONE_TIME.search(page)
    assert found is not None
    password = found.group(1)
    # not on the account's page, the list or the log
    account = Account.objects.get(user__username="cement_2")
    for url in (f"/manage/accounts/{account.pk}/", "/manage/accounts/", "/manage/log/"):
        assert password not in admin.get(url).content.decode()
    # she logs in and is sent to change it, from any page, until she does
    person = Client()
    response = person.post("/login/", {"username": "cement_2", "password": password}, follow=True)
    assert response.redirect_chain[-1][0] == "/password/"
    assert person.get("/campaigns/")["Location"] == "/password/"
    assert person.get("/archive/")["Location"] == "/password/"
    api = person.get("/api/me")
    assert api.status_code == 403 and api.json() == {"message": "请先修改一次性密码。"}
    # the language switch still works, so she can read the password page in English
    switched = person.post("/i18n/setlang/", {"language": "en", "next": "/password/"})
    assert switched.status_code == 302 and switched["Location"] == "/password/"
    assert person.cookies["django_language"].value == "en"
    person.cookies.pop("django_language")
    new = "her-own-winter-phrase-2018"
    response = person.post(
        "/password/", {"old_password": password, "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 302
    assert person.get("/campaigns/").status_code == 200


def test_a_reset_password_is_shown_once_and_a_reload_does_not_show_it(county: World) -> None:
    admin = county.client("county_admin")
    account = User.objects.get(username="county_reporter").account
    page = admin.get(f"/manage/accounts/{account.pk}/").content.decode()
    stamp = re.search(r'name="stamp" value="([0-9a-f]+)"', page)
    assert stamp is not None
    first = admin.post(f"/manage/accounts/{account.pk}/reset/", {"stamp": stamp.group(1)})
    found = ONE_TIME.search(first.content.decode())
    assert first.status_code == 200 and first["Cache-Control"] == "no-store" and found is not None
    password = found.group(1)
    again = admin.post(f"/manage/accounts/{account.pk}/reset/", {"stamp": stamp.group(1)}, follow=True)
    text = again.content.decode()
    assert "一次性密码只显示一次，不再显示" in text and password not in text and not ONE_TIME.search(text)
    assert User.objects.get(username="county_reporter").check_password(password)
    assert AuditEntry.objects.filter(action="password-reset").count() == 1


def test_a_grant_by_an_admin_without_the_permission_is_refused_on_the_page(county: World) -> None:
    admin = county.client("county_admin")
    account = User.objects.get(username="county_reviewer").account
    assert (
        "只有本身拥有“查看完整号码”权限的管理员才能授予"
        in admin.get(f"/manage/accounts/{account.pk}/").content.decode()
    )
    response = admin.post(f"/manage/accounts/{account.pk}/personal-data/", {"granted": "1"})
    assert (
        response.status_code == 403
        and "只有本身拥有“查看完整号码”权限的管理员才能授予" in response.content.decode()
    )
    assert not User.objects.get(username="county_reviewer").has_perm("archive.view_personal_data")


def test_an_admin_works_its_accounts_from_the_pages(county: World) -> None:
    admin = county.client("county_admin")
    account = User.objects.get(username="enterprise_reporter").account
    base = f"/manage/accounts/{account.pk}"
    page = admin.post(f"{base}/active/", {"active": "0"}, follow=True).content.decode()
    assert "账号“enterprise_reporter”已停用" in page and not User.objects.get(pk=account.user_id).is_active
    page = admin.post(f"{base}/role/", {"role": "reviewer"}, follow=True).content.decode()
    assert "角色已改为审核员" in page
    page = admin.post(f"{base}/role/", {"role": "reviewer"}, follow=True).content.decode()
    assert "已经是审核员" in page
    log = admin.get("/manage/log/").content.decode()
    assert "停用账号" in log and "更改角色" in log and "填报员" in log
    own = User.objects.get(username="county_admin").account
    response = admin.post(f"/manage/accounts/{own.pk}/active/", {"active": "0"})
    assert response.status_code == 403 and "不能在这里修改自己的账号" in response.content.decode()


def test_adding_a_unit_from_the_page(county: World) -> None:
    admin = county.client("county_admin")
    response = admin.post(
        f"/manage/units/{county.enterprise.pk}/add/", {"name": "一车间工会", "kind": "enterprise"}
    )
    assert response.status_code == 302
    assert Unit.objects.get(name="一车间工会").parent == county.enterprise
    again = admin.post(
        f"/manage/units/{county.enterprise.pk}/add/", {"name": "一车间工会", "kind": "enterprise"}
    )
    assert again.status_code == 200 and "已有名为“一车间工会”的单位" in again.content.decode()
    assert Unit.objects.filter(name="一车间工会").count() == 1
