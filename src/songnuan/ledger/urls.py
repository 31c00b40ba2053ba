"""The ledger's pages, under /ledger/: each part keeps its own URL list."""

from django.urls import URLPattern

from songnuan.ledger import urls_activities, urls_batches, urls_records, urls_reports, urls_roster

app_name = "ledger"

urlpatterns: list[URLPattern] = [
    *urls_records.urlpatterns,
    *urls_reports.urlpatterns,
    *urls_roster.urlpatterns,
    *urls_batches.urlpatterns,
    *urls_activities.urlpatterns,
]
