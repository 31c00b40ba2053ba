"""`manage.py seed_demo`: the demo city of `make run` (units, accounts, the 2018 campaign, some tables)."""

from __future__ import annotations

import datetime as dt
import random
import tomllib
from decimal import Decimal
from importlib import resources
from typing import Any

from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from songnuan.archive import generate, services
from songnuan.archive.models import Household
from songnuan.campaigns.models import Campaign
from songnuan.demo.checks import load_demo_checks
from songnuan.demo.ledger import (
    align_demo_tables,
    load_demo_activities,
    load_demo_batch,
    load_demo_ledger,
)
from songnuan.formkit import yearly
from songnuan.formkit.definitions import ItemKind, get_form
from songnuan.formkit.engine import Value
from songnuan.ledger.models import HelpRecord
from songnuan.orgs.models import Account, Unit
from songnuan.orgs.services import account_create, unit_create
from songnuan.reporting.models import Submission, SubmissionValue


def load_demo_archive(spec: dict[str, Any]) -> int:
    """Generated households across the units that have a reporter: applied by it, filed by the city.

    A realistic mix: most filed, some still applications, some out of difficulty or closed, plans partly
    written (the 四明确 report has something to show), some yearly reviews overdue, some proposals of the
    units (to leave difficulty or close the file) waiting for the reviewer. Every change goes through the
    services, so each file's history shows how it got there.
    """
    rng = random.Random(spec["seed"])
    reporters = list(
        Account.objects.filter(role=Account.Role.REPORTER).select_related("user", "unit").order_by("pk")
    )
    reviewer = Account.objects.get(user__username=spec["reviewer"]).user
    for username in spec["may_see_personal_data"]:
        Account.objects.get(user__username=username).user.user_permissions.add(
            Permission.objects.get(codename="view_personal_data")
        )
    categories = {"困难职工": "worker", "困难农民工": "migrant", "困难劳模": "model-worker"}
    paths = list(Household.OutPath.values)
    today = timezone.localdate()
    for generated in generate.households(spec["households"], seed=spec["seed"]):
        account = rng.choice(reporters)
        household = services.household_apply(
            user=account.user,
            unit=account.unit,
            data=services.HouseholdInput(
                head_name=generated.name,
                head_id_number=generated.id_number,
                category=categories[generated.category],
                phone=generated.phone,
                employer=generated.employer,
                difficulty_type=generated.difficulty_type,
                main_cause=generated.main_cause,
                monthly_income=generated.monthly_income,
                household_size=generated.household_size,
                minimum_living_line=Decimal(spec["minimum_living_line"]),
                card_kind=Household.CardKind.UNION_CARD,
                bank=generated.bank,
                card_number=generated.card_number,
            ),
        )
        fate = rng.random()
        if fate < 0.08:
            continue  # an application still waiting for the reviewer
        household = services.household_file(user=reviewer, household=household)
        if rng.random() < 0.6:
            services.plan_set(
                user=reviewer,
                household=household,
                contact=f"{account.unit.contact_name}（{account.unit.name}）",
                deadline=today + dt.timedelta(days=rng.randrange(90, 720)),
                measures=rng.choice(("职业介绍与技能培训", "申请大病救助", "子女助学", "协调纳入低保")),
                path=rng.choice(paths),
            )
        if fate > 0.94:
            services.household_close(user=reviewer, household=household, reason="户主迁出本市", on=today)
        elif fate > 0.88:
            services.household_out_of_difficulty(
                user=reviewer, household=household, path=rng.choice(paths), on=today
            )
        elif fate > 0.73:  # filed more than a year ago and not reviewed since: due for the yearly review
            long_ago = timezone.now() - dt.timedelta(days=rng.randrange(380, 700))
            Household.objects.filter(pk=household.pk).update(filed_at=long_ago, last_reviewed_at=long_ago)
            if fate > 0.85:  # the unit proposes to end the file; the city's reviewer is to decide
                if fate > 0.865:
                    services.household_propose_out(
                        user=account.user, household=household, path=paths[0], on=today
                    )
                else:
                    services.household_propose_close(
                        user=account.user, household=household, reason="户主已退休，家庭收入稳定", on=today
                    )
    return int(spec["households"])


def demo_data() -> dict[str, Any]:
    text = (resources.files("songnuan.orgs") / "data" / "demo-jingmen.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def example_values(form_code: str, scale: int) -> dict[str, Value]:
    """A filled example of the form, every number multiplied by `scale` (sums and comparisons still hold)."""
    path = resources.files("songnuan.formkit") / "examples" / f"filled-{form_code}.toml"
    raw = tomllib.loads(path.read_text(encoding="utf-8"))["values"]
    values: dict[str, Value] = {}
    for item in get_form(form_code).items:
        value = raw[item.code]
        if item.kind is ItemKind.MONEY:
            values[item.code] = Decimal(value) * scale
        elif item.kind is ItemKind.COUNT:
            values[item.code] = int(value) * scale
        else:
            values[item.code] = value
    return values


#: (unit, form, item, last year's value, the explanation): 京山市 visited 144 enterprises in 2018 against 40
#: in 2017, more than 3 times as many, so its 2018 table carries the comparison's warning and its explanation.
LAST_YEAR_CHANGE = ("jingshan", "warmth-2018", "1A", 40, "2018年起走访范围扩大到全市规模以上企业，经核实无误")


class Command(BaseCommand):
    help = "载入演示数据：荆门市总工会及其下属单位、演示账号、2018年送温暖活动和部分已填报的统计表"

    def handle(self, *args: Any, **options: Any) -> None:
        data = demo_data()
        if Unit.objects.filter(parent=None, name=data["units"][0]["name"]).exists():
            self.stdout.write("演示数据已存在，未重复载入。")
        else:
            self._load(data)
            self.stdout.write("已载入演示数据。")
        if not Household.objects.exists():
            count = load_demo_archive(data["archive"])
            self.stdout.write(f"已生成 {count} 户困难职工档案（身份证号为虚构的有效号码）。")
        if not HelpRecord.objects.exists():
            campaign = Campaign.objects.get(document_number=data["campaign"]["document_number"])
            records = load_demo_ledger(campaign, seed=data["archive"]["seed"])
            load_demo_batch(campaign)
            load_demo_activities(campaign)
            align_demo_tables(campaign)
            self.stdout.write(
                f"已生成帮扶台账：{records} 条发放记录（含被拒绝的录入）、资金筹集和下拨、"
                "一个已对账的银行代发批次、联帮促工作组、返乡包车、服务站点和媒体报道。"
            )
        self.stdout.write(load_demo_checks(data["campaign"]["document_number"]).message())
        self.stdout.write(f"演示账号（密码都是 {data['password']}）：")
        for account in Account.objects.select_related("user", "unit").order_by("unit__path", "role"):
            full = "（可查看完整身份证号）" if account.user.has_perm("archive.view_personal_data") else ""
            self.stdout.write(
                f"  {account.user.username:<22} {account.get_role_display()}  {account.unit.name}{full}"
            )

    @transaction.atomic
    def _load(self, data: dict[str, Any]) -> None:
        units: dict[str, Unit] = {}
        for position, spec in enumerate(data["units"]):
            units[spec["key"]] = unit_create(
                name=spec["name"],
                kind=spec["kind"],
                parent=units.get(spec.get("parent", "")),
                contact_name=spec.get("contact_name", ""),
                contact_phone=spec.get("contact_phone", ""),
                sort_order=position,
            )
        for spec in data["accounts"]:
            account_create(
                username=spec["username"],
                password=data["password"],
                unit=units[spec["unit"]],
                role=spec["role"],
                name=spec.get("name", ""),
            )
        previous = self._last_year(units, data)
        spec = data["campaign"]
        notice = resources.files("songnuan.campaigns") / "data" / "jinggongbanfadian-2017-18.txt"
        campaign = Campaign.objects.create(
            title=spec["title"],
            document_number=spec["document_number"],
            owner=units[spec["owner"]],
            period_start=spec["period_start"],
            period_end=spec["period_end"],
            period_text=spec["period_text"],
            deadline=spec["deadline"],
            receiving_department=spec["receiving_department"],
            contact_name=spec["contact_name"],
            contact_phone=spec["contact_phone"],
            contact_email=spec["contact_email"],
            form_codes=spec["form_codes"],
            notice_text=notice.read_text(encoding="utf-8"),
            previous=previous,
        )
        campaign.addressees.set([units[key] for key in spec["addressees"]])
        submitted_at = timezone.make_aware(dt.datetime(2018, 2, 3, 10, 30))
        for spec in data["submissions"]:
            for form_code in campaign.form_codes:
                submission = Submission.objects.create(
                    campaign=campaign,
                    unit=units[spec["unit"]],
                    form_code=form_code,
                    status=spec["status"],
                    reporter=units[spec["unit"]].contact_name,
                    phone=units[spec["unit"]].contact_phone,
                    report_date=dt.date(2018, 2, 3),
                    submitted_at=None if spec["status"] == Submission.Status.DRAFT else submitted_at,
                )
                SubmissionValue.objects.bulk_create(
                    SubmissionValue(
                        submission=submission,
                        item=code,
                        number=None if isinstance(value, str) else Decimal(value),
                        text=value if isinstance(value, str) else "",
                    )
                    for code, value in example_values(form_code, spec["scale"]).items()
                    if value is not None
                )
        # One value the comparison with last year warns of (see `LAST_YEAR_CHANGE`), explained as the unit
        # would have before submitting.
        unit_key, form_code, code, _old, why = LAST_YEAR_CHANGE
        for submission in Submission.objects.filter(
            campaign=campaign, unit=units[unit_key], form_code=form_code
        ):
            submission.explanations = {
                **submission.explanations,
                yearly.rule_id(get_form(form_code), code): why,
            }
            submission.save(update_fields=["explanations"])

    def _last_year(self, units: dict[str, Unit], data: dict[str, Any]) -> Campaign:
        """The 2017 campaign, with an accepted table of each form for every unit that has one in 2018 (the
        same figures, but for `LAST_YEAR_CHANGE`), so the entry pages and the grid show last year."""
        spec = data["campaign"]
        campaign = Campaign.objects.create(
            title="关于2017年元旦春节期间全市工会开展送温暖活动的通知（演示用上年数据）",
            document_number="演示-2017",
            owner=units[spec["owner"]],
            period_start=dt.date(2017, 1, 1),
            period_end=dt.date(2017, 1, 27),
            deadline=dt.date(2017, 2, 5),
            receiving_department=spec["receiving_department"],
            form_codes=spec["form_codes"],
        )
        campaign.addressees.set([units[key] for key in spec["addressees"]])
        accepted_at = timezone.make_aware(dt.datetime(2017, 2, 4, 9, 0))
        # Accepted by the city's reviewer, as through the workflow (a page names who accepted a table).
        accepted_by = (
            Account.objects.filter(unit=campaign.owner, role=Account.Role.REVIEWER)
            .values_list("user", flat=True)
            .first()
        )
        for table in data["submissions"]:
            unit = units[table["unit"]]
            for form_code in campaign.form_codes:
                values = example_values(form_code, table["scale"])
                unit_key, changed_form, code, old, _why = LAST_YEAR_CHANGE
                if (table["unit"], form_code) == (unit_key, changed_form):
                    values[code] = old
                submission = Submission.objects.create(
                    campaign=campaign,
                    unit=unit,
                    form_code=form_code,
                    status=Submission.Status.ACCEPTED,
                    reporter=unit.contact_name,
                    phone=unit.contact_phone,
                    report_date=dt.date(2017, 2, 3),
                    submitted_at=accepted_at,
                    reviewed_at=accepted_at,
                    reviewed_by_id=accepted_by,
                )
                SubmissionValue.objects.bulk_create(
                    SubmissionValue(
                        submission=submission,
                        item=item,
                        number=None if isinstance(value, str) else Decimal(value),
                        text=value if isinstance(value, str) else "",
                    )
                    for item, value in values.items()
                    if value is not None
                )
        return campaign
