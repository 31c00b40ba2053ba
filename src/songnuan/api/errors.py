"""How the API reads a body and answers a refusal: always JSON `{"message": …}` in Chinese, with the status.

401 not logged in (never a redirect), 403 not allowed or a failed CSRF check, 404 nothing there (a path id
that is no id is "not there" too), 400 a bad body or query parameter or a refused action, 409 a state that
does not allow the action, or a table saved by someone since (nothing is overwritten).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder

from songnuan.api.schemas import ChangedItem, Conflict, cell_value, cell_values
from songnuan.formkit.definitions import get_form
from songnuan.formkit.values import parse_value
from songnuan.reporting import services

#: What a path parameter that names nothing answers (404), by its name.
NOT_THERE = {
    "campaign_id": "没有这个活动",
    "unit_id": "没有这个单位",
    "household_id": "没有这份档案",
    "form_code": "没有这张表",
    "record_id": "没有这条发放记录",
    "receipt_id": "没有这条资金登记",
    "check_id": "没有这次抽查",
    "sampled_id": "没有这户抽中户",
    "task_id": "没有这项整改任务",
    "finding_id": "没有这项自查发现",
}


class ApiError(Exception):
    """Answered as `{"message": …}` with the status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class BodyError(ValueError):
    """A body that is not a JSON object; the message is Chinese."""


def _no_constant(name: str) -> object:
    raise BodyError(_("请求内容不是有效的 JSON：不接受 {name}").format(name=name))


class ExactJsonParser(Parser):
    """JSON bodies with numbers read exactly: a fraction becomes a Decimal, never a float; NaN is refused."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        if not request.body.strip():
            return {}
        try:
            data = json.loads(request.body, parse_float=Decimal, parse_constant=_no_constant)
        except BodyError:
            raise
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise BodyError(_("请求内容不是有效的 JSON")) from None
        if not isinstance(data, dict):
            raise BodyError(_("请求内容应为 JSON 对象"))
        return data


class ExactJsonEncoder(NinjaJSONEncoder):
    """A Decimal or float that slipped past the schemas fails loudly: money leaves only as text."""

    def default(self, o: Any) -> Any:
        if isinstance(o, Decimal | float):
            raise TypeError(f"unformatted number in an API answer: {o!r}")
        return super().default(o)


class ChineseJSONRenderer(JSONRenderer):
    encoder_class = ExactJsonEncoder
    json_dumps_params = {"ensure_ascii": False}


def _location(loc: tuple[Any, ...]) -> tuple[str, list[str]]:
    where = str(loc[0]) if loc else ""
    names = [str(part) for part in loc[1:] if str(part) not in ("payload", "body", "query", "path")]
    return where, names


def validation_message(error: dict[str, Any]) -> str:
    """One pydantic error in Chinese, naming the parameter or field."""
    where, names = _location(tuple(error.get("loc", ())))
    name = ".".join(names) or where
    kind = str(error.get("type", ""))
    context = error.get("ctx") or {}
    given = error.get("input")
    if kind == "value_error" and "error" in context:
        return str(context["error"])
    if where == "query":
        if kind in ("int_parsing", "int_type", "greater_than_equal", "int_from_float"):
            return _("参数 {name} 应为正整数，这里是“{value}”").format(name=name, value=given)
        if kind == "less_than_equal":
            return _("参数 {name} 最大为 {n}").format(name=name, n=context.get("le"))
        if kind == "string_too_long":
            return _("参数 {name} 最多 {n} 个字").format(name=name, n=context.get("max_length"))
        if kind in ("literal_error", "enum"):
            return _("参数 {name} 没有“{value}”这个值；可用的值：{allowed}").format(
                name=name, value=given, allowed=context.get("expected", "")
            )
        return _("参数 {name} 不对：{problem}").format(name=name, problem=error.get("msg", ""))
    if kind == "missing":
        return _("请求中应有字段 {name}").format(name=name)
    if kind == "extra_forbidden":
        parent, _sep, field = name.rpartition(".")
        return _("{parent} 中没有 {field} 这个字段").format(parent=parent or _("请求"), field=field)
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return _("请求中 {name} 应为整数").format(name=name)
    if kind in ("string_type", "str_type"):
        return _("请求中 {name} 应为文字").format(name=name)
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return _("请求中 {name} 应为对象").format(name=name)
    return _("请求中 {name} 不对：{problem}").format(name=name, problem=error.get("msg", ""))


def conflict_body(conflict: services.EditConflict) -> Conflict:
    """Both sides of a refused save, and the items where they differ (for the page's choice)."""
    form = get_form(conflict.submission.form_code)
    theirs = cell_values(conflict.theirs)
    yours: dict[str, int | str | None] = {}
    changed = []
    for code, raw in conflict.yours.items():
        item = form.item(code) if form.has_item(code) else None
        sent = raw if item is None or not isinstance(raw, str | int) else parse_value(item, raw)
        yours[code] = cell_value(sent) if sent is None or isinstance(sent, int | str | Decimal) else str(sent)
        if item is not None and yours[code] != theirs.get(code):
            changed.append(
                ChangedItem(item=code, label=item.name, theirs=theirs.get(code), yours=yours[code])
            )
    return Conflict(
        message=str(conflict),
        version=conflict.submission.version,
        theirs=theirs,
        yours=yours,
        changed=changed,
    )


def _answer(api: NinjaAPI, request: HttpRequest, status: int, message: str, **extra: Any) -> HttpResponse:
    return api.create_response(request, {"message": message, **extra}, status=status)


def install_handlers(api: NinjaAPI) -> None:
    """The Chinese answers of every refusal, on `api`."""

    @api.exception_handler(ApiError)
    def api_error(request: HttpRequest, problem: ApiError) -> HttpResponse:
        return _answer(api, request, problem.status, problem.message)

    @api.exception_handler(AuthenticationError)
    def not_logged_in(request: HttpRequest, problem: AuthenticationError) -> HttpResponse:
        return _answer(api, request, 401, _("请先登录"))

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, problem: HttpError) -> HttpResponse:
        # ninja wraps whatever the body parser raised: the parser's own Chinese message is the answer.
        cause = problem.__cause__
        message = str(cause if isinstance(cause, BodyError) else problem)
        return _answer(api, request, problem.status_code, message)

    @api.exception_handler(PermissionDenied)
    def denied(request: HttpRequest, problem: PermissionDenied) -> HttpResponse:
        return _answer(api, request, 403, str(problem) or _("您无权进行这项操作"))

    @api.exception_handler(BodyError)
    def bad_body(request: HttpRequest, problem: BodyError) -> HttpResponse:
        return _answer(api, request, 400, str(problem))

    @api.exception_handler(ValidationError)
    def invalid(request: HttpRequest, problem: ValidationError) -> HttpResponse:
        errors = list(problem.errors)
        for error in errors:
            loc = tuple(error.get("loc", ()))
            if loc and loc[0] == "path":
                name = str(loc[-1])
                return _answer(api, request, 404, _(NOT_THERE.get(name, "没有这个接口")))
        return _answer(api, request, 400, validation_message(errors[0]) if errors else _("请求不对"))

    @api.exception_handler(services.EditConflict)
    def edit_conflict(request: HttpRequest, problem: services.EditConflict) -> HttpResponse:
        return api.create_response(request, conflict_body(problem).model_dump(exclude_unset=True), status=409)

    @api.exception_handler(services.StateConflict)
    def state_conflict(request: HttpRequest, problem: services.StateConflict) -> HttpResponse:
        return _answer(api, request, 409, str(problem))

    @api.exception_handler(services.ReportingError)
    def refused(request: HttpRequest, problem: services.ReportingError) -> HttpResponse:
        return _answer(api, request, 400, str(problem))
