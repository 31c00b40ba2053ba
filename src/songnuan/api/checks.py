"""/api/…/checks: spot checks (电话抽查), their rectification tasks (整改) and self-checks (自查): one
contract per operation over the same services and selectors as the pages (`songnuan.checks`), with their
permissions:

- a check is seen (`may_see_spot_check`) by its unit's callers, reviewers and admins and those above it; a
  check, sampled household, task or finding the user does not see answers as one that does not exist (404);
- drawing, replacing and publishing (`may_run_spot_check`): a reviewer or admin of the checking unit itself;
- the call sheet (full phone numbers, each read logged) and the calls and answers (`may_call_households`):
  an account of the checking unit holding the callers' permission;
- a task is answered by the unit it is given to, accepted or returned by the checking unit (not by whoever
  answered it); a self-check is run and its findings answered as `orgs.permissions` says.

A refusal of a step's rules is a 400 naming the field; a step the object's state no longer allows (a fourth
call, answers read at an older version, a household of the reserve not yet in the sample, a published
check, a task not waiting for that step) is a 409. Nothing is written by a refused step.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.params.functions import Path

from songnuan.api.campaigns import CampaignId, user_of, visible_campaign
from songnuan.api.errors import ApiError
from songnuan.api.schemas import MAX_ID, Message, NamedRef, local_time
from songnuan.api.schemas_checks import (
    TASK_STATES,
    AnswersIn,
    AttemptOut,
    CallIn,
    CallSheet,
    CheckPermissions,
    CheckRefusal,
    DrawIn,
    EmptyIn,
    FindingAnswerIn,
    FindingOut,
    FindingRecordOut,
    IntervalOut,
    PaymentOut,
    PlanIn,
    PublishIn,
    ResultLineOut,
    RuleCountOut,
    SampledOut,
    SamplePlanOut,
    SampleStratumPlanOut,
    SelfCheckOut,
    SheetLineOut,
    SpotCheckDetail,
    SpotCheckList,
    SpotCheckOut,
    TaskAnswerIn,
    TaskList,
    TaskOut,
    TaskReturnIn,
)
from songnuan.campaigns.models import Campaign
from songnuan.campaigns.selectors import unit_takes_part
from songnuan.checks import rectification, selectors, selfcheck, services, stats
from songnuan.checks.models import (
    CallAttempt,
    Finding,
    RectificationTask,
    SampledHousehold,
    SpotCheck,
)
from songnuan.orgs.models import Unit
from songnuan.orgs.permissions import (
    account_of,
    may_answer_finding,
    may_call_households,
    may_run_spot_check,
    may_see_ledger,
    may_see_spot_check,
)

router = Router(tags=["抽查与自查"])

CHECK = "/checks/{check_id}"
SAMPLED = "/checks/sampled/{sampled_id}"
TASK = "/checks/tasks/{task_id}"
CheckId: Any = Path(..., ge=1, le=MAX_ID, description="抽查编号")
SampledId: Any = Path(..., ge=1, le=MAX_ID, description="抽中户编号")
TaskId: Any = Path(..., ge=1, le=MAX_ID, description="整改任务编号")
FindingId: Any = Path(..., ge=1, le=MAX_ID, description="自查发现编号")
UnitId: Any = Path(..., ge=1, le=MAX_ID, description="单位编号")
READ = {400: Message, 401: Message, 403: Message, 404: Message}
WRITE = {400: CheckRefusal, 401: Message, 403: Message, 404: Message, 409: Message}


# --- refusals ----------------------------------------------------------------------------------------------


Refusal = Status[CheckRefusal]


def _refused(error: services.CheckError | selfcheck.SelfCheckError, conflict: bool = False) -> Refusal:
    """A refusal because of the object's state is a 409; any other rule's a 400 naming its field."""
    if conflict:
        raise ApiError(409, error.message)
    return Status(400, CheckRefusal(message=error.message, field=getattr(error, "field", "") or None))


# --- where: the campaign and unit, the check, the household, the task, the finding ------------------------


def _own_running_unit(user: User) -> Unit:
    """The unit that runs a check: the user's own, if the user may run one there."""
    account = account_of(user)
    if account is None or not may_run_spot_check(user, account.unit):
        raise ApiError(403, _("只有本单位的审核员或管理员可以组织抽查"))
    return account.unit


def _ledger_unit(user: User, campaign: Campaign, unit_id: int) -> Unit:
    unit = Unit.objects.filter(pk=unit_id).first()
    # Not there and not visible are the same answer, as for the ledger.
    if unit is None or not may_see_ledger(user, unit):
        raise ApiError(404, _("没有这个单位"))
    if not unit_takes_part(campaign, unit):
        raise ApiError(404, _("本次活动不涉及这个单位"))
    return unit


def _check(user: User, check_id: int) -> SpotCheck:
    check = SpotCheck.objects.select_related("unit", "campaign", "drawn_by").filter(pk=check_id).first()
    if check is None or not may_see_spot_check(user, check.unit):
        raise ApiError(404, _("没有这次抽查"))
    return check


def _sampled(user: User, sampled_id: int) -> SampledHousehold:
    sampled = (
        SampledHousehold.objects.select_related("spot_check__unit", "household", "stratum__unit")
        .filter(pk=sampled_id)
        .first()
    )
    if sampled is None or not may_see_spot_check(user, sampled.spot_check.unit):
        raise ApiError(404, _("没有这户抽中户"))
    return sampled


def _task(user: User, task_id: int) -> RectificationTask:
    task = (
        RectificationTask.objects.select_related(
            "spot_check__unit", "unit", "sampled__household", "answered_by", "decided_by"
        )
        .filter(pk=task_id)
        .first()
    )
    # Seen as the page sees it: the tasks of the units the user sees, and those of the user's own check.
    if task is None or not (
        rectification.tasks_for_unit(user).filter(pk=task.pk).exists()
        or may_run_spot_check(user, task.spot_check.unit)
    ):
        raise ApiError(404, _("没有这项整改任务"))
    return task


# --- answers ----------------------------------------------------------------------------------------------


def _text(number: Decimal | None) -> str | None:
    return None if number is None else format(number, "f")


def _money(amount: Decimal | None) -> str | None:
    return None if amount is None else format(Decimal(amount).quantize(Decimal("0.01")), "f")


def _user_name(user: User | None) -> str | None:
    if user is None:
        return None
    return user.get_full_name() or user.get_username()


def check_out(check: SpotCheck) -> SpotCheckOut:
    return SpotCheckOut(
        id=check.pk,
        campaign_id=check.campaign_id,
        unit=NamedRef(id=check.unit.pk, name=check.unit.name),
        title=check.title,
        document_number=check.document_number,
        state=check.state,
        state_label=check.get_state_display(),
        bound_only=check.bound_only,
        stratum_level=check.stratum_level,
        allocation=check.allocation,
        allocation_label=check.get_allocation_display(),
        per_stratum=check.per_stratum,
        total=check.total,
        minimum=check.minimum,
        margin=_text(check.margin),
        confidence=_text(check.confidence),
        seed=str(check.seed),
        frame_size=check.frame_size,
        frame_digest=check.frame_digest,
        drawn_by=_user_name(check.drawn_by) or "",
        drawn_at=local_time(check.drawn_at),  # type: ignore[arg-type]
    )


def _line(line: selectors.StratumResult) -> ResultLineOut:
    interval = line.interval
    return ResultLineOut(
        unit=NamedRef(id=line.unit.pk, name=line.unit.name),
        size=line.size,
        sampled=line.sampled,
        attempted=line.attempted,
        contacted=line.contacted,
        reached=line.reached,
        interviewed=line.interviewed,
        confirmed=line.confirmed,
        discrepancies=line.discrepancies,
        verdicts={verdict.value: line.verdicts[verdict] for verdict in stats.Verdict},
        satisfaction={value: line.satisfaction[value] for value in SampledHousehold.Satisfaction.values},
        contact_rate=_text(line.contact_rate),
        confirmed_rate=_text(line.confirmed_rate),
        interval=None
        if interval is None
        else IntervalOut(lower=format(interval[0], "f"), upper=format(interval[1], "f")),
    )


def check_detail(user: User, check: SpotCheck) -> SpotCheckDetail:
    found = selectors.results(check)
    published = check.state == SpotCheck.State.PUBLISHED
    counts = rectification.task_counts(check) if published else None
    return SpotCheckDetail(
        **check_out(check).model_dump(),
        strata=[_line(line) for line in found.strata],
        overall=_line(found.overall),
        tasks=None if counts is None else {state: counts.get(state, 0) for state in TASK_STATES},
        permissions=CheckPermissions(
            call=may_call_households(user, check.unit), run=may_run_spot_check(user, check.unit)
        ),
    )


def _attempt(attempt: CallAttempt) -> AttemptOut:
    disposition = stats.Disposition(attempt.disposition)
    return AttemptOut(
        number=attempt.number,
        at=local_time(attempt.at),  # type: ignore[arg-type]
        disposition=disposition.value,
        disposition_label=disposition.label(),
    )


def _replacements(rows: Iterable[SampledHousehold]) -> dict[int, int]:
    """{id of a replaced household: id of its replacement} for `rows`, in one query."""
    ids = [row.pk for row in rows]
    found = SampledHousehold.objects.filter(replaces__in=ids).values_list("replaces_id", "pk")
    return {replaced: replacement for replaced, replacement in found if replaced is not None}


def sampled_fields(
    sampled: SampledHousehold, attempts: list[CallAttempt], replaced_by: int | None
) -> dict[str, Any]:
    verdict = stats.Verdict(sampled.verdict) if sampled.verdict else None
    dispositions = [stats.Disposition(attempt.disposition) for attempt in attempts]
    return {
        "id": sampled.pk,
        "spot_check_id": sampled.spot_check_id,
        "stratum": NamedRef(id=sampled.stratum.unit.pk, name=sampled.stratum.unit.name),
        "name": sampled.household.head_name,
        "position": sampled.position,
        "in_sample": sampled.in_sample,
        "replaces": sampled.replaces_id,
        "replaced_by": replaced_by,
        "attempts": [_attempt(attempt) for attempt in attempts],
        "replaceable": sampled.in_sample and replaced_by is None and services.replaceable(dispositions),
        "received": sampled.received,
        "amount": _money(sampled.amount),
        "how": sampled.how,
        "received_on": sampled.received_on,
        "brought_by": sampled.brought_by,
        "knows_contact": sampled.knows_contact,
        "satisfaction": sampled.satisfaction,
        "note": sampled.note,
        "interviewed": sampled.interviewed,
        "verdict": verdict.value if verdict else None,
        "verdict_label": verdict.label() if verdict else None,
        "version": sampled.version,
    }


def sampled_out(sampled_id: int) -> SampledOut:
    """The household as the database now has it (after a service changed it)."""
    sampled = SampledHousehold.objects.select_related("household", "stratum__unit").get(pk=sampled_id)
    attempts = list(sampled.attempts.order_by("number"))
    replaced_by = _replacements([sampled]).get(sampled.pk)
    return SampledOut(**sampled_fields(sampled, attempts, replaced_by))


def _sheet_line(line: selectors.SheetLine, replaced_by: int | None) -> SheetLineOut:
    return SheetLineOut(
        **sampled_fields(line.sampled, line.attempts, replaced_by),
        masked_id=line.masked_id,
        phone=line.phone,
        unit=line.unit,
        payments=[
            PaymentOut(
                item=payment.item,
                amount=_money(payment.amount),
                goods_value=_money(payment.goods_value),
                paid_on=dt.date.fromisoformat(payment.paid_on),
                channel=payment.channel,
                unit=payment.unit,
                reversal=payment.reversal,
            )
            for payment in line.payments
        ],
    )


def task_out(task: RectificationTask, today: dt.date) -> TaskOut:
    verdict = stats.Verdict(task.verdict)
    check = task.spot_check
    return TaskOut(
        id=task.pk,
        spot_check=NamedRef(id=check.pk, name=check.title),
        checking_unit=NamedRef(id=check.unit.pk, name=check.unit.name),
        unit=NamedRef(id=task.unit.pk, name=task.unit.name),
        sampled_id=task.sampled_id,
        household_name=task.sampled.household.head_name,
        verdict=verdict.value,
        verdict_label=verdict.label(),
        deadline=task.deadline,
        overdue=task.deadline < today and task.state != RectificationTask.State.ACCEPTED,
        state=task.state,
        state_label=task.get_state_display(),
        answer=task.answer,
        evidence=bool(task.evidence),
        answered_by=_user_name(task.answered_by),
        answered_at=local_time(task.answered_at),
        decided_by=_user_name(task.decided_by),
        decided_at=local_time(task.decided_at),
        return_reason=task.return_reason,
    )


def _task_now(user: User, task_id: int) -> TaskOut:
    return task_out(_task(user, task_id), timezone.localdate())


def _finding_out(user: User, finding: Finding) -> FindingOut:
    return FindingOut(
        id=finding.pk,
        code=finding.code,
        unit=NamedRef(id=finding.unit.pk, name=finding.unit.name),
        message=finding.message,
        records=[
            FindingRecordOut(kind=str(record.get("kind", "")), id=int(record.get("id", 0)))
            for record in finding.records
            if isinstance(record, dict)
        ],
        state=finding.state,
        state_label=finding.get_state_display(),
        answer=finding.answer,
        answered_by=_user_name(finding.answered_by),
        answered_at=local_time(finding.answered_at),
        may_answer=may_answer_finding(user, finding.unit),
    )


def self_check_out(user: User, campaign: Campaign, unit: Unit) -> SelfCheckOut:
    summary = selfcheck.latest_summary(campaign, unit)
    if summary is None:
        raise ApiError(404, _("{unit}在本次活动中还没有自查").format(unit=unit.name))
    check = summary.self_check
    findings = check.findings.select_related("unit", "answered_by").order_by("code", "pk")
    return SelfCheckOut(
        id=check.pk,
        campaign_id=check.campaign_id,
        unit=NamedRef(id=unit.pk, name=unit.name),
        run_by=_user_name(check.run_by) or "",
        run_at=local_time(check.run_at),  # type: ignore[arg-type]
        total=summary.total,
        open=summary.open,
        counts=[RuleCountOut(code=code, title=title, findings=n) for code, title, n in summary.counts],
        findings=[_finding_out(user, finding) for finding in findings],
    )


# --- rectification tasks (before /checks/{check_id}: "tasks" is no check id) ------------------------------


@router.get(
    "/checks/tasks",
    response={200: TaskList, 401: Message},
    url_name="check-tasks",
    summary="整改任务（本单位及所见下级单位的）",
)
def task_list(request: HttpRequest) -> TaskList:
    user = user_of(request)
    today = timezone.localdate()
    tasks = rectification.tasks_for_unit(user).select_related("answered_by", "decided_by")
    return TaskList(results=[task_out(task, today) for task in tasks])


@router.post(
    f"{TASK}/answer",
    response={200: TaskOut, **WRITE},
    url_name="check-task-answer",
    summary="答复整改任务（整改单位；材料文件请在网页上传）",
)
def task_answer(request: HttpRequest, body: TaskAnswerIn, task_id: int = TaskId) -> TaskOut | Refusal:
    user = user_of(request)
    task = _task(user, task_id)
    waiting = task.state in (RectificationTask.State.OPEN, RectificationTask.State.RETURNED)
    try:
        rectification.task_answer(user=user, task=task, answer=body.answer, evidence=None)
    except services.CheckError as error:
        return _refused(error, conflict=not waiting)
    return _task_now(user, task_id)


def _decision_refusal(user: User, task: RectificationTask, error: services.CheckError) -> Refusal:
    if task.answered_by_id == user.pk and task.state == RectificationTask.State.ANSWERED:
        raise ApiError(403, error.message)  # four eyes: not for this user to decide
    return _refused(error, conflict=task.state != RectificationTask.State.ANSWERED)


@router.post(
    f"{TASK}/accept",
    response={200: TaskOut, **WRITE},
    url_name="check-task-accept",
    summary="整改通过（组织抽查单位的审核员或管理员，答复人除外）",
)
def task_accept(request: HttpRequest, task_id: int = TaskId) -> TaskOut | Refusal:
    user = user_of(request)
    task = _task(user, task_id)
    try:
        rectification.task_accept(user=user, task=task)
    except services.CheckError as error:
        return _decision_refusal(user, task, error)
    return _task_now(user, task_id)


@router.post(
    f"{TASK}/return",
    response={200: TaskOut, **WRITE},
    url_name="check-task-return",
    summary="退回整改（写明原因）",
)
def task_return(request: HttpRequest, body: TaskReturnIn, task_id: int = TaskId) -> TaskOut | Refusal:
    user = user_of(request)
    task = _task(user, task_id)
    try:
        rectification.task_return(user=user, task=task, reason=body.reason)
    except services.CheckError as error:
        return _decision_refusal(user, task, error)
    return _task_now(user, task_id)


# --- spot checks ------------------------------------------------------------------------------------------


@router.get(
    "/campaigns/{campaign_id}/checks",
    response={200: SpotCheckList, **READ},
    url_name="checks",
    summary="本单位及下级单位组织的电话抽查",
)
def check_list(request: HttpRequest, campaign_id: int = CampaignId) -> SpotCheckList:
    user = user_of(request)
    campaign = visible_campaign(user, campaign_id)
    return SpotCheckList(
        results=[
            check_out(check)
            for check in selectors.checks_visible_to(user, campaign).select_related("drawn_by")
        ]
    )


def _draw_request(campaign: Campaign, unit: Unit, body: PlanIn, **extra: Any) -> services.DrawRequest:
    return services.DrawRequest(
        campaign=campaign,
        unit=unit,
        allocation=body.allocation,
        level=body.level,
        bound_only=body.bound_only,
        per_stratum=body.per_stratum,
        total=body.total,
        minimum=body.minimum,
        margin=body.margin,  # type: ignore[arg-type]  # the schema's validator made it a Decimal or None
        confidence=body.confidence,  # type: ignore[arg-type]
        **extra,
    )


@router.post(
    "/campaigns/{campaign_id}/checks/plan",
    response={200: SamplePlanOut, **WRITE},
    url_name="check-plan",
    summary="样本量计算：抽样框户数和各层应抽户数（不抽样、不保存）",
)
def check_plan(request: HttpRequest, body: PlanIn, campaign_id: int = CampaignId) -> SamplePlanOut | Refusal:
    user = user_of(request)
    campaign = visible_campaign(user, campaign_id)
    unit = _own_running_unit(user)
    try:
        planned = services.plan(_draw_request(campaign, unit, body, title=""))
    except services.CheckError as error:
        return _refused(error)
    units = planned.frame.units
    return SamplePlanOut(
        unit=NamedRef(id=unit.pk, name=unit.name),
        frame_size=planned.frame.size,
        taken=planned.taken,
        strata=[
            SampleStratumPlanOut(
                unit=NamedRef(id=units[key].pk, name=units[key].name),
                size=plan.size,
                wanted=plan.wanted,
                taken=plan.taken,
                short=plan.short,
            )
            for key, plan in sorted(planned.strata.items(), key=lambda kv: units[kv[0]].path)
        ],
    )


@router.post(
    "/campaigns/{campaign_id}/checks",
    response={200: SpotCheckDetail, **WRITE},
    url_name="check-draw",
    summary="抽取样本（本单位的审核员或管理员；同一种子、同一抽样框抽出同一样本）",
)
def check_draw(
    request: HttpRequest, body: DrawIn, campaign_id: int = CampaignId
) -> SpotCheckDetail | Refusal:
    user = user_of(request)
    campaign = visible_campaign(user, campaign_id)
    unit = _own_running_unit(user)
    draw = _draw_request(
        campaign,
        unit,
        body,
        title=body.title,
        document_number=body.document_number,
        seed=None if body.seed is None else int(body.seed),
    )
    try:
        check = services.spot_check_draw(user=user, request=draw)
    except services.CheckError as error:
        return _refused(error)
    return check_detail(user, _check(user, check.pk))


@router.get(
    CHECK,
    response={200: SpotCheckDetail, **READ},
    url_name="check",
    summary="一次抽查及其结果（各层和总体；比率为文字，无比率为 null）",
)
def check_show(request: HttpRequest, check_id: int = CheckId) -> SpotCheckDetail:
    user = user_of(request)
    return check_detail(user, _check(user, check_id))


@router.get(
    f"{CHECK}/sheet",
    response={200: CallSheet, **READ},
    url_name="check-sheet",
    summary="核查表：样本户、完整手机号、拨打和发放记录（核查员；每次查看都有记录）",
)
def check_sheet(request: HttpRequest, response: HttpResponse, check_id: int = CheckId) -> CallSheet:
    user = user_of(request)
    check = _check(user, check_id)
    if not may_call_households(user, check.unit):
        raise ApiError(403, _("只有{unit}的核查员可以查看核查表").format(unit=check.unit.name))
    lines = selectors.call_sheet(check)
    services.sheets_viewed(user=user, spot_check=check, how=_("核查表接口"))
    add_never_cache_headers(response)  # the full phone numbers are not kept in any cache
    replaced = _replacements(line.sampled for line in lines)
    return CallSheet(
        spot_check=NamedRef(id=check.pk, name=check.title),
        results=[_sheet_line(line, replaced.get(line.sampled.pk)) for line in lines],
    )


@router.post(
    f"{CHECK}/publish",
    response={200: SpotCheckDetail, **WRITE},
    url_name="check-publish",
    summary="发布通报：结束核查，给有问题的户的发放单位生成整改任务",
)
def check_publish(
    request: HttpRequest, body: PublishIn, check_id: int = CheckId
) -> SpotCheckDetail | Refusal:
    user = user_of(request)
    check = _check(user, check_id)
    published = check.state != SpotCheck.State.CALLING
    try:
        rectification.spot_check_publish(
            user=user, spot_check=check, deadline=dt.date.fromisoformat(body.deadline)
        )
    except services.CheckError as error:
        return _refused(error, conflict=published)
    return check_detail(user, _check(user, check_id))


# --- a sampled household: calls, answers, replacement ----------------------------------------------------


@router.post(
    f"{SAMPLED}/calls",
    response={200: SampledOut, **WRITE},
    url_name="check-call",
    summary="记录一次拨打结果（核查员；每户最多 3 次）",
)
def sampled_call(request: HttpRequest, body: CallIn, sampled_id: int = SampledId) -> SampledOut | Refusal:
    user = user_of(request)
    sampled = _sampled(user, sampled_id)
    try:
        services.call_record(user=user, sampled=sampled, disposition=body.disposition)
    except services.CheckError as error:
        # The disposition is checked by the schema: what is left is the household's state.
        return _refused(error, conflict=True)
    return sampled_out(sampled_id)


@router.put(
    f"{SAMPLED}/answers",
    response={200: SampledOut, **WRITE},
    url_name="check-answers",
    summary="保存访问答案和核查结论（带上读取时的版本号；他人已修改则 409）",
)
def sampled_answers(
    request: HttpRequest, body: AnswersIn, sampled_id: int = SampledId
) -> SampledOut | Refusal:
    user = user_of(request)
    sampled = _sampled(user, sampled_id)
    answers = services.AnswersInput(
        received=body.received,
        amount=body.amount,  # type: ignore[arg-type]  # the schema's validator made it a Decimal or None
        how=body.how,
        received_on=body.received_on,
        brought_by=body.brought_by,
        knows_contact=body.knows_contact,
        satisfaction=body.satisfaction,
        note=body.note,
    )
    try:
        services.answers_save(user=user, sampled=sampled, data=answers, version=body.version)
    except services.CheckError as error:
        return _refused(error, conflict=True)
    return sampled_out(sampled_id)


@router.post(
    f"{SAMPLED}/replacement",
    response={200: SampledOut, **WRITE},
    url_name="check-replacement",
    summary="抽取替补户（空号/错号或拨打 3 次未接通的户；返回替补户）",
)
def sampled_replacement(
    request: HttpRequest, body: EmptyIn, sampled_id: int = SampledId
) -> SampledOut | Refusal:
    user = user_of(request)
    sampled = _sampled(user, sampled_id)
    try:
        reserve = services.replacement_draw(user=user, sampled=sampled)
    except services.CheckError as error:
        return _refused(error, conflict=True)
    return sampled_out(reserve.pk)


# --- self-checks ------------------------------------------------------------------------------------------

SELF = "/campaigns/{campaign_id}/units/{unit_id}/self-checks"


@router.post(
    SELF,
    response={200: SelfCheckOut, **WRITE},
    url_name="self-check-run",
    summary="自查：按规则扫描本单位及下级单位的台账和档案",
)
def self_check_run(
    request: HttpRequest, body: EmptyIn, campaign_id: int = CampaignId, unit_id: int = UnitId
) -> SelfCheckOut:
    user = user_of(request)
    campaign = visible_campaign(user, campaign_id)
    unit = _ledger_unit(user, campaign, unit_id)
    selfcheck.self_check_run(user=user, campaign=campaign, unit=unit)
    return self_check_out(user, campaign, unit)


@router.get(
    f"{SELF}/latest",
    response={200: SelfCheckOut, **READ},
    url_name="self-check-latest",
    summary="最近一次自查及其发现（没有自查为 404）",
)
def self_check_latest(
    request: HttpRequest, campaign_id: int = CampaignId, unit_id: int = UnitId
) -> SelfCheckOut:
    user = user_of(request)
    campaign = visible_campaign(user, campaign_id)
    return self_check_out(user, campaign, _ledger_unit(user, campaign, unit_id))


@router.post(
    "/checks/findings/{finding_id}/answer",
    response={200: FindingOut, **WRITE},
    url_name="finding-answer",
    summary="答复自查发现：已纠正或已说明",
)
def finding_answer(
    request: HttpRequest, body: FindingAnswerIn, finding_id: int = FindingId
) -> FindingOut | Refusal:
    user = user_of(request)
    finding = (
        Finding.objects.select_related("self_check__unit", "unit", "answered_by")
        .filter(pk=finding_id)
        .first()
    )
    if finding is None or not (
        may_see_ledger(user, finding.unit) or may_see_ledger(user, finding.self_check.unit)
    ):
        raise ApiError(404, _("没有这项自查发现"))
    try:
        selfcheck.finding_answer(user=user, finding=finding, state=body.state, answer=body.answer)
    except selfcheck.SelfCheckError as error:
        return _refused(error)
    answered = Finding.objects.select_related("unit", "answered_by").get(pk=finding_id)
    return _finding_out(user, answered)
