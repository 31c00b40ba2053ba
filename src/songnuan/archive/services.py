"""Writes to the archive: apply for a file, review it (建档), take it out of difficulty, close it, plan it.

One household, one file: every ID number on an open file (head and members) holds a row of `OpenIdentity`,
unique across the system, inserted in the same transaction. A second unit filing the same person gets a
clear conflict naming the unit that holds the file (the ID masked) — never a silent duplicate.

Every change writes a `HouseholdEvent` in its own transaction: who, when, the fields before and after.
What may happen in which state is the table in `transitions`, which the pages ask as well; who may is asked
of `songnuan.orgs.permissions` (`may_open_file`, `may_decide_file`, `may_propose_file`, …): the unit's own
staff keep the file and its plan and may only *propose* to take it out of difficulty or to close it; a
reviewer above the unit (the one who files it) decides: files, reviews yearly, approves or rejects a
proposal, takes it out of difficulty or closes it directly, and reopens a file ended by mistake.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from songnuan.archive.idnumbers import InvalidIdNumber, mask_id_number, parse_id_number
from songnuan.archive.models import (
    Household,
    HouseholdEvent,
    Member,
    OpenIdentity,
    PersonalDataView,
    Plan,
    Proposal,
)
from songnuan.archive.searchkeys import name_initials, reversed_id
from songnuan.archive.transitions import (
    Action,
    check_permission,
    may_act,
    proposed,
    state_refusal,
)
from songnuan.orgs.models import Unit
from songnuan.orgs.permissions import may_decide_file, may_open_file, may_propose_file, unit_visible


class ArchiveError(Exception):
    """A refused change to the archive, with a Chinese message."""


class DuplicateFile(ArchiveError):
    """`id_number` is on `holder`'s open file. The message (`duplicate_message`) names the holder's unit and
    head only to a user who may see that file; the page shows it beside the field holding the number."""

    def __init__(self, id_number: str, holder: Household, message: str) -> None:
        self.id_number = id_number
        self.holder = holder
        super().__init__(message)


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
        raise ArchiveError(f"{who}：{problem}") from None


# --- who may do what (the rules and the states are in `transitions`) -------------------------------------


def _check_state(action: Action, household: Household) -> None:
    refusal = state_refusal(action, household)
    if refusal is not None:
        raise ArchiveError(refusal)


def _decider_only(action: Action, user: User, household: Household, refusal: str) -> None:
    """Let a reviewer above through; the unit's own staff get `refusal` (they may propose); others a 403."""
    if may_act(action, user, household):
        return
    if may_propose_file(user, household.unit):
        raise ArchiveError(refusal)
    raise PermissionDenied


# --- the audit trail -------------------------------------------------------------------------------------

APPLICATION_FIELDS = (
    "unit",
    "head_name",
    "head_id_number",
    "category",
    "phone",
    "employer",
    "employer_kind",
    "difficulty_type",
    "main_cause",
    "secondary_causes",
    "monthly_income",
    "household_size",
    "minimum_living_line",
    "card_kind",
    "bank",
    "bank_branch",
    "card_number",
    "status",
)
LIFECYCLE_FIELDS = (
    "status",
    "filed_at",
    "last_reviewed_at",
    "reviewed_by",
    "out_path",
    "ended_on",
    "closed_reason",
)
MEMBER_FIELDS = ("name", "relation", "id_number", "monthly_income", "health", "school_or_employer")
PLAN_FIELDS = ("contact", "deadline", "measures", "path")


def person_name(user: User) -> str:
    return user.get_full_name() or user.get_username()


def as_text(value: Any) -> str:
    """A field's value as the audit trail keeps it: text, blank for nothing."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, User):
        return person_name(value)
    if isinstance(value, Unit):
        return value.name
    if isinstance(value, list | tuple):
        return "、".join(str(part) for part in value)
    return str(value)


def _snapshot(instance: models.Model, names: Iterable[str]) -> dict[str, str]:
    return {name: as_text(getattr(instance, name)) for name in names}


def _filled(values: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in values.items() if value}


def _changes(
    before: dict[str, str], after: dict[str, str], always: Iterable[str] = ()
) -> tuple[dict[str, str], dict[str, str]]:
    """The fields that differ, and those in `always` (set by the action even if the text is the same): (old,
    new)."""
    changed = [name for name in after if before.get(name, "") != after[name] or name in always]
    return {name: before.get(name, "") for name in changed}, {name: after[name] for name in changed}


def _record(
    household: Household,
    user: User,
    action: str,
    *,
    old: dict[str, str] | None = None,
    new: dict[str, str] | None = None,
    note: str = "",
) -> HouseholdEvent:
    return HouseholdEvent.objects.create(
        household=household, user=user, action=action, old=old or {}, new=new or {}, note=note
    )


def _record_lifecycle(
    household: Household,
    user: User,
    action: str,
    before: dict[str, str],
    note: str = "",
    always: Iterable[str] = (),
) -> HouseholdEvent:
    old, new = _changes(before, _snapshot(household, LIFECYCLE_FIELDS), always)
    return _record(household, user, action, old=old, new=new, note=note)


# --- a new file ------------------------------------------------------------------------------------------


@transaction.atomic
def household_apply(*, user: User, unit: Unit, data: HouseholdInput) -> Household:
    """Open a file for a household in `unit`.

    The unit's own staff apply (状态: 已申请) and a reviewer above files it; a reviewer above who opens the
    file files it at once (建档), as an import by a reviewer does.
    """
    if not may_open_file(user, unit):
        raise PermissionDenied
    files_at_once = may_decide_file(user, unit)
    if not data.head_name.strip():
        raise ArchiveError(_("户主姓名不能为空"))
    if data.category not in Household.Category.values:
        raise ArchiveError(_("类别应为困难职工、困难农民工或困难劳模"))
    if len(data.secondary_causes) > 3:
        raise ArchiveError(_("其他致困原因最多三项"))
    problem = difficulty_type_problem(data.difficulty_type)
    if problem:
        raise ArchiveError(problem)
    head = parse_id_number(_checked_id(data.head_id_number, _("户主身份证号")))
    members = [(m, _checked_id(m.id_number, m.name) if m.id_number.strip() else "") for m in data.members]
    numbers = [head.number] + [number for _m, number in members if number]
    if len(set(numbers)) != len(numbers):
        raise ArchiveError(_("同一户内身份证号重复"))
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
    created = Member.objects.bulk_create(
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
    _claim(household, numbers, user)
    Plan.objects.create(household=household)
    _record(
        household, user, HouseholdEvent.Action.APPLIED, new=_filled(_snapshot(household, APPLICATION_FIELDS))
    )
    HouseholdEvent.objects.bulk_create(
        HouseholdEvent(
            household=household,
            user=user,
            action=HouseholdEvent.Action.MEMBER_ADDED,
            new=_filled(_snapshot(member, MEMBER_FIELDS)),
        )
        for member in created
    )
    if files_at_once:
        before = _snapshot(household, LIFECYCLE_FIELDS)
        household.status = Household.Status.FILED
        household.filed_at = household.last_reviewed_at = timezone.now()
        household.reviewed_by = user
        household.save(update_fields=["status", "filed_at", "last_reviewed_at", "reviewed_by"])
        _record_lifecycle(household, user, HouseholdEvent.Action.FILED, before)
    return household


def _claim(household: Household, numbers: Sequence[str], user: User) -> None:
    for number in numbers:
        try:
            with transaction.atomic():
                OpenIdentity.objects.create(id_number=number, household=household)
        except IntegrityError:
            holder = OpenIdentity.objects.select_related("household__unit").get(id_number=number).household
            raise DuplicateFile(number, holder, duplicate_message(user, number, holder)) from None


def _locked(household: Household) -> Household:
    """The file as stored now, locked until the transaction ends (the caller's copy may be stale)."""
    return Household.objects.select_for_update().select_related("unit").get(pk=household.pk)


def _release(household: Household) -> None:
    OpenIdentity.objects.filter(household=household).delete()


# --- filing and the yearly review ------------------------------------------------------------------------


@transaction.atomic
def household_file(*, user: User, household: Household) -> Household:
    """The reviewer above accepts the application: the household is on file (建档) from now on."""
    check_permission(Action.FILE, user, household)
    locked = _locked(household)
    _check_state(Action.FILE, locked)
    before = _snapshot(locked, LIFECYCLE_FIELDS)
    now = timezone.now()
    locked.status = Household.Status.FILED
    locked.filed_at = locked.last_reviewed_at = now
    locked.reviewed_by = user
    locked.save()
    _record_lifecycle(locked, user, HouseholdEvent.Action.FILED, before)
    return locked


@transaction.atomic
def household_review_yearly(*, user: User, household: Household, note: str = "") -> Household:
    """The yearly review of a filed household (年审); each review stays in the file's history."""
    check_permission(Action.REVIEW, user, household)
    household = _locked(household)
    _check_state(Action.REVIEW, household)
    before = _snapshot(household, LIFECYCLE_FIELDS)
    household.last_reviewed_at = timezone.now()
    household.reviewed_by = user
    household.save(update_fields=["last_reviewed_at", "reviewed_by"])
    _record_lifecycle(
        household,
        user,
        HouseholdEvent.Action.YEARLY_REVIEW,
        before,
        note.strip(),
        always=["last_reviewed_at"],
    )
    return household


# --- out of difficulty, closing, and the proposals of the unit -------------------------------------------


def _check_out_path(path: str) -> None:
    if path not in Household.OutPath.values:
        raise ArchiveError(_("请选择脱困路径：就业创业、纳入社会保险、大病保险和医疗互助或低保兜底"))


def _check_close_reason(reason: str) -> str:
    if not reason.strip():
        raise ArchiveError(_("注销须写明原因"))
    return reason.strip()


def _pending(household: Household) -> Proposal | None:
    return household.pending_proposal()


def _settle(proposal: Proposal | None, user: User, state: str, note: str = "") -> None:
    if proposal is None:
        return
    proposal.state = state
    proposal.decided_by = user
    proposal.decided_at = timezone.now()
    proposal.decision_note = note
    proposal.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])


def _end_out(household: Household, user: User, path: str, on: dt.date, note: str) -> None:
    """`household` (locked, filed) leaves difficulty: the file ends and its IDs are free."""
    before = _snapshot(household, LIFECYCLE_FIELDS)
    household.status = Household.Status.OUT
    household.out_path = path
    household.ended_on = on
    household.save()
    _release(household)
    _record_lifecycle(household, user, HouseholdEvent.Action.OUT, before, note)


def _end_close(household: Household, user: User, reason: str, on: dt.date, note: str) -> None:
    """`household` (locked, open) is closed: the file ends and its IDs are free."""
    before = _snapshot(household, LIFECYCLE_FIELDS)
    household.status = Household.Status.CLOSED
    household.closed_reason = reason
    household.ended_on = on
    household.save()
    _release(household)
    _record_lifecycle(household, user, HouseholdEvent.Action.CLOSED, before, note)


@transaction.atomic
def household_out_of_difficulty(*, user: User, household: Household, path: str, on: dt.date) -> Household:
    """A reviewer above records that the household has left difficulty by one of the four paths.

    The file ends and its IDs are free. The unit's own staff are refused: they propose it instead
    (`household_propose_out`). A proposal pending is settled as done by the reviewer directly.
    """
    _decider_only(
        Action.OUT, user, household, _("解困脱困须由上级工会审核确认：请提出解困脱困申请，由上级审核员同意")
    )
    _check_out_path(path)
    household = _locked(household)
    _check_state(Action.OUT, household)
    _settle(_pending(household), user, Proposal.State.SUPERSEDED)
    _end_out(household, user, path, on, "")
    return household


@transaction.atomic
def household_close(*, user: User, household: Household, reason: str, on: dt.date) -> Household:
    """A reviewer above closes a file (注销) with a reason; its ID numbers may be filed again elsewhere.

    The unit's own staff are refused: they propose it instead (`household_propose_close`).
    """
    _decider_only(
        Action.CLOSE, user, household, _("注销档案须由上级工会审核确认：请提出注销申请，由上级审核员同意")
    )
    reason = _check_close_reason(reason)
    household = _locked(household)
    _check_state(Action.CLOSE, household)
    _settle(_pending(household), user, Proposal.State.SUPERSEDED)
    _end_close(household, user, reason, on, "")
    return household


def _propose(
    household: Household, user: User, action: str, *, new: dict[str, str], **proposal: Any
) -> Proposal:
    """A pending proposal for a locked household, with its event; refused while another one is pending."""
    pending = _pending(household)
    if pending is not None:
        raise ArchiveError(
            _("这份档案已有待上级审核的{kind}申请（{who}提出），请等待审核或先撤回").format(
                kind=pending.get_kind_display(), who=person_name(pending.proposed_by)
            )
        )
    created = Proposal.objects.create(household=household, proposed_by=user, **proposal)
    _record(household, user, action, new=new)
    return created


@transaction.atomic
def household_propose_out(*, user: User, household: Household, path: str, on: dt.date) -> Proposal:
    """The unit proposes that its filed household has left difficulty; the file stays filed until approved."""
    check_permission(Action.PROPOSE_OUT, user, household)
    _check_out_path(path)
    household = _locked(household)
    _check_state(Action.PROPOSE_OUT, household)
    return _propose(
        household,
        user,
        HouseholdEvent.Action.OUT_PROPOSED,
        new={"out_path": path, "ended_on": as_text(on)},
        kind=Proposal.Kind.OUT,
        out_path=path,
        on=on,
    )


@transaction.atomic
def household_propose_close(*, user: User, household: Household, reason: str, on: dt.date) -> Proposal:
    """The unit proposes to close its file, with a reason; the file stays as it is until approved."""
    check_permission(Action.PROPOSE_CLOSE, user, household)
    reason = _check_close_reason(reason)
    household = _locked(household)
    _check_state(Action.PROPOSE_CLOSE, household)
    return _propose(
        household,
        user,
        HouseholdEvent.Action.CLOSE_PROPOSED,
        new={"closed_reason": reason, "ended_on": as_text(on)},
        kind=Proposal.Kind.CLOSE,
        reason=reason,
        on=on,
    )


def _pending_or_refuse(household: Household) -> Proposal:
    pending = _pending(household)
    if pending is None:
        raise ArchiveError(_("这份档案没有待审核的解困脱困或注销申请"))
    return pending


@transaction.atomic
def proposal_approve(*, user: User, household: Household, note: str = "") -> Household:
    """A reviewer above approves the pending proposal, which does what it proposes."""
    check_permission(Action.APPROVE, user, household)
    household = _locked(household)
    _check_state(Action.APPROVE, household)
    proposal = _pending_or_refuse(household)
    note = note.strip() or _("同意{who}于{day}提出的申请").format(
        who=person_name(proposal.proposed_by), day=as_text(timezone.localtime(proposal.proposed_at).date())
    )
    # Approving does what was proposed, so the proposed action's state guard applies.
    _check_state(proposed(proposal), household)
    if proposal.kind == Proposal.Kind.OUT:
        _end_out(household, user, proposal.out_path, proposal.on, note)
    else:
        _end_close(household, user, proposal.reason, proposal.on, note)
    _settle(proposal, user, Proposal.State.APPROVED, note)
    return household


@transaction.atomic
def proposal_reject(*, user: User, household: Household, reason: str) -> Proposal:
    """A reviewer above returns the pending proposal with a reason; the file stays as it is."""
    check_permission(Action.REJECT, user, household)
    if not reason.strip():
        raise ArchiveError(_("退回申请须写明原因"))
    household = _locked(household)
    _check_state(Action.REJECT, household)
    proposal = _pending_or_refuse(household)
    _settle(proposal, user, Proposal.State.REJECTED, reason.strip())
    _record(
        household,
        user,
        HouseholdEvent.Action.PROPOSAL_REJECTED,
        note=_("{kind}申请（{who}提出）：{reason}").format(
            kind=proposal.get_kind_display(), who=person_name(proposal.proposed_by), reason=reason.strip()
        ),
    )
    return proposal


@transaction.atomic
def proposal_withdraw(*, user: User, household: Household) -> Proposal:
    """The unit takes its pending proposal back."""
    check_permission(Action.WITHDRAW, user, household)
    household = _locked(household)
    _check_state(Action.WITHDRAW, household)
    proposal = _pending_or_refuse(household)
    _settle(proposal, user, Proposal.State.WITHDRAWN)
    _record(
        household,
        user,
        HouseholdEvent.Action.PROPOSAL_WITHDRAWN,
        note=_("{kind}申请").format(kind=proposal.get_kind_display()),
    )
    return proposal


@transaction.atomic
def household_reopen(*, user: User, household: Household, reason: str) -> Household:
    """A reviewer above reopens a file ended by mistake (out of difficulty or closed).

    Its ID numbers are claimed again: if another unit has filed one of them since, the reopening is refused
    with that unit named, and nothing changes. A file closed before it was ever filed is an application again.
    """
    check_permission(Action.REOPEN, user, household)
    if not reason.strip():
        raise ArchiveError(_("恢复档案须写明原因"))
    household = _locked(household)
    _check_state(Action.REOPEN, household)
    numbers = [household.head_id_number] + [
        number for number in household.members.values_list("id_number", flat=True) if number
    ]
    _claim(household, numbers, user)
    before = _snapshot(household, LIFECYCLE_FIELDS)
    household.status = Household.Status.FILED if household.filed_at else Household.Status.APPLIED
    household.out_path = household.closed_reason = ""
    household.ended_on = None
    household.save()
    _record_lifecycle(household, user, HouseholdEvent.Action.REOPENED, before, reason.strip())
    return household


# --- the 四明确 plan ---------------------------------------------------------------------------------------


@transaction.atomic
def plan_set(
    *, user: User, household: Household, contact: str, deadline: dt.date | None, measures: str, path: str
) -> Plan:
    """Write the household's 四明确 plan; what changed goes to the file's history."""
    check_permission(Action.PLAN, user, household)
    if path and path not in Household.OutPath.values:
        raise ArchiveError(_("脱困路径不在四种路径之中"))
    _check_state(Action.PLAN, household)
    plan, _created = Plan.objects.select_for_update().get_or_create(household=household)
    before = _snapshot(plan, PLAN_FIELDS)
    plan.contact, plan.deadline, plan.measures, plan.path = contact.strip(), deadline, measures.strip(), path
    plan.save()
    old, new = _changes(before, _snapshot(plan, PLAN_FIELDS))
    if new:
        _record(household, user, HouseholdEvent.Action.PLAN_CHANGED, old=old, new=new)
    return plan


def personal_data_viewed(*, user: User, households: Sequence[Household], via: str) -> None:
    """Log that `user` was shown the full numbers of these files (the caller checked the permission)."""
    PersonalDataView.objects.bulk_create(
        PersonalDataView(user=user, household=household, via=via) for household in households
    )


# --- corrections: the file's details and its members -----------------------------------------------------

#: The details a correction may change, in the order the audit trail lists them. The sex and birth date
#: follow from the ID number and are not listed: the birth date in full would give a masked number back.
DETAIL_FIELDS = tuple(name for name in APPLICATION_FIELDS if name not in ("unit", "status"))
_MONEY_LIMITS = {"monthly_income": Decimal("1e10"), "minimum_living_line": Decimal("1e8")}


class InvalidCorrection(ArchiveError):
    """A refused correction, with where: `field` (a field of the file, or of a member's row) and `member`
    (the index of the member's edit in the request; None: the file's own details)."""

    def __init__(self, message: str, field: str = "", member: int | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.member = member


@dataclass
class MemberEdit:
    """One member's correction: `member_id` None adds `data`; `data` None removes the member."""

    member_id: int | None
    data: MemberInput | None = None


def _money_problem(value: Decimal | None, limit: Decimal) -> str | None:
    if value is None:
        return None
    if not value.is_finite():
        return _("请填写数字，例如 2400 或 2400.50")
    if value < 0:
        return _("不能是负数")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and value != value.quantize(Decimal("0.01")):
        return _("最多两位小数（到分）")
    if value >= limit:
        return _("数字太大")
    return None


def _checked_details(data: HouseholdInput) -> None:
    if not data.head_name.strip():
        raise InvalidCorrection(_("户主姓名不能为空"), "head_name")
    if data.category not in Household.Category.values:
        raise InvalidCorrection(_("类别应为困难职工、困难农民工或困难劳模"), "category")
    if len(data.secondary_causes) > 3:
        raise InvalidCorrection(_("其他致困原因最多三项"), "secondary_causes")
    problem = difficulty_type_problem(data.difficulty_type)
    if problem:
        raise InvalidCorrection(problem, "difficulty_type")
    if data.household_size < 1:
        raise InvalidCorrection(_("家庭人口至少1人"), "household_size")
    if data.card_kind and data.card_kind not in Household.CardKind.values:
        raise InvalidCorrection(_("发放卡类型应为阳光5·1卡或银行卡"), "card_kind")
    for name, limit in _MONEY_LIMITS.items():
        problem = _money_problem(getattr(data, name), limit)
        if problem:
            raise InvalidCorrection(problem, name)


def _checked_member(data: MemberInput, index: int) -> str:
    """The member's ID number as filed ("" for none), or a refusal naming the row's field."""
    if not data.name.strip():
        raise InvalidCorrection(_("家庭成员姓名不能为空"), "name", index)
    if not data.relation.strip():
        raise InvalidCorrection(_("请填写与户主的关系"), "relation", index)
    problem = _money_problem(data.monthly_income, _MONEY_LIMITS["monthly_income"])
    if problem:
        raise InvalidCorrection(problem, "monthly_income", index)
    if not data.id_number.strip():
        return ""
    try:
        return parse_id_number(data.id_number).number
    except InvalidIdNumber as problem:
        raise InvalidCorrection(str(problem), "id_number", index) from None


def _edit_details(household: Household, user: User, data: HouseholdInput, note: str) -> None:
    """Write the details of a locked household; the changed fields go to one EDITED event."""
    _checked_details(data)
    try:
        head = parse_id_number(data.head_id_number)
    except InvalidIdNumber as problem:
        raise InvalidCorrection(str(problem), "head_id_number") from None
    before = _snapshot(household, DETAIL_FIELDS)
    household.head_name = data.head_name.strip()
    household.name_initials = name_initials(household.head_name)
    household.head_id_number = head.number
    household.id_reversed = reversed_id(head.number)
    household.head_sex = head.sex
    household.head_birth_date = head.birth_date
    for name in (
        "category",
        "phone",
        "employer",
        "employer_kind",
        "difficulty_type",
        "main_cause",
        "monthly_income",
        "household_size",
        "minimum_living_line",
        "card_kind",
        "bank",
        "bank_branch",
        "card_number",
    ):
        setattr(household, name, getattr(data, name))
    household.secondary_causes = list(data.secondary_causes)
    household.monthly_income = _cents(data.monthly_income)
    household.minimum_living_line = _cents(data.minimum_living_line)
    old, new = _changes(before, _snapshot(household, DETAIL_FIELDS))
    if new:
        household.save()
        _record(household, user, HouseholdEvent.Action.EDITED, old=old, new=new, note=note)


def _edit_member(household: Household, user: User, edit: MemberEdit, index: int, note: str) -> None:
    if edit.member_id is None:
        if edit.data is None:
            return
        number = _checked_member(edit.data, index)
        member = Member.objects.create(household=household, **_member_values(edit.data, number))
        _record(
            household,
            user,
            HouseholdEvent.Action.MEMBER_ADDED,
            new=_filled(_snapshot(member, MEMBER_FIELDS)),
            note=note,
        )
        return
    found = household.members.filter(pk=edit.member_id).first()
    if found is None:
        raise InvalidCorrection(_("这位家庭成员已不在档案中，请重新打开修改页面"), "name", index)
    member = found
    before = _snapshot(member, MEMBER_FIELDS)
    if edit.data is None:
        member.delete()
        _record(household, user, HouseholdEvent.Action.MEMBER_REMOVED, old=_filled(before), note=note)
        return
    number = _checked_member(edit.data, index)
    for name, value in _member_values(edit.data, number).items():
        setattr(member, name, value)
    old, new = _changes(before, _snapshot(member, MEMBER_FIELDS))
    if new:
        member.save()
        _record(
            household,
            user,
            HouseholdEvent.Action.MEMBER_CHANGED,
            old=old,
            new=new,
            note=_("成员：{name}").format(name=before["name"]) + (f"；{note}" if note else ""),
        )


def _cents(value: Decimal | None) -> Decimal | None:
    """Money as stored (to the fen), so that 2400 and 2400.00 are no change."""
    return None if value is None else value.quantize(Decimal("0.01"))


def _member_values(data: MemberInput, number: str) -> dict[str, Any]:
    return {
        "name": data.name.strip(),
        "relation": data.relation.strip(),
        "id_number": number,
        "monthly_income": _cents(data.monthly_income),
        "health": data.health.strip(),
        "school_or_employer": data.school_or_employer.strip(),
    }


def duplicate_message(user: User, id_number: str, holder: Household) -> str:
    """Why `id_number` cannot be on this file: it is on `holder`'s. The holder's unit and head are named
    only to a user who may see that file; anyone else learns only that another open file has it."""
    if unit_visible(user, holder.unit):
        return _("身份证号 {id} 已在“{unit}”的困难职工档案中（户主 {name}），一户只能建一份档案").format(
            id=mask_id_number(id_number), unit=holder.unit.name, name=holder.head_name
        )
    return _("身份证号 {id} 已在其他单位的困难职工档案中，一户只能建一份档案").format(
        id=mask_id_number(id_number)
    )


def _reclaim(household: Household, user: User, where: dict[str, tuple[str, int | None]]) -> None:
    """Make the file's `OpenIdentity` rows its ID numbers as they stand now (head and members): the numbers
    no longer on it are freed, the new ones claimed. `where` tells, for a number typed in this correction,
    the field to name when it is refused."""
    numbers = [household.head_id_number] + [
        number for number in household.members.order_by("id").values_list("id_number", flat=True) if number
    ]
    seen: set[str] = set()
    for number in numbers:
        if number in seen:
            field, member = where.get(number, ("head_id_number", None))
            raise InvalidCorrection(_("同一户内身份证号重复"), field, member)
        seen.add(number)
    OpenIdentity.objects.filter(household=household).exclude(id_number__in=numbers).delete()
    held = set(OpenIdentity.objects.filter(household=household).values_list("id_number", flat=True))
    for number in numbers:
        if number in held:
            continue
        try:
            with transaction.atomic():
                OpenIdentity.objects.create(id_number=number, household=household)
        except IntegrityError:
            holder = OpenIdentity.objects.select_related("household__unit").get(id_number=number).household
            field, member = where.get(number, ("head_id_number", None))
            raise InvalidCorrection(duplicate_message(user, number, holder), field, member) from None


@transaction.atomic
def household_correct(
    *,
    user: User,
    household: Household,
    details: HouseholdInput | None = None,
    members: Sequence[MemberEdit] = (),
    note: str = "",
) -> Household:
    """Correct an open file: its details (`details`; its `members` list is not read) and its members, all
    or nothing. Every ID number is checked as when filing (valid, once in the household, on no other open
    file); the sex and birth date follow from the head's. Each changed part writes its event: EDITED with
    the fields old → new, MEMBER_ADDED / MEMBER_CHANGED / MEMBER_REMOVED. A refusal is an
    `InvalidCorrection` naming the field (and the member's index in `members`); nothing is written then.

    The household size is not made to match the members: a difference is shown on the file as a warning.
    """
    check_permission(Action.EDIT, user, household)
    household = _locked(household)
    _check_state(Action.EDIT, household)
    note = note.strip()
    where: dict[str, tuple[str, int | None]] = {}
    for index, edit in enumerate(members):
        if edit.data is not None and edit.data.id_number.strip():
            where[_checked_member(edit.data, index)] = ("id_number", index)
    if details is not None:
        head = household.head_id_number
        _edit_details(household, user, details, note)
        if household.head_id_number != head:  # a number typed now is the one to name
            where[household.head_id_number] = ("head_id_number", None)
    for index, edit in enumerate(members):
        _edit_member(household, user, edit, index, note)
    _reclaim(household, user, where)
    return household


def household_edit(*, user: User, household: Household, data: HouseholdInput, note: str = "") -> Household:
    """Correct the file's details (not its members)."""
    return household_correct(user=user, household=household, details=data, note=note)


def member_add(*, user: User, household: Household, data: MemberInput, note: str = "") -> Household:
    return household_correct(user=user, household=household, members=[MemberEdit(None, data)], note=note)


def member_change(
    *, user: User, household: Household, member_id: int, data: MemberInput, note: str = ""
) -> Household:
    return household_correct(user=user, household=household, members=[MemberEdit(member_id, data)], note=note)


def member_remove(*, user: User, household: Household, member_id: int, note: str = "") -> Household:
    return household_correct(user=user, household=household, members=[MemberEdit(member_id)], note=note)


def size_mismatch(household: Household, members: int) -> str | None:
    """The warning when the household size differs from the head and the `members` registered, or None."""
    registered = 1 + members
    if household.household_size == registered:
        return None
    return _(
        "家庭人口填的是 {size} 人，登记的是 {registered} 人（户主和 {members} 名家庭成员），请核实"
    ).format(size=household.household_size, registered=registered, members=members)
