from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from songnuan.formkit.i18n import current_translator, use_translator
from tests.checks.checksworld import build_helped
from tests.world import World


@pytest.fixture
def helped(world: World) -> dict[str, Any]:
    return build_helped(world)


@pytest.fixture
def marked_translator() -> Iterator[None]:
    """Messages marked "[译]" while the test runs (they are translated when made, not when imported)."""
    previous = current_translator()  # Django's, when the whole suite runs: put it back after
    use_translator(lambda message: f"[译]{message}")
    yield
    use_translator(previous)
