"""Import campaign activities from the lists units keep of them: media reports, return trips and visits.

The file is read by `songnuan.formkit.list_reader` (.xlsx/.xls/.ods/.csv in UTF-8 or GBK); columns are found
by their usual headers (compared without spaces, brackets or units). Every row is checked by the rules of
`songnuan.ledger.activities`; each bad row comes back with a Chinese reason naming its row and column, and
the good rows go in together, in one transaction, with one history entry for the import — or, when the file
itself cannot be used (unreadable, a needed column missing), nothing at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from songnuan.archive.services import as_text
from songnuan.campaigns.models import Campaign
from songnuan.formkit.list_reader import UnreadableFile, open_list
from songnuan.formkit.values import BLANK_MARKS, DATE_TEXT, decimal_from_float, normalize_text
from songnuan.ledger import rules
from songnuan.ledger.activities import (
    ENTERPRISE_KINDS,
    MEDIA_LEVELS,
    VEHICLES,
    ActivityInput,
    Kind,
    activities_add_many,
    check_activity,
    counted_household,
)
from songnuan.ledger.models import Activity, Station, Team
from songnuan.ledger.services import LedgerError
from songnuan.orgs.models import Unit
from songnuan.orgs.permissions import may_enter_ledger


class ImportRefused(Exception):
    """The file as a whole cannot be imported; the Chinese message says why. Nothing was written."""


@dataclass(frozen=True)
class Column:
    name: str  # an ActivityInput field, or "team" (a team's name)
    label: str  # the heading the template writes
    synonyms: tuple[str, ...]
    required: bool = False


@dataclass(frozen=True)
class ListKind:
    code: str
    title: Any
    columns: tuple[Column, ...]
    kind: str = ""  # the activity kind of every row, or "" when a column says it


_DATE = Column(
    "on",
    "日期",
    ("日期", "活动日期", "报道日期", "刊播日期", "发车日期", "出发日期", "走访日期", "时间"),
    True,
)
_NOTE = Column("note", "备注", ("备注", "说明"))

LISTS: dict[str, ListKind] = {
    "media": ListKind(
        "media",
        gettext_lazy("新闻媒体报道"),
        (
            Column("subkind", "级别", ("级别", "媒体级别", "报道级别", "类别"), True),
            Column("place", "媒体", ("媒体", "媒体名称", "报道媒体", "刊播媒体", "展示场所"), True),
            _DATE,
            Column("title", "标题", ("标题", "报道标题", "题目", "名称"), True),
            Column("link", "链接", ("链接", "网址", "网页链接", "url")),
            _NOTE,
        ),
        Kind.MEDIA,
    ),
    "return-trip": ListKind(
        "return-trip",
        gettext_lazy("农民工返乡包车（船、机）"),
        (
            Column("subkind", "交通工具", ("交通工具", "包车类型", "运输方式", "方式", "类型"), True),
            Column("quantity", "数量", ("数量", "包租数量", "车辆数", "辆数", "车次"), True),
            Column("people", "运送人数", ("运送人数", "运送农民工", "运送人次", "人数", "人次"), True),
            _DATE,
            Column("place", "线路", ("线路", "路线", "目的地", "起止地点")),
            Column("amount", "费用（元）", ("费用", "金额", "包车费用")),
            _NOTE,
        ),
        Kind.RETURN_TRIP,
    ),
    "visits": ListKind(
        "visits",
        gettext_lazy("走访慰问"),
        (
            Column("kind", "走访类型", ("走访类型", "活动类型", "慰问类型", "类型"), True),
            _DATE,
            Column("people", "人数（户数）", ("人数", "户数", "人次", "慰问人数", "走访户数")),
            Column("quantity", "企业数（家）", ("企业数", "走访企业数", "家数")),
            Column("subkind", "企业类型", ("企业类型", "企业困难类型", "困难类型")),
            Column("place", "对象或地点", ("对象或地点", "走访对象", "企业名称", "对象", "地点")),
            Column("household_id", "档案编号", ("档案编号", "档案号")),
            Column("team", "工作组", ("工作组", "联帮促工作组", "所属工作组")),
            _NOTE,
        ),
    ),
}

#: What people write in a 类型/级别/交通工具 cell, besides the codes and the labels themselves.
_VISIT_KINDS = {
    "走访企业": Kind.VISIT_ENTERPRISE,
    "企业": Kind.VISIT_ENTERPRISE,
    "慰问一线职工": Kind.VISIT_FRONTLINE,
    "一线职工": Kind.VISIT_FRONTLINE,
    "慰问工匠劳模、技能人才、学科带头人": Kind.VISIT_TALENT,
    "工匠劳模": Kind.VISIT_TALENT,
    "技能人才": Kind.VISIT_TALENT,
    "专业人才": Kind.VISIT_TALENT,
    "学科带头人": Kind.VISIT_TALENT,
    "走访困难家庭": Kind.VISIT_HOUSEHOLD,
    "困难家庭": Kind.VISIT_HOUSEHOLD,
    "送政策到户": Kind.POLICY,
    "送政策": Kind.POLICY,
}
_VISITS = (Kind.VISIT_ENTERPRISE, Kind.VISIT_FRONTLINE, Kind.VISIT_TALENT, Kind.VISIT_HOUSEHOLD, Kind.POLICY)
_SUBKIND_WORDS = {
    "subkind-media": {
        "中央": "central",
        "中央级": "central",
        "省级": "provincial",
        "省部级": "provincial",
        "省": "provincial",
        "成果展示": "exhibition",
        "市级": "local",
        "县级": "local",
        "市县级": "local",
        "展示": "exhibition",
    },
    "subkind-vehicle": {
        "火车专列": "train",
        "专列": "train",
        "车厢": "carriage",
        "火车": "carriage",
        "汽车": "coach",
        "大巴": "coach",
        "客车": "coach",
        "包车": "coach",
        "轮船": "boat",
        "船": "boat",
        "包机": "plane",
        "飞机": "plane",
    },
}
_BRACKETED = re.compile(r"[(（\[【].*?[)）\]】]")


def _key(text: str) -> str:
    return re.sub(r"[\s:：*＊]", "", _BRACKETED.sub("", normalize_text(text))).lower()


def guess_columns(list_kind: ListKind, header: Sequence[str]) -> dict[str, int]:
    """Column name → index from the header's wording; each column used once, exact wording first."""
    keys = [_key(text) for text in header]
    found: dict[str, int] = {}
    taken: set[int] = set()
    for exact in (True, False):
        for column in list_kind.columns:
            if column.name in found:
                continue
            for synonym in column.synonyms:
                index = next(
                    (
                        i
                        for i, key in enumerate(keys)
                        if i not in taken and key and (key == synonym if exact else synonym in key)
                    ),
                    None,
                )
                if index is not None:
                    found[column.name] = index
                    taken.add(index)
                    break
    return found


@dataclass
class RejectedRow:
    row: int  # as Excel shows it
    reasons: list[str]
    cells: list[str]


@dataclass
class ImportOutcome:
    file_name: str
    list_kind: str
    created: int = 0
    existing: int = 0  # rows imported before (this list again): nothing new
    rejected: list[RejectedRow] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.created + self.existing + len(self.rejected)


def import_key(list_code: str, data: ActivityInput, occurrence: int) -> str:
    """The row's content digest, and which of the file's identical rows it is (two coaches booked alike are
    two activities; the same list imported again is none)."""
    content = "\x1f".join(f"{name}={as_text(value)}" for name, value in sorted(vars(data).items()))
    return hashlib.sha256(f"{list_code}\x1e{content}\x1e{occurrence}".encode()).hexdigest()


class _CellError(ValueError):
    pass


def _blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and normalize_text(cell) in BLANK_MARKS)


def _text(cell: Any) -> str:
    if _blank(cell):
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, dt.datetime):
        return cell.date().isoformat()
    return str(cell).strip()


def _date(cell: Any) -> dt.date | None:
    if _blank(cell):
        return None
    if isinstance(cell, dt.datetime):
        return cell.date()
    if isinstance(cell, dt.date):
        return cell
    match = DATE_TEXT.fullmatch(normalize_text(str(cell)))
    if match:
        try:
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass
    raise _CellError(_("“{text}”不是日期（如 2018-01-25）").format(text=_text(cell)))


def _count(cell: Any) -> int | None:
    if _blank(cell):
        return None
    if isinstance(cell, bool):
        raise _CellError(_("应是整数"))
    if isinstance(cell, int):
        number: Decimal = Decimal(cell)
    elif isinstance(cell, float):
        number = decimal_from_float(cell)
    else:
        text = normalize_text(str(cell)).replace(",", "")
        text = re.sub(r"[人次户家辆列节艘架张个]+$", "", text)
        if not re.fullmatch(r"[+-]?\d+(\.0*)?", text):
            raise _CellError(_("“{text}”不是整数").format(text=_text(cell)))
        number = Decimal(text)
    if number != number.to_integral_value():
        raise _CellError(_("“{text}”不是整数").format(text=_text(cell)))
    return int(number)


def _amount(cell: Any) -> Decimal | None:
    if _blank(cell):
        return None
    value = decimal_from_float(cell) if isinstance(cell, float) else cell
    try:
        return rules.parse_yuan(value, allow_blank=True)
    except rules.AmountError as problem:
        raise _CellError(str(problem)) from None


def _choice(cell: Any, choices: Sequence[tuple[str, Any]], words: dict[str, str]) -> str:
    text = _text(cell)
    if not text:
        return ""
    key = _key(text)
    for code, label in choices:
        if key in (code, _key(str(label))):
            return code
    if key in words:
        return words[key]
    raise _CellError(
        _("“{text}”不在可选范围内（{choices}）").format(
            text=text, choices="、".join(str(label) for _code, label in choices)
        )
    )


def _kind(cell: Any) -> str:
    key = _key(_text(cell))
    for code in _VISITS:
        if key in (code, _key(str(Kind(code).label))):
            return code
    if key in _VISIT_KINDS:
        return _VISIT_KINDS[key]
    raise _CellError(
        _("“{text}”不是走访类型（走访企业、一线职工、工匠劳模、困难家庭、送政策到户）").format(
            text=_text(cell)
        )
    )


def _parse_row(
    list_kind: ListKind, columns: dict[str, int], cells: list[Any], teams: dict[str, Team]
) -> tuple[ActivityInput | None, dict[str, str]]:
    """The row as input, and the problem of each column that could not be read (column name → reason)."""

    def cell(name: str) -> Any:
        index = columns.get(name)
        return cells[index] if index is not None and index < len(cells) else None

    problems: dict[str, str] = {}
    values: dict[str, Any] = {}
    kind = list_kind.kind
    if not kind:
        try:
            kind = _kind(cell("kind")) if not _blank(cell("kind")) else ""
        except _CellError as problem:
            problems["kind"] = str(problem)
        if not kind and "kind" not in problems:
            problems["kind"] = _("请填写走访类型")
    readers: dict[str, Any] = {
        "on": _date,
        "people": _count,
        "quantity": _count,
        "household_id": _count,
        "amount": _amount,
    }
    for column in list_kind.columns:
        name = column.name
        if name in ("kind", "team") or name not in columns:
            continue
        try:
            if name == "subkind":
                if list_kind.code == "media":
                    values[name] = _choice(cell(name), MEDIA_LEVELS, _SUBKIND_WORDS["subkind-media"])
                elif list_kind.code == "return-trip":
                    values[name] = _choice(cell(name), VEHICLES, _SUBKIND_WORDS["subkind-vehicle"])
                elif kind == Kind.VISIT_ENTERPRISE:
                    values[name] = _choice(cell(name), ENTERPRISE_KINDS, {})
                elif not _blank(cell(name)):
                    problems[name] = _("只有走访企业填写企业类型")
            elif name in readers:
                values[name] = readers[name](cell(name))
            else:
                values[name] = _text(cell(name))
        except _CellError as problem:
            problems[name] = str(problem)
    team_name = _text(cell("team"))
    if team_name:
        team = teams.get(team_name)
        if team is None:
            problems["team"] = _("本单位没有名为“{name}”的工作组").format(name=team_name)
        else:
            values["team_id"] = team.pk
    if not kind:
        return None, problems
    return ActivityInput(kind=kind, on=values.pop("on", None), **values), problems


def import_activities(
    *, user: User, campaign: Campaign, unit: Unit, list_code: str, path: str | Path, file_name: str
) -> ImportOutcome:
    """Import the list at `path` (`list_code`: media, return-trip or visits) as activities of `unit`.

    ImportRefused (nothing written) when the file cannot be read or lacks a needed column; otherwise the good
    rows are written together and the bad ones come back, each with its reasons."""
    if not may_enter_ledger(user, unit):
        raise PermissionDenied(_("您不能为{unit}登记活动").format(unit=unit.name))
    list_kind = LISTS.get(list_code)
    if list_kind is None:
        raise ImportRefused(_("没有“{code}”这种活动清单").format(code=list_code))
    try:
        reading = open_list(path)
    except UnreadableFile as problem:
        raise ImportRefused(_("文件“{name}”：{problem}").format(name=file_name, problem=problem)) from None
    outcome = ImportOutcome(file_name=file_name, list_kind=list_code)
    good: list[ActivityInput] = []
    try:
        columns = guess_columns(list_kind, reading.header)
        missing = [c.label for c in list_kind.columns if c.required and c.name not in columns]
        if missing:
            raise ImportRefused(
                _("文件“{name}”第{row}行的表头中找不到这些列：{columns}").format(
                    name=file_name, row=reading.header_row, columns="、".join(missing)
                )
            )
        teams = {team.name: team for team in Team.objects.filter(campaign=campaign, unit=unit)}
        by_id = {team.pk: team for team in teams.values()}
        stations = {station.pk: station for station in Station.objects.filter(unit=unit)}
        labels = {c.name: c.label for c in list_kind.columns}
        labels["team_id"] = labels.get("team", "")
        letters = {name: _letter(index) for name, index in columns.items()}
        letters["team_id"] = letters.get("team", "")
        try:
            for number, cells in reading.rows:
                if all(_blank(cell) for cell in cells):
                    continue
                data, problems = _parse_row(list_kind, columns, cells, teams)
                reasons = [_reason(letters, labels, name, text) for name, text in problems.items()]
                if data is not None:
                    data = counted_household(data)
                    found = check_activity(
                        campaign=campaign, unit=unit, data=data, teams=by_id, stations=stations
                    )
                    # a cell that could not be read is reported once, as unreadable, not again as missing
                    unread = {"team_id" if name == "team" else name for name in problems}
                    reasons += [
                        _reason(letters, labels, p.field, p.message)
                        for p in found.errors
                        if p.field not in unread
                    ]
                if reasons:
                    outcome.rejected.append(
                        RejectedRow(
                            number,
                            [_("第{row}行{reason}").format(row=number, reason=r) for r in reasons],
                            [_text(c) for c in cells],
                        )
                    )
                elif data is not None:
                    good.append(data)
        except UnreadableFile as problem:
            raise ImportRefused(
                _("文件“{name}”：{problem}").format(name=file_name, problem=problem)
            ) from None
    finally:
        reading.close()
    seen: Counter[str] = Counter()
    keyed: list[tuple[str, ActivityInput]] = []
    for data in good:
        first = import_key(list_code, data, 0)
        seen[first] += 1
        keyed.append((import_key(list_code, data, seen[first] - 1), data))
    held = set(
        Activity.objects.filter(
            campaign=campaign, unit=unit, import_key__in=[key for key, _data in keyed]
        ).values_list("import_key", flat=True)
    )
    new = [(key, data) for key, data in keyed if key not in held]
    outcome.existing = len(keyed) - len(new)
    if new:
        note = _("导入“{name}”（{title}）：{n}条，已导入过{k}条，退回{m}行").format(
            name=file_name, title=list_kind.title, n=len(new), k=outcome.existing, m=len(outcome.rejected)
        )
        try:
            outcome.created = activities_add_many(
                user=user,
                campaign=campaign,
                unit=unit,
                rows=[data for _key, data in new],
                note=note,
                keys=[key for key, _data in new],
            )
        except LedgerError as problem:  # checked above: only a change made meanwhile gets here
            raise ImportRefused(problem.message) from None
    return outcome


def _letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _reason(letters: dict[str, str], labels: dict[str, str], name: str, text: str) -> str:
    if labels.get(name):
        return _("{letter}列“{label}”：{reason}").format(
            letter=letters.get(name, ""), label=labels[name], reason=text
        )
    return _("：{reason}").format(reason=text)


def template_header(list_code: str) -> list[str]:
    return [column.label for column in LISTS[list_code].columns]
