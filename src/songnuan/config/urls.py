from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("songnuan.api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the 中文 / English switch in the header
    path("campaigns/", include("songnuan.campaigns.urls")),  # before reporting's <id>/ pages
    path("campaigns/", include("songnuan.reporting.urls_review")),
    path("campaigns/", include("songnuan.reporting.urls_campaign")),
    path("archive/", include("songnuan.archive.urls")),
    path("ledger/", include("songnuan.ledger.urls")),
    path("checks/", include("songnuan.checks.urls")),
    path("notices/", include("songnuan.notices.urls")),
    path("", include("songnuan.reporting.urls_todo")),
    path("", include("songnuan.orgs.urls")),
    path("", include("songnuan.reporting.urls")),
]
