"""Checking filled tables end to end: read a file, check every rule, report per table (`songnuan check`)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from songnuan.formkit.definitions import Form, builtin_forms
from songnuan.formkit.engine import CheckResult, Value, Violation, compiled
from songnuan.formkit.excel_reader import Header, TableReading, UnreadableFile, read_bytes, read_workbook
from songnuan.formkit.i18n import gettext as _

logger = logging.getLogger(__name__)


class Status(StrEnum):
    OK = "ok"
    INVALID = "invalid"
    UNREADABLE = "unreadable"


#: The exit code of `songnuan check`: the worst status among the files.
EXIT_CODES = {Status.OK: 0, Status.INVALID: 1, Status.UNREADABLE: 2}


@dataclass
class TableReport:
    """What `check` says of one table in one file (or of a file that could not be read)."""

    file: str
    status: Status
    form: Form | None = None
    sheet: str | None = None
    header: Header = field(default_factory=Header)
    values: dict[str, Value] = field(default_factory=dict)
    cells: Mapping[str, str] = field(default_factory=dict)
    result: CheckResult = field(default_factory=CheckResult)
    message: str | None = None

    @property
    def errors(self) -> list[Violation]:
        return self.result.errors

    @property
    def warnings(self) -> list[Violation]:
        return self.result.warnings

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "file": self.file,
            "form": self.form.code if self.form else None,
            "unit": self.header.unit,
            "status": self.status.value,
            "sheet": self.sheet,
            "header": self.header.as_dict(),
            "values": dict(self.values),
            "errors": [v.as_dict() for v in self.errors],
            "warnings": [v.as_dict() for v in self.warnings],
        }
        if self.message is not None:
            data["message"] = self.message
        return data


def check_reading(reading: TableReading) -> TableReport:
    result = CheckResult()
    result.extend(reading.problems)
    unread = {code for problem in reading.problems for code in problem.items}
    result.extend(compiled(reading.form).validate(reading.values, unread).all)
    result.sort(compiled(reading.form).index)
    for violation in result.all:
        violation.cells = {code: reading.cells[code] for code in violation.items if code in reading.cells}
    return TableReport(
        file=reading.file,
        status=Status.OK if result.valid else Status.INVALID,
        form=reading.form,
        sheet=reading.sheet,
        header=reading.header,
        values=reading.values,
        cells=reading.cells,
        result=result,
    )


def check_bytes(
    data: bytes, *, file: str, forms: Mapping[str, Form] | None = None, form_code: str | None = None
) -> list[TableReport]:
    """Check the tables in one file's content; an unreadable file gives one report with a message."""
    forms = builtin_forms() if forms is None else forms
    try:
        readings = read_workbook(data, file=file, forms=forms, form_code=form_code)
    except UnreadableFile as problem:
        return [TableReport(file=file, status=Status.UNREADABLE, message=str(problem))]
    except Exception:  # a damaged file can fail deep in a parser: a message for the user, not a traceback
        logger.exception("unexpected failure reading %s", file)
        return [TableReport(file=file, status=Status.UNREADABLE, message=_("文件已损坏或格式异常，无法读取"))]
    return [check_reading(reading) for reading in readings]


def check_paths(
    paths: Iterable[str | Path], *, forms: Mapping[str, Form] | None = None, form_code: str | None = None
) -> list[TableReport]:
    reports: list[TableReport] = []
    for path in paths:
        try:
            data = read_bytes(path)
        except UnreadableFile as problem:
            reports.append(TableReport(file=str(path), status=Status.UNREADABLE, message=str(problem)))
            continue
        reports.extend(check_bytes(data, file=str(path), forms=forms, form_code=form_code))
    return reports


def exit_code(reports: Iterable[TableReport]) -> int:
    return max((EXIT_CODES[r.status] for r in reports), default=0)


_DECIMAL_MARK = re.compile(r'"\\u0000D:([-0-9.E+]+)\\u0000"')


def to_json(data: Any, *, indent: int | None = 2) -> str:
    """JSON with Decimal written as an exact JSON number (never through float)."""

    def default(value: object) -> object:
        if isinstance(value, Decimal):
            return f"\x00D:{format(value, 'f')}\x00"
        raise TypeError(f"not JSON serialisable: {type(value).__name__}")

    text = json.dumps(data, ensure_ascii=False, indent=indent, default=default)
    return _DECIMAL_MARK.sub(lambda m: m.group(1), text)
