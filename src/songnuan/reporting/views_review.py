"""The reviewer's side: progress dashboard, roll-up with drill-down, comparison grid, downloads, print views.

Thin views: find the objects (404), ask `songnuan.orgs.permissions` whether the user may see the unit (403:
`can_see_rollup` for everything that shows the units below — dashboard, roll-up, drill-down, grid and their
downloads —, `unit_visible` for a unit's own table), call one selector or export function, render. Every page
needs a login.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from songnuan.campaigns.models import Campaign
from songnuan.formkit.definitions import Form
from songnuan.formkit.excel_writer import XLSX
from songnuan.orgs.models import Unit
from songnuan.orgs.permissions import can_see_rollup, progress_unit_of, unit_visible
from songnuan.reporting import catalogue, exports, printing, progress, unit_notes
from songnuan.reporting import dashboard as dashboards
from songnuan.reporting import rollup as rollups
from songnuan.reporting.change_grid import change_grid, change_grid_xlsx
from songnuan.reporting.models import Submission
from songnuan.site.downloads import attachment


def _rollup_visible_to(request: HttpRequest) -> Callable[[Unit], bool]:
    """Which roll-ups the page may link to or name one by one (children, ancestors): the user's own rule."""
    user = request.user
    return lambda unit: can_see_rollup(user, unit)


def _target(
    request: HttpRequest, campaign_id: int, unit_id: int, form_code: str, *, rollup: bool
) -> tuple[Campaign, Unit, Form]:
    """The campaign, unit and form of the URL: 404 for unknown ones, 403 for a unit the user may not see —
    with `rollup` (roll-up, drill-down, grid and their downloads), 403 unless the user reviews the unit."""
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    unit = get_object_or_404(Unit, pk=unit_id)
    form = catalogue.form_get(form_code) if form_code in campaign.form_codes else None
    if form is None:
        raise Http404
    if rollup:
        if not can_see_rollup(request.user, unit):
            raise PermissionDenied(_("汇总表和对比表只有本单位或上级单位的审核员、管理员可以查看"))
    elif not unit_visible(request.user, unit):
        raise PermissionDenied
    return campaign, unit, form


def _own_submission(campaign: Campaign, unit: Unit, form: Form) -> Submission:
    submission = progress.submission_of(campaign, unit, form.code)
    if submission is None:
        raise Http404
    return submission


@login_required
@require_GET
def dashboard(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    unit = progress_unit_of(request.user)
    if unit is None:
        raise PermissionDenied
    board = dashboards.dashboard(campaign, unit, state=request.GET.get("state"))
    notes = unit_notes.unit_notes(campaign, [row.unit for row in board.shown], request.user)
    return render(
        request,
        "review/dashboard.html",
        {
            "campaign": campaign,
            "board": board,
            "rows": [(row, notes.get(row.unit.pk, [])) for row in board.shown],
            "campaign_notes": unit_notes.campaign_notes(campaign, request.user),
            "filters": [(key, str(label)) for key, label in progress.STATE_LABELS.items()]
            + [(key, str(label)) for key, label in dashboards.EXTRA_FILTERS.items()],
        },
    )


@login_required
@require_GET
def rollup(request: HttpRequest, campaign_id: int, unit_id: int, form_code: str) -> HttpResponse:
    campaign, unit, form = _target(request, campaign_id, unit_id, form_code, rollup=True)
    visible = _rollup_visible_to(request)
    page = rollups.rollup_page(campaign, form, unit, visible=visible, item_code=request.GET.get("item"))
    return render(
        request,
        "review/rollup.html",
        {
            "campaign": campaign,
            "page": page,
            "forms": [catalogue.form_get(code) for code in campaign.form_codes],
            "ancestors": rollups.visible_ancestors(unit, visible),
        },
    )


@login_required
@require_GET
def grid(request: HttpRequest, campaign_id: int, unit_id: int, form_code: str) -> HttpResponse:
    campaign, unit, form = _target(request, campaign_id, unit_id, form_code, rollup=True)
    visible = _rollup_visible_to(request)
    # ?change=1: each column against last year (change_grid), when the campaign has a previous campaign.
    changes = change_grid(campaign, form, unit, visible=visible) if request.GET.get("change") == "1" else None
    return render(
        request,
        "review/grid.html",
        {
            "campaign": campaign,
            "grid": changes.grid
            if changes
            else rollups.comparison_grid(campaign, form, unit, visible=visible),
            "changes": changes,
            "forms": [catalogue.form_get(code) for code in campaign.form_codes],
            "ancestors": rollups.visible_ancestors(unit, visible),
        },
    )


@login_required
@require_GET
def grid_xlsx(request: HttpRequest, campaign_id: int, unit_id: int, form_code: str) -> HttpResponse:
    campaign, unit, form = _target(request, campaign_id, unit_id, form_code, rollup=True)
    if request.GET.get("change") == "1":
        changes = change_grid(campaign, form, unit, visible=_rollup_visible_to(request))
        if changes is not None:
            name = exports.grid_filename(changes.grid).replace(".xlsx", _("（与上年对比）.xlsx"))
            return attachment(change_grid_xlsx(changes), XLSX, name)
    table = rollups.comparison_grid(campaign, form, unit, visible=_rollup_visible_to(request))
    return attachment(exports.grid_xlsx(table), XLSX, exports.grid_filename(table))


@login_required
@require_GET
def export(request: HttpRequest, campaign_id: int, unit_id: int, form_code: str) -> HttpResponse:
    campaign, unit, form = _target(request, campaign_id, unit_id, form_code, rollup=False)
    submission = _own_submission(campaign, unit, form)
    data = exports.form_xlsx(
        form,
        progress.submission_values(submission),
        exports.submission_header(submission),
        content=rollups.content_label(campaign, rollup=False),
    )
    return attachment(data, XLSX, exports.form_filename(form, unit.name))


@login_required
@require_GET
def rollup_xlsx(request: HttpRequest, campaign_id: int, unit_id: int, form_code: str) -> HttpResponse:
    campaign, unit, form = _target(request, campaign_id, unit_id, form_code, rollup=True)
    values = rollups.rollup(campaign, form.code, unit)
    data = exports.form_xlsx(
        form,
        values,
        exports.rollup_header(unit, timezone.localdate()),
        content=rollups.content_label(campaign, rollup=True),
    )
    return attachment(data, XLSX, exports.form_filename(form, printing.rollup_unit_name(unit)))


@login_required
@require_GET
def print_table(request: HttpRequest, campaign_id: int, unit_id: int, form_code: str) -> HttpResponse:
    campaign, unit, form = _target(request, campaign_id, unit_id, form_code, rollup=False)
    page = printing.submission_print(_own_submission(campaign, unit, form))
    return render(request, "review/print.html", {"campaign": campaign, "page": page})


@login_required
@require_GET
def rollup_print(request: HttpRequest, campaign_id: int, unit_id: int, form_code: str) -> HttpResponse:
    campaign, unit, form = _target(request, campaign_id, unit_id, form_code, rollup=True)
    page = printing.rollup_print(campaign, form, unit, today=timezone.localdate())
    return render(request, "review/print.html", {"campaign": campaign, "page": page})
