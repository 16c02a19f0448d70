from django.urls import path

from accounts import api

auth_urlpatterns = [
    path("register", api.RegisterView.as_view(), name="auth-register"),
    path("verify-otp", api.VerifyOtpView.as_view(), name="auth-verify-otp"),
    path("resend-otp", api.ResendOtpView.as_view(), name="auth-resend-otp"),
    path("login", api.LoginView.as_view(), name="auth-login"),
    path("refresh", api.RefreshView.as_view(), name="auth-refresh"),
    path("logout", api.LogoutView.as_view(), name="auth-logout"),
    path("forgot-password", api.ForgotPasswordView.as_view(), name="auth-forgot-password"),
    path("reset-password", api.ResetPasswordView.as_view(), name="auth-reset-password"),
]

user_urlpatterns = [
    path("me", api.MeView.as_view(), name="user-me"),
    path("avatar", api.AvatarView.as_view(), name="user-avatar"),
    path("settings", api.SettingsView.as_view(), name="user-settings"),
]
