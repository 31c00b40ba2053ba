"""The API's URLs, under /api/: the generated ones of `songnuan.api.main`, then a JSON 404 for the rest."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, URLResolver, re_path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from songnuan.api.main import api

app_name = "api"
METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _json_method_refusal(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A method the path does not take is 405 in JSON too, with the Allow header (ninja answers it bare)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            named = {method.strip() for method in response.get("Allow", "").split(",") if method.strip()}
            allowed = [method for method in METHOD_ORDER if method in named]
            refusal = JsonResponse(
                {
                    "message": _("该接口不支持 {method} 请求").format(method=request.method),
                    "allowed": allowed,
                },
                status=405,
                json_dumps_params={"ensure_ascii": False},
            )
            refusal["Allow"] = ", ".join(allowed)
            return refusal
        return response

    return wrapper


def _wrapped(pattern: URLPattern | URLResolver) -> URLPattern | URLResolver:
    if isinstance(pattern, URLPattern):
        pattern.callback = _json_method_refusal(pattern.callback)
    return pattern


@csrf_exempt  # writes nothing: an unknown URL is a 404 whatever the method
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    return JsonResponse(
        {"message": _("没有这个接口"), "docs": reverse("api:openapi-view")},
        status=404,
        json_dumps_params={"ensure_ascii": False},
    )


generated, _app_name, _namespace = api.urls
urlpatterns = [
    *(_wrapped(pattern) for pattern in generated),
    # Anything else under /api/ is a JSON 404, not an HTML page.
    re_path(r"^(?P<rest>.*)$", not_found, name="not-found"),
]
