"""Thin JSON views: parse the request, ask `songnuan.orgs.selectors` who may, call one service or selector.

Every answer is JSON, errors included: 401 `{"message": "请先登录"}` when not logged in (never a redirect),
403 when not allowed (and when the CSRF check fails on a write), 404 for an unknown campaign, unit or form
(and for a household's file the user may not see: its existence is not told), 400 for a refused action, a bad
body or a bad query parameter, 409 when someone saved the table since (nothing is overwritten).
ID, phone and card numbers of the archive are masked unless asked for with the permission; each such view is
logged (`songnuan.registry.services.personal_data_viewed`).
Session authentication; writes need the CSRF token in the `X-CSRFToken` header.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, NoReturn

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import TextChoices
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse, QueryDict
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from songnuan.api import openapi, serializers
from songnuan.api.serializers import BodyError, Json
from songnuan.campaigns.models import Campaign

# The pages' own reading of which campaigns concern a user and which units a campaign concerns (no selector
# offers these yet): one definition, so that the API and the pages cannot drift apart.
from songnuan.campaigns.selectors import campaigns_visible_to, unit_takes_part, units_taking_part
from songnuan.formkit.definitions import Form, builtin_forms, get_form
from songnuan.formkit.engine import CheckResult, Value, compiled
from songnuan.orgs.models import Unit
from songnuan.orgs.permissions import (
    account_of,
    can_fill,
    can_review,
    can_see_rollup,
    unit_visible,
    units_visible_to,
)
from songnuan.registry.models import Household, PersonalDataView
from songnuan.registry.selectors import (
    HouseholdSearch,
    households_visible_to,
    may_see_personal_data,
    search_households,
)
from songnuan.registry.services import personal_data_viewed
from songnuan.reporting import services
from songnuan.reporting.models import Submission
from songnuan.reporting.progress import campaign_progress, submission_values
from songnuan.reporting.rollup import rollup

View = Callable[..., HttpResponse]
SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")
PAGE_SIZE = 50  # files per page of /households, unless page_size asks for another number …
MAX_PAGE_SIZE = 200  # … up to this
SEARCH_TEXT_LENGTH = 50  # as the archive page's search field


class ApiError(Exception):
    """Answered as `{"message": …}` with the status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def answer(data: Json | list[Json], status: int = 200) -> JsonResponse:
    # The plain encoder: a Decimal or float that slipped past the serializers fails loudly, never as a float.
    return JsonResponse(
        data, status=status, safe=False, encoder=json.JSONEncoder, json_dumps_params={"ensure_ascii": False}
    )


def error(status: int, message: str, **extra: Any) -> JsonResponse:
    return answer({"message": message, **extra}, status=status)


class _CsrfCheck(CsrfViewMiddleware):
    """Django's own CSRF check, run by the API view so that a refusal is answered in JSON."""

    reason = ""

    def _reject(self, request: HttpRequest, reason: str) -> HttpResponseForbidden:
        self.reason = reason
        return HttpResponseForbidden()


def _csrf_refusal(request: HttpRequest, view: View) -> str | None:
    check = _CsrfCheck(lambda request: HttpResponse())
    check.process_request(request)
    return None if check.process_view(request, view, (), {}) is None else check.reason


def endpoint(*methods: str, login: bool = True) -> Callable[[View], View]:
    """An API view: only `methods` (else 405), a logged-in user (else 401), the CSRF token on writes (else
    403), and the errors of the services answered in JSON."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                response = error(
                    405, _("该接口不支持 {method} 请求").format(method=request.method), allowed=list(methods)
                )
                response["Allow"] = ", ".join(methods)
                return response
            if login and not request.user.is_authenticated:
                return error(401, _("请先登录"))
            if request.method not in SAFE_METHODS:
                reason = _csrf_refusal(request, view)
                if reason is not None:
                    return error(
                        403,
                        _("CSRF 校验失败：写操作须在 X-CSRFToken 请求头中带上 csrftoken Cookie 的值"),
                        reason=reason,
                    )
            try:
                return view(request, *args, **kwargs)
            except ApiError as problem:
                return error(problem.status, problem.message)
            except PermissionDenied:
                return error(403, _("您没有权限进行这项操作"))
            except services.EditConflict as conflict:
                return error(
                    409,
                    str(conflict),
                    version=conflict.submission.version,
                    theirs=serializers.values_json(conflict.theirs),
                    yours=serializers.raw_values_json(conflict.yours),
                )
            except (services.ReportingError, BodyError) as problem:
                return error(400, str(problem))

        return csrf_exempt(wrapper)  # checked above, so that the refusal is JSON too

    return decorate


# --- what a request names --------------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    if not isinstance(request.user, User):
        raise ApiError(401, _("请先登录"))
    return request.user


def _campaign(user: User, campaign_id: int) -> Campaign:
    campaign = Campaign.objects.select_related("owner").filter(pk=campaign_id).first()
    if campaign is None:
        raise ApiError(404, _("没有这个活动"))
    if not campaigns_visible_to(user).filter(pk=campaign.pk).exists():
        raise ApiError(403, _("您无权查看这个活动"))
    return campaign


def _form(campaign: Campaign, form_code: str) -> Form:
    if form_code not in campaign.form_codes:
        raise ApiError(404, _("本次活动没有这张表：{code}").format(code=form_code))
    try:
        return get_form(form_code)
    except KeyError:
        raise ApiError(404, _("没有这张表：{code}").format(code=form_code)) from None


def _unit(user: User, unit_id: int) -> Unit:
    unit = Unit.objects.filter(pk=unit_id).first()
    if unit is None:
        raise ApiError(404, _("没有这个单位"))
    if not unit_visible(user, unit):
        raise ApiError(403, _("您无权查看这个单位"))
    return unit


def _taking_part(campaign: Campaign, unit: Unit) -> Unit:
    if not unit_takes_part(campaign, unit):
        raise ApiError(404, _("本次活动不涉及这个单位"))
    return unit


def _target(
    request: HttpRequest, campaign_id: int, unit_id: int, form_code: str
) -> tuple[User, Campaign, Unit, Form]:
    user = _user(request)
    campaign = _campaign(user, campaign_id)
    form = _form(campaign, form_code)
    return user, campaign, _taking_part(campaign, _unit(user, unit_id)), form


def _submission(campaign: Campaign, unit: Unit, form: Form) -> Submission | None:
    return (
        Submission.objects.select_related("unit", "campaign")
        .filter(campaign=campaign, unit=unit, form_code=form.code)
        .first()
    )


def _existing(campaign: Campaign, unit: Unit, form: Form) -> Submission:
    submission = _submission(campaign, unit, form)
    if submission is None:
        raise ApiError(400, _("这张表还没有开始填报"))
    return submission


def _body(request: HttpRequest) -> Json:
    return serializers.parse_body(request.body)


def _table(
    user: User,
    unit: Unit,
    form: Form,
    submission: Submission | None,
    values: dict[str, Value] | None = None,
    check: CheckResult | None = None,
) -> JsonResponse:
    if values is None:
        values = submission_values(submission) if submission else dict.fromkeys(form.codes)
    if check is None:
        check = compiled(form).validate(values)
    return answer(
        serializers.submission_json(
            form=form,
            unit=unit,
            submission=submission,
            values=values,
            check=check,
            can_fill=can_fill(user, unit),
            can_review=can_review(user, unit),
        )
    )


def _forbid() -> NoReturn:
    raise PermissionDenied


# --- the endpoints ---------------------------------------------------------------------------------------


@endpoint("GET", login=False)
def index(request: HttpRequest) -> HttpResponse:
    return answer(
        {
            "title": _("送温暖 数据接口"),
            "links": {
                "me": reverse("api:me"),
                "campaigns": reverse("api:campaigns"),
                "households": reverse("api:households"),
                "openapi": reverse("api:openapi"),
                "docs": reverse("api:docs"),
            },
        }
    )


@endpoint("GET", login=False)
def openapi_document(request: HttpRequest) -> HttpResponse:
    return answer(openapi.document())


@endpoint("GET", login=False)
def docs(request: HttpRequest) -> HttpResponse:
    return render(request, "api/docs.html", {"spec": openapi.readable(openapi.document())})


@endpoint("GET")
def me(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    # get_token also sets the csrftoken cookie, which writes send back in the X-CSRFToken header.
    return answer({**serializers.me_json(user, account_of(user)), "csrf_token": get_token(request)})


@endpoint("GET")
def campaign_list(request: HttpRequest) -> HttpResponse:
    campaigns = campaigns_visible_to(_user(request)).select_related("owner")
    return answer({"campaigns": [serializers.campaign_json(campaign) for campaign in campaigns]})


@endpoint("GET")
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign(_user(request), campaign_id)
    return answer(serializers.campaign_json(campaign, builtin_forms()))


@endpoint("GET")
def campaign_units(request: HttpRequest, campaign_id: int) -> HttpResponse:
    user = _user(request)
    campaign = _campaign(user, campaign_id)
    progress = campaign_progress(campaign, units_taking_part(campaign, units_visible_to(user)))
    return answer(
        {
            "campaign_id": campaign.pk,
            "form_codes": list(campaign.form_codes),
            "units": [
                {
                    **serializers.unit_json(row.unit),
                    "state": row.state,
                    "late": row.late,
                    "forms": {code: serializers.status_json(s) for code, s in row.submissions.items()},
                    "permissions": {"fill": can_fill(user, row.unit), "review": can_review(user, row.unit)},
                }
                for row in progress
            ],
        }
    )


@endpoint("GET", "PUT")
def form_table(request: HttpRequest, campaign_id: int, unit_id: int, form_code: str) -> HttpResponse:
    user, campaign, unit, form = _target(request, campaign_id, unit_id, form_code)
    if request.method == "GET":
        return _table(user, unit, form, _submission(campaign, unit, form))
    if not can_fill(user, unit):
        _forbid()
    data = _body(request)
    version = serializers.version_field(data)
    values = serializers.values_from_body(form, data.get("values", {}))
    explanations = serializers.text_mapping(data.get("explanations", {}), "explanations")
    header = serializers.text_mapping(data.get("header", {}), "header", ("reporter", "phone", "report_date"))
    with transaction.atomic():  # a refused save does not leave a new empty draft behind
        submission = services.submission_open(campaign=campaign, unit=unit, form_code=form.code, user=user)
        saved = services.submission_save(
            submission=submission,
            user=user,
            version=version,
            values=values,
            explanations={rule: text or "" for rule, text in explanations.items()},
            header=header,
        )
    return _table(user, unit, form, saved.submission, saved.values, saved.check)


@endpoint("POST")
def form_submit(request: HttpRequest, campaign_id: int, unit_id: int, form_code: str) -> HttpResponse:
    user, campaign, unit, form = _target(request, campaign_id, unit_id, form_code)
    if not can_fill(user, unit):
        _forbid()
    with transaction.atomic():
        submission = services.submission_open(campaign=campaign, unit=unit, form_code=form.code, user=user)
        submission = services.submission_submit(submission=submission, user=user)
    return _table(user, unit, form, submission)


@endpoint("POST")
def form_return(request: HttpRequest, campaign_id: int, unit_id: int, form_code: str) -> HttpResponse:
    user, campaign, unit, form = _target(request, campaign_id, unit_id, form_code)
    if not can_review(user, unit):
        _forbid()
    comment = serializers.text_field(_body(request), "comment", required=True)
    submission = services.submission_return(
        submission=_existing(campaign, unit, form), user=user, comment=comment
    )
    return _table(user, unit, form, submission)


@endpoint("POST")
def form_accept(request: HttpRequest, campaign_id: int, unit_id: int, form_code: str) -> HttpResponse:
    user, campaign, unit, form = _target(request, campaign_id, unit_id, form_code)
    if not can_review(user, unit):
        _forbid()
    comment = serializers.text_field(_body(request), "comment")
    submission = services.submission_accept(
        submission=_existing(campaign, unit, form), user=user, comment=comment
    )
    return _table(user, unit, form, submission)


@endpoint("POST")
def form_unlock(request: HttpRequest, campaign_id: int, unit_id: int, form_code: str) -> HttpResponse:
    user, campaign, unit, form = _target(request, campaign_id, unit_id, form_code)
    if not can_review(user, unit):
        _forbid()
    reason = serializers.text_field(_body(request), "reason", required=True)
    submission = services.submission_unlock(
        submission=_existing(campaign, unit, form), user=user, reason=reason
    )
    return _table(user, unit, form, submission)


@endpoint("GET")
def form_rollup(request: HttpRequest, campaign_id: int, unit_id: int, form_code: str) -> HttpResponse:
    viewer, campaign, unit, form = _target(request, campaign_id, unit_id, form_code)
    if not can_see_rollup(viewer, unit):  # as the roll-up page: it names and sums the units below
        raise ApiError(403, _("汇总只有本单位或上级单位的审核员、管理员可以查看"))
    accepted = Submission.objects.filter(
        campaign=campaign,
        form_code=form.code,
        status=Submission.Status.ACCEPTED,
        unit__path__startswith=unit.path,
    ).count()
    return answer(
        {
            "campaign_id": campaign.pk,
            "form": {"code": form.code, "attachment": form.attachment, "title": form.title},
            "unit": serializers.unit_json(unit),
            "accepted_units": accepted,
            "values": serializers.values_json(rollup(campaign, form.code, unit)),
        }
    )


# --- the needy-worker archive (困难职工档案), read only ---------------------------------------------------


def _digits(text: str) -> bool:
    """ASCII digits, short enough to be a 64-bit integer (Python refuses to read very long ones at all)."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def _text_query(query: QueryDict, name: str, longest: int) -> str:
    text = query.get(name, "").strip()
    if len(text) > longest:
        raise ApiError(400, _("参数 {name} 最多 {n} 个字").format(name=name, n=longest))
    return text


def _number_query(query: QueryDict, name: str, default: int, *, largest: int | None = None) -> int:
    """A whole number ≥ 1 (`default` when absent or empty), at most `largest`."""
    text = query.get(name, "").strip()
    if not text:
        return default
    if not _digits(text) or int(text) < 1:
        raise ApiError(400, _("参数 {name} 应为正整数，这里是“{value}”").format(name=name, value=text))
    number = int(text)
    if largest is not None and number > largest:
        raise ApiError(400, _("参数 {name} 最大为 {n}").format(name=name, n=largest))
    return number


def _choice_query(query: QueryDict, name: str, choices: type[TextChoices]) -> str:
    """One of the choices' codes, or "" (no filter) when absent or empty."""
    value = query.get(name, "").strip()
    if value and value not in choices.values:
        allowed = "、".join(f"{code}（{label}）" for code, label in choices.choices)
        raise ApiError(
            400,
            _("参数 {name} 没有“{value}”这个值；可用的值：{allowed}").format(
                name=name, value=value, allowed=allowed
            ),
        )
    return value


def _unit_query(user: User, query: QueryDict) -> Unit | None:
    """The unit to search in (it and the units below): unknown → 404, not visible → 403, as everywhere."""
    text = query.get("unit", "").strip()
    if not text:
        return None
    if not _digits(text):
        raise ApiError(400, _("参数 unit 应为单位编号（整数），这里是“{value}”").format(value=text))
    return _unit(user, int(text))


def _flag_query(query: QueryDict, name: str) -> bool:
    value = query.get(name, "").strip()
    if value not in ("", "0", "1"):
        raise ApiError(400, _("参数 {name} 只能是 1 或 0，这里是“{value}”").format(name=name, value=value))
    return value == "1"


def _page_url(request: HttpRequest, number: int) -> str:
    query = request.GET.copy()
    query["page"] = str(number)
    return f"{request.path}?{query.urlencode()}"


@endpoint("GET")
def household_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    query = request.GET
    search = HouseholdSearch(
        text=_text_query(query, "q", SEARCH_TEXT_LENGTH),
        category=_choice_query(query, "category", Household.Category),
        status=_choice_query(query, "status", Household.Status),
    )
    page_size = _number_query(query, "page_size", PAGE_SIZE, largest=MAX_PAGE_SIZE)
    number = _number_query(query, "page", 1)
    search.unit = _unit_query(user, query)
    paginator = Paginator(search_households(user, search).select_related("plan"), page_size)
    if number > paginator.num_pages:
        raise ApiError(
            404, _("没有第 {page} 页：共 {pages} 页").format(page=number, pages=paginator.num_pages)
        )
    page = paginator.page(number)
    return answer(
        {
            "count": paginator.count,
            "next": _page_url(request, number + 1) if page.has_next() else None,
            "previous": _page_url(request, number - 1) if page.has_previous() else None,
            "results": [serializers.household_summary_json(household) for household in page.object_list],
        }
    )


@endpoint("GET")
def household_detail(request: HttpRequest, household_id: int) -> HttpResponse:
    user = _user(request)
    full = _flag_query(request.GET, "full")
    # Not there and not visible are the same answer: the API does not tell that a file exists.
    household = households_visible_to(user).select_related("unit", "plan").filter(pk=household_id).first()
    if household is None:
        raise ApiError(404, _("没有这份档案"))
    may_view_full = may_see_personal_data(user, household)
    if full and not may_view_full:
        raise ApiError(403, _("您无权查看完整的身份证号、手机号和卡号"))
    data = serializers.household_json(
        household, household.members.order_by("id"), full_numbers=full, may_view_full=may_view_full
    )
    if not full:
        return answer(data)
    personal_data_viewed(user=user, households=[household], via=PersonalDataView.Via.API)
    response = answer(data)
    add_never_cache_headers(response)  # the full numbers are not kept in any cache
    return response


@csrf_exempt  # writes nothing: an unknown URL is a 404 whatever the method
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    return error(404, _("没有这个接口"), docs=reverse("api:docs"))
