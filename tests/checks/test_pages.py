"""The spot check's pages: who may see and do what (the permission matrix), the plan shown before the draw,
a refusal shown as a message with nothing written, full phone numbers only on the callers' pages and every
such view logged."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from songnuan.checks.models import CallAttempt, CheckEvent, SampledHousehold, SpotCheck
from songnuan.checks.services import spot_check_draw
from tests.checks.checksworld import caller, drawn_with_a_household_paid_by, request
from tests.matrix import matrix_cases
from tests.world import World

pytestmark = pytest.mark.django_db

#: caller: the city's admin with the callers' permission; reviewer: the city's reviewer (runs checks, sees
#: them, does not call); county: the county's reviewer (below the checking unit: sees nothing of the city's
#: check, but draws its own over the county); reporter: the county's reporter. Cells: a status code, or
#: what happened (drawn, called, answered).
MATRIX = """
action          caller  reviewer county reporter anon
home            200     200      200    200      302
new             200     200      200    403      302
detail          200     200      403    403      302
sheet           200     403      403    403      302
sheet-export    200     403      403    403      302
household       200     403      403    403      302
post-draw       drawn   drawn    drawn  403      302
post-call       called  403      403    403      302
post-answers    answered 403     403    403      302
post-replace    replaced 403     403    403      302
"""
ROLES = {
    "caller": "city_admin",
    "reviewer": "city_reviewer",
    "county": "county_reviewer",
    "reporter": "county_reporter",
}


def state() -> tuple[int, int, int, int]:
    return (
        SpotCheck.objects.count(),
        CallAttempt.objects.count(),
        SampledHousehold.objects.filter(interviewed=True).count(),
        SampledHousehold.objects.filter(replaces__isnull=False).count(),
    )


@pytest.mark.parametrize(("action", "role", "expected"), matrix_cases(MATRIX))
def test_permission_matrix(world: World, helped: Any, action: str, role: str, expected: int | str) -> None:
    caller(world)
    check = spot_check_draw(user=world.users["city_reviewer"], request=request(world))
    target = SampledHousehold.objects.filter(spot_check=check, in_sample=True).order_by(
        "stratum__unit__path", "position"
    )[0]
    if action in ("post-answers", "post-replace"):
        CallAttempt.objects.create(
            sampled=target,
            number=1,
            at="2018-02-01T10:00:00+08:00",
            disposition="self" if action == "post-answers" else "invalid",  # 空号: a reserve replaces it
            caller=world.users["city_admin"],
        )
    client = Client() if role == "anon" else world.client(ROLES[role])
    before = state()
    gets = {
        "home": "/checks/",
        "new": f"/checks/new/{world.campaign.pk}/",
        "detail": f"/checks/{check.pk}/",
        "sheet": f"/checks/{check.pk}/sheet/",
        "sheet-export": f"/checks/{check.pk}/sheet.xlsx",
        "household": f"/checks/households/{target.pk}/",
    }
    posts = {
        "post-draw": (
            f"/checks/new/{world.campaign.pk}/",
            {
                "title": "复查",
                "level": "1",
                "allocation": "fixed",
                "per_stratum": "2",
                "bound_only": "on",
                "draw": "1",
            },
        ),
        "post-call": (f"/checks/households/{target.pk}/", {"disposition": "no-answer", "call": "1"}),
        "post-answers": (
            f"/checks/households/{target.pk}/",
            {
                "version": str(target.version),
                "received": "yes",
                "amount": "800",
                "how": "card",
                "answers": "1",
            },
        ),
        "post-replace": (f"/checks/households/{target.pk}/", {"replace": "1"}),
    }
    if action in gets:
        response = client.get(gets[action])
    else:
        url, data = posts[action]
        response = client.post(url, data)
    if role == "anon":
        assert response.status_code == 302 and response["Location"].startswith("/login/")
        assert state() == before
        return
    if isinstance(expected, int):
        assert response.status_code == expected, response.content.decode()[:1500]
        if expected != 200:
            assert state() == before
            assert target.household.phone not in response.content.decode() or not target.household.phone
        return
    assert response.status_code == 302, response.content.decode()[:3000]
    after = state()
    done = {
        "drawn": after[0] == before[0] + 1,
        "called": after[1] == before[1] + 1,
        "answered": after[2] == before[2] + 1,
        "replaced": after[3] == before[3] + 1,
    }
    assert done[str(expected)], [str(m) for m in get_messages(response.wsgi_request)]


def test_the_plan_is_shown_before_the_draw_and_a_short_stratum_said(world: World, helped: Any) -> None:
    client = world.client("city_reviewer")
    data = {
        "title": "抽查",
        "level": "1",
        "allocation": "fixed",
        "per_stratum": "3",
        "bound_only": "on",
        "preview": "1",
    }
    page = client.post(f"/checks/new/{world.campaign.pk}/", data).content.decode()
    assert "抽样框共 14 户，计划抽取 5 户" in page and "户数不足，全部抽取" in page
    assert not SpotCheck.objects.exists()
    bad = client.post(f"/checks/new/{world.campaign.pk}/", {**data, "seed": "abc"}).content.decode()
    assert "随机种子应为数字" in bad and "abc" in bad
    assert not SpotCheck.objects.exists()


def test_the_callers_pages_show_the_full_phone_and_log_each_view(world: World, helped: Any) -> None:
    caller(world)
    check = spot_check_draw(user=world.users["city_reviewer"], request=request(world))
    target = SampledHousehold.objects.filter(spot_check=check, in_sample=True).select_related("household")[0]
    target.household.phone = "13907241234"
    target.household.save()
    client = world.client("city_admin")
    assert "13907241234" in client.get(f"/checks/{check.pk}/sheet/").content.decode()
    assert "13907241234" in client.get(f"/checks/households/{target.pk}/").content.decode()
    assert client.get(f"/checks/{check.pk}/sheet.xlsx")["Cache-Control"] == "no-store"
    assert CheckEvent.objects.filter(spot_check=check, action=CheckEvent.Action.SHEETS_VIEWED).count() == 3
    assert "13907241234" not in world.client("city_reviewer").get(f"/checks/{check.pk}/").content.decode()


def test_a_refused_call_is_a_message_and_nothing_is_written(world: World, helped: Any) -> None:
    caller(world)
    check = spot_check_draw(user=world.users["city_reviewer"], request=request(world))
    reserve = SampledHousehold.objects.filter(spot_check=check, in_sample=False)[0]
    response = world.client("city_admin").post(
        f"/checks/households/{reserve.pk}/", {"disposition": "self", "call": "1"}
    )
    assert response.status_code == 302
    assert any("不在样本中" in str(m) for m in get_messages(response.wsgi_request))
    assert not CallAttempt.objects.exists()


# --- the bulletin, publication, rectification tasks and self-checks ---------------------------------------

#: caller/reviewer/county/reporter as above; sibling: 钟祥's reporter. Cells: a status code, or what happened.
RESULTS_MATRIX = """
action          caller    reviewer  county    reporter  sibling anon
bulletin        200       200       403       403       403     302
bulletin-docx   200       200       403       403       403     302
bulletin-xlsx   200       200       403       403       403     302
tasks           200       200       200       200       200     302
task            200       200       200       200       403     302
self-check      200       200       200       200       403     302
post-publish    published published 403       403       403     302
post-answer     403       403       answered  answered  403     302
post-accept     accepted  accepted  403       403       403     302
post-return     returned  returned  403       403       403     302
task-evidence   200       200       200       200       403     302
post-self-check ran       ran       ran       ran       403     302
post-finding    answered-finding answered-finding answered-finding answered-finding 403 302
"""
RESULT_ROLES = {**ROLES, "sibling": "sibling_reporter"}


def results_state() -> tuple[int, ...]:
    from songnuan.checks.models import Finding, RectificationTask, SelfCheck

    return (
        SpotCheck.objects.filter(state="published").count(),
        RectificationTask.objects.filter(state="answered").count(),
        RectificationTask.objects.filter(state="accepted").count(),
        SelfCheck.objects.count(),
        RectificationTask.objects.filter(state="returned").count(),
        Finding.objects.exclude(state="open").count(),
    )


@pytest.mark.parametrize(("action", "role", "expected"), matrix_cases(RESULTS_MATRIX))
def test_results_permission_matrix(
    world: World, helped: Any, action: str, role: str, expected: int | str
) -> None:
    import datetime as dt

    from songnuan.checks import rectification
    from songnuan.checks.services import AnswersInput, answers_save, call_record
    from songnuan.ledger.models import HelpRecord

    user = caller(world)
    check = drawn_with_a_household_paid_by(world, world.county)
    county_paid = set(HelpRecord.objects.filter(unit=world.county).values_list("household_id", flat=True))
    target = (
        SampledHousehold.objects.filter(spot_check=check, in_sample=True, household_id__in=county_paid)
        .order_by("position")
        .first()
    )
    assert target is not None
    call_record(user=user, sampled=target, disposition="self")
    target.refresh_from_db()
    answers_save(user=user, sampled=target, data=AnswersInput(received=False), version=target.version)
    task = None
    if action != "post-publish":
        deadline = dt.date.today() + dt.timedelta(days=30)
        (task,) = rectification.spot_check_publish(
            user=world.users["city_reviewer"], spot_check=check, deadline=deadline
        )
        assert task.unit == world.county
        if action in ("post-accept", "post-return", "task-evidence"):
            evidence = SimpleUploadedFile("补发凭证.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
            rectification.task_answer(
                user=world.users["county_reporter"], task=task, answer="已补发", evidence=evidence
            )
    finding = None
    if action == "post-finding":
        from songnuan.checks import selfcheck

        ran = selfcheck.self_check_run(
            user=world.users["county_reporter"], campaign=world.campaign, unit=world.county
        )
        finding = ran.findings.filter(unit=world.county).first()
        assert finding is not None  # the county's payments carry no evidence
    client = Client() if role == "anon" else world.client(RESULT_ROLES[role])
    before = results_state()
    c, u = world.campaign.pk, world.county.pk
    gets = {
        "bulletin": f"/checks/{check.pk}/bulletin/",
        "bulletin-docx": f"/checks/{check.pk}/bulletin.docx",
        "bulletin-xlsx": f"/checks/{check.pk}/bulletin.xlsx",
        "tasks": "/checks/tasks/",
        "task": f"/checks/tasks/{task.pk if task else 0}/",
        "self-check": f"/checks/self/{c}/{u}/",
        "task-evidence": f"/checks/tasks/{task.pk if task else 0}/evidence/",
    }
    posts = {
        "post-publish": (
            f"/checks/{check.pk}/publish/",
            {"deadline": (dt.date.today() + dt.timedelta(days=9)).isoformat()},
        ),
        "post-answer": (f"/checks/tasks/{task.pk if task else 0}/", {"text": "已核实补发", "answer": "1"}),
        "post-accept": (f"/checks/tasks/{task.pk if task else 0}/", {"accept": "1"}),
        "post-self-check": (f"/checks/self/{c}/{u}/", {}),
        "post-return": (f"/checks/tasks/{task.pk if task else 0}/", {"reason": "凭证不清楚", "return": "1"}),
        "post-finding": (
            f"/checks/findings/{finding.pk if finding else 0}/answer/",
            {"state": "explained", "answer": "签收表在档案室"},
        ),
    }
    if action in gets:
        response = client.get(gets[action])
    else:
        url, data = posts[action]
        response = client.post(url, data)
    if role == "anon":
        assert response.status_code == 302 and response["Location"].startswith("/login/")
        assert results_state() == before
        return
    if isinstance(expected, int):
        assert response.status_code == expected, response.content.decode()[:1500]
        if expected != 200:
            assert results_state() == before
        return
    assert response.status_code == 302, response.content.decode()[:2000]
    after = results_state()
    done = {
        "published": after[0] == before[0] + 1,
        "answered": after[1] == before[1] + 1,
        "accepted": after[2] == before[2] + 1,
        "ran": after[3] == before[3] + 1,
        "returned": after[4] == before[4] + 1,
        "answered-finding": after[5] == before[5] + 1,
    }
    assert done[str(expected)], [str(m) for m in get_messages(response.wsgi_request)]


def test_the_dashboard_shows_each_units_self_check_and_the_overdue_tasks(world: World, helped: Any) -> None:
    import datetime as dt
    import re

    from songnuan.checks import rectification, selfcheck
    from songnuan.checks.models import RectificationTask
    from songnuan.checks.services import AnswersInput, answers_save, call_record

    client = world.client("city_reviewer")
    page = client.get(f"/campaigns/{world.campaign.pk}/dashboard/").content.decode()
    assert "自查：" not in page and "抽查整改逾期" not in page  # nothing run yet
    done = selfcheck.self_check_run(
        user=world.users["county_reporter"], campaign=world.campaign, unit=world.county
    )
    found = done.findings.count()
    assert found  # the county's payments carry no evidence
    page = client.get(f"/campaigns/{world.campaign.pk}/dashboard/").content.decode()
    row = re.search(rf'<tr data-unit="{world.county.pk}".*?</tr>', page, re.S)
    assert row is not None and f"自查：发现{found}项，未处理{found}项" in row.group(0)
    assert f"/checks/self/{world.campaign.pk}/{world.county.pk}/" in row.group(0)

    user = caller(world)
    check = spot_check_draw(user=world.users["city_reviewer"], request=request(world))
    target = SampledHousehold.objects.filter(spot_check=check, in_sample=True).order_by("position")[0]
    call_record(user=user, sampled=target, disposition="self")
    target.refresh_from_db()
    answers_save(user=user, sampled=target, data=AnswersInput(received=False), version=target.version)
    deadline = dt.date.today() + dt.timedelta(days=3)
    rectification.spot_check_publish(user=world.users["city_reviewer"], spot_check=check, deadline=deadline)
    assert "抽查整改逾期" not in client.get(f"/campaigns/{world.campaign.pk}/dashboard/").content.decode()
    RectificationTask.objects.update(deadline=dt.date.today() - dt.timedelta(days=1))  # the deadline passed
    assert "抽查整改逾期 1 项" in client.get(f"/campaigns/{world.campaign.pk}/dashboard/").content.decode()
