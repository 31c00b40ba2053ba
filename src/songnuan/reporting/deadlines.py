"""Deadline notices: the people who fill a unit's tables are told when the deadline is near and once it has
passed while some table is still not sent up. Run daily (`manage.py send_deadline_notices`); each notice
goes once per person, campaign and unit, so a second run the same day (or the next) sends nothing new."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from songnuan.campaigns.models import Campaign
from songnuan.campaigns.selectors import units_taking_part
from songnuan.formkit.definitions import get_form
from songnuan.notices.models import Notice
from songnuan.notices.services import notify
from songnuan.orgs.models import Unit
from songnuan.reporting.progress import campaign_progress
from songnuan.reporting.todo import OWED_STATES

#: Days before the deadline from which the reminder goes (the issue: "deadline in 3 days").
SOON_DAYS = 3
#: Campaigns whose deadline passed longer ago than this get no overdue notice any more (an installation
#: that starts the command late does not tell everyone about last year's campaign).
OVERDUE_WINDOW_DAYS = 30


def send_deadline_notices(*, today: dt.date | None = None) -> list[Notice]:
    """Write (and mail) the deadline notices due on `today` (China time); the notices written."""
    today = today or timezone.localdate()
    campaigns = Campaign.objects.filter(
        deadline__gte=today - dt.timedelta(days=OVERDUE_WINDOW_DAYS),
        deadline__lte=today + dt.timedelta(days=SOON_DAYS),
    ).order_by("deadline", "id")
    written: list[Notice] = []
    for campaign in campaigns:
        with transaction.atomic():
            written += _campaign_notices(campaign, today)
    return written


def _campaign_notices(campaign: Campaign, today: dt.date) -> list[Notice]:
    overdue = today > campaign.deadline
    kind = Notice.Kind.OVERDUE if overdue else Notice.Kind.DEADLINE_SOON
    units = units_taking_part(campaign, Unit.objects.filter(closed_at__isnull=True))
    written: list[Notice] = []
    for progress in campaign_progress(campaign, units):
        owed = [
            get_form(code)
            for code, submission in progress.submissions.items()
            if (submission.status if submission is not None else "not-started") in OWED_STATES
        ]
        if not owed:
            continue
        values = {
            "campaign": campaign.title,
            "deadline": f"{campaign.deadline.year}年{campaign.deadline.month}月{campaign.deadline.day}日",
            "days": (campaign.deadline - today).days,
            "unit": progress.unit.name,
            "forms": "、".join(f"{form.attachment}《{form.title}》" for form in owed),
        }
        text = (
            _("《{campaign}》已于{deadline}截止报送，{unit}还有表没有报送：{forms}。请尽快填写并报送。")
            if overdue
            else _("《{campaign}》将于{deadline}截止报送（还有 {days} 天），{unit}还有表没有报送：{forms}。")
        ).format(**values)
        written += notify(
            kind,
            unit=progress.unit,
            campaign=campaign,
            text=text,
            link=reverse("campaign:home", args=[campaign.pk]),
        )
    return written
