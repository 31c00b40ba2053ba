"""Every write to a submission: save a draft, submit, return, accept, unlock, import Excel, attach the report.

Each is one transaction, checks permission through `songnuan.orgs.selectors`, and records what changed.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.db.models import OuterRef, StringAgg, Subquery, TextField
from django.db.models.functions import Cast, JSONArray
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from songnuan.campaigns.models import Campaign
from songnuan.formkit import derived, yearly
from songnuan.formkit.checking import Status as FileStatus
from songnuan.formkit.checking import TableReport, check_bytes
from songnuan.formkit.definitions import Form, ItemKind, Severity, get_form
from songnuan.formkit.engine import CheckResult, Value, compiled, format_value, value_text
from songnuan.formkit.values import parse_value
from songnuan.notices.models import Notice
from songnuan.notices.services import notify
from songnuan.orgs.models import Unit
from songnuan.orgs.permissions import can_fill
from songnuan.reporting import branch_totals
from songnuan.reporting.last_year import add_comparison, check_unit_table, last_year_values, ledger_values
from songnuan.reporting.models import (
    ActivityReport,
    Submission,
    SubmissionEvent,
    SubmissionValue,
    stored_value,
)
from songnuan.reporting.transitions import (
    SUBMISSION_TRANSITIONS,
    Action,
    check_permission,
    state_allows,
    state_refusal,
)


class ReportingError(Exception):
    """A refused action, with a Chinese message for the person who tried it."""


class StateConflict(ReportingError):
    """The table's state does not allow the action (e.g. saving a submitted table): the API answers 409."""


class EditConflict(ReportingError):
    """Someone saved this table since the version the editor started from; nothing was overwritten."""

    def __init__(self, submission: Submission, theirs: dict[str, Value], yours: Mapping[str, object]) -> None:
        self.submission = submission
        self.theirs = theirs
        self.yours = dict(yours)
        by = submission.updated_by
        who = (by.get_full_name() or by.get_username()) if by else "?"
        when = timezone.localtime(submission.updated_at).strftime("%H:%M:%S")
        super().__init__(
            _(
                "保存被拒绝：{who} 已于 {when} 修改了这张表（第 {v} 版）。请对照两边的数值，确认后再保存。"
            ).format(who=who, when=when, v=submission.version)
        )


# --- reading the stored values (used by selectors as well) ----------------------------------------------


def stored_values(submission: Submission) -> dict[str, Value]:
    rows = submission.value_rows.all()
    return _values_of(get_form(submission.form_code), [(row.item, row.number, row.text) for row in rows])


def submission_with_values(
    campaign: Campaign, unit: Unit, form: Form
) -> tuple[Submission | None, dict[str, Value]]:
    """The unit's submission of this form (None: not opened yet) and its values (`stored_values`), in one
    query: the values come aggregated into one JSON text per submission (a row per value joined to the
    submission would build a model per value, which cost more than the second query it saves)."""
    rows = SubmissionValue.objects.filter(submission=OuterRef("pk")).values("submission")
    stored = rows.annotate(
        all=StringAgg(Cast(JSONArray("item", "number", "text"), TextField()), delimiter=models.Value(","))
    ).values("all")
    submission = (
        Submission.objects.filter(campaign=campaign, unit=unit, form_code=form.code)
        .select_related("reviewed_by")
        .annotate(stored=Subquery(stored))
        .order_by("pk")
        .first()
    )
    if submission is None:
        return None, dict.fromkeys(form.codes)
    submission.campaign, submission.unit = campaign, unit
    # Numbers as JSON numbers, read as Decimal: exact as the database writes them, as the column reads.
    triples = json.loads(f"[{submission.stored or ''}]", parse_float=Decimal, parse_int=Decimal)
    return submission, _values_of(form, [(item, number, text or "") for item, number, text in triples])


def _values_of(form: Form, stored: Iterable[tuple[str, Decimal | None, str]]) -> dict[str, Value]:
    """The form's values from its stored rows (item, number, text); an item without a row is blank."""
    rows = {item: (number, text) for item, number, text in stored}
    values: dict[str, Value] = {}
    for item in form.items:
        row = rows.get(item.code)
        if row is None:
            values[item.code] = None
        elif row[0] is None and item.kind is not ItemKind.YES_NO:
            # Kept as typed because the column cannot hold it (e.g. 5 decimals, or not a number at all):
            # read it the same way again, so the engine names the real problem.
            values[item.code] = parse_value(item, row[1])
        else:
            values[item.code] = stored_value(row[0], row[1], item.kind is ItemKind.COUNT)
    return values


def _store(value: Value) -> tuple[Decimal | None, str]:
    if value is None:
        return None, ""
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        try:
            number = Decimal(value)
        except ArithmeticError:
            return None, str(value)[:100]
        if abs(number) >= Decimal("1e16") or number.as_tuple().exponent < -4:  # type: ignore[operator]
            return None, format_value(number)[:100]  # kept as text: the engine reports it on the item
        return number, ""
    return None, str(value)[:100]


# --- drafts ----------------------------------------------------------------------------------------------


def submission_open(*, campaign: Campaign, unit: Unit, form_code: str, user: User) -> Submission:
    """The unit's submission of this form, created as an empty draft the first time it is opened to fill."""
    if form_code not in campaign.form_codes:
        raise ReportingError(_("本次活动不要求报送这张表"))
    existing = (
        Submission.objects.filter(campaign=campaign, unit=unit, form_code=form_code)
        .select_related("unit", "campaign")  # the page asks the transition table: the unit, the owner
        .first()
    )
    if existing is not None:
        return existing
    if not can_fill(user, unit):
        raise PermissionDenied
    submission, _created = Submission.objects.get_or_create(
        campaign=campaign, unit=unit, form_code=form_code, defaults={"updated_by": user}
    )
    return submission


@dataclass
class SaveResult:
    submission: Submission
    values: dict[str, Value]
    check: CheckResult
    changed: list[str] = field(default_factory=list)


@transaction.atomic
def submission_save(
    *,
    submission: Submission,
    user: User,
    version: int,
    values: Mapping[str, object] | None = None,
    explanations: Mapping[str, str] | None = None,
    header: Mapping[str, str | None] | None = None,
    event_kind: str = SubmissionEvent.Kind.VALUE,
) -> SaveResult:
    """Save typed or raw values (only the items given), explanations and the header of a draft.

    Refused when the user may not fill the unit, the table is submitted or accepted, or `version` is not the
    stored one (someone else saved in between): then EditConflict carries both versions.
    """
    check_permission(Action.SAVE, user, submission)
    locked = Submission.objects.select_for_update().get(pk=submission.pk)
    locked.campaign = submission.campaign  # not changed by a save; read once, not again for the check below
    _check_state(Action.SAVE, locked)
    current = stored_values(locked)
    if version != locked.version:
        raise EditConflict(locked, current, values or {})
    form = get_form(locked.form_code)
    _check_explained_rules(form, locked, explanations or {})  # before anything is written
    changed = _save_values(locked, form, current, values or {}, user, event_kind)
    _save_explanations(locked, explanations or {}, user)
    _save_header(locked, header or {}, user)
    locked.version += 1
    locked.updated_by = user
    locked.save()
    new_values = stored_values(locked)
    check = check_unit_table(form, new_values, campaign=locked.campaign, unit_id=locked.unit_id)
    return SaveResult(locked, new_values, check, changed)


def _save_values(
    submission: Submission,
    form: Form,
    current: Mapping[str, Value],
    values: Mapping[str, object],
    user: User,
    event_kind: str,
) -> list[str]:
    changed: list[str] = []
    for code, raw in values.items():
        if not form.has_item(code):
            raise ReportingError(_("表中没有项目 {code}").format(code=code))
        item = form.item(code)
        value = raw if raw is None or isinstance(raw, int | Decimal) else parse_value(item, raw)
        if value == current.get(code) and type(value) is type(current.get(code)):
            continue
        number, text = _store(value)
        if number is None and not text:
            SubmissionValue.objects.filter(submission=submission, item=code).delete()
        else:
            SubmissionValue.objects.update_or_create(
                submission=submission, item=code, defaults={"number": number, "text": text}
            )
        SubmissionEvent.objects.create(
            submission=submission,
            user=user,
            kind=event_kind,
            subject=code,
            old=_shown(current.get(code)),
            new=_shown(value),
        )
        changed.append(code)
    return changed


def _shown(value: Value) -> str:
    return value_text(value)


def warning_rule_ids(form: Form) -> frozenset[str]:
    """Every rule id a warning of the form can carry: its warning rules (核实性审核), and the rounding
    difference (舍位差) of each money sum, which is a warning whatever the sum's own severity."""
    ids: set[str] = set()
    for rule in compiled(form).rules:
        if rule.severity is Severity.WARNING:
            ids.add(rule.id)
        if rule.tolerance is not None:
            ids.add(f"{rule.id}.rounding")
    return frozenset(ids) | yearly.rule_ids(form) | derived.rule_ids(form)


def _check_explained_rules(form: Form, submission: Submission, explanations: Mapping[str, str]) -> None:
    """An explanation belongs to a warning of this form; one stored for another rule id would count for
    nothing and mislead the reviewer. Clearing a stored one is always allowed."""
    allowed = warning_rule_ids(form)
    unknown = [
        rule_id
        for rule_id, text in explanations.items()
        if rule_id not in allowed and not (rule_id in submission.explanations and not (text or "").strip())
    ]
    if unknown:
        raise ReportingError(
            _(
                "{form}没有编号为“{rule}”的警告（核实性审核）规则，只能为表中的警告写说明；本次没有保存任何修改"
            ).format(form=form.attachment or form.title, rule=unknown[0])
        )


def _save_explanations(submission: Submission, explanations: Mapping[str, str], user: User) -> None:
    stored = dict(submission.explanations)
    for rule_id, text in explanations.items():
        text = (text or "").strip()
        if stored.get(rule_id, "") == text:
            continue
        SubmissionEvent.objects.create(
            submission=submission,
            user=user,
            kind=SubmissionEvent.Kind.EXPLANATION,
            subject=rule_id,
            old=stored.get(rule_id, ""),
            new=text,
        )
        if text:
            stored[rule_id] = text
        else:
            stored.pop(rule_id, None)
    submission.explanations = stored


_HEADER_MAX_LENGTH = 50  # Submission.reporter and .phone
_HEADER_NAMES = {"reporter": gettext_lazy("填报人"), "phone": gettext_lazy("电话")}


def _save_header(submission: Submission, header: Mapping[str, str | None], user: User) -> None:
    for name in ("reporter", "phone", "report_date"):
        if name not in header:
            continue
        new: Any = (header[name] or "").strip()
        if name != "report_date" and len(new) > _HEADER_MAX_LENGTH:
            raise ReportingError(
                _("{field}不能超过 {n} 个字").format(field=_HEADER_NAMES[name], n=_HEADER_MAX_LENGTH)
            )
        if name == "report_date":
            try:
                new = dt.date.fromisoformat(new) if new else None
            except ValueError:
                raise ReportingError(_("填报日期应为 年-月-日，如 2018-02-03")) from None
        old = getattr(submission, name)
        if (old or "") == (new or ""):
            continue
        SubmissionEvent.objects.create(
            submission=submission,
            user=user,
            kind=SubmissionEvent.Kind.HEADER,
            subject=name,
            old=str(old or ""),
            new=str(new or ""),
        )
        setattr(submission, name, new)


# --- the review workflow ---------------------------------------------------------------------------------


def _status_event(submission: Submission, user: User, old: str, comment: str = "") -> None:
    SubmissionEvent.objects.create(
        submission=submission,
        user=user,
        kind=SubmissionEvent.Kind.STATUS,
        old=old,
        new=submission.status,
        comment=comment,
    )


def missing_header(submission: Submission) -> list[str]:
    """The header fields (填报人, 电话, 填报日期) still blank: a table is not sent up without them."""
    names = {"reporter": _("填报人"), "phone": _("电话"), "report_date": _("填报日期")}
    return [label for name, label in names.items() if not str(getattr(submission, name) or "").strip()]


def missing_explanations(submission: Submission, check: CheckResult) -> list[str]:
    """Warnings (核实性审核) that have no written explanation yet."""
    return [w.rule for w in check.warnings if not submission.explanations.get(w.rule, "").strip()]


@transaction.atomic
def submission_submit(*, submission: Submission, user: User) -> Submission:
    """Send the table up: refused while any error stands or any warning lacks its explanation."""
    check_permission(Action.SUBMIT, user, submission)
    locked = Submission.objects.select_for_update().get(pk=submission.pk)
    _check_state(Action.SUBMIT, locked)
    form = get_form(locked.form_code)
    check = check_unit_table(form, stored_values(locked), campaign=locked.campaign, unit_id=locked.unit_id)
    if check.errors:
        raise ReportingError(
            _("还有 {n} 个错误（强制性审核），改正后才能报送：{first}").format(
                n=len(check.errors), first=check.errors[0].message
            )
        )
    missing = missing_explanations(locked, check)
    if missing:
        raise ReportingError(
            _("有 {n} 个警告（核实性审核）还没有写说明：{rules}").format(
                n=len(missing), rules="、".join(missing)
            )
        )
    blank = missing_header(locked)
    if blank:
        raise ReportingError(
            _("报送前请填写表头的{fields}（表格上方），上级审核时要据此联系填报人").format(
                fields="、".join(blank)
            )
        )
    old = locked.status
    now = timezone.now()
    locked.status = _target(Action.SUBMIT)
    locked.submitted_at = now
    locked.late = locked.campaign.is_late(now)
    locked.version += 1
    locked.updated_by = user
    locked.save()
    _status_event(locked, user, old, _("逾期报送") if locked.late else "")
    return locked


@transaction.atomic
def submission_return(*, submission: Submission, user: User, comment: str) -> Submission:
    """Send a submitted table back to its unit with the reviewer's comments."""
    check_permission(Action.RETURN, user, submission)
    if not comment.strip():
        raise ReportingError(_("退回时请写明审核意见，告诉填报单位要改什么"))
    locked = Submission.objects.select_for_update().get(pk=submission.pk)
    _check_state(Action.RETURN, locked)
    return _review(locked, user, Action.RETURN, comment.strip())


@transaction.atomic
def submission_accept(*, submission: Submission, user: User, comment: str = "") -> Submission:
    """Accept a submitted table; it is locked from then on and counts in the roll-up."""
    check_permission(Action.ACCEPT, user, submission)
    locked = Submission.objects.select_for_update().get(pk=submission.pk)
    _check_state(Action.ACCEPT, locked)
    if compiled(get_form(locked.form_code)).validate(stored_values(locked)).errors:
        raise ReportingError(_("这张表还有错误，不能审核通过"))
    return _review(locked, user, Action.ACCEPT, comment.strip())


@transaction.atomic
def submission_unlock(*, submission: Submission, user: User, reason: str) -> Submission:
    """Reopen an accepted table for correction (an audited reviewer action); it goes back as returned."""
    check_permission(Action.UNLOCK, user, submission)
    if not reason.strip():
        raise ReportingError(_("解锁须写明原因"))
    locked = Submission.objects.select_for_update().get(pk=submission.pk)
    _check_state(Action.UNLOCK, locked)
    return _review(locked, user, Action.UNLOCK, _("解锁：{reason}").format(reason=reason.strip()))


def _check_state(action: Action, submission: Submission) -> None:
    refused = state_refusal(action, submission)
    if refused is not None:
        raise StateConflict(refused)


def _target(action: Action) -> str:
    to = SUBMISSION_TRANSITIONS[action].to
    assert to is not None, action  # every action but a save moves the table
    return to


def _review(submission: Submission, user: User, action: Action, comment: str) -> Submission:
    old = submission.status
    submission.status = _target(action)
    submission.review_comment = comment
    submission.reviewed_at = timezone.now()
    submission.reviewed_by = user
    submission.version += 1
    submission.save()
    accepted = Submission.Status.ACCEPTED
    if (old == accepted) != (submission.status == accepted):  # into the roll-up, or out of it
        branch_totals.table_moved(submission, accepted=submission.status == accepted)
    _status_event(submission, user, old, comment)
    _notify_unit(submission, user, action, comment)
    return submission


_REVIEW_NOTICES = {
    Action.RETURN: (
        Notice.Kind.RETURNED,
        gettext_lazy("{unit}的{form}被{who}退回，请修改后重新报送。审核意见：{comment}"),
    ),
    Action.ACCEPT: (Notice.Kind.ACCEPTED, gettext_lazy("{unit}的{form}已由{who}审核通过。{comment}")),
    Action.UNLOCK: (
        Notice.Kind.UNLOCKED,
        gettext_lazy("{unit}的{form}已被{who}解锁，可以修改后重新报送。{comment}"),
    ),
}


def _notify_unit(submission: Submission, user: User, action: Action, comment: str) -> None:
    """Tell the people who fill the unit's tables, in the transaction of the transition."""
    kind, text = _REVIEW_NOTICES[action]
    form = get_form(submission.form_code)
    notify(
        kind,
        unit=submission.unit,
        campaign=submission.campaign,
        form_code=submission.form_code,
        text=str(text)
        .format(
            unit=submission.unit.name,
            form=f"{form.attachment}《{form.title}》",
            who=user.get_full_name() or user.get_username(),
            comment=comment,
        )
        .strip(),
        link=reverse(
            "campaign:entry", args=[submission.campaign_id, submission.unit_id, submission.form_code]
        ),
    )


# --- Excel into a draft ----------------------------------------------------------------------------------


@dataclass
class ImportPreview:
    report: TableReport
    changes: list[tuple[str, str, str]]  # (item, old shown, new shown)
    header: dict[str, str] = field(default_factory=dict)  # the header fields the file sets (blank ones not)
    header_changes: list[tuple[str, str, str]] = field(default_factory=list)  # (field, old, new)
    kept_date: str = ""  # a date in the file that is no date (2018年2月30日): the stored one is kept


def submission_import_preview(
    *, submission: Submission, user: User, data: bytes, filename: str
) -> ImportPreview:
    """What an uploaded official Excel file would change in the draft; nothing is written. The report's
    values and `header` are what `submission_import_apply` takes once the person confirms."""
    _check_importable(submission, user)
    reports = check_bytes(data, file=filename, form_code=submission.form_code)
    report = reports[0]
    if report.status is FileStatus.UNREADABLE:
        raise ReportingError(report.message or _("无法读取该文件"))
    form = get_form(submission.form_code)
    last = last_year_values(submission.campaign, submission.unit_id, form)
    add_comparison(form, report.result, report.values, last, report.cells)
    found = derived.ledger_warnings(
        form, report.values, ledger_values(submission.campaign, submission.unit_id, form)
    )
    if found:
        for violation in found:
            violation.cells = {code: report.cells[code] for code in violation.items if code in report.cells}
        report.result.extend(found)
        report.result.sort(compiled(form).index)
    current = stored_values(submission)
    changes = [
        (code, _shown(current.get(code)), _shown(value))
        for code, value in report.values.items()
        if _shown(value) != _shown(current.get(code))
    ]
    header, kept_date = _imported_header(report)
    header_changes = [
        (name, str(getattr(submission, name) or ""), new)
        for name, new in header.items()
        if str(getattr(submission, name) or "") != new
    ]
    return ImportPreview(report, changes, header, header_changes, kept_date)


def _imported_header(report: TableReport) -> tuple[dict[str, str], str]:
    """The header fields the file fills in. A field left blank in the file keeps the stored value (a
    template saved without its date must not wipe the date typed on the page); so does a date that is no
    date, which is returned second so the preview can say so."""
    found = report.header
    header: dict[str, str] = {}
    for name, text in (("reporter", found.reporter), ("phone", found.phone)):
        if text and text.strip():
            header[name] = text.strip()
    date_text = (found.date or "").strip()
    try:
        if date_text:
            header["report_date"] = dt.date.fromisoformat(date_text).isoformat()
    except ValueError:
        return header, date_text
    return header, ""


def _check_importable(submission: Submission, user: User) -> None:
    if not can_fill(user, submission.unit):
        raise PermissionDenied
    if not state_allows(Action.SAVE, submission):
        raise StateConflict(_("这张表{status}，不能导入").format(status=submission.get_status_display()))


def submission_import_apply(
    *,
    submission: Submission,
    user: User,
    values: Mapping[str, Value],
    header: Mapping[str, str],
    version: int,
) -> SaveResult:
    """Save what the preview showed — the file's values and the header fields it fills (a blank one in the
    file keeps what is stored) — as an import; no file is read again. `version` is the one the preview was
    made from: if anyone saved since, EditConflict, and nothing is written."""
    _check_importable(submission, user)
    return submission_save(
        submission=submission,
        user=user,
        version=version,
        values=dict(values),
        header=dict(header),
        event_kind=SubmissionEvent.Kind.IMPORT,
    )


# --- the written activity report -------------------------------------------------------------------------

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: Directory entries of an OLE (.doc, .wps) file that hold a VBA project: Word keeps it in the storage
#: "Macros" (with "VBA" inside), Office in general in "_VBA_PROJECT_CUR" / "_VBA_PROJECT".
_OLE_MACRO_NAMES = tuple(
    (name + "\0").encode("utf-16-le") for name in ("Macros", "VBA", "_VBA_PROJECT_CUR", "_VBA_PROJECT")
)
_OLE_DIRECTORY_ENTRY = 128  # bytes; entries start at multiples of 128 (sectors are 512 or 4096 bytes)
#: A .docx names at most a few hundred parts; its parts inflate to a few MB. The bounds are far above that
#: and far below what would hurt the reviewers' Word or WPS (nothing is inflated here but [Content_Types]).
DOCX_MAX_MEMBERS = 5_000
DOCX_MAX_INFLATED_BYTES = 100 * 1024 * 1024
_CONTENT_TYPES_MAX_BYTES = 1024 * 1024
#: What a web page starts with; a PDF never carries it in its first kilobyte (its header, then objects).
_MARKUP = (b"<html", b"<script", b"<!doctype", b"<svg", b"<body", b"<head", b"<iframe", b"<object", b"<embed")
_PDF_HEAD = 1024
_PDF_TAIL = 2048  # %%EOF ends a PDF; some writers add a little after it, and the spec allows 1 KB


class DocumentRefused(ReportingError):
    """An activity report of a known type whose content is refused (macros, a web page in disguise)."""


def sniff_document(data: bytes, name: str) -> str | None:
    """doc, docx, wps or pdf, judged by the content (the name only tells .doc from .wps inside OLE).

    None when the content is none of these; DocumentRefused when it is one of them but unsafe to pass on:
    a Word file with macros, a PDF that is a web page behind a PDF header (a polyglot), a .docx whose parts
    would inflate beyond any real report.
    """
    if data.startswith(b"%PDF-"):
        check_pdf(data, name)
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        # Counted before zipfile builds an object per member: 20 MB can name 400,000 empty ones.
        if data.count(b"PK\x01\x02") > DOCX_MAX_MEMBERS:
            raise DocumentRefused(_too_big_message(name))
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if "word/document.xml" not in archive.namelist():
                    return None
                _check_docx(archive, name)
                return "docx"
        except (
            zipfile.BadZipFile,
            zipfile.LargeZipFile,
            NotImplementedError,
            RuntimeError,
            OSError,
            zlib.error,
        ):
            return None  # damaged, or compressed in a way Word does not write: not a .docx
    if data.startswith(_OLE) and "WordDocument".encode("utf-16-le") in data:
        if _ole_has_macros(data):
            raise DocumentRefused(_macro_message(name))
        return "wps" if name.lower().endswith(".wps") else "doc"
    return None


def _macro_message(name: str) -> str:
    return _(
        "“{name}”含有宏（VBA 代码），为安全起见不能上传。"
        "请在 Word 或 WPS 中另存为不含宏的 .docx 或 PDF 后再上传"
    ).format(name=name)


def check_pdf(data: bytes, name: str) -> None:
    """DocumentRefused unless `data` (starting %PDF-) is a real, whole PDF: no web page behind the header,
    its end (%%EOF) there, objects and a cross-reference. Uploaded PDFs of every app pass here."""
    head = data[5 : 5 + _PDF_HEAD].lower()
    if any(tag in head for tag in _MARKUP):
        raise DocumentRefused(
            _(
                "“{name}”不是真正的 PDF：文件开头是网页代码（HTML），请从 Word 或 WPS 重新导出为 PDF 后上传"
            ).format(name=name)
        )
    if b"%%EOF" not in data[-_PDF_TAIL:]:
        raise DocumentRefused(
            _(
                "“{name}”不是完整的 PDF：找不到文件结尾（%%EOF），文件可能已损坏或没有传完，请重新导出后上传"
            ).format(name=name)
        )
    if b"endobj" not in data or not (b"startxref" in data or b"trailer" in data):
        raise DocumentRefused(
            _(
                "“{name}”不是有效的 PDF：文件中没有 PDF 的对象和交叉引用表，"
                "请从 Word 或 WPS 重新导出为 PDF 后上传"
            ).format(name=name)
        )


def _too_big_message(name: str) -> str:
    return _("“{name}”解压后超过 {mb} MB（或部件过多），不像是一份活动报告，请检查文件后再上传").format(
        name=name, mb=DOCX_MAX_INFLATED_BYTES // 1048576
    )


def _check_docx(archive: zipfile.ZipFile, name: str) -> None:
    members = archive.infolist()
    if len(members) > DOCX_MAX_MEMBERS or sum(m.file_size for m in members) > DOCX_MAX_INFLATED_BYTES:
        raise DocumentRefused(_too_big_message(name))
    if any("vbaproject" in m.filename.lower() or "vbadata" in m.filename.lower() for m in members):
        raise DocumentRefused(_macro_message(name))
    try:
        with archive.open("[Content_Types].xml") as part:
            content_types = part.read(_CONTENT_TYPES_MAX_BYTES).lower()
    except KeyError:
        return
    if b"macroenabled" in content_types or b"vbaproject" in content_types:
        raise DocumentRefused(_macro_message(name))


def _ole_has_macros(data: bytes) -> bool:
    """Whether the OLE directory names a macro storage.

    Directory entries are 128 bytes at offsets that are multiples of 128 (sectors are 512 or 4096 bytes,
    after a 512-byte header): the name in UTF-16 (64 bytes), its length in bytes with the terminator, the
    type (1 storage, 2 stream). Every such offset is looked at — a bounded scan (≈160,000 slots in 20 MB),
    simpler than following the FAT and blind to text that merely contains the names.
    """
    wanted = {len(name): name for name in _OLE_MACRO_NAMES}
    for start in range(512, len(data) - _OLE_DIRECTORY_ENTRY + 1, _OLE_DIRECTORY_ENTRY):
        length = int.from_bytes(data[start + 0x40 : start + 0x42], "little")
        name = wanted.get(length)
        if name is not None and data[start : start + length] == name and data[start + 0x42] in (1, 2):
            return True
    return False


@transaction.atomic
def activity_report_upload(
    *, campaign: Campaign, unit: Unit, user: User, upload: UploadedFile[Any]
) -> ActivityReport:
    if not can_fill(user, unit):
        raise PermissionDenied
    limit = settings.SONGNUAN_MAX_REPORT_BYTES
    if upload.size is None or upload.size > limit:
        raise ReportingError(_("活动报告文件不能超过 {mb} MB").format(mb=limit // 1048576))
    data = b"".join(upload.chunks())
    kind = sniff_document(data, upload.name or "")
    if kind is None:
        raise ReportingError(
            _(
                "“{name}”不是 Word、WPS 或 PDF 文件（按文件内容判断），请上传 .doc、.docx、.wps 或 .pdf"
            ).format(name=upload.name)
        )
    upload.seek(0)
    return ActivityReport.objects.create(
        campaign=campaign,
        unit=unit,
        file=upload,
        original_name=(upload.name or "")[:200],
        file_type=kind,
        size=len(data),
        uploaded_by=user,
    )


@transaction.atomic
def activity_report_remove(*, report: ActivityReport, user: User) -> str:
    """Remove an activity report uploaded by mistake; returns its name. Only a user who may fill for the
    report's unit, and only while that unit is still reporting (not every one of its tables in the campaign
    accepted: then the report belongs to the accepted record). Audited (who, when, which file, in which
    campaign) in the unit's 管理操作记录; the stored file is deleted only once the removal is committed."""
    from songnuan.orgs.models import AuditEntry  # here, so this function is one self-contained addition

    locked = (
        ActivityReport.objects.select_for_update()
        .select_related("campaign", "unit")
        .filter(pk=report.pk)
        .first()
    )
    if locked is None:
        raise ReportingError(_("活动报告“{name}”已经删除了").format(name=report.original_name))
    if not can_fill(user, locked.unit):
        raise PermissionDenied(
            _("只有“{unit}”的填报人员可以删除本单位上传的活动报告").format(unit=locked.unit.name)
        )
    codes = set(locked.campaign.form_codes)
    accepted = Submission.objects.filter(
        campaign=locked.campaign, unit=locked.unit, status=Submission.Status.ACCEPTED, form_code__in=codes
    ).count()
    if codes and accepted >= len(codes):
        raise ReportingError(
            _(
                "“{unit}”的统计表已全部审核通过，活动报告“{name}”已归档，不能再删除；如确需更换，请联系上级解锁"
            ).format(unit=locked.unit.name, name=locked.original_name)
        )
    name, stored, storage = locked.original_name, locked.file.name, locked.file.storage
    AuditEntry.objects.create(
        actor=user,
        action=AuditEntry.Action.REPORT_REMOVED,
        unit=locked.unit,
        old=_("活动报告“{name}”（{number}）").format(name=name, number=locked.campaign.document_number)[:255],
    )
    locked.delete()
    if stored:
        transaction.on_commit(lambda: storage.delete(stored))
    return name
