"""The deadline rush: many reporters logging in, autosaving their tables and submitting them within minutes,
against the real server — gunicorn as `make run` serves — on PostgreSQL or SQLite.

Command (from the repository root; the figures are in BENCHMARKS.md):

    .venv/bin/python bench/bench_deadline_rush.py --db postgres
    .venv/bin/python bench/bench_deadline_rush.py --db sqlite

It creates a scratch database (a temporary SQLite file, or a PostgreSQL database at 127.0.0.1:5432 that it
creates and drops), runs `manage.py migrate` and `manage.py seed_demo`, and adds --reporters school unions
below 市教育工会 (an addressee of the demo's 2018 campaign), each with one reporter account (the demo's
password). Then it starts gunicorn on 127.0.0.1 as bench/bench_entry_load.py does (one sync worker per core,
or --workers: more workers, more writers waiting for SQLite's one write lock at once; DEBUG off) and lets
the reporters loose, one thread each, arriving evenly over --ramp seconds. Each reporter, on a table of its
own (the two forms in turn, one per reporter):

  1. logs in through the login page (GET, then POST with the CSRF token; the password hashed as in
     production);
  2. opens the data-entry page (GET, HTML) and reads the table through the API (GET, its version);
  3. autosaves --saves times (PUT, JSON, the version last answered, X-CSRFToken), --think seconds apart on
     average (uniform between half and one and a half of it): the first save fills the table with the
     form's filled example and the header (填报人, 电话, 填报日期), the next ones set a few random items to
     random values — as a person correcting figures; the last one puts back the example's value of every
     item changed, so the table passes the checks;
  4. submits it (POST).

Every request is bounded by a timeout, every reporter by --limit seconds from the start (what is not done by
then is counted as not finished), and the number of reporters and saves by the options' caps. Only loopback.

Reported: requests, errors (any answer but 200 for a save or the API, any refused login, a connection error
or timeout; a 409 edit conflict is an error here, as no one else edits these tables), the p50/p95/p99 of each
kind of request (autosave above all), how long the whole rush took, and the lost updates: after the rush every
table is read back from the database and each item compared with the value of the last save the reporter had
answered 200 (and each save's answer must hold the values sent and a version one above the one sent); a table
not in the state `submitted` is counted too.

The exit status is always 0: this measures, it does not test. The server, the temporary files and the scratch
database are removed on the way out, also after an error.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench_entry_load import (
    cookie_header,
    free_port,
    latency_figures,
    manage,
    run_child_json,
    running_server,
    server_log,
    set_cookies,
    write_settings,
)
from bench_rollup import DEFAULT_PG_URL, machine, scratch_database

PARENT_UNIT = "市教育工会"
REQUEST_TIMEOUT = 60.0
MAX_REPORTERS = 1000
MAX_SAVES = 100
CHANGED_PER_SAVE = 3
ENTRY_PATH = "/campaigns/{campaign}/units/{unit}/forms/{form}/"
API_TABLE_PATH = "/api/campaigns/{campaign}/units/{unit}/forms/{form}"

SET_UP = """
import json
import django
django.setup()
from decimal import Decimal
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.urls import reverse
from songnuan.campaigns.models import Campaign
from songnuan.demo.management.commands.seed_demo import demo_data, example_values
from songnuan.formkit.definitions import ItemKind, get_form
from songnuan.orgs.models import Account, Unit
from songnuan.orgs.services import unit_create

data = demo_data()
campaign = Campaign.objects.get(document_number=data["campaign"]["document_number"])
parent = Unit.objects.get(name={parent!r})
hashed = make_password(data["password"])  # one hash for all: the same password, hashed once
User = get_user_model()
reporters = []
with transaction.atomic():
    for number in range(1, {count} + 1):
        unit = unit_create(
            name=f"荆门市第{{number:03d}}学校工会", kind=Unit.Kind.INSTITUTION, parent=parent,
            contact_name=f"填报人{{number:03d}}", contact_phone=f"0724-{{2300000 + number}}",
        )
        user = User.objects.create(username=f"rush{{number:03d}}", password=hashed)
        Account.objects.create(user=user, unit=unit, role=Account.Role.REPORTER)
        form_code = campaign.form_codes[number % len(campaign.form_codes)]
        reporters.append({{"username": user.username, "unit": unit.pk, "form": form_code}})
forms = {{}}
for form_code in campaign.form_codes:
    form = get_form(form_code)
    values = {{}}
    for code, value in example_values(form_code, 1).items():
        if value is None:
            continue
        values[code] = value if isinstance(value, int) else str(value)
    numbers = [item.code for item in form.items if item.kind in (ItemKind.MONEY, ItemKind.COUNT)]
    money = [item.code for item in form.items if item.kind is ItemKind.MONEY]
    forms[form_code] = {{"example": values, "numbers": numbers, "money": money}}
print(json.dumps({{
    "campaign": campaign.pk,
    "login": reverse("login"),
    "password": data["password"],
    "reporters": reporters,
    "forms": forms,
}}))
"""

READ_BACK = """
import json
import django
django.setup()
from songnuan.api.schemas import cell_values
from songnuan.reporting.models import Submission
from songnuan.reporting.services import stored_values

units = {units!r}
tables = {{}}
for submission in Submission.objects.filter(campaign_id={campaign}, unit_id__in=units):
    tables[f"{{submission.unit_id}}/{{submission.form_code}}"] = {{
        "status": submission.status,
        "version": submission.version,
        "values": cell_values(stored_values(submission)),
    }}
print(json.dumps(tables))
"""


# --- one reporter ----------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one reporter did and saw."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    started: dict[str, list[float]] = field(default_factory=dict)  # when each request was sent (monotonic)
    statuses: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    expected: dict[str, Any] = field(default_factory=dict)  # item → the value of the last save answered 200
    answered_wrong: int = 0  # saves whose answer did not hold what was sent, or skipped a version
    last_version: int | None = None
    finished: bool = False
    saves_done: int = 0


class Refused(Exception):
    """A request that did not get the answer the reporter needed to go on."""


class Reporter:
    def __init__(self, port: int, spec: Mapping[str, Any], shared: Mapping[str, Any], seed: int) -> None:
        self.port = port
        self.spec = spec
        self.shared = shared
        self.form = shared["forms"][spec["form"]]
        self.cookies: dict[str, str] = {}
        self.random = random.Random(seed)
        self.outcome = Outcome()
        ids = {"campaign": shared["campaign"], "unit": spec["unit"], "form": spec["form"]}
        self.entry_path = ENTRY_PATH.format(**ids)
        self.api_path = API_TABLE_PATH.format(**ids)

    def request(
        self, kind: str, method: str, path: str, body: bytes | None = None, content_type: str = ""
    ) -> tuple[int, bytes, http.client.HTTPMessage]:
        headers = {"Cookie": cookie_header(self.cookies)} if self.cookies else {}
        if body is not None:
            headers["Content-Type"] = content_type
            if content_type == "application/json":
                headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        sent = time.monotonic()
        start = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.count(kind, "connection error")
            raise Refused(f"{kind}: {type(error).__name__}: {error}") from error
        finally:
            connection.close()
        self.outcome.latencies.setdefault(kind, []).append(time.perf_counter() - start)
        self.outcome.started.setdefault(kind, []).append(sent)
        self.count(kind, str(response.status))
        return response.status, answer, response.headers

    def count(self, kind: str, status: str) -> None:
        key = f"{kind} {status}"
        self.outcome.statuses[key] = self.outcome.statuses.get(key, 0) + 1

    def expect(self, kind: str, status: int, wanted: Sequence[int], answer: bytes) -> None:
        if status not in wanted:
            raise Refused(f"{kind}: HTTP {status} {answer[:200].decode('utf-8', 'replace')}")

    def log_in(self) -> None:
        login = self.shared["login"]
        status, body, headers = self.request("login page", "GET", login)
        self.expect("login page", status, (200,), body)
        self.cookies = set_cookies(headers)
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        form = {"username": self.spec["username"], "password": self.shared["password"]}
        if match:
            form["csrfmiddlewaretoken"] = match.group(1).decode()
        status, body, headers = self.request(
            "login", "POST", login, urlencode(form).encode(), "application/x-www-form-urlencoded"
        )
        self.cookies.update(set_cookies(headers))
        if status not in (302, 303) or "sessionid" not in self.cookies:
            raise Refused(f"login: HTTP {status}, no session")

    def open_table(self) -> int:
        status, body, _headers = self.request("entry page", "GET", self.entry_path)
        self.expect("entry page", status, (200,), body)
        status, body, _headers = self.request("api table", "GET", self.api_path)
        self.expect("api table", status, (200,), body)
        return int(json.loads(body)["version"])

    def changes(self, number: int, saves: int, changed: set[str]) -> dict[str, Any]:
        example = self.form["example"]
        if number == 0:
            return dict(example)
        if number == saves - 1:
            return {code: example.get(code) for code in sorted(changed)}
        codes = self.random.sample(self.form["numbers"], min(CHANGED_PER_SAVE, len(self.form["numbers"])))
        changed.update(codes)
        money = set(self.form["money"])
        return {
            code: (
                f"{self.random.randint(0, 9999)}.{self.random.randint(0, 99):02d}"
                if code in money
                else self.random.randint(0, 5000)
            )
            for code in codes
        }

    def save(self, version: int, values: Mapping[str, Any], header: Mapping[str, str] | None) -> int:
        payload: dict[str, Any] = {"version": version, "values": values}
        if header:
            payload["header"] = header
        body = json.dumps(payload, ensure_ascii=False).encode()
        status, answer, _headers = self.request("autosave", "PUT", self.api_path, body, "application/json")
        self.expect("autosave", status, (200,), answer)
        table = json.loads(answer)
        self.outcome.expected.update(values)
        self.outcome.saves_done += 1
        held = table["values"]
        if table["version"] != version + 1 or any(not same(held.get(c), v) for c, v in values.items()):
            self.outcome.answered_wrong += 1
        return int(table["version"])

    def submit(self) -> None:
        status, answer, _headers = self.request(
            "submit", "POST", self.api_path + "/submit", b"{}", "application/json"
        )
        self.expect("submit", status, (200,), answer)
        self.outcome.last_version = int(json.loads(answer)["version"])

    def run(self, start_at: float, saves: int, think: float, stop_at: float) -> None:
        pause_until(start_at)
        try:
            self.log_in()
            version = self.open_table()
            changed: set[str] = set()
            header = {
                "reporter": f"填报人{self.spec['username'][-3:]}",
                "phone": "0724-2333" + self.spec["username"][-3:],
                "report_date": "2018-02-03",
            }
            for number in range(saves):
                if time.monotonic() > stop_at:
                    raise Refused("the time limit passed before the saves were done")
                if number:
                    pause_until(time.monotonic() + think * self.random.uniform(0.5, 1.5))
                version = self.save(
                    version, self.changes(number, saves, changed), header if number == 0 else None
                )
                self.outcome.last_version = version
            self.submit()
            self.outcome.finished = True
        except Refused as refused:
            self.outcome.errors.append(f"{self.spec['username']}: {refused}")
        except Exception as error:  # anything else the reporter trips on is reported, not raised in a thread
            self.outcome.errors.append(f"{self.spec['username']}: {type(error).__name__}: {error}")


def pause_until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        time.sleep(delay)


def same(held: Any, sent: Any) -> bool:
    """A value as the server holds it against the value sent: numbers by value ("12.5" is 12.50)."""
    if held is None or sent is None:
        return held is None and sent is None
    try:
        return Decimal(str(held)) == Decimal(str(sent))
    except InvalidOperation:
        return str(held) == str(sent)


# --- the rush --------------------------------------------------------------------------------------------


def rush(port: int, shared: Mapping[str, Any], args: argparse.Namespace) -> tuple[list[Reporter], float]:
    reporters = [
        Reporter(port, spec, shared, seed=args.seed + n) for n, spec in enumerate(shared["reporters"])
    ]
    begin = time.monotonic()
    stop_at = begin + args.limit
    spacing = args.ramp / max(len(reporters), 1)
    threads = [
        threading.Thread(
            target=reporter.run, args=(begin + n * spacing, args.saves, args.think, stop_at), daemon=True
        )
        for n, reporter in enumerate(reporters)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, stop_at + REQUEST_TIMEOUT + 5 - time.monotonic()))
    return reporters, time.monotonic() - begin


def lost_updates(reporters: Sequence[Reporter], stored: Mapping[str, Any]) -> dict[str, Any]:
    """Each finished reporter's table as stored against the values of its last answered saves."""
    lost_values, not_submitted, version_off, missing, compared = 0, 0, 0, 0, 0
    examples: list[str] = []
    for reporter in reporters:
        if not reporter.outcome.saves_done:
            continue
        table = stored.get(f"{reporter.spec['unit']}/{reporter.spec['form']}")
        if table is None:
            missing += 1
            continue
        for code, value in reporter.outcome.expected.items():
            compared += 1
            if not same(table["values"].get(code), value):
                lost_values += 1
                if len(examples) < 5:
                    held = table["values"].get(code)
                    examples.append(f"{reporter.spec['username']} {code}: saved {value!r}, stored {held!r}")
        if reporter.outcome.finished and table["status"] != "submitted":
            not_submitted += 1
        if table["version"] != reporter.outcome.last_version:
            version_off += 1
    return {
        "values_compared": compared,
        "values_not_as_last_saved": lost_values,
        "tables_missing": missing,
        "finished_but_not_submitted": not_submitted,
        "version_not_as_last_answered": version_off,
        "answers_not_holding_the_save": sum(r.outcome.answered_wrong for r in reporters),
        "examples": examples,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    db = "postgresql" if args.db == "postgres" else "sqlite"
    folder = Path(tempfile.mkdtemp(prefix="songnuan-bench-rush-"))
    try:
        with scratch_database(db, args.pg_url, label="rush") as url:
            write_settings(folder, url, debug=False, conn_max_age=None, nodelay=True)
            manage(folder, "migrate", "--noinput")
            manage(folder, "seed_demo")
            shared = run_child_json(
                SET_UP.format(parent=PARENT_UNIT, count=args.reporters), folder, "adding the reporters"
            )
            port = free_port()
            with running_server(folder, port, workers=args.workers):
                reporters, elapsed = rush(port, shared, args)
                log_tail = server_log(folder, 20)
            units = [spec["unit"] for spec in shared["reporters"]]
            stored = run_child_json(
                READ_BACK.format(units=units, campaign=shared["campaign"]), folder, "reading the tables back"
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    latencies: dict[str, list[float]] = {}
    # The logins (a password hash each, ≈ 0.3 s of a worker) hold the sync workers while reporters arrive:
    # the saves after the last login show the cost of saving alone.
    last_login = max((max(r.outcome.started.get("login", [0.0])) for r in reporters), default=0.0)
    quiet_saves = [
        latency
        for reporter in reporters
        for latency, sent in zip(
            reporter.outcome.latencies.get("autosave", []),
            reporter.outcome.started.get("autosave", []),
            strict=True,
        )
        if sent > last_login + 1.0
    ]
    statuses: dict[str, int] = {}
    errors: list[str] = []
    for reporter in reporters:
        for kind, values in reporter.outcome.latencies.items():
            latencies.setdefault(kind, []).extend(values)
        for key, count in reporter.outcome.statuses.items():
            statuses[key] = statuses.get(key, 0) + count
        errors.extend(reporter.outcome.errors)
    return {
        "db": db,
        "reporters": len(reporters),
        "finished": sum(r.outcome.finished for r in reporters),
        "seconds": elapsed,
        "requests": sum(statuses.values()),
        "statuses": dict(sorted(statuses.items())),
        "errors": len(errors),
        "error_examples": errors[:10],
        "latency": {
            **{kind: latency_figures(values, elapsed) for kind, values in sorted(latencies.items())},
            "autosave after the logins": latency_figures(quiet_saves, elapsed),
        },
        "lost": lost_updates(reporters, stored),
        "server_log_tail": log_tail if errors else "",
    }


def print_report(results: Mapping[str, Any]) -> None:
    print(f"command: {results['command']}")
    print(f"machine: {json.dumps(results['machine'], ensure_ascii=False)}")
    print(
        f"options: {results['reporters']} reporters, {results['saves']} saves each, "
        f"think {results['think']} s, ramp {results['ramp']} s, limit {results['limit']} s, "
        f"{results['workers']} gunicorn workers"
    )
    outcome = results["run"]
    if "error" in outcome:
        print(f"the bench could not run: {outcome['error']}")
        return
    print(
        f"{outcome['db']}: {outcome['finished']} of {outcome['reporters']} reporters submitted; "
        f"{outcome['requests']} requests in {outcome['seconds']:.1f} s; errors {outcome['errors']}"
    )
    print(f"{'request':<26}{'count':>8}{'per s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for kind, figures in outcome["latency"].items():
        print(
            f"{kind:<26}{figures['requests']:>8}{figures['per_second']:>8.1f}{figures['p50_ms']:>9.1f}"
            f"{figures['p95_ms']:>9.1f}{figures['p99_ms']:>9.1f}{figures['max_ms']:>9.1f}"
        )
    print("statuses: " + ", ".join(f"{key}: {count}" for key, count in outcome["statuses"].items()))
    lost = outcome["lost"]
    print(
        "lost updates: "
        + ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in lost.items() if key != "examples")
    )
    for example in lost["examples"]:
        print(f"  {example}")
    for example in outcome["error_examples"]:
        print(f"error: {example}")
    if outcome["server_log_tail"]:
        print("server log (tail):\n" + textwrap.indent(outcome["server_log_tail"], "  "))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument(
        "--reporters", type=int, default=300, help=f"reporters, one thread each (300; ≤ {MAX_REPORTERS})"
    )
    parser.add_argument("--saves", type=int, default=20, help=f"autosaves per reporter (20; 2–{MAX_SAVES})")
    parser.add_argument(
        "--think", type=float, default=5.0, help="mean seconds between a reporter's saves (5)"
    )
    parser.add_argument(
        "--ramp", type=float, default=120.0, help="seconds over which the reporters arrive (120)"
    )
    parser.add_argument("--limit", type=float, default=300.0, help="seconds after which nobody goes on (300)")
    parser.add_argument(
        "--workers",
        type=int,
        help="gunicorn's sync workers (default: one per core, as make run); more = more writers at once",
    )
    parser.add_argument("--seed", type=int, default=2018, help="of the random values (2018)")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help=f"the PostgreSQL server ({DEFAULT_PG_URL})")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda _signal, _frame: sys.exit(143))
    args.reporters = min(max(args.reporters, 1), MAX_REPORTERS)
    args.saves = min(max(args.saves, 2), MAX_SAVES)
    args.think = min(max(args.think, 0.0), 60.0)
    args.ramp = min(max(args.ramp, 0.0), 600.0)
    args.limit = min(max(args.limit, 10.0), 1800.0)
    if args.workers is not None:
        args.workers = min(max(args.workers, 1), 64)
    machine_at_start = machine()
    try:
        outcome = run(args)
    except Exception as error:  # a measurement, not a test: report and exit 0
        outcome = {"error": f"{type(error).__name__}: {error}"}
    results = {
        "command": " ".join([sys.executable, *sys.argv]),
        "machine": machine_at_start,
        "reporters": args.reporters,
        "saves": args.saves,
        "think": args.think,
        "ramp": args.ramp,
        "limit": args.limit,
        "workers": args.workers or os.cpu_count(),
        "run": outcome,
    }
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2, default=str))
    else:
        print_report(results)
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
