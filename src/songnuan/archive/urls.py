"""/archive/…: the needy-worker archive in the browser (mounted under "archive/" in the project URLs)."""

from django.urls import path

from songnuan.archive import views

app_name = "archive"

urlpatterns = [
    path("", views.household_list, name="list"),
    path("new/", views.household_new, name="new"),
    path("export.xlsx", views.export, name="export"),
    path("plan-gaps/", views.plan_gaps, name="plan-gaps"),
    path("yearly-review/", views.due_for_review, name="due"),
    path("import/", views.import_start, name="import"),
    path("import/<int:pk>/", views.import_job, name="import-job"),
    path("import/<int:pk>/progress.json", views.import_progress, name="import-progress"),
    path("import/<int:pk>/rejected.xlsx", views.import_rejected, name="import-rejected"),
    path("<int:pk>/", views.household_detail, name="detail"),
    path("<int:pk>/reveal/", views.reveal, name="reveal"),
    path("<int:pk>/file/", views.file_household, name="file"),
    path("<int:pk>/review/", views.review_yearly, name="review"),
    path("<int:pk>/out/", views.out_of_difficulty, name="out"),
    path("<int:pk>/close/", views.close, name="close"),
    path("<int:pk>/plan/", views.plan, name="plan"),
    path("<int:pk>/propose-out/", views.propose_out, name="propose-out"),
    path("<int:pk>/propose-close/", views.propose_close, name="propose-close"),
    path("<int:pk>/proposal/approve/", views.approve, name="approve"),
    path("<int:pk>/proposal/reject/", views.reject, name="reject"),
    path("<int:pk>/proposal/withdraw/", views.withdraw, name="withdraw"),
    path("<int:pk>/reopen/", views.reopen, name="reopen"),
    path("<int:pk>/history/", views.history, name="history"),
]
