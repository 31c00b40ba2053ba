"""What the reviewer's dashboard (`reporting.unit_notes`) shows of the checks: each unit's latest self-check
(findings, how many still unanswered) and the campaign's overdue rectification tasks the user may see."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from songnuan.campaigns.models import Campaign
from songnuan.checks import rectification
from songnuan.checks.models import Finding, SelfCheck
from songnuan.orgs.models import Unit
from songnuan.orgs.permissions import User, may_see_ledger
from songnuan.reporting.unit_notes import Note


def self_check_notes(campaign: Campaign, units: Sequence[Unit], user: User) -> dict[int, list[Note]]:
    """The latest self-check of each unit of the dashboard: two queries whatever the number of units."""
    shown = {unit.pk: unit for unit in units if may_see_ledger(user, unit)}
    latest: dict[int, int] = {}
    for pk, unit_id in (
        SelfCheck.objects.filter(campaign=campaign, unit_id__in=list(shown))
        .order_by("unit_id", "-run_at", "-pk")
        .values_list("pk", "unit_id")
    ):
        latest.setdefault(unit_id, pk)
    counts = {
        row["self_check_id"]: (row["found"], row["open"])
        for row in Finding.objects.filter(self_check_id__in=list(latest.values()))
        .values("self_check_id")
        .annotate(found=Count("pk"), open=Count("pk", filter=Q(state=Finding.State.OPEN)))
    }
    notes: dict[int, list[Note]] = {}
    for unit_id, check_id in latest.items():
        found, still_open = counts.get(check_id, (0, 0))
        text = (
            _("自查：发现{n}项，未处理{m}项").format(n=found, m=still_open)
            if found
            else _("自查：未发现问题")
        )
        url = reverse("checks:self-check", args=[campaign.pk, unit_id])
        notes[unit_id] = [Note(text=text, url=url, warning=bool(still_open))]
    return notes


def overdue_task_notes(campaign: Campaign, user: User) -> list[Note]:
    if not user.is_authenticated:
        return []
    tasks = rectification.tasks_for_unit(user).filter(spot_check__campaign=campaign)
    late = rectification.overdue(tasks, timezone.localdate()).count()
    if not late:
        return []
    return [Note(text=_("抽查整改逾期 {n} 项").format(n=late), url=reverse("checks:tasks"), warning=True)]
