from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .world import World


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """Tests log many accounts in; a real password hash per login would cost seconds for nothing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    """Counters kept in the cache (the upload check's rate per address, login throttling) start anew in
    every test: the suite posts from one address far more often than a person would."""
    yield
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def world(db: None) -> World:
    from .world import build_world

    return build_world()
