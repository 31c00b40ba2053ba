"""What the file page asks of the transition table for the correction page's button (修改档案)."""

from __future__ import annotations

from typing import Any

from django import template

from songnuan.archive import services
from songnuan.archive.models import Household
from songnuan.archive.transitions import Action, allows

register = template.Library()


@register.simple_tag(takes_context=True)
def may_edit(context: Any, household: Household) -> bool:
    """{% may_edit household as editable %}: whether the page offers this user to correct the file now."""
    return allows(Action.EDIT, context["request"].user, household, pending=None)


@register.simple_tag
def size_warning(household: Household, members: Any) -> str:
    """{% size_warning household members as warning %}: the household size against the head and the
    members registered — a warning (blank when they agree), never an error."""
    return services.size_mismatch(household, len(members)) or ""
