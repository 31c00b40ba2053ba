from django.contrib import admin

from songnuan.ledger.models import FundSource, HelpItem


@admin.register(FundSource)
class FundSourceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # generic only in the stubs
    list_display = ("code", "name", "form_item", "archive_first", "sort_order")


@admin.register(HelpItem)
class HelpItemAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # generic only in the stubs
    list_display = ("code", "name", "form_item", "cap_basis", "per_payment", "per_year", "cap_severity")
