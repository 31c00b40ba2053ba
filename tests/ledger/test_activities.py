"""Campaign activities: every kind's rules passing and failing, teams, the stations' register, the history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from songnuan.archive.models import Household
from songnuan.archive.services import HouseholdInput, household_apply, household_file
from songnuan.ledger.activities import (
    KINDS,
    ActivityFilter,
    ActivityInput,
    StationInput,
    TeamInput,
    activities_of,
    activity_add,
    activity_delete,
    activity_edit,
    activity_totals,
    station_close,
    station_edit,
    station_register,
    team_create,
    team_edit,
)
from songnuan.ledger.models import Activity, LedgerEvent, Station, Team
from songnuan.ledger.services import LedgerError
from tests.ledger.ledgerworld import LedgerWorld, household, new_id_number

K = Activity.Kind
DAY = dt.date(2018, 1, 20)

#: A valid input of every kind (the station's is filled in by the fixture).
VALID: dict[str, dict[str, Any]] = {
    K.VISIT_ENTERPRISE: {"subkind": "needy", "quantity": 3, "place": "荆门石化"},
    K.VISIT_FRONTLINE: {"people": 120},
    K.VISIT_TALENT: {"people": 8},
    K.VISIT_HOUSEHOLD: {"people": 40},
    K.POLICY: {"people": 300},
    K.SERVICE: {"subkind": "counselling", "people": 25},
    K.RIGHTS: {"people": 12},
    K.WAGES: {"people": 30, "amount": Decimal("150000.00")},
    K.RETURN_TRIP: {"subkind": "coach", "quantity": 4, "people": 180, "place": "荆门—信阳"},
    K.TICKETS: {"quantity": 60},
    K.TICKET_WINDOW: {"quantity": 2, "place": "东宝区帮扶中心"},
    K.EMPLOYER_SUBSIDY: {"amount": Decimal("20000")},
    K.STATION_SERVICE: {"people": 500, "amount": Decimal("3000.50")},
    K.MEDIA: {
        "subkind": "provincial",
        "place": "湖北日报",
        "title": "荆门工会送温暖",
        "link": "https://example.cn/a",
    },
}


@pytest.fixture
def station(ledger: LedgerWorld) -> Station:
    return station_register(
        user=ledger.world.users["county_reporter"],
        unit=ledger.world.county,
        data=StationInput(
            name="象山站", address="象山大道1号", opened_on=dt.date(2017, 6, 1), operator="环卫处"
        ),
    )


def _sibling_household(ledger: LedgerWorld) -> Household:
    """A filed household of the sibling county (the shared helper files for the county's tree only)."""
    world = ledger.world
    made = household_apply(
        user=world.users["sibling_reporter"],
        unit=world.sibling,
        data=HouseholdInput(
            head_name="孙立", head_id_number=new_id_number(), category=Household.Category.WORKER
        ),
    )
    return household_file(user=world.users["city_reviewer"], household=made)


def _input(kind: str, station: Station | None = None, **changes: Any) -> ActivityInput:
    values: dict[str, Any] = {"kind": kind, "on": DAY, **VALID[kind]}
    if kind == K.STATION_SERVICE and station is not None:
        values["station_id"] = station.pk
    values.update(changes)
    return ActivityInput(**values)


def _add(ledger: LedgerWorld, data: ActivityInput, user: str = "county_reporter") -> Activity:
    return activity_add(
        user=ledger.world.users[user], campaign=ledger.world.campaign, unit=ledger.world.county, data=data
    )


def _refused(ledger: LedgerWorld, data: ActivityInput) -> set[tuple[str, str]]:
    with pytest.raises(LedgerError) as refused:
        _add(ledger, data)
    assert refused.value.message  # a Chinese sentence naming the kind and the rule
    return {(p.code, p.field) for p in refused.value.problems}


def test_every_kind_has_a_spec_and_a_valid_example() -> None:
    assert set(KINDS) == set(K.values) == set(VALID)


@pytest.mark.parametrize("kind", list(VALID))
def test_each_kind_is_recorded_with_its_history(ledger: LedgerWorld, station: Station, kind: str) -> None:
    activity = _add(ledger, _input(kind, station))
    assert activity.kind == kind and activity.on == DAY
    event = LedgerEvent.objects.get(activity=activity)
    assert event.action == LedgerEvent.Action.ACTIVITY_ADDED
    assert event.user == ledger.world.users["county_reporter"] and event.old == {}
    assert event.new["kind"] == kind and event.new["on"] == "2018-01-20"


@pytest.mark.parametrize(
    ("kind", "missing"),
    [
        (K.VISIT_ENTERPRISE, "subkind"),
        (K.VISIT_ENTERPRISE, "quantity"),
        (K.VISIT_FRONTLINE, "people"),
        (K.VISIT_TALENT, "people"),
        (K.VISIT_HOUSEHOLD, "people"),
        (K.POLICY, "people"),
        (K.SERVICE, "subkind"),
        (K.SERVICE, "people"),
        (K.RIGHTS, "people"),
        (K.WAGES, "people"),
        (K.WAGES, "amount"),
        (K.RETURN_TRIP, "subkind"),
        (K.RETURN_TRIP, "quantity"),
        (K.RETURN_TRIP, "people"),
        (K.TICKETS, "quantity"),
        (K.TICKET_WINDOW, "place"),
        (K.EMPLOYER_SUBSIDY, "amount"),
        (K.STATION_SERVICE, "station_id"),
        (K.STATION_SERVICE, "people"),
        (K.STATION_SERVICE, "amount"),
        (K.MEDIA, "subkind"),
        (K.MEDIA, "place"),
        (K.MEDIA, "title"),
    ],
)
def test_what_each_kind_needs(ledger: LedgerWorld, station: Station, kind: str, missing: str) -> None:
    blank: Any = "" if missing in ("subkind", "place", "title") else None
    assert missing in KINDS[kind].required
    assert ("required", missing) in _refused(ledger, _input(kind, station, **{missing: blank}))
    assert not Activity.objects.exists()


def test_date_missing_is_refused(ledger: LedgerWorld) -> None:
    assert ("required", "on") in _refused(ledger, _input(K.VISIT_FRONTLINE, on=None))


@pytest.mark.parametrize(
    ("kind", "extra"),
    [
        (K.VISIT_FRONTLINE, {"amount": Decimal("100")}),
        (K.MEDIA, {"people": 3}),
        (K.TICKET_WINDOW, {"subkind": "coach"}),
        (K.EMPLOYER_SUBSIDY, {"link": "https://example.cn"}),
        (K.RETURN_TRIP, {"household_id": 1}),
    ],
)
def test_a_field_the_kind_does_not_take_is_refused(
    ledger: LedgerWorld, kind: str, extra: dict[str, Any]
) -> None:
    (name,) = extra
    assert ("not-for-kind", name) in _refused(ledger, _input(kind, **extra))


@pytest.mark.parametrize(
    ("day", "ok"),
    [
        (dt.date(2018, 1, 1), True),
        (dt.date(2018, 2, 15), True),
        (dt.date(2017, 12, 31), False),
        (dt.date(2018, 2, 16), False),
    ],
)
def test_the_date_within_the_campaign(ledger: LedgerWorld, day: dt.date, ok: bool) -> None:
    data = _input(K.VISIT_FRONTLINE, on=day)
    if ok:
        assert _add(ledger, data).on == day
    else:
        assert ("date-outside", "on") in _refused(ledger, data)


@pytest.mark.parametrize(
    ("amount", "ok"),
    [
        (Decimal("0.01"), True),
        (Decimal("1234.5"), True),
        (Decimal("20000.00"), True),
        (Decimal("0"), False),
        (Decimal("-5"), False),
        (Decimal("10.005"), False),
        (Decimal("NaN"), False),
        (Decimal("100000000"), False),
    ],
)
def test_amounts_in_yuan(ledger: LedgerWorld, amount: Decimal, ok: bool) -> None:
    data = _input(K.EMPLOYER_SUBSIDY, amount=amount)
    if ok:
        assert _add(ledger, data).amount == amount.quantize(Decimal("0.01"))
    else:
        assert ("bad-amount", "amount") in _refused(ledger, data)


@pytest.mark.parametrize(("count", "ok"), [(1, True), (99999, True), (0, False), (-3, False), (True, False)])
def test_counts_are_positive_whole_numbers(ledger: LedgerWorld, count: Any, ok: bool) -> None:
    for name in ("people", "quantity"):
        data = _input(K.RETURN_TRIP, **{name: count})
        if ok:
            assert getattr(_add(ledger, data), name) == count
        else:
            assert ("bad-count", name) in _refused(ledger, data)


@pytest.mark.parametrize(
    ("kind", "subkind", "ok"),
    [
        (K.RETURN_TRIP, "train", True),
        (K.RETURN_TRIP, "plane", True),
        (K.RETURN_TRIP, "rocket", False),
        (K.MEDIA, "central", True),
        (K.MEDIA, "exhibition", True),
        (K.MEDIA, "local", True),
        (K.MEDIA, "county", False),
        (K.SERVICE, "childcare", True),
        (K.SERVICE, "welfare", True),
        (K.SERVICE, "other", False),
        (K.VISIT_ENTERPRISE, "resource-exhausted", True),
        (K.VISIT_ENTERPRISE, "coach", False),
    ],
)
def test_subkind_codes(ledger: LedgerWorld, kind: str, subkind: str, ok: bool) -> None:
    data = _input(kind, subkind=subkind)
    if ok:
        assert _add(ledger, data).subkind == subkind
    else:
        assert ("unknown-subkind", "subkind") in _refused(ledger, data)


@pytest.mark.parametrize(
    ("link", "ok"),
    [
        ("", True),
        ("http://www.hbgh.org.cn/news/1.html", True),
        ("https://例子.中国/报道", True),
        ("www.example.cn", False),
        ("javascript:alert(1)", False),
        ("ftp://example.cn/a", False),
    ],
)
def test_media_link_optional_but_a_web_address(ledger: LedgerWorld, link: str, ok: bool) -> None:
    data = _input(K.MEDIA, link=link)
    if ok:
        assert _add(ledger, data).link == link
    else:
        assert ("bad-link", "link") in _refused(ledger, data)


def test_too_long_text_is_refused(ledger: LedgerWorld) -> None:
    assert ("too-long", "title") in _refused(ledger, _input(K.MEDIA, title="长" * 201))


def test_household_visit_links_a_file_of_the_subtree(ledger: LedgerWorld) -> None:
    world = ledger.world
    below = household(world, "钱进", unit=world.enterprise)
    elsewhere = _sibling_household(ledger)
    mine = _add(ledger, _input(K.VISIT_HOUSEHOLD, people=None, household_id=ledger.wang.pk))
    assert mine.household == ledger.wang and mine.people == 1  # one household counts one
    assert _add(ledger, _input(K.POLICY, people=1, household_id=below.pk)).household == below
    assert ("no-file", "household_id") in _refused(
        ledger, _input(K.VISIT_HOUSEHOLD, household_id=elsewhere.pk)
    )
    assert ("no-file", "household_id") in _refused(ledger, _input(K.VISIT_HOUSEHOLD, household_id=999999))
    assert ("one-household", "people") in _refused(
        ledger, _input(K.VISIT_HOUSEHOLD, people=5, household_id=ledger.wang.pk)
    )


def test_station_service_needs_an_open_station_of_the_unit(ledger: LedgerWorld, station: Station) -> None:
    world = ledger.world
    other = station_register(
        user=world.users["sibling_reporter"],
        unit=world.sibling,
        data=StationInput(name="钟祥站", address="钟祥", opened_on=dt.date(2017, 1, 1)),
    )
    assert ("no-station", "station_id") in _refused(ledger, _input(K.STATION_SERVICE, station_id=other.pk))
    late = station_register(
        user=world.users["county_reporter"],
        unit=world.county,
        data=StationInput(name="新站", address="新路", opened_on=dt.date(2018, 1, 25)),
    )
    assert ("station-closed", "station_id") in _refused(ledger, _input(K.STATION_SERVICE, station_id=late.pk))
    assert (
        _add(ledger, _input(K.STATION_SERVICE, station_id=late.pk, on=dt.date(2018, 1, 25))).station == late
    )


def test_edit_writes_only_the_changes_and_keeps_the_kind(ledger: LedgerWorld) -> None:
    activity = _add(ledger, _input(K.RETURN_TRIP))
    user = ledger.world.users["county_reporter"]
    changed = activity_edit(user=user, activity=activity, data=_input(K.RETURN_TRIP, people=200))
    assert changed.people == 200
    event = LedgerEvent.objects.get(action=LedgerEvent.Action.ACTIVITY_EDITED)
    assert event.old == {"people": "180"} and event.new == {"people": "200"} and event.activity == changed
    with pytest.raises(LedgerError):
        activity_edit(user=user, activity=activity, data=_input(K.RETURN_TRIP, subkind="rocket"))
    with pytest.raises(LedgerError):
        activity_edit(user=user, activity=activity, data=_input(K.TICKETS))
    activity.refresh_from_db()
    assert activity.people == 200 and activity.subkind == "coach"
    assert LedgerEvent.objects.filter(action=LedgerEvent.Action.ACTIVITY_EDITED).count() == 1


def test_delete_keeps_what_it_held(ledger: LedgerWorld) -> None:
    activity = _add(ledger, _input(K.MEDIA))
    activity_delete(user=ledger.world.users["county_reporter"], activity=activity)
    assert not Activity.objects.exists()
    event = LedgerEvent.objects.get(action=LedgerEvent.Action.ACTIVITY_DELETED)
    assert event.old["title"] == "荆门工会送温暖" and event.old["link"] == "https://example.cn/a"


@pytest.mark.parametrize("user", ["city_reviewer", "city_admin", "sibling_reporter", "enterprise_reporter"])
def test_only_the_units_own_accounts_enter(ledger: LedgerWorld, station: Station, user: str) -> None:
    world = ledger.world
    with pytest.raises(PermissionDenied):
        _add(ledger, _input(K.MEDIA), user=user)
    mine = _add(ledger, _input(K.MEDIA))
    with pytest.raises(PermissionDenied):
        activity_edit(user=world.users[user], activity=mine, data=_input(K.MEDIA, title="改"))
    with pytest.raises(PermissionDenied):
        activity_delete(user=world.users[user], activity=mine)
    with pytest.raises(PermissionDenied):
        team_create(
            user=world.users[user], campaign=world.campaign, unit=world.county, data=TeamInput("组", "王")
        )
    with pytest.raises(PermissionDenied):
        station_close(user=world.users[user], station=station, on=dt.date(2018, 3, 1))
    assert Activity.objects.count() == 1


def test_the_units_reviewer_enters_too(ledger: LedgerWorld) -> None:
    assert _add(ledger, _input(K.MEDIA), user="county_reviewer").pk


# --- teams ----------------------------------------------------------------------------------------------


def test_a_team_with_households_and_its_visits(ledger: LedgerWorld) -> None:
    world = ledger.world
    user = world.users["county_reporter"]
    team = team_create(
        user=user,
        campaign=world.campaign,
        unit=world.county,
        data=TeamInput(
            name="第一工作组",
            leader="刘副市长",
            members="张三、李四",
            linked_places="东宝区",
            linked_enterprises="荆门石化",
            household_ids=[ledger.wang.pk, ledger.li.pk],
        ),
    )
    assert set(team.households.all()) == {ledger.wang, ledger.li}
    created = LedgerEvent.objects.get(action=LedgerEvent.Action.TEAM_CREATED)
    assert created.new["team"] == "第一工作组" and "第一工作组" in created.note and created.team == team
    visit = _add(ledger, _input(K.VISIT_HOUSEHOLD, people=None, household_id=ledger.wang.pk, team_id=team.pk))
    assert list(team.activities.all()) == [visit]
    found = activities_of(world.campaign, world.county, K.VISIT_HOUSEHOLD, ActivityFilter(team_id=team.pk))
    assert list(found) == [visit]

    team_edit(
        user=user,
        team=team,
        data=TeamInput(name="第一工作组", leader="陈副市长", household_ids=[ledger.wang.pk]),
    )
    edited = LedgerEvent.objects.get(action=LedgerEvent.Action.TEAM_EDITED)
    assert edited.old["leader"] == "刘副市长" and edited.new["leader"] == "陈副市长"
    assert edited.old["households"] == "、".join(str(pk) for pk in sorted([ledger.wang.pk, ledger.li.pk]))


def test_team_refusals(ledger: LedgerWorld) -> None:
    world = ledger.world
    user = world.users["county_reporter"]
    elsewhere = _sibling_household(ledger)
    make: dict[str, Any] = {"user": user, "campaign": world.campaign, "unit": world.county}
    with pytest.raises(LedgerError) as refused:
        team_create(**make, data=TeamInput(name="", leader=""))
    assert {p.field for p in refused.value.problems} == {"name", "leader"}
    with pytest.raises(LedgerError) as refused:
        team_create(**make, data=TeamInput(name="组", leader="王", household_ids=[elsewhere.pk]))
    assert [p.code for p in refused.value.problems] == ["no-file"]
    team_create(**make, data=TeamInput(name="组", leader="王"))
    with pytest.raises(LedgerError) as refused:
        team_create(**make, data=TeamInput(name="组", leader="李"))
    assert [p.code for p in refused.value.problems] == ["duplicate"]
    assert Team.objects.count() == 1


def test_a_visit_against_another_units_team_is_refused(ledger: LedgerWorld) -> None:
    world = ledger.world
    theirs = team_create(
        user=world.users["sibling_reporter"],
        campaign=world.campaign,
        unit=world.sibling,
        data=TeamInput(name="钟祥组", leader="赵"),
    )
    assert ("no-team", "team_id") in _refused(ledger, _input(K.VISIT_FRONTLINE, team_id=theirs.pk))
    assert ("not-for-kind", "team_id") in _refused(ledger, _input(K.MEDIA, team_id=theirs.pk))


# --- the stations' register ------------------------------------------------------------------------------


def test_station_register_edit_close(ledger: LedgerWorld, station: Station) -> None:
    world = ledger.world
    user = world.users["county_reporter"]
    with pytest.raises(LedgerError):
        station_register(
            user=user, unit=world.county, data=StationInput(name="象山站", address="别处", opened_on=DAY)
        )
    with pytest.raises(LedgerError) as refused:
        station_register(user=user, unit=world.county, data=StationInput(name="", address="", opened_on=None))
    assert {p.field for p in refused.value.problems} == {"name", "address", "opened_on"}
    # another unit may use the same name: the register is per unit
    assert station_register(
        user=world.users["sibling_reporter"],
        unit=world.sibling,
        data=StationInput(name="象山站", address="钟祥", opened_on=DAY),
    ).pk
    _add(ledger, _input(K.STATION_SERVICE, station, on=dt.date(2018, 1, 10)))
    with pytest.raises(LedgerError):  # its services began earlier
        station_edit(
            user=user, station=station, data=StationInput("象山站", "象山大道1号", dt.date(2018, 1, 11))
        )
    assert (
        station_edit(
            user=user, station=station, data=StationInput("象山驿站", "象山大道2号", dt.date(2017, 1, 1))
        ).name
        == "象山驿站"
    )
    with pytest.raises(LedgerError):  # not after its last service
        station_close(user=user, station=station, on=dt.date(2018, 1, 10))
    closed = station_close(user=user, station=station, on=dt.date(2018, 1, 31))
    assert closed.closed_on == dt.date(2018, 1, 31)
    with pytest.raises(LedgerError):
        station_close(user=user, station=station, on=dt.date(2018, 2, 5))
    assert ("station-closed", "station_id") in _refused(
        ledger, _input(K.STATION_SERVICE, station, on=dt.date(2018, 2, 1))
    )
    # the register is kept across campaigns: the station is the unit's, not the campaign's
    assert Station.objects.filter(unit=world.county).count() == 1
    history = list(LedgerEvent.objects.filter(station=station).order_by("pk"))
    assert [event.action for event in history] == ["station-registered", "station-edited", "station-closed"]
    assert all(event.campaign is None and event.user == user for event in history)
    assert history[0].new["name"] == "象山站" and history[0].new["operator"] == "环卫处"
    assert history[1].old == {
        "name": "象山站",
        "address": "象山大道1号",
        "operator": "环卫处",
        "opened_on": "2017-06-01",
    }
    assert history[1].new["name"] == "象山驿站" and history[2].new == {"closed_on": "2018-01-31"}


def test_totals_by_subkind_keep_blank_blank(ledger: LedgerWorld) -> None:
    _add(ledger, _input(K.RETURN_TRIP, subkind="coach", quantity=2, people=90))
    _add(ledger, _input(K.RETURN_TRIP, subkind="coach", quantity=3, people=110))
    _add(ledger, _input(K.RETURN_TRIP, subkind="train", quantity=1, people=900, amount=Decimal("5000")))
    found = activities_of(ledger.world.campaign, ledger.world.county, K.RETURN_TRIP)
    lines = {line.label: line for line in activity_totals(found, K.RETURN_TRIP)}
    assert (lines["合计"].count, lines["合计"].people, lines["合计"].quantity) == (3, 1100, 6)
    assert lines["合计"].amount == Decimal("5000")
    assert (lines["汽车"].quantity, lines["汽车"].people, lines["汽车"].amount) == (5, 200, None)
    assert lines["专列"].people == 900 and "船" not in lines
