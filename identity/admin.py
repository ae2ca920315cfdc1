from django.contrib import admin

from config.admin import ReadOnlyAdmin
from identity.models import ApiKey, Group, GroupPermission, Invitation, RefreshToken, User, UserGroup


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    list_display = ["email", "name", "tenant", "status", "is_staff", "created_at"]
    list_filter = ["status", "is_staff", "auth_provider"]
    list_select_related = ["tenant"]
    search_fields = ["email", "name", "tenant__slug"]
    exclude = ["password"]


@admin.register(Group)
class GroupAdmin(ReadOnlyAdmin):
    list_display = ["name", "tenant", "status", "created_at"]
    list_filter = ["status"]
    list_select_related = ["tenant"]
    search_fields = ["name", "tenant__slug"]


@admin.register(UserGroup)
class UserGroupAdmin(ReadOnlyAdmin):
    list_display = ["user", "group", "tenant", "created_at"]
    list_select_related = ["user", "group", "tenant"]


@admin.register(GroupPermission)
class GroupPermissionAdmin(ReadOnlyAdmin):
    list_display = ["group", "tool_action", "tenant", "created_at"]
    list_select_related = ["group", "tool_action", "tenant"]


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    list_display = ["name", "prefix", "tenant", "profile", "status", "expires_at", "last_used_at"]
    list_filter = ["status", "profile"]
    list_select_related = ["tenant"]
    search_fields = ["name", "prefix", "tenant__slug"]
    exclude = ["digest", "pepper_version"]


@admin.register(RefreshToken)
class RefreshTokenAdmin(ReadOnlyAdmin):
    list_display = ["jti", "user", "tenant", "expires_at", "revoked_at"]
    list_select_related = ["user", "tenant"]
    exclude = ["token_hash"]


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ["user", "tenant", "expires_at", "accepted_at"]
    list_select_related = ["user", "tenant"]
    exclude = ["token_hash"]
