"""A checked campaign on top of the test world (tests/world.py): households the county, the enterprise below
it and the sibling county paid from central money, and some that no frame takes. Shared by the checks
tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Permission, User

from songnuan.archive.models import Household
from songnuan.archive.services import HouseholdInput, household_apply, household_file
from songnuan.checks.models import SpotCheck
from songnuan.checks.services import DrawRequest
from songnuan.ledger.models import FundSource, HelpItem, HelpRecord
from songnuan.orgs.models import Unit
from tests.ledger.ledgerworld import new_id_number
from tests.world import World

REPORTERS = {"东宝区总工会": "county_reporter", "钟祥市总工会": "sibling_reporter"}


def filed(world: World, unit: Unit, name: str) -> Household:
    made = household_apply(
        user=world.users[REPORTERS.get(unit.name, "enterprise_reporter")],
        unit=unit,
        data=HouseholdInput(
            head_name=name, head_id_number=new_id_number(), category=Household.Category.WORKER
        ),
    )
    return household_file(user=world.users["city_reviewer"], household=made)


def paid(world: World, unit: Unit, household: Household, **fields: Any) -> HelpRecord:
    values: dict[str, Any] = {
        "campaign": world.campaign,
        "unit": unit,
        "recipient_kind": HelpRecord.RecipientKind.HOUSEHOLD,
        "household": household,
        "name": household.head_name,
        "item": HelpItem.objects.get(code="living"),
        "source": FundSource.objects.get(code=fields.pop("source", "central")),
        "amount": Decimal("800.00"),
        "channel": HelpRecord.Channel.UNION_CARD,
        "paid_on": dt.date(2018, 1, 25),
        "state": HelpRecord.State.APPROVED,
        "entered_by": world.users["county_reporter"],
    }
    values.update(fields)
    return HelpRecord.objects.create(**values)


def build_helped(world: World) -> dict[str, list[Household]]:
    """12 households paid by the county (3 of them by the enterprise below it), 2 by the sibling county, all
    from central money; and some that are not in the frame: a draft, a reversed payment, union money only."""
    county = [filed(world, world.county, f"东宝{n}") for n in range(9)]
    county += [filed(world, world.enterprise, f"水泥{n}") for n in range(3)]
    sibling = [filed(world, world.sibling, f"钟祥{n}") for n in range(2)]
    for household in county[:9]:
        paid(world, world.county, household)
    for household in county[9:]:
        paid(world, world.enterprise, household)
    for household in sibling:
        paid(world, world.sibling, household)
    outside = [filed(world, world.county, f"框外{n}") for n in range(3)]
    paid(world, world.county, outside[0], state=HelpRecord.State.DRAFT)
    gone = paid(world, world.county, outside[1])
    paid(world, world.county, outside[1], reverses=gone, amount=Decimal("-800.00"))
    paid(world, world.county, outside[2], source="union")
    return {"county": county, "sibling": sibling, "outside": outside}


def request(world: World, **changes: Any) -> DrawRequest:
    values: dict[str, Any] = {
        "campaign": world.campaign,
        "unit": world.city,
        "title": "2018年送温暖电话抽查",
        "allocation": SpotCheck.Allocation.FIXED,
        "per_stratum": 3,
        "seed": 20180125,
    }
    values.update(changes)
    return DrawRequest(**values)


def caller(world: World) -> User:
    user = world.users["city_admin"]
    user.user_permissions.add(Permission.objects.get(codename="call_households"))
    return type(user).objects.get(pk=user.pk)  # permissions are cached on the object


def drawn_with_a_household_paid_by(world: World, unit: Unit) -> SpotCheck:
    """The city's check drawn with the first seed from 20180125 whose sample holds a household `unit` itself
    paid. Which households a seed draws depends on the database's ids (a stratum's order is keyed by its
    unit's id), so a test that needs one such household must not lean on a single seed."""
    from songnuan.checks.models import SampledHousehold
    from songnuan.checks.services import spot_check_draw

    paid = HelpRecord.objects.filter(unit=unit).values("household_id")
    for seed in range(20180125, 20180125 + 50):
        check = spot_check_draw(user=world.users["city_reviewer"], request=request(world, seed=seed))
        if SampledHousehold.objects.filter(spot_check=check, in_sample=True, household_id__in=paid).exists():
            return check
        check.delete()
    raise AssertionError(f"no seed of 50 draws a household {unit.name} paid")
