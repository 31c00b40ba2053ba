"""Permission matrices written as tables: a heading of roles, a row per action, a cell per role (a status
code, or a word naming what happened). One parser for every app's matrix tests."""

from __future__ import annotations

from typing import Any

import pytest


def matrix_cases(table: str) -> list[Any]:
    """pytest params (action, role, expected): `expected` an int for a status code, else the cell's word."""
    heading, *rows = [line.split() for line in table.strip().splitlines()]
    return [
        pytest.param(action, role, int(cell) if cell.isdigit() else cell, id=f"{action}-{role}")
        for action, *cells in rows
        for role, cell in zip(heading[1:], cells, strict=True)
    ]
