from django.urls import path

from identity.api import views

urlpatterns = [
    path("auth/login", views.LoginView.as_view(), name="auth-login"),
    path("auth/refresh", views.RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/token", views.ServiceTokenView.as_view(), name="auth-token"),
    path("auth/invitations/accept", views.AcceptInvitationView.as_view(), name="auth-invitations-accept"),
]
