"""我的待办 (/todo/) and marking notices read: for every logged-in role, a notice only its recipient's, the
header's 待办 (n), the page's queries bounded."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from songnuan.campaigns.models import Campaign
from songnuan.notices.models import Notice
from songnuan.notices.services import notify
from songnuan.reporting.models import Submission
from songnuan.reporting.services import submission_return

from ..web.test_workflow_services import FORM, submitted
from ..world import World


def notice_for(world: World, username: str, text: str = "请核对", link: str = "/campaigns/") -> Notice:
    [notice] = notify(
        Notice.Kind.RETURNED,
        unit=world.users[username].account.unit,
        text=text,
        link=link,
        recipients=[world.users[username]],
    )
    return notice


def test_the_todo_page_needs_a_login(world: World) -> None:
    response = Client().get("/todo/")
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=/todo/")
    notice = notice_for(world, "county_reporter")
    response = Client().post(f"/notices/{notice.pk}/read")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert Notice.objects.get(pk=notice.pk).read_at is None


ALL_USERS = [
    "city_admin",
    "city_reviewer",
    "county_reviewer",
    "county_reporter",
    "enterprise_reporter",
    "sibling_reporter",
]


@pytest.mark.parametrize("username", ALL_USERS)
def test_every_role_has_a_todo_page(world: World, username: str) -> None:
    page = world.client(username).get("/todo/")
    assert page.status_code == 200
    assert "我的待办" in page.content.decode()


def test_a_returned_table_reaches_the_reporters_todo_first(world: World) -> None:
    table = submitted(world)
    submission_return(submission=table, user=world.users["county_reviewer"], comment="1A请核对")
    client = world.client("enterprise_reporter")
    page = client.get("/todo/").content.decode()
    assert "待办 (1)" in page  # the header
    assert "表格被退回" in page and "1A请核对" in page
    entry = f"/campaigns/{world.campaign.pk}/units/{world.enterprise.pk}/forms/{FORM}/"
    assert f'href="{entry}"' in page  # the table to correct, in the list of tables to fill
    assert page.index("表格被退回") < page.index("本单位待填报的表")
    notice = Notice.objects.get()
    response = client.post(f"/notices/{notice.pk}/read", {"open": "1"})
    assert response.status_code == 302 and response["Location"] == entry
    assert Notice.objects.get().read_at is not None
    assert "待办 (0)" in client.get("/todo/").content.decode()


def test_the_reviewer_sees_the_tables_waiting_for_it_and_a_reporter_its_own(world: World) -> None:
    submitted(world)  # the enterprise's 附件1, below the county
    county = world.client("county_reviewer").get("/todo/").content.decode()
    assert "等待我审核的表" in county and "东宝区恒力水泥有限公司工会" in county
    city = world.client("city_reviewer").get("/todo/").content.decode()
    assert "等待我审核的表" in city  # a reviewer above may decide too (`may_review_table`)
    sibling = world.client("sibling_reporter").get("/todo/").content.decode()
    assert "本单位待填报的表" in sibling and "东宝区恒力水泥有限公司工会" not in sibling
    assert "等待我审核的表" not in sibling
    enterprise = world.client("enterprise_reporter").get("/todo/").content.decode()
    assert "附件2" in enterprise  # still to fill; 附件1 is sent
    assert f"/units/{world.enterprise.pk}/forms/{FORM}/" not in enterprise


@pytest.mark.parametrize("owner", ALL_USERS[:-1])
@pytest.mark.parametrize("actor", ALL_USERS)
def test_a_notice_is_seen_and_marked_only_by_its_recipient(world: World, owner: str, actor: str) -> None:
    notice = notice_for(world, owner, text=f"给{owner}的通知")
    client = world.client(actor)
    shown = f"给{owner}的通知" in client.get("/todo/").content.decode()
    response = client.post(f"/notices/{notice.pk}/read")
    read = Notice.objects.get(pk=notice.pk).read_at is not None
    if actor == owner:
        assert (shown, response.status_code, read) == (True, 302, True)
    else:
        assert (shown, response.status_code, read) == (False, 404, False)


def test_marking_read_needs_post_and_the_csrf_token(world: World) -> None:
    notice = notice_for(world, "county_reporter")
    client = world.client("county_reporter")
    assert client.get(f"/notices/{notice.pk}/read").status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.users["county_reporter"])
    assert strict.post(f"/notices/{notice.pk}/read").status_code == 403
    assert strict.post("/notices/read-all").status_code == 403
    assert Notice.objects.get().read_at is None


def test_mark_all_read_touches_only_ones_own(world: World) -> None:
    notice_for(world, "county_reporter")
    notice_for(world, "county_reporter")
    other = notice_for(world, "sibling_reporter")
    response = world.client("county_reporter").post("/notices/read-all", {"next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/todo/"
    assert Notice.objects.filter(read_at__isnull=True).get() == other


def test_the_todo_page_has_a_bounded_number_of_queries(
    world: World, django_assert_max_num_queries: Any
) -> None:
    """Counted on 2026-12-03: 11 for the city's admin (session, user, account, notices, header count,
    campaigns and their addressees, its own tables, the tables to review, …) whatever the number of
    campaigns, notices or tables."""
    client = world.client("city_admin")
    client.get("/todo/")

    def count() -> int:
        with django_assert_max_num_queries(11) as captured:
            assert client.get("/todo/").status_code == 200
        return len(captured)

    first = count()
    for year in range(2019, 2024):
        campaign = Campaign.objects.create(
            title=f"{year}年送温暖",
            document_number=f"荆工发〔{year}〕1号",
            owner=world.city,
            period_start=dt.date(year, 1, 1),
            period_end=dt.date(year, 2, 1),
            deadline=dt.date(year, 2, 5),
            form_codes=[FORM],
        )
        campaign.addressees.set([world.county, world.sibling])
        for unit in (world.county, world.sibling):
            Submission.objects.create(
                campaign=campaign, unit=unit, form_code=FORM, status=Submission.Status.SUBMITTED
            )
        notice_for(world, "city_admin")
    assert count() == first
