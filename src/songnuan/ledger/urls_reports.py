"""The ledger's reports (app namespace 'ledger'): the roll-up along the tree, the 公示, their Excel."""

from django.urls import URLPattern, path

from songnuan.ledger import views_reports as views

urlpatterns: list[URLPattern] = [
    path("<int:campaign_id>/<int:unit_id>/rollup/", views.rollup, name="rollup"),
    path("<int:campaign_id>/<int:unit_id>/rollup.xlsx", views.rollup_export, name="rollup-export"),
    path("<int:campaign_id>/<int:unit_id>/publicity/", views.publicity, name="publicity"),
    path("<int:campaign_id>/<int:unit_id>/publicity.xlsx", views.publicity_export, name="publicity-export"),
]
