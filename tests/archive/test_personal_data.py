"""Full ID, phone and card numbers: who may see them (a permission, and only inside the unit tree), the log of
every view, and the masks everyone else sees."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from songnuan.archive.idnumbers import mask_card, mask_id_number, mask_phone
from songnuan.archive.models import Household, PersonalDataView
from songnuan.archive.selectors import personal_data_views
from songnuan.archive.services import HouseholdInput, household_apply, personal_data_viewed
from songnuan.orgs.permissions import may_see_personal_data

from ..world import World

WANG = "11010519491231002X"


@pytest.fixture
def household(world: World) -> Household:
    return household_apply(
        user=world.users["county_reporter"],
        unit=world.county,
        data=HouseholdInput(head_name="王建国", head_id_number=WANG, category="worker", phone="13807241234"),
    )


def grant(world: World, username: str) -> None:
    world.users[username].user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    world.users[username] = type(world.users[username]).objects.get(pk=world.users[username].pk)


def test_masks() -> None:
    assert mask_id_number(WANG) == "1101**********002X"
    assert mask_phone("13807241234") == "138****1234"
    assert mask_card("6222021234567890123") == "6222***********0123"
    assert mask_phone("") == ""


def test_only_holders_of_the_permission_inside_the_tree_see_full_numbers(
    world: World, household: Household
) -> None:
    for username in world.users:
        assert not may_see_personal_data(world.users[username], household.unit)
    for username in ("city_reviewer", "county_reporter", "sibling_reporter", "enterprise_reporter"):
        grant(world, username)
    assert may_see_personal_data(world.users["city_reviewer"], household.unit)
    assert may_see_personal_data(world.users["county_reporter"], household.unit)
    assert not may_see_personal_data(world.users["sibling_reporter"], household.unit)  # another branch
    assert not may_see_personal_data(world.users["enterprise_reporter"], household.unit)  # a unit below


def test_every_view_is_logged_and_the_log_is_shown_only_to_those_who_may_see(
    world: World, household: Household
) -> None:
    grant(world, "city_reviewer")
    personal_data_viewed(
        user=world.users["city_reviewer"], households=[household], via=PersonalDataView.Via.PAGE
    )
    log = list(personal_data_views(world.users["city_reviewer"], household))
    assert [(entry.user.username, entry.via) for entry in log] == [("city_reviewer", "page")]
    assert list(personal_data_views(world.users["county_reviewer"], household)) == []


def test_the_admin_shows_the_birth_year_beside_the_masked_number(world: World, household: Household) -> None:
    # Staff without the permission: the full date beside 1101**********002X would leave a handful of numbers.
    client = Client()
    client.force_login(User.objects.create_superuser("root", password="a-long-test-pass-phrase"))
    page = client.get(f"/admin/archive/household/{household.pk}/change/").content.decode()
    assert "1101**********002X" in page
    assert "1949" in page
    assert "1949-12-31" not in page and "1949年12月31日" not in page and "12月31日" not in page
