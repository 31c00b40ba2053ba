"""Tables to print and stamp: a unit's own table or a roll-up, with the header line filled in."""

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
from songnuan.reporting.rollup import rollup, subtree_tables


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


def submission_print(submission: Submission) -> PrintPage:
    form = get_form(submission.form_code)
    return PrintPage(
        form=form,
        unit_name=submission.unit.name,
        reporter=submission.reporter,
        phone=submission.phone,
        date=submission.report_date,
        rows=printed_rows(form, submission_values(submission)),
    )


def rollup_print(campaign: Campaign, form: Form, unit: Unit, *, today: dt.date) -> PrintPage:
    values = rollup(campaign, form.code, unit)
    tables = subtree_tables(campaign, form.code, unit)
    return PrintPage(
        form=form,
        unit_name=rollup_unit_name(unit),
        reporter=unit.contact_name,
        phone=unit.contact_phone,
        date=today,
        rows=printed_rows(form, values),
        rollup=True,
        accepted=len([t for t in tables if t.state == Submission.Status.ACCEPTED]),
        expected=len(tables),
    )


def rollup_unit_name(unit: Unit) -> str:
    """填报单位 of a roll-up: the unit's name marked as a summary."""
    return _("{unit}（汇总）").format(unit=unit.name)
