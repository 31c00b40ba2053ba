"""System checks: `manage.py check` (and every runserver/migrate) validates the built-in form files."""

from __future__ import annotations

from typing import Any

from django.core import checks

from songnuan.formkit.definitions import FormDefinitionError, builtin_form_paths, load_form
from songnuan.formkit.engine import compiled
from songnuan.formkit.expressions import ExpressionError
from songnuan.formkit.lint import lint_form


@checks.register()
def check_form_definitions(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    for path in builtin_form_paths():
        try:
            form = load_form(path)
            compiled(form)
        except (FormDefinitionError, ExpressionError) as problem:
            messages.append(
                checks.Error(
                    str(problem),
                    obj=str(path),
                    id="reporting.E001",
                    hint="修正表样定义文件，格式见 docs/forms.md",
                )
            )
            continue
        for finding in lint_form(form):
            messages.append(
                checks.Error(
                    str(finding), obj=str(path), id="reporting.E002", hint="运行 songnuan lint-form 查看详情"
                )
            )
    return messages
