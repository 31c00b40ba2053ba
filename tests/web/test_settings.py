from __future__ import annotations

import pytest

from songnuan.config.settings import database_from_url


def test_postgres_url() -> None:
    assert database_from_url("postgres://postgres@127.0.0.1:5432/test") == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "test",
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": "127.0.0.1",
        "PORT": "5432",
    }


def test_sqlite_url() -> None:
    database = database_from_url("sqlite:////tmp/x.sqlite3")
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == "/tmp/x.sqlite3"
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_unknown_scheme() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        database_from_url("mysql://x/y")
