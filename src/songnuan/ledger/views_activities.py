"""The campaign activities' pages: per kind a list with filters, totals and its Excel, entry and correction
forms, the import of media reports, return trips and visits, the 联帮促 teams with their visits, and the
register of outdoor workers' stations.

Thin views: a unit the user may not see is a 404 (as the archive answers for a file it may not see), seeing
is `may_see_ledger`, entering `may_enter_ledger` (else 403); every write is a service of
`songnuan.ledger.activities`, whose refusals come back as Chinese messages.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from songnuan.campaigns.models import Campaign
from songnuan.formkit.excel_writer import XLSX, ListWriter
from songnuan.ledger import activities, activity_import
from songnuan.ledger.forms_activities import (
    ActivityFilterForm,
    ActivityForm,
    ImportForm,
    StationCloseForm,
    StationForm,
    TeamForm,
)
from songnuan.ledger.models import Activity, Station, Team
from songnuan.ledger.services import LedgerError
from songnuan.orgs.models import Unit
from songnuan.orgs.permissions import can_see_rollup, may_enter_ledger, may_see_ledger
from songnuan.site.downloads import attachment

Kind = Activity.Kind

# --- lookups ---------------------------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    if not isinstance(request.user, User):  # login_required has already sent anonymous visitors away
        raise PermissionDenied
    return request.user


def _unit(request: HttpRequest, unit_id: int) -> Unit:
    """The unit, or 404 when it does not exist or the user may not see its ledger (the same answer)."""
    unit = get_object_or_404(Unit, pk=unit_id)
    if not may_see_ledger(_user(request), unit):
        raise Http404
    return unit


def _place(request: HttpRequest, campaign_id: int, unit_id: int) -> tuple[Campaign, Unit]:
    unit = _unit(request, unit_id)
    return get_object_or_404(Campaign, pk=campaign_id), unit


def _entering(request: HttpRequest, unit: Unit) -> User:
    user = _user(request)
    if not may_enter_ledger(user, unit):
        raise PermissionDenied
    return user


def _kind(kind: str) -> str:
    if kind not in activities.KINDS:
        raise Http404
    return kind


def _activity(campaign: Campaign, unit: Unit, pk: int) -> Activity:
    return get_object_or_404(
        Activity.objects.select_related("team", "station", "household", "unit"),
        pk=pk,
        campaign=campaign,
        unit=unit,
    )


def _show_problems(form: Any, problem: LedgerError) -> None:
    """Each broken rule beside its field when the form has it, else on top."""
    placed = False
    for item in problem.problems:
        if item.field and item.field in form.fields:
            form.add_error(item.field, item.message)
            placed = True
        else:
            form.add_error(None, item.message)
            placed = True
    if not placed:
        form.add_error(None, problem.message)


def _context(request: HttpRequest, campaign: Campaign | None, unit: Unit, **more: Any) -> dict[str, Any]:
    return {
        "campaign": campaign,
        "unit": unit,
        "may_enter": may_enter_ledger(_user(request), unit),
        "may_review": can_see_rollup(_user(request), unit),
        "kinds": [(code, label) for code, label in Kind.choices if code in activities.KINDS],
        "import_lists": [(code, lst.title) for code, lst in activity_import.LISTS.items()],
        **more,
    }


# --- the overview and the lists --------------------------------------------------------------------------


@login_required
@require_GET
def overview(request: HttpRequest, campaign_id: int, unit_id: int) -> HttpResponse:
    campaign, unit = _place(request, campaign_id, unit_id)
    subtree = request.GET.get("subtree") == "1"
    found = activities.activity_overview(campaign, unit, subtree=subtree)
    rows = [(code, label, found.get(code)) for code, label in Kind.choices if code in activities.KINDS]
    return render(
        request,
        "ledger/activities/overview.html",
        _context(request, campaign, unit, rows=rows, subtree=subtree),
    )


@login_required
@require_GET
def activity_list(request: HttpRequest, campaign_id: int, unit_id: int, kind: str) -> HttpResponse:
    campaign, unit = _place(request, campaign_id, unit_id)
    kind = _kind(kind)
    spec = activities.KINDS[kind]
    form = ActivityFilterForm(request.GET or None, kind=kind, campaign=campaign, unit=unit)
    found = activities.activities_of(campaign, unit, kind, form.asked())
    columns = [(name, spec.label(name)) for name in spec.columns()]
    return render(
        request,
        "ledger/activities/list.html",
        _context(
            request,
            campaign,
            unit,
            kind=kind,
            kind_label=activities.kind_label(kind),
            form=form,
            rows=[(activity, _cells(activity, spec)) for activity in found[:500]],
            count=found.count(),
            columns=columns,
            totals=activities.activity_totals(found, kind),
        ),
    )


def _cells(activity: Activity, spec: activities.KindSpec) -> list[Any]:
    """The list's cells of one activity, in `spec.columns()` order (blank stays blank)."""
    values: list[Any] = []
    for name in spec.columns():
        if name == "subkind":
            values.append(activities.subkind_label(activity.kind, activity.subkind))
        elif name == "team_id":
            values.append(activity.team.name if activity.team else "")
        elif name == "station_id":
            values.append(activity.station.name if activity.station else "")
        elif name == "household_id":
            values.append(activity.household.head_name if activity.household else "")
        else:
            values.append(getattr(activity, name))
    return values


@login_required
@require_GET
def activity_export(request: HttpRequest, campaign_id: int, unit_id: int, kind: str) -> HttpResponse:
    """The list as filtered, in Excel; what people typed is written as text, never a formula."""
    campaign, unit = _place(request, campaign_id, unit_id)
    kind = _kind(kind)
    spec = activities.KINDS[kind]
    form = ActivityFilterForm(request.GET or None, kind=kind, campaign=campaign, unit=unit)
    found = activities.activities_of(campaign, unit, kind, form.asked())
    header = [_("单位"), *(spec.label(name) for name in spec.columns()), _("录入时间")]
    rows = (
        [a.unit.name, *_cells(a, spec), timezone.localtime(a.entered_at).replace(tzinfo=None)]
        for a in found.iterator(chunk_size=2000)
    )
    data = _write_list(
        title=_("{unit}　{kind}（导出于 {moment}）").format(
            unit=unit.name,
            kind=activities.kind_label(kind),
            moment=timezone.localtime().strftime("%Y-%m-%d %H:%M"),
        ),
        header=header,
        rows=rows,
        sheet_name=activities.kind_label(kind)[:31],
    )
    return attachment(
        data,
        XLSX,
        _("{kind}_{date}.xlsx").format(kind=activities.kind_label(kind), date=timezone.localdate()),
    )


def _write_list(*, title: str, header: Sequence[str], rows: Any, sheet_name: str) -> bytes:
    buffer = io.BytesIO()
    writer = ListWriter(
        buffer,
        title=title,
        header=list(header),
        widths=[max(10, 2 * len(text) + 4) for text in header],
        sheet_name=sheet_name,
    )
    for row in rows:
        writer.write([_as_cell(value) for value in row])
    writer.close()
    return buffer.getvalue()


def _as_cell(value: Any) -> Any:
    """Numbers, money and dates stay typed; everything else (names, titles, links) is text."""
    if (
        value is None
        or isinstance(value, int | float)
        or hasattr(value, "quantize")
        or hasattr(value, "year")
    ):
        return value
    return str(value)


# --- entering and correcting -----------------------------------------------------------------------------


def _list_url(campaign: Campaign, unit: Unit, kind: str) -> str:
    return reverse("ledger:activity-list", args=[campaign.pk, unit.pk, kind])


@login_required
@require_http_methods(["GET", "POST"])
def activity_add(request: HttpRequest, campaign_id: int, unit_id: int, kind: str) -> HttpResponse:
    campaign, unit = _place(request, campaign_id, unit_id)
    kind = _kind(kind)
    user = _entering(request, unit)
    initial: dict[str, Any] = {}
    team_id = request.GET.get("team", "")
    if team_id.isdigit():
        initial["team_id"] = int(team_id)
    form = ActivityForm(request.POST or None, initial=initial, kind=kind, campaign=campaign, unit=unit)
    if request.method == "POST" and form.is_valid():
        try:
            activity = activities.activity_add(user=user, campaign=campaign, unit=unit, data=form.to_input())
        except LedgerError as problem:
            _show_problems(form, problem)
        else:
            messages.success(request, _("已登记：{what}").format(what=str(activity)))
            if activity.team_id:
                return redirect("ledger:team-detail", campaign.pk, unit.pk, activity.team_id)
            return redirect(_list_url(campaign, unit, kind))
    return render(
        request,
        "ledger/activities/form.html",
        _context(
            request,
            campaign,
            unit,
            form=form,
            kind=kind,
            kind_label=activities.kind_label(kind),
            activity=None,
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
def activity_edit(request: HttpRequest, campaign_id: int, unit_id: int, pk: int) -> HttpResponse:
    campaign, unit = _place(request, campaign_id, unit_id)
    activity = _activity(campaign, unit, pk)
    user = _entering(request, unit)
    form = ActivityForm(
        request.POST or None,
        initial=ActivityForm.initial_of(activity),
        kind=activity.kind,
        campaign=campaign,
        unit=unit,
    )
    if request.method == "POST" and form.is_valid():
        try:
            activities.activity_edit(user=user, activity=activity, data=form.to_input())
        except LedgerError as problem:
            _show_problems(form, problem)
        else:
            messages.success(request, _("已保存修改"))
            return redirect(_list_url(campaign, unit, activity.kind))
    return render(
        request,
        "ledger/activities/form.html",
        _context(
            request,
            campaign,
            unit,
            form=form,
            kind=activity.kind,
            kind_label=activities.kind_label(activity.kind),
            activity=activity,
            history=activity.events.select_related("user").order_by("at", "pk"),
        ),
    )


@login_required
@require_POST
def activity_delete(request: HttpRequest, campaign_id: int, unit_id: int, pk: int) -> HttpResponse:
    campaign, unit = _place(request, campaign_id, unit_id)
    activity = _activity(campaign, unit, pk)
    user = _entering(request, unit)
    kind = activity.kind
    try:
        activities.activity_delete(user=user, activity=activity)
    except LedgerError as problem:
        messages.error(request, problem.message)
    else:
        messages.success(request, _("已删除一条{kind}记录").format(kind=activities.kind_label(kind)))
    return redirect(_list_url(campaign, unit, kind))


# --- import ----------------------------------------------------------------------------------------------


def _import_list(code: str) -> activity_import.ListKind:
    found = activity_import.LISTS.get(code)
    if found is None:
        raise Http404
    return found


@login_required
@require_http_methods(["GET", "POST"])
def activity_import_view(
    request: HttpRequest, campaign_id: int, unit_id: int, list_code: str
) -> HttpResponse:
    campaign, unit = _place(request, campaign_id, unit_id)
    listed = _import_list(list_code)
    user = _entering(request, unit)
    form = ImportForm(request.POST or None, request.FILES or None)
    outcome = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        suffix = Path(upload.name or "").suffix.lower()[:8]
        handle, path = tempfile.mkstemp(suffix=suffix)
        try:
            with os.fdopen(handle, "wb") as target:
                for chunk in upload.chunks():
                    target.write(chunk)
            outcome = activity_import.import_activities(
                user=user,
                campaign=campaign,
                unit=unit,
                list_code=list_code,
                path=path,
                file_name=upload.name or "",
            )
        except activity_import.ImportRefused as problem:
            form.add_error(None, str(problem))
        finally:
            Path(path).unlink(missing_ok=True)
        if outcome is not None:
            if outcome.created:
                messages.success(request, _("已导入 {n} 条记录").format(n=outcome.created))
            if outcome.existing:
                messages.info(request, _("{n} 行以前已导入过，没有重复登记").format(n=outcome.existing))
            if outcome.rejected:
                messages.warning(request, _("{n} 行未导入，原因见下表").format(n=len(outcome.rejected)))
    return render(
        request,
        "ledger/activities/import.html",
        _context(
            request,
            campaign,
            unit,
            form=form,
            listed=listed,
            list_code=list_code,
            outcome=outcome,
            headers=activity_import.template_header(list_code),
        ),
    )


@login_required
@require_GET
def activity_import_template(
    request: HttpRequest, campaign_id: int, unit_id: int, list_code: str
) -> HttpResponse:
    _place(request, campaign_id, unit_id)
    listed = _import_list(list_code)
    header = activity_import.template_header(list_code)
    data = _write_list(
        title=_("{title}清单（导入模板）：第二行为表头，从第三行起每行一条").format(title=listed.title),
        header=header,
        rows=[],
        sheet_name=str(listed.title)[:31],
    )
    return attachment(data, XLSX, _("{title}导入模板.xlsx").format(title=listed.title))


# --- 联帮促 teams ----------------------------------------------------------------------------------------


def _team(campaign: Campaign, unit: Unit, pk: int) -> Team:
    return get_object_or_404(Team, pk=pk, campaign=campaign, unit=unit)


@login_required
@require_GET
def team_list(request: HttpRequest, campaign_id: int, unit_id: int) -> HttpResponse:
    campaign, unit = _place(request, campaign_id, unit_id)
    teams = activities.teams_of(campaign, unit)
    return render(request, "ledger/activities/teams.html", _context(request, campaign, unit, teams=teams))


@login_required
@require_GET
def team_export(request: HttpRequest, campaign_id: int, unit_id: int) -> HttpResponse:
    campaign, unit = _place(request, campaign_id, unit_id)
    header = [
        _("工作组名称"),
        _("带队领导"),
        _("成员"),
        _("联系县市区、功能区"),
        _("联系企业"),
        _("帮扶困难职工家庭（户）"),
        _("走访记录（条）"),
        _("走访人次（户）"),
    ]
    rows = (
        [
            t.name,
            t.leader,
            t.members,
            t.linked_places,
            t.linked_enterprises,
            getattr(t, "household_count", None),
            getattr(t, "visit_count", None),
            getattr(t, "visit_people", None),
        ]
        for t in activities.teams_of(campaign, unit)
    )
    data = _write_list(
        title=_("{unit}　联帮促工作组").format(unit=unit.name),
        header=header,
        rows=rows,
        sheet_name=_("联帮促工作组"),
    )
    return attachment(data, XLSX, _("联帮促工作组_{date}.xlsx").format(date=timezone.localdate()))


@login_required
@require_GET
def team_detail(request: HttpRequest, campaign_id: int, unit_id: int, pk: int) -> HttpResponse:
    campaign, unit = _place(request, campaign_id, unit_id)
    team = _team(campaign, unit, pk)
    visits = team.activities.select_related("household").order_by("-on", "-pk")
    visit_kinds = [
        (code, label)
        for code, label in Kind.choices
        if code in activities.KINDS and "team_id" in activities.KINDS[code].allowed
    ]
    return render(
        request,
        "ledger/activities/team.html",
        _context(
            request,
            campaign,
            unit,
            team=team,
            households=team.households.select_related("unit").order_by("pk"),
            visits=[
                (v, activities.kind_label(v.kind), activities.subkind_label(v.kind, v.subkind))
                for v in visits
            ],
            visit_kinds=visit_kinds,
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
def team_new(request: HttpRequest, campaign_id: int, unit_id: int) -> HttpResponse:
    campaign, unit = _place(request, campaign_id, unit_id)
    user = _entering(request, unit)
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            team = activities.team_create(user=user, campaign=campaign, unit=unit, data=form.to_input())
        except LedgerError as problem:
            _show_team_problems(form, problem)
        else:
            messages.success(request, _("已成立工作组“{name}”").format(name=team.name))
            return redirect("ledger:team-detail", campaign.pk, unit.pk, team.pk)
    return render(
        request, "ledger/activities/team_form.html", _context(request, campaign, unit, form=form, team=None)
    )


def _show_team_problems(form: TeamForm, problem: LedgerError) -> None:
    for item in problem.problems:
        name = "households" if item.field == "household_ids" else item.field
        form.add_error(name if name in form.fields else None, item.message)
    if not problem.problems:
        form.add_error(None, problem.message)


@login_required
@require_http_methods(["GET", "POST"])
def team_edit(request: HttpRequest, campaign_id: int, unit_id: int, pk: int) -> HttpResponse:
    campaign, unit = _place(request, campaign_id, unit_id)
    team = _team(campaign, unit, pk)
    user = _entering(request, unit)
    form = TeamForm(request.POST or None, initial=TeamForm.initial_of(team))
    if request.method == "POST" and form.is_valid():
        try:
            activities.team_edit(user=user, team=team, data=form.to_input())
        except LedgerError as problem:
            _show_team_problems(form, problem)
        else:
            messages.success(request, _("已保存修改"))
            return redirect("ledger:team-detail", campaign.pk, unit.pk, team.pk)
    return render(
        request, "ledger/activities/team_form.html", _context(request, campaign, unit, form=form, team=team)
    )


# --- the stations' register ------------------------------------------------------------------------------


def _station(unit: Unit, pk: int) -> Station:
    return get_object_or_404(Station, pk=pk, unit=unit)


@login_required
@require_GET
def station_list(request: HttpRequest, unit_id: int) -> HttpResponse:
    unit = _unit(request, unit_id)
    stations = activities.stations_of(unit)
    return render(
        request,
        "ledger/activities/stations.html",
        _context(request, None, unit, stations=stations, close_form=StationCloseForm()),
    )


@login_required
@require_GET
def station_export(request: HttpRequest, unit_id: int) -> HttpResponse:
    unit = _unit(request, unit_id)
    header = [
        _("站点名称"),
        _("地址"),
        _("运营单位"),
        _("启用日期"),
        _("停用日期"),
        _("服务记录（条）"),
        _("服务人次"),
        _("涉及资金财物（元）"),
    ]
    rows = (
        [
            s.name,
            s.address,
            s.operator,
            s.opened_on,
            s.closed_on,
            getattr(s, "service_count", None),
            getattr(s, "service_people", None),
            getattr(s, "service_amount", None),
        ]
        for s in activities.stations_of(unit)
    )
    data = _write_list(
        title=_("{unit}　户外劳动者服务站点").format(unit=unit.name),
        header=header,
        rows=rows,
        sheet_name=_("服务站点"),
    )
    return attachment(data, XLSX, _("户外劳动者服务站点_{date}.xlsx").format(date=timezone.localdate()))


@login_required
@require_http_methods(["GET", "POST"])
def station_new(request: HttpRequest, unit_id: int) -> HttpResponse:
    unit = _unit(request, unit_id)
    user = _entering(request, unit)
    form = StationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            station = activities.station_register(user=user, unit=unit, data=form.to_input())
        except LedgerError as problem:
            _show_problems(form, problem)
        else:
            messages.success(request, _("已登记站点“{name}”").format(name=station.name))
            return redirect("ledger:station-list", unit.pk)
    return render(
        request, "ledger/activities/station_form.html", _context(request, None, unit, form=form, station=None)
    )


@login_required
@require_http_methods(["GET", "POST"])
def station_edit(request: HttpRequest, unit_id: int, pk: int) -> HttpResponse:
    unit = _unit(request, unit_id)
    station = _station(unit, pk)
    user = _entering(request, unit)
    initial = {
        "name": station.name,
        "address": station.address,
        "operator": station.operator,
        "opened_on": station.opened_on,
    }
    form = StationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            activities.station_edit(user=user, station=station, data=form.to_input())
        except LedgerError as problem:
            _show_problems(form, problem)
        else:
            messages.success(request, _("已保存修改"))
            return redirect("ledger:station-list", unit.pk)
    return render(
        request,
        "ledger/activities/station_form.html",
        _context(request, None, unit, form=form, station=station),
    )


@login_required
@require_POST
def station_close(request: HttpRequest, unit_id: int, pk: int) -> HttpResponse:
    unit = _unit(request, unit_id)
    station = _station(unit, pk)
    user = _entering(request, unit)
    form = StationCloseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写停用日期"))
    else:
        try:
            activities.station_close(user=user, station=station, on=form.cleaned_data["closed_on"])
        except LedgerError as problem:
            messages.error(request, problem.message)
        else:
            messages.success(request, _("站点“{name}”已停用").format(name=station.name))
    return redirect("ledger:station-list", unit.pk)
