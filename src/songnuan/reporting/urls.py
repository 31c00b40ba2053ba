from django.urls import path
from django.views.generic import RedirectView

from songnuan.reporting import views

app_name = "reporting"
urlpatterns = [
    # The campaigns are where people work; logged out, that page sends them to log in first.
    path("", RedirectView.as_view(pattern_name="campaign:list", permanent=False), name="home"),
    path("forms/", views.form_list, name="form-list"),
    path("forms/<slug:code>/", views.form_detail, name="form-detail"),
    path("forms/<slug:code>/template.xlsx", views.form_template, name="form-template"),
    path("check/", views.check_upload, name="check"),
]
