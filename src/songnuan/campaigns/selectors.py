"""Which campaigns concern a user, and which units a campaign concerns (for the pages and the API alike)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef, Q, QuerySet

from songnuan.campaigns.models import Campaign
from songnuan.orgs.models import Unit, path_ids
from songnuan.orgs.permissions import account_of, units_visible_to


def unit_takes_part(campaign: Campaign, unit: Unit) -> bool:
    """The notice concerns the unit: it sent it, or the unit is an addressee or below one."""
    return unit.pk == campaign.owner_id or campaign.addressees.filter(pk__in=path_ids(unit.path)).exists()


def campaign_for_unit(campaign_id: int, unit: Unit) -> tuple[Campaign, bool] | None:
    """The campaign, and whether it concerns `unit` (`unit_takes_part`), in one query; None: no such
    campaign."""
    addressed = Campaign.addressees.through.objects.filter(
        campaign_id=OuterRef("pk"), unit_id__in=path_ids(unit.path)
    )
    campaign = Campaign.objects.annotate(addressed=Exists(addressed)).filter(pk=campaign_id).first()
    if campaign is None:
        return None
    return campaign, unit.pk == campaign.owner_id or bool(campaign.addressed)


def units_taking_part(campaign: Campaign, units: QuerySet[Unit]) -> QuerySet[Unit]:
    """Those of `units` the campaign concerns, as `unit_takes_part` decides for one unit."""
    condition = Q(pk=campaign.owner_id)
    for path in campaign.addressees.values_list("path", flat=True):
        condition |= Q(path__startswith=path)
    return units.filter(condition).order_by("path")


def campaigns_visible_to(user: User) -> QuerySet[Campaign]:
    """Campaigns whose owner or an addressee the user sees, or addressed to a unit above the user's."""
    account = account_of(user)
    if account is None:
        return Campaign.objects.none()
    visible = units_visible_to(user)
    return Campaign.objects.filter(
        Q(owner__in=visible) | Q(addressees__in=visible) | Q(addressees__in=path_ids(account.unit.path))
    ).distinct()
