"""URLs of the ledger's main pages: choosing a campaign and a unit, the unit's totals, help records, money
raised and passed down, the history (app namespace "ledger", mounted under /ledger/)."""

from django.urls import URLPattern, path

from songnuan.ledger import views

urlpatterns: list[URLPattern] = [
    path("", views.home, name="home"),
    path("<int:campaign_id>/<int:unit_id>/", views.overview, name="overview"),
    path("<int:campaign_id>/<int:unit_id>/records/", views.records, name="records"),
    path("<int:campaign_id>/<int:unit_id>/records/export.xlsx", views.records_export, name="records-export"),
    path("<int:campaign_id>/<int:unit_id>/records/new/", views.record_new, name="record-new"),
    path("<int:campaign_id>/<int:unit_id>/receipts/", views.receipts, name="receipts"),
    path("<int:campaign_id>/<int:unit_id>/receipts/add/", views.receipt_add, name="receipt-add"),
    path("<int:campaign_id>/<int:unit_id>/receipts/allocate/", views.allocation_add, name="allocation-add"),
    path(
        "<int:campaign_id>/<int:unit_id>/receipts/export.xlsx", views.receipts_export, name="receipts-export"
    ),
    path("<int:campaign_id>/<int:unit_id>/history/", views.history, name="history"),
    path("records/<int:pk>/", views.record_detail, name="record"),
    path("records/<int:pk>/reveal/", views.record_reveal, name="record-reveal"),
    path("records/<int:pk>/edit/", views.record_edit, name="record-edit"),
    path("records/<int:pk>/delete/", views.record_delete, name="record-delete"),
    path("records/<int:pk>/approve/", views.record_approve, name="record-approve"),
    path("records/<int:pk>/reverse/", views.record_reverse, name="record-reverse"),
    path("records/<int:pk>/evidence/", views.record_evidence, name="record-evidence"),
    path("receipts/<int:pk>/reverse/", views.receipt_reverse, name="receipt-reverse"),
]
