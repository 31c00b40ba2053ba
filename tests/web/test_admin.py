"""The Django admin manages units, accounts and campaigns; submissions there are read-only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from songnuan.orgs.models import Unit

from ..world import World


@pytest.fixture
def superuser_client(world: World) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", password="a-long-test-pass-phrase"))
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/admin/orgs/unit/",
        "/admin/orgs/account/",
        "/admin/campaigns/campaign/",
        "/admin/reporting/submission/",
    ],
)
def test_changelists_open(superuser_client: Client, url: str) -> None:
    assert superuser_client.get(url).status_code == 200


def test_moving_a_unit_keeps_the_paths_right(superuser_client: Client, world: World) -> None:
    """The enterprise moves from the county to the sibling county: its path (and so who sees it) follows."""
    response = superuser_client.post(
        f"/admin/orgs/unit/{world.enterprise.pk}/change/",
        {"name": world.enterprise.name, "kind": "enterprise", "parent": world.sibling.pk, "sort_order": 0},
    )
    assert response.status_code == 302
    moved = Unit.objects.get(pk=world.enterprise.pk)
    assert moved.is_below(world.sibling) and not moved.is_below(world.county)


def test_submissions_cannot_be_changed_in_the_admin(superuser_client: Client) -> None:
    assert superuser_client.get("/admin/reporting/submission/add/").status_code == 403
