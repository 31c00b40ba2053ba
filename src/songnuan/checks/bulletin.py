"""The bulletin (通报) of a spot check: title, document number, the summary, a table by unit ranked by
confirmed rate, the problems found (one line per household, the head's name masked), the demands for
rectification and the signature — as data (`bulletin`), as .xlsx, as .docx, and as bar geometry for the
printable page's inline SVG chart (`chart`).

Nothing here shows an ID or a phone number: a bulletin is sent to every unit checked, and the problems name a
household only by its masked head's name. A rate of nothing is “—”, never 0% and never a division error.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import docx
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from songnuan.campaigns.models import Campaign
from songnuan.checks import selectors, stats
from songnuan.checks.models import SampledHousehold, SpotCheck
from songnuan.checks.services import ledger_facts
from songnuan.checks.templatetags.checks_tags import NO_RATE, interval, percent
from songnuan.formkit.excel_writer import ListWriter
from songnuan.ledger.rules import mask_name

#: The verdicts a bulletin lists as problems, in the order it counts them.
DISCREPANCIES = (stats.Verdict.AMOUNT_DIFFERS, stats.Verdict.DENIES, stats.Verdict.CASH)

TABLE_HEADER = (
    gettext_noop("名次"),
    gettext_noop("单位"),
    gettext_noop("抽样框户数"),
    gettext_noop("抽查户数"),
    gettext_noop("已拨打"),
    gettext_noop("接通"),
    gettext_noop("接触率"),
    gettext_noop("完成访问"),
    gettext_noop("核实无误"),
    gettext_noop("发现问题"),
    gettext_noop("核实率"),
    gettext_noop("95%置信区间"),
)
_TABLE_WIDTHS = (6, 28, 10, 10, 8, 8, 10, 10, 10, 10, 10, 20)

PROBLEM_HEADER = (
    gettext_noop("序号"),
    gettext_noop("单位"),
    gettext_noop("户主姓名"),
    gettext_noop("问题"),
    gettext_noop("台账记载"),
    gettext_noop("受助户反映"),
)
_PROBLEM_WIDTHS = (6, 28, 10, 10, 30, 30)

SECTION_SUMMARY = gettext_noop("一、抽查基本情况")
SECTION_PROBLEMS = gettext_noop("二、发现的问题")
SECTION_DEMANDS = gettext_noop("三、整改要求")


def _money(amount: Decimal) -> str:
    return _("{amount}元").format(amount=f"{amount:.2f}")


def chinese_date(day: dt.date) -> str:
    return _("{year}年{month}月{day}日").format(year=day.year, month=day.month, day=day.day)


@dataclass(frozen=True)
class UnitLine:
    """One line of the bulletin's table: a unit (a stratum of the check), or the total (`rank` None)."""

    rank: int | None  # by confirmed rate; None for a unit nobody was interviewed in, and for the total
    unit: str
    size: int
    sampled: int
    attempted: int
    reached: int
    interviewed: int
    confirmed: int
    discrepancies: int
    contact_rate: Decimal | None
    confirmed_rate: Decimal | None
    interval: tuple[Decimal, Decimal] | None
    is_total: bool = False

    @classmethod
    def of(
        cls, line: selectors.StratumResult, rank: int | None, name: str, *, is_total: bool = False
    ) -> UnitLine:
        return cls(
            rank=rank,
            unit=name,
            size=line.size,
            sampled=line.sampled,
            attempted=line.attempted,
            reached=line.reached,
            interviewed=line.interviewed,
            confirmed=line.confirmed,
            discrepancies=line.discrepancies,
            contact_rate=line.contact_rate,
            confirmed_rate=line.confirmed_rate,
            interval=line.interval,
            is_total=is_total,
        )

    @property
    def contact_rate_text(self) -> str:
        return percent(self.contact_rate)

    @property
    def confirmed_rate_text(self) -> str:
        return percent(self.confirmed_rate)

    @property
    def interval_text(self) -> str:
        return interval(self.interval)

    def cells(self) -> list[str | int]:
        """The line as TABLE_HEADER orders it; rates as text (“—” when there is none)."""
        return [
            "" if self.is_total else NO_RATE if self.rank is None else self.rank,
            self.unit,
            self.size,
            self.sampled,
            self.attempted,
            self.reached,
            self.contact_rate_text,
            self.interviewed,
            self.confirmed,
            self.discrepancies,
            self.confirmed_rate_text,
            self.interval_text,
        ]


@dataclass(frozen=True)
class Problem:
    """A household whose answers contradict the ledger: named only by the head's masked name."""

    unit: str  # the stratum's unit: the one the bulletin asks to rectify
    household_unit: str  # the unit keeping the household's file (may be below the stratum's)
    name: str  # masked: 张*明
    verdict: str  # the Verdict's value
    ledger_amount: Decimal
    ledger_channels: str  # 工会卡、银行转账
    said_received: bool | None
    said_amount: Decimal | None
    said_how: str  # label, blank when not said

    @property
    def verdict_label(self) -> str:
        return stats.Verdict(self.verdict).label()

    @property
    def unit_text(self) -> str:
        if self.household_unit and self.household_unit != self.unit:
            return _("{unit}（{below}）").format(unit=self.unit, below=self.household_unit)
        return self.unit

    @property
    def ledger_text(self) -> str:
        text = _("发放{amount}").format(amount=_money(self.ledger_amount))
        if self.ledger_channels:
            text += _("（{channels}）").format(channels=self.ledger_channels)
        return text

    @property
    def said_text(self) -> str:
        if self.said_received is False:
            return _("未收到帮扶")
        parts = []
        if self.said_amount is not None:
            parts.append(_("收到{amount}").format(amount=_money(self.said_amount)))
        if self.said_how:
            parts.append(_("发放方式为{how}").format(how=self.said_how))
        return "，".join(parts) or _("收到帮扶")

    @property
    def line(self) -> str:
        return _("{unit}：{name}户，{verdict}。台账记载{ledger}，受助户反映{said}。").format(
            unit=self.unit_text,
            name=self.name,
            verdict=self.verdict_label,
            ledger=self.ledger_text,
            said=self.said_text,
        )

    def cells(self, seq: int) -> list[str | int]:
        return [seq, self.unit_text, self.name, self.verdict_label, self.ledger_text, self.said_text]


@dataclass(frozen=True)
class Bulletin:
    title: str
    document_number: str  # blank when the check has none
    issuing_unit: str
    date: dt.date
    addressees: str  # the units checked, 主送
    summary: str
    table_note: str
    rows: list[UnitLine]
    total: UnitLine
    problems: list[Problem]
    problems_text: str  # the paragraph before the problems (or saying there were none)
    demands: list[str]
    deadline: dt.date | None = None
    verdict_counts: dict[str, int] = field(default_factory=dict)

    @property
    def date_text(self) -> str:
        return chinese_date(self.date)

    @property
    def closing(self) -> list[str]:
        """The signature: the issuing unit, then the date."""
        return [self.issuing_unit, self.date_text]


def _title(check: SpotCheck) -> str:
    title = check.title.strip()
    if title.endswith("通报"):
        return title
    return _("关于{title}情况的通报").format(title=title)


def _problems(check: SpotCheck) -> list[Problem]:
    found = (
        SampledHousehold.objects.filter(spot_check=check, in_sample=True, verdict__in=list(DISCREPANCIES))
        .select_related("household__unit", "stratum__unit", "spot_check__unit")
        .order_by("stratum__unit__path", "position")
    )
    problems = []
    for sampled in found:
        # The same facts the verdict was reached on (a discrepancy is rare: one look-up each is fine).
        facts = ledger_facts(sampled)
        problems.append(
            Problem(
                unit=sampled.stratum.unit.name,
                household_unit=sampled.household.unit.name,
                name=mask_name(sampled.household.head_name),
                verdict=sampled.verdict,
                ledger_amount=facts.total,
                ledger_channels="、".join(stats.channel_label(c) for c in sorted(facts.channels)),
                said_received=sampled.received,
                said_amount=sampled.amount,
                said_how=sampled.get_how_display() if sampled.how else "",
            )
        )
    return problems


def _campaign_name(campaign: Campaign) -> str:
    """A campaign is often named by its notice (关于……的通知): that is cited in 《》, as a document is."""
    title = campaign.title.strip()
    return f"《{title}》" if title.startswith("关于") else title


def _summary(check: SpotCheck, overall: selectors.StratumResult) -> str:
    drawn_on = timezone.localdate(check.drawn_at) if check.drawn_at else timezone.localdate()
    text = _(
        "为了解{campaign}落实情况，{unit}于{date}对受助户开展了电话随机抽查。抽样框共{frame}户，按{allocation}"
        "抽取{sampled}户，已拨打{attempted}户，接通{reached}户（有人接听{contacted}户，接触率{contact_rate}）。"
    ).format(
        date=chinese_date(drawn_on),
        unit=check.unit.name,
        campaign=_campaign_name(check.campaign),
        frame=check.frame_size,
        allocation=check.get_allocation_display(),
        sampled=overall.sampled,
        attempted=overall.attempted,
        reached=overall.reached,
        contacted=overall.contacted,
        contact_rate=percent(overall.contact_rate),
    )
    if overall.interviewed:
        text += _(
            "完成访问{interviewed}户，其中核实无误{confirmed}户，核实率{rate}（95%置信区间{interval}）。"
        ).format(
            interviewed=overall.interviewed,
            confirmed=overall.confirmed,
            rate=percent(overall.confirmed_rate),
            interval=interval(overall.interval),
        )
    else:
        text += _("尚无完成访问的受助户，核实率为“{none}”。").format(none=NO_RATE)
    if overall.discrepancies:
        kinds = "、".join(
            _("{verdict}{count}户").format(verdict=v.label(), count=overall.verdicts[v])
            for v in DISCREPANCIES
        )
        text += _("发现问题{count}户，其中{kinds}。").format(count=overall.discrepancies, kinds=kinds)
    else:
        kinds = "、".join(v.label() for v in DISCREPANCIES)
        text += _("未发现{kinds}等问题。").format(kinds=kinds)
    answered = sum(overall.satisfaction.values())
    if answered:
        pleased = (
            overall.satisfaction[SampledHousehold.Satisfaction.SATISFIED]
            + overall.satisfaction[SampledHousehold.Satisfaction.FAIRLY]
        )
        counts = "、".join(
            _("{label}{count}户").format(label=choice.label, count=overall.satisfaction[choice.value])
            for choice in SampledHousehold.Satisfaction
        )
        text += _("对帮扶工作的评价：{counts}，满意率（含基本满意）{rate}。").format(
            counts=counts, rate=percent(stats.rate(pleased, answered))
        )
    return text


def _demands(issuing_unit: str, problem_units: Sequence[str], deadline: dt.date | None) -> list[str]:
    demands = []
    if problem_units:
        demands.append(
            _(
                "（一）对存在问题的单位限期整改。{units}要高度重视，对本通报指出的问题逐户核实，"
                "查明原因，限期整改；对虚报冒领、截留挪用帮扶资金的，依规依纪严肃处理。"
            ).format(units="、".join(problem_units))
        )
        if deadline is not None:
            demands.append(
                _("（二）请上述单位于{deadline}前将整改情况书面报送{unit}。").format(
                    deadline=chinese_date(deadline), unit=issuing_unit
                )
            )
        else:
            demands.append(
                _("（二）请上述单位整改完成后及时将整改情况书面报送{unit}。").format(unit=issuing_unit)
            )
    else:
        demands.append(_("（一）本次抽查未发现帮扶资金发放问题，各单位要继续保持，不得松懈。"))
    demands.append(
        _(
            "（{n}）各级工会要举一反三，严格执行“先建档、后帮扶”和帮扶资金发放“四明确”要求，"
            "坚持非现金发放，确保帮扶资金足额、及时发放到困难职工手中。"
        ).format(n=_("三") if problem_units else _("二"))
    )
    return demands


def bulletin(
    check: SpotCheck, *, issued_on: dt.date | None = None, deadline: dt.date | None = None
) -> Bulletin:
    """The check's bulletin from its results (`selectors.results`); `issued_on` defaults to today, and
    `deadline` (for the rectification report) is named in the demands when given."""
    found = selectors.results(check)
    rows = []
    rank = 0
    for line in found.ranked():
        if line.confirmed_rate is not None:
            rank += 1
        rows.append(UnitLine.of(line, rank if line.confirmed_rate is not None else None, line.unit.name))
    total = UnitLine.of(found.overall, None, _("合计"), is_total=True)
    problems = _problems(check)
    problem_units = list(dict.fromkeys(problem.unit for problem in problems))
    if problems:
        problems_text = _("抽查发现{count}户受助户反映的情况与台账记载不符，具体如下：").format(
            count=len(problems)
        )
    else:
        problems_text = _("本次抽查未发现受助户反映的情况与台账记载不符。")
    return Bulletin(
        title=_title(check),
        document_number=check.document_number.strip(),
        issuing_unit=check.unit.name,
        date=issued_on or timezone.localdate(),
        addressees="、".join(line.unit.name for line in found.strata),
        summary=_summary(check, found.overall),
        table_note=_(
            "各单位抽查情况见下表（按核实率由高到低排列；没有完成访问的单位列在最后，核实率记为“{none}”）。"
        ).format(none=NO_RATE),
        rows=rows,
        total=total,
        problems=problems,
        problems_text=problems_text,
        demands=_demands(check.unit.name, problem_units, deadline),
        deadline=deadline,
        verdict_counts={v.value: found.overall.verdicts[v] for v in stats.Verdict},
    )


# --- files -----------------------------------------------------------------------------------------------

_UNSAFE_IN_FILENAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def bulletin_filename(b: Bulletin, ext: str) -> str:
    """The bulletin's title as a file name (no path separators or characters Windows refuses)."""
    stem = _UNSAFE_IN_FILENAMES.sub("_", b.title).strip(" ._") or _("通报")
    return f"{stem}.{ext.lstrip('.')}"


def bulletin_xlsx(b: Bulletin) -> bytes:
    """Three sheets: the table by unit, the problems, and the text (summary, demands, signature)."""
    buffer = io.BytesIO()
    heading = b.title + (f"（{b.document_number}）" if b.document_number else "")
    writer = ListWriter(
        buffer,
        title=heading,
        header=[_(text) for text in TABLE_HEADER],
        widths=_TABLE_WIDTHS,
        sheet_name=_("各单位抽查情况"),
    )
    for row in b.rows:
        writer.write(row.cells())
    writer.write(b.total.cells())
    writer.add_sheet(
        title=_("{title}：发现的问题").format(title=b.title),
        header=[_(text) for text in PROBLEM_HEADER],
        widths=_PROBLEM_WIDTHS,
        sheet_name=_("发现的问题"),
    )
    for seq, problem in enumerate(b.problems, start=1):
        writer.write(problem.cells(seq))
    writer.add_sheet(title=b.title, header=[_("通报正文")], widths=[120], sheet_name=_("通报正文"))
    for paragraph in _paragraphs(b):
        writer.write([paragraph])
    writer.close()
    return buffer.getvalue()


def _paragraphs(b: Bulletin) -> list[str]:
    """The bulletin's text, paragraph by paragraph, as the .xlsx's text sheet lists it."""
    return [
        *([b.document_number] if b.document_number else []),
        b.title,
        _("{addressees}：").format(addressees=b.addressees),
        _(SECTION_SUMMARY),
        b.summary,
        b.table_note,
        _(SECTION_PROBLEMS),
        b.problems_text,
        *(f"{seq}．{problem.line}" for seq, problem in enumerate(b.problems, start=1)),
        _(SECTION_DEMANDS),
        *b.demands,
        *b.closing,
    ]


_BODY_FONT = "仿宋"
_TITLE_FONT = "宋体"


def _east_asian(element: Any, font: str) -> None:
    """Name the font for Chinese text too: python-docx's `font.name` sets only the Latin one (w:ascii)."""
    fonts = element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), font)


def _run(paragraph: Any, text: str, *, font: str = _BODY_FONT, size: float = 16, bold: bool = False) -> None:
    run = paragraph.add_run(text)
    run.font.name = font
    run.font.size = Pt(size)
    run.font.bold = bold
    _east_asian(run._element, font)


def _paragraph(
    document: Any,
    text: str,
    *,
    align: Any = None,
    indent: bool = True,
    font: str = _BODY_FONT,
    size: float = 16,
    bold: bool = False,
) -> None:
    paragraph = document.add_paragraph()
    if align is not None:
        paragraph.alignment = align
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(size * 2)  # two characters, as 公文 indent
    _run(paragraph, text, font=font, size=size, bold=bold)


def _table(document: Any, header: Sequence[str], lines: Sequence[Sequence[str | int]]) -> None:
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = ""
        _run(cell.paragraphs[0], text, font=_TITLE_FONT, size=9, bold=True)
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    for values in lines:
        cells = table.add_row().cells
        for cell, value in zip(cells, values, strict=True):
            cell.text = ""
            _run(cell.paragraphs[0], str(value), font=_TITLE_FONT, size=9)
            if not isinstance(value, str) or value == NO_RATE or value.endswith("%"):
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER


def bulletin_docx(b: Bulletin) -> bytes:
    """The bulletin as a Word document in the 公文 layout (GB/T 9704 in spirit): A4, the document number
    above the title, the title centred and bold, body in 仿宋 三号, the table, the problems, the demands, the
    signature and date on the right."""
    document = docx.Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    normal: Any = document.styles["Normal"]
    normal.font.name = _BODY_FONT
    normal.font.size = Pt(16)
    _east_asian(normal.element, _BODY_FONT)

    centre, right = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.RIGHT
    if b.document_number:
        _paragraph(document, b.document_number, align=centre, indent=False)
    _paragraph(document, b.title, align=centre, indent=False, font=_TITLE_FONT, size=22, bold=True)
    _paragraph(document, _("{addressees}：").format(addressees=b.addressees), indent=False)
    _paragraph(document, _(SECTION_SUMMARY), bold=True)
    _paragraph(document, b.summary)
    _paragraph(document, b.table_note)
    _table(
        document,
        [_(text) for text in TABLE_HEADER],
        [row.cells() for row in b.rows] + [b.total.cells()],
    )
    _paragraph(document, _(SECTION_PROBLEMS), bold=True)
    _paragraph(document, b.problems_text)
    for seq, problem in enumerate(b.problems, start=1):
        _paragraph(document, f"{seq}．{problem.line}")
    _paragraph(document, _(SECTION_DEMANDS), bold=True)
    for demand in b.demands:
        _paragraph(document, demand)
    document.add_paragraph()
    for line in b.closing:
        _paragraph(document, line, align=right, indent=False)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# --- the chart -------------------------------------------------------------------------------------------

CHART_WIDTH = 640
_LABEL_WIDTH = 200  # unit names, right-aligned against the bars
_BAR_AREA = 360  # 100%
_ROW = 28
_BAR_HEIGHT = 18
_TOP = 24  # room for the axis labels
_BOTTOM = 8


@dataclass(frozen=True)
class Bar:
    """One unit's bar (SVG user units): the bar rectangle, the unit's name left of it, the rate after it."""

    unit: str
    value: str  # 87.50% or “—”
    has_rate: bool
    x: int
    y: int
    width: int
    height: int
    label_x: int  # text-anchor end
    text_y: int  # the baseline of both texts
    value_x: int


@dataclass(frozen=True)
class Tick:
    x: int
    label: str


class Chart(list[Bar]):
    """The bars, with the drawing's size and its axis ticks (0, 25, 50, 75, 100%)."""

    def __init__(self, bars: Sequence[Bar], *, width: int, height: int, ticks: Sequence[Tick]) -> None:
        super().__init__(bars)
        self.width, self.height = width, height
        self.ticks = list(ticks)
        self.axis_top, self.axis_bottom = _TOP - 4, height - _BOTTOM
        self.tick_label_y = _TOP - 8


def chart(b: Bulletin) -> Chart:
    """The confirmed rate by unit, in the table's order, as horizontal bars; a unit nobody was interviewed in
    gets no bar and “—”."""
    bars = []
    for index, row in enumerate(b.rows):
        top = _TOP + index * _ROW
        rate = row.confirmed_rate
        width = 0 if rate is None else int((rate * _BAR_AREA).to_integral_value())
        bars.append(
            Bar(
                unit=row.unit,
                value=row.confirmed_rate_text,
                has_rate=rate is not None,
                x=_LABEL_WIDTH,
                y=top + (_ROW - _BAR_HEIGHT) // 2,
                width=width,
                height=_BAR_HEIGHT,
                label_x=_LABEL_WIDTH - 8,
                text_y=top + _ROW // 2 + 5,
                value_x=_LABEL_WIDTH + width + 6,
            )
        )
    ticks = [
        Tick(x=_LABEL_WIDTH + _BAR_AREA * share // 100, label=f"{share}%") for share in range(0, 101, 25)
    ]
    return Chart(bars, width=CHART_WIDTH, height=_TOP + len(bars) * _ROW + _BOTTOM, ticks=ticks)
