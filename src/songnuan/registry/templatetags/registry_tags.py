"""Masks for the archive's templates: numbers are shown masked unless the page was asked for them in full."""

from __future__ import annotations

from django import template

from songnuan.registry.idnumbers import mask_card, mask_id_number, mask_phone

register = template.Library()


@register.filter
def masked_id(number: str | None, full: bool = False) -> str:
    """{{ h.head_id_number|masked_id:full }} → 1101**********002X, or the number when `full`."""
    if not number:
        return ""
    return number if full else mask_id_number(number)


@register.filter
def masked_phone(number: str | None, full: bool = False) -> str:
    if not number:
        return ""
    return number if full else mask_phone(number)


@register.filter
def masked_card(number: str | None, full: bool = False) -> str:
    if not number:
        return ""
    return number if full else mask_card(number)
