"""Django settings. SQLite by default; DATABASE_URL=postgres://user@host:port/name switches to PostgreSQL."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

from songnuan.config.secret_key import key_file, key_problem, read_secret_key

BASE_DIR = Path(__file__).resolve().parents[3]


def env_flag(name: str, default: bool = False) -> bool:
    """An on/off environment switch: 1 is on, 0 is off, unset is the default."""
    return os.environ.get(name, "1" if default else "0").strip() == "1"


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Safe by default: Django's technical pages (settings, source, SQL) only when asked for with SONGNUAN_DEBUG=1.
DEBUG = env_flag("SONGNUAN_DEBUG")
# SONGNUAN_SECRET_KEY, else the key file `make run` generates once (var/secret_key, mode 0600, not in git).
SECRET_KEY = read_secret_key()
if (secret_key_problem := key_problem(SECRET_KEY)) is not None:
    if not DEBUG:
        raise ImproperlyConfigured(
            f"{secret_key_problem}，拒绝启动（SONGNUAN_DEBUG=0）。请设置环境变量 SONGNUAN_SECRET_KEY"
            f"（至少 50 个随机字符），或运行 `python -m songnuan.config.secret_key` 生成 {key_file()}"
            "（make run 会自动生成）。"
        )
    SECRET_KEY = secrets.token_urlsafe(64)  # debugging without a key: one for this process (sessions end)
ALLOWED_HOSTS = env_list("SONGNUAN_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("SONGNUAN_CSRF_TRUSTED_ORIGINS")  # e.g. https://songnuan.example.cn

# HTTPS in production (SONGNUAN_HTTPS=1): cookies only over HTTPS, http:// redirected, HSTS for a year.
# Behind a reverse proxy that ends TLS (SONGNUAN_BEHIND_PROXY=1) the proxy must set X-Forwarded-Proto (and
# overwrite any the client sent), or the redirect loops; it must also append the client's address to
# X-Forwarded-For, which the login throttling then reads (songnuan.orgs.throttle.client_address).
HTTPS = env_flag("SONGNUAN_HTTPS")
BEHIND_PROXY = env_flag("SONGNUAN_BEHIND_PROXY")
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 365 * 24 * 3600 if HTTPS else 0
# Subdomains and preloading are on with HTTPS (what `check --deploy` asks); turn them off with
# SONGNUAN_HSTS_SUBDOMAINS=0 / SONGNUAN_HSTS_PRELOAD=0 when other hosts of the domain still serve plain HTTP.
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS and env_flag("SONGNUAN_HSTS_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = HTTPS and env_flag("SONGNUAN_HSTS_PRELOAD", default=True)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # the API docs page (Swagger UI) from its own static files, no network
    "django_tasks_db",  # the task queue's table (imports run on `manage.py db_worker`)
    "songnuan.site",  # the site shell: base template and shared CSS (templates and static only)
    "songnuan.orgs",
    "songnuan.campaigns",
    "songnuan.notices",
    "songnuan.reporting",
    "songnuan.archive",
    "songnuan.ledger",
    "songnuan.checks",
    "songnuan.api",
    "songnuan.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "songnuan.config.static.StaticFilesMiddleware",  # WhiteNoise: CSS/JS with DEBUG off, no web server needed
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "songnuan.orgs.middleware.PasswordChangeRequiredMiddleware",  # a one-time password is changed first
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "songnuan.site.middleware.MethodNotAllowedPageMiddleware",  # Django has no handler405: a Chinese page
]

ROOT_URLCONF = "songnuan.config.urls"
WSGI_APPLICATION = "songnuan.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [Path(__file__).resolve().parent / "templates"],  # the Chinese 400/403/404/500 pages
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "songnuan.notices.context_processors.notices",  # the header's 待办 (n)
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
            # No JIT: it spends ≈ 200 ms compiling each larger report query (the self-check's, a roll-up's)
            # that then runs in less than that.
            "OPTIONS": {"options": "-c jit=off"},
            # A connection kept for a minute (checked before reuse): opening one costs ≈ 5 ms a request, and
            # reusing them more than doubled the entry page's throughput under load (issue 14).
            "CONN_MAX_AGE": int(os.environ.get("SONGNUAN_CONN_MAX_AGE", "60")),
            "CONN_HEALTH_CHECKS": True,
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
# Archive and roster imports: the uploaded file is kept here while it is mapped and imported; the import runs
# on the task worker (`manage.py db_worker`, started by `make run`) so the page can show progress and a
# restart of the web server does not cut it (tests run it in the request instead). The worker shares this
# directory: on several machines it must be shared storage.
SONGNUAN_IMPORT_DIR = Path(os.environ.get("SONGNUAN_IMPORT_DIR", MEDIA_ROOT / "imports"))
SONGNUAN_IMPORT_IN_BACKGROUND = True
#: A running import whose progress has not moved for this long lost its worker: it is marked failed (its
#: transaction rolled back with the worker) and may be run again. Longer than any quiet stretch of a large
#: import (its final commit).
SONGNUAN_IMPORT_STALLED_AFTER = int(os.environ.get("SONGNUAN_IMPORT_STALLED_AFTER", "900"))
# Background work: Django's tasks framework, kept in the database (django-tasks-db), so that it works on
# SQLite and PostgreSQL alike with no other server.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
SONGNUAN_MAX_IMPORT_BYTES = 300 * 1024 * 1024
# The difficulty types (困难类型) the federation grades its archive by; a file's type must be one of them.
SONGNUAN_DIFFICULTY_TYPES = [
    kind.strip()
    for kind in os.environ.get("SONGNUAN_DIFFICULTY_TYPES", "深度困难,相对困难,意外致困").split(",")
    if kind.strip()
]

# Notices are also e-mailed (to accounts with an address) through Django's default mailer: the console by
# default; SONGNUAN_SMTP_HOST (with _PORT, _USER, _PASSWORD, _TLS=1) sends through that server. MAILERS, not
# the EMAIL_* settings Django 6.1 deprecates. SONGNUAN_SITE_URL (https://songnuan.example.cn) makes the links
# in the mails absolute.
MAILERS: dict[str, dict[str, Any]] = {
    "default": (
        {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ["SONGNUAN_SMTP_HOST"],
                "port": int(os.environ.get("SONGNUAN_SMTP_PORT", "25")),
                "username": os.environ.get("SONGNUAN_SMTP_USER", ""),
                "password": os.environ.get("SONGNUAN_SMTP_PASSWORD", ""),
                "use_tls": env_flag("SONGNUAN_SMTP_TLS"),
                "timeout": 20,
            },
        }
        if os.environ.get("SONGNUAN_SMTP_HOST")
        else {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    )
}
# Without a mail server the notices are in-app only and their mails go to the console (the log): a deliberate
# choice, so `check --deploy` is not to call the console backend a mistake (mail.E001) in that case.
SILENCED_SYSTEM_CHECKS = [] if os.environ.get("SONGNUAN_SMTP_HOST") else ["mail.E001"]
DEFAULT_FROM_EMAIL = os.environ.get("SONGNUAN_MAIL_FROM", "songnuan@localhost")
SONGNUAN_SITE_URL = os.environ.get("SONGNUAN_SITE_URL", "")

STATIC_URL = "static/"
# WhiteNoise serves the static files. Straight from the apps (finders): `make run` and the tests need no
# collectstatic; a deployment may run `manage.py collectstatic` into STATIC_ROOT to serve gzipped copies.
STATIC_ROOT = Path(os.environ.get("SONGNUAN_STATIC_ROOT", BASE_DIR / "build" / "static"))
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# The login throttling counts failures in the cache. One process: its own memory. Several processes (gunicorn
# workers): REDIS_URL=redis://127.0.0.1:6379/0 so that they share one count.
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES: dict[str, dict[str, Any]] = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "songnuan",
        }
        if REDIS_URL
        # Room for the counters of a spraying attack: the default 300 entries would cull the locks themselves.
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": {"MAX_ENTRIES": 100_000}}
    )
}

# Uploaded tables are read in memory and never stored; these bound what one request may send.
FILE_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 50
SONGNUAN_MAX_UPLOAD_FILES = 50
# The anonymous upload check (/check/): a filled table is 10–50 KB, so per file, per request, and per address
# (files a minute, counted in the cache); or, where the operator chooses, only for logged-in users.
SONGNUAN_CHECK_MAX_FILE_BYTES = 5 * 1024 * 1024
SONGNUAN_CHECK_MAX_FILES = 20
SONGNUAN_CHECK_MAX_REQUEST_BYTES = 20 * 1024 * 1024
SONGNUAN_CHECK_FILES_PER_MINUTE = 30
SONGNUAN_CHECK_REQUIRES_LOGIN = env_flag("SONGNUAN_CHECK_REQUIRES_LOGIN")
