"""/campaigns/…: the reporting workflow in the browser (mounted under "campaigns/" in the project URLs)."""

from django.urls import path

from songnuan.reporting import views_campaign as views
from songnuan.reporting import views_reports

app_name = "campaign"

ENTRY = "<int:campaign_id>/units/<int:unit_id>/forms/<slug:form_code>/"

urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("<int:campaign_id>/", views.campaign_home, name="home"),
    path(ENTRY, views.entry, name="entry"),
    path(f"{ENTRY}submit", views.submit, name="submit"),
    path(f"{ENTRY}return", views.return_, name="return"),
    path(f"{ENTRY}accept", views.accept, name="accept"),
    path(f"{ENTRY}unlock", views.unlock, name="unlock"),
    path(f"{ENTRY}import", views.import_table, name="import"),
    path(f"{ENTRY}history", views.history, name="history"),
    path("<int:campaign_id>/units/<int:unit_id>/report/", views.activity_reports, name="report"),
    path(
        "<int:campaign_id>/units/<int:unit_id>/report/<int:report_id>/",
        views.activity_report_download,
        name="report-download",
    ),
    path(
        "<int:campaign_id>/units/<int:unit_id>/report/<int:report_id>/remove",
        views_reports.activity_report_remove,
        name="report-remove",
    ),
]
