"""The forms as the notice prints them: the catalogue, each item laid out with its value and findings, and
uploaded files checked and laid out for display."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.files.uploadedfile import UploadedFile

from songnuan.formkit.checking import TableReport, check_bytes
from songnuan.formkit.definitions import Form, Severity, builtin_forms, get_form
from songnuan.formkit.engine import CheckResult, CompiledRule, Value, compiled, value_text


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
    hint: str = ""  # e.g. how many households the unit has on file, beside the households visited


def printed_rows(
    form: Form,
    values: dict[str, Value] | None = None,
    result: CheckResult | None = None,
    cells: Mapping[str, str] | None = None,
    hints: Mapping[str, str] | None = None,
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
                    value=value_text(value),
                    cell=(cells or {}).get(item.code, ""),
                    state=state,
                    messages=[(s, m) for s, m in notes if m],
                    hint=(hints or {}).get(item.code, ""),
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
