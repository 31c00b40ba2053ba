"""The reviewer's dashboard: every unit's state and lateness, the bar chart as SVG geometry, the reminders.

The viewer's own unit is a row of its own (本级), first: its own tables are expected as those of the units
below are — and the roll-up counts them too (at the top of the tree, the campaign's owner accepts them
itself: `songnuan.orgs.permissions.may_review_table`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from songnuan.campaigns.models import Campaign
from songnuan.formkit.definitions import Form, get_form
from songnuan.orgs.models import Unit
from songnuan.orgs.selectors import unit_subtree
from songnuan.reporting.models import Submission
from songnuan.reporting.progress import STATE_LABELS, STATES, SubmissionState, campaign_progress, tree_order

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


@dataclass
class FormState(SubmissionState):
    """One form of one unit on the dashboard: its submission (None: not started)."""

    form: Form
    submission: Submission | None

    @property
    def missing(self) -> bool:
        return self.state in _MISSING_STATES


@dataclass
class DashboardRow:
    unit: Unit
    indent: int  # 0 for the viewer's own unit and its children, 1 for their children …
    forms: list[FormState]
    state: str
    late: bool  # some table was submitted after the deadline
    overdue: bool  # the deadline has passed and some table is still missing
    submitted_at: dt.datetime | None  # the last submission of its tables
    contact_name: str
    contact_phone: str
    own: bool = False  # the viewer's own unit (本级)

    @property
    def name(self) -> str:
        return _("{unit}（本级）").format(unit=self.unit.name) if self.own else self.unit.name

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


def dashboard(
    campaign: Campaign, unit: Unit, *, state: str | None = None, now: dt.datetime | None = None
) -> Dashboard:
    """Where `unit` itself (本级, first) and every unit below it stand in `campaign`: states, lateness, whom
    to remind."""
    now = now or timezone.now()
    deadline_passed = campaign.is_late(now)
    forms = [get_form(code) for code in campaign.form_codes]
    units = tree_order(unit_subtree(unit))  # the unit itself first
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
                indent=max(progress.unit.depth - unit.depth - 1, 0),
                forms=form_states,
                state=row_state,
                late=progress.late,
                overdue=progress.overdue(campaign, now),
                submitted_at=max(moments) if moments else None,
                contact_name=progress.unit.contact_name or (contact.reporter if contact else ""),
                contact_phone=progress.unit.contact_phone or (contact.phone if contact else ""),
                own=progress.unit.pk == unit.pk,
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
