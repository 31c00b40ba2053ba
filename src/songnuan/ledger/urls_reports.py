"""URLs of the ledger: placeholder until its pages are written."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
