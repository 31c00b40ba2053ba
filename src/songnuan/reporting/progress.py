"""Where the units stand in a campaign: their tables and states, the units in tree order."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy

from songnuan.campaigns.models import Campaign
from songnuan.formkit.engine import Value
from songnuan.orgs.models import Unit
from songnuan.reporting.models import Submission
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

    @property
    def state(self) -> str:
        """The least advanced state over its forms: not-started < draft < returned < submitted < accepted."""
        states = [s.status if s else "not-started" for s in self.submissions.values()]
        return min(states, key=STATES.index) if states else "not-started"

    @property
    def late(self) -> bool:
        return any(s is not None and s.late for s in self.submissions.values())


def campaign_progress(campaign: Campaign, units: Iterable[Unit]) -> list[UnitProgress]:
    units = list(units)
    found: dict[tuple[int, str], Submission] = {}
    for s in Submission.objects.filter(campaign=campaign, unit__in=units).select_related("unit"):
        s.campaign = campaign  # the transition table asks for the campaign's owner: no query per table
        found[(s.unit_id, s.form_code)] = s
    return [
        UnitProgress(unit, {code: found.get((unit.pk, code)) for code in campaign.form_codes})
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
