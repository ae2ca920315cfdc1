"""/v1/users"""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.filters import ListFilterSet
from core.api.serializers import StatusChangeSerializer
from core.api.viewsets import ListMixin, TenantScopedViewSet
from identity import selectors, services
from identity.api import serializers
from identity.models import User


class UserFilter(ListFilterSet):
    search_fields = ("email", "name")

    class Meta:
        model = User
        fields = ["status"]


@extend_schema(tags=["users"])
class UserViewSet(ListMixin, TenantScopedViewSet):
    # Deleted users stay (anonymised) for the audit trail, but are no longer a resource.
    queryset = User.objects.filter(deleted_at__isnull=True)
    serializer_class = serializers.UserSerializer
    filterset_class = UserFilter
    schema_errors = {"partial_update": {
        "422": "UNPROCESSABLE: your own email or password changed without your current password, or with a "
               "wrong one (details.currentPassword); a new password failing the password policy, or another "
               "user's password (details.password).",
        "503": "SERVICE_UNAVAILABLE: your other sessions could not be ended at once (see Retry-After); "
               "nothing was changed.",
    }}
    tool_action = {
        "list": "users.read",
        "retrieve": "users.read",
        "create": "users.create",
        "partial_update": "users.update",
        "status": "users.status.update",
        "destroy": "users.delete",
    }

    @extend_schema(responses=serializers.UserDetailSerializer)
    def retrieve(self, request, pk=None):
        user = self.get_object()
        body = serializers.UserSerializer(user).data
        body["groups"] = serializers.GroupRefSerializer(selectors.user_groups(tenant=self.tenant, user=user),
                                                        many=True).data
        return Response(body)

    @extend_schema(request=serializers.UserCreateSerializer, responses={201: serializers.UserCreatedSerializer})
    def create(self, request):
        data = self.validated(serializers.UserCreateSerializer)
        created = services.create_user(tenant=self.tenant, actor=request.user.actor, **data)
        return Response(serializers.user_created(created), status=201)

    @extend_schema(request=serializers.UserUpdateSerializer, responses=serializers.UserSerializer)
    def partial_update(self, request, pk=None):
        user = self.get_object()
        data = self.validated(serializers.UserUpdateSerializer)
        session = (request.user.claims or {}).get("sid")
        services.update_user(user=user, actor=request.user.actor, session=session, **data)
        return Response(serializers.UserSerializer(user).data)

    @extend_schema(request=StatusChangeSerializer, responses=serializers.UserSerializer)
    @action(detail=True, methods=["patch"])
    def status(self, request, pk=None):
        user = self.get_object()
        data = self.validated(StatusChangeSerializer)
        services.set_user_status(user=user, actor=request.user.actor, **data)
        return Response(serializers.UserSerializer(user).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        services.delete_user(user=self.get_object(), actor=request.user.actor)
        return Response(status=204)
