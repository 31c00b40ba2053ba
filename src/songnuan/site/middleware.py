"""A Chinese page for 405 Method Not Allowed.

Django has a handler for 400, 403, 404 and 500 but not for 405: `require_POST` and friends return an empty
`HttpResponseNotAllowed`, which a browser shows as a blank page. A middleware replaces that one response
everywhere (rather than a decorator on each of the many POST-only views, which a new view would forget),
keeping the status and the Allow header. The API's own 405 answers are JSON and are left alone.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render

API_PREFIX = "/api/"


class MethodNotAllowedPageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not isinstance(response, HttpResponseNotAllowed) or request.path.startswith(API_PREFIX):
            return response
        allowed = response.get("Allow", "")
        page = render(
            request,
            "405.html",
            {"allowed": [method.strip() for method in allowed.split(",") if method.strip()]},
            status=405,
        )
        page["Allow"] = allowed
        return page
