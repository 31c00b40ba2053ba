"""整改 end to end: publishing a check gives one task to the unit that paid each household whose answers
contradicted the ledger (the larger payer when two paid); the unit answers (evidence judged by its content),
the checking unit accepts or returns; who may do each step, and which tasks are overdue."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from songnuan.checks.models import CheckEvent, RectificationTask, SampledHousehold, SpotCheck
from songnuan.checks.rectification import (
    DISCREPANCIES,
    EVIDENCE_MAX_BYTES,
    TASK_ACCEPTED,
    TASK_ANSWERED,
    TASK_RETURNED,
    overdue,
    spot_check_publish,
    task_accept,
    task_answer,
    task_counts,
    task_return,
    tasks_for_unit,
)
from songnuan.checks.services import AnswersInput, CheckError, answers_save, call_record, spot_check_draw
from songnuan.checks.stats import Verdict
from songnuan.ledger.models import HelpRecord
from songnuan.orgs.models import Unit
from tests.checks.checksworld import caller, paid, request
from tests.world import FROZEN_TODAY, World

pytestmark = pytest.mark.django_db

DEADLINE = FROZEN_TODAY + dt.timedelta(days=14)
SMALL_PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\nstartxref\n0\n%%EOF\n"
)
SMALL_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def in_sample(check: SpotCheck, unit: Unit) -> list[SampledHousehold]:
    return list(
        SampledHousehold.objects.filter(spot_check=check, stratum__unit=unit, in_sample=True)
        .select_related("household")
        .order_by("position")
    )


def payer_of(check: SpotCheck, sampled: SampledHousehold) -> Unit:
    record = HelpRecord.objects.get(campaign=check.campaign, household=sampled.household)
    return record.unit


def interview(user: User, sampled: SampledHousehold, answers: AnswersInput) -> SampledHousehold:
    call_record(user=user, sampled=sampled, disposition="self")
    sampled.refresh_from_db()
    return answers_save(user=user, sampled=sampled, data=answers, version=sampled.version)


@pytest.fixture
def check(world: World, helped: Any, frozen_now: dt.datetime) -> SpotCheck:
    return spot_check_draw(user=world.users["city_reviewer"], request=request(world))


@pytest.fixture
def planted(world: World, check: SpotCheck) -> dict[str, SampledHousehold]:
    """The sample's five households answered: three discrepancies, one confirmed, one never reached. The
    one whose amount differs was paid by the enterprise as well, more than by the county; the one denying
    was paid as much by the sibling county as by the county (a tie)."""
    user = caller(world)
    county = in_sample(check, world.county)
    by_county = [s for s in county if payer_of(check, s) == world.county]
    # Which households the seed draws depends on the units' ids (they key the strata's orders), which differ
    # between databases: make two of the county's sample its own payments whatever was drawn.
    for other in county:
        if len(by_county) >= 2:
            break
        if other not in by_county:
            HelpRecord.objects.filter(campaign=check.campaign, household=other.household).update(
                unit=world.county
            )
            by_county.append(other)
    differs, denies = by_county[:2]
    confirmed = next(s for s in county if s not in (differs, denies))
    paid(world, world.enterprise, differs.household, amount=Decimal("1200.00"))
    paid(world, world.sibling, denies.household, amount=Decimal("800.00"))
    cash, unreached = in_sample(check, world.sibling)
    interview(user, differs, AnswersInput(received=True, amount=Decimal("500.00"), how="card"))
    interview(user, denies, AnswersInput(received=False))
    interview(user, confirmed, AnswersInput(received=True, how="card"))
    interview(user, cash, AnswersInput(received=True, amount=Decimal("800.00"), how="cash"))
    for _ in range(3):
        call_record(user=user, sampled=unreached, disposition="no-answer")
    found = {
        "differs": differs,
        "denies": denies,
        "confirmed": confirmed,
        "cash": cash,
        "unreached": unreached,
    }
    for sampled in found.values():
        sampled.refresh_from_db()
    return found


@pytest.fixture
def tasks(
    world: World, check: SpotCheck, planted: dict[str, SampledHousehold]
) -> dict[str, RectificationTask]:
    made = spot_check_publish(user=world.users["city_admin"], spot_check=check, deadline=DEADLINE)
    by_sampled = {task.sampled_id: task for task in made}
    return {name: by_sampled[s.pk] for name, s in planted.items() if s.pk in by_sampled}


def test_publishing_gives_each_discrepancy_to_the_unit_that_paid_most(
    world: World, check: SpotCheck, planted: dict[str, SampledHousehold]
) -> None:
    assert {s.verdict for s in planted.values()} == {*DISCREPANCIES, Verdict.CONFIRMED, Verdict.NOT_REACHED}
    made = spot_check_publish(user=world.users["city_reviewer"], spot_check=check, deadline=DEADLINE)
    found = {(t.sampled_id, t.unit_id, t.verdict, t.deadline, t.state) for t in made}
    assert found == {
        (planted["differs"].pk, world.enterprise.pk, Verdict.AMOUNT_DIFFERS, DEADLINE, "open"),  # 1200 > 800
        (planted["denies"].pk, world.county.pk, Verdict.DENIES, DEADLINE, "open"),  # a tie: the lower path
        (planted["cash"].pk, world.sibling.pk, Verdict.CASH, DEADLINE, "open"),
    }
    assert RectificationTask.objects.count() == 3
    check.refresh_from_db()
    assert check.state == SpotCheck.State.PUBLISHED
    event = CheckEvent.objects.get(spot_check=check, action=CheckEvent.Action.PUBLISHED)
    assert event.user == world.users["city_reviewer"]
    assert (event.new["sampled"], event.new["interviewed"], event.new["tasks"]) == ("5", "4", "3")
    assert event.new["verdict:denies"] == "1" and event.new["deadline"] == DEADLINE.isoformat()
    assert task_counts(check) == {"open": 3, "answered": 0, "accepted": 0, "returned": 0}


def test_who_may_publish_and_when(
    world: World, check: SpotCheck, planted: dict[str, SampledHousehold]
) -> None:
    for name in ("county_reviewer", "county_reporter", "enterprise_reporter"):
        with pytest.raises(PermissionDenied):
            spot_check_publish(user=world.users[name], spot_check=check, deadline=DEADLINE)
    yesterday = FROZEN_TODAY - dt.timedelta(days=1)  # still today in UTC: the date must be China's
    with pytest.raises(CheckError, match="已经过去") as refused:
        spot_check_publish(user=world.users["city_admin"], spot_check=check, deadline=yesterday)
    assert refused.value.field == "deadline"
    check.refresh_from_db()
    assert check.state == SpotCheck.State.CALLING and not RectificationTask.objects.exists()
    assert not CheckEvent.objects.filter(action=CheckEvent.Action.PUBLISHED).exists()
    assert (
        len(spot_check_publish(user=world.users["city_admin"], spot_check=check, deadline=FROZEN_TODAY)) == 3
    )
    with pytest.raises(CheckError, match="已经通报"):
        spot_check_publish(user=world.users["city_reviewer"], spot_check=check, deadline=DEADLINE)
    assert RectificationTask.objects.count() == 3
    with pytest.raises(CheckError, match="抽查已通报"):
        call_record(user=caller(world), sampled=planted["confirmed"], disposition="self")


def test_answer_then_accept(
    world: World, tasks: dict[str, RectificationTask], settings: Any, tmp: Path
) -> None:
    settings.MEDIA_ROOT = tmp / "media"
    task = tasks["differs"]  # the enterprise's
    for name in ("county_reviewer", "city_admin", "sibling_reporter"):  # a unit above, or another unit
        with pytest.raises(PermissionDenied):
            task_answer(user=world.users[name], task=task, answer="已补发", evidence=None)
    with pytest.raises(CheckError, match="请填写整改说明"):
        task_answer(user=world.users["enterprise_reporter"], task=task, answer="  ", evidence=None)
    with pytest.raises(CheckError, match="只有已答复的任务可以审核"):
        task_accept(user=world.users["city_reviewer"], task=task)
    evidence = SimpleUploadedFile("补发凭证.pdf", SMALL_PDF, content_type="application/pdf")
    answered = task_answer(
        user=world.users["enterprise_reporter"], task=task, answer=" 已补发300元 ", evidence=evidence
    )
    assert (answered.state, answered.answer, answered.answered_by) == (
        "answered",
        "已补发300元",
        world.users["enterprise_reporter"],
    )
    assert (answered.evidence.name or "").endswith(".pdf") and answered.evidence.read() == SMALL_PDF
    with pytest.raises(CheckError, match="不能答复"):
        task_answer(user=world.users["enterprise_reporter"], task=task, answer="再答一次", evidence=None)
    for name in ("county_reviewer", "enterprise_reporter", "county_reporter"):  # not the checking unit's
        with pytest.raises(PermissionDenied):
            task_accept(user=world.users[name], task=task)
    accepted = task_accept(user=world.users["city_reviewer"], task=task)
    assert (accepted.state, accepted.decided_by) == ("accepted", world.users["city_reviewer"])
    with pytest.raises(CheckError, match="只有已答复的任务可以审核"):
        task_return(user=world.users["city_reviewer"], task=task, reason="再看看")
    events = CheckEvent.objects.filter(action__in=[TASK_ANSWERED, TASK_ACCEPTED]).order_by("id")
    assert [(e.action, e.new["task"], e.sampled_id) for e in events] == [
        (TASK_ANSWERED, str(task.pk), task.sampled_id),
        (TASK_ACCEPTED, str(task.pk), task.sampled_id),
    ]


def test_return_then_answer_again(
    world: World, check: SpotCheck, tasks: dict[str, RectificationTask]
) -> None:
    task = tasks["denies"]  # the county's
    county_reporter = world.users["county_reporter"]
    task_answer(user=county_reporter, task=task, answer="已核实，系家属代收", evidence=None)
    for name in ("county_reviewer", "county_reporter"):
        with pytest.raises(PermissionDenied):
            task_return(user=world.users[name], task=task, reason="请附签收单")
    with pytest.raises(CheckError, match="请填写退回原因") as refused:
        task_return(user=world.users["city_admin"], task=task, reason=" ")
    assert refused.value.field == "reason"
    returned = task_return(user=world.users["city_admin"], task=task, reason="请附家属签收单")
    assert (returned.state, returned.return_reason) == ("returned", "请附家属签收单")
    with pytest.raises(CheckError, match="只有已答复的任务可以审核"):
        task_accept(user=world.users["city_admin"], task=task)
    with pytest.raises(PermissionDenied):
        task_answer(user=world.users["enterprise_reporter"], task=task, answer="补充", evidence=None)
    again = task_answer(user=world.users["county_reviewer"], task=task, answer="已补签收单", evidence=None)
    assert again.state == "answered" and again.answered_by == world.users["county_reviewer"]
    assert task_accept(user=world.users["city_admin"], task=task).state == "accepted"
    history = CheckEvent.objects.filter(new__task=str(task.pk)).order_by("id")
    assert [e.action for e in history] == [TASK_ANSWERED, TASK_RETURNED, TASK_ANSWERED, TASK_ACCEPTED]
    assert history[1].new["reason"] == "请附家属签收单" and history[1].old == {"state": "answered"}
    assert task_counts(check) == {"open": 2, "answered": 0, "accepted": 1, "returned": 0}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("整改报告.pdf", b"<!DOCTYPE html><html><body>not a pdf</body></html>", "“整改报告.pdf”的内容不是"),
        ("伪装.pdf", b"%PDF-1.4\n<html><script>alert(1)</script></html>\n%%EOF", "“伪装.pdf”不是真正的 PDF"),
        ("没传完.pdf", b"%PDF-1.4\n1 0 obj\n<< >>\nendobj\n", "“没传完.pdf”不是完整的 PDF"),
        ("照片.jpg", b"GIF89a" + b"\x00" * 32, "“照片.jpg”的内容不是"),
        ("空.png", b"", "“空.png”是空文件"),
    ],
)
def test_evidence_is_judged_by_its_content(
    world: World, tasks: dict[str, RectificationTask], name: str, content: bytes, message: str
) -> None:
    task = tasks["cash"]  # the sibling county's
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")
    with pytest.raises(CheckError, match=re.escape(message)) as refused:
        task_answer(user=world.users["sibling_reporter"], task=task, answer="已说明", evidence=upload)
    assert refused.value.field == "evidence"
    task.refresh_from_db()
    assert (task.state, task.answer, task.evidence.name) == ("open", "", "")
    assert not CheckEvent.objects.filter(action=TASK_ANSWERED).exists()


def test_evidence_too_large_and_a_picture_under_another_name(
    world: World, tasks: dict[str, RectificationTask], settings: Any, tmp: Path
) -> None:
    settings.MEDIA_ROOT = tmp / "media"
    task = tasks["cash"]
    too_large = SimpleUploadedFile("扫描件.pdf", SMALL_PDF + b"\x00" * EVIDENCE_MAX_BYTES)
    with pytest.raises(CheckError, match=re.escape("“扫描件.pdf”超过 10 MB")):
        task_answer(user=world.users["sibling_reporter"], task=task, answer="已说明", evidence=too_large)
    picture = SimpleUploadedFile("签收单.pdf", SMALL_PNG)  # a PNG named .pdf: kept as what it is
    answered = task_answer(user=world.users["sibling_reporter"], task=task, answer="已说明", evidence=picture)
    assert (answered.evidence.name or "").endswith(".png") and "签收单" in (answered.evidence.name or "")


def test_whoever_answered_does_not_decide(world: World, helped: Any, frozen_now: dt.datetime) -> None:
    check = spot_check_draw(user=world.users["city_reviewer"], request=request(world))
    target = in_sample(check, world.sibling)[0]
    paid(world, world.city, target.household, amount=Decimal("2000.00"))  # the checking unit paid most
    interview(caller(world), target, AnswersInput(received=False))
    (task,) = spot_check_publish(user=world.users["city_reviewer"], spot_check=check, deadline=DEADLINE)
    assert task.unit == world.city
    task_answer(user=world.users["city_admin"], task=task, answer="已核实", evidence=None)
    with pytest.raises(CheckError, match="不能审核自己提交的整改答复"):
        task_accept(user=world.users["city_admin"], task=task)
    assert task_accept(user=world.users["city_reviewer"], task=task).state == "accepted"


def test_the_tasks_a_user_sees_and_the_overdue(world: World, tasks: dict[str, RectificationTask]) -> None:
    def seen(name: str) -> set[int]:
        return {t.unit_id for t in tasks_for_unit(world.users[name])}

    assert seen("city_reviewer") == {world.enterprise.pk, world.county.pk, world.sibling.pk}
    assert seen("county_reviewer") == {world.enterprise.pk, world.county.pk}  # its unit and below
    assert seen("county_reporter") == {world.county.pk}  # a reporter: its own unit only
    assert seen("enterprise_reporter") == {world.enterprise.pk}
    assert seen("sibling_reporter") == {world.sibling.pk}
    everything = tasks_for_unit(world.users["city_admin"])
    assert not overdue(everything, DEADLINE).exists()  # the deadline day itself is in time
    late = DEADLINE + dt.timedelta(days=1)
    assert set(overdue(everything, late)) == set(tasks.values())
    task_answer(
        user=world.users["enterprise_reporter"], task=tasks["differs"], answer="已补发", evidence=None
    )
    task_accept(user=world.users["city_reviewer"], task=tasks["differs"])
    task_answer(user=world.users["county_reporter"], task=tasks["denies"], answer="已说明", evidence=None)
    task_return(user=world.users["city_reviewer"], task=tasks["denies"], reason="说明不清")
    assert set(overdue(everything, late)) == {tasks["denies"], tasks["cash"]}  # returned is still late
