"""The top of the tree: the campaign's owner (the city) fills and submits its own table, and — nobody being
above it in the campaign — its own reviewer or admin accepts it; the table then counts in the roll-up and
shows on the city's dashboard. Only the owner unit reviews its own tables: a county's still go to the city."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.test import override_settings
from django.urls import reverse

from songnuan.formkit.definitions import get_form
from songnuan.reporting.dashboard import dashboard
from songnuan.reporting.models import Submission
from songnuan.reporting.rollup import rollup, rollup_page
from songnuan.reporting.transitions import available_actions

from ..world import World
from .test_rollup import filled
from .test_workflow_services import FORM, draft

Status = Submission.Status

__all__ = ["filled"]  # the fixture, imported for its name


@pytest.fixture(autouse=True)
def fast_passwords() -> Iterator[None]:
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


def entry_action(world: World, name: str) -> str:
    return reverse(f"campaign:{name}", args=[world.campaign.pk, world.city.pk, FORM])


def city_submitted(world: World) -> Submission:
    """The city's own 附件1, filled by its admin and sent up through the page."""
    draft(world, "city_admin")
    response = world.client("city_admin").post(entry_action(world, "submit"), follow=True)
    assert "已报送" in response.content.decode()
    submission = Submission.objects.get(campaign=world.campaign, unit=world.city, form_code=FORM)
    assert submission.status == Status.SUBMITTED
    return submission


def included_line(page: str) -> str:
    found = re.search(r'<p class="included".*?</p>', page, re.S)
    assert found is not None
    return re.sub(r"<[^>]+>", "", found.group(0))


@pytest.mark.parametrize("decider", ["city_reviewer", "city_admin"])
def test_the_city_accepts_its_own_table_and_the_rollup_includes_it(
    world: World, filled: object, decider: str
) -> None:
    submission = city_submitted(world)
    client = world.client(decider)
    rollup_url = reverse("review:rollup", args=[world.campaign.pk, world.city.pk, FORM])
    before = client.get(rollup_url).content.decode()
    # city, county, enterprise, second enterprise, sibling: the county's three and the sibling accepted
    assert 'data-accepted="3" data-expected="5"' in before
    assert "尚有 2 张未纳入汇总" in included_line(before)
    assert "荆门市总工会（已报送待审核）" in included_line(before)
    without_city = rollup(world.campaign, FORM, world.city)

    entry = client.get(reverse("campaign:entry", args=[world.campaign.pk, world.city.pk, FORM]))
    assert 'id="accept-form"' in entry.content.decode() and 'id="return-form"' in entry.content.decode()
    done = client.post(entry_action(world, "accept"), follow=True).content.decode()
    assert "已审核通过" in done
    accepted = Submission.objects.get(pk=submission.pk)
    assert accepted.status == Status.ACCEPTED and accepted.reviewed_by == world.users[decider]

    after = client.get(rollup_url).content.decode()
    assert 'data-accepted="4" data-expected="5"' in after
    line = included_line(after)
    assert "尚有 1 张未纳入汇总" in line and "荆门市总工会" not in line and "东宝区第二企业工会" in line
    page = rollup_page(world.campaign, get_form(FORM), world.city, visible=lambda unit: True)
    city_1a = accepted.value_rows.get(item="1A").number
    before_1a, after_1a = without_city["1A"], page.values["1A"]
    assert isinstance(before_1a, int) and isinstance(after_1a, int) and city_1a is not None
    assert after_1a == before_1a + city_1a  # the city's own table is added in
    own = next(part for part in page.parts if part.kind == "own")
    assert (own.accepted, own.expected) == (1, 1) and own.values["1A"] == city_1a


def test_the_city_dashboard_has_a_row_for_the_city_itself(world: World) -> None:
    city_submitted(world)
    board = dashboard(world.campaign, world.city)
    assert (
        board.rows[0].unit == world.city
        and board.rows[0].own
        and board.rows[0].name == "荆门市总工会（本级）"
    )
    page = world.client("city_reviewer").get(reverse("review:dashboard", args=[world.campaign.pk])).content
    row = re.search(rf'<tr data-unit="{world.city.pk}"[^>]*>.*?</tr>', page.decode(), re.S)
    assert row is not None
    assert "荆门市总工会（本级）" in row.group(0) and 'data-form="warmth-2018"' in row.group(0)
    assert "已报送待审核" in row.group(0)
    entry = reverse("campaign:entry", args=[world.campaign.pk, world.city.pk, FORM])
    assert f'href="{entry}"' in row.group(0)  # where its reviewer accepts it
    world.client("city_reviewer").post(entry_action(world, "accept"))
    after = dashboard(world.campaign, world.city)
    assert after.rows[0].forms[0].state == Status.ACCEPTED


def test_the_city_returns_and_unlocks_its_own_table_with_the_audit_trail(world: World) -> None:
    submission = city_submitted(world)
    reviewer = world.client("city_reviewer")
    reviewer.post(entry_action(world, "return"), {"comment": "请核对1A"})
    assert Submission.objects.get(pk=submission.pk).status == Status.RETURNED
    admin = world.client("city_admin")
    admin.post(entry_action(world, "submit"))
    admin.post(entry_action(world, "accept"))
    assert Submission.objects.get(pk=submission.pk).status == Status.ACCEPTED
    reviewer.post(entry_action(world, "unlock"), {"reason": "数字有误"})
    unlocked = Submission.objects.get(pk=submission.pk)
    assert unlocked.status == Status.RETURNED and unlocked.reviewed_by == world.users["city_reviewer"]
    moves = list(unlocked.events.filter(kind="status").values_list("user__username", "new"))
    assert moves == [
        ("city_admin", "submitted"),
        ("city_reviewer", "returned"),
        ("city_admin", "submitted"),
        ("city_admin", "accepted"),
        ("city_reviewer", "returned"),
    ]


@pytest.mark.parametrize("outsider", ["county_reviewer", "county_reporter", "enterprise_reporter"])
def test_nobody_below_the_city_decides_its_table(world: World, outsider: str) -> None:
    submission = city_submitted(world)
    assert not available_actions(world.users[outsider], submission)
    response = world.client(outsider).post(entry_action(world, "accept"))
    assert response.status_code in (403, 404)
    assert Submission.objects.get(pk=submission.pk).status == Status.SUBMITTED


def test_a_county_reviewer_still_cannot_accept_its_own_county_table(world: World) -> None:
    draft(world, "county_reporter")
    county_entry = [world.campaign.pk, world.county.pk, FORM]
    world.client("county_reporter").post(reverse("campaign:submit", args=county_entry))
    submission = Submission.objects.get(campaign=world.campaign, unit=world.county, form_code=FORM)
    assert submission.status == Status.SUBMITTED
    reviewer = world.client("county_reviewer")
    page = reviewer.get(reverse("campaign:entry", args=county_entry)).content.decode()
    assert 'id="accept-form"' not in page
    assert reviewer.post(reverse("campaign:accept", args=county_entry)).status_code == 403
    assert Submission.objects.get(pk=submission.pk).status == Status.SUBMITTED
    world.client("city_reviewer").post(reverse("campaign:accept", args=county_entry))
    assert Submission.objects.get(pk=submission.pk).status == Status.ACCEPTED


def test_the_api_reports_who_may_review_the_owners_table(world: World) -> None:
    city_submitted(world)
    draft(world, "county_reporter")
    url = reverse("api:form", args=[world.campaign.pk, world.city.pk, FORM])
    county_url = reverse("api:form", args=[world.campaign.pk, world.county.pk, FORM])
    assert world.client("city_reviewer").get(url).json()["permissions"] == {"fill": False, "review": True}
    assert world.client("city_admin").get(url).json()["permissions"] == {"fill": True, "review": True}
    county = world.client("county_reviewer").get(county_url).json()
    assert county["permissions"] == {"fill": False, "review": False}  # its own unit: the city decides
