"""The confirmation before 审核通过 (site/confirm.js): a dismissed dialog sends nothing, an accepted one sends
the form."""

from __future__ import annotations

from typing import Any

import pytest

from songnuan.reporting.models import Submission

from ..filemakers import filled_example
from ..web.test_rollup import put_table
from ..world import PASSWORD, World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_accepting_asks_first(page: Any, live_server: Any, world: World) -> None:
    values, _header = filled_example("warmth-2018")
    submission = put_table(world, world.county, values, status=Submission.Status.SUBMITTED)
    entry = f"/campaigns/{world.campaign.pk}/units/{world.county.pk}/forms/warmth-2018/"
    page.goto(f"{live_server.url}/login/?next={entry}")
    page.fill("input[name=username]", "city_reviewer")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{live_server.url}{entry}")

    asked: list[str] = []

    def dismiss(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.click("#accept-form button[type=submit]")
    page.wait_for_timeout(300)  # nothing is sent: there is no navigation to wait for
    assert asked and "确定审核通过" in asked[0] and "东宝区总工会" in asked[0]
    assert page.url == f"{live_server.url}{entry}"
    submission.refresh_from_db()
    assert submission.status == Submission.Status.SUBMITTED

    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("#accept-form button[type=submit]")
    submission.refresh_from_db()
    assert submission.status == Submission.Status.ACCEPTED
