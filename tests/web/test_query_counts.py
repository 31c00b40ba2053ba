"""The pages a deadline day hammers keep their number of SQL queries (counted on 2026-12-02: the entry page
10, the campaign list of the city's reviewer 25; since 2026-12-03 one more each: the header's "待办 (n)"
counts the unread notices; and the entry page one more again: whether the unit has units below it, for its
本级 and 全辖 columns — one more still when the campaign has last year's, for the 上年 column; and two more
for the relief ledger's figures beside the items, "台账：N": all record kinds in one UNION ALL, and before it
the ids of the help items and fund sources its filters name, so that it compares plain ids — a subquery per
filter cost 10–20 % more on a large ledger). Since issue 14 the entry page asks 4 fewer (10 here): the
account comes with its unit, the campaign with whether it concerns the unit, the unit with whether units
are below it, the submission with its values (tests/web/test_entry_rows.py holds it to ≤ 6 of its own
beyond every page's four). A new query on these pages must be a decision, not a slip: raise the figure
here with the reason."""

from __future__ import annotations

from typing import Any

from ..world import World
from .test_workflow_services import FORM, draft


def test_the_entry_page_of_a_draft(world: World, django_assert_max_num_queries: Any) -> None:
    submission = draft(world)
    client = world.client("enterprise_reporter")
    url = f"/campaigns/{world.campaign.pk}/units/{submission.unit_id}/forms/{FORM}/"
    client.get(url)  # the session's first request loads the account
    with django_assert_max_num_queries(10):
        assert client.get(url).status_code == 200


def test_the_campaign_list_of_the_city(world: World, django_assert_max_num_queries: Any) -> None:
    draft(world)
    client = world.client("city_reviewer")
    with django_assert_max_num_queries(26):
        assert client.get(f"/campaigns/{world.campaign.pk}/").status_code == 200
