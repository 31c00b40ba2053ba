"""The correction page of a file (修改档案, /archive/<id>/edit/): who may open and post it, what it pre-fills
(never a personal number in full), errors beside their fields, the audit trail, and the household-size
warning on the file page."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from songnuan.archive.idnumbers import check_character
from songnuan.archive.models import Household, HouseholdEvent, Member, OpenIdentity
from songnuan.archive.services import (
    HouseholdInput,
    MemberInput,
    household_apply,
    household_close,
    household_file,
)
from songnuan.orgs.models import Account
from songnuan.orgs.services import account_create

from ..world import FROZEN_NOW, PASSWORD, World

HEAD = "11010519491231002X"
HEAD_MASKED = "1101**********002X"
SPOUSE = "440524188001010014"
SPOUSE_MASKED = "4405**********0014"
PHONE = "13812345678"
PHONE_MASKED = "138****5678"
CARD = "6222021234567890123"
CARD_MASKED = "6222***********0123"
OTHER = "42088119700506003" + check_character("42088119700506003")
CHILD = "42080220100304002" + check_character("42080220100304002")
Action = HouseholdEvent.Action


def apply(world: World, username: str = "county_reporter", **changes: Any) -> Household:
    user = world.users[username]
    data = HouseholdInput(
        head_name=changes.pop("head_name", "王建国"),
        head_id_number=changes.pop("head_id_number", HEAD),
        category=Household.Category.WORKER,
        phone=PHONE,
        monthly_income=Decimal("2400"),
        household_size=2,
        card_kind=Household.CardKind.BANK_CARD,
        bank="农业银行",
        card_number=CARD,
        members=changes.pop("members", [MemberInput(name="李秀英", relation="配偶", id_number=SPOUSE)]),
    )
    for name, value in changes.items():
        setattr(data, name, value)
    return household_apply(user=user, unit=user.account.unit, data=data)


def url(household: Household) -> str:
    return f"/archive/{household.pk}/edit/"


def edit_form(household: Household, *rows: dict[str, str], **changes: str) -> dict[str, str]:
    """What the page posts unchanged (personal numbers blank: kept), with `changes`; the registered members'
    rows as they stand, then `rows` (new members, or a registered row's changes by its "index")."""
    data = {
        "head_name": household.head_name,
        "head_id_number": "",
        "category": household.category,
        "phone": "",
        "employer": household.employer,
        "employer_kind": household.employer_kind,
        "difficulty_type": household.difficulty_type,
        "main_cause": household.main_cause,
        "monthly_income": "" if household.monthly_income is None else str(household.monthly_income),
        "household_size": str(household.household_size),
        "minimum_living_line": "",
        "card_kind": household.card_kind,
        "bank": household.bank,
        "bank_branch": household.bank_branch,
        "card_number": "",
        "reason": "",
    }
    registered = list(household.members.order_by("id"))
    for index, member in enumerate(registered):
        data.update(
            {
                f"members-{index}-member": str(member.pk),
                f"members-{index}-name": member.name,
                f"members-{index}-relation": member.relation,
                f"members-{index}-id_number": "",
                f"members-{index}-monthly_income": ""
                if member.monthly_income is None
                else str(member.monthly_income),
                f"members-{index}-health": member.health,
                f"members-{index}-school_or_employer": member.school_or_employer,
            }
        )
    extra = len(registered)
    for row in rows:
        row = dict(row)
        index = int(row.pop("index", extra))
        if index == extra:
            extra += 1
        data.update({f"members-{index}-{name}": value for name, value in row.items()})
    total = max(extra, len(registered) + 2)
    data.update(
        {
            "members-TOTAL_FORMS": str(total),
            "members-INITIAL_FORMS": str(len(registered)),
            "members-MIN_NUM_FORMS": "0",
            "members-MAX_NUM_FORMS": "30",
        }
    )
    data.update(changes)
    return data


def field_errors(html: str, field: str) -> str:
    """The error list right beside a field of the details (its `_field.html` block)."""
    found = re.search(rf'<div class="field field-{field}">(.*?)</div>', html, re.S)
    assert found, field
    return found.group(1)


def member_row(html: str, index: int) -> str:
    found = re.search(rf'<tr class="member" id="member-row-{index}">(.*?)</tr>', html, re.S)
    assert found, index
    return found.group(1)


def grant_full_numbers(user: User) -> None:
    user.user_permissions.add(Permission.objects.get(codename="view_personal_data"))


# --- the page --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("with_permission", [False, True])
def test_the_form_prefills_the_details_but_never_a_full_number(world: World, with_permission: bool) -> None:
    household = apply(world)
    if with_permission:
        grant_full_numbers(world.users["county_reporter"])
    response = world.client("county_reporter").get(url(household))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="王建国"' in html and 'value="2400.00"' in html and 'value="李秀英"' in html
    for number in (HEAD, PHONE, CARD, SPOUSE):
        assert number not in html
    for masked in (HEAD_MASKED, PHONE_MASKED, CARD_MASKED, SPOUSE_MASKED):
        assert f'placeholder="{masked}"' in html
    assert "1949-12-31" not in html  # nor the birth date, which would give the number back
    assert response["Cache-Control"].count("no-store") == 1


def test_the_file_page_offers_the_correction_to_who_may(world: World) -> None:
    household = apply(world)
    own = world.client("county_reporter").get(f"/archive/{household.pk}/").content.decode()
    assert 'id="edit-form"' in own and f'action="/archive/{household.pk}/edit/"' in own
    same_level = world.client("county_reviewer").get(f"/archive/{household.pk}/").content.decode()
    assert 'id="edit-form"' not in same_level


def test_a_correction_is_saved_with_its_audit_rows_and_the_history_masks_them(world: World) -> None:
    household = apply(world)
    client = world.client("county_reporter")
    response = client.post(
        url(household),
        edit_form(
            household,
            {"name": "王小明", "relation": "子女", "id_number": CHILD},
            {"index": "0", "monthly_income": "900"},
            head_name="王建华",
            phone="13900001111",
            monthly_income="1800.50",
            household_size="3",
            reason="入户核实后更正",
        ),
    )
    assert response.status_code == 302 and response["Location"] == f"/archive/{household.pk}/"
    household.refresh_from_db()
    assert (household.head_name, household.phone, household.monthly_income) == (
        "王建华",
        "13900001111",
        Decimal("1800.50"),
    )
    assert household.head_id_number == HEAD and household.card_number == CARD  # blank kept them
    user = world.users["county_reporter"]
    edited = HouseholdEvent.objects.get(household=household, action=Action.EDITED)
    assert edited.user == user and edited.note == "入户核实后更正"
    assert edited.old == {
        "head_name": "王建国",
        "phone": PHONE,
        "monthly_income": "2400.00",
        "household_size": "2",
    }
    assert edited.new == {
        "head_name": "王建华",
        "phone": "13900001111",
        "monthly_income": "1800.50",
        "household_size": "3",
    }
    changed = HouseholdEvent.objects.get(household=household, action=Action.MEMBER_CHANGED)
    assert changed.old == {"monthly_income": ""} and changed.new == {"monthly_income": "900.00"}
    added = HouseholdEvent.objects.filter(household=household, action=Action.MEMBER_ADDED).order_by("-id")[0]
    assert added.new["name"] == "王小明" and added.new["id_number"] == CHILD
    assert set(OpenIdentity.objects.filter(household=household).values_list("id_number", flat=True)) == {
        HEAD,
        SPOUSE,
        CHILD,
    }
    history = client.get(f"/archive/{household.pk}/history/").content.decode()
    assert "修改档案" in history and "修改家庭成员" in history and "王建华" in history
    assert "139****1111" in history and "13900001111" not in history and CHILD not in history


def test_removing_a_member_and_clearing_the_phone(world: World) -> None:
    household = apply(world)
    response = world.client("county_reporter").post(
        url(household), edit_form(household, {"index": "0", "DELETE": "on"}, clear_phone="on")
    )
    assert response.status_code == 302
    household.refresh_from_db()
    assert household.phone == "" and not household.members.exists()
    removed = HouseholdEvent.objects.get(household=household, action=Action.MEMBER_REMOVED)
    assert removed.old["name"] == "李秀英" and removed.user == world.users["county_reporter"]
    assert not OpenIdentity.objects.filter(id_number=SPOUSE).exists()
    # The size (2) no longer matches the head alone: a warning on the file, not an error.
    page = world.client("county_reporter").get(f"/archive/{household.pk}/").content.decode()
    assert 'id="size-mismatch"' in page and "家庭人口填的是 2 人，登记的是 1 人" in page


# --- refusals beside their fields, nothing written -------------------------------------------------------


def state(household: Household) -> tuple[Any, ...]:
    household.refresh_from_db()
    return (
        household.head_name,
        household.head_id_number,
        household.monthly_income,
        list(Member.objects.filter(household=household).values_list("name", "id_number", "monthly_income")),
        HouseholdEvent.objects.filter(household=household).count(),
    )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"head_id_number": "110105194912310021"}, "head_id_number", "身份证号校验位不对"),
        ({"head_name": " "}, "head_name", "户主姓名不能为空"),
        ({"monthly_income": "2400.555"}, "monthly_income", "最多两位小数（到分）"),
        ({"monthly_income": "两千"}, "monthly_income", "请填写数字"),
    ],
)
def test_bad_details_are_shown_beside_the_field_and_nothing_is_saved(
    world: World, changes: dict[str, str], field: str, message: str
) -> None:
    household = apply(world)
    before = state(household)
    response = world.client("county_reporter").post(
        url(household), edit_form(household, {"name": "王小明", "relation": "子女"}, **changes)
    )
    assert response.status_code == 400
    assert message in field_errors(response.content.decode(), field)
    assert state(household) == before


def test_a_bad_member_is_shown_on_its_row_and_the_details_are_not_saved(world: World) -> None:
    household = apply(world)
    before = state(household)
    response = world.client("county_reporter").post(
        url(household),
        edit_form(household, {"name": "王小明", "relation": "子女", "id_number": "4208"}, head_name="王建华"),
    )
    assert response.status_code == 400
    assert "身份证号" in member_row(response.content.decode(), 1)
    blank = world.client("county_reporter").post(
        url(household), edit_form(household, {"index": "0", "name": ""})
    )
    assert "家庭成员姓名不能为空" in member_row(blank.content.decode(), 0)
    assert state(household) == before


def test_a_duplicate_id_names_another_countys_holder_only_to_who_sees_it(world: World) -> None:
    apply(world, "sibling_reporter", head_name="赵德明", head_id_number=OTHER, members=[])
    enterprise = apply(world, "enterprise_reporter", head_name="刘强", head_id_number=CHILD, members=[])
    before = state(enterprise)
    response = world.client("enterprise_reporter").post(
        url(enterprise), edit_form(enterprise, {"name": "赵小兰", "relation": "子女", "id_number": OTHER})
    )
    assert response.status_code == 400
    html = response.content.decode()
    row = member_row(html, 0)
    assert "已在其他单位的困难职工档案中，一户只能建一份档案" in row
    assert "赵德明" not in html and "钟祥" not in html  # (the number shown is the one typed)
    assert state(enterprise) == before
    # The city's reviewer, who sees the sibling's file, is told where it is.
    county = apply(world)
    shown = world.client("city_reviewer").post(url(county), edit_form(county, head_id_number=OTHER))
    assert "已在“钟祥市总工会”的困难职工档案中（户主 赵德明）" in field_errors(
        shown.content.decode(), "head_id_number"
    )


def test_an_ended_file_has_no_correction(world: World) -> None:
    household = apply(world)
    household_file(user=world.users["city_reviewer"], household=household)
    household_close(
        user=world.users["city_reviewer"], household=household, reason="迁出本市", on=dt.date(2018, 3, 1)
    )
    client = world.client("city_reviewer")
    assert 'id="edit-form"' not in client.get(f"/archive/{household.pk}/").content.decode()
    before = state(household)
    for response in (
        client.get(url(household)),
        client.post(url(household), edit_form(household, head_name="王建华")),
    ):
        assert response.status_code == 302 and response["Location"] == f"/archive/{household.pk}/"
        messages = [str(m) for m in response.wsgi_request._messages]  # type: ignore[attr-defined]
        assert "这份档案已经结束，不能再修改；如需更正，请上级审核员先恢复档案" in messages
    assert state(household) == before


# --- who may: the permission matrix ----------------------------------------------------------------------

#: Each county role on a file of its own unit, the enterprise below, the sibling county and the city above:
#: the page (GET) and a correction (POST). 404: a file out of sight is not found; 403: seen, not corrected.
EDIT_MATRIX = """
role     target  get  post
reporter own     200  saved
reporter below   404  404
reporter sibling 404  404
reporter above   404  404
reviewer own     403  403
reviewer below   200  saved
reviewer sibling 404  404
reviewer above   404  404
admin    own     200  saved
admin    below   200  saved
admin    sibling 404  404
admin    above   404  404
"""
ROLES = {"reporter": "county_reporter", "reviewer": "county_reviewer", "admin": "county_admin"}
FILERS = {
    "own": "county_reporter",
    "below": "enterprise_reporter",
    "sibling": "sibling_reporter",
    "above": "city_admin",
}


def matrix_cases() -> list[Any]:
    heading, *rows = [line.split() for line in EDIT_MATRIX.strip().splitlines()]
    return [
        pytest.param(role, target, method, cell, id=f"{role}-{target}-{method}")
        for role, target, *cells in rows
        for method, cell in zip(heading[2:], cells, strict=True)
    ]


@pytest.mark.parametrize(("role", "target", "method", "expected"), matrix_cases())
def test_edit_permission_matrix(world: World, role: str, target: str, method: str, expected: str) -> None:
    world.users["county_admin"] = account_create(
        username="county_admin", password=PASSWORD, unit=world.county, role=Account.Role.ADMIN
    ).user
    household = apply(world, FILERS[target], members=[])
    Household.objects.filter(pk=household.pk).update(status="filed", filed_at=FROZEN_NOW)
    before = state(household)
    client: Client = world.client(ROLES[role])
    if method == "get":
        response = client.get(url(household))
    else:
        response = client.post(url(household), edit_form(household, head_name="王建华"))
    if expected == "saved":
        assert response.status_code == 302
        household.refresh_from_db()
        assert household.head_name == "王建华"
        event = HouseholdEvent.objects.get(household=household, action=Action.EDITED)
        assert event.user == world.users[ROLES[role]]
        return
    assert response.status_code == int(expected)
    assert state(household) == before
    if expected != "200":
        assert "王建国" not in response.content.decode()  # nothing of the file leaks


def test_anonymous_is_sent_to_log_in(world: World) -> None:
    household = apply(world)
    response = Client().get(url(household))
    assert response.status_code == 302 and "login" in response["Location"]
