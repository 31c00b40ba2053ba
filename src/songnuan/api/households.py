"""/api/households: the needy-worker archive (困难职工档案), read only, with the pages' permissions.

ID, phone and card numbers are masked unless asked for (`full=1`) with the right to see them; each such view
is logged (`songnuan.archive.services.personal_data_viewed`). A file the user may not see answers as one that
does not exist (404): the API does not tell that it exists.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.db.models import TextChoices
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.params.functions import Path
from pydantic import field_validator

from songnuan.api.campaigns import user_of, visible_unit
from songnuan.api.errors import ApiError
from songnuan.api.schemas import (
    MAX_ID,
    Household,
    HouseholdList,
    HouseholdPermissions,
    HouseholdSummary,
    MemberOut,
    Message,
    NamedRef,
    PlanOut,
    cell_value,
    local_time,
)
from songnuan.archive import models
from songnuan.archive.idnumbers import mask_card, mask_id_number, mask_phone, shown_birth_year
from songnuan.archive.selectors import HouseholdSearch, households_visible_to, search_households
from songnuan.archive.services import personal_data_viewed
from songnuan.orgs.permissions import may_see_personal_data

router = Router(tags=["困难职工档案"])
HouseholdId: Any = Path(..., ge=1, le=MAX_ID, description="档案编号")

PAGE_SIZE = 50  # files per page, unless page_size asks for another number …
MAX_PAGE_SIZE = 200  # … up to this
SEARCH_TEXT_LENGTH = 50  # as the archive page's search field


def _choice(name: str, value: object, choices: type[TextChoices]) -> object:
    if value in (None, ""):
        return None
    if value not in choices.values:
        allowed = "、".join(f"{code}（{label}）" for code, label in choices.choices)
        raise ValueError(
            _("参数 {name} 没有“{value}”这个值；可用的值：{allowed}").format(
                name=name, value=value, allowed=allowed
            )
        )
    return value


def _blank_is_absent(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


class HouseholdFilter(Schema):
    q: str = Field("", max_length=SEARCH_TEXT_LENGTH, description="姓名、拼音首字母、身份证号或手机号的开头")
    category: str | None = Field(
        None, description="类别", json_schema_extra={"enum": list(models.Household.Category.values)}
    )
    status: str | None = Field(
        None, description="状态", json_schema_extra={"enum": list(models.Household.Status.values)}
    )
    unit: int | None = Field(None, ge=1, le=MAX_ID, description="只看这个单位及其下级单位的档案")
    page: int = Field(1, ge=1, le=MAX_ID, description="第几页")
    page_size: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="每页几份")

    @field_validator("q", mode="before")
    @classmethod
    def _text(cls, value: object) -> object:
        if isinstance(value, str) and any(ord(c) < 32 for c in value):
            # PostgreSQL's text cannot hold NUL: refused here, not a 500 there.
            raise ValueError(_("参数 q 中有不可见的控制字符"))
        return value.strip() if isinstance(value, str) else value

    @field_validator("category", mode="before")
    @classmethod
    def _category(cls, value: object) -> object:
        return _choice("category", _blank_is_absent(value), models.Household.Category)

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, value: object) -> object:
        return _choice("status", _blank_is_absent(value), models.Household.Status)

    @field_validator("unit", "page", "page_size", mode="before")
    @classmethod
    def _number(cls, value: object, info: Any) -> object:
        value = _blank_is_absent(value)
        if value is None:
            return cls.model_fields[info.field_name].default
        text = str(value).strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 19):
            raise ValueError(
                _("参数 {name} 应为正整数，这里是“{value}”").format(name=info.field_name, value=text[:30])
            )
        return int(text)


class DetailQuery(Schema):
    full: str = Field("", description="1：显示完整的身份证号、手机号和卡号（须有权限，并留下查看记录）")

    @field_validator("full", mode="before")
    @classmethod
    def _flag(cls, value: object) -> object:
        text = str(value or "").strip()
        if text not in ("", "0", "1"):
            raise ValueError(_("参数 full 只能是 1 或 0，这里是“{value}”").format(value=text[:30]))
        return text


def _plan_of(household: models.Household) -> models.Plan | None:
    try:
        return household.plan
    except models.Plan.DoesNotExist:  # every file gets one when it is opened; an absent plan lacks everything
        return None


def _plan_missing(plan: models.Plan | None) -> list[str]:
    return [str(part) for part in (models.Plan() if plan is None else plan).missing()]


def household_summary(household: models.Household, *, full_numbers: bool = False) -> HouseholdSummary:
    return HouseholdSummary(
        id=household.pk,
        unit=NamedRef(id=household.unit_id, name=household.unit.name),
        head_name=household.head_name,
        head_id_number=household.head_id_number if full_numbers else mask_id_number(household.head_id_number),
        head_sex=household.head_sex,
        head_birth_year=shown_birth_year(household.head_birth_date),
        head_birth_date=household.head_birth_date if full_numbers else None,
        phone=household.phone if full_numbers else mask_phone(household.phone),
        category=household.category,
        category_label=household.get_category_display(),
        difficulty_type=household.difficulty_type,
        status=household.status,
        status_label=household.get_status_display(),
        household_size=household.household_size,
        monthly_income=_money(household.monthly_income),
        income_per_person=_money(household.income_per_person),
        filed_at=local_time(household.filed_at),
        last_reviewed_at=local_time(household.last_reviewed_at),
        plan_missing=_plan_missing(_plan_of(household)),
    )


def _money(amount: Any) -> str | None:
    value = cell_value(amount)
    return None if value is None else str(value)


def _page_url(request: HttpRequest, number: int) -> str:
    query = request.GET.copy()
    query["page"] = str(number)
    return f"{request.path}?{query.urlencode()}"


@router.get(
    "/households",
    response={200: HouseholdList, 400: Message, 401: Message, 403: Message, 404: Message},
    url_name="households",
    summary="档案列表（号码打码）",
)
def household_list(request: HttpRequest, filters: Query[HouseholdFilter]) -> HouseholdList:
    user = user_of(request)
    search = HouseholdSearch(text=filters.q, category=filters.category or "", status=filters.status or "")
    search.unit = visible_unit(user, filters.unit) if filters.unit is not None else None
    paginator = Paginator(search_households(user, search).select_related("plan"), filters.page_size)
    number = filters.page
    if number > paginator.num_pages:
        raise ApiError(
            404, _("没有第 {page} 页：共 {pages} 页").format(page=number, pages=paginator.num_pages)
        )
    page = paginator.page(number)
    return HouseholdList(
        count=paginator.count,
        next=_page_url(request, number + 1) if page.has_next() else None,
        previous=_page_url(request, number - 1) if page.has_previous() else None,
        results=[household_summary(household) for household in page.object_list],
    )


@router.get(
    "/households/{household_id}",
    response={200: Household, 400: Message, 401: Message, 403: Message, 404: Message},
    url_name="household",
    summary="一份档案（full=1 显示完整号码）",
)
def household_detail(
    request: HttpRequest,
    response: HttpResponse,
    query: Query[DetailQuery],
    household_id: int = HouseholdId,
) -> Household:
    user = user_of(request)
    full = query.full == "1"
    # Not there and not visible are the same answer: the API does not tell that a file exists.
    household = households_visible_to(user).select_related("unit", "plan").filter(pk=household_id).first()
    if household is None:
        raise ApiError(404, _("没有这份档案"))
    may_view_full = may_see_personal_data(user, household.unit)
    if full and not may_view_full:
        raise ApiError(403, _("您无权查看完整的身份证号、手机号和卡号"))
    plan = _plan_of(household)
    data = Household(
        **household_summary(household, full_numbers=full).model_dump(),
        full_numbers=full,
        employer=household.employer,
        employer_kind=household.employer_kind,
        main_cause=household.main_cause,
        secondary_causes=list(household.secondary_causes),
        minimum_living_line=_money(household.minimum_living_line),
        card_kind=household.card_kind,
        card_kind_label=household.get_card_kind_display() if household.card_kind else "",
        bank=household.bank,
        bank_branch=household.bank_branch,
        card_number=household.card_number if full else mask_card(household.card_number),
        applied_at=local_time(household.applied_at),
        out_path=household.out_path,
        out_path_label=household.get_out_path_display() if household.out_path else "",
        ended_on=household.ended_on,
        closed_reason=household.closed_reason,
        members=[
            MemberOut(
                id=member.pk,
                name=member.name,
                relation=member.relation,
                id_number=member.id_number if full else mask_id_number(member.id_number),
                monthly_income=_money(member.monthly_income),
                health=member.health,
                school_or_employer=member.school_or_employer,
            )
            for member in household.members.order_by("id")
        ],
        plan=PlanOut(
            contact=plan.contact if plan else "",
            deadline=plan.deadline if plan else None,
            measures=plan.measures if plan else "",
            path=plan.path if plan else "",
            path_label=plan.get_path_display() if plan and plan.path else "",
            missing=_plan_missing(plan),
        ),
        permissions=HouseholdPermissions(view_personal_data=may_view_full),
    )
    if not full:
        return data
    personal_data_viewed(user=user, households=[household], via=models.PersonalDataView.Via.API)
    add_never_cache_headers(response)  # the full numbers are not kept in any cache
    return data
