"""`make run`'s demo city: a published spot check with its bulletin and rectification tasks, and a self-check
with findings, loaded through the services (`songnuan.demo.checks`)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from songnuan.campaigns.models import Campaign
from songnuan.checks import bulletin
from songnuan.checks.models import (
    CallAttempt,
    CheckEvent,
    Finding,
    RectificationTask,
    SampledHousehold,
    SelfCheck,
    SpotCheck,
)
from songnuan.checks.stats import Verdict
from songnuan.demo.checks import load_demo_checks

pytestmark = pytest.mark.django_db

DOCUMENT_NUMBER = "荆工办发电〔2017〕18号"


@pytest.fixture
def campaign() -> Campaign:
    call_command("seed_demo", stdout=io.StringIO())
    load_demo_checks(DOCUMENT_NUMBER)  # as seed_demo's last step does
    return Campaign.objects.get(document_number=DOCUMENT_NUMBER)


def test_the_demo_has_a_published_check_with_its_bulletin(campaign: Campaign) -> None:
    check = SpotCheck.objects.get(campaign=campaign)
    assert check.state == SpotCheck.State.PUBLISHED
    assert check.unit.name == "荆门市总工会"
    assert check.strata.count() >= 2
    verdicts = set(
        SampledHousehold.objects.filter(spot_check=check, in_sample=True).values_list("verdict", flat=True)
    )
    assert {Verdict.CONFIRMED, Verdict.AMOUNT_DIFFERS, Verdict.DENIES, Verdict.NOT_REACHED} <= verdicts
    assert SampledHousehold.objects.filter(spot_check=check, replaces__isnull=False).exists()
    dispositions = set(
        CallAttempt.objects.filter(sampled__spot_check=check).values_list("disposition", flat=True)
    )
    assert {"self", "family", "no-answer", "invalid", "refused"} <= dispositions
    found = bulletin.bulletin(check, deadline=timezone.localdate())
    assert found.rows and found.problems
    assert found.total.cells()  # the 合计 line renders


def test_the_demo_has_rectification_tasks_in_every_state(campaign: Campaign) -> None:
    tasks = RectificationTask.objects.filter(spot_check__campaign=campaign)
    assert tasks.filter(state=RectificationTask.State.OPEN).exists()
    assert tasks.filter(state=RectificationTask.State.ACCEPTED).count() == 1
    assert tasks.filter(state=RectificationTask.State.RETURNED).count() == 1
    assert {task.deadline for task in tasks} == {tasks[0].deadline}
    assert tasks[0].deadline > timezone.localdate()
    accepted = tasks.get(state=RectificationTask.State.ACCEPTED)
    assert accepted.answered_by != accepted.decided_by  # four eyes
    assert CheckEvent.objects.filter(action=CheckEvent.Action.TASK_RETURNED).count() == 1


def test_the_demo_has_a_self_check_with_findings_one_answered(campaign: Campaign) -> None:
    check = SelfCheck.objects.get(campaign=campaign, unit__name="荆门市总工会")
    assert check.findings.exists()
    answered = check.findings.exclude(state=Finding.State.OPEN)
    assert answered.count() == 1
    assert answered.get().answer


def test_a_second_run_adds_nothing(campaign: Campaign) -> None:
    counts = (
        SpotCheck.objects.count(),
        SampledHousehold.objects.count(),
        CallAttempt.objects.count(),
        CheckEvent.objects.count(),
        RectificationTask.objects.count(),
        SelfCheck.objects.count(),
        Finding.objects.count(),
    )
    call_command("seed_demo", stdout=io.StringIO())
    made = load_demo_checks(DOCUMENT_NUMBER)
    assert made.spot_check is None and made.self_check is None
    assert (
        SpotCheck.objects.count(),
        SampledHousehold.objects.count(),
        CallAttempt.objects.count(),
        CheckEvent.objects.count(),
        RectificationTask.objects.count(),
        SelfCheck.objects.count(),
        Finding.objects.count(),
    ) == counts
