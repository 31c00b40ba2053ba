"""The spot check's pages (app namespace 'checks'), under /checks/."""

from django.urls import URLPattern, path

from songnuan.checks import views, views_results, views_tasks

app_name = "checks"

urlpatterns: list[URLPattern] = [
    path("", views.home, name="home"),
    path("new/<int:campaign_id>/", views.new, name="new"),
    path("<int:check_id>/", views.detail, name="detail"),
    path("<int:check_id>/sheet/", views.sheet, name="sheet"),
    path("<int:check_id>/sheet.xlsx", views.sheet_export, name="sheet-export"),
    path("households/<int:sampled_id>/", views.household, name="household"),
    path("<int:check_id>/bulletin/", views_results.bulletin, name="bulletin"),
    path("<int:check_id>/bulletin.xlsx", views_results.bulletin_xlsx, name="bulletin-xlsx"),
    path("<int:check_id>/bulletin.docx", views_results.bulletin_docx, name="bulletin-docx"),
    path("<int:check_id>/publish/", views_results.publish, name="publish"),
    path("tasks/", views_tasks.tasks, name="tasks"),
    path("tasks/<int:task_id>/", views_tasks.task, name="task"),
    path("tasks/<int:task_id>/evidence/", views_tasks.task_evidence, name="task-evidence"),
    path("self/<int:campaign_id>/<int:unit_id>/", views_tasks.self_check, name="self-check"),
    path("findings/<int:finding_id>/answer/", views_tasks.finding_answer, name="finding-answer"),
]
