"""/login/, /logout/ (global names `login` and `logout`, as LOGIN_URL expects) and the password change."""

from django.urls import path

from songnuan.orgs import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password-change"),
    path("password/done/", views.PasswordChangeDoneView.as_view(), name="password-change-done"),
    # The address Django's own auth views use: the same page (it needs a login like the other).
    path("password_change/", views.PasswordChangeView.as_view(), name="password-change-alias"),
]
