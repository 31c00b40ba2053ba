"""Writes to the archive: apply for a file, review it (建档), take it out of difficulty, close it, plan it.

One household, one file: every ID number on an open file (head and members) holds a row of `OpenIdentity`,
unique across the system, inserted in the same transaction. A second unit filing the same person gets a
clear conflict naming the unit that holds the file (the ID masked) — never a silent duplicate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from songnuan.orgs.models import Unit
from songnuan.orgs.selectors import can_fill, can_review
from songnuan.registry.idnumbers import InvalidIdNumber, mask_id_number, parse_id_number
from songnuan.registry.models import Household, Member, OpenIdentity, PersonalDataView, Plan
from songnuan.registry.searchkeys import name_initials, reversed_id


class RegistryError(Exception):
    """A refused change to the archive, with a Chinese message."""


class DuplicateFile(RegistryError):
    def __init__(self, id_number: str, holder: Household) -> None:
        self.id_number = id_number
        self.holder = holder
        super().__init__(
            _("身份证号 {id} 已在“{unit}”的困难职工档案中（户主 {name}），一户只能建一份档案").format(
                id=mask_id_number(id_number), unit=holder.unit.name, name=holder.head_name
            )
        )


@dataclass
class MemberInput:
    name: str
    relation: str
    id_number: str = ""
    monthly_income: Decimal | None = None
    health: str = ""
    school_or_employer: str = ""


@dataclass
class HouseholdInput:
    head_name: str
    head_id_number: str
    category: str
    phone: str = ""
    employer: str = ""
    employer_kind: str = ""
    difficulty_type: str = ""
    main_cause: str = ""
    secondary_causes: Sequence[str] = ()
    monthly_income: Decimal | None = None
    household_size: int = 1
    minimum_living_line: Decimal | None = None
    card_kind: str = ""
    bank: str = ""
    bank_branch: str = ""
    card_number: str = ""
    members: Sequence[MemberInput] = field(default_factory=list)


def difficulty_type_problem(kind: str) -> str | None:
    """Why `kind` is not one of the configured difficulty types (blank is allowed), or None."""
    kinds = settings.SONGNUAN_DIFFICULTY_TYPES
    if not kind or kind in kinds:
        return None
    return _("困难类型应为{kinds}之一，这里是“{kind}”").format(kinds="、".join(kinds), kind=kind)


def _checked_id(text: str, who: str) -> str:
    try:
        return parse_id_number(text).number
    except InvalidIdNumber as problem:
        raise RegistryError(f"{who}：{problem}") from None


@transaction.atomic
def household_apply(*, user: User, unit: Unit, data: HouseholdInput) -> Household:
    """Open a file for a household in `unit`.

    The unit's own staff apply (状态: 已申请) and a reviewer above files it; a reviewer above who opens the
    file files it at once (建档), as an import by a reviewer does.
    """
    files_at_once = can_review(user, unit)
    if not (can_fill(user, unit) or files_at_once):
        raise PermissionDenied
    if not data.head_name.strip():
        raise RegistryError(_("户主姓名不能为空"))
    if data.category not in Household.Category.values:
        raise RegistryError(_("类别应为困难职工、困难农民工或困难劳模"))
    if len(data.secondary_causes) > 3:
        raise RegistryError(_("其他致困原因最多三项"))
    problem = difficulty_type_problem(data.difficulty_type)
    if problem:
        raise RegistryError(problem)
    head = parse_id_number(_checked_id(data.head_id_number, _("户主身份证号")))
    members = [(m, _checked_id(m.id_number, m.name) if m.id_number.strip() else "") for m in data.members]
    numbers = [head.number] + [number for _m, number in members if number]
    if len(set(numbers)) != len(numbers):
        raise RegistryError(_("同一户内身份证号重复"))
    household = Household.objects.create(
        unit=unit,
        head_name=data.head_name.strip(),
        name_initials=name_initials(data.head_name),
        head_id_number=head.number,
        id_reversed=reversed_id(head.number),
        head_sex=head.sex,
        head_birth_date=head.birth_date,
        phone=data.phone,
        employer=data.employer,
        employer_kind=data.employer_kind,
        category=data.category,
        difficulty_type=data.difficulty_type,
        main_cause=data.main_cause,
        secondary_causes=list(data.secondary_causes),
        monthly_income=data.monthly_income,
        household_size=max(data.household_size, 1 + len(members)),
        minimum_living_line=data.minimum_living_line,
        card_kind=data.card_kind,
        bank=data.bank,
        bank_branch=data.bank_branch,
        card_number=data.card_number,
        applied_by=user,
    )
    Member.objects.bulk_create(
        Member(
            household=household,
            name=m.name,
            relation=m.relation,
            id_number=number,
            monthly_income=m.monthly_income,
            health=m.health,
            school_or_employer=m.school_or_employer,
        )
        for m, number in members
    )
    _claim(household, numbers)
    Plan.objects.create(household=household)
    if files_at_once:
        household.status = Household.Status.FILED
        household.filed_at = household.last_reviewed_at = timezone.now()
        household.reviewed_by = user
        household.save(update_fields=["status", "filed_at", "last_reviewed_at", "reviewed_by"])
    return household


def _claim(household: Household, numbers: Sequence[str]) -> None:
    for number in numbers:
        try:
            with transaction.atomic():
                OpenIdentity.objects.create(id_number=number, household=household)
        except IntegrityError:
            holder = OpenIdentity.objects.select_related("household__unit").get(id_number=number).household
            raise DuplicateFile(number, holder) from None


def _locked(household: Household) -> Household:
    """The file as stored now, locked until the transaction ends (the caller's copy may be stale)."""
    return Household.objects.select_for_update().select_related("unit").get(pk=household.pk)


def _release(household: Household) -> None:
    OpenIdentity.objects.filter(household=household).delete()


@transaction.atomic
def household_file(*, user: User, household: Household) -> Household:
    """The reviewer above accepts the application: the household is on file (建档) from now on."""
    if not can_review(user, household.unit):
        raise PermissionDenied
    locked = _locked(household)
    if locked.status != Household.Status.APPLIED:
        raise RegistryError(_("只有已申请的档案可以审核建档"))
    now = timezone.now()
    locked.status = Household.Status.FILED
    locked.filed_at = locked.last_reviewed_at = now
    locked.reviewed_by = user
    locked.save()
    return locked


@transaction.atomic
def household_review_yearly(*, user: User, household: Household) -> Household:
    """The yearly review of a filed household (年审)."""
    if not can_review(user, household.unit):
        raise PermissionDenied
    household = _locked(household)
    if household.status != Household.Status.FILED:
        raise RegistryError(_("只有已建档的档案需要年审"))
    household.last_reviewed_at = timezone.now()
    household.reviewed_by = user
    household.save(update_fields=["last_reviewed_at", "reviewed_by"])
    return household


@transaction.atomic
def household_out_of_difficulty(*, user: User, household: Household, path: str, on: dt.date) -> Household:
    """The household has left difficulty by one of the four paths; the file closes and its IDs are free."""
    if not (can_fill(user, household.unit) or can_review(user, household.unit)):
        raise PermissionDenied
    if path not in Household.OutPath.values:
        raise RegistryError(_("请选择脱困路径：就业创业、纳入社会保险、大病保险和医疗互助或低保兜底"))
    household = _locked(household)
    if household.status != Household.Status.FILED:
        raise RegistryError(_("只有已建档的困难职工家庭才能登记解困脱困"))
    household.status = Household.Status.OUT
    household.out_path = path
    household.ended_on = on
    household.save()
    _release(household)
    return household


@transaction.atomic
def household_close(*, user: User, household: Household, reason: str, on: dt.date) -> Household:
    """Close a file (注销) with a reason; its ID numbers may be filed again elsewhere."""
    if not (can_fill(user, household.unit) or can_review(user, household.unit)):
        raise PermissionDenied
    if not reason.strip():
        raise RegistryError(_("注销须写明原因"))
    household = _locked(household)
    if not household.open:
        raise RegistryError(_("这份档案已经结束，不能再注销"))
    household.status = Household.Status.CLOSED
    household.closed_reason = reason.strip()
    household.ended_on = on
    household.save()
    _release(household)
    return household


@transaction.atomic
def plan_set(
    *, user: User, household: Household, contact: str, deadline: dt.date | None, measures: str, path: str
) -> Plan:
    """Write the household's 四明确 plan."""
    if not (can_fill(user, household.unit) or can_review(user, household.unit)):
        raise PermissionDenied
    if path and path not in Household.OutPath.values:
        raise RegistryError(_("脱困路径不在四种路径之中"))
    plan, _created = Plan.objects.get_or_create(household=household)
    plan.contact, plan.deadline, plan.measures, plan.path = contact.strip(), deadline, measures.strip(), path
    plan.save()
    return plan


def personal_data_viewed(*, user: User, households: Sequence[Household], via: str) -> None:
    """Log that `user` was shown the full numbers of these files (the caller checked the permission)."""
    PersonalDataView.objects.bulk_create(
        PersonalDataView(user=user, household=household, via=via) for household in households
    )
