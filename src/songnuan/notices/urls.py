from django.urls import path

from songnuan.notices import views

app_name = "notices"

urlpatterns = [
    path("<int:notice_id>/read", views.mark_read, name="read"),
    path("read-all", views.mark_all_read, name="read-all"),
]
