"""Benchmark of the payment roster import (发放花名册, issue 12, speed (a)).

Command (from the repository root):

    .venv/bin/python bench/bench_roster.py --n 100000 --database both

Per database, in a scratch database (a temporary SQLite file, or `songnuan_bench_roster_…` on the PostgreSQL
server at 127.0.0.1:5432, created, migrated and dropped by the run): a county union with its reporter, a
campaign (2018-01-01 … 2018-02-15), money raised (central and union funds), and N/10 households filed on
2017-06-01 through the archive import (not timed). A CSV roster of N rows is written (not timed): one row in
ten pays a filed household from the central fund, the others pay people not on file from union funds, one row
in a hundred has an ID number with a wrong check digit; every column of the roster (姓名, 身份证号, 帮扶项目,
资金来源, 金额（元）, 发放方式, 卡号, 发放日期, 备注). Then, each in a child process (its peak RSS its own):

  (a) the import, end to end: `open_list(file)` → `roster_import(...)` (every row read and checked by the
      ledger's rules, the good rows written as drafts in batches through `bulk.insert_rows`), one transaction,
      at N/10 and at N (the memory should stay flat: the file is streamed, the checks read per batch);
  (b) the floor: the very same help-record rows (read back from (a), every column as written), held in memory
      beforehand, inserted into the emptied table (same indexes) with `bulk.insert_rows` alone — one SQLite
      executemany or one PostgreSQL COPY — in one transaction.

  (c) the eligibility check of one payment as the page and the API make it (`services.check_help`, its facts
      read from the database), over 2,000 payments against the ledger (a) left: µs per row; beside it the
      import's own cost per row above the raw insert, (a − b) / N, where the same rules run on preloaded
      facts.

Goals from the issue: a / b ≤ 2 on each database; peak RSS at N at most 1.25 × the peak at N/10. Options:
--n N, --database sqlite|postgresql|both, --pg-url URL, --json; BENCH_ROSTER_PROFILE=1 in the
environment prints a cProfile of each import on stderr. The exit status is always 0: this measures.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import datetime as dt
import gc
import json
import os
import pstats
import random
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench_rollup import DEFAULT_PG_URL, scratch_database

ROOT = Path(__file__).resolve().parent.parent
GOAL_IMPORT_OVER_RAW = 2.0
GOAL_FLAT_MEMORY = 1.25
HEADER = (
    "序号",
    "姓名",
    "身份证号",
    "帮扶项目",
    "资金来源",
    "金额（元）",
    "发放方式",
    "卡号",
    "发放日期",
    "备注",
)
COUNTY = "东宝区总工会"
REPORTER, REVIEWER = "bench_county_reporter", "bench_city_reviewer"


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "songnuan.config.settings"
    os.environ["SONGNUAN_DEBUG"] = "0"  # as in production: no query log
    os.environ.setdefault("SONGNUAN_SECRET_KEY", "bench-" + secrets.token_urlsafe(48))
    import django

    django.setup()


def peak_rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# --- the files (not timed) -------------------------------------------------------------------------------


def write_files(folder: Path, n: int, seed: int) -> dict[str, Any]:
    """The archive of N/10 households, and the rosters of N and of N/10 rows paying them and others."""
    from songnuan.archive.generate import households, luhn_complete

    filed = list(households(max(n // 10, 10), seed=seed))
    archive = folder / "archive.csv"
    with archive.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["姓名", "身份证号码", "类别", "卡号", "建档日期", "建档单位"])
        for h in filed:
            writer.writerow([h.name, h.id_number, h.category, h.card_number, "2017-06-01", COUNTY])
    others = households(n, seed=seed + 1)
    rng = random.Random(seed)
    files = {}
    for label, size in (("small", max(n // 10, 10)), ("large", n)):
        path = folder / f"roster-{label}.csv"
        with path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["东宝区总工会2018年春节送温暖发放花名册"])
            writer.writerow(HEADER)
            for index in range(size):
                amount = rng.choice(("500", "800", "1000", "1200.50", "2000"))
                day = f"2018-01-{rng.randrange(2, 29):02d}"
                if index % 10 == 0:
                    h = filed[(index // 10) % len(filed)]
                    cells = [h.name, h.id_number, "节日慰问", "中央财政", amount, "阳光5·1卡", "", day, ""]
                else:
                    p = next(others)
                    number = p.id_number
                    if index % 100 == 1:  # a wrong check digit
                        number = number[:17] + ("0" if number[17] != "0" else "1")
                    card = luhn_complete(f"622{index:015d}")
                    cells = [p.name, number, "节日慰问", "工会经费", amount, "银行卡", card, day, "一线职工"]
                writer.writerow([index + 1, *cells])
        files[label] = str(path)
    files["archive"] = str(archive)
    return files


# --- children ----------------------------------------------------------------------------------------------


def child_setup(url: str, archive: str) -> dict[str, Any]:
    setup_django(url)
    from decimal import Decimal

    from django.core.management import call_command

    from songnuan.archive.importing import ImportOutcome, guess_mapping, household_import
    from songnuan.archive.models import ImportJob
    from songnuan.campaigns.models import Campaign
    from songnuan.formkit.list_reader import open_list
    from songnuan.ledger.models import FundSource
    from songnuan.ledger.services import receipt_add
    from songnuan.orgs.models import Account, Unit
    from songnuan.orgs.services import account_create, unit_create

    call_command("migrate", verbosity=0)
    city = unit_create(name="荆门市总工会", kind=Unit.Kind.CITY)
    county = unit_create(name=COUNTY, kind=Unit.Kind.COUNTY, parent=city)
    password = secrets.token_urlsafe(16)
    reporter = account_create(username=REPORTER, password=password, unit=county, role=Account.Role.REPORTER)
    reviewer = account_create(username=REVIEWER, password=password, unit=city, role=Account.Role.REVIEWER)
    campaign = Campaign.objects.create(
        title="送温暖活动",
        document_number="荆工办发电〔2017〕18号",
        owner=city,
        period_start=dt.date(2018, 1, 1),
        period_end=dt.date(2018, 2, 15),
        deadline=dt.date(2018, 2, 5),
        receiving_department="市总权益保障部",
        form_codes=[],
    )
    campaign.addressees.set([county])
    for code in ("central", "union"):
        receipt_add(
            user=reporter.user,
            campaign=campaign,
            unit=county,
            source=FundSource.objects.get(code=code),
            amount=Decimal("1000000000"),
            received_on=dt.date(2018, 1, 2),
        )
    reading = open_list(archive)
    job = ImportJob.objects.create(
        user=reviewer.user,
        unit=city,
        file_name="archive.csv",
        file_sha256="0" * 64,
        stored_path=archive,
        columns=reading.header,
        mapping=guess_mapping(reading.header),
        state=ImportJob.State.RUNNING,
    )
    outcome: ImportOutcome = household_import(
        user=reviewer.user,
        job=job,
        rows=reading.rows,
        mapping=job.mapping,
        default_unit=None,
        reject=lambda row, cells, reason: None,
    )
    reading.close()
    return {"households": outcome.created, "campaign": campaign.pk, "unit": county.pk}


def child_import(url: str, path: str) -> dict[str, Any]:
    setup_django(url)
    from django.contrib.auth.models import User

    from songnuan.campaigns.models import Campaign
    from songnuan.formkit.list_reader import open_list
    from songnuan.ledger import roster
    from songnuan.ledger.models import HelpRecord, RosterImport
    from songnuan.orgs.models import Unit

    HelpRecord.objects.all().delete()
    user = User.objects.get(username=REPORTER)
    reading = open_list(path)
    job = RosterImport.objects.create(
        user=user,
        campaign=Campaign.objects.get(),
        unit=Unit.objects.get(name=COUNTY),
        file_name=Path(path).name,
        file_sha256="0" * 64,
        stored_path=path,
        columns=reading.header,
        mapping=roster.guess_mapping(reading.header),
        state=RosterImport.State.RUNNING,
    )
    rejected = 0

    def reject(row: int, cells: Sequence[Any], reason: str) -> None:
        nonlocal rejected
        rejected += 1

    gc.collect()
    profile = cProfile.Profile() if os.environ.get("BENCH_ROSTER_PROFILE") else None
    if profile is not None:
        profile.enable()
    started = time.perf_counter()
    outcome = roster.roster_import(
        user=user,
        job=job,
        rows=reading.rows,
        mapping=job.mapping,
        reject=reject,
        progress=lambda rows, fraction: None,
        fraction_read=reading.fraction_read,
    )
    seconds = time.perf_counter() - started
    if profile is not None:
        profile.disable()
        pstats.Stats(profile, stream=sys.stderr).sort_stats("tottime").print_stats(30)
    reading.close()
    return {
        "seconds": seconds,
        "rows": outcome.rows,
        "created": outcome.created,
        "rejected": outcome.rejected,
        "warnings": outcome.warnings,
        "peak_rss_kib": peak_rss_kib(),
    }


def child_baseline(url: str) -> dict[str, Any]:
    """(b): the rows (a) wrote, read back, the table emptied, then `insert_rows` alone, timed."""
    setup_django(url)
    from django.db import connection, transaction

    from songnuan.archive.bulk import insert_rows
    from songnuan.ledger.models import HelpRecord
    from songnuan.ledger.roster import RECORD_COLUMNS

    table = HelpRecord._meta.db_table
    names = ", ".join(connection.ops.quote_name(c) for c in RECORD_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {names} FROM {table} ORDER BY id")
        rows = [tuple(row) for row in cursor.fetchall()]
    HelpRecord.objects.all().delete()
    if connection.vendor == "postgresql":
        rows = [tuple(json.dumps(v) if isinstance(v, list) else v for v in row) for row in rows]
    gc.collect()
    started = time.perf_counter()
    with transaction.atomic():
        insert_rows(HelpRecord, RECORD_COLUMNS, rows)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": len(rows)}


def child_check(url: str, n: int) -> dict[str, Any]:
    """(c): the eligibility check (依档帮扶, cash, money left, duplicates, card, caps) of one payment, as the
    page and the API make it — `services.check_help` with its database-backed facts, a few queries a row —
    over `n` payments: half to filed households from the central fund, half to people not on file from
    union funds. Reads only; µs per row."""
    setup_django(url)
    from decimal import Decimal

    from songnuan.archive.models import Household
    from songnuan.campaigns.models import Campaign
    from songnuan.ledger.models import HelpRecord
    from songnuan.ledger.services import HelpInput, Lookups, check_help
    from songnuan.orgs.models import Unit

    campaign, unit = Campaign.objects.get(), Unit.objects.get(name=COUNTY)
    households = list(Household.objects.values_list("pk", "head_id_number")[: n // 2])
    people = [number for _pk, number in households]  # valid ID numbers, paid as persons from union funds
    inputs = [
        HelpInput(
            recipient_kind=HelpRecord.RecipientKind.HOUSEHOLD,
            household_id=pk,
            item="visit",
            source="central",
            channel=HelpRecord.Channel.UNION_CARD,
            paid_on=dt.date(2018, 1, 25),
            amount=Decimal("800"),
        )
        for pk, _number in households
    ] + [
        HelpInput(
            recipient_kind=HelpRecord.RecipientKind.PERSON,
            name="张三",
            id_number=number,
            person_category=HelpRecord.PersonCategory.FRONTLINE,
            item="visit",
            source="union",
            channel=HelpRecord.Channel.BANK_CARD,
            card_number="6222020200112233445",
            paid_on=dt.date(2018, 1, 25),
            amount=Decimal("500"),
        )
        for number in people
    ]
    lookups = Lookups()
    errors = 0
    started = time.perf_counter()
    for data in inputs:
        errors += bool(check_help(campaign=campaign, unit=unit, data=data, lookups=lookups).errors)
    seconds = time.perf_counter() - started
    return {
        "rows": len(inputs),
        "seconds": seconds,
        "us_per_row": seconds / len(inputs) * 1e6,
        "refused": errors,
    }


def run_child(arguments: Sequence[str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, *arguments], cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"child {arguments[:2]} failed (exit {done.returncode})")
    answer: dict[str, Any] = json.loads(lines[-1])
    return answer


def run_database(db: str, pg_url: str, files: dict[str, str]) -> dict[str, Any]:
    with scratch_database(db, pg_url, "roster") as url:
        setup = run_child(["--child", "setup", "--url", url, "--path", files["archive"]])
        small = run_child(["--child", "import", "--url", url, "--path", files["small"]])
        large = run_child(["--child", "import", "--url", url, "--path", files["large"]])
        floor = run_child(["--child", "baseline", "--url", url])
        check = run_child(["--child", "check", "--url", url, "--path", "2000"])
    ratio = large["seconds"] / floor["seconds"]
    memory = large["peak_rss_kib"] / small["peak_rss_kib"]
    return {
        "database": db,
        "setup": setup,
        "import_small": small,
        "import": large,
        "baseline": floor,
        "check": check,
        "ratio": ratio,
        "ratio_met": ratio <= GOAL_IMPORT_OVER_RAW,
        "memory_ratio": memory,
        "memory_met": memory <= GOAL_FLAT_MEMORY,
    }


def print_report(n: int, results: Sequence[dict[str, Any]]) -> None:
    print(f"Roster import, N = {n:,} rows (one in a hundred bad)")
    print(
        "| database | (a) import | rows/s | (b) raw insert | a / b | goal ≤ 2 | peak RSS N/10 → N | ≤ 1.25 |"
    )
    print("|---|---:|---:|---:|---:|---|---:|---|")
    for r in results:
        a, b = r["import"], r["baseline"]
        print(
            f"| {r['database']} | {a['seconds']:.2f} s | {a['rows'] / a['seconds']:,.0f}"
            f" | {b['seconds']:.2f} s"
            f" | {r['ratio']:.2f} | {'met' if r['ratio_met'] else 'NOT met'}"
            f" | {r['import_small']['peak_rss_kib'] / 1024:.0f} → {a['peak_rss_kib'] / 1024:.0f} MiB"
            f" ({r['memory_ratio']:.2f}) | {'met' if r['memory_met'] else 'NOT met'} |"
        )
        print(f"|   created {a['created']:,}, rejected {a['rejected']:,}, warnings {a['warnings']:,} |")
    print()
    print(
        "(c) the eligibility check per row: one payment at a time (check_help, database-backed facts, as the"
    )
    print(
        "    page and the API check), and in the import (a − b, per row: reading, checking, the row digest)"
    )
    for r in results:
        c, a, b = r["check"], r["import"], r["baseline"]
        in_import = (a["seconds"] - b["seconds"]) / a["rows"] * 1e6
        print(
            f"| {r['database']} | one at a time {c['us_per_row']:,.0f} µs"
            f" | in the import {in_import:,.0f} µs |"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--seed", type=int, default=2018)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", choices=("setup", "import", "baseline", "check"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "src"))
    if args.child == "setup":
        print(json.dumps(child_setup(args.url, args.path)))
        return 0
    if args.child == "import":
        print(json.dumps(child_import(args.url, args.path)))
        return 0
    if args.child == "baseline":
        print(json.dumps(child_baseline(args.url)))
        return 0
    if args.child == "check":
        print(json.dumps(child_check(args.url, int(args.path))))
        return 0
    databases = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    results = []
    with tempfile.TemporaryDirectory(prefix="songnuan-bench-roster-") as folder:
        setup_django("sqlite:///" + str(Path(folder) / "unused.sqlite3"))  # for the generator's imports only
        files = write_files(Path(folder), args.n, args.seed)
        for db in databases:
            try:
                results.append(run_database(db, args.pg_url, files))
            except Exception as problem:  # a database that is not there: say so, measure the other
                print(f"{db}: {problem}", file=sys.stderr)
    if args.json:
        print(json.dumps(results, indent=2, default=str))
    else:
        print_report(args.n, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
