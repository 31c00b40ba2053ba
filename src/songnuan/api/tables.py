"""/api/campaigns/{c}/units/{u}/forms/{f}: one unit's table — read, check, save, and its workflow steps —
and the roll-up of accepted tables under a unit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router
from ninja.params.functions import Path

from songnuan.api.campaigns import CampaignId, form_status, user_of, visible_campaign, visible_unit
from songnuan.api.errors import ApiError
from songnuan.api.schemas import (
    MAX_ID,
    CheckIn,
    CheckResult,
    CommentIn,
    Conflict,
    Finding,
    FindingsHtml,
    FormRef,
    Header,
    ItemOut,
    Message,
    Permissions,
    ReturnIn,
    Rollup,
    SaveIn,
    Table,
    UnlockIn,
    cell_value,
    cell_values,
    local_time,
    unit_out,
)
from songnuan.campaigns.models import Campaign
from songnuan.campaigns.selectors import campaign_for_unit, unit_takes_part
from songnuan.formkit import engine
from songnuan.formkit.definitions import Form, get_form
from songnuan.formkit.values import parse_value
from songnuan.orgs.models import Unit
from songnuan.orgs.permissions import can_fill, can_see_rollup, may_review_table, unit_visible
from songnuan.reporting import services
from songnuan.reporting.findings import findings_html
from songnuan.reporting.last_year import check_unit_table
from songnuan.reporting.models import Submission
from songnuan.reporting.progress import submission_values
from songnuan.reporting.rollup import content_label, reports_whole_area, rollup
from songnuan.reporting.transitions import Action, state_allows

router = Router(tags=["统计表"])

FORM = "/campaigns/{campaign_id}/units/{unit_id}/forms/{form_code}"
UnitId: Any = Path(..., ge=1, le=MAX_ID, description="单位编号")
FormCode: Any = Path(
    ..., pattern=r"^[-a-zA-Z0-9_]+$", max_length=100, description="统计表代码，如 warmth-2018"
)
READ = {401: Message, 403: Message, 404: Message}
WRITE = {400: Message, 401: Message, 403: Message, 404: Message, 409: Conflict}


def _form(campaign: Campaign, form_code: str) -> Form:
    if form_code not in campaign.form_codes:
        raise ApiError(404, _("本次活动没有这张表：{code}").format(code=form_code))
    try:
        return get_form(form_code)
    except KeyError:
        raise ApiError(404, _("没有这张表：{code}").format(code=form_code)) from None


def _target(
    request: HttpRequest, campaign_id: int, unit_id: int, form_code: str
) -> tuple[User, Campaign, Unit, Form]:
    """The campaign, unit and form a table call names, or the refusal `_checked_target` gives, in its order.
    In two queries when all is well: a unit the user sees that takes part in the campaign makes the campaign
    visible to the user too (its owner or an addressee lies on the unit's path, so in the user's subtree or
    above the user's unit: `campaigns_visible_to`), so its own visibility query is asked only on a refusal."""
    user = user_of(request)
    unit = Unit.objects.filter(pk=unit_id).first()
    found = campaign_for_unit(campaign_id, unit) if unit is not None else None
    if found is not None and found[1] and unit is not None and unit_visible(user, unit):
        return user, found[0], unit, _form(found[0], form_code)
    return _checked_target(user, campaign_id, unit_id, form_code)


def _checked_target(
    user: User, campaign_id: int, unit_id: int, form_code: str
) -> tuple[User, Campaign, Unit, Form]:
    campaign = visible_campaign(user, campaign_id)
    form = _form(campaign, form_code)
    unit = visible_unit(user, unit_id)
    if not unit_takes_part(campaign, unit):
        raise ApiError(404, _("本次活动不涉及这个单位"))
    return user, campaign, unit, form


def _submission(campaign: Campaign, unit: Unit, form: Form) -> Submission | None:
    return (
        Submission.objects.select_related("unit", "campaign")
        .filter(campaign=campaign, unit=unit, form_code=form.code)
        .first()
    )


def _existing(campaign: Campaign, unit: Unit, form: Form) -> Submission:
    submission = _submission(campaign, unit, form)
    if submission is None:
        raise ApiError(409, _("这张表还没有开始填报"))
    return submission


def _finding(violation: engine.Violation) -> Finding:
    return Finding(
        rule=violation.rule,
        severity=violation.severity.value,
        items=list(violation.items),
        message=violation.message,
        expected=cell_value(violation.expected),
        actual=cell_value(violation.actual),
        difference=cell_value(violation.difference),
    )


#: Each form's items as the API lists them, built once per form object (they are the same in every answer; a
#: save's answer built them anew each time, ≈ 60 schema objects).
_ITEMS: dict[str, tuple[Form, list[ItemOut]]] = {}


def _items_out(form: Form) -> list[ItemOut]:
    kept = _ITEMS.get(form.code)
    if kept is None or kept[0] is not form:
        kept = (
            form,
            [ItemOut(code=i.code, label=i.label, unit=i.unit, kind=i.kind.value) for i in form.items],
        )
        _ITEMS[form.code] = kept
    return kept[1]


def _form_ref(form: Form) -> FormRef:
    return FormRef(code=form.code, attachment=form.attachment, title=form.title)


def table(
    user: User,
    unit: Unit,
    form: Form,
    submission: Submission | None,
    values: dict[str, engine.Value] | None = None,
    check: engine.CheckResult | None = None,
) -> Table:
    if values is None:
        values = submission_values(submission) if submission else dict.fromkeys(form.codes)
    if check is None:
        check = (
            check_unit_table(form, values, campaign=submission.campaign, unit_id=unit.pk)
            if submission is not None
            else engine.compiled(form).validate(values)  # nothing filled: nothing to compare
        )
    explanations = dict(submission.explanations) if submission else {}
    missing = services.missing_explanations(submission, check) if submission else []
    editable = state_allows(Action.SAVE, submission) if submission else True
    fill = can_fill(user, unit)
    return Table(
        **form_status(submission).model_dump(exclude={"version"}),
        form=_form_ref(form),
        unit=unit_out(unit),
        # A table not opened yet is saved as version 1 (the version a new draft starts at).
        version=submission.version if submission else 1,
        editable=editable,
        values=cell_values(values),
        explanations=explanations,
        missing_explanations=missing,
        header=Header(
            reporter=submission.reporter if submission else "",
            phone=submission.phone if submission else "",
            report_date=submission.report_date if submission else None,
        ),
        review_comment=submission.review_comment if submission else "",
        reviewed_at=local_time(submission.reviewed_at) if submission else None,
        updated_at=local_time(submission.updated_at) if submission else None,
        errors=[_finding(v) for v in check.errors],
        warnings=[_finding(v) for v in check.warnings],
        permissions=Permissions(
            fill=fill,
            review=may_review_table(user, unit, submission.campaign.owner_id if submission else None),
        ),
        items=_items_out(form),
        # Explanations can be written only by who may fill the unit: a reader's fragment shows them as text.
        findings_html=FindingsHtml(
            **findings_html(
                form, check, explanations, missing=missing, editable=editable and fill, values=values
            )
        ),
    )


def _typed_values(form: Form, sent: dict[str, object]) -> dict[str, engine.Value]:
    """Values as sent, read like a typed cell; an unknown item code is passed on for the service to refuse."""
    typed: dict[str, engine.Value] = {}
    for code, value in sent.items():
        if not form.has_item(code):
            typed[code] = value if value is None or isinstance(value, str) else str(value)
        else:
            typed[code] = parse_value(form.item(code), value)
    return typed


@router.get(FORM, response={200: Table, **READ}, url_name="form", summary="一个单位的统计表")
def form_table(
    request: HttpRequest,
    campaign_id: int = CampaignId,
    unit_id: int = UnitId,
    form_code: str = FormCode,
) -> Table:
    user, campaign, unit, form = _target(request, campaign_id, unit_id, form_code)
    return table(user, unit, form, _submission(campaign, unit, form))


@router.put(
    FORM,
    response={200: Table, **WRITE, 409: Conflict},
    url_name="form-save",
    summary="保存（只送改了的项目）",
    description="带上开始编辑时读到的 version；别人已保存过则 409，什么都不覆盖，答复中有两边的值。"
    "已报送或已通过的表不能保存（409）。",
)
def form_save(
    request: HttpRequest,
    payload: SaveIn,
    campaign_id: int = CampaignId,
    unit_id: int = UnitId,
    form_code: str = FormCode,
) -> Table:
    user, campaign, unit, form = _target(request, campaign_id, unit_id, form_code)
    header = payload.header.model_dump(exclude_unset=True)
    with transaction.atomic():  # a refused save does not leave a new empty draft behind
        submission = services.submission_open(campaign=campaign, unit=unit, form_code=form.code, user=user)
        saved = services.submission_save(
            submission=submission,
            user=user,
            version=payload.version,
            values=_typed_values(form, dict(payload.values)),
            explanations={rule: text or "" for rule, text in payload.explanations.items()},
            header=header,
        )
    return table(user, unit, form, saved.submission, saved.values, saved.check)


@router.post(
    f"{FORM}/check",
    response={200: CheckResult, **WRITE},
    url_name="form-check",
    summary="检查（不保存）",
    description="把还没保存的值和已存的值合起来按审核规则检查，什么都不写。",
)
def form_check(
    request: HttpRequest,
    payload: CheckIn,
    campaign_id: int = CampaignId,
    unit_id: int = UnitId,
    form_code: str = FormCode,
) -> CheckResult:
    user, campaign, unit, form = _target(request, campaign_id, unit_id, form_code)
    if not can_fill(user, unit):
        raise ApiError(403, _("您无权修改这个单位的统计表"))
    unknown = [code for code in payload.values if not form.has_item(code)]
    if unknown:
        raise ApiError(400, _("表中没有项目 {code}").format(code=unknown[0]))
    submission = _submission(campaign, unit, form)
    values = submission_values(submission) if submission else dict.fromkeys(form.codes)
    values |= _typed_values(form, dict(payload.values))
    check = check_unit_table(form, values, campaign=campaign, unit_id=unit.pk)
    explanations = dict(submission.explanations) if submission else {}
    missing = services.missing_explanations(submission, check) if submission else []
    return CheckResult(
        errors=[_finding(v) for v in check.errors],
        warnings=[_finding(v) for v in check.warnings],
        values=cell_values(values),
        findings_html=FindingsHtml(
            **findings_html(form, check, explanations, missing=missing, editable=True, values=values)
        ),
    )


Step = Callable[[User, Submission], Submission]


def _step(request: HttpRequest, campaign_id: int, unit_id: int, form_code: str, run: Step) -> Table:
    """A workflow step on an existing table: the service decides who may (403) and from which state (409)."""
    user, campaign, unit, form = _target(request, campaign_id, unit_id, form_code)
    return table(user, unit, form, run(user, _existing(campaign, unit, form)))


@router.post(f"{FORM}/submit", response={200: Table, **WRITE}, url_name="form-submit", summary="报送上级")
def form_submit(
    request: HttpRequest, campaign_id: int = CampaignId, unit_id: int = UnitId, form_code: str = FormCode
) -> Table:
    user, campaign, unit, form = _target(request, campaign_id, unit_id, form_code)
    with transaction.atomic():  # a refused submit leaves no new empty draft behind
        submission = services.submission_open(campaign=campaign, unit=unit, form_code=form.code, user=user)
        submission = services.submission_submit(submission=submission, user=user)
    return table(user, unit, form, submission)


@router.post(f"{FORM}/return", response={200: Table, **WRITE}, url_name="form-return", summary="退回修改")
def form_return(
    request: HttpRequest,
    payload: ReturnIn,
    campaign_id: int = CampaignId,
    unit_id: int = UnitId,
    form_code: str = FormCode,
) -> Table:
    return _step(
        request,
        campaign_id,
        unit_id,
        form_code,
        lambda user, submission: services.submission_return(
            submission=submission, user=user, comment=payload.comment
        ),
    )


@router.post(f"{FORM}/accept", response={200: Table, **WRITE}, url_name="form-accept", summary="审核通过")
def form_accept(
    request: HttpRequest,
    payload: CommentIn | None = None,
    campaign_id: int = CampaignId,
    unit_id: int = UnitId,
    form_code: str = FormCode,
) -> Table:
    comment = payload.comment if payload else ""
    return _step(
        request,
        campaign_id,
        unit_id,
        form_code,
        lambda user, submission: services.submission_accept(
            submission=submission, user=user, comment=comment
        ),
    )


@router.post(f"{FORM}/unlock", response={200: Table, **WRITE}, url_name="form-unlock", summary="解锁并退回")
def form_unlock(
    request: HttpRequest,
    payload: UnlockIn,
    campaign_id: int = CampaignId,
    unit_id: int = UnitId,
    form_code: str = FormCode,
) -> Table:
    return _step(
        request,
        campaign_id,
        unit_id,
        form_code,
        lambda user, submission: services.submission_unlock(
            submission=submission, user=user, reason=payload.reason
        ),
    )


@router.get(
    "/campaigns/{campaign_id}/rollup/{unit_id}/{form_code}",
    response={200: Rollup, **READ},
    url_name="rollup",
    summary="汇总（本单位及下级已审核通过的表）",
)
def form_rollup(
    request: HttpRequest, campaign_id: int = CampaignId, unit_id: int = UnitId, form_code: str = FormCode
) -> Rollup:
    viewer, campaign, unit, form = _target(request, campaign_id, unit_id, form_code)
    if not can_see_rollup(viewer, unit):  # as the roll-up page: it names and sums the units below
        raise ApiError(403, _("汇总只有本单位或上级单位的审核员、管理员可以查看"))
    accepted = Submission.objects.filter(
        campaign=campaign,
        form_code=form.code,
        status=Submission.Status.ACCEPTED,
        unit__path__startswith=unit.path,
    )
    if reports_whole_area(campaign):  # the unit's own table is its whole area; the ones below are not in it
        accepted = accepted.filter(unit=unit)
    return Rollup(
        campaign_id=campaign.pk,
        form=_form_ref(form),
        unit=unit_out(unit),
        accepted_units=accepted.count(),
        values=cell_values(rollup(campaign, form.code, unit)),
        reporting_scope="whole_area" if reports_whole_area(campaign) else "own_level",
        content=content_label(campaign, rollup=True),
    )
