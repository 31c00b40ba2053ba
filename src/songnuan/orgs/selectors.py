"""Reads of the unit tree (who may see which units is `songnuan.orgs.permissions`)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from songnuan.orgs.models import Unit


def unit_subtree(unit: Unit) -> QuerySet[Unit]:
    return Unit.objects.filter(path__startswith=unit.path)


def unit_with_below(unit_id: int) -> Unit | None:
    """The unit, with `has_units_below`: whether any unit is below it (open or closed), in the same query —
    the entry page's 全辖 / 下级合计 column asks it of every table it draws."""
    # A child, by the indexed parent key: a LIKE on the outer row's path could use no index, and the tree
    # may hold millions of units.
    children = Unit.objects.filter(parent_id=OuterRef("pk"))
    return Unit.objects.annotate(has_units_below=Exists(children)).filter(pk=unit_id).first()
