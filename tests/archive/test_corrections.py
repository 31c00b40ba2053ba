"""Correcting a file (修改档案): its details and members, checked as when filing, all or nothing, each change
in the audit trail (who, when, old → new); who may is the transition table's `Action.EDIT`."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied

from songnuan.archive.idnumbers import check_character
from songnuan.archive.models import Household, HouseholdEvent, Member, OpenIdentity
from songnuan.archive.services import (
    ArchiveError,
    HouseholdInput,
    InvalidCorrection,
    MemberEdit,
    MemberInput,
    household_apply,
    household_close,
    household_correct,
    household_edit,
    household_file,
    household_out_of_difficulty,
    member_add,
    member_change,
    member_remove,
    size_mismatch,
)
from songnuan.orgs.models import Account
from songnuan.orgs.services import account_create

from ..world import PASSWORD, World

Action = HouseholdEvent.Action


def id_number(first17: str) -> str:
    return first17 + check_character(first17)


HEAD = "11010519491231002X"
NEW_HEAD = id_number("42080219800102001")  # a man's (the 17th digit odd), born 1980-01-02
SPOUSE = "440524188001010014"
CHILD = id_number("42080220100304002")
OTHER = id_number("42088119700506003")


def details(**changes: object) -> HouseholdInput:
    base = HouseholdInput(
        head_name="王建国",
        head_id_number=HEAD,
        category=Household.Category.WORKER,
        phone="13812345678",
        monthly_income=Decimal("2400"),
        household_size=2,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def open_file(
    world: World,
    username: str = "county_reporter",
    members: list[MemberInput] | None = None,
    **changes: object,
) -> Household:
    """A file applied for by `username` in its unit; by default with the spouse as its member."""
    user = world.users[username]
    spouse = [MemberInput(name="李秀英", relation="配偶", id_number=SPOUSE)]
    data = replace(details(**changes), members=spouse if members is None else members)
    return household_apply(user=user, unit=user.account.unit, data=data)


def events(household: Household, action: str) -> list[HouseholdEvent]:
    return list(HouseholdEvent.objects.filter(household=household, action=action).order_by("id"))


def snapshot(household: Household) -> tuple[object, ...]:
    household.refresh_from_db()
    return (
        household.head_name,
        household.head_id_number,
        household.monthly_income,
        list(household.members.order_by("id").values_list("name", "id_number")),
        sorted(OpenIdentity.objects.filter(household=household).values_list("id_number", flat=True)),
        HouseholdEvent.objects.filter(household=household).count(),
    )


# --- the details -----------------------------------------------------------------------------------------


def test_a_correction_writes_the_changed_fields_old_and_new_with_who(world: World) -> None:
    household = open_file(world)
    user = world.users["county_reporter"]
    household_edit(
        user=user,
        household=household,
        data=details(head_name="王建华", phone="13900001111", monthly_income=Decimal("1800.50")),
        note="户主姓名登记错字",
    )
    household.refresh_from_db()
    assert household.head_name == "王建华" and household.name_initials == "wjh"
    [event] = events(household, Action.EDITED)
    assert event.user == user and event.note == "户主姓名登记错字"
    assert event.old == {"head_name": "王建国", "phone": "13812345678", "monthly_income": "2400.00"}
    assert event.new == {"head_name": "王建华", "phone": "13900001111", "monthly_income": "1800.50"}


def test_nothing_changed_writes_no_event(world: World) -> None:
    household = open_file(world)
    household_edit(user=world.users["county_reporter"], household=household, data=details())
    assert events(household, Action.EDITED) == []


def test_a_new_head_id_derives_sex_and_birth_and_moves_one_household_one_file(world: World) -> None:
    household = open_file(world)
    household_edit(
        user=world.users["county_reporter"], household=household, data=details(head_id_number=NEW_HEAD)
    )
    household.refresh_from_db()
    assert (household.head_sex, household.head_birth_date) == ("男", dt.date(1980, 1, 2))
    assert household.id_reversed == NEW_HEAD[::-1]
    held = set(OpenIdentity.objects.filter(household=household).values_list("id_number", flat=True))
    assert held == {NEW_HEAD, SPOUSE}
    [event] = events(household, Action.EDITED)
    # The sex and birth date follow from the number; the birth date in full is not in the trail.
    assert event.old == {"head_id_number": HEAD} and event.new == {"head_id_number": NEW_HEAD}
    # The old number is free: another unit may file that person now.
    other = open_file(world, "sibling_reporter", [], head_name="王建国")
    assert other.head_id_number == HEAD


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"head_id_number": "110105194912310021"}, "head_id_number", "校验位不对"),
        ({"head_id_number": "12345"}, "head_id_number", "18位"),
        ({"head_name": "  "}, "head_name", "户主姓名不能为空"),
        ({"monthly_income": Decimal("2400.555")}, "monthly_income", "最多两位小数（到分）"),
        ({"minimum_living_line": Decimal("-1")}, "minimum_living_line", "不能是负数"),
        ({"household_size": 0}, "household_size", "家庭人口至少1人"),
        ({"category": "rich"}, "category", "类别应为"),
        ({"card_kind": "gold"}, "card_kind", "发放卡类型"),
    ],
)
def test_bad_details_are_refused_naming_the_field_and_nothing_is_written(
    world: World, changes: dict[str, object], field: str, message: str
) -> None:
    household = open_file(world)
    before = snapshot(household)
    with pytest.raises(InvalidCorrection) as refused:
        household_edit(user=world.users["county_reporter"], household=household, data=details(**changes))
    assert refused.value.field == field and refused.value.member is None
    assert message in str(refused.value)
    assert snapshot(household) == before


def test_an_id_on_another_open_file_is_refused_naming_the_holder_only_to_who_sees_it(world: World) -> None:
    open_file(world, "sibling_reporter", [], head_name="赵德明", head_id_number=OTHER)
    county = open_file(world)
    enterprise = open_file(world, "enterprise_reporter", [], head_name="刘强", head_id_number=NEW_HEAD)

    # The city's reviewer sees the sibling's file: unit and head named, the number masked.
    with pytest.raises(InvalidCorrection) as seen:
        household_edit(
            user=world.users["city_reviewer"], household=county, data=details(head_id_number=OTHER)
        )
    assert str(seen.value) == (
        "身份证号 4208**********"
        + OTHER[-4:]
        + " 已在“钟祥市总工会”的困难职工档案中（户主 赵德明），一户只能建一份档案"
    )
    # The enterprise's reporter does not: neither the county nor its household head is named.
    with pytest.raises(InvalidCorrection) as unseen:
        household_edit(
            user=world.users["enterprise_reporter"], household=enterprise, data=details(head_id_number=OTHER)
        )
    assert unseen.value.field == "head_id_number"
    assert "钟祥" not in str(unseen.value) and "赵德明" not in str(unseen.value)
    assert "已在其他单位的困难职工档案中" in str(unseen.value)
    enterprise.refresh_from_db()
    assert enterprise.head_id_number == NEW_HEAD


# --- the members -----------------------------------------------------------------------------------------


def test_adding_changing_and_removing_members_each_write_their_event(world: World) -> None:
    household = open_file(world)
    user = world.users["county_reporter"]
    spouse = household.members.get()
    member_add(
        user=user,
        household=household,
        data=MemberInput(name="王小明", relation="子女", id_number=CHILD, health="健康"),
    )
    [added] = events(household, Action.MEMBER_ADDED)[-1:]
    assert added.user == user and added.new == {
        "name": "王小明",
        "relation": "子女",
        "id_number": CHILD,
        "health": "健康",
    }
    member_change(
        user=user,
        household=household,
        member_id=spouse.pk,
        data=MemberInput(name="李秀英", relation="配偶", id_number=SPOUSE, monthly_income=Decimal("900")),
        note="补登收入",
    )
    [changed] = events(household, Action.MEMBER_CHANGED)
    assert changed.old == {"monthly_income": ""} and changed.new == {"monthly_income": "900.00"}
    assert changed.note == "成员：李秀英；补登收入"
    member_remove(user=user, household=household, member_id=spouse.pk)
    [removed] = events(household, Action.MEMBER_REMOVED)
    assert removed.old == {
        "name": "李秀英",
        "relation": "配偶",
        "id_number": SPOUSE,
        "monthly_income": "900.00",
    }
    assert removed.new == {}
    held = set(OpenIdentity.objects.filter(household=household).values_list("id_number", flat=True))
    assert held == {HEAD, CHILD}  # the removed spouse's number is free again


@pytest.mark.parametrize(
    ("member", "field", "message"),
    [
        (MemberInput(name="", relation="子女"), "name", "家庭成员姓名不能为空"),
        (MemberInput(name="王小明", relation=" "), "relation", "请填写与户主的关系"),
        (MemberInput(name="王小明", relation="子女", id_number="4208"), "id_number", "18位"),
        (MemberInput(name="王小明", relation="子女", id_number=SPOUSE), "id_number", "同一户内身份证号重复"),
        (MemberInput(name="王小明", relation="子女", id_number=HEAD), "id_number", "同一户内身份证号重复"),
        (
            MemberInput(name="王小明", relation="子女", monthly_income=Decimal("0.001")),
            "monthly_income",
            "最多两位小数",
        ),
    ],
)
def test_a_bad_member_is_refused_on_its_row_and_nothing_is_written(
    world: World, member: MemberInput, field: str, message: str
) -> None:
    household = open_file(world)
    before = snapshot(household)
    with pytest.raises(InvalidCorrection) as refused:
        household_correct(
            user=world.users["county_reporter"],
            household=household,
            details=details(head_name="王建华"),  # valid, and not kept when a member is refused
            members=[MemberEdit(None, MemberInput(name="王小红", relation="子女")), MemberEdit(None, member)],
        )
    assert (refused.value.field, refused.value.member) == (field, 1)
    assert message in str(refused.value)
    assert snapshot(household) == before


def test_a_member_on_another_open_file_is_refused_on_its_row(world: World) -> None:
    open_file(world, "sibling_reporter", [], head_name="赵德明", head_id_number=OTHER)
    household = open_file(world)
    before = snapshot(household)
    with pytest.raises(InvalidCorrection) as refused:
        member_add(
            user=world.users["county_reporter"],
            household=household,
            data=MemberInput(name="赵小兰", relation="子女", id_number=OTHER),
        )
    assert (refused.value.field, refused.value.member) == ("id_number", 0)
    assert "已在其他单位的困难职工档案中" in str(refused.value) and "赵德明" not in str(refused.value)
    assert snapshot(household) == before


def test_head_and_member_may_swap_numbers_in_one_correction(world: World) -> None:
    household = open_file(world)
    spouse = household.members.get()
    household_correct(
        user=world.users["county_reporter"],
        household=household,
        details=details(head_name="李秀英", head_id_number=SPOUSE),
        members=[MemberEdit(spouse.pk, MemberInput(name="王建国", relation="配偶", id_number=HEAD))],
    )
    household.refresh_from_db()
    assert (household.head_name, household.head_id_number) == ("李秀英", SPOUSE)
    assert household.members.get().id_number == HEAD
    held = set(OpenIdentity.objects.filter(household=household).values_list("id_number", flat=True))
    assert held == {HEAD, SPOUSE}


def test_a_member_of_another_file_cannot_be_changed_through_this_one(world: World) -> None:
    household = open_file(world)
    other = open_file(world, "sibling_reporter", [], head_name="赵德明", head_id_number=OTHER)
    stranger = Member.objects.create(household=other, name="赵小兰", relation="子女")
    with pytest.raises(InvalidCorrection, match="这位家庭成员已不在档案中"):
        member_remove(user=world.users["county_reporter"], household=household, member_id=stranger.pk)
    assert Member.objects.filter(pk=stranger.pk).exists()


# --- who and when ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "allowed"),
    [
        ("county_reporter", True),  # the unit's own staff
        ("city_reviewer", True),  # a reviewer above
        ("city_admin", True),
        ("county_reviewer", False),  # a reviewer of the unit itself decides nothing of its own files
        ("enterprise_reporter", False),  # the unit below
        ("sibling_reporter", False),  # a sibling county
    ],
)
def test_who_may_correct_a_file(world: World, username: str, allowed: bool) -> None:
    household = open_file(world)
    user: User = world.users[username]
    if allowed:
        household_edit(user=user, household=household, data=details(head_name="王建华"))
        household.refresh_from_db()
        assert household.head_name == "王建华"
        return
    before = snapshot(household)
    with pytest.raises(PermissionDenied):
        household_edit(user=user, household=household, data=details(head_name="王建华"))
    assert snapshot(household) == before


def test_a_county_admin_never_corrects_a_sibling_countys_file(world: World) -> None:
    admin = account_create(
        username="county_admin", password=PASSWORD, unit=world.county, role=Account.Role.ADMIN
    )
    household = open_file(world, "sibling_reporter", [])
    with pytest.raises(PermissionDenied):
        member_add(user=admin.user, household=household, data=MemberInput(name="王小明", relation="子女"))


@pytest.mark.parametrize("end", ["out", "closed"])
def test_an_ended_file_is_not_corrected_until_it_is_reopened(world: World, end: str) -> None:
    household = open_file(world)
    reviewer = world.users["city_reviewer"]
    household_file(user=reviewer, household=household)
    if end == "out":
        household_out_of_difficulty(
            user=reviewer, household=household, path=Household.OutPath.EMPLOYMENT, on=dt.date(2018, 6, 1)
        )
    else:
        household_close(user=reviewer, household=household, reason="迁出本市", on=dt.date(2018, 6, 1))
    before = snapshot(household)
    for user in (reviewer, world.users["county_reporter"]):
        with pytest.raises(
            ArchiveError, match="这份档案已经结束，不能再修改；如需更正，请上级审核员先恢复档案"
        ):
            household_edit(user=user, household=household, data=details(head_name="王建华"))
    assert snapshot(household) == before


def test_the_household_size_against_the_members_is_a_warning(world: World) -> None:
    household = open_file(world)  # 2: the head and the spouse
    assert size_mismatch(household, 1) is None
    household_edit(user=world.users["county_reporter"], household=household, data=details(household_size=4))
    household.refresh_from_db()
    assert household.household_size == 4  # kept as written: not an error
    assert size_mismatch(household, 1) == "家庭人口填的是 4 人，登记的是 2 人（户主和 1 名家庭成员），请核实"
