"""Masks for the archive's templates: numbers are shown masked unless the page was asked for them in full."""

from __future__ import annotations

import datetime as dt

from django import template

from songnuan.archive.idnumbers import mask_card, mask_id_number, mask_phone, shown_birth_year

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


@register.filter
def birth_year(birth_date: dt.date | None) -> str:
    """{{ h.head_birth_date|birth_year }} → 1949: what is shown of a birth date beside a masked ID number."""
    year = shown_birth_year(birth_date)
    return "" if year is None else str(year)
