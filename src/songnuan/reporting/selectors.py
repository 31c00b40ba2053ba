"""Reads for the reporting pages: forms as printed, their rules, and checked uploads laid out for display."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db.models import Count, Q, Sum
from django.db.models.functions import Substr

from songnuan.campaigns.models import Campaign
from songnuan.formkit.checking import TableReport, check_bytes
from songnuan.formkit.definitions import Form, ItemKind, Severity, builtin_forms, get_form
from songnuan.formkit.engine import CheckResult, CompiledRule, Value, compiled, format_value
from songnuan.orgs.models import Unit
from songnuan.reporting.models import Submission, SubmissionValue
from songnuan.reporting.services import stored_values


def form_list() -> list[Form]:
    return sorted(builtin_forms().values(), key=lambda form: (form.attachment, form.code))


def form_get(code: str) -> Form | None:
    try:
        return get_form(code)
    except KeyError:
        return None


@dataclass
class PrintedRow:
    """One item laid out as the notice prints it, with its value and what the rules say of it."""

    code: str
    number: str
    number_rowspan: int  # 0 for rows under a merged 编号 cell
    letter: str
    level: int
    label: str
    unit: str
    formula: str | None
    value: str = ""
    cell: str = ""
    state: str = ""  # "", "error" or "warning"
    messages: list[tuple[str, str]] = field(default_factory=list)  # (severity, message)


def printed_rows(
    form: Form,
    values: dict[str, Value] | None = None,
    result: CheckResult | None = None,
    cells: Mapping[str, str] | None = None,
) -> list[PrintedRow]:
    by_item: dict[str, list[tuple[str, str]]] = {}
    if result is not None:
        for violation in result.all:
            # A message is shown beside its first item (the total), the others are highlighted.
            for position, code in enumerate(violation.items):
                entry = (violation.severity.value, violation.message if position == 0 else "")
                by_item.setdefault(code, []).append(entry)
    rows: list[PrintedRow] = []
    for number, items in form.groups():
        for position, item in enumerate(items):
            notes = by_item.get(item.code, [])
            state = "error" if any(s == Severity.ERROR for s, _m in notes) else "warning" if notes else ""
            value = (values or {}).get(item.code)
            rows.append(
                PrintedRow(
                    code=item.code,
                    number=number,
                    number_rowspan=len(items) if position == 0 else 0,
                    letter=form.printed_letter(item),
                    level=item.level,
                    label=item.label,
                    unit=item.unit,
                    formula=item.formula,
                    value="" if value is None else format_value(value),
                    cell=(cells or {}).get(item.code, ""),
                    state=state,
                    messages=[(s, m) for s, m in notes if m],
                )
            )
    return rows


def form_rules(form: Form) -> list[CompiledRule]:
    return list(compiled(form).rules)


@dataclass
class CheckedTable:
    report: TableReport
    rows: list[PrintedRow]


def uploads_check(files: Iterable[UploadedFile[Any]]) -> list[CheckedTable]:
    """Check each uploaded file (read in memory, never stored) and lay each table out for display."""
    checked: list[CheckedTable] = []
    for upload in files:
        data = b"".join(upload.chunks())
        for report in check_bytes(data, file=upload.name or "upload"):
            rows = (
                printed_rows(report.form, report.values, report.result, report.cells) if report.form else []
            )
            checked.append(CheckedTable(report, rows))
    return checked


# --- campaign reporting: values, progress, roll-up -------------------------------------------------------


def submission_values(submission: Submission) -> dict[str, Value]:
    return stored_values(submission)


def submission_check(submission: Submission) -> CheckResult:
    return compiled(get_form(submission.form_code)).validate(stored_values(submission))


@dataclass
class UnitProgress:
    """Where one unit stands in a campaign: per form its submission (or None: not started)."""

    unit: Unit
    submissions: dict[str, Submission | None]

    @property
    def state(self) -> str:
        """The least advanced state over its forms: not-started < draft < returned < submitted < accepted."""
        order = ["not-started", "draft", "returned", "submitted", "accepted"]
        states = [s.status if s else "not-started" for s in self.submissions.values()]
        return min(states, key=order.index) if states else "not-started"

    @property
    def late(self) -> bool:
        return any(s is not None and s.late for s in self.submissions.values())


def campaign_progress(campaign: Campaign, units: Iterable[Unit]) -> list[UnitProgress]:
    units = list(units)
    found: dict[tuple[int, str], Submission] = {
        (s.unit_id, s.form_code): s
        for s in Submission.objects.filter(campaign=campaign, unit__in=units).select_related("unit")
    }
    return [
        UnitProgress(unit, {code: found.get((unit.pk, code)) for code in campaign.form_codes})
        for unit in units
    ]


def rollup(campaign: Campaign, form_code: str, unit: Unit) -> dict[str, Value]:
    """The sum of the accepted tables of `unit` and every unit below it, item by item, in one GROUP BY.

    Blank stays blank: an item no accepted table filled is None, not 0. A yes/no item is 是 when any table
    says 是, 否 when all that filled it say 否.
    """
    form = get_form(form_code)
    rows = (
        SubmissionValue.objects.filter(
            submission__campaign=campaign,
            submission__form_code=form_code,
            submission__status=Submission.Status.ACCEPTED,
            submission__unit__path__startswith=unit.path,
        )
        .values("item")
        .annotate(
            total=Sum("number"), yes=Count("pk", filter=Q(text="是")), no=Count("pk", filter=Q(text="否"))
        )
    )
    return _totals(form, {row["item"]: row for row in rows})


def rollup_by_child(campaign: Campaign, form_code: str, unit: Unit) -> dict[int, dict[str, Value]]:
    """For the drill-down and the comparison grid: per child of `unit` (and `unit` itself, by its own id), the
    roll-up of that child's subtree — one GROUP BY over the path prefix."""
    form = get_form(form_code)
    prefix_length = len(unit.path) + 7  # the path of a child: the parent's path plus "000123/"
    rows = (
        SubmissionValue.objects.filter(
            submission__campaign=campaign,
            submission__form_code=form_code,
            submission__status=Submission.Status.ACCEPTED,
            submission__unit__path__startswith=unit.path,
        )
        .annotate(branch=Substr("submission__unit__path", 1, prefix_length))
        .values("branch", "item")
        .annotate(
            total=Sum("number"), yes=Count("pk", filter=Q(text="是")), no=Count("pk", filter=Q(text="否"))
        )
    )
    by_branch: dict[str, dict[str, Any]] = {}
    for row in rows:
        by_branch.setdefault(row["branch"], {})[row["item"]] = row
    result: dict[int, dict[str, Value]] = {}
    for branch, items in by_branch.items():
        unit_id = int(branch.rstrip("/").split("/")[-1]) if len(branch) == prefix_length else unit.pk
        result[unit_id] = _totals(form, items)
    return result


def _totals(form: Form, rows: Mapping[str, Mapping[str, Any]]) -> dict[str, Value]:
    totals: dict[str, Value] = {}
    for item in form.items:
        row = rows.get(item.code)
        if row is None:
            totals[item.code] = None
        elif item.kind is ItemKind.YES_NO:
            totals[item.code] = "是" if row["yes"] else ("否" if row["no"] else None)
        elif row["total"] is None:
            totals[item.code] = None
        else:
            total = Decimal(row["total"])
            totals[item.code] = int(total) if item.kind is ItemKind.COUNT else total.normalize()
    return totals
