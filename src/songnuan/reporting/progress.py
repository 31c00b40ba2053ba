"""Where the units stand in a campaign: their tables and states, the units in tree order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Min
from django.utils.translation import gettext_lazy

from songnuan.campaigns.models import Campaign
from songnuan.formkit.engine import Value
from songnuan.orgs.models import Unit
from songnuan.reporting.models import Submission, SubmissionEvent
from songnuan.reporting.services import stored_values


def submission_values(submission: Submission) -> dict[str, Value]:
    return stored_values(submission)


def submission_of(campaign: Campaign, unit: Unit, form_code: str) -> Submission | None:
    return Submission.objects.filter(campaign=campaign, unit=unit, form_code=form_code).first()


#: A unit's (or a table's) state, least advanced first; "not-started" means no submission at all.
STATES = ("not-started", "draft", "returned", "submitted", "accepted")
STATE_LABELS = {
    "not-started": gettext_lazy("未填报"),
    "draft": gettext_lazy("草稿未报送"),
    "returned": gettext_lazy("已退回"),
    "submitted": gettext_lazy("已报送待审核"),
    "accepted": gettext_lazy("审核通过"),
}


@dataclass
class UnitProgress:
    """Where one unit stands in a campaign: per form its submission (or None: not started)."""

    unit: Unit
    submissions: dict[str, Submission | None]
    #: Per form, when its table was first sent up (the earliest status event to "submitted"), if ever.
    #: Lateness is judged by that moment, not by the current state: a table sent on time and returned after
    #: the deadline for a correction is neither 逾期报送 nor 逾期未报.
    first_submitted: dict[str, dt.datetime] = field(default_factory=dict)

    @property
    def state(self) -> str:
        """The least advanced state over its forms: not-started < draft < returned < submitted < accepted."""
        states = [s.status if s else "not-started" for s in self.submissions.values()]
        return min(states, key=STATES.index) if states else "not-started"

    def _first_late(self, code: str, submission: Submission) -> bool:
        first = self.first_submitted.get(code)
        if first is None:  # no event kept (older data): the flag set when it was sent up
            return submission.late
        return submission.campaign.is_late(first)

    @property
    def late(self) -> bool:
        """Some table was first sent up after the deadline (a later resubmission does not make it late)."""
        return any(s is not None and self._first_late(code, s) for code, s in self.submissions.items())

    def overdue(self, campaign: Campaign, now: dt.datetime) -> bool:
        """The deadline has passed and some table is missing that was never sent up on time (逾期未报)."""
        if not campaign.is_late(now):
            return False
        for code, s in self.submissions.items():
            if s is None:
                return True
            if s.status in (Submission.Status.DRAFT, Submission.Status.RETURNED):
                first = self.first_submitted.get(code) or s.submitted_at  # no event kept: its last sending
                if first is None or campaign.is_late(first):
                    return True
        return False


def campaign_progress(campaign: Campaign, units: Iterable[Unit]) -> list[UnitProgress]:
    units = list(units)
    found: dict[tuple[int, str], Submission] = {}
    for s in Submission.objects.filter(campaign=campaign, unit__in=units).select_related("unit"):
        s.campaign = campaign  # the transition table asks for the campaign's owner: no query per table
        found[(s.unit_id, s.form_code)] = s
    firsts = dict(
        SubmissionEvent.objects.filter(
            submission__in=[s.pk for s in found.values()],
            kind=SubmissionEvent.Kind.STATUS,
            new=Submission.Status.SUBMITTED,
        )
        .order_by()
        .values("submission")
        .annotate(first=Min("at"))
        .values_list("submission", "first")
    )
    return [
        UnitProgress(
            unit,
            {code: found.get((unit.pk, code)) for code in campaign.form_codes},
            {
                code: firsts[table.pk]
                for code in campaign.form_codes
                if (table := found.get((unit.pk, code))) is not None and table.pk in firsts
            },
        )
        for unit in units
    ]


class SubmissionState:
    """The state of an optional submission, for a page (None: not started)."""

    submission: Submission | None

    @property
    def state(self) -> str:
        return self.submission.status if self.submission is not None else "not-started"

    @property
    def label(self) -> str:
        return str(STATE_LABELS[self.state])


def tree_order(units: Iterable[Unit]) -> list[Unit]:
    """Units in tree order, siblings by their sort order then id (the path alone would ignore sort order)."""
    units = list(units)
    by_id = {unit.pk: unit for unit in units}

    def key(unit: Unit) -> list[tuple[int, int]]:
        ids = [int(part) for part in unit.path.rstrip("/").split("/")]
        return [(by_id[i].sort_order, i) if i in by_id else (0, i) for i in ids]

    return sorted(units, key=key)
