"""/archive/…: the needy-worker archive in the browser (mounted under "archive/" in the project URLs)."""

from django.urls import path

from songnuan.archive import edit_views, views

app_name = "archive"

urlpatterns = [
    path("", views.household_list, name="list"),
    path("new/", views.household_new, name="new"),
    path("export.xlsx", views.export, name="export"),
    path("plan-gaps/", views.plan_gaps, name="plan-gaps"),
    path("yearly-review/", views.due_for_review, name="due"),
    path("import/", views.import_start, name="import"),
    path("import/template.xlsx", views.import_template, name="import-template"),
    path("import/<int:pk>/", views.import_job, name="import-job"),
    path("import/<int:pk>/progress.json", views.import_progress, name="import-progress"),
    path("import/<int:pk>/rejected.xlsx", views.import_rejected, name="import-rejected"),
    path("<int:pk>/", views.household_detail, name="detail"),
    path("<int:pk>/reveal/", views.reveal, name="reveal"),
    # Every action on a file (the transition table's): one view, each at its own address and URL name.
    *(
        path(
            f"<int:pk>/{taken.route}",
            views.household_action,
            {"action": action},
            name=views.action_url_name(action),
        )
        for action, taken in views.HOUSEHOLD_ACTIONS.items()
    ),
    path("<int:pk>/history/", views.history, name="history"),
    path("<int:pk>/edit/", edit_views.household_edit, name="edit"),  # 修改档案: a page of its own
]
