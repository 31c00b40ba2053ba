"""The relief ledger (帮扶台账): what units raised and handed out in a campaign, under the notice's money
rules, and what else they did (visits, teams, trips, stations, media) — the records 附件1 is derived from.

Money is yuan in `Decimal` (two places). Blank is not zero: an amount not given is NULL.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Func
from django.db.models.lookups import IsNull
from django.utils.translation import gettext_lazy as _

from songnuan.archive.models import Household
from songnuan.campaigns.models import Campaign
from songnuan.orgs.models import Unit

# --- configured data (data/ledger.toml, changeable in the Django admin) -----------------------------------


class FundSource(models.Model):
    """A source of relief money (资金来源): the 附件1 item it counts in, and whether 依档帮扶 binds it."""

    code = models.SlugField(_("代码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    form_item = models.CharField(_("计入附件1项目"), max_length=10, blank=True)
    #: Central and provincial relief money: only to households filed before the payment, never in cash.
    archive_first = models.BooleanField(_("须依档帮扶"), default=False)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("资金来源")
        verbose_name_plural = _("资金来源")
        ordering = ["sort_order", "pk"]

    def __str__(self) -> str:
        return self.name


class HelpItem(models.Model):
    """A kind of help (帮扶项目) and its caps (全总《中央财政专项帮扶资金使用管理办法》; provinces' visit
    caps)."""

    class CapBasis(models.TextChoices):
        NONE = "", _("不限")
        FIXED = "fixed", _("固定金额")
        LIVING_LINE_YEAR = "living-line-year", _("每户每年不超过当地低保标准全年总额")
        COST = "cost", _("不超过个人自付费用")
        LIVING_LINE_10_MONTHS = "living-line-10-months", _("每名学生不超过10个月基本生活费")

    class Severity(models.TextChoices):
        ERROR = "error", _("拒绝保存")
        WARNING = "warning", _("提醒并须说明")

    code = models.SlugField(_("代码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    form_item = models.CharField(_("计入附件1项目"), max_length=10, blank=True)
    cap_basis = models.CharField(_("限额依据"), max_length=30, choices=CapBasis.choices, blank=True)
    per_payment = models.DecimalField(
        _("单次限额（元）"), null=True, blank=True, max_digits=14, decimal_places=2
    )
    per_year = models.DecimalField(
        _("每人（户）每年限额（元）"), null=True, blank=True, max_digits=14, decimal_places=2
    )
    cap_severity = models.CharField(
        _("超限处理"), max_length=10, choices=Severity.choices, default=Severity.WARNING
    )
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("帮扶项目")
        verbose_name_plural = _("帮扶项目")
        ordering = ["sort_order", "pk"]

    def __str__(self) -> str:
        return self.name


# --- money raised and passed down -------------------------------------------------------------------------


class Receipt(models.Model):
    """Money a unit raised (筹集) for a campaign from one source, or was allocated (下拨) by the unit above.

    An allocation is raised once, where it was raised: the giver's own raised receipt stays, the taker gets
    a row of kind ALLOCATION naming the giver, and roll-ups of money raised count RAISED rows only. What a
    unit may spend from a source is what it raised and was allocated, less what it allocated on.
    """

    class Kind(models.TextChoices):
        RAISED = "raised", _("本级筹集")
        ALLOCATION = "allocation", _("上级下拨")

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="receipts")
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="receipts")
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices, default=Kind.RAISED)
    from_unit = models.ForeignKey(
        Unit,
        verbose_name=_("下拨单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="allocations_given",
    )
    source = models.ForeignKey(FundSource, verbose_name=_("资金来源"), on_delete=models.PROTECT)
    amount = models.DecimalField(_("金额（元）"), max_digits=14, decimal_places=2)
    received_on = models.DateField(_("到账日期"))
    reference = models.CharField(_("文件或凭证号"), max_length=100, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(auto_now_add=True)
    #: A correction: this row cancels `reverses` (its amount negated), with the reason in `note`.
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )

    class Meta:
        verbose_name = _("筹集和下拨资金")
        verbose_name_plural = _("筹集和下拨资金")
        indexes = [models.Index(fields=["campaign", "unit", "source"])]

    def __str__(self) -> str:
        return f"{self.unit} {self.source} {self.amount}"


class Unindexed(Func):
    """A column as a value no index serves, on SQLite (unary plus); the column itself elsewhere.

    SQLite takes `reverses_id IS NULL` to the unique index on `reverses`, which it believes holds one row a
    value, and walks the NULLs of every campaign — nearly the whole table — instead of the campaign's own
    records. PostgreSQL counts the NULLs and needs no such help."""

    template = "%(expressions)s"

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return super().as_sql(compiler, connection, template="+%(expressions)s", **extra_context)


# --- help given -------------------------------------------------------------------------------------------


class HelpRecord(models.Model):
    """One handing-out (发放) of money or goods to a household, a person or an enterprise.

    A draft (待审核) is the preparer's to change; a reviewer of the unit or above who did not enter it
    approves it, and only approved records count (tables, batches, 公示). An approved record is never edited
    or deleted: a correction is a reversal (a new approved record with the amounts negated, `reverses` set,
    a reason), and the history shows both.
    """

    class State(models.TextChoices):
        DRAFT = "draft", _("待审核")
        APPROVED = "approved", _("已审核")

    class RecipientKind(models.TextChoices):
        HOUSEHOLD = "household", _("建档困难职工家庭")
        PERSON = "person", _("未建档个人")
        ENTERPRISE = "enterprise", _("困难企业")

    class PersonCategory(models.TextChoices):
        FRONTLINE = "frontline", _("一线职工")
        MODEL_WORKER = "model-worker", _("工匠劳模")
        TALENT = "talent", _("技能人才、学科带头人")
        MIGRANT = "migrant", _("农民工")
        WORKER = "worker", _("其他职工")

    class EnterpriseKind(models.TextChoices):
        NEEDY = "needy", _("特困企业")
        CAPACITY_CUT = "capacity-cut", _("去产能任务重的企业")
        RESTRUCTURING = "restructuring", _("关停重组企业")
        RESOURCE_EXHAUSTED = "resource-exhausted", _("资源枯竭型企业")
        OTHER = "other", _("其他困难企业")

    class Channel(models.TextChoices):
        UNION_CARD = "union-card", _("工会卡（阳光5·1卡）")
        BANK_CARD = "bank-card", _("银行卡")
        GOODS = "goods", _("实物")
        CASH = "cash", _("现金")

    class Payment(models.TextChoices):
        NONE = "", _("无需代发")
        QUEUED = "queued", _("待发放")
        IN_BATCH = "in-batch", _("已送银行")
        PAID = "paid", _("已到账")
        FAILED = "failed", _("发放失败")

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="help_records")
    unit = models.ForeignKey(
        Unit, verbose_name=_("发放单位"), on_delete=models.PROTECT, related_name="help_records"
    )
    recipient_kind = models.CharField(_("对象类型"), max_length=12, choices=RecipientKind.choices)
    household = models.ForeignKey(
        Household,
        verbose_name=_("档案"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="help_records",
    )
    #: The recipient's name and ID number as given (for a household, its head's, checked against the file).
    name = models.CharField(_("姓名或企业名称"), max_length=100)
    id_number = models.CharField(_("身份证号"), max_length=18, blank=True, db_index=True)
    person_category = models.CharField(
        _("人员类别"), max_length=20, choices=PersonCategory.choices, blank=True
    )
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    enterprise_kind = models.CharField(
        _("企业困难类型"), max_length=20, choices=EnterpriseKind.choices, blank=True
    )
    item = models.ForeignKey(HelpItem, verbose_name=_("帮扶项目"), on_delete=models.PROTECT)
    source = models.ForeignKey(FundSource, verbose_name=_("资金来源"), on_delete=models.PROTECT)
    amount = models.DecimalField(_("金额（元）"), null=True, blank=True, max_digits=14, decimal_places=2)
    goods_description = models.CharField(_("物品"), max_length=100, blank=True)
    goods_quantity = models.DecimalField(_("数量"), max_digits=12, decimal_places=2, null=True, blank=True)
    goods_value = models.DecimalField(
        _("物品折价（元）"), null=True, blank=True, max_digits=14, decimal_places=2
    )
    #: 医疗救助: the out-of-pocket cost the payment may not exceed (cap basis "cost").
    cost_basis = models.DecimalField(
        _("个人自付费用（元）"), null=True, blank=True, max_digits=14, decimal_places=2
    )
    channel = models.CharField(_("发放方式"), max_length=12, choices=Channel.choices)
    cash_reason = models.CharField(_("现金发放原因"), max_length=200, blank=True)
    card_number = models.CharField(_("卡号"), max_length=30, blank=True, db_index=True)
    bank = models.CharField(_("开户行"), max_length=100, blank=True)
    paid_on = models.DateField(_("发放日期"))
    note = models.CharField(_("备注"), max_length=200, blank=True)
    evidence = models.FileField(_("凭证（签收表、照片）"), upload_to="ledger/evidence/%Y/", blank=True)
    #: Warnings the record was saved with ({"code", "message"}), each needing the explanation below.
    warnings = models.JSONField(_("提醒"), default=list, blank=True)
    explanation = models.TextField(_("情况说明"), blank=True)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.DRAFT)
    payment = models.CharField(
        _("代发状态"), max_length=10, choices=Payment.choices, blank=True, default=Payment.NONE
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("录入人"), on_delete=models.PROTECT, related_name="+"
    )
    entered_at = models.DateTimeField(_("录入时间"), auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("冲销的记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
    )
    #: A roster row's content digest: importing the same row again creates nothing new.
    import_key = models.CharField(max_length=64, blank=True, default="")
    import_job = models.ForeignKey(
        "RosterImport", null=True, blank=True, on_delete=models.SET_NULL, related_name="records"
    )
    import_row = models.PositiveIntegerField(_("导入文件行号"), null=True, blank=True)
    #: Set when a reversal of this record is written (in the same transaction): what stands is then a plain
    #: filter on the row, not a look for a reversal per record — the frame of a spot check and every
    #: self-check rule read a campaign's records that way.
    is_reversed = models.BooleanField(_("已冲销"), default=False, db_default=False, editable=False)

    class Meta:
        verbose_name = _("帮扶发放记录")
        verbose_name_plural = _("帮扶发放记录")
        indexes = [
            models.Index(fields=["campaign", "unit", "state"]),
            models.Index(fields=["campaign", "household", "item"]),
            models.Index(fields=["state", "payment", "unit"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "import_key"],
                condition=~models.Q(import_key=""),
                name="help_record_import_key_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.item} {self.amount}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        adding = self._state.adding
        super().save(*args, **kwargs)
        if adding and self.reverses_id is not None:
            # What `is_reversed` stands for; kept here so no way of writing a reversal can forget it.
            HelpRecord.objects.filter(pk=self.reverses_id).update(is_reversed=True)

    @staticmethod
    def standing(related: str = "") -> models.Q:
        """Payments that stand: approved, not a reversal, not reversed (`related`: through that relation)."""
        at = f"{related}__" if related else ""
        not_a_reversal = IsNull(Unindexed(F(f"{at}reverses")), True)
        return models.Q(
            not_a_reversal, **{f"{at}state": HelpRecord.State.APPROVED, f"{at}is_reversed": False}
        )

    @property
    def value(self) -> Decimal:
        """Money and goods together, in yuan (a reversal's is negative)."""
        return (self.amount or Decimal(0)) + (self.goods_value or Decimal(0))


class RosterImport(models.Model):
    """One upload of a payment roster (发放花名册): its mapping, progress, outcome and rejected rows."""

    class State(models.TextChoices):
        MAPPING = "mapping", _("待确认列")
        RUNNING = "running", _("导入中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="roster_imports")
    unit = models.ForeignKey(Unit, verbose_name=_("默认发放单位"), on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(_("文件名"), max_length=255)
    file_sha256 = models.CharField(max_length=64, db_index=True)
    stored_path = models.CharField(max_length=500)
    columns = models.JSONField(default=list)
    mapping = models.JSONField(default=dict)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.MAPPING)
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    rows_done = models.PositiveIntegerField(default=0)
    progress = models.FloatField(default=0.0)
    created = models.PositiveIntegerField(_("新增"), default=0)
    existing = models.PositiveIntegerField(_("已导入过"), default=0)
    rejected = models.PositiveIntegerField(_("退回"), default=0)
    warnings = models.PositiveIntegerField(_("提醒"), default=0)
    rejected_file = models.BinaryField(null=True, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("花名册导入")
        verbose_name_plural = _("花名册导入")

    def __str__(self) -> str:
        return self.file_name


# --- bank payment batches (批量代发) ---------------------------------------------------------------------


class PaymentBatch(models.Model):
    """Approved card payments sent to a bank together; the bank's return file settles each line."""

    class State(models.TextChoices):
        DRAFT = "draft", _("待送银行")
        SENT = "sent", _("已送银行")
        RECONCILED = "reconciled", _("已对账")
        CANCELLED = "cancelled", _("已作废")

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="payment_batches")
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="+")
    number = models.CharField(_("批次号"), max_length=40, unique=True)
    bank_format = models.CharField(_("银行文件格式"), max_length=30, default="standard")
    purpose = models.CharField(_("用途"), max_length=50, default="送温暖慰问金")
    state = models.CharField(_("状态"), max_length=12, choices=State.choices, default=State.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    reconciled_at = models.DateTimeField(null=True, blank=True)
    return_file_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("代发批次")
        verbose_name_plural = _("代发批次")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.number


class BatchLine(models.Model):
    class Outcome(models.TextChoices):
        PENDING = "pending", _("待回盘")
        PAID = "paid", _("成功")
        FAILED = "failed", _("失败")

    batch = models.ForeignKey(PaymentBatch, on_delete=models.CASCADE, related_name="lines")
    record = models.ForeignKey(HelpRecord, on_delete=models.PROTECT, related_name="batch_lines")
    seq = models.PositiveIntegerField(_("序号"))
    name = models.CharField(_("姓名"), max_length=100)
    id_number = models.CharField(_("身份证号"), max_length=18, blank=True)
    card_number = models.CharField(_("卡号"), max_length=30)
    bank = models.CharField(_("开户行"), max_length=100, blank=True)
    amount = models.DecimalField(_("金额（元）"), max_digits=14, decimal_places=2)
    outcome = models.CharField(_("结果"), max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    reason = models.CharField(_("失败原因"), max_length=200, blank=True)

    class Meta:
        ordering = ["batch", "seq"]
        constraints = [models.UniqueConstraint(fields=["batch", "seq"], name="batch_line_seq_once")]

    def __str__(self) -> str:
        return f"{self.batch} #{self.seq}"


# --- campaign activities ------------------------------------------------------------------------------------


class Team(models.Model):
    """A 联帮促 team (联系困难企业、帮扶困难职工、促进解困脱困), led by a responsible leader."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="teams")
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("工作组名称"), max_length=100)
    leader = models.CharField(_("带队领导"), max_length=50)
    members = models.TextField(_("成员"), blank=True)
    linked_places = models.TextField(_("联系县市区、功能区"), blank=True)
    linked_enterprises = models.TextField(_("联系企业"), blank=True)
    households = models.ManyToManyField(
        Household, verbose_name=_("帮扶困难职工家庭"), blank=True, related_name="teams"
    )

    class Meta:
        verbose_name = _("联帮促工作组")
        verbose_name_plural = _("联帮促工作组")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "unit", "name"], name="team_name_once_per_unit")
        ]

    def __str__(self) -> str:
        return self.name


class Station(models.Model):
    """An outdoor workers' station (户外劳动者服务站点): a register kept across campaigns."""

    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("站点名称"), max_length=100)
    address = models.CharField(_("地址"), max_length=200)
    operator = models.CharField(_("运营单位"), max_length=100, blank=True)
    opened_on = models.DateField(_("启用日期"))
    closed_on = models.DateField(_("停用日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("户外劳动者服务站点")
        verbose_name_plural = _("户外劳动者服务站点")
        constraints = [models.UniqueConstraint(fields=["unit", "name"], name="station_name_once_per_unit")]

    def __str__(self) -> str:
        return self.name


class Activity(models.Model):
    """One campaign activity other than a payment, in one shape so that form items derive from it alike:
    `kind` says what it was, `subkind` narrows it (the enterprise's kind, the service, the vehicle, the media
    level); `people` counts persons or households, `quantity` things (enterprises, vehicles, tickets,
    windows, reports), `amount` money in yuan. Blank is not zero."""

    class Kind(models.TextChoices):
        VISIT_ENTERPRISE = "visit-enterprise", _("走访企业")
        VISIT_FRONTLINE = "visit-frontline", _("慰问一线职工")
        VISIT_TALENT = "visit-talent", _("慰问工匠劳模、技能人才、学科带头人")
        VISIT_HOUSEHOLD = "visit-household", _("走访困难家庭")
        POLICY = "policy", _("送政策到户")
        SERVICE = "service", _("服务职工")
        RIGHTS = "rights", _("维权")
        WAGES = "wages", _("追讨欠薪")
        RETURN_TRIP = "return-trip", _("农民工返乡包车（船、机）")
        TICKETS = "tickets", _("帮助购票")
        TICKET_WINDOW = "ticket-window", _("开设购票窗口")
        EMPLOYER_SUBSIDY = "employer-subsidy", _("用人单位返乡补贴")
        STATION_SERVICE = "station-service", _("户外劳动者服务站点服务")
        MEDIA = "media", _("新闻媒体报道")

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="activities")
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("活动类型"), max_length=20, choices=Kind.choices)
    subkind = models.CharField(_("细类"), max_length=30, blank=True)
    on = models.DateField(_("日期"))
    people = models.PositiveIntegerField(_("人次（户）"), null=True, blank=True)
    quantity = models.PositiveIntegerField(_("数量"), null=True, blank=True)
    amount = models.DecimalField(_("金额（元）"), null=True, blank=True, max_digits=14, decimal_places=2)
    title = models.CharField(_("名称或标题"), max_length=200, blank=True)
    place = models.CharField(_("地点、对象或媒体"), max_length=200, blank=True)
    link = models.URLField(_("链接"), blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    team = models.ForeignKey(
        Team,
        verbose_name=_("联帮促工作组"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="activities",
    )
    station = models.ForeignKey(
        Station,
        verbose_name=_("站点"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="activities",
    )
    household = models.ForeignKey(
        Household, verbose_name=_("档案"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(auto_now_add=True)
    #: An imported row's content digest (and which of the file's identical rows it is): importing the same
    #: list again creates nothing new. Blank for an activity entered on a page.
    import_key = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("送温暖活动记录")
        verbose_name_plural = _("送温暖活动记录")
        indexes = [models.Index(fields=["campaign", "unit", "kind"])]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "unit", "import_key"],
                condition=~models.Q(import_key=""),
                name="activity_import_key_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.on}"


# --- the history --------------------------------------------------------------------------------------------


class LedgerEvent(models.Model):
    """One change to the ledger, or one refused attempt: who, when, what, the values before and after.

    Written by `songnuan.ledger.services` in the transaction of the change; a refusal is written after the
    refused change rolled back (so the history shows what was tried and why it was refused). Never changed.
    """

    class Action(models.TextChoices):
        RECEIPT_ADDED = "receipt-added", _("登记筹集资金")
        ALLOCATED = "allocated", _("下拨资金")
        RECEIPT_REVERSED = "receipt-reversed", _("冲销资金登记")
        RECORD_ADDED = "record-added", _("录入发放记录")
        RECORD_EDITED = "record-edited", _("修改发放记录")
        RECORD_DELETED = "record-deleted", _("删除发放记录")
        RECORD_APPROVED = "record-approved", _("审核发放记录")
        RECORD_REVERSED = "record-reversed", _("冲销发放记录")
        REFUSED = "refused", _("拒绝保存")
        BATCH_CREATED = "batch-created", _("生成代发批次")
        BATCH_SENT = "batch-sent", _("送银行")
        BATCH_CANCELLED = "batch-cancelled", _("作废代发批次")
        NUMBERS_VIEWED = "numbers-viewed", _("查看完整号码")
        BATCH_RECONCILED = "batch-reconciled", _("银行回盘对账")
        ROSTER_IMPORTED = "roster-imported", _("导入花名册")
        ACTIVITY_ADDED = "activity-added", _("登记活动")
        ACTIVITY_EDITED = "activity-edited", _("修改活动")
        ACTIVITY_DELETED = "activity-deleted", _("删除活动")
        ACTIVITIES_IMPORTED = "activities-imported", _("导入活动记录")
        TEAM_CREATED = "team-created", _("新建联帮促工作组")
        TEAM_EDITED = "team-edited", _("修改联帮促工作组")
        STATION_REGISTERED = "station-registered", _("登记服务站点")
        STATION_EDITED = "station-edited", _("修改服务站点")
        STATION_CLOSED = "station-closed", _("停用服务站点")

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField(_("操作"), max_length=20, choices=Action.choices)
    #: None for the station register, which is kept across campaigns.
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="+")
    record = models.ForeignKey(
        HelpRecord, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    receipt = models.ForeignKey(
        Receipt, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    batch = models.ForeignKey(
        PaymentBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    activity = models.ForeignKey(
        Activity, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    station = models.ForeignKey(
        Station, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    old = models.JSONField(_("原值"), default=dict, blank=True)
    new = models.JSONField(_("新值"), default=dict, blank=True)
    note = models.TextField(_("原因或备注"), blank=True)

    class Meta:
        verbose_name = _("台账变更记录")
        verbose_name_plural = _("台账变更记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"


# --- maintained totals (ledger/totals.py) ----------------------------------------------------------------


class DerivedTotals(models.Model):
    """One unit's own (本级) ledger-derived values of one form in one campaign, kept current in the same
    transaction as every ledger write that can change them (`songnuan.ledger.totals`): derived data, rebuilt
    from the records at will, so deleting a unit or campaign takes its rows along."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    form_code = models.CharField(max_length=64)
    #: {item code: "0.1234" (万元, a string so that JSON keeps every digit) | 12 (a count) | null (blank)}.
    values = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("台账派生合计")
        verbose_name_plural = _("台账派生合计")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "form_code", "unit"], name="ledger_totals_one_per_unit"
            )
        ]

    def __str__(self) -> str:
        return f"{self.form_code} {self.unit_id}"


class DerivedTotalsBuild(models.Model):
    """That a campaign's form has its `DerivedTotals` rows for every unit, and from which derivations: the
    digest of the form's `ledger` declarations and of the help item and fund source configuration they name.
    A changed digest (a new form file, an item moved in the admin) makes the next read rebuild them."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    form_code = models.CharField(max_length=64)
    digest = models.CharField(max_length=64)
    built_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("台账派生合计的生成")
        verbose_name_plural = _("台账派生合计的生成")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "form_code"], name="ledger_totals_built_once")
        ]

    def __str__(self) -> str:
        return f"{self.form_code} {self.built_at:%Y-%m-%d %H:%M}"
