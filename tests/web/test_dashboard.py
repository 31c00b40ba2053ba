"""The progress dashboard: states and lateness of the viewer's own unit (本级) and the units below, chart,
filter, reminder list."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from songnuan.formkit.definitions import get_form
from songnuan.orgs.models import Unit
from songnuan.orgs.services import unit_create
from songnuan.reporting import services
from songnuan.reporting.dashboard import dashboard
from songnuan.reporting.models import Submission
from songnuan.reporting.progress import STATES

from ..filemakers import filled_example
from ..world import World
from .test_rollup import put_table

WARMTH, CENTRES = "warmth-2018", "service-centres-2017"
CHINA = ZoneInfo("Asia/Shanghai")
ON_TIME = dt.datetime(2018, 2, 3, 10, 0, tzinfo=CHINA)
LATE = dt.datetime(2018, 2, 7, 9, 0, tzinfo=CHINA)


@pytest.fixture(autouse=True)
def fast_passwords() -> Iterator[None]:
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


def both(world: World, unit: Unit, status: str, **extra: object) -> None:
    for code in (WARMTH, CENTRES):
        put_table(world, unit, {}, code=code, status=status, **extra)  # type: ignore[arg-type]


@pytest.fixture
def progress(world: World) -> dict[str, Unit]:
    """Five units below the city, one in each state; the city itself (本级) has not started.

    county: both submitted, one of them late · enterprise: both drafts (reporter 张三 typed the header)
    second enterprise (under county): both returned · sibling: nothing · sibling's enterprise: both accepted.
    """
    returned = unit_create(name="东宝区第二企业工会", kind=Unit.Kind.ENTERPRISE, parent=world.county)
    accepted = unit_create(
        name="钟祥市磷化工集团工会",
        kind=Unit.Kind.ENTERPRISE,
        parent=world.sibling,
        contact_name="孙强",
        contact_phone="13900001111",
    )
    put_table(world, world.county, {}, status=Submission.Status.SUBMITTED, submitted_at=ON_TIME)
    put_table(world, world.county, {}, code=CENTRES, status="submitted", submitted_at=LATE, late=True)
    both(world, world.enterprise, Submission.Status.DRAFT, reporter="张三", phone="13800002222")
    both(world, returned, Submission.Status.RETURNED, submitted_at=ON_TIME)
    both(world, accepted, Submission.Status.ACCEPTED, submitted_at=ON_TIME)
    return {"returned": returned, "accepted": accepted}


def dashboard_url(world: World) -> str:
    return reverse("review:dashboard", args=[world.campaign.pk])


def test_counts_states_and_lateness(world: World, progress: dict[str, Unit]) -> None:
    board = dashboard(world.campaign, world.city, now=dt.datetime(2018, 2, 4, tzinfo=CHINA))
    states = {row.unit.name: row.state for row in board.rows}
    assert states == {
        "荆门市总工会": "not-started",  # its own tables are expected too
        "东宝区总工会": "submitted",
        "东宝区恒力水泥有限公司工会": "draft",
        "东宝区第二企业工会": "returned",
        "钟祥市总工会": "not-started",
        "钟祥市磷化工集团工会": "accepted",
    }
    assert [(key, count) for key, _label, count in board.counts] == [
        ("not-started", 2),
        ("draft", 1),
        ("returned", 1),
        ("submitted", 1),
        ("accepted", 1),
    ]
    assert (board.on_time, board.late, board.overdue) == (1, 1, 0)  # before the deadline: nothing overdue
    assert board.form_counts[0][1] == [2, 1, 1, 1, 1] and board.form_counts[1][1] == [2, 1, 1, 1, 1]
    after = dashboard(world.campaign, world.city, now=dt.datetime(2018, 2, 6, tzinfo=CHINA))
    # the returned unit sent its tables on time: returned later, it is not 逾期未报 (issue 11)
    assert after.overdue == 3 and after.deadline_passed
    assert {r.unit.name for r in after.rows if r.overdue} == {
        "荆门市总工会",
        "东宝区恒力水泥有限公司工会",
        "钟祥市总工会",
    }


def test_units_in_tree_order_indented(world: World, progress: dict[str, Unit]) -> None:
    board = dashboard(world.campaign, world.city)
    assert [(row.name, row.indent) for row in board.rows] == [
        ("荆门市总工会（本级）", 0),  # the viewer's own unit first
        ("东宝区总工会", 0),
        ("东宝区恒力水泥有限公司工会", 1),
        ("东宝区第二企业工会", 1),
        ("钟祥市总工会", 0),
        ("钟祥市磷化工集团工会", 1),
    ]


def test_page_shows_counts_chart_table_and_reminders(world: World, progress: dict[str, Unit]) -> None:
    response = world.client("city_reviewer").get(dashboard_url(world))
    assert response.status_code == 200
    page = response.content.decode()
    for state in STATES:
        count = 2 if state == "not-started" else 1  # the city itself has not started either
        assert re.search(rf'data-state="{state}"><span class="count">{count}</span>', page), state
    assert "本级及下级单位共 6 个" in page
    city_row = re.search(rf'<tr data-unit="{world.city.pk}"[^>]*>.*?</tr>', page, re.S)
    assert city_row is not None and "荆门市总工会（本级）" in city_row.group(0)
    assert '<span class="count">1</span><span>逾期报送</span>' in page
    assert "<svg" in page and page.count("<rect") == 8  # five states, on time, late, overdue
    assert re.search(r'data-key="late">.*?<text[^>]*>1</text>', page, re.S)
    county_row = re.search(rf'<tr data-unit="{world.county.pk}".*?</tr>', page, re.S)
    assert county_row is not None
    row = county_row.group(0)
    assert "2018-02-07 09:00" in row  # the last submission, in China time
    assert "逾期" in row and "李红" in row and "0724-2345678" in row
    # each started table opens from here, where the reviewer accepts or returns it
    entry = f"/campaigns/{world.campaign.pk}/units/{world.county.pk}/forms/warmth-2018/"
    assert f'href="{entry}"' in row
    # no chart library: the only script is the site's confirmation before sending a form
    assert re.findall(r'<script src="([^"]+)"', page) == ["/static/site/confirm.js"]


def test_late_uses_the_deadline_as_a_whole_china_day(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Submitted through the workflow at 23:30 on the deadline day (China time, 15:30 UTC) is on time; ten
    minutes after midnight is late."""
    values, header = filled_example(WARMTH)
    for name, unit, moment in (
        ("county_reporter", world.county, dt.datetime(2018, 2, 5, 23, 30, tzinfo=CHINA)),
        ("sibling_reporter", world.sibling, dt.datetime(2018, 2, 6, 0, 10, tzinfo=CHINA)),
    ):
        monkeypatch.setattr(timezone, "now", lambda moment=moment: moment.astimezone(dt.UTC))
        user = world.users[name]
        submission = services.submission_open(campaign=world.campaign, unit=unit, form_code=WARMTH, user=user)
        saved = services.submission_save(
            submission=submission,
            user=user,
            version=submission.version,
            values=values,
            header={"reporter": header["reporter"], "phone": header["phone"], "report_date": header["date"]},
        )
        services.submission_submit(submission=saved.submission, user=user)
    board = dashboard(world.campaign, world.city)
    late = {row.unit.name: row.late for row in board.rows}
    assert late["东宝区总工会"] is False and late["钟祥市总工会"] is True
    assert board.rows[0].unit == world.city and board.rows[1].unit == world.county
    assert board.rows[1].submitted_at == dt.datetime(2018, 2, 5, 15, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("state", "shown"),
    [
        ("not-started", {"荆门市总工会", "钟祥市总工会"}),
        ("draft", {"东宝区恒力水泥有限公司工会"}),
        ("returned", {"东宝区第二企业工会"}),
        ("submitted", {"东宝区总工会"}),
        ("accepted", {"钟祥市磷化工集团工会"}),
        ("missing", {"荆门市总工会", "钟祥市总工会", "东宝区恒力水泥有限公司工会", "东宝区第二企业工会"}),
        ("late", {"东宝区总工会"}),
        ("on-time", {"钟祥市磷化工集团工会"}),
        ("nonsense", None),  # an unknown filter shows every unit
    ],
)
def test_filter_by_state(world: World, progress: dict[str, Unit], state: str, shown: set[str] | None) -> None:
    page = world.client("city_reviewer").get(dashboard_url(world), {"state": state}).content.decode()
    table = page[
        page.index('<table class="units">') : page.index("</table>", page.index('<table class="units">'))
    ]
    ids = {int(i) for i in re.findall(r'<tr data-unit="(\d+)"', table)}
    names = set(Unit.objects.filter(pk__in=ids).values_list("name", flat=True))
    assert names == (shown if shown is not None else {u.name for u in Unit.objects.all()})


def test_reminder_list_names_contacts_and_copies_as_text(world: World, progress: dict[str, Unit]) -> None:
    board = dashboard(world.campaign, world.city)
    assert [row.unit.name for row in board.reminders] == [
        "荆门市总工会",
        "东宝区恒力水泥有限公司工会",
        "东宝区第二企业工会",
        "钟祥市总工会",
    ]
    text = board.reminder_text
    assert text.startswith(
        "【关于2018年元旦春节期间全市工会开展送温暖活动的通知】统计表报送提醒（截止日期：2018年2月5日）"
    )
    assert (
        "东宝区恒力水泥有限公司工会（联系人：张三，电话：13800002222）：附件1草稿未报送；附件2草稿未报送"
        in text
    )
    assert "东宝区第二企业工会（联系人：未登记，电话：未登记）：附件1已退回；附件2已退回" in text
    assert "钟祥市总工会（联系人：赵敏，电话：0724-4221234）：附件1未填报；附件2未填报" in text
    assert "1. 荆门市总工会（联系人：未登记，电话：未登记）：附件1未填报；附件2未填报" in text
    assert text.endswith("共 4 个单位未完成报送，请尽快填报。")
    page = world.client("city_reviewer").get(dashboard_url(world)).content.decode()
    textarea = re.search(r'<textarea id="reminder-text"[^>]*>(.*?)</textarea>', page, re.S)
    assert textarea is not None and "钟祥市总工会（联系人：赵敏，电话：0724-4221234）" in textarea.group(1)


def test_county_reviewer_sees_only_its_subtree(world: World, progress: dict[str, Unit]) -> None:
    page = world.client("county_reviewer").get(dashboard_url(world)).content.decode()
    ids = {int(i) for i in re.findall(r'<tr data-unit="(\d+)"', page)}
    assert ids == {world.county.pk, world.enterprise.pk, progress["returned"].pk}  # its own row too
    assert "钟祥" not in page


@pytest.mark.parametrize("name", ["county_reporter", "enterprise_reporter", "sibling_reporter"])
def test_reporter_gets_403(world: World, name: str) -> None:
    assert world.client(name).get(dashboard_url(world)).status_code == 403


def test_unknown_campaign_is_404(world: World) -> None:
    response = world.client("city_reviewer").get(reverse("review:dashboard", args=[world.campaign.pk + 99]))
    assert response.status_code == 404


def test_everyone_done_says_so(world: World) -> None:
    for unit in (world.city, world.county, world.enterprise, world.sibling):
        both(world, unit, Submission.Status.ACCEPTED, submitted_at=ON_TIME)
    board = dashboard(world.campaign, world.city)
    assert board.reminders == [] and board.on_time == 4
    assert board.reminder_text.endswith("各单位均已报送。")
    assert get_form(WARMTH).attachment == "附件1"
