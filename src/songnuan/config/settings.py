"""Django settings. SQLite by default; DATABASE_URL=postgres://user@host:port/name switches to PostgreSQL."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

BASE_DIR = Path(__file__).resolve().parents[3]

DEBUG = os.environ.get("SONGNUAN_DEBUG", "1") == "1"
# The development key only ever serves `make run` on 127.0.0.1; production sets SONGNUAN_SECRET_KEY.
SECRET_KEY = os.environ.get("SONGNUAN_SECRET_KEY", "dev-only-songnuan-not-for-production")
if not DEBUG and SECRET_KEY.startswith("dev-only"):
    raise RuntimeError("SONGNUAN_SECRET_KEY must be set when SONGNUAN_DEBUG=0")
ALLOWED_HOSTS = os.environ.get("SONGNUAN_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "songnuan.orgs",
    "songnuan.campaigns",
    "songnuan.reporting",
    "songnuan.registry",
    "songnuan.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "songnuan.config.urls"
WSGI_APPLICATION = "songnuan.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def database_from_url(url: str) -> dict[str, Any]:
    """The DATABASES entry for sqlite:///path or postgres://user:password@host:port/name."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        name = parts.path[1:] or ":memory:"
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": name,
            # Autosaves from several people at once: WAL lets readers go on while one writes, IMMEDIATE takes
            # the write lock at BEGIN (no deadlock on upgrade), and a writer waits up to 20 s for its turn.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # A file, not shared-cache memory (which locks whole tables), for tests with a live server.
            "TEST": {"NAME": str(Path(tempfile.gettempdir()) / f"songnuan-test-{os.getpid()}.sqlite3")},
        }
    if parts.scheme in ("postgres", "postgresql"):
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            # Several test runs at once (one per developer session) each need their own test database.
            "TEST": {"NAME": os.environ.get("SONGNUAN_PG_TEST_DB") or None},
        }
    raise ValueError(f"unsupported DATABASE_URL scheme: {parts.scheme!r}")


DATABASES = {
    "default": database_from_url(os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")),
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Chinese first; English can be added through Django's i18n (msgids in the code are the Chinese source text).
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# Stored in UTC, shown in China Standard Time.
USE_TZ = True
TIME_ZONE = "Asia/Shanghai"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "campaign:list"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = 8 * 3600  # a working day; an expired session returns to the draft after logging in again
MEDIA_ROOT = Path(os.environ.get("SONGNUAN_MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = "media/"
#: The written activity report: .doc/.docx/.wps/.pdf, at most this size.
SONGNUAN_MAX_REPORT_BYTES = 20 * 1024 * 1024
# Archive imports: the uploaded file is kept here while it is mapped and imported; the import runs in a
# background thread so the page can show progress (tests run it in the request instead).
SONGNUAN_IMPORT_DIR = Path(os.environ.get("SONGNUAN_IMPORT_DIR", MEDIA_ROOT / "imports"))
SONGNUAN_IMPORT_IN_BACKGROUND = True
SONGNUAN_MAX_IMPORT_BYTES = 300 * 1024 * 1024
# The difficulty types (困难类型) the federation grades its archive by; a file's type must be one of them.
SONGNUAN_DIFFICULTY_TYPES = [
    kind.strip()
    for kind in os.environ.get("SONGNUAN_DIFFICULTY_TYPES", "深度困难,相对困难,意外致困").split(",")
    if kind.strip()
]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "build" / "static"

# Uploaded tables are read in memory and never stored; these bound what one request may send.
FILE_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 50
SONGNUAN_MAX_UPLOAD_FILES = 50
