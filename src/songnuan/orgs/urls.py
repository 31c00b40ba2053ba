"""/login/, /logout/ (global names `login` and `logout`, as LOGIN_URL expects), the password change, and the
administration of a unit's subtree under /manage/ (`views_manage`)."""

from django.urls import path

from songnuan.orgs import views, views_manage

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password-change"),
    path("password/done/", views.PasswordChangeDoneView.as_view(), name="password-change-done"),
    # The address Django's own auth views use: the same page (it needs a login like the other).
    path("password_change/", views.PasswordChangeView.as_view(), name="password-change-alias"),
    # Administration for a unit's 管理员 (its own subtree); the Django admin stays for superusers.
    path("manage/", views_manage.home, name="manage-home"),
    path("manage/units/", views_manage.units, name="manage-units"),
    path("manage/units/<int:unit_id>/add/", views_manage.unit_add, name="manage-unit-add"),
    path("manage/units/<int:unit_id>/rename/", views_manage.unit_rename, name="manage-unit-rename"),
    path("manage/units/<int:unit_id>/move/", views_manage.unit_move, name="manage-unit-move"),
    path("manage/units/<int:unit_id>/close/", views_manage.unit_close, name="manage-unit-close"),
    path("manage/accounts/", views_manage.accounts, name="manage-accounts"),
    path("manage/accounts/add/", views_manage.account_add, name="manage-account-add"),
    path("manage/accounts/<int:account_id>/", views_manage.account_detail, name="manage-account"),
    path(
        "manage/accounts/<int:account_id>/active/", views_manage.account_active, name="manage-account-active"
    ),
    path("manage/accounts/<int:account_id>/role/", views_manage.account_role, name="manage-account-role"),
    path("manage/accounts/<int:account_id>/reset/", views_manage.account_reset, name="manage-account-reset"),
    path(
        "manage/accounts/<int:account_id>/personal-data/",
        views_manage.account_personal_data,
        name="manage-account-personal-data",
    ),
    path("manage/log/", views_manage.log, name="manage-log"),
]
