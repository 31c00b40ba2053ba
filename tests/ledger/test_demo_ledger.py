"""`make run`'s demo city: a ledger consistent with its demo tables (issue 12, point 9)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from songnuan.campaigns.models import Campaign
from songnuan.formkit.definitions import get_form
from songnuan.ledger.models import Activity, BatchLine, HelpRecord, LedgerEvent, PaymentBatch, Station
from songnuan.reporting.last_year import check_unit_table
from songnuan.reporting.models import Submission
from songnuan.reporting.services import stored_values

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign() -> Campaign:
    call_command("seed_demo", stdout=io.StringIO())
    return Campaign.objects.get(document_number="荆工办发电〔2017〕18号")


def ledger_warnings(submission: Submission) -> list[str]:
    form = get_form(submission.form_code)
    check = check_unit_table(
        form, stored_values(submission), campaign=submission.campaign, unit_id=submission.unit_id
    )
    return [violation.items[0] for violation in check.warnings if violation.rule.endswith(".ledger")]


def test_the_demo_tables_say_what_their_ledgers_say(campaign: Campaign) -> None:
    tables = Submission.objects.filter(campaign=campaign).select_related("unit", "campaign")
    warned = {(t.unit.name, t.form_code): found for t in tables if (found := ledger_warnings(t))}
    # One draft keeps a difference, so that the 与台账不符 warning is there to see; no other table has one.
    assert warned == {("市教育工会", "warmth-2018"): ["4A"]}
    for table in tables.exclude(status=Submission.Status.DRAFT):
        form = get_form(table.form_code)
        check = check_unit_table(form, stored_values(table), campaign=campaign, unit_id=table.unit_id)
        assert check.errors == [], (table.unit.name, table.form_code)
        unexplained = [v.rule for v in check.warnings if not table.explanations.get(v.rule)]
        assert unexplained == [], (table.unit.name, table.form_code)


def test_the_demo_ledger_has_every_part(campaign: Campaign) -> None:
    records = HelpRecord.objects.filter(campaign=campaign)
    assert records.filter(state=HelpRecord.State.APPROVED).count() >= 200
    assert LedgerEvent.objects.filter(action=LedgerEvent.Action.REFUSED).exists()  # refused attempts
    batch = PaymentBatch.objects.get(campaign=campaign)
    assert batch.state == PaymentBatch.State.RECONCILED
    assert batch.lines.filter(outcome=BatchLine.Outcome.FAILED).count() == 1
    kinds = set(Activity.objects.filter(campaign=campaign).values_list("kind", flat=True))
    assert {"return-trip", "media", "visit-enterprise"} <= kinds
    assert Station.objects.exists()
