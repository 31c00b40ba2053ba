from __future__ import annotations

import pytest

from ..world import World
from .helpers import add_county_admin


@pytest.fixture
def api_world(world: World) -> World:
    """The shared world plus an admin at the county (county_admin)."""
    add_county_admin(world)
    return world
