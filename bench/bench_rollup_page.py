"""Benchmark of the roll-up page at the root of a small and a large tree, and of an accept with and without
the maintained roll-up totals (issue 14 (3)).

Command (from the repository root; the figures are in BENCHMARKS.md):

    .venv/bin/python bench/bench_rollup_page.py --db postgres --small 1000 --large 100000
    .venv/bin/python bench/bench_rollup_page.py --db sqlite --small 1000 --large 10000

For each size it builds, in a scratch database, the tree and the accepted tables of `bench_rollup.py` (both
built-in forms, every unit), adds a reviewer at the city (市总), and — in this process, through Django's test
client with the whole middleware and the templates — measures, after a warm-up that builds the maintained
totals:

  (p) GET the roll-up page of 附件1 (warmth-2018) at the city, --requests times: p50 and p95;
  (e) GET the page with the campaigns list (a small logged-in page) the same way, for scale;
  (u) the roll-up itself (`rollup`, one call) — the part the maintained totals replace;
  (A) `submission_accept` of --accepts leaf tables (set back to submitted, then unlocked again between runs,
      untimed) with the totals built, and (A0) the same accepts with no totals built (the accept then only
      asks whether they are): median each.

Goals from the issue: page p95 < 50 ms at the large size, ≤ 1.2 × the page at the small size; A / A0 ≤ 2.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench_rollup import example_values, load_data, machine, migrated_scratch, rerun_per_database

DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432"
FORM = "warmth-2018"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timed_requests(client: Any, url: str, count: int) -> list[float]:
    client.get(url)  # warm-up (the first read of a form builds its totals)
    times = []
    for _ in range(count):
        gc.collect()
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
    return times


def accepts(data: dict[str, Any], reviewer: Any, count: int, *, with_totals: bool) -> list[float]:
    from songnuan.reporting import branch_totals
    from songnuan.reporting.models import BranchTotalsBuild, Submission, SubmissionValue
    from songnuan.reporting.services import submission_accept, submission_unlock

    campaign = data["campaign"]
    valid = example_values(FORM)
    if with_totals:
        branch_totals.build(campaign.pk, FORM)
    else:
        BranchTotalsBuild.objects.filter(campaign=campaign).delete()
    leaves = list(
        Submission.objects.filter(campaign=campaign, form_code=FORM, unit__depth=3).order_by("pk")[:count]
    )
    times = []
    for submission in leaves:
        submission_unlock(submission=submission, user=reviewer, reason="基准测试")
        # The filled example, which passes every rule (the generated tables leave items blank at random).
        SubmissionValue.objects.filter(submission=submission).delete()
        SubmissionValue.objects.bulk_create(
            SubmissionValue(
                submission=submission,
                item=code,
                number=None if isinstance(value, str) else Decimal(value),
                text=value if isinstance(value, str) else "",
            )
            for code, value in valid.items()
        )
        Submission.objects.filter(pk=submission.pk).update(status=Submission.Status.SUBMITTED)
        submission.refresh_from_db()
        gc.collect()
        started = time.perf_counter()
        submission_accept(submission=submission, user=reviewer)
        times.append(time.perf_counter() - started)
    return times


def run_size(db: str, units: int, args: argparse.Namespace) -> dict[str, Any]:
    with migrated_scratch(db, args.pg_url, "rollup_page"):
        from django.contrib.auth.models import User
        from django.db import connection
        from django.test import Client
        from django.urls import reverse

        from songnuan.orgs.models import Account
        from songnuan.reporting import branch_totals
        from songnuan.reporting.rollup import rollup

        data = load_data(units, random.Random(args.seed))
        campaign, city = data["campaign"], data["city"]
        reviewer = User.objects.create_user("bench_reviewer", password="x")
        Account.objects.create(user=reviewer, unit=city, role=Account.Role.REVIEWER)
        started = time.perf_counter()
        branch_totals.build(campaign.pk, FORM)
        build_seconds = time.perf_counter() - started
        client = Client()
        client.force_login(reviewer)
        page = reverse("review:rollup", args=[campaign.pk, city.pk, FORM])
        home = client.get("/")
        small = home["Location"] if home.status_code == 302 else "/"  # where the home page sends a reviewer
        result = {
            "units": data["units"],
            "values": data["values"],
            "build_seconds": round(build_seconds, 2),
            "page": timed_requests(client, page, args.requests),
            "empty": timed_requests(client, small, args.requests),
        }
        rollup_times = []
        for _ in range(args.requests):
            started = time.perf_counter()
            rollup(campaign, FORM, city)
            rollup_times.append(time.perf_counter() - started)
        result["rollup"] = rollup_times
        result["accept"] = accepts(data, reviewer, args.accepts, with_totals=True)
        result["accept_without"] = accepts(data, reviewer, args.accepts, with_totals=False)
        connection.close()
    return result


def summary(result: dict[str, Any]) -> dict[str, Any]:
    ms = 1000
    return {
        "units": result["units"],
        "values": result["values"],
        "build_s": result["build_seconds"],
        "page_p50_ms": round(statistics.median(result["page"]) * ms, 1),
        "page_p95_ms": round(percentile(result["page"], 0.95) * ms, 1),
        "empty_p50_ms": round(statistics.median(result["empty"]) * ms, 1),
        "empty_p95_ms": round(percentile(result["empty"], 0.95) * ms, 1),
        "rollup_p50_ms": round(statistics.median(result["rollup"]) * ms, 2),
        "accept_ms": round(statistics.median(result["accept"]) * ms, 1),
        "accept_without_ms": round(statistics.median(result["accept_without"]) * ms, 1),
    }


def one_size(args: argparse.Namespace, size: int, argv: list[str] | None) -> dict[str, Any]:
    """One size in a child process: Django is set up once a process, on one scratch database."""
    command = [sys.executable, __file__, *(argv if argv is not None else sys.argv[1:]), "--size", str(size)]
    finished = subprocess.run(command, check=True, capture_output=True, text=True)
    return dict(json.loads(finished.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--accepts", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20180125)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--size", type=int, default=0, help="one size only, in this process (JSON)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    if args.db == "both":
        rerun_per_database(__file__, argv)
        return
    if args.size:
        print(json.dumps(summary(run_size(args.db, args.size, args))), flush=True)
        return
    print(f"machine: {machine()}", flush=True)
    small, large = (one_size(args, size, argv) for size in (args.small, args.large))
    report = {
        "db": args.db,
        "small": small,
        "large": large,
        "page_large_over_small_p95": round(large["page_p95_ms"] / small["page_p95_ms"], 2),
        "accept_with_over_without_large": round(large["accept_ms"] / large["accept_without_ms"], 2),
    }
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
        return
    for label in ("small", "large"):
        print(f"{args.db} {label}: {report[label]}")
    print(
        f"page p95 large / small = {report['page_large_over_small_p95']} (goal ≤ 1.2); "
        f"large p95 {large['page_p95_ms']} ms (goal < 50); "
        f"accept with / without totals = {report['accept_with_over_without_large']} (goal ≤ 2)"
    )


if __name__ == "__main__":
    main()
