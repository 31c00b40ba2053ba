"""Imports on the task worker: queued by the request, run by `manage.py db_worker` — a real process on the
test database, as `make run` starts it. A worker killed in the middle of an import leaves nothing written; its
job is marked failed with a clear message once its progress stops (never left running), and runs again from
its kept upload."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from songnuan.archive.import_jobs import (
    STALLED,
    ImportRefused,
    import_job_retry,
    import_job_run,
    import_job_start,
    import_progress,
    may_retry,
)
from songnuan.archive.models import Household, ImportJob

from ..ledger.ledgerworld import build_ledger_world
from ..processes import task_worker
from ..world import World
from .test_import import good_rows, write_csv

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def queued(settings: Any, tmp_path: Path) -> None:
    settings.SONGNUAN_IMPORT_IN_BACKGROUND = True
    settings.SONGNUAN_IMPORT_DIR = tmp_path / "imports"


def queue_import(world: World, path: Path) -> ImportJob:
    with path.open("rb") as stream:
        job = import_job_start(
            user=world.users["county_reviewer"], unit=world.county, file_name=path.name, stream=stream
        )
    import_job_run(user=world.users["county_reviewer"], job=job, mapping=job.mapping, use_default_unit=False)
    job.refresh_from_db()
    return job


def run_the_queue() -> None:
    """What a worker does with the tasks waiting, here in the test's process, until none is left."""
    call_command("db_worker", batch=True, reload=False, startup_delay=False, stdout=io.StringIO())


def test_an_import_is_queued_by_the_request_and_run_by_the_worker(world: World, tmp_path: Path) -> None:
    job = queue_import(world, write_csv(tmp_path / "a.csv", good_rows(40)))
    assert job.state == ImportJob.State.RUNNING and not Household.objects.exists()
    assert import_progress(job) == {"state": "running", "rows": 0, "fraction": 0.0}  # waiting for a worker
    assert DBTaskResult.objects.filter(status="READY").count() == 1
    run_the_queue()
    job.refresh_from_db()
    assert (job.state, job.created) == (ImportJob.State.DONE, 40)
    assert Household.objects.count() == 40
    assert not Path(job.stored_path).exists()  # the upload is gone once the job has ended
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


def test_a_worker_killed_mid_import_leaves_nothing_and_its_job_fails_then_runs_again(
    world: World, tmp_path: Path, settings: Any
) -> None:
    job = queue_import(world, write_csv(tmp_path / "big.csv", good_rows(30_000, seed=11)))
    with task_worker(tmp_path / "worker.log") as worker:
        deadline = time.monotonic() + 120
        while import_progress(job)["fraction"] < 0.05:  # it is reading and writing rows
            log = (tmp_path / "worker.log").read_text()
            assert worker.poll() is None and time.monotonic() < deadline, log
            time.sleep(0.05)
        worker.kill()  # the machine restarted, the process was killed: no chance to clean up
        worker.wait()
    assert not Household.objects.exists()  # its one transaction went with it
    job.refresh_from_db()
    assert job.state == ImportJob.State.RUNNING  # as the dead worker left it
    assert import_progress(job)["state"] == "running"  # progress moved a moment ago: still trusted

    settings.SONGNUAN_IMPORT_STALLED_AFTER = 0  # as if the quarter of an hour had passed
    time.sleep(1.1)
    shown = import_progress(job)
    assert shown["state"] == "failed" and shown["error"] == str(STALLED)
    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED and job.finished_at is not None
    assert may_retry(job) and Path(job.stored_path).exists()  # the upload was kept for this

    with pytest.raises(PermissionDenied):
        import_job_retry(user=world.users["sibling_reporter"], job=job)
    settings.SONGNUAN_IMPORT_STALLED_AFTER = 900
    import_job_retry(user=world.users["county_reviewer"], job=job)
    job.refresh_from_db()
    assert job.state == ImportJob.State.RUNNING and not may_retry(job)
    with pytest.raises(ImportRefused, match="不能重新开始"):
        import_job_retry(user=world.users["county_reviewer"], job=job)  # running already
    run_the_queue()
    job.refresh_from_db()
    assert (job.state, job.created, job.error) == (ImportJob.State.DONE, 30_000, "")
    assert Household.objects.count() == 30_000


def stall(job: Any) -> None:
    """The job as a dead worker leaves it: running, its progress last written long ago."""
    progress = Path(job.stored_path + ".progress")
    progress.write_text('{"rows": 120, "fraction": 0.3}')
    long_ago = time.time() - 3600
    os.utime(progress, (long_ago, long_ago))


def test_the_import_page_says_a_dead_workers_job_failed_and_offers_to_run_it_again(
    world: World, tmp_path: Path
) -> None:
    job = queue_import(world, write_csv(tmp_path / "a.csv", good_rows(20)))
    stall(job)
    url = f"/archive/import/{job.pk}/"
    page = world.client("county_reviewer").get(url).content.decode()
    assert str(STALLED) in page and 'id="retry-form"' in page
    assert (
        world.client("county_reviewer").get(f"/archive/import/{job.pk}/progress.json").json()["state"]
        == "failed"
    )
    assert world.client("sibling_reporter").post(url, {"retry": "1"}).status_code == 404  # not theirs
    answer = world.client("county_reviewer").post(url, {"retry": "1"})
    assert answer.status_code == 302
    job.refresh_from_db()
    assert job.state == ImportJob.State.RUNNING and DBTaskResult.objects.filter(status="READY").count() == 2
    run_the_queue()  # (the first task, never taken here, runs the job; the second finds it done and stops)
    job.refresh_from_db()
    assert (job.state, job.created) == (ImportJob.State.DONE, 20)


def test_the_roster_page_offers_a_dead_workers_roster_to_run_again(world: World, tmp_path: Path) -> None:
    from django.urls import reverse

    from songnuan.ledger.models import HelpRecord, RosterImport
    from songnuan.ledger.roster_jobs import roster_job_run, roster_job_start

    from ..ledger.test_roster import row
    from ..ledger.test_roster import write_csv as write_roster

    ledger = build_ledger_world(world)
    path = write_roster(tmp_path / "花名册.csv", [row(ledger.wang)])
    with path.open("rb") as stream:
        job = roster_job_start(
            user=world.users["county_reporter"],
            campaign=world.campaign,
            unit=world.county,
            file_name=path.name,
            stream=stream,
        )
    roster_job_run(user=world.users["county_reporter"], job=job, mapping=job.mapping)
    job.refresh_from_db()
    stall(job)
    url = reverse("ledger:roster-job", args=[job.pk])
    page = world.client("county_reporter").get(url).content.decode()
    assert str(STALLED) in page and 'id="retry-form"' in page
    assert world.client("county_reporter").post(url, {"retry": "1"}).status_code == 302
    run_the_queue()
    job.refresh_from_db()
    assert job.state == RosterImport.State.DONE and HelpRecord.objects.count() == 1
