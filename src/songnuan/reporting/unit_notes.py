"""Notes that apps above reporting put beside the reviewer's dashboard (a unit's self-check, the overdue
rectification tasks of a spot check): reporting knows only this registry, and an app registers a provider at
start-up (its AppConfig.ready), so the layers keep pointing down."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from songnuan.campaigns.models import Campaign
from songnuan.orgs.models import Unit
from songnuan.orgs.permissions import User


@dataclass(frozen=True)
class Note:
    """A short text (already translated), a link to the page that says more, and whether it needs action."""

    text: str
    url: str
    warning: bool = False


#: (campaign, the dashboard's units, the user) → {unit id: notes}; one query or two, whatever the units.
UnitNotes = Callable[[Campaign, Sequence[Unit], User], dict[int, list[Note]]]
#: (campaign, the user) → notes about the campaign as a whole.
CampaignNotes = Callable[[Campaign, User], list[Note]]

_UNIT_PROVIDERS: list[UnitNotes] = []
_CAMPAIGN_PROVIDERS: list[CampaignNotes] = []


def register(*, units: UnitNotes | None = None, campaign: CampaignNotes | None = None) -> None:
    if units is not None and units not in _UNIT_PROVIDERS:
        _UNIT_PROVIDERS.append(units)
    if campaign is not None and campaign not in _CAMPAIGN_PROVIDERS:
        _CAMPAIGN_PROVIDERS.append(campaign)


def unit_notes(campaign: Campaign, units: Sequence[Unit], user: User) -> dict[int, list[Note]]:
    found: dict[int, list[Note]] = {}
    for provider in _UNIT_PROVIDERS:
        for unit_id, notes in provider(campaign, units, user).items():
            found.setdefault(unit_id, []).extend(notes)
    return found


def campaign_notes(campaign: Campaign, user: User) -> list[Note]:
    return [note for provider in _CAMPAIGN_PROVIDERS for note in provider(campaign, user)]
