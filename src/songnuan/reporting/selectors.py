"""Reads for the reporting pages: forms as printed, their rules, and checked uploads laid out for display."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db.models import Count, Q, Sum
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from songnuan.campaigns.models import Campaign
from songnuan.formkit.checking import TableReport, check_bytes
from songnuan.formkit.definitions import Form, Item, ItemKind, Severity, builtin_forms, get_form
from songnuan.formkit.engine import CheckResult, CompiledRule, Value, compiled, format_value
from songnuan.orgs.models import Unit
from songnuan.orgs.selectors import unit_subtree
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
                    value="" if value is None else format_value(value),
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


# --- the reviewer's side: dashboard, roll-up with drill-down, comparison grid ----------------------------

#: A unit's (or a table's) state, least advanced first; "not-started" means no submission at all.
STATES = ("not-started", "draft", "returned", "submitted", "accepted")
STATE_LABELS = {
    "not-started": gettext_lazy("未填报"),
    "draft": gettext_lazy("草稿未报送"),
    "returned": gettext_lazy("已退回"),
    "submitted": gettext_lazy("已报送待审核"),
    "accepted": gettext_lazy("审核通过"),
}
#: Dashboard filters besides the states.
EXTRA_FILTERS = {
    "missing": gettext_lazy("未完成报送"),
    "on-time": gettext_lazy("按时报送"),
    "late": gettext_lazy("逾期报送"),
    "overdue": gettext_lazy("逾期未报"),
}
_MISSING_STATES = ("not-started", "draft", "returned")
_CHART_COLOURS = {
    "not-started": "#95a5a6",
    "draft": "#5dade2",
    "returned": "#e67e22",
    "submitted": "#f4d03f",
    "accepted": "#27ae60",
    "on-time": "#1e8449",
    "late": "#c0392b",
    "overdue": "#7b241c",
}


class _SubmissionState:
    """The state of an optional submission, for a page (None: not started)."""

    submission: Submission | None

    @property
    def state(self) -> str:
        return self.submission.status if self.submission is not None else "not-started"

    @property
    def label(self) -> str:
        return str(STATE_LABELS[self.state])


@dataclass
class FormState(_SubmissionState):
    """One form of one unit on the dashboard: its submission (None: not started)."""

    form: Form
    submission: Submission | None

    @property
    def missing(self) -> bool:
        return self.state in _MISSING_STATES


@dataclass
class DashboardRow:
    unit: Unit
    indent: int  # 0 for the viewer's children, 1 for their children …
    forms: list[FormState]
    state: str
    late: bool  # some table was submitted after the deadline
    overdue: bool  # the deadline has passed and some table is still missing
    submitted_at: dt.datetime | None  # the last submission of its tables
    contact_name: str
    contact_phone: str

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state])

    @property
    def missing(self) -> list[FormState]:
        return [f for f in self.forms if f.missing]


@dataclass
class Bar:
    key: str
    label: str
    count: int
    y: int
    width: int
    colour: str

    @property
    def text_x(self) -> int:
        return BAR_LABEL_WIDTH + self.width + 6

    @property
    def text_y(self) -> int:
        return self.y + BAR_HEIGHT - 6

    @property
    def label_x(self) -> int:
        return BAR_LABEL_WIDTH - 6

    @property
    def height(self) -> int:
        return BAR_HEIGHT


BAR_LABEL_WIDTH = 110
BAR_HEIGHT = 22
BAR_GAP = 8
BAR_AREA = 300


@dataclass
class BarChart:
    bars: list[Bar]
    width: int
    height: int
    label_width: int = BAR_LABEL_WIDTH


def bar_chart(counts: Iterable[tuple[str, str, int]]) -> BarChart:
    """Horizontal bars for (key, label, count), scaled to the largest count; drawn as inline SVG."""
    counts = list(counts)
    largest = max((count for _k, _l, count in counts), default=0) or 1
    bars = [
        Bar(
            key=key,
            label=label,
            count=count,
            y=position * (BAR_HEIGHT + BAR_GAP),
            width=round(BAR_AREA * count / largest),
            colour=_CHART_COLOURS.get(key, "#888"),
        )
        for position, (key, label, count) in enumerate(counts)
    ]
    return BarChart(bars, BAR_LABEL_WIDTH + BAR_AREA + 50, max(len(bars) * (BAR_HEIGHT + BAR_GAP), 1))


@dataclass
class Dashboard:
    campaign: Campaign
    unit: Unit
    forms: list[Form]
    rows: list[DashboardRow]
    shown: list[DashboardRow]
    state: str | None
    counts: list[tuple[str, str, int]]  # (state, label, units)
    form_counts: list[tuple[Form, list[int]]]  # per form: tables in each state, in STATES order
    on_time: int
    late: int
    overdue: int
    deadline_passed: bool
    chart: BarChart
    reminders: list[DashboardRow]
    reminder_text: str


def _tree_order(units: Iterable[Unit]) -> list[Unit]:
    """Units in tree order, siblings by their sort order then id (the path alone would ignore sort order)."""
    units = list(units)
    by_id = {unit.pk: unit for unit in units}

    def key(unit: Unit) -> list[tuple[int, int]]:
        ids = [int(part) for part in unit.path.rstrip("/").split("/")]
        return [(by_id[i].sort_order, i) if i in by_id else (0, i) for i in ids]

    return sorted(units, key=key)


def dashboard(
    campaign: Campaign, unit: Unit, *, state: str | None = None, now: dt.datetime | None = None
) -> Dashboard:
    """Where every unit below `unit` stands in `campaign`: states, lateness, whom to remind."""
    now = now or timezone.now()
    deadline_passed = campaign.is_late(now)
    forms = [get_form(code) for code in campaign.form_codes]
    units = _tree_order(unit_subtree(unit).exclude(pk=unit.pk))
    rows: list[DashboardRow] = []
    for progress in campaign_progress(campaign, units):
        submissions = [s for s in progress.submissions.values() if s is not None]
        form_states = [FormState(form, progress.submissions.get(form.code)) for form in forms]
        moments = [s.submitted_at for s in submissions if s.submitted_at is not None]
        row_state = progress.state
        contact = next((s for s in submissions if s.reporter or s.phone), None)
        rows.append(
            DashboardRow(
                unit=progress.unit,
                indent=progress.unit.depth - unit.depth - 1,
                forms=form_states,
                state=row_state,
                late=progress.late,
                overdue=deadline_passed and row_state in _MISSING_STATES,
                submitted_at=max(moments) if moments else None,
                contact_name=progress.unit.contact_name or (contact.reporter if contact else ""),
                contact_phone=progress.unit.contact_phone or (contact.phone if contact else ""),
            )
        )
    counts = [(key, str(STATE_LABELS[key]), len([r for r in rows if r.state == key])) for key in STATES]
    done = [r for r in rows if r.state not in _MISSING_STATES]
    on_time = len([r for r in done if not r.late])
    late = len(done) - on_time
    overdue = len([r for r in rows if r.overdue])
    reminders = [r for r in rows if r.state in _MISSING_STATES]
    chart_counts = [
        *counts,
        ("on-time", _("按时报送"), on_time),
        ("late", _("逾期报送"), late),
        ("overdue", _("逾期未报"), overdue),
    ]
    return Dashboard(
        campaign=campaign,
        unit=unit,
        forms=forms,
        rows=rows,
        shown=[r for r in rows if _row_matches(r, state)],
        state=state if state in STATES or state in EXTRA_FILTERS else None,
        counts=counts,
        form_counts=[
            (form, [len([r for r in rows if r.forms[i].state == key]) for key in STATES])
            for i, form in enumerate(forms)
        ],
        on_time=on_time,
        late=late,
        overdue=overdue,
        deadline_passed=deadline_passed,
        chart=bar_chart(chart_counts),
        reminders=reminders,
        reminder_text=reminder_text(campaign, reminders),
    )


def _row_matches(row: DashboardRow, state: str | None) -> bool:
    if state in STATES:
        return row.state == state
    if state == "missing":
        return row.state in _MISSING_STATES
    if state == "on-time":
        return row.state not in _MISSING_STATES and not row.late
    if state == "late":
        return row.late
    if state == "overdue":
        return row.overdue
    return True  # no filter, or one we do not know


def reminder_text(campaign: Campaign, reminders: Iterable[DashboardRow]) -> str:
    """The reminder list as plain text, to paste into WeChat or an SMS."""
    reminders = list(reminders)
    deadline = campaign.deadline
    lines = [
        _("【{title}】统计表报送提醒（截止日期：{y}年{m}月{d}日）").format(
            title=campaign.title, y=deadline.year, m=deadline.month, d=deadline.day
        )
    ]
    for number, row in enumerate(reminders, start=1):
        missing = "；".join(f"{f.form.attachment}{f.label}" for f in row.missing)
        lines.append(
            _("{n}. {unit}（联系人：{name}，电话：{phone}）：{missing}").format(
                n=number,
                unit=row.unit.name,
                name=row.contact_name or _("未登记"),
                phone=row.contact_phone or _("未登记"),
                missing=missing,
            )
        )
    lines.append(
        _("共 {n} 个单位未完成报送，请尽快填报。").format(n=len(reminders))
        if reminders
        else _("各单位均已报送。")
    )
    return "\n".join(lines)


def _shown(value: Value) -> str:
    return "" if value is None else format_value(value)


def combine(form: Form, parts: Iterable[Mapping[str, Value]]) -> dict[str, Value]:
    """Add tables (or roll-ups) item by item as the roll-up does: blank + blank = blank, 是 if any says 是."""
    parts = list(parts)
    result: dict[str, Value] = {}
    for item in form.items:
        present = [v for part in parts if (v := part.get(item.code)) is not None]
        if not present:
            result[item.code] = None
        elif item.kind is ItemKind.YES_NO:
            result[item.code] = "是" if "是" in present else ("否" if "否" in present else None)
        else:
            numbers = [v for v in present if isinstance(v, int | Decimal) and not isinstance(v, bool)]
            total: int | Decimal = sum(numbers, start=0)
            result[item.code] = total.normalize() if isinstance(total, Decimal) else total
    return result


@dataclass
class SubtreeTable(_SubmissionState):
    unit: Unit
    submission: Submission | None


def subtree_tables(campaign: Campaign, form_code: str, unit: Unit) -> list[SubtreeTable]:
    """Every unit of the subtree (the unit first, then in tree order) with its table of this form."""
    units = _tree_order(unit_subtree(unit))
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
                combine(form, [by_child.get(c.pk, blank) for c in hidden]),
                sum(accepted.get(c.pk, 0) for c in hidden),
                sum(expected.get(c.pk, 0) for c in hidden),
            )
        )
    return parts, tables


def _branch(member: Unit, top: Unit) -> int:
    """The id of the child of `top` whose subtree holds `member` (top's own id for top itself)."""
    if member.pk == top.pk:
        return top.pk
    return int(member.path[len(top.path) : len(top.path) + 6])


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
        parts_sum = combine(form, [{item.code: value} for _part, value in lines])[item.code]
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


def submission_of(campaign: Campaign, unit: Unit, form_code: str) -> Submission | None:
    return Submission.objects.filter(campaign=campaign, unit=unit, form_code=form_code).first()


@dataclass
class PrintPage:
    """A table to print and stamp: the header line filled in, the values as printed."""

    form: Form
    unit_name: str
    reporter: str
    phone: str
    date: dt.date | None
    rows: list[PrintedRow]
    rollup: bool = False
    accepted: int = 0
    expected: int = 0


def submission_print(submission: Submission) -> PrintPage:
    form = get_form(submission.form_code)
    return PrintPage(
        form=form,
        unit_name=submission.unit.name,
        reporter=submission.reporter,
        phone=submission.phone,
        date=submission.report_date,
        rows=printed_rows(form, submission_values(submission)),
    )


def rollup_print(campaign: Campaign, form: Form, unit: Unit, *, today: dt.date) -> PrintPage:
    values = rollup(campaign, form.code, unit)
    tables = subtree_tables(campaign, form.code, unit)
    return PrintPage(
        form=form,
        unit_name=rollup_unit_name(unit),
        reporter=unit.contact_name,
        phone=unit.contact_phone,
        date=today,
        rows=printed_rows(form, values),
        rollup=True,
        accepted=len([t for t in tables if t.state == Submission.Status.ACCEPTED]),
        expected=len(tables),
    )


def rollup_unit_name(unit: Unit) -> str:
    """填报单位 of a roll-up: the unit's name marked as a summary."""
    return _("{unit}（汇总）").format(unit=unit.name)


def visible_ancestors(unit: Unit, visible: Callable[[Unit], bool]) -> list[Unit]:
    """The units above `unit` that the viewer may see, top first (for the way back up)."""
    ids = [int(part) for part in unit.path.rstrip("/").split("/")[:-1]]
    above = {u.pk: u for u in Unit.objects.filter(pk__in=ids)}
    return [above[i] for i in ids if i in above and visible(above[i])]
