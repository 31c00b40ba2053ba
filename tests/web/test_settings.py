"""The settings are safe by default: DEBUG off, a strong key or no start, HTTPS settings for production that
`check --deploy` accepts, Chinese error pages, static files served without DEBUG, a shared cache if asked."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from django.template import loader
from django.test import Client

from songnuan.config import secret_key
from songnuan.config.settings import database_from_url

from ..world import World

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k3Y-for-the-settings-tests-" + "x9Qm2Lp7Vb4Nz8Rt6Wc1Hs5Jd3Fg0Ke"


def test_postgres_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SONGNUAN_PG_TEST_DB", raising=False)
    assert database_from_url("postgres://postgres@127.0.0.1:5432/test") == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "test",
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": "127.0.0.1",
        "PORT": "5432",
        "OPTIONS": {"options": "-c jit=off"},
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "TEST": {"NAME": None},
    }


def test_sqlite_url() -> None:
    database = database_from_url("sqlite:////tmp/x.sqlite3")
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == "/tmp/x.sqlite3"
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_unknown_scheme() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        database_from_url("mysql://x/y")


# --- starting with the settings of an environment (each in a fresh Python) ----------------------------------


def django_python(code: str, tmp_path: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    """Run `code` after django.setup() with only these SONGNUAN_*/DJANGO_*/REDIS_URL variables (the key file,
    unless given, is one that does not exist)."""
    env = {
        name: value
        for name, value in os.environ.items()
        # Not the test run's own (DJANGO_ALLOW_ASYNC_UNSAFE of the browser tests would fail check --deploy).
        if not name.startswith(("SONGNUAN_", "DJANGO_")) and name != "REDIS_URL"
    }
    env["SONGNUAN_SECRET_KEY_FILE"] = str(tmp_path / "no-key-here")
    env.update(environment)
    program = (
        "import os, django\n"
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'songnuan.config.settings'\n"
        "django.setup()\n"
        "from django.conf import settings\n" + code
    )
    return subprocess.run(
        [sys.executable, "-c", program],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


PRODUCTION = {
    "SONGNUAN_SECRET_KEY": STRONG_KEY,
    "SONGNUAN_HTTPS": "1",
    "SONGNUAN_BEHIND_PROXY": "1",
    "SONGNUAN_ALLOWED_HOSTS": "songnuan.example.cn",
    "SONGNUAN_CSRF_TRUSTED_ORIGINS": "https://songnuan.example.cn",
}


def test_check_deploy_is_clean_with_the_production_settings(tmp_path: Path) -> None:
    done = django_python(
        "from django.core.management import call_command\n"
        "call_command('check', deploy=True, fail_level='WARNING')\n",
        tmp_path,
        **PRODUCTION,
    )
    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout
    for warning in ("W004", "W008", "W009", "W012", "W016", "W018", "security."):
        assert warning not in done.stdout + done.stderr


def test_the_production_switches(tmp_path: Path) -> None:
    done = django_python(
        "print(settings.DEBUG, settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE,"
        " settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS, settings.SECURE_PROXY_SSL_HEADER,"
        " settings.CSRF_TRUSTED_ORIGINS, settings.ALLOWED_HOSTS)\n",
        tmp_path,
        **PRODUCTION,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "False True True True 31536000 ('HTTP_X_FORWARDED_PROTO', 'https') "
        "['https://songnuan.example.cn'] ['songnuan.example.cn']"
    )


def test_debug_is_off_unless_asked_for(tmp_path: Path) -> None:
    done = django_python(
        "print(settings.DEBUG, settings.SESSION_COOKIE_SECURE)", tmp_path, SONGNUAN_SECRET_KEY=STRONG_KEY
    )
    assert (
        done.stdout.strip() == "False False"
    )  # and no HTTPS switch without SONGNUAN_HTTPS (make run is http)
    asked = django_python("print(settings.DEBUG)", tmp_path, SONGNUAN_DEBUG="1")
    assert asked.returncode == 0 and asked.stdout.strip() == "True"  # debugging needs no key file


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (None, "没有设置 SECRET_KEY"),
        ("dev-only-songnuan-not-for-production", "已公开的开发用密钥"),
        ("django-insecure-" + "a1b2c3d4e5f6" * 5, "已公开的开发用密钥"),
        ("short-but-random-Q8v1", "SECRET_KEY 太弱"),
        ("abab" * 20, "SECRET_KEY 太弱"),
    ],
)
def test_without_debug_a_missing_or_weak_key_refuses_to_start(
    tmp_path: Path, key: str | None, reason: str
) -> None:
    environment = {} if key is None else {"SONGNUAN_SECRET_KEY": key}
    done = django_python("print('started')", tmp_path, **environment)
    assert done.returncode != 0 and "started" not in done.stdout
    assert "ImproperlyConfigured" in done.stderr and reason in done.stderr and "拒绝启动" in done.stderr


def test_the_key_file_is_made_once_readable_by_its_owner_only_and_used(tmp_path: Path) -> None:
    key_file = tmp_path / "var" / "secret_key"
    made = subprocess.run(
        [sys.executable, "-m", "songnuan.config.secret_key"],
        env={**os.environ, "SONGNUAN_SECRET_KEY_FILE": str(key_file), "SONGNUAN_SECRET_KEY": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    key = key_file.read_text().strip()
    assert secret_key.key_problem(key) is None
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert secret_key.create_key_file(key_file) is False and key_file.read_text().strip() == key  # kept
    done = django_python("print(settings.SECRET_KEY)", tmp_path, SONGNUAN_SECRET_KEY_FILE=str(key_file))
    assert done.returncode == 0 and done.stdout.strip() == key
    # The environment wins over the file.
    done = django_python(
        "print(settings.SECRET_KEY)",
        tmp_path,
        SONGNUAN_SECRET_KEY_FILE=str(key_file),
        SONGNUAN_SECRET_KEY=STRONG_KEY,
    )
    assert done.stdout.strip() == STRONG_KEY


def test_redis_url_switches_to_a_cache_shared_by_processes(tmp_path: Path) -> None:
    backend = "print(settings.CACHES['default']['BACKEND'], settings.CACHES['default'].get('LOCATION', ''))"
    done = django_python(
        backend, tmp_path, SONGNUAN_SECRET_KEY=STRONG_KEY, REDIS_URL="redis://127.0.0.1:6379/0"
    )
    assert done.stdout.split() == ["django.core.cache.backends.redis.RedisCache", "redis://127.0.0.1:6379/0"]
    done = django_python(backend, tmp_path, SONGNUAN_SECRET_KEY=STRONG_KEY)
    assert done.stdout.split() == ["django.core.cache.backends.locmem.LocMemCache"]


# --- pages with DEBUG off (as in the tests) -----------------------------------------------------------------


def test_an_unknown_url_gets_the_chinese_404_page(world: World) -> None:
    response = Client().get("/no/such/page/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "页面不存在" in page and 'lang="zh-hans"' in page and "Not Found" not in page
    assert "/static/site/site.css" in page  # the site's own layout, from the project-level shell


def test_a_forbidden_page_gets_the_chinese_403_page(world: World) -> None:
    response = world.client("county_reporter").get(
        f"/campaigns/{world.campaign.pk}/units/{world.sibling.pk}/forms/warmth-2018/"
    )
    page = response.content.decode()
    assert response.status_code == 403
    assert "没有权限" in page and "403 Forbidden" not in page


def test_a_bad_request_gets_the_chinese_400_page(world: World) -> None:
    response = Client(HTTP_HOST="attacker.example").get("/forms/")
    assert response.status_code == 400 and "请求有误" in response.content.decode()


def test_a_csrf_failure_gets_the_chinese_page(world: World) -> None:
    response = Client(enforce_csrf_checks=True).post("/login/", {"username": "x", "password": "y"})
    page = response.content.decode()
    assert response.status_code == 403 and "页面已过期" in page and "CSRF verification failed" not in page


def test_the_500_page_is_chinese_and_needs_nothing_from_the_request() -> None:
    page = loader.get_template("500.html").render()
    assert "服务器出错" in page and 'lang="zh-hans"' in page and "{%" not in page
    assert "/static/site/error.css" in page and "<style>" not in page  # its own small stylesheet, no base


def test_static_files_are_served_with_debug_off(db: None) -> None:
    for path in ("/static/site/site.css", "/static/site/error.css"):
        response = Client().get(path)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/css")
        assert b"body {" in b"".join(response.streaming_content)  # type: ignore[attr-defined]
        response.close()
    admin_css = Client().get("/static/admin/css/base.css")
    assert admin_css.status_code == 200
    admin_css.close()


def test_the_cache_is_local_memory_by_default_with_room_for_an_attack() -> None:
    cache.set_many({f"k{number}": number for number in range(1000)})
    assert cache.get("k0") == 0  # the default 300 entries would have culled it
