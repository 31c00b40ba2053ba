"""/api/campaigns: the campaigns a user's part of the tree takes part in, and where each unit stands."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router
from ninja.params.functions import Path

from songnuan.api.errors import ApiError
from songnuan.api.schemas import (
    MAX_ID,
    Campaign,
    CampaignList,
    CampaignSummary,
    Contact,
    FormRef,
    FormStatus,
    Message,
    NamedRef,
    Permissions,
    UnitList,
    UnitProgress,
    local_time,
    unit_out,
)
from songnuan.campaigns import models
from songnuan.campaigns.selectors import campaigns_visible_to, units_taking_part
from songnuan.formkit.definitions import builtin_forms
from songnuan.orgs.models import Unit
from songnuan.orgs.permissions import can_fill, may_review_table, unit_visible, units_visible_to
from songnuan.reporting.models import Submission
from songnuan.reporting.progress import campaign_progress

router = Router(tags=["活动"])

CampaignId: Any = Path(..., ge=1, le=MAX_ID, description="活动编号")
REFUSALS = {401: Message, 403: Message, 404: Message}


def user_of(request: HttpRequest) -> User:
    user = getattr(request, "auth", None)
    assert isinstance(user, User)  # the router's authentication let only a logged-in user through
    return user


def visible_campaign(user: User, campaign_id: int) -> models.Campaign:
    campaign = models.Campaign.objects.select_related("owner").filter(pk=campaign_id).first()
    if campaign is None:
        raise ApiError(404, _("没有这个活动"))
    if not campaigns_visible_to(user).filter(pk=campaign.pk).exists():
        raise ApiError(403, _("您无权查看这个活动"))
    return campaign


def visible_unit(user: User, unit_id: int) -> Unit:
    unit = Unit.objects.filter(pk=unit_id).first()
    if unit is None:
        raise ApiError(404, _("没有这个单位"))
    if not unit_visible(user, unit):
        raise ApiError(403, _("您无权查看这个单位"))
    return unit


def campaign_summary(campaign: models.Campaign) -> CampaignSummary:
    return CampaignSummary(
        id=campaign.pk,
        title=campaign.title,
        document_number=campaign.document_number,
        owner=NamedRef(id=campaign.owner_id, name=campaign.owner.name),
        period_start=campaign.period_start,
        period_end=campaign.period_end,
        deadline=campaign.deadline,
        form_codes=list(campaign.form_codes),
    )


def form_status(submission: Submission | None) -> FormStatus:
    if submission is None:
        return FormStatus(
            status="not-started", status_label=_("未开始"), version=None, submitted_at=None, late=False
        )
    return FormStatus(
        status=submission.status,  # type: ignore[arg-type]
        status_label=submission.get_status_display(),
        version=submission.version,
        submitted_at=local_time(submission.submitted_at),
        late=submission.late,
    )


@router.get(
    "/campaigns", response={200: CampaignList, 401: Message}, url_name="campaigns", summary="活动列表"
)
def campaign_list(request: HttpRequest) -> CampaignList:
    campaigns = campaigns_visible_to(user_of(request)).select_related("owner")
    return CampaignList(campaigns=[campaign_summary(campaign) for campaign in campaigns])


@router.get(
    "/campaigns/{campaign_id}",
    response={200: Campaign, **REFUSALS},
    url_name="campaign",
    summary="活动详情（通知与统计表）",
)
def campaign_detail(request: HttpRequest, campaign_id: int = CampaignId) -> Campaign:
    campaign = visible_campaign(user_of(request), campaign_id)
    forms = builtin_forms()
    return Campaign(
        **campaign_summary(campaign).model_dump(),
        period_text=campaign.period_text,
        receiving_department=campaign.receiving_department,
        contact=Contact(
            name=campaign.contact_name, phone=campaign.contact_phone, email=campaign.contact_email
        ),
        addressees=[NamedRef(id=unit.pk, name=unit.name) for unit in campaign.addressees.order_by("path")],
        forms=[
            FormRef(code=code, attachment=forms[code].attachment, title=forms[code].title)
            for code in campaign.form_codes
            if code in forms
        ],
        notice_text=campaign.notice_text,
    )


@router.get(
    "/campaigns/{campaign_id}/units",
    response={200: UnitList, **REFUSALS},
    url_name="campaign-units",
    summary="各单位的填报进度",
)
def campaign_units(request: HttpRequest, campaign_id: int = CampaignId) -> UnitList:
    user = user_of(request)
    campaign = visible_campaign(user, campaign_id)
    progress = campaign_progress(campaign, units_taking_part(campaign, units_visible_to(user)))
    return UnitList(
        campaign_id=campaign.pk,
        form_codes=list(campaign.form_codes),
        units=[
            UnitProgress(
                **unit_out(row.unit).model_dump(),
                state=row.state,
                late=row.late,
                forms={code: form_status(submission) for code, submission in row.submissions.items()},
                permissions=Permissions(
                    fill=can_fill(user, row.unit), review=may_review_table(user, row.unit, campaign.owner_id)
                ),
            )
            for row in progress
        ],
    )
