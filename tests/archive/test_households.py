"""The archive: one household one file across the whole system, the lifecycle, the 四明确 plan report,
permissions along the unit tree."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from time_machine import TimeMachineFixture

from songnuan.archive.models import Household, OpenIdentity, Proposal
from songnuan.archive.selectors import due_for_yearly_review, filed_counts, households_visible_to, plan_gaps
from songnuan.archive.services import (
    ArchiveError,
    DuplicateFile,
    HouseholdInput,
    MemberInput,
    household_apply,
    household_close,
    household_file,
    household_out_of_difficulty,
    household_propose_close,
    household_propose_out,
    household_review_yearly,
    plan_set,
)
from songnuan.orgs.models import Account
from songnuan.orgs.services import account_create

from ..world import FROZEN_NOW, FROZEN_TODAY, PASSWORD, World

HEAD = "11010519491231002X"
SPOUSE = "440524188001010014"
ON = dt.date(2018, 3, 1)  # the date an action is dated (a given date, not today: no wall clock in tests)


def apply(
    world: World, reporter: str = "county_reporter", *, head: str = HEAD, spouse: str = ""
) -> Household:
    unit = {
        "county_reporter": world.county,
        "sibling_reporter": world.sibling,
        "enterprise_reporter": world.enterprise,
    }
    members = [MemberInput(name="李秀英", relation="配偶", id_number=spouse)] if spouse else []
    data = HouseholdInput(
        head_name="王建国",
        head_id_number=head,
        category=Household.Category.WORKER,
        monthly_income=Decimal("2400"),
        household_size=3,
        minimum_living_line=Decimal("600"),
        members=members,
    )
    return household_apply(user=world.users[reporter], unit=unit[reporter], data=data)


def test_apply_derives_birth_date_and_sex_from_the_id(world: World) -> None:
    household = apply(world)
    assert (household.head_birth_date, household.head_sex) == (dt.date(1949, 12, 31), "女")
    assert household.status == Household.Status.APPLIED
    assert household.income_per_person == Decimal("800.00")


def test_a_second_unit_filing_the_same_person_gets_a_conflict_naming_no_one_it_may_not_see(
    world: World,
) -> None:
    apply(world)
    with pytest.raises(DuplicateFile) as caught:
        apply(world, "sibling_reporter")  # 钟祥市's reporter may not see 东宝区's files
    message = str(caught.value)
    assert message == "身份证号 1101**********002X 已在其他单位的困难职工档案中，一户只能建一份档案"
    assert "东宝区" not in message and "王建国" not in message and HEAD not in message
    assert Household.objects.count() == 1  # nothing half-written


def test_a_conflict_names_the_holder_to_whoever_may_see_its_file(world: World) -> None:
    apply(world)
    data = HouseholdInput(head_name="王建国", head_id_number=HEAD, category=Household.Category.WORKER)
    with pytest.raises(DuplicateFile) as caught:  # the city's reviewer sees every file
        household_apply(user=world.users["city_reviewer"], unit=world.sibling, data=data)
    assert str(caught.value) == (
        "身份证号 1101**********002X 已在“东宝区总工会”的困难职工档案中（户主 王建国），一户只能建一份档案"
    )


def test_a_member_on_an_open_file_counts_too(world: World) -> None:
    apply(world, spouse=SPOUSE)
    with pytest.raises(DuplicateFile):
        apply(world, "sibling_reporter", head=SPOUSE)


def test_a_fifteen_digit_id_is_the_same_person(world: World) -> None:
    apply(world)
    with pytest.raises(DuplicateFile):
        apply(world, "sibling_reporter", head="110105491231002")


def test_closing_or_leaving_difficulty_frees_the_ids(world: World) -> None:
    # Closing and leaving difficulty are the reviewer above's (the unit's reporter only proposes them).
    household = apply(world)
    household_close(
        user=world.users["city_reviewer"], household=household, reason="迁出本市", on=dt.date(2018, 3, 1)
    )
    assert not OpenIdentity.objects.exists()
    again = apply(world, "sibling_reporter")
    household_file(user=world.users["city_reviewer"], household=again)
    household_out_of_difficulty(
        user=world.users["city_admin"],
        household=again,
        path=Household.OutPath.EMPLOYMENT,
        on=dt.date(2018, 6, 1),
    )
    again.refresh_from_db()
    assert again.status == Household.Status.OUT and again.out_path == "employment"
    assert not OpenIdentity.objects.exists()


@pytest.mark.parametrize(
    ("head", "fragment"),
    [("110105194912310021", "校验位"), ("11010519490230002X", "出生日期"), ("1234", "18位")],
)
def test_bad_id_numbers_are_refused_with_a_reason(world: World, head: str, fragment: str) -> None:
    with pytest.raises(ArchiveError, match=fragment):
        apply(world, head=head)
    assert not Household.objects.exists()


def test_lifecycle_needs_the_right_reviewer(world: World) -> None:
    household = apply(world)
    with pytest.raises(PermissionDenied):
        household_file(user=world.users["county_reviewer"], household=household)  # its own unit
    household_file(user=world.users["city_reviewer"], household=household)
    household.refresh_from_db()
    assert household.status == Household.Status.FILED and household.filed_at is not None
    with pytest.raises(ArchiveError):
        household_file(user=world.users["city_reviewer"], household=household)
    with pytest.raises(ArchiveError, match="脱困路径"):
        household_out_of_difficulty(user=world.users["city_reviewer"], household=household, path="x", on=ON)
    with pytest.raises(ArchiveError, match="原因"):
        household_close(user=world.users["city_reviewer"], household=household, reason=" ", on=ON)
    with pytest.raises(ArchiveError, match="脱困路径"):
        household_propose_out(user=world.users["county_reporter"], household=household, path="x", on=ON)
    with pytest.raises(ArchiveError, match="原因"):
        household_propose_close(user=world.users["county_reporter"], household=household, reason=" ", on=ON)
    assert not Proposal.objects.exists()


@pytest.mark.parametrize("end", ["out", "close"])
def test_the_units_reporter_may_not_end_a_filed_file_only_propose_it(world: World, end: str) -> None:
    household = apply(world)
    household_file(user=world.users["city_reviewer"], household=household)
    reporter = world.users["county_reporter"]
    with pytest.raises(ArchiveError, match="须由上级工会审核确认"):
        if end == "out":
            household_out_of_difficulty(
                user=reporter, household=household, path=Household.OutPath.EMPLOYMENT, on=ON
            )
        else:
            household_close(user=reporter, household=household, reason="迁出本市", on=ON)
    household.refresh_from_db()
    assert household.status == Household.Status.FILED and household.ended_on is None
    assert OpenIdentity.objects.filter(household=household).exists()
    # The same for the county's own admin: it fills the county, it does not review it.
    admin = account_create(
        username="county_admin", password=PASSWORD, unit=world.county, role=Account.Role.ADMIN
    ).user
    with pytest.raises(ArchiveError, match="须由上级工会审核确认"):
        household_close(user=admin, household=household, reason="迁出本市", on=ON)
    # … and the reviewer of the county itself (not above it) may do neither, nor propose.
    for user in (world.users["county_reviewer"], world.users["enterprise_reporter"]):
        with pytest.raises(PermissionDenied):
            household_close(user=user, household=household, reason="迁出本市", on=ON)
        with pytest.raises(PermissionDenied):
            household_propose_close(user=user, household=household, reason="迁出本市", on=ON)
    household.refresh_from_db()
    assert household.status == Household.Status.FILED


def test_other_units_cannot_touch_or_see_a_file(world: World) -> None:
    household = apply(world)
    with pytest.raises(PermissionDenied):
        household_close(user=world.users["sibling_reporter"], household=household, reason="x", on=ON)
    with pytest.raises(PermissionDenied):
        plan_set(
            user=world.users["sibling_reporter"],
            household=household,
            contact="",
            deadline=None,
            measures="",
            path="",
        )
    assert list(households_visible_to(world.users["sibling_reporter"])) == []
    assert list(households_visible_to(world.users["county_reporter"])) == [household]
    assert list(households_visible_to(world.users["city_reviewer"])) == [household]
    assert list(households_visible_to(world.users["enterprise_reporter"])) == []


def test_plan_report_lists_filed_households_missing_any_of_the_four(world: World) -> None:
    household = apply(world)
    household_file(user=world.users["city_reviewer"], household=household)
    gaps = plan_gaps(world.users["city_reviewer"])
    assert [g.missing for g in gaps[world.county]] == [["联系人（单位）", "期限", "措施", "路径"]]
    plan_set(
        user=world.users["county_reporter"],
        household=household,
        contact="东宝区总工会 李红",
        deadline=dt.date(2018, 12, 31),
        measures="技能培训后推荐就业",
        path=Household.OutPath.EMPLOYMENT,
    )
    assert plan_gaps(world.users["city_reviewer"]) == {}


@pytest.mark.parametrize(
    ("today", "due"),
    [
        (None, False),  # the default: today in China, the day it was filed
        (dt.date(2027, 12, 1), False),
        # Filed at 00:30 on 2026-12-02 in China: a year later that day it is not yet due (it would be were
        # the year counted from the start of the day in UTC, 08:00 in China)…
        (dt.date(2027, 12, 2), False),
        (dt.date(2027, 12, 3), True),  # … the next day it is.
        (dt.date(2028, 1, 1), True),
    ],
)
def test_a_file_is_due_for_its_yearly_review_a_year_after_the_day_it_was_last_reviewed(
    world: World, frozen_now: dt.datetime, today: dt.date | None, due: bool
) -> None:
    household = household_file(user=world.users["city_reviewer"], household=apply(world))
    assert household.last_reviewed_at == frozen_now
    expected = [household] if due else []
    assert list(due_for_yearly_review(world.users["city_reviewer"], today=today)) == expected


def test_yearly_review_and_counts(world: World, time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(FROZEN_NOW, tick=False)
    household = apply(world)
    household_file(user=world.users["city_reviewer"], household=household)
    later = FROZEN_TODAY + dt.timedelta(days=400)
    assert list(due_for_yearly_review(world.users["city_reviewer"], today=later)) == [household]
    time_machine.move_to(FROZEN_NOW + dt.timedelta(days=399), tick=False)  # reviewed a year and more on
    household_review_yearly(user=world.users["city_reviewer"], household=household)
    assert list(due_for_yearly_review(world.users["city_reviewer"], today=later)) == []
    assert list(due_for_yearly_review(world.users["city_reviewer"])) == []
    assert filed_counts(world.city) == {"worker": 1}
    assert filed_counts(world.sibling) == {}


def test_a_reviewer_above_opening_a_file_files_it_at_once(world: World) -> None:
    household = household_apply(
        user=world.users["county_reviewer"],
        unit=world.enterprise,
        data=HouseholdInput(head_name="王建国", head_id_number=HEAD, category=Household.Category.WORKER),
    )
    assert household.status == Household.Status.FILED
    assert household.reviewed_by == world.users["county_reviewer"]
    with pytest.raises(PermissionDenied):  # not for its own unit (no one above has reviewed it) …
        household_apply(
            user=world.users["county_reviewer"],
            unit=world.county,
            data=HouseholdInput(head_name="李四", head_id_number=SPOUSE, category=Household.Category.WORKER),
        )
    with pytest.raises(PermissionDenied):  # … nor for a unit outside its branch
        household_apply(
            user=world.users["county_reviewer"],
            unit=world.sibling,
            data=HouseholdInput(head_name="李四", head_id_number=SPOUSE, category=Household.Category.WORKER),
        )


def test_the_difficulty_type_is_one_of_the_configured_ones(world: World, settings: object) -> None:
    data = HouseholdInput(
        head_name="王建国",
        head_id_number=HEAD,
        category=Household.Category.WORKER,
        difficulty_type="特别困难",
    )
    with pytest.raises(ArchiveError, match="困难类型应为深度困难、相对困难、意外致困之一"):
        household_apply(user=world.users["county_reporter"], unit=world.county, data=data)
    settings.SONGNUAN_DIFFICULTY_TYPES = ["特别困难", "一般困难"]  # type: ignore[attr-defined]
    household = household_apply(user=world.users["county_reporter"], unit=world.county, data=data)
    assert household.difficulty_type == "特别困难"
