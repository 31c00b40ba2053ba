"""The API's URLs, under /api/. Each pattern is documented in `songnuan.api.openapi` (a test checks it)."""

from django.urls import path, re_path

from songnuan.api import views

app_name = "api"

FORM = "campaigns/<int:campaign_id>/units/<int:unit_id>/forms/<slug:form_code>"

urlpatterns = [
    path("", views.index, name="index"),
    path("openapi.json", views.openapi_document, name="openapi"),
    path("docs/", views.docs, name="docs"),
    path("me", views.me, name="me"),
    path("campaigns", views.campaign_list, name="campaigns"),
    path("campaigns/<int:campaign_id>", views.campaign_detail, name="campaign"),
    path("campaigns/<int:campaign_id>/units", views.campaign_units, name="campaign-units"),
    path(FORM, views.form_table, name="form"),
    path(f"{FORM}/submit", views.form_submit, name="form-submit"),
    path(f"{FORM}/return", views.form_return, name="form-return"),
    path(f"{FORM}/accept", views.form_accept, name="form-accept"),
    path(f"{FORM}/unlock", views.form_unlock, name="form-unlock"),
    path(
        "campaigns/<int:campaign_id>/rollup/<int:unit_id>/<slug:form_code>", views.form_rollup, name="rollup"
    ),
    path("households", views.household_list, name="households"),
    path("households/<int:household_id>", views.household_detail, name="household"),
    # Anything else under /api/ is a JSON 404, not an HTML page (the one pattern not in the OpenAPI document).
    re_path(r"^(?P<rest>.*)$", views.not_found, name="not-found"),
]
