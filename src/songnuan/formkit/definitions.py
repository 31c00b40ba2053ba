"""Statistical tables (forms) as data: the data model and the loader of form definition files.

A form definition is a TOML file (see docs/forms.md). Loading validates its structure and reports every
problem in Chinese with the file and the place in it; it never returns a half-read form.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from songnuan.formkit.i18n import gettext as _

#: The units the notice's tables use; a unit outside this list is a typo in a definition file.
UNITS: tuple[str, ...] = (
    "家",
    "人",
    "户",
    "万元",
    "次",
    "场次",
    "人次",
    "个",
    "列",
    "节",
    "辆",
    "艘",
    "架",
    "张",
    "件",
    "是/否",
)
MONEY_UNIT = "万元"
YES_NO_UNIT = "是/否"
#: Money is reported in 万元 with at most this many decimal places (1 元 = 0.0001 万元).
MONEY_DECIMAL_PLACES = 4
ITEM_CODE_PATTERN = re.compile(r"^[1-9][0-9]?[A-Z][1-9]?$")
FORM_CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class ItemKind(StrEnum):
    COUNT = "count"  # a non-negative whole number (家, 人, 户, 人次 …)
    MONEY = "money"  # a non-negative decimal in 万元, at most 4 decimal places
    YES_NO = "yes-no"  # 是 or 否


class Severity(StrEnum):
    ERROR = "error"  # 强制性审核: the table cannot be submitted
    WARNING = "warning"  # 核实性审核: it can be submitted with a written explanation


class LetterStyle(StrEnum):
    PLAIN = "plain"  # A
    PARENTHESIZED = "parenthesized"  # （A）, as 附件2 prints it


class FormDefinitionError(ValueError):
    """A form definition file is malformed; the message lists every problem found."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(
            _("表样定义文件 {source} 有误：\n{problems}").format(
                source=source, problems="\n".join(f"  - {p}" for p in problems)
            )
        )


# --- derivations from the relief ledger (`ledger = { … }` on an item; see docs/forms.md) -------------------

#: The ledger's record kinds, and per kind the filters (field → what it names) and the measures it takes.
LEDGER_RECORDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    # 帮扶发放记录: approved only, reversals net out.
    "help": (
        frozenset(
            {
                "item",  # help item code (生活救助 living …)
                "item_form_item",  # the 附件1 item the help item counts in (HelpItem.form_item)
                "source",  # fund source code
                "source_form_item",  # the 附件1 item the fund source counts in (FundSource.form_item)
                "recipient",  # household, person, enterprise
                "household_category",  # worker, migrant, model-worker (the archive's categories)
                "person_category",  # frontline, model-worker, talent, migrant, worker
                "enterprise_kind",  # needy, capacity-cut, restructuring, resource-exhausted, other
                "channel",  # union-card, bank-card, goods, cash
            }
        ),
        frozenset({"records", "households", "persons", "amount", "goods_value", "value", "goods_quantity"}),
    ),
    # 筹集资金: money a unit raised itself (allocations from above are not raised again).
    "receipts": (frozenset({"source", "source_form_item"}), frozenset({"records", "amount"})),
    # 送温暖活动记录 (visits, services, trips, media …).
    "activities": (frozenset({"kind", "subkind"}), frozenset({"records", "people", "quantity", "amount"})),
    # 户外劳动者服务站点: open on the campaign's last day.
    "stations": (frozenset(), frozenset({"records"})),
}
#: Measures in yuan: they fill 万元 items (÷ 10,000, 4 decimals); every other measure fills count items.
LEDGER_MONEY_MEASURES = frozenset({"amount", "goods_value", "value"})
_DERIVATION_KEYS = {"records", "where", "measure", "items"}


@dataclass(frozen=True, slots=True)
class Derivation:
    """An item's value from the ledger: the records of one kind that pass every filter (a field's value is one
    of the given codes), measured (counted, distinct-counted or summed); or the sum of other items'
    derivations
    (`items`)."""

    records: str = ""
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()
    measure: str = ""
    items: tuple[str, ...] = ()

    @property
    def is_money(self) -> bool:
        return self.measure in LEDGER_MONEY_MEASURES


def _load_derivation(raw: Any, where: str, unit: str, problems: _Problems) -> Derivation | None:
    """`ledger = { records = "activities", where = { kind = "wages" }, measure = "amount" }`, checked against
    the grammar (`LEDGER_RECORDS`); the codes a filter names are checked by the ledger (its vocabulary)."""
    where = _("{where}的台账取数“ledger”").format(where=where)
    if not _is_table_of(raw, _DERIVATION_KEYS, where, problems):
        return None
    items = raw.get("items")
    if items is not None:
        if set(raw) != {"items"}:
            problems.add(
                _("{where}：写了“items”（其他项目之和）就不能再写 records、where、measure").format(
                    where=where
                )
            )
            return None
        if (
            not isinstance(items, list)
            or len(items) < 2
            or not all(isinstance(code, str) and ITEM_CODE_PATTERN.match(code) for code in items)
        ):
            problems.add(_('{where}的“items”应为两个以上项目代码的列表，如 ["9C", "9E"]').format(where=where))
            return None
        return Derivation(items=tuple(items))
    records = raw.get("records")
    if records not in LEDGER_RECORDS:
        problems.add(
            _("{where}的记录类型“records”应为 {kinds} 之一，而不是“{v}”").format(
                where=where, kinds="、".join(LEDGER_RECORDS), v=records
            )
        )
        return None
    fields, measures = LEDGER_RECORDS[records]
    measure = raw.get("measure")
    if measure not in measures:
        problems.add(
            _("{where}：{records} 记录的取数方式“measure”应为 {measures} 之一，而不是“{v}”").format(
                where=where, records=records, measures="、".join(sorted(measures)), v=measure
            )
        )
        return None
    money = measure in LEDGER_MONEY_MEASURES
    if money != (unit == MONEY_UNIT):
        problems.add(
            _("{where}：取数方式“{measure}”是{what}，与项目的计量单位“{unit}”不符").format(
                where=where,
                measure=measure,
                what=_("金额（元，折算为万元）") if money else _("个数"),
                unit=unit,
            )
        )
    filters: list[tuple[str, tuple[str, ...]]] = []
    raw_where = raw.get("where", {})
    if not isinstance(raw_where, dict):
        problems.add(_("{where}的“where”应为“字段 = 代码”或“字段 = [代码, …]”的表").format(where=where))
        return None
    for key, value in raw_where.items():
        if key not in fields:
            problems.add(
                _("{where}：{records} 记录没有筛选字段“{key}”（可用：{fields}）").format(
                    where=where, records=records, key=key, fields="、".join(sorted(fields)) or "—"
                )
            )
            continue
        codes = [value] if isinstance(value, str) else value
        if not isinstance(codes, list) or not codes or not all(isinstance(c, str) and c for c in codes):
            problems.add(_("{where}：筛选字段“{key}”的值应为代码或代码列表").format(where=where, key=key))
            continue
        filters.append((key, tuple(codes)))
    return Derivation(records=records, where=tuple(sorted(filters)), measure=measure)


@dataclass(frozen=True, slots=True)
class Item:
    """One row of a form: 编号 + letter, the label as printed, its unit and value kind."""

    code: str
    number: str
    letter: str
    label: str
    unit: str
    kind: ItemKind
    index: int
    level: int = 0
    parent: str | None = None
    parts: bool = False
    formula: str | None = None
    #: The households of the needy-worker archive this item counts (`ARCHIVE_CATEGORIES`): the entry page
    #: shows how many are filed beside it.
    archive_category: str | None = None
    #: How the item is derived from the relief ledger (`ledger = { … }` in the form file), or None.
    derivation: Derivation | None = None
    #: Why the item cannot be derived from the ledger (`ledger_none = "…"`), or None.
    ledger_none: str | None = None

    @property
    def name(self) -> str:
        """The label without the leading “其中，” and the trailing unit, for messages."""
        name = re.sub(r"^其中[，,、]?", "", self.label.strip())
        return re.sub(r"[（(][^（）()]*[）)]\s*$", "", name).strip() or self.label

    @property
    def printed_letter(self) -> str:
        return self.letter


@dataclass(frozen=True, slots=True)
class RuleDefinition:
    """A rule as written in a definition file (or generated from the items' “其中” structure)."""

    id: str
    check: str
    severity: Severity = Severity.ERROR
    when: str | None = None
    message: str | None = None
    #: An accepted reading: why the check departs from the printed formula or adds different units.
    reading: str | None = None
    generated: bool = False


@dataclass(frozen=True)
class Form:
    code: str
    attachment: str
    title: str
    items: tuple[Item, ...]
    rules: tuple[RuleDefinition, ...]
    notes: tuple[str, ...] = ()
    letter_style: LetterStyle = LetterStyle.PLAIN
    source: str = ""
    header_fields: tuple[str, ...] = ("填报单位", "填报人", "电话", "日期")
    #: The form code last year's tables were filled on ("" = this form's own code), and the items whose
    #: code changed since: (this year's code, last year's code; "" = no counterpart). See `previous_item`.
    previous_form: str = ""
    previous_items: tuple[tuple[str, str], ...] = ()
    _by_code: dict[str, Item] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_code.update({item.code: item for item in self.items})

    def item(self, code: str) -> Item:
        return self._by_code[code]

    def has_item(self, code: str) -> bool:
        return code in self._by_code

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(item.code for item in self.items)

    def printed_letter(self, item: Item) -> str:
        if not item.letter:
            return ""
        return f"（{item.letter}）" if self.letter_style is LetterStyle.PARENTHESIZED else item.letter

    @property
    def previous_form_code(self) -> str:
        """The form code of last year's table that this form is compared with."""
        return self.previous_form or self.code

    def previous_item(self, code: str) -> str | None:
        """Last year's item code for this year's item `code`: the same code unless the file maps it; None
        when the file says the item has no counterpart last year, or it is a yes/no item (no ratio)."""
        if not self.has_item(code) or self.item(code).kind is ItemKind.YES_NO:
            return None
        mapped = dict(self.previous_items).get(code, code)
        return mapped or None

    def rule(self, rule_id: str) -> RuleDefinition:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def full_rule_id(self, rule_id: str) -> str:
        return f"{self.code}.{rule_id}"

    @cached_property
    def children(self) -> Mapping[str, tuple[Item, ...]]:
        by_parent: dict[str, list[Item]] = {}
        for item in self.items:
            if item.parent:
                by_parent.setdefault(item.parent, []).append(item)
        return {code: tuple(items) for code, items in by_parent.items()}

    def groups(self) -> Iterator[tuple[str, tuple[Item, ...]]]:
        """The items grouped by their printed 编号, in order."""
        current: list[Item] = []
        for item in self.items:
            if current and item.number != current[0].number:
                yield current[0].number, tuple(current)
                current = []
            current.append(item)
        if current:
            yield current[0].number, tuple(current)


def kind_for_unit(unit: str) -> ItemKind:
    if unit == MONEY_UNIT:
        return ItemKind.MONEY
    if unit == YES_NO_UNIT:
        return ItemKind.YES_NO
    return ItemKind.COUNT


# --- loading ---------------------------------------------------------------------------------------------


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, message: str) -> None:
        self.items.append(message)


def _is_table_of(raw: Any, keys: set[str], where: str, problems: _Problems) -> bool:
    """Whether `raw` is a TOML table; notes each key it has that is not one of `keys`."""
    if not isinstance(raw, dict):
        problems.add(_("{where}格式不对").format(where=where))
        return False
    for key in raw:
        if key not in keys:
            problems.add(_("{where}有未知字段“{key}”").format(where=where, key=key))
    return True


def _text(
    data: Mapping[str, Any], key: str, where: str, problems: _Problems, *, required: bool = True
) -> str:
    value = data.get(key)
    if value is None:
        if required:
            problems.add(_("{where}缺少字段“{key}”").format(where=where, key=key))
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        problems.add(_("{where}的字段“{key}”应为非空文字").format(where=where, key=key))
        return ""
    return value


def form_from_mapping(data: Mapping[str, Any], source: str) -> Form:
    """Build a Form from parsed TOML, collecting every structural problem before failing."""
    problems = _Problems()
    known_top = {"code", "attachment", "title", "notes", "letter_style", "groups", "rules", "previous"}
    for key in data:
        if key not in known_top:
            problems.add(_("未知的顶层字段“{key}”").format(key=key))
    code = _text(data, "code", _("表样"), problems)
    if code and not FORM_CODE_PATTERN.match(code):
        problems.add(_("表样代码“{code}”只能含小写字母、数字和连字符").format(code=code))
    attachment = _text(data, "attachment", _("表样"), problems, required=False)
    title = _text(data, "title", _("表样"), problems)
    notes = data.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        problems.add(_("“notes”应为文字列表"))
        notes = []
    style_text = data.get("letter_style", LetterStyle.PLAIN.value)
    try:
        letter_style = LetterStyle(style_text)
    except ValueError:
        problems.add(_("“letter_style”应为 plain 或 parenthesized，而不是“{v}”").format(v=style_text))
        letter_style = LetterStyle.PLAIN

    items = _load_items(data.get("groups"), problems)
    rules = _load_rules(data.get("rules", []), problems)
    codes = {item.code for item in items}
    for item in items:
        if item.parent and item.parent not in codes:
            problems.add(
                _("项目 {code} 的上级项目 {parent} 不存在").format(code=item.code, parent=item.parent)
            )
        _check_summed_derivation(item, {i.code: i for i in items}, problems)
    previous_form, previous_items = _load_previous(data.get("previous"), problems)
    if problems.items:
        raise FormDefinitionError(source, problems.items)
    return Form(
        code=code,
        attachment=attachment,
        title=title,
        items=tuple(items),
        rules=tuple(rules),
        notes=tuple(notes),
        letter_style=letter_style,
        source=source,
        previous_form=previous_form,
        previous_items=previous_items,
    )


def _check_summed_derivation(item: Item, by_code: Mapping[str, Item], problems: _Problems) -> None:
    """`ledger = { items = [...] }`: each summed item exists, has the same unit and a ledger derivation of its
    own (not another sum, so that no sum can loop)."""
    if item.derivation is None or not item.derivation.items:
        return
    for code in item.derivation.items:
        part = by_code.get(code)
        if part is None or part.derivation is None or part.derivation.items:
            problems.add(
                _("项目 {code} 的台账取数把 {part} 相加，但 {part} 不存在或没有自己的台账取数").format(
                    code=item.code, part=code
                )
            )
        elif part.kind is not item.kind:
            problems.add(
                _("项目 {code} 的台账取数把 {part} 相加，但两者计量单位不同（{unit}、{other}）").format(
                    code=item.code, part=code, unit=item.unit, other=part.unit
                )
            )


def _load_previous(raw: Any, problems: _Problems) -> tuple[str, tuple[tuple[str, str], ...]]:
    """`[previous]`: `form` (last year's form code) and `items` (this year's code = last year's code, or ""
    for an item that had no counterpart). Only the shape is checked here; whether the codes exist is the
    linter's business (it knows the other forms)."""
    if raw is None:
        return "", ()
    where = _("“previous”（上年对照）")
    if not _is_table_of(raw, {"form", "items"}, where, problems):
        return "", ()
    form_code = raw.get("form", "")
    if not isinstance(form_code, str) or (form_code and not FORM_CODE_PATTERN.match(form_code)):
        problems.add(
            _("{where}的“form”应为表样代码（小写字母、数字和连字符），而不是“{v}”").format(
                where=where, v=form_code
            )
        )
        form_code = ""
    items = raw.get("items", {})
    pairs: list[tuple[str, str]] = []
    if not isinstance(items, dict):
        problems.add(_("{where}的“items”应为“本年项目代码 = 上年项目代码”的表").format(where=where))
        return form_code, ()
    for code, earlier in items.items():
        if not ITEM_CODE_PATTERN.match(code):
            problems.add(
                _("{where}中的本年项目代码“{code}”不合格式（如 3A、2B1）").format(where=where, code=code)
            )
            continue
        if not isinstance(earlier, str) or (earlier and not ITEM_CODE_PATTERN.match(earlier)):
            problems.add(
                _(
                    '{where}中项目 {code} 对应的上年项目代码“{v}”不合格式（如 3A；没有对应项目写空文字 ""）'
                ).format(where=where, code=code, v=earlier)
            )
            continue
        pairs.append((code, earlier))
    return form_code, tuple(pairs)


_ITEM_KEYS = {
    "code",
    "letter",
    "label",
    "unit",
    "level",
    "parent",
    "parts",
    "formula",
    "archive_category",
    "ledger",
    "ledger_none",
}
#: Categories of the needy-worker archive an item may count (`archive_category`): all filed households, or one
#: category (the archive's own names: 困难职工, 困难农民工, 困难劳模).
ARCHIVE_CATEGORIES = ("all", "worker", "migrant", "model-worker")


def _load_items(groups: Any, problems: _Problems) -> list[Item]:
    items: list[Item] = []
    seen: set[str] = set()
    if not isinstance(groups, list) or not groups:
        problems.add(_("缺少项目分组“[[groups]]”"))
        return items
    for group_index, group in enumerate(groups, start=1):
        where = _("第{n}个分组").format(n=group_index)
        if not isinstance(group, dict):
            problems.add(_("{where}格式不对").format(where=where))
            continue
        number = group.get("number")
        if not isinstance(number, int) or number < 1:
            problems.add(_("{where}的编号“number”应为正整数").format(where=where))
            continue
        raw_items = group.get("items")
        if not isinstance(raw_items, list) or not raw_items:
            problems.add(_("{where}（编号{number}）没有项目").format(where=where, number=number))
            continue
        for position, raw in enumerate(raw_items, start=1):
            item_where = _("编号{number}的第{p}个项目").format(number=number, p=position)
            if not _is_table_of(raw, _ITEM_KEYS, item_where, problems):
                continue
            letter = raw.get("letter", "")
            code = raw.get("code") or f"{number}{letter}"
            if not isinstance(code, str) or not ITEM_CODE_PATTERN.match(code):
                problems.add(
                    _("{where}的代码“{code}”不合格式（如 3A、2B1）").format(where=item_where, code=code)
                )
                continue
            if not code.startswith(str(number)) or not code[len(str(number))].isalpha():
                problems.add(
                    _("{where}的代码“{code}”与编号{number}不符").format(
                        where=item_where, code=code, number=number
                    )
                )
            if code in seen:
                problems.add(_("项目代码 {code} 重复").format(code=code))
            seen.add(code)
            label = _text(raw, "label", item_where, problems)
            unit = _text(raw, "unit", item_where, problems)
            if unit and unit not in UNITS:
                problems.add(
                    _("{where}的计量单位“{unit}”不在允许的单位中：{units}").format(
                        where=item_where, unit=unit, units="、".join(UNITS)
                    )
                )
            level = raw.get("level", 0)
            if not isinstance(level, int) or not 0 <= level <= 3:
                problems.add(_("{where}的层级“level”应为0至3").format(where=item_where))
                level = 0
            parent = raw.get("parent")
            if parent is not None and not isinstance(parent, str):
                problems.add(_("{where}的“parent”应为项目代码").format(where=item_where))
                parent = None
            formula = raw.get("formula")
            if formula is not None and not isinstance(formula, str):
                problems.add(_("{where}的“formula”应为文字").format(where=item_where))
                formula = None
            archive_category = raw.get("archive_category")
            if archive_category is not None and archive_category not in ARCHIVE_CATEGORIES:
                problems.add(
                    _("{where}的“archive_category”应为 {values} 之一").format(
                        where=item_where, values="、".join(ARCHIVE_CATEGORIES)
                    )
                )
                archive_category = None
            derivation = (
                _load_derivation(raw["ledger"], item_where, unit, problems) if "ledger" in raw else None
            )
            ledger_none = raw.get("ledger_none")
            if ledger_none is not None and (not isinstance(ledger_none, str) or len(ledger_none.strip()) < 4):
                problems.add(_("{where}的“ledger_none”须写明不能从台账取数的理由").format(where=item_where))
                ledger_none = None
            if derivation is not None and ledger_none is not None:
                problems.add(_("{where}不能同时写“ledger”和“ledger_none”").format(where=item_where))
            items.append(
                Item(
                    code=code,
                    number=str(number),
                    letter=letter if isinstance(letter, str) else "",
                    label=label,
                    unit=unit,
                    kind=kind_for_unit(unit),
                    index=len(items),
                    level=level,
                    parent=parent,
                    parts=bool(raw.get("parts", False)),
                    formula=formula,
                    archive_category=archive_category,
                    derivation=derivation,
                    ledger_none=ledger_none,
                )
            )
    return items


_RULE_KEYS = {"id", "check", "severity", "when", "message", "reading"}


def _load_rules(raw_rules: Any, problems: _Problems) -> list[RuleDefinition]:
    rules: list[RuleDefinition] = []
    if not isinstance(raw_rules, list):
        problems.add(_("“rules”应为规则列表"))
        return rules
    seen: set[str] = set()
    for position, raw in enumerate(raw_rules, start=1):
        where = _("第{n}条规则").format(n=position)
        if not _is_table_of(raw, _RULE_KEYS, where, problems):
            continue
        rule_id = _text(raw, "id", where, problems)
        if rule_id in seen:
            problems.add(_("规则编号 {id} 重复").format(id=rule_id))
        seen.add(rule_id)
        check = _text(raw, "check", where, problems)
        try:
            severity = Severity(raw.get("severity", Severity.ERROR.value))
        except ValueError:
            problems.add(_("{where}的“severity”应为 error 或 warning").format(where=where))
            severity = Severity.ERROR
        reading = raw.get("reading")
        if reading is not None and (not isinstance(reading, str) or len(reading.strip()) < 4):
            problems.add(_("{where}的“reading”（认可的理解）须写明理由").format(where=where))
        rules.append(
            RuleDefinition(
                id=rule_id,
                check=check,
                severity=severity,
                when=raw.get("when"),
                message=raw.get("message"),
                reading=reading,
            )
        )
    return rules


def load_form(path: str | Path) -> Form:
    """Read one form definition file; raises FormDefinitionError with a Chinese message."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FormDefinitionError(str(path), [_("文件不存在")]) from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise FormDefinitionError(str(path), [_("不是合格的 UTF-8 TOML 文件：{e}").format(e=exc)]) from None
    return form_from_mapping(data, str(path))


def builtin_form_paths() -> list[Path]:
    folder = resources.files("songnuan.formkit") / "data"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".toml"))


_BUILTIN_CACHE: dict[str, Form] = {}


def builtin_forms() -> dict[str, Form]:
    """The forms shipped with the package, by code (loaded once per process)."""
    if not _BUILTIN_CACHE:
        for path in builtin_form_paths():
            form = load_form(path)
            _BUILTIN_CACHE[form.code] = form
    return dict(_BUILTIN_CACHE)


def get_form(code: str) -> Form:
    forms = builtin_forms()
    if code not in forms:
        raise KeyError(code)
    return forms[code]
