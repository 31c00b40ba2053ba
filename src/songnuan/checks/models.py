"""Spot checks (全总电话随机抽查): a seeded stratified sample of the households a campaign helped, the calls
made to them, their answers and verdicts; and the history of every change.

The sampling and the statistics are plain Python (`sampling.py`, `stats.py`); what is kept here is what makes
a sample reproducible (the frame's size and digest, the strata's plans, the seed) and what the callers found.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from songnuan.archive.models import Household, Plan
from songnuan.campaigns.models import Campaign
from songnuan.checks.stats import Disposition, Verdict
from songnuan.ledger.models import FundSource, HelpItem
from songnuan.orgs.models import Unit


class SpotCheck(models.Model):
    """One phone check of a campaign's helped households, run by a unit over its subtree."""

    class Allocation(models.TextChoices):
        FIXED = "fixed", _("每个单位固定户数")
        PROPORTIONAL = "proportional", _("按户数比例分配（每个单位有下限）")
        MARGIN = "margin", _("按允许误差和置信水平计算")

    class State(models.TextChoices):
        CALLING = "calling", _("电话核查中")
        PUBLISHED = "published", _("已通报")

    campaign = models.ForeignKey(Campaign, verbose_name=_("活动"), on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(
        Unit, verbose_name=_("组织抽查的单位"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("标题"), max_length=200)
    document_number = models.CharField(_("通报文号"), max_length=100, blank=True)
    #: Only households paid from funds the archive-first rule binds (central and provincial relief money).
    bound_only = models.BooleanField(_("只抽中央和省级帮扶资金的受助户"), default=True)
    #: The strata: the units this many levels below the checking unit (1: its children).
    stratum_level = models.PositiveSmallIntegerField(_("分层：下几级单位"), default=1)
    allocation = models.CharField(_("样本分配"), max_length=20, choices=Allocation.choices)
    per_stratum = models.PositiveIntegerField(_("每个单位抽取户数"), null=True, blank=True)
    total = models.PositiveIntegerField(_("抽取总户数"), null=True, blank=True)
    minimum = models.PositiveIntegerField(_("每个单位最少抽取户数"), default=0)
    margin = models.DecimalField(_("允许误差"), max_digits=4, decimal_places=3, null=True, blank=True)
    confidence = models.DecimalField(_("置信水平"), max_digits=4, decimal_places=3, null=True, blank=True)
    seed = models.BigIntegerField(_("随机种子"))
    frame_size = models.PositiveIntegerField(_("抽样框户数"))
    frame_digest = models.CharField(_("抽样框摘要"), max_length=64)
    state = models.CharField(_("状态"), max_length=20, choices=State.choices, default=State.CALLING)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("抽样人"), on_delete=models.PROTECT, related_name="+"
    )
    drawn_at = models.DateTimeField(_("抽样时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("电话抽查")
        verbose_name_plural = _("电话抽查")
        ordering = ["-drawn_at", "-pk"]
        permissions = [("call_households", _("电话核查受助户（查看完整手机号）"))]

    def __str__(self) -> str:
        return self.title


class Stratum(models.Model):
    """One stratum of a check: a unit (with everything below it), its households in the frame, the sample it
    was allotted and took (all of them when it had fewer: `short`)."""

    spot_check = models.ForeignKey(SpotCheck, on_delete=models.CASCADE, related_name="strata")
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="+")
    size = models.PositiveIntegerField(_("户数"))
    wanted = models.PositiveIntegerField(_("应抽户数"))
    taken = models.PositiveIntegerField(_("实抽户数"))

    class Meta:
        verbose_name = _("抽查分层")
        verbose_name_plural = _("抽查分层")
        ordering = ["unit__path"]
        constraints = [models.UniqueConstraint(fields=["spot_check", "unit"], name="checks_stratum_once")]

    def __str__(self) -> str:
        return f"{self.unit_id}: {self.taken}/{self.size}"

    @property
    def short(self) -> bool:
        return self.wanted > self.size


class SampledHousehold(models.Model):
    """A household drawn (or drawn as a replacement for one that could not be reached), its answers and
    verdict. `version` grows with every save: two callers saving at once cannot overwrite each other."""

    class How(models.TextChoices):
        CARD = "card", _("工会卡")
        BANK = "bank", _("银行转账")
        CASH = "cash", _("现金")
        GOODS = "goods", _("实物")

    class Satisfaction(models.TextChoices):
        SATISFIED = "satisfied", _("满意")
        FAIRLY = "fairly", _("基本满意")
        UNSATISFIED = "unsatisfied", _("不满意")

    spot_check = models.ForeignKey(SpotCheck, on_delete=models.CASCADE, related_name="sampled")
    stratum = models.ForeignKey(Stratum, on_delete=models.CASCADE, related_name="sampled")
    household = models.ForeignKey(Household, verbose_name=_("户"), on_delete=models.PROTECT, related_name="+")
    #: Its place in the stratum's seeded order (0 first): the sample is 0 … taken − 1, the reserve follows.
    position = models.PositiveIntegerField(_("抽取顺序"))
    #: False for the reserve: drawn with the sample, in the same order, called only once it replaces a
    #: household that could not be reached (`replaces`).
    in_sample = models.BooleanField(_("在样本中"), default=True)
    replaces = models.OneToOneField(
        "self",
        verbose_name=_("替补"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaced_by",
    )
    received = models.BooleanField(_("是否收到帮扶"), null=True, blank=True)
    amount = models.DecimalField(_("收到金额（元）"), max_digits=14, decimal_places=2, null=True, blank=True)
    how = models.CharField(_("发放方式"), max_length=10, choices=How.choices, blank=True)
    received_on = models.CharField(_("收到时间"), max_length=50, blank=True)
    brought_by = models.CharField(_("由谁送达"), max_length=100, blank=True)
    knows_contact = models.BooleanField(_("是否知道帮扶联系人（四明确）"), null=True, blank=True)
    satisfaction = models.CharField(_("满意度"), max_length=20, choices=Satisfaction.choices, blank=True)
    note = models.TextField(_("备注"), blank=True)
    interviewed = models.BooleanField(_("已完成访问"), default=False)
    verdict = models.CharField(
        _("核查结论"), max_length=20, choices=[(v.value, v.value) for v in Verdict], blank=True
    )
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("抽中户")
        verbose_name_plural = _("抽中户")
        ordering = ["stratum__unit__path", "position"]
        constraints = [
            models.UniqueConstraint(fields=["spot_check", "household"], name="checks_household_once"),
            models.UniqueConstraint(fields=["stratum", "position"], name="checks_position_once"),
        ]

    def __str__(self) -> str:
        return f"{self.spot_check_id}/{self.household_id}"


class CallAttempt(models.Model):
    """One call to a sampled household (at most `stats.MAX_ATTEMPTS`)."""

    sampled = models.ForeignKey(SampledHousehold, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField(_("第几次"))
    at = models.DateTimeField(_("拨打时间"))
    disposition = models.CharField(
        _("结果"), max_length=20, choices=[(d.value, d.value) for d in Disposition]
    )
    caller = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("核查员"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("拨打记录")
        verbose_name_plural = _("拨打记录")
        ordering = ["sampled", "number"]
        constraints = [models.UniqueConstraint(fields=["sampled", "number"], name="checks_attempt_once")]

    def __str__(self) -> str:
        return f"{self.sampled_id}#{self.number}"


class Event(models.Model):
    """Who did what when, and the values before and after: the audit row of the checks' records."""

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(_("操作"), max_length=20)
    old = models.JSONField(_("原值"), default=dict, blank=True)
    new = models.JSONField(_("新值"), default=dict, blank=True)

    class Meta:
        abstract = True
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"


class CheckEvent(Event):
    """One change to a check, or one look at its call sheets (full phone numbers): who, when, what."""

    class Action(models.TextChoices):
        DRAWN = "drawn", _("抽取样本")
        REPLACED = "replaced", _("抽取替补户")
        CALLED = "called", _("记录拨打结果")
        ANSWERED = "answered", _("记录访问答案")
        SHEETS_VIEWED = "sheets-viewed", _("查看核查表")
        PUBLISHED = "published", _("发布通报")
        TASK_ANSWERED = "task-answered", _("答复整改")
        TASK_ACCEPTED = "task-accepted", _("整改通过")
        TASK_RETURNED = "task-returned", _("退回整改")

    action = models.CharField(_("操作"), max_length=20, choices=Action.choices)
    spot_check = models.ForeignKey(SpotCheck, on_delete=models.CASCADE, related_name="events")
    sampled = models.ForeignKey(
        SampledHousehold, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    note = models.TextField(_("备注"), blank=True)

    class Meta(Event.Meta):
        verbose_name = _("抽查变更记录")
        verbose_name_plural = _("抽查变更记录")


class RectificationTask(models.Model):
    """整改: a discrepancy the check found, for the unit that paid the household to answer by a deadline; the
    checking unit accepts the answer or returns it."""

    class State(models.TextChoices):
        OPEN = "open", _("待整改")
        ANSWERED = "answered", _("已答复，待审核")
        ACCEPTED = "accepted", _("已通过")
        RETURNED = "returned", _("已退回，需重新答复")

    spot_check = models.ForeignKey(SpotCheck, on_delete=models.CASCADE, related_name="tasks")
    sampled = models.OneToOneField(SampledHousehold, on_delete=models.CASCADE, related_name="task")
    unit = models.ForeignKey(Unit, verbose_name=_("整改单位"), on_delete=models.PROTECT, related_name="+")
    verdict = models.CharField(_("问题"), max_length=20, choices=[(v.value, v.value) for v in Verdict])
    deadline = models.DateField(_("整改期限"))
    state = models.CharField(_("状态"), max_length=20, choices=State.choices, default=State.OPEN)
    answer = models.TextField(_("整改说明"), blank=True)
    evidence = models.FileField(_("整改材料"), upload_to="checks/rectification/%Y/%m/", blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    return_reason = models.TextField(_("退回原因"), blank=True)

    class Meta:
        verbose_name = _("整改任务")
        verbose_name_plural = _("整改任务")
        ordering = ["deadline", "pk"]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.verdict}"


class SelfCheck(models.Model):
    """自查: one scan of a unit's ledger and archive (its subtree) in a campaign, with what it found."""

    campaign = models.ForeignKey(Campaign, verbose_name=_("活动"), on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="+")
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("自查人"), on_delete=models.PROTECT, related_name="+"
    )
    run_at = models.DateTimeField(_("自查时间"), auto_now_add=True)
    #: {rule code: findings}, and the thresholds the rules ran with: what the summary beside the tables shows.
    summary = models.JSONField(_("自查摘要"), default=dict)

    class Meta:
        verbose_name = _("自查")
        verbose_name_plural = _("自查")
        ordering = ["-run_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.run_at:%Y-%m-%d}"


class Finding(models.Model):
    """One breach a self-check found: a stable rule code, the records involved, a Chinese message, and the
    unit's answer (corrected or explained)."""

    class State(models.TextChoices):
        OPEN = "open", _("待处理")
        CORRECTED = "corrected", _("已纠正")
        EXPLAINED = "explained", _("已说明")

    self_check = models.ForeignKey(SelfCheck, on_delete=models.CASCADE, related_name="findings")
    code = models.CharField(_("规则代码"), max_length=40)
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="+")
    message = models.TextField(_("问题"))
    #: [{"kind": "help" | "household", "id": …}, …]: the records the finding is about.
    records = models.JSONField(_("涉及记录"), default=list)
    state = models.CharField(_("处理情况"), max_length=20, choices=State.choices, default=State.OPEN)
    answer = models.TextField(_("说明"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("自查发现")
        verbose_name_plural = _("自查发现")
        ordering = ["self_check", "code", "pk"]

    def __str__(self) -> str:
        return f"{self.code}: {self.message[:40]}"


class SelfCheckEvent(Event):
    """One self-check run, or one answer to a finding (an answer given again keeps the earlier one here):
    who, when, old, new."""

    class Action(models.TextChoices):
        RUN = "run", _("运行自查")
        ANSWERED = "answered", _("答复自查发现")

    action = models.CharField(_("操作"), max_length=20, choices=Action.choices)
    self_check = models.ForeignKey(SelfCheck, on_delete=models.CASCADE, related_name="events")
    finding = models.ForeignKey(
        Finding, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )

    class Meta(Event.Meta):
        verbose_name = _("自查变更记录")
        verbose_name_plural = _("自查变更记录")


# --- what a self-check scan reads --------------------------------------------------------------------------


class HelpedFile(models.Model):
    """A file (archive.Household) of a household the scanned records helped, copied into a temporary table for
    the length of one self-check scan (`selfcheck.helped_files`).

    The rules on files (filed before the payment, reviewed, 四明确 plan, living line, shared phones) read the
    ≈ 360,000 households a national campaign helps, not the 5.5 million files of the archive, and read them
    once a scan rather than once a rule: each join to the archive hashed all of it. No table is migrated:
    the columns are the archive's own, under the same names."""

    id = models.BigIntegerField(primary_key=True)  # the household's
    unit = models.ForeignKey(Unit, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    head_name = models.CharField(max_length=50)
    head_id_number = models.CharField(max_length=18)
    phone = models.CharField(max_length=20)
    household_size = models.PositiveSmallIntegerField()
    minimum_living_line = models.DecimalField(max_digits=10, decimal_places=2, null=True)
    status = models.CharField(max_length=20, choices=Household.Status.choices)
    filed_at = models.DateTimeField(null=True)
    last_reviewed_at = models.DateTimeField(null=True)
    ended_on = models.DateField(null=True)
    plan = models.ForeignKey(
        Plan, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    #: The plan is there with its four parts (四明确): worked out as the table is filled, so that the scan's
    #: records need not join the plans (≈ 0.7 s at the national size).
    plan_complete = models.BooleanField()

    class Meta:
        managed = False
        db_table = "checks_helped_file"

    def __str__(self) -> str:
        return self.head_name


class ScannedRecord(models.Model):
    """The ledger's help records (ledger.HelpRecord's own table) as a self-check scan reads them: the columns
    its rules read, with `household` pointing at the scan's `HelpedFile`s instead of the archive. A test
    holds every column to the ledger's."""

    id = models.BigAutoField(primary_key=True)
    campaign = models.ForeignKey(Campaign, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    recipient_kind = models.CharField(max_length=12)
    household = models.ForeignKey(
        HelpedFile, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    name = models.CharField(max_length=100)
    id_number = models.CharField(max_length=18)
    item = models.ForeignKey(HelpItem, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    source = models.ForeignKey(FundSource, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    goods_value = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    cost_basis = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    channel = models.CharField(max_length=12)
    cash_reason = models.CharField(max_length=200)
    paid_on = models.DateField()
    evidence = models.CharField(max_length=100)
    state = models.CharField(max_length=10)
    is_reversed = models.BooleanField()
    reverses = models.ForeignKey(
        "self", null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )

    class Meta:
        managed = False
        db_table = "ledger_helprecord"

    def __str__(self) -> str:
        return self.name
