"""`{{ shown|of:row.code }}`: a row's figure from a per-item mapping (the 本级 / 全辖 columns)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template

register = template.Library()


@register.filter
def of(mapping: Mapping[str, Any] | None, key: str) -> Any:
    """The entry for `key`, or "" (a blank cell) when there is none."""
    if not mapping:
        return ""
    return mapping.get(key, "")
