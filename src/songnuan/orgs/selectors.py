"""Reads of the unit tree (who may see which units is `songnuan.orgs.permissions`)."""

from __future__ import annotations

from django.db.models import QuerySet

from songnuan.orgs.models import Unit


def unit_subtree(unit: Unit) -> QuerySet[Unit]:
    return Unit.objects.filter(path__startswith=unit.path)
