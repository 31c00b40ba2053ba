"""我的待办: what waits on a user — its unread notices, the tables its unit still has to send (or
correct), and the submitted tables it is to review. Computed from the data with a fixed number of queries,
whatever the number of campaigns or tables."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from songnuan.campaigns.models import Campaign
from songnuan.campaigns.selectors import campaigns_visible_to
from songnuan.formkit.definitions import Form, get_form
from songnuan.notices.models import Notice
from songnuan.notices.selectors import notices_of
from songnuan.orgs.models import Account, Unit
from songnuan.orgs.permissions import account_of, can_fill, may_review_table, units_visible_to
from songnuan.reporting.models import Submission
from songnuan.reporting.progress import STATE_LABELS

#: The states in which the unit still owes the table (the dashboard's 未完成报送).
OWED_STATES = ("not-started", "draft", "returned")


@dataclass
class TodoTable:
    campaign: Campaign
    unit: Unit
    form: Form
    state: str
    url: str
    submission: Submission | None
    overdue: bool = False

    @property
    def label(self) -> str:
        return str(STATE_LABELS[self.state])


@dataclass
class Todo:
    notices: list[Notice]
    to_fill: list[TodoTable]
    to_review: list[TodoTable]

    @property
    def unread(self) -> list[Notice]:
        return [n for n in self.notices if n.read_at is None]

    @property
    def read(self) -> list[Notice]:
        return [n for n in self.notices if n.read_at is not None]


def _entry_url(campaign_id: int, unit_id: int, form_code: str) -> str:
    return reverse("campaign:entry", args=[campaign_id, unit_id, form_code])


def _takes_part(campaign: Campaign, unit: Unit) -> bool:
    """`songnuan.campaigns.selectors.unit_takes_part`, read from prefetched addressees (no query)."""
    return campaign.owner_id == unit.pk or any(unit.is_within(a) for a in campaign.addressees.all())


def tables_to_fill(user: User, account: Account, today: dt.date) -> list[TodoTable]:
    """The tables the user's own unit still owes (not started, draft, returned), in campaigns it takes part
    in; returned ones first, then by deadline."""
    unit = account.unit
    if not can_fill(user, unit):
        return []
    campaigns = [c for c in campaigns_visible_to(user).prefetch_related("addressees") if _takes_part(c, unit)]
    found = {
        (s.campaign_id, s.form_code): s
        for s in Submission.objects.filter(unit=unit, campaign__in=[c.pk for c in campaigns])
    }
    tables = []
    for campaign in campaigns:
        for code in campaign.form_codes:
            submission = found.get((campaign.pk, code))
            state = submission.status if submission is not None else "not-started"
            if state in OWED_STATES:
                tables.append(
                    TodoTable(
                        campaign,
                        unit,
                        get_form(code),
                        state,
                        _entry_url(campaign.pk, unit.pk, code),
                        submission,
                        overdue=today > campaign.deadline,
                    )
                )
    return sorted(tables, key=lambda t: (t.state != "returned", t.campaign.deadline))


def tables_to_review(user: User) -> list[TodoTable]:
    """Submitted tables waiting for this user's decision (`may_review_table`), the oldest first."""
    # Per submitted table, whether the user sees its unit (by key): the submitted tables are few, the units
    # the user sees may be a country's, and `unit__in` made SQLite list them all first.
    visible = Exists(units_visible_to(user).filter(pk=OuterRef("unit_id")))
    submitted = (
        Submission.objects.filter(visible, status=Submission.Status.SUBMITTED)
        .select_related("unit", "campaign")
        .order_by("submitted_at", "id")
    )
    return [
        TodoTable(
            s.campaign,
            s.unit,
            get_form(s.form_code),
            s.status,
            _entry_url(s.campaign_id, s.unit_id, s.form_code),
            s,
        )
        for s in submitted
        if may_review_table(user, s.unit, s.campaign.owner_id)
    ]


def todo_of(user: User, *, now: dt.datetime | None = None) -> Todo:
    account = account_of(user)
    notices = notices_of(user)
    if account is None:
        return Todo(notices, [], [])
    today = timezone.localdate(now or timezone.now())
    reviews = account.role in (Account.Role.REVIEWER, Account.Role.ADMIN)
    return Todo(
        notices,
        tables_to_fill(user, account, today),
        tables_to_review(user) if reviews else [],
    )
