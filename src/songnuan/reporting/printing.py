"""Tables to print and stamp: a unit's own table or a roll-up, with the header line filled in and a line
saying what the figures contain (本级 / 全辖, from the campaign's reporting scope)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _

from songnuan.campaigns.models import Campaign
from songnuan.formkit.definitions import Form, get_form
from songnuan.orgs.models import Unit
from songnuan.reporting.catalogue import PrintedRow, printed_rows
from songnuan.reporting.models import Submission
from songnuan.reporting.progress import submission_values
from songnuan.reporting.rollup import Levels, content_label, reports_whole_area, rollup_page


@dataclass
class PrintPage:
    """A table to print and stamp: the header line filled in, the values as printed."""

    form: Form
    unit_name: str
    reporter: str
    phone: str
    date: dt.date | None
    rows: list[PrintedRow]
    rollup: bool = False
    accepted: int = 0
    expected: int = 0
    content: str = ""  # what the figures contain: 本表口径：本级 / 全辖…
    levels: Levels | None = None  # a roll-up: the column printed beside the whole area
    heading: str = ""  # the value column's heading: what its figures contain


def submission_print(submission: Submission) -> PrintPage:
    form = get_form(submission.form_code)
    return PrintPage(
        form=form,
        unit_name=submission.unit.name,
        reporter=submission.reporter,
        phone=submission.phone,
        date=submission.report_date,
        rows=printed_rows(form, submission_values(submission)),
        content=content_label(submission.campaign, rollup=False),
        heading=_("全辖（含下级）") if reports_whole_area(submission.campaign) else _("本级"),
    )


def rollup_print(campaign: Campaign, form: Form, unit: Unit, *, today: dt.date) -> PrintPage:
    # The print names no unit below, so every child counts as "not seen one by one": their parts are
    # only added up for the column beside the whole area.
    page = rollup_page(campaign, form, unit, visible=lambda _unit: False)
    return PrintPage(
        form=form,
        unit_name=rollup_unit_name(unit),
        reporter=unit.contact_name,
        phone=unit.contact_phone,
        date=today,
        rows=printed_rows(form, page.values),
        rollup=True,
        accepted=page.accepted,
        expected=page.expected,
        content=content_label(campaign, rollup=True),
        levels=page.levels,
        heading=page.levels.main_heading,
    )


def rollup_unit_name(unit: Unit) -> str:
    """填报单位 of a roll-up: the unit's name marked as a summary."""
    return _("{unit}（汇总）").format(unit=unit.name)
