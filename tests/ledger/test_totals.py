"""The maintained ledger totals (`songnuan.ledger.totals`): after every kind of ledger write, through the
services, the kept rows are what the live derivation says — item by item, for every unit; a changed
configuration rebuilds them; `manage.py ledger_totals` finds a difference and mends it; and, as a property,
any sequence of approvals, reversals, receipts, activities and category changes leaves them equal."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from songnuan.archive.models import Household
from songnuan.formkit.definitions import get_form
from songnuan.ledger import totals
from songnuan.ledger.activities import (
    ActivityInput,
    StationInput,
    activities_add_many,
    activity_add,
    activity_delete,
    activity_edit,
    station_close,
    station_edit,
    station_register,
)
from songnuan.ledger.derive import derive_units
from songnuan.ledger.models import (
    Activity,
    DerivedTotals,
    DerivedTotalsBuild,
    FundSource,
    HelpItem,
    HelpRecord,
)
from songnuan.ledger.services import allocate, help_record_reverse, receipt_reverse
from tests.ledger.ledgerworld import LedgerWorld, help_input, household, raise_money

pytestmark = pytest.mark.django_db

FORM = get_form("warmth-2018")
CENTRES = get_form("service-centres-2017")
DAY = dt.date(2018, 1, 20)


def agree(ledger: LedgerWorld) -> None:
    """The kept rows of both forms are the live derivation's, unit by unit (and the checker says so)."""
    campaign = ledger.world.campaign
    assert totals.verify(campaign) == []
    for form in (FORM, CENTRES):
        assert totals.unit_totals(campaign, form) == derive_units(campaign, form)


@pytest.fixture
def kept(ledger: LedgerWorld) -> LedgerWorld:
    """The ledger world with the campaign's rows built (the first read builds them)."""
    ledger.world.campaign.form_codes = [FORM.code, CENTRES.code]
    ledger.world.campaign.save(update_fields=["form_codes"])
    totals.unit_totals(ledger.world.campaign, FORM)
    totals.unit_totals(ledger.world.campaign, CENTRES)
    assert DerivedTotalsBuild.objects.filter(campaign=ledger.world.campaign).count() == 2
    return ledger


def _frontline(people: int) -> ActivityInput:
    return ActivityInput(kind=Activity.Kind.VISIT_FRONTLINE, on=DAY, people=people)


def test_the_first_read_builds_what_the_records_say(ledger: LedgerWorld) -> None:
    approved = ledger.approve(ledger.add(help_input(ledger.wang)))
    assert not DerivedTotalsBuild.objects.exists()
    county = totals.unit_totals(ledger.world.campaign, FORM)[ledger.world.county.pk]
    assert county["2C"] == 1 and county["4A"] == Decimal("0.1000")  # 1,000 yuan = 0.1 万元
    assert county["3A"] == Decimal("15.0000")  # raised 100,000 + 50,000
    assert approved.unit_id == ledger.world.county.pk
    assert DerivedTotals.objects.filter(campaign=ledger.world.campaign, form_code=FORM.code).count() == 1


def test_help_records_approved_and_reversed(kept: LedgerWorld) -> None:
    world = kept.world
    draft = kept.add(help_input(kept.wang))
    agree(kept)  # a draft counts nowhere
    record = kept.approve(draft)
    assert totals.unit_totals(world.campaign, FORM)[world.county.pk]["2D"] == 1
    agree(kept)
    kept.approve(kept.add(help_input(kept.li, item="living", source="union", amount=Decimal("300.00"))))
    agree(kept)
    help_record_reverse(user=world.users["county_reviewer"], record=record, reason="重复发放")
    county = totals.unit_totals(world.campaign, FORM)[world.county.pk]
    assert county["2C"] == 1  # 王建国's only payment is reversed: 李秀英 alone
    agree(kept)


def test_receipts_and_allocations(kept: LedgerWorld) -> None:
    world = kept.world
    raise_money(world, world.county, "donation", "8000")
    agree(kept)
    passed = allocate(
        user=world.users["county_reporter"],
        campaign=world.campaign,
        giver=world.county,
        taker=world.enterprise,
        source=FundSource.objects.get(code="union"),
        amount=Decimal("5000"),
        on=DAY,
    )
    agree(kept)
    receipt_reverse(user=world.users["county_reporter"], receipt=passed, reason="拨错单位")
    agree(kept)
    assert totals.unit_totals(world.campaign, FORM)[world.county.pk]["3E"] == Decimal("0.8000")


def test_activities_one_by_one_and_imported(kept: LedgerWorld) -> None:
    world = kept.world
    reporter = world.users["county_reporter"]
    made = activity_add(user=reporter, campaign=world.campaign, unit=world.county, data=_frontline(3))
    assert totals.unit_totals(world.campaign, FORM)[world.county.pk]["2A"] == 3
    agree(kept)
    activity_edit(user=reporter, activity=made, data=_frontline(7))
    assert totals.unit_totals(world.campaign, FORM)[world.county.pk]["2A"] == 7
    agree(kept)
    activities_add_many(
        user=reporter,
        campaign=world.campaign,
        unit=world.county,
        rows=[_frontline(2), _frontline(5)],
        note="导入 活动.xlsx",
    )
    assert totals.unit_totals(world.campaign, FORM)[world.county.pk]["2A"] == 14
    agree(kept)
    activity_delete(user=reporter, activity=made)
    assert totals.unit_totals(world.campaign, FORM)[world.county.pk]["2A"] == 7
    agree(kept)


def test_stations_registered_edited_and_closed(kept: LedgerWorld) -> None:
    world = kept.world
    reporter = world.users["county_reporter"]
    data = StationInput(name="象山站", address="象山大道1号", opened_on=dt.date(2017, 6, 1), operator="环卫")
    station = station_register(user=reporter, unit=world.county, data=data)
    assert totals.unit_totals(world.campaign, FORM)[world.county.pk]["11A"] == 1
    agree(kept)
    later = dataclasses.replace(data, opened_on=dt.date(2018, 3, 1))
    station_edit(user=reporter, station=station, data=later)  # opens after the campaign: none open, blank
    assert totals.unit_totals(world.campaign, FORM)[world.county.pk]["11A"] is None
    agree(kept)
    station_edit(user=reporter, station=station, data=data)
    station_close(user=reporter, station=station, on=dt.date(2018, 1, 5))
    assert totals.unit_totals(world.campaign, FORM)[world.county.pk]["11A"] is None
    agree(kept)


def test_a_household_whose_category_changes(kept: LedgerWorld) -> None:
    world = kept.world
    kept.approve(kept.add(help_input(kept.wang)))
    assert totals.unit_totals(world.campaign, FORM)[world.county.pk]["2D"] == 1
    kept.wang.category = Household.Category.MODEL_WORKER  # as the archive's correction saves it
    kept.wang.save()
    county = totals.unit_totals(world.campaign, FORM)[world.county.pk]
    assert (county["2D"], county["2F"]) == (0, 1)
    agree(kept)


def test_a_changed_configuration_rebuilds(kept: LedgerWorld, django_assert_num_queries: Any) -> None:
    world = kept.world
    kept.approve(kept.add(help_input(kept.wang, item="living", source="union", amount=Decimal("200.00"))))
    with django_assert_num_queries(3):  # the configuration's digest, the build's, the rows
        before = totals.unit_totals(world.campaign, FORM)[world.county.pk]
    assert before["6C"] == 1
    living = HelpItem.objects.get(code="living")
    living.form_item = "6D"  # moved in the admin: 生活救助 now counts as 就业培训
    living.save()
    after = totals.unit_totals(world.campaign, FORM)[world.county.pk]
    assert (after["6C"], after["6D"]) == (0, 1)
    agree(kept)


def test_the_command_finds_a_difference_and_rebuilds(kept: LedgerWorld) -> None:
    world = kept.world
    kept.approve(kept.add(help_input(kept.wang)))
    call_command("ledger_totals")  # agrees: no error
    row = DerivedTotals.objects.get(campaign=world.campaign, form_code=FORM.code, unit=world.county)
    row.values = {**row.values, "2C": 99}
    row.save()
    with pytest.raises(CommandError, match="1 difference"):
        call_command("ledger_totals", campaign=world.campaign.pk)
    call_command("ledger_totals", rebuild=True)
    call_command("ledger_totals")
    agree(kept)
    with pytest.raises(CommandError, match="no campaign"):
        call_command("ledger_totals", campaign=987654)


def test_the_command_finds_and_mends_a_wrong_reversal_mark(kept: LedgerWorld) -> None:
    """A reversal written around `HelpRecord.save` (raw SQL) leaves its record marked as standing: the check
    says so and the rebuild sets the mark from the reversals."""
    world = kept.world
    record = kept.approve(kept.add(help_input(kept.wang)))
    other = kept.approve(kept.add(help_input(kept.li)))
    help_record_reverse(user=world.users["county_reviewer"], record=record, reason="发放对象有误")
    call_command("ledger_totals")
    HelpRecord.objects.filter(pk=record.pk).update(is_reversed=False)
    HelpRecord.objects.filter(pk=other.pk).update(is_reversed=True)
    assert totals.reversal_marks_wrong(world.campaign) == sorted([record.pk, other.pk])
    with pytest.raises(CommandError, match="2 difference"):
        call_command("ledger_totals", campaign=world.campaign.pk)
    call_command("ledger_totals", rebuild=True)
    assert (
        HelpRecord.objects.get(pk=record.pk).is_reversed
        and not HelpRecord.objects.get(pk=other.pk).is_reversed
    )
    call_command("ledger_totals")


def test_one_unit_is_read_without_the_others(kept: LedgerWorld) -> None:
    world = kept.world
    raise_money(world, world.enterprise, "union", "3000", user="enterprise_reporter")
    only = totals.unit_totals(world.campaign, FORM, [world.enterprise.pk])
    assert list(only) == [world.enterprise.pk]
    assert only[world.enterprise.pk]["3A"] == Decimal("0.3000")


# --- as a property ---------------------------------------------------------------------------------------

_STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("pay"), st.integers(0, 2), st.sampled_from(["living", "visit", "other"])),
        st.tuples(st.just("reverse"), st.integers(0, 20), st.just("")),
        st.tuples(st.just("recategorise"), st.integers(0, 2), st.sampled_from(Household.Category.values)),
        st.tuples(st.just("activity"), st.integers(1, 9), st.just("")),
        st.tuples(st.just("raise"), st.integers(1, 9), st.sampled_from(["union", "donation"])),
    ),
    max_size=8,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=_STEPS)
def test_any_sequence_of_writes_keeps_the_rows_equal_to_the_records(
    kept: LedgerWorld, steps: list[tuple[str, int, str]]
) -> None:
    world = kept.world
    reviewer = world.users["county_reviewer"]
    with transaction.atomic():  # every example rolled back: the world stays as the fixture built it
        homes = [kept.wang, kept.li, household(world, "周测试", category=Household.Category.MIGRANT)]
        paid = []
        for step, number, code in steps:
            if step == "pay":
                data = help_input(
                    homes[number], item=code, source="union", amount=Decimal("100.00"), explanation="已核实"
                )
                made = kept.approve(kept.add(data))
                if not isinstance(made, list):  # a warning waiting for an explanation: left as a draft
                    paid.append(made)
            elif step == "reverse" and paid:
                help_record_reverse(user=reviewer, record=paid.pop(number % len(paid)), reason="更正")
            elif step == "recategorise":
                homes[number].category = code
                homes[number].save()
            elif step == "activity":
                activity_add(
                    user=world.users["county_reporter"],
                    campaign=world.campaign,
                    unit=world.county,
                    data=_frontline(number),
                )
            elif step == "raise":
                raise_money(world, world.county, code, str(number * 1000))
        agree(kept)
        transaction.set_rollback(True)
