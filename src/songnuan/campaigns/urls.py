"""/campaigns/new/, /campaigns/<id>/copy/, /campaigns/<id>/edit/, /campaigns/<id>/notice-file/: writing
a campaign in the app, and its notice file (mounted under
"campaigns/" in the project URLs, before the reporting app's campaign pages)."""

from django.urls import path

from songnuan.campaigns import views

app_name = "campaign-admin"

urlpatterns = [
    path("new/", views.campaign_new, name="new"),
    path("<int:campaign_id>/copy/", views.campaign_copy, name="copy"),
    path("<int:campaign_id>/edit/", views.campaign_edit, name="edit"),
    path("<int:campaign_id>/notice-file/", views.notice_file, name="notice-file"),
]
