"""Check, or derive afresh, the maintained ledger totals (`songnuan.ledger.totals`) and the records' reversal
marks (`HelpRecord.is_reversed`).

.venv/bin/python manage.py ledger_totals               # compare with the records (exit 1 if any differ)
.venv/bin/python manage.py ledger_totals --rebuild     # derive every campaign's rows afresh
.venv/bin/python manage.py ledger_totals --campaign 3  # one campaign only
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from songnuan.campaigns.models import Campaign
from songnuan.ledger import totals


class Command(BaseCommand):
    help = "Verify the maintained ledger totals against the ledger's records (--rebuild: derive them afresh)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--campaign", type=int, help="only this campaign (its id)")
        parser.add_argument("--rebuild", action="store_true", help="derive the rows afresh, compare nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        campaigns = Campaign.objects.order_by("pk")
        if options["campaign"] is not None:
            campaigns = campaigns.filter(pk=options["campaign"])
            if not campaigns.exists():
                raise CommandError(f"no campaign {options['campaign']}")
        differences = 0
        for campaign in campaigns:
            if options["rebuild"]:
                mended = totals.mend_reversal_marks(campaign)
                if mended:
                    self.stdout.write(f"campaign {campaign.pk}: {mended} reversal mark(s) set right")
                for code, units in totals.rebuild(campaign).items():
                    self.stdout.write(f"campaign {campaign.pk} {code}: {units} unit(s) rebuilt")
                continue
            wrong = totals.reversal_marks_wrong(campaign)
            for pk in wrong[:50]:
                self.stdout.write(
                    f"campaign {campaign.pk} record {pk}: is_reversed disagrees with its reversals"
                )
            differences += len(wrong)
            found = totals.verify(campaign)
            for difference in found[:50]:
                self.stdout.write(
                    f"campaign {difference.campaign_id} {difference.form_code} unit {difference.unit_id} "
                    f"item {difference.item}: kept {difference.stored!r}, records say {difference.live!r}"
                )
            differences += len(found)
        if differences:
            raise CommandError(f"{differences} difference(s); `ledger_totals --rebuild` derives them afresh")
        if not options["rebuild"]:
            self.stdout.write("maintained ledger totals agree with the records")
