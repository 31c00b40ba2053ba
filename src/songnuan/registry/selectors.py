"""Reads of the archive, always through the unit tree: a user sees the files its units keep."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, QuerySet
from django.utils import timezone

from songnuan.orgs.models import Unit
from songnuan.orgs.selectors import units_visible_to
from songnuan.registry.models import Household

OPEN = (Household.Status.APPLIED, Household.Status.FILED)


def households_visible_to(user: User | AnonymousUser) -> QuerySet[Household]:
    return Household.objects.filter(unit__in=units_visible_to(user))


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


def filed_counts(unit: Unit) -> Counter[str]:
    """Filed households by category that `unit` and the units below it keep (hints beside 附件1 2C–2F)."""
    rows = Household.objects.filter(
        unit__path__startswith=unit.path, status=Household.Status.FILED
    ).values_list("category", flat=True)
    return Counter(rows)
