"""Rates and intervals as the results show them: a percentage to 2 places, “—” for no rate (never 0)."""

from __future__ import annotations

from decimal import Decimal

from django import template

from songnuan.checks.selectors import StratumResult
from songnuan.checks.stats import Disposition, Verdict
from songnuan.ledger.rules import mask_name

register = template.Library()

NO_RATE = "—"


@register.filter
def percent(value: Decimal | None) -> str:
    return NO_RATE if value is None else f"{value * 100:.2f}%"


@register.filter
def interval(bounds: tuple[Decimal, Decimal] | None) -> str:
    return NO_RATE if bounds is None else f"{percent(bounds[0])}–{percent(bounds[1])}"


@register.filter
def verdict_counts(line: StratumResult) -> list[int]:
    return [line.verdicts[verdict] for verdict in Verdict]


@register.filter
def verdict_label(value: str) -> str:
    return Verdict(value).label() if value else ""


@register.filter
def disposition_label(value: str) -> str:
    return Disposition(value).label() if value else ""


@register.filter
def masked_name(name: str) -> str:
    return mask_name(name)
