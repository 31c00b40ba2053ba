"""Writes to the unit tree and the accounts."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from songnuan.orgs.models import Account, Unit, path_segment


@transaction.atomic
def unit_create(
    *,
    name: str,
    kind: str,
    parent: Unit | None = None,
    contact_name: str = "",
    contact_phone: str = "",
    sort_order: int = 0,
) -> Unit:
    unit = Unit.objects.create(
        name=name,
        kind=kind,
        parent=parent,
        contact_name=contact_name,
        contact_phone=contact_phone,
        sort_order=sort_order,
        path="",
        depth=0 if parent is None else parent.depth + 1,
    )
    unit.path = (parent.path if parent else "") + path_segment(unit.pk)
    unit.save(update_fields=["path"])
    return unit


@transaction.atomic
def account_create(
    *,
    username: str,
    password: str,
    unit: Unit,
    role: str,
    name: str = "",
    phone: str = "",
) -> Account:
    """A login for one person of a unit. The password must pass the validators (AUTH_PASSWORD_VALIDATORS:
    length, not common, not all digits, not like the username or name); otherwise a ValidationError in Chinese
    names the account and every reason, and nothing is created. (The demo's `songnuan-demo` passes them.)"""
    User = get_user_model()
    try:
        validate_password(password, User(username=username, first_name=name))
    except ValidationError as refused:
        raise ValidationError(
            _("账号“{username}”的密码不符合要求：{reasons}").format(
                username=username, reasons="；".join(refused.messages)
            ),
            code="password_invalid",
        ) from refused
    user = User.objects.create_user(username=username, password=password, first_name=name)
    return Account.objects.create(user=user, unit=unit, role=role, phone=phone)
