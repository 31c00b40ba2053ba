"""/login/ and /logout/ (global names `login` and `logout`, as Django's LOGIN_URL expects)."""

from django.urls import path

from songnuan.orgs import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
]
