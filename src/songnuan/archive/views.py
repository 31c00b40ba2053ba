"""The needy-worker archive (困难职工档案) in the browser: the list and its search, a new file, a file with
its actions and its history, the 四明确 gaps, the yearly reviews due, the Excel export, and importing
spreadsheets.

Thin views: a file the user may not see is a 404 (its existence is not told), who may do what is asked of
`songnuan.orgs.permissions`, every read goes through `songnuan.archive.selectors`, every write through
`songnuan.archive.services` or `import_jobs`, whose refusals (ArchiveError, MappingError, ImportRefused)
come back as Chinese messages, PermissionDenied as 403. ID, phone and card numbers are masked on every page
unless the user asks to see them and may: each such view is logged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from songnuan.archive import exports, import_jobs, page_selectors, selectors, services
from songnuan.archive.forms import (
    CloseForm,
    HouseholdForm,
    ImportUploadForm,
    MappingForm,
    MemberFormSet,
    NoteForm,
    OutForm,
    PlanForm,
    ReasonForm,
    ReviewForm,
    SearchForm,
    member_inputs,
)
from songnuan.archive.idnumbers import (
    InvalidIdNumber,
    mask_card,
    mask_id_number,
    mask_phone,
    parse_id_number,
)
from songnuan.archive.importing import MappingError
from songnuan.archive.models import Household, HouseholdEvent, ImportJob, Member, PersonalDataView, Plan
from songnuan.archive.transitions import Action
from songnuan.formkit.excel_writer import XLSX
from songnuan.orgs.permissions import has_personal_data_permission, may_see_personal_data
from songnuan.site.downloads import attachment

PER_PAGE = 50
RECENT_IMPORTS = 20
SHOWN_VIEWS = 50


# --- lookups ---------------------------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    if not isinstance(request.user, User):  # login_required has already sent anonymous visitors away
        raise PermissionDenied
    return request.user


def _household(request: HttpRequest, pk: int) -> Household:
    """The file, or 404 when it does not exist or the user may not see it (the same answer for both)."""
    visible = selectors.households_visible_to(_user(request))
    return get_object_or_404(visible.select_related("unit", "applied_by", "reviewed_by"), pk=pk)


def _job(request: HttpRequest, pk: int) -> ImportJob:
    """One of the user's own imports; anyone else's is a 404."""
    return get_object_or_404(selectors.import_jobs_of(_user(request)), pk=pk)


def _detail_url(household: Household) -> str:
    return reverse("archive:detail", args=[household.pk])


def _back(request: HttpRequest, household: Household) -> HttpResponse:
    """Back where the button was pressed (the file, or the list of yearly reviews due)."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(_detail_url(household))


def _form_errors(form: Any) -> str:
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        text = "".join(str(error) for error in errors)
        parts.append(f"{label}：{text}" if label else text)
    return "；".join(parts)


# --- the list, the export --------------------------------------------------------------------------------


@login_required
@require_GET
def household_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    search = SearchForm(request.GET or None, user=user)
    asked = search.search()
    households = selectors.search_households(user, asked)
    page = Paginator(households, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "archive/list.html",
        {
            "form": search,
            "page": page,
            "sort": _sort_headers(asked.sort),
            "number_notice": selectors.partial_number_notice(user, asked.text),
            "may_file": bool(page_selectors.units_to_file_in(user)),
            "may_export_full": has_personal_data_permission(user),
        },
    )


@dataclass(frozen=True)
class SortHeader:
    """A sortable column's heading: where a click leads (ascending first, then descending) and the arrow."""

    next: str  # the ?sort= value of the link
    arrow: str  # ▲ ascending, ▼ descending, "" not sorted by this column
    aria: str  # aria-sort: ascending, descending or none


def _sort_headers(sort: str) -> dict[str, SortHeader]:
    headers = {}
    for column in selectors.SORTS:
        if sort == column:
            headers[column] = SortHeader(f"-{column}", "▲", "ascending")
        elif sort == f"-{column}":
            headers[column] = SortHeader(column, "▼", "descending")
        else:
            headers[column] = SortHeader(column, "", "none")
    return headers


@login_required
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    """The list as filtered, in Excel; full numbers only with the permission, each file then logged."""
    user = _user(request)
    full = request.GET.get("full") == "1"
    if full and not has_personal_data_permission(user):
        raise PermissionDenied
    found = selectors.search_households(user, SearchForm(request.GET, user=user).search())
    if full:
        shown = list(found)
        services.personal_data_viewed(user=user, households=shown, via=PersonalDataView.Via.EXPORT)
        data = exports.households_xlsx(shown, full_numbers=True)
    else:
        data = exports.households_xlsx(found.iterator(chunk_size=2000), full_numbers=False)
    today = timezone.localdate().isoformat()
    return attachment(data, XLSX, _("困难职工档案_{date}.xlsx").format(date=today), private=full)


# --- a new file ------------------------------------------------------------------------------------------


def _same_person(typed: str, number: str) -> bool:
    """Whether what was typed (15 or 18 digits, any case) is the 18-digit `number`."""
    try:
        return parse_id_number(typed).number == number
    except InvalidIdNumber:
        return False


def _place_duplicate(form: HouseholdForm, members: Any, duplicate: services.DuplicateFile) -> None:
    """The refusal beside the ID field that holds the number (the head's or a member row's), else on top."""
    if _same_person(form.cleaned_data.get("head_id_number") or "", duplicate.id_number):
        form.add_error("head_id_number", str(duplicate))
        return
    for member in members:
        if _same_person(getattr(member, "cleaned_data", {}).get("id_number") or "", duplicate.id_number):
            member.add_error("id_number", str(duplicate))
            return
    form.add_error(None, str(duplicate))


@login_required
@require_http_methods(["GET", "POST"])
def household_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    units = page_selectors.units_to_file_in(user)
    if not units:
        raise PermissionDenied
    posted = request.POST if request.method == "POST" else None
    form = HouseholdForm(posted, units=units)
    members = MemberFormSet(posted, prefix="members")
    if posted is not None and form.is_valid() and members.is_valid():
        unit = form.cleaned_data["unit"]
        try:
            household = services.household_apply(
                user=user, unit=unit, data=form.household_input(member_inputs(members))
            )
        except services.DuplicateFile as duplicate:
            _place_duplicate(form, members, duplicate)
        except services.ArchiveError as refusal:
            form.add_error(None, str(refusal))
        except PermissionDenied:
            form.add_error(
                "unit",
                _("您不能为“{unit}”新建档案申请，请由该单位的填报员或管理员申请").format(unit=unit.name),
            )
        else:
            done = (
                _("已为“{name}”建档")
                if household.status == Household.Status.FILED
                else _("已新建“{name}”的档案申请，等待上级审核建档")
            )
            messages.success(request, done.format(name=household.head_name))
            return redirect(_detail_url(household))
    return render(
        request,
        "archive/new.html",
        {"form": form, "members": members, "difficulty_types": settings.SONGNUAN_DIFFICULTY_TYPES},
        status=400 if posted is not None else 200,
    )


# --- a file and its actions ------------------------------------------------------------------------------


def _detail(request: HttpRequest, household: Household, *, full: bool) -> HttpResponse:
    user = _user(request)
    actions = page_selectors.household_actions(user, household)
    try:
        plan: Plan | None = household.plan
    except Plan.DoesNotExist:
        plan = None
    initial = {
        Action.PLAN: (
            {"contact": plan.contact, "deadline": plan.deadline, "measures": plan.measures, "path": plan.path}
            if plan
            else {}
        )
    }
    return render(
        request,
        "archive/detail.html",
        {
            "household": household,
            "members": household.members.order_by("id"),
            "plan": plan,
            "actions": actions,
            "full": full,
            "views": selectors.personal_data_views(user, household)[:SHOWN_VIEWS] if actions.reveal else [],
            # Several forms on one page, each with its own element ids ("propose-out-on", …).
            **{
                f"{action}_form": taken.form(
                    initial=initial.get(action), auto_id=f"{action_url_name(action)}-%s"
                )
                for action, taken in HOUSEHOLD_ACTIONS.items()
                if taken.form is not None
            },
        },
    )


@login_required
@require_GET
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _household(request, pk), full=False)


@login_required
@require_POST
@never_cache  # the full numbers are not kept in the browser's cache
def reveal(request: HttpRequest, pk: int) -> HttpResponse:
    household = _household(request, pk)
    user = _user(request)
    if not may_see_personal_data(user, household.unit):
        raise PermissionDenied
    services.personal_data_viewed(user=user, households=[household], via=PersonalDataView.Via.PAGE)
    return _detail(request, household, full=True)


# --- a file's actions: one table, one view ----------------------------------------------------------------


@dataclass(frozen=True)
class HouseholdAction:
    """How the page takes one action of the transition table (`songnuan.archive.transitions.Action`).

    The form's fields are the service's keyword arguments (a test holds them to it); the service itself
    decides, and refuses with an ArchiveError or PermissionDenied.
    """

    route: str  # posted to <file's address>/<route>; the URL name is the action's, with hyphens
    form: type[forms.Form] | None  # None: a bare button
    service: Callable[..., object]  # called as service(user=…, household=…, **the form's cleaned data)
    done: Callable[[Household, Any], str]  # the success message, from the file and what the service returned


def _named(message: Promise) -> Callable[[Household, object], str]:
    """A success message naming the file's head of household."""
    return lambda household, _result: str(message).format(name=household.head_name)


def _approved(household: Household, decided: Household) -> str:
    if decided.status == Household.Status.OUT:
        return _("已同意申请：“{name}”解困脱困，档案结束").format(name=household.head_name)
    return _("已同意申请：“{name}”的档案已注销").format(name=household.head_name)


def _planned(household: Household, saved: Plan) -> str:
    missing = saved.missing()
    if missing:
        return _("已保存帮扶计划，还缺：{missing}").format(missing="、".join(missing))
    return _("已保存帮扶计划，四明确已齐全")


HOUSEHOLD_ACTIONS: dict[Action, HouseholdAction] = {
    Action.FILE: HouseholdAction(
        "file/", None, services.household_file, _named(gettext_lazy("已审核建档：“{name}”列入困难职工档案"))
    ),
    Action.REVIEW: HouseholdAction(
        "review/", ReviewForm, services.household_review_yearly, _named(gettext_lazy("已完成“{name}”的年审"))
    ),
    Action.OUT: HouseholdAction(
        "out/",
        OutForm,
        services.household_out_of_difficulty,
        _named(gettext_lazy("已登记“{name}”解困脱困，档案结束")),
    ),
    Action.CLOSE: HouseholdAction(
        "close/", CloseForm, services.household_close, _named(gettext_lazy("已注销“{name}”的档案"))
    ),
    Action.PROPOSE_OUT: HouseholdAction(
        "propose-out/",
        OutForm,
        services.household_propose_out,
        _named(gettext_lazy("已提出“{name}”解困脱困的申请，等待上级审核")),
    ),
    Action.PROPOSE_CLOSE: HouseholdAction(
        "propose-close/",
        CloseForm,
        services.household_propose_close,
        _named(gettext_lazy("已提出注销“{name}”档案的申请，等待上级审核")),
    ),
    Action.APPROVE: HouseholdAction("proposal/approve/", NoteForm, services.proposal_approve, _approved),
    Action.REJECT: HouseholdAction(
        "proposal/reject/",
        ReasonForm,
        services.proposal_reject,
        _named(gettext_lazy("已退回“{name}”的申请，档案保持不变")),
    ),
    Action.WITHDRAW: HouseholdAction(
        "proposal/withdraw/", None, services.proposal_withdraw, _named(gettext_lazy("已撤回“{name}”的申请"))
    ),
    Action.REOPEN: HouseholdAction(
        "reopen/", ReasonForm, services.household_reopen, _named(gettext_lazy("已恢复“{name}”的档案"))
    ),
    Action.PLAN: HouseholdAction("plan/", PlanForm, services.plan_set, _planned),
}


def action_url_name(action: Action) -> str:
    """The action's URL name in the "archive" namespace ("propose_out" → "propose-out")."""
    return action.value.replace("_", "-")


@login_required
@require_POST
def household_action(request: HttpRequest, pk: int, action: Action) -> HttpResponse:
    """Look the file up, read the action's form, run its service; the refusal or success as a message, then
    back where the button was pressed."""
    household = _household(request, pk)
    taken = HOUSEHOLD_ACTIONS[action]
    data: dict[str, Any] = {}
    if taken.form is not None:
        form = taken.form(request.POST)
        if not form.is_valid():
            messages.error(request, _form_errors(form))
            return _back(request, household)
        data = form.cleaned_data
    try:
        result = taken.service(user=_user(request), household=household, **data)
    except services.ArchiveError as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, taken.done(household, result))
    return _back(request, household)


# --- a file's history ------------------------------------------------------------------------------------

#: Fields whose values are personal numbers, and how each is masked.
_MASKS: dict[str, Callable[[str], str]] = {
    "head_id_number": mask_id_number,
    "id_number": mask_id_number,
    "phone": mask_phone,
    "card_number": mask_card,
}
_MEMBER_ACTIONS = {
    HouseholdEvent.Action.MEMBER_ADDED,
    HouseholdEvent.Action.MEMBER_CHANGED,
    HouseholdEvent.Action.MEMBER_REMOVED,
}


@dataclass
class HistoryChange:
    field: str
    label: str
    old: str
    new: str


@dataclass
class HistoryRow:
    event: HouseholdEvent
    who: str
    changes: list[HistoryChange]


def _field_label_and_choices(action: str, name: str) -> tuple[str, dict[str, str]]:
    if name == "reviewed_by":
        return _("审核人"), {}
    model: type[Any] = (
        Member
        if action in _MEMBER_ACTIONS
        else Plan
        if action == HouseholdEvent.Action.PLAN_CHANGED
        else Household
    )
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return name, {}
    choices = {str(value): str(label) for value, label in (field.choices or [])}
    return str(getattr(field, "verbose_name", name)), choices


def _shown(name: str, value: str, choices: dict[str, str], full: bool) -> str:
    if not value:
        return ""
    mask = _MASKS.get(name)
    if mask is not None and not full:
        return mask(value)
    return choices.get(value, value)


def _history_rows(events: Sequence[HouseholdEvent], *, full: bool) -> list[HistoryRow]:
    rows = []
    for event in events:
        changes = []
        for name in [*event.new, *(key for key in event.old if key not in event.new)]:
            label, choices = _field_label_and_choices(event.action, name)
            changes.append(
                HistoryChange(
                    name,
                    label,
                    _shown(name, str(event.old.get(name, "")), choices, full),
                    _shown(name, str(event.new.get(name, "")), choices, full),
                )
            )
        who = services.person_name(event.user) if event.user else ""
        rows.append(HistoryRow(event, who, changes))
    return rows


@login_required
@require_http_methods(["GET", "POST"])
@never_cache  # with the full numbers asked for, they are not kept in the browser's cache
def history(request: HttpRequest, pk: int) -> HttpResponse:
    """Every change of the file: who, when (Beijing time), what, old → new, the reason.

    Seen by whoever may see the file. Personal numbers are masked; a POST by someone who may see them shows
    them in full, and is logged like the file page's.
    """
    household = _household(request, pk)
    user = _user(request)
    full = request.method == "POST"
    if full:
        if not may_see_personal_data(user, household.unit):
            raise PermissionDenied
        services.personal_data_viewed(user=user, households=[household], via=PersonalDataView.Via.PAGE)
    events = list(household.events.select_related("user").order_by("-at", "-id"))
    return render(
        request,
        "archive/history.html",
        {
            "household": household,
            "rows": _history_rows(events, full=full),
            "full": full,
            "may_reveal": may_see_personal_data(user, household.unit) and not full,
        },
    )


# --- reports ---------------------------------------------------------------------------------------------


@login_required
@require_GET
def plan_gaps(request: HttpRequest) -> HttpResponse:
    gaps = selectors.plan_gaps(_user(request))
    return render(
        request,
        "archive/plan_gaps.html",
        {"gaps": list(gaps.items()), "total": sum(len(rows) for rows in gaps.values())},
    )


@login_required
@require_GET
def due_for_review(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    due = (
        selectors.due_for_yearly_review(user)
        .select_related("unit")
        .order_by("unit__path", F("last_reviewed_at").asc(nulls_first=True), "id")
    )
    page = Paginator(due, PER_PAGE).get_page(request.GET.get("page"))
    rows = [(household, page_selectors.may_review_yearly(user, household)) for household in page]
    return render(request, "archive/due.html", {"page": page, "rows": rows})


# --- import ----------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def import_start(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    posted = request.method == "POST"
    form = ImportUploadForm(request.POST if posted else None, request.FILES if posted else None, user=user)
    if posted and form.is_valid():
        upload = form.cleaned_data["file"]
        upload.seek(0)
        try:
            job = import_jobs.import_job_start(
                user=user,
                unit=form.cleaned_data["unit"],
                file_name=upload.name or "",
                stream=cast(IO[bytes], upload),
            )
        except import_jobs.ImportRefused as refusal:
            form.add_error("file", str(refusal))
        else:
            return redirect("archive:import-job", job.pk)
    return render(
        request,
        "archive/import.html",
        {"form": form, "jobs": selectors.import_jobs_of(user)[:RECENT_IMPORTS]},
        status=400 if posted else 200,
    )


@login_required
@require_GET
def import_template(request: HttpRequest) -> HttpResponse:
    """The blank register to fill for an import (headings and notes only, no personal data)."""
    if not page_selectors.may_import(_user(request)):
        raise PermissionDenied
    return attachment(exports.import_template_xlsx(), XLSX, _("困难职工档案导入模板.xlsx"))


@login_required
@require_http_methods(["GET", "POST"])
def import_job(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    job = _job(request, pk)
    here = redirect("archive:import-job", job.pk)
    if job.state != ImportJob.State.MAPPING:
        if request.method == "POST":
            try:  # the import says why it cannot start (again)
                if "retry" in request.POST:
                    import_jobs.import_job_retry(user=user, job=job)
                else:
                    mapping = job.mapping
                    import_jobs.import_job_run(user=user, job=job, mapping=mapping, use_default_unit=False)
            except (MappingError, import_jobs.ImportRefused) as refusal:
                messages.error(request, str(refusal))
            return here
        progress = import_jobs.import_progress(job)  # marks failed a job whose worker died
        return render(
            request,
            "archive/import_job.html",
            {"job": job, "progress": progress, "may_retry": import_jobs.may_retry(job)},
        )
    unit_refusal = import_jobs.default_unit_refusal(user, job.unit)
    offer_default_unit = not unit_refusal
    posted = request.POST if request.method == "POST" else None
    form = MappingForm(posted, job=job, offer_default_unit=offer_default_unit)
    if posted is not None and form.is_valid():
        try:
            import_jobs.import_job_run(
                user=user,
                job=job,
                mapping=form.mapping(),
                use_default_unit=offer_default_unit and form.default_unit_chosen(),
            )
        except MappingError as refusal:
            form.add_error(None, str(refusal))
        else:
            return here
    return render(
        request,
        "archive/import_job.html",
        {
            "job": job,
            "form": form,
            "earlier": import_jobs.earlier_imports(job),
            "unit_refusal": unit_refusal,
        },
        status=400 if posted is not None else 200,
    )


@login_required
@require_GET
@never_cache
def import_progress(request: HttpRequest, pk: int) -> JsonResponse:
    return JsonResponse(import_jobs.import_progress(_job(request, pk)))


@login_required
@require_GET
def import_rejected(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    if not job.rejected_file:
        raise Http404
    name = _("未导入的行_{name}.xlsx").format(name=Path(job.file_name).stem)
    return attachment(bytes(job.rejected_file), XLSX, name)
