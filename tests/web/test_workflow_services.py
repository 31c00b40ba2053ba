"""The workflow services the pages call: saving drafts (with history), submit, return, accept, unlock."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied

from songnuan.reporting.models import Submission, SubmissionEvent, SubmissionValue
from songnuan.reporting.services import (
    EditConflict,
    ReportingError,
    stored_values,
    submission_accept,
    submission_open,
    submission_return,
    submission_save,
    submission_submit,
    submission_unlock,
)

from ..filemakers import filled_example
from ..world import FROZEN_TODAY, World

FORM = "warmth-2018"
WARNING = "warmth-2018.4A.within-raised"


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def draft(world: World, username: str = "enterprise_reporter", /, **changes: Any) -> Submission:
    """The unit's table, saved once with the valid filled example (plus `changes`)."""
    user = world.users[username]
    submission = submission_open(campaign=world.campaign, unit=user.account.unit, form_code=FORM, user=user)
    values, header = filled_example(FORM)
    values.update(changes)
    result = submission_save(
        submission=submission,
        user=user,
        version=submission.version,
        values=values,
        header={"reporter": header["reporter"], "phone": header["phone"], "report_date": header["date"]},
    )
    return result.submission


def submitted(world: World, username: str = "enterprise_reporter") -> Submission:
    submission = draft(world, username)
    return submission_submit(submission=submission, user=world.users[username])


def test_save_changes_values_and_records_each_change_with_old_and_new(world: World) -> None:
    user = world.users["enterprise_reporter"]
    submission = draft(world)
    version = submission.version
    result = submission_save(
        submission=submission, user=user, version=version, values={"1A": "50", "1B": 9, "3F": "2.25"}
    )
    assert result.submission.version == version + 1
    assert sorted(result.changed) == ["1A", "3F"]  # 1B was 9 already: no change, no event
    assert stored_values(result.submission)["1A"] == 50
    assert stored_values(result.submission)["3F"] == Decimal("2.25")
    events = SubmissionEvent.objects.filter(submission=submission, kind="value", subject__in=["1A", "3F"])
    latest = {e.subject: (e.old, e.new, e.user) for e in events.order_by("at", "id")}
    assert latest["1A"] == ("48", "50", user)
    assert latest["3F"] == ("1.2", "2.25", user)
    assert result.check.errors  # 3A no longer equals its parts: the result says so, the save is kept


def test_blank_stays_blank_and_zero_is_a_value(world: World) -> None:
    user = world.users["enterprise_reporter"]
    submission = submission_open(campaign=world.campaign, unit=world.enterprise, form_code=FORM, user=user)
    result = submission_save(submission=submission, user=user, version=1, values={"1A": "0", "1B": ""})
    values = stored_values(result.submission)
    assert values["1A"] == 0 and values["1B"] is None and values["2A"] is None
    assert not SubmissionValue.objects.filter(submission=submission, item="1B").exists()
    assert result.changed == ["1A"]  # "" on a blank item is no change
    result = submission_save(submission=submission, user=user, version=2, values={"1A": ""})
    assert stored_values(result.submission)["1A"] is None
    assert not SubmissionValue.objects.filter(submission=submission).exists()
    event = SubmissionEvent.objects.filter(subject="1A").order_by("-id").first()
    assert event is not None and (event.old, event.new) == ("0", "")


def test_stale_version_is_a_conflict_and_nothing_is_written(world: World) -> None:
    user = world.users["enterprise_reporter"]
    submission = draft(world)
    stale = submission.version - 1
    events_before = SubmissionEvent.objects.count()
    with pytest.raises(EditConflict) as raised:
        submission_save(
            submission=submission,
            user=user,
            version=stale,
            values={"1A": "99"},
            explanations={WARNING: "x"},
            header={"reporter": "别人"},
        )
    assert raised.value.theirs["1A"] == 48 and raised.value.yours == {"1A": "99"}
    submission.refresh_from_db()
    assert stored_values(submission)["1A"] == 48
    assert submission.reporter == "王丽" and submission.explanations == {}
    assert SubmissionEvent.objects.count() == events_before
    assert "修改了这张表" in str(raised.value)


def test_submit_is_refused_while_an_error_stands(world: World) -> None:
    submission = draft(world, **{"2C": 1})
    with pytest.raises(ReportingError, match="个错误"):
        submission_submit(submission=submission, user=world.users["enterprise_reporter"])
    submission.refresh_from_db()
    assert submission.status == Submission.Status.DRAFT


def test_submit_needs_an_explanation_for_each_warning(world: World) -> None:
    user = world.users["enterprise_reporter"]
    submission = draft(world, **{"4A": Decimal("66.95")})  # more disbursed than raised: a warning
    with pytest.raises(ReportingError, match="还没有写说明"):
        submission_submit(submission=submission, user=user)
    submission = submission_save(
        submission=submission,
        user=user,
        version=submission.version,
        explanations={WARNING: "含上年结转款0.04万元"},
    ).submission
    submission = submission_submit(submission=submission, user=user)
    assert submission.status == Submission.Status.SUBMITTED
    event = SubmissionEvent.objects.get(kind="explanation", subject=WARNING)
    assert (event.old, event.new) == ("", "含上年结转款0.04万元")


@pytest.mark.parametrize(
    "rule",
    [
        "warmth-2018.4A.within-raise",  # mistyped
        "warmth-2018.3A.sum",  # an error of the form: corrected, never explained
        "service-centres-2017.1A.staffed",  # a warning of the other table
        "",
    ],
)
def test_an_explanation_is_only_stored_for_a_warning_of_the_form(world: World, rule: str) -> None:
    user = world.users["enterprise_reporter"]
    submission = draft(world)
    version, values_before = submission.version, stored_values(submission)
    events_before = SubmissionEvent.objects.count()
    with pytest.raises(ReportingError) as raised:
        submission_save(
            submission=submission,
            user=user,
            version=version,
            values={"1A": "50"},
            explanations={WARNING: "含上年结转", rule: "说明"},
        )
    assert str(raised.value) == (
        f"附件1没有编号为“{rule}”的警告（核实性审核）规则，只能为表中的警告写说明；本次没有保存任何修改"
    )
    submission.refresh_from_db()
    assert (submission.version, submission.explanations) == (version, {})
    assert stored_values(submission) == values_before
    assert SubmissionEvent.objects.count() == events_before


def test_explanations_of_rounding_differences_are_accepted_and_stale_ones_can_be_cleared(
    world: World,
) -> None:
    user = world.users["enterprise_reporter"]
    submission = draft(world)
    # 舍位差 of a money sum: a warning whose id is the sum's with ".rounding".
    saved = submission_save(
        submission=submission,
        user=user,
        version=submission.version,
        explanations={"warmth-2018.3A.sum.rounding": "按元四舍五入"},
    ).submission
    assert saved.explanations == {"warmth-2018.3A.sum.rounding": "按元四舍五入"}
    # An explanation stored before rule ids were checked (or for a rule since renamed) can still be removed.
    Submission.objects.filter(pk=saved.pk).update(explanations={**saved.explanations, "old.rule": "旧说明"})
    saved.refresh_from_db()
    saved = submission_save(
        submission=saved, user=user, version=saved.version, explanations={"old.rule": ""}
    ).submission
    assert saved.explanations == {"warmth-2018.3A.sum.rounding": "按元四舍五入"}


def test_a_header_field_longer_than_its_column_is_refused_with_a_message(world: World) -> None:
    user = world.users["enterprise_reporter"]
    submission = draft(world)
    with pytest.raises(ReportingError, match=r"^填报人不能超过 50 个字$"):
        submission_save(
            submission=submission, user=user, version=submission.version, header={"reporter": "王" * 51}
        )
    submission.refresh_from_db()
    assert submission.reporter == "王丽"


def test_submission_after_the_deadline_is_allowed_and_marked_late(world: World) -> None:
    # The world's campaign closed on 2018-02-05, long past.
    submission = submitted(world)
    assert submission.status == Submission.Status.SUBMITTED and submission.late
    event = SubmissionEvent.objects.filter(kind="status").latest("id")
    assert (event.old, event.new, event.comment) == ("draft", "submitted", "逾期报送")


@pytest.mark.parametrize(
    ("deadline", "late"),
    [
        (FROZEN_TODAY + dt.timedelta(days=30), False),
        (FROZEN_TODAY, False),  # the deadline is a whole day in China: 00:30 on it is on time
        (FROZEN_TODAY - dt.timedelta(days=1), True),  # still that day in UTC, but already the next in China
    ],
)
def test_submission_is_late_only_after_the_deadline_day_in_china(
    world: World, frozen_now: dt.datetime, deadline: dt.date, late: bool
) -> None:
    world.campaign.deadline = deadline
    world.campaign.save()
    submission = submitted(world)
    assert (submission.late, submission.submitted_at) == (late, frozen_now)
    event = SubmissionEvent.objects.filter(kind="status").latest("id")
    assert event.comment == ("逾期报送" if late else "")


def test_return_needs_a_comment_and_a_submitted_table(world: World) -> None:
    reviewer = world.users["county_reviewer"]
    submission = draft(world)
    with pytest.raises(ReportingError, match="只能退回已报送的表"):
        submission_return(submission=submission, user=reviewer, comment="请核实")
    submission = submission_submit(submission=submission, user=world.users["enterprise_reporter"])
    with pytest.raises(ReportingError, match="审核意见"):
        submission_return(submission=submission, user=reviewer, comment="  ")
    submission = submission_return(submission=submission, user=reviewer, comment="3A请与财务核对")
    assert submission.status == Submission.Status.RETURNED
    assert submission.review_comment == "3A请与财务核对" and submission.reviewed_by == reviewer
    event = SubmissionEvent.objects.filter(kind="status").latest("id")
    assert (event.old, event.new, event.comment, event.user) == (
        "submitted",
        "returned",
        "3A请与财务核对",
        reviewer,
    )


def test_a_returned_table_can_be_corrected_and_submitted_again(world: World) -> None:
    user = world.users["enterprise_reporter"]
    submission = submission_return(
        submission=submitted(world), user=world.users["county_reviewer"], comment="1A偏少"
    )
    submission = submission_save(
        submission=submission, user=user, version=submission.version, values={"1A": 52}
    ).submission
    assert submission_submit(submission=submission, user=user).status == Submission.Status.SUBMITTED


def test_accept_locks_the_table(world: World) -> None:
    user = world.users["enterprise_reporter"]
    submission = submission_accept(submission=submitted(world), user=world.users["county_reviewer"])
    assert submission.status == Submission.Status.ACCEPTED
    with pytest.raises(ReportingError, match="审核通过"):
        submission_save(submission=submission, user=user, version=submission.version, values={"1A": 1})
    with pytest.raises(ReportingError):
        submission_submit(submission=submission, user=user)
    assert stored_values(submission)["1A"] == 48


def test_unlock_is_audited_and_returns_the_table(world: World) -> None:
    reviewer = world.users["county_reviewer"]
    submission = submission_accept(submission=submitted(world), user=reviewer)
    with pytest.raises(ReportingError, match="原因"):
        submission_unlock(submission=submission, user=reviewer, reason="")
    submission = submission_unlock(submission=submission, user=reviewer, reason="市总抽查发现1A有误")
    assert submission.status == Submission.Status.RETURNED
    event = SubmissionEvent.objects.filter(kind="status").latest("id")
    assert (event.old, event.new, event.user) == ("accepted", "returned", reviewer)
    assert "市总抽查发现1A有误" in event.comment
    with pytest.raises(ReportingError, match="只有审核通过的表"):
        submission_unlock(submission=submission, user=reviewer, reason="再次")


def test_county_reviewer_may_accept_the_enterprise_but_not_its_own_county(world: World) -> None:
    reviewer = world.users["county_reviewer"]
    assert submission_accept(submission=submitted(world), user=reviewer).status == "accepted"
    own = submitted(world, "county_reporter")
    with pytest.raises(PermissionDenied):
        submission_accept(submission=own, user=reviewer)
    with pytest.raises(PermissionDenied):
        submission_return(submission=own, user=reviewer, comment="x")
    # Its own county is the city's to review.
    assert submission_accept(submission=own, user=world.users["city_reviewer"]).status == "accepted"


@pytest.mark.parametrize("username", ["county_reporter", "enterprise_reporter", "sibling_reporter"])
def test_a_reporter_cannot_review(world: World, username: str) -> None:
    submission = submitted(world)
    reporter: User = world.users[username]
    with pytest.raises(PermissionDenied):
        submission_accept(submission=submission, user=reporter)
    with pytest.raises(PermissionDenied):
        submission_return(submission=submission, user=reporter, comment="x")
    submission.refresh_from_db()
    assert submission.status == Submission.Status.SUBMITTED


def test_a_reviewer_cannot_fill(world: World) -> None:
    submission = draft(world)
    with pytest.raises(PermissionDenied):
        submission_save(
            submission=submission, user=world.users["county_reviewer"], version=submission.version, values={}
        )
    with pytest.raises(PermissionDenied):
        submission_submit(submission=submission, user=world.users["county_reviewer"])
