from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .world import World


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """Tests log many accounts in; a real password hash per login would cost seconds for nothing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def world(db: None) -> World:
    from .world import build_world

    return build_world()
