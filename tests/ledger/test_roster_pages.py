"""The roster import's pages: upload, confirm the columns, the outcome and the rejected rows, and who may."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from songnuan.ledger.models import HelpRecord, RosterImport
from tests.ledger.ledgerworld import LedgerWorld
from tests.ledger.test_roster import row, write_csv


@pytest.fixture(autouse=True)
def imports_in_the_request(settings: Any, tmp_path: Path) -> None:
    settings.SONGNUAN_IMPORT_IN_BACKGROUND = False
    settings.SONGNUAN_IMPORT_DIR = tmp_path / "imports"


def start_url(ledger: LedgerWorld) -> str:
    return reverse("ledger:roster-start", args=[ledger.world.campaign.pk, ledger.world.county.pk])


def upload(client: Client, ledger: LedgerWorld, path: Path) -> Any:
    with path.open("rb") as stream:
        return client.post(start_url(ledger), {"file": stream})


def test_a_reporter_uploads_confirms_the_columns_and_downloads_the_rejected_rows(
    ledger: LedgerWorld, tmp_path: Path
) -> None:
    client = ledger.world.client("county_reporter")
    page = client.get(start_url(ledger))
    assert page.status_code == 200 and "导入发放花名册" in page.content.decode()
    assert reverse("ledger:records", args=[ledger.world.campaign.pk, ledger.world.county.pk]) in (
        page.content.decode()
    )
    path = write_csv(tmp_path / "花名册.csv", [row(ledger.wang), row(ledger.zhang)])
    answer = upload(client, ledger, path)
    job = RosterImport.objects.get()
    assert answer.status_code == 302 and answer["Location"] == reverse("ledger:roster-job", args=[job.pk])
    mapping_page = client.get(answer["Location"]).content.decode()
    assert "mapping-form" in mapping_page and "金额（元）" in mapping_page
    posted = {name: str(index) for name, index in job.mapping.items()}
    done = client.post(reverse("ledger:roster-job", args=[job.pk]), posted, follow=True).content.decode()
    assert 'id="count-created">1<' in done and 'id="count-rejected">1<' in done
    progress = client.get(reverse("ledger:roster-progress", args=[job.pk])).json()
    assert (progress["state"], progress["created"], progress["rejected"]) == ("done", 1, 1)
    rejected = client.get(reverse("ledger:roster-rejected", args=[job.pk]))
    assert rejected.status_code == 200 and rejected["Content-Type"].startswith(
        "application/vnd.openxmlformats"
    )
    assert HelpRecord.objects.get().state == HelpRecord.State.DRAFT


def test_a_missing_column_and_an_unreadable_file_are_said_on_the_page(
    ledger: LedgerWorld, tmp_path: Path
) -> None:
    client = ledger.world.client("county_reporter")
    bad = client.post(start_url(ledger), {"file": io.BytesIO(b"hello")})
    assert bad.status_code == 400
    path = write_csv(tmp_path / "a.csv", [row(ledger.wang)])
    upload(client, ledger, path)
    job = RosterImport.objects.get()
    posted = {name: str(index) for name, index in job.mapping.items() if name != "amount"}
    answer = client.post(reverse("ledger:roster-job", args=[job.pk]), posted)
    assert answer.status_code == 400 and "金额（元）" in answer.content.decode()
    assert HelpRecord.objects.count() == 0


@pytest.mark.parametrize(
    ("who", "start", "job"),
    [
        ("county_reporter", 200, 200),  # the unit's own reporter
        ("county_reviewer", 200, 404),  # an account of the unit may enter; someone else's job is not its
        ("city_reviewer", 403, 404),  # a reviewer above approves, it does not import the county's rosters
        ("sibling_reporter", 403, 404),
        ("", 302, 302),  # anonymous: to the login page
    ],
)
def test_who_may_import_and_see_an_import(
    ledger: LedgerWorld, tmp_path: Path, who: str, start: int, job: int
) -> None:
    owner = ledger.world.client("county_reporter")
    upload(owner, ledger, write_csv(tmp_path / "a.csv", [row(ledger.wang), row(ledger.zhang)]))
    made = RosterImport.objects.get()
    owner.post(reverse("ledger:roster-job", args=[made.pk]), {k: str(v) for k, v in made.mapping.items()})
    client = ledger.world.client(who) if who else Client()
    assert client.get(start_url(ledger)).status_code == start
    for name in ("ledger:roster-job", "ledger:roster-progress", "ledger:roster-rejected"):
        assert client.get(reverse(name, args=[made.pk])).status_code == job, name
    if start != 200:
        with (tmp_path / "a.csv").open("rb") as stream:
            assert client.post(start_url(ledger), {"file": stream}).status_code == start
        assert RosterImport.objects.count() == 1
