"""The campaign activities' pages, under /ledger/ (app namespace "ledger"): per campaign and unit the
activities and the 联帮促 teams; per unit the register of outdoor workers' stations (kept across
campaigns)."""

from django.urls import URLPattern, path

from songnuan.ledger import views_activities as views

_A = "<int:campaign_id>/<int:unit_id>/activities/"
_T = "<int:campaign_id>/<int:unit_id>/teams/"
_S = "stations/<int:unit_id>/"

urlpatterns: list[URLPattern] = [
    path(_A, views.overview, name="activities"),
    path(_A + "import/<slug:list_code>/", views.activity_import_view, name="activity-import"),
    path(
        _A + "import/<slug:list_code>/template.xlsx",
        views.activity_import_template,
        name="activity-import-template",
    ),
    path(_A + "<int:pk>/edit/", views.activity_edit, name="activity-edit"),
    path(_A + "<int:pk>/delete/", views.activity_delete, name="activity-delete"),
    path(_A + "<slug:kind>/", views.activity_list, name="activity-list"),
    path(_A + "<slug:kind>/export.xlsx", views.activity_export, name="activity-export"),
    path(_A + "<slug:kind>/add/", views.activity_add, name="activity-add"),
    path(_T, views.team_list, name="team-list"),
    path(_T + "export.xlsx", views.team_export, name="team-export"),
    path(_T + "new/", views.team_new, name="team-new"),
    path(_T + "<int:pk>/", views.team_detail, name="team-detail"),
    path(_T + "<int:pk>/edit/", views.team_edit, name="team-edit"),
    path(_S, views.station_list, name="station-list"),
    path(_S + "export.xlsx", views.station_export, name="station-export"),
    path(_S + "new/", views.station_new, name="station-new"),
    path(_S + "<int:pk>/edit/", views.station_edit, name="station-edit"),
    path(_S + "<int:pk>/close/", views.station_close, name="station-close"),
]
