from __future__ import annotations

import pytest

from tests.ledger.ledgerworld import LedgerWorld, build_ledger_world
from tests.world import World


@pytest.fixture
def ledger(world: World) -> LedgerWorld:
    return build_ledger_world(world)
