"""Whether to offer the campaign-writing links on the reporting app's campaign pages (list and home), which
ask this rule without their views having to pass it: `{% load campaign_admin %}`."""

from __future__ import annotations

from django import template

from songnuan.campaigns.models import Campaign
from songnuan.orgs.permissions import User, account_of, may_create_campaign

register = template.Library()


@register.simple_tag
def may_create_campaign_here(user: User) -> bool:
    """The user may create a campaign of its own unit (/campaigns/new/)."""
    account = account_of(user)
    return account is not None and may_create_campaign(user, account.unit)


@register.simple_tag
def may_write_campaign(user: User, campaign: Campaign) -> bool:
    """The user may copy or edit `campaign` (an admin of its owner)."""
    return may_create_campaign(user, campaign.owner)
