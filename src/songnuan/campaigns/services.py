"""Writes to campaigns: create one from the notice's facts, copy last year's as a start, edit one.

Every function checks the rule first (`songnuan.orgs.permissions.may_create_campaign`: an admin of the unit
that sends the notice; PermissionDenied with a Chinese reason), then the facts (a ValidationError whose
messages are keyed by the field they concern, so a page shows each beside its field), and only then writes,
in one transaction: nothing is half-written.

Decisions (documented in the README's campaign section):

- **Copy.** A copy keeps the owner, the addressees (those still open), the receiving department, the contact
  and the forms; the period and the deadline move on by one year (29 February becomes 28 February); the
  title is kept for the person to change, the 文号, the period as printed and the notice text are left
  blank (a new notice has its own). A form of last year's campaign that is no longer among the form files
  is not carried over: `copy_draft` names it (the page says so, and the person picks this year's table),
  and `campaign_copy` refuses to copy it, naming it.
- **Edit.** The notice's facts may be corrected at any time (a deadline is often extended), but a form or an
  addressee for which a table has already been started cannot be taken out: that would orphan the table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from songnuan.campaigns.models import Campaign
from songnuan.formkit.definitions import builtin_forms
from songnuan.orgs.models import Unit
from songnuan.orgs.permissions import campaign_addressee_choices, may_create_campaign

#: The notice's facts a page sends, beside the owner (fixed by who writes it) and the addressees.
TEXT_FIELDS = (
    "title",
    "document_number",
    "period_text",
    "receiving_department",
    "contact_name",
    "contact_phone",
    "contact_email",
    "notice_text",
)


@dataclass
class CampaignFacts:
    """What one notice says: everything a campaign holds except its owner."""

    title: str = ""
    document_number: str = ""
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    period_text: str = ""
    deadline: dt.date | None = None
    receiving_department: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    form_codes: list[str] = field(default_factory=list)
    addressees: list[Unit] = field(default_factory=list)
    notice_text: str = ""

    def with_changes(self, changes: Mapping[str, Any]) -> CampaignFacts:
        return replace(self, **changes)


@dataclass(frozen=True)
class CopyDraft:
    """The start of next year's campaign copied from `source`, and what could not be carried over."""

    source: Campaign
    facts: CampaignFacts
    missing_forms: list[str]  # form codes of `source` no longer among the form files
    closed_addressees: list[Unit]  # addressees of `source` closed since (or moved out of the owner's tree)


def _one_year_on(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def _refuse_unless_allowed(actor: User, owner: Unit) -> None:
    if not may_create_campaign(actor, owner):
        raise PermissionDenied(
            _("只有“{unit}”的管理员可以新建、复制或修改该单位发出的送温暖活动。").format(unit=owner.name)
        )


def _clean(owner: Unit, facts: CampaignFacts, *, editing: Campaign | None = None) -> CampaignFacts:
    """The facts tidied (surrounding and repeated spaces of one-line texts), or a ValidationError keyed by
    field with every problem found."""
    errors: dict[str, list[str]] = {}

    def refuse(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    texts = {name: str(getattr(facts, name) or "") for name in TEXT_FIELDS}
    for name in TEXT_FIELDS:
        if name != "notice_text":
            texts[name] = " ".join(texts[name].split())
        model_field = Campaign._meta.get_field(name)
        assert isinstance(model_field, models.Field)
        limit = model_field.max_length
        if limit is not None and len(texts[name]) > limit:
            refuse(
                name, _("{label}太长：最多{limit}个字。").format(label=model_field.verbose_name, limit=limit)
            )
    if not texts["title"]:
        refuse("title", _("请填写通知标题。"))
    number = texts["document_number"]
    if not number:
        refuse("document_number", _("请填写文号，如“荆工办发电〔2018〕20号”。"))
    else:
        taken = Campaign.objects.filter(owner=owner, document_number=number)
        if editing is not None:
            taken = taken.exclude(pk=editing.pk)
        other = taken.first()
        if other is not None:
            refuse(
                "document_number",
                _("文号“{number}”已用于本单位的另一次活动“{title}”，请核对文号。").format(
                    number=number, title=other.title
                ),
            )

    start, end, deadline = facts.period_start, facts.period_end, facts.deadline
    if start is None:
        refuse("period_start", _("请填写活动开始日期。"))
    if end is None:
        refuse("period_end", _("请填写活动结束日期。"))
    if deadline is None:
        refuse("deadline", _("请填写报送截止日期。"))
    if start is not None and end is not None and end < start:
        refuse(
            "period_end",
            _("活动结束日期（{end}）早于开始日期（{start}）。").format(
                end=f"{end:%Y-%m-%d}", start=f"{start:%Y-%m-%d}"
            ),
        )
    if start is not None and deadline is not None and deadline < start:
        refuse(
            "deadline",
            _("报送截止日期（{deadline}）早于活动开始日期（{start}）。").format(
                deadline=f"{deadline:%Y-%m-%d}", start=f"{start:%Y-%m-%d}"
            ),
        )

    form_codes = list(dict.fromkeys(facts.form_codes))
    known = builtin_forms()
    missing = [code for code in form_codes if code not in known]
    if not form_codes:
        refuse("form_codes", _("请至少选择一张统计表。"))
    elif missing:
        refuse(
            "form_codes",
            _("统计表“{codes}”已不在表样文件中，请另选今年的统计表。").format(codes="、".join(missing)),
        )

    addressees = list({unit.pk: unit for unit in facts.addressees}.values())
    allowed = set(campaign_addressee_choices(owner).values_list("pk", flat=True))
    outside = [unit for unit in addressees if unit.pk not in allowed]
    if not addressees:
        refuse("addressees", _("请至少选择一个主送单位。"))
    elif outside:
        refuse(
            "addressees",
            _("“{units}”不是“{owner}”下属的在册单位，不能作为主送单位。").format(
                units="、".join(unit.name for unit in outside), owner=owner.name
            ),
        )

    if editing is not None:
        _refuse_orphaned_tables(editing, form_codes, addressees, refuse)
    if errors:
        raise ValidationError(
            {name: [ValidationError(m) for m in messages] for name, messages in errors.items()}
        )
    return facts.with_changes({**texts, "form_codes": form_codes, "addressees": addressees})


def _refuse_orphaned_tables(
    campaign: Campaign, form_codes: list[str], addressees: list[Unit], refuse: Any
) -> None:
    """A form or an addressee already holding a started table stays in the campaign. The tables are found
    through the reverse relation the reporting app declares (`submissions`), which campaigns may not import;
    without that app there are none."""
    tables = getattr(campaign, "submissions", None)
    if tables is None:
        return
    started = list(tables.select_related("unit").only("form_code", "unit__name", "unit__path"))
    dropped = sorted({t.form_code for t in started if t.form_code not in form_codes})
    if dropped:
        refuse(
            "form_codes",
            _("统计表“{codes}”已有单位开始填报，不能从活动中去掉。").format(codes="、".join(dropped)),
        )
    paths = [unit.path for unit in addressees]
    left_out = sorted(
        {
            t.unit.name
            for t in started
            if t.unit.pk != campaign.owner_id and not any(t.unit.path.startswith(p) for p in paths)
        }
    )
    if left_out:
        refuse(
            "addressees",
            _("“{units}”已开始填报本次活动的统计表，其所属的主送单位不能去掉。").format(
                units="、".join(left_out)
            ),
        )


def _write(campaign: Campaign, facts: CampaignFacts) -> Campaign:
    for name in (*TEXT_FIELDS, "period_start", "period_end", "deadline", "form_codes"):
        setattr(campaign, name, getattr(facts, name))
    campaign.save()
    campaign.addressees.set(facts.addressees)
    return campaign


@transaction.atomic
def campaign_create(actor: User, owner: Unit, facts: CampaignFacts) -> Campaign:
    """A new campaign of `owner` (the unit that sends the notice) from the notice's facts."""
    _refuse_unless_allowed(actor, owner)
    clean = _clean(owner, facts)
    return _write(Campaign(owner=owner), clean)


@transaction.atomic
def campaign_update(actor: User, campaign: Campaign, facts: CampaignFacts) -> Campaign:
    """Correct the facts of `campaign` (its owner stays); see the module's note on what may not change."""
    _refuse_unless_allowed(actor, campaign.owner)
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    clean = _clean(campaign.owner, facts, editing=locked)
    return _write(locked, clean)


def facts_of(campaign: Campaign) -> CampaignFacts:
    """The facts of an existing campaign (the edit page starts from them)."""
    return CampaignFacts(
        **{name: getattr(campaign, name) for name in TEXT_FIELDS},
        period_start=campaign.period_start,
        period_end=campaign.period_end,
        deadline=campaign.deadline,
        form_codes=list(campaign.form_codes),
        addressees=list(campaign.addressees.order_by("path")),
    )


def copy_draft(source: Campaign) -> CopyDraft:
    """Next year's campaign as `source` would start it (see the module's note), and what was left out."""
    known = builtin_forms()
    choices = {unit.pk for unit in campaign_addressee_choices(source.owner)}
    addressees = list(source.addressees.order_by("path"))
    facts = CampaignFacts(
        title=source.title,
        document_number="",
        period_start=_one_year_on(source.period_start),
        period_end=_one_year_on(source.period_end),
        period_text="",
        deadline=_one_year_on(source.deadline),
        receiving_department=source.receiving_department,
        contact_name=source.contact_name,
        contact_phone=source.contact_phone,
        contact_email=source.contact_email,
        form_codes=[code for code in source.form_codes if code in known],
        addressees=[unit for unit in addressees if unit.pk in choices],
        notice_text="",
    )
    return CopyDraft(
        source=source,
        facts=facts,
        missing_forms=[code for code in source.form_codes if code not in known],
        closed_addressees=[unit for unit in addressees if unit.pk not in choices],
    )


@transaction.atomic
def campaign_copy(actor: User, source: Campaign, changes: Mapping[str, Any]) -> Campaign:
    """A new campaign of `source`'s owner started from `source` (`copy_draft`) with `changes` (at least the
    new 文号). Refused, naming them, when a form of `source` is no longer among the form files and `changes`
    does not choose the forms anew."""
    _refuse_unless_allowed(actor, source.owner)
    draft = copy_draft(source)
    if draft.missing_forms and "form_codes" not in changes:
        raise ValidationError(
            {
                "form_codes": [
                    ValidationError(
                        _("上年活动的统计表“{codes}”已不在表样文件中，无法复制；请选择今年的统计表。").format(
                            codes="、".join(draft.missing_forms)
                        )
                    )
                ]
            }
        )
    return campaign_create(actor, source.owner, draft.facts.with_changes(changes))
