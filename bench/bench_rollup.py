"""Benchmark of the campaign roll-up: the tree roll-up through the ORM against one flat SQL GROUP BY.

Command (from the repository root; the figures are in BENCHMARKS.md):

    .venv/bin/python bench/bench_rollup.py --units 10000 --db both --repeat 3

It builds, in a scratch database, a unit tree of depth 4 (市总 → 10 counties → 100 districts/industries →
the rest as enterprise unions, --units in all), one campaign asking for both built-in forms, and an accepted
table of both forms for every unit: the values of src/songnuan/formkit/examples/filled-*.toml, every number
multiplied by one whole factor per table, about one item in ten left blank (no row), some 是 turned to 否.
The rows are bulk-inserted (COPY on PostgreSQL); none of that is timed. Then, on the same data, per form:

  (a)  `rollup(campaign, form, city)`: the whole tree through the ORM, rows turned into typed values;
  (a2) `rollup_by_child(campaign, form, city)`: every county's subtree at once (the drill-down);
  (b)  one flat `SELECT item, SUM(number) … JOIN submission WHERE campaign, form, status GROUP BY item`
       on a raw cursor: the floor;
  (s)  the SQL that (a) sends, run on a raw cursor (so a − s is what the ORM and the typing add).

Each figure is the best of --repeat rounds (after one warm-up round, gc.collect() before every run). Goal from
the issue: a / b ≤ 2 on each database. --db sqlite uses a temporary file, --db postgres a scratch database
at 127.0.0.1:5432 (user postgres) that it creates and drops; --db both runs each in a child process.

Options: --units N, --db sqlite|postgres|both, --repeat R, --seed S, --json, --explain (query plans of (a)
and (b) on stderr), --pg-url postgres://user@host:port (the server for the scratch database).
The exit status is always 0: this measures, it does not test.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench_check import cpu_model, version_of  # the same machine description in every benchmark

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "src" / "songnuan" / "formkit" / "examples"
FORM_CODES = ("warmth-2018", "service-centres-2017")
GOAL_ROLLUP_OVER_FLAT = 2.0  # (a) / (b) at most
COUNTIES = 10
DISTRICTS_PER_COUNTY = 10
BLANK_SHARE = 0.10
NO_SHARE = 0.20  # of the yes/no items a table fills, this share says 否
FACTORS = (1, 1, 2, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40)
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432"

# --- the machine ---------------------------------------------------------------------------------------


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine skews every figure here."""
    try:
        return " ".join(Path("/proc/loadavg").read_text(encoding="ascii").split()[:3])
    except OSError:
        return "?"


def machine() -> dict[str, Any]:
    return {
        "load_average_at_start": load_average(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "django": version_of("Django"),
        "psycopg": version_of("psycopg"),
    }


# --- scratch databases -----------------------------------------------------------------------------------


def pg_admin_execute(server_url: str, sql: str) -> None:
    """One statement on the server's `postgres` database, in autocommit (CREATE/DROP DATABASE)."""
    import psycopg

    with psycopg.connect(f"{server_url.rstrip('/')}/postgres", autocommit=True) as connection:
        connection.execute(sql.encode())  # a name made here, not user input


@contextlib.contextmanager
def scratch_database(db: str, server_url: str, label: str = "rollup") -> Iterator[str]:
    """A DATABASE_URL for a fresh scratch database, removed afterwards (also on error)."""
    if db == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix=f"songnuan-bench-{label}-"))
        try:
            yield f"sqlite:///{folder / 'bench.sqlite3'}"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    name = f"songnuan_bench_{label}_{os.getpid()}"
    pg_admin_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    pg_admin_execute(server_url, f'CREATE DATABASE "{name}"')
    try:
        yield f"{server_url.rstrip('/')}/{name}"
    finally:
        with contextlib.suppress(Exception):  # Django may not have been set up yet
            from django.db import connections

            connections.close_all()
        pg_admin_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- the data --------------------------------------------------------------------------------------------


def example_values(form_code: str) -> dict[str, Any]:
    """The filled example of a form as stored: counts int, money Decimal, yes/no "是"/"否"."""
    from songnuan.formkit.definitions import ItemKind, get_form

    raw = tomllib.loads((EXAMPLES / f"filled-{form_code}.toml").read_text(encoding="utf-8"))["values"]
    values: dict[str, Any] = {}
    for item in get_form(form_code).items:
        value = raw.get(item.code)
        if value is None or value == "":
            continue
        if item.kind is ItemKind.MONEY:
            values[item.code] = Decimal(str(value))
        elif item.kind is ItemKind.COUNT:
            values[item.code] = int(value)
        else:
            values[item.code] = str(value)
    return values


def tree_shape(units: int) -> list[tuple[int, int | None, str, int]]:
    """(id, parent id, kind, depth) of every unit: ids 1…N, parents before children."""
    from songnuan.orgs.models import Unit

    shape: list[tuple[int, int | None, str, int]] = [(1, None, Unit.Kind.CITY, 0)]
    counties = list(range(2, 2 + COUNTIES))
    shape += [(pk, 1, Unit.Kind.COUNTY, 1) for pk in counties]
    districts: list[int] = []
    next_id = 2 + COUNTIES
    for county in counties:
        for position in range(DISTRICTS_PER_COUNTY):
            kind = Unit.Kind.INDUSTRY if position % 3 == 2 else Unit.Kind.COUNTY
            shape.append((next_id, county, kind, 2))
            districts.append(next_id)
            next_id += 1
    for index in range(max(units - len(shape), 0)):
        kind = Unit.Kind.INSTITUTION if index % 5 == 4 else Unit.Kind.ENTERPRISE
        shape.append((next_id, districts[index % len(districts)], kind, 3))
        next_id += 1
    return shape


def load_data(units: int, rng: random.Random) -> dict[str, Any]:
    """The tree, the campaign and every table, bulk-inserted; what the timings need back."""
    import datetime as dt

    from django.db import connection, transaction
    from django.utils import timezone

    from songnuan.campaigns.models import Campaign
    from songnuan.orgs.models import Unit, path_segment
    from songnuan.orgs.services import count_units_below
    from songnuan.reporting.models import Submission, SubmissionValue

    started = time.perf_counter()
    shape = tree_shape(units)
    paths: dict[int, str] = {}
    unit_rows: list[Unit] = []
    for pk, parent, kind, depth in shape:
        paths[pk] = (paths[parent] if parent is not None else "") + path_segment(pk)
        unit_rows.append(
            Unit(
                id=pk,
                name=f"{Unit.Kind(kind).label}{pk:05d}",
                kind=kind,
                parent_id=parent,
                path=paths[pk],
                depth=depth,
                sort_order=pk,
            )
        )
    bases = {code: example_values(code) for code in FORM_CODES}
    value_field = SubmissionValue._meta.get_field("number")
    table = SubmissionValue._meta.db_table
    submitted_at = timezone.make_aware(dt.datetime(2018, 2, 3, 10, 30))
    rows = 0
    with transaction.atomic():
        Unit.objects.bulk_create(unit_rows, batch_size=2000)
        count_units_below()  # what unit_create keeps, for units loaded in bulk
        city = Unit.objects.get(pk=1)
        campaign = Campaign.objects.create(
            title="2018年元旦春节送温暖活动（基准）",
            document_number="荆工办发电〔2017〕18号",
            owner=city,
            period_start=dt.date(2017, 12, 20),
            period_end=dt.date(2018, 2, 28),
            deadline=dt.date(2018, 2, 5),
            form_codes=list(FORM_CODES),
        )
        submissions = [
            Submission(
                id=2 * (pk - 1) + position + 1,
                campaign=campaign,
                unit_id=pk,
                form_code=code,
                status=Submission.Status.ACCEPTED,
                report_date=dt.date(2018, 2, 3),
                submitted_at=submitted_at,
                reviewed_at=submitted_at,
            )
            for pk, _parent, _kind, _depth in shape
            for position, code in enumerate(FORM_CODES)
        ]
        Submission.objects.bulk_create(submissions, batch_size=2000)

        def value_rows() -> Iterator[tuple[int, str, Any, str]]:
            for submission in submissions:
                factor = rng.choice(FACTORS)
                assert submission.id is not None
                for code, value in bases[submission.form_code].items():
                    if rng.random() < BLANK_SHARE:
                        continue  # blank: no row
                    if isinstance(value, str):
                        text = "否" if rng.random() < NO_SHARE else value
                        yield submission.id, code, None, text
                    else:
                        yield submission.id, code, value * factor, ""

        columns = "submission_id, item, number, text"
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in value_rows():
                        copy.write_row(row)
                        rows += 1
            else:
                batch: list[tuple[int, str, Any, str]] = []
                sql = f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s)"
                for submission_id, code, number, text in value_rows():
                    batch.append(
                        (submission_id, code, value_field.get_db_prep_save(number, connection), text)
                    )
                    if len(batch) == 10_000:
                        cursor.executemany(sql, batch)
                        rows += len(batch)
                        batch.clear()
                cursor.executemany(sql, batch)
                rows += len(batch)
    if connection.vendor == "postgresql":  # what autovacuum would have done by the time of a roll-up
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    # SQLite: no ANALYZE, as in production (Django never runs it). With its statistics, SQLite 3.40 plans the
    # flat query (b) as a scan of the whole value table in `item` index order, 7× slower; (a) keeps its plan.
    return {
        "campaign": campaign,
        "city": city,
        "units": len(shape),
        "submissions": len(submissions),
        "values": rows,
        "seconds": time.perf_counter() - started,
    }


# --- the measurements ------------------------------------------------------------------------------------


def flat_sql() -> str:
    from songnuan.reporting.models import Submission, SubmissionValue

    return (
        f"SELECT v.item, SUM(v.number) FROM {SubmissionValue._meta.db_table} v "
        f"JOIN {Submission._meta.db_table} s ON s.id = v.submission_id "
        "WHERE s.campaign_id = %s AND s.form_code = %s AND s.status = 'accepted' GROUP BY v.item"
    )


def run_raw(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def captured_sql(function: Callable[[], object]) -> tuple[str, tuple[Any, ...]]:
    """The (last) SQL statement and parameters that `function` sends, as the driver gets them."""
    from django.db import connection

    seen: list[tuple[str, tuple[Any, ...]]] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append((sql, tuple(params or ())))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        function()
    return seen[-1]


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    outcome = function()
    return time.perf_counter() - start, outcome


def agree(typed: Mapping[str, Any], flat: Sequence[tuple[Any, ...]]) -> tuple[int, int]:
    """(items compared, items that differ) between (a)'s typed totals and (b)'s raw sums."""
    compared = differ = 0
    for item, total in flat:
        if total is None or typed.get(item) is None:
            continue
        compared += 1
        if abs(Decimal(str(total)) - Decimal(typed[item])) > Decimal("0.001"):
            differ += 1
    return compared, differ


def explain(sql: str, params: Sequence[Any]) -> str:
    from django.db import connection

    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    rows = run_raw(prefix + sql, params)
    return "\n".join(" | ".join(str(column) for column in row) for row in rows)


def measure(data: Mapping[str, Any], repeat: int, show_plans: bool) -> dict[str, Any]:
    from songnuan.reporting.rollup import rollup, rollup_by_child

    campaign, city = data["campaign"], data["city"]
    sql_b = flat_sql()
    forms: dict[str, Any] = {}
    for code in FORM_CODES:
        sql_a, params_a = captured_sql(lambda code=code: rollup(campaign, code, city))  # type: ignore[misc]
        params_b = (campaign.pk, code)
        runners: dict[str, Callable[[], Any]] = {
            "a": lambda code=code: rollup(campaign, code, city),  # type: ignore[misc]
            "a2": lambda code=code: rollup_by_child(campaign, code, city),  # type: ignore[misc]
            "b": lambda params_b=params_b: run_raw(sql_b, params_b),  # type: ignore[misc]
            "s": lambda sql_a=sql_a, params_a=params_a: run_raw(sql_a, params_a),  # type: ignore[misc]
        }
        forms[code] = {"runners": runners, "runs": {key: [] for key in runners}, "sql_a": sql_a}
        if show_plans:
            for name, sql, params in (("a", sql_a, params_a), ("b", sql_b, params_b)):
                plan = explain(sql, params)
                print(f"\n--- plan of ({name}) {code}:\n{sql} {params}\n{plan}", file=sys.stderr)
    outcomes: dict[tuple[str, str], Any] = {}
    for round_ in range(repeat + 1):  # round 0 warms the caches and is not counted
        for code, entry in forms.items():
            for key, runner in entry["runners"].items():
                seconds, outcome = timed(runner)
                if round_:
                    entry["runs"][key].append(seconds)
                outcomes[(code, key)] = outcome
    results: dict[str, Any] = {}
    for code, entry in forms.items():
        best = {key: min(runs) for key, runs in entry["runs"].items()}
        compared, differ = agree(outcomes[(code, "a")], outcomes[(code, "b")])
        by_child = outcomes[(code, "a2")]
        results[code] = {
            "runs": entry["runs"],
            "best": best,
            "a_over_b": best["a"] / best["b"],
            "a2_over_b": best["a2"] / best["b"],
            "s_over_b": best["s"] / best["b"],
            "met": best["a"] / best["b"] <= GOAL_ROLLUP_OVER_FLAT,
            "items_compared": compared,
            "items_differing": differ,
            "branches": len(by_child),
        }
    total_a = sum(r["best"]["a"] for r in results.values())
    total_b = sum(r["best"]["b"] for r in results.values())
    total_a2 = sum(r["best"]["a2"] for r in results.values())
    results["both forms"] = {
        "best": {"a": total_a, "a2": total_a2, "b": total_b},
        "a_over_b": total_a / total_b,
        "a2_over_b": total_a2 / total_b,
        "met": total_a / total_b <= GOAL_ROLLUP_OVER_FLAT,
    }
    return results


def run_one(db: str, units: int, repeat: int, seed: int, show_plans: bool, server_url: str) -> dict[str, Any]:
    """Build the data in a fresh scratch database of `db`, time, clean up; the results."""
    with scratch_database(db, server_url) as url:
        os.environ["DATABASE_URL"] = url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "songnuan.config.settings")
        import django
        from django.core.management import call_command
        from django.db import connection

        django.setup()
        call_command("migrate", verbosity=0, interactive=False)
        data = load_data(units, random.Random(seed))
        server = connection.vendor
        if server == "postgresql":
            server_version = run_raw("SHOW server_version", ())[0][0]
        else:
            server_version = run_raw("SELECT sqlite_version()", ())[0][0]
        results = measure(data, repeat, show_plans)
        size = database_size(url)
        connection.close()
    return {
        "db": db,
        "server": f"{'PostgreSQL' if server == 'postgresql' else 'SQLite'} {server_version}",
        "units": data["units"],
        "submissions": data["submissions"],
        "values": data["values"],
        "load_seconds": data["seconds"],
        "megabytes": size,
        "forms": results,
    }


def database_size(url: str) -> float:
    from django.db import connection

    if connection.vendor == "postgresql":
        return float(run_raw("SELECT pg_database_size(current_database())", ())[0][0]) / 1048576
    return Path(url.removeprefix("sqlite:///")).stat().st_size / 1048576


# --- the report ------------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def print_report(results: Mapping[str, Any]) -> None:
    m = results["machine"]
    print(f"roll-up benchmark: best of {results['repeat']}, seed {results['seed']}")
    print(f"{m['python']} on {m['cpu']}, {m['cpus']} CPUs ({m['platform']}); Django {m['django']}")
    print(f"load average at start: {m['load_average_at_start']}, at the end: {load_average()}")
    for run in results["runs"]:
        print()
        if "error" in run:
            print(f"== {run['db']}: not measured: {run['error']}")
            continue
        print(
            f"== {run['server']}: {run['units']:,} units, {run['submissions']:,} accepted tables, "
            f"{run['values']:,} value rows, {run['megabytes']:.0f} MB (loaded in {run['load_seconds']:.1f} s,"
            " not timed)"
        )
        print(f"{'':24}{'(a) rollup':>12}{'(a2) by child':>15}{'(b) flat SQL':>14}{'(s) a SQL':>11}")
        for code, r in run["forms"].items():
            best = r["best"]
            cells = [f"{1000 * best[key]:9.1f} ms" if key in best else "" for key in ("a", "a2", "b", "s")]
            print(f"{code:24}{cells[0]:>12}{cells[1]:>15}{cells[2]:>14}{cells[3]:>11}")
        print(f"{'':24}{'a/b':>12}{'a2/b':>15}{'s/b':>14}")
        for code, r in run["forms"].items():
            s_over_b = f"{r['s_over_b']:.2f}" if "s_over_b" in r else ""
            print(
                f"{code:24}{r['a_over_b']:12.2f}{r['a2_over_b']:15.2f}{s_over_b:>14}"
                f"   (goal a/b ≤ {GOAL_ROLLUP_OVER_FLAT:g})  {verdict(r['met'])}"
            )
        for code, r in run["forms"].items():
            if "items_compared" in r:
                runs = "; ".join(
                    f"{key} " + " ".join(f"{1000 * s:.1f}" for s in times) for key, times in r["runs"].items()
                )
                print(
                    f"  {code}: (a) and (b) agree on {r['items_compared'] - r['items_differing']} of "
                    f"{r['items_compared']} items; (a2) gave {r['branches']} branches; runs (ms): {runs}"
                )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--units", type=int, default=10_000, help="units in the tree (default 10000)")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds; the best counts")
    parser.add_argument("--seed", type=int, default=2018)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--explain", action="store_true", help="query plans of (a) and (b), on stderr")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help=f"the PostgreSQL server ({DEFAULT_PG_URL})")
    args = parser.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so the finally blocks still end the server and drop the scratch database.
    signal.signal(signal.SIGTERM, lambda _signal, _frame: sys.exit(143))
    machine_at_start = machine()
    units, repeat = max(args.units, 1), max(args.repeat, 1)
    runs: list[dict[str, Any]] = []
    if args.db == "both":  # Django takes its database once per process: one child per database
        for db in ("sqlite", "postgres"):
            command = [sys.executable, __file__, "--db", db, "--units", str(units), "--repeat", str(repeat)]
            command += ["--seed", str(args.seed), "--pg-url", args.pg_url, "--json"]
            command += ["--explain"] if args.explain else []
            child = subprocess.run(command, capture_output=True, text=True, timeout=3600, check=False)
            sys.stderr.write(child.stderr)
            try:
                runs += json.loads(child.stdout)["runs"]
            except (json.JSONDecodeError, KeyError):
                runs.append({"db": db, "error": f"child exited {child.returncode}"})
    else:
        db = "postgresql" if args.db == "postgres" else "sqlite"
        try:
            runs.append(run_one(db, units, repeat, args.seed, args.explain, args.pg_url))
        except Exception as error:  # a measurement, not a test: report and exit 0
            runs.append({"db": db, "error": f"{type(error).__name__}: {error}"})
    results = {
        "command": " ".join([sys.executable, *sys.argv]),
        "machine": machine_at_start,
        "repeat": repeat,
        "seed": args.seed,
        "runs": runs,
    }
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2, default=str))
    else:
        print_report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())


def rerun_per_database(script: str, argv: Sequence[str] | None) -> None:
    """`--db both`: the script again for SQLite, then for PostgreSQL, each in its own process."""
    for db in ("sqlite", "postgres"):
        command = [sys.executable, script, *[a for a in (argv or sys.argv[1:]) if a != "both"]]
        command[command.index("--db") + 1 : command.index("--db") + 1] = [db]
        subprocess.run(command, check=False)


@contextlib.contextmanager
def migrated_scratch(db: str, pg_url: str, name: str) -> Iterator[str]:
    """A scratch database (`scratch_database`), Django set up on it and every migration applied."""
    with scratch_database(db, pg_url, name) as url:
        os.environ["DATABASE_URL"] = url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "songnuan.config.settings")
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0, interactive=False)
        yield url
