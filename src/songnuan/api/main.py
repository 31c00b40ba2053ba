"""The JSON API (/api/): one NinjaAPI, a router per domain, session authentication with Django's CSRF check.

The OpenAPI document (/api/openapi.json) and the interactive docs (/api/docs/, served from the package's own
static files, no network) are generated from the routers and `songnuan.api.schemas`.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import HttpError
from ninja.security import APIKeyCookie
from ninja.utils import check_csrf

from songnuan.api import campaigns, households, ledger, tables
from songnuan.api.errors import ChineseJSONRenderer, ExactJsonParser, install_handlers
from songnuan.api.schemas import Index, Me, Message, UserOut, unit_out
from songnuan.orgs.permissions import account_of

SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


class SessionWithCsrf(APIKeyCookie):
    """The Django session; writes also need the csrftoken cookie's value in the X-CSRFToken header.

    Not logged in is 401 before any CSRF question (ninja's own session auth checks CSRF first, and would
    answer an anonymous write 403)."""

    param_name = "sessionid"

    def __init__(self) -> None:
        super().__init__(csrf=False)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = request.user
        if not isinstance(user, User) or not user.is_authenticated:
            return None
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise HttpError(
                403, _("CSRF 校验失败：写操作须在 X-CSRFToken 请求头中带上 csrftoken Cookie 的值")
            )
        return user


api = NinjaAPI(
    title="送温暖 数据接口",
    version="1",
    description=(
        "工会送温暖活动的统计表、报送流程与困难职工档案。会话登录（与网页相同）；写操作须在 X-CSRFToken "
        "请求头中带上 csrftoken Cookie 的值（GET /api/me 会设置它）。金额为文字，空为 null（不是 0）。"
    ),
    urls_namespace="api",
    auth=SessionWithCsrf(),
    parser=ExactJsonParser(),
    renderer=ChineseJSONRenderer(),
    openapi_url="/openapi.json",
    docs_url="/docs/",
)
install_handlers(api)
ledger.install_handlers(api)

COMMON = {401: Message, 403: Message}


@api.get("/", auth=None, response=Index, url_name="index", summary="接口目录", tags=["目录"])
def index(request: HttpRequest) -> dict[str, Any]:
    return {
        "title": _("送温暖 数据接口"),
        "links": {
            "me": reverse("api:me"),
            "campaigns": reverse("api:campaigns"),
            "households": reverse("api:households"),
            "openapi": reverse("api:openapi-json"),
            "docs": reverse("api:openapi-view"),
        },
    }


@api.get("/me", response={200: Me, 401: Message}, url_name="me", summary="当前用户", tags=["目录"])
def me(request: HttpRequest) -> Me:
    user = getattr(request, "auth", None)
    assert isinstance(user, User)
    account = account_of(user)
    return Me(
        user=UserOut(id=user.pk, username=user.get_username(), name=user.get_full_name()),
        unit=unit_out(account.unit) if account else None,
        role=account.role if account else None,
        role_label=account.get_role_display() if account else None,
        # get_token also sets the csrftoken cookie, which writes send back in the X-CSRFToken header.
        csrf_token=get_token(request),
    )


api.add_router("/", campaigns.router)
api.add_router("/", tables.router)
api.add_router("/", households.router)
api.add_router("/", ledger.router)
api.add_router("/", "songnuan.api.checks.router")
