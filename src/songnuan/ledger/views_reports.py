"""The ledger's reports in the browser: the roll-up of a unit's subtree with its drill-down, and the 公示,
each with its Excel file.

Thin views: find the campaign and unit as every ledger page does (`views.campaign_unit`: 404 for an
unknown one or a unit taking no part, 403 for a unit whose ledger the user may not see); the roll-up, which
names and sums the units below, is for the reviewing roles only (`can_see_rollup`: 403 to a reporter of
the unit); call one selector of `songnuan.ledger.reports`, render. Every page needs a login.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from songnuan.campaigns.models import Campaign
from songnuan.formkit.excel_writer import XLSX
from songnuan.ledger import reports
from songnuan.ledger.views import campaign_unit
from songnuan.orgs.models import Unit
from songnuan.orgs.permissions import can_see_rollup, may_enter_ledger
from songnuan.site.downloads import attachment


def _target(request: HttpRequest, campaign_id: int, unit_id: int, *, rollup: bool) -> tuple[Campaign, Unit]:
    campaign, unit = campaign_unit(request, campaign_id, unit_id)
    if rollup and not can_see_rollup(request.user, unit):
        raise PermissionDenied(_("台账汇总只有本单位或上级单位的审核员、管理员可以查看"))
    return campaign, unit


@login_required
@require_GET
def rollup(request: HttpRequest, campaign_id: int, unit_id: int) -> HttpResponse:
    campaign, unit = _target(request, campaign_id, unit_id, rollup=True)
    table = reports.rollup(campaign, unit)
    # The way back up stops at the user's own reach.
    table.ancestors = [above for above in table.ancestors if can_see_rollup(request.user, above)]
    return render(
        request,
        "ledger/reports/rollup.html",
        {
            # The ledger's navigation (ledger/_nav.html) needs these on every unit page.
            "campaign": campaign,
            "unit": unit,
            "may_enter": may_enter_ledger(request.user, unit),
            "may_review": True,
            "table": table,
        },
    )


@login_required
@require_GET
def rollup_export(request: HttpRequest, campaign_id: int, unit_id: int) -> HttpResponse:
    campaign, unit = _target(request, campaign_id, unit_id, rollup=True)
    table = reports.rollup(campaign, unit)
    return attachment(reports.rollup_xlsx(table), XLSX, reports.rollup_filename(table))


def _publicity(request: HttpRequest, campaign_id: int, unit_id: int) -> tuple[reports.Publicity, bool]:
    """The 公示 as asked: ?subtree=1 adds the units below (for those who see them one by one: the
    roll-up's rule), ?households=1 keeps filed households only."""
    campaign, unit = _target(request, campaign_id, unit_id, rollup=False)
    may_subtree = can_see_rollup(request.user, unit)
    subtree = request.GET.get("subtree") == "1"
    if subtree and not may_subtree:
        raise PermissionDenied(_("含下级单位的公示只有本单位或上级单位的审核员、管理员可以查看"))
    notice = reports.publicity(
        campaign, unit, subtree=subtree, households_only=request.GET.get("households") == "1"
    )
    return notice, may_subtree


@login_required
@require_GET
def publicity(request: HttpRequest, campaign_id: int, unit_id: int) -> HttpResponse:
    notice, may_subtree = _publicity(request, campaign_id, unit_id)
    return render(
        request,
        "ledger/reports/publicity.html",
        {"notice": notice, "may_subtree": may_subtree, "query": request.GET.urlencode()},
    )


@login_required
@require_GET
def publicity_export(request: HttpRequest, campaign_id: int, unit_id: int) -> HttpResponse:
    notice, _may_subtree = _publicity(request, campaign_id, unit_id)
    return attachment(reports.publicity_xlsx(notice), XLSX, reports.publicity_filename(notice))
