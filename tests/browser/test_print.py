"""The A4 print of a table keeps each numbered group (the rows under one merged 编号 cell) on one page.

附件2's groups run up to 19 rows (group 9) and 13 (group 10): a page break inside one cuts the merged
编号 cell, and the rows below it lose their number. The print page makes each group a tbody of its own
with `break-inside: avoid`, and repeats the heading on every page; the Excel sheet breaks pages between
groups.

How the browser test knows on which page a row was printed: it wraps each row's label in a link, prints
to PDF with Chromium, and reads the link annotations of each page (Chromium writes the page dictionaries
and their annotations uncompressed; no PDF library needed). Chromium by itself already avoids breaking
between rows spanned by a rowspan cell, which other browsers (Firefox, older engines) do not: so the test
also prints the page with the rowspans taken out, to check that the page's own markup and CSS keep the
groups whole, at several print scales (each scale moves the page breaks).
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.contrib.staticfiles import finders

from songnuan.formkit.definitions import get_form
from songnuan.formkit.excel_writer import print_scale, write_form
from songnuan.reporting.services import submission_open, submission_save

from ..filemakers import filled_example
from ..world import World
from .sessions import log_in

FORM = "service-centres-2017"
LINK = "https://row.invalid/"
#: Print scales to try; each puts the page breaks elsewhere. Without the grouping, 0.8 cuts group 11 and 0.9
#: cuts group 10 (10A–10G on one page, 10H–10M on the next) when the browser does not keep rowspans together.
SCALES = (0.75, 0.8, 0.85, 0.9, 1.0)


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def filled_table(world: World) -> str:
    """The county's 附件2 filled with the example; the address of its print page."""
    user = world.users["county_reporter"]
    submission = submission_open(campaign=world.campaign, unit=world.county, form_code=FORM, user=user)
    values, header = filled_example(FORM)
    submission_save(
        submission=submission,
        user=user,
        version=submission.version,
        values=values,
        header={"reporter": header["reporter"], "phone": header["phone"], "report_date": header["date"]},
    )
    return f"/campaigns/{world.campaign.pk}/units/{world.county.pk}/forms/{FORM}/print/"


def groups() -> dict[str, list[str]]:
    return {number: [item.code for item in items] for number, items in get_form(FORM).groups()}


# --- the markup (no browser) -----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("who, page", [("county_reporter", "table"), ("city_reviewer", "rollup")])
def test_each_numbered_group_is_a_tbody_of_its_own(world: World, who: str, page: str) -> None:
    address = filled_table(world)
    if page == "rollup":
        address = f"/campaigns/{world.campaign.pk}/rollup/{world.city.pk}/{FORM}/print/"
    html = world.client(who).get(address).content.decode()
    bodies = re.findall(r'<tbody class="group" data-group="(\d+)">(.*?)</tbody>', html, re.S)
    assert [number for number, _rows in bodies] == list(groups())
    for number, rows in bodies:
        assert re.findall(r'data-item="(\w+)"', rows) == groups()[number]
        # The merged 编号 cell spans exactly its tbody.
        assert re.findall(r'<td class="num" rowspan="(\d+)">', rows) == [str(len(groups()[number]))]
    assert 'href="/static/reporting/print.css"' in html
    css = Path(str(finders.find("reporting/print.css"))).read_text(encoding="utf-8")
    assert "table.printed tbody.group { page-break-inside: avoid; break-inside: avoid; }" in css
    assert "table.printed thead { display: table-header-group; }" in css


# --- the Excel file (template and export) ----------------------------------------------------------------


@pytest.mark.parametrize("code", ["warmth-2018", "service-centres-2017"])
def test_the_excel_sheet_breaks_pages_only_between_groups(code: str) -> None:
    form = get_form(code)
    buffer = io.BytesIO()
    write_form(form, buffer, values=filled_example(code)[0])
    sheet = openpyxl.load_workbook(buffer).active
    assert sheet is not None
    # Manual breaks count only without fit-to-page; the zoom makes the sheet one page wide instead.
    fit = sheet.sheet_properties.pageSetUpPr
    assert fit is not None and not fit.fitToPage
    assert sheet.page_setup.scale == print_scale()
    breaks = [brk.id for brk in sheet.row_breaks.brk]  # a break after this (1-based) row
    assert breaks, "each table takes more than one A4 page"
    numbers = [r for r in sheet.merged_cells.ranges if r.min_col == 1 and r.max_col == 1]
    for after in breaks:
        first = sheet.cell(after + 1, 1).value
        assert isinstance(first, int), f"the page after row {after} starts with group {first}"
        assert not [r for r in numbers if r.min_row <= after < r.max_row], (
            f"a merged 编号 cut after row {after}"
        )


# --- in the browser --------------------------------------------------------------------------------------


def pdf_pages(pdf: bytes) -> list[list[str]]:
    """For each page of a Chromium PDF, in order, the link targets on it (after LINK)."""
    objects = {int(m[1]): m[2] for m in re.finditer(rb"(\d+) 0 obj\n(.*?)\nendobj", pdf, re.S)}
    targets = {
        number: found[1].decode()
        for number, body in objects.items()
        if (found := re.search(rb"/URI \(" + re.escape(LINK.encode()) + rb"([\w-]+)\)", body))
    }
    tree = next(body for body in objects.values() if re.match(rb"<</Type /Pages\b", body))
    kids = re.search(rb"/Kids \[([^\]]*)\]", tree)
    assert kids is not None
    pages = []
    for page in re.findall(rb"(\d+) 0 R", kids[1]):
        annotations = re.search(rb"/Annots \[([^\]]*)\]", objects[int(page)])
        refs = re.findall(rb"(\d+) 0 R", annotations[1]) if annotations else []
        pages.append([targets[int(ref)] for ref in refs if int(ref) in targets])
    return pages


def split_groups(pages: list[list[str]]) -> dict[str, list[int]]:
    """Groups whose rows were printed on more than one page → those pages (1-based)."""
    page_of = {code: number for number, codes in enumerate(pages, start=1) for code in codes}
    split = {}
    for group, codes in groups().items():
        assert all(code in page_of for code in codes), f"group {group} was not printed"
        on = sorted({page_of[code] for code in codes})
        if len(on) > 1:
            split[group] = on
    return split


MARK_ROWS = """link => {
  const th = document.querySelector("table.printed thead th");
  th.innerHTML = `<a href="${link}heading">${th.innerHTML}</a>`;
  for (const row of document.querySelectorAll("table.printed tr[data-item]")) {
    const label = row.querySelector("td.label");
    label.innerHTML = `<a href="${link}${row.dataset.item}">${label.innerHTML}</a>`;
  }
}"""

COMPUTED = """() => ({
  heading: getComputedStyle(document.querySelector("table.printed thead")).display,
  groups: Array.from(document.querySelectorAll("table.printed > tbody"), body => ({
    group: body.dataset.group || null,
    rows: Array.from(body.querySelectorAll("tr[data-item]"), row => row.dataset.item),
    breakInside: getComputedStyle(body).breakInside,
  })),
})"""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_a4_print_never_cuts_a_numbered_group(browser: Any, live_server: Any, world: World) -> None:
    page = log_in(browser, live_server, "county_reporter", filled_table(world))

    # As printed: every group is a tbody the browser keeps whole, and the heading repeats on each page.
    page.emulate_media(media="print")
    computed = page.evaluate(COMPUTED)
    assert computed["heading"] == "table-header-group"
    assert [(g["group"], g["rows"]) for g in computed["groups"]] == list(groups().items())
    assert {g["breakInside"] for g in computed["groups"]} == {"avoid"}

    # The real PDF, as Chromium prints the page.
    page.evaluate(MARK_ROWS, LINK)
    pages = pdf_pages(page.pdf(format="A4"))
    assert len(pages) > 1  # 附件2 takes more than one A4 page, so there are breaks to place
    assert split_groups(pages) == {}
    assert all("heading" in codes for codes in pages), "the heading is printed on every page"

    # Without Chromium's own habit of keeping rowspanned rows together, at several scales.
    page.evaluate(
        "() => document.querySelectorAll('td.num[rowspan]').forEach(c => c.removeAttribute('rowspan'))"
    )
    for scale in SCALES:
        pages = pdf_pages(page.pdf(format="A4", scale=scale))
        assert split_groups(pages) == {}, f"at scale {scale}: group → pages it was printed on"
        assert all("heading" in codes for codes in pages), f"at scale {scale}: the heading on every page"
    page.context.close()
