"""Load benchmark of the data-entry page against a logged-in empty page and a hello-world view, all served by
the same server in the same run.

Command (from the repository root; the figures are in BENCHMARKS.md):

    .venv/bin/python bench/bench_entry_load.py --clients 20 --seconds 10 --db sqlite

It creates a scratch database (a temporary SQLite file, or a PostgreSQL database at 127.0.0.1:5432 that it
creates and drops), runs `manage.py migrate` and `manage.py seed_demo` on it, and starts the real server —
gunicorn as `make run` starts it (--server gunicorn, the default: one sync worker per core, a connection
closed after each response), or `manage.py runserver --noreload` (--server runserver: Django's threaded
development server, one thread per connection, HTTP/1.1 keep-alive) — on 127.0.0.1 with a settings
module written to a temporary directory: the project's settings with DEBUG off, per-request logging off,
TCP_NODELAY on runserver's connections (see --nagle; gunicorn sets it itself), that database, and a URLconf
of the project's URLs plus `bench-empty/` (a logged-in page with nothing on it: the session and the user
read) and `bench-hello/` (a view returning "hello"), through the same middleware. Nothing is added under
src/.

--clients sessions log in as `education_reporter` (市教育工会, password `songnuan-demo`) through the login
page (if the project has none, they get sessions made the way `login()` makes them; the report says which).
Each client is a thread with one keep-alive `http.client` connection. Measured, one after the other:

  (i)  GET /campaigns/<campaign>/units/<unit>/forms/<form>/, the data-entry page (the clients alternate the
       two forms), for --seconds, all clients at once, each as fast as it can (closed loop);
  (ii) GET /bench-hello/ the same way, and GET /bench-empty/ (the logged-in empty page);
  (iii) GET /api/campaigns/<campaign>/units/<unit>/forms/<form>, the same unit's table as JSON (the two forms
       in turn);
  (iv) POST …/forms/<form>/check with {"values": {...}}: a few of the table's items (CHECK_ITEMS, with the
       values the table holds) as the entry page's live check sends them, JSON body, X-CSRFToken header = the
       csrftoken cookie; nothing is stored;
  and then each of the four with one client alone for --solo-seconds (the latency without queueing).

Each phase starts after a 1 s warm-up and is bounded by time and by --max-requests per client. Reported:
p50/p95/p99 latency, throughput, and each phase's throughput over hello-world's in the same run. Goals from
the issues: entry p95 < 50 ms (with --clients clients), entry throughput ≥ 50 % of the logged-in empty
page's (issue 14; ≥ 30 % of hello-world's, an earlier issue). If the
data-entry page does not answer 200, another logged-in page is measured instead (--fallback-path) and the
report says so.

The client runs in this process on the same machine (2 cores here), so the figures are relative: the load
generator takes CPU from the server, more so for the cheap hello-world view.

Options: --clients N, --seconds S, --solo-seconds S, --db sqlite|postgres, --max-requests N, --json,
--conn-max-age SECONDS (default: the project's setting), --debug (DEBUG on), --nagle (runserver's sockets as
they come), --pg-url, --entry-path, --fallback-path, --in-process N.

--in-process N starts no server: on the same kind of scratch database it times N GETs of each form's entry
page (and of the API table, where it answers 200) in one process through django.test.Client, logged in with
force_login, after 5 warm-up requests, and counts the SQL queries of one request. This is the per-request
cost without load; run it with PYTHONPATH=<another checkout>/src to measure another version of the code.

The exit status is always 0: this measures, it does not test. The server's process group, the temporary
files and the scratch database are removed on the way out, also after an error.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench_rollup import DEFAULT_PG_URL, load_average, machine, scratch_database

ROOT = Path(__file__).resolve().parent.parent
MANAGE = ROOT / "manage.py"
USERNAME = "education_reporter"
PASSWORD = "songnuan-demo"
UNIT_NAME = "市教育工会"
FORM_CODES = ("warmth-2018", "service-centres-2017")
HELLO_PATH = "/bench-hello/"
EMPTY_PATH = "/bench-empty/"
API_TABLE_PATH = "/api/campaigns/{campaign}/units/{unit}/forms/{form}"
API_CHECK_SUFFIX = "/check"
API_CSRF_PATH = "/api/me"  # sets the csrftoken cookie
CHECK_ITEMS = 3  # items sent in each check
GOAL_ENTRY_P95_MS = 50.0
GOAL_ENTRY_OVER_HELLO = 0.30
GOAL_ENTRY_OVER_EMPTY = 0.50
WARM_UP_SECONDS = 1.0
REQUEST_TIMEOUT = 15.0

SETTINGS_TEMPLATE = """\
# Written by bench/bench_entry_load.py into a temporary directory; removed after the run.
from songnuan.config.settings import *  # noqa: F403
from songnuan.config.settings import database_from_url

ROOT_URLCONF = "bench_entry_urls"
DATABASES = {{"default": database_from_url({url!r})}}
DATABASES["default"].update({db_extra!r})
DEBUG = {debug!r}
SECRET_KEY = {secret!r}
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
if {nodelay!r}:
    # runserver (wsgiref) sends the headers and the body in two send() calls; with Nagle's algorithm on, a
    # keep-alive response waits for the client's delayed ACK of the headers: 40 ms on Linux, every time.
    # Production servers set TCP_NODELAY (gunicorn does); so does this bench, on the accepted connections.
    import socket as _socket

    from django.core.servers import basehttp as _basehttp

    _setup = _basehttp.WSGIRequestHandler.setup

    def _setup_nodelay(self):  # type: ignore[no-untyped-def]
        _setup(self)
        self.connection.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)

    _basehttp.WSGIRequestHandler.setup = _setup_nodelay
LOGGING = {{
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {{"stderr": {{"class": "logging.StreamHandler"}}}},
    "loggers": {{
        # no line per request (a production server would not print one either); errors still show
        "django.server": {{"handlers": ["stderr"], "level": "ERROR", "propagate": False}},
        "django.request": {{"handlers": ["stderr"], "level": "ERROR", "propagate": False}},
    }},
}}
"""

URLCONF = """\
# Written by bench/bench_entry_load.py into a temporary directory; removed after the run.
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import path

from songnuan.config.urls import urlpatterns as project_urlpatterns


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse("hello", content_type="text/plain")


@login_required
def empty(request: HttpRequest) -> HttpResponse:
    # A logged-in page with nothing on it: the session and the user read, as every page of the site.
    return HttpResponse(request.user.get_username(), content_type="text/plain")


urlpatterns = [path("bench-hello/", hello), path("bench-empty/", empty), *project_urlpatterns]
"""


# --- the server ------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_settings(folder: Path, url: str, debug: bool, conn_max_age: int | None, nodelay: bool) -> None:
    db_extra: dict[str, Any] = {} if conn_max_age is None else {"CONN_MAX_AGE": conn_max_age}
    secret = "bench-" + secrets.token_urlsafe(48)
    text = SETTINGS_TEMPLATE.format(url=url, db_extra=db_extra, debug=debug, secret=secret, nodelay=nodelay)
    (folder / "bench_entry_settings.py").write_text(text, encoding="utf-8")
    (folder / "bench_entry_urls.py").write_text(URLCONF, encoding="utf-8")


def child_env(folder: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(folder), env.get("PYTHONPATH", "")]))
    env["DJANGO_SETTINGS_MODULE"] = "bench_entry_settings"
    env.pop("DATABASE_URL", None)
    return env


def run_child_json(code: str, folder: Path, what: str) -> dict[str, Any]:
    """Run `code` in a child Python with the bench's Django settings; its last printed line is JSON."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=child_env(folder),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def manage(folder: Path, *arguments: str, timeout: float = 600) -> str:
    done = subprocess.run(
        [sys.executable, str(MANAGE), *arguments],
        env=child_env(folder),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(arguments)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


@contextlib.contextmanager
def running_server(
    folder: Path, port: int, server: str = "gunicorn", workers: int | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """The server in its own process group — gunicorn as `make run` starts it (sync workers, one per core,
    or `workers`), or `manage.py runserver --noreload` —; the whole group is ended afterwards."""
    log = (folder / "server.log").open("wb")
    if server == "gunicorn":
        command = [
            sys.executable, "-m", "gunicorn", "songnuan.config.wsgi", "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers or os.cpu_count() or 1), "--timeout", "120",
        ]  # fmt: skip
    else:
        command = [sys.executable, str(MANAGE), "runserver", f"127.0.0.1:{port}", "--noreload"]
    process = subprocess.Popen(
        command,
        env=child_env(folder),
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited ({process.returncode}):\n{server_log(folder)}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                status, _body, _headers = fetch(port, HELLO_PATH)
                if status == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not answer within 90 s:\n{server_log(folder)}")
            time.sleep(0.3)
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.close()


def server_log(folder: Path, lines: int = 40) -> str:
    try:
        text = (folder / "server.log").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def fetch(
    port: int,
    path: str,
    cookies: Mapping[str, str] | None = None,
    form: Mapping[str, str] | None = None,
    json_body: bytes | None = None,
) -> tuple[int, bytes, http.client.HTTPMessage]:
    """One request on a fresh connection (set-up and checks; the load uses `Client`)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        headers = {"Cookie": cookie_header(cookies)} if cookies else {}
        if json_body is not None:
            headers["Content-Type"] = "application/json"
            headers["X-CSRFToken"] = (cookies or {}).get("csrftoken", "")
            connection.request("POST", path, body=json_body, headers=headers)
        elif form is None:
            connection.request("GET", path, headers=headers)
        else:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            connection.request("POST", path, body=urlencode(form), headers=headers)
        response = connection.getresponse()
        return response.status, response.read(), response.headers
    finally:
        connection.close()


def cookie_header(cookies: Mapping[str, str] | None) -> str:
    return "; ".join(f"{name}={value}" for name, value in (cookies or {}).items())


def set_cookies(headers: http.client.HTTPMessage) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for value in headers.get_all("Set-Cookie") or []:
        jar.load(value)
    return {name: morsel.value for name, morsel in jar.items()}


# --- what the clients need: ids, the login ---------------------------------------------------------------


def lookups(folder: Path) -> dict[str, Any]:
    """The demo campaign's id, the unit id and the login URL, read through Django with the bench settings."""
    code = textwrap.dedent(
        f"""
        import json
        import django
        django.setup()
        from django.urls import NoReverseMatch, reverse
        from songnuan.campaigns.models import Campaign
        from songnuan.demo.management.commands.seed_demo import demo_data
        from songnuan.orgs.models import Unit
        try:
            login = reverse("login")
        except NoReverseMatch:
            login = None
        print(json.dumps({{
            # the demo's campaign of this year (the reporter's draft), not last year's (accepted, read-only)
            "campaign": Campaign.objects.get(document_number=demo_data()["campaign"]["document_number"]).pk,
            "unit": Unit.objects.get(name={UNIT_NAME!r}).pk,
            "login": login,
        }}))
        """
    )
    return run_child_json(code, folder, "looking up the ids")


def direct_sessions(folder: Path, count: int) -> list[dict[str, str]]:
    """Sessions made as `django.contrib.auth.login()` makes them, when the project has no login page yet."""
    code = textwrap.dedent(
        f"""
        import json
        import django
        django.setup()
        from django.conf import settings
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
        from django.contrib.sessions.backends.db import SessionStore
        user = get_user_model().objects.get(username={USERNAME!r})
        keys = []
        for _ in range({count}):
            session = SessionStore()
            session[SESSION_KEY] = user._meta.pk.value_to_string(user)
            session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.create()
            keys.append(session.session_key)
        print(json.dumps({{"cookie": settings.SESSION_COOKIE_NAME, "keys": keys}}))
        """
    )
    made = run_child_json(code, folder, "making sessions")
    return [{made["cookie"]: key} for key in made["keys"]]


def form_login(
    port: int, login_path: str, username: str = USERNAME, password: str = PASSWORD
) -> dict[str, str]:
    """Log in through the login page: GET it (CSRF cookie and token), POST the form; the cookies."""
    status, body, headers = fetch(port, login_path)
    if status != 200:
        raise RuntimeError(f"GET {login_path}: HTTP {status}")
    cookies = set_cookies(headers)
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    form = {"username": username, "password": password}
    if match:
        form["csrfmiddlewaretoken"] = match.group(1).decode()
    status, body, headers = fetch(port, login_path, cookies=cookies, form=form)
    cookies.update(set_cookies(headers))
    if status not in (302, 303) or "sessionid" not in cookies:
        raise RuntimeError(f"POST {login_path}: HTTP {status}, no session (wrong form fields or password?)")
    return cookies


def log_in(port: int, folder: Path, login_path: str | None, count: int) -> tuple[list[dict[str, str]], str]:
    """`count` logged-in cookie sets, and how they were made."""
    if login_path:
        sessions: list[dict[str, str] | None] = [None] * count
        errors: list[str] = []

        def one(index: int) -> None:
            try:
                sessions[index] = form_login(port, login_path)
            except (OSError, http.client.HTTPException, RuntimeError) as error:
                errors.append(str(error))

        threads = [threading.Thread(target=one, args=(index,)) for index in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        made = [s for s in sessions if s is not None]
        if len(made) == count:
            return made, f"through the login page {login_path}"
        note = f"login page {login_path} failed ({errors[0] if errors else 'timeout'}); "
    else:
        note = "no login page in the project yet; "
    return direct_sessions(folder, count), note + "sessions made as django.contrib.auth.login() makes them"


def with_csrf_cookie(port: int, sessions: list[dict[str, str]]) -> list[dict[str, str]]:
    """Every session with a csrftoken cookie (the login page leaves one; else GET /api/me sets it)."""
    for cookies in sessions:
        if "csrftoken" not in cookies:
            _status, _body, headers = fetch(port, API_CSRF_PATH, cookies=cookies)
            cookies.update(set_cookies(headers))
    return sessions


# --- the load --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """What a client sends in a phase: GET a path, or a JSON body with the CSRF header."""

    path: str
    method: str = "GET"
    body: bytes | None = None

    @property
    def key(self) -> str:
        return self.path if self.method == "GET" else f"{self.method} {self.path}"


def gets(paths: Sequence[str]) -> list[Request]:
    return [Request(path) for path in paths]


@dataclass
class ClientResult:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    closes: int = 0
    bytes: int = 0


class Client:
    """One logged-in person: one keep-alive connection, the session cookies."""

    def __init__(self, port: int, cookies: Mapping[str, str]) -> None:
        self.port = port
        self.headers = {"Cookie": cookie_header(cookies), "Connection": "keep-alive"}
        self.write_headers = {
            **self.headers,
            "Content-Type": "application/json",
            "X-CSRFToken": cookies.get("csrftoken", ""),
        }
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)

    def send(self, request: Request, result: ClientResult | None) -> None:
        start = time.perf_counter()
        try:
            if request.body is None:
                self.connection.request(request.method, request.path, headers=self.headers)
            else:
                self.connection.request(
                    request.method, request.path, body=request.body, headers=self.write_headers
                )
            response = self.connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()  # http.client reconnects on the next request
            if result is not None:
                result.errors += 1
            return
        elapsed = time.perf_counter() - start
        if response.getheader("Connection", "").lower() == "close":
            self.connection.close()
            if result is not None:
                result.closes += 1
        if result is not None:
            result.latencies.setdefault(request.key, []).append(elapsed)
            result.statuses[response.status] = result.statuses.get(response.status, 0) + 1
            result.bytes += len(body)

    def close(self) -> None:
        self.connection.close()


def run_phase(
    clients: Sequence[Client], paths: Sequence[Request], seconds: float, max_requests: int
) -> dict[str, Any]:
    """Each client sends `paths` in turn as fast as it can, after a warm-up; bounded by time and count."""
    results = [ClientResult() for _ in clients]
    timing: dict[str, float] = {}

    def starting() -> None:  # run once, when every client has warmed up, before any is released
        timing["start"] = time.perf_counter()

    barrier = threading.Barrier(len(clients) + 1, action=starting)

    def work(index: int) -> None:
        client, result = clients[index], results[index]
        warm_until = time.perf_counter() + WARM_UP_SECONDS
        count = 0
        while time.perf_counter() < warm_until and count < max_requests:
            client.send(paths[count % len(paths)], None)
            count += 1
        barrier.wait(timeout=REQUEST_TIMEOUT + WARM_UP_SECONDS + 30)
        deadline = timing["start"] + seconds
        for count in range(max_requests):
            if time.perf_counter() >= deadline:
                break
            client.send(paths[(index + count) % len(paths)], result)

    threads = [threading.Thread(target=work, args=(index,), daemon=True) for index in range(len(clients))]
    for thread in threads:
        thread.start()
    barrier.wait(timeout=REQUEST_TIMEOUT + WARM_UP_SECONDS + 30)
    for thread in threads:
        thread.join(timeout=seconds + REQUEST_TIMEOUT + 30)
    elapsed = time.perf_counter() - timing["start"]
    return summarise(results, [request.key for request in paths], elapsed)


def percentile(ordered: Sequence[float], share: float) -> float:
    """Nearest rank."""
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def latency_figures(latencies: Sequence[float], elapsed: float) -> dict[str, Any]:
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "per_second": len(ordered) / elapsed if elapsed else 0.0,
        "p50_ms": 1000 * percentile(ordered, 0.50),
        "p95_ms": 1000 * percentile(ordered, 0.95),
        "p99_ms": 1000 * percentile(ordered, 0.99),
        "max_ms": 1000 * ordered[-1] if ordered else float("nan"),
    }


def summarise(results: Sequence[ClientResult], paths: Sequence[str], elapsed: float) -> dict[str, Any]:
    everything: list[float] = []
    by_path: dict[str, list[float]] = {path: [] for path in paths}
    statuses: dict[int, int] = {}
    for result in results:
        for path, latencies in result.latencies.items():
            by_path[path].extend(latencies)
            everything.extend(latencies)
        for status, count in result.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
    total = sum(statuses.values())
    return {
        "clients": len(results),
        "seconds": elapsed,
        **latency_figures(everything, elapsed),
        "by_path": {path: latency_figures(latencies, elapsed) for path, latencies in by_path.items()},
        "statuses": {str(status): count for status, count in sorted(statuses.items())},
        "errors": sum(r.errors for r in results),
        "connection_closes": sum(r.closes for r in results),
        "bytes_per_response": sum(r.bytes for r in results) / total if total else 0.0,
    }


# --- the run ---------------------------------------------------------------------------------------------


def entry_paths(
    port: int, cookies: Mapping[str, str], ids: Mapping[str, Any], args: argparse.Namespace
) -> tuple[list[str], str]:
    """The data-entry pages of the two forms, or the fallback page if the data-entry page is not there."""
    template = args.entry_path
    paths = [template.format(campaign=ids["campaign"], unit=ids["unit"], form=code) for code in FORM_CODES]
    status, _body, headers = fetch(port, paths[0], cookies=cookies)
    if status == 200:
        return paths, f"the data-entry page ({template})"
    location = headers.get("Location", "")
    return [args.fallback_path], (
        f"NOT the data-entry page: GET {paths[0]} answered HTTP {status}"
        f"{' → ' + location if location else ''};"
        f" measured {args.fallback_path} instead"
    )


def api_requests(
    port: int, cookies: Mapping[str, str], ids: Mapping[str, Any]
) -> tuple[list[Request], list[Request], list[str]]:
    """(iii) the API table of each form, (iv) a check of each with CHECK_ITEMS of its items, and notes on
    what did not answer 200 (measured anyway: the statuses show it)."""
    tables: list[Request] = []
    checks: list[Request] = []
    notes: list[str] = []
    for code in FORM_CODES:
        path = API_TABLE_PATH.format(campaign=ids["campaign"], unit=ids["unit"], form=code)
        tables.append(Request(path))
        status, body, _headers = fetch(port, path, cookies=cookies)
        values: dict[str, Any] = {}
        if status == 200:
            stored: dict[str, Any] = json.loads(body)["values"]
            filled = [item for item, value in stored.items() if value is not None]
            chosen = (filled + [item for item in stored if item not in filled])[:CHECK_ITEMS]
            values = {item: stored[item] for item in chosen}
        else:
            notes.append(f"GET {path}: HTTP {status} {body[:200]!r}")
        body_sent = json.dumps({"values": values}, ensure_ascii=False).encode()
        check = Request(path + API_CHECK_SUFFIX, "POST", body_sent)
        checks.append(check)
        status, body, _headers = fetch(port, check.path, cookies=cookies, json_body=body_sent)
        if status != 200:
            notes.append(f"POST {check.path}: HTTP {status} {body[:200]!r}")
    return tables, checks, notes


def run(args: argparse.Namespace) -> dict[str, Any]:
    db = "postgresql" if args.db == "postgres" else "sqlite"
    folder = Path(tempfile.mkdtemp(prefix="songnuan-bench-entry-"))
    try:
        with scratch_database(db, args.pg_url, label="entry") as url:
            write_settings(folder, url, args.debug, args.conn_max_age, not args.nagle)
            manage(folder, "migrate", "--noinput")
            manage(folder, "seed_demo")
            ids = lookups(folder)
            port = free_port()
            with running_server(folder, port, args.server):
                sessions, how = log_in(port, folder, ids["login"], args.clients)
                sessions = with_csrf_cookie(port, sessions)
                paths, measured = entry_paths(port, sessions[0], ids, args)
                tables, checks, api_notes = api_requests(port, sessions[0], ids)
                clients = [Client(port, cookies) for cookies in sessions]
                entry_requests, hello_requests, empty_requests = (
                    gets(paths),
                    gets([HELLO_PATH]),
                    gets([EMPTY_PATH]),
                )
                seconds, solo, most = args.seconds, args.solo_seconds, args.max_requests
                try:
                    phases = {
                        "entry": run_phase(clients, entry_requests, seconds, most),
                        "hello": run_phase(clients, hello_requests, seconds, most),
                        "empty": run_phase(clients, empty_requests, seconds, most),
                        "api_table": run_phase(clients, tables, seconds, most),
                        "api_check": run_phase(clients, checks, seconds, most),
                        "entry_solo": run_phase(clients[:1], entry_requests, solo, most),
                        "hello_solo": run_phase(clients[:1], hello_requests, solo, most),
                        "empty_solo": run_phase(clients[:1], empty_requests, solo, most),
                        "api_table_solo": run_phase(clients[:1], tables, solo, most),
                        "api_check_solo": run_phase(clients[:1], checks, solo, most),
                    }
                finally:
                    for client in clients:
                        client.close()
                log_tail = server_log(folder, 20)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    entry, hello, empty = phases["entry"], phases["hello"], phases["empty"]
    ratio = entry["per_second"] / hello["per_second"] if hello["per_second"] else 0.0
    over_empty = entry["per_second"] / empty["per_second"] if empty["per_second"] else 0.0
    over_hello = {
        key: phases[key]["per_second"] / hello["per_second"] if hello["per_second"] else 0.0
        for key in ("entry", "api_table", "api_check")
    }
    return {
        "db": db,
        "server": (
            f"gunicorn, {os.cpu_count()} sync workers"
            if args.server == "gunicorn"
            else "manage.py runserver --noreload (threaded)"
            + (", Nagle on (as runserver comes)" if args.nagle else ", TCP_NODELAY on its connections")
        )
        + ", DEBUG "
        + ("on" if args.debug else "off"),
        "conn_max_age": "project setting (0)" if args.conn_max_age is None else args.conn_max_age,
        "user": f"{USERNAME} ({UNIT_NAME})",
        "sessions": how,
        "measured": measured,
        "paths": paths,
        "api_paths": [request.key for request in (*tables, *checks)],
        "check_bodies": [request.body.decode() for request in checks if request.body is not None],
        "api_notes": api_notes,
        "phases": phases,
        "entry_over_hello": ratio,
        "over_hello": over_hello,
        "p95_met": entry["p95_ms"] < GOAL_ENTRY_P95_MS and entry["requests"] > 0,
        "ratio_met": ratio >= GOAL_ENTRY_OVER_HELLO,
        "entry_over_empty": over_empty,
        "empty_ratio_met": over_empty >= GOAL_ENTRY_OVER_EMPTY,
        "server_log_tail": log_tail,
    }


IN_PROCESS_CODE = """
import json, statistics, time
import django
django.setup()
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
client = Client(SERVER_NAME="127.0.0.1")
client.force_login(get_user_model().objects.get(username=USERNAME))
figures = {}
for label, path in PATHS:
    status = client.get(path).status_code
    if status != 200:
        figures[label] = {"path": path, "status": status}
        continue
    for _ in range(5):
        client.get(path)
    queries = []
    def counting(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)
    with connection.execute_wrapper(counting):
        client.get(path)
    times = []
    for _ in range(COUNT):
        start = time.perf_counter()
        client.get(path)
        times.append(time.perf_counter() - start)
    times.sort()
    figures[label] = {
        "path": path,
        "status": status,
        "requests": COUNT,
        "mean_ms": 1000 * statistics.fmean(times),
        "median_ms": 1000 * statistics.median(times),
        "min_ms": 1000 * times[0],
        "p95_ms": 1000 * times[min(COUNT - 1, max(0, -(-95 * COUNT // 100) - 1))],
        "queries": len(queries),
    }
print(json.dumps({"songnuan": __import__("songnuan").__path__[0], "figures": figures}))
"""


def in_process(args: argparse.Namespace) -> dict[str, Any]:
    """--in-process: each form's entry page (and API table) timed through django.test.Client, no server."""
    db = "postgresql" if args.db == "postgres" else "sqlite"
    folder = Path(tempfile.mkdtemp(prefix="songnuan-bench-entry-"))
    try:
        with scratch_database(db, args.pg_url, label="entry") as url:
            write_settings(folder, url, args.debug, args.conn_max_age, nodelay=False)
            manage(folder, "migrate", "--noinput")
            manage(folder, "seed_demo")
            ids = lookups(folder)
            targets: list[tuple[str, str]] = []
            for template, kind in ((args.entry_path, "entry"), (API_TABLE_PATH, "api_table")):
                for code in FORM_CODES:
                    path = template.format(campaign=ids["campaign"], unit=ids["unit"], form=code)
                    targets.append((f"{kind} {code}", path))
            code = f"USERNAME = {USERNAME!r}\nPATHS = {targets!r}\nCOUNT = {args.in_process}\n"
            measured = run_child_json(code + IN_PROCESS_CODE, folder, "the in-process measurement")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"db": db, **measured}


def print_in_process(results: Mapping[str, Any]) -> None:
    m = results["machine"]
    print(f"in-process (django.test.Client, no server): {results['in_process']} requests per path")
    print(f"{m['python']} on {m['cpu']}, {m['cpus']} CPUs ({m['platform']}); Django {m['django']}")
    print(f"load average at start: {m['load_average_at_start']}, at the end: {load_average()}")
    run_ = results["run"]
    if "error" in run_:
        print(f"not measured: {run_['error']}")
        return
    print(f"database {run_['db']}; songnuan imported from {run_['songnuan']}")
    print()
    print(f"{'':36}{'mean ms':>9}{'median':>9}{'min':>9}{'p95':>9}{'queries':>9}")
    for label, f in run_["figures"].items():
        if f["status"] != 200:
            print(f"{label:36}  HTTP {f['status']} ({f['path']})")
            continue
        print(
            f"{label:36}{f['mean_ms']:9.2f}{f['median_ms']:9.2f}{f['min_ms']:9.2f}{f['p95_ms']:9.2f}"
            f"{f['queries']:9d}"
        )


# --- the report ------------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def print_report(results: Mapping[str, Any]) -> None:
    m = results["machine"]
    print(f"data-entry load benchmark: {results['clients']} clients, {results['seconds']:g} s per phase")
    print(f"{m['python']} on {m['cpu']}, {m['cpus']} CPUs ({m['platform']}); Django {m['django']}")
    print(f"load average at start: {m['load_average_at_start']}, at the end: {load_average()}")
    run_ = results["run"]
    if "error" in run_:
        print(f"not measured: {run_['error']}")
        return
    print(f"server: {run_['server']}, CONN_MAX_AGE {run_['conn_max_age']}, database {run_['db']}")
    print(f"user: {run_['user']}; sessions {run_['sessions']}")
    print(f"measured: {run_['measured']}; API: {', '.join(run_['api_paths'])}")
    print(f"check bodies: {'  '.join(run_['check_bodies'])}")
    for note in run_["api_notes"]:
        print(f"API not 200 at set-up: {note}")
    print()
    print(f"{'':34}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}  statuses")
    labels = {
        "entry": f"(i)  entry page, {results['clients']} clients",
        "hello": f"(ii) hello-world, {results['clients']} clients",
        "empty": f"     logged-in empty, {results['clients']} clients",
        "api_table": f"(iii) API table, {results['clients']} clients",
        "api_check": f"(iv) API check, {results['clients']} clients",
        "entry_solo": "     entry page, 1 client",
        "hello_solo": "     hello-world, 1 client",
        "empty_solo": "     logged-in empty, 1 client",
        "api_table_solo": "     API table, 1 client",
        "api_check_solo": "     API check, 1 client",
    }
    for key, label in labels.items():
        p = run_["phases"][key]
        extra = f"  errors {p['errors']}" if p["errors"] else ""
        extra += f"  connection closes {p['connection_closes']}" if p["connection_closes"] else ""
        print(
            f"{label:34}{p['requests']:9d}{p['per_second']:9.1f}{p['p50_ms']:9.1f}{p['p95_ms']:9.1f}"
            f"{p['p99_ms']:9.1f}{p['max_ms']:9.1f}  {p['statuses']}{extra}"
        )
        if len(p["by_path"]) > 1:
            for path, f in p["by_path"].items():
                name = "/".join(path.rstrip("/").split("/")[-1 if key.startswith("entry") else -2 :])
                print(
                    f"{'      ' + name:34}"
                    f"{f['requests']:9d}{f['per_second']:9.1f}"
                    f"{f['p50_ms']:9.1f}{f['p95_ms']:9.1f}{f['p99_ms']:9.1f}{f['max_ms']:9.1f}"
                )
    entry = run_["phases"]["entry"]
    print()
    print(f"entry page: {entry['bytes_per_response'] / 1024:.1f} KiB per response")
    print(
        f"entry p95 = {entry['p95_ms']:.1f} ms   (goal < {GOAL_ENTRY_P95_MS:g} ms)  "
        f"{verdict(run_['p95_met'])}"
    )
    print(
        f"entry / hello throughput = {run_['entry_over_hello']:.1%}   (goal ≥ {GOAL_ENTRY_OVER_HELLO:.0%})  "
        f"{verdict(run_['ratio_met'])}"
    )
    print(
        f"entry / logged-in empty throughput = {run_['entry_over_empty']:.1%}   "
        f"(goal ≥ {GOAL_ENTRY_OVER_EMPTY:.0%})  {verdict(run_['empty_ratio_met'])}"
    )
    print(
        f"API table / hello = {run_['over_hello']['api_table']:.1%}   "
        f"API check / hello = {run_['over_hello']['api_check']:.1%}"
    )
    trouble = any(
        p["errors"] or set(p["statuses"]) - {"200"} for p in run_["phases"].values()
    )  # the log shows the tracebacks; quiet otherwise (it holds only the start-up banner)
    if trouble and run_.get("server_log_tail"):
        print("\nserver log (last lines):\n" + textwrap.indent(run_["server_log_tail"], "  "))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=20, help="logged-in sessions, one thread each (20)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each loaded phase (10)")
    parser.add_argument("--solo-seconds", type=float, default=5.0, help="length of each one-client phase (5)")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--server",
        choices=("gunicorn", "runserver"),
        default="gunicorn",
        help="what serves (gunicorn, as make run)",
    )
    parser.add_argument("--max-requests", type=int, default=50_000, help="per client and phase (50000)")
    parser.add_argument(
        "--conn-max-age", type=int, help="CONN_MAX_AGE for the server (default: as the project)"
    )
    parser.add_argument("--debug", action="store_true", help="serve with DEBUG on (the default is off)")
    parser.add_argument("--nagle", action="store_true", help="leave Nagle on (runserver as is: +40 ms)")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help=f"the PostgreSQL server ({DEFAULT_PG_URL})")
    parser.add_argument(
        "--entry-path",
        default="/campaigns/{campaign}/units/{unit}/forms/{form}/",
        help="the data-entry page, with {campaign}, {unit}, {form}",
    )
    parser.add_argument(
        "--fallback-path", default="/forms/warmth-2018/", help="measured if the data-entry page answers 404"
    )
    parser.add_argument(
        "--in-process",
        type=int,
        metavar="N",
        help="no server: time N requests of each page in-process through django.test.Client",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so the finally blocks still end the server and drop the scratch database.
    signal.signal(signal.SIGTERM, lambda _signal, _frame: sys.exit(143))
    machine_at_start = machine()
    args.clients = min(max(args.clients, 1), 200)
    args.seconds = min(max(args.seconds, 0.5), 300.0)
    args.solo_seconds = min(max(args.solo_seconds, 0.5), 300.0)
    args.max_requests = max(args.max_requests, 1)
    if args.in_process is not None:
        args.in_process = min(max(args.in_process, 1), 100_000)
    try:
        run_ = in_process(args) if args.in_process else run(args)
    except Exception as error:  # a measurement, not a test: report and exit 0
        run_ = {"error": f"{type(error).__name__}: {error}"}
    results = {
        "command": " ".join([sys.executable, *sys.argv]),
        "in_process": args.in_process,
        "machine": machine_at_start,
        "clients": args.clients,
        "seconds": args.seconds,
        "run": run_,
    }
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2, default=str))
    elif args.in_process:
        print_in_process(results)
    else:
        print_report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
