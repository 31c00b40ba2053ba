"""Reads of notices, and who is told about a unit's tables (the permission module decides who fills them)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import F, QuerySet

from songnuan.notices.models import Notice
from songnuan.orgs.models import Account, Unit
from songnuan.orgs.permissions import can_fill


def reporters_of(unit: Unit) -> list[User]:
    """The accounts that fill `unit`'s tables (its reporters and its admin), as `can_fill` decides."""
    candidates = Account.objects.filter(unit=unit, user__is_active=True).select_related("user", "unit")
    return [account.user for account in candidates if can_fill(account.user, unit)]


def notices_of(user: User | AnonymousUser, *, limit: int = 50) -> list[Notice]:
    """The user's notices: unread first, newest first within each, at most `limit`."""
    if not user.is_authenticated:
        return []
    return list(
        Notice.objects.filter(recipient=user)
        .select_related("unit", "campaign")
        .order_by(F("read_at").desc(nulls_first=True), "-created_at", "-id")[:limit]
    )


def unread_count(user: User | AnonymousUser) -> int:
    if not user.is_authenticated:
        return 0
    return Notice.objects.filter(recipient=user, read_at__isnull=True).count()


def notice_of(user: User | AnonymousUser, notice_id: int) -> QuerySet[Notice]:
    """The notice if it is the user's own (else an empty set: someone else's notice is not found, 404)."""
    if not user.is_authenticated:
        return Notice.objects.none()
    return Notice.objects.filter(pk=notice_id, recipient=user)
