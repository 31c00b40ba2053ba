"""URLs of the roster import (导入发放花名册): under a unit's ledger of a campaign, then per import job."""

from django.urls import URLPattern, path

from songnuan.ledger import views_roster

urlpatterns: list[URLPattern] = [
    path("<int:campaign_id>/<int:unit_id>/roster/", views_roster.roster_start, name="roster-start"),
    path("roster/<int:job_id>/", views_roster.roster_job, name="roster-job"),
    path("roster/<int:job_id>/progress.json", views_roster.roster_progress, name="roster-progress"),
    path("roster/<int:job_id>/rejected.xlsx", views_roster.roster_rejected, name="roster-rejected"),
]
