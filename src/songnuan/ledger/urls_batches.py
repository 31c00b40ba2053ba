"""URLs of the bank payment batches (批量代发), under /ledger/."""

from django.urls import URLPattern, path

from songnuan.ledger import views_batches

urlpatterns: list[URLPattern] = [
    path("<int:campaign_id>/<int:unit_id>/batches/", views_batches.batch_list, name="batch-list"),
    path("batches/<int:batch_id>/", views_batches.batch_detail, name="batch-detail"),
    path("batches/<int:batch_id>/export.xlsx", views_batches.batch_export_xlsx, name="batch-export-xlsx"),
    path("batches/<int:batch_id>/export.csv", views_batches.batch_export_csv, name="batch-export-csv"),
    path("batches/<int:batch_id>/send/", views_batches.batch_send, name="batch-send"),
    path("batches/<int:batch_id>/cancel/", views_batches.batch_cancel, name="batch-cancel"),
    path("batches/<int:batch_id>/reconcile/", views_batches.batch_reconcile, name="batch-reconcile"),
]
