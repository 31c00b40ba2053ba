"""The roll-up of a unit's subtree (one GROUP BY), its page with the drill-down, and the comparison grid.

Levels (本级 / 全辖) follow the campaign's `reporting_scope`. OWN_LEVEL (the default): a unit's own table
holds its own level only (本级), and its whole area (全辖) is its own accepted table plus every accepted
table below. WHOLE_AREA: a unit's own table already holds its whole area, so its figure is that table alone;
the tables of its children are shown beside it for comparison and never added (that would count them twice).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from songnuan.campaigns.models import Campaign, ReportingScope
from songnuan.campaigns.selectors import units_taking_part
from songnuan.formkit.definitions import Form, Item, ItemKind, get_form
from songnuan.formkit.engine import CheckResult, Value, compiled, value_text
from songnuan.formkit.rollup import combine, combine_tables
from songnuan.orgs.models import Unit
from songnuan.orgs.selectors import unit_subtree
from songnuan.reporting import branch_totals
from songnuan.reporting.catalogue import PrintedRow, printed_rows
from songnuan.reporting.models import Submission, SubmissionValue
from songnuan.reporting.progress import SubmissionState, tree_order

#: Per item: the sum of the numbers, and how many said 是 or 否 (yes/no items).
_SUMS = {
    "total": Sum("number"),
    "yes": Count("pk", filter=Q(text="是")),
    "no": Count("pk", filter=Q(text="否")),
}


def reports_whole_area(campaign: Campaign) -> bool:
    """Each unit of this campaign reports its whole area (全辖), not its own level (本级)."""
    return campaign.reporting_scope == ReportingScope.WHOLE_AREA


def _accepted_values(campaign: Campaign, form_code: str, unit: Unit) -> QuerySet[SubmissionValue]:
    """The values of the accepted tables of this form from `unit` and every unit below it."""
    return SubmissionValue.objects.filter(
        submission__campaign=campaign,
        submission__form_code=form_code,
        submission__status=Submission.Status.ACCEPTED,
        submission__unit__path__startswith=unit.path,
    )


def rollup(campaign: Campaign, form_code: str, unit: Unit) -> dict[str, Value]:
    """The whole area (全辖) of `unit`, item by item: with OWN_LEVEL the sum of the accepted tables of `unit`
    and every unit below it, one maintained row (`branch_totals`) whatever the size of the subtree; with
    WHOLE_AREA the unit's own accepted table alone.

    Blank stays blank: an item no accepted table filled is None, not 0. A yes/no item is 是 when any table
    says 是, 否 when all that filled it say 否.
    """
    form = get_form(form_code)
    if reports_whole_area(campaign):
        return _totals(form, branch_totals.own(campaign, form_code, unit.pk).sums)
    return _totals(form, branch_totals.area(campaign, form_code, unit.pk).sums)


def flat_rollup(campaign: Campaign, form_code: str, unit: Unit) -> dict[str, Value]:
    """`rollup` with OWN_LEVEL by one GROUP BY over every accepted value of the subtree: what the maintained
    rows must always equal (the tests hold them to it)."""
    rows = _accepted_values(campaign, form_code, unit).values("item").annotate(**_SUMS)
    return _totals(get_form(form_code), {row["item"]: row for row in rows})


def accepted_below(campaign: Campaign, form_code: str, unit: Unit) -> dict[str, Value]:
    """The accepted tables below `unit` added up, item by item: with OWN_LEVEL every unit below (what 全辖
    adds to the unit's 本级: its maintained branch less its own table); with WHOLE_AREA its children's own
    tables (their whole areas, for comparison with the unit's own figure; one GROUP BY over the children)."""
    form = get_form(form_code)
    if not reports_whole_area(campaign):
        return _totals(form, branch_totals.below(campaign, form_code, unit.pk).sums)
    values = _accepted_values(campaign, form_code, unit).filter(submission__unit__parent=unit)
    rows = values.values("item").annotate(**_SUMS)
    return _totals(form, {row["item"]: row for row in rows})


def rollup_by_child(campaign: Campaign, form_code: str, unit: Unit) -> dict[int, dict[str, Value]]:
    """For the drill-down and the comparison grid: per child of `unit` (and `unit` itself, by its own id), the
    whole area of that child — with OWN_LEVEL the child's maintained branch (one row a child); with
    WHOLE_AREA the child's own accepted table (the units further down are left out). A child (or `unit`)
    with no accepted table in it is left out."""
    children = Unit.objects.filter(parent=unit).values_list("pk", flat=True)
    return _by_child(campaign, get_form(form_code), unit, list(children))[0]


def _by_child(
    campaign: Campaign, form: Form, unit: Unit, child_ids: list[int]
) -> tuple[dict[int, dict[str, Value]], dict[int, int]]:
    """`rollup_by_child`, and how many accepted tables each part holds (by the same keys)."""
    if reports_whole_area(campaign):
        values = _accepted_values(campaign, form.code, unit).filter(
            Q(submission__unit=unit) | Q(submission__unit__parent=unit)
        )
        rows = values.values("submission__unit_id", "item").annotate(**_SUMS)
        by_unit: dict[int, dict[str, Any]] = {}
        for row in rows:
            by_unit.setdefault(row["submission__unit_id"], {})[row["item"]] = row
        accepted = Submission.objects.filter(
            Q(unit=unit) | Q(unit__parent=unit),
            campaign=campaign,
            form_code=form.code,
            status=Submission.Status.ACCEPTED,
        ).values_list("unit_id", flat=True)
        counts = dict.fromkeys(accepted, 1)
        return {unit_id: _totals(form, items) for unit_id, items in by_unit.items()}, counts
    children, mine = branch_totals.drill_down(campaign, form.code, unit.pk, child_ids)
    result = {child_id: _totals(form, branch.sums) for child_id, branch in children.items()}
    counts = {child_id: branch.tables for child_id, branch in children.items()}
    if mine.tables:
        result[unit.pk] = _totals(form, mine.sums)
        counts[unit.pk] = mine.tables
    return result, counts


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


def exceeds(below: Value, reported: Value) -> bool:
    """With WHOLE_AREA: the children's tables add up to more than the parent's reported whole area — a
    discrepancy to check. Only numbers compare; a blank on either side (not 0) or a 是/否 is never one."""
    numbers = (int, Decimal)
    if isinstance(below, bool) or isinstance(reported, bool):
        return False
    return isinstance(below, numbers) and isinstance(reported, numbers) and below > reported


@dataclass
class Levels:
    """What a unit's figures contain. `own`: its own accepted (or, on the entry page, typed) table; `below`:
    the accepted tables below it added up (see `accepted_below`); `area`: its whole area (全辖). With
    OWN_LEVEL, area = own + below; with WHOLE_AREA, area = own and `below` is only for comparison."""

    whole_area: bool
    own: dict[str, Value]
    below: dict[str, Value]
    area: dict[str, Value]
    has_below: bool

    @property
    def discrepancies(self) -> set[str]:
        """Items whose children add up to more than the reported whole area (WHOLE_AREA only)."""
        if not self.whole_area:
            return set()
        return {code for code, value in self.below.items() if exceeds(value, self.area.get(code))}

    @property
    def own_shown(self) -> dict[str, str]:
        return {code: _shown(value) for code, value in self.own.items()}

    @property
    def below_shown(self) -> dict[str, str]:
        return {code: _shown(value) for code, value in self.below.items()}

    @property
    def area_shown(self) -> dict[str, str]:
        return {code: _shown(value) for code, value in self.area.items()}

    # What a roll-up shows beside its (whole-area) figure: 本级 with OWN_LEVEL, the children's sum with
    # WHOLE_AREA.
    @property
    def main_heading(self) -> str:
        return _("全辖（本单位报送）") if self.whole_area else _("全辖（含下级已审核的表）")

    @property
    def extra_heading(self) -> str:
        return _("下级合计（供核对）") if self.whole_area else _("其中：本级")

    @property
    def extra_shown(self) -> dict[str, str]:
        return self.below_shown if self.whole_area else self.own_shown


def scope_label(campaign: Campaign) -> str:
    """The campaign's setting, explained (ReportingScope's label)."""
    return str(ReportingScope(campaign.reporting_scope).label)


def content_label(campaign: Campaign, *, rollup: bool) -> str:
    """What a printed or exported table contains, for its label."""
    if rollup:
        if reports_whole_area(campaign):
            return _("本表口径：全辖（本单位报送的全辖数；下级的表只供核对，未相加）")
        return _("本表口径：全辖（含下级）——本级加本单位以下全部审核通过的表")
    if reports_whole_area(campaign):
        return _("本表口径：全辖（含下级）——本单位及所属下级的合计数")
    return _("本表口径：本级——只含本单位自身的数，不含下级")


def entry_levels(
    campaign: Campaign,
    form: Form,
    unit: Unit,
    typed: Mapping[str, Value],
    *,
    any_below: bool | None = None,
) -> Levels:
    """The entry page's levels: `typed` is the unit's own table as saved; the tables below as accepted.
    `unit` takes part in the campaign (the entry page has checked it). A unit with no unit below it in the
    campaign costs one query; none when `any_below` (whether any unit at all is below it, read with the
    unit: orgs.selectors.unit_with_below) already tells."""
    own = {code: typed.get(code) for code in form.codes}
    if any_below is None:
        has_below = _has_units_below(campaign, unit)
    else:
        # Below any unit but the campaign's owner, every unit takes part: only the owner needs asking.
        has_below = any_below and (unit.pk != campaign.owner_id or _has_units_below(campaign, unit))
    below = accepted_below(campaign, form.code, unit) if has_below else dict.fromkeys(form.codes)
    whole_area = reports_whole_area(campaign)
    area = own if whole_area else combine_tables(form, [own, below])
    return Levels(whole_area, own, below, area, has_below=has_below)


def _has_units_below(campaign: Campaign, unit: Unit) -> bool:
    below = Unit.objects.filter(path__startswith=unit.path).exclude(pk=unit.pk)
    if unit.pk == campaign.owner_id:
        # The units below the campaign's owner take part only under an addressee; below any other unit that
        # takes part, every unit does (it is an addressee or below one).
        below = units_taking_part(campaign, below)
    return below.exists()


@dataclass
class SubtreeTable(SubmissionState):
    unit: Unit
    submission: Submission | None


#: The roll-up page names at most this many of the tables not yet in it (the dashboard lists them all).
PENDING_SHOWN = 30


def _expected(campaign: Campaign, unit: Unit, children: list[Unit]) -> dict[int, int]:
    """How many tables each part of the roll-up should hold: per child (and the unit itself, by its own id)
    the units of the child's subtree, from the count each unit keeps of the units below it (no query) —
    or, with WHOLE_AREA, the child's own table."""
    if reports_whole_area(campaign):
        return {unit.pk: 1} | dict.fromkeys((child.pk for child in children), 1)
    return {unit.pk: 1} | {child.pk: 1 + child.units_below for child in children}


def pending_tables(campaign: Campaign, form_code: str, unit: Unit, limit: int) -> list[SubtreeTable]:
    """The units whose table is not in the roll-up of `unit` (not accepted, or not started), in tree order:
    the first `limit` of them by path, found through the index on the paths (not by reading every
    unit of the subtree with its table). With WHOLE_AREA, the unit and its children only."""
    accepted = Submission.objects.filter(
        campaign=campaign, form_code=form_code, status=Submission.Status.ACCEPTED, unit=OuterRef("pk")
    )
    units = unit_subtree(unit).exclude(Exists(accepted)).order_by("path")
    if reports_whole_area(campaign):
        units = units.filter(Q(pk=unit.pk) | Q(parent=unit))
    picked = tree_order(units[:limit])
    found = {
        s.unit_id: s
        for s in Submission.objects.filter(campaign=campaign, form_code=form_code, unit__in=picked)
    }
    return [SubtreeTable(u, found.get(u.pk)) for u in picked]


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
    level: str = ""  # what the figures contain: 本级, 全辖（含下级）, …


@dataclass
class DrillDown:
    item: Item
    total: Value
    lines: list[tuple[RollupPart, Value]]
    parts_sum: Value
    whole_area: bool = False

    @property
    def exceeds(self) -> bool:
        """With WHOLE_AREA: the children add up to more than the unit's reported whole area."""
        return self.whole_area and exceeds(self.parts_sum, self.total)

    @property
    def total_shown(self) -> str:
        return _shown(self.total)

    @property
    def parts_sum_shown(self) -> str:
        return _shown(self.parts_sum)

    @property
    def adds_up(self) -> bool:
        # With WHOLE_AREA the parts are for comparison, not a sum: only `exceeds` is a finding.
        return self.whole_area or self.parts_sum == self.total

    @property
    def shown_lines(self) -> list[tuple[RollupPart, str]]:
        return [(part, _shown(value)) for part, value in self.lines]


@dataclass(frozen=True)
class TableCounts:
    """How many tables a roll-up holds (accepted) of how many its units should report (expected)."""

    accepted: int
    expected: int


def rollup_parts(
    campaign: Campaign, form: Form, unit: Unit, visible: Callable[[Unit], bool]
) -> tuple[list[RollupPart], TableCounts]:
    """The unit's children (each its whole area), then its own table, then — if any child may not be seen
    one by one — those children together; with the counts of tables accepted and expected. With WHOLE_AREA a
    child's part is its own table (its reported whole area) and counts its own table only. A few queries,
    none reading every unit of the subtree with its table."""
    whole_area = reports_whole_area(campaign)
    children = list(Unit.objects.filter(parent=unit).order_by("sort_order", "pk"))
    by_child, accepted = _by_child(campaign, form, unit, [child.pk for child in children])
    expected = _expected(campaign, unit, children)
    blank: dict[str, Value] = dict.fromkeys(form.codes)
    child_level = _("全辖（报送数）") if whole_area else _("全辖（含下级）")
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
                child_level,
            )
        )
    parts.append(
        RollupPart(
            "own",
            _("{unit}（全辖，本单位报送）").format(unit=unit.name)
            if whole_area
            else _("{unit}（本级）").format(unit=unit.name),
            unit,
            by_child.get(unit.pk, blank),
            accepted.get(unit.pk, 0),
            expected.get(unit.pk, 0),
            _("全辖（报送数）") if whole_area else _("本级"),
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
                child_level,
            )
        )
    return parts, TableCounts(sum(accepted.values()), sum(expected.values()))


def _levels_of(campaign: Campaign, form: Form, parts: list[RollupPart], area: dict[str, Value]) -> Levels:
    """The levels of a roll-up, from its parts (no further query)."""
    own = next(part.values for part in parts if part.kind == "own")
    below_parts = [part for part in parts if part.kind in ("child", "hidden")]
    below = combine_tables(form, [part.values for part in below_parts])
    return Levels(reports_whole_area(campaign), dict(own), below, area, has_below=bool(below_parts))


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
    pending: list[SubtreeTable]  # tables of the subtree not (yet) in the roll-up: the first PENDING_SHOWN
    pending_count: int  # all of them
    drilldown: DrillDown | None
    levels: Levels
    scope: str  # the campaign's setting, explained


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
    whole_area = reports_whole_area(campaign)
    values = rollup(campaign, form.code, unit)
    result = compiled(form).validate(values)
    parts, counts = rollup_parts(campaign, form, unit, visible)
    pending = (
        pending_tables(campaign, form.code, unit, PENDING_SHOWN) if counts.accepted < counts.expected else []
    )
    drilldown = None
    if item_code and form.has_item(item_code):
        item = form.item(item_code)
        # With WHOLE_AREA the lines are the children, set beside the unit's own figure (never added to it).
        lines = [
            (part, part.values.get(item.code)) for part in parts if not (whole_area and part.kind == "own")
        ]
        parts_sum = combine((value for _part, value in lines), item.kind)
        drilldown = DrillDown(item, values.get(item.code), lines, parts_sum, whole_area)
    return RollupPage(
        campaign=campaign,
        form=form,
        unit=unit,
        values=values,
        result=result,
        rows=printed_rows(form, values, result),
        parts=parts,
        accepted=counts.accepted,
        expected=counts.expected,
        pending=pending,
        pending_count=counts.expected - counts.accepted,
        drilldown=drilldown,
        levels=_levels_of(campaign, form, parts, values),
        scope=scope_label(campaign),
    )


@dataclass
class GridRow:
    item: Item
    number: str
    letter: str
    cells: list[Value]
    #: With WHOLE_AREA: the children add up to more than the unit's reported whole area (to check).
    discrepancy: bool = False

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
    whole_area: bool = False
    scope: str = ""  # the campaign's setting, explained


def comparison_grid(campaign: Campaign, form: Form, unit: Unit, *, visible: Callable[[Unit], bool]) -> Grid:
    """Items as rows. OWN_LEVEL: the unit's children (each its whole area), its own table (本级) and the total
    (全辖) as columns. WHOLE_AREA: the children's tables, their sum 供核对 (never added), and the unit's own
    table — its whole area — last; a row whose children add up to more than that is a discrepancy."""
    parts, counts = rollup_parts(campaign, form, unit, visible)
    if not reports_whole_area(campaign):
        total = RollupPart(
            "total",
            _("合计"),
            unit,
            rollup(campaign, form.code, unit),
            counts.accepted,
            counts.expected,
            _("全辖（含下级）"),
        )
        columns = [*parts, total]
        rows = [
            GridRow(item, item.number, form.printed_letter(item), [c.values.get(item.code) for c in columns])
            for item in form.items
        ]
        return Grid(campaign, form, unit, columns, rows, scope=scope_label(campaign))
    own = next(part for part in parts if part.kind == "own")
    children = [part for part in parts if part.kind != "own"]
    below = RollupPart(
        "below",
        _("下级合计"),
        None,
        combine_tables(form, [part.values for part in children]),
        sum(part.accepted for part in children),
        sum(part.expected for part in children),
        _("供核对，不相加"),
    )
    total = RollupPart("total", own.title, unit, own.values, own.accepted, own.expected, own.level)
    columns = [*children, below, total]
    rows = [
        GridRow(
            item,
            item.number,
            form.printed_letter(item),
            [c.values.get(item.code) for c in columns],
            exceeds(below.values.get(item.code), own.values.get(item.code)),
        )
        for item in form.items
    ]
    return Grid(campaign, form, unit, columns, rows, whole_area=True, scope=scope_label(campaign))


def visible_ancestors(unit: Unit, visible: Callable[[Unit], bool]) -> list[Unit]:
    """The units above `unit` that the viewer may see, top first (for the way back up)."""
    ids = [int(part) for part in unit.path.rstrip("/").split("/")[:-1]]
    above = {u.pk: u for u in Unit.objects.filter(pk__in=ids)}
    return [above[i] for i in ids if i in above and visible(above[i])]
