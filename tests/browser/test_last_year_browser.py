"""Comparison with last year in a real browser: the 上年 column beside the inputs, and the live check warning
of a change beyond the ratio as the value is typed, asking for an explanation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from songnuan.campaigns.models import Campaign
from songnuan.reporting.models import Submission, SubmissionValue

from ..world import World
from .sessions import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RULE = "warmth-2018.1A.last-year"


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_last_year_beside_the_inputs_and_a_live_warning(
    browser: Any, live_server: Any, world: World, tmp_path: Path
) -> None:
    earlier = Campaign.objects.create(
        title="2017年送温暖活动",
        document_number="荆工办发电〔2016〕1号",
        owner=world.city,
        period_start=dt.date(2017, 1, 1),
        period_end=dt.date(2017, 2, 1),
        deadline=dt.date(2017, 2, 5),
        form_codes=["warmth-2018"],
    )
    world.campaign.previous = earlier
    world.campaign.save()
    last = Submission.objects.create(
        campaign=earlier, unit=world.county, form_code="warmth-2018", status=Submission.Status.ACCEPTED
    )
    SubmissionValue.objects.create(submission=last, item="1A", number=Decimal(20))

    entry = f"/campaigns/{world.campaign.pk}/units/{world.county.pk}/forms/warmth-2018/"
    page = log_in(browser, live_server, "county_reporter", entry)
    assert page.inner_text("#item-1A td.last-year") == "20"
    assert page.inner_text("#item-2A td.last-year") == "—"

    page.fill("#input-1A", "60")  # exactly ×3: nothing
    page.fill("#input-2A", "1")
    page.wait_for_function("document.getElementById('save-state').textContent.indexOf('已保存') >= 0")
    assert page.get_attribute("#item-1A td.value", "data-state") is None

    page.fill("#input-1A", "61")
    page.wait_for_selector("#item-1A td.value[data-state=warning]")
    assert "1A（走访企业）本年 61，超过上年（20）的3倍，请核实" in page.inner_text("#item-1A td.msgs")
    page.wait_for_selector(f"textarea[name='explain-{RULE}']")
    page.screenshot(path=str(tmp_path / "last-year.png"), full_page=True)
    page.context.close()
