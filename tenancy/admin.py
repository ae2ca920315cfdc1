from django import forms
from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.services import Actor
from branding.models import TenantBranding, TenantConfig
from catalog.models import Package
from core.admin import ReadOnlyAdmin, ReadOnlyStackedInline, ServiceAdmin, apply_each, status_actions
from core.db.models import Status
from identity import onboarding
from identity.models import User
from tenancy import services
from tenancy.models import Tenant, TenantPackage, TenantToolOverride


class HeldPackageForm(forms.ModelForm):
    class Meta:
        model = TenantPackage
        fields = ["package", "expires_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance._state.adding:
            # A held package is changed (new expiry) or removed, never swapped for another.
            self.fields["package"].disabled = True
        else:
            self.fields["package"].queryset = Package.objects.filter(status=Status.ACTIVE)

    def clean_expires_at(self):
        expires_at = self.cleaned_data["expires_at"]
        if expires_at is not None and expires_at <= timezone.now():
            raise forms.ValidationError("Must be in the future.")
        return expires_at


class HeldPackageInline(admin.TabularInline):
    model = TenantPackage
    form = HeldPackageForm
    fields = ["package", "expires_at", "status", "assigned_at"]
    readonly_fields = ["status", "assigned_at"]
    extra = 0
    verbose_name = "package held"
    verbose_name_plural = "packages held (assign, change expiry, unassign)"


class BrandingInline(ReadOnlyStackedInline):
    model = TenantBranding


class ConfigInline(ReadOnlyStackedInline):
    model = TenantConfig


class PackageHeldFilter(admin.SimpleListFilter):
    title = "package"
    parameter_name = "package"

    def lookups(self, request, model_admin):
        return Package.objects.order_by("key").values_list("key", "name")

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(packages_held__package__key=self.value())
        return queryset


@admin.register(Tenant)
class TenantAdmin(ServiceAdmin):
    list_display = ["slug", "name", "status", "is_platform", "user_count", "created_at"]
    list_filter = ["status", PackageHeldFilter, ("created_at", admin.DateFieldListFilter)]
    search_fields = ["slug", "name"]
    fields = ["slug", "name", "status", "suspended_reason", "is_platform", "created_at", "updated_at"]
    readonly_fields = fields
    inlines = [HeldPackageInline, BrandingInline, ConfigInline]
    actions = ["suspend", "reactivate", "run_seed"]

    def get_queryset(self, request):
        # A correlated count per row of the page, not a GROUP BY over every user of every tenant.
        users = (
            User.objects.filter(tenant=OuterRef("pk"), deleted_at__isnull=True)
            .order_by().values("tenant").annotate(total=Count("id")).values("total")
        )
        return super().get_queryset(request).annotate(
            user_count=Coalesce(Subquery(users, output_field=IntegerField()), 0)
        )

    @admin.display(description="users", ordering="user_count")
    def user_count(self, tenant):
        return tenant.user_count

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("tenancy.change_tenant")

    def save_model(self, request, obj, form, change):
        """Every field of the tenant itself is read-only here: status moves through the actions."""

    def save_formset(self, request, form, formset, change):
        if formset.model is not TenantPackage:
            # Branding and config are read-only here: their unchanged forms save nothing.
            return super().save_formset(request, form, formset, change)
        tenant, actor = form.instance, Actor.for_user(request.user)
        formset.save(commit=False)
        for held in formset.deleted_objects:
            services.unassign_package(tenant=tenant, package=held.package, actor=actor)
        for held in [*formset.new_objects, *(obj for obj, _fields in formset.changed_objects)]:
            onboarding.assign_package(tenant=tenant, package_key=held.package.key, expires_at=held.expires_at,
                                      actor=actor)

    suspend, reactivate = status_actions(
        lambda admin_, request, tenant, status, reason: services.set_tenant_status(
            tenant=tenant, status=status, reason=reason, actor=Actor.for_user(request.user)),
        noun="tenant",
    )

    @admin.action(description="Run the tenant seed (top up base groups)", permissions=["change"])
    def run_seed(self, request, queryset):
        actor = Actor.for_user(request.user)
        apply_each(self, request, queryset, lambda tenant: onboarding.run_tenant_seed(tenant=tenant, actor=actor),
                   "tenant seed(s) run")


@admin.register(TenantPackage)
class TenantPackageAdmin(ReadOnlyAdmin):
    list_display = ["tenant", "package", "status", "assigned_at", "expires_at"]
    list_filter = ["status", "package"]
    list_select_related = ["tenant", "package"]
    search_fields = ["tenant__slug"]


@admin.register(TenantToolOverride)
class TenantToolOverrideAdmin(ReadOnlyAdmin):
    list_display = ["tenant", "tool", "tool_action", "created_at"]
    list_select_related = ["tenant", "tool", "tool_action"]
