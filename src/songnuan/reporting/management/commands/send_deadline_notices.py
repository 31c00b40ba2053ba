"""Daily: tell the people who fill a unit's tables that the deadline is near (3 days) or passed.

Cron, once a day in the morning (China time), e.g.:
    0 8 * * *  cd /srv/songnuan && .venv/bin/python manage.py send_deadline_notices
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from songnuan.reporting.deadlines import send_deadline_notices


class Command(BaseCommand):
    help = "Send the deadline notices due today (3 days before the deadline, and once overdue); idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="act as on this day (YYYY-MM-DD), e.g. to catch up a missed run")

    def handle(self, *args: Any, **options: Any) -> None:
        today = None
        if options["date"]:
            try:
                today = dt.date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError("--date must be YYYY-MM-DD") from None
        written = send_deadline_notices(today=today)
        people = len({notice.recipient_id for notice in written})
        self.stdout.write(f"{len(written)} notice(s) to {people} person(s)")
