"""The archive (困难职工档案) through the API: GET /api/households and /api/households/<id>.

Read only, with the permissions of the pages: the unit tree decides which files a user sees, ID, phone and
card numbers are masked unless `full=1` is asked for with the permission `archive.view_personal_data` —
and each such view is logged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from songnuan.archive import generate
from songnuan.archive.idnumbers import mask_card, mask_id_number, mask_phone
from songnuan.archive.models import Household, PersonalDataView
from songnuan.archive.services import (
    HouseholdInput,
    MemberInput,
    household_apply,
    household_file,
    plan_set,
)
from songnuan.orgs.models import Unit

from ..world import World
from .helpers import data_of, find_floats, schema_problems

WANG = "11010519491231002X"
SPOUSE = "440524188001010014"
WANG_PHONE = "13807241234"
WANG_CARD = "6222021234567890123"
CATEGORIES = {"困难职工": "worker", "困难农民工": "migrant", "困难劳模": "model-worker"}
REPORTERS = {"county": "county_reporter", "enterprise": "enterprise_reporter", "sibling": "sibling_reporter"}
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class Archive:
    wang: Household  # the county's, filed, with a member, a card, an income and a plan half written
    blank: Household  # the county's, applied, no income given
    enterprise: Household  # below the county
    sibling: Household  # 钟祥市, beside the county


def apply(world: World, where: str, data: HouseholdInput) -> Household:
    unit: Unit = getattr(world, where)
    return household_apply(user=world.users[REPORTERS[where]], unit=unit, data=data)


def generated_input(person: generate.GeneratedHousehold, **changes: Any) -> HouseholdInput:
    data = HouseholdInput(
        head_name=person.name,
        head_id_number=person.id_number,
        category=CATEGORIES[person.category],
        phone=person.phone,
        difficulty_type=person.difficulty_type,
        main_cause=person.main_cause,
        employer=person.employer,
        monthly_income=person.monthly_income,
        household_size=person.household_size,
        card_number=person.card_number,
        bank=person.bank,
    )
    for name, value in changes.items():
        setattr(data, name, value)
    return data


@pytest.fixture
def archive(world: World) -> Archive:
    people = list(generate.households(3, seed=7))
    wang = apply(
        world,
        "county",
        HouseholdInput(
            head_name="王建国",
            head_id_number=WANG,
            category="worker",
            phone=WANG_PHONE,
            difficulty_type="深度困难",
            monthly_income=Decimal("2400.50"),
            household_size=3,
            card_kind=Household.CardKind.BANK_CARD,
            bank="中国工商银行",
            card_number=WANG_CARD,
            members=[MemberInput(name="李秀英", relation="配偶", id_number=SPOUSE)],
        ),
    )
    wang = household_file(user=world.users["city_reviewer"], household=wang)
    plan_set(
        user=world.users["county_reporter"],
        household=wang,
        contact="东宝区总工会 李红",
        deadline=None,
        measures="介绍就业",
        path="",
    )
    blank = apply(
        world,
        "county",
        generated_input(people[0], head_name="刘洋", monthly_income=None, category="migrant"),
    )
    enterprise = apply(world, "enterprise", generated_input(people[1], head_name="陈静", category="worker"))
    enterprise = household_file(user=world.users["county_reviewer"], household=enterprise)
    sibling = apply(world, "sibling", generated_input(people[2], head_name="赵敏", category="worker"))
    return Archive(wang, blank, enterprise, sibling)


def grant(world: World, username: str) -> User:
    """The permission to see full numbers, on a fresh copy of the user (Django caches permissions)."""
    user = world.users[username]
    user.user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    world.users[username] = User.objects.get(pk=user.pk)
    return world.users[username]


def documented(client: Client, schema: str, data: Any) -> list[str]:
    spec = data_of(client.get("/api/openapi.json"))
    return schema_problems(spec, {"$ref": f"#/components/schemas/{schema}"}, data)


def listed(world: World, username: str, query: str = "") -> list[int]:
    response = world.client(username).get(f"/api/households{query}")
    assert response.status_code == 200, data_of(response)
    return [row["id"] for row in data_of(response)["results"]]


def detail_url(household: Household, query: str = "") -> str:
    return f"/api/households/{household.pk}{query}"


# --- masking ---------------------------------------------------------------------------------------------


def test_the_list_masks_id_and_phone_numbers(world: World, archive: Archive) -> None:
    client = world.client("county_reviewer")
    response = client.get("/api/households?q=王建国")
    data = data_of(response)
    assert response.status_code == 200 and data["count"] == 1
    (row,) = data["results"]
    assert row["head_id_number"] == mask_id_number(WANG) == "1101**********002X"
    assert row["phone"] == mask_phone(WANG_PHONE) == "138****1234"
    text = response.content.decode()
    for number in (WANG, WANG_PHONE, WANG_CARD, SPOUSE, "19491231"):
        assert number not in text
    assert documented(client, "HouseholdList", data) == []
    assert find_floats(data) == []


def test_a_list_row_has_the_files_fields(world: World, archive: Archive) -> None:
    data = data_of(world.client("county_reviewer").get("/api/households?q=wjg"))
    (row,) = data["results"]
    assert row == {
        "id": archive.wang.pk,
        "unit": {"id": world.county.pk, "name": "东宝区总工会"},
        "head_name": "王建国",
        "head_id_number": "1101**********002X",
        "head_sex": "女",
        "head_birth_year": 1949,
        "head_birth_date": None,  # beside a masked number the date would give it back
        "phone": "138****1234",
        "category": "worker",
        "category_label": "困难职工",
        "difficulty_type": "深度困难",
        "status": "filed",
        "status_label": "已建档",
        "household_size": 3,
        "monthly_income": "2400.5",
        "income_per_person": "800.17",
        "filed_at": row["filed_at"],
        "last_reviewed_at": row["last_reviewed_at"],
        "plan_missing": ["期限", "路径"],
    }
    assert row["filed_at"].endswith("+08:00") and row["last_reviewed_at"] == row["filed_at"]


def test_the_detail_masks_the_head_the_members_the_phone_and_the_card(world: World, archive: Archive) -> None:
    client = world.client("county_reviewer")
    response = client.get(detail_url(archive.wang))
    data = data_of(response)
    assert response.status_code == 200
    assert data["head_id_number"] == "1101**********002X"
    assert (data["head_sex"], data["head_birth_year"], data["head_birth_date"]) == ("女", 1949, None)
    assert data["phone"] == "138****1234"
    assert data["card_number"] == mask_card(WANG_CARD) == "6222***********0123"
    assert [(m["name"], m["relation"], m["id_number"]) for m in data["members"]] == [
        ("李秀英", "配偶", "4405**********0014")
    ]
    assert data["full_numbers"] is False and data["permissions"] == {"view_personal_data": False}
    assert data["plan"] == {
        "contact": "东宝区总工会 李红",
        "deadline": None,
        "measures": "介绍就业",
        "path": "",
        "path_label": "",
        "missing": ["期限", "路径"],
    }
    text = response.content.decode()
    for number in (WANG, WANG_PHONE, WANG_CARD, SPOUSE, "1949-12-31", "19491231"):
        assert number not in text
    assert documented(client, "Household", data) == []
    assert find_floats(data) == []
    assert not PersonalDataView.objects.exists()


# --- blank is not zero -----------------------------------------------------------------------------------


def test_a_blank_income_is_null_and_a_zero_income_is_zero(world: World, archive: Archive) -> None:
    client = world.client("county_reviewer")
    rows = {row["id"]: row for row in data_of(client.get("/api/households"))["results"]}
    assert rows[archive.blank.pk]["monthly_income"] is None
    assert rows[archive.blank.pk]["income_per_person"] is None
    detail = data_of(client.get(detail_url(archive.blank)))
    assert (detail["monthly_income"], detail["income_per_person"], detail["minimum_living_line"]) == (
        None,
        None,
        None,
    )
    assert detail["plan"]["missing"] == ["联系人（单位）", "期限", "措施", "路径"]
    assert data_of(client.get(detail_url(archive.wang)))["members"][0]["monthly_income"] is None

    Household.objects.filter(pk=archive.blank.pk).update(monthly_income=Decimal("0.00"))
    zero = data_of(client.get(detail_url(archive.blank)))
    assert (zero["monthly_income"], zero["income_per_person"]) == ("0", "0")


# --- search and filters ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["王", "王建国", "wjg", "WJ", WANG, WANG.lower(), "002X", SPOUSE, "138", "13807241234"],
)
def test_search_by_q_reads_the_text_as_the_pages_do(world: World, archive: Archive, text: str) -> None:
    assert listed(world, "city_reviewer", f"?q={text}") == [archive.wang.pk]


def test_search_finds_nothing_for_a_stranger(world: World, archive: Archive) -> None:
    assert listed(world, "city_reviewer", "?q=9999") == []
    assert listed(world, "city_reviewer", "?q=赵钱孙") == []


def test_filters_by_category_status_and_unit(world: World, archive: Archive) -> None:
    assert listed(world, "city_reviewer", "?category=migrant") == [archive.blank.pk]
    assert listed(world, "city_reviewer", "?status=applied") == [archive.sibling.pk, archive.blank.pk]
    assert listed(world, "city_reviewer", f"?unit={world.enterprise.pk}") == [archive.enterprise.pk]
    assert sorted(listed(world, "city_reviewer", f"?unit={world.county.pk}")) == sorted(
        [archive.wang.pk, archive.blank.pk, archive.enterprise.pk]
    )
    assert listed(world, "city_reviewer", f"?unit={world.county.pk}&status=filed&category=worker&q=w") == [
        archive.wang.pk
    ]
    # empty parameters are no filter, as in the page's search form
    assert len(listed(world, "city_reviewer", "?q=&unit=&category=&status=")) == 4


# --- the unit tree ---------------------------------------------------------------------------------------


def test_each_role_sees_the_files_of_its_part_of_the_tree(world: World, archive: Archive) -> None:
    everyone = {archive.wang.pk, archive.blank.pk, archive.enterprise.pk, archive.sibling.pk}
    county = {archive.wang.pk, archive.blank.pk}
    assert set(listed(world, "sibling_reporter")) == {archive.sibling.pk}  # none of the county's
    assert set(listed(world, "county_reporter")) == county  # its own unit's only, not the one below
    assert set(listed(world, "enterprise_reporter")) == {archive.enterprise.pk}
    assert set(listed(world, "county_reviewer")) == county | {archive.enterprise.pk}  # and the one below
    assert set(listed(world, "city_reviewer")) == everyone  # a reviewer above sees them all
    assert set(listed(world, "city_admin")) == everyone


@pytest.mark.parametrize(
    ("username", "visible"),
    [
        ("sibling_reporter", {"sibling"}),
        ("county_reporter", {"wang", "blank"}),
        ("enterprise_reporter", {"enterprise"}),
        ("county_reviewer", {"wang", "blank", "enterprise"}),
        ("city_reviewer", {"wang", "blank", "enterprise", "sibling"}),
    ],
)
def test_a_file_outside_the_users_tree_is_a_404_like_one_that_does_not_exist(
    world: World, archive: Archive, username: str, visible: set[str]
) -> None:
    client = world.client(username)
    for name in ("wang", "blank", "enterprise", "sibling"):
        household: Household = getattr(archive, name)
        response = client.get(detail_url(household))
        if name in visible:
            assert response.status_code == 200 and data_of(response)["id"] == household.pk
        else:
            assert response.status_code == 404 and data_of(response) == {"message": "没有这份档案"}
    assert data_of(client.get("/api/households/999999")) == {"message": "没有这份档案"}


def test_the_unit_filter_must_be_a_unit_the_user_sees(world: World, archive: Archive) -> None:
    """As the other endpoints answer for a unit: unknown → 404, not visible → 403."""
    client = world.client("sibling_reporter")
    refused = client.get(f"/api/households?unit={world.county.pk}")
    assert refused.status_code == 403 and data_of(refused) == {"message": "您无权查看这个单位"}
    above = world.client("county_reviewer").get(f"/api/households?unit={world.city.pk}")
    assert above.status_code == 403
    below = world.client("county_reporter").get(f"/api/households?unit={world.enterprise.pk}")
    assert below.status_code == 403
    unknown = client.get("/api/households?unit=999999")
    assert unknown.status_code == 404 and data_of(unknown) == {"message": "没有这个单位"}


def test_a_user_without_an_account_sees_no_file(world: World, archive: Archive) -> None:
    client = Client()
    client.force_login(User.objects.create_user(username="stranger", password="x-long-pass-phrase"))
    assert data_of(client.get("/api/households")) == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }
    assert client.get(detail_url(archive.wang)).status_code == 404


@pytest.mark.parametrize("url", ["/api/households", "/api/households/{id}", "/api/households/{id}?full=1"])
def test_anonymous_is_401_json_as_everywhere_in_the_api(world: World, archive: Archive, url: str) -> None:
    response = Client().get(url.format(id=archive.wang.pk))
    assert response.status_code == 401 and data_of(response) == {"message": "请先登录"}
    assert not PersonalDataView.objects.exists()


def test_the_archive_is_read_only(world: World, archive: Archive) -> None:
    client = world.client("county_reporter")
    for method, url in (("POST", "/api/households"), ("PUT", detail_url(archive.wang))):
        response = client.generic(method, url)
        assert response.status_code == 405 and response["Allow"] == "GET"


# --- full numbers ----------------------------------------------------------------------------------------


def test_full_numbers_without_the_permission_are_403_and_nothing_is_logged(
    world: World, archive: Archive
) -> None:
    for username in ("county_reporter", "county_reviewer", "city_reviewer", "city_admin"):
        response = world.client(username).get(detail_url(archive.wang, "?full=1"))
        assert response.status_code == 403, username
        data = data_of(response)
        assert set(data) == {"message"} and CHINESE.search(data["message"])
        assert WANG not in response.content.decode()
    assert not PersonalDataView.objects.exists()


def test_full_numbers_with_the_permission_are_shown_and_logged_once(world: World, archive: Archive) -> None:
    user = grant(world, "county_reviewer")
    client = world.client("county_reviewer")

    masked = data_of(client.get(detail_url(archive.wang)))
    assert masked["head_id_number"] == "1101**********002X" and masked["full_numbers"] is False
    assert masked["head_birth_date"] is None  # the permission alone shows nothing more: full=1 does
    assert masked["permissions"] == {"view_personal_data": True}
    assert not PersonalDataView.objects.exists()  # only a view of the full numbers is logged

    response = client.get(detail_url(archive.wang, "?full=1"))
    data = data_of(response)
    assert response.status_code == 200 and data["full_numbers"] is True
    assert (data["head_id_number"], data["phone"], data["card_number"]) == (WANG, WANG_PHONE, WANG_CARD)
    assert (data["head_birth_date"], data["head_birth_year"]) == ("1949-12-31", 1949)
    assert data["members"][0]["id_number"] == SPOUSE
    assert "no-store" in response["Cache-Control"]
    assert documented(client, "Household", data) == []
    (view,) = PersonalDataView.objects.all()
    assert (view.user_id, view.household_id, view.via) == (user.pk, archive.wang.pk, "api")
    assert view.via == PersonalDataView.Via.API


def test_the_permission_does_not_reach_outside_the_tree(world: World, archive: Archive) -> None:
    grant(world, "sibling_reporter")
    grant(world, "county_reporter")
    assert world.client("sibling_reporter").get(detail_url(archive.wang, "?full=1")).status_code == 404
    assert world.client("county_reporter").get(detail_url(archive.enterprise, "?full=1")).status_code == 404
    assert not PersonalDataView.objects.exists()
    own = world.client("county_reporter").get(detail_url(archive.wang, "?full=1"))
    assert own.status_code == 200 and data_of(own)["head_id_number"] == WANG
    assert PersonalDataView.objects.count() == 1


def test_the_list_stays_masked_even_with_the_permission(world: World, archive: Archive) -> None:
    grant(world, "city_reviewer")
    response = world.client("city_reviewer").get("/api/households?full=1")
    assert response.status_code == 200
    text = response.content.decode()
    assert WANG not in text and WANG_PHONE not in text and "1101**********002X" in text
    assert "1949-12-31" not in text and '"head_birth_year": 1949' in text
    assert not PersonalDataView.objects.exists()


# --- bad requests ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("category=poor", "category"),
        ("category=困难职工", "category"),  # the label is not the code
        ("status=done", "status"),
        ("status=FILED", "status"),
        ("unit=abc", "unit"),
        ("unit=-1", "unit"),
        ("page=0", "page"),
        ("page=two", "page"),
        ("page=" + "9" * 5000, "page"),
        ("page_size=201", "page_size"),
        ("page_size=0", "page_size"),
        ("q=" + "王" * 51, "q"),
    ],
)
def test_a_bad_filter_is_400_with_a_chinese_message(
    world: World, archive: Archive, query: str, named: str
) -> None:
    response = world.client("city_reviewer").get(f"/api/households?{query}")
    assert response.status_code == 400
    data = data_of(response)
    assert set(data) == {"message"} and CHINESE.search(data["message"]) and named in data["message"]


def test_the_category_message_lists_the_values_there_are(world: World) -> None:
    data = data_of(world.client("city_reviewer").get("/api/households?category=poor"))
    assert data["message"] == (
        "参数 category 没有“poor”这个值；可用的值："
        "worker（困难职工）、migrant（困难农民工）、model-worker（困难劳模）"
    )


def test_a_bad_full_flag_is_400_and_nothing_is_logged(world: World, archive: Archive) -> None:
    grant(world, "city_reviewer")
    response = world.client("city_reviewer").get(detail_url(archive.wang, "?full=yes"))
    assert response.status_code == 400 and CHINESE.search(data_of(response)["message"])
    assert not PersonalDataView.objects.exists()


# --- pages -----------------------------------------------------------------------------------------------


def test_pages_of_page_size_follow_next_to_the_end(world: World) -> None:
    for person in generate.households(7, seed=11):
        apply(world, "county", generated_input(person))
    client = world.client("county_reviewer")
    first = data_of(client.get("/api/households?page_size=3&status=applied"))
    assert first["count"] == 7 and first["previous"] is None and len(first["results"]) == 3
    assert first["next"] == "/api/households?page_size=3&status=applied&page=2"
    seen = [row["id"] for row in first["results"]]
    url = first["next"]
    pages = 1
    while url:
        page = data_of(client.get(url))
        assert page["count"] == 7 and page["previous"] is not None
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
        pages += 1
    assert pages == 3 and seen == sorted(seen, reverse=True) and len(set(seen)) == 7  # newest first
    last = data_of(client.get("/api/households?page_size=3&status=applied&page=3"))
    assert (
        last["previous"] == "/api/households?page_size=3&status=applied&page=2" and len(last["results"]) == 1
    )
    beyond = client.get("/api/households?page_size=3&status=applied&page=4")
    assert beyond.status_code == 404 and data_of(beyond) == {"message": "没有第 4 页：共 3 页"}


def test_fifty_a_page_unless_asked_and_the_list_costs_the_same_queries_for_any_size(
    world: World, django_assert_max_num_queries: Any
) -> None:
    for person in generate.households(60, seed=5):
        apply(world, "county", generated_input(person))
    client = world.client("county_reviewer")
    # Six today: session, user, account, its unit, the count, the page (unit and plan joined): none a row.
    with django_assert_max_num_queries(8):
        data = data_of(client.get("/api/households"))
    assert data["count"] == 60 and len(data["results"]) == 50
    assert len(data_of(client.get("/api/households?page=2"))["results"]) == 10
    with django_assert_max_num_queries(8):
        assert len(data_of(client.get("/api/households?page_size=200"))["results"]) == 60


def test_an_id_beyond_any_integer_column_is_a_404_not_a_server_error(world: World) -> None:
    client = world.client("city_reviewer")
    assert client.get("/api/households/" + "9" * 30).status_code == 404
    unit = client.get("/api/households?unit=" + "9" * 18)
    assert unit.status_code == 404 and data_of(unit) == {"message": "没有这个单位"}
