"""整改: publishing a spot check and the rectification tasks it gives the units that paid the households whose
answers contradicted the ledger; their answers (with optional evidence), and the checking unit's decision.

Each write asks `orgs.permissions`, runs in one transaction on locked rows and writes a `CheckEvent`; a
refusal is a `CheckError` with a Chinese message (nothing written), or PermissionDenied.

Decisions:

- **Responsible unit.** The unit that paid the household in the campaign within the checking unit's subtree,
  from standing approved help records (neither a reversal nor reversed); when several paid, the one that paid
  the most, a tie going to the unit whose path sorts first (nearer the top of the tree, then the older unit).
  A household no standing payment is left for (reversed since the draw) goes to its stratum's unit, which
  answers for its subtree.
- **Evidence** is judged by its content (PDF, JPEG or PNG magic bytes; a PDF must not hide a web page behind
  its header and must end with %%EOF) and stored under the extension its content shows. An answer given
  again without evidence keeps the evidence given before.
- **Four eyes.** Whoever answered a task cannot accept or return that answer.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Count, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from songnuan.checks.models import CheckEvent, RectificationTask, SampledHousehold, SpotCheck
from songnuan.checks.services import CheckError, record_event
from songnuan.checks.stats import Verdict
from songnuan.ledger.models import HelpRecord
from songnuan.orgs.models import Unit
from songnuan.orgs.permissions import may_enter_ledger, may_run_spot_check, units_visible_to
from songnuan.reporting.services import DocumentRefused, check_pdf

#: The verdicts that make a rectification task: the household contradicted the ledger.
DISCREPANCIES = frozenset({Verdict.AMOUNT_DIFFERS, Verdict.DENIES, Verdict.CASH})

#: Actions of a task's history. `CheckEvent.Action` does not name them yet; the column takes any short code.
TASK_ANSWERED = CheckEvent.Action.TASK_ANSWERED
TASK_ACCEPTED = CheckEvent.Action.TASK_ACCEPTED
TASK_RETURNED = CheckEvent.Action.TASK_RETURNED

#: The largest evidence file: a few scanned pages or photos are far below it.
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
#: What a web page starts with; a PDF never carries it in its first kilobyte.
_MAGIC = {
    "pdf": b"%PDF-",
    "jpg": b"\xff\xd8\xff",
    "png": b"\x89PNG\r\n\x1a\n",
}


# --- publishing -------------------------------------------------------------------------------------


def responsible_units(spot_check: SpotCheck, household_ids: list[int]) -> dict[int, int]:
    """{household id: id of the unit that paid it the most in the campaign within the checking unit's
    subtree}, from standing approved help; a tie goes to the unit whose path sorts first. Households with no
    such payment are left out."""
    paid = (
        HelpRecord.objects.filter(
            HelpRecord.standing(),
            campaign_id=spot_check.campaign_id,
            household_id__in=household_ids,
            unit__path__startswith=spot_check.unit.path,
        )
        .values("household_id", "unit_id", "unit__path")
        .annotate(total=Sum("amount"))
    )
    best: dict[int, tuple[Decimal, str, int]] = {}
    for row in paid:
        household_id, total = row["household_id"], row["total"] or Decimal("0.00")
        candidate = (total, row["unit__path"], row["unit_id"])
        current = best.get(household_id)
        if current is None or (-candidate[0], candidate[1]) < (-current[0], current[1]):
            best[household_id] = candidate
    return {household_id: unit_id for household_id, (_total, _path, unit_id) in best.items()}


@transaction.atomic
def spot_check_publish(*, user: User, spot_check: SpotCheck, deadline: dt.date) -> list[RectificationTask]:
    """Publish the check (通报): no more calls or answers; one rectification task, due by `deadline`, for each
    household of the sample with a discrepancy, given to the unit that paid it."""
    check = SpotCheck.objects.select_for_update(of=("self",)).select_related("unit").get(pk=spot_check.pk)
    if not may_run_spot_check(user, check.unit):
        raise PermissionDenied(_("只有{unit}的审核员或管理员可以发布抽查通报").format(unit=check.unit.name))
    if check.state != SpotCheck.State.CALLING:
        raise CheckError(_("“{title}”已经通报，不能再次发布").format(title=check.title))
    today = timezone.localdate()
    if deadline < today:
        raise CheckError(
            _("整改期限（{deadline}）已经过去，请选择今天（{today}）或以后的日期").format(
                deadline=deadline.isoformat(), today=today.isoformat()
            ),
            "deadline",
        )
    sample = SampledHousehold.objects.filter(spot_check=check, in_sample=True).select_related("stratum")
    found = [s for s in sample if s.verdict in DISCREPANCIES]
    payers = responsible_units(check, [s.household_id for s in found])
    tasks = [
        RectificationTask.objects.create(
            spot_check=check,
            sampled=sampled,
            unit_id=payers.get(sampled.household_id, sampled.stratum.unit_id),
            verdict=sampled.verdict,
            deadline=deadline,
        )
        for sampled in found
    ]
    check.state = SpotCheck.State.PUBLISHED
    check.save(update_fields=["state"])
    spot_check.state = check.state  # the caller's object says what the database says
    by_verdict: dict[str, int] = defaultdict(int)
    for sampled in found:
        by_verdict[sampled.verdict] += 1
    record_event(
        CheckEvent.Action.PUBLISHED,
        user=user,
        spot_check=check,
        new={
            "sampled": str(len(sample)),
            "interviewed": str(sum(1 for s in sample if s.interviewed)),
            "tasks": str(len(tasks)),
            "deadline": deadline.isoformat(),
            **{f"verdict:{v.value}": str(by_verdict[v]) for v in Verdict if v in DISCREPANCIES},
        },
    )
    return tasks


# --- answering and deciding --------------------------------------------------------------------------


def _locked(task: RectificationTask) -> RectificationTask:
    return (
        RectificationTask.objects.select_for_update(of=("self",))
        .select_related("spot_check__unit", "unit", "sampled__household")
        .get(pk=task.pk)
    )


def _state_label(state: str) -> str:
    return str(RectificationTask.State(state).label)


def evidence_kind(data: bytes, name: str) -> str:
    """pdf, jpg or png, judged by the content; CheckError (naming the file) for anything else."""
    if data.startswith(_MAGIC["pdf"]):
        try:
            check_pdf(data, name)  # the activity report's PDF check: the same rules for every upload
        except DocumentRefused as refused:
            raise CheckError(str(refused), "evidence") from None
        return "pdf"
    for kind in ("jpg", "png"):
        if data.startswith(_MAGIC[kind]):
            return kind
    raise CheckError(
        _(
            "“{name}”的内容不是 PDF、JPG 或 PNG 文件（按文件内容判断，不看扩展名），不能作为整改材料上传"
        ).format(name=name),
        "evidence",
    )


def _checked_evidence(evidence: UploadedFile[Any]) -> tuple[str, bytes]:
    """The name to store the evidence under (its extension from its content) and its bytes."""
    name = os.path.basename(evidence.name or "") or _("未命名文件")
    too_big = CheckError(
        _("“{name}”超过 {mb} MB，不能上传；请压缩后再传").format(
            name=name, mb=EVIDENCE_MAX_BYTES // (1024 * 1024)
        ),
        "evidence",
    )
    if evidence.size is None or evidence.size > EVIDENCE_MAX_BYTES:
        raise too_big
    if evidence.size == 0:
        raise CheckError(_("“{name}”是空文件，请重新选择").format(name=name), "evidence")
    evidence.seek(0)
    data = b"".join(evidence.chunks())
    if len(data) > EVIDENCE_MAX_BYTES:  # the size the client declared is not proof
        raise too_big
    kind = evidence_kind(data, name)
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return f"{stem or 'evidence'}.{kind}", data


@transaction.atomic
def task_answer(
    *, user: User, task: RectificationTask, answer: str, evidence: UploadedFile[Any] | None
) -> RectificationTask:
    """The responsible unit's answer (整改说明), with evidence if it has any: the task is then 待审核."""
    task = _locked(task)
    if not may_enter_ledger(user, task.unit):
        raise PermissionDenied(_("只有{unit}的工作人员可以答复整改任务").format(unit=task.unit.name))
    if task.state not in (RectificationTask.State.OPEN, RectificationTask.State.RETURNED):
        raise CheckError(_("整改任务当前状态为“{state}”，不能答复").format(state=_state_label(task.state)))
    text = answer.strip()
    if not text:
        raise CheckError(_("请填写整改说明"), "answer")
    stored: tuple[str, bytes] | None = _checked_evidence(evidence) if evidence is not None else None
    before = task.state
    task.answer = text
    task.state = RectificationTask.State.ANSWERED
    task.answered_by, task.answered_at = user, timezone.now()
    if stored is not None:
        task.evidence.save(stored[0], ContentFile(stored[1]), save=False)
    task.save()
    record_event(
        TASK_ANSWERED,
        user=user,
        spot_check=task.spot_check,
        sampled=task.sampled,
        old={"state": before},
        new={
            "task": str(task.pk),
            "state": task.state,
            "answer": text,
            "evidence": task.evidence.name or "",
        },
    )
    return task


def _may_decide(user: User, task: RectificationTask) -> None:
    unit = task.spot_check.unit
    if not may_run_spot_check(user, unit):
        raise PermissionDenied(_("只有{unit}的审核员或管理员可以审核整改答复").format(unit=unit.name))
    if task.state != RectificationTask.State.ANSWERED:
        raise CheckError(
            _("整改任务当前状态为“{state}”，只有已答复的任务可以审核").format(state=_state_label(task.state))
        )
    if task.answered_by_id == user.pk:
        raise CheckError(_("不能审核自己提交的整改答复，请由本单位其他审核员审核"))


@transaction.atomic
def task_accept(*, user: User, task: RectificationTask) -> RectificationTask:
    """The checking unit accepts the answer: the task is closed."""
    task = _locked(task)
    _may_decide(user, task)
    task.state = RectificationTask.State.ACCEPTED
    task.decided_by, task.decided_at = user, timezone.now()
    task.save(update_fields=["state", "decided_by", "decided_at"])
    record_event(
        TASK_ACCEPTED,
        user=user,
        spot_check=task.spot_check,
        sampled=task.sampled,
        old={"state": RectificationTask.State.ANSWERED},
        new={"task": str(task.pk), "state": task.state},
    )
    return task


@transaction.atomic
def task_return(*, user: User, task: RectificationTask, reason: str) -> RectificationTask:
    """The checking unit returns the answer with its reason: the unit answers again."""
    task = _locked(task)
    _may_decide(user, task)
    text = reason.strip()
    if not text:
        raise CheckError(_("请填写退回原因"), "reason")
    task.state = RectificationTask.State.RETURNED
    task.return_reason = text
    task.decided_by, task.decided_at = user, timezone.now()
    task.save(update_fields=["state", "return_reason", "decided_by", "decided_at"])
    record_event(
        TASK_RETURNED,
        user=user,
        spot_check=task.spot_check,
        sampled=task.sampled,
        old={"state": RectificationTask.State.ANSWERED},
        new={"task": str(task.pk), "state": task.state, "reason": text},
    )
    return task


# --- reading -----------------------------------------------------------------------------------------


def tasks_for_unit(user: User) -> QuerySet[RectificationTask]:
    """The tasks of the units the user sees (`units_visible_to`): a reviewer's or admin's unit and every unit
    below it, a reporter's own unit."""
    visible: QuerySet[Unit] = units_visible_to(user)
    return (
        RectificationTask.objects.filter(unit__in=visible)
        .select_related("spot_check__unit", "unit", "sampled__household")
        .order_by("deadline", "pk")
    )


def overdue(tasks: QuerySet[RectificationTask], today: dt.date) -> QuerySet[RectificationTask]:
    """The tasks whose deadline is before `today` (the deadline day itself is still in time) and that are not
    accepted: a returned answer is as late as none."""
    return tasks.filter(deadline__lt=today).exclude(state=RectificationTask.State.ACCEPTED)


def task_counts(spot_check: SpotCheck) -> dict[str, int]:
    """{state: number of the check's tasks}, every state present (0 when none)."""
    counts = {state.value: 0 for state in RectificationTask.State}
    for row in (
        RectificationTask.objects.filter(spot_check=spot_check)
        .order_by()
        .values("state")
        .annotate(n=Count("pk"))
    ):
        counts[row["state"]] = row["n"]
    return counts
