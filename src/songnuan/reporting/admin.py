from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from songnuan.reporting.models import Submission, SubmissionEvent


class EventInline(admin.TabularInline):  # type: ignore[type-arg]  # generic only in the stubs
    model = SubmissionEvent
    extra = 0
    fields = ("at", "user", "kind", "subject", "old", "new", "comment")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Submission | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Submission | None = None) -> bool:
        return False


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # generic only in the stubs
    """Read-only: values and states change only through the workflow, which records every change."""

    list_display = ("unit", "campaign", "form_code", "status", "late", "submitted_at")
    list_filter = ("status", "late", "form_code", "campaign")
    search_fields = ("unit__name",)
    inlines = (EventInline,)

    def has_change_permission(self, request: HttpRequest, obj: Submission | None = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Submission | None = None) -> bool:
        return False
