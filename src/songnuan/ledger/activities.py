"""Campaign activities other than payments (送温暖活动): visits, 联帮促 teams, policy delivery, services,
rights and wage recovery, migrant return trips and tickets, employer subsidies, outdoor workers' stations and
media reports. Writes are keyword-only, atomic and audited (`LedgerEvent`: who, when, old, new); who may is
`songnuan.orgs.permissions.may_enter_ledger` of the record's unit.

Every activity is one `Activity` row; `KINDS` says per kind which of its fields are needed, which may be
given, and which subkind codes it takes (附件1 counts by them):

- 走访企业 (1A/1B): the enterprise's kind and how many enterprises; 慰问一线职工, 慰问专业人才 (2A/2B):
  persons; 走访困难家庭, 送政策到户 (2C, 6A): households, optionally one household of the archive within the
  unit's subtree (then the count is 1); visits may be recorded against a 联帮促 team of the unit;
- 服务职工 (8B–8G): the service and persons; 维权 (7A): persons; 追讨欠薪 (7B/7C): persons and yuan;
- 返乡包车 (9B–9K): the vehicle, how many vehicles and the people carried; 购票 (9L): tickets; 购票窗口 (9M):
  the centre that opened them (one record per centre); 用人单位补贴 (10A): yuan;
- 站点服务 (11B/11C): a station of the unit's register open on the day, persons and yuan;
- 媒体报道 (5A–5C): the level, the outlet, the title; a link, when given, a valid http(s) address.

Common rules: the date within the campaign's period; counts whole numbers above zero; money yuan above zero
with at most two decimals; a field the kind does not take is refused rather than silently dropped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from songnuan.archive.models import Household
from songnuan.archive.services import as_text
from songnuan.campaigns.models import Campaign
from songnuan.ledger import rules, totals, vocabulary
from songnuan.ledger.models import Activity, LedgerEvent, Station, Team
from songnuan.ledger.services import LedgerError, Problem, record_event
from songnuan.orgs.models import Unit
from songnuan.orgs.permissions import may_enter_ledger

Kind = Activity.Kind

# --- subkind codes: the canonical lists of `ledger.vocabulary`, the ones 附件1's derivations name ----------

VEHICLES = vocabulary.VEHICLES
MEDIA_LEVELS = vocabulary.MEDIA_LEVELS
SERVICES = vocabulary.SERVICE_KINDS
ENTERPRISE_KINDS = vocabulary.ENTERPRISE_KINDS

#: The fields an activity form may carry besides kind and date, and their Chinese names in messages.
FIELD_LABELS: dict[str, Any] = {
    "on": gettext_lazy("日期"),
    "subkind": gettext_lazy("细类"),
    "people": gettext_lazy("人次（户）"),
    "quantity": gettext_lazy("数量"),
    "amount": gettext_lazy("金额（元）"),
    "title": gettext_lazy("名称或标题"),
    "place": gettext_lazy("地点、对象或媒体"),
    "link": gettext_lazy("链接"),
    "note": gettext_lazy("备注"),
    "team_id": gettext_lazy("联帮促工作组"),
    "station_id": gettext_lazy("站点"),
    "household_id": gettext_lazy("档案"),
}


@dataclass(frozen=True)
class KindSpec:
    """What one kind of activity needs (`required`), may have (`optional`), and what its fields are called
    on its form and in its list (`labels`: people as 户数 for households, place as 媒体 for media…)."""

    required: frozenset[str]
    optional: frozenset[str]
    subkinds: tuple[tuple[str, Any], ...] = ()
    labels: dict[str, Any] = field(default_factory=dict)

    @property
    def allowed(self) -> frozenset[str]:
        return self.required | self.optional | {"note"}

    def label(self, name: str) -> str:
        return str(self.labels.get(name) or FIELD_LABELS[name])

    def columns(self) -> list[str]:
        """The kind's fields in the order forms and lists show them."""
        return [name for name in FIELD_LABELS if name in self.allowed]


def _spec(
    required: str,
    optional: str = "",
    subkinds: tuple[tuple[str, Any], ...] = (),
    **labels: Any,
) -> KindSpec:
    return KindSpec(frozenset(required.split()), frozenset(optional.split()), subkinds, labels)


_VISIT = "title place team_id"
KINDS: dict[str, KindSpec] = {
    Kind.VISIT_ENTERPRISE: _spec(
        "on subkind quantity",
        "people " + _VISIT,
        ENTERPRISE_KINDS,
        subkind=gettext_lazy("企业类型"),
        quantity=gettext_lazy("走访企业数（家）"),
        place=gettext_lazy("企业名称"),
        people=gettext_lazy("慰问人次"),
    ),
    Kind.VISIT_FRONTLINE: _spec("on people", _VISIT, people=gettext_lazy("慰问人数")),
    Kind.VISIT_TALENT: _spec("on people", _VISIT, people=gettext_lazy("慰问人数")),
    Kind.VISIT_HOUSEHOLD: _spec(
        "on people",
        _VISIT + " household_id",
        people=gettext_lazy("走访户数"),
        household_id=gettext_lazy("档案编号"),
    ),
    Kind.POLICY: _spec(
        "on people",
        _VISIT + " household_id",
        people=gettext_lazy("送达户数"),
        household_id=gettext_lazy("档案编号"),
    ),
    Kind.SERVICE: _spec(
        "on subkind people",
        "amount title place",
        SERVICES,
        subkind=gettext_lazy("服务项目"),
        people=gettext_lazy("服务人次"),
    ),
    Kind.RIGHTS: _spec("on people", "amount title place", people=gettext_lazy("维权人次")),
    Kind.WAGES: _spec(
        "on people amount",
        "title place",
        people=gettext_lazy("帮助职工（人）"),
        amount=gettext_lazy("追讨欠薪金额（元）"),
    ),
    Kind.RETURN_TRIP: _spec(
        "on subkind quantity people",
        "amount title place",
        VEHICLES,
        subkind=gettext_lazy("交通工具"),
        quantity=gettext_lazy("包租数量（列、节、辆、艘、架）"),
        people=gettext_lazy("运送农民工（人次）"),
        place=gettext_lazy("线路"),
    ),
    Kind.TICKETS: _spec(
        "on quantity", "people amount place", quantity=gettext_lazy("购票（张）"), people=gettext_lazy("人数")
    ),
    # 附件1 9M counts the centres that opened windows: one record per centre, the windows optional.
    Kind.TICKET_WINDOW: _spec(
        "on place", "quantity title", quantity=gettext_lazy("购票窗口（个）"), place=gettext_lazy("帮扶中心")
    ),
    Kind.EMPLOYER_SUBSIDY: _spec(
        "on amount",
        "people title place",
        amount=gettext_lazy("补贴金额（元）"),
        people=gettext_lazy("受益农民工（人）"),
        place=gettext_lazy("用人单位"),
    ),
    Kind.STATION_SERVICE: _spec(
        "on station_id people amount",
        "title",
        people=gettext_lazy("服务人次"),
        amount=gettext_lazy("涉及资金财物（元）"),
    ),
    Kind.MEDIA: _spec(
        "on subkind place title",
        "link",
        MEDIA_LEVELS,
        subkind=gettext_lazy("级别"),
        place=gettext_lazy("媒体或展示场所"),
        title=gettext_lazy("标题"),
    ),
}


def spec_of(kind: str) -> KindSpec:
    try:
        return KINDS[kind]
    except KeyError:
        raise LedgerError(_("没有“{kind}”这种活动类型").format(kind=kind)) from None


def kind_label(kind: str) -> str:
    return str(dict(Kind.choices).get(kind, kind))


def subkind_label(kind: str, subkind: str) -> str:
    spec = KINDS.get(kind)
    return str(dict(spec.subkinds).get(subkind, subkind)) if spec else subkind


# --- activities -------------------------------------------------------------------------------------------


@dataclass
class ActivityInput:
    """An activity as entered (page, import row). Counts are ints, money a Decimal, blank is None / ""."""

    kind: str
    on: dt.date | None
    subkind: str = ""
    people: int | None = None
    quantity: int | None = None
    amount: Decimal | None = None
    title: str = ""
    place: str = ""
    link: str = ""
    note: str = ""
    team_id: int | None = None
    station_id: int | None = None
    household_id: int | None = None


@dataclass
class CheckedActivity:
    team: Team | None = None
    station: Station | None = None
    household: Household | None = None
    errors: list[Problem] = field(default_factory=list)


_TEXT_LIMITS = {"title": 200, "place": 200, "link": 200, "note": 200}
_url = URLValidator(schemes=["http", "https"])


def _given(data: ActivityInput, name: str) -> bool:
    value = getattr(data, name)
    return value is not None and not (isinstance(value, str) and not value.strip())


def check_activity(
    *,
    campaign: Campaign,
    unit: Unit,
    data: ActivityInput,
    teams: dict[int, Team] | None = None,
    stations: dict[int, Station] | None = None,
) -> CheckedActivity:
    """Every rule of the module docstring against `data` as `unit` would record it in `campaign`. Reads only;
    `teams` and `stations` (the unit's, by id) spare an import a query per row."""
    found = CheckedActivity()
    errors = found.errors
    spec = KINDS.get(data.kind)
    if spec is None:
        errors.append(Problem("unknown-kind", _("没有“{kind}”这种活动类型").format(kind=data.kind), "kind"))
        return found
    for name in spec.required:
        if not _given(data, name):
            errors.append(Problem("required", _("请填写{field}").format(field=spec.label(name)), name))
    for name in FIELD_LABELS:
        if name not in spec.allowed and _given(data, name):
            errors.append(
                Problem(
                    "not-for-kind",
                    _("{kind}不填{field}").format(kind=kind_label(data.kind), field=spec.label(name)),
                    name,
                )
            )
    if data.on is not None and not campaign.period_start <= data.on <= campaign.period_end:
        errors.append(
            Problem(
                "date-outside",
                _("日期 {day} 不在活动期间（{start} 至 {end}）内").format(
                    day=data.on, start=campaign.period_start, end=campaign.period_end
                ),
                "on",
            )
        )
    if spec.subkinds and data.subkind and data.subkind not in dict(spec.subkinds):
        errors.append(
            Problem(
                "unknown-subkind",
                _("{field}“{code}”不在可选范围内（{choices}）").format(
                    field=spec.label("subkind"),
                    code=data.subkind,
                    choices="、".join(str(label) for _code, label in spec.subkinds),
                ),
                "subkind",
            )
        )
    for name in ("people", "quantity"):
        count = getattr(data, name)
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count <= 0):
            errors.append(
                Problem(
                    "bad-count",
                    _("{field}应是大于零的整数，这里是 {n}").format(field=spec.label(name), n=count),
                    name,
                )
            )
    if data.amount is not None:
        amount = data.amount
        if not isinstance(amount, Decimal) or not amount.is_finite():
            errors.append(
                Problem("bad-amount", _("{field}应是数字").format(field=spec.label("amount")), "amount")
            )
        elif amount <= 0 or amount != amount.quantize(rules.CENT) or amount > rules.LARGEST_AMOUNT:
            errors.append(
                Problem(
                    "bad-amount",
                    _("{field}应大于零、以元为单位最多两位小数，这里是 {a}").format(
                        field=spec.label("amount"), a=amount
                    ),
                    "amount",
                )
            )
    for name, limit in _TEXT_LIMITS.items():
        if len(getattr(data, name).strip()) > limit:
            errors.append(
                Problem(
                    "too-long",
                    _("{field}最多{n}个字").format(
                        field=spec.label(name) if name in spec.allowed else FIELD_LABELS[name], n=limit
                    ),
                    name,
                )
            )
    if data.link.strip() and "link" in spec.allowed:
        try:
            _url(data.link.strip())
        except ValidationError:
            errors.append(
                Problem(
                    "bad-link",
                    _("链接“{link}”不是有效的网址（以 http:// 或 https:// 开头）").format(
                        link=data.link.strip()
                    ),
                    "link",
                )
            )
    _check_links(campaign, unit, data, found, teams, stations)
    return found


def _check_links(
    campaign: Campaign,
    unit: Unit,
    data: ActivityInput,
    found: CheckedActivity,
    teams: dict[int, Team] | None,
    stations: dict[int, Station] | None,
) -> None:
    errors = found.errors
    spec = KINDS[data.kind]
    if data.team_id is not None and "team_id" in spec.allowed:
        team = (
            teams.get(data.team_id)
            if teams is not None
            else Team.objects.filter(pk=data.team_id, campaign=campaign, unit=unit).first()
        )
        if team is None or team.campaign_id != campaign.pk or team.unit_id != unit.pk:
            errors.append(Problem("no-team", _("本单位本次活动中没有这个联帮促工作组"), "team_id"))
        found.team = team
    if data.station_id is not None and "station_id" in spec.allowed:
        station = (
            stations.get(data.station_id)
            if stations is not None
            else Station.objects.filter(pk=data.station_id, unit=unit).first()
        )
        if station is None or station.unit_id != unit.pk:
            errors.append(Problem("no-station", _("本单位的站点登记中没有这个站点"), "station_id"))
        elif data.on is not None and not (
            station.opened_on <= data.on and (station.closed_on is None or data.on < station.closed_on)
        ):
            errors.append(
                Problem(
                    "station-closed",
                    _("站点“{name}”在 {day} 未在运行（启用 {opened}{closed}）").format(
                        name=station.name,
                        day=data.on,
                        opened=station.opened_on,
                        closed=_("，停用 {day}").format(day=station.closed_on) if station.closed_on else "",
                    ),
                    "station_id",
                )
            )
        found.station = station
    if data.household_id is not None and "household_id" in spec.allowed:
        household = Household.objects.filter(pk=data.household_id).select_related("unit").first()
        if household is None or not household.unit.is_within(unit):
            errors.append(Problem("no-file", _("本单位及下级单位的档案中没有这户"), "household_id"))
        else:
            found.household = household
            if data.people is not None and data.people != 1:
                errors.append(
                    Problem(
                        "one-household",
                        _("关联一户档案时{field}应为1，这里是 {n}").format(
                            field=spec.label("people"), n=data.people
                        ),
                        "people",
                    )
                )


def counted_household(data: ActivityInput) -> ActivityInput:
    """A household's visit counts one household: the count may be left blank when the file is named."""
    if (
        data.household_id is not None
        and data.people is None
        and data.kind in (Kind.VISIT_HOUSEHOLD, Kind.POLICY)
    ):
        data.people = 1
    return data


ACTIVITY_FIELDS = (
    "kind",
    "subkind",
    "on",
    "people",
    "quantity",
    "amount",
    "title",
    "place",
    "link",
    "note",
    "team",
    "station",
    "household",
)


def activity_snapshot(activity: Activity) -> dict[str, str]:
    values = {
        name: as_text(getattr(activity, name))
        for name in ACTIVITY_FIELDS
        if name not in ("team", "station", "household")
    }
    values["team"] = activity.team.name if activity.team_id and activity.team else ""
    values["station"] = activity.station.name if activity.station_id and activity.station else ""
    values["household"] = str(activity.household_id or "")
    return values


def _changes(before: dict[str, str], after: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    changed = [name for name in after if before.get(name, "") != after[name]]
    return {n: before.get(n, "") for n in changed}, {n: after[n] for n in changed}


def _nonblank(values: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in values.items() if v}


def _apply(activity: Activity, data: ActivityInput, found: CheckedActivity) -> None:
    spec = KINDS[data.kind]
    activity.kind = data.kind
    assert data.on is not None
    activity.on = data.on
    activity.subkind = data.subkind.strip() if spec.subkinds else ""
    activity.people = data.people
    activity.quantity = data.quantity
    activity.amount = data.amount.quantize(rules.CENT) if data.amount is not None else None
    activity.title = data.title.strip()
    activity.place = data.place.strip()
    activity.link = data.link.strip()
    activity.note = data.note.strip()
    activity.team = found.team
    activity.station = found.station
    activity.household = found.household


def _refusal(
    data: ActivityInput,
    problems: Sequence[Problem],
    *,
    user: User,
    campaign: Campaign,
    unit: Unit,
    activity: Activity | None = None,
) -> LedgerError:
    """The error to raise, after writing the refused attempt to the history (outside the refused change), as
    a refused payment is."""
    head = _("{kind}记录不能保存：").format(kind=kind_label(data.kind))
    message = head + "；".join(problem.message for problem in problems)
    record_event(
        LedgerEvent.Action.REFUSED,
        user=user,
        campaign=campaign,
        unit=unit,
        new={name: as_text(value) for name, value in vars(data).items() if value not in (None, "")},
        note=message,
        activity=activity,
    )
    return LedgerError(message, problems)


def _may_enter(user: User, unit: Unit) -> None:
    if not may_enter_ledger(user, unit):
        raise PermissionDenied(_("您不能为{unit}登记活动").format(unit=unit.name))


def activity_add(*, user: User, campaign: Campaign, unit: Unit, data: ActivityInput) -> Activity:
    """Record an activity of `unit` in `campaign`; LedgerError (nothing written) when a rule is broken."""
    _may_enter(user, unit)
    data = counted_household(data)
    found = check_activity(campaign=campaign, unit=unit, data=data)
    if found.errors:
        raise _refusal(data, found.errors, user=user, campaign=campaign, unit=unit)
    with transaction.atomic():
        activity = Activity(campaign=campaign, unit=unit, entered_by=user)
        _apply(activity, data, found)
        activity.save()
        record_event(
            LedgerEvent.Action.ACTIVITY_ADDED,
            user=user,
            campaign=campaign,
            unit=unit,
            new=_nonblank(activity_snapshot(activity)),
            activity=activity,
        )
        totals.changed(campaign.pk, [unit.pk])
    return activity


def activity_edit(*, user: User, activity: Activity, data: ActivityInput) -> Activity:
    """Change an activity (its kind stays: a visit recorded as a trip is deleted and entered again)."""
    _may_enter(user, activity.unit)
    if data.kind != activity.kind:
        raise LedgerError(_("不能改变活动类型：请删除后按正确的类型重新登记"))
    data = counted_household(data)
    with transaction.atomic():
        locked = (
            Activity.objects.select_for_update(of=("self",))
            .select_related("campaign", "unit", "team", "station")
            .get(pk=activity.pk)
        )
        found = check_activity(campaign=locked.campaign, unit=locked.unit, data=data)
        if not found.errors:
            before = activity_snapshot(locked)
            _apply(locked, data, found)
            locked.save()
            old, new = _changes(before, activity_snapshot(locked))
            if new:
                record_event(
                    LedgerEvent.Action.ACTIVITY_EDITED,
                    user=user,
                    campaign=locked.campaign,
                    unit=locked.unit,
                    old=old,
                    new=new,
                    activity=locked,
                )
                totals.changed(locked.campaign_id, [locked.unit_id])
    if found.errors:  # written after the lock's transaction, so that the refused attempt stays in the history
        raise _refusal(
            data, found.errors, user=user, campaign=locked.campaign, unit=locked.unit, activity=locked
        )
    return locked


@transaction.atomic
def activity_delete(*, user: User, activity: Activity) -> None:
    """Delete an activity entered by mistake; the history keeps what it held."""
    _may_enter(user, activity.unit)
    locked = (
        Activity.objects.select_for_update(of=("self",)).select_related("team", "station").get(pk=activity.pk)
    )
    record_event(
        LedgerEvent.Action.ACTIVITY_DELETED,
        user=user,
        campaign=locked.campaign,
        unit=locked.unit,
        old=_nonblank(activity_snapshot(locked)),
    )
    locked.delete()
    totals.changed(locked.campaign_id, [locked.unit_id])


def activities_add_many(
    *,
    user: User,
    campaign: Campaign,
    unit: Unit,
    rows: Iterable[ActivityInput],
    note: str,
    keys: Sequence[str] = (),
) -> int:
    """Record already checked activities together (an import's good rows, with their `keys`: see
    `Activity.import_key`): all or none, one history entry naming the import (`note`). The rows are checked
    again here, so nothing unchecked is ever written."""
    _may_enter(user, unit)
    teams = {team.pk: team for team in Team.objects.filter(campaign=campaign, unit=unit)}
    stations = {station.pk: station for station in Station.objects.filter(unit=unit)}
    made: list[Activity] = []
    for position, data in enumerate(rows):
        data = counted_household(data)
        found = check_activity(campaign=campaign, unit=unit, data=data, teams=teams, stations=stations)
        if found.errors:
            raise _refusal(data, found.errors, user=user, campaign=campaign, unit=unit)
        activity = Activity(campaign=campaign, unit=unit, entered_by=user)
        _apply(activity, data, found)
        activity.import_key = keys[position] if position < len(keys) else ""
        made.append(activity)
    with transaction.atomic():
        Activity.objects.bulk_create(made, batch_size=1000)
        kinds: dict[str, int] = {}
        for activity in made:
            kinds[activity.kind] = kinds.get(activity.kind, 0) + 1
        record_event(
            LedgerEvent.Action.ACTIVITIES_IMPORTED,
            user=user,
            campaign=campaign,
            unit=unit,
            new={"imported": str(len(made)), **{kind: str(n) for kind, n in kinds.items()}},
            note=note,
        )
        totals.changed(campaign.pk, [unit.pk])
    return len(made)


# --- 联帮促 teams ----------------------------------------------------------------------------------------


@dataclass
class TeamInput:
    name: str
    leader: str
    members: str = ""
    linked_places: str = ""
    linked_enterprises: str = ""
    household_ids: list[int] = field(default_factory=list)


TEAM_FIELDS = ("name", "leader", "members", "linked_places", "linked_enterprises")
_TEAM_LABELS = {
    "name": gettext_lazy("工作组名称"),
    "leader": gettext_lazy("带队领导"),
}


def team_snapshot(team: Team) -> dict[str, str]:
    values = {name: as_text(getattr(team, name)) for name in TEAM_FIELDS}
    values["households"] = "、".join(str(pk) for pk in sorted(team.households.values_list("pk", flat=True)))
    return values


def _check_team(campaign: Campaign, unit: Unit, data: TeamInput, exclude: int | None) -> list[Household]:
    problems: list[Problem] = []
    for name, limit in (("name", 100), ("leader", 50)):
        value = getattr(data, name).strip()
        if not value:
            problems.append(Problem("required", _("请填写{field}").format(field=_TEAM_LABELS[name]), name))
        elif len(value) > limit:
            problems.append(
                Problem("too-long", _("{field}最多{n}个字").format(field=_TEAM_LABELS[name], n=limit), name)
            )
    same = Team.objects.filter(campaign=campaign, unit=unit, name=data.name.strip())
    if exclude is not None:
        same = same.exclude(pk=exclude)
    if data.name.strip() and same.exists():
        problems.append(
            Problem("duplicate", _("本单位已有名为“{name}”的工作组").format(name=data.name.strip()), "name")
        )
    wanted = set(data.household_ids)
    households = list(Household.objects.filter(pk__in=wanted).select_related("unit"))
    inside = [h for h in households if h.unit.is_within(unit)]
    missing = sorted(wanted - {h.pk for h in inside})
    if missing:
        problems.append(
            Problem(
                "no-file",
                _("本单位及下级单位的档案中没有编号为 {numbers} 的档案").format(
                    numbers="、".join(str(n) for n in missing)
                ),
                "household_ids",
            )
        )
    if problems:
        raise LedgerError(
            _("工作组不能保存：") + "；".join(problem.message for problem in problems), problems
        )
    return inside


def _team_apply(team: Team, data: TeamInput) -> None:
    for name in TEAM_FIELDS:
        setattr(team, name, getattr(data, name).strip())


def team_create(*, user: User, campaign: Campaign, unit: Unit, data: TeamInput) -> Team:
    """A 联帮促 team of `unit` in `campaign`, with the households of the archive it helps."""
    _may_enter(user, unit)
    with transaction.atomic():
        households = _check_team(campaign, unit, data, None)
        team = Team(campaign=campaign, unit=unit)
        _team_apply(team, data)
        team.save()
        team.households.set(households)
        record_event(
            LedgerEvent.Action.TEAM_CREATED,
            user=user,
            campaign=campaign,
            unit=unit,
            team=team,
            new={"team": team.name, **_nonblank(team_snapshot(team))},
            note=_("成立联帮促工作组“{name}”").format(name=team.name),
        )
    return team


def team_edit(*, user: User, team: Team, data: TeamInput) -> Team:
    _may_enter(user, team.unit)
    with transaction.atomic():
        locked = (
            Team.objects.select_for_update(of=("self",)).select_related("campaign", "unit").get(pk=team.pk)
        )
        households = _check_team(locked.campaign, locked.unit, data, locked.pk)
        before = team_snapshot(locked)
        _team_apply(locked, data)
        locked.save()
        locked.households.set(households)
        old, new = _changes(before, team_snapshot(locked))
        if new:
            record_event(
                LedgerEvent.Action.TEAM_EDITED,
                user=user,
                campaign=locked.campaign,
                unit=locked.unit,
                team=locked,
                old=old,
                new={"team": locked.name, **new},
                note=_("修改联帮促工作组“{name}”").format(name=locked.name),
            )
    return locked


# --- the register of outdoor workers' stations (kept across campaigns) --------------------------------------


@dataclass
class StationInput:
    name: str
    address: str
    opened_on: dt.date | None
    operator: str = ""


_STATION_LABELS = {
    "name": gettext_lazy("站点名称"),
    "address": gettext_lazy("地址"),
    "operator": gettext_lazy("运营单位"),
    "opened_on": gettext_lazy("启用日期"),
}


def _check_station(unit: Unit, data: StationInput, exclude: int | None) -> None:
    problems: list[Problem] = []
    for name, limit in (("name", 100), ("address", 200), ("operator", 100)):
        value = getattr(data, name).strip()
        if not value and name != "operator":
            problems.append(Problem("required", _("请填写{field}").format(field=_STATION_LABELS[name]), name))
        elif len(value) > limit:
            problems.append(
                Problem(
                    "too-long", _("{field}最多{n}个字").format(field=_STATION_LABELS[name], n=limit), name
                )
            )
    if data.opened_on is None:
        problems.append(
            Problem("required", _("请填写{field}").format(field=_STATION_LABELS["opened_on"]), "opened_on")
        )
    same = Station.objects.filter(unit=unit, name=data.name.strip())
    if exclude is not None:
        same = same.exclude(pk=exclude)
    if data.name.strip() and same.exists():
        problems.append(
            Problem("duplicate", _("本单位已登记名为“{name}”的站点").format(name=data.name.strip()), "name")
        )
    if problems:
        raise LedgerError(_("站点不能保存：") + "；".join(problem.message for problem in problems), problems)


def station_register(*, user: User, unit: Unit, data: StationInput) -> Station:
    """Add a station to `unit`'s register (kept across campaigns: its history rows have no campaign)."""
    _may_enter(user, unit)
    with transaction.atomic():
        _check_station(unit, data, None)
        assert data.opened_on is not None
        station = Station.objects.create(
            unit=unit,
            name=data.name.strip(),
            address=data.address.strip(),
            operator=data.operator.strip(),
            opened_on=data.opened_on,
        )
        _station_event(LedgerEvent.Action.STATION_REGISTERED, user, station, {}, station_snapshot(station))
        totals.changed_everywhere([unit.pk])
        return station


STATION_FIELDS = ("name", "address", "operator", "opened_on", "closed_on")


def station_snapshot(station: Station) -> dict[str, str]:
    return {name: as_text(getattr(station, name)) for name in STATION_FIELDS}


def _station_event(
    action: str, user: User, station: Station, before: dict[str, str], after: dict[str, str]
) -> None:
    """The station's history row: the fields that changed (all of them when it is registered)."""
    old, new = _changes(before, after) if before else ({}, _nonblank(after))
    record_event(action, user=user, campaign=None, unit=station.unit, station=station, old=old, new=new)


def station_edit(*, user: User, station: Station, data: StationInput) -> Station:
    _may_enter(user, station.unit)
    with transaction.atomic():
        locked = Station.objects.select_for_update(of=("self",)).select_related("unit").get(pk=station.pk)
        _check_station(locked.unit, data, locked.pk)
        assert data.opened_on is not None
        first_service = locked.activities.order_by("on").values_list("on", flat=True).first()
        if first_service is not None and data.opened_on > first_service:
            message = _("站点在 {day} 已有服务记录，启用日期不能晚于这一天").format(day=first_service)
            raise LedgerError(message, [Problem("served-before", message, "opened_on")])
        if locked.closed_on is not None and data.opened_on >= locked.closed_on:
            raise LedgerError(_("启用日期应早于停用日期 {day}").format(day=locked.closed_on))
        before = station_snapshot(locked)
        locked.name = data.name.strip()
        locked.address = data.address.strip()
        locked.operator = data.operator.strip()
        locked.opened_on = data.opened_on
        locked.save()
        _station_event(LedgerEvent.Action.STATION_EDITED, user, locked, before, station_snapshot(locked))
        totals.changed_everywhere([locked.unit_id])
        return locked


def station_close(*, user: User, station: Station, on: dt.date) -> Station:
    """Take a station off the register from `on` (it stays in the list with its services)."""
    _may_enter(user, station.unit)
    with transaction.atomic():
        locked = Station.objects.select_for_update(of=("self",)).get(pk=station.pk)
        if locked.closed_on is not None:
            raise LedgerError(_("站点“{name}”已于 {day} 停用").format(name=locked.name, day=locked.closed_on))
        if on <= locked.opened_on:
            raise LedgerError(_("停用日期应晚于启用日期 {day}").format(day=locked.opened_on))
        last_service = locked.activities.order_by("-on").values_list("on", flat=True).first()
        if last_service is not None and on <= last_service:
            raise LedgerError(_("站点在 {day} 还有服务记录，停用日期应晚于这一天").format(day=last_service))
        before = station_snapshot(locked)
        locked.closed_on = on
        locked.save(update_fields=["closed_on"])
        _station_event(LedgerEvent.Action.STATION_CLOSED, user, locked, before, station_snapshot(locked))
        totals.changed_everywhere([locked.unit_id])
        return locked


def input_of(activity: Activity) -> ActivityInput:
    """The input that would save `activity` as it is (the edit form's initial values)."""
    return ActivityInput(
        kind=activity.kind,
        on=activity.on,
        subkind=activity.subkind,
        people=activity.people,
        quantity=activity.quantity,
        amount=activity.amount,
        title=activity.title,
        place=activity.place,
        link=activity.link,
        note=activity.note,
        team_id=activity.team_id,
        station_id=activity.station_id,
        household_id=activity.household_id,
    )


# --- reads (the caller has asked `may_see_ledger` for the unit) -------------------------------------------


@dataclass(frozen=True)
class ActivityFilter:
    start: dt.date | None = None
    end: dt.date | None = None
    subkind: str = ""
    team_id: int | None = None
    text: str = ""
    subtree: bool = False


def activities_of(
    campaign: Campaign, unit: Unit, kind: str, asked: ActivityFilter | None = None
) -> QuerySet[Activity]:
    """The activities of `kind` of `unit` (and below it with `subtree`) in `campaign`, newest first."""
    asked = asked or ActivityFilter()
    where = Q(unit__path__startswith=unit.path) if asked.subtree else Q(unit=unit)
    found = Activity.objects.filter(where, campaign=campaign, kind=kind)
    if asked.start:
        found = found.filter(on__gte=asked.start)
    if asked.end:
        found = found.filter(on__lte=asked.end)
    if asked.subkind:
        found = found.filter(subkind=asked.subkind)
    if asked.team_id:
        found = found.filter(team_id=asked.team_id)
    if asked.text:
        found = found.filter(
            Q(title__icontains=asked.text) | Q(place__icontains=asked.text) | Q(note__icontains=asked.text)
        )
    return found.select_related("unit", "team", "station", "household", "entered_by").order_by("-on", "-pk")


@dataclass(frozen=True)
class Totals:
    label: str
    count: int
    people: int | None
    quantity: int | None
    amount: Decimal | None


def activity_totals(found: QuerySet[Activity], kind: str) -> list[Totals]:
    """The list's totals, then one line per subkind for a kind that has them (blank stays blank)."""
    sums = {
        "count": Count("pk"),
        "people": Sum("people"),
        "quantity": Sum("quantity"),
        "amount": Sum("amount"),
    }
    overall = found.order_by().aggregate(**sums)
    lines = [Totals(_("合计"), overall["count"], overall["people"], overall["quantity"], overall["amount"])]
    spec = KINDS[kind]
    if spec.subkinds:
        grouped = found.order_by().values("subkind").annotate(**sums)
        by: dict[str, dict[str, Any]] = {str(row["subkind"]): dict(row) for row in grouped}
        for code, label in spec.subkinds:
            row = by.get(code)
            if row:
                lines.append(Totals(str(label), row["count"], row["people"], row["quantity"], row["amount"]))
    return lines


def activity_overview(campaign: Campaign, unit: Unit, *, subtree: bool = False) -> dict[str, dict[str, Any]]:
    """Per kind: how many records, and their people, quantity and amount totals."""
    where = Q(unit__path__startswith=unit.path) if subtree else Q(unit=unit)
    rows = (
        Activity.objects.filter(where, campaign=campaign)
        .order_by()
        .values("kind")
        .annotate(count=Count("pk"), people=Sum("people"), quantity=Sum("quantity"), amount=Sum("amount"))
    )
    return {str(row["kind"]): dict(row) for row in rows}


def teams_of(campaign: Campaign, unit: Unit) -> QuerySet[Team]:
    """The unit's teams in `campaign`, with how many households they help and what their visits count."""
    return (
        Team.objects.filter(campaign=campaign, unit=unit)
        .annotate(
            household_count=Count("households", distinct=True),
            visit_count=Count("activities", distinct=True),
        )
        .annotate(
            visit_people=Subquery(
                Activity.objects.filter(team=OuterRef("pk"))
                .order_by()
                .values("team")
                .annotate(total=Sum("people"))
                .values("total")[:1]
            )
        )
        .order_by("name", "pk")
    )


def stations_of(unit: Unit) -> QuerySet[Station]:
    """The unit's register, open stations first, with what their services count (over every campaign)."""
    services = Activity.objects.filter(station=OuterRef("pk")).order_by().values("station")
    return (
        Station.objects.filter(unit=unit)
        .annotate(
            service_count=Subquery(services.annotate(n=Count("pk")).values("n")[:1]),
            service_people=Subquery(services.annotate(n=Sum("people")).values("n")[:1]),
            service_amount=Subquery(services.annotate(n=Sum("amount")).values("n")[:1]),
        )
        .order_by(F("closed_on").desc(nulls_first=True), "name")
    )
