"""The first pages: the tables as printed with their rules, the template download, and the upload check."""

from __future__ import annotations

import io
import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from songnuan.formkit.checking import check_bytes
from songnuan.formkit.definitions import builtin_forms, get_form
from songnuan.formkit.engine import compiled
from songnuan.formkit.excel_writer import write_form

from ..filemakers import filled_example

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def client() -> Client:
    return Client()


def xlsx_bytes(code: str, **changes: object) -> bytes:
    values, header = filled_example(code)
    values.update(changes)  # type: ignore[arg-type]
    buffer = io.BytesIO()
    write_form(get_form(code), buffer, values=values, header=header)
    return buffer.getvalue()


def test_home_leads_to_the_campaigns(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/campaigns/"


def test_form_list_shows_both_tables(client: Client) -> None:
    page = client.get("/forms/").content.decode()
    for form in builtin_forms().values():
        assert form.title in page
        assert f"/forms/{form.code}/template.xlsx" in page
    assert 'lang="zh-hans"' in page


@pytest.mark.parametrize("code", ["warmth-2018", "service-centres-2017"])
def test_form_detail_shows_every_row_and_every_rule(client: Client, code: str) -> None:
    form = get_form(code)
    page = client.get(f"/forms/{code}/").content.decode()
    for item in form.items:
        assert f'id="item-{item.code}"' in page
    for compiled_rule in compiled(form).rules:
        assert compiled_rule.id in page
    for rule in form.rules:
        if rule.reading:
            assert rule.reading in page


def test_unknown_form_is_404(client: Client) -> None:
    assert client.get("/forms/nope-1999/").status_code == 404
    assert client.get("/forms/nope-1999/template.xlsx").status_code == 404


@pytest.mark.parametrize("code", ["warmth-2018", "service-centres-2017"])
def test_template_download_is_the_blank_official_table(client: Client, code: str) -> None:
    response = client.get(f"/forms/{code}/template.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert "filename*=utf-8''" in response["Content-Disposition"]
    (report,) = check_bytes(response.content, file="template.xlsx")
    assert report.form is not None and report.form.code == code
    assert report.status == "ok"
    assert all(value is None for value in report.values.values())


def test_upload_several_files_shows_each_table_with_highlighted_cells(client: Client) -> None:
    good = SimpleUploadedFile("东宝区.xlsx", xlsx_bytes("warmth-2018"), content_type=XLSX)
    values, _header = filled_example("warmth-2018")
    bad_total = values["3A"] + Decimal(5)  # type: ignore[operator]
    bad = SimpleUploadedFile("沙洋县.xlsx", xlsx_bytes("warmth-2018", **{"3A": bad_total}), content_type=XLSX)
    junk = SimpleUploadedFile(
        "报告.docx", b"not a spreadsheet at all", content_type="application/octet-stream"
    )
    response = client.post("/check/", {"tables": [good, bad, junk]})
    assert response.status_code == 200
    page = response.content.decode()
    checked = response.context["checked"]
    assert [t.report.status for t in checked] == ["ok", "invalid", "unreadable"]
    assert "东宝区.xlsx" in page and "沙洋县.xlsx" in page and "报告.docx" in page
    assert "不是电子表格文件" in page
    # The wrong total is highlighted as an error and its message stands beside it.
    rows = {row.code: row for row in checked[1].rows}
    assert rows["3A"].state == "error"
    assert any("warmth-2018.3A.sum" not in m and "应等于分项之和" in m for _s, m in rows["3A"].messages)
    assert '<td class="value error"' in page
    # The rule's words are shown; its id only in a data attribute (issue 11).
    assert 'data-rule="warmth-2018.3A.sum"' in page and ">warmth-2018.3A.sum<" not in page


def test_upload_without_files_is_refused_with_a_message(client: Client) -> None:
    response = client.post("/check/", {})
    assert response.status_code == 200
    assert response.context["upload"].errors


def test_upload_needs_the_csrf_token() -> None:
    client = Client(enforce_csrf_checks=True)
    upload = SimpleUploadedFile("a.xlsx", xlsx_bytes("warmth-2018"), content_type=XLSX)
    assert client.post("/check/", {"tables": [upload]}).status_code == 403


@pytest.mark.django_db
def test_database_is_migrated_and_usable() -> None:
    """The suite also runs on PostgreSQL in CI; this touches the database for real."""
    from django.contrib.auth.models import User

    User.objects.create_user("reporter", password="a-long-pass-phrase")
    assert User.objects.get(username="reporter").check_password("a-long-pass-phrase")
    from django.db import connection

    expected = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    assert connection.vendor == expected


def test_manage_check_validates_the_built_in_forms() -> None:
    from songnuan.reporting.checks import check_form_definitions

    assert check_form_definitions() == []


SOURCE = Path(__file__).parents[2] / "src/songnuan"


def test_static_css_exists() -> None:
    css = SOURCE / "site/static/site/site.css"
    assert "td.value.error" in css.read_text(encoding="utf-8")


# A style="…" that only hands a per-element number to the stylesheet (the rule itself is in the CSS file).
DATA_ONLY_STYLES = {"reporting/templates/review/dashboard.html": ['style="--indent: {{ row.indent }}"']}


def test_css_lives_in_static_files_only() -> None:
    """No <style> block in a template, no style="…" attribute but a data-driven one, no CSS in Python."""
    found = []
    for path in sorted(SOURCE.rglob("*.html")):
        name = str(path.relative_to(SOURCE))
        text = path.read_text(encoding="utf-8")
        for allowed in DATA_ONLY_STYLES.get(name, []):
            text = text.replace(allowed, "")
        found += [f"{name}: <style>"] * ("<style" in text) + [f"{name}: style="] * ("style=" in text)
    for path in sorted(SOURCE.rglob("*.py")):
        if "migrations" not in path.parts and '"style":' in path.read_text(encoding="utf-8"):
            found.append(f"{path.relative_to(SOURCE)}: a style attribute in Python")
    assert found == []


def test_every_page_extends_the_project_level_shell() -> None:
    old = [
        str(p.relative_to(SOURCE))
        for p in SOURCE.rglob("*.html")
        if "reporting/base.html" in p.read_text("utf-8")
    ]
    assert old == []
    assert not (SOURCE / "reporting/templates/reporting/base.html").exists()
