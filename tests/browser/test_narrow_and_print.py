"""A phone-wide entry page shows whole values; 附件2 prints on as few A4 pages as its numbered groups allow.

Issue 11, item 6: at 390 px the entry inputs clipped values ("1260" showed "12"); 附件2 printed from the
browser took 4 half-empty pages (each numbered group stays on one page, and the groups were laid out so
loosely that few fitted on a page). The pages are counted as tests/browser/test_print.py counts them: each
row's label becomes a link, and the link annotations of each page of Chromium's PDF say what is on it.
"""

from __future__ import annotations

from typing import Any

import pytest

from ..world import World
from .sessions import log_in
from .test_print import LINK, MARK_ROWS, filled_table, pdf_pages, split_groups

PHONE = {"width": 390, "height": 844}

#: 附件2 as printed before issue 11 took 4 A4 pages; its 66 rows in 13 numbered groups fit on 3.
MOST_PAGES = 3


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_390_px_phone_shows_a_whole_value_in_every_input(
    browser: Any, live_server: Any, world: World
) -> None:
    address = f"/campaigns/{world.campaign.pk}/units/{world.county.pk}/forms/warmth-2018/"
    page = log_in(browser, live_server, "county_reporter", address)
    page.set_viewport_size(PHONE)
    page.reload()
    sizes = page.evaluate(
        """() => Array.from(document.querySelectorAll("table.entry td.value input"), input => {
             input.value = "1260.5";
             return [input.id, input.scrollWidth, input.clientWidth];
           })"""
    )
    assert sizes, "the entry page has value inputs"
    clipped = [(name, scroll, client) for name, scroll, client in sizes if scroll > client]
    assert clipped == [], "inputs too narrow for 1260.5 at 390 px: (id, scrollWidth, clientWidth)"
    # Ten characters, not just the six of 1260.5: the widest input box holds "1234567.89" too.
    wide_enough = page.evaluate(
        """() => { const input = document.querySelector("table.entry td.value input");
                   input.value = "1234567.89"; return input.scrollWidth <= input.clientWidth; }"""
    )
    assert wide_enough
    # Typed, as a person does: the value is saved whole and still shown whole.
    box = page.locator("#input-1A")
    box.fill("")
    box.type("1260")
    assert box.evaluate("input => input.scrollWidth <= input.clientWidth")
    # The page itself does not scroll sideways on the phone.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    page.context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_second_attachment_prints_on_few_pages_with_no_group_cut(
    browser: Any, live_server: Any, world: World
) -> None:
    page = log_in(browser, live_server, "county_reporter", filled_table(world))
    page.evaluate(MARK_ROWS, LINK)
    pages = pdf_pages(page.pdf(format="A4"))
    print("附件2 A4 pages:", len(pages), [len(codes) for codes in pages])
    assert split_groups(pages) == {}
    assert all("heading" in codes for codes in pages)
    assert len(pages) <= MOST_PAGES, f"附件2 printed on {len(pages)} A4 pages"
    page.context.close()
