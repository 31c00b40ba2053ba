"""The number of unread notices for the site header's "待办 (n)" link (the base template imports no app)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from songnuan.notices.selectors import unread_count


def notices(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None:
        return {"notices_unread": 0}
    # Lazy: a page that does not show the header (a fragment, a download) costs no query.
    return {"notices_unread": SimpleLazyObject(lambda: unread_count(user))}
