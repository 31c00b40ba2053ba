from __future__ import annotations

from django.contrib import admin

from songnuan.notices.models import Notice


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # generic only in the stubs
    list_display = ("recipient", "kind", "unit", "campaign", "form_code", "created_at", "read_at")
    list_filter = ("kind", "read_at")
    search_fields = ("recipient__username", "unit__name", "text")
    raw_id_fields = ("recipient", "campaign", "unit")
