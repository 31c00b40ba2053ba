"""Issue 11, item 6 and the campaign fields (helper H6): same-password loophole, the Chinese 405 page,
confirmations, lateness judged by the first on-time submission, closed units kept out of choosers, people's
names, removing an activity report uploaded by mistake."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from songnuan.campaigns.models import Campaign
from songnuan.orgs.models import Account, AuditEntry, Unit
from songnuan.orgs.services import account_create, account_reset_password, password_stamp, unit_create
from songnuan.reporting.dashboard import dashboard
from songnuan.reporting.models import ActivityReport, Submission, SubmissionEvent
from songnuan.reporting.services import EditConflict, activity_report_upload

from ..world import PASSWORD, World

# --- item 7: the forced password change refuses the one-time password itself ---------------------------


def _one_time(world: World) -> tuple[Client, str]:
    admin = account_create(
        username="county_admin", password=PASSWORD, unit=world.county, role=Account.Role.ADMIN
    ).user
    account = User.objects.get(username="county_reporter").account
    password = account_reset_password(admin, account, password_stamp(account))
    person = Client()
    person.post("/login/", {"username": "county_reporter", "password": password})
    return person, password


def test_the_forced_change_refuses_the_one_time_password_as_the_new_one(world: World) -> None:
    person, password = _one_time(world)
    response = person.post(
        "/password/", {"old_password": password, "new_password1": password, "new_password2": password}
    )
    assert response.status_code == 200
    assert "新密码不能与当前密码（包括管理员给的一次性密码）相同" in response.content.decode()
    assert User.objects.get(username="county_reporter").account.must_change_password
    assert person.get("/campaigns/")["Location"] == "/password/"


def test_an_ordinary_change_refuses_the_current_password(world: World) -> None:
    client = Client()
    client.post("/login/", {"username": "county_reporter", "password": PASSWORD})
    response = client.post(
        "/password/", {"old_password": PASSWORD, "new_password1": PASSWORD, "new_password2": PASSWORD}
    )
    assert response.status_code == 200 and "新密码不能与当前密码" in response.content.decode()


# --- item 8: a Chinese 405 page; the API keeps its JSON 405 ---------------------------------------------


def test_a_get_on_a_post_only_page_shows_a_chinese_405_page(world: World) -> None:
    client = world.client("county_reporter")
    url = f"/campaigns/{world.campaign.pk}/units/{world.county.pk}/forms/warmth-2018/submit"
    response = client.get(url)
    assert response.status_code == 405 and response["Allow"] == "POST"
    page = response.content.decode()
    assert "不能这样打开此页面（405）" in page and "此地址接受的请求方式：POST" in page
    assert "<html" in page.lower()


def test_the_api_keeps_its_json_405(world: World) -> None:
    client = world.client("county_reporter")
    response = client.delete(f"/api/campaigns/{world.campaign.pk}/units/{world.county.pk}/forms/warmth-2018")
    assert response.status_code == 405 and response["Content-Type"].startswith("application/json")


# --- item 6: closed units are not offered, and one posted anyway is refused by name -----------------------


@pytest.fixture
def closed(world: World) -> tuple[World, Client, Unit]:
    """A county admin, and a closed union below the county beside the open enterprise union."""
    admin = account_create(username="county_admin", password=PASSWORD, unit=world.county, role="admin").user
    unit = unit_create(name="已撤销的纸箱厂工会", kind=Unit.Kind.ENTERPRISE, parent=world.county)
    unit.closed_at = timezone.now()
    unit.save(update_fields=["closed_at"])
    client = Client()
    client.force_login(admin)
    return world, client, unit


def _offered(html: str, unit: Unit) -> bool:
    return f'value="{unit.pk}"' in html


def test_campaign_addressees_offer_no_closed_unit_and_refuse_one_posted(
    closed: tuple[World, Client, Unit],
) -> None:
    world, client, unit = closed
    page = client.get("/campaigns/new/").content.decode()
    assert _offered(page, world.enterprise) and not _offered(page, unit)
    data = {
        "document_number": "东工〔2018〕1号",
        "title": "东宝区送温暖",
        "period_start": "2019-01-01",
        "period_end": "2019-02-15",
        "deadline": "2019-02-05",
        "form_codes": ["warmth-2018"],
        "addressees": [str(unit.pk), str(world.enterprise.pk)],
    }
    response = client.post("/campaigns/new/", data)
    assert response.status_code == 200
    assert "“已撤销的纸箱厂工会”已撤销，不能作为主送单位" in response.content.decode()
    assert not Campaign.objects.filter(document_number="东工〔2018〕1号").exists()


def test_an_account_is_not_added_to_a_closed_unit(closed: tuple[World, Client, Unit]) -> None:
    world, client, unit = closed
    page = client.get("/manage/accounts/add/").content.decode()
    assert _offered(page, world.enterprise) and not _offered(page, unit)
    response = client.post(
        "/manage/accounts/add/", {"username": "box_1", "name": "周强", "unit": unit.pk, "role": "reporter"}
    )
    assert "“已撤销的纸箱厂工会”已撤销" in response.content.decode()
    assert not User.objects.filter(username="box_1").exists()


def test_a_unit_is_not_moved_under_a_closed_unit(closed: tuple[World, Client, Unit]) -> None:
    world, client, unit = closed
    page = client.get(f"/manage/units/{world.enterprise.pk}/move/").content.decode()
    assert _offered(page, world.county) and not _offered(page, unit)
    response = client.post(f"/manage/units/{world.enterprise.pk}/move/", {"parent": unit.pk})
    assert "“已撤销的纸箱厂工会”已撤销" in response.content.decode()
    assert Unit.objects.get(pk=world.enterprise.pk).parent_id == world.county.pk


# --- item 4: lateness is judged by the first sending, not by the current state ---------------------------

CHINA = ZoneInfo("Asia/Shanghai")
ON_TIME = dt.datetime(2018, 2, 3, 10, 0, tzinfo=CHINA)
AFTER = dt.datetime(2018, 2, 8, 10, 0, tzinfo=CHINA)


def _sent(world: World, unit: Unit, code: str, status: str, moments: list[tuple[dt.datetime, str]]) -> None:
    """A table whose status events happened at `moments` (the flag and the last sending as the workflow
    leaves them after the last one)."""
    sendings = [at for at, new in moments if new == "submitted"]
    submission = Submission.objects.create(
        campaign=world.campaign,
        unit=unit,
        form_code=code,
        status=status,
        submitted_at=sendings[-1] if sendings else None,
        late=bool(sendings) and world.campaign.is_late(sendings[-1]),
    )
    for at, new in moments:
        event = SubmissionEvent.objects.create(submission=submission, kind="status", new=new)
        SubmissionEvent.objects.filter(pk=event.pk).update(at=at)


def test_a_table_sent_on_time_and_returned_later_is_neither_overdue_nor_late(world: World) -> None:
    for code in world.campaign.form_codes:
        # 东宝区: sent on time, returned after the deadline, not yet sent again
        _sent(world, world.county, code, "returned", [(ON_TIME, "submitted"), (AFTER, "returned")])
        # 钟祥市: sent on time, returned, sent again after the deadline
        _sent(
            world,
            world.sibling,
            code,
            "submitted",
            [(ON_TIME, "submitted"), (AFTER, "returned"), (AFTER, "submitted")],
        )
        # the enterprise: first sent after the deadline, then returned
        _sent(world, world.enterprise, code, "returned", [(AFTER, "submitted"), (AFTER, "returned")])
    board = dashboard(world.campaign, world.city, now=AFTER)
    rows = {row.unit.name: row for row in board.rows}
    county, sibling, enterprise = (rows[u.name] for u in (world.county, world.sibling, world.enterprise))
    assert (county.state, county.overdue, county.late) == ("returned", False, False)
    assert (sibling.state, sibling.overdue, sibling.late) == ("submitted", False, False)
    assert (enterprise.overdue, enterprise.late) == (True, True)
    assert {r.unit.name for r in board.rows if r.overdue} == {world.city.name, world.enterprise.name}
    page = world.client("city_reviewer").get(
        reverse("review:dashboard", args=[world.campaign.pk]) + "?state=overdue"
    )
    assert page.status_code == 200 and world.enterprise.name in page.content.decode()


# --- item 2: confirmations before 报送上级 and 审核通过 ------------------------------------------------


def test_submit_and_accept_forms_ask_for_confirmation(world: World) -> None:
    entry = f"/campaigns/{world.campaign.pk}/units/{world.county.pk}/forms/warmth-2018/"
    page = world.client("county_reporter").get(entry).content.decode()
    assert re.search(r'id="submit-form" data-confirm="确定把“东宝区总工会”的附件1报送上级吗？', page)
    assert "site/confirm.js" in page
    Submission.objects.filter(unit=world.county).update(status="submitted")
    page = world.client("city_reviewer").get(entry).content.decode()
    assert re.search(r'id="accept-form" data-confirm="确定审核通过“东宝区总工会”的附件1吗？', page)


# --- item 5: an activity report uploaded by mistake can be removed ----------------------------------------

PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
    b"trailer\n<< /Size 3 /Root 1 0 R >>\nstartxref\n110\n%%EOF\n"
)


@pytest.fixture
def report(world: World, settings: Any, tmp_path: Path) -> ActivityReport:
    settings.MEDIA_ROOT = tmp_path / "media"
    user = world.users["enterprise_reporter"]
    return activity_report_upload(
        campaign=world.campaign,
        unit=world.enterprise,
        user=user,
        upload=SimpleUploadedFile("错传的报告.pdf", PDF),
    )


def _remove_url(world: World, report: ActivityReport) -> str:
    return f"/campaigns/{world.campaign.pk}/units/{world.enterprise.pk}/report/{report.pk}/remove"


@pytest.mark.django_db(transaction=True)
def test_the_uploader_unit_removes_a_report_audited_and_the_file_goes(
    world: World, report: ActivityReport
) -> None:
    stored = Path(report.file.path)
    assert stored.exists()
    client = world.client("enterprise_reporter")
    page = client.get(f"/campaigns/{world.campaign.pk}/units/{world.enterprise.pk}/report/").content.decode()
    assert f'action="{_remove_url(world, report)}"' in page
    assert 'data-confirm="确定删除活动报告“错传的报告.pdf”吗？' in page
    response = client.post(_remove_url(world, report), follow=True)
    assert "已删除活动报告“错传的报告.pdf”。" in [str(m) for m in response.context["messages"]]
    assert not ActivityReport.objects.filter(pk=report.pk).exists()
    assert not stored.exists()
    entry = AuditEntry.objects.get(action="report-removed")
    assert entry.actor == world.users["enterprise_reporter"] and entry.unit == world.enterprise
    assert entry.old == "活动报告“错传的报告.pdf”（荆工办发电〔2017〕18号）" and entry.at is not None


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("county_reporter", 403),  # the unit above sees it but does not fill for the enterprise
        ("county_reviewer", 403),
        ("city_reviewer", 403),
        ("sibling_reporter", 403),
        ("enterprise_reporter", 302),
    ],
)
def test_the_remove_matrix(world: World, report: ActivityReport, role: str, status: int) -> None:
    response = world.client(role).post(_remove_url(world, report))
    assert response.status_code == status
    assert ActivityReport.objects.filter(pk=report.pk).exists() == (status != 302)


def test_removal_is_post_only_and_csrf_checked(world: World, report: ActivityReport) -> None:
    client = world.client("enterprise_reporter")
    assert client.get(_remove_url(world, report)).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.users["enterprise_reporter"])
    assert strict.post(_remove_url(world, report)).status_code == 403
    assert ActivityReport.objects.filter(pk=report.pk).exists()


def test_no_removal_once_every_table_is_accepted(world: World, report: ActivityReport) -> None:
    for code in world.campaign.form_codes:
        Submission.objects.create(
            campaign=world.campaign, unit=world.enterprise, form_code=code, status="accepted"
        )
    response = world.client("enterprise_reporter").post(_remove_url(world, report), follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert any("已全部审核通过，活动报告“错传的报告.pdf”已归档，不能再删除" in m for m in messages)
    assert ActivityReport.objects.filter(pk=report.pk).exists()
    assert not AuditEntry.objects.filter(action="report-removed").exists()


# --- item 3: people's names instead of login names ------------------------------------------------------


def test_every_demo_account_has_a_persons_name() -> None:
    demo = tomllib.loads((resources.files("songnuan.orgs") / "data" / "demo-jingmen.toml").read_text("utf-8"))
    for spec in demo["accounts"]:
        name = spec.get("name", "")
        assert 2 <= len(name) <= 4 and all("\u4e00" <= c <= "\u9fff" for c in name), spec["username"]
        assert not any(word in name for word in ("管理", "审核", "填报", "员")), spec["username"]


def test_the_history_shows_the_full_name_or_else_the_login_name(world: World) -> None:
    named = world.users["county_reporter"]
    named.first_name = "王丽"
    named.save()
    submission = Submission.objects.create(
        campaign=world.campaign, unit=world.county, form_code="warmth-2018"
    )
    SubmissionEvent.objects.create(submission=submission, kind="status", new="submitted", user=named)
    SubmissionEvent.objects.create(
        submission=submission, kind="status", new="returned", user=world.users["city_reviewer"], comment="改"
    )
    url = f"/campaigns/{world.campaign.pk}/units/{world.county.pk}/forms/warmth-2018/history"
    page = world.client("county_reporter").get(url).content.decode()
    assert "<td>王丽</td>" in page and ">county_reporter<" not in page
    assert "<td>city_reviewer</td>" in page  # no name given: the login name


def test_an_edit_conflict_names_the_person(world: World) -> None:
    user = world.users["county_reporter"]
    user.first_name = "王丽"
    user.save()
    submission = Submission.objects.create(
        campaign=world.campaign, unit=world.county, form_code="warmth-2018", updated_by=user
    )
    assert str(EditConflict(submission, {}, {})).startswith("保存被拒绝：王丽 已于")


def test_the_management_log_names_the_account_by_its_persons_name(world: World) -> None:
    admin = account_create(
        username="county_admin", password=PASSWORD, unit=world.county, role="admin", name="陈静"
    )
    account = User.objects.get(username="county_reporter").account
    account.user.first_name = "王丽"
    account.user.save()
    account_reset_password(admin.user, account, password_stamp(account))
    client = Client()
    client.force_login(admin.user)
    log = client.get("/manage/log/").content.decode()
    assert "<td>陈静</td>" in log and "王丽（county_reporter）" in log
