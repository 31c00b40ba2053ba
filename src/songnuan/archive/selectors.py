"""Reads of the archive, always through the unit tree: a user sees the files its units keep."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import connection
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    F,
    Func,
    IntegerField,
    OrderBy,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from songnuan.archive.idnumbers import (
    ID_HEAD_SHOWN,
    ID_TAIL_SHOWN,
    PHONE_HEAD_SHOWN,
    InvalidIdNumber,
    normalize_id_number,
    parse_id_number,
)
from songnuan.archive.models import Household, ImportJob, Member, PersonalDataView
from songnuan.archive.searchkeys import name_initials, prefix_end
from songnuan.formkit.definitions import get_form
from songnuan.orgs import permissions
from songnuan.orgs.models import Unit
from songnuan.orgs.permissions import has_personal_data_permission, import_jobs_owner, units_visible_to

OPEN = (Household.Status.APPLIED, Household.Status.FILED)


def households_visible_to(user: User | AnonymousUser) -> QuerySet[Household]:
    return Household.objects.filter(unit__in=units_visible_to(user))


@dataclass
class HouseholdSearch:
    text: str = ""
    unit: Unit | None = None  # the unit and the units below it
    category: str = ""
    status: str = ""
    sort: str = ""  # a key of SORTS, "-" before it for descending; anything else: the default order


def _choice_rank(field: str, values: list[str]) -> Case:
    """A choice field in the order its choices are declared (已申请, 已建档, 已解困脱困, 已注销)."""
    return Case(
        *(When(**{field: value}, then=Value(rank)) for rank, value in enumerate(values)),
        default=Value(len(values)),
        output_field=IntegerField(),
    )


#: The list's sortable columns (`?sort=name`, `?sort=-filed`). Never a personal number: the order of the
#: files by a masked number would tell its hidden digits.
SORTS: dict[str, Func | F | Case] = {
    "unit": F("unit__name"),
    "name": F("head_name"),
    "category": _choice_rank("category", Household.Category.values),
    "type": F("difficulty_type"),
    "size": F("household_size"),
    "status": _choice_rank("status", Household.Status.values),
    "filed": F("filed_at"),
}


def sort_key(sort: str) -> str:
    """The sort asked for if it is one of SORTS (with its "-"), else "" (the default order, no error)."""
    return sort if sort.removeprefix("-") in SORTS else ""


def _sorted(households: QuerySet[Household], sort: str) -> QuerySet[Household]:
    key = sort_key(sort)
    if not key:
        return households
    descending = key.startswith("-")
    expression = SORTS[key.removeprefix("-")]
    # Blanks (a file not yet filed has no date) last either way; ties broken by the id: pages never overlap.
    first: OrderBy = expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
    return households.order_by(first, "-id" if descending else "id")


_ID_LIKE = re.compile(r"^\d{3,17}[\dX]?$")
_LETTERS = re.compile(r"^[a-z]+$")


def _prefix(field: str, prefix: str) -> Q:
    return Q(**{f"{field}__gte": prefix, f"{field}__lt": prefix_end(prefix)})


def search_households(user: User | AnonymousUser, search: HouseholdSearch) -> QuerySet[Household]:
    """Files matching the search, in the order asked for (`search.sort`), else as `_search` orders them."""
    return _sorted(_search(user, search), search.sort)


def partial_number_notice(user: User | AnonymousUser, text: str) -> str:
    """Why a search by part of an ID number found less than it might: without the full-number permission only
    the digits the masks show are searched by. "" when nothing was left out."""
    text = normalize_id_number(text)
    if not _ID_LIKE.match(text) or has_personal_data_permission(user):
        return ""
    if len(text) in (15, 18) or (len(text) == 11 and text.startswith("1")):
        return ""  # a whole number (or a whole phone number) is searched as it is
    if len(text) <= max(ID_HEAD_SHOWN, ID_TAIL_SHOWN):
        return ""
    return _(
        "您没有查看完整号码的权限，按身份证号的一部分查找时只用页面上显示的数字：开头{head}位（{start}）"
        "和末尾{tail}位（{end}），其余数字没有用于查找。要找某个人，请输入完整的身份证号。"
    ).format(head=ID_HEAD_SHOWN, start=text[:ID_HEAD_SHOWN], tail=ID_TAIL_SHOWN, end=text[-ID_TAIL_SHOWN:])


def _search(user: User | AnonymousUser, search: HouseholdSearch) -> QuerySet[Household]:
    """Files matching the search, newest first or in the order of the key searched by.

    The text is read as what it looks like: 18 (or 15) characters of an ID number → that person, head
    or member; other digits → the last digits of an ID number, or (starting with 1) the start of a mobile
    number; latin letters → pinyin initials (zs for 张三); Chinese → the start of the name. Digits are also
    the start of an ID number (4208 → the files whose head or a member was registered in 荆门).
    """
    text = normalize_id_number(search.text)
    households: QuerySet[Household]
    if text and connection.vendor == "sqlite":
        # The same units as households_visible_to, but the filter goes through unary plus (+unit_id), which no
        # index serves: SQLite (no statistics, as Django never runs ANALYZE) would otherwise walk the unit
        # index, i.e. the whole archive of a city, instead of the narrow range of the key searched by.
        # Not on PostgreSQL: it plans from statistics, and an expression would hide them (it then guesses
        # that few rows are visible, and sorts every match instead of reading the key's index in order).
        households = Household.objects.alias(
            visible_unit=Func(F("unit_id"), template="+%(expressions)s", output_field=BigIntegerField())
        ).filter(visible_unit__in=units_visible_to(user).values("pk"))
    else:
        households = households_visible_to(user)
    households = households.select_related("unit")
    if search.unit is not None:
        households = households.filter(unit__path__startswith=search.unit.path)
    if search.category:
        households = households.filter(category=search.category)
    if search.status:
        households = households.filter(status=search.status)
    if not text:
        return households.order_by("-id")
    if len(text) in (15, 18) and _ID_LIKE.match(text):
        try:
            number = parse_id_number(text).number
        except InvalidIdNumber:
            number = text
        # Heads and members as one UNION of two indexed lookups: PostgreSQL cannot use an index for
        # "head = … OR id IN (members)" and would read the whole table.
        heads = Household.objects.filter(head_id_number=number).values("pk")
        members = Member.objects.filter(id_number=number).values("household_id")
        return households.filter(pk__in=heads.union(members)).order_by("-id")
    if _ID_LIKE.match(text):
        return households.filter(pk__in=_partial_number(user, text)).order_by("-id")
    lowered = text.lower()
    if _LETTERS.match(lowered):
        return households.filter(_prefix("name_initials", lowered)).order_by("name_initials", "id")
    name = search.text.strip()
    if name_initials(name) == "":
        return households.none()
    return households.filter(_prefix("head_name", name)).order_by("head_name", "id")


def _partial_number(user: User | AnonymousUser, text: str) -> QuerySet[Any, Any]:
    """The files (their ids) whose head's or a member's ID number starts with the digits, whose head's ends
    with them, or whose phone starts with them; one UNION of indexed ranges (see the full-number case).

    Without the full numbers, part of a number is matched only on what the masks show (an ID number's first
    and last four, a phone number's first three), or a phone number as a whole: the hidden digits, tried one
    at a time ("01634", "11634", …, or "42080", "42081", …), would give a masked number back in about 50
    searches.
    """
    full = has_personal_data_permission(user)
    if not full and len(text) == 11 and text.startswith("1"):
        return Household.objects.filter(phone=text).values("pk")
    start = text if full else text[:ID_HEAD_SHOWN]
    end = text if full else text[-ID_TAIL_SHOWN:]
    parts = [
        Household.objects.filter(_prefix("head_id_number", start)).values("pk"),
        Member.objects.filter(_prefix("id_number", start)).values("household_id"),
        Household.objects.filter(_prefix("id_reversed", end[::-1])).values("pk"),
    ]
    phone_start = text if full else text[:PHONE_HEAD_SHOWN] if len(text) == PHONE_HEAD_SHOWN else ""
    if text.startswith("1") and len(phone_start) >= PHONE_HEAD_SHOWN:
        parts.append(Household.objects.filter(_prefix("phone", phone_start)).values("pk"))
    return parts[0].union(*parts[1:])


def members_by_household(household_ids: list[int]) -> dict[int, list[Member]]:
    """The members of these files (already found through the unit tree), by file, in registration order."""
    found: dict[int, list[Member]] = {}
    for member in Member.objects.filter(household_id__in=household_ids).order_by("household_id", "id"):
        found.setdefault(member.household_id, []).append(member)
    return found


def personal_data_views(user: User | AnonymousUser, household: Household) -> QuerySet[PersonalDataView]:
    """Who saw this file's full numbers (shown to those who may see them themselves)."""
    if not permissions.may_see_personal_data(user, household.unit):
        return PersonalDataView.objects.none()
    return household.personal_data_views.select_related("user").order_by("-at")


def import_jobs_of(user: User | AnonymousUser) -> QuerySet[ImportJob]:
    """The import jobs the user may see: its own (`permissions.may_use_import_job`), newest first."""
    owner = import_jobs_owner(user)
    if owner is None:
        return ImportJob.objects.none()
    return ImportJob.objects.filter(user_id=owner).select_related("unit").order_by("-started_at")


@dataclass
class PlanGap:
    household: Household
    missing: list[str]


def plan_gaps(user: User | AnonymousUser) -> dict[Unit, list[PlanGap]]:
    """Filed households whose 四明确 plan lacks a contact, a deadline, measures or a path, by unit."""
    gaps: dict[Unit, list[PlanGap]] = {}
    filed = (
        households_visible_to(user)
        .filter(status=Household.Status.FILED)
        .select_related("unit", "plan")
        .order_by("unit__path", "head_name")
    )
    for household in filed:
        missing = household.plan.missing()
        if missing:
            gaps.setdefault(household.unit, []).append(PlanGap(household, missing))
    return gaps


def due_for_yearly_review(user: User | AnonymousUser, today: dt.date | None = None) -> QuerySet[Household]:
    """Filed households not reviewed for more than a year (年审到期)."""
    today = today or timezone.localdate()
    limit = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=365), dt.time.min))
    return (
        households_visible_to(user)
        .filter(status=Household.Status.FILED)
        .filter(Q(last_reviewed_at__lt=limit) | Q(last_reviewed_at=None))
    )


def archive_hints(form_code: str, unit: Unit) -> dict[str, str]:
    """The filed households beside the items that count them (`archive_category` in the form file, 附件1
    2C–2F): a hint for the count of households visited."""
    try:
        categories = {i.code: i.archive_category for i in get_form(form_code).items if i.archive_category}
    except KeyError:
        return {}
    if not categories:
        return {}
    counts = filed_counts(unit)
    return {
        code: _("档案在册 {n} 户").format(n=counts.total() if category == "all" else counts[category])
        for code, category in categories.items()
    }


def filed_counts(unit: Unit) -> Counter[str]:
    """Filed households by category that `unit` and the units below it keep (hints beside 附件1 2C–2F)."""
    counts = (
        Household.objects.filter(unit__path__startswith=unit.path, status=Household.Status.FILED)
        .values_list("category")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return Counter(dict(counts))
