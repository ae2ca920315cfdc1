from itertools import groupby

from django.contrib import admin, messages
from django.contrib.auth.models import Group as AuthGroup
from django.db.models import Count
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html_join

from audit.services import Actor
from core.admin import (
    ReadOnlyAdmin,
    ReadOnlyTabularInline,
    ServiceAdmin,
    apply_each,
    error_text,
    status_actions,
    with_reason,
)
from core.api.exceptions import ApiError
from identity import product_credentials, services
from identity.models import (
    ApiKey,
    ApiKeyStatus,
    Group,
    GroupPermission,
    Invitation,
    ProductCredential,
    RefreshToken,
    StaffRole,
    User,
    UserGroup,
)

# Staff roles are listed once, as identity's "Staff roles" (below), not also as auth's "Groups" beside
# the tenants' groups.
admin.site.unregister(AuthGroup)


class MembershipInline(ReadOnlyTabularInline):
    """A user's groups on the user's page, a group's members on the group's."""

    model = UserGroup
    verbose_name_plural = "group memberships"
    fields = ["user", "group", "created_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "group")


@admin.register(User)
class UserAdmin(ServiceAdmin):
    # No "staff" or "deleted" column: both are filters, and a deleted user's e-mail says so (anonymised.invalid).
    list_display = ["email", "name", "tenant", "status", "created_at"]
    list_filter = ["status", "tenant", "is_staff", ("deleted_at", admin.EmptyFieldListFilter), "auth_provider"]
    list_select_related = ["tenant"]
    # Exact tenant slug or any part of the email: support looks people up across every tenant.
    search_fields = ["email", "name", "=tenant__slug"]
    fields = ["email", "name", "tenant", "status", "suspended_reason", "is_staff", "is_superuser", "groups",
              "auth_provider", "last_login", "deleted_at", "created_at", "updated_at"]
    filter_horizontal = ["groups"]
    inlines = [MembershipInline]
    actions = ["suspend", "reactivate", "reissue_invitation"]

    def get_readonly_fields(self, request, obj=None):
        # Staff roles are privileges: only a superuser hands them out, and only to platform staff.
        if obj is not None and obj.is_staff and obj.tenant.is_platform and request.user.is_superuser:
            return [field for field in self.fields if field != "groups"]
        return self.fields

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("identity.change_user")

    def save_model(self, request, obj, form, change):
        """Only the staff roles are editable here; status and invitations move through the actions."""
        if "groups" in form.cleaned_data:
            services.set_staff_roles(user=obj, roles=form.cleaned_data["groups"], actor=Actor.for_user(request.user))

    def save_related(self, request, form, formsets, change):
        # Not form.save_m2m(): the roles were set by the service in save_model. The memberships
        # inline is read-only; saving its unchanged formset writes nothing.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    suspend, reactivate = status_actions(
        lambda admin_, request, user, status, reason: services.set_user_status(
            user=user, status=status, reason=reason, actor=Actor.for_user(request.user)),
        noun="user", effect=" (ends their sessions)",
    )

    @admin.action(description="Reset the invitation of the selected users", permissions=["change"])
    def reissue_invitation(self, request, queryset):
        actor, issued = Actor.for_user(request.user), []
        for user in queryset.select_related("tenant"):
            try:
                issued.append((user, services.reissue_invitation(user=user, actor=actor)))
            except ApiError as exc:
                self.message_user(request, f"{user}: {error_text(exc)}", messages.ERROR)
        if not issued:
            return None
        return shown_once(self, request, "admin/invitations_issued.html", "Invitations issued", issued)


def shown_once(model_admin, request, template: str, title: str, issued: list):
    """A page that shows new secrets: rendered once, in this response, and kept nowhere else (not in
    messages, which may travel in a cookie or sit in the session table)."""
    context = {**model_admin.admin_site.each_context(request), "title": title, "opts": model_admin.opts,
               "issued": issued}
    response = TemplateResponse(request, template, context)
    response["Cache-Control"] = "no-store"
    return response


class GrantInline(ReadOnlyTabularInline):
    model = GroupPermission
    fields = ["tool_action", "created_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("tool_action")


@admin.register(Group)
class GroupAdmin(ReadOnlyAdmin):
    list_display = ["name", "tenant", "status", "created_at"]
    list_filter = ["status", "tenant"]
    list_select_related = ["tenant"]
    search_fields = ["name", "=tenant__slug"]
    inlines = [MembershipInline, GrantInline]


@admin.register(StaffRole)
class StaffRoleAdmin(ReadOnlyAdmin):
    """Who holds each staff role and what it lets them do. Read-only: the roles are code
    (identity/staff_roles.py), which `manage.py seed` restores; a staff member's roles are set on their user page."""

    list_display = ["name", "member_count", "permission_count"]
    search_fields = ["name"]
    fields = ["name", "members", "grants"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("staff_member", distinct=True),
                                                      permission_count=Count("permissions", distinct=True))

    @admin.display(description="members", ordering="member_count")
    def member_count(self, role):
        return role.member_count

    @admin.display(description="permissions", ordering="permission_count")
    def permission_count(self, role):
        return role.permission_count

    @admin.display(description="members")
    def members(self, role):
        people = role.staff_members.order_by("email")
        return format_html_join(", ", '<a href="{}">{}</a>', (
            (reverse("admin:identity_user_change", args=[person.pk]), person.email) for person in people)) or "-"

    @admin.display(description="may")
    def grants(self, role):
        """One line per model: "tenancy · tenant: view, add, change", not Django's sentence per permission."""
        permissions = role.permissions.select_related("content_type").order_by("content_type__app_label",
                                                                              "content_type__model", "codename")
        lines = ((f"{content_type.app_label} · {content_type.model}",
                  ", ".join(permission.codename.split("_", 1)[0] for permission in held))
                 for content_type, held in groupby(permissions, key=lambda permission: permission.content_type))
        return format_html_join("", "<div>{}: {}</div>", lines) or "-"


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
    list_filter = ["status", "profile", "tenant"]
    list_select_related = ["tenant"]
    search_fields = ["name", "prefix", "=tenant__slug"]
    exclude = ["digest", "pepper_version"]
    actions = ["revoke"]

    def has_revoke_permission(self, request):
        return request.user.has_perm("identity.change_apikey")

    @with_reason(description="Revoke the selected API keys (for good)", permissions=["revoke"])
    def revoke(self, request, queryset, reason):
        actor = Actor.for_user(request.user)
        apply_each(self, request, queryset,
                   lambda key: services.set_api_key_status(api_key=key, status=ApiKeyStatus.REVOKED, reason=reason,
                                                           actor=actor),
                   "API key(s) revoked")


@admin.register(ProductCredential)
class ProductCredentialAdmin(ServiceAdmin):
    """Staff issue a product's credential here (tool and name), rotate it and revoke it, through
    identity/product_credentials.py; a new secret is shown once, on the page that follows."""

    list_display = ["name", "tool", "prefix", "status", "last_used_at", "created_at", "revoked_at"]
    list_filter = ["status", "tool"]
    list_select_related = ["tool"]
    search_fields = ["name", "prefix", "=tool__key"]
    fields = ["tool", "name", "prefix", "status", "last_used_at", "created_at", "revoked_at"]
    actions = ["rotate", "revoke"]

    def has_add_permission(self, request, obj=None):
        return request.user.has_perm("identity.add_productcredential")

    def has_rotate_permission(self, request):
        return request.user.has_perm("identity.change_productcredential")

    has_revoke_permission = has_rotate_permission

    def get_readonly_fields(self, request, obj=None):
        return [field for field in self.fields if obj is not None or field not in ("tool", "name")]

    def save_with_service(self, request, obj, form, change):
        issued = product_credentials.issue_product_credential(
            tool=form.cleaned_data["tool"], name=form.cleaned_data["name"], actor=Actor.for_user(request.user))
        request.product_credentials_issued = [issued]
        return issued.credential

    def response_add(self, request, obj, post_url_continue=None):
        return shown_once(self, request, "admin/product_credentials_issued.html", "Product credential issued",
                          request.product_credentials_issued)

    @admin.action(description="Rotate the selected product credentials (the old secrets stop working)",
                  permissions=["rotate"])
    def rotate(self, request, queryset):
        actor, issued = Actor.for_user(request.user), []
        for credential in queryset.select_related("tool"):
            try:
                issued.append(product_credentials.rotate_product_credential(credential=credential, actor=actor))
            except ApiError as exc:
                self.message_user(request, f"{credential}: {error_text(exc)}", messages.ERROR)
        if not issued:
            return None
        return shown_once(self, request, "admin/product_credentials_issued.html", "Product credentials rotated",
                          issued)

    @with_reason(description="Revoke the selected product credentials (for good)", permissions=["revoke"])
    def revoke(self, request, queryset, reason):
        actor = Actor.for_user(request.user)
        apply_each(self, request, queryset,
                   lambda credential: product_credentials.revoke_product_credential(
                       credential=credential, reason=reason, actor=actor),
                   "product credential(s) revoked")


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
