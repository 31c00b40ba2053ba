"""The `songnuan` command: `template`, `check` and `lint-form`, with no database and no server."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from songnuan.formkit.checking import TableReport, check_paths, exit_code, to_json
from songnuan.formkit.definitions import Form, FormDefinitionError, builtin_forms, load_form
from songnuan.formkit.excel_writer import write_form
from songnuan.formkit.i18n import gettext as _
from songnuan.formkit.lint import accepted_readings, lint_form


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(_("参数有误：{m}").format(m=message), file=sys.stderr)
        raise SystemExit(2)


def _resolve_form(name: str) -> Form:
    """A built-in form code, or the path of a form definition file."""
    forms = builtin_forms()
    if name in forms:
        return forms[name]
    if name.endswith(".toml") or Path(name).exists():
        return load_form(name)
    raise FormDefinitionError(name, [_("没有这个表样。内置表样：{codes}").format(codes="、".join(forms))])


def _command_template(args: argparse.Namespace) -> int:
    form = _resolve_form(args.form)
    output = Path(args.output or f"{form.code}.xlsx")
    write_form(form, output)
    print(_("已生成空白表样：{path}（{title}）").format(path=output, title=form.title))
    return 0


def _print_text(reports: Sequence[TableReport]) -> None:
    status_words = {"ok": _("通过"), "invalid": _("未通过"), "unreadable": _("无法读取")}
    for report in reports:
        title = f"{report.form.code} {report.form.title}" if report.form else "-"
        unit = report.header.unit or _("（未填填报单位）")
        print(f"{report.file}  [{title}]  {unit}  —  {status_words[report.status.value]}", end="")
        if report.message:
            print(f"\n  {report.message}")
            continue
        print(_("（错误 {e} 个，警告 {w} 个）").format(e=len(report.errors), w=len(report.warnings)))
        for label, violations in ((_("错误"), report.errors), (_("警告"), report.warnings)):
            for v in violations:
                cell = v.cells.get(v.items[0], "") if v.items else ""
                print(f"  {label}  {cell:<12} {v.rule}\n        {v.message}")


def _command_check(args: argparse.Namespace) -> int:
    forms = builtin_forms()
    if args.form and args.form not in forms:
        form = _resolve_form(args.form)
        forms = {form.code: form}
        args.form = form.code
    reports = check_paths(args.files, forms=forms, form_code=args.form)
    if args.format == "json":
        print(to_json([report.as_dict() for report in reports]))
    else:
        _print_text(reports)
    return exit_code(reports)


def _command_lint(args: argparse.Namespace) -> int:
    forms = [_resolve_form(name) for name in args.forms] or list(builtin_forms().values())
    total = 0
    for form in forms:
        findings = lint_form(form, printed=args.printed)
        total += len(findings)
        print(_("{code}（{title}）：{n} 个问题").format(code=form.code, title=form.title, n=len(findings)))
        for finding in findings:
            print(f"  {finding}")
        if not args.printed:
            for rule in accepted_readings(form):
                print(
                    _("  认可的理解 {id}：{reading}").format(
                        id=form.full_rule_id(rule.id), reading=rule.reading
                    )
                )
    return 1 if total else 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="songnuan", description=_("送温暖统计表：生成表样、检查填好的表、检查表样定义"))
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    template = commands.add_parser("template", help=_("生成空白表样（.xlsx，A4 打印格式）"))
    template.add_argument("form", metavar="FORM", help=_("表样代码（如 warmth-2018）或表样定义文件路径"))
    template.add_argument("-o", "--output", metavar="FILE.xlsx", help=_("输出文件，默认为 <表样代码>.xlsx"))
    template.set_defaults(run=_command_template)

    check = commands.add_parser("check", help=_("检查填好的统计表（.xlsx/.xls/.ods）"))
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument("--form", metavar="CODE", help=_("指定表样，不指定则按表名自动识别"))
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.set_defaults(run=_command_check)

    lint = commands.add_parser("lint-form", help=_("检查表样定义文件中的公式（单位不一致、重复项等）"))
    lint.add_argument("forms", nargs="*", metavar="FILE", help=_("表样定义文件或代码，默认检查全部内置表样"))
    lint.add_argument("--printed", action="store_true", help=_("按通知印刷的原始公式检查，不采用认可的理解"))
    lint.set_defaults(run=_command_lint)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except FormDefinitionError as problem:
        print(str(problem), file=sys.stderr)
        return 2
    except OSError as problem:
        print(_("无法写入或读取文件：{e}").format(e=problem.strerror or problem), file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
