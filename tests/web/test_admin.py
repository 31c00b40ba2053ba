"""The Django admin manages units, accounts and campaigns; submissions there are read-only."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from songnuan.orgs.models import Unit
from songnuan.reporting.models import Submission

from ..world import World


@pytest.fixture
def superuser_client(world: World) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", password="a-long-test-pass-phrase"))
    return client


def changelist(client: Client, url: str) -> tuple[list[Any], str]:
    """The records a change list shows, in its order, and its page."""
    response = client.get(url)
    assert response.status_code == 200
    return list(response.context["cl"].result_list), response.content.decode()


def test_the_unit_list_shows_every_unit_with_its_parent_and_contact(
    superuser_client: Client, world: World
) -> None:
    units, page = changelist(superuser_client, "/admin/orgs/unit/")
    assert sorted(unit.name for unit in units) == sorted(
        ["荆门市总工会", "东宝区总工会", "东宝区恒力水泥有限公司工会", "钟祥市总工会"]
    )
    assert "李红" in page and "0724-2345678" in page and "赵敏" in page and "0724-4221234" in page
    assert re.search(r"东宝区恒力水泥有限公司工会</a></th><td[^>]*>企业工会</td><td[^>]*>东宝区总工会<", page)


def test_the_account_list_shows_every_account_with_its_unit_and_role(
    superuser_client: Client, world: World
) -> None:
    accounts, page = changelist(superuser_client, "/admin/orgs/account/")
    assert sorted((a.user.username, a.unit.name, a.role) for a in accounts) == sorted(
        (user.username, user.account.unit.name, user.account.role) for user in world.users.values()
    )
    assert len(accounts) == 6
    assert "enterprise_reporter" in page and "东宝区恒力水泥有限公司工会" in page and "填报员" in page


def test_the_campaign_list_shows_the_campaign(superuser_client: Client, world: World) -> None:
    campaigns, page = changelist(superuser_client, "/admin/campaigns/campaign/")
    assert campaigns == [world.campaign]
    assert world.campaign.title in page and "荆工办发电〔2017〕18号" in page and "荆门市总工会" in page


def test_the_submission_list_shows_each_table_read_only(superuser_client: Client, world: World) -> None:
    submission = Submission.objects.create(
        campaign=world.campaign, unit=world.enterprise, form_code="warmth-2018", status="submitted"
    )
    submissions, page = changelist(superuser_client, "/admin/reporting/submission/")
    assert submissions == [submission]
    assert "东宝区恒力水泥有限公司工会" in page and "warmth-2018" in page and "已报送" in page
    # Read-only: the row links to a view without a save button; there is no "add" link.
    assert "/admin/reporting/submission/add/" not in page
    view = superuser_client.get(f"/admin/reporting/submission/{submission.pk}/change/")
    assert view.status_code == 200 and 'name="_save"' not in view.content.decode()


def test_moving_a_unit_keeps_the_paths_right(superuser_client: Client, world: World) -> None:
    """The enterprise moves from the county to the sibling county: its path (and so who sees it) follows."""
    response = superuser_client.post(
        f"/admin/orgs/unit/{world.enterprise.pk}/change/",
        {"name": world.enterprise.name, "kind": "enterprise", "parent": world.sibling.pk, "sort_order": 0},
    )
    assert response.status_code == 302
    moved = Unit.objects.get(pk=world.enterprise.pk)
    assert moved.is_below(world.sibling) and not moved.is_below(world.county)


def test_submissions_cannot_be_changed_in_the_admin(superuser_client: Client, world: World) -> None:
    assert superuser_client.get("/admin/reporting/submission/add/").status_code == 403
    submission = Submission.objects.create(
        campaign=world.campaign, unit=world.enterprise, form_code="warmth-2018", status="submitted"
    )
    change = f"/admin/reporting/submission/{submission.pk}/change/"
    assert superuser_client.post(change, {"status": "accepted"}).status_code == 403
    delete = f"/admin/reporting/submission/{submission.pk}/delete/"
    assert superuser_client.post(delete, {"post": "yes"}).status_code == 403
    submission.refresh_from_db()
    assert submission.status == "submitted"
