"""The reviewer's side, under /campaigns/ (included before the campaign pages)."""

from django.urls import path

from songnuan.reporting import views_review as views

app_name = "review"
urlpatterns = [
    path("<int:campaign_id>/dashboard/", views.dashboard, name="dashboard"),
    path("<int:campaign_id>/rollup/<int:unit_id>/<slug:form_code>/", views.rollup, name="rollup"),
    path(
        "<int:campaign_id>/rollup/<int:unit_id>/<slug:form_code>/rollup.xlsx",
        views.rollup_xlsx,
        name="rollup-xlsx",
    ),
    path(
        "<int:campaign_id>/rollup/<int:unit_id>/<slug:form_code>/print/",
        views.rollup_print,
        name="rollup-print",
    ),
    path("<int:campaign_id>/grid/<int:unit_id>/<slug:form_code>/", views.grid, name="grid"),
    path(
        "<int:campaign_id>/grid/<int:unit_id>/<slug:form_code>/grid.xlsx", views.grid_xlsx, name="grid-xlsx"
    ),
    path(
        "<int:campaign_id>/units/<int:unit_id>/forms/<slug:form_code>/export.xlsx",
        views.export,
        name="export",
    ),
    path(
        "<int:campaign_id>/units/<int:unit_id>/forms/<slug:form_code>/print/",
        views.print_table,
        name="print",
    ),
]
