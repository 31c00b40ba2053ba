"""A roster import as the user sees it — upload, confirm the columns, run with progress, download rejects —
on the archive import's machinery (`songnuan.archive.import_jobs`), with the roster's fields and rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import IO, Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.tasks import task
from django.utils.translation import gettext as _

from songnuan.archive.import_jobs import (
    ImportRefused,
    job_progress,
    may_retry,
    retry,
    run_job,
    start,
    store_upload,
)
from songnuan.archive.importing import ImportOutcome, MappingError, Progress, RejectRow
from songnuan.campaigns.models import Campaign
from songnuan.formkit.list_reader import ListReading
from songnuan.ledger import roster
from songnuan.ledger.models import RosterImport
from songnuan.orgs.models import Unit
from songnuan.orgs.permissions import may_enter_ledger

__all__ = [
    "ImportRefused",
    "MappingError",
    "earlier_roster_imports",
    "may_retry",
    "roster_imports_of",
    "roster_job_retry",
    "roster_job_run",
    "roster_job_start",
    "roster_progress",
]


def roster_imports_of(user: User) -> QuerySet[RosterImport]:
    """The user's own roster imports (nobody else's upload is shown, not even to a reviewer above)."""
    if not user.is_authenticated:
        return RosterImport.objects.none()
    return RosterImport.objects.filter(user=user).select_related("unit", "campaign").order_by("-pk")


def roster_job_start(
    *, user: User, campaign: Campaign, unit: Unit, file_name: str, stream: IO[bytes]
) -> RosterImport:
    """Keep the upload, read its header, guess the columns. Only who may enter `unit`'s ledger may."""
    if not may_enter_ledger(user, unit):
        raise PermissionDenied
    upload = store_upload(file_name, stream)
    return RosterImport.objects.create(
        user=user,
        campaign=campaign,
        unit=unit,
        file_name=file_name,
        file_sha256=upload.sha256,
        stored_path=upload.path,
        columns=upload.header,
        mapping=roster.guess_mapping(upload.header),
    )


def earlier_roster_imports(job: RosterImport) -> Sequence[RosterImport]:
    """Earlier imports of the very same file into the same campaign."""
    return list(
        RosterImport.objects.filter(
            file_sha256=job.file_sha256, campaign=job.campaign, state=RosterImport.State.DONE
        )
        .exclude(pk=job.pk)
        .order_by("-started_at")[:3]
    )


def roster_job_run(*, user: User, job: RosterImport, mapping: Mapping[str, int]) -> None:
    """Check the mapping and queue the import (or run it here when background imports are off)."""
    if job.user_id != user.pk or not may_enter_ledger(user, job.unit):
        raise PermissionDenied
    if job.state != RosterImport.State.MAPPING:
        raise MappingError(_("这个文件已经开始导入了"))
    roster.check_mapping(mapping, job.columns)
    job.mapping = dict(mapping)
    job.state = RosterImport.State.RUNNING
    job.save(update_fields=["mapping", "state"])
    start(roster_import_task, job.pk)


def roster_job_retry(*, user: User, job: RosterImport) -> None:
    """Import again a roster whose worker died in the middle (nothing of it was written)."""
    if job.user_id != user.pk or not may_enter_ledger(user, job.unit):
        raise PermissionDenied
    retry(job, roster_import_task, job.pk)


def roster_progress(job: RosterImport) -> dict[str, Any]:
    return job_progress(job)


@task()
def roster_import_task(job_id: int) -> None:
    """The roster import of one job, on the task worker."""
    _run(job_id)


def _run(job_id: int) -> None:
    job = RosterImport.objects.select_related("user", "unit", "campaign").get(pk=job_id)

    def importer(reading: ListReading, reject: RejectRow, progress: Progress) -> ImportOutcome:
        return roster.roster_import(
            user=job.user,
            job=job,
            rows=reading.rows,
            mapping={name: int(index) for name, index in job.mapping.items()},
            reject=reject,
            progress=progress,
            fraction_read=reading.fraction_read,
        )

    run_job(
        job,
        importer,
        conflict_message=_("导入期间有人同时导入了相同的发放记录，没有导入任何数据。请重新导入该文件。"),
    )
