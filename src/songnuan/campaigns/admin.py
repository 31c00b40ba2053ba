from __future__ import annotations

from django.contrib import admin

from songnuan.campaigns.models import Campaign


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # generic only in the stubs
    list_display = ("title", "document_number", "owner", "deadline")
    search_fields = ("title", "document_number")
    filter_horizontal = ("addressees",)
