"""Import household files from the spreadsheets archives live in today.

Every row is checked (ID number, required fields, unit, numbers, dates); the good rows go in, in one
transaction with the whole file; each bad row goes to a rejected-rows file with its reason. Importing the same
file again creates nothing new: a household already on an open file of the same unit is counted as existing.
A household on another unit's open file is refused with the holder named — one household, one file.

The file is streamed (CSV from disk, spreadsheets row by row from calamine) and written in batches through the
database's bulk path, so a million rows take minutes and the memory stays flat.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import operator
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from songnuan.archive.bulk import column_adapter, existing_values, insert_rows, reserve_ids
from songnuan.archive.idnumbers import (
    InvalidIdNumber,
    ResidentId,
    luhn_valid,
    mask_id_number,
    parse_id_number,
)
from songnuan.archive.models import Household, HouseholdEvent, ImportJob, OpenIdentity, Plan
from songnuan.archive.searchkeys import name_initials
from songnuan.archive.services import difficulty_type_problem
from songnuan.formkit.values import BLANK_MARKS, DATE_TEXT, decimal_from_float, normalize_text
from songnuan.orgs.models import Unit
from songnuan.orgs.permissions import (
    may_decide_file,
    may_open_file,
    units_to_open_files_in,
    units_visible_to,
)

BATCH_ROWS = 2000


@dataclass(frozen=True)
class ImportField:
    name: str
    label: str
    synonyms: tuple[str, ...]
    required: bool = False


#: What a column may be called in the archives people keep (compared without spaces, brackets or units).
FIELDS: tuple[ImportField, ...] = (
    ImportField("unit", "建档单位", ("建档单位", "所属工会", "工会名称", "所属单位", "建档工会")),
    ImportField("head_name", "户主姓名", ("户主姓名", "姓名", "户主", "职工姓名"), required=True),
    ImportField(
        "head_id_number",
        "身份证号",
        ("身份证号", "身份证号码", "公民身份号码", "户主身份证号", "证件号码", "身份证"),
        required=True,
    ),
    ImportField("category", "类别", ("类别", "档案类别", "困难类别", "人员类别"), required=True),
    ImportField("phone", "手机号", ("手机号", "手机", "手机号码", "联系电话", "电话")),
    ImportField("employer", "工作单位", ("工作单位", "就业单位", "所在单位")),
    ImportField("employer_kind", "单位性质", ("单位性质", "企业性质", "单位类型")),
    ImportField("difficulty_type", "困难类型", ("困难类型", "困难程度")),
    ImportField("main_cause", "主要致困原因", ("主要致困原因", "致困原因", "困难原因")),
    ImportField("monthly_income", "家庭月收入（元）", ("家庭月收入", "家庭月总收入", "月收入")),
    ImportField("household_size", "家庭人口", ("家庭人口", "家庭人数", "家庭人口数", "人口")),
    ImportField("minimum_living_line", "当地低保标准（元）", ("低保标准", "当地低保标准")),
    ImportField("card_kind", "发放卡类型", ("发放卡类型", "卡类型")),
    ImportField("bank", "开户银行", ("开户银行", "银行")),
    ImportField("bank_branch", "开户网点", ("开户网点", "网点", "开户行网点")),
    ImportField("card_number", "卡号", ("卡号", "银行卡号", "阳光5·1卡号", "账号")),
    ImportField("filed_on", "建档日期", ("建档日期", "建档时间")),
)
FIELD_LABELS = {field.name: field.label for field in FIELDS}
_CATEGORIES = {
    "困难职工": Household.Category.WORKER,
    "职工": Household.Category.WORKER,
    "困难农民工": Household.Category.MIGRANT,
    "农民工": Household.Category.MIGRANT,
    "困难劳模": Household.Category.MODEL_WORKER,
    "劳模": Household.Category.MODEL_WORKER,
}
_CARD_KINDS = {
    "阳光5·1卡": Household.CardKind.UNION_CARD,
    "阳光51卡": Household.CardKind.UNION_CARD,
    "5·1卡": Household.CardKind.UNION_CARD,
    "工会卡": Household.CardKind.UNION_CARD,
    "银行卡": Household.CardKind.BANK_CARD,
}
_BRACKETED = re.compile(r"[(（\[【].*?[)）\]】]")
_SEPARATORS = re.compile(r"[\s\-]")
_CENT = Decimal("0.01")

HOUSEHOLD_COLUMNS = (
    "id",
    "unit_id",
    "head_name",
    "name_initials",
    "head_id_number",
    "id_reversed",
    "head_sex",
    "head_birth_date",
    "phone",
    "employer",
    "employer_kind",
    "category",
    "difficulty_type",
    "main_cause",
    "secondary_causes",
    "monthly_income",
    "household_size",
    "minimum_living_line",
    "card_kind",
    "bank",
    "bank_branch",
    "card_number",
    "status",
    "applied_at",
    "applied_by_id",
    "filed_at",
    "reviewed_by_id",
    "last_reviewed_at",
    "out_path",
    "ended_on",
    "closed_reason",
    "import_job_id",
    "import_row",
)
_IN_COLUMN_ORDER = operator.itemgetter(*HOUSEHOLD_COLUMNS)  # a row's values as the INSERT takes them
IDENTITY_COLUMNS = ("id_number", "household_id")
PLAN_COLUMNS = ("household_id", "contact", "deadline", "measures", "path")
#: One "imported" event per file created, in the same transaction and the same bulk path as the files: the
#: file's history starts with where it came from (the job's file and row; the values are the file's own).
EVENT_COLUMNS = ("household_id", "user_id", "at", "action", "old", "new", "note")


class MappingError(Exception):
    """The column mapping cannot be used (a required field has no column); the message says which."""


def _without_separators(text: str) -> str:
    """A phone or card number without spaces and dashes (most have none: no regex for those)."""
    return text if text.isdigit() else _SEPARATORS.sub("", text)


def header_key(text: str) -> str:
    """A header cell as synonyms are compared: without spaces, colons, stars or bracketed units."""
    return re.sub(r"[\s:：*＊]", "", _BRACKETED.sub("", normalize_text(text)))


def guess_columns(header: Sequence[str], fields: Sequence[ImportField]) -> dict[str, int]:
    """field name → column index, from the header's wording; each column used once, exact names first.

    Shared by every list import (the archive's households, the ledger's payment roster): each passes its own
    fields and their synonyms."""
    keys = [header_key(text) for text in header]
    mapping: dict[str, int] = {}
    taken: set[int] = set()
    for exact in (True, False):
        for field in fields:
            if field.name in mapping:
                continue
            for synonym in field.synonyms:
                found = next(
                    (
                        index
                        for index, key in enumerate(keys)
                        if index not in taken and key and (key == synonym if exact else synonym in key)
                    ),
                    None,
                )
                if found is not None:
                    mapping[field.name] = found
                    taken.add(found)
                    break
    return mapping


def check_columns(
    mapping: Mapping[str, int],
    header: Sequence[str],
    fields: Sequence[ImportField],
    *,
    also_missing: Sequence[str] = (),
) -> None:
    """MappingError unless every required field has a column, no column serves two fields, and every column
    is in the header. `also_missing`: labels of fields required in this case only (named with the rest)."""
    missing = [field.label for field in fields if field.required and field.name not in mapping]
    missing.extend(also_missing)
    if missing:
        raise MappingError(_("请为这些项目选择所在的列：{fields}").format(fields="、".join(missing)))
    used = [index for index in mapping.values()]
    if len(used) != len(set(used)):
        raise MappingError(_("同一列不能对应两个项目"))
    if any(not 0 <= index < len(header) for index in used):
        raise MappingError(_("所选的列不在表头之中"))


def guess_mapping(header: Sequence[str]) -> dict[str, int]:
    """The archive's fields → column index, from the header's wording."""
    return guess_columns(header, FIELDS)


def check_mapping(mapping: Mapping[str, int], header: Sequence[str], *, has_default_unit: bool) -> None:
    unit_missing = "unit" not in mapping and not has_default_unit
    check_columns(mapping, header, FIELDS, also_missing=[FIELD_LABELS["unit"]] if unit_missing else [])


@dataclass
class ImportOutcome:
    rows: int = 0
    created: int = 0
    existing: int = 0
    rejected: int = 0
    warnings: int = 0


class RowProblem(Exception):
    """One row's reason for being refused (Chinese, names the column)."""


RejectRow = Callable[[int, Sequence[Any], str], None]
Progress = Callable[[int, float], None]


@dataclass
class _Candidate:
    row: int
    cells: Sequence[Any]
    unit: Unit
    values: dict[str, Any]  # by column of HOUSEHOLD_COLUMNS; the id is filled when the batch is inserted
    id_number: str


class _RowReader:
    """Turns one row of cells into the household's column values, or raises RowProblem.

    A million rows pass through here, so each row's mapped cells are picked and cleaned in one loop
    (`fields`), and the common shapes of a value (ASCII digits, a plain amount) skip the general parsing;
    every check is still made on every row.
    """

    def __init__(self, *, user: User, default_unit: Unit | None, mapping: Mapping[str, int], job: ImportJob):
        self.user, self.default_unit, self.job = user, default_unit, job
        self.columns = tuple(mapping.items())
        units = units_to_open_files_in(user)
        # A file held elsewhere is named only when the importer may see it (`duplicate_message`'s rule).
        self.visible_unit_ids = set(units_visible_to(user).values_list("pk", flat=True))
        self.units = {normalize_text(unit.name): unit for unit in units}
        self.reviews = {unit.pk: may_decide_file(user, unit) for unit in units}  # filed at once
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.user_id, self.job_id = user.pk, job.pk
        # A file holds a few difficulty types, each checked once against the configured list.
        self.difficulty_problem = functools.lru_cache(maxsize=256)(difficulty_type_problem)
        self.adapters = [
            (column, adapter)
            for column in HOUSEHOLD_COLUMNS
            if (adapter := column_adapter(Household, column)) is not None
        ]
        self.warnings = 0
        at_adapter = column_adapter(HouseholdEvent, "at")
        self.event_at = at_adapter(self.now) if at_adapter else self.now
        self.event_note = _("导入“{file}”，原文件第{{row}}行").format(
            file=job.file_name.replace("{", "{{").replace("}", "}}")
        )
        self.event_new: dict[tuple[int, str], str] = {}

    def event_row(self, household_id: int, candidate: _Candidate) -> tuple[Any, ...]:
        """The "imported" event of a new file, as the database takes it (JSON as text, built once a unit)."""
        status = Household.Status.FILED if self.reviews[candidate.unit.pk] else Household.Status.APPLIED
        key = (candidate.unit.pk, status)
        new = self.event_new.get(key)
        if new is None:
            new = self.event_new[key] = json.dumps(
                {"unit": candidate.unit.name, "status": status}, ensure_ascii=False
            )
        return (
            household_id,
            self.user_id,
            self.event_at,
            HouseholdEvent.Action.IMPORTED,
            "{}",
            new,
            self.event_note.format(row=candidate.row),
        )

    def fields(self, cells: Sequence[Any]) -> dict[str, Any]:
        """The mapped cells by field name, text stripped; blank cells and blank marks (-, /, —) left out."""
        found: dict[str, Any] = {}
        count = len(cells)
        for name, index in self.columns:
            if index >= count:
                continue
            value = cells[index]
            if isinstance(value, str):
                value = value.strip()
                if value in BLANK_MARKS:
                    continue
            elif value is None:
                continue
            found[name] = value
        return found

    @staticmethod
    def text(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    def required_text(self, value: Any, name: str) -> str:
        text = self.text(value)
        if not text:
            raise RowProblem(_("“{label}”不能为空").format(label=FIELD_LABELS[name]))
        return text

    @staticmethod
    def amount(value: Any, name: str) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, bool):
            raise RowProblem(_("“{label}”应是金额").format(label=FIELD_LABELS[name]))
        if isinstance(value, float | int):
            number = decimal_from_float(float(value))
        else:
            text = str(value)
            if not text.isascii():  # NFKC changes nothing in ASCII text, and 元 is not ASCII
                text = unicodedata.normalize("NFKC", text).replace("元", "")
            text = text.replace(",", "").strip()
            try:
                number = Decimal(text)
            except InvalidOperation:
                raise RowProblem(
                    _("“{label}”应是数字，这里是“{value}”").format(label=FIELD_LABELS[name], value=value)
                ) from None
        if not number.is_finite():  # "NaN" and "Infinity" are Decimals too
            raise RowProblem(
                _("“{label}”应是数字，这里是“{value}”").format(label=FIELD_LABELS[name], value=value)
            )
        if number < 0:
            raise RowProblem(_("“{label}”不能是负数").format(label=FIELD_LABELS[name]))
        return number.quantize(_CENT)

    def id_number(self, value: Any) -> ResidentId:
        if value is None:
            raise RowProblem(_("“身份证号”不能为空"))
        if isinstance(value, float | int) and not isinstance(value, bool):
            if isinstance(value, float) and not (value.is_integer() and value < 1e15):
                raise RowProblem(
                    _(
                        "身份证号在Excel中被存成了数字（{shown}），后几位已经丢失："
                        "请把该列设为“文本”后重新录入这些身份证号"
                    ).format(shown=format(value, ".15g"))
                )
            value = str(int(value))
        try:
            return parse_id_number(str(value), today=self.today)
        except InvalidIdNumber as problem:
            raise RowProblem(_("身份证号：{problem}").format(problem=problem)) from None

    def date(self, value: Any, name: str) -> dt.date | None:
        if value is None:
            return None
        day: Any = value.date() if isinstance(value, dt.datetime) else value
        if not isinstance(day, dt.date):
            match = DATE_TEXT.fullmatch(unicodedata.normalize("NFKC", str(day)).strip())
            try:
                day = dt.date(*(int(part) for part in match.groups())) if match else None
            except ValueError:
                day = None
            if day is None:
                raise RowProblem(
                    _("“{label}”应是日期（如 2017-12-20），这里是“{value}”").format(
                        label=FIELD_LABELS[name], value=value
                    )
                )
        if day > self.today:
            raise RowProblem(_("“{label}”不能晚于今天").format(label=FIELD_LABELS[name]))
        return day  # type: ignore[no-any-return]

    @staticmethod
    def size(value: Any) -> int:
        if value is None:
            return 1
        if isinstance(value, str) and value.isascii() and value.isdigit():  # "3", as almost every file has it
            size_number: Decimal | int = int(value)
        else:
            try:
                size_number = Decimal(unicodedata.normalize("NFKC", str(value)).removesuffix("人"))
            except InvalidOperation:
                size_number = Decimal(-1)
            if size_number != size_number.to_integral_value():
                size_number = Decimal(-1)
        if not 1 <= size_number <= 30:
            raise RowProblem(_("“家庭人口”应是1到30之间的整数，这里是“{value}”").format(value=value))
        return int(size_number)

    def read(self, row: int, cells: Sequence[Any]) -> _Candidate:
        fields = self.fields(cells)
        get, text = fields.get, self.text
        head_name = self.required_text(get("head_name"), "head_name")
        resident = self.id_number(get("head_id_number"))
        number = resident.number
        category_text = self.required_text(get("category"), "category")
        category = _CATEGORIES.get(normalize_text(category_text))
        if category is None:
            raise RowProblem(
                _("“类别”应为困难职工、困难农民工或困难劳模，这里是“{value}”").format(value=category_text)
            )
        unit_name = text(get("unit"))
        if unit_name:
            unit = self.units.get(normalize_text(unit_name))
            if unit is None:
                raise RowProblem(
                    _("建档单位“{name}”不存在，或不在您可以导入的单位之中").format(name=unit_name)
                )
        elif self.default_unit is not None:
            unit = self.default_unit
        else:
            raise RowProblem(_("“建档单位”不能为空"))
        size = self.size(get("household_size"))
        card_value = get("card_number")
        if isinstance(card_value, float) and card_value >= 1e15:
            raise RowProblem(_("卡号在Excel中被存成了数字，后几位已经丢失：请把该列设为“文本”后重新录入"))
        card_number = _without_separators(text(card_value))
        if card_number and not card_number.isdigit():
            raise RowProblem(_("卡号只能是数字，这里是“{value}”").format(value=card_value))
        if card_number and not luhn_valid(card_number):
            self.warnings += (
                1  # some UnionPay cards were issued without a Luhn digit: a warning, not a refusal
            )
        card_kind_text = text(get("card_kind"))
        card_kind = _CARD_KINDS.get(normalize_text(card_kind_text), "") if card_kind_text else ""
        if card_kind_text and not card_kind:
            raise RowProblem(
                _("“发放卡类型”应为阳光5·1卡或银行卡，这里是“{value}”").format(value=card_kind_text)
            )
        difficulty_type = text(get("difficulty_type"))
        problem = self.difficulty_problem(difficulty_type)
        if problem:
            raise RowProblem(problem)
        phone = _without_separators(text(get("phone")))
        filed_on = self.date(get("filed_on"), "filed_on")
        unit_id = unit.pk
        filed = self.reviews[unit_id]
        filed_at = timezone.make_aware(dt.datetime.combine(filed_on, dt.time(12))) if filed_on else self.now
        values: dict[str, Any] = {
            "id": None,  # reserved with the batch
            "unit_id": unit_id,
            "head_name": head_name,
            "name_initials": name_initials(head_name),
            "head_id_number": number,
            "id_reversed": number[::-1],
            "head_sex": resident.sex,
            "head_birth_date": resident.birth_date,
            "phone": phone,
            "employer": text(get("employer")),
            "employer_kind": text(get("employer_kind")),
            "category": category,
            "difficulty_type": difficulty_type,
            "main_cause": text(get("main_cause")),
            "secondary_causes": [],
            "monthly_income": self.amount(get("monthly_income"), "monthly_income"),
            "household_size": size,
            "minimum_living_line": self.amount(get("minimum_living_line"), "minimum_living_line"),
            "card_kind": card_kind,
            "bank": text(get("bank")),
            "bank_branch": text(get("bank_branch")),
            "card_number": card_number,
            "status": Household.Status.FILED if filed else Household.Status.APPLIED,
            "applied_at": self.now,
            "applied_by_id": self.user_id,
            "filed_at": filed_at if filed else None,
            "reviewed_by_id": self.user_id if filed else None,
            "last_reviewed_at": filed_at if filed else None,
            "out_path": "",
            "ended_on": None,
            "closed_reason": "",
            "import_job_id": self.job_id,
            "import_row": row,
        }
        return _Candidate(row, cells, unit, values, number)

    def database_row(self, values: dict[str, Any]) -> tuple[Any, ...]:
        """The values in HOUSEHOLD_COLUMNS order, as the database takes them (adapted in place)."""
        for column, adapt in self.adapters:
            value = values[column]
            if value is not None:
                values[column] = adapt(value)
        row: tuple[Any, ...] = _IN_COLUMN_ORDER(values)
        return row


def household_import(
    *,
    user: User,
    job: ImportJob,
    rows: Iterable[tuple[int, Sequence[Any]]],
    mapping: Mapping[str, int],
    default_unit: Unit | None,
    reject: RejectRow,
    progress: Progress | None = None,
    fraction_read: Callable[[], float] = lambda: 0.0,
) -> ImportOutcome:
    """Import `rows` (row number, cells) in one transaction; bad rows go to `reject` with their reason."""
    if default_unit is not None and not may_open_file(user, default_unit):
        raise MappingError(_("您不能为“{unit}”建档").format(unit=default_unit.name))
    reader = _RowReader(user=user, default_unit=default_unit, mapping=mapping, job=job)
    outcome = ImportOutcome()
    with transaction.atomic():
        in_batches(
            rows,
            batch_rows=BATCH_ROWS,
            handle=lambda batch: _import_batch(batch, reader, job, outcome, reject),
            outcome=outcome,
            progress=progress,
            fraction_read=fraction_read,
        )
    outcome.warnings = reader.warnings
    if progress is not None:
        progress(outcome.rows, 1.0)
    return outcome


def in_batches(
    rows: Iterable[tuple[int, Sequence[Any]]],
    *,
    batch_rows: int,
    handle: Callable[[Sequence[tuple[int, Sequence[Any]]]], None],
    outcome: ImportOutcome,
    progress: Progress | None,
    fraction_read: Callable[[], float],
) -> None:
    """Hand `rows` to `handle` in batches of `batch_rows` (blank lines left out), counting them in `outcome`
    and reporting progress after each full batch. Shared by every list import; the caller holds the
    transaction and reports the end."""
    batch: list[tuple[int, Sequence[Any]]] = []
    for row, cells in rows:
        if not any(cells) and not any(cell not in (None, "") for cell in cells):
            continue  # blank lines between blocks are not records (a 0 or False is not blank)
        batch.append((row, cells))
        if len(batch) >= batch_rows:
            outcome.rows += len(batch)
            handle(batch)
            batch.clear()
            if progress is not None:
                progress(outcome.rows, fraction_read())
    outcome.rows += len(batch)
    handle(batch)


def _import_batch(
    batch: Sequence[tuple[int, Sequence[Any]]],
    reader: _RowReader,
    job: ImportJob,
    outcome: ImportOutcome,
    reject: RejectRow,
) -> None:
    candidates: dict[str, _Candidate] = {}
    for row, cells in batch:
        try:
            candidate = reader.read(row, cells)
        except RowProblem as problem:
            outcome.rejected += 1
            reject(row, cells, str(problem))
            continue
        first = candidates.get(candidate.id_number)
        if first is not None:
            outcome.rejected += 1
            reject(row, cells, _("身份证号与本文件第{row}行相同（同一文件内重复）").format(row=first.row))
            continue
        candidates[candidate.id_number] = candidate
    if not candidates:
        return
    # Which numbers are on an open file already: a bare probe of the unique index (a fresh archive has none),
    # then the holders' details for those alone.
    found = existing_values(OpenIdentity, "id_number", list(candidates))
    held = {
        number: (unit_id, unit_name, job_id, job_row, head_name)
        for number, unit_id, unit_name, job_id, job_row, head_name in (
            OpenIdentity.objects.filter(id_number__in=found).values_list(
                "id_number",
                "household__unit_id",
                "household__unit__name",
                "household__import_job_id",
                "household__import_row",
                "household__head_name",
            )
            if found
            else ()
        )
    }
    fresh: list[_Candidate] = []
    for number, candidate in candidates.items():
        holder = held.get(number)
        if holder is None:
            fresh.append(candidate)
            continue
        unit_id, unit_name, job_id, job_row, head_name = holder
        if job_id == job.pk:
            outcome.rejected += 1
            reject(
                candidate.row,
                candidate.cells,
                _("身份证号与本文件第{row}行相同（同一文件内重复）").format(row=job_row),
            )
        elif unit_id == candidate.unit.pk:
            outcome.existing += 1  # already on this unit's open file: importing again creates nothing
        elif unit_id in reader.visible_unit_ids:
            outcome.rejected += 1
            reject(
                candidate.row,
                candidate.cells,
                _("身份证号 {id} 已在“{unit}”的困难职工档案中（户主 {name}），一户只能建一份档案").format(
                    id=mask_id_number(number), unit=unit_name, name=head_name
                ),
            )
        else:  # a unit the importer may not see: neither it nor the person is named
            outcome.rejected += 1
            reject(
                candidate.row,
                candidate.cells,
                _("身份证号 {id} 已在其他单位的困难职工档案中，一户只能建一份档案").format(
                    id=mask_id_number(number)
                ),
            )
    if not fresh:
        return
    ids = reserve_ids(Household, len(fresh))
    households = []
    for pk, candidate in zip(ids, fresh, strict=True):
        candidate.values["id"] = pk
        households.append(reader.database_row(candidate.values))
    insert_rows(Household, HOUSEHOLD_COLUMNS, households)
    insert_rows(OpenIdentity, IDENTITY_COLUMNS, [(c.id_number, pk) for pk, c in zip(ids, fresh, strict=True)])
    insert_rows(Plan, PLAN_COLUMNS, [(pk, "", None, "", "") for pk in ids])
    insert_rows(
        HouseholdEvent, EVENT_COLUMNS, [reader.event_row(pk, c) for pk, c in zip(ids, fresh, strict=True)]
    )
    outcome.created += len(fresh)
