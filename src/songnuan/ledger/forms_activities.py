"""The forms of the campaign activities' pages: an activity (its fields those its kind takes), a team, a
station, the list filter and the import upload. The rules are the services' (`ledger.activities`); a form
only turns what was typed into the services' inputs."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from songnuan.campaigns.models import Campaign
from songnuan.ledger.activities import (
    KINDS,
    ActivityFilter,
    ActivityInput,
    StationInput,
    TeamInput,
)
from songnuan.ledger.models import Activity, Station, Team
from songnuan.orgs.models import Unit


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


def _money(text: str) -> Decimal | None:
    cleaned = re.sub(r"[,，\s]", "", text).removesuffix("元")
    if not cleaned:
        return None
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise forms.ValidationError(_("“{text}”不是数字").format(text=text)) from None
    if not amount.is_finite():
        raise forms.ValidationError(_("“{text}”不是数字").format(text=text))
    return amount


class ActivityForm(forms.Form):
    """The fields of one kind of activity, labelled as that kind calls them."""

    def __init__(self, *args: Any, kind: str, campaign: Campaign, unit: Unit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        spec = KINDS[kind]
        for name in spec.columns():
            label = spec.label(name)
            # a household's visit may leave the count blank when it names the file (it counts one)
            required = name in spec.required and not (name == "people" and "household_id" in spec.allowed)
            field: forms.Field
            if name == "on":
                field = forms.DateField(label=label, widget=DateInput())
            elif name == "subkind":
                field = forms.ChoiceField(label=label, choices=[("", "——"), *spec.subkinds])
            elif name in ("people", "quantity", "household_id"):
                field = forms.IntegerField(label=label, required=required)
            elif name == "amount":
                field = forms.CharField(label=label, required=required, max_length=30)
            elif name == "team_id":
                field = forms.ModelChoiceField(
                    label=label,
                    queryset=Team.objects.filter(campaign=campaign, unit=unit).order_by("name"),
                    required=required,
                )
            elif name == "station_id":
                field = forms.ModelChoiceField(
                    label=label,
                    queryset=Station.objects.filter(unit=unit).order_by("name"),
                    required=required,
                )
            elif name == "link":
                field = forms.CharField(label=label, required=False, max_length=200)
            else:
                field = forms.CharField(label=label, required=required, max_length=200)
            if name == "on":
                field.required = True
            self.fields[name] = field

    def clean_amount(self) -> Decimal | None:
        return _money(self.cleaned_data.get("amount") or "")

    def to_input(self) -> ActivityInput:
        data = self.cleaned_data
        team = data.get("team_id")
        station = data.get("station_id")
        return ActivityInput(
            kind=self.kind,
            on=data.get("on"),
            subkind=data.get("subkind") or "",
            people=data.get("people"),
            quantity=data.get("quantity"),
            amount=data.get("amount"),
            title=data.get("title") or "",
            place=data.get("place") or "",
            link=data.get("link") or "",
            note=data.get("note") or "",
            team_id=team.pk if team else None,
            station_id=station.pk if station else None,
            household_id=data.get("household_id"),
        )

    @staticmethod
    def initial_of(activity: Activity) -> dict[str, Any]:
        return {
            "on": activity.on,
            "subkind": activity.subkind,
            "people": activity.people,
            "quantity": activity.quantity,
            "amount": activity.amount,
            "title": activity.title,
            "place": activity.place,
            "link": activity.link,
            "note": activity.note,
            "team_id": activity.team_id,
            "station_id": activity.station_id,
            "household_id": activity.household_id,
        }


class ActivityFilterForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("日期自"), required=False, widget=DateInput())
    end = forms.DateField(label=gettext_lazy("至"), required=False, widget=DateInput())
    subkind = forms.ChoiceField(label=gettext_lazy("细类"), required=False)
    team = forms.ModelChoiceField(label=gettext_lazy("工作组"), queryset=Team.objects.none(), required=False)
    q = forms.CharField(label=gettext_lazy("关键词"), required=False, max_length=100)
    subtree = forms.BooleanField(label=gettext_lazy("含下级单位"), required=False)

    def __init__(self, *args: Any, kind: str, campaign: Campaign, unit: Unit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        spec = KINDS[kind]
        if spec.subkinds:
            subkind = self.fields["subkind"]
            assert isinstance(subkind, forms.ChoiceField)
            subkind.choices = [("", _("全部")), *spec.subkinds]
            self.fields["subkind"].label = spec.label("subkind")
        else:
            del self.fields["subkind"]
        if "team_id" in spec.allowed:
            team_field = self.fields["team"]
            assert isinstance(team_field, forms.ModelChoiceField)
            team_field.queryset = Team.objects.filter(campaign=campaign, unit=unit).order_by("name")
        else:
            del self.fields["team"]

    def asked(self) -> ActivityFilter:
        if not self.is_bound or not self.is_valid():
            return ActivityFilter()
        data = self.cleaned_data
        team = data.get("team")
        return ActivityFilter(
            start=data.get("start"),
            end=data.get("end"),
            subkind=data.get("subkind") or "",
            team_id=team.pk if team else None,
            text=(data.get("q") or "").strip(),
            subtree=bool(data.get("subtree")),
        )


class TeamForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("工作组名称"), max_length=100)
    leader = forms.CharField(label=gettext_lazy("带队领导"), max_length=50)
    members = forms.CharField(
        label=gettext_lazy("成员"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    linked_places = forms.CharField(
        label=gettext_lazy("联系县市区、功能区"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    linked_enterprises = forms.CharField(
        label=gettext_lazy("联系企业"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    households = forms.CharField(
        label=gettext_lazy("帮扶困难职工家庭（档案编号，用逗号或空格分隔）"), required=False, max_length=5000
    )

    def clean_households(self) -> list[int]:
        text = self.cleaned_data.get("households") or ""
        parts = [part for part in re.split(r"[\s,，、;；]+", text) if part]
        bad = [part for part in parts if not part.isdigit()]
        if bad:
            raise forms.ValidationError(_("档案编号应是数字：{bad}").format(bad="、".join(bad)))
        return sorted({int(part) for part in parts})

    def to_input(self) -> TeamInput:
        data = self.cleaned_data
        return TeamInput(
            name=data["name"],
            leader=data["leader"],
            members=data.get("members") or "",
            linked_places=data.get("linked_places") or "",
            linked_enterprises=data.get("linked_enterprises") or "",
            household_ids=data.get("households") or [],
        )

    @staticmethod
    def initial_of(team: Team) -> dict[str, Any]:
        return {
            "name": team.name,
            "leader": team.leader,
            "members": team.members,
            "linked_places": team.linked_places,
            "linked_enterprises": team.linked_enterprises,
            "households": "、".join(
                str(pk) for pk in team.households.order_by("pk").values_list("pk", flat=True)
            ),
        }


class StationForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("站点名称"), max_length=100)
    address = forms.CharField(label=gettext_lazy("地址"), max_length=200)
    operator = forms.CharField(label=gettext_lazy("运营单位"), required=False, max_length=100)
    opened_on = forms.DateField(label=gettext_lazy("启用日期"), widget=DateInput())

    def to_input(self) -> StationInput:
        data = self.cleaned_data
        return StationInput(
            name=data["name"],
            address=data["address"],
            operator=data.get("operator") or "",
            opened_on=data["opened_on"],
        )


class StationCloseForm(forms.Form):
    closed_on = forms.DateField(label=gettext_lazy("停用日期"), widget=DateInput())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["closed_on"].initial = timezone.localdate()


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("文件（.xlsx、.xls、.ods 或 .csv）"))
