"""Benchmark of 附件1 derived from the relief ledger against one flat GROUP BY over the same rows.

Command (from the repository root):

    .venv/bin/python bench/bench_derive.py --db sqlite --units 10000 --help-records 1000000 \
        --activities 200000
    .venv/bin/python bench/bench_derive.py --db both ...      # SQLite, then PostgreSQL (scratch database)

It builds, in a scratch database, the unit tree of bench_rollup.py (--units in all), one campaign, filed
households (one per 10 help records), --help-records help records (95 % approved, 1 % of them reversed,
households of every category, persons, enterprises, every help item, fund source and channel),
--activities activity records (every kind and subkind), receipts (3 per unit) and stations (1 per 5 units),
inserted by raw executemany (SQLite) or COPY (PostgreSQL); none of that is timed. Then:

  (a) `totals.unit_totals(campaign, 附件1)`: every derivable item for every unit's own records (本级),
      read from the maintained rows (`songnuan.ledger.totals`);
  (b) the floor: one flat `SELECT unit_id, COUNT(*), SUM(amount + goods) … GROUP BY unit_id` over the
      approved help records plus the same over the activities, on a raw cursor;
  (l) `derive_units(campaign, 附件1)`: the same values derived live from the records, one statement;
  (s) the SQL that (l) sends, on a raw cursor;
  (c) `derive(campaign, 附件1, city, subtree=True)`: the city's whole area (全辖) in one row;
  (t) building the maintained rows once; (w, W) the upkeep a ledger write adds (`totals.changed` for one
      unit: a unit of median size, and the largest).

Goal from issue 12: a / b ≤ 2. Best of --repeat rounds after a warm-up; exit status always 0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench_rollup import (
    DEFAULT_PG_URL,
    captured_sql,
    machine,
    migrated_scratch,
    rerun_per_database,
    run_raw,
    timed,
    tree_shape,
)

GOAL = 2.0
FORM_CODE = "warmth-2018"


def insert_rows(model: Any, rows: Iterator[dict[str, Any]], with_id: bool = False) -> int:
    """Raw bulk insert of `rows` (field name → value; unset fields take their model default)."""
    from django.db import connection

    fields = [f for f in model._meta.concrete_fields if with_id or not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = model._meta.db_table
    count = 0

    now = dt.datetime(2018, 1, 2, 10, tzinfo=dt.UTC)

    def default(field: Any) -> Any:
        return (
            now
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
            else field.get_default()
        )

    def prepared() -> Iterator[tuple[Any, ...]]:
        for row in rows:
            yield tuple(
                f.get_db_prep_save(row[f.name] if f.name in row else default(f), connection) for f in fields
            )

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for values in prepared():
                    copy.write_row(values)
                    count += 1
        else:
            sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
            batch: list[tuple[Any, ...]] = []
            for values in prepared():
                batch.append(values)
                if len(batch) == 20_000:
                    cursor.executemany(sql, batch)
                    count += len(batch)
                    batch.clear()
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


def load(units: int, help_records: int, activities: int, rng: random.Random) -> dict[str, Any]:
    from django.contrib.auth.models import User
    from django.db import connection, transaction

    from songnuan.archive.models import Household
    from songnuan.campaigns.models import Campaign
    from songnuan.ledger.models import Activity, FundSource, HelpItem, HelpRecord, Receipt, Station
    from songnuan.ledger.vocabulary import SUBKINDS
    from songnuan.orgs.models import Unit, path_segment

    started = time.perf_counter()
    shape = tree_shape(units)
    paths: dict[int, str] = {}
    unit_rows = []
    for pk, parent, kind, depth in shape:
        paths[pk] = (paths[parent] if parent is not None else "") + path_segment(pk)
        unit_rows.append(
            Unit(id=pk, name=f"单位{pk:05d}", kind=kind, parent_id=parent, path=paths[pk], depth=depth)
        )
    unit_ids = [pk for pk, *_rest in shape]
    with transaction.atomic():
        Unit.objects.bulk_create(unit_rows, batch_size=2000)
        user = User.objects.create(username="bench")
        campaign = Campaign.objects.create(
            title="基准",
            document_number="荆工办发电〔2017〕18号",
            owner_id=1,
            period_start=dt.date(2018, 1, 1),
            period_end=dt.date(2018, 2, 15),
            deadline=dt.date(2018, 2, 5),
            form_codes=[FORM_CODE],
        )
        categories = list(Household.Category.values)
        household_count = max(help_records // 10, 1)
        household_units = [rng.choice(unit_ids) for _ in range(household_count)]
        insert_rows(
            Household,
            (
                {
                    "id": n + 1,
                    "unit": household_units[n],
                    "head_name": f"户主{n}",
                    "head_id_number": f"{420000000000000000 + n}",
                    "head_sex": "男",
                    "head_birth_date": dt.date(1970, 1, 1),
                    "category": categories[n % 3],
                    "applied_by": user.pk,
                    "status": Household.Status.FILED,
                }
                for n in range(household_count)
            ),
            with_id=True,
        )
        items = list(HelpItem.objects.values_list("pk", flat=True))
        sources = list(FundSource.objects.values_list("pk", flat=True))
        channels = list(HelpRecord.Channel.values)
        people_categories = list(HelpRecord.PersonCategory.values)
        enterprise_kinds = list(HelpRecord.EnterpriseKind.values)
        reversed_ids = set(rng.sample(range(1, help_records + 1), help_records // 100))

        def help_rows() -> Iterator[dict[str, Any]]:
            base: dict[str, Any] = {
                "campaign": campaign.pk,
                "name": "某",
                "paid_on": dt.date(2018, 1, 25),
                "entered_by": user.pk,
            }
            next_id = help_records + 1
            for n in range(1, help_records + 1):
                kind = rng.random()
                row = dict(base, id=n, item=rng.choice(items), source=rng.choice(sources))
                row["channel"] = rng.choice(channels)
                row["amount"] = Decimal(rng.randrange(10_000, 300_000)) / 100
                row["state"] = HelpRecord.State.APPROVED if rng.random() < 0.95 else HelpRecord.State.DRAFT
                if kind < 0.7:
                    household = rng.randrange(household_count)
                    row.update(
                        recipient_kind="household", household=household + 1, unit=household_units[household]
                    )
                elif kind < 0.9:
                    row.update(recipient_kind="person", unit=rng.choice(unit_ids), id_number=f"4208{n:014d}")
                    row["person_category"] = rng.choice(people_categories)
                else:
                    row.update(recipient_kind="enterprise", unit=rng.choice(unit_ids))
                    row["enterprise_kind"] = rng.choice(enterprise_kinds)
                if rng.random() < 0.2:
                    row["goods_value"] = Decimal(rng.randrange(100, 500))
                yield row
                if n in reversed_ids and row["state"] == HelpRecord.State.APPROVED:
                    reversal = dict(row, id=next_id, reverses=n, amount=-row["amount"])
                    if "goods_value" in row:
                        reversal["goods_value"] = -row["goods_value"]
                    next_id += 1
                    yield reversal

        help_count = insert_rows(HelpRecord, help_rows(), with_id=True)
        kinds = list(Activity.Kind.values)

        def activity_rows() -> Iterator[dict[str, Any]]:
            for _n in range(activities):
                kind = rng.choice(kinds)
                subkinds = SUBKINDS.get(kind, ())
                yield {
                    "campaign": campaign.pk,
                    "unit": rng.choice(unit_ids),
                    "kind": kind,
                    "subkind": rng.choice(subkinds)[0] if subkinds else "",
                    "on": dt.date(2018, 1, 20),
                    "people": rng.randrange(1, 200),
                    "quantity": rng.randrange(1, 10),
                    "amount": Decimal(rng.randrange(0, 1_000_000)) / 100,
                    "entered_by": user.pk,
                }

        activity_count = insert_rows(Activity, activity_rows())
        insert_rows(
            Receipt,
            (
                {
                    "campaign": campaign.pk,
                    "unit": unit,
                    "source": rng.choice(sources),
                    "amount": Decimal(rng.randrange(100_000, 10_000_000)) / 100,
                    "received_on": dt.date(2018, 1, 2),
                    "entered_by": user.pk,
                    "entered_at": dt.datetime(2018, 1, 2, tzinfo=dt.UTC),
                }
                for unit in unit_ids
                for _n in range(3)
            ),
        )
        insert_rows(
            Station,
            (
                {"unit": unit, "name": f"站点{unit}", "address": "某路", "opened_on": dt.date(2017, 1, 1)}
                for unit in unit_ids[::5]
            ),
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return {
        "campaign": campaign,
        "city": Unit.objects.get(pk=1),
        "units": len(shape),
        "help_records": help_count,
        "activities": activity_count,
        "seconds": time.perf_counter() - started,
    }


FLAT = (
    "SELECT unit_id, COUNT(*), SUM(COALESCE(amount, 0) + COALESCE(goods_value, 0)) FROM ledger_helprecord "
    "WHERE campaign_id = %s AND state = 'approved' GROUP BY unit_id",
    "SELECT unit_id, COUNT(*), SUM(people) FROM ledger_activity WHERE campaign_id = %s GROUP BY unit_id",
)


def measure(data: dict[str, Any], repeat: int) -> dict[str, Any]:
    from django.db import connection

    from songnuan.formkit.definitions import get_form
    from songnuan.ledger import totals
    from songnuan.ledger.derive import derive, derive_units

    form = get_form(FORM_CODE)
    campaign, city = data["campaign"], data["city"]
    sql_l, params_l = captured_sql(lambda: derive_units(campaign, form))
    build_seconds, _built = timed(lambda: totals.build(campaign, form))
    # A unit of middling size (the median of help records a unit) for the cost a write adds.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT unit_id FROM ledger_helprecord WHERE campaign_id = %s GROUP BY unit_id ORDER BY COUNT(*)",
            [campaign.pk],
        )
        by_size = [row[0] for row in cursor.fetchall()]
    middling, largest = by_size[len(by_size) // 2], by_size[-1]
    runners = {
        "a": lambda: totals.unit_totals(campaign, form),
        "b": lambda: [run_raw(sql, (campaign.pk,)) for sql in FLAT],
        "l": lambda: derive_units(campaign, form),
        "s": lambda: run_raw(sql_l, params_l),
        "c": lambda: derive(campaign, form, city, subtree=True),
        "w": lambda: totals.changed(campaign.pk, [middling]),
        "W": lambda: totals.changed(campaign.pk, [largest]),
    }
    runs: dict[str, list[float]] = {key: [] for key in runners}
    outcomes: dict[str, Any] = {}
    for round_ in range(repeat + 1):
        for key, runner in runners.items():
            seconds, outcomes[key] = timed(runner)
            if round_:
                runs[key].append(seconds)
    best = {key: min(values) for key, values in runs.items()}
    # The derivation agrees with the floor on what both count: approved help money per unit (4A, in 万元).
    flat_money = {row[0]: Decimal(str(row[2] or 0)) for row in outcomes["b"][0]}
    kept, live = outcomes["a"], outcomes["l"]
    differ = sum(
        1
        for unit, money in flat_money.items()
        if abs((live.get(unit, {}).get("4A") or Decimal(0)) * 10000 - money) > 1
    )
    return {
        "best": best,
        "build_seconds": build_seconds,
        "a_over_b": best["a"] / best["b"],
        "l_over_b": best["l"] / best["b"],
        "s_over_b": best["s"] / best["b"],
        "met": best["a"] / best["b"] <= GOAL,
        "units_derived": len(live),
        "units_differing_on_4A": differ,
        "kept_equal_live": kept == live,
        "records_of_units_written": (
            run_raw("SELECT COUNT(*) FROM ledger_helprecord WHERE unit_id = %s", (middling,))[0][0],
            run_raw("SELECT COUNT(*) FROM ledger_helprecord WHERE unit_id = %s", (largest,))[0][0],
        ),
        "city_4A": str(outcomes["c"].get("4A")),
    }


def run_one(db: str, args: argparse.Namespace) -> dict[str, Any]:
    with migrated_scratch(db, args.pg_url, "derive"):
        from django.db import connection

        data = load(args.units, args.help_records, args.activities, random.Random(args.seed))
        if connection.vendor == "postgresql":
            version = run_raw("SHOW server_version", ())[0][0]
        else:
            version = run_raw("SELECT sqlite_version()", ())[0][0]
        results = measure(data, args.repeat)
        connection.close()
    return {
        "db": f"{'PostgreSQL' if db == 'postgres' else 'SQLite'} {version}",
        "units": data["units"],
        "help_records": data["help_records"],
        "activities": data["activities"],
        "load_seconds": round(data["seconds"], 1),
        **results,
    }


def report(result: dict[str, Any]) -> str:
    best = result["best"]
    middling, largest = result["records_of_units_written"]
    return "\n".join(
        [
            f"{result['db']}: {result['units']} units, {result['help_records']:,} help records (reversals "
            f"included), {result['activities']:,} activities; loaded in {result['load_seconds']} s",
            f"  (a) 附件1 of every unit, maintained rows  {best['a']:.3f} s",
            f"  (b) flat GROUP BY (help + activities)   {best['b']:.3f} s",
            f"  (l) 附件1 of every unit, live derivation {best['l']:.3f} s",
            f"  (s) (l)'s SQL on a raw cursor           {best['s']:.3f} s",
            f"  (c) derive, the city's 全辖             {best['c']:.3f} s",
            f"  (t) building the maintained rows once   {result['build_seconds']:.3f} s",
            f"  (w) a write's upkeep, a unit of {middling} records  {best['w'] * 1000:.1f} ms",
            f"  (W) a write's upkeep, the largest unit ({largest} records)  {best['W'] * 1000:.1f} ms",
            f"  a / b = {result['a_over_b']:.2f} (goal ≤ {GOAL}: {'met' if result['met'] else 'NOT met'}); "
            f"l / b = {result['l_over_b']:.2f}; s / b = {result['s_over_b']:.2f}; maintained = live: "
            f"{result['kept_equal_live']}; units derived {result['units_derived']}, "
            f"differing from the floor on 4A: {result['units_differing_on_4A']}",
        ]
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--help-records", type=int, default=1_000_000)
    parser.add_argument("--activities", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2018)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    if args.db == "both":
        rerun_per_database(__file__, argv)
        return
    print(json.dumps(machine(), ensure_ascii=False) if args.json else f"machine: {machine()}")
    result = run_one(args.db, args)
    print(json.dumps(result, ensure_ascii=False, default=str) if args.json else report(result))


if __name__ == "__main__":
    main()
