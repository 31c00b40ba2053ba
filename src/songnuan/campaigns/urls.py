"""/campaigns/new/, /campaigns/<id>/copy/, /campaigns/<id>/edit/: writing a campaign in the app (mounted under
"campaigns/" in the project URLs, before the reporting app's campaign pages)."""

from django.urls import path

from songnuan.campaigns import views

app_name = "campaign-admin"

urlpatterns = [
    path("new/", views.campaign_new, name="new"),
    path("<int:campaign_id>/copy/", views.campaign_copy, name="copy"),
    path("<int:campaign_id>/edit/", views.campaign_edit, name="edit"),
]
