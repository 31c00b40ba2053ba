"""Form definition files: the loader accepts the documented format and names every problem it finds."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from songnuan.formkit.definitions import FormDefinitionError, form_from_mapping, load_form

from .minimal import MINIMAL

DOCS = Path(__file__).parents[2] / "docs" / "forms.md"


def broken(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(MINIMAL)
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda d: d.pop("title"), "缺少字段“title”"),
        (lambda d: d.update(code="Warmth 2018"), "只能含小写字母"),
        (lambda d: d.update(colour="red"), "未知的顶层字段“colour”"),
        (lambda d: d.update(letter_style="bold"), "plain 或 parenthesized"),
        (lambda d: d.update(groups=[]), "缺少项目分组"),
        (lambda d: d["groups"][0]["items"][0].update(unit="元"), "计量单位“元”不在允许的单位中"),
        (lambda d: d["groups"][0]["items"][1].update(letter="A"), "项目代码 3A 重复"),
        (lambda d: d["groups"][0]["items"][1].update(parent="9Z"), "上级项目 9Z 不存在"),
        (lambda d: d["groups"][0]["items"][1].update(code="4B"), "与编号3不符"),
        (lambda d: d["groups"][0]["items"][1].update(colour=1), "未知字段“colour”"),
        (lambda d: d["groups"][0]["items"][1].pop("label"), "缺少字段“label”"),
        (lambda d: d["rules"][0].update(severity="fatal"), "error 或 warning"),
        (lambda d: d["rules"][1].update(id="3A.sum"), "规则编号 3A.sum 重复"),
        (lambda d: d["rules"][0].update(reading="ok"), "须写明理由"),
        (
            lambda d: d["groups"][0]["items"][1].update(archive_category="workers"),
            "的“archive_category”应为 all、worker、migrant、model-worker 之一",
        ),
    ],
)
def test_structural_problems_are_named(change: Any, fragment: str) -> None:
    with pytest.raises(FormDefinitionError, match=re.escape(fragment)):
        form_from_mapping(broken(change), "x.toml")


def test_every_problem_is_reported_at_once() -> None:
    data = broken(lambda d: (d.pop("title"), d["groups"][0]["items"][0].update(unit="元")))
    with pytest.raises(FormDefinitionError) as caught:
        form_from_mapping(data, "x.toml")
    assert len(caught.value.problems) == 2
    assert "x.toml" in str(caught.value)


def test_unreadable_definition_files(tmp_path: Path) -> None:
    with pytest.raises(FormDefinitionError, match="文件不存在"):
        load_form(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("code = [", encoding="utf-8")
    with pytest.raises(FormDefinitionError, match="TOML"):
        load_form(bad)


def test_every_item_and_rule_field_is_documented() -> None:
    from songnuan.formkit import definitions

    text = DOCS.read_text(encoding="utf-8")
    for key in [*sorted(definitions._ITEM_KEYS | definitions._RULE_KEYS), "letter_style", "notes", "title"]:
        assert f"`{key}`" in text, f"docs/forms.md does not document `{key}`"
    for unit in definitions.UNITS:
        assert unit in text


def test_formkit_imports_nothing_from_django() -> None:
    code = (
        "import sys\n"
        "import songnuan.formkit.cli, songnuan.formkit.checking, songnuan.formkit.lint\n"
        "from songnuan.formkit.definitions import builtin_forms\n"
        "builtin_forms()\n"
        "assert not [m for m in sys.modules if m == 'django' or m.startswith('django.')], 'django imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_archive_categories_are_read_from_the_form_file() -> None:
    data = broken(lambda d: d["groups"][0]["items"][1].update(archive_category="migrant"))
    form = form_from_mapping(data, "x.toml")
    assert [(i.code, i.archive_category) for i in form.items if i.archive_category] == [("3B", "migrant")]
