from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import settings as hypothesis_settings

if TYPE_CHECKING:
    from time_machine import TimeMachineFixture

    from .world import World

# Property tests: no per-example deadline (a loaded machine is not a slow function). In CI the examples are
# derived from each test's name, so a run is reproducible and a red CI is never luck; on a developer's
# machine they are drawn anew each run, and a failure prints the blob that replays it.
hypothesis_settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
hypothesis_settings.register_profile("dev", deadline=None, print_blob=True)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") == "true" else "dev")


@pytest.fixture(autouse=True)
def fresh_compiled_forms() -> Iterator[None]:
    """Each test compiles the rules it checks: none sees rules compiled by another test (or at collection,
    where a mutant of the compiler would go unnoticed)."""
    from songnuan.formkit.engine import clear_compiled

    clear_compiled()
    yield
    clear_compiled()


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


@pytest.fixture
def frozen_now(time_machine: TimeMachineFixture) -> dt.datetime:
    """The clock stopped (not ticking) at `world.FROZEN_NOW`, just after midnight in China, for a test that
    compares dates or times with "now": it cannot fail at midnight, and a UTC/China-time mix-up shows."""
    from .world import FROZEN_NOW

    time_machine.move_to(FROZEN_NOW, tick=False)
    return FROZEN_NOW
