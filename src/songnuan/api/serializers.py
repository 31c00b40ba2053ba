"""Models and table values as JSON-able dicts, and request bodies back into table values.

Money (万元) is written as a string ("12.35"), so no float ever touches it; counts are integers; blank is null
(never 0). Dates are ISO strings, times are ISO strings in China Standard Time.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext as _

from songnuan.campaigns.models import Campaign
from songnuan.formkit.definitions import Form, Item
from songnuan.formkit.engine import CheckResult, Value, Violation
from songnuan.formkit.values import parse_value
from songnuan.orgs.models import Account, Unit
from songnuan.registry.idnumbers import mask_card, mask_id_number, mask_phone, shown_birth_year
from songnuan.registry.models import Household, Member, Plan
from songnuan.reporting.models import Submission

JsonValue = int | str | None
Json = dict[str, Any]

#: The status of a table no one has opened yet (there is no submission row).
NOT_STARTED = "not-started"


class BodyError(ValueError):
    """A request body that is not what the endpoint takes; the message is Chinese, for the person."""


# --- values ----------------------------------------------------------------------------------------------


def decimal_text(number: Decimal) -> str:
    """ "0.3000" → "0.3", "1E+2" → "100": the exact amount, plain notation, no trailing zeros."""
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def number_json(number: Decimal | int | None) -> JsonValue:
    if number is None or isinstance(number, int):
        return number
    return decimal_text(number)


def value_json(value: Value) -> JsonValue:
    """An item's value: int for a count, string for 万元, 是/否 or text typed by mistake, None for blank."""
    if isinstance(value, Decimal):
        return decimal_text(value)
    return value


def values_json(values: Mapping[str, Value]) -> dict[str, JsonValue]:
    return {code: value_json(value) for code, value in values.items()}


def raw_values_json(values: Mapping[str, object]) -> dict[str, JsonValue]:
    """Values as someone sent them (already typed by `values_from_body`, or anything else as text)."""
    shown: dict[str, JsonValue] = {}
    for code, value in values.items():
        if value is None or (isinstance(value, int | str | Decimal) and not isinstance(value, bool)):
            shown[code] = value_json(value)
        else:
            shown[code] = str(value)
    return shown


def violation_json(violation: Violation) -> Json:
    return {
        "rule": violation.rule,
        "severity": violation.severity.value,
        "items": list(violation.items),
        "message": violation.message,
        "expected": number_json(violation.expected),
        "actual": number_json(violation.actual),
        "difference": number_json(violation.difference),
    }


def check_json(result: CheckResult) -> Json:
    return {
        "errors": [violation_json(v) for v in result.errors],
        "warnings": [violation_json(v) for v in result.warnings],
    }


# --- request bodies --------------------------------------------------------------------------------------


def _no_constant(name: str) -> object:
    raise BodyError(_("请求内容不是有效的 JSON：不接受 {name}").format(name=name))


def parse_body(body: bytes) -> Json:
    """The JSON object of a request body (empty body = {}); numbers with a fraction become Decimal, exact."""
    if not body.strip():
        return {}
    try:
        data = json.loads(body, parse_float=Decimal, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as problem:
        if isinstance(problem, BodyError):
            raise
        raise BodyError(_("请求内容不是有效的 JSON")) from None
    if not isinstance(data, dict):
        raise BodyError(_("请求内容应为 JSON 对象"))
    return data


def values_from_body(form: Form, raw: object) -> dict[str, Value]:
    """`{"3A": "12.35", "1A": 48, "2A": null, "10B": "是"}` → typed values, read like a typed cell.

    Unknown item codes are passed on as they are: the service refuses them with its own message.
    """
    if not isinstance(raw, dict):
        raise BodyError(_("values 应为对象：项目编号 → 数值"))
    values: dict[str, Value] = {}
    for code, value in raw.items():
        item = form.item(code) if form.has_item(code) else None
        values[code] = _typed(item, code, value)
    return values


def _typed(item: Item | None, code: str, value: object) -> Value:
    if value is None:
        return None
    if isinstance(value, Decimal):
        value = format(value, "f")  # exact: the text of the number as it was sent
    if not isinstance(value, bool | int | str):
        raise BodyError(_("项目 {code} 的值应为数字、文字或 null").format(code=code))
    if item is None:
        return value if isinstance(value, str) else str(value)
    return parse_value(item, value)


def text_mapping(raw: object, name: str, allowed: tuple[str, ...] | None = None) -> dict[str, str | None]:
    """An object of strings (or null), e.g. explanations (rule id → text) or the header."""
    if not isinstance(raw, dict) or not all(
        isinstance(value, str) or value is None for value in raw.values()
    ):
        raise BodyError(_("{name} 应为对象，值为文字或 null").format(name=name))
    if allowed is not None:
        unknown = sorted(set(raw) - set(allowed))
        if unknown:
            raise BodyError(
                _("{name} 中没有 {unknown}；可用的字段：{allowed}").format(
                    name=name, unknown="、".join(unknown), allowed="、".join(allowed)
                )
            )
    return dict(raw)


def text_field(data: Mapping[str, object], name: str, *, required: bool = False) -> str:
    value = data.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise BodyError(_("请求中应有文字字段 {name}").format(name=name))
    return value


def version_field(data: Mapping[str, object]) -> int:
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise BodyError(_("请求中应有整数 version：开始编辑时读到的版本号"))
    return version


# --- models ----------------------------------------------------------------------------------------------


def moment_json(moment: dt.datetime | None) -> str | None:
    return None if moment is None else timezone.localtime(moment).isoformat()


def date_json(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def unit_json(unit: Unit) -> Json:
    return {
        "id": unit.pk,
        "name": unit.name,
        "kind": unit.kind,
        "kind_label": unit.get_kind_display(),
        "parent_id": unit.parent_id,
        "depth": unit.depth,
    }


def me_json(user: User, account: Account | None) -> Json:
    return {
        "user": {"id": user.pk, "username": user.get_username(), "name": user.get_full_name()},
        "unit": unit_json(account.unit) if account else None,
        "role": account.role if account else None,
        "role_label": account.get_role_display() if account else None,
    }


def campaign_json(campaign: Campaign, forms: Mapping[str, Form] | None = None) -> Json:
    """The campaign in a list; with `forms`, its details (contact, notice text, its forms with titles)."""
    data: Json = {
        "id": campaign.pk,
        "title": campaign.title,
        "document_number": campaign.document_number,
        "owner": {"id": campaign.owner_id, "name": campaign.owner.name},
        "period_start": date_json(campaign.period_start),
        "period_end": date_json(campaign.period_end),
        "deadline": date_json(campaign.deadline),
        "form_codes": list(campaign.form_codes),
    }
    if forms is not None:
        data.update(
            {
                "period_text": campaign.period_text,
                "receiving_department": campaign.receiving_department,
                "contact": {
                    "name": campaign.contact_name,
                    "phone": campaign.contact_phone,
                    "email": campaign.contact_email,
                },
                "addressees": [
                    {"id": unit.pk, "name": unit.name} for unit in campaign.addressees.order_by("path")
                ],
                "forms": [
                    {"code": code, "attachment": forms[code].attachment, "title": forms[code].title}
                    for code in campaign.form_codes
                    if code in forms
                ],
                "notice_text": campaign.notice_text,
            }
        )
    return data


def status_json(submission: Submission | None) -> Json:
    """Where one form of one unit stands, short (for the unit list)."""
    if submission is None:
        return {
            "status": NOT_STARTED,
            "status_label": _("未开始"),
            "version": None,
            "submitted_at": None,
            "late": False,
        }
    return {
        "status": submission.status,
        "status_label": submission.get_status_display(),
        "version": submission.version,
        "submitted_at": moment_json(submission.submitted_at),
        "late": submission.late,
    }


def submission_json(
    *,
    form: Form,
    unit: Unit,
    submission: Submission | None,
    values: Mapping[str, Value],
    check: CheckResult,
    can_fill: bool,
    can_review: bool,
) -> Json:
    """One unit's table in full: values, header, explanations, where it stands, and what the rules say."""
    data: Json = {
        "form": {"code": form.code, "attachment": form.attachment, "title": form.title},
        "unit": unit_json(unit),
        **status_json(submission),
        # A table not opened yet is saved as version 1 (the version a new draft starts at).
        "version": submission.version if submission else 1,
        "editable": submission.editable if submission else True,
        "values": values_json(values),
        "explanations": dict(submission.explanations) if submission else {},
        "header": {
            "reporter": submission.reporter if submission else "",
            "phone": submission.phone if submission else "",
            "report_date": date_json(submission.report_date) if submission else None,
        },
        "review_comment": submission.review_comment if submission else "",
        "reviewed_at": moment_json(submission.reviewed_at) if submission else None,
        "updated_at": moment_json(submission.updated_at) if submission else None,
        **check_json(check),
        "permissions": {"fill": can_fill, "review": can_review},
        "items": items_json(form),
    }
    return data


def items_json(form: Form) -> list[Json]:
    return [
        {"code": item.code, "label": item.label, "unit": item.unit, "kind": item.kind.value}
        for item in form.items
    ]


# --- the needy-worker archive (困难职工档案) ----------------------------------------------------------------


def _plan_of(household: Household) -> Plan | None:
    try:
        return household.plan
    except Plan.DoesNotExist:  # every file gets one when it is opened; an absent plan lacks everything
        return None


def plan_missing(plan: Plan | None) -> list[str]:
    """The parts of the 四明确 plan not written yet (联系人（单位）, 期限, 措施, 路径)."""
    return (Plan() if plan is None else plan).missing()


def household_summary_json(household: Household, *, full_numbers: bool = False) -> Json:
    """A file in the list: ID and phone numbers masked unless `full_numbers` (the caller checked and logged).

    Beside a masked ID number only the birth year: the date would give the number back (`mask_id_number`);
    `head_birth_date` is null then. Money (元) is text, exact; a blank income is null, never 0.
    """
    return {
        "id": household.pk,
        "unit": {"id": household.unit_id, "name": household.unit.name},
        "head_name": household.head_name,
        "head_id_number": household.head_id_number
        if full_numbers
        else mask_id_number(household.head_id_number),
        "head_sex": household.head_sex,
        "head_birth_year": shown_birth_year(household.head_birth_date),
        "head_birth_date": date_json(household.head_birth_date) if full_numbers else None,
        "phone": household.phone if full_numbers else mask_phone(household.phone),
        "category": household.category,
        "category_label": household.get_category_display(),
        "difficulty_type": household.difficulty_type,
        "status": household.status,
        "status_label": household.get_status_display(),
        "household_size": household.household_size,
        "monthly_income": number_json(household.monthly_income),
        "income_per_person": number_json(household.income_per_person),
        "filed_at": moment_json(household.filed_at),
        "last_reviewed_at": moment_json(household.last_reviewed_at),
        "plan_missing": plan_missing(_plan_of(household)),
    }


def member_json(member: Member, *, full_numbers: bool = False) -> Json:
    return {
        "id": member.pk,
        "name": member.name,
        "relation": member.relation,
        "id_number": member.id_number if full_numbers else mask_id_number(member.id_number),
        "monthly_income": number_json(member.monthly_income),
        "health": member.health,
        "school_or_employer": member.school_or_employer,
    }


def plan_json(plan: Plan | None) -> Json:
    return {
        "contact": plan.contact if plan else "",
        "deadline": date_json(plan.deadline) if plan else None,
        "measures": plan.measures if plan else "",
        "path": plan.path if plan else "",
        "path_label": plan.get_path_display() if plan and plan.path else "",
        "missing": plan_missing(plan),
    }


def household_json(
    household: Household, members: Iterable[Member], *, full_numbers: bool, may_view_full: bool
) -> Json:
    """One file in full: the list's fields, the rest of the file, its members and its 四明确 plan."""
    return {
        **household_summary_json(household, full_numbers=full_numbers),
        "full_numbers": full_numbers,
        "employer": household.employer,
        "employer_kind": household.employer_kind,
        "main_cause": household.main_cause,
        "secondary_causes": list(household.secondary_causes),
        "minimum_living_line": number_json(household.minimum_living_line),
        "card_kind": household.card_kind,
        "card_kind_label": household.get_card_kind_display() if household.card_kind else "",
        "bank": household.bank,
        "bank_branch": household.bank_branch,
        "card_number": household.card_number if full_numbers else mask_card(household.card_number),
        "applied_at": moment_json(household.applied_at),
        "out_path": household.out_path,
        "out_path_label": household.get_out_path_display() if household.out_path else "",
        "ended_on": date_json(household.ended_on),
        "closed_reason": household.closed_reason,
        "members": [member_json(member, full_numbers=full_numbers) for member in members],
        "plan": plan_json(_plan_of(household)),
        "permissions": {"view_personal_data": may_view_full},
    }
