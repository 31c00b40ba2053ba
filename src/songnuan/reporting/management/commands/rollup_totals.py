"""Check, or add up afresh, the maintained roll-up totals (`songnuan.reporting.branch_totals`) and each unit's
count of the units below it (`Unit.units_below`, from which the roll-up counts the tables it expects).

.venv/bin/python manage.py rollup_totals            # compare with the accepted tables (exit 1: a difference)
.venv/bin/python manage.py rollup_totals --rebuild  # add every campaign's branches up afresh
.venv/bin/python manage.py rollup_totals --campaign 3 # one campaign only
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from songnuan.campaigns.models import Campaign
from songnuan.orgs.services import count_units_below, units_below_wrong
from songnuan.reporting import branch_totals


class Command(BaseCommand):
    help = "Verify the maintained roll-up totals against the accepted tables (--rebuild: add them up afresh)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--campaign", type=int, help="only this campaign (its id)")
        parser.add_argument(
            "--rebuild", action="store_true", help="add the branches up afresh, compare nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        campaigns = Campaign.objects.order_by("pk")
        if options["campaign"] is not None:
            campaigns = campaigns.filter(pk=options["campaign"])
            if not campaigns.exists():
                raise CommandError(f"no campaign {options['campaign']}")
        differences = 0
        if options["rebuild"]:
            self.stdout.write(f"{count_units_below()} unit(s) had a wrong count of units below them")
        else:
            wrong = units_below_wrong()
            for pk, (kept, counted) in list(wrong.items())[:50]:
                self.stdout.write(f"unit {pk}: keeps {kept} unit(s) below it, the paths say {counted}")
            differences += len(wrong)
        for campaign in campaigns:
            if options["rebuild"]:
                for code, branches in branch_totals.rebuild(campaign).items():
                    self.stdout.write(f"campaign {campaign.pk} {code}: {branches} branch(es) added up")
                continue
            found = branch_totals.verify(campaign)
            for difference in found[:50]:
                what = {"": "tables", "own": "own table accepted"}.get(
                    difference.item, f"item {difference.item}"
                )
                self.stdout.write(
                    f"campaign {difference.campaign_id} {difference.form_code} unit {difference.unit_id} "
                    f"{what}: kept {difference.kept!r}, the accepted tables say {difference.tables_say!r}"
                )
            differences += len(found)
        if differences:
            raise CommandError(f"{differences} difference(s); `rollup_totals --rebuild` adds them up afresh")
        if not options["rebuild"]:
            self.stdout.write("maintained roll-up totals agree with the accepted tables")
