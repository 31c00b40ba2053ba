"""The roll-up of a unit's subtree (one GROUP BY), its page with the drill-down, and the comparison grid."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Substr
from django.utils.translation import gettext as _

from songnuan.campaigns.models import Campaign
from songnuan.formkit.definitions import Form, Item, ItemKind, get_form
from songnuan.formkit.engine import CheckResult, Value, compiled, value_text
from songnuan.formkit.rollup import combine, combine_tables
from songnuan.orgs.models import PATH_DIGITS, Unit, path_segment
from songnuan.orgs.selectors import unit_subtree
from songnuan.reporting.catalogue import PrintedRow, printed_rows
from songnuan.reporting.models import Submission, SubmissionValue
from songnuan.reporting.progress import SubmissionState, tree_order

#: Per item: the sum of the numbers, and how many said 是 or 否 (yes/no items).
_SUMS = {
    "total": Sum("number"),
    "yes": Count("pk", filter=Q(text="是")),
    "no": Count("pk", filter=Q(text="否")),
}


def _accepted_values(campaign: Campaign, form_code: str, unit: Unit) -> QuerySet[SubmissionValue]:
    """The values of the accepted tables of this form from `unit` and every unit below it."""
    return SubmissionValue.objects.filter(
        submission__campaign=campaign,
        submission__form_code=form_code,
        submission__status=Submission.Status.ACCEPTED,
        submission__unit__path__startswith=unit.path,
    )


def rollup(campaign: Campaign, form_code: str, unit: Unit) -> dict[str, Value]:
    """The sum of the accepted tables of `unit` and every unit below it, item by item, in one GROUP BY.

    Blank stays blank: an item no accepted table filled is None, not 0. A yes/no item is 是 when any table
    says 是, 否 when all that filled it say 否.
    """
    form = get_form(form_code)
    rows = _accepted_values(campaign, form_code, unit).values("item").annotate(**_SUMS)
    return _totals(form, {row["item"]: row for row in rows})


def rollup_by_child(campaign: Campaign, form_code: str, unit: Unit) -> dict[int, dict[str, Value]]:
    """For the drill-down and the comparison grid: per child of `unit` (and `unit` itself, by its own id), the
    roll-up of that child's subtree — one GROUP BY over the path prefix."""
    form = get_form(form_code)
    prefix_length = len(unit.path) + len(path_segment(0))  # a child's path: the parent's plus "000123/"
    rows = (
        _accepted_values(campaign, form_code, unit)
        .annotate(branch=Substr("submission__unit__path", 1, prefix_length))
        .values("branch", "item")
        .annotate(**_SUMS)
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


def _shown(value: Value) -> str:
    return value_text(value)


@dataclass
class SubtreeTable(SubmissionState):
    unit: Unit
    submission: Submission | None


def subtree_tables(campaign: Campaign, form_code: str, unit: Unit) -> list[SubtreeTable]:
    """Every unit of the subtree (the unit first, then in tree order) with its table of this form."""
    units = tree_order(unit_subtree(unit))
    found = {
        s.unit_id: s
        for s in Submission.objects.filter(campaign=campaign, form_code=form_code, unit__in=units)
    }
    return [SubtreeTable(u, found.get(u.pk)) for u in units]


@dataclass
class RollupPart:
    """One column of the grid or one line of a drill-down: a child's subtree, the unit's own table, or
    the children the viewer may not see one by one (together)."""

    kind: str  # "child", "own", "hidden", "total"
    title: str
    unit: Unit | None
    values: dict[str, Value]
    accepted: int
    expected: int


@dataclass
class DrillDown:
    item: Item
    total: Value
    lines: list[tuple[RollupPart, Value]]
    parts_sum: Value

    @property
    def total_shown(self) -> str:
        return _shown(self.total)

    @property
    def parts_sum_shown(self) -> str:
        return _shown(self.parts_sum)

    @property
    def adds_up(self) -> bool:
        return self.parts_sum == self.total

    @property
    def shown_lines(self) -> list[tuple[RollupPart, str]]:
        return [(part, _shown(value)) for part, value in self.lines]


def rollup_parts(
    campaign: Campaign, form: Form, unit: Unit, visible: Callable[[Unit], bool]
) -> tuple[list[RollupPart], list[SubtreeTable]]:
    """The unit's children (each its subtree's roll-up), then its own table, then — if any child may not
    be seen one by one — those children together; with the subtree's tables for the counts."""
    tables = subtree_tables(campaign, form.code, unit)
    by_child = rollup_by_child(campaign, form.code, unit)
    children = [t.unit for t in tables if t.unit.parent_id == unit.pk]
    branch_of = {t.unit.pk: _branch(t.unit, unit) for t in tables}
    accepted: dict[int, int] = {}
    expected: dict[int, int] = {}
    for table in tables:
        branch = branch_of[table.unit.pk]
        expected[branch] = expected.get(branch, 0) + 1
        if table.state == Submission.Status.ACCEPTED:
            accepted[branch] = accepted.get(branch, 0) + 1
    blank: dict[str, Value] = dict.fromkeys(form.codes)
    parts: list[RollupPart] = []
    hidden: list[Unit] = []
    for child in children:
        if not visible(child):
            hidden.append(child)
            continue
        parts.append(
            RollupPart(
                "child",
                child.name,
                child,
                by_child.get(child.pk, blank),
                accepted.get(child.pk, 0),
                expected.get(child.pk, 0),
            )
        )
    parts.append(
        RollupPart(
            "own",
            _("{unit}（本级）").format(unit=unit.name),
            unit,
            by_child.get(unit.pk, blank),
            accepted.get(unit.pk, 0),
            expected.get(unit.pk, 0),
        )
    )
    if hidden:
        parts.append(
            RollupPart(
                "hidden",
                _("其他下级单位（{n}个，合计）").format(n=len(hidden)),
                None,
                combine_tables(form, [by_child.get(c.pk, blank) for c in hidden]),
                sum(accepted.get(c.pk, 0) for c in hidden),
                sum(expected.get(c.pk, 0) for c in hidden),
            )
        )
    return parts, tables


def _branch(member: Unit, top: Unit) -> int:
    """The id of the child of `top` whose subtree holds `member` (top's own id for top itself)."""
    if member.pk == top.pk:
        return top.pk
    return int(member.path[len(top.path) : len(top.path) + PATH_DIGITS])


@dataclass
class RollupPage:
    campaign: Campaign
    form: Form
    unit: Unit
    values: dict[str, Value]
    result: CheckResult
    rows: list[PrintedRow]
    parts: list[RollupPart]
    accepted: int
    expected: int
    pending: list[SubtreeTable]  # tables of the subtree not (yet) in the roll-up
    drilldown: DrillDown | None


def rollup_page(
    campaign: Campaign,
    form: Form,
    unit: Unit,
    *,
    visible: Callable[[Unit], bool],
    item_code: str | None = None,
) -> RollupPage:
    """The roll-up of `unit` as printed, with the rules checked again on the totals, the tables counted,
    and — for `item_code` — the drill-down: each child's subtotal and the unit's own value."""
    values = rollup(campaign, form.code, unit)
    result = compiled(form).validate(values)
    parts, tables = rollup_parts(campaign, form, unit, visible)
    accepted = [t for t in tables if t.state == Submission.Status.ACCEPTED]
    drilldown = None
    if item_code and form.has_item(item_code):
        item = form.item(item_code)
        lines = [(part, part.values.get(item.code)) for part in parts]
        parts_sum = combine((value for _part, value in lines), item.kind)
        drilldown = DrillDown(item, values.get(item.code), lines, parts_sum)
    return RollupPage(
        campaign=campaign,
        form=form,
        unit=unit,
        values=values,
        result=result,
        rows=printed_rows(form, values, result),
        parts=parts,
        accepted=len(accepted),
        expected=len(tables),
        pending=[t for t in tables if t.state != Submission.Status.ACCEPTED],
        drilldown=drilldown,
    )


@dataclass
class GridRow:
    item: Item
    number: str
    letter: str
    cells: list[Value]

    @property
    def shown(self) -> list[str]:
        return [_shown(value) for value in self.cells]


@dataclass
class Grid:
    campaign: Campaign
    form: Form
    unit: Unit
    columns: list[RollupPart]  # the parts, then the total
    rows: list[GridRow]


def comparison_grid(campaign: Campaign, form: Form, unit: Unit, *, visible: Callable[[Unit], bool]) -> Grid:
    """Items as rows; the unit's children (subtree roll-ups), its own table and the total as columns."""
    parts, tables = rollup_parts(campaign, form, unit, visible)
    total = RollupPart(
        "total",
        _("合计"),
        unit,
        rollup(campaign, form.code, unit),
        len([t for t in tables if t.state == Submission.Status.ACCEPTED]),
        len(tables),
    )
    columns = [*parts, total]
    rows = [
        GridRow(item, item.number, form.printed_letter(item), [c.values.get(item.code) for c in columns])
        for item in form.items
    ]
    return Grid(campaign, form, unit, columns, rows)


def visible_ancestors(unit: Unit, visible: Callable[[Unit], bool]) -> list[Unit]:
    """The units above `unit` that the viewer may see, top first (for the way back up)."""
    ids = [int(part) for part in unit.path.rstrip("/").split("/")[:-1]]
    above = {u.pk: u for u in Unit.objects.filter(pk__in=ids)}
    return [above[i] for i in ids if i in above and visible(above[i])]
