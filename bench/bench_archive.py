"""Benchmark of the needy-worker archive: importing a million households, and searching them.

Command (from the repository root; the figures are in BENCHMARKS.md):

    .venv/bin/python bench/bench_archive.py --n 1000000 --database both

It writes the archive as people keep it, a CSV file of N generated households (valid ID numbers, common
names, phones, Luhn-valid cards: `songnuan.archive.generate.households`) with the columns 序号, 姓名,
身份证号码, 类别, 手机, 家庭月收入, 家庭人口, 困难类型, 致困原因, 工作单位, 开户银行, 卡号, 建档单位 (spread
over ten units of a small tree: 市总 → five county unions → enterprise unions), and a second file of its first
N/10 rows. Writing them is not timed. Then, per database, in a scratch database (a temporary SQLite file, or
`songnuan_bench_…` on the PostgreSQL server at 127.0.0.1:5432, created, migrated and dropped by the run), as
the city's reviewer:

  (a) the import, end to end: `open_list(file)` → `household_import(...)` (every row read and checked, the
      households, their OpenIdentity and Plan rows written in batches through `bulk.insert_rows`), one
      transaction, into empty tables. It runs in a child process, so that its peak RSS (`ru_maxrss`) is the
      import's own; at N/10 and at N, to show whether the memory stays flat (the file is streamed).
  (b) the floor: the very same rows (read back from (a), so every column value is the same), held in memory
      beforehand (not timed), inserted into the emptied tables (same indexes) with `bulk.insert_rows` alone —
      one SQLite executemany, or one PostgreSQL COPY, per table — in one transaction. Also in a child process.
  (c) search at N households: `search_households(reviewer, HouseholdSearch(text=…))`, then what the list page
      evaluates, `.count()` and the first page of 50 rows. Per kind of query (full 18-digit ID, last 4 and
      last 6 characters of the ID, full name, surname + first given character, pinyin initials of 2 and of
      3 letters, mobile number) --queries values: nine in ten drawn from the data, one in ten a miss. The
      kinds take turns (query i of every kind, then query i + 1), after a warm-up of other values that is not
      counted. The query plan of each kind is printed once.

Goals from the issue: a / b ≤ 2 on each database; search p95 < 20 ms for every kind; the import's memory flat
(here: peak RSS at N at most 1.25 × the peak at N/10, ten times fewer rows). Before the searches, on
PostgreSQL the tables get a `VACUUM ANALYZE` (as autovacuum would after a million inserts) and a CHECKPOINT;
on SQLite the WAL is checkpointed, and there is no ANALYZE, as in production (Django never runs one).

Options: --n N, --database sqlite|postgresql|both, --queries Q, --seed S, --pg-url URL (the server), --json
(results on stdout), --out FILE (the JSON results; default bench/out/bench_archive.json), --profile (a
cProfile of one extra import at N/10, before the measured ones, on stderr). The exit status is always 0:
this measures, it does not test. Each database runs in a child process (Django takes its database once per
process); the files, the scratch databases and the children are removed on the way out, also after an error.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import csv
import gc
import json
import math
import os
import random
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench_check import profile_report, version_of
from bench_rollup import DEFAULT_PG_URL, load_average, machine, scratch_database

if TYPE_CHECKING:
    from django.contrib.auth.models import User

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "bench" / "out" / "bench_archive.json"
GOAL_IMPORT_OVER_RAW = 2.0  # (a) / (b) at most
GOAL_SEARCH_P95_MS = 20.0
GOAL_FLAT_MEMORY = 1.25  # peak RSS at N over peak RSS at N/10, at most
PAGE_SIZE = 50
MISS_SHARE = 0.10
WARM_UP_QUERIES = 10
CHILD_TIMEOUT = 4 * 3600
REVIEWER = "bench_city_reviewer"
TITLE = "荆门市困难职工档案花名册"
HEADER = (
    "序号",
    "姓名",
    "身份证号码",
    "类别",
    "手机",
    "家庭月收入",
    "家庭人口",
    "困难类型",
    "致困原因",
    "工作单位",
    "开户银行",
    "卡号",
    "建档单位",
)
CITY = "荆门市总工会"
#: county union → the enterprise unions below it; households are filed by all of these (not by the city).
TREE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("东宝区总工会", ("东宝区恒力水泥有限公司工会", "湖北京华化工有限公司工会")),
    ("掇刀区总工会", ("掇刀区石化机械厂工会",)),
    ("钟祥市总工会", ("钟祥市纺织厂工会", "钟祥市建筑公司工会")),
    ("京山市总工会", ()),
    ("沙洋县总工会", ("沙洋县食品厂工会",)),
)
KINDS: dict[str, str] = {
    "id18": "full 18-digit ID",
    "id_tail4": "ID, last 4",
    "id_tail6": "ID, last 6",
    "name": "full name",
    "name2": "surname + 1st given",
    "pinyin2": "pinyin initials, 2",
    "pinyin3": "pinyin initials, 3",
    "phone": "mobile number",
}


# --- the archive file ------------------------------------------------------------------------------------


def filing_units() -> list[str]:
    return [name for county, enterprises in TREE for name in (county, *enterprises)]


def write_archives(folder: Path, n: int, small: int, seed: int) -> dict[str, Any]:
    """The archive of `n` households as CSV (UTF-8 with BOM, as Excel saves it), and of its first `small`."""
    from songnuan.archive.generate import households

    started = time.perf_counter()
    rng = random.Random(seed + 1)
    units = filing_units()
    weights = [3 if index % 3 == 0 else 1 for index in range(len(units))]
    full, part = folder / f"archive-{n}.csv", folder / f"archive-{small}.csv"
    with (
        full.open("w", encoding="utf-8-sig", newline="") as full_out,
        part.open("w", encoding="utf-8-sig", newline="") as part_out,
    ):
        writers = [csv.writer(full_out), csv.writer(part_out)]
        for writer in writers:
            writer.writerow([TITLE])
            writer.writerow(HEADER)
        chosen = iter(rng.choices(units, weights=weights, k=n))
        for index, h in enumerate(households(n, seed=seed)):
            row = (
                index + 1,
                h.name,
                h.id_number,
                h.category,
                h.phone,
                str(h.monthly_income),
                h.household_size,
                h.difficulty_type,
                h.main_cause,
                h.employer,
                h.bank,
                h.card_number,
                next(chosen),
            )
            writers[0].writerow(row)
            if index < small:
                writers[1].writerow(row)
    return {
        "files": {str(n): str(full), str(small): str(part)},
        "megabytes": {str(n): full.stat().st_size / 1048576, str(small): part.stat().st_size / 1048576},
        "seconds": time.perf_counter() - started,
    }


# --- Django in this process ------------------------------------------------------------------------------


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "songnuan.config.settings"
    os.environ["SONGNUAN_DEBUG"] = "0"  # as in production: no query log, no debug cursor
    os.environ.setdefault("SONGNUAN_SECRET_KEY", "bench-" + secrets.token_urlsafe(48))
    import django

    django.setup()


def vendor() -> str:
    from django.db import connection

    return str(connection.vendor)


def sqlite_path() -> str:
    from django.db import connection

    return str(connection.settings_dict["NAME"])


def raw(sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall()) if cursor.description else []


def archive_tables() -> list[str]:
    from songnuan.archive.models import (
        Household,
        HouseholdEvent,
        Member,
        OpenIdentity,
        PersonalDataView,
        Plan,
        Proposal,
    )

    models = (Plan, OpenIdentity, Member, PersonalDataView, HouseholdEvent, Proposal, Household)
    return [m._meta.db_table for m in models]


def empty_tables() -> None:
    """Households, identities, plans (and the empty member tables) emptied, ids from 1 again, settled."""
    from django.db import connection

    tables = archive_tables()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY")
            cursor.execute("CHECKPOINT")  # the previous load's dirty pages are not written during the next
            return
        for table in tables:
            cursor.execute(f"DELETE FROM {table}")
        placeholders = ", ".join(["%s"] * len(tables))
        cursor.execute(f"DELETE FROM sqlite_sequence WHERE name IN ({placeholders})", tables)
        cursor.execute("VACUUM")  # a new, small file: the next load starts from empty tables, not free pages
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def rss_now_kib() -> int:
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def peak_rss_kib() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux


# --- (a) and (b), each in a child process ----------------------------------------------------------------


def child_import(url: str, path: str, job_id: int, profile: bool) -> dict[str, Any]:
    """(a): `open_list` → `household_import`, timed; peak RSS of this process."""
    setup_django(url)
    from songnuan.archive.importing import household_import
    from songnuan.archive.models import ImportJob
    from songnuan.formkit.list_reader import open_list

    job = ImportJob.objects.select_related("user", "unit").get(pk=job_id)
    user = job.user
    mapping = {name: int(index) for name, index in job.mapping.items()}
    side_file = Path(tempfile.mkstemp(prefix="songnuan-bench-progress-")[1])
    rejected: list[str] = []

    def reject(row: int, cells: Sequence[Any], reason: str) -> None:
        if len(rejected) < 5:
            rejected.append(f"row {row}: {reason}")

    def progress(rows: int, fraction: float) -> None:  # what the real job does after every batch
        side_file.write_text(json.dumps({"rows": rows, "fraction": round(fraction, 4)}))

    profiler = cProfile.Profile() if profile else None
    gc.collect()
    rss_before = rss_now_kib()
    started = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    reading = open_list(path)
    try:
        outcome = household_import(
            user=user,
            job=job,
            rows=reading.rows,
            mapping=mapping,
            default_unit=None,
            reject=reject,
            progress=progress,
            fraction_read=reading.fraction_read,
        )
    finally:
        reading.close()
    if profiler is not None:
        profiler.disable()
    seconds = time.perf_counter() - started
    side_file.unlink(missing_ok=True)
    if profiler is not None:
        profile_report(profiler, f"household_import of {outcome.rows:,} rows ({vendor()})")
    return {
        "seconds": seconds,
        "rss_before_kib": rss_before,
        "peak_rss_kib": peak_rss_kib(),
        "rows": outcome.rows,
        "created": outcome.created,
        "existing": outcome.existing,
        "rejected": outcome.rejected,
        "warnings": outcome.warnings,
        "first_rejections": rejected,
    }


def read_back(table: str, columns: Sequence[str]) -> list[tuple[Any, ...]]:
    """Every row of `table` as the bulk path takes it: what the import gave to `insert_rows`, as it was."""
    from django.db import connection

    if connection.vendor == "postgresql":
        # jsonb as text, as the import sends it; Decimal, date and aware datetime as psycopg loads them.
        names = ", ".join(f"{c}::text" if c in ("secondary_causes", "old", "new") else c for c in columns)
        return raw(f"SELECT {names} FROM {table} ORDER BY 1")
    import sqlite3

    # A plain connection, without Django's type converters: the values exactly as stored (text, int, float).
    with contextlib.closing(sqlite3.connect(sqlite_path())) as plain:
        return list(plain.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY 1"))


def child_baseline(url: str) -> dict[str, Any]:
    """(b): the rows of (a) read back, the tables emptied, then only `insert_rows`, timed."""
    setup_django(url)
    from django.db import transaction

    from songnuan.archive.bulk import insert_rows
    from songnuan.archive.importing import EVENT_COLUMNS, HOUSEHOLD_COLUMNS, IDENTITY_COLUMNS, PLAN_COLUMNS
    from songnuan.archive.models import Household, HouseholdEvent, OpenIdentity, Plan

    plan = [
        (Household, HOUSEHOLD_COLUMNS),
        (OpenIdentity, IDENTITY_COLUMNS),
        (Plan, PLAN_COLUMNS),
        (HouseholdEvent, EVENT_COLUMNS),
    ]
    identity_columns = ("id", *IDENTITY_COLUMNS)  # in id order, as the import inserted them
    rows = {
        Household: read_back(Household._meta.db_table, HOUSEHOLD_COLUMNS),
        OpenIdentity: [r[1:] for r in read_back(OpenIdentity._meta.db_table, identity_columns)],
        Plan: read_back(Plan._meta.db_table, PLAN_COLUMNS),
        HouseholdEvent: read_back(HouseholdEvent._meta.db_table, EVENT_COLUMNS),
    }
    empty_tables()
    gc.collect()
    rss_before = rss_now_kib()
    started = time.perf_counter()
    with transaction.atomic():
        for model, columns in plan:
            insert_rows(model, columns, rows[model])
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rss_before_kib": rss_before,
        "peak_rss_kib": peak_rss_kib(),
        "rows": {model._meta.db_table: len(rows[model]) for model, _columns in plan},
    }


def run_child(arguments: Sequence[str], what: str) -> dict[str, Any]:
    """This script again as a child process (`--child …`); its last printed line is its JSON answer."""
    done = subprocess.run(
        [sys.executable, __file__, *arguments],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        timeout=CHILD_TIMEOUT,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{what} failed (exit {done.returncode}); see its messages above")
    answer: dict[str, Any] = json.loads(lines[-1])
    return answer


# --- one database ----------------------------------------------------------------------------------------


def build_tree() -> User:
    """The city, five county unions, their enterprise unions and the city's reviewer, through the services."""
    from django.contrib.auth.models import Permission

    from songnuan.orgs.models import Account, Unit
    from songnuan.orgs.services import account_create, unit_create

    city = unit_create(name=CITY, kind=Unit.Kind.CITY)
    for position, (county_name, enterprises) in enumerate(TREE):
        county = unit_create(name=county_name, kind=Unit.Kind.COUNTY, parent=city, sort_order=position)
        for place, name in enumerate(enterprises):
            unit_create(name=name, kind=Unit.Kind.ENTERPRISE, parent=county, sort_order=place)
    account = account_create(
        username=REVIEWER, password=secrets.token_urlsafe(16), unit=city, role=Account.Role.REVIEWER
    )
    # With the full-number permission, partial numbers (ID tails, phone prefixes) are searched on every digit,
    # as before masking was tightened: the searches measured stay the same.
    account.user.user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    return account.user


def new_job(user: User, path: str) -> int:
    from songnuan.archive.importing import check_mapping, guess_mapping
    from songnuan.archive.models import ImportJob
    from songnuan.formkit.list_reader import open_list
    from songnuan.orgs.models import Unit

    reading = open_list(path)
    header = reading.header
    reading.close()
    mapping = guess_mapping(header)
    check_mapping(mapping, header, has_default_unit=False)
    job = ImportJob.objects.create(
        user=user,
        unit=Unit.objects.get(name=CITY),
        file_name=Path(path).name,
        file_sha256="0" * 64,
        stored_path=path,
        columns=header,
        mapping=mapping,
        state=ImportJob.State.RUNNING,
    )
    return int(job.pk)


def table_counts() -> dict[str, int]:
    from songnuan.archive.models import Household, HouseholdEvent, OpenIdentity, Plan

    return {m._meta.db_table: m.objects.count() for m in (Household, OpenIdentity, Plan, HouseholdEvent)}


def import_and_floor(url: str, user: User, path: str, size: int) -> dict[str, Any]:
    empty_tables()
    imported = run_child(
        ["--child", "import", "--url", url, "--file", path, "--job", str(new_job(user, path))], "import"
    )
    after_import = table_counts()
    floor = run_child(["--child", "baseline", "--url", url], "baseline")
    after_floor = table_counts()
    return {
        "n": size,
        "import": imported,
        "raw": floor,
        "a_over_b": imported["seconds"] / floor["seconds"],
        "met": imported["seconds"] / floor["seconds"] <= GOAL_IMPORT_OVER_RAW,
        "same_rows": after_import == after_floor == floor["rows"] and imported["created"] == size,
        "tables": after_floor,
    }


def percentile(ordered: Sequence[float], share: float) -> float:
    """Nearest rank."""
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def query_values(count: int, rng: random.Random) -> dict[str, list[str]]:
    """`count` search texts per kind: nine in ten from households on file, one in ten a miss."""
    from songnuan.archive.generate import valid_id_number
    from songnuan.archive.models import Household

    top = Household.objects.order_by("-id").values_list("id", flat=True).first() or 0
    picked = rng.sample(range(1, top + 1), min(top, 3 * count))
    rows = list(
        Household.objects.filter(pk__in=picked).values_list(
            "head_name", "head_id_number", "phone", "name_initials"
        )
    )
    rng.shuffle(rows)
    misses = max(1, round(count * MISS_SHARE))
    hits = count - misses
    names = [r[0] for r in rows]
    numbers = [r[1] for r in rows]
    initials = [r[3] for r in rows]
    missing_ids: list[str] = []
    while len(missing_ids) < misses:
        number = valid_id_number(rng, rng.randrange(1000))
        if not Household.objects.filter(head_id_number=number).exists():
            missing_ids.append(number)
    absent_names = [
        f"欧阳{chr(0x4E00 + rng.randrange(0x5000))}" for _ in range(misses)
    ]  # 欧 is no surname here
    values = {
        "id18": numbers[:hits] + missing_ids,
        "id_tail4": [n[-4:] for n in numbers[:hits]] + [n[-4:] for n in missing_ids],
        "id_tail6": [n[-6:] for n in numbers[:hits]] + [n[-6:] for n in missing_ids],
        "name": names[:hits] + absent_names,
        "name2": [n[:2] for n in names[:hits]] + [n[:3] for n in absent_names],
        "pinyin2": [i[:2] for i in initials[:hits]] + ["vq"] * misses,  # no reading starts with v
        "pinyin3": [i[:3] for i in initials if len(i) >= 3][:hits] + ["qvv"] * misses,
        "phone": [r[2] for r in rows[:hits]] + [f"199{rng.randrange(10**8):08d}" for _ in range(misses)],
    }
    for texts in values.values():
        rng.shuffle(texts)
    return values


def captured(function: Callable[[], object]) -> list[tuple[str, tuple[Any, ...]]]:
    """The SQL statements and parameters `function` sends."""
    from django.db import connection

    seen: list[tuple[str, tuple[Any, ...]]] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append((sql, tuple(params or ())))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        function()
    return seen


def explain(sql: str, params: Sequence[Any]) -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        rows = raw("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
        return "\n".join(str(row[0]) for row in rows)
    rows = raw("EXPLAIN QUERY PLAN " + sql, params)
    return "\n".join(f"{row[1]:>3} {row[3]}" for row in rows)  # id, parent, notused, detail


def measure_search(user: User, count: int, rng: random.Random) -> dict[str, Any]:
    from songnuan.archive.selectors import HouseholdSearch, search_households

    def one(text: str) -> tuple[float, int, int]:
        started = time.perf_counter()
        households = search_households(user, HouseholdSearch(text=text))
        total = households.count()
        page = list(households[:PAGE_SIZE])
        return time.perf_counter() - started, total, len(page)

    warm = query_values(WARM_UP_QUERIES, random.Random(rng.random()))
    for texts in warm.values():
        for text in texts:
            one(text)
    values = query_values(count, rng)
    plans: dict[str, Any] = {}
    for kind, texts in values.items():
        text = texts[0]
        statements = captured(lambda text=text: one(text))  # type: ignore[misc]
        plans[kind] = {
            "text": text,
            "queries": [
                {"sql": sql, "params": list(params), "plan": explain(sql, params)}
                for sql, params in statements
            ],
        }
    times: dict[str, list[float]] = {kind: [] for kind in values}
    totals: dict[str, list[int]] = {kind: [] for kind in values}
    gc.collect()
    for index in range(count):  # the kinds take turns, so a slower moment of the machine touches all alike
        for kind, texts in values.items():
            if index < len(texts):
                seconds, total, _shown = one(texts[index])
                times[kind].append(seconds)
                totals[kind].append(total)
    kinds: dict[str, Any] = {}
    for kind in values:
        ordered = sorted(times[kind])
        found = sorted(totals[kind])
        kinds[kind] = {
            "queries": len(ordered),
            "with_hits": sum(1 for total in found if total),
            "rows_median": percentile(found, 0.5),
            "rows_max": found[-1] if found else 0,
            "p50_ms": 1000 * percentile(ordered, 0.50),
            "p95_ms": 1000 * percentile(ordered, 0.95),
            "max_ms": 1000 * ordered[-1] if ordered else float("nan"),
            "met": 1000 * percentile(ordered, 0.95) < GOAL_SEARCH_P95_MS,
        }
    return {"kinds": kinds, "plans": plans}


def database_megabytes() -> float:
    from django.db import connection

    if connection.vendor == "postgresql":
        return float(raw("SELECT pg_database_size(current_database())")[0][0]) / 1048576
    path = Path(sqlite_path())
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 1048576


def run_database(
    db: str, files: Mapping[str, str], n: int, queries: int, seed: int, profile: bool, server: str
) -> dict[str, Any]:
    """Everything for one database, in this (child) process: the scratch database is made and dropped here."""
    with scratch_database(db, server, label="archive") as url:
        setup_django(url)
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0, interactive=False)
        if connection.vendor == "postgresql":
            version = f"PostgreSQL {str(raw('SHOW server_version')[0][0]).split()[0]}"
        else:
            version = f"SQLite {raw('SELECT sqlite_version()')[0][0]}"
        user = build_tree()
        sizes = sorted({int(size) for size in files})
        if profile:
            empty_tables()
            path = files[str(sizes[0])]
            run_child(
                [
                    "--child",
                    "import",
                    "--url",
                    url,
                    "--file",
                    path,
                    "--job",
                    str(new_job(user, path)),
                    "--profile",
                ],
                "profiled import",
            )
        loads = [import_and_floor(url, user, files[str(size)], size) for size in sizes]
        # Searching starts from a settled database: on PostgreSQL what autovacuum does after a million
        # inserts (VACUUM ANALYZE) and the checkpoint that follows; on SQLite the WAL written back.
        if connection.vendor == "postgresql":
            raw("VACUUM ANALYZE")
            raw("CHECKPOINT")
        else:
            raw("PRAGMA wal_checkpoint(TRUNCATE)")
        search = measure_search(user, queries, random.Random(seed + 2))
        size = database_megabytes()
        connection.close()
    small, large = loads[0], loads[-1]
    memory_ratio = large["import"]["peak_rss_kib"] / small["import"]["peak_rss_kib"]
    return {
        "db": db,
        "server": version,
        "loads": loads,
        "memory": {
            "peak_small_mib": small["import"]["peak_rss_kib"] / 1024,
            "peak_large_mib": large["import"]["peak_rss_kib"] / 1024,
            "ratio": memory_ratio,
            "met": memory_ratio <= GOAL_FLAT_MEMORY,
        },
        "search": search,
        "megabytes": size,
    }


# --- the report ------------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def mib(kib: int) -> str:
    return f"{kib / 1024:,.0f} MiB"


def print_report(results: Mapping[str, Any]) -> None:
    m = results["machine"]
    print(f"archive import and search benchmark: N = {results['n']:,}, {results['queries']} queries per kind")
    print(f"{m['python']} on {m['cpu']}, {m['cpus']} CPUs ({m['platform']})")
    print(f"Django {m['django']}, psycopg {m['psycopg']}, pypinyin {m['pypinyin']}")
    print(f"load average at start: {m['load_average_at_start']}, at the end: {load_average()}")
    files = results["files"]
    sizes = ", ".join(f"{int(k):,} rows {v:.1f} MB" for k, v in files.get("megabytes", {}).items())
    print(f"archive CSV files: {sizes} (written in {files.get('seconds', 0):.1f} s, not timed)")
    for run in results["runs"]:
        if "error" in run:
            print(f"\n== {run['db']}: not measured: {run['error']}")
    runs = [run for run in results["runs"] if "error" not in run]
    if not runs:
        return
    print()
    print("| database | households | (a) import | (b) raw insert | **a / b** | goal ≤ 2 |", end="")
    print(" (a) RSS before → peak | (b) peak RSS | rows as expected |")
    print("|---|---:|---:|---:|---:|---|---|---:|---|")
    for run in runs:
        for load in run["loads"]:
            a, b, n = load["import"], load["raw"], load["n"]
            cells = [
                run["server"],
                f"{n:,}",
                f"{a['seconds']:.1f} s ({1e6 * a['seconds'] / n:.0f} µs/row)",
                f"{b['seconds']:.1f} s ({1e6 * b['seconds'] / n:.0f} µs/row)",
                f"**{load['a_over_b']:.2f}**",
                verdict(load["met"]),
                f"{mib(a['rss_before_kib'])} → {mib(a['peak_rss_kib'])}",
                mib(b["peak_rss_kib"]),
                "yes" if load["same_rows"] else "NO",
            ]
            print("| " + " | ".join(cells) + " |")
    print()
    print("| database | import peak RSS at N/10 | at N | ratio | goal ≤ 1.25 (flat) |")
    print("|---|---:|---:|---:|---|")
    for run in runs:
        mem = run["memory"]
        print(
            f"| {run['server']} | {mem['peak_small_mib']:,.0f} MiB | {mem['peak_large_mib']:,.0f} MiB |"
            f" {mem['ratio']:.2f} | {verdict(mem['met'])} |"
        )
    print()
    print(f"search at N households (count + first page of {PAGE_SIZE}), as the city's reviewer:")
    print()
    print("| database | query | queries | with hits | rows (median / max) | p50 | **p95** | max |", end="")
    print(" goal p95 < 20 ms |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for run in runs:
        for kind, k in run["search"]["kinds"].items():
            cells = [
                run["server"],
                KINDS[kind],
                str(k["queries"]),
                str(k["with_hits"]),
                f"{k['rows_median']:,} / {k['rows_max']:,}",
                f"{k['p50_ms']:.1f} ms",
                f"**{k['p95_ms']:.1f} ms**",
                f"{k['max_ms']:.1f} ms",
                verdict(k["met"]),
            ]
            print("| " + " | ".join(cells) + " |")
    for run in runs:
        print(f"\n{run['server']}: database {run['megabytes']:.0f} MB at N")
        for load in run["loads"]:
            a = load["import"]
            extra = f"; first: {a['first_rejections']}" if a["first_rejections"] else ""
            print(
                f"  N = {load['n']:,}: the import read {a['rows']:,} rows: created {a['created']:,}, existing"
                f" {a['existing']:,}, rejected {a['rejected']:,}, warnings {a['warnings']:,}{extra}"
            )
            print(f"  tables after (b): {load['tables']}")
    for run in runs:
        print(f"\n== query plans, {run['server']} (one query of each kind: the count, then the first page)")
        for kind, plan in run["search"]["plans"].items():
            print(f"\n-- {KINDS[kind]}: {plan['text']!r}")
            for query in plan["queries"]:
                print(f"   {query['sql']}  {query['params']}")
                print("     " + query["plan"].replace("\n", "\n     "))


# --- main ------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def archive_folder() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="songnuan-bench-archive-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def child_main(args: argparse.Namespace) -> int:
    if args.child == "import":
        answer = child_import(args.url, args.file, args.job, args.profile)
    elif args.child == "baseline":
        answer = child_baseline(args.url)
    else:
        files = json.loads(args.files)
        answer = run_database(
            args.database, files, args.n, args.queries, args.seed, args.profile, args.pg_url
        )
    print(json.dumps(answer, ensure_ascii=False, default=str))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=1_000_000, help="households (default 1000000)")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--queries", type=int, default=200, help="search texts per kind (default 200)")
    parser.add_argument("--seed", type=int, default=2018)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help=f"the PostgreSQL server ({DEFAULT_PG_URL})")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"the JSON results file ({DEFAULT_OUT})"
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile of an extra import at N/10, on stderr"
    )
    parser.add_argument("--child", choices=("database", "import", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--job", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--files", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so the finally blocks still drop the scratch database and the files.
    signal.signal(signal.SIGTERM, lambda _signal, _frame: sys.exit(143))
    args.n = max(args.n, 10)
    args.queries = max(args.queries, 2)
    if args.child:
        return child_main(args)
    machine_at_start = {**machine(), "pypinyin": version_of("pypinyin")}
    databases = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    runs: list[dict[str, Any]] = []
    with archive_folder() as folder:
        files = write_archives(folder, args.n, args.n // 10, args.seed)
        for db in databases:
            command = [
                "--child",
                "database",
                "--database",
                db,
                "--n",
                str(args.n),
                "--queries",
                str(args.queries),
            ]
            command += [
                "--seed",
                str(args.seed),
                "--pg-url",
                args.pg_url,
                "--files",
                json.dumps(files["files"]),
            ]
            command += ["--profile"] if args.profile else []
            try:
                runs.append(run_child(command, f"the {db} run"))
            except Exception as error:  # a measurement, not a test: report and exit 0
                runs.append({"db": db, "error": f"{type(error).__name__}: {error}"})
    results = {
        "command": " ".join([sys.executable, *sys.argv]),
        "machine": machine_at_start,
        "n": args.n,
        "queries": args.queries,
        "seed": args.seed,
        "files": files,
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2, default=str))
    else:
        print_report(results)
        print(f"\nJSON: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
