from django.urls import path

from caseload.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/verify/", views.login_verify, name="login_verify"),
    path("locked/", views.locked, name="locked"),
    path("logout/", views.logout_view, name="logout"),
    path("logout/everywhere/", views.logout_everywhere, name="logout_everywhere"),
    path("security/", views.security, name="security"),
    path("security/two-factor/set-up/", views.totp_setup, name="totp_setup"),
    path("security/two-factor/turn-off/", views.totp_disable, name="totp_disable"),
    path("security/two-factor/backup-codes/", views.backup_codes, name="backup_codes"),
    path("security/password/", views.password_change, name="password_change"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password-reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("password-reset/complete/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("invitation/<uidb64>/<token>/", views.InvitationView.as_view(), name="invitation"),
]
