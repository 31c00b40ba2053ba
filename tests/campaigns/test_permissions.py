"""The campaign rules of songnuan.orgs.permissions as a matrix: who may write a campaign of which unit
(`may_create_campaign`), and which units a campaign of a unit may be addressed to
(`campaign_addressee_choices`). Accounts sit at the county 东宝区 of tests/world.py's tree."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.utils import timezone

from songnuan.orgs.models import Account, Unit
from songnuan.orgs.permissions import campaign_addressee_choices, may_create_campaign
from songnuan.orgs.services import account_create, unit_create

from ..world import PASSWORD, World

ROLES = ("county_reporter", "county_reviewer", "county_admin")
RELATIONS = ("own", "below", "sibling", "above")


@pytest.fixture
def county(world: World) -> World:
    world.users["county_admin"] = account_create(
        username="county_admin", password=PASSWORD, unit=world.county, role=Account.Role.ADMIN
    ).user
    return world


def unit_of(world: World, relation: str) -> Unit:
    return {"own": world.county, "below": world.enterprise, "sibling": world.sibling, "above": world.city}[
        relation
    ]


@pytest.mark.parametrize("relation", RELATIONS)
@pytest.mark.parametrize("role", ROLES)
def test_only_an_admin_of_the_unit_itself_may_write_its_campaigns(
    county: World, role: str, relation: str
) -> None:
    expected = role == "county_admin" and relation == "own"
    assert may_create_campaign(county.users[role], unit_of(county, relation)) is expected


def test_the_city_admin_writes_the_citys_campaigns_only(county: World) -> None:
    admin = county.users["city_admin"]
    assert may_create_campaign(admin, county.city)
    assert not any(
        may_create_campaign(admin, unit) for unit in (county.county, county.enterprise, county.sibling)
    )


def test_nobody_else_writes_campaigns(county: World) -> None:
    admin = county.users["county_admin"]
    admin.is_active = False
    admin.save()
    assert not may_create_campaign(admin, county.county)
    assert not may_create_campaign(AnonymousUser(), county.county)
    stranger = User.objects.create_user(username="stranger", password=PASSWORD)
    assert not may_create_campaign(stranger, county.county)


def test_a_closed_unit_writes_no_campaign(county: World) -> None:
    county.county.closed_at = timezone.now()
    county.county.save()
    assert not may_create_campaign(county.users["county_admin"], county.county)


def test_the_addressees_are_the_open_units_below(county: World) -> None:
    closed = unit_create(name="已撤销工会", kind=Unit.Kind.ENTERPRISE, parent=county.county)
    closed.closed_at = timezone.now()
    closed.save()
    assert list(campaign_addressee_choices(county.city)) == [county.county, county.enterprise, county.sibling]
    assert list(campaign_addressee_choices(county.county)) == [county.enterprise]
    assert list(campaign_addressee_choices(county.enterprise)) == []
