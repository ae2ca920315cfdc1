from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from core.api.views import UUID_PATTERN
from identity.api import auth, me, subjects
from identity.api.api_keys import ApiKeyViewSet
from identity.api.groups import GroupViewSet
from identity.api.product_credentials import TOOL_KEY_PATTERN, ProductCredentialViewSet
from identity.api.users import UserViewSet

router = SimpleRouter(trailing_slash=False)
router.register("users", UserViewSet, basename="users")
router.register("groups", GroupViewSet, basename="groups")
router.register("api-keys", ApiKeyViewSet, basename="api-keys")
router.register(rf"catalog/tools/(?P<tool_key>{TOOL_KEY_PATTERN})/credentials", ProductCredentialViewSet,
                basename="product-credentials")

urlpatterns = [
    path("auth/login", auth.LoginView.as_view(), name="auth-login"),
    path("auth/refresh", auth.RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout", auth.LogoutView.as_view(), name="auth-logout"),
    path("auth/token", auth.ServiceTokenView.as_view(), name="auth-token"),
    path("auth/invitations/accept", auth.AcceptInvitationView.as_view(), name="auth-invitations-accept"),
    path("me", me.MeView.as_view(), name="me"),
    path("authz/check", me.AuthzCheckView.as_view(), name="authz-check"),
    re_path(rf"^authz/subjects/(?P<user_id>{UUID_PATTERN})$", subjects.SubjectView.as_view(), name="authz-subject"),
    *router.urls,
]
