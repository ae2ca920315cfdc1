"""/v1/groups, their members and their permissions."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.exceptions import NotFound
from core.api.filters import ListFilterSet
from core.api.serializers import StatusChangeSerializer
from core.api.views import UUID_PATTERN
from core.api.viewsets import ListMixin, TenantScopedViewSet
from identity import selectors, services
from identity.api import serializers
from identity.models import Group, User


class GroupFilter(ListFilterSet):
    search_fields = ("name", "description")

    class Meta:
        model = Group
        fields = ["status"]


@extend_schema(tags=["groups"])
class GroupViewSet(ListMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    queryset = Group.objects.filter(deleted_at__isnull=True)
    serializer_class = serializers.GroupSerializer
    filterset_class = GroupFilter
    tool_action = {
        "list": "groups.read",
        "retrieve": "groups.read",
        "create": "groups.create",
        "partial_update": "groups.update",
        "status": "groups.status.update",
        "add_member": "groups.members.add",
        "remove_member": "groups.members.remove",
        "members": "groups.read",
        "permissions": "groups.read",
        "grant": "groups.permissions.grant",
        "revoke": "groups.permissions.revoke",
    }
    schema_errors = {"grant": {"422": "UNPROCESSABLE: an action the catalog does not hold or the tenant is not "
                                      "entitled to."}}

    @extend_schema(request=serializers.GroupWriteSerializer, responses={201: serializers.GroupSerializer})
    def create(self, request):
        data = self.validated(serializers.GroupWriteSerializer)
        group = services.create_group(tenant=self.tenant, actor=request.user.actor, **data)
        return Response(serializers.GroupSerializer(group).data, status=201)

    @extend_schema(request=serializers.GroupWriteSerializer, responses=serializers.GroupSerializer)
    def partial_update(self, request, pk=None):
        group = self.get_object()
        data = self.validated(serializers.GroupWriteSerializer, partial=True)
        services.update_group(group=group, actor=request.user.actor, **data)
        return Response(serializers.GroupSerializer(group).data)

    @extend_schema(request=StatusChangeSerializer, responses=serializers.GroupSerializer)
    @action(detail=True, methods=["patch"])
    def status(self, request, pk=None):
        group = self.get_object()
        data = self.validated(StatusChangeSerializer)
        services.set_group_status(group=group, actor=request.user.actor, **data)
        return Response(serializers.GroupSerializer(group).data)

    def _member(self, user_id) -> User:
        user = selectors.live_user(tenant=self.tenant, user_id=user_id)
        if user is None:
            raise NotFound("User not found.")
        return user

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"], url_path=rf"users/(?P<user_id>{UUID_PATTERN})")
    def add_member(self, request, pk=None, user_id=None):
        services.add_member(group=self.get_object(), user=self._member(user_id), actor=request.user.actor)
        return Response(status=204)

    @extend_schema(request=None, responses={204: None})
    @add_member.mapping.delete
    def remove_member(self, request, pk=None, user_id=None):
        services.remove_member(group=self.get_object(), user=self._member(user_id), actor=request.user.actor)
        return Response(status=204)

    @extend_schema(request=None, responses=serializers.UserSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="users", filter_backends=[])  # paginated, not filtered
    def members(self, request, pk=None):
        users = selectors.group_members(tenant=self.tenant, group=self.get_object())
        page = self.paginate_queryset(users)
        return self.get_paginated_response(serializers.UserSerializer(page, many=True).data)

    @extend_schema(request=None, responses=serializers.GroupPermissionSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])  # a group's grants: paginated, not filtered
    def permissions(self, request, pk=None):
        grants = selectors.group_grants(tenant=self.tenant, group=self.get_object())
        page = self.paginate_queryset(grants)
        return self.get_paginated_response(serializers.GroupPermissionSerializer(page, many=True).data)

    @extend_schema(request=serializers.GrantSerializer, responses={201: serializers.GroupPermissionSerializer(many=True)})
    @permissions.mapping.post
    def grant(self, request, pk=None):
        data = self.validated(serializers.GrantSerializer)
        grants = services.grant_permissions(
            group=self.get_object(), tool_action_keys=data["tool_actions"], actor=request.user.actor
        )
        return Response(serializers.GroupPermissionSerializer(grants, many=True).data, status=201)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=rf"permissions/(?P<permission_id>{UUID_PATTERN})")
    def revoke(self, request, pk=None, permission_id=None):
        group = self.get_object()
        permission = selectors.group_grant(tenant=self.tenant, group=group, grant_id=permission_id)
        if permission is None:
            raise NotFound("Permission not found.")
        services.revoke_permission(permission=permission, actor=request.user.actor)
        return Response(status=204)
