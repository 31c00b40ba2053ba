"""附件1 (and 附件2's items 9–10) derived from a ledger built by hand: every derivable item against the value
worked out here, for one unit (本级), its subtree (全辖) and many units at once (grouped)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from songnuan.archive.models import Household
from songnuan.campaigns.models import ReportingScope
from songnuan.formkit.definitions import get_form
from songnuan.ledger.derive import derive, derive_units
from songnuan.ledger.models import Activity, FundSource, HelpItem, HelpRecord, Receipt, Station
from songnuan.orgs.models import Unit
from tests.ledger.ledgerworld import household
from tests.world import World

pytestmark = pytest.mark.django_db

FORM = get_form("warmth-2018")
CENTRES = get_form("service-centres-2017")


def record(world: World, unit: Unit, **fields: Any) -> HelpRecord:
    values: dict[str, Any] = {
        "campaign": world.campaign,
        "unit": unit,
        "recipient_kind": HelpRecord.RecipientKind.HOUSEHOLD,
        "name": "某人",
        "item": HelpItem.objects.get(code=fields.pop("item", "visit")),
        "source": FundSource.objects.get(code=fields.pop("source", "union")),
        "channel": HelpRecord.Channel.UNION_CARD,
        "paid_on": dt.date(2018, 1, 25),
        "state": HelpRecord.State.APPROVED,
        "entered_by": world.users["county_reporter"],
    }
    values.update(fields)
    return HelpRecord.objects.create(**values)


def reverse(world: World, original: HelpRecord) -> HelpRecord:
    return record(
        world,
        original.unit,
        item=original.item.code,
        source=original.source.code,
        household=original.household,
        recipient_kind=original.recipient_kind,
        amount=-original.amount if original.amount is not None else None,
        goods_value=-original.goods_value if original.goods_value is not None else None,
        reverses=original,
    )


def receipt(world: World, unit: Unit, source: str, amount: str, **fields: Any) -> Receipt:
    return Receipt.objects.create(
        campaign=world.campaign,
        unit=unit,
        source=FundSource.objects.get(code=source),
        amount=Decimal(amount),
        received_on=dt.date(2018, 1, 2),
        entered_by=world.users["county_reporter"],
        **fields,
    )


def activity(world: World, unit: Unit, kind: str, subkind: str = "", **fields: Any) -> Activity:
    return Activity.objects.create(
        campaign=world.campaign,
        unit=unit,
        kind=kind,
        subkind=subkind,
        on=dt.date(2018, 1, 20),
        entered_by=world.users["county_reporter"],
        **fields,
    )


def build(world: World) -> None:
    """The county's ledger (and a little of the enterprise's below it, and of the sibling's beside it)."""
    county, enterprise = world.county, world.enterprise
    wang = household(world, "王建国")
    li = household(world, "李秀英", category=Household.Category.MIGRANT)
    zhou = household(world, "周明", category=Household.Category.MODEL_WORKER)
    sun = household(world, "孙丽")  # worker: only a reversed payment
    # Help records: approved only, reversals net out.
    record(world, county, household=wang, item="living", amount=Decimal("1200.00"))
    record(
        world, county, household=wang, item="visit", amount=Decimal("500.00"), goods_value=Decimal("300.00")
    )
    record(world, county, household=li, item="medical", source="central", amount=Decimal("2000.00"))
    record(world, county, household=zhou, item="schooling", amount=Decimal("1500.00"))
    gone = record(world, county, household=sun, item="living", amount=Decimal("800.00"))
    reverse(world, gone)
    record(
        world, county, household=wang, item="legal", amount=Decimal("100.00"), state=HelpRecord.State.DRAFT
    )
    record(
        world,
        county,
        recipient_kind=HelpRecord.RecipientKind.PERSON,
        person_category=HelpRecord.PersonCategory.FRONTLINE,
        id_number="420802199001011234",
        item="job",
        amount=None,
        goods_value=Decimal("250.00"),
    )
    record(
        world,
        county,
        recipient_kind=HelpRecord.RecipientKind.ENTERPRISE,
        enterprise_kind=HelpRecord.EnterpriseKind.NEEDY,
        item="training",
        amount=Decimal("10000.00"),
    )
    record(
        world,
        enterprise,
        household=household(world, "钱多", unit=enterprise),
        item="living",
        amount=Decimal("700.00"),
    )
    # Receipts: raised only; an allocation is counted where it was raised; a reversal nets out.
    receipt(world, county, "central", "100000")
    receipt(world, county, "local", "20000.50")
    receipt(world, county, "provincial", "30000")
    wrong = receipt(world, county, "union", "9999")
    receipt(world, county, "union", "-9999", reverses=wrong)
    receipt(world, county, "union", "50000")
    receipt(world, county, "donation", "1234.56")
    receipt(world, county, "other", "0.44")
    receipt(world, enterprise, "central", "5000", kind=Receipt.Kind.ALLOCATION, from_unit=county)
    receipt(world, enterprise, "union", "3000")
    # Activities.
    K = Activity.Kind
    activity(world, county, K.VISIT_ENTERPRISE, "needy", quantity=3)
    activity(world, county, K.VISIT_ENTERPRISE, "other", quantity=2)
    activity(world, county, K.VISIT_FRONTLINE, people=120)
    activity(world, county, K.VISIT_TALENT, people=15)
    activity(world, county, K.MEDIA, "central")
    activity(world, county, K.MEDIA, "provincial")
    activity(world, county, K.MEDIA, "provincial")
    activity(world, county, K.MEDIA, "exhibition")
    activity(world, county, K.MEDIA, "local")
    activity(world, county, K.POLICY, people=40)
    activity(world, county, K.RIGHTS, people=9)
    activity(world, county, K.WAGES, people=30, amount=Decimal("456789.00"))
    for code, people in (
        ("career", 5),
        ("counselling", 6),
        ("care", 7),
        ("health", 8),
        ("childcare", 9),
        ("welfare", 10),
    ):
        activity(world, county, K.SERVICE, code, people=people)
    activity(world, county, K.SERVICE, "policy-advice", people=11)
    for vehicle, (n, people) in {
        "train": (1, 800),
        "carriage": (4, 300),
        "coach": (12, 500),
        "boat": (2, 90),
        "plane": (1, 150),
    }.items():
        activity(world, county, K.RETURN_TRIP, vehicle, quantity=n, people=people)
    activity(world, county, K.TICKETS, quantity=222)
    activity(world, county, K.TICKET_WINDOW, quantity=3)
    activity(world, county, K.TICKET_WINDOW, quantity=1)
    activity(world, county, K.EMPLOYER_SUBSIDY, amount=Decimal("80000"))
    activity(world, county, K.STATION_SERVICE, people=600, amount=Decimal("12345.67"))
    activity(world, enterprise, K.VISIT_FRONTLINE, people=5)
    activity(world, world.sibling, K.VISIT_FRONTLINE, people=1000)
    # Stations: open on the campaign's last day (2018-02-15): A, B and C.
    for name, opened, closed in (
        ("A", dt.date(2016, 5, 1), None),
        ("B", dt.date(2018, 2, 15), None),
        ("C", dt.date(2017, 1, 1), dt.date(2018, 3, 1)),
        ("D", dt.date(2017, 1, 1), dt.date(2018, 2, 15)),  # closed that day
        ("E", dt.date(2018, 2, 16), None),  # not yet open
    ):
        Station.objects.create(unit=county, name=name, address="某路", opened_on=opened, closed_on=closed)


def w(yuan: str) -> Decimal:
    return (Decimal(yuan) / 10000).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


#: The county alone (本级), worked out from `build` by hand.
COUNTY = {
    "1A": 5,
    "1B": 3,
    "2A": 120,
    "2B": 15,
    "2C": 3,
    "2D": 1,
    "2E": 1,
    "2F": 1,  # wang, li, zhou; sun's only payment was reversed
    "3A": w("201235.50"),
    "3B": w("100000"),
    "3C": w("50000.50"),
    "3D": w("50000"),
    "3E": w("1234.56"),
    "3F": w("0.44"),
    "4A": w("15750"),
    "4B": w("2000"),
    "4C": w("1500"),
    "4D": w("2000"),
    "5A": 1,
    "5B": 2,
    "5C": 1,
    "6A": 40,
    "6B": 1,
    "6C": 1,
    "6D": 1,
    "6E": 1,
    "6F": 1,
    "6G": 0,
    "7A": 9,
    "7B": 30,
    "7C": w("456789"),
    "8A": 45,
    "8B": 5,
    "8C": 6,
    "8D": 7,
    "8E": 8,
    "8F": 9,
    "8G": 10,
    "9A": 800 + 300 + 500 + 90 + 150 + 222,
    "9B": 1,
    "9C": 800,
    "9D": 4,
    "9E": 300,
    "9F": 12,
    "9G": 500,
    "9H": 2,
    "9I": 90,
    "9J": 1,
    "9K": 150,
    "9L": 222,
    "9M": 2,
    "10A": w("80000"),
    "11A": 3,
    "11B": 600,
    "11C": w("12345.67"),
}


def test_every_item_of_attachment_1_for_one_unit(world: World) -> None:
    build(world)
    assert derive(world.campaign, FORM, world.county, subtree=False) == COUNTY


def test_the_subtree_adds_the_units_below(world: World) -> None:
    build(world)
    area = derive(world.campaign, FORM, world.county, subtree=True)
    assert area["2A"] == 125  # the enterprise's 5
    assert area["2C"] == 4 and area["2D"] == 2
    assert area["4A"] == w("16450")
    assert area["3A"] == w("204235.50")  # the enterprise raised 3,000; the allocation is not raised again
    assert area["3B"] == w("100000")


def test_the_scope_follows_the_campaign(world: World) -> None:
    build(world)
    assert derive(world.campaign, FORM, world.county)["2A"] == 120
    world.campaign.reporting_scope = ReportingScope.WHOLE_AREA
    assert derive(world.campaign, FORM, world.county)["2A"] == 125


def test_many_units_at_once_agree_with_one_by_one(world: World) -> None:
    build(world)
    grouped = derive_units(world.campaign, FORM)
    assert grouped[world.county.pk] == COUNTY
    for unit in (world.enterprise, world.sibling):
        assert grouped[unit.pk] == derive(world.campaign, FORM, unit, subtree=False)
    assert derive_units(world.campaign, FORM, [world.sibling.pk]) == {
        world.sibling.pk: derive(world.campaign, FORM, world.sibling, subtree=False)
    }


def test_blank_when_the_unit_keeps_no_records_of_a_kind(world: World) -> None:
    activity(world, world.sibling, Activity.Kind.VISIT_FRONTLINE, people=3)
    values = derive(world.campaign, FORM, world.sibling, subtree=False)
    assert values["2A"] == 3 and values["1A"] == 0  # activities kept: what none matches is 0
    assert values["2C"] is None and values["3A"] is None and values["11A"] is None  # no such records: blank
    assert values["9A"] == 0
    assert derive(world.campaign, FORM, world.city, subtree=False) == dict.fromkeys(COUNTY)


def test_one_statement_for_a_whole_form(world: World, django_assert_num_queries: Any) -> None:
    """The statement, and the ids of the help items and fund sources its filters name (one small query)."""
    build(world)
    with django_assert_num_queries(2):
        derive(world.campaign, FORM, world.county, subtree=True)
    with django_assert_num_queries(2):
        derive_units(world.campaign, FORM)
    # A form whose filters name no help item or fund source: the statement alone.
    activities_only = dataclasses.replace(FORM, items=(FORM.item("9B"),), rules=(), _by_code={})
    with django_assert_num_queries(1):
        assert derive(world.campaign, activities_only, world.county, subtree=True) == {"9B": 1}


def test_the_centres_help_by_item(world: World) -> None:
    build(world)
    values = derive(world.campaign, CENTRES, world.county, subtree=False)
    assert {code: values[code] for code in ("9C", "9D", "9E", "9F", "9G", "9M", "9R", "9S")} == {
        "9C": 1,
        "9D": w("1200"),
        "9E": 0,
        "9F": w("0"),
        "9G": 0,
        "9M": 11,
        "9R": 1,
        "9S": w("800"),
    }
    assert values["10E"] == 1 and values["10F"] == w("2000")
    assert values["10B"] == w("2000")
    assert "9A" not in values and "9P" not in values  # ledger_none: not derivable


def test_the_form_files_name_only_codes_the_ledger_knows() -> None:
    from songnuan.formkit.definitions import LEDGER_RECORDS
    from songnuan.formkit.lint import lint_form
    from songnuan.ledger.derive import LOOKUPS
    from songnuan.ledger.vocabulary import filter_vocabulary

    vocabulary = filter_vocabulary()
    for kind, (fields, _measures) in LEDGER_RECORDS.items():
        assert set(LOOKUPS[kind]) == set(fields)  # every filter of the grammar is looked up
        assert set(fields) <= set(vocabulary)  # and its codes are known
    for form in (FORM, CENTRES):
        assert [f for f in lint_form(form, vocabulary=vocabulary) if f.code == "ledger-code"] == []
