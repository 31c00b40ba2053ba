"""formkit's messages follow the interface language (the English catalogue), produced in the language of the
request they are made for: the compiled rules are kept for every request, so no language may stick. What a
table holds or what the reader searches for (labels, headings, 是/否) stays Chinese in every language, and the
`songnuan` command (no Django) stays Chinese."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.utils import translation

from songnuan.formkit.definitions import builtin_forms, get_form
from songnuan.formkit.engine import compiled
from songnuan.formkit.excel_reader import TableReading, UnreadableFile, read_workbook
from songnuan.formkit.excel_writer import ListWriter, write_form
from songnuan.formkit.upload_guard import Limits, guard_workbook

from .filemakers import filled_example, official_template
from .test_translations import compile_catalogue
from .world import World

FORM = "warmth-2018"


@pytest.fixture(autouse=True)
def english_catalogue(tmp_path: Path) -> Iterator[None]:
    """The catalogue compiled afresh (the .mo is built, never committed)."""
    with override_settings(LOCALE_PATHS=[str(compile_catalogue(tmp_path / "locale"))]):
        yield


def of_which_rule() -> tuple[str, str, str]:
    """A generated “其中” rule of the form: (rule id, the part's code, the parent's code)."""
    rule = next(r for r in compiled(get_form(FORM)).rules if r.id.endswith(".of-which"))
    part, parent = rule.items
    return rule.id, part, parent


def check_in(world: World, language: str) -> dict[str, dict[str, Any]]:
    """The API's live check of a broken table, the page's language cookie set to `language`."""
    _rule, part, parent = of_which_rule()
    values, _header = filled_example(FORM)
    typed = {code: str(value) for code, value in values.items()}
    typed |= {"2C": "1", parent: "1", part: "5"}
    client: Client = world.client("enterprise_reporter")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    url = f"/api/campaigns/{world.campaign.pk}/units/{world.enterprise.pk}/forms/{FORM}/check"
    response = client.post(url, data=json.dumps({"values": typed}), content_type="application/json")
    assert response.status_code == 200, response.content
    data = response.json()
    return {finding["rule"]: finding for finding in data["errors"] + data["warnings"]}


def test_check_messages_follow_the_language_of_each_request(world: World) -> None:
    rule_id, part, parent = of_which_rule()
    # English first: the rules are compiled during this request, and must not keep its language.
    english = check_in(world, "en")
    total = english["warmth-2018.2C.sum"]["message"]
    assert "should be equal to the sum of its parts" in total and ", a difference of " in total
    assert "应" not in total and "相差" not in total
    of_which = english[rule_id]["message"]
    assert f"{part} is an “of which” part of {parent} and cannot be greater than {parent}" in of_which
    assert "其中" not in of_which

    chinese = check_in(world, "zh-hans")
    assert "应等于分项之和" in chinese["warmth-2018.2C.sum"]["message"]
    assert "，相差 " in chinese["warmth-2018.2C.sum"]["message"]
    assert f"{part}是{parent}的“其中”项，不能大于{parent}" in chinese[rule_id]["message"]
    assert "should" not in chinese["warmth-2018.2C.sum"]["message"] + chinese[rule_id]["message"]

    again = check_in(world, "en")
    assert again["warmth-2018.2C.sum"]["message"] == total and again[rule_id]["message"] == of_which


def test_file_messages_follow_the_language() -> None:
    forms = builtin_forms()
    with translation.override("en"), pytest.raises(UnreadableFile) as english:
        read_workbook(b"not a spreadsheet at all", file="a.xlsx", forms=forms)
    with translation.override("zh-hans"), pytest.raises(UnreadableFile) as chinese:
        read_workbook(b"not a spreadsheet at all", file="a.xlsx", forms=forms)
    assert str(english.value) != str(chinese.value)
    assert "Excel" in str(english.value) and not any("\u4e00" <= c <= "\u9fff" for c in str(english.value))


def test_the_kind_named_by_the_upload_limits_is_translated_when_the_message_is_made() -> None:
    tiny = Limits("名单", max_rows=10, max_columns=5, max_cells=50, max_bytes=1 << 20)
    with translation.override("en"), pytest.raises(UnreadableFile) as english:
        guard_workbook(official_template(), file="t.xlsx", limits=tiny)
    with translation.override("zh-hans"), pytest.raises(UnreadableFile) as chinese:
        guard_workbook(official_template(), file="t.xlsx", limits=tiny)
    assert "List" in str(english.value) and "名单" not in str(english.value)
    assert "名单" in str(chinese.value) and "最多 10 行、5 列" in str(chinese.value)


def written(language: str, **kwargs: Any) -> bytes:
    buffer = io.BytesIO()
    with translation.override(language):
        write_form(get_form(FORM), buffer, **kwargs)
    return buffer.getvalue()


def read(data: bytes, language: str) -> TableReading:
    with translation.override(language):
        (reading,) = read_workbook(data, file="t.xlsx", forms=builtin_forms())
    return reading


@pytest.mark.parametrize("writer, reader", [("en", "zh-hans"), ("zh-hans", "en"), ("en", "en")])
def test_a_table_written_in_one_language_reads_back_in_any(writer: str, reader: str) -> None:
    form = get_form(FORM)
    blank = read(written(writer), reader)
    assert blank.form.code == FORM and blank.problems == []
    assert blank.values == dict.fromkeys(form.codes)

    values, header = filled_example(FORM)
    filled = read(written(writer, values=values, header=header), reader)
    assert filled.problems == [] and filled.values == values
    assert filled.header.as_dict() == {
        "unit": header["unit"],
        "reporter": header["reporter"],
        "phone": header["phone"],
        "date": header["date"],
    }


def test_the_written_table_is_the_official_chinese_table_in_english_too() -> None:
    sheet = openpyxl.load_workbook(io.BytesIO(written("en"))).active
    assert sheet is not None
    texts = {str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value is not None}
    assert {"填报单位：", "填报人：", "电话：", "填报日期：", "编号", "合计"} <= texts
    assert not [text for text in texts if "Report" in text or "Total" in text]


def test_a_list_writes_yes_and_no_as_the_reader_reads_them_in_english_too() -> None:
    buffer = io.BytesIO()
    with translation.override("en"):
        writer = ListWriter(buffer, title="名单", header=["姓名", "困难"])
        writer.write(["王丽", True])
        writer.write(["李强", False])
        writer.close()
    workbook = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    assert workbook.sheetnames == ["名单"]
    sheet = workbook.active
    assert sheet is not None
    assert [sheet["B3"].value, sheet["B4"].value] == ["是", "否"]


def test_the_command_line_stays_chinese(tmp_path: Path) -> None:
    """The `songnuan` command runs without Django: whatever the shell's locale, its messages are Chinese."""
    values, header = filled_example(FORM)
    broken = tmp_path / "broken.xlsx"
    write_form(get_form(FORM), broken, values={**values, "2C": 1}, header=header)
    script = shutil.which("songnuan") or str(Path(sys.executable).with_name("songnuan"))
    environment = {"PATH": "", "LANG": "en_US.UTF-8", "LANGUAGE": "en", "LC_ALL": "en_US.UTF-8"}
    result = subprocess.run([script, "check", str(broken)], capture_output=True, text=True, env=environment)
    assert result.returncode == 1, result.stderr
    assert "应等于分项之和" in result.stdout and "未通过" in result.stdout
    assert "should" not in result.stdout


def test_the_stdlib_translator_is_restored_by_none() -> None:
    """`use_translator(None)` is the command line's default: the Chinese source text."""
    from django.utils.translation import gettext

    from songnuan.formkit import i18n

    try:
        i18n.use_translator(None)
        with translation.override("en"):
            assert i18n.gettext("，相差 {diff}") == "，相差 {diff}"
        i18n.use_translator(gettext)
        with translation.override("en"):
            assert i18n.gettext("，相差 {diff}").format(diff=Decimal(1)) == ", a difference of 1"
    finally:
        i18n.use_translator(gettext)


def test_the_form_page_lists_generated_rules_in_the_language_of_the_request(world: World) -> None:
    rule_id, part, parent = of_which_rule()  # compiled before any request: in Chinese
    client: Client = world.client("enterprise_reporter")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(f"/forms/{FORM}/").content.decode()
    assert rule_id in page
    assert f"{part} is an “of which” part of {parent} and cannot be greater than {parent}" in page
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page = client.get(f"/forms/{FORM}/").content.decode()
    assert f"{part}是{parent}的“其中”项，不能大于{parent}" in page
