"""`{{ last_year|last_year_shown:row.code }}`: last year's value of an item on the entry page ("—": blank)."""

from __future__ import annotations

from django import template

from songnuan.reporting.last_year import LastYear

register = template.Library()


@register.filter
def last_year_shown(last_year: LastYear | None, code: str) -> str:
    return last_year.shown(code) if last_year is not None else ""
