"""Who may see and do what: every service, selector, page, download and API call asks this module, and nothing
else decides it.

- 填报员 (reporter): sees and fills its own unit only.
- 审核员 (reviewer): sees its own unit and every unit below it; accepts or returns the tables of the units
  below it.
- 管理员 (admin): what a reviewer may, and fills its own unit.

Roll-ups (the roll-up page, its drill-down, the comparison grid, their Excel and print) show the units
below a unit, so they are for the reviewing roles only (`can_see_rollup`), never a reporter, not even of its
own unit.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as AuthUser
from django.db.models import QuerySet

from songnuan.orgs.models import Account, Unit

User = AuthUser | AnonymousUser


def account_of(user: User) -> Account | None:
    """The user's account, or None: anonymous, no account, or deactivated. A deactivated user may still reach
    these checks without a session (an import job started before it was deactivated runs as its user), and
    keeps no power, as Django's own `has_perm` gives an inactive user none."""
    if not user.is_authenticated or not user.is_active:
        return None
    try:
        return user.account
    except Account.DoesNotExist:
        return None


def units_visible_to(user: User) -> QuerySet[Unit]:
    account = account_of(user)
    if account is None:
        return Unit.objects.none()
    if account.role == Account.Role.REPORTER:
        return Unit.objects.filter(pk=account.unit_id)
    return Unit.objects.filter(path__startswith=account.unit.path)


def unit_visible(user: User, unit: Unit) -> bool:
    account = account_of(user)
    if account is None:
        return False
    if account.role == Account.Role.REPORTER:
        return unit.pk == account.unit_id
    return unit.is_within(account.unit)


def can_fill(user: User, unit: Unit) -> bool:
    account = account_of(user)
    return (
        account is not None
        and account.unit_id == unit.pk
        and account.role in (Account.Role.REPORTER, Account.Role.ADMIN)
    )


def can_review(user: User, unit: Unit) -> bool:
    account = account_of(user)
    return (
        account is not None
        and account.role in (Account.Role.REVIEWER, Account.Role.ADMIN)
        and unit.is_below(account.unit)
    )


def can_see_rollup(user: User, unit: Unit) -> bool:
    """The roll-up of `unit` (and its drill-down, grid, downloads): a reviewer or admin of that unit or of a
    unit above it. A reporter sees its own unit only, and a roll-up names and sums the units below it."""
    account = account_of(user)
    return (
        account is not None
        and account.role in (Account.Role.REVIEWER, Account.Role.ADMIN)
        and unit.is_within(account.unit)
    )
