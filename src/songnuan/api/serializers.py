"""Models and table values as JSON-able dicts, and request bodies back into table values.

Money (万元) is written as a string ("12.35"), so no float ever touches it; counts are integers; blank is null
(never 0). Dates are ISO strings, times are ISO strings in China Standard Time.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
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
