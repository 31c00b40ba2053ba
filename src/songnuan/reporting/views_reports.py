"""Removing an activity report uploaded by mistake (POST only, CSRF-checked, asked for in the page with
data-confirm). The rule and the audit are `services.activity_report_remove`; this view only finds the
report within the campaign and unit of the URL and says what happened."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from songnuan.campaigns.models import Campaign
from songnuan.campaigns.selectors import unit_takes_part
from songnuan.orgs.models import Unit
from songnuan.orgs.permissions import unit_visible
from songnuan.reporting import services
from songnuan.reporting.models import ActivityReport


@login_required
@require_POST
def activity_report_remove(
    request: HttpRequest, campaign_id: int, unit_id: int, report_id: int
) -> HttpResponse:
    user = request.user
    if not isinstance(user, User):  # login_required has sent anonymous visitors away
        raise PermissionDenied
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    unit = get_object_or_404(Unit, pk=unit_id)
    if not unit_visible(user, unit):
        raise PermissionDenied
    if not unit_takes_part(campaign, unit):
        raise Http404
    report = get_object_or_404(ActivityReport, pk=report_id, campaign=campaign, unit=unit)
    try:
        name = services.activity_report_remove(report=report, user=user)
    except services.ReportingError as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, _("已删除活动报告“{name}”。").format(name=name))
    return redirect("campaign:report", campaign.pk, unit.pk)
