"""A spot check end to end through its services: the frame (standing approved help, bound funds), a
reproducible stratified draw with its reserve, calls (at most three), replacements from the same seeded
order, answers with their verdict, and the refusals: permissions, an empty frame, a fourth call, a household
not in the sample, a save over someone else's."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from songnuan.archive.models import Household
from songnuan.checks.frames import campaign_frame
from songnuan.checks.models import CheckEvent, SampledHousehold, SpotCheck
from songnuan.checks.services import (
    AnswersInput,
    CheckError,
    answers_save,
    call_record,
    plan,
    replacement_draw,
    spot_check_draw,
)
from songnuan.checks.stats import Verdict
from songnuan.orgs.models import Unit
from songnuan.orgs.services import unit_create
from tests.checks.checksworld import caller, filed, paid, request
from tests.world import World

pytestmark = pytest.mark.django_db


def drawn_households(check: SpotCheck) -> list[tuple[int, int, int, bool]]:
    return list(
        SampledHousehold.objects.filter(spot_check=check)
        .order_by("stratum__unit__path", "position")
        .values_list("stratum__unit_id", "position", "household_id", "in_sample")
    )


def test_the_frame_is_the_standing_approved_help_by_stratum(world: World, helped: Any) -> None:
    frame = campaign_frame(campaign_id=world.campaign.pk, unit=world.city, bound_only=True, level=1)
    assert set(frame.strata) == {world.county.pk, world.sibling.pk}  # the enterprise is in the county's
    assert frame.strata[world.county.pk] == sorted(h.pk for h in helped["county"])
    assert frame.strata[world.sibling.pk] == sorted(h.pk for h in helped["sibling"])
    everything = campaign_frame(campaign_id=world.campaign.pk, unit=world.city, bound_only=False, level=1)
    assert helped["outside"][2].pk in everything.strata[world.county.pk]  # union money counts when asked
    assert helped["outside"][0].pk not in everything.strata[world.county.pk]  # never a draft
    assert helped["outside"][1].pk not in everything.strata[world.county.pk]  # nor a reversed payment
    deeper = campaign_frame(campaign_id=world.campaign.pk, unit=world.city, bound_only=True, level=2)
    assert len(deeper.strata[world.enterprise.pk]) == 3 and len(deeper.strata[world.county.pk]) == 9


def test_the_roots_frame_keeps_out_of_another_tree(world: World, helped: Any) -> None:
    """The one root's frame is read with no condition on units; with a second root on the system, the first
    root's frame still holds only its own tree's households."""
    alone = campaign_frame(campaign_id=world.campaign.pk, unit=world.city, bound_only=True, level=1)
    other = unit_create(name="宜昌市总工会", kind=Unit.Kind.CITY)
    stranger = filed(world, world.sibling, "宜昌1")
    Household.objects.filter(pk=stranger.pk).update(unit=other)  # filed there (no account of ours is)
    paid(world, other, stranger)
    shared = campaign_frame(campaign_id=world.campaign.pk, unit=world.city, bound_only=True, level=1)
    assert shared.strata == alone.strata and stranger.pk not in shared.strata[world.county.pk]
    theirs = campaign_frame(campaign_id=world.campaign.pk, unit=other, bound_only=True, level=0)
    assert theirs.strata == {other.pk: [stranger.pk]}


def test_the_same_seed_draws_the_same_sample(world: World, helped: Any) -> None:
    reviewer = world.users["city_reviewer"]
    first = spot_check_draw(user=reviewer, request=request(world))
    again = spot_check_draw(user=reviewer, request=request(world, title="再抽一次"))
    other = spot_check_draw(user=reviewer, request=request(world, title="另一种子", seed=7))
    assert drawn_households(first) == drawn_households(again)
    assert drawn_households(first) != drawn_households(other)
    assert first.frame_digest == again.frame_digest and first.frame_size == 14
    in_sample = [row for row in drawn_households(first) if row[3]]
    assert len(in_sample) == 3 + 2  # the sibling has only 2: all taken
    county_rows = [row for row in drawn_households(first) if row[0] == world.county.pk]
    assert [row[1] for row in county_rows] == list(range(5))  # 3 in the sample, 2 in reserve
    event = CheckEvent.objects.get(spot_check=first, action=CheckEvent.Action.DRAWN)
    assert event.new["seed"] == "20180125" and "钟祥市总工会只有2户，全部抽取" in event.note
    short = {s.unit_id: s.short for s in first.strata.all()}
    assert short == {world.county.pk: False, world.sibling.pk: True}


def test_the_plan_before_drawing(world: World, helped: Any) -> None:
    proportional = plan(request(world, allocation=SpotCheck.Allocation.PROPORTIONAL, total=7, minimum=1))
    assert proportional.taken == 7
    by_margin = plan(
        request(
            world, allocation=SpotCheck.Allocation.MARGIN, margin=Decimal("0.1"), confidence=Decimal("0.95")
        )
    )
    assert by_margin.strata[world.county.pk].taken == 11  # n0 = 96.04; with N = 12: 10.9 → 11
    with pytest.raises(CheckError, match="每个单位抽取户数"):
        plan(request(world, per_stratum=None))
    with pytest.raises(CheckError, match="允许误差"):
        plan(
            request(
                world,
                allocation=SpotCheck.Allocation.MARGIN,
                margin=Decimal("0.9"),
                confidence=Decimal("0.95"),
            )
        )


def test_an_empty_frame_and_who_may_draw(world: World) -> None:
    with pytest.raises(CheckError, match="抽样框为空"):
        spot_check_draw(user=world.users["city_reviewer"], request=request(world))
    for name in ("county_reviewer", "county_reporter"):
        with pytest.raises(PermissionDenied):
            spot_check_draw(user=world.users[name], request=request(world))
    assert not SpotCheck.objects.exists()


@pytest.fixture
def check(world: World, helped: Any) -> SpotCheck:
    return spot_check_draw(user=world.users["city_reviewer"], request=request(world))


def first_sampled(check: SpotCheck, unit: Unit) -> SampledHousehold:
    return SampledHousehold.objects.filter(spot_check=check, stratum__unit=unit, in_sample=True).order_by(
        "position"
    )[0]


def test_three_calls_at_most_then_a_replacement_from_the_same_order(world: World, check: SpotCheck) -> None:
    user = caller(world)
    target = first_sampled(check, world.county)
    for _ in range(3):
        call_record(user=user, sampled=target, disposition="no-answer")
    with pytest.raises(CheckError, match="已拨打3次"):
        call_record(user=user, sampled=target, disposition="no-answer")
    target.refresh_from_db()
    assert target.verdict == Verdict.NOT_REACHED
    reserve = replacement_draw(user=user, sampled=target)
    assert (reserve.position, reserve.in_sample, reserve.replaces_id) == (3, True, target.pk)
    with pytest.raises(CheckError, match="已有替补户"):
        replacement_draw(user=user, sampled=target)
    unused = SampledHousehold.objects.get(spot_check=check, stratum__unit=world.county, position=4)
    with pytest.raises(CheckError, match="不在样本中"):
        call_record(user=user, sampled=unused, disposition="self")


def test_a_wrong_number_is_replaced_at_once_a_refusal_never(world: World, check: SpotCheck) -> None:
    user = caller(world)
    county = SampledHousehold.objects.filter(spot_check=check, stratum__unit=world.county, in_sample=True)
    wrong, refusing = county.order_by("position")[:2]
    call_record(user=user, sampled=wrong, disposition="invalid")
    assert replacement_draw(user=user, sampled=wrong).position == 3
    call_record(user=user, sampled=refusing, disposition="refused")
    with pytest.raises(CheckError, match="才能替补"):
        replacement_draw(user=user, sampled=refusing)
    sibling = first_sampled(check, world.sibling)
    for _ in range(3):
        call_record(user=user, sampled=sibling, disposition="off")
    with pytest.raises(CheckError, match="备用户已用完"):
        replacement_draw(user=user, sampled=sibling)


def test_only_the_checking_units_callers(world: World, check: SpotCheck) -> None:
    target = first_sampled(check, world.county)
    for name in ("city_reviewer", "county_reviewer"):  # no callers' permission, or not the checking unit
        with pytest.raises(PermissionDenied):
            call_record(user=world.users[name], sampled=target, disposition="self")
    with pytest.raises(CheckError, match="没有“busy”这种拨打结果"):
        call_record(user=caller(world), sampled=target, disposition="busy")


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (
            AnswersInput(received=True, amount=Decimal("800.00"), how="card", satisfaction="satisfied"),
            Verdict.CONFIRMED,
        ),
        (AnswersInput(received=True, amount=None, how="card"), Verdict.CONFIRMED),  # does not remember: fine
        (AnswersInput(received=True, amount=Decimal("500.00"), how="card"), Verdict.AMOUNT_DIFFERS),
        (AnswersInput(received=False), Verdict.DENIES),
        (AnswersInput(received=True, amount=Decimal("800.00"), how="cash"), Verdict.CASH),
    ],
)
def test_answers_and_their_verdict(
    world: World, check: SpotCheck, answers: AnswersInput, expected: str
) -> None:
    user = caller(world)
    target = first_sampled(check, world.county)
    with pytest.raises(CheckError, match="请先记录接通"):
        answers_save(user=user, sampled=target, data=answers, version=target.version)
    call_record(user=user, sampled=target, disposition="no-answer")
    call_record(user=user, sampled=target, disposition="family")
    target.refresh_from_db()
    saved = answers_save(user=user, sampled=target, data=answers, version=target.version)
    assert (saved.verdict, saved.interviewed) == (expected, True)
    event = CheckEvent.objects.filter(spot_check=check, action=CheckEvent.Action.ANSWERED).get()
    assert event.user == user and event.new["verdict"]


def test_no_lost_update_and_no_fourth_call_after_contact(world: World, check: SpotCheck) -> None:
    user = caller(world)
    target = first_sampled(check, world.county)
    call_record(user=user, sampled=target, disposition="self")
    with pytest.raises(CheckError, match="已经接通"):
        call_record(user=user, sampled=target, disposition="self")
    target.refresh_from_db()
    read_at = target.version
    answers_save(user=user, sampled=target, data=AnswersInput(received=True), version=read_at)
    with pytest.raises(CheckError, match="已被其他核查员修改"):
        answers_save(user=user, sampled=target, data=AnswersInput(received=False), version=read_at)
    target.refresh_from_db()
    assert target.received is True and target.verdict == Verdict.CONFIRMED
    with pytest.raises(CheckError, match="金额应为非负数"):
        answers_save(
            user=user, sampled=target, data=AnswersInput(amount=Decimal("-1")), version=target.version
        )


def test_results_by_stratum_and_overall(
    world: World, check: SpotCheck, django_assert_max_num_queries: Any
) -> None:
    from songnuan.checks.selectors import call_sheet, results

    user = caller(world)
    empty = results(check)
    assert (
        empty.overall.sampled == 5 and empty.overall.confirmed_rate is None and empty.overall.interval is None
    )
    county = list(
        SampledHousehold.objects.filter(
            spot_check=check, stratum__unit=world.county, in_sample=True
        ).order_by("position")
    )
    for target, answers in zip(
        county[:2],
        [AnswersInput(received=True, satisfaction="satisfied"), AnswersInput(received=False)],
        strict=True,
    ):
        call_record(user=user, sampled=target, disposition="self")
        target.refresh_from_db()
        answers_save(user=user, sampled=target, data=answers, version=target.version)
    call_record(user=user, sampled=county[2], disposition="refused")
    with django_assert_max_num_queries(3):
        found = results(check)
    line = next(s for s in found.strata if s.unit == world.county)
    assert (line.sampled, line.attempted, line.contacted, line.reached, line.interviewed) == (3, 3, 3, 2, 2)
    assert line.confirmed == 1 and line.discrepancies == 1 and line.confirmed_rate == Decimal("0.5000")
    assert line.verdicts[Verdict.NOT_REACHED] == 1 and line.satisfaction == {"satisfied": 1}
    assert line.interval == (Decimal("0.0945"), Decimal("0.9055"))
    assert found.overall.sampled == 5 and found.overall.size == 14
    assert [s.unit for s in found.ranked()] == [world.county, world.sibling]  # nobody interviewed: last
    sheet = call_sheet(check)
    assert [line.name for line in sheet][:3] == [h.household.head_name for h in county]
    first = sheet[0]
    assert "*" in first.masked_id and first.payments[0].amount == Decimal("800.00")
    assert [a.disposition for a in first.attempts] == ["self"]


def test_the_raw_sample_rows_name_every_column_of_the_model() -> None:
    from songnuan.checks.services import SAMPLE_COLUMNS

    columns = [f.column for f in SampledHousehold._meta.concrete_fields if not f.primary_key]
    assert list(SAMPLE_COLUMNS) == columns  # a new field must be given a value when a sample is written


def test_a_household_paid_by_two_strata_is_in_the_first_in_path_order(world: World, helped: Any) -> None:
    from tests.checks.checksworld import paid

    shared = helped["sibling"][0]
    paid(world, world.county, shared)  # the county stands before the sibling in the tree
    frame = campaign_frame(campaign_id=world.campaign.pk, unit=world.city, bound_only=True, level=1)
    assert shared.pk in frame.strata[world.county.pk] and shared.pk not in frame.strata[world.sibling.pk]
    assert frame.strata[world.county.pk] == sorted(frame.strata[world.county.pk])
    assert frame.size == 14
