"""Notices written on a return, an acceptance, an unlock (in the transition's transaction, to the people who
fill the unit), mailed after the commit; submission needs the header; the daily deadline notices."""

from __future__ import annotations

import datetime as dt
import warnings
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command

from songnuan.notices.models import Notice
from songnuan.notices.selectors import reporters_of
from songnuan.orgs.models import Account
from songnuan.orgs.services import account_create
from songnuan.reporting.deadlines import send_deadline_notices
from songnuan.reporting.models import Submission
from songnuan.reporting.services import (
    ReportingError,
    submission_accept,
    submission_return,
    submission_save,
    submission_submit,
    submission_unlock,
)

from ..web.test_workflow_services import FORM, draft, submitted
from ..world import PASSWORD, World


def notices(world: World, username: str) -> list[Notice]:
    return list(Notice.objects.filter(recipient=world.users[username]).order_by("id"))


def test_a_return_tells_the_people_who_fill_the_unit_and_nobody_else(world: World) -> None:
    table = submitted(world)
    submission_return(submission=table, user=world.users["county_reviewer"], comment="1A请核对")
    [notice] = notices(world, "enterprise_reporter")
    assert notice.kind == Notice.Kind.RETURNED and notice.read_at is None
    assert "东宝区恒力水泥有限公司工会" in notice.text and "退回" in notice.text and "1A请核对" in notice.text
    assert notice.unit == world.enterprise and notice.campaign == world.campaign and notice.form_code == FORM
    assert notice.link == f"/campaigns/{world.campaign.pk}/units/{world.enterprise.pk}/forms/{FORM}/"
    assert Notice.objects.count() == 1  # not the reviewer, not the county's or the sibling's reporter


def test_acceptance_and_unlock_are_notices_too(world: World) -> None:
    table = submitted(world)
    reviewer = world.users["county_reviewer"]
    table = submission_accept(submission=table, user=reviewer)
    submission_unlock(submission=table, user=reviewer, reason="2A填错了")
    kinds = [(n.kind, "2A填错了" in n.text) for n in notices(world, "enterprise_reporter")]
    assert kinds == [(Notice.Kind.ACCEPTED, False), (Notice.Kind.UNLOCKED, True)]


def test_the_unit_admin_is_told_and_a_disabled_account_is_not(world: World) -> None:
    admin = account_create(username="ent_admin", password=PASSWORD, unit=world.enterprise, role="admin").user
    gone = account_create(username="ent_gone", password=PASSWORD, unit=world.enterprise, role="reporter").user
    gone.is_active = False
    gone.save()
    assert set(reporters_of(world.enterprise)) == {world.users["enterprise_reporter"], admin}
    assert reporters_of(world.county) == [world.users["county_reporter"]]  # not its reviewer
    Account.objects.filter(user=admin).update(role=Account.Role.REVIEWER)
    assert reporters_of(world.enterprise) == [world.users["enterprise_reporter"]]


def test_a_refused_transition_writes_no_notice(world: World) -> None:
    table = submitted(world)
    with pytest.raises(ReportingError):
        submission_return(submission=table, user=world.users["county_reviewer"], comment="  ")
    with pytest.raises(ReportingError):
        submission_unlock(submission=table, user=world.users["county_reviewer"], reason="x")  # not accepted
    assert not Notice.objects.exists()


def test_the_mail_goes_after_the_commit_to_those_with_an_address(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    reporter = world.users["enterprise_reporter"]
    reporter.email = "zhang@example.cn"
    reporter.save()
    account_create(username="ent_2", password=PASSWORD, unit=world.enterprise, role="reporter")  # no address
    table = submitted(world)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        submission_return(submission=table, user=world.users["county_reviewer"], comment="1A请核对")
    assert mail.outbox == [] and Notice.objects.count() == 2  # nothing sent before the commit
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Django 6.1: MAILERS, no deprecated EMAIL_* path taken
        for callback in callbacks:
            callback()
    [message] = mail.outbox
    assert message.to == ["zhang@example.cn"]
    assert "表格被退回" in message.subject and "1A请核对" in message.body
    assert f"/campaigns/{world.campaign.pk}/units/{world.enterprise.pk}/forms/{FORM}/" in message.body


def test_a_failing_mail_server_does_not_undo_the_return(
    world: World, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    reporter = world.users["enterprise_reporter"]
    reporter.email = "zhang@example.cn"
    reporter.save()

    def refuse(*args: object, **kwargs: object) -> int:
        raise OSError("connection refused")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    table = submitted(world)
    with django_capture_on_commit_callbacks(execute=True):
        submission_return(submission=table, user=world.users["county_reviewer"], comment="请核对")
    table.refresh_from_db()
    assert table.status == Submission.Status.RETURNED and Notice.objects.count() == 1
    assert "notice e-mail to zhang@example.cn failed" in caplog.text


def test_the_settings_use_mailers_not_the_deprecated_email_backend() -> None:
    from songnuan.config import settings as project_settings

    assert not hasattr(project_settings, "EMAIL_BACKEND")
    assert project_settings.MAILERS["default"]["BACKEND"] == "django.core.mail.backends.console.EmailBackend"


# --- submission needs the header ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "blank, named",
    [
        (["reporter", "phone", "report_date"], "填报人、电话、填报日期"),
        (["phone"], "电话"),
        (["reporter", "report_date"], "填报人、填报日期"),
    ],
)
def test_submit_needs_the_header_and_names_what_is_missing(
    world: World, blank: list[str], named: str
) -> None:
    user = world.users["enterprise_reporter"]
    table = draft(world)
    table = submission_save(
        submission=table, user=user, version=table.version, header=dict.fromkeys(blank, "")
    ).submission
    with pytest.raises(ReportingError) as refused:
        submission_submit(submission=table, user=user)
    assert f"表头的{named}（" in str(refused.value)
    table.refresh_from_db()
    assert table.status == Submission.Status.DRAFT and table.submitted_at is None


def test_a_header_of_spaces_is_blank(world: World) -> None:
    user = world.users["enterprise_reporter"]
    table = draft(world)
    Submission.objects.filter(pk=table.pk).update(reporter="   ")
    with pytest.raises(ReportingError, match="表头的填报人（"):
        submission_submit(submission=table, user=user)


# --- deadline notices -------------------------------------------------------------------------------------
# The world's campaign: deadline 2018-02-05; the city (owner), the two counties and the enterprise take part.

WHO = {"city_admin", "county_reporter", "enterprise_reporter", "sibling_reporter"}


def told(kind: str) -> set[str]:
    return {n.recipient.get_username() for n in Notice.objects.filter(kind=kind).select_related("recipient")}


def test_three_days_before_the_deadline_every_unit_still_owing_is_told_once(world: World) -> None:
    submitted(world)  # the enterprise has sent 附件1 but not 附件2: still owes
    assert send_deadline_notices(today=dt.date(2018, 2, 1)) == []  # 4 days before: not yet
    written = send_deadline_notices(today=dt.date(2018, 2, 2))
    assert {n.recipient.get_username() for n in written} == WHO == told(Notice.Kind.DEADLINE_SOON)
    [enterprise] = [n for n in written if n.unit == world.enterprise]
    assert "还有 3 天" in enterprise.text and "附件2" in enterprise.text and "附件1" not in enterprise.text
    assert send_deadline_notices(today=dt.date(2018, 2, 2)) == []  # the same day again: nothing new
    assert send_deadline_notices(today=dt.date(2018, 2, 4)) == []  # and not every day until the deadline


def test_overdue_once_and_not_for_a_unit_that_sent_everything(world: World) -> None:
    for code in world.campaign.form_codes:
        Submission.objects.create(
            campaign=world.campaign, unit=world.sibling, form_code=code, status=Submission.Status.ACCEPTED
        )
    written = send_deadline_notices(today=dt.date(2018, 2, 6))
    assert {n.recipient.get_username() for n in written} == WHO - {"sibling_reporter"}
    assert all("已于2018年2月5日截止" in n.text for n in written)
    assert send_deadline_notices(today=dt.date(2018, 2, 7)) == []
    assert not Notice.objects.filter(kind=Notice.Kind.DEADLINE_SOON).exists()


def test_a_long_past_deadline_is_not_announced(world: World) -> None:
    assert send_deadline_notices(today=dt.date(2018, 3, 8)) == []  # 31 days after


def test_the_command_is_idempotent(world: World, capsys: Any) -> None:
    call_command("send_deadline_notices", "--date", "2018-02-02")
    assert "4 notice(s) to 4 person(s)" in capsys.readouterr().out
    call_command("send_deadline_notices", "--date", "2018-02-02")
    assert "0 notice(s)" in capsys.readouterr().out
    assert Notice.objects.count() == 4


def test_the_api_and_the_page_refuse_a_submission_without_header(world: World) -> None:
    table = draft(world)
    Submission.objects.filter(pk=table.pk).update(phone="", report_date=None)
    client = world.client("enterprise_reporter")
    url = f"/campaigns/{world.campaign.pk}/units/{world.enterprise.pk}/forms/{FORM}/"
    answer = client.post(f"/api{url.removesuffix('/')}/submit")
    assert answer.status_code == 400 and "表头的电话、填报日期" in answer.json()["message"]
    page = client.post(f"{url}submit", follow=True).content.decode()
    assert "表头的电话、填报日期" in page
    assert Submission.objects.get(pk=table.pk).status == Submission.Status.DRAFT
