"""The ledger's codes that form files name: the canonical lists behind `ledger = { … }` derivations (see
docs/forms.md) and the activities pages (`songnuan.ledger.activities`), so a page records exactly the codes a
form item counts.

No Django here beyond the models' choices: the same lists check the built-in form files (tests) and fill the
pages' select boxes. Each list is (code, Chinese label), in the order a page offers them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from songnuan.archive.models import Household
from songnuan.ledger.models import Activity, HelpRecord

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

Codes = tuple[tuple[str, "StrOrPromise"], ...]

#: visit-enterprise: the enterprise's kind (the same codes as a help record's enterprise kind; 附件1 1B).
ENTERPRISE_KINDS: Codes = tuple((str(c), label) for c, label in HelpRecord.EnterpriseKind.choices)

#: service: what service (附件1 8B–8G; 附件2 9M 政策咨询 and 13B 心理咨询).
SERVICE_KINDS: Codes = (
    ("career", _("职业发展规划")),  # 8B
    ("counselling", _("心理疏导")),  # 8C
    ("care", _("人文关怀")),  # 8D
    ("health", _("医疗体检、健康咨询")),  # 8E
    ("childcare", _("子女托管")),  # 8F
    ("welfare", _("其他生活福利服务")),  # 8G
    ("policy-advice", _("政策咨询")),  # 附件2 9M
)
#: The services 附件1 8A adds up (8B–8G).
FORM_SERVICES = ("career", "counselling", "care", "health", "childcare", "welfare")

#: return-trip: the vehicle chartered (附件1 9B–9K). `quantity` = vehicles (列, 节, 辆, 艘, 架),
#: `people` = migrant workers carried (人次).
VEHICLES: Codes = (
    ("train", _("专列")),  # 9B, 9C
    ("carriage", _("火车车厢")),  # 9D, 9E
    ("coach", _("汽车")),  # 9F, 9G
    ("boat", _("船")),  # 9H, 9I
    ("plane", _("包机")),  # 9J, 9K
)

#: media: the level of the outlet, or an exhibition (附件1 5A–5C). One record per report or exhibition.
MEDIA_LEVELS: Codes = (
    ("central", _("中央级新闻媒体")),  # 5A
    ("provincial", _("省部级新闻媒体")),  # 5B
    ("local", _("市县级新闻媒体")),  # not in 附件1
    ("exhibition", _("维护职工权益工作主题成果展示")),  # 5C (场次)
)

#: Per activity kind, the subkind codes it takes ("" = none). A kind not listed takes no subkind.
SUBKINDS: Mapping[str, Codes] = {
    Activity.Kind.VISIT_ENTERPRISE: ENTERPRISE_KINDS,
    Activity.Kind.SERVICE: SERVICE_KINDS,
    Activity.Kind.RETURN_TRIP: VEHICLES,
    Activity.Kind.MEDIA: MEDIA_LEVELS,
}

#: What `people`, `quantity` and `amount` mean for each activity kind (the pages' column headings).
MEASURES: Mapping[str, Mapping[str, StrOrPromise]] = {
    Activity.Kind.VISIT_ENTERPRISE: {"quantity": _("走访企业（家）")},
    Activity.Kind.VISIT_FRONTLINE: {"people": _("慰问一线职工（人）")},
    Activity.Kind.VISIT_TALENT: {"people": _("慰问专业人才（人）")},
    Activity.Kind.VISIT_HOUSEHOLD: {"people": _("走访困难家庭（户）")},
    Activity.Kind.POLICY: {"people": _("落实民生政策（人次）")},
    Activity.Kind.SERVICE: {"people": _("服务人次")},
    Activity.Kind.RIGHTS: {"people": _("维权人次")},
    Activity.Kind.WAGES: {"people": _("追讨欠薪职工（人）"), "amount": _("追讨欠薪金额（元）")},
    Activity.Kind.RETURN_TRIP: {"quantity": _("包车（船、机）数"), "people": _("运送农民工（人次）")},
    Activity.Kind.TICKETS: {"quantity": _("购票（张）")},
    Activity.Kind.TICKET_WINDOW: {"quantity": _("窗口（个）")},
    Activity.Kind.EMPLOYER_SUBSIDY: {"amount": _("争取补贴（元）")},
    Activity.Kind.STATION_SERVICE: {"people": _("服务人次"), "amount": _("涉及资金财物（元）")},
    Activity.Kind.MEDIA: {"quantity": _("报道（次）")},
}


def codes(values: Codes) -> frozenset[str]:
    return frozenset(code for code, _label in values)


def filter_vocabulary() -> dict[str, frozenset[str]]:
    """Per filter field of a derivation, the codes it may name. The help items' and fund sources' codes and
    the 附件1 items they count in are configured data (data/ledger.toml), so those fields are checked
    against the configuration file, not here."""
    from songnuan.ledger.config import configuration

    data = configuration()
    return {
        "item": frozenset(raw["code"] for raw in data["help_items"]),
        "item_form_item": frozenset(raw.get("form_item", "") for raw in data["help_items"]) - {""},
        "source": frozenset(raw["code"] for raw in data["fund_sources"]),
        "source_form_item": frozenset(raw.get("form_item", "") for raw in data["fund_sources"]) - {""},
        "recipient": frozenset(HelpRecord.RecipientKind.values),
        "household_category": frozenset(Household.Category.values),
        "person_category": frozenset(HelpRecord.PersonCategory.values),
        "enterprise_kind": frozenset(HelpRecord.EnterpriseKind.values),
        "channel": frozenset(HelpRecord.Channel.values),
        "kind": frozenset(Activity.Kind.values),
        "subkind": frozenset(code for values in SUBKINDS.values() for code, _label in values),
    }
