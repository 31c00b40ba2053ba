"""An import as the user sees it: upload, check the column mapping, run (with progress), download rejects.

The machinery is shared by every list import (the archive's households here, the ledger's payment roster in
`songnuan.ledger.roster_jobs`): `store_upload` keeps the upload and reads its header, `start` queues a job
for the task worker (or runs it at once), `run_job` streams the file through an importer with a rejected-rows
workbook and a progress file and records the outcome on the job, `job_progress` reports it (and marks failed a
job whose worker died), `retry` runs such a job again. A job is any model with the
fields of `ImportJob` (state, stored_path, columns, file_name, the counts, rejected_file, error, …).

Progress is written to a small file beside the upload rather than to the database: on SQLite the import's
own transaction holds the write lock until the end, and a progress row could not be written meanwhile.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, models, transaction
from django.tasks import Task, task
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from songnuan.archive.importing import (
    ImportOutcome,
    MappingError,
    Progress,
    RejectRow,
    check_mapping,
    guess_mapping,
    household_import,
)
from songnuan.archive.models import ImportJob
from songnuan.formkit.excel_writer import ListWriter
from songnuan.formkit.list_reader import ListReading, UnreadableFile, open_list
from songnuan.orgs.models import Unit
from songnuan.orgs.permissions import may_open_file, may_start_import, may_use_import_job

logger = logging.getLogger(__name__)
_SUFFIXES = (".xlsx", ".xls", ".ods", ".csv")

#: What runs the rows of an opened list: (reading, reject, progress) → the outcome.
Importer = Callable[[ListReading, RejectRow, Progress], ImportOutcome]


class ImportRefused(Exception):
    """The upload cannot be imported at all (wrong kind, too large, unreadable); the message says why."""


# --- shared by every list import ---------------------------------------------------------------------------


def _import_dir() -> Path:
    directory = Path(settings.SONGNUAN_IMPORT_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@dataclass(frozen=True)
class StoredUpload:
    path: str
    sha256: str
    header: list[str]


def store_upload(file_name: str, stream: IO[bytes]) -> StoredUpload:
    """Keep an uploaded list beside the other imports and read its header; ImportRefused (in Chinese, the
    file named) when it is not a list that can be imported."""
    suffix = Path(file_name).suffix.lower()
    if suffix not in _SUFFIXES:
        raise ImportRefused(
            _("“{name}”不是可导入的文件：请上传 .xlsx、.xls、.ods 或 .csv 文件").format(name=file_name)
        )
    stored = _import_dir() / f"{uuid.uuid4().hex}{suffix}"
    digest = hashlib.sha256()
    size = 0
    with stored.open("wb") as out:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            size += len(chunk)
            if size > settings.SONGNUAN_MAX_IMPORT_BYTES:
                out.close()
                stored.unlink()
                raise ImportRefused(
                    _("“{name}”太大：导入文件不应超过 {mb} MB，请分成几个文件").format(
                        name=file_name, mb=settings.SONGNUAN_MAX_IMPORT_BYTES // 1048576
                    )
                )
            digest.update(chunk)
            out.write(chunk)
    try:
        reading = open_list(stored)
        header = reading.header
        reading.close()
    except UnreadableFile as problem:
        stored.unlink()
        raise ImportRefused(f"{file_name}：{problem}") from None
    return StoredUpload(str(stored), digest.hexdigest(), header)


def start(task: Task[..., None], *args: Any) -> None:
    """Queue `task(*args)` for the task worker (`manage.py db_worker`, which `make run` starts beside the web
    server), or run it here when background imports are off (tests, the command line). Queued in the caller's
    transaction: the worker sees the job only once the job's own change is committed."""
    if settings.SONGNUAN_IMPORT_IN_BACKGROUND:
        task.enqueue(*args)
    else:
        task.call(*args)


def _progress_path(job: Any) -> Path:
    return Path(job.stored_path + ".progress")


#: What a job whose worker stopped in the middle (killed, the machine restarted) says, once its progress has
#: not moved for SONGNUAN_IMPORT_STALLED_AFTER seconds.
STALLED = gettext_lazy("导入进程意外中断（服务重启或进程被终止），没有导入任何数据。请点击“重新导入”再试。")


def job_progress(job: Any) -> dict[str, Any]:
    """{"rows": n, "fraction": 0…1} while running (read from the side file), the outcome when done. A job
    whose worker died (its progress has not moved for SONGNUAN_IMPORT_STALLED_AFTER seconds) is marked failed
    here: its import's transaction rolled back with the worker, and its upload is kept for `retry`."""
    if job.state == "running":
        path = _progress_path(job)
        try:
            data: dict[str, Any] = json.loads(path.read_text())
            moved = path.stat().st_mtime
        except (OSError, ValueError):
            return {"state": job.state, "rows": 0, "fraction": 0.0}  # waiting for a worker
        if time.time() - moved <= settings.SONGNUAN_IMPORT_STALLED_AFTER:
            return {"state": job.state, **data}
        _mark_stalled(job)
    return {
        "state": job.state,
        "rows": job.rows_done,
        "fraction": 1.0,
        "created": job.created,
        "existing": job.existing,
        "rejected": job.rejected,
        "warnings": job.warnings,
        "error": job.error,
    }


def _mark_stalled(job: Any) -> None:
    with transaction.atomic():
        locked = type(job).objects.select_for_update().get(pk=job.pk)
        if locked.state == "running":
            locked.state, locked.error, locked.finished_at = "failed", str(STALLED), timezone.now()
            locked.save(update_fields=["state", "error", "finished_at"])
    job.refresh_from_db()
    _progress_path(job).unlink(missing_ok=True)


def may_retry(job: Any) -> bool:
    """A job whose worker died keeps its upload: it can run again."""
    return bool(job.state == "failed" and job.error == str(STALLED) and Path(job.stored_path).exists())


def retry(job: Any, task: Task[..., None], *args: Any) -> None:
    """Run a job whose worker died again, from its kept upload (the caller has asked who may)."""
    with transaction.atomic():
        locked = type(job).objects.select_for_update().get(pk=job.pk)
        if not may_retry(locked):
            raise ImportRefused(_("这次导入不能重新开始：只有因进程中断而失败、原文件仍在的导入可以重新导入"))
        locked.state, locked.error, locked.finished_at = "running", "", None
        locked.save(update_fields=["state", "error", "finished_at"])
        start(task, *args)
    job.refresh_from_db()


def run_job(job: models.Model, importer: Importer, *, conflict_message: str) -> ImportOutcome:
    """Open the job's file, run `importer` over it with a rejected-rows workbook and a progress file, and
    record the outcome on the job (DONE with the counts, or FAILED with a sentence; the import's own
    transaction rolled back then). `conflict_message`: what an IntegrityError (someone else wrote the same
    thing meanwhile) means for this import. The upload and the side files are removed afterwards."""
    state = type(job).State  # type: ignore[attr-defined]
    stored_path: str = job.stored_path  # type: ignore[attr-defined]
    columns: list[str] = job.columns  # type: ignore[attr-defined]
    file_name: str = job.file_name  # type: ignore[attr-defined]
    rejected_path = Path(stored_path + ".rejected.xlsx")
    progress_path = _progress_path(job)
    writer: ListWriter | None = None

    def reject(row: int, cells: Sequence[Any], reason: str) -> None:
        nonlocal writer
        if writer is None:
            writer = ListWriter(
                rejected_path,
                title=_("未导入的行：{name}").format(name=file_name),
                header=[_("原文件行号"), _("退回原因"), *columns],
                widths=[10, 48, *([14] * len(columns))],
                sheet_name=_("退回的行"),
            )
        writer.write([row, reason, *cells])

    def progress(rows: int, fraction: float) -> None:
        progress_path.write_text(json.dumps({"rows": rows, "fraction": round(fraction, 4)}))

    now: str = job.state  # type: ignore[attr-defined]  # as the caller has just read it
    if now != state.RUNNING:  # a task queued twice (run again after a stall): the job is over
        logger.warning("import %s is %s: not run again", job.pk, now)
        return ImportOutcome()
    progress(0, 0.0)  # the worker has it: from here on its progress is its heartbeat
    outcome = ImportOutcome()
    reading: ListReading | None = None
    new_state, error = state.FAILED, ""
    try:
        reading = open_list(stored_path)
        outcome = importer(reading, reject, progress)
    except (UnreadableFile, MappingError) as problem:
        error = str(problem)
    except IntegrityError:
        error = conflict_message
    except Exception:  # the import rolled back; the user gets a sentence, the log the traceback
        logger.exception("import %s failed", job.pk)
        error = _("导入时出现意外错误，没有导入任何数据。请联系管理员。")
    else:
        new_state = state.DONE
    finally:
        if writer is not None:
            writer.close()
        if reading is not None:
            reading.close()
    job.state, job.error = new_state, error  # type: ignore[attr-defined]
    if new_state == state.DONE:
        job.rows_done, job.created, job.existing = outcome.rows, outcome.created, outcome.existing  # type: ignore[attr-defined]
        job.rejected, job.warnings = outcome.rejected, outcome.warnings  # type: ignore[attr-defined]
        if rejected_path.exists():
            job.rejected_file = rejected_path.read_bytes()  # type: ignore[attr-defined]
    job.finished_at = timezone.now()  # type: ignore[attr-defined]
    job.progress = 1.0  # type: ignore[attr-defined]
    job.save()
    for leftover in (rejected_path, progress_path, Path(stored_path)):
        leftover.unlink(missing_ok=True)
    return outcome


# --- the archive's households -----------------------------------------------------------------------------


def import_job_start(*, user: User, unit: Unit, file_name: str, stream: IO[bytes]) -> ImportJob:
    """Keep the upload, read its header and guess which column is which field.

    `unit` is where the user imports from: rows name their unit (one the user may file for), or land in
    `unit` itself when the user may file there.
    """
    if not may_start_import(user, unit):
        raise PermissionDenied
    upload = store_upload(file_name, stream)
    return ImportJob.objects.create(
        user=user,
        unit=unit,
        file_name=file_name,
        file_sha256=upload.sha256,
        stored_path=upload.path,
        columns=upload.header,
        mapping=guess_mapping(upload.header),
    )


def earlier_imports(job: ImportJob) -> Sequence[ImportJob]:
    """Earlier imports of the very same file (same content) — worth a word before it is imported again."""
    return list(
        ImportJob.objects.filter(file_sha256=job.file_sha256, state=ImportJob.State.DONE)
        .exclude(pk=job.pk)
        .order_by("-started_at")[:3]
    )


def default_unit_refusal(user: User, unit: Unit) -> str:
    """Why rows without a 建档单位 column cannot be filed in `unit`, the unit imported from ("" if they can).

    A reviewer importing into its own unit may not file for it (`may_open_file`: a unit's own files are
    applied for by its reporter or admin and filed by a reviewer above), so every row must name a unit below.
    """
    if may_open_file(user, unit):
        return ""
    return _(
        "您不能为“{unit}”建档：审核员只能为下级单位建档，“{unit}”本单位的档案由本单位的填报员或管理员申请、"
        "上级单位审核。因此没有“建档单位”列的行不能导入到“{unit}”：请选择“建档单位”所在的列（每行写明下级单位"
        "的名称），或由“{unit}”的填报员导入。"
    ).format(unit=unit.name)


def import_job_run(*, user: User, job: ImportJob, mapping: Mapping[str, int], use_default_unit: bool) -> None:
    """Check the mapping and queue the import (or run it here when background imports are off)."""
    if not may_use_import_job(user, job.user_id):
        raise PermissionDenied
    if job.state != ImportJob.State.MAPPING:
        raise MappingError(_("这个文件已经开始导入了"))
    refusal = default_unit_refusal(user, job.unit)
    if use_default_unit and refusal:
        raise MappingError(refusal)
    if "unit" not in mapping and refusal:
        # Not "choose the column of 建档单位" alone (the page marks it optional for those who may file for
        # the unit imported from): the reason it is needed here, with any other missing column.
        try:
            check_mapping(mapping, job.columns, has_default_unit=True)
        except MappingError as missing:
            raise MappingError(f"{missing}。{refusal}") from None
        raise MappingError(refusal)
    check_mapping(mapping, job.columns, has_default_unit=use_default_unit)
    job.mapping = dict(mapping)
    job.state = ImportJob.State.RUNNING
    job.save(update_fields=["mapping", "state"])
    default_unit_id = job.unit_id if use_default_unit else None
    start(household_import_task, job.pk, default_unit_id)


def import_job_retry(*, user: User, job: ImportJob) -> None:
    """Import again a file whose worker died in the middle (nothing of it was written)."""
    if not may_use_import_job(user, job.user_id):
        raise PermissionDenied
    retry(job, household_import_task, job.pk, job.unit_id if "unit" not in job.mapping else None)


def import_progress(job: ImportJob) -> dict[str, Any]:
    """{"rows": n, "fraction": 0…1} while running (read from the side file), the outcome when done."""
    return job_progress(job)


@task()
def household_import_task(job_id: int, default_unit_id: int | None) -> None:
    """The archive import of one job, on the task worker."""
    _run(job_id, default_unit_id)


def _run(job_id: int, default_unit_id: int | None) -> None:
    job = ImportJob.objects.select_related("user", "unit").get(pk=job_id)
    default_unit = job.unit if default_unit_id else None

    def importer(reading: ListReading, reject: RejectRow, progress: Progress) -> ImportOutcome:
        return household_import(  # looked up here, at run time (tests wrap it)
            user=job.user,
            job=job,
            rows=reading.rows,
            mapping={name: int(index) for name, index in job.mapping.items()},
            default_unit=default_unit,
            reject=reject,
            progress=progress,
            fraction_read=reading.fraction_read,
        )

    run_job(
        job,
        importer,
        # someone filed one of these people while the import ran
        conflict_message=_("导入期间有人同时为文件中的人员建了档，没有导入任何数据。请重新导入该文件。"),
    )
