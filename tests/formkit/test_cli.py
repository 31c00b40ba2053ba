"""The `songnuan` command: template, check (text and JSON, exit codes 0/1/2) and lint-form."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from songnuan.formkit.cli import main
from songnuan.formkit.definitions import get_form
from songnuan.formkit.excel_writer import write_form

from ..filemakers import filled_example

DATA = Path(__file__).parents[2] / "src/songnuan/formkit/data"


def filled(tmp_path: Path, code: str, name: str, **changes: object) -> Path:
    values, header = filled_example(code)
    values.update(changes)  # type: ignore[arg-type]
    path = tmp_path / name
    write_form(get_form(code), path, values=values, header=header)
    return path


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict[str, object]]]:
    code = main(["check", "--format", "json", *args])
    return code, json.loads(capsys.readouterr().out)


def test_template_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "附件1.xlsx"
    assert main(["template", "warmth-2018", "-o", str(target)]) == 0
    assert target.read_bytes().startswith(b"PK")
    assert "已生成空白表样" in capsys.readouterr().out


def test_template_from_a_definition_file(tmp_path: Path) -> None:
    assert main(["template", str(DATA / "service-centres-2017.toml"), "-o", str(tmp_path / "t.xlsx")]) == 0


def test_unknown_form_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["template", "warmth-1999"]) == 2
    assert "没有这个表样" in capsys.readouterr().err


def test_check_ok_is_exit_0_and_json_has_the_documented_shape(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, reports = run_json(capsys, str(filled(tmp_path, "warmth-2018", "a.xlsx")))
    assert code == 0
    (report,) = reports
    assert set(report) >= {"file", "form", "unit", "status", "values", "errors", "warnings"}
    assert report["form"] == "warmth-2018" and report["status"] == "ok" and report["unit"] == "东宝区总工会"
    values = report["values"]
    assert isinstance(values, dict) and len(values) == 55


def test_json_money_is_exact(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = filled(tmp_path, "warmth-2018", "a.xlsx", **{"3B": Decimal("0.1"), "3C": Decimal("0.2")})
    _code, (report,) = run_json(capsys, str(path))
    text = json.dumps(report["values"])
    assert '"3B": 0.1' in text and '"3C": 0.2' in text


def test_check_invalid_is_exit_1_with_cell_and_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    values, _ = filled_example("warmth-2018")
    path = filled(tmp_path, "warmth-2018", "bad.xlsx", **{"2C": values["2C"] + 1})  # type: ignore[operator]
    code, (report,) = run_json(capsys, str(path))
    assert code == 1 and report["status"] == "invalid"
    errors = report["errors"]
    assert isinstance(errors, list)
    (error,) = errors
    assert error["rule"] == "warmth-2018.2C.sum" and error["severity"] == "error"
    assert error["items"] == ["2C", "2D", "2E", "2F"]
    assert str(error["cell"]).startswith("附件1!G")
    assert error["message"]


def test_check_unreadable_is_exit_2_even_beside_good_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("hello", encoding="utf-8")
    code, reports = run_json(capsys, str(filled(tmp_path, "warmth-2018", "a.xlsx")), str(junk))
    assert code == 2
    assert [r["status"] for r in reports] == ["ok", "unreadable"]
    assert reports[1]["form"] is None and "不是电子表格文件" in str(reports[1]["message"])


def test_check_text_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    values, _ = filled_example("warmth-2018")
    path = filled(tmp_path, "warmth-2018", "bad.xlsx", **{"2C": values["2C"] + 1})  # type: ignore[operator]
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "未通过" in out and "warmth-2018.2C.sum" in out and "附件1!G" in out


def test_check_with_forced_form_refuses_the_other_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = filled(tmp_path, "warmth-2018", "a.xlsx")
    code, (report,) = run_json(capsys, "--form", "service-centres-2017", str(path))
    assert code == 2 and report["status"] == "unreadable"


def test_lint_form_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint-form"]) == 0
    out = capsys.readouterr().out
    assert "0 个问题" in out and "认可的理解" in out
    assert main(["lint-form", "--printed"]) == 1
    assert capsys.readouterr().out.count("unit-mix") == 3


def test_lint_form_on_a_broken_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('code = "x"\n', encoding="utf-8")
    assert main(["lint-form", str(path)]) == 2
    assert "缺少字段“title”" in capsys.readouterr().err


def test_bad_arguments_are_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["check"])
    assert caught.value.code == 2
    assert "参数有误" in capsys.readouterr().err


def test_installed_console_script(tmp_path: Path) -> None:
    """`pip install .` puts `songnuan` on the PATH, and it runs without Django settings."""
    script = shutil.which("songnuan") or str(Path(sys.executable).with_name("songnuan"))
    result = subprocess.run([script, "lint-form"], capture_output=True, text=True, env={"PATH": ""})
    assert result.returncode == 0, result.stderr
    assert "warmth-2018" in result.stdout
