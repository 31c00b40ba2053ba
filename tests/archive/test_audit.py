"""The archive's audit trail: every change of a file leaves an event with who, when, old and new, in the
transaction of the change; the yearly review keeps every review; out of difficulty and closing are the
reviewer above's, which the unit's own staff may only propose; a file ended by mistake may be reopened."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from songnuan.archive import bulk, importing
from songnuan.archive.generate import households
from songnuan.archive.import_jobs import import_job_run, import_job_start
from songnuan.archive.models import Household, HouseholdEvent, ImportJob, OpenIdentity, Proposal
from songnuan.archive.services import (
    ArchiveError,
    DuplicateFile,
    HouseholdInput,
    MemberInput,
    household_apply,
    household_close,
    household_file,
    household_out_of_difficulty,
    household_propose_close,
    household_propose_out,
    household_reopen,
    household_review_yearly,
    plan_set,
    proposal_approve,
    proposal_reject,
    proposal_withdraw,
)

from ..world import FROZEN_NOW, World

HEAD = "11010519491231002X"
SPOUSE = "440524188001010014"
TODAY = dt.date(2018, 3, 1)
Action = HouseholdEvent.Action


@pytest.fixture(autouse=True)
def imports_in_the_request(settings: Any, tmp_path: Path) -> None:
    settings.SONGNUAN_IMPORT_IN_BACKGROUND = False
    settings.SONGNUAN_IMPORT_DIR = tmp_path / "imports"


def apply(world: World, user: str = "county_reporter", *, head: str = HEAD, spouse: str = "") -> Household:
    members = [MemberInput(name="李秀英", relation="配偶", id_number=spouse)] if spouse else []
    return household_apply(
        user=world.users[user],
        unit=world.county if user != "sibling_reporter" else world.sibling,
        data=HouseholdInput(
            head_name="王建国",
            head_id_number=head,
            category=Household.Category.WORKER,
            phone="13812345678",
            monthly_income=Decimal("2400"),
            household_size=3,
            members=members,
        ),
    )


def filed(world: World, **kwargs: Any) -> Household:
    household = apply(world, **kwargs)
    return household_file(user=world.users["city_reviewer"], household=household)


def events(household: Household) -> list[HouseholdEvent]:
    return list(HouseholdEvent.objects.filter(household=household).order_by("id"))


def last(household: Household) -> HouseholdEvent:
    event = HouseholdEvent.objects.filter(household=household).order_by("-id").first()
    assert event is not None
    return event


def assert_stamped_now(event: HouseholdEvent) -> None:
    """Stamped at the change (the test's frozen clock), as an aware UTC time."""
    assert event.at.tzinfo is not None and event.at.utcoffset() == dt.timedelta(0)
    assert event.at == FROZEN_NOW


# --- each action leaves its event ------------------------------------------------------------------------


def test_an_application_records_its_fields_and_each_member(world: World, frozen_now: dt.datetime) -> None:
    household = apply(world, spouse=SPOUSE)
    applied, member = events(household)
    assert (applied.action, applied.user, applied.old) == (Action.APPLIED, world.users["county_reporter"], {})
    assert applied.new == {
        "unit": "东宝区总工会",
        "head_name": "王建国",
        "head_id_number": HEAD,  # stored as it is; masked when shown
        "category": "worker",
        "phone": "13812345678",
        "monthly_income": "2400",
        "household_size": "3",
        "status": "applied",
    }
    assert_stamped_now(applied)
    assert (member.action, member.new) == (
        Action.MEMBER_ADDED,
        {"name": "李秀英", "relation": "配偶", "id_number": SPOUSE},
    )


def test_filing_records_the_reviewer_and_the_lifecycle_before_and_after(
    world: World, frozen_now: dt.datetime
) -> None:
    household = filed(world)
    event = last(household)
    assert (event.action, event.user) == (Action.FILED, world.users["city_reviewer"])
    assert event.old == {"status": "applied", "filed_at": "", "last_reviewed_at": "", "reviewed_by": ""}
    assert event.new["status"] == "filed" and event.new["reviewed_by"] == "city_reviewer"
    assert household.filed_at == frozen_now
    # Beijing time, as text: 16:30 UTC is already the next day there.
    assert event.new["filed_at"] == event.new["last_reviewed_at"] == "2026-12-02 00:30:00"


def test_a_reviewer_above_opening_a_file_records_the_application_and_the_filing(world: World) -> None:
    household = household_apply(
        user=world.users["county_reviewer"],
        unit=world.enterprise,
        data=HouseholdInput(head_name="王建国", head_id_number=HEAD, category=Household.Category.WORKER),
    )
    assert [(e.action, e.user) for e in events(household)] == [
        (Action.APPLIED, world.users["county_reviewer"]),
        (Action.FILED, world.users["county_reviewer"]),
    ]


def test_two_yearly_reviews_are_both_kept(world: World) -> None:
    household = filed(world)
    filing = last(household)
    household_review_yearly(user=world.users["city_reviewer"], household=household, note="仍无稳定收入")
    first = last(household)
    household_review_yearly(user=world.users["city_admin"], household=household)
    second = last(household)
    reviews = list(HouseholdEvent.objects.filter(household=household, action=Action.YEARLY_REVIEW))
    assert reviews == [first, second]
    assert (first.user, first.note) == (world.users["city_reviewer"], "仍无稳定收入")
    assert first.old["last_reviewed_at"] == filing.new["last_reviewed_at"]
    assert "reviewed_by" not in first.new  # the same reviewer as at filing: not a change
    assert second.user == world.users["city_admin"]
    assert second.old == {"last_reviewed_at": first.new["last_reviewed_at"], "reviewed_by": "city_reviewer"}
    assert second.new["reviewed_by"] == "city_admin"
    household.refresh_from_db()
    assert household.reviewed_by == world.users["city_admin"]  # the latest, denormalised


def test_a_plan_change_records_the_fields_that_changed_only(world: World) -> None:
    household = filed(world)
    user = world.users["county_reporter"]
    plan_set(user=user, household=household, contact="李红", deadline=None, measures="", path="")
    first = last(household)
    assert (first.action, first.user, first.old, first.new) == (
        Action.PLAN_CHANGED,
        user,
        {"contact": ""},
        {"contact": "李红"},
    )
    plan_set(
        user=user,
        household=household,
        contact="李红",
        deadline=dt.date(2018, 12, 31),
        measures="",
        path=Household.OutPath.EMPLOYMENT,
    )
    second = last(household)
    assert (second.old, second.new) == (
        {"deadline": "", "path": ""},
        {"deadline": "2018-12-31", "path": "employment"},
    )
    count = HouseholdEvent.objects.count()
    plan_set(
        user=user,
        household=household,
        contact="李红",
        deadline=dt.date(2018, 12, 31),
        measures="",
        path=Household.OutPath.EMPLOYMENT,
    )
    assert HouseholdEvent.objects.count() == count  # nothing changed, nothing recorded


def test_ending_a_file_directly_records_who_and_why(world: World) -> None:
    household = filed(world)
    household_close(user=world.users["city_reviewer"], household=household, reason="迁出本市", on=TODAY)
    event = last(household)
    assert (event.action, event.user) == (Action.CLOSED, world.users["city_reviewer"])
    assert event.old == {"status": "filed", "ended_on": "", "closed_reason": ""}
    assert event.new == {"status": "closed", "ended_on": "2018-03-01", "closed_reason": "迁出本市"}

    other = filed(world, head=SPOUSE)
    household_out_of_difficulty(
        user=world.users["city_admin"], household=other, path=Household.OutPath.SAFETY_NET, on=TODAY
    )
    event = last(other)
    assert (event.action, event.user) == (Action.OUT, world.users["city_admin"])
    assert event.new == {"status": "out", "out_path": "safety-net", "ended_on": "2018-03-01"}


# --- proposals -------------------------------------------------------------------------------------------


def test_a_reporter_may_not_end_a_file_but_proposes_it(world: World) -> None:
    household = filed(world)
    reporter = world.users["county_reporter"]
    count = HouseholdEvent.objects.count()
    with pytest.raises(ArchiveError, match="须由上级工会审核确认"):
        household_close(user=reporter, household=household, reason="迁出本市", on=TODAY)
    with pytest.raises(ArchiveError, match="须由上级工会审核确认"):
        household_out_of_difficulty(
            user=reporter, household=household, path=Household.OutPath.EMPLOYMENT, on=TODAY
        )
    assert HouseholdEvent.objects.count() == count
    proposal = household_propose_out(
        user=reporter, household=household, path=Household.OutPath.EMPLOYMENT, on=TODAY
    )
    household.refresh_from_db()
    assert household.status == Household.Status.FILED and OpenIdentity.objects.filter(household=household)
    assert (proposal.state, proposal.kind, proposal.out_path, proposal.on, proposal.proposed_by) == (
        Proposal.State.PENDING,
        Proposal.Kind.OUT,
        "employment",
        TODAY,
        reporter,
    )
    event = last(household)
    assert (event.action, event.user, event.old, event.new) == (
        Action.OUT_PROPOSED,
        reporter,
        {},
        {"out_path": "employment", "ended_on": "2018-03-01"},
    )
    # One proposal at a time.
    with pytest.raises(ArchiveError, match="已有待上级审核的解困脱困申请"):
        household_propose_close(user=reporter, household=household, reason="迁出本市", on=TODAY)
    # The reviewer above does not propose, it decides; nor does a unit that is not the file's.
    for user in ("city_reviewer", "county_reviewer", "sibling_reporter", "enterprise_reporter"):
        with pytest.raises(PermissionDenied):
            household_propose_close(user=world.users[user], household=household, reason="x", on=TODAY)


def test_the_reviewer_above_approves_a_proposal_which_does_it(world: World) -> None:
    household = filed(world, spouse=SPOUSE)
    reporter = world.users["county_reporter"]
    household_propose_out(user=reporter, household=household, path=Household.OutPath.EMPLOYMENT, on=TODAY)
    for user in ("county_reporter", "county_reviewer", "sibling_reporter"):
        with pytest.raises(PermissionDenied):  # not the unit itself, not its own reviewer
            proposal_approve(user=world.users[user], household=household)
    proposal_approve(user=world.users["city_reviewer"], household=household)
    household.refresh_from_db()
    assert (household.status, household.out_path, household.ended_on) == (
        Household.Status.OUT,
        "employment",
        TODAY,
    )
    assert not OpenIdentity.objects.exists()
    proposal = Proposal.objects.get()
    assert (proposal.state, proposal.decided_by) == (Proposal.State.APPROVED, world.users["city_reviewer"])
    event = last(household)
    assert (event.action, event.user) == (Action.OUT, world.users["city_reviewer"])
    assert event.new == {"status": "out", "out_path": "employment", "ended_on": "2018-03-01"}
    assert "county_reporter" in event.note  # whose proposal it was
    with pytest.raises(ArchiveError, match="没有待审核"):
        proposal_approve(user=world.users["city_reviewer"], household=household)


def test_approving_a_closing_proposal_closes_with_its_reason_and_date(world: World) -> None:
    household = filed(world)
    household_propose_close(
        user=world.users["county_reporter"], household=household, reason="户主去世", on=TODAY
    )
    proposal_approve(user=world.users["city_admin"], household=household, note="已核实")
    household.refresh_from_db()
    assert (household.status, household.closed_reason, household.ended_on) == (
        Household.Status.CLOSED,
        "户主去世",
        TODAY,
    )
    event = last(household)
    assert (event.action, event.user, event.note) == (Action.CLOSED, world.users["city_admin"], "已核实")


def test_rejecting_a_proposal_keeps_the_file_and_records_the_reason(world: World) -> None:
    household = filed(world)
    household_propose_close(user=world.users["county_reporter"], household=household, reason="迁出", on=TODAY)
    with pytest.raises(ArchiveError, match="退回申请须写明原因"):
        proposal_reject(user=world.users["city_reviewer"], household=household, reason=" ")
    with pytest.raises(PermissionDenied):
        proposal_reject(user=world.users["county_reviewer"], household=household, reason="x")
    proposal_reject(user=world.users["city_reviewer"], household=household, reason="仍在本市居住")
    household.refresh_from_db()
    assert household.status == Household.Status.FILED and OpenIdentity.objects.filter(household=household)
    assert Proposal.objects.get().state == Proposal.State.REJECTED
    event = last(household)
    assert (event.action, event.user) == (Action.PROPOSAL_REJECTED, world.users["city_reviewer"])
    assert "仍在本市居住" in event.note and "注销" in event.note
    # Rejected, the unit may propose again.
    household_propose_close(user=world.users["county_reporter"], household=household, reason="迁出", on=TODAY)


def test_the_unit_withdraws_its_own_proposal(world: World) -> None:
    household = filed(world)
    household_propose_close(user=world.users["county_reporter"], household=household, reason="迁出", on=TODAY)
    with pytest.raises(PermissionDenied):
        proposal_withdraw(user=world.users["city_reviewer"], household=household)
    proposal_withdraw(user=world.users["county_reporter"], household=household)
    assert Proposal.objects.get().state == Proposal.State.WITHDRAWN
    assert (last(household).action, last(household).user) == (
        Action.PROPOSAL_WITHDRAWN,
        world.users["county_reporter"],
    )
    with pytest.raises(ArchiveError, match="没有待审核"):
        proposal_withdraw(user=world.users["county_reporter"], household=household)


def test_ending_directly_settles_a_pending_proposal(world: World) -> None:
    household = filed(world)
    household_propose_close(user=world.users["county_reporter"], household=household, reason="迁出", on=TODAY)
    household_out_of_difficulty(
        user=world.users["city_reviewer"], household=household, path=Household.OutPath.EMPLOYMENT, on=TODAY
    )
    proposal = Proposal.objects.get()
    assert (proposal.state, proposal.decided_by) == (Proposal.State.SUPERSEDED, world.users["city_reviewer"])


# --- reopening -------------------------------------------------------------------------------------------


def test_a_file_closed_by_mistake_is_reopened_and_its_ids_claimed_again(world: World) -> None:
    household = filed(world, spouse=SPOUSE)
    household_close(user=world.users["city_reviewer"], household=household, reason="误操作", on=TODAY)
    with pytest.raises(PermissionDenied):
        household_reopen(user=world.users["county_reporter"], household=household, reason="误注销")
    with pytest.raises(ArchiveError, match="恢复档案须写明原因"):
        household_reopen(user=world.users["city_reviewer"], household=household, reason="")
    household_reopen(user=world.users["city_reviewer"], household=household, reason="误注销")
    household.refresh_from_db()
    assert (household.status, household.closed_reason, household.ended_on) == (
        Household.Status.FILED,
        "",
        None,
    )
    assert set(OpenIdentity.objects.values_list("id_number", flat=True)) == {HEAD, SPOUSE}
    event = last(household)
    assert (event.action, event.user, event.note) == (Action.REOPENED, world.users["city_reviewer"], "误注销")
    assert event.old == {"status": "closed", "ended_on": "2018-03-01", "closed_reason": "误操作"}
    assert event.new == {"status": "filed", "ended_on": "", "closed_reason": ""}
    with pytest.raises(ArchiveError, match="只有已解困脱困或已注销"):
        household_reopen(user=world.users["city_reviewer"], household=household, reason="再来")


def test_reopening_is_refused_when_another_unit_has_filed_the_person_since(world: World) -> None:
    household = filed(world, spouse=SPOUSE)
    household_out_of_difficulty(
        user=world.users["city_reviewer"], household=household, path=Household.OutPath.EMPLOYMENT, on=TODAY
    )
    apply(world, "sibling_reporter", head=SPOUSE)  # the spouse, now on the sibling's file
    count = HouseholdEvent.objects.count()
    with pytest.raises(DuplicateFile, match="钟祥市总工会"):
        household_reopen(user=world.users["city_reviewer"], household=household, reason="误登记")
    household.refresh_from_db()
    assert household.status == Household.Status.OUT  # nothing half-written
    assert not OpenIdentity.objects.filter(household=household).exists()
    assert HouseholdEvent.objects.count() == count


def test_a_closed_application_reopens_as_an_application(world: World) -> None:
    household = apply(world)
    household_close(user=world.users["city_reviewer"], household=household, reason="重复申请", on=TODAY)
    household_reopen(user=world.users["city_reviewer"], household=household, reason="并非重复")
    household.refresh_from_db()
    assert household.status == Household.Status.APPLIED


# --- the import, the admin, the demo ---------------------------------------------------------------------


def test_an_import_records_one_event_per_file_it_creates_in_one_extra_statement(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, frozen_now: dt.datetime
) -> None:
    rows = [[h.name, h.id_number, h.category, "东宝区恒力水泥有限公司工会"] for h in households(30, seed=3)]
    out = io.StringIO()
    csv.writer(out).writerows([["姓名", "身份证号码", "类别", "建档单位"], *rows])
    path = tmp_path / "花名册{1}.csv"  # braces in the name are only text
    path.write_text(out.getvalue(), encoding="utf-8")
    user = world.users["county_reviewer"]
    with path.open("rb") as stream:
        job = import_job_start(user=user, unit=world.county, file_name=path.name, stream=stream)
    written: list[tuple[type[Any], int]] = []
    real_insert_rows = bulk.insert_rows

    def insert_rows(model: type[Any], columns: Any, rows: Any) -> None:
        written.append((model, len(rows)))
        real_insert_rows(model, columns, rows)

    monkeypatch.setattr(importing, "insert_rows", insert_rows)
    with CaptureQueriesContext(connection) as queries:
        import_job_run(user=user, job=job, mapping=job.mapping, use_default_unit=False)
    # The batch's events go in as one executemany (SQLite) or COPY (PostgreSQL), as the files do: never a
    # statement per file.
    assert [count for model, count in written if model is HouseholdEvent] == [30]
    assert sum("archive_householdevent" in query["sql"] for query in queries.captured_queries) <= 1
    job.refresh_from_db()
    assert job.created == 30
    imported = list(HouseholdEvent.objects.select_related("household").order_by("household__import_row"))
    assert len(imported) == 30 and {e.household.import_job_id for e in imported} == {job.pk}
    first = imported[0]
    assert (first.action, first.user, first.old) == (Action.IMPORTED, user, {})
    assert first.new == {"unit": "东宝区恒力水泥有限公司工会", "status": "filed"}
    assert first.note == f"导入“花名册{{1}}.csv”，原文件第{first.household.import_row}行"
    assert_stamped_now(first)
    assert ImportJob.objects.get().state == ImportJob.State.DONE


def test_a_correction_in_the_admin_is_recorded(world: World) -> None:
    household = filed(world)
    root = User.objects.create_superuser("root", password="a-long-test-pass-phrase")
    client = Client()
    client.force_login(root)
    url = f"/admin/archive/household/{household.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {name: form.initial.get(name) or "" for name in ("employer", "employer_kind", "difficulty_type")}
    data.update({"main_cause": "本人患大病", "bank": "", "bank_branch": ""})
    data.update(
        {f"{prefix}-{key}": value for prefix in ("members", "plan") for key, value in _management(prefix)}
    )
    data.update({"plan-0-id": str(household.plan.pk), "plan-0-household": str(household.pk)})
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    event = last(household)
    assert (event.action, event.user, event.old, event.new) == (
        Action.EDITED,
        root,
        {"main_cause": ""},
        {"main_cause": "本人患大病"},
    )


def _management(prefix: str) -> list[tuple[str, str]]:
    total = "1" if prefix == "plan" else "0"
    return [
        ("TOTAL_FORMS", total),
        ("INITIAL_FORMS", total),
        ("MIN_NUM_FORMS", "0"),
        ("MAX_NUM_FORMS", total),
    ]


@pytest.mark.django_db
def test_the_demo_files_have_their_history_and_a_proposal_waits() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    without_history = Household.objects.exclude(events__action=Action.APPLIED)
    assert not without_history.exists()
    for status, action in (("filed", Action.FILED), ("out", Action.OUT), ("closed", Action.CLOSED)):
        assert not Household.objects.filter(status=status).exclude(events__action=action).exists(), status
    pending = Proposal.objects.filter(state=Proposal.State.PENDING)
    assert {p.kind for p in pending} == {Proposal.Kind.OUT, Proposal.Kind.CLOSE}
    assert all(p.household.status == Household.Status.FILED for p in pending)
