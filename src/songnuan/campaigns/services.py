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
  and `campaign_copy` refuses to copy it, naming it. The copy's 上一年活动 is the source; the reporting scope
  (本级/全辖) and the warning ratio are carried over, the notice file is not (a new notice has its own).
- **Last year's campaign** is one of the owner's own campaigns that started before this one (never itself,
  never a later one: no cycle can form).
- **The notice file** is a hostile upload until proven otherwise: its size is checked before a byte is read
  (`NOTICE_MAX_BYTES`), then its extension (pdf, doc, docx, wps, ofd, jpg, png) and its first bytes must
  agree (a .pdf starting with "%PDF-", a .docx a zip holding word/document.xml, an .ofd a zip holding
  OFD.xml, …). It is stored under MEDIA_ROOT (notices/<year>/) by the default storage, which strips any
  path from the name; it is downloaded only through `views.notice_file` (who sees the campaign).
- **Edit.** The notice's facts may be corrected at any time (a deadline is often extended), but a form or an
  addressee for which a table has already been started cannot be taken out: that would orphan the table.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, models, transaction
from django.utils.translation import gettext as _

from songnuan.campaigns.models import Campaign, ReportingScope
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
    reporting_scope: str = ReportingScope.OWN_LEVEL
    previous: Campaign | None = None
    #: As typed on the page (a str) or already a Decimal; `_clean` turns it into a Decimal or refuses it.
    change_ratio: Decimal | str | None = Decimal("3")
    #: A newly uploaded notice file, or None to keep the one the campaign has (if any).
    notice_file: UploadedFile | None = None  # type: ignore[type-arg]

    def with_changes(self, changes: Mapping[str, Any]) -> CampaignFacts:
        return replace(self, **changes)


@dataclass(frozen=True)
class CopyDraft:
    """The start of next year's campaign copied from `source`, and what could not be carried over."""

    source: Campaign
    facts: CampaignFacts
    missing_forms: list[str]  # form codes of `source` no longer among the form files
    closed_addressees: list[Unit]  # addressees of `source` closed since (or moved out of the owner's tree)


#: The largest notice file accepted: a scanned notice of a few pages is far below it.
NOTICE_MAX_BYTES = 20 * 1024 * 1024
NOTICE_EXTENSIONS = ("pdf", "doc", "docx", "wps", "ofd", "jpg", "jpeg", "png")
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAX_MEMBERS = 5_000
#: What an allowed file of each extension starts with (zip formats are then looked inside).
_MAGIC = {
    "pdf": (b"%PDF-",),
    "doc": (_OLE,),
    "wps": (_OLE,),
    "docx": (b"PK\x03\x04",),
    "ofd": (b"PK\x03\x04",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
}
_ZIP_MARKER = {"docx": "word/document.xml", "ofd": "OFD.xml"}
RATIO_LIMIT = Decimal("10000")  # the column holds 6 digits, 2 after the point


def _zip_holds(data: bytes, member: str) -> bool:
    # Counted before zipfile builds an object per member: a small file can name hundreds of thousands.
    if data.count(b"PK\x01\x02") > _ZIP_MAX_MEMBERS:
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return any(name.lstrip("/") == member for name in archive.namelist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, OSError, zlib.error):
        return False


def notice_file_refusal(upload: UploadedFile) -> str | None:  # type: ignore[type-arg]
    """Why `upload` cannot be the notice file (a Chinese sentence naming it), or None when it may."""
    name = os.path.basename(upload.name or "") or _("未命名文件")
    size = upload.size
    if size is None or size > NOTICE_MAX_BYTES:
        return _("通知文件“{name}”超过 {mb} MB，不能上传；请压缩或只上传通知正文。").format(
            name=name, mb=NOTICE_MAX_BYTES // 1048576
        )
    if size == 0:
        return _("通知文件“{name}”是空文件，请重新选择。").format(name=name)
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in NOTICE_EXTENSIONS:
        return _(
            "通知文件“{name}”的类型不能上传：只接受 PDF、Word（.doc、.docx）、WPS、OFD 文件或 JPG、PNG 图片。"
        ).format(name=name)
    upload.seek(0)
    data = b"".join(upload.chunks())
    upload.seek(0)
    marker = _ZIP_MARKER.get(extension)
    if not data.startswith(_MAGIC[extension]) or (marker is not None and not _zip_holds(data, marker)):
        return _(
            "通知文件“{name}”的内容不是 .{extension} 文件（按文件内容判断），请上传原始的通知文件。"
        ).format(name=name, extension=extension)
    return None


def _ratio(value: Decimal | str | None) -> Decimal | str:
    """The ratio as a Decimal, or the Chinese refusal."""
    refusal = _("警告倍数须是大于1的数，最多两位小数，如 3 或 2.5。")
    if value is None or (isinstance(value, str) and not value.strip()):
        return _("请填写与上年相比的警告倍数，如 3。")
    try:
        ratio = value if isinstance(value, Decimal) else Decimal(value.strip())
    except InvalidOperation:
        return refusal
    exponent = ratio.as_tuple().exponent
    if not ratio.is_finite() or not isinstance(exponent, int) or ratio <= 1 or ratio >= RATIO_LIMIT:
        return refusal
    if exponent < -2 and ratio != ratio.quantize(Decimal("0.01")):
        return refusal
    return ratio.quantize(Decimal("0.01"))


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

    if facts.reporting_scope not in ReportingScope.values:
        refuse("reporting_scope", _("请选择填报口径（本级或全辖）。"))
    previous = facts.previous
    if previous is not None:
        if previous.owner_id != owner.pk:
            refuse(
                "previous",
                _("上一年活动须是“{owner}”自己发出的活动。").format(owner=owner.name),
            )
        elif editing is not None and previous.pk == editing.pk:
            refuse("previous", _("上一年活动不能是本次活动自己。"))
        elif start is not None and previous.period_start >= start:
            refuse(
                "previous",
                _("“{title}”（{start}开始）不早于本次活动，不能作为上一年活动。").format(
                    title=previous.title, start=f"{previous.period_start:%Y-%m-%d}"
                ),
            )
    ratio = _ratio(facts.change_ratio)
    if isinstance(ratio, str):
        refuse("change_ratio", ratio)
    if facts.notice_file is not None:
        problem = notice_file_refusal(facts.notice_file)
        if problem is not None:
            refuse("notice_file", problem)

    if editing is not None:
        _refuse_orphaned_tables(editing, form_codes, addressees, refuse)
    if errors:
        raise ValidationError(
            {name: [ValidationError(m) for m in messages] for name, messages in errors.items()}
        )
    return facts.with_changes(
        {**texts, "form_codes": form_codes, "addressees": addressees, "change_ratio": ratio}
    )


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
    for name in (
        *TEXT_FIELDS,
        "period_start",
        "period_end",
        "deadline",
        "form_codes",
        "reporting_scope",
        "previous",
        "change_ratio",
    ):
        setattr(campaign, name, getattr(facts, name))
    replaced = ""
    if facts.notice_file is not None:
        replaced = campaign.notice_file.name or ""
        stem, extension = os.path.splitext(os.path.basename(facts.notice_file.name or "notice"))
        # The column holds 100 characters with "notices/<year>/"; the storage strips unsafe characters.
        campaign.notice_file.save(f"{stem[:50]}{extension.lower()}", facts.notice_file, save=False)
    campaign.save()
    if replaced:
        storage = campaign.notice_file.storage
        transaction.on_commit(lambda: storage.delete(replaced))  # only once the new one is recorded
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
        reporting_scope=campaign.reporting_scope,
        previous=campaign.previous,
        change_ratio=campaign.change_ratio,
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
        reporting_scope=source.reporting_scope,
        previous=source,
        change_ratio=source.change_ratio,
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


def lock_campaign(campaign_id: int, *, exclusive: bool) -> None:
    """For totals maintained beside a campaign's writes (the ledger's, the roll-up's): a writer holds the
    campaign row in KEY SHARE mode, a build of the totals FOR UPDATE — so a build waits for the writers in
    flight and never misses one, and writers do not wait for each other. PostgreSQL only: SQLite writes one
    transaction at a time."""
    if connection.vendor != "postgresql":
        return
    mode = "UPDATE" if exclusive else "KEY SHARE"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {Campaign._meta.db_table} WHERE id = %s FOR {mode}", [campaign_id])


def lock_unit_in_campaign(campaign_id: int, unit_id: int) -> None:
    """A writer's hold on one unit in a campaign (one spending check, one payment batch at a time per unit):
    the campaign first (KEY SHARE, as `lock_campaign`), then the unit FOR UPDATE. Every writer locks its
    campaign before its units, and a unit's move its campaigns before its units (`orgs.signals.unit_moving`),
    so no two of them wait for each other in a cycle."""
    lock_campaign(campaign_id, exclusive=False)
    Unit.objects.select_for_update().filter(pk=unit_id).first()
